/* Intel 82077AA floppy disk controller in PC/AT mode (82077AA datasheet, sections
 * "Register description", "Command set descriptions" and "Status register encoding"),
 * with up to two drives holding raw images.
 *
 * Registers at 0x3F0 + n: 2 DOR (drive select, /RESET, DMA+IRQ gate, motors), 3 TDR,
 * 4 MSR (read) / DSR (write: software reset, data rate), 5 FIFO, 7 DIR (read: bit 7 disk
 * change of the selected drive) / CCR (write: data rate).
 *
 * A command goes through three phases: the command bytes are written to the FIFO, the
 * execution phase moves data (by DMA on channel 2, or through the FIFO when SPECIFY
 * chose non-DMA mode), and the result bytes are read back. Seeks complete at once and
 * report through SENSE INTERRUPT STATUS; data commands end in the result phase with an
 * interrupt. A DMA terminal count ends a data transfer normally; reaching the end of
 * track (EOT, and the second side when MT is set) first ends it abnormally with ST1 EN,
 * as the datasheet specifies. After a reset the controller interrupts once and answers
 * four SENSE INTERRUPT STATUS commands (ST0 = C0h + drive), the polling behaviour
 * SeaBIOS and Linux expect.
 *
 * Raw images have 512-byte sectors (N = 2) numbered 1..SPT with ID fields matching the
 * physical cylinder and head, so a command naming another cylinder, head, sector or size
 * does not find its sector (ST1 ND, ST2 WC for a wrong cylinder) and a track past the
 * image's last cylinder has no address marks at all (ST1 MA).
 */
#include "fdc.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus.h"
#include "hw/dma8237.h"
#include "state.h"

enum {
    SECTOR = 512,
    DMA_CHANNEL = 2,
    DOR_RESET = 0x04,
    DOR_GATE = 0x08,
    MSR_RQM = 0x80,
    MSR_DIO = 0x40,
    MSR_NDMA = 0x20,
    MSR_CB = 0x10,
    ST0_ABNORMAL = 0x40,
    ST0_INVALID = 0x80,
    ST0_SE = 0x20,
    ST0_EC = 0x10,
    ST1_MA = 0x01,
    ST1_NW = 0x02,
    ST1_ND = 0x04,
    ST1_DE = 0x20,
    ST1_EN = 0x80,
    ST2_BC = 0x02,
    ST2_WC = 0x10,
    ST3_WP = 0x40,
    ST3_RDY = 0x20,
    ST3_T0 = 0x10,
    ST3_TS = 0x08,
    CONFIG_DEFAULT = 0x20, /* FIFO disabled, polling enabled, threshold 1 */
};

enum { PHASE_CMD, PHASE_EXEC, PHASE_RESULT };
enum { X_READ, X_WRITE, X_FORMAT };

/* rates: the data rates (CCR/DSR codes 0 = 500, 1 = 300, 2 = 250 kb/s, 3 = 1 Mb/s) the
 * media can be read at; at any other rate the controller finds no address marks, which
 * is how SeaBIOS and Linux tell 720 KB from 1.44 MB media. */
typedef struct Geometry {
    uint32_t size;
    uint8_t tracks, heads, spt, cmos_type, rates;
} Geometry;

static const Geometry geometries[] = {
    {368640, 40, 2, 9, 1, 1 << 1 | 1 << 2}, /* 360 KB: 300 (in a 1.2 MB drive) or 250 */
    {737280, 80, 2, 9, 3, 1 << 2},          /* 720 KB: 250 kb/s */
    {1228800, 80, 2, 15, 2, 1 << 0},        /* 1.2 MB: 500 kb/s */
    {1474560, 80, 2, 18, 4, 1 << 0},        /* 1.44 MB: 500 kb/s */
    {2949120, 80, 2, 36, 5, 1 << 3},        /* 2.88 MB: 1 Mb/s */
};

typedef struct Drive {
    int fd; /* -1: no media */
    bool read_only;
    Geometry geo;
    uint8_t track; /* present cylinder number */
    bool changed;  /* disk-change line */
} Drive;

struct HgFdc {
    HgDma *dma;
    HgIrq irq;
    int ndrives;
    Drive drv[HG_FDC_MAX_DRIVES];
    uint8_t dor, tdr, rate;
    uint8_t spec1, spec2; /* SPECIFY bytes: SRT/HUT, HLT/ND */
    uint8_t config, pretrk, perp, eot_last;
    bool lock;
    int phase;
    uint8_t cmd[9];
    int cmd_len, cmd_pos;
    uint8_t res[10];
    int res_len, res_pos;
    bool irq_pending, irq_level;
    int reset_sensei; /* SENSE INTERRUPT STATUS answers owed after a reset */
    bool seek_done;   /* a seek/recalibrate status waits for SENSE INTERRUPT */
    uint8_t seek_st0, seek_pcn;
    /* Execution phase of a data command. */
    int xkind;
    bool pio;
    uint8_t ds, head;        /* drive and physical head */
    uint8_t c, h, r, n, eot; /* ID of the current sector, end of track */
    bool mt;
    uint8_t sc, fill; /* FORMAT: sectors per track, filler byte */
    int fmt_done;
    uint8_t buf[SECTOR];
    int buf_pos;
};

