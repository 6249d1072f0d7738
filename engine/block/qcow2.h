/* qcow2 images: the driver's state shared by its files (qcow2.c: open, mapping, reads and
 * writes, cluster allocation and refcounts; qcow2-snapshot.c: internal snapshots, resize,
 * backing-file changes, compressed writes; qcow2-check.c: consistency check and repair),
 * and the calls hangar-img uses beyond the HgBlock interface.
 *
 * Follows QEMU's docs/interop/qcow2.txt (versions 2 and 3). Not supported (refused with a
 * message when opening): encryption, external data files, extended L2 entries, zstd
 * compression. Lazy refcounts are never used by this driver.
 *
 * Metadata writes are ordered so that a process killed between any two of them leaves an
 * image without corruption (a leaked cluster at worst):
 *   allocate: refcount 0 -> 1 first, then the data or table, then the pointer to it;
 *   free: the pointer is removed first, then the refcount decremented;
 *   tables that move (L1 on growth, refcount table, snapshot table): the new copy is written
 *   in full, then the header fields that name it in one pwrite, then the old copy freed.
 * Every metadata change is written through immediately (no write-back cache), so the order
 * of the system calls is the order on disk for a killed process. Against power loss only
 * what a guest flush (fdatasync) covered is safe: there are no write barriers between the
 * steps, so metadata written after the last flush may reach the disk out of order. Snapshot create/apply/delete change
 * refcounts and COPIED flags of many tables and are done by hangar-img on an image no
 * machine is running: an interruption there can leave flags a check -r all repairs. */
#pragma once

#include <string.h>

#include "block.h"

#define QCOW2_MAGIC 0x514649fbu /* "QFI\xfb" */

#define QCOW2_OFLAG_COPIED (1ull << 63)
#define QCOW2_OFLAG_COMPRESSED (1ull << 62)
#define QCOW2_OFLAG_ZERO 1ull
#define QCOW2_OFFSET_MASK 0x00fffffffffffe00ull

#define QCOW2_INCOMPAT_DIRTY 1ull
#define QCOW2_INCOMPAT_CORRUPT 2ull
#define QCOW2_INCOMPAT_KNOWN 3ull

#define QCOW2_EXT_BACKING_FORMAT 0xe2792acau

enum {
    QCOW2_MAX_L1_BYTES = 32 << 20,      /* QEMU's limit */
    QCOW2_MAX_REFTABLE_BYTES = 8 << 20, /* QEMU's limit */
    QCOW2_MAX_SNAPSHOTS = 65536,
    QCOW2_MAX_CHAIN = 32, /* backing-chain depth */
    QCOW2_L2_CACHE = 32,
    QCOW2_RB_CACHE = 8,
};

typedef struct Qcow2Snapshot {
    uint64_t l1_offset;
    uint32_t l1_size;
    char *id, *name;
    uint32_t date_sec, date_nsec;
    uint64_t vm_clock_nsec;
    uint64_t vm_state_size;
    uint64_t disk_size;
    uint32_t extra_size; /* as stored; we write 16 */
} Qcow2Snapshot;

typedef struct Qcow2CacheSlot {
    uint64_t offset; /* host offset of the table, 0 when empty */
    uint64_t used;   /* LRU tick */
    uint8_t *data;   /* one cluster, big-endian as on disk */
} Qcow2CacheSlot;

