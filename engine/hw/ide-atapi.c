/* ATAPI CD-ROM packet commands (SFF-8020i for the PACKET protocol, MMC-3 for the commands,
 * SPC-2 for INQUIRY/REQUEST SENSE): 2048-byte sectors of an ISO image, one data track.
 *
 * Protocol (ATA-6 9.8/9.9): after PACKET the drive asks for the 12-byte command with
 * DRQ and interrupt reason CoD; each data block then comes with DRQ, reason IO, the byte
 * count in LBA mid/high (at most the guest's byte count limit) and an interrupt; the
 * command ends with reason IO|CoD, status DRDY (or ERR with the sense key in the error
 * register's high nibble) and an interrupt. With the PACKET feature's DMA bit the data
 * moves through the bus master instead.
 *
 * Media changes: a new medium sets UNIT ATTENTION (reported once, by the first command
 * other than REQUEST SENSE, INQUIRY, GET CONFIGURATION and GET EVENT STATUS NOTIFICATION)
 * and a GET EVENT STATUS NOTIFICATION media event. Without a medium, commands that need
 * one fail with NOT READY / MEDIUM NOT PRESENT.
 */
#include "ide-internal.h"

#include <string.h>

#include "block/block.h"

enum {
    PROFILE_CD_ROM = 0x0008,
    PROFILE_DVD_ROM = 0x0010,
    CD_MAX_SECTORS = 405000, /* 90 minutes: larger images are presented as DVD-ROM */
    MODE_PAGE_ERROR_RECOVERY = 0x01,
    MODE_PAGE_CAPABILITIES = 0x2a,
    MODE_PAGE_ALL = 0x3f,
};

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    put_be16(p, v >> 16);
    put_be16(p + 2, v);
}

/* Minutes/seconds/frames of a logical block (the 150-frame pregap of track 1). */
static void put_msf(uint8_t *p, uint32_t lba)
{
    lba += 150;
    p[0] = (uint8_t)(lba / (60 * 75));
    p[1] = (uint8_t)(lba / 75 % 60);
    p[2] = (uint8_t)(lba % 75);
}

/* A TOC address field: 4 bytes, MSF (0, M, S, F) or a big-endian LBA. */
static void put_addr(uint8_t *p, uint32_t lba, bool msf)
{
    if (msf) {
        p[0] = 0;
        put_msf(p + 1, lba);
    } else {
        put_be32(p, lba);
    }
}

static IdeDrive *xfer_drive(HgIdeChannel *ch)
{
    return &ch->drive[ch->xfer == XF_NONE ? ch->cur : ch->xfer_unit];
}

static void set_reason(IdeDrive *d, uint8_t reason)
{
    d->nsector = (uint8_t)((d->nsector & 0xf8) | reason);
}

void atapi_error(HgIdeChannel *ch, uint8_t key, uint8_t asc)
{
    IdeDrive *d = ide_cur(ch);
    ch->xfer = XF_NONE;
    ch->buf_pos = ch->buf_end = 0;
    d->sense_key = key;
    d->asc = asc;
    d->ascq = 0;
    d->error = (uint8_t)(key << 4); /* sense key; ABRT clear, as QEMU */
    d->status = ST_DRDY | ST_ERR;
    set_reason(d, IR_IO | IR_COD);
    ide_set_irq(ch);
}

static void atapi_ok(HgIdeChannel *ch, IdeDrive *d)
{
    ch->xfer = XF_NONE;
    ch->dma = false;
    ch->buf_pos = ch->buf_end = 0;
    d->sense_key = SK_NO_SENSE;
    d->asc = d->ascq = 0;
    d->error = 0;
    d->status = ST_DRDY | ST_DSC;
    set_reason(d, IR_IO | IR_COD);
    ide_set_irq(ch);
}

void atapi_data_done(HgIdeChannel *ch, bool ok)
{
    IdeDrive *d = xfer_drive(ch);
    if (ok)
        atapi_ok(ch, d);
    else
        atapi_error(ch, SK_MEDIUM_ERROR, ASC_UNRECOVERED_READ_ERROR);
}

