/* Serial input without loss (engine/hw/uart16550.c, host-side queue): 10,000 bytes given
 * to COM1 at once reach a guest that polls the line status slowly and echoes each byte on
 * the debug console, in order and complete, with the FIFO disabled (one byte of buffer)
 * and enabled (16), on the caller's thread and through the emulation thread in chunks.
 * A reset drops what still waits. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "hangar.h"

enum { PASTE = 10000 };

typedef struct Output {
    GMutex lock;
    GString *text;
    GString *messages;
} Output;

static void con_out(void *opaque, uint8_t byte)
{
    Output *o = opaque;
    g_mutex_lock(&o->lock);
    g_string_append_c(o->text, (char)byte);
    g_mutex_unlock(&o->lock);
}

static void message(void *opaque, int level, const char *text)
{
    Output *o = opaque;
    g_mutex_lock(&o->lock);
    g_string_append_printf(o->messages, "%s\n", text);
    g_mutex_unlock(&o->lock);
}

/* Real-mode code at F000:FEF0 (the reset vector jumps there):
 *      mov dx,0x3fa ; mov al,FCR ; out dx,al      FIFO off (0) or on (1)
 * next: mov dx,0x3fd
 * wait: in al,dx ; test al,1 ; jz wait           LSR.DR
 *      mov dx,0x3f8 ; in al,dx ; test al,al ; jz done
 *      out 0xe9,al ; mov cx,300 ; loop $ ; jmp next   a slow reader
 * done: mov al,0 ; out 0xf4,al ; hlt */
static const uint8_t reader[] = {
    0xba, 0xfa, 0x03, 0xb0, 0x00, 0xee, 0xba, 0xfd, 0x03, 0xec, 0xa8, 0x01,
    0x74, 0xfb, 0xba, 0xf8, 0x03, 0xec, 0x84, 0xc0, 0x74, 0x09, 0xe6, 0xe9,
    0xb9, 0x2c, 0x01, 0xe2, 0xfe, 0xeb, 0xe7, 0xb0, 0x00, 0xe6, 0xf4, 0xf4,
};
enum { FCR_OFFSET = 4 };

static char *write_rom(uint8_t fcr)
{
    uint8_t *rom = g_malloc(0x10000);
    memset(rom, 0xf4, 0x10000);
    memcpy(rom + 0xfef0, reader, sizeof(reader));
    rom[0xfef0 + FCR_OFFSET] = fcr;
    rom[0xfff0] = 0xe9; /* jmp near 0xfef0 */
    int16_t rel = (int16_t)(0xfef0 - 0xfff3);
    memcpy(rom + 0xfff1, &rel, 2);
    char *path = NULL;
    int fd = g_file_open_tmp("hangar-serial-XXXXXX", &path, NULL);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(write(fd, rom, 0x10000), ==, 0x10000);
    close(fd);
    g_free(rom);
    return path;
}

static HgMachine *make(const char *rom, Output *o)
{
    HgConfig cfg;
    hg_config_init(&cfg);
    cfg.bios = g_strdup(rom);
    cfg.debug_exit = true;
    cfg.clock = HG_CLOCK_ICOUNT;
    cfg.memory_mib = 4;
    HgMachineHooks hooks = {.opaque = o, .debugcon_out = con_out, .message = message};
    GError *error = NULL;
    HgMachine *m = hg_machine_new(&cfg, &hooks, &error);
    g_assert_no_error(error);
    hg_config_clear(&cfg);
    return m;
}

/* PASTE bytes 1..255 in a pattern that is not periodic in 16 (so a lost or repeated FIFO
 * load shows), then the 0 that ends the guest. */
static uint8_t *make_paste(void)
{
    uint8_t *p = g_malloc(PASTE + 1);
    for (int i = 0; i < PASTE; i++)
        p[i] = (uint8_t)(1 + (i * 7 + i / 251) % 255);
    p[PASTE] = 0;
    return p;
}

static void check_echo(Output *o, const uint8_t *paste)
{
    g_assert_cmpuint(o->text->len, ==, PASTE);
    for (int i = 0; i < PASTE; i++)
        if ((uint8_t)o->text->str[i] != paste[i])
            g_error("byte %d: guest read %u, expected %u", i, (uint8_t)o->text->str[i], paste[i]);
}

static void run_sync(uint8_t fcr)
{
    g_autofree char *rom = write_rom(fcr);
    Output o = {.text = g_string_new(NULL), .messages = g_string_new(NULL)};
    g_mutex_init(&o.lock);
    HgMachine *m = make(rom, &o);
    g_autofree uint8_t *paste = make_paste();
    hg_machine_serial_input(m, 0, paste, PASTE + 1);
    g_assert_cmpint(hg_machine_run(m, 100000000), ==, HG_RUN_EXITED);
    check_echo(&o, paste);
    g_test_message("%s: %d bytes in %" G_GUINT64_FORMAT " guest instructions",
                   fcr ? "FIFO" : "no FIFO", PASTE, hg_machine_icount(m));
    g_assert_nonnull(strstr(o.messages->str, "debug-exit"));
    hg_machine_free(m);
    g_unlink(rom);
    g_string_free(o.text, TRUE);
    g_string_free(o.messages, TRUE);
    g_mutex_clear(&o.lock);
}

static void test_no_fifo(void)
{
    run_sync(0x00);
}

static void test_fifo(void)
{
    run_sync(0x01);
}

/* The same through the emulation thread, from another thread, in chunks of 97 bytes. */
static void test_threaded(void)
{
    g_autofree char *rom = write_rom(0);
    Output o = {.text = g_string_new(NULL), .messages = g_string_new(NULL)};
    g_mutex_init(&o.lock);
    HgMachine *m = make(rom, &o);
    g_autofree uint8_t *paste = make_paste();
    g_assert_true(hg_machine_start(m, NULL));
    for (size_t at = 0; at <= PASTE; at += 97)
        hg_machine_serial_input_async(m, 0, paste + at, MIN(97, PASTE + 1 - at));
    hg_machine_join(m);
    g_assert_cmpint(hg_machine_state(m), ==, HG_STATE_FINISHED);
    check_echo(&o, paste);
    hg_machine_free(m);
    g_unlink(rom);
    g_string_free(o.text, TRUE);
    g_string_free(o.messages, TRUE);
    g_mutex_clear(&o.lock);
}

/* A reset drops the bytes still waiting: after it the guest reads only what comes next. */
static void test_reset_drops(void)
{
    g_autofree char *rom = write_rom(0);
    Output o = {.text = g_string_new(NULL), .messages = g_string_new(NULL)};
    g_mutex_init(&o.lock);
    HgMachine *m = make(rom, &o);
    const uint8_t before[] = "abcdef";
    hg_machine_serial_input(m, 0, before, 6);
    hg_machine_reset(m);
    const uint8_t after[] = "xyz";
    hg_machine_serial_input(m, 0, after, 4); /* with its 0 */
    g_assert_cmpint(hg_machine_run(m, 1000000), ==, HG_RUN_EXITED);
    g_assert_cmpstr(o.text->str, ==, "xyz");
    hg_machine_free(m);
    g_unlink(rom);
    g_string_free(o.text, TRUE);
    g_string_free(o.messages, TRUE);
    g_mutex_clear(&o.lock);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/serial-input/no-fifo", test_no_fifo);
    g_test_add_func("/serial-input/fifo", test_fifo);
    g_test_add_func("/serial-input/threaded", test_threaded);
    g_test_add_func("/serial-input/reset-drops", test_reset_drops);
    return g_test_run();
}
