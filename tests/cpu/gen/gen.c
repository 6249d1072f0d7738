/* CPU test-vector generator: runs every user-level instruction form of the instruction
 * table (engine/cpu/insn*.def) on this machine's own processor with random and edge
 * operands and writes what it did as test vectors (docs/testing.md, "CPU test
 * vectors"), in real mode (16-bit code) and in flat 32-bit protected mode.
 *
 * Built with gcc -m32 so the host runs genuine 32-bit code: INC/DEC 40-4F, PUSH/POP
 * widths and the rest behave as on an i686. Guest physical memory from 4 KiB up to
 * 16 MiB is mirrored at the same host addresses (one fixed mapping), so registers that
 * point at memory (ESP, ESI, EDI, EBX for XLAT, EBP for ENTER/LEAVE) hold the same
 * numbers on the host and in the guest. ModRM memory operands are rewritten to an
 * absolute 32-bit address, which also gives 16-bit addressing forms and real-mode
 * segment bases their host equivalent. Faults come back as signals whose trap number
 * is the exception vector.
 *
 * Near transfers to computed addresses (CALL, RET, JMP r/m) land on a stub placed in
 * the mirror at the target, where the guest has its HLT.
 *
 * The generator is table-driven: rows are classified by their operand codes and I_*
 * flags (plus a few mnemonics with implicit memory: the stack, XLAT, ENTER/LEAVE), so
 * new rows get vectors when it is run again. Rows it cannot run on the host are listed
 * with the reason. Random choices are seeded per form and mode, so a rerun gives the
 * same files and a new row leaves the others unchanged.
 *
 * Usage: gen OUTDIR [COUNT]   (run by gen-vectors.sh). It writes, per form and mode
 * (real, pm32), OUTDIR/<class>/<form>_<mode>.json.gz with the tests that complete and
 * <form>_<mode>-exc.json.gz with those that raise an exception, and OUTDIR/meson.build
 * with one test per class, mode and undefined-flags mask (I_UNDEF of the row, passed as
 * --ignore-flags).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <ucontext.h>

#include "insn.h"

#if !defined(__i386__)
#error "build the generator with gcc -m32"
#endif

typedef struct Row {
    const char *name;
    int map, opc, ext;
    uint8_t ops[3];
    uint32_t flags;
    const char *impl;
    const char *file;
} Row;

static const Row rows[] = {
#define X(name, map, opc, ext, o1, o2, o3, impl, flags)                                            \
    {#name, map, opc, ext, {OPD_##o1, OPD_##o2, OPD_##o3}, flags, #impl, __FILE__},
#include "insn.def"
#undef X
};
enum { N_ROWS = sizeof(rows) / sizeof(rows[0]) };

/* ---- random numbers (xorshift, fixed seed: regenerating gives the same files) ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}
static uint32_t rnd_range(uint32_t lo, uint32_t hi) /* inclusive */
{
    return lo + rnd() % (hi - lo + 1);
}

static const uint32_t edges[] = {
    0,    1,           2,           0xffffffffu, 0x80000000u, 0x7fffffffu, 0x80, 0x7f,
    0xff, 0x8000,      0x7fff,      0xffff,      0x100,       0xfffffffeu, 0x7,  0x8,
    0x9,  0xf,         0x10,        0x11,        0x1f,        0x20,        0x21, 0x3f,
    0x40, 0xffffff80u, 0xffff8000u, 0x55555555u, 0xaaaaaaaau, 0x01010101u,
};

/* A data value: often an edge value (whole, or in the low byte/word), else random. */
static uint32_t rnd_value(void)
{
    uint32_t r = rnd() % 7;
    if (r == 0 || r == 3)
        return edges[rnd() % (sizeof(edges) / sizeof(edges[0]))];
    if (r == 1)
        return (rnd() & 0xffffff00u) | (edges[rnd() % (sizeof(edges) / sizeof(edges[0]))] & 0xff);
    if (r == 2)
        return rnd() % 64;
    return rnd();
}

/* ---- guest memory mirror ---- */

enum { MIRROR_LO = 0x1000, RAM_TOP = 16 << 20 };

/* Byte ranges a test uses, to keep code, data, stack and tables apart. */
typedef struct Range {
    uint32_t lo, hi;   /* [lo, hi): compared after the host run */
    uint32_t flo, fhi; /* the part given random initial contents */
} Range;

typedef struct Test {
    Range used[16];
    int n_used;
    Range watch[8];
    int n_watch;
    /* initial RAM bytes beyond the mirror-compared regions (code, tables) */
    uint32_t ram_addr[512];
    uint8_t ram_val[512];
    int n_ram;
} Test;

static bool overlaps(const Test *t, uint32_t lo, uint32_t hi)
{
    for (int i = 0; i < t->n_used; i++)
        if (lo < t->used[i].hi && t->used[i].lo < hi)
            return true;
    return false;
}
static bool claim(Test *t, uint32_t lo, uint32_t hi)
{
    if (lo < MIRROR_LO || hi > RAM_TOP || lo >= hi || overlaps(t, lo, hi) || t->n_used >= 16)
        return false;
    t->used[t->n_used++] = (Range){lo, hi, lo, lo};
    return true;
}
static void ram_set(Test *t, uint32_t a, uint8_t v)
{
    if (!v && a < 0x1000)
        return; /* table bytes: unlisted RAM is zero anyway */
    t->ram_addr[t->n_ram] = a;
    t->ram_val[t->n_ram++] = v;
}

/* ---- host execution ---- */

enum { H_EAX, H_ECX, H_EDX, H_EBX, H_ESP, H_EBP, H_ESI, H_EDI, H_FLAGS, H_N };
static uint32_t h_in[H_N], h_out[H_N];
static uint32_t h_save_esp;
static uint8_t h_taken;
static uint32_t h_epi; /* host epilogue address, for the landing stubs of computed targets */
static uint8_t *code_page;
static uint8_t *mirror; /* guest physical address 0 on the host (only >= MIRROR_LO mapped) */
static uint8_t *insn_addr;
static sigjmp_buf fault_jmp;
static volatile int fault_vector;
static volatile uint32_t fault_eip;

static void on_fault(int sig, siginfo_t *si, void *uc_)
{
    (void)si;
    ucontext_t *uc = uc_;
    fault_vector = (int)uc->uc_mcontext.gregs[REG_TRAPNO];
    if (sig == SIGFPE && fault_vector != 0)
        fault_vector = 0;
    if (sig == SIGILL)
        fault_vector = 6;
    fault_eip = (uint32_t)uc->uc_mcontext.gregs[REG_EIP];
    siglongjmp(fault_jmp, 1);
}

