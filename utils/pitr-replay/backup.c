/*
 * backup.c - find, check and lay out a base backup. See backup.h.
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
 *  3. Extraction never follows a symbolic link: every directory on the way
 *     to an entry is opened with O_NOFOLLOW from the data directory down,
 *     and files are created with O_NOFOLLOW, so with absolute paths and
 *     ".." refused nothing can land outside the data directory.
 *  4. The data of an entry of an uncompressed tar is contiguous in the
 *     file at the tar reader's position, so a large one is copied file to
 *     file with copy_file_range(2), in the kernel, and skipped by a seek;
 *     a plain backup's files too. Other data is written from libarchive's
 *     buffers as it hands them out, without another copy.
 */
#include "backup.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "log.h"

/* The read block of libarchive, and of the read/write copy fallback. */
#define IO_BLOCK (1u << 20)
/*
 * Entries of an uncompressed tar from this size on are copied with
 * copy_file_range(2); smaller ones are mostly in libarchive's read-ahead
 * block already, and written from there.
 */
#define CFR_MIN (256u << 10)
/* Limits on the small files read into memory. */
#define LABEL_MAX (64u << 10)
#define VERSION_MAX 64u
#define MANIFEST_MAX (1u << 30)
#define TAR_BLOCK 512
/*
 * The errno libarchive gives "Unrecognized archive format" on Linux
 * (ARCHIVE_ERRNO_FILE_FORMAT of its private archive_platform.h).
 */
#define LA_ERRNO_FILE_FORMAT EILSEQ

/* Room for a path in a message: a path, a member name and quotes. */
#define NAME_LEN (2 * PATH_MAX + 16)

static const char *const tar_suffixes[] = { ".tar", ".tar.gz", ".tar.lz4",
					    ".tar.zst" };
#define NSUFFIXES (sizeof(tar_suffixes) / sizeof(tar_suffixes[0]))

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen,
						      const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* DIR/NAME into BUF, without doubling a slash DIR ends with. */
static int join(char *buf, size_t len, const char *dir, const char *name)
{
	size_t n = strlen(dir);
	int r;

	while (n > 1 && dir[n - 1] == '/')
		n--;
	r = snprintf(buf, len, "%.*s/%s", (int)n, dir, name);
	return r < 0 || (size_t)r >= len ? -1 : 0;
}

/*
 * How a member of the backup is named in a message: "DIR/NAME" for a file
 * of a directory, "TAR": NAME for an entry of a tar.
 */
static const char *member(char *buf, size_t len, bool in_tar,
			  const char *container, const char *name)
{
	size_t n = strlen(container);

	while (n > 1 && container[n - 1] == '/')
		n--;
	if (in_tar)
		snprintf(buf, len, "\"%s\": %s", container, name);
	else
		snprintf(buf, len, "\"%.*s/%s\"", (int)n, container, name);
	return buf;
}

/*
 * Copy SRC (LEN bytes) into DST of size DSTLEN, cut if need be at a UTF-8
 * character boundary.
 */
static void copy_text(char *dst, size_t dstlen, const char *src, size_t len)
{
	if (len >= dstlen) {
		len = dstlen - 1;
		while (len > 0 && ((unsigned char)src[len] & 0xC0) == 0x80)
			len--;
	}
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* A line quoted in a message: at most 100 bytes, control characters as ?. */
static const char *quote_line(char *buf, size_t buflen, const char *s,
			      size_t len)
{
	size_t n = len > 100 ? 100 : len, i;

	if (n >= buflen - 4)
		n = buflen - 4;
	for (i = 0; i < n; i++)
		buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7F ? '?' : s[i];
	if (n < len)
		memcpy(buf + n, "...", 3), n += 3;
	buf[n] = '\0';
	return buf;
}

/*
 * Parse an LSN "X/Y", each part 1 to 8 hex digits, from S to END. Static
 * on purpose: the WAL modules have their own lsn_parse().
 */
static int backup_parse_lsn(const char *s, const char *end, uint64_t *lsn)
{
	uint64_t parts[2] = { 0, 0 };

	for (int i = 0; i < 2; i++) {
		int digits = 0;

		for (; s < end && isxdigit((unsigned char)*s); s++, digits++) {
			int c = (unsigned char)*s;

			parts[i] = parts[i] << 4 |
				   (uint64_t)(isdigit(c) ? c - '0' :
							   tolower(c) - 'a' + 10);
		}
		if (digits < 1 || digits > 8)
			return -1;
		if (i == 0) {
			if (s >= end || *s != '/')
				return -1;
			s++;
		}
	}
	if (s != end)
		return -1;
	*lsn = parts[0] << 32 | parts[1];
	return 0;
}

static uint32_t hex8(const char *s)
{
	uint32_t v = 0;

	for (int i = 0; i < 8; i++) {
		int c = (unsigned char)s[i];

		v = v << 4 | (uint32_t)(isdigit(c) ? c - '0' : tolower(c) - 'a' + 10);
	}
	return v;
}

/* ---- backup_label ------------------------------------------------------ */

/* Whether the line LINE (LEN bytes) starts with KEY, then ": ". */
static const char *after_key(const char *line, size_t len, const char *key)
{
	size_t k = strlen(key);

	if (len < k + 2 || memcmp(line, key, k) != 0 || line[k] != ':' ||
	    line[k + 1] != ' ')
		return NULL;
	return line + k + 2;
}

static int parse_start_line(const char *line, size_t len,
			    struct backup_label *label, char *err,
			    size_t errlen)
{
	static const char key[] = "START WAL LOCATION: ";
	const char *end = line + len, *p, *sp, *name;
	char q[80];

	if (len < sizeof(key) - 1 || memcmp(line, key, sizeof(key) - 1) != 0)
		goto bad;
	p = line + sizeof(key) - 1;
	sp = memchr(p, ' ', (size_t)(end - p));
	if (sp == NULL || backup_parse_lsn(p, sp, &label->start_lsn) != 0)
		goto bad;
	if ((size_t)(end - sp) != strlen(" (file ") + 24 + 1 ||
	    memcmp(sp, " (file ", 7) != 0 || end[-1] != ')')
		goto bad;
	name = sp + 7;
	for (int i = 0; i < 24; i++)
		if (!isxdigit((unsigned char)name[i]))
			goto bad;
	label->start_tli = hex8(name);
	if (label->start_tli == 0)
		return fail(err, errlen,
			    "line 1: WAL file %.24s has timeline 0", name);
	/* The second 8 digits of a segment name are the LSN's high half. */
	if (hex8(name + 8) != (uint32_t)(label->start_lsn >> 32))
		return fail(err, errlen,
			    "line 1: WAL file %.24s cannot hold the start WAL location %X/%X",
			    name, (unsigned)(label->start_lsn >> 32),
			    (unsigned)label->start_lsn);
	return 0;
bad:
	return fail(err, errlen,
		    "line 1: expected \"START WAL LOCATION: X/Y (file NAME)\", found \"%s\"",
		    quote_line(q, sizeof(q), line, len));
}

int backup_parse_label(const char *text, struct backup_label *label, char *err,
		       size_t errlen)
{
	const char *p = text, *v;
	unsigned lineno = 0;
	bool seen_time = false, seen_label = false, seen_tli = false;
	char q[80];

	memset(label, 0, sizeof(*label));
	while (*p != '\0' || lineno < 2) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		lineno++;
		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (lineno == 1) {
			if (parse_start_line(p, len, label, err, errlen) != 0)
				return -1;
		} else if (lineno == 2) {
			v = after_key(p, len, "CHECKPOINT LOCATION");
			if (v == NULL ||
			    backup_parse_lsn(v, p + len,
					     &label->checkpoint_lsn) != 0)
				return fail(err, errlen,
					    "line 2: expected \"CHECKPOINT LOCATION: X/Y\", found \"%s\"",
					    quote_line(q, sizeof(q), p, len));
			if (label->checkpoint_lsn < label->start_lsn)
				return fail(err, errlen,
					    "line 2: checkpoint location %X/%X is before the start WAL location %X/%X",
					    (unsigned)(label->checkpoint_lsn >> 32),
					    (unsigned)label->checkpoint_lsn,
					    (unsigned)(label->start_lsn >> 32),
					    (unsigned)label->start_lsn);
		} else if (len == 0) {
			/* an empty line: nothing */
		} else if ((v = after_key(p, len, "BACKUP METHOD")) != NULL) {
			if (label->method[0] != '\0')
				goto twice;
			copy_text(label->method, sizeof(label->method), v,
				  (size_t)(p + len - v));
		} else if ((v = after_key(p, len, "BACKUP FROM")) != NULL) {
			if (label->from[0] != '\0')
				goto twice;
			copy_text(label->from, sizeof(label->from), v,
				  (size_t)(p + len - v));
		} else if ((v = after_key(p, len, "START TIME")) != NULL) {
			if (seen_time)
				goto twice;
			seen_time = true;
			copy_text(label->start_time, sizeof(label->start_time),
				  v, (size_t)(p + len - v));
		} else if ((v = after_key(p, len, "LABEL")) != NULL) {
			if (seen_label)
				goto twice;
			seen_label = true;
			copy_text(label->label, sizeof(label->label), v,
				  (size_t)(p + len - v));
		} else if ((v = after_key(p, len, "START TIMELINE")) != NULL) {
			unsigned long tli = 0;
			const char *d = v;

			if (seen_tli)
				goto twice;
			seen_tli = true;
			for (; d < p + len && isdigit((unsigned char)*d); d++)
				tli = tli * 10 + (unsigned long)(*d - '0');
			if (d == v || d != p + len || d - v > 10 ||
			    tli > UINT32_MAX)
				return fail(err, errlen,
					    "line %u: expected \"START TIMELINE: N\", found \"%s\"",
					    lineno, quote_line(q, sizeof(q), p, len));
			if (tli != label->start_tli)
				return fail(err, errlen,
					    "line %u: START TIMELINE %lu does not match the timeline %u of the start WAL file",
					    lineno, tli, label->start_tli);
		} else if (after_key(p, len, "INCREMENTAL FROM LSN") != NULL) {
			label->incremental = true;
		} else if (memchr(p, ':', len) == NULL) {
			return fail(err, errlen,
				    "line %u: expected \"KEY: value\", found \"%s\"",
				    lineno, quote_line(q, sizeof(q), p, len));
		}
		/* Other "KEY: value" lines (later releases' fields): ignored. */
		if (nl == NULL) {
			/* a last line without its line end */
			p = strchr(p, '\0');
			if (lineno >= 2)
				break;
			continue;
		}
		p = nl + 1;
		continue;
twice:
		return fail(err, errlen, "line %u: \"%.*s\" given twice", lineno,
			    (int)(strchr(p, ':') - p), p);
	}
	return 0;
}

