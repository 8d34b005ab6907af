/*
 * walarchive.h - a WAL archive directory: segment files (plain or .gz,
 * .partial ones noted but never read, as PostgreSQL never asks for them),
 * timeline history files and backup history files.
 */
#ifndef PITR_WALARCHIVE_H
#define PITR_WALARCHIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wal.h"

struct archive_segment {
	uint32_t tli;
	uint64_t segno;
	char name[64];	/* the file name in the directory */
	bool gz;	/* NAME.gz: gzip-compressed */
	bool partial;	/* NAME.partial[.gz]: not read by recovery */
	bool in_backup; /* not in the archive but in the base backup's own
			   pg_wal (walbackup.h): read through read_backup */
};

struct archive_backup_file { /* TTTTTTTTLLLLLLLLSSSSSSSS.OOOOOOOO.backup */
	uint32_t tli;
	lsn_t start_lsn; /* START WAL LOCATION */
	lsn_t stop_lsn;	 /* STOP WAL LOCATION; 0 if unreadable */
	lsn_t checkpoint_lsn;
	char stop_time[64]; /* STOP TIME as written */
	char name[64];
};

struct wal_archive {
	char dir[4096];
	uint32_t seg_size; /* from the first segment's long page header */
	struct archive_segment *segs; /* by (tli, segno), partial last */
	size_t nsegs;
	uint32_t *history_tlis; /* timelines with a NNNNNNNN.history file */
	size_t nhistories;
	struct archive_backup_file *backups;
	size_t nbackups;
	size_t nignored; /* files that are none of these */
	/* Reads a segment marked in_backup into BUF (seg_size bytes): 0, or
	 * -1 after an error message. walbackup.c sets both. */
	int (*read_backup)(const struct wal_archive *arc,
			   const struct archive_segment *seg,
			   unsigned char *buf);
	const void *read_backup_ctx;
};

/*
 * List DIR and learn the segment size from its first segment. Returns 0,
 * or -1 after dbops_log_error() (no such directory, unreadable, no WAL
 * segment at all, a first page that is not a WAL page).
 */
int pitr_walarc_open(const char *dir, struct wal_archive *arc);

/* Free the listing of ARC: safe after a failed pitr_walarc_open(), and twice. */
void pitr_walarc_close(struct wal_archive *arc);

/* The complete (not partial) segment SEGNO of timeline TLI, or NULL. */
const struct archive_segment *pitr_walarc_find(const struct wal_archive *arc,
					       uint32_t tli, uint64_t segno);

/*
 * Read segment SEG whole into BUF (arc->seg_size bytes). Returns 0, or -1
 * after dbops_log_error() naming the file: unreadable, a plain file of the
 * wrong size, a damaged or truncated .gz, or one that inflates to the
 * wrong size.
 */
int pitr_walarc_read_segment(const struct wal_archive *arc,
			     const struct archive_segment *seg,
			     unsigned char *buf);

/*
 * Read the small text file NAME of the archive (a .history or .backup
 * file) into a NUL-terminated *TEXT (caller frees). Returns 0, 1 when there
 * is no such file, -1 after dbops_log_error().
 */
int pitr_walarc_read_text(const struct wal_archive *arc, const char *name,
			  char **text);

/* Whether the archive holds NNNNNNNN.history for TLI. */
bool pitr_walarc_has_history(const struct wal_archive *arc, uint32_t tli);

/* The highest timeline the archive knows of (segments or history files). */
uint32_t pitr_walarc_newest_tli(const struct wal_archive *arc);

#endif
