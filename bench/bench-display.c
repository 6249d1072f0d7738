/* Display benchmarks (issue 4): figures, not assertions (docs/testing.md, layer 6).
 *
 * fill: a guest (bench/display-fill.asm, a boot sector through SeaBIOS and the Cirrus VGA
 *   BIOS) rewrites the whole 1024x768x16 linear framebuffer in a loop. A consumer of the
 *   display (engine/display.h) on its own thread, woken by its notifier, copies the dirty
 *   rectangles as the GUI and SDL window do. Printed: updates delivered to it per second,
 *   full frames per second by area (the area of the rectangles it copied over the screen's),
 *   and the frames the guest wrote per second (one debug-console byte each). With QEMU on
 *   the PATH, the same guest's frames written per second under TCG (-display none: QEMU
 *   draws nothing without a display, so only the guest's rate compares).
 * idle: SeaBIOS and a boot sector waiting for a key at a prompt in VGA text mode
 *   (tests/vnc/echo-boot.asm). Printed: the process's CPU time as a percentage of one core
 *   over the measuring time, without a consumer and with one (the GUI's case), and the
 *   emulation thread's share; with QEMU, its CPU percentage for the same guest with
 *   -display none and with a VNC client connected.
 *
 * usage: bench-display FILL_SECTOR IDLE_SECTOR [SECONDS]
 * (the sectors are 512-byte boot sectors; each is padded to a 1.44 MB floppy here).
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "display.h"
#include "hangar.h"
#include "vnc.h"

enum { FLOPPY_SIZE = 1474560 };

static char *make_floppy(const char *sector, const char *dir, const char *name)
{
    gchar *data = NULL;
    gsize len = 0;
    GError *error = NULL;
    if (!g_file_get_contents(sector, &data, &len, &error)) {
        fprintf(stderr, "bench-display: %s\n", error->message);
        exit(1);
    }
    char *img = g_malloc0(FLOPPY_SIZE);
    memcpy(img, data, MIN(len, (gsize)FLOPPY_SIZE));
    char *path = g_build_filename(dir, name, NULL);
    if (!g_file_set_contents(path, img, FLOPPY_SIZE, &error)) {
        fprintf(stderr, "bench-display: %s\n", error->message);
        exit(1);
    }
    g_free(img);
    g_free(data);
    return path;
}

static double cpu_seconds(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU seconds of this process's thread named name (from /proc), or -1. */
static double thread_cpu(const char *name)
{
    GDir *dir = g_dir_open("/proc/self/task", 0, NULL);
    double total = -1;
    const char *tid;
    long tick = sysconf(_SC_CLK_TCK);
    while (dir && (tid = g_dir_read_name(dir))) {
        gchar *path = g_strdup_printf("/proc/self/task/%s/stat", tid);
        gchar *stat = NULL;
        if (g_file_get_contents(path, &stat, NULL, NULL)) {
            char *open = strchr(stat, '('), *close = strrchr(stat, ')');
            if (open && close && (size_t)(close - open - 1) == strlen(name) &&
                strncmp(open + 1, name, strlen(name)) == 0) {
                unsigned long ut = 0, st = 0;
                /* Fields after the name: state(3) ... utime(14) stime(15). */
                if (sscanf(close + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut,
                           &st) == 2)
                    total = MAX(total, 0) + (double)(ut + st) / tick;
            }
        }
        g_free(stat);
        g_free(path);
    }
    if (dir)
        g_dir_close(dir);
    return total;
}

/* CPU seconds of process pid so far (utime + stime), or -1. */
static double process_cpu(GPid pid)
{
    gchar *path = g_strdup_printf("/proc/%d/stat", (int)pid);
    gchar *stat = NULL;
    double t = -1;
    if (g_file_get_contents(path, &stat, NULL, NULL)) {
        char *close = strrchr(stat, ')');
        unsigned long ut = 0, st = 0;
        if (close &&
            sscanf(close + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) == 2)
            t = (double)(ut + st) / sysconf(_SC_CLK_TCK);
    }
    g_free(stat);
    g_free(path);
    return t;
}

/* --- A consumer like the GUI's: woken by its notifier, copies what changed --------- */

