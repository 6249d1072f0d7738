/* x87 and MMX instructions on a bare emulated CPU.
 *
 * Differential part (x86-64 hosts): the same instruction bytes run on the host's FPU
 * and in the emulator (32-bit code, every memory operand addressed through [EBX+d8],
 * which encodes identically in 64-bit mode), from the same registers and memory, with
 * random and edge operands under every rounding mode and precision; the results, status
 * word, tag word and stored memory must match bit for bit (transcendentals within two
 * units in the last place).
 *
 * System part: #NM (CR0.EM/TS/MP), #UD for MMX under CR0.EM and for FISTTP, #MF on the
 * next waiting instruction with CR0.NE = 1, FERR# with CR0.NE = 0, stack faults, FSAVE
 * and FXSAVE images, FXSAVE alignment.
 */
#include <glib.h>
#include <string.h>
#include <sys/mman.h>

#include "bus.h"
#include "cpu.h"
#include "tb.h"

enum { CODE = 0x1000, DATA = 0x2000, HANDLERS = 0x0e00 };

typedef struct Machine {
    HgBus *bus;
    HgCpu *cpu;
    int ferr_calls;
    bool ferr_level;
} Machine;

static void ferr_hook(void *opaque, bool level)
{
    Machine *m = opaque;
    m->ferr_calls++;
    m->ferr_level = level;
}

static Machine *machine_new(void)
{
    Machine *m = g_new0(Machine, 1);
    m->bus = hg_bus_new(1 << 20);
    HgCpuHooks hooks = {.opaque = m, .ferr = ferr_hook};
    m->cpu = hg_cpu_new(m->bus, &hooks);
    uint8_t *ram = hg_bus_ram(m->bus);
    /* Every exception vector points at its own HLT at HANDLERS + vector. */
    for (int v = 0; v < 32; v++) {
        uint32_t e = (uint32_t)(HANDLERS + v);
        memcpy(ram + 4 * v, &e, 4);
        ram[HANDLERS + v] = 0xf4;
    }
    return m;
}

static void machine_free(Machine *m)
{
    hg_cpu_free(m->cpu);
    hg_bus_free(m->bus);
    g_free(m);
}

/* Runs code (HLT appended) at CODE in 32-bit real-address code; returns the vector of
 * the exception taken, or -1 when the code ran to its HLT. */
static int run32(Machine *m, const uint8_t *code, size_t len)
{
    HgCpu *cpu = m->cpu;
    uint8_t *ram = hg_bus_ram(m->bus);
    memcpy(ram + CODE, code, len);
    ram[CODE + len] = 0xf4;
    hg_cpu_load_seg_real(cpu, S_CS, 0);
    hg_cpu_load_seg_real(cpu, S_DS, 0);
    hg_cpu_load_seg_real(cpu, S_SS, 0);
    cpu->seg[S_CS].flags |= DESC_B;
    hg_seg_update(cpu, S_CS);
    hg_cpu_update_mode(cpu);
    hg_tb_flush_all(cpu->tbs);
    cpu->eip = CODE;
    cpu->regs[R_ESP] = 0x8000;
    cpu->regs[R_EBX] = DATA;
    cpu->halted = false;
    hg_cpu_run(cpu, 10000);
    g_assert_true(cpu->halted);
    if (cpu->eip == CODE + len + 1 && cpu->seg[S_CS].sel == 0)
        return -1;
    return (int)cpu->eip - 1 - HANDLERS;
}

#if defined(__x86_64__)

/* ---- the host side ---- */

typedef void (*HostFn)(uint8_t *data);

typedef struct Host {
    uint8_t *page;
} Host;

static Host host_new(void)
{
    Host h;
    h.page =
        mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    g_assert_true(h.page != MAP_FAILED);
    return h;
}

static void host_run(Host *h, const uint8_t *code, size_t len, uint8_t *data)
{
    static const uint8_t pro[] = {0x53, 0x48, 0x89, 0xfb}; /* push rbx; mov rbx, rdi */
    static const uint8_t epi[] = {0x5b, 0xc3};             /* pop rbx; ret */
    memcpy(h->page, pro, sizeof(pro));
    memcpy(h->page + sizeof(pro), code, len);
    memcpy(h->page + sizeof(pro) + len, epi, sizeof(epi));
    __builtin___clear_cache((char *)h->page, (char *)h->page + 4096);
    HostFn fn;
    void *p = h->page;
    memcpy(&fn, &p, sizeof(fn));
    fn(data);
}

/* ---- data layout at EBX ---- */
enum {
    D_CW = 0,
    D_SW = 2,
    D_A = 16,
    D_B = 32,
    D_R0 = 48,
    D_R1 = 64,
    D_MEM = 80,    /* memory operand, 16 bytes */
    D_ENV = 96,    /* FNSTENV, 28 bytes; only CW SW TW compared */
    D_FLAGS = 124, /* SETE SETP SETC after the instruction */
    D_SIZE = 128,
};

/* The frame: XOR EAX,EAX (known flags); FNINIT; FLDCW; FLD b; FLD a; <insn>; FNSTSW; FNSTENV; SETcc
 * x3; FLDCW; FSTP r0; FSTP r1; FNINIT. */
static size_t frame(uint8_t *out, const uint8_t *insn, size_t n)
{
    static const uint8_t head[] = {0x31, 0xc0, 0xdb, 0xe3, 0xd9, 0x2b,
                                   0xdb, 0x6b, D_B,  0xdb, 0x6b, D_A};
    static const uint8_t tail[] = {
        0xdd, 0x7b, D_SW,               /* fnstsw [rbx+2] */
        0xd9, 0x73, D_ENV,              /* fnstenv [rbx+96] */
        0x0f, 0x94, 0x43,  D_FLAGS,     /* sete */
        0x0f, 0x9a, 0x43,  D_FLAGS + 1, /* setp */
        0x0f, 0x92, 0x43,  D_FLAGS + 2, /* setc */
        0xd9, 0x2b,                     /* fldcw [rbx] (FNSTENV masked everything) */
        0xdb, 0x7b, D_R0,               /* fstp tbyte [rbx+48] */
        0xdb, 0x7b, D_R1,               /* fstp tbyte [rbx+64] */
        0xdb, 0xe3,                     /* fninit */
    };
    size_t len = 0;
    memcpy(out, head, sizeof(head));
    len += sizeof(head);
    memcpy(out + len, insn, n);
    len += n;
    memcpy(out + len, tail, sizeof(tail));
    return len + sizeof(tail);
}

/* Random seeds are fixed so failures reproduce; HG_TEST_SEED=n explores other ones. */
static guint32 seed(guint32 base)
{
    const char *env = g_getenv("HG_TEST_SEED");
    return env ? base ^ (guint32)g_ascii_strtoull(env, NULL, 0) : base;
}

static uint64_t rnd64(GRand *r)
{
    return (uint64_t)g_rand_int(r) << 32 | g_rand_int(r);
}

static void rnd_f80(GRand *r, uint8_t *p, int near)
{
    uint64_t m = rnd64(r) | (1ull << 63);
    int e;
    bool s = g_rand_boolean(r);
    switch (g_rand_int_range(r, 0, 18)) {
    case 16: /* unnormal or pseudo-infinity/NaN */
        m >>= 1;
        e = g_rand_boolean(r) ? 0x7fff : near;
        break;
    case 17: /* pseudo-denormal */ e = 0; break;
    case 0:
        m = 0;
        e = 0;
        break;
    case 1:
        m >>= g_rand_int_range(r, 1, 64);
        e = 0;
        break;
    case 2:
        m = 1ull << 63;
        e = 0x7fff;
        break;
    case 3:
        m |= 1ull << 62;
        e = 0x7fff;
        break;
    case 4:
        m = (m & ~(1ull << 62)) | 1;
        e = 0x7fff;
        break;
    case 5: e = g_rand_int_range(r, 1, 0x7fff); break;
    case 6:
        e = 0x3fff + g_rand_int_range(r, 0, 63);
        m &= ~0ull << g_rand_int_range(r, 1, 64);
        break;
    default: e = near + g_rand_int_range(r, -3, 4); break;
    }
    if (e < 0)
        e = 0;
    uint16_t se = (uint16_t)((s << 15) | e);
    memcpy(p, &m, 8);
    memcpy(p + 8, &se, 2);
}