/* Not G_DEFINE_QUARK: it caches the quark in a static variable, and the engine keeps no
 * mutable globals. */
GQuark hg_fdc_error_quark(void)
{
    return g_quark_from_static_string("hg-fdc-error-quark");
}

/* ---- interrupts and phases ---- */

static void update_irq(HgFdc *f)
{
    bool level = f->irq_pending && (f->dor & DOR_GATE);
    if (level != f->irq_level) {
        f->irq_level = level;
        hg_irq_set(&f->irq, level);
    }
}

static void raise_irq(HgFdc *f)
{
    f->irq_pending = true;
    update_irq(f);
}

static void lower_irq(HgFdc *f)
{
    f->irq_pending = false;
    update_irq(f);
}

static void to_command_phase(HgFdc *f)
{
    f->phase = PHASE_CMD;
    f->cmd_pos = 0;
    f->cmd_len = 0;
    f->res_len = 0;
    f->res_pos = 0;
    hg_dma_release_dreq(f->dma, DMA_CHANNEL);
}

static void result(HgFdc *f, const uint8_t *bytes, int n, bool irq)
{
    memcpy(f->res, bytes, n);
    f->res_len = n;
    f->res_pos = 0;
    f->phase = PHASE_RESULT;
    hg_dma_release_dreq(f->dma, DMA_CHANNEL);
    if (irq)
        raise_irq(f);
}

static uint8_t st0_of(const HgFdc *f, uint8_t bits)
{
    return bits | (uint8_t)(f->head << 2) | f->ds;
}

/* Ends a data command with ST0-ST2 and the current sector ID. */
static void finish(HgFdc *f, uint8_t st0, uint8_t st1, uint8_t st2)
{
    uint8_t r[7] = {st0_of(f, st0), st1, st2, f->c, f->h, f->r, f->n};
    result(f, r, 7, true);
}

/* ---- media ---- */

static Drive *drive(HgFdc *f, int ds)
{
    return ds < f->ndrives ? &f->drv[ds] : NULL;
}

/* Whether the head sees address marks: media in the drive, a formatted cylinder under
 * the head and the data rate of the media. */
static bool readable(const HgFdc *f, const Drive *d)
{
    return d && d->fd >= 0 && d->track < d->geo.tracks && f->head < d->geo.heads &&
           (d->geo.rates >> f->rate) & 1;
}

/* Byte offset of the current sector, or -1 with the error bits that real media give. */
static int64_t locate(HgFdc *f, uint8_t *st1, uint8_t *st2)
{
    Drive *d = drive(f, f->ds);
    *st1 = *st2 = 0;
    if (!readable(f, d)) {
        *st1 = ST1_MA;
        return -1;
    }
    if (f->c != d->track) {
        *st1 = ST1_ND;
        *st2 = f->c == 0xff ? ST2_BC : ST2_WC;
        return -1;
    }
    if (f->h != f->head || f->n != 2 || f->r < 1 || f->r > d->geo.spt) {
        *st1 = ST1_ND;
        return -1;
    }
    int64_t lba = ((int64_t)d->track * d->geo.heads + f->head) * d->geo.spt + (f->r - 1);
    return lba * SECTOR;
}

static bool read_sector(HgFdc *f, int64_t off)
{
    Drive *d = drive(f, f->ds);
    ssize_t got = pread(d->fd, f->buf, SECTOR, off);
    if (got < 0)
        return false;
    if (got < SECTOR) /* the file shrank behind our back: unwritten space reads as zero */
        memset(f->buf + got, 0, SECTOR - got);
    return true;
}

static bool write_bytes(Drive *d, const uint8_t *p, int len, int64_t off)
{
    while (len > 0) {
        ssize_t put = pwrite(d->fd, p, len, off);
        if (put < 0 && errno == EINTR)
            continue;
        if (put <= 0)
            return false;
        p += put;
        len -= (int)put;
        off += put;
    }
    return true;
}

/* Moves to the next sector ID as the datasheet's result table gives it; false when the
 * end of the track (or of the cylinder with MT) has been passed. */
static bool advance(HgFdc *f)
{
    if (f->r < f->eot) {
        f->r++;
        return true;
    }
    f->r = 1;
    if (f->mt) {
        f->h ^= 1;
        if (f->head == 0) {
            f->head = 1;
            return true;
        }
    }
    f->c++;
    return false;
}

