/* Instruction decoder: prefixes, opcode maps, ModRM/SIB addressing in 16- and 32-bit
 * forms, displacements and immediates, turned into one HgOp per instruction through
 * the rows of insn.def (Intel SDM Vol. 2, chapter 2 and Appendix A).
 */
#include "decode.h"

#include <glib.h>

static const char *const operand_names[OPD_COUNT] = {
    [OPD___] = "",   [OPD_Eb] = "Eb",   [OPD_Ew] = "Ew",   [OPD_Ed] = "Ed",
    [OPD_Ev] = "Ev", [OPD_Gb] = "Gb",   [OPD_Gw] = "Gw",   [OPD_Gd] = "Gd",
    [OPD_Gv] = "Gv", [OPD_M] = "M",     [OPD_Mb] = "Mb",   [OPD_Mw] = "Mw",
    [OPD_Md] = "Md", [OPD_Mq] = "Mq",   [OPD_Mp] = "Mp",   [OPD_Ms] = "Ms",
    [OPD_Ma] = "Ma", [OPD_Rd] = "Rd",   [OPD_Ib] = "Ib",   [OPD_Iw] = "Iw",
    [OPD_Iv] = "Iv", [OPD_IbS] = "Ib",  [OPD_Ap] = "Ap",   [OPD_Jb] = "Jb",
    [OPD_Jv] = "Jv", [OPD_Ob] = "Ob",   [OPD_Ov] = "Ov",   [OPD_Sw] = "Sw",
    [OPD_Cd] = "Cd", [OPD_Dd] = "Dd",   [OPD_Zb] = "Zb",   [OPD_Zv] = "Zv",
    [OPD_AL] = "AL", [OPD_eAX] = "eAX", [OPD_CL] = "CL",   [OPD_DX] = "DX",
    [OPD_ONE] = "1", [OPD_sES] = "ES",  [OPD_sCS] = "CS",  [OPD_sSS] = "SS",
    [OPD_sDS] = "DS", [OPD_sFS] = "FS", [OPD_sGS] = "GS",  [OPD_Xb] = "Xb",
    [OPD_Xv] = "Xv", [OPD_Yb] = "Yb",   [OPD_Yv] = "Yv",   [OPD_Pq] = "Pq",
    [OPD_Qq] = "Qq", [OPD_Qd] = "Qd",   [OPD_Nq] = "Nq",   [OPD_FPU] = "FPU",
};

const HgInsnInfo hg_insn_table[] = {
#define X(name, map, opc, ext, o1, o2, o3, impl, flags)                                     \
    {#name, map, opc, ext, {OPD_##o1, OPD_##o2, OPD_##o3}, &hg_impl_##impl, flags},
#include "insn.def"
#undef X
};
const unsigned hg_insn_count = G_N_ELEMENTS(hg_insn_table);

const char *hg_operand_name(HgOperand o)
{
    return o < OPD_COUNT ? operand_names[o] : "?";
}

static bool operand_uses_modrm(uint8_t o)
{
    switch (o) {
    case OPD_Eb: case OPD_Ew: case OPD_Ed: case OPD_Ev:
    case OPD_Gb: case OPD_Gw: case OPD_Gd: case OPD_Gv:
    case OPD_M: case OPD_Mb: case OPD_Mw: case OPD_Md: case OPD_Mq: case OPD_Mp:
    case OPD_Ms: case OPD_Ma: case OPD_Rd: case OPD_Sw: case OPD_Cd: case OPD_Dd:
    case OPD_Pq: case OPD_Qq: case OPD_Qd: case OPD_Nq: case OPD_FPU:
        return true;
    default:
        return false;
    }
}

bool hg_insn_has_modrm(const HgInsnInfo *row)
{
    if (row->ext >= 0)
        return true;
    for (int i = 0; i < 3; i++)
        if (operand_uses_modrm(row->ops[i]))
            return true;
    return false;
}

HgDecoder *hg_decoder_new(void)
{
    HgDecoder *d = g_new0(HgDecoder, 1);
    for (unsigned i = 0; i < hg_insn_count; i++) {
        const HgInsnInfo *row = &hg_insn_table[i];
        int n = (row->flags & I_PLUSR) ? 8 : 1;
        bool modrm = hg_insn_has_modrm(row);
        for (int k = 0; k < n; k++) {
            int opc = row->map * 256 + row->opc + k;
            if (modrm)
                d->has_modrm[opc] = 1;
            for (int reg = 0; reg < 8; reg++) {
                if (row->ext >= 0 && row->ext != reg)
                    continue;
                for (int mod3 = 0; mod3 < 2; mod3++) {
                    if ((row->flags & I_MEMONLY) && mod3)
                        continue;
                    if ((row->flags & I_REGONLY) && !mod3)
                        continue;
                    /* First row wins, so a specific row listed earlier can shadow a
                     * general one. */
                    if (!d->row[opc][reg][mod3])
                        d->row[opc][reg][mod3] = (uint16_t)(i + 1);
                }
            }
        }
    }
    return d;
}

void hg_decoder_free(HgDecoder *d)
{
    g_free(d);
}

static const HgOp *op_ud(HgCpu *cpu, const HgOp *op)
{
    hg_raise_ud(cpu);
}

/* Instruction longer than 15 bytes. */
static const HgOp *op_too_long(HgCpu *cpu, const HgOp *op)
{
    hg_raise_gp(cpu, 0);
}

HgOpFn hg_decode_ud_fn(void)
{
    return op_ud;
}

typedef struct Reader {
    const uint8_t *buf;
    int avail, pos;
    bool need_more;
} Reader;

static inline uint32_t rd(Reader *r, int n)
{
    if (r->pos + n > r->avail || r->pos + n > 15) {
        r->need_more = r->pos + n <= 15;
        r->pos += n;
        return 0;
    }
    uint32_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint32_t)r->buf[r->pos + i] << (8 * i);
    r->pos += n;
    return v;
}

