/* Motorola MC146818A real-time clock plus CMOS RAM as wired in the PC/AT (MC146818A
 * datasheet: "Address Map", "Time, Calendar and Alarm Locations" (binary/BCD, 12/24
 * hour), "Registers A-D", "Update Cycle" (UIP 244 us before the update), "Periodic
 * Interrupt" rate table, "Interrupts" (IRQF, PF, AF, UF and don't-care alarm values);
 * the CMOS layout follows IBM's AT BIOS and QEMU's pc_cmos_init, which SeaBIOS reads).
 *
 * The time is not stepped once a second: it is sec_base plus whole seconds elapsed on
 * the virtual clock since phase_ns, the moment a second began on the divider chain. The
 * time registers are refreshed from it when read, and hold the frozen time while SET is
 * 1 or the divider is in reset. The update happens at each second boundary (UIP in the
 * 244 us before it); a timer at each boundary sets UF and checks the alarm, another
 * fires at the periodic rate only while PIE is set (PF is otherwise computed when C is
 * read).
 */
#include "rtc.h"

#include <glib.h>

#include "bus.h"
#include "clock.h"
#include "state.h"

enum {
    REG_SEC = 0,
    REG_ASEC = 1,
    REG_MIN = 2,
    REG_AMIN = 3,
    REG_HOUR = 4,
    REG_AHOUR = 5,
    REG_WDAY = 6,
    REG_DAY = 7,
    REG_MON = 8,
    REG_YEAR = 9,
    REG_A = 0xa,
    REG_B = 0xb,
    REG_C = 0xc,
    REG_D = 0xd,
    REG_CENTURY = 0x32,
    A_UIP = 0x80,
    B_SET = 0x80,
    B_PIE = 0x40,
    B_AIE = 0x20,
    B_UIE = 0x10,
    B_SQWE = 0x08,
    B_DM = 0x04,
    B_24H = 0x02,
    C_IRQF = 0x80,
    C_PF = 0x40,
    C_AF = 0x20,
    C_UF = 0x10,
    D_VRT = 0x80,
    UIP_NS = 244000,
    BASE_HZ = 32768,
};

struct HgRtc {
    HgClock *clock;
    HgIrq irq;
    HgTimer *update_timer, *periodic_timer;
    uint8_t cmos[256];
    uint8_t index, index2;
    bool nmi_masked;
    int64_t sec_base; /* seconds since 1970 when the second starting at phase_ns began */
    int64_t phase_ns; /* clock time at which a second of the divider chain began */
    int64_t pf_index; /* last periodic boundary already reflected in PF */
    uint8_t wday_adj; /* guest-written weekday minus the computed one, mod 7 */
    bool irq_level;
};

/* ---- calendar (days since 1970-01-01, proleptic Gregorian) ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

int64_t hg_rtc_make_time(int year, int month, int day, int hour, int min, int sec)
{
    month = CLAMP(month, 1, 12);
    return days_from_civil(year, month, day) * 86400 + hour * 3600 + min * 60 + sec;
}

/* ---- register formats ---- */

static uint8_t to_reg(const HgRtc *r, int v)
{
    if (r->cmos[REG_B] & B_DM)
        return v;
    return (v / 10 % 10) << 4 | v % 10;
}

static int from_reg(const HgRtc *r, uint8_t v)
{
    if (r->cmos[REG_B] & B_DM)
        return v;
    return (v >> 4) * 10 + (v & 0xf);
}

static bool divider_running(const HgRtc *r)
{
    return (r->cmos[REG_A] & 0x60) != 0x60; /* DV = 11x holds the chain in reset */
}

static bool clock_running(const HgRtc *r)
{
    return divider_running(r) && !(r->cmos[REG_B] & B_SET);
}

static int64_t now_ns(const HgRtc *r)
{
    return hg_clock_ns(r->clock);
}

static int64_t elapsed_secs(const HgRtc *r, int64_t now)
{
    return floor_div(now - r->phase_ns, HG_NS_PER_SEC);
}

