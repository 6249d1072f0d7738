/* Block backend: a disk image opened by a device model (IDE disk, ATAPI CD-ROM, floppy).
 *
 * An HgBlock is a byte-addressed image of a fixed size with pread/pwrite/flush, implemented
 * by a format driver (HgBlockDriver). This version has the raw driver (engine/block/raw.c);
 * qcow2 will be another driver behind the same interface.
 *
 * Sizes that are not a multiple of 512 bytes: hg_block_size() is the exact file size, and
 * hg_block_sectors() rounds UP. Reading the partial last sector returns the file's bytes
 * followed by zeros (QEMU does the same); writing it extends the file to the full sector.
 * Any access beyond the rounded-up end is an error (HG_BLOCK_ERROR_RANGE), so a device model
 * that checks its LBAs against hg_block_sectors() never sees one.
 *
 * Threading: calls happen on the emulation thread. Device models use hg_block_submit() for
 * guest-visible transfers: the request completes through its callback, either before
 * hg_block_submit() returns or, once the image has an HgAio with asynchronous mode on
 * (aio.h), later on the emulation thread while a worker thread did the I/O. The buffer
 * belongs to the request until the callback ran. Devices that need
 * reproducible timing (instruction-counted mode) decide WHEN the guest sees the completion
 * with a timer of their own, never from the moment the host I/O finished.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HG_BLOCK_ERROR (hg_block_error_quark())
GQuark hg_block_error_quark(void);

typedef enum {
    HG_BLOCK_ERROR_OPEN,      /* the file is missing, unreadable, or not a regular file */
    HG_BLOCK_ERROR_IO,        /* a host read, write or flush failed */
    HG_BLOCK_ERROR_RANGE,     /* the request lies outside the image */
    HG_BLOCK_ERROR_READ_ONLY, /* a write to an image opened read-only */
} HgBlockErrorCode;

enum { HG_BLOCK_SECTOR = 512 };

typedef struct HgBlock HgBlock;

/* A format driver. Requests reaching a driver have already been range- and
 * read-only-checked by block.c; the driver zero-fills reads past its end of data. */
typedef struct HgBlockDriver {
    const char *name;
    bool (*pread)(HgBlock *b, uint64_t offset, void *buf, size_t len, GError **error);
    bool (*pwrite)(HgBlock *b, uint64_t offset, const void *buf, size_t len, GError **error);
    bool (*flush)(HgBlock *b, GError **error);
    /* Optional: afterwards [offset, offset+len) reads as zeros (block.c writes zeros when a
     * driver has none). */
    bool (*discard)(HgBlock *b, uint64_t offset, uint64_t len, GError **error);
    /* Optional: whether [offset, offset+*pnum) may hold data (false: it reads as zeros);
     * sets *pnum to the length, at most len, that has the same answer. */
    bool (*data_status)(HgBlock *b, uint64_t offset, uint64_t len, bool *data, uint64_t *pnum,
                        GError **error);
    void (*close)(HgBlock *b);
} HgBlockDriver;

struct HgBlock {
    const HgBlockDriver *drv;
    void *priv; /* the driver's state */
    char *filename;
    uint64_t size; /* bytes */
    bool read_only;
    struct HgBlockWorker *worker; /* asynchronous requests (aio.h), or NULL */
};

/* Opens an image: format "raw", "qcow2", or NULL to detect it. Detection follows a safe
 * policy: a file that starts with the qcow2 magic is qcow2; anything else is raw, and a
 * raw image opened writable by detection refuses writes that would put a qcow2 magic at
 * its start (a guest could otherwise turn its disk into a qcow2 header naming any host
 * file as backing file; QEMU restricts probed raw images the same way). A format given
 * explicitly is never second-guessed. */
HgBlock *hg_block_open(const char *filename, const char *format, bool read_only, GError **error);
/* The raw driver directly. */
HgBlock *hg_block_open_raw(const char *filename, bool read_only, GError **error);
/* Driver entry points with the backing chain walked so far (loop and depth detection). */
typedef struct HgBlockChain {
    bool repair; /* hangar-img check -r: open images marked dirty or corrupt writable */
    int depth;
    uint64_t dev[32], ino[32];
} HgBlockChain;
HgBlock *hg_block_open_chain(const char *filename, const char *format, bool read_only,
                             HgBlockChain *chain, GError **error);
HgBlock *hg_block_open_raw_probed(const char *filename, bool read_only, bool probed,
                                  GError **error);
HgBlock *hg_block_open_qcow2(const char *filename, bool read_only, HgBlockChain *chain,
                             GError **error);
/* The format name of an open image ("raw", "qcow2"). */
const char *hg_block_format(const HgBlock *b);
/* Opens a throw-away overlay over filename (hangar-run --snapshot): a qcow2 image in the
 * temporary directory, deleted as soon as it is open, so the base image is never written. */
HgBlock *hg_block_open_snapshot(const char *filename, const char *format, GError **error);
void hg_block_close(HgBlock *b);

uint64_t hg_block_size(const HgBlock *b);
/* Size in 512-byte sectors, rounded up (see above). */
uint64_t hg_block_sectors(const HgBlock *b);
bool hg_block_read_only(const HgBlock *b);
const char *hg_block_filename(const HgBlock *b);

bool hg_block_pread(HgBlock *b, uint64_t offset, void *buf, size_t len, GError **error);
bool hg_block_pwrite(HgBlock *b, uint64_t offset, const void *buf, size_t len, GError **error);
bool hg_block_flush(HgBlock *b, GError **error);
/* Whether [offset, offset+*pnum) may hold data or surely reads as zeros (holes of raw
 * files, unallocated and zero clusters of qcow2 chains); *pnum is at most len. Lets convert
 * skip what it need not read. */
bool hg_block_data_status(HgBlock *b, uint64_t offset, uint64_t len, bool *data, uint64_t *pnum,
                          GError **error);
/* Writes zeros over the range through the driver (the fallback of discards). */
bool hg_block_write_zeros(HgBlock *b, uint64_t offset, uint64_t len, GError **error);
/* Afterwards the range reads as zeros; unused clusters of an image go back to it. */
bool hg_block_discard(HgBlock *b, uint64_t offset, uint64_t len, GError **error);

/* Asynchronous-style requests (see "Threading" above). The buffer must stay valid until
 * the callback has run. */
typedef enum { HG_BLOCK_READ, HG_BLOCK_WRITE, HG_BLOCK_FLUSH } HgBlockOp;
typedef void (*HgBlockDone)(void *opaque, bool ok, const GError *error);
void hg_block_submit(HgBlock *b, HgBlockOp op, uint64_t offset, void *buf, size_t len,
                     HgBlockDone done, void *opaque);
