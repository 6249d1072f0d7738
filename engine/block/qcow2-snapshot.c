/* qcow2 images: creating them, internal snapshots (qcow2.txt "Snapshots": the table, the
 * L1 copies and the refcount rules that make clusters shared), compressed cluster writes
 * (raw deflate, "Compressed Clusters Descriptor"), growing the virtual size and changing
 * the backing file. The write order rules are in qcow2.h. */
#include "qcow2.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

enum { MAX_SNAPSHOT_TABLE = 64 << 20, MAX_SNAPSHOT_EXTRA = 1024 };

static uint64_t clusters_for(const Qcow2 *q, uint64_t bytes)
{
    return (bytes + q->cs - 1) >> q->cluster_bits;
}

/* ---- The snapshot table ---- */

bool qcow2_read_snapshots(Qcow2 *q, uint8_t *hdr, GError **error)
{
    (void)hdr;
    uint32_t n = q->nb_snapshots;
    q->nb_snapshots = 0; /* counts the entries read so far */
    if (n == 0)
        return true;
    uint64_t off = q->snapshots_offset;
    if (off < q->cs || (off & (q->cs - 1)) || off >= q->file_size) {
        g_set_error(error, HG_BLOCK_ERROR, HG_BLOCK_ERROR_OPEN,
                    "%s: snapshot table at %#" G_GINT64_MODIFIER "x is unaligned or outside "
                    "the file",
                    q->b->filename, off);
        return false;
    }
    q->snaps = g_new0(Qcow2Snapshot, n);
    for (uint32_t i = 0; i < n; i++) {
        uint8_t h[40], extra[MAX_SNAPSHOT_EXTRA];
        const char *bad = NULL;
        if (off + 40 > q->file_size || off - q->snapshots_offset > MAX_SNAPSHOT_TABLE)
            bad = "runs past the end of the file";
        else if (!qcow2_fread(q, off, h, 40, error))
            return false;
        Qcow2Snapshot *s = &q->snaps[i];
        uint32_t id_len = q_be16(h + 12), name_len = q_be16(h + 14);
        uint32_t extra_size = q_be32(h + 36);
        if (!bad && extra_size > MAX_SNAPSHOT_EXTRA)
            bad = "has too much extra data";
        uint64_t total = 40ull + extra_size + id_len + name_len;
        if (!bad && off + total > q->file_size)
            bad = "runs past the end of the file";
        if (bad) {
            g_set_error(error, HG_BLOCK_ERROR, HG_BLOCK_ERROR_OPEN,
                        "%s: snapshot %u of the table %s", q->b->filename, i + 1, bad);
            return false;
        }
        s->l1_offset = q_be64(h);
        s->l1_size = q_be32(h + 8);
        s->date_sec = q_be32(h + 16);
        s->date_nsec = q_be32(h + 20);
        s->vm_clock_nsec = q_be64(h + 24);
        s->vm_state_size = q_be32(h + 32);
        s->extra_size = extra_size;
        s->disk_size = q->size;
        char *strs = g_malloc(id_len + name_len + 1);
        if (!qcow2_fread(q, off + 40, extra, extra_size, error) ||
            !qcow2_fread(q, off + 40 + extra_size, strs, id_len + name_len, error)) {
            g_free(strs);
            return false;
        }
        if (extra_size >= 8)
            s->vm_state_size = q_be64(extra);
        if (extra_size >= 16)
            s->disk_size = q_be64(extra + 8);
        s->id = g_strndup(strs, id_len);
        s->name = g_strndup(strs + id_len, name_len);
        g_free(strs);
        q->nb_snapshots = i + 1;
        if ((uint64_t)s->l1_size * 8 > QCOW2_MAX_L1_BYTES ||
            (s->l1_size &&
             ((s->l1_offset & (q->cs - 1)) || s->l1_offset < q->cs || s->l1_offset > q->file_size ||
              (uint64_t)s->l1_size * 8 > q->file_size - s->l1_offset))) {
            g_set_error(error, HG_BLOCK_ERROR, HG_BLOCK_ERROR_OPEN,
                        "%s: the L1 table of snapshot '%s' is too large, unaligned or outside "
                        "the file",
                        q->b->filename, s->name);
            return false;
        }
        off += (total + 7) & ~7ull;
    }
    q->snapshots_size = off - q->snapshots_offset;
    return true;
}

/* Writes the table for snaps[0..n) to new clusters, points the header at it, frees the old
 * one, and makes it the table in memory. */