typedef struct Qcow2 {
    HgBlock *b;
    int fd;
    bool read_only;
    bool broken; /* a table failed validation while running: no more writes */
    uint64_t file_size;

    uint32_t version;
    uint32_t cluster_bits;
    uint64_t cs; /* cluster size */
    uint32_t l2_bits;
    uint64_t l2_entries;
    uint64_t size; /* virtual size */
    uint64_t incompat, compat, autoclear;
    uint32_t header_length;
    uint32_t refcount_order, rc_bits;
    uint64_t rb_entries; /* refcounts per refcount block */
    uint64_t rc_max;
    uint32_t csize_shift;
    uint64_t csize_mask, coffset_mask;

    uint64_t *l1; /* host order, l1_size entries */
    uint32_t l1_size;
    uint64_t l1_offset;

    uint64_t *rt; /* host order */
    uint64_t rt_entries;
    uint64_t rt_offset;
    uint32_t rt_clusters;

    Qcow2Snapshot *snaps;
    uint32_t nb_snapshots;
    uint64_t snapshots_offset;
    uint64_t snapshots_size; /* bytes of the table */

    char *backing_name; /* as stored in the header */
    char *backing_format;
    HgBlock *backing;
    GByteArray *other_ext; /* header extensions we keep as they are */

    GHashTable *refblocks; /* cluster indices of the refcount blocks (overlap checks) */
    uint64_t free_hint;    /* no free cluster below this index */
    uint64_t tick;
    Qcow2CacheSlot l2c[QCOW2_L2_CACHE];
    Qcow2CacheSlot rbc[QCOW2_RB_CACHE];
    uint8_t *cbuf;       /* the last decompressed cluster */
    uint64_t cbuf_entry; /* its L2 entry, 0 when empty */
    uint64_t cfree;      /* next free byte for compressed writes (0: none) */
} Qcow2;

