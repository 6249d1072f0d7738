/* Saved machine states: the whole running machine (CPU, RAM, the virtual clock and every
 * device) written to one file and read back, as QEMU's savevm/migration stream and
 * VirtualBox's saved state do. The format is engine/state.h's sections:
 *
 *   "header"   format version, what the machine is made of (memory size, display adapter,
 *              sound and network cards, a digest of the firmware image, the disk images),
 *              when it was saved, the guest's instruction count and clock;
 *   "machine"  the machine object's own counters;
 *   "cpu"      engine/cpu/cpu-state.c;
 *   "clock"    guest time (loaded after the CPU, before the devices re-arm timers);
 *   "ram"      guest RAM, deflated with zlib;
 *   the board  engine/board.c's sections, then the debug ports.
 *
 * A state file is untrusted input. Loading first checks the header against this machine
 * (a state of another machine is refused with the difference named), inflates RAM into a
 * buffer of its own, and keeps a snapshot of the current machine in memory: if any section
 * is then refused, that snapshot is loaded back, so a bad file leaves the machine as it
 * was. Disks are not part of the state: a state goes with the disks as they were when it
 * was saved (qcow2 internal snapshots keep both together).
 */
#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <zlib.h>

#include "board.h"
#include "display.h"
#include "machine-internal.h"
#include "mmu.h"
#include "state.h"
#include "tb.h"

enum {
    STATE_FORMAT_VERSION = 1,
    MACHINE_SECTION_VERSION = 1,
    RAM_SECTION_VERSION = 1,
    DIGEST_LEN = 32, /* SHA-256 */
};

static void put_string(HgStateWriter *w, const char *s)
{
    uint32_t n = s ? (uint32_t)strlen(s) : 0;
    hg_state_put_u32(w, n);
    hg_state_put_bytes(w, s ? s : "", n);
}

/* Strings in a header are paths: at most PATH_MAX-ish bytes. */
static char *get_string(HgStateReader *r)
{
    uint32_t n = hg_state_get_u32(r);
    if (n > 4096) {
        if (!r->error)
            g_set_error(&r->error, HG_ERROR, HG_ERROR_FORMAT,
                        "section %s: a %u-byte string is longer than any path", r->section, n);
        return NULL;
    }
    char *s = g_malloc0(n + 1);
    hg_state_get_bytes(r, s, n);
    return s;
}

static void firmware_digest(HgMachine *m, uint8_t out[DIGEST_LEN])
{
    memset(out, 0, DIGEST_LEN);
    if (!m->bios)
        return;
    GChecksum *c = g_checksum_new(G_CHECKSUM_SHA256);
    gsize len;
    const uint8_t *p = g_bytes_get_data(m->bios, &len);
    g_checksum_update(c, p, (gssize)len);
    gsize out_len = DIGEST_LEN;
    g_checksum_get_digest(c, out, &out_len);
    g_checksum_free(c);
}

/* What must match between the saved machine and the one loading: written in the header,
 * compared one by one so the refusal names the difference. */
typedef struct Fingerprint {
    uint32_t memory_mib;
    uint32_t vga;
    uint32_t soundhw;
    uint32_t nic;
    uint8_t firmware[DIGEST_LEN];
    char *hda, *hdb;
} Fingerprint;

static void fingerprint_of(HgMachine *m, Fingerprint *f)
{
    f->memory_mib = m->cfg.memory_mib;
    f->vga = m->cfg.vga;
    f->soundhw = m->cfg.soundhw;
    f->nic = m->cfg.nic;
    firmware_digest(m, f->firmware);
    f->hda = g_strdup(m->cfg.hda);
    f->hdb = g_strdup(m->cfg.hdb);
}

static void fingerprint_clear(Fingerprint *f)
{
    g_free(f->hda);
    g_free(f->hdb);
}

static void save_header(HgMachine *m, HgStateWriter *w)
{
    Fingerprint f;
    fingerprint_of(m, &f);
    hg_state_begin(w, "header", STATE_FORMAT_VERSION);
    hg_state_put_u32(w, f.memory_mib);
    hg_state_put_u32(w, f.vga);
    hg_state_put_u32(w, f.soundhw);
    hg_state_put_u32(w, f.nic);
    hg_state_put_bytes(w, f.firmware, DIGEST_LEN);
    put_string(w, f.hda);
    put_string(w, f.hdb);
    put_string(w, hg_board_cdrom_path(m->board));
    hg_state_put_u64(w, (uint64_t)g_get_real_time());
    hg_state_put_u64(w, hg_machine_icount(m));
    hg_state_put_u64(w, (uint64_t)hg_clock_ns(m->clock));
    hg_state_end(w);
    fingerprint_clear(&f);
}

