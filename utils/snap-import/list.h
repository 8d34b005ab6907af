/*
 * list.h - snap-import list.
 */
#ifndef SNAP_LIST_H
#define SNAP_LIST_H

#include <stdbool.h>

#include "db.h"
#include "output.h"

/*
 * Print the imports into db's table (ALL: failed ones too, with their
 * error), or, with FILES, whether each file's content is imported. Errors
 * are reported; returns 0, or -1 if any.
 */
int snap_list(struct snap_db *db, enum dbops_output_format format, bool all,
	      char *const *files, int nfiles);

#endif
