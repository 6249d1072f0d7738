/* Integer instruction classes of the i686 core (shift.c, muldiv.c, bitops.c, bcd.c,
 * string.c, io.c) against this host CPU.
 *
 * Each case runs the same instruction bytes twice: in a bare guest CPU (flat 32-bit
 * segments, code in RAM ending with HLT) and natively, from an executable buffer below
 * 4 GiB, with the same register values. Register forms of these instructions encode
 * identically in 64-bit mode; memory operands and string pointers are given as
 * registers holding an address into a data buffer that exists on both sides, and are
 * compared relative to it. Only the flags the SDM defines for the case are compared.
 * The decimal adjustments do not exist in 64-bit mode: they are checked against the
 * SDM pseudo-code for every input.
 */
#include <glib.h>
#include <stdio.h>
#include <sys/mman.h>

#include "bus.h"
#include "ops.h"
#include "tb.h"

typedef struct Regs {
    uint32_t r[8];
    uint32_t flags;
} Regs;

/* Loads r[] (except ESP/EBP) and the arithmetic flags and DF, calls code, stores them
 * back. */
void host_run(Regs *regs, void *code);
__asm__(".text\n"
        ".globl host_run\n"
        ".type host_run, @function\n"
        "host_run:\n"
        "push %rbx\n push %rbp\n push %r12\n push %r13\n push %r14\n push %r15\n"
        "mov %rdi, %r15\n"
        "mov %rsi, %r14\n"
        "pushfq\n pop %r13\n"
        "and $~0xcd5, %r13\n"
        "mov 32(%r15), %eax\n and $0xcd5, %eax\n or %r13, %rax\n"
        "push %rax\n popfq\n"
        "mov 0(%r15), %eax\n mov 4(%r15), %ecx\n mov 8(%r15), %edx\n mov 12(%r15), %ebx\n"
        "mov 24(%r15), %esi\n mov 28(%r15), %edi\n"
        "call *%r14\n"
        "pushfq\n pop %r13\n cld\n"
        "mov %eax, 0(%r15)\n mov %ecx, 4(%r15)\n mov %edx, 8(%r15)\n mov %ebx, 12(%r15)\n"
        "mov %esi, 24(%r15)\n mov %edi, 28(%r15)\n mov %r13d, 32(%r15)\n"
        "pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbp\n pop %rbx\n"
        "ret\n"
        ".size host_run, .-host_run\n");

enum {
    RAM = 1 << 20,
    CODE = 0x1000,
    HANDLERS = 0x2000, /* vector v: HLT at HANDLERS + 2 * v */
    STACK = 0x8000,
    GDATA = 0x10000,
    DATA_SIZE = 0x3000,
    NONE = -1,
};

typedef struct Fixture {
    HgBus *bus;
    HgCpu *cpu;
    uint8_t *ram;
    uint8_t *hcode; /* host: executable */
    uint8_t *hdata; /* host: data buffer, below 2 GiB */
    GRand *rand;
} Fixture;

static Fixture fx;

static void flat32(HgCpu *cpu)
{
    for (int s = S_ES; s <= S_GS; s++) {
        HgSegment *sg = &cpu->seg[s];
        sg->sel = 0;
        sg->base = 0;
        sg->limit = 0xffffffffu;
        sg->flags = DESC_P | DESC_S | DESC_W | DESC_A | DESC_B | DESC_G;
        if (s == S_CS)
            sg->flags = DESC_P | DESC_S | DESC_R | DESC_A | DESC_CODE | DESC_B | DESC_G;
        hg_seg_update(cpu, s);
    }
    hg_cpu_update_mode(cpu);
}

