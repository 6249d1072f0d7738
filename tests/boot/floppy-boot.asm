; A 1.44 MB floppy image that SeaBIOS boots from drive A: the boot sector reads the rest of
; cylinder 0 (sectors 2-18 of head 0, then sectors 1-18 of head 1, image sectors 2-36) with
; INT 13h (the BIOS drives the floppy controller and DMA channel 2), checks the marker
; placed in each, prints the result on the debug console and ends through the debug-exit
; port (status (v << 1) | 1: 1 for success).
        bits 16
        org 0x7c00

start:  cli
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, 0x7c00
        sti
        mov si, hello
        call print
        mov cx, 0x0002            ; cylinder 0, sector 2
        mov dh, 0                 ; head 0
        mov al, 17
        mov bx, 0x8000
        call read
        mov cx, 0x0001            ; cylinder 0, sector 1
        mov dh, 1                 ; head 1
        mov al, 18
        mov bx, 0x8000 + 17 * 512
        call read
        ; Image sectors 2..36 each start with "SECTOR" and their number.
        mov bx, 0x8000
        mov cl, 2
.check: cmp dword [bx], 'SECT'
        jne .bad
        cmp [bx + 6], cl
        jne .bad
        add bx, 512
        inc cl
        cmp cl, 37
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

; Reads AL sectors from CH/CL/DH of drive A to ES:BX, with the retries floppy code
; traditionally does; ends the test on failure.
read:   mov di, 3
        mov [count], al
.retry: mov ah, 2
        mov al, [count]
        mov dl, 0
        int 0x13
        jnc .ok
        push ax
        xor ax, ax
        int 0x13                  ; reset the controller and retry
        pop ax
        dec di
        jnz .retry
        mov si, readfail
        call print
        mov al, 2
        out 0xf4, al
.ok:    ret

count:  db 0

print:  lodsb
        test al, al
        jz .done
        out 0xe9, al
        jmp print
.done:  ret

hello:    db "floppy boot: sector 1 running", 10, 0
readfail: db "floppy boot: INT 13h read failed", 10, 0
okmsg:    db "floppy boot: cylinder 0 read correctly", 10, 0
badmsg:   db "floppy boot: wrong sector contents", 10, 0

        times 510 - ($ - $$) db 0
        dw 0xaa55

; Sectors 2..2880: a marker and the sector number.
%assign n 2
%rep 2879
        db "SECTOR", n & 0xff, (n >> 8)
        times 512 - 8 db 0xe5
%assign n n + 1
%endrep
