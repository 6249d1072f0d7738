; RTL8139 hostile guest: finds the card (10EC:8139) with PCI configuration mechanism #1,
; gives BAR0 an I/O address and BAR1 a memory address, turns on I/O, memory and bus
; mastering, then hands the card everything a broken or malicious driver could: a receive
; ring past RAM (0xFFFFF000), CAPR values past the ring in every ring size, transmit sizes
; over the 1792-byte FIFO and buffers past RAM (frames loop back into the receiver through
; TCR loopback, as --net none brings none); on an RTL8139C+ also C+ descriptors with
; absurd lengths and addresses, large send with MSS 0 and with headers claiming more than
; the frame, a transmit ring with no LS and no EOR, rings and a tally dump past RAM; then
; thousands of random register writes of every size through both BARs with bus mastering
; off. The card may write only into a 1 MiB sandbox at 2 MiB or outside RAM, so the
; program's own memory survives; it prints "rtl8139 hostile done" and exits with 0.
;
; nasm -f bin -I tests/guest/lib/ -o rtl8139-hostile.bin tests/net/rtl8139-hostile.asm
; hangar-run --bios rtl8139-hostile.bin --nic rtl8139 --net none --debugcon stdio --debug-exit
%include "rom.inc"

IOBASE          equ 0xc100
MMBASE          equ 0xfeb00000
SANDBOX         equ 0x200000        ; all the card may write (rings, buffers) is in here
RXRING          equ SANDBOX         ; classic receive ring (8 KiB + 16 + 1.5 KiB)
CPRX            equ SANDBOX + 0x4000 ; C+ receive descriptors
CPTX            equ SANDBOX + 0x5000 ; C+ transmit descriptors (64)
CPBUF           equ SANDBOX + 0x8000 ; C+ receive buffers
FRAME           equ SANDBOX + 0x80000 ; frames to send (read only by the card)
FRAME2          equ FRAME + 0x400
FRAME3          equ FRAME + 0x800
DEVADDR         equ 0x600           ; CONFIG_ADDRESS of the card
SEED            equ 0x604

; Card registers through the memory BAR.
%macro W8 2
        mov byte [MMBASE + %1], %2
%endmacro
%macro W16 2
        mov word [MMBASE + %1], %2
%endmacro
%macro W32 2
        mov dword [MMBASE + %1], %2
%endmacro

; DESC addr, opts1, opts2, buffer low, buffer high: a C+ descriptor.
%macro DESC 5
        mov dword [%1 + 4], %3
        mov dword [%1 + 8], %4
        mov dword [%1 + 12], %5
        mov dword [%1], %2
%endmacro

D_OWN           equ 0x80000000
D_EOR           equ 0x40000000
D_FS            equ 0x20000000
D_LS            equ 0x10000000
D_LGSEN         equ 0x08000000
D_IPCS          equ 0x00040000
D_TCPCS         equ 0x00010000

test_main:
        ENTER_PM32 pm_main

        bits 32
pm_main:
        call install_exc_reporters
        mov dword [SEED], 0x8139c0de
        ; Find 10EC:8139 on bus 0.
        mov ebx, 0x80000000
.scan:  mov eax, ebx
        mov dx, 0xcf8
        out dx, eax
        mov dx, 0xcfc
        in eax, dx
        cmp eax, 0x813910ec
        je .found
        add ebx, 0x800
        cmp ebx, 0x80010000
        jb .scan
        PUTS32 "no RTL8139", 10
        EXIT 2
.found: mov [DEVADDR], ebx
        mov eax, 0x08
        call cfg_read
        PUTS32 "rtl8139 found, revision "
        call print32_hex8
        call print32_nl
        mov eax, 0x10               ; BAR0: I/O
        mov ecx, IOBASE
        call cfg_write
        mov eax, 0x14               ; BAR1: memory
        mov ecx, MMBASE
        call cfg_write
        call bus_master_on
        call make_frames

        ; ---- classic registers ----
        PUTS32 "classic: ring past RAM, huge sizes", 10
        call chip_reset
        W8 0x50, 0xc0               ; unlock (IDR, CONFIG)
        W32 0x00, 0x12005452
        W32 0x04, 0x00005634
        W8 0x50, 0
        W16 0x3c, 0xffff            ; every interrupt (IF stays clear)
        W32 0x30, 0xfffff000        ; RBSTART past RAM
        W8 0x37, 0x0c               ; RE | TE
        W32 0x44, 0x18bf            ; 64 KiB, WRAP, accept everything
        W32 0x40, 0x03060600        ; loopback: frames come back to the receiver
        W32 0x20, FRAME
        W32 0x10, 154               ; looped back into a ring past RAM
        W32 0x24, FRAME
        W32 0x14, 0x1fff            ; 8191 bytes: over the FIFO
        W32 0x28, 0xfffffff0
        W32 0x18, 1500              ; a buffer past RAM
        W32 0x2c, FRAME
        W32 0x1c, 0x003f0000        ; size 0
        ; Every ring size, with and without WRAP, CAPR past the ring, in the sandbox.
        W32 0x30, RXRING
        xor esi, esi
