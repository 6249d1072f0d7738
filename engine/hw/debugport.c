/* The debug devices the guest test programs use (shared/docs/testing.md), with the
 * behaviour of QEMU's isa-debugcon, isa-debug-exit and pc-testdev so one program runs
 * unchanged under both:
 *   0xE9 write: a byte of debug output; read: 0xE9 (how guests detect the port).
 *   0xF4 write v: exit with status (v << 1) | 1.
 *   0xE0-0xE3: a 32-bit register that reads back what was written, at any width.
 */
#include "debugport.h"

#include <glib.h>

#include "bus.h"
#include "state.h"

struct HgDebugPorts {
    HgDebugconOut con;
    HgDebugExit exit_fn;
    void *opaque;
    uint32_t echo;
};

static uint32_t con_read(void *opaque, uint32_t port, int size)
{
    (void)opaque;
    (void)port;
    return size == 1 ? 0xe9 : 0xe9 | (0xffffffffu << 8);
}

static void con_write(void *opaque, uint32_t port, uint32_t value, int size)
{
    HgDebugPorts *d = opaque;
    (void)port;
    /* Wider writes emit their low byte only, as QEMU's debugcon does. */
    (void)size;
    d->con(d->opaque, (uint8_t)value);
}

static void exit_write(void *opaque, uint32_t port, uint32_t value, int size)
{
    HgDebugPorts *d = opaque;
    (void)port;
    if (size < 4)
        value &= (1u << (8 * size)) - 1;
    d->exit_fn(d->opaque, (int)((value << 1) | 1));
}

static uint32_t echo_read(void *opaque, uint32_t port, int size)
{
    HgDebugPorts *d = opaque;
    uint32_t v = d->echo >> (8 * (port - 0xe0));
    return size == 4 ? v : v & ((1u << (8 * size)) - 1);
}

static void echo_write(void *opaque, uint32_t port, uint32_t value, int size)
{
    HgDebugPorts *d = opaque;
    int shift = 8 * (port - 0xe0);
    for (int i = 0; i < size && shift + 8 * i < 32; i++) {
        uint32_t m = 0xffu << (shift + 8 * i);
        d->echo = (d->echo & ~m) | (((value >> (8 * i)) & 0xff) << (shift + 8 * i));
    }
}

HgDebugPorts *hg_debugports_new(HgBus *bus, HgDebugconOut con, HgDebugExit exit_fn,
                                void *opaque)
{
    HgDebugPorts *d = g_new0(HgDebugPorts, 1);
    d->con = con;
    d->exit_fn = exit_fn;
    d->opaque = opaque;
    if (con) {
        /* 0xE9 is QEMU's debugcon; SeaBIOS's debug build writes its log to 0x402. */
        hg_bus_map_io(bus, 0xe9, 1, con_read, con_write, d);
        hg_bus_map_io(bus, 0x402, 1, con_read, con_write, d);
    }
    if (exit_fn) {
        hg_bus_map_io(bus, 0xf4, 1, NULL, exit_write, d);
        hg_bus_map_io(bus, 0xe0, 4, echo_read, echo_write, d);
    }
    return d;
}

void hg_debugports_free(HgDebugPorts *d)
{
    g_free(d);
}

void hg_debugports_save(const HgDebugPorts *d, HgStateWriter *w)
{
    hg_state_begin(w, "debugports", 1);
    hg_state_put_u32(w, d->echo);
    hg_state_end(w);
}

void hg_debugports_load(HgDebugPorts *d, HgStateReader *r)
{
    if (!hg_state_open(r, "debugports", 1, 1))
        return;
    d->echo = hg_state_get_u32(r);
    hg_state_close(r);
}