/* Starts the current sector of a READ: false when the command has been terminated. */
static bool load_sector(HgFdc *f)
{
    uint8_t st1, st2;
    int64_t off = locate(f, &st1, &st2);
    if (off < 0) {
        finish(f, ST0_ABNORMAL, st1, st2);
        return false;
    }
    if (!read_sector(f, off)) {
        finish(f, ST0_ABNORMAL, ST1_DE, 0);
        return false;
    }
    f->buf_pos = 0;
    return true;
}

/* A full sector has gone to or come from the host. tc: the DMA reached terminal count.
 * Returns true when the transfer goes on with the next sector. */
static bool sector_done(HgFdc *f, bool tc)
{
    if (f->xkind == X_WRITE) {
        uint8_t st1, st2;
        int64_t off = locate(f, &st1, &st2);
        if (off < 0) {
            finish(f, ST0_ABNORMAL, st1, st2);
            return false;
        }
        if (!write_bytes(drive(f, f->ds), f->buf, SECTOR, off)) {
            finish(f, ST0_ABNORMAL, ST1_DE, 0);
            return false;
        }
    }
    bool more = advance(f);
    if (tc) {
        finish(f, 0, 0, 0);
        return false;
    }
    if (!more) {
        finish(f, ST0_ABNORMAL, ST1_EN, 0);
        return false;
    }
    f->buf_pos = 0;
    if (f->xkind == X_READ)
        return load_sector(f);
    uint8_t st1, st2;
    if (locate(f, &st1, &st2) < 0) {
        finish(f, ST0_ABNORMAL, st1, st2);
        return false;
    }
    return true;
}

/* One 4-byte sector ID of FORMAT TRACK has arrived in buf. */
static bool format_id_done(HgFdc *f)
{
    Drive *d = drive(f, f->ds);
    uint8_t c = f->buf[0], h = f->buf[1], r = f->buf[2], n = f->buf[3];
    f->c = c;
    f->h = h;
    f->r = r;
    f->n = n;
    /* Only IDs a raw image can represent are written; others are ignored. */
    if (c == d->track && h == f->head && n == 2 && r >= 1 && r <= d->geo.spt) {
        uint8_t fillbuf[SECTOR];
        memset(fillbuf, f->fill, SECTOR);
        int64_t lba = ((int64_t)d->track * d->geo.heads + f->head) * d->geo.spt + (r - 1);
        if (!write_bytes(d, fillbuf, SECTOR, lba * SECTOR)) {
            finish(f, ST0_ABNORMAL, ST1_DE, 0);
            return false;
        }
    }
    f->buf_pos = 0;
    if (++f->fmt_done >= f->sc) {
        finish(f, 0, 0, 0);
        return false;
    }
    return true;
}

static int transfer(void *opaque, int ch, int pos, int len)
{
    HgFdc *f = opaque;
    while (f->phase == PHASE_EXEC && !f->pio && pos < len) {
        int unit = f->xkind == X_FORMAT ? 4 : SECTOR;
        int n = MIN(len - pos, unit - f->buf_pos);
        if (f->xkind == X_READ) {
            if (((hg_dma_mode(f->dma, ch) >> 2) & 3) != HG_DMA_VERIFY)
                hg_dma_write_memory(f->dma, ch, f->buf + f->buf_pos, pos, n);
        } else {
            hg_dma_read_memory(f->dma, ch, f->buf + f->buf_pos, pos, n);
        }
        pos += n;
        f->buf_pos += n;
        if (f->buf_pos == unit) {
            if (f->xkind == X_FORMAT) {
                if (!format_id_done(f) || pos == len)
                    break;
            } else if (!sector_done(f, pos == len)) {
                break;
            }
        }
    }
    if (f->phase == PHASE_EXEC && !f->pio && pos == len) {
        /* Terminal count inside a sector (or before SC sector IDs): the controller
         * finishes the sector without the host, a write padding it with zeros, and
         * ends the command normally. */
        if (f->xkind == X_FORMAT) {
            finish(f, 0, 0, 0);
        } else {
            if (f->xkind == X_WRITE)
                memset(f->buf + f->buf_pos, 0, SECTOR - f->buf_pos);
            sector_done(f, true);
        }
    }
    if (f->phase != PHASE_EXEC)
        hg_dma_release_dreq(f->dma, DMA_CHANNEL);
    return pos;
}

static void kick_dma(HgFdc *f)
{
    if (f->phase == PHASE_EXEC && !f->pio && (f->dor & DOR_GATE) && (f->dor & DOR_RESET)) {
        hg_dma_hold_dreq(f->dma, DMA_CHANNEL);
        hg_dma_run(f->dma);
    }
}

/* ---- commands ---- */

