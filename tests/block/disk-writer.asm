; disk-writer.asm - a bare-metal guest that writes to the primary master IDE disk forever,
; for the crash test (guest-crash.py): ATA PIO with polling (no firmware, no interrupts).
;
; Generation g writes SPG sectors at LBA 1 + (g % SLOTS) * SPG; sector k of it holds the
; dword g, the dword k, then the bytes g*7+8, g*7+9, ... (mod 256). After every SYNC
; generations the guest issues FLUSH CACHE, then writes the counter sector (LBA 0: dword g,
; "HGCR") and flushes again. At start it reads the counter and continues after it, so the
; emulator can be killed and restarted on the same image. Everything up to the counter's
; generation was written before a completed flush: it must survive the kill.
; ATA-6 (T13 1410D) sections 8.15 FLUSH CACHE, 8.27 READ SECTORS, 8.62 WRITE SECTORS.

%include "rom.inc"

SLOTS   equ 1024
SPG     equ 8
SYNC    equ 4
BUF     equ 0x2000          ; buffer segment (physical 0x20000)

test_main:
        mov dx, 0x3f6
        mov al, 2               ; nIEN: no interrupts, we poll
        out dx, al
        xor eax, eax            ; read the counter sector
        mov cl, 1
        mov bl, 0x20
        call ata_cmd
        call wait_drq
        mov ax, BUF
        mov es, ax
        xor di, di
        mov dx, 0x1f0
        mov cx, 256
        rep insw
        call wait_idle
        xor ebp, ebp
        cmp dword [es:4], 'HGCR'
        jne .fresh
        mov ebp, [es:0]
        inc ebp
.fresh:
        PUTS "disk-writer: from generation "
        mov eax, ebp
        call print16_hex32
        call print16_nl

gen_loop:
        mov eax, ebp
        and eax, SLOTS - 1
        imul eax, eax, SPG
        inc eax
        mov cl, SPG
        mov bl, 0x30            ; WRITE SECTORS
        call ata_cmd
        xor bx, bx              ; sector k of the generation
.sector:
        call wait_drq
        mov ax, BUF
        mov es, ax
        xor di, di
        mov eax, ebp
        stosd
        movzx eax, bx
        stosd
        mov eax, ebp
        imul eax, eax, 7
        add eax, 8
        mov cx, 504
.fill:
        stosb
        inc al
        loop .fill
        call out_sector
        inc bx
        cmp bx, SPG
        jb .sector
        call wait_idle
        mov eax, ebp
        and eax, SYNC - 1
        cmp eax, SYNC - 1
        jne .next
        call flush
        xor eax, eax            ; the counter
        mov cl, 1
        mov bl, 0x30
        call ata_cmd
        call wait_drq
        mov ax, BUF
        mov es, ax
        xor di, di
        mov eax, ebp
        stosd
        mov eax, 'HGCR'
        stosd
        xor eax, eax
        mov cx, 126
        rep stosd
        call out_sector
        call wait_idle
        call flush
.next:
        inc ebp
        jmp gen_loop

; 512 bytes from BUF:0 to the data port.
out_sector:
        push ds
        mov ax, BUF
        mov ds, ax
        xor si, si
        mov dx, 0x1f0
        mov cx, 256
        rep outsw
        pop ds
        ret

; eax = LBA (28 bits), cl = sector count, bl = command.
ata_cmd:
        mov esi, eax
        call wait_idle
        mov eax, esi
        shr eax, 24
        and al, 0x0f
        or al, 0xe0             ; LBA mode, master
        mov dx, 0x1f6
        out dx, al
        mov dx, 0x1f2
        mov al, cl
        out dx, al
        mov eax, esi
        inc dx                  ; 0x1f3: LBA 7:0
        out dx, al
        shr eax, 8
        inc dx                  ; 0x1f4: LBA 15:8
        out dx, al
        shr eax, 8
        inc dx                  ; 0x1f5: LBA 23:16
        out dx, al
        mov dx, 0x1f7
        mov al, bl
        out dx, al
        ret

flush:
        call wait_idle
        mov dx, 0x1f6
        mov al, 0xe0
        out dx, al
        mov dx, 0x1f7
        mov al, 0xe7            ; FLUSH CACHE
        out dx, al
        call wait_idle
        ret

wait_idle:
        mov dx, 0x1f7
.poll:
        in al, dx
        test al, 0x80
        jnz .poll
        test al, 1
        jnz ata_error
        ret

wait_drq:
        mov dx, 0x1f7
.poll:
        in al, dx
        test al, 0x80
        jnz .poll
        test al, 1
        jnz ata_error
        test al, 8
        jz .poll
        ret

ata_error:
        PUTS "disk-writer: ATA error", 10
        EXIT 3

        ROM_END
