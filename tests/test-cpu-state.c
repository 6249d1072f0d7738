/* Unit tests of saving and restoring the CPU (engine/cpu/cpu-state.c): a guest program
 * is run into 32-bit protected mode with paging, x87 registers, SYSENTER MSRs, a debug
 * register, lazy flags and an interrupt shadow; the state is saved right after a MOV SS,
 * the original goes on to the end of the program, and a fresh CPU and bus restored from
 * the state and a copy of RAM must get to exactly the same place. Then damaged states:
 * truncated, another version, impossible register values, all refused with an error and
 * the CPU left untouched.
 */
#include <glib.h>
#include <string.h>

#include "bus.h"
#include "cpu.h"
#include "state.h"

/* The guest, loaded at 0000:7C00 (nasm -f bin):
 *
 * bits 16
 * org 0x7c00
 * start:
 *     cli
 *     xor ax, ax
 *     mov ds, ax
 *     lgdt [gdtr]
 *     lidt [idtr]
 *     mov eax, 0x9000
 *     mov cr3, eax
 *     mov eax, cr4
 *     or eax, 0x10
 *     mov cr4, eax
 *     mov eax, cr0
 *     or eax, 0x80000023
 *     mov cr0, eax
 *     jmp dword 0x08:pm32
 * bits 32
 * pm32:
 *     mov ax, 0x10
 *     mov ds, ax
 *     mov es, ax
 *     mov fs, ax
 *     mov gs, ax
 *     mov ss, ax
 *     mov esp, 0x80000
 *     mov ecx, 0x174
 *     mov eax, 0x08
 *     xor edx, edx
 *     wrmsr
 *     mov ecx, 0x175
 *     mov eax, 0x12345
 *     wrmsr
 *     mov eax, 0x12345678
 *     mov dr0, eax
 *     fninit
 *     fldpi
 *     fld1
 *     fldl2e
 *     mov ebx, 0x40000000
 *     xor ecx, ecx
 *     xor edi, edi
 *     xor ebp, ebp
 *     sti
 * top:
 *     fld st0
 *     fmul st0, st2
 *     fsqrt
 *     fstp qword [ebx + edi*8]
 *     fadd st0, st1
 *     fxch st1
 *     mov eax, [0x7000]
 *     add eax, ecx
 *     mov [ebx + 0x800 + edi*4], eax
 *     inc edi
 *     and edi, 0xff
 *     imul esi, eax, 0x9e3779b1
 *     add edx, esi
 *     mov ax, 0x10
 *     mov ss, ax
 *     inc ecx
 *     adc ebp, edx
 *     push ecx
 *     pop eax
 *     rcl edx, 1
 *     cmp ecx, 3000
 *     jb top
 *     fstp tword [0x7010]
 *     cli
 *     hlt
 * handler:
 *     inc dword [0x7000]
 *     mov [0x7004], ecx
 *     iret
 * align 8
 * gdt:
 *     dq 0
 *     dq 0x00cf9a000000ffff
 *     dq 0x00cf92000000ffff
 * gdtr:
 *     dw 23
 *     dd gdt
 * idtr:
 *     dw 0x20 * 8 + 7
 *     dd idt - 0x20 * 8
 * idt:
 *     dw handler, 0x08, 0x8e00, 0
 */
