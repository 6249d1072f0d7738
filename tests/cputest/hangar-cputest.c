/* hangar-cputest: runs CPU test vectors (the JSON format of docs/testing.md, "CPU test
 * vectors") against the engine's CPU and reports every difference.
 *
 * One bare machine is made once (16 MiB RAM, A20 on, no firmware, no devices) and
 * reused: between tests only the RAM pages a test listed or wrote are cleared, and the
 * CPU is restored from a snapshot taken after hg_cpu_reset (a full reset flushes the
 * whole TLB and translation cache, which would dominate the run time). The JSON is read
 * by a small streaming parser: a file of millions of tests is never held as a tree.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <zlib.h>

#include "bus.h"
#include "cpu.h"
#include "mmu.h"
#include "tb.h"

enum { RAM_SIZE = 16 << 20, PAGE_COUNT = RAM_SIZE >> 12, INSN_CAP = 100000 };

/* Register slots: the general registers in encoding order, then the others. */
enum {
    RG_EIP = 8,
    RG_EFLAGS,
    RG_SEG0, /* ES CS SS DS FS GS in S_* order */
    RG_CR0 = RG_SEG0 + 6,
    RG_CR2,
    RG_CR3,
    RG_CR4,
    RG_GDTRB,
    RG_GDTRL,
    RG_IDTRB,
    RG_IDTRL,
    RG_COUNT
};

static const char *const reg32_names[RG_COUNT] = {
    "eax", "ecx",    "edx", "ebx", "esp",       "ebp",        "esi",       "edi",
    "eip", "eflags", "es",  "cs",  "ss",        "ds",         "fs",        "gs",
    "cr0", "cr2",    "cr3", "cr4", "gdtr_base", "gdtr_limit", "idtr_base", "idtr_limit",
};
static const char *const reg16_names[10] = {
    "ax", "cx", "dx", "bx", "sp", "bp", "si", "di", "ip", "flags",
};

typedef struct Regs {
    uint32_t val[RG_COUNT];
    uint32_t set;     /* bit per listed register */
    uint32_t named16; /* bit per register given by its 16-bit name */
} Regs;

typedef struct RamByte {
    uint32_t addr;
    uint8_t val;
} RamByte;

typedef struct RamList {
    RamByte *v;
    size_t n, cap;
} RamList;

typedef struct Test {
    char name[512];
    Regs init, fin;
    RamList init_ram, fin_ram;
    int exception;
} Test;

typedef struct Runner {
    HgBus *bus;
    HgCpu *cpu;
    HgCpu *snapshot;
    uint8_t *ram;
    uint8_t *expect;  /* expected final RAM image, kept zero outside touched pages */
    uint8_t *touched; /* per page: listed by the current test */
    uint32_t *pages;  /* list of touched pages */
    size_t n_pages;
    uint32_t ignore_flags;
    const char *filter;
    bool quiet;
    const char *file;
    unsigned long passed, failed, skipped;
    bool failed_current;
    int fail_lines;
} Runner;

/* ---- watchdog: a guest state that makes the CPU loop without retiring instructions
 * (an exception path not written yet) must not hang the whole run. ---- */

static sigjmp_buf watchdog_jmp;
static volatile sig_atomic_t watchdog_armed;
static volatile unsigned long watchdog_progress;
static unsigned long watchdog_seen;
static int watchdog_ticks;

static void watchdog_tick(int sig)
{
    (void)sig;
    if (!watchdog_armed)
        return;
    if (watchdog_progress != watchdog_seen) {
        watchdog_seen = watchdog_progress;
        watchdog_ticks = 0;
        return;
    }
    if (++watchdog_ticks >= 3) {
        watchdog_ticks = 0;
        watchdog_armed = 0;
        siglongjmp(watchdog_jmp, 1);
    }
}

/* ---- JSON ---- */

typedef struct Json {
    const char *start, *p, *end;
    const char *file;
    bool error;
} Json;

static void json_fail(Json *j, const char *what)
{
    if (!j->error)
        fprintf(stderr, "%s: JSON error at byte %ld: %s\n", j->file, (long)(j->p - j->start), what);
    j->error = true;
    j->p = j->end;
}

static inline void ws(Json *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t'))
        j->p++;
}

