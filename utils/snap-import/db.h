/*
 * db.h - snap-import's side of PostgreSQL: connecting, the target table and
 * its ledger (the metadata table snap_import_files), and server errors
 * turned into one line naming the line and column of the file.
 *
 * A function that fails leaves its reason in ERR (errbuf.h; NULL when the
 * caller does not want it, as for a ROLLBACK after a failure). Running out
 * of memory is not reported: it ends the process (xalloc.h).
 */
#ifndef SNAP_DB_H
#define SNAP_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "csvhead.h"
#include "errbuf.h"
#include "snap.h"

/*
 * Turn what -d names into libpq keywords: NULL (libpq's environment), a
 * URI, a conninfo string ("host=x dbname=y"), "host:port" (also
 * "[::1]:5432"), "host:port/dbname", or a database name. Pure; for the
 * tests. HOSTBUF gets the host and the port; KEYS and VALUES get room for
 * 3 entries; returns how many were set.
 */
int snap_db_conn_params(const char *database, char *hostbuf, size_t hostlen,
			const char **keys, const char **values);

/*
 * Connect and describe TABLE ("[schema.]name"); set the session's TimeZone
 * to TIMEZONE (NULL: UTC) and DateStyle to ISO; find the table's key (see
 * snap.h); check ENCODING (NULL: UTF-8), the files' encoding. Returns 0,
 * or -1 with a one-line reason in err.
 */
int snap_db_open(struct snap_db *db, const char *database, const char *table,
		 const char *timezone, const char *encoding,
		 struct dbops_err *err);

/* Set the session's TimeZone (db->timezone) and DateStyle again, as after
 * a reconnection. 0, or -1 with the reason in err. */
int snap_db_set_session(struct snap_db *db, struct dbops_err *err);

/* Close the connection and free what db holds; fine after a failed open. */
void snap_db_close(struct snap_db *db);

/*
 * Make sure the ledger and the target table exist: create the table from
 * the header (H's names are the column names) with the SQL TYPES when it
 * is missing (its index on snapshot_id is made by snap_db_create_index
 * after the first file's COPY), and check the header against
 * the table. Runs under an advisory lock, so importers starting at once
 * create things once. The ledger and the snapshot_id function are made
 * only when missing (a loader without CREATE finds them).
 *
 * Header columns the table lacks (schema drift) are added with ALTER TABLE
 * ADD COLUMN and their TYPES; when TYPES is NULL, 1 is returned instead:
 * the caller infers the types and calls again.
 *
 * When the table exists and nothing is added, in a transaction of its
 * own; when it is created or columns are added, the transaction stays open
 * (db->create_pending) for the file's COPY and ledger row: a failed import
 * leaves no table and no column. Returns 0, 1, or -1 with a reason in err.
 */
int snap_db_prepare_table(struct snap_db *db, const struct snap_header *h,
			  const char *const *types, struct dbops_err *err);

/* The index on snapshot_id of a table created in the open transaction,
 * once the first file's rows are in; nothing otherwise. 0, or -1. */
int snap_db_create_index(struct snap_db *db, struct dbops_err *err);

/* The file's transaction committed: a pending creation or added columns
 * are done (the added ones are told, as an info line). */
void snap_db_committed(struct snap_db *db);

/* Forget the table's columns (after a rollback): learn them again. */
void snap_db_forget_table(struct snap_db *db);

/* Roll back a pending creation, if any (a first import that did not get
 * as far as its commit). */
void snap_db_end_pending(struct snap_db *db);

/* Whether the target table exists: 1 yes, 0 no, -1 error (in err). */
int snap_db_table_exists(struct snap_db *db, struct dbops_err *err);

/* 1 when the target table exists and this role may read it, 0 when it
 * does not exist, 2 when it may not be read; -1 error (in err). */
int snap_db_table_readable(struct snap_db *db, struct dbops_err *err);

/* Whether the ledger table exists: 1 yes, 0 no, -1 error (in err). */
int snap_db_ledger_exists(struct snap_db *db, struct dbops_err *err);

/* What the ledger says of one content. */
struct snap_found {
	int64_t id;
	char name[1024];
	char at[64];	 /* imported_at, with its offset */
	char error[512]; /* failed ones: why */
	int64_t rows;	 /* the rows it brought */
};

