/* Port I/O: IN, OUT and the I/O permission check shared with the string forms
 * INS/OUTS (Intel SDM Vol. 1 chapter 18, "Input/Output").
 */
#include "insn.h"

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

#define H(name) static const HgOp *name(HgCpu *cpu, const HgOp *op)

static inline void out_port(HgCpu *cpu, uint16_t port, uint32_t v, int size)
{
    hg_io_check(cpu, port, size);
    hg_bus_out(cpu->bus, port, v, size);
}

static inline uint32_t in_port(HgCpu *cpu, uint16_t port, int size)
{
    hg_io_check(cpu, port, size);
    return hg_bus_in(cpu->bus, port, size);
}

H(in_al_ib) { hg_set_reg8(cpu, R_EAX, (uint8_t)in_port(cpu, (uint8_t)op->imm, 1)); return op + 1; }
H(in_ax_ib) { hg_set_reg16(cpu, R_EAX, (uint16_t)in_port(cpu, (uint8_t)op->imm, 2)); return op + 1; }
H(in_eax_ib) { cpu->regs[R_EAX] = in_port(cpu, (uint8_t)op->imm, 4); return op + 1; }
H(in_al_dx) { hg_set_reg8(cpu, R_EAX, (uint8_t)in_port(cpu, (uint16_t)cpu->regs[R_EDX], 1)); return op + 1; }
H(in_ax_dx) { hg_set_reg16(cpu, R_EAX, (uint16_t)in_port(cpu, (uint16_t)cpu->regs[R_EDX], 2)); return op + 1; }
H(in_eax_dx) { cpu->regs[R_EAX] = in_port(cpu, (uint16_t)cpu->regs[R_EDX], 4); return op + 1; }
H(out_ib_al) { out_port(cpu, (uint8_t)op->imm, cpu->regs[R_EAX] & 0xff, 1); return op + 1; }
H(out_ib_ax) { out_port(cpu, (uint8_t)op->imm, cpu->regs[R_EAX] & 0xffff, 2); return op + 1; }
H(out_ib_eax) { out_port(cpu, (uint8_t)op->imm, cpu->regs[R_EAX], 4); return op + 1; }
H(out_dx_al) { out_port(cpu, (uint16_t)cpu->regs[R_EDX], cpu->regs[R_EAX] & 0xff, 1); return op + 1; }
H(out_dx_ax) { out_port(cpu, (uint16_t)cpu->regs[R_EDX], cpu->regs[R_EAX] & 0xffff, 2); return op + 1; }
H(out_dx_eax) { out_port(cpu, (uint16_t)cpu->regs[R_EDX], cpu->regs[R_EAX], 4); return op + 1; }

const HgOpImpl hg_impl_IN_ALIb = {in_al_ib, in_al_ib, NULL, NULL};
const HgOpImpl hg_impl_IN_eAXIb = {in_ax_ib, in_eax_ib, NULL, NULL};
const HgOpImpl hg_impl_IN_ALDX = {in_al_dx, in_al_dx, NULL, NULL};
const HgOpImpl hg_impl_IN_eAXDX = {in_ax_dx, in_eax_dx, NULL, NULL};
const HgOpImpl hg_impl_OUT_IbAL = {out_ib_al, out_ib_al, NULL, NULL};
const HgOpImpl hg_impl_OUT_IbeAX = {out_ib_ax, out_ib_eax, NULL, NULL};
const HgOpImpl hg_impl_OUT_DXAL = {out_dx_al, out_dx_al, NULL, NULL};
const HgOpImpl hg_impl_OUT_DXeAX = {out_dx_ax, out_dx_eax, NULL, NULL};
