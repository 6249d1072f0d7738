/* PIIX4 power management function (82371AB datasheet, 290562, sections 3.4 "Power
 * management configuration registers" and 7 "Power management I/O registers"; ACPI 1.0b
 * 4.7.3 fixed hardware registers), the subset QEMU's piix4-pm and SeaBIOS/Linux use:
 *   config 0x40 PMBASE (bits 15:6, bit 0 reads 1), 0x80 bit 0 enables it; 0x58 DEVACTB;
 *   0x90 SMBBA (bits 15:4), 0xD2 bit 0 enables the SMBus host.
 *   PMBASE+0 PM1_STS (write 1 to clear: TMR_STS 0, GBL_STS 5, PWRBTN_STS 8, RTC_STS 10,
 *   WAK_STS 15), +2 PM1_EN, +4 PM1_CNT (SCI_EN 0, SLP_TYP 12:10, SLP_EN 13 write-only),
 *   +8 PM_TMR (24 bits at 3.579545 MHz; TMR_STS when bit 23 changes), +0x0C..+0x3F the
 *   PIIX4's other registers kept as plain storage.
 *   GPE0 at 0xAFE0: 2 status bytes (write 1 to clear), 2 enable bytes (QEMU's layout).
 *   APM 0xB2/0xB3: a write of 0xF1/0xF0 to 0xB2 sets/clears SCI_EN (the FADT's
 *   ACPI_ENABLE/ACPI_DISABLE).
 * SCI (IRQ 9) = SCI_EN and (PM1_STS & PM1_EN or GPE_STS & GPE_EN). Sleep types as in
 * SeaBIOS's DSDT: _S5 = 0 and _S4 = 2 power off; _S3 = 1 (suspend) is ignored.
 * SMBus host (7.x "SMBus host registers"): a started transaction completes at once with
 * DEV_ERR (no device acknowledged the address), which is what an empty bus gives.
 */
#include "piix4pm.h"

#include <glib.h>
#include <string.h>

#include "bus.h"
#include "clock.h"
#include "pci.h"
#include "state.h"

enum {
    PM_SIZE = 64,
    SMB_SIZE = 16,
    GPE_PORT = 0xafe0,
    GPE_LEN = 4,
    APM_PORT = 0xb2,
    STS_TMR = 1 << 0,
    STS_GBL = 1 << 5,
    STS_PWRBTN = 1 << 8,
    STS_RTC = 1 << 10,
    STS_WAK = 1 << 15,
    EVT_MASK = STS_TMR | STS_GBL | STS_PWRBTN | STS_RTC,
    CNT_SCI_EN = 1 << 0,
    CNT_SLP_EN = 1 << 13,
    ACPI_ENABLE = 0xf1,
    ACPI_DISABLE = 0xf0,
    CFG_PMBASE = 0x40,
    CFG_DEVACTB = 0x58,
    CFG_PMREGMISC = 0x80,
    CFG_SMBBA = 0x90,
    CFG_SMBHSTCFG = 0xd2,
    SMB_STS = 0,
    SMB_CNT = 2,
    SMB_STS_BUSY = 1,
    SMB_STS_INTR = 2,
    SMB_STS_DEV_ERR = 4,
    SMB_CNT_KILL = 2,
    SMB_CNT_START = 0x40,
};

#define PM_TIMER_HZ 3579545ull

struct HgPiix4Pm {
    HgPciBus *pci;
    HgPciDevice *dev;
    HgClock *clock;
    HgTimer *timer;
    HgIrq sci;
    HgPowerOff poweroff;
    void *opaque;
    int pm_handle, smb_handle;
    uint32_t pm_base, smb_base; /* where they are decoded (the bus passes port numbers) */
    uint16_t pm1_sts, pm1_en, pm1_cnt;
    uint8_t regs[PM_SIZE]; /* storage for offsets 0x0C-0x3F */
    uint8_t gpe[GPE_LEN];
    uint8_t apmc, apms;
    uint8_t smb[SMB_SIZE];
    uint32_t tmr_hi; /* bit 23 and up of the timer at the last overflow check */
    bool sci_level;
};

