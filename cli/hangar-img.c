/* hangar-img: creates, inspects, checks, converts, snapshots, rebases and resizes disk
 * images (raw and qcow2) through the engine's block layer (engine/block/). Where commands
 * overlap with qemu-img the syntax is qemu-img's, so habits and scripts carry over:
 *   create [-f FMT] [-b BACKING [-F FMT]] [-o OPTS] FILE [SIZE]
 *   info [-f FMT] FILE
 *   check [-f FMT] [-r leaks|all] FILE        (exit 0 clean, 2 corrupt, 3 leaks, 1 failed)
 *   convert [-c] [-f FMT] -O FMT [-o OPTS] IN OUT
 *   snapshot [-l | -c NAME | -a NAME | -d NAME] FILE
 *   rebase [-f FMT] [-u] -b BACKING [-F FMT] FILE
 *   resize [-f FMT] [--shrink] FILE [+|-]SIZE */
#include <errno.h>
#include <getopt.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "block/qcow2.h"
#include "hangar.h"

typedef struct Cmd {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *usage;
} Cmd;

static const Cmd *current;

static int usage_error(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "hangar-img %s: ", current->name);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nUsage: hangar-img %s\n", current->usage);
    return 1;
}

static int fail(GError *e)
{
    fprintf(stderr, "hangar-img %s: %s\n", current->name, e->message);
    g_error_free(e);
    return 1;
}

static bool want_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("Usage: hangar-img %s\n", current->usage);
            return true;
        }
    return false;
}

/* Sizes as qemu-img reads them: bytes, or a number with k/K, M, G, T, P, E (powers of 1024),
 * an optional B after the suffix. */
static bool parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    double v = g_ascii_strtod(s, &end);
    if (errno || end == s || v < 0)
        return false;
    uint64_t mul = 1;
    switch (*end) {
    case 'k':
    case 'K':
        mul = 1ull << 10;
        end++;
        break;
    case 'M':
        mul = 1ull << 20;
        end++;
        break;
    case 'G':
        mul = 1ull << 30;
        end++;
        break;
    case 'T':
        mul = 1ull << 40;
        end++;
        break;
    case 'P':
        mul = 1ull << 50;
        end++;
        break;
    case 'E':
        mul = 1ull << 60;
        end++;
        break;
    default: break;
    }
    if (*end == 'B' && mul > 1)
        end++;
    if (*end || v * (double)mul >= 18446744073709551615.0)
        return false;
    *out = (uint64_t)(v * (double)mul);
    return true;
}

static char *human(uint64_t n)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double v = (double)n;
    int u = 0;
    while (v >= 1024 && u < 6) {
        v /= 1024;
        u++;
    }
    return u == 0 ? g_strdup_printf("%" G_GUINT64_FORMAT " B", n)
                  : g_strdup_printf("%.3g %s", v, units[u]);
}

typedef struct Qopts {
    uint32_t cluster_bits, version, refcount_order;
} Qopts;

/* -o key=value,...: cluster_size, compat (0.10 or 1.1), refcount_bits. */
static bool parse_opts(const char *s, Qopts *o)
{
    if (!s)
        return true;
    char **kv = g_strsplit(s, ",", -1);
    bool ok = true;
    for (char **p = kv; ok && *p; p++) {
        char *eq = strchr(*p, '=');
        uint64_t n = 0;
        if (!eq) {
            ok = false;
        } else if (g_str_has_prefix(*p, "cluster_size=")) {
            ok = parse_size(eq + 1, &n) && n >= 512 && n <= (2u << 20) && !(n & (n - 1));
            o->cluster_bits = (uint32_t)g_bit_nth_lsf(n, -1);
        } else if (g_str_has_prefix(*p, "compat=")) {
            o->version = strcmp(eq + 1, "0.10") == 0 ? 2 : strcmp(eq + 1, "1.1") == 0 ? 3 : 0;
            ok = o->version != 0;
        } else if (g_str_has_prefix(*p, "refcount_bits=")) {
            ok = parse_size(eq + 1, &n) && n >= 1 && n <= 64 && !(n & (n - 1));
            o->refcount_order = (uint32_t)g_bit_nth_lsf(n, -1);
        } else {
            ok = false;
        }
    }
    g_strfreev(kv);
    if (ok && o->version == 2)
        ok = o->refcount_order == 4;
    return ok;
}

