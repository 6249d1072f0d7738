/* ATA/ATAPI IDE channel: task file registers latched by both drives, drive selection,
 * device control (nIEN, SRST, HOB), the status/alternate status/error registers and INTRQ,
 * PIO data transfers, and the ATA command set of a hard disk (T13/1410D ATA/ATAPI-6:
 * 6 "Device register definitions", 8 "Command descriptions", 9 "Protocol"). ATAPI packet
 * commands are in ide-atapi.c; the bus-master DMA engine is ide-bmdma.c.
 *
 * One data phase at a time per channel is a "stream" of bytes: sectors of the disk image
 * (from disk_off), the reply buffer (IDENTIFY data, ATAPI replies) or CD sectors. PIO moves
 * it through io_buf one DRQ block at a time; DMA moves it along the PRD table from a timer.
 */
#include "ide-internal.h"

#include <string.h>

#include "block/aio.h"
#include "block/block.h"
#include "bus.h"
#include "clock.h"
#include "state.h"

static void ata_pio_next(HgIdeChannel *ch);
static void dma_run(void *opaque);

IdeDrive *ide_cur(HgIdeChannel *ch)
{
    return &ch->drive[ch->cur];
}

static bool no_drives(const HgIdeChannel *ch)
{
    return ch->drive[0].kind == HG_IDE_NONE && ch->drive[1].kind == HG_IDE_NONE;
}

/* ---- Interrupts ---------------------------------------------------------------------- */

static void update_irq_line(HgIdeChannel *ch)
{
    bool level = ch->irq_pending && !(ch->ctl & CTL_NIEN);
    if (level != ch->irq_level) {
        ch->irq_level = level;
        hg_irq_set(&ch->irq, level);
    }
}

void ide_set_irq(HgIdeChannel *ch)
{
    ch->irq_pending = true;
    if (!(ch->ctl & CTL_NIEN) && ch->bm)
        ide_bmdma_irq(ch->bm, ch->index);
    update_irq_line(ch);
}

static void clear_irq(HgIdeChannel *ch)
{
    ch->irq_pending = false;
    update_irq_line(ch);
}

/* ---- Drive basics -------------------------------------------------------------------- */

bool ide_cd_present(const IdeDrive *d)
{
    return d->kind == HG_IDE_CDROM && d->blk && !d->tray_open;
}

uint64_t ide_cd_sectors(const IdeDrive *d)
{
    return ide_cd_present(d) ? hg_block_size(d->blk) / CD_SECTOR : 0;
}

static uint64_t disk_sectors(const IdeDrive *d)
{
    return d->blk ? hg_block_sectors(d->blk) : 0;
}

/* Reset signature (ATA-6 9.12): ATAPI 01/01/14/EB, ATA 01/01/00/00, absent FF/FF. */
static void set_signature(IdeDrive *d)
{
    d->nsector = d->sector = 1;
    d->hob_nsector = d->hob_sector = d->hob_lcyl = d->hob_hcyl = 0;
    if (d->kind == HG_IDE_CDROM) {
        d->lcyl = 0x14;
        d->hcyl = 0xeb;
    } else if (d->kind == HG_IDE_DISK) {
        d->lcyl = d->hcyl = 0;
    } else {
        d->lcyl = d->hcyl = 0xff;
    }
    d->select = (uint8_t)(0xa0 | (d->select & 0x10)); /* head bits cleared */
}

void atapi_set_signature(IdeDrive *d)
{
    set_signature(d);
}

/* State after a reset or diagnostic: error 01h means "device passed". */
static void drive_soft_reset(IdeDrive *d)
{
    set_signature(d);
    d->error = 0x01;
    d->feature = d->hob_feature = 0;
    d->status = d->kind == HG_IDE_DISK ? ST_DRDY | ST_DSC : 0;
    d->standby = false;
}

static void drive_power_on(IdeDrive *d)
{
    d->select = 0xa0; /* both drives latch the register: device 0 selected */
    d->cur_heads = d->heads;
    d->cur_secs = d->secs;
    d->mult = IDE_MAX_MULT; /* as QEMU: READ/WRITE MULTIPLE work without SET MULTIPLE */
    d->xfer_mode = 0x0c;    /* PIO 4 */
    d->write_cache = true;
    d->sense_key = d->asc = d->ascq = 0;
    d->locked = false;
    drive_soft_reset(d);
}

static void cancel_xfer(HgIdeChannel *ch)
{
    /* A request still on its way belongs to the cancelled transfer: its completion must
     * not be taken for the next one's. */
    if (ch->io_busy)
        ch->io_stale = true;
    ch->xfer = XF_NONE;
    ch->dma = false;
    ch->stream_len = ch->stream_pos = 0;
    ch->buf_pos = ch->buf_end = 0;
    if (ch->dma_timer)
        hg_timer_del(ch->dma_timer);
}

/* ---- Task file helpers ----------------------------------------------------------------- */

static uint32_t ata_count(const IdeDrive *d, bool lba48)
{
    if (lba48) {
        uint32_t n = (uint32_t)d->hob_nsector << 8 | d->nsector;
        return n ? n : 65536;
    }
    return d->nsector ? d->nsector : 256;
}

/* The command's starting sector; false for an impossible CHS address. */
static bool ata_lba(const IdeDrive *d, bool lba48, uint64_t *lba)
{
    if (lba48) {
        *lba = (uint64_t)d->hob_hcyl << 40 | (uint64_t)d->hob_lcyl << 32 |
               (uint64_t)d->hob_sector << 24 | (uint64_t)d->hcyl << 16 | (uint64_t)d->lcyl << 8 |
               d->sector;
        return true;
    }
    if (d->select & 0x40) {
        *lba = (uint64_t)(d->select & 0x0f) << 24 | (uint64_t)d->hcyl << 16 |
               (uint64_t)d->lcyl << 8 | d->sector;
        return true;
    }
    uint32_t cyl = (uint32_t)d->hcyl << 8 | d->lcyl, head = d->select & 0x0f;
    if (d->sector == 0 || d->sector > d->cur_secs || head >= d->cur_heads)
        return false;
    *lba = ((uint64_t)cyl * d->cur_heads + head) * d->cur_secs + d->sector - 1;
    return true;
}

