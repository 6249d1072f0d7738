/* Crash test of the qcow2 write order (engine/block/qcow2.h): a writer process writes
 * through the qcow2 layer the way a guest does (extents of any alignment, discards, flushes
 * as the guest's syncs) and is killed with SIGKILL at a random moment, 50 times per image,
 * reopening the image each time. After every kill, Debian's qemu-img check must find no
 * corruption (leaks are allowed: exit 0 or 3), our own check must agree, and every extent
 * written before a completed flush must read back.
 *
 * The writer works in generations: generation g writes one extent into slot g % SLOTS (its
 * position and bytes follow from g) and churns a scratch area (writes and discards that
 * allocate, free and reuse clusters); every SYNC_EVERY generations it flushes (fdatasync)
 * and only then appends the last generation to a journal file. So every generation up to
 * the journal's last entry was "synced" and its extent must be there, except in the slots
 * the unsynced generations after it reuse. A kill cannot lose what reached the page cache,
 * so the journal needs no fsync of its own; fewer flushes make most kills land in the
 * middle of metadata updates, where the write order matters. */
#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "block/qcow2.h"
#include "hangar.h"

enum { SLOTS = 64, SLOT = 256 << 10, SCRATCH = 8 << 20, RUNS = 50, SYNC_EVERY = 8 };
#define IMAGE_SIZE ((uint64_t)SLOTS * SLOT + SCRATCH)

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ (x >> 33);
}

static void extent_of(uint64_t g, uint64_t *off, size_t *len)
{
    uint64_t h = mix(g + 1);
    *len = (size_t)(1 + h % (SLOT / 2));
    *off = (g % SLOTS) * SLOT + (h >> 32) % (SLOT - *len);
}

static uint8_t byte_of(uint64_t g, uint64_t i)
{
    return (uint8_t)(g * 37 + i * 11 + (i >> 8));
}

static void writer(const char *image, const char *journal, uint64_t g)
{
    GError *e = NULL;
    HgBlock *b = hg_block_open(image, "qcow2", false, &e);
    if (!b) {
        fprintf(stderr, "writer: %s\n", e->message);
        _exit(2);
    }
    FILE *j = fopen(journal, "a");
    uint8_t *buf = g_malloc(SLOT);
    GRand *r = g_rand_new_with_seed((guint32)g);
    for (;; g++) {
        uint64_t off;
        size_t len;
        extent_of(g, &off, &len);
        for (size_t i = 0; i < len; i++)
            buf[i] = byte_of(g, i);
        if (!hg_block_pwrite(b, off, buf, len, &e))
            _exit(3);
        for (int k = 0; k < 24; k++) {
            uint64_t so =
                (uint64_t)SLOTS * SLOT + (uint64_t)g_rand_int_range(r, 0, SCRATCH - 280000);
            size_t sl = (size_t)g_rand_int_range(r, 1, 70000);
            /* Large discards free whole clusters, so later writes allocate again. */
            bool ok = g_rand_boolean(r) ? hg_block_pwrite(b, so, buf, sl, &e)
                                        : hg_block_discard(b, so, sl * 4, &e);
            if (!ok)
                _exit(4);
        }
        if (g % SYNC_EVERY != SYNC_EVERY - 1)
            continue;
        if (!hg_block_flush(b, &e))
            _exit(5);
        fprintf(j, "%" G_GUINT64_FORMAT "\n", g);
        fflush(j);
    }
}

static int64_t last_synced(const char *journal)
{
    gchar *text = NULL;
    int64_t last = -1;
    if (g_file_get_contents(journal, &text, NULL, NULL)) {
        char **lines = g_strsplit(text, "\n", -1);
        for (char **l = lines; *l; l++)
            if (**l)
                last = g_ascii_strtoll(*l, NULL, 10);
        g_strfreev(lines);
    }
    g_free(text);
    return last;
}

