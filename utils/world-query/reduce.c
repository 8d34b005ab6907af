/*
 * reduce.c - --reduce: the merged rows go into an in-memory SQLite table
 * named "rows" (world plus the result's columns, numbers with NUMERIC
 * affinity, bytes as BLOBs), and the reducing SQL runs on it.
 *
 * Numbers stay exact: an integer that fits 64 bits is an INTEGER, a
 * decimal of up to 15 significant digits a REAL (which gives the same
 * decimal back, and SQLite prints 15 digits), FLOAT and DOUBLE values
 * REALs. A value beyond that (a DECIMAL of more digits, a BIGINT UNSIGNED
 * above 2^63) has no exact SQLite number: the reducing SQL may not read
 * its column (an authorizer refuses it, naming the column), rather than
 * get a rounded one. sum(), total() and avg() are replaced by exact
 * decimal ones (decimal.h), since SQLite adds in doubles: 16,000 amounts
 * of two decimals sum to 134833.020000063, not 134833.02.
 */
#include "reduce.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sqlite3.h>

#include "decimal.h"
#include "log.h"
#include "xalloc.h"

/* "name" with double quotes doubled, appended to SQL at *len. */
static void append_ident(char **sql, size_t *len, size_t *cap, const char *name)
{
	size_t need = *len + 2 * strlen(name) + 32;

	if (need > *cap) {
		*sql = dbops_xreallocarray(*sql, need, 2);
		*cap = need * 2;
	}
	(*sql)[(*len)++] = '"';
	for (const char *p = name; *p; p++) {
		if (*p == '"')
			(*sql)[(*len)++] = '"';
		(*sql)[(*len)++] = *p;
	}
	(*sql)[(*len)++] = '"';
	(*sql)[*len] = '\0';
}

static char *create_statement(const struct wq_merge *m)
{
	size_t cap = 256, len = 0;
	char *sql = dbops_xmalloc(cap);

	len = (size_t)snprintf(sql, cap, "CREATE TABLE rows (");
	for (unsigned c = 0; c < m->ncols; c++) {
		const char *type =
			m->kinds[c] == DBOPS_COLUMN_NUMBER   ? " NUMERIC"
			: m->kinds[c] == DBOPS_COLUMN_BINARY ? " BLOB"
							     : " TEXT";

		append_ident(&sql, &len, &cap, m->names[c]);
		len += (size_t)snprintf(sql + len, cap - len, "%s%s", type,
					c + 1 < m->ncols ? ", " : ")");
	}
	return sql;
}

/* ---- exact sum(), total(), avg() ------------------------------------- */

struct exact_sum {
	struct wq_decimal acc; /* the exact sum of the values so far */
	double fsum;	       /* the same in doubles */
	long long count;       /* values (not NULL) */
	int scale;	       /* the largest scale of a value */
	bool inexact;  /* a double that is no short decimal: add in doubles */
	bool overflow; /* beyond 38 digits */
	bool fraction; /* a value with a point: not an integer sum */
};

/*
 * The aggregate's state: SQLite's context memory is 8-byte aligned, an
 * __int128 wants 16, so the state starts at the next multiple of 16.
 * NULL when out of memory, or when none was made and MAKE is false.
 */
static struct exact_sum *sum_context(sqlite3_context *ctx, bool make)
{
	char *p = sqlite3_aggregate_context(
		ctx, make ? (int)(sizeof(struct exact_sum) + 16) : 0);

	if (p == NULL)
		return NULL;
	return (struct exact_sum *)(p + (16 - (uintptr_t)p % 16) % 16);
}

/* ARG as an exact decimal: 0, 1 when it is a double to add as one, or -1
 * after setting the error of CTX. */
static int value_decimal(sqlite3_context *ctx, sqlite3_value *arg,
			 struct wq_decimal *d)
{
	char text[40];
	const char *s;
	double x;

