/*
 * timeline.c - read timeline history files (format: PostgreSQL's
 * timeline.c: "parentTLI<TAB>switchpoint<TAB>reason", # comments).
 */
#include "timeline.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static int parse_line(const char *line, size_t lineno, struct tl_history *h,
		      struct dbops_err *err)
{
	/* As long as a line (pitr_timeline_parse() cuts it at 511 bytes):
	 * a token is never cut, nor its rest read as the next one. */
	char tli_text[512], lsn_text[512];
	unsigned long tli;
	char *end;
	lsn_t lsn;

	if (sscanf(line, "%511s %511s", tli_text, lsn_text) < 1)
		return 0;
	tli = strtoul(tli_text, &end, 10);
	if (*end != '\0' || tli == 0 || tli > UINT32_MAX) {
		return dbops_err_set(
			err,
			"line %zu: expected a numeric timeline ID, found \"%s\"",
			lineno, tli_text);
	}
	if (sscanf(line, "%*s %511s", lsn_text) != 1 ||
	    pitr_lsn_parse(lsn_text, &lsn) != 0) {
		return dbops_err_set(
			err,
			"line %zu: expected a timeline switch point LSN after timeline %lu",
			lineno, tli);
	}
	if (h->n > 0 && tli <= h->e[h->n - 1].tli) {
		return dbops_err_set(
			err,
			"line %zu: timeline IDs must increase: %lu after %u",
			lineno, tli, h->e[h->n - 1].tli);
	}
	if (h->n + 1 >= TL_MAX_ENTRIES) {
		return dbops_err_set(err, "line %zu: more than %d timelines",
				     lineno, TL_MAX_ENTRIES - 1);
	}
	h->e[h->n].tli = (uint32_t)tli;
	h->e[h->n].begin = h->n > 0 ? h->e[h->n - 1].end : 0;
	h->e[h->n].end = lsn;
	h->n++;
	return 0;
}

int pitr_timeline_parse(const char *text, uint32_t tli, struct tl_history *h,
			struct dbops_err *err)
{
	const char *line = text;
	size_t lineno = 0;

	h->n = 0;
	while (*line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		char buf[512];
		const char *p;

		lineno++;
		snprintf(buf, sizeof(buf), "%.*s",
			 (int)(len < sizeof(buf) ? len : sizeof(buf) - 1),
			 line);
		for (p = buf; isspace((unsigned char)*p); p++)
			;
		if (*p != '\0' && *p != '#' &&
		    parse_line(p, lineno, h, err) != 0)
			return -1;
		line += len + (nl != NULL);
	}
	if (h->n > 0 && h->e[h->n - 1].tli >= tli) {
		return dbops_err_set(
			err,
			"timeline IDs must be less than the child timeline's ID %u, found %u",
			tli, h->e[h->n - 1].tli);
	}
	h->e[h->n].tli = tli;
	h->e[h->n].begin = h->n > 0 ? h->e[h->n - 1].end : 0;
	h->e[h->n].end = LSN_INFINITE;
	h->n++;
	return 0;
}

void pitr_timeline_single(uint32_t tli, struct tl_history *h)
{
	h->n = 1;
	h->e[0] = (struct tl_entry){ .tli = tli,
				     .begin = 0,
				     .end = LSN_INFINITE };
}

uint32_t pitr_timeline_newest(const struct wal_archive *arc, uint32_t start)
{
	uint32_t newest = start;

	while (newest < UINT32_MAX && pitr_walarc_has_history(arc, newest + 1))
		newest++;
	return newest;
}

bool pitr_timeline_has_wal(const struct wal_archive *arc, uint32_t tli)
{
	for (size_t i = 0; i < arc->nsegs; i++)
		if (arc->segs[i].tli == tli)
			return true;
	return false;
}

int pitr_timeline_load(const struct wal_archive *arc, uint32_t tli,
		       struct tl_history *h)
{
	char name[32];
	struct dbops_err err = { "" };
	char *text;
	int rc;

	if (tli == 1) {
		pitr_timeline_single(1, h);
		return 0;
	}
	snprintf(name, sizeof(name), "%08X.history", tli);
	rc = pitr_walarc_read_text(arc, name, &text);
	if (rc == 1) {
		dbops_log_error(
			"could not open \"%s/%s\": no such file: timeline %u has no history file in the archive",
			arc->dir, name, tli);
		return -1;
	}
	if (rc != 0)
		return -1;
	rc = pitr_timeline_parse(text, tli, h, &err);
	free(text);
	if (rc != 0) {
		dbops_log_error(
			"syntax error in timeline history file \"%s/%s\": %s",
			arc->dir, name, err.msg);
		return -1;
	}
	return 0;
}

const struct tl_entry *pitr_timeline_at(const struct tl_history *h, lsn_t lsn)
{
	for (size_t i = 0; i < h->n; i++)
		if (lsn < h->e[i].end)
			return &h->e[i];
	return &h->e[h->n - 1];
}

const struct tl_entry *pitr_timeline_find(const struct tl_history *h,
					  uint32_t tli)
{
	for (size_t i = 0; i < h->n; i++)
		if (h->e[i].tli == tli)
			return &h->e[i];
	return NULL;
}

uint32_t pitr_timeline_file_tli(const struct tl_history *h, uint64_t segno,
				uint32_t seg_size)
{
	for (size_t i = h->n; i-- > 0;)
		if (lsn_segno(h->e[i].begin, seg_size) <= segno)
			return h->e[i].tli;
	return h->e[0].tli;
}

const char *pitr_timeline_describe(const struct tl_history *h, char *buf,
				   size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < h->n && used < len; i++) {
		char lsn[LSN_TEXT];

		if (i + 1 < h->n)
			used += (size_t)snprintf(
				buf + used, len - used, "%u until %s, then ",
				h->e[i].tli, pitr_lsn_format(h->e[i].end, lsn));
		else
			used += (size_t)snprintf(buf + used, len - used, "%u",
						 h->e[i].tli);
	}
	return buf;
}
