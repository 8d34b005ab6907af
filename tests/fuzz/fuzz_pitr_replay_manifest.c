/*
 * fuzz_pitr_replay_manifest - libFuzzer target for pitr-replay's
 * backup_manifest readers (utils/pitr-replay/manifest.c):
 * pitr_parse_manifest() (version, system identifier, WAL ranges) and
 * pitr_manifest_files() (the file list mfcheck.c holds the backup against).
 *
 * Input: one byte of flags, then the manifest. Flag 1: the harness writes
 * the right "Manifest-Checksum" (the SHA-256 of the text up to the line
 * that holds it), so that the fuzzer gets past it to the file list.
 *
 * Properties: what pitr_parse_manifest() accepts is valid JSON (an
 * independent strict RFC 8259 reader here), of version 1 or 2;
 * pitr_manifest_files() (which the tool calls only on a manifest
 * pitr_parse_manifest() accepted; here on every input) gives paths sorted
 * and unique, each with
 * the checksum length of its kind, and found by pitr_manifest_file_find();
 * a refusal always says why.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "errbuf.h"

#include "../../utils/pitr-replay/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- a strict JSON reader (RFC 8259), independent of manifest.c ---- */

struct rd {
	const unsigned char *p, *end;
	int depth;
};

static void ws(struct rd *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' ||
				 *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

static bool lit(struct rd *r, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(r->end - r->p) < n || memcmp(r->p, w, n) != 0)
		return false;
	r->p += n;
	return true;
}

static bool is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

static bool str(struct rd *r)
{
	if (r->p >= r->end || *r->p != '"')
		return false;
	r->p++;
	while (r->p < r->end && *r->p != '"') {
		if (*r->p < 0x20)
			return false;
		if (*r->p == '\\') {
			r->p++;
			if (r->p >= r->end)
				return false;
			if (*r->p == 'u') {
				if (r->end - r->p < 5)
					return false;
				for (int i = 1; i <= 4; i++)
					if (!is_hex(r->p[i]))
						return false;
				r->p += 4;
			} else if (*r->p == '\0' ||
				   strchr("\"\\/bfnrt", *r->p) == NULL) {
				return false;
			}
		}
		r->p++;
	}
	if (r->p >= r->end)
		return false;
	r->p++;
	return true;
}

static bool digits(struct rd *r)
{
	const unsigned char *s = r->p;

	while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
		r->p++;
	return r->p > s;
}

static bool num(struct rd *r)
{
	if (r->p < r->end && *r->p == '-')
		r->p++;
	if (r->p < r->end && *r->p == '0')
		r->p++;
	else if (!digits(r))
		return false;
	if (r->p < r->end && *r->p == '.') {
		r->p++;
		if (!digits(r))
			return false;
	}
	if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
		r->p++;
		if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
			r->p++;
		if (!digits(r))
			return false;
	}
	return true;
}

static bool value(struct rd *r);