static bool read_header(HgStateReader *r, Fingerprint *f, HgStateInfo *info)
{
    memset(f, 0, sizeof(*f));
    memset(info, 0, sizeof(*info));
    if (!hg_state_open(r, "header", 1, STATE_FORMAT_VERSION))
        return false;
    f->memory_mib = hg_state_get_u32(r);
    f->vga = hg_state_get_u32(r);
    f->soundhw = hg_state_get_u32(r);
    f->nic = hg_state_get_u32(r);
    hg_state_get_bytes(r, f->firmware, DIGEST_LEN);
    f->hda = get_string(r);
    f->hdb = get_string(r);
    info->cdrom = get_string(r);
    info->saved_usec = (int64_t)hg_state_get_u64(r);
    info->icount = hg_state_get_u64(r);
    info->guest_ns = (int64_t)hg_state_get_u64(r);
    info->memory_mib = f->memory_mib;
    hg_state_close(r);
    if (info->cdrom && !*info->cdrom)
        g_clear_pointer(&info->cdrom, g_free);
    return hg_state_ok(r);
}

static bool check_fingerprint(HgMachine *m, const Fingerprint *saved, GError **error)
{
    Fingerprint now;
    fingerprint_of(m, &now);
    const char *what = NULL;
    char *detail = NULL;
    if (saved->memory_mib != now.memory_mib) {
        what = "memory size";
        detail = g_strdup_printf("%u MiB in the state, %u MiB in this machine",
                                 saved->memory_mib, now.memory_mib);
    } else if (saved->vga != now.vga) {
        what = "display adapter";
    } else if (saved->soundhw != now.soundhw) {
        what = "sound cards";
    } else if (saved->nic != now.nic) {
        what = "network card";
    } else if (memcmp(saved->firmware, now.firmware, DIGEST_LEN) != 0) {
        what = "firmware";
        detail = g_strdup("the BIOS image changed since the state was saved (a firmware "
                          "update?); start the machine afresh");
    } else if (g_strcmp0(saved->hda && *saved->hda ? saved->hda : NULL, now.hda) != 0 ||
               g_strcmp0(saved->hdb && *saved->hdb ? saved->hdb : NULL, now.hdb) != 0) {
        what = "hard disks";
        detail = g_strdup_printf("saved with %s%s%s", saved->hda && *saved->hda ? saved->hda
                                                                                : "no disk",
                                 saved->hdb && *saved->hdb ? " and " : "",
                                 saved->hdb && *saved->hdb ? saved->hdb : "");
    }
    fingerprint_clear(&now);
    if (!what)
        return true;
    g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                "the saved state belongs to a differently built machine: its %s differs%s%s",
                what, detail ? " (" : "", detail ? detail : "");
    if (detail) {
        char *msg = g_strconcat((*error)->message, ")", NULL);
        g_free((*error)->message);
        (*error)->message = msg;
    }
    g_free(detail);
    return false;
}

static void save_ram(HgMachine *m, HgStateWriter *w)
{
    const uint8_t *ram = hg_bus_ram(m->bus);
    uLong size = hg_bus_ram_size(m->bus);
    uLongf zlen = compressBound(size);
    uint8_t *z = g_malloc(zlen);
    /* Level 1: RAM is mostly zero pages and code; speed matters more than the last 10%. */
    int rc = compress2(z, &zlen, ram, size, 1);
    g_assert(rc == Z_OK); /* only fails for lack of memory or a too-small buffer */
    hg_state_begin(w, "ram", RAM_SECTION_VERSION);
    hg_state_put_u32(w, (uint32_t)size);
    hg_state_put_u64(w, zlen);
    hg_state_put_bytes(w, z, zlen);
    hg_state_end(w);
    g_free(z);
}

