/*
 * fuzz_dump_restore_split - libFuzzer target for dump-restore's SQL
 * splitter (utils/dump-restore/split.c), which reads every byte of a dump,
 * and for what looks at its statements afterwards: dr_split_kind() and
 * dr_split_dump_header().
 *
 * The first byte picks the session modes (bits 0-1) and how the second run
 * cuts the input into chunks (bits 2-4); the rest is the dump.
 *
 * Properties: the input fed whole and fed in small chunks gives the same
 * statements, lines, result and error line (the splitter promises any
 * chunking); every statement is non-empty, NUL-terminated, starts on a
 * line the input has, at or after the one before it, and carries no
 * whitespace or control byte at its end (the client's remove_cntrl()).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../utils/dump-restore/split.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct run {
	char *text; /* the statements, each followed by its NUL */
	size_t len, cap;
	size_t count;
	long last_line, max_line;
	long lines[64]; /* the first statements' lines */
	int rc;
	long err_line;
};

static int collect(void *arg, const char *stmt, size_t len, long line)
{
	struct run *r = arg;

	if (len == 0 || stmt[len] != '\0' || line < 1 || line > r->max_line ||
	    line < r->last_line || (unsigned char)stmt[len - 1] <= ' ') {
		fprintf(stderr, "bad statement at line %ld (%zu bytes)\n", line,
			len);
		abort();
	}
	(void)dr_split_kind(stmt, len);
	if (r->len + len + 1 > r->cap) {
		r->cap = 2 * (r->len + len + 1);
		r->text = realloc(r->text, r->cap);
		if (r->text == NULL)
			abort();
	}
	memcpy(r->text + r->len, stmt, len + 1);
	r->len += len + 1;
	if (r->count < sizeof(r->lines) / sizeof(r->lines[0]))
		r->lines[r->count] = line;
	r->count++;
	r->last_line = line;
	return 0;
}

/* Split DUMP (LEN bytes) fed in chunks of the sizes STEP gives (0: whole). */
static void split(const char *dump, size_t len, unsigned int modes,
		  unsigned int step, struct run *r)
{
	struct dr_splitter *s = dr_split_new();
	size_t at = 0, n;
	long line = 0;

	if (s == NULL)
		abort();
	dr_split_set_limit(s, 1 << 20);
	dr_split_set_modes(s, modes);
	r->rc = 0;
	while (at < len && r->rc == 0) {
		n = step == 0 ? len - at : 1 + (at * 7 + step) % (step + 3);
		if (n > len - at)
			n = len - at;
		r->rc = dr_split_feed(s, dump + at, n, collect, r);
		at += n;
	}
	if (r->rc == 0)
		r->rc = dr_split_finish(s, collect, r, &line);
	r->err_line = r->rc == 0 ? 0 : dr_split_error_line(s);
	if (r->rc == DR_SPLIT_UNTERMINATED) {
		size_t plen;
		const char *p = dr_split_pending(s, &plen);

		if (plen == 0 || p[plen] != '\0' || line != r->err_line)
			abort();
	}
	dr_split_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run whole = { 0 }, cut = { 0 };
	const char *dump = (const char *)data + 1;
	size_t len;
	unsigned int modes, step;

	if (size == 0)
		return 0;
	len = size - 1;
	modes = data[0] & 3u;
	step = ((data[0] >> 2) & 7u) + 1;
	whole.max_line = cut.max_line = 1;
	for (size_t i = 0; i < len; i++)
		whole.max_line += dump[i] == '\n';
	cut.max_line = whole.max_line;
	(void)dr_split_dump_header(dump, len);
	split(dump, len, modes, 0, &whole);
	split(dump, len, modes, step, &cut);
	if (whole.rc != cut.rc || whole.err_line != cut.err_line ||
	    whole.count != cut.count || whole.len != cut.len ||
	    (whole.len > 0 && memcmp(whole.text, cut.text, whole.len) != 0) ||
	    memcmp(whole.lines, cut.lines, sizeof(whole.lines)) != 0) {
		fprintf(stderr,
			"whole: rc %d line %ld, %zu statements; "
			"in chunks (step %u): rc %d line %ld, %zu statements\n",
			whole.rc, whole.err_line, whole.count, step, cut.rc,
			cut.err_line, cut.count);
		abort();
	}
	free(whole.text);
	free(cut.text);
	return 0;
}
