; x87 comparisons and remainders (Intel SDM Vol. 2A FCOMI/FUCOMI, FCOM, FTST, FXAM,
; FPREM, FPREM1): FCOMI and FUCOMI set ZF PF CF and clear OF SF AF (all set before each
; case), an unordered pair gives 111 and raises IE for FCOMI with any NaN but for FUCOMI
; only with an SNaN; FXAM classes; FPREM and FPREM1 on operands whose exponents differ by
; more than 63 give partial remainders (C2 = 1) until the reduction completes, then the
; three low quotient bits in C0 C3 C1. Each case prints EFLAGS (OF SF ZF AF PF CF mask)
; and/or the status word, tag word, ST0 and ST1.
;
; QEMU 7.2 leaves OF SF AF alone in FCOMI, reports no stack fault for an empty FCOMI
; operand, no denormal flag in FTST/FPREM, and no quotient bits from FPREM. So
; fpu-cmp.expected is written by hand and checked against the host's x87: the same
; instruction sequences, run in a 32-bit Linux process, give every line of it (partial
; remainders included). Do not re-record it with record.sh.
%include "rom.inc"
%include "system.inc"

SAVE_AREA       equ FREE_BASE + 0x100
MEM             equ FREE_BASE + 0x300

%macro T 1
        PUTS32 %1
        call print32_nl
        fninit
        push dword 0x8d7
        popfd
%endmacro

; FL: prints the arithmetic flags and the status word.
%macro FL 0
        pushfd
        pop dword [MEM + 0x20]
        fnstsw ax
        mov [MEM + 0x24], ax
        fninit
        call print_flags
%endmacro

%macro CW 1
        mov word [MEM + 0x40], %1
        fldcw [MEM + 0x40]
%endmacro

%macro FPREM_N 1
%rep %1
        fprem
%endrep
%endmacro
%macro FPREM1_N 1
%rep %1
        fprem1
%endrep
%endmacro

test_main:
        ENTER_PM32 pm
        bits 32
pm:     call install_exc_reporters
        mov eax, cr0
        and eax, ~0xc
        or eax, 0x22
        mov cr0, eax

        T "fcomi 1 > 2?"
        fld tword [cs:two80]
        fld1
        fcomi st0, st1
        FL
        T "fcomi 2 > 1"
        fld1
        fld tword [cs:two80]
        fcomi st0, st1
        FL
        T "fcomip 1 = 1"
        fld1
        fld1
        fcomip st0, st1
        FL
        T "fucomi -0 = +0"
        fldz
        fldz
        fchs
        fucomi st0, st1
        FL
        T "fcomi QNaN: unordered, IE"
        fld1
        fld dword [cs:qnan32]
        fcomi st0, st1
        FL
        T "fucomi QNaN: unordered, no IE"
        fld1
        fld dword [cs:qnan32]
        fucomi st0, st1
        FL
        T "fucomip SNaN (loaded as m80): IE"
        fld1
        fld tword [cs:snan80]
        fucomip st0, st1
        FL
        T "fcomi with empty st1: IE SF, unordered"
        fld1
        fcomi st0, st1
        FL
        T "fcom 1 vs 2 (C0)"
        fld1
        fcom qword [cs:two64]
        FL
        T "ftst -inf"
        fld tword [cs:inf80]
        fchs
        ftst
        FL
        T "ftst denormal"
        fld tword [cs:den80]
        ftst
        FL
        T "fxam +0"
        fldz
        fxam
        FL
        T "fxam -inf"
        fld tword [cs:inf80]
        fchs
        fxam
        FL
        T "fxam NaN"
        fld dword [cs:qnan32]
        fxam
        FL
        T "fxam denormal"
        fld tword [cs:den80]
        fxam
        FL
        T "fxam unnormal"
        fld tword [cs:unnormal80]
        fxam
        FL
        T "fxam -1"
        fld1
        fchs
        fxam
        FL
        T "fxam empty (st0 of an empty stack)"
        fxam
        FL

        T "fprem 7 mod 3"
        fld tword [cs:three80]
        fld tword [cs:seven80]
        fprem
        call dump
        T "fprem -7 mod 3"
        fld tword [cs:three80]
        fld tword [cs:seven80]
        fchs
        fprem
        call dump
        T "fprem1 7 mod 3"
        fld tword [cs:three80]
        fld tword [cs:seven80]
        fprem1
        call dump
        T "fprem1 8 mod 3"
        fld tword [cs:three80]
        fld tword [cs:eight80]
        fprem1
        call dump
        T "fprem 2^200*1.5 mod pi: once"
        fldpi
        fld tword [cs:huge80]
        fprem
        call dump
        T "fprem 2^200*1.5 mod pi: twice"
        fldpi
        fld tword [cs:huge80]
        FPREM_N 2
        call dump
        T "fprem 2^200*1.5 mod pi: three times"
        fldpi
        fld tword [cs:huge80]
        FPREM_N 3
        call dump
        T "fprem 2^200*1.5 mod pi: four times"
        fldpi
        fld tword [cs:huge80]
        FPREM_N 4
        call dump
        T "fprem1 2^200*1.5 mod pi: four times"
        fldpi
        fld tword [cs:huge80]
        FPREM1_N 4
        call dump
        T "fprem 2^100 mod 3: once"
        fld tword [cs:three80]
        fld tword [cs:p100_80]
        fprem
        call dump
        T "fprem 2^100 mod 3: twice"
        fld tword [cs:three80]
        fld tword [cs:p100_80]
        FPREM_N 2
        call dump
        T "fprem x mod 0: IE"
        fldz
        fld1
        fprem
        call dump
        T "fprem inf mod 1: IE"
        fld1
        fld tword [cs:inf80]
        fprem
        call dump
        T "fprem 1 mod inf: 1"
        fld tword [cs:inf80]
        fld1
        fprem
        call dump
        T "fprem denormal mod 1"
        fld1
        fld tword [cs:den80]
        fprem
        call dump
        PUTS32 "done", 10
        EXIT 0x21

print_flags:
        PUTS32 "    eflags "
        mov eax, [MEM + 0x20]
        and eax, 0x8d5
        call print32_hex16
        PUTS32 " sw "
        mov ax, [MEM + 0x24]
        call print32_hex16
        call print32_nl
        ret

%include "fpu.inc"

inf80:          F80 0x7fff, 0x8000000000000000
snan80:         F80 0x7fff, 0xa000000000000000
two80:          F80 0x4000, 0x8000000000000000
three80:        F80 0x4000, 0xc000000000000000
seven80:        F80 0x4001, 0xe000000000000000
eight80:        F80 0x4002, 0x8000000000000000
huge80:         F80 0x40c7, 0xc000000000000000
p100_80:        F80 0x4063, 0x8000000000000000
den80:          F80 0x0000, 0x0000000000001234
unnormal80:     F80 0x4000, 0x4000000000000000
qnan32:         dd 0x7fc00000
two64:          dq 0x4000000000000000

        ROM_END
