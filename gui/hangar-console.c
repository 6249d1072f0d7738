/* HangarConsole: the serial console and the monitor console of the machine window.
 *
 * A VteTerminal with no PTY (gui.md §6, as virt-viewer and QEMU's GTK UI do it): bytes the
 * guest sends on COM1 are fed to the terminal in batches (HangarMachine "serial-output");
 * what the person types arrives through the terminal's "commit" signal and goes to the
 * engine's host-side UART queue, which the guest drains as it reads, so a paste or an
 * arrow key's escape sequence is never cut short.
 *
 * The monitor console is a small line editor on the same terminal: printable characters
 * are echoed and collected, Backspace erases, Up and Down walk the history, Enter runs the
 * line with hg_monitor_execute on the emulation thread and prints the reply and a new
 * prompt. "quit" powers the machine off, as it ends hangar-run.
 *
 * Built without VTE, each console is a label saying so (meson's vte dependency).
 */
#include "hangar-console.h"

#include <glib/gi18n.h>
#include <string.h>

#ifdef HANGAR_HAVE_VTE
#include <vte/vte.h>
#endif

#define PROMPT "(hangar) "

struct _HangarConsole {
    GtkBox parent_instance;
    HangarMachine *machine;
    HangarConsoleKind kind;
    GtkWidget *terminal;
    gulong output_id, state_id;
    GString *line;       /* the monitor line being edited */
    GPtrArray *history;  /* monitor lines run, oldest first */
    guint history_pos;   /* history->len: editing a new line */
    gboolean busy;       /* a monitor command is running */
    GString *transcript; /* what was fed (for hangar_console_get_text without VTE) */
};

G_DEFINE_TYPE(HangarConsole, hangar_console, GTK_TYPE_BOX)

/* Feeds text as is (the serial line) or with lone \n turned into \r\n (monitor replies,
 * which are Unix text). */
static void feed(HangarConsole *self, const char *data, gssize len, gboolean crlf)
{
    if (len < 0)
        len = (gssize)strlen(data);
    GString *s = g_string_sized_new((gsize)len + 16);
    for (gssize i = 0; i < len; i++) {
        if (crlf && data[i] == '\n' && (i == 0 || data[i - 1] != '\r'))
            g_string_append_c(s, '\r');
        g_string_append_c(s, data[i]);
    }
    g_string_append_len(self->transcript, s->str, (gssize)s->len);
#ifdef HANGAR_HAVE_VTE
    vte_terminal_feed(VTE_TERMINAL(self->terminal), s->str, (gssize)s->len);
#endif
    g_string_free(s, TRUE);
}

static void on_serial_output(HangarMachine *m, int port, GBytes *bytes, gpointer data)
{
    HangarConsole *self = data;
    if (port != 0)
        return;
    gsize len;
    const char *p = g_bytes_get_data(bytes, &len);
    feed(self, p, (gssize)len, FALSE);
}

/* --- Monitor line editing --- */

static void show_line(HangarConsole *self, const char *text)
{
    /* Erase the line on screen (back to the start of the row) and print the new one. */
    feed(self, "\r\033[K" PROMPT, -1, FALSE);
    g_string_assign(self->line, text);
    feed(self, text, -1, FALSE);
}

typedef struct Pending {
    HangarConsole *console;
} Pending;

static void pending_free(gpointer data)
{
    Pending *p = data;
    g_object_unref(p->console);
    g_free(p);
}

static void monitor_done(const char *reply, gboolean keep_going, gpointer data)
{
    HangarConsole *self = ((Pending *)data)->console;
    self->busy = FALSE;
    feed(self, reply, -1, TRUE);
    if (!keep_going) {
        feed(self, _("The machine is powered off (quit).\n"), -1, TRUE);
        hangar_machine_power_off(self->machine);
    }
    feed(self, PROMPT, -1, FALSE);
}

