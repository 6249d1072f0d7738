/* Unit tests of the machine object and its emulation thread (engine/machine.c): a tiny
 * firmware runs, prints on the debug console and exits through the debug-exit port;
 * commands reach the thread; many machines live in one process. */
#include <glib.h>
#include <glib/gstdio.h>

#include "hangar.h"

typedef struct Output {
    GMutex lock;
    GString *text;
} Output;

static void con_out(void *opaque, uint8_t byte)
{
    Output *o = opaque;
    g_mutex_lock(&o->lock);
    g_string_append_c(o->text, (char)byte);
    g_mutex_unlock(&o->lock);
}

/* A 64 KiB firmware whose reset vector (F000:FFF0) runs code. */
static char *write_rom(const uint8_t *code, size_t len)
{
    uint8_t *rom = g_malloc(0x10000);
    memset(rom, 0xf4, 0x10000);
    memcpy(rom + 0xfff0 - 0x100, code, len);
    /* At 0xFFF0: jmp near to 0xFEF0, where the code is. */
    rom[0xfff0] = 0xe9;
    int16_t rel = (int16_t)(0xfef0 - 0xfff3);
    memcpy(rom + 0xfff1, &rel, 2);
    char *path = NULL;
    int fd = g_file_open_tmp("hangar-rom-XXXXXX", &path, NULL);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(write(fd, rom, 0x10000), ==, 0x10000);
    close(fd);
    g_free(rom);
    return path;
}

static HgMachine *make(const char *rom, Output *o, HgClockMode clock)
{
    HgConfig cfg;
    hg_config_init(&cfg);
    cfg.bios = g_strdup(rom);
    cfg.debug_exit = true;
    cfg.clock = clock;
    cfg.memory_mib = 4;
    HgMachineHooks hooks = {.opaque = o, .debugcon_out = con_out};
    GError *error = NULL;
    HgMachine *m = hg_machine_new(&cfg, &hooks, &error);
    g_assert_no_error(error);
    hg_config_clear(&cfg);
    return m;
}

/* mov al,'H'; out 0xe9,al; mov al,'i'; out 0xe9,al; mov al,5; out 0xf4,al */
static const uint8_t hello[] = {0xb0, 'H', 0xe6, 0xe9, 0xb0, 'i', 0xe6, 0xe9,
                                0xb0, 5,   0xe6, 0xf4, 0xf4};

static void test_sync_run(void)
{
    char *rom = write_rom(hello, sizeof(hello));
    Output o = {.text = g_string_new(NULL)};
    g_mutex_init(&o.lock);
    HgMachine *m = make(rom, &o, HG_CLOCK_ICOUNT);
    g_assert_cmpint(hg_machine_run(m, 1000), ==, HG_RUN_EXITED);
    g_assert_cmpint(hg_machine_exit_status(m), ==, 11);
    g_assert_cmpstr(o.text->str, ==, "Hi");
    g_assert_cmpint(hg_machine_state(m), ==, HG_STATE_FINISHED);
    g_assert_cmpuint(hg_machine_icount(m), ==, 7);
    hg_machine_free(m);
    g_unlink(rom);
    g_free(rom);
    g_string_free(o.text, TRUE);
    g_mutex_clear(&o.lock);
}

static void test_thread_join(void)
{
    char *rom = write_rom(hello, sizeof(hello));
    Output o = {.text = g_string_new(NULL)};
    g_mutex_init(&o.lock);
    HgMachine *m = make(rom, &o, HG_CLOCK_HOST);
    g_assert_true(hg_machine_start(m, NULL));
    hg_machine_join(m);
    g_assert_cmpint(hg_machine_exit_status(m), ==, 11);
    g_assert_cmpstr(o.text->str, ==, "Hi");
    hg_machine_free(m);
    g_unlink(rom);
    g_free(rom);
    g_string_free(o.text, TRUE);
    g_mutex_clear(&o.lock);
}

static void count_call(HgMachine *m, void *data)
{
    (void)m;
    g_atomic_int_inc((gint *)data);
}

/* jmp $ : spins forever */
static const uint8_t spin[] = {0xeb, 0xfe};

static void test_thread_commands(void)
{
    char *rom = write_rom(spin, sizeof(spin));
    Output o = {.text = g_string_new(NULL)};
    g_mutex_init(&o.lock);
    HgMachine *m = make(rom, &o, HG_CLOCK_HOST);
    g_assert_true(hg_machine_start(m, NULL));
    gint calls = 0;
    for (int i = 0; i < 50; i++)
        hg_machine_call(m, count_call, &calls, NULL);
    hg_machine_pause(m);
    while (hg_machine_state(m) != HG_STATE_PAUSED)
        g_usleep(1000);
    g_assert_cmpint(g_atomic_int_get(&calls), ==, 50);
    uint64_t n = hg_machine_icount(m);
    g_usleep(20000);
    g_assert_cmpuint(hg_machine_icount(m), ==, n); /* paused: nothing runs */
    hg_machine_resume(m);
    while (hg_machine_icount(m) == n)
        g_usleep(1000);
    g_assert_cmpuint(hg_machine_reset_count(m), ==, 0);
    hg_machine_request_reset(m);
    while (hg_machine_reset_count(m) == 0)
        g_usleep(1000);
    hg_machine_stop(m);
    g_assert_cmpint(hg_machine_state(m), ==, HG_STATE_RUNNING);
    hg_machine_free(m);
    g_unlink(rom);
    g_free(rom);
    g_string_free(o.text, TRUE);
    g_mutex_clear(&o.lock);
}

static void test_many_machines(void)
{
    char *rom = write_rom(hello, sizeof(hello));
    Output o[8];
    HgMachine *m[8];
    for (int i = 0; i < 8; i++) {
        o[i].text = g_string_new(NULL);
        g_mutex_init(&o[i].lock);
        m[i] = make(rom, &o[i], HG_CLOCK_HOST);
        g_assert_true(hg_machine_start(m[i], NULL));
    }
    for (int i = 0; i < 8; i++) {
        hg_machine_join(m[i]);
        g_assert_cmpstr(o[i].text->str, ==, "Hi");
        hg_machine_free(m[i]);
        g_string_free(o[i].text, TRUE);
        g_mutex_clear(&o[i].lock);
    }
    g_unlink(rom);
    g_free(rom);
}

static void test_bad_config(void)
{
    HgConfig cfg;
    hg_config_init(&cfg);
    GError *error = NULL;
    cfg.memory_mib = 0;
    g_assert_null(hg_machine_new(&cfg, NULL, &error));
    g_assert_error(error, HG_ERROR, HG_ERROR_CONFIG);
    g_clear_error(&error);
    cfg.memory_mib = 16;
    cfg.bios = g_strdup("/nonexistent/bios.bin");
    g_assert_null(hg_machine_new(&cfg, NULL, &error));
    g_assert_nonnull(strstr(error->message, "firmware"));
    g_clear_error(&error);
    hg_config_clear(&cfg);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/machine/sync-run", test_sync_run);
    g_test_add_func("/machine/thread-join", test_thread_join);
    g_test_add_func("/machine/thread-commands", test_thread_commands);
    g_test_add_func("/machine/many", test_many_machines);
    g_test_add_func("/machine/bad-config", test_bad_config);
    return g_test_run();
}
