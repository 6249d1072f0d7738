; PC speaker: PIT channel 2 in mode 3 with count 1193 (1193182 / 1193 = 1000.15 Hz),
; gated and sent to the speaker through port 0x61 bits 0 and 1 for half a second,
; timed by 50 ticks of channel 0 at 100 Hz on IRQ 0.
%include "rom.inc"
%include "sound.inc"

test_main:
        PIC_INIT 0
        mov al, 0x34                ; channel 0, mode 2
        out 0x43, al
        mov ax, 11932
        out 0x40, al
        mov al, ah
        out 0x40, al
        ; Start on a tick, so the tone lasts exactly 50 periods of channel 0.
        WAIT_IRQS 1
        mov word [IRQ_COUNT], 0
        mov al, 0xb6                ; channel 2, mode 3
        out 0x43, al
        mov ax, 1193
        out 0x42, al
        mov al, ah
        out 0x42, al
        in al, 0x61
        or al, 3
        out 0x61, al
        WAIT_IRQS 50
        in al, 0x61
        and al, 0xfc
        out 0x61, al
        PUTS "tone played", 10
        mov word [IRQ_COUNT], 0
        WAIT_IRQS 10
        EXIT 0

        PIT_IRQ_HANDLER

        ROM_END
