/* The display surface of one machine: the guest's current picture as a host-format
 * framebuffer (32-bit XRGB8888, 0x00RRGGBB in native endianness), the rectangles changed
 * since the consumer last looked, a generation counter that changes on every resize and, in
 * text modes, the screen's characters.
 *
 * Threading: the producer (a display adapter such as engine/hw/vga.c) draws on the machine's
 * emulation thread; consumers (GTK GUI, VNC, SDL, boot tests) read from their own threads.
 * One mutex guards pixels, dirty list and text: the producer holds it while it draws
 * (hg_display_draw_begin/end), a consumer while it copies (hg_display_lock/unlock). Keep
 * both short: copy out, then work on the copy.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct HgDisplay HgDisplay;

typedef struct HgRect {
    int x, y, w, h;
} HgRect;

/* A view of the framebuffer, valid only between hg_display_lock and hg_display_unlock. */
typedef struct HgSurface {
    int width, height;
    int stride; /* in bytes */
    const uint32_t *pixels;
    uint64_t generation; /* changes whenever width/height change */
} HgSurface;

/* Called on the producer's thread after a frame changed (outside the lock); resized is
 * true when the generation changed. A GUI typically posts an idle callback from it. */
typedef void (*HgDisplayNotify)(void *opaque, bool resized);

HgDisplay *hg_display_new(void);
void hg_display_free(HgDisplay *d);
void hg_display_set_notify(HgDisplay *d, HgDisplayNotify cb, void *opaque);

/* --- Producer side (emulation thread) --- */

/* Takes the lock and returns the pixels of a width x height framebuffer (reallocated,
 * cleared to black and fully dirty if the size changed; sizes are clamped to
 * [1, HG_DISPLAY_MAX_*]). *stride_px receives the row length in pixels. */
enum { HG_DISPLAY_MAX_W = 4096, HG_DISPLAY_MAX_H = 4096 };
uint32_t *hg_display_draw_begin(HgDisplay *d, int width, int height, int *stride_px);
/* Records a changed rectangle (clipped to the surface); only between draw_begin/end. */
void hg_display_draw_dirty(HgDisplay *d, int x, int y, int w, int h);
/* Releases the lock and calls the notifier if anything changed. */
void hg_display_draw_end(HgDisplay *d);
/* Publishes the text screen (code page 437 bytes, rows x cols) or, with cols == 0, says
 * the adapter is in a graphics mode. Takes the lock itself. */
void hg_display_set_text(HgDisplay *d, int cols, int rows, const uint8_t *chars);

/* --- Consumer side (any thread) --- */

void hg_display_lock(HgDisplay *d, HgSurface *s);
/* While locked: moves the changed rectangles since the last call into rects (at most max;
 * more are merged into their union) and returns their count. *bounds, if not NULL,
 * receives the union (0x0 when nothing changed). */
int hg_display_take_dirty(HgDisplay *d, HgRect *rects, int max, HgRect *bounds);
void hg_display_unlock(HgDisplay *d);
uint64_t hg_display_generation(HgDisplay *d);
/* Copies the whole framebuffer (tightly packed, width * 4 bytes per row) and its size;
 * free with g_free. */
uint32_t *hg_display_snapshot(HgDisplay *d, int *width, int *height);

/* The text screen as UTF-8 lines (trailing blanks trimmed), NULL-terminated; free with
 * g_strfreev. NULL when the adapter is in a graphics mode or has drawn nothing yet. */
gchar **hg_display_text_dump(HgDisplay *d);
/* Code page 437 to Unicode (the VGA ROM font's character set). */
gunichar hg_cp437_to_unicode(uint8_t c);
