; Self-modifying code and remapped code reached through near branches only, so that the
; execution loop goes block to block through its direct links: a routine patched by
; the loop that calls it must run with the new bytes on the next call, and a linear
; page switched to another physical page (INVLPG, then a CR3 reload) must run the new
; page's code although the calling block had linked to the old one (SDM Vol. 3A 8.1.3,
; 4.10.4).
%include "rom.inc"
%include "platform.inc"

PD      equ PT_BASE
PT0     equ PT_BASE + 0x1000
PT1     equ PT_BASE + 0x2000
CODE    equ FREE_BASE + 0x1000  ; routine patched in place
P1      equ FREE_BASE + 0x2000  ; two physical pages for one linear page
P2      equ FREE_BASE + 0x3000
LIN     equ 0x400000            ; the linear page mapped to P1 or P2 (PT1 entry 0)

test_main:
        ENTER_PM32 pm

        bits 32

pm:     PUTS32 "self-modifying and remapped code through linked blocks", 10
        call install_exc_reporters
        ; mov eax, 0x11111111 / ret
        mov byte [CODE], 0xb8
        mov dword [CODE + 1], 0x11111111
        mov byte [CODE + 5], 0xc3
        jmp dword SEL_FLAT32:0xf0000 + .flat1 ; CS base 0: near branches reach RAM
.flat1: mov ebx, CODE
        xor esi, esi
        mov ecx, 4
.patch: call ebx
        add esi, eax
        inc dword [CODE + 1]
        dec ecx
        jnz .patch
        jmp dword SEL_CODE32:.back1
.back1: mov eax, esi
        SHOW32 "sum of patched results "

        mov edi, PD
        mov ecx, 3 * 1024
        call zero_dwords
        mov edi, PT0
        mov eax, 3
        mov ecx, 1024
        mov edx, 4
        call fill_entries
        mov dword [PD], PT0 + 3
        mov dword [PD + 4], PT1 + 3
        mov dword [PT1], P1 + 3
        ; P1: mov eax, 1 / ret; P2: mov eax, 2 / ret
        mov byte [P1], 0xb8
        mov dword [P1 + 1], 1
        mov byte [P1 + 5], 0xc3
        mov byte [P2], 0xb8
        mov dword [P2 + 1], 2
        mov byte [P2 + 5], 0xc3
        mov eax, PD
        call enable_paging
        jmp dword SEL_FLAT32:0xf0000 + .flat2
.flat2: mov ebx, LIN
        xor esi, esi
        mov ecx, 4
.invl:  call ebx
        shl esi, 4
        add esi, eax
        xor dword [PT1], P1 ^ P2
        invlpg [LIN]
        dec ecx
        jnz .invl
        jmp dword SEL_CODE32:.back2
.back2: mov eax, esi
        SHOW32 "after INVLPG remaps "
        jmp dword SEL_FLAT32:0xf0000 + .flat3
.flat3: mov ebx, LIN
        xor esi, esi
        mov ecx, 4
.cr3:   call ebx
        shl esi, 4
        add esi, eax
        xor dword [PT1], P1 ^ P2
        mov eax, cr3
        mov cr3, eax
        dec ecx
        jnz .cr3
        jmp dword SEL_CODE32:.back3
.back3: mov eax, esi
        SHOW32 "after CR3 reloads "
        EXIT 0x10

        ROM_END
