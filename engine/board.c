/* The PC board: creates the chipset and ISA devices, wires their interrupt lines, maps the
 * firmware and gives it its configuration (CMOS, fw_cfg). Device register behaviour lives
 * in engine/hw/; this file only connects them.
 *
 * ISA interrupt lines are wired-OR: several sources may drive one line (a PCI PIRQ routed
 * to IRQ 11 and an ISA card on 11, the SCI and a PIRQ on 9), so the board keeps a bit per
 * source and drives the PIC input with their OR.
 */
#include "board.h"

#include <glib/gstdio.h>

#include "hw/dma8237.h"
#include "hw/fdc.h"
#include "hw/fw_cfg.h"
#include "block/aio.h"
#include "block/block.h"
#include "hw/i8042.h"
#include "hw/ide-bmdma.h"
#include "hw/ide.h"
#include "hw/cirrus.h"
#include "hw/vga.h"
#include "hw/i440fx.h"
#include "hw/pci.h"
#include "hw/pic8259.h"
#include "hw/piix3.h"
#include "hw/piix4pm.h"
#include "hw/pit8254.h"
#include "hw/resetctl.h"
#include "hw/rtc.h"
#include "hw/uhci.h"
#include "linuxboot.h"
#include "network.h"
#include "state.h"
#include "sound.h"
#include "mmu.h"
#include "tb.h"
#include "usb-host.h"

/* Interrupt sources: one bit each in a line's source mask. */
enum {
    SRC_PIT,
    SRC_KBD,
    SRC_COM2,
    SRC_COM1,
    SRC_FDC,
    SRC_RTC,
    SRC_SCI,
    SRC_MOUSE,
    SRC_FPU,
    SRC_IDE0,
    SRC_IDE1,
    SRC_PIRQ,
    SRC_SOUND,
    SRC_NIC,
    SRC_COUNT,
};

struct HgBoard {
    HgMachine *m;
    HgPic *pic;
    HgPit *pit;
    HgRtc *rtc;
    HgPciBus *pci;
    HgI440fx *i440fx;
    HgPiix3 *piix3;
    HgPiix4Pm *pm;
    HgFwCfg *fwcfg;
    HgResetCtl *resetctl;
    HgI8042 *kbc;
    HgDma *dma;
    HgFdc *fdc;
    HgVga *vga;     /* the standard VGA, or the one inside the Cirrus card */
    HgCirrus *cirrus; /* NULL unless cfg.vga is HG_VGA_MODEL_CIRRUS */
    GBytes *vga_rom;
    HgIdeChannel *ide[2];
    HgIdeBmdma *bmdma;
    HgPciDevice *ide_pci;
    struct BoardUart {
        HgBoard *b;
        int port;
        HgUart *uart;
    } com[2];
    uint32_t isa_sources[16]; /* per ISA IRQ line: the sources driving it high */
    bool a20_port92, a20_kbc;
    uint8_t post_code;
    HgLinuxBoot lboot;
    HgSound *sound; /* NULL without sound hardware */
    HgUhci *uhci;   /* PIIX3 USB, 00:01.2 */
    HgUsbHost *usb;
    HgNetwork *net; /* NULL without a network card */
};

/* ---- interrupt lines ---- */

static void isa_line(void *opaque, int n, bool level)
{
    HgBoard *b = opaque;
    int line = n & 0xff, src = n >> 8;
    uint32_t before = b->isa_sources[line];
    if (level)
        b->isa_sources[line] |= 1u << src;
    else
        b->isa_sources[line] &= ~(1u << src);
    if ((before != 0) != (b->isa_sources[line] != 0))
        hg_pic_set_irq(b->pic, line, b->isa_sources[line] != 0);
}

static HgIrq isa_irq(HgBoard *b, int line, int src)
{
    return hg_irq(isa_line, b, line | src << 8);
}

static void uart_tx(void *opaque, uint8_t byte)
{
    struct BoardUart *u = opaque;
    HgMachine *m = u->b->m;
    if (m->hooks.serial_out)
        m->hooks.serial_out(m->hooks.opaque, u->port, byte);
}

