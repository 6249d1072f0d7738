/* The machine monitor: text commands people type in a console and scripts send over a
 * socket (help, info, stop/cont, resets, media, keys, the text screen). Commands run on
 * the emulation thread, so they reach devices without locks. Modelled on the command set
 * QEMU's human monitor made familiar, written for this engine.
 */
#include <string.h>

#include "board.h"
#include "network.h"
#include "display.h"
#include "hw/fdc.h"
#include "hw/i8042.h"
#include "hw/ps2.h"
#include "keymap.h"
#include "machine-internal.h"
#include "sound.h"
#include "usb-host.h"

typedef struct MonCmd {
    const char *name;
    const char *args;
    const char *help;
    /* Returns false to ask the frontend to quit. argv[0] is the command. */
    bool (*fn)(HgMachine *m, int argc, char **argv, GString *out);
} MonCmd;

static bool cmd_help(HgMachine *m, int argc, char **argv, GString *out);

static const char *state_name(HgMachineState st)
{
    switch (st) {
    case HG_STATE_RUNNING:
        return "running";
    case HG_STATE_PAUSED:
        return "paused";
    default:
        return "finished";
    }
}

static void info_registers(HgMachine *m, GString *out)
{
    HgCpu *c = m->cpu;
    static const char *const names[8] = {"EAX", "ECX", "EDX", "EBX", "ESP", "EBP", "ESI", "EDI"};
    static const char *const segs[6] = {"ES", "CS", "SS", "DS", "FS", "GS"};
    for (int i = 0; i < 8; i++)
        g_string_append_printf(out, "%s=%08x%s", names[i], c->regs[i], i % 4 == 3 ? "\n" : " ");
    g_string_append_printf(out, "EIP=%08x EFL=%08x CPL=%d CR0=%08x CR2=%08x CR3=%08x CR4=%08x\n",
                           c->eip, hg_cpu_get_eflags(c), c->cpl, c->cr0, c->cr2, c->cr3, c->cr4);
    for (int s = 0; s < 6; s++)
        g_string_append_printf(out, "%s =%04x %08x %08x %08x\n", segs[s], c->seg[s].sel,
                               c->seg[s].base, c->seg[s].limit, c->seg[s].flags);
    g_string_append_printf(out, "GDT=%08x %05x IDT=%08x %05x\n", c->gdtr_base, c->gdtr_limit,
                           c->idtr_base, c->idtr_limit);
}

/* The profile's saved states: name, when saved, the guest's clock then. */
static void info_snapshots(HgMachine *m, GString *out)
{
    bool image = !m->cfg.profile_dir;
    char **names = image ? hg_machine_image_states(m) : hg_machine_list_states(m);
    if (!names[0])
        g_string_append(out, !image ? "no saved states\n"
                                    : "no saved states (this machine has no profile folder: "
                                      "savevm keeps states in its first qcow2 disk, or takes a "
                                      "file path)\n");
    else
        g_string_append_printf(out, "%-24s %-19s %12s\n", "NAME", "DATE", "GUEST TIME");
    for (int i = 0; names[i]; i++) {
        char *path = image ? NULL : hg_machine_state_path(m, names[i], false, NULL);
        HgStateInfo info;
        GError *error = NULL;
        if (image ? hg_machine_image_state_info(m, names[i], &info, &error)
                  : path && hg_state_file_info(path, &info, &error)) {
            GDateTime *dt = g_date_time_new_from_unix_local(info.saved_usec / G_USEC_PER_SEC);
            char *date = dt ? g_date_time_format(dt, "%Y-%m-%d %H:%M:%S") : g_strdup("?");
            int64_t s = info.guest_ns / HG_NS_PER_SEC;
            g_string_append_printf(out, "%-24s %-19s %5" G_GINT64_FORMAT ":%02d:%02d.%03d\n",
                                   names[i], date, s / 3600, (int)(s / 60 % 60), (int)(s % 60),
                                   (int)(info.guest_ns / 1000000 % 1000));
            g_free(date);
            if (dt)
                g_date_time_unref(dt);
            hg_state_info_clear(&info);
        } else {
            g_string_append_printf(out, "%-24s (unreadable: %s)\n", names[i],
                                   error ? error->message : "?");
            g_clear_error(&error);
        }
        g_free(path);
    }
    g_strfreev(names);
}

