/* Port I/O: IN, OUT and the I/O permission check shared with the string forms
 * INS/OUTS (Intel SDM Vol. 1 chapter 18, "Input/Output").
 */
#include "insn.h"

#include "bus.h"

void hg_io_check(HgCpu *cpu, uint16_t port, int size)
{
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