typedef struct Viewer {
    HgDisplayConsumer *cons;
    GMutex lock;
    GCond cond;
    bool pending, stop;
    uint32_t *shadow;
    int width, height;
    uint64_t generation;
    /* Counters (under lock): updates with pixels, pixels copied, of which at 1024x768. */
    uint64_t updates, pixels, big_updates, big_pixels;
} Viewer;

static void viewer_notify(void *opaque, bool resized)
{
    Viewer *v = opaque;
    g_mutex_lock(&v->lock);
    v->pending = true;
    g_cond_signal(&v->cond);
    g_mutex_unlock(&v->lock);
}

static gpointer viewer_thread(gpointer opaque)
{
    Viewer *v = opaque;
    for (;;) {
        g_mutex_lock(&v->lock);
        while (!v->pending && !v->stop)
            g_cond_wait(&v->cond, &v->lock);
        bool stop = v->stop;
        v->pending = false;
        g_mutex_unlock(&v->lock);
        if (stop)
            return NULL;
        HgDisplay *d = hg_display_consumer_display(v->cons);
        HgSurface s;
        HgRect r[32];
        hg_display_lock(d, &s);
        int n = hg_display_take_dirty(v->cons, r, G_N_ELEMENTS(r), NULL);
        if (!v->shadow || s.generation != v->generation) {
            g_free(v->shadow);
            v->shadow = g_new(uint32_t, (size_t)s.width * s.height);
            v->width = s.width;
            v->height = s.height;
            v->generation = s.generation;
        }
        uint64_t px = 0;
        for (int i = 0; i < n; i++) {
            for (int y = r[i].y; y < r[i].y + r[i].h; y++)
                memcpy(v->shadow + (size_t)y * v->width + r[i].x,
                       s.pixels + (size_t)y * (s.stride / 4) + r[i].x, (size_t)r[i].w * 4);
            px += (uint64_t)r[i].w * r[i].h;
        }
        bool big = s.width == 1024 && s.height == 768;
        hg_display_unlock(d);
        g_mutex_lock(&v->lock);
        if (px) {
            v->updates++;
            v->pixels += px;
            if (big) {
                v->big_updates++;
                v->big_pixels += px;
            }
        }
        g_mutex_unlock(&v->lock);
    }
}

typedef struct Run {
    HgMachine *m;
    Viewer viewer;
    GThread *viewer_thread;
    gint frames; /* 'f' bytes on the debug console */
    gint failed; /* 'E' */
} Run;

static void debugcon(void *opaque, uint8_t byte)
{
    Run *r = opaque;
    if (byte == 'f')
        g_atomic_int_inc(&r->frames);
    if (byte == 'E')
        g_atomic_int_set(&r->failed, 1);
}

static bool run_start(Run *r, const char *floppy, bool with_viewer)
{
    memset(r, 0, sizeof(*r));
    HgConfig cfg;
    hg_config_init(&cfg);
    cfg.memory_mib = 32;
    cfg.fda = g_strdup(floppy);
    hg_config_set_boot(&cfg, "a", NULL);
    HgMachineHooks hooks = {.opaque = r, .debugcon_out = debugcon};
    GError *error = NULL;
    r->m = hg_machine_new(&cfg, &hooks, &error);
    hg_config_clear(&cfg);
    if (!r->m) {
        fprintf(stderr, "bench-display: %s\n", error->message);
        g_error_free(error);
        return false;
    }
    if (with_viewer) {
        g_mutex_init(&r->viewer.lock);
        g_cond_init(&r->viewer.cond);
        r->viewer.cons =
            hg_display_add_consumer(hg_machine_display(r->m), viewer_notify, &r->viewer);
        r->viewer_thread = g_thread_new("viewer", viewer_thread, &r->viewer);
    }
    if (!hg_machine_start(r->m, &error)) {
        fprintf(stderr, "bench-display: %s\n", error->message);
        g_error_free(error);
        return false;
    }
    return true;
}

static void run_stop(Run *r)
{
    hg_machine_stop(r->m);
    if (r->viewer_thread) {
        g_mutex_lock(&r->viewer.lock);
        r->viewer.stop = true;
        g_cond_signal(&r->viewer.cond);
        g_mutex_unlock(&r->viewer.lock);
        g_thread_join(r->viewer_thread);
        hg_display_remove_consumer(r->viewer.cons);
        g_free(r->viewer.shadow);
        g_mutex_clear(&r->viewer.lock);
        g_cond_clear(&r->viewer.cond);
    }
    hg_machine_free(r->m);
}

