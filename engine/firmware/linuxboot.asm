; linuxboot.asm - the option ROM that boots a Linux kernel given on the command line
; (--kernel/--initrd/--append) after the firmware has set the PC up.
;
; The board hands the firmware this ROM as the fw_cfg file "genroms/linuxboot.bin" and names
; it first in "bootorder". SeaBIOS runs option ROMs from fw_cfg and boots from the PnP
; bootstrap entry vector (BEV) below. The host side (engine/linuxboot.c) has already parsed
; the bzImage and patched its setup header (loader type, command-line pointer, heap end,
; initrd address and size), and offers the pieces as fw_cfg items; this ROM only copies them
; into place through the fw_cfg DMA interface (which writes physical memory directly, so no
; mode switch is needed to reach above 1 MiB) and enters the kernel's real-mode setup code,
; as the Linux boot protocol (Documentation/x86/boot.rst) describes.
;
; The image's checksum bytes are filled in by the engine when it loads the ROM.

        bits 16
        org 0

FW_CFG_PORT_SEL   equ 0x510
FW_CFG_PORT_DATA  equ 0x511
FW_CFG_PORT_DMA   equ 0x514

FW_CFG_KERNEL_ADDR  equ 0x07
FW_CFG_KERNEL_SIZE  equ 0x08
FW_CFG_INITRD_ADDR  equ 0x0a
FW_CFG_INITRD_SIZE  equ 0x0b
FW_CFG_KERNEL_DATA  equ 0x11
FW_CFG_INITRD_DATA  equ 0x12
FW_CFG_CMDLINE_ADDR equ 0x13
FW_CFG_CMDLINE_SIZE equ 0x14
FW_CFG_CMDLINE_DATA equ 0x15
FW_CFG_SETUP_ADDR   equ 0x16
FW_CFG_SETUP_SIZE   equ 0x17
FW_CFG_SETUP_DATA   equ 0x18

DMA_CTL_ERROR     equ 0x01
DMA_CTL_READ      equ 0x02
DMA_CTL_SELECT    equ 0x08

rom_start:
        db 0x55, 0xaa
        db (rom_end - rom_start) / 512     ; size in 512-byte blocks
        jmp near init                      ; offset 3: initialisation entry
        times 0x18 - ($ - $$) db 0
        dw 0                               ; no PCI data structure
        dw pnp_header                      ; PnP expansion header
        align 16
pnp_header:
        db "$PnP"                          ; signature
        db 1                               ; revision
        db 2                               ; length in 16-byte units
        dw 0                               ; next header
        db 0                               ; reserved
        db 0                               ; checksum (patched by the engine)
        dd 0                               ; device identifier
        dw manufacturer                    ; manufacturer string
        dw product                         ; product name (SeaBIOS shows it in its menu)
        db 0, 0, 0                         ; device type
        db 0x14                            ; indicators: IPL device, may be shadowed
        dw 0                               ; boot connection vector
        dw 0                               ; disconnect vector
        dw bev                             ; bootstrap entry vector
        dw 0                               ; reserved
        dw 0                               ; static resource information

manufacturer:   db "Hangar", 0
product:        db "Linux direct boot", 0

init:
        retf

; Reads the 32-bit little-endian value of fw_cfg item AX into EAX.
read_u32:
        push dx
        push cx
        mov dx, FW_CFG_PORT_SEL
        out dx, ax
        mov dx, FW_CFG_PORT_DATA
        xor eax, eax
        mov cx, 4
.byte:  ror eax, 8
        in al, dx
        loop .byte
        ror eax, 8
        pop cx
        pop dx
        ret

; DMA-reads fw_cfg item AX (whole) to physical address EDI, ECX bytes. A zero length
; copies nothing. Uses a descriptor on the stack (its physical address is SS * 16 + SP).
dma_read:
        jecxz .done
        push ebp
        push edx
        push ebx
        sub sp, 16
        mov bp, sp
        movzx ebx, ax
        shl ebx, 16
        or ebx, DMA_CTL_SELECT | DMA_CTL_READ
        bswap ebx
        mov [ss:bp + 0], ebx               ; control (big-endian)
        mov ebx, ecx
        bswap ebx
        mov [ss:bp + 4], ebx               ; length
        mov dword [ss:bp + 8], 0           ; address, high half
        mov ebx, edi
        bswap ebx
        mov [ss:bp + 12], ebx              ; address, low half
        movzx ebx, bp
        xor eax, eax
        mov ax, ss
        shl eax, 4
        add ebx, eax                       ; physical address of the descriptor
        xor eax, eax
        mov dx, FW_CFG_PORT_DMA
        out dx, eax                        ; high half of the address: 0
        mov eax, ebx
        bswap eax
        add dx, 4
        out dx, eax                        ; low half starts the transfer
.wait:  mov eax, [ss:bp + 0]
        bswap eax
        test eax, ~DMA_CTL_ERROR
        jnz .wait
        add sp, 16
        pop ebx
        pop edx
        pop ebp
.done:  ret

%macro COPY 3   ; address item, size item, data item
        mov ax, %1
        call read_u32
        mov edi, eax
        mov ax, %2
        call read_u32
        mov ecx, eax
        mov ax, %3
        call dma_read
%endmacro

bev:
        cli
        cld
        COPY FW_CFG_SETUP_ADDR, FW_CFG_SETUP_SIZE, FW_CFG_SETUP_DATA
        COPY FW_CFG_KERNEL_ADDR, FW_CFG_KERNEL_SIZE, FW_CFG_KERNEL_DATA
        COPY FW_CFG_INITRD_ADDR, FW_CFG_INITRD_SIZE, FW_CFG_INITRD_DATA
        COPY FW_CFG_CMDLINE_ADDR, FW_CFG_CMDLINE_SIZE, FW_CFG_CMDLINE_DATA
        ; Enter the setup code: segments at the setup base, the stack below the command
        ; line (the host placed it 64 KiB above the setup base), CS:IP = base + 0x200.
        mov ax, FW_CFG_SETUP_ADDR
        call read_u32
        shr eax, 4
        mov ds, ax
        mov es, ax
        mov fs, ax
        mov gs, ax
        mov ss, ax
        mov sp, 0xfff0
        add ax, 0x20
        push ax
        push word 0
        retf

        align 512, db 0
rom_end:
