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

#include "block/qcow2.h"
#include "board.h"
#include "display.h"
#include "machine-internal.h"
#include "mmu.h"
#include "state.h"
#include "tb.h"

enum {
    STATE_FORMAT_VERSION = 2, /* 2: the header names the disks with internal snapshots */
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

static void save_header(HgMachine *m, HgStateWriter *w, unsigned disk_snapshots)
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
    hg_state_put_u8(w, (uint8_t)disk_snapshots);
    hg_state_end(w);
    fingerprint_clear(&f);
}

static bool read_header(HgStateReader *r, Fingerprint *f, HgStateInfo *info)
{
    memset(f, 0, sizeof(*f));
    memset(info, 0, sizeof(*info));
    uint32_t version = hg_state_open(r, "header", 1, STATE_FORMAT_VERSION);
    if (!version)
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
    if (version >= 2)
        info->disk_snapshots = hg_state_get_u8(r) & 3;
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

static GBytes *save_to_bytes(HgMachine *m, unsigned disk_snapshots)
{
    /* A device in the middle of host I/O has nothing a state could hold: finish it. */
    hg_board_drain_io(m->board);
    HgStateWriter w;
    hg_state_writer_init(&w);
    save_header(m, &w, disk_snapshots);
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

    GBytes *backup = save_to_bytes(m, 0);
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

static bool save_state_file(HgMachine *m, const char *path, unsigned disk_snapshots,
                            GError **error)
{
    GBytes *b = save_to_bytes(m, disk_snapshots);
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

bool hg_machine_save_state(HgMachine *m, const char *path, GError **error)
{
    return save_state_file(m, path, 0, error);
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

/* The header of a state in memory (a file, or the VM state of a qcow2 snapshot). */
static bool state_info_from_bytes(const uint8_t *data, size_t len, HgStateInfo *info,
                                  GError **error)
{
    HgStateReader r;
    hg_state_reader_init(&r, data, len);
    Fingerprint fp = {0};
    memset(info, 0, sizeof(*info));
    bool ok = is_state(data, len) && read_header(&r, &fp, info);
    fingerprint_clear(&fp);
    if (!ok) {
        g_set_error(error, HG_ERROR, HG_ERROR_FORMAT, "%s",
                    r.error ? r.error->message : "not a Hangar machine state");
        hg_state_info_clear(info);
    }
    g_clear_error(&r.error);
    return ok;
}

bool hg_state_file_info(const char *path, HgStateInfo *info, GError **error)
{
    GMappedFile *f = g_mapped_file_new(path, false, NULL);
    if (!f) {
        g_set_error(error, HG_ERROR, HG_ERROR_FILE, "cannot read the state %s", path);
        return false;
    }
    bool ok = state_info_from_bytes((const uint8_t *)g_mapped_file_get_contents(f),
                                    g_mapped_file_get_length(f), info, error);
    if (!ok)
        g_prefix_error(error, "%s: ", path);
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

static bool check_name(const char *name, GError **error)
{
    if (!*name) {
        g_set_error(error, HG_ERROR, HG_ERROR_CONFIG, "give the state a name");
        return false;
    }
    for (const char *p = name; *p; p++) {
        if (!g_ascii_isalnum(*p) && !strchr("._- ", *p)) {
            g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                        "state name \"%s\": use letters, digits, '.', '_', '-' and spaces, or "
                        "give a file path ending in .hgstate",
                        name);
            return false;
        }
    }
    if (name[0] == '.') {
        g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                    "state name \"%s\" may not start with a dot", name);
        return false;
    }
    return true;
}

char *hg_machine_state_path(HgMachine *m, const char *name, bool for_writing, GError **error)
{
    if (*name && is_path(name))
        return g_strdup(name);
    if (!check_name(name, error))
        return NULL;
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

/* A hard disk whose internal snapshots travel with the machine's named states: a writable
 * qcow2 image, not a --snapshot run's throw-away overlay. */
static Qcow2 *snapshot_disk(HgMachine *m, int n)
{
    HgBlock *b = m->cfg.snapshot ? NULL : hg_board_disk(m->board, n);
    if (!b || hg_block_read_only(b) || strcmp(hg_block_format(b), "qcow2") != 0)
        return NULL;
    return b->priv;
}

static const char *disk_name(HgMachine *m, int n)
{
    const char *p = n == 0 ? m->cfg.hda : m->cfg.hdb;
    return p ? p : "(none)";
}

static unsigned snapshot_disks(HgMachine *m)
{
    unsigned disks = 0;
    for (int n = 0; n < 2; n++)
        if (snapshot_disk(m, n))
            disks |= 1u << n;
    return disks;
}

/* A machine without a profile keeps named states inside its first qcow2 disk, as QEMU's
 * savevm does. */
static bool in_image(HgMachine *m, const char *name)
{
    return !m->cfg.profile_dir && !is_path(name);
}

static int state_disk(HgMachine *m)
{
    unsigned disks = snapshot_disks(m);
    return disks ? (int)__builtin_ctz(disks) : -1;
}

/* Takes the disk snapshots NAME of the disks in mask (except skip), replacing older ones of
 * that name; on failure removes the ones it took. */
static bool take_disk_snapshots(HgMachine *m, const char *name, unsigned mask, int skip,
                                GError **error)
{
    for (int n = 0; n < 2; n++) {
        if (!(mask & (1u << n)) || n == skip)
            continue;
        Qcow2 *q = snapshot_disk(m, n);
        GError *err = NULL;
        if ((hg_qcow2_snapshot_exists(q, name) && !hg_qcow2_snapshot_delete(q, name, &err)) ||
            !hg_qcow2_snapshot_create(q, name, &err)) {
            g_set_error(error, HG_ERROR, HG_ERROR_FILE,
                        "cannot take the snapshot \"%s\" of the disk %s: %s", name,
                        disk_name(m, n), err->message);
            g_error_free(err);
            for (int k = 0; k < n; k++)
                if ((mask & (1u << k)) && k != skip)
                    hg_qcow2_snapshot_delete(snapshot_disk(m, k), name, NULL);
            return false;
        }
    }
    return true;
}

/* Every disk snapshot a state goes with must be there before anything changes. */
static bool disk_snapshots_present(HgMachine *m, const char *name, unsigned mask, GError **error)
{
    for (int n = 0; n < 2; n++) {
        Qcow2 *q = snapshot_disk(m, n);
        if ((mask & (1u << n)) && (!q || !hg_qcow2_snapshot_exists(q, name))) {
            g_set_error(error, HG_ERROR, HG_ERROR_FILE,
                        "the state \"%s\" goes with a snapshot of the disk %s that is not "
                        "there (was the disk replaced?)",
                        name, disk_name(m, n));
            return false;
        }
    }
    return true;
}

/* After the machine state loaded: the disks go back to their snapshots too. */
static bool apply_disk_snapshots(HgMachine *m, const char *name, unsigned mask, GError **error)
{
    for (int n = 0; n < 2; n++) {
        GError *err = NULL;
        if ((mask & (1u << n)) && !hg_qcow2_snapshot_apply(snapshot_disk(m, n), name, &err)) {
            /* The machine runs on the saved state now: stop it rather than let it run on
             * a disk from another time. */
            g_set_error(error, HG_ERROR, HG_ERROR_FILE,
                        "the machine state was restored but the disk %s could not go back to "
                        "its snapshot (%s): the machine is paused",
                        disk_name(m, n), err->message);
            g_error_free(err);
            m->paused = true;
            return false;
        }
    }
    return true;
}

static bool save_in_image(HgMachine *m, const char *name, GError **error)
{
    int primary = state_disk(m);
    if (primary < 0) {
        g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                    "this machine has no profile folder and no writable qcow2 disk to keep "
                    "states in: give a file path, for example /tmp/%s.hgstate",
                    name);
        return false;
    }
    unsigned disks = snapshot_disks(m);
    GBytes *b = save_to_bytes(m, disks);
    gsize len;
    const void *data = g_bytes_get_data(b, &len);
    Qcow2 *q = snapshot_disk(m, primary);
    GError *err = NULL;
    bool ok = (!hg_qcow2_snapshot_exists(q, name) || hg_qcow2_snapshot_delete(q, name, &err)) &&
              hg_qcow2_snapshot_create_vmstate(q, name, data, len,
                                               (uint64_t)hg_clock_ns(m->clock), &err);
    g_bytes_unref(b);
    if (!ok) {
        g_set_error(error, HG_ERROR, HG_ERROR_FILE,
                    "cannot save the state \"%s\" in the disk %s: %s", name,
                    disk_name(m, primary), err->message);
        g_error_free(err);
        return false;
    }
    if (!take_disk_snapshots(m, name, disks, primary, error)) {
        hg_qcow2_snapshot_delete(q, name, NULL);
        return false;
    }
    return true;
}

/* The disk holding the machine state NAME (a snapshot with VM state), or -1. */
static int image_state_disk(HgMachine *m, const char *name)
{
    for (int n = 0; n < 2; n++) {
        Qcow2 *q = snapshot_disk(m, n);
        const Qcow2Snapshot *s = q ? hg_qcow2_snapshot_find(q, name) : NULL;
        if (s && s->vm_state_size)
            return n;
    }
    return -1;
}

static bool load_in_image(HgMachine *m, const char *name, GError **error)
{
    int n = image_state_disk(m, name);
    if (n < 0) {
        g_set_error(error, HG_ERROR, HG_ERROR_FILE, "no saved state \"%s\" in the disks", name);
        return false;
    }
    GBytes *b;
    HgStateInfo info;
    gsize len;
    const uint8_t *data;
    if (!hg_qcow2_snapshot_read_vmstate(snapshot_disk(m, n), name, &b, error))
        return false;
    data = g_bytes_get_data(b, &len);
    bool ok = state_info_from_bytes(data, len, &info, error);
    unsigned disks = ok ? info.disk_snapshots : 0;
    if (ok)
        hg_state_info_clear(&info);
    ok = ok && disk_snapshots_present(m, name, disks, error) &&
         load_from_bytes(m, data, len, error) && apply_disk_snapshots(m, name, disks, error);
    if (!ok)
        g_prefix_error(error, "the state \"%s\" in %s: ", name, disk_name(m, n));
    g_bytes_unref(b);
    return ok;
}

static bool delete_in_image(HgMachine *m, const char *name, GError **error)
{
    bool found = false;
    for (int n = 0; n < 2; n++) {
        Qcow2 *q = snapshot_disk(m, n);
        if (q && hg_qcow2_snapshot_exists(q, name)) {
            if (!hg_qcow2_snapshot_delete(q, name, error))
                return false;
            found = true;
        }
    }
    if (!found)
        g_set_error(error, HG_ERROR, HG_ERROR_FILE,
                    "cannot delete the state \"%s\": the disks have no snapshot of that name",
                    name);
    return found;
}

char **hg_machine_image_states(HgMachine *m)
{
    GPtrArray *names = g_ptr_array_new();
    for (int k = 0; k < 2; k++) {
        Qcow2 *q = snapshot_disk(m, k);
        for (uint32_t i = 0; q && i < q->nb_snapshots; i++) {
            bool seen = false;
            for (guint j = 0; j < names->len; j++)
                seen |= strcmp(names->pdata[j], q->snaps[i].name) == 0;
            if (q->snaps[i].vm_state_size && !seen)
                g_ptr_array_add(names, g_strdup(q->snaps[i].name));
        }
    }
    g_ptr_array_sort(names, compare_names);
    g_ptr_array_add(names, NULL);
    return (char **)g_ptr_array_free(names, false);
}

bool hg_machine_image_state_info(HgMachine *m, const char *name, HgStateInfo *info,
                                 GError **error)
{
    int n = image_state_disk(m, name);
    GBytes *b;
    if (n < 0 || !hg_qcow2_snapshot_read_vmstate(snapshot_disk(m, n), name, &b, error)) {
        if (n < 0)
            g_set_error(error, HG_ERROR, HG_ERROR_FILE, "no saved state \"%s\"", name);
        return false;
    }
    gsize len;
    const uint8_t *data = g_bytes_get_data(b, &len);
    bool ok = state_info_from_bytes(data, len, info, error);
    g_bytes_unref(b);
    return ok;
}

bool hg_machine_save_named_state(HgMachine *m, const char *name, GError **error)
{
    hg_board_drain_io(m->board);
    if (in_image(m, name))
        return check_name(name, error) && save_in_image(m, name, error);
    char *path = hg_machine_state_path(m, name, true, error);
    if (!path)
        return false;
    /* A named state of a profile takes an internal snapshot of the same name in each qcow2
     * disk, so restoring it brings back the disks as they were too (savevm in QEMU does
     * the same). The disks are quiet once the I/O drained, and nothing runs meanwhile. */
    unsigned disks = is_path(name) ? 0 : snapshot_disks(m);
    bool ok = save_state_file(m, path, disks, error);
    if (ok && !take_disk_snapshots(m, name, disks, -1, error)) {
        g_unlink(path);
        ok = false;
    }
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
    hg_board_drain_io(m->board);
    if (in_image(m, name))
        return check_name(name, error) && load_in_image(m, name, error);
    char *path = hg_machine_state_path(m, name, false, error);
    if (!path)
        return false;
    if (!g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
        g_set_error(error, HG_ERROR, HG_ERROR_FILE, "no saved state \"%s\" (%s)", name, path);
        g_free(path);
        return false;
    }
    HgStateInfo info;
    if (!hg_state_file_info(path, &info, error)) {
        g_free(path);
        return false;
    }
    unsigned disks = info.disk_snapshots;
    hg_state_info_clear(&info);
    bool ok = disk_snapshots_present(m, name, disks, error) &&
              hg_machine_load_state(m, path, error) &&
              apply_disk_snapshots(m, name, disks, error);
    g_free(path);
    return ok;
}

bool hg_machine_delete_named_state(HgMachine *m, const char *name, GError **error)
{
    hg_board_drain_io(m->board);
    if (in_image(m, name))
        return check_name(name, error) && delete_in_image(m, name, error);
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
        for (int n = 0; n < 2 && !is_path(name); n++) {
            Qcow2 *q = snapshot_disk(m, n);
            if (q && hg_qcow2_snapshot_exists(q, name))
                hg_qcow2_snapshot_delete(q, name, NULL);
        }
    }
    g_free(path);
    return ok;
}
