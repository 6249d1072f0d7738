/* The machine's display surface (see display.h): framebuffer, resize generation, the text
 * screen and one dirty region per consumer, shared between the emulation thread and the
 * consumers under one mutex, with a second one that orders notifiers against removal.
 *
 * The producer's rectangles of one frame collect in a frame list (a renderer reports one
 * per changed scanline; consecutive ones merge), which draw_end then adds to each
 * consumer's region: the cost per reported rectangle does not grow with the number of
 * consumers.
 */
#include "display.h"

#include <string.h>

enum { MAX_DIRTY = 64 };

typedef struct DirtyList {
    HgRect r[MAX_DIRTY];
    int n;
} DirtyList;

struct HgDisplayConsumer {
    HgDisplay *d;
    HgDisplayNotify notify;
    void *opaque;
    DirtyList dirty;
    HgDisplayConsumer *next;
};

struct HgDisplay {
    GMutex lock;        /* pixels, size, dirty lists, text, the consumer list */
    GMutex notify_lock; /* held while notifiers run; add/remove take it before lock */
    uint32_t *pixels;
    int width, height;
    uint64_t generation;
    DirtyList frame;              /* reported since draw_begin */
    bool resized;                 /* since draw_begin */
    bool owner_gone;              /* hg_display_free was called */
    HgDisplayConsumer *consumers; /* changed only with both mutexes held */
    /* Text screen: cols x rows of CP437 bytes, cols == 0 in graphics modes. */
    uint8_t *text;
    int text_cols, text_rows;
    bool text_valid;
};

HgDisplay *hg_display_new(void)
{
    HgDisplay *d = g_new0(HgDisplay, 1);
    g_mutex_init(&d->lock);
    g_mutex_init(&d->notify_lock);
    d->width = d->height = 1;
    d->pixels = g_new0(uint32_t, 1);
    return d;
}

static void display_destroy(HgDisplay *d)
{
    g_mutex_clear(&d->lock);
    g_mutex_clear(&d->notify_lock);
    g_free(d->pixels);
    g_free(d->text);
    g_free(d);
}

void hg_display_free(HgDisplay *d)
{
    if (!d)
        return;
    g_mutex_lock(&d->notify_lock);
    g_mutex_lock(&d->lock);
    d->owner_gone = true;
    bool last = !d->consumers;
    g_mutex_unlock(&d->lock);
    g_mutex_unlock(&d->notify_lock);
    if (last)
        display_destroy(d);
}

static HgRect rect_union(HgRect a, HgRect b)
{
    if (a.w <= 0 || a.h <= 0)
        return b;
    if (b.w <= 0 || b.h <= 0)
        return a;
    int x0 = MIN(a.x, b.x), y0 = MIN(a.y, b.y);
    int x1 = MAX(a.x + a.w, b.x + b.w), y1 = MAX(a.y + a.h, b.y + b.h);
    return (HgRect){x0, y0, x1 - x0, y1 - y0};
}

/* Adds r (already clipped, not empty) to l. */
static void list_add(DirtyList *l, HgRect r)
{
    for (int i = 0; i < l->n; i++) {
        HgRect *o = &l->r[i];
        /* Contained, or the same columns continued downwards (the common case of a
         * renderer walking scanlines): grow the existing rectangle. */
        if (r.x >= o->x && r.y >= o->y && r.x + r.w <= o->x + o->w && r.y + r.h <= o->y + o->h)
            return;
        if (o->x == r.x && o->w == r.w && r.y <= o->y + o->h && r.y + r.h >= o->y) {
            *o = rect_union(*o, r);
            return;
        }
    }
    if (l->n == MAX_DIRTY) {
        HgRect u = r;
        for (int i = 0; i < l->n; i++)
            u = rect_union(u, l->r[i]);
        l->r[0] = u;
        l->n = 1;
        return;
    }
    l->r[l->n++] = r;
}

static void list_set_all(DirtyList *l, int width, int height)
{
    l->r[0] = (HgRect){0, 0, width, height};
    l->n = 1;
}

HgDisplayConsumer *hg_display_add_consumer(HgDisplay *d, HgDisplayNotify notify, void *opaque)
{
    HgDisplayConsumer *c = g_new0(HgDisplayConsumer, 1);
    c->d = d;
    c->notify = notify;
    c->opaque = opaque;
    g_mutex_lock(&d->notify_lock);
    g_mutex_lock(&d->lock);
    list_set_all(&c->dirty, d->width, d->height);
    c->next = d->consumers;
    d->consumers = c;
    g_mutex_unlock(&d->lock);
    g_mutex_unlock(&d->notify_lock);
    return c;
}

