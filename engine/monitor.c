/* The machine monitor: text commands people type in a console and scripts send over a
 * socket (help, info, stop/cont, resets, media, keys, the text screen). Commands run on
 * the emulation thread, so they reach devices without locks. Modelled on the command set
 * QEMU's human monitor made familiar, written for this engine.
 */
#include <string.h>

#include "machine-internal.h"

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

static bool cmd_info(HgMachine *m, int argc, char **argv, GString *out)
{
    if (argc < 2) {
        g_string_append(out, "info what? status, registers, version\n");
        return true;
    }
    if (strcmp(argv[1], "status") == 0) {
        g_string_append_printf(out, "VM status: %s\n", state_name(m->state));
    } else if (strcmp(argv[1], "registers") == 0) {
        info_registers(m, out);
    } else if (strcmp(argv[1], "version") == 0) {
        g_string_append(out, "Hangar " HG_VERSION "\n");
    } else {
        g_string_append_printf(out, "info: unknown item \"%s\" (status, registers, version)\n",
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

static const MonCmd commands[] = {
    {"help", "[COMMAND]", "list the commands, or describe one", cmd_help},
    {"info", "status|registers|version", "show the machine's state", cmd_info},
    {"stop", "", "pause the machine", cmd_stop},
    {"cont", "", "resume the machine", cmd_cont},
    {"system_reset", "", "reset the machine (like the reset button)", cmd_system_reset},
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