/* ---- backup_manifest --------------------------------------------------- */

/* What the manifest says that we use. */
struct manifest {
	int version;
	uint64_t system_id;
	size_t nranges;
	uint64_t start_lsn; /* the lowest Start-LSN */
	uint32_t start_tli;
	uint64_t end_lsn; /* the highest End-LSN */
	uint32_t end_tli;
};

/* A small JSON scanner: enough to validate and walk a manifest. */
struct json {
	const char *s, *p, *end;
	int depth;
	char *err;
	size_t errlen;
};

#define JSON_MAX_DEPTH 64

__attribute__((format(printf, 2, 3))) static int json_fail(struct json *j,
							   const char *fmt, ...)
{
	unsigned line = 1;
	char what[160];
	va_list ap;

	for (const char *c = j->s; c < j->p; c++)
		line += *c == '\n';
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return fail(j->err, j->errlen, "line %u: %s", line, what);
}

static void json_ws(struct json *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
				 *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

/* Expect the byte C after white space. */
static int json_expect(struct json *j, char c, const char *what)
{
	json_ws(j);
	if (j->p >= j->end)
		return json_fail(j, "expected %s, found the end of the file",
				 what);
	if (*j->p != c)
		return json_fail(j, "expected %s, found '%c'", what,
				 isprint((unsigned char)*j->p) ? *j->p : '?');
	j->p++;
	return 0;
}

/*
 * A string at j->p (after white space): its raw bytes between the quotes
 * in *start and *len, escapes left as they are (*escaped tells).
 */
static int json_string(struct json *j, const char **start, size_t *len,
		       bool *escaped)
{
	if (json_expect(j, '"', "a string") != 0)
		return -1;
	*start = j->p;
	*escaped = false;
	while (j->p < j->end && *j->p != '"') {
		unsigned char c = (unsigned char)*j->p;

		if (c < 0x20)
			return json_fail(j, "control character in a string");
		if (c == '\\') {
			*escaped = true;
			j->p++;
			if (j->p >= j->end)
				break;
			if (*j->p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (j->p + i >= j->end ||
					    !isxdigit((unsigned char)j->p[i]))
						return json_fail(j, "bad \\u escape in a string");
				j->p += 4;
			} else if (strchr("\"\\/bfnrt", *j->p) == NULL) {
				return json_fail(j, "bad escape in a string");
			}
		}
		j->p++;
	}
	if (j->p >= j->end)
		return json_fail(j, "unterminated string");
	*len = (size_t)(j->p - *start);
	j->p++;
	return 0;
}

/* A number; *integer gets its value when it is a plain non-negative integer. */
static int json_number(struct json *j, uint64_t *integer, bool *is_integer)
{
	const char *p = j->p, *digits;
	uint64_t v = 0;
	bool overflow = false;

	*is_integer = true;
	if (p < j->end && *p == '-')
		p++, *is_integer = false;
	digits = p;
	while (p < j->end && isdigit((unsigned char)*p)) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			overflow = true;
		v = v * 10 + d;
		p++;
	}
	if (p == digits || (*digits == '0' && p - digits > 1))
		return json_fail(j, "bad number");
	if (p < j->end && *p == '.') {
		*is_integer = false;
		if (++p >= j->end || !isdigit((unsigned char)*p))
			return json_fail(j, "bad number");
		while (p < j->end && isdigit((unsigned char)*p))
			p++;
	}
	if (p < j->end && (*p == 'e' || *p == 'E')) {
		*is_integer = false;
		p++;
		if (p < j->end && (*p == '+' || *p == '-'))
			p++;
		if (p >= j->end || !isdigit((unsigned char)*p))
			return json_fail(j, "bad number");
		while (p < j->end && isdigit((unsigned char)*p))
			p++;
	}
	if (overflow)
		*is_integer = false;
	*integer = v;
	j->p = p;
	return 0;
}

static int json_skip_value(struct json *j);

/* Walk an object or array; for arrays KEY is NULL. */
static int json_skip_container(struct json *j, char close)
{
	const char *k;
	size_t klen;
	bool esc;

	if (++j->depth > JSON_MAX_DEPTH)
		return json_fail(j, "nested too deeply");
	json_ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		j->depth--;
		return 0;
	}
	for (;;) {
		if (close == '}') {
			if (json_string(j, &k, &klen, &esc) != 0 ||
			    json_expect(j, ':', "':'") != 0)
				return -1;
		}
		if (json_skip_value(j) != 0)
			return -1;
		json_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (json_expect(j, close, close == '}' ? "',' or '}'" :
							 "',' or ']'") != 0)
			return -1;
		j->depth--;
		return 0;
	}
}

static int json_skip_value(struct json *j)
{
	const char *s;
	size_t len;
	bool esc, is_int;
	uint64_t v;

	json_ws(j);
	if (j->p >= j->end)
		return json_fail(j, "expected a value, found the end of the file");
	switch (*j->p) {
	case '{':
		j->p++;
		return json_skip_container(j, '}');
	case '[':
		j->p++;
		return json_skip_container(j, ']');
	case '"':
		return json_string(j, &s, &len, &esc);
	case 't':
	case 'f':
	case 'n':
		for (const char *const *w = (const char *const[]){ "true", "false", "null", NULL };
		     *w != NULL; w++) {
			size_t n = strlen(*w);

			if ((size_t)(j->end - j->p) >= n &&
			    memcmp(j->p, *w, n) == 0) {
				j->p += n;
				return 0;
			}
		}
		return json_fail(j, "expected a value");
	default:
		if (*j->p == '-' || isdigit((unsigned char)*j->p))
			return json_number(j, &v, &is_int);
		return json_fail(j, "expected a value, found '%c'",
				 isprint((unsigned char)*j->p) ? *j->p : '?');
	}
}

static bool key_is(const char *k, size_t klen, const char *want)
{
	return klen == strlen(want) && memcmp(k, want, klen) == 0;
}

static int json_uint(struct json *j, const char *key, uint64_t max,
		     uint64_t *out)
{
	bool is_int;

	json_ws(j);
	if (j->p >= j->end || !(isdigit((unsigned char)*j->p) || *j->p == '-'))
		return json_fail(j, "\"%s\": expected a number", key);
	if (json_number(j, out, &is_int) != 0)
		return -1;
	if (!is_int || *out > max)
		return json_fail(j, "\"%s\": expected an integer from 0 to %" PRIu64,
				 key, max);
	return 0;
}

