; Display benchmark guest (bench/bench-display.c): a floppy boot sector that sets VBE mode
; 0x117 (1024x768, 16 bits per pixel, RGB 5:6:5) with a linear framebuffer through the
; Cirrus VGA BIOS (VBE 2.0: AX=4F01h mode information for the framebuffer's address, then
; AX=4F02h with bit 14 for the linear framebuffer), switches to 32-bit protected mode and
; rewrites the whole framebuffer in a loop, each frame in another colour, writing one byte
; to the debug console (port 0xE9) per frame so the host can count the frames written.
; On failure it writes "E" to port 0xE9 and halts.
bits 16
org 0x7c00

info equ 0x8000                ; VBE mode information block (256 bytes)

start:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7c00
    sti
    mov ax, 0x4f01             ; mode information: PhysBasePtr at offset 28h
    mov cx, 0x117
    mov di, info
    int 0x10
    cmp ax, 0x004f
    jne fail
    mov ax, 0x4f02             ; set mode 117h with the linear framebuffer
    mov bx, 0x4117
    int 0x10
    cmp ax, 0x004f
    jne fail
    in al, 0x92                ; A20 on (fast A20 gate): the framebuffer spans odd MiBs
    or al, 2
    and al, 0xfe
    out 0x92, al
    cli
    lgdt [gdtr]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp 0x08:pm

fail:
    mov al, 'E'
    out 0xe9, al
.halt:
    hlt
    jmp .halt

bits 32
pm:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, 0x7c00
    mov edx, [info + 0x28]     ; the framebuffer's physical address
    xor ebx, ebx               ; frame number
.frame:
    mov eax, ebx               ; this frame's colour in both pixels of each dword
    imul eax, eax, 0x0841      ; steps red, green and blue together
    and eax, 0xffff
    mov ecx, eax
    shl ecx, 16
    or eax, ecx
    mov edi, edx
    mov ecx, 1024 * 768 * 2 / 4
    cld
    rep stosd
    mov al, 'f'
    out 0xe9, al
    inc ebx
    jmp .frame

align 8
gdt:
    dq 0
    dq 0x00cf9a000000ffff      ; 08h: code, flat 4 GiB, 32-bit
    dq 0x00cf92000000ffff      ; 10h: data, flat 4 GiB
gdtr:
    dw gdtr - gdt - 1
    dd gdt

times 510 - ($ - $$) db 0
dw 0xaa55
