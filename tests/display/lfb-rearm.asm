; Direct frame buffer writes reach the display after the first frame (tests/display/
; lfb-rearm.py). A boot sector: VBE mode 117h (1024x768x16) with the linear frame buffer
; through the Cirrus VGA BIOS, 32-bit protected mode, the whole screen filled with blue;
; then about a third of a second (six wraps of PIT channel 0, which SeaBIOS runs at
; 18.2 Hz) during which the display refreshes many times, then one red pixel at (100, 100)
; written with a single store into a page the fill had already written, "B" on the debug
; console (port 0xE9, each line ended), and a halt. The CPU maps frame buffer pages for writing directly;
; each refresh must make it map them again, or this late store is never seen.
; On failure: "E" on the debug console.
bits 16
org 0x7c00

info equ 0x8000

start:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7c00
    sti
    mov ax, 0x4f01
    mov cx, 0x117
    mov di, info
    int 0x10
    cmp ax, 0x004f
    jne fail
    mov ax, 0x4f02
    mov bx, 0x4117
    int 0x10
    cmp ax, 0x004f
    jne fail
    in al, 0x92
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
    mov al, 10
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
    mov edx, [info + 0x28]
    mov edi, edx
    mov eax, 0x001f001f        ; blue in RGB 5:6:5, two pixels
    mov ecx, 1024 * 768 * 2 / 4
    cld
    rep stosd
    mov al, 'A'
    out 0xe9, al
    mov al, 10                 ; hangar-run flushes its debug console file at line ends
    out 0xe9, al
    mov ebx, 6                 ; PIT channel 0 wraps to wait
    call read_pit
    mov esi, eax
.wait:
    call read_pit
    cmp eax, esi               ; the counter counts down: a rise is a wrap
    mov esi, eax
    jbe .wait
    dec ebx
    jnz .wait
    mov word [edx + (100 * 1024 + 100) * 2], 0xf800   ; red
    mov al, 'B'
    out 0xe9, al
    mov al, 10
    out 0xe9, al
.done:
    hlt
    jmp .done

read_pit:                      ; channel 0's count in eax (latched)
    xor eax, eax
    out 0x43, al
    in al, 0x40
    mov ah, al
    in al, 0x40
    xchg al, ah
    ret

align 8
gdt:
    dq 0
    dq 0x00cf9a000000ffff
    dq 0x00cf92000000ffff
gdtr:
    dw gdtr - gdt - 1
    dd gdt

times 510 - ($ - $$) db 0
dw 0xaa55
