/* State shared by the IDE channel (ide.c), its ATAPI packet commands (ide-atapi.c) and the
 * bus-master DMA engine (ide-bmdma.c). Not for other devices: use ide.h and ide-bmdma.h. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "ide-bmdma.h"
#include "ide.h"

typedef struct HgTimer HgTimer;

enum {
    /* Status register */
    ST_ERR = 0x01,
    ST_DRQ = 0x08,
    ST_DSC = 0x10,
    ST_DF = 0x20,
    ST_DRDY = 0x40,
    ST_BSY = 0x80,
    /* Error register */
    ER_AMNF = 0x01,
    ER_ABRT = 0x04,
    ER_IDNF = 0x10,
    ER_UNC = 0x40,
    /* Device control register */
    CTL_NIEN = 0x02,
    CTL_SRST = 0x04,
    CTL_HOB = 0x80,
    /* ATAPI interrupt reason (sector count register) */
    IR_COD = 0x01,
    IR_IO = 0x02,

    IDE_IO_BUF = 0x10000, /* PIO window / DMA bounce buffer */
    IDE_REPLY_MAX = 2048, /* IDENTIFY data and ATAPI replies */
    IDE_MAX_MULT = 16,    /* READ/WRITE MULTIPLE block size limit (IDENTIFY word 47) */
    CD_SECTOR = 2048,
};

/* What the data phase moves. */
typedef enum {
    XF_NONE,
    XF_ATA_IN,   /* ATA: disk -> host (PIO or DMA) */
    XF_ATA_OUT,  /* ATA: host -> disk */
    XF_REPLY_IN, /* IDENTIFY data, ATAPI replies: reply[] -> host */
    XF_PACKET,   /* ATAPI: receiving the 12-byte command packet */
    XF_CD_IN,    /* ATAPI: CD sectors -> host */
} IdeXfer;

/* ATAPI sense keys and additional sense codes (MMC-3 / SPC) */
enum {
    SK_NO_SENSE = 0,
    SK_NOT_READY = 2,
    SK_MEDIUM_ERROR = 3,
    SK_ILLEGAL_REQUEST = 5,
    SK_UNIT_ATTENTION = 6,
    ASC_ILLEGAL_OPCODE = 0x20,
    ASC_LBA_OUT_OF_RANGE = 0x21,
    ASC_INV_FIELD_IN_CDB = 0x24,
    ASC_MEDIUM_MAY_HAVE_CHANGED = 0x28,
    ASC_SAVING_PARAMS_NOT_SUPPORTED = 0x39,
    ASC_MEDIUM_NOT_PRESENT = 0x3a,
    ASC_MEDIUM_REMOVAL_PREVENTED = 0x53,
    ASC_UNRECOVERED_READ_ERROR = 0x11,
};

typedef struct IdeDrive {
    HgIdeKind kind;
    HgBlock *blk;
    /* Task file as this drive latched it (writes go to both drives). */
    uint8_t feature, nsector, sector, lcyl, hcyl, select;
    uint8_t hob_feature, hob_nsector, hob_sector, hob_lcyl, hob_hcyl;
    uint8_t status, error;
    /* ATA settings */
    uint16_t cyls, heads, secs;   /* default CHS translation */
    uint16_t cur_heads, cur_secs; /* INITIALIZE DEVICE PARAMETERS */
    uint8_t mult;                 /* 0: READ/WRITE MULTIPLE disabled */
    uint8_t xfer_mode;            /* SET FEATURES 03h value (0x0c PIO4, 0x22 MW2, 0x45 U5) */
    bool write_cache;
    bool standby;
    /* ATAPI */
    uint8_t sense_key, asc, ascq;
    bool unit_attention; /* medium changed since the guest last looked */
    bool locked, tray_open;
    uint8_t media_event; /* GESN media event code waiting for the guest */
} IdeDrive;

struct HgIdeChannel {
    HgClock *clock;
    HgIrq irq;
    int index;
    IdeDrive drive[2];
    int cur;          /* selected drive (DEV bit) */
    uint8_t ctl;      /* device control: nIEN, SRST, HOB */
    bool irq_pending; /* INTRQ of the selected drive */
    bool irq_level;   /* level last driven on the line */
    HgIdeBmdma *bm;   /* NULL: no bus master */
    HgTimer *dma_timer;

    /* Data phase (one at a time per channel; xfer_unit is the drive doing it). */
    IdeXfer xfer;
    int xfer_unit;
    bool dma;                        /* data moves by bus-master DMA */
    bool lba48;                      /* the command was an EXT one (register updates) */
    bool atapi_dma;                  /* PACKET asked for a DMA data phase */
    bool packet;                     /* the data phase belongs to a PACKET command */
    uint64_t disk_off;               /* image byte offset of stream position 0 */
    uint64_t stream_len, stream_pos; /* bytes of the whole data phase, bytes done */
    uint32_t block;                  /* ATA PIO: bytes per DRQ block */
    /* DMA chunk in flight (never across a state save while image I/O is synchronous) */
    uint32_t io_len;
    bool io_ok, io_busy, io_sync, dma_stop;
    bool io_stale; /* the request in flight belongs to a cancelled transfer */
    uint32_t buf_pos, buf_end; /* PIO window in io_buf */
    uint8_t cdb[12];           /* ATAPI command packet being run */
    uint16_t reply_len;
    uint8_t reply[IDE_REPLY_MAX];
    uint8_t io_buf[IDE_IO_BUF + 4]; /* +4: a dword access at the end stays in bounds */
};

/* ide.c services for ide-atapi.c */
void ide_set_irq(HgIdeChannel *ch);
IdeDrive *ide_cur(HgIdeChannel *ch);
void ide_start_data_in(HgIdeChannel *ch, IdeXfer kind, uint64_t disk_off, uint64_t len, bool dma,
                       bool packet);
void ide_dma_kick(HgIdeChannel *ch);
bool ide_stream_read(HgIdeChannel *ch, uint8_t *buf, uint32_t n);
bool ide_cd_present(const IdeDrive *d);
uint64_t ide_cd_sectors(const IdeDrive *d);
void ide_fill_identify_string(uint16_t *words, int first, int count, const char *s);
void ide_identify_checksum(uint8_t *p);

/* ide-atapi.c */
void atapi_identify(HgIdeChannel *ch, IdeDrive *d);
void atapi_packet_received(HgIdeChannel *ch);
void atapi_pio_next(HgIdeChannel *ch);
void atapi_data_done(HgIdeChannel *ch, bool ok);
void atapi_set_signature(IdeDrive *d);
void atapi_error(HgIdeChannel *ch, uint8_t key, uint8_t asc);

/* ide-bmdma.c services for ide.c */
bool ide_bmdma_started(const HgIdeBmdma *bm, int chan);
/* Moves up to len bytes between buf and guest memory along the PRD table. Returns the bytes
 * moved; *stop is set when the table ended (or the engine hit a master abort, *abort). */
uint32_t ide_bmdma_rw(HgIdeBmdma *bm, int chan, uint8_t *buf, uint32_t len, bool to_memory,
                      bool *stop, bool *abort);
/* The transfer ended: see ide-bmdma.h for the status bits. table_end: the table ran out. */
void ide_bmdma_done(HgIdeBmdma *bm, int chan, bool table_end, bool abort);
void ide_bmdma_irq(HgIdeBmdma *bm, int chan);
void ide_channel_set_bmdma(HgIdeChannel *ch, HgIdeBmdma *bm);