/* Inflates the RAM section into a new buffer of exactly the machine's RAM size. */
static uint8_t *read_ram(HgMachine *m, HgStateReader *r)
{
    if (!hg_state_open(r, "ram", 1, RAM_SECTION_VERSION))
        return NULL;
    uint32_t size = hg_state_get_u32(r);
    uint64_t zlen = hg_state_get_u64(r);
    if (!hg_state_ok(r))
        return NULL;
    if (size != hg_bus_ram_size(m->bus) || zlen > r->section_end - r->pos) {
        g_set_error(&r->error, HG_ERROR, HG_ERROR_FORMAT,
                    "section ram: %u bytes of RAM in %" G_GUINT64_FORMAT
                    " compressed bytes do not fit this machine or this file",
                    size, zlen);
        return NULL;
    }
    uint8_t *ram = g_malloc(size);
    uLongf out = size;
    int rc = uncompress(ram, &out, r->data + r->pos, (uLong)zlen);
    if (rc != Z_OK || out != size) {
        g_set_error(&r->error, HG_ERROR, HG_ERROR_FORMAT,
                    "section ram: the compressed RAM is damaged (zlib: %s)",
                    rc == Z_OK ? "short" : zError(rc));
        g_free(ram);
        return NULL;
    }
    r->pos += zlen;
    hg_state_close(r);
    if (!hg_state_ok(r)) {
        g_free(ram);
        return NULL;
    }
    return ram;
}

static GBytes *save_to_bytes(HgMachine *m)
{
    /* A device in the middle of host I/O has nothing a state could hold: finish it. */
    hg_board_drain_io(m->board);
    HgStateWriter w;
    hg_state_writer_init(&w);
    save_header(m, &w);
    hg_state_begin(&w, "machine", MACHINE_SECTION_VERSION);
    hg_state_put_u64(&w, m->icount_base);
    hg_state_end(&w);
    hg_cpu_save(m->cpu, &w);
    hg_clock_save(m->clock, &w);
    save_ram(m, &w);
    hg_board_save(m->board, &w);
    hg_debugports_save(m->dbg, &w);
    return hg_state_writer_finish(&w);
}

/* Loads everything after the header and RAM into the live machine; false with r->error
 * set if a section was refused (the machine is then half-loaded: the caller restores). */
static bool load_devices(HgMachine *m, HgStateReader *r)
{
    if (hg_state_open(r, "machine", 1, MACHINE_SECTION_VERSION)) {
        uint64_t base = hg_state_get_u64(r);
        hg_state_close(r);
        if (hg_state_ok(r))
            m->icount_base = base;
    }
    hg_cpu_load(m->cpu, r);
    hg_clock_load(m->clock, r);
    return hg_state_ok(r);
}

static bool load_rest(HgMachine *m, HgStateReader *r)
{
    hg_board_load(m->board, r);
    hg_debugports_load(m->dbg, r);
    if (hg_state_ok(r) && r->pos != r->len)
        g_set_error(&r->error, HG_ERROR, HG_ERROR_FORMAT,
                    "%zu bytes follow the last section (a newer Hangar's state?)",
                    r->len - r->pos);
    return hg_state_ok(r);
}

/* After RAM and devices changed under it: no translation or display line is valid. */
static void after_load(HgMachine *m)
{
    hg_tlb_flush(m->cpu, false);
    hg_tb_flush_all(m->cpu->tbs);
    m->reset_requested = false;
    m->exited = false;
    hg_cpu_kick(m->cpu);
}

static bool is_state(const uint8_t *data, size_t len)
{
    static const char head[32] = "header";
    return len >= 40 && memcmp(data, head, 32) == 0;
}