static void uart_irq(void *opaque, bool level)
{
    struct BoardUart *u = opaque;
    /* COM1 on IRQ 4, COM2 on IRQ 3. */
    isa_line(u->b, u->port == 0 ? 4 | SRC_COM1 << 8 : 3 | SRC_COM2 << 8, level);
}

HgUart *hg_board_uart(HgBoard *b, int port)
{
    return port >= 0 && port < 2 ? b->com[port].uart : NULL;
}

static void pic_intr(void *opaque, bool level)
{
    HgBoard *b = opaque;
    hg_cpu_set_intr(b->m->cpu, level);
}

/* CPU hooks receive the machine. */
static uint8_t cpu_intr_ack(void *opaque)
{
    HgMachine *m = opaque;
    return hg_pic_ack(m->board->pic);
}

/* FERR# from the FPU (CR0.NE = 0) reaches IRQ 13; a write to port 0xF0 clears the latch,
 * as DOS-era FPU exception handlers expect. */
static void cpu_ferr(void *opaque, bool level)
{
    HgMachine *m = opaque;
    HgBoard *b = m->board;
    if (level)
        isa_line(b, 13 | SRC_FPU << 8, true);
}

static void fpu_port_write(void *opaque, uint32_t port, uint32_t value, int size)
{
    HgBoard *b = opaque;
    isa_line(b, 13 | SRC_FPU << 8, false);
}

/* ---- memory map, A20, reset ---- */

static void map_changed(void *opaque)
{
    HgBoard *b = opaque;
    /* PAM or BAR changes alter what physical addresses hold: drop every translation. The
     * block cache copes with being flushed from inside an instruction. */
    hg_tlb_flush(b->m->cpu, false);
    hg_tb_flush_all(b->m->cpu->tbs);
    hg_cpu_kick(b->m->cpu);
}

static void direct_rearm(void *opaque, uint32_t base, uint32_t size)
{
    HgBoard *b = opaque;
    /* A frame buffer took its dirty pages: the next write to each maps it again. */
    hg_tlb_drop_writes_phys(b->m->cpu, base, size);
}

static void ram_written(void *opaque, uint32_t addr, uint32_t len)
{
    HgBoard *b = opaque;
    /* Device DMA into RAM: translated code there is stale. */
    while (len > 0) {
        uint32_t chunk = MIN(len, 0x1000 - (addr & 0xfff));
        hg_tb_invalidate_phys(b->m->cpu->tbs, addr, (int)chunk);
        addr += chunk;
        len -= chunk;
    }
}

static void update_a20(HgBoard *b)
{
    hg_cpu_set_a20(b->m->cpu, b->a20_port92 || b->a20_kbc);
}

static void port92_a20(void *opaque, bool on)
{
    HgBoard *b = opaque;
    b->a20_port92 = on;
    update_a20(b);
}

static void kbc_a20(void *opaque, bool on)
{
    HgBoard *b = opaque;
    b->a20_kbc = on;
    update_a20(b);
}

static void kbc_reset(void *opaque)
{
    HgBoard *b = opaque;
    hg_machine_message(b->m, G_LOG_LEVEL_INFO, "The guest reset the machine (keyboard controller)");
    b->m->reset_requested = true;
    hg_cpu_kick(b->m->cpu);
}

/* Port 0x80, the POST code port: firmware writes progress codes there; also used as an
 * I/O delay. Reads return what was written last, as on ISA POST cards. */
static uint32_t post_read(void *opaque, uint32_t port, int size)
{
    HgBoard *b = opaque;
    return b->post_code;
}

static void post_write(void *opaque, uint32_t port, uint32_t value, int size)
{
    HgBoard *b = opaque;
    b->post_code = (uint8_t)value;
}

static void reset_request(void *opaque, bool hard)
{
    HgBoard *b = opaque;
    hg_machine_message(b->m, G_LOG_LEVEL_INFO, "The guest reset the machine (port 0xCF9)");
    b->m->reset_requested = true;
    hg_cpu_kick(b->m->cpu);
}