/* info usb: one line per device, as QEMU's monitor lays it out. */
static void info_usb(HgMachine *m, GString *out)
{
    GPtrArray *list = hg_usb_host_list(hg_board_usb(m->board));
    if (list->len == 0)
        g_string_append(out, "no USB devices (usb_add tablet|keyboard|mouse|storage:FILE)\n");
    for (guint i = 0; i < list->len; i++) {
        HgUsbDeviceInfo *d = g_ptr_array_index(list, i);
        g_string_append_printf(out, "  Device %d, Port %s, Speed 12 Mb/s, Product %s, ID: %s",
                               d->id, d->port, d->product, d->kind);
        g_string_append_printf(out, "%s%s%s\n", d->file ? " " : "", d->file ? d->file : "",
                               d->configured ? "" : " (not configured)");
    }
    g_ptr_array_unref(list);
    HgUhciStats st;
    hg_uhci_stats(hg_usb_host_uhci(hg_board_usb(m->board)), &st);
    g_string_append_printf(out,
                           "  UHCI: %" G_GUINT64_FORMAT " frames walked, %" G_GUINT64_FORMAT
                           " counted idle, %" G_GUINT64_FORMAT " TDs done, %" G_GUINT64_FORMAT
                           " failed\n",
                           st.frames_walked, st.frames_skipped, st.tds_completed, st.tds_failed);
}

static bool cmd_info(HgMachine *m, int argc, char **argv, GString *out)
{
    if (argc < 2) {
        g_string_append(out,
                        "info what? status, registers, screen, snapshots, audio, usb, network, "
                        "version\n");
        return true;
    }
    if (strcmp(argv[1], "status") == 0) {
        g_string_append_printf(out, "VM status: %s\n", state_name(m->state));
    } else if (strcmp(argv[1], "registers") == 0) {
        info_registers(m, out);
    } else if (strcmp(argv[1], "screen") == 0) {
        gchar **lines = hg_display_text_dump(m->display);
        if (!lines) {
            g_string_append(out, "the display is in a graphics mode (no text screen)\n");
        } else {
            for (int i = 0; lines[i]; i++)
                g_string_append_printf(out, "%s\n", lines[i]);
            g_strfreev(lines);
        }
    } else if (strcmp(argv[1], "snapshots") == 0) {
        info_snapshots(m, out);
    } else if (strcmp(argv[1], "audio") == 0) {
        hg_sound_info(hg_board_sound(m->board), out);
    } else if (strcmp(argv[1], "usb") == 0) {
        info_usb(m, out);
    } else if (strcmp(argv[1], "network") == 0) {
        hg_network_info(hg_board_network(m->board), out);
    } else if (strcmp(argv[1], "version") == 0) {
        g_string_append(out, "Hangar " HG_VERSION "\n");
    } else {
        g_string_append_printf(out,
                               "info: unknown item \"%s\" (status, registers, screen, "
                               "snapshots, audio, usb, network, version)\n",
                               argv[1]);
    }
    return true;
}

static bool cmd_stop(HgMachine *m, int argc, char **argv, GString *out)
{
    hg_machine_pause(m);
    return true;
}

static bool cmd_cont(HgMachine *m, int argc, char **argv, GString *out)
{
    hg_machine_resume(m);
    return true;
}

static bool cmd_system_reset(HgMachine *m, int argc, char **argv, GString *out)
{
    hg_machine_request_reset(m);
    return true;
}

static bool cmd_quit(HgMachine *m, int argc, char **argv, GString *out)
{
    return false;
}

static bool cmd_system_powerdown(HgMachine *m, int argc, char **argv, GString *out)
{
    if (!hg_board_power_button(m->board))
        g_string_append(out, "the guest does not listen to the power button (no ACPI); "
                             "use quit to stop the machine\n");
    return true;
}

