; cirrus-blt.asm - the Cirrus CL-GD5446 bitblt engine and hardware cursor driven from a
; bare-metal guest (runs as the whole firmware: hangar-run --bios, qemu-system-i386 -bios
; with -vga cirrus). Register use follows the CL-GD5446 Technical Reference Manual's
; "BitBLT Engine" chapter and the way the XFree86 cirrus driver and Linux's cirrusfb
; program it: GR20-GR35 through ports 0x3CE/0x3CF, or their memory-mapped copy at BAR1 +
; 0x100 or in the legacy window at 0xB8000 (SR17 bit 2), start through GR31 bit 1 or the
; autostart bit 7 (the destination address' top byte starts the blit); system-to-screen
; data through the 0xA0000 window, the linear aperture or BAR0's blit aperture (+16 MiB).
;
; The program finds the card with PCI configuration mechanism #1 and places its BARs
; itself (no SeaBIOS). It fills video memory with a known sequence, then runs every case
; of the table `cases` (one record each, found by the C test tests/cirrus/
; test-cirrus-guest.c through the signature before it): before each case it refills the
; work window (and for hostile cases the first and last 16 KiB of video memory) from a
; generator seeded by the case number, resets the engine (GR31 bit 2, as drivers do after
; a blit that may have hung it), programs and starts the blit, feeds the CPU data
; of system-to-screen cases, and prints GR31 and the CRC-32 of the windows:
;   "c NNNN ss wwwwwwww"                 (ordinary case: status, CRC of the work window)
;   "c NNNN ss ssssssss wwwwwwww eeeeeeee" (hostile: first 16 KiB, work window, last 16 KiB)
; then the CRC-32 of all 4 MiB ("vram ..."). Last, the hardware cursor: 640x480 modes at
; 16 and 32 bpp, 32x32 and 64x64 patterns, colours in the hidden DAC entries 0 and 15 (read back
; on a "hidden dac" line), and a line "cursor ..." after each state; the C test looks at
; the display at each of those lines.
; Pseudo-random data: x = x * 1664525 + 1013904223 (mod 2^32), one dword per step.

%include "rom.inc"

VRAM_SIZE       equ 0x400000
LFB             equ 0xE0000000          ; BAR0: video memory at 0, blit aperture at +16 MiB
APERTURE        equ LFB + 0x1000000
MMIO            equ 0xE2000000          ; BAR1: VGA ports at 0, blitter registers at 0x100
WIN_W           equ 0x100000            ; the work window (video memory offset)
WIN_LEN         equ 0x4000
WIN_E           equ VRAM_SIZE - WIN_LEN
CRC_TABLE       equ FREE_BASE           ; 1 KiB
LCG_STATE       equ FREE_BASE + 0x400

SEED_VRAM       equ 0x12345678
SEED_FILL       equ 0x5eed0000          ; + case number
SEED_FEED       equ 0xda7a0000          ; + case number
SEED_CURSOR32   equ 0xc0c0c0c0
SEED_CURSOR64   equ 0xc0c0c0c1

; Record fields (40 bytes a case).
C_DST           equ 0
C_SRC           equ 4
C_W             equ 8                   ; bytes per line (the register holds w - 1)
C_H             equ 10                  ; lines (the register holds h - 1)
C_DPITCH        equ 12
C_SPITCH        equ 14
C_FG            equ 16
C_BG            equ 20
C_MODE          equ 24                  ; GR30
C_MODEEXT       equ 25                  ; GR33
C_ROP           equ 26                  ; GR32
C_SKIP          equ 27                  ; GR2F
C_TCOLOR        equ 28                  ; GR34/GR35
C_PATH          equ 30                  ; bits 0-1 registers: 0 ports, 1 BAR1, 2 0xB8000,
                                        ; 3 the last 256 bytes of BAR0's video memory (SR17
                                        ; bits 2 and 6); bit 2 autostart; bits 4-5 CPU data:
                                        ; 0 0xA0000,
                                        ; 1 BAR0 + 16 MiB, 2 BAR0
C_FLAGS         equ 31                  ; bit 0 hostile; bit 1 low-entropy work window
C_FEED          equ 32                  ; dwords the CPU writes (system-to-screen)
C_SIZE          equ 40

P_GR            equ 0x00
P_BAR1          equ 0x01
P_B8000         equ 0x02
P_LFBEND        equ 0x03
P_AUTO          equ 0x04
D_A0000         equ 0x00
D_APERTURE      equ 0x10
D_LFB           equ 0x20
HOSTILE         equ 1
LOWENT          equ 2                   ; the work window ANDed with 0x03030303 after the
                                        ; refill, so that colour keys match often

