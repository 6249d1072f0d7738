/* Multiboot Specification version 0.6.96: the header in the first 8 KiB, ELF32 program
 * headers or the a.out-kludge address fields, the boot information structure with
 * memory sizes, command line, modules and a BIOS-style memory map.
 * Every offset and size from the file is checked against the file and against RAM.
 */
#include "multiboot.h"

#include <string.h>

#include "hangar.h"

enum {
    MB_MAGIC = 0x1badb002,
    MB_BOOT_MAGIC = 0x2badb002,
    MB_AOUT_KLUDGE = 1u << 16,
    INFO_ADDR = 0x9000, /* info, command line and memory map live in 0x9000-0x9fff */
};

typedef struct Segment {
    uint32_t paddr, filesz, memsz, offset;
} Segment;

struct HgMultiboot {
    GBytes *kernel;
    GBytes *module;
    char *cmdline;
    char *module_name;
    Segment segs[16];
    int n_segs;
    uint32_t entry;
    uint32_t end; /* highest byte used by the kernel */
};

static uint32_t rd32(const uint8_t *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static bool parse_elf(HgMultiboot *mb, const uint8_t *d, gsize len, const char *name,
                      GError **error)
{
    if (len < 52 || memcmp(d, "\x7f" "ELF", 4) != 0 || d[4] != 1 || d[5] != 1 ||
        rd16(d + 18) != 3) {
        g_set_error(error, HG_ERROR, HG_ERROR_FORMAT,
                    "%s: not a 32-bit little-endian x86 ELF file and no multiboot load "
                    "addresses in its header",
                    name);
        return false;
    }
    uint32_t phoff = rd32(d + 28);
    uint16_t phentsize = rd16(d + 42), phnum = rd16(d + 44);
    if (phentsize < 32 || phnum == 0 || phoff > len || (uint64_t)phnum * phentsize > len - phoff) {
        g_set_error(error, HG_ERROR, HG_ERROR_FORMAT, "%s: bad ELF program header table", name);
        return false;
    }
    mb->entry = rd32(d + 24);
    for (int i = 0; i < phnum; i++) {
        const uint8_t *ph = d + phoff + (size_t)i * phentsize;
        if (rd32(ph) != 1) /* PT_LOAD */
            continue;
        Segment s = {rd32(ph + 12), rd32(ph + 16), rd32(ph + 20), rd32(ph + 4)};
        if (s.filesz > s.memsz || s.offset > len || s.filesz > len - s.offset ||
            (uint64_t)s.paddr + s.memsz > 0xffffffffull) {
            g_set_error(error, HG_ERROR, HG_ERROR_FORMAT,
                        "%s: ELF segment %d lies outside the file or the address space", name, i);
            return false;
        }
        if (mb->n_segs == G_N_ELEMENTS(mb->segs)) {
            g_set_error(error, HG_ERROR, HG_ERROR_FORMAT, "%s: too many ELF segments", name);
            return false;
        }
        mb->segs[mb->n_segs++] = s;
        mb->end = MAX(mb->end, s.paddr + s.memsz);
    }
    if (!mb->n_segs) {
        g_set_error(error, HG_ERROR, HG_ERROR_FORMAT, "%s: no loadable ELF segment", name);
        return false;
    }
    return true;
}

HgMultiboot *hg_multiboot_load(const char *kernel, const char *initrd, const char *cmdline,
                               GError **error)
{
    gchar *data;
    gsize len;
    if (!g_file_get_contents(kernel, &data, &len, error)) {
        g_prefix_error(error, "cannot read the kernel: ");
        return NULL;
    }
    HgMultiboot *mb = g_new0(HgMultiboot, 1);
    mb->kernel = g_bytes_new_take(data, len);
    const uint8_t *d = (const uint8_t *)data;

    const uint8_t *hdr = NULL;
    for (gsize off = 0; off + 12 <= MIN(len, 8192); off += 4) {
        if (rd32(d + off) == MB_MAGIC && rd32(d + off) + rd32(d + off + 4) + rd32(d + off + 8) == 0) {
            hdr = d + off;
            break;
        }
    }
    if (!hdr) {
        g_set_error(error, HG_ERROR, HG_ERROR_FORMAT,
                    "%s is not a kernel Hangar can start: neither a Linux bzImage (no setup "
                    "header) nor a multiboot kernel (no header in its first 8 KiB)",
                    kernel);
        goto fail;
    }
    uint32_t flags = rd32(hdr + 4);
    /* Bits 0-15 are requirements: 0 (page-aligned modules) and 1 (memory information)
     * are met; any other, such as 2 (video mode table), is refused as the spec says. */
    if (flags & 0xfffc) {
        g_set_error(error, HG_ERROR, HG_ERROR_FORMAT,
                    "%s: the kernel requires multiboot features 0x%x that are not supported",
                    kernel, flags & 0xfffc);
        goto fail;
    }
    if (flags & MB_AOUT_KLUDGE) {
        if ((gsize)(hdr - d) + 32 > len) {
            g_set_error(error, HG_ERROR, HG_ERROR_FORMAT, "%s: truncated multiboot header", kernel);
            goto fail;
        }
        uint32_t header_addr = rd32(hdr + 12), load_addr = rd32(hdr + 16);
        uint32_t load_end = rd32(hdr + 20), bss_end = rd32(hdr + 24);
        uint32_t hdr_off = (uint32_t)(hdr - d);
        if (load_addr > header_addr || header_addr - load_addr > hdr_off) {
            g_set_error(error, HG_ERROR, HG_ERROR_FORMAT,
                        "%s: multiboot load address lies after the header", kernel);
            goto fail;
        }
        uint32_t file_off = hdr_off - (header_addr - load_addr);
        uint32_t filesz = load_end ? load_end - load_addr : (uint32_t)len - file_off;
        if (load_end && load_end < load_addr) {
            g_set_error(error, HG_ERROR, HG_ERROR_FORMAT, "%s: load_end_addr < load_addr", kernel);
            goto fail;
        }
        if (filesz > len - file_off) {
            g_set_error(error, HG_ERROR, HG_ERROR_FORMAT,
                        "%s: multiboot load range runs past the end of the file", kernel);
            goto fail;
        }
        uint32_t memsz = bss_end > load_addr + filesz ? bss_end - load_addr : filesz;
        mb->segs[0] = (Segment){load_addr, filesz, memsz, file_off};
        mb->n_segs = 1;
        mb->entry = rd32(hdr + 28);
        mb->end = load_addr + memsz;
    } else if (!parse_elf(mb, d, len, kernel, error)) {
        goto fail;
    }
    if (initrd) {
        if (!g_file_get_contents(initrd, &data, &len, error)) {
            g_prefix_error(error, "cannot read the initrd: ");
            goto fail;
        }
        mb->module = g_bytes_new_take(data, len);
        mb->module_name = g_strdup(initrd);
    }
    mb->cmdline = g_strdup(cmdline ? cmdline : "");
    return mb;

fail:
    hg_multiboot_free(mb);
    return NULL;
}

void hg_multiboot_free(HgMultiboot *mb)
{
    if (!mb)
        return;
    if (mb->kernel)
        g_bytes_unref(mb->kernel);
    if (mb->module)
        g_bytes_unref(mb->module);
    g_free(mb->cmdline);
    g_free(mb->module_name);
    g_free(mb);
}

static void put32(uint8_t *ram, uint32_t addr, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        ram[addr + i] = (uint8_t)(v >> (8 * i));
}

bool hg_multiboot_start(HgMultiboot *mb, HgBus *bus, HgCpu *cpu, bool direct, GError **error)
{
    uint8_t *ram = hg_bus_ram(bus);
    uint32_t ram_size = hg_bus_ram_size(bus);
    gsize klen;
    const uint8_t *k = g_bytes_get_data(mb->kernel, &klen);
    (void)direct;

    for (int i = 0; i < mb->n_segs; i++) {
        const Segment *s = &mb->segs[i];
        if (s->paddr < 0x100000 || s->memsz > ram_size || s->paddr > ram_size - s->memsz) {
            g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                        "the kernel loads at 0x%x-0x%x, outside the machine's %u MiB of RAM "
                        "above 1 MiB",
                        s->paddr, s->paddr + s->memsz, ram_size >> 20);
            return false;
        }
        memcpy(ram + s->paddr, k + s->offset, s->filesz);
        memset(ram + s->paddr + s->filesz, 0, s->memsz - s->filesz);
    }

    uint32_t info = INFO_ADDR;
    memset(ram + info, 0, 0x1000);
    uint32_t flags = 1u << 0 | 1u << 2 | 1u << 6;
    put32(ram, info + 4, 640);
    put32(ram, info + 8, (ram_size >> 10) - 1024);
    /* Command line at info + 0x100 (up to 0xb00 bytes). */
    size_t clen = MIN(strlen(mb->cmdline), 0xaff);
    memcpy(ram + info + 0x100, mb->cmdline, clen);
    ram[info + 0x100 + clen] = 0;
    put32(ram, info + 16, info + 0x100);
    /* Memory map at info + 0xc00: low RAM, high RAM. */
    uint32_t mmap = info + 0xc00, p = mmap;
    const uint64_t ranges[2][2] = {{0, 0x9fc00}, {0x100000, (uint64_t)ram_size - 0x100000}};
    for (int i = 0; i < 2; i++) {
        put32(ram, p, 20);
        put32(ram, p + 4, (uint32_t)ranges[i][0]);
        put32(ram, p + 8, 0);
        put32(ram, p + 12, (uint32_t)ranges[i][1]);
        put32(ram, p + 16, 0);
        put32(ram, p + 20, 1);
        p += 24;
    }
    put32(ram, info + 44, p - mmap);
    put32(ram, info + 48, mmap);
    if (mb->module) {
        gsize mlen;
        const uint8_t *md = g_bytes_get_data(mb->module, &mlen);
        uint32_t start = (mb->end + 0xfff) & ~0xfffu;
        if (mlen > ram_size || start > ram_size - mlen) {
            g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                        "the initrd (%zu bytes) does not fit in RAM after the kernel",
                        (size_t)mlen);
            return false;
        }
        memcpy(ram + start, md, mlen);
        uint32_t mod = info + 0x80;
        put32(ram, mod, start);
        put32(ram, mod + 4, start + (uint32_t)mlen);
        put32(ram, mod + 8, info + 0x100); /* string: the command line's storage is reused */
        flags |= 1u << 3;
        put32(ram, info + 20, 1);
        put32(ram, info + 24, mod);
    }
    put32(ram, info, flags);

    /* Entry state (spec 3.2): protected mode, paging off, flat 4 GiB segments. A small
     * GDT at 0x8f00 backs the selectors in case the kernel reloads them. */
    uint32_t gdt = 0x8f00;
    static const uint32_t gdt_words[] = {0, 0, 0x0000ffff, 0x00cf9b00, 0x0000ffff, 0x00cf9300};
    for (unsigned i = 0; i < G_N_ELEMENTS(gdt_words); i++)
        put32(ram, gdt + i * 4, gdt_words[i]);
    cpu->gdtr_base = gdt;
    cpu->gdtr_limit = 23;
    cpu->cr0 |= CR0_PE;
    for (int s = S_ES; s <= S_GS; s++) {
        HgSegment *sg = &cpu->seg[s];
        sg->sel = s == S_CS ? 0x08 : 0x10;
        sg->base = 0;
        sg->limit = 0xffffffffu;
        sg->flags = DESC_P | DESC_S | DESC_A | DESC_B | DESC_G |
                    (s == S_CS ? DESC_CODE | DESC_R : DESC_W);
        hg_seg_update(cpu, s);
    }
    hg_cpu_set_eflags(cpu, FL_FIXED1, 0xffffffffu);
    cpu->regs[R_EAX] = MB_BOOT_MAGIC;
    cpu->regs[R_EBX] = info;
    cpu->eip = mb->entry;
    hg_cpu_update_mode(cpu);
    return true;
}