/* sendkey ctrl-alt-delete: presses the keys in order, then releases them in reverse. */
static bool cmd_sendkey(HgMachine *m, int argc, char **argv, GString *out)
{
    if (argc != 2) {
        g_string_append(out, "usage: sendkey KEYS (for example ctrl-alt-delete, shift-a, ret)\n");
        return true;
    }
    char **names = g_strsplit(argv[1], "-", 0);
    uint16_t codes[16];
    int n = 0;
    for (int i = 0; names[i]; i++) {
        uint16_t c = hg_keymap_lookup(names[i]);
        if (!c || n == G_N_ELEMENTS(codes)) {
            g_string_append_printf(out, "sendkey: unknown key \"%s\"\n", names[i]);
            g_strfreev(names);
            return true;
        }
        codes[n++] = c;
    }
    g_strfreev(names);
    /* The keyboard the guest uses: a configured USB keyboard, else the PS/2 one. */
    HgPs2Kbd *kbd = hg_i8042_kbd(hg_board_kbc(m->board));
    HgUsbHost *usb = hg_board_usb(m->board);
    for (int i = 0; i < n; i++)
        if (!hg_usb_host_key(usb, codes[i], true))
            hg_ps2_kbd_key(kbd, codes[i], true);
    for (int i = n - 1; i >= 0; i--)
        if (!(codes[i] & HG_KEY_PAUSE) && !hg_usb_host_key(usb, codes[i], false))
            hg_ps2_kbd_key(kbd, codes[i], false);
    return true;
}

/* Drive names: floppy0/fda (A:), floppy1/fdb (B:), and the CD-ROM drive (cdrom, or
 * ide1-cd0 as QEMU calls it). */
static bool is_cdrom(const char *name)
{
    return !strcmp(name, "cdrom") || !strcmp(name, "ide1-cd0") || !strcmp(name, "cd");
}

static int floppy_drive(const char *name)
{
    if (!strcmp(name, "floppy0") || !strcmp(name, "fda") || !strcmp(name, "a"))
        return 0;
    if (!strcmp(name, "floppy1") || !strcmp(name, "fdb") || !strcmp(name, "b"))
        return 1;
    return -1;
}

static bool cmd_change(HgMachine *m, int argc, char **argv, GString *out)
{
    if (argc != 3) {
        g_string_append(out, "usage: change DRIVE FILE (drives: cdrom, fda, fdb)\n");
        return true;
    }
    int fd = floppy_drive(argv[1]);
    GError *error = NULL;
    if (is_cdrom(argv[1])) {
        if (!hg_board_cdrom_change(m->board, argv[2], &error)) {
            g_string_append_printf(out, "change: %s\n", error->message);
            g_error_free(error);
        } else {
            hg_machine_message(m, G_LOG_LEVEL_INFO, "CD-ROM: %s inserted", argv[2]);
        }
        return true;
    }
    if (fd >= 0) {
        if (!hg_fdc_change(hg_board_fdc(m->board), fd, argv[2], false, &error)) {
            g_string_append_printf(out, "change: %s\n", error->message);
            g_error_free(error);
        } else {
            hg_machine_message(m, G_LOG_LEVEL_INFO, "Floppy %c: %s inserted", 'A' + fd, argv[2]);
        }
        return true;
    }
    g_string_append_printf(out, "change: no drive \"%s\" (drives: cdrom, fda, fdb)\n",
                           argv[1]);
    return true;
}

static bool cmd_eject(HgMachine *m, int argc, char **argv, GString *out)
{
    bool force = argc == 3 && !strcmp(argv[1], "-f");
    if (argc != 2 && !force) {
        g_string_append(out, "usage: eject [-f] DRIVE (drives: cdrom, fda, fdb)\n");
        return true;
    }
    const char *drive = argv[argc - 1];
    if (is_cdrom(drive)) {
        GError *error = NULL;
        if (!hg_board_cdrom_eject(m->board, force, &error)) {
            g_string_append_printf(out, "eject: %s\n", error->message);
            g_error_free(error);
        } else {
            hg_machine_message(m, G_LOG_LEVEL_INFO, "CD-ROM: medium ejected");
        }
        return true;
    }
    int fd = floppy_drive(drive);
    if (fd >= 0) {
        hg_fdc_eject(hg_board_fdc(m->board), fd);
        hg_machine_message(m, G_LOG_LEVEL_INFO, "Floppy %c: medium ejected", 'A' + fd);
        return true;
    }
    g_string_append_printf(out, "eject: no drive \"%s\" (drives: cdrom, fda, fdb)\n", drive);
    return true;
}

static bool cmd_wavcapture(HgMachine *m, int argc, char **argv, GString *out)
{
    if (argc != 2) {
        g_string_append(out, "usage: wavcapture FILE (records the guest's sound as WAV)\n");
        return true;
    }
    GError *error = NULL;
    if (!hg_machine_wavcapture_start(m, argv[1], &error)) {
        g_string_append_printf(out, "wavcapture: %s\n", error->message);
        g_error_free(error);
    }
    return true;
}

