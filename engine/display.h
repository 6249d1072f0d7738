/* The display surface of one machine: the guest's current picture as a host-format
 * framebuffer (32-bit XRGB8888, 0x00RRGGBB in native endianness), a generation counter that
 * changes on every resize, in text modes the screen's characters, and, for each consumer
 * watching it, the rectangles changed since that consumer last looked.
 *
 * Consumers: the GTK GUI, the VNC server, the SDL window, screenshots and tests can all
 * watch one machine at once. Each registers with hg_display_add_consumer and gets its own
 * dirty region and its own notifier, so one consumer taking its rectangles never hides a
 * change from another. A consumer added late starts with the whole surface dirty; a resize
 * makes the whole surface dirty for every consumer and reaches every notifier with
 * resized = true. Consumers that only need a copy now and then (screendump, the monitor)
 * need no registration: hg_display_snapshot and hg_display_text_dump.
 *
 * Threading: the producer (a display adapter such as engine/hw/vga.c) draws on the machine's
 * emulation thread; consumers read from their own threads. One mutex guards pixels, dirty
 * regions, the consumer list and text: the producer holds it while it draws
 * (hg_display_draw_begin/end), a consumer while it copies (hg_display_lock/unlock). Keep
 * both short: copy out, then work on the copy. Notifiers are called by the producer after
 * it released that mutex (so a notifier may lock the display and take its rectangles),
 * under a second mutex that hg_display_remove_consumer also takes: once remove returns,
 * that consumer's notifier is not running and will not be called again.
 *
 * Lifetime: the display's owner (the machine) frees it with hg_display_free; if consumers
 * are still registered then, the memory lives on until the last one is removed, so a
 * consumer on another thread (a GUI widget) can always remove itself safely. After the
 * owner freed it nothing draws any more: such a display only serves its last picture.
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

typedef struct HgDisplayConsumer HgDisplayConsumer;

/* Called on the producer's thread, outside the display lock, after each frame that changed
 * pixels; resized is true when that frame changed the surface's size (and generation). A
 * GUI typically posts an idle callback from it. It must return soon and must not add or
 * remove consumers (it may lock the display and take its dirty rectangles). */
typedef void (*HgDisplayNotify)(void *opaque, bool resized);

HgDisplay *hg_display_new(void);
/* The owner's release; see "Lifetime" above. */
void hg_display_free(HgDisplay *d);

/* Registers a consumer (any thread, not holding the display lock). notify may be NULL for a
 * consumer that polls. The new consumer's dirty region is the whole current surface (no
 * notification says so: take it when ready). */
HgDisplayConsumer *hg_display_add_consumer(HgDisplay *d, HgDisplayNotify notify, void *opaque);
/* Unregisters and frees c (any thread, not from a notifier nor holding the display lock);
 * may free the display too (see "Lifetime"). NULL is ignored. */
void hg_display_remove_consumer(HgDisplayConsumer *c);
/* The display c watches. */
HgDisplay *hg_display_consumer_display(HgDisplayConsumer *c);

/* --- Producer side (emulation thread) --- */

/* Takes the lock and returns the pixels of a width x height framebuffer (reallocated,
 * cleared to black and fully dirty if the size changed; sizes are clamped to
 * [1, HG_DISPLAY_MAX_*]). *stride_px receives the row length in pixels. */
enum { HG_DISPLAY_MAX_W = 4096, HG_DISPLAY_MAX_H = 4096 };
uint32_t *hg_display_draw_begin(HgDisplay *d, int width, int height, int *stride_px);
/* Records a changed rectangle (clipped to the surface); only between draw_begin/end. */
void hg_display_draw_dirty(HgDisplay *d, int x, int y, int w, int h);
/* Releases the lock, hands the frame's rectangles to every consumer and calls their
 * notifiers if anything changed. */
void hg_display_draw_end(HgDisplay *d);
/* Publishes the text screen (code page 437 bytes, rows x cols) or, with cols == 0, says
 * the adapter is in a graphics mode. Takes the lock itself. */
void hg_display_set_text(HgDisplay *d, int cols, int rows, const uint8_t *chars);

/* --- Consumer side (any thread) --- */

void hg_display_lock(HgDisplay *d, HgSurface *s);
/* While the display is locked: moves c's changed rectangles since its last call into rects
 * (at most max; more are merged into their union) and returns their count. *bounds, if not
 * NULL, receives the union (0x0 when nothing changed). A consumer notices a resize by the
 * surface's generation (after one, its region is the whole surface). */
int hg_display_take_dirty(HgDisplayConsumer *c, HgRect *rects, int max, HgRect *bounds);
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
