; PUSHF/POPF and IOPL: which EFLAGS bits POPF may change in real mode and at rings 0 and
; 3 with different IOPLs (IF, IOPL, NT, AC, ID, VM, RF), CLI at ring 3 against IOPL.
; Interrupts stay disabled throughout (nothing here sets IF).
%include "rom.inc"
%include "system.inc"

%macro SHOW_FLAGS16 0
        pushf
        pop ax
        call print16_hex16
        call print16_nl
%endmacro
%macro SHOW_FLAGS32 0
        pushfd
        pop eax
        call print32_hex32
        call print32_nl
%endmacro

test_main:
        PUTS "real mode", 10
        push word 0x0002
        popf
        SHOW_FLAGS16
        push word 0x70d7                ; NT, IOPL 3, OF? no: bits 12-14 and arith flags
        popf
        SHOW_FLAGS16
        push dword 0x00240002           ; ID and AC
        popfd
        SHOW_FLAGS16
        pushfd
        pop eax
        call print16_hex32
        call print16_nl
        push dword 0x00030002           ; VM and RF: neither sticks
        popfd
        pushfd
        pop eax
        call print16_hex32
        call print16_nl
        push dword 0x00000002
        popfd
        ENTER_PM32 pm
        bits 32
pm:     call install_catchers
        call setup_tss32
        PUTS32 "ring 0", 10
        push dword 0x00007002           ; IOPL 3 and NT
        popfd
        SHOW_FLAGS32
        push dword 0x00000002
        popfd
        SHOW_FLAGS32
        PUTS32 "ring 3, IOPL 0", 10
        R3 r3_iopl0
        PUTS32 "ring 3, IOPL 3", 10
        push dword 0x00003002
        popfd
        R3 r3_iopl3
        PUTS32 "ring 3, IOPL 1", 10
        push dword 0x00001002
        popfd
        R3 r3_iopl1
        push dword 0x00000002
        popfd
        PUTS32 "done", 10
        EXIT 0x10

r3_iopl0:
        push dword 0x00003202           ; IOPL 3 and IF: both ignored
        popfd
        SHOW_FLAGS32
        push word 0x3202                ; the same with a 16-bit POPF
        popf
        SHOW_FLAGS32
        push dword 0x00044ad7           ; AC NT OF DF and the arithmetic flags
        popfd
        SHOW_FLAGS32
        cli
        PUTS32 "no fault", 10
        int 0x7f
r3_iopl3:
        cli
        PUTS32 "cli ok", 10
        push dword 0x00000002           ; IOPL 0: ignored
        popfd
        SHOW_FLAGS32
        int 0x7f
r3_iopl1:
        push dword 0x00000002
        popfd
        SHOW_FLAGS32
        cli
        PUTS32 "no fault", 10
        int 0x7f

        ROM_END
