; Real to protected mode and back: LGDT/LIDT (with the 24-bit base of a 16-bit operand
; size), MOV CR0, far JMP both ways, MOV to and from segment registers, SGDT/SIDT, SMSW.
%include "rom.inc"

test_main:
        PUTS "real mode", 10
        ; LGDT with a 16-bit operand size ignores the base's high byte.
        call load_std_gdt
        lgdt [cs:gdt_ptr_junk]
        o32 sgdt [0x8000]
        mov eax, [0x8002]
        call print16_hex32
        mov al, ' '
        out 0xe9, al
        ; SGDT with a 16-bit operand size stores zero in the high byte.
        o32 lgdt [cs:gdt_ptr_high]
        mov dword [0x8010], 0xffffffff
        sgdt [0x8010]
        mov eax, [0x8012]
        call print16_hex32
        call print16_nl
        mov ax, 0x1234
        mov fs, ax
        mov bx, fs
        mov ax, bx
        call print16_hex16
        call print16_nl
        ENTER_PM32 pm

        bits 32
pm:     PUTS32 "protected mode", 10
        mov eax, cr0
        call print32_hex32
        call print32_nl
        smsw eax
        call print32_hex16
        call print32_nl
        mov eax, 0xffffffff
        mov ax, ds
        call print32_hex32
        call print32_nl
        mov ax, cs
        call print32_hex16
        call print32_nl
        sidt [0x20020]
        mov ax, [0x20020]
        call print32_hex16
        mov eax, [0x20022]
        call print32_hex32
        call print32_nl
        ; An indirect far jump through memory (m16:32).
        mov dword [0x20030], pm2
        mov word [0x20034], SEL_CODE32
        jmp far [0x20030]
pm2:    PUTS32 "far jmp m16:32", 10
        ; Back to real mode through a 16-bit code segment.
        jmp SEL_CODE16:pm16
        bits 16
pm16:   mov ax, SEL_DATA16
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov eax, cr0
        and al, 0xfe
        mov cr0, eax
        jmp 0xf000:rm
rm:     xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, STACK_TOP
        o32 lidt [cs:real_idt_ptr]
        PUTS "real mode again", 10
        mov ax, cs
        call print16_hex16
        call print16_nl
        EXIT 0x10

gdt_ptr_junk:
        dw GDT_ENTRIES * 8 - 1
        dd 0xab001000
gdt_ptr_high:
        dw GDT_ENTRIES * 8 - 1
        dd 0xcd001000

        ROM_END