	switch (sqlite3_value_type(arg)) {
	case SQLITE_INTEGER:
		d->units = sqlite3_value_int64(arg);
		d->scale = 0;
		return 0;
	case SQLITE_FLOAT:
		/* A REAL that came from a decimal of up to 15 digits gives
		 * that decimal back; any other is a double to add as such. */
		x = sqlite3_value_double(arg);
		snprintf(text, sizeof(text), "%.15g", x);
		if (strtod(text, NULL) != x ||
		    wq_decimal_parse(text, strlen(text), d) != 0)
			return 1;
		return 0;
	case SQLITE_TEXT:
		s = (const char *)sqlite3_value_text(arg);
		if (wq_decimal_parse(s, (size_t)sqlite3_value_bytes(arg), d) ==
		    0)
			return 0;
		break;
	default:
		break;
	}
	sqlite3_result_error(
		ctx, "sum(), total() and avg() of --reduce take numbers only",
		-1);
	return -1;
}

/* Add (SIGN 1) or take away (-1, a window frame moving on) one value. */
static void sum_value(sqlite3_context *ctx, sqlite3_value *arg, int sign)
{
	struct exact_sum *s = sum_context(ctx, true);
	struct wq_decimal d;
	int kind;

	if (s == NULL) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	if (sqlite3_value_type(arg) == SQLITE_NULL)
		return;
	kind = value_decimal(ctx, arg, &d);
	if (kind < 0)
		return;
	s->count += sign;
	s->fsum += sign * sqlite3_value_double(arg);
	if (kind > 0) {
		s->inexact = true;
		return;
	}
	if (d.scale > 0 || sqlite3_value_type(arg) == SQLITE_FLOAT)
		s->fraction = true;
	if (d.scale > s->scale)
		s->scale = d.scale;
	if ((sign > 0 ? wq_decimal_add(&s->acc, &d)
		      : wq_decimal_sub(&s->acc, &d)) != 0)
		s->overflow = true;
}

static void sum_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	sum_value(ctx, argv[0], 1);
}

static void sum_inverse(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	sum_value(ctx, argv[0], -1);
}

/* D as the result: an INTEGER or REAL when that is exact, else TEXT. */
static void result_decimal(sqlite3_context *ctx, const struct wq_decimal *d,
			   bool integer)
{
	char text[2 * WQ_DECIMAL_DIGITS + 4];
	size_t len = wq_decimal_format(d, text, sizeof(text));
	long long ll;

	if (integer && d->scale == 0 &&
	    wq_decimal_digits(d) <= 18) { /* below 10^18: fits 64 bits */
		ll = strtoll(text, NULL, 10);
		sqlite3_result_int64(ctx, ll);
	} else if (wq_decimal_digits(d) <= 15) {
		sqlite3_result_double(ctx, strtod(text, NULL));
	} else {
		sqlite3_result_text(ctx, text, (int)len, SQLITE_TRANSIENT);
	}
}

/* sum(), total() or avg() (WHICH: 's', 't', 'a') of the values so far. */
static void sum_result(sqlite3_context *ctx, char which)
{
	struct exact_sum *s = sum_context(ctx, false);
	struct wq_decimal avg;

	if (s == NULL || s->count == 0) {
		if (which == 't')
			sqlite3_result_double(ctx, 0.0);
		else
			sqlite3_result_null(ctx);
	} else if (s->inexact) {
		/* Doubles, as SQLite (and the server, for DOUBLE) add. */
		sqlite3_result_double(ctx, which == 'a' ? s->fsum / s->count
							: s->fsum);
	} else if (s->overflow) {
		sqlite3_result_error(
			ctx,
			"the exact sum needs more than 38 digits: no answer rather than a rounded one",
			-1);
	} else if (which != 'a') {
		result_decimal(ctx, &s->acc, which == 's' && !s->fraction);
	} else if (wq_decimal_divide(&s->acc, s->count, s->scale + 4, &avg) !=
		   0) {
		sqlite3_result_error(
			ctx,
			"the exact average needs more than 38 digits: no answer rather than a rounded one",
			-1);
	} else {
		result_decimal(ctx, &avg, false);
	}
}

