/*
 * names.h - --table-from-name: the target table, and the snapshot's date,
 * read from a file's name. Pure; for the tests.
 *
 * A pattern is the file name with conversions in it:
 *
 *	%Y %m %d	the date: 4, 2 and 2 digits, a real date; all three or
 *			none
 *	%t		the table's name: one character or more
 *	%%		a '%'
 *
 * Anything else matches itself. Without %t, the table is the text before
 * the first conversion, separators ('_', '-', '.', ' ') at its end
 * dropped: snapshot_%Y%m%d.csv loads into "snapshot". A name compressed
 * (.gz, .zst, .xz, .bz2 after what the pattern matches) matches as the
 * name without that suffix.
 */
#ifndef SNAP_NAMES_H
#define SNAP_NAMES_H

#include <stdbool.h>

#include "errbuf.h"

/* A date as "YYYY-MM-DD" and its NUL. */
#define SNAP_DATE_LEN 11

struct snap_name_pattern {
	const char *pattern; /* as given */
	char *table;	     /* without %t: the fixed table */
	bool has_date;	     /* %Y, %m and %d */
};

/*
 * Parse PATTERN. 0, or -1 with the reason in err:
 *	a lone % at the end of the pattern
 *	%x is not a conversion: use %Y, %m, %d, %t or %%
 *	%Y, %m and %d go together: the date needs all three
 *	%Y appears twice
 *	no table: put %t where its name is, or a name before the date
 */
int snap_name_pattern_parse(const char *pattern, struct snap_name_pattern *p,
			    struct dbops_err *err);
void snap_name_pattern_free(struct snap_name_pattern *p);

/*
 * Match the file name NAME (its last path component is used). Returns 0
 * with *TABLE (the caller frees it) and DATE ("" when the pattern has
 * none), or -1 when it does not match.
 */
int snap_name_match(const struct snap_name_pattern *p, const char *name,
		    char **table, char date[SNAP_DATE_LEN]);

/* The longest name PostgreSQL keeps (NAMEDATALEN - 1). */
#define SNAP_NAME_MAX 63

/*
 * Whether TABLE, "table" or "schema.table" (split at the first '.'), names
 * a table PostgreSQL keeps as written: each part 1 to 63 bytes (a longer
 * identifier the server cuts to 63, so two long names would be one
 * table). 0, or -1 with the reason in ERR:
 *	invalid table name "a."
 *	invalid table name "s.tttt...": "tttt..." is longer than 63 bytes,
 *	which PostgreSQL would cut
 */
int snap_table_name_check(const char *table, struct dbops_err *err);

#endif