%macro GRB 2                            ; GRB index, byte source
        mov ah, %2
        mov al, %1
        call gr_out
%endmacro

test_main:
        ENTER_PM32 pm_main
        bits 32
pm_main:
        call install_exc_reporters
        call crc_init
        call find_card

        ; Unlock the extensions, an 8 bpp extended mode (QEMU's blitter and its 0xA0000
        ; data path need one), memory-mapped blitter registers at 0xB8000.
        mov dx, 0x3c4
        mov ax, 0x1206
        call idx_out
        mov ax, 0x1107
        call idx_out
        mov ax, 0x0417
        call idx_out

        ; Known contents everywhere.
        mov dword [LCG_STATE], SEED_VRAM
        mov edi, LFB
        mov ecx, VRAM_SIZE / 4
        call fill

        xor esi, esi                    ; case number
        mov ebp, ROM_BASE + cases
.next:  cmp ebp, ROM_BASE + cases_end
        jae .done
        call run_case
        add ebp, C_SIZE
        inc esi
        jmp .next
.done:
        ; The last case leaves a transfer waiting for data: without a reset, the cursor
        ; patterns written below would feed it.
        GRB 0x31, 0x04
        GRB 0x31, 0x00
        PUTS32 "vram "
        mov edi, LFB
        mov ecx, VRAM_SIZE
        call crc32
        call print32_hex32
        call print32_nl

        call cursor_tests
        PUTS32 "done", 10
        EXIT 0

; ---- one case --------------------------------------------------------------------------

run_case:
        ; Reset the engine first, as drivers do after a blit that may have hung it (a
        ; transfer still waiting for data would take the refill below).
        GRB 0x31, 0x04
        GRB 0x31, 0x00
        ; Refill the windows.
        lea eax, [esi + SEED_FILL]
        mov [LCG_STATE], eax
        mov edi, LFB + WIN_W
        mov ecx, WIN_LEN / 4
        call fill
        test byte [ebp + C_FLAGS], LOWENT
        jz .full
        mov edi, LFB + WIN_W
        mov ecx, WIN_LEN / 4
.mask:  and dword [edi], 0x03030303
        add edi, 4
        dec ecx
        jnz .mask
.full:  test byte [ebp + C_FLAGS], HOSTILE
        jz .filled
        mov edi, LFB
        mov ecx, WIN_LEN / 4
        call fill
        mov edi, LFB + WIN_E
        mov ecx, WIN_LEN / 4
        call fill
.filled:
        mov al, [ebp + C_PATH]
        and al, 3
        cmp al, P_GR
        je .gr
        mov edi, MMIO + 0x100
        cmp al, P_BAR1
        je .mmio
        mov edi, 0xb8000
        cmp al, P_B8000
        je .mmio
        mov dx, 0x3c4                   ; registers at the end of the linear aperture
        mov ax, 0x4417
        call idx_out
        mov edi, LFB + VRAM_SIZE - 0x100
.mmio:  call program_mmio
        jmp .fed
.gr:    call program_gr
.fed:
        test byte [ebp + C_MODE], 0x04
        jz .sr17
        call feed
.sr17:  mov dx, 0x3c4                   ; back to 0xB8000
        mov ax, 0x0417
        call idx_out
.report:
        PUTS32 "c "
        mov eax, esi
        call print32_hex16
        mov al, ' '
        out 0xe9, al
        mov dx, 0x3ce
        mov al, 0x31
        out dx, al
        inc dx
        in al, dx
        call print32_hex8
        test byte [ebp + C_FLAGS], HOSTILE
        jz .work
        mov al, ' '
        out 0xe9, al
        mov edi, LFB
        mov ecx, WIN_LEN
        call crc32
        call print32_hex32
.work:  mov al, ' '
        out 0xe9, al
        mov edi, LFB + WIN_W
        mov ecx, WIN_LEN
        call crc32
        call print32_hex32
        test byte [ebp + C_FLAGS], HOSTILE
        jz .eol
        mov al, ' '
        out 0xe9, al
        mov edi, LFB + WIN_E
        mov ecx, WIN_LEN
        call crc32
        call print32_hex32
.eol:   call print32_nl
        ret

; GR index AL, value AH through ports 0x3CE/0x3CF.
gr_out:
        push edx
        mov dx, 0x3ce
        call idx_out
        pop edx
        ret

; Index AL, value AH to the index/data pair at DX, DX + 1.
idx_out:
        push edx
        out dx, al
        inc dx
        mov al, ah
        out dx, al
        pop edx
        ret

; Every blitter register through the GR ports, then GR31 bit 1 (start).
program_gr:
        mov ebx, [ebp + C_BG]
        GRB 0x00, bl
        GRB 0x10, bh
        shr ebx, 16
        GRB 0x12, bl
        GRB 0x14, bh
        mov ebx, [ebp + C_FG]
        GRB 0x01, bl
        GRB 0x11, bh
        shr ebx, 16
        GRB 0x13, bl
        GRB 0x15, bh
        mov bx, [ebp + C_W]
        dec bx
        GRB 0x20, bl
        GRB 0x21, bh
        mov bx, [ebp + C_H]
        dec bx
        GRB 0x22, bl
        GRB 0x23, bh
        mov bx, [ebp + C_DPITCH]
        GRB 0x24, bl
        GRB 0x25, bh
        mov bx, [ebp + C_SPITCH]
        GRB 0x26, bl
        GRB 0x27, bh
        mov ebx, [ebp + C_SRC]
        GRB 0x2c, bl
        GRB 0x2d, bh
        shr ebx, 16
        GRB 0x2e, bl
        GRB 0x2f, [ebp + C_SKIP]
        GRB 0x30, [ebp + C_MODE]
        GRB 0x32, [ebp + C_ROP]
        GRB 0x33, [ebp + C_MODEEXT]
        GRB 0x34, [ebp + C_TCOLOR]
        GRB 0x35, [ebp + C_TCOLOR + 1]
        mov ebx, [ebp + C_DST]
        GRB 0x28, bl
        GRB 0x29, bh
        shr ebx, 16
        GRB 0x2a, bl
        GRB 0x31, 0x02                  ; start
        ret