static const uint8_t prog[] = {
    0xfa, 0x31, 0xc0, 0x8e, 0xd8, 0x0f, 0x01, 0x16, 0xf0, 0x7c, 0x0f, 0x01, 0x1e, 0xf6, 0x7c, 0x66,
    0xb8, 0x00, 0x90, 0x00, 0x00, 0x0f, 0x22, 0xd8, 0x0f, 0x20, 0xe0, 0x66, 0x83, 0xc8, 0x10, 0x0f,
    0x22, 0xe0, 0x0f, 0x20, 0xc0, 0x66, 0x0d, 0x23, 0x00, 0x00, 0x80, 0x0f, 0x22, 0xc0, 0x66, 0xea,
    0x36, 0x7c, 0x00, 0x00, 0x08, 0x00, 0x66, 0xb8, 0x10, 0x00, 0x8e, 0xd8, 0x8e, 0xc0, 0x8e, 0xe0,
    0x8e, 0xe8, 0x8e, 0xd0, 0xbc, 0x00, 0x00, 0x08, 0x00, 0xb9, 0x74, 0x01, 0x00, 0x00, 0xb8, 0x08,
    0x00, 0x00, 0x00, 0x31, 0xd2, 0x0f, 0x30, 0xb9, 0x75, 0x01, 0x00, 0x00, 0xb8, 0x45, 0x23, 0x01,
    0x00, 0x0f, 0x30, 0xb8, 0x78, 0x56, 0x34, 0x12, 0x0f, 0x23, 0xc0, 0xdb, 0xe3, 0xd9, 0xeb, 0xd9,
    0xe8, 0xd9, 0xea, 0xbb, 0x00, 0x00, 0x00, 0x40, 0x31, 0xc9, 0x31, 0xff, 0x31, 0xed, 0xfb, 0xd9,
    0xc0, 0xd8, 0xca, 0xd9, 0xfa, 0xdd, 0x1c, 0xfb, 0xd8, 0xc1, 0xd9, 0xc9, 0xa1, 0x00, 0x70, 0x00,
    0x00, 0x01, 0xc8, 0x89, 0x84, 0xbb, 0x00, 0x08, 0x00, 0x00, 0x47, 0x81, 0xe7, 0xff, 0x00, 0x00,
    0x00, 0x69, 0xf0, 0xb1, 0x79, 0x37, 0x9e, 0x01, 0xf2, 0x66, 0xb8, 0x10, 0x00, 0x8e, 0xd0, 0x41,
    0x11, 0xd5, 0x51, 0x58, 0xd1, 0xd2, 0x81, 0xf9, 0xb8, 0x0b, 0x00, 0x00, 0x72, 0xc1, 0xdb, 0x3d,
    0x10, 0x70, 0x00, 0x00, 0xfa, 0xf4, 0xff, 0x05, 0x00, 0x70, 0x00, 0x00, 0x89, 0x0d, 0x04, 0x70,
    0x00, 0x00, 0xcf, 0x90, 0x90, 0x90, 0x90, 0x90, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0x00, 0x00, 0x00, 0x9a, 0xcf, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0x92, 0xcf, 0x00,
    0x17, 0x00, 0xd8, 0x7c, 0x00, 0x00, 0x07, 0x01, 0xfc, 0x7b, 0x00, 0x00, 0xc6, 0x7c, 0x08, 0x00,
    0x00, 0x8e, 0x00, 0x00};

/* A real-mode guest single-stepping itself with TF and watching the word at 0x700 with a
 * data breakpoint (DR0); its #DB handler logs each trap's return IP and DR6 at 0x604 and
 * up (count at 0x600). The traps of a MOV SS are held back for one instruction (SDM
 * Vol. 3A 6.8.3), here the single step and the breakpoint hit of MOV SS,[0x700]:
 *
 * bits 16
 * org 0x7c00
 *     xor ax, ax
 *     mov ds, ax
 *     mov ss, ax
 *     mov sp, 0x7000
 *     mov word [4], handler
 *     mov word [6], 0
 *     mov eax, 0x700
 *     mov dr0, eax
 *     mov eax, 0x00070001
 *     mov dr7, eax
 *     xor cx, cx
 *     pushf
 *     pop ax
 *     or ax, 0x100
 *     push ax
 *     popf
 * again:
 *     inc cx
 *     mov ss, [0x700]
 *     add cx, 2
 *     cmp cx, 60
 *     jb again
 *     pushf
 *     pop ax
 *     and ax, 0xfeff
 *     push ax
 *     popf
 *     hlt
 * handler:
 *     inc word [0x600]
 *     mov bx, [0x600]
 *     shl bx, 2
 *     mov bp, sp
 *     mov ax, [bp]
 *     mov [0x600 + bx], ax
 *     mov eax, dr6
 *     mov [0x602 + bx], ax
 *     xor eax, eax
 *     mov dr6, eax
 *     iret
 */
