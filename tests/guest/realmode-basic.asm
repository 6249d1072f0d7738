; Real-mode basics: the runtime's output helpers, arithmetic flags through PUSHF-free
; paths, near calls and the debug-exit port. The first program every CPU change runs.
%include "rom.inc"

test_main:
        PUTS "real mode: hello", 10
        mov eax, 0x12345678
        call print16_hex32
        call print16_nl
        mov ax, 0xfff0
        add ax, 0x20
        jc .carry
        PUTS "no carry?", 10
        jmp .next
.carry: PUTS "carry ok", 10
.next:  mov cx, 5
        xor bx, bx
.sum:   add bx, cx
        loop .sum
        mov ax, bx
        call print16_hex16
        call print16_nl
        EXIT 0x10

        ROM_END