static int json_lsn(struct json *j, const char *key, uint64_t *lsn)
{
	const char *s;
	size_t len;
	bool esc;

	json_ws(j);
	if (j->p >= j->end || *j->p != '"')
		return json_fail(j, "\"%s\": expected an LSN string", key);
	if (json_string(j, &s, &len, &esc) != 0)
		return -1;
	if (esc || backup_parse_lsn(s, s + len, lsn) != 0)
		return json_fail(j, "\"%s\": expected an LSN \"X/Y\", found \"%.*s\"",
				 key, (int)(len > 40 ? 40 : len), s);
	return 0;
}

/* One object of "WAL-Ranges". */
static int json_wal_range(struct json *j, struct manifest *m)
{
	uint64_t tli = 0, start = 0, end = 0;
	bool have_tli = false, have_start = false, have_end = false;
	const char *k;
	size_t klen;
	bool esc;

	if (json_expect(j, '{', "a WAL range object '{'") != 0)
		return -1;
	json_ws(j);
	if (j->p < j->end && *j->p == '}') {
		j->p++;
		goto check;
	}
	for (;;) {
		if (json_string(j, &k, &klen, &esc) != 0 ||
		    json_expect(j, ':', "':'") != 0)
			return -1;
		if (key_is(k, klen, "Timeline")) {
			if (json_uint(j, "Timeline", UINT32_MAX, &tli) != 0)
				return -1;
			have_tli = true;
		} else if (key_is(k, klen, "Start-LSN")) {
			if (json_lsn(j, "Start-LSN", &start) != 0)
				return -1;
			have_start = true;
		} else if (key_is(k, klen, "End-LSN")) {
			if (json_lsn(j, "End-LSN", &end) != 0)
				return -1;
			have_end = true;
		} else if (json_skip_value(j) != 0) {
			return -1;
		}
		json_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (json_expect(j, '}', "',' or '}'") != 0)
			return -1;
		break;
	}
check:
	if (!have_tli || !have_start || !have_end)
		return json_fail(j, "a WAL range without %s",
				 !have_tli ? "\"Timeline\"" :
				 !have_start ? "\"Start-LSN\"" : "\"End-LSN\"");
	if (start > end)
		return json_fail(j, "a WAL range that ends before it starts");
	if (m->nranges == 0 || start < m->start_lsn)
		m->start_lsn = start, m->start_tli = (uint32_t)tli;
	if (m->nranges == 0 || end > m->end_lsn ||
	    (end == m->end_lsn && tli > m->end_tli))
		m->end_lsn = end, m->end_tli = (uint32_t)tli;
	m->nranges++;
	return 0;
}

static int json_wal_ranges(struct json *j, struct manifest *m)
{
	if (json_expect(j, '[', "an array '['") != 0)
		return -1;
	json_ws(j);
	if (j->p < j->end && *j->p == ']') {
		j->p++;
		return 0;
	}
	for (;;) {
		if (json_wal_range(j, m) != 0)
			return -1;
		json_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		return json_expect(j, ']', "',' or ']'");
	}
}

/*
 * Parse a backup manifest (LEN bytes of TEXT): the JSON must be valid as a
 * whole, its top-level object must name a version we know (1 or 2), and
 * System-Identifier and WAL-Ranges are taken out. -1 with ERR set.
 */
static int parse_manifest(const char *text, size_t len, struct manifest *m,
			  char *err, size_t errlen)
{
	struct json j = { text, text, text + len, 0, err, errlen };
	uint64_t v;
	const char *k;
	size_t klen;
	bool esc, have_version = false;

	memset(m, 0, sizeof(*m));
	if (json_expect(&j, '{', "a JSON object '{'") != 0)
		return -1;
	json_ws(&j);
	if (j.p < j.end && *j.p == '}') {
		j.p++;
		goto end;
	}
	for (;;) {
		if (json_string(&j, &k, &klen, &esc) != 0 ||
		    json_expect(&j, ':', "':'") != 0)
			return -1;
		if (key_is(k, klen, "PostgreSQL-Backup-Manifest-Version")) {
			if (json_uint(&j, "PostgreSQL-Backup-Manifest-Version",
				      INT32_MAX, &v) != 0)
				return -1;
			m->version = (int)v;
			have_version = true;
		} else if (key_is(k, klen, "System-Identifier")) {
			if (json_uint(&j, "System-Identifier", UINT64_MAX,
				      &m->system_id) != 0)
				return -1;
		} else if (key_is(k, klen, "WAL-Ranges")) {
			if (json_wal_ranges(&j, m) != 0)
				return -1;
		} else if (json_skip_value(&j) != 0) {
			return -1;
		}
		json_ws(&j);
		if (j.p < j.end && *j.p == ',') {
			j.p++;
			continue;
		}
		if (json_expect(&j, '}', "',' or '}'") != 0)
			return -1;
		break;
	}
end:
	json_ws(&j);
	if (j.p != j.end)
		return json_fail(&j, "unexpected data after the JSON object");
	if (!have_version)
		return fail(err, errlen,
			    "not a backup manifest: no \"PostgreSQL-Backup-Manifest-Version\"");
	if (m->version != 1 && m->version != 2)
		return fail(err, errlen, "unsupported manifest version %d",
			    m->version);
	return 0;
}

/* ---- reading tars ------------------------------------------------------- */

struct tar {
	const char *path;	/* for messages */
	int fd;			/* the file */
	struct archive *raw;	/* the decompressing reader (design note 1) */
	struct archive *a;	/* the tar reader */
	bool compressed;
	bool raw_failed;	/* the error is the raw reader's */
	bool unrecognized;	/* tar_open(): not a tar libarchive knows */
	int64_t data_end;	/* stream offset after the last entry's data */
	struct archive_entry *e;
	char name[PATH_MAX];	/* the current entry, normalised, or "" */
	char last[PATH_MAX];	/* the entry before, or "" */
};

static int tar_damaged(struct tar *t, struct archive *a)
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
		dbops_log_error("\"%s\": incomplete or damaged tar: %s (reading \"%s\")",
				t->path, msg, t->name);
	else if (t->last[0] != '\0')
		dbops_log_error("\"%s\": incomplete or damaged tar: %s (after \"%s\")",
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
				  archive_error_string(t->raw) ?
					  archive_error_string(t->raw) :
					  "read error");
		return -1;
	}
	return (la_ssize_t)n;
}

static void tar_close(struct tar *t)
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

/*
 * Open the tar at PATH. Returns 0, or -1 after an error message; when
 * libarchive does not know the format, -1 without a message and
 * t->unrecognized set, so the caller words it.
 */
static int tar_open(struct tar *t, const char *path)
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
		dbops_log_error("\"%s\": incomplete or damaged tar: the file is empty",
				path);
		goto fail;
	}
	t->raw = archive_read_new();
	if (t->raw == NULL)
		goto oom;
	archive_read_support_filter_all(t->raw);
	archive_read_support_format_raw(t->raw);
	if (archive_read_open_fd(t->raw, t->fd, IO_BLOCK) != ARCHIVE_OK ||
	    archive_read_next_header(t->raw, &e) < ARCHIVE_WARN) {
		tar_damaged(t, t->raw);
		goto fail;
	}
	t->compressed = archive_filter_code(t->raw, 0) != ARCHIVE_FILTER_NONE;
	t->a = archive_read_new();
	if (t->a == NULL)
		goto oom;
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
			tar_close(t);
			return -1;
		}
		tar_damaged(t, t->a);
		goto fail;
	}
	return 0;
oom:
	dbops_log_error("out of memory");
fail:
	tar_close(t);
	return -1;
}

/*
 * The next entry into t->e, its name (as stored) checked by the caller.
 * Returns 1, 0 at the end of a complete tar (compressed stream read to its
 * end), or -1 after an error message.
 */
static int tar_next(struct tar *t)
{
	int r;

	if (t->name[0] != '\0')
		memcpy(t->last, t->name, sizeof(t->last));
	t->name[0] = '\0';
	r = archive_read_next_header(t->a, &t->e);
	if (r == ARCHIVE_OK || r == ARCHIVE_WARN)
		return 1;
	if (r != ARCHIVE_EOF)
		return tar_damaged(t, t->a);
	/* Design note 2: the end-of-archive marker must be there. */
	if (archive_filter_bytes(t->a, 0) < t->data_end + TAR_BLOCK) {
		t->name[0] = '\0';
		archive_set_error(t->a, EIO, "it ends without an end-of-archive marker");
		return tar_damaged(t, t->a);
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
			return tar_damaged(t, t->raw);
	}
	return 0;
}

/* The current entry's data is all read or skipped: note where it ended. */
static void tar_entry_done(struct tar *t)
{
	t->data_end = archive_filter_bytes(t->a, 0);
}

static int tar_skip(struct tar *t)
{
	if (archive_read_data_skip(t->a) != ARCHIVE_OK)
		return tar_damaged(t, t->a);
	tar_entry_done(t);
	return 0;
}

