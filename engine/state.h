/* Machine-state serialisation: each device writes versioned sections of fixed-width
 * little-endian fields; loading checks names, versions and lengths so a state file
 * from another version is refused with a reason instead of misread. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct HgStateWriter {
    GByteArray *buf;
    guint section_start; /* offset of the open section's length field */
} HgStateWriter;

typedef struct HgStateReader {
    const uint8_t *data;
    size_t len, pos;
    size_t section_end;
    char section[32];
    GError *error; /* first error; later reads return zeros */
} HgStateReader;

void hg_state_writer_init(HgStateWriter *w);
/* Returns the bytes written and resets the writer. */
GBytes *hg_state_writer_finish(HgStateWriter *w);
void hg_state_begin(HgStateWriter *w, const char *name, uint32_t version);
void hg_state_end(HgStateWriter *w);
void hg_state_put_u8(HgStateWriter *w, uint8_t v);
void hg_state_put_u16(HgStateWriter *w, uint16_t v);
void hg_state_put_u32(HgStateWriter *w, uint32_t v);
void hg_state_put_u64(HgStateWriter *w, uint64_t v);
void hg_state_put_bytes(HgStateWriter *w, const void *p, size_t n);

void hg_state_reader_init(HgStateReader *r, const void *data, size_t len);
/* Opens the next section, which must be name with a version in [min, max]; returns
 * the version, or 0 with r->error set. */
uint32_t hg_state_open(HgStateReader *r, const char *name, uint32_t min_version,
                       uint32_t max_version);
/* Steps over the next section, whatever its name and version. */
void hg_state_skip(HgStateReader *r);
/* Closes the section; an unread remainder is an error (a newer writer added fields). */
void hg_state_close(HgStateReader *r);
uint8_t hg_state_get_u8(HgStateReader *r);
uint16_t hg_state_get_u16(HgStateReader *r);
uint32_t hg_state_get_u32(HgStateReader *r);
uint64_t hg_state_get_u64(HgStateReader *r);
void hg_state_get_bytes(HgStateReader *r, void *p, size_t n);
bool hg_state_ok(const HgStateReader *r);
