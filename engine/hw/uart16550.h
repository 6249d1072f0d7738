/* National Semiconductor 16550A UART (PC COM ports). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct HgBus HgBus;
typedef struct HgUart HgUart;

/* Receives each byte the guest transmits. */
typedef void (*HgUartTx)(void *opaque, uint8_t byte);
/* Drives the UART's interrupt line (the board routes it to a PIC input). */
typedef void (*HgUartIrq)(void *opaque, bool level);

HgUart *hg_uart_new(HgBus *bus, uint16_t base, HgUartTx tx, HgUartIrq irq, void *opaque);
void hg_uart_free(HgUart *u);
void hg_uart_reset(HgUart *u);
/* Puts a byte straight into the receive buffer (the chip's own loopback); false, with an
 * overrun, when it is full. */
bool hg_uart_receive(HgUart *u, uint8_t byte);
/* Host input (consoles, pipes): queued on the host side and moved into the receive buffer
 * as the guest reads, so none is lost. Returns how many bytes were taken (all of them,
 * unless megabytes already wait). */
size_t hg_uart_host_input(HgUart *u, const uint8_t *data, size_t len);
/* Bytes still waiting on the host side. */
size_t hg_uart_host_pending(const HgUart *u);

typedef struct HgStateWriter HgStateWriter;
typedef struct HgStateReader HgStateReader;
void hg_uart_save(const HgUart *u, HgStateWriter *w);
void hg_uart_load(HgUart *u, HgStateReader *r);
