/* Machine assembly and the run loop: RAM, firmware ROM at the reset vector, COM1, the
 * debug ports and the multiboot loader, the virtual clock and its timers, and the
 * emulation thread with its command queue (docs/architecture.md, "The engine as a
 * library" and "Time").
 *
 * The loop runs the CPU in slices that end at the next timer deadline (instruction-counted
 * mode) or after a bounded number of instructions (host mode), runs expired timers, and
 * when the CPU halts either jumps the clock to the next deadline (instruction-counted) or
 * sleeps until it (host). Commands from other threads are closures queued with
 * hg_machine_call and run between slices, so device code needs no locks.
 */
#include "hangar.h"

#include "bus.h"
#include "clock.h"
#include "cpu.h"
#include "hw/debugport.h"
#include "hw/uart16550.h"
#include "block/aio.h"
#include "network.h"
#include "board.h"
#include "display.h"
#include "hw/i8042.h"
#include "hw/ps2.h"
#include "linuxboot.h"
#include "machine-internal.h"
#include "multiboot.h"
#include "usb-host.h"

/* Not G_DEFINE_QUARK: its cache is a static variable, and the engine keeps none. GLib
 * interns the string once; later calls are a hash lookup. */
GQuark hg_error_quark(void)
{
    return g_quark_from_static_string("hg-error-quark");
}

static void debugcon_out(void *opaque, uint8_t byte)
{
    HgMachine *m = opaque;
    m->hooks.debugcon_out(m->hooks.opaque, byte);
}

void hg_machine_message(HgMachine *m, int level, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    char *text = g_strdup_vprintf(format, ap);
    va_end(ap);
    if (m->hooks.message)
        m->hooks.message(m->hooks.opaque, level, text);
    else
        g_log("hangar-machine", G_LOG_LEVEL_DEBUG, "%s", text);
    g_free(text);
}

static void debug_exit(void *opaque, int status)
{
    HgMachine *m = opaque;
    hg_machine_message(m, G_LOG_LEVEL_MESSAGE,
                       "The guest ended the machine through the debug-exit port (status %d)",
                       status);
    m->exited = true;
    m->exit_status = status;
    hg_cpu_kick(m->cpu);
}

static void cpu_shutdown(void *opaque)
{
    HgMachine *m = opaque;
    /* A triple fault resets the PC (the chipset turns the shutdown cycle into INIT). */
    hg_machine_message(m, G_LOG_LEVEL_WARNING,
                       "The processor shut down after a triple fault (EIP %08x): the machine %s",
                       m->cpu->eip, m->cfg.no_reboot ? "ends (no-reboot)" : "resets");
    if (m->cfg.no_reboot) {
        m->exited = true;
        m->exit_status = 0;
    } else {
        m->reset_requested = true;
    }
}

/* The TSC counts guest nanoseconds: a 1 GHz processor as far as software can tell. */
static uint64_t read_tsc(void *opaque)
{
    HgMachine *m = opaque;
    return (uint64_t)hg_clock_ns(m->clock);
}

static uint64_t count_insns(void *opaque)
{
    HgMachine *m = opaque;
    return m->icount_base + hg_cpu_icount_now(m->cpu);
}

void hg_machine_wake(void *opaque)
{
    HgMachine *m = opaque;
    g_mutex_lock(&m->lock);
    hg_cpu_kick(m->cpu);
    g_cond_broadcast(&m->wake);
    g_mutex_unlock(&m->lock);
}

static bool load_bios(HgMachine *m, GError **error)
{
    gchar *data = NULL;
    gsize len = 0;
    if (!g_file_get_contents(m->cfg.bios, &data, &len, error)) {
        g_prefix_error(error, "cannot read the firmware: ");
        return false;
    }
    /* A BIOS image ends at the reset vector; it must fill whole 64 KiB units and fit
     * the 16 MiB flash window below 4 GiB. */
    if (len < 0x10000 || len % 0x10000 || len > 16u << 20) {
        g_set_error(error, HG_ERROR, HG_ERROR_FORMAT,
                    "%s: a firmware image must be a multiple of 64 KiB and at most 16 MiB "
                    "(this one has %zu bytes)",
                    m->cfg.bios, (size_t)len);
        g_free(data);
        return false;
    }
    m->bios = g_bytes_new_take(data, len);
    return true;
}

