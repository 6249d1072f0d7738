; Unmasked x87 exceptions with CR0.NE = 1 (Intel SDM Vol. 1 8.6 and 8.7, Vol. 3A 6.15
; "#MF"): each exception is flagged by the instruction that meets it and reported as #MF
; by the next waiting x87 instruction (FWAIT or any non-control x87 instruction), never by
; the non-waiting ones. The #MF handler prints the pushed EIP relative to the waiting
; instruction, then the environment FNSTENV stores (control, status and tag words, FIP
; relative to the faulting instruction, FCS, FOP, FDP, FDS); after the handler clears the
; exception and returns, the registers (FNSAVE: status, tags, ST0, ST1) show what the
; faulting instruction left: nothing for #I #Z #D, the exponent-wrapped result for #O #U,
; the rounded result for #P.
;
; QEMU 7.2 is no oracle here: its x87 writes results and pops even when an unmasked
; exception forbids it, raises #MF only on FWAIT, never for #D or #P, and does not
; record FOP. So fpu-mf.expected is written by hand from the SDM and checked against the
; host's x87 (the same instruction sequences run in a 32-bit Linux process, reading the
; state from the SIGFPE frame): every status word, tag word, register, pushed EIP and FIP
; agree. The FOP values are the SDM's (opcode bits 2-0 of the first byte and the ModRM
; byte); FCS/FDS are the P6 ones. Do not re-record it with record.sh.
%include "rom.inc"
%include "system.inc"

ENV_AREA        equ FREE_BASE           ; FNSTENV image in the #MF handler
SAVE_AREA       equ FREE_BASE + 0x100   ; FNSAVE image for dump
EXPECT_EIP      equ FREE_BASE + 0x200   ; the waiting instruction that should fault
EXPECT_FIP      equ FREE_BASE + 0x204   ; the instruction that met the exception

; CASE fault_label, wait_label: where #MF and FIP should point.
%macro CASE 2
        mov dword [EXPECT_FIP], %1
        mov dword [EXPECT_EIP], %2
%endmacro

; STATUS: prints "sw xxxx" from FNSTSW (never faults).
%macro STATUS 0
        fnstsw ax
        movzx eax, ax
        PUTS32 "fnstsw "
        call print32_hex16
        call print32_nl
%endmacro

test_main:
        ENTER_PM32 pm
        bits 32
pm:     call install_catchers
        mov eax, 16
        mov ebx, mf_handler
        mov ecx, 0x8e
        call set_gate32
        mov eax, cr0
        and eax, ~0xc                   ; EM = TS = 0
        or eax, 0x22                    ; NE = MP = 1
        mov cr0, eax

        PUTS32 "zero divide", 10
        fninit
        fldcw [cs:cw_zm]
        fld1
        fldz
        CASE .z1, .z1
.z1:    fdivp st1, st0
        STATUS
        fnstcw [ENV_AREA]               ; non-waiting: no #MF
        fnclex                          ; non-waiting too; clears the exception
        fld1                            ; so this waiting instruction goes on
        PUTS32 "after fnclex: no #MF", 10
        fninit
        fldcw [cs:cw_zm]
        fld1
        fldz
        CASE .z3, .z4
.z3:    fdivp st1, st0
        fnstsw ax
.z4:    fwait
        call dump

        PUTS32 "invalid: sqrt(-1)", 10
        fninit
        fldcw [cs:cw_im]
        fld1
        fchs
        CASE .i1, .i2
.i1:    fsqrt
.i2:    fwait
        call dump

        PUTS32 "invalid: fadd m32 SNaN", 10
        fninit
        fldcw [cs:cw_im]
        fld1
        CASE .i3, .i4
.i3:    fadd dword [cs:snan32]
.i4:    fwait
        call dump

        PUTS32 "invalid: fcom m32 QNaN flags it, fucomp QNaN does not, fcomp m32 SNaN", 10
        fninit
        fldcw [cs:cw_im]
        fld1
        fcom dword [cs:qnan32]
        STATUS
        fninit
        fldcw [cs:cw_im]
        fld1
        fld dword [cs:qnan32]
        fucomp st1
        STATUS
        fninit
        fldcw [cs:cw_im]
        fld1
        fld1
        CASE .i5, .i6