static bool check_format(const char *f)
{
    return !f || strcmp(f, "raw") == 0 || strcmp(f, "qcow2") == 0;
}

static const struct option long_opts[] = {
    {"help", no_argument, NULL, 'h'},
    {"shrink", no_argument, NULL, 'S'},
    {NULL, 0, NULL, 0},
};

/* ---- create ---- */

static int cmd_create(int argc, char **argv)
{
    const char *fmt = "raw", *backing = NULL, *bfmt = NULL, *opts = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "f:b:F:o:u", long_opts, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'b': backing = optarg; break;
        case 'F': bfmt = optarg; break;
        case 'o': opts = optarg; break;
        case 'u': break;
        default: return usage_error("unknown option");
        }
    }
    if (optind >= argc || argc - optind > 2)
        return usage_error("give the image file and its size");
    const char *file = argv[optind];
    uint64_t size = 0;
    if (optind + 1 < argc && !parse_size(argv[optind + 1], &size))
        return usage_error("'%s' is not a size (bytes, or a number with K, M, G, T)",
                           argv[optind + 1]);
    if (optind + 1 >= argc && !backing)
        return usage_error("give the image a size");
    if (!check_format(fmt) || !check_format(bfmt))
        return usage_error("formats are raw and qcow2");
    Qopts o = {16, 3, 4};
    if (!parse_opts(opts, &o) || (opts && strcmp(fmt, "qcow2") != 0))
        return usage_error("bad -o options '%s' (qcow2: cluster_size=SIZE, compat=0.10|1.1, "
                           "refcount_bits=1..64)",
                           opts);
    GError *e = NULL;
    bool ok;
    if (strcmp(fmt, "qcow2") == 0)
        ok = hg_qcow2_create(file, size, backing, bfmt, o.cluster_bits, o.version, o.refcount_order,
                             &e);
    else
        ok = hg_image_create(file, fmt, size, backing, bfmt, &e);
    if (!ok)
        return fail(e);
    printf("Formatting '%s', fmt=%s size=%" G_GUINT64_FORMAT "\n", file, fmt, size);
    return 0;
}

/* ---- info and snapshot -l ---- */

static void print_snapshots(const Qcow2 *q)
{
    printf("Snapshot list:\n%-10s%-17s%8s%20s%13s%11s\n", "ID", "TAG", "VM SIZE", "DATE",
           "VM CLOCK", "ICOUNT");
    for (uint32_t i = 0; i < q->nb_snapshots; i++) {
        const Qcow2Snapshot *s = &q->snaps[i];
        time_t t = s->date_sec;
        struct tm tm;
        char date[32];
        localtime_r(&t, &tm);
        strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", &tm);
        char *vm = human(s->vm_state_size);
        uint64_t ms = s->vm_clock_nsec / 1000000;
        printf("%-9s %-16s %8s %19s %02u:%02u:%02u.%03u %10s\n", s->id, s->name, vm, date,
               (unsigned)(ms / 3600000), (unsigned)(ms / 60000 % 60), (unsigned)(ms / 1000 % 60),
               (unsigned)(ms % 1000), "--");
        g_free(vm);
    }
}