.sizes: mov eax, esi
        and eax, 3
        shl eax, 11                 ; RBLEN
        or eax, 0x3f
        test esi, 4
        jz .nowrap
        or eax, 0x80
.nowrap:
        cmp esi, 8                  ; the last rounds: 8 KiB only (the sandbox's ring)
        jb .setrcr
        and eax, ~0x1800
.setrcr:
        mov [MMBASE + 0x44], eax
        mov eax, esi
        imul eax, eax, 0x2345
        mov [MMBASE + 0x38], ax     ; CAPR anywhere
        mov ecx, 4
.slots: mov edx, ecx
        dec edx
        shl edx, 2
        mov dword [MMBASE + 0x20 + edx], FRAME
        mov eax, esi
        shl eax, 6
        add eax, 60
        and eax, 0x7ff              ; 60 to 2047 bytes
        mov [MMBASE + 0x10 + edx], eax
        loop .slots
        W8 0x37, 0x04               ; receiver off and on: the ring restarts at 0
        W8 0x37, 0x0c
        inc esi
        cmp esi, 24
        jb .sizes
        ; Only an 8 KiB ring may reach the sandbox: anything larger moves past RAM.
        W32 0x30, 0xfffff000
        call show_status

        ; ---- C+ descriptors ----
        mov eax, 0x08
        call cfg_read
        cmp al, 0x20
        jae .cplus
        PUTS32 "C+ skipped: an RTL8139C", 10
        jmp .random
.cplus: PUTS32 "C+: absurd descriptors, MSS 0, rings past RAM", 10
        call chip_reset
        W16 0xe0, 0x007b            ; C+ transmit and receive, checksums, VLAN
        W32 0x20, CPTX              ; TNPDS
        W32 0x24, 0
        W32 0x28, 0xffffff00        ; THPDS past RAM
        W32 0x2c, 0
        W32 0xe4, 0xfffffff0        ; RDSAR past RAM at first
        W32 0xe8, 0
        W8 0x37, 0x0c
        W32 0x44, 0x3f
        W32 0x40, 0x03060600        ; loopback
        W16 0x3c, 0xffff
        W16 0xda, 0x1fff            ; RxMaxSize
        W16 0xe2, 0xffff            ; IntrMitigate
        ; The transmit ring: 64 descriptors, none with EOR.
        mov edi, CPTX
        DESC edi, D_OWN | D_FS | D_LS | 0xffff, 0, 0, 0xffffffff      ; 64 KiB above 4 GiB
        DESC edi + 16, D_OWN | D_FS | D_LS, 0, 0xfffff000, 0         ; length 0
        DESC edi + 32, D_OWN | D_FS | D_LS | D_LGSEN | 154, 0, FRAME, 0 ; TSO with MSS 0
        DESC edi + 48, D_OWN | D_FS | D_LS | D_LGSEN | (2047 << 16) | 154, 0, FRAME2, 0
        DESC edi + 64, D_OWN | D_FS | D_LS | D_IPCS | D_TCPCS | 60, 0x20000, FRAME3, 0
        DESC edi + 80, D_OWN | D_FS | D_LS | 0xffff, 0x2ffff, FRAME, 0 ; 64 KiB, a VLAN tag
        DESC edi + 96, D_OWN | D_FS | D_LS | D_LGSEN | (1 << 16) | 154, 0, FRAME, 0 ; MSS 1
        mov ecx, 57                 ; then FS without LS to the end and round again
        add edi, 112
.nols:  DESC edi, D_OWN | D_FS | 100, 0, FRAME, 0
        add edi, 16
        loop .nols
        W8 0xd9, 0xc1               ; high, normal, software interrupt
        ; Receive descriptors in the sandbox: size 0, a buffer above 4 GiB, a small one.
        DESC CPRX, D_OWN | 0, 0, CPBUF, 0
        DESC CPRX + 16, D_OWN | 0x1fff, 0, 0, 1
        DESC CPRX + 32, D_OWN | D_EOR | 16, 0, CPBUF + 0x2000, 0
        W32 0xe4, CPRX
        mov edi, CPTX
        DESC edi, D_OWN | D_FS | D_LS | 154, 0, FRAME, 0
        DESC edi + 16, D_OWN | D_FS | D_LS | D_EOR | 154, 0, FRAME, 0
        W8 0x37, 0x04               ; transmitter restarts at descriptor 0
        W8 0x37, 0x0c
        W8 0xd9, 0x40
        ; A tally dump past RAM, then one above 4 GiB.
        W32 0x14, 0
        W32 0x10, 0xffffffc8
        W32 0x14, 0xffffffff
        W32 0x10, 0x08
        call show_status

        ; ---- random writes, bus mastering off ----
.random:
        PUTS32 "random register writes", 10
        call chip_reset
        mov eax, 0x04
        mov ecx, 0x0003             ; I/O and memory, no bus mastering: no DMA at all
        call cfg_write
        mov ecx, 30000
.rnd:   push ecx
        call rand
        mov esi, eax
        call rand
        mov ebx, esi
        and ebx, 0xff               ; register offset
        mov ecx, esi
        shr ecx, 8
        and ecx, 3                  ; 0 byte, 1 word, 2-3 dword
        test esi, 0x400
        jnz .io
        cmp ecx, 0
        jne .mw
        mov [MMBASE + ebx], al
        jmp .next
.mw:    cmp ecx, 1
        jne .md
        mov [MMBASE + ebx], ax
        jmp .next
.md:    and ebx, 0xfc
        mov [MMBASE + ebx], eax
        jmp .next
.io:    lea edx, [ebx + IOBASE]
        cmp ecx, 0
        jne .iw
        out dx, al
        in al, dx
        jmp .next
.iw:    cmp ecx, 1
        jne .id
        out dx, ax
        in ax, dx
        jmp .next
.id:    out dx, eax
        in eax, dx
.next:  pop ecx
        dec ecx
        jnz .rnd
        ; Reset before bus mastering comes back, so nothing random is left to DMA.
        call chip_reset
        call bus_master_on
        PUTS32 "rtl8139 hostile done", 10
        EXIT 0

; show_status: prints ISR and PCI status (a master abort sets bit 13), then clears both.
show_status:
        push eax
        PUTS32 "  ISR "
        movzx eax, word [MMBASE + 0x3e]
        call print32_hex16
        mov [MMBASE + 0x3e], ax
        PUTS32 ", PCI status "
        mov eax, 0x04
        call cfg_read
        shr eax, 16
        call print32_hex16
        call print32_nl
        push ecx
        shl eax, 16
        or eax, 0x0007
        mov ecx, eax
        mov eax, 0x04
        call cfg_write              ; write-1-to-clear the status bits
        pop ecx
        pop eax
        ret

; cfg_read: EAX = register -> EAX = the card's configuration dword.
cfg_read:
        push edx
        or eax, [DEVADDR]
        mov dx, 0xcf8
        out dx, eax
        mov dx, 0xcfc
        in eax, dx
        pop edx
        ret

; cfg_write: EAX = register, ECX = value.
cfg_write:
        push edx
        push eax
        or eax, [DEVADDR]
        mov dx, 0xcf8
        out dx, eax
        mov eax, ecx
        mov dx, 0xcfc
        out dx, eax
        pop eax
        pop edx
        ret

bus_master_on:
        push eax
        push ecx
        mov eax, 0x04
        mov ecx, 0x0007             ; I/O, memory, bus master
        call cfg_write
        pop ecx
        pop eax
        ret

; chip_reset: CR.RST, then up to 1000 reads for it to clear, as 8139too waits.
chip_reset:
        push ecx
        W8 0x37, 0x10
        mov ecx, 1000
.wait:  test byte [MMBASE + 0x37], 0x10
        jz .done
        loop .wait
        PUTS32 "reset did not finish", 10
.done:  pop ecx
        ret

; rand: xorshift32 of [SEED] -> EAX. Clobbers EDX.
rand:
        mov eax, [SEED]
        mov edx, eax
        shl edx, 13
        xor eax, edx
        mov edx, eax
        shr edx, 17
        xor eax, edx
        mov edx, eax
        shl edx, 5
        xor eax, edx
        mov [SEED], eax
        ret

; make_frames: a broadcast TCP/IPv4 frame at FRAME, the same with IP total length 0xFFFF
; and a 60-byte TCP header at FRAME2, and with IHL 15 at FRAME3.
make_frames:
        mov esi, ROM_BASE + tcp_frame
        mov edi, FRAME
        mov ecx, tcp_frame_end - tcp_frame
        rep movsb
        mov esi, FRAME
        mov edi, FRAME2
        mov ecx, tcp_frame_end - tcp_frame
        rep movsb
        mov word [FRAME2 + 16], 0xffff
        mov byte [FRAME2 + 46], 0xf0
        mov esi, FRAME
        mov edi, FRAME3
        mov ecx, tcp_frame_end - tcp_frame
        rep movsb
        mov byte [FRAME3 + 14], 0x4f
        ret

tcp_frame:
        db 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00
        db 0x45, 0, 0, 140, 0x12, 0x34, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2
        db 0x9c, 0x40, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0x72, 0x10, 0, 0, 0, 0
        times 100 db 0x5a
tcp_frame_end:

        ROM_END