/*
 * Read the current entry's data: the first MAX bytes into BUF (*len gets
 * how many), the rest read and dropped. Returns the total size, -1 after
 * an error message.
 */
static int64_t tar_read(struct tar *t, char *buf, size_t max, size_t *len)
{
	int64_t total = 0;
	char scratch[8192];

	*len = 0;
	for (;;) {
		char *to = *len < max ? buf + *len : scratch;
		size_t room = *len < max ? max - *len : sizeof(scratch);
		la_ssize_t n = archive_read_data(t->a, to, room);

		if (n < 0)
			return tar_damaged(t, t->a);
		if (n == 0)
			break;
		if (to != scratch)
			*len += (size_t)n;
		total += n;
	}
	tar_entry_done(t);
	return total;
}

/*
 * The stored name IN normalised into OUT: leading "./", "." components and
 * repeated slashes gone, no trailing slash. Returns 0, 1 for the top
 * directory itself ("." or "./"), -1 for an absolute path or one with a
 * ".." component, -2 for a name too long.
 */
static int normalise(const char *in, char *out, size_t outlen)
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

static void bad_entry(const char *path, const char *stored, int why)
{
	if (why == -1)
		dbops_log_error("\"%s\": entry \"%s\": an absolute path or one with \"..\" would leave the data directory",
				path, stored);
	else
		dbops_log_error("\"%s\": entry \"%.200s\": name empty or too long",
				path, stored ? stored : "");
}

static const char *entry_name(struct archive_entry *e)
{
	const char *name = archive_entry_pathname(e);

	return name != NULL ? name : archive_entry_pathname_utf8(e);
}

/* ---- backup_open -------------------------------------------------------- */

/* The files of the data directory that backup_open() looks into. */
struct found {
	char *label;
	size_t label_len;
	bool has_label;
	char version[VERSION_MAX];
	size_t version_len;
	bool has_version;
	unsigned char control[8];
	size_t control_len;
	bool has_control;
	char *manifest;
	size_t manifest_len;
	bool has_manifest;
	char manifest_name[NAME_LEN]; /* how to name it in messages */
	char nested[NAME_MAX + 1];    /* "d" when "d/backup_label" was seen */
};

static void found_free(struct found *f)
{
	free(f->label);
	free(f->manifest);
}

static void no_backup_label(const char *where)
{
	dbops_log_error("\"%s\": no backup_label: not a base backup taken with pg_basebackup",
			where);
	dbops_log_hint("a copy of a data directory made without pg_backup_start() cannot be recovered to a point in time; take a base backup with pg_basebackup");
}

static void not_a_backup(const char *path)
{
	dbops_log_error("\"%s\": not a base backup: no backup_label, base.tar* or tar file",
			path);
}

static void no_tablespaces(const char *what)
{
	dbops_log_error("%s: the backup has a tablespace: tablespaces are not supported",
			what);
}

/* Read a whole entry into a new buffer, at most MAX bytes. */
static int tar_slurp(struct tar *t, const char *what, size_t max, char **buf,
		     size_t *len)
{
	int64_t size = archive_entry_size(t->e);

	if (size < 0 || (uint64_t)size > max) {
		dbops_log_error("\"%s\": %s is too large (%" PRId64 " bytes)",
				t->path, what, size);
		return -1;
	}
	*buf = malloc((size_t)size + 1);
	if (*buf == NULL) {
		dbops_log_error("out of memory");
		return -1;
	}
	if (tar_read(t, *buf, (size_t)size, len) < 0)
		return -1;
	(*buf)[*len] = '\0';
	return 0;
}

/*
 * Read every entry of the tar PATH, checking each, and keep what F wants.
 * WAL: the pg_wal tar, whose entries are only checked.
 */
static int scan_tar(const char *path, bool wal, bool want_manifest,
		    struct found *f, bool quiet_unrecognized)
{
	struct tar t;
	char name[PATH_MAX], what[NAME_LEN];
	int r;

	if (tar_open(&t, path) != 0) {
		if (t.unrecognized) {
			if (quiet_unrecognized)
				return 1;
			dbops_log_error("\"%s\": incomplete or damaged tar: not a tar archive",
					path);
		}
		return -1;
	}
	while ((r = tar_next(&t)) == 1) {
		const char *stored = entry_name(t.e);
		mode_t type = archive_entry_filetype(t.e);
		int n = normalise(stored, name, sizeof(name));

		if (n < 0) {
			bad_entry(path, stored, n);
			goto fail;
		}
		snprintf(t.name, sizeof(t.name), "%s", n == 1 ? "." : name);
		if (archive_entry_hardlink(t.e) != NULL) {
			dbops_log_error("\"%s\": entry \"%s\": a hard link, which a base backup does not have",
					path, t.name);
			goto fail;
		}
		if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK) {
			dbops_log_error("\"%s\": entry \"%s\": neither a file, a directory nor a symbolic link",
					path, t.name);
			goto fail;
		}
		/* pg_basebackup -Ft writes an empty tablespace_map when there are none. */
		if (!wal && ((strcmp(name, "tablespace_map") == 0 &&
			      archive_entry_size(t.e) > 0) ||
			     strncmp(name, "pg_tblspc/", 10) == 0)) {
			no_tablespaces(member(what, sizeof(what), true, path,
					      name));
			goto fail;
		}
		if (wal || n == 1 || type != AE_IFREG) {
			if (tar_skip(&t) != 0)
				goto fail;
			continue;
		}
		if (strcmp(name, "backup_label") == 0) {
			free(f->label);
			f->label = NULL;
			if (tar_slurp(&t, "backup_label", LABEL_MAX, &f->label,
				      &f->label_len) != 0)
				goto fail;
			f->has_label = true;
		} else if (strcmp(name, "PG_VERSION") == 0) {
			if (tar_read(&t, f->version, sizeof(f->version) - 1,
				     &f->version_len) < 0)
				goto fail;
			f->version[f->version_len] = '\0';
			f->has_version = true;
		} else if (strcmp(name, "global/pg_control") == 0) {
			if (tar_read(&t, (char *)f->control, sizeof(f->control),
				     &f->control_len) < 0)
				goto fail;
			f->has_control = true;
		} else if (want_manifest && strcmp(name, "backup_manifest") == 0) {
			free(f->manifest);
			f->manifest = NULL;
			if (tar_slurp(&t, "backup_manifest", MANIFEST_MAX,
				      &f->manifest, &f->manifest_len) != 0)
				goto fail;
			f->has_manifest = true;
			member(f->manifest_name, sizeof(f->manifest_name), true,
			       path, "backup_manifest");
		} else {
			const char *slash = strchr(name, '/');

			if (slash != NULL && f->nested[0] == '\0' &&
			    strcmp(slash + 1, "backup_label") == 0)
				snprintf(f->nested, sizeof(f->nested), "%.*s",
					 (int)(slash - name), name);
			if (tar_skip(&t) != 0)
				goto fail;
		}
	}
	if (r < 0)
		goto fail;
	tar_close(&t);
	return 0;
fail:
	tar_close(&t);
	return -1;
}

/*
 * Read the file NAME of the directory DFD (called DIR in messages) into a
 * new buffer, at most MAX bytes. Returns 0, 1 if there is no such file, -1
 * after an error message.
 */
