/*
 * tarread.c - read tars through libarchive, with the checks libarchive
 * leaves out. See tarread.h.
 *
 * Design notes:
 *
 *  1. A tar is read through two libarchive readers when it is compressed:
 *     a "raw" one that only decompresses, and a tar reader fed from it.
 *     libarchive's tar reader stops at the end-of-archive marker and never
 *     asks for the rest of the stream, so the end of a gzip, lz4 or zstd
 *     stream would go unchecked; reading the raw reader to its end after
 *     the marker checks it. An uncompressed tar is read from its file
 *     directly, so that skipping an entry is a seek.
 *  2. libarchive takes a tar that stops cleanly between two entries as
 *     complete. pg_basebackup, GNU tar and bsdtar all end a tar with zero
 *     blocks, so the end is accepted only if at least one 512-byte zero
 *     block was consumed after the last entry's data.
 *  3. The size a header claims is not trusted: an entry of an uncompressed
 *     tar may not claim more than the file holds, and data is read as the
 *     blocks stored, into buffers that grow with them (a 7 KB tar claiming
 *     8 EB for PG_VERSION once had a read spin for ever).
 */
#include "tarread.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "backup_util.h"
#include "log.h"
#include "xalloc.h"

#define TAR_BLOCK 512
/*
 * The errno libarchive gives "Unrecognized archive format" on Linux
 * (ARCHIVE_ERRNO_FILE_FORMAT of its private archive_platform.h).
 */
#define LA_ERRNO_FILE_FORMAT EILSEQ

int pitr_tar_damaged(struct tar *t, struct archive *a)
{
	const char *msg;

	/* the tar reader words a failed read as its own: give the cause */
	if (t->raw_failed)
		a = t->raw;
	msg = archive_error_string(a);

	/* libarchive's gzip reader has no message for a cut trailer */
	if (msg == NULL)
		msg = "damaged or truncated data";
	if (t->name[0] != '\0')
		dbops_log_error(
			"\"%s\": incomplete or damaged tar: %s (reading \"%s\")",
			t->path, msg, t->name);
	else if (t->last[0] != '\0')
		dbops_log_error(
			"\"%s\": incomplete or damaged tar: %s (after \"%s\")",
			t->path, msg, t->last);
	else
		dbops_log_error("\"%s\": incomplete or damaged tar: %s",
				t->path, msg);
	return -1;
}

static la_ssize_t raw_read(struct archive *a, void *data, const void **buf)
{
	struct tar *t = data;
	size_t n;
	la_int64_t off;
	int r = archive_read_data_block(t->raw, buf, &n, &off);

	if (r == ARCHIVE_EOF)
		return 0;
	if (r < ARCHIVE_WARN) {
		t->raw_failed = true;
		archive_set_error(a, EIO, "%s",
				  archive_error_string(t->raw)
					  ? archive_error_string(t->raw)
					  : "read error");
		return -1;
	}
	return (la_ssize_t)n;
}

void pitr_tar_close(struct tar *t)
{
	if (t->a != NULL)
		archive_read_free(t->a);
	if (t->raw != NULL)
		archive_read_free(t->raw);
	if (t->fd >= 0)
		close(t->fd);
	t->a = t->raw = NULL;
	t->fd = -1;
}