static const uint8_t prog_tf[] = {
    0x31, 0xc0, 0x8e, 0xd8, 0x8e, 0xd0, 0xbc, 0x00, 0x70, 0xc7, 0x06, 0x04, 0x00, 0x45, 0x7c,
    0xc7, 0x06, 0x06, 0x00, 0x00, 0x00, 0x66, 0xb8, 0x00, 0x07, 0x00, 0x00, 0x0f, 0x23, 0xc0,
    0x66, 0xb8, 0x01, 0x00, 0x07, 0x00, 0x0f, 0x23, 0xf8, 0x31, 0xc9, 0x9c, 0x58, 0x0d, 0x00,
    0x01, 0x50, 0x9d, 0x41, 0x8e, 0x16, 0x00, 0x07, 0x83, 0xc1, 0x02, 0x83, 0xf9, 0x3c, 0x72,
    0xf3, 0x9c, 0x58, 0x25, 0xff, 0xfe, 0x50, 0x9d, 0xf4, 0xff, 0x06, 0x00, 0x06, 0x8b, 0x1e,
    0x00, 0x06, 0xc1, 0xe3, 0x02, 0x89, 0xe5, 0x8b, 0x46, 0x00, 0x89, 0x87, 0x00, 0x06, 0x0f,
    0x21, 0xf0, 0x89, 0x87, 0x02, 0x06, 0x66, 0x31, 0xc0, 0x0f, 0x23, 0xf0, 0xcf};

enum {
    RAM_SIZE = 16u << 20,
    AFTER_MOV_SS = 0x7caf, /* the INC ECX behind the MOV SS of the loop */
    SAVE_ITERATION = 100,
    LOOP_END = 3000,
    TF_AFTER_MOV_SS = 0x7c35,
};

typedef struct Machine {
    HgBus *bus;
    HgCpu *cpu;
    int acks;
} Machine;

static uint8_t ack(void *opaque)
{
    Machine *m = opaque;
    m->acks++;
    hg_cpu_set_intr(m->cpu, false);
    return 0x20;
}

static void put32(Machine *m, uint32_t addr, uint32_t v)
{
    memcpy(hg_bus_ram(m->bus) + addr, &v, 4);
}

static uint32_t get32(Machine *m, uint32_t addr)
{
    uint32_t v;
    memcpy(&v, hg_bus_ram(m->bus) + addr, 4);
    return v;
}

static Machine *machine_new(void)
{
    Machine *m = g_new0(Machine, 1);
    m->bus = hg_bus_new(RAM_SIZE);
    HgCpuHooks hooks = {.opaque = m, .intr_ack = ack};
    m->cpu = hg_cpu_new(m->bus, &hooks);
    return m;
}

static void machine_free(Machine *m)
{
    hg_cpu_free(m->cpu);
    hg_bus_free(m->bus);
    g_free(m);
}

/* A machine at the start of the guest: the program at 0x7C00, a page directory at
 * 0x9000 identity-mapping the first 4 MiB with a large page, and linear 0x40000000
 * mapped to physical 0x100000 through a page table at 0xA000. */
static Machine *machine_boot(void)
{
    Machine *m = machine_new();
    memcpy(hg_bus_ram(m->bus) + 0x7c00, prog, sizeof(prog));
    put32(m, 0x9000, 0x00000083);
    put32(m, 0x9000 + 0x100 * 4, 0x0000a003);
    put32(m, 0xa000, 0x00100003);
    hg_cpu_load_seg_real(m->cpu, S_CS, 0);
    m->cpu->eip = 0x7c00;
    return m;
}

/* Runs the guest up to the instruction after the MOV SS of the given loop iteration:
 * the MOV SS ends its block, so single-block runs stop exactly there. */
static void run_to_save_point(Machine *m)
{
    for (int i = 0; i < 100000; i++) {
        if (m->cpu->eip == AFTER_MOV_SS && m->cpu->regs[R_ECX] == SAVE_ITERATION)
            return;
        g_assert_cmpint(hg_cpu_run(m->cpu, 1), ==, HG_EXIT_BUDGET);
    }
    g_assert_not_reached();
}

static GBytes *save(HgCpu *cpu)
{
    HgStateWriter w;
    hg_state_writer_init(&w);
    hg_cpu_save(cpu, &w);
    return hg_state_writer_finish(&w);
}