static bool cmd_stopcapture(HgMachine *m, int argc, char **argv, GString *out)
{
    if (!hg_machine_wavcapture_stop(m))
        g_string_append(out, "stopcapture: no recording in progress\n");
    return true;
}

static bool cmd_screendump(HgMachine *m, int argc, char **argv, GString *out)
{
    if (argc != 2) {
        g_string_append(out, "usage: screendump FILE (writes a PNG)\n");
        return true;
    }
    GError *error = NULL;
    if (!hg_machine_screendump(m, argv[1], &error)) {
        g_string_append_printf(out, "screendump: %s\n", error->message);
        g_error_free(error);
    }
    return true;
}

typedef bool (*StateFn)(HgMachine *m, const char *name, GError **error);

static bool state_cmd(HgMachine *m, int argc, char **argv, GString *out, StateFn fn,
                      const char *done)
{
    if (argc != 2) {
        g_string_append_printf(out, "usage: %s NAME (a state of the profile) or %s FILE.hgstate\n",
                               argv[0], argv[0]);
        return true;
    }
    GError *error = NULL;
    if (fn(m, argv[1], &error)) {
        g_string_append_printf(out, "%s \"%s\"\n", done, argv[1]);
    } else {
        g_string_append_printf(out, "%s: %s\n", argv[0], error->message);
        g_error_free(error);
    }
    return true;
}

static bool cmd_usb_add(HgMachine *m, int argc, char **argv, GString *out)
{
    if (argc != 2) {
        g_string_append(out, "usage: usb_add tablet|keyboard|mouse|storage:FILE\n");
        return true;
    }
    GError *error = NULL;
    int id = hg_usb_host_attach(hg_board_usb(m->board), argv[1], &error);
    if (!id) {
        g_string_append_printf(out, "usb_add: %s\n", error->message);
        g_error_free(error);
        return true;
    }
    g_string_append_printf(out, "USB device %d added (%s)\n", id, argv[1]);
    return true;
}

static bool cmd_usb_del(HgMachine *m, int argc, char **argv, GString *out)
{
    char *end = NULL;
    long id = argc == 2 ? strtol(argv[1], &end, 10) : 0;
    if (argc != 2 || !end || *end || id <= 0 || id > G_MAXINT) {
        g_string_append(out, "usage: usb_del ID (the device number info usb shows)\n");
        return true;
    }
    GError *error = NULL;
    if (!hg_usb_host_detach(hg_board_usb(m->board), (int)id, &error)) {
        g_string_append_printf(out, "usb_del: %s\n", error->message);
        g_error_free(error);
    }
    return true;
}

static bool cmd_savevm(HgMachine *m, int argc, char **argv, GString *out)
{
    return state_cmd(m, argc, argv, out, hg_machine_save_named_state, "saved the machine as");
}

static bool cmd_loadvm(HgMachine *m, int argc, char **argv, GString *out)
{
    return state_cmd(m, argc, argv, out, hg_machine_load_named_state, "restored");
}

static bool cmd_delvm(HgMachine *m, int argc, char **argv, GString *out)
{
    return state_cmd(m, argc, argv, out, hg_machine_delete_named_state, "deleted");
}

/* pointer X Y [BUTTONS]: the absolute pointer (USB tablet) to a display pixel; prints the
 * tablet coordinates the guest will read. */
static bool cmd_pointer(HgMachine *m, int argc, char **argv, GString *out)
{
    if (argc != 3 && argc != 4) {
        g_string_append(out, "usage: pointer X Y [BUTTONS] (display pixels; buttons: 1 left, "
                             "2 right, 4 middle)\n");
        return true;
    }
    int x = atoi(argv[1]), y = atoi(argv[2]);
    unsigned buttons = argc == 4 ? (unsigned)atoi(argv[3]) & 7 : 0;
    int tx = hg_machine_pointer_scale(m, x, false), ty = hg_machine_pointer_scale(m, y, true);
    if (!hg_usb_host_pointer(hg_board_usb(m->board), tx, ty, buttons)) {
        g_string_append(out, "pointer: no USB tablet (usb_add tablet)\n");
        return true;
    }
    g_string_append_printf(out, "tablet %d %d\n", tx, ty);
    return true;
}

