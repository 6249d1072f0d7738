/* QEMU fw_cfg, the PC's I/O-port flavour (QEMU docs/specs/fw_cfg.rst, "Selector Register",
 * "Data Register", "DMA Address Register", "Firmware Configuration Items"):
 *   0x510 (16 bits) selects an item and rewinds its offset; 0x511 returns its bytes one by
 *   one, zeros past the end; writes to data are ignored (read-only since QEMU 2.4).
 *   0x514-0x51B hold the big-endian guest-physical address of a FWCfgDmaAccess
 *   {be32 control, be32 length, be64 address}; writing the last byte (the low half at
 *   0x518 as a dword) starts the transfer. control: bit 0 error, 1 read, 2 skip, 3 select
 *   (key in bits 31:16), 4 write; the device writes back 0, or the error bit. Reading the
 *   register gives "QEMU CFG". Writes through DMA are refused (no writable items).
 * Key 0x19 is the file directory: be32 count, then {be32 size, be16 key, be16 0,
 * char name[56]} per file, sorted by name.
 * All DMA goes to RAM only; a descriptor or buffer outside RAM sets the error bit.
 */
#include "fw_cfg.h"

#include <string.h>

#include "bus.h"
#include "state.h"

enum {
    PORT_SEL = 0x510,
    PORT_DATA = 0x511,
    PORT_DMA = 0x514,
    DMA_ERROR = 1,
    DMA_READ = 2,
    DMA_SKIP = 4,
    DMA_SELECT = 8,
    DMA_WRITE = 0x10,
    KEY_INVALID = 0xffff,
    FILE_NAME_LEN = 56,
    ID_TRADITIONAL = 1,
    ID_DMA = 2,
};

typedef struct FwFile {
    char name[FILE_NAME_LEN];
    uint16_t key;
} FwFile;

struct HgFwCfg {
    HgBus *bus;
    GHashTable *items; /* key -> GBytes */
    FwFile files[HG_FW_CFG_MAX_FILES];
    int n_files;
    uint16_t cur_key;
    uint32_t cur_offset;
    uint8_t dma_reg[8];
};

static gboolean key_ok(uint32_t key)
{
    return (key & 0x4000) == 0 && key <= 0xbfff;
}

void hg_fw_cfg_add_gbytes(HgFwCfg *f, uint16_t key, GBytes *data)
{
    g_assert(key_ok(key));
    g_hash_table_replace(f->items, GUINT_TO_POINTER(key), g_bytes_ref(data));
}

void hg_fw_cfg_add_bytes(HgFwCfg *f, uint16_t key, const void *data, uint32_t len)
{
    GBytes *b = g_bytes_new(data, len);
    hg_fw_cfg_add_gbytes(f, key, b);
    g_bytes_unref(b);
}

void hg_fw_cfg_add_i16(HgFwCfg *f, uint16_t key, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    hg_fw_cfg_add_bytes(f, key, b, 2);
}

void hg_fw_cfg_add_i32(HgFwCfg *f, uint16_t key, uint32_t v)
{
    uint8_t b[4];
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    hg_fw_cfg_add_bytes(f, key, b, 4);
}

void hg_fw_cfg_add_i64(HgFwCfg *f, uint16_t key, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    hg_fw_cfg_add_bytes(f, key, b, 8);
}

static GBytes *item(const HgFwCfg *f, uint16_t key)
{
    return g_hash_table_lookup(f->items, GUINT_TO_POINTER(key));
}

