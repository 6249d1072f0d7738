/* QEMU firmware configuration device (fw_cfg), I/O interface of the PC: selector 0x510,
 * data 0x511, DMA address register 0x514-0x51B (QEMU docs/specs/fw_cfg.rst).
 *
 * Board wiring: HgFwCfg *f = hg_fw_cfg_new(bus, nb_cpus); then
 *   hg_fw_cfg_set_e820_ram(f, ram_below_4g)   "etc/e820" (and legacy RAM_SIZE)
 *   hg_fw_cfg_add_i32(f, HG_FW_CFG_IRQ0_OVERRIDE, 1)   if the PIT reaches IOAPIC pin 2
 *   hg_fw_cfg_add_file(f, "bootorder", text, strlen(text))   (newline-separated paths)
 *   direct Linux boot: hg_fw_cfg_add_i32(f, HG_FW_CFG_KERNEL_ADDR/SIZE, ...) and
 *   hg_fw_cfg_add_bytes(f, HG_FW_CFG_KERNEL_DATA, ...) for the kernel, setup, initrd and
 *   command line keys, plus hg_fw_cfg_add_file(f, "genroms/linuxboot_dma.bin", ...).
 * Items are copied (or referenced: hg_fw_cfg_add_gbytes) and may be replaced later. Nothing to
 * reset but the selection (hg_fw_cfg_reset); items are configuration and are not saved, only
 * the selection/offset/DMA register (hg_fw_cfg_save/load).
 * SeaBIOS's boot menu key (0x0E) is 0: no "Press ESC" wait.
 */
#pragma once

#include <glib.h>
#include <stdint.h>

typedef struct HgBus HgBus;
typedef struct HgFwCfg HgFwCfg;
typedef struct HgStateWriter HgStateWriter;
typedef struct HgStateReader HgStateReader;

enum {
    HG_FW_CFG_SIGNATURE = 0x00,
    HG_FW_CFG_ID = 0x01,
    HG_FW_CFG_UUID = 0x02,
    HG_FW_CFG_RAM_SIZE = 0x03,
    HG_FW_CFG_NOGRAPHIC = 0x04,
    HG_FW_CFG_NB_CPUS = 0x05,
    HG_FW_CFG_MACHINE_ID = 0x06,
    HG_FW_CFG_KERNEL_ADDR = 0x07,
    HG_FW_CFG_KERNEL_SIZE = 0x08,
    HG_FW_CFG_KERNEL_CMDLINE = 0x09,
    HG_FW_CFG_INITRD_ADDR = 0x0a,
    HG_FW_CFG_INITRD_SIZE = 0x0b,
    HG_FW_CFG_BOOT_DEVICE = 0x0c,
    HG_FW_CFG_NUMA = 0x0d,
    HG_FW_CFG_BOOT_MENU = 0x0e,
    HG_FW_CFG_MAX_CPUS = 0x0f,
    HG_FW_CFG_KERNEL_ENTRY = 0x10,
    HG_FW_CFG_KERNEL_DATA = 0x11,
    HG_FW_CFG_INITRD_DATA = 0x12,
    HG_FW_CFG_CMDLINE_ADDR = 0x13,
    HG_FW_CFG_CMDLINE_SIZE = 0x14,
    HG_FW_CFG_CMDLINE_DATA = 0x15,
    HG_FW_CFG_SETUP_ADDR = 0x16,
    HG_FW_CFG_SETUP_SIZE = 0x17,
    HG_FW_CFG_SETUP_DATA = 0x18,
    HG_FW_CFG_FILE_DIR = 0x19,
    HG_FW_CFG_FILE_FIRST = 0x20,
    HG_FW_CFG_ACPI_TABLES = 0x8000,
    HG_FW_CFG_SMBIOS_ENTRIES = 0x8001,
    HG_FW_CFG_IRQ0_OVERRIDE = 0x8002,
    HG_FW_CFG_E820_TABLE = 0x8003,
    HG_FW_CFG_MAX_FILES = 256,
};

HgFwCfg *hg_fw_cfg_new(HgBus *bus, int nb_cpus);
void hg_fw_cfg_free(HgFwCfg *f);
void hg_fw_cfg_reset(HgFwCfg *f);

/* Keys 0x0000-0x3FFF and 0x8000-0xBFFF; others are refused (g_assert). */
void hg_fw_cfg_add_bytes(HgFwCfg *f, uint16_t key, const void *data, uint32_t len);
void hg_fw_cfg_add_gbytes(HgFwCfg *f, uint16_t key, GBytes *data);
void hg_fw_cfg_add_i16(HgFwCfg *f, uint16_t key, uint16_t v);
void hg_fw_cfg_add_i32(HgFwCfg *f, uint16_t key, uint32_t v);
void hg_fw_cfg_add_i64(HgFwCfg *f, uint16_t key, uint64_t v);
/* A named file (name up to 55 bytes); the directory stays sorted by name as QEMU keeps it.
 * Re-adding a name replaces its contents. Returns the key, or -1 when the directory is
 * full or the name too long. */
int hg_fw_cfg_add_file(HgFwCfg *f, const char *name, const void *data, uint32_t len);
int hg_fw_cfg_add_file_gbytes(HgFwCfg *f, const char *name, GBytes *data);
/* Direct Linux boot (QEMU x86_load_linux): the real-mode setup, protected-mode kernel,
 * initrd (may be NULL) and command line with their load addresses, as keys 0x07-0x18 for
 * linuxboot(_dma).bin. The board has patched the setup header already. */
void hg_fw_cfg_set_linux(HgFwCfg *f, GBytes *setup, uint32_t setup_addr, GBytes *kernel,
                         uint32_t kernel_addr, GBytes *initrd, uint32_t initrd_addr,
                         const char *cmdline, uint32_t cmdline_addr);
/* etc/e820 with one RAM entry [0, ram_below_4g), and RAM_SIZE. */
void hg_fw_cfg_set_e820_ram(HgFwCfg *f, uint64_t ram_below_4g);

void hg_fw_cfg_save(const HgFwCfg *f, HgStateWriter *w);
void hg_fw_cfg_load(HgFwCfg *f, HgStateReader *r);