/* Time held in the registers (the guest's values, normalised into range). */
static int64_t decode_time(HgRtc *r)
{
    const uint8_t *c = r->cmos;
    int sec = MIN(from_reg(r, c[REG_SEC] & 0x7f), 59);
    int min = MIN(from_reg(r, c[REG_MIN] & 0x7f), 59);
    int hour;
    if (r->cmos[REG_B] & B_24H)
        hour = MIN(from_reg(r, c[REG_HOUR] & 0x7f), 23);
    else
        hour = from_reg(r, c[REG_HOUR] & 0x7f) % 12 + (c[REG_HOUR] & 0x80 ? 12 : 0);
    int day = CLAMP(from_reg(r, c[REG_DAY]), 1, 31);
    int mon = CLAMP(from_reg(r, c[REG_MON]), 1, 12);
    int year = from_reg(r, c[REG_YEAR]) % 100 + MIN(from_reg(r, c[REG_CENTURY]), 99) * 100;
    int64_t days = days_from_civil(year, mon, day);
    int wday = from_reg(r, c[REG_WDAY]);
    if (wday >= 1 && wday <= 7)
        r->wday_adj = (uint8_t)(((wday - 1 - (days + 4) % 7) % 7 + 7) % 7);
    return days * 86400 + hour * 3600 + min * 60 + sec;
}

static void encode_time(HgRtc *r, int64_t t)
{
    int64_t days = floor_div(t, 86400), y;
    int secs = (int)(t - days * 86400), m, d;
    civil_from_days(days, &y, &m, &d);
    uint8_t *c = r->cmos;
    int hour = secs / 3600;
    c[REG_SEC] = to_reg(r, secs % 60);
    c[REG_MIN] = to_reg(r, secs / 60 % 60);
    if (c[REG_B] & B_24H)
        c[REG_HOUR] = to_reg(r, hour);
    else
        c[REG_HOUR] = to_reg(r, hour % 12 ? hour % 12 : 12) | (hour >= 12 ? 0x80 : 0);
    c[REG_WDAY] = to_reg(r, (int)(((days + 4) % 7 + 7 + r->wday_adj) % 7) + 1);
    c[REG_DAY] = to_reg(r, d);
    c[REG_MON] = to_reg(r, m);
    int64_t yy = ((y % 10000) + 10000) % 10000;
    c[REG_YEAR] = to_reg(r, (int)(yy % 100));
    c[REG_CENTURY] = to_reg(r, (int)(yy / 100));
}

static int64_t current_time(HgRtc *r, int64_t now)
{
    if (clock_running(r))
        return r->sec_base + elapsed_secs(r, now);
    return decode_time(r);
}

/* Makes the registers show the current time. */
static void sync_regs(HgRtc *r, int64_t now)
{
    if (clock_running(r))
        encode_time(r, r->sec_base + elapsed_secs(r, now));
}

/* The registers were set: continue counting from them, keeping the divider phase. */
static void rebase(HgRtc *r, int64_t now)
{
    r->sec_base = decode_time(r) - elapsed_secs(r, now);
}

/* ---- periodic interrupt ---- */

/* Period in 32.768 kHz cycles, or 0 when off (rate 0 or divider in reset). */
static int64_t period_cycles(const HgRtc *r)
{
    int rate = r->cmos[REG_A] & 0x0f;
    if (!rate || !divider_running(r))
        return 0;
    return rate <= 2 ? (int64_t)1 << (rate + 6) : (int64_t)1 << (rate - 1);
}

static int64_t ns_to_cycles(int64_t ns)
{
    if (ns < 0)
        return 0;
    return ns / HG_NS_PER_SEC * BASE_HZ + ns % HG_NS_PER_SEC * BASE_HZ / HG_NS_PER_SEC;
}

static int64_t cycles_to_ns(int64_t t)
{
    return t / BASE_HZ * HG_NS_PER_SEC + (t % BASE_HZ * HG_NS_PER_SEC + BASE_HZ - 1) / BASE_HZ;
}

