; A small virtual-8086 monitor (SDM Vol. 3A chapter 20, VME off): IRETD enters V86 mode
; at IOPL 0; OUT to a port the TSS I/O permission bitmap allows runs directly, OUT to a
; denied port, INT n, CLI, PUSHF and HLT raise #GP(0), which the ring-0 monitor decodes,
; emulates and resumes. Segment registers arrive null in the monitor and come back from
; the V86 frame on IRETD.
%include "rom.inc"

TSS_A   equ TSS_BASE
SEL_A   equ SEL_FREE
IOMAP   equ 0x68
TSS_LIM equ IOMAP + 32          ; ports 0-255, then the terminating 0xff byte

test_main:
        ENTER_PM32 pm

        bits 32
pm:     PUTS32 "v86 monitor", 10
        call install_exc_reporters
        mov eax, 13
        mov ebx, monitor
        mov ecx, 0x8e
        call set_gate32
        ; TSS with SS0:ESP0 and an I/O bitmap denying everything but port 0xE9.
        mov edi, TSS_A
        mov ecx, 0x40
        xor eax, eax
.clr:   mov [edi], eax
        add edi, 4
        loop .clr
        mov dword [TSS_A + 4], 0x6800
        mov dword [TSS_A + 8], SEL_DATA32
        mov word [TSS_A + 0x66], IOMAP
        mov edi, TSS_A + IOMAP
        mov ecx, 33
.map:   mov byte [edi], 0xff
        inc edi
        loop .map
        mov byte [TSS_A + IOMAP + 0xe9 / 8], 0xfd
        mov dword [GDT_BASE + SEL_A], (TSS_A << 16) | TSS_LIM
        mov dword [GDT_BASE + SEL_A + 4], 0x8900
        mov ax, SEL_A
        ltr ax
        ; IRETD to V86 mode: GS FS DS ES SS ESP EFLAGS(VM, IOPL 0) CS EIP.
        push dword 0
        push dword 0
        push dword 0x1234
        push dword 0
        push dword 0
        push dword 0x7800
        push dword 0x20002
        push dword 0xf000
        push dword v86_code
        iretd

; #GP from V86 mode: frame at ESP = error, EIP, CS, EFLAGS, ESP, SS, ES, DS, FS, GS.
monitor:
        pushad                          ; 32 bytes
        mov ax, SEL_DATA32
        mov ds, ax
        mov es, ax
        mov ax, ds
        mov ebp, esp
        PUTS32 "#GP err "
        mov eax, [ebp + 32]
        call print32_hex16
        PUTS32 " ds "
        mov eax, [ebp + 32 + 28]
        call print32_hex16
        PUTS32 ": "
        ; Linear address of CS:IP = CS * 16 + IP, without shift instructions.
        movzx eax, word [ebp + 32 + 8]
        lea ebx, [eax * 8]
        add ebx, ebx
        movzx eax, word [ebp + 32 + 4]
        add ebx, eax
        movzx eax, byte [ebx]
        cmp al, 0xe6
        je .out
        cmp al, 0xcd
        je .int
        cmp al, 0xfa
        je .cli
        cmp al, 0x9c
        je .pushf
        cmp al, 0xf4
        je .hlt
        PUTS32 "unexpected opcode "
        call print32_hex8
        call print32_nl
        EXIT 0x7e
.out:   PUTS32 "out "
        mov al, [ebx + 1]
        call print32_hex8
        PUTS32 ", "
        mov eax, [ebp + 28]             ; saved EAX
        call print32_hex8
        mov ecx, 2
        jmp .next
.int:   PUTS32 "int "
        mov al, [ebx + 1]
        call print32_hex8
        PUTS32 " ax "
        mov eax, [ebp + 28]
        call print32_hex16
        mov ecx, 2
        jmp .next
.cli:   PUTS32 "cli"
        mov ecx, 1
        jmp .next
.pushf: PUTS32 "pushf"
        mov ecx, 1
        jmp .next
.hlt:   PUTS32 "hlt", 10
        EXIT 0x10
.next:  call print32_nl
        add [ebp + 32 + 4], ecx         ; skip the emulated instruction
        popad
        add esp, 4
        iretd

        bits 16
v86_code:
        mov al, 'V'
        out 0xe9, al
        mov al, 10
        out 0xe9, al
        mov ax, ds
        cmp ax, 0x1234
        jne .bad
        mov al, 0x5a
        out 0x80, al
        mov ax, 0x4c21
        int 0x21
        cli
        pushf
        mov ax, ds
        cmp ax, 0x1234
        jne .bad
        mov al, 'O'
        out 0xe9, al
        mov al, 'K'
        out 0xe9, al
        mov al, 10
        out 0xe9, al
        hlt
.bad:   mov al, 'X'
        out 0xe9, al
        hlt

        ROM_END
