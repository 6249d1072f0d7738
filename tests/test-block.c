/* Unit tests of the block backend (engine/block): the raw driver, errors for unusable
 * files, read-only images, the zero-padded partial last sector and the request API. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "block/block.h"
#include "hangar.h"

static char *make_file(const void *data, gsize len)
{
    char *path = NULL;
    int fd = g_file_open_tmp("hangar-block-XXXXXX.img", &path, NULL);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(write(fd, data, len), ==, (gssize)len);
    close(fd);
    return path;
}

static void test_missing(void)
{
    GError *err = NULL;
    HgBlock *b = hg_block_open("/nonexistent/hangar/disk.img", NULL, false, &err);
    g_assert_null(b);
    g_assert_error(err, HG_BLOCK_ERROR, HG_BLOCK_ERROR_OPEN);
    g_assert_nonnull(strstr(err->message, "/nonexistent/hangar/disk.img"));
    g_clear_error(&err);
    b = hg_block_open("/tmp", NULL, true, &err); /* a directory */
    g_assert_null(b);
    g_assert_error(err, HG_BLOCK_ERROR, HG_BLOCK_ERROR_OPEN);
    g_clear_error(&err);
    b = hg_block_open("/tmp/x", "qcow2", true, &err);
    g_assert_null(b);
    g_assert_error(err, HG_BLOCK_ERROR, HG_BLOCK_ERROR_OPEN);
    g_clear_error(&err);
}

static void test_raw(void)
{
    uint8_t data[1100];
    for (gsize i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 3 + 1);
    char *path = make_file(data, sizeof(data));
    GError *err = NULL;
    HgBlock *b = hg_block_open(path, "raw", false, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(hg_block_size(b), ==, 1100);
    g_assert_cmpuint(hg_block_sectors(b), ==, 3); /* rounded up */
    g_assert_false(hg_block_read_only(b));
    g_assert_cmpstr(hg_block_filename(b), ==, path);

    uint8_t buf[1536];
    g_assert_true(hg_block_pread(b, 0, buf, sizeof(buf), &err));
    g_assert_cmpmem(buf, 1100, data, 1100);
    for (int i = 1100; i < 1536; i++)
        g_assert_cmpint(buf[i], ==, 0); /* the zero-padded tail */
    g_assert_false(hg_block_pread(b, 1024, buf, 513, &err));
    g_assert_error(err, HG_BLOCK_ERROR, HG_BLOCK_ERROR_RANGE);
    g_clear_error(&err);
    g_assert_false(hg_block_pread(b, UINT64_MAX - 2, buf, 4, &err));
    g_assert_error(err, HG_BLOCK_ERROR, HG_BLOCK_ERROR_RANGE);
    g_clear_error(&err);

    memset(buf, 0x77, 16);
    g_assert_true(hg_block_pwrite(b, 510, buf, 16, &err));
    g_assert_true(hg_block_flush(b, &err));
    uint8_t back[16];
    g_assert_true(hg_block_pread(b, 510, back, 16, &err));
    g_assert_cmpmem(back, 16, buf, 16);
    /* Writing the tail sector grows the file to the whole sector. */
    g_assert_true(hg_block_pwrite(b, 1024, buf, 512, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(hg_block_size(b), ==, 1536);
    hg_block_close(b);

    /* Read-only */
    b = hg_block_open_raw(path, true, &err);
    g_assert_no_error(err);
    g_assert_true(hg_block_read_only(b));
    g_assert_cmpuint(hg_block_size(b), ==, 1536);
    g_assert_false(hg_block_pwrite(b, 0, buf, 1, &err));
    g_assert_error(err, HG_BLOCK_ERROR, HG_BLOCK_ERROR_READ_ONLY);
    g_clear_error(&err);
    g_assert_true(hg_block_flush(b, &err));
    hg_block_close(b);
    g_unlink(path);
    g_free(path);
}

typedef struct Done {
    int calls;
    bool ok;
} Done;

static void done_cb(void *opaque, bool ok, const GError *error)
{
    Done *d = opaque;
    d->calls++;
    d->ok = ok;
    g_assert_true(ok == (error == NULL));
}

static void test_submit(void)
{
    uint8_t data[512] = {1, 2, 3};
    char *path = make_file(data, sizeof(data));
    HgBlock *b = hg_block_open(path, NULL, false, NULL);
    g_assert_nonnull(b);
    Done d = {0, false};
    uint8_t buf[512];
    hg_block_submit(b, HG_BLOCK_READ, 0, buf, 512, done_cb, &d);
    g_assert_cmpint(d.calls, ==, 1);
    g_assert_true(d.ok);
    g_assert_cmpint(buf[2], ==, 3);
    hg_block_submit(b, HG_BLOCK_WRITE, 512, buf, 512, done_cb, &d);
    g_assert_false(d.ok);
    hg_block_submit(b, HG_BLOCK_FLUSH, 0, NULL, 0, done_cb, &d);
    g_assert_true(d.ok);
    g_assert_cmpint(d.calls, ==, 3);
    hg_block_close(b);
    g_unlink(path);
    g_free(path);
}

static void test_create(void)
{
    char *dir = g_dir_make_tmp("hangar-create-XXXXXX", NULL);
    char *path = g_build_filename(dir, "disk.img", NULL);
    GError *error = NULL;
    g_assert_true(hg_image_create(path, "raw", 3 * 1024 * 1024 + 512, NULL, NULL, &error));
    g_assert_no_error(error);
    GStatBuf st;
    g_assert_cmpint(g_stat(path, &st), ==, 0);
    g_assert_cmpint(st.st_size, ==, 3 * 1024 * 1024 + 512);
    g_assert_cmpint(st.st_blocks, <, 64); /* sparse */
    g_assert_false(hg_image_create(path, "vmdk", 1024, NULL, NULL, &error));
    g_assert_nonnull(strstr(error->message, "vmdk"));
    g_clear_error(&error);
    g_assert_false(hg_image_create(path, "raw", 1024, "base.img", NULL, &error));
    g_assert_nonnull(strstr(error->message, "backing"));
    g_clear_error(&error);
    g_assert_false(hg_image_create(path, "raw", 0, NULL, NULL, &error));
    g_clear_error(&error);
    g_assert_cmpint(g_stat(path, &st), ==, 0); /* refused requests leave the file alone */
    g_assert_cmpint(st.st_size, ==, 3 * 1024 * 1024 + 512);
    g_unlink(path);
    g_rmdir(dir);
    g_free(path);
    g_free(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/block/missing", test_missing);
    g_test_add_func("/block/raw", test_raw);
    g_test_add_func("/block/submit", test_submit);
    g_test_add_func("/block/create", test_create);
    return g_test_run();
}
