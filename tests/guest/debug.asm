; Debug exceptions (SDM Vol. 3A chapter 17): TF single-step traps (none after the POPF
; that sets TF, one after the POPF that clears it, none after MOV SS but one after the
; next instruction), an instruction breakpoint faulting before execution and RF letting
; it run, data breakpoints on writes and on reads or writes trapping after the access
; (DR6 B0-B3), I/O breakpoints with CR4.DE. DR7.GD is left out: QEMU 7.2 does not
; implement it (no #DB), while the SDM (17.2.4) is clear; platform-sdm checks it.
%include "rom.inc"

SET_RF  equ FREE_BASE + 0x100   ; nonzero: the #DB handler sets RF in the frame
WATCH   equ FREE_BASE + 0x200
BP_CODE equ FREE_BASE + 0x1000

test_main:
        ENTER_PM32 pm

        bits 32
pm:     PUTS32 "debug", 10
        call install_exc_reporters
        mov eax, 1
        mov ebx, db_handler
        mov ecx, 0x8e
        call set_gate32
        mov dword [SET_RF], 0

        PUTS32 "single step", 10
        pushfd
        or dword [esp], 0x100
        popfd
        nop
        mov eax, 1
        pushfd
        and dword [esp], ~0x100
        popfd
        nop
        PUTS32 "mov ss shadow", 10
        pushfd
        or dword [esp], 0x100
        popfd
        mov ax, ss
        mov ss, ax
        nop
        pushfd
        and dword [esp], ~0x100
        popfd

        PUTS32 "int n with tf", 10
        mov eax, 0x30
        mov ebx, int30_handler
        mov ecx, 0x8e
        call set_gate32
        pushfd
        or dword [esp], 0x100
        popfd
        int 0x30
        nop
        pushfd
        and dword [esp], ~0x100
        popfd

        PUTS32 "instruction breakpoint", 10
        ; The target runs from RAM (QEMU 7.2 crashes on breakpoints in its BIOS ROM):
        ; mov ecx, 5 / retf, called through the flat code segment.
        mov dword [BP_CODE], 0x000005b9
        mov word [BP_CODE + 4], 0xcb00
        mov dword [SET_RF], 1
        mov eax, BP_CODE
        mov dr0, eax
        mov eax, 0x00000001     ; L0, execute, one byte
        mov dr7, eax
        mov ecx, 1
        call SEL_FLAT32:BP_CODE
        xor eax, eax
        mov dr7, eax
        mov eax, ecx
        call print32_hex32
        call print32_nl
        mov dword [SET_RF], 0

        PUTS32 "data breakpoint (write)", 10
        mov eax, WATCH
        mov dr1, eax
        mov eax, 0x00d00004     ; L1, write, four bytes
        mov dr7, eax
        mov eax, [WATCH]
        mov dword [WATCH], 7
        mov byte [WATCH + 3], 1
        mov byte [WATCH + 4], 1
        mov byte [WATCH - 1], 1
        PUTS32 "data breakpoint (read/write)", 10
        mov eax, 0x00f00004     ; L1, read or write, four bytes
        mov dr7, eax
        mov eax, [WATCH + 2]
        mov eax, [WATCH + 4]
        xor eax, eax
        mov dr7, eax

        PUTS32 "i/o breakpoint", 10
        mov eax, cr4
        or eax, 0x8             ; DE
        mov cr4, eax
        mov eax, 0x80
        mov dr2, eax
        mov eax, 0x02000010     ; L2, I/O, one byte
        mov dr7, eax
        out 0x81, al
        out 0x80, al
        mov dx, 0x7f
        out dx, ax              ; ports 0x7f-0x80
        xor eax, eax
        mov dr7, eax
        EXIT 0x10

int30_handler:
        PUTS32 "int 30", 10
        iretd

; #DB: prints DR6's status bits and the return EIP, clears DR6.
db_handler:
        push eax
        mov eax, dr6
        and eax, 0x0000e00f
        PUTS32 "#DB dr6 "
        call print32_hex32
        PUTS32 " eip "
        mov eax, [esp + 4]
        call print32_hex32
        call print32_nl
        xor eax, eax
        mov dr6, eax
        cmp dword [SET_RF], 0
        je .done
        or dword [esp + 12], 0x10000
.done:  pop eax
        iretd

        ROM_END
