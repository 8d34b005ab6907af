/*
 * fuzz_snap_import_scan - libFuzzer target for the `\.` guard of
 * snap-import (snap_scan_chunk(), utils/snap-import/csvhead.c): every byte
 * of a file passes through it on its way to COPY.
 *
 * The first byte says whether to look for markers (bit 0) and the chunk
 * size of the second run (bits 1-7); the rest is the file.
 *
 * Properties: the file scanned whole and in chunks gives the same bytes,
 * the same marker line and the same dropped lines; what is sent is the
 * file less line ends (empty lines dropped), all of it when no marker
 * stopped the scan, and never more than the room the caller gives.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../utils/snap-import/csvhead.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct out {
	char *bytes;
	size_t len;
	int64_t marker;
	size_t nskipped;
	int64_t skipped[16];
};

static void scan(const char *text, size_t len, bool markers, size_t step,
		 struct out *o)
{
	struct snap_scan s;
	size_t at = 0;

	memset(o, 0, sizeof(*o));
	snap_scan_init(&s);
	s.markers = markers;
	o->bytes = malloc(len + 2 * (len / step + 2));
	o->len = 0;
	if (o->bytes == NULL)
		abort();
	do {
		size_t n = len - at < step ? len - at : step, w;

		w = snap_scan_chunk(&s, text + at, n, at + n == len,
				    o->bytes + o->len);
		if (w > n + 2)
			abort();
		o->len += w;
		at += n;
	} while (at < len && s.marker_line == 0);
	o->marker = s.marker_line;
	o->nskipped = s.nskipped;
	for (size_t i = 0; i < s.nskipped && i < 16; i++)
		o->skipped[i] = s.skipped[i];
	snap_scan_free(&s);
}

/* TEXT without CR and LF into OUT; its length. */
static size_t no_line_ends(const char *text, size_t len, char *out)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		if (text[i] != '\r' && text[i] != '\n')
			out[n++] = text[i];
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct out whole, cut;
	const char *text = (const char *)data + 1;
	size_t len, step, a, b;
	char *x, *y;
	bool markers;

	if (size == 0)
		return 0;
	len = size - 1;
	markers = data[0] & 1;
	step = 1 + (data[0] >> 1);
	scan(text, len, markers, len + 1, &whole);
	scan(text, len, markers, step, &cut);
	if (whole.len != cut.len || memcmp(whole.bytes, cut.bytes, whole.len) ||
	    whole.marker != cut.marker || whole.nskipped != cut.nskipped ||
	    memcmp(whole.skipped, cut.skipped, sizeof(whole.skipped)) != 0 ||
	    (!markers && whole.marker != 0)) {
		fprintf(stderr,
			"whole: %zu bytes, marker %lld; in chunks of "
			"%zu: %zu bytes, marker %lld\n",
			whole.len, (long long)whole.marker, step, cut.len,
			(long long)cut.marker);
		abort();
	}
	x = malloc(len + 1);
	y = malloc(whole.len + 1);
	if (x == NULL || y == NULL)
		abort();
	a = no_line_ends(text, len, x);
	b = no_line_ends(whole.bytes, whole.len, y);
	if (b > a || memcmp(x, y, b) != 0 || (whole.marker == 0 && a != b)) {
		fprintf(stderr, "sent bytes are not the file's\n");
		abort();
	}
	free(x);
	free(y);
	free(whole.bytes);
	free(cut.bytes);
	return 0;
}
