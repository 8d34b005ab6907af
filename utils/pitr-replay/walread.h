/*
 * walread.h - read WAL records in order along a timeline path from an
 * archive, checking every page header and every record's CRC-32C as
 * PostgreSQL's xlogreader does, without PostgreSQL.
 */
#ifndef PITR_WALREAD_H
#define PITR_WALREAD_H

#include <stdbool.h>
#include <stdint.h>

#include "errbuf.h"
#include "timeline.h"
#include "walarchive.h"
#include "wal.h"

struct wal_record {
	lsn_t lsn; /* where it starts */
	lsn_t end; /* where the next record starts (PostgreSQL's EndRecPtr) */
	uint32_t tot_len;
	uint32_t xid;
	uint8_t rmid;
	uint8_t info;	   /* xl_info; the opcode is info & 0xF0 */
	uint32_t page_tli; /* the timeline in the header of its last page */
	const unsigned char *data; /* the whole record, TOT_LEN bytes */
	const char *segment;	   /* file name of the segment it starts in */
};

enum wal_stop {
	WAL_STOP_NONE,
	WAL_STOP_END,	  /* clean end: no further segment, or nothing but
			     zeros (or a recycled segment's old pages) from
			     the end of the last record to the segment's end */
	WAL_STOP_GAP,	  /* a segment is missing and later ones exist */
	WAL_STOP_CORRUPT, /* a page or record fails a check */
	WAL_STOP_FOREIGN, /* another cluster's or version's WAL */
	WAL_STOP_IO,	  /* a file could not be read (already logged) */
};

struct wal_reader {
	const struct wal_archive *arc;
	const struct tl_history *hist;
	uint16_t magic; /* expected page magic; 0: the first page's */
	int major;
	uint64_t sysid; /* expected system identifier; 0: the first one's */

	const unsigned char *seg; /* the loaded segment: BUF or a mapping */
	unsigned char *buf;	  /* for segments read, not mapped */
	bool mapped;		  /* SEG is a mapping of the file */
	uint64_t segno;		  /* which one; UINT64_MAX: none */
	const struct archive_segment *segfile;
	uint32_t data_end;     /* of the loaded segment: where a .partial one's
			      data ends (zeros after), else the segment size */
	char partial_file[64]; /* the first .partial segment read, or "" */
	lsn_t partial_lsn;     /* where it starts */
	lsn_t checked_page;    /* the last page whose header passed */
	uint32_t last_page_tli;
	lsn_t pos;  /* where the next record starts (maybe a page start) */
	lsn_t prev; /* start of the last record; 0: do not check links */
	unsigned char *rec; /* a record assembled across pages */
	size_t rec_cap;
	bool in_record; /* gathering a record's continuation pages */

	enum wal_stop stop;
	lsn_t stop_lsn;		/* where reading stopped */
	char stop_file[64];	/* the segment file concerned */
	struct dbops_err error; /* what was expected and what was found */

	/* Set by pitr_wal_reader_seek_segment(), for pitr_wal_reader_join(). */
	uint64_t seek_segno; /* the segment it was given */
	lsn_t seek_pos;	     /* where its first record starts */
	bool seek_cont;	     /* that segment's first page continues a record */
	bool first_page_set; /* FIRST_PAGE_TLI is the first page's */
	uint32_t first_page_tli; /* the timeline of the first page checked */
	bool read_any;		 /* a record was returned since the seek */
	uint64_t first_prev;	 /* the prev-link of the first one */
	/* Read mapped segment files only and log nothing; a segment that
	 * cannot be mapped stops it with QUIET_FAILED (pitr_wal_reader_join()
	 * then refuses it). */
	bool quiet;
	bool quiet_failed;

	uint64_t segments_read;
	uint64_t bytes_read;
	/* Called after each segment is loaded, for progress. */
	void (*on_segment)(void *arg, uint64_t segno);
	void *on_segment_arg;
};

/*
 * Prepare R to read along HIST in ARC. MAJOR (13..17) and SYSID are what
 * the WAL must carry; 0 learns them from the first page read. Returns 0 or
 * -1 (out of memory, logged).
 */
int pitr_wal_reader_init(struct wal_reader *r, const struct wal_archive *arc,
			 const struct tl_history *hist, int major,
			 uint64_t sysid);

/* Free the buffers of R (not ARC or HIST, which the caller owns). */
void pitr_wal_reader_free(struct wal_reader *r);

/* Start at LSN, which must be where a record starts. */
void pitr_wal_reader_seek(struct wal_reader *r, lsn_t lsn);

/* Start at the first record that begins in segment SEGNO. Returns 0, or -1
 * with r->stop set. */
int pitr_wal_reader_seek_segment(struct wal_reader *r, uint64_t segno);

/*
 * R takes over the state of AHEAD, a reader that read on, quietly, from
 * the first record that begins in a later segment: 1 when AHEAD started
 * where R would read next and made every check R would make there (the
 * link to R's last record, the order of the page timelines, the same
 * magic and system identifier), and did not stop for a segment it could
 * not map; R then is where AHEAD stopped, with its stop and message, and
 * counts and shows (on_segment) the segments AHEAD loaded as its own, and
 * AHEAD is left empty. 0, nothing changed, when it did not: R reads on
 * itself, with the checks and the messages of its own.
 */
int pitr_wal_reader_join(struct wal_reader *r, struct wal_reader *ahead);

/*
 * The next record: 1 and *REC (valid until the next call), or 0 when
 * reading stopped: r->stop says why, r->message says it in words.
 */
int pitr_wal_next(struct wal_reader *r, struct wal_record *rec);

/*
 * The main data of REC (its last fragment), decoding the block headers in
 * between. Returns 0, or -1 when the fragment headers do not add up.
 */
int pitr_wal_main_data(const struct wal_reader *r, const struct wal_record *rec,
		       const unsigned char **data, uint32_t *len);

/* The stop reason's name for messages: "missing segment", ... */
const char *pitr_wal_stop_name(enum wal_stop stop);

#endif