static uint8_t *emit32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
    return p + 4;
}

/* Runs the host encoding hbytes; for branches rel_at is the offset of the displacement
 * (rel_size bytes) to point at the "taken" landing (or at rel_abs when nonzero). Returns
 * the exception vector, -1 without one, -2 for a fault outside the instruction. */
static int host_run(const uint8_t *hbytes, int hlen, int rel_at, int rel_size, uint32_t rel_abs)
{
    static const uint8_t load_op[8] = {0, 0x0d, 0x15, 0x1d, 0, 0x2d, 0x35, 0x3d};
    uint8_t *p = code_page;
    *p++ = 0x60; /* pushad */
    *p++ = 0x9c; /* pushfd */
    *p++ = 0x89;
    *p++ = 0x25;
    p = emit32(p, (uint32_t)&h_save_esp);
    *p++ = 0xff;
    *p++ = 0x35;
    p = emit32(p, (uint32_t)&h_in[H_FLAGS]); /* push [flags] */
    *p++ = 0x9d;                             /* popfd */
    *p++ = 0xa1;
    p = emit32(p, (uint32_t)&h_in[H_EAX]);
    for (int r = 1; r < 8; r++) {
        if (r == H_ESP)
            continue;
        *p++ = 0x8b;
        *p++ = load_op[r];
        p = emit32(p, (uint32_t)&h_in[r]);
    }
    *p++ = 0x8b;
    *p++ = 0x25;
    p = emit32(p, (uint32_t)&h_in[H_ESP]);
    insn_addr = p;
    memcpy(p, hbytes, (size_t)hlen);
    if (rel_at >= 0) {
        /* to the "taken" landing, or to an absolute target (near CALL) */
        uint32_t rel = rel_abs ? rel_abs - (uint32_t)(p + hlen) : 12;
        memcpy(p + rel_at, &rel, (size_t)rel_size);
    }
    p += hlen;
    *p++ = 0xc6;
    *p++ = 0x05;
    p = emit32(p, (uint32_t)&h_taken);
    *p++ = 0;
    *p++ = 0xe9;
    p = emit32(p, 7);
    *p++ = 0xc6;
    *p++ = 0x05;
    p = emit32(p, (uint32_t)&h_taken);
    *p++ = 1;
    h_epi = (uint32_t)p;
    *p++ = 0xa3;
    p = emit32(p, (uint32_t)&h_out[H_EAX]);
    for (int r = 1; r < 8; r++) {
        *p++ = 0x89;
        *p++ = r == H_ESP ? 0x25 : load_op[r];
        p = emit32(p, (uint32_t)&h_out[r]);
    }
    *p++ = 0x8b;
    *p++ = 0x25;
    p = emit32(p, (uint32_t)&h_save_esp);
    *p++ = 0x9c; /* pushfd */
    *p++ = 0x8f;
    *p++ = 0x05;
    p = emit32(p, (uint32_t)&h_out[H_FLAGS]);
    *p++ = 0x9d; /* popfd */
    *p++ = 0x61; /* popad */
    *p++ = 0xc3;

    fault_vector = -1;
    if (sigsetjmp(fault_jmp, 1) == 0) {
        ((void (*)(void))code_page)();
        return -1;
    }
    if (fault_eip != (uint32_t)insn_addr)
        return -2; /* not the instruction under test: a generator problem */
    return fault_vector;
}

static void clear_watch(const Test *t)
{
    for (int w = 0; w < t->n_watch; w++)
        memset(mirror + t->watch[w].lo, 0, t->watch[w].hi - t->watch[w].lo);
}

/* ---- row classification ---- */

static bool op_modrm(uint8_t o)
{
    switch (o) {
    case OPD_Eb:
    case OPD_Ew:
    case OPD_Ed:
    case OPD_Ev:
    case OPD_Gb:
    case OPD_Gw:
    case OPD_Gd:
    case OPD_Gv:
    case OPD_M:
    case OPD_Mb:
    case OPD_Mw:
    case OPD_Md:
    case OPD_Mq:
    case OPD_Mp:
    case OPD_Ms:
    case OPD_Ma:
    case OPD_Rd:
    case OPD_Sw:
    case OPD_Cd:
    case OPD_Dd:
    case OPD_Pq:
    case OPD_Qq:
    case OPD_Qd:
    case OPD_Nq:
    case OPD_FPU: return true;
    default: return false;
    }
}

static bool name_is(const Row *r, const char *const *list)
{
    for (; *list; list++)
        if (!strcmp(r->name, *list))
            return true;
    return false;
}

static const char *const stack_names[] = {"PUSH",  "POP",   "PUSHA", "POPA", "PUSHF", "POPF",
                                          "ENTER", "LEAVE", "CALL",  "RET",  NULL};
static const char *const frame_names[] = {"ENTER", "LEAVE", NULL};
static const char *const xlat_names[] = {"XLAT", NULL};
/* Transfers to a computed or pushed address: the host would jump into its own code. */
static const char *const far_names[] = {"IRET",  "INT",  "INT3", "INTO", "INT1",
                                        "CALLF", "RETF", "JMPF", NULL};

/* Near transfers to a computed address (register, memory, stack or a CALL's
 * displacement): the target gets a HLT in the guest and, at the same number in the
 * host's mirror, a landing stub that jumps back to the epilogue. */
static bool is_computed(const Row *r)
{
    if (!strcmp(r->name, "CALL") || !strcmp(r->name, "RET"))
        return true;
    if (!strcmp(r->name, "JMP"))
        for (int i = 0; i < 3; i++)
            if (r->ops[i] >= OPD_Eb && r->ops[i] <= OPD_Ev)
                return true;
    return false;
}

/* User-level instructions whose result depends on state the host does not let user
 * code set or that differs between host and guest (IF, IOPL, descriptor tables, the
 * time stamp counter, I/O ports). Normally flagged I_SYSTEM/I_NOVEC in the table; the
 * list is a guard for rows added without the flag. */
static const char *const host_state_names[] = {
    "PUSHF", "POPF",  "CLI",   "STI",   "IN",   "OUT",  "INS", "OUTS", "CPUID",
    "RDTSC", "RDPMC", "RDMSR", "WRMSR", "ARPL", "LAR",  "LSL", "VERR", "VERW",
    "SGDT",  "SIDT",  "SLDT",  "STR",   "SMSW", "LOCK", NULL};