/* Writes an address back to the task file in the command's addressing mode. */
static void ata_set_lba(IdeDrive *d, bool lba48, uint64_t lba)
{
    if (lba48) {
        d->sector = (uint8_t)lba;
        d->lcyl = (uint8_t)(lba >> 8);
        d->hcyl = (uint8_t)(lba >> 16);
        d->hob_sector = (uint8_t)(lba >> 24);
        d->hob_lcyl = (uint8_t)(lba >> 32);
        d->hob_hcyl = (uint8_t)(lba >> 40);
    } else if (d->select & 0x40) {
        d->sector = (uint8_t)lba;
        d->lcyl = (uint8_t)(lba >> 8);
        d->hcyl = (uint8_t)(lba >> 16);
        d->select = (uint8_t)((d->select & 0xf0) | ((lba >> 24) & 0x0f));
    } else if (d->cur_heads && d->cur_secs) {
        uint64_t cyl = lba / ((uint64_t)d->cur_heads * d->cur_secs);
        uint32_t rest = (uint32_t)(lba % ((uint64_t)d->cur_heads * d->cur_secs));
        d->lcyl = (uint8_t)cyl;
        d->hcyl = (uint8_t)(cyl >> 8);
        d->select = (uint8_t)((d->select & 0xf0) | (rest / d->cur_secs));
        d->sector = (uint8_t)(rest % d->cur_secs + 1);
    }
}

static void ata_abort(HgIdeChannel *ch, IdeDrive *d, uint8_t err)
{
    cancel_xfer(ch);
    d->error = err;
    d->status = ST_DRDY | ST_ERR;
    ide_set_irq(ch);
}

static void ata_ok(HgIdeChannel *ch, IdeDrive *d)
{
    d->error = 0;
    d->status = ST_DRDY | ST_DSC;
    ide_set_irq(ch);
}

/* Sector of the stream position, for the task file updates. */
static uint64_t stream_sector(const HgIdeChannel *ch, uint64_t pos)
{
    return (ch->disk_off + pos) / HG_BLOCK_SECTOR;
}

/* Task file during and after a transfer, as QEMU (the reference guests run on) keeps it: the
 * address of the next sector and the count of sectors still to move. */
static void ata_progress(HgIdeChannel *ch, IdeDrive *d)
{
    ata_set_lba(d, ch->lba48, stream_sector(ch, ch->stream_pos));
    d->nsector = (uint8_t)((ch->stream_len - ch->stream_pos) / HG_BLOCK_SECTOR);
}

/* ---- IDENTIFY -------------------------------------------------------------------------- */

/* ATA strings: two characters per word, the first in the high byte, space padded. */
void ide_fill_identify_string(uint16_t *words, int first, int count, const char *s)
{
    size_t len = strlen(s);
    for (int i = 0; i < count * 2; i++) {
        uint8_t c = (size_t)i < len ? (uint8_t)s[i] : ' ';
        if (i & 1)
            words[first + i / 2] |= c;
        else
            words[first + i / 2] = (uint16_t)(c << 8);
    }
}

/* Word 255: signature A5h and a checksum making the 512 bytes sum to zero. */
void ide_identify_checksum(uint8_t *p)
{
    p[510] = 0xa5;
    uint8_t sum = 0;
    for (int i = 0; i < 511; i++)
        sum = (uint8_t)(sum + p[i]);
    p[511] = (uint8_t)-sum;
}

static void store_words(HgIdeChannel *ch, const uint16_t *w)
{
    for (int i = 0; i < 256; i++) {
        ch->reply[2 * i] = (uint8_t)w[i];
        ch->reply[2 * i + 1] = (uint8_t)(w[i] >> 8);
    }
    ide_identify_checksum(ch->reply);
    ch->reply_len = 512;
}

static void ata_identify(HgIdeChannel *ch, IdeDrive *d)
{
    uint16_t w[256] = {0};
    uint64_t total = disk_sectors(d);
    uint32_t lba28 = total > 0x0fffffff ? 0x0fffffff : (uint32_t)total;
    uint32_t cur_cap = (uint32_t)d->cyls * d->cur_heads * d->cur_secs;
    char serial[21];
    g_snprintf(serial, sizeof(serial), "HG%02d%06X", ch->index * 2 + ch->cur,
               (unsigned)(total & 0xffffff));

    w[0] = 0x0040; /* fixed device */
    w[1] = d->cyls;
    w[3] = d->heads;
    w[4] = (uint16_t)(512 * d->secs); /* obsolete: bytes per track */
    w[5] = 512;                       /* obsolete: bytes per sector */
    w[6] = d->secs;
    ide_fill_identify_string(w, 10, 10, serial);
    w[20] = 3;   /* obsolete buffer type: dual ported with read caching */
    w[21] = 512; /* buffer size in sectors */
    w[22] = 4;   /* ECC bytes for READ/WRITE LONG */
    ide_fill_identify_string(w, 23, 4, "1.0");
    ide_fill_identify_string(w, 27, 20, "Hangar HARDDISK");
    w[47] = 0x8000 | IDE_MAX_MULT;
    w[48] = 1;                         /* dword PIO */
    w[49] = 1 << 11 | 1 << 9 | 1 << 8; /* IORDY, LBA, DMA */
    w[50] = 0x4000;
    w[51] = 0x200; /* PIO timing mode 2 (obsolete field) */
    w[52] = 0x200;
    w[53] = 1 | 2 | 4; /* words 54-58, 64-70 and 88 are valid */
    w[54] = d->cyls;
    w[55] = d->cur_heads;
    w[56] = d->cur_secs;
    w[57] = (uint16_t)cur_cap;
    w[58] = (uint16_t)(cur_cap >> 16);
    w[59] = d->mult ? 0x100 | d->mult : 0;
    w[60] = (uint16_t)lba28;
    w[61] = (uint16_t)(lba28 >> 16);
    w[62] = 0x07; /* single-word DMA modes (obsolete) */
    w[63] = 0x07 | ((d->xfer_mode & 0xf8) == 0x20 ? 0x100 << (d->xfer_mode & 7) : 0);
    w[64] = 0x03; /* PIO 3 and 4 */
    w[65] = w[66] = w[67] = w[68] = 120;
    w[80] = 0x7e; /* ATA-1..ATA-6 */
    w[81] = 0x19;
    w[82] = 1 << 14 | 1 << 5;                      /* NOP, write cache */
    w[83] = 1 << 14 | 1 << 13 | 1 << 12 | 1 << 10; /* FLUSH CACHE (EXT), LBA48 */
    w[84] = 1 << 14;
    w[85] = (uint16_t)(1 << 14 | (d->write_cache ? 1 << 5 : 0));
    w[86] = 1 << 13 | 1 << 12 | 1 << 10;
    w[87] = 1 << 14;
    w[88] = 0x3f | ((d->xfer_mode & 0xf8) == 0x40 ? 0x100 << (d->xfer_mode & 7) : 0);
    w[93] = 1 | 1 << 14 | 1 << 13; /* device 0 passed, 80-conductor cable detected */
    for (int i = 0; i < 4; i++)
        w[100 + i] = (uint16_t)(total >> (16 * i));
    store_words(ch, w);
}

