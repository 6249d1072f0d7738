; Faults of the system instructions (SDM Vol. 2): privileged ones at CPL 3 (#GP(0)),
; RDTSC with CR4.TSD, RDPMC without CR4.PCE, DR4 with CR4.DE (#UD), SYSENTER with a null
; SYSENTER_CS and SYSEXIT from ring 3 (#GP(0)), UD2 and RSM (#UD).
%include "rom.inc"
%include "system.inc"

test_main:
        ENTER_PM32 pm

        bits 32
; USER instruction: runs it at ring 3 (IOPL 0); prints "ok" when it does not fault.
%macro USER 1+
        CATCH %%next
        ENTER_RING3 %%r3
%%r3:   %1
        PUTS32 "ok", 10
        int 0x7f
%%next:
%endmacro
; RING0 instruction: the same at ring 0.
%macro RING0 1+
        CATCH %%next
        %1
        PUTS32 "ok", 10
%%next:
%endmacro

pm:     PUTS32 "system instruction faults", 10
        call setup_tss32
        call install_catchers
        mov eax, cr4
        or eax, 0x4             ; TSD
        mov cr4, eax
        USER rdtsc
        RING0 rdtsc
        USER rdpmc
        USER rdmsr
        USER wrmsr
        USER mov eax, dr7
        USER mov dr7, eax
        USER invlpg [0]
        USER wbinvd
        USER invd
        USER hlt
        USER cpuid
        USER sysexit
        USER ud2
        USER rsm
        RING0 ud2
        mov eax, cr4
        or eax, 0x8             ; DE
        mov cr4, eax
        RING0 mov eax, dr4
        RING0 mov dr5, eax
        RING0 mov eax, dr6
        mov eax, cr4
        and eax, ~0xc
        mov cr4, eax
        RING0 mov eax, dr4
        ; SYSENTER needs a non-null SYSENTER_CS.
        mov ecx, 0x174
        xor eax, eax
        xor edx, edx
        wrmsr
        RING0 sysenter
        EXIT 0x10

        ROM_END
