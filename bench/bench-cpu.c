/* CPU benchmark: runs guest loops (bench/cpu-*.asm, built as firmware images) in the
 * execution tier and prints guest instructions per second; when qemu-system-i386 is on
 * the PATH, runs the same images under QEMU's TCG and prints the time ratio. Figures, not
 * assertions: docs/testing.md, layer 6.
 *
 * usage: bench-cpu NAME IMAGE BASELINE_IMAGE [NAME IMAGE BASELINE_IMAGE...]
 * BASELINE_IMAGE is the same program with one iteration: its time is start-up cost.
 */
#include <glib.h>
#include <stdio.h>
#include <sys/wait.h>

#include "hangar.h"

typedef struct Result {
    double seconds;
    uint64_t insns;
} Result;

static gboolean run_hangar(const char *image, Result *res)
{
    HgConfig cfg;
    hg_config_init(&cfg);
    cfg.bios = g_strdup(image);
    cfg.debug_exit = true;
    cfg.clock = HG_CLOCK_ICOUNT;
    GError *error = NULL;
    gint64 t0 = g_get_monotonic_time();
    HgMachine *m = hg_machine_new(&cfg, NULL, &error);
    hg_config_clear(&cfg);
    if (!m) {
        fprintf(stderr, "bench-cpu: %s\n", error->message);
        g_error_free(error);
        return FALSE;
    }
    HgRunResult r = hg_machine_run(m, G_GINT64_CONSTANT(50000000000));
    res->seconds = (g_get_monotonic_time() - t0) / 1e6;
    res->insns = hg_machine_icount(m);
    gboolean ok = r == HG_RUN_EXITED && hg_machine_exit_status(m) == 1;
    if (!ok)
        fprintf(stderr, "bench-cpu: %s did not finish (run result %d, status %d)\n", image, r,
                hg_machine_exit_status(m));
    hg_machine_free(m);
    return ok;
}

static gboolean run_qemu(const char *qemu, const char *image, double *seconds)
{
    const char *argv[] = {qemu, "-machine", "pc", "-accel", "tcg", "-m", "32", "-bios", image,
                          "-display", "none", "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
                          "-no-reboot", "-serial", "null", "-monitor", "none", NULL};
    gint status = 0;
    GError *error = NULL;
    gint64 t0 = g_get_monotonic_time();
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                      NULL, &status, &error)) {
        fprintf(stderr, "bench-cpu: cannot run %s: %s\n", qemu, error->message);
        g_error_free(error);
        return FALSE;
    }
    *seconds = (g_get_monotonic_time() - t0) / 1e6;
    /* Exit status 1 is the guest's "EXIT 0" through isa-debug-exit. */
    return WIFEXITED(status) && WEXITSTATUS(status) == 1;
}

int main(int argc, char **argv)
{
    if (argc < 4 || (argc - 1) % 3) {
        fprintf(stderr, "usage: bench-cpu NAME IMAGE BASELINE_IMAGE...\n");
        return 2;
    }
    char *qemu = g_find_program_in_path("qemu-system-i386");
    int status = 0;
    for (int i = 1; i + 2 < argc; i += 3) {
        const char *name = argv[i];
        Result full, base;
        if (!run_hangar(argv[i + 1], &full) || !run_hangar(argv[i + 2], &base)) {
            status = 1;
            continue;
        }
        double secs = full.seconds - base.seconds;
        uint64_t insns = full.insns - base.insns;
        printf("%-10s hangar: %.3f M guest instructions in %.3f s = %.1f M instructions/s\n",
               name, insns / 1e6, secs, insns / 1e6 / secs);
        double q_full, q_base;
        if (qemu && run_qemu(qemu, argv[i + 1], &q_full) && run_qemu(qemu, argv[i + 2], &q_base)) {
            double q = q_full - q_base;
            printf("%-10s qemu-system-i386 (tcg): %.3f s = %.1f M instructions/s; "
                   "hangar/qemu speed ratio %.2f\n",
                   name, q, insns / 1e6 / q, q / secs);
        } else if (!qemu) {
            printf("%-10s qemu-system-i386 not installed: no comparison\n", name);
        }
    }
    g_free(qemu);
    return status;
}
