; Task switches by JMP (SDM Vol. 3A 7.3): to a 32-bit TSS and through a task gate in the
; GDT, to a 16-bit TSS, and back; busy bits of both descriptors, the state saved in the
; outgoing TSS, registers loaded from the incoming one, CR0.TS set by the switch; an LDT
; loaded from the new TSS with DS taken from it; a #TS for a bad DS selector raised in
; the new task's context (EIP of the new task).
%include "rom.inc"
%include "platform.inc"
%include "system.inc"

TSS_A   equ TSS_BASE            ; the initial task (LTR)
TSS_B   equ TSS_BASE + 0x100
TSS_D   equ TSS_BASE + 0x200    ; 16-bit
SEL_A   equ SEL_FREE            ; 0x40
SEL_B   equ SEL_FREE + 8        ; 0x48
SEL_GB  equ SEL_FREE + 16       ; 0x50: task gate to B
SEL_D   equ SEL_FREE + 24       ; 0x58
SEL_LDT equ SEL_FREE + 32       ; 0x60
SEL_E   equ SEL_FREE + 40       ; 0x68
TSS_E   equ TSS_BASE + 0x300
LDT     equ TSS_BASE + 0x800

test_main:
        ENTER_PM32 pm

        bits 32

; TSSDESC gdt_offset, base, limit, access

pm:     PUTS32 "task switch by jmp", 10
        call install_catchers
        ; Clear the TSS area.
        mov edi, TSS_BASE
        mov ecx, 0x400
        xor eax, eax
.clr:   mov [edi], eax
        add edi, 4
        loop .clr
        TSSDESC SEL_A, TSS_A, 0x67, 0x89
        TSSDESC SEL_B, TSS_B, 0x67, 0x89
        TSSDESC SEL_D, TSS_D, 0x2b, 0x81
        ; Task gate (type 5, DPL 0) naming B.
        mov dword [GDT_BASE + SEL_GB], SEL_B << 16
        mov dword [GDT_BASE + SEL_GB + 4], 0x8500
        ; Task B: 32-bit, starts at task_b with its own registers.
        mov dword [TSS_B + 0x20], task_b
        mov dword [TSS_B + 0x24], 0x2
        mov dword [TSS_B + 0x28], 0xb0b0b0b0    ; EAX
        mov dword [TSS_B + 0x34], 0xb3b3b3b3    ; EBX
        mov dword [TSS_B + 0x38], 0x6000        ; ESP
        mov dword [TSS_B + 0x48], SEL_DATA32    ; ES
        mov dword [TSS_B + 0x4c], SEL_CODE32    ; CS
        mov dword [TSS_B + 0x50], SEL_DATA32    ; SS
        mov dword [TSS_B + 0x54], 0x0c          ; DS: LDT entry 1
        mov dword [TSS_B + 0x60], SEL_LDT
        ; The LDT: entry 1 is a flat data segment.
        TSSDESC SEL_LDT, LDT, 0x17, 0x82
        mov dword [LDT + 8], 0x0000ffff
        mov dword [LDT + 12], 0x00cf9300
        ; Task E: DS names an LDT entry while E has no LDT: #TS(DS) in E's context.
        mov dword [TSS_E + 0x20], task_e
        mov dword [TSS_E + 0x24], 0x2
        mov dword [TSS_E + 0x38], 0x5800
        mov dword [TSS_E + 0x48], SEL_DATA32
        mov dword [TSS_E + 0x4c], SEL_CODE32
        mov dword [TSS_E + 0x50], SEL_DATA32
        mov dword [TSS_E + 0x54], 0x1234
        TSSDESC SEL_E, TSS_E, 0x67, 0x89
        mov dword [TSS_B + 0x58], SEL_DATA32    ; FS
        mov dword [TSS_B + 0x5c], SEL_DATA32    ; GS
        ; Task D: 16-bit TSS.
        mov word [TSS_D + 0x0e], task_d         ; IP
        mov word [TSS_D + 0x10], 0x2            ; FLAGS
        mov word [TSS_D + 0x12], 0xd0d0         ; AX
        mov word [TSS_D + 0x1a], 0x5000         ; SP
        mov word [TSS_D + 0x22], SEL_DATA16     ; ES
        mov word [TSS_D + 0x24], SEL_CODE16     ; CS
        mov word [TSS_D + 0x26], SEL_DATA16     ; SS
        mov word [TSS_D + 0x28], SEL_DATA16     ; DS

        mov ax, SEL_A
        ltr ax
        clts
        mov eax, 0xa0a0a0a0
        mov ebx, 0xa3a3a3a3
        jmp SEL_B:0
