; Privilege levels: IRET and RETF to ring 3 (data segments the new level may not use
; become null), call gates with parameter copying and a stack switch from the TSS,
; conforming code, interrupt and trap gates from ring 3, INT n gate DPL checks and the
; IDT error code format, privileged instructions at ring 3.
%include "rom.inc"
%include "system.inc"

SEL_GATE        equ SEL_FREE + 0x00     ; call gate DPL 3 -> ring 0, 2 parameters
SEL_GATE0       equ SEL_FREE + 0x08     ; call gate DPL 0
SEL_CONF        equ SEL_FREE + 0x10     ; conforming ring-0 code, base ROM

%macro PRINT_SEG 2
        PUTS32 %1
        mov ax, %2
        call print32_hex16
        call print32_nl
%endmacro

test_main:
        ENTER_PM32 pm
        bits 32
pm:     call install_catchers
        call setup_tss32
        mov edi, SEL_GATE
        mov ebx, gate_target
        mov eax, SEL_CODE32
        mov ecx, 0x2ec
        call set_call_gate
        mov edi, SEL_GATE0
        mov ecx, 0x08c
        call set_call_gate
        mov edi, SEL_CONF
        mov eax, ROM_BASE
        mov ebx, 0xfffff
        mov ecx, 0xc9e
        call set_desc
        mov eax, 0x40                   ; DPL 0 interrupt gate
        mov ebx, int_handler
        mov ecx, 0x8e
        call set_gate32
        mov eax, 0x41                   ; DPL 3 interrupt gate
        mov ecx, 0xee
        call set_gate32
        mov eax, 0x42                   ; DPL 3 trap gate
        mov ecx, 0xef
        call set_gate32
        mov eax, 0x43                   ; DPL 3, not present
        mov ecx, 0x6e
        call set_gate32
        mov eax, 0x44                   ; DPL 3, not a gate type
        mov ecx, 0xe1
        call set_gate32

        PUTS32 "iret to ring 3", 10
        R3 ring3_a
        PUTS32 "retf to ring 3", 10
        CATCH .b2
        push dword SEL_DATA32_R3
        push dword RING3_STACK
        push dword SEL_CODE32_R3
        push dword ring3_b
        retf
.b2:    PUTS32 "hlt at ring 3", 10
        R3 ring3_hlt
        PUTS32 "cli at ring 3, IOPL 0", 10
        R3 ring3_cli
        PUTS32 "mov cr0 at ring 3", 10
        R3 ring3_cr0
        PUTS32 "int 0x40 (DPL 0 gate) at ring 3", 10
        R3 ring3_int40
        PUTS32 "int 0x43 (not present)", 10
        R3 ring3_int43
        PUTS32 "int 0x44 (bad gate type)", 10
        R3 ring3_int44
        PUTS32 "ring 0 data into DS at ring 3", 10
        R3 ring3_ds
        PUTS32 "call gate with DPL 0 from ring 3", 10
        R3 ring3_gate0
        PUTS32 "jmp through a call gate to ring 0", 10
        R3 ring3_jmpgate
        PUTS32 "iret to ring 3 with a ring-0 SS", 10
        CATCH .b3
        push dword SEL_DATA32
        push dword RING3_STACK
        pushfd
        push dword SEL_CODE32_R3
        push dword ring3_a
        iretd
.b3:    PUTS32 "retf to ring 0 code with RPL 3", 10
        CATCH .b4
        push dword SEL_DATA32_R3
        push dword RING3_STACK
        push dword SEL_CODE32 | 3
        push dword ring3_a
        retf
.b4:    PUTS32 "done", 10
        EXIT 0x10

ring3_a:
        PRINT_SEG "cs ", cs
        PRINT_SEG "ss ", ss
        PRINT_SEG "ds ", ds
        mov ax, SEL_DATA32_R3
        mov ds, ax
        mov es, ax
        PUTS32 "call gate", 10
        push dword 0x11111111
        push dword 0x22222222
        call SEL_GATE | 3:0
        PRINT_SEG "back: cs ", cs
        PRINT_SEG "ds ", ds
        PRINT_SEG "es ", es
        PUTS32 "esp "
        mov eax, esp
        call print32_hex32
        call print32_nl
        PUTS32 "conforming code", 10
        call SEL_CONF:conf_target
        PUTS32 "int 0x41", 10
        int 0x41
        PUTS32 "int 0x42", 10
        int 0x42
        PRINT_SEG "back: cs ", cs
        int 0x7f

ring3_b:
        PRINT_SEG "cs ", cs
        PRINT_SEG "ds ", ds
        int 0x7f

ring3_hlt:
        hlt
ring3_cli:
        cli
ring3_cr0:
        mov eax, cr0
ring3_int40:
        int 0x40
ring3_int43:
        int 0x43
ring3_int44:
        int 0x44
ring3_ds:
        mov ax, SEL_DATA32
        mov ds, ax
ring3_gate0:
        call SEL_GATE0:0
ring3_jmpgate:
        jmp SEL_GATE:0

gate_target:
        PRINT_SEG "gate: cs ", cs
        PRINT_SEG "ss ", ss
        PUTS32 "esp "
        mov eax, esp
        call print32_hex32
        PUTS32 " frame"
        mov eax, [esp]
        call print_sp_hex32
        mov eax, [esp + 4]
        call print_sp_hex32
        mov eax, [esp + 8]
        call print_sp_hex32
        mov eax, [esp + 12]
        call print_sp_hex32
        mov eax, [esp + 16]
        call print_sp_hex32
        mov eax, [esp + 20]
        call print_sp_hex32
        call print32_nl
        mov ax, SEL_DATA32
        mov es, ax
        retf 8

conf_target:
        PRINT_SEG "conforming: cs ", cs
        retf

int_handler:
        PRINT_SEG "handler: cs ", cs
        PRINT_SEG "ss ", ss
        PUTS32 "frame"
        mov eax, [esp]
        call print_sp_hex32
        mov eax, [esp + 4]
        call print_sp_hex32
        mov eax, [esp + 8]
        and eax, 0xfffff2ff             ; IF, TF and IOPL only
        call print_sp_hex32
        mov eax, [esp + 12]
        call print_sp_hex32
        mov eax, [esp + 16]
        call print_sp_hex32
        call print32_nl
        pushfd
        pop eax
        and eax, 0x200
        PUTS32 "IF in handler "
        call print32_hex16
        call print32_nl
        iretd

print_sp_hex32:
        push eax
        mov al, ' '
        out 0xe9, al
        pop eax
        jmp print32_hex32

        ROM_END
