/* x87 environment and state instructions: FNINIT, FLDENV/FNSTENV and FRSTOR/FNSAVE in
 * their 16- and 32-bit, real- and protected-mode layouts (Intel SDM Vol. 1 8.1.10,
 * figures 8-9 to 8-12), and FXSAVE/FXRSTOR with the 512-byte image (SDM Vol. 2A
 * FXSAVE, table 3-53), including the MXCSR and XMM area kept in HgFpu.
 */
#include "fpu-priv.h"

void hg_fpu_init(HgCpu *cpu)
{
    HgFpu *f = &cpu->fpu;
    f->cw = 0x037f;
    f->sw = 0;
    f->top = 0;
    f->tw = 0xffff;
    f->fip = f->fdp = 0;
    f->fcs = f->fds = 0;
    f->fop = 0;
    hg_fpu_set_ferr(cpu, false);
}

/* The tag word as FSTENV/FSAVE store it: empty registers stay empty, the others are
 * classified from their contents. */
static uint16_t full_tags(const HgCpu *cpu)
{
    uint16_t tw = 0;
    for (int p = 0; p < 8; p++) {
        int t = fpu_tag_phys(cpu, p);
        if (t != FTAG_EMPTY)
            t = hg_f80_tag(cpu->fpu.regs[p]);
        tw |= (uint16_t)(t << (2 * p));
    }
    return tw;
}

static void load_tags(HgCpu *cpu, uint16_t tw)
{
    for (int p = 0; p < 8; p++) {
        int t = (tw >> (2 * p)) & 3;
        fpu_set_tag_phys(cpu, p, t == FTAG_EMPTY ? FTAG_EMPTY : hg_f80_tag(cpu->fpu.regs[p]));
    }
}

static bool real_layout(const HgCpu *cpu)
{
    return !(cpu->cr0 & CR0_PE) || (cpu->eflags & FL_VM);
}

static int env_size(const HgOp *op)
{
    return (op->flags & OPF_OP16) ? 14 : 28;
}

void hg_fpu_fstenv(HgCpu *cpu, const HgOp *op, bool save)
{
    uint32_t ea = hg_ea(cpu, op);
    int s = op->seg;
    int n = env_size(op);
    fpu_probe_write(cpu, s, ea, n + (save ? 80 : 0));
    HgFpu *f = &cpu->fpu;
    uint16_t sw = fpu_get_sw(cpu), tw = full_tags(cpu);
    if (n == 28) {
        hg_write32(cpu, s, ea, 0xffff0000u | f->cw);
        hg_write32(cpu, s, ea + 4, 0xffff0000u | sw);
        hg_write32(cpu, s, ea + 8, 0xffff0000u | tw);
        if (real_layout(cpu)) {
            uint32_t ip = f->fip + ((uint32_t)f->fcs << 4);
            uint32_t dp = f->fdp + ((uint32_t)f->fds << 4);
            hg_write32(cpu, s, ea + 12, 0xffff0000u | (ip & 0xffff));
            hg_write32(cpu, s, ea + 16, ((ip >> 16) << 12) | (f->fop & 0x7ff));
            hg_write32(cpu, s, ea + 20, 0xffff0000u | (dp & 0xffff));
            hg_write32(cpu, s, ea + 24, (dp >> 16) << 12);
        } else {
            hg_write32(cpu, s, ea + 12, f->fip);
            hg_write32(cpu, s, ea + 16, f->fcs | ((uint32_t)(f->fop & 0x7ff) << 16));
            hg_write32(cpu, s, ea + 20, f->fdp);
            hg_write32(cpu, s, ea + 24, 0xffff0000u | f->fds);
        }
    } else {
        hg_write16(cpu, s, ea, f->cw);
        hg_write16(cpu, s, ea + 2, sw);
        hg_write16(cpu, s, ea + 4, tw);
        if (real_layout(cpu)) {
            uint32_t ip = f->fip + ((uint32_t)f->fcs << 4);
            uint32_t dp = f->fdp + ((uint32_t)f->fds << 4);
            hg_write16(cpu, s, ea + 6, (uint16_t)ip);
            hg_write16(cpu, s, ea + 8, (uint16_t)(((ip >> 16) & 0xf) << 12 | (f->fop & 0x7ff)));
            hg_write16(cpu, s, ea + 10, (uint16_t)dp);
            hg_write16(cpu, s, ea + 12, (uint16_t)(((dp >> 16) & 0xf) << 12));
        } else {
            hg_write16(cpu, s, ea + 6, (uint16_t)f->fip);
            hg_write16(cpu, s, ea + 8, f->fcs);
            hg_write16(cpu, s, ea + 10, (uint16_t)f->fdp);
            hg_write16(cpu, s, ea + 12, f->fds);
        }
    }
    if (save) {
        for (int i = 0; i < 8; i++)
            fpu_write80(cpu, s, ea + (uint32_t)(n + 10 * i), fpu_st(cpu, i));
        hg_fpu_init(cpu);
    } else {
        /* FSTENV masks every exception after storing (SDM FSTENV operation). */
        f->cw |= FCW_MASKS;
        hg_fpu_update_es(cpu);
    }
}