/* ---- Data phases --------------------------------------------------------------------- */

void ide_dma_kick(HgIdeChannel *ch)
{
    if (ch->xfer != XF_NONE && ch->dma && ch->bm && ide_bmdma_started(ch->bm, ch->index) &&
        !hg_timer_pending(ch->dma_timer))
        hg_timer_mod(ch->dma_timer, hg_clock_ns(ch->clock) + HG_IDE_DMA_DELAY_NS);
}

static void start_stream(HgIdeChannel *ch, IdeXfer kind, uint64_t disk_off, uint64_t len, bool dma)
{
    ch->xfer = kind;
    ch->xfer_unit = ch->cur;
    ch->dma = dma;
    ch->disk_off = disk_off;
    ch->stream_len = len;
    ch->stream_pos = 0;
    ch->buf_pos = ch->buf_end = 0;
    ch->packet = false;
}

void ide_start_data_in(HgIdeChannel *ch, IdeXfer kind, uint64_t disk_off, uint64_t len, bool dma,
                       bool packet)
{
    IdeDrive *d = ide_cur(ch);
    start_stream(ch, kind, disk_off, len, dma);
    ch->packet = packet;
    if (dma) {
        d->status = ST_DRDY | ST_DSC | ST_DRQ;
        ide_dma_kick(ch);
    } else if (packet) {
        atapi_pio_next(ch);
    } else {
        ata_pio_next(ch);
    }
}

/* Reads stream bytes [stream_pos, +n) into buf. */
bool ide_stream_read(HgIdeChannel *ch, uint8_t *buf, uint32_t n)
{
    if (ch->xfer == XF_REPLY_IN) {
        g_assert(ch->stream_pos + n <= ch->reply_len);
        memcpy(buf, ch->reply + ch->stream_pos, n);
        return true;
    }
    IdeDrive *d = &ch->drive[ch->xfer_unit];
    return d->blk && hg_block_pread(d->blk, ch->disk_off + ch->stream_pos, buf, n, NULL);
}

/* ATA PIO data-in: the next DRQ block, with its interrupt; the end of the command when
 * the stream is done (no interrupt after the last block of a read). */
static void ata_pio_next(HgIdeChannel *ch)
{
    IdeDrive *d = ide_cur(ch);
    uint64_t left = ch->stream_len - ch->stream_pos;
    if (left == 0) {
        ch->xfer = XF_NONE;
        d->status = ST_DRDY | ST_DSC;
        return;
    }
    uint32_t n = (uint32_t)MIN(left, ch->xfer == XF_REPLY_IN ? left : ch->block);
    if (!ide_stream_read(ch, ch->io_buf, n)) {
        ata_set_lba(d, ch->lba48, stream_sector(ch, ch->stream_pos));
        ata_abort(ch, d, ER_UNC | ER_ABRT);
        return;
    }
    ch->buf_pos = 0;
    ch->buf_end = n;
    ch->stream_pos += n;
    if (ch->xfer == XF_ATA_IN)
        ata_progress(ch, d);
    d->status = ST_DRDY | ST_DSC | ST_DRQ;
    ide_set_irq(ch);
}

/* ATA PIO data-out: a block arrived in io_buf. */
static void ata_pio_out_block(HgIdeChannel *ch)
{
    IdeDrive *d = &ch->drive[ch->xfer_unit];
    if (!d->blk ||
        !hg_block_pwrite(d->blk, ch->disk_off + ch->stream_pos, ch->io_buf, ch->buf_end, NULL)) {
        ata_set_lba(d, ch->lba48, stream_sector(ch, ch->stream_pos));
        ata_abort(ch, d, ER_ABRT);
        return;
    }
    ch->stream_pos += ch->buf_end;
    ata_progress(ch, d);
    uint64_t left = ch->stream_len - ch->stream_pos;
    if (left == 0) {
        ch->xfer = XF_NONE;
        ch->buf_pos = ch->buf_end = 0;
        ata_ok(ch, d);
        return;
    }
    ch->buf_pos = 0;
    ch->buf_end = (uint32_t)MIN(left, ch->block);
    d->status = ST_DRDY | ST_DSC | ST_DRQ;
    ide_set_irq(ch);
}

static void pio_block_done(HgIdeChannel *ch)
{
    switch (ch->xfer) {
    case XF_ATA_OUT: ata_pio_out_block(ch); break;
    case XF_PACKET: atapi_packet_received(ch); break;
    default:
        if (ch->packet)
            atapi_pio_next(ch);
        else
            ata_pio_next(ch);
        break;
    }
}

static bool pio_active(const HgIdeChannel *ch, bool out)
{
    if (ch->xfer == XF_NONE || ch->dma || ch->xfer_unit != ch->cur || ch->buf_pos >= ch->buf_end)
        return false;
    return out == (ch->xfer == XF_ATA_OUT || ch->xfer == XF_PACKET);
}

static uint32_t data_read(HgIdeChannel *ch, int size)
{
    if (!pio_active(ch, false))
        return 0;
    uint32_t v = 0;
    for (int i = 0; i < size; i++) {
        if (ch->buf_pos + i < ch->buf_end)
            v |= (uint32_t)ch->io_buf[ch->buf_pos + i] << (8 * i);
    }
    ch->buf_pos = MIN(ch->buf_pos + (uint32_t)size, ch->buf_end);
    if (ch->buf_pos == ch->buf_end)
        pio_block_done(ch);
    return v;
}

static void data_write(HgIdeChannel *ch, uint32_t v, int size)
{
    if (!pio_active(ch, true))
        return;
    for (int i = 0; i < size && ch->buf_pos + i < ch->buf_end; i++)
        ch->io_buf[ch->buf_pos + i] = (uint8_t)(v >> (8 * i));
    ch->buf_pos = MIN(ch->buf_pos + (uint32_t)size, ch->buf_end);
    if (ch->buf_pos == ch->buf_end)
        pio_block_done(ch);
}

/* DMA data phase. The timer starts the pump; each chunk of at most IDE_IO_BUF bytes is one
 * image request that completes through dma_io_done (block.h: synchronous today, so the
 * pump loops; an asynchronous backend will resume it from the callback). Writes gather
 * from guest memory before their request, reads scatter after it. See ide-bmdma.h for how
 * the PRD table's length shapes the ending. */
static void dma_pump(HgIdeChannel *ch);

static bool dma_to_memory(const HgIdeChannel *ch)
{
    return ch->xfer != XF_ATA_OUT;
}