typedef struct Case {
    const char *name;
    uint8_t bytes[8];
    uint8_t len;
    uint8_t mem;    /* memory operand kind: 0 none, 1 m32fp, 2 m64fp, 3 m16int, 4 m32int,
                       5 m64int, 6 bcd, 7 m80 */
    uint8_t approx; /* transcendental: compare within 2 ulps */
} Case;

#define M8 0x43, D_MEM /* mod=01 rm=011 disp8: [ebx+80] with reg 0 */
#define MR(reg) (uint8_t)(0x43 | ((reg) << 3)), D_MEM

static const Case cases[] = {
    {"fadd st,st1", {0xd8, 0xc1}, 2, 0, 0},
    {"fmul st,st1", {0xd8, 0xc9}, 2, 0, 0},
    {"fcom st1", {0xd8, 0xd1}, 2, 0, 0},
    {"fcomp st1", {0xd8, 0xd9}, 2, 0, 0},
    {"fsub st,st1", {0xd8, 0xe1}, 2, 0, 0},
    {"fsubr st,st1", {0xd8, 0xe9}, 2, 0, 0},
    {"fdiv st,st1", {0xd8, 0xf1}, 2, 0, 0},
    {"fdivr st,st1", {0xd8, 0xf9}, 2, 0, 0},
    {"fadd st1,st", {0xdc, 0xc1}, 2, 0, 0},
    {"fmul st1,st", {0xdc, 0xc9}, 2, 0, 0},
    {"fsubr st1,st", {0xdc, 0xe1}, 2, 0, 0},
    {"fsub st1,st", {0xdc, 0xe9}, 2, 0, 0},
    {"fdivr st1,st", {0xdc, 0xf1}, 2, 0, 0},
    {"fdiv st1,st", {0xdc, 0xf9}, 2, 0, 0},
    {"faddp", {0xde, 0xc1}, 2, 0, 0},
    {"fmulp", {0xde, 0xc9}, 2, 0, 0},
    {"fcompp", {0xde, 0xd9}, 2, 0, 0},
    {"fsubrp", {0xde, 0xe1}, 2, 0, 0},
    {"fsubp", {0xde, 0xe9}, 2, 0, 0},
    {"fdivrp", {0xde, 0xf1}, 2, 0, 0},
    {"fdivp", {0xde, 0xf9}, 2, 0, 0},
    {"fucom st1", {0xdd, 0xe1}, 2, 0, 0},
    {"fucomp st1", {0xdd, 0xe9}, 2, 0, 0},
    {"fucompp", {0xda, 0xe9}, 2, 0, 0},
    {"fcomi", {0xdb, 0xf1}, 2, 0, 0},
    {"fucomi", {0xdb, 0xe9}, 2, 0, 0},
    {"fcomip", {0xdf, 0xf1}, 2, 0, 0},
    {"fucomip", {0xdf, 0xe9}, 2, 0, 0},
    {"fcomi; fcmovb", {0xdb, 0xf1, 0xda, 0xc1}, 4, 0, 0},
    {"fcomi; fcmove", {0xdb, 0xf1, 0xda, 0xc9}, 4, 0, 0},
    {"fcomi; fcmovbe", {0xdb, 0xf1, 0xda, 0xd1}, 4, 0, 0},
    {"fucomi; fcmovu", {0xdb, 0xe9, 0xda, 0xd9}, 4, 0, 0},
    {"fcomi; fcmovnb", {0xdb, 0xf1, 0xdb, 0xc1}, 4, 0, 0},
    {"fcomi; fcmovne", {0xdb, 0xf1, 0xdb, 0xc9}, 4, 0, 0},
    {"fcomi; fcmovnbe", {0xdb, 0xf1, 0xdb, 0xd1}, 4, 0, 0},
    {"fucomi; fcmovnu", {0xdb, 0xe9, 0xdb, 0xd9}, 4, 0, 0},
    {"fxch", {0xd9, 0xc9}, 2, 0, 0},
    {"fld st1", {0xd9, 0xc1}, 2, 0, 0},
    {"fst st1", {0xdd, 0xd1}, 2, 0, 0},
    {"fstp st1", {0xdd, 0xd9}, 2, 0, 0},
    {"ffree st1", {0xdd, 0xc1}, 2, 0, 0},
    {"ffreep st0", {0xdf, 0xc0}, 2, 0, 0},
    {"fchs", {0xd9, 0xe0}, 2, 0, 0},
    {"fabs", {0xd9, 0xe1}, 2, 0, 0},
    {"ftst", {0xd9, 0xe4}, 2, 0, 0},
    {"fxam", {0xd9, 0xe5}, 2, 0, 0},
    {"fld1", {0xd9, 0xe8}, 2, 0, 0},
    {"fldl2t", {0xd9, 0xe9}, 2, 0, 0},
    {"fldl2e", {0xd9, 0xea}, 2, 0, 0},
    {"fldpi", {0xd9, 0xeb}, 2, 0, 0},
    {"fldlg2", {0xd9, 0xec}, 2, 0, 0},
    {"fldln2", {0xd9, 0xed}, 2, 0, 0},
    {"fldz", {0xd9, 0xee}, 2, 0, 0},
    {"fxtract", {0xd9, 0xf4}, 2, 0, 0},
    {"fprem1", {0xd9, 0xf5}, 2, 0, 0},
    {"fdecstp", {0xd9, 0xf6}, 2, 0, 0},
    {"fincstp", {0xd9, 0xf7}, 2, 0, 0},
    {"fprem", {0xd9, 0xf8}, 2, 0, 0},
    {"fsqrt", {0xd9, 0xfa}, 2, 0, 0},
    {"frndint", {0xd9, 0xfc}, 2, 0, 0},
    {"fscale", {0xd9, 0xfd}, 2, 0, 0},
    {"fnop", {0xd9, 0xd0}, 2, 0, 0},
    /* Undocumented aliases the P6 and later execute. */
    {"fstp1 st1", {0xd9, 0xd9}, 2, 0, 0},
    {"fcom2 st1", {0xdc, 0xd1}, 2, 0, 0},
    {"fcomp3 st1", {0xdc, 0xd9}, 2, 0, 0},
    {"fxch4 st1", {0xdd, 0xc9}, 2, 0, 0},
    {"fcomp5 st1", {0xde, 0xd1}, 2, 0, 0},
    {"fxch7 st1", {0xdf, 0xc9}, 2, 0, 0},
    {"fstp8 st1", {0xdf, 0xd1}, 2, 0, 0},
    {"fstp9 st1", {0xdf, 0xd9}, 2, 0, 0},
    {"ffreep st1", {0xdf, 0xc1}, 2, 0, 0},
    {"feni", {0xdb, 0xe0}, 2, 0, 0},
    {"fdisi", {0xdb, 0xe1}, 2, 0, 0},
    {"fsetpm", {0xdb, 0xe4}, 2, 0, 0},
    {"fadd m32", {0xd8, MR(0)}, 3, 1, 0},
    {"fmul m32", {0xd8, MR(1)}, 3, 1, 0},
    {"fcom m32", {0xd8, MR(2)}, 3, 1, 0},
    {"fsub m32", {0xd8, MR(4)}, 3, 1, 0},
    {"fdivr m32", {0xd8, MR(7)}, 3, 1, 0},
    {"fadd m64", {0xdc, MR(0)}, 3, 2, 0},
    {"fcomp m64", {0xdc, MR(3)}, 3, 2, 0},
    {"fsubr m64", {0xdc, MR(5)}, 3, 2, 0},
    {"fdiv m64", {0xdc, MR(6)}, 3, 2, 0},
    {"fiadd m32", {0xda, MR(0)}, 3, 4, 0},
    {"ficom m32", {0xda, MR(2)}, 3, 4, 0},
    {"fidiv m32", {0xda, MR(6)}, 3, 4, 0},
    {"fimul m16", {0xde, MR(1)}, 3, 3, 0},
    {"ficomp m16", {0xde, MR(3)}, 3, 3, 0},
    {"fisub m16", {0xde, MR(4)}, 3, 3, 0},
    {"fld m32", {0xd9, MR(0)}, 3, 1, 0},
    {"fld m64", {0xdd, MR(0)}, 3, 2, 0},
    {"fld m80", {0xdb, MR(5)}, 3, 7, 0},
    {"fild m16", {0xdf, MR(0)}, 3, 3, 0},
    {"fild m32", {0xdb, MR(0)}, 3, 4, 0},
    {"fild m64", {0xdf, MR(5)}, 3, 5, 0},
    {"fbld", {0xdf, MR(4)}, 3, 6, 0},
    {"fst m32", {0xd9, MR(2)}, 3, 1, 0},
    {"fstp m32", {0xd9, MR(3)}, 3, 1, 0},
    {"fst m64", {0xdd, MR(2)}, 3, 2, 0},
    {"fstp m64", {0xdd, MR(3)}, 3, 2, 0},
    {"fstp m80", {0xdb, MR(7)}, 3, 7, 0},
    {"fist m16", {0xdf, MR(2)}, 3, 3, 0},
    {"fistp m16", {0xdf, MR(3)}, 3, 3, 0},
    {"fist m32", {0xdb, MR(2)}, 3, 4, 0},
    {"fistp m32", {0xdb, MR(3)}, 3, 4, 0},
    {"fistp m64", {0xdf, MR(7)}, 3, 5, 0},
    {"fbstp", {0xdf, MR(6)}, 3, 6, 0},
    {"fnstcw", {0xd9, MR(7)}, 3, 3, 0},
    {"fnstsw m16", {0xdd, MR(7)}, 3, 3, 0},
    /* Stack underflow (ST(0) or ST(1) freed first) and overflow (ST(7) in use). */
    {"ffree st1; fadd", {0xdd, 0xc1, 0xd8, 0xc1}, 4, 0, 0},
    {"ffree st0; fsubp", {0xdd, 0xc0, 0xde, 0xe9}, 4, 0, 0},
    {"ffree st1; fcom", {0xdd, 0xc1, 0xd8, 0xd1}, 4, 0, 0},
    {"ffree st1; fucompp", {0xdd, 0xc1, 0xda, 0xe9}, 4, 0, 0},
    {"ffree st1; fcomip", {0xdd, 0xc1, 0xdf, 0xf1}, 4, 0, 0},
    {"ffree st0; fsqrt", {0xdd, 0xc0, 0xd9, 0xfa}, 4, 0, 0},
    {"ffree st0; fchs", {0xdd, 0xc0, 0xd9, 0xe0}, 4, 0, 0},
    {"ffree st0; fxam", {0xdd, 0xc0, 0xd9, 0xe5}, 4, 0, 0},
    {"ffree st1; fxch", {0xdd, 0xc1, 0xd9, 0xc9}, 4, 0, 0},
    {"ffree st1; fprem", {0xdd, 0xc1, 0xd9, 0xf8}, 4, 0, 0},
    {"ffree st1; fscale", {0xdd, 0xc1, 0xd9, 0xfd}, 4, 0, 0},
    {"ffree st0; fxtract", {0xdd, 0xc0, 0xd9, 0xf4}, 4, 0, 0},
    {"ffree st0; fst st1", {0xdd, 0xc0, 0xdd, 0xd1}, 4, 0, 0},
    {"ffree st0; fld st0", {0xdd, 0xc0, 0xd9, 0xc0}, 4, 0, 0},
    {"ffree st0; fstp m64", {0xdd, 0xc0, 0xdd, MR(3)}, 5, 2, 0},
    {"ffree st0; fistp m32", {0xdd, 0xc0, 0xdb, MR(3)}, 5, 4, 0},
    {"ffree st0; fbstp", {0xdd, 0xc0, 0xdf, MR(6)}, 5, 6, 0},
    {"ffree st0; fstp m80", {0xdd, 0xc0, 0xdb, MR(7)}, 5, 7, 0},
    {"ffree st0; fadd m32", {0xdd, 0xc0, 0xd8, MR(0)}, 5, 1, 0},
    {"ffree st0; fcom m32", {0xdd, 0xc0, 0xd8, MR(2)}, 5, 1, 0},
    {"ffree st1; fpatan", {0xdd, 0xc1, 0xd9, 0xf3}, 4, 0, 0},
    {"ffree st0; fsin", {0xdd, 0xc0, 0xd9, 0xfe}, 4, 0, 0},
    {"ffree st1; fcmovb", {0xdd, 0xc1, 0xda, 0xc1}, 4, 0, 0},
    {"ffree st1; fcmove", {0xdd, 0xc1, 0xda, 0xc9}, 4, 0, 0},
    {"ffree st0; fcmovne", {0xdd, 0xc0, 0xdb, 0xc9}, 4, 0, 0},
    {"ffree st0; fcmovnu", {0xdd, 0xc0, 0xdb, 0xd9}, 4, 0, 0},
    {"ffree st0; fist m16", {0xdd, 0xc0, 0xdf, MR(2)}, 5, 3, 0},
    {"ffree st0; fst m32", {0xdd, 0xc0, 0xd9, MR(2)}, 5, 1, 0},
    {"ffree st0; ftst", {0xdd, 0xc0, 0xd9, 0xe4}, 4, 0, 0},
    {"ffree st0; frndint", {0xdd, 0xc0, 0xd9, 0xfc}, 4, 0, 0},
    {"ffree st0; f2xm1", {0xdd, 0xc0, 0xd9, 0xf0}, 4, 0, 0},
    {"ffree st1; fyl2x", {0xdd, 0xc1, 0xd9, 0xf1}, 4, 0, 0},
    {"ffree st0; fptan", {0xdd, 0xc0, 0xd9, 0xf2}, 4, 0, 0},
    {"ffree st0; fsincos", {0xdd, 0xc0, 0xd9, 0xfb}, 4, 0, 0},
    {"fincstp; fld1", {0xd9, 0xf7, 0xd9, 0xe8}, 4, 0, 0},
    {"fincstp; fld m32", {0xd9, 0xf7, 0xd9, MR(0)}, 5, 1, 0},
    {"fincstp; fild m16", {0xd9, 0xf7, 0xdf, MR(0)}, 5, 3, 0},
    {"fincstp; fld st1", {0xd9, 0xf7, 0xd9, 0xc1}, 4, 0, 0},
    {"fincstp; fxtract", {0xd9, 0xf7, 0xd9, 0xf4}, 4, 0, 0},
    {"fincstp; fptan", {0xd9, 0xf7, 0xd9, 0xf2}, 4, 0, 0},
    {"fincstp; fsincos", {0xd9, 0xf7, 0xd9, 0xfb}, 4, 0, 0},
    {"fsin", {0xd9, 0xfe}, 2, 0, 1},
    {"fcos", {0xd9, 0xff}, 2, 0, 1},
    {"fptan", {0xd9, 0xf2}, 2, 0, 1},
    {"fsincos", {0xd9, 0xfb}, 2, 0, 1},
    {"fpatan", {0xd9, 0xf3}, 2, 0, 1},
    {"f2xm1", {0xd9, 0xf0}, 2, 0, 1},
    {"fyl2x", {0xd9, 0xf1}, 2, 0, 1},
    {"fyl2xp1", {0xd9, 0xf9}, 2, 0, 1},
};

