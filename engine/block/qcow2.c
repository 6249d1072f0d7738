/* qcow2 disk images (QEMU's docs/interop/qcow2.txt, versions 2 and 3): opening with the
 * checks a hostile file needs, guest reads and writes through the L1/L2 tables, backing
 * files, zero and compressed clusters, and the refcount allocator including refcount-table
 * growth. Snapshots, resize and compressed writes are in qcow2-snapshot.c, the checker in
 * qcow2-check.c; the crash-safety order of metadata writes is described in qcow2.h. */
#include "qcow2.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static bool set_error(Qcow2 *q, GError **error, int code, const char *fmt, va_list ap)
{
    char *msg = g_strdup_vprintf(fmt, ap);
    g_set_error(error, HG_BLOCK_ERROR, code, "%s: %s", q->b->filename, msg);
    g_free(msg);
    return false;
}

bool qcow2_err(Qcow2 *q, GError **error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_error(q, error, HG_BLOCK_ERROR_IO, fmt, ap);
    va_end(ap);
    return false;
}

/* Metadata that fails validation while the image is in use: refuse this request and every
 * later write, and say what to do. Nothing is written to the image. */
bool qcow2_corrupt(Qcow2 *q, GError **error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    q->broken = true;
    g_set_error(error, HG_BLOCK_ERROR, HG_BLOCK_ERROR_IO,
                "%s: corrupt qcow2 metadata (%s); run 'hangar-img check' on it", q->b->filename,
                msg);
    g_free(msg);
    return false;
}