static void setup(void)
{
    fx.bus = hg_bus_new(RAM);
    fx.cpu = hg_cpu_new(fx.bus, NULL);
    fx.ram = hg_bus_ram(fx.bus);
    fx.hcode = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    fx.hdata = mmap(NULL, DATA_SIZE, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    g_assert(fx.hcode != MAP_FAILED && fx.hdata != MAP_FAILED);
    /* Real-mode IVT: vector v -> 0000:HANDLERS + 2v, each a HLT. */
    for (int v = 0; v < 32; v++) {
        uint32_t e = HANDLERS + 2 * v;
        memcpy(fx.ram + v * 4, &e, 4);
        fx.ram[HANDLERS + 2 * v] = 0xf4;
    }
    fx.rand = g_rand_new_with_seed(0x1686);
}

/* Runs code in the guest; returns the exception vector taken, or NONE. */
static int guest_run(Regs *r, const uint8_t *code, int len)
{
    HgCpu *cpu = fx.cpu;
    memcpy(fx.ram + CODE, code, len);
    fx.ram[CODE + len] = 0xf4;
    hg_tb_invalidate_phys(cpu->tbs, CODE, 32);
    flat32(cpu);
    for (int i = 0; i < 8; i++)
        cpu->regs[i] = r->r[i];
    cpu->regs[R_ESP] = STACK;
    cpu->eip = CODE;
    cpu->halted = false;
    hg_cpu_set_eflags(cpu, r->flags, FL_ARITH | FL_DF);
    HgExitReason why = hg_cpu_run(cpu, 100000);
    g_assert_cmpint(why, ==, HG_EXIT_HALT);
    for (int i = 0; i < 8; i++)
        r->r[i] = cpu->regs[i];
    r->flags = hg_cpu_get_eflags(cpu);
    if (cpu->eip == (uint32_t)(CODE + len + 1))
        return NONE;
    g_assert_cmpuint(cpu->eip, >=, HANDLERS + 1);
    return (int)(cpu->eip - HANDLERS - 1) / 2;
}

static void host_exec(Regs *r, const uint8_t *code, int len)
{
    memcpy(fx.hcode, code, len);
    fx.hcode[len] = 0xc3;
    host_run(r, fx.hcode);
}

static uint32_t rnd(void)
{
    return g_rand_int(fx.rand);
}

/* Operand values biased towards the edges. */
static uint32_t value(void)
{
    static const uint32_t edges[] = {0,          1,          2,          0x7f,       0x80,
                                     0xff,       0x100,      0x7fff,     0x8000,     0xffff,
                                     0x10000,    0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff,
                                     0x80008080, 0x7fff7f7f};
    switch (rnd() % 4) {
    case 0:
        return edges[rnd() % G_N_ELEMENTS(edges)];
    case 1:
        return rnd() & (0xffu << (8 * (rnd() % 4)));
    default:
        return rnd();
    }
}

static void random_regs(Regs *r)
{
    for (int i = 0; i < 8; i++)
        r->r[i] = value();
    r->r[R_ESP] = STACK;
    r->r[R_EBP] = 0;
    r->flags = rnd() & FL_ARITH;
}

/* Pointer registers hold an offset into the data buffer on both sides. */
typedef struct Case {
    const char *name;
    uint8_t code[16];
    int len;
    uint8_t hcode[16]; /* host bytes when they differ (len 0: same) */
    int hlen;
    Regs in;
    unsigned ptr_regs;  /* bit i: r[i] is an offset into the data buffer */
    uint32_t flag_mask; /* flags to compare */
    int expect_exc;     /* exception the guest must raise (NONE: compare with host) */
    bool check_mem;
} Case;

static unsigned n_cases;

static void run_case(const Case *c)
{
    Regs g = c->in, h = c->in;
    uint8_t before[DATA_SIZE];
    for (int i = 0; i < 8; i++) {
        if (c->ptr_regs & (1u << i)) {
            g.r[i] += GDATA;
            h.r[i] += (uint32_t)(uintptr_t)fx.hdata;
        }
    }
    if (c->check_mem) {
        for (int i = 0; i < DATA_SIZE; i++)
            before[i] = (uint8_t)rnd();
        memcpy(fx.ram + GDATA, before, DATA_SIZE);
        memcpy(fx.hdata, before, DATA_SIZE);
    }
    int exc = guest_run(&g, c->code, c->len);
    n_cases++;
    if (c->expect_exc != NONE) {
        if (exc != c->expect_exc)
            g_error("%s: expected exception %d, got %d", c->name, c->expect_exc, exc);
        /* Nothing may have changed before the fault. */
        Regs want = c->in;
        for (int i = 0; i < 8; i++) {
            if (i == R_ESP)
                continue;
            uint32_t v = g.r[i] - ((c->ptr_regs & (1u << i)) ? GDATA : 0);
            if (v != want.r[i])
                g_error("%s: r%d changed before #%d: %08x -> %08x", c->name, i, exc,
                        want.r[i], v);
        }
        if (c->check_mem && memcmp(fx.ram + GDATA, before, DATA_SIZE) != 0)
            g_error("%s: memory changed before the fault", c->name);
        return;
    }
    if (exc != NONE)
        g_error("%s: unexpected exception %d", c->name, exc);
    if (c->hlen)
        host_exec(&h, c->hcode, c->hlen);
    else
        host_exec(&h, c->code, c->len);
    for (int i = 0; i < 8; i++) {
        if (i == R_ESP || i == R_EBP)
            continue;
        uint32_t gv = g.r[i], hv = h.r[i];
        if (c->ptr_regs & (1u << i)) {
            gv -= GDATA;
            hv -= (uint32_t)(uintptr_t)fx.hdata;
        }
        if (gv != hv)
            g_error("%s: r%d = %08x, host %08x (in eax=%08x ecx=%08x edx=%08x ebx=%08x "
                    "esi=%08x edi=%08x fl=%03x)",
                    c->name, i, gv, hv, c->in.r[0], c->in.r[1], c->in.r[2], c->in.r[3],
                    c->in.r[6], c->in.r[7], c->in.flags);
    }
    if ((g.flags ^ h.flags) & c->flag_mask)
        g_error("%s: flags %03x, host %03x, compared %03x (in eax=%08x ecx=%08x edx=%08x "
                "ebx=%08x fl=%03x)",
                c->name, g.flags & FL_ARITH, h.flags & FL_ARITH, c->flag_mask, c->in.r[0],
                c->in.r[1], c->in.r[2], c->in.r[3], c->in.flags);
    if (c->check_mem && memcmp(fx.ram + GDATA, fx.hdata, DATA_SIZE) != 0) {
        int i = 0;
        while (fx.ram[GDATA + i] == fx.hdata[i])
            i++;
        g_error("%s: memory differs at +%#x: %02x, host %02x", c->name, i, fx.ram[GDATA + i],
                fx.hdata[i]);
    }
}

/* Emits an optional operand-size prefix and returns the position after it. */
static int prefix16(uint8_t *code, int bits)
{
    if (bits == 16) {
        code[0] = 0x66;
        return 1;
    }
    return 0;
}

enum { N_RANDOM = 300 };

/* ---- shifts and rotates ---- */

static const char *const shift_names[8] = {"rol", "ror", "rcl", "rcr", "shl", "shr", "sal", "sar"};

static uint32_t shift_count_value(int bits)
{
    static const uint32_t counts[] = {0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 255};
    if (rnd() % 2)
        return counts[rnd() % G_N_ELEMENTS(counts)] | (rnd() % 2 ? rnd() & ~0xffu : 0);
    return rnd() % (bits + 3);
}

static void test_shifts(void)
{
    for (int ext = 0; ext < 8; ext++) {
        for (int bits = 8; bits <= 32; bits *= 2) {
            for (int form = 0; form < 3; form++) { /* 1, CL, Ib */
                for (int mem = 0; mem < 2; mem++) {
                    for (int n = 0; n < N_RANDOM / (mem ? 4 : 1); n++) {
                        Case c = {.name = shift_names[ext], .expect_exc = NONE};
                        random_regs(&c.in);
                        int p = prefix16(c.code, bits);
                        static const uint8_t op8[3] = {0xd0, 0xd2, 0xc0};
                        c.code[p++] = op8[form] + (bits != 8);
                        /* r/m: EBX/BX/BL, or BH for some 8-bit cases; [EBX] for memory */
                        int rm = (bits == 8 && n % 3 == 0) ? 7 : 3;
                        c.code[p++] = (uint8_t)((mem ? 0x00 : 0xc0) | ext << 3 | (mem ? 3 : rm));
                        uint32_t count = form == 0 ? 1 : shift_count_value(bits);
                        if (form == 1)
                            c.in.r[R_ECX] = (c.in.r[R_ECX] & ~0xffu) | (count & 0xff);
                        if (form == 2)
                            c.code[p++] = (uint8_t)count;
                        c.len = p;
                        if (mem) {
                            c.in.r[R_EBX] = 0x100 + rnd() % 0x100;
                            c.ptr_regs = 1u << R_EBX;
                            c.check_mem = true;
                        }
                        if (n == 7) { /* LOCK on a shift: #UD */
                            memmove(c.code + 1, c.code, c.len);
                            c.code[0] = 0xf0;
                            c.len++;
                            c.expect_exc = EX_UD;
                            c.check_mem = false;
                        }
                        unsigned m = count & 31;
                        bool rot = ext < 4;
                        if (m == 0)
                            c.flag_mask = FL_ARITH;
                        else if (rot)
                            c.flag_mask = FL_ARITH & ~(m == 1 ? 0 : FL_OF);
                        else
                            c.flag_mask = FL_CF | FL_PF | FL_ZF | FL_SF | (m == 1 ? FL_OF : 0);
                        run_case(&c);
                    }
                }
            }
        }
    }
}

static void test_shxd(void)
{
    static const char *const names[4] = {"shld ib", "shld cl", "shrd ib", "shrd cl"};
    static const uint8_t opc[4] = {0xa4, 0xa5, 0xac, 0xad};
    for (int k = 0; k < 4; k++) {
        for (int bits = 16; bits <= 32; bits *= 2) {
            for (int mem = 0; mem < 2; mem++) {
                for (int n = 0; n < N_RANDOM; n++) {
                    Case c = {.name = names[k], .expect_exc = NONE};
                    random_regs(&c.in);
                    int p = prefix16(c.code, bits);
                    c.code[p++] = 0x0f;
                    c.code[p++] = opc[k];
                    c.code[p++] = (uint8_t)((mem ? 0x00 : 0xc0) | R_EDX << 3 | R_EBX);
                    uint32_t count = shift_count_value(bits);
                    if (bits == 16 && (count & 31) > 16)
                        count &= 15; /* undefined result and flags: not compared */
                    if (opc[k] & 1)
                        c.in.r[R_ECX] = (c.in.r[R_ECX] & ~0xffu) | (count & 0xff);
                    else
                        c.code[p++] = (uint8_t)count;
                    c.len = p;
                    if (mem) {
                        c.in.r[R_EBX] = 0x100 + rnd() % 0x100;
                        c.ptr_regs = 1u << R_EBX;
                        c.check_mem = true;
                    }
                    unsigned m = count & 31;
                    c.flag_mask = m == 0 ? FL_ARITH
                                         : FL_CF | FL_PF | FL_ZF | FL_SF | (m == 1 ? FL_OF : 0);
                    run_case(&c);
                }
            }
        }
    }
}

/* ---- multiplication and division ---- */

/* Would DIV/IDIV of this case fault? (The host would take SIGFPE.) */
static bool div_faults(int ext, int bits, const Regs *r, uint32_t src)
{
    uint32_t m = bits == 32 ? 0xffffffffu : (1u << bits) - 1;
    src &= m;
    if (src == 0)
        return true;
    if (bits == 8) {
        uint32_t ax = r->r[R_EAX] & 0xffff;
        if (ext == 6)
            return ax / src > 0xff;
        int32_t q = (int16_t)ax / (int8_t)src;
        return q < -128 || q > 127;
    }
    uint64_t dividend = (uint64_t)(r->r[R_EDX] & m) << bits | (r->r[R_EAX] & m);
    if (ext == 6)
        return dividend / src > m;
    int64_t n = bits == 16 ? (int32_t)dividend : (int64_t)dividend;
    int64_t d = bits == 16 ? (int16_t)src : (int32_t)src;
    if (d == -1 && n == INT64_MIN)
        return true;
    int64_t q = n / d;
    return bits == 16 ? (q < -32768 || q > 32767) : (q < INT32_MIN || q > INT32_MAX);
}

static void test_muldiv(void)
{
    static const char *const names[8] = {"", "", "", "", "mul", "imul", "div", "idiv"};
    for (int ext = 4; ext < 8; ext++) {
        for (int bits = 8; bits <= 32; bits *= 2) {
            for (int mem = 0; mem < 2; mem++) {
                for (int n = 0; n < N_RANDOM * 2; n++) {
                    Case c = {.name = names[ext], .expect_exc = NONE};
                    random_regs(&c.in);
                    int p = prefix16(c.code, bits);
                    c.code[p++] = bits == 8 ? 0xf6 : 0xf7;
                    c.code[p++] = (uint8_t)((mem ? 0x00 : 0xc0) | ext << 3 | (mem ? R_ESI : R_EBX));
                    c.len = p;
                    uint32_t src = c.in.r[R_EBX];
                    if (ext >= 6 && n % 2) {
                        /* Make most divisions fit: a small high half. */
                        uint32_t hm = bits == 8 ? 0xff00 : bits == 16 ? 0xffff : 0xffffffff;
                        if (bits == 8)
                            c.in.r[R_EAX] = (c.in.r[R_EAX] & ~hm) | ((rnd() % 4) << 8);
                        else
                            c.in.r[R_EDX] = (c.in.r[R_EDX] & ~hm) | (rnd() % 4);
                        if (ext == 7 && rnd() % 2) {
                            if (bits == 8)
                                c.in.r[R_EAX] |= 0xff00;
                            else
                                c.in.r[R_EDX] |= hm;
                        }
                    }
                    if (mem) {
                        c.in.r[R_ESI] = 0x100 + rnd() % 0x100;
                        c.ptr_regs = 1u << R_ESI;
                        c.check_mem = true;
                    }
                    c.flag_mask = ext < 6 ? FL_CF | FL_OF : 0;
                    if (ext >= 6) {
                        if (mem) {
                            /* run_case fills the buffer at random: fix the divisor there. */
                            c.check_mem = false;
                            memcpy(fx.ram + GDATA + c.in.r[R_ESI], &src, 4);
                            memcpy(fx.hdata + c.in.r[R_ESI], &src, 4);
                        }
                        if (div_faults(ext, bits, &c.in, src))
                            c.expect_exc = EX_DE;
                    } else if (mem) {
                        c.check_mem = false;
                        memcpy(fx.ram + GDATA + c.in.r[R_ESI], &src, 4);
                        memcpy(fx.hdata + c.in.r[R_ESI], &src, 4);
                    }
                    run_case(&c);
                }
            }
        }
    }
    /* Division edges: the most negative quotient fits, one beyond overflows, INT_MIN/-1,
     * a zero divisor, and the largest unsigned quotient. {bits, ext, edx, eax, src} */
    static const uint32_t edges[][5] = {
        {8, 7, 0, 0xff80, 0xff},         {8, 7, 0, 0xff00, 2},           {8, 7, 0, 0x8000, 0xff},
        {8, 7, 0, 0x7f00, 0xff},         {8, 6, 0, 0xff00, 0xff},        {8, 6, 0, 0xfeff, 0xff},
        {8, 6, 0, 0x1234, 0},            {8, 7, 0, 0x0080, 0xff},        {8, 7, 0, 0x007f, 0xff},
        {16, 7, 0xffff, 0x8000, 0xffff}, {16, 7, 0x8000, 0, 0xffff},     {16, 7, 0xffff, 0, 2},
        {16, 6, 0xfffe, 0xffff, 0xffff}, {16, 6, 0xffff, 0, 0xffff},     {16, 7, 0, 0x8000, 0xffff},
        {32, 7, 0x80000000, 0, 0xffffffff}, {32, 7, 0xffffffff, 0x80000000, 0xffffffff},
        {32, 7, 0xffffffff, 0, 2},       {32, 7, 0, 0x80000000, 0xffffffff},
        {32, 6, 0xfffffffe, 0xffffffff, 0xffffffff}, {32, 6, 0xffffffff, 0, 0xffffffff},
        {32, 6, 5, 5, 0},                {32, 7, 0, 0, 0},
        {32, 7, 0x3fffffff, 0xffffffff, 0x80000000},
    };
    for (unsigned i = 0; i < G_N_ELEMENTS(edges); i++) {
        int bits = (int)edges[i][0], ext = (int)edges[i][1];
        Case c = {.name = names[ext], .expect_exc = NONE};
        random_regs(&c.in);
        int p = prefix16(c.code, bits);
        c.code[p++] = bits == 8 ? 0xf6 : 0xf7;
        c.code[p++] = (uint8_t)(0xc0 | ext << 3 | R_EBX);
        c.len = p;
        uint32_t m = bits == 32 ? 0xffffffffu : (1u << bits) - 1;
        uint32_t am = bits == 8 ? 0xffff : m;
        c.in.r[R_EDX] = (c.in.r[R_EDX] & ~m) | edges[i][2];
        c.in.r[R_EAX] = (c.in.r[R_EAX] & ~am) | edges[i][3];
        c.in.r[R_EBX] = (c.in.r[R_EBX] & ~m) | edges[i][4];
        if (div_faults(ext, bits, &c.in, c.in.r[R_EBX]))
            c.expect_exc = EX_DE;
        run_case(&c);
    }
    /* IMUL Gv, Ev [, imm] */
    for (int form = 0; form < 3; form++) {
        static const char *const fn[3] = {"imul r,rm", "imul r,rm,imm", "imul r,rm,imm8"};
        for (int bits = 16; bits <= 32; bits *= 2) {
            for (int n = 0; n < N_RANDOM * 2; n++) {
                Case c = {.name = fn[form], .expect_exc = NONE};
                random_regs(&c.in);
                int p = prefix16(c.code, bits);
                if (form == 0) {
                    c.code[p++] = 0x0f;
                    c.code[p++] = 0xaf;
                } else {
                    c.code[p++] = form == 1 ? 0x69 : 0x6b;
                }
                c.code[p++] = (uint8_t)(0xc0 | R_EDX << 3 | (n % 4 ? R_EBX : R_EDX));
                uint32_t imm = value();
                if (form == 1) {
                    memcpy(c.code + p, &imm, bits / 8);
                    p += bits / 8;
                } else if (form == 2) {
                    c.code[p++] = (uint8_t)imm;
                }
                c.len = p;
                c.flag_mask = FL_CF | FL_OF;
                run_case(&c);
            }
        }
    }
}

/* ---- bit test and scan ---- */

static void test_bitops(void)
{
    static const char *const names[4] = {"bt", "bts", "btr", "btc"};
    static const uint8_t reg_opc[4] = {0xa3, 0xab, 0xb3, 0xbb};
    for (int k = 0; k < 4; k++) {
        for (int bits = 16; bits <= 32; bits *= 2) {
            for (int form = 0; form < 2; form++) {
                for (int mem = 0; mem < 2; mem++) {
                    for (int n = 0; n < N_RANDOM; n++) {
                        Case c = {.name = names[k], .expect_exc = NONE};
                        random_regs(&c.in);
                        int p = 0;
                        /* LOCK: allowed on BTS/BTR/BTC with memory, #UD otherwise. */
                        bool lock = n % 8 == 0;
                        if (lock) {
                            c.code[p++] = 0xf0;
                            if (!mem || k == 0)
                                c.expect_exc = EX_UD;
                        }
                        p += prefix16(c.code + p, bits);
                        c.code[p++] = 0x0f;
                        c.code[p++] = form ? 0xba : reg_opc[k];
                        int reg = form ? 4 + k : R_EDX;
                        c.code[p++] = (uint8_t)((mem ? 0x00 : 0xc0) | reg << 3 | R_EBX);
                        if (form)
                            c.code[p++] = (uint8_t)value();
                        c.len = p;
                        if (mem) {
                            c.in.r[R_EBX] = 0x1000 + rnd() % 0x100;
                            c.ptr_regs = 1u << R_EBX;
                            c.check_mem = true;
                            if (!form) {
                                /* A signed bit offset reaching a few KiB either way. */
                                int32_t off = (int32_t)(rnd() % 0x8000) - 0x4000;
                                if (bits == 16)
                                    c.in.r[R_EDX] = (c.in.r[R_EDX] & 0xffff0000u) |
                                                    (uint16_t)(int16_t)off;
                                else
                                    c.in.r[R_EDX] = (uint32_t)off;
                            }
                        }
                        c.flag_mask = FL_CF | FL_ZF;
                        if (c.expect_exc != NONE)
                            c.check_mem = false;
                        run_case(&c);
                    }
                }
            }
        }
    }
    for (int k = 0; k < 2; k++) {
        for (int bits = 16; bits <= 32; bits *= 2) {
            for (int n = 0; n < N_RANDOM * 2; n++) {
                Case c = {.name = k ? "bsr" : "bsf", .expect_exc = NONE};
                random_regs(&c.in);
                if (n % 5 == 0)
                    c.in.r[R_EBX] &= bits == 16 ? 0xffff0000u : 0;
                int p = prefix16(c.code, bits);
                c.code[p++] = 0x0f;
                c.code[p++] = k ? 0xbd : 0xbc;
                c.code[p++] = (uint8_t)(0xc0 | R_EDX << 3 | R_EBX);
                c.len = p;
                c.flag_mask = FL_ZF;
                run_case(&c);
            }
        }
    }
}

/* ---- decimal adjustments, against the -m32 oracle's records ---- */

typedef struct BcdRec {
    uint16_t opc, base, ax_in, fl_in, ax_out, fl_out;
} BcdRec;

static uint32_t bcd_defined(int opc)
{
    switch (opc) {
    case 0x27:
    case 0x2f:
        return FL_CF | FL_AF | FL_SF | FL_ZF | FL_PF;
    case 0x37:
    case 0x3f:
        return FL_CF | FL_AF;
    default:
        return FL_SF | FL_ZF | FL_PF;
    }
}

static void test_bcd(void)
{
    const char *oracle = g_getenv("BCD_ORACLE");
    if (!oracle) {
        g_test_skip("BCD_ORACLE not set (run through meson test)");
        return;
    }
    /* Binary records on the oracle's stdout. */
    FILE *f = popen(oracle, "r");
    g_assert_nonnull(f);
    GByteArray *buf = g_byte_array_new();
    uint8_t chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
        g_byte_array_append(buf, chunk, (guint)got);
    g_assert_cmpint(pclose(f), ==, 0);
    const BcdRec *recs = (const BcdRec *)buf->data;
    gsize n = buf->len / sizeof(BcdRec);
    g_assert_cmpuint(n, >, 10000);
    for (gsize i = 0; i < n; i++) {
        const BcdRec *r = &recs[i];
        uint8_t code[2] = {(uint8_t)r->opc, (uint8_t)r->base};
        Regs g = {{0}};
        g.r[R_EAX] = 0x5a5a0000u | r->ax_in;
        g.flags = r->fl_in;
        int exc = guest_run(&g, code, r->opc >= 0xd4 ? 2 : 1);
        n_cases++;
        uint32_t mask = bcd_defined(r->opc);
        if (exc != NONE || (g.r[R_EAX] & 0xffff) != r->ax_out ||
            (g.r[R_EAX] >> 16) != 0x5a5a || ((g.flags ^ r->fl_out) & mask))
            g_error("%02x base %u: ax %04x fl %03x -> ax %04x fl %03x (exc %d), host ax %04x "
                    "fl %03x",
                    r->opc, r->base, r->ax_in, r->fl_in, g.r[R_EAX] & 0xffff,
                    g.flags & FL_ARITH, exc, r->ax_out, r->fl_out & FL_ARITH);
    }
    g_byte_array_unref(buf);
    /* AAM 0 raises #DE with AX unchanged. */
    uint8_t aam0[2] = {0xd4, 0x00};
    Regs g = {{0}};
    g.r[R_EAX] = 0x1234;
    g_assert_cmpint(guest_run(&g, aam0, 2), ==, EX_DE);
    g_assert_cmphex(g.r[R_EAX], ==, 0x1234);
}

/* ---- string instructions ---- */

static void test_strings(void)
{
    static const struct {
        const char *name;
        uint8_t opc;
    } ops[] = {{"movs", 0xa4}, {"cmps", 0xa6}, {"stos", 0xaa}, {"lods", 0xac}, {"scas", 0xae}};
    for (unsigned k = 0; k < G_N_ELEMENTS(ops); k++) {
        for (int bits = 8; bits <= 32; bits *= 2) {
            for (int rep = 0; rep < 3; rep++) { /* none, F3, F2 */
                for (int n = 0; n < N_RANDOM / 2; n++) {
                    Case c = {.name = ops[k].name, .expect_exc = NONE, .check_mem = true};
                    random_regs(&c.in);
                    int p = 0;
                    if (rep)
                        c.code[p++] = rep == 1 ? 0xf3 : 0xf2;
                    p += prefix16(c.code + p, bits);
                    c.code[p++] = (uint8_t)(ops[k].opc + (bits != 8));
                    c.len = p;
                    /* Host: the same with a 0x67 prefix, for ESI/EDI/ECX in 64-bit mode. */
                    c.hcode[0] = 0x67;
                    memcpy(c.hcode + 1, c.code, p);
                    c.hlen = p + 1;
                    bool back = rnd() % 3 == 0;
                    c.in.flags = (c.in.flags & FL_ARITH) | (back ? FL_DF : 0);
                    /* Sources and destinations near each other: overlaps of every kind,
                     * runs across the page boundary at +0x1000 and +0x2000. */
                    uint32_t count = rnd() % 3 == 0 ? rnd() % 1200 : rnd() % 40;
                    uint32_t span = count * (bits / 8) + 8;
                    uint32_t lo = back ? span : 0, hi = DATA_SIZE - (back ? 8 : span);
                    if (hi <= lo)
                        count = 0, lo = 8, hi = DATA_SIZE - 8;
                    c.in.r[R_ESI] = lo + rnd() % (hi - lo);
                    c.in.r[R_EDI] = rnd() % 2 ? lo + rnd() % (hi - lo)
                                              : c.in.r[R_ESI] + (rnd() % 16) - 8;
                    if (c.in.r[R_EDI] < lo || c.in.r[R_EDI] >= hi)
                        c.in.r[R_EDI] = c.in.r[R_ESI];
                    c.in.r[R_ECX] = rep ? count : value();
                    c.ptr_regs = 1u << R_ESI | 1u << R_EDI;
                    c.flag_mask = FL_ARITH;
                    run_case(&c);
                }
            }
        }
    }
}

/* Equal runs so REPE CMPS / REPNE SCAS go far: fill the data with a repeating byte. */
static void test_strings_long(void)
{
    for (int n = 0; n < 60; n++) {
        Case c = {.name = n % 2 ? "repe cmpsd" : "repne scasb", .expect_exc = NONE};
        random_regs(&c.in);
        uint8_t fill = (uint8_t)rnd();
        memset(fx.ram + GDATA, fill, DATA_SIZE);
        memset(fx.hdata, fill, DATA_SIZE);
        uint32_t stop = rnd() % 0x2000;
        fx.ram[GDATA + stop] = fx.hdata[stop] = (uint8_t)(fill + 1);
        if (n % 2) {
            c.code[0] = 0xf3, c.code[1] = 0xa7, c.len = 2;
            c.in.r[R_ESI] = 0, c.in.r[R_EDI] = 0x1000, c.in.r[R_ECX] = 0x7ff;
        } else {
            c.code[0] = 0xf2, c.code[1] = 0xae, c.len = 2;
            c.in.r[R_EAX] = (c.in.r[R_EAX] & ~0xffu) | (uint8_t)(fill + 1);
            c.in.r[R_EDI] = 0, c.in.r[R_ECX] = 0x2000 + rnd() % 0x800 - 0x400;
        }
        c.hcode[0] = 0x67;
        memcpy(c.hcode + 1, c.code, c.len);
        c.hlen = c.len + 1;
        c.in.flags &= ~FL_DF;
        c.ptr_regs = 1u << R_ESI | 1u << R_EDI;
        c.flag_mask = FL_ARITH;
        run_case(&c);
    }
}

/* Sets up a guest run without starting it. */
static void guest_prepare(const uint8_t *code, int len)
{
    memcpy(fx.ram + CODE, code, len);
    fx.ram[CODE + len] = 0xf4;
    hg_tb_invalidate_phys(fx.cpu->tbs, CODE, 64);
    flat32(fx.cpu);
    fx.cpu->regs[R_ESP] = STACK;
    fx.cpu->eip = CODE;
    fx.cpu->halted = false;
    hg_cpu_set_eflags(fx.cpu, 0, FL_ARITH | FL_DF);
}

/* A long REP MOVSD gives the CPU back when the budget runs out, with EIP at the
 * instruction and ECX/ESI/EDI part way, and resumes to the same result. */
static void test_rep_interruptible(void)
{
    HgCpu *cpu = fx.cpu;
    for (int i = 0; i < 0x10000; i++)
        fx.ram[0x20000 + i] = (uint8_t)(i * 7);
    const uint8_t code[] = {0xf3, 0xa5}; /* rep movsd */
    guest_prepare(code, 2);
    cpu->regs[R_ESI] = 0x20000;
    cpu->regs[R_EDI] = 0x40000;
    cpu->regs[R_ECX] = 0x4000;
    uint64_t icount = cpu->icount;
    int stops = 0;
    for (;;) {
        HgExitReason why = hg_cpu_run(cpu, 1);
        if (why == HG_EXIT_HALT)
            break;
        g_assert_cmpint(why, ==, HG_EXIT_BUDGET);
        if (cpu->eip == CODE) {
            g_assert_cmpuint(cpu->regs[R_ECX], >, 0);
            g_assert_cmpuint(cpu->regs[R_ECX], <, 0x4000);
            g_assert_cmpuint(cpu->regs[R_ESI], ==, 0x20000 + (0x4000 - cpu->regs[R_ECX]) * 4);
            g_assert_cmpuint(cpu->regs[R_EDI], ==, 0x40000 + (0x4000 - cpu->regs[R_ECX]) * 4);
            stops++;
        }
    }
    g_assert_cmpint(stops, >=, 2);
    /* Retired once, with the HLT after it, however often it stopped. */
    g_assert_cmpuint(cpu->icount - icount, ==, 2);
    g_assert_cmpuint(cpu->regs[R_ECX], ==, 0);
    g_assert_cmpint(memcmp(fx.ram + 0x20000, fx.ram + 0x40000, 0x10000), ==, 0);

    /* An exit request stops it too. */
    guest_prepare(code, 2);
    cpu->regs[R_ESI] = 0x20000;
    cpu->regs[R_EDI] = 0x40000;
    cpu->regs[R_ECX] = 0x4000;
    hg_cpu_kick(cpu);
    g_assert_cmpint(hg_cpu_run(cpu, 1000), ==, HG_EXIT_REQUEST);
    g_assert_cmpint(hg_cpu_run(cpu, 1000000), ==, HG_EXIT_HALT);
    g_assert_cmpuint(cpu->regs[R_ECX], ==, 0);
}

static uint8_t ack_vector(void *opaque)
{
    return 0x1f;
}

static void raise_intr(void *opaque, uint32_t addr, uint32_t value, int size)
{
    HgCpu *cpu = opaque;
    cpu->intr_line = true;
}

/* Single-stepping traps after each iteration with EIP at the instruction; a pending
 * interrupt is taken between chunks, and the pushed IP points at the instruction. */
static void test_rep_trap_and_interrupt(void)
{
    HgCpu *cpu = fx.cpu;
    const uint8_t code[] = {0xf3, 0xa4}; /* rep movsb */
    guest_prepare(code, 2);
    cpu->regs[R_ESI] = 0x20000;
    cpu->regs[R_EDI] = 0x40000;
    cpu->regs[R_ECX] = 3;
    hg_cpu_set_eflags(cpu, FL_TF, FL_TF);
    g_assert_cmpint(hg_cpu_run(cpu, 1000), ==, HG_EXIT_HALT);
    g_assert_cmphex(cpu->eip, ==, HANDLERS + 2 * EX_DB + 1);
    g_assert_cmpuint(cpu->regs[R_ECX], ==, 2);
    g_assert_cmphex(cpu->regs[R_EDI], ==, 0x40001);
    uint16_t ip;
    memcpy(&ip, fx.ram + cpu->regs[R_ESP], 2);
    g_assert_cmphex(ip, ==, CODE);

    /* REP OUTSB to a port whose device raises INTR on the first byte. */
    const uint8_t code2[] = {0xf3, 0x6e}; /* rep outsb */
    hg_bus_map_io(fx.bus, 0x90, 1, NULL, raise_intr, cpu);
    guest_prepare(code2, 2);
    cpu->regs[R_ESI] = 0x20000;
    cpu->regs[R_EDX] = 0x90;
    cpu->regs[R_ECX] = 0x8000;
    hg_cpu_set_eflags(cpu, FL_IF, FL_IF);
    cpu->hooks.intr_ack = ack_vector;
    g_assert_cmpint(hg_cpu_run(cpu, 1000), ==, HG_EXIT_HALT);
    cpu->intr_line = false;
    cpu->hooks.intr_ack = NULL;
    g_assert_cmphex(cpu->eip, ==, HANDLERS + 2 * 0x1f + 1);
    g_assert_cmpuint(cpu->regs[R_ECX], >, 0);
    g_assert_cmpuint(cpu->regs[R_ECX], <, 0x8000);
    g_assert_cmphex(cpu->regs[R_ESI], ==, 0x20000 + 0x8000 - cpu->regs[R_ECX]);
    memcpy(&ip, fx.ram + cpu->regs[R_ESP], 2);
    g_assert_cmphex(ip, ==, CODE);
}

/* A fault in the middle leaves the registers describing the iterations done. */
static void test_rep_fault(void)
{
    HgCpu *cpu = fx.cpu;
    const uint8_t code[] = {0xf3, 0xaa}; /* rep stosb */
    guest_prepare(code, 2);
    cpu->seg[S_ES].limit = GDATA + 100;
    hg_seg_update(cpu, S_ES);
    memset(fx.ram + GDATA, 0, 0x200);
    cpu->regs[R_EAX] = 0x55;
    cpu->regs[R_EDI] = GDATA;
    cpu->regs[R_ECX] = 200;
    g_assert_cmpint(hg_cpu_run(cpu, 1000), ==, HG_EXIT_HALT);
    g_assert_cmphex(cpu->eip, ==, HANDLERS + 2 * EX_GP + 1);
    g_assert_cmpuint(cpu->regs[R_ECX], ==, 99);
    g_assert_cmphex(cpu->regs[R_EDI], ==, GDATA + 101);
    uint16_t ip;
    memcpy(&ip, fx.ram + cpu->regs[R_ESP], 2);
    g_assert_cmphex(ip, ==, CODE);
    g_assert_cmpuint(fx.ram[GDATA + 100], ==, 0x55);
    g_assert_cmpuint(fx.ram[GDATA + 101], ==, 0);
}

/* REP MOVSB and REP STOSB over the instruction that follows in the same block: the
 * new bytes run. */
static void test_rep_smc(void)
{
    HgCpu *cpu = fx.cpu;
    const uint8_t code[] = {0xf3, 0xa4, 0xb0, 0x01}; /* rep movsb; mov al, 1 */
    guest_prepare(code, 4);
    cpu->regs[R_ESI] = 0x30001;
    cpu->regs[R_EDI] = CODE + 3;
    cpu->regs[R_ECX] = 1;
    cpu->regs[R_EAX] = 0;
    /* Run once as is so the block is cached and the page protected. */
    fx.ram[0x30001] = 0x01;
    g_assert_cmpint(hg_cpu_run(cpu, 1000), ==, HG_EXIT_HALT);
    g_assert_cmpuint(cpu->regs[R_EAX] & 0xff, ==, 1);
    cpu->eip = CODE;
    cpu->halted = false;
    fx.ram[0x30001] = 0x02;
    cpu->regs[R_ESI] = 0x30001;
    cpu->regs[R_EDI] = CODE + 3;
    cpu->regs[R_ECX] = 1;
    g_assert_cmpint(hg_cpu_run(cpu, 1000), ==, HG_EXIT_HALT);
    g_assert_cmpuint(cpu->regs[R_EAX] & 0xff, ==, 2);

    const uint8_t code2[] = {0xf3, 0xaa, 0xb0, 0x01}; /* rep stosb; mov al, 1 */
    guest_prepare(code2, 4);
    g_assert_cmpint(hg_cpu_run(cpu, 1000), ==, HG_EXIT_HALT); /* ECX = 0: nothing */
    cpu->eip = CODE;
    cpu->halted = false;
    cpu->regs[R_EAX] = 0x77;
    cpu->regs[R_EDI] = CODE + 3;
    cpu->regs[R_ECX] = 1;
    g_assert_cmpint(hg_cpu_run(cpu, 1000), ==, HG_EXIT_HALT);
    g_assert_cmpuint(cpu->regs[R_EAX] & 0xff, ==, 0x77);
}

/* Runs of REP STOSB / REP MOVSB (forward and backward) over code of the same block and
 * of an earlier translated block on the page: the new bytes run. */
static void test_rep_smc_runs(void)
{
    HgCpu *cpu = fx.cpu;
    for (int back = 0; back < 2; back++) {
        for (int movs = 0; movs < 2; movs++) {
            /* rep stos/movs; 8 x nop; hlt -- the run turns the NOPs into INC EAX. */
            uint8_t code[11] = {0xf3, movs ? 0xa4 : 0xaa};
            memset(code + 2, 0x90, 8);
            guest_prepare(code, 10);
            g_assert_cmpint(hg_cpu_run(cpu, 1000), ==, HG_EXIT_HALT); /* ECX = 0: translate */
            cpu->eip = CODE;
            cpu->halted = false;
            memset(fx.ram + 0x30000, 0x40, 16);
            cpu->regs[R_EAX] = 0x40;
            cpu->regs[R_ECX] = 8;
            cpu->regs[R_ESI] = 0x30000 + (back ? 7 : 0);
            cpu->regs[R_EDI] = CODE + 2 + (back ? 7 : 0);
            hg_cpu_set_eflags(cpu, back ? FL_DF : 0, FL_DF);
            g_assert_cmpint(hg_cpu_run(cpu, 1000), ==, HG_EXIT_HALT);
            g_assert_cmphex(cpu->regs[R_EAX], ==, 0x48);
            g_assert_cmpuint(cpu->regs[R_ECX], ==, 0);
        }
    }
}

/* 16-bit addressing wraps SI/DI/CX at 64 KiB; a segment prefix moves the source only. */
static void test_string_addressing(void)
{
    HgCpu *cpu = fx.cpu;
    const uint8_t code[] = {0x67, 0xf3, 0x64, 0xa4}; /* rep movsb fs:[si] -> es:[di] */
    guest_prepare(code, 4);
    cpu->seg[S_FS].base = 0x50000;
    cpu->seg[S_ES].base = 0x60000;
    cpu->seg[S_DS].base = 0x70000;
    for (int s = S_ES; s <= S_GS; s++) {
        cpu->seg[s].limit = 0xffff;
        hg_seg_update(cpu, s);
    }
    fx.ram[0x5ffff] = 0xa1;
    fx.ram[0x50000] = 0xa2;
    fx.ram[0x70000] = 0xee;
    cpu->regs[R_ESI] = 0x1234ffff;
    cpu->regs[R_EDI] = 0x5678fffe;
    cpu->regs[R_ECX] = 0xabcd0002;
    g_assert_cmpint(hg_cpu_run(cpu, 1000), ==, HG_EXIT_HALT);
    g_assert_cmphex(cpu->eip, ==, CODE + 5);
    g_assert_cmphex(cpu->regs[R_ESI], ==, 0x12340001);
    g_assert_cmphex(cpu->regs[R_EDI], ==, 0x56780000);
    g_assert_cmphex(cpu->regs[R_ECX], ==, 0xabcd0000);
    g_assert_cmpuint(fx.ram[0x6fffe], ==, 0xa1);
    g_assert_cmpuint(fx.ram[0x6ffff], ==, 0xa2);

    /* A REP prefix on a non-string instruction is ignored. */
    const uint8_t code2[] = {0xf3, 0x40 + 8, 0xf2, 0xd1, 0xe0}; /* rep dec eax; repne shl eax */
    guest_prepare(code2, 5);
    cpu->regs[R_EAX] = 5;
    cpu->regs[R_ECX] = 3;
    g_assert_cmpint(hg_cpu_run(cpu, 1000), ==, HG_EXIT_HALT);
    g_assert_cmphex(cpu->regs[R_EAX], ==, 8);
    g_assert_cmphex(cpu->regs[R_ECX], ==, 3);
}

/* Reference model of one string instruction, element by element as the SDM describes
 * it, on guest RAM with explicit segment bases: for 16-bit addressing and segment
 * overrides, which the host cannot run in 64-bit mode. */
static uint32_t sub_flags(uint32_t a, uint32_t b, int bits)
{
    uint32_t m = bits == 32 ? 0xffffffffu : (1u << bits) - 1, sign = 1u << (bits - 1);
    uint32_t r = (a - b) & m, f = 0;
    if (a < b)
        f |= FL_CF;
    if (!r)
        f |= FL_ZF;
    if (r & sign)
        f |= FL_SF;
    if ((a ^ b) & (a ^ r) & sign)
        f |= FL_OF;
    if ((a ^ b ^ r) & 0x10)
        f |= FL_AF;
    if (!__builtin_parity(r & 0xff))
        f |= FL_PF;
    return f;
}

static void model_string(Regs *r, uint8_t *ram, uint8_t opc, int bits, int rep, bool a16,
                         uint32_t sbase, uint32_t dbase)
{
    int n = bits / 8;
    uint32_t am = a16 ? 0xffff : 0xffffffffu;
    uint32_t d = (r->flags & FL_DF) ? (uint32_t)-n : (uint32_t)n;
    uint32_t vm = bits == 32 ? 0xffffffffu : (1u << bits) - 1;
    for (;;) {
        if (rep && (r->r[R_ECX] & am) == 0)
            return;
        uint32_t si = r->r[R_ESI] & am, di = r->r[R_EDI] & am, v = 0, w = 0;
        bool eq = false;
        switch (opc) {
        case 0xa4: /* MOVS */
            memcpy(&v, ram + sbase + si, n);
            memcpy(ram + dbase + di, &v, n);
            break;
        case 0xa6: /* CMPS */
            memcpy(&v, ram + sbase + si, n);
            memcpy(&w, ram + dbase + di, n);
            r->flags = (r->flags & ~FL_ARITH) | sub_flags(v, w, bits);
            eq = v == w;
            break;
        case 0xaa: /* STOS */
            memcpy(ram + dbase + di, &r->r[R_EAX], n);
            break;
        case 0xac: /* LODS */
            memcpy(&v, ram + sbase + si, n);
            r->r[R_EAX] = (r->r[R_EAX] & ~vm) | v;
            break;
        default: /* SCAS */
            memcpy(&w, ram + dbase + di, n);
            r->flags = (r->flags & ~FL_ARITH) | sub_flags(r->r[R_EAX] & vm, w, bits);
            eq = (r->r[R_EAX] & vm) == w;
            break;
        }
        if (opc == 0xa4 || opc == 0xa6 || opc == 0xac)
            r->r[R_ESI] = (r->r[R_ESI] & ~am) | ((si + d) & am);
        if (opc != 0xac)
            r->r[R_EDI] = (r->r[R_EDI] & ~am) | ((di + d) & am);
        if (!rep)
            return;
        r->r[R_ECX] = (r->r[R_ECX] & ~am) | ((r->r[R_ECX] - 1) & am);
        if ((opc == 0xa6 || opc == 0xae) && eq == (rep == 2))
            return;
    }
}

static void test_strings_a16(void)
{
    HgCpu *cpu = fx.cpu;
    static const uint8_t opcs[] = {0xa4, 0xa6, 0xaa, 0xac, 0xae};
    static const uint8_t seg_prefix[] = {0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65};
    uint8_t *model_ram = g_malloc(RAM);
    for (int n = 0; n < 1500; n++) {
        uint8_t opc = opcs[rnd() % G_N_ELEMENTS(opcs)];
        int bits = 8 << (rnd() % 3);
        int rep = rnd() % 3;
        bool a16 = rnd() % 4 != 0;
        int sp = rnd() % 7; /* 6: no segment prefix */
        uint8_t code[8];
        int p = 0;
        if (a16)
            code[p++] = 0x67;
        if (rep)
            code[p++] = rep == 1 ? 0xf3 : 0xf2;
        if (sp < 6)
            code[p++] = seg_prefix[sp];
        p += prefix16(code + p, bits);
        code[p++] = (uint8_t)(opc + (bits != 8));
        guest_prepare(code, p);
        /* Bases from 0x20000, some not page-aligned, the source possibly equal to ES. */
        uint32_t bases[S_GS + 1];
        for (int s = S_ES; s <= S_GS; s++) {
            bases[s] = 0x20000 + 0x10000 * (uint32_t)(rnd() % 8) + (rnd() % 2 ? rnd() % 0x1000 : 0);
            if (s == S_CS)
                bases[s] = 0;
            cpu->seg[s].base = bases[s];
            cpu->seg[s].limit = a16 ? 0xffff : 0xfffff;
            hg_seg_update(cpu, s);
        }
        int src = sp < 6 ? (int)(seg_prefix[sp] == 0x64   ? S_FS
                                 : seg_prefix[sp] == 0x65 ? S_GS
                                                          : (seg_prefix[sp] >> 3) & 3)
                         : S_DS;
        if (src == S_CS)
            continue; /* CS is not writable here and holds the code; skip */
        for (int i = 0x20000; i < 0xc0000; i += 4) {
            uint32_t v = rnd() % 8 ? 0x5a5a5a5a : rnd();
            memcpy(fx.ram + i, &v, 4);
        }
        Regs r;
        random_regs(&r);
        r.flags = (rnd() & FL_ARITH) | (rnd() % 2 ? FL_DF : 0);
        if (opc == 0xae || opc == 0xaa)
            r.r[R_EAX] = rnd() % 2 ? 0x5a5a5a5a : r.r[R_EAX];
        /* Near the 64 KiB wrap in both directions, or anywhere. */
        uint32_t hi16 = a16 ? rnd() & 0xffff0000u : 0;
        r.r[R_ESI] = hi16 | (rnd() % 2 ? 0xffff - rnd() % 64 : rnd() % 0x10000);
        r.r[R_EDI] = hi16 | (rnd() % 2 ? rnd() % 64 : rnd() % 0x10000);
        r.r[R_ECX] = (a16 ? rnd() & 0xffff0000u : 0) | (rnd() % 2 ? rnd() % 300 : rnd() % 5000);
        if (!a16) {
            r.r[R_ESI] &= 0xffff;
            r.r[R_EDI] &= 0xffff;
            r.r[R_ECX] &= 0x3fff;
            if (r.flags & FL_DF) {
                r.r[R_ESI] += 0x8000;
                r.r[R_EDI] += 0x8000;
                r.r[R_ECX] &= 0xfff;
            }
        }
        /* A 16-bit word or dword at offset 0xffff+ crosses the limit and faults: avoid
         * by keeping element starts aligned in a16 runs. */
        if (a16) {
            r.r[R_ESI] &= ~(uint32_t)(bits / 8 - 1);
            r.r[R_EDI] &= ~(uint32_t)(bits / 8 - 1);
        }
        Regs want = r;
        memcpy(model_ram, fx.ram, RAM);
        model_string(&want, model_ram, opc, bits, rep, a16, bases[src], bases[S_ES]);
        for (int i = 0; i < 8; i++)
            cpu->regs[i] = r.r[i];
        cpu->regs[R_ESP] = STACK;
        hg_cpu_set_eflags(cpu, r.flags, FL_ARITH | FL_DF);
        g_assert_cmpint(hg_cpu_run(cpu, 1000000), ==, HG_EXIT_HALT);
        n_cases++;
        if (cpu->eip != (uint32_t)(CODE + p + 1))
            g_error("a16 string %02x/%d rep %d: exception, eip %08x", opc, bits, rep, cpu->eip);
        for (int i = 0; i < 8; i++)
            if (i != R_ESP && cpu->regs[i] != want.r[i])
                g_error("a16=%d string %02x/%d rep %d seg %d: r%d = %08x, model %08x", a16, opc,
                        bits, rep, sp, i, cpu->regs[i], want.r[i]);
        if ((hg_cpu_get_eflags(cpu) ^ want.flags) & FL_ARITH)
            g_error("a16 string %02x/%d: flags %03x, model %03x", opc, bits,
                    hg_cpu_get_eflags(cpu) & FL_ARITH, want.flags & FL_ARITH);
        if (memcmp(model_ram + 0x20000, fx.ram + 0x20000, 0xa0000) != 0)
            g_error("a16 string %02x/%d rep %d: memory differs", opc, bits, rep);
    }
    g_free(model_ram);
}

/* ---- port I/O ---- */

typedef struct Echo {
    uint32_t last;
    int reads, writes;
} Echo;

static uint32_t echo_read(void *opaque, uint32_t addr, int size)
{
    Echo *e = opaque;
    e->reads++;
    return (e->last + addr) & (size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1);
}

static void echo_write(void *opaque, uint32_t addr, uint32_t value, int size)
{
    Echo *e = opaque;
    e->writes++;
    e->last = value;
}

static void test_io(void)
{
    HgCpu *cpu = fx.cpu;
    Echo *echo = g_new0(Echo, 1);
    hg_bus_map_io(fx.bus, 0x300, 8, echo_read, echo_write, echo);
    hg_bus_map_io(fx.bus, 0x80, 8, echo_read, echo_write, echo);
    /* out 0x80, eax; in ax, 0x81; mov dx, 0x302; out dx, ax; in eax, dx */
    const uint8_t code[] = {0xe7, 0x80, 0x66, 0xe5, 0x81, 0x66, 0xba, 0x02, 0x03,
                            0x66, 0xef, 0xed};
    guest_prepare(code, sizeof(code));
    cpu->regs[R_EAX] = 0x11223344;
    g_assert_cmpint(hg_cpu_run(cpu, 1000), ==, HG_EXIT_HALT);
    g_assert_cmphex(echo->last, ==, 0x33c5);
    g_assert_cmphex(cpu->regs[R_EAX], ==, 0x33c5 + 0x302);
    g_assert_cmpint(echo->reads, ==, 2);
    g_assert_cmpint(echo->writes, ==, 2);

    /* rep outsw then rep insb */
    const uint8_t code2[] = {0xf3, 0x66, 0x6f, 0xf3, 0x6c};
    guest_prepare(code2, sizeof(code2));
    memcpy(fx.ram + GDATA, "\x01\x02\x03\x04\x05\x06", 6);
    cpu->regs[R_EDX] = 0x300;
    cpu->regs[R_ESI] = GDATA;
    cpu->regs[R_EDI] = GDATA + 0x100;
    cpu->regs[R_ECX] = 3;
    g_assert_cmpint(hg_cpu_run(cpu, 1000), ==, HG_EXIT_HALT);
    g_assert_cmphex(echo->last, ==, 0x0605);
    g_assert_cmphex(cpu->regs[R_ESI], ==, GDATA + 6);
    g_assert_cmphex(cpu->regs[R_EDI], ==, GDATA + 0x100); /* ECX was 0 for INSB */
    g_assert_cmpint(echo->writes, ==, 5);

    /* The protected-mode permission check (hg_io_check) is not exercised here: its
     * #GP needs protected-mode exception delivery. */
    g_free(echo);
}

static void test_summary(void)
{
    g_test_message("%u guest runs compared", n_cases);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    setup();
    g_test_add_func("/cpu-integer/shift", test_shifts);
    g_test_add_func("/cpu-integer/shxd", test_shxd);
    g_test_add_func("/cpu-integer/muldiv", test_muldiv);
    g_test_add_func("/cpu-integer/bitops", test_bitops);
    g_test_add_func("/cpu-integer/bcd", test_bcd);
    g_test_add_func("/cpu-integer/string", test_strings);
    g_test_add_func("/cpu-integer/string-long", test_strings_long);
    g_test_add_func("/cpu-integer/string-a16-segments", test_strings_a16);
    g_test_add_func("/cpu-integer/rep-interruptible", test_rep_interruptible);
    g_test_add_func("/cpu-integer/rep-fault", test_rep_fault);
    g_test_add_func("/cpu-integer/rep-trap-interrupt", test_rep_trap_and_interrupt);
    g_test_add_func("/cpu-integer/rep-smc", test_rep_smc);
    g_test_add_func("/cpu-integer/rep-smc-runs", test_rep_smc_runs);
    g_test_add_func("/cpu-integer/string-addressing", test_string_addressing);
    g_test_add_func("/cpu-integer/io", test_io);
    g_test_add_func("/cpu-integer/summary", test_summary);
    return g_test_run();
}
