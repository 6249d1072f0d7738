/* Thumbnails of the last screen (UTM's screenshot.png and GNOME Boxes' screenshot-interval
 * in docs/reference/gui.md §3.4): the display's XRGB8888 picture is cairo's RGB24 format,
 * so cairo scales it with its bilinear filter and writes the PNG. */
#include "hangar-thumbnail.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

char *hangar_thumbnail_path(const char *dir)
{
    return g_build_filename(dir, "thumbnail.png", NULL);
}

gboolean hangar_thumbnail_save(HgDisplay *display, const char *path, GError **error)
{
    int w = 0, h = 0;
    g_autofree uint32_t *pixels = hg_display_snapshot(display, &w, &h);
    if (!pixels || w <= 0 || h <= 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "the machine has no picture yet");
        return FALSE;
    }
    cairo_surface_t *src = cairo_image_surface_create_for_data((unsigned char *)pixels,
                                                               CAIRO_FORMAT_RGB24, w, h, w * 4);
    double scale = MIN((double)HANGAR_THUMBNAIL_WIDTH / w, (double)HANGAR_THUMBNAIL_HEIGHT / h);
    int tw = MAX(1, (int)(w * scale + 0.5)), th = MAX(1, (int)(h * scale + 0.5));
    cairo_surface_t *dst = cairo_image_surface_create(CAIRO_FORMAT_RGB24, tw, th);
    cairo_t *cr = cairo_create(dst);
    cairo_scale(cr, scale, scale);
    cairo_set_source_surface(cr, src, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_GOOD);
    cairo_paint(cr);
    cairo_destroy(cr);
    cairo_surface_destroy(src);
    g_autofree char *tmp = g_strconcat(path, ".tmp", NULL);
    cairo_status_t st = cairo_surface_write_to_png(dst, tmp);
    cairo_surface_destroy(dst);
    if (st != CAIRO_STATUS_SUCCESS) {
        g_unlink(tmp);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot write %s: %s", tmp,
                    cairo_status_to_string(st));
        return FALSE;
    }
    if (g_rename(tmp, path) != 0) {
        int e = errno;
        g_unlink(tmp);
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "cannot write %s: %s", path,
                    g_strerror(e));
        return FALSE;
    }
    return TRUE;
}
