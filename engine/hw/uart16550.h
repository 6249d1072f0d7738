/* National Semiconductor 16550A UART (PC COM ports). */
#pragma once

#include <stdbool.h>
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
/* Queues a byte for the guest to receive; false when the receive FIFO is full. */
bool hg_uart_receive(HgUart *u, uint8_t byte);

typedef struct HgStateWriter HgStateWriter;
typedef struct HgStateReader HgStateReader;
void hg_uart_save(const HgUart *u, HgStateWriter *w);
void hg_uart_load(HgUart *u, HgStateReader *r);