static void acpi_poweroff(void *opaque)
{
    HgBoard *b = opaque;
    hg_machine_message(b->m, G_LOG_LEVEL_MESSAGE, "The guest powered the machine off (ACPI)");
    b->m->exited = true;
    b->m->exit_status = 0;
    hg_cpu_kick(b->m->cpu);
}

/* ---- firmware ---- */

static bool load_firmware(HgBoard *b, GError **error)
{
    HgMachine *m = b->m;
    gsize len;
    const uint8_t *p = g_bytes_get_data(m->bios, &len);
    hg_bus_map_rom(m->bus, (uint32_t)(0x100000000ull - len), p, (uint32_t)len);
    /* The last 128 KiB (or less) of the image also appear below 1 MiB, where the
     * i440FX's PAM registers let the firmware shadow it into RAM. */
    gsize low = MIN(len, 0x20000);
    hg_bus_map_rom(m->bus, 0x100000 - (uint32_t)low, p + len - low, (uint32_t)low);
    return true;
}

/* Disks: hda and hdb on the primary channel, the CD-ROM drive (always there, maybe empty)
 * as the secondary master, where QEMU's "pc" puts them and SeaBIOS looks. */
static bool attach_disk(HgBoard *b, int channel, int unit, const char *path, const char *fmt,
                        GError **error)
{
    /* With --snapshot the guest writes into a temporary overlay; the image stays as it was. */
    HgBlock *blk = b->m->cfg.snapshot ? hg_block_open_snapshot(path, fmt, error)
                                      : hg_block_open(path, fmt, false, error);
    if (!blk)
        return false;
    hg_block_set_aio(blk, b->m->aio);
    if (hg_block_size(blk) < 512) {
        g_set_error(error, HG_ERROR, HG_ERROR_FORMAT,
                    "%s is too small to be a disk image (%" G_GUINT64_FORMAT
                    " bytes; a disk holds at least one 512-byte sector)",
                    path, hg_block_size(blk));
        hg_block_close(blk);
        return false;
    }
    return hg_ide_attach_disk(b->ide[channel], unit, blk, error);
}

static bool setup_ide(HgBoard *b, GError **error)
{
    HgMachine *m = b->m;
    HgBus *bus = m->bus;
    b->ide[0] = hg_ide_channel_new(m->clock, isa_irq(b, 14, SRC_IDE0), 0);
    b->ide[1] = hg_ide_channel_new(m->clock, isa_irq(b, 15, SRC_IDE1), 1);
    hg_ide_map_legacy(b->ide[0], bus, 0x1f0, 0x3f6);
    hg_ide_map_legacy(b->ide[1], bus, 0x170, 0x376);
    b->bmdma = hg_ide_bmdma_new(bus, b->ide[0], b->ide[1]);
    /* PIIX3 IDE, 00:01.1: compatibility mode with bus mastering (prog-if 0x80); the
     * bus-master registers are BAR4. Linux's ata_piix reads the IDETIM enable bits at
     * 0x41/0x43 (SeaBIOS sets them), so 0x40-0x43 must hold what is written. */
    b->ide_pci = hg_pci_register(b->pci, HG_PCI_DEVFN(1, 1), 0x8086, 0x7010, 0, 0x010180,
                                 b->bmdma);
    uint8_t *wm = hg_pci_wmask(b->ide_pci);
    for (int i = 0x40; i < 0x44; i++)
        wm[i] = 0xff;
    hg_pci_set_bar(b->ide_pci, 4, 16, HG_PCI_BAR_IO, hg_ide_bmdma_bar_read,
                   hg_ide_bmdma_bar_write);
    if (m->cfg.hda && !attach_disk(b, 0, 0, m->cfg.hda, m->cfg.hda_format, error))
        return false;
    if (m->cfg.hdb && !attach_disk(b, 0, 1, m->cfg.hdb, m->cfg.hdb_format, error))
        return false;
    HgBlock *cd = NULL;
    if (m->cfg.cdrom) {
        cd = hg_block_open(m->cfg.cdrom, NULL, true, error);
        if (!cd)
            return false;
        hg_block_set_aio(cd, m->aio);
        if (hg_block_size(cd) < 2048) {
            g_set_error(error, HG_ERROR, HG_ERROR_FORMAT,
                        "%s is too small to be a CD image (%" G_GUINT64_FORMAT
                        " bytes; a CD holds at least one 2048-byte sector)",
                        m->cfg.cdrom, hg_block_size(cd));
            hg_block_close(cd);
            return false;
        }
    }
    return hg_ide_attach_cdrom(b->ide[1], 0, cd, error);
}

