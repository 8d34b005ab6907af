/*
 * fuzz_pitr_replay_label - libFuzzer target for pitr-replay's backup_label
 * parser (pitr_backup_parse_label(), utils/pitr-replay/backup.c): the file
 * comes from the base backup, a tar or a directory anyone could have made.
 *
 * Properties: a refusal says why, naming the line ("line N: ..."); an
 * accepted label has a checkpoint at or after its start, a timeline that
 * is not 0, fields cut at a character boundary, and written back as
 * backup_label lines (its own first line, then the fields it took) it
 * parses to the same label.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"

#include "../../utils/pitr-replay/backup.h"
#include "../../utils/pitr-replay/wal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Whether FIELD, taken from TEXT, was cut inside a character: no place
 * in TEXT holds it followed by anything but a UTF-8 continuation byte. */
static bool cut_inside(const char *text, const char *field)
{
	size_t n = strlen(field);

	if (n == 0)
		return false;
	for (const char *at = strstr(text, field); at;
	     at = strstr(at + 1, field))
		if (((unsigned char)at[n] & 0xC0) != 0x80)
			return false;
	return true;
}

static void fail(const char *what, const char *text)
{
	fprintf(stderr, "%s\n--- label ---\n%s\n", what, text);
	abort();
}

/* LABEL written back: its first line from TEXT, then its fields. */
static char *write_back(const char *text, const struct backup_label *l)
{
	size_t first = strcspn(text, "\n");
	char *out = NULL, lsn[LSN_TEXT];
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (f == NULL)
		abort();
	fprintf(f, "%.*s\n", (int)first, text);
	fprintf(f, "CHECKPOINT LOCATION: %s\r\n",
		pitr_lsn_format(l->checkpoint_lsn, lsn));
	if (l->method[0])
		fprintf(f, "BACKUP METHOD: %s\r\n", l->method);
	if (l->from[0])
		fprintf(f, "BACKUP FROM: %s\r\n", l->from);
	if (l->start_time[0])
		fprintf(f, "START TIME: %s\r\n", l->start_time);
	if (l->label[0])
		fprintf(f, "LABEL: %s\r\n", l->label);
	fprintf(f, "START TIMELINE: %u\r\n", l->start_tli);
	if (l->incremental)
		fprintf(f, "INCREMENTAL FROM LSN: 0/2000028\r\n"
			   "INCREMENTAL FROM TLI: 1\r\n");
	fclose(f);
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *again;
	struct backup_label l, l2;
	struct dbops_err err = { "" };

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (pitr_backup_parse_label(text, &l, &err) != 0) {
		if (strncmp(err.msg, "line ", 5) != 0)
			fail("a refusal that names no line", text);
		free(text);
		return 0;
	}
	if (l.checkpoint_lsn < l.start_lsn || l.start_tli == 0)
		fail("accepted: checkpoint before start, or timeline 0", text);
	if (cut_inside(text, l.method) || cut_inside(text, l.from) ||
	    cut_inside(text, l.start_time) || cut_inside(text, l.label))
		fail("accepted: a field cut inside a character", text);
	again = write_back(text, &l);
	if (pitr_backup_parse_label(again, &l2, &err) != 0) {
		fprintf(stderr, "written back, refused: %s\n%s\n", err.msg,
			again);
		fail("does not read back", text);
	}
	if (memcmp(&l, &l2, sizeof(l)) != 0) {
		fprintf(stderr, "written back:\n%s\n", again);
		fail("reads back as another label", text);
	}
	free(again);
	free(text);
	return 0;
}
