; AdLib / OPL2 on 0x388: the timer-based detection of the AdLib programming guide (reset
; both timers and the IRQ flag, status bits 7-5 clear; timer 1 at 0xFF started, about
; 100 status reads later they read 0xC0), then one note for a second: channel 0 with an
; additive connection, a silent modulator and a sustained sine carrier, F-number 0x244 in
; block 4: 580 * 49716 / 2^16 = 439.99 Hz, timed by 100 ticks of PIT channel 0.
%include "rom.inc"
%include "sound.inc"

test_main:
        PIC_INIT 0
        mov ax, 0x0460              ; reset both timers
        call opl_write
        mov ax, 0x0480              ; reset the IRQ flag
        call opl_write
        mov dx, 0x388
        in al, dx
        test al, 0xe0
        jnz .noopl
        mov ax, 0x02ff              ; timer 1 count
        call opl_write
        mov ax, 0x0421              ; start timer 1
        call opl_write
        mov cx, 100                 ; about 80 microseconds on the ISA bus
.d:     in al, dx
        loop .d
        and al, 0xe0
        cmp al, 0xc0
        jne .noopl
        mov ax, 0x0460
        call opl_write
        mov ax, 0x0480
        call opl_write
        PUTS "OPL2 detected", 10

        mov ax, 0x2001              ; modulator: MULT 1
        call opl_write
        mov ax, 0x403f              ; TL 63
        call opl_write
        mov ax, 0x6000              ; AR 0: never rises
        call opl_write
        mov ax, 0x80ff
        call opl_write
        mov ax, 0x2321              ; carrier: sustained, MULT 1
        call opl_write
        mov ax, 0x4300              ; TL 0
        call opl_write
        mov ax, 0x63f0              ; AR 15, DR 0
        call opl_write
        mov ax, 0x830f              ; SL 0, RR 15
        call opl_write
        mov ax, 0xc001              ; additive
        call opl_write
        mov al, 0x34                ; PIT channel 0 at 100 Hz
        out 0x43, al
        mov ax, 11932
        out 0x40, al
        mov al, ah
        out 0x40, al
        WAIT_IRQS 1
        mov word [IRQ_COUNT], 0
        mov ax, 0xa044              ; F-number low
        call opl_write
        mov ax, 0xb032              ; key on, block 4, F-number high 2
        call opl_write
        WAIT_IRQS 100
        mov ax, 0xb012              ; key off
        call opl_write
        PUTS "note played", 10
        mov word [IRQ_COUNT], 0
        WAIT_IRQS 10
        EXIT 0
.noopl: PUTS "no OPL2", 10
        EXIT 2

; opl_write: register AH, value AL (with the register-select and data delays of the
; programming guide: 6 and 35 status reads).
opl_write:
        push dx
        push cx
        push ax
        mov dx, 0x388
        mov al, ah
        out dx, al
        mov cx, 6
.a:     in al, dx
        loop .a
        pop ax
        push ax
        inc dx
        out dx, al
        dec dx
        mov cx, 35
.b:     in al, dx
        loop .b
        pop ax
        pop cx
        pop dx
        ret

        PIT_IRQ_HANDLER

        ROM_END
