/* libFuzzer target for the disk-image parser (engine/block): each input is written to a
 * file and opened with format detection, as a machine would open a disk; when the open
 * succeeds the image is read, checked, written to, snapshotted and checked again. Hostile
 * inputs must be refused or handled without a crash or a sanitizer report.
 * Built by fuzz.sh with clang -fsanitize=fuzzer,address,undefined. */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qcow2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *path; /* the fuzzer's scratch file (fuzzers may keep state; the engine not) */

static void exercise(HgBlock *b, uint64_t seed)
{
    uint8_t buf[8192];
    uint64_t end = hg_block_sectors(b) * HG_BLOCK_SECTOR;
    GError *e = NULL;
    if (end == 0)
        return;
    for (int i = 0; i < 4; i++) {
        uint64_t off = i == 0 ? 0 : (seed * (uint64_t)(i * 2654435761u)) % end;
        size_t len = (size_t)MIN((uint64_t)sizeof(buf), end - off);
        hg_block_pread(b, off, buf, len, &e);
        g_clear_error(&e);
    }
    bool data;
    uint64_t pnum;
    uint64_t off = 0;
    for (int i = 0; i < 64 && off < end; i++, off += pnum) {
        if (!hg_block_data_status(b, off, end - off, &data, &pnum, &e) || pnum == 0) {
            g_clear_error(&e);
            break;
        }
    }
    Qcow2 *q = hg_qcow2_from_block(b);
    if (q) {
        HgQcow2Check r;
        GString *log = g_string_new(NULL);
        hg_qcow2_check(q, 0, &r, log, &e);
        g_clear_error(&e);
        g_string_free(log, true);
    }
    if (hg_block_read_only(b))
        return;
    memset(buf, 0x5a, sizeof(buf));
    off = (seed % end) & ~511ull;
    hg_block_pwrite(b, off, buf, (size_t)MIN((uint64_t)sizeof(buf), end - off), &e);
    g_clear_error(&e);
    hg_block_discard(b, 0, MIN(end, 65536), &e);
    g_clear_error(&e);
    if (q && !q->broken) {
        if (hg_qcow2_snapshot_create(q, "fuzz", &e))
            hg_qcow2_snapshot_apply(q, "fuzz", &e);
        g_clear_error(&e);
        HgQcow2Check r;
        GString *log = g_string_new(NULL);
        hg_qcow2_check(q, 2, &r, log, &e);
        g_clear_error(&e);
        g_string_free(log, true);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!path) {
        path = g_strdup_printf("%s/hangar-fuzz-%d.img", g_get_tmp_dir(), (int)getpid());
    }
    if (size > (4 << 20))
        return 0;
    uint64_t seed = 0;
    for (size_t i = 0; i < size; i += 97)
        seed = seed * 31 + data[i];
    for (int rw = 0; rw < 2; rw++) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0)
            abort();
        if (size && write(fd, data, size) != (ssize_t)size)
            abort();
        close(fd);
        GError *e = NULL;
        HgBlock *b = hg_block_open(path, NULL, rw == 0, &e);
        g_clear_error(&e);
        if (b) {
            exercise(b, seed);
            hg_block_close(b);
        }
    }
    unlink(path);
    return 0;
}
