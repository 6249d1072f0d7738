/* Task switching (Intel SDM Vol. 3A chapter 7). Placeholder until the task-switch
 * implementation arrives: every task switch faults with #GP on the TSS selector. */
#include "ops.h"
#include "seg.h"

void hg_task_switch(HgCpu *cpu, uint16_t sel, int reason, uint32_t next_eip, int error_code)
{
    (void)reason;
    (void)next_eip;
    (void)error_code;
    hg_raise_gp(cpu, sel & 0xfffc);
}