static bool load_from_bytes(HgMachine *m, const uint8_t *data, size_t len, GError **error)
{
    if (!is_state(data, len)) {
        g_set_error(error, HG_ERROR, HG_ERROR_FORMAT, "not a Hangar machine state");
        return false;
    }
    hg_board_drain_io(m->board);
    HgStateReader r;
    hg_state_reader_init(&r, data, len);
    Fingerprint f;
    HgStateInfo info;
    bool ok = read_header(&r, &f, &info);
    if (ok)
        ok = check_fingerprint(m, &f, error);
    else
        g_propagate_error(error, g_steal_pointer(&r.error));
    fingerprint_clear(&f);
    if (!ok) {
        hg_state_info_clear(&info);
        g_clear_error(&r.error);
        return false;
    }
    /* The medium in the CD-ROM drive then: put it back first (a missing image refuses
     * the load before anything changed). */
    const char *cd_now = hg_board_cdrom_path(m->board);
    if (info.cdrom && g_strcmp0(info.cdrom, cd_now) != 0) {
        GError *err = NULL;
        if (!hg_board_cdrom_change(m->board, info.cdrom, &err)) {
            g_set_error(error, HG_ERROR, HG_ERROR_FILE,
                        "the CD image of the saved state cannot be inserted: %s",
                        err->message);
            g_error_free(err);
            hg_state_info_clear(&info);
            return false;
        }
    }
    hg_state_info_clear(&info);

    /* Inflate RAM before touching anything: it is the part most likely damaged. The
     * machine, cpu and clock sections come first; the probe skips them. */
    HgStateReader probe = r;
    for (int i = 0; i < 3; i++)
        hg_state_skip(&probe);
    uint8_t *ram = hg_state_ok(&probe) ? read_ram(m, &probe) : NULL;
    if (!ram) {
        g_propagate_error(error, g_steal_pointer(&probe.error));
        return false;
    }
    size_t rest_pos = probe.pos;

    GBytes *backup = save_to_bytes(m);
    bool loaded = load_devices(m, &r);
    if (loaded) {
        r.pos = rest_pos;
        loaded = load_rest(m, &r);
    }
    if (loaded) {
        memcpy(hg_bus_ram(m->bus), ram, hg_bus_ram_size(m->bus));
    } else {
        /* Put back what was there; the live RAM was never touched. */
        g_propagate_error(error, g_steal_pointer(&r.error));
        gsize blen;
        const uint8_t *b = g_bytes_get_data(backup, &blen);
        HgStateReader br;
        hg_state_reader_init(&br, b, blen);
        hg_state_skip(&br); /* header */
        load_devices(m, &br);
        hg_state_skip(&br); /* ram */
        load_rest(m, &br);
        g_assert(hg_state_ok(&br)); /* our own fresh snapshot always loads */
    }
    g_bytes_unref(backup);
    g_free(ram);
    after_load(m);
    return loaded;
}

bool hg_machine_save_state(HgMachine *m, const char *path, GError **error)
{
    GBytes *b = save_to_bytes(m);
    gsize len;
    const char *data = g_bytes_get_data(b, &len);
    GError *err = NULL;
    bool ok = g_file_set_contents_full(path, data, (gssize)len,
                                       G_FILE_SET_CONTENTS_CONSISTENT |
                                           G_FILE_SET_CONTENTS_DURABLE,
                                       0600, &err);
    if (!ok) {
        g_set_error(error, HG_ERROR, HG_ERROR_FILE, "cannot write the state %s: %s", path,
                    err->message);
        g_error_free(err);
    }
    g_bytes_unref(b);
    return ok;
}

bool hg_machine_load_state(HgMachine *m, const char *path, GError **error)
{
    GMappedFile *f = g_mapped_file_new(path, false, NULL);
    if (!f) {
        g_set_error(error, HG_ERROR, HG_ERROR_FILE, "cannot read the state %s", path);
        return false;
    }
    GError *err = NULL;
    bool ok = load_from_bytes(m, (const uint8_t *)g_mapped_file_get_contents(f),
                              g_mapped_file_get_length(f), &err);
    g_mapped_file_unref(f);
    if (!ok) {
        g_set_error(error, err->domain, err->code, "%s: %s", path, err->message);
        g_error_free(err);
    }
    return ok;
}

bool hg_state_file_info(const char *path, HgStateInfo *info, GError **error)
{
    GMappedFile *f = g_mapped_file_new(path, false, NULL);
    if (!f) {
        g_set_error(error, HG_ERROR, HG_ERROR_FILE, "cannot read the state %s", path);
        return false;
    }
    HgStateReader r;
    hg_state_reader_init(&r, g_mapped_file_get_contents(f), g_mapped_file_get_length(f));
    Fingerprint fp = {0};
    memset(info, 0, sizeof(*info));
    bool ok = is_state((const uint8_t *)g_mapped_file_get_contents(f),
                       g_mapped_file_get_length(f)) &&
              read_header(&r, &fp, info);
    fingerprint_clear(&fp);
    if (!ok) {
        g_set_error(error, HG_ERROR, HG_ERROR_FORMAT, "%s: %s", path,
                    r.error ? r.error->message : "not a Hangar machine state");
        hg_state_info_clear(info);
    }
    g_clear_error(&r.error);
    g_mapped_file_unref(f);
    return ok;
}

void hg_state_info_clear(HgStateInfo *info)
{
    g_clear_pointer(&info->cdrom, g_free);
}

/* ---- named states in the profile folder ---- */