/* Loads data into cpu; returns the error message (NULL when accepted). */
static char *load(HgCpu *cpu, const void *data, size_t len)
{
    HgStateReader r;
    hg_state_reader_init(&r, data, len);
    hg_cpu_load(cpu, &r);
    if (hg_state_ok(&r))
        return NULL;
    char *msg = g_strdup(r.error->message);
    g_clear_error(&r.error);
    return msg;
}

/* Everything the program can observe, compared field by field for clear failures. */
static void assert_same_cpu(HgCpu *a, HgCpu *b)
{
    for (int i = 0; i < 8; i++)
        g_assert_cmphex(a->regs[i], ==, b->regs[i]);
    g_assert_cmphex(a->eip, ==, b->eip);
    g_assert_cmphex(hg_cpu_get_eflags(a), ==, hg_cpu_get_eflags(b));
    g_assert_cmpint(a->cpl, ==, b->cpl);
    for (int s = 0; s < S_COUNT; s++) {
        g_assert_cmphex(a->seg[s].sel, ==, b->seg[s].sel);
        g_assert_cmphex(a->seg[s].base, ==, b->seg[s].base);
        g_assert_cmphex(a->seg[s].limit, ==, b->seg[s].limit);
        g_assert_cmphex(a->seg[s].flags, ==, b->seg[s].flags);
        g_assert_cmphex(a->seg[s].lo, ==, b->seg[s].lo);
        g_assert_cmphex(a->seg[s].hi, ==, b->seg[s].hi);
    }
    g_assert_cmphex(a->cr0, ==, b->cr0);
    g_assert_cmphex(a->cr3, ==, b->cr3);
    g_assert_cmphex(a->cr4, ==, b->cr4);
    g_assert_cmphex(a->dr[0], ==, b->dr[0]);
    g_assert_cmphex(a->msr.sysenter_esp, ==, b->msr.sysenter_esp);
    /* Field by field: HgFloatx80 has padding bytes whose contents mean nothing. */
    for (int i = 0; i < 8; i++) {
        g_assert_cmphex(a->fpu.regs[i].mant, ==, b->fpu.regs[i].mant);
        g_assert_cmphex(a->fpu.regs[i].sexp, ==, b->fpu.regs[i].sexp);
    }
    g_assert_cmphex(a->fpu.sw, ==, b->fpu.sw);
    g_assert_cmphex(a->fpu.tw, ==, b->fpu.tw);
    g_assert_cmpint(a->fpu.top, ==, b->fpu.top);
    g_assert_cmphex(a->fpu.fip, ==, b->fpu.fip);
    g_assert_cmphex(a->fpu.fdp, ==, b->fpu.fdp);
    g_assert_cmphex(a->fpu.fop, ==, b->fpu.fop);
    g_assert_cmphex(a->mode_key, ==, b->mode_key);
    g_assert_cmpint(a->halted, ==, b->halted);
    g_assert_cmpint(a->irq_shadow, ==, b->irq_shadow);
    g_assert_cmpuint(a->icount, ==, b->icount);
}