HgMachine *hg_machine_new(const HgConfig *cfg, const HgMachineHooks *hooks, GError **error)
{
    if (cfg->memory_mib < 1 || cfg->memory_mib > 3072) {
        g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                    "memory size %u MiB is out of range (1 to 3072 MiB)", cfg->memory_mib);
        return NULL;
    }
    HgMachine *m = g_new0(HgMachine, 1);
    hg_config_copy(&m->cfg, cfg);
    if (hooks)
        m->hooks = *hooks;

    /* A Linux bzImage boots through the firmware (our option ROM loads it); any other
     * kernel is taken for a multiboot image started directly. */
    if (m->cfg.kernel && !hg_linuxboot_probe(m->cfg.kernel)) {
        m->mb = hg_multiboot_load(m->cfg.kernel, m->cfg.initrd, m->cfg.append, error);
        if (!m->mb)
            goto fail;
    }
    if (!m->cfg.bios && !m->mb) {
        if (!g_file_test(HG_DEFAULT_BIOS, G_FILE_TEST_EXISTS)) {
            g_set_error(error, HG_ERROR, HG_ERROR_FILE,
                        "no firmware: %s is missing (install Debian's seabios package) and "
                        "no --bios was given",
                        HG_DEFAULT_BIOS);
            goto fail;
        }
        m->cfg.bios = g_strdup(HG_DEFAULT_BIOS);
    }
    if (m->cfg.bios && !load_bios(m, error))
        goto fail;

    m->bus = hg_bus_new(m->cfg.memory_mib << 20);
    g_mutex_init(&m->lock);
    g_cond_init(&m->wake);
    g_queue_init(&m->commands);
    m->state = HG_STATE_RUNNING;
    m->clock = hg_clock_new(m->cfg.clock, 1, count_insns, m);
    m->aio = hg_aio_new(hg_machine_wake, m);
    HgCpuHooks ch = {.opaque = m, .read_tsc = read_tsc, .shutdown = cpu_shutdown};
    m->cpu = hg_cpu_new(m->bus, &ch);
    m->display = hg_display_new();
    m->board = hg_board_new(m, error);
    if (!m->board)
        goto fail;
    m->dbg = hg_debugports_new(m->bus, m->hooks.debugcon_out ? debugcon_out : NULL,
                               m->cfg.debug_exit ? debug_exit : NULL, m);
    hg_machine_reset(m);
    m->resets = 0; /* that was power-on, not a reset */
    if (m->mb && !hg_multiboot_start(m->mb, m->bus, m->cpu, !m->bios, error))
        goto fail;
    return m;

fail:
    hg_machine_free(m);
    return NULL;
}

static void free_command(HgCommand *c)
{
    if (c->free_data)
        c->free_data(c->data);
    g_free(c);
}

void hg_machine_free(HgMachine *m)
{
    if (!m)
        return;
    hg_machine_stop(m);
    HgCommand *c;
    while ((c = g_queue_pop_head(&m->commands)))
        free_command(c);
    hg_board_free(m->board); /* closes the images: their workers end */
    hg_aio_free(m->aio);
    g_mutex_clear(&m->lock);
    g_cond_clear(&m->wake);
    hg_display_free(m->display);
    hg_cpu_free(m->cpu);
    hg_debugports_free(m->dbg);
    hg_bus_free(m->bus);
    hg_clock_free(m->clock);
    if (m->bios)
        g_bytes_unref(m->bios);
    hg_multiboot_free(m->mb);
    hg_config_clear(&m->cfg);
    g_free(m);
}

void hg_machine_reset(HgMachine *m)
{
    g_atomic_int_inc((gint *)&m->resets);
    m->icount_base += m->cpu->icount;
    hg_cpu_reset(m->cpu);
    if (m->board)
        hg_board_reset(m->board);
    m->reset_requested = false;
}

static void set_state(HgMachine *m, HgMachineState st)
{
    g_mutex_lock(&m->lock);
    bool same = m->state == st;
    m->state = st;
    g_cond_broadcast(&m->wake); /* hg_machine_join waits for FINISHED */
    g_mutex_unlock(&m->lock);
    if (same)
        return;
    if (m->hooks.state_changed)
        m->hooks.state_changed(m->hooks.opaque, st);
}

static void do_reset(HgMachine *m)
{
    hg_machine_reset(m);
    if (m->mb)
        hg_multiboot_start(m->mb, m->bus, m->cpu, !m->bios, NULL);
}

