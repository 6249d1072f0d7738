/* Raw disk images: the file's bytes are the disk's bytes. Plain POSIX pread/pwrite on a
 * file descriptor; reads past the end of the file (the partial last sector, block.h) are
 * zero-filled. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block.h"

typedef struct RawImage {
    int fd;
    bool probed; /* format detected, not given: see hg_block_open in block.h */
} RawImage;

static int raw_fd(const HgBlock *b)
{
    return ((const RawImage *)b->priv)->fd;
}

static bool raw_pread(HgBlock *b, uint64_t offset, void *buf, size_t len, GError **error)
{
    uint8_t *p = buf;
    while (len) {
        ssize_t n = pread(raw_fd(b), p, len, (off_t)offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            g_set_error(error, HG_BLOCK_ERROR, HG_BLOCK_ERROR_IO, "%s: read failed: %s",
                        b->filename, g_strerror(errno));
            return false;
        }
        if (n == 0) { /* end of file: the zero-padded tail */
            memset(p, 0, len);
            return true;
        }
        p += n;
        offset += (uint64_t)n;
        len -= (size_t)n;
    }
    return true;
}

static bool raw_pwrite(HgBlock *b, uint64_t offset, const void *buf, size_t len, GError **error)
{
    const uint8_t *p = buf;
    RawImage *r = b->priv;
    if (r->probed && offset < 4) {
        /* The first four bytes as they would be after this write. */
        uint8_t head[4] = {0};
        if (!raw_pread(b, 0, head, 4, error))
            return false;
        memcpy(head + offset, p, MIN(len, 4 - offset));
        if (memcmp(head, "QFI\xfb", 4) == 0) {
            g_set_error(error, HG_BLOCK_ERROR, HG_BLOCK_ERROR_IO,
                        "%s: refusing to write a qcow2 header into a raw image whose format "
                        "was detected, not given", b->filename);
            return false;
        }
    }
    while (len) {
        ssize_t n = pwrite(raw_fd(b), p, len, (off_t)offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            g_set_error(error, HG_BLOCK_ERROR, HG_BLOCK_ERROR_IO, "%s: write failed: %s",
                        b->filename, n < 0 ? g_strerror(errno) : "no progress");
            return false;
        }
        p += n;
        offset += (uint64_t)n;
        len -= (size_t)n;
    }
    return true;
}

static bool raw_discard(HgBlock *b, uint64_t offset, uint64_t len, GError **error)
{
    if (fallocate(raw_fd(b), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)offset,
                  (off_t)len) == 0)
        return true;
    /* No hole punching here (block device, old file system): write zeros. */
    return hg_block_write_zeros(b, offset, len, error);
}

static bool raw_data_status(HgBlock *b, uint64_t offset, uint64_t len, bool *data,
                            uint64_t *pnum, GError **error)
{
    (void)error;
    off_t d = lseek(raw_fd(b), (off_t)offset, SEEK_DATA);
    if (d < 0) { /* ENXIO: only a hole up to the end; other errors: say data */
        *data = errno != ENXIO;
        *pnum = len;
        return true;
    }
    if ((uint64_t)d > offset) {
        *data = false;
        *pnum = MIN(len, (uint64_t)d - offset);
        return true;
    }
    off_t h = lseek(raw_fd(b), (off_t)offset, SEEK_HOLE);
    *data = true;
    *pnum = h > (off_t)offset ? MIN(len, (uint64_t)h - offset) : len;
    return true;
}

static bool raw_flush(HgBlock *b, GError **error)
{
    if (fdatasync(raw_fd(b)) < 0 && errno != EINVAL) {
        g_set_error(error, HG_BLOCK_ERROR, HG_BLOCK_ERROR_IO, "%s: flush failed: %s", b->filename,
                    g_strerror(errno));
        return false;
    }
    return true;
}

static void raw_close(HgBlock *b)
{
    RawImage *r = b->priv;
    close(r->fd);
    g_free(r);
}

static const HgBlockDriver raw_driver = {
    .name = "raw",
    .pread = raw_pread,
    .pwrite = raw_pwrite,
    .flush = raw_flush,
    .discard = raw_discard,
    .data_status = raw_data_status,
    .close = raw_close,
};

HgBlock *hg_block_open_raw(const char *filename, bool read_only, GError **error)
{
    return hg_block_open_raw_probed(filename, read_only, false, error);
}

HgBlock *hg_block_open_raw_probed(const char *filename, bool read_only, bool probed,
                                  GError **error)
{
    int fd = open(filename, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        g_set_error(error, HG_BLOCK_ERROR, HG_BLOCK_ERROR_OPEN, "cannot open disk image %s%s: %s",
                    filename, read_only ? "" : " for writing", g_strerror(e));
        return NULL;
    }
    struct stat st;
    off_t size = -1;
    if (fstat(fd, &st) == 0 && (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)))
        size = lseek(fd, 0, SEEK_END);
    if (size < 0) {
        g_set_error(error, HG_BLOCK_ERROR, HG_BLOCK_ERROR_OPEN,
                    "%s is not a usable disk image (not a regular file or block device)", filename);
        close(fd);
        return NULL;
    }
    RawImage *r = g_new0(RawImage, 1);
    r->fd = fd;
    r->probed = probed;
    HgBlock *b = g_new0(HgBlock, 1);
    b->drv = &raw_driver;
    b->priv = r;
    b->filename = g_strdup(filename);
    b->size = (uint64_t)size;
    b->read_only = read_only;
    return b;
}