/*
 * Look SHA256 (hex) up among imported (FAILED false) or failed (FAILED
 * true) files of the target table. 1 found (in *f), 0 not, -1 error.
 */
int snap_db_find(struct snap_db *db, const char *sha256, bool failed,
		 struct snap_found *f, struct dbops_err *err);

/*
 * Whether the rows of the imported snapshot F are gone from the table
 * (deleted, truncated, or the table dropped): 1 when F brought rows and
 * not one with its snapshot_id is left, 0 otherwise (also when this role
 * may not read the table: it cannot tell), -1 error (in err). One probe of
 * the snapshot_id index; a partial DELETE is not noticed.
 */
int snap_db_rows_gone(struct snap_db *db, const struct snap_found *f,
		      struct dbops_err *err);

/*
 * For the probes of the snapshot_id index, in the transaction: the planner
 * takes rows of one snapshot for spread over the table and would read it
 * from the start to find one (a snapshot's rows are together, at its
 * place); JIT would compile for the cost of a scan refused.
 */
#define SNAPSHOT_PROBE_SETTINGS                             \
	"SELECT set_config('enable_seqscan', 'off', true)," \
	" set_config('jit', 'off', true)"

/* Whether an imported file of exactly BYTES bytes is known: 1, 0, -1. */
int snap_db_size_known(struct snap_db *db, int64_t bytes,
		       struct dbops_err *err);

/*
 * NAME as the ledger stores it: valid UTF-8 as it is, each byte that is
 * not part of a valid UTF-8 sequence as \xNN (upper-case hex), so that a
 * file named in Latin-1 can be recorded in a UTF-8 database. Caller frees.
 */
char *snap_db_ledger_name(const char *name);

/*
 * Make the ledger when it is missing (as the first import does), for a
 * failure to record before any file got as far (sync). 0, or -1.
 */
int snap_db_ensure_ledger(struct snap_db *db, struct dbops_err *err);

/* Record a failed import of a content (sync), replacing an older record. */
int snap_db_record_failure(struct snap_db *db, const char *name,
			   const char *sha256, int64_t bytes, const char *why,
			   struct dbops_err *err);

/*
 * Run SQL with text parameters; NULL on a connection failure (reason in
 * err). The caller checks the status and clears the result.
 */
PGresult *snap_db_exec(struct snap_db *db, const char *sql, int nparams,
		       const char *const *params, struct dbops_err *err);

/*
 * The same with "{ledger}" in SQL (once) replaced by the ledger's quoted,
 * qualified name (snap_import_files beside the table).
 */
PGresult *snap_db_ledger_exec(struct snap_db *db, const char *sql, int nparams,
			      const char *const *params, struct dbops_err *err);
int snap_db_ledger_command(struct snap_db *db, const char *sql, int nparams,
			   const char *const *params, struct dbops_err *err);

/* Run SQL that returns no rows; 0, or -1 with the server's reason in err. */
int snap_db_command(struct snap_db *db, const char *sql, int nparams,
		    const char *const *params, struct dbops_err *err);

/*
 * The server's error as one line: "line 5, column level: invalid input
 * syntax for type integer: "high"" for COPY errors (line and column taken
 * from the error's context), the primary message otherwise. Pure but for
 * reading RES.
 */
void snap_db_describe_error(const PGresult *res, struct dbops_err *err);

/* The same for COPY's own errors, its line numbers turned back into the
 * file's (SCAN dropped empty lines; NULL: as they are). */
void snap_db_describe_copy_error(const PGresult *res,
				 const struct snap_scan *scan,
				 struct dbops_err *err);

/*
 * The SQLSTATE of the last server error described (by the two functions
 * above) in this thread, "" if none since snap_db_clear_sqlstate(): how
 * sync tells a passing failure from one of the file's content.
 */
const char *snap_db_last_sqlstate(void);
void snap_db_clear_sqlstate(void);

/* The same from the parts, for the tests. */
void snap_db_format_error(const char *primary, const char *context,
			  const struct snap_scan *scan, struct dbops_err *err);

#endif
