/* Unit tests of the machine-state section format (engine/state.c): round trips, and the
 * refusals a state file from another version or a damaged file must get. */
#include <glib.h>

#include "state.h"

static GBytes *write_sample(uint32_t version, gboolean extra)
{
    HgStateWriter w;
    hg_state_writer_init(&w);
    hg_state_begin(&w, "cpu", version);
    hg_state_put_u8(&w, 0x12);
    hg_state_put_u16(&w, 0x3456);
    hg_state_put_u32(&w, 0x789abcde);
    hg_state_put_u64(&w, 0x0123456789abcdefull);
    hg_state_put_bytes(&w, "xyz", 3);
    if (extra)
        hg_state_put_u32(&w, 7);
    hg_state_end(&w);
    hg_state_begin(&w, "uart", 1);
    hg_state_put_u8(&w, 0xaa);
    hg_state_end(&w);
    return hg_state_writer_finish(&w);
}

static void test_round_trip(void)
{
    GBytes *b = write_sample(2, FALSE);
    gsize len;
    const uint8_t *data = g_bytes_get_data(b, &len);
    HgStateReader r;
    hg_state_reader_init(&r, data, len);
    g_assert_cmpuint(hg_state_open(&r, "cpu", 1, 2), ==, 2);
    g_assert_cmpuint(hg_state_get_u8(&r), ==, 0x12);
    g_assert_cmpuint(hg_state_get_u16(&r), ==, 0x3456);
    g_assert_cmpuint(hg_state_get_u32(&r), ==, 0x789abcde);
    g_assert_cmpuint(hg_state_get_u64(&r), ==, 0x0123456789abcdefull);
    char s[3];
    hg_state_get_bytes(&r, s, 3);
    g_assert_cmpmem(s, 3, "xyz", 3);
    hg_state_close(&r);
    g_assert_cmpuint(hg_state_open(&r, "uart", 1, 1), ==, 1);
    g_assert_cmpuint(hg_state_get_u8(&r), ==, 0xaa);
    hg_state_close(&r);
    g_assert_true(hg_state_ok(&r));
    g_bytes_unref(b);
}

static void expect_error(GBytes *b, gsize cut, uint32_t maxv, const char *what)
{
    gsize len;
    const uint8_t *data = g_bytes_get_data(b, &len);
    HgStateReader r;
    hg_state_reader_init(&r, data, cut ? cut : len);
    if (hg_state_open(&r, "cpu", 1, maxv)) {
        hg_state_get_u8(&r);
        hg_state_get_u16(&r);
        hg_state_get_u32(&r);
        hg_state_get_u64(&r);
        char s[3];
        hg_state_get_bytes(&r, s, 3);
        hg_state_close(&r);
    }
    g_assert_false(hg_state_ok(&r));
    g_assert_nonnull(r.error);
    g_assert_nonnull(strstr(r.error->message, what));
    g_clear_error(&r.error);
}

static void test_refusals(void)
{
    GBytes *newer = write_sample(3, FALSE);
    expect_error(newer, 0, 2, "version 3");
    GBytes *longer = write_sample(2, TRUE);
    expect_error(longer, 0, 2, "unread");
    GBytes *ok = write_sample(2, FALSE);
    for (gsize cut = 1; cut < 40 + 18; cut += 7)
        expect_error(ok, cut, 2, "truncated");
    g_bytes_unref(newer);
    g_bytes_unref(longer);
    g_bytes_unref(ok);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/state/round-trip", test_round_trip);
    g_test_add_func("/state/refusals", test_refusals);
    return g_test_run();
}
