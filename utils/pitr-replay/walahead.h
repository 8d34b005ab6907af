/*
 * walahead.h - check the CRCs of the records of the segments ahead of the
 * WAL reader, on the other cores, while it reads.
 *
 * The reader (walread.c) still makes every check itself, in order, with
 * its own messages: page headers, record headers, prev-links, timelines,
 * the end of the WAL or damage. What a checker hands it for a segment is
 * the segment's mapping and one bit per 8-byte offset: "the record that
 * starts here, as long as its first 4 bytes say and gathered across pages
 * as their headers say, has the CRC it stores". Computed over the same
 * mapped bytes the reader then reads, that is the CRC the reader would
 * compute, so the reader skips that computation for such a record and
 * computes it for every other one (a bit not set, a record that runs into
 * the next segment, a segment no checker reached first). Damage is thus
 * reported by the reader alone, at the LSN and with the words it gives
 * without checkers; a checker never reports anything.
 *
 * A checker walks its segment from the first record that begins in it:
 * it stops at anything that is not a well-formed record (the reader finds
 * out what) and at a segment switch.
 */
#ifndef PITR_WALAHEAD_H
#define PITR_WALAHEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "timeline.h"
#include "walarchive.h"

struct wal_ahead;

/*
 * Checkers for segments FIRST to LAST of path HIST in ARC, which start no
 * segment more than DEPTH after the one the reader is in (so that what
 * they read is still in the cache when the reader gets there: one per
 * checker thread); NULL when out of memory (then the reader does it all,
 * as without checkers).
 */
struct wal_ahead *pitr_wal_ahead_new(const struct wal_archive *arc,
				     const struct tl_history *hist,
				     uint64_t first, uint64_t last,
				     unsigned depth);

/* How many segments A covers: pitr_wal_ahead_run() takes 0 to that - 1. */
size_t pitr_wal_ahead_count(const struct wal_ahead *a);

/*
 * Check segment FIRST + I, unless the reader took it first or is done;
 * waits while it is more than DEPTH ahead of the reader. For one thread of
 * dbops_parallel_for().
 */
void pitr_wal_ahead_run(struct wal_ahead *a, size_t i);

/*
 * The reader loading segment SEGNO from FILE: 1 with *MAP (seg_size bytes,
 * for pitr_walarc_unmap_segment()) and *GOOD (the bits above, for free())
 * now the reader's, once a checker has done it (waiting for one at work on
 * it); 0 when no checker has it (the reader reads it itself; checkers then
 * leave it). A may be NULL.
 */
int pitr_wal_ahead_take(struct wal_ahead *a, uint64_t segno,
			const struct archive_segment *file,
			const unsigned char **map, uint64_t **good);

/* The reader is done: the checkers stop. */
void pitr_wal_ahead_cancel(struct wal_ahead *a);

/* Free A and what no reader took. A may be NULL. */
void pitr_wal_ahead_free(struct wal_ahead *a);

/*
 * Set in GOOD (seg_size / 512 words, zeroed) the bit of each record in
 * segment SEG (SEG_SIZE bytes, magic and sysid not checked) whose CRC is
 * right, walking from the first record that begins in it.
 */
void pitr_wal_ahead_check(const unsigned char *seg, uint32_t seg_size,
			  uint64_t *good);

/* Whether GOOD has the bit of offset OFF (a multiple of 8). */
static inline bool pitr_wal_ahead_good(const uint64_t *good, uint32_t off)
{
	return (good[off / 512] >> (off / 8 % 64)) & 1;
}

#endif
