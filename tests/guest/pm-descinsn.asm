; Descriptor instructions: LAR LSL VERR VERW on code, data and system descriptors at
; rings 0 and 3, ARPL, LTR/STR (busy TSS), LLDT/SLDT with a segment loaded from the LDT,
; and their #UD in real mode.
%include "rom.inc"
%include "system.inc"

SEL_D3          equ SEL_FREE + 0x00     ; data DPL 3, limit 0x12345 bytes
SEL_C0          equ SEL_FREE + 0x08     ; readable code DPL 0, limit 0xabcde pages
SEL_CONF        equ SEL_FREE + 0x10     ; conforming readable code DPL 0
SEL_CGATE       equ SEL_FREE + 0x18     ; call gate DPL 3
SEL_IGATE       equ SEL_FREE + 0x20     ; interrupt gate type in the GDT
SEL_RO          equ SEL_FREE + 0x28     ; read-only data DPL 0
SEL_XO          equ SEL_FREE + 0x30     ; execute-only code DPL 0
SEL_LDT         equ SEL_FREE + 0x38     ; LDT at LDT_BASE, 2 entries
SEL_NP          equ SEL_FREE + 0x40     ; data, not present
LDT_BASE        equ 0x20000

; PROBE insn, selector: runs "insn eax, selector" with EAX preset, prints ZF and EAX.
%macro PROBE 2
        mov eax, 0xeeeeeeee
        mov ebx, %2
        %1 eax, bx
        call show_zf_eax
%endmacro
%macro VERIFY 2
        mov ebx, %2
        %1 bx
        setz al
        call print32_hex8
        mov al, ' '
        out 0xe9, al
%endmacro

test_main:
        PUTS "real mode: LAR", 10
        mov word [6 * 4], rm_ud
        mov word [6 * 4 + 2], 0xf000
        mov word [0x0f00], .r1
        lar ax, bx
        PUTS "no fault", 10
.r1:    PUTS "real mode: ARPL", 10
        mov word [0x0f00], .r2
        arpl ax, bx
        PUTS "no fault", 10
.r2:    PUTS "real mode: SLDT", 10
        mov word [0x0f00], .r3
        sldt ax
        PUTS "no fault", 10
.r3:    ENTER_PM32 pm

rm_ud:  PUTS "#UD", 10
        mov sp, STACK_TOP
        jmp [0x0f00]
        bits 32