static bool write_snapshot_table(Qcow2 *q, Qcow2Snapshot *snaps, uint32_t n, GError **error)
{
    GByteArray *t = g_byte_array_new();
    for (uint32_t i = 0; i < n; i++) {
        const Qcow2Snapshot *s = &snaps[i];
        uint8_t h[56] = {0};
        size_t il = strlen(s->id), nl = strlen(s->name);
        q_put64(h, s->l1_offset);
        q_put32(h + 8, s->l1_size);
        q_put16(h + 12, (uint16_t)il);
        q_put16(h + 14, (uint16_t)nl);
        q_put32(h + 16, s->date_sec);
        q_put32(h + 20, s->date_nsec);
        q_put64(h + 24, s->vm_clock_nsec);
        q_put32(h + 32, s->vm_state_size > UINT32_MAX ? 0 : (uint32_t)s->vm_state_size);
        q_put32(h + 36, 16);
        q_put64(h + 40, s->vm_state_size);
        q_put64(h + 48, s->disk_size);
        g_byte_array_append(t, h, 56);
        g_byte_array_append(t, (const uint8_t *)s->id, (guint)il);
        g_byte_array_append(t, (const uint8_t *)s->name, (guint)nl);
        static const uint8_t pad[8];
        g_byte_array_append(t, pad, (8 - t->len % 8) % 8);
    }
    uint64_t off = 0;
    bool ok = true;
    if (n) {
        ok = qcow2_alloc(q, clusters_for(q, t->len), &off, error) &&
             qcow2_fwrite(q, off, t->data, t->len, error);
    }
    uint8_t h[12];
    q_put32(h, n);
    q_put64(h + 4, off);
    ok = ok && qcow2_write_header_field(q, 60, h, 12, error);
    uint64_t old_off = q->snapshots_offset, old_size = q->snapshots_size;
    uint32_t old_n = q->nb_snapshots;
    if (ok) {
        q->snapshots_offset = off;
        q->snapshots_size = t->len;
        q->snaps = snaps;
        q->nb_snapshots = n;
        if (old_n)
            ok = qcow2_update_refcount(q, old_off >> q->cluster_bits, clusters_for(q, old_size), -1,
                                       error);
    }
    g_byte_array_unref(t);
    return ok;
}

static int find_snapshot(const Qcow2 *q, const char *name)
{
    for (uint32_t i = 0; i < q->nb_snapshots; i++)
        if (strcmp(q->snaps[i].id, name) == 0)
            return (int)i;
    for (uint32_t i = 0; i < q->nb_snapshots; i++)
        if (strcmp(q->snaps[i].name, name) == 0)
            return (int)i;
    return -1;
}

bool qcow2_tree_refcount(Qcow2 *q, const uint64_t *l1, uint32_t l1_size, int addend,
                         bool update_copied, GError **error)
{
    uint8_t *t = g_malloc(q->cs);
    bool ok = true, l1_changed = false;
    for (uint32_t i = 0; ok && i < l1_size; i++) {
        uint64_t l2 = l1[i] & QCOW2_OFFSET_MASK;
        if (!l2)
            continue;
        uint8_t *c;
        if (!(ok = qcow2_load_l2(q, l2, &c, error)))
            break;
        memcpy(t, c, q->cs);
        bool changed = false;
        for (uint64_t j = 0; ok && j < q->l2_entries; j++) {
            uint64_t e = q_be64(t + j * 8);
            if (e & QCOW2_OFLAG_COMPRESSED) {
                uint64_t first, n;
                qcow2_compressed_range(q, e, &first, &n);
                if (addend)
                    ok = qcow2_update_refcount(q, first, n, addend, error);
                continue;
            }
            uint64_t host = e & QCOW2_OFFSET_MASK;
            if (!host)
                continue;
            if (addend)
                ok = qcow2_update_refcount(q, host >> q->cluster_bits, 1, addend, error);
            uint64_t rc;
            if (ok && update_copied &&
                (ok = qcow2_get_refcount(q, host >> q->cluster_bits, &rc, error))) {
                uint64_t ne = rc == 1 ? e | QCOW2_OFLAG_COPIED : e & ~QCOW2_OFLAG_COPIED;
                if (ne != e) {
                    q_put64(t + j * 8, ne);
                    changed = true;
                }
            }
        }
        if (ok && changed) {
            qcow2_cache_forget(q, l2);
            ok = qcow2_fwrite(q, l2, t, q->cs, error);
        }
        if (ok && addend)
            ok = qcow2_update_refcount(q, l2 >> q->cluster_bits, 1, addend, error);
        uint64_t rc;
        if (ok && update_copied &&
            (ok = qcow2_get_refcount(q, l2 >> q->cluster_bits, &rc, error))) {
            uint64_t ne = rc == 1 ? q->l1[i] | QCOW2_OFLAG_COPIED : q->l1[i] & ~QCOW2_OFLAG_COPIED;
            if (ne != q->l1[i]) {
                q->l1[i] = ne;
                l1_changed = true;
            }
        }
    }
    g_free(t);
    if (ok && l1_changed) {
        uint8_t *raw = g_malloc((size_t)q->l1_size * 8);
        for (uint32_t i = 0; i < q->l1_size; i++)
            q_put64(raw + i * 8, q->l1[i]);
        ok = qcow2_fwrite(q, q->l1_offset, raw, (size_t)q->l1_size * 8, error);
        g_free(raw);
    }
    return ok;
}