static void test_round_trip(void)
{
    Machine *a = machine_boot();
    run_to_save_point(a);
    g_assert_true(a->cpu->irq_shadow);
    g_assert_true(a->cpu->cr0 & CR0_PG);
    g_assert_cmpint(a->cpu->fpu.top, ==, 5);
    /* An interrupt arrives now: the shadow holds it off for the INC ECX only. */
    hg_cpu_set_intr(a->cpu, true);
    GBytes *state = save(a->cpu);
    uint8_t *ram = g_memdup2(hg_bus_ram(a->bus), RAM_SIZE);

    g_assert_cmpint(hg_cpu_run(a->cpu, 10000000), ==, HG_EXIT_HALT);
    g_assert_cmpint(a->acks, ==, 1);
    g_assert_cmpuint(get32(a, 0x7000), ==, 1);
    g_assert_cmpuint(get32(a, 0x7004), ==, SAVE_ITERATION + 1);
    g_assert_cmpuint(a->cpu->regs[R_ECX], ==, LOOP_END);

    Machine *b = machine_new();
    memcpy(hg_bus_ram(b->bus), ram, RAM_SIZE);
    gsize len;
    const uint8_t *data = g_bytes_get_data(state, &len);
    char *err = load(b->cpu, data, len);
    g_assert_null(err);
    /* Saving the restored CPU gives the same bytes: nothing was lost on the way. */
    GBytes *again = save(b->cpu);
    g_assert_true(g_bytes_equal(state, again));
    g_bytes_unref(again);

    g_assert_cmpint(hg_cpu_run(b->cpu, 10000000), ==, HG_EXIT_HALT);
    g_assert_cmpint(b->acks, ==, 1);
    assert_same_cpu(a->cpu, b->cpu);
    g_assert_cmpint(memcmp(hg_bus_ram(a->bus), hg_bus_ram(b->bus), RAM_SIZE), ==, 0);

    /* Restoring over a CPU that has run on (stale TLB and blocks) works the same. */
    memcpy(hg_bus_ram(a->bus), ram, RAM_SIZE);
    a->acks = 0;
    err = load(a->cpu, data, len);
    g_assert_null(err);
    g_assert_cmpint(hg_cpu_run(a->cpu, 10000000), ==, HG_EXIT_HALT);
    g_assert_cmpint(a->acks, ==, 1);
    assert_same_cpu(a->cpu, b->cpu);
    g_assert_cmpint(memcmp(hg_bus_ram(a->bus), hg_bus_ram(b->bus), RAM_SIZE), ==, 0);

    g_free(ram);
    g_bytes_unref(state);
    machine_free(a);
    machine_free(b);
}

/* Saved between a MOV SS and the instruction it shadows while single-stepping: the
 * single-step trap of the MOV SS is pending (dbg_pending) under the shadow. */
static void test_trap_round_trip(void)
{
    Machine *a = machine_new();
    memcpy(hg_bus_ram(a->bus) + 0x7c00, prog_tf, sizeof(prog_tf));
    hg_cpu_load_seg_real(a->cpu, S_CS, 0);
    a->cpu->eip = 0x7c00;
    for (int i = 0;
         i < 1000 && !(a->cpu->eip == TF_AFTER_MOV_SS && (a->cpu->regs[R_ECX] & 0xffff) == 10); i++)
        g_assert_cmpint(hg_cpu_run(a->cpu, 1), ==, HG_EXIT_BUDGET);
    g_assert_cmphex(a->cpu->eip, ==, TF_AFTER_MOV_SS);
    g_assert_true(a->cpu->irq_shadow);
    g_assert_cmphex(a->cpu->dbg_pending, ==, DR6_BS | 1);
    GBytes *state = save(a->cpu);
    uint8_t *ram = g_memdup2(hg_bus_ram(a->bus), RAM_SIZE);
    g_assert_cmpint(hg_cpu_run(a->cpu, 100000), ==, HG_EXIT_HALT);

    Machine *b = machine_new();
    memcpy(hg_bus_ram(b->bus), ram, RAM_SIZE);
    gsize len;
    const uint8_t *data = g_bytes_get_data(state, &len);
    g_assert_null(load(b->cpu, data, len));
    g_assert_cmpint(hg_cpu_run(b->cpu, 100000), ==, HG_EXIT_HALT);
    assert_same_cpu(a->cpu, b->cpu);
    g_assert_cmpint(memcmp(hg_bus_ram(a->bus), hg_bus_ram(b->bus), RAM_SIZE), ==, 0);
    /* The traps of each MOV SS came after the ADD it shadowed, with B0 for the read of
     * 0x700 that the restored CPU had pending. */
    uint16_t n, ip, dr6;
    int b0 = 0;
    memcpy(&n, hg_bus_ram(b->bus) + 0x600, 2);
    g_assert_cmpuint(n, >, 40);
    for (unsigned i = 1; i <= n; i++) {
        memcpy(&ip, hg_bus_ram(b->bus) + 0x600 + 4 * i, 2);
        memcpy(&dr6, hg_bus_ram(b->bus) + 0x602 + 4 * i, 2);
        g_assert_cmphex(ip, !=, TF_AFTER_MOV_SS);
        if (dr6 & 1) {
            g_assert_cmphex(ip, ==, TF_AFTER_MOV_SS + 3);
            b0++;
        }
    }
    g_assert_cmpint(b0, ==, 20);
    g_free(ram);
    g_bytes_unref(state);
    machine_free(a);
    machine_free(b);
}

