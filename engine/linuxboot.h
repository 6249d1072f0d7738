/* Direct Linux boot (--kernel with a bzImage): the host half of the Linux x86 boot
 * protocol (Documentation/x86/boot.rst). The kernel file is parsed and its setup header
 * patched here; the pieces go to the firmware through fw_cfg, and our own option ROM
 * (engine/firmware/linuxboot.asm) copies them into place and enters the kernel. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct HgLinuxBoot {
    GBytes *setup;   /* real-mode setup code with the patched header */
    GBytes *kernel;  /* protected-mode kernel */
    GBytes *initrd;  /* may be NULL */
    GBytes *cmdline; /* zero-terminated */
    uint32_t setup_addr, kernel_addr, initrd_addr, cmdline_addr;
} HgLinuxBoot;

/* True when the file starts like a bzImage (setup header signature "HdrS"). */
bool hg_linuxboot_probe(const char *path);
/* Reads and prepares everything; ram_below_4g is the guest RAM size (the initrd goes as
 * high as the kernel allows under it, leaving room for the firmware's ACPI tables). */
bool hg_linuxboot_prepare(HgLinuxBoot *lb, const char *kernel, const char *initrd,
                          const char *cmdline, uint32_t ram_below_4g, GError **error);
void hg_linuxboot_clear(HgLinuxBoot *lb);
/* The option ROM image (checksummed), for the fw_cfg file "genroms/linuxboot.bin". */
GBytes *hg_linuxboot_rom(void);
