/* Ensoniq ES1370 (Ensoniq "AudioPCI ES1370 specification": register map, the serial
 * interface control register, the memory page window; Linux sound/pci/ens1370.c for how
 * a driver programs it).
 *
 * Registers (offsets in BAR0): 0x00 control (channel enables, DAC1 rate select
 * WTSRSEL, DAC2/ADC clock divider PCLKDIV: rate = 1411200 / (PCLKDIV + 2)), 0x04 status
 * (INTR and the per-channel interrupt bits), 0x08 UART, 0x0C memory page, 0x10 AK4531
 * codec write port, 0x20 serial control (formats, interrupt enables, pauses, loop
 * select), 0x24/0x28/0x2C sample counts (low half: frames per interrupt - 1, high half:
 * the current count), 0x30-0x3F the page window: page 0x0C holds the DAC1 and DAC2
 * frame address and size (low half: longwords - 1, high half: the longword being read),
 * page 0x0D the ADC's.
 *
 * Each channel walks its frame buffer a frame at a time as the mixer asks (the ADC as a
 * silent voice, so it is paced the same way), wraps at the end (loop mode; with its loop
 * select bit set it stops there instead), and raises its interrupt each time its sample
 * count runs out, if enabled in the serial control register; clearing the enable
 * acknowledges it, as Linux's interrupt handler does. Addresses outside RAM read as
 * silence and take no writes (the PCI master abort).
 */
#include "es1370.h"

#include <glib.h>
#include <string.h>

#include "audio.h"
#include "bus.h"
#include "clock.h"
#include "pci.h"
#include "state.h"

enum {
    REG_CONTROL = 0x00,
    REG_STATUS = 0x04,
    REG_UART = 0x08,
    REG_MEMPAGE = 0x0c,
    REG_CODEC = 0x10,
    REG_SERIAL = 0x20,
    REG_SCOUNT = 0x24, /* DAC1; DAC2 at 0x28, ADC at 0x2C */
    REG_WINDOW = 0x30,

    CTL_ADC_STOP = 1u << 31,
    CTL_DAC1_EN = 0x40,
    CTL_DAC2_EN = 0x20,
    CTL_ADC_EN = 0x10,

    STAT_INTR = 1u << 31,

    PAGE_DAC = 0x0c,
    PAGE_ADC = 0x0d,

    SRCLOCK = 1411200,
};

enum { DAC1, DAC2, ADC, NCHAN };

static const uint32_t ctl_enable[NCHAN] = {CTL_DAC1_EN, CTL_DAC2_EN, CTL_ADC_EN};
static const uint32_t stat_bit[NCHAN] = {4, 2, 1};
static const int dac1_rates[4] = {5512, 11025, 22050, 44100};

typedef struct Chan {
    struct HgEs1370 *es;
    int n;
    uint32_t frame_addr;
    uint16_t frame_len; /* longwords - 1 */
    uint32_t pos;       /* byte offset in the frame buffer */
    uint16_t count;     /* frames per interrupt - 1 */
    uint16_t left;      /* current count */
    HgVoice *voice;
    HgTimer *timer;
} Chan;

struct HgEs1370 {
    HgBus *bus;
    HgClock *clock;
    HgAudio *audio;
    HgPciDevice *pci;
    uint32_t ctl, status, sctl;
    uint8_t mempage;
    uint32_t codec;
    uint8_t codec_regs[32];
    uint32_t scratch[16][4]; /* the other pages of the window (UART FIFO RAM) */
    Chan ch[NCHAN];
};

/* ---- state helpers ---- */

static bool stereo(const HgEs1370 *es, int n)
{
    return es->sctl & (1u << (n * 2));
}

static bool bits16(const HgEs1370 *es, int n)
{
    return es->sctl & (2u << (n * 2));
}

static int frame_bytes(const HgEs1370 *es, int n)
{
    return (stereo(es, n) ? 2 : 1) * (bits16(es, n) ? 2 : 1);
}

static bool int_enabled(const HgEs1370 *es, int n)
{
    return es->sctl & (0x100u << n);
}

static bool paused(const HgEs1370 *es, int n)
{
    return n != ADC && (es->sctl & (0x800u << n));
}

static bool stop_at_end(const HgEs1370 *es, int n)
{
    return es->sctl & (0x2000u << n);
}

static bool running(const HgEs1370 *es, int n)
{
    if (!(es->ctl & ctl_enable[n]) || paused(es, n))
        return false;
    return n != ADC || !(es->ctl & CTL_ADC_STOP);
}

static int rate_of(const HgEs1370 *es, int n)
{
    if (n == DAC1)
        return dac1_rates[(es->ctl >> 12) & 3];
    return SRCLOCK / ((int)((es->ctl >> 16) & 0x1fff) + 2);
}