/* A refused state must leave the target exactly as it was: compared through its own
 * saved image and the fields outside it. */
static void assert_refused(HgCpu *target, const void *data, size_t len, const char *what)
{
    GBytes *before = save(target);
    uint32_t mode = target->mode_key;
    char *err = load(target, data, len);
    if (!err)
        g_error("a state with %s was accepted", what);
    g_test_message("%s: %s", what, err);
    g_free(err);
    GBytes *after = save(target);
    g_assert_true(g_bytes_equal(before, after));
    g_assert_cmphex(target->mode_key, ==, mode);
    g_bytes_unref(before);
    g_bytes_unref(after);
}

/* Saves src after mutate changed a copy of it, and checks the target refuses it. */
typedef void (*Mutate)(HgCpu *c);

static void refuse_mutated(HgCpu *src, HgCpu *target, Mutate mutate, const char *what)
{
    HgCpu *c = g_memdup2(src, sizeof(*c));
    mutate(c);
    GBytes *state = save(c);
    g_free(c);
    gsize len;
    const uint8_t *data = g_bytes_get_data(state, &len);
    assert_refused(target, data, len, what);
    g_bytes_unref(state);
}

static void bad_top(HgCpu *c)
{
    c->fpu.top = 9;
}
static void bad_sw_top(HgCpu *c)
{
    c->fpu.sw |= 3u << 11;
}
static void bad_es(HgCpu *c)
{
    c->fpu.sw |= FSW_ES | FSW_B;
}
static void bad_cpl(HgCpu *c)
{
    c->cpl = 3;
}
static void bad_cs_data(HgCpu *c)
{
    c->seg[S_CS].flags &= ~(uint32_t)DESC_CODE;
}
static void bad_ss_dpl(HgCpu *c)
{
    c->seg[S_SS].flags |= 3u << DESC_DPL_SHIFT;
}
static void bad_limit(HgCpu *c)
{
    c->seg[S_DS].limit = 0x12345;
    c->seg[S_DS].flags |= DESC_G;
}
static void bad_limit_byte(HgCpu *c)
{
    c->seg[S_ES].flags &= ~(uint32_t)DESC_G;
}
static void bad_seg_flags(HgCpu *c)
{
    c->seg[S_FS].flags |= 0x0f0000;
}
static void bad_tr(HgCpu *c)
{
    c->seg[S_TR].flags = DESC_P | DESC_S | DESC_W;
}
static void bad_cr0(HgCpu *c)
{
    c->cr0 &= ~(uint32_t)CR0_PE;
}
static void bad_cr4(HgCpu *c)
{
    c->cr4 |= CR4_VME;
}
static void bad_eflags(HgCpu *c)
{
    c->eflags |= 1u << 31;
}
static void bad_vm_real(HgCpu *c)
{
    c->cr0 &= ~(uint32_t)(CR0_PE | CR0_PG);
    c->cpl = 0;
    c->eflags |= FL_VM;
}
static void bad_gdtr(HgCpu *c)
{
    c->gdtr_limit = 0x10000;
}
static void bad_dr7(HgCpu *c)
{
    c->dr[7] |= 1u << 12;
}
static void bad_pdpte(HgCpu *c)
{
    c->pdpte[2] = 0x1000000000ull | 1;
}
static void bad_pat(HgCpu *c)
{
    c->msr.pat = 0x0202020202020202ull;
}
static void bad_mtrr(HgCpu *c)
{
    c->msr.mtrr_var[1] = 1u << 5;
}
static void bad_apic(HgCpu *c)
{
    c->msr.apic_base |= 1;
}
static void bad_mxcsr(HgCpu *c)
{
    c->fpu.mxcsr = 0x10000;
}
static void bad_ferr(HgCpu *c)
{
    c->fpu.ferr = true;
}
static void bad_dbg(HgCpu *c)
{
    c->dbg_pending = 1u << 20;
}

