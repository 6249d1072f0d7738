/* Unit tests of the USB model (issue 9): a UHCI on a bare PCI bus with RAM, driven through
 * its I/O registers with schedules written into guest memory, as a driver would. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "block/block.h"
#include "bus.h"
#include "clock.h"
#include "hangar.h"
#include "hw/pci.h"
#include "hw/uhci.h"
#include "hw/usb.h"
#include "state.h"
#include "usb-host.h"

enum { IO = 0xc000, FL = 0x10000, QH = 0x20000, TDS = 0x21000, BUF = 0x30000 };
enum {
    TD_ACTIVE = 1 << 23,
    TD_IOC = 1 << 24,
    TD_STALL = 1 << 22,
    TD_NAK = 1 << 19,
    TD_CRC = 1 << 18,
    TD_SPD = 1 << 29
};

typedef struct T {
    HgBus *bus;
    HgPciBus *pci;
    HgClock *clock;
    HgUhci *u;
    uint64_t insns;
    uint8_t *ram;
} T;

static uint64_t counter(void *o)
{
    return ((T *)o)->insns;
}

static void wr32(T *t, uint32_t a, uint32_t v)
{
    memcpy(t->ram + a, &v, 4);
}

static uint32_t rd32(T *t, uint32_t a)
{
    uint32_t v;
    memcpy(&v, t->ram + a, 4);
    return v;
}

static uint16_t in16(T *t, int off)
{
    return (uint16_t)hg_bus_in(t->bus, (uint16_t)(IO + off), 2);
}

static void out16(T *t, int off, uint16_t v)
{
    hg_bus_out(t->bus, (uint16_t)(IO + off), v, 2);
}

static void setup(T *t)
{
    memset(t, 0, sizeof(*t));
    t->bus = hg_bus_new(16u << 20);
    t->ram = hg_bus_ram(t->bus);
    t->pci = hg_pci_new(t->bus);
    t->clock = hg_clock_new(HG_CLOCK_ICOUNT, 1, counter, t);
    t->u = hg_uhci_new(t->pci, t->bus, t->clock, HG_PCI_DEVFN(1, 2));
    int bdf = HG_PCI_DEVFN(1, 2);
    hg_pci_config_write(t->pci, bdf, 0x20, IO, 4);
    hg_pci_config_write(t->pci, bdf, 0x04, 5, 2); /* I/O and bus master */
    /* Every frame points at one queue head, empty for now. */
    for (int i = 0; i < 1024; i++)
        wr32(t, FL + 4 * i, QH | 2);
    wr32(t, QH, 1);
    wr32(t, QH + 4, 1);
    hg_bus_out(t->bus, IO + 8, FL, 4);
}

static void teardown(T *t)
{
    hg_uhci_free(t->u);
    hg_pci_free(t->pci);
    hg_clock_free(t->clock);
    hg_bus_free(t->bus);
}

/* Advances the virtual clock by ms milliseconds, a millisecond at a time. */
static void run_ms(T *t, int ms)
{
    for (int i = 0; i < ms; i++) {
        t->insns += 1000000;
        hg_clock_run_timers(t->clock);
    }
}

static void start(T *t)
{
    out16(t, 0, 1); /* RS */
}

/* Resets and enables root port n. */
static void enable_port(T *t, int n)
{
    out16(t, 0x10 + 2 * n, 0x0200);
    out16(t, 0x10 + 2 * n, 0x0000);
    out16(t, 0x10 + 2 * n, 0x000e); /* PE, clear CSC and PEC */
}

static uint32_t token(int pid, int addr, int ep, int len)
{
    return (uint32_t)pid | (uint32_t)addr << 8 | (uint32_t)ep << 15 |
           (uint32_t)((len - 1) & 0x7ff) << 21;
}

/* Runs one transfer descriptor in the queue head; returns its control/status word. */
static uint32_t xfer(T *t, int pid, int addr, int ep, uint32_t buf, int len)
{
    wr32(t, TDS, 1);
    wr32(t, TDS + 4, TD_ACTIVE | TD_IOC);
    wr32(t, TDS + 8, token(pid, addr, ep, len));
    wr32(t, TDS + 12, buf);
    wr32(t, QH + 4, TDS);
    for (int i = 0; i < 4 && (rd32(t, TDS + 4) & TD_ACTIVE); i++)
        run_ms(t, 1);
    wr32(t, QH + 4, 1);
    return rd32(t, TDS + 4);
}

static int actlen(uint32_t ctrl)
{
    return (int)((ctrl + 1) & 0x7ff);
}

/* A control transfer: SETUP, data stage into/from BUF, status. Returns the data bytes. */
static int control(T *t, int addr, uint8_t type, uint8_t req, uint16_t value, uint16_t index,
                   uint16_t length, uint32_t *status)
{
    uint8_t setup[8] = {type,
                        req,
                        (uint8_t)value,
                        (uint8_t)(value >> 8),
                        (uint8_t)index,
                        (uint8_t)(index >> 8),
                        (uint8_t)length,
                        (uint8_t)(length >> 8)};
    memcpy(t->ram + BUF - 8, setup, 8);
    uint32_t st = xfer(t, 0x2d, addr, 0, BUF - 8, 8);
    int got = 0;
    bool in = type & 0x80;
    while (!(st & (TD_ACTIVE | TD_STALL | TD_CRC)) && got < length) {
        int n = MIN(8, length - got);
        st = xfer(t, in ? 0x69 : 0xe1, addr, 0, BUF + got, n);
        if (st & (TD_ACTIVE | TD_STALL | TD_CRC))
            break;
        got += in ? actlen(st) : n;
        if (in && actlen(st) < n)
            break;
    }
    if (!(st & (TD_ACTIVE | TD_STALL | TD_CRC)))
        st = xfer(t, in ? 0xe1 : 0x69, addr, 0, BUF, 0);
    *status = st;
    return got;
}