/* Rebuilds key 0x19 from the file table. */
static void update_dir(HgFwCfg *f)
{
    uint32_t len = 4 + 64 * (uint32_t)f->n_files;
    uint8_t *d = g_malloc0(len);
    uint32_t n = (uint32_t)f->n_files;
    d[0] = (uint8_t)(n >> 24);
    d[1] = (uint8_t)(n >> 16);
    d[2] = (uint8_t)(n >> 8);
    d[3] = (uint8_t)n;
    for (int i = 0; i < f->n_files; i++) {
        uint8_t *e = d + 4 + 64 * i;
        GBytes *b = item(f, f->files[i].key);
        uint32_t size = b ? (uint32_t)g_bytes_get_size(b) : 0;
        e[0] = (uint8_t)(size >> 24);
        e[1] = (uint8_t)(size >> 16);
        e[2] = (uint8_t)(size >> 8);
        e[3] = (uint8_t)size;
        e[4] = (uint8_t)(f->files[i].key >> 8);
        e[5] = (uint8_t)f->files[i].key;
        memcpy(e + 8, f->files[i].name, FILE_NAME_LEN);
    }
    GBytes *b = g_bytes_new_take(d, len);
    hg_fw_cfg_add_gbytes(f, HG_FW_CFG_FILE_DIR, b);
    g_bytes_unref(b);
}

int hg_fw_cfg_add_file_gbytes(HgFwCfg *f, const char *name, GBytes *data)
{
    if (strlen(name) >= FILE_NAME_LEN)
        return -1;
    int pos = 0;
    for (; pos < f->n_files; pos++) {
        int c = strcmp(name, f->files[pos].name);
        if (c == 0) {
            hg_fw_cfg_add_gbytes(f, f->files[pos].key, data);
            update_dir(f);
            return f->files[pos].key;
        }
        if (c < 0)
            break;
    }
    if (f->n_files >= HG_FW_CFG_MAX_FILES)
        return -1;
    /* Keys are handed out in order of addition; the directory is sorted by name. */
    uint16_t key = (uint16_t)(HG_FW_CFG_FILE_FIRST + f->n_files);
    memmove(&f->files[pos + 1], &f->files[pos], sizeof(FwFile) * (size_t)(f->n_files - pos));
    memset(&f->files[pos], 0, sizeof(FwFile));
    g_strlcpy(f->files[pos].name, name, FILE_NAME_LEN);
    f->files[pos].key = key;
    f->n_files++;
    hg_fw_cfg_add_gbytes(f, key, data);
    update_dir(f);
    return key;
}

int hg_fw_cfg_add_file(HgFwCfg *f, const char *name, const void *data, uint32_t len)
{
    GBytes *b = g_bytes_new(data, len);
    int key = hg_fw_cfg_add_file_gbytes(f, name, b);
    g_bytes_unref(b);
    return key;
}

void hg_fw_cfg_set_e820_ram(HgFwCfg *f, uint64_t ram_below_4g)
{
    uint8_t e[20] = {0};
    for (int i = 0; i < 8; i++)
        e[8 + i] = (uint8_t)(ram_below_4g >> (8 * i));
    e[16] = 1; /* E820_RAM */
    hg_fw_cfg_add_file(f, "etc/e820", e, sizeof(e));
    hg_fw_cfg_add_i64(f, HG_FW_CFG_RAM_SIZE, ram_below_4g);
}

static void add_blob(HgFwCfg *f, uint16_t addr_key, uint16_t size_key, uint16_t data_key,
                     GBytes *data, uint32_t addr)
{
    GBytes *empty = g_bytes_new(NULL, 0);
    GBytes *b = data ? data : empty;
    hg_fw_cfg_add_i32(f, addr_key, addr);
    hg_fw_cfg_add_i32(f, size_key, (uint32_t)g_bytes_get_size(b));
    hg_fw_cfg_add_gbytes(f, data_key, b);
    g_bytes_unref(empty);
}

void hg_fw_cfg_set_linux(HgFwCfg *f, GBytes *setup, uint32_t setup_addr, GBytes *kernel,
                         uint32_t kernel_addr, GBytes *initrd, uint32_t initrd_addr,
                         const char *cmdline, uint32_t cmdline_addr)
{
    add_blob(f, HG_FW_CFG_SETUP_ADDR, HG_FW_CFG_SETUP_SIZE, HG_FW_CFG_SETUP_DATA, setup,
             setup_addr);
    add_blob(f, HG_FW_CFG_KERNEL_ADDR, HG_FW_CFG_KERNEL_SIZE, HG_FW_CFG_KERNEL_DATA, kernel,
             kernel_addr);
    add_blob(f, HG_FW_CFG_INITRD_ADDR, HG_FW_CFG_INITRD_SIZE, HG_FW_CFG_INITRD_DATA, initrd,
             initrd_addr);
    /* The command line goes with its terminating NUL, as QEMU gives it. */
    const char *c = cmdline ? cmdline : "";
    GBytes *cl = g_bytes_new(c, strlen(c) + 1);
    add_blob(f, HG_FW_CFG_CMDLINE_ADDR, HG_FW_CFG_CMDLINE_SIZE, HG_FW_CFG_CMDLINE_DATA, cl,
             cmdline_addr);
    g_bytes_unref(cl);
}