static void test_refused(void)
{
    Machine *a = machine_boot();
    run_to_save_point(a);
    Machine *b = machine_boot();
    /* The target has run too, so "unchanged" is a non-trivial state. */
    g_assert_cmpint(hg_cpu_run(b->cpu, 500), ==, HG_EXIT_BUDGET);
    GBytes *state = save(a->cpu);
    gsize len;
    const uint8_t *data = g_bytes_get_data(state, &len);

    /* Truncated anywhere, and with the section length lying. */
    for (gsize cut = 0; cut < len; cut += 37)
        assert_refused(b->cpu, data, cut, "a truncated section");
    uint8_t *copy = g_memdup2(data, len);
    copy[36] = (uint8_t)(copy[36] - 1);
    assert_refused(b->cpu, copy, len, "a short section length");
    memcpy(copy, data, len);
    /* Another version, and another section name. */
    copy[32] = 2;
    assert_refused(b->cpu, copy, len, "version 2");
    memcpy(copy, data, len);
    copy[0] = 'x';
    assert_refused(b->cpu, copy, len, "another section");
    /* A boolean that is neither 0 nor 1: the last byte before icount is the A20 flag. */
    memcpy(copy, data, len);
    copy[len - 9] = 2;
    assert_refused(b->cpu, copy, len, "a boolean of 2");
    g_free(copy);

    static const struct {
        Mutate fn;
        const char *what;
    } cases[] = {
        {bad_top, "TOP = 9"},
        {bad_sw_top, "TOP bits in the status word"},
        {bad_es, "ES without an unmasked exception"},
        {bad_cpl, "CPL 3 with a DPL 0 CS"},
        {bad_cs_data, "a data segment in CS"},
        {bad_ss_dpl, "SS.DPL != CPL"},
        {bad_limit, "a page-granular limit not ending in FFF"},
        {bad_limit_byte, "a byte-granular limit above 1 MiB"},
        {bad_seg_flags, "limit bits in the attributes"},
        {bad_tr, "a data segment in TR"},
        {bad_cr0, "CR0.PG without PE"},
        {bad_cr4, "CR4.VME"},
        {bad_eflags, "EFLAGS bit 31"},
        {bad_vm_real, "EFLAGS.VM in real mode"},
        {bad_gdtr, "a 17-bit GDT limit"},
        {bad_dr7, "DR7 bit 12"},
        {bad_pdpte, "a PDPTE with reserved bits"},
        {bad_pat, "PAT memory type 2"},
        {bad_mtrr, "an MTRR base with reserved bits"},
        {bad_apic, "APIC base reserved bits"},
        {bad_mxcsr, "MXCSR reserved bits"},
        {bad_ferr, "FERR# without an error"},
        {bad_dbg, "a pending debug trap outside DR6"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
        refuse_mutated(a->cpu, b->cpu, cases[i].fn, cases[i].what);

    /* The target still runs as before, and the good state still loads into it. */
    g_assert_cmpint(hg_cpu_run(b->cpu, 500), ==, HG_EXIT_BUDGET);
    g_assert_null(load(b->cpu, data, len));
    g_assert_cmphex(b->cpu->eip, ==, AFTER_MOV_SS);
    g_bytes_unref(state);
    machine_free(a);
    machine_free(b);
}

/* The RESET state itself (real mode, CPL 0, caches of the power-on values) is valid. */
static void test_reset_state(void)
{
    Machine *a = machine_new();
    GBytes *state = save(a->cpu);
    gsize len;
    const uint8_t *data = g_bytes_get_data(state, &len);
    Machine *b = machine_boot();
    g_assert_cmpint(hg_cpu_run(b->cpu, 50), ==, HG_EXIT_BUDGET);
    g_assert_null(load(b->cpu, data, len));
    GBytes *again = save(b->cpu);
    g_assert_true(g_bytes_equal(state, again));
    g_bytes_unref(again);
    g_bytes_unref(state);
    machine_free(a);
    machine_free(b);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/cpu-state/round-trip", test_round_trip);
    g_test_add_func("/cpu-state/single-step", test_trap_round_trip);
    g_test_add_func("/cpu-state/refused", test_refused);
    g_test_add_func("/cpu-state/reset", test_reset_state);
    return g_test_run();
}