/* Whether every cluster reachable from l1 can take one more reference: checked before a
 * snapshot changes anything, so a refcount that would overflow leaves the image as it was. */
static bool tree_can_share(Qcow2 *q, const uint64_t *l1, uint32_t l1_size, GError **error)
{
    for (uint32_t i = 0; i < l1_size; i++) {
        uint64_t l2 = l1[i] & QCOW2_OFFSET_MASK, rc;
        if (!l2)
            continue;
        if (!qcow2_get_refcount(q, l2 >> q->cluster_bits, &rc, error))
            return false;
        bool full = rc >= q->rc_max;
        uint8_t *t;
        if (!full && !qcow2_load_l2(q, l2, &t, error))
            return false;
        for (uint64_t j = 0; !full && j < q->l2_entries; j++) {
            uint64_t e = q_be64(t + j * 8), first, n = 1;
            if (e & QCOW2_OFLAG_COMPRESSED)
                qcow2_compressed_range(q, e, &first, &n);
            else if (!(first = (e & QCOW2_OFFSET_MASK) >> q->cluster_bits))
                continue;
            for (uint64_t k = 0; !full && k < n; k++) {
                if (!qcow2_get_refcount(q, first + k, &rc, error))
                    return false;
                full = rc >= q->rc_max;
            }
            if (!qcow2_load_l2(q, l2, &t, error))
                return false;
        }
        if (full)
            return qcow2_err(q, error,
                             "a cluster would be shared more often than %u-bit "
                             "refcounts can count; convert the image with wider refcounts "
                             "(-o refcount_bits=16)",
                             q->rc_bits);
    }
    return true;
}

static bool writable(Qcow2 *q, GError **error)
{
    if (q->read_only || q->broken)
        return qcow2_err(q, error, "the image is opened read-only or failed a check");
    return true;
}

static Qcow2Snapshot *copy_snaps(const Qcow2 *q, uint32_t extra)
{
    Qcow2Snapshot *s = g_new0(Qcow2Snapshot, q->nb_snapshots + extra);
    for (uint32_t i = 0; i < q->nb_snapshots; i++) {
        s[i] = q->snaps[i];
        s[i].id = g_strdup(q->snaps[i].id);
        s[i].name = g_strdup(q->snaps[i].name);
    }
    return s;
}

static void free_snaps(Qcow2Snapshot *s, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        g_free(s[i].id);
        g_free(s[i].name);
    }
    g_free(s);
}

/* Replaces the table in memory and on disk; on failure the old one stays in memory. */
static bool replace_snapshots(Qcow2 *q, Qcow2Snapshot *snaps, uint32_t n, GError **error)
{
    Qcow2Snapshot *old = q->snaps;
    uint32_t old_n = q->nb_snapshots;
    if (!write_snapshot_table(q, snaps, n, error)) {
        if (q->snaps != old)
            q->snaps = old, q->nb_snapshots = old_n;
        free_snaps(snaps, n);
        return false;
    }
    if (old != q->snaps)
        free_snaps(old, old_n);
    return true;
}

bool hg_qcow2_snapshot_exists(const Qcow2 *q, const char *name)
{
    return find_snapshot(q, name) >= 0;
}

const Qcow2Snapshot *hg_qcow2_snapshot_find(const Qcow2 *q, const char *name)
{
    int i = find_snapshot(q, name);
    return i >= 0 ? &q->snaps[i] : NULL;
}

/* A snapshot of the active tables; vm_state_size bytes of machine state lie in them after
 * the disk (0: a disk-only snapshot). */
