/* hangar-run: starts a machine profile or an ad-hoc machine without the GUI.
 *
 * The machine runs on its emulation thread; this program's main thread runs a GLib main
 * loop for the monitor (stdio or a UNIX socket), the serial console's input and, with
 * --display sdl, the SDL window (cli/sdl-display.h: a GLib timeout pumps SDL's events on
 * this thread), and ends when the machine does or the window is closed. Exit status: 0
 * when the guest powers off or the window is closed, (v << 1) | 1 when it writes v to the
 * debug-exit port, 1 with a message on errors.
 */
#include <errno.h>
#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <glib-unix.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audio.h"
#include "hangar.h"
#include "vnc.h"
#ifdef HG_HAVE_SDL
#include "sdl-display.h"
#endif

typedef struct App {
    GMainLoop *loop;
    HgMachine *machine;
    FILE *serial;      /* COM1 output, or NULL */
    FILE *debugcon;    /* port 0xE9 output, or NULL */
    bool serial_stdin; /* stdin feeds COM1 */
    bool monitor_stdio;
    GSocketService *monitor_service;
    char *monitor_path;
    int status;
    bool finished;
    bool quit_requested;
    guint in_watch; /* stdin source, 0 once removed */
#ifdef HG_HAVE_SDL
    HgSdlDisplay *sdl; /* --display sdl */
#endif
} App;

static void serial_out(void *opaque, int port, uint8_t byte)
{
    App *a = opaque;
    if (port == 0 && a->serial) {
        fputc(byte, a->serial);
        if (byte == '\n' || a->serial == stdout)
            fflush(a->serial);
    }
}

static void debugcon_out(void *opaque, uint8_t byte)
{
    App *a = opaque;
    fputc(byte, a->debugcon);
    if (byte == '\n')
        fflush(a->debugcon);
}

static gboolean quit_loop(gpointer data)
{
    App *a = data;
    a->finished = true;
    g_main_loop_quit(a->loop);
    return G_SOURCE_REMOVE;
}

/* Emulation thread: the machine finished (powered off or debug exit). */
static void state_changed(void *opaque, HgMachineState st)
{
    App *a = opaque;
    if (st == HG_STATE_FINISHED)
        g_idle_add(quit_loop, a);
}

/* ---- monitor ---- */

typedef struct MonRequest {
    App *app;
    char *line;
    GOutputStream *out; /* NULL: stdout */
    GString *reply;
    bool keep_going;
} MonRequest;

static gboolean monitor_reply(gpointer data)
{
    MonRequest *r = data;
    if (r->out)
        g_output_stream_write_all(r->out, r->reply->str, r->reply->len, NULL, NULL, NULL);
    else {
        fputs(r->reply->str, stdout);
        fputs("(hangar) ", stdout);
        fflush(stdout);
    }
    if (!r->keep_going) {
        r->app->quit_requested = true;
        g_main_loop_quit(r->app->loop);
    }
    g_free(r->line);
    g_string_free(r->reply, TRUE);
    if (r->out)
        g_object_unref(r->out);
    g_free(r);
    return G_SOURCE_REMOVE;
}

static void monitor_run(HgMachine *m, void *data)
{
    MonRequest *r = data;
    r->keep_going = hg_monitor_execute(m, r->line, r->reply);
    g_idle_add(monitor_reply, r);
}

static void monitor_send(App *a, const char *line, GOutputStream *out)
{
    MonRequest *r = g_new0(MonRequest, 1);
    r->app = a;
    r->line = g_strdup(line);
    r->out = out ? g_object_ref(out) : NULL;
    r->reply = g_string_new(NULL);
    hg_machine_call(a->machine, monitor_run, r, NULL);
}

typedef struct MonClient {
    App *app;
    GSocketConnection *conn;
    GDataInputStream *in;
} MonClient;

