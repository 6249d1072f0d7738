; Benchmark guest: SECONDS of 44.1 kHz 16-bit stereo from the SB16 (auto-init DMA on
; channel 5, two 50 ms halves refilled by the interrupt handler), then exit. With BUSY=1
; the main program computes (an integer loop) instead of halting between interrupts.
%include "rom.inc"
%include "sound.inc"

HALF    equ 2205
TONE_L  equ 1494
TONE_R  equ 2237
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
        mov word [STEP_L], TONE_L
        mov word [STEP_R], TONE_R
        mov ax, 0x4000
        mov es, ax
        xor di, di
        call fill_half
        call fill_half
        mov ax, HALF
        call sb16_play16
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

; fill_half: HALF frames of the tones at ES:DI; DI moves past them.
fill_half:
        mov cx, HALF
        jmp fill_stereo

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