/* Waits until the text screen shows text (the idle guest's prompt), up to 60 s. */
static bool wait_text(HgMachine *m, const char *text)
{
    for (int i = 0; i < 600; i++) {
        gchar **lines = hg_display_text_dump(hg_machine_display(m));
        bool found = false;
        for (int k = 0; lines && lines[k]; k++)
            found |= strstr(lines[k], text) != NULL;
        g_strfreev(lines);
        if (found)
            return true;
        g_usleep(100000);
    }
    return false;
}

/* --- QEMU ----------------------------------------------------------------------------- */

static GPid qemu_spawn(const char *qemu, const char *floppy, const char *debugcon_file,
                       const char *vnc)
{
    gchar *dc = g_strdup_printf("file:%s", debugcon_file);
    gchar *vnc_arg = vnc ? g_strdup_printf("unix:%s", vnc) : NULL;
    gchar *drive = g_strdup_printf("file=%s,if=floppy,format=raw", floppy);
    /* clang-format off */
    const char *argv[] = {
        qemu, "-machine", "pc", "-accel", "tcg", "-m", "32", "-vga", "cirrus",
        "-drive", drive, "-boot", "a", "-debugcon", dc, "-serial", "null",
        "-monitor", "none", "-display", "none", vnc ? "-vnc" : NULL, vnc_arg, NULL,
    };
    /* clang-format on */
    GPid pid = 0;
    GError *error = NULL;
    if (!g_spawn_async(NULL, (char **)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                       NULL, NULL, &pid,
                       &error)) {
        fprintf(stderr, "bench-display: cannot run %s: %s\n", qemu, error->message);
        g_error_free(error);
        pid = 0;
    }
    g_free(dc);
    g_free(drive);
    g_free(vnc_arg);
    return pid;
}

static void qemu_kill(GPid pid)
{
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    g_spawn_close_pid(pid);
}

static long count_byte(const char *path, char c)
{
    gchar *data = NULL;
    gsize len = 0;
    long n = 0;
    if (g_file_get_contents(path, &data, &len, NULL))
        for (gsize i = 0; i < len; i++)
            n += data[i] == c;
    g_free(data);
    return n;
}

/* A minimal RFB 3.8 client on a UNIX socket that keeps asking for incremental updates and
 * reads them (raw encoding), as a VNC viewer left open does. Runs until *stop. */
typedef struct RfbArgs {
    const char *path;
    gint stop;
    gint updates; /* FramebufferUpdates with at least one rectangle of pixels */
} RfbArgs;

static bool read_n(int fd, void *buf, size_t n)
{
    uint8_t *p = buf;
    while (n) {
        ssize_t k = read(fd, p, n);
        if (k <= 0)
            return false;
        p += k;
        n -= (size_t)k;
    }
    return true;
}