after_b:
        PUTS32 "back in A", 10
        SHOW32 "eax "
        mov eax, ebx
        SHOW32 "ebx "
        mov eax, cr0
        and eax, 8
        SHOW32 "cr0.ts "
        movzx eax, byte [GDT_BASE + SEL_A + 5]
        SHOW32 "A access "
        movzx eax, byte [GDT_BASE + SEL_B + 5]
        SHOW32 "B access "
        mov eax, [TSS_B + 0x20]
        sub eax, task_b
        SHOW32 "B saved eip - task_b "
        mov eax, [TSS_B + 0x28]
        SHOW32 "B saved eax "
        mov eax, [TSS_B + 0x4c]
        SHOW32 "B saved cs "
        mov eax, [TSS_B + 0x00]
        SHOW32 "B link "
        ; Through the task gate: B resumes after its JMP to A.
        clts
        mov eax, 0xa1a1a1a1
        jmp SEL_GB:0
after_b2:
        PUTS32 "back in A again", 10
        SHOW32 "eax "
        ; A 16-bit task.
        jmp SEL_D:0
after_d:
        PUTS32 "back from 16-bit task", 10
        SHOW32 "eax "
        movzx eax, word [TSS_D + 0x12]
        SHOW32 "D saved ax "
        movzx eax, word [TSS_D + 0x0e]
        sub eax, task_d
        SHOW32 "D saved ip - task_d "
        movzx eax, byte [GDT_BASE + SEL_D + 5]
        SHOW32 "D access "
        sldt ax
        movzx eax, ax
        SHOW32 "A ldtr "
        PUTS32 "bad selector in the new task", 10
        mov eax, 10
        mov ebx, ts_handler
        mov ecx, 0x8e
        call set_gate32
        CATCH after_e
        jmp SEL_E:0
after_e:
        str ax
        movzx eax, ax
        SHOW32 "tr "
        movzx eax, byte [GDT_BASE + SEL_E + 5]
        SHOW32 "E access "
        EXIT 0x10

; #TS: prints the error code only. The SDM (7.3, step 12) has the fault raised in the new
; task's context, so the pushed EIP is E's first instruction (as Hangar does); QEMU 7.2
; pushes the EIP of the JMP instead.
ts_handler:
        mov ax, SEL_DATA32      ; DS of E was never validly loaded
        mov ds, ax
        mov es, ax
        PUTS32 "#TS err "
        mov eax, [esp]
        call print32_hex16
        call print32_nl
        jmp catch_resume

task_e: PUTS32 "task E ran?", 10
        EXIT 0x7e

task_b: PUTS32 "in task B", 10
        mov ax, ds
        movzx eax, ax
        SHOW32 "ds "
        sldt ax
        movzx eax, ax
        SHOW32 "ldtr "
        SHOW32 "eax "
        mov eax, ebx
        SHOW32 "ebx "
        mov eax, esp
        SHOW32 "esp "
        mov eax, cr0
        and eax, 8
        SHOW32 "cr0.ts "
        movzx eax, byte [GDT_BASE + SEL_A + 5]
        SHOW32 "A access "
        movzx eax, byte [GDT_BASE + SEL_B + 5]
        SHOW32 "B access "
        mov eax, [TSS_A + 0x20]
        sub eax, after_b
        SHOW32 "A saved eip - after_b "
        mov eax, [TSS_A + 0x28]
        SHOW32 "A saved eax "
        mov eax, 0xb1b1b1b1
        jmp SEL_A:0
        PUTS32 "in task B again", 10
        SHOW32 "eax "
        mov dword [TSS_A + 0x20], after_b2
        jmp SEL_A:0

        bits 16
task_d: mov eax, 0x12345678
        mov ax, 0xd0d1
        mov dword [TSS_A + 0x20], after_d
        jmp SEL_A:0
        bits 32

        ROM_END
