/* Links the assembled option ROM (linuxboot.bin, built by nasm) into the engine. */
    .section .rodata
    .balign 16
    .globl hg_linuxboot_rom_start
    .globl hg_linuxboot_rom_end
hg_linuxboot_rom_start:
    .incbin LINUXBOOT_BIN
hg_linuxboot_rom_end:
    .section .note.GNU-stack, "", @progbits
