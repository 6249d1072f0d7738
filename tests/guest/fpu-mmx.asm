; MMX instructions (Intel SDM Vol. 1 chapter 9, Vol. 2 instruction pages): wrapping,
; signed and unsigned saturating arithmetic, multiplies, compares, packs with saturation,
; unpacks, logic and shifts (counts beyond the element size), MOVD zero extension, and
; the x87 aliasing: after an MMX instruction every tag is valid and TOP is 0, so an x87
; push without EMMS overflows the stack; after EMMS it does not. Each case prints the
; status word and the 64-bit result in hexadecimal.
;
; QEMU 7.2 agrees on every MMX result but leaves the exponent of an MMX-written register
; alone and does not see the stack overflow of an x87 push after MMX without EMMS (the
; hardware sets the exponent to all ones, SDM Vol. 1 9.5.1, and all tags are valid). So
; the last two cases of fpu-mmx.expected are written by hand; the whole file is checked
; against the host's x87/MMX (the same sequences in a 32-bit Linux process). Do not
; re-record it with record.sh.
%include "rom.inc"
%include "system.inc"

SAVE_AREA       equ FREE_BASE + 0x100
MEM             equ FREE_BASE + 0x300

%macro T 1
        PUTS32 %1
        call print32_nl
        fninit
%endmacro

; M64: prints the status word and the qword at MEM.
%macro M64 0
        fnstsw ax
        movzx eax, ax
        PUTS32 "    sw "
        call print32_hex16
        PUTS32 " m "
        mov eax, [MEM + 4]
        call print32_hex32
        mov eax, [MEM]
        call print32_hex32
        call print32_nl
%endmacro

; OP2 insn: mm0 = A, mm1 = B, insn mm0, mm1, store mm0.
%macro OP2 1
        movq mm0, [cs:val_a]
        movq mm1, [cs:val_b]
        %1 mm0, mm1
        movq [MEM], mm0
%endmacro

test_main:
        ENTER_PM32 pm
        bits 32
pm:     call install_exc_reporters
        mov eax, cr0
        and eax, ~0xc
        or eax, 0x22
        mov cr0, eax

        T "paddb"
        OP2 paddb
        M64
        T "paddw"
        OP2 paddw
        M64
        T "paddd"
        OP2 paddd
        M64
        T "paddsb"
        OP2 paddsb
        M64
        T "paddsw"
        OP2 paddsw
        M64
        T "paddusb"
        OP2 paddusb
        M64
        T "paddusw"
        OP2 paddusw
        M64
        T "psubb"
        OP2 psubb
        M64
        T "psubsw"
        OP2 psubsw
        M64
        T "psubusb"
        OP2 psubusb
        M64
        T "psubusw"
        OP2 psubusw
        M64
        T "pmullw"
        OP2 pmullw
        M64
        T "pmulhw"
        OP2 pmulhw
        M64
        T "pmaddwd"
        OP2 pmaddwd
        M64
        T "pcmpeqb"
        OP2 pcmpeqb
        M64
        T "pcmpgtw"
        OP2 pcmpgtw
        M64
        T "pcmpgtd"
        OP2 pcmpgtd
        M64
        T "packsswb"
        OP2 packsswb
        M64
        T "packuswb"
        OP2 packuswb
        M64
        T "packssdw"
        OP2 packssdw
        M64
        T "punpcklbw"
        OP2 punpcklbw
        M64
        T "punpckhwd"
        OP2 punpckhwd
        M64
        T "punpckhdq"
        OP2 punpckhdq
        M64
        T "pandn"
        OP2 pandn
        M64
        T "pxor"
        OP2 pxor
        M64
        T "psllw by 3"
        movq mm0, [cs:val_a]
        psllw mm0, 3
        movq [MEM], mm0
        M64
        T "psraw by 17 (all sign)"
        movq mm0, [cs:val_a]
        movq mm1, [cs:count17]
        psraw mm0, mm1
        movq [MEM], mm0
        M64
        T "psrld by 33 (zero)"
        movq mm0, [cs:val_a]
        psrld mm0, 33
        movq [MEM], mm0
        M64
        T "psrlq by 4 from memory"
        movq mm0, [cs:val_a]
        psrlq mm0, [cs:count4]
        movq [MEM], mm0
        M64
        T "movd mm, r32 zero-extends; movd r32, mm"
        movq mm2, [cs:val_a]
        mov eax, 0x89abcdef
        movd mm2, eax
        movq [MEM], mm2
        movd ebx, mm2
        mov [MEM + 8], ebx
        M64
        T "x87 push after MMX, no EMMS: stack overflow"
        movq mm0, [cs:val_a]
        fld1
        call dump
        T "x87 push after MMX and EMMS"
        movq mm0, [cs:val_a]
        emms
        fld1
        call dump
        PUTS32 "done", 10
        EXIT 0x21

%include "fpu.inc"

val_a:          dq 0x7ffe8001_80ff7f10
val_b:          dq 0x00037ffe_01027f90
count17:        dq 17
count4:         dq 4

        ROM_END