/* The CMOS geometry of a disk: LBA translation with 16 heads and 63 sectors, as firmware
 * setup screens report large disks. */
static void cmos_disk(HgBoard *b, int unit, HgCmosDisk *d)
{
    const char *path = unit == 0 ? b->m->cfg.hda : b->m->cfg.hdb;
    if (!path)
        return;
    uint64_t sectors = 0;
    GStatBuf st;
    if (g_stat(path, &st) == 0)
        sectors = (uint64_t)st.st_size / 512;
    d->present = true;
    d->heads = 16;
    d->sectors = 63;
    d->cylinders = (uint32_t)MIN(sectors / (16 * 63), 16383);
    if (d->cylinders == 0)
        d->cylinders = 1;
    d->translation = 1;
}

static void setup_cmos(HgBoard *b)
{
    HgMachine *m = b->m;
    HgCmosConfig c = {0};
    c.ram_below_4g = (uint64_t)m->cfg.memory_mib << 20;
    c.cpus = 1;
    c.fpu = true;
    c.ps2_mouse = true;
    c.floppy[0] = (uint8_t)hg_fdc_drive_type(b->fdc, 0);
    c.floppy[1] = (uint8_t)hg_fdc_drive_type(b->fdc, 1);
    cmos_disk(b, 0, &c.disk[0]);
    cmos_disk(b, 1, &c.disk[1]);
    const char *order = m->cfg.boot[0] ? m->cfg.boot : "cda";
    for (int i = 0; i < 3 && order[i]; i++)
        c.boot[i] = order[i] == 'a'   ? HG_CMOS_BOOT_FLOPPY
                    : order[i] == 'c' ? HG_CMOS_BOOT_HDD
                                      : HG_CMOS_BOOT_CDROM;
    hg_rtc_apply_config(b->rtc, &c);
}

static bool setup_fw_cfg(HgBoard *b, GError **error)
{
    HgMachine *m = b->m;
    hg_fw_cfg_set_e820_ram(b->fwcfg, (uint64_t)m->cfg.memory_mib << 20);
    if (m->cfg.kernel && hg_linuxboot_probe(m->cfg.kernel)) {
        if (!hg_linuxboot_prepare(&b->lboot, m->cfg.kernel, m->cfg.initrd, m->cfg.append,
                                  m->cfg.memory_mib << 20, error))
            return false;
        HgLinuxBoot *lb = &b->lboot;
        hg_fw_cfg_set_linux(b->fwcfg, lb->setup, lb->setup_addr, lb->kernel, lb->kernel_addr,
                            lb->initrd, lb->initrd_addr, m->cfg.append ? m->cfg.append : "",
                            lb->cmdline_addr);
        GBytes *rom = hg_linuxboot_rom();
        hg_fw_cfg_add_file_gbytes(b->fwcfg, "genroms/linuxboot.bin", rom);
        g_bytes_unref(rom);
        static const char order[] = "/rom@genroms/linuxboot.bin\n";
        hg_fw_cfg_add_file(b->fwcfg, "bootorder", order, sizeof(order) - 1);
    }
    return true;
}

/* ---- sound ---- */

