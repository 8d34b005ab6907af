/*
 * fuzz_pitr_replay_timeline - libFuzzer target for pitr-replay's timeline
 * history parser (pitr_timeline_parse(), utils/pitr-replay/timeline.c):
 * NNNNNNNN.history files come from the WAL archive.
 *
 * Input: 4 bytes, the child timeline's ID (little-endian), then the text.
 *
 * Properties: a refusal says why; an accepted history ends with the child
 * timeline, open-ended; its IDs increase; it starts at LSN 0 and each
 * timeline begins where the one before ends (switch points may go back,
 * as in histories PostgreSQL writes); pitr_timeline_find() and
 * pitr_timeline_file_tli() agree with the entries, and pitr_timeline_at()
 * too when the switch points do not go back; pitr_timeline_describe()
 * fits its buffer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"

#include "../../utils/pitr-replay/timeline.h"
#include "../../utils/pitr-replay/wal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *text)
{
	fprintf(stderr, "%s\n--- history ---\n%s\n", what, text);
	abort();
}

static void check(const struct tl_history *h, uint32_t tli, const char *text)
{
	char buf[64];
	bool monotonic = true;

	if (h->n == 0 || h->n > TL_MAX_ENTRIES)
		fail("no entries, or too many", text);
	if (h->e[h->n - 1].tli != tli || h->e[h->n - 1].end != LSN_INFINITE)
		fail("the last entry is not the child, open-ended", text);
	if (h->e[0].begin != 0)
		fail("the first entry does not begin at 0", text);
	for (size_t i = 0; i < h->n; i++)
		if (h->e[i].begin > h->e[i].end)
			monotonic = false;
	for (size_t i = 0; i < h->n; i++) {
		const struct tl_entry *e = &h->e[i];

		if (i > 0 &&
		    (e->tli <= h->e[i - 1].tli || e->begin != h->e[i - 1].end))
			fail("IDs not increasing, or a gap", text);
		if (pitr_timeline_find(h, e->tli) != e)
			fail("find does not find an entry", text);
		/* Switch points may go back: PostgreSQL writes such a history
		 * when a recovery that targeted a timeline ended before its
		 * fork. pitr_timeline_at() is checked on monotonic ones. */
		if (!monotonic)
			continue;
		if (e->begin < e->end && pitr_timeline_at(h, e->begin) != e)
			fail("at(begin) is another entry", text);
		if (e->begin < e->end && pitr_timeline_at(h, e->end - 1) != e)
			fail("at(end - 1) is another entry", text);
	}
	/* The segment of a switch point is read from the new timeline. */
	for (size_t i = 1; i < h->n; i++) {
		uint64_t seg = lsn_segno(h->e[i].begin, 1u << 24);

		if (pitr_timeline_file_tli(h, seg, 1u << 24) < h->e[i].tli)
			fail("a switch segment read from an older timeline",
			     text);
	}
	pitr_timeline_describe(h, buf, sizeof(buf));
	if (strlen(buf) >= sizeof(buf))
		fail("describe overran", text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tl_history *h;
	struct dbops_err err = { "" };
	uint32_t tli;
	char *text;

	if (size < 4)
		return 0;
	memcpy(&tli, data, 4);
	text = malloc(size - 4 + 1);
	h = malloc(sizeof(*h));
	if (text == NULL || h == NULL) {
		free(text);
		free(h);
		return 0;
	}
	memcpy(text, data + 4, size - 4);
	text[size - 4] = '\0';
	if (pitr_timeline_parse(text, tli, h, &err) != 0) {
		if (err.msg[0] == '\0')
			fail("refused without a reason", text);
	} else {
		check(h, tli, text);
	}
	free(h);
	free(text);
	return 0;
}
