/*
 * snap.h - what the parts of snap-import share: the options of a run and
 * the state of one connection to the database.
 *
 * The design, in short (see man/snap-import.1 for the user's view):
 * 1. A file is one transaction: a ledger id is drawn, the rows are sent
 *    with COPY (the server parses them; we only hash the bytes), each row
 *    takes that id as its snapshot_id through the column's default, and the
 *    ledger row is inserted last. Commit makes both visible, anything else
 *    leaves nothing. (The default is a function folded to a constant once
 *    per COPY: see db.c.)
 * 2. The ledger's target_table is the table's one name, schema-qualified
 *    (db->key), so "-t snapshots" and "-t public.snapshots" are one table.
 *    It has a unique index on (target_table, sha256) among imported
 *    files: of two importers racing on one content, the second blocks on
 *    the first's uncommitted ledger row and then fails on the index, so the
 *    content is imported once.
 * 3. Before sending a file, a cheap check: when the ledger knows a file of
 *    the same size, the file is hashed first and skipped if its content is
 *    there already, so re-running over a folder costs no COPY.
 */
#ifndef SNAP_H
#define SNAP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <libpq-fe.h>

#include "metrics.h"
#include "output.h"
#include "names.h"
#include "plan.h"
#include "progress.h"

#define SNAP_DEFAULT_TABLE "snapshots"
#define SNAP_LEDGER	   "snap_import_files"

struct snap_opts {
	const char *database; /* -d: host:port, conninfo or URI; NULL: env */
	const char *table;    /* -t: [schema.]table */
	const char *metrics_file; /* import --metrics-file */
	const char *stdin_name;	  /* import --name, for "-" */
	const char *dir;	  /* sync -D */
	const char *pattern;	  /* sync --pattern */
	const char *listen;	  /* sync --listen ADDR:PORT, as given */
	struct sockaddr_storage listen_addr; /* ... and as parsed */
	socklen_t listen_len;
	enum dbops_output_format format; /* list --format */
	bool format_given;
	bool once;	   /* sync --once */
	int64_t settle_ms; /* sync --settle: the quiet period */
	bool settle_given;
	bool all; /* list --all: failed files too */
	enum dbops_progress_mode progress;
	struct snap_type_opts types; /* --types, --all-text */
	const char *timezone;	     /* --timezone; NULL: UTC */
	const char *encoding;	     /* --encoding; NULL: UTF-8 */
	int jobs;		     /* import --jobs: files at once */
	bool force; /* import --force: import known contents again */
	bool jobs_given;
	bool types_given;
	bool copy_format_given;
	bool progress_given;
	struct snap_dialect
		dialect;	    /* --delimiter, --quote, --null, --header */
	struct snap_header columns; /* --columns */
	bool dialect_given;
	bool table_given;		       /* -t */
	struct snap_name_pattern name_pattern; /* --table-from-name */
};

/* One connection and what we know of the target table. */
struct snap_db {
	PGconn *conn;
	char *schema;	 /* NULL: the search path's */
	char *table;	 /* the table's own name */
	char *qtable;	 /* quoted, qualified: "s"."t" */
	char *qledger;	 /* quoted, qualified ledger */
	char *qfunction; /* quoted, qualified snapshot_id default */
	char *target;	 /* -t as given, for messages */
	char *key;	 /* the ledger's and the sync lock's name for the
			    table: schema.table as format('%I.%I') writes it */
	char **columns;	 /* the table's columns, once known */
	int ncolumns;
	bool table_known;    /* columns loaded (or table created) */
	bool create_pending; /* created or altered in the open transaction */
	char *added;	     /* columns added so, as "name" type, ...*/
	bool index_pending;  /* created: the snapshot_id index to make */
	bool date_column;    /* --table-from-name with a date: the table has
				snapshot_date, the date of each file's name */
	char *timezone;	     /* the session's TimeZone */
	char *encoding;	     /* the files' encoding; NULL: UTF-8 */
	char by[300];	     /* user@host, for the ledger */
};

/* Counters of a run, for the summary and the metrics. */
struct snap_stats {
	struct dbops_metrics *metrics;
	struct dbops_metric *files; /* {result=imported|skipped|failed} */
	struct dbops_metric *rows;
	struct dbops_metric *bytes;
	struct dbops_metric *duration; /* histogram, seconds */
	struct dbops_metric *last_success;
	struct dbops_metric *waiting;
	unsigned imported, skipped, failed;
};

#endif
