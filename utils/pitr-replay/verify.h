/*
 * verify.h - the checks before replay, shared by `verify` and `restore`:
 * the base backup, the server binaries, the target timeline's ancestry,
 * and every WAL record from the backup's start to the target.
 */
#ifndef PITR_VERIFY_H
#define PITR_VERIFY_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>

#include "walarchive.h"
#include "backup.h"
#include "progress.h"
#include "scan.h"
#include "timeline.h"

/* --timeline: recovery_target_timeline's three forms. */
enum pitr_timeline_goal {
	TIMELINE_LATEST,  /* the default */
	TIMELINE_CURRENT, /* the backup's own timeline */
	TIMELINE_NUMERIC, /* verify_opts.timeline */
};

struct verify_opts {
	const char *base;
	const char *archive;
	const char *
		pg_bindir; /* restore: NULL for /usr/lib/postgresql/<major>/bin */
	struct pitr_target target;
	enum pitr_timeline_goal timeline_goal;
	uint32_t timeline; /* TIMELINE_NUMERIC: the ID given */
	enum dbops_progress_mode progress;
	const char *conf;     /* --conf: the server's configuration file */
	const char *timezone; /* --set timezone=VALUE */
};

struct plan {
	struct base_backup backup;
	struct wal_archive arc;
	uint32_t tli; /* the target timeline */
	struct tl_history hist;
	/* recovery_target_timeline for the server: "current" when the
	 * backup's own timeline has no history file (PostgreSQL refuses a
	 * number without one), else the number of TLI. */
	char tli_setting[16];
	struct scan_start start;
	struct path_scan scan;
	char bindir[PATH_MAX]; /* restore: the server binaries; "" for verify */
	struct pitr_target target;
	/* For TARGET_END: replay up to and including the last record. */
	lsn_t end_record_lsn;
};

/*
 * Run every check. Returns 0 when recovery can reach the target (PLAN says
 * where it stops), or -1 after reporting the first problem found.
 */
int pitr_verify_plan(const struct verify_opts *o, struct plan *plan);

/* pitr_verify_plan() in its two steps: what needs no WAL (the base backup, the
 * server binaries, the archive's listing, the timeline), then the WAL.
 * Each returns 0, or -1 after reporting; pitr_verify_wal() only after
 * pitr_verify_prepare() succeeded on the same PLAN. */
int pitr_verify_prepare(const struct verify_opts *o, struct plan *plan);
int pitr_verify_wal(const struct verify_opts *o, struct plan *plan);

/* Free what pitr_verify_prepare() and pitr_verify_wal() allocated in PLAN, after
 * success or failure alike (PLAN was zeroed by pitr_verify_prepare()). */
void pitr_plan_free(struct plan *plan);

/* Print what verification found, as "key: value" lines, to OUT. */
void pitr_plan_report(const struct plan *plan, FILE *out);

struct manifest_check;

/*
 * The same, and what the manifest check MC found (SKIPPED: it did not run),
 * as --format json: an array holding one object, through common/output.h.
 * Returns 0, or -1 after an error (a failed write).
 */
int pitr_plan_report_json(const struct plan *plan,
			  const struct manifest_check *mc, bool skipped,
			  FILE *out);

/* The installed server binaries of MAJOR: 0, or -1 after an error naming
 * the Debian package. BINDIR (PATH_MAX) receives the directory. */
int pitr_find_server_binaries(int major, const char *given, char *bindir);

#endif