static bool create_snapshot(Qcow2 *q, const char *name, uint64_t vm_state_size,
                            uint64_t vm_clock_ns, GError **error)
{
    if (!writable(q, error))
        return false;
    if (!*name || strlen(name) > 65535 || find_snapshot(q, name) >= 0)
        return qcow2_err(q, error,
                         "a snapshot named '%s' exists already (or the name is "
                         "empty)",
                         name);
    /* The id: one more than the largest numeric id. */
    if (!tree_can_share(q, q->l1, q->l1_size, error))
        return false;
    unsigned long long max_id = 0;
    for (uint32_t i = 0; i < q->nb_snapshots; i++)
        max_id = MAX(max_id, g_ascii_strtoull(q->snaps[i].id, NULL, 10));
    uint64_t l1c = clusters_for(q, (uint64_t)q->l1_size * 8), l1off = 0;
    uint8_t *raw = g_malloc0(MAX(l1c, 1) * q->cs);
    for (uint32_t i = 0; i < q->l1_size; i++)
        q_put64(raw + i * 8, q->l1[i] & ~QCOW2_OFLAG_COPIED);
    bool ok = !l1c || (qcow2_alloc(q, l1c, &l1off, error) &&
                       qcow2_fwrite(q, l1off, raw, l1c * q->cs, error));
    g_free(raw);
    if (!ok || !qcow2_tree_refcount(q, q->l1, q->l1_size, 1, true, error))
        return false;
    Qcow2Snapshot *snaps = copy_snaps(q, 1);
    Qcow2Snapshot *s = &snaps[q->nb_snapshots];
    gint64 now = g_get_real_time();
    s->l1_offset = l1off;
    s->l1_size = q->l1_size;
    s->id = g_strdup_printf("%llu", max_id + 1);
    s->name = g_strdup(name);
    s->date_sec = (uint32_t)(now / G_USEC_PER_SEC);
    s->date_nsec = (uint32_t)(now % G_USEC_PER_SEC * 1000);
    s->disk_size = q->size;
    s->vm_state_size = vm_state_size;
    s->vm_clock_nsec = vm_clock_ns;
    s->extra_size = 16;
    return replace_snapshots(q, snaps, q->nb_snapshots + 1, error);
}

bool hg_qcow2_snapshot_create(Qcow2 *q, const char *name, GError **error)
{
    return create_snapshot(q, name, 0, 0, error);
}

static bool read_l1(Qcow2 *q, uint64_t off, uint32_t n, uint64_t **out, GError **error)
{
    uint8_t *raw = g_malloc((size_t)n * 8 + 8);
    uint64_t *l1 = g_new0(uint64_t, n + 1);
    bool ok = qcow2_fread(q, off, raw, (size_t)n * 8, error);
    for (uint32_t i = 0; ok && i < n; i++) {
        l1[i] = q_be64(raw + i * 8) & ~QCOW2_OFLAG_COPIED;
        uint64_t l2 = l1[i] & QCOW2_OFFSET_MASK;
        if (l2 && ((l2 & (q->cs - 1)) || l2 >= q->file_size))
            ok = qcow2_corrupt(q, error, "snapshot L1 entry %u is invalid", i);
    }
    g_free(raw);
    if (!ok)
        g_free(l1);
    else
        *out = l1;
    return ok;
}

/* The active L1 table becomes a copy of l1 (n entries, n <= the table's size). */
static bool write_active_l1(Qcow2 *q, const uint64_t *l1, uint32_t n, GError **error)
{
    uint8_t *raw = g_malloc0((size_t)q->l1_size * 8 + 8);
    for (uint32_t i = 0; i < n; i++)
        q_put64(raw + i * 8, l1[i]);
    bool ok = qcow2_fwrite(q, q->l1_offset, raw, (size_t)q->l1_size * 8, error);
    g_free(raw);
    if (ok) {
        memset(q->l1, 0, (size_t)q->l1_size * 8);
        memcpy(q->l1, l1, (size_t)n * 8);
    }
    return ok;
}

/* A larger active L1 table: written in full elsewhere, the header switched to it (size,
 * L1 size and offset in one write), the old one freed. */
static bool grow_l1(Qcow2 *q, uint32_t entries, uint64_t new_size, GError **error)
{
    uint64_t c = clusters_for(q, (uint64_t)entries * 8), off;
    if ((uint64_t)entries * 8 > QCOW2_MAX_L1_BYTES)
        return qcow2_err(q, error, "the L1 table would be too large");
    uint8_t *raw = g_malloc0(c * q->cs);
    for (uint32_t i = 0; i < q->l1_size; i++)
        q_put64(raw + i * 8, q->l1[i]);
    bool ok = qcow2_alloc(q, c, &off, error) && qcow2_fwrite(q, off, raw, c * q->cs, error);
    g_free(raw);
    if (!ok)
        return false;
    uint8_t h[24];
    q_put64(h, new_size);
    q_put32(h + 8, 0); /* crypt_method */
    q_put32(h + 12, entries);
    q_put64(h + 16, off);
    if (!qcow2_write_header_field(q, 24, h, 24, error))
        return false;
    uint64_t old = q->l1_offset, oldc = clusters_for(q, (uint64_t)q->l1_size * 8);
    q->l1 = g_renew(uint64_t, q->l1, entries);
    memset(q->l1 + q->l1_size, 0, (size_t)(entries - q->l1_size) * 8);
    q->l1_size = entries;
    q->l1_offset = off;
    q->size = new_size;
    q->b->size = new_size;
    return !oldc || qcow2_update_refcount(q, old >> q->cluster_bits, oldc, -1, error);
}

