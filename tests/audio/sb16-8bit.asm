; SB16: one second of a 999.95 Hz triangle (phase step 2972 at 22050 Hz) as 8-bit
; unsigned mono, single-cycle DMA on channel 1 (command 0xC0), ended by the 8-bit
; interrupt on IRQ 5, which the program acknowledges by reading port 0x22E.
%include "rom.inc"
%include "sound.inc"

FRAMES  equ 22050
STEP    equ 2972

test_main:
        PIC_INIT 5
        DMA_CASCADE
        call sb_detect
        call mixer_full_volume
        ; The tone at 0x20000: one byte per frame.
        mov ax, 0x2000
        mov es, ax
        xor di, di
        xor bx, bx
        mov cx, FRAMES
.gen:   call tri_sample
        mov al, ah
        xor al, 0x80                ; unsigned
        stosb
        add bx, STEP
        loop .gen
        ; 8237 channel 1: single mode, memory to device, 0x20000, FRAMES bytes.
        mov al, 5
        out 0x0a, al                ; mask channel 1
        out 0x0c, al                ; clear the flip-flop
        mov al, 0x49
        out 0x0b, al
        xor al, al
        out 0x02, al
        out 0x02, al
        mov al, 2
        out 0x83, al
        mov al, (FRAMES - 1) & 0xff
        out 0x03, al
        mov al, (FRAMES - 1) >> 8
        out 0x03, al
        mov al, 1
        out 0x0a, al                ; unmask
        ; DSP: speaker on, 22050 Hz, 8-bit single-cycle output, mono unsigned.
        mov al, 0xd1
        call dsp_write
        mov al, 0x41
        call dsp_write
        mov al, 22050 >> 8
        call dsp_write
        mov al, 22050 & 0xff
        call dsp_write
        mov al, 0xc0
        call dsp_write
        mov al, 0x00
        call dsp_write
        mov al, (FRAMES - 1) & 0xff
        call dsp_write
        mov al, (FRAMES - 1) >> 8
        call dsp_write
        WAIT_IRQS 1
        PUTS "block played", 10
        ; The controller reached terminal count on channel 1.
        in al, 0x08
        test al, 2
        jz .notc
        PUTS "DMA terminal count", 10
        ; Let the recording hold some silence after the tone.
        mov word [IRQ_COUNT], 0
        mov al, 0x80                ; 100 ms of silence, then an interrupt
        call dsp_write
        mov al, (2205 - 1) & 0xff
        call dsp_write
        mov al, (2205 - 1) >> 8
        call dsp_write
        WAIT_IRQS 1
        EXIT 0
.notc:  PUTS "no terminal count", 10
        EXIT 3

irq_handler:
        push ax
        push dx
        push ds
        xor ax, ax
        mov ds, ax
        mov dx, SB + 0xe            ; acknowledge the 8-bit interrupt
        in al, dx
        inc word [IRQ_COUNT]
        mov al, 0x20
        out 0x20, al
        pop ds
        pop dx
        pop ax
        iret

        ROM_END