static int64_t periodic_index(const HgRtc *r, int64_t now)
{
    int64_t p = period_cycles(r);
    return p ? ns_to_cycles(now - r->phase_ns) / p : 0;
}

/* ---- interrupts and timers ---- */

static void update_irq(HgRtc *r)
{
    uint8_t *c = &r->cmos[REG_C];
    if (*c & r->cmos[REG_B] & (C_PF | C_AF | C_UF))
        *c |= C_IRQF;
    bool level = *c & C_IRQF;
    if (level != r->irq_level) {
        r->irq_level = level;
        hg_irq_set(&r->irq, level);
    }
}

static void arm_timers(HgRtc *r)
{
    int64_t now = now_ns(r);
    if (clock_running(r))
        hg_timer_mod(r->update_timer, r->phase_ns + (elapsed_secs(r, now) + 1) * HG_NS_PER_SEC);
    else
        hg_timer_del(r->update_timer);
    int64_t p = period_cycles(r);
    if (p && (r->cmos[REG_B] & B_PIE))
        hg_timer_mod(r->periodic_timer,
                     r->phase_ns + cycles_to_ns((periodic_index(r, now) + 1) * p));
    else
        hg_timer_del(r->periodic_timer);
}

static bool alarm_match(uint8_t alarm, uint8_t now)
{
    return (alarm & 0xc0) == 0xc0 || alarm == now;
}

static void update_cb(void *opaque)
{
    HgRtc *r = opaque;
    int64_t now = now_ns(r);
    if (clock_running(r)) {
        sync_regs(r, now);
        const uint8_t *c = r->cmos;
        r->cmos[REG_C] |= C_UF;
        if (alarm_match(c[REG_ASEC], c[REG_SEC]) && alarm_match(c[REG_AMIN], c[REG_MIN]) &&
            alarm_match(c[REG_AHOUR], c[REG_HOUR]))
            r->cmos[REG_C] |= C_AF;
        update_irq(r);
    }
    arm_timers(r);
}

static void periodic_cb(void *opaque)
{
    HgRtc *r = opaque;
    int64_t idx = periodic_index(r, now_ns(r));
    if (period_cycles(r) && idx > r->pf_index) {
        r->pf_index = idx;
        r->cmos[REG_C] |= C_PF;
        update_irq(r);
    }
    arm_timers(r);
}

/* ---- register access ---- */

/* PF for the periodic boundaries passed while no periodic timer ran (PIE clear). */
static void lazy_pf(HgRtc *r, int64_t now)
{
    int64_t idx = periodic_index(r, now);
    if (period_cycles(r) && idx > r->pf_index)
        r->cmos[REG_C] |= C_PF;
    r->pf_index = idx;
}

static bool is_time_reg(int idx)
{
    return idx == REG_SEC || idx == REG_MIN || idx == REG_HOUR ||
           (idx >= REG_WDAY && idx <= REG_YEAR) || idx == REG_CENTURY;
}

static uint8_t reg_read(HgRtc *r, int idx)
{
    int64_t now = now_ns(r);
    switch (idx) {
    case REG_A: {
        uint8_t a = r->cmos[REG_A] & 0x7f;
        if (clock_running(r)) {
            int64_t next = r->phase_ns + (elapsed_secs(r, now) + 1) * HG_NS_PER_SEC;
            if (next - now <= UIP_NS)
                a |= A_UIP;
        }
        return a;
    }
    case REG_C: {
        uint8_t *c = &r->cmos[REG_C];
        lazy_pf(r, now);
        if (*c & r->cmos[REG_B] & (C_PF | C_AF | C_UF))
            *c |= C_IRQF;
        uint8_t v = *c;
        *c = 0;
        update_irq(r);
        return v;
    }
    case REG_D: return D_VRT;
    default:
        if (is_time_reg(idx))
            sync_regs(r, now);
        return r->cmos[idx];
    }
}