typedef struct CmdDesc {
    uint8_t len;
    uint8_t flags; /* bits allowed above the opcode */
} CmdDesc;

static const CmdDesc cmds[32] = {
    [0x03] = {3, 0x00}, /* SPECIFY */
    [0x04] = {2, 0x00}, /* SENSE DRIVE STATUS */
    [0x05] = {9, 0xc0}, /* WRITE DATA (MT, MFM) */
    [0x06] = {9, 0xe0}, /* READ DATA (MT, MFM, SK) */
    [0x07] = {2, 0x00}, /* RECALIBRATE */
    [0x08] = {1, 0x00}, /* SENSE INTERRUPT STATUS */
    [0x0a] = {2, 0x40}, /* READ ID (MFM) */
    [0x0d] = {6, 0x40}, /* FORMAT TRACK (MFM) */
    [0x0e] = {1, 0x00}, /* DUMPREG */
    [0x0f] = {3, 0xc0}, /* SEEK (relative: RS, DIR) */
    [0x10] = {1, 0x00}, /* VERSION */
    [0x12] = {2, 0x00}, /* PERPENDICULAR MODE */
    [0x13] = {4, 0x00}, /* CONFIGURE */
    [0x14] = {1, 0x80}, /* LOCK */
};

/* Present cylinder number of drive n (0 for the drives that are not attached). */
static uint8_t pcn(const HgFdc *f, int n)
{
    return n >= 0 && n < f->ndrives && n < HG_FDC_MAX_DRIVES ? f->drv[n].track : 0;
}

static void select_drive(HgFdc *f, uint8_t b)
{
    f->ds = b & 3;
    f->head = (b >> 2) & 1;
}

static void seek_complete(HgFdc *f, int target)
{
    Drive *d = drive(f, f->ds);
    uint8_t st0 = ST0_SE;
    if (!d) {
        st0 |= ST0_ABNORMAL | ST0_EC; /* no drive: track 0 never seen */
    } else {
        d->track = (uint8_t)CLAMP(target, 0, 255);
        if (d->fd >= 0)
            d->changed = false; /* the step pulse resets the disk-change line */
    }
    f->seek_done = true;
    f->seek_st0 = st0_of(f, st0);
    f->seek_pcn = d ? d->track : 0;
    to_command_phase(f);
    raise_irq(f);
}

static void start_data(HgFdc *f, int kind)
{
    const uint8_t *b = f->cmd;
    select_drive(f, b[1]);
    f->xkind = kind;
    f->mt = kind != X_FORMAT && (b[0] & 0x80);
    f->pio = f->spec2 & 1;
    f->buf_pos = 0;
    f->phase = PHASE_EXEC;
    Drive *d = drive(f, f->ds);
    if (kind == X_FORMAT) {
        f->n = b[2];
        f->sc = b[3];
        f->fill = b[5];
        f->fmt_done = 0;
        f->c = d ? d->track : 0;
        f->h = f->head;
        f->r = 1;
    } else {
        f->c = b[2];
        f->h = b[3];
        f->r = b[4];
        f->n = b[5];
        f->eot = b[6];
        f->eot_last = b[6];
    }
    if (!readable(f, d)) {
        finish(f, ST0_ABNORMAL, ST1_MA, 0);
        return;
    }
    if (kind != X_READ && d->read_only) {
        finish(f, ST0_ABNORMAL, ST1_NW, 0);
        return;
    }
    if (kind == X_FORMAT) {
        if (f->n != 2 || f->sc == 0) {
            finish(f, ST0_ABNORMAL, ST1_ND, 0); /* a format the image cannot hold */
            return;
        }
    } else if (kind == X_READ) {
        if (!load_sector(f))
            return;
    } else {
        uint8_t st1, st2;
        if (locate(f, &st1, &st2) < 0) {
            finish(f, ST0_ABNORMAL, st1, st2);
            return;
        }
    }
    if (f->pio)
        raise_irq(f); /* non-DMA mode: the host is interrupted to move the bytes */
    else
        kick_dma(f);
}