static void enumerate(T *t, int port, int addr)
{
    uint32_t st;
    enable_port(t, port);
    int n = control(t, 0, 0x80, 6, 0x0100, 0, 18, &st);
    g_assert_cmpint(n, ==, 18);
    g_assert_cmphex(st & (TD_STALL | TD_CRC | TD_ACTIVE), ==, 0);
    g_assert_cmpint(t->ram[BUF], ==, 18);
    g_assert_cmpint(t->ram[BUF + 1], ==, 1);
    control(t, 0, 0x00, 5, (uint16_t)addr, 0, 0, &st);
    g_assert_cmphex(st & (TD_STALL | TD_CRC), ==, 0);
    /* The old address is gone, the new one answers. */
    control(t, 0, 0x80, 6, 0x0100, 0, 18, &st);
    g_assert_true(st & TD_CRC);
    control(t, addr, 0x00, 9, 1, 0, 0, &st);
    g_assert_cmphex(st & (TD_STALL | TD_CRC), ==, 0);
}

static void test_tablet(void)
{
    T t;
    setup(&t);
    HgUsbDevice *tab = hg_usb_tablet_new();
    hg_uhci_attach(t.u, 0, tab);
    /* Connected, change noticed, bit 7 reads 1; port 2 empty. */
    g_assert_cmphex(in16(&t, 0x10) & 0x0083, ==, 0x0083);
    g_assert_cmphex(in16(&t, 0x12) & 0x0083, ==, 0x0080);
    g_assert_cmphex(in16(&t, 0x14) & 0x0080, ==, 0); /* no third port */
    g_assert_cmphex(in16(&t, 2) & 0x20, ==, 0x20);   /* halted */
    out16(&t, 4, 0x0f);
    start(&t);
    g_assert_cmphex(in16(&t, 2) & 0x20, ==, 0);
    enumerate(&t, 0, 5);
    g_assert_true(hg_usb_device_configured(tab));
    g_assert_cmphex(in16(&t, 2) & 1, ==, 1); /* USBINT from IOC */
    out16(&t, 2, 0x3f);
    g_assert_cmphex(in16(&t, 2) & 1, ==, 0);
    /* The HID report descriptor: absolute X/Y to 0x7FFF. */
    uint32_t st;
    int n = control(&t, 5, 0x81, 6, 0x2200, 0, 200, &st);
    g_assert_cmpint(n, >, 40);
    g_assert_nonnull(memmem(t.ram + BUF, (size_t)n, "\x26\xff\x7f", 3));
    /* Nothing to report: the interrupt endpoint NAKs and the TD stays active. */
    wr32(&t, TDS, 1);
    wr32(&t, TDS + 4, TD_ACTIVE | TD_IOC);
    wr32(&t, TDS + 8, token(0x69, 5, 1, 8));
    wr32(&t, TDS + 12, BUF);
    wr32(&t, QH + 4, TDS);
    run_ms(&t, 3);
    g_assert_cmphex(rd32(&t, TDS + 4) & (TD_ACTIVE | TD_NAK), ==, TD_ACTIVE | TD_NAK);
    hg_usb_tablet_event(tab, 0x1234, 0x7fff, 0, HG_BUTTON_LEFT);
    run_ms(&t, 2);
    uint32_t ctrl = rd32(&t, TDS + 4);
    g_assert_cmphex(ctrl & (TD_ACTIVE | TD_NAK), ==, 0);
    g_assert_cmpint(actlen(ctrl), ==, 6);
    static const uint8_t want[6] = {1, 0x34, 0x12, 0xff, 0x7f, 0};
    g_assert_cmpmem(t.ram + BUF, 6, want, 6);
    /* Hot unplug: connect status change, port disabled. */
    HgUsbDevice *d = hg_uhci_detach(t.u, 0);
    g_assert_true(d == tab);
    g_assert_cmphex(in16(&t, 0x10) & 0x000f, ==, 0x000a);
    hg_usb_device_free(d);
    teardown(&t);
}

static void test_keyboard_mouse(void)
{
    T t;
    setup(&t);
    HgUsbDevice *kbd = hg_usb_keyboard_new(), *mouse = hg_usb_mouse_new();
    hg_uhci_attach(t.u, 0, kbd);
    hg_uhci_attach(t.u, 1, mouse);
    start(&t);
    enumerate(&t, 0, 2);
    enumerate(&t, 1, 3);
    /* Shift-A: two reports, each key a press then a release in order. */
    hg_usb_keyboard_key(kbd, 0x2a, true);
    hg_usb_keyboard_key(kbd, 0x1e, true);
    hg_usb_keyboard_key(kbd, 0x1e, false);
    hg_usb_keyboard_key(kbd, 0x2a, false);
    static const uint8_t r[4][8] = {{2, 0, 0}, {2, 0, 4}, {2, 0, 0}, {0, 0, 0}};
    for (int i = 0; i < 4; i++) {
        uint32_t st = xfer(&t, 0x69, 2, 1, BUF, 8);
        g_assert_cmpint(actlen(st), ==, 8);
        g_assert_cmpmem(t.ram + BUF, 8, r[i], 8);
    }
    g_assert_true(xfer(&t, 0x69, 2, 1, BUF, 8) & TD_NAK);
    g_assert_cmpint(hg_usb_hid_usage(0x148 | 0), ==, 0x52); /* E0 48: Up */
    /* Mouse motion beyond a report's range is split. */
    hg_usb_mouse_event(mouse, 200, -5, 0, HG_BUTTON_RIGHT);
    uint32_t st = xfer(&t, 0x69, 3, 1, BUF, 8);
    g_assert_cmpint(actlen(st), ==, 4);
    g_assert_cmpint(t.ram[BUF], ==, 2);
    g_assert_cmpint((int8_t)t.ram[BUF + 1], ==, 127);
    g_assert_cmpint((int8_t)t.ram[BUF + 2], ==, -5);
    st = xfer(&t, 0x69, 3, 1, BUF, 8);
    g_assert_cmpint((int8_t)t.ram[BUF + 1], ==, 73);
    g_assert_true(xfer(&t, 0x69, 3, 1, BUF, 8) & TD_NAK);
    teardown(&t);
}

