/* Block backend front end: format selection, range and read-only checks shared by every
 * format driver, and the completion-callback request API (see block.h). */
#include "block.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qcow2.h"

#include "aio.h"

bool hg_block_submit_async(HgBlock *b, HgBlockOp op, uint64_t offset, void *buf, size_t len,
                           HgBlockDone done, void *opaque);
void hg_block_worker_free(HgBlock *b);

/* Not G_DEFINE_QUARK: its cache is a static variable, and the engine keeps none. */
GQuark hg_block_error_quark(void)
{
    return g_quark_from_static_string("hg-block-error-quark");
}

HgBlock *hg_block_open_chain(const char *filename, const char *format, bool read_only,
                             HgBlockChain *chain, GError **error)
{
    if (format && strcmp(format, "raw") == 0)
        return hg_block_open_raw(filename, read_only, error);
    if (format && strcmp(format, "qcow2") == 0)
        return hg_block_open_qcow2(filename, read_only, chain, error);
    if (format) {
        g_set_error(error, HG_BLOCK_ERROR, HG_BLOCK_ERROR_OPEN,
                    "%s: unsupported image format '%s' (raw and qcow2 are)", filename, format);
        return NULL;
    }
    /* Detection: only the magic decides (see block.h). */
    uint8_t magic[4] = {0};
    int fd = open(filename, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n = pread(fd, magic, 4, 0);
        (void)n;
        close(fd);
    }
    if (memcmp(magic, "QFI\xfb", 4) == 0)
        return hg_block_open_qcow2(filename, read_only, chain, error);
    return hg_block_open_raw_probed(filename, read_only, true, error);
}

HgBlock *hg_block_open(const char *filename, const char *format, bool read_only, GError **error)
{
    HgBlockChain chain = {0};
    return hg_block_open_chain(filename, format, read_only, &chain, error);
}

const char *hg_block_format(const HgBlock *b)
{
    return b->drv->name;
}

HgBlock *hg_block_open_snapshot(const char *filename, const char *format, GError **error)
{
    /* The base is opened read-only first so an unusable file gets its own message. */
    HgBlock *base = hg_block_open(filename, format, true, error);
    if (!base)
        return NULL;
    char *abs = g_canonicalize_filename(filename, NULL);
    const char *fmt = hg_block_format(base);
    hg_block_close(base);
    char *path = NULL;
    int fd = g_file_open_tmp("hangar-snapshot-XXXXXX.qcow2", &path, error);
    HgBlock *b = NULL;
    if (fd >= 0) {
        close(fd);
        if (hg_qcow2_create(path, 0, abs, fmt, 16, 3, 4, error))
            b = hg_block_open(path, "qcow2", false, error);
        unlink(path); /* thrown away when closed */
        g_free(path);
    }
    g_free(abs);
    return b;
}

void hg_block_close(HgBlock *b)
{
    if (!b)
        return;
    hg_block_worker_free(b);
    if (b->drv->close)
        b->drv->close(b);
    g_free(b->filename);
    g_free(b);
}

uint64_t hg_block_size(const HgBlock *b)
{
    return b->size;
}

uint64_t hg_block_sectors(const HgBlock *b)
{
    return (b->size + HG_BLOCK_SECTOR - 1) / HG_BLOCK_SECTOR;
}

bool hg_block_read_only(const HgBlock *b)
{
    return b->read_only;
}

const char *hg_block_filename(const HgBlock *b)
{
    return b->filename;
}

/* The accessible range is the size rounded up to whole sectors. */
static bool check_range(const HgBlock *b, uint64_t offset, size_t len, GError **error)
{
    uint64_t end = hg_block_sectors(b) * HG_BLOCK_SECTOR;
    if (offset > end || len > end - offset) {
        g_set_error(error, HG_BLOCK_ERROR, HG_BLOCK_ERROR_RANGE,
                    "%s: access at %" G_GUINT64_FORMAT "+%zu beyond the end of the image",
                    b->filename, offset, len);
        return false;
    }
    return true;
}