static void execute(HgFdc *f)
{
    const uint8_t *b = f->cmd;
    uint8_t op = b[0] & 0x1f;
    /* The reset's polling statuses are owed only until the host moves on to another
     * command (SeaBIOS reads one, then recalibrates and expects the seek status). */
    if (op != 0x08)
        f->reset_sensei = 0;
    switch (op) {
    case 0x03:
        f->spec1 = b[1];
        f->spec2 = b[2];
        to_command_phase(f);
        break;
    case 0x04: {
        select_drive(f, b[1]);
        Drive *d = drive(f, f->ds);
        uint8_t st3 = ST3_RDY | ST3_TS | (uint8_t)(f->head << 2) | f->ds;
        if (d && d->track == 0)
            st3 |= ST3_T0;
        if (d && (d->fd < 0 || d->read_only))
            st3 |= ST3_WP; /* an empty 3.5" drive reports write protect */
        result(f, &st3, 1, false);
        break;
    }
    case 0x05: start_data(f, X_WRITE); break;
    case 0x06: start_data(f, X_READ); break;
    case 0x07:
        select_drive(f, b[1]);
        f->head = 0;
        seek_complete(f, 0);
        break;
    case 0x08: {
        lower_irq(f);
        uint8_t r[2];
        if (f->reset_sensei > 0) {
            int n = 4 - f->reset_sensei--;
            r[0] = 0xc0 | (uint8_t)n;
            r[1] = pcn(f, n);
        } else if (f->seek_done) {
            f->seek_done = false;
            r[0] = f->seek_st0;
            r[1] = f->seek_pcn;
        } else {
            r[0] = ST0_INVALID;
            result(f, r, 1, false);
            break;
        }
        result(f, r, 2, false);
        break;
    }
    case 0x0a: {
        select_drive(f, b[1]);
        Drive *d = drive(f, f->ds);
        f->n = 2;
        f->r = 1;
        if (!readable(f, d)) {
            f->c = d ? d->track : 0;
            f->h = f->head;
            finish(f, ST0_ABNORMAL, ST1_MA, 0);
        } else {
            f->c = d->track;
            f->h = f->head;
            finish(f, 0, 0, 0);
        }
        break;
    }
    case 0x0d: start_data(f, X_FORMAT); break;
    case 0x0e: {
        uint8_t r[10];
        for (int i = 0; i < 4; i++)
            r[i] = pcn(f, i);
        r[4] = f->spec1;
        r[5] = f->spec2;
        r[6] = f->eot_last;
        r[7] = (uint8_t)(f->lock << 7) | (f->perp & 0x3f);
        r[8] = f->config;
        r[9] = f->pretrk;
        result(f, r, 10, false);
        break;
    }
    case 0x0f: {
        select_drive(f, b[1]);
        Drive *d = drive(f, f->ds);
        int target = b[2];
        if (b[0] & 0x80) { /* relative seek: DIR set steps inwards (higher cylinders) */
            int cur = d ? d->track : 0;
            target = (b[0] & 0x40) ? cur + b[2] : cur - b[2];
        }
        seek_complete(f, target);
        break;
    }
    case 0x10: {
        uint8_t v = 0x90;
        result(f, &v, 1, false);
        break;
    }
    case 0x12:
        if (b[1] & 0x80)
            f->perp = (f->perp & 0x03) | (b[1] & 0x3c);
        f->perp = (f->perp & 0x3c) | (b[1] & 0x03);
        to_command_phase(f);
        break;
    case 0x13:
        f->config = b[2] & 0x7f;
        f->pretrk = b[3];
        to_command_phase(f);
        break;
    case 0x14: {
        f->lock = (b[0] & 0x80) != 0;
        uint8_t v = (uint8_t)(f->lock << 4);
        result(f, &v, 1, false);
        break;
    }
    }
}

/* Non-DMA execution: each byte moved through the FIFO clears the interrupt and the next
 * byte raises it again, so the end of the command (the result phase) is a fresh edge. */
static void pio_request(HgFdc *f)
{
    if (f->phase == PHASE_EXEC)
        raise_irq(f);
}

static void fifo_write(HgFdc *f, uint8_t v)
{
    if (!(f->dor & DOR_RESET))
        return;
    if (f->phase == PHASE_EXEC) {
        if (!f->pio || f->xkind == X_READ)
            return;
        int unit = f->xkind == X_FORMAT ? 4 : SECTOR;
        lower_irq(f);
        f->buf[f->buf_pos++] = v;
        if (f->buf_pos == unit) {
            if (f->xkind == X_FORMAT)
                format_id_done(f);
            else
                sector_done(f, false);
        }
        pio_request(f);
        return;
    }
    if (f->phase == PHASE_RESULT)
        return; /* the host must read the result first: the byte is lost */
    if (f->cmd_pos == 0) {
        const CmdDesc *cd = &cmds[v & 0x1f];
        if (!cd->len || (v & ~(cd->flags | 0x1f))) {
            uint8_t st0 = ST0_INVALID;
            result(f, &st0, 1, false);
            return;
        }
        f->cmd_len = cd->len;
    }
    f->cmd[f->cmd_pos++] = v;
    if (f->cmd_pos == f->cmd_len) {
        f->cmd_pos = 0;
        execute(f);
    }
}

static uint8_t fifo_read(HgFdc *f)
{
    if (f->phase == PHASE_RESULT) {
        lower_irq(f);
        uint8_t v = f->res[f->res_pos++];
        if (f->res_pos >= f->res_len)
            to_command_phase(f);
        return v;
    }
    if (f->phase == PHASE_EXEC && f->pio && f->xkind == X_READ) {
        lower_irq(f);
        uint8_t v = f->buf[f->buf_pos++];
        if (f->buf_pos == SECTOR)
            sector_done(f, false);
        pio_request(f);
        return v;
    }
    return 0xff;
}