/* A guest's schedule must never hang or crash the emulator. */
static void test_hostile(void)
{
    T t;
    setup(&t);
    hg_uhci_attach(t.u, 0, hg_usb_tablet_new());
    start(&t);
    enable_port(&t, 0);
    HgUhciStats s0, s1;
    /* Two queue heads linked in a circle with nothing in them. */
    wr32(&t, QH, (QH + 0x40) | 2);
    wr32(&t, QH + 0x40, QH | 2);
    wr32(&t, QH + 0x44, 1);
    hg_uhci_stats(t.u, &s0);
    run_ms(&t, 5);
    hg_uhci_stats(t.u, &s1);
    g_assert_cmpuint(s1.loops_cut - s0.loops_cut, >=, 5);
    /* A transfer descriptor linked to itself, inactive. */
    wr32(&t, QH, 1);
    wr32(&t, TDS, TDS);
    wr32(&t, TDS + 4, 0);
    for (int i = 0; i < 1024; i++)
        wr32(&t, FL + 4 * i, TDS);
    run_ms(&t, 5);
    hg_uhci_stats(t.u, &s0);
    g_assert_cmpuint(s0.loops_cut - s1.loops_cut, >=, 5);
    g_assert_cmphex(in16(&t, 0) & 1, ==, 1); /* still running */
    /* A circle of active TDs that keep completing (SETUPs to a device) ends with the
     * frame's bandwidth. */
    for (int i = 0; i < 4; i++) {
        uint32_t a = TDS + 0x20 * (uint32_t)i;
        wr32(&t, a, TDS + 0x20 * (uint32_t)((i + 1) % 4));
        wr32(&t, a + 4, TD_ACTIVE);
        wr32(&t, a + 8, token(0x69, 0, 0, 64));
        wr32(&t, a + 12, BUF);
    }
    run_ms(&t, 2);
    g_assert_cmphex(in16(&t, 0) & 1, ==, 1);
    /* MaxLen 0x600 is illegal: consistency error, the controller halts. */
    for (int i = 0; i < 1024; i++)
        wr32(&t, FL + 4 * i, QH | 2);
    wr32(&t, QH, 1);
    wr32(&t, TDS, 1);
    wr32(&t, TDS + 4, TD_ACTIVE);
    wr32(&t, TDS + 8, 0x2d | 0x600u << 21);
    wr32(&t, TDS + 12, BUF);
    wr32(&t, QH + 4, TDS);
    run_ms(&t, 2);
    g_assert_cmphex(in16(&t, 2) & 0x30, ==, 0x30); /* HCPE, halted */
    g_assert_cmphex(in16(&t, 0) & 1, ==, 0);
    /* A buffer outside RAM: host system error. */
    out16(&t, 2, 0x3f);
    wr32(&t, TDS + 8, token(0x2d, 0, 0, 8));
    wr32(&t, TDS + 12, 0xfffff000u);
    start(&t);
    run_ms(&t, 2);
    g_assert_cmphex(in16(&t, 2) & 0x28, ==, 0x28); /* HSE, halted */
    /* A frame list outside RAM. */
    out16(&t, 2, 0x3f);
    hg_bus_out(t.bus, IO + 8, 0xfff00000u, 4);
    start(&t);
    run_ms(&t, 2);
    g_assert_cmphex(in16(&t, 2) & 0x28, ==, 0x28);
    /* Without bus mastering nothing is fetched. */
    out16(&t, 2, 0x3f);
    hg_bus_out(t.bus, IO + 8, FL, 4);
    hg_pci_config_write(t.pci, HG_PCI_DEVFN(1, 2), 0x04, 1, 2);
    start(&t);
    run_ms(&t, 2);
    g_assert_cmphex(in16(&t, 2) & 0x28, ==, 0x28);
    teardown(&t);
}

static char *make_image(int sectors)
{
    char *path = g_build_filename(g_get_tmp_dir(), "hangar-usb-test-XXXXXX", NULL);
    int fd = g_mkstemp(path);
    g_assert_cmpint(fd, >=, 0);
    for (int i = 0; i < sectors; i++) {
        uint8_t s[512];
        memset(s, i & 0xff, sizeof(s));
        g_assert_cmpint(write(fd, s, 512), ==, 512);
    }
    close(fd);
    return path;
}

/* Sends a CBW; returns the OUT TD's status. */
static uint32_t cbw(T *t, uint32_t tag, uint32_t len, bool in, const uint8_t *cdb, int cdb_len)
{
    uint8_t c[31] = {'U', 'S', 'B', 'C'};
    memcpy(c + 4, &tag, 4);
    memcpy(c + 8, &len, 4);
    c[12] = in ? 0x80 : 0;
    c[14] = (uint8_t)cdb_len;
    memcpy(c + 15, cdb, (size_t)cdb_len);
    memcpy(t->ram + BUF, c, 31);
    return xfer(t, 0xe1, 1, 2, BUF, 31);
}

static void csw_at(T *t, int addr, uint32_t tag, uint8_t status)
{
    uint32_t st = xfer(t, 0x69, addr, 1, BUF, 64);
    g_assert_cmpint(actlen(st), ==, 13);
    g_assert_cmpmem(t->ram + BUF, 4, "USBS", 4);
    g_assert_cmpuint(rd32(t, BUF + 4), ==, tag);
    g_assert_cmpint(t->ram[BUF + 12], ==, status);
}

static void csw(T *t, uint32_t tag, uint8_t status)
{
    csw_at(t, 1, tag, status);
}

