/* USB mass storage, bulk-only transport (USB Mass Storage Class Bulk-Only Transport 1.0:
 * §5 command block and status wrappers, §3.1 reset, §3.2 Get Max LUN, §6.6 error
 * handling) carrying SCSI commands (SPC-3 and SBC-2: the set Linux's usb-storage and
 * sd, and SeaBIOS's usb-msc boot code send) to a disk image.
 *
 * Endpoints: bulk IN 0x81 and bulk OUT 0x02, 64 bytes. A command runs in three phases:
 * the host sends a 31-byte CBW, data moves in the CBW's direction, the device answers
 * with a 13-byte CSW. The data phase always lasts as long as the host asked for (a
 * device with less to say ends it with a short packet; the CSW's residue tells how much
 * was not used). An invalid CBW stalls both endpoints until the host's reset recovery.
 * Image I/O goes through hg_block_submit in chunks of CHUNK bytes; while a request is
 * outstanding the endpoints answer NAK.
 */
#include <string.h>

#include "block/block.h"
#include "state.h"
#include "usb.h"

enum { CHUNK = 64 * 1024, CBW_LEN = 31, CSW_LEN = 13, SECTOR = 512 };
enum { CBW_SIG = 0x43425355, CSW_SIG = 0x53425355 };
enum { ST_CBW, ST_DATA_IN, ST_DATA_OUT, ST_CSW, ST_LAST = ST_CSW };
enum { OP_NONE, OP_READ, OP_WRITE };
/* Sense keys and additional sense codes (SPC-3 4.5.6). */
enum {
    SK_NONE = 0,
    SK_NOT_READY = 2,
    SK_MEDIUM_ERROR = 3,
    SK_ILLEGAL = 5,
    SK_DATA_PROTECT = 7,
    ASC_INVALID_OPCODE = 0x20,
    ASC_LBA_RANGE = 0x21,
    ASC_INVALID_FIELD = 0x24,
    ASC_UNRECOVERED_READ = 0x11,
    ASC_WRITE_ERROR = 0x0c,
    ASC_WRITE_PROTECTED = 0x27,
};

typedef struct Msd {
    HgBlock *blk;
    uint8_t state;
    uint32_t tag;
    uint32_t host_len; /* bytes of data phase the host still expects */
    uint32_t residue;  /* for the CSW */
    uint8_t status;    /* CSW status: 0 passed, 1 failed, 2 phase error */
    uint8_t op;        /* image transfer in the data phase */
    uint64_t lba;      /* next sector to read or write */
    uint32_t sectors;  /* sectors still to transfer */
    uint32_t buf_len, buf_pos;
    uint8_t sense_key, asc;
    bool io_pending, io_ok;
    uint8_t buf[CHUNK];
} Msd;

static const uint8_t msd_device[18] = {
    0x12, 0x01, 0x10, 0x01, 0x00, 0x00, 0x00, 0x40, /* USB 1.1, 64-byte control pipe */
    0xf4, 0x46, 0x01, 0x00, 0x00, 0x01,             /* 46F4:0001 (QEMU's), release 1.00 */
    0x01, 0x02, 0x03, 0x01,
};

static const uint8_t msd_config[32] = {
    0x09, 0x02, 32,   0,    0x01, 0x01, 0x00, 0xc0, 50,   /* self powered */
    0x09, 0x04, 0x00, 0x00, 0x02, 0x08, 0x06, 0x50, 0x00, /* mass storage, SCSI, BOT */
    0x07, 0x05, 0x81, 0x02, 0x40, 0x00, 0x00,             /* bulk IN 1, 64 bytes */
    0x07, 0x05, 0x02, 0x02, 0x40, 0x00, 0x00,             /* bulk OUT 2, 64 bytes */
};

static const char *const msd_strings[] = {"Hangar", "Hangar USB Storage", "HANGAR00000001"};