static bool set_size(Qcow2 *q, uint64_t size, GError **error)
{
    uint8_t h[8];
    q_put64(h, size);
    if (!qcow2_write_header_field(q, 24, h, 8, error))
        return false;
    q->size = size;
    q->b->size = size;
    return true;
}

/* ---- Machine states in snapshots ---- */

/* Where the VM state of an image of disk_size bytes starts in its guest address space: the
 * first L1 entry the disk does not use (QEMU's qcow2_vm_state_offset), so the state never
 * shares an L2 table with the disk. */
static uint64_t vmstate_offset(const Qcow2 *q, uint64_t disk_size)
{
    return qcow2_l1_entries_for(q, disk_size) << (q->cluster_bits + q->l2_bits);
}

/* Active L1 entries [first, end) let go of their L2 tables. A table and the clusters it maps
 * carry one reference for each L1 table that reaches them (a shared table's clusters are
 * counted once per snapshot that shares it, as qemu-img check counts): both lose one. */
static bool drop_l1_entries(Qcow2 *q, uint64_t first, uint64_t end, GError **error)
{
    static const uint8_t zero[8];
    for (uint64_t i = first; i < MIN(end, (uint64_t)q->l1_size); i++) {
        uint64_t e = q->l1[i], l2 = e & QCOW2_OFFSET_MASK;
        if (!l2)
            continue;
        if (!qcow2_fwrite(q, q->l1_offset + i * 8, zero, 8, error))
            return false;
        q->l1[i] = 0;
        uint8_t *t, *copy = g_malloc(q->cs);
        bool ok = qcow2_load_l2(q, l2, &t, error);
        if (ok)
            memcpy(copy, t, q->cs);
        for (uint64_t k = 0; ok && k < q->l2_entries; k++)
            ok = qcow2_free_entry(q, q_be64(copy + k * 8), error);
        g_free(copy);
        if (!ok)
            return false;
        qcow2_cache_forget(q, l2);
        if (!qcow2_update_refcount(q, l2 >> q->cluster_bits, 1, -1, error))
            return false;
    }
    return true;
}

bool hg_qcow2_snapshot_create_vmstate(Qcow2 *q, const char *name, const void *state, size_t len,
                                      uint64_t vm_clock_ns, GError **error)
{
    if (!writable(q, error))
        return false;
    if (!len || find_snapshot(q, name) >= 0 || !*name)
        return qcow2_err(q, error, "a snapshot named '%s' exists already (or the name is empty)",
                         name);
    uint64_t off = vmstate_offset(q, q->size), padded = clusters_for(q, len) << q->cluster_bits;
    uint64_t l1_first = qcow2_l1_entries_for(q, q->size);
    uint64_t l1_end = qcow2_l1_entries_for(q, off + padded);
    if (l1_end > UINT32_MAX || l1_end * 8 > QCOW2_MAX_L1_BYTES)
        return qcow2_err(q, error, "the machine state is too large for this image's L1 table");
    if (l1_end > q->l1_size && !grow_l1(q, (uint32_t)l1_end, q->size, error))
        return false;
    /* The state area is empty before (a failed save may have left clusters: drop them),
     * written whole clusters at a time, taken into the snapshot, and dropped from the
     * active tables, as QEMU does: the running disk never carries it. */
    uint8_t *buf = g_malloc0(padded);
    memcpy(buf, state, len);
    bool ok = drop_l1_entries(q, l1_first, l1_end, error) &&
              qcow2_write_guest(q, off, buf, padded, error) &&
              create_snapshot(q, name, len, vm_clock_ns, error);
    g_free(buf);
    return ok && drop_l1_entries(q, l1_first, l1_end, error);
}

