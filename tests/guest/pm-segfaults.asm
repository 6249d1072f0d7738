; Protected-mode segment register loads: #GP/#NP/#SS/#UD with their selector error
; codes, null selectors, RPL/DPL/CPL rules, LDT references without an LDT, the accessed
; bit, far JMP target checks. (Limit and access-type checks are in pm-limits.asm: QEMU
; does not make them, so they are not recorded from it.)
%include "rom.inc"
%include "system.inc"

SEL_NP          equ SEL_FREE + 0x00     ; data, not present
SEL_XO          equ SEL_FREE + 0x08     ; execute-only code
SEL_D3          equ SEL_FREE + 0x10     ; DPL-3 data
SEL_RO          equ SEL_FREE + 0x18     ; read-only data
SEL_SMALL       equ SEL_FREE + 0x20     ; data, limit 0xff, accessed bit clear
SEL_DOWN        equ SEL_FREE + 0x28     ; expand-down data, limit 0xfff, B=1
SEL_CNP         equ SEL_FREE + 0x30     ; code, not present
SEL_CSMALL      equ SEL_FREE + 0x38     ; code, base ROM, limit 0xff

test_main:
        ENTER_PM32 pm
        bits 32
pm:     call install_catchers
        DESCR SEL_NP, 0, 0xfffff, 0xc13
        DESCR SEL_XO, ROM_BASE, 0xfffff, 0xc99
        DESCR SEL_D3, 0, 0xfffff, 0xcf3
        DESCR SEL_RO, 0, 0xfffff, 0xc91
        DESCR SEL_SMALL, 0, 0xff, 0x492
        DESCR SEL_DOWN, 0, 0xfff, 0x497
        DESCR SEL_CNP, ROM_BASE, 0xfffff, 0xc1b
        DESCR SEL_CSMALL, ROM_BASE, 0xff, 0x49b

        PUTS32 "not present data", 10
        CATCH .t1
        mov ax, SEL_NP
        mov ds, ax
        PUTS32 "no fault", 10
.t1:    PUTS32 "not present stack", 10
        CATCH .t2
        mov ax, SEL_NP
        mov ss, ax
        PUTS32 "no fault", 10
.t2:    PUTS32 "execute-only code into DS", 10
        CATCH .t3
        mov ax, SEL_XO
        mov es, ax
        PUTS32 "no fault", 10
.t3:    PUTS32 "read-only data into SS", 10
        CATCH .t4
        mov ax, SEL_RO
        mov ss, ax
        PUTS32 "no fault", 10
.t4:    PUTS32 "outside the GDT", 10
        CATCH .t5
        mov ax, 0x203
        mov fs, ax
        PUTS32 "no fault", 10
.t5:    PUTS32 "null SS", 10
        CATCH .t6
        xor eax, eax
        mov ss, ax
        PUTS32 "no fault", 10
.t6:    PUTS32 "null DS", 10
        mov ax, 3
        mov ds, ax
        mov bx, ds
        mov ax, SEL_DATA32
        mov ds, ax
        mov ax, bx
        call print32_hex16
        call print32_nl
        PUTS32 "RPL 3 on DPL 0 data", 10
        CATCH .t8
        mov ax, SEL_DATA32 | 3
        mov gs, ax
        PUTS32 "no fault", 10
.t8:    PUTS32 "CPL 0 loads DPL 3 data", 10
        mov ax, SEL_D3
        mov gs, ax
        PUTS32 "DPL 3 data into SS", 10
        CATCH .t9
        mov ax, SEL_D3 | 3
        mov ss, ax
        PUTS32 "no fault", 10
.t9:    PUTS32 "accessed bit", 10
        mov al, [GDT_BASE + SEL_SMALL + 5]
        call print32_hex8
        mov ax, SEL_SMALL
        mov fs, ax
        mov al, [GDT_BASE + SEL_SMALL + 5]
        call print32_hex8
        call print32_nl
.t14:   PUTS32 "LDT selector without an LDT", 10
        CATCH .t15
        mov ax, 0x0c
        mov ds, ax
        PUTS32 "no fault", 10
.t15:   PUTS32 "MOV CS", 10
        CATCH .t16
        db 0x8e, 0xc8                   ; mov cs, ax
        PUTS32 "no fault", 10
.t16:   PUTS32 "far jmp to data", 10
        CATCH .t17
        jmp SEL_DATA32:0
.t17:   PUTS32 "far jmp to a not-present code segment", 10
        CATCH .t18
        jmp SEL_CNP:0
.t18:   PUTS32 "far jmp past the limit", 10
        CATCH .t19
        jmp SEL_CSMALL:0x100
.t19:   PUTS32 "far jmp to a null selector", 10
        CATCH .t20
        jmp 0:0
.t20:   PUTS32 "far jmp with RPL 3 to DPL 0 code", 10
        CATCH .t21
        jmp SEL_CODE32 | 3:.t21
.t21:   PUTS32 "segment register after a fault", 10
        mov ax, ds
        call print32_hex16
        call print32_nl
        PUTS32 "done", 10
        EXIT 0x10

        ROM_END