static int cmd_info(int argc, char **argv)
{
    const char *fmt = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "f:U", long_opts, NULL)) != -1) {
        if (c == 'f')
            fmt = optarg;
        else if (c != 'U')
            return usage_error("unknown option");
    }
    if (optind != argc - 1)
        return usage_error("give one image file");
    if (!check_format(fmt))
        return usage_error("formats are raw and qcow2");
    GError *e = NULL;
    HgBlock *b = hg_block_open(argv[optind], fmt, true, &e);
    if (!b)
        return fail(e);
    struct stat st;
    uint64_t disk = stat(argv[optind], &st) == 0 ? (uint64_t)st.st_blocks * 512 : 0;
    char *vs = human(hg_block_size(b)), *ds = human(disk);
    printf("image: %s\nfile format: %s\nvirtual size: %s (%" G_GUINT64_FORMAT " bytes)\n"
           "disk size: %s\n",
           argv[optind], hg_block_format(b), vs, hg_block_size(b), ds);
    g_free(vs);
    g_free(ds);
    Qcow2 *q = hg_qcow2_from_block(b);
    if (q) {
        printf("cluster_size: %" G_GUINT64_FORMAT "\n", q->cs);
        if (q->backing_name) {
            printf("backing file: %s\n", q->backing_name);
            if (q->backing_format)
                printf("backing file format: %s\n", q->backing_format);
        }
        if (q->nb_snapshots)
            print_snapshots(q);
        printf("Format specific information:\n    compat: %s\n    compression type: zlib\n"
               "    lazy refcounts: %s\n    refcount bits: %u\n    corrupt: %s\n"
               "    extended l2: false\n",
               q->version == 2 ? "0.10" : "1.1", q->compat & 1 ? "true" : "false", q->rc_bits,
               q->incompat & QCOW2_INCOMPAT_CORRUPT ? "true" : "false");
    }
    hg_block_close(b);
    return 0;
}

/* ---- check ---- */

