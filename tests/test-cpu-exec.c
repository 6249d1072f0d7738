/* Unit tests of the execution loop and the TLB where QEMU cannot serve as the oracle
 * (it has no interrupt source in the bare guest tests, and it flushes global pages on
 * every CR3 write): the one-instruction interrupt shadow after STI and MOV SS, also
 * across the end of a run slice (SDM Vol. 3A 6.8.3), waking from HLT on an interrupt,
 * and global pages surviving a CR3 write while INVLPG drops them (4.10.2.4, 4.10.4.1).
 */
#include <glib.h>

#include "bus.h"
#include "cpu.h"
#include "mmu.h"

typedef struct Fixture {
    HgBus *bus;
    HgCpu *cpu;
    int acks;
} Fixture;

static uint8_t ack(void *opaque)
{
    Fixture *f = opaque;
    f->acks++;
    hg_cpu_set_intr(f->cpu, false);
    return 0x20;
}

/* A real-mode CPU at 0000:7C00 with SS:SP = 0000:7000 and 16 MiB of RAM. */
static void setup(Fixture *f, gconstpointer data)
{
    (void)data;
    f->bus = hg_bus_new(16u << 20);
    f->acks = 0;
    HgCpuHooks hooks = {.opaque = f, .intr_ack = ack};
    f->cpu = hg_cpu_new(f->bus, &hooks);
    hg_cpu_load_seg_real(f->cpu, S_CS, 0);
    hg_cpu_load_seg_real(f->cpu, S_SS, 0);
    f->cpu->eip = 0x7c00;
    f->cpu->regs[R_ESP] = 0x7000;
}

static void teardown(Fixture *f, gconstpointer data)
{
    (void)data;
    hg_cpu_free(f->cpu);
    hg_bus_free(f->bus);
}

static void put(Fixture *f, uint32_t addr, const uint8_t *bytes, size_t n)
{
    memcpy(hg_bus_ram(f->bus) + addr, bytes, n);
}

static void put32(Fixture *f, uint32_t addr, uint32_t v)
{
    memcpy(hg_bus_ram(f->bus) + addr, &v, 4);
}

/* IVT entry 0x20 -> 0000:8000: MOV BX,AX; INC CX; IRET. */
static void install_handler(Fixture *f)
{
    static const uint8_t handler[] = {0x89, 0xc3, 0x41, 0xcf};
    put(f, 0x8000, handler, sizeof(handler));
    put32(f, 0x20 * 4, 0x00008000u);
}

static void test_sti_shadow(Fixture *f, gconstpointer data)
{
    (void)data;
    /* STI; INC AX; INC AX; INC AX; CLI; HLT with an interrupt pending all along: it is
     * taken after exactly one INC, not after the rest of the block. */
    static const uint8_t code[] = {0xfb, 0x40, 0x40, 0x40, 0xfa, 0xf4};
    put(f, 0x7c00, code, sizeof(code));
    install_handler(f);
    hg_cpu_set_intr(f->cpu, true);
    g_assert_cmpint(hg_cpu_run(f->cpu, 1000), ==, HG_EXIT_HALT);
    g_assert_cmpint(f->acks, ==, 1);
    g_assert_cmpuint(f->cpu->regs[R_EBX] & 0xffff, ==, 1); /* AX when the IRQ came */
    g_assert_cmpuint(f->cpu->regs[R_EAX] & 0xffff, ==, 3);
}

static void test_sti_sti(Fixture *f, gconstpointer data)
{
    (void)data;
    /* STI with IF already set opens no new shadow: the interrupt comes right after it. */
    static const uint8_t code[] = {0xfb, 0x40, 0xfb, 0x40, 0x40, 0xfa, 0xf4};
    put(f, 0x7c00, code, sizeof(code));
    install_handler(f);
    g_assert_cmpint(hg_cpu_run(f->cpu, 2), ==, HG_EXIT_BUDGET); /* STI; INC */
    hg_cpu_set_intr(f->cpu, true);
    g_assert_cmpint(hg_cpu_run(f->cpu, 1000), ==, HG_EXIT_HALT);
    g_assert_cmpint(f->acks, ==, 1);
    g_assert_cmpuint(f->cpu->regs[R_EBX] & 0xffff, ==, 1);
}

static void test_mov_ss_shadow(Fixture *f, gconstpointer data)
{
    (void)data;
    /* STI; NOP; MOV SS,CX; INC AX; INC AX; CLI; HLT, with the interrupt raised right
     * after MOV SS: it is held off for exactly the next instruction. */
    static const uint8_t code[] = {0xfb, 0x90, 0x8e, 0xd1, 0x40, 0x40, 0xfa, 0xf4};
    put(f, 0x7c00, code, sizeof(code));
    install_handler(f);
    g_assert_cmpint(hg_cpu_run(f->cpu, 3), ==, HG_EXIT_BUDGET); /* STI, NOP, MOV SS */
    g_assert_cmpuint(f->cpu->eip, ==, 0x7c04);
    hg_cpu_set_intr(f->cpu, true);
    g_assert_cmpint(hg_cpu_run(f->cpu, 1000), ==, HG_EXIT_HALT);
    g_assert_cmpint(f->acks, ==, 1);
    g_assert_cmpuint(f->cpu->regs[R_EBX] & 0xffff, ==, 1);
    g_assert_cmpuint(f->cpu->regs[R_EAX] & 0xffff, ==, 2);
}