static void fill_mem(GRand *r, uint8_t *p, int kind, const uint8_t *a)
{
    uint64_t v = rnd64(r);
    memcpy(p, &v, 8);
    v = rnd64(r);
    memcpy(p + 8, &v, 8);
    /* Edge encodings of the narrow formats: zero, denormal, infinity, QNaN, SNaN. */
    int edge = g_rand_int_range(r, 0, 12);
    if (edge < 5 && (kind == 1 || kind == 2)) {
        static const uint32_t e32[5] = {0, 0x00000001, 0x7f800000, 0x7fc00001, 0x7f800001};
        static const uint64_t e64[5] = {0, 0x1, 0x7ff0000000000000ull, 0x7ff8000000000001ull,
                                        0x7ff0000000000001ull};
        if (kind == 1) {
            uint32_t f = e32[edge] | (g_rand_int(r) & 0x80000000u);
            if (edge == 1)
                f |= g_rand_int(r) & 0x7fffff;
            memcpy(p, &f, 4);
        } else {
            uint64_t f = e64[edge] | (rnd64(r) & (1ull << 63));
            if (edge == 1)
                f |= rnd64(r) & 0xfffffffffffffull;
            memcpy(p, &f, 8);
        }
        return;
    }
    switch (kind) {
    case 1:
        if (g_rand_boolean(r)) { /* near a's magnitude */
            uint16_t e;
            memcpy(&e, a + 8, 2);
            int ee = (e & 0x7fff) - 16383 + 127;
            if (ee > 0 && ee < 255) {
                uint32_t f = (g_rand_int(r) & 0x807fffffu) | ((uint32_t)ee << 23);
                memcpy(p, &f, 4);
            }
        }
        break;
    case 2:
        if (g_rand_boolean(r)) {
            uint16_t e;
            memcpy(&e, a + 8, 2);
            int ee = (e & 0x7fff) - 16383 + 1023;
            if (ee > 0 && ee < 2047) {
                uint64_t f = (rnd64(r) & 0x800fffffffffffffull) | ((uint64_t)ee << 52);
                memcpy(p, &f, 8);
            }
        }
        break;
    case 6:
        for (int i = 0; i < 9; i++)
            p[i] = (uint8_t)(g_rand_int_range(r, 0, 10) << 4 | g_rand_int_range(r, 0, 10));
        p[9] &= 0x80;
        break;
    case 7: rnd_f80(r, p, 0x3fff); break;
    default: break;
    }
}