static gpointer rfb_thread(gpointer opaque)
{
    RfbArgs *a = opaque;
    int fd = -1;
    for (int i = 0; i < 100 && fd < 0; i++) {
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        g_strlcpy(sa.sun_path, a->path, sizeof(sa.sun_path));
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
            close(fd);
            fd = -1;
            g_usleep(100000);
        }
    }
    if (fd < 0)
        return NULL;
    uint8_t buf[65536];
    uint8_t one = 1;
    uint32_t w = 0, h = 0;
    /* Version, security type None, ClientInit shared, ServerInit. */
    if (!read_n(fd, buf, 12) || write(fd, "RFB 003.008\n", 12) != 12 || !read_n(fd, buf, 1) ||
        !read_n(fd, buf + 1, buf[0]) || write(fd, &one, 1) != 1 || !read_n(fd, buf, 4) ||
        write(fd, &one, 1) != 1 || !read_n(fd, buf, 24))
        goto out;
    w = (uint32_t)buf[0] << 8 | buf[1];
    h = (uint32_t)buf[2] << 8 | buf[3];
    uint32_t name_len = (uint32_t)buf[20] << 24 | buf[21] << 16 | buf[22] << 8 | buf[23];
    if (name_len > sizeof(buf) || !read_n(fd, buf, name_len))
        goto out;
    /* SetEncodings: raw only; the pixel format stays the server's 32 bits per pixel. */
    static const uint8_t enc[] = {2, 0, 0, 1, 0, 0, 0, 0};
    if (write(fd, enc, sizeof(enc)) != sizeof(enc))
        goto out;
    bool incremental = false;
    while (!g_atomic_int_get(&a->stop)) {
        uint8_t req[10] = {3, incremental, 0, 0, 0, 0, w >> 8, w & 0xff, h >> 8, h & 0xff};
        if (write(fd, req, sizeof(req)) != sizeof(req))
            goto out;
        incremental = true;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        while (!g_atomic_int_get(&a->stop) && poll(&p, 1, 100) == 0) {
        }
        if (g_atomic_int_get(&a->stop))
            break;
        uint8_t hdr[4];
        if (!read_n(fd, hdr, 1))
            goto out;
        if (hdr[0] != 0) { /* anything but an update: Bell (2) or ServerCutText (3) */
            if (hdr[0] == 3 && read_n(fd, buf, 7)) {
                uint32_t l = (uint32_t)buf[3] << 24 | buf[4] << 16 | buf[5] << 8 | buf[6];
                while (l) {
                    uint32_t k = MIN(l, (uint32_t)sizeof(buf));
                    if (!read_n(fd, buf, k))
                        goto out;
                    l -= k;
                }
            }
            continue;
        }
        if (!read_n(fd, hdr + 1, 3))
            goto out;
        int n = hdr[2] << 8 | hdr[3];
        for (int i = 0; i < n; i++) {
            uint8_t rh[12];
            if (!read_n(fd, rh, 12))
                goto out;
            uint32_t rw = rh[4] << 8 | rh[5], rhh = rh[6] << 8 | rh[7];
            int32_t e = (int32_t)((uint32_t)rh[8] << 24 | rh[9] << 16 | rh[10] << 8 | rh[11]);
            if (e == -223) { /* DesktopSize */
                w = rw;
                h = rhh;
                continue;
            }
            uint64_t l = (uint64_t)rw * rhh * 4;
            while (l) {
                size_t k = (size_t)MIN(l, (uint64_t)sizeof(buf));
                if (!read_n(fd, buf, k))
                    goto out;
                l -= k;
            }
        }
        if (n > 0)
            g_atomic_int_inc(&a->updates);
    }
out:
    close(fd);
    return NULL;
}

/* QEMU's CPU percentage for the idle guest over seconds (after warm-up). */
static double qemu_idle(const char *qemu, const char *floppy, const char *dir, int seconds,
                        bool vnc_client)
{
    gchar *dc = g_build_filename(dir, "qemu-idle.log", NULL);
    gchar *sock = g_build_filename(dir, "qemu-vnc.sock", NULL);
    GPid pid = qemu_spawn(qemu, floppy, dc, vnc_client ? sock : NULL);
    double pct = -1;
    if (pid) {
        RfbArgs args = {sock, 0};
        GThread *t = vnc_client ? g_thread_new("rfb", rfb_thread, &args) : NULL;
        g_usleep(5 * G_USEC_PER_SEC);
        double c0 = process_cpu(pid);
        gint64 t0 = g_get_monotonic_time();
        g_usleep((gulong)seconds * G_USEC_PER_SEC);
        double c1 = process_cpu(pid);
        double wall = (g_get_monotonic_time() - t0) / 1e6;
        pct = c0 >= 0 && c1 >= 0 ? 100 * (c1 - c0) / wall : -1;
        if (t) {
            g_atomic_int_set(&args.stop, 1);
            g_thread_join(t);
        }
        qemu_kill(pid);
    }
    g_unlink(sock);
    g_free(dc);
    g_free(sock);
    return pct;
}

/* --- The benchmarks ------------------------------------------------------------------- */

