/* Intel 82371SB PIIX3 function 0, the PCI-to-ISA bridge (82371FB/SB datasheet, 290550,
 * section 2.2 "PCI to ISA bridge configuration registers"): the defaults of IORT, XBCS,
 * TOM, MBIRQ, MBDMA, APICBASE and the SMI registers, and PIRQRC[A:D] at 0x60-0x63 (bits 3:0
 * the ISA IRQ, bit 7 disables routing), which steer the four PCI interrupt lines onto ISA
 * IRQs. IRQs 0, 1, 2, 8 and 13 are reserved values and route nowhere.
 */
#include "piix3.h"

#include <glib.h>

#include "pci.h"
#include "state.h"

enum { PIRQRC = 0x60 };

struct HgPiix3 {
    HgPciBus *pci;
    HgPciDevice *dev;
    HgIrq isa[16];
    bool out[16]; /* levels driven on the ISA lines */
};

static void update_routes(HgPiix3 *p)
{
    const uint8_t *c = hg_pci_config(p->dev);
    bool level[16] = {false};
    for (int n = 0; n < 4; n++) {
        uint8_t r = c[PIRQRC + n];
        int irq = r & 0x0f;
        if ((r & 0x80) || irq < 3 || irq == 8 || irq == 13)
            continue;
        if (hg_pci_pirq_level(p->pci, n))
            level[irq] = true;
    }
    for (int i = 0; i < 16; i++) {
        if (level[i] != p->out[i]) {
            p->out[i] = level[i];
            hg_irq_set(&p->isa[i], level[i]);
        }
    }
}

static void pirq_set(void *opaque, int n, bool level)
{
    (void)n;
    (void)level;
    update_routes(opaque);
}

static void config_write(void *opaque, int offset, uint32_t value, int size)
{
    (void)value;
    if (offset < PIRQRC + 4 && offset + size > PIRQRC)
        update_routes(opaque);
}

static void defaults(HgPiix3 *p)
{
    uint8_t *c = hg_pci_config(p->dev);
    uint8_t *wm = hg_pci_wmask(p->dev);
    c[HG_PCI_COMMAND] = 0x07; /* I/O, memory and master: the ISA bridge is always on */
    c[HG_PCI_STATUS] = 0x00;
    c[HG_PCI_STATUS + 1] = 0x02;
    c[0x4c] = 0x4d; /* IORT */
    c[0x4e] = 0x03; /* XBCS: RTC and keyboard controller decoded */
    c[0x4f] = 0x00;
    for (int n = 0; n < 4; n++) {
        c[PIRQRC + n] = 0x80;
        wm[PIRQRC + n] = 0x8f;
    }
    c[0x69] = 0x02; /* TOM */
    c[0x6a] = 0x00;
    c[0x70] = 0x80; /* MBIRQ0: disabled */
    c[0x76] = 0x0c; /* MBDMA: disabled */
    c[0x77] = 0x0c;
    c[0x78] = 0x02; /* PCSC */
    c[0x80] = 0x00; /* APICBASE */
    c[0xa0] = 0x08; /* SMICNTL */
    c[0xa8] = 0x0f; /* FTMR */
}

HgPiix3 *hg_piix3_new(HgPciBus *pci, const HgIrq isa_irqs[16])
{
    HgPiix3 *p = g_new0(HgPiix3, 1);
    p->pci = pci;
    for (int i = 0; i < 16; i++)
        p->isa[i] = isa_irqs ? isa_irqs[i] : (HgIrq){0};
    p->dev = hg_pci_register(pci, HG_PCI_DEVFN(1, 0), 0x8086, 0x7000, 0x00, 0x060100, p);
    hg_pci_config(p->dev)[HG_PCI_HEADER_TYPE] |= 0x80; /* multi-function */
    hg_pci_set_config_hooks(p->dev, NULL, config_write);
    hg_pci_set_pirq_handler(pci, pirq_set, p);
    defaults(p);
    return p;
}

void hg_piix3_free(HgPiix3 *p)
{
    g_free(p);
}

void hg_piix3_reset(HgPiix3 *p)
{
    defaults(p);
    update_routes(p);
}

void hg_piix3_save(const HgPiix3 *p, HgStateWriter *w)
{
    hg_state_begin(w, "piix3", 1);
    for (int i = 0; i < 16; i++)
        hg_state_put_u8(w, p->out[i]);
    hg_state_end(w);
}

void hg_piix3_load(HgPiix3 *p, HgStateReader *r)
{
    if (!hg_state_open(r, "piix3", 1, 1))
        return;
    for (int i = 0; i < 16; i++)
        p->out[i] = hg_state_get_u8(r) != 0;
    hg_state_close(r);
    /* Re-drive every line from the loaded routing and PIRQ levels. */
    for (int i = 0; i < 16; i++)
        if (p->out[i])
            hg_irq_set(&p->isa[i], true);
    update_routes(p);
}