static void run_line(HangarConsole *self)
{
    g_autofree char *line = g_strdup(g_strstrip(self->line->str));
    g_string_truncate(self->line, 0);
    feed(self, "\r\n", -1, FALSE);
    if (*line && (!self->history->len ||
                  strcmp(g_ptr_array_index(self->history, self->history->len - 1), line)))
        g_ptr_array_add(self->history, g_strdup(line));
    self->history_pos = self->history->len;
    if (!*line) {
        feed(self, PROMPT, -1, FALSE);
        return;
    }
    Pending *p = g_new(Pending, 1);
    p->console = g_object_ref(self);
    if (hangar_machine_monitor(self->machine, line, monitor_done, p, pending_free)) {
        self->busy = TRUE;
        return;
    }
    pending_free(p);
    feed(self, _("The machine is not running: start it to use the monitor.\n"), -1, TRUE);
    feed(self, PROMPT, -1, FALSE);
}

static void monitor_input(HangarConsole *self, const char *text, gsize len)
{
    for (gsize i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (self->busy)
            return; /* typed while a command runs: dropped, as a prompt-less shell would */
        if (c == '\r' || c == '\n') {
            run_line(self);
        } else if (c == 0x7f || c == 0x08) {
            if (self->line->len) {
                /* Back over one UTF-8 character. */
                const char *start = self->line->str;
                const char *prev = g_utf8_find_prev_char(start, start + self->line->len);
                g_string_truncate(self->line, prev ? (gsize)(prev - start) : 0);
                feed(self, "\b \b", -1, FALSE);
            }
        } else if (c == 0x1b && i + 2 < len && text[i + 1] == '[' &&
                   (text[i + 2] == 'A' || text[i + 2] == 'B')) {
            /* Up and Down: the history. */
            if (text[i + 2] == 'A' && self->history_pos > 0)
                self->history_pos--;
            else if (text[i + 2] == 'B' && self->history_pos < self->history->len)
                self->history_pos++;
            show_line(self, self->history_pos < self->history->len
                                ? g_ptr_array_index(self->history, self->history_pos)
                                : "");
            i += 2;
        } else if (c == 0x1b) {
            /* Other escape sequences (Left, Right, Home...): not edited, skipped. */
            if (i + 1 < len && text[i + 1] == '[') {
                i += 2;
                while (i < len && !g_ascii_isalpha(text[i]) && text[i] != '~')
                    i++;
            }
        } else if (c == 0x03) {
            feed(self, "^C\r\n" PROMPT, -1, FALSE);
            g_string_truncate(self->line, 0);
        } else if (c >= 0x20) {
            g_string_append_c(self->line, (char)c);
            feed(self, (const char *)&text[i], 1, FALSE);
        }
    }
}

void hangar_console_type(HangarConsole *self, const char *text)
{
    gsize len = strlen(text);
    if (self->kind == HANGAR_CONSOLE_SERIAL)
        hangar_machine_serial_input(self->machine, 0, (const guint8 *)text, len);
    else
        monitor_input(self, text, len);
}

#ifdef HANGAR_HAVE_VTE
static void on_commit(VteTerminal *terminal, char *text, guint size, gpointer data)
{
    HangarConsole *self = data;
    if (self->kind == HANGAR_CONSOLE_SERIAL)
        hangar_machine_serial_input(self->machine, 0, (const guint8 *)text, size);
    else
        monitor_input(self, text, size);
}
#endif

char *hangar_console_get_text(HangarConsole *self)
{
#ifdef HANGAR_HAVE_VTE
    /* Scrollback and screen as VTE rendered what was fed: the rows of its adjustment. */
    VteTerminal *t = VTE_TERMINAL(self->terminal);
    GtkAdjustment *adj = gtk_scrollable_get_vadjustment(GTK_SCROLLABLE(t));
    G_GNUC_BEGIN_IGNORE_DEPRECATIONS
    char *text = vte_terminal_get_text_range(t, (glong)gtk_adjustment_get_lower(adj), 0,
                                             (glong)gtk_adjustment_get_upper(adj),
                                             vte_terminal_get_column_count(t), NULL, NULL, NULL);
    G_GNUC_END_IGNORE_DEPRECATIONS
    return text;
#else
    return g_strdup(self->transcript->str);
#endif
}

GtkWidget *hangar_console_get_terminal(HangarConsole *self)
{
    return self->terminal;
}

static void on_state_notify(GObject *object, GParamSpec *pspec, gpointer data)
{
    HangarConsole *self = data;
    /* A new run starts a new session: the old screen would mislead. */
    if (hangar_machine_get_state(self->machine) == HANGAR_MACHINE_STOPPED) {
        feed(self, "\r\n", -1, FALSE);
        feed(self, _("[powered off]"), -1, FALSE);
        feed(self, self->kind == HANGAR_CONSOLE_SERIAL ? "\r\n" : "\r\n" PROMPT, -1, FALSE);
    }
}