static int bench_fill(const char *floppy, int seconds, const char *qemu, const char *dir)
{
    Run r;
    if (!run_start(&r, floppy, true))
        return 1;
    /* Warm-up: the guest in mode 117h writing frames. */
    for (int i = 0; i < 600 && g_atomic_int_get(&r.frames) < 2 && !g_atomic_int_get(&r.failed); i++)
        g_usleep(100000);
    if (g_atomic_int_get(&r.frames) < 2) {
        fprintf(stderr, "bench-display: the fill guest did not start drawing (%s)\n",
                g_atomic_int_get(&r.failed) ? "VBE mode 117h refused" : "timeout");
        run_stop(&r);
        return 1;
    }
    g_usleep(G_USEC_PER_SEC);
    g_mutex_lock(&r.viewer.lock);
    uint64_t u0 = r.viewer.big_updates, p0 = r.viewer.big_pixels;
    g_mutex_unlock(&r.viewer.lock);
    int f0 = g_atomic_int_get(&r.frames);
    double e0 = thread_cpu("hangar-machine"), v0 = thread_cpu("viewer");
    gint64 t0 = g_get_monotonic_time();
    g_usleep((gulong)seconds * G_USEC_PER_SEC);
    double wall = (g_get_monotonic_time() - t0) / 1e6;
    g_mutex_lock(&r.viewer.lock);
    uint64_t u1 = r.viewer.big_updates, p1 = r.viewer.big_pixels;
    int vw = r.viewer.width, vh = r.viewer.height;
    g_mutex_unlock(&r.viewer.lock);
    int f1 = g_atomic_int_get(&r.frames);
    double e1 = thread_cpu("hangar-machine"), v1 = thread_cpu("viewer");
    /* The same through the VNC server: a client that asks for the next update as soon as
     * it has one. */
    double vnc_fps = -1;
    gchar *sock = g_build_filename(dir, "vnc.sock", NULL), *spec = g_strconcat("unix:", sock, NULL);
    HgVnc *vnc = hg_vnc_available() ? hg_vnc_start(r.m, spec, NULL, NULL) : NULL;
    if (vnc) {
        RfbArgs args = {sock, 0, 0};
        GThread *t = g_thread_new("rfb", rfb_thread, &args);
        g_usleep(G_USEC_PER_SEC);
        int n0 = g_atomic_int_get(&args.updates);
        gint64 vt0 = g_get_monotonic_time();
        g_usleep((gulong)seconds * G_USEC_PER_SEC);
        vnc_fps = (g_atomic_int_get(&args.updates) - n0) / ((g_get_monotonic_time() - vt0) / 1e6);
        g_atomic_int_set(&args.stop, 1);
        g_thread_join(t);
        hg_vnc_stop(vnc);
    }
    run_stop(&r);
    double guest_fps = (f1 - f0) / wall;
    printf("fill 1024x768x16 (surface %dx%d), %.1f s:\n", vw, vh, wall);
    printf("  updates delivered to a consumer: %.1f per second (goal >= 60; the display "
           "refreshes at 60 Hz)\n",
           (u1 - u0) / wall);
    printf("  full frames by area:             %.1f per second\n",
           (double)(p1 - p0) / (1024.0 * 768.0) / wall);
    printf("  frames the guest wrote:          %.1f per second\n", guest_fps);
    printf("  CPU: emulation thread %.0f%%, consumer thread %.0f%% of a core\n",
           100 * (e1 - e0) / wall, 100 * (v1 - v0) / wall);
    if (vnc_fps >= 0)
        printf("  updates a VNC client receives:   %.1f per second\n", vnc_fps);
    if (qemu) {
        gchar *dc = g_build_filename(dir, "qemu-fill.log", NULL);
        GPid pid = qemu_spawn(qemu, floppy, dc, sock);
        RfbArgs args = {sock, 0, 0};
        GThread *t = pid ? g_thread_new("rfb", rfb_thread, &args) : NULL;
        if (pid) {
            long q0 = 0;
            for (int i = 0; i < 300 && (q0 = count_byte(dc, 'f')) < 2; i++)
                g_usleep(100000);
            g_usleep(G_USEC_PER_SEC);
            q0 = count_byte(dc, 'f');
            int n0 = g_atomic_int_get(&args.updates);
            gint64 qt0 = g_get_monotonic_time();
            g_usleep((gulong)seconds * G_USEC_PER_SEC);
            long q1 = count_byte(dc, 'f');
            int n1 = g_atomic_int_get(&args.updates);
            double qwall = (g_get_monotonic_time() - qt0) / 1e6;
            g_atomic_int_set(&args.stop, 1);
            g_thread_join(t);
            qemu_kill(pid);
            double qfps = (q1 - q0) / qwall, qvnc = (n1 - n0) / qwall;
            printf("  QEMU TCG frames the guest wrote: %.1f per second (Hangar/QEMU %.2f)\n",
                   qfps, qfps > 0 ? guest_fps / qfps : 0);
            printf("  QEMU TCG updates to a VNC client: %.1f per second (Hangar/QEMU %.2f)\n",
                   qvnc, qvnc > 0 && vnc_fps >= 0 ? vnc_fps / qvnc : 0);
        }
        g_free(dc);
    }
    g_unlink(sock);
    g_free(sock);
    g_free(spec);
    return 0;
}