static uint8_t msr(const HgFdc *f)
{
    if (!(f->dor & DOR_RESET))
        return 0;
    switch (f->phase) {
    case PHASE_RESULT: return MSR_RQM | MSR_DIO | MSR_CB;
    case PHASE_EXEC:
        if (!f->pio)
            return MSR_CB;
        return MSR_RQM | MSR_NDMA | MSR_CB | (f->xkind == X_READ ? MSR_DIO : 0);
    default: return MSR_RQM | (f->cmd_pos ? MSR_CB : 0);
    }
}

/* Software reset (DOR bit 2 low, or DSR bit 7): back to the command phase; CONFIGURE's
 * settings survive when LOCKed. irq: the reset ends and the controller interrupts. */
static void soft_reset(HgFdc *f, bool irq)
{
    to_command_phase(f);
    f->irq_pending = false;
    f->seek_done = false;
    f->reset_sensei = 0;
    if (!f->lock) {
        f->config = CONFIG_DEFAULT;
        f->pretrk = 0;
    }
    f->perp &= 0x3c;
    if (irq) {
        f->reset_sensei = 4;
        f->irq_pending = true;
    }
    update_irq(f);
}

static uint32_t fdc_read(void *opaque, uint32_t port, int size)
{
    HgFdc *f = opaque;
    (void)size;
    switch (port & 7) {
    case 0:
    case 1: return 0xff; /* SRA/SRB exist in PS/2 mode only */
    case 2: return f->dor;
    case 3: return f->tdr;
    case 4: return msr(f);
    case 5: return fifo_read(f);
    case 7: {
        const Drive *d = drive(f, f->dor & 3);
        return (d && d->changed) ? 0x80 : 0x00;
    }
    default: return 0xff;
    }
}

static void fdc_write(void *opaque, uint32_t port, uint32_t value, int size)
{
    HgFdc *f = opaque;
    uint8_t v = (uint8_t)value;
    (void)size;
    switch (port & 7) {
    case 2: {
        uint8_t old = f->dor;
        f->dor = v;
        if (!(v & DOR_RESET))
            soft_reset(f, false);
        else if (!(old & DOR_RESET))
            soft_reset(f, true);
        update_irq(f);
        kick_dma(f);
        break;
    }
    case 3: f->tdr = v & 3; break;
    case 4:
        f->rate = v & 3;
        if (v & 0x80)
            soft_reset(f, true);
        break;
    case 5: fifo_write(f, v); break;
    case 7: f->rate = v & 3; break;
    }
}

/* ---- life cycle and media ---- */

void hg_fdc_reset(HgFdc *f)
{
    f->dor = 0; /* held in reset until the BIOS enables it, as after RESET */
    f->tdr = 0;
    f->rate = 2; /* 250 kb/s after a hardware reset */
    f->spec1 = f->spec2 = 0;
    f->lock = false;
    f->perp = 0;
    f->eot_last = 0;
    for (int i = 0; i < f->ndrives; i++)
        f->drv[i].track = 0;
    soft_reset(f, false);
}

HgFdc *hg_fdc_new(HgBus *bus, HgDma *dma, HgIrq irq, int ndrives)
{
    HgFdc *f = g_new0(HgFdc, 1);
    f->dma = dma;
    f->irq = irq;
    f->ndrives = CLAMP(ndrives, 1, HG_FDC_MAX_DRIVES);
    for (int i = 0; i < HG_FDC_MAX_DRIVES; i++)
        f->drv[i].fd = -1;
    hg_fdc_reset(f);
    hg_bus_map_io(bus, 0x3f0, 6, fdc_read, fdc_write, f);
    hg_bus_map_io(bus, 0x3f7, 1, fdc_read, fdc_write, f);
    hg_dma_register(dma, DMA_CHANNEL, transfer, f);
    return f;
}

void hg_fdc_free(HgFdc *f)
{
    if (!f)
        return;
    for (int i = 0; i < HG_FDC_MAX_DRIVES; i++)
        hg_fdc_eject(f, i);
    g_free(f);
}

void hg_fdc_eject(HgFdc *f, int n)
{
    if (n < 0 || n >= f->ndrives)
        return;
    Drive *d = &f->drv[n];
    if (d->fd >= 0) {
        close(d->fd);
        d->fd = -1;
    }
    memset(&d->geo, 0, sizeof d->geo);
    d->read_only = false;
    d->changed = true;
    /* A transfer in progress on this drive stops: the next sector is not found. */
}

