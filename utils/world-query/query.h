/*
 * query.h - one statement on many worlds at once, each through its own
 * connection (Connector/C, reading the inventory's group of that world),
 * each with its own time limit; then the results merged into one.
 */
#ifndef WQ_QUERY_H
#define WQ_QUERY_H

#include <stdbool.h>

#include <mysql.h>

#include "errbuf.h"
#include "inventory.h"
#include "output.h"

struct wq_result {
	const struct wq_world *world;
	MYSQL *conn;
	MYSQL_RES **sets; /* its result sets, in order (a CALL may send more
			     than one) */
	unsigned nsets;
	unsigned long long affected; /* when it sent none */
	struct dbops_err err;	     /* why this world failed; "" if not */
	bool late; /* it ended, and took effect, after the time limit, before
		      the cancel reached the server: a success */
	double seconds; /* from connecting to its last result set stored */
};

/*
 * Pure: whether SQL only reads (its first keyword SELECT, SHOW, DESCRIBE,
 * DESC, EXPLAIN, WITH, VALUES, TABLE, CHECKSUM, CALL, DO, HELP, or a "("),
 * so that it may run without --write, in a read-only transaction (which
 * stops a CALL or a SELECT that would write). Anything else may change data
 * or the schema: DDL would end even a read-only transaction.
 */
bool wq_statement_reads(const char *sql);

/*
 * Run SQL on every world of INV, at most DBOPS_PARALLEL_MAX at once, each
 * within TIMEOUT seconds (connecting, sending, waiting for the answer).
 * Without WRITE, in a read-only transaction (START TRANSACTION READ ONLY,
 * then ROLLBACK). A statement still running at the time limit is cancelled
 * on the server (KILL QUERY over a second connection), and its outcome
 * awaited: interrupted (nothing took effect: an error saying so), or ended
 * first (a success, with late set); an error says when the outcome cannot
 * be known. Returns an array of inv->count results in inventory order
 * (caller frees with wq_results_free); a world that failed has its reason
 * in err. SQL NULL: connect and ping only (--list). Exits on out of memory
 * (xalloc.h).
 */
struct wq_result *wq_run(const struct wq_inventory *inv, const char *sql,
			 unsigned timeout, bool write);

/* Close the connections of R's N results and free them; R may be NULL. */
void wq_results_free(struct wq_result *r, size_t n);

/*
 * How world-query shows a column of this field: number, binary or text.
 * GEOMETRY is binary: the server's form, a 4-byte little-endian SRID and
 * then the WKB, as the mariadb client shows it with --binary-as-hex.
 */
enum dbops_column_kind wq_column_kind(const MYSQL_FIELD *f);

/*
 * How many answers the merge has: the result sets of the first world that
 * answered (1 for a statement that sent none: its affected rows), or 0
 * when no world answered (every result has its err). Worlds that answered
 * otherwise (rows here but none there, another number of result sets) get
 * their err here.
 */
unsigned wq_merge_sets(struct wq_result *r, size_t n);

/*
 * The merged answer SET (0 to wq_merge_sets() - 1), for printing or
 * --reduce: the first column "world", then the columns of the first world
 * that answered. A result column named "world" (in any case) is renamed
 * "world_1" (or _2... whichever is free), so that the world column stays
 * one of a kind; names[c] then differs from fields[c - 1].name. Worlds
 * whose columns differ get an error and no rows.
 */
struct wq_merge {
	unsigned set;	/* which result set */
	unsigned ncols; /* world included */
	char **names;
	enum dbops_column_kind *kinds;
	const MYSQL_FIELD *fields; /* the result's ncols - 1; NULL: affected
				      rows */
	char **owned;		   /* the renamed names, to free */
	unsigned nowned;
	bool rows; /* a result set; false: affected rows */
};

/*
 * Fill M with result set SET of R's N results: 0, or -1 when no world
 * answered. Call after wq_merge_sets(). Exits on out of memory (xalloc.h).
 */
int wq_merge_columns(struct wq_result *r, size_t n, unsigned set,
		     struct wq_merge *m);

/*
 * For JSON: every NUMBER column of M that holds a value a double would not
 * read back (wq_number_fits_double(); FLOAT and DOUBLE columns are doubles
 * and always fit) becomes TEXT, so its values are strings, all of them:
 * one JSON type per column.
 */
void wq_merge_json_kinds(struct wq_result *r, size_t n, struct wq_merge *m);

/* Free what M holds (not the result's column names: the results own them). */
void wq_merge_free(struct wq_merge *m);

/*
 * Call row(arg, values) for every row of M's result set of every world in
 * order (values has m->ncols entries). Stops at a non-zero return, which it returns.
 */
int wq_merge_rows(struct wq_result *r, size_t n, const struct wq_merge *m,
		  int (*row)(void *arg, const struct dbops_value *values),
		  void *arg);

#endif
