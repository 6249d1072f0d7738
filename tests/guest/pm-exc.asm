; Exceptions raised by interrupt delivery and privilege changes, with their error codes:
; IDT limit (#GP with the IDT flag), #NP on a not-present handler segment, #TS and #SS
; for a bad inner stack found in the TSS during a call-gate transfer to ring 1, a call
; to ring 1 and back, and a double fault (#GP whose gate is not present).
%include "rom.inc"
%include "system.inc"

SEL_GATE1       equ SEL_FREE + 0x00     ; call gate DPL 3 -> SEL_C1
SEL_C1          equ SEL_FREE + 0x08     ; ring-1 code, base ROM
SEL_D1          equ SEL_FREE + 0x10     ; ring-1 data
SEL_CNP         equ SEL_FREE + 0x20     ; ring-0 code, not present
SEL_GATENP      equ SEL_FREE + 0x28     ; call gate DPL 3 -> SEL_CNP

%macro SET_SS1 1
        mov dword [TSS_BASE + 16], %1
        mov dword [TSS_BASE + 12], 0x5400
%endmacro

test_main:
        ENTER_PM32 pm
        bits 32
pm:     call install_catchers
        call setup_tss32
        DESCR SEL_C1, ROM_BASE, 0xfffff, 0xcbb
        DESCR SEL_D1, 0, 0xfffff, 0xcb3
        DESCR SEL_CNP, ROM_BASE, 0xfffff, 0xc1b
        mov edi, SEL_GATE1
        mov ebx, ring1_code
        mov eax, SEL_C1 | 1
        mov ecx, 0x0ec
        call set_call_gate
        mov edi, SEL_GATENP
        mov eax, SEL_CNP
        mov ecx, 0x0ec
        call set_call_gate
        mov eax, 0x50
        mov ebx, 0
        mov ecx, 0xee
        call set_gate32
        mov word [IDT_BASE + 0x50 * 8 + 2], SEL_CNP

        PUTS32 "int beyond the IDT limit", 10
        lidt [cs:short_idt]
        CATCH .t1
        int 0x40
        PUTS32 "no fault", 10
.t1:    lidt [cs:idt_ptr]
        PUTS32 "int to a not-present code segment", 10
        CATCH .t2
        int 0x50
        PUTS32 "no fault", 10
.t2:    PUTS32 "call gate to ring 1", 10
        SET_SS1 SEL_D1 | 1
        R3 ring3_call
        PUTS32 "ring-1 SS with RPL 0 in the TSS", 10
        SET_SS1 SEL_D1
        R3 ring3_call
        PUTS32 "ring-0 SS in the TSS", 10
        SET_SS1 SEL_DATA32 | 1
        R3 ring3_call
        PUTS32 "null SS in the TSS", 10
        SET_SS1 0
        R3 ring3_call
        PUTS32 "TSS too short for ring 1", 10
        SET_SS1 SEL_D1 | 1
        mov word [GDT_BASE + SEL_TSS], 0x0b
        call reload_tr
        R3 ring3_call
        mov word [GDT_BASE + SEL_TSS], 0x88
        call reload_tr
        PUTS32 "call gate to a not-present segment", 10
        R3 ring3_callnp
        PUTS32 "double fault", 10
        mov byte [IDT_BASE + 13 * 8 + 5], 0x0e
        CATCH .t3
        mov ax, SEL_FREE + 0x100
        mov ds, ax
        PUTS32 "no fault", 10
.t3:    mov byte [IDT_BASE + 13 * 8 + 5], 0x8e
        PUTS32 "done", 10
        EXIT 0x10

reload_tr:
        mov byte [GDT_BASE + SEL_TSS + 5], 0x89
        mov ax, SEL_TSS
        ltr ax
        ret

short_idt:
        dw 0x40 * 8 - 1
        dd IDT_BASE

ring3_call:
        mov ax, SEL_DATA32_R3
        mov ds, ax
        call SEL_GATE1 | 3:0
        PUTS32 "back at ring 3: esp "
        mov eax, esp
        call print32_hex32
        call print32_nl
        int 0x7f
ring3_callnp:
        call SEL_GATENP | 3:0
        int 0x7f

ring1_code:
        PUTS32 "ring 1: cs "
        mov ax, cs
        call print32_hex16
        PUTS32 " ss "
        mov ax, ss
        call print32_hex16
        PUTS32 " esp "
        mov eax, esp
        call print32_hex32
        PUTS32 " ds "
        mov ax, ds
        call print32_hex16
        call print32_nl
        retf

        ROM_END
