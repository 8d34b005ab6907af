/*
 * import.h - import one CSV file (or standard input) into the target table:
 * one transaction, COPY with the bytes hashed on their way, the ledger row
 * last. See snap.h for why this is all-or-nothing and happens once.
 */
#ifndef SNAP_IMPORT_H
#define SNAP_IMPORT_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "db.h"
#include "errbuf.h"
#include "plan.h"
#include "progress.h"

enum snap_outcome {
	SNAP_IMPORTED,
	SNAP_SKIPPED,	   /* this content is imported already */
	SNAP_KNOWN_FAILED, /* this content failed before (sync only) */
	SNAP_FAILED,
	SNAP_INTERRUPTED, /* *stop was set: rolled back */
};

struct snap_result {
	int64_t id; /* the snapshot_id of the rows */
	int64_t rows;
	int64_t bytes;
	double seconds;
	char sha256[65];      /* hex; empty when the file could not be read */
	struct dbops_err err; /* SNAP_FAILED: why, one line */
	struct snap_found found; /* SNAP_SKIPPED, SNAP_KNOWN_FAILED */
	int64_t replaced; /* --force: the snapshot this one replaced; 0 */
};

struct snap_import_opts {
	bool check_failed;	/* skip contents recorded as failed (sync) */
	bool always_hash_first; /* hash before sending, whatever the size */
	enum dbops_progress_mode progress;
	volatile sig_atomic_t *stop; /* set by a signal: roll back and stop */
	void (*tick)(void *arg); /* called after each chunk sent (watchdog) */
	void *tick_arg;
	struct snap_type_opts types; /* --types, --all-text */
	struct snap_dialect
		dialect; /* --delimiter, --quote, --null, --header */
	const struct snap_header *columns; /* --columns, with --header none */
	const char *snapshot_date; /* YYYY-MM-DD for snapshot_date; NULL */
	bool force; /* import a known content again, replacing it */
	int64_t id; /* the snapshot id drawn beforehand (--jobs); 0: draw */
	const char *sha256; /* the caller hashed the file: its SHA-256 (hex),
			       taken instead of hashing it first (sync) */
};

/*
 * Import PATH ("-": standard input) under the name NAME into db's table.
 * Returns the outcome; R says more. Never exits; reports nothing itself.
 */
enum snap_outcome snap_import_file(struct snap_db *db, const char *path,
				   const char *name,
				   const struct snap_import_opts *opts,
				   struct snap_result *r);

/*
 * snap-import plan: print the CREATE TABLE a first import of PATH would run
 * (into QTABLE) and why each column's type, to OUT. Reads the file only.
 * 0, or -1 with the reason in err.
 */
int snap_plan_file(const char *path, const char *qtable,
		   const struct snap_import_opts *opts, FILE *out,
		   struct dbops_err *err);

/* SHA-256 of the whole file at FD (from offset 0), as hex. 0, or -1. */
int snap_hash_fd(int fd, char hex[65]);

#endif
