/* Machine-state serialisation (see state.h). Layout of a section: a 32-byte
 * NUL-padded name, a u32 version, a u32 payload length, then the payload. */
#include "state.h"

#include <string.h>

#define HG_STATE_ERROR g_quark_from_static_string("hg-state-error")

void hg_state_writer_init(HgStateWriter *w)
{
    w->buf = g_byte_array_new();
    w->section_start = 0;
}

GBytes *hg_state_writer_finish(HgStateWriter *w)
{
    GBytes *b = g_byte_array_free_to_bytes(w->buf);
    w->buf = NULL;
    return b;
}

static void put_le(HgStateWriter *w, uint64_t v, int n)
{
    uint8_t b[8];
    for (int i = 0; i < n; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    g_byte_array_append(w->buf, b, n);
}

void hg_state_begin(HgStateWriter *w, const char *name, uint32_t version)
{
    char n[32] = {0};
    g_strlcpy(n, name, sizeof(n));
    g_byte_array_append(w->buf, (const uint8_t *)n, sizeof(n));
    put_le(w, version, 4);
    w->section_start = w->buf->len;
    put_le(w, 0, 4);
}

void hg_state_end(HgStateWriter *w)
{
    uint32_t len = w->buf->len - w->section_start - 4;
    for (int i = 0; i < 4; i++)
        w->buf->data[w->section_start + i] = (uint8_t)(len >> (8 * i));
}

void hg_state_put_u8(HgStateWriter *w, uint8_t v) { put_le(w, v, 1); }
void hg_state_put_u16(HgStateWriter *w, uint16_t v) { put_le(w, v, 2); }
void hg_state_put_u32(HgStateWriter *w, uint32_t v) { put_le(w, v, 4); }
void hg_state_put_u64(HgStateWriter *w, uint64_t v) { put_le(w, v, 8); }

void hg_state_put_bytes(HgStateWriter *w, const void *p, size_t n)
{
    g_byte_array_append(w->buf, p, (guint)n);
}

void hg_state_reader_init(HgStateReader *r, const void *data, size_t len)
{
    memset(r, 0, sizeof(*r));
    r->data = data;
    r->len = len;
    r->section_end = len;
}

static bool take(HgStateReader *r, size_t n, size_t limit)
{
    if (r->error)
        return false;
    if (n > limit - r->pos || r->pos > limit) {
        g_set_error(&r->error, HG_STATE_ERROR, 1, "state section \"%s\" is truncated",
                    r->section[0] ? r->section : "(header)");
        return false;
    }
    return true;
}

static uint64_t get_le(HgStateReader *r, int n, size_t limit)
{
    if (!take(r, n, limit))
        return 0;
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)r->data[r->pos + i] << (8 * i);
    r->pos += n;
    return v;
}

uint32_t hg_state_open(HgStateReader *r, const char *name, uint32_t min_version,
                       uint32_t max_version)
{
    if (r->error)
        return 0;
    if (!take(r, 40, r->len))
        return 0;
    char n[33] = {0};
    memcpy(n, r->data + r->pos, 32);
    r->pos += 32;
    uint32_t version = (uint32_t)get_le(r, 4, r->len);
    uint32_t size = (uint32_t)get_le(r, 4, r->len);
    if (strcmp(n, name) != 0) {
        g_set_error(&r->error, HG_STATE_ERROR, 2,
                    "state has section \"%s\" where \"%s\" was expected", n, name);
        return 0;
    }
    if (version < min_version || version > max_version) {
        g_set_error(&r->error, HG_STATE_ERROR, 3,
                    "state section \"%s\" has version %u; this build reads %u to %u", name,
                    version, min_version, max_version);
        return 0;
    }
    if (size > r->len - r->pos) {
        g_set_error(&r->error, HG_STATE_ERROR, 1, "state section \"%s\" is truncated", name);
        return 0;
    }
    g_strlcpy(r->section, name, sizeof(r->section));
    r->section_end = r->pos + size;
    return version;
}

void hg_state_skip(HgStateReader *r)
{
    if (r->error || !take(r, 40, r->len))
        return;
    char n[33] = {0};
    memcpy(n, r->data + r->pos, 32);
    r->pos += 36;
    uint32_t size = (uint32_t)get_le(r, 4, r->len);
    if (size > r->len - r->pos) {
        g_set_error(&r->error, HG_STATE_ERROR, 1, "state section \"%s\" is truncated", n);
        return;
    }
    r->pos += size;
}

void hg_state_close(HgStateReader *r)
{
    if (r->error)
        return;
    if (r->pos != r->section_end)
        g_set_error(&r->error, HG_STATE_ERROR, 4, "state section \"%s\" has %zu unread bytes",
                    r->section, r->section_end - r->pos);
    r->section[0] = 0;
    r->section_end = r->len;
}

uint8_t hg_state_get_u8(HgStateReader *r) { return (uint8_t)get_le(r, 1, r->section_end); }
uint16_t hg_state_get_u16(HgStateReader *r) { return (uint16_t)get_le(r, 2, r->section_end); }
uint32_t hg_state_get_u32(HgStateReader *r) { return (uint32_t)get_le(r, 4, r->section_end); }
uint64_t hg_state_get_u64(HgStateReader *r) { return get_le(r, 8, r->section_end); }

void hg_state_get_bytes(HgStateReader *r, void *p, size_t n)
{
    if (!take(r, n, r->section_end)) {
        memset(p, 0, n);
        return;
    }
    memcpy(p, r->data + r->pos, n);
    r->pos += n;
}

bool hg_state_ok(const HgStateReader *r)
{
    return r->error == NULL;
}
