/* Screenshots: the machine's display surface (engine/display.h) written as a PNG file
 * (8-bit RGB, no alpha; PNG specification, ISO/IEC 15948) through libpng.
 *
 * Thread-safe: the picture is a snapshot taken under the display's lock, so the GUI, the
 * monitor (emulation thread) and any other frontend can call it while the machine runs.
 * The file is written crash-safely: a temporary file in the destination's folder, fsync,
 * then rename over the destination, so a reader never sees half a PNG.
 */
#include <errno.h>
#include <fcntl.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "display.h"
#include "hangar.h"
#include "machine-internal.h"

typedef struct PngJob {
    const uint32_t *pixels;
    int width, height;
    uint8_t *row; /* one RGB row */
    char message[256];
} PngJob;

static void png_error_cb(png_structp png, png_const_charp msg)
{
    PngJob *job = png_get_error_ptr(png);
    g_strlcpy(job->message, msg, sizeof(job->message));
    png_longjmp(png, 1);
}

static void png_warning_cb(png_structp png, png_const_charp msg)
{
    /* Warnings (none expected for a plain RGB image) do not spoil the file. */
}

/* Encodes the image into f; false with job->message set on failure. Kept apart from the
 * caller so that nothing the caller owns lives across the setjmp. */
static bool write_png(FILE *f, PngJob *job)
{
    png_structp png =
        png_create_write_struct(PNG_LIBPNG_VER_STRING, job, png_error_cb, png_warning_cb);
    if (!png) {
        g_strlcpy(job->message, "out of memory", sizeof(job->message));
        return false;
    }
    png_infop info = png_create_info_struct(png);
    if (!info || setjmp(png_jmpbuf(png))) {
        if (!info)
            g_strlcpy(job->message, "out of memory", sizeof(job->message));
        png_destroy_write_struct(&png, info ? &info : NULL);
        return false;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)job->width, (png_uint_32)job->height, 8,
                 PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    /* Screens are mostly flat colour: a fast level compresses them nearly as well. */
    png_set_compression_level(png, 3);
    png_write_info(png, info);
    for (int y = 0; y < job->height; y++) {
        const uint32_t *src = job->pixels + (size_t)y * job->width;
        for (int x = 0; x < job->width; x++) {
            uint32_t p = src[x]; /* 0x00RRGGBB */
            job->row[x * 3 + 0] = (uint8_t)(p >> 16);
            job->row[x * 3 + 1] = (uint8_t)(p >> 8);
            job->row[x * 3 + 2] = (uint8_t)p;
        }
        png_write_row(png, job->row);
    }
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    return true;
}

bool hg_machine_screendump(HgMachine *m, const char *path, GError **error)
{
    int width = 0, height = 0;
    uint32_t *pixels = hg_display_snapshot(m->display, &width, &height);
    if (!pixels || width < 1 || height < 1) {
        g_free(pixels);
        g_set_error(error, HG_ERROR, HG_ERROR_FILE, "the display has no picture yet");
        return false;
    }

    char *dir = g_path_get_dirname(path);
    char *base = g_path_get_basename(path);
    char *tmp = g_strdup_printf("%s/.%s.XXXXXX", dir, base);
    bool ok = false;
    int fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0) {
        int e = errno;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e),
                    "cannot create a file in %s for %s: %s", dir, path, g_strerror(e));
        goto out;
    }
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        int e = errno;
        close(fd);
        g_unlink(tmp);
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "cannot write %s: %s", path,
                    g_strerror(e));
        goto out;
    }
    PngJob job = {.pixels = pixels, .width = width, .height = height};
    job.row = g_malloc((size_t)width * 3);
    bool encoded = write_png(f, &job);
    g_free(job.row);
    int e = 0;
    if (!encoded) {
        e = ferror(f) && errno ? errno : EIO;
    } else if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
        e = errno;
    }
    if (fclose(f) != 0 && !e && encoded)
        e = errno;
    if (!encoded || e) {
        g_unlink(tmp);
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e ? e : EIO),
                    "cannot write %s: %s", path, encoded ? g_strerror(e) : job.message);
        goto out;
    }
    /* The picture is on disk: the rename makes it visible under its name at once. */
    if (g_rename(tmp, path) != 0) {
        e = errno;
        g_unlink(tmp);
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "cannot write %s: %s", path,
                    g_strerror(e));
        goto out;
    }
    ok = true;
out:
    g_free(tmp);
    g_free(base);
    g_free(dir);
    g_free(pixels);
    return ok;
}
