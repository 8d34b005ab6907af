/*
 * walarchive.h - a WAL archive directory: segment files, timeline history
 * files and backup history files, each plain or compressed (gzip .gz, zstd
 * .zst, lz4 .lz4, xz .xz, bzip2 .bz2: what archive_command with those
 * tools, pgBackRest, WAL-G and Barman write), and pg_receivewal's unfinished
 * .partial segments.
 *
 * Design notes:
 *
 *  1. Compressed files are read through libarchive's raw format, which
 *     takes the compression from the data (the suffix only says that the
 *     file is compressed); every stream is read to its end, so a damaged
 *     or cut trailer is found.
 *  2. A file in two forms (NAME and NAME.gz, say) is read in the order
 *     plain, .gz, .zst, .lz4, .xz, .bz2 (restore_command's order), and
 *     every other form is read too and compared with it: two copies that
 *     disagree are refused, since which one recovery would get is up to
 *     restore_command.
 *  3. A .partial segment (NAME.partial, NAME.partial.gz, or pg_receivewal's
 *     NAME.gz.partial) is used where the complete segment is missing, as
 *     Barman's get-wal --partial does: it is read as far as it holds data,
 *     zeros after that (pg_receivewal pads it so; a compressed one may be
 *     short or its stream unfinished).
 *  4. Every other file is named in a warning when the archive is opened;
 *     one named like a segment with a suffix not read here is kept apart,
 *     so that the reader can say that the segment is there but unreadable
 *     rather than that the archive ends.
 */
#ifndef PITR_WALARCHIVE_H
#define PITR_WALARCHIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wal.h"

enum pitr_compression {
	PITR_COMP_NONE,
	PITR_COMP_GZIP,
	PITR_COMP_ZSTD,
	PITR_COMP_LZ4,
	PITR_COMP_XZ,
	PITR_COMP_BZIP2,
	PITR_NCOMP
};

struct archive_segment {
	uint32_t tli;
	uint64_t segno;
	char name[64]; /* the file name in the directory */
	uint8_t comp;  /* enum pitr_compression */
	bool partial;  /* NAME.partial: pg_receivewal's unfinished segment */
	bool has_other_forms; /* arc->others holds more copies of it */
	bool in_backup;	      /* not in the archive but in the base backup's own
			   pg_wal (walbackup.h): read through read_backup */
	/* Its seg_size bytes, when the archive is in memory
	 * (pitr_walarc_open_memory()); NULL: a file in the directory. */
	const unsigned char *mem;
};

struct archive_backup_file { /* TTTTTTTTLLLLLLLLSSSSSSSS.OOOOOOOO.backup */
	uint32_t tli;
	lsn_t start_lsn; /* START WAL LOCATION */
	lsn_t stop_lsn;	 /* STOP WAL LOCATION; 0 if unreadable */
	lsn_t checkpoint_lsn;
	char stop_time[64]; /* STOP TIME as written */
	char name[64];	    /* without a compression suffix */
};

struct wal_archive {
	char dir[4096];
	uint32_t seg_size; /* from the first segment's long page header */
	struct archive_segment *segs; /* by (tli, segno), partial last */
	size_t nsegs;
	struct archive_segment *others; /* second forms of SEGS' files */
	size_t nothers;
	struct archive_segment *unreadable; /* segment names, other suffixes */
	size_t nunreadable;
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
	/* The segments are in memory, not files: pitr_walarc_open_memory(). */
	bool in_memory;
};

/* A segment held in memory, for pitr_walarc_open_memory(). */
struct pitr_walarc_mem {
	uint32_t tli;
	uint64_t segno;
	bool partial; /* read as pg_receivewal's .partial: data, then zeros */
	const unsigned char *data; /* seg_size bytes; the caller keeps them */
};

/* The suffix of compression COMP: "", ".gz", ".zst"... */
const char *pitr_comp_suffix(int comp);

/*
 * List DIR and learn the segment size from its first segment. Names every
 * file that is none of the above in a warning. Returns 0, or -1 after
 * dbops_log_error() (no such directory, unreadable, no WAL segment at
 * all, a first page that is not a WAL page).
 */
int pitr_walarc_open(const char *dir, struct wal_archive *arc);

/*
 * An archive whose segments are the N buffers SEGS, of SEG_SIZE bytes each,
 * rather than files: the bytes-in entry point of the WAL reader (the fuzz
 * target reads WAL from memory). Named as the files would be; no history,
 * backup history or other file. Returns 0, or -1 after dbops_log_error()
 * when SEG_SIZE is not a valid segment size. The buffers must outlive ARC.
 */
int pitr_walarc_open_memory(struct wal_archive *arc, uint32_t seg_size,
			    const struct pitr_walarc_mem *segs, size_t n);

/* Free the listing of ARC: safe after a failed pitr_walarc_open(), and twice. */
void pitr_walarc_close(struct wal_archive *arc);

/* The complete (not partial) segment SEGNO of timeline TLI, or NULL. */
const struct archive_segment *pitr_walarc_find(const struct wal_archive *arc,
					       uint32_t tli, uint64_t segno);

/* The segment recovery reads for SEGNO of TLI: the complete one, else a
 * .partial one, else NULL. */
const struct archive_segment *
pitr_walarc_find_any(const struct wal_archive *arc, uint32_t tli,
		     uint64_t segno);

/* A file named like segment SEGNO of TLI with a suffix not read, or NULL. */
const struct archive_segment *
pitr_walarc_find_unreadable(const struct wal_archive *arc, uint32_t tli,
			    uint64_t segno);

/*
 * Read segment SEG whole into BUF (arc->seg_size bytes; a partial one is
 * padded with zeros), and compare it with its other forms. Returns 0, or
 * -1 after dbops_log_error() naming the file: unreadable, a plain file of
 * the wrong size, a damaged or truncated compressed file, one that
 * decompresses to the wrong size, two forms that differ.
 */
int pitr_walarc_read_segment(const struct wal_archive *arc,
			     const struct archive_segment *seg,
			     unsigned char *buf);

/*
 * Map segment SEG read-only, without copying it, when it is a plain
 * complete file in the archive with no other forms, or in memory (its
 * buffer, whatever it is, and unmapping does nothing): 0 and *DATA (seg_size
 * bytes, until pitr_walarc_unmap_segment()), or 0 and *DATA NULL when it
 * is not such a file or cannot be mapped (read it with
 * pitr_walarc_read_segment()); -1 after dbops_log_error() as that would
 * (unopenable, the wrong size). QUIET: -1 without a message. (A file
 * truncated while it is mapped would end the process with SIGBUS; its size
 * is checked first.)
 */
int pitr_walarc_map_segment(const struct wal_archive *arc,
			    const struct archive_segment *seg,
			    const unsigned char **data, bool quiet);
void pitr_walarc_unmap_segment(const struct wal_archive *arc,
			       const unsigned char *data);

/*
 * Read the small text file NAME of the archive (a .history or .backup
 * file, named without a compression suffix) into a NUL-terminated *TEXT
 * (caller frees), from NAME or a compressed form of it; all forms must
 * agree. Returns 0, 1 when there is no such file, -1 after
 * dbops_log_error().
 */
int pitr_walarc_read_text(const struct wal_archive *arc, const char *name,
			  char **text);

/* Whether the archive holds NNNNNNNN.history for TLI (in any form). */
bool pitr_walarc_has_history(const struct wal_archive *arc, uint32_t tli);

/* The highest timeline the archive knows of (segments or history files). */
uint32_t pitr_walarc_newest_tli(const struct wal_archive *arc);

#endif