static void test_storage(void)
{
    T t;
    setup(&t);
    char *path = make_image(64);
    HgBlock *blk = hg_block_open(path, NULL, false, NULL);
    g_assert_nonnull(blk);
    hg_uhci_attach(t.u, 0, hg_usb_storage_new(blk));
    start(&t);
    enumerate(&t, 0, 1);
    uint32_t st;
    control(&t, 1, 0xa1, 0xfe, 0, 0, 1, &st);
    g_assert_cmpint(t.ram[BUF], ==, 0); /* one LUN */
    /* INQUIRY */
    const uint8_t inquiry[6] = {0x12, 0, 0, 0, 36, 0};
    g_assert_cmphex(cbw(&t, 7, 36, true, inquiry, 6) & TD_STALL, ==, 0);
    uint8_t reply[36];
    for (int off = 0; off < 36; off += 64) {
        st = xfer(&t, 0x69, 1, 1, BUF, 64);
        g_assert_cmpint(actlen(st), ==, 36);
        memcpy(reply, t.ram + BUF, 36);
    }
    g_assert_cmpmem(reply + 8, 8, "HANGAR  ", 8);
    csw(&t, 7, 0);
    /* READ CAPACITY: 64 sectors of 512 bytes. */
    const uint8_t cap[10] = {0x25};
    cbw(&t, 8, 8, true, cap, 10);
    st = xfer(&t, 0x69, 1, 1, BUF, 64);
    g_assert_cmpint(actlen(st), ==, 8);
    g_assert_cmpint(t.ram[BUF + 3], ==, 63);
    csw(&t, 8, 0);
    /* WRITE (10) one sector at LBA 3, then READ (10) it back. */
    const uint8_t wr[10] = {0x2a, 0, 0, 0, 0, 3, 0, 0, 1, 0};
    cbw(&t, 9, 512, false, wr, 10);
    for (int i = 0; i < 8; i++) {
        memset(t.ram + BUF, 0xa0 + i, 64);
        st = xfer(&t, 0xe1, 1, 2, BUF, 64);
        g_assert_cmphex(st & (TD_STALL | TD_ACTIVE), ==, 0);
    }
    csw(&t, 9, 0);
    const uint8_t rd[10] = {0x28, 0, 0, 0, 0, 3, 0, 0, 2, 0};
    cbw(&t, 10, 1024, true, rd, 10);
    for (int i = 0; i < 16; i++) {
        st = xfer(&t, 0x69, 1, 1, BUF, 64);
        g_assert_cmpint(actlen(st), ==, 64);
        g_assert_cmpint(t.ram[BUF], ==, i < 8 ? 0xa0 + i : 4);
    }
    csw(&t, 10, 0);
    /* Beyond the end: the command fails with ILLEGAL REQUEST / LBA out of range. */
    const uint8_t far[10] = {0x28, 0, 0, 0, 0, 63, 0, 0, 2, 0};
    cbw(&t, 11, 1024, true, far, 10);
    st = xfer(&t, 0x69, 1, 1, BUF, 64);
    g_assert_cmpint(actlen(st), ==, 0);
    csw(&t, 11, 1);
    const uint8_t sense[6] = {0x03, 0, 0, 0, 18, 0};
    cbw(&t, 12, 18, true, sense, 6);
    xfer(&t, 0x69, 1, 1, BUF, 64);
    g_assert_cmpint(t.ram[BUF + 2], ==, 5);
    g_assert_cmpint(t.ram[BUF + 12], ==, 0x21);
    csw(&t, 12, 0);
    /* An invalid CBW stalls both pipes until reset recovery. */
    memset(t.ram + BUF, 0, 31);
    g_assert_true(xfer(&t, 0xe1, 1, 2, BUF, 31) & TD_STALL);
    g_assert_true(xfer(&t, 0x69, 1, 1, BUF, 64) & TD_STALL);
    control(&t, 1, 0x21, 0xff, 0, 0, 0, &st);
    control(&t, 1, 0x02, 1, 0, 0x81, 0, &st);
    control(&t, 1, 0x02, 1, 0, 0x02, 0, &st);
    const uint8_t tur[6] = {0};
    g_assert_cmphex(cbw(&t, 13, 0, false, tur, 6) & TD_STALL, ==, 0);
    csw(&t, 13, 0);
    teardown(&t);
    /* The write reached the image. */
    gchar *data;
    gsize len;
    g_assert_true(g_file_get_contents(path, &data, &len, NULL));
    g_assert_cmpint(len, ==, 64 * 512);
    g_assert_cmpint((uint8_t)data[3 * 512], ==, 0xa0);
    g_assert_cmpint((uint8_t)data[3 * 512 + 511], ==, 0xa7);
    g_free(data);
    g_unlink(path);
    g_free(path);
}

/* A qcow2 image behind the storage device (detected by its magic, as hangar-run's
 * storage:FILE opens it): a sector written through USB reads back through USB and is in
 * the image afterwards, and the untouched sectors read as zeros. */
static void test_storage_qcow2(void)
{
    char *path = g_build_filename(g_get_tmp_dir(), "hangar-usb-qcow2-XXXXXX", NULL);
    int fd = g_mkstemp(path);
    g_assert_cmpint(fd, >=, 0);
    close(fd);
    g_assert_true(hg_image_create(path, "qcow2", 64 * 512, NULL, NULL, NULL));
    HgBlock *blk = hg_block_open(path, NULL, false, NULL);
    g_assert_nonnull(blk);
    g_assert_cmpstr(hg_block_format(blk), ==, "qcow2");
    T t;
    setup(&t);
    hg_uhci_attach(t.u, 0, hg_usb_storage_new(blk));
    start(&t);
    enumerate(&t, 0, 1);
    const uint8_t wr[10] = {0x2a, 0, 0, 0, 0, 5, 0, 0, 1, 0};
    cbw(&t, 21, 512, false, wr, 10);
    for (int i = 0; i < 8; i++) {
        memset(t.ram + BUF, 0x50 + i, 64);
        g_assert_cmphex(xfer(&t, 0xe1, 1, 2, BUF, 64) & (TD_STALL | TD_ACTIVE), ==, 0);
    }
    csw(&t, 21, 0);
    const uint8_t rd[10] = {0x28, 0, 0, 0, 0, 4, 0, 0, 2, 0};
    cbw(&t, 22, 1024, true, rd, 10);
    for (int i = 0; i < 16; i++) {
        g_assert_cmpint(actlen(xfer(&t, 0x69, 1, 1, BUF, 64)), ==, 64);
        g_assert_cmpint(t.ram[BUF + 63], ==, i < 8 ? 0 : 0x50 + (i - 8));
    }
    csw(&t, 22, 0);
    teardown(&t);
    blk = hg_block_open(path, "qcow2", true, NULL);
    g_assert_nonnull(blk);
    uint8_t sector[512];
    g_assert_true(hg_block_pread(blk, 5 * 512, sector, 512, NULL));
    g_assert_cmpint(sector[0], ==, 0x50);
    g_assert_cmpint(sector[511], ==, 0x57);
    hg_block_close(blk);
    g_unlink(path);
    g_free(path);
}

