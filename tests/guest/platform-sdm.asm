; Cases where QEMU 7.2 departs from the manual, so this test's expected output is written
; from the Intel SDM and kept by hand (do not re-record platform-sdm.expected):
;  - a page fault from a reserved bit in a present entry has P = 1 with RSVD (Vol. 3A
;    4.7; QEMU clears P): error codes 9 (read) and 0xb (write);
;  - DR7.GD makes a debug-register access a #DB fault with DR6.BD, and clears GD for
;    the handler (17.2.4; QEMU ignores GD);
;  - a TSS with the T bit raises #DB with DR6.BT after the switch, before the new
;    task's first instruction (7.2.1, 17.3.1.5; QEMU ignores T);
;  - a bad segment selector in the new TSS faults in the new task's context, so the
;    pushed EIP is the new task's (7.3 step 12; QEMU pushes the switching JMP's).
%include "rom.inc"
%include "system.inc"
%include "platform.inc"

PD      equ PT_BASE
TSS_B   equ TSS_BASE + 0x100
TSS_E   equ TSS_BASE + 0x200
SEL_B   equ SEL_FREE
SEL_E   equ SEL_FREE + 8
EXPECT  equ FREE_BASE + 0x300   ; where the next #DB or #TS should report EIP

test_main:
        ENTER_PM32 pm

        bits 32

pm:     PUTS32 "sdm-only platform behaviour", 10
        call setup_tss32
        call install_catchers
        mov eax, 14
        mov ebx, pf_handler
        mov ecx, 0x8e
        call set_gate32
        mov eax, 1
        mov ebx, db_handler
        mov ecx, 0x8e
        call set_gate32
        mov eax, 10
        mov ebx, ts_handler
        mov ecx, 0x8e
        call set_gate32

        PUTS32 "reserved bit", 10
        mov edi, PD
        mov ecx, 1024
        call zero_dwords
        mov dword [PD], 0x83                    ; 4 MiB identity
        mov dword [PD + 4], 0x400083 | 0x200000 ; reserved bit 21
        mov eax, cr4
        or eax, 0x10
        mov cr4, eax
        mov eax, PD
        call enable_paging
.on:    CATCH .r1
        mov eax, [0x400000]
.r1:    CATCH .r2
        mov dword [0x400000], 1
.r2:    mov eax, cr0
        and eax, 0x7fffffff
        mov cr0, eax

        PUTS32 "general detect", 10
        mov dword [EXPECT], gd_insn
        mov eax, 0x2000
        mov dr7, eax
gd_insn:
        mov eax, dr0
        mov eax, dr7
        SHOW32 "dr7 after #DB "

        PUTS32 "T bit", 10
        TSSDESC SEL_B, TSS_B, 0x67, 0x89
        mov dword [TSS_B + 0x20], task_b
        mov dword [TSS_B + 0x24], 0x2
        mov dword [TSS_B + 0x38], 0x5800
        mov dword [TSS_B + 0x48], SEL_DATA32
        mov dword [TSS_B + 0x4c], SEL_CODE32
        mov dword [TSS_B + 0x50], SEL_DATA32
        mov dword [TSS_B + 0x54], SEL_DATA32
        mov word [TSS_B + 0x64], 1              ; T
        mov dword [EXPECT], task_b
        CATCH after_b
        jmp SEL_B:0
after_b:
        PUTS32 "new-task context of #TS", 10
        TSSDESC SEL_E, TSS_E, 0x67, 0x89
        mov dword [TSS_E + 0x20], task_e
        mov dword [TSS_E + 0x24], 0x2
        mov dword [TSS_E + 0x38], 0x5800
        mov dword [TSS_E + 0x4c], SEL_CODE32
        mov dword [TSS_E + 0x50], SEL_DATA32
        mov dword [TSS_E + 0x54], 0x1234        ; LDT selector, no LDT
        mov dword [EXPECT], task_e
        CATCH after_e
        jmp SEL_E:0
after_e:
        EXIT 0x10

task_b: PUTS32 "in task B", 10
        int 0x7f
task_e: PUTS32 "task E ran?", 10
        EXIT 0x7e

; Handlers print what they saw and resume at the CATCH label.
pf_handler:
        PUTS32 "#PF err "
        mov eax, [esp]
        call print32_hex32
        call print32_nl
        jmp catch_resume
db_handler:
        mov ax, SEL_DATA32
        mov ds, ax
        PUTS32 "#DB dr6 "
        mov eax, dr6
        and eax, 0xe00f
        call print32_hex32
        PUTS32 " eip - expected "
        mov eax, [esp]
        sub eax, [EXPECT]
        call print32_hex32
        call print32_nl
        xor eax, eax
        mov dr6, eax
        iretd
ts_handler:
        mov ax, SEL_DATA32
        mov ds, ax
        mov es, ax
        PUTS32 "#TS err "
        mov eax, [esp]
        call print32_hex16
        PUTS32 " eip - expected "
        mov eax, [esp + 4]
        sub eax, [EXPECT]
        call print32_hex32
        call print32_nl
        jmp catch_resume

        ROM_END
