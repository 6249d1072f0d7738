; NE2000 (ISA, base 0x300) against a hostile program: the reset port and the PROM as
; Linux's ne.c reads them, then ring pointers outside the buffer memory and PSTART above
; PSTOP, remote DMA with huge counts starting below the end of the 64 KiB address space,
; odd word transfers, a Send Packet command at a nonsense boundary, transmissions of
; 65535 bytes from page 0xFF (looped back and not), a zero-length DMA, junk written to
; every register of every page; then a clean restart and an internal loopback of a frame
; to this station (DP8390D / AN-937: PTX, RSR, the FIFO's last 8 bytes, nothing in the
; ring). It prints what it reads back and "ne2000 hostile done".
;
; nasm -f bin -I tests/guest/lib/ -o ne2000-hostile.bin tests/net/ne2000-hostile.asm
; hangar-run --bios ne2000-hostile.bin --nic ne2k_isa --net none --debugcon stdio --debug-exit
%include "rom.inc"

NE      equ 0x300
; Register offsets (the R_ prefix because RCR is also an instruction).
R_CMD    equ 0x00
R_PSTART equ 0x01
R_PSTOP  equ 0x02
R_BNRY   equ 0x03
R_TPSR   equ 0x04                   ; TSR on read
R_TBCR0  equ 0x05
R_TBCR1  equ 0x06                   ; FIFO on read
R_ISR    equ 0x07
R_RSAR0  equ 0x08
R_RSAR1  equ 0x09
R_RBCR0  equ 0x0a
R_RBCR1  equ 0x0b
R_RCR    equ 0x0c                   ; RSR on read
R_TCR    equ 0x0d                   ; CNTR0 on read
R_DCR    equ 0x0e                   ; CNTR1 on read
R_IMR    equ 0x0f                   ; CNTR2 on read
R_CURR   equ 0x07                   ; page 1
R_DATA   equ 0x10
R_RESET  equ 0x1f

MACBUF  equ 0x0600                  ; the station address from the PROM
FRAME   equ 0x0700                  ; the loopback frame
FRLEN   equ 64

%macro OUTB 2
        mov dx, NE + %1
        mov al, %2
        out dx, al
%endmacro
%macro INB 1
        mov dx, NE + %1
        in al, dx
%endmacro
; SHOW "label", reg: prints the label and the register's value.
%macro SHOW 2
        PUTS %1
        INB %2
        call print16_hex8
        call print16_nl
%endmacro

test_main:
        PUTS "ne2000 hostile", 10
        INB R_CMD
        cmp al, 0xff
        jne .present
        PUTS "no card at 0x300", 10
        jmp finish
.present:
        call card_reset
        call read_prom

        ; ---- ring pointers outside the memory, R_PSTART above R_PSTOP ----
        OUTB R_CMD, 0x21
        OUTB R_DCR, 0x48
        OUTB R_PSTART, 0xf0
        OUTB R_PSTOP, 0x10
        OUTB R_BNRY, 0xff
        OUTB R_CMD, 0x61
        OUTB R_CURR, 0x00
        OUTB R_CMD, 0x22
        OUTB R_TCR, 0x00
        OUTB R_RCR, 0x1c
        OUTB R_IMR, 0x7f

        ; A remote write of 0xFFFF bytes from 0xFFF0: 512 bytes of the IVT go in,
        ; running over the end of the address space onto the PROM and unpopulated space.
        OUTB R_RSAR0, 0xf0
        OUTB R_RSAR1, 0xff
        OUTB R_RBCR0, 0xff
        OUTB R_RBCR1, 0xff
        OUTB R_CMD, 0x12
        mov dx, NE + R_DATA
        xor si, si
        mov cx, 512
        rep outsb
        PUTS "crda after write "
        INB R_RSAR1
        call print16_hex8
        INB R_RSAR0
        call print16_hex8
        call print16_nl

        ; Reads of unpopulated space (0x8000) and across the wrap at 0xFFFF.
        OUTB R_CMD, 0x22
        OUTB R_RSAR0, 0x00
        OUTB R_RSAR1, 0x80
        OUTB R_RBCR0, 4
        OUTB R_RBCR1, 0
        OUTB R_CMD, 0x0a
        PUTS "read 8000:"
        mov cx, 6                   ; two more than the count: the DMA has ended