static void sound_isa_irq(void *opaque, int line, bool level)
{
    HgBoard *b = opaque;
    if (line >= 0 && line < 16)
        isa_line(b, line | SRC_SOUND << 8, level);
}

static bool setup_sound(HgBoard *b, GError **error)
{
    HgMachine *m = b->m;
    HgSoundWiring w = {m->bus, m->clock, b->dma, b->pit, b->pci, sound_isa_irq, b};
    b->sound = hg_sound_new(m->cfg.soundhw, m->cfg.audio, &w, error);
    return b->sound || !m->cfg.soundhw;
}

/* ---- network ---- */

static void net_isa_irq(void *opaque, int line, bool level)
{
    HgBoard *b = opaque;
    if (line >= 0 && line < 16)
        isa_line(b, line | SRC_NIC << 8, level);
}

/* A PCI card goes in slot 3, after the VGA in slot 2, as QEMU's pc machine puts the first
 * NIC; the ISA NE2000 uses the ports and line of its options. */
static bool setup_network(HgBoard *b, GError **error)
{
    HgMachine *m = b->m;
    /* Frames that arrive wake the emulation thread, which hands them to the card at once. */
    HgNetworkWiring w = {m->bus, m->clock, b->pci, HG_PCI_DEVFN(3, 0), net_isa_irq, b,
                         hg_machine_wake, m};
    b->net = hg_network_new(&m->cfg, &w, error);
    return b->net || m->cfg.nic == HG_NIC_NONE;
}

HgNetwork *hg_board_network(HgBoard *b)
{
    return b ? b->net : NULL;
}

HgSound *hg_board_sound(HgBoard *b)
{
    return b ? b->sound : NULL;
}

/* The PIIX3's USB function (00:01.2), always there as on the real chipset, with the
 * devices the configuration names. */
static bool setup_usb(HgBoard *b, GError **error)
{
    HgMachine *m = b->m;
    b->uhci = hg_uhci_new(b->pci, m->bus, m->clock, HG_PCI_DEVFN(1, 2));
    b->usb = hg_usb_host_new(b->uhci);
    for (char **d = m->cfg.usb; d && *d; d++)
        if (!hg_usb_host_attach(b->usb, *d, error))
            return false;
    return true;
}

