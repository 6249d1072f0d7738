/* Screenshots (engine/screendump.c, the monitor's screendump): SeaBIOS boots to its banner
 * in VGA text mode, the display is saved as a PNG, and the PNG, read back with libpng, must
 * show the banner row's characters as the VGA draws them: for every character cell the
 * glyph from the font in the card's plane 2, dot by dot, foreground where the font has a
 * bit and background elsewhere. The reference is the font in video memory, not a stored
 * image. Also: monitor errors for unwritable paths, no temporary file left behind. */
#include <glib.h>
#include <glib/gstdio.h>
#include <png.h>
#include <string.h>

#include "board.h"
#include "display.h"
#include "hangar.h"
#include "hw/vga.h"
#include "machine-internal.h"

typedef struct Image {
    int width, height;
    uint32_t *px; /* 0x00RRGGBB */
} Image;

static bool read_png(const char *path, Image *img)
{
    png_image pi;
    memset(&pi, 0, sizeof(pi));
    pi.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&pi, path))
        return false;
    pi.format = PNG_FORMAT_RGB;
    uint8_t *buf = g_malloc(PNG_IMAGE_SIZE(pi));
    if (!png_image_finish_read(&pi, NULL, buf, 0, NULL)) {
        g_free(buf);
        return false;
    }
    img->width = (int)pi.width;
    img->height = (int)pi.height;
    img->px = g_new(uint32_t, (size_t)img->width * img->height);
    for (size_t i = 0; i < (size_t)img->width * img->height; i++)
        img->px[i] = (uint32_t)buf[i * 3] << 16 | (uint32_t)buf[i * 3 + 1] << 8 | buf[i * 3 + 2];
    g_free(buf);
    return true;
}

static char *monitor(HgMachine *m, const char *line)
{
    GString *out = g_string_new(NULL);
    hg_monitor_execute(m, line, out);
    return g_string_free(out, FALSE);
}