bool hg_qcow2_snapshot_read_vmstate(Qcow2 *q, const char *name, GBytes **state, GError **error)
{
    int i = find_snapshot(q, name);
    if (i < 0)
        return qcow2_err(q, error, "no snapshot named '%s'", name);
    Qcow2Snapshot s = q->snaps[i];
    if (!s.vm_state_size)
        return qcow2_err(q, error, "the snapshot '%s' holds no machine state (a disk-only "
                                   "snapshot)",
                         name);
    /* The state is written uncompressed: it cannot be larger than the file. */
    if (s.vm_state_size > q->file_size || s.vm_state_size > G_MAXSIZE / 2)
        return qcow2_corrupt(q, error, "the snapshot '%s' claims a machine state larger than "
                                       "the image",
                             name);
    uint64_t *l1;
    if (!read_l1(q, s.l1_offset, s.l1_size, &l1, error))
        return false;
    uint64_t off = vmstate_offset(q, s.disk_size);
    size_t len = (size_t)s.vm_state_size;
    uint8_t *buf = g_malloc(len);
    bool ok = true;
    for (size_t done = 0; ok && done < len;) {
        uint64_t pos = off + done, gc = pos >> q->cluster_bits, l1i = gc >> q->l2_bits;
        size_t chunk = (size_t)MIN((uint64_t)(len - done), q->cs - (pos & (q->cs - 1)));
        uint64_t l2 = l1i < s.l1_size ? l1[l1i] & QCOW2_OFFSET_MASK : 0, e = 0;
        uint8_t *t;
        if (l2) {
            ok = qcow2_load_l2(q, l2, &t, error);
            if (ok)
                e = q_be64(t + (gc & (q->l2_entries - 1)) * 8);
        }
        /* The state never comes from a backing file: an unmapped cluster is zeros. */
        if (ok && !(e & (QCOW2_OFFSET_MASK | QCOW2_OFLAG_COMPRESSED)))
            memset(buf + done, 0, chunk);
        else if (ok)
            ok = qcow2_read_cluster_part(q, e, pos, buf + done, chunk, error);
        done += chunk;
    }
    g_free(l1);
    if (!ok) {
        g_free(buf);
        return false;
    }
    *state = g_bytes_new_take(buf, len);
    return true;
}

/* The snapshot named (by id or name) and its L1 table, for apply and delete. */
static bool snapshot_l1(Qcow2 *q, const char *name, int *index, uint64_t **l1, GError **error)
{
    if (!writable(q, error))
        return false;
    *index = find_snapshot(q, name);
    if (*index < 0)
        return qcow2_err(q, error, "no snapshot named '%s'", name);
    const Qcow2Snapshot *s = &q->snaps[*index];
    return read_l1(q, s->l1_offset, s->l1_size, l1, error);
}

bool hg_qcow2_snapshot_apply(Qcow2 *q, const char *name, GError **error)
{
    int i;
    uint64_t *sl1;
    if (!snapshot_l1(q, name, &i, &sl1, error))
        return false;
    Qcow2Snapshot s = q->snaps[i];
    uint64_t *old = g_new0(uint64_t, q->l1_size + 1);
    memcpy(old, q->l1, (size_t)q->l1_size * 8);
    uint32_t old_n = q->l1_size;
    bool ok = tree_can_share(q, sl1, s.l1_size, error) &&
              qcow2_tree_refcount(q, sl1, s.l1_size, 1, false, error);
    if (ok && s.l1_size > q->l1_size)
        ok = grow_l1(q, s.l1_size, q->size, error);
    ok = ok && write_active_l1(q, sl1, s.l1_size, error) &&
         qcow2_tree_refcount(q, old, old_n, -1, false, error) &&
         qcow2_tree_refcount(q, q->l1, q->l1_size, 0, true, error);
    if (ok && s.disk_size != q->size && qcow2_l1_entries_for(q, s.disk_size) <= q->l1_size)
        ok = set_size(q, s.disk_size, error);
    /* A machine state came along in the tables: the running disk does not keep it. */
    if (ok && s.vm_state_size)
        ok = drop_l1_entries(q, qcow2_l1_entries_for(q, q->size), q->l1_size, error);
    g_free(sl1);
    g_free(old);
    return ok;
}

bool hg_qcow2_snapshot_delete(Qcow2 *q, const char *name, GError **error)
{
    int i;
    uint64_t *sl1;
    if (!snapshot_l1(q, name, &i, &sl1, error))
        return false;
    Qcow2Snapshot s = q->snaps[i];
    Qcow2Snapshot *snaps = copy_snaps(q, 0);
    g_free(snaps[i].id);
    g_free(snaps[i].name);
    memmove(&snaps[i], &snaps[i + 1], (q->nb_snapshots - (uint32_t)i - 1) * sizeof(*snaps));
    bool ok = replace_snapshots(q, snaps, q->nb_snapshots - 1, error) &&
              qcow2_tree_refcount(q, sl1, s.l1_size, -1, false, error) &&
              (!s.l1_size ||
               qcow2_update_refcount(q, s.l1_offset >> q->cluster_bits,
                                     clusters_for(q, (uint64_t)s.l1_size * 8), -1, error)) &&
              qcow2_tree_refcount(q, q->l1, q->l1_size, 0, true, error);
    g_free(sl1);
    return ok;
}

/* ---- Compressed writes (convert -c) ---- */