.r8000: PUTS " "
        INB R_DATA
        call print16_hex8
        loop .r8000
        call print16_nl
        OUTB R_RSAR0, 0xfe
        OUTB R_RSAR1, 0xff
        OUTB R_RBCR0, 4
        OUTB R_RBCR1, 0
        OUTB R_CMD, 0x0a
        PUTS "read fffe:"
        mov cx, 4
.rfffe: PUTS " "
        INB R_DATA
        call print16_hex8
        loop .rfffe
        call print16_nl

        ; Word mode from an odd address with an odd count.
        OUTB R_DCR, 0x49
        OUTB R_RSAR0, 0xff
        OUTB R_RSAR1, 0x7f
        OUTB R_RBCR0, 3
        OUTB R_RBCR1, 0
        OUTB R_CMD, 0x0a
        PUTS "odd words:"
        mov cx, 3
.rodd:  PUTS " "
        mov dx, NE + R_DATA
        in ax, dx
        call print16_hex16
        loop .rodd
        call print16_nl
        OUTB R_DCR, 0x48

        ; Send Packet at a boundary outside the ring, then a burst of reads.
        OUTB R_BNRY, 0xc3
        OUTB R_CMD, 0x1a
        mov dx, NE + R_DATA
        mov cx, 300
.rsend: in al, dx
        loop .rsend
        SHOW "isr after send packet ", R_ISR
        OUTB R_ISR, 0xff

        ; A zero-length remote read completes at once.
        OUTB R_RBCR0, 0
        OUTB R_RBCR1, 0
        OUTB R_CMD, 0x0a
        SHOW "isr after zero dma ", R_ISR
        OUTB R_ISR, 0xff

        ; 65535 bytes from page 0xFF, looped back, then onto the wire.
        OUTB R_TPSR, 0xff
        OUTB R_TBCR0, 0xff
        OUTB R_TBCR1, 0xff
        OUTB R_TCR, 0x02
        OUTB R_CMD, 0x26
        call wait_ptx
        SHOW "isr after huge loopback ", R_ISR
        OUTB R_ISR, 0xff
        OUTB R_TCR, 0x00
        OUTB R_CMD, 0x26
        call wait_ptx
        SHOW "isr after huge transmit ", R_ISR
        OUTB R_ISR, 0xff

        ; Junk in every register of every page (page select last).
        mov bl, 0
.jpage: mov al, bl
        shl al, 6
        or al, 0x22
        mov dx, NE + R_CMD
        out dx, al
        mov dx, NE + 1
        mov ah, 0xa5
.jreg:  mov al, ah
        out dx, al
        rol ah, 1
        inc dx
        cmp dx, NE + 0x10
        jb .jreg
        inc bl
        cmp bl, 4
        jb .jpage
        OUTB R_CMD, 0x22
        mov dx, NE + R_DATA
        mov cx, 64
.jdata: out dx, al
        in al, dx
        loop .jdata
        PUTS "junk written", 10
        call show_regs

        ; ---- a clean restart and an internal loopback ----
        call card_reset
        call read_prom
        call loopback_test
        call show_regs
finish:
        PUTS "ne2000 hostile done", 10
        EXIT 0

; Resets through the reset port and waits for R_ISR.RST, as ne.c does.
card_reset:
        INB R_RESET
        out dx, al
        mov cx, 1000
.wait:  INB R_ISR
        test al, 0x80
        jnz .ok
        loop .wait
        PUTS "no reset ack", 10
        ret
.ok:    OUTB R_ISR, 0xff
        PUTS "reset ok", 10
        ret

