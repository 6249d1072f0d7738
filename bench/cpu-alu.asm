; CPU benchmark: an ALU and memory loop in 32-bit protected mode (ITER iterations of 9
; instructions: load, two ALU operations, store, index update, counter and branch).
%include "rom.inc"

%ifndef ITER
%define ITER 10000000
%endif

test_main:
        ENTER_PM32 pm
        bits 32
pm:     mov ecx, ITER
        xor esi, esi
        mov ebx, FREE_BASE
        xor edx, edx
.loop:  mov eax, [ebx + esi * 4]
        add eax, ecx
        xor eax, 0x5a5a5a5a
        mov [ebx + esi * 4], eax
        add edx, eax
        inc esi
        and esi, 1023
        dec ecx
        jnz .loop
        EXIT 0
        bits 16

        ROM_END
