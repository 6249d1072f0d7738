; Self-modifying code: a routine in RAM patched between calls through another linear
; alias of its physical page (paging on), and a routine that patches the immediate of
; its own next instruction, which must run with the new byte (SDM Vol. 3A 8.1.3). The
; translator sees these stores through the TLB slow path of pages holding code.
%include "rom.inc"
%include "platform.inc"

PD      equ PT_BASE
PT0     equ PT_BASE + 0x1000
PT1     equ PT_BASE + 0x2000
CODE    equ FREE_BASE + 0x1000  ; physical page of the routines
ALIAS   equ 0x400000            ; the same page at another linear address

test_main:
        ENTER_PM32 pm

        bits 32

pm:     PUTS32 "self-modifying code", 10
        call install_exc_reporters
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
        mov dword [PT1], CODE + 3
        mov eax, PD
        call enable_paging
.on:    ; mov eax, 0x11111111 / retf
        mov byte [CODE], 0xb8
        mov dword [CODE + 1], 0x11111111
        mov byte [CODE + 5], 0xcb
        call SEL_FLAT32:CODE
        SHOW32 "first call "
        mov dword [ALIAS + 1], 0x22222222
        call SEL_FLAT32:CODE
        SHOW32 "after patch through alias "
        mov byte [CODE + 1], 0x33
        call SEL_FLAT32:CODE
        SHOW32 "after byte patch "
        ; mov byte [CODE + 0x108], 0x42 / mov al, 0 / retf
        mov word [CODE + 0x100], 0x05c6
        mov dword [CODE + 0x102], CODE + 0x108
        mov byte [CODE + 0x106], 0x42
        mov word [CODE + 0x107], 0x00b0
        mov byte [CODE + 0x109], 0xcb
        xor eax, eax
        call SEL_FLAT32:CODE + 0x100
        SHOW32 "patched next instruction "
        mov byte [CODE + 0x108], 0
        mov byte [CODE + 0x106], 0x43
        call SEL_FLAT32:CODE + 0x100
        SHOW32 "again "
        EXIT 0x10

        ROM_END
