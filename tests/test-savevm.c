/* Unit tests of saved machine states (engine/machine-state.c) on a real guest: Debian's
 * SeaBIOS running its power-on self test with the Cirrus VGA BIOS, in the
 * instruction-counted clock mode. A machine restored from a state taken in the middle of
 * POST must continue exactly as the uninterrupted one: the same firmware log bytes and the
 * same RAM at the same instruction count. Damaged states are refused and change nothing. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "hangar.h"

#define SEABIOS "/usr/share/seabios/bios-256k.bin"

typedef struct Run {
    HgMachine *m;
    GString *log; /* SeaBIOS's debug port output, or the Linux guest's serial console */
} Run;

static void log_out(void *opaque, uint8_t byte)
{
    Run *r = opaque;
    g_string_append_c(r->log, (char)byte);
}

static void serial_out(void *opaque, int port, uint8_t byte)
{
    if (port == 0)
        log_out(opaque, byte);
}

/* With HANGAR_SAVEVM_KERNEL and HANGAR_SAVEVM_INITRD set (tests/boot/linux-savevm.sh), the
 * busybox Linux guest of the boot tests instead of SeaBIOS's POST. */
static bool linux_guest(void)
{
    return g_getenv("HANGAR_SAVEVM_KERNEL") && g_getenv("HANGAR_SAVEVM_INITRD");
}

static void run_new(Run *r, const char *hda)
{
    HgConfig cfg;
    hg_config_init(&cfg);
    cfg.memory_mib = 32;
    cfg.clock = HG_CLOCK_ICOUNT;
    cfg.bios = g_strdup(SEABIOS);
    cfg.hda = g_strdup(hda);
    /* Sound cards are part of the machine's state too (no host output). */
    cfg.soundhw = HG_SOUND_SB16 | HG_SOUND_PCSPK;
    cfg.audio = g_strdup("none");
    /* And a network card (with no host side: nothing arrives from outside). */
    cfg.nic = HG_NIC_RTL8139;
    cfg.net = g_strdup("none");
    r->log = g_string_new(NULL);
    HgMachineHooks hooks = {.opaque = r, .debugcon_out = log_out};
    if (linux_guest()) {
        cfg.memory_mib = 128;
        cfg.kernel = g_strdup(g_getenv("HANGAR_SAVEVM_KERNEL"));
        cfg.initrd = g_strdup(g_getenv("HANGAR_SAVEVM_INITRD"));
        cfg.append = g_strdup("console=ttyS0");
        hooks.debugcon_out = NULL;
        hooks.serial_out = serial_out;
    }
    GError *error = NULL;
    r->m = hg_machine_new(&cfg, &hooks, &error);
    g_assert_no_error(error);
    hg_config_clear(&cfg);
}

static void run_free(Run *r)
{
    hg_machine_free(r->m);
    g_string_free(r->log, true);
}

/* Runs exactly until the machine has retired target instructions. */
static void run_to(Run *r, uint64_t target)
{
    while (hg_machine_icount(r->m) < target) {
        HgRunResult res = hg_machine_run(r->m, (int64_t)(target - hg_machine_icount(r->m)));
        g_assert_cmpint(res, ==, HG_RUN_BUDGET);
    }
    /* A slice may end a few instructions late (an interrupt delivered at its boundary); it is
     * the same in both runs, which is what the comparisons need. */
    g_assert_cmpuint(hg_machine_icount(r->m), <=, target + 64);
}

static char *state_path(const char *dir, const char *name)
{
    return g_build_filename(dir, name, NULL);
}

/* A small disk SeaBIOS finds (and fails to boot: it is blank). */
static char *make_disk(const char *dir)
{
    char *path = g_build_filename(dir, "disk.img", NULL);
    g_assert_true(hg_image_create(path, "raw", 4 << 20, NULL, NULL, NULL));
    return path;
}

/* Two state files hold the same machine: equal from the second section on (the header
 * differs by the time of the save). Names the first differing section. */