static void decode_modrm(Reader *r, HgOp *op, uint8_t modrm, bool addr16)
{
    int mod = modrm >> 6, rm = modrm & 7;
    op->rm = (uint8_t)rm;
    op->base = op->index = R_NONE;
    op->scale = 0;
    op->disp = 0;
    if (mod == 3)
        return;
    op->flags |= OPF_MEM;
    int def_seg = S_DS;
    if (addr16) {
        static const uint8_t base16[8] = {R_EBX, R_EBX, R_EBP, R_EBP, R_ESI, R_EDI, R_EBP, R_EBX};
        static const uint8_t index16[8] = {R_ESI, R_EDI, R_ESI, R_EDI, R_NONE, R_NONE, R_NONE,
                                           R_NONE};
        if (mod == 0 && rm == 6) {
            op->disp = rd(r, 2);
        } else {
            op->base = base16[rm];
            op->index = index16[rm];
            if (rm == 2 || rm == 3 || rm == 6)
                def_seg = S_SS;
            if (mod == 1)
                op->disp = (uint32_t)(int8_t)rd(r, 1);
            else if (mod == 2)
                op->disp = rd(r, 2);
        }
    } else {
        if (rm == 4) {
            uint8_t sib = (uint8_t)rd(r, 1);
            int base = sib & 7, index = (sib >> 3) & 7;
            op->scale = sib >> 6;
            op->index = index == 4 ? R_NONE : (uint8_t)index;
            if (base == 5 && mod == 0) {
                op->disp = rd(r, 4);
            } else {
                op->base = (uint8_t)base;
                if (base == R_ESP || base == R_EBP)
                    def_seg = S_SS;
            }
        } else if (rm == 5 && mod == 0) {
            op->disp = rd(r, 4);
        } else {
            op->base = (uint8_t)rm;
            if (rm == R_EBP)
                def_seg = S_SS;
        }
        if (mod == 1)
            op->disp = (uint32_t)(int8_t)rd(r, 1);
        else if (mod == 2)
            op->disp = rd(r, 4);
    }
    if (!(op->flags & OPF_SEGOVR))
        op->seg = (uint8_t)def_seg;
}

