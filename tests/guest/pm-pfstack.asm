; A page fault on the inner stack while a call gate switches to ring 1 is delivered with
; the caller's state: CS:EIP of the CALL at ring 3 and its stack, nothing half switched;
; with the page present the same call copies its parameter and returns.
%include "rom.inc"
%include "system.inc"

SEL_GATE1       equ SEL_FREE + 0x00     ; call gate DPL 3 -> SEL_C1
SEL_C1          equ SEL_FREE + 0x08     ; ring-1 code, base ROM
SEL_D1          equ SEL_FREE + 0x10     ; ring-1 data
PD_BASE         equ PT_BASE + 0x1000
HOLE            equ 0x8000              ; the page left not present

test_main:
        ENTER_PM32 pm
        bits 32
pm:     call install_catchers
        call setup_tss32
        DESCR SEL_C1, ROM_BASE, 0xfffff, 0xcbb
        DESCR SEL_D1, 0, 0xfffff, 0xcb3
        mov edi, SEL_GATE1
        mov ebx, ring1_code
        mov eax, SEL_C1 | 1
        mov ecx, 0x1ec
        call set_call_gate
        mov dword [TSS_BASE + 12], HOLE + 0x1000
        mov dword [TSS_BASE + 16], SEL_D1 | 1
        ; identity-map 4 MiB with user pages, except HOLE
        mov edi, PT_BASE
        mov eax, 7
.pt:    mov [edi], eax
        add eax, 0x1000
        add edi, 4
        cmp edi, PT_BASE + 0x1000
        jb .pt
        mov dword [PT_BASE + (HOLE / 0x1000) * 4], 0
        mov edi, PD_BASE
.pd:    mov dword [edi], 0
        add edi, 4
        cmp edi, PD_BASE + 0x1000
        jb .pd
        mov dword [PD_BASE], PT_BASE | 7
        mov eax, PD_BASE
        mov cr3, eax
        mov eax, cr0
        or eax, 0x80000000
        mov cr0, eax

        PUTS32 "call gate to ring 1 with the ring-1 stack not present", 10
        R3 ring3_call
        mov eax, cr2
        PUTS32 "cr2 "
        call print32_hex32
        call print32_nl
        PUTS32 "call gate with the stack present", 10
        mov dword [PT_BASE + (HOLE / 0x1000) * 4], HOLE | 7
        mov eax, cr3
        mov cr3, eax
        R3 ring3_call
        PUTS32 "done", 10
        EXIT 0x10

ring3_call:
        mov ax, SEL_DATA32_R3
        mov ds, ax
        push dword 0xabcd
        call SEL_GATE1 | 3:0
        PUTS32 "back at ring 3: esp "
        mov eax, esp
        call print32_hex32
        call print32_nl
        int 0x7f

ring1_code:
        PUTS32 "ring 1: esp "
        mov eax, esp
        call print32_hex32
        PUTS32 " param "
        mov eax, [esp + 8]
        call print32_hex32
        call print32_nl
        retf 4

        ROM_END
