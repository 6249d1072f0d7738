/* Port I/O: IN, OUT and the I/O permission check shared with the string forms
 * INS/OUTS (Intel SDM Vol. 1 chapter 18, "Input/Output"; Vol. 2 "IN", "OUT").
 */
#include "intops.h"

#include "bus.h"

void hg_io_check(HgCpu *cpu, uint16_t port, int size)
{
    if (cpu->dbg_io_bps)
        hg_debug_check_io(cpu, port, size);
    if (!(cpu->cr0 & CR0_PE))
        return;
    bool vm86 = cpu->eflags & FL_VM;
    uint32_t iopl = (cpu->eflags & FL_IOPL) >> 12;
    if (!vm86 && (uint32_t)cpu->cpl <= iopl)
        return;
    /* The bitmap exists only in a 32-bit TSS (busy or available types 9/11) whose limit
     * reaches the I/O map base field at offset 0x66. */
    const HgSegment *tr = &cpu->seg[S_TR];
    uint32_t type = (tr->flags >> DESC_TYPE_SHIFT) & 0xf;
    if ((type != 9 && type != 11) || tr->limit < 0x67)
        hg_raise_gp(cpu, 0);
    uint32_t map = hg_lin_read_sys(cpu, tr->base + 0x66, 2);
    uint32_t off = map + port / 8;
    /* Two bytes are always read, so an access near the end of a byte needs the next. */
    if (off + 1 > tr->limit)
        hg_raise_gp(cpu, 0);
    uint32_t bits = hg_lin_read_sys(cpu, tr->base + off, 2);
    uint32_t mask = ((1u << size) - 1) << (port & 7);
    if (bits & mask)
        hg_raise_gp(cpu, 0);
}

/* The port comes from the immediate byte or from DX. Devices may raise interrupts or
 * ask the loop to stop, so these rows end their block (I_ENDBLOCK): the op after them
 * is the block's exit. */
enum { P_IMM, P_DX };

ALWAYS_INLINE uint16_t io_port(HgCpu *cpu, const HgOp *op, int psrc)
{
    return psrc == P_IMM ? (uint16_t)(op->imm & 0xff) : (uint16_t)cpu->regs[R_EDX];
}

ALWAYS_INLINE const HgOp *in_(HgCpu *cpu, const HgOp *op, int bits, int psrc)
{
    uint16_t port = io_port(cpu, op, psrc);
    hg_io_check(cpu, port, bits / 8);
    iop_set_reg(cpu, R_EAX, hg_bus_in(cpu->bus, port, bits / 8), bits);
    return op + 1;
}

ALWAYS_INLINE const HgOp *out_(HgCpu *cpu, const HgOp *op, int bits, int psrc)
{
    uint16_t port = io_port(cpu, op, psrc);
    hg_io_check(cpu, port, bits / 8);
    hg_bus_out(cpu->bus, port, iop_get_reg(cpu, R_EAX, bits), bits / 8);
    return op + 1;
}

H(in_b_i) { return in_(cpu, op, 8, P_IMM); }
H(in_w_i) { return in_(cpu, op, 16, P_IMM); }
H(in_d_i) { return in_(cpu, op, 32, P_IMM); }
H(in_b_dx) { return in_(cpu, op, 8, P_DX); }
H(in_w_dx) { return in_(cpu, op, 16, P_DX); }
H(in_d_dx) { return in_(cpu, op, 32, P_DX); }
H(out_b_i) { return out_(cpu, op, 8, P_IMM); }
H(out_w_i) { return out_(cpu, op, 16, P_IMM); }
H(out_d_i) { return out_(cpu, op, 32, P_IMM); }
H(out_b_dx) { return out_(cpu, op, 8, P_DX); }
H(out_w_dx) { return out_(cpu, op, 16, P_DX); }
H(out_d_dx) { return out_(cpu, op, 32, P_DX); }
const HgOpImpl hg_impl_IN_ALIb = {in_b_i, in_b_i, NULL, NULL};
const HgOpImpl hg_impl_IN_eAXIb = {in_w_i, in_d_i, NULL, NULL};
const HgOpImpl hg_impl_IN_ALDX = {in_b_dx, in_b_dx, NULL, NULL};
const HgOpImpl hg_impl_IN_eAXDX = {in_w_dx, in_d_dx, NULL, NULL};
const HgOpImpl hg_impl_OUT_IbAL = {out_b_i, out_b_i, NULL, NULL};
const HgOpImpl hg_impl_OUT_IbeAX = {out_w_i, out_d_i, NULL, NULL};
const HgOpImpl hg_impl_OUT_DXAL = {out_b_dx, out_b_dx, NULL, NULL};
const HgOpImpl hg_impl_OUT_DXeAX = {out_w_dx, out_d_dx, NULL, NULL};