static void sum_final(sqlite3_context *ctx)
{
	sum_result(ctx, 's');
}

static void total_final(sqlite3_context *ctx)
{
	sum_result(ctx, 't');
}

static void avg_final(sqlite3_context *ctx)
{
	sum_result(ctx, 'a');
}

/* Replace SQLite's sum(), total() and avg(), as aggregates and windows. */
static int exact_functions(sqlite3 *db)
{
	static const struct {
		const char *name;
		void (*final)(sqlite3_context *);
	} f[] = { { "sum", sum_final },
		  { "total", total_final },
		  { "avg", avg_final } };

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (sqlite3_create_window_function(
			    db, f[i].name, 1,
			    SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, sum_step,
			    f[i].final, f[i].final, sum_inverse,
			    NULL) != SQLITE_OK)
			return -1;
	return 0;
}

/* ---- loading the rows ------------------------------------------------ */

struct loader {
	sqlite3_stmt *insert;
	const struct wq_merge *m;
	sqlite3 *db;
	bool *inexact;	  /* per column: a value SQLite cannot keep */
	char **example;	  /* the first such value, and its world */
	unsigned refused; /* the column the authorizer refused, or 0 */
};

/* A number of column C into parameter I, exactly where SQLite can. */
static void bind_number(struct loader *l, unsigned c, int i,
			const struct dbops_value *v)
{
	enum enum_field_types t =
		l->m->fields ? l->m->fields[c - 1].type : MYSQL_TYPE_LONGLONG;
	const char *s = v[c].data;
	char text[64];
	long long ll;
	char *end;

	if (v[c].len >= sizeof(text)) {
		ll = 0;
		end = NULL;
	} else {
		memcpy(text, s, v[c].len);
		text[v[c].len] = '\0';
		errno = 0;
		ll = strtoll(text, &end, 10);
	}
	if (end != NULL && *end == '\0' && end != text && errno == 0) {
		sqlite3_bind_int64(l->insert, i, ll);
	} else if (end != NULL &&
		   (t == MYSQL_TYPE_FLOAT || t == MYSQL_TYPE_DOUBLE ||
		    wq_number_fits_double(s, v[c].len))) {
		sqlite3_bind_double(l->insert, i, strtod(text, NULL));
	} else {
		/* Stored rounded, but the reducing SQL may not read it. */
		if (!l->inexact[c])
			l->example[c] =
				dbops_xasprintf("%.*s (world \"%s\")",
						(int)v[c].len, s, v[0].data);
		l->inexact[c] = true;
		sqlite3_bind_text64(l->insert, i, s, v[c].len, SQLITE_STATIC,
				    SQLITE_UTF8);
	}
}

static int insert_row(void *arg, const struct dbops_value *v)
{
	struct loader *l = arg;

	sqlite3_reset(l->insert);
	for (unsigned c = 0; c < l->m->ncols; c++) {
		int i = (int)c + 1;

		if (v[c].data == NULL)
			sqlite3_bind_null(l->insert, i);
		else if (l->m->kinds[c] == DBOPS_COLUMN_BINARY)
			sqlite3_bind_blob64(l->insert, i, v[c].data, v[c].len,
					    SQLITE_STATIC);
		else if (l->m->kinds[c] == DBOPS_COLUMN_NUMBER)
			bind_number(l, c, i, v);
		else
			sqlite3_bind_text64(l->insert, i, v[c].data, v[c].len,
					    SQLITE_STATIC, SQLITE_UTF8);
	}
	return sqlite3_step(l->insert) == SQLITE_DONE ? 0 : 1;
}

