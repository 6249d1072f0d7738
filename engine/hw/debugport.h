/* QEMU-compatible test devices: debugcon (0xE9), isa-debug-exit (0xF4) and the
 * pc-testdev echo register (0xE0-0xE3). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct HgBus HgBus;
typedef struct HgDebugPorts HgDebugPorts;
typedef struct HgStateWriter HgStateWriter;
typedef struct HgStateReader HgStateReader;

typedef void (*HgDebugconOut)(void *opaque, uint8_t byte);
/* The guest asked to exit with the given process status. */
typedef void (*HgDebugExit)(void *opaque, int status);

/* con may be NULL (no debugcon); exit_fn NULL disables the exit and echo ports. */
HgDebugPorts *hg_debugports_new(HgBus *bus, HgDebugconOut con, HgDebugExit exit_fn,
                                void *opaque);
void hg_debugports_free(HgDebugPorts *d);
void hg_debugports_save(const HgDebugPorts *d, HgStateWriter *w);
void hg_debugports_load(HgDebugPorts *d, HgStateReader *r);