bool hg_fdc_insert(HgFdc *f, int n, const char *path, bool read_only, GError **error)
{
    if (n < 0 || n >= f->ndrives) {
        g_set_error(error, HG_FDC_ERROR, HG_FDC_ERROR_DRIVE, "floppy drive %d does not exist", n);
        return false;
    }
    int fd = -1;
    if (!read_only) {
        fd = open(path, O_RDWR | O_CLOEXEC);
        if (fd < 0 && errno != EACCES && errno != EROFS && errno != EPERM) {
            int e = errno;
            g_set_error(error, HG_FDC_ERROR, HG_FDC_ERROR_OPEN, "cannot open %s: %s", path,
                        g_strerror(e));
            return false;
        }
    }
    if (fd < 0) {
        read_only = true;
        fd = open(path, O_RDONLY | O_CLOEXEC);
    }
    if (fd < 0) {
        int e = errno;
        g_set_error(error, HG_FDC_ERROR, HG_FDC_ERROR_OPEN, "cannot open %s: %s", path,
                    g_strerror(e));
        return false;
    }
    struct stat sb;
    const Geometry *geo = NULL;
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode)) {
        for (size_t i = 0; i < G_N_ELEMENTS(geometries); i++)
            if ((uint64_t)sb.st_size == geometries[i].size)
                geo = &geometries[i];
    }
    if (!geo) {
        close(fd);
        g_set_error(error, HG_FDC_ERROR, HG_FDC_ERROR_GEOMETRY,
                    "%s is not a floppy image: its size (%lld bytes) matches none of "
                    "360 KB, 720 KB, 1.2 MB, 1.44 MB or 2.88 MB",
                    path, (long long)sb.st_size);
        return false;
    }
    hg_fdc_eject(f, n);
    Drive *d = &f->drv[n];
    d->fd = fd;
    d->geo = *geo;
    d->read_only = read_only;
    d->changed = true;
    return true;
}

bool hg_fdc_change(HgFdc *f, int drive, const char *path, bool read_only, GError **error)
{
    return hg_fdc_insert(f, drive, path, read_only, error);
}

bool hg_fdc_has_media(const HgFdc *f, int n)
{
    return n >= 0 && n < f->ndrives && f->drv[n].fd >= 0;
}

bool hg_fdc_read_only(const HgFdc *f, int n)
{
    return hg_fdc_has_media(f, n) && f->drv[n].read_only;
}

int hg_fdc_drive_type(const HgFdc *f, int n)
{
    return hg_fdc_has_media(f, n) ? f->drv[n].geo.cmos_type : 0;
}

/* ---- state ---- */

void hg_fdc_save(const HgFdc *f, HgStateWriter *w)
{
    hg_state_begin(w, "fdc", 1);
    for (int i = 0; i < HG_FDC_MAX_DRIVES; i++) {
        const Drive *d = &f->drv[i];
        hg_state_put_u8(w, d->track);
        hg_state_put_u8(w, d->changed);
        hg_state_put_u32(w, d->fd >= 0 ? d->geo.size : 0);
    }
    hg_state_put_u8(w, f->dor);
    hg_state_put_u8(w, f->tdr);
    hg_state_put_u8(w, f->rate);
    hg_state_put_u8(w, f->spec1);
    hg_state_put_u8(w, f->spec2);
    hg_state_put_u8(w, f->config);
    hg_state_put_u8(w, f->pretrk);
    hg_state_put_u8(w, f->perp);
    hg_state_put_u8(w, f->eot_last);
    hg_state_put_u8(w, f->lock);
    hg_state_put_u8(w, (uint8_t)f->phase);
    hg_state_put_bytes(w, f->cmd, sizeof f->cmd);
    hg_state_put_u8(w, (uint8_t)f->cmd_len);
    hg_state_put_u8(w, (uint8_t)f->cmd_pos);
    hg_state_put_bytes(w, f->res, sizeof f->res);
    hg_state_put_u8(w, (uint8_t)f->res_len);
    hg_state_put_u8(w, (uint8_t)f->res_pos);
    hg_state_put_u8(w, f->irq_pending);
    hg_state_put_u8(w, (uint8_t)f->reset_sensei);
    hg_state_put_u8(w, f->seek_done);
    hg_state_put_u8(w, f->seek_st0);
    hg_state_put_u8(w, f->seek_pcn);
    hg_state_put_u8(w, (uint8_t)f->xkind);
    hg_state_put_u8(w, f->pio);
    hg_state_put_u8(w, f->ds);
    hg_state_put_u8(w, f->head);
    hg_state_put_u8(w, f->c);
    hg_state_put_u8(w, f->h);
    hg_state_put_u8(w, f->r);
    hg_state_put_u8(w, f->n);
    hg_state_put_u8(w, f->eot);
    hg_state_put_u8(w, f->mt);
    hg_state_put_u8(w, f->sc);
    hg_state_put_u8(w, f->fill);
    hg_state_put_u16(w, (uint16_t)f->fmt_done);
    hg_state_put_bytes(w, f->buf, sizeof f->buf);
    hg_state_put_u16(w, (uint16_t)f->buf_pos);
    hg_state_end(w);
}

