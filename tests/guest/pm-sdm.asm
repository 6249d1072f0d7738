; Cases where QEMU departs from the manual, so this test's expected output is written
; from the Intel SDM and kept by hand (do not re-record pm-sdm.expected with record.sh):
;  - a not-present inner stack segment found in the TSS during a call-gate transfer is
;    #SS(selector) (SDM Vol. 2 CALL; QEMU raises #TS);
;  - faults met while delivering an exception carry EXT = 1 in their error code (SDM
;    Vol. 3A 6.13; QEMU leaves it clear): a not-present handler segment and a gate of
;    the wrong type;
;  - INT1 (F1) is delivered like a debug exception, without the gate DPL check (QEMU
;    stops on it).
%include "rom.inc"
%include "system.inc"

SEL_GATE1       equ SEL_FREE + 0x00     ; call gate DPL 3 -> SEL_C1
SEL_C1          equ SEL_FREE + 0x08     ; ring-1 code, base ROM
SEL_D1NP        equ SEL_FREE + 0x10     ; ring-1 data, not present
SEL_CNP         equ SEL_FREE + 0x18     ; ring-0 code, not present

%macro DESCR 4
        mov edi, %1
        mov eax, %2
        mov ebx, %3
        mov ecx, %4
        call set_desc
%endmacro
%macro R3 1
        CATCH %%back
        ENTER_RING3 %1
%%back:
%endmacro

test_main:
        ENTER_PM32 pm
        bits 32
pm:     call install_catchers
        call setup_tss32
        DESCR SEL_C1, ROM_BASE, 0xfffff, 0xcbb
        DESCR SEL_D1NP, 0, 0xfffff, 0xc33
        DESCR SEL_CNP, ROM_BASE, 0xfffff, 0xc1b
        mov edi, SEL_GATE1
        mov ebx, 0
        mov eax, SEL_C1 | 1
        mov ecx, 0x0ec
        call set_call_gate
        mov dword [TSS_BASE + 16], SEL_D1NP | 1
        mov dword [TSS_BASE + 12], 0x5400

        PUTS32 "not-present SS in the TSS", 10
        R3 ring3_call
        PUTS32 "#UD handler in a not-present segment", 10
        mov ax, [IDT_BASE + 6 * 8 + 2]
        mov word [IDT_BASE + 6 * 8 + 2], SEL_CNP
        CATCH .t1
        ud2
.t1:    mov word [IDT_BASE + 6 * 8 + 2], SEL_CODE32
        PUTS32 "#UD gate of a bad type", 10
        mov byte [IDT_BASE + 6 * 8 + 5], 0x80
        CATCH .t2
        ud2
.t2:    mov byte [IDT_BASE + 6 * 8 + 5], 0x8e
        PUTS32 "int1 at ring 3", 10
        R3 ring3_int1
        PUTS32 "done", 10
        EXIT 0x10

ring3_call:
        call SEL_GATE1 | 3:0
        int 0x7f
ring3_int1:
        db 0xf1
        int 0x7f

        ROM_END