/* PIO data-in: the next block of at most the byte count limit, or the command's end. */
void atapi_pio_next(HgIdeChannel *ch)
{
    IdeDrive *d = xfer_drive(ch);
    uint64_t left = ch->stream_len - ch->stream_pos;
    if (left == 0) {
        atapi_ok(ch, d);
        return;
    }
    uint32_t limit = (uint32_t)d->hcyl << 8 | d->lcyl;
    if (limit == 0 || limit == 0xffff)
        limit = 0xfffe; /* 0 is invalid and FFFFh odd: the largest even count */
    uint32_t n = left > limit ? MAX(limit & ~1u, 2) : (uint32_t)left;
    if (!ide_stream_read(ch, ch->io_buf, n)) {
        atapi_error(ch, SK_MEDIUM_ERROR, ASC_UNRECOVERED_READ_ERROR);
        return;
    }
    ch->buf_pos = 0;
    ch->buf_end = n;
    ch->stream_pos += n;
    d->lcyl = (uint8_t)n;
    d->hcyl = (uint8_t)(n >> 8);
    set_reason(d, IR_IO);
    d->status = ST_DRDY | ST_DSC | ST_DRQ;
    ide_set_irq(ch);
}

/* A reply of len bytes in ch->reply, cut to the command's allocation length. */
static void reply(HgIdeChannel *ch, IdeDrive *d, uint32_t len, uint32_t alloc)
{
    g_assert(len <= IDE_REPLY_MAX);
    len = MIN(len, alloc);
    if (len == 0) {
        atapi_ok(ch, d);
        return;
    }
    ch->reply_len = (uint16_t)len;
    ide_start_data_in(ch, XF_REPLY_IN, 0, len, ch->atapi_dma, true);
    if (ch->atapi_dma)
        set_reason(d, IR_IO);
}