static int read_small(int dfd, const char *dir, const char *name, size_t max,
		      char **buf, size_t *len)
{
	char path[NAME_LEN];
	struct stat st;
	size_t got = 0;
	int fd;

	join(path, sizeof(path), dir, name);
	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 1;
		dbops_log_error("could not open file \"%s\": %s", path,
				strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		dbops_log_error("\"%s\": not a regular file", path);
		goto fail;
	}
	if ((uint64_t)st.st_size > max) {
		dbops_log_error("\"%s\": too large (%lld bytes)", path,
				(long long)st.st_size);
		goto fail;
	}
	*buf = malloc((size_t)st.st_size + 1);
	if (*buf == NULL) {
		dbops_log_error("out of memory");
		goto fail;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, *buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			dbops_log_error("could not read file \"%s\": %s", path,
					strerror(errno));
			free(*buf);
			*buf = NULL;
			goto fail;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	(*buf)[got] = '\0';
	*len = got;
	close(fd);
	return 0;
fail:
	close(fd);
	return -1;
}

/* Read what F wants from the plain backup in directory DFD. */
static int scan_dir(int dfd, const char *path, struct found *f)
{
	char *buf = NULL, what[NAME_LEN];
	struct stat map;
	size_t len;
	int r;
	DIR *d;
	int tfd;

	r = read_small(dfd, path, "backup_label", LABEL_MAX, &f->label,
		       &f->label_len);
	if (r < 0)
		return -1;
	f->has_label = r == 0;
	r = read_small(dfd, path, "PG_VERSION", VERSION_MAX - 1, &buf, &len);
	if (r < 0)
		return -1;
	if (r == 0) {
		memcpy(f->version, buf, len + 1);
		f->version_len = len;
		f->has_version = true;
		free(buf);
	}
	r = read_small(dfd, path, "global/pg_control", 1u << 20, &buf, &len);
	if (r < 0)
		return -1;
	if (r == 0) {
		f->control_len = len < 8 ? len : 8;
		memcpy(f->control, buf, f->control_len);
		f->has_control = true;
		free(buf);
	}
	/* pg_basebackup writes an empty tablespace_map when there are none. */
	if (fstatat(dfd, "tablespace_map", &map, AT_SYMLINK_NOFOLLOW) == 0 &&
	    map.st_size > 0) {
		no_tablespaces(member(what, sizeof(what), false, path,
				      "tablespace_map"));
		return -1;
	}
	tfd = openat(dfd, "pg_tblspc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (tfd >= 0 && (d = fdopendir(tfd)) != NULL) {
		struct dirent *de;

		while ((de = readdir(d)) != NULL) {
			char name[NAME_MAX + 16];

			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(name, sizeof(name), "pg_tblspc/%s", de->d_name);
			no_tablespaces(member(what, sizeof(what), false, path,
					      name));
			closedir(d);
			return -1;
		}
		closedir(d);
	} else if (tfd >= 0) {
		close(tfd);
	}
	r = read_small(dfd, path, "backup_manifest", MANIFEST_MAX, &f->manifest,
		       &f->manifest_len);
	if (r < 0)
		return -1;
	f->has_manifest = r == 0;
	member(f->manifest_name, sizeof(f->manifest_name), false, path,
	       "backup_manifest");
	return 0;
}

/*
 * Check what was found and fill B. CONTAINER names where the files are
 * (the directory, or the base tar when IN_TAR).
 */
static int check_found(struct base_backup *b, struct found *f,
		       const char *container, bool in_tar)
{
	char what[NAME_LEN], err[256];
	struct manifest m;
	long major = 0;
	const char *p;

	if (!f->has_label) {
		no_backup_label(container);
		if (f->nested[0] != '\0')
			dbops_log_hint("the tar holds a directory \"%s\" with a backup_label; give a tar of the data directory's contents",
				       f->nested);
		return -1;
	}
	member(what, sizeof(what), in_tar, container, "backup_label");
	if (strlen(f->label) != f->label_len) {
		dbops_log_error("%s: contains a NUL byte: not a backup_label file",
				what);
		return -1;
	}
	if (backup_parse_label(f->label, &b->label, err, sizeof(err)) != 0) {
		dbops_log_error("%s %s", what, err);
		return -1;
	}
	if (b->label.incremental) {
		dbops_log_error("%s: an incremental backup (INCREMENTAL FROM LSN): it must be combined with its full backup first",
				what);
		dbops_log_hint("run pg_combinebackup on the full backup and its incremental backups, and give its output");
		return -1;
	}
	if (!f->has_version) {
		dbops_log_error("%s: missing: the backup is incomplete",
				member(what, sizeof(what), in_tar, container,
				       "PG_VERSION"));
		return -1;
	}
	p = f->version;
	while (isdigit((unsigned char)*p) && major < 1000)
		major = major * 10 + (*p++ - '0');
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			;
	if (p == f->version || major == 0 || major >= 1000 ||
	    !(*p == '\0' || (*p == '\n' && p[1] == '\0'))) {
		char q[80];

		dbops_log_error("%s: expected a PostgreSQL major version, found \"%s\"",
				member(what, sizeof(what), in_tar, container,
				       "PG_VERSION"),
				quote_line(q, sizeof(q), f->version,
					   f->version_len));
		return -1;
	}
	b->pg_major = (int)major;
	member(what, sizeof(what), in_tar, container, "global/pg_control");
	if (!f->has_control) {
		dbops_log_error("%s: missing: the backup is incomplete", what);
		return -1;
	}
	if (f->control_len < 8) {
		dbops_log_error("%s: %zu bytes, too short for a pg_control file",
				what, f->control_len);
		return -1;
	}
	memcpy(&b->system_id, f->control, 8);
	if (!f->has_manifest)
		return 0;
	if (parse_manifest(f->manifest, f->manifest_len, &m, err,
			   sizeof(err)) != 0) {
		dbops_log_error("%s: could not parse the manifest: %s",
				f->manifest_name, err);
		return -1;
	}
	if (m.system_id != 0 && m.system_id != b->system_id) {
		dbops_log_error("%s: system identifier %" PRIu64 " is not the %" PRIu64 " of pg_control: the manifest is another backup's",
				f->manifest_name, m.system_id, b->system_id);
		return -1;
	}
	if (m.nranges > 0 && (m.start_lsn != b->label.start_lsn ||
			      m.start_tli != b->label.start_tli)) {
		dbops_log_error("%s: WAL starts at %X/%X on timeline %u, backup_label at %X/%X on timeline %u: the manifest is another backup's",
				f->manifest_name, (unsigned)(m.start_lsn >> 32),
				(unsigned)m.start_lsn, m.start_tli,
				(unsigned)(b->label.start_lsn >> 32),
				(unsigned)b->label.start_lsn,
				b->label.start_tli);
		return -1;
	}
	b->has_manifest = true;
	b->manifest_end_lsn = m.end_lsn;
	b->manifest_tli = m.end_tli;
	b->manifest_system_id = m.system_id;
	return 0;
}

/* Which of the tar suffixes NAME (STEM + suffix) has, or -1. */
static int tar_suffix(const char *name, const char *stem, size_t stemlen)
{
	if (strncmp(name, stem, stemlen) != 0)
		return -1;
	for (size_t i = 0; i < NSUFFIXES; i++)
		if (strcmp(name + stemlen, tar_suffixes[i]) == 0)
			return (int)i;
	return -1;
}

/* Whether PATH is named like a tar: "x.tar", "x.tar.gz", "x.tgz"... */
static bool looks_like_tar(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;
	size_t n = strlen(name);

	return strstr(name, ".tar") != NULL ||
	       (n > 4 && strcmp(name + n - 4, ".tgz") == 0);
}

static bool is_tablespace_tar(const char *name)
{
	size_t n = strspn(name, "0123456789");

	return n > 0 && tar_suffix(name + n, "", 0) >= 0;
}

/* Complain that both of the tars STEM+suffix I and J are in DIR. */
static int two_tars(const char *dir, const char *stem, int i, int j)
{
	dbops_log_error("\"%s\": both \"%s%s\" and \"%s%s\": keep one", dir, stem,
			tar_suffixes[i], stem, tar_suffixes[j]);
	return -1;
}

/*
 * The tars of a pg_basebackup -Ft directory DIR: the base tar, the one
 * named GIVEN if not NULL, else the only base.tar* of DIR, or "" if none;
 * the pg_wal tar, the one compressed as the base tar or else the only one,
 * or "". Returns 0, or -1 after an error message (two base tars or two
 * pg_wal tars to choose from, a tablespace tar).
 */
static int find_tars(const char *dir, const char *given,
		     char base[NAME_MAX + 1], char wal[NAME_MAX + 1])
{
	bool has_base[NSUFFIXES] = { false }, has_wal[NSUFFIXES] = { false };
	char path[NAME_LEN];
	struct dirent *de;
	int b = -1, w = -1, nwal = 0;
	DIR *d = opendir(dir);

	base[0] = wal[0] = '\0';
	if (d == NULL) {
		dbops_log_error("could not open directory \"%s\": %s", dir,
				strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		int i;

		if (is_tablespace_tar(de->d_name)) {
			join(path, sizeof(path), dir, de->d_name);
			dbops_log_error("\"%s\": the backup has a tablespace (OID %.*s): tablespaces are not supported",
					path, (int)strspn(de->d_name, "0123456789"),
					de->d_name);
			closedir(d);
			return -1;
		}
		if ((i = tar_suffix(de->d_name, "base", 4)) >= 0)
			has_base[i] = true;
		else if ((i = tar_suffix(de->d_name, "pg_wal", 6)) >= 0)
			has_wal[i] = true;
	}
	closedir(d);
	if (given != NULL) {
		b = tar_suffix(given, "base", 4);
	} else {
		for (int i = 0; i < (int)NSUFFIXES; i++) {
			if (!has_base[i])
				continue;
			if (b >= 0)
				return two_tars(dir, "base", b, i);
			b = i;
		}
	}
	for (int i = 0; i < (int)NSUFFIXES; i++) {
		if (has_wal[i]) {
			nwal++;
			if (w < 0 || i == b)
				w = i;
		}
	}
	if (nwal > 1 && w != b) {
		int other = w;

		for (int i = 0; i < (int)NSUFFIXES; i++)
			if (has_wal[i] && i != w)
				other = i;
		return two_tars(dir, "pg_wal", w < other ? w : other,
				w < other ? other : w);
	}
	if (b >= 0)
		snprintf(base, NAME_MAX + 1, "base%s", tar_suffixes[b]);
	if (w >= 0)
		snprintf(wal, NAME_MAX + 1, "pg_wal%s", tar_suffixes[w]);
	return 0;
}

/* Scan the base tar (and pg_wal tar), then the manifest file MANIFEST if any. */
static int scan_tars(struct base_backup *b, struct found *f,
		     const char *manifest_dir)
{
	int r;

	if (manifest_dir != NULL) {
		int dfd = open(manifest_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (dfd < 0) {
			dbops_log_error("could not open directory \"%s\": %s",
					manifest_dir, strerror(errno));
			return -1;
		}
		r = read_small(dfd, manifest_dir, "backup_manifest",
			       MANIFEST_MAX, &f->manifest, &f->manifest_len);
		close(dfd);
		if (r < 0)
			return -1;
		f->has_manifest = r == 0;
		member(f->manifest_name, sizeof(f->manifest_name), false,
		       manifest_dir, "backup_manifest");
	}
	r = scan_tar(b->base_tar, false, !f->has_manifest, f,
		     b->kind == BACKUP_TAR_FILE && !looks_like_tar(b->path));
	if (r == 1) {
		not_a_backup(b->path);
		return -1;
	}
	if (r != 0)
		return -1;
	if (b->wal_tar[0] != '\0' &&
	    scan_tar(b->wal_tar, true, false, f, false) != 0)
		return -1;
	return 0;
}

static int open_directory(struct base_backup *b)
{
	struct found f = { 0 };
	char base[NAME_MAX + 1], wal[NAME_MAX + 1];
	int dfd, rc = -1;

	dfd = open(b->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		dbops_log_error("could not open directory \"%s\": %s", b->path,
				strerror(errno));
		return -1;
	}
	if (faccessat(dfd, "backup_label", F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		b->kind = BACKUP_DIR;
		if (scan_dir(dfd, b->path, &f) == 0)
			rc = check_found(b, &f, b->path, false);
		goto out;
	}
	if (find_tars(b->path, NULL, base, wal) != 0)
		goto out;
	if (base[0] == '\0') {
		if (faccessat(dfd, "PG_VERSION", F_OK, 0) == 0 ||
		    faccessat(dfd, "global/pg_control", F_OK, 0) == 0)
			no_backup_label(b->path);
		else
			not_a_backup(b->path);
		goto out;
	}
	b->kind = BACKUP_TAR_DIR;
	if (join(b->base_tar, sizeof(b->base_tar), b->path, base) != 0 ||
	    (wal[0] != '\0' &&
	     join(b->wal_tar, sizeof(b->wal_tar), b->path, wal) != 0)) {
		dbops_log_error("\"%s\": path too long", b->path);
		goto out;
	}
	if (scan_tars(b, &f, b->path) == 0)
		rc = check_found(b, &f, b->base_tar, true);
out:
	found_free(&f);
	close(dfd);
	return rc;
}

static int open_tar_file(struct base_backup *b)
{
	struct found f = { 0 };
	char dir[PATH_MAX], base[NAME_MAX + 1], wal[NAME_MAX + 1];
	const char *slash = strrchr(b->path, '/');
	const char *name = slash ? slash + 1 : b->path;
	bool layout2 = tar_suffix(name, "base", 4) >= 0;
	int rc = -1;

	b->kind = BACKUP_TAR_FILE;
	snprintf(b->base_tar, sizeof(b->base_tar), "%s", b->path);
	if (layout2) {
		/* base.tar* of pg_basebackup -Ft: its pg_wal tar and manifest */
		if (slash == NULL)
			snprintf(dir, sizeof(dir), ".");
		else if (slash == b->path)
			snprintf(dir, sizeof(dir), "/");
		else
			snprintf(dir, sizeof(dir), "%.*s",
				 (int)(slash - b->path), b->path);
		if (find_tars(dir, name, base, wal) != 0)
			return -1;
		if (wal[0] != '\0' &&
		    join(b->wal_tar, sizeof(b->wal_tar), dir, wal) != 0) {
			dbops_log_error("\"%s\": path too long", dir);
			return -1;
		}
	}
	if (scan_tars(b, &f, layout2 ? dir : NULL) == 0)
		rc = check_found(b, &f, b->base_tar, true);
	found_free(&f);
	return rc;
}

int backup_open(const char *path, struct base_backup *b)
{
	struct stat st;

	memset(b, 0, sizeof(*b));
	if (strlen(path) >= sizeof(b->path) - NAME_MAX - 2) {
		dbops_log_error("\"%s\": path too long", path);
		return -1;
	}
	snprintf(b->path, sizeof(b->path), "%s", path);
	if (stat(path, &st) != 0) {
		dbops_log_error("could not access \"%s\": %s", path,
				strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode))
		return open_directory(b);
	if (S_ISREG(st.st_mode))
		return open_tar_file(b);
	not_a_backup(path);
	return -1;
}

/* ---- backup_extract ----------------------------------------------------- */

/* Where files go: the data directory, and the directory last written to. */
struct writer {
	const char *datadir;
	int root;
	bool chown;		/* give everything to uid:gid */
	uid_t uid;
	gid_t gid;
	char dir[PATH_MAX];	/* relative path of dirfd; "" for root */
	int dirfd;		/* == root, or an fd of ours */
	char *buf;		/* IO_BLOCK bytes for read/write copies */
	dev_t root_dev;
	ino_t root_ino;
};

static const char *out_path(const struct writer *w, const char *rel,
			    char *buf, size_t len)
{
	if (rel[0] == '\0' || join(buf, len, w->datadir, rel) != 0)
		snprintf(buf, len, "%s", w->datadir);
	return buf;
}

static int owner_failed(const struct writer *w, const char *rel)
{
	char path[NAME_LEN];

	dbops_log_error("could not change the owner of \"%s\": %s",
			out_path(w, rel, path, sizeof(path)), strerror(errno));
	return -1;
}

/* Give the open file FD (REL in the data directory) to the owner, if any. */
static int give_fd(const struct writer *w, int fd, const char *rel)
{
	if (w->chown && fchown(fd, w->uid, w->gid) != 0)
		return owner_failed(w, rel);
	return 0;
}

/* Give NAME of DIRFD, not following a symbolic link, to the owner if any. */
static int give_at(const struct writer *w, int dirfd, const char *name,
		   const char *rel)
{
	if (w->chown &&
	    fchownat(dirfd, name, w->uid, w->gid, AT_SYMLINK_NOFOLLOW) != 0)
		return owner_failed(w, rel);
	return 0;
}

/*
 * Make the directory NAME in DIRFD (REL: its path in the data directory),
 * 0700 and ours; one that exists already must be a directory.
 */
static int make_dir_at(const struct writer *w, int dirfd, const char *name,
		       const char *rel)
{
	char path[NAME_LEN];
	struct stat st;

	if (mkdirat(dirfd, name, 0700) == 0)
		return give_at(w, dirfd, name, rel);
	if (errno == EEXIST && fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(st.st_mode))
		return 0;
	dbops_log_error("could not create directory \"%s\": %s",
			out_path(w, rel, path, sizeof(path)),
			errno == EEXIST ? "a file of that name exists" :
					  strerror(errno));
	return -1;
}

/*
 * An fd for the directory REL of the data directory, made (0700) with the
 * directories leading to it if need be, reached without following a
 * symbolic link (design note 3). Returns -1 after an error message.
 */
static int dir_fd(struct writer *w, const char *rel)
{
	char sub[PATH_MAX], path[NAME_LEN];
	const char *p = rel;
	int fd = w->root;

	if (strcmp(rel, w->dir) == 0)
		return w->dirfd;
	if (w->dirfd != w->root)
		close(w->dirfd);
	w->dirfd = w->root;
	w->dir[0] = '\0';
	while (*p != '\0') {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		char name[NAME_MAX + 1];
		int next;

		if (len > NAME_MAX)
			len = NAME_MAX;
		memcpy(name, p, len);
		name[len] = '\0';
		snprintf(sub, sizeof(sub), "%.*s", (int)(p - rel + (ptrdiff_t)len),
			 rel);
		next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
						O_CLOEXEC);
		if (next < 0 && errno == ENOENT) {
			if (make_dir_at(w, fd, name, sub) != 0)
				goto fail;
			next = openat(fd, name, O_RDONLY | O_DIRECTORY |
							O_NOFOLLOW | O_CLOEXEC);
		}
		if (next < 0) {
			dbops_log_error("could not open directory \"%s\": %s",
					out_path(w, sub, path, sizeof(path)),
					errno == ELOOP || errno == ENOTDIR ?
						"a symbolic link or a file is in the way" :
						strerror(errno));
			goto fail;
		}
		if (fd != w->root)
			close(fd);
		fd = next;
		p += slash ? (size_t)(slash - p) + 1 : strlen(p);
	}
	snprintf(w->dir, sizeof(w->dir), "%s", rel);
	w->dirfd = fd;
	return fd;
fail:
	if (fd != w->root)
		close(fd);
	return -1;
}

/* Split REL into its directory (into DIR) and its last component. */
static const char *split(const char *rel, char *dir, size_t len)
{
	const char *slash = strrchr(rel, '/');

	if (slash == NULL) {
		dir[0] = '\0';
		return rel;
	}
	snprintf(dir, len, "%.*s", (int)(slash - rel), rel);
	return slash + 1;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static bool cfr_unsupported(int err)
{
	return err == EXDEV || err == EINVAL || err == ENOSYS ||
	       err == EOPNOTSUPP || err == EBADF || err == EPERM;
}

/*
 * Copy LEN bytes from IN at *OFF (or its position when OFF is NULL) to OUT
 * with copy_file_range(2). Returns the bytes copied (short at the end of
 * IN), or -1 with errno; -2 when the kernel or file systems cannot, and
 * nothing was copied.
 */
static int64_t copy_range(int in, off_t *off, int out, uint64_t len)
{
	uint64_t done = 0;

	while (done < len) {
		uint64_t want = len - done;
		ssize_t n = copy_file_range(in, off, out, NULL,
					    want > (1u << 30) ? (1u << 30) :
								(size_t)want,
					    0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return done == 0 && cfr_unsupported(errno) ? -2 : -1;
		if (n == 0)
			break;
		done += (uint64_t)n;
	}
	return (int64_t)done;
}

/* Write the current entry of T, a file, to REL. */
static int extract_file(struct writer *w, struct tar *t, const char *rel)
{
	struct archive_entry *e = t->e;
	int64_t size = archive_entry_size(e);
	char dir[PATH_MAX], path[NAME_LEN];
	const char *name = split(rel, dir, sizeof(dir));
	int dfd = dir_fd(w, dir), fd;
	int64_t pos = 0;
	bool done = false;

	if (dfd < 0)
		return -1;
	fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
				       O_CLOEXEC, 0600);
	if (fd < 0) {
		dbops_log_error("could not create file \"%s\": %s",
				out_path(w, rel, path, sizeof(path)),
				errno == ELOOP ? "a symbolic link is in the way" :
						 strerror(errno));
		return -1;
	}
	if (give_fd(w, fd, rel) != 0)
		goto fail;
	/* Design note 4. */
	if (!t->compressed && size >= CFR_MIN &&
	    archive_entry_sparse_count(e) == 0) {
		off_t off = (off_t)archive_filter_bytes(t->a, 0);
		int64_t n = copy_range(t->fd, &off, fd, (uint64_t)size);

		if (n == -1) {
			dbops_log_error("could not copy \"%s\" from \"%s\": %s",
					out_path(w, rel, path, sizeof(path)),
					t->path, strerror(errno));
			goto fail;
		}
		if (n >= 0) {
			if (tar_skip(t) != 0)
				goto fail;
			if (n < size) {
				dbops_log_error("\"%s\": incomplete or damaged tar: unexpected end of file (reading \"%s\")",
						t->path, t->name);
				goto fail;
			}
			pos = size;
			done = true;
		}
	}
	while (!done) {
		const void *block;
		size_t n;
		la_int64_t off;
		int r = archive_read_data_block(t->a, &block, &n, &off);

		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			tar_damaged(t, t->a);
			goto fail;
		}
		if (n == 0)
			continue;
		if (off != pos ? pwrite(fd, block, n, off) != (ssize_t)n :
				 write_all(fd, block, n) != 0) {
			dbops_log_error("could not write file \"%s\": %s",
					out_path(w, rel, path, sizeof(path)),
					strerror(errno));
			goto fail;
		}
		if (off != pos && lseek(fd, off + (off_t)n, SEEK_SET) < 0)
			goto write_error;
		pos = off + (int64_t)n;
	}
	if (!done)
		tar_entry_done(t);
	if (pos < size && ftruncate(fd, (off_t)size) != 0)
		goto write_error;
	if (archive_entry_mtime_is_set(e)) {
		struct timespec ts[2] = {
			{ 0, UTIME_OMIT },
			{ archive_entry_mtime(e), archive_entry_mtime_nsec(e) },
		};

		futimens(fd, ts);
	}
	if (close(fd) != 0) {
		fd = -1;
		goto write_error;
	}
	return 0;
write_error:
	dbops_log_error("could not write file \"%s\": %s",
			out_path(w, rel, path, sizeof(path)), strerror(errno));
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

static int extract_symlink(struct writer *w, const char *rel,
			   const char *target)
{
	char dir[PATH_MAX], path[NAME_LEN];
	const char *name = split(rel, dir, sizeof(dir));
	int dfd = dir_fd(w, dir);

	if (dfd < 0)
		return -1;
	if (symlinkat(target, dfd, name) != 0) {
		dbops_log_error("could not create symbolic link \"%s\": %s",
				out_path(w, rel, path, sizeof(path)),
				strerror(errno));
		return -1;
	}
	return give_at(w, dfd, name, rel);
}

static int extract_dir(struct writer *w, const char *rel)
{
	char dir[PATH_MAX];
	const char *name = split(rel, dir, sizeof(dir));
	int dfd = dir_fd(w, dir);

	if (dfd < 0)
		return -1;
	return make_dir_at(w, dfd, name, rel);
}

/* Extract the tar PATH into the data directory, below PREFIX ("" or "pg_wal"). */
static int extract_tar(struct writer *w, const char *path, const char *prefix)
{
	struct tar t;
	char name[PATH_MAX], rel[PATH_MAX];
	int r;

	if (tar_open(&t, path) != 0) {
		if (t.unrecognized)
			dbops_log_error("\"%s\": incomplete or damaged tar: not a tar archive",
					path);
		return -1;
	}
	if (prefix[0] != '\0' && extract_dir(w, prefix) != 0)
		goto fail;
	while ((r = tar_next(&t)) == 1) {
		const char *stored = entry_name(t.e);
		int n = normalise(stored, name, sizeof(name));
		mode_t type = archive_entry_filetype(t.e);

		if (n < 0) {
			bad_entry(path, stored, n);
			goto fail;
		}
		snprintf(t.name, sizeof(t.name), "%s", n == 1 ? "." : name);
		if (snprintf(rel, sizeof(rel), "%s%s%s", prefix,
			     prefix[0] && n == 0 ? "/" : "",
			     n == 1 ? "" : name) >= (int)sizeof(rel)) {
			dbops_log_error("\"%s\": entry \"%s\": name too long",
					path, t.name);
			goto fail;
		}
		if (archive_entry_hardlink(t.e) != NULL ||
		    (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK)) {
			dbops_log_error("\"%s\": entry \"%s\": neither a file, a directory nor a symbolic link",
					path, t.name);
			goto fail;
		}
		if (rel[0] == '\0') {
			/* the top directory: DATADIR itself */
		} else if (type == AE_IFREG) {
			if (extract_file(w, &t, rel) != 0)
				goto fail;
			continue;
		} else if (type == AE_IFDIR ||
			   strcmp(rel, "pg_wal") == 0) {
			/* a symbolic link pg_wal is made a directory */
			if (extract_dir(w, rel) != 0)
				goto fail;
		} else {
			const char *target = archive_entry_symlink(t.e);

			if (target == NULL)
				target = archive_entry_symlink_utf8(t.e);
			if (target == NULL || target[0] == '\0') {
				dbops_log_error("\"%s\": entry \"%s\": a symbolic link without a target",
						path, t.name);
				goto fail;
			}
			if (extract_symlink(w, rel, target) != 0)
				goto fail;
		}
		if (tar_skip(&t) != 0)
			goto fail;
	}
	if (r < 0)
		goto fail;
	tar_close(&t);
	return 0;
fail:
	tar_close(&t);
	return -1;
}

/* The path of REL in the backup directory ROOT, for messages. */
static const char *src_path(char *buf, size_t len, const char *root,
			    const char *rel)
{
	if (rel[0] == '\0' || join(buf, len, root, rel) != 0)
		snprintf(buf, len, "%s", root);
	return buf;
}

/* Copy the regular file NAME of SDIR to DDIR; REL names it in both trees. */
static int copy_file(struct writer *w, int sdir, int ddir, const char *name,
		     const char *src_root, const char *rel)
{
	char spath[NAME_LEN], dpath[NAME_LEN];
	struct stat st;
	int in, out;
	int64_t n;

	src_path(spath, sizeof(spath), src_root, rel);
	in = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0 || fstat(in, &st) != 0) {
		dbops_log_error("could not open file \"%s\": %s", spath,
				strerror(errno));
		if (in >= 0)
			close(in);
		return -1;
	}
	out = openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
					 O_CLOEXEC, 0600);
	if (out < 0) {
		dbops_log_error("could not create file \"%s\": %s",
				out_path(w, rel, dpath, sizeof(dpath)),
				strerror(errno));
		close(in);
		return -1;
	}
	if (give_fd(w, out, rel) != 0)
		goto fail;
	n = st.st_size > 0 ? copy_range(in, NULL, out, (uint64_t)st.st_size) : 0;
	if (n == -1) {
		dbops_log_error("could not copy \"%s\" to \"%s\": %s", spath,
				out_path(w, rel, dpath, sizeof(dpath)),
				strerror(errno));
		goto fail;
	}
	/* Unsupported, or a file (of /proc, say) that says it is empty. */
	if (n == -2 || (n == 0 && st.st_size > 0)) {
		for (;;) {
			ssize_t got = read(in, w->buf, IO_BLOCK);

			if (got < 0 && errno == EINTR)
				continue;
			if (got < 0) {
				dbops_log_error("could not read file \"%s\": %s",
						spath, strerror(errno));
				goto fail;
			}
			if (got == 0)
				break;
			if (write_all(out, w->buf, (size_t)got) != 0) {
				dbops_log_error("could not write file \"%s\": %s",
						out_path(w, rel, dpath,
							 sizeof(dpath)),
						strerror(errno));
				goto fail;
			}
		}
	}
	futimens(out, (struct timespec[]){ { 0, UTIME_OMIT }, st.st_mtim });
	close(in);
	if (close(out) != 0) {
		dbops_log_error("could not write file \"%s\": %s",
				out_path(w, rel, dpath, sizeof(dpath)),
				strerror(errno));
		return -1;
	}
	return 0;
fail:
	close(in);
	close(out);
	return -1;
}

/*
 * Copy the contents of the directory SDIR (REL in the backup, "" at the
 * top) into DDIR. Takes SDIR and DDIR and closes them.
 */
static int copy_tree(struct writer *w, int sdir, int ddir, const char *src_root,
		     const char *rel)
{
	char sub[PATH_MAX], spath[NAME_LEN];
	struct dirent *de;
	struct stat st;
	DIR *d;
	int rc = -1;

	src_path(spath, sizeof(spath), src_root, rel);
	if (fstat(sdir, &st) == 0 && st.st_dev == w->root_dev &&
	    st.st_ino == w->root_ino) {
		dbops_log_error("\"%s\": the data directory is inside the backup",
				w->datadir);
		close(sdir);
		close(ddir);
		return -1;
	}
	d = fdopendir(sdir);
	if (d == NULL) {
		dbops_log_error("could not read directory \"%s\": %s", spath,
				strerror(errno));
		close(sdir);
		close(ddir);
		return -1;
	}
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		const char *name = de->d_name;

		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		if (snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "",
			     name) >= (int)sizeof(sub)) {
			dbops_log_error("\"%s/%s\": path too long", spath, name);
			goto out;
		}
		if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			src_path(spath, sizeof(spath), src_root, sub);
			dbops_log_error("could not stat \"%s\": %s", spath,
					strerror(errno));
			goto out;
		}
		/* A symbolic link pg_wal is copied as the directory it names. */
		if (S_ISLNK(st.st_mode) && strcmp(sub, "pg_wal") == 0 &&
		    fstatat(dirfd(d), name, &st, 0) != 0) {
			src_path(spath, sizeof(spath), src_root, sub);
			dbops_log_error("could not follow \"%s\": %s", spath,
					strerror(errno));
			goto out;
		}
		if (S_ISREG(st.st_mode)) {
			if (copy_file(w, dirfd(d), ddir, name, src_root, sub) != 0)
				goto out;
		} else if (S_ISDIR(st.st_mode)) {
			int s, t;

			if (make_dir_at(w, ddir, name, sub) != 0)
				goto out;
			s = openat(dirfd(d), name,
				   O_RDONLY | O_DIRECTORY | O_CLOEXEC |
					   (strcmp(sub, "pg_wal") == 0 ? 0 :
									 O_NOFOLLOW));
			if (s < 0) {
				src_path(spath, sizeof(spath), src_root, sub);
				dbops_log_error("could not open directory \"%s\": %s",
						spath, strerror(errno));
				goto out;
			}
			t = openat(ddir, name, O_RDONLY | O_DIRECTORY |
						       O_NOFOLLOW | O_CLOEXEC);
			if (t < 0) {
				dbops_log_error("could not open directory \"%s\": %s",
						out_path(w, sub, spath,
							 sizeof(spath)),
						strerror(errno));
				close(s);
				goto out;
			}
			if (copy_tree(w, s, t, src_root, sub) != 0)
				goto out;
		} else if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX];
			ssize_t n = readlinkat(dirfd(d), name, target,
					       sizeof(target) - 1);

			if (n < 0) {
				src_path(spath, sizeof(spath), src_root, sub);
				dbops_log_error("could not read symbolic link \"%s\": %s",
						spath, strerror(errno));
				goto out;
			}
			target[n] = '\0';
			if (symlinkat(target, ddir, name) != 0) {
				dbops_log_error("could not create symbolic link \"%s\": %s",
						out_path(w, sub, spath,
							 sizeof(spath)),
						strerror(errno));
				goto out;
			}
			if (give_at(w, ddir, name, sub) != 0)
				goto out;
		} else {
			src_path(spath, sizeof(spath), src_root, sub);
			dbops_log_error("\"%s\": neither a file, a directory nor a symbolic link",
					spath);
			goto out;
		}
		errno = 0;
	}
	if (errno != 0) {
		dbops_log_error("could not read directory \"%s\": %s", spath,
				strerror(errno));
		goto out;
	}
	rc = 0;
