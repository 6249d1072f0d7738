/* Intel 82441FX PCI and Memory Controller (440FX PCIset datasheet, 290549, section 3.2
 * "PCI configuration registers"): IDs, the DRAM row boundaries, the seven PAM registers
 * (0x59-0x5F) that steer 0xC0000-0xFFFFF between DRAM and PCI/ROM per segment, and SMRAM
 * (0x72, with D_LCK semantics). The values at reset are the datasheet's, which SeaBIOS
 * expects (PAM 0: the BIOS executes from ROM, copies itself into shadow RAM and write-
 * protects it). SMRAM open/closed does not change the 0xA0000 window: there is no SMM.
 */
#include "i440fx.h"

#include <glib.h>

#include "bus.h"
#include "pci.h"
#include "state.h"

enum { PAM0 = 0x59, SMRAM = 0x72, SMRAM_D_OPEN = 0x40, SMRAM_D_LCK = 0x10 };

struct HgI440fx {
    HgPciBus *pci;
    HgPciDevice *dev;
    uint32_t ram_size;
};

/* PAM n (0-6) covers: PAM0 bits 5:4 0xF0000-0xFFFFF; PAMn low nibble 0xC0000 + (n-1) *
 * 0x8000, high nibble the next 16 KiB. Bit 0 of a field: reads from DRAM, bit 1: writes. */
static void apply_pam(HgI440fx *h)
{
    HgBus *bus = hg_pci_get_bus(h->pci);
    const uint8_t *c = hg_pci_config(h->dev);
    hg_bus_set_shadow(bus, 0xf0000, 0x10000, (c[PAM0] >> 4) & 3);
    for (int n = 1; n < 7; n++) {
        uint32_t base = 0xc0000 + (uint32_t)(n - 1) * 0x8000;
        hg_bus_set_shadow(bus, base, 0x4000, c[PAM0 + n] & 3);
        hg_bus_set_shadow(bus, base + 0x4000, 0x4000, (c[PAM0 + n] >> 4) & 3);
    }
}

static void config_write(void *opaque, int offset, uint32_t value, int size)
{
    HgI440fx *h = opaque;
    (void)value;
    if (offset <= PAM0 + 6 && offset + size > PAM0)
        apply_pam(h);
}

static void defaults(HgI440fx *h)
{
    uint8_t *c = hg_pci_config(h->dev);
    uint8_t *wm = hg_pci_wmask(h->dev);
    /* Command: memory and bus master are hardwired on; status 0x0280. */
    c[HG_PCI_COMMAND] = 0x06;
    c[HG_PCI_STATUS] = 0x80;
    c[HG_PCI_STATUS + 1] = 0x02;
    c[0x51] = 0x01; /* DETURBO */
    c[0x57] = 0x01; /* DRAMC */
    c[0x58] = 0x10; /* DRAMT */
    for (int i = 0; i < 7; i++)
        c[PAM0 + i] = 0;
    /* DRAM row boundaries in 8 MiB units, cumulative: all RAM in row 0. */
    uint32_t units = MIN(h->ram_size >> 23, 255u);
    for (int i = 0; i < 8; i++)
        c[0x60 + i] = (uint8_t)MAX(units, 1u);
    c[0x71] = 0x10; /* CLT */
    c[SMRAM] = 0x02;
    /* Reserved bits of PAM0 and the SMRAM base segment (C_BASE_SEG = 010) are fixed. */
    wm[PAM0] = 0x30;
    for (int i = 1; i < 7; i++)
        wm[PAM0 + i] = 0x33;
    wm[SMRAM] = 0x78;
}

/* SMRAM: with D_LCK set, D_OPEN and D_LCK are read-only until reset. */
static void smram_guard(HgI440fx *h)
{
    uint8_t *wm = hg_pci_wmask(h->dev);
    wm[SMRAM] = (hg_pci_config(h->dev)[SMRAM] & SMRAM_D_LCK) ? 0x28 : 0x78;
}

static void config_write_all(void *opaque, int offset, uint32_t value, int size)
{
    HgI440fx *h = opaque;
    config_write(opaque, offset, value, size);
    if (offset <= SMRAM && offset + size > SMRAM) {
        uint8_t *c = hg_pci_config(h->dev);
        if (c[SMRAM] & SMRAM_D_LCK)
            c[SMRAM] &= (uint8_t)~SMRAM_D_OPEN; /* locking closes the window */
        smram_guard(h);
    }
}

HgI440fx *hg_i440fx_new(HgPciBus *pci, uint32_t ram_size)
{
    HgI440fx *h = g_new0(HgI440fx, 1);
    h->pci = pci;
    h->ram_size = ram_size;
    h->dev = hg_pci_register(pci, HG_PCI_DEVFN(0, 0), 0x8086, 0x1237, 0x02, 0x060000, h);
    hg_pci_set_config_hooks(h->dev, NULL, config_write_all);
    defaults(h);
    apply_pam(h);
    return h;
}

void hg_i440fx_free(HgI440fx *h)
{
    g_free(h);
}

/* hg_pci_reset restores the configuration space; the PAM state follows it. */
void hg_i440fx_reset(HgI440fx *h)
{
    defaults(h);
    apply_pam(h);
}

void hg_i440fx_save(const HgI440fx *h, HgStateWriter *w)
{
    (void)h;
    hg_state_begin(w, "i440fx", 1);
    hg_state_end(w);
}

void hg_i440fx_load(HgI440fx *h, HgStateReader *r)
{
    if (!hg_state_open(r, "i440fx", 1, 1))
        return;
    hg_state_close(r);
    smram_guard(h);
    apply_pam(h);
}
