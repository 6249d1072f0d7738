/* Creating disk images (what the new-machine assistant and `hangar-img create` call):
 * a raw image is a sparse file of the given size, so it takes no space until written; a
 * qcow2 image (engine/block/qcow2-snapshot.c) has 64 KiB clusters, version 3, 16-bit
 * refcounts, the defaults of qemu-img. */
#include "hangar.h"
#include "block/qcow2.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static bool create_raw(const char *path, uint64_t size, GError **error)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        int e = errno;
        g_set_error(error, HG_ERROR, HG_ERROR_FILE, "cannot create %s: %s", path,
                    g_strerror(e));
        return false;
    }
    if (ftruncate(fd, (off_t)size) != 0 || fsync(fd) != 0) {
        int e = errno;
        g_set_error(error, HG_ERROR, HG_ERROR_FILE, "cannot size %s to %" G_GUINT64_FORMAT
                    " bytes: %s", path, size, g_strerror(e));
        close(fd);
        unlink(path);
        return false;
    }
    close(fd);
    return true;
}

bool hg_image_create(const char *path, const char *format, uint64_t size, const char *backing,
                     const char *backing_format, GError **error)
{
    if (!format)
        format = "raw";
    if (size == 0 && !backing) {
        g_set_error(error, HG_ERROR, HG_ERROR_CONFIG, "%s: give the image a size", path);
        return false;
    }
    if (size > ((uint64_t)1 << 50)) {
        g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                    "%s: %" G_GUINT64_FORMAT " bytes is too large (at most 1 PiB)", path, size);
        return false;
    }
    if (strcmp(format, "raw") == 0) {
        if (backing) {
            g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                        "%s: a raw image cannot have a backing file; use qcow2", path);
            return false;
        }
        return create_raw(path, size, error);
    }
    if (strcmp(format, "qcow2") == 0) {
        GError *e = NULL;
        if (hg_qcow2_create(path, size, backing, backing_format, 16, 3, 4, &e))
            return true;
        g_set_error_literal(error, HG_ERROR, HG_ERROR_FILE, e->message);
        g_error_free(e);
        return false;
    }
    g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                "%s: cannot create images of format \"%s\" (raw and qcow2 exist)", path, format);
    return false;
}