static void assert_same_state(const char *pa, const char *pb, int iteration)
{
    gchar *x, *y;
    gsize lx, ly;
    g_assert_true(g_file_get_contents(pa, &x, &lx, NULL));
    g_assert_true(g_file_get_contents(pb, &y, &ly, NULL));
    gsize i = 0;
    while (i + 40 <= lx && i + 40 <= ly) {
        guint32 n = (guint8)x[i + 36] | (guint8)x[i + 37] << 8 | (guint8)x[i + 38] << 16 |
                    (guint32)(guint8)x[i + 39] << 24;
        guint32 m = (guint8)y[i + 36] | (guint8)y[i + 37] << 8 | (guint8)y[i + 38] << 16 |
                    (guint32)(guint8)y[i + 39] << 24;
        if (i > 0 && (n != m || memcmp(x + i, y + i, 40 + n) != 0)) {
            gsize k = 0;
            while (k < MIN(n, m) && x[i + 40 + k] == y[i + 40 + k])
                k++;
            g_error("iteration %d: section \"%.32s\" differs at payload byte %zu", iteration,
                    x + i, k);
        }
        i += 40 + n;
    }
    g_assert_cmpuint(lx, ==, ly);
    g_free(x);
    g_free(y);
}

static void test_equivalence(void)
{
    uint64_t SAVE_AT = 4000000, END_AT = 45000000;
    uint64_t span = 0;
    const char *marker = NULL;
    if (linux_guest()) {
        /* Save a while after the guest printed the marker (its test script started). */
        marker = g_getenv("HANGAR_SAVEVM_MARKER");
        span = g_ascii_strtoull(g_getenv("HANGAR_SAVEVM_SPAN"), NULL, 10);
        g_assert_nonnull(marker);
        g_assert_cmpuint(span, >, 0);
    }
    if (!g_file_test(SEABIOS, G_FILE_TEST_EXISTS)) {
        g_test_skip("Debian's seabios package is not installed");
        return;
    }
    char *dir = g_dir_make_tmp("hangar-savevm-XXXXXX", NULL);
    char *disk = make_disk(dir);
    char *st = state_path(dir, "post.hgstate");

    Run a;
    run_new(&a, disk);
    if (marker) {
        uint64_t limit = 100000000000ull;
        while (!strstr(a.log->str, marker)) {
            g_assert_cmpuint(hg_machine_icount(a.m), <, limit);
            run_to(&a, hg_machine_icount(a.m) + 10000000);
        }
        SAVE_AT = hg_machine_icount(a.m) + 20000000;
        END_AT = SAVE_AT + span;
        g_test_message("marker seen at %" G_GUINT64_FORMAT " instructions; saving at %"
                       G_GUINT64_FORMAT ", comparing to %" G_GUINT64_FORMAT,
                       hg_machine_icount(a.m), SAVE_AT, END_AT);
    }
    run_to(&a, SAVE_AT);
    GError *error = NULL;
    g_assert_true(hg_machine_save_state(a.m, st, &error));
    g_assert_no_error(error);
    gsize log_at_save = a.log->len;
    run_to(&a, END_AT);
    /* POST got somewhere after the save point: the comparison below means something. */
    g_assert_cmpuint(a.log->len, >, log_at_save + 200);
    if (g_getenv("HANGAR_SAVEVM_LOG"))
        g_assert_true(g_file_set_contents(g_getenv("HANGAR_SAVEVM_LOG"), a.log->str,
                                          (gssize)a.log->len, NULL));

    HgStateInfo info;
    g_assert_true(hg_state_file_info(st, &info, &error));
    g_assert_cmpuint(info.icount, >=, SAVE_AT);
    uint64_t saved_at = info.icount;
    g_assert_cmpuint(info.memory_mib, ==, linux_guest() ? 128 : 32);
    g_assert_null(info.cdrom);
    hg_state_info_clear(&info);

    Run b;
    run_new(&b, disk);
    run_to(&b, 1000); /* a machine that already did something else */
    g_assert_true(hg_machine_load_state(b.m, st, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(hg_machine_icount(b.m), ==, saved_at);
    g_string_truncate(b.log, 0); /* what it printed before the load is not compared */
    run_to(&b, END_AT);
    g_assert_cmpuint(hg_machine_icount(b.m), ==, hg_machine_icount(a.m));
    const char *want = a.log->str + log_at_save;
    if (strcmp(b.log->str, want) != 0) {
        size_t i = 0;
        while (b.log->str[i] && b.log->str[i] == want[i])
            i++;
        g_error("the restored machine printed %zu bytes, the original %zu; they differ from "
                "byte %zu: \"%.60s\" against \"%.60s\"",
                b.log->len, strlen(want), i, b.log->str + i, want + i);
    }

    /* The same RAM, and the same CPU: compare fresh states of both (headers differ by
     * their save time, so compare from the second section on). */
    char *sa = state_path(dir, "a.hgstate"), *sb = state_path(dir, "b.hgstate");
    g_assert_true(hg_machine_save_state(a.m, sa, NULL));
    g_assert_true(hg_machine_save_state(b.m, sb, NULL));
    assert_same_state(sa, sb, 0);

    run_free(&a);
    run_free(&b);
    g_unlink(sa);
    g_unlink(sb);
    g_unlink(st);
    g_unlink(disk);
    g_rmdir(dir);
    g_free(sa);
    g_free(sb);
    g_free(st);
    g_free(disk);
    g_free(dir);
}

/* A machine without a profile keeps a named state inside its qcow2 disk (an internal
 * snapshot with the machine state, as QEMU's savevm): a second machine on the same image,
 * after the first is gone, restores it and continues exactly as the first did. */
static void test_in_image(void)
{
    const uint64_t SAVE_AT = 4000000, END_AT = 30000000;
    if (!g_file_test(SEABIOS, G_FILE_TEST_EXISTS)) {
        g_test_skip("Debian's seabios package is not installed");
        return;
    }
    char *dir = g_dir_make_tmp("hangar-savevm-XXXXXX", NULL);
    char *disk = g_build_filename(dir, "disk.qcow2", NULL);
    GError *error = NULL;
    g_assert_true(hg_image_create(disk, "qcow2", 4 << 20, NULL, NULL, &error));
    g_assert_no_error(error);

    Run a;
    run_new(&a, disk);
    run_to(&a, SAVE_AT);
    g_assert_true(hg_machine_save_named_state(a.m, "post", &error));
    g_assert_no_error(error);
    /* Saving again under the same name replaces it. */
    g_assert_true(hg_machine_save_named_state(a.m, "post", &error));
    g_assert_no_error(error);
    char **names = hg_machine_image_states(a.m);
    g_assert_cmpuint(g_strv_length(names), ==, 1);
    g_assert_cmpstr(names[0], ==, "post");
    g_strfreev(names);
    HgStateInfo info;
    g_assert_true(hg_machine_image_state_info(a.m, "post", &info, &error));
    g_assert_cmpuint(info.icount, >=, SAVE_AT);
    g_assert_cmpuint(info.disk_snapshots, ==, 1);
    hg_state_info_clear(&info);
    gsize log_at_save = a.log->len;
    run_to(&a, END_AT);
    g_assert_cmpuint(a.log->len, >, log_at_save + 200);
    char *sa = state_path(dir, "a.hgstate"), *sb = state_path(dir, "b.hgstate");
    g_assert_true(hg_machine_save_state(a.m, sa, NULL));
    uint64_t end = hg_machine_icount(a.m);
    char *want = g_strdup(a.log->str + log_at_save);
    run_free(&a);

    Run b;
    run_new(&b, disk);
    run_to(&b, 1000);
    g_assert_false(hg_machine_load_named_state(b.m, "other", &error));
    g_assert_error(error, HG_ERROR, HG_ERROR_FILE);
    g_clear_error(&error);
    g_assert_true(hg_machine_load_named_state(b.m, "post", &error));
    g_assert_no_error(error);
    g_string_truncate(b.log, 0);
    run_to(&b, end);
    g_assert_cmpuint(hg_machine_icount(b.m), ==, end);
    g_assert_cmpstr(b.log->str, ==, want);
    g_assert_true(hg_machine_save_state(b.m, sb, NULL));
    assert_same_state(sa, sb, 0);
    g_assert_true(hg_machine_delete_named_state(b.m, "post", &error));
    g_assert_no_error(error);
    names = hg_machine_image_states(b.m);
    g_assert_null(names[0]);
    g_strfreev(names);
    g_assert_false(hg_machine_delete_named_state(b.m, "post", &error));
    g_clear_error(&error);
    run_free(&b);

    /* qemu-img, where installed, finds the image consistent. */
    char *qemu_img = g_find_program_in_path("qemu-img");
    if (qemu_img) {
        char *argv[] = {qemu_img, "check", disk, NULL};
        int status;
        char *out = NULL;
        g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
                                   &out, NULL, &status, NULL));
        g_assert_true(g_spawn_check_wait_status(status, NULL));
        g_free(out);
        g_free(qemu_img);
    }
    g_unlink(sa);
    g_unlink(sb);
    g_unlink(disk);
    g_rmdir(dir);
    g_free(sa);
    g_free(sb);
    g_free(want);
    g_free(disk);
    g_free(dir);
}