static void dma_fail(HgIdeChannel *ch)
{
    IdeDrive *d = &ch->drive[ch->xfer_unit];
    ide_bmdma_done(ch->bm, ch->index, true, true);
    if (ch->packet) {
        cancel_xfer(ch);
        atapi_error(ch, SK_MEDIUM_ERROR, ASC_UNRECOVERED_READ_ERROR);
    } else {
        ata_set_lba(d, ch->lba48, stream_sector(ch, ch->stream_pos));
        ata_abort(ch, d, dma_to_memory(ch) ? ER_UNC | ER_ABRT : ER_ABRT);
    }
}

/* The image request for the current chunk finished: move it on. False when the data phase
 * ended (failed) or is suspended on a short PRD table. */
static bool dma_chunk_done(HgIdeChannel *ch)
{
    if (!ch->io_ok) {
        dma_fail(ch);
        return false;
    }
    uint32_t moved = ch->io_len;
    if (dma_to_memory(ch)) {
        bool abort;
        moved =
            ide_bmdma_rw(ch->bm, ch->index, ch->io_buf, ch->io_len, true, &ch->dma_stop, &abort);
    }
    ch->stream_pos += moved;
    if (ch->stream_pos < ch->stream_len && (ch->dma_stop || moved == 0)) {
        /* The table ran out first: the drive keeps requesting. */
        ide_bmdma_done(ch->bm, ch->index, true, false);
        return false;
    }
    return true;
}

static void dma_io_done(void *opaque, bool ok, const GError *error)
{
    HgIdeChannel *ch = opaque;
    (void)error;
    ch->io_ok = ok;
    ch->io_busy = false;
    if (ch->io_stale) {
        ch->io_stale = false;
        dma_run(ch); /* a transfer started meanwhile waited for this one */
        return;
    }
    if (!ch->io_sync && dma_chunk_done(ch))
        dma_pump(ch); /* completed asynchronously: resume */
}

static void dma_complete(HgIdeChannel *ch)
{
    IdeDrive *d = &ch->drive[ch->xfer_unit];
    ide_bmdma_done(ch->bm, ch->index, ch->dma_stop, false);
    if (ch->packet) {
        atapi_data_done(ch, true);
        return;
    }
    if (ch->xfer == XF_ATA_IN || ch->xfer == XF_ATA_OUT)
        ata_progress(ch, d);
    cancel_xfer(ch);
    ata_ok(ch, d);
}

static void dma_pump(HgIdeChannel *ch)
{
    IdeDrive *d = &ch->drive[ch->xfer_unit];
    bool to_mem = dma_to_memory(ch);
    while (ch->stream_pos < ch->stream_len) {
        uint32_t n = (uint32_t)MIN(ch->stream_len - ch->stream_pos, IDE_IO_BUF);
        ch->dma_stop = false;
        if (!to_mem) {
            bool abort;
            n = ide_bmdma_rw(ch->bm, ch->index, ch->io_buf, n, false, &ch->dma_stop, &abort);
        }
        ch->io_len = n;
        if (n == 0) {
            ch->io_ok = true;
        } else if (ch->xfer == XF_REPLY_IN) {
            g_assert(ch->stream_pos + n <= ch->reply_len);
            memcpy(ch->io_buf, ch->reply + ch->stream_pos, n);
            ch->io_ok = true;
        } else if (!d->blk) {
            ch->io_ok = false;
        } else {
            ch->io_busy = ch->io_sync = true;
            hg_block_submit(d->blk, to_mem ? HG_BLOCK_READ : HG_BLOCK_WRITE,
                            ch->disk_off + ch->stream_pos, ch->io_buf, n, dma_io_done, ch);
            ch->io_sync = false;
            if (ch->io_busy)
                return; /* dma_io_done resumes */
        }
        if (!dma_chunk_done(ch))
            return;
    }
    dma_complete(ch);
}

static void dma_run(void *opaque)
{
    HgIdeChannel *ch = opaque;
    if (ch->xfer == XF_NONE || !ch->dma || !ch->bm || ch->io_busy ||
        !ide_bmdma_started(ch->bm, ch->index))
        return;
    dma_pump(ch);
}

/* ---- ATA commands -------------------------------------------------------------------- */

/* READ/WRITE SECTORS, MULTIPLE, DMA and VERIFY: address, range and mode checks. */
static void ata_rw(HgIdeChannel *ch, IdeDrive *d, bool lba48, bool write, bool dma,
                   uint32_t block_sectors, bool verify)
{
    uint64_t lba;
    uint32_t count = ata_count(d, lba48);
    if (!ata_lba(d, lba48, &lba) || lba + count > disk_sectors(d)) {
        ata_abort(ch, d, ER_IDNF);
        return;
    }
    if (write && hg_block_read_only(d->blk)) {
        ata_abort(ch, d, ER_ABRT);
        return;
    }
    ch->lba48 = lba48;
    if (verify) {
        ata_ok(ch, d);
        return;
    }
    ch->block = block_sectors * HG_BLOCK_SECTOR;
    uint64_t off = lba * HG_BLOCK_SECTOR, len = (uint64_t)count * HG_BLOCK_SECTOR;
    if (!write) {
        ide_start_data_in(ch, XF_ATA_IN, off, len, dma, false);
        return;
    }
    start_stream(ch, XF_ATA_OUT, off, len, dma);
    d->status = ST_DRDY | ST_DSC | ST_DRQ;
    if (dma) {
        ide_dma_kick(ch);
    } else {
        /* PIO out: the first DRQ block is requested without an interrupt. */
        ch->buf_end = (uint32_t)MIN(len, ch->block);
    }
}

static bool set_features(IdeDrive *d)
{
    switch (d->feature) {
    case 0x02: /* enable write cache */ d->write_cache = true; return true;
    case 0x82: d->write_cache = false; return true;
    case 0x03: { /* set transfer mode */
        uint8_t m = d->nsector;
        if (m <= 1)
            m = 0x0c; /* PIO default mode */
        else if (!((m >= 0x08 && m <= 0x0c) || (m >= 0x20 && m <= 0x22) ||
                   (m >= 0x40 && m <= 0x45)))
            return false;
        d->xfer_mode = m;
        return true;
    }
    case 0x55:
    case 0xaa: /* read look-ahead */
    case 0x66:
    case 0xcc: /* reverting to power-on defaults */
    case 0x31:
    case 0x95: /* media status notification (ignored) */ return true;
    default: return false;
    }
}

/* EXECUTE DEVICE DIAGNOSTIC is addressed to both drives. */
static void execute_diagnostic(HgIdeChannel *ch)
{
    cancel_xfer(ch);
    for (int i = 0; i < 2; i++) {
        drive_soft_reset(&ch->drive[i]);
        ch->drive[i].select = 0xa0; /* device 0 answers for both */
    }
    ch->cur = 0;
    ide_set_irq(ch);
}