static bool container(struct rd *r, char close)
{
	bool obj = close == '}';

	if (++r->depth > 1000)
		return false;
	r->p++;
	ws(r);
	if (r->p < r->end && *r->p == close) {
		r->p++;
		r->depth--;
		return true;
	}
	for (;;) {
		ws(r);
		if (obj) {
			if (!str(r))
				return false;
			ws(r);
			if (r->p >= r->end || *r->p != ':')
				return false;
			r->p++;
		}
		if (!value(r))
			return false;
		ws(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		if (r->p < r->end && *r->p == close) {
			r->p++;
			r->depth--;
			return true;
		}
		return false;
	}
}

static bool value(struct rd *r)
{
	ws(r);
	if (r->p >= r->end)
		return false;
	switch (*r->p) {
	case '{':
		return container(r, '}');
	case '[':
		return container(r, ']');
	case '"':
		return str(r);
	case 't':
		return lit(r, "true");
	case 'f':
		return lit(r, "false");
	case 'n':
		return lit(r, "null");
	default:
		return num(r);
	}
}

static bool valid_json(const char *text, size_t len)
{
	struct rd r = { (const unsigned char *)text,
			(const unsigned char *)text + len, 0 };

	if (!value(&r))
		return false;
	ws(&r);
	return r.p == r.end;
}

/* ---- the harness ---- */

/* Write the right checksum into the last "Manifest-Checksum" line. */
static void fix_checksum(char *text, size_t len)
{
	static const char key[] = "\"Manifest-Checksum\": \"";
	char *at = NULL, *line;
	unsigned char sum[SHA256_DIGEST_LENGTH];

	for (char *p = text; (p = memmem(p, len - (size_t)(p - text), key,
					 sizeof(key) - 1)) != NULL;
	     p++)
		at = p;
	if (at == NULL)
		return;
	line = at;
	while (line > text && line[-1] != '\n')
		line--;
	if ((size_t)(at + sizeof(key) - 1 + 64 - text) > len)
		return;
	SHA256((const unsigned char *)text, (size_t)(line - text), sum);
	for (int i = 0; i < SHA256_DIGEST_LENGTH; i++) {
		static const char hex[] = "0123456789abcdef";

		at[sizeof(key) - 1 + 2 * i] = hex[sum[i] >> 4];
		at[sizeof(key) - 1 + 2 * i + 1] = hex[sum[i] & 15];
	}
}

static void fail(const char *what, const char *text, size_t len)
{
	fprintf(stderr, "%s\n--- manifest ---\n%.*s\n", what, (int)len, text);
	abort();
}

static void check_files(const struct manifest_files *f, const char *text,
			size_t len)
{
	for (size_t i = 0; i < f->n; i++) {
		const struct manifest_file *m = &f->v[i];
		size_t want = 0;

		if (i > 0 && strcmp(f->v[i - 1].path, m->path) >= 0)
			fail("files not sorted, or one twice", text, len);
		switch (m->kind) {
		case PITR_CHECKSUM_NONE:
			want = 0;
			break;
		case PITR_CHECKSUM_CRC32C:
			want = 4;
			break;
		case PITR_CHECKSUM_SHA224:
			want = 28;
			break;
		case PITR_CHECKSUM_SHA256:
			want = 32;
			break;
		case PITR_CHECKSUM_SHA384:
			want = 48;
			break;
		case PITR_CHECKSUM_SHA512:
			want = 64;
			break;
		}
		if (m->checksum_len != want)
			fail("a checksum of the wrong length for its kind",
			     text, len);
		if (pitr_manifest_file_find(f, m->path) != m)
			fail("a file that find does not find", text, len);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;
	size_t len;
	struct manifest m;
	struct manifest_files f = { 0 };
	struct dbops_err err = { "" };
	int rc_m, rc_f;

	if (size < 1)
		return 0;
	len = size - 1;
	text = malloc(len + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data + 1, len);
	text[len] = '\0'; /* not part of it: LEN bytes are given */
	if (data[0] & 1)
		fix_checksum(text, len);
	rc_m = pitr_parse_manifest(text, len, &m, &err);
	if (rc_m != 0 && err.msg[0] == '\0')
		fail("pitr_parse_manifest refused without a reason", text, len);
	if (rc_m == 0) {
		if (!valid_json(text, len))
			fail("pitr_parse_manifest accepted invalid JSON", text,
			     len);
		if (m.version != 1 && m.version != 2)
			fail("a version not 1 or 2", text, len);
	}
	err.msg[0] = '\0';
	rc_f = pitr_manifest_files(text, len, &f, &err);
	if (rc_f != 0 && err.msg[0] == '\0')
		fail("pitr_manifest_files refused without a reason", text, len);
	if (rc_f == 0) {
		check_files(&f, text, len);
		pitr_manifest_files_free(&f);
	}
	free(text);
	return 0;
}
