/*
 * query.h - one statement on many worlds at once, each through its own
 * connection (Connector/C, reading the inventory's group of that world),
 * each with its own time limit; then the results merged into one.
 */
#ifndef WQ_QUERY_H
#define WQ_QUERY_H

#include <stdbool.h>

#include <mysql.h>

#include "inventory.h"
#include "output.h"

struct wq_result {
	const struct wq_world *world;
	MYSQL *conn;
	MYSQL_RES *res;		     /* rows, when the statement had some */
	unsigned long long affected; /* otherwise */
	char error[1024];	     /* why this world failed; "" if not */
};

/*
 * Run SQL on every world of INV, at most 64 at once, each within TIMEOUT
 * seconds (connecting, sending, waiting for the answer). Returns an array
 * of inv->count results in inventory order (caller frees with
 * wq_results_free). SQL NULL: connect and ping only (--list).
 */
struct wq_result *wq_run(const struct wq_inventory *inv, const char *sql,
			 int timeout);
void wq_results_free(struct wq_result *r, size_t n);

/* How world-query shows a column of this field: number, binary or text. */
enum dbops_column_kind wq_column_kind(const MYSQL_FIELD *f);

/*
 * The merged answer, for printing or --reduce: the first column "world",
 * then the columns of the first world that answered with rows. Worlds
 * whose columns differ get an error and no rows. A visitor sees each row.
 */
struct wq_merge {
	unsigned ncols; /* world included */
	char **names;
	enum dbops_column_kind *kinds;
	bool rows; /* a result set; false: affected rows */
};

int wq_merge_columns(struct wq_result *r, size_t n, struct wq_merge *m);
void wq_merge_free(struct wq_merge *m);

/*
 * Call row(arg, values) for every row of every world in order (values has
 * m->ncols entries). Stops at a non-zero return, which it returns.
 */
int wq_merge_rows(struct wq_result *r, size_t n, const struct wq_merge *m,
		  int (*row)(void *arg, const struct dbops_value *values),
		  void *arg);

#endif