/* Big-endian field access. */
static inline uint64_t q_be64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return GUINT64_FROM_BE(v);
}
static inline uint32_t q_be32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return GUINT32_FROM_BE(v);
}
static inline uint16_t q_be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}
static inline void q_put64(uint8_t *p, uint64_t v)
{
    v = GUINT64_TO_BE(v);
    memcpy(p, &v, 8);
}
static inline void q_put32(uint8_t *p, uint32_t v)
{
    v = GUINT32_TO_BE(v);
    memcpy(p, &v, 4);
}
static inline void q_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* Internal to the driver's files. */
bool qcow2_err(Qcow2 *q, GError **error, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
bool qcow2_corrupt(Qcow2 *q, GError **error, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
bool qcow2_fread(Qcow2 *q, uint64_t off, void *buf, size_t len, GError **error);
bool qcow2_fwrite(Qcow2 *q, uint64_t off, const void *buf, size_t len, GError **error);
bool qcow2_get_refcount(Qcow2 *q, uint64_t cluster, uint64_t *rc, GError **error);
/* Adds delta to the refcounts of clusters [first, first+n) (they must be covered). */
bool qcow2_update_refcount(Qcow2 *q, uint64_t first, uint64_t n, int64_t delta, GError **error);
/* Finds n contiguous free clusters, sets their refcount to 1 and returns the host offset. */
bool qcow2_alloc(Qcow2 *q, uint64_t n, uint64_t *offset, GError **error);
/* Drops one reference to each cluster a data L2 entry points at (normal or compressed). */
bool qcow2_free_entry(Qcow2 *q, uint64_t entry, GError **error);
/* Loads an L2 table through the cache (validated). */
bool qcow2_load_l2(Qcow2 *q, uint64_t offset, uint8_t **table, GError **error);
void qcow2_cache_forget(Qcow2 *q, uint64_t offset);
/* Reads len bytes of one guest cluster, from guest offset off, as L2 entry e defines them
 * (unallocated entries read the backing file, zeros past its end). */
bool qcow2_read_cluster_part(Qcow2 *q, uint64_t e, uint64_t off, uint8_t *buf, size_t len,
                             GError **error);
/* Writes guest bytes through the active L1 table with no check against the virtual size:
 * the VM state area after the disk (whole clusters only past the disk's end). */
bool qcow2_write_guest(Qcow2 *q, uint64_t offset, const void *buf, size_t len, GError **error);
/* The host clusters a compressed entry occupies. */
void qcow2_compressed_range(const Qcow2 *q, uint64_t entry, uint64_t *first, uint64_t *n);
bool qcow2_write_header_field(Qcow2 *q, uint64_t off, const void *data, size_t len, GError **error);
/* Rewrites cluster 0's header, extensions and backing name from the state in memory. */
bool qcow2_write_full_header(Qcow2 *q, GError **error);
uint64_t qcow2_l1_entries_for(const Qcow2 *q, uint64_t size);
/* Adds addend (-1, 0 or +1) to the refcounts of everything reachable from an L1 table; with
 * update_copied, also sets the COPIED flags of that (active) table to match. */
bool qcow2_tree_refcount(Qcow2 *q, const uint64_t *l1, uint32_t l1_size, int addend,
                         bool update_copied, GError **error);
bool qcow2_read_snapshots(Qcow2 *q, uint8_t *hdr, GError **error);
void qcow2_free_snapshots(Qcow2 *q);

/* ---- Calls for hangar-img and tests ---- */

/* The Qcow2 state behind an HgBlock opened as qcow2, or NULL for other formats. */
Qcow2 *hg_qcow2_from_block(HgBlock *b);
/* Creates a qcow2 image; cluster_bits 9..21, version 2 or 3, refcount_order 0..6 (v2: 4).
 * size 0 with a backing file takes the backing file's size. */
bool hg_qcow2_create(const char *path, uint64_t size, const char *backing,
                     const char *backing_format, uint32_t cluster_bits, uint32_t version,
                     uint32_t refcount_order, GError **error);

typedef struct HgQcow2Check {
    uint64_t corruptions, leaks, corruptions_fixed, leaks_fixed;
    uint64_t allocated_clusters, total_clusters, compressed_clusters, image_end;
} HgQcow2Check;
/* Checks refcounts against the references (QEMU's rules); fix: 0, 1 leaks, 2 all.
 * Messages go to log. */
bool hg_qcow2_check(Qcow2 *q, int fix, HgQcow2Check *res, GString *log, GError **error);

bool hg_qcow2_snapshot_exists(const Qcow2 *q, const char *name);
bool hg_qcow2_snapshot_create(Qcow2 *q, const char *name, GError **error);
/* Machine states inside the image, laid out as QEMU's savevm does (qcow2.txt: the VM state
 * follows the disk in the snapshot's guest address space, from the first L1 entry past
 * the disk; vm_state_size says how much): create takes a snapshot NAME holding the disk
 * and len bytes of state (the active image keeps no copy of them); read returns the state
 * of snapshot NAME without changing the image (error when it has none). */
bool hg_qcow2_snapshot_create_vmstate(Qcow2 *q, const char *name, const void *state, size_t len,
                                      uint64_t vm_clock_ns, GError **error);
bool hg_qcow2_snapshot_read_vmstate(Qcow2 *q, const char *name, GBytes **state, GError **error);
/* The snapshot NAME's entry, or NULL. */
const Qcow2Snapshot *hg_qcow2_snapshot_find(const Qcow2 *q, const char *name);
bool hg_qcow2_snapshot_apply(Qcow2 *q, const char *name, GError **error);
bool hg_qcow2_snapshot_delete(Qcow2 *q, const char *name, GError **error);
/* Writes one guest cluster compressed (deflate) if that saves space, else normally. The
 * cluster must not be allocated yet (convert -c writes into a new image). */
bool hg_qcow2_write_compressed(Qcow2 *q, uint64_t guest_offset, const uint8_t *data,
                               GError **error);
bool hg_qcow2_resize(Qcow2 *q, uint64_t new_size, GError **error);
/* Changes the backing file named in the header (rebase -u; rebase copies data first). */
bool hg_qcow2_set_backing(Qcow2 *q, const char *name, const char *format, GError **error);
/* Whether the image itself (not its backing file) defines the cluster at guest_offset. */
bool hg_qcow2_cluster_allocated(Qcow2 *q, uint64_t guest_offset, bool *allocated, GError **error);
