; Paging without faults (SDM Vol. 3A chapter 4): 32-bit paging with 4 KiB pages, 4 MiB
; pages (CR4.PSE), PAE with 4 KiB and 2 MiB pages; accessed and dirty bits read back from
; the tables after reads and writes; CR3 reloads and INVLPG making table edits visible;
; supervisor writes to read-only pages with CR0.WP clear.
%include "rom.inc"
%include "platform.inc"

PD      equ PT_BASE             ; 32-bit page directory
PT0     equ PT_BASE + 0x1000    ; identity map of the first 4 MiB
PT1     equ PT_BASE + 0x2000    ; linear 0x400000: test pages
PDPT    equ PT_BASE + 0x3000    ; PAE
PAE_PD  equ PT_BASE + 0x4000
PAE_PT  equ PT_BASE + 0x5000
DATA    equ FREE_BASE           ; 0x20000: the physical page behind the test mappings
DATA2   equ FREE_BASE + 0x1000

test_main:
        ENTER_PM32 pm

        bits 32

pm:     PUTS32 "paging", 10
        ; Clear the directory and the test table, identity-map 0-4 MiB with 4 KiB pages.
        mov edi, PD
        mov ecx, 3 * 1024
        call zero_dwords
        mov edi, PT0
        mov eax, 3              ; P RW
        mov ecx, 1024
        mov edx, 4
        call fill_entries
        mov dword [PD], PT0 + 3
        mov dword [PD + 4], PT1 + 7             ; P RW US
        mov dword [PT1], DATA + 7               ; 0x400000 -> DATA
        mov dword [PT1 + 4], DATA2 + 5          ; 0x401000 -> DATA2, read-only
        mov dword [DATA], 0x11111111
        mov dword [DATA2], 0x22222222
        mov eax, PD
        call enable_paging
.on:    mov eax, [0x400000]
        SHOW32 "4k read: "
        mov eax, [PT1]
        SHOW32 "pte after read: "
        mov eax, [PD + 4]
        SHOW32 "pde after read: "
        mov dword [0x400004], 0x33333333
        mov eax, [PT1]
        SHOW32 "pte after write: "
        mov eax, [DATA + 4]
        SHOW32 "phys: "
        ; WP clear: a supervisor write to a read-only page succeeds and sets D.
        mov eax, [0x401000]
        SHOW32 "ro read: "
        mov eax, [PT1 + 4]
        SHOW32 "ro pte after read: "
        mov dword [0x401000], 0x44444444
        mov eax, [PT1 + 4]
        SHOW32 "ro pte after write: "
        mov eax, [DATA2]
        SHOW32 "ro phys: "

        ; Remap 0x400000 to DATA2: INVLPG makes the change visible.
        mov dword [PT1], DATA2 + 7
        invlpg [0x400000]
        mov eax, [0x400000]
        SHOW32 "after invlpg: "
        ; And back, made visible by a CR3 reload.
        mov dword [PT1], DATA + 7
        mov eax, cr3
        mov cr3, eax
        mov eax, [0x400000]
        SHOW32 "after cr3 reload: "

        ; 4 MiB pages: linear 0x800000 -> physical 0.
        mov eax, cr4
        or eax, 0x10            ; PSE
        mov cr4, eax
        mov dword [PD + 8], 0x83                ; P RW PS
        mov eax, [0x800000 + DATA]
        SHOW32 "4m read: "
        mov eax, [PD + 8]
        SHOW32 "4m pde after read: "
        mov dword [0x800000 + DATA + 8], 0x55555555
        mov eax, [PD + 8]
        SHOW32 "4m pde after write: "
        mov eax, [DATA + 8]
        SHOW32 "4m phys: "
        ; PS is ignored without CR4.PSE: the entry then names a page table at 0.
        mov eax, cr4
        and eax, ~0x10
        mov cr4, eax
        mov dword [PD + 12], PT0 + 0x83         ; PS set, but a table here
        mov eax, [0xc00000 + DATA]
        SHOW32 "ps without pse: "

        ; Global pages: with CR4.PGE, a G entry is usable; INVLPG of any address in a
        ; large page drops all of it.
        mov eax, cr4
        or eax, 0x90            ; PSE PGE
        mov cr4, eax
        mov dword [PD + 8], 0x183               ; G P RW PS
        mov eax, [0x800000 + DATA]
        SHOW32 "global read: "
        mov eax, [0x800000 + DATA2]
        SHOW32 "global read, other 4k: "
        mov dword [PD + 8], 0x400183            ; now physical 4 MiB
        mov dword [PD + 16], 0x400083           ; 0x1000000 -> physical 4 MiB
        mov dword [0x1000000 + DATA], 0x77777777
        mov dword [0x1000000 + DATA2], 0x78787878
        invlpg [0x800000 + 0x3ff000]
        mov eax, [0x800000 + DATA]
        SHOW32 "global after invlpg: "
        mov eax, [0x800000 + DATA2]
        SHOW32 "global after invlpg, other 4k: "

        ; PAE: leave paging, build a PDPT, a directory with a 4 KiB table and a 2 MiB page.
        mov eax, cr0
        and eax, 0x7fffffff
        mov cr0, eax
        mov edi, PDPT
        mov ecx, 3 * 1024
        call zero_dwords
        mov dword [PDPT], PAE_PD + 1
        mov dword [PAE_PD], PAE_PT + 3
        mov dword [PAE_PD + 8], 0x83            ; 0x200000 -> physical 0, 2 MiB
        mov edi, PAE_PT
        mov eax, 3
        mov ecx, 512
        mov edx, 8
        call fill_entries
        mov dword [PAE_PT + 8 * 0x30], DATA + 3 ; 0x30000 -> DATA
        mov eax, cr4
        or eax, 0x20            ; PAE
        mov cr4, eax
        mov eax, PDPT
        call enable_paging
.pae:   mov eax, [0x30000]
        SHOW32 "pae 4k read: "
        mov eax, [PAE_PT + 8 * 0x30]
        SHOW32 "pae pte after read: "
        mov dword [0x30000 + 12], 0x88888888
        mov eax, [PAE_PT + 8 * 0x30]
        SHOW32 "pae pte after write: "
        mov eax, [PAE_PD]
        SHOW32 "pae pde: "
        mov eax, [0x200000 + DATA + 12]
        SHOW32 "pae 2m read: "
        mov eax, [PAE_PD + 8]
        SHOW32 "pae 2m pde after read: "
        mov dword [0x200000 + DATA + 16], 0x99999999
        mov eax, [PAE_PD + 8]
        SHOW32 "pae 2m pde after write: "
        mov eax, [DATA + 16]
        SHOW32 "pae phys: "
        EXIT 0x10

        ROM_END