void hg_display_remove_consumer(HgDisplayConsumer *c)
{
    if (!c)
        return;
    HgDisplay *d = c->d;
    g_mutex_lock(&d->notify_lock);
    g_mutex_lock(&d->lock);
    for (HgDisplayConsumer **p = &d->consumers; *p; p = &(*p)->next) {
        if (*p == c) {
            *p = c->next;
            break;
        }
    }
    bool last = d->owner_gone && !d->consumers;
    g_mutex_unlock(&d->lock);
    g_mutex_unlock(&d->notify_lock);
    g_free(c);
    if (last)
        display_destroy(d);
}

HgDisplay *hg_display_consumer_display(HgDisplayConsumer *c)
{
    return c->d;
}

uint32_t *hg_display_draw_begin(HgDisplay *d, int width, int height, int *stride_px)
{
    width = CLAMP(width, 1, HG_DISPLAY_MAX_W);
    height = CLAMP(height, 1, HG_DISPLAY_MAX_H);
    g_mutex_lock(&d->lock);
    d->frame.n = 0;
    d->resized = false;
    if (width != d->width || height != d->height) {
        g_free(d->pixels);
        d->pixels = g_new0(uint32_t, (size_t)width * height);
        d->width = width;
        d->height = height;
        d->generation++;
        d->resized = true;
        /* Rectangles of the old size mean nothing now: each consumer starts over. */
        for (HgDisplayConsumer *c = d->consumers; c; c = c->next)
            list_set_all(&c->dirty, width, height);
        list_set_all(&d->frame, width, height);
    }
    *stride_px = d->width;
    return d->pixels;
}

void hg_display_draw_dirty(HgDisplay *d, int x, int y, int w, int h)
{
    int x1 = MIN(x + w, d->width), y1 = MIN(y + h, d->height);
    x = MAX(x, 0);
    y = MAX(y, 0);
    if (x1 <= x || y1 <= y)
        return;
    list_add(&d->frame, (HgRect){x, y, x1 - x, y1 - y});
}

void hg_display_draw_end(HgDisplay *d)
{
    bool changed = d->frame.n > 0, resized = d->resized, notify = false;
    if (changed && !resized) {
        for (HgDisplayConsumer *c = d->consumers; c; c = c->next) {
            for (int i = 0; i < d->frame.n; i++)
                list_add(&c->dirty, d->frame.r[i]);
            notify |= c->notify != NULL;
        }
    } else if (changed) {
        for (HgDisplayConsumer *c = d->consumers; c; c = c->next)
            notify |= c->notify != NULL;
    }
    d->frame.n = 0;
    d->resized = false;
    g_mutex_unlock(&d->lock);
    if (!notify)
        return;
    /* The list cannot change while notify_lock is held (add and remove take both). */
    g_mutex_lock(&d->notify_lock);
    for (HgDisplayConsumer *c = d->consumers; c; c = c->next)
        if (c->notify)
            c->notify(c->opaque, resized);
    g_mutex_unlock(&d->notify_lock);
}

void hg_display_set_text(HgDisplay *d, int cols, int rows, const uint8_t *chars)
{
    g_mutex_lock(&d->lock);
    if (cols <= 0 || rows <= 0 || !chars) {
        d->text_cols = d->text_rows = 0;
    } else {
        if (cols * rows != d->text_cols * d->text_rows) {
            g_free(d->text);
            d->text = g_malloc((size_t)cols * rows);
        }
        d->text_cols = cols;
        d->text_rows = rows;
        memcpy(d->text, chars, (size_t)cols * rows);
    }
    d->text_valid = true;
    g_mutex_unlock(&d->lock);
}

void hg_display_lock(HgDisplay *d, HgSurface *s)
{
    g_mutex_lock(&d->lock);
    s->width = d->width;
    s->height = d->height;
    s->stride = d->width * 4;
    s->pixels = d->pixels;
    s->generation = d->generation;
}

int hg_display_take_dirty(HgDisplayConsumer *c, HgRect *rects, int max, HgRect *bounds)
{
    DirtyList *l = &c->dirty;
    HgRect u = {0, 0, 0, 0};
    for (int i = 0; i < l->n; i++)
        u = rect_union(u, l->r[i]);
    int n = l->n;
    if (n > max) {
        if (max > 0)
            rects[0] = u;
        n = max > 0 ? 1 : 0;
    } else {
        memcpy(rects, l->r, sizeof(HgRect) * n);
    }
    l->n = 0;
    if (bounds)
        *bounds = u;
    return n;
}

void hg_display_unlock(HgDisplay *d)
{
    g_mutex_unlock(&d->lock);
}