int pitr_tar_open(struct tar *t, const char *path)
{
	struct archive_entry *e;
	struct stat st;
	int r;

	memset(t, 0, sizeof(*t));
	t->path = path;
	t->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (t->fd < 0) {
		dbops_log_error("could not open file \"%s\": %s", path,
				strerror(errno));
		return -1;
	}
	if (fstat(t->fd, &st) == 0 && st.st_size == 0) {
		dbops_log_error(
			"\"%s\": incomplete or damaged tar: the file is empty",
			path);
		goto fail;
	}
	t->raw = archive_read_new();
	if (t->raw == NULL)
		dbops_xalloc_failed();
	archive_read_support_filter_all(t->raw);
	archive_read_support_format_raw(t->raw);
	if (archive_read_open_fd(t->raw, t->fd, IO_BLOCK) != ARCHIVE_OK ||
	    archive_read_next_header(t->raw, &e) < ARCHIVE_WARN) {
		pitr_tar_damaged(t, t->raw);
		goto fail;
	}
	t->compressed = archive_filter_code(t->raw, 0) != ARCHIVE_FILTER_NONE;
	t->file_size = t->compressed ? -1 : (int64_t)st.st_size;
	t->a = archive_read_new();
	if (t->a == NULL)
		dbops_xalloc_failed();
	archive_read_support_format_tar(t->a);
	if (t->compressed) {
		r = archive_read_open(t->a, t, NULL, raw_read, NULL);
	} else {
		archive_read_free(t->raw);
		t->raw = NULL;
		if (lseek(t->fd, 0, SEEK_SET) != 0) {
			dbops_log_error("could not read file \"%s\": %s", path,
					strerror(errno));
			goto fail;
		}
		r = archive_read_open_fd(t->a, t->fd, IO_BLOCK);
	}
	if (r != ARCHIVE_OK) {
		if (archive_errno(t->a) == LA_ERRNO_FILE_FORMAT) {
			t->unrecognized = true;
			pitr_tar_close(t);
			return -1;
		}
		pitr_tar_damaged(t, t->a);
		goto fail;
	}
	return 0;
fail:
	pitr_tar_close(t);
	return -1;
}

int pitr_tar_next(struct tar *t)
{
	int r;

	if (t->name[0] != '\0')
		memcpy(t->last, t->name, sizeof(t->last));
	t->name[0] = '\0';
	r = archive_read_next_header(t->a, &t->e);
	if (r == ARCHIVE_OK || r == ARCHIVE_WARN)
		return 1;
	if (r != ARCHIVE_EOF)
		return pitr_tar_damaged(t, t->a);
	/* Design note 2: the end-of-archive marker must be there. */
	if (archive_filter_bytes(t->a, 0) < t->data_end + TAR_BLOCK) {
		t->name[0] = '\0';
		archive_set_error(t->a, EIO,
				  "it ends without an end-of-archive marker");
		return pitr_tar_damaged(t, t->a);
	}
	/* Design note 1: read the compressed stream to its end. */
	while (t->raw != NULL) {
		const void *buf;
		size_t n;
		la_int64_t off;

		r = archive_read_data_block(t->raw, &buf, &n, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN)
			return pitr_tar_damaged(t, t->raw);
	}
	return 0;
}

void pitr_tar_entry_done(struct tar *t)
{
	t->data_end = archive_filter_bytes(t->a, 0);
}

int pitr_tar_skip(struct tar *t)
{
	if (archive_read_data_skip(t->a) != ARCHIVE_OK)
		return pitr_tar_damaged(t, t->a);
	pitr_tar_entry_done(t);
	return 0;
}

/*
 * The next block of the current entry's stored data (*n bytes at *p): 1, 0
 * at its end, -1 after an error message. Blocks, not archive_read_data():
 * that one fills with zeros up to the size the header claims, which a GNU
 * header's "realsize" can put at 8 EB while 3 bytes are stored (design
 * note 3).
 */
static int next_block(struct tar *t, const char **p, size_t *n)
{
	const void *block;
	la_int64_t off;
	int r = archive_read_data_block(t->a, &block, n, &off);

	if (r == ARCHIVE_EOF)
		return 0;
	if (r < ARCHIVE_WARN)
		return pitr_tar_damaged(t, t->a);
	*p = block;
	return 1;
}

/*
 * The current entry's data ended after STORED bytes: all it claims, or a
 * damaged tar (a GNU "realsize" beyond them, holes). Returns 0 or -1.
 */
