/*
 * reduce.c - --reduce: the merged rows go into an in-memory SQLite table
 * named "rows" (world plus the result's columns, numbers with NUMERIC
 * affinity, bytes as BLOBs), and the reducing SQL runs on it.
 */
#include "reduce.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

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

struct loader {
	sqlite3_stmt *insert;
	const struct wq_merge *m;
	sqlite3 *db;
};

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
		else
			sqlite3_bind_text64(l->insert, i, v[c].data, v[c].len,
					    SQLITE_STATIC, SQLITE_UTF8);
	}
	return sqlite3_step(l->insert) == SQLITE_DONE ? 0 : 1;
}

/* The reducing query's answer, through the record writer. */
static int print_result(sqlite3_stmt *q, struct dbops_output *w)
{
	int ncols = sqlite3_column_count(q), rc;
	struct dbops_value *v = dbops_xcalloc((size_t)ncols + 1, sizeof(*v));
	bool columns_added = false;

	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (!columns_added) {
			/* Kinds from the first row's values. */
			for (int c = 0; c < ncols; c++) {
				int t = sqlite3_column_type(q, c);

				dbops_output_add_column(
					w, sqlite3_column_name(q, c),
					t == SQLITE_INTEGER || t == SQLITE_FLOAT
						? DBOPS_COLUMN_NUMBER
					: t == SQLITE_BLOB ? DBOPS_COLUMN_BINARY
							   : DBOPS_COLUMN_TEXT);
			}
			columns_added = true;
		}
		for (int c = 0; c < ncols; c++) {
			bool blob = sqlite3_column_type(q, c) == SQLITE_BLOB;

			v[c].data =
				sqlite3_column_type(q, c) == SQLITE_NULL ? NULL
				: blob ? sqlite3_column_blob(q, c)
				       : (const char *)sqlite3_column_text(q,
									   c);
			v[c].len = (size_t)sqlite3_column_bytes(q, c);
		}
		dbops_output_row(w, v);
	}
	if (!columns_added)
		for (int c = 0; c < ncols; c++)
			dbops_output_add_column(w, sqlite3_column_name(q, c),
						DBOPS_COLUMN_TEXT);
	free(v);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int wq_reduce(struct wq_result *r, size_t n, const struct wq_merge *m,
	      const char *sql, struct dbops_output *w)
{
	struct loader l = { .m = m };
	sqlite3_stmt *q = NULL;
	char *create = create_statement(m), *insert = NULL;
	size_t len;
	int rc = -1;

	/* An in-memory database fails to open only when memory runs out. */
	if (sqlite3_open(":memory:", &l.db) != SQLITE_OK)
		dbops_xalloc_failed();
	len = strlen("INSERT INTO rows VALUES (") + 2 * m->ncols + 2;
	insert = dbops_xmalloc(len);
	strcpy(insert, "INSERT INTO rows VALUES (");
	for (unsigned c = 0; c < m->ncols; c++)
		strcat(insert, c + 1 < m->ncols ? "?," : "?)");
	if (sqlite3_exec(l.db, create, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(l.db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(l.db, insert, -1, &l.insert, NULL) !=
		    SQLITE_OK ||
	    wq_merge_rows(r, n, m, insert_row, &l) != 0 ||
	    sqlite3_exec(l.db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		dbops_log_error("could not load the rows for --reduce: %s",
				sqlite3_errmsg(l.db));
		goto out;
	}
	if (sqlite3_prepare_v2(l.db, sql, -1, &q, NULL) != SQLITE_OK) {
		dbops_log_error("--reduce: %s", sqlite3_errmsg(l.db));
		dbops_log_hint(
			"the table is named rows; its columns: world and those of the result");
		goto out;
	}
	if (print_result(q, w) != SQLITE_OK) {
		dbops_log_error("--reduce: %s", sqlite3_errmsg(l.db));
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(q);
	sqlite3_finalize(l.insert);
	sqlite3_close(l.db);
	free(create);
	free(insert);
	return rc;
}