/* A damaged state is refused with a reason, and the machine stays exactly as it was. */
static void test_damaged(void)
{
    if (!g_file_test(SEABIOS, G_FILE_TEST_EXISTS)) {
        g_test_skip("Debian's seabios package is not installed");
        return;
    }
    char *dir = g_dir_make_tmp("hangar-savevm-XXXXXX", NULL);
    char *disk = make_disk(dir);
    char *st = state_path(dir, "good.hgstate"), *bad = state_path(dir, "bad.hgstate");
    Run a;
    run_new(&a, disk);
    run_to(&a, 3000000);
    g_assert_true(hg_machine_save_state(a.m, st, NULL));
    gchar *good;
    gsize len;
    g_assert_true(g_file_get_contents(st, &good, &len, NULL));

    Run b;
    run_new(&b, disk);
    run_to(&b, 2000000);
    uint64_t icount_before = hg_machine_icount(b.m);
    char *before = state_path(dir, "before.hgstate");
    char *after = state_path(dir, "after.hgstate");
    g_assert_true(hg_machine_save_state(b.m, before, NULL));

    GRand *rand = g_rand_new_with_seed(1234);
    int refused = 0;
    for (int i = 0; i < 40; i++) {
        GByteArray *d = g_byte_array_new();
        g_byte_array_append(d, (const guint8 *)good, (guint)len);
        if (i < 20) {
            g_byte_array_set_size(d, (guint)g_rand_int_range(rand, 0, (gint32)len));
        } else {
            /* Flip bytes anywhere but in the RAM payload, where a flip is data. */
            for (int k = 0; k < 4; k++) {
                guint at = (guint)g_rand_int_range(rand, 0, (gint32)len);
                d->data[at] ^= (guint8)g_rand_int_range(rand, 1, 256);
            }
        }
        g_assert_true(g_file_set_contents(bad, (const char *)d->data, d->len, NULL));
        g_byte_array_free(d, true);
        GError *error = NULL;
        if (hg_machine_load_state(b.m, bad, &error)) {
            /* A flip that landed in data a guest could hold: the machine must still run. */
            hg_machine_run(b.m, 100000);
            g_assert_true(hg_machine_load_state(b.m, before, NULL));
            continue;
        }
        refused++;
        g_assert_nonnull(error);
        g_assert_true(strstr(error->message, "bad.hgstate") != NULL);
        g_clear_error(&error);
        g_assert_cmpuint(hg_machine_icount(b.m), ==, icount_before);
        g_assert_true(hg_machine_save_state(b.m, after, NULL));
        assert_same_state(before, after, i);
    }
    g_assert_cmpint(refused, >=, 20);
    /* Still the machine it was: its state equals the one saved before the attempts. */
    g_assert_true(hg_machine_save_state(b.m, after, NULL));
    assert_same_state(before, after, -1);

    /* A state of a machine with another memory size is refused by name. */
    HgConfig cfg;
    hg_config_init(&cfg);
    cfg.memory_mib = 64;
    cfg.clock = HG_CLOCK_ICOUNT;
    cfg.bios = g_strdup(SEABIOS);
    cfg.hda = g_strdup(disk);
    HgMachine *other = hg_machine_new(&cfg, NULL, NULL);
    GError *error = NULL;
    g_assert_false(hg_machine_load_state(other, st, &error));
    g_assert_nonnull(strstr(error->message, "memory size"));
    g_clear_error(&error);
    hg_machine_free(other);
    hg_config_clear(&cfg);

    g_rand_free(rand);
    g_free(good);
    run_free(&a);
    run_free(&b);
    const char *files[] = {st, bad, before, after, disk};
    for (size_t i = 0; i < G_N_ELEMENTS(files); i++)
        g_unlink(files[i]);
    g_rmdir(dir);
    g_free(st);
    g_free(bad);
    g_free(before);
    g_free(after);
    g_free(disk);
    g_free(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/savevm/equivalence", test_equivalence);
    g_test_add_func("/savevm/in-image", test_in_image);
    if (!linux_guest())
        g_test_add_func("/savevm/damaged", test_damaged);
    return g_test_run();
}