HgBoard *hg_board_new(HgMachine *m, GError **error)
{
    HgBoard *b = g_new0(HgBoard, 1);
    b->m = m;
    m->board = b;
    HgBus *bus = m->bus;
    m->cpu->hooks.intr_ack = cpu_intr_ack;
    m->cpu->hooks.ferr = cpu_ferr;
    hg_bus_set_map_changed(bus, map_changed, b);
    hg_bus_set_ram_written(bus, ram_written, b);
    hg_bus_set_direct_rearm(bus, direct_rearm, b);

    b->pic = hg_pic_new(bus, pic_intr, b);
    b->pit = hg_pit_new(bus, m->clock, isa_irq(b, 0, SRC_PIT));
    /* Instruction-counted runs see a fixed date, so they are reproducible. */
    int64_t now = m->cfg.clock == HG_CLOCK_ICOUNT ? hg_rtc_make_time(2024, 1, 1, 12, 0, 0)
                                                  : g_get_real_time() / G_USEC_PER_SEC;
    if (m->cfg.clock != HG_CLOCK_ICOUNT) {
        /* The RTC shows local time, as PC firmware and DOS/Windows expect. */
        GDateTime *dt = g_date_time_new_now_local();
        now += g_date_time_get_utc_offset(dt) / G_USEC_PER_SEC;
        g_date_time_unref(dt);
    }
    b->rtc = hg_rtc_new(bus, m->clock, isa_irq(b, 8, SRC_RTC), now);
    hg_bus_map_io(bus, 0xf0, 1, NULL, fpu_port_write, b);
    static const uint16_t com_base[2] = {0x3f8, 0x2f8};
    for (int i = 0; i < 2; i++) {
        b->com[i] = (struct BoardUart){b, i, NULL};
        b->com[i].uart = hg_uart_new(bus, com_base[i], uart_tx, uart_irq, &b->com[i]);
    }

    if (m->bios && !load_firmware(b, error))
        goto fail;
    b->pci = hg_pci_new(bus);
    b->i440fx = hg_i440fx_new(b->pci, m->cfg.memory_mib << 20);
    HgIrq pirq_lines[16];
    for (int i = 0; i < 16; i++)
        pirq_lines[i] = isa_irq(b, i, SRC_PIRQ);
    b->piix3 = hg_piix3_new(b->pci, pirq_lines);
    b->pm = hg_piix4pm_new(b->pci, m->clock, isa_irq(b, 9, SRC_SCI), acpi_poweroff, b);
    b->fwcfg = hg_fw_cfg_new(bus, 1);
    b->resetctl = hg_resetctl_new(bus, reset_request, port92_a20, b);
    if (!setup_fw_cfg(b, error))
        goto fail;
    HgI8042Callbacks kcb = {.a20 = kbc_a20, .reset = kbc_reset, .opaque = b};
    b->kbc = hg_i8042_new(bus, isa_irq(b, 1, SRC_KBD), isa_irq(b, 12, SRC_MOUSE), &kcb);
    b->dma = hg_dma_new(bus);
    hg_bus_map_io(bus, 0x80, 1, post_read, post_write, b);
    b->fdc = hg_fdc_new(bus, b->dma, isa_irq(b, 6, SRC_FDC), 2);
    if (m->cfg.fda && !hg_fdc_insert(b->fdc, 0, m->cfg.fda, false, error))
        goto fail;
    if (m->cfg.vga == HG_VGA_MODEL_CIRRUS) {
        /* Cirrus CLGD-5446 in PCI slot 2 as QEMU's -vga cirrus: SeaBIOS runs its option ROM
         * (vgabios-cirrus.bin) from the ROM BAR. */
        b->cirrus = hg_cirrus_new(bus, m->clock, m->display, b->pci, HG_PCI_DEVFN(2, 0), NULL);
        b->vga = hg_cirrus_vga(b->cirrus);
    } else {
        /* The standard VGA as QEMU's isa-vga: 8 MiB with the Bochs VBE interface, its
         * framebuffer at 0xE0000000, and Debian's SeaVGABIOS isa build handed to SeaBIOS
         * through fw_cfg (SeaBIOS runs no ROM it merely finds at 0xC0000). */
        b->vga = hg_vga_new(bus, m->clock, m->display, 8u << 20);
        hg_vga_map_lfb(b->vga, HG_VGA_LFB_ISA);
        gchar *rom = NULL;
        gsize rom_len = 0;
        if (g_file_get_contents(HG_VGA_BIOS, &rom, &rom_len, NULL)) {
            b->vga_rom = g_bytes_new_take(rom, rom_len);
            hg_fw_cfg_add_file_gbytes(b->fwcfg, "vgaroms/vgabios-isavga.bin", b->vga_rom);
        }
    }
    if (!setup_ide(b, error))
        goto fail;
    if (!setup_sound(b, error))
        goto fail;
    if (!setup_usb(b, error))
        goto fail;
    if (!setup_network(b, error))
        goto fail;
    setup_cmos(b);
    return b;

fail:
    m->board = NULL;
    hg_board_free(b);
    return NULL;
}

void hg_board_free(HgBoard *b)
{
    if (!b)
        return;
    hg_network_free(b->net);
    hg_sound_free(b->sound);
    for (int i = 0; i < 2; i++)
        hg_uart_free(b->com[i].uart);
    hg_usb_host_free(b->usb);
    hg_uhci_free(b->uhci);
    hg_ide_bmdma_free(b->bmdma);
    hg_ide_channel_free(b->ide[0]);
    hg_ide_channel_free(b->ide[1]);
    if (b->cirrus)
        hg_cirrus_free(b->cirrus);
    else
        hg_vga_free(b->vga);
    if (b->vga_rom)
        g_bytes_unref(b->vga_rom);
    hg_fdc_free(b->fdc);
    hg_dma_free(b->dma);
    hg_i8042_free(b->kbc);
    hg_resetctl_free(b->resetctl);
    hg_fw_cfg_free(b->fwcfg);
    hg_piix4pm_free(b->pm);
    hg_piix3_free(b->piix3);
    hg_i440fx_free(b->i440fx);
    hg_pci_free(b->pci);
    hg_rtc_free(b->rtc);
    hg_pit_free(b->pit);
    hg_pic_free(b->pic);
    hg_linuxboot_clear(&b->lboot);
    g_free(b);
}

