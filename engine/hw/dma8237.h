/* The PC/AT's two Intel 8237A DMA controllers with their 74LS612 page registers.
 *
 * Board wiring: hg_dma_new(bus) maps ports 0x00-0x0F (controller 1, channels 0-3, byte
 * transfers), 0xC0-0xDF (controller 2, channels 4-7, word transfers, registers on even
 * ports) and the page registers 0x81-0x8F. Port 0x80 (the POST code port) is left to the
 * board. Channel 4 is the cascade of controller 1 into controller 2 and never transfers.
 *
 * ISA devices (the floppy on channel 2, the SB16 on 1 and 5) register a transfer handler
 * for their channel and raise DREQ with hg_dma_hold_dreq. Whenever DREQ is held and the
 * channel is unmasked, hg_dma_run calls the handler with the position already transferred
 * in the current block and the block length in bytes; the handler moves bytes with
 * hg_dma_read_memory (memory -> device) or hg_dma_write_memory (device -> memory) and
 * returns the new position. The controller then updates the channel's current address
 * and count (which the guest can read back mid-transfer) and on terminal count sets the
 * status TC bit, and either reloads the base registers (auto-init) or masks the channel.
 * The board or the device calls hg_dma_run after raising DREQ or when its timer fires.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct HgBus HgBus;
typedef struct HgDma HgDma;
typedef struct HgStateWriter HgStateWriter;
typedef struct HgStateReader HgStateReader;

/* Moves data for channel between pos and len (bytes of the programmed block); returns
 * the new position (at most len; len means terminal count). */
typedef int (*HgDmaTransfer)(void *opaque, int channel, int pos, int len);

enum {
    HG_DMA_CHANNELS = 8,
    /* Transfer types of the mode register, bits 2-3. */
    HG_DMA_VERIFY = 0,
    HG_DMA_WRITE = 1, /* device -> memory */
    HG_DMA_READ = 2,  /* memory -> device */
};

HgDma *hg_dma_new(HgBus *bus);
void hg_dma_free(HgDma *d);
void hg_dma_reset(HgDma *d);

void hg_dma_register(HgDma *d, int channel, HgDmaTransfer fn, void *opaque);
void hg_dma_hold_dreq(HgDma *d, int channel);
void hg_dma_release_dreq(HgDma *d, int channel);
/* Serves every channel whose DREQ is held and which is unmasked. */
void hg_dma_run(HgDma *d);

/* Copies up to len bytes of the block starting at byte pos into buf (memory -> device),
 * or from buf to memory; returns the bytes moved, clipped to the programmed block. */
int hg_dma_read_memory(HgDma *d, int channel, void *buf, int pos, int len);
int hg_dma_write_memory(HgDma *d, int channel, const void *buf, int pos, int len);

/* The channel's mode register (transfer type in bits 2-3, auto-init bit 4, decrement
 * bit 5, mode bits 6-7) and whether it is masked. */
uint8_t hg_dma_mode(const HgDma *d, int channel);
bool hg_dma_masked(const HgDma *d, int channel);
/* Current count register (transfers remaining - 1; 0xFFFF after terminal count). */
uint16_t hg_dma_current_count(const HgDma *d, int channel);

void hg_dma_save(const HgDma *d, HgStateWriter *w);
void hg_dma_load(HgDma *d, HgStateReader *r);