/* The reducing SQL may not read a column with a value SQLite cannot keep. */
static int authorize(void *arg, int action, const char *table,
		     const char *column, const char *db, const char *trigger)
{
	struct loader *l = arg;

	if (action != SQLITE_READ || table == NULL || column == NULL ||
	    strcmp(table, "rows") != 0)
		return SQLITE_OK;
	for (unsigned c = 1; c < l->m->ncols; c++)
		if (l->inexact[c] && strcasecmp(l->m->names[c], column) == 0) {
			l->refused = c;
			return SQLITE_DENY;
		}
	return SQLITE_OK;
}

/* Load the rows into a new table "rows": 0, or -1 after reporting. */
static int load_rows(struct wq_result *r, size_t n, struct loader *l)
{
	const struct wq_merge *m = l->m;
	char *create = create_statement(m);
	size_t len = strlen("INSERT INTO rows VALUES (") + 2 * m->ncols + 2;
	char *insert = dbops_xmalloc(len);
	int rc = 0;

	strcpy(insert, "INSERT INTO rows VALUES (");
	for (unsigned c = 0; c < m->ncols; c++)
		strcat(insert, c + 1 < m->ncols ? "?," : "?)");
	if (sqlite3_exec(l->db, create, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(l->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(l->db, insert, -1, &l->insert, NULL) !=
		    SQLITE_OK ||
	    wq_merge_rows(r, n, m, insert_row, l) != 0 ||
	    sqlite3_exec(l->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		dbops_log_error("could not load the rows for --reduce: %s",
				sqlite3_errmsg(l->db));
		rc = -1;
	}
	free(create);
	free(insert);
	return rc;
}

/* ---- the answer ------------------------------------------------------ */

/* The reducing query's answer, all of it, so that kinds see every value. */
struct answer {
	int ncols;
	size_t nrows, cap;
	struct dbops_value *cells; /* nrows * ncols */
	int *types;		   /* SQLITE_INTEGER... of each cell */
};

static int collect(sqlite3_stmt *q, struct answer *a)
{
	int rc;

	a->ncols = sqlite3_column_count(q);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		size_t at = a->nrows * (size_t)a->ncols;

		if (a->nrows == a->cap) {
			a->cap = a->cap ? 2 * a->cap : 64;
			a->cells = dbops_xreallocarray(
				a->cells, a->cap * (size_t)a->ncols + 1,
				sizeof(*a->cells));
			a->types = dbops_xreallocarray(
				a->types, a->cap * (size_t)a->ncols + 1,
				sizeof(*a->types));
		}
		for (int c = 0; c < a->ncols; c++) {
			int t = sqlite3_column_type(q, c);
			const void *p = t == SQLITE_BLOB
						? sqlite3_column_blob(q, c)
						: sqlite3_column_text(q, c);
			size_t len = (size_t)sqlite3_column_bytes(q, c);
			char *copy = NULL;

			if (t != SQLITE_NULL) {
				copy = dbops_xmalloc(len + 1);
				memcpy(copy, p ? p : "", len);
				copy[len] = '\0';
			}
			a->cells[at + (size_t)c] =
				(struct dbops_value){ copy, len };
			a->types[at + (size_t)c] = t;
		}
		a->nrows++;
	}
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/*
 * Column C's kind: from its declared type when it is a column of rows,
 * else from all its values (numbers: NUMBER; blobs: BINARY); in JSON a
 * NUMBER column with a value a double would not read back is TEXT.
 */
static enum dbops_column_kind answer_kind(sqlite3_stmt *q,
					  const struct answer *a, int c,
					  enum dbops_output_format format)
{
	const char *decl = sqlite3_column_decltype(q, c);
	enum dbops_column_kind kind = DBOPS_COLUMN_TEXT;
	bool numbers = true, blobs = true, any = false;

	for (size_t i = 0; i < a->nrows; i++) {
		size_t at = i * (size_t)a->ncols + (size_t)c;
		int t = a->types[at];

		if (t == SQLITE_NULL)
			continue;
		any = true;
		blobs = blobs && t == SQLITE_BLOB;
		numbers =
			numbers &&
			(t == SQLITE_INTEGER || t == SQLITE_FLOAT ||
			 (t == SQLITE_TEXT &&
			  wq_decimal_parse(a->cells[at].data, a->cells[at].len,
					   &(struct wq_decimal){ 0, 0 }) == 0));
	}
	if (decl != NULL)
		kind = strcasecmp(decl, "NUMERIC") == 0 ? DBOPS_COLUMN_NUMBER
		       : strcasecmp(decl, "BLOB") == 0	? DBOPS_COLUMN_BINARY
							: DBOPS_COLUMN_TEXT;
	else if (any && numbers)
		kind = DBOPS_COLUMN_NUMBER;
	else if (any && blobs)
		kind = DBOPS_COLUMN_BINARY;
	for (size_t i = 0; kind == DBOPS_COLUMN_NUMBER &&
			   format == DBOPS_FORMAT_JSON && i < a->nrows;
	     i++) {
		const struct dbops_value *v =
			&a->cells[i * (size_t)a->ncols + (size_t)c];

		if (v->data && !wq_number_fits_double(v->data, v->len))
			kind = DBOPS_COLUMN_TEXT;
	}
	return kind;
}

/* The reducing query's answer, through the record writer. */
static int print_result(sqlite3_stmt *q, enum dbops_output_format format,
			struct dbops_output *w)
{
	struct answer a = { 0 };
	int rc = collect(q, &a);

	for (int c = 0; rc == SQLITE_OK && c < a.ncols; c++)
		dbops_output_add_column(w, sqlite3_column_name(q, c),
					answer_kind(q, &a, c, format));
	for (size_t i = 0; rc == SQLITE_OK && i < a.nrows; i++)
		dbops_output_row(w, &a.cells[i * (size_t)a.ncols]);
	for (size_t i = 0; i < a.nrows * (size_t)a.ncols; i++)
		free((char *)a.cells[i].data);
	free(a.cells);
	free(a.types);
	return rc;
}

/* The refusal of a column the reducing SQL may not read. */
static void report_refused(const struct loader *l)
{
	const char *name = l->m->names[l->refused];

	dbops_log_error(
		"--reduce: column \"%s\" holds %s, a number of more digits than SQLite keeps exactly (15 significant, or a 64-bit integer): no answer rather than a rounded one",
		name, l->example[l->refused]);
	dbops_log_hint(
		"select it as text in the statement (CAST(%s AS CHAR)): --reduce's sum(), total() and avg() add such text exactly",
		name);
}

int wq_reduce(struct wq_result *r, size_t n, const struct wq_merge *m,
	      const char *sql, enum dbops_output_format format,
	      struct dbops_output *w)
{
	struct loader l = { .m = m };
	sqlite3_stmt *q = NULL;
	int rc = -1;

	/* An in-memory database fails to open only when memory runs out. */
	if (sqlite3_open(":memory:", &l.db) != SQLITE_OK ||
	    exact_functions(l.db) != 0)
		dbops_xalloc_failed();
	l.inexact = dbops_xcalloc(m->ncols, sizeof(*l.inexact));
	l.example = dbops_xcalloc(m->ncols, sizeof(*l.example));
	if (load_rows(r, n, &l) != 0)
		goto out;
	sqlite3_set_authorizer(l.db, authorize, &l);
	if (sqlite3_prepare_v2(l.db, sql, -1, &q, NULL) != SQLITE_OK) {
		if (l.refused) {
			report_refused(&l);
			goto out;
		}
		dbops_log_error("--reduce: %s", sqlite3_errmsg(l.db));
		dbops_log_hint(
			"the table is named rows; its columns: world and those of the result");
		goto out;
	}
	if (print_result(q, format, w) != SQLITE_OK) {
		dbops_log_error("--reduce: %s", sqlite3_errmsg(l.db));
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(q);
	sqlite3_finalize(l.insert);
	sqlite3_close(l.db);
	for (unsigned c = 0; c < m->ncols; c++)
		free(l.example[c]);
	free(l.example);
	free(l.inexact);
	return rc;
}