void hg_board_reset(HgBoard *b)
{
    hg_pic_reset(b->pic);
    hg_pit_reset(b->pit);
    hg_rtc_reset(b->rtc);
    hg_i440fx_reset(b->i440fx);
    hg_piix3_reset(b->piix3);
    hg_piix4pm_reset(b->pm);
    if (b->uhci)
        hg_uhci_reset(b->uhci);
    hg_network_reset(b->net); /* the PCI card before the bus, as rtl8139.h asks */
    hg_pci_reset(b->pci);
    hg_fw_cfg_reset(b->fwcfg);
    hg_resetctl_reset(b->resetctl);
    hg_i8042_reset(b->kbc);
    hg_dma_reset(b->dma);
    hg_fdc_reset(b->fdc);
    if (b->cirrus)
        hg_cirrus_reset(b->cirrus);
    else
        hg_vga_reset(b->vga);
    hg_ide_channel_reset(b->ide[0]);
    hg_ide_channel_reset(b->ide[1]);
    hg_ide_bmdma_reset(b->bmdma);
    b->post_code = 0;
    for (int i = 0; i < 2; i++)
        hg_uart_reset(b->com[i].uart);
    memset(b->isa_sources, 0, sizeof(b->isa_sources));
    hg_sound_reset(b->sound);
    b->a20_port92 = false;
    b->a20_kbc = hg_i8042_a20(b->kbc);
    update_a20(b);
}

bool hg_board_power_button(HgBoard *b)
{
    return hg_piix4pm_power_button(b->pm);
}

HgI8042 *hg_board_kbc(HgBoard *b)
{
    return b->kbc;
}

HgFdc *hg_board_fdc(HgBoard *b)
{
    return b->fdc;
}

HgVga *hg_board_vga(HgBoard *b)
{
    return b->vga;
}

bool hg_board_cdrom_change(HgBoard *b, const char *path, GError **error)
{
    HgBlock *cd = hg_block_open(path, NULL, true, error);
    if (!cd)
        return false;
    hg_block_set_aio(cd, b->m->aio);
    if (hg_block_size(cd) < 2048) {
        g_set_error(error, HG_ERROR, HG_ERROR_FORMAT,
                    "%s is too small to be a CD image (%" G_GUINT64_FORMAT " bytes)", path,
                    hg_block_size(cd));
        hg_block_close(cd);
        return false;
    }
    return hg_ide_cdrom_insert(b->ide[1], 0, cd, error);
}

bool hg_board_cdrom_eject(HgBoard *b, bool force, GError **error)
{
    return hg_ide_cdrom_eject(b->ide[1], 0, force, error);
}

/* Waits for every image request still running on a worker and runs the completions,
 * until the devices submit no more: then no device is in the middle of host I/O. */
void hg_board_drain_io(HgBoard *b)
{
    if (!b)
        return;
    do {
        hg_ide_channel_drain(b->ide[0]);
        hg_ide_channel_drain(b->ide[1]);
    } while (hg_aio_run_completions(b->m->aio) > 0);
}

/* ---- machine state ---- */

enum { BOARD_STATE_VERSION = 1 };

/* The order matters and is the same both ways: the PCI functions' own sections before the
 * bus (whose load re-maps BARs), and the chipset functions that re-apply mappings or
 * re-drive lines from their configuration space after it (pci.h, i440fx.h, piix3.h,
 * piix4pm.h). The clock has been loaded before, so devices re-arm timers against it. */