static uint64_t ticks_now(const HgPiix4Pm *pm)
{
    uint64_t ns = (uint64_t)MAX(hg_clock_ns(pm->clock), 0);
    return ns / HG_NS_PER_SEC * PM_TIMER_HZ + ns % HG_NS_PER_SEC * PM_TIMER_HZ / HG_NS_PER_SEC;
}

uint32_t hg_piix4pm_timer(const HgPiix4Pm *pm)
{
    return (uint32_t)(ticks_now(pm) & 0xffffff);
}

/* First guest nanosecond at which the tick count reaches t. */
static int64_t ticks_to_ns(uint64_t t)
{
    uint64_t ns = t / PM_TIMER_HZ * HG_NS_PER_SEC +
                  (t % PM_TIMER_HZ * HG_NS_PER_SEC + PM_TIMER_HZ - 1) / PM_TIMER_HZ;
    return (int64_t)MIN(ns, (uint64_t)INT64_MAX);
}

static void update_sci(HgPiix4Pm *pm)
{
    bool level =
        (pm->pm1_cnt & CNT_SCI_EN) && ((pm->pm1_sts & pm->pm1_en & EVT_MASK) ||
                                       (pm->gpe[0] & pm->gpe[2]) || (pm->gpe[1] & pm->gpe[3]));
    if (level != pm->sci_level) {
        pm->sci_level = level;
        hg_irq_set(&pm->sci, level);
    }
}

/* TMR_STS: set whenever bit 23 of the counter has changed since the last look. The timer is
 * armed for the next change while TMR_EN asks for an interrupt. */
static void arm_overflow(HgPiix4Pm *pm)
{
    if (pm->pm1_en & STS_TMR)
        hg_timer_mod(pm->timer, ticks_to_ns(((uint64_t)pm->tmr_hi + 1) << 23));
    else
        hg_timer_del(pm->timer);
}

static void check_overflow(HgPiix4Pm *pm)
{
    uint32_t hi = (uint32_t)(ticks_now(pm) >> 23);
    if (hi != pm->tmr_hi) {
        pm->tmr_hi = hi;
        pm->pm1_sts |= STS_TMR;
    }
    arm_overflow(pm);
    update_sci(pm);
}

static void timer_cb(void *opaque)
{
    check_overflow(opaque);
}

static void pm1_cnt_write(HgPiix4Pm *pm, uint16_t v)
{
    pm->pm1_cnt = v & (uint16_t)~CNT_SLP_EN;
    if (v & CNT_SLP_EN) {
        int typ = (v >> 10) & 7;
        if ((typ == 0 || typ == 2) && pm->poweroff)
            pm->poweroff(pm->opaque);
    }
    update_sci(pm);
}

static uint8_t pm_read_byte(HgPiix4Pm *pm, uint32_t off, uint32_t tmr)
{
    switch (off) {
    case 0: return (uint8_t)pm->pm1_sts;
    case 1: return (uint8_t)(pm->pm1_sts >> 8);
    case 2: return (uint8_t)pm->pm1_en;
    case 3: return (uint8_t)(pm->pm1_en >> 8);
    case 4: return (uint8_t)pm->pm1_cnt;
    case 5: return (uint8_t)(pm->pm1_cnt >> 8);
    case 6:
    case 7: return 0;
    case 8:
    case 9:
    case 10:
    case 11: return (uint8_t)(tmr >> (8 * (off - 8)));
    default: return pm->regs[off];
    }
}

static uint32_t pm_read(void *opaque, uint32_t port, int size)
{
    HgPiix4Pm *pm = opaque;
    uint32_t addr = port - pm->pm_base;
    if (addr < 2)
        check_overflow(pm);
    uint32_t tmr = hg_piix4pm_timer(pm);
    uint32_t v = 0;
    for (int i = 0; i < size; i++)
        v |= (uint32_t)(addr + i < PM_SIZE ? pm_read_byte(pm, addr + i, tmr) : 0xff) << (8 * i);
    return v;
}

