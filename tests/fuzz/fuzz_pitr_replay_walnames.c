/*
 * fuzz_pitr_replay_walnames - libFuzzer target for the names and numbers
 * pitr-replay reads from an archive and a backup (utils/pitr-replay/wal.c):
 * WAL segment file names, LSNs ("X/Y") and the TimestampTz values it prints.
 *
 * Input: one byte of mode, one of segment size (1 MB << (b mod 11)), then
 * the text (or 8 bytes of a time).
 *
 * Properties: a segment name that parses names a segment that prints back
 * as the same 24 characters and is a segment of that size; an LSN that
 * parses prints back as PostgreSQL prints it and parses to the same LSN;
 * a time prints inside its buffer, as infinity, -infinity, an out-of-range
 * note or "YYYY-MM-DD HH:MM:SS[.ffffff]+00[ BC]".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../utils/pitr-replay/wal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *text)
{
	fprintf(stderr, "%s: \"%s\"\n", what, text);
	abort();
}

static void segment_name(const char *text, uint32_t seg_size)
{
	uint32_t tli;
	uint64_t segno;
	char back[25];

	if (pitr_wal_parse_segment_name(text, seg_size, &tli, &segno) != 0)
		return;
	pitr_wal_segment_name(tli, segno, seg_size, back);
	if (strncmp(text, back, 24) != 0)
		fail("a segment name that prints back otherwise", text);
	if (segno > UINT64_MAX / seg_size)
		fail("a segment past the end of the LSN space", text);
}

static void lsn(const char *text)
{
	lsn_t l, again;
	char back[LSN_TEXT];

	if (pitr_lsn_parse(text, &l) != 0)
		return;
	pitr_lsn_format(l, back);
	if (pitr_lsn_parse(back, &again) != 0 || again != l)
		fail("an LSN that does not read back", text);
}

static void time_text(const uint8_t *data, size_t size)
{
	int64_t t = 0;
	char buf[PG_TIME_TEXT + 8];
	size_t n;

	memcpy(&t, data, size < 8 ? size : 8);
	memset(buf, 'x', sizeof(buf));
	pitr_pg_time_format(t, buf);
	n = strnlen(buf, sizeof(buf));
	if (n >= PG_TIME_TEXT)
		fail("a time past its buffer", "");
	if (strcmp(buf, "infinity") != 0 && strcmp(buf, "-infinity") != 0 &&
	    strncmp(buf, "out-of-range time ", 18) != 0 &&
	    (n < 22 ||
	     (strcmp(buf + n - 3, "+00") != 0 &&
	      strcmp(buf + n - 6, "+00 BC") != 0) ||
	     strspn(buf, "0123456789") < 4 ||
	     buf[strspn(buf, "0123456789")] != '-'))
		fail("a time printed oddly", buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;
	uint32_t seg_size;

	if (size < 2)
		return 0;
	seg_size = (1u << 20) << (data[1] % 11);
	if (data[0] % 3 == 2) {
		time_text(data + 2, size - 2);
		return 0;
	}
	text = malloc(size - 2 + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data + 2, size - 2);
	text[size - 2] = '\0';
	if (data[0] % 3 == 0)
		segment_name(text, seg_size);
	else
		lsn(text);
	free(text);
	return 0;
}