/* Commands an ATAPI device accepts through the task file; the rest abort with the
 * signature, which is how drivers tell the two apart (QEMU cmd_identify does the same). */
static void atapi_task_command(HgIdeChannel *ch, IdeDrive *d, uint8_t cmd)
{
    switch (cmd) {
    case 0xa0:                   /* PACKET */
        if (d->feature & 0x02) { /* overlapped: not supported */
            ata_abort(ch, d, ER_ABRT);
            return;
        }
        start_stream(ch, XF_PACKET, 0, 12, false);
        ch->dma = false;
        ch->atapi_dma = (d->feature & 1) != 0 && ch->bm;
        ch->buf_end = 12;
        d->nsector = (uint8_t)((d->nsector & 0xf8) | IR_COD);
        d->status = ST_DRDY | ST_DSC | ST_DRQ;
        /* DRQ type "accelerated" (IDENTIFY PACKET word 0): no interrupt for the packet. */
        return;
    case 0xa1:
        atapi_identify(ch, d);
        ch->xfer_unit = ch->cur;
        ide_start_data_in(ch, XF_REPLY_IN, 0, 512, false, false);
        return;
    case 0x08: /* DEVICE RESET */
        cancel_xfer(ch);
        drive_soft_reset(d);
        return;
    case 0x90: execute_diagnostic(ch); return;
    case 0xe5:
        d->nsector = 0xff;
        ata_ok(ch, d);
        return;
    case 0xef:
        if (set_features(d))
            ata_ok(ch, d);
        else
            ata_abort(ch, d, ER_ABRT);
        return;
    case 0xe0:
    case 0xe1:
    case 0xe2:
    case 0xe3:
    case 0xe6:
    case 0xe7: ata_ok(ch, d); return;
    default:
        set_signature(d);
        ata_abort(ch, d, ER_ABRT);
        return;
    }
}

static void ata_command(HgIdeChannel *ch, uint8_t cmd)
{
    IdeDrive *d = ide_cur(ch);
    if (d->kind == HG_IDE_NONE)
        return;
    if ((d->status & ST_BSY) && !(d->kind == HG_IDE_CDROM && cmd == 0x08))
        return;
    /* A new command ends any data phase in progress (the guest gave up on it). */
    cancel_xfer(ch);
    clear_irq(ch);
    d->error = 0;
    if (d->kind == HG_IDE_CDROM) {
        atapi_task_command(ch, d, cmd);
        return;
    }
    switch (cmd) {
    case 0xec: /* IDENTIFY DEVICE */
        ata_identify(ch, d);
        ide_start_data_in(ch, XF_REPLY_IN, 0, 512, false, false);
        break;
    case 0x20:
    case 0x21: /* READ SECTORS (with, without retry) */
        ata_rw(ch, d, false, false, false, 1, false);
        break;
    case 0x24: ata_rw(ch, d, true, false, false, 1, false); break;
    case 0x30:
    case 0x31: ata_rw(ch, d, false, true, false, 1, false); break;
    case 0x34: ata_rw(ch, d, true, true, false, 1, false); break;
    case 0xc4:
    case 0x29:
    case 0xc5:
    case 0x39: /* READ/WRITE MULTIPLE (EXT) */
        if (!d->mult)
            ata_abort(ch, d, ER_ABRT);
        else
            ata_rw(ch, d, cmd == 0x29 || cmd == 0x39, cmd == 0xc5 || cmd == 0x39, false, d->mult,
                   false);
        break;
    case 0xc8:
    case 0xc9:
    case 0x25: /* READ DMA (EXT) */
    case 0xca:
    case 0xcb:
    case 0x35: /* WRITE DMA (EXT) */
        if (!ch->bm)
            ata_abort(ch, d, ER_ABRT);
        else
            ata_rw(ch, d, cmd == 0x25 || cmd == 0x35, cmd >= 0xca || cmd == 0x35, true, 1, false);
        break;
    case 0x40:
    case 0x41:
    case 0x42: /* READ VERIFY SECTORS (EXT) */
        ata_rw(ch, d, cmd == 0x42, false, false, 1, true);
        break;
    case 0xc6: /* SET MULTIPLE MODE */
        if (d->nsector > IDE_MAX_MULT || (d->nsector & (d->nsector - 1))) {
            ata_abort(ch, d, ER_ABRT);
        } else {
            d->mult = d->nsector;
            ata_ok(ch, d);
        }
        break;
    case 0xef:
        if (set_features(d))
            ata_ok(ch, d);
        else
            ata_abort(ch, d, ER_ABRT);
        break;
    case 0x91: /* INITIALIZE DEVICE PARAMETERS */
        d->cur_secs = d->nsector;
        d->cur_heads = (uint16_t)((d->select & 0x0f) + 1);
        ata_ok(ch, d);
        break;
    case 0xe7:
    case 0xea: /* FLUSH CACHE (EXT) */
        if (hg_block_flush(d->blk, NULL))
            ata_ok(ch, d);
        else
            ata_abort(ch, d, ER_ABRT);
        break;
    case 0xe0:
    case 0xe2:
    case 0x94:
    case 0x96: /* STANDBY (IMMEDIATE) */
    case 0xe6:
    case 0x99: /* SLEEP: modelled as standby */
        d->standby = true;
        ata_ok(ch, d);
        break;
    case 0xe1:
    case 0xe3:
    case 0x95:
    case 0x97: /* IDLE (IMMEDIATE) */
        d->standby = false;
        ata_ok(ch, d);
        break;
    case 0xe5:
    case 0x98: /* CHECK POWER MODE */
        d->nsector = d->standby ? 0x00 : 0xff;
        ata_ok(ch, d);
        break;
    case 0x90: execute_diagnostic(ch); break;
    case 0xf8:
    case 0x27: { /* READ NATIVE MAX ADDRESS (EXT) */
        uint64_t max = disk_sectors(d) - 1;
        if (cmd == 0xf8 && max > 0x0fffffff)
            max = 0x0fffffff;
        if (cmd == 0xf8 && !(d->select & 0x40)) {
            ata_abort(ch, d, ER_ABRT);
            break;
        }
        ata_set_lba(d, cmd == 0x27, max);
        ata_ok(ch, d);
        break;
    }
    case 0x10:
    case 0x11:
    case 0x12:
    case 0x13:
    case 0x14:
    case 0x15:
    case 0x16:
    case 0x17:
    case 0x18:
    case 0x19:
    case 0x1a:
    case 0x1b:
    case 0x1c:
    case 0x1d:
    case 0x1e:
    case 0x1f:
    case 0x70: /* RECALIBRATE, SEEK */ ata_ok(ch, d); break;
    default: /* NOP (00h) always aborts, as do unknown commands */ ata_abort(ch, d, ER_ABRT); break;
    }
}