bool hg_block_pread(HgBlock *b, uint64_t offset, void *buf, size_t len, GError **error)
{
    if (!check_range(b, offset, len, error))
        return false;
    hg_block_drain(b); /* one request at a time reaches the driver */
    return len == 0 || b->drv->pread(b, offset, buf, len, error);
}

bool hg_block_pwrite(HgBlock *b, uint64_t offset, const void *buf, size_t len, GError **error)
{
    if (b->read_only) {
        g_set_error(error, HG_BLOCK_ERROR, HG_BLOCK_ERROR_READ_ONLY, "%s: the image is read-only",
                    b->filename);
        return false;
    }
    if (!check_range(b, offset, len, error))
        return false;
    if (len == 0)
        return true;
    hg_block_drain(b);
    if (!b->drv->pwrite(b, offset, buf, len, error))
        return false;
    /* A write into the zero-padded tail sector grows the file (block.h). */
    if (offset + len > b->size)
        b->size = offset + len;
    return true;
}

bool hg_block_flush(HgBlock *b, GError **error)
{
    if (b->read_only || !b->drv->flush)
        return true;
    hg_block_drain(b);
    return b->drv->flush(b, error);
}

bool hg_block_discard(HgBlock *b, uint64_t offset, uint64_t len, GError **error)
{
    if (b->read_only) {
        g_set_error(error, HG_BLOCK_ERROR, HG_BLOCK_ERROR_READ_ONLY, "%s: the image is read-only",
                    b->filename);
        return false;
    }
    if (!check_range(b, offset, (size_t)len, error))
        return false;
    if (len == 0)
        return true;
    hg_block_drain(b);
    if (b->drv->discard)
        return b->drv->discard(b, offset, len, error);
    return hg_block_write_zeros(b, offset, len, error);
}

bool hg_block_data_status(HgBlock *b, uint64_t offset, uint64_t len, bool *data, uint64_t *pnum,
                          GError **error)
{
    *data = true;
    *pnum = len;
    if (len == 0 || !b->drv->data_status || offset >= b->size)
        return true;
    hg_block_drain(b);
    return b->drv->data_status(b, offset, MIN(len, b->size - offset), data, pnum, error);
}

bool hg_block_write_zeros(HgBlock *b, uint64_t offset, uint64_t len, GError **error)
{
    hg_block_drain(b);
    uint8_t *z = g_malloc0(65536);
    bool ok = true;
    while (ok && len) {
        size_t n = (size_t)MIN(len, 65536);
        ok = b->drv->pwrite(b, offset, z, n, error);
        offset += n;
        len -= n;
    }
    g_free(z);
    return ok;
}

void hg_block_submit(HgBlock *b, HgBlockOp op, uint64_t offset, void *buf, size_t len,
                     HgBlockDone done, void *opaque)
{
    GError *error = NULL;
    bool ok;
    /* Off the emulation thread when the image has a worker and asynchronous mode is on;
     * the checks happen here, so the worker only runs the driver. */
    bool checked = op == HG_BLOCK_FLUSH ? !b->read_only && b->drv->flush
                   : op == HG_BLOCK_READ ? check_range(b, offset, len, NULL) && len > 0
                                         : !b->read_only && check_range(b, offset, len, NULL) &&
                                               len > 0;
    if (checked && hg_block_submit_async(b, op, offset, buf, len, done, opaque)) {
        if (op == HG_BLOCK_WRITE && offset + len > b->size)
            b->size = offset + len; /* the tail sector grows (block.h) */
        return;
    }
    switch (op) {
    case HG_BLOCK_READ: ok = hg_block_pread(b, offset, buf, len, &error); break;
    case HG_BLOCK_WRITE: ok = hg_block_pwrite(b, offset, buf, len, &error); break;
    default: ok = hg_block_flush(b, &error); break;
    }
    if (done)
        done(opaque, ok, error);
    g_clear_error(&error);
}