void hg_fpu_fldenv(HgCpu *cpu, const HgOp *op, bool restore)
{
    uint32_t ea = hg_ea(cpu, op);
    int s = op->seg;
    int n = env_size(op);
    HgFpu *f = &cpu->fpu;
    uint32_t v[7];
    /* Read everything before changing anything: a fault leaves the state intact. */
    for (int i = 0; i < 7; i++)
        v[i] = n == 28 ? hg_read32(cpu, s, ea + 4u * (uint32_t)i)
                       : hg_read16(cpu, s, ea + 2u * (uint32_t)i);
    HgFloatx80 regs[8];
    if (restore)
        for (int i = 0; i < 8; i++)
            regs[i] = fpu_read80(cpu, s, ea + (uint32_t)(n + 10 * i));
    f->cw = (uint16_t)v[0];
    f->sw = (uint16_t)v[1] & ~FSW_TOP;
    f->top = (v[1] >> 11) & 7;
    if (real_layout(cpu)) {
        uint32_t hi_shift = n == 28 ? 12 : 12;
        uint32_t ip = (v[3] & 0xffff) | ((v[4] >> hi_shift) << 16);
        uint32_t dp = (v[5] & 0xffff) | ((v[6] >> hi_shift) << 16);
        if (n == 14) {
            ip &= 0xfffff;
            dp &= 0xfffff;
        }
        f->fip = ip;
        f->fcs = 0;
        f->fop = v[4] & 0x7ff;
        f->fdp = dp;
        f->fds = 0;
    } else if (n == 28) {
        f->fip = v[3];
        f->fcs = (uint16_t)v[4];
        f->fop = (v[4] >> 16) & 0x7ff;
        f->fdp = v[5];
        f->fds = (uint16_t)v[6];
    } else {
        f->fip = v[3];
        f->fcs = (uint16_t)v[4];
        f->fdp = v[5];
        f->fds = (uint16_t)v[6];
    }
    if (restore)
        for (int i = 0; i < 8; i++)
            f->regs[fpu_phys(cpu, i)] = regs[i];
    load_tags(cpu, (uint16_t)v[2]);
    hg_fpu_update_es(cpu);
}

/* ---- FXSAVE / FXRSTOR (0F AE /0, /1) ---- */

enum { MXCSR_MASK = 0xffbf };

static uint32_t fx_check(HgCpu *cpu, const HgOp *op)
{
    if (cpu->cr0 & (CR0_EM | CR0_TS))
        hg_raise(cpu, EX_NM, -1);
    uint32_t ea = hg_ea(cpu, op);
    if ((cpu->seg[op->seg].base + ea) & 15)
        hg_raise_gp(cpu, 0);
    return ea;
}