/* hostfwd_add/hostfwd_remove RULE: host forwards of user networking at run time. */
static bool hostfwd_cmd(HgMachine *m, int argc, char **argv, GString *out, bool add)
{
    if (argc != 2) {
        g_string_append_printf(out, "usage: %s tcp|udp:[HOSTADDR]:HOSTPORT%s\n", argv[0],
                               add ? "-[GUESTADDR]:GUESTPORT" : "");
        return true;
    }
    GError *error = NULL;
    HgNetwork *n = hg_board_network(m->board);
    if (add ? hg_network_hostfwd_add(n, argv[1], &error)
            : hg_network_hostfwd_remove(n, argv[1], &error)) {
        g_string_append_printf(out, "%s %s\n", add ? "forwarding" : "removed", argv[1]);
    } else {
        g_string_append_printf(out, "%s: %s\n", argv[0], error->message);
        g_error_free(error);
    }
    return true;
}

static bool cmd_hostfwd_add(HgMachine *m, int argc, char **argv, GString *out)
{
    return hostfwd_cmd(m, argc, argv, out, true);
}

static bool cmd_hostfwd_remove(HgMachine *m, int argc, char **argv, GString *out)
{
    return hostfwd_cmd(m, argc, argv, out, false);
}

static const MonCmd commands[] = {
    {"help", "[COMMAND]", "list the commands, or describe one", cmd_help},
    {"info", "status|registers|screen|snapshots|audio|usb|network|version",
     "show the machine's state (screen: the text on the display)", cmd_info},
    {"stop", "", "pause the machine", cmd_stop},
    {"cont", "", "resume the machine", cmd_cont},
    {"system_reset", "", "reset the machine (like the reset button)", cmd_system_reset},
    {"system_powerdown", "", "press the power button (ACPI shutdown)", cmd_system_powerdown},
    {"sendkey", "KEYS", "press keys, e.g. ctrl-alt-delete", cmd_sendkey},
    {"change", "DRIVE FILE", "insert a medium (an image file) in a drive", cmd_change},
    {"eject", "[-f] DRIVE", "remove the medium from a drive (-f: even if locked)", cmd_eject},
    {"screendump", "FILE", "save the display's picture as a PNG file", cmd_screendump},
    {"savevm", "NAME|FILE", "save the whole running machine (a state to restore later)",
     cmd_savevm},
    {"loadvm", "NAME|FILE", "restore a saved state", cmd_loadvm},
    {"delvm", "NAME", "delete a saved state", cmd_delvm},
    {"wavcapture", "FILE", "record the guest's sound into a WAV file", cmd_wavcapture},
    {"stopcapture", "", "end the recording wavcapture started", cmd_stopcapture},
    {"usb_add", "DEVICE", "plug in a USB device: tablet, keyboard, mouse, storage:FILE",
     cmd_usb_add},
    {"usb_del", "ID", "unplug the USB device numbered ID (info usb)", cmd_usb_del},
    {"pointer", "X Y [BUTTONS]", "move the USB tablet's pointer to a display pixel",
     cmd_pointer},
    {"hostfwd_add", "tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT",
     "forward a host port into the guest (user networking)", cmd_hostfwd_add},
    {"hostfwd_remove", "tcp|udp:[HOSTADDR]:HOSTPORT", "stop forwarding a host port",
     cmd_hostfwd_remove},
    {"quit", "", "end the emulator at once", cmd_quit},
};

static bool cmd_help(HgMachine *m, int argc, char **argv, GString *out)
{
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++) {
        const MonCmd *c = &commands[i];
        if (argc > 1 && strcmp(argv[1], c->name) != 0)
            continue;
        g_string_append_printf(out, "%s%s%s -- %s\n", c->name, *c->args ? " " : "", c->args,
                               c->help);
    }
    return true;
}

bool hg_monitor_execute(HgMachine *m, const char *line, GString *out)
{
    int argc = 0;
    char **argv = NULL;
    GError *error = NULL;
    char *trimmed = g_strstrip(g_strdup(line));
    bool ret = true;
    if (!*trimmed)
        goto out;
    if (!g_shell_parse_argv(trimmed, &argc, &argv, &error)) {
        g_string_append_printf(out, "cannot parse the command: %s\n", error->message);
        g_error_free(error);
        goto out;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++) {
        if (strcmp(argv[0], commands[i].name) == 0) {
            ret = commands[i].fn(m, argc, argv, out);
            goto out;
        }
    }
    g_string_append_printf(out, "unknown command \"%s\"; help lists the commands\n", argv[0]);
out:
    g_strfreev(argv);
    g_free(trimmed);
    return ret;
}