static void reg_write(HgRtc *r, int idx, uint8_t v)
{
    int64_t now = now_ns(r);
    switch (idx) {
    case REG_A:
    case REG_B: {
        lazy_pf(r, now);
        bool was = clock_running(r), div_was = divider_running(r);
        int64_t t = was ? current_time(r, now) : 0;
        int64_t p_old = period_cycles(r);
        if (idx == REG_A) {
            r->cmos[REG_A] = v & 0x7f;
        } else {
            /* Setting SET also clears UIE (the update interrupt cannot happen). */
            r->cmos[REG_B] = (v & B_SET) ? v & ~B_UIE : v;
        }
        if (!div_was && divider_running(r))
            r->phase_ns = now - HG_NS_PER_SEC / 2; /* first update 500 ms later */
        if (was && !clock_running(r))
            encode_time(r, t);
        else if (!was && clock_running(r))
            rebase(r, now);
        if (period_cycles(r) != p_old || (!div_was && divider_running(r)))
            r->pf_index = periodic_index(r, now);
        update_irq(r);
        arm_timers(r);
        break;
    }
    case REG_C:
    case REG_D: break; /* read-only */
    default:
        if (is_time_reg(idx) && clock_running(r)) {
            sync_regs(r, now);
            r->cmos[idx] = v;
            rebase(r, now);
            arm_timers(r);
        } else {
            r->cmos[idx] = v;
        }
        break;
    }
}

static uint32_t rtc_read(void *opaque, uint32_t port, int size)
{
    (void)size;
    HgRtc *r = opaque;
    switch (port) {
    case 0x71: return reg_read(r, r->index);
    case 0x73: return r->cmos[128 + r->index2];
    default: return 0xff; /* index registers are write-only */
    }
}

static void rtc_write(void *opaque, uint32_t port, uint32_t value, int size)
{
    (void)size;
    HgRtc *r = opaque;
    switch (port) {
    case 0x70:
        r->index = value & 0x7f;
        r->nmi_masked = value & 0x80;
        break;
    case 0x71: reg_write(r, r->index, value); break;
    case 0x72: r->index2 = value & 0x7f; break;
    default: r->cmos[128 + r->index2] = value; break;
    }
}

void hg_rtc_cmos_set(HgRtc *r, int index, uint8_t value)
{
    if (index < 0 || index > 255)
        return;
    if (index < 128)
        reg_write(r, index, value);
    else
        r->cmos[index] = value;
}

uint8_t hg_rtc_cmos_get(HgRtc *r, int index)
{
    if (index < 0 || index > 255)
        return 0xff;
    if (index == REG_C)
        return r->cmos[REG_C]; /* without the guest's read-to-clear */
    return index < 128 ? reg_read(r, index) : r->cmos[index];
}

int64_t hg_rtc_time(HgRtc *r)
{
    return current_time(r, now_ns(r));
}

bool hg_rtc_nmi_masked(const HgRtc *r)
{
    return r->nmi_masked;
}

/* ---- CMOS layout ---- */

static void put16(uint8_t *cmos, int at, uint32_t v)
{
    cmos[at] = v & 0xff;
    cmos[at + 1] = (v >> 8) & 0xff;
}