GtkWidget *hangar_console_new(HangarMachine *machine, HangarConsoleKind kind)
{
    HangarConsole *self =
        g_object_new(HANGAR_TYPE_CONSOLE, "orientation", GTK_ORIENTATION_HORIZONTAL, NULL);
    self->machine = g_object_ref(machine);
    self->kind = kind;
    const char *name = kind == HANGAR_CONSOLE_SERIAL ? _("Serial Console") : _("Monitor Console");
#ifdef HANGAR_HAVE_VTE
    VteTerminal *t = VTE_TERMINAL(vte_terminal_new());
    self->terminal = GTK_WIDGET(t);
    vte_terminal_set_scrollback_lines(t, 10000);
    vte_terminal_set_audible_bell(t, FALSE);
    vte_terminal_set_scroll_on_output(t, TRUE);
    vte_terminal_set_scroll_on_keystroke(t, TRUE);
    vte_terminal_set_backspace_binding(t, VTE_ERASE_ASCII_DELETE);
    vte_terminal_set_mouse_autohide(t, TRUE);
    vte_terminal_set_size(t, 80, 24);
    g_signal_connect_object(t, "commit", G_CALLBACK(on_commit), self, 0);
    GtkWidget *scrollbar = gtk_scrollbar_new(GTK_ORIENTATION_VERTICAL,
                                             gtk_scrollable_get_vadjustment(GTK_SCROLLABLE(t)));
    gtk_widget_show(scrollbar);
    gtk_widget_set_hexpand(self->terminal, TRUE);
    gtk_widget_set_vexpand(self->terminal, TRUE);
    gtk_box_pack_start(GTK_BOX(self), self->terminal, TRUE, TRUE, 0);
    gtk_box_pack_start(GTK_BOX(self), scrollbar, FALSE, FALSE, 0);
#else
    self->terminal = gtk_label_new(_("This build has no terminal (VTE): consoles are not "
                                     "available. Install libvte-2.91-dev and rebuild."));
    gtk_label_set_line_wrap(GTK_LABEL(self->terminal), TRUE);
    gtk_box_pack_start(GTK_BOX(self), self->terminal, TRUE, TRUE, 0);
#endif
    gtk_widget_show(self->terminal);
    atk_object_set_name(gtk_widget_get_accessible(self->terminal), name);
    atk_object_set_name(gtk_widget_get_accessible(GTK_WIDGET(self)), name);
    if (kind == HANGAR_CONSOLE_SERIAL) {
        self->output_id =
            g_signal_connect(machine, "serial-output", G_CALLBACK(on_serial_output), self);
    } else {
        feed(self, _("Hangar monitor — type help for the commands\n"), -1, TRUE);
        feed(self, PROMPT, -1, FALSE);
    }
    self->state_id = g_signal_connect(machine, "notify::state", G_CALLBACK(on_state_notify), self);
    return GTK_WIDGET(self);
}

static void hangar_console_dispose(GObject *object)
{
    HangarConsole *self = HANGAR_CONSOLE(object);
    if (self->machine) {
        g_clear_signal_handler(&self->output_id, self->machine);
        g_clear_signal_handler(&self->state_id, self->machine);
        g_clear_object(&self->machine);
    }
    G_OBJECT_CLASS(hangar_console_parent_class)->dispose(object);
}

static void hangar_console_finalize(GObject *object)
{
    HangarConsole *self = HANGAR_CONSOLE(object);
    g_string_free(self->line, TRUE);
    g_string_free(self->transcript, TRUE);
    g_ptr_array_unref(self->history);
    G_OBJECT_CLASS(hangar_console_parent_class)->finalize(object);
}

static void hangar_console_class_init(HangarConsoleClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = hangar_console_dispose;
    G_OBJECT_CLASS(klass)->finalize = hangar_console_finalize;
}

static void hangar_console_init(HangarConsole *self)
{
    self->line = g_string_new(NULL);
    self->transcript = g_string_new(NULL);
    self->history = g_ptr_array_new_with_free_func(g_free);
}