static void test_mov_cr_mod_ignored(Fixture *f, gconstpointer data)
{
    (void)data;
    /* MOV EAX,CR0 encoded with mod=00 rm=000 (0F 20 00) and MOV EBX,CR0 with mod=01
     * rm=011 (0F 20 43): the mod field is ignored, the operand is a register and no
     * displacement byte follows (SDM Vol. 2B, MOV to/from control registers). Then
     * MOV DR7,EAX with mod=10 (0F 23 B8) and MOV ECX,DR7 with mod=00 (0F 21 39). */
    static const uint8_t code[] = {0x0f, 0x20, 0x00, 0x0f, 0x20, 0x43, 0x66, 0xb8,
                                   0x00, 0x04, 0x00, 0x00, /* MOV EAX,0x400 */
                                   0x0f, 0x23, 0xb8, 0x0f, 0x21, 0x39, 0xf4};
    put(f, 0x7c00, code, sizeof(code));
    f->cpu->regs[R_EAX] = 0x12345678;
    g_assert_cmpint(hg_cpu_run(f->cpu, 100), ==, HG_EXIT_HALT);
    g_assert_cmpuint(f->cpu->eip, ==, 0x7c00 + sizeof(code));
    g_assert_cmpuint(f->cpu->regs[R_EBX], ==, f->cpu->cr0);
    g_assert_cmpuint(f->cpu->regs[R_ECX] & 0x400, ==, 0x400);
}

static void test_hlt_wakeup(Fixture *f, gconstpointer data)
{
    (void)data;
    /* STI; HLT; INC AX; CLI; HLT: halted until the interrupt, which returns after HLT. */
    static const uint8_t code[] = {0xfb, 0xf4, 0x40, 0xfa, 0xf4};
    put(f, 0x7c00, code, sizeof(code));
    install_handler(f);
    g_assert_cmpint(hg_cpu_run(f->cpu, 1000), ==, HG_EXIT_HALT);
    g_assert_cmpuint(f->cpu->eip, ==, 0x7c02);
    g_assert_true(f->cpu->halted);
    g_assert_cmpint(hg_cpu_run(f->cpu, 1000), ==, HG_EXIT_HALT); /* nothing to wake it */
    g_assert_cmpint(f->acks, ==, 0);
    hg_cpu_set_intr(f->cpu, true);
    g_assert_cmpint(hg_cpu_run(f->cpu, 1000), ==, HG_EXIT_HALT);
    g_assert_cmpint(f->acks, ==, 1);
    g_assert_cmpuint(f->cpu->regs[R_ECX] & 0xffff, ==, 1);
    g_assert_cmpuint(f->cpu->regs[R_EAX] & 0xffff, ==, 1);
    g_assert_cmpuint(f->cpu->eip, ==, 0x7c05);
}

static gpointer kick_later(gpointer cpu)
{
    g_usleep(20000);
    hg_cpu_kick(cpu);
    return NULL;
}

static void test_chained_loop(Fixture *f, gconstpointer data)
{
    (void)data;
    /* INC AX; INC AX; JMP back: a block linked to itself, which the loop runs without
     * its full checks. The budget still stops it exactly, an exit request from another
     * thread stops it, and a pending interrupt is taken once IF allows. */
    static const uint8_t code[] = {0x40, 0x40, 0xeb, 0xfc};
    put(f, 0x7c00, code, sizeof(code));
    install_handler(f);
    g_assert_cmpint(hg_cpu_run(f->cpu, 3000), ==, HG_EXIT_BUDGET);
    g_assert_cmpuint(hg_cpu_icount_now(f->cpu), ==, 3000);
    g_assert_cmpuint(f->cpu->regs[R_EAX] & 0xffff, ==, 2000);
    g_assert_cmpuint(f->cpu->eip, ==, 0x7c00);
    GThread *t = g_thread_new("kick", kick_later, f->cpu);
    g_assert_cmpint(hg_cpu_run(f->cpu, G_MAXINT64), ==, HG_EXIT_REQUEST);
    g_thread_join(t);
    g_assert_cmpuint(hg_cpu_icount_now(f->cpu) % 3, ==, 0);
    hg_cpu_set_intr(f->cpu, true); /* IF is clear: the loop goes on */
    g_assert_cmpint(hg_cpu_run(f->cpu, 3000), ==, HG_EXIT_BUDGET);
    g_assert_cmpint(f->acks, ==, 0);
    f->cpu->eflags |= FL_IF;
    hg_cpu_set_intr(f->cpu, true);
    g_assert_cmpint(hg_cpu_run(f->cpu, 3), ==, HG_EXIT_BUDGET);
    g_assert_cmpint(f->acks, ==, 1);
}

