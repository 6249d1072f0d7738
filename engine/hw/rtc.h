/* Motorola MC146818 real-time clock and the PC's CMOS RAM (ports 0x70-0x71, upper bank at
 * 0x72-0x73), with a helper computing the CMOS layout SeaBIOS reads.
 *
 * Board wiring:
 *   HgRtc *rtc = hg_rtc_new(bus, clock, pic_irq8, base_time);
 *   base_time: seconds since 1970-01-01 00:00:00 of the wall-clock time the guest should
 *   see at clock time 0 (host local time as "local seconds", or a fixed date such as
 *   hg_rtc_make_time(2024, 1, 1, 0, 0, 0) in instruction-counted mode for reproducible
 *   runs). The clock then advances with the virtual clock only.
 *   irq8: the HgIrq of PIC input 8 (and IOAPIC pin 8). It is driven high while register
 *   C's IRQF is set and lowered when the guest reads register C.
 *   NMI: hg_rtc_nmi_masked() is bit 7 of the last write to port 0x70; the board gates
 *   NMIs (e.g. from port 0x61 IOCHK/parity) with it.
 *   CMOS contents: fill an HgCmosConfig and call hg_rtc_apply_config() after creation
 *   (it writes 0x10-0x5f and the checksum); hg_rtc_cmos_set/get reach single bytes.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "irq.h"

typedef struct HgBus HgBus;
typedef struct HgClock HgClock;
typedef struct HgRtc HgRtc;
typedef struct HgStateWriter HgStateWriter;
typedef struct HgStateReader HgStateReader;

/* CMOS boot device codes (0x3d/0x38 nibbles, SeaBIOS boot.c). */
enum {
    HG_CMOS_BOOT_NONE,
    HG_CMOS_BOOT_FLOPPY,
    HG_CMOS_BOOT_HDD,
    HG_CMOS_BOOT_CDROM,
    HG_CMOS_BOOT_NET
};
/* CMOS floppy type codes (0x10 nibbles). */
enum {
    HG_CMOS_FD_NONE = 0,
    HG_CMOS_FD_360K = 1,
    HG_CMOS_FD_1M2 = 2,
    HG_CMOS_FD_720K = 3,
    HG_CMOS_FD_1M44 = 4,
    HG_CMOS_FD_2M88 = 5
};

typedef struct HgCmosDisk {
    bool present;
    uint32_t cylinders; /* legacy CHS geometry, capped at 16383 */
    uint8_t heads, sectors;
    uint8_t translation; /* 0 none, 1 LBA, 2 large, 3 R-CHS: CMOS 0x39 (2 bits per drive) */
} HgCmosDisk;

typedef struct HgCmosConfig {
    uint64_t ram_below_4g; /* bytes of RAM below 4 GiB (including the first MiB) */
    uint64_t ram_above_4g; /* bytes of RAM above 4 GiB */
    int cpus;              /* 0x5f = cpus - 1 (SeaBIOS waits for exactly this many) */
    uint8_t boot[3];       /* HG_CMOS_BOOT_*, in order */
    bool skip_fd_check;    /* 0x38 bit 0: skip the floppy boot signature check */
    uint8_t floppy[2];     /* HG_CMOS_FD_* of drives A and B */
    HgCmosDisk disk[2];    /* primary master and slave */
    bool fpu, ps2_mouse;
} HgCmosConfig;

HgRtc *hg_rtc_new(HgBus *bus, HgClock *clock, HgIrq irq8, int64_t base_time);
void hg_rtc_free(HgRtc *r);
/* Reset pin: clears PIE, AIE, UIE, SQWE and the flags; time and CMOS are kept. */
void hg_rtc_reset(HgRtc *r);

/* Seconds since 1970-01-01 of a calendar date and time (proleptic Gregorian). */
int64_t hg_rtc_make_time(int year, int month, int day, int hour, int min, int sec);
/* The guest-visible time now (whatever the guest set), as seconds since 1970. */
int64_t hg_rtc_time(HgRtc *r);

/* Direct CMOS access for the board (index 0-255; 128-255 are the upper bank). Writes to
 * the clock registers 0-0xd go through the same rules as guest writes; reads show what
 * the guest would read, except that reading register C does not clear it. */
void hg_rtc_cmos_set(HgRtc *r, int index, uint8_t value);
uint8_t hg_rtc_cmos_get(HgRtc *r, int index);
/* Computes bytes 0x10-0x5f (memory sizes, disks, floppies, equipment, boot order, CPU
 * count) into cmos[] (128 bytes), with the checksum at 0x2e-0x2f over 0x10-0x2d. */
void hg_cmos_layout(const HgCmosConfig *cfg, uint8_t cmos[128]);
/* hg_cmos_layout applied to the RTC's CMOS (the century byte 0x32 is kept). */
void hg_rtc_apply_config(HgRtc *r, const HgCmosConfig *cfg);

/* Bit 7 of the last write to port 0x70: NMIs are disabled. */
bool hg_rtc_nmi_masked(const HgRtc *r);

void hg_rtc_save(const HgRtc *r, HgStateWriter *w);
void hg_rtc_load(HgRtc *r, HgStateReader *rd);
