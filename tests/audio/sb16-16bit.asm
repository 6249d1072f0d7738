; SB16: one second of 16-bit signed stereo at 44100 Hz with auto-init DMA on channel 5
; (command 0xB6), double-buffered as DOS players do: two half-buffers of 50 ms, each
; 16-bit interrupt (acknowledged through port 0x22F) refills the half just played, and
; command 0xD9 ends auto-init after the twentieth block. Left: 1005.33 Hz (step 1494),
; right: 1505.30 Hz (step 2237); each block ends about a quarter period off a whole
; number of periods, so a block played twice or skipped breaks the phase. The channels
; must not be swapped or mixed.
%include "rom.inc"
%include "sound.inc"

HALF    equ 2205                    ; frames per block
BLOCKS  equ 20
TONE_L  equ 1494
TONE_R  equ 2237
IRQ8_COUNT equ 0x510

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
        mov si, 1                   ; next interrupt expected
.next:  WAIT_IRQS si
        cmp si, BLOCKS - 1
        jne .notlast
        mov al, 0xd9                ; the block playing now is the last
        call dsp_write
.notlast:
        cmp si, BLOCKS - 1
        jae .nofill
        ; Block si - 1 (from 0) has been played from half (si - 1) & 1: refill that half
        ; with block si + 1.
        mov ax, si
        dec ax
        and ax, 1
        mov di, HALF * 4
        mul di
        mov di, ax
        call fill_half
.nofill:
        inc si
        cmp si, BLOCKS
        jbe .next
        PUTS "20 blocks played", 10
        ; After 0xD9 the DSP stops: no 21st 16-bit interrupt during 100 ms of silence
        ; (command 0x80, which ends with an 8-bit interrupt).
        mov word [IRQ_COUNT], 0
        mov word [IRQ8_COUNT], 0
        mov al, 0x80
        call dsp_write
        mov al, (4410 - 1) & 0xff
        call dsp_write
        mov al, (4410 - 1) >> 8
        call dsp_write
.w8:    sti
        hlt
        cli
        cmp word [IRQ8_COUNT], 0
        je .w8
        cmp word [IRQ_COUNT], 0
        jne .more
        EXIT 0
.more:  PUTS "interrupts after auto-init ended", 10
        EXIT 3

; fill_half: HALF frames of the tones at ES:DI; DI moves past them.
fill_half:
        mov cx, HALF
        jmp fill_stereo

irq_handler:
        push ax
        push dx
        push ds
        xor ax, ax
        mov ds, ax
        mov dx, SB + 4              ; mixer 0x82: which interrupt is it?
        mov al, 0x82
        out dx, al
        inc dx
        in al, dx
        test al, 2
        jz .not16
        mov dx, SB + 0xf            ; acknowledge the 16-bit interrupt
        in al, dx
        inc word [IRQ_COUNT]
.not16: mov dx, SB + 4
        mov al, 0x82
        out dx, al
        inc dx
        in al, dx
        test al, 1
        jz .not8
        mov dx, SB + 0xe            ; acknowledge the 8-bit interrupt
        in al, dx
        inc word [IRQ8_COUNT]
.not8:
        mov al, 0x20
        out 0x20, al
        pop ds
        pop dx
        pop ax
        iret

        ROM_END