/* Why a row cannot be run on the host, or NULL. */
static const char *unsupported(const Row *r)
{
    if (name_is(r, host_state_names))
        return "depends on host state (flags, tables, ports or counters)";
    if (r->flags & I_SYSTEM)
        return "system instruction";
    if (r->flags & I_NOVEC)
        return "marked I_NOVEC";
    if (r->flags & I_FPU)
        return "x87/MMX state";
    if (name_is(r, far_names))
        return "transfer through a pushed or computed address";
    bool j = false;
    for (int i = 0; i < 3; i++) {
        switch (r->ops[i]) {
        case OPD_DX: return "I/O port operand";
        case OPD_Sw:
        case OPD_sES:
        case OPD_sCS:
        case OPD_sSS:
        case OPD_sDS:
        case OPD_sFS:
        case OPD_sGS: return "segment register operand";
        case OPD_Cd:
        case OPD_Dd:
        case OPD_Rd: return "control/debug register";
        case OPD_Ap:
        case OPD_Mp:
        case OPD_Ms: return "far pointer or descriptor table operand";
        case OPD_Pq:
        case OPD_Qq:
        case OPD_Qd:
        case OPD_Nq:
        case OPD_FPU: return "x87/MMX";
        case OPD_Jb:
        case OPD_Jv: j = true; break;
        default: break;
        }
    }
    if ((r->flags & I_BRANCH) && !j && !is_computed(r))
        return "branch to a register or memory target";
    return NULL;
}

/* Whether the operand size matters (16/32-bit variants). */
static bool has_vsize(const Row *r)
{
    bool any = false;
    for (int i = 0; i < 3; i++) {
        switch (r->ops[i]) {
        case OPD___: break;
        case OPD_Eb:
        case OPD_Gb:
        case OPD_Mb:
        case OPD_Ib:
        case OPD_AL:
        case OPD_CL:
        case OPD_Zb:
        case OPD_Ob:
        case OPD_Xb:
        case OPD_Yb:
        case OPD_ONE:
        case OPD_Jb: any = true; break;
        default: return true;
        }
    }
    /* Rows without sized operands (CBW/CWDE, PUSHA, LEAVE...) depend on it; byte rows
     * do not. */
    if (!any)
        return true;
    return !strcmp(r->name, "LOOP") || !strcmp(r->name, "LOOPE") || !strcmp(r->name, "LOOPNE") ||
           !strcmp(r->name, "JCXZ") || r->ops[0] == OPD_Jb;
}

/* ---- one test ---- */

typedef struct Gen {
    const Row *row;
    const char *form;
    bool pm;       /* flat 32-bit protected mode, else real mode */
    FILE *out;     /* tests that complete */
    FILE *out_exc; /* tests that raise an exception: a file of their own, so a CPU
                    * without (protected-mode) delivery fails them and nothing else */
    unsigned count;
    unsigned n_exc;
    bool first, first_exc;
} Gen;

enum { FL_ARITH_DF = FL_ARITH | FL_DF };

static void put_regs(FILE *f, const uint32_t *g, const uint32_t *seg, uint32_t eip, uint32_t eflags,
                     const uint32_t *ref, const uint32_t *refseg, uint32_t refflags, bool pm,
                     bool initial)
{
    static const char *const rn[8] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"};
    static const char *const sn[6] = {"es", "cs", "ss", "ds", "fs", "gs"};
    bool first = true;
#define SEP (first ? (first = false, "") : ", ")
    for (int i = 0; i < 8; i++)
        if (initial || g[i] != ref[i])
            fprintf(f, "%s\"%s\": %u", SEP, rn[i], g[i]);
    for (int i = 0; i < 6; i++)
        if (initial || seg[i] != refseg[i])
            fprintf(f, "%s\"%s\": %u", SEP, sn[i], seg[i]);
    fprintf(f, "%s\"eip\": %u", SEP, eip);
    if (initial || eflags != refflags)
        fprintf(f, "%s\"eflags\": %u", SEP, eflags);
    if (initial && pm)
        fprintf(f,
                ", \"cr0\": 1, \"gdtr_base\": %u, \"gdtr_limit\": 23, \"idtr_base\": 0, "
                "\"idtr_limit\": 2047",
                0x800u);
#undef SEP
}