/* One slice of at most max instructions, then the timers. Returns HG_RUN_EXITED when the
 * machine finished, HG_RUN_STUCK when the CPU halted with no timer armed, HG_RUN_BUDGET
 * otherwise. *idle_ns gets the host-mode time to sleep when halted (0: none). */
static HgRunResult run_slice(HgMachine *m, int64_t max, int64_t *idle_ns)
{
    *idle_ns = 0;
    hg_clock_run_timers(m->clock);
    /* Frames from the network go to the card between slices. */
    hg_network_poll(hg_board_network(m->board));
    if (m->exited)
        return HG_RUN_EXITED;
    int64_t n = hg_clock_insns_to_deadline(m->clock, max);
    HgExitReason r = hg_cpu_run(m->cpu, n);
    hg_network_flush(hg_board_network(m->board));
    if (m->reset_requested)
        do_reset(m);
    if (m->exited)
        return HG_RUN_EXITED;
    if (r == HG_EXIT_HALT) {
        if (hg_clock_mode(m->clock) == HG_CLOCK_ICOUNT) {
            /* Nothing happens until the next timer: skip the idle time. */
            if (!hg_clock_warp_to_deadline(m->clock))
                return HG_RUN_STUCK;
        } else {
            int64_t deadline = hg_clock_deadline(m->clock);
            /* Frames waiting for a card without room are offered again after a while. */
            int64_t net = hg_network_wait_ns(hg_board_network(m->board));
            if (deadline == INT64_MAX && net < 0)
                return HG_RUN_STUCK;
            *idle_ns = deadline == INT64_MAX ? 0 : deadline - hg_clock_ns(m->clock);
            if (net >= 0 && (*idle_ns <= 0 || net < *idle_ns))
                *idle_ns = MAX(net, 1);
        }
    }
    return HG_RUN_BUDGET;
}

HgRunResult hg_machine_run(HgMachine *m, int64_t max_insns)
{
    uint64_t start = hg_machine_icount(m);
    hg_clock_start(m->clock);
    HgRunResult res = HG_RUN_BUDGET;
    while (res == HG_RUN_BUDGET) {
        int64_t left = max_insns - (int64_t)(hg_machine_icount(m) - start);
        if (left <= 0)
            break;
        int64_t idle;
        res = run_slice(m, MIN(left, HG_HOST_SLICE), &idle);
        if (idle > 0)
            g_usleep((gulong)MAX(1, idle / 1000));
    }
    hg_clock_stop(m->clock);
    if (res == HG_RUN_EXITED)
        set_state(m, HG_STATE_FINISHED);
    return res;
}

/* ---- the emulation thread ---- */

static void run_commands(HgMachine *m)
{
    for (;;) {
        g_mutex_lock(&m->lock);
        HgCommand *c = g_queue_pop_head(&m->commands);
        g_mutex_unlock(&m->lock);
        if (!c)
            return;
        c->fn(m, c->data);
        free_command(c);
    }
}

static gpointer thread_main(gpointer data)
{
    HgMachine *m = data;
    /* Image I/O goes to worker threads while the guest runs in real time; an
     * instruction-counted run keeps it synchronous, hence reproducible. */
    hg_aio_set_enabled(m->aio, hg_clock_mode(m->clock) == HG_CLOCK_HOST);
    for (;;) {
        hg_aio_run_completions(m->aio);
        run_commands(m);
        g_mutex_lock(&m->lock);
        bool quit = m->quit, paused = m->paused || m->state == HG_STATE_FINISHED;
        if (quit) {
            g_mutex_unlock(&m->lock);
            break;
        }
        if (paused) {
            /* Sleep until a command or resume arrives. */
            if (g_queue_is_empty(&m->commands) && !m->quit && !hg_aio_pending(m->aio))
                g_cond_wait(&m->wake, &m->lock);
            g_mutex_unlock(&m->lock);
            continue;
        }
        g_mutex_unlock(&m->lock);

        hg_clock_start(m->clock);
        int64_t idle;
        HgRunResult r = run_slice(m, HG_HOST_SLICE, &idle);
        if (r == HG_RUN_EXITED) {
            hg_clock_stop(m->clock);
            set_state(m, HG_STATE_FINISHED);
            continue;
        }
        if (r == HG_RUN_STUCK || idle > 0) {
            /* Halted: wait for the next timer, or without one for a command (the
             * frontend may still send keys, a reset or a power-off). */
            g_mutex_lock(&m->lock);
            if (g_queue_is_empty(&m->commands) && !m->quit && !m->paused &&
                !hg_aio_pending(m->aio) && hg_network_wait_ns(hg_board_network(m->board)) != 0) {
                if (r == HG_RUN_STUCK)
                    g_cond_wait(&m->wake, &m->lock);
                else
                    g_cond_wait_until(&m->wake, &m->lock,
                                      g_get_monotonic_time() + MAX(1, idle / 1000));
            }
            g_mutex_unlock(&m->lock);
        }
    }
    /* Nothing may be left running on an image once the thread is gone. */
    hg_board_drain_io(m->board);
    hg_aio_set_enabled(m->aio, false);
    hg_clock_stop(m->clock);
    return NULL;
}