static void crash_runs(uint32_t cluster_bits, uint32_t rc_order, bool with_base)
{
    /* On tmpfs when there is one: a flush there costs nothing, so the kills land in the
     * writes and metadata updates rather than after an fdatasync (during which a SIGKILL
     * waits, landing every time at the same quiet point). */
    char *dir = g_access("/dev/shm", W_OK) == 0
                    ? g_strdup("/dev/shm/hangar-crash-XXXXXX")
                    : g_build_filename(g_get_tmp_dir(), "hangar-crash-XXXXXX", NULL);
    g_assert_nonnull(g_mkdtemp(dir));
    char *image = g_build_filename(dir, "disk.qcow2", NULL);
    char *base = g_build_filename(dir, "base.raw", NULL);
    char *journal = g_build_filename(dir, "journal", NULL);
    GError *e = NULL;
    if (with_base) {
        /* A base with data everywhere, so partial writes copy from it. */
        g_assert_true(hg_image_create(base, "raw", IMAGE_SIZE, NULL, NULL, &e));
        HgBlock *bb = hg_block_open(base, "raw", false, &e);
        uint8_t *fill = g_malloc(1 << 20);
        memset(fill, 0xaa, 1 << 20);
        for (uint64_t o = 0; o < IMAGE_SIZE; o += 1 << 20)
            g_assert_true(hg_block_pwrite(bb, o, fill, 1 << 20, &e));
        g_free(fill);
        hg_block_close(bb);
    }
    g_assert_true(hg_qcow2_create(image, IMAGE_SIZE, with_base ? "base.raw" : NULL,
                                  with_base ? "raw" : NULL, cluster_bits, 3, rc_order, &e));
    g_assert_no_error(e);
    char *qemu_img = g_find_program_in_path("qemu-img");
    if (!qemu_img)
        g_test_message("qemu-img missing: only our own check runs");
    GRand *r = g_rand_new_with_seed(cluster_bits);
    uint64_t leaks_seen = 0, our_leaks = 0;
    for (int run = 0; run < RUNS; run++) {
        int64_t last = last_synced(journal);
        pid_t pid = fork();
        g_assert_cmpint(pid, >=, 0);
        if (pid == 0)
            writer(image, journal, (uint64_t)(last + 1));
        g_usleep((gulong)g_rand_int_range(r, 5000, 120000));
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        if (!WIFSIGNALED(status))
            g_error("the writer ended by itself (status %d) instead of being killed", status);

        if (qemu_img) {
            char *argv[] = {qemu_img, "check", image, NULL};
            char *out = NULL, *err = NULL;
            int st;
            g_assert_true(
                g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &st, NULL));
            int rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
            if (rc != 0 && rc != 3) /* 3: leaked clusters only */
                g_error("run %d: qemu-img check exit %d\n%s%s", run, rc, out, err);
            leaks_seen += rc == 3;
            g_free(out);
            g_free(err);
        }
        HgBlock *b = hg_block_open(image, "qcow2", true, &e);
        g_assert_no_error(e);
        HgQcow2Check res;
        GString *log = g_string_new(NULL);
        g_assert_true(hg_qcow2_check(hg_qcow2_from_block(b), 0, &res, log, &e));
        if (res.corruptions)
            g_error("run %d: our check: %s", run, log->str);
        our_leaks += res.leaks != 0;
        if (res.leaks) {
            /* hangar-img check -r leaks: afterwards clean. */
            hg_block_close(b);
            b = hg_block_open(image, "qcow2", false, &e);
            g_assert_no_error(e);
            g_assert_true(hg_qcow2_check(hg_qcow2_from_block(b), 1, &res, log, &e));
            g_assert_cmpuint(res.leaks_fixed, >, 0);
            g_assert_true(hg_qcow2_check(hg_qcow2_from_block(b), 0, &res, log, &e));
            if (res.leaks || res.corruptions)
                g_error("run %d: leaks remain after repair: %s", run, log->str);
        }
        g_string_free(log, true);
        /* Every synced extent is there (except a slot the unsynced generation reused). */
        last = last_synced(journal);
        uint8_t *buf = g_malloc(SLOT);
        for (int64_t g = MAX(0, last - SLOTS + 1); g <= last; g++) {
            if ((uint64_t)((g - last - 1) % SLOTS + SLOTS) % SLOTS < SYNC_EVERY)
                continue; /* reused by an unsynced generation */
            uint64_t off;
            size_t len;
            extent_of((uint64_t)g, &off, &len);
            g_assert_true(hg_block_pread(b, off, buf, len, &e));
            for (size_t i = 0; i < len; i++)
                if (buf[i] != byte_of((uint64_t)g, i))
                    g_error("run %d: generation %" G_GINT64_FORMAT " (synced) lost its byte "
                            "%zu at %" G_GUINT64_FORMAT,
                            run, g, i, off + i);
        }
        g_free(buf);
        hg_block_close(b);
    }
    g_test_message("%d kills, %" G_GINT64_FORMAT
                   " generations synced, leaks after %" G_GUINT64_FORMAT
                   " kills (qemu-img: %" G_GUINT64_FORMAT ")",
                   RUNS, last_synced(journal) + 1, our_leaks, leaks_seen);
    g_assert_cmpint(last_synced(journal), >, 10); /* the writer did get work done */
    g_rand_free(r);
    g_free(qemu_img);
    g_unlink(image);
    g_unlink(base);
    g_unlink(journal);
    g_rmdir(dir);
    g_free(image);
    g_free(base);
    g_free(journal);
    g_free(dir);
}

static void test_64k_overlay(void)
{
    crash_runs(16, 4, true);
}

static void test_512_growth(void)
{
    /* 512-byte clusters, 64-bit refcounts: refcount blocks and the table grow under fire. */
    crash_runs(9, 6, false);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qcow2-crash/64k-overlay", test_64k_overlay);
    g_test_add_func("/qcow2-crash/512-refcount-growth", test_512_growth);
    return g_test_run();
}
