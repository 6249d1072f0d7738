/* The machine object's insides, shared by the files that assemble and drive it
 * (machine.c, monitor.c, the board). Frontends use hangar.h only. */
#pragma once

#include "hangar.h"

#include "bus.h"
#include "clock.h"
#include "cpu.h"
#include "hw/debugport.h"
#include "hw/uart16550.h"
#include "multiboot.h"

/* Host mode: instructions per slice between looks at timers and commands (about a
 * millisecond of guest time at the threaded tier's speed). */
enum { HG_HOST_SLICE = 200000 };

/* The firmware used when none is given: Debian's SeaBIOS. */
#define HG_DEFAULT_BIOS "/usr/share/seabios/bios-256k.bin"
/* The VGA BIOS of the standard VGA, from the same package. */
#define HG_VGA_BIOS "/usr/share/seabios/vgabios-isavga.bin"

typedef struct HgCommand {
    HgMachineFn fn;
    void *data;
    GDestroyNotify free_data;
} HgCommand;

struct HgMachine {
    HgConfig cfg;
    HgMachineHooks hooks;
    HgBus *bus;
    HgCpu *cpu;
    HgClock *clock;
    struct HgAio *aio; /* image requests finished on worker threads (block/aio.h) */
    /* Emulation thread and commands. The lock guards the queue, paused, quit and the
     * wake-up condition; everything else belongs to whichever thread runs the loop. */
    GThread *thread;
    GMutex lock;
    GCond wake;
    GQueue commands;
    bool paused;
    bool quit;
    HgMachineState state;
    struct HgBoard *board;
    struct HgDisplay *display;
    HgDebugPorts *dbg;
    GBytes *bios;
    HgMultiboot *mb;
    bool exited;
    bool reset_requested;
    unsigned resets; /* system resets after power-on (atomic) */
    uint64_t icount_base; /* instructions retired before the last CPU reset */
    int exit_status;
};

/* A message for the person (HgMachineHooks.message, or GLib's debug log); any thread
 * that runs the machine. */
void hg_machine_message(HgMachine *m, int level, const char *format, ...) G_GNUC_PRINTF(3, 4);

/* Another thread has work for the emulation thread (an image request finished, frames
 * arrived from the network): ends the slice being run and any sleep. opaque is the
 * machine. */
void hg_machine_wake(void *opaque);

/* A display pixel coordinate as the USB tablet's 0..0x7FFF (emulation thread). */
int hg_machine_pointer_scale(HgMachine *m, int v, bool vertical);
