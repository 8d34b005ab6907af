/*
 * timeline.h - a timeline's history, from its NNNNNNNN.history file: which
 * timeline each stretch of WAL belongs to on the way to it.
 */
#ifndef PITR_TIMELINE_H
#define PITR_TIMELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errbuf.h"
#include "walarchive.h"
#include "wal.h"

#define TL_MAX_ENTRIES 256
#define LSN_INFINITE   UINT64_MAX

struct tl_entry {
	uint32_t tli;
	lsn_t begin; /* the first LSN on it (0 for the oldest) */
	lsn_t end;   /* where the path leaves it; LSN_INFINITE for the tip */
};

struct tl_history {
	struct tl_entry
		e[TL_MAX_ENTRIES]; /* oldest first; the last is the tip */
	size_t n;
};

/*
 * Parse the text of TLI's history file. Returns 0, or -1 with ERR set
 * ("line 2: expected a timeline switch point LSN, found \"x\"").
 */
int pitr_timeline_parse(const char *text, uint32_t tli, struct tl_history *h,
			struct dbops_err *err);

/*
 * The history of TLI from ARC (timeline 1 needs no file). Returns 0, or -1
 * after dbops_log_error() naming the file.
 */
int pitr_timeline_load(const struct wal_archive *arc, uint32_t tli,
		       struct tl_history *h);

/* The history of a timeline with no parents: TLI from LSN 0 on. */
void pitr_timeline_single(uint32_t tli, struct tl_history *h);

/*
 * The timeline recovery_target_timeline=latest chooses for a backup on
 * START (PostgreSQL's findNewestTimeLine()): history files are probed from
 * START + 1 upward, and the last one found before the first missing one
 * wins (START itself when START + 1 has none).
 */
uint32_t pitr_timeline_newest(const struct wal_archive *arc, uint32_t start);

/* Whether ARC holds a segment (complete or .partial) of timeline TLI. */
bool pitr_timeline_has_wal(const struct wal_archive *arc, uint32_t tli);

/* The entry holding LSN, or NULL when the LSN is past... never: the tip holds all later ones. */
const struct tl_entry *pitr_timeline_at(const struct tl_history *h, lsn_t lsn);

/* The entry of TLI in H, or NULL when the path never is on TLI. */
const struct tl_entry *pitr_timeline_find(const struct tl_history *h,
					  uint32_t tli);

/*
 * Which timeline's file holds segment SEGNO on this path: the newest one
 * that has begun by that segment (the segment with a switch point is read
 * from the new timeline, which copied its first part), as PostgreSQL reads.
 */
uint32_t pitr_timeline_file_tli(const struct tl_history *h, uint64_t segno,
				uint32_t seg_size);

/* "1 until 0/5000060, then 2" for messages; BUF of LEN. */
const char *pitr_timeline_describe(const struct tl_history *h, char *buf,
				   size_t len);

#endif
