/* Multiboot (version 0.6.96) kernel loading for --kernel: ELF32 or a.out-kludge images,
 * one module (the initrd), the command line and a memory map. */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "bus.h"
#include "cpu.h"

typedef struct HgMultiboot HgMultiboot;

/* Reads and validates the kernel (and module); nothing is written to a machine yet. */
HgMultiboot *hg_multiboot_load(const char *kernel, const char *initrd, const char *cmdline,
                               GError **error);
void hg_multiboot_free(HgMultiboot *mb);
/* Copies the kernel into RAM and puts the CPU in the multiboot entry state (protected
 * mode, flat segments, EAX = 0x2BADB002, EBX = info structure). */
bool hg_multiboot_start(HgMultiboot *mb, HgBus *bus, HgCpu *cpu, bool direct, GError **error);
