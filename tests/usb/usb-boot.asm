; A 1 MiB disk image that SeaBIOS boots from a USB storage device (its UHCI and USB mass
; storage drivers): the boot sector reads sectors 1-63 with INT 13h extended reads from
; the drive the BIOS booted (DL), checks the marker in each, prints the result on the debug
; console and ends through the debug-exit port (status (v << 1) | 1: 1 for success).
        bits 16
        org 0x7c00

start:  cli
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, 0x7c00
        sti
        mov [drive], dl
        mov si, hello
        call print
        mov ah, 0x42              ; extended read: DAP at DS:SI
        mov dl, [drive]
        mov si, dap
        int 0x13
        jc .fail
        mov bx, 0x8000
        mov cl, 1
.check: cmp dword [bx], 'SECT'
        jne .bad
        cmp [bx + 6], cl
        jne .bad
        add bx, 512
        inc cl
        cmp cl, 64
        jb .check
        mov si, okmsg
        call print
        mov al, 0
        out 0xf4, al
.bad:   mov si, badmsg
        call print
        mov al, 1
        out 0xf4, al
        hlt
.fail:  mov si, readfail
        call print
        mov al, 2
        out 0xf4, al
        hlt

print:  lodsb
        test al, al
        jz .done
        out 0xe9, al
        jmp print
.done:  ret

drive:  db 0
        align 4
dap:    db 16, 0
        dw 63                     ; sectors
        dw 0x8000, 0              ; buffer 0000:8000
        dq 1                      ; first LBA

hello:    db "usb boot: sector 0 running", 10, 0
readfail: db "usb boot: INT 13h read failed", 10, 0
okmsg:    db "usb boot: sectors 1-63 read correctly", 10, 0
badmsg:   db "usb boot: wrong sector contents", 10, 0

        times 446 - ($ - $$) db 0
        ; One partition, so firmware that looks for a partition table finds one.
        db 0x80, 0, 2, 0, 0x0c, 0, 0, 0
        dd 1, 2047
        times 510 - ($ - $$) db 0
        dw 0xaa55

; Sectors 1..2047: a marker and the sector number.
%assign n 1
%rep 2047
        db "SECTOR", n & 0xff, (n >> 8)
        times 512 - 8 db 0xe5
%assign n n + 1
%endrep
