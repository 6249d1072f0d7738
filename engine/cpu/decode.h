/* Instruction decoder (decode.c). */
#pragma once

#include "insn.h"

/* Row lookup built once per machine from the table: for each opcode (one-byte map at
 * 0-255, 0F map at 256-511), ModRM.reg and "ModRM names a register", the table row
 * index + 1 (0: undefined opcode). */
typedef struct HgDecoder {
    uint8_t has_modrm[512];
    uint16_t row[512][8][2];
} HgDecoder;

HgDecoder *hg_decoder_new(void);
void hg_decoder_free(HgDecoder *d);

/* Decodes one instruction from buf (avail bytes are available; at most 15 are read).
 * mode is the CPU mode key (MODE_CS32 selects the default sizes). Returns the length,
 * or 0 when more bytes are needed. Undefined opcodes and over-long instructions
 * decode to ops that raise #UD or #GP when executed. */
int hg_decode(const HgDecoder *d, const uint8_t *buf, int avail, uint32_t eip, uint32_t mode,
              HgOp *op);
/* True when the op must be the last of its block. */
bool hg_decode_ends_block(const HgOp *op);
bool hg_insn_has_modrm(const HgInsnInfo *row);
const char *hg_operand_name(HgOperand o);
HgOpFn hg_decode_ud_fn(void);
