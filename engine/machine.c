/* Machine assembly: RAM, firmware ROM at the reset vector, COM1, the debug ports and
 * the multiboot loader, run on the caller's thread. The PC board (PIC, PIT, chipset,
 * fw_cfg...) is added to this assembly by the platform code as it arrives.
 */
#include "hangar.h"

#include "bus.h"
#include "cpu.h"
#include "hw/debugport.h"
#include "hw/uart16550.h"
#include "multiboot.h"

/* Not G_DEFINE_QUARK: its cache is a static variable, and the engine keeps none. GLib
 * interns the string once; later calls are a hash lookup. */
GQuark hg_error_quark(void)
{
    return g_quark_from_static_string("hg-error-quark");
}

struct HgMachine {
    HgConfig cfg;
    HgMachineHooks hooks;
    HgBus *bus;
    HgCpu *cpu;
    HgUart *com1;
    HgDebugPorts *dbg;
    GBytes *bios;
    HgMultiboot *mb;
    bool exited;
    bool reset_requested;
    uint64_t icount_base; /* instructions retired before the last CPU reset */
    int exit_status;
};

void hg_config_init(HgConfig *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->memory_mib = 128;
    cfg->clock = HG_CLOCK_HOST;
}

void hg_config_clear(HgConfig *cfg)
{
    g_free(cfg->bios);
    g_free(cfg->kernel);
    g_free(cfg->initrd);
    g_free(cfg->append);
    memset(cfg, 0, sizeof(*cfg));
}

static void com1_tx(void *opaque, uint8_t byte)
{
    HgMachine *m = opaque;
    if (m->hooks.serial_out)
        m->hooks.serial_out(m->hooks.opaque, 0, byte);
}

static void debugcon_out(void *opaque, uint8_t byte)
{
    HgMachine *m = opaque;
    m->hooks.debugcon_out(m->hooks.opaque, byte);
}

static void debug_exit(void *opaque, int status)
{
    HgMachine *m = opaque;
    m->exited = true;
    m->exit_status = status;
    hg_cpu_kick(m->cpu);
}

static void cpu_shutdown(void *opaque)
{
    HgMachine *m = opaque;
    /* A triple fault resets the PC (the chipset turns the shutdown cycle into INIT). */
    if (m->cfg.no_reboot) {
        m->exited = true;
        m->exit_status = 0;
    } else {
        m->reset_requested = true;
    }
}

static uint64_t read_tsc(void *opaque)
{
    HgMachine *m = opaque;
    return m->cpu->icount;
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

static void map_bios(HgMachine *m)
{
    gsize len;
    const uint8_t *p = g_bytes_get_data(m->bios, &len);
    hg_bus_map_rom(m->bus, (uint32_t)(0x100000000ull - len), p, (uint32_t)len);
    /* The last 128 KiB (or less) also appear just below 1 MiB, as on the PC. */
    gsize low = MIN(len, 0x20000);
    hg_bus_map_rom(m->bus, 0x100000 - (uint32_t)low, p + len - low, (uint32_t)low);
}

HgMachine *hg_machine_new(const HgConfig *cfg, const HgMachineHooks *hooks, GError **error)
{
    if (cfg->memory_mib < 1 || cfg->memory_mib > 3072) {
        g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                    "memory size %u MiB is out of range (1 to 3072 MiB)", cfg->memory_mib);
        return NULL;
    }
    if (!cfg->bios && !cfg->kernel) {
        g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                    "nothing to run: give a firmware image (--bios) or a kernel (--kernel)");
        return NULL;
    }
    HgMachine *m = g_new0(HgMachine, 1);
    m->cfg = *cfg;
    m->cfg.bios = g_strdup(cfg->bios);
    m->cfg.kernel = g_strdup(cfg->kernel);
    m->cfg.initrd = g_strdup(cfg->initrd);
    m->cfg.append = g_strdup(cfg->append);
    if (hooks)
        m->hooks = *hooks;

    if (m->cfg.bios && !load_bios(m, error))
        goto fail;
    if (m->cfg.kernel) {
        m->mb = hg_multiboot_load(m->cfg.kernel, m->cfg.initrd, m->cfg.append, error);
        if (!m->mb)
            goto fail;
    }

    m->bus = hg_bus_new(m->cfg.memory_mib << 20);
    if (m->bios)
        map_bios(m);
    HgCpuHooks ch = {.opaque = m, .read_tsc = read_tsc, .shutdown = cpu_shutdown};
    m->cpu = hg_cpu_new(m->bus, &ch);
    m->com1 = hg_uart_new(m->bus, 0x3f8, com1_tx, NULL, m);
    m->dbg = hg_debugports_new(m->bus, m->hooks.debugcon_out ? debugcon_out : NULL,
                               m->cfg.debug_exit ? debug_exit : NULL, m);
    hg_machine_reset(m);
    if (m->mb && !hg_multiboot_start(m->mb, m->bus, m->cpu, !m->bios, error))
        goto fail;
    return m;

fail:
    hg_machine_free(m);
    return NULL;
}

void hg_machine_free(HgMachine *m)
{
    if (!m)
        return;
    hg_cpu_free(m->cpu);
    hg_uart_free(m->com1);
    hg_debugports_free(m->dbg);
    hg_bus_free(m->bus);
    if (m->bios)
        g_bytes_unref(m->bios);
    hg_multiboot_free(m->mb);
    hg_config_clear(&m->cfg);
    g_free(m);
}

void hg_machine_reset(HgMachine *m)
{
    m->icount_base += m->cpu->icount;
    hg_cpu_reset(m->cpu);
    hg_uart_reset(m->com1);
    m->reset_requested = false;
}

HgRunResult hg_machine_run(HgMachine *m, int64_t max_insns)
{
    int64_t start = (int64_t)m->cpu->icount;
    while (!m->exited) {
        int64_t left = max_insns - ((int64_t)m->cpu->icount - start);
        if (left <= 0)
            return HG_RUN_BUDGET;
        HgExitReason r = hg_cpu_run(m->cpu, MIN(left, 1000000));
        if (m->reset_requested) {
            hg_machine_reset(m);
            if (m->mb)
                hg_multiboot_start(m->mb, m->bus, m->cpu, !m->bios, NULL);
            continue;
        }
        if (r == HG_EXIT_HALT && !m->exited) {
            /* No interrupt source exists yet on this board: a halted CPU stays halted. */
            return HG_RUN_STUCK;
        }
    }
    return HG_RUN_EXITED;
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
    if (port != 0)
        return;
    for (size_t i = 0; i < len; i++)
        hg_uart_receive(m->com1, data[i]);
}
