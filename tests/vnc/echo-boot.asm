; Boot sector for the VNC test: prints a prompt, echoes the keys the BIOS keyboard
; service returns (int 16h) until Enter, then switches to VGA mode 13h (320x200, 256
; colours: a resolution change for the VNC clients) and fills the screen with colour 4.
bits 16
org 0x7c00
start:
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7c00
    sti
    mov si, prompt
.print:
    lodsb
    test al, al
    jz read
    call putc
    jmp .print
read:
    xor ah, ah
    int 0x16
    cmp al, 13
    je graphics
    test al, al
    jz read
    call putc
    jmp read
graphics:
    mov ax, 0x0013
    int 0x10
    mov ax, 0xa000
    mov es, ax
    xor di, di
    mov al, 4
    mov cx, 64000
    rep stosb
.halt:
    hlt
    jmp .halt
putc:
    mov ah, 0x0e
    mov bx, 7
    int 0x10
    ret
prompt:
    db 13, 10, 'vnc> ', 0
times 510 - ($ - $$) db 0
    dw 0xaa55
