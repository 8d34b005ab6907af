/*
 * test_snap_import_compress.c - unit tests for snap-import's compress.c:
 * compressions told by their first bytes (never a text file's), and
 * decompression into a temporary file, a cut or damaged stream refused.
 */
#include "testutil.h"

#include <fcntl.h>
#include <unistd.h>

#include <zlib.h>

#include "../../utils/snap-import/compress.h"

static enum snap_compression of(const char *head, size_t n)
{
	return snap_compression_of((const unsigned char *)head, n);
}

static void test_compress_magic(void **state)
{
	assert_int_equal(of("\x1f\x8b\x08\x00", 4), SNAP_COMP_GZIP);
	assert_int_equal(of("\x28\xb5\x2f\xfd\x04", 5), SNAP_COMP_ZSTD);
	assert_int_equal(of("\xfd"
			    "7zXZ\0\0\x04",
			    8),
			 SNAP_COMP_XZ);
	assert_int_equal(of("BZh91AY&SY\x01", 11), SNAP_COMP_BZIP2);
	/* Text, even when it starts like bzip2's name. */
	assert_int_equal(of("BZh9,a,b\n1,2,3\n", 15), SNAP_COMP_NONE);
	assert_int_equal(of("id,name\n", 8), SNAP_COMP_NONE);
	assert_int_equal(of("\x1f", 1), SNAP_COMP_NONE);
	assert_int_equal(of("", 0), SNAP_COMP_NONE);
	assert_string_equal(snap_compression_name(SNAP_COMP_ZSTD), "zstd");
}

/* A temporary file holding N bytes of DATA, at offset 0. */
static int file_of(const void *data, size_t n)
{
	char path[] = "/tmp/test_compress.XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	return fd;
}

/* The gzip of TEXT, from zlib, into BUF; its length. */
static size_t gzip_of(const char *text, unsigned char *buf, size_t cap)
{
	z_stream z = { 0 };

	assert_int_equal(
		deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY),
		Z_OK);
	z.next_in = (unsigned char *)text;
	z.avail_in = (unsigned)strlen(text);
	z.next_out = buf;
	z.avail_out = (unsigned)cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	deflateEnd(&z);
	return cap - z.avail_out;
}

static void test_compress_gzip_whole_cut_and_damaged(void **state)
{
	static const char text[] = "id,zip\n1,08123\n2,007\n";
	unsigned char gz[256];
	size_t n = gzip_of(text, gz, sizeof(gz));
	struct dbops_err err = { "" };
	char out[64];
	int fd = file_of(gz, n), plain;

	plain = snap_decompress(fd, SNAP_COMP_GZIP, &err);
	assert_true(plain >= 0);
	assert_int_equal(read(plain, out, sizeof(out)), strlen(text));
	assert_memory_equal(out, text, strlen(text));
	close(plain);
	close(fd);
	/* Cut before its trailer: the CRC and length are missing. */
	fd = file_of(gz, n - 4);
	assert_int_equal(snap_decompress(fd, SNAP_COMP_GZIP, &err), -1);
	assert_string_equal(err.msg,
			    "damaged gzip data (bad checksum or truncated)");
	close(fd);
	/* A wrong CRC. */
	gz[n - 8] ^= 0xff;
	fd = file_of(gz, n);
	assert_int_equal(snap_decompress(fd, SNAP_COMP_GZIP, &err), -1);
	assert_string_equal(err.msg, "damaged gzip data: incorrect data check");
	close(fd);
}

static void test_compress_filter_refuses_garbage(void **state)
{
	static const char zst[] = "\x28\xb5\x2f\xfd\x04\x58\x45";
	struct dbops_err err = { "" };
	int fd = file_of(zst, sizeof(zst) - 1);

	assert_int_equal(snap_decompress(fd, SNAP_COMP_ZSTD, &err), -1);
	assert_true(strncmp(err.msg, "damaged zstd data: ", 19) == 0);
	close(fd);
}

/* A temporary file that cannot be made is the machine's failure, not the
 * data's: sync tries the file again later; damaged data is the file's. */
static void test_compress_local_failure_told_apart(void **state)
{
	static const char text[] = "id\n1\n";
	unsigned char gz[128];
	size_t n = gzip_of(text, gz, sizeof(gz));
	struct dbops_err err = { "" };
	char *old = getenv("TMPDIR") ? strdup(getenv("TMPDIR")) : NULL;
	int fd = file_of(gz, n);

	setenv("TMPDIR", "/nonexistent/snap-import-test", 1);
	snap_decompress_clear();
	assert_int_equal(snap_decompress(fd, SNAP_COMP_GZIP, &err), -1);
	assert_string_equal(err.msg, "could not create a temporary file in "
				     "\"/nonexistent/snap-import-test\": No "
				     "such file or directory");
	assert_true(snap_decompress_local_failure());
	if (old)
		setenv("TMPDIR", old, 1);
	else
		unsetenv("TMPDIR");
	free(old);
	close(fd);
	snap_decompress_clear();
	fd = file_of(gz, n - 4);
	assert_int_equal(snap_decompress(fd, SNAP_COMP_GZIP, &err), -1);
	assert_false(snap_decompress_local_failure());
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compress_magic),
		cmocka_unit_test(test_compress_gzip_whole_cut_and_damaged),
		cmocka_unit_test(test_compress_filter_refuses_garbage),
		cmocka_unit_test(test_compress_local_failure_told_apart),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
