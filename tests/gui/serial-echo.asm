; Boot sector for the machine window's panel test (test-panel.c): says "ECHO READY" on
; COM1, then echoes every byte it receives there, letters in upper case (so the test can
; tell the guest's echo from what it typed) and CR followed by LF. It polls the line status
; register, as a simple serial program does, and has no interrupt handler.
bits 16
org 0x7c00

start:
    xor ax, ax
    mov ds, ax
    cld
    mov si, ready
.print:
    lodsb
    test al, al
    jz echo
    call putc
    jmp .print

echo:
    mov dx, 0x3fd              ; LSR
.wait:
    in al, dx
    test al, 1                 ; data ready
    jz .wait
    mov dx, 0x3f8
    in al, dx
    cmp al, 'a'
    jb .out
    cmp al, 'z'
    ja .out
    sub al, 0x20
.out:
    call putc
    cmp al, 13
    jne echo
    mov al, 10
    call putc
    jmp echo

putc:                          ; the UART sends at once: THR is always empty
    mov dx, 0x3f8
    out dx, al
    ret

ready: db "ECHO READY", 13, 10, 0

    times 510 - ($ - $$) db 0
    dw 0xaa55
    times 1474560 - ($ - $$) db 0   ; a 1.44 MB floppy
