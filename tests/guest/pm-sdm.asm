; Cases where QEMU departs from the manual, so this test's expected output is written
; from the Intel SDM and kept by hand (do not re-record pm-sdm.expected with record.sh):
;  - a not-present inner stack segment found in the TSS during a call-gate transfer is
;    #SS(selector) (SDM Vol. 2 CALL; QEMU raises #TS);
;  - faults met while delivering an exception carry EXT = 1 in their error code (SDM
;    Vol. 3A 6.13; QEMU leaves it clear): a not-present handler segment and a gate of
;    the wrong type;
;  - INT1 (F1) is delivered like a debug exception, without the gate DPL check (QEMU
;    stops on it);
;  - MOV CR0 with PG but not PE, or NW without CD, is #GP(0) (SDM Vol. 3A 2.5; QEMU takes
;    the value). Also here: reserved CR4 bits, CR1, ET reading as 1, CR2, LMSW (which
;    cannot clear PE) and CLTS.
%include "rom.inc"
%include "system.inc"

SEL_GATE1       equ SEL_FREE + 0x00     ; call gate DPL 3 -> SEL_C1
SEL_C1          equ SEL_FREE + 0x08     ; ring-1 code, base ROM
SEL_D1NP        equ SEL_FREE + 0x10     ; ring-1 data, not present
SEL_CNP         equ SEL_FREE + 0x18     ; ring-0 code, not present

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
        PUTS32 "mov cr0: PG without PE", 10
        CATCH .c1
        mov eax, cr0
        and eax, 0x7ffffffe
        or eax, 0x80000000
        mov cr0, eax
        PUTS32 "no fault", 10
.c1:    PUTS32 "mov cr0: NW without CD", 10
        CATCH .c2
        mov eax, cr0
        and eax, 0xbfffffff
        mov cr0, eax
        PUTS32 "no fault", 10
.c2:    PUTS32 "mov cr4: OSXMMEXCPT", 10
        CATCH .c3
        mov eax, 0x400
        mov cr4, eax
        PUTS32 "no fault", 10
.c3:    PUTS32 "mov cr1", 10
        CATCH .c4
        db 0x0f, 0x22, 0xc8             ; mov cr1, eax
        PUTS32 "no fault", 10
.c4:    PUTS32 "cr0 without ET, cr2, cr4 PSE|PGE", 10
        mov eax, cr0
        and al, 0xef
        mov cr0, eax
        mov eax, cr0
        call print32_hex32
        mov eax, 0x12345678
        mov cr2, eax
        mov eax, cr2
        call print32_hex32
        mov eax, 0x90
        mov cr4, eax
        mov eax, cr4
        call print32_hex32
        call print32_nl
        PUTS32 "lmsw 0, clts", 10
        xor eax, eax
        lmsw ax
        mov eax, cr0
        call print32_hex32
        or eax, 8
        mov cr0, eax
        smsw ax
        call print32_hex16
        clts
        smsw ax
        call print32_hex16
        call print32_nl
        PUTS32 "done", 10
        EXIT 0x10

ring3_call:
        call SEL_GATE1 | 3:0
        int 0x7f
ring3_int1:
        db 0xf1
        int 0x7f

        ROM_END