static void select_key(HgFwCfg *f, uint16_t key)
{
    f->cur_offset = 0;
    /* The write channel bit (14) is ignored: nothing is writable. */
    key &= 0xbfff;
    f->cur_key = item(f, key) ? key : KEY_INVALID;
}

static uint8_t data_byte(HgFwCfg *f)
{
    GBytes *b = f->cur_key == KEY_INVALID ? NULL : item(f, f->cur_key);
    if (!b)
        return 0;
    gsize len;
    const uint8_t *p = g_bytes_get_data(b, &len);
    if (f->cur_offset >= len)
        return 0;
    return p[f->cur_offset++];
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

static void dma_transfer(HgFwCfg *f, uint64_t desc)
{
    uint8_t d[16];
    if (!hg_bus_dma_read(f->bus, desc, d, sizeof(d))) {
        uint8_t err[4] = {0, 0, 0, DMA_ERROR};
        hg_bus_dma_write(f->bus, desc, err, 4); /* fails quietly if outside RAM too */
        return;
    }
    uint32_t control = be32(d);
    uint32_t length = be32(d + 4);
    uint64_t addr = (uint64_t)be32(d + 8) << 32 | be32(d + 12);
    if (control & DMA_SELECT)
        select_key(f, (uint16_t)(control >> 16));
    bool read = false;
    if (control & DMA_READ)
        read = true;
    else if (control & DMA_WRITE)
        read = false;
    else if (!(control & DMA_SKIP))
        length = 0;
    bool write = !(control & DMA_READ) && (control & DMA_WRITE);
    uint32_t status = 0;
    GBytes *b = f->cur_key == KEY_INVALID ? NULL : item(f, f->cur_key);
    gsize item_len = 0;
    const uint8_t *p = b ? g_bytes_get_data(b, &item_len) : NULL;
    if (length && write) {
        status = DMA_ERROR;
    } else if (length) {
        /* Part from the item, the rest (past its end) reads as zeros. */
        uint32_t avail = f->cur_offset < item_len ? (uint32_t)(item_len - f->cur_offset) : 0;
        uint32_t n = MIN(length, avail);
        if (read) {
            if (!hg_bus_dma_write(f->bus, addr, p + f->cur_offset, n) ||
                !hg_bus_dma_zero(f->bus, addr + n, length - n))
                status = DMA_ERROR;
        }
        if (!status)
            f->cur_offset += n;
    }
    uint8_t st[4] = {(uint8_t)(status >> 24), (uint8_t)(status >> 16), (uint8_t)(status >> 8),
                     (uint8_t)status};
    hg_bus_dma_write(f->bus, desc, st, 4);
}

static const uint8_t dma_signature[8] = {'Q', 'E', 'M', 'U', ' ', 'C', 'F', 'G'};

static uint32_t cfg_read(void *opaque, uint32_t port, int size)
{
    HgFwCfg *f = opaque;
    uint32_t v = 0;
    for (int i = 0; i < size; i++) {
        uint32_t p = port + (uint32_t)i;
        uint8_t b;
        if (p == PORT_DATA)
            b = data_byte(f);
        else if (p >= PORT_DMA && p < PORT_DMA + 8)
            b = dma_signature[p - PORT_DMA];
        else
            b = 0; /* the selector reads as 0 */
        v |= (uint32_t)b << (8 * i);
    }
    return v;
}

static void cfg_write(void *opaque, uint32_t port, uint32_t value, int size)
{
    HgFwCfg *f = opaque;
    if (port == PORT_SEL) {
        select_key(f, (uint16_t)(size == 1 ? value & 0xff : value & 0xffff));
        return;
    }
    if (port < PORT_DMA || port >= PORT_DMA + 8)
        return;
    bool go = false;
    for (int i = 0; i < size && port + (uint32_t)i < PORT_DMA + 8; i++) {
        uint32_t o = port + (uint32_t)i - PORT_DMA;
        f->dma_reg[o] = (uint8_t)(value >> (8 * i));
        go = go || o == 7;
    }
    if (go) {
        uint64_t desc = (uint64_t)be32(f->dma_reg) << 32 | be32(f->dma_reg + 4);
        memset(f->dma_reg, 0, sizeof(f->dma_reg));
        dma_transfer(f, desc);
    }
}

HgFwCfg *hg_fw_cfg_new(HgBus *bus, int nb_cpus)
{
    HgFwCfg *f = g_new0(HgFwCfg, 1);
    f->bus = bus;
    f->items =
        g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, (GDestroyNotify)g_bytes_unref);
    f->cur_key = KEY_INVALID;
    hg_bus_map_io(bus, PORT_SEL, 2, cfg_read, cfg_write, f);
    hg_bus_map_io(bus, PORT_DMA, 8, cfg_read, cfg_write, f);
    hg_fw_cfg_add_bytes(f, HG_FW_CFG_SIGNATURE, "QEMU", 4);
    hg_fw_cfg_add_i32(f, HG_FW_CFG_ID, ID_TRADITIONAL | ID_DMA);
    uint8_t uuid[16] = {0};
    hg_fw_cfg_add_bytes(f, HG_FW_CFG_UUID, uuid, 16);
    hg_fw_cfg_add_i16(f, HG_FW_CFG_NOGRAPHIC, 0);
    hg_fw_cfg_add_i16(f, HG_FW_CFG_NB_CPUS, (uint16_t)nb_cpus);
    hg_fw_cfg_add_i16(f, HG_FW_CFG_MAX_CPUS, (uint16_t)nb_cpus);
    hg_fw_cfg_add_i16(f, HG_FW_CFG_BOOT_MENU, 0);
    /* NUMA: no nodes (a zero count), then one u64 per CPU, as QEMU. */
    uint32_t numa_len = 8 + 8 * (uint32_t)MAX(nb_cpus, 0);
    uint8_t *numa = g_malloc0(numa_len);
    hg_fw_cfg_add_bytes(f, HG_FW_CFG_NUMA, numa, numa_len);
    g_free(numa);
    update_dir(f);
    return f;
}

