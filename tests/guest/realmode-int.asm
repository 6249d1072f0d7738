; Real-address mode interrupts and far transfers (SDM Vol. 3A 20.1): INT n through the
; IVT and IRET, the FLAGS image and IF/TF clearing, INT3, INTO, far CALL/RETF in
; both forms, LDS LES LFS LGS LSS, PUSH/POP of segment registers, and "unreal mode" (a
; segment limit loaded in protected mode survives the return to real mode).
%include "rom.inc"

%macro SETVEC 2
        mov word [(%1) * 4], %2
        mov word [(%1) * 4 + 2], 0xf000
%endmacro

test_main:
        SETVEC 0x40, int40
        SETVEC 3, int3_handler
        SETVEC 4, into_handler
        PUTS "int 0x40", 10
        mov ax, 0x08d7                  ; flags image: OF and the arithmetic flags
        push ax
        popf
        int 0x40
        PUTS "back: sp "
        mov ax, sp
        call print16_hex16
        call print16_nl
        PUTS "int3", 10
        int3
        PUTS "into with OF clear", 10
        xor ax, ax
        into
        PUTS "into with OF set", 10
        mov al, 0x7f
        add al, 1
        into
        PUTS "far calls", 10
        call 0xf000:far_proc
        mov word [0x600], far_proc
        mov word [0x602], 0xf000
        call far [0x600]
        mov dword [0x604], far_proc32
        mov word [0x608], 0xf000
        o32 call far [0x604]
        PUTS "retf imm", 10
        mov bp, sp
        push word 0x1111
        push word 0x2222
        call 0xf000:far_proc_imm
        sub bp, sp
        mov ax, bp
        call print16_hex16
        call print16_nl
        PUTS "far pointers", 10
        mov word [0x610], 0x1234
        mov word [0x612], 0x5678
        lds si, [0x610]
        mov ax, ds
        call print16_hex16
        mov ax, si
        call print16_hex16
        xor ax, ax
        mov ds, ax
        les di, [0x610]
        mov ax, es
        call print16_hex16
        lfs bx, [0x610]
        mov ax, fs
        call print16_hex16
        lgs cx, [0x610]
        mov ax, gs
        call print16_hex16
        call print16_nl
        mov word [0x614], 0x6000
        mov word [0x616], 0
        lss sp, [0x614]
        mov ax, sp
        call print16_hex16
        mov ax, ss
        call print16_hex16
        call print16_nl
        mov sp, STACK_TOP
        PUTS "push/pop sreg", 10
        mov ax, 0x1111
        mov es, ax
        push es
        pop fs
        push fs
        pop gs
        push gs
        pop ds
        mov ax, ds
        call print16_hex16
        xor ax, ax
        mov ds, ax
        push cs
        pop ax
        call print16_hex16
        o32 push es
        pop ax
        call print16_hex16
        pop ax
        mov ax, sp
        call print16_hex16
        call print16_nl
        PUTS "unreal mode", 10
        call load_std_gdt
        mov eax, cr0
        or al, 1
        mov cr0, eax
        jmp SEL_CODE16:.pm16
.pm16:  mov ax, SEL_DATA32
        mov fs, ax
        mov eax, cr0
        and al, 0xfe
        mov cr0, eax
        jmp 0xf000:.rm
.rm:    xor ax, ax
        mov fs, ax
        mov ebx, 0x200000
        mov dword [fs:ebx], 0xdeadbeef
        mov eax, [fs:ebx]
        call print16_hex32
        call print16_nl
        PUTS "done", 10
        EXIT 0x10

int40:  PUTS "in int 0x40: flags "
        pushf
        pop ax
        call print16_hex16
        PUTS " frame "
        mov bp, sp
        mov ax, [bp]
        call print16_hex16
        mov al, ' '
        out 0xe9, al
        mov ax, [bp + 2]
        call print16_hex16
        mov al, ' '
        out 0xe9, al
        mov ax, [bp + 4]
        call print16_hex16
        call print16_nl
        iret
int3_handler:
        PUTS "in int3", 10
        iret
into_handler:
        PUTS "in into", 10
        iret
far_proc:
        PUTS "far_proc", 10
        retf
far_proc32:
        PUTS "far_proc32: "
        mov bp, sp
        mov eax, [bp]
        call print16_hex32
        mov ax, [bp + 4]
        call print16_hex16
        call print16_nl
        o32 retf
far_proc_imm:
        retf 4

        ROM_END
