/*
 * list.c - snap-import list: what was imported into the table, and, for
 * files given by name, whether their content was (so a renamed copy is
 * recognised).
 */
#include "list.h"

#include "compress.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "import.h"
#include "log.h"
#include "output.h"
#include "timestamp.h"
#include "xalloc.h"

static int add_columns(struct dbops_output *w, const char *const *names,
		       const enum dbops_column_kind *kinds, int n)
{
	for (int i = 0; i < n; i++)
		if (dbops_output_add_column(w, names[i], kinds[i]) != 0)
			return -1;
	return 0;
}

/* The ledger's imported_at (epoch microseconds) as a time with offset. */
static void format_time(const char *usec, char *buf, size_t len)
{
	dbops_timestamp_format(strtoll(usec, NULL, 10), buf, len);
}

/*
 * SQL for the in_table column of ledger row l: "yes" while a row of the
 * snapshot is in the table (or it brought none), "no" when they are gone,
 * NULL for failed files and when this role may not read the table.
 * Caller frees.
 */
static char *in_table_sql(struct snap_db *db)
{
	static const char head[] = "CASE WHEN l.status <> 'imported' THEN NULL"
				   " WHEN coalesce(l.rows, 0) = 0 THEN 'yes'";
	int readable = snap_db_table_readable(db, NULL);

	if (readable == 1)
		return dbops_xasprintf(
			"%s WHEN EXISTS (SELECT 1 FROM %s t"
			" WHERE t.snapshot_id = l.id) THEN 'yes' ELSE 'no' END",
			head, db->qtable);
	if (readable == 0) /* the table was dropped */
		return dbops_xasprintf("%s ELSE 'no' END", head);
	return dbops_xstrdup("NULL::text");
}

/* Say how many snapshots lost their rows, and the cure. */
static void warn_gone(struct snap_db *db, PGresult *res, int col)
{
	int gone = 0;
	long long last = 0;

	for (int i = 0; i < PQntuples(res); i++)
		if (strcmp(PQgetvalue(res, i, col), "no") == 0) {
			gone++;
			last = strtoll(PQgetvalue(res, i, 0), NULL, 10);
		}
	if (gone == 1)
		dbops_log_warning(
			"the rows of snapshot %lld are no longer in table \"%s\"; import its file again with --force",
			last, db->target);
	else if (gone > 1)
		dbops_log_warning(
			"the rows of %d snapshots (in_table \"no\") are no longer in table \"%s\"; import their files again with --force",
			gone, db->target);
}

static int list_all(struct snap_db *db, struct dbops_output *w, bool all)
{
	static const char *const names[] = { "id",	"file",	 "sha256",
					     "rows",	"bytes", "imported_at",
					     "seconds", "by",	 "in_table",
					     "status",	"error" };
	static const enum dbops_column_kind kinds[] = {
		DBOPS_COLUMN_NUMBER, DBOPS_COLUMN_TEXT,	  DBOPS_COLUMN_TEXT,
		DBOPS_COLUMN_NUMBER, DBOPS_COLUMN_NUMBER, DBOPS_COLUMN_TEXT,
		DBOPS_COLUMN_NUMBER, DBOPS_COLUMN_TEXT,	  DBOPS_COLUMN_TEXT,
		DBOPS_COLUMN_TEXT,   DBOPS_COLUMN_TEXT
	};
	const char *params[] = { db->key };
	struct dbops_err err = { "" };
	int ncols = all ? 11 : 9, have, rc = -1;
	char *in_table, *sql;
	PGresult *res;

	if (add_columns(w, names, kinds, ncols) != 0)
		return -1;
	have = snap_db_ledger_exists(db, &err);
	if (have <= 0) {
		if (have < 0)
			dbops_log_error(
				"could not list imports into \"%s\": %s",
				db->target, err.msg);
		return have;
	}
	/* Session-wide: this connection lists and ends. */
	if (snap_db_command(db,
			    "SELECT set_config('enable_seqscan', 'off', false),"
			    " set_config('jit', 'off', false)",
			    0, NULL, &err) != 0) {
		dbops_log_error("could not list imports into \"%s\": %s",
				db->target, err.msg);
		return -1;
	}
	in_table = in_table_sql(db);
	sql = dbops_xasprintf(
		"SELECT id, file_name, left(sha256, 12), rows, bytes,"
		" (extract(epoch FROM imported_at) * 1000000)::bigint,"
		" round(duration_s::numeric, 3), imported_by, %s%s"
		" FROM {ledger} l WHERE target_table = $1%s ORDER BY id",
		in_table, all ? ", status, error" : "",
		all ? "" : " AND status = 'imported'");
	free(in_table);
	res = snap_db_ledger_exec(db, sql, 1, params, &err);
	free(sql);
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
		if (res)
			snap_db_describe_error(res, &err);
		dbops_log_error("could not list imports into \"%s\": %s",
				db->target, err.msg);
		PQclear(res);
		return -1;
	}
	for (int i = 0; i < PQntuples(res); i++) {
		struct dbops_value v[11];
		char at[DBOPS_TIMESTAMP_LEN];

		for (int c = 0; c < ncols; c++) {
			bool null = PQgetisnull(res, i, c);

			v[c].data = null ? NULL : PQgetvalue(res, i, c);
			v[c].len = null ? 0 : (size_t)PQgetlength(res, i, c);
		}
		format_time(PQgetvalue(res, i, 5), at, sizeof(at));
		v[5].data = at;
		v[5].len = strlen(at);
		if (dbops_output_row(w, v) != 0)
			goto out;
	}
	warn_gone(db, res, 8);
	rc = 0;
