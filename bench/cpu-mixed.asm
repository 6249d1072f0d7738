; CPU benchmark: a mixed loop shaped like compiled C in 32-bit protected mode: calls and
; returns, pushes and pops, compares and conditional branches, byte loads with zero
; extension, shifts, multiplication, and a small memory copy (ITER outer iterations).
%include "rom.inc"

%ifndef ITER
%define ITER 1000000
%endif

test_main:
        ENTER_PM32 pm
        bits 32
pm:     mov ecx, ITER
        mov edi, FREE_BASE
        xor eax, eax
.outer: push ecx
        mov esi, edi
        mov ecx, 8
.inner: movzx edx, byte [esi + ecx]
        call mix
        cmp eax, 0x40000000
        jb .small
        sub eax, 0x3fffffff
.small: dec ecx
        jnz .inner
        lea ebx, [eax + eax * 2 + 7]
        mov [edi + 64], ebx
        mov edx, [edi + 64]
        shl edx, 3
        imul edx, edx, 13
        mov [edi + 68], edx
        pop ecx
        dec ecx
        jnz .outer
        EXIT 0

mix:    push ebx
        mov ebx, edx
        add ebx, eax
        shr ebx, 1
        xor eax, ebx
        test edx, 1
        jz .even
        add eax, edx
.even:  pop ebx
        ret
        bits 16

        ROM_END