static int stored_all(struct tar *t, int64_t stored)
{
	if (archive_entry_size_is_set(t->e) &&
	    archive_entry_size(t->e) > stored) {
		dbops_log_error(
			"\"%s\": incomplete or damaged tar: entry \"%.200s\" claims %" PRId64
			" bytes but stores %" PRId64,
			t->path, pitr_entry_name(t->e),
			(int64_t)archive_entry_size(t->e), stored);
		return -1;
	}
	pitr_tar_entry_done(t);
	return 0;
}

/*
 * Whether the current entry of an uncompressed tar claims no more than the
 * file holds (design note 3); -1 after an error message if it does. Only
 * for entries read: a tar cut in an entry skipped or extracted keeps
 * libarchive's "unexpected end of file".
 */
static int claim_fits(struct tar *t)
{
	if (t->file_size < 0 || archive_entry_size(t->e) <= t->file_size)
		return 0;
	dbops_log_error(
		"\"%s\": incomplete or damaged tar: entry \"%.200s\" claims %" PRId64
		" bytes, more than the whole file's %" PRId64,
		t->path, pitr_entry_name(t->e),
		(int64_t)archive_entry_size(t->e), t->file_size);
	return -1;
}

int pitr_tar_read(struct tar *t, char *buf, size_t max, size_t *len)
{
	int64_t stored = 0;
	const char *p = NULL;
	size_t n;
	int r;

	*len = 0;
	if (claim_fits(t) != 0)
		return -1;
	while (*len < max) {
		r = next_block(t, &p, &n);
		if (r <= 0)
			return r < 0 ? -1 : stored_all(t, stored);
		stored += (int64_t)n;
		if (n > max - *len)
			n = max - *len;
		memcpy(buf + *len, p, n);
		*len += n;
	}
	return pitr_tar_skip(t);
}

int pitr_tar_slurp(struct tar *t, size_t max, char **buf, size_t *len)
{
	size_t cap = 0;
	const char *p = NULL;
	size_t n;
	int r;

	*buf = NULL;
	*len = 0;
	if (claim_fits(t) != 0)
		return -1;
	while ((r = next_block(t, &p, &n)) != 0) {
		if (r < 0 || n > max - *len) {
			free(*buf);
			*buf = NULL;
			return r < 0 ? -1 : 1;
		}
		if (*len + n + 1 > cap) {
			cap = cap ? cap : 4096;
			while (cap < *len + n + 1)
				cap *= 2;
			*buf = dbops_xreallocarray(*buf, cap, 1);
		}
		memcpy(*buf + *len, p, n);
		*len += n;
	}
	if (*buf == NULL)
		*buf = dbops_xmalloc(1);
	(*buf)[*len] = '\0';
	if (stored_all(t, (int64_t)*len) != 0) {
		free(*buf);
		*buf = NULL;
		return -1;
	}
	return 0;
}

int pitr_normalise(const char *in, char *out, size_t outlen)
{
	size_t n = 0;

	if (in == NULL || in[0] == '\0')
		return -2;
	if (in[0] == '/')
		return -1;
	while (*in != '\0') {
		const char *slash = strchr(in, '/');
		size_t len = slash ? (size_t)(slash - in) : strlen(in);

		if (len == 2 && in[0] == '.' && in[1] == '.')
			return -1;
		if (len > 0 && !(len == 1 && in[0] == '.')) {
			if (n + (n > 0) + len >= outlen)
				return -2;
			if (n > 0)
				out[n++] = '/';
			memcpy(out + n, in, len);
			n += len;
		}
		in += len;
		if (*in == '/')
			in++;
	}
	out[n] = '\0';
	return n == 0 ? 1 : 0;
}

void pitr_bad_entry(const char *path, const char *stored, int why)
{
	if (why == -1)
		dbops_log_error(
			"\"%s\": entry \"%s\": an absolute path or one with \"..\" would leave the data directory",
			path, stored);
	else
		dbops_log_error(
			"\"%s\": entry \"%.200s\": name empty or too long",
			path, stored ? stored : "");
}

const char *pitr_entry_name(struct archive_entry *e)
{
	const char *name = archive_entry_pathname(e);

	return name != NULL ? name : archive_entry_pathname_utf8(e);
}