bool hg_qcow2_write_compressed(Qcow2 *q, uint64_t guest_offset, const uint8_t *data, GError **error)
{
    if (!writable(q, error))
        return false;
    uint8_t *out = g_malloc(q->cs);
    z_stream z = {0};
    size_t clen = 0;
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -12, 9, Z_DEFAULT_STRATEGY) == Z_OK) {
        z.next_in = (uint8_t *)data;
        z.avail_in = (uInt)q->cs;
        z.next_out = out;
        z.avail_out = (uInt)q->cs;
        if (deflate(&z, Z_FINISH) == Z_STREAM_END)
            clen = q->cs - z.avail_out;
        deflateEnd(&z);
    }
    uint64_t vend = hg_block_sectors(q->b) * HG_BLOCK_SECTOR;
    if (clen == 0 || clen > q->cs - 512 || guest_offset + q->cs > vend) {
        g_free(out); /* no gain, or the partial last cluster: stored as it is */
        return hg_block_pwrite(q->b, guest_offset, data, (size_t)MIN(q->cs, vend - guest_offset),
                               error);
    }
    bool ok = true;
    uint64_t off = q->cfree;
    if (!off || !(off & (q->cs - 1)) || (off & (q->cs - 1)) + clen > q->cs) {
        ok = qcow2_alloc(q, 1, &off, error);
    } else {
        ok = qcow2_update_refcount(q, off >> q->cluster_bits, 1, 1, error);
    }
    ok = ok && qcow2_fwrite(q, off, out, clen, error);
    g_free(out);
    if (!ok)
        return false;
    q->cfree = off + clen;
    uint64_t nsect = ((off + clen - 1) >> 9) - (off >> 9);
    uint64_t e = off | QCOW2_OFLAG_COMPRESSED | (nsect << q->csize_shift);
    /* Pointer after data and refcount. */
    uint64_t gc = guest_offset >> q->cluster_bits, l1i = gc >> q->l2_bits;
    uint64_t l2off = q->l1[l1i] & QCOW2_OFFSET_MASK;
    uint8_t *t;
    if (!l2off || !(q->l1[l1i] & QCOW2_OFLAG_COPIED)) {
        /* A fresh L2 table (convert writes into a new image). */
        uint8_t *zero = g_malloc0(q->cs);
        ok = !l2off && qcow2_alloc(q, 1, &l2off, error) &&
             qcow2_fwrite(q, l2off, zero, q->cs, error);
        g_free(zero);
        uint8_t be[8];
        q_put64(be, l2off | QCOW2_OFLAG_COPIED);
        if (!ok || !qcow2_fwrite(q, q->l1_offset + l1i * 8, be, 8, error))
            return ok ? false : qcow2_err(q, error, "cannot add a compressed cluster here");
        q->l1[l1i] = l2off | QCOW2_OFLAG_COPIED;
    }
    if (!qcow2_load_l2(q, l2off, &t, error))
        return false;
    uint64_t idx = gc & (q->l2_entries - 1);
    if (q_be64(t + idx * 8) != 0)
        return qcow2_err(q, error, "compressed writes go to unallocated clusters only");
    uint8_t be[8];
    q_put64(be, e);
    if (!qcow2_fwrite(q, l2off + idx * 8, be, 8, error))
        return false;
    memcpy(t + idx * 8, be, 8);
    return true;
}

/* ---- Size and backing file ---- */

bool hg_qcow2_resize(Qcow2 *q, uint64_t new_size, GError **error)
{
    if (!writable(q, error))
        return false;
    if (new_size < q->size)
        return qcow2_err(q, error, "shrinking a qcow2 image is not supported; only growing");
    if (new_size > (1ull << 55))
        return qcow2_err(q, error, "%" G_GUINT64_FORMAT " bytes is too large", new_size);
    uint64_t need = qcow2_l1_entries_for(q, new_size);
    if (need > q->l1_size)
        return grow_l1(q, (uint32_t)need, new_size, error);
    return set_size(q, new_size, error);
}

bool hg_qcow2_set_backing(Qcow2 *q, const char *name, const char *format, GError **error)
{
    if (!writable(q, error))
        return false;
    if (name && strlen(name) > 1023)
        return qcow2_err(q, error, "the backing file name is too long");
    char *old_name = q->backing_name, *old_fmt = q->backing_format;
    q->backing_name = name ? g_strdup(name) : NULL;
    q->backing_format = name && format ? g_strdup(format) : NULL;
    if (!qcow2_write_full_header(q, error)) {
        g_free(q->backing_name);
        g_free(q->backing_format);
        q->backing_name = old_name;
        q->backing_format = old_fmt;
        return false;
    }
    g_free(old_name);
    g_free(old_fmt);
    return true;
}

/* ---- Creating images ---- */

