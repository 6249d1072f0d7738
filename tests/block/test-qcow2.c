/* Unit tests of the qcow2 driver (engine/block/qcow2*.c): a randomized test that writes,
 * discards and reads random extents through the qcow2 layer and a raw shadow in memory,
 * with snapshots, overlays and reopening in between, comparing every read, then asks
 * Debian's qemu-img to check the image and compare it with the shadow; images made by
 * qemu-img and qemu-io read back as QEMU reads them; hostile headers are refused without a
 * byte written; leaks are repaired; the probed-raw write guard.
 * qemu-img and qemu-io (Debian's qemu-utils) are oracles: tests that need them skip
 * without them. HANGAR_QCOW2_ROUNDS scales the randomized test. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "block/qcow2.h"
#include "hangar.h"

static char *tmpdir;

static char *tmp(const char *name)
{
    return g_build_filename(tmpdir, name, NULL);
}

static bool have_qemu(void)
{
    char *p = g_find_program_in_path("qemu-img"), *io = g_find_program_in_path("qemu-io");
    bool ok = p && io;
    g_free(p);
    g_free(io);
    return ok;
}

/* Runs a command line; returns its exit status, output in *out when given. */
static int run(char **out, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static int run(char **out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *cmd = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    char *so = NULL, *se = NULL;
    int status = -1;
    GError *e = NULL;
    char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &so, &se, &status, &e);
    g_assert_no_error(e);
    if (!g_spawn_check_wait_status(status, NULL))
        g_test_message("%s\n%s%s", cmd, so, se);
    if (out)
        *out = g_strconcat(so, se, NULL);
    g_free(so);
    g_free(se);
    g_free(cmd);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static HgBlock *open_ok(const char *path, const char *fmt, bool ro)
{
    GError *e = NULL;
    HgBlock *b = hg_block_open(path, fmt, ro, &e);
    g_assert_no_error(e);
    g_assert_nonnull(b);
    return b;
}

static void assert_reads(HgBlock *b, uint64_t off, const uint8_t *want, size_t len)
{
    uint8_t *buf = g_malloc(len);
    GError *e = NULL;
    g_assert_true(hg_block_pread(b, off, buf, len, &e));
    g_assert_no_error(e);
    if (memcmp(buf, want, len) != 0) {
        size_t i = 0;
        while (buf[i] == want[i])
            i++;
        g_error("%s: byte %" G_GUINT64_FORMAT " is %#x, shadow says %#x", hg_block_filename(b),
                off + i, buf[i], want[i]);
    }
    g_free(buf);
}

static void qemu_check_clean(const char *path)
{
    char *out;
    int rc = run(&out, "qemu-img check %s", path);
    if (rc != 0 || !strstr(out, "No errors were found"))
        g_error("qemu-img check %s (exit %d):\n%s", path, rc, out);
    g_free(out);
}

/* ---- The randomized test ---- */

typedef struct Snap {
    char *name;
    uint8_t *data;
} Snap;

static void random_run(uint32_t cluster_bits, uint32_t version, uint32_t rc_order, uint64_t size,
                       int rounds, bool raw_base)
{
    GRand *r = g_rand_new_with_seed((guint32)(cluster_bits * 131 + version * 7 + rc_order));
    uint8_t *shadow = g_malloc0(size);
    GError *e = NULL;
    char *base = tmp(raw_base ? "base.raw" : "base.qcow2");
    if (raw_base) {
        g_assert_true(hg_image_create(base, "raw", size, NULL, NULL, &e));
    } else {
        g_assert_true(hg_qcow2_create(base, size, NULL, NULL, cluster_bits, version, rc_order, &e));
    }
    g_assert_no_error(e);
    char *top = g_strdup(base);
    HgBlock *b = open_ok(top, raw_base ? "raw" : "qcow2", false);
    GPtrArray *snaps = g_ptr_array_new();
    int overlays = 0;
    uint8_t *buf = g_malloc(size);
    for (int round = 0; round < rounds; round++) {
        int op = g_rand_int_range(r, 0, 100);
        /* Extents: mostly small and unaligned, sometimes many clusters. */
        uint64_t len = g_rand_boolean(r) ? (uint64_t)g_rand_int_range(r, 1, 5000)
                                         : (uint64_t)g_rand_int_range(r, 1, (gint32)(size / 8));
        uint64_t off = (uint64_t)g_rand_int_range(r, 0, (gint32)(size - len));
        Qcow2 *q = hg_qcow2_from_block(b);
        if (op < 45) {
            uint8_t pat = (uint8_t)g_rand_int(r);
            for (uint64_t i = 0; i < len; i++)
                buf[i] = (uint8_t)(pat + i * 7 + (i >> 9));
            if (!hg_block_pwrite(b, off, buf, len, &e))
                g_error("write %" G_GUINT64_FORMAT "+%" G_GUINT64_FORMAT ": %s", off, len,
                        e->message);
            g_assert_no_error(e);
            memcpy(shadow + off, buf, len);
        } else if (op < 80) {
            assert_reads(b, off, shadow + off, len);
        } else if (op < 86) {
            g_assert_true(hg_block_discard(b, off, len, &e));
            g_assert_no_error(e);
            memset(shadow + off, 0, len);
        } else if (op < 90 && q) {
            Snap *s = g_new(Snap, 1);
            s->name = g_strdup_printf("s%d", round);
            s->data = g_memdup2(shadow, size);
            bool ok = hg_qcow2_snapshot_create(q, s->name, &e);
            if (rc_order == 0) {
                /* 1-bit refcounts cannot share a cluster: refused, image unchanged. */
                g_assert_false(ok);
                g_assert_nonnull(strstr(e->message, "refcount"));
                g_clear_error(&e);
                g_free(s->name);
                g_free(s->data);
                g_free(s);
                continue;
            }
            g_assert_true(ok);
            g_assert_no_error(e);
            g_ptr_array_add(snaps, s);
        } else if (op < 93 && q && snaps->len) {
            Snap *s = snaps->pdata[g_rand_int_range(r, 0, (gint32)snaps->len)];
            g_assert_true(hg_qcow2_snapshot_apply(q, s->name, &e));
            g_assert_no_error(e);
            memcpy(shadow, s->data, size);
        } else if (op < 95 && q && snaps->len) {
            guint i = (guint)g_rand_int_range(r, 0, (gint32)snaps->len);
            Snap *s = snaps->pdata[i];
            g_assert_true(hg_qcow2_snapshot_delete(q, s->name, &e));
            g_assert_no_error(e);
            g_ptr_array_remove_index(snaps, i);
            g_free(s->name);
            g_free(s->data);
            g_free(s);
        } else if (op < 97 && overlays < 3) {
            /* A new overlay on top; snapshots of the image below stay there. */
            hg_block_close(b);
            char *name = g_strdup_printf("overlay%d.qcow2", ++overlays);
            char *path = tmp(name);
            const char *bf = g_strrstr(top, "/") + 1;
            g_assert_true(hg_qcow2_create(path, 0, bf, NULL, cluster_bits, version, rc_order, &e));
            g_assert_no_error(e);
            g_free(top);
            g_free(name);
            top = path;
            b = open_ok(top, NULL, false);
            g_assert_cmpstr(hg_block_format(b), ==, "qcow2");
            for (guint i = 0; i < snaps->len; i++) {
                Snap *s = snaps->pdata[i];
                g_free(s->name);
                g_free(s->data);
                g_free(s);
            }
            g_ptr_array_set_size(snaps, 0);
        } else {
            /* Close and reopen: nothing may live only in memory. */
            g_assert_true(hg_block_flush(b, &e));
            hg_block_close(b);
            b = open_ok(top, NULL, false);
        }
    }
    assert_reads(b, 0, shadow, size);
    Qcow2 *q = hg_qcow2_from_block(b);
    if (q) {
        HgQcow2Check res;
        GString *log = g_string_new(NULL);
        g_assert_true(hg_qcow2_check(q, 0, &res, log, &e));
        g_assert_no_error(e);
        if (res.corruptions || res.leaks)
            g_error("our own check: %s", log->str);
        g_string_free(log, true);
    }
    hg_block_close(b);
    if (have_qemu()) {
        char *sh = tmp("shadow.raw");
        g_assert_true(g_file_set_contents(sh, (const char *)shadow, (gssize)size, NULL));
        for (int i = 0; i <= overlays; i++) {
            char *name = i ? g_strdup_printf("overlay%d.qcow2", i) : NULL;
            char *p = name ? tmp(name) : g_strdup(base);
            if (!raw_base || i)
                qemu_check_clean(p);
            g_free(p);
            g_free(name);
        }
        char *out;
        int rc = run(&out, "qemu-img compare -f raw %s %s", sh, top);
        if (rc != 0)
            g_error("qemu-img compare: %s", out);
        g_free(out);
        g_unlink(sh);
        g_free(sh);
    } else {
        g_test_message("qemu-img missing: no oracle check");
    }
    for (int i = 1; i <= overlays; i++) {
        char *name = g_strdup_printf("overlay%d.qcow2", i);
        char *p = tmp(name);
        g_unlink(p);
        g_free(p);
        g_free(name);
    }
    g_unlink(base);
    for (guint i = 0; i < snaps->len; i++) {
        Snap *s = snaps->pdata[i];
        g_free(s->name);
        g_free(s->data);
        g_free(s);
    }
    g_ptr_array_free(snaps, true);
    g_free(base);
    g_free(top);
    g_free(buf);
    g_free(shadow);
    g_rand_free(r);
}

static int rounds(void)
{
    const char *s = g_getenv("HANGAR_QCOW2_ROUNDS");
    return s ? atoi(s) : 400;
}

static void test_random_64k(void)
{
    random_run(16, 3, 4, 24 << 20, rounds(), false);
}

static void test_random_small_clusters(void)
{
    /* 512-byte clusters with 64-bit refcounts: a refcount block covers 32 KiB, the first
     * refcount table 2 MiB, so the table grows several times. */
    random_run(9, 3, 6, 6 << 20, rounds(), false);
}

static void test_random_v2(void)
{
    random_run(12, 2, 4, 4 << 20, rounds(), false);
}

static void test_random_1bit(void)
{
    random_run(10, 3, 0, 3 << 20, rounds(), false);
}

static void test_random_raw_base(void)
{
    random_run(13, 3, 4, 4 << 20, rounds(), true);
}

/* ---- Images QEMU made ---- */

static void test_qemu_images(void)
{
    if (!have_qemu()) {
        g_test_skip("qemu-img/qemu-io (qemu-utils) not installed");
        return;
    }
    char *base = tmp("q-base.qcow2"), *ov = tmp("q-ov.qcow2"), *ref = tmp("q-ref.raw");
    char *src = tmp("q-src.raw"), *comp = tmp("q-comp.qcow2");
    g_assert_cmpint(run(NULL, "qemu-img create -q -f qcow2 -o compat=0.10 %s 8M", base), ==, 0);
    g_assert_cmpint(run(NULL, "qemu-io -c 'write -P 0x5a 0 1M' -c 'write -P 0x11 3M 70k' %s", base),
                    ==, 0);
    g_assert_cmpint(run(NULL, "qemu-img create -q -f qcow2 -b %s -F qcow2 %s", base, ov), ==, 0);
    g_assert_cmpint(run(NULL,
                        "qemu-io -c 'write -P 0x77 512k 4k' -c 'write -z 3M 64k' "
                        "-c 'discard 0 64k' -c 'write -P 0x99 7M 1k' %s",
                        ov),
                    ==, 0);
    g_assert_cmpint(run(NULL, "qemu-img snapshot -c one %s", ov), ==, 0);
    g_assert_cmpint(run(NULL, "qemu-io -c 'write -P 0x42 5k 9k' %s", ov), ==, 0);
    /* A compressed image: qemu-img convert -c of text-like data. */
    g_assert_cmpint(run(NULL,
                        "yes hangar | head -c 3000000 > %s && truncate -s 4M %s && "
                        "qemu-img convert -c -f raw -O qcow2 %s %s",
                        src, src, src, comp),
                    ==, 0);
    const char *imgs[] = {base, ov, comp};
    for (int i = 0; i < 3; i++) {
        g_assert_cmpint(run(NULL, "qemu-img convert -O raw %s %s", imgs[i], ref), ==, 0);
        gchar *want;
        gsize len;
        g_assert_true(g_file_get_contents(ref, &want, &len, NULL));
        HgBlock *b = open_ok(imgs[i], NULL, true);
        g_assert_cmpuint(hg_block_size(b), ==, len);
        assert_reads(b, 0, (uint8_t *)want, len);
        hg_block_close(b);
        g_free(want);
    }
    /* Our partial writes into QEMU's compressed clusters (copied out, their shared host
     * clusters' refcounts dropped), a discard of some, then QEMU's opinion. */
    {
        gchar *want;
        gsize len;
        g_assert_cmpint(run(NULL, "qemu-img convert -O raw %s %s", comp, ref), ==, 0);
        g_assert_true(g_file_get_contents(ref, &want, &len, NULL));
        HgBlock *b = open_ok(comp, NULL, false);
        GError *e = NULL;
        uint8_t patch[5000];
        memset(patch, 0xee, sizeof(patch));
        for (uint64_t off = 1000; off < 2500000; off += 300000) {
            g_assert_true(hg_block_pwrite(b, off, patch, sizeof(patch), &e));
            memcpy(want + off, patch, sizeof(patch));
        }
        g_assert_true(hg_block_discard(b, 1 << 20, 1 << 18, &e));
        memset(want + (1 << 20), 0, 1 << 18);
        g_assert_no_error(e);
        assert_reads(b, 0, (uint8_t *)want, len);
        hg_block_close(b);
        qemu_check_clean(comp);
        g_assert_true(g_file_set_contents(ref, want, (gssize)len, NULL));
        g_assert_cmpint(run(NULL, "qemu-img compare -f raw %s %s", ref, comp), ==, 0);
        g_free(want);
    }
    /* Our writes into QEMU's overlay, a snapshot applied by us, then QEMU's opinion. */
    HgBlock *b = open_ok(ov, NULL, false);
    GError *e = NULL;
    uint8_t data[3000];
    memset(data, 0xc3, sizeof(data));
    g_assert_true(hg_block_pwrite(b, 3 * 1024 * 1024 - 100, data, sizeof(data), &e));
    g_assert_true(hg_qcow2_snapshot_apply(hg_qcow2_from_block(b), "one", &e));
    g_assert_no_error(e);
    g_assert_true(hg_block_pwrite(b, 12345, data, sizeof(data), &e));
    hg_block_close(b);
    qemu_check_clean(ov);
    char *out;
    g_assert_cmpint(run(&out,
                        "qemu-io -c 'read -P 0xc3 12345 3000' -c 'read -P 0x77 512k 4k' "
                        "-c 'read -P 0 3M 64k' -c 'read -P 0 0 12345' %s",
                        ov),
                    ==, 0);
    g_assert_null(strstr(out, "Pattern verification failed"));
    g_free(out);
    char *names[] = {base, ov, ref, src, comp};
    for (int i = 0; i < 5; i++) {
        g_unlink(names[i]);
        g_free(names[i]);
    }
}

/* ---- Hostile images ---- */

static char *make_image(const char *name, uint32_t cluster_bits)
{
    char *p = tmp(name);
    GError *e = NULL;
    g_assert_true(hg_qcow2_create(p, 1 << 20, NULL, NULL, cluster_bits, 3, 4, &e));
    HgBlock *b = open_ok(p, "qcow2", false);
    uint8_t d[4096];
    memset(d, 0xab, sizeof(d));
    g_assert_true(hg_block_pwrite(b, 0, d, sizeof(d), &e));
    hg_block_close(b);
    return p;
}

static void poke(const char *path, uint64_t off, const void *data, size_t len)
{
    FILE *f = fopen(path, "r+b");
    g_assert_nonnull(f);
    g_assert_cmpint(fseek(f, (long)off, SEEK_SET), ==, 0);
    g_assert_cmpuint(fwrite(data, 1, len, f), ==, len);
    fclose(f);
}

static void expect_refused(const char *path, const char *words)
{
    gchar *before, *after;
    gsize lb, la;
    g_assert_true(g_file_get_contents(path, &before, &lb, NULL));
    GError *e = NULL;
    HgBlock *b = hg_block_open(path, NULL, false, &e);
    g_assert_null(b);
    g_assert_nonnull(e);
    if (!strstr(e->message, words))
        g_error("message '%s' lacks '%s'", e->message, words);
    g_error_free(e);
    g_assert_true(g_file_get_contents(path, &after, &la, NULL));
    g_assert_cmpmem(before, lb, after, la); /* nothing written */
    g_free(before);
    g_free(after);
}

static void test_hostile(void)
{
    uint8_t be8[8], be4[4];
    struct {
        uint64_t off;
        int width;
        uint64_t value;
        const char *words;
    } cases[] = {
        {4, 4, 7, "version 7"},
        {20, 4, 31, "cluster size"},
        {24, 8, 1ull << 62, "too large"}, /* virtual size */
        {36, 4, 0x7fffffff, "L1 table"},  /* L1 past memory */
        {36, 4, 200000, "L1 table"},      /* L1 past the file */
        {40, 8, 1ull << 40, "L1 table"},
        {40, 8, 0x10200, "L1 table"}, /* unaligned */
        {48, 8, 1ull << 40, "refcount table"},
        {56, 4, 100000, "refcount table"},
        {60, 4, 3, "snapshot"}, /* table offset 0 */
        {72, 8, 1ull << 20, "incompatible"},
        {96, 4, 9, "refcount width"},
        {100, 4, 65536 * 2, "header length"},
        {32, 4, 1, "encrypted"},
        {8, 8, 60000, "backing file name"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *p = make_image("hostile.qcow2", 16);
        if (cases[i].width == 8) {
            q_put64(be8, cases[i].value);
            poke(p, cases[i].off, be8, 8);
        } else {
            q_put32(be4, (uint32_t)cases[i].value);
            poke(p, cases[i].off, be4, 4);
        }
        if (cases[i].off == 8) { /* a backing name length too */
            q_put32(be4, 100);
            poke(p, 16, be4, 4);
        }
        expect_refused(p, cases[i].words);
        g_unlink(p);
        g_free(p);
    }
    /* An L1 entry and a refcount block pointing past the end of the file. */
    char *p = make_image("hostile.qcow2", 16);
    q_put64(be8, (1ull << 40) | QCOW2_OFLAG_COPIED);
    poke(p, 3 * 65536, be8, 8); /* the L1 table is cluster 3 */
    expect_refused(p, "L1 entry");
    g_unlink(p);
    g_free(p);
    p = make_image("hostile.qcow2", 16);
    poke(p, 65536 + 8, be8, 8); /* refcount table entry 1 */
    expect_refused(p, "refcount block");
    g_unlink(p);
    g_free(p);

    /* An L2 entry past the end: refused when that L2 table is first read, and no write
     * reaches the image afterwards. */
    p = make_image("hostile.qcow2", 16);
    HgBlock *b = open_ok(p, NULL, true);
    uint64_t l2 = hg_qcow2_from_block(b)->l1[0] & QCOW2_OFFSET_MASK;
    hg_block_close(b);
    q_put64(be8, (1ull << 40) | QCOW2_OFLAG_COPIED);
    poke(p, l2 + 8, be8, 8);
    gchar *before;
    gsize lb;
    g_assert_true(g_file_get_contents(p, &before, &lb, NULL));
    b = open_ok(p, NULL, false);
    GError *e = NULL;
    uint8_t buf[512];
    g_assert_false(hg_block_pread(b, 0, buf, 512, &e));
    g_assert_nonnull(strstr(e->message, "corrupt"));
    g_clear_error(&e);
    g_assert_false(hg_block_pwrite(b, 1 << 19, buf, 512, &e));
    g_clear_error(&e);
    hg_block_close(b);
    gchar *after;
    gsize la;
    g_assert_true(g_file_get_contents(p, &after, &la, NULL));
    g_assert_cmpmem(before, lb, after, la);
    g_free(before);
    g_free(after);
    g_unlink(p);
    g_free(p);

    /* Backing chains: a loop, and one deeper than the limit. */
    char *a = tmp("loop-a.qcow2"), *c = tmp("loop-b.qcow2");
    g_assert_true(hg_qcow2_create(a, 1 << 20, NULL, NULL, 16, 3, 4, &e));
    g_assert_true(hg_qcow2_create(c, 0, "loop-a.qcow2", "qcow2", 16, 3, 4, &e));
    b = open_ok(a, "qcow2", false);
    g_assert_true(hg_qcow2_set_backing(hg_qcow2_from_block(b), "loop-b.qcow2", "qcow2", &e));
    g_assert_no_error(e);
    hg_block_close(b);
    expect_refused(a, "loops");
    g_unlink(a);
    g_unlink(c);
    g_free(a);
    g_free(c);
    char *prev = tmp("chain0.qcow2");
    g_assert_true(hg_qcow2_create(prev, 1 << 20, NULL, NULL, 16, 3, 4, &e));
    for (int i = 1; i <= QCOW2_MAX_CHAIN; i++) {
        char *n = g_strdup_printf("chain%d.qcow2", i), *np = tmp(n);
        char *pn = g_strdup_printf("chain%d.qcow2", i - 1);
        /* Headers written directly: create itself refuses a chain that is too deep. */
        HgBlock *pb = open_ok(prev, "qcow2", true);
        hg_block_close(pb);
        if (i < QCOW2_MAX_CHAIN - 1) {
            g_assert_true(hg_qcow2_create(np, 0, pn, "qcow2", 16, 3, 4, &e));
            g_assert_no_error(e);
        } else {
            g_assert_true(hg_qcow2_create(np, 1 << 20, NULL, NULL, 16, 3, 4, &e));
            HgBlock *x = open_ok(np, "qcow2", false);
            g_assert_true(hg_qcow2_set_backing(hg_qcow2_from_block(x), pn, "qcow2", &e));
            hg_block_close(x);
        }
        g_free(prev);
        prev = np;
        g_free(n);
        g_free(pn);
    }
    expect_refused(prev, "deep");
    for (int i = 0; i <= QCOW2_MAX_CHAIN; i++) {
        char *n = g_strdup_printf("chain%d.qcow2", i), *np = tmp(n);
        g_unlink(np);
        g_free(np);
        g_free(n);
    }
    g_free(prev);
}

/* ---- Leaks, check -r leaks ---- */

static void test_leak_repair(void)
{
    char *p = make_image("leak.qcow2", 12);
    HgBlock *b = open_ok(p, "qcow2", false);
    Qcow2 *q = hg_qcow2_from_block(b);
    GError *e = NULL;
    uint64_t off;
    g_assert_true(qcow2_alloc(q, 3, &off, &e)); /* what a kill after allocating leaves */
    uint8_t *junk = g_malloc0(3 * q->cs);
    g_assert_true(qcow2_fwrite(q, off, junk, 3 * q->cs, &e));
    g_free(junk);
    HgQcow2Check res;
    GString *log = g_string_new(NULL);
    g_assert_true(hg_qcow2_check(q, 0, &res, log, &e));
    g_assert_cmpuint(res.leaks, ==, 3);
    g_assert_cmpuint(res.corruptions, ==, 0);
    hg_block_close(b);
    if (have_qemu()) {
        char *out;
        g_assert_cmpint(run(&out, "qemu-img check %s", p), ==, 3); /* leaks */
        g_assert_nonnull(strstr(out, "3 leaked clusters"));
        g_free(out);
    }
    b = open_ok(p, "qcow2", false);
    g_assert_true(hg_qcow2_check(hg_qcow2_from_block(b), 1, &res, log, &e));
    g_assert_cmpuint(res.leaks_fixed, ==, 3);
    hg_block_close(b);
    if (have_qemu())
        qemu_check_clean(p);
    /* The freed clusters are used again. */
    b = open_ok(p, "qcow2", false);
    g_assert_true(qcow2_alloc(hg_qcow2_from_block(b), 1, &off, &e));
    g_assert_cmpuint(off, <, hg_qcow2_from_block(b)->file_size);
    hg_block_close(b);
    g_string_free(log, true);
    g_unlink(p);
    g_free(p);
}

/* A refcount below the references (corruption) and a wrong COPIED flag: reported, left
 * alone by -r leaks, repaired by -r all, and then QEMU agrees. */
static void test_corruption_repair(void)
{
    char *p = make_image("corrupt.qcow2", 12);
    HgBlock *b = open_ok(p, "qcow2", true);
    Qcow2 *q = hg_qcow2_from_block(b);
    uint64_t l2 = q->l1[0] & QCOW2_OFFSET_MASK, rb = q->rt[0];
    uint8_t *t;
    GError *e = NULL;
    g_assert_true(qcow2_load_l2(q, l2, &t, &e));
    uint64_t data = q_be64(t) & QCOW2_OFFSET_MASK;
    hg_block_close(b);
    uint8_t zero[2] = {0, 0};
    poke(p, rb + 2 * (data >> 12), zero, 2); /* the data cluster's refcount: 1 -> 0 */
    HgQcow2Check res;
    GString *log = g_string_new(NULL);
    for (int fix = 0; fix <= 2; fix++) {
        b = open_ok(p, "qcow2", fix == 0);
        g_assert_true(hg_qcow2_check(hg_qcow2_from_block(b), fix, &res, log, &e));
        g_assert_no_error(e);
        if (fix < 2) {
            g_assert_cmpuint(res.corruptions, >=, 2); /* the refcount and the COPIED flag */
        } else {
            g_assert_cmpuint(res.corruptions, ==, 0);
            g_assert_cmpuint(res.corruptions_fixed, >=, 1);
        }
        hg_block_close(b);
    }
    if (have_qemu())
        qemu_check_clean(p);
    /* An image marked dirty (QEMU's lazy refcounts, killed) or corrupt: refused writable
     * until check -r all has rebuilt the refcounts and cleared the mark. */
    for (int bit = 0; bit < 2; bit++) {
        uint8_t be[8];
        q_put64(be, 1ull << bit);
        poke(p, 72, be, 8);
        expect_refused(p, "check -r all");
        HgBlockChain chain = {.repair = true};
        b = hg_block_open_chain(p, NULL, false, &chain, &e);
        g_assert_no_error(e);
        g_assert_true(hg_qcow2_check(hg_qcow2_from_block(b), 2, &res, log, &e));
        g_assert_no_error(e);
        hg_block_close(b);
        b = open_ok(p, NULL, false);
        hg_block_close(b);
    }
    g_string_free(log, true);
    g_unlink(p);
    g_free(p);
}

/* ---- Format detection ---- */

static void test_probe_guard(void)
{
    char *p = tmp("probe.raw");
    GError *e = NULL;
    g_assert_true(hg_image_create(p, "raw", 1 << 16, NULL, NULL, &e));
    HgBlock *b = open_ok(p, NULL, false);
    g_assert_cmpstr(hg_block_format(b), ==, "raw");
    g_assert_false(hg_block_pwrite(b, 0, "QFI\xfb", 4, &e)); /* detected: guarded */
    g_clear_error(&e);
    g_assert_false(hg_block_pwrite(b, 2, "I\xfb", 2, &e) && hg_block_pwrite(b, 0, "QF", 2, &e));
    g_clear_error(&e);
    hg_block_close(b);
    b = open_ok(p, "raw", false); /* the user said raw: written as asked */
    g_assert_true(hg_block_pwrite(b, 0, "QFI\xfb", 4, &e));
    hg_block_close(b);
    b = hg_block_open(p, NULL, true, &e); /* now it looks like qcow2, and is refused as one */
    g_assert_null(b);
    g_clear_error(&e);
    b = open_ok(p, "raw", true);
    hg_block_close(b);
    g_unlink(p);
    g_free(p);
}

/* ---- hangar-run --snapshot's overlay ---- */

static void test_throwaway_overlay(void)
{
    char *p = tmp("keep.raw");
    GError *e = NULL;
    g_assert_true(hg_image_create(p, "raw", 1 << 20, NULL, NULL, &e));
    HgBlock *b = hg_block_open_snapshot(p, NULL, &e);
    g_assert_no_error(e);
    uint8_t d[1024], z[1024] = {0};
    memset(d, 7, sizeof(d));
    g_assert_true(hg_block_pwrite(b, 4096, d, sizeof(d), &e));
    assert_reads(b, 4096, d, sizeof(d));
    hg_block_close(b);
    b = open_ok(p, "raw", true);
    assert_reads(b, 4096, z, sizeof(z));
    hg_block_close(b);
    g_unlink(p);
    g_free(p);
}

/* machine.ini keeps the disk formats a user gave ([Drives] HDAFormat=, HDBFormat=). */
static void test_profile_formats(void)
{
    char *dir = tmp("profile");
    g_mkdir(dir, 0700);
    HgConfig c, d;
    hg_config_init(&c);
    hg_config_init(&d);
    c.hda = tmp("disk.img");
    c.hda_format = g_strdup("raw");
    c.hdb = tmp("other.qcow2");
    c.hdb_format = g_strdup("qcow2");
    GError *e = NULL;
    g_assert_true(hg_config_save_profile(&c, dir, &e));
    g_assert_true(hg_config_load_profile(&d, dir, &e));
    g_assert_no_error(e);
    g_assert_cmpstr(d.hda_format, ==, "raw");
    g_assert_cmpstr(d.hdb_format, ==, "qcow2");
    char *ini = g_build_filename(dir, "machine.ini", NULL);
    g_assert_true(
        g_file_set_contents(ini, "[Machine]\nMemory=64\n[Drives]\nHDAFormat=vmdk\n", -1, NULL));
    g_assert_false(hg_config_load_profile(&d, dir, &e));
    g_assert_nonnull(strstr(e->message, "HDAFormat=vmdk"));
    g_clear_error(&e);
    hg_config_clear(&c);
    hg_config_clear(&d);
    g_unlink(ini);
    g_rmdir(dir);
    g_free(ini);
    g_free(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    tmpdir = g_dir_make_tmp("hangar-qcow2-XXXXXX", NULL);
    g_test_add_func("/qcow2/random/64k", test_random_64k);
    g_test_add_func("/qcow2/random/512-refcount64-growth", test_random_small_clusters);
    g_test_add_func("/qcow2/random/v2", test_random_v2);
    g_test_add_func("/qcow2/random/refcount1", test_random_1bit);
    g_test_add_func("/qcow2/random/raw-base", test_random_raw_base);
    g_test_add_func("/qcow2/qemu-images", test_qemu_images);
    g_test_add_func("/qcow2/hostile", test_hostile);
    g_test_add_func("/qcow2/leak-repair", test_leak_repair);
    g_test_add_func("/qcow2/corruption-repair", test_corruption_repair);
    g_test_add_func("/qcow2/probe-guard", test_probe_guard);
    g_test_add_func("/qcow2/throwaway-overlay", test_throwaway_overlay);
    g_test_add_func("/qcow2/profile-formats", test_profile_formats);
    int rc = g_test_run();
    g_rmdir(tmpdir);
    g_free(tmpdir);
    return rc;
}
