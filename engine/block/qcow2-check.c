/* qcow2 consistency check and repair (hangar-img check): every cluster's refcount must
 * equal the number of references to it, counted the way QEMU's qcow2 check counts them
 * (qcow2.txt "Host cluster management"): the header, the refcount table and blocks, the
 * snapshot table, every L1 table (active and snapshots), and for each L1 entry its L2 table
 * and every cluster that table points at, once per L1 that reaches it. A refcount above the
 * count is a leak (space lost, data safe); below it, or a COPIED flag in the active tables
 * that disagrees with a refcount of 1, is a corruption. */
#include "qcow2.h"

#include <unistd.h>

typedef struct Refs {
    uint32_t *n;
    uint64_t len;
    uint64_t end; /* one past the last referenced cluster */
} Refs;

static void ref_add(const Qcow2 *q, Refs *r, uint64_t off, uint64_t len)
{
    if (!len)
        return;
    uint64_t first = off >> q->cluster_bits, last = (off + len - 1) >> q->cluster_bits;
    if (last >= r->len) {
        uint64_t nl = MAX(last + 1, r->len * 2);
        r->n = g_renew(uint32_t, r->n, nl);
        memset(r->n + r->len, 0, (nl - r->len) * 4);
        r->len = nl;
    }
    r->end = MAX(r->end, last + 1);
    for (uint64_t c = first; c <= last; c++)
        if (r->n[c] < UINT32_MAX)
            r->n[c]++;
}

static bool walk_l1(Qcow2 *q, const uint64_t *l1, uint32_t n, bool active, Refs *r,
                    HgQcow2Check *res, GString *log)
{
    uint8_t *t = g_malloc(q->cs);
    for (uint32_t i = 0; i < n; i++) {
        uint64_t l2 = l1[i] & QCOW2_OFFSET_MASK;
        if (!l2)
            continue;
        if ((l2 & (q->cs - 1)) || l2 >= q->file_size) {
            g_string_append_printf(log,
                                   "ERROR L2 table offset %#" G_GINT64_MODIFIER
                                   "x unaligned or past the end of the file\n",
                                   l2);
            res->corruptions++;
            continue;
        }
        ref_add(q, r, l2, q->cs);
        GError *e = NULL;
        if (!qcow2_fread(q, l2, t, q->cs, &e)) {
            g_string_append_printf(log, "ERROR %s\n", e->message);
            g_error_free(e);
            res->corruptions++;
            continue;
        }
        for (uint64_t j = 0; j < q->l2_entries; j++) {
            uint64_t v = q_be64(t + j * 8);
            if (v & QCOW2_OFLAG_COMPRESSED) {
                uint64_t first, cnt;
                if (v & QCOW2_OFLAG_COPIED) {
                    g_string_append_printf(log,
                                           "ERROR compressed cluster with the COPIED "
                                           "flag in L2 table %#" G_GINT64_MODIFIER "x\n",
                                           l2);
                    res->corruptions++;
                }
                if ((v & q->coffset_mask) >= q->file_size) {
                    g_string_append_printf(log,
                                           "ERROR compressed cluster at %#" G_GINT64_MODIFIER
                                           "x past the end of the file\n",
                                           v & q->coffset_mask);
                    res->corruptions++;
                    continue;
                }
                qcow2_compressed_range(q, v, &first, &cnt);
                ref_add(q, r, first << q->cluster_bits, cnt << q->cluster_bits);
                if (active) {
                    res->allocated_clusters++;
                    res->compressed_clusters++;
                }
                continue;
            }
            uint64_t host = v & QCOW2_OFFSET_MASK;
            if (!host)
                continue;
            if ((host & (q->cs - 1)) || host >= q->file_size) {
                g_string_append_printf(log,
                                       "ERROR data cluster offset %#" G_GINT64_MODIFIER
                                       "x is unaligned or past the end of the file\n",
                                       host);
                res->corruptions++;
                continue;
            }
            ref_add(q, r, host, q->cs);
            if (active)
                res->allocated_clusters++;
        }
    }
    g_free(t);
    return true;
}

/* COPIED flags of the active tables against the refcounts (after refcount repairs). */
static bool check_copied(Qcow2 *q, HgQcow2Check *res, GString *log, GError **error)
{
    uint64_t bad = 0;
    for (uint32_t i = 0; i < q->l1_size; i++) {
        uint64_t l2 = q->l1[i] & QCOW2_OFFSET_MASK, rc;
        if (!l2 || (l2 & (q->cs - 1)) || l2 >= q->file_size)
            continue;
        if (!qcow2_get_refcount(q, l2 >> q->cluster_bits, &rc, error))
            return false;
        if ((rc == 1) != !!(q->l1[i] & QCOW2_OFLAG_COPIED)) {
            g_string_append_printf(log,
                                   "ERROR OFLAG_COPIED L2 cluster: l1_index=%u "
                                   "refcount=%" G_GUINT64_FORMAT "\n",
                                   i, rc);
            bad++;
        }
        uint8_t *t;
        GError *e = NULL;
        if (!qcow2_load_l2(q, l2, &t, &e)) {
            g_error_free(e);
            q->broken = false;
            continue;
        }
        for (uint64_t j = 0; j < q->l2_entries; j++) {
            uint64_t v = q_be64(t + j * 8), host = v & QCOW2_OFFSET_MASK;
            if (!host || (v & QCOW2_OFLAG_COMPRESSED))
                continue;
            if (!qcow2_get_refcount(q, host >> q->cluster_bits, &rc, error))
                return false;
            if ((rc == 1) != !!(v & QCOW2_OFLAG_COPIED)) {
                g_string_append_printf(
                    log,
                    "ERROR OFLAG_COPIED data cluster: l2_entry=%" G_GINT64_MODIFIER
                    "x refcount=%" G_GUINT64_FORMAT "\n",
                    v, rc);
                bad++;
            }
            if (!qcow2_load_l2(q, l2, &t, error))
                return false;
        }
    }
    res->corruptions += bad;
    return true;
}