void hg_board_save(const HgBoard *b, HgStateWriter *w)
{
    hg_state_begin(w, "board", BOARD_STATE_VERSION);
    for (int i = 0; i < 16; i++)
        hg_state_put_u32(w, b->isa_sources[i]);
    hg_state_put_u8(w, b->a20_port92);
    hg_state_put_u8(w, b->a20_kbc);
    hg_state_put_u8(w, b->post_code);
    hg_state_end(w);
    hg_pic_save(b->pic, w);
    hg_pit_save(b->pit, w);
    hg_rtc_save(b->rtc, w);
    hg_dma_save(b->dma, w);
    hg_i8042_save(b->kbc, w);
    hg_fdc_save(b->fdc, w);
    for (int i = 0; i < 2; i++)
        hg_uart_save(b->com[i].uart, w);
    hg_fw_cfg_save(b->fwcfg, w);
    hg_resetctl_save(b->resetctl, w);
    hg_ide_channel_save(b->ide[0], w);
    hg_ide_channel_save(b->ide[1], w);
    hg_ide_bmdma_save(b->bmdma, w);
    if (b->sound)
        hg_sound_save(b->sound, w);
    hg_network_save(b->net, w);
    if (b->cirrus)
        hg_cirrus_save(b->cirrus, w);
    else
        hg_vga_save(b->vga, w);
    hg_pci_save(b->pci, w);
    hg_i440fx_save(b->i440fx, w);
    hg_piix3_save(b->piix3, w);
    hg_piix4pm_save(b->pm, w);
    hg_uhci_save(b->uhci, w);
}

void hg_board_load(HgBoard *b, HgStateReader *r)
{
    if (hg_state_open(r, "board", 1, BOARD_STATE_VERSION)) {
        uint32_t sources[16];
        for (int i = 0; i < 16; i++)
            sources[i] = hg_state_get_u32(r) & ((1u << SRC_COUNT) - 1);
        bool p92 = hg_state_get_u8(r) != 0, kbc = hg_state_get_u8(r) != 0;
        uint8_t post = hg_state_get_u8(r);
        hg_state_close(r);
        if (hg_state_ok(r)) {
            memcpy(b->isa_sources, sources, sizeof(sources));
            b->a20_port92 = p92;
            b->a20_kbc = kbc;
            b->post_code = post;
        }
    }
    hg_pic_load(b->pic, r);
    hg_pit_load(b->pit, r);
    hg_rtc_load(b->rtc, r);
    hg_dma_load(b->dma, r);
    hg_i8042_load(b->kbc, r);
    hg_fdc_load(b->fdc, r);
    for (int i = 0; i < 2; i++)
        hg_uart_load(b->com[i].uart, r);
    hg_fw_cfg_load(b->fwcfg, r);
    hg_resetctl_load(b->resetctl, r);
    hg_ide_channel_load(b->ide[0], r);
    hg_ide_channel_load(b->ide[1], r);
    hg_ide_bmdma_load(b->bmdma, r);
    if (b->sound)
        hg_sound_load(b->sound, r);
    hg_network_load(b->net, r);
    if (b->cirrus)
        hg_cirrus_load(b->cirrus, r);
    else
        hg_vga_load(b->vga, r);
    hg_pci_load(b->pci, r);
    hg_i440fx_load(b->i440fx, r);
    hg_piix3_load(b->piix3, r);
    hg_piix4pm_load(b->pm, r);
    hg_uhci_load(b->uhci, r);
    update_a20(b);
}

const char *hg_board_cdrom_path(HgBoard *b)
{
    HgBlock *cd = hg_ide_cdrom_medium(b->ide[1], 0);
    return cd ? hg_block_filename(cd) : NULL;
}

HgBlock *hg_board_disk(HgBoard *b, int n)
{
    return n == 0 || n == 1 ? hg_ide_disk(b->ide[0], n) : NULL;
}

HgUsbHost *hg_board_usb(HgBoard *b)
{
    return b->usb;
}