static void client_read(GObject *src, GAsyncResult *res, gpointer data)
{
    MonClient *c = data;
    gsize len;
    char *line = g_data_input_stream_read_line_finish(c->in, res, &len, NULL);
    if (!line) {
        g_object_unref(c->in);
        g_object_unref(c->conn);
        g_free(c);
        return;
    }
    monitor_send(c->app, line, g_io_stream_get_output_stream(G_IO_STREAM(c->conn)));
    g_free(line);
    g_data_input_stream_read_line_async(c->in, G_PRIORITY_DEFAULT, NULL, client_read, c);
}

static gboolean monitor_incoming(GSocketService *service, GSocketConnection *conn,
                                 GObject *source, gpointer data)
{
    MonClient *c = g_new0(MonClient, 1);
    c->app = data;
    c->conn = g_object_ref(conn);
    c->in = g_data_input_stream_new(g_io_stream_get_input_stream(G_IO_STREAM(conn)));
    GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(conn));
    const char *hello = "Hangar monitor - type help for the commands\n";
    g_output_stream_write_all(out, hello, strlen(hello), NULL, NULL, NULL);
    g_data_input_stream_read_line_async(c->in, G_PRIORITY_DEFAULT, NULL, client_read, c);
    return TRUE;
}

/* stdin: monitor lines, or bytes for COM1. */
static gboolean stdin_ready(GIOChannel *ch, GIOCondition cond, gpointer data)
{
    App *a = data;
    if (a->monitor_stdio) {
        char *line = NULL;
        gsize len;
        GIOStatus st = g_io_channel_read_line(ch, &line, &len, NULL, NULL);
        if (st == G_IO_STATUS_NORMAL && line) {
            monitor_send(a, line, NULL);
            g_free(line);
            return G_SOURCE_CONTINUE;
        }
        g_free(line);
        if (st == G_IO_STATUS_AGAIN)
            return G_SOURCE_CONTINUE;
        a->in_watch = 0;
        return G_SOURCE_REMOVE;
    }
    char buf[256];
    gsize n = 0;
    GIOStatus st = g_io_channel_read_chars(ch, buf, sizeof(buf), &n, NULL);
    if (n > 0)
        hg_machine_serial_input_async(a->machine, 0, (const uint8_t *)buf, n);
    if (st == G_IO_STATUS_EOF || st == G_IO_STATUS_ERROR) {
        a->in_watch = 0;
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

static gboolean on_signal(gpointer data)
{
    App *a = data;
    a->quit_requested = true;
    g_main_loop_quit(a->loop);
    return G_SOURCE_CONTINUE;
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
                        "cannot open the %s output file %s: %s", what, spec + 5,
                        g_strerror(errno));
            return false;
        }
        return true;
    }
    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                "--%s: expected stdio, file:PATH or none, not \"%s\"", what, spec);
    return false;
}

static bool setup_monitor(App *a, const char *spec, GError **error)
{
    if (!spec || strcmp(spec, "none") == 0)
        return true;
    if (strcmp(spec, "stdio") == 0) {
        a->monitor_stdio = true;
        return true;
    }
    if (g_str_has_prefix(spec, "unix:") && spec[5]) {
        a->monitor_path = g_strdup(spec + 5);
        unlink(a->monitor_path);
        GSocketAddress *addr = g_unix_socket_address_new(a->monitor_path);
        a->monitor_service = g_socket_service_new();
        bool ok = g_socket_listener_add_address(G_SOCKET_LISTENER(a->monitor_service), addr,
                                                G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT,
                                                NULL, NULL, error);
        g_object_unref(addr);
        if (!ok) {
            g_prefix_error(error, "--monitor: cannot listen on %s: ", a->monitor_path);
            return false;
        }
        g_signal_connect(a->monitor_service, "incoming", G_CALLBACK(monitor_incoming), a);
        g_socket_service_start(a->monitor_service);
        return true;
    }
    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                "--monitor: expected stdio, unix:PATH or none, not \"%s\"", spec);
    return false;
}

/* ---- VNC (engine/vnc.h) ---- */

/* Checks --vnc/--vnc-password before the machine exists, so mistakes fail early. A
 * --vnc-password-file (its first line: the password stays out of the process list)
 * becomes *password. */
