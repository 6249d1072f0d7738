; Double and triple faults (SDM Vol. 3A 6.15, interrupt 8): a #GP whose delivery faults
; (IDT limit too small) becomes #DF; with no usable #DF gate either, the processor shuts
; down, which the board turns into a reset; with --no-reboot (QEMU -no-reboot) the
; machine stops with status 0. The #DF handler part runs first with a valid gate.
%include "rom.inc"

test_main:
        ENTER_PM32 pm

        bits 32
pm:     PUTS32 "double fault", 10
        call install_exc_reporters
        mov eax, 8
        mov ebx, df_handler
        mov ecx, 0x8e
        call set_gate32
        ; #GP's gate is not present: delivering #GP raises #NP, a contributory fault
        ; during a contributory fault's delivery: #DF with error code 0.
        mov byte [IDT_BASE + 13 * 8 + 5], 0x0e
        mov ax, 0x1234
        mov ds, ax
        PUTS32 "no fault?", 10
        EXIT 0x7e

df_handler:
        PUTS32 "#DF err "
        mov eax, [esp]
        call print32_hex32
        call print32_nl
        PUTS32 "triple fault", 10
        ; No IDT at all: the next fault cannot be delivered, nor can #DF.
        lidt [cs:empty_idt]
        mov ax, 0x1234
        mov ds, ax
        PUTS32 "still running?", 10
        EXIT 0x7e

empty_idt:
        dw 0
        dd 0

        ROM_END
