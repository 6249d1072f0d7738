/* Built with -m32: runs DAA DAS AAA AAS AAM AAD on this machine's CPU in 32-bit mode
 * (they do not exist in 64-bit mode) and writes one binary record per input to stdout
 * for tests/test-cpu-integer.c: {opcode, base, ax in, flags in, ax out, flags out}. */
#include <stdint.h>
#include <stdio.h>

typedef struct Rec {
    uint16_t opc, base, ax_in, fl_in, ax_out, fl_out;
} Rec;

#define ADJ(name, bytes)                                                                 \
    static void name(uint32_t *ax, uint32_t *fl)                                         \
    {                                                                                    \
        __asm__ volatile("pushl %1\n popfl\n .byte " bytes "\n pushfl\n popl %1"         \
                         : "+a"(*ax), "+r"(*fl)                                          \
                         :                                                               \
                         : "cc");                                                        \
    }
ADJ(daa, "0x27")
ADJ(das, "0x2f")
ADJ(aaa, "0x37")
ADJ(aas, "0x3f")
#define BASES(X) X(10) X(16) X(7) X(2) X(1) X(255) X(0)
#define AAM_AAD(b) ADJ(aam_##b, "0xd4," #b) ADJ(aad_##b, "0xd5," #b)
BASES(AAM_AAD)

static void emit(uint16_t opc, uint16_t base, uint32_t ax, uint32_t fl,
                 void (*fn)(uint32_t *, uint32_t *))
{
    Rec r = {opc, base, (uint16_t)ax, (uint16_t)fl, 0, 0};
    uint32_t a = ax, f = fl | 0x202;
    fn(&a, &f);
    r.ax_out = (uint16_t)a;
    r.fl_out = (uint16_t)f;
    fwrite(&r, sizeof(r), 1, stdout);
}

int main(void)
{
    static const uint32_t ahs[] = {0x00, 0x01, 0x12, 0x7f, 0x80, 0xfe, 0xff};
    static const uint32_t flags[] = {0x000, 0x001, 0x010, 0x011, 0x8c4, 0x8d5};
    for (unsigned al = 0; al < 256; al++)
        for (unsigned h = 0; h < sizeof(ahs) / sizeof(ahs[0]); h++)
            for (unsigned f = 0; f < sizeof(flags) / sizeof(flags[0]); f++) {
                uint32_t ax = ahs[h] << 8 | al;
                emit(0x27, 0, ax, flags[f], daa);
                emit(0x2f, 0, ax, flags[f], das);
                emit(0x37, 0, ax, flags[f], aaa);
                emit(0x3f, 0, ax, flags[f], aas);
            }
    for (unsigned ax = 0; ax < 65536; ax += (ax & 0xff) == 0xff ? 0x0d01 - 0xff : 1) {
#define RUN(b)                                                                           \
    if (b != 0)                                                                          \
        emit(0xd4, b, ax, 0x8d5 * (ax & 1), aam_##b);                                    \
    emit(0xd5, b, ax, 0x8d5 * (ax & 1), aad_##b);
        BASES(RUN)
    }
    return 0;
}
