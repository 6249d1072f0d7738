; Nested tasks (SDM Vol. 3A 7.3-7.4): a far CALL to a TSS sets NT and the back link, IRET
; returns to the caller and clears the callee's busy bit; an exception (#GP with an error
; code) through a task gate in the IDT runs a handler task that finds the error code on
; its own stack and the faulting task in its back link.
%include "rom.inc"
%include "platform.inc"

TSS_A   equ TSS_BASE
TSS_B   equ TSS_BASE + 0x100
TSS_C   equ TSS_BASE + 0x200
SEL_A   equ SEL_FREE            ; 0x40
SEL_B   equ SEL_FREE + 8        ; 0x48
SEL_C   equ SEL_FREE + 16       ; 0x50

test_main:
        ENTER_PM32 pm

        bits 32
; TASK tss, entry, esp: a 32-bit ring-0 task with flat data segments.
%macro TASK 3
        mov dword [%1 + 0x20], %2
        mov dword [%1 + 0x24], 0x2
        mov dword [%1 + 0x38], %3
        mov dword [%1 + 0x48], SEL_DATA32
        mov dword [%1 + 0x4c], SEL_CODE32
        mov dword [%1 + 0x50], SEL_DATA32
        mov dword [%1 + 0x54], SEL_DATA32
        mov dword [%1 + 0x58], SEL_DATA32
        mov dword [%1 + 0x5c], SEL_DATA32
%endmacro

pm:     PUTS32 "nested tasks", 10
        call install_exc_reporters
        mov edi, TSS_BASE
        mov ecx, 0x400
        xor eax, eax
.clr:   mov [edi], eax
        add edi, 4
        loop .clr
        TSSDESC SEL_A, TSS_A, 0x67, 0x89
        TSSDESC SEL_B, TSS_B, 0x67, 0x89
        TSSDESC SEL_C, TSS_C, 0x67, 0x89
        TASK TSS_B, task_b, 0x6000
        TASK TSS_C, task_c, 0x5800
        ; #GP through a task gate naming C.
        mov dword [IDT_BASE + 13 * 8], SEL_C << 16
        mov dword [IDT_BASE + 13 * 8 + 4], 0x8500
        mov ax, SEL_A
        ltr ax

        mov eax, 0xa0a0a0a0
        call SEL_B:0
        PUTS32 "back in A", 10
        SHOW32 "eax "
        pushfd
        pop eax
        and eax, 0x4000
        SHOW32 "A nt "
        movzx eax, byte [GDT_BASE + SEL_A + 5]
        SHOW32 "A access "
        movzx eax, byte [GDT_BASE + SEL_B + 5]
        SHOW32 "B access "
        mov eax, [TSS_B + 0x24]
        and eax, 0x4000
        SHOW32 "B saved nt "

        PUTS32 "exception through a task gate", 10
        mov ax, 0x1234
gp_insn:
        mov ds, ax
gp_resume:
        PUTS32 "resumed in A", 10
        mov ax, ds
        movzx eax, ax
        SHOW32 "ds "
        movzx eax, byte [GDT_BASE + SEL_C + 5]
        SHOW32 "C access "
        EXIT 0x10

task_b: PUTS32 "in task B", 10
        SHOW32 "eax "
        pushfd
        pop eax
        and eax, 0x4000
        SHOW32 "nt "
        movzx eax, word [TSS_B]
        SHOW32 "link "
        movzx eax, byte [GDT_BASE + SEL_A + 5]
        SHOW32 "A access "
        movzx eax, byte [GDT_BASE + SEL_B + 5]
        SHOW32 "B access "
        mov eax, 0xb1b1b1b1
        iretd
        PUTS32 "B resumed?", 10
        EXIT 0x7e

task_c: PUTS32 "in task C", 10
        mov eax, [esp]
        SHOW32 "error code "
        mov eax, esp
        SHOW32 "esp "
        movzx eax, word [TSS_C]
        SHOW32 "link "
        mov eax, [TSS_A + 0x20]
        sub eax, gp_insn
        SHOW32 "A saved eip - gp_insn "
        pushfd
        pop eax
        and eax, 0x4000
        SHOW32 "nt "
        ; Resume A after the faulting instruction.
        mov dword [TSS_A + 0x20], gp_resume
        add esp, 4
        iretd
        jmp task_c

        ROM_END