static void read_sectors(HgIdeChannel *ch, IdeDrive *d, uint32_t lba, uint32_t count)
{
    if ((uint64_t)lba + count > ide_cd_sectors(d)) {
        atapi_error(ch, SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
        return;
    }
    if (count == 0) {
        atapi_ok(ch, d);
        return;
    }
    ide_start_data_in(ch, XF_CD_IN, (uint64_t)lba * CD_SECTOR, (uint64_t)count * CD_SECTOR,
                      ch->atapi_dma, true);
    if (ch->atapi_dma)
        set_reason(d, IR_IO);
}

void atapi_identify(HgIdeChannel *ch, IdeDrive *d)
{
    uint16_t w[256] = {0};
    char serial[21];
    g_snprintf(serial, sizeof(serial), "HGCD%02d", ch->index * 2 + ch->cur);
    /* ATAPI, CD-ROM, removable, accelerated DRQ (no interrupt for the packet), 12 bytes */
    w[0] = 2 << 14 | 5 << 8 | 1 << 7 | 2 << 5;
    ide_fill_identify_string(w, 10, 10, serial);
    ide_fill_identify_string(w, 23, 4, "1.0");
    ide_fill_identify_string(w, 27, 20, "Hangar DVD-ROM");
    w[48] = 1;
    w[49] = 1 << 11 | 1 << 9 | 1 << 8; /* IORDY, LBA, DMA */
    w[53] = 1 | 2 | 4;
    w[62] = 0x07;
    w[63] = 0x07 | ((d->xfer_mode & 0xf8) == 0x20 ? 0x100 << (d->xfer_mode & 7) : 0);
    w[64] = 0x03;
    w[65] = w[66] = w[68] = 0xb4;
    w[67] = 0x12c;
    w[71] = w[72] = 30;
    w[80] = 0x1e;                      /* ATA/ATAPI-4 to -6... ATAPI-4 minimum */
    w[82] = 1 << 14 | 1 << 4 | 1 << 9; /* NOP, PACKET, DEVICE RESET */
    w[83] = 1 << 14;
    w[84] = 1 << 14;
    w[85] = 1 << 14 | 1 << 4 | 1 << 9;
    w[87] = 1 << 14;
    w[88] = 0x3f | ((d->xfer_mode & 0xf8) == 0x40 ? 0x100 << (d->xfer_mode & 7) : 0);
    w[93] = 1 | 1 << 14 | 1 << 13;
    for (int i = 0; i < 256; i++) {
        ch->reply[2 * i] = (uint8_t)w[i];
        ch->reply[2 * i + 1] = (uint8_t)(w[i] >> 8);
    }
    ide_identify_checksum(ch->reply);
    ch->reply_len = 512;
}

static uint32_t mode_page(const IdeDrive *d, uint8_t page, uint8_t *p)
{
    if (page == MODE_PAGE_ERROR_RECOVERY) {
        memset(p, 0, 8);
        p[0] = MODE_PAGE_ERROR_RECOVERY;
        p[1] = 6;
        p[3] = 5; /* read retry count */
        return 8;
    }
    /* MMC-3 6.3.11 CD/DVD capabilities and mechanical status */
    memset(p, 0, 20);
    p[0] = MODE_PAGE_CAPABILITIES;
    p[1] = 18;
    p[2] = 0x08; /* reads DVD-ROM */
    p[4] = 0x71; /* audio play, composite, multi-session, mode 2 form 1/2 */
    p[5] = 0x7f; /* CD-DA commands, accurate stream, sub-channel... */
    p[6] = 0x29 | (d->locked ? 0x02 : 0); /* tray, eject, lock; lock state */
    put_be16(p + 8, 2822);                /* maximum read speed (16x), kB/s */
    put_be16(p + 10, 256);                /* volume levels */
    put_be16(p + 12, 512);                /* buffer size, KiB */
    put_be16(p + 14, 2822);               /* current read speed */
    return 20;
}

static void mode_sense(HgIdeChannel *ch, IdeDrive *d)
{
    uint8_t *r = ch->reply, page = ch->cdb[2] & 0x3f, pc = ch->cdb[2] >> 6;
    uint32_t len = 8;
    if (pc == 3) {
        atapi_error(ch, SK_ILLEGAL_REQUEST, ASC_SAVING_PARAMS_NOT_SUPPORTED);
        return;
    }
    memset(r, 0, 8);
    if (page == MODE_PAGE_ERROR_RECOVERY || page == MODE_PAGE_ALL)
        len += mode_page(d, MODE_PAGE_ERROR_RECOVERY, r + len);
    if (page == MODE_PAGE_CAPABILITIES || page == MODE_PAGE_ALL)
        len += mode_page(d, MODE_PAGE_CAPABILITIES, r + len);
    if (len == 8) {
        atapi_error(ch, SK_ILLEGAL_REQUEST, ASC_INV_FIELD_IN_CDB);
        return;
    }
    put_be16(r, len - 2);
    r[2] = ide_cd_present(d) ? 0x01 : 0x70; /* 120 mm data CD, or door closed / no disc */
    reply(ch, d, len, be16(ch->cdb + 7));
}

static void read_toc(HgIdeChannel *ch, IdeDrive *d)
{
    uint8_t *r = ch->reply, *cdb = ch->cdb;
    bool msf = (cdb[1] & 2) != 0;
    uint8_t format = cdb[2] & 0x0f, track = cdb[6];
    uint32_t total = (uint32_t)ide_cd_sectors(d), len;
    if (format == 0 && (cdb[9] >> 6))
        format = cdb[9] >> 6; /* SFF-8020i placed the format in the control byte */
    memset(r, 0, 64);
    switch (format) {
    case 0: /* TOC: track 1 and the lead-out */
        if (track > 1 && track != 0xaa) {
            atapi_error(ch, SK_ILLEGAL_REQUEST, ASC_INV_FIELD_IN_CDB);
            return;
        }
        r[2] = r[3] = 1;
        len = 4;
        if (track <= 1) {
            r[len + 1] = 0x14; /* ADR 1, data track */
            r[len + 2] = 1;
            put_addr(r + len + 4, 0, msf);
            len += 8;
        }
        r[len + 1] = 0x16; /* lead-out: data, copy permitted (as QEMU) */
        r[len + 2] = 0xaa;
        put_addr(r + len + 4, total, msf);
        len += 8;
        break;
    case 1: /* session info: one session starting at track 1 */
        r[2] = r[3] = 1;
        r[5] = 0x14;
        r[6] = 1;
        put_addr(r + 8, 0, msf);
        len = 12;
        break;
    case 2: { /* raw TOC: points A0, A1, A2 and track 1 of session 1, MSF */
        static const uint8_t points[4] = {0xa0, 0xa1, 0xa2, 1};
        r[2] = r[3] = 1;
        len = 4;
        for (int i = 0; i < 4; i++, len += 11) {
            uint8_t *e = r + len;
            e[0] = 1;
            e[1] = 0x14;
            e[3] = points[i];
            if (points[i] == 0xa0 || points[i] == 0xa1)
                e[8] = 1; /* first / last track number; A0 PSEC = disc type 00h */
            else
                put_msf(e + 8, points[i] == 0xa2 ? total : 0);
        }
        break;
    }
    default: atapi_error(ch, SK_ILLEGAL_REQUEST, ASC_INV_FIELD_IN_CDB); return;
    }
    put_be16(r, len - 2);
    reply(ch, d, len, be16(cdb + 7));
}

/* GET CONFIGURATION (MMC-3 5.2): profile list, core, morphing, removable medium and
 * random readable features. */
static void get_configuration(HgIdeChannel *ch, IdeDrive *d)
{
    uint8_t *r = ch->reply, rt = ch->cdb[1] & 3;
    uint16_t start = be16(ch->cdb + 2);
    bool present = ide_cd_present(d);
    bool dvd = present && ide_cd_sectors(d) > CD_MAX_SECTORS;
    uint16_t profile = !present ? 0 : dvd ? PROFILE_DVD_ROM : PROFILE_CD_ROM;
    uint32_t len = 8;
    memset(r, 0, 128);
    put_be16(r + 6, profile);
    for (uint16_t f = 0; f <= 0x10; f++) {
        if ((rt == 2 && f != start) || f < start)
            continue;
        uint8_t *p = r + len;
        switch (f) {
        case 0x0000: /* profile list */
            p[2] = 0x03;
            p[3] = 8;
            put_be16(p + 4, PROFILE_DVD_ROM);
            p[6] = profile == PROFILE_DVD_ROM;
            put_be16(p + 8, PROFILE_CD_ROM);
            p[10] = profile == PROFILE_CD_ROM;
            len += 12;
            break;
        case 0x0001: /* core: ATAPI */
            p[2] = 0x07;
            p[3] = 8;
            put_be32(p + 4, 2);
            len += 12;
            break;
        case 0x0002: /* morphing: polled GESN */
            p[2] = 0x07;
            p[3] = 4;
            len += 8;
            break;
        case 0x0003: /* removable medium: tray, eject, lockable */
            p[2] = 0x03;
            p[3] = 4;
            p[4] = 0x29 | (d->locked ? 0x04 : 0);
            len += 8;
            break;
        case 0x0010: /* random readable */
            if (rt == 1 && !present)
                continue;
            p[2] = present ? 0x01 : 0x00;
            p[3] = 8;
            put_be32(p + 4, CD_SECTOR);
            put_be16(p + 8, dvd ? 16 : 1);
            len += 12;
            break;
        default: continue;
        }
        put_be16(p, f);
    }
    put_be32(r, len - 4);
    reply(ch, d, len, be16(ch->cdb + 7));
}

static void get_event_status(HgIdeChannel *ch, IdeDrive *d)
{
    uint8_t *r = ch->reply;
    if (!(ch->cdb[1] & 1)) { /* asynchronous notification is not supported */
        atapi_error(ch, SK_ILLEGAL_REQUEST, ASC_INV_FIELD_IN_CDB);
        return;
    }
    memset(r, 0, 8);
    r[3] = 0x10; /* supported classes: media */
    uint32_t len = 4;
    if (ch->cdb[4] & 0x10) {
        r[2] = 4; /* media class */
        r[4] = d->media_event;
        r[5] = (uint8_t)((ide_cd_present(d) ? 2 : 0) | (d->tray_open ? 1 : 0));
        d->media_event = 0;
        len = 8;
    } else {
        r[2] = 0x80; /* no event available for the requested classes */
    }
    put_be16(r, len - 2);
    reply(ch, d, len, be16(ch->cdb + 7));
}

/* Commands a pending UNIT ATTENTION does not fail (QEMU's ALLOW_UA set, MMC-3 4.1.6.1). */
static bool allows_unit_attention(uint8_t op)
{
    return op == 0x03 || op == 0x12 || op == 0x46 || op == 0x4a;
}

/* Commands that need a medium. */
static bool needs_medium(uint8_t op)
{
    switch (op) {
    case 0x00:
    case 0x25:
    case 0x28:
    case 0x2b:
    case 0xa8:
    case 0xbe:
    case 0x43:
    case 0x51: return true;
    default: return false;
    }
}

void atapi_packet_received(HgIdeChannel *ch)
{
    IdeDrive *d = &ch->drive[ch->xfer_unit];
    uint8_t *cdb = ch->cdb, *r = ch->reply;
    memcpy(cdb, ch->io_buf, sizeof(ch->cdb));
    ch->xfer = XF_NONE;
    ch->buf_pos = ch->buf_end = 0;
    ch->cur = ch->xfer_unit;
    uint8_t op = cdb[0];

    if (d->unit_attention && !allows_unit_attention(op)) {
        d->unit_attention = false;
        atapi_error(ch, SK_UNIT_ATTENTION, ASC_MEDIUM_MAY_HAVE_CHANGED);
        return;
    }
    if (needs_medium(op) && !ide_cd_present(d)) {
        atapi_error(ch, SK_NOT_READY, ASC_MEDIUM_NOT_PRESENT);
        return;
    }
    switch (op) {
    case 0x00: /* TEST UNIT READY */
    case 0xbb: /* SET CD SPEED */
    case 0x2b: /* SEEK(10) */ atapi_ok(ch, d); break;
    case 0x03: { /* REQUEST SENSE: a pending UNIT ATTENTION is reported (and cleared) */
        if (d->unit_attention) {
            d->unit_attention = false;
            d->sense_key = SK_UNIT_ATTENTION;
            d->asc = ASC_MEDIUM_MAY_HAVE_CHANGED;
            d->ascq = 0;
        }
        memset(r, 0, 18);
        r[0] = 0x70;
        r[2] = d->sense_key;
        r[7] = 10;
        r[12] = d->asc;
        r[13] = d->ascq;
        reply(ch, d, 18, cdb[4]);
        break;
    }
    case 0x12: /* INQUIRY */
        memset(r, 0, 36);
        r[0] = 0x05; /* CD/DVD device */
        r[1] = 0x80; /* removable */
        r[3] = 0x21; /* ATAPI version 2, response data format 1 */
        r[4] = 31;
        memcpy(r + 8, "HANGAR  ", 8);
        memcpy(r + 16, "DVD-ROM         ", 16);
        memcpy(r + 32, "1.0 ", 4);
        reply(ch, d, 36, be16(cdb + 3));
        break;
    case 0x5a: /* MODE SENSE(10) */ mode_sense(ch, d); break;
    case 0x1b:                   /* START STOP UNIT */
        if ((cdb[4] & 3) == 2) { /* eject */
            if (d->locked) {
                atapi_error(ch, SK_NOT_READY, ASC_MEDIUM_REMOVAL_PREVENTED);
                break;
            }
            if (!d->tray_open && d->blk)
                d->media_event = 3;
            d->tray_open = true;
        } else if ((cdb[4] & 3) == 3) { /* load: close the tray */
            if (d->tray_open && d->blk) {
                d->unit_attention = true;
                d->media_event = 2;
            }
            d->tray_open = false;
        }
        atapi_ok(ch, d);
        break;
    case 0x1e: /* PREVENT ALLOW MEDIUM REMOVAL */
        d->locked = (cdb[4] & 1) != 0;
        atapi_ok(ch, d);
        break;
    case 0x25: /* READ CAPACITY */
        put_be32(r, (uint32_t)ide_cd_sectors(d) - 1);
        put_be32(r + 4, CD_SECTOR);
        reply(ch, d, 8, 8);
        break;
    case 0x28: /* READ(10) */ read_sectors(ch, d, be32(cdb + 2), be16(cdb + 7)); break;
    case 0xa8: /* READ(12) */ read_sectors(ch, d, be32(cdb + 2), be32(cdb + 6)); break;
    case 0xbe: { /* READ CD: user data only */
        uint32_t count = (uint32_t)cdb[6] << 16 | be16(cdb + 7);
        uint8_t fields = cdb[9] & 0xf8;
        if (fields == 0) {
            atapi_ok(ch, d);
        } else if (fields == 0x10 && (cdb[1] & 0x1c) <= 0x08) {
            read_sectors(ch, d, be32(cdb + 2), count);
        } else {
            atapi_error(ch, SK_ILLEGAL_REQUEST, ASC_INV_FIELD_IN_CDB);
        }
        break;
    }
    case 0x43: /* READ TOC/PMA/ATIP */ read_toc(ch, d); break;
    case 0x46: /* GET CONFIGURATION */ get_configuration(ch, d); break;
    case 0x4a: /* GET EVENT STATUS NOTIFICATION */ get_event_status(ch, d); break;
    case 0x51: /* READ DISC INFORMATION */
        if (cdb[1] & 7) {
            atapi_error(ch, SK_ILLEGAL_REQUEST, ASC_INV_FIELD_IN_CDB);
            break;
        }
        memset(r, 0, 34);
        put_be16(r, 32);
        r[2] = 0x0e; /* last session complete, disc complete */
        r[3] = 1;    /* first track */
        r[4] = 1;    /* sessions */
        r[5] = 1;    /* first track of the last session */
        r[6] = 1;    /* last track of the last session */
        r[7] = 0x20; /* unrestricted use */
        reply(ch, d, 34, be16(cdb + 7));
        break;
    case 0xbd: /* MECHANISM STATUS */
        memset(r, 0, 8);
        r[1] = d->tray_open ? 0x10 : 0;
        r[5] = 1; /* one slot (QEMU reports the same; Linux sees no changer) */
        reply(ch, d, 8, be16(cdb + 8));
        break;
    default: atapi_error(ch, SK_ILLEGAL_REQUEST, ASC_ILLEGAL_OPCODE); break;
    }
}
