/* The Cirrus CL-GD5446 bitblt engine and hardware cursor as a guest drives them: runs the
 * bare-metal program tests/cirrus/cirrus-blt.asm (its path in $CIRRUS_BLT_BIN) as the
 * firmware of a whole machine, and checks what it did against a reference computed here.
 *
 * The reference is written from the register descriptions of the CL-GD5446 Technical
 * Reference Manual ("BitBLT Engine", GR20-GR35; "Hardware Cursor", SR10-SR13 and the
 * hidden DAC entries) and from the GR32 raster-operation codes as the XFree86 cirrus
 * driver (and other 54xx drivers, and 86Box) map the sixteen X11 functions onto them; it
 * shares no code with engine/hw/cirrus*.c. Where the manual is not at hand (GR33 bit 1
 * turning the transparency of colour expansion around) it follows what QEMU and 86Box
 * agree on. The program's table of cases is read from the program
 * itself (after its signature), so the two cannot drift apart.
 *
 * For every case the program prints the CRC-32 of the work window (and of the first and
 * last 16 KiB of video memory for hostile cases) as the emulated CPU reads it back; the
 * reference gives the same numbers or the test fails, naming the case. At the end the
 * whole of video memory must equal the reference byte for byte, and each hardware cursor
 * state must appear in the display exactly where and in the colours the reference says.
 * Hostile cases (sizes, pitches and addresses past video memory, backward blits below
 * address 0, floods of CPU data) are part of the run: under AddressSanitizer (the
 * project's sanitizer build) any access outside video memory ends the test. */
#include <glib.h>
#include <string.h>
#include <zlib.h>

#include "board.h"
#include "display.h"
#include "hangar.h"
#include "hw/vga.h"
#include "machine-internal.h"

enum {
    VRAM = 4u << 20,
    WIN_W = 0x100000,
    WIN_LEN = 0x4000,
    WIN_E = VRAM - WIN_LEN,
    REC_SIZE = 40,
    SCREEN_W = 640,
    SCREEN_H = 480,
    CURSOR_AREA = VRAM - 16 * 1024,
    FEED_MAX = 1u << 20, /* dwords of CPU data in one case */
};

/* The generator seeds of the program. */
#define SEED_VRAM 0x12345678u
#define SEED_FILL 0x5eed0000u
#define SEED_FEED 0xda7a0000u
#define SEED_CURSOR32 0xc0c0c0c0u
#define SEED_CURSOR64 0xc0c0c0c1u

/* Record flags and paths (see the program's header). */
enum {
    F_HOSTILE = 1,
    F_LOWENT = 2,
    D_MASK = 0x30,
    D_APERTURE = 0x10,
};

/* GR30 bits. */
enum {
    M_BACKWARD = 0x01,
    M_TO_SYSTEM = 0x02,
    M_FROM_SYSTEM = 0x04,
    M_TRANSPARENT = 0x08,
    M_PATTERN = 0x40,
    M_EXPAND = 0x80,
};

typedef struct Case {
    uint32_t dst, src, w, h, dpitch, spitch, fg, bg, feed;
    uint8_t mode, modeext, rop, skip, path, flags;
    uint16_t tcolor;
} Case;

static uint32_t lcg(uint32_t *x)
{
    *x = *x * 1664525u + 1013904223u;
    return *x;
}

static void fill(uint8_t *m, uint32_t at, uint32_t bytes, uint32_t *x)
{
    for (uint32_t i = 0; i < bytes; i += 4) {
        uint32_t v = lcg(x);
        for (int k = 0; k < 4; k++)
            m[at + i + k] = (uint8_t)(v >> (8 * k));
    }
}

