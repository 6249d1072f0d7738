; Entering virtual-8086 mode by a task switch (SDM Vol. 3A 7.3, 20.2.5): a JMP to a
; 32-bit TSS whose EFLAGS image has VM set loads the segment registers as paragraph
; numbers and runs at CPL 3; the new task's own I/O bitmap decides its port accesses,
; and its #GP goes to a ring-0 monitor on the stack named by its SS0:ESP0.
%include "rom.inc"
%include "platform.inc"

TSS_A   equ TSS_BASE
TSS_V   equ TSS_BASE + 0x100
SEL_A   equ SEL_FREE
SEL_V   equ SEL_FREE + 8
IOMAP   equ 0x68

test_main:
        ENTER_PM32 pm

        bits 32
pm:     PUTS32 "v86 task", 10
        call install_exc_reporters
        mov eax, 13
        mov ebx, monitor
        mov ecx, 0x8e
        call set_gate32
        mov edi, TSS_BASE
        mov ecx, 0x100
        call zero_dwords
        TSSDESC SEL_A, TSS_A, 0x67, 0x89
        TSSDESC SEL_V, TSS_V, IOMAP + 32, 0x89
        mov dword [TSS_V + 4], 0x6800           ; ESP0
        mov dword [TSS_V + 8], SEL_DATA32       ; SS0
        mov dword [TSS_V + 0x20], v86_code      ; EIP
        mov dword [TSS_V + 0x24], 0x20002       ; EFLAGS: VM, IOPL 0
        mov dword [TSS_V + 0x28], 0x1111        ; EAX
        mov dword [TSS_V + 0x38], 0x7800        ; ESP
        mov dword [TSS_V + 0x4c], 0xf000        ; CS
        mov dword [TSS_V + 0x54], 0x1234        ; DS
        mov dword [TSS_V + 0x58], 0x5678        ; FS
        mov word [TSS_V + 0x66], IOMAP
        mov edi, TSS_V + IOMAP
        mov ecx, 33
.map:   mov byte [edi], 0xff
        inc edi
        loop .map
        mov byte [TSS_V + IOMAP + 0xe9 / 8], 0xfd
        mov ax, SEL_A
        ltr ax
        jmp SEL_V:0

; #GP from the V86 task: error, EIP, CS, EFLAGS, ESP, SS, ES, DS, FS, GS.
monitor:
        mov ax, SEL_DATA32
        mov ds, ax
        PUTS32 "#GP from v86: cs "
        mov eax, [esp + 8]
        call print32_hex16
        PUTS32 " eflags "
        mov eax, [esp + 12]
        call print32_hex32
        PUTS32 " ds "
        mov eax, [esp + 28]
        call print32_hex16
        PUTS32 " fs "
        mov eax, [esp + 32]
        call print32_hex16
        PUTS32 " esp "
        mov eax, esp
        call print32_hex32
        call print32_nl
        str ax
        movzx eax, ax
        SHOW32 "tr "
        movzx eax, byte [GDT_BASE + SEL_A + 5]
        SHOW32 "A access "
        EXIT 0x10

        bits 16
v86_code:
        mov al, 'V'
        out 0xe9, al
        mov al, 10
        out 0xe9, al
        mov ax, ds
        cmp ax, 0x1234
        jne .bad
        mov ax, cs
        cmp ax, 0xf000
        jne .bad
        mov al, 'O'
        out 0xe9, al
        mov al, 'K'
        out 0xe9, al
        mov al, 10
        out 0xe9, al
        out 0x80, al
.bad:   mov al, 'X'
        out 0xe9, al
        hlt

        ROM_END