static bool vnc_check_options(const char *spec, char **password, const char *password_file,
                              gint64 max_insns, GError **error)
{
    if (password_file) {
        char *text;
        if (!g_file_get_contents(password_file, &text, NULL, error)) {
            g_prefix_error(error, "--vnc-password-file: ");
            return false;
        }
        text[strcspn(text, "\r\n")] = 0;
        g_free(*password);
        *password = text;
    }
    if (spec && max_insns > 0) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--vnc needs the machine on its own thread, not a --max-insns run");
        return false;
    }
    if (*password && !spec) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--vnc-password needs --vnc");
        return false;
    }
    if (spec && !hg_vnc_available()) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--vnc: this build has no VNC server (install libvncserver-dev and "
                    "rebuild)");
        return false;
    }
    if (spec && !hg_vnc_check_spec(spec, error))
        return false;
    if (*password && (!**password || strlen(*password) > 8)) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--vnc-password: VNC passwords have 1 to 8 characters");
        return false;
    }
    return true;
}

/* Starts the VNC server once the machine's thread runs (its input is queued to that
 * thread); NULL spec: none. */
static bool vnc_setup(HgMachine *m, const char *spec, const char *password, HgVnc **out,
                      GError **error)
{
    *out = NULL;
    if (!spec)
        return true;
    *out = hg_vnc_start(m, spec, password, error);
    return *out != NULL;
}

/* ---- display (--display) ---- */

static bool check_display(const char *display, GError **error)
{
    if (!display || strcmp(display, "none") == 0)
        return true;
    if (strcmp(display, "sdl") == 0) {
#ifdef HG_HAVE_SDL
        return true;
#else
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--display sdl: this hangar-run was built without SDL2 (install "
                    "libsdl2-dev and reconfigure with meson setup --reconfigure)");
        return false;
#endif
    }
    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                "--display: expected none or sdl, not \"%s\"", display);
    return false;
}

#ifdef HG_HAVE_SDL
/* Main thread: the user closed the window; hangar-run ends as after the monitor's quit. */
static void sdl_closed(void *opaque)
{
    App *a = opaque;
    a->quit_requested = true;
    g_main_loop_quit(a->loop);
}
#endif

/* Opens the window (main thread, once the main loop exists). */
static bool start_display(App *a, const char *display, GError **error)
{
#ifdef HG_HAVE_SDL
    if (display && strcmp(display, "sdl") == 0) {
        a->sdl = hg_sdl_display_new(a->machine, sdl_closed, a, error);
        if (!a->sdl) {
            g_prefix_error(error, "--display sdl: ");
            return false;
        }
    }
#endif
    return true;
}

/* Closes the window; after the emulation thread ended. */
static void stop_display(App *a)
{
#ifdef HG_HAVE_SDL
    hg_sdl_display_free(a->sdl);
    a->sdl = NULL;
#endif
}

static void replace(char **field, char *value)
{
    if (value) {
        g_free(*field);
        *field = value;
    }
}