void hg_fw_cfg_free(HgFwCfg *f)
{
    if (!f)
        return;
    g_hash_table_destroy(f->items);
    g_free(f);
}

void hg_fw_cfg_reset(HgFwCfg *f)
{
    f->cur_key = KEY_INVALID;
    f->cur_offset = 0;
    memset(f->dma_reg, 0, sizeof(f->dma_reg));
}

void hg_fw_cfg_save(const HgFwCfg *f, HgStateWriter *w)
{
    hg_state_begin(w, "fw_cfg", 1);
    hg_state_put_u16(w, f->cur_key);
    hg_state_put_u32(w, f->cur_offset);
    hg_state_put_bytes(w, f->dma_reg, sizeof(f->dma_reg));
    hg_state_end(w);
}

void hg_fw_cfg_load(HgFwCfg *f, HgStateReader *r)
{
    if (!hg_state_open(r, "fw_cfg", 1, 1))
        return;
    uint16_t key = hg_state_get_u16(r);
    uint32_t offset = hg_state_get_u32(r);
    hg_state_get_bytes(r, f->dma_reg, sizeof(f->dma_reg));
    hg_state_close(r);
    /* The offset is only ever compared with the item's length, but keep it sane. */
    f->cur_key = key != KEY_INVALID && item(f, key) ? key : KEY_INVALID;
    f->cur_offset = f->cur_key == KEY_INVALID ? 0 : offset;
}