static int bench_idle(const char *floppy, int seconds, const char *qemu, const char *dir)
{
    double pct[2] = {0, 0};
    for (int with = 0; with < 2; with++) {
        Run r;
        if (!run_start(&r, floppy, with))
            return 1;
        if (!wait_text(r.m, "vnc>")) {
            fprintf(stderr, "bench-display: the idle guest's prompt did not appear\n");
            run_stop(&r);
            return 1;
        }
        g_usleep(G_USEC_PER_SEC);
        double c0 = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID);
        double e0 = thread_cpu("hangar-machine"), v0 = thread_cpu("viewer");
        g_mutex_lock(&r.viewer.lock);
        uint64_t u0 = r.viewer.updates;
        g_mutex_unlock(&r.viewer.lock);
        gint64 t0 = g_get_monotonic_time();
        g_usleep((gulong)seconds * G_USEC_PER_SEC);
        double wall = (g_get_monotonic_time() - t0) / 1e6;
        double c1 = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID);
        double e1 = thread_cpu("hangar-machine"), v1 = thread_cpu("viewer");
        g_mutex_lock(&r.viewer.lock);
        uint64_t u1 = r.viewer.updates;
        g_mutex_unlock(&r.viewer.lock);
        run_stop(&r);
        pct[with] = 100 * (c1 - c0) / wall;
        printf("idle text mode, %s, %.1f s: process %.2f%% of a core (emulation thread "
               "%.2f%%",
               with ? "one consumer" : "no consumer", wall, pct[with], 100 * (e1 - e0) / wall);
        if (with)
            printf(", consumer thread %.2f%%, %.1f updates/s", 100 * (v1 - v0) / wall,
                   (u1 - u0) / wall);
        printf(") (goal < 2%%)\n");
    }
    if (qemu) {
        double q0 = qemu_idle(qemu, floppy, dir, seconds, false);
        double q1 = qemu_idle(qemu, floppy, dir, seconds, true);
        printf("  QEMU TCG, same guest: %.2f%% with -display none (Hangar/QEMU %.2f), "
               "%.2f%% with a VNC client (Hangar with a consumer/QEMU %.2f)\n",
               q0, q0 > 0 ? pct[0] / q0 : 0, q1, q1 > 0 ? pct[1] / q1 : 0);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench-display FILL_SECTOR IDLE_SECTOR [SECONDS]\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    int seconds = argc > 3 ? atoi(argv[3]) : 20;
    if (seconds <= 0)
        seconds = 20;
    const char *only = g_getenv("HG_BENCH_DISPLAY"); /* "fill" or "idle" to run one */
    gchar *dir = g_dir_make_tmp("bench-display-XXXXXX", NULL);
    char *fill = make_floppy(argv[1], dir, "fill.img");
    char *idle = make_floppy(argv[2], dir, "idle.img");
    char *qemu = g_find_program_in_path("qemu-system-i386");
    int status = 0;
    if (!only || strcmp(only, "fill") == 0)
        status |= bench_fill(fill, MIN(seconds, 10), qemu, dir);
    if (!only || strcmp(only, "idle") == 0)
        status |= bench_idle(idle, seconds, qemu, dir);
    g_unlink(fill);
    g_unlink(idle);
    gchar *logs[] = {"qemu-fill.log", "qemu-idle.log"};
    for (size_t i = 0; i < G_N_ELEMENTS(logs); i++) {
        gchar *p = g_build_filename(dir, logs[i], NULL);
        g_unlink(p);
        g_free(p);
    }
    g_rmdir(dir);
    g_free(fill);
    g_free(idle);
    g_free(qemu);
    g_free(dir);
    return status;
}