int hg_decode(const HgDecoder *d, const uint8_t *buf, int avail, uint32_t eip, uint32_t mode,
              HgOp *op)
{
    Reader r = {buf, avail, 0, false};
    bool op32 = mode & MODE_CS32, addr32 = mode & MODE_CS32;
    int seg = -1;
    uint8_t flags = 0;
    uint8_t b;

    memset(op, 0, sizeof(*op));
    for (;;) {
        b = (uint8_t)rd(&r, 1);
        if (r.need_more)
            return 0;
        if (r.pos > 15)
            goto too_long;
        switch (b) {
        case 0x66: op32 = !(mode & MODE_CS32); continue;
        case 0x67: addr32 = !(mode & MODE_CS32); continue;
        case 0xf0: flags |= OPF_LOCK; continue;
        case 0xf2: flags = (flags & ~OPF_REP) | OPF_REPNE; continue;
        case 0xf3: flags = (flags & ~OPF_REPNE) | OPF_REP; continue;
        case 0x26: seg = S_ES; continue;
        case 0x2e: seg = S_CS; continue;
        case 0x36: seg = S_SS; continue;
        case 0x3e: seg = S_DS; continue;
        case 0x64: seg = S_FS; continue;
        case 0x65: seg = S_GS; continue;
        default: break;
        }
        break;
    }
    int opc = b;
    if (b == 0x0f) {
        opc = 256 + (uint8_t)rd(&r, 1);
        if (r.need_more)
            return 0;
    }
    if (!op32)
        flags |= OPF_OP16;
    if (!addr32)
        flags |= OPF_ADDR16;
    if (seg >= 0)
        flags |= OPF_SEGOVR;
    op->flags = flags;
    op->seg = (uint8_t)(seg >= 0 ? seg : S_DS);
    op->opcode = (uint8_t)opc;
    op->eip = eip;
    op->base = op->index = R_NONE;

    uint8_t modrm = 0;
    int reg = 0, mod3 = 1;
    if (d->has_modrm[opc]) {
        modrm = (uint8_t)rd(&r, 1);
        if (r.need_more)
            return 0;
        /* MOV to and from control and debug registers (0F 20-23) ignore the mod field
         * and always name a general register (SDM Vol. 2B, MOV-Move to/from Control
         * Registers): no SIB or displacement follows. */
        if (opc >= 0x120 && opc <= 0x123)
            modrm |= 0xc0;
        reg = (modrm >> 3) & 7;
        mod3 = (modrm >> 6) == 3;
    }
    int rowi = d->row[opc][reg][mod3];
    if (!rowi) {
        op->fn = op_ud;
        op->len = (uint8_t)MIN(r.pos, 15);
        return op->len;
    }
    const HgInsnInfo *row = &hg_insn_table[rowi - 1];
    op->insn = (uint16_t)(rowi - 1);
    op->modrm = modrm;
    op->reg = (uint8_t)reg;
    if (d->has_modrm[opc])
        decode_modrm(&r, op, modrm, !addr32);

    int nimm = 0;
    for (int i = 0; i < 3; i++) {
        uint32_t v;
        switch (row->ops[i]) {
        case OPD_Zb:
        case OPD_Zv:
            op->reg = (uint8_t)(opc & 7);
            continue;
        case OPD_Ib:
            v = rd(&r, 1);
            break;
        case OPD_IbS:
            v = (uint32_t)(int8_t)rd(&r, 1);
            if (!op32)
                v &= 0xffff;
            break;
        case OPD_Iw:
            v = rd(&r, 2);
            break;
        case OPD_Iv:
            v = rd(&r, op32 ? 4 : 2);
            break;
        case OPD_Jb:
        case OPD_Jv: {
            int32_t rel = row->ops[i] == OPD_Jb ? (int8_t)rd(&r, 1)
                          : op32               ? (int32_t)rd(&r, 4)
                                               : (int16_t)rd(&r, 2);
            v = eip + (uint32_t)r.pos + (uint32_t)rel;
            if (!op32)
                v &= 0xffff;
            break;
        }
        case OPD_Ap:
            op->imm = rd(&r, op32 ? 4 : 2);
            op->imm2 = (uint16_t)rd(&r, 2);
            nimm = 2;
            continue;
        case OPD_Ob:
        case OPD_Ov:
            op->disp = rd(&r, addr32 ? 4 : 2);
            op->base = op->index = R_NONE;
            continue;
        default:
            continue;
        }
        if (nimm == 0)
            op->imm = v;
        else
            op->imm2 = (uint16_t)v;
        nimm++;
    }
    if (r.need_more)
        return 0;
    if (r.pos > 15)
        goto too_long;
    op->len = (uint8_t)r.pos;

    const HgOpImpl *impl = row->impl;
    bool mem = op->flags & OPF_MEM;
    HgOpFn fn = mem ? (op32 ? impl->m32 : impl->m16) : (op32 ? impl->r32 : impl->r16);
    if ((flags & OPF_LOCK) && (!(row->flags & I_LOCK) || !mem))
        fn = NULL;
    if (fn && (impl == &hg_impl_Jcc_Jb || impl == &hg_impl_Jcc_Jv))
        fn = hg_jcc_fn[opc & 15]; /* the condition is the low opcode nibble */
    op->fn = fn ? fn : op_ud;
    return op->len;

too_long:
    op->fn = op_too_long;
    op->len = 15;
    return 15;
}

bool hg_decode_ends_block(const HgOp *op)
{
    if (op->fn == op_ud || op->fn == op_too_long)
        return true;
    const HgInsnInfo *row = &hg_insn_table[op->insn];
    return (row->flags & (I_BRANCH | I_ENDBLOCK | I_IRQSHADOW)) != 0;
}