static void test_save_load(void)
{
    T a, b;
    setup(&a);
    HgUsbDevice *tab = hg_usb_tablet_new();
    hg_uhci_attach(a.u, 0, tab);
    start(&a);
    enumerate(&a, 0, 9);
    hg_usb_tablet_event(tab, 10, 20, 0, 0);
    run_ms(&a, 3);
    HgStateWriter w;
    hg_state_writer_init(&w);
    hg_uhci_save(a.u, &w);
    GBytes *bytes = hg_state_writer_finish(&w);
    gsize n;
    const uint8_t *p = g_bytes_get_data(bytes, &n);

    setup(&b);
    hg_uhci_attach(b.u, 0, hg_usb_tablet_new());
    HgStateReader r;
    hg_state_reader_init(&r, p, n);
    hg_uhci_load(b.u, &r);
    g_assert_no_error(r.error);
    g_assert_cmphex(in16(&b, 0), ==, in16(&a, 0));
    g_assert_cmphex(in16(&b, 0x10), ==, in16(&a, 0x10));
    g_assert_cmpint(in16(&b, 6), ==, in16(&a, 6));
    /* The restored device answers at its address with the queued report. */
    b.insns = a.insns;
    uint32_t st = xfer(&b, 0x69, 9, 1, BUF, 8);
    g_assert_cmpint(actlen(st), ==, 6);
    g_assert_cmpint(b.ram[BUF + 1], ==, 10);
    teardown(&b);

    /* Another device on the port: refused with a reason. */
    setup(&b);
    hg_uhci_attach(b.u, 0, hg_usb_keyboard_new());
    hg_state_reader_init(&r, p, n);
    hg_uhci_load(b.u, &r);
    g_assert_nonnull(r.error);
    g_assert_nonnull(strstr(r.error->message, "tablet"));
    g_clear_error(&r.error);
    teardown(&b);
    /* Truncated and corrupted files never crash. */
    for (gsize cut = 0; cut < n; cut += 7) {
        setup(&b);
        hg_uhci_attach(b.u, 0, hg_usb_tablet_new());
        uint8_t *copy = g_memdup2(p, n);
        if (cut % 2)
            copy[cut] ^= 0xff;
        hg_state_reader_init(&r, copy, cut % 2 ? n : cut);
        hg_uhci_load(b.u, &r);
        g_clear_error(&r.error);
        run_ms(&b, 2);
        g_free(copy);
        teardown(&b);
    }
    g_bytes_unref(bytes);
    teardown(&a);
}

/* A hub with a keyboard and a disk mid-command keeps its whole state. */
static void test_save_load_tree(void)
{
    char *path = make_image(32);
    T a, b;
    setup(&a);
    HgUsbDevice *hub = hg_usb_hub_new(4);
    hg_uhci_attach(a.u, 1, hub);
    hg_usb_hub_set_child(hub, 0, hg_usb_keyboard_new());
    hg_usb_hub_set_child(hub, 2, hg_usb_storage_new(hg_block_open(path, NULL, false, NULL)));
    start(&a);
    enumerate(&a, 1, 1);
    /* Reset and enable hub port 3 (the disk), give it address 6 and configure it. */
    uint32_t st;
    control(&a, 1, 0x23, 3, 4, 3, 0, &st); /* SET_FEATURE(PORT_RESET), port 3 */
    control(&a, 1, 0xa3, 0, 0, 3, 4, &st);
    g_assert_cmphex(a.ram[BUF] & 3, ==, 3);           /* connected and enabled */
    g_assert_cmphex(a.ram[BUF + 2] & 0x11, ==, 0x11); /* C_CONNECTION, C_RESET */
    control(&a, 0, 0x00, 5, 6, 0, 0, &st);
    control(&a, 6, 0x00, 9, 1, 0, 0, &st);
    g_assert_cmphex(st & (TD_STALL | TD_CRC), ==, 0);
    /* A READ (10) of two sectors, the first one transferred. */
    const uint8_t rd[10] = {0x28, 0, 0, 0, 0, 5, 0, 0, 2, 0};
    uint8_t c[31] = {'U', 'S', 'B', 'C', 42, 0, 0, 0, 0, 4, 0, 0, 0x80, 0, 10};
    memcpy(c + 15, rd, 10);
    memcpy(a.ram + BUF, c, 31);
    g_assert_cmphex(xfer(&a, 0xe1, 6, 2, BUF, 31) & TD_STALL, ==, 0);
    for (int i = 0; i < 8; i++)
        xfer(&a, 0x69, 6, 1, BUF, 64);
    HgStateWriter w;
    hg_state_writer_init(&w);
    hg_uhci_save(a.u, &w);
    GBytes *bytes = hg_state_writer_finish(&w);
    gsize n;
    const uint8_t *p = g_bytes_get_data(bytes, &n);

    setup(&b);
    HgUsbDevice *hub2 = hg_usb_hub_new(4);
    hg_uhci_attach(b.u, 1, hub2);
    hg_usb_hub_set_child(hub2, 0, hg_usb_keyboard_new());
    hg_usb_hub_set_child(hub2, 2, hg_usb_storage_new(hg_block_open(path, NULL, false, NULL)));
    HgStateReader r;
    hg_state_reader_init(&r, p, n);
    hg_uhci_load(b.u, &r);
    g_assert_no_error(r.error);
    b.insns = a.insns;
    /* The rest of the read (sector 6) and the status, from the restored state. */
    for (int i = 8; i < 16; i++) {
        st = xfer(&b, 0x69, 6, 1, BUF, 64);
        g_assert_cmpint(actlen(st), ==, 64);
        g_assert_cmpint(b.ram[BUF], ==, 6);
    }
    csw_at(&b, 6, 42, 0);
    teardown(&b);
    /* The same tree without the disk is refused. */
    setup(&b);
    hub2 = hg_usb_hub_new(4);
    hg_uhci_attach(b.u, 1, hub2);
    hg_usb_hub_set_child(hub2, 0, hg_usb_keyboard_new());
    hg_state_reader_init(&r, p, n);
    hg_uhci_load(b.u, &r);
    g_assert_nonnull(r.error);
    g_assert_nonnull(strstr(r.error->message, "storage"));
    g_clear_error(&r.error);
    teardown(&b);
    g_bytes_unref(bytes);
    teardown(&a);
    g_unlink(path);
    g_free(path);
}