H(fxsave)
{
    uint32_t ea = fx_check(cpu, op);
    int s = op->seg;
    HgFpu *f = &cpu->fpu;
    fpu_probe_write(cpu, s, ea, 512);
    uint8_t ftw = 0;
    for (int p = 0; p < 8; p++)
        if (fpu_tag_phys(cpu, p) != FTAG_EMPTY)
            ftw |= (uint8_t)(1u << p);
    hg_write16(cpu, s, ea, f->cw);
    hg_write16(cpu, s, ea + 2, fpu_get_sw(cpu));
    hg_write16(cpu, s, ea + 4, ftw);
    hg_write16(cpu, s, ea + 6, f->fop & 0x7ff);
    hg_write32(cpu, s, ea + 8, f->fip);
    hg_write32(cpu, s, ea + 12, f->fcs);
    hg_write32(cpu, s, ea + 16, f->fdp);
    hg_write32(cpu, s, ea + 20, f->fds);
    hg_write32(cpu, s, ea + 24, f->mxcsr);
    hg_write32(cpu, s, ea + 28, MXCSR_MASK);
    for (int i = 0; i < 8; i++) {
        uint32_t a = ea + 32 + 16u * (uint32_t)i;
        fpu_write80(cpu, s, a, fpu_st(cpu, i));
        hg_write16(cpu, s, a + 10, 0);
        hg_write32(cpu, s, a + 12, 0);
    }
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 16; j += 4) {
            uint32_t w;
            memcpy(&w, &f->xmm[i][j], 4);
            hg_write32(cpu, s, ea + 160 + 16u * (uint32_t)i + (uint32_t)j, w);
        }
    return op + 1;
}

H(fxrstor)
{
    uint32_t ea = fx_check(cpu, op);
    int s = op->seg;
    HgFpu *f = &cpu->fpu;
    uint32_t mxcsr = hg_read32(cpu, s, ea + 24);
    if (mxcsr & ~(uint32_t)MXCSR_MASK)
        hg_raise_gp(cpu, 0);
    uint16_t cw = hg_read16(cpu, s, ea), sw = hg_read16(cpu, s, ea + 2);
    uint8_t ftw = hg_read8(cpu, s, ea + 4);
    uint16_t fop = hg_read16(cpu, s, ea + 6);
    uint32_t fip = hg_read32(cpu, s, ea + 8), fcs = hg_read16(cpu, s, ea + 12);
    uint32_t fdp = hg_read32(cpu, s, ea + 16), fds = hg_read16(cpu, s, ea + 20);
    HgFloatx80 regs[8];
    uint8_t xmm[8][16];
    for (int i = 0; i < 8; i++)
        regs[i] = fpu_read80(cpu, s, ea + 32 + 16u * (uint32_t)i);
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 16; j += 4) {
            uint32_t w = hg_read32(cpu, s, ea + 160 + 16u * (uint32_t)i + (uint32_t)j);
            memcpy(&xmm[i][j], &w, 4);
        }
    f->cw = cw;
    f->sw = sw & ~FSW_TOP;
    f->top = (sw >> 11) & 7;
    f->fop = fop & 0x7ff;
    f->fip = fip;
    f->fcs = (uint16_t)fcs;
    f->fdp = fdp;
    f->fds = (uint16_t)fds;
    f->mxcsr = mxcsr;
    memcpy(f->xmm, xmm, sizeof(xmm));
    for (int i = 0; i < 8; i++)
        f->regs[fpu_phys(cpu, i)] = regs[i];
    for (int p = 0; p < 8; p++)
        fpu_set_tag_phys(cpu, p, (ftw >> p) & 1 ? hg_f80_tag(f->regs[p]) : FTAG_EMPTY);
    hg_fpu_update_es(cpu);
    return op + 1;
}

const HgOpImpl hg_impl_FXSAVE = {NULL, NULL, fxsave, fxsave};
const HgOpImpl hg_impl_FXRSTOR = {NULL, NULL, fxrstor, fxrstor};