static void test_banner_glyphs(void)
{
    if (!g_file_test("/usr/share/seabios/bios-256k.bin", G_FILE_TEST_EXISTS)) {
        g_test_skip("Debian's seabios is not installed");
        return;
    }
    HgConfig cfg;
    hg_config_init(&cfg);
    cfg.memory_mib = 32;
    cfg.clock = HG_CLOCK_ICOUNT;
    GError *error = NULL;
    HgMachine *m = hg_machine_new(&cfg, NULL, &error);
    g_assert_no_error(error);
    hg_config_clear(&cfg);

    char *dir = g_dir_make_tmp("hangar-screendump-XXXXXX", &error);
    g_assert_no_error(error);
    char *path = g_build_filename(dir, "screen.png", NULL);

    /* Run until the banner is on the text screen. */
    int banner = -1;
    gchar **lines = NULL;
    for (int i = 0; i < 40 && banner < 0; i++) {
        hg_machine_run(m, 10000000);
        g_strfreev(lines);
        lines = hg_display_text_dump(hg_machine_display(m));
        for (int r = 0; lines && lines[r]; r++)
            if (strstr(lines[r], "SeaBIOS (version"))
                banner = r;
    }
    g_assert_cmpint(banner, >=, 0);
    int rows = (int)g_strv_length(lines);

    char *cmd = g_strdup_printf("screendump '%s'", path);
    char *out = monitor(m, cmd);
    g_assert_cmpstr(out, ==, "");
    g_free(out);
    g_free(cmd);

    Image img = {0};
    g_assert_true(read_png(path, &img));
    g_test_message("screenshot %dx%d, %d text rows, banner on row %d", img.width, img.height, rows,
                   banner);

    /* Geometry of the standard 80x25 text mode: 9-dot cells, 16 scan lines. */
    uint32_t vram_size;
    const uint8_t *vram = hg_vga_vram(hg_board_vga(m->board), &vram_size);
    const int cols = 80, cw = 9, chh = 16;
    g_assert_cmpint(img.width, ==, cols * cw);
    g_assert_cmpint(img.height, ==, 25 * chh);
    g_assert_cmpint(rows, <=, 25);

    /* VRAM is stored plane-interleaved: byte 4 * offset + plane. The screen starts at
     * offset 0 (CRTC start address 0 after the BIOS set mode 3); in odd/even mode the
     * character of cell n is at plane-0 offset 2n (the CRTC's word mode doubles the
     * address) and its attribute at the same offset of plane 1. Character maps A = B = 0
     * at plane-2 offset 0, 32 bytes a glyph. */
    int checked = 0, lit = 0;
    uint32_t fg_of[256], bg_of[256];
    bool seen[256] = {false};
    for (int c = 0; c < cols; c++) {
        uint32_t a = 2u * (uint32_t)(banner * cols + c);
        uint8_t ch = vram[a * 4], attr = vram[a * 4 + 1];
        /* The same character as the text dump shows. */
        gunichar want = hg_cp437_to_unicode(ch);
        const char *p = lines[banner];
        gunichar got = ' ';
        for (int i = 0; *p && i <= c; i++, p = g_utf8_next_char(p))
            if (i == c)
                got = g_utf8_get_char(p);
        g_assert_cmpuint(got, ==, want);

        /* Foreground and background of the cell: the first lit and unlit dots. */
        uint32_t fg = 0, bg = 0;
        bool have_fg = false, have_bg = false;
        for (int s = 0; s < chh; s++) {
            uint8_t bits = vram[((uint32_t)ch * 32 + s) * 4 + 2];
            for (int b = 0; b < cw; b++) {
                bool on = b < 8 ? (bits & (0x80 >> b)) : false;
                uint32_t pix = img.px[(size_t)(banner * chh + s) * img.width + c * cw + b];
                if (on && !have_fg) {
                    fg = pix;
                    have_fg = true;
                } else if (!on && !have_bg) {
                    bg = pix;
                    have_bg = true;
                }
                if (on) {
                    if (pix != fg)
                        g_error("cell %d ('%c') scan %d dot %d: foreground %06x, expected %06x", c,
                                ch, s, b, pix, fg);
                    lit++;
                } else if (pix != bg) {
                    g_error("cell %d ('%c') scan %d dot %d: background %06x, expected %06x", c, ch,
                            s, b, pix, bg);
                }
                checked++;
            }
        }
        g_assert_true(have_bg);
        if (have_fg)
            g_assert_cmphex(fg, !=, bg);
        /* One colour pair per attribute across the row. */
        if (seen[attr]) {
            g_assert_cmphex(bg, ==, bg_of[attr]);
            if (have_fg && fg_of[attr] != 0xffffffffu)
                g_assert_cmphex(fg, ==, fg_of[attr]);
        } else {
            seen[attr] = true;
            bg_of[attr] = bg;
            fg_of[attr] = have_fg ? fg : 0xffffffffu;
        }
        if (have_fg)
            fg_of[attr] = fg;
    }
    /* SeaBIOS writes with attribute 0x07: light grey on black through the default
     * palette. */
    g_assert_true(seen[7]);
    g_assert_cmphex(bg_of[7], ==, 0);
    g_assert_cmphex(fg_of[7] >> 16, ==, fg_of[7] & 0xff);
    g_assert_cmphex(fg_of[7] & 0xff, >, 0x80);
    /* "SeaBIOS (version ...)" lights a good number of dots. */
    g_test_message("%d dots compared, %d lit", checked, lit);
    g_assert_cmpint(lit, >, 300);

    /* No temporary file is left next to the picture. */
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *name;
    int files = 0;
    while ((name = g_dir_read_name(d)))
        files++;
    g_dir_close(d);
    g_assert_cmpint(files, ==, 1);

    /* Errors: clear messages, nothing written. */
    out = monitor(m, "screendump /nonexistent-dir/x.png");
    g_assert_nonnull(strstr(out, "screendump: cannot create a file in /nonexistent-dir"));
    g_free(out);
    out = monitor(m, "screendump");
    g_assert_nonnull(strstr(out, "usage: screendump FILE"));
    g_free(out);
    g_assert_false(hg_machine_screendump(m, dir, &error)); /* a folder */
    g_assert_nonnull(error);
    g_test_message("writing over a folder: %s", error->message);
    g_clear_error(&error);
    out = monitor(m, "help screendump");
    g_assert_nonnull(strstr(out, "screendump FILE"));
    g_free(out);

    g_unlink(path);
    g_rmdir(dir);
    g_free(img.px);
    g_strfreev(lines);
    g_free(path);
    g_free(dir);
    hg_machine_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/screendump/banner-glyphs", test_banner_glyphs);
    return g_test_run();
}