out:
	closedir(d);
	close(ddir);
	return rc;
}

static int check_empty(const struct writer *w)
{
	int fd = openat(w->root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *de;
	DIR *d;

	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		dbops_log_error("could not read directory \"%s\": %s",
				w->datadir, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0) {
			dbops_log_error("\"%s\": the data directory is not empty",
					w->datadir);
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	return 0;
}

int backup_extract(const struct base_backup *b, const char *datadir,
		   const struct dbops_user *owner)
{
	struct writer w = { 0 };
	struct stat st;
	int rc = -1;

	w.datadir = datadir;
	w.root = open(datadir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w.root < 0) {
		dbops_log_error("could not open directory \"%s\": %s", datadir,
				strerror(errno));
		return -1;
	}
	w.dirfd = w.root;
	if (owner != NULL && geteuid() == 0) {
		w.chown = true;
		w.uid = owner->uid;
		w.gid = owner->gid;
	}
	if (fstat(w.root, &st) != 0 || check_empty(&w) != 0)
		goto out;
	w.root_dev = st.st_dev;
	w.root_ino = st.st_ino;
	if (fchmod(w.root, 0700) != 0 || dbops_user_chown(owner, datadir) != 0) {
		dbops_log_error("could not set the mode and owner of \"%s\": %s",
				datadir, strerror(errno));
		goto out;
	}
	w.buf = malloc(IO_BLOCK);
	if (w.buf == NULL) {
		dbops_log_error("out of memory");
		goto out;
	}
	if (b->kind == BACKUP_DIR) {
		int s = open(b->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		int d = dup(w.root);

		if (s < 0 || d < 0) {
			dbops_log_error("could not open directory \"%s\": %s",
					s < 0 ? b->path : datadir,
					strerror(errno));
			if (s >= 0)
				close(s);
			if (d >= 0)
				close(d);
			goto out;
		}
		if (copy_tree(&w, s, d, b->path, "") != 0)
			goto out;
	} else {
		if (extract_tar(&w, b->base_tar, "") != 0)
			goto out;
		if (b->wal_tar[0] != '\0' &&
		    extract_tar(&w, b->wal_tar, "pg_wal") != 0)
			goto out;
	}
	if (syncfs(w.root) != 0) {
		dbops_log_error("could not sync \"%s\": %s", datadir,
				strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(w.buf);
	if (w.dirfd != w.root)
		close(w.dirfd);
	close(w.root);
	return rc;
}