/* An idle schedule stops waking the machine every millisecond. */
static void test_idle(void)
{
    T t;
    setup(&t);
    hg_uhci_attach(t.u, 0, hg_usb_tablet_new());
    start(&t);
    enumerate(&t, 0, 4);
    wr32(&t, TDS, 1);
    wr32(&t, TDS + 4, TD_ACTIVE);
    wr32(&t, TDS + 8, token(0x69, 4, 1, 8));
    wr32(&t, TDS + 12, BUF);
    wr32(&t, QH + 4, TDS);
    HgTimer *other = hg_timer_new(t.clock, NULL, NULL);
    int64_t far = hg_clock_ns(t.clock) + 5000000000LL;
    hg_timer_mod(other, far);
    run_ms(&t, 5);
    /* Still busy: the next wake-up is the next frame. */
    g_assert_cmpint(hg_clock_deadline(t.clock), <, far);
    run_ms(&t, 100);
    /* Quiet: the frame timer no longer sets the wake-up time. */
    g_assert_cmpint(hg_clock_deadline(t.clock), ==, far);
    HgUhciStats s0, s1;
    hg_uhci_stats(t.u, &s0);
    uint16_t fr0 = in16(&t, 6);
    t.insns += 200 * 1000000;
    hg_clock_run_timers(t.clock);
    hg_uhci_stats(t.u, &s1);
    g_assert_cmpuint(s1.frames_walked - s0.frames_walked, <=, 2);
    g_assert_cmpuint(s1.frames_skipped - s0.frames_skipped, >=, 198);
    g_assert_cmpint((in16(&t, 6) - fr0) & 0x7ff, ==, 200); /* FRNUM kept counting */
    /* Input makes it busy again and the report arrives within a frame or two. */
    hg_usb_tablet_event(hg_uhci_device(t.u, 0), 1, 2, 0, 0);
    g_assert_cmpint(hg_clock_deadline(t.clock), <, far);
    run_ms(&t, 2);
    g_assert_cmphex(rd32(&t, TDS + 4) & TD_ACTIVE, ==, 0);
    hg_timer_free(other);
    teardown(&t);
}

/* The machine's placement: root ports first, then a hub on root port 2. */
static void test_host(void)
{
    T t;
    setup(&t);
    HgUsbHost *h = hg_usb_host_new(t.u);
    GError *error = NULL;
    g_assert_cmpint(hg_usb_host_attach(h, "tablet", &error), ==, 1);
    g_assert_cmpint(hg_usb_host_attach(h, "keyboard", &error), ==, 2);
    /* A tablet counts once the guest configured it, until it is unplugged. */
    g_assert_false(hg_usb_host_has_tablet(h));
    hg_bus_out(t.bus, IO + 8, FL, 4);
    start(&t);
    enumerate(&t, 0, 3);
    g_assert_true(hg_usb_host_has_tablet(h));
    hg_uhci_reset(t.u); /* a system reset unconfigures it */
    g_assert_false(hg_usb_host_has_tablet(h));
    hg_bus_out(t.bus, IO + 8, FL, 4);
    start(&t);
    enumerate(&t, 0, 3);
    g_assert_true(hg_usb_host_has_tablet(h));
    g_assert_cmpint(hg_usb_host_attach(h, "mouse", &error), ==, 3);
    g_assert_no_error(error);
    GPtrArray *l = hg_usb_host_list(h);
    g_assert_cmpint(l->len, ==, 4);
    const char *want[4][2] = {{"1", "tablet"}, {"2", "hub"}, {"2.1", "keyboard"}, {"2.2", "mouse"}};
    for (int i = 0; i < 4; i++) {
        HgUsbDeviceInfo *d = g_ptr_array_index(l, i);
        g_assert_cmpstr(d->port, ==, want[i][0]);
        g_assert_cmpstr(d->kind, ==, want[i][1]);
    }
    g_ptr_array_unref(l);
    g_assert_cmpint(hg_usb_host_attach(h, "printer", &error), ==, 0);
    g_assert_error(error, HG_ERROR, HG_ERROR_CONFIG);
    g_clear_error(&error);
    g_assert_cmpint(hg_usb_host_attach(h, "storage:/nonexistent/disk.img", &error), ==, 0);
    g_assert_nonnull(strstr(error->message, "/nonexistent/disk.img"));
    g_clear_error(&error);
    g_assert_true(hg_usb_host_detach(h, 1, &error));
    g_assert_false(hg_usb_host_has_tablet(h));
    g_assert_false(hg_usb_host_detach(h, 1, &error));
    g_assert_error(error, HG_ERROR, HG_ERROR_CONFIG);
    g_clear_error(&error);
    for (int i = 0; i < 7; i++)
        g_assert_cmpint(hg_usb_host_attach(h, "tablet", NULL), >, 0);
    g_assert_cmpint(hg_usb_host_attach(h, "tablet", &error), ==, 0);
    g_assert_nonnull(strstr(error->message, "taken"));
    g_clear_error(&error);
    hg_usb_host_free(h);
    teardown(&t);
}