pm:     call install_catchers
        DESCR SEL_D3, 0, 0x12345, 0x4f3
        DESCR SEL_C0, ROM_BASE, 0xabcde, 0xc9b
        DESCR SEL_CONF, ROM_BASE, 0xfffff, 0xc9f
        DESCR SEL_IGATE, 0, 0, 0x0ee
        DESCR SEL_RO, 0, 0xfffff, 0xc91
        DESCR SEL_XO, ROM_BASE, 0xfffff, 0xc99
        DESCR SEL_LDT, LDT_BASE, 0x0f, 0x082
        DESCR SEL_NP, 0, 0xfffff, 0xc13
        mov edi, SEL_CGATE
        mov ebx, 0x1234
        mov eax, SEL_CODE32
        mov ecx, 0x3ec
        call set_call_gate
        ; LDT entry 1 (selector 0x0c): flat data
        mov dword [LDT_BASE], 0
        mov dword [LDT_BASE + 4], 0
        mov dword [LDT_BASE + 8], 0x0000ffff
        mov dword [LDT_BASE + 12], 0x00cf9300

        PUTS32 "LAR ring 0: d3 c0 conf cgate igate tss? null beyond", 10
        PROBE lar, SEL_D3
        PROBE lar, SEL_C0
        PROBE lar, SEL_CONF
        PROBE lar, SEL_CGATE
        PROBE lar, SEL_IGATE
        PROBE lar, SEL_LDT
        PROBE lar, 0
        PROBE lar, 0x400
        PUTS32 "LSL ring 0", 10
        PROBE lsl, SEL_D3
        PROBE lsl, SEL_C0
        PROBE lsl, SEL_CGATE
        PROBE lsl, SEL_LDT
        PROBE lsl, SEL_NP
        PUTS32 "LAR/LSL 16-bit", 10
        mov eax, 0xeeeeeeee
        mov ebx, SEL_D3
        lar ax, bx
        call show_zf_eax
        mov eax, 0xeeeeeeee
        lsl ax, bx
        call show_zf_eax
        PUTS32 "VERR: d3 c0 ro xo cgate null np", 10
        VERIFY verr, SEL_D3
        VERIFY verr, SEL_C0
        VERIFY verr, SEL_RO
        VERIFY verr, SEL_XO
        VERIFY verr, SEL_CGATE
        VERIFY verr, 0
        VERIFY verr, SEL_NP
        call print32_nl
        PUTS32 "VERW: d3 c0 ro xo d3|rpl3 data0|rpl3", 10
        VERIFY verw, SEL_D3
        VERIFY verw, SEL_C0
        VERIFY verw, SEL_RO
        VERIFY verw, SEL_XO
        VERIFY verw, SEL_D3 | 3
        VERIFY verw, SEL_DATA32 | 3
        call print32_nl
        PUTS32 "ARPL", 10
        mov ax, 0x0010
        mov bx, 0x0003
        arpl ax, bx
        call show_zf_eax
        arpl ax, bx
        call show_zf_eax
        mov word [0x20100], 0x0029
        mov cx, 0x0002
        arpl [0x20100], cx
        setz al
        call print32_hex8
        mov ax, [0x20100]
        call print32_hex16
        call print32_nl
        PUTS32 "LTR/STR", 10
        str ax
        call print32_hex16
        call print32_nl
        call setup_tss32
        mov eax, 0xffffffff
        str eax
        call print32_hex32
        mov al, [GDT_BASE + SEL_TSS + 5]
        call print32_hex8
        call print32_nl
        PUTS32 "LTR of a busy TSS", 10
        CATCH .t1
        mov ax, SEL_TSS
        ltr ax
        PUTS32 "no fault", 10
.t1:    PUTS32 "LTR of a data segment", 10
        CATCH .t2
        mov ax, SEL_D3
        ltr ax
        PUTS32 "no fault", 10
.t2:    PUTS32 "LLDT/SLDT", 10
        sldt ax
        call print32_hex16
        mov ax, SEL_LDT
        lldt ax
        sldt ax
        call print32_hex16
        mov ax, 0x0c
        mov fs, ax
        mov eax, [fs:LDT_BASE + 12]
        call print32_hex32
        call print32_nl
        PUTS32 "LLDT of a data segment", 10
        CATCH .t3
        mov ax, SEL_D3
        lldt ax
        PUTS32 "no fault", 10
.t3:    PUTS32 "LLDT null, then an LDT selector", 10
        CATCH .t4
        xor eax, eax
        lldt ax
        mov ax, 0x0c
        mov gs, ax
        PUTS32 "no fault", 10
.t4:    PUTS32 "ring 3", 10
        R3 ring3
        PUTS32 "done", 10
        EXIT 0x10

ring3:
        mov ax, SEL_DATA32_R3
        mov ds, ax
        PUTS32 "LAR d3 c0 conf cgate", 10
        PROBE lar, SEL_D3
        PROBE lar, SEL_C0
        PROBE lar, SEL_CONF
        PROBE lar, SEL_CGATE
        PUTS32 "VERR d3 c0 conf", 10
        VERIFY verr, SEL_D3
        VERIFY verr, SEL_C0
        VERIFY verr, SEL_CONF
        call print32_nl
        PUTS32 "SLDT at ring 3", 10
        sldt ax
        call print32_hex16
        call print32_nl
        PUTS32 "LLDT at ring 3", 10
        xor eax, eax
        lldt ax
        PUTS32 "no fault", 10
        int 0x7f

show_zf_eax:
        push eax
        setz al
        call print32_hex8
        mov al, ' '
        out 0xe9, al
        pop eax
        call print32_hex32
        jmp print32_nl

        ROM_END