out:
	PQclear(res);
	return rc;
}

/* For each file: is its content imported, when, under which name. */
static int list_files(struct snap_db *db, struct dbops_output *w,
		      char *const *files, int nfiles)
{
	static const char *const names[] = { "file", "imported", "imported_at",
					     "as",   "id",	 "in_table" };
	static const enum dbops_column_kind kinds[] = {
		DBOPS_COLUMN_TEXT, DBOPS_COLUMN_TEXT,	DBOPS_COLUMN_TEXT,
		DBOPS_COLUMN_TEXT, DBOPS_COLUMN_NUMBER, DBOPS_COLUMN_TEXT
	};
	struct dbops_err err = { "" };
	int have, rc = 0;

	if (add_columns(w, names, kinds, 6) != 0)
		return -1;
	have = snap_db_ledger_exists(db, &err);
	if (have < 0) {
		dbops_log_error("could not list imports into \"%s\": %s",
				db->target, err.msg);
		return -1;
	}
	for (int i = 0; i < nfiles; i++) {
		struct snap_found f;
		char sha[65], id[32];
		int fd = open(files[i], O_RDONLY | O_CLOEXEC), found = 0,
		    gone = 0;
		struct dbops_err why = { "" };

		/* The ledger has the content of a compressed file. */
		if (fd < 0)
			dbops_err_set(&why, "%s", strerror(errno));
		else if ((fd = snap_plain_fd(fd, &why)) >= 0 &&
			 snap_hash_fd(fd, sha) != 0)
			dbops_err_set(&why, "%s", strerror(errno));
		if (fd >= 0)
			close(fd);
		if (dbops_err_isset(&why)) {
			dbops_log_error("could not read \"%s\": %s", files[i],
					why.msg);
			rc = -1;
			continue;
		}
		if (have)
			found = snap_db_find(db, sha, false, &f, &err);
		if (found < 0) {
			dbops_log_error("could not look up \"%s\": %s",
					files[i], err.msg);
			rc = -1;
			continue;
		}
		if (found)
			gone = snap_db_rows_gone(db, &f, &err);
		if (gone < 0) {
			dbops_log_error("could not look up \"%s\": %s",
					files[i], err.msg);
			rc = -1;
			continue;
		}
		if (gone)
			dbops_log_warning(
				"the rows of \"%s\" (snapshot %lld) are no longer in table \"%s\"; import it again with --force",
				files[i], (long long)f.id, db->target);
		snprintf(id, sizeof(id), "%lld", found ? (long long)f.id : 0LL);
		const char *row[] = { files[i],
				      found ? "yes" : "no",
				      found ? f.at : NULL,
				      found ? f.name : NULL,
				      found ? id : NULL,
				      found ? (gone ? "no" : "yes") : NULL };
		if (dbops_output_row_strings(w, row) != 0)
			return -1;
	}
	return rc;
}

int snap_list(struct snap_db *db, enum dbops_output_format format, bool all,
	      char *const *files, int nfiles)
{
	struct dbops_output *w = dbops_output_new(stdout, format);
	int rc;

	if (w == NULL)
		return -1;
	rc = nfiles > 0 ? list_files(db, w, files, nfiles)
			: list_all(db, w, all);
	if (dbops_output_finish(w) != 0 && rc == 0) {
		dbops_log_error("could not write the list: %s",
				strerror(errno));
		rc = -1;
	}
	dbops_output_free(w);
	return rc;
}
