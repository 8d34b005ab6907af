/*
 * reduce.h - world-query --reduce: SQL over the merged rows, in SQLite.
 */
#ifndef WQ_REDUCE_H
#define WQ_REDUCE_H

#include "output.h"
#include "query.h"

/*
 * Load the merged rows of R into an in-memory SQLite table "rows" and
 * print what SQL answers through W (of FORMAT: JSON writes a number column
 * whose values a double would not keep as strings). Numbers are exact or
 * refused (see reduce.c); sum(), total() and avg() add exactly. Every
 * column's kind follows all its values, not the first row's. Returns 0,
 * or -1 after reporting.
 */
int wq_reduce(struct wq_result *r, size_t n, const struct wq_merge *m,
	      const char *sql, enum dbops_output_format format,
	      struct dbops_output *w);

#endif