uint64_t hg_display_generation(HgDisplay *d)
{
    g_mutex_lock(&d->lock);
    uint64_t g = d->generation;
    g_mutex_unlock(&d->lock);
    return g;
}

uint32_t *hg_display_snapshot(HgDisplay *d, int *width, int *height)
{
    g_mutex_lock(&d->lock);
    uint32_t *copy = g_memdup2(d->pixels, (size_t)d->width * d->height * 4);
    *width = d->width;
    *height = d->height;
    g_mutex_unlock(&d->lock);
    return copy;
}

/* Unicode for the CP437 control-character glyphs 0x00-0x1F (0x00, a blank cell, maps to a
 * space) and for 0x80-0xFF; 0x20-0x7E are ASCII and 0x7F is the house sign. */
static const uint16_t cp437_low[32] = {
    0x0020, 0x263A, 0x263B, 0x2665, 0x2666, 0x2663, 0x2660, 0x2022, 0x25D8, 0x25CB, 0x25D9,
    0x2642, 0x2640, 0x266A, 0x266B, 0x263C, 0x25BA, 0x25C4, 0x2195, 0x203C, 0x00B6, 0x00A7,
    0x25AC, 0x21A8, 0x2191, 0x2193, 0x2192, 0x2190, 0x221F, 0x2194, 0x25B2, 0x25BC,
};
static const uint16_t cp437_high[128] = {
    0x00C7, 0x00FC, 0x00E9, 0x00E2, 0x00E4, 0x00E0, 0x00E5, 0x00E7, 0x00EA, 0x00EB, 0x00E8, 0x00EF,
    0x00EE, 0x00EC, 0x00C4, 0x00C5, 0x00C9, 0x00E6, 0x00C6, 0x00F4, 0x00F6, 0x00F2, 0x00FB, 0x00F9,
    0x00FF, 0x00D6, 0x00DC, 0x00A2, 0x00A3, 0x00A5, 0x20A7, 0x0192, 0x00E1, 0x00ED, 0x00F3, 0x00FA,
    0x00F1, 0x00D1, 0x00AA, 0x00BA, 0x00BF, 0x2310, 0x00AC, 0x00BD, 0x00BC, 0x00A1, 0x00AB, 0x00BB,
    0x2591, 0x2592, 0x2593, 0x2502, 0x2524, 0x2561, 0x2562, 0x2556, 0x2555, 0x2563, 0x2551, 0x2557,
    0x255D, 0x255C, 0x255B, 0x2510, 0x2514, 0x2534, 0x252C, 0x251C, 0x2500, 0x253C, 0x255E, 0x255F,
    0x255A, 0x2554, 0x2569, 0x2566, 0x2560, 0x2550, 0x256C, 0x2567, 0x2568, 0x2564, 0x2565, 0x2559,
    0x2558, 0x2552, 0x2553, 0x256B, 0x256A, 0x2518, 0x250C, 0x2588, 0x2584, 0x258C, 0x2590, 0x2580,
    0x03B1, 0x00DF, 0x0393, 0x03C0, 0x03A3, 0x03C3, 0x00B5, 0x03C4, 0x03A6, 0x0398, 0x03A9, 0x03B4,
    0x221E, 0x03C6, 0x03B5, 0x2229, 0x2261, 0x00B1, 0x2265, 0x2264, 0x2320, 0x2321, 0x00F7, 0x2248,
    0x00B0, 0x2219, 0x00B7, 0x221A, 0x207F, 0x00B2, 0x25A0, 0x00A0,
};

gunichar hg_cp437_to_unicode(uint8_t c)
{
    if (c < 0x20)
        return cp437_low[c];
    if (c < 0x7f)
        return c;
    if (c == 0x7f)
        return 0x2302;
    return cp437_high[c - 0x80];
}

gchar **hg_display_text_dump(HgDisplay *d)
{
    g_mutex_lock(&d->lock);
    if (!d->text_valid || d->text_cols == 0) {
        g_mutex_unlock(&d->lock);
        return NULL;
    }
    gchar **lines = g_new0(gchar *, d->text_rows + 1);
    GString *s = g_string_new(NULL);
    for (int r = 0; r < d->text_rows; r++) {
        g_string_truncate(s, 0);
        const uint8_t *row = d->text + (size_t)r * d->text_cols;
        int len = d->text_cols;
        while (len > 0 && (row[len - 1] == 0x20 || row[len - 1] == 0 || row[len - 1] == 0xff))
            len--;
        for (int c = 0; c < len; c++)
            g_string_append_unichar(s, hg_cp437_to_unicode(row[c]));
        lines[r] = g_strdup(s->str);
    }
    g_string_free(s, TRUE);
    g_mutex_unlock(&d->lock);
    return lines;
}
