/*
 * scan.h - follow the WAL of one timeline path from a base backup's start
 * and work out what recovery would do: where the backup becomes consistent,
 * the window of reachable targets, the restore points, and where replay
 * stops for a given target, with PostgreSQL's own stop rules
 * (xlogrecovery.c recoveryStopsBefore / recoveryStopsAfter).
 */
#ifndef PITR_SCAN_H
#define PITR_SCAN_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "progress.h"
#include "walarchive.h"
#include "timeline.h"
#include "wal.h"
#include "walread.h"

enum target_kind {
	TARGET_END,
	TARGET_TIME,
	TARGET_LSN,
	TARGET_XID,
	TARGET_NAME,
	TARGET_IMMEDIATE /* recovery_target = 'immediate' */
};

struct pitr_target {
	enum target_kind kind;
	int64_t time; /* TimestampTz */
	lsn_t lsn;
	uint32_t xid;
	/* An xid given with its epoch (txid_current(): epoch << 32 | xid):
	 * PostgreSQL keeps the low 32 bits; we check the epoch too. */
	bool has_epoch;
	uint32_t epoch;
	char name[RESTORE_POINT_NAME_MAX];
	bool exclusive;
	char text[128]; /* as given, for messages */
	/* A time given without a zone is read in the server's `timezone`:
	 * ZONE, and where that comes from (pitr_verify_prepare()). */
	bool zone_given;
	char zone[256];
	char zone_from[PATH_MAX + 64];
};

/* Where replay starts: a base backup (its label, or a backup history file). */
struct scan_start {
	lsn_t redo_lsn;	      /* START WAL LOCATION */
	lsn_t checkpoint_lsn; /* CHECKPOINT LOCATION */
	uint32_t tli;
	bool from_standby; /* no end-of-backup record: END_LSN says when */
	lsn_t end_lsn;	   /* known consistency point, or 0 */
	int major;	   /* 0: learn from the WAL */
	uint64_t sysid;	   /* 0: learn from the WAL */
	bool no_backup;	   /* REDO_LSN is a segment's start: find the first
				   record there, and count everything as consistent */
};

struct restore_point {
	char name[RESTORE_POINT_NAME_MAX];
	int64_t time;
	lsn_t lsn;
	lsn_t end;
	bool before_consistency;
};

/* The last record recovery applies, and why it stops there. */
struct stop_point {
	bool found;
	bool before;	  /* stops before RECORD_LSN (else after it) */
	lsn_t record_lsn; /* the record the rule matched */
	uint32_t xid;	  /* for transaction records */
	int64_t time; /* its time, for transaction and restore point records */
	bool has_time;
	bool is_commit; /* commit (or abort) */
	lsn_t replay_end; /* end of the last applied record: pg_last_wal_replay_lsn() */
	int64_t last_xact_time; /* last applied commit/abort time, or 0 */
	bool has_last_xact;
	bool consistent; /* consistency reached by then */
	uint32_t tli;	 /* the timeline replay is on there */
	char what[160];	 /* "before commit of transaction 745, time ..." */
};

struct path_scan {
	struct tl_history hist;
	struct scan_start start;
	lsn_t consistency_lsn; /* end of the end-of-backup record; 0: not reached */
	bool consistent;
	int64_t min_time; /* earliest inclusive time target */
	bool has_min_time;
	int64_t max_xact_time; /* latest commit/abort time after consistency */
	lsn_t max_xact_lsn;
	uint32_t max_xact_xid;
	bool has_max_xact;
	lsn_t last_record_lsn;	/* of the last valid record read */
	lsn_t end_lsn;		/* its end */
	int64_t last_xact_time; /* of the last commit/abort in LSN order */
	bool has_last_xact;
	lsn_t last_xact_lsn;	/* its record */
	int64_t prev_xact_time; /* of the one before it */
	bool has_prev_xact;
	struct restore_point *rps;
	size_t nrps;
	struct stop_point stop; /* for the target, when one was given */
	struct wal_reader
		reader; /* reader.stop / message say why reading ended */
	/* nextXid (epoch << 32 | xid) of the last checkpoint record read
	 * before the stop point: the epoch of the xids around it. */
	uint64_t next_full_xid;
	bool has_next_full_xid;
	/* The highest of each limit a parameter-change record read sets
	 * (xl_parameter_change's first five ints: max_connections,
	 * max_worker_processes, max_wal_senders, max_prepared_transactions,
	 * max_locks_per_transaction), and the record that set it. */
	int32_t wal_limit[5];
	lsn_t wal_limit_lsn[5];
	bool has_wal_limits;
	uint64_t first_segno, last_segno; /* the segments read */
	uint64_t segments;
	int major;
	uint64_t sysid;
};

/*
 * Read HIST's WAL from START; with TARGET (not NULL and not TARGET_END),
 * stop reading once the stop point is known. ON_SEGMENT (may be NULL)
 * sees each segment read. Returns 0 when reading ran (out->reader.stop
 * tells how it ended), -1 after dbops_log_error() (out of memory).
 */
int pitr_scan_path(const struct wal_archive *arc, const struct tl_history *hist,
		   const struct scan_start *start,
		   const struct pitr_target *target,
		   void (*on_segment)(void *, uint64_t), void *arg,
		   struct path_scan *out);
/*
 * Threads pitr_scan_path() uses: the reader from the start, and readers of
 * chunks of the later segments it takes over (scan.c). 0 (the default):
 * one per core; 1: the reader alone. --jobs sets it.
 */
extern int pitr_scan_jobs;

/*
 * pitr_scan_path() counting the segments it reads on a progress line
 * LABEL, drawn as WHEN says (--progress).
 */
int pitr_scan_path_shown(const struct wal_archive *arc,
			 const struct tl_history *hist,
			 const struct scan_start *start,
			 const struct pitr_target *target, const char *label,
			 enum dbops_progress_mode when, struct path_scan *out);
/* Free what pitr_scan_path() allocated in S (its restore points, its reader). */
void pitr_scan_free(struct path_scan *s);

/*
 * The 64-bit ID (epoch << 32 | xid) of transaction XID near NEXT_FULL, a
 * checkpoint's nextXid: the one within 2^31 of it, as PostgreSQL's
 * FullXidRelativeTo() reckons.
 */
uint64_t pitr_full_xid(uint64_t next_full, uint32_t xid);

/* Describe TARGET for messages: "time 2024-03-01 12:00:00+00 (inclusive)". */
const char *pitr_target_describe(const struct pitr_target *t, char *buf,
				 size_t len);

#endif