/* Emits one test; returns false when the random choice did not work out (retry). */
static bool gen_one(Gen *g, unsigned idx)
{
    const Row *r = g->row;
    Test t = {0};
    bool pm = g->pm;
    bool vs = has_vsize(r);
    int osz = vs ? ((idx & 1) ? 2 : 4) : (pm ? 4 : 2);
    int asz = (rnd() % 3 == 0) ? (pm ? 2 : 4) : (pm ? 4 : 2);
    bool modrm = r->ext >= 0;
    int memop = -1; /* operand index of a memory operand */
    bool lea_like = false, want_mem = false;
    for (int i = 0; i < 3; i++)
        if (op_modrm(r->ops[i]))
            modrm = true;
    if (r->flags & I_MEMONLY)
        want_mem = true;
    else if (!(r->flags & I_REGONLY))
        want_mem = rnd() & 1;
    for (int i = 0; i < 3; i++) {
        uint8_t o = r->ops[i];
        if (o == OPD_M)
            lea_like = true;
        if ((o >= OPD_Eb && o <= OPD_Ev) || (o >= OPD_M && o <= OPD_Ma))
            memop = i;
    }
    if (memop < 0)
        want_mem = false;

    uint32_t regs[8], seg[6];
    for (int i = 0; i < 8; i++)
        regs[i] = rnd_value();
    uint32_t flags = FL_FIXED1 | (rnd() & (FL_ARITH | FL_DF | FL_IF));
    /* Random dividends mostly overflow: half of the divisions get a small high part
     * (EDX/DX, and AH for the byte form), IDIV often a sign extension. */
    if ((!strcmp(r->name, "DIV") || !strcmp(r->name, "IDIV")) && rnd() % 2) {
        bool sext = !strcmp(r->name, "IDIV") && rnd() % 2;
        regs[R_EDX] = sext ? (uint32_t)((int32_t)regs[R_EAX] >> 31) : rnd() % 4;
        regs[R_EAX] = (regs[R_EAX] & 0xffff00ffu) |
                      (sext ? (uint32_t)((int8_t)regs[R_EAX] >> 7) & 0xff00u : (rnd() % 4) << 8);
    }
    bool is_stack = name_is(r, stack_names), is_frame = name_is(r, frame_names);
    bool is_xlat = name_is(r, xlat_names), is_branch = false;
    bool computed = is_computed(r), is_call = !strcmp(r->name, "CALL");
    bool ptr_reg[8] = {0};
    bool ptr_seg[6] = {0};
    bool strx = false, stry = false;
    for (int i = 0; i < 3; i++) {
        if (r->ops[i] == OPD_Xb || r->ops[i] == OPD_Xv)
            strx = true;
        if (r->ops[i] == OPD_Yb || r->ops[i] == OPD_Yv)
            stry = true;
        if (r->ops[i] == OPD_Jb || r->ops[i] == OPD_Jv)
            is_branch = true;
    }

    /* Code location. */
    uint32_t cs, eip, code_phys;
    if (pm) {
        cs = 0x08;
        eip = rnd_range(0x10000, 0xf00000);
        code_phys = eip;
        for (int i = 0; i < 6; i++)
            seg[i] = 0x10;
        seg[S_CS] = cs;
        claim(&t, 0x800, 0x818); /* GDT */
    } else {
        cs = rnd_range(0x0100, 0xf000);
        eip = rnd_range(0, 0xffd0);
        code_phys = cs * 16 + eip;
        for (int i = 0; i < 6; i++)
            seg[i] = rnd() & 0xffff;
        seg[S_CS] = cs;
    }
    claim(&t, 0, 0x1000); /* IVT/IDT and handlers */
    if (!claim(&t, code_phys, code_phys + 24))
        return false;

    /* Registers that point at memory. */
    int asz_ptr = asz;
    if (is_stack) {
        ptr_reg[R_ESP] = true;
        ptr_seg[S_SS] = true;
        asz_ptr = pm ? 4 : 2;
    }
    if (is_frame)
        ptr_reg[R_EBP] = true;
    if (is_xlat) {
        ptr_reg[R_EBX] = true;
        ptr_seg[S_DS] = true;
    }
    if (strx) {
        ptr_reg[R_ESI] = true;
        ptr_seg[S_DS] = true;
    }
    if (stry) {
        ptr_reg[R_EDI] = true;
        ptr_seg[S_ES] = true;
    }
    bool rep = (r->flags & I_STRING) && (rnd() & 1);
    if (r->flags & I_STRING) {
        regs[R_ECX] = asz == 2 ? ((regs[R_ECX] & 0xffff0000u) | (rnd() % 17)) : rnd() % 17;
    }
    for (int i = 0; i < 8; i++) {
        if (!ptr_reg[i])
            continue;
        uint32_t lo = 0x1000 + 0x300, hi = (asz_ptr == 2 || !pm) ? 0xfc00 : 0xff0000;
        uint32_t v = rnd_range(lo, hi) & ~(i == R_ESP ? 1u : 0u);
        if (!claim(&t, v - 0x200, v + 0x200))
            return false;
        /* Random contents where the instruction reads: around the pointer, or for
         * XLAT around the byte AL selects. */
        uint32_t at = i == R_EBX && is_xlat ? v + (regs[R_EAX] & 0xff) : v;
        t.watch[t.n_watch++] = (Range){v - 0x200, v + 0x200, at - 0x10, at + 0x20};
        regs[i] = v;
    }
    if (!pm)
        for (int i = 0; i < 6; i++)
            if (ptr_seg[i])
                seg[i] = 0;

    /* Computed target: a host landing stub at T, a HLT at CS:T in the guest. */
    uint32_t T = 0;
    uint32_t preset_addr[2], preset_val[2];
    int n_preset = 0;
    if (computed) {
        T = (osz == 2 || !pm) ? rnd_range(0x1000, 0xffe0) : rnd_range(0x10000, 0xf00000);
        if (!claim(&t, T, T + 16))
            return false;
        uint32_t tp = pm ? T : cs * 16 + T;
        if (tp != T && !claim(&t, tp, tp + 1))
            return false;
        ram_set(&t, tp, 0xf4);
        if (!strcmp(r->name, "RET")) {
            preset_addr[n_preset] = regs[R_ESP];
            preset_val[n_preset++] = T;
        }
    }
    /* In protected mode an exception pushes onto ESP: keep it a usable stack. */
    if (pm && !ptr_reg[R_ESP]) {
        uint32_t v = rnd_range(0x2000, 0xff0000) & ~3u;
        if (!claim(&t, v - 16, v))
            return false;
        regs[R_ESP] = v;
    }

    /* Encoding. */
    uint8_t gb[32], hb[32];
    int gl = 0, hl = 0;
    int seg_ovr = -1;
    bool o16 = osz == 2, a16 = asz == 2;
    if (o16 != !pm)
        gb[gl++] = 0x66;
    if (a16 != !pm)
        gb[gl++] = 0x67;
    if (want_mem && !lea_like && rnd() % 4 == 0) {
        static const uint8_t pfx[5] = {0x26, 0x36, 0x3e, 0x64, 0x65};
        static const uint8_t pseg[5] = {S_ES, S_SS, S_DS, S_FS, S_GS};
        int k = (int)(rnd() % 5);
        gb[gl++] = pfx[k];
        seg_ovr = pseg[k];
    }
    if (rep)
        gb[gl++] = (rnd() & 1) ? 0xf3 : 0xf2;
    /* host prefixes: operand size (not for branches: the host only decides taken or
     * not), address size where the host uses the guest's addressing */
    if (o16 && (!is_branch || computed))
        hb[hl++] = 0x66;
    bool host_a16 = a16 && (lea_like || strx || stry || is_xlat || is_branch);
    if (host_a16)
        hb[hl++] = 0x67;
    if (rep)
        hb[hl++] = gb[gl - 1];
    /* LOCK: on lockable forms (a register destination gives #UD), and now and then on
     * others, which must raise #UD. Not on transfers: the host would leave its code. */
    if (!computed && ((r->flags & I_LOCK) ? rnd() % 8 == 0 : rnd() % 64 == 0)) {
        gb[gl++] = 0xf0;
        hb[hl++] = 0xf0;
    }
    int k = 0;
    if (r->flags & I_PLUSR)
        k = (int)(rnd() % 8);
    if (r->map == 1) {
        gb[gl++] = 0x0f;
        hb[hl++] = 0x0f;
    }
    gb[gl++] = (uint8_t)(r->opc + k);
    hb[hl++] = (uint8_t)(r->opc + k);

    if (modrm) {
        int reg = r->ext >= 0 ? r->ext : (int)(rnd() % 8);
        /* BT/BTS/BTR/BTC with a register bit offset address memory around the operand:
         * keep the offset within the watched bytes. */
        bool bit_offset = want_mem && !strncmp(r->name, "BT", 2) && r->ops[1] == OPD_Gv;
        if (bit_offset) {
            uint32_t v = (uint32_t)((int32_t)(rnd() % 256) - 128);
            regs[reg] = osz == 2 ? (regs[reg] & 0xffff0000u) | (v & 0xffff) : v;
        }
        if (!want_mem) {
            int rm = (int)(rnd() % 8);
            if (computed) {
                if (ptr_reg[rm])
                    return false;
                regs[rm] = osz == 2 ? (regs[rm] & 0xffff0000u) | T : T;
            }
            uint8_t m = (uint8_t)(0xc0 | reg << 3 | rm);
            gb[gl++] = m;
            hb[hl++] = m;
        } else {
            int mod = (int)(rnd() % 3), rm = (int)(rnd() % 8);
            uint8_t sib = 0;
            bool has_sib = !a16 && rm == 4;
            if (has_sib)
                sib = (uint8_t)rnd();
            int base = R_NONE, index = R_NONE, scale = 0, dsz = 0;
            int def_seg = S_DS;
            if (a16) {
                static const uint8_t b16[8] = {R_EBX, R_EBX, R_EBP, R_EBP,
                                               R_ESI, R_EDI, R_EBP, R_EBX};
                static const uint8_t i16[8] = {R_ESI,  R_EDI,  R_ESI,  R_EDI,
                                               R_NONE, R_NONE, R_NONE, R_NONE};
                if (mod == 0 && rm == 6) {
                    dsz = 2;
                } else {
                    base = b16[rm];
                    index = i16[rm];
                    if (rm == 2 || rm == 3 || rm == 6)
                        def_seg = S_SS;
                    dsz = mod == 1 ? 1 : mod == 2 ? 2 : 0;
                }
            } else if (has_sib) {
                scale = sib >> 6;
                index = ((sib >> 3) & 7) == 4 ? R_NONE : (sib >> 3) & 7;
                if ((sib & 7) == 5 && mod == 0) {
                    dsz = 4;
                } else {
                    base = sib & 7;
                    if (base == R_ESP || base == R_EBP)
                        def_seg = S_SS;
                }
                if (mod)
                    dsz = mod == 1 ? 1 : 4;
            } else if (rm == 5 && mod == 0) {
                dsz = 4;
            } else {
                base = rm;
                if (rm == R_EBP)
                    def_seg = S_SS;
                dsz = mod == 1 ? 1 : mod == 2 ? 4 : 0;
            }
            if ((base != R_NONE && ptr_reg[base]) || (index != R_NONE && ptr_reg[index]))
                return false;
            int s = seg_ovr >= 0 ? seg_ovr : def_seg;
            if (!pm && ptr_seg[s] && !lea_like)
                return false;
            uint32_t segbase = pm ? 0 : seg[s] * 16;
            uint32_t off_max = pm && !a16 ? 0xfff000 : 0xfff0;
            uint32_t target = rnd_range(0, off_max);
            uint32_t phys = segbase + target;
            if (!lea_like) {
                if (!claim(&t, phys - 32, phys + 48))
                    return false;
                t.watch[t.n_watch++] = (Range){phys - 32, phys + 48, phys, phys + 8};
            }

            uint32_t disp = dsz == 1 ? (uint32_t)(int8_t)rnd() : rnd();
            if (dsz == 2)
                disp &= 0xffff;
            uint32_t amask = a16 ? 0xffff : 0xffffffffu;
            uint32_t idxv = index != R_NONE ? regs[index] << scale : 0;
            uint32_t basev = base != R_NONE ? regs[base] : 0;
            if (dsz == 0)
                disp = 0;
            if ((dsz == 2 && a16) || dsz == 4) {
                /* In protected mode ESP stays the valid stack an exception pushes on. */
                if (base == R_NONE || (pm && base == R_ESP) || rnd() & 1) {
                    disp = (target - basev - idxv) & amask;
                } else {
                    goto adjust_base;
                }
            } else {
            adjust_base:
                if (base != R_NONE && base != index && !(pm && base == R_ESP)) {
                    uint32_t v = (target - disp - idxv) & amask;
                    regs[base] = a16 ? (regs[base] & 0xffff0000u) | v : v;
                } else if (index != R_NONE && base != index && scale == 0) {
                    uint32_t v = (target - disp - basev) & amask;
                    regs[index] = a16 ? (regs[index] & 0xffff0000u) | v : v;
                } else {
                    return false;
                }
            }
            idxv = index != R_NONE ? regs[index] << scale : 0;
            basev = base != R_NONE ? regs[base] : 0;
            if (((basev + idxv + disp) & amask) != target)
                return false;
            if (computed) {
                preset_addr[n_preset] = phys;
                preset_val[n_preset++] = T;
            }
            if (bit_offset) {
                int32_t bo = osz == 2 ? (int16_t)regs[reg] : (int32_t)regs[reg];
                if (bo < -128 || bo > 127)
                    return false;
            }
            gb[gl++] = (uint8_t)(mod << 6 | reg << 3 | rm);
            if (has_sib)
                gb[gl++] = sib;
            for (int i = 0; i < dsz; i++)
                gb[gl++] = (uint8_t)(disp >> (8 * i));
            if (lea_like) {
                memcpy(hb + hl, gb + gl - dsz - 1 - has_sib, (size_t)(dsz + 1 + has_sib));
                hl += dsz + 1 + has_sib;
            } else {
                hb[hl++] = (uint8_t)(reg << 3 | 5);
                uint8_t *q = emit32(hb + hl, phys);
                hl = (int)(q - hb);
            }
        }
    }

    /* Immediates, moffs and branch displacements. */
    int rel_at = -1, rel_size = 0;
    uint32_t last_imm = 0;
    uint32_t br_target = 0;
    for (int i = 0; i < 3; i++) {
        uint8_t o = r->ops[i];
        int n = 0;
        uint32_t v = rnd_value();
        switch (o) {
        case OPD_Ib:
        case OPD_IbS: n = 1; break;
        case OPD_Iw: n = 2; break;
        case OPD_Iv: n = osz; break;
        case OPD_Ob:
        case OPD_Ov: {
            int s = seg_ovr >= 0 ? seg_ovr : S_DS;
            uint32_t segbase = pm ? 0 : seg[s] * 16;
            uint32_t off = rnd_range(0, a16 ? 0xfff0 : (pm ? 0xfff000 : 0xfff0));
            uint32_t phys = segbase + off;
            if (!claim(&t, phys, phys + 8))
                return false;
            t.watch[t.n_watch++] = (Range){phys, phys + 8, phys, phys + 8};
            for (int b = 0; b < asz; b++)
                gb[gl++] = (uint8_t)(off >> (8 * b));
            hb[hl++] = 0;
            hl--;
            hl = (int)(emit32(hb + hl, phys) - hb);
            continue;
        }
        case OPD_Jb:
        case OPD_Jv: {
            n = o == OPD_Jb ? 1 : osz;
            int hn = o == OPD_Jb ? 1 : computed ? osz : 4;
            rel_at = hl;
            rel_size = hn;
            hl += hn;
            if (n == 4)
                v = (uint32_t)((int32_t)(rnd() % 0x100000) - 0x80000);
            if (n == 1)
                v = (uint32_t)(int8_t)v;
            else if (n == 2)
                v = (uint32_t)(int16_t)v;
            if (computed)
                v = T - (eip + (uint32_t)gl + (uint32_t)n);
            for (int b = 0; b < n; b++)
                gb[gl++] = (uint8_t)(v >> (8 * b));
            br_target = v; /* displacement; target computed below */
            continue;
        }
        default: continue;
        }
        for (int b = 0; b < n; b++) {
            gb[gl++] = (uint8_t)(v >> (8 * b));
            hb[hl++] = (uint8_t)(v >> (8 * b));
        }
        last_imm = v;
    }
    if (gl > 15)
        return false;
    /* SHLD/SHRD of a 16-bit operand by more than 16 leave the result undefined (SDM
     * Vol. 2): no vector for those counts. */
    if (o16 && (!strcmp(r->name, "SHLD") || !strcmp(r->name, "SHRD"))) {
        uint32_t cnt = (r->ops[2] == OPD_CL ? regs[R_ECX] : last_imm) & 31;
        if (cnt > 16)
            return false;
    }

    /* Branch targets get a HLT of their own. */
    uint32_t next_eip = eip + (uint32_t)gl;
    uint32_t taken_eip = 0;
    if (computed) {
        taken_eip = T;
    } else if (is_branch) {
        taken_eip = next_eip + br_target;
        if (osz == 2)
            taken_eip &= 0xffff;
        if (!pm && taken_eip > 0xffff)
            return false; /* beyond the CS limit: #GP, not host-testable */
        uint32_t tp = pm ? taken_eip : cs * 16 + taken_eip;
        if (tp != code_phys + (uint32_t)gl && !claim(&t, tp, tp + 1))
            return false;
        ram_set(&t, tp, 0xf4);
    }
    for (int i = 0; i < gl; i++)
        ram_set(&t, code_phys + (uint32_t)i, gb[i]);
    ram_set(&t, code_phys + (uint32_t)gl, 0xf4);

    /* Memory operand and pointer regions get random contents. */
    static uint8_t before[8][0x400];
    for (int w = 0; w < t.n_watch; w++) {
        Range *rg = &t.watch[w];
        for (uint32_t a = rg->flo; a < rg->fhi; a++)
            mirror[a] = (uint8_t)rnd_value();
    }
    for (int i = 0; i < n_preset; i++)
        for (int b = 0; b < osz; b++)
            mirror[preset_addr[i] + (uint32_t)b] = (uint8_t)(preset_val[i] >> (8 * b));
    for (int w = 0; w < t.n_watch; w++) {
        Range *rg = &t.watch[w];
        memcpy(before[w], mirror + rg->lo, rg->hi - rg->lo);
    }
    if (computed) {
        uint8_t *q = mirror + T;
        *q++ = 0xc6;
        *q++ = 0x05;
        q = emit32(q, (uint32_t)&h_taken);
        *q++ = 1;
        *q++ = 0xff;
        *q++ = 0x25;
        emit32(q, (uint32_t)&h_epi);
    }

    /* Run it. */
    for (int i = 0; i < 8; i++)
        h_in[i] = regs[i];
    h_in[H_FLAGS] = flags & (FL_ARITH | FL_DF | FL_FIXED1);
    h_taken = 0;
    int exc = host_run(hb, hl, rel_at, rel_size, computed ? T : 0);
    if (computed)
        memset(mirror + T, 0, 16);
    if (computed && exc < 0 && is_call) {
        /* The host pushed its own return address: the guest pushes next EIP. */
        uint32_t sp = h_out[H_ESP], want = (uint32_t)insn_addr + (uint32_t)hl, got = 0;
        memcpy(&got, mirror + sp, (size_t)osz);
        if (osz == 2)
            want &= 0xffff;
        if (got != want)
            exc = -2;
        uint32_t ret = eip + (uint32_t)gl;
        memcpy(mirror + sp, &ret, (size_t)osz);
    }
    if (exc == -2 || exc == 14 || exc == 13 || exc == 1 || exc == 3 ||
        (computed && exc < 0 && !h_taken)) {
        clear_watch(&t);
        return false;
    }

    uint32_t fregs[8], fseg[6], feip, fflags;
    memcpy(fseg, seg, sizeof(fseg));
    /* Final RAM: changed watched bytes, plus the exception frame. */
    static uint32_t fr_addr[8192];
    static uint8_t fr_val[8192];
    int n_fr = 0;
    if (exc < 0) {
        for (int i = 0; i < 8; i++)
            fregs[i] = h_out[i];
        /* A real-mode stack is 16-bit: ENTER's allocation and RET's release change SP
         * only (the host's 32-bit stack carried into the upper half). */
        if (!pm && (!strcmp(r->name, "ENTER") || !strcmp(r->name, "RET")))
            fregs[R_ESP] = (regs[R_ESP] & 0xffff0000u) | (h_out[H_ESP] & 0xffff);
        fflags = (flags & ~(uint32_t)FL_ARITH_DF) | (h_out[H_FLAGS] & FL_ARITH_DF);
        feip = (is_branch || computed) && h_taken ? taken_eip : next_eip;
        feip += 1; /* after the HLT */
        for (int w = 0; w < t.n_watch; w++) {
            Range *rg = &t.watch[w];
            for (uint32_t a = rg->lo; a < rg->hi; a++)
                if (mirror[a] != before[w][a - rg->lo]) {
                    fr_addr[n_fr] = a;
                    fr_val[n_fr++] = mirror[a];
                }
        }
    } else {
        /* Restore the watched bytes the faulting instruction may have half-written
         * (none should have been), then build the frame. */
        for (int w = 0; w < t.n_watch; w++)
            memcpy(mirror + t.watch[w].lo, before[w], t.watch[w].hi - t.watch[w].lo);
        memcpy(fregs, regs, sizeof(fregs));
        uint32_t handler = (pm ? 0x900u : 0x500u) + (uint32_t)exc;
        uint32_t frame[3];
        int fsz = pm ? 4 : 2;
        frame[0] = flags;
        frame[1] = cs;
        frame[2] = eip;
        uint32_t sp = regs[R_ESP];
        /* A real-mode frame straddling offset 0xffff is a stack fault the processor
         * cannot deliver (it shuts down): not what these vectors are about. */
        if (!pm && (sp & 0xffff) != 0 && (sp & 0xffff) < 6) {
            clear_watch(&t);
            return false;
        }
        uint32_t ssb = pm ? 0 : seg[S_SS] * 16;
        uint32_t spm = pm ? 0xffffffffu : 0xffff;
        for (int i = 0; i < 3; i++) {
            sp = (sp - (uint32_t)fsz) & spm;
            uint32_t v = frame[i];
            for (int b = 0; b < fsz; b++) {
                uint32_t a = ssb + ((sp + (uint32_t)b) & spm);
                /* The frame must land in the 16 MiB of the vector machine's RAM (an
                 * instruction that rewrote ESP can leave it anywhere). */
                if (a < 0x1000 || a >= 0x1000000u ||
                    (overlaps(&t, a, a + 1) && !(ptr_reg[R_ESP] || pm))) {
                    clear_watch(&t);
                    return false;
                }
                fr_addr[n_fr] = a;
                fr_val[n_fr++] = (uint8_t)(v >> (8 * b));
            }
        }
        fregs[R_ESP] = pm ? sp : (regs[R_ESP] & 0xffff0000u) | sp;
        fflags = flags & ~(uint32_t)(FL_IF | FL_TF | FL_AC | (pm ? FL_NT | FL_RF | FL_VM : 0));
        fseg[S_CS] = pm ? 0x08 : 0;
        feip = handler + 1;
        if (pm) {
            uint32_t ga = (uint32_t)exc * 8;
            uint8_t gate[8] = {(uint8_t)handler,         (uint8_t)(handler >> 8), 0x08, 0, 0, 0x8e,
                               (uint8_t)(handler >> 16), (uint8_t)(handler >> 24)};
            for (int b = 0; b < 8; b++)
                ram_set(&t, ga + (uint32_t)b, gate[b]);
        } else {
            uint32_t ga = (uint32_t)exc * 4;
            uint8_t ent[4] = {(uint8_t)handler, (uint8_t)(handler >> 8), 0, 0};
            for (int b = 0; b < 4; b++)
                ram_set(&t, ga + (uint32_t)b, ent[b]);
        }
        ram_set(&t, handler, 0xf4);
        g->n_exc++;
    }
    if (pm) {
        static const uint8_t gdt[24] = {0, 0,    0,    0, 0,    0,    0, 0, 0xff, 0xff, 0,    0,
                                        0, 0x9b, 0xcf, 0, 0xff, 0xff, 0, 0, 0,    0x93, 0xcf, 0};
        for (int b = 0; b < 24; b++)
            ram_set(&t, 0x800 + (uint32_t)b, gdt[b]);
    }

    /* Write the test. */
    FILE *f = exc >= 0 ? g->out_exc : g->out;
    bool *first_test = exc >= 0 ? &g->first_exc : &g->first;
    fprintf(f, "%s{\"name\": \"%s %s%s #%u:", *first_test ? "" : ",\n", g->form,
            osz == 2 ? "o16" : "o32", want_mem ? (a16 ? " a16" : " a32") : "", idx);
    *first_test = false;
    for (int i = 0; i < gl; i++)
        fprintf(f, " %02x", gb[i]);
    fprintf(f, "\", \"bytes\": [");
    for (int i = 0; i < gl; i++)
        fprintf(f, "%s%u", i ? ", " : "", gb[i]);
    fprintf(f, "], \"initial\": {\"regs\": {");
    put_regs(f, regs, seg, eip, flags, regs, seg, flags, pm, true);
    fprintf(f, "}, \"ram\": [");
    bool first = true;
    for (int i = 0; i < t.n_ram; i++) {
        fprintf(f, "%s[%u, %u]", first ? "" : ", ", t.ram_addr[i], t.ram_val[i]);
        first = false;
    }
    for (int w = 0; w < t.n_watch; w++)
        for (uint32_t a = t.watch[w].lo; a < t.watch[w].hi; a++) {
            /* zero bytes need not be listed: all unlisted RAM is zero */
            uint8_t v = before[w][a - t.watch[w].lo];
            if (v) {
                fprintf(f, "%s[%u, %u]", first ? "" : ", ", a, v);
                first = false;
            }
        }
    fprintf(f, "]}, \"final\": {\"regs\": {");
    put_regs(f, fregs, fseg, feip, fflags, regs, seg, flags, pm, false);
    fprintf(f, "}, \"ram\": [");
    for (int i = 0; i < n_fr; i++)
        fprintf(f, "%s[%u, %u]", i ? ", " : "", fr_addr[i], fr_val[i]);
    fprintf(f, "]}");
    if (exc >= 0)
        fprintf(f, ", \"exception\": %d", exc);
    fprintf(f, "}");

    clear_watch(&t);
    return true;
}

