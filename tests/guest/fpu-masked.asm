; Masked responses of the x87 (Intel SDM Vol. 1 4.9.1 and 8.5): with an exception masked
; the instruction completes with the defined default result and only sets the flag.
; Each case prints its name, then the status word, the tag word and ST0, ST1 as FNSAVE
; stores them (exponent:significand in hexadecimal), or the integer/memory result:
; division by zero, invalid operations (real and integer indefinite, SNaN quieting),
; overflow and underflow in every rounding mode, precision control, denormal operands,
; stack overflow and underflow, and conversions to narrower formats.
;
; QEMU 7.2 departs from the hardware here: it never sets C1 when a result was rounded up,
; does not flag #D for denormal operands, and ignores stack overflow and underflow (no
; IE/SF, no indefinite). So fpu-masked.expected is written by hand and checked against
; the host's x87: the same instruction sequences, run in a 32-bit Linux process, give
; every line of it. Do not re-record it with record.sh.
%include "rom.inc"
%include "system.inc"

SAVE_AREA       equ FREE_BASE + 0x100
MEM             equ FREE_BASE + 0x300

; T "name": prints the name and resets the FPU (all exceptions masked).
%macro T 1
        PUTS32 %1
        call print32_nl
        fninit
%endmacro

; CW value: loads a control word.
%macro CW 1
        mov word [MEM + 0x40], %1
        fldcw [MEM + 0x40]
%endmacro

; M32 / M64: prints the dword / qword at MEM.
%macro M32 0
        fnstsw ax
        movzx eax, ax
        PUTS32 "    sw "
        call print32_hex16
        PUTS32 " m "
        mov eax, [MEM]
        call print32_hex32
        call print32_nl
%endmacro
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

%macro M80 0
        fnstsw ax
        movzx eax, ax
        PUTS32 "    sw "
        call print32_hex16
        PUTS32 " m "
        mov ax, [MEM + 8]
        call print32_hex16
        mov eax, [MEM + 4]
        call print32_hex32
        mov eax, [MEM]
        call print32_hex32
        call print32_nl
%endmacro

test_main:
        ENTER_PM32 pm
        bits 32
pm:     call install_exc_reporters
        mov eax, cr0
        and eax, ~0xc
        or eax, 0x22
        mov cr0, eax

        T "1/0"
        fld1
        fldz
        fdivp st1, st0
        call dump
        T "-1/0"
        fld1
        fchs
        fldz
        fdivp st1, st0
        call dump
        T "0/0"
        fldz
        fldz
        fdivp st1, st0
        call dump
        T "sqrt(-1)"
        fld1
        fchs
        fsqrt
        call dump
        T "inf - inf"
        fld tword [cs:inf80]
        fld tword [cs:inf80]
        fsubp st1, st0
        call dump
        T "0 * inf"
        fldz
        fld tword [cs:inf80]
        fmulp st1, st0
        call dump
        T "fld m32 SNaN"
        fld dword [cs:snan32]
        call dump
        T "SNaN + QNaN: the larger significand wins"
        fld dword [cs:qnan32]
        fld dword [cs:snan32]
        faddp st1, st0
        call dump
        T "unsupported format (unnormal) + 1"
        fld1
        fld tword [cs:unnormal80]
        faddp st1, st0
        call dump

        T "overflow, round to nearest"
        fld tword [cs:big80]
        fmul st0, st0
        call dump
        T "overflow, round toward zero"
        CW 0x0f7f
        fld tword [cs:big80]
        fmul st0, st0
        call dump
        T "overflow, round down, negative"
        CW 0x077f
        fld tword [cs:big80]
        fld tword [cs:big80]
        fchs
        fmulp st1, st0
        call dump
        T "overflow, round up, negative"
        CW 0x0b7f
        fld tword [cs:big80]
        fld tword [cs:big80]
        fchs
        fmulp st1, st0
        call dump
        T "PC = 53 keeps the extended exponent range: 2 * DBL_MAX"
        CW 0x027f
        fld tword [cs:dbl_big80]
        fadd st0, st0
        call dump
        T "underflow: inexact denormal result"
        fld tword [cs:tiny_odd80]
        fld tword [cs:half80]
        fmulp st1, st0
        call dump
        T "underflow: exact denormal (no UE when masked)"
        fld tword [cs:tiny80]
        fld tword [cs:quarter80]
        fmulp st1, st0
        call dump
        T "underflow to zero"
        fld tword [cs:tiny80]
        fmul st0, st0
        call dump

        T "1/3 PC 24, nearest"
        CW 0x007f
        fld1
        fld tword [cs:three80]
        fdivp st1, st0
        call dump
        T "1/3 PC 53, up"
        CW 0x0a7f
        fld1
        fld tword [cs:three80]
        fdivp st1, st0
        call dump
        T "2/3 PC 64, down"
        CW 0x077f
        fld tword [cs:two80]
        fld tword [cs:three80]
        fdivp st1, st0
        call dump
        T "2/3 PC 64, nearest (C1: rounded up)"
        fld tword [cs:two80]
        fld tword [cs:three80]
        fdivp st1, st0
        call dump

        T "denormal operand: 1 * m64 denormal"
        fld1
        fmul qword [cs:den64]
        call dump
        T "denormal operand: fld m32 denormal"
        fld dword [cs:den32]
        call dump
        T "pseudo-denormal m80 + 0"
        fldz
        fld tword [cs:pden80]
        faddp st1, st0
        call dump

        T "stack overflow"
        mov ecx, 8