/* Transcendental results: within rel of each other (or identical bits). */
static bool close_f80(const uint8_t *x, const uint8_t *y, long double rel)
{
    uint64_t mx, my;
    memcpy(&mx, x, 8);
    memcpy(&my, y, 8);
    if (memcmp(x + 8, y + 8, 2) == 0 && (mx > my ? mx - my : my - mx) <= 2)
        return true;
    long double a = 0, b = 0;
    memcpy(&a, x, 10);
    memcpy(&b, y, 10);
    long double d = a - b;
    if (d < 0)
        d = -d;
    long double m = a < 0 ? -a : a;
    return d <= m * rel;
}

/* Prints the bytes where host and emulator differ (and the operands), leaving out
 * [skip_lo, skip_hi). */
static void dump_diff(const char *what, uint16_t cw, int exc, const uint8_t *hd, const uint8_t *ed,
                      int size, int skip_lo, int skip_hi)
{
    GString *s = g_string_new(NULL);
    uint16_t hsw, esw;
    memcpy(&hsw, hd + D_SW, 2);
    memcpy(&esw, ed + D_SW, 2);
    g_string_append_printf(s, "%s cw %04x exc %d: sw host %04x emu %04x\n  ", what, cw, exc, hsw,
                           esw);
    for (int i = 0; i < size; i++) {
        if (i >= skip_lo && i < skip_hi)
            continue;
        if (hd[i] != ed[i] || (i >= D_A && i < D_B + 10))
            g_string_append_printf(s, "[%d] %02x/%02x ", i, hd[i], ed[i]);
    }
    g_printerr("%s\n", s->str);
    g_string_free(s, TRUE);
}

static void test_differential(void)
{
    GRand *r = g_rand_new_with_seed(seed(0xf00d));
    Machine *m = machine_new();
    Host h = host_new();
    int n = 0, fails = 0, total_fails = 0;
    int iters = g_test_quick() ? 40 : 150;
    for (size_t ci = 0; ci < G_N_ELEMENTS(cases); ci++) {
        const Case *c = &cases[ci];
        uint8_t code[128];
        size_t len = frame(code, c->bytes, c->len);
        int case_fails = 0;
        for (int it = 0; it < iters; it++) {
            uint8_t data[D_SIZE] = {0}, hd[D_SIZE], ed[D_SIZE];
            int rc = g_rand_int_range(r, 0, 4);
            static const int pcs[3] = {0, 2, 3};
            int pc = pcs[g_rand_int_range(r, 0, 3)];
            uint16_t cw = (uint16_t)(0x7f | (pc << 8) | (rc << 10));
            memcpy(data + D_CW, &cw, 2);
            int near = 0x3fff + g_rand_int_range(r, -80, 80);
            rnd_f80(r, data + D_A, near);
            rnd_f80(r, data + D_B, near);
            if (c->approx) {
                /* Arguments in the instructions' domains, finite or special. */
                uint64_t mm = rnd64(r) | (1ull << 63);
                bool trig = c->bytes[1] >= 0xfe || c->bytes[1] == 0xf2 || c->bytes[1] == 0xfb;
                uint16_t e = (uint16_t)(0x3fff - g_rand_int_range(r, 1, 20));
                if (!g_rand_int_range(r, 0, 3))
                    e = (uint16_t)(0x3fff + g_rand_int_range(r, 0, trig ? 66 : 12));
                if (c->bytes[1] == 0xf9 || c->bytes[1] == 0xf0)
                    e = (uint16_t)(0x3fff - g_rand_int_range(r, 2, 30));
                if (c->bytes[1] == 0xf1)
                    e &= 0x7fff;
                e |= (uint16_t)(g_rand_boolean(r) && c->bytes[1] != 0xf1 ? 0x8000 : 0);
                memcpy(data + D_A, &mm, 8);
                memcpy(data + D_A + 8, &e, 2);
            }
            fill_mem(r, data + D_MEM, c->mem, data + D_A);
            memcpy(hd, data, D_SIZE);
            host_run(&h, code, len, hd);
            uint8_t *ram = hg_bus_ram(m->bus);
            memcpy(ram + DATA, data, D_SIZE);
            int exc = run32(m, code, len);
            memcpy(ed, ram + DATA, D_SIZE);
            n++;
            bool ok = exc == -1;
            /* Compare: SW, results, memory operand, env CW/SW/TW, SETcc bytes. */
            uint16_t hsw, esw;
            memcpy(&hsw, hd + D_SW, 2);
            memcpy(&esw, ed + D_SW, 2);
            uint16_t swmask = 0xffff;
            if (c->approx)
                swmask &= (uint16_t) ~(FSW_C1 | FSW_PE | FSW_UE);
            ok = ok && (hsw & swmask) == (esw & swmask);
            ok = ok && memcmp(hd + D_MEM, ed + D_MEM, 16) == 0;
            ok = ok && memcmp(hd + D_ENV, ed + D_ENV, 2) == 0;
            ok = ok && memcmp(hd + D_ENV + 8, ed + D_ENV + 8, 2) == 0;
            uint16_t hesw, eesw;
            memcpy(&hesw, hd + D_ENV + 4, 2);
            memcpy(&eesw, ed + D_ENV + 4, 2);
            ok = ok && (hesw & swmask) == (eesw & swmask);
            ok = ok && memcmp(hd + D_FLAGS, ed + D_FLAGS, 3) == 0;
            if (c->approx) {
                /* Within 2^-62 (FSIN/FCOS/FPTAN/FSINCOS reduce their arguments with the
                 * same 66-bit pi as the host's FPU). */
                long double rel = 0x1p-62L;
                ok = ok && close_f80(hd + D_R0, ed + D_R0, rel) &&
                     close_f80(hd + D_R1, ed + D_R1, rel);
            } else {
                ok = ok && memcmp(hd + D_R0, ed + D_R0, 32) == 0;
            }
            if (!ok)
                case_fails++;
            if (!ok && case_fails == 1 && fails++ < 40)
                dump_diff(c->name, cw, exc, hd, ed, D_SIZE, D_ENV + 10, D_FLAGS);
        }
        if (case_fails)
            g_printerr("  %s: %d of %d differ\n", c->name, case_fails, iters);
        total_fails += case_fails;
    }
    fails = total_fails;
    g_printerr("# x87 instructions: %d comparisons, %d failures\n", n, fails);
    munmap(h.page, 4096);
    machine_free(m);
    g_rand_free(r);
    g_assert_cmpint(fails, ==, 0);
}

