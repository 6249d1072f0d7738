; Segment limit and access-type checks on data accesses (SDM Vol. 3A 5.3 and 5.4): a null
; data segment, expand-up and expand-down limits, the stack limit (#SS(0)), writes to
; read-only data and reads of execute-only code.
;
; QEMU does not make these checks (its TCG ignores data segment limits), so this test's
; expected output is written from the manual, not recorded: pm-limits.expected is kept
; by hand. Do not re-record it with record.sh.
%include "rom.inc"
%include "system.inc"

SEL_XO          equ SEL_FREE + 0x08     ; execute-only code
SEL_RO          equ SEL_FREE + 0x18     ; read-only data
SEL_SMALL       equ SEL_FREE + 0x20     ; data, limit 0xff
SEL_DOWN        equ SEL_FREE + 0x28     ; expand-down data, limit 0xfff, B=1

test_main:
        ENTER_PM32 pm
        bits 32
pm:     call install_catchers
        DESCR SEL_XO, ROM_BASE, 0xfffff, 0xc99
        DESCR SEL_RO, 0, 0xfffff, 0xc91
        DESCR SEL_SMALL, 0, 0xff, 0x492
        DESCR SEL_DOWN, 0, 0xfff, 0x497

        PUTS32 "read through a null DS", 10
        CATCH .t1
        mov ax, 3
        mov ds, ax
        mov eax, [0x20000]
        PUTS32 "no fault", 10
.t1:    PUTS32 "limit 0xff: dword at 0xfc", 10
        mov ax, SEL_SMALL
        mov fs, ax
        mov eax, [fs:0xfc]
        PUTS32 "limit 0xff: dword at 0xfd", 10
        CATCH .t2
        mov eax, [fs:0xfd]
        PUTS32 "no fault", 10
.t2:    PUTS32 "limit 0xff: dword at SS:0xfd", 10
        CATCH .t3
        mov ax, SEL_SMALL
        mov ss, ax
        mov esp, 0xf0
        mov ebp, 0xfd
        mov eax, [ebp]
        PUTS32 "no fault", 10
.t3:    mov ax, SEL_DATA32
        mov ss, ax
        PUTS32 "expand-down: 0x1000 ok", 10
        mov ax, SEL_DOWN
        mov gs, ax
        mov eax, [gs:0x1000]
        PUTS32 "expand-down: 0xffe faults", 10
        CATCH .t4
        mov eax, [gs:0xffe]
        PUTS32 "no fault", 10
.t4:    PUTS32 "write to read-only data", 10
        mov ax, SEL_RO
        mov fs, ax
        mov eax, [fs:0x20000]
        CATCH .t5
        mov [fs:0x20000], eax
        PUTS32 "no fault", 10
.t5:    PUTS32 "read execute-only code through CS", 10
        CATCH .t6
        jmp SEL_XO:.xo
.xo:    mov eax, [cs:0]
        PUTS32 "no fault", 10
.t6:    PUTS32 "done", 10
        EXIT 0x10

        ROM_END
