/*
 * manifest.c - backup_manifest read with a JSON scanner of its own, enough
 * to validate the manifest as a whole and walk it for the few fields
 * pitr_backup_open() checks. Apart from backup.c because it knows JSON and
 * nothing of directories or tars. See manifest.h.
 */
#include "manifest.h"

#include <ctype.h>
#include <inttypes.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup_util.h"
#include "hex.h"
#include "xalloc.h"

/* A small JSON scanner: enough to validate and walk a manifest. */
struct json {
	const char *s, *p, *end;
	int depth;
	struct dbops_err *err;
};

#define JSON_MAX_DEPTH 64

__attribute__((format(printf, 2, 3))) static int json_fail(struct json *j,
							   const char *fmt, ...)
{
	unsigned line = 1;
	va_list ap;

	for (const char *c = j->s; c < j->p; c++)
		line += *c == '\n';
	va_start(ap, fmt);
	dbops_err_setv(j->err, fmt, ap);
	va_end(ap);
	return dbops_err_prefix(j->err, "line %u: ", line);
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
						return json_fail(
							j,
							"bad \\u escape in a string");
				j->p += 4;
			} else if (*j->p == '\0' ||
				   strchr("\"\\/bfnrt", *j->p) == NULL) {
				/* strchr() finds the NUL: "\<NUL>" is no escape. */
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
		if (json_expect(j, close,
				close == '}' ? "',' or '}'" : "',' or ']'") !=
		    0)
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
		return json_fail(j,
				 "expected a value, found the end of the file");
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
		for (const char *const *w =
			     (const char *const[]){ "true", "false", "null",
						    NULL };
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
		return json_fail(
			j, "\"%s\": expected an integer from 0 to %" PRIu64,
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
	if (esc || pitr_backup_parse_lsn(s, s + len, lsn) != 0)
		return json_fail(
			j, "\"%s\": expected an LSN \"X/Y\", found \"%.*s\"",
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
				 !have_tli     ? "\"Timeline\""
				 : !have_start ? "\"Start-LSN\""
					       : "\"End-LSN\"");
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

int pitr_parse_manifest(const char *text, size_t len, struct manifest *m,
			struct dbops_err *err)
{
	struct json j = { text, text, text + len, 0, err };
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
		return dbops_err_set(
			err,
			"not a backup manifest: no \"PostgreSQL-Backup-Manifest-Version\"");
	if (m->version != 1 && m->version != 2)
		return dbops_err_set(err, "unsupported manifest version %d",
				     m->version);
	return 0;
}

/*
 * The files of the manifest: pitr_manifest_files() and its helpers below,
 * on the same scanner.
 */

static const struct {
	const char *name;
	enum pitr_checksum_kind kind;
	size_t len;
} checksum_kinds[] = {
	{ "NONE", PITR_CHECKSUM_NONE, 0 },
	{ "CRC32C", PITR_CHECKSUM_CRC32C, 4 },
	{ "SHA224", PITR_CHECKSUM_SHA224, 28 },
	{ "SHA256", PITR_CHECKSUM_SHA256, 32 },
	{ "SHA384", PITR_CHECKSUM_SHA384, 48 },
	{ "SHA512", PITR_CHECKSUM_SHA512, 64 },
};
#define NCHECKSUM_KINDS (sizeof(checksum_kinds) / sizeof(checksum_kinds[0]))

const char *pitr_checksum_name(enum pitr_checksum_kind kind)
{
	for (size_t i = 0; i < NCHECKSUM_KINDS; i++)
		if (checksum_kinds[i].kind == kind)
			return checksum_kinds[i].name;
	return "?";
}

/* LEN hex digits at S into LEN / 2 bytes at OUT: 0, or -1 if not hex. */
static int hex_decode(const char *s, size_t len, unsigned char *out)
{
	if (len % 2 != 0)
		return -1;
	for (size_t i = 0; i < len; i += 2) {
		int hi = dbops_hex_digit((unsigned char)s[i]),
		    lo = dbops_hex_digit((unsigned char)s[i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i / 2] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

static void put_utf8(char **o, uint32_t cp)
{
	unsigned char *p = (unsigned char *)*o;

	if (cp < 0x80) {
		*p++ = (unsigned char)cp;
	} else if (cp < 0x800) {
		*p++ = (unsigned char)(0xC0 | cp >> 6);
		*p++ = (unsigned char)(0x80 | (cp & 0x3F));
	} else if (cp < 0x10000) {
		*p++ = (unsigned char)(0xE0 | cp >> 12);
		*p++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		*p++ = (unsigned char)(0x80 | (cp & 0x3F));
	} else {
		*p++ = (unsigned char)(0xF0 | cp >> 18);
		*p++ = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
		*p++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		*p++ = (unsigned char)(0x80 | (cp & 0x3F));
	}
	*o = (char *)p;
}

/* Four hex digits at S (which has at least 4 bytes before END). */
static int hex4(const char *s, const char *end, uint32_t *v)
{
	*v = 0;
	if (end - s < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		int d = dbops_hex_digit((unsigned char)s[i]);

		if (d < 0)
			return -1;
		*v = *v << 4 | (uint32_t)d;
	}
	return 0;
}

/*
 * The JSON string of LEN raw bytes at S (between its quotes) decoded into
 * a new NUL-terminated string, or NULL when an escape is bad, a surrogate
 * unpaired, or it holds a NUL (no file name does).
 */
static char *json_decode(const char *s, size_t len)
{
	const char *end = s + len;
	char *buf = dbops_xmalloc(len + 1), *o = buf;

	while (s < end) {
		uint32_t cp, lo;

		if (*s != '\\') {
			if (*s == '\0')
				goto bad;
			*o++ = *s++;
			continue;
		}
		if (++s >= end)
			goto bad;
		switch (*s) {
		case 'b':
			*o++ = '\b';
			break;
		case 'f':
			*o++ = '\f';
			break;
		case 'n':
			*o++ = '\n';
			break;
		case 'r':
			*o++ = '\r';
			break;
		case 't':
			*o++ = '\t';
			break;
		case '"':
		case '\\':
		case '/':
			*o++ = *s;
			break;
		case 'u':
			if (hex4(s + 1, end, &cp) != 0 || cp == 0 ||
			    (cp >= 0xDC00 && cp <= 0xDFFF))
				goto bad;
			s += 4;
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				if (end - s < 7 || s[1] != '\\' ||
				    s[2] != 'u' || hex4(s + 3, end, &lo) != 0 ||
				    lo < 0xDC00 || lo > 0xDFFF)
					goto bad;
				cp = 0x10000 + ((cp - 0xD800) << 10) +
				     (lo - 0xDC00);
				s += 6;
			}
			/* Each escape of 6 bytes or more gives 4 bytes at most. */
			put_utf8(&o, cp);
			break;
		default:
			goto bad;
		}
		s++;
	}
	*o = '\0';
	return buf;
bad:
	free(buf);
	return NULL;
}

/* A string value of KEY into *s, *len (raw) and *esc. */
static int json_string_value(struct json *j, const char *key, const char **s,
			     size_t *len, bool *esc)
{
	json_ws(j);
	if (j->p >= j->end || *j->p != '"')
		return json_fail(j, "\"%s\": expected a string", key);
	return json_string(j, s, len, esc);
}

/* What one object of "Files" holds, before it is checked. */
struct file_fields {
	struct manifest_file f;
	const char *sum;
	size_t sumlen;
	bool have_size, have_algo, have_sum;
};

static int file_path(struct json *j, struct file_fields *ff, bool encoded)
{
	const char *s;
	size_t len;
	bool esc;

	if (json_string_value(j, encoded ? "Encoded-Path" : "Path", &s, &len,
			      &esc) != 0)
		return -1;
	if (ff->f.path != NULL)
		return json_fail(
			j, "a file with both \"Path\" and \"Encoded-Path\"");
	if (!encoded) {
		ff->f.path = json_decode(s, len);
		if (ff->f.path == NULL)
			return json_fail(
				j, "\"Path\": a bad escape or a NUL byte");
	} else {
		ff->f.path = dbops_xmalloc(len / 2 + 1);
		if (esc ||
		    hex_decode(s, len, (unsigned char *)ff->f.path) != 0 ||
		    memchr(ff->f.path, '\0', len / 2) != NULL)
			return json_fail(
				j,
				"\"Encoded-Path\": expected hex digits of a name");
		ff->f.path[len / 2] = '\0';
	}
	if (ff->f.path[0] == '\0')
		return json_fail(j, "a file with an empty path");
	return 0;
}

static int file_algorithm(struct json *j, struct file_fields *ff)
{
	const char *s;
	size_t len;
	bool esc;

	if (json_string_value(j, "Checksum-Algorithm", &s, &len, &esc) != 0)
		return -1;
	for (size_t i = 0; i < NCHECKSUM_KINDS; i++)
		if (key_is(s, len, checksum_kinds[i].name)) {
			ff->f.kind = checksum_kinds[i].kind;
			ff->f.checksum_len = checksum_kinds[i].len;
			ff->have_algo = true;
			return 0;
		}
	return json_fail(j,
			 "\"Checksum-Algorithm\": unknown algorithm \"%.*s\"",
			 (int)(len > 20 ? 20 : len), s);
}

static int file_field(struct json *j, struct file_fields *ff, const char *k,
		      size_t klen)
{
	bool esc;

	if (key_is(k, klen, "Path") || key_is(k, klen, "Encoded-Path"))
		return file_path(j, ff, key_is(k, klen, "Encoded-Path"));
	if (key_is(k, klen, "Size")) {
		ff->have_size = true;
		return json_uint(j, "Size", INT64_MAX, &ff->f.size);
	}
	if (key_is(k, klen, "Checksum-Algorithm"))
		return file_algorithm(j, ff);
	if (key_is(k, klen, "Checksum")) {
		ff->have_sum = true;
		return json_string_value(j, "Checksum", &ff->sum, &ff->sumlen,
					 &esc);
	}
	return json_skip_value(j);
}

static int file_check(struct json *j, struct file_fields *ff)
{
	if (ff->f.path == NULL)
		return json_fail(j, "a file without \"Path\"");
	if (!ff->have_size)
		return json_fail(j, "file \"%s\": no \"Size\"", ff->f.path);
	if (ff->f.kind == PITR_CHECKSUM_NONE) {
		ff->f.checksum_len = 0;
		return 0;
	}
	if (!ff->have_sum)
		return json_fail(
			j,
			"file \"%s\": \"Checksum-Algorithm\" without \"Checksum\"",
			ff->f.path);
	if (ff->sumlen != 2 * ff->f.checksum_len ||
	    hex_decode(ff->sum, ff->sumlen, ff->f.checksum) != 0)
		return json_fail(
			j,
			"file \"%s\": \"Checksum\": expected %zu hex digits for %s, found \"%.*s\"",
			ff->f.path, 2 * ff->f.checksum_len,
			pitr_checksum_name(ff->f.kind),
			(int)(ff->sumlen > 130 ? 130 : ff->sumlen), ff->sum);
	return 0;
}

/* One object of "Files", appended to OUT. */
static int json_file(struct json *j, struct manifest_files *out, size_t *cap)
{
	struct file_fields ff = { 0 };
	const char *k;
	size_t klen;
	bool esc;

	if (json_expect(j, '{', "a file object '{'") != 0)
		return -1;
	json_ws(j);
	if (j->p < j->end && *j->p == '}')
		j->p++;
	else
		for (;;) {
			if (json_string(j, &k, &klen, &esc) != 0 ||
			    json_expect(j, ':', "':'") != 0 ||
			    file_field(j, &ff, k, klen) != 0)
				goto fail;
			json_ws(j);
			if (j->p < j->end && *j->p == ',') {
				j->p++;
				continue;
			}
			if (json_expect(j, '}', "',' or '}'") != 0)
				goto fail;
			break;
		}
	if (file_check(j, &ff) != 0)
		goto fail;
	if (out->n == *cap) {
		*cap = *cap ? 2 * *cap : 64;
		out->v = dbops_xreallocarray(out->v, *cap, sizeof(*out->v));
	}
	out->v[out->n++] = ff.f;
	return 0;
fail:
	free(ff.f.path);
	return -1;
}

static int json_files(struct json *j, struct manifest_files *out)
{
	size_t cap = 0;

	if (json_expect(j, '[', "an array '['") != 0)
		return -1;
	json_ws(j);
	if (j->p < j->end && *j->p == ']') {
		j->p++;
		return 0;
	}
	for (;;) {
		if (json_file(j, out, &cap) != 0)
			return -1;
		json_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		return json_expect(j, ']', "',' or ']'");
	}
}

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct manifest_file *)a)->path,
		      ((const struct manifest_file *)b)->path);
}

/*
 * "Manifest-Checksum" (64 hex digits at SUM) against the SHA-256 of the
 * text up to and including its next-to-last newline.
 */
static int check_manifest_checksum(const char *text, size_t len,
				   const char *sum, size_t sumlen,
				   struct dbops_err *err)
{
	unsigned char want[32], got[32];
	size_t last = len, before = len;

	for (size_t i = 0; i < len; i++)
		if (text[i] == '\n')
			before = last, last = i;
	if (before == len)
		return dbops_err_set(
			err,
			"the manifest's checksum cannot be checked: fewer than two lines");
	if (sumlen != 64 || hex_decode(sum, sumlen, want) != 0)
		return dbops_err_set(
			err,
			"\"Manifest-Checksum\": expected 64 hex digits (SHA-256), found \"%.*s\"",
			(int)(sumlen > 80 ? 80 : sumlen), sum);
	if (SHA256((const unsigned char *)text, before + 1, got) == NULL)
		return dbops_err_set(err,
				     "could not compute a SHA-256 checksum");
	if (memcmp(want, got, sizeof(got)) != 0)
		return dbops_err_set(
			err,
			"the manifest's checksum does not match its contents");
	return 0;
}

/* The top-level object: "Files" into OUT, "Manifest-Checksum" into SUM. */
static int json_manifest_files(struct json *j, struct manifest_files *out,
			       const char **sum, size_t *sumlen)
{
	const char *k;
	size_t klen;
	bool esc, files_seen = false;

	if (json_expect(j, '{', "a JSON object '{'") != 0)
		return -1;
	json_ws(j);
	if (j->p < j->end && *j->p == '}')
		return 0;
	for (;;) {
		if (json_string(j, &k, &klen, &esc) != 0 ||
		    json_expect(j, ':', "':'") != 0)
			return -1;
		if (key_is(k, klen, "Files")) {
			/* Twice would append to an array of unknown room. */
			if (files_seen)
				return json_fail(j, "a second \"Files\" key");
			files_seen = true;
			if (json_files(j, out) != 0)
				return -1;
		} else if (key_is(k, klen, "Manifest-Checksum")) {
			if (json_string_value(j, "Manifest-Checksum", sum,
					      sumlen, &esc) != 0)
				return -1;
		} else if (json_skip_value(j) != 0) {
			return -1;
		}
		json_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		return json_expect(j, '}', "',' or '}'");
	}
}

int pitr_manifest_files(const char *text, size_t len,
			struct manifest_files *out, struct dbops_err *err)
{
	struct json j = { text, text, text + len, 0, err };
	const char *sum = NULL;
	size_t sumlen = 0;

	memset(out, 0, sizeof(*out));
	if (json_manifest_files(&j, out, &sum, &sumlen) != 0)
		goto fail;
	if (sum == NULL) {
		dbops_err_set(err, "no \"Manifest-Checksum\"");
		goto fail;
	}
	if (check_manifest_checksum(text, len, sum, sumlen, err) != 0)
		goto fail;
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), by_path);
	for (size_t i = 1; i < out->n; i++)
		if (strcmp(out->v[i - 1].path, out->v[i].path) == 0) {
			dbops_err_set(err, "the file \"%s\" is listed twice",
				      out->v[i].path);
			goto fail;
		}
	return 0;
fail:
	pitr_manifest_files_free(out);
	return -1;
}

struct manifest_file *pitr_manifest_file_find(const struct manifest_files *f,
					      const char *path)
{
	struct manifest_file key = { .path = (char *)path };

	if (f->n == 0)
		return NULL;
	return bsearch(&key, f->v, f->n, sizeof(*f->v), by_path);
}

void pitr_manifest_files_free(struct manifest_files *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->v[i].path);
	free(f->v);
	memset(f, 0, sizeof(*f));
}