/* ---- files ---- */

static const char *class_of(const Row *r, char *buf, size_t cap)
{
    const char *b = strrchr(r->file, '/');
    b = b ? b + 1 : r->file;
    if (!strncmp(b, "insn-", 5))
        b += 5;
    snprintf(buf, cap, "%s", b);
    char *dot = strchr(buf, '.');
    if (dot)
        *dot = 0;
    return buf;
}

static void form_name(const Row *r, char *buf, size_t cap)
{
    if (r->ext >= 0)
        snprintf(buf, cap, "%s_%s%02x_%d", r->name, r->map ? "0f" : "", r->opc, r->ext);
    else
        snprintf(buf, cap, "%s_%s%02x", r->name, r->map ? "0f" : "", r->opc);
}

typedef struct Entry {
    char cls[32], mode[16], path[128];
    unsigned mask;
} Entry;

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s OUTDIR [COUNT]\n", argv[0]);
        return 2;
    }
    const char *outdir = argv[1];
    unsigned count = argc > 2 ? (unsigned)atoi(argv[2]) : 300;

    void *m = mmap((void *)MIRROR_LO, RAM_TOP - MIRROR_LO, PROT_READ | PROT_WRITE | PROT_EXEC,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (m != (void *)MIRROR_LO) {
        fprintf(stderr, "cannot map the guest mirror at 0x%x: %s\n", MIRROR_LO, strerror(errno));
        return 1;
    }
    mirror = (uint8_t *)m - MIRROR_LO;
    code_page = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    if (code_page == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    static uint8_t altstack[65536];
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof(altstack)};
    sigaltstack(&ss, NULL);
    struct sigaction sa = {0};
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigaction(SIGFPE, &sa, NULL);
    sigaction(SIGILL, &sa, NULL);
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    sigaction(SIGTRAP, &sa, NULL);

    Entry *entries = calloc(N_ROWS * 4, sizeof(Entry));
    char *g_buf = NULL;
    size_t g_len = 0;
    int n_entries = 0;
    unsigned total = 0, forms = 0;
    for (int i = 0; i < N_ROWS; i++) {
        const Row *r = &rows[i];
        char cls[32], form[64];
        class_of(r, cls, sizeof(cls));
        form_name(r, form, sizeof(form));
        const char *why = unsupported(r);
        if (why) {
            printf("skip %-10s %-14s %s\n", cls, form, why);
            continue;
        }
        /* A row shadowed by an earlier one with the same encoding is not reachable. */
        bool dup = false;
        for (int j = 0; j < i; j++)
            if (rows[j].map == r->map && rows[j].opc == r->opc && rows[j].ext == r->ext &&
                (rows[j].flags & (I_MEMONLY | I_REGONLY)) == (r->flags & (I_MEMONLY | I_REGONLY)))
                dup = true;
        if (dup) {
            printf("skip %-10s %-14s shadowed by an earlier row\n", cls, form);
            continue;
        }
        forms++;
        unsigned n = count;
        for (int pm = 0; pm < 2; pm++) {
            char dir[512];
            snprintf(dir, sizeof(dir), "%s/%s", outdir, cls);
            mkdir(dir, 0777);
            char *ebuf = NULL;
            size_t elen = 0;
            Gen g = {r, form, pm,  open_memstream(&g_buf, &g_len), open_memstream(&ebuf, &elen), 0,
                     0, true, true};
            /* Seeded per form and mode: rows added later leave the other files as they
             * were. */
            rng_state = 0xcbf29ce484222325ull ^ (uint64_t)pm;
            for (const char *c = form; *c; c++)
                rng_state = (rng_state ^ (uint8_t)*c) * 0x100000001b3ull;
            unsigned made = 0, tries = 0;
            while (made < n && tries < n * 200) {
                tries++;
                if (gen_one(&g, made))
                    made++;
                if (tries >= 5000 && made == 0)
                    break;
            }
            fclose(g.out);
            fclose(g.out_exc);
            if (!made)
                printf("skip %-10s %-14s %-4s no vector could be made on the host\n", cls, form,
                       pm ? "pm32" : "real");
            for (int ex = 0; ex < 2; ex++) {
                const char *text = ex ? ebuf : g_buf;
                if (!text[0])
                    continue;
                Entry *e = &entries[n_entries++];
                snprintf(e->cls, sizeof(e->cls), "%s", cls);
                snprintf(e->mode, sizeof(e->mode), "%s%s", pm ? "pm32" : "real", ex ? "-exc" : "");
                snprintf(e->path, sizeof(e->path), "%s/%s_%s.json.gz", cls, form, e->mode);
                e->mask = I_UNDEF_MASK(r->flags);
                char cmd[1024];
                snprintf(cmd, sizeof(cmd), "gzip -9n > '%s/%s'", outdir, e->path);
                FILE *z = popen(cmd, "w");
                fprintf(z, "[\n%s\n]\n", text);
                pclose(z);
            }
            free(ebuf);
            free(g_buf);
            g_buf = NULL;
            total += made;
            printf("%-10s %-14s %-4s %5u tests, %4u exceptions, undefined flags 0x%x\n", cls, form,
                   pm ? "pm32" : "real", made, g.n_exc, I_UNDEF_MASK(r->flags));
            fflush(stdout);
        }
    }

    /* meson.build: one test per class and mode (and undefined-flags mask). */
    char path[512];
    snprintf(path, sizeof(path), "%s/meson.build", outdir);
    FILE *mb = fopen(path, "w");
    fprintf(mb, "# Generated by tests/cpu/gen/gen-vectors.sh: do not edit.\n"
                "# CPU conformance vectors recorded on the host CPU, run with hangar-cputest.\n");
    for (int i = 0; i < n_entries; i++) {
        Entry *e = &entries[i];
        bool seen = false;
        for (int j = 0; j < i; j++)
            if (!strcmp(entries[j].cls, e->cls) && !strcmp(entries[j].mode, e->mode) &&
                entries[j].mask == e->mask)
                seen = true;
        if (seen)
            continue;
        fprintf(mb, "test('cpu-%s-%s%s", e->cls, e->mode, e->mask ? "-undef" : "");
        if (e->mask)
            fprintf(mb, "%x", e->mask);
        fprintf(mb, "', hangar_cputest,\n  args : ['--ignore-flags', '0x%x', files(\n", e->mask);
        for (int j = i; j < n_entries; j++) {
            Entry *f = &entries[j];
            if (!strcmp(f->cls, e->cls) && !strcmp(f->mode, e->mode) && f->mask == e->mask)
                fprintf(mb, "    '%s',\n", f->path);
        }
        fprintf(mb, "  )],\n  suite : 'cpu', timeout : 300)\n");
    }
    fclose(mb);
    printf("%u forms, %u tests\n", forms, total);
    return 0;
}
