/*
 * fuzz_snap_import_binary - libFuzzer target for snap-import's CSV to
 * COPY binary encoder (utils/snap-import/binary.c).
 *
 * The first byte picks three column types, the second the chunk size;
 * the rest is the file. Property: the file fed in chunks gives what it
 * gives fed whole (the same refusal, or the same bytes, ending with the
 * trailer), and a refusal always says why.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../utils/snap-import/binary.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const enum snap_type kinds[8] = {
	SNAP_TYPE_TEXT,	  SNAP_TYPE_BOOLEAN,	 SNAP_TYPE_INTEGER,
	SNAP_TYPE_BIGINT, SNAP_TYPE_NUMERIC,	 SNAP_TYPE_DATE,
	SNAP_TYPE_TEXT,	  SNAP_TYPE_TIMESTAMPTZ,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct snap_dialect d = SNAP_DIALECT_DEFAULT;
	enum snap_type types[3];
	struct snap_bin whole, part;
	const char *in;
	size_t len, step, got_len = 0;
	unsigned char *got = NULL;
	int rc_whole, rc_part = 0;

	if (size < 2)
		return 0;
	for (int c = 0; c < 3; c++)
		types[c] = kinds[(data[0] >> (3 * c)) & 7];
	step = (size_t)data[1] % 64 + 1;
	in = (const char *)data + 2;
	len = size - 2;

	snap_bin_init(&whole, &d, 3, types, (data[0] & 0x80) != 0);
	rc_whole = snap_bin_feed(&whole, in, len, true);
	if (rc_whole != 0 && whole.why[0] == '\0')
		abort();

	snap_bin_init(&part, &d, 3, types, (data[0] & 0x80) != 0);
	for (size_t off = 0; rc_part == 0 && (off < len || off == 0);
	     off += step) {
		size_t n = off + step < len ? step : len - off;

		rc_part = snap_bin_feed(&part, in + off, n, off + n == len);
		got = realloc(got, got_len + part.len + 1);
		if (got == NULL)
			abort();
		memcpy(got + got_len, part.out, part.len);
		got_len += part.len;
		part.len = 0;
		if (off + n == len)
			break;
	}
	if (rc_part != rc_whole)
		abort();
	if (rc_whole == 0 &&
	    (got_len != whole.len || memcmp(got, whole.out, got_len) != 0 ||
	     got_len < 21 || got[got_len - 1] != 0xff ||
	     got[got_len - 2] != 0xff))
		abort();
	free(got);
	snap_bin_free(&whole);
	snap_bin_free(&part);
	return 0;
}
