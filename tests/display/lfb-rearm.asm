; Direct frame buffer writes reach the display after the first frame (tests/display/
; lfb-rearm.py). A boot sector: VBE mode 117h (1024x768x16) with the linear frame buffer
; through the Cirrus VGA BIOS, 32-bit protected mode, the whole screen filled with blue;
; then about a third of a second (six wraps of PIT channel 0, which SeaBIOS runs at
; 18.2 Hz) during which the display refreshes many times, then one red pixel at (100, 100)
; written with a single store into a page the fill had already written; on the Cirrus a
; system-to-screen blit fed by CPU writes to the frame buffer ("C"); "B" on the debug
; console (port 0xE9, each line ended), and a halt. The CPU maps frame buffer pages for
; writing directly; each refresh must make it map them again, or the late store is never
; seen, and a blit must take those writes away from video memory while it runs.
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
    mov ebp, [info + 0x28]     ; the frame buffer
    mov edi, ebp
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
    mov word [ebp + (100 * 1024 + 100) * 2], 0xf800   ; red
    ; On the Cirrus (SR6 = 12h unlocks its extensions and reads back 12h): a system-to-
    ; screen blit of 4x2 green pixels to (200, 200), its 16 bytes of data written by the
    ; CPU to the frame buffer's first page, which the CPU has just mapped for writing (the
    ; store of the fill colour right before). While the blit takes data, such writes must
    ; reach the blitter, not video memory: pixels (0, 0) to (7, 0) stay blue.
    mov dx, 0x3c4
    mov ax, 0x1206
    out dx, ax
    inc dx
    in al, dx
    cmp al, 0x12
    jne .report
    mov dword [ebp], 0x001f001f
    mov dx, 0x3ce
    mov esi, blit_regs
.reg:
    lodsw
    test ax, ax
    jz .feed
    out dx, ax
    jmp .reg
.feed:
    mov eax, 0x07e007e0        ; green, two pixels
    mov [ebp], eax
    mov [ebp], eax
    mov [ebp + 4], eax
    mov [ebp + 8], eax
    mov al, 'C'
    out 0xe9, al
    mov al, 10
    out 0xe9, al
.report:
    mov al, 'B'
    out 0xe9, al
    mov al, 10
    out 0xe9, al
.done:
    hlt
    jmp .done

; GR index | value << 8, for the blit; then GR31 = 02h starts it.
blit_regs:
    dw 0x0720                  ; width - 1 in bytes: 4 pixels of 2 bytes
    dw 0x0021
    dw 0x0122                  ; height - 1
    dw 0x0023
    dw 0x0024                  ; destination pitch 2048
    dw 0x0825
    dw 0x0026
    dw 0x0027
    dw 0x9028                  ; destination (200 * 1024 + 200) * 2 = 64190h
    dw 0x4129
    dw 0x062a
    dw 0x1430                  ; 16 bits per pixel, source from the system
    dw 0x0d32                  ; copy
    dw 0x0033
    dw 0x0231                  ; start
    dw 0

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