/* Random schedules: links anywhere in a 64 KiB pool (and a few outside RAM), random
 * control words, tokens and buffers, with a tablet, a storage device and a hub with a
 * keyboard attached. Nothing may crash, hang or write outside the pool and buffers. */
static void test_fuzz_schedule(void)
{
    GRand *rng = g_rand_new_with_seed(1234);
    char *path = make_image(16);
    uint64_t walked = 0, completed = 0, cut = 0;
    for (int round = 0; round < 150; round++) {
        T t;
        setup(&t);
        hg_uhci_attach(t.u, 0, hg_usb_tablet_new());
        HgUsbDevice *hub = hg_usb_hub_new(4);
        hg_uhci_attach(t.u, 1, hub);
        hg_usb_hub_set_child(hub, 0, hg_usb_keyboard_new());
        hg_usb_hub_set_child(hub, 1, hg_usb_storage_new(hg_block_open(path, NULL, false, NULL)));
        out16(&t, 4, 0x0f);
        start(&t);
        enable_port(&t, 0);
        enable_port(&t, 1);
        static const uint32_t pids[4] = {0x2d, 0x69, 0xe1, 0x87};
        for (uint32_t a = QH; a < QH + 0x10000; a += 16) {
            /* Q and Vf at random; terminate now and then. */
            uint32_t link = (QH + ((uint32_t)g_rand_int_range(rng, 0, 0x1000) << 4)) |
                            ((uint32_t)g_rand_int_range(rng, 0, 8) & 6) |
                            (g_rand_int_range(rng, 0, 16) == 0);
            if (g_rand_int_range(rng, 0, 4000) == 0)
                link = g_rand_int(rng); /* anywhere, even outside RAM */
            wr32(&t, a, link);
            uint32_t el = (QH + ((uint32_t)g_rand_int_range(rng, 0, 0x1000) << 4)) |
                          ((uint32_t)g_rand_int_range(rng, 0, 8) & 6) |
                          (g_rand_int_range(rng, 0, 4) == 0);
            /* ActLen all ones, as drivers leave it: read as a QH element, a terminate. */
            uint32_t ctrl = TD_ACTIVE | (g_rand_int(rng) & 0x3f000000u) | 0x7ff;
            wr32(&t, a + 4, g_rand_boolean(rng) ? ctrl : el);
            /* Now and then an illegal length or PID (the controller halts: restarted). */
            bool evil = g_rand_int_range(rng, 0, 4000) == 0;
            uint32_t maxlen = evil ? g_rand_int(rng) & 0x7ff
                              : g_rand_int_range(rng, 0, 3) == 0
                                  ? 0x7ff
                                  : (uint32_t)g_rand_int_range(rng, 0, 64);
            wr32(&t, a + 8,
                 pids[evil ? 3 : g_rand_int_range(rng, 0, 3)] |
                     (uint32_t)g_rand_int_range(rng, 0, 4) << 8 |
                     (uint32_t)g_rand_int_range(rng, 0, 3) << 15 | maxlen << 21);
            wr32(&t, a + 12,
                 g_rand_int_range(rng, 0, 4000) == 0
                     ? g_rand_int(rng)
                     : BUF + (uint32_t)g_rand_int_range(rng, 0, 0x10000));
        }
        for (int i = 0; i < 1024; i++)
            wr32(&t, FL + 4 * i,
                 g_rand_int_range(rng, 0, 4) == 0
                     ? 1
                     : (QH + ((uint32_t)g_rand_int_range(rng, 0, 0x1000) << 4)) |
                           (uint32_t)g_rand_int_range(rng, 0, 4));
        for (int burst = 0; burst < 10; burst++) {
            out16(&t, 2, 0x3f);
            start(&t);
            run_ms(&t, 2);
        }
        /* The controller still answers its registers. */
        g_assert_cmphex(in16(&t, 0x10) & 0x80, ==, 0x80);
        HgUhciStats st;
        hg_uhci_stats(t.u, &st);
        walked += st.frames_walked;
        completed += st.tds_completed + st.tds_failed;
        cut += st.loops_cut;
        teardown(&t);
    }
    /* The rounds did reach devices and did meet loops. */
    g_test_message("frames walked %" G_GUINT64_FORMAT ", TDs retired %" G_GUINT64_FORMAT
                   ", frames cut %" G_GUINT64_FORMAT,
                   walked, completed, cut);
    g_assert_cmpuint(walked, >, 1000);
    g_assert_cmpuint(completed, >, 1000);
    g_assert_cmpuint(cut, >, 20);
    g_unlink(path);
    g_free(path);
    g_rand_free(rng);
}