static void wake_thread(HgMachine *m)
{
    /* Called with the lock held: interrupts the slice being run and any sleep. */
    hg_cpu_kick(m->cpu);
    g_cond_broadcast(&m->wake);
}

bool hg_machine_start(HgMachine *m, GError **error)
{
    if (m->thread)
        return true;
    m->quit = false;
    m->thread = g_thread_try_new("hangar-machine", thread_main, m, error);
    return m->thread != NULL;
}

void hg_machine_stop(HgMachine *m)
{
    if (!m->thread)
        return;
    g_mutex_lock(&m->lock);
    m->quit = true;
    wake_thread(m);
    g_mutex_unlock(&m->lock);
    g_thread_join(m->thread);
    m->thread = NULL;
}

void hg_machine_join(HgMachine *m)
{
    if (!m->thread)
        return;
    g_mutex_lock(&m->lock);
    while (m->state != HG_STATE_FINISHED && !m->quit)
        g_cond_wait(&m->wake, &m->lock);
    m->quit = true;
    wake_thread(m);
    g_mutex_unlock(&m->lock);
    g_thread_join(m->thread);
    m->thread = NULL;
}

void hg_machine_call(HgMachine *m, HgMachineFn fn, void *data, GDestroyNotify free_data)
{
    if (!m->thread) {
        fn(m, data);
        if (free_data)
            free_data(data);
        return;
    }
    HgCommand *c = g_new(HgCommand, 1);
    *c = (HgCommand){fn, data, free_data};
    g_mutex_lock(&m->lock);
    g_queue_push_tail(&m->commands, c);
    wake_thread(m);
    g_mutex_unlock(&m->lock);
}

static void pause_fn(HgMachine *m, void *data)
{
    bool pause = GPOINTER_TO_INT(data);
    if (m->state == HG_STATE_FINISHED)
        return;
    g_mutex_lock(&m->lock);
    m->paused = pause;
    g_mutex_unlock(&m->lock);
    if (pause)
        hg_clock_stop(m->clock);
    set_state(m, pause ? HG_STATE_PAUSED : HG_STATE_RUNNING);
}

void hg_machine_pause(HgMachine *m)
{
    hg_machine_call(m, pause_fn, GINT_TO_POINTER(1), NULL);
}

void hg_machine_resume(HgMachine *m)
{
    hg_machine_call(m, pause_fn, GINT_TO_POINTER(0), NULL);
}

static void reset_fn(HgMachine *m, void *data)
{
    (void)data;
    do_reset(m);
}

void hg_machine_request_reset(HgMachine *m)
{
    hg_machine_call(m, reset_fn, NULL, NULL);
}

HgMachineState hg_machine_state(HgMachine *m)
{
    g_mutex_lock(&m->lock);
    HgMachineState st = m->state;
    g_mutex_unlock(&m->lock);
    return st;
}

int hg_machine_exit_status(const HgMachine *m)
{
    return m->exit_status;
}

uint64_t hg_machine_icount(const HgMachine *m)
{
    return m->icount_base + m->cpu->icount;
}

void hg_machine_serial_input(HgMachine *m, int port, const uint8_t *data, size_t len)
{
    HgUart *u = hg_board_uart(m->board, port);
    if (!u)
        return;
    size_t taken = hg_uart_host_input(u, data, len);
    if (taken < len)
        hg_machine_message(m, G_LOG_LEVEL_WARNING,
                           "COM%d: %zu bytes of input dropped: the guest has not read the "
                           "%zu bytes already waiting",
                           port + 1, len - taken, hg_uart_host_pending(u));
}

