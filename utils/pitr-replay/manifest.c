/*
 * manifest.c - backup_manifest read with a JSON scanner of its own, enough
 * to validate the manifest as a whole and walk it for the few fields
 * pitr_backup_open() checks. Apart from backup.c because it knows JSON and
 * nothing of directories or tars. See manifest.h.
 */
#include "manifest.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "backup_util.h"

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