static inline bool peek(Json *j, char c)
{
    ws(j);
    return j->p < j->end && *j->p == c;
}

static inline bool eat(Json *j, char c)
{
    if (peek(j, c)) {
        j->p++;
        return true;
    }
    return false;
}

static void expect(Json *j, char c)
{
    if (!eat(j, c)) {
        char msg[32];
        snprintf(msg, sizeof(msg), "expected '%c'", c);
        json_fail(j, msg);
    }
}

/* Reads a string into out (truncated to cap - 1 bytes); \u escapes above ASCII
 * become '?', which is enough for test names. */
static void json_string(Json *j, char *out, size_t cap)
{
    size_t n = 0;
    expect(j, '"');
    while (j->p < j->end && *j->p != '"') {
        char c = *j->p++;
        if (c == '\\' && j->p < j->end) {
            c = *j->p++;
            switch (c) {
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'u': {
                unsigned v = 0;
                for (int i = 0; i < 4 && j->p < j->end; i++, j->p++) {
                    char h = *j->p;
                    v = v * 16 + (unsigned)(h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
                }
                c = v < 0x80 ? (char)v : '?';
                break;
            }
            default: break; /* \" \\ \/ */
            }
        }
        if (n + 1 < cap)
            out[n++] = c;
    }
    if (cap)
        out[n] = 0;
    expect(j, '"');
}

static int64_t json_int(Json *j)
{
    ws(j);
    bool neg = false;
    if (j->p < j->end && *j->p == '-') {
        neg = true;
        j->p++;
    }
    if (j->p >= j->end || *j->p < '0' || *j->p > '9') {
        json_fail(j, "expected a number");
        return 0;
    }
    int64_t v = 0;
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
        v = v * 10 + (*j->p++ - '0');
    /* A fraction or exponent has no meaning here; skip it. */
    while (j->p < j->end && (*j->p == '.' || *j->p == 'e' || *j->p == 'E' || *j->p == '+' ||
                             *j->p == '-' || (*j->p >= '0' && *j->p <= '9')))
        j->p++;
    return neg ? -v : v;
}

static void json_skip(Json *j)
{
    ws(j);
    if (j->p >= j->end) {
        json_fail(j, "unexpected end");
        return;
    }
    char c = *j->p;
    if (c == '"') {
        j->p++;
        while (j->p < j->end && *j->p != '"')
            j->p += *j->p == '\\' ? 2 : 1;
        j->p++;
    } else if (c == '{' || c == '[') {
        int depth = 0;
        bool in_str = false;
        for (; j->p < j->end; j->p++) {
            char d = *j->p;
            if (in_str) {
                if (d == '\\')
                    j->p++;
                else if (d == '"')
                    in_str = false;
            } else if (d == '"') {
                in_str = true;
            } else if (d == '{' || d == '[') {
                depth++;
            } else if (d == '}' || d == ']') {
                if (--depth == 0) {
                    j->p++;
                    return;
                }
            }
        }
        json_fail(j, "unterminated value");
    } else {
        while (j->p < j->end && *j->p != ',' && *j->p != '}' && *j->p != ']' && *j->p != ' ' &&
               *j->p != '\n')
            j->p++;
    }
}

static int reg_lookup(const char *name, bool *is16)
{
    for (int i = 0; i < RG_COUNT; i++)
        if (!strcmp(name, reg32_names[i])) {
            *is16 = false;
            return i;
        }
    for (int i = 0; i < 10; i++)
        if (!strcmp(name, reg16_names[i])) {
            *is16 = true;
            return i;
        }
    return -1;
}

static void parse_regs(Json *j, Regs *r)
{
    char key[32];
    expect(j, '{');
    if (eat(j, '}'))
        return;
    do {
        json_string(j, key, sizeof(key));
        expect(j, ':');
        bool is16;
        int idx = reg_lookup(key, &is16);
        if (idx < 0) {
            json_skip(j);
            continue;
        }
        uint32_t v = (uint32_t)json_int(j);
        r->val[idx] = is16 ? (v & 0xffff) : v;
        r->set |= 1u << idx;
        if (is16)
            r->named16 |= 1u << idx;
    } while (eat(j, ','));
    expect(j, '}');
}

static void parse_ram(Json *j, RamList *l)
{
    expect(j, '[');
    if (eat(j, ']'))
        return;
    do {
        expect(j, '[');
        uint32_t a = (uint32_t)json_int(j);
        expect(j, ',');
        uint32_t v = (uint32_t)json_int(j);
        expect(j, ']');
        if (l->n == l->cap) {
            l->cap = l->cap ? l->cap * 2 : 256;
            l->v = realloc(l->v, l->cap * sizeof(*l->v));
            if (!l->v)
                abort();
        }
        l->v[l->n++] = (RamByte){a, (uint8_t)v};
    } while (!j->error && eat(j, ','));
    expect(j, ']');
}

static void parse_state(Json *j, Regs *r, RamList *l)
{
    char key[32];
    expect(j, '{');
    if (eat(j, '}'))
        return;
    do {
        json_string(j, key, sizeof(key));
        expect(j, ':');
        if (!strcmp(key, "regs"))
            parse_regs(j, r);
        else if (!strcmp(key, "ram"))
            parse_ram(j, l);
        else
            json_skip(j);
    } while (eat(j, ','));
    expect(j, '}');
}

static void parse_test(Json *j, Test *t)
{
    char key[32];
    memset(&t->init, 0, sizeof(t->init));
    memset(&t->fin, 0, sizeof(t->fin));
    t->init_ram.n = t->fin_ram.n = 0;
    t->name[0] = 0;
    t->exception = -1;
    expect(j, '{');
    if (eat(j, '}'))
        return;
    do {
        json_string(j, key, sizeof(key));
        expect(j, ':');
        if (!strcmp(key, "name"))
            json_string(j, t->name, sizeof(t->name));
        else if (!strcmp(key, "initial"))
            parse_state(j, &t->init, &t->init_ram);
        else if (!strcmp(key, "final"))
            parse_state(j, &t->fin, &t->fin_ram);
        else if (!strcmp(key, "exception") && !peek(j, 'n'))
            t->exception = (int)json_int(j);
        else
            json_skip(j);
    } while (!j->error && eat(j, ','));
    expect(j, '}');
}

/* ---- machine state ---- */

static void touch_page(Runner *r, uint32_t addr)
{
    uint32_t p = addr >> 12;
    if (p < PAGE_COUNT && !r->touched[p]) {
        r->touched[p] = 1;
        r->pages[r->n_pages++] = p;
    }
}

/* Loads a segment register's hidden part from the GDT as MOV Sreg at CPL 0 does (the
 * checks are the test author's business; the accessed bit is set in the cache only, so
 * the descriptor bytes in RAM stay as the test gave them). */
static void load_seg_prot(Runner *r, int s, uint16_t sel)
{
    HgCpu *cpu = r->cpu;
    HgSegment *sg = &cpu->seg[s];
    sg->sel = sel;
    if ((sel & ~3u) == 0 && !(sel & 4)) {
        sg->base = 0;
        sg->limit = 0;
        sg->flags = 0;
    } else {
        uint32_t table = cpu->gdtr_base;
        if (sel & 4)
            table = cpu->seg[S_LDTR].base;
        uint32_t a = (table + (sel & ~7u)) & (RAM_SIZE - 1);
        uint32_t lo, hi;
        memcpy(&lo, r->ram + a, 4);
        memcpy(&hi, r->ram + ((a + 4) & (RAM_SIZE - 1)), 4);
        sg->base = (lo >> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000u);
        uint32_t limit = (lo & 0xffff) | (hi & 0x000f0000u);
        if (hi & DESC_G)
            limit = (limit << 12) | 0xfff;
        sg->limit = limit;
        sg->flags = (hi & 0x00f0ff00u) | DESC_A;
    }
    hg_seg_update(cpu, s);
}

static void load_state(Runner *r, const Test *t)
{
    HgCpu *cpu = r->cpu;
    const Regs *in = &t->init;
    for (int i = 0; i < 8; i++)
        cpu->regs[i] = (in->set & (1u << i)) ? in->val[i] : 0;
    if (in->set & (1u << RG_CR0))
        cpu->cr0 = in->val[RG_CR0];
    if (in->set & (1u << RG_CR2))
        cpu->cr2 = in->val[RG_CR2];
    if (in->set & (1u << RG_CR3))
        cpu->cr3 = in->val[RG_CR3];
    if (in->set & (1u << RG_CR4))
        cpu->cr4 = in->val[RG_CR4];
    if (in->set & (1u << RG_GDTRB))
        cpu->gdtr_base = in->val[RG_GDTRB];
    if (in->set & (1u << RG_GDTRL))
        cpu->gdtr_limit = in->val[RG_GDTRL];
    if (in->set & (1u << RG_IDTRB))
        cpu->idtr_base = in->val[RG_IDTRB];
    if (in->set & (1u << RG_IDTRL))
        cpu->idtr_limit = in->val[RG_IDTRL];
    cpu->eip = (in->set & (1u << RG_EIP)) ? in->val[RG_EIP] : 0;
    uint32_t fl = (in->set & (1u << RG_EFLAGS)) ? in->val[RG_EFLAGS] : 0;
    hg_cpu_set_eflags(cpu, fl, 0xffffffffu);
    bool pe = cpu->cr0 & CR0_PE;
    for (int s = 0; s < 6; s++) {
        uint16_t sel = (in->set & (1u << (RG_SEG0 + s))) ? (uint16_t)in->val[RG_SEG0 + s] : 0;
        if (pe && !(cpu->eflags & FL_VM)) {
            load_seg_prot(r, s, sel);
        } else {
            HgSegment *sg = &cpu->seg[s];
            sg->sel = sel;
            sg->base = (uint32_t)sel << 4;
            sg->limit = 0xffff;
            sg->flags = DESC_P | DESC_S | DESC_W | DESC_A;
            if (s == S_CS)
                sg->flags |= DESC_CODE | DESC_R;
            if (cpu->eflags & FL_VM)
                sg->flags |= 3u << DESC_DPL_SHIFT;
            hg_seg_update(cpu, s);
        }
    }
    if (pe && !(cpu->eflags & FL_VM))
        cpu->cpl = cpu->seg[S_CS].sel & 3;
    hg_cpu_update_mode(cpu);
    if (cpu->cr0 & CR0_PG)
        hg_tlb_flush(cpu, false);
}

static void read_regs(HgCpu *cpu, uint32_t *v)
{
    for (int i = 0; i < 8; i++)
        v[i] = cpu->regs[i];
    v[RG_EIP] = cpu->eip;
    v[RG_EFLAGS] = hg_cpu_get_eflags(cpu);
    for (int s = 0; s < 6; s++)
        v[RG_SEG0 + s] = cpu->seg[s].sel;
    v[RG_CR0] = cpu->cr0;
    v[RG_CR2] = cpu->cr2;
    v[RG_CR3] = cpu->cr3;
    v[RG_CR4] = cpu->cr4;
    v[RG_GDTRB] = cpu->gdtr_base;
    v[RG_GDTRL] = cpu->gdtr_limit;
    v[RG_IDTRB] = cpu->idtr_base;
    v[RG_IDTRL] = cpu->idtr_limit;
}

static void fail(Runner *r, const Test *t, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(Runner *r, const Test *t, const char *fmt, ...)
{
    r->failed_current = true;
    if (r->quiet || ++r->fail_lines > 16)
        return;
    va_list ap;
    va_start(ap, fmt);
    printf("%s: %s: ", r->file, t->name);
    vprintf(fmt, ap);
    putchar('\n');
    va_end(ap);
}

static const char *reg_name(const Regs *a, const Regs *b, int i)
{
    if (i < 10 && ((a->named16 | b->named16) & (1u << i)))
        return reg16_names[i];
    return reg32_names[i];
}

/* Clears what the previous test left: RAM and the expected image on the touched
 * pages, the TLB entries and translated blocks of those pages (linear == physical
 * without paging; a test with paging gets a full flush). */
static void cleanup(Runner *r, bool paging)
{
    HgCpu *cpu = r->cpu;
    for (size_t i = 0; i < r->n_pages; i++) {
        uint32_t p = r->pages[i];
        memset(r->ram + (p << 12), 0, 4096);
        memset(r->expect + (p << 12), 0, 4096);
        r->touched[p] = 0;
        for (int m = 0; m < 2; m++) {
            HgTlbEntry *e = &cpu->tlb[m][p & (TLB_SIZE - 1)];
            e->tag_read = e->tag_write = TLB_INVALID;
        }
        hg_tb_invalidate_phys(cpu->tbs, p << 12, 4096);
    }
    r->n_pages = 0;
    if (paging) {
        hg_tlb_flush(cpu, false);
        hg_tb_flush_all(cpu->tbs);
    }
    hg_bus_clear_dirty(r->bus);
}

static void run_test(Runner *r, Test *t)
{
    HgCpu *cpu = r->cpu;
    r->failed_current = false;
    r->fail_lines = 0;

    /* Light reset from the snapshot: everything before the TLB (architectural state)
     * and after it (execution bookkeeping); the TLB and block cache are handled page
     * by page in cleanup(). */
    memcpy(cpu, r->snapshot, offsetof(HgCpu, tlb));
    memcpy(&cpu->tlb_mode, &r->snapshot->tlb_mode, sizeof(HgCpu) - offsetof(HgCpu, tlb_mode));

    for (size_t i = 0; i < t->init_ram.n; i++) {
        const RamByte *b = &t->init_ram.v[i];
        if (b->addr >= RAM_SIZE)
            continue;
        touch_page(r, b->addr);
        r->ram[b->addr] = b->val;
        r->expect[b->addr] = b->val;
    }
    for (size_t i = 0; i < t->fin_ram.n; i++) {
        const RamByte *b = &t->fin_ram.v[i];
        if (b->addr >= RAM_SIZE) {
            fail(r, t, "ram[0x%x] is outside the 16 MiB RAM", b->addr);
            continue;
        }
        touch_page(r, b->addr);
        r->expect[b->addr] = b->val;
    }
    for (size_t i = 0; i < r->n_pages; i++)
        hg_tb_invalidate_phys(cpu->tbs, r->pages[i] << 12, 4096);

    load_state(r, t);
    uint32_t start[RG_COUNT], end[RG_COUNT];
    read_regs(cpu, start);
    bool paging = cpu->cr0 & CR0_PG;

    bool hung = false;
    if (sigsetjmp(watchdog_jmp, 0)) {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGALRM);
        sigprocmask(SIG_UNBLOCK, &set, NULL);
        hung = true;
    } else {
        watchdog_armed = 1;
        while (!cpu->halted && cpu->icount < INSN_CAP) {
            if (hg_cpu_run(cpu, INSN_CAP - (int64_t)cpu->icount) == HG_EXIT_SHUTDOWN)
                break;
        }
    }
    watchdog_armed = 0;
    watchdog_progress++;

    if (hung) {
        fail(r, t, "the CPU looped without retiring instructions (stopped by the watchdog)");
        cpu->fault_jmp = NULL;
        cpu->cur_tb = NULL;
        cpu->cur_op = NULL;
        hg_cpu_reset(cpu);
        cleanup(r, true);
        r->failed++;
        return;
    } else if (!cpu->halted) {
        fail(r, t, "no HLT after %llu instructions (eip 0x%x)", (unsigned long long)cpu->icount,
             cpu->eip);
    }

    read_regs(cpu, end);
    for (int i = 0; i < RG_COUNT; i++) {
        uint32_t want = (t->fin.set & (1u << i)) ? t->fin.val[i] : start[i];
        uint32_t diff = want ^ end[i];
        if (i == RG_EFLAGS)
            diff &= ~r->ignore_flags;
        if (diff)
            fail(r, t, "%s expected 0x%x actual 0x%x", reg_name(&t->init, &t->fin, i), want,
                 end[i]);
    }

    /* Pages the CPU mapped for writing join the pages the test listed. */
    const uint8_t *dirty = hg_bus_dirty_map(r->bus);
    for (uint32_t p = 0; p < PAGE_COUNT; p += 8) {
        uint64_t w;
        memcpy(&w, dirty + p, 8);
        if (!w)
            continue;
        for (uint32_t k = p; k < p + 8; k++)
            if (dirty[k])
                touch_page(r, k << 12);
    }
    for (size_t i = 0; i < r->n_pages; i++) {
        uint32_t base = r->pages[i] << 12;
        if (!memcmp(r->ram + base, r->expect + base, 4096))
            continue;
        for (uint32_t a = base; a < base + 4096; a++)
            if (r->ram[a] != r->expect[a])
                fail(r, t, "ram[0x%x] expected 0x%02x actual 0x%02x", a, r->expect[a], r->ram[a]);
    }
    cleanup(r, paging);

    if (r->failed_current)
        r->failed++;
    else
        r->passed++;
}

/* ---- files ---- */

static char *read_file(const char *path, size_t *len)
{
    gzFile f = gzopen(path, "rb");
    if (!f)
        return NULL;
    gzbuffer(f, 1 << 20);
    size_t cap = 1 << 22, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (cap - n < (1u << 20)) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
        if (!buf)
            abort();
        int got = gzread(f, buf + n, (unsigned)(cap - n));
        if (got < 0) {
            free(buf);
            gzclose(f);
            return NULL;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    gzclose(f);
    *len = n;
    return buf;
}

static bool run_file(Runner *r, const char *path, Test *t)
{
    size_t len;
    char *buf = read_file(path, &len);
    if (!buf) {
        fprintf(stderr, "%s: cannot read\n", path);
        return false;
    }
    r->file = path;
    Json j = {buf, buf, buf + len, path, false};
    expect(&j, '[');
    if (!eat(&j, ']')) {
        do {
            parse_test(&j, t);
            if (j.error)
                break;
            if (r->filter && !strstr(t->name, r->filter)) {
                r->skipped++;
                continue;
            }
            run_test(r, t);
        } while (eat(&j, ','));
        expect(&j, ']');
    }
    free(buf);
    return !j.error;
}

static void usage(void)
{
    fprintf(stderr, "usage: hangar-cputest [--ignore-flags MASK] [--filter TEXT] [--quiet] "
                    "FILE...\n");
    exit(2);
}

int main(int argc, char **argv)
{
    Runner r = {0};
    int first_file = argc;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--ignore-flags") && i + 1 < argc) {
            char *endp;
            r.ignore_flags = (uint32_t)strtoul(argv[++i], &endp, 0);
            if (*endp)
                usage();
        } else if (!strcmp(argv[i], "--filter") && i + 1 < argc) {
            r.filter = argv[++i];
        } else if (!strcmp(argv[i], "--quiet")) {
            r.quiet = true;
        } else if (!strcmp(argv[i], "--") || argv[i][0] != '-') {
            first_file = i + (argv[i][0] == '-');
            break;
        } else {
            usage();
        }
    }
    if (first_file >= argc)
        usage();

    r.bus = hg_bus_new(RAM_SIZE);
    r.cpu = hg_cpu_new(r.bus, NULL);
    r.ram = hg_bus_ram(r.bus);
    r.expect = calloc(1, RAM_SIZE);
    r.touched = calloc(1, PAGE_COUNT);
    r.pages = calloc(PAGE_COUNT, sizeof(uint32_t));
    r.snapshot = malloc(sizeof(HgCpu));
    if (!r.expect || !r.touched || !r.pages || !r.snapshot)
        abort();
    hg_cpu_reset(r.cpu);
    memcpy(r.snapshot, r.cpu, sizeof(HgCpu));
    hg_bus_clear_dirty(r.bus);

    struct sigaction sa = {0};
    sa.sa_handler = watchdog_tick;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 10000}, {0, 10000}};
    setitimer(ITIMER_REAL, &it, NULL);

    Test *t = calloc(1, sizeof(Test));
    bool ok = true;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = first_file; i < argc; i++)
        ok &= run_file(&r, argv[i], t);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;

    printf("%lu passed, %lu failed\n", r.passed, r.failed);
    if (getenv("HANGAR_CPUTEST_TIMING"))
        fprintf(stderr, "%.2f s, %.0f tests/s\n", secs, (double)(r.passed + r.failed) / secs);
    free(t->init_ram.v);
    free(t->fin_ram.v);
    free(t);
    hg_cpu_free(r.cpu);
    hg_bus_free(r.bus);
    free(r.expect);
    free(r.touched);
    free(r.pages);
    free(r.snapshot);
    return ok && r.failed == 0 ? 0 : 1;
}