/* Random packets straight at each device model's endpoints. */
static void test_fuzz_control(void)
{
    GRand *rng = g_rand_new_with_seed(99);
    char *path = make_image(8);
    HgUsbDevice *devs[5] = {hg_usb_tablet_new(), hg_usb_keyboard_new(), hg_usb_mouse_new(),
                            hg_usb_storage_new(hg_block_open(path, NULL, false, NULL)),
                            hg_usb_hub_new(8)};
    static const uint8_t pids[3] = {HG_USB_PID_SETUP, HG_USB_PID_IN, HG_USB_PID_OUT};
    uint8_t buf[1280];
    for (int i = 0; i < 200000; i++) {
        HgUsbDevice *d = devs[g_rand_int_range(rng, 0, 5)];
        if (g_rand_int_range(rng, 0, 1000) == 0)
            hg_usb_device_reset(d);
        HgUsbPacket p = {.pid = pids[g_rand_int_range(rng, 0, 3)],
                         .ep = (uint8_t)(g_rand_boolean(rng) ? 0 : g_rand_int_range(rng, 0, 4)),
                         .data = buf,
                         .len = g_rand_boolean(rng) ? 8 : g_rand_int_range(rng, 0, 1281)};
        for (int j = 0; j < 32; j++)
            buf[j] = (uint8_t)g_rand_int(rng);
        if (p.pid == HG_USB_PID_SETUP && g_rand_boolean(rng)) {
            buf[0] = (uint8_t)(g_rand_boolean(rng) ? 0x80 : 0) |
                     (uint8_t)(g_rand_int_range(rng, 0, 4) << 5) |
                     (uint8_t)g_rand_int_range(rng, 0, 4);
            buf[1] = (uint8_t)g_rand_int_range(rng, 0, 16);
        }
        if (p.pid == HG_USB_PID_OUT && p.ep == 2 && g_rand_boolean(rng)) {
            memcpy(buf, "USBC", 4); /* a CBW with random fields */
            p.len = 31;
            d->config = 1;
        }
        HgUsbStatus st = hg_usb_handle_packet(d, &p);
        g_assert_cmpint(p.actual, >=, 0);
        if (st == HG_USB_ACK && p.pid == HG_USB_PID_IN)
            g_assert_cmpint(p.actual, <=, p.len);
    }
    for (int i = 0; i < 5; i++)
        hg_usb_device_free(devs[i]);
    g_unlink(path);
    g_free(path);
    g_rand_free(rng);
}

/* The public API from another thread while the machine's thread runs. */
static void test_machine_api(void)
{
    uint8_t *rom = g_malloc(0x10000);
    memset(rom, 0xf4, 0x10000); /* HLT everywhere: the CPU idles */
    char *rom_path = NULL;
    int fd = g_file_open_tmp("hangar-usb-rom-XXXXXX", &rom_path, NULL);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(write(fd, rom, 0x10000), ==, 0x10000);
    close(fd);
    g_free(rom);
    HgConfig cfg;
    hg_config_init(&cfg);
    cfg.bios = g_strdup(rom_path);
    cfg.memory_mib = 4;
    GError *error = NULL;
    g_assert_true(hg_config_set_usb(&cfg, "keyboard", &error));
    HgMachine *m = hg_machine_new(&cfg, NULL, &error);
    g_assert_no_error(error);
    g_assert_false(hg_machine_send_pointer(m, 1, 1, 0));
    g_assert_true(hg_machine_start(m, NULL));
    int id = hg_machine_usb_attach(m, "tablet", &error);
    g_assert_no_error(error);
    g_assert_cmpint(id, ==, 2);
    /* Attached but not configured by the guest: the frontend keeps its grab. */
    g_assert_false(hg_machine_send_pointer(m, 1, 1, 0));
    GPtrArray *l = hg_machine_usb_list(m);
    g_assert_cmpint(l->len, ==, 2);
    HgUsbDeviceInfo *d = g_ptr_array_index(l, 1);
    g_assert_cmpstr(d->kind, ==, "tablet");
    g_assert_cmpstr(d->port, ==, "2");
    g_assert_false(d->configured);
    g_ptr_array_unref(l);
    g_assert_cmpint(hg_machine_usb_attach(m, "storage:", &error), ==, 0);
    g_assert_error(error, HG_ERROR, HG_ERROR_CONFIG);
    g_clear_error(&error);
    g_assert_true(hg_machine_usb_detach(m, id, &error));
    g_assert_false(hg_machine_send_pointer(m, 1, 1, 0));
    g_assert_false(hg_machine_usb_detach(m, id, &error));
    g_assert_nonnull(strstr(error->message, "info usb"));
    g_clear_error(&error);
    GString *out = g_string_new(NULL);
    hg_machine_stop(m);
    hg_monitor_execute(m, "usb_add mouse", out);
    hg_monitor_execute(m, "info usb", out);
    hg_monitor_execute(m, "usb_del 7", out);
    g_assert_nonnull(strstr(out->str, "USB device 3 added (mouse)"));
    g_assert_nonnull(strstr(out->str, "Port 2, Speed 12 Mb/s, Product Hangar USB Mouse"));
    g_assert_nonnull(strstr(out->str, "no USB device with id 7"));
    g_string_free(out, TRUE);
    hg_machine_free(m);
    /* A missing image stops the machine from being made, with the file's name. */
    g_assert_true(hg_config_set_usb(&cfg, "storage:/nonexistent/usb.img", &error));
    g_assert_null(hg_machine_new(&cfg, NULL, &error));
    g_assert_nonnull(strstr(error->message, "/nonexistent/usb.img"));
    g_clear_error(&error);
    hg_config_clear(&cfg);
    g_unlink(rom_path);
    g_free(rom_path);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/usb/tablet", test_tablet);
    g_test_add_func("/usb/keyboard-mouse", test_keyboard_mouse);
    g_test_add_func("/usb/hostile", test_hostile);
    g_test_add_func("/usb/storage", test_storage);
    g_test_add_func("/usb/storage-qcow2", test_storage_qcow2);
    g_test_add_func("/usb/save-load", test_save_load);
    g_test_add_func("/usb/save-load-tree", test_save_load_tree);
    g_test_add_func("/usb/idle", test_idle);
    g_test_add_func("/usb/host", test_host);
    g_test_add_func("/usb/machine-api", test_machine_api);
    g_test_add_func("/usb/fuzz-schedule", test_fuzz_schedule);
    g_test_add_func("/usb/fuzz-control", test_fuzz_control);
    return g_test_run();
}
