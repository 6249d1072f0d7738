/* hangar-run: starts a machine from command-line options without the GUI.
 *
 * Output devices map to host files here: --serial and --debugcon take "stdio",
 * "file:PATH" or "none". The process exits with the status the guest asked for
 * through the debug-exit port ((v << 1) | 1), 0 when the machine powers off, and 1
 * with a message on errors.
 */
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hangar.h"

typedef struct Outputs {
    FILE *serial;
    FILE *debugcon;
} Outputs;

static void serial_out(void *opaque, int port, uint8_t byte)
{
    Outputs *o = opaque;
    if (port == 0 && o->serial) {
        fputc(byte, o->serial);
        if (byte == '\n')
            fflush(o->serial);
    }
}

static void debugcon_out(void *opaque, uint8_t byte)
{
    Outputs *o = opaque;
    fputc(byte, o->debugcon);
    if (byte == '\n')
        fflush(o->debugcon);
}

/* Opens an output named "stdio", "file:PATH" or "none". */
static bool open_output(const char *what, const char *spec, FILE **out, GError **error)
{
    *out = NULL;
    if (!spec || strcmp(spec, "none") == 0)
        return true;
    if (strcmp(spec, "stdio") == 0) {
        *out = stdout;
        return true;
    }
    if (g_str_has_prefix(spec, "file:") && spec[5]) {
        *out = fopen(spec + 5, "wb");
        if (!*out) {
            g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
                        "cannot open %s output file %s: %s", what, spec + 5, g_strerror(errno));
            return false;
        }
        return true;
    }
    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                "--%s: expected stdio, file:PATH or none, not \"%s\"", what, spec);
    return false;
}

int main(int argc, char **argv)
{
    HgConfig cfg;
    hg_config_init(&cfg);
    gint memory = 128;
    gchar *bios = NULL, *kernel = NULL, *initrd = NULL, *append = NULL;
    gchar *serial = NULL, *debugcon = NULL, *display = NULL, *clock = NULL;
    gboolean debug_exit = FALSE, no_reboot = FALSE;
    gint64 max_insns = 0;
    GOptionEntry entries[] = {
        {"memory", 'm', 0, G_OPTION_ARG_INT, &memory, "Guest RAM in MiB (default 128)", "MIB"},
        {"bios", 0, 0, G_OPTION_ARG_FILENAME, &bios, "Firmware image", "FILE"},
        {"kernel", 0, 0, G_OPTION_ARG_FILENAME, &kernel, "Multiboot kernel to start", "FILE"},
        {"initrd", 0, 0, G_OPTION_ARG_FILENAME, &initrd, "Initial RAM disk (module)", "FILE"},
        {"append", 0, 0, G_OPTION_ARG_STRING, &append, "Kernel command line", "TEXT"},
        {"serial", 0, 0, G_OPTION_ARG_STRING, &serial,
         "COM1: stdio, file:PATH or none (default stdio)", "DEV"},
        {"debugcon", 0, 0, G_OPTION_ARG_STRING, &debugcon,
         "Port 0xE9 output: stdio or file:PATH", "DEV"},
        {"debug-exit", 0, 0, G_OPTION_ARG_NONE, &debug_exit,
         "Enable the exit port 0xF4 and the echo ports 0xE0-0xE3", NULL},
        {"no-reboot", 0, 0, G_OPTION_ARG_NONE, &no_reboot,
         "Exit instead of resetting on a triple fault", NULL},
        {"display", 0, 0, G_OPTION_ARG_STRING, &display, "Display: none", "KIND"},
        {"clock", 0, 0, G_OPTION_ARG_STRING, &clock,
         "Guest clock: host (real time) or icount (instruction-counted)", "MODE"},
        {"max-insns", 0, 0, G_OPTION_ARG_INT64, &max_insns,
         "Stop with an error after this many guest instructions", "N"},
        {NULL},
    };
    GError *error = NULL;
    GOptionContext *ctx = g_option_context_new("[PROFILE] - run a Hangar machine");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_summary(ctx, "Starts a virtual PC without the graphical manager.");
    int status = 1;
    Outputs out = {0};
    HgMachine *m = NULL;

    if (!g_option_context_parse(ctx, &argc, &argv, &error))
        goto err;
    if (argc > 1) {
        g_set_error(&error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                    "machine profiles are not supported yet; start an ad-hoc machine with "
                    "--bios or --kernel");
        goto err;
    }
    if (display && strcmp(display, "none") != 0) {
        g_set_error(&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--display: only \"none\" is available in this build, not \"%s\"", display);
        goto err;
    }
    if (clock && strcmp(clock, "host") != 0 && strcmp(clock, "icount") != 0) {
        g_set_error(&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--clock: expected host or icount, not \"%s\"", clock);
        goto err;
    }
    if (memory <= 0) {
        g_set_error(&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--memory: expected a positive number of MiB");
        goto err;
    }
    if (!open_output("serial", serial ? serial : "stdio", &out.serial, &error))
        goto err;
    if (debugcon && (strcmp(debugcon, "none") == 0 ||
                     !open_output("debugcon", debugcon, &out.debugcon, &error))) {
        if (!error)
            out.debugcon = NULL;
        else
            goto err;
    }

    cfg.memory_mib = (uint32_t)memory;
    cfg.bios = bios;
    cfg.kernel = kernel;
    cfg.initrd = initrd;
    cfg.append = append;
    cfg.debug_exit = debug_exit;
    cfg.no_reboot = no_reboot;
    cfg.clock = clock && strcmp(clock, "icount") == 0 ? HG_CLOCK_ICOUNT : HG_CLOCK_HOST;
    HgMachineHooks hooks = {
        .opaque = &out,
        .serial_out = serial_out,
        .debugcon_out = out.debugcon ? debugcon_out : NULL,
    };
    m = hg_machine_new(&cfg, &hooks, &error);
    if (!m)
        goto err;

    int64_t budget = max_insns > 0 ? max_insns : INT64_MAX;
    HgRunResult r = hg_machine_run(m, budget);
    if (r == HG_RUN_EXITED) {
        status = hg_machine_exit_status(m);
    } else if (r == HG_RUN_STUCK) {
        fprintf(stderr, "hangar-run: the guest halted the CPU and nothing can wake it\n");
        status = 1;
    } else {
        fprintf(stderr, "hangar-run: stopped after %" G_GINT64_FORMAT " instructions (--max-insns)\n",
                max_insns);
        status = 1;
    }
    goto done;

err:
    fprintf(stderr, "hangar-run: %s\n", error->message);
    g_clear_error(&error);
    status = 1;
done:
    hg_machine_free(m);
    if (out.serial && out.serial != stdout)
        fclose(out.serial);
    if (out.debugcon && out.debugcon != stdout)
        fclose(out.debugcon);
    fflush(stdout);
    g_option_context_free(ctx);
    g_free(bios);
    g_free(kernel);
    g_free(initrd);
    g_free(append);
    g_free(serial);
    g_free(debugcon);
    g_free(display);
    g_free(clock);
    return status;
}
