/* Reset control ports of the i440FX/PIIX3 PC.
 *
 * Port 0x92, System Control Port A (IBM PS/2 Technical Reference; PIIX3 datasheet 2.7.x,
 * "Port 92h"): bit 1 gates A20, bit 0 written from 0 to 1 pulses the CPU reset line.
 * Port 0xCF9, Reset Control Register (PIIX3 datasheet 2.7.x, "RC"): bit 1 selects a hard
 * (system) reset, and writing bit 2 = 1 starts the reset; as in QEMU, bit 1 is kept and a
 * write with bit 2 set resets at once (SeaBIOS and Linux write 0x02 then 0x06).
 */
#include "resetctl.h"

#include <glib.h>

#include "bus.h"
#include "state.h"

struct HgResetCtl {
    HgResetRequest reset;
    HgA20Set a20;
    void *opaque;
    uint8_t port92;
    uint8_t rcr;
};

/* Byte registers: the other bytes of a wider read float high. */
static uint32_t widen(uint8_t v, int size)
{
    return size == 1 ? v : size == 2 ? 0xff00u | v : 0xffffff00u | v;
}

static uint32_t p92_read(void *opaque, uint32_t port, int size)
{
    HgResetCtl *rc = opaque;
    (void)port;
    return widen(rc->port92, size);
}

static void p92_write(void *opaque, uint32_t port, uint32_t value, int size)
{
    HgResetCtl *rc = opaque;
    (void)port;
    (void)size;
    uint8_t old = rc->port92;
    rc->port92 = (uint8_t)(value & 0x03);
    if (((old ^ rc->port92) & 2) && rc->a20)
        rc->a20(rc->opaque, (rc->port92 & 2) != 0);
    if ((rc->port92 & 1) && !(old & 1)) {
        rc->port92 &= (uint8_t)~1;
        if (rc->reset)
            rc->reset(rc->opaque, false);
    }
}

static uint32_t rcr_read(void *opaque, uint32_t port, int size)
{
    HgResetCtl *rc = opaque;
    (void)port;
    return widen(rc->rcr, size);
}

static void rcr_write(void *opaque, uint32_t port, uint32_t value, int size)
{
    HgResetCtl *rc = opaque;
    (void)port;
    (void)size;
    if (value & 4) {
        bool hard = (value & 2) != 0;
        if (rc->reset)
            rc->reset(rc->opaque, hard);
        return;
    }
    rc->rcr = (uint8_t)(value & 2);
}

HgResetCtl *hg_resetctl_new(HgBus *bus, HgResetRequest reset, HgA20Set a20, void *opaque)
{
    HgResetCtl *rc = g_new0(HgResetCtl, 1);
    rc->reset = reset;
    rc->a20 = a20;
    rc->opaque = opaque;
    hg_bus_map_io(bus, 0x92, 1, p92_read, p92_write, rc);
    hg_bus_map_io(bus, 0xcf9, 1, rcr_read, rcr_write, rc);
    return rc;
}

void hg_resetctl_free(HgResetCtl *rc)
{
    g_free(rc);
}

void hg_resetctl_reset(HgResetCtl *rc)
{
    /* The reset itself clears the fast-reset bit; A20 is the board's to set again. */
    rc->port92 &= (uint8_t)~1;
    rc->rcr = 0;
}

void hg_resetctl_set_a20(HgResetCtl *rc, bool on)
{
    rc->port92 = (uint8_t)((rc->port92 & ~2) | (on ? 2 : 0));
}

void hg_resetctl_save(const HgResetCtl *rc, HgStateWriter *w)
{
    hg_state_begin(w, "resetctl", 1);
    hg_state_put_u8(w, rc->port92);
    hg_state_put_u8(w, rc->rcr);
    hg_state_end(w);
}

void hg_resetctl_load(HgResetCtl *rc, HgStateReader *r)
{
    if (!hg_state_open(r, "resetctl", 1, 1))
        return;
    rc->port92 = hg_state_get_u8(r) & 2;
    rc->rcr = hg_state_get_u8(r) & 2;
    hg_state_close(r);
}
