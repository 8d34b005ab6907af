/*
 * plan.h - the table a first import creates: each header name's column
 * name (shortened to PostgreSQL's 63 bytes when longer) and type (inferred,
 * or given with --types or --all-text), with the reason for each, as
 * "snap-import plan" prints it.
 */
#ifndef SNAP_PLAN_H
#define SNAP_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "csvhead.h"
#include "errbuf.h"

/* PostgreSQL's identifier limit (NAMEDATALEN - 1). */
#define SNAP_NAME_MAX 63

/* One --types entry. */
struct snap_override {
	char *column; /* a header name, as in the file */
	const char *type;
};

/* --types, --all-text and --copy-format, the options of a new table. */
struct snap_type_opts {
	struct snap_override *overrides;
	size_t count;
	bool all_text;
	bool copy_csv; /* --copy-format csv: its first file never binary */
};

/*
 * Parse --types "col=type,col=type". A type is one of text, boolean,
 * smallint, integer, bigint, numeric, real, double precision, date,
 * timestamp, timestamptz, time, uuid, json, jsonb. Appends to *o. Returns
 * 0, or -1 with the reason in err.
 */
int snap_types_parse(const char *spec, struct snap_type_opts *o,
		     struct dbops_err *err);
void snap_types_free(struct snap_type_opts *o);

/*
 * The column name for header name NAME: NAME when at most 63 bytes; else
 * its first bytes (a whole UTF-8 character at most 54 bytes), '_' and the
 * first 8 hex digits of the SHA-256 of the whole NAME: 63 bytes, the same
 * every time. OUT has room for SNAP_NAME_MAX + 1 bytes.
 */
void snap_column_name(const char *name, char *out);

/* The plan of one table. */
struct snap_plan {
	size_t count;
	char **columns;	    /* the table's column names */
	const char **types; /* their SQL types */
	char **why;	    /* why each type */
	bool renamed;	    /* some name was shortened */
};

/*
 * Plan the columns of HEADER_NAMES (COUNT of them): the names, and the
 * types from GUESSES (NULL: every column text, for the reason NO_GUESS)
 * unless O says otherwise. Fails (-1, reason in err) when a --types column
 * is not in the header, or when two names shorten to the same one.
 */
int snap_plan_make(char *const *header_names, size_t count,
		   const struct snap_guess *guesses, const char *no_guess,
		   const struct snap_type_opts *o, struct snap_plan *p,
		   struct dbops_err *err);
void snap_plan_free(struct snap_plan *p);

/* Print the CREATE TABLE of P for table QTABLE, each column's reason. */
void snap_plan_print(FILE *f, const char *qtable, char *const *header_names,
		     const struct snap_plan *p);

#endif