.push:  fldpi
        loop .push
        fld1
        call dump
        T "stack underflow"
        fadd st0, st1
        call dump
        T "stack underflow on fstp m32"
        fstp dword [MEM]
        M32

        T "fst m32: overflow"
        fld tword [cs:big80]
        fst dword [MEM]
        M32
        T "fst m32: denormal result"
        fld tword [cs:f32tiny80]
        fst dword [MEM]
        M32
        T "fst m64: 1/3 rounded up"
        CW 0x0b7f
        fld1
        fld tword [cs:three80]
        fdivp st1, st0
        fst qword [MEM]
        M64
        T "fist m32: 1e10 -> integer indefinite"
        fld tword [cs:e10_80]
        fist dword [MEM]
        M32
        T "fistp m16: -32768.5 nearest"
        fld tword [cs:m32768h]
        mov dword [MEM], 0
        fistp word [MEM]
        M32
        T "fistp m16: 32767.5 nearest -> indefinite"
        fld tword [cs:p32767h]
        mov dword [MEM], 0
        fistp word [MEM]
        M32
        T "fistp m64: NaN -> indefinite"
        fld dword [cs:qnan32]
        fistp qword [MEM]
        M64
        T "fbstp: 1e18 -> BCD indefinite"
        fld tword [cs:e18_80]
        fbstp [MEM]
        M80
        T "fxtract 0"
        fldz
        fxtract
        call dump
        T "fscale 1 by 2^20000"
        fld tword [cs:e20000_80]
        fld1
        fscale
        call dump
        T "frndint 2.5 nearest, 0.5 up"
        fld tword [cs:two80]
        fadd qword [cs:half64]
        frndint
        CW 0x0b7f
        fld qword [cs:half64]
        frndint
        call dump
        PUTS32 "done", 10
        EXIT 0x21

%include "fpu.inc"

inf80:          F80 0x7fff, 0x8000000000000000
big80:          F80 0x7ffe, 0xc000000000000000
dbl_big80:      F80 0x43fe, 0xfffffffffffff800
tiny80:         F80 0x0001, 0xc000000000000000
tiny_odd80:     F80 0x0001, 0xc000000000000001
half80:         F80 0x3ffe, 0x8000000000000000
quarter80:      F80 0x3ffd, 0x8000000000000000
three80:        F80 0x4000, 0xc000000000000000
two80:          F80 0x4000, 0x8000000000000000
unnormal80:     F80 0x4000, 0x4000000000000000
pden80:         F80 0x0000, 0x8000000000000001
f32tiny80:      F80 0x3f6a, 0xc000000000000000
e10_80:         F80 0x4020, 0x9502f90000000000
m32768h:        F80 0xc00e, 0x8000800000000000
p32767h:        F80 0x400d, 0xffff000000000000
e18_80:         F80 0x403a, 0xde0b6b3a76400000
e20000_80:      F80 0x400d, 0x9c40000000000000
snan32:         dd 0x7fa00000
qnan32:         dd 0x7fc00000
den32:          dd 0x00000005
den64:          dq 0x0000000000000123
half64:         dq 0x3fe0000000000000

        ROM_END