static Msd *msd_of(HgUsbDevice *d)
{
    return d->priv;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p)
{
    return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static void sense(Msd *s, uint8_t key, uint8_t asc)
{
    s->sense_key = key;
    s->asc = asc;
    s->status = key == SK_NONE ? 0 : 1;
}

/* Starts the data phase with a reply of len bytes in buf (device to host). */
static void reply(Msd *s, uint32_t len)
{
    s->buf_len = MIN(len, s->host_len);
    s->buf_pos = 0;
}

static void io_done(void *opaque, bool ok, const GError *error)
{
    Msd *s = opaque;
    (void)error;
    s->io_pending = false;
    s->io_ok = ok;
}

/* The next chunk of a READ into buf. */
static void read_chunk(Msd *s)
{
    uint32_t n = MIN(s->sectors, (uint32_t)(CHUNK / SECTOR));
    s->io_pending = true;
    hg_block_submit(s->blk, HG_BLOCK_READ, s->lba * SECTOR, s->buf, n * SECTOR, io_done, s);
    if (!s->io_ok) {
        sense(s, SK_MEDIUM_ERROR, ASC_UNRECOVERED_READ);
        s->sectors = 0;
        s->buf_len = s->buf_pos = 0;
        return;
    }
    s->lba += n;
    s->sectors -= n;
    s->buf_len = n * SECTOR;
    s->buf_pos = 0;
}

static void write_chunk(Msd *s)
{
    if (s->buf_len == 0)
        return;
    s->io_pending = true;
    hg_block_submit(s->blk, HG_BLOCK_WRITE, s->lba * SECTOR, s->buf, s->buf_len, io_done, s);
    if (!s->io_ok) {
        sense(s, SK_MEDIUM_ERROR, ASC_WRITE_ERROR);
        s->sectors = 0;
    } else {
        s->lba += s->buf_len / SECTOR;
        s->sectors -= s->buf_len / SECTOR;
    }
    s->buf_len = s->buf_pos = 0;
}

/* READ/WRITE of count sectors at lba: range and protection checks. */
static void start_rw(Msd *s, bool write, uint64_t lba, uint64_t count)
{
    uint64_t total = hg_block_sectors(s->blk);
    if (lba > total || count > total - lba) {
        sense(s, SK_ILLEGAL, ASC_LBA_RANGE);
        return;
    }
    if (write && hg_block_read_only(s->blk)) {
        sense(s, SK_DATA_PROTECT, ASC_WRITE_PROTECTED);
        return;
    }
    /* The host sized its data phase; transfer what both agree on, whole sectors. */
    uint64_t bytes = MIN(count * SECTOR, (uint64_t)s->host_len);
    s->op = write ? OP_WRITE : OP_READ;
    s->lba = lba;
    s->sectors = (uint32_t)(bytes / SECTOR);
    s->buf_len = s->buf_pos = 0;
    if (bytes < count * SECTOR)
        s->status = 2; /* the host asked for less than the command moves: phase error */
}

static void run_scsi(Msd *s, const uint8_t *cdb, int cdb_len)
{
    uint8_t *b = s->buf;
    uint64_t total = hg_block_sectors(s->blk);
    s->status = 0;
    s->op = OP_NONE;
    s->buf_len = s->buf_pos = 0;
    uint8_t opcode = cdb[0];
    if (opcode != 0x03) /* REQUEST SENSE reports the previous command's sense */
        sense(s, SK_NONE, 0);
    switch (opcode) {
    case 0x00: /* TEST UNIT READY */
    case 0x1b: /* START STOP UNIT */
    case 0x1e: /* PREVENT ALLOW MEDIUM REMOVAL */
    case 0x2f: /* VERIFY (10) */ break;
    case 0x35: /* SYNCHRONIZE CACHE (10) */
        s->io_pending = true;
        hg_block_submit(s->blk, HG_BLOCK_FLUSH, 0, NULL, 0, io_done, s);
        if (!s->io_ok)
            sense(s, SK_MEDIUM_ERROR, ASC_WRITE_ERROR);
        break;
    case 0x03: /* REQUEST SENSE: fixed format */
        memset(b, 0, 18);
        b[0] = 0x70;
        b[2] = s->sense_key;
        b[7] = 10;
        b[12] = s->asc;
        reply(s, MIN(18, cdb[4]));
        sense(s, SK_NONE, 0);
        break;
    case 0x12: /* INQUIRY */
        if (cdb[1] & 1) {
            /* Vital product data: only the list of pages (none beyond it). */
            if (cdb[2] != 0) {
                sense(s, SK_ILLEGAL, ASC_INVALID_FIELD);
                break;
            }
            memset(b, 0, 5);
            b[3] = 1;
            reply(s, MIN(5u, (uint32_t)(cdb[3] << 8 | cdb[4])));
            break;
        }
        memset(b, 0, 36);
        b[1] = 0x80; /* removable */
        b[2] = 0x05; /* SPC-3 */
        b[3] = 0x02;
        b[4] = 31;
        memcpy(b + 8, "HANGAR  ", 8);
        memcpy(b + 16, "USB STORAGE     ", 16);
        memcpy(b + 32, "1.0 ", 4);
        reply(s, MIN(36u, (uint32_t)(cdb[3] << 8 | cdb[4])));
        break;
    case 0x1a: /* MODE SENSE (6): the header only (no pages: write-through cache) */
        memset(b, 0, 4);
        b[0] = 3;
        b[2] = hg_block_read_only(s->blk) ? 0x80 : 0;
        reply(s, MIN(4, cdb[4]));
        break;
    case 0x5a: /* MODE SENSE (10) */
        memset(b, 0, 8);
        b[1] = 6;
        b[3] = hg_block_read_only(s->blk) ? 0x80 : 0;
        reply(s, MIN(8u, (uint32_t)(cdb[7] << 8 | cdb[8])));
        break;
    case 0x23: /* READ FORMAT CAPACITIES */
        memset(b, 0, 12);
        b[3] = 8;
        put_be32(b + 4, (uint32_t)MIN(total, 0xffffffffu));
        b[8] = 2; /* formatted media */
        b[10] = SECTOR >> 8;
        reply(s, MIN(12u, (uint32_t)(cdb[7] << 8 | cdb[8])));
        break;
    case 0x25: /* READ CAPACITY (10) */
        put_be32(b, total > 0xffffffffu ? 0xffffffffu : (uint32_t)(total - 1));
        put_be32(b + 4, SECTOR);
        reply(s, 8);
        break;
    case 0x9e: /* SERVICE ACTION IN (16): READ CAPACITY (16) */
        if ((cdb[1] & 0x1f) != 0x10) {
            sense(s, SK_ILLEGAL, ASC_INVALID_OPCODE);
            break;
        }
        memset(b, 0, 32);
        put_be32(b, (uint32_t)((total - 1) >> 32));
        put_be32(b + 4, (uint32_t)(total - 1));
        put_be32(b + 8, SECTOR);
        reply(s, MIN(32u, be32(cdb + 10)));
        break;
    case 0x08: /* READ (6) */
    case 0x0a: /* WRITE (6) */
        start_rw(s, opcode == 0x0a, (uint32_t)(cdb[1] & 0x1f) << 16 | cdb[2] << 8 | cdb[3],
                 cdb[4] ? cdb[4] : 256);
        break;
    case 0x28: /* READ (10) */
    case 0x2a: /* WRITE (10) */
        start_rw(s, opcode == 0x2a, be32(cdb + 2), (uint32_t)(cdb[7] << 8 | cdb[8]));
        break;
    case 0xa8: /* READ (12) */
    case 0xaa: /* WRITE (12) */ start_rw(s, opcode == 0xaa, be32(cdb + 2), be32(cdb + 6)); break;
    case 0x88: /* READ (16) */
    case 0x8a: /* WRITE (16) */
        if (cdb_len < 16) {
            sense(s, SK_ILLEGAL, ASC_INVALID_FIELD);
            break;
        }
        start_rw(s, opcode == 0x8a, be64(cdb + 2), be32(cdb + 10));
        break;
    default: sense(s, SK_ILLEGAL, ASC_INVALID_OPCODE); break;
    }
}

/* A CBW arrived: checks it (§6.2) and runs its command. */
static HgUsbStatus handle_cbw(HgUsbDevice *d, Msd *s, HgUsbPacket *p)
{
    const uint8_t *c = p->data;
    uint32_t sig = (uint32_t)c[0] | c[1] << 8 | c[2] << 16 | (uint32_t)c[3] << 24;
    int cb_len = p->len == CBW_LEN ? c[14] & 0x1f : 0;
    if (p->len != CBW_LEN || sig != CBW_SIG || cb_len < 1 || cb_len > 16) {
        /* Not a meaningful CBW: stall both pipes until reset recovery (§6.6.1). */
        hg_usb_halt(d, 0x81);
        hg_usb_halt(d, 0x02);
        return HG_USB_STALL;
    }
    s->tag = (uint32_t)c[4] | c[5] << 8 | c[6] << 16 | (uint32_t)c[7] << 24;
    s->host_len = (uint32_t)c[8] | c[9] << 8 | c[10] << 16 | (uint32_t)c[11] << 24;
    bool host_in = c[12] & 0x80;
    uint8_t cdb[16] = {0};
    memcpy(cdb, c + 15, (size_t)cb_len);
    if ((c[13] & 0x0f) != 0)
        sense(s, SK_ILLEGAL, ASC_INVALID_FIELD); /* one LUN only */
    else
        run_scsi(s, cdb, cb_len);
    bool dev_out = s->op == OP_WRITE;
    bool dev_in = s->op == OP_READ || s->buf_len > 0;
    if (s->host_len == 0) {
        s->state = ST_CSW;
        if (dev_in || dev_out)
            s->status = 2;
        s->op = OP_NONE;
        s->residue = 0;
    } else if ((dev_out && host_in) || (dev_in && !host_in)) {
        /* The host expects the other direction: phase error after the data phase. */
        s->status = 2;
        s->op = OP_NONE;
        s->buf_len = 0;
        s->state = host_in ? ST_DATA_IN : ST_DATA_OUT;
    } else {
        s->state = host_in ? ST_DATA_IN : ST_DATA_OUT;
    }
    s->residue = s->host_len;
    return HG_USB_ACK;
}

static HgUsbStatus data_in(Msd *s, HgUsbPacket *p)
{
    if (s->buf_pos == s->buf_len && s->op == OP_READ && s->sectors > 0)
        read_chunk(s);
    uint32_t avail = s->buf_len - s->buf_pos;
    uint32_t n = MIN(MIN(avail, (uint32_t)p->len), s->host_len);
    memcpy(p->data, s->buf + s->buf_pos, n);
    s->buf_pos += n;
    s->host_len -= n;
    s->residue -= n;
    p->actual = (int)n;
    /* The last byte the host wanted, or a short packet, ends the data phase; after a
     * full packet with nothing more to say the next IN gets a zero-length packet. */
    if (s->host_len == 0 || (int)n < p->len) {
        s->state = ST_CSW;
        s->op = OP_NONE;
    }
    return HG_USB_ACK;
}

static HgUsbStatus data_out(Msd *s, HgUsbPacket *p)
{
    uint32_t n = MIN((uint32_t)p->len, s->host_len);
    s->host_len -= n;
    if (s->op == OP_WRITE) {
        uint32_t want = MIN((uint32_t)CHUNK, s->sectors * SECTOR) - s->buf_len;
        uint32_t take = MIN(n, want);
        memcpy(s->buf + s->buf_len, p->data, take);
        s->buf_len += take;
        s->residue -= take;
        if (s->buf_len == MIN((uint32_t)CHUNK, s->sectors * SECTOR))
            write_chunk(s);
        if (s->sectors == 0)
            s->op = OP_NONE;
    }
    if (s->host_len == 0 || p->len < 64)
        s->state = ST_CSW;
    return HG_USB_ACK;
}

static HgUsbStatus msd_data(HgUsbDevice *d, HgUsbPacket *p)
{
    Msd *s = msd_of(d);
    if (s->io_pending)
        return HG_USB_NAK;
    if (p->pid == HG_USB_PID_OUT && p->ep == 2) {
        if (s->state == ST_CBW)
            return handle_cbw(d, s, p);
        if (s->state == ST_DATA_OUT)
            return data_out(s, p);
        return HG_USB_STALL;
    }
    if (p->pid == HG_USB_PID_IN && p->ep == 1) {
        if (s->state == ST_DATA_IN)
            return data_in(s, p);
        if (s->state == ST_CSW) {
            if (p->len < CSW_LEN)
                return HG_USB_STALL;
            uint8_t *c = p->data;
            c[0] = 'U', c[1] = 'S', c[2] = 'B', c[3] = 'S';
            memcpy(c + 4, &s->tag, 4);
            uint32_t res = s->residue;
            for (int i = 0; i < 4; i++)
                c[8 + i] = (uint8_t)(res >> (8 * i));
            c[12] = s->status;
            p->actual = CSW_LEN;
            s->state = ST_CBW;
            return HG_USB_ACK;
        }
        return HG_USB_STALL;
    }
    return HG_USB_STALL;
}

static void msd_reset_transport(Msd *s)
{
    s->state = ST_CBW;
    s->op = OP_NONE;
    s->buf_len = s->buf_pos = 0;
    s->host_len = s->residue = 0;
    s->sectors = 0;
}

static HgUsbCtrlResult msd_control(HgUsbDevice *d, const HgUsbSetup *st, uint8_t *data, int *len)
{
    Msd *s = msd_of(d);
    if (st->type == 0xa1 && st->request == 0xfe) { /* Get Max LUN */
        data[0] = 0;
        *len = 1;
        return HG_USB_CTRL_OK;
    }
    if (st->type == 0x21 && st->request == 0xff) { /* Bulk-Only Mass Storage Reset */
        msd_reset_transport(s);
        return HG_USB_CTRL_OK;
    }
    return HG_USB_CTRL_UNHANDLED;
}

static void msd_reset(HgUsbDevice *d)
{
    Msd *s = msd_of(d);
    msd_reset_transport(s);
    s->sense_key = s->asc = 0;
}

static void msd_save(HgUsbDevice *d, HgStateWriter *w)
{
    Msd *s = msd_of(d);
    hg_state_begin(w, "usb-storage", 1);
    hg_state_put_u64(w, hg_block_sectors(s->blk));
    hg_state_put_u8(w, s->state);
    hg_state_put_u32(w, s->tag);
    hg_state_put_u32(w, s->host_len);
    hg_state_put_u32(w, s->residue);
    hg_state_put_u8(w, s->status);
    hg_state_put_u8(w, s->op);
    hg_state_put_u64(w, s->lba);
    hg_state_put_u32(w, s->sectors);
    hg_state_put_u32(w, s->buf_len);
    hg_state_put_u32(w, s->buf_pos);
    hg_state_put_bytes(w, s->buf, s->buf_len);
    hg_state_put_u8(w, s->sense_key);
    hg_state_put_u8(w, s->asc);
    hg_state_end(w);
}

static void msd_load(HgUsbDevice *d, HgStateReader *r)
{
    Msd *s = msd_of(d);
    if (!hg_state_open(r, "usb-storage", 1, 1))
        return;
    uint64_t total = hg_block_sectors(s->blk);
    if (hg_state_get_u64(r) != total) {
        hg_usb_state_fail(r, "a USB storage image of another size");
        return;
    }
    uint8_t state = hg_state_get_u8(r);
    s->tag = hg_state_get_u32(r);
    s->host_len = hg_state_get_u32(r);
    s->residue = hg_state_get_u32(r);
    s->status = hg_state_get_u8(r) % 3;
    uint8_t op = hg_state_get_u8(r);
    uint64_t lba = hg_state_get_u64(r);
    uint32_t sectors = hg_state_get_u32(r);
    uint32_t buf_len = hg_state_get_u32(r), buf_pos = hg_state_get_u32(r);
    if (state > ST_LAST || op > OP_WRITE || buf_len > CHUNK || buf_pos > buf_len || lba > total ||
        sectors > total - lba) {
        hg_usb_state_fail(r, "USB storage transfer state out of range");
        msd_reset_transport(s);
        return;
    }
    hg_state_get_bytes(r, s->buf, buf_len);
    s->state = state;
    s->op = op;
    s->lba = lba;
    s->sectors = sectors;
    s->buf_len = buf_len;
    s->buf_pos = buf_pos;
    s->sense_key = hg_state_get_u8(r) & 0x0f;
    s->asc = hg_state_get_u8(r);
    s->io_pending = false;
    hg_state_close(r);
}

static void msd_free(HgUsbDevice *d)
{
    Msd *s = msd_of(d);
    hg_block_close(s->blk);
    g_free(s);
}

static const HgUsbDeviceOps msd_ops = {
    .kind = "storage",
    .control = msd_control,
    .data = msd_data,
    .reset = msd_reset,
    .save = msd_save,
    .load = msd_load,
    .free = msd_free,
};

HgUsbDevice *hg_usb_storage_new(HgBlock *blk)
{
    Msd *s = g_new0(Msd, 1);
    s->blk = blk;
    HgUsbDevice *d = g_new0(HgUsbDevice, 1);
    HgUsbDescriptors desc = {msd_device, msd_config, 32, msd_strings, 3};
    hg_usb_device_init(d, &msd_ops, &desc, msd_strings[1], s);
    msd_reset(d);
    return d;
}
