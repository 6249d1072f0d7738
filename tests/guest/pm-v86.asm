; Virtual-8086 mode: entering it with IRET from ring 0, real-mode style segment loads,
; INT n through a DPL-3 interrupt gate to ring 0 (the frame with GS FS DS ES, data
; segments nulled in the handler) and IRET back, IOPL-sensitive instructions (CLI, PUSHF,
; POPF, INT n, IRET) with IOPL 0 and 3, INT3 and exceptions from V86 mode, the I/O
; permission bitmap.
%include "rom.inc"
%include "system.inc"

V86_STACK       equ 0x5800

; V86 label, eflags: IRET from ring 0 to label in V86 mode (CS=F000, SS=0, SP=V86_STACK,
; DS=0, ES=1234, FS=5678, GS=9ABC); the V86 code ends with INT 0x7F or a fault.
%macro V86 2
        CATCH %%back
        push dword 0x9abc
        push dword 0x5678
        push dword 0
        push dword 0x1234
        push dword 0
        push dword V86_STACK
        push dword 0x00020002 | %2
        push dword 0xf000
        push dword %1
        iretd
%%back:
%endmacro

test_main:
        ENTER_PM32 pm
        bits 32
pm:     call install_catchers
        call setup_tss32
        mov eax, 0x30
        mov ebx, v86_handler
        mov ecx, 0xee
        call set_gate32
        mov dword [0x12340], 0x600d600d

        PUTS32 "V86 with IOPL 3", 10
        V86 v86_a, 0x3000
        PUTS32 "V86 with IOPL 0: cli", 10
        V86 v86_cli, 0
        PUTS32 "pushf", 10
        V86 v86_pushf, 0
        PUTS32 "popf", 10
        V86 v86_popf, 0
        PUTS32 "int 0x30", 10
        V86 v86_int, 0
        PUTS32 "iret", 10
        V86 v86_iret, 0
        PUTS32 "int3 (DPL 0 gate)", 10
        V86 v86_int3, 0
        PUTS32 "hlt", 10
        V86 v86_hlt, 0
        PUTS32 "lar (#UD)", 10
        V86 v86_lar, 0
        PUTS32 "out to a port beyond the bitmap", 10
        V86 v86_out, 0
        PUTS32 "done", 10
        EXIT 0x10

v86_handler:
        PUTS32 "handler: ds es fs gs "
        mov ax, ds
        call print32_hex16
        mov ax, es
        call print32_hex16
        mov ax, fs
        call print32_hex16
        mov ax, gs
        call print32_hex16
        call print32_nl
        PUTS32 "frame"
        xor ebx, ebx
.f:     mov al, ' '
        out 0xe9, al
        mov eax, [ss:esp + ebx * 4]
        call print32_hex32
        inc ebx
        cmp ebx, 9
        jb .f
        call print32_nl
        iretd

        bits 16
v86_a:  PUTS "in V86: cs "
        mov ax, cs
        call print16_hex16
        PUTS " flags "
        pushf
        pop ax
        call print16_hex16
        PUTS " eflags "
        pushfd
        pop eax
        call print16_hex32
        call print16_nl
        mov ax, 0x1234
        mov ds, ax
        mov eax, [0]
        call print16_hex32
        call print16_nl
        int 0x30
        PUTS "back in V86: es "
        mov ax, es
        call print16_hex16
        call print16_nl
        push word 0x0002                ; IOPL 0: ignored in V86 mode
        popf
        pushf
        pop ax
        call print16_hex16
        call print16_nl
        cli
        PUTS "cli ok", 10
        int 0x7f

v86_cli:
        cli
v86_pushf:
        pushf
v86_popf:
        popf
v86_int:
        int 0x30
v86_iret:
        iret
v86_int3:
        int3
v86_hlt:
        hlt
v86_lar:
        lar ax, bx
v86_out:
        mov dx, 0x400
        out dx, al

        ROM_END
