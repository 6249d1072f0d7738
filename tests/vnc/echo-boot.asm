; Boot sector for the VNC test. Enables the PS/2 mouse through the BIOS pointing-device
; services (int 15h AX=C2xx, a far-call handler per packet), prints a prompt, then loops:
; each mouse packet is printed as " SSXXYY" (status, X, Y bytes in hex); each key the BIOS
; keyboard service returns (int 16h) is echoed, until Enter, which switches to VGA mode
; 13h (320x200, 256 colours: a resolution change for the VNC clients) and fills the screen
; with colour 4.
bits 16
org 0x7c00

ring equ 0x600                 ; 16 packets of 4 bytes, filled by the mouse handler
head equ 0x5f0                 ; next slot the handler writes
tail equ 0x5f1                 ; next slot the main loop prints

start:
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7c00
    mov word [head], ax
    sti
    mov ax, 0xc205             ; initialise the pointing device, 3-byte packets
    mov bh, 3
    int 0x15
    push cs
    pop es
    mov bx, mouse_handler
    mov ax, 0xc207             ; far-call handler ES:BX
    int 0x15
    mov ax, 0xc200             ; enable
    mov bh, 1
    int 0x15
    mov si, prompt
    jnc .print
    mov si, nomouse
.print:
    lodsb
    test al, al
    jz poll
    call putc
    jmp .print

poll:
    xor bx, bx
    mov bl, [tail]
    cmp bl, [head]
    je .key
    shl bx, 2
    mov al, ' '
    call putc
    mov al, [ring + bx]
    call puthex
    mov al, [ring + bx + 1]
    call puthex
    mov al, [ring + bx + 2]
    call puthex
    inc byte [tail]
    and byte [tail], 15
    jmp poll
.key:
    mov ah, 1                  ; a key waiting?
    int 0x16
    jnz .read
    hlt                        ; until the next interrupt (keyboard, mouse, timer)
    jmp poll
.read:
    xor ah, ah
    int 0x16
    cmp al, 13
    je graphics
    test al, al
    jz poll
    call putc
    jmp poll

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

; Called by the BIOS with status, X, Y, 0 pushed (words), in that order.
mouse_handler:
    push bp
    mov bp, sp
    push ax
    push bx
    push ds
    xor ax, ax
    mov ds, ax
    xor bx, bx
    mov bl, [head]
    shl bx, 2
    mov al, [bp + 12]          ; status
    mov [ring + bx], al
    mov al, [bp + 10]          ; X
    mov [ring + bx + 1], al
    mov al, [bp + 8]           ; Y
    mov [ring + bx + 2], al
    inc byte [head]
    and byte [head], 15
    pop ds
    pop bx
    pop ax
    pop bp
    retf

puthex:
    push ax
    shr al, 4
    call .digit
    pop ax
    and al, 15
.digit:
    add al, '0'
    cmp al, '9'
    jbe putc
    add al, 7
putc:
    push bx
    mov ah, 0x0e
    mov bx, 7
    int 0x10
    pop bx
    ret

prompt:
    db 13, 10, 'vnc> ', 0
nomouse:
    db 13, 10, 'no mouse! vnc> ', 0
times 510 - ($ - $$) db 0
    dw 0xaa55
