/* Thumbnails of a machine's last screen, kept in its profile folder (thumbnail.png) for
 * the main window's list. */
#pragma once

#include <gtk/gtk.h>

#include "display.h"

G_BEGIN_DECLS

enum { HANGAR_THUMBNAIL_WIDTH = 160, HANGAR_THUMBNAIL_HEIGHT = 120 };

/* dir/thumbnail.png; free with g_free. */
char *hangar_thumbnail_path(const char *dir);
/* Scales the display's current picture to fit HANGAR_THUMBNAIL_WIDTH x _HEIGHT and writes
 * it as a PNG, crash-safely (temporary file, rename). */
gboolean hangar_thumbnail_save(HgDisplay *display, const char *path, GError **error);

G_END_DECLS
