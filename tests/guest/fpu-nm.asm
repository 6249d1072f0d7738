; Device-not-available (#NM) and the CR0 bits that control the x87 (Intel SDM Vol. 3A 2.5
; and table 2-2, Vol. 3A 6.15 "#NM"): EM makes every x87 instruction fault with #NM and
; MMX/FXSAVE ones with #UD; TS makes x87, MMX and FXSAVE instructions fault with #NM; WAIT
; faults only when TS and MP are both set. A #NM handler that clears TS (CLTS) and
; returns restarts the instruction, as a lazy FPU context switch does.
;
; QEMU 7.2 lets EMMS run whatever CR0.EM and CR0.TS say; the SDM (EMMS: #UD if CR0.EM,
; #NM if CR0.TS; Vol. 3A 2.5, CR0.EM: "execution of an MMX instruction causes #UD",
; whatever TS says) faults. The host cannot be asked (CR0 is the kernel's), so
; fpu-nm.expected is QEMU's output with those three EMMS lines written from the SDM.
; Do not re-record it with record.sh.
%include "rom.inc"
%include "system.inc"

MEM             equ FREE_BASE

; CR0BITS set: clears MP EM TS and sets the given ones.
%macro CR0BITS 1
        mov eax, cr0
        and eax, ~0xe
        or eax, %1
        mov cr0, eax
%endmacro

; TRY insn: runs one instruction; a fault is printed by the catcher and skipped.
%macro TRY 1+
        CATCH %%next
        %1
        PUTS32 "  no fault", 10
%%next:
%endmacro

test_main:
        ENTER_PM32 pm
        bits 32
pm:     call install_catchers
        ; FXSAVE needs a 16-byte aligned area and CR4.OSFXSR for the SSE part.
        mov eax, cr4
        or eax, 0x200
        mov cr4, eax
        CR0BITS 0x2
        fninit

        PUTS32 "TS=1 MP=1: fld1, fwait, fnstsw, fninit, emms, fxsave", 10
        CR0BITS 0xa
        TRY fld1
        TRY fwait
        TRY fnstsw ax
        TRY fninit
        TRY emms
        TRY fxsave [MEM]
        PUTS32 "TS=1 MP=0: fwait, fld1", 10
        CR0BITS 0x8
        TRY fwait
        TRY fld1
        PUTS32 "EM=1 MP=0: fld1, fwait, fnclex, emms, movd mm0 eax, fxsave", 10
        CR0BITS 0x4
        TRY fld1
        TRY fwait
        TRY fnclex
        TRY emms
        TRY movd mm0, eax
        TRY fxsave [MEM]
        PUTS32 "EM=1 MP=1 TS=0: fwait", 10
        CR0BITS 0x6
        TRY fwait
        PUTS32 "EM=1 TS=1: fld1, emms", 10
        CR0BITS 0xc
        TRY fld1
        TRY emms
        PUTS32 "after CLTS with MP=1: fld1, fwait, emms", 10
        CR0BITS 0xa
        clts
        mov eax, cr0
        SHOW32 "cr0 "
        TRY fld1
        TRY fwait
        TRY emms

        PUTS32 "lazy switch: a #NM handler that clears TS and returns", 10
        mov eax, 7
        mov ebx, nm_handler
        mov ecx, 0x8e
        call set_gate32
        CR0BITS 0xa
        fninit
        fld1
        fadd st0, st0
        fistp dword [MEM]
        mov eax, [MEM]
        SHOW32 "fistp of 1+1: "
        mov eax, [MEM + 0x10]
        SHOW32 "#NM count "
        PUTS32 "done", 10
        EXIT 0x21

nm_handler:
        inc dword [MEM + 0x10]
        clts
        iretd

        ROM_END
