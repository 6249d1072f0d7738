; User-mode paging rules (SDM Vol. 3A 4.6): U/S and R/W combined from the directory and
; table entries, page-fault error codes with U/S set for CPL 3 accesses and CR2; a
; supervisor write to a user read-only page with CR0.WP clear succeeds.
%include "rom.inc"
%include "platform.inc"
%include "system.inc"

PD      equ PT_BASE
PT0     equ PT_BASE + 0x1000
PT1     equ PT_BASE + 0x2000
DATA    equ FREE_BASE
DATA2   equ FREE_BASE + 0x1000

test_main:
        ENTER_PM32 pm

        bits 32
; USER label, instruction: runs the instruction at ring 3; prints "ok" when it does not
; fault, then returns to ring 0 with INT 0x7F either way.
%macro USER 1+
        CATCH %%next
        ENTER_RING3 %%r3
%%r3:   mov ax, SEL_DATA32_R3
        mov ds, ax
        %1
        PUTS32 "ok", 10
        int 0x7f
%%next:
%endmacro

pm:     PUTS32 "user paging", 10
        call setup_tss32
        call install_catchers
        mov eax, 14
        mov ebx, pf_handler
        mov ecx, 0x8e
        call set_gate32
        mov edi, PD
        mov ecx, 3 * 1024
        call zero_dwords
        mov edi, PT0
        mov eax, 7              ; P RW US: ring 3 may run the ROM and use its stack
        mov ecx, 1024
        mov edx, 4
        call fill_entries
        mov dword [PD], PT0 + 7
        mov dword [PD + 4], PT1 + 7             ; 0x400000
        mov dword [PD + 24], PT1 + 3            ; 0x1800000: supervisor-only directory entry
        mov dword [PD + 28], PT1 + 5            ; 0x1c00000: read-only directory entry
        mov dword [PT1], DATA + 3               ; supervisor page
        mov dword [PT1 + 4], DATA2 + 5          ; user read-only
        mov dword [PT1 + 12], DATA2 + 7         ; user writable
        mov dword [DATA2], 0x5a5a5a5a
        mov eax, PD
        call enable_paging
.on:
        USER mov eax, [0x400000]                ; supervisor page: 5
        USER mov dword [0x400000], 1            ; 7
        USER mov eax, [0x401000]                ; user read-only: ok
        USER mov dword [0x401004], 1            ; 7
        USER mov eax, [0x402000]                ; not present: 4
        USER mov dword [0x402000], 1            ; 6
        USER mov eax, [0x1801000]               ; directory U/S=0: 5
        USER mov eax, [0x1c03000]               ; directory read-only, read: ok
        USER mov dword [0x1c03000], 1           ; directory read-only, write: 7
        USER mov dword [0x403000], 2            ; writable: ok
        mov dword [0x401008], 3                 ; supervisor, WP=0: ok
        mov eax, [PT1 + 4]
        PUTS32 "user ro pte "
        call print32_hex32
        call print32_nl
        mov eax, [DATA2]
        PUTS32 "data "
        call print32_hex32
        call print32_nl
        EXIT 0x10

pf_handler:
        mov ax, SEL_DATA32
        mov ds, ax
        mov es, ax
        PUTS32 "#PF err "
        mov eax, [esp]
        call print32_hex32
        PUTS32 " cr2 "
        mov eax, cr2
        call print32_hex32
        PUTS32 " cs "
        mov eax, [esp + 8]
        call print32_hex16
        call print32_nl
        jmp catch_resume

        ROM_END