; MMIO register, case field, offset: copies the field (register's width) to EDI + offset.
%macro MMIO_SET 3
        mov %1, [ebp + %2]
        mov [edi + %3], %1
%endmacro

; The memory-mapped registers at EDI (QEMU's and the XFree86 driver's layout).
program_mmio:
        MMIO_SET eax, C_BG, 0x00
        MMIO_SET eax, C_FG, 0x04
        mov ax, [ebp + C_W]
        dec ax
        mov [edi + 0x08], ax
        mov ax, [ebp + C_H]
        dec ax
        mov [edi + 0x0a], ax
        MMIO_SET ax, C_DPITCH, 0x0c
        MMIO_SET ax, C_SPITCH, 0x0e
        mov eax, [ebp + C_SRC]
        mov [edi + 0x14], ax
        shr eax, 16
        mov [edi + 0x16], al
        MMIO_SET al, C_SKIP, 0x17
        MMIO_SET al, C_MODE, 0x18
        MMIO_SET al, C_ROP, 0x1a
        MMIO_SET al, C_MODEEXT, 0x1b
        MMIO_SET ax, C_TCOLOR, 0x1c
        test byte [ebp + C_PATH], P_AUTO
        jz .start
        ; Autostart: writing the destination's top byte starts the blit.
        mov byte [edi + 0x40], 0x80
        mov eax, [ebp + C_DST]
        mov [edi + 0x10], eax
        mov byte [edi + 0x40], 0x00
        ret
.start: mov eax, [ebp + C_DST]
        mov [edi + 0x10], eax
        mov byte [edi + 0x40], 0x02
        ret

; The CPU's data of a system-to-screen blit: C_FEED dwords from the generator seeded by
; the case number, through the path C_PATH bits 4-5 choose.
feed:
        lea eax, [esi + SEED_FEED]
        mov [LCG_STATE], eax
        mov ecx, [ebp + C_FEED]
        xor ebx, ebx
        mov dl, [ebp + C_PATH]
        and dl, 0x30
.loop:  test ecx, ecx
        jz .done
        call lcg
        cmp dl, D_APERTURE
        je .ap
        cmp dl, D_LFB
        je .lfb
        mov edi, ebx
        and edi, 0x7ffc
        mov [0xa0000 + edi], eax
        jmp .step
.ap:    mov edi, ebx
        and edi, 0xffc
        mov [APERTURE + edi], eax
        jmp .step
.lfb:   mov edi, ebx
        and edi, 0xffc
        mov [LFB + edi], eax
.step:  add ebx, 4
        dec ecx
        jmp .loop
.done:  ret

; ---- helpers ---------------------------------------------------------------------------

; EAX = next value of the generator.
lcg:
        mov eax, [LCG_STATE]
        imul eax, eax, 1664525
        add eax, 1013904223
        mov [LCG_STATE], eax
        ret

; ECX dwords from the generator to EDI.
fill:
        call lcg
        mov [edi], eax
        add edi, 4
        dec ecx
        jnz fill
        ret

crc_init:
        xor ecx, ecx
.entry: mov eax, ecx
        mov edx, 8
.bit:   shr eax, 1
        jnc .nox
        xor eax, 0xedb88320
.nox:   dec edx
        jnz .bit
        mov [CRC_TABLE + ecx * 4], eax
        inc ecx
        cmp ecx, 256
        jb .entry
        ret

; EAX = CRC-32 (the zlib/PNG one) of ECX bytes at EDI.
crc32:
        push edx
        mov eax, -1
.loop:  movzx edx, byte [edi]
        xor dl, al
        shr eax, 8
        xor eax, [CRC_TABLE + edx * 4]
        inc edi
        dec ecx
        jnz .loop
        not eax
        pop edx
        ret

; PCI configuration mechanism #1: the first function 1013:00B8 on bus 0 gets BAR0 = LFB,
; BAR1 = MMIO, memory and I/O decoding on.
find_card:
        mov ebx, 0x80000000
.dev:   mov eax, ebx
        mov dx, 0xcf8
        out dx, eax
        mov dx, 0xcfc
        in eax, dx
        cmp eax, 0x00b81013
        je .found
        add ebx, 0x800
        cmp ebx, 0x80010000
        jb .dev
        PUTS32 "no CL-GD5446", 10
        EXIT 2
.found: PUTS32 "cirrus at devfn "
        mov eax, ebx
        shr eax, 8
        call print32_hex8
        call print32_nl
        lea eax, [ebx + 0x10]
        mov ecx, LFB | 8                ; prefetchable
        call cfg_write
        lea eax, [ebx + 0x14]
        mov ecx, MMIO
        call cfg_write
        lea eax, [ebx + 0x04]
        mov ecx, 0x0003
        call cfg_write
        ret

cfg_write:
        mov dx, 0xcf8
        out dx, eax
        mov dx, 0xcfc
        mov eax, ecx
        out dx, eax
        ret

; ---- hardware cursor -------------------------------------------------------------------

%macro SEQ 2                            ; SEQ index, value
        mov dx, 0x3c4
        mov ax, (%2) << 8 | (%1)
        call idx_out
%endmacro
%macro CRTC 2
        mov dx, 0x3d4
        mov ax, (%2) << 8 | (%1)
        call idx_out
%endmacro
%macro GR 2
        mov dx, 0x3ce
        mov ax, (%2) << 8 | (%1)
        call idx_out
%endmacro
; Cursor position: the low three bits of x/y go in the index register's bits 5-7.
%macro CURSOR_AT 2
        SEQ 0x10 | (((%1) & 7) << 5), (%1) >> 3
        SEQ 0x11 | (((%2) & 7) << 5), (%2) >> 3
%endmacro
; DAC entry (through the hidden palette while SR12 bit 1 is set): index, r, g, b.
%macro DAC 4
        mov dx, 0x3c8
        mov al, %1
        out dx, al
        inc dx
        mov al, %2
        out dx, al
        mov al, %3
        out dx, al
        mov al, %4
        out dx, al
%endmacro

cursor_tests:
        ; 640x480 at 16 bpp (5-6-5) with a pitch of 1280, as Linux's cirrus-qemu driver
        ; programs it; the picture is what the blits left at the start of video memory.
        CRTC 0x11, 0x20
        CRTC 0x01, 640 / 8 - 1
        CRTC 0x12, (480 - 1) & 0xff
        CRTC 0x07, 0x02
        CRTC 0x13, 1280 / 8
        CRTC 0x1b, 0x22
        CRTC 0x0c, 0
        CRTC 0x0d, 0
        CRTC 0x1d, 0
        SEQ 0x07, 0x17
        mov dx, 0x3c6                   ; hidden DAC: four reads, then the write
        in al, dx
        in al, dx
        in al, dx
        in al, dx
        mov al, 0xc1
        out dx, al
        GR 0x05, 0x40
        GR 0x06, 0x01
        mov dx, 0x3da
        in al, dx
        mov dx, 0x3c0
        mov al, 0x20
        out dx, al

        ; Patterns in the last 16 KiB: 32x32 number 5, 64x64 number 2 (SR13 bits 2-5).
        mov dword [LCG_STATE], SEED_CURSOR32
        mov edi, LFB + VRAM_SIZE - 0x4000 + 5 * 256
        mov ecx, 256 / 4
        call fill
        mov dword [LCG_STATE], SEED_CURSOR64
        mov edi, LFB + VRAM_SIZE - 0x4000 + 8 * 256
        mov ecx, 1024 / 4
        call fill

        SEQ 0x12, 0x02                  ; hidden DAC entries for the cursor colours
        DAC 0x00, 63, 20, 5
        DAC 0x0f, 3, 40, 60
        ; Read back: the hidden entries, then (SR12 bit 1 clear) the ordinary entry 0.
        PUTS32 "hidden dac"
        mov bl, 0x00
        call dac_show
        mov bl, 0x0f
        call dac_show
        SEQ 0x12, 0x00
        PUTS32 " dac"
        mov bl, 0x00
        call dac_show
        call print32_nl
        SEQ 0x13, 5
        CURSOR_AT 100, 50
        SEQ 0x12, 0x01
        PUTS32 "cursor 32 100 50", 10

        SEQ 0x13, 8
        SEQ 0x12, 0x05
        CURSOR_AT 601, 445              ; partly past the right and bottom edges
        PUTS32 "cursor 64 601 445", 10

        SEQ 0x12, 0x07
        DAC 0x00, 0, 0, 63
        DAC 0x0f, 63, 63, 0
        SEQ 0x12, 0x05
        CURSOR_AT 7, 3
        PUTS32 "cursor 64 7 3 recoloured", 10

        ; The same over a 32 bpp picture (pitch 2560: CR13 = 0x40 and CR1B bit 4), the
        ; 32x32 cursor at the left edge.
        CRTC 0x13, 0x40
        CRTC 0x1b, 0x32
        SEQ 0x07, 0x19
        mov dx, 0x3c6
        in al, dx
        in al, dx
        in al, dx
        in al, dx
        mov al, 0xc5
        out dx, al
        SEQ 0x13, 5
        SEQ 0x12, 0x01
        CURSOR_AT 0, 470
        PUTS32 "cursor 32 0 470 at 32 bpp", 10

        SEQ 0x12, 0x00
        PUTS32 "cursor off", 10
        ret

; Prints " rrggbb" (6-bit components) of DAC entry BL.
dac_show:
        mov dx, 0x3c7
        mov al, bl
        out dx, al
        mov al, ' '
        out 0xe9, al
        mov dx, 0x3c9
        mov ecx, 3
.comp:  in al, dx
        call print32_hex8
        loop .comp
        ret

        bits 16

; ---- the cases -------------------------------------------------------------------------

; CASE dst, src, w, h, dpitch, spitch, fg, bg, mode, modeext, rop, skip, tcolor, path,
;      flags, feed
%macro CASE 16
        dd %1, %2
        dw %3, %4, %5, %6
        dd %7, %8
        db %9, %10, %11, %12
        dw %13
        db %14, %15
        dd %16, 0
%endmacro

W               equ WIN_W
FG              equ 0x89abcdef
BG              equ 0x13579bdf

; Dwords the CPU sends: copies send each line rounded up to a dword; colour expansion
; one bit a pixel, each line rounded to a byte (to a dword with GR33 bit 0); patterns
; 8 bytes (monochrome) or 8 lines of 8 pixels (24 bpp lines are 32 bytes).
%define FEED_COPY(w, h)         ((((w) + 3) & ~3) * (h) / 4)
%define FEED_EXP(npix, h)       (((((npix) + 7) / 8) * (h) + 3) / 4)
%define FEED_EXPD(npix, h)      ((((((npix) + 7) / 8) + 3) & ~3) * (h) / 4)

; Every raster operation through every kind of blit.
%macro ROP_CASES 1
        ; forward copy, 8 bpp, ports
        CASE W + 0x0808, W + 0x2005, 40, 6, 128, 96, FG, BG, 0x00, 0, %1, 0, 0, P_GR, 0, 0
        ; backward copy, overlapping (a scroll down-right), BAR1
        CASE W + 0x1000 + 5 * 128 + 47, W + 0x1000 + 4 * 128 + 44, 48, 6, 128, 128, FG, BG, \
             0x01, 0, %1, 0, 0, P_BAR1, 0, 0
        ; colour expansion from video memory, 16 bpp, 0xB8000
        CASE W + 0x0400, W + 0x2800, 2 * 37, 5, 160, 74, FG, BG, 0x90, 0, %1, 0, 0, \
             P_B8000, 0, 0
        ; 8x8 colour pattern, 32 bpp, ports
        CASE W + 0x0c00, W + 0x3000, 4 * 20, 10, 128, 0, FG, BG, 0x70, 0, %1, 0, 0, P_GR, 0, 0
        ; 8x8 monochrome pattern, 8 bpp, BAR1 with autostart
        CASE W + 0x1800, W + 0x3100, 30, 9, 64, 0, FG, BG, 0xc0, 0, %1, 0, 0, \
             P_BAR1 | P_AUTO, 0, 0
        ; system-to-screen copy, 8 bpp, data through 0xA0000
        CASE W + 0x2c00, 0, 24, 4, 100, 0, FG, BG, 0x04, 0, %1, 0, 0, P_GR | D_A0000, 0, \
             FEED_COPY(24, 4)
        ; solid fill, 24 bpp, 0xB8000
        CASE W + 0x3400, 0, 3 * 17, 3, 80, 0, FG, BG, 0xe0, 0x04, %1, 0, 0, P_B8000, 0, 0
%endmacro

; Every kind of blit at one pixel width (%1 = 0 for 8 bpp ... 3 for 32 bpp), source ROP.
%macro BPP_CASES 1
%assign bpp %1 + 1
%assign md %1 << 4
%if bpp == 3
%assign sk 0                            ; GR2F counts bytes at 24 bpp: see the end
%else
%assign sk 3
%endif
        ; colour expansion from video memory: opaque, transparent, with GR33 bit 1 opaque
        ; (no effect) and transparent (the 1 bits left out)
        CASE W + 0x0100, W + 0x2000, bpp * 45, 7, 256, bpp * 45, FG, BG, 0x80 | md, 0, \
             0x0d, sk, 0, P_GR, 0, 0
        CASE W + 0x0100, W + 0x2000, bpp * 45, 7, 256, bpp * 45, FG, BG, 0x88 | md, 0, \
             0x0d, sk, 0, P_BAR1, 0, 0
        CASE W + 0x0100, W + 0x2000, bpp * 45, 7, 256, bpp * 45, FG, BG, 0x80 | md, 2, \
             0x0d, 0, 0, P_B8000, 0, 0
        CASE W + 0x0100, W + 0x2000, bpp * 45, 7, 256, bpp * 45, FG, BG, 0x88 | md, 2, \
             0x0d, 0, 0, P_GR, 0, 0
        ; monochrome pattern: opaque, transparent
        CASE W + 0x0100, W + 0x2000, bpp * 50, 11, 256, 0, FG, BG, 0xc0 | md, 0, 0x0d, sk, \
             0, P_BAR1, 0, 0
        CASE W + 0x0100, W + 0x2000, bpp * 50, 11, 256, 0, FG, BG, 0xc8 | md, 0, 0x0d, 0, \
             0, P_GR, 0, 0
        ; colour pattern; then from a source address with low bits set (not looked at)
        CASE W + 0x0100, W + 0x2000, bpp * 50, 11, 256, 0, FG, BG, 0x40 | md, 0, 0x0d, sk, \
             0, P_B8000, 0, 0
        CASE W + 0x0100, W + 0x2003, bpp * 50, 11, 256, 0, FG, BG, 0x40 | md, 0, 0x0d, 0, \
             0, P_GR, 0, 0
        ; solid fill
        CASE W + 0x0100, 0, bpp * 50, 11, 256, 0, FG, BG, 0xc0 | md, 4, 0x0d, 0, 0, \
             P_BAR1, 0, 0
        ; system-to-screen colour expansion (text), byte and dword granularity
        CASE W + 0x0100, 0, bpp * 30, 12, 256, 0, FG, BG, 0x84 | md, 0, 0x0d, sk, 0, \
             P_GR | D_APERTURE, 0, FEED_EXP(30, 12)
        CASE W + 0x0100, 0, bpp * 20, 12, 256, 0, FG, BG, 0x8c | md, 1, 0x0d, 0, 0, \
             P_BAR1 | D_APERTURE, 0, FEED_EXPD(20, 12)
        ; system-to-screen patterns: monochrome, colour
        CASE W + 0x0100, 0, bpp * 40, 10, 256, 0, FG, BG, 0xc4 | md, 0, 0x0d, 0, 0, \
             P_B8000 | D_LFB, 0, 2
%if bpp == 3
        CASE W + 0x0100, 0, bpp * 40, 10, 256, 0, FG, BG, 0x44 | md, 0, 0x0d, 0, 0, \
             P_GR | D_APERTURE, 0, 64
%else
        CASE W + 0x0100, 0, bpp * 40, 10, 256, 0, FG, BG, 0x44 | md, 0, 0x0d, 0, 0, \
             P_GR | D_APERTURE, 0, 16 * bpp
%endif
        ; system-to-screen copy
        CASE W + 0x0100, 0, bpp * 24, 5, 256, 0, FG, BG, 0x04 | md, 0, 0x0d, 0, 0, \
             P_BAR1 | D_LFB, 0, FEED_COPY(bpp * 24, 5)
%if bpp <= 2
        ; colour-key transparency (8 and 16 bpp) over a work window of bytes 0-3, key
        ; 0x0101 (8 bpp: 0x01): forward, backward, system to screen
        CASE W + 0x0100, W + 0x2000, bpp * 60, 8, 256, 200, FG, BG, 0x08 | md, 0, 0x0d, \
             0, 0x0101, P_GR, LOWENT, 0
        CASE W + 0x0100 + 7 * 256 + bpp * 60 - 1, W + 0x2000 + 7 * 200 + bpp * 60 - 1, \
             bpp * 60, 8, 256, 200, FG, BG, 0x09 | md, 0, 0x0d, 0, 0x0101, P_BAR1, LOWENT, 0
        CASE W + 0x0100, 0, bpp * 24, 5, 256, 0, FG, BG, 0x0c | md, 0, 0x0d, 0, 0x0101, \
             P_B8000 | D_APERTURE, LOWENT, FEED_COPY(bpp * 24, 5)
%endif
%endmacro

        align 16
        db "CIRRUS-BLT-CASES"
        dd C_SIZE, (cases_end - cases) / C_SIZE
cases:
        ROP_CASES 0x00
        ROP_CASES 0x05
        ROP_CASES 0x06
        ROP_CASES 0x09
        ROP_CASES 0x0b
        ROP_CASES 0x0d
        ROP_CASES 0x0e
        ROP_CASES 0x50
        ROP_CASES 0x59
        ROP_CASES 0x6d
        ROP_CASES 0x90
        ROP_CASES 0x95
        ROP_CASES 0xad
        ROP_CASES 0xd0
        ROP_CASES 0xd6
        ROP_CASES 0xda
        BPP_CASES 0
        BPP_CASES 1
        BPP_CASES 2
        BPP_CASES 3

        ; Hostile parameters: each must be refused whole (nothing changes anywhere) or,
        ; where it fits exactly, done; the first and last 16 KiB are checked as well.
        ; destination past the end
        CASE VRAM_SIZE - 100, W, 200, 1, 256, 256, FG, BG, 0x00, 0, 0x0d, 0, 0, P_GR, HOSTILE, 0
        CASE VRAM_SIZE - 1, W, 2, 1, 1, 1, FG, BG, 0x00, 0, 0x0d, 0, 0, P_BAR1, HOSTILE, 0
        ; ... exactly at the end: done
        CASE VRAM_SIZE - 1, W + 17, 1, 1, 1, 1, FG, BG, 0x00, 0, 0x6d, 0, 0, P_B8000, \
             HOSTILE, 0
        CASE VRAM_SIZE - 3 * 1000 - 100, W, 100, 4, 1000, 1000, FG, BG, 0x00, 0, 0x59, 0, 0, \
             P_GR, HOSTILE, 0
        ; the largest height and pitch, from near the start
        CASE 0x100, W, 64, 2048, 8191, 8191, FG, BG, 0x00, 0, 0x0d, 0, 0, P_BAR1, HOSTILE, 0
        CASE 0, 0, 8192, 2048, 8191, 0, FG, BG, 0xf0, 4, 0x0d, 0, 0, P_GR, HOSTILE, 0
        ; backward below address 0: destination, then source
        CASE 100, W + 0x1000, 200, 1, 256, 256, FG, BG, 0x01, 0, 0x0d, 0, 0, P_GR, HOSTILE, 0
        CASE W + 0x1000, 50, 100, 1, 256, 256, FG, BG, 0x01, 0, 0x0d, 0, 0, P_BAR1, HOSTILE, 0
        CASE 0x3000, W + 0x3000, 16, 3, 8191, 8191, FG, BG, 0x01, 0, 0x0d, 0, 0, P_B8000, \
             HOSTILE, 0
        ; source past the end: copy, colour expansion; a 32 bpp colour pattern named by an
        ; address 8 bytes before the end (its 256-byte boundary is taken: done)
        CASE W, VRAM_SIZE - 50, 100, 1, 256, 256, FG, BG, 0x00, 0, 0x0d, 0, 0, P_GR, HOSTILE, 0
        CASE W, VRAM_SIZE - 20, 800, 10, 800, 100, FG, BG, 0x80, 0, 0x0d, 0, 0, P_BAR1, \
             HOSTILE, 0
        CASE W, VRAM_SIZE - 8, 64, 4, 64, 0, FG, BG, 0x70, 0, 0x0d, 0, 0, P_B8000, HOSTILE, 0
        ; system to screen past the end, the CPU sending far more than any blit takes
        CASE VRAM_SIZE - 64, 0, 64, 4, 640, 0, FG, BG, 0x04, 0, 0x0d, 0, 0, \
             P_GR | D_APERTURE, HOSTILE, 0x4000
        ; a good system-to-screen blit followed by 64 KiB more data than it takes
        CASE W + 0x40, 0, 32, 4, 64, 0, FG, BG, 0x04, 0, 0x0d, 0, 0, P_BAR1 | D_APERTURE, \
             HOSTILE, FEED_COPY(32, 4) + 0x4000
        ; the whole width in one line at the very end
        CASE VRAM_SIZE - 8192, W, 8192, 1, 256, 256, FG, BG, 0x00, 0, 0x0d, 0, 0, P_GR, HOSTILE, 0
        ; the widest lines: 8 KiB lines from the CPU (4 MiB of data, each line one byte
        ; further on), and a 32 bpp expansion of 2048 pixels a line
        CASE W, 0, 8192, 512, 1, 0, FG, BG, 0x04, 0, 0x59, 0, 0, P_GR | D_APERTURE, HOSTILE, \
             FEED_COPY(8192, 512)
        CASE W, 0, 8192, 16, 256, 0, FG, BG, 0xb4, 0, 0x0d, 0, 0, P_BAR1 | D_APERTURE, \
             HOSTILE, FEED_EXP(2048, 16)
        ; video to system memory: refused
        CASE W, W + 0x2000, 16, 1, 16, 16, FG, BG, 0x02, 0, 0x0d, 0, 0, P_GR, HOSTILE, 0
        ; a system-to-screen blit given half its data: the lines that arrived are drawn,
        ; the engine stays busy until the next case resets it
        CASE W + 0x200, 0, 40, 10, 64, 0, FG, BG, 0x04, 0, 0x0d, 0, 0, P_GR | D_APERTURE, \
             HOSTILE, FEED_COPY(40, 5)
        ; a monochrome pattern whose first line is preset by the source address' low bits
        CASE W + 0x300, W + 0x2005, 64, 12, 64, 0, FG, BG, 0xc0, 0, 0x0d, 0, 0, P_GR, 0, 0
        ; a 16 bpp colour pattern from an address 0x45 past its 128-byte boundary
        CASE W + 0x300, W + 0x2045, 64, 12, 64, 0, FG, BG, 0x50, 0, 0x0d, 0, 0, P_BAR1, 0, 0
        ; the registers at the end of the linear aperture: a copy, a fill, a
        ; system-to-screen expansion
        CASE W + 0x808, W + 0x2000, 100, 20, 128, 128, FG, BG, 0x00, 0, 0x6d, 0, 0, \
             P_LFBEND, 0, 0
        CASE W + 0x100, 0, 4 * 30, 8, 256, 0, FG, BG, 0xf0, 4, 0x59, 0, 0, \
             P_LFBEND | P_AUTO, 0, 0
        CASE W + 0x100, 0, 2 * 30, 12, 256, 0, FG, BG, 0x9c, 0, 0x0d, 2, 0, \
             P_LFBEND | D_LFB, 0, FEED_EXP(30, 12)
        ; 24 bpp: GR2F counts bytes; 6 (two pixels) through transparent expansion, a
        ; transparent monochrome pattern, opaque expansion and a colour pattern, then 7 (a
        ; pixel and a third)
        CASE W + 0x100, W + 0x2000, 3 * 45, 7, 256, 3 * 45, FG, BG, 0xa8, 0, 0x0d, 6, 0, \
             P_GR, 0, 0
        CASE W + 0x100, W + 0x2000, 3 * 50, 11, 256, 0, FG, BG, 0xe8, 0, 0x0d, 6, 0, P_BAR1, \
             0, 0
        CASE W + 0x100, W + 0x2000, 3 * 45, 7, 256, 3 * 45, FG, BG, 0xa0, 0, 0x0d, 6, 0, \
             P_B8000, 0, 0
        CASE W + 0x100, W + 0x2000, 3 * 50, 11, 256, 0, FG, BG, 0x60, 0, 0x0d, 6, 0, P_GR, \
             0, 0
        CASE W + 0x100, W + 0x2000, 3 * 45, 7, 256, 3 * 45, FG, BG, 0xa8, 0, 0x0d, 7, 0, \
             P_BAR1, 0, 0
        ; last a plain copy, so that the final contents compare with QEMU's (new cases go
        ; before it)
        CASE W + 0x808, W + 0x2000, 100, 20, 128, 128, FG, BG, 0x00, 0, 0x0d, 0, 0, P_GR, 0, 0
cases_end:

        ROM_END