static void update_irq(HgEs1370 *es)
{
    uint32_t any = es->status & 7;
    es->status = (es->status & ~STAT_INTR) | (any ? STAT_INTR : 0);
    hg_pci_set_irq(es->pci, any != 0);
}

static void catch_up(HgEs1370 *es)
{
    hg_audio_mix_to(es->audio, hg_clock_ns(es->clock));
}

/* ---- the channels ---- */

static int64_t frames_ns(const HgEs1370 *es, int n, uint64_t frames)
{
    return (int64_t)(frames * 1000000000ull / (uint64_t)rate_of(es, n));
}

static void arm_timer(Chan *c, int64_t at)
{
    HgEs1370 *es = c->es;
    if (!running(es, c->n) || !int_enabled(es, c->n)) {
        hg_timer_del(c->timer);
        return;
    }
    /* The interrupt comes after left + 1 more frames; the voice runs a frame behind. */
    int64_t when =
        at + frames_ns(es, c->n, (uint64_t)c->left + 1) + 2 * 1000000000ll / HG_AUDIO_RATE + 1000;
    hg_timer_mod(c->timer, when);
}

static void update_channel(HgEs1370 *es, int n)
{
    Chan *c = &es->ch[n];
    hg_voice_set_format(c->voice, rate_of(es, n), stereo(es, n) ? 2 : 1);
    hg_voice_set_active(c->voice, running(es, n));
    arm_timer(c, hg_clock_ns(es->clock));
}

/* One frame moved: count it and raise the interrupt when the count runs out. */
static void count_frame(HgEs1370 *es, Chan *c)
{
    if (c->left == 0) {
        c->left = c->count;
        if (int_enabled(es, c->n)) {
            es->status |= stat_bit[c->n];
            update_irq(es);
        }
    } else {
        c->left--;
    }
}

static int fill(void *opaque, int16_t *buf, int frames, int64_t ns)
{
    Chan *c = opaque;
    HgEs1370 *es = c->es;
    int n = c->n, fb = frame_bytes(es, n), ch = stereo(es, n) ? 2 : 1;
    uint32_t size = ((uint32_t)c->frame_len + 1) * 4;
    int done = 0;
    for (; done < frames && running(es, n); done++) {
        if (c->pos + (uint32_t)fb > size)
            c->pos = 0; /* a frame never straddles the end */
        uint8_t b[4] = {0, 0, 0, 0};
        uint64_t addr = (uint64_t)c->frame_addr + c->pos;
        if (n == ADC) {
            /* Silence: 0 for signed 16-bit, 0x80 for unsigned 8-bit. */
            if (!bits16(es, n))
                memset(b, 0x80, sizeof b);
            hg_bus_dma_write(es->bus, addr, b, (uint64_t)fb);
            for (int k = 0; k < ch; k++)
                buf[done * ch + k] = 0;
        } else {
            if (!hg_bus_dma_read(es->bus, addr, b, (uint64_t)fb))
                memset(b, bits16(es, n) ? 0 : 0x80, sizeof b);
            for (int k = 0; k < ch; k++) {
                int16_t v;
                if (bits16(es, n))
                    v = (int16_t)(b[k * 2] | b[k * 2 + 1] << 8);
                else
                    v = (int16_t)((b[k] ^ 0x80) << 8); /* 8-bit samples are unsigned */
                buf[done * ch + k] = v;
            }
        }
        c->pos += (uint32_t)fb;
        count_frame(es, c);
        if (c->pos >= size) {
            c->pos = 0;
            if (stop_at_end(es, n)) {
                /* Stop mode: the channel halts at the end of its buffer. */
                es->ctl &= ~ctl_enable[n];
                done++;
                break;
            }
        }
    }
    hg_voice_set_active(c->voice, running(es, n));
    arm_timer(c, ns + frames_ns(es, n, (uint64_t)frames));
    return done;
}

static void timer_cb(void *opaque)
{
    Chan *c = opaque;
    catch_up(c->es);
    if (!hg_timer_pending(c->timer))
        arm_timer(c, hg_clock_ns(c->es->clock));
}

/* ---- registers ---- */

static uint32_t *window_reg(HgEs1370 *es, uint32_t off, Chan **chan, bool *is_size)
{
    int idx = (int)((off - REG_WINDOW) >> 2);
    *chan = NULL;
    *is_size = idx & 1;
    if (es->mempage == PAGE_DAC)
        *chan = &es->ch[idx < 2 ? DAC1 : DAC2];
    else if (es->mempage == PAGE_ADC && idx < 2)
        *chan = &es->ch[ADC];
    return &es->scratch[es->mempage & 0xf][idx];
}