static void pm_write(void *opaque, uint32_t port, uint32_t value, int size)
{
    HgPiix4Pm *pm = opaque;
    uint32_t addr = port - pm->pm_base;
    /* Registers are written as a whole when the access covers them (16-bit registers are
     * written with 16-bit accesses; a byte write changes its half). */
    for (int i = 0; i < size; i++) {
        uint32_t off = addr + (uint32_t)i;
        uint8_t b = (uint8_t)(value >> (8 * i));
        int sh = (int)(off & 1) * 8;
        switch (off) {
        case 0:
        case 1: pm->pm1_sts &= (uint16_t) ~((b << sh) & (EVT_MASK | STS_WAK)); break;
        case 2:
        case 3: pm->pm1_en = (uint16_t)((pm->pm1_en & ~(0xff << sh)) | (b << sh)) & EVT_MASK; break;
        case 4:
        case 5: {
            /* Collect both bytes when the access covers them, so SLP_EN acts once with the
             * type written alongside. */
            uint16_t v = pm->pm1_cnt;
            v = (uint16_t)((v & ~(0xff << sh)) | (b << sh));
            if (off == 4 && i + 1 < size) {
                v = (uint16_t)((v & 0xff) | ((value >> (8 * (i + 1))) & 0xff) << 8);
                i++;
            }
            pm1_cnt_write(pm, v);
            break;
        }
        case 6:
        case 7:
        case 8:
        case 9:
        case 10:
        case 11: break; /* reserved; the timer is read-only */
        default:
            if (off < PM_SIZE)
                pm->regs[off] = b;
        }
    }
    check_overflow(pm); /* TMR_EN may have changed */
}

static uint32_t gpe_read(void *opaque, uint32_t port, int size)
{
    HgPiix4Pm *pm = opaque;
    uint32_t v = 0;
    for (int i = 0; i < size; i++) {
        uint32_t o = port - GPE_PORT + (uint32_t)i;
        v |= (uint32_t)(o < GPE_LEN ? pm->gpe[o] : 0xff) << (8 * i);
    }
    return v;
}

static void gpe_write(void *opaque, uint32_t port, uint32_t value, int size)
{
    HgPiix4Pm *pm = opaque;
    for (int i = 0; i < size; i++) {
        uint32_t o = port - GPE_PORT + (uint32_t)i;
        uint8_t b = (uint8_t)(value >> (8 * i));
        if (o < 2)
            pm->gpe[o] &= (uint8_t)~b;
        else if (o < GPE_LEN)
            pm->gpe[o] = b;
    }
    update_sci(pm);
}

static uint32_t apm_read(void *opaque, uint32_t port, int size)
{
    HgPiix4Pm *pm = opaque;
    uint32_t v = 0;
    for (int i = 0; i < size; i++) {
        uint32_t p = port + (uint32_t)i;
        v |= (uint32_t)(p == APM_PORT ? pm->apmc : p == APM_PORT + 1 ? pm->apms : 0xff) << (8 * i);
    }
    return v;
}

static void apm_write(void *opaque, uint32_t port, uint32_t value, int size)
{
    HgPiix4Pm *pm = opaque;
    for (int i = 0; i < size; i++) {
        uint32_t p = port + (uint32_t)i;
        uint8_t b = (uint8_t)(value >> (8 * i));
        if (p == APM_PORT + 1) {
            pm->apms = b;
        } else if (p == APM_PORT) {
            pm->apmc = b;
            if (b == ACPI_ENABLE)
                pm->pm1_cnt |= CNT_SCI_EN;
            else if (b == ACPI_DISABLE)
                pm->pm1_cnt &= (uint16_t)~CNT_SCI_EN;
            update_sci(pm);
        }
    }
}

static uint32_t smb_read(void *opaque, uint32_t port, int size)
{
    HgPiix4Pm *pm = opaque;
    uint32_t addr = port - pm->smb_base;
    uint32_t v = 0;
    for (int i = 0; i < size; i++) {
        uint32_t o = addr + (uint32_t)i;
        v |= (uint32_t)(o < SMB_SIZE ? pm->smb[o] : 0xff) << (8 * i);
    }
    return v;
}

