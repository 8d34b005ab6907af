/*
 * kvfile.c - escaped key=value state files. See kvfile.h for the format.
 */
#include "kvfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "hex.h"

/* State files are small; a bigger one is not ours. */
#define KV_FILE_MAX (16u << 20)

void dbops_kv_put(FILE *f, const char *key, const char *value)
{
	fputs(key, f);
	putc('=', f);
	for (const unsigned char *p =
		     (const unsigned char *)(value ? value : "");
	     *p; p++) {
		switch (*p) {
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(f, "\\x%02x", *p);
			else
				putc(*p, f);
		}
	}
	putc('\n', f);
}

void dbops_kv_putf(FILE *f, const char *key, const char *fmt, ...)
{
	char *value = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&value, fmt, ap);
	va_end(ap);
	/* Out of memory: an empty value, which the reader takes for one. */
	dbops_kv_put(f, key, n >= 0 ? value : "");
	if (n >= 0)
		free(value);
}

/* Unescape LEN bytes of S into OUT (room for LEN + 1). */
static int unescape(const char *s, size_t len, char *out, struct dbops_err *err)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		int hi, lo;

		if (s[i] != '\\') {
			out[n++] = s[i];
			continue;
		}
		if (++i == len)
			return dbops_err_set(
				err, "a value ends in a lone backslash");
		switch (s[i]) {
		case '\\':
			out[n++] = '\\';
			break;
		case 'n':
			out[n++] = '\n';
			break;
		case 'r':
			out[n++] = '\r';
			break;
		case 't':
			out[n++] = '\t';
			break;
		case 'x':
			hi = i + 1 < len ? dbops_hex_digit(s[i + 1]) : -1;
			lo = i + 2 < len ? dbops_hex_digit(s[i + 2]) : -1;
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return dbops_err_set(
					err,
					"\"\\x\" is not followed by two hex digits of a byte other than 00");
			out[n++] = (char)(hi << 4 | lo);
			i += 2;
			break;
		default:
			return dbops_err_set(err, "unknown escape \"\\%c\"",
					     s[i]);
		}
	}
	out[n] = '\0';
	return 0;
}

static bool key_ok(const char *key, size_t len)
{
	if (len == 0 || len > DBOPS_KV_KEY_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((key[i] >= 'a' && key[i] <= 'z') ||
		      (key[i] >= '0' && key[i] <= '9') || key[i] == '_'))
			return false;
	return true;
}

/* The keys seen so far, to refuse a repeated one. */
struct seen {
	char (*keys)[DBOPS_KV_KEY_MAX + 1];
	size_t count, cap;
};

static int remember(struct seen *s, const char *key, struct dbops_err *err)
{
	for (size_t i = 0; i < s->count; i++)
		if (strcmp(s->keys[i], key) == 0)
			return dbops_err_set(err, "key \"%s\" appears twice",
					     key);
	if (s->count == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		void *grown = realloc(s->keys, cap * sizeof(*s->keys));

		if (grown == NULL)
			return dbops_err_set(err, "out of memory");
		s->keys = grown;
		s->cap = cap;
	}
	snprintf(s->keys[s->count++], sizeof(s->keys[0]), "%s", key);
	return 0;
}

/* One line (without its LF); 0, or -1 with ERR set. */
static int parse_line(const char *line, size_t len, struct seen *seen,
		      char *buf, dbops_kv_fn fn, void *ctx,
		      struct dbops_err *err)
{
	const char *eq = memchr(line, '=', len);
	char key[DBOPS_KV_KEY_MAX + 1];
	size_t klen;

	if (len == 0 || line[0] == '#')
		return 0;
	if (memchr(line, '\0', len) != NULL)
		return dbops_err_set(err, "a NUL byte");
	if (eq == NULL)
		return dbops_err_set(err, "no \"=\" in \"%.*s\"",
				     (int)(len < 40 ? len : 40), line);
	klen = (size_t)(eq - line);
	if (!key_ok(line, klen))
		return dbops_err_set(err, "invalid key \"%.*s\"",
				     (int)(klen < 64 ? klen : 64), line);
	memcpy(key, line, klen);
	key[klen] = '\0';
	if (remember(seen, key, err) != 0 ||
	    unescape(eq + 1, len - klen - 1, buf, err) != 0)
		return -1;
	return fn(ctx, key, buf, err);
}

int dbops_kv_parse(const char *text, size_t len, dbops_kv_fn fn, void *ctx,
		   struct dbops_err *err)
{
	struct seen seen = { NULL, 0, 0 };
	char *buf = malloc(len + 1);
	unsigned line_no = 1;
	int rc = 0;

	if (buf == NULL)
		return dbops_err_set(err, "out of memory");
	for (size_t at = 0; at < len && rc == 0; line_no++) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t n = nl ? (size_t)(nl - (text + at)) : len - at;

		dbops_err_clear(err);
		rc = parse_line(text + at, n, &seen, buf, fn, ctx, err);
		if (rc != 0) {
			if (!dbops_err_isset(err))
				dbops_err_set(err, "rejected");
			dbops_err_prefix(err, "line %u: ", line_no);
		}
		at += n + 1;
	}
	free(seen.keys);
	free(buf);
	return rc == 0 ? 0 : -1;
}

int dbops_kv_read(const char *path, dbops_kv_fn fn, void *ctx,
		  struct dbops_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), saved;
	struct stat st;
	ssize_t got;
	char *text;

	if (fd < 0) {
		saved = errno;
		dbops_err_set(err, "%s", strerror(saved));
		errno = saved;
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		saved = errno;
		close(fd);
		dbops_err_set(err, "%s", strerror(saved));
		errno = saved;
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > KV_FILE_MAX) {
		close(fd);
		errno = EINVAL;
		return dbops_err_set(
			err,
			"not a state file: not a regular file, or over 16 MiB");
	}
	text = malloc((size_t)st.st_size + 1);
	if (text == NULL) {
		close(fd);
		errno = ENOMEM;
		return dbops_err_set(err, "out of memory");
	}
	got = dbops_read_full(fd, text, (size_t)st.st_size);
	saved = errno;
	close(fd);
	if (got < 0) {
		free(text);
		dbops_err_set(err, "%s", strerror(saved));
		errno = saved;
		return -1;
	}
	if (dbops_kv_parse(text, (size_t)got, fn, ctx, err) != 0) {
		free(text);
		errno = EINVAL;
		return -1;
	}
	free(text);
	return 0;
}