static uint32_t reg_read(HgEs1370 *es, uint32_t off)
{
    switch (off) {
    case REG_CONTROL: return es->ctl;
    case REG_STATUS: return es->status; /* codec never busy (CSTAT, CBUSY clear) */
    case REG_UART: return 0x00000200;   /* UART status: transmitter ready */
    case REG_MEMPAGE: return es->mempage;
    case REG_CODEC: return es->codec;
    case REG_SERIAL: return es->sctl;
    case REG_SCOUNT:
    case REG_SCOUNT + 4:
    case REG_SCOUNT + 8: {
        Chan *c = &es->ch[(off - REG_SCOUNT) >> 2];
        catch_up(es);
        return (uint32_t)c->count | (uint32_t)c->left << 16;
    }
    default:
        if (off >= REG_WINDOW && off < REG_WINDOW + 16) {
            Chan *c;
            bool is_size;
            uint32_t *scratch = window_reg(es, off, &c, &is_size);
            if (!c)
                return *scratch;
            if (!is_size)
                return c->frame_addr;
            catch_up(es);
            return (uint32_t)c->frame_len | (c->pos >> 2) << 16;
        }
        return 0;
    }
}

static void set_serial(HgEs1370 *es, uint32_t v)
{
    catch_up(es);
    es->sctl = v;
    /* Clearing an interrupt enable acknowledges that channel's interrupt. */
    for (int n = 0; n < NCHAN; n++)
        if (!int_enabled(es, n))
            es->status &= ~stat_bit[n];
    update_irq(es);
    for (int n = 0; n < NCHAN; n++)
        update_channel(es, n);
}

static void reg_write(HgEs1370 *es, uint32_t off, uint32_t v)
{
    switch (off) {
    case REG_CONTROL:
        catch_up(es);
        es->ctl = v;
        for (int n = 0; n < NCHAN; n++)
            update_channel(es, n);
        break;
    case REG_STATUS: break; /* read-only */
    case REG_UART: break;   /* MIDI out goes nowhere */
    case REG_MEMPAGE: es->mempage = v & 0x0f; break;
    case REG_CODEC:
        /* AK4531 mixer: (register << 8) | value; kept, not applied (the codec's
         * volumes are the guest's business; the mix stays at unity). */
        es->codec = v & 0xffff;
        es->codec_regs[(v >> 8) & 0x1f] = (uint8_t)v;
        break;
    case REG_SERIAL: set_serial(es, v & 0x003fffff); break;
    case REG_SCOUNT:
    case REG_SCOUNT + 4:
    case REG_SCOUNT + 8: {
        Chan *c = &es->ch[(off - REG_SCOUNT) >> 2];
        catch_up(es);
        c->count = (uint16_t)v;
        c->left = (uint16_t)v;
        arm_timer(c, hg_clock_ns(es->clock));
        break;
    }
    default:
        if (off >= REG_WINDOW && off < REG_WINDOW + 16) {
            Chan *c;
            bool is_size;
            uint32_t *scratch = window_reg(es, off, &c, &is_size);
            if (!c) {
                *scratch = v;
                break;
            }
            catch_up(es);
            if (!is_size) {
                c->frame_addr = v;
            } else {
                c->frame_len = (uint16_t)v;
                c->pos = (v >> 16) * 4;
                if (c->pos >= ((uint32_t)c->frame_len + 1) * 4)
                    c->pos = 0;
            }
        }
        break;
    }
}

/* Byte and word accesses reach the dword registers they fall in. */
static uint32_t bar_read(void *opaque, uint32_t off, int size)
{
    HgEs1370 *es = opaque;
    uint32_t v = reg_read(es, off & ~3u) >> ((off & 3) * 8);
    return size == 4 ? v : v & ((1u << (size * 8)) - 1);
}

static void bar_write(void *opaque, uint32_t off, uint32_t value, int size)
{
    HgEs1370 *es = opaque;
    uint32_t base = off & ~3u, shift = (off & 3) * 8;
    if (size == 4) {
        reg_write(es, base, value);
        return;
    }
    uint32_t mask = ((1u << (size * 8)) - 1) << shift;
    uint32_t old = base == REG_STATUS ? es->status : reg_read(es, base);
    if (base == REG_CODEC || base == REG_UART || base == REG_MEMPAGE)
        old = 0;
    reg_write(es, base, (old & ~mask) | ((value << shift) & mask));
}