static void smb_write(void *opaque, uint32_t port, uint32_t value, int size)
{
    HgPiix4Pm *pm = opaque;
    uint32_t addr = port - pm->smb_base;
    for (int i = 0; i < size; i++) {
        uint32_t o = addr + (uint32_t)i;
        uint8_t b = (uint8_t)(value >> (8 * i));
        if (o >= SMB_SIZE)
            continue;
        if (o == SMB_STS) {
            pm->smb[o] &= (uint8_t) ~(b & 0x1e); /* busy (bit 0) is read-only */
        } else if (o == SMB_CNT) {
            pm->smb[o] = b & (uint8_t) ~(SMB_CNT_START | SMB_CNT_KILL);
            if (b & SMB_CNT_KILL)
                pm->smb[SMB_STS] = (uint8_t)((pm->smb[SMB_STS] & ~SMB_STS_BUSY) | 0x10);
            else if (b & SMB_CNT_START)
                /* Nobody acknowledges the address: done at once with a device error. */
                pm->smb[SMB_STS] = (uint8_t)((pm->smb[SMB_STS] & ~SMB_STS_BUSY) | SMB_STS_DEV_ERR);
        } else {
            pm->smb[o] = b;
        }
    }
}

static uint32_t cfg_port(const uint8_t *c, int off, uint32_t mask)
{
    return (uint32_t)(c[off] | c[off + 1] << 8) & mask;
}

static void update_mappings(HgPiix4Pm *pm)
{
    HgBus *bus = hg_pci_get_bus(pm->pci);
    const uint8_t *c = hg_pci_config(pm->dev);
    uint32_t pmbase = cfg_port(c, CFG_PMBASE, 0xffc0);
    bool pm_on = (c[CFG_PMREGMISC] & 1) && pmbase;
    pm->pm_base = pmbase;
    hg_bus_move_io(bus, pm->pm_handle, pm_on ? pmbase : 0, pm_on ? PM_SIZE : 0);
    uint32_t smbase = cfg_port(c, CFG_SMBBA, 0xfff0);
    bool smb_on = (c[CFG_SMBHSTCFG] & 1) && smbase;
    pm->smb_base = smbase;
    hg_bus_move_io(bus, pm->smb_handle, smb_on ? smbase : 0, smb_on ? SMB_SIZE : 0);
}

static void config_write(void *opaque, int offset, uint32_t value, int size)
{
    (void)value;
    (void)size;
    (void)offset;
    update_mappings(opaque);
}

static void defaults(HgPiix4Pm *pm)
{
    uint8_t *c = hg_pci_config(pm->dev);
    uint8_t *wm = hg_pci_wmask(pm->dev);
    c[HG_PCI_INTERRUPT_PIN] = 1;
    c[HG_PCI_STATUS + 1] = 0x02;
    c[CFG_PMBASE] = 0x01;
    c[CFG_PMBASE + 1] = c[CFG_PMBASE + 2] = c[CFG_PMBASE + 3] = 0;
    wm[CFG_PMBASE] = 0xc0;
    wm[CFG_PMBASE + 1] = 0xff;
    wm[CFG_PMBASE + 2] = wm[CFG_PMBASE + 3] = 0;
    c[CFG_DEVACTB + 3] = 0x02; /* APMC_EN: "SMM already set up" */
    c[CFG_PMREGMISC] = 0;
    wm[CFG_PMREGMISC] = 0x01;
    c[CFG_SMBBA] = 0x01;
    c[CFG_SMBBA + 1] = c[CFG_SMBBA + 2] = c[CFG_SMBBA + 3] = 0;
    wm[CFG_SMBBA] = 0xf0;
    wm[CFG_SMBBA + 1] = 0xff;
    wm[CFG_SMBBA + 2] = wm[CFG_SMBBA + 3] = 0;
    c[CFG_SMBHSTCFG] = 0;
    wm[CFG_SMBHSTCFG] = 0x0f;
}

static void reset_regs(HgPiix4Pm *pm)
{
    pm->pm1_sts = pm->pm1_en = pm->pm1_cnt = 0;
    memset(pm->regs, 0, sizeof(pm->regs));
    memset(pm->gpe, 0, sizeof(pm->gpe));
    memset(pm->smb, 0, sizeof(pm->smb));
    pm->apmc = pm->apms = 0;
    pm->tmr_hi = (uint32_t)(ticks_now(pm) >> 23);
}