static uint32_t rd32(const uint8_t *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* --- The reference blitter ------------------------------------------------------------- */

/* GR32: the sixteen raster operations (S source, D destination). */
static uint8_t raster(uint8_t code, uint8_t s, uint8_t d)
{
    switch (code) {
    case 0x00: return 0x00;               /* 0 */
    case 0x05: return s & d;              /* S and D */
    case 0x06: return d;                  /* D */
    case 0x09: return s & (uint8_t)~d;    /* S and not D */
    case 0x0b: return (uint8_t)~d;        /* not D */
    case 0x0d: return s;                  /* S */
    case 0x0e: return 0xff;               /* 1 */
    case 0x50: return (uint8_t)(~s & d);  /* not S and D */
    case 0x59: return s ^ d;              /* S xor D */
    case 0x6d: return s | d;              /* S or D */
    case 0x90: return (uint8_t)(~s & ~d); /* not S and not D (nor) */
    case 0x95: return (uint8_t) ~(s ^ d); /* not (S xor D) */
    case 0xad: return s | (uint8_t)~d;    /* S or not D */
    case 0xd0: return (uint8_t)~s;        /* not S */
    case 0xd6: return (uint8_t)(~s | d);  /* not S or D */
    case 0xda: return (uint8_t)(~s | ~d); /* not S or not D (nand) */
    default: g_assert_not_reached();
    }
}

typedef struct Ref {
    uint8_t *m;
    const Case *c;
    int bpp;
    uint32_t npix;
    uint32_t left; /* bytes of each line that colour expansion and patterns leave alone */
} Ref;

/* Pixel p of line y. */
static void put(Ref *r, uint32_t y, uint32_t p, uint32_t colour, bool clip_left)
{
    uint32_t at = r->c->dst + y * r->c->dpitch + p * r->bpp;
    for (int k = 0; k < r->bpp; k++)
        if (!clip_left || p * r->bpp + k >= r->left)
            r->m[at + k] = raster(r->c->rop, (uint8_t)(colour >> (8 * k)), r->m[at + k]);
}

/* The blit stays wholly inside video memory: [addr, addr + extent], or [addr - extent,
 * addr] for backward blits, whose addresses name the last byte. */
static bool inside(uint32_t addr, uint32_t pitch, uint32_t w, uint32_t h, bool backward)
{
    uint64_t extent = (uint64_t)(h - 1) * pitch + w - 1;
    if (backward)
        return addr < VRAM && extent <= addr;
    return addr + extent < VRAM;
}

/* One line of monochrome data: bit 7 of the first byte is pixel 0. */
static void expand_line(Ref *r, uint32_t y, const uint8_t *bits, bool pattern)
{
    const Case *c = r->c;
    for (uint32_t p = 0; p < r->npix; p++) {
        uint32_t n = pattern ? (p & 7) : p;
        bool set = (bits[n / 8] >> (7 - n % 8)) & 1;
        /* Transparency leaves out the 0 bits, or with GR33 bit 1 the 1 bits. */
        if ((c->mode & M_TRANSPARENT) && set == ((c->modeext & 0x02) != 0))
            continue;
        put(r, y, p, set ? c->fg : c->bg, true);
    }
}

/* A colour pattern is 8 lines of 8 pixels; a 24 bpp line takes 32 bytes. */
static uint32_t pattern_line_bytes(int bpp)
{
    return bpp == 3 ? 32 : 8u * bpp;
}

static void pattern_blit(Ref *r, const uint8_t *pat, uint32_t first_line)
{
    const Case *c = r->c;
    for (uint32_t y = 0; y < c->h; y++) {
        uint32_t line = (first_line + y) % 8;
        if (c->mode & M_EXPAND) {
            expand_line(r, y, &pat[line], true);
            continue;
        }
        for (uint32_t p = 0; p < r->npix; p++) {
            const uint8_t *s = pat + line * pattern_line_bytes(r->bpp) + (p % 8) * r->bpp;
            uint32_t colour = 0;
            for (int k = 0; k < r->bpp; k++)
                colour |= (uint32_t)s[k] << (8 * k);
            put(r, y, p, colour, true);
        }
    }
}

/* The colour key (GR34/GR35) compares whole source pixels, 8 or 16 bpp. */
static bool keyed(const Ref *r, uint32_t pixel)
{
    const Case *c = r->c;
    if (!(c->mode & M_TRANSPARENT) || r->bpp > 2)
        return false;
    return pixel == (r->bpp == 2 ? c->tcolor : (c->tcolor & 0xffu));
}

/* A forward copy line from src (video memory or the CPU's data). */
static void copy_line(Ref *r, uint32_t y, const uint8_t *src)
{
    const Case *c = r->c;
    uint8_t *d = r->m + c->dst + y * c->dpitch;
    for (uint32_t i = 0; i < c->w; i++) {
        uint32_t first = i - i % r->bpp;
        uint32_t pixel = src[first];
        if (r->bpp == 2)
            pixel |= (uint32_t)src[first + 1] << 8;
        if (keyed(r, pixel))
            continue;
        d[i] = raster(c->rop, src[i], d[i]);
    }
}

/* Runs case c on memory m with the CPU's data (len bytes); returns the bytes the blit took
 * from that data. A system-to-screen blit still waiting for data leaves the engine busy:
 * GR31 then reads 0x13 (busy, started, FIFO in use). */
static uint32_t ref_blit(uint8_t *m, const Case *c, const uint8_t *data, uint32_t len, bool *busy)
{
    Ref r = {.m = m, .c = c, .bpp = ((c->mode >> 4) & 3) + 1};
    r.npix = c->w / r.bpp;
    /* GR2F counts pixels (bits 0-2), at 24 bpp bytes (bits 0-4). */
    r.left = r.bpp == 3 ? c->skip & 0x1fu : (c->skip & 7u) * r.bpp;
    bool backward = (c->mode & M_BACKWARD) && !(c->mode & (M_FROM_SYSTEM | M_PATTERN | M_EXPAND));
    if (c->mode & M_TO_SYSTEM)
        return 0; /* video to system memory: not done */
    if (!inside(c->dst, c->dpitch, c->w, c->h, backward))
        return 0;
    if ((c->modeext & 0x04) &&
        (c->mode & (M_TRANSPARENT | M_PATTERN | M_EXPAND)) == (M_PATTERN | M_EXPAND)) {
        /* Solid fill with the foreground colour. */
        for (uint32_t y = 0; y < c->h; y++)
            for (uint32_t p = 0; p < r.npix; p++)
                put(&r, y, p, c->fg, false);
        return 0;
    }
    uint32_t mono_bytes = (r.npix + 7) / 8;
    if (c->mode & M_FROM_SYSTEM) {
        if (c->mode & M_PATTERN) {
            uint32_t need = (c->mode & M_EXPAND) ? 8 : 8 * pattern_line_bytes(r.bpp);
            if (len < need) {
                *busy = true; /* everything sent is in the engine, waiting for more */
                return len;
            }
            pattern_blit(&r, data, 0);
            return need;
        }
        uint32_t line = (c->mode & M_EXPAND) ? mono_bytes : (c->w + 3) & ~3u;
        if ((c->mode & M_EXPAND) && (c->modeext & 0x01))
            line = (line + 3) & ~3u; /* dword granularity */
        uint32_t y = 0;
        for (; y < c->h && (y + 1) * line <= len; y++) {
            if (c->mode & M_EXPAND)
                expand_line(&r, y, data + y * line, false);
            else
                copy_line(&r, y, data + y * line);
        }
        *busy = y < c->h;
        return *busy ? len : y * line;
    }
    if (c->mode & M_PATTERN) {
        /* A pattern sits on a boundary of its size; a monochrome pattern's first line is
         * the source address' low three bits, a colour pattern starts at line 0. */
        bool mono = c->mode & M_EXPAND;
        uint32_t size = mono ? 8 : 8 * pattern_line_bytes(r.bpp);
        uint32_t base = c->src / size * size;
        uint8_t pat[256];
        memcpy(pat, m + base, size);
        pattern_blit(&r, pat, mono ? c->src % 8 : 0);
        return 0;
    }
    if (c->mode & M_EXPAND) {
        /* Monochrome source lines are packed: each starts on the next byte. */
        if ((uint64_t)c->src + (uint64_t)c->h * mono_bytes > VRAM)
            return 0;
        for (uint32_t y = 0; y < c->h; y++) {
            uint8_t bits[1024];
            memcpy(bits, m + c->src + y * mono_bytes, mono_bytes);
            expand_line(&r, y, bits, false);
        }
        return 0;
    }
    if (!inside(c->src, c->spitch, c->w, c->h, backward))
        return 0;
    for (uint32_t y = 0; y < c->h; y++) {
        if (!backward) {
            copy_line(&r, y, m + c->src + y * c->spitch);
            continue;
        }
        /* Backward: from the last byte down; the last byte is the high byte of the line's
         * last pixel. */
        uint32_t d = c->dst - y * c->dpitch, s = c->src - y * c->spitch;
        for (uint32_t i = 0; i < c->w; i++) {
            uint32_t first = i - i % r.bpp;
            uint32_t pixel = m[s - first];
            if (r.bpp == 2)
                pixel = pixel << 8 | m[s - first - 1];
            if (keyed(&r, pixel))
                continue;
            m[d - i] = raster(c->rop, m[s - i], m[d - i]);
        }
    }
    return 0;
}

/* --- The program's table ---------------------------------------------------------------- */

static Case *read_cases(const uint8_t *bin, gsize len, uint32_t *count)
{
    static const char sig[] = "CIRRUS-BLT-CASES";
    const uint8_t *p = NULL;
    for (gsize i = 0; i + 24 <= len && !p; i++)
        if (memcmp(bin + i, sig, 16) == 0)
            p = bin + i + 16;
    g_assert_nonnull(p);
    g_assert_cmpuint(rd32(p), ==, REC_SIZE);
    *count = rd32(p + 4);
    p += 8;
    g_assert_cmpuint(*count, >, 100);
    g_assert_true(p + (gsize)*count * REC_SIZE <= bin + len);
    Case *cases = g_new0(Case, *count);
    for (uint32_t i = 0; i < *count; i++, p += REC_SIZE) {
        Case *c = &cases[i];
        c->dst = rd32(p);
        c->src = rd32(p + 4);
        c->w = p[8] | p[9] << 8;
        c->h = p[10] | p[11] << 8;
        c->dpitch = p[12] | p[13] << 8;
        c->spitch = p[14] | p[15] << 8;
        c->fg = rd32(p + 16);
        c->bg = rd32(p + 20);
        c->mode = p[24];
        c->modeext = p[25];
        c->rop = p[26];
        c->skip = p[27];
        c->tcolor = (uint16_t)(p[28] | p[29] << 8);
        c->path = p[30];
        c->flags = p[31];
        c->feed = rd32(p + 32);
    }
    return cases;
}

/* --- The machine ---------------------------------------------------------------------------- */

typedef struct Shot {
    char *label;
    uint32_t *px;
    int w, h;
} Shot;

typedef struct Run {
    HgMachine *m;
    GString *out, *line;
    GPtrArray *shots;
} Run;

/* Port 0xE9: at each "cursor ..." line the display is drawn and kept, as the guest sees
 * it at that moment (this runs inside the guest's OUT instruction). */
static void debugcon(void *opaque, uint8_t byte)
{
    Run *run = opaque;
    g_string_append_c(run->out, (char)byte);
    if (byte != '\n') {
        g_string_append_c(run->line, (char)byte);
        return;
    }
    if (g_str_has_prefix(run->line->str, "cursor")) {
        Shot *s = g_new0(Shot, 1);
        s->label = g_strdup(run->line->str);
        hg_vga_update(hg_board_vga(run->m->board));
        s->px = hg_display_snapshot(hg_machine_display(run->m), &s->w, &s->h);
        g_ptr_array_add(run->shots, s);
    }
    g_string_truncate(run->line, 0);
}

static void shot_free(gpointer p)
{
    Shot *s = p;
    g_free(s->label);
    g_free(s->px);
    g_free(s);
}

/* --- Cursor reference ------------------------------------------------------------------------ */

typedef struct CursorState {
    const char *label;
    bool on;
    int bpp, size, x, y;
    uint32_t pattern; /* video memory address */
    uint8_t c0[3], c15[3];
} CursorState;

static const CursorState cursor_states[] = {
    {"cursor 32 100 50", true, 16, 32, 100, 50, CURSOR_AREA + 5 * 256, {63, 20, 5}, {3, 40, 60}},
    {"cursor 64 601 445", true, 16, 64, 601, 445, CURSOR_AREA + 8 * 256, {63, 20, 5}, {3, 40, 60}},
    {"cursor 64 7 3 recoloured",
     true,
     16,
     64,
     7,
     3,
     CURSOR_AREA + 8 * 256,
     {0, 0, 63},
     {63, 63, 0}},
    {"cursor 32 0 470 at 32 bpp",
     true,
     32,
     32,
     0,
     470,
     CURSOR_AREA + 5 * 256,
     {0, 0, 63},
     {63, 63, 0}},
    {"cursor off", false, 32, 0, 0, 0, 0, {0}, {0}},
};

/* The DAC's 6-bit components to 8 bits. */
static uint32_t dac_rgb(const uint8_t *c)
{
    uint32_t v = 0;
    for (int i = 0; i < 3; i++)
        v = v << 8 | (uint32_t)(c[i] << 2 | c[i] >> 4);
    return v;
}

/* 5-6-5 pixels to 8 bits a component. */
static uint32_t rgb565(uint16_t p)
{
    uint32_t r = p >> 11, g = (p >> 5) & 63, b = p & 31;
    return (r << 3 | r >> 2) << 16 | (g << 2 | g >> 4) << 8 | (b << 3 | b >> 2);
}

static void check_cursor(const uint8_t *m, const CursorState *cs, const Shot *s)
{
    g_assert_cmpint(s->w, ==, SCREEN_W);
    g_assert_cmpint(s->h, ==, SCREEN_H);
    int kinds[4] = {0};
    for (int y = 0; y < SCREEN_H; y++) {
        for (int x = 0; x < SCREEN_W; x++) {
            uint32_t want;
            if (cs->bpp == 16) {
                const uint8_t *a = m + y * 1280 + x * 2;
                want = rgb565((uint16_t)(a[0] | a[1] << 8));
            } else {
                const uint8_t *a = m + y * 2560 + x * 4; /* blue, green, red, unused */
                want = (uint32_t)a[2] << 16 | a[1] << 8 | a[0];
            }
            int cx = x - cs->x, cy = y - cs->y;
            if (cs->on && cx >= 0 && cx < cs->size && cy >= 0 && cy < cs->size) {
                /* 32x32: plane 0 in 4 bytes a line, plane 1 128 bytes later; 64x64: 16
                 * bytes a line, plane 0 then plane 1. */
                uint32_t line = cs->pattern + cy * (cs->size == 32 ? 4 : 16);
                uint32_t plane1 = cs->size == 32 ? 128 : 8;
                int bit = 7 - cx % 8;
                int p0 = (m[line + cx / 8] >> bit) & 1, p1 = (m[line + plane1 + cx / 8] >> bit) & 1;
                int kind = p1 << 1 | p0;
                kinds[kind]++;
                if (kind == 1)
                    want ^= 0xffffff; /* inverts what is underneath */
                else if (kind == 2)
                    want = dac_rgb(cs->c0);
                else if (kind == 3)
                    want = dac_rgb(cs->c15);
            }
            uint32_t got = s->px[y * s->w + x];
            if (got != want)
                g_error("%s: pixel (%d, %d) is %06x, the reference says %06x", cs->label, x, y, got,
                        want);
        }
    }
    if (cs->on) {
        g_test_message("%s: %d transparent, %d inverted, %d colour 0, %d colour 15 pixels",
                       cs->label, kinds[0], kinds[1], kinds[2], kinds[3]);
        for (int k = 0; k < 4; k++)
            g_assert_cmpint(kinds[k], >, 20);
    }
}

/* --- The test ------------------------------------------------------------------------------- */

static void test_guest(void)
{
    const char *bin_path = g_getenv("CIRRUS_BLT_BIN");
    if (!bin_path) {
        g_test_skip("CIRRUS_BLT_BIN is not set (meson test sets it)");
        return;
    }
    gchar *bin = NULL;
    gsize bin_len = 0;
    g_assert_true(g_file_get_contents(bin_path, &bin, &bin_len, NULL));
    uint32_t ncases;
    Case *cases = read_cases((const uint8_t *)bin, bin_len, &ncases);
    g_free(bin);

    HgConfig cfg;
    hg_config_init(&cfg);
    cfg.bios = g_strdup(bin_path);
    cfg.memory_mib = 32;
    cfg.clock = HG_CLOCK_ICOUNT;
    cfg.debug_exit = true;
    cfg.no_reboot = true;
    cfg.vga = HG_VGA_MODEL_CIRRUS;
    Run run = {.out = g_string_new(NULL),
               .line = g_string_new(NULL),
               .shots = g_ptr_array_new_with_free_func(shot_free)};
    HgMachineHooks hooks = {.opaque = &run, .debugcon_out = debugcon};
    GError *error = NULL;
    run.m = hg_machine_new(&cfg, &hooks, &error);
    g_assert_no_error(error);
    hg_config_clear(&cfg);
    HgRunResult res = HG_RUN_BUDGET;
    for (int i = 0; i < 2000 && res == HG_RUN_BUDGET; i++)
        res = hg_machine_run(run.m, 1000000);
    g_assert_cmpint(res, ==, HG_RUN_EXITED);
    g_assert_cmpint(hg_machine_exit_status(run.m), ==, 1);
    gchar **lines = g_strsplit(run.out->str, "\n", -1);
    g_assert_true(g_str_has_prefix(lines[0], "cirrus at devfn 10"));

    /* The reference, case by case, against what the guest read back. */
    uint8_t *m = g_malloc(VRAM);
    uint32_t x = SEED_VRAM;
    fill(m, 0, VRAM, &x);
    uint8_t *data = g_malloc(FEED_MAX * 4);
    for (uint32_t i = 0; i < ncases; i++) {
        const Case *c = &cases[i];
        x = SEED_FILL + i;
        fill(m, WIN_W, WIN_LEN, &x);
        if (c->flags & F_LOWENT)
            for (uint32_t k = 0; k < WIN_LEN; k++)
                m[WIN_W + k] &= 3;
        if (c->flags & F_HOSTILE) {
            fill(m, 0, WIN_LEN, &x);
            fill(m, WIN_E, WIN_LEN, &x);
        }
        uint32_t len = 0;
        if (c->mode & M_FROM_SYSTEM) {
            g_assert_cmpuint(c->feed, <=, FEED_MAX);
            x = SEED_FEED + i;
            len = 4 * c->feed;
            fill(data, 0, len, &x);
        }
        bool busy = false;
        uint32_t used = ref_blit(m, c, data, len, &busy);
        /* Data past what a blit takes goes to memory through the 0xA0000 window or the
         * linear aperture, and nowhere through the blit aperture; the table only sends
         * extra data through the latter. */
        if (used < len && (c->path & D_MASK) != D_APERTURE)
            g_error("case %u sends %u bytes the blit does not take through a memory path", i,
                    len - used);

        char want[80];
        uint32_t crc_w = (uint32_t)crc32(0, m + WIN_W, WIN_LEN);
        if (c->flags & F_HOSTILE)
            g_snprintf(want, sizeof(want), "c %04x %02x %08x %08x %08x", i, busy ? 0x13 : 0,
                       (uint32_t)crc32(0, m, WIN_LEN), crc_w,
                       (uint32_t)crc32(0, m + WIN_E, WIN_LEN));
        else
            g_snprintf(want, sizeof(want), "c %04x %02x %08x", i, busy ? 0x13 : 0, crc_w);
        const char *got = lines[1 + i];
        g_assert_nonnull(got);
        if (strcmp(got, want) != 0)
            g_error("case %u (dst %06x src %06x w %u h %u pitches %u/%u mode %02x ext %02x "
                    "rop %02x skip %u): the guest read \"%s\", the reference says \"%s\"",
                    i, c->dst, c->src, c->w, c->h, c->dpitch, c->spitch, c->mode, c->modeext,
                    c->rop, c->skip, got, want);
    }
    char want[40];
    g_snprintf(want, sizeof(want), "vram %08x", (uint32_t)crc32(0, m, VRAM));
    g_assert_cmpstr(lines[1 + ncases], ==, want);

    /* The cursor patterns the program writes, then all of video memory. */
    x = SEED_CURSOR32;
    fill(m, CURSOR_AREA + 5 * 256, 256, &x);
    x = SEED_CURSOR64;
    fill(m, CURSOR_AREA + 8 * 256, 1024, &x);
    uint32_t vram_size;
    const uint8_t *vram = hg_vga_vram(hg_board_vga(run.m->board), &vram_size);
    g_assert_cmpuint(vram_size, ==, VRAM);
    for (uint32_t i = 0; i < VRAM; i++)
        if (vram[i] != m[i])
            g_error("video memory at %06x is %02x, the reference says %02x", i, vram[i], m[i]);

    /* The hardware cursor in the display. */
    g_assert_cmpuint(run.shots->len, ==, G_N_ELEMENTS(cursor_states));
    for (guint i = 0; i < run.shots->len; i++) {
        const Shot *s = g_ptr_array_index(run.shots, i);
        g_assert_cmpstr(s->label, ==, cursor_states[i].label);
        check_cursor(m, &cursor_states[i], s);
    }
    /* The hidden DAC entries read back as written; the ordinary entry 0 untouched. */
    g_assert_cmpstr(lines[1 + ncases + 1], ==, "hidden dac 3f1405 03283c dac 000000");
    g_assert_cmpstr(lines[1 + ncases + 2 + run.shots->len], ==, "done");

    g_strfreev(lines);
    g_free(data);
    g_free(m);
    g_free(cases);
    hg_machine_free(run.m);
    g_ptr_array_unref(run.shots);
    g_string_free(run.out, TRUE);
    g_string_free(run.line, TRUE);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/cirrus/guest-blits-and-cursor", test_guest);
    return g_test_run();
}