void hg_cmos_layout(const HgCmosConfig *cfg, uint8_t cmos[128])
{
    memset(cmos + 0x10, 0, 0x60 - 0x10);
    /* Floppies and equipment byte. */
    cmos[0x10] = (cfg->floppy[0] & 0xf) << 4 | (cfg->floppy[1] & 0xf);
    int nfd = (cfg->floppy[0] != 0) + (cfg->floppy[1] != 0);
    uint8_t equip = 0;
    if (nfd)
        equip |= 0x01 | (nfd - 1) << 6;
    if (cfg->fpu)
        equip |= 0x02;
    if (cfg->ps2_mouse)
        equip |= 0x04;
    cmos[0x14] = equip;
    /* Memory: base 640 KiB, extended KiB above 1 MiB (capped), 64 KiB units above 16 MiB. */
    put16(cmos, 0x15, 640);
    uint64_t ext_kb = cfg->ram_below_4g > 0x100000 ? (cfg->ram_below_4g - 0x100000) / 1024 : 0;
    put16(cmos, 0x17, MIN(ext_kb, 0xffff));
    put16(cmos, 0x30, MIN(ext_kb, 0xffff));
    uint64_t hi = cfg->ram_below_4g > 0x1000000 ? (cfg->ram_below_4g - 0x1000000) >> 16 : 0;
    put16(cmos, 0x34, MIN(hi, 0xffff));
    uint64_t above = MIN(cfg->ram_above_4g >> 16, 0xffffff);
    cmos[0x5b] = above & 0xff;
    cmos[0x5c] = (above >> 8) & 0xff;
    cmos[0x5d] = (above >> 16) & 0xff;
    cmos[0x5f] = cfg->cpus > 0 ? MIN(cfg->cpus - 1, 255) : 0;
    /* Hard disks: type 0xf in 0x12 means "see the extended type at 0x19/0x1a" (47,
     * user-defined geometry at 0x1b-0x23 and 0x24-0x2c). */
    uint8_t types = 0, trans = 0;
    for (int i = 0; i < 2; i++) {
        const HgCmosDisk *d = &cfg->disk[i];
        if (!d->present)
            continue;
        types |= 0xf << (i ? 0 : 4);
        cmos[0x19 + i] = 47;
        int at = i ? 0x24 : 0x1b;
        uint32_t cyl = MIN(d->cylinders, 16383);
        put16(cmos, at, cyl);                            /* cylinders */
        cmos[at + 2] = d->heads;                         /* heads */
        put16(cmos, at + 3, 0xffff);                     /* write precompensation: none */
        cmos[at + 5] = 0xc0 | (d->heads > 8 ? 0x08 : 0); /* control byte */
        put16(cmos, at + 6, cyl);                        /* landing zone */
        cmos[at + 8] = d->sectors;                       /* sectors per track */
        trans |= (d->translation & 3) << (i * 2);
    }
    cmos[0x12] = types;
    cmos[0x39] = trans;
    /* Boot order: 0x3d = second << 4 | first, 0x38 = third << 4 | skip floppy check. */
    cmos[0x3d] = (cfg->boot[1] & 0xf) << 4 | (cfg->boot[0] & 0xf);
    cmos[0x38] = (cfg->boot[2] & 0xf) << 4 | (cfg->skip_fd_check ? 1 : 0);
    /* Checksum over 0x10-0x2d, big-endian at 0x2e. */
    uint16_t sum = 0;
    for (int i = 0x10; i <= 0x2d; i++)
        sum += cmos[i];
    cmos[0x2e] = sum >> 8;
    cmos[0x2f] = sum & 0xff;
}

void hg_rtc_apply_config(HgRtc *r, const HgCmosConfig *cfg)
{
    uint8_t buf[128];
    memcpy(buf, r->cmos, sizeof(buf));
    hg_cmos_layout(cfg, buf);
    for (int i = 0x10; i < 0x60; i++) {
        if (i != REG_CENTURY)
            r->cmos[i] = buf[i];
    }
}

/* ---- lifecycle ---- */

void hg_rtc_reset(HgRtc *r)
{
    r->cmos[REG_B] &= ~(B_PIE | B_AIE | B_UIE | B_SQWE);
    r->cmos[REG_C] = 0;
    update_irq(r);
    arm_timers(r);
}

HgRtc *hg_rtc_new(HgBus *bus, HgClock *clock, HgIrq irq8, int64_t base_time)
{
    HgRtc *r = g_new0(HgRtc, 1);
    r->clock = clock;
    r->irq = irq8;
    r->update_timer = hg_timer_new(clock, update_cb, r);
    r->periodic_timer = hg_timer_new(clock, periodic_cb, r);
    r->cmos[REG_A] = 0x26;
    r->cmos[REG_B] = B_24H;
    r->cmos[REG_D] = D_VRT;
    r->phase_ns = now_ns(r);
    r->sec_base = base_time;
    encode_time(r, base_time);
    arm_timers(r);
    if (bus) {
        hg_bus_map_io(bus, 0x70, 4, rtc_read, rtc_write, r);
    }
    return r;
}