/* ---- Port handlers --------------------------------------------------------------------- */

uint32_t hg_ide_cmd_read(void *channel, uint32_t port, int size)
{
    HgIdeChannel *ch = channel;
    IdeDrive *d = ide_cur(ch);
    bool hob = (ch->ctl & CTL_HOB) != 0;
    int reg = port & 7;
    if (reg == 0)
        return data_read(ch, size);
    if (no_drives(ch))
        return 0;
    switch (reg) {
    case 1: return hob ? d->hob_feature : d->error;
    case 2: return hob ? d->hob_nsector : d->nsector;
    case 3: return hob ? d->hob_sector : d->sector;
    case 4: return hob ? d->hob_lcyl : d->lcyl;
    case 5: return hob ? d->hob_hcyl : d->hcyl;
    case 6: return d->select;
    default:
        if (d->kind == HG_IDE_NONE)
            return 0;
        clear_irq(ch);
        return d->status;
    }
}

void hg_ide_cmd_write(void *channel, uint32_t port, uint32_t value, int size)
{
    HgIdeChannel *ch = channel;
    uint8_t v = (uint8_t)value;
    int reg = port & 7;
    if (reg == 0) {
        data_write(ch, value, size);
        return;
    }
    if (reg != 7)
        ch->ctl &= (uint8_t)~CTL_HOB; /* a register write clears HOB (ATA-6 6.2) */
    for (int i = 0; i < 2 && reg != 7; i++) {
        IdeDrive *d = &ch->drive[i];
        switch (reg) {
        case 1:
            d->hob_feature = d->feature;
            d->feature = v;
            break;
        case 2:
            d->hob_nsector = d->nsector;
            d->nsector = v;
            break;
        case 3:
            d->hob_sector = d->sector;
            d->sector = v;
            break;
        case 4:
            d->hob_lcyl = d->lcyl;
            d->lcyl = v;
            break;
        case 5:
            d->hob_hcyl = d->hcyl;
            d->hcyl = v;
            break;
        default: d->select = v | 0xa0; break;
        }
    }
    if (reg == 6)
        ch->cur = (v >> 4) & 1;
    else if (reg == 7)
        ata_command(ch, v);
}

uint32_t hg_ide_ctl_read(void *channel, uint32_t port, int size)
{
    HgIdeChannel *ch = channel;
    (void)port;
    (void)size;
    IdeDrive *d = ide_cur(ch);
    if (no_drives(ch) || d->kind == HG_IDE_NONE)
        return 0;
    return d->status;
}

void hg_ide_ctl_write(void *channel, uint32_t port, uint32_t value, int size)
{
    HgIdeChannel *ch = channel;
    (void)port;
    (void)size;
    uint8_t old = ch->ctl, v = (uint8_t)value;
    ch->ctl = v & (CTL_NIEN | CTL_SRST | CTL_HOB);
    if (!(old & CTL_SRST) && (v & CTL_SRST)) {
        /* Reset asserted: both drives busy until it is released. */
        cancel_xfer(ch);
        for (int i = 0; i < 2; i++) {
            IdeDrive *d = &ch->drive[i];
            if (d->kind != HG_IDE_NONE)
                d->status = ST_BSY | ST_DSC;
            d->error = 0x01;
        }
        ch->irq_pending = false;
    } else if ((old & CTL_SRST) && !(v & CTL_SRST)) {
        for (int i = 0; i < 2; i++) {
            drive_soft_reset(&ch->drive[i]);
            ch->drive[i].select = 0xa0; /* SRST selects device 0 */
        }
        ch->cur = 0;
    }
    update_irq_line(ch);
}

void hg_ide_map_legacy(HgIdeChannel *ch, HgBus *bus, uint16_t cmd_base, uint16_t ctl_port)
{
    hg_bus_map_io(bus, cmd_base, 8, hg_ide_cmd_read, hg_ide_cmd_write, ch);
    hg_bus_map_io(bus, ctl_port, 1, hg_ide_ctl_read, hg_ide_ctl_write, ch);
}

/* ---- Life cycle and media ---------------------------------------------------------------- */

HgIdeChannel *hg_ide_channel_new(HgClock *clock, HgIrq irq, int index)
{
    HgIdeChannel *ch = g_new0(HgIdeChannel, 1);
    ch->clock = clock;
    ch->irq = irq;
    ch->index = index & 1;
    ch->dma_timer = hg_timer_new(clock, dma_run, ch);
    hg_ide_channel_reset(ch);
    return ch;
}

void hg_ide_channel_free(HgIdeChannel *ch)
{
    if (!ch)
        return;
    hg_timer_free(ch->dma_timer);
    for (int i = 0; i < 2; i++)
        hg_block_close(ch->drive[i].blk);
    g_free(ch);
}

void hg_ide_channel_reset(HgIdeChannel *ch)
{
    cancel_xfer(ch);
    ch->cur = 0;
    ch->ctl = 0;
    ch->irq_pending = false;
    for (int i = 0; i < 2; i++)
        drive_power_on(&ch->drive[i]);
    update_irq_line(ch);
}

void ide_channel_set_bmdma(HgIdeChannel *ch, HgIdeBmdma *bm)
{
    ch->bm = bm;
}

HgIdeKind hg_ide_kind(const HgIdeChannel *ch, int unit)
{
    return unit == 0 || unit == 1 ? ch->drive[unit].kind : HG_IDE_NONE;
}

static bool check_unit(HgIdeChannel *ch, int unit, HgBlock *blk, GError **error)
{
    if ((unit != 0 && unit != 1) || ch->drive[unit].kind != HG_IDE_NONE) {
        g_set_error(error, HG_ERROR, HG_ERROR_CONFIG, "IDE channel %d: unit %d %s", ch->index, unit,
                    unit == 0 || unit == 1 ? "is already in use" : "does not exist");
        hg_block_close(blk);
        return false;
    }
    return true;
}

/* Default CHS translation: 16 heads, 63 sectors, up to 16383 cylinders (ATA-6 annex). */
static void disk_geometry(IdeDrive *d)
{
    uint64_t total = disk_sectors(d);
    uint64_t cyls = total / (16 * 63);
    d->heads = 16;
    d->secs = 63;
    d->cyls = (uint16_t)(cyls > 16383 ? 16383 : cyls ? cyls : 1);
}