HgPiix4Pm *hg_piix4pm_new(HgPciBus *pci, HgClock *clock, HgIrq sci, HgPowerOff poweroff,
                          void *opaque)
{
    HgPiix4Pm *pm = g_new0(HgPiix4Pm, 1);
    HgBus *bus = hg_pci_get_bus(pci);
    pm->pci = pci;
    pm->clock = clock;
    pm->sci = sci;
    pm->poweroff = poweroff;
    pm->opaque = opaque;
    pm->timer = hg_timer_new(clock, timer_cb, pm);
    pm->dev = hg_pci_register(pci, HG_PCI_DEVFN(1, 3), 0x8086, 0x7113, 0x03, 0x068000, pm);
    hg_pci_set_config_hooks(pm->dev, NULL, config_write);
    pm->pm_handle = hg_bus_add_io(bus, pm_read, pm_write, pm);
    pm->smb_handle = hg_bus_add_io(bus, smb_read, smb_write, pm);
    hg_bus_map_io(bus, GPE_PORT, GPE_LEN, gpe_read, gpe_write, pm);
    hg_bus_map_io(bus, APM_PORT, 2, apm_read, apm_write, pm);
    defaults(pm);
    reset_regs(pm);
    return pm;
}

void hg_piix4pm_free(HgPiix4Pm *pm)
{
    if (!pm)
        return;
    hg_timer_free(pm->timer);
    g_free(pm);
}

void hg_piix4pm_reset(HgPiix4Pm *pm)
{
    defaults(pm);
    reset_regs(pm);
    hg_timer_del(pm->timer);
    update_mappings(pm);
    update_sci(pm);
}

bool hg_piix4pm_power_button(HgPiix4Pm *pm)
{
    pm->pm1_sts |= STS_PWRBTN;
    update_sci(pm);
    return (pm->pm1_cnt & CNT_SCI_EN) && (pm->pm1_en & STS_PWRBTN);
}

void hg_piix4pm_save(const HgPiix4Pm *pm, HgStateWriter *w)
{
    hg_state_begin(w, "piix4pm", 1);
    hg_state_put_u16(w, pm->pm1_sts);
    hg_state_put_u16(w, pm->pm1_en);
    hg_state_put_u16(w, pm->pm1_cnt);
    hg_state_put_bytes(w, pm->regs, PM_SIZE);
    hg_state_put_bytes(w, pm->gpe, GPE_LEN);
    hg_state_put_u8(w, pm->apmc);
    hg_state_put_u8(w, pm->apms);
    hg_state_put_bytes(w, pm->smb, SMB_SIZE);
    hg_state_put_u32(w, pm->tmr_hi);
    hg_state_put_u8(w, pm->sci_level);
    hg_state_end(w);
}

void hg_piix4pm_load(HgPiix4Pm *pm, HgStateReader *r)
{
    if (!hg_state_open(r, "piix4pm", 1, 1))
        return;
    pm->pm1_sts = hg_state_get_u16(r) & (EVT_MASK | STS_WAK);
    pm->pm1_en = hg_state_get_u16(r) & EVT_MASK;
    pm->pm1_cnt = hg_state_get_u16(r) & (uint16_t)~CNT_SLP_EN;
    hg_state_get_bytes(r, pm->regs, PM_SIZE);
    hg_state_get_bytes(r, pm->gpe, GPE_LEN);
    pm->apmc = hg_state_get_u8(r);
    pm->apms = hg_state_get_u8(r);
    hg_state_get_bytes(r, pm->smb, SMB_SIZE);
    pm->tmr_hi = hg_state_get_u32(r);
    bool level = hg_state_get_u8(r) != 0;
    hg_state_close(r);
    /* Re-drive the SCI from the loaded registers. */
    pm->sci_level = level;
    hg_irq_set(&pm->sci, level);
    update_mappings(pm);
    /* Re-arm from the saved last look, without looking: a look now would be one the
     * uninterrupted machine never made (a restored run must match it exactly). */
    arm_overflow(pm);
}
