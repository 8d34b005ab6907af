/*
 * wal.h - facts of PostgreSQL's WAL format (13 to 17) that pitr-replay
 * reads, and small helpers for LSNs and segment file names.
 *
 * Sources: PostgreSQL's src/include/access/xlog_internal.h, xlogrecord.h
 * and xact.h, and src/include/catalog/pg_control.h, of 13 to 17; the
 * comment at each constant names the one it mirrors.
 * All integers are in the producing machine's byte order; like
 * pg_waldump we read WAL of our own (little-endian) kind.
 */
#ifndef PITR_WAL_H
#define PITR_WAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t lsn_t;

#define WAL_PAGE_SIZE	  8192u			       /* XLOG_BLCKSZ */
#define WAL_SHORT_HEADER  24u			       /* SizeOfXLogShortPHD */
#define WAL_LONG_HEADER	  40u			       /* SizeOfXLogLongPHD */
#define WAL_RECORD_HEADER 24u			       /* SizeOfXLogRecord */
#define WAL_ALIGN(x)	  (((x) + 7u) & ~(uint64_t)7u) /* MAXALIGN */

/* Page header flags (xlp_info). */
#define XLP_FIRST_IS_CONTRECORD		  0x0001
#define XLP_LONG_HEADER			  0x0002
#define XLP_BKP_REMOVABLE		  0x0004 /* set on most pages; we need not look */
#define XLP_FIRST_IS_OVERWRITE_CONTRECORD 0x0008 /* 14+ */
#define XLP_ALL_FLAGS			  0x000F

/* Resource managers and the opcodes we look at (xl_info & 0xF0). */
#define RM_XLOG_ID     0
#define RM_XACT_ID     1
#define RM_MAX_BUILTIN 21  /* ids 0..21 are built in (17 adds none past 21) */
#define RM_MIN_CUSTOM  128 /* 128..255: custom resource managers (15+) */

#define XLOG_CHECKPOINT_SHUTDOWN 0x00
#define XLOG_CHECKPOINT_ONLINE	 0x10
#define XLOG_SWITCH		 0x40
#define XLOG_BACKUP_END		 0x50
#define XLOG_PARAMETER_CHANGE	 0x60
#define XLOG_RESTORE_POINT	 0x70
#define XLOG_END_OF_RECOVERY	 0x90

#define XLOG_XACT_OPMASK	  0x70
#define XLOG_XACT_COMMIT	  0x00
#define XLOG_XACT_ABORT		  0x20
#define XLOG_XACT_COMMIT_PREPARED 0x30
#define XLOG_XACT_ABORT_PREPARED  0x40
#define XLOG_XACT_HAS_INFO	  0x80

/* Fragment ids in a record body. */
#define XLR_MAX_BLOCK_ID	  32
#define XLR_BLOCK_ID_DATA_SHORT	  255
#define XLR_BLOCK_ID_DATA_LONG	  254
#define XLR_BLOCK_ID_ORIGIN	  253
#define XLR_BLOCK_ID_TOPLEVEL_XID 252

#define BKPBLOCK_HAS_IMAGE 0x10
#define BKPBLOCK_SAME_REL  0x80

#define RESTORE_POINT_NAME_MAX 64 /* MAXFNAMELEN, with the NUL */

/* TimestampTz counts microseconds from 2000-01-01 00:00:00 UTC. */
#define PG_EPOCH_UNIX_SECONDS 946684800LL

/* The major version whose WAL carries MAGIC, or 0 for one we don't know. */
int pitr_wal_major_for_magic(uint16_t magic);
/* The page magic of MAJOR (13..17), or 0. */
uint16_t pitr_wal_magic_for_major(int major);

/* "0/16B3748" (PostgreSQL's %X/%X). BUF must hold 18 bytes. */
#define LSN_TEXT 18
const char *pitr_lsn_format(lsn_t lsn, char *buf);
/* Parse "X/Y"; 0 on success, -1 on anything else. */
int pitr_lsn_parse(const char *text, lsn_t *lsn);

/* Segment number of LSN / first LSN of segment SEGNO. */
static inline uint64_t lsn_segno(lsn_t lsn, uint32_t seg_size)
{
	return lsn / seg_size;
}

/* The 24-hex-digit file name of segment SEGNO on timeline TLI; BUF >= 25. */
void pitr_wal_segment_name(uint32_t tli, uint64_t segno, uint32_t seg_size,
			   char *buf);
/*
 * Split a segment file name (24 hex digits, any suffix after them ignored
 * by the caller) into TLI and segment number. Returns 0, or -1 when NAME
 * does not start with 24 uppercase hex digits, or when its last 8 are not
 * below the segments per 4 GB of SEG_SIZE (the name of no segment: it
 * would alias another).
 */
int pitr_wal_parse_segment_name(const char *name, uint32_t seg_size,
				uint32_t *tli, uint64_t *segno);
/* Whether SIZE is a valid segment size: a power of two, 1 MB to 1 GB. */
bool pitr_wal_valid_seg_size(uint32_t size);

/*
 * The TimestampTz range PostgreSQL prints (MIN_TIMESTAMP, END_TIMESTAMP of
 * datatype/timestamp.h): 4714-11-24 BC to 294276 AD; INT64_MIN and
 * INT64_MAX are -infinity and infinity.
 */
#define PG_MIN_TIMESTAMP (-211813488000000000LL)
#define PG_END_TIMESTAMP 9223371331200000000LL

/*
 * TimestampTz <-> microseconds since the Unix epoch, saturated at the int64
 * range: times come from WAL, where any 8 bytes can stand.
 */
static inline int64_t pg_time_to_unix_us(int64_t pg_us)
{
	int64_t us;

	if (__builtin_add_overflow(pg_us, PG_EPOCH_UNIX_SECONDS * 1000000LL,
				   &us))
		return INT64_MAX;
	return us;
}
static inline int64_t unix_us_to_pg_time(int64_t unix_us)
{
	int64_t us;

	if (__builtin_sub_overflow(unix_us, PG_EPOCH_UNIX_SECONDS * 1000000LL,
				   &us))
		return INT64_MIN;
	return us;
}

/* "2024-03-01 11:58:02.114203+00" (UTC, microseconds only when non-zero
 * digits remain, as PostgreSQL prints; "4714-11-24 00:00:00+00 BC" before
 * 1 AD); "infinity" and "-infinity" for
 * INT64_MAX and INT64_MIN, and "out-of-range time N" for a value outside
 * PostgreSQL's range. BUF >= 40. */
#define PG_TIME_TEXT 40
const char *pitr_pg_time_format(int64_t pg_us, char *buf);

#endif
