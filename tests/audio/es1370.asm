; ES1370: one second of 16-bit signed stereo at 44100 Hz (PCLKDIV 30) from DAC2,
; double-buffered in guest memory as snd-ens1370 sets it up: the frame buffer holds two
; halves of 2205 frames, the sample count makes an interrupt per half, and the program
; refills the half just played. The card is found by a PCI configuration scan, gets I/O
; BAR 0xC000, bus mastering, and its INTA through PIIX3 PIRQ routing to IRQ 11 (level,
; ELCR); each interrupt is acknowledged by clearing and setting P2_INT_EN in the serial
; control register, as Linux does. Same tones as sb16-16bit: left 1005.33 Hz, right
; 1505.31 Hz.
%include "rom.inc"
%include "sound.inc"

HALF    equ 2205
BLOCKS  equ 20
TONE_L  equ 1494
TONE_R  equ 2237
ESB     equ 0xc000
SCTL    equ 0x020c                  ; P2_INT_EN | P2 16-bit | P2 stereo
CTL     equ (30 << 16)              ; 1411200 / (30 + 2) = 44100 Hz
ESDEV   equ 0x520                   ; config address of the card

test_main:
        PIC_INIT 11
        ; Find 1274:5000 on bus 0.
        mov ebx, 0x80000000
.scan:  mov eax, ebx
        mov dx, 0xcf8
        out dx, eax
        mov dx, 0xcfc
        in eax, dx
        cmp eax, 0x50001274
        je .found
        add ebx, 0x800
        cmp ebx, 0x80010000
        jb .scan
        PUTS "no ES1370", 10
        EXIT 2
.found: mov [ESDEV], ebx
        PUTS "ES1370 found", 10
        lea eax, [ebx + 0x10]       ; BAR0
        mov dx, 0xcf8
        out dx, eax
        mov dx, 0xcfc
        mov eax, ESB
        out dx, eax
        lea eax, [ebx + 0x04]       ; command: I/O space, bus master
        mov dx, 0xcf8
        out dx, eax
        mov dx, 0xcfc
        mov ax, 5
        out dx, ax
        ; PIIX3 (00:01.0) PIRQA-D all to IRQ 11, and IRQ 11 level-triggered.
        mov eax, 0x80000860
        mov dx, 0xcf8
        out dx, eax
        mov dx, 0xcfc
        mov eax, 0x0b0b0b0b
        out dx, eax
        mov dx, 0x4d1
        mov al, 0x08
        out dx, al
        mov word [PHASE_L], 0
        mov word [PHASE_R], 0
        mov word [STEP_L], TONE_L
        mov word [STEP_R], TONE_R
        mov ax, 0x4000
        mov es, ax
        xor di, di
        call fill_half
        call fill_half
        ; The card: clock, frame buffer (page 0x0C), format and interrupt, count, enable.
        mov dx, ESB + 0x00
        mov eax, CTL
        out dx, eax
        mov dx, ESB + 0x0c
        mov eax, 0x0c
        out dx, eax
        mov dx, ESB + 0x38
        mov eax, 0x40000
        out dx, eax
        mov dx, ESB + 0x3c
        mov eax, HALF * 2 - 1       ; longwords - 1
        out dx, eax
        mov dx, ESB + 0x20
        mov eax, SCTL
        out dx, eax
        mov dx, ESB + 0x28
        mov eax, HALF - 1
        out dx, eax
        mov dx, ESB + 0x00
        mov eax, CTL | 0x20         ; DAC2_EN
        out dx, eax
        mov si, 1
.next:  WAIT_IRQS si
        cmp si, BLOCKS - 1
        jae .nofill
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
        ; The interrupt of the last block arrived: stop DAC2.
        mov dx, ESB + 0x00
        mov eax, CTL
        out dx, eax
        PUTS "20 periods played", 10
        ; 20 ms more of guest time, so the recording holds the end of the tone.
        mov ecx, 10000000
.spin:  dec ecx
        jnz .spin
        EXIT 0

; fill_half: HALF frames of the tones at ES:DI; DI moves past them.
fill_half:
        mov cx, HALF
        jmp fill_stereo

irq_handler:
        push eax
        push dx
        push ds
        xor ax, ax
        mov ds, ax
        mov dx, ESB + 0x04
        in eax, dx
        test eax, 2                 ; DAC2
        jz .eoi
        mov dx, ESB + 0x20           ; acknowledge: P2_INT_EN off, then on again
        mov eax, SCTL & ~0x200
        out dx, eax
        mov eax, SCTL
        out dx, eax
        inc word [IRQ_COUNT]
.eoi:   mov al, 0x20
        out 0xa0, al
        out 0x20, al
        pop ds
        pop dx
        pop eax
        iret

        ROM_END