static bool is_path(const char *name)
{
    return strchr(name, G_DIR_SEPARATOR) || g_str_has_suffix(name, ".hgstate");
}

char *hg_machine_state_path(HgMachine *m, const char *name, bool for_writing, GError **error)
{
    if (!*name) {
        g_set_error(error, HG_ERROR, HG_ERROR_CONFIG, "give the state a name");
        return NULL;
    }
    if (is_path(name))
        return g_strdup(name);
    for (const char *p = name; *p; p++) {
        if (!g_ascii_isalnum(*p) && !strchr("._- ", *p)) {
            g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                        "state name \"%s\": use letters, digits, '.', '_', '-' and spaces, or "
                        "give a file path ending in .hgstate",
                        name);
            return NULL;
        }
    }
    if (name[0] == '.') {
        g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                    "state name \"%s\" may not start with a dot", name);
        return NULL;
    }
    if (!m->cfg.profile_dir) {
        g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                    "this machine has no profile folder to keep states in: give a file path, "
                    "for example /tmp/%s.hgstate",
                    name);
        return NULL;
    }
    char *dir = g_build_filename(m->cfg.profile_dir, "states", NULL);
    if (for_writing && g_mkdir_with_parents(dir, 0700) != 0) {
        g_set_error(error, HG_ERROR, HG_ERROR_FILE, "cannot create %s: %s", dir,
                    g_strerror(errno));
        g_free(dir);
        return NULL;
    }
    char *file = g_strconcat(name, ".hgstate", NULL);
    char *path = g_build_filename(dir, file, NULL);
    g_free(file);
    g_free(dir);
    return path;
}

static int compare_names(gconstpointer a, gconstpointer b)
{
    return g_utf8_collate(*(char *const *)a, *(char *const *)b);
}

char **hg_machine_list_states(HgMachine *m)
{
    GPtrArray *names = g_ptr_array_new();
    if (m->cfg.profile_dir) {
        char *dir = g_build_filename(m->cfg.profile_dir, "states", NULL);
        GDir *d = g_dir_open(dir, 0, NULL);
        const char *e;
        while (d && (e = g_dir_read_name(d))) {
            if (g_str_has_suffix(e, ".hgstate") && e[0] != '.')
                g_ptr_array_add(names, g_strndup(e, strlen(e) - strlen(".hgstate")));
        }
        if (d)
            g_dir_close(d);
        g_free(dir);
    }
    g_ptr_array_sort(names, compare_names);
    g_ptr_array_add(names, NULL);
    return (char **)g_ptr_array_free(names, false);
}

/* The picture of the display when the state was saved sits beside it. */
char *hg_state_screenshot_path(const char *state_path)
{
    size_t n = strlen(state_path);
    if (g_str_has_suffix(state_path, ".hgstate"))
        n -= strlen(".hgstate");
    return g_strdup_printf("%.*s.png", (int)n, state_path);
}

bool hg_machine_save_named_state(HgMachine *m, const char *name, GError **error)
{
    char *path = hg_machine_state_path(m, name, true, error);
    if (!path)
        return false;
    bool ok = hg_machine_save_state(m, path, error);
    if (ok) {
        /* The picture is a convenience for the state list: a failure is not the save's. */
        char *png = hg_state_screenshot_path(path);
        hg_machine_screendump(m, png, NULL);
        g_free(png);
    }
    g_free(path);
    return ok;
}

bool hg_machine_load_named_state(HgMachine *m, const char *name, GError **error)
{
    char *path = hg_machine_state_path(m, name, false, error);
    if (!path)
        return false;
    if (!g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
        g_set_error(error, HG_ERROR, HG_ERROR_FILE, "no saved state \"%s\" (%s)", name, path);
        g_free(path);
        return false;
    }
    bool ok = hg_machine_load_state(m, path, error);
    g_free(path);
    return ok;
}

bool hg_machine_delete_named_state(HgMachine *m, const char *name, GError **error)
{
    char *path = hg_machine_state_path(m, name, false, error);
    if (!path)
        return false;
    bool ok = true;
    if (g_unlink(path) != 0) {
        g_set_error(error, HG_ERROR, HG_ERROR_FILE, "cannot delete the state \"%s\": %s", name,
                    g_strerror(errno));
        ok = false;
    } else {
        char *png = hg_state_screenshot_path(path);
        g_unlink(png);
        g_free(png);
    }
    g_free(path);
    return ok;
}