bool hg_ide_attach_disk(HgIdeChannel *ch, int unit, HgBlock *blk, GError **error)
{
    if (!check_unit(ch, unit, blk, error))
        return false;
    if (!blk || hg_block_sectors(blk) == 0 || hg_block_sectors(blk) >= (1ull << 48)) {
        g_set_error(error, HG_ERROR, HG_ERROR_CONFIG, "IDE disk %s: unusable image size",
                    blk ? hg_block_filename(blk) : "(none)");
        hg_block_close(blk);
        return false;
    }
    IdeDrive *d = &ch->drive[unit];
    d->kind = HG_IDE_DISK;
    d->blk = blk;
    disk_geometry(d);
    drive_power_on(d);
    return true;
}

bool hg_ide_attach_cdrom(HgIdeChannel *ch, int unit, HgBlock *blk, GError **error)
{
    if (!check_unit(ch, unit, blk, error))
        return false;
    IdeDrive *d = &ch->drive[unit];
    d->kind = HG_IDE_CDROM;
    d->blk = blk;
    d->tray_open = false;
    drive_power_on(d);
    return true;
}

static IdeDrive *cd_unit(HgIdeChannel *ch, int unit, GError **error)
{
    if ((unit != 0 && unit != 1) || ch->drive[unit].kind != HG_IDE_CDROM) {
        g_set_error(error, HG_ERROR, HG_ERROR_CONFIG, "IDE channel %d unit %d is not a CD-ROM",
                    ch->index, unit);
        return NULL;
    }
    return &ch->drive[unit];
}

/* The medium went away under a data phase: end it with NOT READY. */
static void cd_medium_gone(HgIdeChannel *ch, int unit)
{
    if (ch->xfer == XF_CD_IN && ch->xfer_unit == unit) {
        if (ch->dma && ch->bm)
            ide_bmdma_done(ch->bm, ch->index, true, false);
        cancel_xfer(ch);
        int cur = ch->cur;
        ch->cur = unit;
        atapi_error(ch, SK_NOT_READY, ASC_MEDIUM_NOT_PRESENT);
        ch->cur = cur;
    }
}

bool hg_ide_cdrom_eject(HgIdeChannel *ch, int unit, bool force, GError **error)
{
    IdeDrive *d = cd_unit(ch, unit, error);
    if (!d)
        return false;
    if (d->locked && !force) {
        d->media_event = 1; /* eject request: the guest may unlock and eject */
        g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                    "the guest has locked the CD-ROM tray (PREVENT MEDIUM REMOVAL); "
                    "it was asked to eject");
        return false;
    }
    cd_medium_gone(ch, unit);
    if (d->blk || !d->tray_open)
        d->media_event = 3; /* media removal */
    hg_block_close(d->blk);
    d->blk = NULL;
    d->tray_open = true;
    d->locked = false;
    return true;
}

bool hg_ide_cdrom_insert(HgIdeChannel *ch, int unit, HgBlock *blk, GError **error)
{
    IdeDrive *d = cd_unit(ch, unit, error);
    if (!d) {
        hg_block_close(blk);
        return false;
    }
    if (d->locked && d->blk) {
        g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                    "the guest has locked the CD-ROM tray (PREVENT MEDIUM REMOVAL)");
        hg_block_close(blk);
        return false;
    }
    cd_medium_gone(ch, unit);
    hg_block_close(d->blk);
    d->blk = blk;
    d->tray_open = false;
    if (blk) {
        d->unit_attention = true;
        d->media_event = 2; /* new media */
    }
    return true;
}

bool hg_ide_cdrom_has_medium(const HgIdeChannel *ch, int unit)
{
    return (unit == 0 || unit == 1) && ide_cd_present(&ch->drive[unit]);
}

void hg_ide_channel_drain(HgIdeChannel *ch)
{
    for (int i = 0; ch && i < 2; i++)
        hg_block_drain(ch->drive[i].blk);
}

HgBlock *hg_ide_disk(const HgIdeChannel *ch, int unit)
{
    return (unit == 0 || unit == 1) && ch->drive[unit].kind == HG_IDE_DISK ? ch->drive[unit].blk
                                                                            : NULL;
}

HgBlock *hg_ide_cdrom_medium(const HgIdeChannel *ch, int unit)
{
    return hg_ide_cdrom_has_medium(ch, unit) ? ch->drive[unit].blk : NULL;
}

bool hg_ide_cdrom_locked(const HgIdeChannel *ch, int unit)
{
    return (unit == 0 || unit == 1) && ch->drive[unit].kind == HG_IDE_CDROM &&
           ch->drive[unit].locked;
}

/* ---- State ------------------------------------------------------------------------------ */

static void save_drive(const IdeDrive *d, HgStateWriter *w)
{
    hg_state_put_u8(w, (uint8_t)d->kind);
    hg_state_put_u64(w, d->blk ? hg_block_size(d->blk) : 0);
    const uint8_t regs[] = {d->feature,  d->nsector,     d->sector,      d->lcyl,       d->hcyl,
                            d->select,   d->hob_feature, d->hob_nsector, d->hob_sector, d->hob_lcyl,
                            d->hob_hcyl, d->status,      d->error};
    hg_state_put_bytes(w, regs, sizeof(regs));
    hg_state_put_u16(w, d->cur_heads);
    hg_state_put_u16(w, d->cur_secs);
    hg_state_put_u8(w, d->mult);
    hg_state_put_u8(w, d->xfer_mode);
    hg_state_put_u8(w, d->write_cache);
    hg_state_put_u8(w, d->standby);
    hg_state_put_u8(w, d->sense_key);
    hg_state_put_u8(w, d->asc);
    hg_state_put_u8(w, d->ascq);
    hg_state_put_u8(w, d->unit_attention);
    hg_state_put_u8(w, d->locked);
    hg_state_put_u8(w, d->tray_open);
    hg_state_put_u8(w, d->media_event);
}

static void load_error(HgStateReader *r, const char *what)
{
    if (!r->error)
        g_set_error(&r->error, HG_ERROR, HG_ERROR_FORMAT, "IDE state: %s", what);
}