/* The same instructions with random exceptions unmasked. The host must not trap, so the
 * tail uses only non-waiting instructions: FNSTSW, then FNSAVE (which also returns the
 * FPU to its initial state) captures the registers and tags. */
enum { D_SAVE = 128, D_SIZE2 = 256 };

static size_t frame_unmasked(uint8_t *out, const uint8_t *insn, size_t n)
{
    static const uint8_t head[] = {0x31, 0xc0, 0xdb, 0xe3, 0xd9, 0x2b,
                                   0xdb, 0x6b, D_B,  0xdb, 0x6b, D_A};
    static const uint8_t tail[] = {
        0xdd, 0x7b, D_SW,                      /* fnstsw [rbx+2] */
        0xdd, 0xb3, D_SAVE, 0,           0, 0, /* fnsave [rbx+128] */
        0x0f, 0x94, 0x43,   D_FLAGS,           /* sete */
        0x0f, 0x9a, 0x43,   D_FLAGS + 1,       /* setp */
        0x0f, 0x92, 0x43,   D_FLAGS + 2,       /* setc */
    };
    size_t len = 0;
    memcpy(out, head, sizeof(head));
    len += sizeof(head);
    memcpy(out + len, insn, n);
    len += n;
    memcpy(out + len, tail, sizeof(tail));
    return len + sizeof(tail);
}

static void test_unmasked(void)
{
    GRand *r = g_rand_new_with_seed(seed(0xbad5eed));
    Machine *m = machine_new();
    Host h = host_new();
    int n = 0, fails = 0, printed = 0;
    int iters = g_test_quick() ? 40 : 150;
    for (size_t ci = 0; ci < G_N_ELEMENTS(cases); ci++) {
        const Case *c = &cases[ci];
        /* Two-instruction cases whose first instruction can raise would trap the host. */
        if (c->len > 3 && c->bytes[0] != 0xdd && c->bytes[0] != 0xd9)
            continue;
        uint8_t code[128];
        size_t len = frame_unmasked(code, c->bytes, c->len);
        int case_fails = 0;
        for (int it = 0; it < iters; it++) {
            uint8_t data[D_SIZE2] = {0}, hd[D_SIZE2], ed[D_SIZE2];
            int rc = g_rand_int_range(r, 0, 4);
            static const int pcs[3] = {0, 2, 3};
            int pc = pcs[g_rand_int_range(r, 0, 3)];
            uint16_t masks = (uint16_t)(g_rand_int(r) & 0x3f);
            uint16_t cw = (uint16_t)(0x40 | masks | (pc << 8) | (rc << 10));
            memcpy(data + D_CW, &cw, 2);
            int near = 0x3fff + g_rand_int_range(r, -80, 80);
            if (g_rand_int_range(r, 0, 4) == 0)
                near = g_rand_boolean(r) ? 0x7ff0 : 0x10;
            rnd_f80(r, data + D_A, near);
            rnd_f80(r, data + D_B, near);
            fill_mem(r, data + D_MEM, c->mem, data + D_A);
            memcpy(hd, data, D_SIZE2);
            host_run(&h, code, len, hd);
            uint8_t *ram = hg_bus_ram(m->bus);
            memcpy(ram + DATA, data, D_SIZE2);
            int exc = run32(m, code, len);
            memcpy(ed, ram + DATA, D_SIZE2);
            n++;
            bool ok = exc == -1;
            if (c->approx) {
                /* C1 (rounded up) is not modelled for the transcendentals. */
                hd[D_SW + 1] &= (uint8_t) ~(FSW_C1 >> 8);
                ed[D_SW + 1] &= (uint8_t) ~(FSW_C1 >> 8);
                hd[D_SAVE + 5] &= (uint8_t) ~(FSW_C1 >> 8);
                ed[D_SAVE + 5] &= (uint8_t) ~(FSW_C1 >> 8);
            }
            ok = ok && memcmp(hd + D_SW, ed + D_SW, 2) == 0;
            ok = ok && memcmp(hd + D_MEM, ed + D_MEM, 16) == 0;
            ok = ok && memcmp(hd + D_SAVE, ed + D_SAVE, 2) == 0;
            ok = ok && memcmp(hd + D_SAVE + 4, ed + D_SAVE + 4, 2) == 0;
            ok = ok && memcmp(hd + D_SAVE + 8, ed + D_SAVE + 8, 2) == 0;
            /* Registers: only the non-empty ones hold defined contents. */
            uint16_t stw, ssw;
            memcpy(&stw, hd + D_SAVE + 8, 2);
            memcpy(&ssw, hd + D_SAVE + 4, 2);
            for (int i = 0; i < 8; i++) {
                int p = (((ssw >> 11) & 7) + i) & 7;
                if (((stw >> (2 * p)) & 3) != 3)
                    ok = ok && (c->approx ? close_f80(hd + D_SAVE + 28 + 10 * i,
                                                      ed + D_SAVE + 28 + 10 * i, 0x1p-62L)
                                          : memcmp(hd + D_SAVE + 28 + 10 * i,
                                                   ed + D_SAVE + 28 + 10 * i, 10) == 0);
            }
            ok = ok && memcmp(hd + D_FLAGS, ed + D_FLAGS, 3) == 0;
            if (!ok && case_fails++ == 0 && printed++ < 40)
                dump_diff(c->name, cw, exc, hd, ed, D_SIZE2, D_SAVE + 12, D_SAVE + 28);
        }
        if (case_fails)
            g_printerr("  unmasked %s: %d of %d differ\n", c->name, case_fails, iters);
        fails += case_fails;
    }
    g_printerr("# x87 unmasked exceptions: %d comparisons, %d failures\n", n, fails);
    munmap(h.page, 4096);
    machine_free(m);
    g_rand_free(r);
    g_assert_cmpint(fails, ==, 0);
}

/* FXSAVE after each instruction, on the host and in the emulator: control, status and
 * abridged tag bytes and the non-empty registers of the 512-byte images must match. */
static void test_fxsave_host(void)
{
    GRand *r = g_rand_new_with_seed(seed(0xf5a7e));
    Machine *m = machine_new();
    Host h = host_new();
    int n = 0, fails = 0;
    enum { FX = 256, SIZE = FX + 512 };
    for (size_t ci = 0; ci < G_N_ELEMENTS(cases); ci++) {
        const Case *c = &cases[ci];
        static const uint8_t head[] = {0xdb, 0xe3, 0xd9, 0x2b, 0xdb, 0x6b, D_B, 0xdb, 0x6b, D_A};
        static const uint8_t tail[] = {0x0f, 0xae, 0x83, 0x00, 0x01, 0x00, 0x00, /* fxsave */
                                       0xdb, 0xe3};
        uint8_t code[64];
        size_t len = 0;
        memcpy(code, head, sizeof(head));
        len += sizeof(head);
        memcpy(code + len, c->bytes, c->len);
        len += c->len;
        memcpy(code + len, tail, sizeof(tail));
        len += sizeof(tail);
        for (int it = 0; it < 8; it++) {
            _Alignas(16) uint8_t data[SIZE] = {0};
            _Alignas(16) uint8_t hd[SIZE];
            uint8_t ed[SIZE];
            uint16_t cw = (uint16_t)(0x7f | (g_rand_int_range(r, 0, 4) << 10));
            memcpy(data + D_CW, &cw, 2);
            rnd_f80(r, data + D_A, 0x3fff);
            rnd_f80(r, data + D_B, 0x3fff);
            fill_mem(r, data + D_MEM, c->mem, data + D_A);
            memcpy(hd, data, SIZE);
            host_run(&h, code, len, hd);
            uint8_t *ram = hg_bus_ram(m->bus);
            memcpy(ram + DATA, data, SIZE);
            int exc = run32(m, code, len);
            memcpy(ed, ram + DATA, SIZE);
            n++;
            /* Transcendentals: C1 (rounded up) and PE/UE are not compared, as above. */
            if (c->approx) {
                hd[FX + 3] &= (uint8_t) ~(FSW_C1 >> 8);
                ed[FX + 3] &= (uint8_t) ~(FSW_C1 >> 8);
                hd[FX + 2] &= (uint8_t) ~(FSW_PE | FSW_UE);
                ed[FX + 2] &= (uint8_t) ~(FSW_PE | FSW_UE);
            }
            bool ok = exc == -1 && memcmp(hd + FX, ed + FX, 5) == 0;
            uint16_t fsw;
            memcpy(&fsw, hd + FX + 2, 2);
            for (int i = 0; i < 8; i++) {
                int p = (((fsw >> 11) & 7) + i) & 7;
                if (hd[FX + 4] & (1u << p) && !c->approx)
                    ok = ok && memcmp(hd + FX + 32 + 16 * i, ed + FX + 32 + 16 * i, 10) == 0;
            }
            if (!ok && fails++ < 10)
                g_printerr("fxsave after %s: fcw/fsw/ftw host %02x%02x %02x%02x %02x emu "
                           "%02x%02x %02x%02x %02x\n",
                           c->name, hd[FX + 1], hd[FX], hd[FX + 3], hd[FX + 2], hd[FX + 4],
                           ed[FX + 1], ed[FX], ed[FX + 3], ed[FX + 2], ed[FX + 4]);
        }
    }
    g_printerr("# FXSAVE images: %d comparisons, %d failures\n", n, fails);
    munmap(h.page, 4096);
    machine_free(m);
    g_rand_free(r);
    g_assert_cmpint(fails, ==, 0);
}