int main(int argc, char **argv)
{
    gint memory = -1;
    gchar *bios = NULL, *kernel = NULL, *initrd = NULL, *append = NULL;
    gchar *hda_format = NULL, *hdb_format = NULL;
    gchar *hda = NULL, *hdb = NULL, *cdrom = NULL, *fda = NULL, *boot = NULL;
    gchar *serial = NULL, *debugcon = NULL, *display = NULL, *clock = NULL, *monitor = NULL;
    gchar *vga = NULL, *loadvm = NULL;
    gchar *audio = NULL, *soundhw = NULL, *record = NULL;
    gchar *usb = NULL;
    gchar *nic = NULL, *net = NULL, *mac = NULL, *net_dump = NULL;
    gchar *vnc = NULL, *vnc_password = NULL, *vnc_password_file = NULL;
    HgVnc *vnc_server = NULL;
    gboolean debug_exit = FALSE, no_reboot = FALSE, snapshot = FALSE;
    gint64 max_insns = 0;
    gchar *write_profile = NULL;
    GOptionEntry entries[] = {
        {"memory", 'm', 0, G_OPTION_ARG_INT, &memory, "Guest RAM in MiB (default 128)", "MIB"},
        {"bios", 0, 0, G_OPTION_ARG_FILENAME, &bios, "Firmware image", "FILE"},
        {"kernel", 0, 0, G_OPTION_ARG_FILENAME, &kernel, "Kernel to start directly", "FILE"},
        {"initrd", 0, 0, G_OPTION_ARG_FILENAME, &initrd, "Initial RAM disk", "FILE"},
        {"append", 0, 0, G_OPTION_ARG_STRING, &append, "Kernel command line", "TEXT"},
        {"hda", 0, 0, G_OPTION_ARG_FILENAME, &hda, "Primary master hard disk image", "FILE"},
        {"hdb", 0, 0, G_OPTION_ARG_FILENAME, &hdb, "Primary slave hard disk image", "FILE"},
        {"hda-format", 0, 0, G_OPTION_ARG_STRING, &hda_format,
         "Format of the --hda image: raw or qcow2 (default: detected)", "FMT"},
        {"hdb-format", 0, 0, G_OPTION_ARG_STRING, &hdb_format,
         "Format of the --hdb image: raw or qcow2 (default: detected)", "FMT"},
        {"cdrom", 0, 0, G_OPTION_ARG_FILENAME, &cdrom, "CD-ROM image (ISO)", "FILE"},
        {"fda", 0, 0, G_OPTION_ARG_FILENAME, &fda, "Floppy image for drive A", "FILE"},
        {"boot", 0, 0, G_OPTION_ARG_STRING, &boot,
         "Boot order: c (disk), d (CD-ROM), a (floppy), e.g. dc", "ORDER"},
        {"serial", 0, 0, G_OPTION_ARG_STRING, &serial,
         "COM1: stdio, file:PATH or none (default stdio)", "DEV"},
        {"debugcon", 0, 0, G_OPTION_ARG_STRING, &debugcon,
         "Port 0xE9 output: stdio, file:PATH or none", "DEV"},
        {"debug-exit", 0, 0, G_OPTION_ARG_NONE, &debug_exit,
         "Enable the exit port 0xF4 and the echo ports 0xE0-0xE3", NULL},
        {"snapshot", 0, 0, G_OPTION_ARG_NONE, &snapshot,
         "Write to temporary overlays: the disk images stay unchanged", NULL},
        {"no-reboot", 0, 0, G_OPTION_ARG_NONE, &no_reboot,
         "Exit instead of resetting on a triple fault", NULL},
        {"write-profile", 0, 0, G_OPTION_ARG_FILENAME, &write_profile,
         "Write the machine the options describe as a profile in DIR and exit", "DIR"},
        {"display", 0, 0, G_OPTION_ARG_STRING, &display,
         "Display: none or sdl (a window; default none)", "KIND"},
        {"vga", 0, 0, G_OPTION_ARG_STRING, &vga, "Display adapter: cirrus (default) or std",
         "MODEL"},
        {"usb", 0, 0, G_OPTION_ARG_STRING, &usb,
         "USB devices: tablet, keyboard, mouse, storage:FILE (comma-separated)", "LIST"},
        {"monitor", 0, 0, G_OPTION_ARG_STRING, &monitor,
         "Monitor console: stdio, unix:PATH or none (default none)", "DEV"},
        {"clock", 0, 0, G_OPTION_ARG_STRING, &clock,
         "Guest clock: host (real time) or icount (instruction-counted)", "MODE"},
        {"vnc", 0, 0, G_OPTION_ARG_STRING, &vnc,
         "VNC server: :N (127.0.0.1, port 5900+N), HOST:N or unix:PATH", "WHERE"},
        {"vnc-password", 0, 0, G_OPTION_ARG_STRING, &vnc_password,
         "Password VNC clients must give (at most 8 characters)", "PASS"},
        {"vnc-password-file", 0, 0, G_OPTION_ARG_FILENAME, &vnc_password_file,
         "The VNC password from the first line of this file", "FILE"},
        {"loadvm", 0, 0, G_OPTION_ARG_FILENAME, &loadvm,
         "Start from a saved state (a name of the profile's, or a .hgstate file)", "NAME"},
        {"soundhw", 0, 0, G_OPTION_ARG_STRING, &soundhw,
         "Sound cards: a list of sb16, adlib, es1370, pcspk (or none)", "LIST"},
        {"audio", 0, 0, G_OPTION_ARG_STRING, &audio,
         "Host audio output: pulse, sdl or none (default: pulse when a server answers)",
         "OUT"},
        {"record", 0, 0, G_OPTION_ARG_FILENAME, &record,
         "Record the guest's sound into this WAV file", "FILE"},
        {"nic", 0, 0, G_OPTION_ARG_STRING, &nic,
         "Network card: ne2k_isa[,io=0x300,irq=7], ne2k_pci, rtl8139[,chip=cplus|classic] or "
         "none",
         "MODEL"},
        {"net", 0, 0, G_OPTION_ARG_STRING, &net,
         "Host side: user[,hostfwd=tcp:127.0.0.1:HOSTPORT-:GUESTPORT][,restrict=on] "
         "(default), tap,ifname=NAME or none",
         "SPEC"},
        {"mac", 0, 0, G_OPTION_ARG_STRING, &mac,
         "The card's MAC address (default 52:54:00:12:34:56)", "ADDR"},
        {"net-dump", 0, 0, G_OPTION_ARG_FILENAME, &net_dump,
         "Write every network frame into this pcap file (Wireshark, tshark)", "FILE"},
        {"max-insns", 0, 0, G_OPTION_ARG_INT64, &max_insns,
         "Stop with an error after this many guest instructions (icount clock)", "N"},
        {NULL},
    };
    GError *error = NULL;
    GOptionContext *ctx = g_option_context_new("[PROFILE] - run a Hangar machine");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_summary(
        ctx, "Starts a virtual PC without the graphical manager: a saved machine profile\n"
             "(its id, folder or machine.ini) or an ad-hoc machine from the options.\n"
             "Options given with a profile override its settings.");
    App app = {.status = 1};
    HgConfig cfg;
    hg_config_init(&cfg);

    if (!g_option_context_parse(ctx, &argc, &argv, &error))
        goto err;
    if (argc > 2) {
        g_set_error(&error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                    "one profile at a time: unexpected \"%s\"", argv[2]);
        goto err;
    }
    if (argc == 2) {
        char *dir = hg_profile_resolve(argv[1], &error);
        if (!dir)
            goto err;
        bool ok = hg_config_load_profile(&cfg, dir, &error);
        g_free(dir);
        if (!ok)
            goto err;
    }
    if (!check_display(display, &error))
        goto err;
    if (clock && strcmp(clock, "host") != 0 && strcmp(clock, "icount") != 0) {
        g_set_error(&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--clock: expected host or icount, not \"%s\"", clock);
        goto err;
    }
    if (memory != -1 && (memory < 1 || memory > 3072)) {
        g_set_error(&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--memory: expected a number of MiB from 1 to 3072");
        goto err;
    }
    if (!vnc_check_options(vnc, &vnc_password, vnc_password_file, max_insns, &error))
        goto err;
    if (boot && !hg_config_set_boot(&cfg, boot, &error))
        goto err;
    if (usb && !hg_config_set_usb(&cfg, usb, &error)) {
        g_prefix_error(&error, "--usb: ");
        goto err;
    }
    if (!serial)
        serial = g_strdup("stdio");
    if (strcmp(serial, "stdio") == 0 && monitor && strcmp(monitor, "stdio") == 0) {
        g_set_error(&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--serial and --monitor cannot both use stdio; give one a file or socket");
        goto err;
    }
    if (!open_output("serial", serial, &app.serial, &error))
        goto err;
    if (debugcon && !open_output("debugcon", debugcon, &app.debugcon, &error))
        goto err;
    if (!setup_monitor(&app, monitor, &error))
        goto err;
    app.serial_stdin = app.serial == stdout;

    if (memory > 0)
        cfg.memory_mib = (uint32_t)memory;
    replace(&cfg.bios, g_steal_pointer(&bios));
    replace(&cfg.kernel, g_steal_pointer(&kernel));
    replace(&cfg.initrd, g_steal_pointer(&initrd));
    replace(&cfg.append, g_steal_pointer(&append));
    replace(&cfg.hda, g_steal_pointer(&hda));
    replace(&cfg.hdb, g_steal_pointer(&hdb));
    const char *fmts[2] = {hda_format, hdb_format};
    for (int i = 0; i < 2; i++)
        if (fmts[i] && strcmp(fmts[i], "raw") != 0 && strcmp(fmts[i], "qcow2") != 0) {
            g_set_error(&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "--hd%c-format: expected raw or qcow2, not \"%s\"", 'a' + i, fmts[i]);
            goto err;
        }
    replace(&cfg.hda_format, g_steal_pointer(&hda_format));
    replace(&cfg.hdb_format, g_steal_pointer(&hdb_format));
    replace(&cfg.cdrom, g_steal_pointer(&cdrom));
    replace(&cfg.fda, g_steal_pointer(&fda));
    if (debug_exit)
        cfg.debug_exit = true;
    if (no_reboot)
        cfg.no_reboot = true;
    if (snapshot)
        cfg.snapshot = true;
    if (clock)
        cfg.clock = strcmp(clock, "icount") == 0 ? HG_CLOCK_ICOUNT : HG_CLOCK_HOST;
    if (vga) {
        if (strcmp(vga, "cirrus") == 0) {
            cfg.vga = HG_VGA_MODEL_CIRRUS;
        } else if (strcmp(vga, "std") == 0) {
            cfg.vga = HG_VGA_MODEL_STD;
        } else {
            g_set_error(&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "--vga: unknown adapter \"%s\" (std or cirrus)", vga);
            goto err;
        }
    }
    if (soundhw && !hg_config_set_soundhw(&cfg, soundhw, &error)) {
        g_prefix_error(&error, "--soundhw: ");
        goto err;
    }
    if (nic && !hg_config_set_nic(&cfg, nic, &error)) {
        g_prefix_error(&error, "--nic: ");
        goto err;
    }
    if (net && !hg_config_set_net(&cfg, net, &error)) {
        g_prefix_error(&error, "--net: ");
        goto err;
    }
    if (mac && !hg_config_set_mac(&cfg, mac, &error)) {
        g_prefix_error(&error, "--mac: ");
        goto err;
    }
    if (net_dump)
        replace(&cfg.net_dump, g_steal_pointer(&net_dump));
    if ((net || mac || cfg.net_dump) && cfg.nic == HG_NIC_NONE) {
        g_set_error(&error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                    "--net, --mac and --net-dump need a network card (add --nic, e.g. "
                    "rtl8139)");
        goto err;
    }
    if (audio) {
        if (!hg_audio_output_valid(audio, &error)) {
            g_prefix_error(&error, "--audio: ");
            goto err;
        }
        replace(&cfg.audio, g_steal_pointer(&audio));
    }
    if (record && !cfg.soundhw) {
        g_set_error(&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--record needs sound hardware to record (add --soundhw, e.g. sb16)");
        goto err;
    }
    if (max_insns > 0 && cfg.clock != HG_CLOCK_ICOUNT) {
        g_set_error(&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--max-insns needs --clock icount (a reproducible run)");
        goto err;
    }

    if (write_profile) {
        /* A command line turned into a profile the manager lists (and the test of
         * hg_config_to_argv's round trip). */
        if (!hg_config_save_profile(&cfg, write_profile, &error))
            goto err;
        app.status = 0;
        goto done;
    }

    HgMachineHooks hooks = {
        .opaque = &app,
        .serial_out = serial_out,
        .debugcon_out = app.debugcon ? debugcon_out : NULL,
        .state_changed = state_changed,
    };
    app.machine = hg_machine_new(&cfg, &hooks, &error);
    if (!app.machine)
        goto err;
    if (loadvm && !hg_machine_load_named_state(app.machine, loadvm, &error))
        goto err;
    if (record && !hg_machine_wavcapture_start(app.machine, record, &error)) {
        g_prefix_error(&error, "--record: ");
    }

    if (max_insns > 0) {
        /* A bounded, reproducible run on this thread (tests). */
        HgRunResult r = hg_machine_run(app.machine, max_insns);
        if (r == HG_RUN_EXITED) {
            app.status = hg_machine_exit_status(app.machine);
        } else if (r == HG_RUN_STUCK) {
            fprintf(stderr, "hangar-run: the guest halted the CPU and nothing can wake it\n");
        } else {
            fprintf(stderr,
                    "hangar-run: stopped after %" G_GINT64_FORMAT " instructions (--max-insns)\n",
                    max_insns);
        }
        goto done;
    }

    app.loop = g_main_loop_new(NULL, FALSE);
    guint sig1 = g_unix_signal_add(SIGINT, on_signal, &app);
    guint sig2 = g_unix_signal_add(SIGTERM, on_signal, &app);
    GIOChannel *in = NULL;
    if (app.monitor_stdio || app.serial_stdin) {
        in = g_io_channel_unix_new(STDIN_FILENO);
        if (!app.monitor_stdio)
            g_io_channel_set_encoding(in, NULL, NULL);
        app.in_watch = g_io_add_watch(in, G_IO_IN | G_IO_HUP | G_IO_ERR, stdin_ready, &app);
    }
    if (app.monitor_stdio) {
        fputs("Hangar monitor - type help for the commands\n(hangar) ", stdout);
        fflush(stdout);
    }
    if (!start_display(&app, display, &error))
        goto err;
    if (!hg_machine_start(app.machine, &error))
        goto err;
    if (!vnc_setup(app.machine, vnc, vnc_password, &vnc_server, &error))
        goto err;
    g_main_loop_run(app.loop);
    hg_vnc_stop(g_steal_pointer(&vnc_server));
    hg_machine_stop(app.machine);
    stop_display(&app);
    if (app.finished)
        app.status = hg_machine_exit_status(app.machine);
    else
        app.status = 0; /* quit from the monitor or a signal */
    if (app.in_watch)
        g_source_remove(app.in_watch);
    if (in)
        g_io_channel_unref(in);
    g_source_remove(sig1);
    g_source_remove(sig2);
    goto done;

err:
    fprintf(stderr, "hangar-run: %s\n", error->message);
    g_clear_error(&error);
    app.status = 1;
done:
    hg_vnc_stop(vnc_server);
    stop_display(&app);
    hg_machine_free(app.machine);
    if (app.monitor_service) {
        g_socket_service_stop(app.monitor_service);
        g_object_unref(app.monitor_service);
        unlink(app.monitor_path);
    }
    g_free(app.monitor_path);
    if (app.loop)
        g_main_loop_unref(app.loop);
    if (app.serial && app.serial != stdout)
        fclose(app.serial);
    if (app.debugcon && app.debugcon != stdout)
        fclose(app.debugcon);
    fflush(stdout);
    hg_config_clear(&cfg);
    g_option_context_free(ctx);
    g_free(bios);
    g_free(kernel);
    g_free(initrd);
    g_free(append);
    g_free(hda);
    g_free(hdb);
    g_free(hda_format);
    g_free(hdb_format);
    g_free(cdrom);
    g_free(fda);
    g_free(boot);
    g_free(serial);
    g_free(debugcon);
    g_free(display);
    g_free(clock);
    g_free(vga);
    g_free(loadvm);
    g_free(audio);
    g_free(soundhw);
    g_free(record);
    g_free(usb);
    g_free(nic);
    g_free(net);
    g_free(mac);
    g_free(net_dump);
    g_free(monitor);
    g_free(vnc);
    g_free(vnc_password);
    g_free(vnc_password_file);
    g_free(write_profile);
    return app.status;
}
