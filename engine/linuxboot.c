/* Direct Linux boot: bzImage parsing and setup-header patching (see linuxboot.h).
 * Header offsets and rules: the Linux x86 boot protocol, "The real-mode kernel header"
 * and "Loading the rest of the kernel"; protocol 2.02 or later is required (kernels since
 * 2.4), so the command line can live outside the setup segment.
 */
#include "linuxboot.h"

#include <stdio.h>
#include <string.h>

#include "hangar.h"

/* The assembled option ROM, linked in from linuxboot-rom.S. */
extern const uint8_t hg_linuxboot_rom_start[];
extern const uint8_t hg_linuxboot_rom_end[];

enum {
    SETUP_ADDR = 0x10000,   /* real-mode code at 64 KiB, out of SeaBIOS's way */
    CMDLINE_ADDR = 0x20000, /* the command line right above its 64 KiB */
    KERNEL_ADDR = 0x100000, /* protected-mode kernel at 1 MiB (bzImage) */
    ACPI_RESERVE = 0x20000, /* top of RAM kept for the firmware's tables */
    CMDLINE_MAX = 4095,
};

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}
static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static void wr32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

bool hg_linuxboot_probe(const char *path)
{
    uint8_t hdr[0x210];
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    size_t n = fread(hdr, 1, sizeof(hdr), f);
    fclose(f);
    return n == sizeof(hdr) && memcmp(hdr + 0x202, "HdrS", 4) == 0;
}

bool hg_linuxboot_prepare(HgLinuxBoot *lb, const char *kernel, const char *initrd,
                          const char *cmdline, uint32_t ram, GError **error)
{
    memset(lb, 0, sizeof(*lb));
    gchar *data = NULL, *rd = NULL;
    gsize len = 0, rd_len = 0;
    if (!g_file_get_contents(kernel, &data, &len, error)) {
        g_prefix_error(error, "cannot read the kernel: ");
        return false;
    }
    uint8_t *k = (uint8_t *)data;
    if (len < 0x400 || memcmp(k + 0x202, "HdrS", 4) != 0) {
        g_set_error(error, HG_ERROR, HG_ERROR_FORMAT,
                    "%s is not a Linux bzImage (no setup header)", kernel);
        goto fail;
    }
    uint16_t version = rd16(k + 0x206);
    if (version < 0x202 || !(k[0x211] & 0x01)) {
        g_set_error(error, HG_ERROR, HG_ERROR_FORMAT,
                    "%s uses boot protocol %u.%02u or is not a bzImage; Hangar needs a bzImage "
                    "with protocol 2.02 or later",
                    kernel, version >> 8, version & 0xff);
        goto fail;
    }
    uint32_t setup_sects = k[0x1f1] ? k[0x1f1] : 4;
    gsize setup_len = (setup_sects + 1) * 512;
    if (setup_len >= len || setup_len > CMDLINE_ADDR - SETUP_ADDR) {
        g_set_error(error, HG_ERROR, HG_ERROR_FORMAT,
                    "%s: the setup code (%zu bytes) does not fit the file or the boot layout",
                    kernel, (size_t)setup_len);
        goto fail;
    }
    gsize kernel_len = len - setup_len;
    if (KERNEL_ADDR + (uint64_t)kernel_len + ACPI_RESERVE > ram) {
        g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                    "the kernel (%zu KiB) does not fit in %u MiB of guest memory",
                    (size_t)(kernel_len >> 10), ram >> 20);
        goto fail;
    }
    size_t cl = cmdline ? strlen(cmdline) : 0;
    uint32_t cmdline_max = version >= 0x206 ? rd32(k + 0x238) : 255;
    if (cl > cmdline_max || cl > CMDLINE_MAX) {
        g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                    "the kernel command line has %zu characters; this kernel takes at most %u",
                    cl, MIN(cmdline_max, (uint32_t)CMDLINE_MAX));
        goto fail;
    }

    uint32_t initrd_addr = 0;
    if (initrd) {
        if (!g_file_get_contents(initrd, &rd, &rd_len, error)) {
            g_prefix_error(error, "cannot read the initrd: ");
            goto fail;
        }
        uint32_t initrd_max = version >= 0x203 ? rd32(k + 0x22c) : 0x37ffffff;
        uint64_t top = MIN((uint64_t)initrd_max + 1, (uint64_t)ram - ACPI_RESERVE);
        uint64_t kernel_end = KERNEL_ADDR + (uint64_t)kernel_len;
        if (rd_len > top || ((top - rd_len) & ~0xfffull) < kernel_end) {
            g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                        "the initrd (%zu KiB) and kernel do not fit in %u MiB of guest memory",
                        (size_t)(rd_len >> 10), ram >> 20);
            goto fail;
        }
        initrd_addr = (uint32_t)((top - rd_len) & ~0xfffull);
    }

    /* Patch the header the way a boot loader does. */
    uint8_t *setup = g_memdup2(k, setup_len);
    setup[0x210] = 0xff;            /* type_of_loader: undefined loader */
    setup[0x211] |= 0x80;           /* loadflags: CAN_USE_HEAP */
    wr16(setup + 0x224, (uint16_t)(CMDLINE_ADDR - SETUP_ADDR - 0x200)); /* heap_end_ptr */
    wr32(setup + 0x228, CMDLINE_ADDR); /* cmd_line_ptr */
    wr32(setup + 0x218, initrd_addr);  /* ramdisk_image */
    wr32(setup + 0x21c, (uint32_t)rd_len);
    lb->setup = g_bytes_new_take(setup, setup_len);
    lb->kernel = g_bytes_new(k + setup_len, kernel_len);
    if (rd)
        lb->initrd = g_bytes_new_take(rd, rd_len);
    lb->cmdline = g_bytes_new(cmdline ? cmdline : "", cl + 1);
    lb->setup_addr = SETUP_ADDR;
    lb->kernel_addr = KERNEL_ADDR;
    lb->initrd_addr = initrd_addr;
    lb->cmdline_addr = CMDLINE_ADDR;
    g_free(data);
    return true;

fail:
    g_free(data);
    g_free(rd);
    return false;
}

void hg_linuxboot_clear(HgLinuxBoot *lb)
{
    if (lb->setup)
        g_bytes_unref(lb->setup);
    if (lb->kernel)
        g_bytes_unref(lb->kernel);
    if (lb->initrd)
        g_bytes_unref(lb->initrd);
    if (lb->cmdline)
        g_bytes_unref(lb->cmdline);
    memset(lb, 0, sizeof(*lb));
}

GBytes *hg_linuxboot_rom(void)
{
    size_t n = (size_t)(hg_linuxboot_rom_end - hg_linuxboot_rom_start);
    uint8_t *rom = g_memdup2(hg_linuxboot_rom_start, n);
    /* The PnP header's checksum covers its 32 bytes; the ROM's covers the whole image. */
    uint16_t pnp = rd16(rom + 0x1a);
    if (pnp + 32u <= n && memcmp(rom + pnp, "$PnP", 4) == 0) {
        uint8_t sum = 0;
        rom[pnp + 9] = 0;
        for (int i = 0; i < 32; i++)
            sum = (uint8_t)(sum + rom[pnp + i]);
        rom[pnp + 9] = (uint8_t)-sum;
    }
    uint8_t sum = 0;
    rom[n - 1] = 0;
    for (size_t i = 0; i < n; i++)
        sum = (uint8_t)(sum + rom[i]);
    rom[n - 1] = (uint8_t)-sum;
    return g_bytes_new_take(rom, n);
}