static int cmd_check(int argc, char **argv)
{
    const char *fmt = NULL;
    int fix = 0, c;
    while ((c = getopt_long(argc, argv, "f:r:q", long_opts, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'r':
            if (strcmp(optarg, "leaks") == 0)
                fix = 1;
            else if (strcmp(optarg, "all") == 0)
                fix = 2;
            else
                return usage_error("-r takes leaks or all");
            break;
        case 'q': break;
        default: return usage_error("unknown option");
        }
    }
    if (optind != argc - 1)
        return usage_error("give one image file");
    if (!check_format(fmt))
        return usage_error("formats are raw and qcow2");
    GError *e = NULL;
    HgBlockChain chain = {.repair = true};
    HgBlock *b = hg_block_open_chain(argv[optind], fmt, fix == 0, &chain, &e);
    if (!b)
        return fail(e);
    Qcow2 *q = hg_qcow2_from_block(b);
    if (!q) {
        fprintf(stderr, "hangar-img check: this image (%s) does not support checks\n",
                hg_block_format(b));
        hg_block_close(b);
        return 1;
    }
    HgQcow2Check r;
    GString *log = g_string_new(NULL);
    bool ok = hg_qcow2_check(q, fix, &r, log, &e);
    fputs(log->str, stdout);
    g_string_free(log, true);
    if (ok && fix)
        ok = hg_block_flush(b, &e);
    if (!ok) {
        hg_block_close(b);
        return fail(e);
    }
    if (r.leaks_fixed || r.corruptions_fixed)
        printf("The following inconsistencies were found and repaired:\n\n"
               "    %" G_GUINT64_FORMAT " leaked clusters\n    %" G_GUINT64_FORMAT
               " corruptions\n\n",
               r.leaks_fixed, r.corruptions_fixed);
    if (!r.corruptions && !r.leaks)
        printf("No errors were found on the image.\n");
    if (r.corruptions)
        printf("\n%" G_GUINT64_FORMAT " errors were found on the image.\nData may be "
               "corrupted, or further writes to the image may corrupt it.\n",
               r.corruptions);
    if (r.leaks)
        printf("\n%" G_GUINT64_FORMAT " leaked clusters were found on the image.\nThis means "
               "waste of disk space, but no harm to data.\n",
               r.leaks);
    if (r.total_clusters)
        printf("%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT " = %0.2f%% allocated, %0.2f%% "
               "compressed clusters\n",
               r.allocated_clusters, r.total_clusters,
               100.0 * (double)r.allocated_clusters / (double)r.total_clusters,
               r.allocated_clusters
                   ? 100.0 * (double)r.compressed_clusters / (double)r.allocated_clusters
                   : 0.0);
    printf("Image end offset: %" G_GUINT64_FORMAT "\n", r.image_end);
    hg_block_close(b);
    return r.corruptions ? 2 : r.leaks ? 3 : 0;
}

/* ---- convert ---- */

static bool all_zero(const uint8_t *p, size_t n)
{
    return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

static int cmd_convert(int argc, char **argv)
{
    const char *fmt = NULL, *ofmt = NULL, *opts = NULL;
    bool compress = false;
    int c;
    while ((c = getopt_long(argc, argv, "cf:O:o:pq", long_opts, NULL)) != -1) {
        switch (c) {
        case 'c': compress = true; break;
        case 'f': fmt = optarg; break;
        case 'O': ofmt = optarg; break;
        case 'o': opts = optarg; break;
        case 'p':
        case 'q': break;
        default: return usage_error("unknown option");
        }
    }
    if (argc - optind != 2)
        return usage_error("give the input and the output file");
    if (!ofmt)
        ofmt = "raw";
    if (!check_format(fmt) || !check_format(ofmt))
        return usage_error("formats are raw and qcow2");
    bool qout = strcmp(ofmt, "qcow2") == 0;
    if (compress && !qout)
        return usage_error("-c needs -O qcow2");
    Qopts o = {16, 3, 4};
    if (!parse_opts(opts, &o) || (opts && !qout))
        return usage_error("bad -o options '%s'", opts);
    const char *in = argv[optind], *out = argv[optind + 1];
    GError *e = NULL;
    HgBlock *src = hg_block_open(in, fmt, true, &e);
    if (!src)
        return fail(e);
    uint64_t size = hg_block_size(src);
    bool ok = qout ? hg_qcow2_create(out, size, NULL, NULL, o.cluster_bits, o.version,
                                     o.refcount_order, &e)
                   : hg_image_create(out, "raw", size ? size : 512, NULL, NULL, &e);
    HgBlock *dst = ok ? hg_block_open(out, ofmt, false, &e) : NULL;
    if (!dst) {
        hg_block_close(src);
        return fail(e);
    }
    Qcow2 *q = hg_qcow2_from_block(dst);
    size_t unit = q ? (size_t)q->cs : 65536;
    size_t bufsz = MAX(unit, (size_t)2 << 20);
    uint8_t *buf = g_malloc(bufsz);
    for (uint64_t off = 0, n; ok && off < size; off += n) {
        /* Whole units that surely read as zeros are skipped without reading them. */
        bool data;
        uint64_t pnum;
        n = MIN((uint64_t)bufsz, size - off);
        if (!(ok = hg_block_data_status(src, off, n, &data, &pnum, &e)))
            break;
        if (!data && pnum >= unit) {
            n = pnum - pnum % unit;
            continue;
        }
        if (data && pnum < n)
            n = MIN(n, (pnum + unit - 1) / unit * unit);
        if (!(ok = hg_block_pread(src, off, buf, (size_t)n, &e)))
            break;
        for (size_t p = 0; ok && p < n;) {
            size_t len = MIN(unit, n - p);
            if (all_zero(buf + p, len)) {
                p += len; /* the new image reads zeros there already */
                continue;
            }
            if (compress && len == unit) {
                ok = hg_qcow2_write_compressed(q, off + p, buf + p, &e);
                p += len;
                continue;
            }
            /* A run of non-zero units goes down in one write. */
            size_t run = len;
            while (p + run < n && !all_zero(buf + p + run, MIN(unit, n - p - run)))
                run += MIN(unit, n - p - run);
            ok = hg_block_pwrite(dst, off + p, buf + p, run, &e);
            p += run;
        }
    }
    g_free(buf);
    ok = ok && hg_block_flush(dst, &e);
    hg_block_close(src);
    hg_block_close(dst);
    return ok ? 0 : fail(e);
}

/* ---- snapshot ---- */

static int cmd_snapshot(int argc, char **argv)
{
    int op = 0, c;
    const char *name = NULL;
    while ((c = getopt_long(argc, argv, "lc:a:d:f:q", long_opts, NULL)) != -1) {
        switch (c) {
        case 'l':
        case 'c':
        case 'a':
        case 'd':
            if (op)
                return usage_error("give one of -l, -c, -a, -d");
            op = c;
            name = optarg;
            break;
        case 'f':
            if (strcmp(optarg, "qcow2") != 0)
                return usage_error("snapshots need a qcow2 image");
            break;
        case 'q': break;
        default: return usage_error("unknown option");
        }
    }
    if (!op)
        return usage_error("give one of -l, -c, -a, -d");
    if (optind != argc - 1)
        return usage_error("give one image file");
    GError *e = NULL;
    HgBlock *b = hg_block_open(argv[optind], NULL, op == 'l', &e);
    if (!b)
        return fail(e);
    Qcow2 *q = hg_qcow2_from_block(b);
    bool ok = true;
    if (!q) {
        hg_block_close(b);
        fprintf(stderr,
                "hangar-img snapshot: %s is not a qcow2 image; only qcow2 images hold "
                "snapshots\n",
                argv[optind]);
        return 1;
    }
    if (op == 'l')
        print_snapshots(q);
    else if (op == 'c')
        ok = hg_qcow2_snapshot_create(q, name, &e);
    else if (op == 'a')
        ok = hg_qcow2_snapshot_apply(q, name, &e);
    else
        ok = hg_qcow2_snapshot_delete(q, name, &e);
    ok = ok && hg_block_flush(b, &e);
    hg_block_close(b);
    return ok ? 0 : fail(e);
}

/* ---- rebase ---- */

static int cmd_rebase(int argc, char **argv)
{
    const char *fmt = NULL, *backing = NULL, *bfmt = NULL;
    bool unsafe = false;
    int c;
    while ((c = getopt_long(argc, argv, "f:b:F:upq", long_opts, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'b': backing = optarg; break;
        case 'F': bfmt = optarg; break;
        case 'u': unsafe = true; break;
        case 'p':
        case 'q': break;
        default: return usage_error("unknown option");
        }
    }
    if (optind != argc - 1)
        return usage_error("give one image file");
    if (!backing)
        return usage_error("give the new backing file with -b (\"\" for none)");
    if (!check_format(fmt) || !check_format(bfmt))
        return usage_error("formats are raw and qcow2");
    const char *file = argv[optind];
    GError *e = NULL;
    HgBlock *b = hg_block_open(file, fmt, false, &e);
    if (!b)
        return fail(e);
    Qcow2 *q = hg_qcow2_from_block(b);
    if (!q) {
        hg_block_close(b);
        fprintf(stderr, "hangar-img rebase: %s is not a qcow2 image\n", file);
        return 1;
    }
    HgBlock *nb = NULL;
    bool ok = true;
    if (*backing) {
        char *dir = g_path_get_dirname(file);
        char *path =
            g_path_is_absolute(backing) ? g_strdup(backing) : g_build_filename(dir, backing, NULL);
        g_free(dir);
        nb = hg_block_open(path, bfmt, true, &e);
        g_free(path);
        ok = nb != NULL;
        if (ok && !bfmt)
            bfmt = hg_block_format(nb);
    }
    if (ok && !unsafe) {
        /* Clusters the image takes from its backing file: where the old and the new backing
         * differ, the old contents are copied into the image. */
        uint64_t size = hg_block_size(b), cs = q->cs;
        uint64_t nsize = nb ? hg_block_sectors(nb) * HG_BLOCK_SECTOR : 0;
        uint8_t *a = g_malloc(cs), *n = g_malloc(cs);
        for (uint64_t off = 0; ok && off < size; off += cs) {
            size_t len = (size_t)MIN(cs, hg_block_sectors(b) * HG_BLOCK_SECTOR - off);
            bool alloc;
            if (!(ok = hg_qcow2_cluster_allocated(q, off, &alloc, &e)) || alloc)
                continue;
            if (!(ok = hg_block_pread(b, off, a, len, &e)))
                break;
            memset(n, 0, len);
            if (off < nsize)
                ok = hg_block_pread(nb, off, n, (size_t)MIN((uint64_t)len, nsize - off), &e);
            if (ok && memcmp(a, n, len) != 0)
                ok = hg_block_pwrite(b, off, a, len, &e);
        }
        g_free(a);
        g_free(n);
    }
    ok =
        ok && hg_qcow2_set_backing(q, *backing ? backing : NULL, bfmt, &e) && hg_block_flush(b, &e);
    hg_block_close(nb);
    hg_block_close(b);
    return ok ? 0 : fail(e);
}

/* ---- resize ---- */

static int cmd_resize(int argc, char **argv)
{
    const char *fmt = NULL;
    bool shrink = false;
    int c;
    /* A leading '-' of the size is not an option. */
    while ((c = getopt_long(argc, argv, "+f:q", long_opts, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'S': shrink = true; break;
        case 'q': break;
        default: return usage_error("unknown option");
        }
    }
    if (argc - optind != 2)
        return usage_error("give the image file and the new size");
    if (!check_format(fmt))
        return usage_error("formats are raw and qcow2");
    const char *file = argv[optind], *arg = argv[optind + 1];
    int sign = *arg == '+' ? 1 : *arg == '-' ? -1 : 0;
    uint64_t v;
    if (!parse_size(arg + (sign != 0), &v))
        return usage_error("'%s' is not a size", arg);
    GError *e = NULL;
    HgBlock *b = hg_block_open(file, fmt, false, &e);
    if (!b)
        return fail(e);
    uint64_t old = hg_block_size(b);
    uint64_t size = sign > 0 ? old + v : sign < 0 ? (v > old ? 0 : old - v) : v;
    bool ok = true;
    if (size < old && !shrink) {
        hg_block_close(b);
        fprintf(stderr, "hangar-img resize: shrinking loses the data at the end; give "
                        "--shrink if that is what you want\n");
        return 1;
    }
    Qcow2 *q = hg_qcow2_from_block(b);
    if (q)
        ok = hg_qcow2_resize(q, size, &e) && hg_block_flush(b, &e);
    hg_block_close(b);
    if (!q && truncate(file, (off_t)size) != 0) {
        fprintf(stderr, "hangar-img resize: %s: %s\n", file, g_strerror(errno));
        return 1;
    }
    if (!ok)
        return fail(e);
    printf("Image resized.\n");
    return 0;
}

static const Cmd cmds[] = {
    {"create", cmd_create,
     "create [-f raw|qcow2] [-b BACKING [-F FMT]] [-o cluster_size=N,compat=0.10|1.1,"
     "refcount_bits=N] FILE [SIZE]"},
    {"info", cmd_info, "info [-f FMT] FILE"},
    {"check", cmd_check, "check [-f FMT] [-r leaks|all] FILE"},
    {"convert", cmd_convert, "convert [-c] [-f FMT] -O raw|qcow2 [-o OPTIONS] INPUT OUTPUT"},
    {"snapshot", cmd_snapshot, "snapshot [-l | -c NAME | -a NAME | -d NAME] FILE"},
    {"rebase", cmd_rebase, "rebase [-f FMT] [-u] -b BACKING [-F FMT] FILE"},
    {"resize", cmd_resize, "resize [-f FMT] [--shrink] FILE [+|-]SIZE"},
};

static void help(FILE *f)
{
    fprintf(f, "Usage: hangar-img COMMAND [OPTIONS] ...\n\nDisk images, raw and qcow2 "
               "(versions 2 and 3). Commands:\n");
    for (size_t i = 0; i < G_N_ELEMENTS(cmds); i++)
        fprintf(f, "  %s\n", cmds[i].usage);
    fprintf(f, "\nSizes take K, M, G, T suffixes (powers of 1024). 'hangar-img COMMAND --help' "
               "shows one command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        help(stderr);
        return 1;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        help(stdout);
        return 0;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(cmds); i++) {
        if (strcmp(argv[1], cmds[i].name) != 0)
            continue;
        current = &cmds[i];
        if (want_help(argc - 1, argv + 1))
            return 0;
        opterr = 0;
        return cmds[i].run(argc - 1, argv + 1);
    }
    fprintf(stderr, "hangar-img: unknown command '%s'\n", argv[1]);
    help(stderr);
    return 1;
}
