; 16-bit protected mode (80286-style descriptors): a 16-bit ring-3 code and stack
; segment entered with IRETD, a 16-bit call gate to ring 0 copying word parameters onto
; the stack from the TSS, RETF imm to ring 3, a 16-bit interrupt gate with its 16-bit
; frame and a 16-bit IRET.
%include "rom.inc"
%include "system.inc"

SEL_C16_R3      equ SEL_FREE + 0x00     ; 16-bit ring-3 code, base ROM
SEL_D16_R3      equ SEL_FREE + 0x08     ; 16-bit ring-3 data, base 0, 64 KiB
SEL_GATE16      equ SEL_FREE + 0x10     ; 16-bit call gate DPL 3, 2 words

test_main:
        ENTER_PM32 pm
        bits 32
pm:     call install_catchers
        call setup_tss32
        DESCR SEL_C16_R3, ROM_BASE, 0xffff, 0x0fb
        DESCR SEL_D16_R3, 0, 0xffff, 0x0f3
        mov edi, SEL_GATE16
        mov ebx, gate16_target
        mov eax, SEL_CODE16
        mov ecx, 0x2e4
        call set_call_gate
        mov eax, 0x60
        mov ebx, int16_handler
        mov ecx, 0xe6
        call set_gate32
        mov word [IDT_BASE + 0x60 * 8 + 2], SEL_CODE16
        PUTS32 "to 16-bit ring 3", 10
        CATCH .back
        push dword SEL_D16_R3 | 3
        push dword 0x12345000
        pushfd
        push dword SEL_C16_R3 | 3
        push dword ring3_16
        iretd
.back:  PUTS32 "done", 10
        EXIT 0x10

        bits 16
ring3_16:
        mov ax, SEL_D16_R3 | 3
        mov ds, ax
        PUTS "ring 3: cs "
        mov ax, cs
        call print16_hex16
        PUTS " ss "
        mov ax, ss
        call print16_hex16
        PUTS " esp "
        mov eax, esp
        call print16_hex32
        call print16_nl
        push word 0x1111
        push word 0x2222
        call SEL_GATE16 | 3:0
        PUTS "back: esp "
        mov eax, esp
        call print16_hex32
        PUTS " cs "
        mov ax, cs
        call print16_hex16
        call print16_nl
        int 0x60
        PUTS "after iret: esp "
        mov eax, esp
        call print16_hex32
        call print16_nl
        int 0x7f

gate16_target:
        PUTS "gate16: cs "
        mov ax, cs
        call print16_hex16
        PUTS " esp "
        mov eax, esp
        call print16_hex32
        PUTS " frame"
        mov bx, sp
        mov cx, 6
.f:     mov al, ' '
        out 0xe9, al
        mov ax, [ss:bx]
        call print16_hex16
        add bx, 2
        loop .f
        call print16_nl
        retf 4

int16_handler:
        PUTS "int16: esp "
        mov eax, esp
        call print16_hex32
        PUTS " frame"
        mov bx, sp
        mov cx, 5
.f:     mov al, ' '
        out 0xe9, al
        mov ax, [ss:bx]
        call print16_hex16
        add bx, 2
        loop .f
        call print16_nl
        iret

        ROM_END