HgEs1370 *hg_es1370_new(HgPciBus *pci, int devfn, HgBus *bus, HgClock *clock, HgAudio *audio)
{
    HgEs1370 *es = g_new0(HgEs1370, 1);
    es->bus = bus;
    es->clock = clock;
    es->audio = audio;
    es->pci = hg_pci_register(pci, devfn, 0x1274, 0x5000, 0, 0x040100, es);
    uint8_t *cfg = hg_pci_config(es->pci);
    /* Subsystem 4942:4C4C as on the boards (and QEMU), INTA, the latency the chip asks. */
    cfg[HG_PCI_SUBSYSTEM_VENDOR] = 0x42;
    cfg[HG_PCI_SUBSYSTEM_VENDOR + 1] = 0x49;
    cfg[HG_PCI_SUBSYSTEM_ID] = 0x4c;
    cfg[HG_PCI_SUBSYSTEM_ID + 1] = 0x4c;
    cfg[HG_PCI_INTERRUPT_PIN] = 1;
    cfg[0x3e] = 0x0c; /* Min_Gnt */
    cfg[0x3f] = 0x80; /* Max_Lat */
    hg_pci_set_bar(es->pci, 0, 64, HG_PCI_BAR_IO, bar_read, bar_write);
    static const char *const names[NCHAN] = {"es1370-dac1", "es1370-dac2", "es1370-adc"};
    for (int n = 0; n < NCHAN; n++) {
        Chan *c = &es->ch[n];
        c->es = es;
        c->n = n;
        c->voice = hg_voice_new(audio, names[n], fill, c);
        c->timer = hg_timer_new(clock, timer_cb, c);
    }
    hg_voice_set_gain(es->ch[ADC].voice, 0, 0);
    hg_es1370_reset(es);
    return es;
}

void hg_es1370_free(HgEs1370 *es)
{
    if (!es)
        return;
    for (int n = 0; n < NCHAN; n++) {
        hg_timer_free(es->ch[n].timer);
        hg_voice_free(es->ch[n].voice);
    }
    g_free(es);
}

void hg_es1370_reset(HgEs1370 *es)
{
    catch_up(es);
    es->ctl = 0;
    es->status = 0;
    es->sctl = 0;
    es->mempage = 0;
    es->codec = 0;
    memset(es->codec_regs, 0, sizeof es->codec_regs);
    memset(es->scratch, 0, sizeof es->scratch);
    for (int n = 0; n < NCHAN; n++) {
        Chan *c = &es->ch[n];
        c->frame_addr = 0;
        c->frame_len = 0;
        c->pos = 0;
        c->count = c->left = 0;
        update_channel(es, n);
    }
    update_irq(es);
}

void hg_es1370_save(const HgEs1370 *es, HgStateWriter *w)
{
    hg_state_begin(w, "es1370", 1);
    hg_state_put_u32(w, es->ctl);
    hg_state_put_u32(w, es->status);
    hg_state_put_u32(w, es->sctl);
    hg_state_put_u8(w, es->mempage);
    hg_state_put_u32(w, es->codec);
    hg_state_put_bytes(w, es->codec_regs, sizeof es->codec_regs);
    for (int p = 0; p < 16; p++)
        for (int i = 0; i < 4; i++)
            hg_state_put_u32(w, es->scratch[p][i]);
    for (int n = 0; n < NCHAN; n++) {
        const Chan *c = &es->ch[n];
        hg_state_put_u32(w, c->frame_addr);
        hg_state_put_u16(w, c->frame_len);
        hg_state_put_u32(w, c->pos);
        hg_state_put_u16(w, c->count);
        hg_state_put_u16(w, c->left);
    }
    hg_state_end(w);
}

void hg_es1370_load(HgEs1370 *es, HgStateReader *r)
{
    if (!hg_state_open(r, "es1370", 1, 1))
        return;
    es->ctl = hg_state_get_u32(r);
    es->status = hg_state_get_u32(r) & 7;
    es->sctl = hg_state_get_u32(r) & 0x003fffff;
    es->mempage = hg_state_get_u8(r) & 0x0f;
    es->codec = hg_state_get_u32(r) & 0xffff;
    hg_state_get_bytes(r, es->codec_regs, sizeof es->codec_regs);
    for (int p = 0; p < 16; p++)
        for (int i = 0; i < 4; i++)
            es->scratch[p][i] = hg_state_get_u32(r);
    for (int n = 0; n < NCHAN; n++) {
        Chan *c = &es->ch[n];
        c->frame_addr = hg_state_get_u32(r);
        c->frame_len = hg_state_get_u16(r);
        uint32_t pos = hg_state_get_u32(r);
        c->pos = pos < ((uint32_t)c->frame_len + 1) * 4 ? pos : 0;
        c->count = hg_state_get_u16(r);
        uint16_t left = hg_state_get_u16(r);
        c->left = MIN(left, c->count);
    }
    hg_state_close(r);
    update_irq(es);
    for (int n = 0; n < NCHAN; n++)
        update_channel(es, n);
}