/* ---- MMX ---- */

static void test_mmx_differential(void)
{
    static const uint8_t ops[] = {
        0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x74, 0x75, 0x76,
        0xd1, 0xd2, 0xd3, 0xd5, 0xd8, 0xd9, 0xdb, 0xdc, 0xdd, 0xdf, 0xe1, 0xe2, 0xe5, 0xe8, 0xe9,
        0xeb, 0xec, 0xed, 0xef, 0xf1, 0xf2, 0xf3, 0xf5, 0xf8, 0xf9, 0xfa, 0xfc, 0xfd, 0xfe, 0x6f};
    GRand *r = g_rand_new_with_seed(seed(0x3377));
    Machine *m = machine_new();
    Host h = host_new();
    int n = 0, fails = 0;
    int iters = g_test_quick() ? 100 : 400;
    for (size_t oi = 0; oi < G_N_ELEMENTS(ops) + 9; oi++) {
        for (int it = 0; it < iters; it++) {
            uint8_t code[64];
            size_t len = 0;
            /* movq mm0, [rbx+16]; movq mm1, [rbx+32] */
            const uint8_t pro[] = {0x0f, 0x6f, 0x43, D_A, 0x0f, 0x6f, 0x4b, D_B};
            memcpy(code, pro, sizeof(pro));
            len = sizeof(pro);
            bool memform = g_rand_boolean(r);
            if (oi < G_N_ELEMENTS(ops)) {
                code[len++] = 0x0f;
                code[len++] = ops[oi];
                if (memform) {
                    code[len++] = 0x43;
                    code[len++] = D_MEM;
                } else {
                    code[len++] = 0xc1; /* mm0, mm1 */
                }
            } else {
                /* immediate shifts and MOVD forms */
                static const uint8_t imm[][2] = {{0x71, 2}, {0x71, 4}, {0x71, 6}, {0x72, 2},
                                                 {0x72, 4}, {0x72, 6}, {0x73, 2}, {0x73, 6}};
                size_t k = oi - G_N_ELEMENTS(ops);
                if (k < 8) {
                    code[len++] = 0x0f;
                    code[len++] = imm[k][0];
                    code[len++] = (uint8_t)(0xc0 | imm[k][1] << 3);
                    code[len++] = (uint8_t)g_rand_int_range(r, 0, 70);
                } else {
                    /* movd eax, mm1; movd mm0, eax... then movd [mem], mm0 */
                    const uint8_t mv[] = {0x0f,      0x7e,      0xc8, 0x0f, 0x6e,      0x43,
                                          D_MEM + 4, 0x0f,      0xfe, 0xc0, 0x0f,      0x7e,
                                          0x43,      D_MEM + 8, 0x89, 0x43, D_MEM + 12};
                    memcpy(code + len, mv, sizeof(mv));
                    len += sizeof(mv);
                }
            }
            /* movq [rbx+48], mm0; emms */
            const uint8_t epi[] = {0x0f, 0x7f, 0x43, D_R0, 0x0f, 0x77};
            memcpy(code + len, epi, sizeof(epi));
            len += sizeof(epi);
            uint8_t data[D_SIZE] = {0}, hd[D_SIZE], ed[D_SIZE];
            for (int i = D_A; i < D_MEM + 16; i += 8) {
                uint64_t v = rnd64(r);
                if (g_rand_int_range(r, 0, 4) == 0)
                    v &= 0x8080808080808080ull * g_rand_int_range(r, 0, 2) | 0x7f7f00ff00ff7fffull;
                memcpy(data + i, &v, 8);
            }
            if (g_rand_boolean(r)) { /* small shift counts */
                uint64_t cnt = (uint64_t)g_rand_int_range(r, 0, 70);
                memcpy(data + (memform ? D_MEM : D_B), &cnt, 8);
            }
            memcpy(hd, data, D_SIZE);
            host_run(&h, code, len, hd);
            uint8_t *ram = hg_bus_ram(m->bus);
            memcpy(ram + DATA, data, D_SIZE);
            /* Before EMMS the x87 view must show TOP = 0, all tags valid, and the
             * exponent bits of a written register all ones. */
            int exc = run32(m, code, len - 2);
            bool alias_ok =
                m->cpu->fpu.top == 0 && m->cpu->fpu.tw == 0 && m->cpu->fpu.regs[0].sexp == 0xffff;
            ram[CODE] = 0x0f; /* then EMMS empties the tags */
            ram[CODE + 1] = 0x77;
            int exc2 = run32(m, code + len - 2, 2);
            alias_ok = alias_ok && m->cpu->fpu.tw == 0xffff;
            memcpy(ed, ram + DATA, D_SIZE);
            n++;
            if (exc != -1 || exc2 != -1 || !alias_ok || memcmp(hd, ed, D_SIZE) != 0) {
                if (fails++ < 10) {
                    uint64_t hv, ev;
                    memcpy(&hv, hd + D_R0, 8);
                    memcpy(&ev, ed + D_R0, 8);
                    g_printerr("mmx case %zu (%s) exc %d/%d alias %d: host %016llx emu "
                               "%016llx\n",
                               oi, memform ? "mem" : "reg", exc, exc2, alias_ok,
                               (unsigned long long)hv, (unsigned long long)ev);
                }
            }
        }
    }
    g_printerr("# MMX instructions: %d comparisons, %d failures\n", n, fails);
    munmap(h.page, 4096);
    machine_free(m);
    g_rand_free(r);
    g_assert_cmpint(fails, ==, 0);
}

#endif /* __x86_64__ */

/* ---- system behaviour ---- */

static void test_nm_ud(void)
{
    Machine *m = machine_new();
    static const uint8_t fld1[] = {0xdb, 0xe3, 0xd9, 0xe8}; /* fninit; fld1 */
    static const uint8_t wait[] = {0x9b};
    static const uint8_t emms[] = {0x0f, 0x77};
    static const uint8_t fisttp[] = {0xdb, 0x0b};
    m->cpu->cr0 |= CR0_TS;
    g_assert_cmpint(run32(m, fld1, 4), ==, EX_NM);
    g_assert_cmpint(run32(m, wait, 1), ==, -1); /* WAIT: #NM only with MP and TS */
    m->cpu->cr0 |= CR0_MP;
    g_assert_cmpint(run32(m, wait, 1), ==, EX_NM);
    g_assert_cmpint(run32(m, emms, 2), ==, EX_NM);
    m->cpu->cr0 &= ~(CR0_TS | CR0_MP);
    m->cpu->cr0 |= CR0_EM;
    g_assert_cmpint(run32(m, fld1, 4), ==, EX_NM);
    g_assert_cmpint(run32(m, emms, 2), ==, EX_UD);
    g_assert_cmpint(run32(m, wait, 1), ==, -1);
    m->cpu->cr0 &= ~CR0_EM;
    g_assert_cmpint(run32(m, fld1, 4), ==, -1);
    g_assert_cmpint(m->cpu->fpu.top, ==, 7);
    g_assert_cmpint(run32(m, fisttp, 2), ==, EX_UD);
    machine_free(m);
}