bool qcow2_fread(Qcow2 *q, uint64_t off, void *buf, size_t len, GError **error)
{
    uint8_t *p = buf;
    while (len) {
        ssize_t n = pread(q->fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return qcow2_err(q, error, "read failed: %s", g_strerror(errno));
        if (n == 0) { /* past the end of the file: zeros */
            memset(p, 0, len);
            return true;
        }
        p += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return true;
}

bool qcow2_fwrite(Qcow2 *q, uint64_t off, const void *buf, size_t len, GError **error)
{
    const uint8_t *p = buf;
    if (q->read_only || q->broken)
        return qcow2_err(q, error, "the image is not writable");
    uint64_t end = off + len;
    while (len) {
        ssize_t n = pwrite(q->fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return qcow2_err(q, error, "write failed: %s",
                             n < 0 ? g_strerror(errno) : "no progress");
        p += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    if (end > q->file_size)
        q->file_size = end;
    return true;
}

bool qcow2_write_header_field(Qcow2 *q, uint64_t off, const void *data, size_t len, GError **error)
{
    return qcow2_fwrite(q, off, data, len, error);
}

uint64_t qcow2_l1_entries_for(const Qcow2 *q, uint64_t size)
{
    uint64_t per = q->cs << q->l2_bits; /* bytes one L2 table maps */
    return (size + per - 1) / per;
}

/* ---- Table caches (write-through: the cache only saves reads) ---- */

static Qcow2CacheSlot *cache_find(Qcow2 *q, Qcow2CacheSlot *slots, int n, uint64_t offset)
{
    for (int i = 0; i < n; i++)
        if (slots[i].offset == offset) {
            slots[i].used = ++q->tick;
            return &slots[i];
        }
    return NULL;
}

static Qcow2CacheSlot *cache_victim(Qcow2 *q, Qcow2CacheSlot *slots, int n)
{
    Qcow2CacheSlot *v = &slots[0];
    for (int i = 0; i < n; i++) {
        if (!slots[i].data)
            slots[i].data = g_malloc(q->cs);
        if (slots[i].offset == 0) {
            v = &slots[i];
            break;
        }
        if (slots[i].used < v->used)
            v = &slots[i];
    }
    v->offset = 0;
    return v;
}

void qcow2_cache_forget(Qcow2 *q, uint64_t offset)
{
    for (int i = 0; i < QCOW2_L2_CACHE; i++)
        if (q->l2c[i].offset == offset)
            q->l2c[i].offset = 0;
    for (int i = 0; i < QCOW2_RB_CACHE; i++)
        if (q->rbc[i].offset == offset)
            q->rbc[i].offset = 0;
    q->cbuf_entry = 0;
}

/* The host clusters of a compressed cluster: from its byte offset to the end of its last
 * 512-byte sector (the range QEMU's check counts). */
void qcow2_compressed_range(const Qcow2 *q, uint64_t entry, uint64_t *first, uint64_t *n)
{
    uint64_t coff = entry & q->coffset_mask;
    uint64_t sectors = ((entry >> q->csize_shift) & q->csize_mask) + 1;
    uint64_t end = (coff & ~511ull) + sectors * 512;
    *first = coff >> q->cluster_bits;
    *n = ((end - 1) >> q->cluster_bits) - *first + 1;
}

/* Every entry of an L2 table is checked once, when the table is read: a host offset must
 * be cluster-aligned and start inside the file, reserved bits clear, zero clusters v3. */
static bool validate_l2(Qcow2 *q, uint64_t offset, const uint8_t *t, GError **error)
{
    for (uint64_t i = 0; i < q->l2_entries; i++) {
        uint64_t e = q_be64(t + i * 8);
        if (e == 0)
            continue;
        if (e & QCOW2_OFLAG_COMPRESSED) {
            uint64_t coff = e & q->coffset_mask;
            if (coff < q->cs || coff >= q->file_size)
                return qcow2_corrupt(q, error,
                                     "L2 table at %#" G_GINT64_MODIFIER
                                     "x: compressed cluster at %#" G_GINT64_MODIFIER
                                     "x outside the file",
                                     offset, coff);
            continue;
        }
        uint64_t host = e & QCOW2_OFFSET_MASK;
        if (e & 0x3f000000000001feull)
            return qcow2_corrupt(q, error,
                                 "L2 table at %#" G_GINT64_MODIFIER "x: reserved bits set in "
                                 "entry %" G_GUINT64_FORMAT,
                                 offset, i);
        if ((e & QCOW2_OFLAG_ZERO) && q->version < 3)
            return qcow2_corrupt(q, error, "zero cluster in a version 2 image");
        if (host && ((host & (q->cs - 1)) || host >= q->file_size))
            return qcow2_corrupt(q, error,
                                 "L2 table at %#" G_GINT64_MODIFIER
                                 "x points at %#" G_GINT64_MODIFIER
                                 "x (unaligned or past the end of the file)",
                                 offset, host);
    }
    return true;
}

bool qcow2_load_l2(Qcow2 *q, uint64_t offset, uint8_t **table, GError **error)
{
    Qcow2CacheSlot *s = cache_find(q, q->l2c, QCOW2_L2_CACHE, offset);
    if (!s) {
        s = cache_victim(q, q->l2c, QCOW2_L2_CACHE);
        if (!qcow2_fread(q, offset, s->data, q->cs, error) ||
            !validate_l2(q, offset, s->data, error))
            return false;
        s->offset = offset;
        s->used = ++q->tick;
    }
    *table = s->data;
    return true;
}

static bool load_rb(Qcow2 *q, uint64_t offset, uint8_t **block, GError **error)
{
    Qcow2CacheSlot *s = cache_find(q, q->rbc, QCOW2_RB_CACHE, offset);
    if (!s) {
        s = cache_victim(q, q->rbc, QCOW2_RB_CACHE);
        if (!qcow2_fread(q, offset, s->data, q->cs, error))
            return false;
        s->offset = offset;
        s->used = ++q->tick;
    }
    *block = s->data;
    return true;
}

/* ---- Refcounts ---- */

/* Refcount i of a block: widths below a byte are packed from the low bits up, wider ones
 * are big-endian (qcow2.txt, "Refcount blocks"). */
static uint64_t rc_get(const Qcow2 *q, const uint8_t *blk, uint64_t i)
{
    switch (q->refcount_order) {
    case 0: return (blk[i / 8] >> (i % 8)) & 1;
    case 1: return (blk[i / 4] >> (2 * (i % 4))) & 3;
    case 2: return (blk[i / 2] >> (4 * (i % 2))) & 15;
    case 3: return blk[i];
    case 4: return q_be16(blk + 2 * i);
    case 5: return q_be32(blk + 4 * i);
    default: return q_be64(blk + 8 * i);
    }
}

static void rc_set(const Qcow2 *q, uint8_t *blk, uint64_t i, uint64_t v)
{
    switch (q->refcount_order) {
    case 0: blk[i / 8] = (uint8_t)((blk[i / 8] & ~(1u << (i % 8))) | (v << (i % 8))); break;
    case 1:
        blk[i / 4] = (uint8_t)((blk[i / 4] & ~(3u << (2 * (i % 4)))) | (v << (2 * (i % 4))));
        break;
    case 2:
        blk[i / 2] = (uint8_t)((blk[i / 2] & ~(15u << (4 * (i % 2)))) | (v << (4 * (i % 2))));
        break;
    case 3: blk[i] = (uint8_t)v; break;
    case 4: q_put16(blk + 2 * i, (uint16_t)v); break;
    case 5: q_put32(blk + 4 * i, (uint32_t)v); break;
    default: q_put64(blk + 8 * i, v); break;
    }
}

/* Byte range of a block holding refcounts [i, i+n). */
static void rc_bytes(const Qcow2 *q, uint64_t i, uint64_t n, uint64_t *start, uint64_t *len)
{
    uint64_t first_bit = i * q->rc_bits, end_bit = (i + n) * q->rc_bits;
    *start = first_bit / 8;
    *len = (end_bit + 7) / 8 - *start;
}

bool qcow2_get_refcount(Qcow2 *q, uint64_t cluster, uint64_t *rc, GError **error)
{
    uint64_t ri = cluster / q->rb_entries;
    if (ri >= q->rt_entries || q->rt[ri] == 0) {
        *rc = 0;
        return true;
    }
    uint8_t *blk;
    if (!load_rb(q, q->rt[ri], &blk, error))
        return false;
    *rc = rc_get(q, blk, cluster % q->rb_entries);
    return true;
}

bool qcow2_update_refcount(Qcow2 *q, uint64_t first, uint64_t n, int64_t delta, GError **error)
{
    while (n) {
        uint64_t ri = first / q->rb_entries, idx = first % q->rb_entries;
        uint64_t cnt = MIN(n, q->rb_entries - idx);
        if (ri >= q->rt_entries || q->rt[ri] == 0)
            return qcow2_corrupt(
                q, error, "cluster %" G_GUINT64_FORMAT " is in use but has no refcount", first);
        uint8_t *blk;
        if (!load_rb(q, q->rt[ri], &blk, error))
            return false;
        for (uint64_t k = 0; k < cnt; k++) {
            uint64_t v = rc_get(q, blk, idx + k);
            if ((delta < 0 && v < (uint64_t)-delta) ||
                (delta > 0 && q->rc_max - v < (uint64_t)delta))
                return qcow2_corrupt(
                    q, error, "refcount of cluster %" G_GUINT64_FORMAT " would go out of range",
                    first + k);
        }
        for (uint64_t k = 0; k < cnt; k++) {
            uint64_t v = rc_get(q, blk, idx + k) + (uint64_t)delta;
            rc_set(q, blk, idx + k, v);
            if (v == 0) {
                qcow2_cache_forget(q, (first + k) << q->cluster_bits);
                /* The partly filled cluster of compressed writes is gone: start a new one. */
                if (q->cfree && q->cfree >> q->cluster_bits == first + k)
                    q->cfree = 0;
                if (first + k < q->free_hint)
                    q->free_hint = first + k;
            }
        }
        uint64_t bs, bl;
        rc_bytes(q, idx, cnt, &bs, &bl);
        if (!qcow2_fwrite(q, q->rt[ri] + bs, blk + bs, bl, error))
            return false;
        first += cnt;
        n -= cnt;
    }
    return true;
}

/* A refcount block for the clusters of table entry ri, none of which is in use (they have
 * no refcount block): it goes into the first cluster of its own range and counts itself. */
static bool create_refblock(Qcow2 *q, uint64_t ri, GError **error)
{
    if (ri == 0)
        return qcow2_corrupt(q, error, "no refcount block for the header");
    uint64_t off = (ri * q->rb_entries) << q->cluster_bits;
    uint8_t *buf = g_malloc0(q->cs);
    rc_set(q, buf, 0, 1);
    bool ok = qcow2_fwrite(q, off, buf, q->cs, error);
    g_free(buf);
    uint8_t e[8];
    q_put64(e, off);
    if (!ok || !qcow2_fwrite(q, q->rt_offset + ri * 8, e, 8, error))
        return false;
    q->rt[ri] = off;
    g_hash_table_add(q->refblocks, GSIZE_TO_POINTER(off >> q->cluster_bits));
    return true;
}

/* The refcount table is full: a new, larger table and the refcount blocks that count it go
 * right after the clusters the old table covers, the header switches to it in one write,
 * then the old table's clusters are freed. */
static bool grow_reftable(Qcow2 *q, GError **error)
{
    uint64_t start = q->rt_entries * q->rb_entries; /* first uncovered cluster */
    uint64_t per_cluster = q->cs / 8;
    uint64_t k = (uint64_t)q->rt_clusters * 2, m = 1;
    for (;;) {
        while (k + m > m * q->rb_entries)
            m++;
        if (k * per_cluster >= q->rt_entries + m)
            break;
        k++;
    }
    if (k * q->cs > QCOW2_MAX_REFTABLE_BYTES)
        return qcow2_err(q, error, "the refcount table cannot grow past %d MiB",
                         QCOW2_MAX_REFTABLE_BYTES >> 20);
    uint64_t new_entries = k * per_cluster;
    uint64_t *rt = g_new0(uint64_t, new_entries);
    memcpy(rt, q->rt, q->rt_entries * 8);
    uint8_t *buf = g_malloc0(q->cs);
    bool ok = true;
    for (uint64_t j = 0; j < m && ok; j++) {
        memset(buf, 0, q->cs);
        uint64_t first = start + j * q->rb_entries;
        for (uint64_t c = first; c < start + k + m && c < first + q->rb_entries; c++)
            rc_set(q, buf, c - first, 1);
        rt[q->rt_entries + j] = (start + k + j) << q->cluster_bits;
        g_hash_table_add(q->refblocks, GSIZE_TO_POINTER(start + k + j));
        ok = qcow2_fwrite(q, rt[q->rt_entries + j], buf, q->cs, error);
    }
    g_free(buf);
    uint8_t *tab = g_malloc(k * q->cs);
    for (uint64_t i = 0; i < new_entries; i++)
        q_put64(tab + i * 8, rt[i]);
    uint64_t new_off = start << q->cluster_bits;
    ok = ok && qcow2_fwrite(q, new_off, tab, k * q->cs, error);
    g_free(tab);
    uint8_t hdr[12];
    q_put64(hdr, new_off);
    q_put32(hdr + 8, (uint32_t)k);
    if (!ok || !qcow2_write_header_field(q, 48, hdr, 12, error)) {
        g_free(rt);
        return false;
    }
    uint64_t old_off = q->rt_offset, old_clusters = q->rt_clusters;
    g_free(q->rt);
    q->rt = rt;
    q->rt_entries = new_entries;
    q->rt_offset = new_off;
    q->rt_clusters = (uint32_t)k;
    return qcow2_update_refcount(q, old_off >> q->cluster_bits, old_clusters, -1, error);
}

static bool in_range(uint64_t c, uint64_t off, uint64_t len, unsigned cluster_bits)
{
    return len && c >= off >> cluster_bits && c <= (off + len - 1) >> cluster_bits;
}

/* Refcounts that call a metadata cluster free come from a damaged or hostile image: the
 * allocator would overwrite the table. QEMU checks writes against metadata the same way. */
static bool overlaps_metadata(Qcow2 *q, uint64_t c)
{
    if (c == 0 || in_range(c, q->l1_offset, (uint64_t)q->l1_size * 8, q->cluster_bits) ||
        in_range(c, q->rt_offset, (uint64_t)q->rt_clusters * q->cs, q->cluster_bits) ||
        in_range(c, q->snapshots_offset, q->snapshots_size, q->cluster_bits) ||
        g_hash_table_contains(q->refblocks, GSIZE_TO_POINTER(c)))
        return true;
    for (int i = 0; i < QCOW2_L2_CACHE; i++)
        if (q->l2c[i].offset && q->l2c[i].offset >> q->cluster_bits == c)
            return true;
    for (uint32_t i = 0; i < q->nb_snapshots; i++)
        if (in_range(c, q->snaps[i].l1_offset, (uint64_t)q->snaps[i].l1_size * 8, q->cluster_bits))
            return true;
    return false;
}

bool qcow2_alloc(Qcow2 *q, uint64_t n, uint64_t *offset, GError **error)
{
    /* Each refcount block sits at the start of the clusters it counts (create_refblock), so
     * no free run is longer than a block's range minus one. */
    if (n == 0 || n >= q->rb_entries)
        return qcow2_err(q, error,
                         "cannot allocate %" G_GUINT64_FORMAT " contiguous clusters "
                         "with %u-bit refcounts and %" G_GUINT64_FORMAT "-byte clusters; use "
                         "larger clusters or narrower refcounts",
                         n, q->rc_bits, q->cs);
    uint64_t c = q->free_hint, start = c, first_free = UINT64_MAX;
    for (;;) {
        uint64_t ri = c / q->rb_entries;
        if (ri >= q->rt_entries) {
            if (!grow_reftable(q, error))
                return false;
            continue;
        }
        if (q->rt[ri] == 0) {
            if (!create_refblock(q, ri, error))
                return false;
            continue; /* cluster ri * rb_entries is now the block */
        }
        uint64_t rc;
        if (!qcow2_get_refcount(q, c, &rc, error))
            return false;
        if (c >> (63 - q->cluster_bits))
            return qcow2_err(q, error, "no free cluster");
        if (rc == 0 && first_free == UINT64_MAX)
            first_free = c;
        c++;
        if (rc != 0) {
            start = c;
            continue;
        }
        if (c - start == n)
            break;
    }
    for (uint64_t c = start; c < start + n; c++)
        if (overlaps_metadata(q, c))
            return qcow2_corrupt(q, error,
                                 "cluster %" G_GUINT64_FORMAT " holds metadata but "
                                 "its refcount is 0",
                                 c);
    /* Everything below the first free cluster seen is in use. */
    q->free_hint = first_free == start ? start + n : first_free;
    if (!qcow2_update_refcount(q, start, n, 1, error))
        return false;
    *offset = start << q->cluster_bits;
    return true;
}

bool qcow2_free_entry(Qcow2 *q, uint64_t e, GError **error)
{
    if (e & QCOW2_OFLAG_COMPRESSED) {
        uint64_t first, n;
        qcow2_compressed_range(q, e, &first, &n);
        return qcow2_update_refcount(q, first, n, -1, error);
    }
    uint64_t host = e & QCOW2_OFFSET_MASK;
    if (!host)
        return true;
    return qcow2_update_refcount(q, host >> q->cluster_bits, 1, -1, error);
}

/* ---- Mapping ---- */

/* The L2 entry of guest cluster gc (0 when there is no L2 table). */
static bool get_entry(Qcow2 *q, uint64_t gc, uint64_t *entry, GError **error)
{
    uint64_t l1i = gc >> q->l2_bits;
    *entry = 0;
    if (l1i >= q->l1_size)
        return true;
    uint64_t l2 = q->l1[l1i] & QCOW2_OFFSET_MASK;
    if (!l2)
        return true;
    uint8_t *t;
    if (!qcow2_load_l2(q, l2, &t, error))
        return false;
    *entry = q_be64(t + (gc & (q->l2_entries - 1)) * 8);
    return true;
}

bool hg_qcow2_cluster_allocated(Qcow2 *q, uint64_t guest_offset, bool *allocated, GError **error)
{
    uint64_t e;
    if (!get_entry(q, guest_offset >> q->cluster_bits, &e, error))
        return false;
    *allocated = e != 0;
    return true;
}

static bool decompress(Qcow2 *q, uint64_t e, GError **error)
{
    if (q->cbuf_entry == e)
        return true;
    uint64_t coff = e & q->coffset_mask;
    uint64_t sectors = ((e >> q->csize_shift) & q->csize_mask) + 1;
    uint64_t clen = sectors * 512 - (coff & 511);
    uint8_t *in = g_malloc(clen);
    if (!q->cbuf)
        q->cbuf = g_malloc(q->cs);
    q->cbuf_entry = 0;
    bool ok = qcow2_fread(q, coff, in, clen, error);
    if (ok) {
        z_stream z = {0};
        ok = inflateInit2(&z, -12) == Z_OK;
        if (ok) {
            z.next_in = in;
            z.avail_in = (uInt)clen;
            z.next_out = q->cbuf;
            z.avail_out = (uInt)q->cs;
            int r = inflate(&z, Z_FINISH);
            /* The stored length is rounded up to sectors: Z_BUF_ERROR with a full output
             * buffer is a complete cluster too. */
            ok = (r == Z_STREAM_END || r == Z_BUF_ERROR || r == Z_OK) && z.avail_out == 0;
            inflateEnd(&z);
        }
        if (!ok)
            qcow2_err(q, error,
                      "compressed cluster at %#" G_GINT64_MODIFIER "x does not "
                      "decompress; run 'hangar-img check'",
                      coff);
    }
    g_free(in);
    if (ok)
        q->cbuf_entry = e;
    return ok;
}

/* Reads len bytes of one guest cluster (from offset off) as the image defines them. */
bool qcow2_read_cluster_part(Qcow2 *q, uint64_t e, uint64_t off, uint8_t *buf, size_t len,
                             GError **error)
{
    uint64_t in = off & (q->cs - 1);
    if (e & QCOW2_OFLAG_COMPRESSED) {
        if (!decompress(q, e, error))
            return false;
        memcpy(buf, q->cbuf + in, len);
        return true;
    }
    if (e & QCOW2_OFLAG_ZERO) {
        memset(buf, 0, len);
        return true;
    }
    uint64_t host = e & QCOW2_OFFSET_MASK;
    if (host)
        return qcow2_fread(q, host + in, buf, len, error);
    if (!q->backing) {
        memset(buf, 0, len);
        return true;
    }
    /* The backing file may be smaller than this image: zeros past its end. */
    uint64_t bsize = hg_block_sectors(q->backing) * HG_BLOCK_SECTOR;
    size_t have = off >= bsize ? 0 : (size_t)MIN((uint64_t)len, bsize - off);
    memset(buf + have, 0, len - have);
    return have == 0 || hg_block_pread(q->backing, off, buf, have, error);
}

static bool qcow2_pread(HgBlock *b, uint64_t offset, void *buf, size_t len, GError **error)
{
    Qcow2 *q = b->priv;
    uint8_t *p = buf;
    while (len) {
        uint64_t gc = offset >> q->cluster_bits;
        size_t chunk = (size_t)MIN((uint64_t)len, q->cs - (offset & (q->cs - 1)));
        uint64_t e;
        if (!get_entry(q, gc, &e, error))
            return false;
        /* Contiguous normal clusters are read with one system call. */
        uint64_t host = e & QCOW2_OFFSET_MASK;
        if (host && !(e & (QCOW2_OFLAG_COMPRESSED | QCOW2_OFLAG_ZERO))) {
            while (chunk < len) {
                uint64_t e2;
                if (!get_entry(q, gc + 1, &e2, error))
                    return false;
                if ((e2 & (QCOW2_OFLAG_COMPRESSED | QCOW2_OFLAG_ZERO)) ||
                    (e2 & QCOW2_OFFSET_MASK) !=
                        host + ((gc + 1 - (offset >> q->cluster_bits)) << q->cluster_bits))
                    break;
                gc++;
                chunk = (size_t)MIN((uint64_t)len, chunk + q->cs);
            }
        }
        if (!qcow2_read_cluster_part(q, e, offset, p, chunk, error))
            return false;
        p += chunk;
        offset += chunk;
        len -= chunk;
    }
    return true;
}

/* Makes the L2 table of l1 index l1i private to the active image (allocating it, or copying
 * it when a snapshot shares it) and returns it. */
static bool writable_l2(Qcow2 *q, uint64_t l1i, uint64_t *l2off, uint8_t **table, GError **error)
{
    uint64_t e = q->l1[l1i], old = e & QCOW2_OFFSET_MASK;
    if (old && (e & QCOW2_OFLAG_COPIED)) {
        *l2off = old;
        return qcow2_load_l2(q, old, table, error);
    }
    uint8_t *copy = g_malloc0(q->cs);
    if (old) {
        uint8_t *t;
        if (!qcow2_load_l2(q, old, &t, error)) {
            g_free(copy);
            return false;
        }
        memcpy(copy, t, q->cs);
        /* Shared tables carry no COPIED flags: their clusters are shared too. */
    }
    uint64_t nw;
    bool ok = qcow2_alloc(q, 1, &nw, error) && qcow2_fwrite(q, nw, copy, q->cs, error);
    g_free(copy);
    if (!ok)
        return false;
    uint8_t be[8];
    q_put64(be, nw | QCOW2_OFLAG_COPIED);
    if (!qcow2_fwrite(q, q->l1_offset + l1i * 8, be, 8, error))
        return false;
    q->l1[l1i] = nw | QCOW2_OFLAG_COPIED;
    if (old && !qcow2_update_refcount(q, old >> q->cluster_bits, 1, -1, error))
        return false;
    *l2off = nw;
    return qcow2_load_l2(q, nw, table, error);
}

static bool set_entry(Qcow2 *q, uint64_t l2off, uint8_t *t, uint64_t idx, uint64_t v,
                      GError **error)
{
    uint8_t be[8];
    q_put64(be, v);
    if (!qcow2_fwrite(q, l2off + idx * 8, be, 8, error))
        return false;
    memcpy(t + idx * 8, be, 8);
    return true;
}

/* Writes [offset, offset+len) inside one guest cluster; data NULL writes zeros. */
static bool write_cluster(Qcow2 *q, uint64_t offset, const uint8_t *data, size_t len,
                          GError **error)
{
    uint64_t gc = offset >> q->cluster_bits, in = offset & (q->cs - 1);
    uint64_t l2off;
    uint8_t *t;
    if (!writable_l2(q, gc >> q->l2_bits, &l2off, &t, error))
        return false;
    uint64_t idx = gc & (q->l2_entries - 1);
    uint64_t e = q_be64(t + idx * 8);
    uint64_t host = e & QCOW2_OFFSET_MASK;
    if (host && (e & QCOW2_OFLAG_COPIED) && !(e & (QCOW2_OFLAG_ZERO | QCOW2_OFLAG_COMPRESSED))) {
        if (data)
            return qcow2_fwrite(q, host + in, data, len, error);
        uint8_t *z = g_malloc0(len);
        bool ok = qcow2_fwrite(q, host + in, z, len, error);
        g_free(z);
        return ok;
    }
    /* Copy on write: a new cluster with the old contents around the new bytes. The cluster
     * beyond the virtual end (partial last cluster) is filled with zeros. */
    uint8_t *buf = g_malloc(q->cs);
    bool ok = true;
    if (in != 0 || len != q->cs) {
        uint64_t base = gc << q->cluster_bits;
        uint64_t vis = MIN(q->cs, hg_block_sectors(q->b) * HG_BLOCK_SECTOR - base);
        memset(buf + vis, 0, q->cs - vis);
        ok = qcow2_read_cluster_part(q, e, base, buf, (size_t)vis, error);
    }
    if (data)
        memcpy(buf + in, data, len);
    else
        memset(buf + in, 0, len);
    uint64_t nw = 0;
    ok = ok && qcow2_alloc(q, 1, &nw, error) && qcow2_fwrite(q, nw, buf, q->cs, error);
    g_free(buf);
    /* The L2 table may have left the cache while allocating. */
    ok = ok && qcow2_load_l2(q, l2off, &t, error) &&
         set_entry(q, l2off, t, idx, nw | QCOW2_OFLAG_COPIED, error);
    return ok && qcow2_free_entry(q, e, error);
}

/* Whole new clusters in one L2 table (sequential guest writes, convert): allocated
 * together, written with one pwrite, their L2 entries set with one pwrite, in that order.
 * Returns the bytes written, 0 when the fast path does not apply. */
static size_t write_new_clusters(Qcow2 *q, uint64_t offset, const uint8_t *data, size_t len,
                                 GError **error, bool *ok)
{
    *ok = true;
    uint64_t gc = offset >> q->cluster_bits;
    uint64_t idx = gc & (q->l2_entries - 1);
    uint64_t k = MIN(MIN(len >> q->cluster_bits, q->l2_entries - idx), q->rb_entries / 2);
    if ((offset & (q->cs - 1)) || k < 2)
        return 0;
    uint64_t l2off;
    uint8_t *t;
    if (!(*ok = writable_l2(q, gc >> q->l2_bits, &l2off, &t, error)))
        return 0;
    uint64_t n = 0;
    while (n < k) {
        uint64_t e = q_be64(t + (idx + n) * 8);
        if (e != 0 && e != QCOW2_OFLAG_ZERO) /* only unallocated or plain zero clusters */
            break;
        n++;
    }
    if (n < 2)
        return 0;
    uint64_t host;
    if (!(*ok = qcow2_alloc(q, n, &host, error) &&
                qcow2_fwrite(q, host, data, n << q->cluster_bits, error) &&
                qcow2_load_l2(q, l2off, &t, error)))
        return 0;
    uint8_t *ents = g_malloc(n * 8);
    for (uint64_t i = 0; i < n; i++)
        q_put64(ents + i * 8, (host + (i << q->cluster_bits)) | QCOW2_OFLAG_COPIED);
    *ok = qcow2_fwrite(q, l2off + idx * 8, ents, n * 8, error);
    if (*ok)
        memcpy(t + idx * 8, ents, n * 8);
    g_free(ents);
    return *ok ? (size_t)(n << q->cluster_bits) : 0;
}

static bool qcow2_pwrite(HgBlock *b, uint64_t offset, const void *buf, size_t len, GError **error)
{
    Qcow2 *q = b->priv;
    if (q->broken)
        return qcow2_corrupt(q, error, "earlier error");
    const uint8_t *p = buf;
    while (len) {
        bool ok;
        size_t done = write_new_clusters(q, offset, p, len, error, &ok);
        if (!ok)
            return false;
        if (done) {
            p += done;
            offset += done;
            len -= done;
            continue;
        }
        size_t chunk = (size_t)MIN((uint64_t)len, q->cs - (offset & (q->cs - 1)));
        if (!write_cluster(q, offset, p, chunk, error))
            return false;
        p += chunk;
        offset += chunk;
        len -= chunk;
    }
    return true;
}

bool qcow2_write_guest(Qcow2 *q, uint64_t offset, const void *buf, size_t len, GError **error)
{
    return qcow2_pwrite(q->b, offset, buf, len, error);
}

/* Whole clusters become unallocated (no backing file) or zero clusters (v3 with one);
 * partial clusters, and v2 images with a backing file, get zeros written. */
static bool qcow2_discard(HgBlock *b, uint64_t offset, uint64_t len, GError **error)
{
    Qcow2 *q = b->priv;
    if (q->broken)
        return qcow2_corrupt(q, error, "earlier error");
    uint64_t vend = hg_block_sectors(b) * HG_BLOCK_SECTOR;
    while (len) {
        uint64_t in = offset & (q->cs - 1);
        uint64_t chunk = MIN(len, q->cs - in);
        uint64_t base = offset - in;
        bool whole = in == 0 && (chunk == q->cs || offset + chunk >= vend);
        if (!whole || (q->backing && q->version < 3)) {
            if (!write_cluster(q, offset, NULL, (size_t)chunk, error))
                return false;
        } else {
            uint64_t gc = base >> q->cluster_bits, e;
            if (!get_entry(q, gc, &e, error))
                return false;
            uint64_t want = q->backing ? QCOW2_OFLAG_ZERO : 0;
            if (e != want) {
                uint64_t l2off;
                uint8_t *t;
                if (!writable_l2(q, gc >> q->l2_bits, &l2off, &t, error) ||
                    !set_entry(q, l2off, t, gc & (q->l2_entries - 1), want, error))
                    return false;
                /* Drop the reference after the pointer is gone. */
                if (!qcow2_free_entry(q, e, error))
                    return false;
            }
        }
        offset += chunk;
        len -= chunk;
    }
    return true;
}

/* Unallocated clusters ask the backing file; zero clusters read as zeros. */
static bool qcow2_data_status(HgBlock *b, uint64_t offset, uint64_t len, bool *data, uint64_t *pnum,
                              GError **error)
{
    Qcow2 *q = b->priv;
    uint64_t done = 0;
    bool first = true, state = true;
    /* A bounded look: callers ask again from where the answer stops. */
    for (int steps = 0; done < len && steps < 65536; steps++) {
        uint64_t off = offset + done;
        uint64_t chunk = MIN(len - done, q->cs - (off & (q->cs - 1)));
        uint64_t l1i = off >> (q->cluster_bits + q->l2_bits), e;
        if (l1i >= q->l1_size || !(q->l1[l1i] & QCOW2_OFFSET_MASK)) {
            /* No L2 table: the whole table's range is the backing file's (or zeros). */
            uint64_t span = (q->cs << q->l2_bits) - (off & ((q->cs << q->l2_bits) - 1));
            chunk = MIN(len - done, span);
            e = 0;
        } else if (!get_entry(q, off >> q->cluster_bits, &e, error)) {
            return false;
        }
        bool d;
        if (e & QCOW2_OFLAG_ZERO && !(e & QCOW2_OFLAG_COMPRESSED)) {
            d = false;
        } else if (e) {
            d = true;
        } else if (!q->backing) {
            d = false;
        } else {
            if (!hg_block_data_status(q->backing, off, chunk, &d, &chunk, error))
                return false;
        }
        if (!first && d != state)
            break;
        state = d;
        first = false;
        done += chunk;
    }
    *data = state;
    *pnum = done;
    return true;
}

static bool qcow2_flush(HgBlock *b, GError **error)
{
    Qcow2 *q = b->priv;
    if (fdatasync(q->fd) < 0 && errno != EINVAL)
        return qcow2_err(q, error, "flush failed: %s", g_strerror(errno));
    return true;
}

void qcow2_free_snapshots(Qcow2 *q)
{
    for (uint32_t i = 0; q->snaps && i < q->nb_snapshots; i++) {
        g_free(q->snaps[i].id);
        g_free(q->snaps[i].name);
    }
    g_free(q->snaps);
    q->snaps = NULL;
    q->nb_snapshots = 0;
}

static void qcow2_close(HgBlock *b)
{
    Qcow2 *q = b->priv;
    if (!q)
        return;
    if (q->fd >= 0)
        close(q->fd);
    hg_block_close(q->backing);
    g_free(q->l1);
    g_free(q->rt);
    if (q->refblocks)
        g_hash_table_destroy(q->refblocks);
    qcow2_free_snapshots(q);
    g_free(q->backing_name);
    g_free(q->backing_format);
    if (q->other_ext)
        g_byte_array_unref(q->other_ext);
    for (int i = 0; i < QCOW2_L2_CACHE; i++)
        g_free(q->l2c[i].data);
    for (int i = 0; i < QCOW2_RB_CACHE; i++)
        g_free(q->rbc[i].data);
    g_free(q->cbuf);
    g_free(q);
}

static const HgBlockDriver qcow2_driver = {
    .name = "qcow2",
    .pread = qcow2_pread,
    .pwrite = qcow2_pwrite,
    .flush = qcow2_flush,
    .discard = qcow2_discard,
    .data_status = qcow2_data_status,
    .close = qcow2_close,
};

Qcow2 *hg_qcow2_from_block(HgBlock *b)
{
    return b && b->drv == &qcow2_driver ? b->priv : NULL;
}

/* ---- Header ---- */

bool qcow2_write_full_header(Qcow2 *q, GError **error)
{
    GByteArray *h = g_byte_array_sized_new(4096);
    uint8_t f[112] = {0};
    uint32_t hlen = q->version >= 3 ? 104 : 72;
    q_put32(f, QCOW2_MAGIC);
    q_put32(f + 4, q->version);
    q_put32(f + 20, q->cluster_bits);
    q_put64(f + 24, q->size);
    q_put32(f + 36, q->l1_size);
    q_put64(f + 40, q->l1_offset);
    q_put64(f + 48, q->rt_offset);
    q_put32(f + 56, q->rt_clusters);
    q_put32(f + 60, q->nb_snapshots);
    q_put64(f + 64, q->snapshots_offset);
    if (q->version >= 3) {
        q_put64(f + 72, q->incompat);
        q_put64(f + 80, q->compat);
        q_put64(f + 88, q->autoclear);
        q_put32(f + 96, q->refcount_order);
        q_put32(f + 100, hlen);
    }
    g_byte_array_append(h, f, hlen);
    if (q->backing_format && q->backing_name) {
        uint8_t eh[8];
        size_t n = strlen(q->backing_format);
        q_put32(eh, QCOW2_EXT_BACKING_FORMAT);
        q_put32(eh + 4, (uint32_t)n);
        g_byte_array_append(h, eh, 8);
        g_byte_array_append(h, (const uint8_t *)q->backing_format, (guint)n);
        static const uint8_t pad[8];
        g_byte_array_append(h, pad, (guint)((8 - n % 8) % 8));
    }
    if (q->other_ext)
        g_byte_array_append(h, q->other_ext->data, q->other_ext->len);
    uint8_t end[8] = {0};
    g_byte_array_append(h, end, 8);
    if (q->backing_name) {
        size_t n = strlen(q->backing_name);
        q_put64(h->data + 8, h->len);
        q_put32(h->data + 16, (uint32_t)n);
        g_byte_array_append(h, (const uint8_t *)q->backing_name, (guint)n);
    }
    bool ok;
    if (h->len > q->cs)
        ok = qcow2_err(q, error, "the header and backing file name do not fit in a cluster");
    else
        ok = qcow2_fwrite(q, 0, h->data, h->len, error); /* one write: all or nothing */
    g_byte_array_unref(h);
    return ok;
}

static char *resolve_backing(const char *image, const char *name)
{
    if (g_path_is_absolute(name))
        return g_strdup(name);
    char *dir = g_path_get_dirname(image);
    char *p = g_build_filename(dir, name, NULL);
    g_free(dir);
    return p;
}

static bool open_fail(Qcow2 *q, GError **error, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static bool open_fail(Qcow2 *q, GError **error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_error(q, error, HG_BLOCK_ERROR_OPEN, fmt, ap);
    va_end(ap);
    return false;
}

/* A table at offset of len bytes must be cluster-aligned and lie inside the file. */
static bool table_ok(const Qcow2 *q, uint64_t offset, uint64_t len)
{
    return offset >= q->cs && !(offset & (q->cs - 1)) && offset <= q->file_size &&
           len <= q->file_size - offset;
}

static bool parse_header(Qcow2 *q, uint8_t *hdr, size_t hdr_len, GError **error)
{
    if (q_be32(hdr) != QCOW2_MAGIC)
        return open_fail(q, error, "not a qcow2 image");
    q->version = q_be32(hdr + 4);
    if (q->version != 2 && q->version != 3)
        return open_fail(q, error, "qcow2 version %u is not supported (2 and 3 are)", q->version);
    q->cluster_bits = q_be32(hdr + 20);
    if (q->cluster_bits < 9 || q->cluster_bits > 21)
        return open_fail(q, error, "bad cluster size (2^%u bytes; 512 B to 2 MiB)",
                         q->cluster_bits);
    q->cs = 1ull << q->cluster_bits;
    q->l2_bits = q->cluster_bits - 3;
    q->l2_entries = q->cs / 8;
    q->csize_shift = 62 - (q->cluster_bits - 8);
    q->csize_mask = (1ull << (q->cluster_bits - 8)) - 1;
    q->coffset_mask = (1ull << q->csize_shift) - 1;
    q->size = q_be64(hdr + 24);
    if (q_be32(hdr + 32) != 0)
        return open_fail(q, error, "encrypted qcow2 images are not supported");
    q->l1_size = q_be32(hdr + 36);
    q->l1_offset = q_be64(hdr + 40);
    q->rt_offset = q_be64(hdr + 48);
    q->rt_clusters = q_be32(hdr + 56);
    q->nb_snapshots = q_be32(hdr + 60);
    q->snapshots_offset = q_be64(hdr + 64);
    q->header_length = 72;
    q->refcount_order = 4;
    if (q->version >= 3) {
        q->incompat = q_be64(hdr + 72);
        q->compat = q_be64(hdr + 80);
        q->autoclear = q_be64(hdr + 88);
        q->refcount_order = q_be32(hdr + 96);
        q->header_length = q_be32(hdr + 100);
        if (q->header_length < 104 || q->header_length % 8 || q->header_length > hdr_len)
            return open_fail(q, error, "bad header length %u", q->header_length);
        if (q->refcount_order > 6)
            return open_fail(q, error, "bad refcount width (order %u)", q->refcount_order);
        uint64_t unknown = q->incompat & ~QCOW2_INCOMPAT_KNOWN;
        if (unknown)
            return open_fail(
                q, error,
                "uses features this version cannot read (incompatible bits %#" G_GINT64_MODIFIER
                "x: external data file, zstd compression or "
                "extended L2 entries)",
                unknown);
        if (q->header_length > 104 && hdr[104] != 0)
            return open_fail(q, error, "compression type %u is not supported (deflate is)",
                             hdr[104]);
    }
    q->rc_bits = 1u << q->refcount_order;
    q->rb_entries = q->cs * 8 / q->rc_bits;
    q->rc_max = q->rc_bits == 64 ? UINT64_MAX : (1ull << q->rc_bits) - 1;
    if (q->size > (1ull << 55))
        return open_fail(q, error, "virtual size %" G_GUINT64_FORMAT " is too large", q->size);
    if ((uint64_t)q->l1_size * 8 > QCOW2_MAX_L1_BYTES)
        return open_fail(q, error, "L1 table of %u entries is too large", q->l1_size);
    if (q->l1_size < qcow2_l1_entries_for(q, q->size))
        return open_fail(q, error, "L1 table of %u entries is too small for the virtual size",
                         q->l1_size);
    if (q->l1_size && !table_ok(q, q->l1_offset, (uint64_t)q->l1_size * 8))
        return open_fail(q, error,
                         "L1 table at %#" G_GINT64_MODIFIER "x (%u entries) lies "
                         "outside the file or is unaligned",
                         q->l1_offset, q->l1_size);
    if (q->rt_clusters == 0 || (uint64_t)q->rt_clusters * q->cs > QCOW2_MAX_REFTABLE_BYTES ||
        !table_ok(q, q->rt_offset, (uint64_t)q->rt_clusters * q->cs))
        return open_fail(q, error,
                         "refcount table at %#" G_GINT64_MODIFIER "x (%u clusters) "
                         "is too large, unaligned or outside the file",
                         q->rt_offset, q->rt_clusters);
    if (q->nb_snapshots > QCOW2_MAX_SNAPSHOTS)
        return open_fail(q, error, "%u snapshots is too many", q->nb_snapshots);
    /* Header extensions, then the backing file name, all inside cluster 0. */
    size_t off = q->header_length;
    q->other_ext = g_byte_array_new();
    for (;;) {
        if (off + 8 > hdr_len)
            return open_fail(q, error, "header extensions run past the first cluster");
        uint32_t type = q_be32(hdr + off), len = q_be32(hdr + off + 4);
        if (type == 0)
            break;
        uint64_t padded = ((uint64_t)len + 7) & ~7ull;
        if (off + 8 + padded > hdr_len)
            return open_fail(q, error, "header extension %#x runs past the first cluster", type);
        if (type == QCOW2_EXT_BACKING_FORMAT) {
            if (len == 0 || len > 16)
                return open_fail(q, error, "bad backing format extension");
            g_free(q->backing_format);
            q->backing_format = g_strndup((const char *)hdr + off + 8, len);
        } else {
            g_byte_array_append(q->other_ext, hdr + off, (guint)(8 + padded));
        }
        off += 8 + padded;
    }
    uint64_t bo = q_be64(hdr + 8);
    uint32_t bl = q_be32(hdr + 16);
    if (bo) {
        if (bl == 0 || bl > 1023 || bo > hdr_len || bl > hdr_len - bo)
            return open_fail(
                q, error, "bad backing file name (offset %" G_GUINT64_FORMAT ", %u bytes)", bo, bl);
        q->backing_name = g_strndup((const char *)hdr + bo, bl);
        if (strlen(q->backing_name) != bl)
            return open_fail(q, error, "the backing file name holds a NUL byte");
    }
    return true;
}

static bool load_tables(Qcow2 *q, GError **error)
{
    q->l1 = g_new0(uint64_t, MAX(q->l1_size, 1));
    uint8_t *raw = g_malloc(MAX((uint64_t)q->l1_size * 8, (uint64_t)q->rt_clusters * q->cs));
    bool ok = qcow2_fread(q, q->l1_offset, raw, (size_t)q->l1_size * 8, error);
    for (uint32_t i = 0; ok && i < q->l1_size; i++) {
        q->l1[i] = q_be64(raw + i * 8);
        uint64_t l2 = q->l1[i] & QCOW2_OFFSET_MASK;
        if (l2 && ((l2 & (q->cs - 1)) || l2 >= q->file_size))
            ok = open_fail(q, error,
                           "L1 entry %u points at %#" G_GINT64_MODIFIER "x, "
                           "unaligned or past the end of the file",
                           i, l2);
    }
    q->rt_entries = (uint64_t)q->rt_clusters * q->cs / 8;
    q->rt = g_new0(uint64_t, q->rt_entries);
    q->refblocks = g_hash_table_new(g_direct_hash, g_direct_equal);
    ok = ok && qcow2_fread(q, q->rt_offset, raw, (size_t)q->rt_entries * 8, error);
    for (uint64_t i = 0; ok && i < q->rt_entries; i++) {
        q->rt[i] = q_be64(raw + i * 8) & ~511ull;
        if (q->rt[i] && ((q->rt[i] & (q->cs - 1)) || q->rt[i] >= q->file_size))
            ok = open_fail(q, error,
                           "refcount block %" G_GUINT64_FORMAT " at %#" G_GINT64_MODIFIER
                           "x is unaligned or past the end of the file",
                           i, q->rt[i]);
        else if (q->rt[i])
            g_hash_table_add(q->refblocks, GSIZE_TO_POINTER(q->rt[i] >> q->cluster_bits));
    }
    if (ok && q->rt[0] == 0)
        ok = open_fail(q, error, "the refcount table has no first block");
    g_free(raw);
    return ok;
}

static bool open_backing(Qcow2 *q, HgBlockChain *chain, GError **error)
{
    if (!q->backing_name)
        return true;
    if (chain->depth + 1 >= QCOW2_MAX_CHAIN)
        return open_fail(q, error, "the backing chain is more than %d images deep",
                         QCOW2_MAX_CHAIN);
    char *path = resolve_backing(q->b->filename, q->backing_name);
    const char *fmt = q->backing_format;
    if (fmt && strcmp(fmt, "raw") != 0 && strcmp(fmt, "qcow2") != 0) {
        g_free(path);
        return open_fail(q, error, "backing file format '%s' is not supported", fmt);
    }
    GError *e = NULL;
    chain->depth++;
    q->backing = hg_block_open_chain(path, fmt, true, chain, &e);
    chain->depth--;
    g_free(path);
    if (!q->backing) {
        g_set_error(error, HG_BLOCK_ERROR, HG_BLOCK_ERROR_OPEN, "%s: backing file: %s",
                    q->b->filename, e->message);
        g_error_free(e);
        return false;
    }
    return true;
}

HgBlock *hg_block_open_qcow2(const char *filename, bool read_only, HgBlockChain *chain,
                             GError **error)
{
    HgBlockChain local = {0};
    if (!chain)
        chain = &local;
    int fd = open(filename, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        g_set_error(error, HG_BLOCK_ERROR, HG_BLOCK_ERROR_OPEN, "cannot open disk image %s%s: %s",
                    filename, read_only ? "" : " for writing", g_strerror(e));
        return NULL;
    }
    HgBlock *b = g_new0(HgBlock, 1);
    Qcow2 *q = g_new0(Qcow2, 1);
    b->drv = &qcow2_driver;
    b->priv = q;
    b->filename = g_strdup(filename);
    b->read_only = read_only;
    q->b = b;
    q->fd = fd;
    q->read_only = true; /* nothing is written before every check passed */
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        open_fail(q, error, "not a regular file");
        goto fail;
    }
    for (int i = 0; i < chain->depth; i++)
        if (chain->dev[i] == (uint64_t)st.st_dev && chain->ino[i] == (uint64_t)st.st_ino) {
            open_fail(q, error, "the backing chain loops back to this image");
            goto fail;
        }
    if (chain->depth < (int)G_N_ELEMENTS(chain->dev)) {
        chain->dev[chain->depth] = (uint64_t)st.st_dev;
        chain->ino[chain->depth] = (uint64_t)st.st_ino;
    }
    q->file_size = (uint64_t)st.st_size;
    uint8_t small[112] = {0};
    if (!qcow2_fread(q, 0, small, sizeof(small), error))
        goto fail;
    uint32_t cb = q_be32(small + 20);
    size_t hdr_len = cb >= 9 && cb <= 21 ? (size_t)1 << cb : sizeof(small);
    uint8_t *hdr = g_malloc0(hdr_len);
    bool ok = qcow2_fread(q, 0, hdr, hdr_len, error) && parse_header(q, hdr, hdr_len, error) &&
              load_tables(q, error) && qcow2_read_snapshots(q, hdr, error) &&
              open_backing(q, chain, error);
    g_free(hdr);
    if (!ok)
        goto fail;
    b->size = q->size;
    if (!read_only && !(chain->repair && chain->depth == 0)) {
        if (q->incompat & QCOW2_INCOMPAT_CORRUPT) {
            open_fail(q, error,
                      "the image is marked corrupt; repair it with "
                      "'hangar-img check -r all' or open it read-only");
            goto fail;
        }
        if (q->incompat & QCOW2_INCOMPAT_DIRTY) {
            open_fail(q, error,
                      "the image was not closed cleanly (lazy refcounts); repair it "
                      "with 'hangar-img check -r all' first");
            goto fail;
        }
    }
    if (!read_only) {
        q->read_only = false;
        /* Unknown autoclear features (bitmaps) are invalid once we have written. */
        if (q->autoclear) {
            uint8_t z[8] = {0};
            q->autoclear = 0;
            if (!qcow2_write_header_field(q, 88, z, 8, error))
                goto fail;
        }
    }
    return b;
fail:
    qcow2_close(b);
    g_free(b->filename);
    g_free(b);
    return NULL;
}
