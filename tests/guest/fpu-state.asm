; x87 state images (Intel SDM Vol. 1 8.1.10 figures 8-9 to 8-12, Vol. 2A FXSAVE table
; 3-53): FNSAVE in real mode (20-bit FIP/FDP with FOP) and in protected mode with 32- and
; 16-bit operand size, FRSTOR of each restoring the identical image, FXSAVE/FXRSTOR round
; trips including the MXCSR and XMM areas, FXRSTOR's #GP for reserved MXCSR bits and
; FXSAVE's for a misaligned area; then MMX: an MMX instruction empties nothing but makes
; every tag valid, TOP 0 and the written register's exponent all ones; EMMS empties them.
; Images are printed as dwords in hexadecimal.
;
; QEMU 7.2 does not keep FOP (stored as 0), FXSAVE stores neither FIP/FDP nor MXCSR and
; the XMM area with this CPU model, FRSTOR/FXRSTOR do not restore FIP, FDP and FOP, the
; reserved upper halves of the 32-bit FNSAVE fields are stored as 0 (the hardware stores
; FFFFh there; the host's x87 does), FXRSTOR ignores reserved MXCSR bits, and an MMX
; write leaves the register's exponent alone (hardware sets it to all ones, SDM Vol. 1
; 9.5.1; checked on the host). So fpu-state.expected is written by hand from the SDM and
; the host; do not re-record it with record.sh.
%include "rom.inc"
%include "system.inc"

AREA_A          equ FREE_BASE
AREA_B          equ FREE_BASE + 0x200
AREA_X          equ FREE_BASE + 0x400       ; 16-byte aligned
AREA_Y          equ FREE_BASE + 0x600
MEM             equ FREE_BASE + 0x800

; A distinctive state: round up, PC 53, PE masked and flagged, three registers, a
; memory operand noted in FDP.
%macro MAKE_STATE 0
        fninit
        fldcw [cs:cw_state]
        fldpi
        fld1
        fld tword [cs:val80]
        fdiv qword [cs:three64]
%endmacro

test_main:
        ; Real mode: FNSAVE with the real-mode layout, FRSTOR, FNSAVE again.
        mov eax, cr0
        and eax, ~0xc
        or eax, 0x22
        mov cr0, eax
        mov ax, AREA_A >> 4
        mov ds, ax
        MAKE_STATE
        fnsave [0]
        fnstsw ax
        PUTS "real mode fnsave (then fnstsw "
        call print16_hex16
        PUTS ")", 10
        frstor [0]
        fnsave [AREA_B - AREA_A]
        xor ax, ax
        mov ds, ax
        ENTER_PM32 pm
        bits 32
pm:     call install_catchers
        mov esi, AREA_A
        mov ecx, 27
        call print_dwords
        call compare_ab
        mov eax, cr4
        or eax, 0x200
        mov cr4, eax

        PUTS32 "protected mode fnsave, 32-bit", 10
        MAKE_STATE
.fip32: fnsave [AREA_A]
        fnstcw [MEM]
        mov ax, [MEM]
        SHOW32 "cw after fnsave "
        mov esi, AREA_A
        mov ecx, 27
        call print_dwords
        frstor [AREA_A]
        fnsave [AREA_B]
        call compare_ab

        PUTS32 "protected mode fnsave, 16-bit", 10
        MAKE_STATE
        o16 fnsave [AREA_A]
        mov esi, AREA_A
        mov ecx, 24
        call print_dwords
        o16 frstor [AREA_A]
        o16 fnsave [AREA_B]
        call compare_ab

        PUTS32 "fxsave", 10
        MAKE_STATE
        fxsave [AREA_X]
        mov esi, AREA_X
        mov ecx, 20
        call print_dwords
        PUTS32 "fxrstor of a crafted image, fxsave", 10
        mov edi, AREA_X
        mov ecx, 128
        mov eax, 0x01020304
.fill:  mov [edi], eax
        add eax, 0x04040404
        add edi, 4
        loop .fill
        mov dword [AREA_X], 0x3a00027f      ; FSW (TOP 7, C1, no ES) : FCW
        mov dword [AREA_X + 4], 0x000000c1  ; FTW: registers 0, 6 and 7 valid
        mov dword [AREA_X + 24], 0x00001f81 ; MXCSR: IE flagged
        fxrstor [AREA_X]
        fxsave [AREA_Y]
        mov esi, AREA_Y
        mov ecx, 8
        call print_dwords
        PUTS32 "xmm area", 10
        mov esi, AREA_Y + 160
        mov ecx, 32
        call print_dwords
        fnstenv [MEM]
        mov eax, [MEM + 8]
        SHOW32 "full tag word "
        mov eax, [MEM + 4]
        SHOW32 "status word "

        PUTS32 "fxrstor with MXCSR bit 16", 10
        mov dword [AREA_X + 24], 0x00011f80
        CATCH .gp1
        fxrstor [AREA_X]
        PUTS32 "no fault", 10
.gp1:   PUTS32 "fxsave to a misaligned area", 10
        CATCH .gp2
        fxsave [AREA_X + 8]
        PUTS32 "no fault", 10
.gp2:

        PUTS32 "mmx", 10
        fninit
        fldpi
        fld1
        movq mm1, [cs:mmx_a]
        paddb mm1, [cs:mmx_b]
        movq [MEM], mm1
        mov eax, [MEM + 4]
        call print32_hex32
        mov eax, [MEM]
        SHOW32 ""
        fnstenv [MEM]
        mov eax, [MEM + 4]
        SHOW32 "status word "
        mov eax, [MEM + 8]
        SHOW32 "tag word "
        fnsave [AREA_A]
        mov esi, AREA_A + 28
        mov ecx, 20
        call print_dwords
        frstor [AREA_A]
        emms
        fnstenv [MEM]
        mov eax, [MEM + 8]
        SHOW32 "tag word after emms "
        fld1
        fnstsw ax
        SHOW32 "fld1 after emms: status "
        PUTS32 "done", 10
        EXIT 0x21

; print_dwords: ECX dwords at ESI, eight per line.
print_dwords:
        pushad
        xor edx, edx
.next:  mov eax, [esi]
        call print32_hex32
        add esi, 4
        inc edx
        test dl, 7
        jnz .sp
        call print32_nl
        jmp .more
.sp:    PUTS32 " "
.more:  loop .next
        test dl, 7
        jz .done
        call print32_nl
.done:  popad
        ret

; compare_ab: "same image" or the first differing dword of AREA_A and AREA_B (108 bytes).
compare_ab:
        pushad
        xor ecx, ecx
.next:  mov eax, [AREA_A + ecx * 4]
        cmp eax, [AREA_B + ecx * 4]
        jne .diff
        inc ecx
        cmp ecx, 27
        jb .next
        PUTS32 "frstor + fnsave: same image", 10
        popad
        ret
.diff:  mov eax, ecx
        SHOW32 "frstor + fnsave: differs at dword "
        popad
        ret

cw_state:       dw 0x0a7f
val80:          dq 0x8000000000000001
                dw 0xc003
three64:        dq 0x4008000000000000
mmx_a:          dq 0x0102030405060708
mmx_b:          dq 0xf0f0f0f0f0f0f0ff

        ROM_END