/* An unmasked divide-by-zero: flags and ES at once, #MF at the next waiting
 * instruction (NE = 1) or FERR# (NE = 0); FNINIT and FNCLEX clear it. */
static void test_mf_ferr(void)
{
    Machine *m = machine_new();
    HgCpu *cpu = m->cpu;
    uint8_t *ram = hg_bus_ram(m->bus);
    /* fninit; fldcw [ebx]; fldz; fld1; fdiv st, st1 */
    static const uint8_t divz[] = {0xdb, 0xe3, 0xd9, 0x2b, 0xd9, 0xee, 0xd9, 0xe8, 0xd8, 0xf1};
    uint16_t cw = 0x037b; /* ZE unmasked */
    memcpy(ram + DATA, &cw, 2);
    cpu->cr0 |= CR0_NE;
    g_assert_cmpint(run32(m, divz, sizeof(divz)), ==, -1);
    g_assert_cmpint(cpu->fpu.sw & (FSW_ZE | FSW_ES | FSW_B), ==, FSW_ZE | FSW_ES | FSW_B);
    /* ST(0) is unchanged (1.0): an unmasked ZE stores nothing. */
    g_assert_cmpint(cpu->fpu.regs[cpu->fpu.top].sexp, ==, 0x3fff);
    g_assert_cmpuint(cpu->fpu.fip, ==, CODE + 8);
    g_assert_cmpuint(cpu->fpu.fop, ==, 0x0f1);
    static const uint8_t fnop[] = {0xd9, 0xd0};
    g_assert_cmpint(run32(m, fnop, 2), ==, EX_MF);
    static const uint8_t emms[] = {0x0f, 0x77}; /* MMX instructions check it too */
    g_assert_cmpint(run32(m, emms, 2), ==, EX_MF);
    static const uint8_t fnstsw[] = {0xdf, 0xe0}; /* non-waiting */
    g_assert_cmpint(run32(m, fnstsw, 2), ==, -1);
    g_assert_cmpint(cpu->regs[R_EAX] & 0xffff, ==, (cpu->fpu.sw | cpu->fpu.top << 11));
    static const uint8_t fnclex[] = {0xdb, 0xe2};
    g_assert_cmpint(run32(m, fnclex, 2), ==, -1);
    g_assert_cmpint(run32(m, fnop, 2), ==, -1);

    cpu->cr0 &= ~CR0_NE;
    g_assert_cmpint(run32(m, divz, sizeof(divz)), ==, -1);
    g_assert_cmpint(m->ferr_calls, ==, 0);
    g_assert_cmpint(run32(m, fnop, 2), ==, -1);
    g_assert_true(m->ferr_level);
    g_assert_cmpint(m->ferr_calls, ==, 1);
    static const uint8_t fninit[] = {0xdb, 0xe3};
    g_assert_cmpint(run32(m, fninit, 2), ==, -1);
    g_assert_false(m->ferr_level);
    g_assert_cmpint(cpu->fpu.sw, ==, 0);
    g_assert_cmpint(cpu->fpu.tw, ==, 0xffff);
    machine_free(m);
}

static void test_stack_faults(void)
{
    Machine *m = machine_new();
    HgCpu *cpu = m->cpu;
    /* fninit; 9 x fld1: the ninth overflows (masked: IE SF C1, indefinite pushed) */
    uint8_t code[32] = {0xdb, 0xe3};
    size_t len = 2;
    for (int i = 0; i < 9; i++) {
        code[len++] = 0xd9;
        code[len++] = 0xe8;
    }
    g_assert_cmpint(run32(m, code, len), ==, -1);
    g_assert_cmpint(cpu->fpu.sw & (FSW_IE | FSW_SF | FSW_C1), ==, FSW_IE | FSW_SF | FSW_C1);
    HgFloatx80 top = cpu->fpu.regs[cpu->fpu.top];
    g_assert_cmpint(top.sexp, ==, 0xffff);
    g_assert_true(top.mant == 0xc000000000000000ull);
    /* fninit; fadd st, st1 on an empty stack: underflow, C1 = 0 */
    static const uint8_t under[] = {0xdb, 0xe3, 0xd8, 0xc1};
    g_assert_cmpint(run32(m, under, sizeof(under)), ==, -1);
    g_assert_cmpint(cpu->fpu.sw & (FSW_IE | FSW_SF | FSW_C1), ==, FSW_IE | FSW_SF);
    machine_free(m);
}

/* FSAVE (32-bit protected layout needs PE; here the real-mode layouts) and FRSTOR. */
static void test_fsave(void)
{
    Machine *m = machine_new();
    HgCpu *cpu = m->cpu;
    uint8_t *ram = hg_bus_ram(m->bus);
    /* fninit; fld1; fldpi; fnsave [ebx]; frstor [ebx] */
    static const uint8_t code[] = {0xdb, 0xe3, 0xd9, 0xe8, 0xd9, 0xeb, 0xdd, 0x33, 0xdd, 0x23};
    memset(ram + DATA, 0xcc, 128);
    g_assert_cmpint(run32(m, code, 8), ==, -1); /* up to and including FNSAVE */
    uint32_t v;
    memcpy(&v, ram + DATA, 4);
    g_assert_cmphex(v, ==, 0xffff037f);
    memcpy(&v, ram + DATA + 4, 4);
    g_assert_cmphex(v, ==, 0xffff3000); /* TOP = 6 */
    memcpy(&v, ram + DATA + 8, 4);
    g_assert_cmphex(v, ==, 0xffff0fff); /* regs 6, 7 valid */
    memcpy(&v, ram + DATA + 12, 4);
    g_assert_cmphex(v & 0xffff, ==, CODE + 4); /* FIP of FLDPI (linear, real mode) */
    memcpy(&v, ram + DATA + 16, 4);
    g_assert_cmphex(v & 0x7ff, ==, 0x1eb);
    uint64_t mant;
    memcpy(&mant, ram + DATA + 28, 8);
    g_assert_true(mant == 0xc90fdaa22168c235ull); /* ST(0) = pi */
    g_assert_cmpint(cpu->fpu.tw, ==, 0xffff);     /* FNSAVE reinitialises */
    g_assert_cmpint(run32(m, code + 8, 2), ==, -1);
    g_assert_cmpint(cpu->fpu.top, ==, 6);
    g_assert_cmpint(cpu->fpu.tw, ==, 0x0fff);
    g_assert_true(cpu->fpu.regs[6].mant == 0xc90fdaa22168c235ull);

    /* 16-bit layout (operand-size prefix): 14-byte environment. */
    static const uint8_t code16[] = {0xdb, 0xe3, 0xd9, 0xe8, 0x66, 0xdd, 0x33};
    memset(ram + DATA, 0xcc, 128);
    g_assert_cmpint(run32(m, code16, sizeof(code16)), ==, -1);
    uint16_t w;
    memcpy(&w, ram + DATA, 2);
    g_assert_cmphex(w, ==, 0x037f);
    memcpy(&w, ram + DATA + 2, 2);
    g_assert_cmphex(w, ==, 0x3800);
    memcpy(&w, ram + DATA + 4, 2);
    g_assert_cmphex(w, ==, 0x3fff);
    memcpy(&mant, ram + DATA + 14, 8);
    g_assert_true(mant == 0x8000000000000000ull);
    machine_free(m);
}

