/*
 * reduce.h - world-query --reduce: SQL over the merged rows, in SQLite.
 */
#ifndef WQ_REDUCE_H
#define WQ_REDUCE_H

#include "output.h"
#include "query.h"

/*
 * Load the merged rows of R into an in-memory SQLite table "rows" and
 * print what SQL answers through W. Returns 0, or -1 after reporting.
 */
int wq_reduce(struct wq_result *r, size_t n, const struct wq_merge *m,
	      const char *sql, struct dbops_output *w);

#endif