void hg_fdc_load(HgFdc *f, HgStateReader *r)
{
    if (!hg_state_open(r, "fdc", 1, 1))
        return;
    for (int i = 0; i < HG_FDC_MAX_DRIVES; i++) {
        Drive *d = &f->drv[i];
        d->track = hg_state_get_u8(r);
        d->changed = hg_state_get_u8(r) != 0;
        uint32_t size = hg_state_get_u32(r);
        /* Media that differs from the saved machine's is a disk change. */
        if (size != (d->fd >= 0 ? d->geo.size : 0))
            d->changed = true;
    }
    f->dor = hg_state_get_u8(r);
    f->tdr = hg_state_get_u8(r) & 3;
    f->rate = hg_state_get_u8(r) & 3;
    f->spec1 = hg_state_get_u8(r);
    f->spec2 = hg_state_get_u8(r);
    f->config = hg_state_get_u8(r) & 0x7f;
    f->pretrk = hg_state_get_u8(r);
    f->perp = hg_state_get_u8(r) & 0x3f;
    f->eot_last = hg_state_get_u8(r);
    f->lock = hg_state_get_u8(r) != 0;
    int phase = hg_state_get_u8(r);
    uint8_t cmd[sizeof f->cmd], res[sizeof f->res];
    hg_state_get_bytes(r, cmd, sizeof cmd);
    int cmd_len = hg_state_get_u8(r);
    int cmd_pos = hg_state_get_u8(r);
    hg_state_get_bytes(r, res, sizeof res);
    int res_len = hg_state_get_u8(r);
    int res_pos = hg_state_get_u8(r);
    f->irq_pending = hg_state_get_u8(r) != 0;
    int sensei = hg_state_get_u8(r);
    f->seek_done = hg_state_get_u8(r) != 0;
    f->seek_st0 = hg_state_get_u8(r);
    f->seek_pcn = hg_state_get_u8(r);
    int xkind = hg_state_get_u8(r);
    f->pio = hg_state_get_u8(r) != 0;
    f->ds = hg_state_get_u8(r) & 3;
    f->head = hg_state_get_u8(r) & 1;
    f->c = hg_state_get_u8(r);
    f->h = hg_state_get_u8(r);
    f->r = hg_state_get_u8(r);
    f->n = hg_state_get_u8(r);
    f->eot = hg_state_get_u8(r);
    f->mt = hg_state_get_u8(r) != 0;
    f->sc = hg_state_get_u8(r);
    f->fill = hg_state_get_u8(r);
    f->fmt_done = hg_state_get_u16(r);
    hg_state_get_bytes(r, f->buf, sizeof f->buf);
    int buf_pos = hg_state_get_u16(r);
    hg_state_close(r);
    memcpy(f->cmd, cmd, sizeof cmd);
    memcpy(f->res, res, sizeof res);

    /* Validate every index a later access uses. */
    f->reset_sensei = MIN(sensei, 4);
    f->xkind = (xkind >= X_READ && xkind <= X_FORMAT) ? xkind : X_READ;
    int unit = f->xkind == X_FORMAT ? 4 : SECTOR;
    f->buf_pos = MIN(buf_pos, unit - 1);
    f->phase = (phase >= PHASE_CMD && phase <= PHASE_RESULT) ? phase : PHASE_CMD;
    f->cmd_len = cmd_len <= (int)sizeof f->cmd ? cmd_len : 0;
    f->cmd_pos = cmd_pos < f->cmd_len ? cmd_pos : 0;
    f->res_len = res_len <= (int)sizeof f->res ? res_len : 0;
    f->res_pos = res_pos < f->res_len ? res_pos : 0;
    if (f->phase == PHASE_RESULT && res_len == 0)
        f->phase = PHASE_CMD;
    if (f->phase == PHASE_CMD && f->cmd_pos && !cmds[f->cmd[0] & 0x1f].len)
        f->cmd_pos = 0;
    if (f->phase == PHASE_CMD && f->cmd_pos)
        f->cmd_len = cmds[f->cmd[0] & 0x1f].len;
    /* Drive the line to the restored level whatever the receiver last saw. */
    f->irq_level = f->irq_pending && (f->dor & DOR_GATE);
    hg_irq_set(&f->irq, f->irq_level);
    if (f->phase == PHASE_EXEC && !f->pio)
        kick_dma(f);
    else
        hg_dma_release_dreq(f->dma, DMA_CHANNEL);
}