static void test_fxsave(void)
{
    Machine *m = machine_new();
    HgCpu *cpu = m->cpu;
    uint8_t *ram = hg_bus_ram(m->bus);
    /* fninit; fld1; fldz; fxsave [ebx]; fninit; fxrstor [ebx] */
    static const uint8_t code[] = {0xdb, 0xe3, 0xd9, 0xe8, 0xd9, 0xee, 0x0f,
                                   0xae, 0x03, 0xdb, 0xe3, 0x0f, 0xae, 0x0b};
    cpu->fpu.mxcsr = 0x1fa0;
    cpu->fpu.xmm[3][5] = 0x5a;
    memset(ram + DATA, 0xcc, 512);
    g_assert_cmpint(run32(m, code, 9), ==, -1);
    uint16_t w;
    memcpy(&w, ram + DATA, 2);
    g_assert_cmphex(w, ==, 0x037f);
    memcpy(&w, ram + DATA + 2, 2);
    g_assert_cmphex(w, ==, 0x3000);
    g_assert_cmphex(ram[DATA + 4], ==, 0xc0); /* abridged tags: regs 6 and 7 */
    memcpy(&w, ram + DATA + 6, 2);
    g_assert_cmphex(w, ==, 0x1ee); /* FOP of FLDZ */
    uint32_t v;
    memcpy(&v, ram + DATA + 24, 4);
    g_assert_cmphex(v, ==, 0x1fa0);
    uint64_t mant;
    memcpy(&mant, ram + DATA + 48, 8);
    g_assert_true(mant == 0x8000000000000000ull); /* ST(1) = 1.0 */
    g_assert_cmphex(ram[DATA + 160 + 3 * 16 + 5], ==, 0x5a);
    cpu->fpu.xmm[3][5] = 0;
    g_assert_cmpint(run32(m, code + 9, 5), ==, -1); /* fninit; fxrstor */
    g_assert_cmpint(cpu->fpu.top, ==, 6);
    g_assert_cmphex(cpu->fpu.tw, ==, 0x1fff); /* ST(0) = phys 6 zero, ST(1) valid */
    g_assert_cmphex(cpu->fpu.xmm[3][5], ==, 0x5a);
    /* Misaligned image: #GP(0). */
    static const uint8_t mis[] = {0x0f, 0xae, 0x43, 0x08};
    g_assert_cmpint(run32(m, mis, sizeof(mis)), ==, EX_GP);
    /* Reserved MXCSR bits: #GP(0) on FXRSTOR. */
    v = 0x10000;
    memcpy(ram + DATA + 24, &v, 4);
    static const uint8_t rst[] = {0x0f, 0xae, 0x0b};
    g_assert_cmpint(run32(m, rst, sizeof(rst)), ==, EX_GP);
    machine_free(m);
}

/* The protected-mode environment layouts, with selectors and offsets: the CPU is put in
 * protected mode by hand (flat 64 KiB segments with chosen selectors, CPL 0). */
static void test_fstenv_prot(void)
{
    Machine *m = machine_new();
    HgCpu *cpu = m->cpu;
    uint8_t *ram = hg_bus_ram(m->bus);
    /* fninit; fld1; fld dword [ebx+0x40]; fnstenv [ebx]; o16 fnstenv [ebx+0x20] */
    static const uint8_t code[] = {0xdb, 0xe3, 0xd9, 0xe8, 0xd9, 0x43, 0x40,
                                   0xd9, 0x33, 0x66, 0xd9, 0x73, 0x20};
    memcpy(ram + CODE, code, sizeof(code));
    ram[CODE + sizeof(code)] = 0xf4;
    float two = 2.0f;
    memcpy(ram + DATA + 0x40, &two, 4);
    cpu->cr0 |= CR0_PE;
    static const uint16_t sels[S_COUNT] = {0x20, 0x08, 0x10, 0x18, 0x20, 0x20, 0, 0};
    for (int sg = 0; sg < S_GS + 1; sg++) {
        cpu->seg[sg].sel = sels[sg];
        cpu->seg[sg].base = 0;
        cpu->seg[sg].limit = 0xfffff;
        cpu->seg[sg].flags = DESC_P | DESC_S | DESC_W | DESC_A | DESC_B;
    }
    cpu->seg[S_CS].flags |= DESC_CODE;
    for (int sg = 0; sg < S_COUNT; sg++)
        hg_seg_update(cpu, sg);
    hg_cpu_update_mode(cpu);
    hg_tb_flush_all(cpu->tbs);
    cpu->eip = CODE;
    cpu->regs[R_EBX] = DATA;
    hg_cpu_run(cpu, 100);
    g_assert_true(cpu->halted);
    uint32_t v;
    memcpy(&v, ram + DATA + 12, 4);
    g_assert_cmphex(v, ==, CODE + 4); /* FIP: the FLD m32 */
    memcpy(&v, ram + DATA + 16, 4);
    g_assert_cmphex(v, ==, 0x08 | (0x143u << 16)); /* FCS, FOP = D9 43 */
    memcpy(&v, ram + DATA + 20, 4);
    g_assert_cmphex(v, ==, DATA + 0x40); /* FDP */
    memcpy(&v, ram + DATA + 24, 4);
    g_assert_cmphex(v & 0xffff, ==, 0x18); /* FDS */
    uint16_t w;
    memcpy(&w, ram + DATA + 0x20 + 6, 2);
    g_assert_cmphex(w, ==, CODE + 4);
    memcpy(&w, ram + DATA + 0x20 + 8, 2);
    g_assert_cmphex(w, ==, 0x08);
    memcpy(&w, ram + DATA + 0x20 + 10, 2);
    g_assert_cmphex(w, ==, DATA + 0x40);
    memcpy(&w, ram + DATA + 0x20 + 12, 2);
    g_assert_cmphex(w, ==, 0x18);
    /* FNSTENV left every exception masked; the stack holds 2.0 over 1.0. */
    g_assert_cmphex(cpu->fpu.cw, ==, 0x037f);
    g_assert_cmpint(cpu->fpu.top, ==, 6);
    g_assert_cmphex(cpu->fpu.regs[6].sexp, ==, 0x4000);
    machine_free(m);
}

/* FLDCW that unmasks a pending exception: ES rises, the next waiting instruction takes
 * #MF; FNSTCW (non-waiting) does not. */
static void test_fldcw_pending(void)
{
    Machine *m = machine_new();
    HgCpu *cpu = m->cpu;
    uint8_t *ram = hg_bus_ram(m->bus);
    /* fninit; fldz; fld1; fdivrp (1/0 masked: ZE); fldcw [ebx] with ZE unmasked */
    static const uint8_t code[] = {0xdb, 0xe3, 0xd9, 0xee, 0xd9, 0xe8, 0xde, 0xf1, 0xd9, 0x2b};
    uint16_t cw = 0x037b;
    memcpy(ram + DATA, &cw, 2);
    cpu->cr0 |= CR0_NE;
    g_assert_cmpint(run32(m, code, sizeof(code)), ==, -1);
    g_assert_cmphex(cpu->fpu.sw & (FSW_ZE | FSW_ES), ==, FSW_ZE | FSW_ES);
    static const uint8_t fnstcw[] = {0xd9, 0x7b, 0x02};
    g_assert_cmpint(run32(m, fnstcw, sizeof(fnstcw)), ==, -1);
    static const uint8_t wait[] = {0x9b};
    g_assert_cmpint(run32(m, wait, 1), ==, EX_MF);
    machine_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#if defined(__x86_64__)
    g_test_add_func("/fpu/insn/x87-vs-host", test_differential);
    g_test_add_func("/fpu/insn/x87-unmasked-vs-host", test_unmasked);
    g_test_add_func("/fpu/insn/fxsave-vs-host", test_fxsave_host);
    g_test_add_func("/fpu/insn/mmx-vs-host", test_mmx_differential);
#endif
    g_test_add_func("/fpu/insn/nm-ud", test_nm_ud);
    g_test_add_func("/fpu/insn/mf-ferr", test_mf_ferr);
    g_test_add_func("/fpu/insn/stack-faults", test_stack_faults);
    g_test_add_func("/fpu/insn/fsave", test_fsave);
    g_test_add_func("/fpu/insn/fxsave", test_fxsave);
    g_test_add_func("/fpu/insn/fstenv-prot", test_fstenv_prot);
    g_test_add_func("/fpu/insn/fldcw-pending", test_fldcw_pending);
    return g_test_run();
}