typedef struct SerialBytes {
    int port;
    size_t len;
    uint8_t data[];
} SerialBytes;

static void serial_fn(HgMachine *m, void *data)
{
    SerialBytes *b = data;
    hg_machine_serial_input(m, b->port, b->data, b->len);
}

void hg_machine_serial_input_async(HgMachine *m, int port, const uint8_t *data, size_t len)
{
    SerialBytes *b = g_malloc(sizeof(*b) + len);
    b->port = port;
    b->len = len;
    memcpy(b->data, data, len);
    hg_machine_call(m, serial_fn, b, g_free);
}

HgDisplay *hg_machine_display(HgMachine *m)
{
    return m->display;
}

/* ---- input ---- */

typedef struct InputEvent {
    enum { EV_KEY, EV_MOUSE, EV_POINTER } kind;
    uint16_t code;
    bool pressed;
    int dx, dy, dz;
    unsigned buttons;
} InputEvent;

static void input_fn(HgMachine *m, void *data)
{
    InputEvent *e = data;
    HgI8042 *kbc = hg_board_kbc(m->board);
    HgUsbHost *usb = hg_board_usb(m->board);
    /* A USB keyboard or mouse the guest drives takes the input; else the PS/2 ones. */
    if (e->kind == EV_POINTER) {
        hg_usb_host_pointer(usb, e->dx, e->dy, e->buttons);
    } else if (e->kind == EV_KEY) {
        if (!hg_usb_host_key(usb, e->code, e->pressed))
            hg_ps2_kbd_key(hg_i8042_kbd(kbc), e->code, e->pressed);
    } else if (!hg_usb_host_mouse(usb, e->dx, e->dy, e->dz, e->buttons)) {
        unsigned b = (e->buttons & HG_BUTTON_LEFT ? HG_PS2_BTN_LEFT : 0) |
                     (e->buttons & HG_BUTTON_RIGHT ? HG_PS2_BTN_RIGHT : 0) |
                     (e->buttons & HG_BUTTON_MIDDLE ? HG_PS2_BTN_MIDDLE : 0);
        hg_ps2_mouse_event(hg_i8042_mouse(kbc), e->dx, e->dy, e->dz, b);
    }
}

void hg_machine_send_key(HgMachine *m, uint16_t code, bool pressed)
{
    InputEvent *e = g_new0(InputEvent, 1);
    e->kind = EV_KEY;
    e->code = code;
    e->pressed = pressed;
    hg_machine_call(m, input_fn, e, g_free);
}

void hg_machine_send_mouse(HgMachine *m, int dx, int dy, int dz, unsigned buttons)
{
    InputEvent *e = g_new0(InputEvent, 1);
    e->kind = EV_MOUSE;
    e->dx = dx;
    e->dy = dy;
    e->dz = dz;
    e->buttons = buttons;
    hg_machine_call(m, input_fn, e, g_free);
}

/* Display pixels to the tablet's 0..0x7FFF: the first and last pixel are the ends. */
int hg_machine_pointer_scale(HgMachine *m, int v, bool vertical)
{
    HgSurface s;
    hg_display_lock(m->display, &s);
    int size = vertical ? s.height : s.width;
    hg_display_unlock(m->display);
    if (size <= 1)
        return 0;
    v = CLAMP(v, 0, size - 1);
    return (int)(((int64_t)v * 0x7fff + (size - 1) / 2) / (size - 1));
}

static void pointer_fn(HgMachine *m, void *data)
{
    InputEvent *e = data;
    e->kind = EV_POINTER;
    e->dx = hg_machine_pointer_scale(m, e->dx, false);
    e->dy = hg_machine_pointer_scale(m, e->dy, true);
    input_fn(m, e);
}

bool hg_machine_send_pointer(HgMachine *m, int x, int y, unsigned buttons)
{
    /* Absolute positions need an absolute device: the USB tablet. */
    if (!hg_usb_host_has_tablet(hg_board_usb(m->board)))
        return false;
    InputEvent *e = g_new0(InputEvent, 1);
    e->dx = x;
    e->dy = y;
    e->buttons = buttons;
    hg_machine_call(m, pointer_fn, e, g_free);
    return true;
}

unsigned hg_machine_reset_count(HgMachine *m)
{
    return (unsigned)g_atomic_int_get((gint *)&m->resets);
}
