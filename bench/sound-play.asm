; Benchmark guest: SECONDS of 44.1 kHz 16-bit stereo from the SB16 (auto-init DMA on
; channel 5, two 50 ms halves refilled by the interrupt handler), then exit. With BUSY=1
; the main program computes (an integer loop) instead of halting between interrupts.
%include "rom.inc"
%include "sound.inc"

HALF    equ 2205
%ifndef SECONDS
%define SECONDS 60
%endif
%ifndef BUSY
%define BUSY 0
%endif
BLOCKS  equ SECONDS * 20

test_main:
        PIC_INIT 5
        DMA_CASCADE
        call sb_detect
        call mixer_full_volume
        mov word [PHASE_L], 0
        mov word [PHASE_R], 0
        mov ax, 0x4000
        mov es, ax
        xor di, di
        call fill_half
        call fill_half
        mov al, 5
        out 0xd4, al
        out 0xd8, al
        mov al, 0x59
        out 0xd6, al
        xor al, al
        out 0xc4, al
        out 0xc4, al
        mov al, 4
        out 0x8b, al
        mov al, (HALF * 4 - 1) & 0xff
        out 0xc6, al
        mov al, (HALF * 4 - 1) >> 8
        out 0xc6, al
        mov al, 1
        out 0xd4, al
        mov al, 0x41
        call dsp_write
        mov al, 44100 >> 8
        call dsp_write
        mov al, 44100 & 0xff
        call dsp_write
        mov al, 0xb6
        call dsp_write
        mov al, 0x30
        call dsp_write
        mov al, (HALF * 2 - 1) & 0xff
        call dsp_write
        mov al, (HALF * 2 - 1) >> 8
        call dsp_write
.wait:  sti
%if BUSY
        mov ecx, 100000
.work:  imul eax, ecx
        add ebx, eax
        dec ecx
        jnz .work
%else
        hlt
%endif
        cli
        cmp word [IRQ_COUNT], BLOCKS
        jb .wait
        EXIT 0

fill_half:
        mov cx, HALF
.f:     mov bx, [PHASE_L]
        call tri_sample
        stosw
        add bx, 1494
        mov [PHASE_L], bx
        mov bx, [PHASE_R]
        call tri_sample
        stosw
        add bx, 2237
        mov [PHASE_R], bx
        loop .f
        ret

irq_handler:
        pushad
        push ds
        push es
        xor ax, ax
        mov ds, ax
        mov dx, SB + 0xf
        in al, dx
        inc word [IRQ_COUNT]
        ; Refill the half just played.
        mov ax, 0x4000
        mov es, ax
        mov ax, [IRQ_COUNT]
        dec ax
        and ax, 1
        mov di, HALF * 4
        mul di
        mov di, ax
        call fill_half
        mov al, 0x20
        out 0x20, al
        pop es
        pop ds
        popad
        iret

        ROM_END