/* Flat 32-bit protected mode with 4 MiB pages: linear 0-4 MiB identity (not global),
 * linear 8 MiB -> physical 4 MiB through PDE 2 (global when g). The code reads linear
 * 8 MiB, repoints PDE 2 at physical 8 MiB, writes CR3, reads again, INVLPGs, reads. */
static void run_global(Fixture *f, bool g, uint32_t *before, uint32_t *after_cr3,
                       uint32_t *after_invlpg)
{
    static const uint8_t code[] = {
        0xa1, 0x00, 0x00, 0x80, 0x00,             /* mov eax, [0x800000] */
        0x89, 0x15, 0x08, 0x00, 0x01, 0x00,       /* mov [0x10008], edx */
        0x0f, 0x22, 0xdb,                         /* mov cr3, ebx */
        0x8b, 0x0d, 0x00, 0x00, 0x80, 0x00,       /* mov ecx, [0x800000] */
        0x0f, 0x01, 0x3d, 0x00, 0x00, 0x80, 0x00, /* invlpg [0x800000] */
        0x8b, 0x35, 0x00, 0x00, 0x80, 0x00,       /* mov esi, [0x800000] */
        0xf4,                                     /* hlt */
    };
    HgCpu *cpu = f->cpu;
    put(f, 0x1000, code, sizeof(code));
    put32(f, 0x10000, 0x00000083u);
    put32(f, 0x10008, 0x00400083u | (g ? 0x100u : 0));
    put32(f, 0x400000, 0x11111111u);
    put32(f, 0x800000, 0x22222222u);
    uint32_t flat = DESC_P | DESC_S | DESC_A | DESC_B | DESC_G;
    for (int s = S_ES; s <= S_GS; s++) {
        cpu->seg[s].sel = s == S_CS ? 8 : 16;
        cpu->seg[s].base = 0;
        cpu->seg[s].limit = 0xffffffffu;
        cpu->seg[s].flags = flat | (s == S_CS ? DESC_CODE | DESC_R : DESC_W);
    }
    cpu->cr0 = CR0_PE | CR0_PG | CR0_ET;
    cpu->cr3 = 0x10000;
    cpu->cr4 = CR4_PSE | CR4_PGE;
    cpu->cpl = 0;
    for (int s = S_ES; s <= S_GS; s++)
        hg_seg_update(cpu, s);
    hg_cpu_update_mode(cpu);
    hg_tlb_flush(cpu, false);
    cpu->eip = 0x1000;
    cpu->regs[R_EBX] = 0x10000;
    cpu->regs[R_EDX] = 0x00800083u | (g ? 0x100u : 0);
    g_assert_cmpint(hg_cpu_run(cpu, 1000), ==, HG_EXIT_HALT);
    *before = cpu->regs[R_EAX];
    *after_cr3 = cpu->regs[R_ECX];
    *after_invlpg = cpu->regs[R_ESI];
}

static void test_global_pages(Fixture *f, gconstpointer data)
{
    (void)data;
    uint32_t a, b, c;
    run_global(f, true, &a, &b, &c);
    g_assert_cmphex(a, ==, 0x11111111u);
    g_assert_cmphex(b, ==, 0x11111111u); /* the global translation survived CR3 */
    g_assert_cmphex(c, ==, 0x22222222u); /* INVLPG dropped it */
}

static void test_nonglobal_pages(Fixture *f, gconstpointer data)
{
    (void)data;
    uint32_t a, b, c;
    run_global(f, false, &a, &b, &c);
    g_assert_cmphex(a, ==, 0x11111111u);
    g_assert_cmphex(b, ==, 0x22222222u); /* flushed by the CR3 write */
    g_assert_cmphex(c, ==, 0x22222222u);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add("/cpu-exec/sti-shadow", Fixture, NULL, setup, test_sti_shadow, teardown);
    g_test_add("/cpu-exec/sti-sti", Fixture, NULL, setup, test_sti_sti, teardown);
    g_test_add("/cpu-exec/mov-ss-shadow", Fixture, NULL, setup, test_mov_ss_shadow, teardown);
    g_test_add("/cpu-exec/mov-cr-mod-ignored", Fixture, NULL, setup, test_mov_cr_mod_ignored,
               teardown);
    g_test_add("/cpu-exec/hlt-wakeup", Fixture, NULL, setup, test_hlt_wakeup, teardown);
    g_test_add("/cpu-exec/chained-loop", Fixture, NULL, setup, test_chained_loop, teardown);
    g_test_add("/mmu/global-pages", Fixture, NULL, setup, test_global_pages, teardown);
    g_test_add("/mmu/nonglobal-pages", Fixture, NULL, setup, test_nonglobal_pages, teardown);
    return g_test_run();
}