.i5:    fcomp dword [cs:snan32]
.i6:    fwait
        call dump

        PUTS32 "overflow", 10
        fninit
        fldcw [cs:cw_om]
        fld tword [cs:big80]
        CASE .o1, .o2
.o1:    fmul st0, st0
.o2:    fwait
        call dump

        PUTS32 "overflow on fst m32", 10
        fninit
        fldcw [cs:cw_om]
        fld tword [cs:big80]
        CASE .o3, .o4
.o3:    fst dword [FREE_BASE + 0x300]
.o4:    fwait
        mov eax, [FREE_BASE + 0x300]
        SHOW32 "m32 "
        call dump

        PUTS32 "underflow", 10
        fninit
        fldcw [cs:cw_um]
        fld tword [cs:tiny80]
        CASE .u1, .u2
.u1:    fmul st0, st0
.u2:    fwait
        call dump

        PUTS32 "precision, reported by the next fld1", 10
        fninit
        fldcw [cs:cw_pm]
        fld1
        fld tword [cs:three80]
        CASE .p1, .p2
.p1:    fdivp st1, st0
.p2:    fld1
        call dump

        PUTS32 "denormal operand: fld m64", 10
        fninit
        fldcw [cs:cw_dm]
        fld1
        CASE .d1, .d2
.d1:    fld qword [cs:den64]
.d2:    fwait
        call dump

        PUTS32 "denormal operand: fmul m64", 10
        fninit
        fldcw [cs:cw_dm]
        fld1
        CASE .d3, .d4
.d3:    fmul qword [cs:den64]
.d4:    fwait
        call dump

        PUTS32 "stack overflow", 10
        fninit
        fldcw [cs:cw_im]
        mov ecx, 8
.push:  fldpi
        loop .push
        CASE .s1, .s2
.s1:    fld1
.s2:    fwait
        call dump

        PUTS32 "stack underflow", 10
        fninit
        fldcw [cs:cw_im]
        fld1
        CASE .s3, .s4
.s3:    fadd st0, st2
.s4:    fwait
        call dump

        PUTS32 "masked invalid does not fault", 10
        fninit
        fld1
        fchs
        fsqrt
        fwait
        call dump
        PUTS32 "done", 10
        EXIT 0x21

; #MF: prints where it was raised and the saved environment, clears the exception.
mf_handler:
        PUTS32 "#MF at wait"
        mov eax, [esp]
        sub eax, [EXPECT_EIP]
        call print_delta
        fnstenv [ENV_AREA]
        PUTS32 " cw "
        mov eax, [ENV_AREA]
        call print32_hex16
        PUTS32 " sw "
        mov eax, [ENV_AREA + 4]
        call print32_hex16
        PUTS32 " tw "
        mov eax, [ENV_AREA + 8]
        call print32_hex16
        call print32_nl
        PUTS32 "    fip at fault"
        mov eax, [ENV_AREA + 12]
        sub eax, [EXPECT_FIP]
        call print_delta
        PUTS32 " fcs "
        mov eax, [ENV_AREA + 16]
        call print32_hex16
        PUTS32 " fop "
        shr eax, 16
        call print32_hex16
        PUTS32 " fdp "
        mov eax, [ENV_AREA + 20]
        call print32_hex32
        PUTS32 " fds "
        mov eax, [ENV_AREA + 24]
        call print32_hex16
        call print32_nl
        fnclex
        iretd

; print_delta: "" when EAX is 0, else "+xxxxxxxx".
print_delta:
        test eax, eax
        jz .ok
        PUTS32 "+"
        call print32_hex32
.ok:    ret

%include "fpu.inc"

cw_im:  dw 0x037e
cw_dm:  dw 0x037d
cw_zm:  dw 0x037b
cw_om:  dw 0x0377
cw_um:  dw 0x036f
cw_pm:  dw 0x035f
snan32: dd 0x7fa00000
qnan32: dd 0x7fc00000
den64:  dq 0x0000000000000123
big80:  dq 0xc000000000000000
        dw 0x7ffe
tiny80: dq 0xc000000000000000
        dw 0x0001
three80: dq 0xc000000000000000
        dw 0x4000

        ROM_END