; The 32-byte PROM in byte mode (ne.c's sequence); keeps the MAC at MACBUF.
read_prom:
        OUTB R_CMD, 0x21
        OUTB R_DCR, 0x48
        OUTB R_RBCR0, 0
        OUTB R_RBCR1, 0
        OUTB R_IMR, 0
        OUTB R_ISR, 0xff
        OUTB R_RCR, 0x20
        OUTB R_TCR, 0x02
        OUTB R_RBCR0, 32
        OUTB R_RBCR1, 0
        OUTB R_RSAR0, 0
        OUTB R_RSAR1, 0
        OUTB R_CMD, 0x0a
        PUTS "prom:"
        xor bx, bx
.next:  PUTS " "
        INB R_DATA
        call print16_hex8
        test bl, 1
        jnz .odd
        cmp bx, 12
        jae .odd
        mov si, bx
        shr si, 1
        mov [MACBUF + si], al
.odd:   inc bx
        cmp bx, 32
        jb .next
        call print16_nl
        ret

; Waits for PTX or TXE.
wait_ptx:
        mov cx, 1000
.wait:  INB R_ISR
        test al, 0x0a
        jnz .done
        loop .wait
        PUTS "no transmit completion", 10
.done:  ret

; NS8390_init in word mode, loopback mode 1 with the CRC generated, a 64-byte frame to
; this station: the receiver reports a CRC error (shared CRC logic), the FIFO holds the
; frame's last 4 bytes and its CRC, R_CURR does not move.
loopback_test:
        OUTB R_CMD, 0x21
        OUTB R_DCR, 0x49
        OUTB R_RBCR0, 0
        OUTB R_RBCR1, 0
        OUTB R_RCR, 0x20
        OUTB R_TCR, 0x02
        OUTB R_TPSR, 0x40
        OUTB R_PSTART, 0x4c
        OUTB R_BNRY, 0x7f
        OUTB R_PSTOP, 0x80
        OUTB R_ISR, 0xff
        OUTB R_IMR, 0
        OUTB R_CMD, 0x61
        xor si, si
        mov dx, NE + 1
.par:   mov al, [MACBUF + si]
        out dx, al
        inc dx
        inc si
        cmp si, 6
        jb .par
        OUTB R_CURR, 0x4c
        OUTB R_CMD, 0x22
        OUTB R_RCR, 0x00
        ; The frame: to us, from us, type 0x0800, bytes 14.. = index.
        xor si, si
.dst:   mov al, [MACBUF + si]
        mov [FRAME + si], al
        mov [FRAME + 6 + si], al
        inc si
        cmp si, 6
        jb .dst
        mov word [FRAME + 12], 0x0008
        mov si, 14
.fill:  mov ax, si
        mov [FRAME + si], al
        inc si
        cmp si, FRLEN
        jb .fill
        ; Remote write of the frame to 0x4000 in words.
        OUTB R_ISR, 0x40
        OUTB R_RBCR0, FRLEN
        OUTB R_RBCR1, 0
        OUTB R_RSAR0, 0
        OUTB R_RSAR1, 0x40
        OUTB R_CMD, 0x12
        mov dx, NE + R_DATA
        mov si, FRAME
        mov cx, FRLEN / 2
        rep outsw
        SHOW "isr after frame copy ", R_ISR
        OUTB R_ISR, 0xff
        OUTB R_TBCR0, FRLEN
        OUTB R_TBCR1, 0
        OUTB R_TPSR, 0x40
        OUTB R_CMD, 0x26
        call wait_ptx
        SHOW "loopback isr ", R_ISR
        SHOW "loopback tsr ", R_TPSR
        SHOW "loopback rsr ", R_RCR
        SHOW "loopback cntr1 ", R_DCR
        PUTS "fifo:"
        mov cx, 8
.fifo:  PUTS " "
        INB R_TBCR1
        call print16_hex8
        loop .fifo
        call print16_nl
        OUTB R_CMD, 0x62
        SHOW "curr ", R_CURR
        OUTB R_CMD, 0x22
        ret

; Every register of pages 0-3 (reading page 0 clears the tally counters).
show_regs:
        mov bl, 0
.page:  PUTS "page "
        mov al, bl
        call print16_hex8
        PUTS ":"
        mov al, bl
        shl al, 6
        or al, 0x20                 ; no STA/STP: the chip stays as it is
        mov dx, NE + R_CMD
        out dx, al
        mov dx, NE + 1
.reg:   PUTS " "
        in al, dx
        call print16_hex8
        inc dx
        cmp dx, NE + 0x10
        jb .reg
        call print16_nl
        inc bl
        cmp bl, 4
        jb .page
        OUTB R_CMD, 0x20
        ret

        ROM_END