void hg_rtc_free(HgRtc *r)
{
    if (!r)
        return;
    hg_timer_free(r->update_timer);
    hg_timer_free(r->periodic_timer);
    g_free(r);
}

static void put_timer(HgStateWriter *w, const HgTimer *t)
{
    bool pending = hg_timer_pending(t);
    hg_state_put_u8(w, pending);
    hg_state_put_u64(w, pending ? (uint64_t)hg_timer_expire(t) : 0);
}

void hg_rtc_save(const HgRtc *r, HgStateWriter *w)
{
    hg_state_begin(w, "rtc", 1);
    hg_state_put_bytes(w, r->cmos, sizeof(r->cmos));
    hg_state_put_u8(w, r->index);
    hg_state_put_u8(w, r->index2);
    hg_state_put_u8(w, r->nmi_masked);
    hg_state_put_u64(w, (uint64_t)r->sec_base);
    hg_state_put_u64(w, (uint64_t)r->phase_ns);
    hg_state_put_u64(w, (uint64_t)r->pf_index);
    hg_state_put_u8(w, r->wday_adj);
    hg_state_put_u8(w, r->irq_level);
    put_timer(w, r->update_timer);
    put_timer(w, r->periodic_timer);
    hg_state_end(w);
}

void hg_rtc_load(HgRtc *r, HgStateReader *rd)
{
    if (!hg_state_open(rd, "rtc", 1, 1))
        return;
    uint8_t cmos[256];
    hg_state_get_bytes(rd, cmos, sizeof(cmos));
    uint8_t index = hg_state_get_u8(rd) & 0x7f;
    uint8_t index2 = hg_state_get_u8(rd) & 0x7f;
    bool nmi = hg_state_get_u8(rd) != 0;
    int64_t sec_base = (int64_t)hg_state_get_u64(rd);
    int64_t phase = (int64_t)hg_state_get_u64(rd);
    int64_t pf_index = (int64_t)hg_state_get_u64(rd);
    uint8_t wday_adj = hg_state_get_u8(rd) % 7;
    bool irq_level = hg_state_get_u8(rd) != 0;
    bool up_pending = hg_state_get_u8(rd) != 0;
    int64_t up_expire = (int64_t)hg_state_get_u64(rd);
    bool per_pending = hg_state_get_u8(rd) != 0;
    int64_t per_expire = (int64_t)hg_state_get_u64(rd);
    hg_state_close(rd);
    if (!hg_state_ok(rd))
        return;
    /* Bound the times so the second and cycle arithmetic cannot overflow. */
    const int64_t lim = (int64_t)1 << 52;
    int64_t now = now_ns(r);
    memcpy(r->cmos, cmos, sizeof(cmos));
    r->cmos[REG_A] &= 0x7f;
    r->cmos[REG_C] &= 0xf0;
    r->cmos[REG_D] = D_VRT;
    r->index = index;
    r->index2 = index2;
    r->nmi_masked = nmi;
    r->sec_base = CLAMP(sec_base, -lim, lim);
    r->phase_ns = CLAMP(phase, now - lim, now + HG_NS_PER_SEC);
    r->pf_index = CLAMP(pf_index, -1, lim);
    r->wday_adj = wday_adj;
    r->irq_level = irq_level;
    arm_timers(r);
    /* Keep the saved expiries (arm_timers decided which timers run). */
    if (up_pending && hg_timer_pending(r->update_timer))
        hg_timer_mod(r->update_timer, CLAMP(up_expire, 0, now + 2 * HG_NS_PER_SEC));
    if (per_pending && hg_timer_pending(r->periodic_timer))
        hg_timer_mod(r->periodic_timer, CLAMP(per_expire, 0, now + 2 * HG_NS_PER_SEC));
}