bool hg_qcow2_check(Qcow2 *q, int fix, HgQcow2Check *res, GString *log, GError **error)
{
    memset(res, 0, sizeof(*res));
    if (fix && (q->read_only || q->broken))
        return qcow2_err(q, error, "the image must be opened writable to repair it");
    Refs r = {g_new0(uint32_t, 16), 16, 0};
    ref_add(q, &r, 0, q->cs);
    ref_add(q, &r, q->l1_offset, (uint64_t)q->l1_size * 8);
    ref_add(q, &r, q->rt_offset, (uint64_t)q->rt_clusters * q->cs);
    for (uint64_t i = 0; i < q->rt_entries; i++)
        ref_add(q, &r, q->rt[i], q->rt[i] ? q->cs : 0);
    if (q->nb_snapshots)
        ref_add(q, &r, q->snapshots_offset, q->snapshots_size);
    walk_l1(q, q->l1, q->l1_size, true, &r, res, log);
    for (uint32_t s = 0; s < q->nb_snapshots; s++) {
        const Qcow2Snapshot *sn = &q->snaps[s];
        if (!sn->l1_size)
            continue;
        ref_add(q, &r, sn->l1_offset, (uint64_t)sn->l1_size * 8);
        uint8_t *raw = g_malloc((size_t)sn->l1_size * 8);
        uint64_t *l1 = g_new(uint64_t, sn->l1_size);
        if (!qcow2_fread(q, sn->l1_offset, raw, (size_t)sn->l1_size * 8, error)) {
            g_free(raw);
            g_free(l1);
            g_free(r.n);
            return false;
        }
        for (uint32_t i = 0; i < sn->l1_size; i++)
            l1[i] = q_be64(raw + i * 8);
        walk_l1(q, l1, sn->l1_size, false, &r, res, log);
        g_free(raw);
        g_free(l1);
    }
    uint64_t file_clusters = (q->file_size + q->cs - 1) >> q->cluster_bits;
    /* Like QEMU, refcounts of clusters past the end of the file that nothing references are
     * not looked at (an allocation killed before its first write leaves those). */
    uint64_t n = MAX(r.end, file_clusters);
    bool ok = true;
    for (uint64_t c = 0; ok && c < n; c++) {
        uint64_t want = c < r.len ? r.n[c] : 0, rc;
        if (!(ok = qcow2_get_refcount(q, c, &rc, error)))
            break;
        if (rc == want)
            continue;
        bool leak = rc > want;
        uint64_t ri = c / q->rb_entries;
        bool can =
            (leak ? fix >= 1 : fix >= 2) && ri < q->rt_entries && q->rt[ri] && want <= q->rc_max;
        g_string_append_printf(log,
                               "%s cluster %" G_GUINT64_FORMAT " refcount=%" G_GUINT64_FORMAT
                               " reference=%" G_GUINT64_FORMAT "\n",
                               can ? "Repairing" : (leak ? "Leaked" : "ERROR"), c, rc, want);
        if (can) {
            ok = qcow2_update_refcount(q, c, 1, (int64_t)(want - rc), error);
            if (leak)
                res->leaks_fixed++;
            else
                res->corruptions_fixed++;
        } else if (leak) {
            res->leaks++;
        } else {
            res->corruptions++;
        }
    }
    g_free(r.n);
    if (!ok)
        return false;
    HgQcow2Check copied = {0};
    if (!check_copied(q, &copied, log, error))
        return false;
    if (copied.corruptions && fix >= 2) {
        if (!qcow2_tree_refcount(q, q->l1, q->l1_size, 0, true, error))
            return false;
        res->corruptions_fixed += copied.corruptions;
    } else {
        res->corruptions += copied.corruptions;
    }
    res->total_clusters = (q->size + q->cs - 1) >> q->cluster_bits;
    res->image_end = q->file_size;
    /* Refcounts rebuilt from the references: a dirty (lazy refcounts) or corrupt mark goes. */
    if (fix >= 2 && !res->corruptions &&
        (q->incompat & (QCOW2_INCOMPAT_DIRTY | QCOW2_INCOMPAT_CORRUPT))) {
        uint8_t be[8];
        q_put64(be, q->incompat & ~(QCOW2_INCOMPAT_DIRTY | QCOW2_INCOMPAT_CORRUPT));
        if (fsync(q->fd) != 0 || !qcow2_write_header_field(q, 72, be, 8, error))
            return false;
        q->incompat &= ~(QCOW2_INCOMPAT_DIRTY | QCOW2_INCOMPAT_CORRUPT);
        g_string_append(log, "The image's dirty/corrupt mark was cleared.\n");
    }
    return true;
}
