; System instructions without faults: CPUID (vendor and the feature bits both QEMU's
; pentium2 and Hangar report), RDMSR/WRMSR (SYSENTER MSRs, PAT, MTRRs, TSC), RDTSC
; advancing, MOV to and from DR0-DR7 with the DR4/DR5 aliases, INVD/WBINVD, and a
; SYSEXIT to ring 3 and SYSENTER back (SDM Vol. 2 and Vol. 3A 5.8.7, 17.2).
%include "rom.inc"

test_main:
        ENTER_PM32 pm

        bits 32
%macro SHOW64 1                 ; prints a label and EDX:EAX
        PUTS32 %1
        xchg eax, edx
        call print32_hex32
        xchg eax, edx
        call print32_hex32
        call print32_nl
%endmacro

pm:     PUTS32 "cpuid", 10
        xor eax, eax
        cpuid
        mov [0x20000], ebx
        mov [0x20004], edx
        mov [0x20008], ecx
        mov byte [0x2000c], 0
        PUTS32 "vendor "
        mov esi, 0x20000
.vend:  mov al, [esi]
        test al, al
        jz .vdone
        out 0xe9, al
        inc esi
        jmp .vend
.vdone: call print32_nl
        mov eax, 1
        cpuid
        ; FPU DE PSE TSC MSR CX8 SEP MTRR PGE CMOV MMX: what a 686 kernel relies on.
        and edx, 0x0080b93d
        mov eax, edx
        SHOW32 "features "

        PUTS32 "msr", 10
        mov ecx, 0x174
        mov eax, 0x28
        xor edx, edx
        wrmsr
        mov ecx, 0x175
        mov eax, 0x6ff0
        wrmsr
        mov ecx, 0x176
        mov eax, sysenter_target + ROM_BASE
        wrmsr
        mov ecx, 0x174
        rdmsr
        SHOW64 "sysenter_cs "
        mov ecx, 0x175
        rdmsr
        SHOW64 "sysenter_esp "
        mov ecx, 0x277
        rdmsr
        SHOW64 "pat "
        mov eax, 0x00070406
        mov edx, 0x00070106
        wrmsr
        rdmsr
        SHOW64 "pat written "
        mov ecx, 0x2ff
        mov eax, 0xc06
        xor edx, edx
        wrmsr
        rdmsr
        SHOW64 "mtrr_def_type "
        mov ecx, 0x200
        mov eax, 0x00100006
        xor edx, edx
        wrmsr
        rdmsr
        SHOW64 "mtrr_base0 "
        mov ecx, 0x250
        mov eax, 0x06060606
        mov edx, 0x06060606
        wrmsr
        rdmsr
        SHOW64 "mtrr_fix64k "
        ; The TSC: written to 0, it reads back small; RDTSC always advances.
        mov ecx, 0x10
        xor eax, eax
        xor edx, edx
        wrmsr
        rdtsc
        test edx, edx
        jnz .big
        cmp eax, 0x100000
        jae .big
        PUTS32 "tsc small", 10
        jmp .tsc2
.big:   PUTS32 "tsc big?", 10
.tsc2:  rdtsc
        mov ebx, eax
        mov esi, edx
        rdtsc
        sub eax, ebx
        sbb edx, esi
        jc .back
        or eax, edx
        jz .back
        PUTS32 "rdtsc advances", 10
        jmp .dr
.back:  PUTS32 "rdtsc did not advance", 10

.dr:    PUTS32 "debug registers", 10
        mov eax, 0x12345678
        mov dr0, eax
        mov eax, 0x9abcdef0
        mov dr3, eax
        mov eax, dr0
        SHOW32 "dr0 "
        mov eax, dr3
        SHOW32 "dr3 "
        mov eax, dr6
        SHOW32 "dr6 "
        mov eax, dr7
        SHOW32 "dr7 "
        xor eax, eax
        mov dr6, eax
        mov dr7, eax
        mov eax, dr6
        SHOW32 "dr6 after 0 "
        mov eax, dr7
        SHOW32 "dr7 after 0 "
        mov eax, dr4
        SHOW32 "dr4 (dr6) "
        mov eax, dr5
        SHOW32 "dr5 (dr7) "
        invd
        wbinvd

        ; SYSEXIT to ring 3 at a flat EIP, SYSENTER back to ring 0.
        PUTS32 "sysexit", 10
        mov ecx, 0x5ff0                 ; ring-3 ESP
        mov edx, ring3 + ROM_BASE       ; ring-3 EIP (flat CS)
        sysexit
ring3:  mov ax, cs
        mov [ss:0x20100], ax
        mov ax, ss
        mov [ss:0x20102], ax
        mov [ss:0x20104], esp
        sysenter
sysenter_target:
        mov ax, cs
        mov [0x20108], ax
        mov ax, ss
        mov [0x2010a], ax
        mov [0x2010c], esp
        jmp SEL_CODE32:back
back:   mov ax, SEL_DATA32
        mov ss, ax
        mov esp, STACK_TOP
        movzx eax, word [0x20100]
        SHOW32 "ring3 cs "
        movzx eax, word [0x20102]
        SHOW32 "ring3 ss "
        mov eax, [0x20104]
        SHOW32 "ring3 esp "
        movzx eax, word [0x20108]
        SHOW32 "ring0 cs "
        movzx eax, word [0x2010a]
        SHOW32 "ring0 ss "
        mov eax, [0x2010c]
        SHOW32 "ring0 esp "
        EXIT 0x10

        ROM_END
