/*
 * compress.c - compressed snapshot files, decompressed into a temporary
 * file. See compress.h.
 *
 * gzip goes through zlib, whose gzclose() checks the CRC and the length
 * of each member and says when the data stopped in the middle of one
 * (libarchive's gzip reader takes a cut stream for a short one); zstd, xz
 * and bzip2 through libarchive's raw format behind its filters, as
 * pitr-replay reads compressed WAL.
 */
#include "compress.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <zlib.h>

#include "fileio.h"
#include "xalloc.h"

#define BLOCK (1u << 17)

enum snap_compression snap_compression_of(const unsigned char *h, size_t n)
{
	if (n >= 2 && h[0] == 0x1f && h[1] == 0x8b)
		return SNAP_COMP_GZIP;
	if (n >= 4 && memcmp(h, "\x28\xb5\x2f\xfd", 4) == 0)
		return SNAP_COMP_ZSTD;
	if (n >= 6 && memcmp(h,
			     "\xfd"
			     "7zXZ\0",
			     6) == 0)
		return SNAP_COMP_XZ;
	/* "BZh" could start a header: the block magic (pi) must follow. */
	if (n >= 10 && memcmp(h, "BZh", 3) == 0 && h[3] >= '1' && h[3] <= '9' &&
	    memcmp(h + 4, "\x31\x41\x59\x26\x53\x59", 6) == 0)
		return SNAP_COMP_BZIP2;
	return SNAP_COMP_NONE;
}

const char *snap_compression_name(enum snap_compression c)
{
	switch (c) {
	case SNAP_COMP_GZIP:
		return "gzip";
	case SNAP_COMP_ZSTD:
		return "zstd";
	case SNAP_COMP_XZ:
		return "xz";
	case SNAP_COMP_BZIP2:
		return "bzip2";
	case SNAP_COMP_NONE:
	default:
		return "none";
	}
}

/* A failure of the temporary file, not of the data (compress.h). */
static _Thread_local bool local_failure;

bool snap_decompress_local_failure(void)
{
	return local_failure;
}

void snap_decompress_clear(void)
{
	local_failure = false;
}

/* An unlinked temporary file in $TMPDIR or /tmp; its name to *DIR. */
static int temp_file(const char **dir, struct dbops_err *err)
{
	const char *d = getenv("TMPDIR");
	char path[4096];
	int fd;

	*dir = d && *d ? d : "/tmp";
	fd = open(*dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR))
		goto out;
	/* A file system without O_TMPFILE. */
	snprintf(path, sizeof(path), "%s/snap-import.XXXXXX", *dir);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd >= 0)
		unlink(path);
out:
	if (fd < 0) {
		local_failure = true;
		dbops_err_set(err,
			      "could not create a temporary file in \"%s\": %s",
			      *dir, strerror(errno));
	}
	return fd;
}

static int write_block(int out, const void *buf, size_t n, const char *dir,
		       struct dbops_err *err)
{
	if (dbops_write_all(out, buf, n) == 0)
		return 0;
	local_failure = true;
	return dbops_err_set(
		err, "could not write the decompressed data to \"%s\": %s", dir,
		strerror(errno));
}

static int gunzip(int fd, int out, const char *dir, struct dbops_err *err)
{
	int in = fcntl(fd, F_DUPFD_CLOEXEC, 0), rc = 0, n;
	char *buf;
	gzFile gz;

	if (in < 0 || lseek(in, 0, SEEK_SET) != 0)
		return dbops_err_set(err, "could not read the file: %s",
				     strerror(errno));
	gz = gzdopen(in, "rb");
	if (gz == NULL)
		dbops_xalloc_failed();
	gzbuffer(gz, BLOCK);
	buf = dbops_xmalloc(BLOCK);
	while (rc == 0 && (n = gzread(gz, buf, BLOCK)) > 0)
		rc = write_block(out, buf, (size_t)n, dir, err);
	if (rc == 0 && n < 0) {
		int zerr;
		const char *m = gzerror(gz, &zerr);

		/* zlib's message starts with the name it was given. */
		if (zerr != Z_ERRNO && strncmp(m, "<fd:", 4) == 0 &&
		    strstr(m, ": ") != NULL)
			m = strstr(m, ": ") + 2;
		rc = dbops_err_set(err, "damaged gzip data: %s",
				   zerr == Z_ERRNO ? strerror(errno) : m);
	}
	free(buf);
	if (gzclose(gz) != Z_OK && rc == 0)
		rc = dbops_err_set(
			err, "damaged gzip data (bad checksum or truncated)");
	return rc;
}

static int unfilter(int fd, enum snap_compression c, int out, const char *dir,
		    struct dbops_err *err)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	int64_t total = 0, off;
	const void *block;
	size_t n;
	int r, rc = 0;

	if (a == NULL)
		dbops_xalloc_failed();
	if (lseek(fd, 0, SEEK_SET) != 0) {
		archive_read_free(a);
		return dbops_err_set(err, "could not read the file: %s",
				     strerror(errno));
	}
	archive_read_support_filter_all(a);
	archive_read_support_format_raw(a);
	r = archive_read_open_fd(a, fd, BLOCK);
	if (r == ARCHIVE_OK)
		r = archive_read_next_header(a, &e);
	while (r == ARCHIVE_OK && rc == 0 &&
	       (r = archive_read_data_block(a, &block, &n, &off)) ==
		       ARCHIVE_OK) {
		if (off != total) { /* a hole: not from a filter */
			r = ARCHIVE_FATAL;
			break;
		}
		rc = write_block(out, block, n, dir, err);
		total += (int64_t)n;
	}
	if (rc == 0 && r != ARCHIVE_EOF) {
		const char *m = archive_error_string(a);

		/* xz's word for a cut stream */
		if (m == NULL || strstr(m, "No progress") != NULL)
			m = "truncated stream";
		rc = dbops_err_set(err, "damaged %s data: %s",
				   snap_compression_name(c), m);
	}
	archive_read_free(a);
	return rc;
}

int snap_decompress(int fd, enum snap_compression c, struct dbops_err *err)
{
	const char *dir;
	int out = temp_file(&dir, err), rc;

	if (out < 0)
		return -1;
	rc = c == SNAP_COMP_GZIP ? gunzip(fd, out, dir, err)
				 : unfilter(fd, c, out, dir, err);
	if (rc == 0 && lseek(out, 0, SEEK_SET) != 0)
		rc = dbops_err_set(err,
				   "could not read the decompressed data: %s",
				   strerror(errno));
	if (rc != 0) {
		close(out);
		return -1;
	}
	return out;
}

int snap_plain_fd(int fd, struct dbops_err *err)
{
	unsigned char head[16];
	enum snap_compression c = SNAP_COMP_NONE;
	ssize_t n;
	int plain;

	do
		n = pread(fd, head, sizeof(head), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		dbops_err_set(err, "could not read the file: %s",
			      strerror(errno));
		close(fd);
		return -1;
	}
	c = snap_compression_of(head, (size_t)n);
	if (c == SNAP_COMP_NONE)
		return fd;
	plain = snap_decompress(fd, c, err);
	close(fd);
	return plain;
}