static void load_drive(IdeDrive *d, HgStateReader *r)
{
    uint8_t kind = hg_state_get_u8(r);
    uint64_t size = hg_state_get_u64(r);
    if (kind != d->kind)
        load_error(r, "the drives attached differ from the saved machine");
    else if (d->kind == HG_IDE_DISK && size != hg_block_size(d->blk))
        load_error(r, "the disk image size differs from the saved machine");
    uint8_t regs[13];
    hg_state_get_bytes(r, regs, sizeof(regs));
    d->feature = regs[0];
    d->nsector = regs[1];
    d->sector = regs[2];
    d->lcyl = regs[3];
    d->hcyl = regs[4];
    d->select = regs[5];
    d->hob_feature = regs[6];
    d->hob_nsector = regs[7];
    d->hob_sector = regs[8];
    d->hob_lcyl = regs[9];
    d->hob_hcyl = regs[10];
    d->status = regs[11];
    d->error = regs[12];
    uint16_t heads = hg_state_get_u16(r), secs = hg_state_get_u16(r);
    d->cur_heads = MIN(heads, 16); /* MIN evaluates twice: read first */
    d->cur_secs = MIN(secs, 255);
    d->mult = hg_state_get_u8(r);
    if (d->mult > IDE_MAX_MULT || (d->mult & (d->mult - 1)))
        d->mult = 0;
    d->xfer_mode = hg_state_get_u8(r);
    d->write_cache = hg_state_get_u8(r) != 0;
    d->standby = hg_state_get_u8(r) != 0;
    d->sense_key = hg_state_get_u8(r) & 0x0f;
    d->asc = hg_state_get_u8(r);
    d->ascq = hg_state_get_u8(r);
    d->unit_attention = hg_state_get_u8(r) != 0;
    d->locked = hg_state_get_u8(r) != 0;
    d->tray_open = hg_state_get_u8(r) != 0;
    d->media_event = hg_state_get_u8(r) & 3;
}

void hg_ide_channel_save(const HgIdeChannel *ch, HgStateWriter *w)
{
    hg_state_begin(w, ch->index ? "ide1" : "ide0", 1);
    for (int i = 0; i < 2; i++)
        save_drive(&ch->drive[i], w);
    hg_state_put_u8(w, (uint8_t)ch->cur);
    hg_state_put_u8(w, ch->ctl);
    hg_state_put_u8(w, ch->irq_pending);
    hg_state_put_u8(w, ch->irq_level);
    hg_state_put_u8(w, (uint8_t)ch->xfer);
    hg_state_put_u8(w, (uint8_t)ch->xfer_unit);
    hg_state_put_u8(w, ch->dma);
    hg_state_put_u8(w, ch->lba48);
    hg_state_put_u8(w, ch->atapi_dma);
    hg_state_put_u8(w, ch->packet);
    hg_state_put_u64(w, ch->disk_off);
    hg_state_put_u64(w, ch->stream_len);
    hg_state_put_u64(w, ch->stream_pos);
    hg_state_put_u32(w, ch->block);
    hg_state_put_u32(w, ch->buf_pos);
    hg_state_put_u32(w, ch->buf_end);
    hg_state_put_bytes(w, ch->io_buf, ch->buf_end);
    hg_state_put_bytes(w, ch->cdb, sizeof(ch->cdb));
    hg_state_put_u16(w, ch->reply_len);
    hg_state_put_bytes(w, ch->reply, ch->reply_len);
    bool pending = hg_timer_pending(ch->dma_timer);
    hg_state_put_u8(w, pending);
    hg_state_put_u64(w, pending ? (uint64_t)hg_timer_expire(ch->dma_timer) : 0);
    hg_state_end(w);
}

/* A restored data phase must fit the image and buffers now attached; otherwise it is
 * dropped (the guest sees a command that never finishes and resets the channel). */
static bool xfer_valid(const HgIdeChannel *ch)
{
    if (ch->xfer == XF_NONE)
        return true;
    if (ch->xfer > XF_CD_IN || ch->stream_pos > ch->stream_len || ch->buf_end > IDE_IO_BUF ||
        ch->buf_pos > ch->buf_end)
        return false;
    const IdeDrive *d = &ch->drive[ch->xfer_unit];
    switch (ch->xfer) {
    case XF_REPLY_IN:
        return ch->stream_len <= ch->reply_len && (!ch->packet || d->kind == HG_IDE_CDROM);
    case XF_PACKET: return d->kind == HG_IDE_CDROM && ch->buf_end == 12 && !ch->dma;
    case XF_CD_IN:
        return ide_cd_present(d) && ch->disk_off <= hg_block_size(d->blk) &&
               ch->stream_len <= hg_block_size(d->blk) - ch->disk_off;
    default:
        return d->kind == HG_IDE_DISK && ch->block >= HG_BLOCK_SECTOR &&
               ch->block <= IDE_MAX_MULT * HG_BLOCK_SECTOR &&
               ch->disk_off <= disk_sectors(d) * HG_BLOCK_SECTOR &&
               ch->stream_len <= disk_sectors(d) * HG_BLOCK_SECTOR - ch->disk_off;
    }
}

void hg_ide_channel_load(HgIdeChannel *ch, HgStateReader *r)
{
    if (!hg_state_open(r, ch->index ? "ide1" : "ide0", 1, 1))
        return;
    for (int i = 0; i < 2; i++)
        load_drive(&ch->drive[i], r);
    ch->cur = hg_state_get_u8(r) & 1;
    ch->ctl = hg_state_get_u8(r) & (CTL_NIEN | CTL_SRST | CTL_HOB);
    ch->irq_pending = hg_state_get_u8(r) != 0;
    bool level = hg_state_get_u8(r) != 0;
    ch->xfer = (IdeXfer)hg_state_get_u8(r);
    ch->xfer_unit = hg_state_get_u8(r) & 1;
    ch->dma = hg_state_get_u8(r) != 0;
    ch->lba48 = hg_state_get_u8(r) != 0;
    ch->atapi_dma = hg_state_get_u8(r) != 0 && ch->bm;
    ch->packet = hg_state_get_u8(r) != 0;
    ch->disk_off = hg_state_get_u64(r);
    ch->stream_len = hg_state_get_u64(r);
    ch->stream_pos = hg_state_get_u64(r);
    ch->block = hg_state_get_u32(r);
    ch->buf_pos = hg_state_get_u32(r);
    ch->buf_end = hg_state_get_u32(r);
    if (ch->buf_end > IDE_IO_BUF) {
        load_error(r, "PIO buffer too long");
        ch->buf_end = 0;
    }
    hg_state_get_bytes(r, ch->io_buf, ch->buf_end);
    hg_state_get_bytes(r, ch->cdb, sizeof(ch->cdb));
    ch->reply_len = hg_state_get_u16(r);
    if (ch->reply_len > IDE_REPLY_MAX) {
        load_error(r, "reply too long");
        ch->reply_len = 0;
    }
    hg_state_get_bytes(r, ch->reply, ch->reply_len);
    bool pending = hg_state_get_u8(r) != 0;
    int64_t expire = (int64_t)hg_state_get_u64(r);
    hg_state_close(r);
    if (!hg_state_ok(r) || !xfer_valid(ch)) {
        ch->xfer = XF_NONE;
        ch->stream_len = ch->stream_pos = 0;
        ch->buf_pos = ch->buf_end = 0;
    }
    if (pending && ch->xfer != XF_NONE && ch->dma)
        hg_timer_mod(ch->dma_timer, expire);
    else
        hg_timer_del(ch->dma_timer);
    ch->irq_level = level;
    hg_irq_set(&ch->irq, level);
}