bool hg_qcow2_create(const char *path, uint64_t size, const char *backing,
                     const char *backing_format, uint32_t cluster_bits, uint32_t version,
                     uint32_t refcount_order, GError **error)
{
    if (cluster_bits < 9 || cluster_bits > 21 || (version != 2 && version != 3) ||
        refcount_order > 6 || (version == 2 && refcount_order != 4)) {
        g_set_error(error, HG_BLOCK_ERROR, HG_BLOCK_ERROR_OPEN,
                    "%s: bad qcow2 options (cluster size 512 B to 2 MiB, version 2 or 3, "
                    "refcount bits 1 to 64, 16 for version 2)",
                    path);
        return false;
    }
    if (backing && strlen(backing) > 1023) {
        g_set_error(error, HG_BLOCK_ERROR, HG_BLOCK_ERROR_OPEN,
                    "%s: the backing file name is too long", path);
        return false;
    }
    char *detected = NULL;
    if (backing) {
        /* The backing file must open (relative names are relative to the new image). */
        char *bp = g_path_is_absolute(backing) ? g_strdup(backing) : NULL;
        if (!bp) {
            char *dir = g_path_get_dirname(path);
            bp = g_build_filename(dir, backing, NULL);
            g_free(dir);
        }
        GError *e = NULL;
        HgBlock *bb = hg_block_open(bp, backing_format, true, &e);
        g_free(bp);
        if (!bb) {
            g_set_error(error, HG_BLOCK_ERROR, HG_BLOCK_ERROR_OPEN,
                        "%s: cannot use backing file: %s", path, e->message);
            g_error_free(e);
            return false;
        }
        if (size == 0)
            size = hg_block_size(bb);
        detected = g_strdup(hg_block_format(bb));
        hg_block_close(bb);
    }
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        int e = errno;
        g_set_error(error, HG_BLOCK_ERROR, HG_BLOCK_ERROR_OPEN, "cannot create %s: %s", path,
                    g_strerror(e));
        g_free(detected);
        return false;
    }
    HgBlock hb = {.filename = (char *)path};
    Qcow2 q = {.b = &hb,
               .fd = fd,
               .version = version,
               .cluster_bits = cluster_bits,
               .refcount_order = refcount_order};
    q.cs = 1ull << cluster_bits;
    q.l2_bits = cluster_bits - 3;
    q.size = size;
    q.rc_bits = 1u << refcount_order;
    q.rb_entries = q.cs * 8 / q.rc_bits;
    uint64_t l1_entries = qcow2_l1_entries_for(&q, size);
    bool ok = l1_entries * 8 <= QCOW2_MAX_L1_BYTES;
    uint64_t l1c = clusters_for(&q, l1_entries * 8), nb = 1, rtc = 1;
    for (;;) {
        uint64_t total = 1 + rtc + nb + l1c;
        uint64_t nb2 = (total + q.rb_entries - 1) / q.rb_entries;
        uint64_t rtc2 = clusters_for(&q, nb2 * 8);
        if (nb2 == nb && rtc2 == rtc)
            break;
        nb = nb2;
        rtc = rtc2;
    }
    uint64_t total = 1 + rtc + nb + l1c;
    q.rt_offset = q.cs;
    q.rt_clusters = (uint32_t)rtc;
    q.l1_offset = (1 + rtc + nb) * q.cs;
    q.l1_size = (uint32_t)l1_entries;
    q.backing_name = (char *)backing;
    q.backing_format = backing ? (char *)(backing_format ? backing_format : detected) : NULL;
    uint8_t *meta = g_malloc0((rtc + nb) * q.cs);
    for (uint64_t j = 0; j < nb; j++) {
        q_put64(meta + j * 8, (1 + rtc + j) * q.cs);
        uint8_t *blk = meta + (rtc + j) * q.cs;
        for (uint64_t c = j * q.rb_entries; c < total && c < (j + 1) * q.rb_entries; c++) {
            uint64_t i = c - j * q.rb_entries; /* refcount 1, at any width */
            if (refcount_order < 3)
                blk[i * q.rc_bits / 8] |= (uint8_t)(1u << (i * q.rc_bits % 8));
            else
                blk[(i + 1) * (q.rc_bits / 8) - 1] = 1;
        }
    }
    if (!ok) {
        g_set_error(error, HG_BLOCK_ERROR, HG_BLOCK_ERROR_OPEN,
                    "%s: %" G_GUINT64_FORMAT " bytes is too large for this cluster size", path,
                    size);
    } else if (ftruncate(fd, (off_t)(total * q.cs)) != 0) {
        int e = errno;
        ok = false;
        g_set_error(error, HG_BLOCK_ERROR, HG_BLOCK_ERROR_IO, "%s: %s", path, g_strerror(e));
    } else {
        ok = qcow2_fwrite(&q, q.cs, meta, (rtc + nb) * q.cs, error) &&
             qcow2_write_full_header(&q, error);
        if (ok && fsync(fd) != 0) {
            int e = errno;
            ok = false;
            g_set_error(error, HG_BLOCK_ERROR, HG_BLOCK_ERROR_IO, "%s: %s", path, g_strerror(e));
        }
    }
    g_free(meta);
    g_free(detected);
    close(fd);
    if (!ok)
        unlink(path);
    return ok;
}
