/*
 * query.c - run one statement on every world at once and merge what comes
 * back. See query.h.
 *
 * Each world has a thread (up to DBOPS_PARALLEL_MAX, parallel.h) and a
 * connection of its own, so one slow or hanging world costs its own time
 * limit, not the others'. The limit is Connector/C's connect, read and
 * write timeouts, all set to --timeout: a server that does not answer
 * within it ends the wait.
 */
#include "query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errmsg.h>

#include "clock.h"
#include "parallel.h"
#include "xalloc.h"

struct run {
	const struct wq_inventory *inv;
	struct wq_result *results;
	const char *sql;
	unsigned timeout;
};

/* The client's message, and, when it gave up waiting, how long it waited. */
static void world_error(struct wq_result *r, MYSQL *conn, unsigned timeout,
			double waited)
{
	unsigned e = mysql_errno(conn);
	bool timed_out =
		(e == CR_SERVER_LOST || e == CR_SERVER_GONE_ERROR ||
		 e == CR_CONN_HOST_ERROR || e == CR_CONNECTION_ERROR) &&
		waited >= timeout - 0.1;

	if (timed_out)
		dbops_err_set(&r->err, "no answer within %u s: %s", timeout,
			      mysql_error(conn));
	else
		dbops_err_set(&r->err, "%s", mysql_error(conn));
}

/* One world, in a worker thread: connect, send, keep what comes back. */
static void run_one(void *arg, size_t i)
{
	const struct run *run = arg;
	struct wq_result *r = &run->results[i];
	double started = dbops_clock_seconds();
	char group[160];
	MYSQL *conn = mysql_init(NULL);

	if (conn == NULL)
		dbops_xalloc_failed(); /* its only failure */
	r->conn = conn;
	snprintf(group, sizeof(group), "client_%s", r->world->name);
	mysql_options(conn, MYSQL_READ_DEFAULT_FILE, run->inv->path);
	mysql_options(conn, MYSQL_READ_DEFAULT_GROUP, group);
	mysql_options(conn, MYSQL_OPT_CONNECT_TIMEOUT, &run->timeout);
	mysql_options(conn, MYSQL_OPT_READ_TIMEOUT, &run->timeout);
	mysql_options(conn, MYSQL_OPT_WRITE_TIMEOUT, &run->timeout);
	mysql_options(conn, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (mysql_real_connect(conn, NULL, NULL, NULL, NULL, 0, NULL, 0) ==
	    NULL) {
		world_error(r, conn, run->timeout,
			    dbops_clock_seconds() - started);
		return;
	}
	if (run->sql == NULL) {
		if (mysql_ping(conn) != 0)
			world_error(r, conn, run->timeout,
				    dbops_clock_seconds() - started);
		return;
	}
	if (mysql_real_query(conn, run->sql, (unsigned long)strlen(run->sql)) !=
	    0) {
		world_error(r, conn, run->timeout,
			    dbops_clock_seconds() - started);
		return;
	}
	r->res = mysql_store_result(conn);
	if (r->res == NULL) {
		if (mysql_field_count(conn) != 0)
			world_error(r, conn, run->timeout,
				    dbops_clock_seconds() - started);
		else
			r->affected = mysql_affected_rows(conn);
	}
}

/* Connector/C's per-thread state, in each worker (it returns a flag). */
static void thread_start(void)
{
	mysql_thread_init();
}

struct wq_result *wq_run(const struct wq_inventory *inv, const char *sql,
			 unsigned timeout)
{
	struct run run = { .inv = inv, .sql = sql, .timeout = timeout };
	struct dbops_parallel p = {
		.count = inv->count,
		.jobs = DBOPS_PARALLEL_MAX,
		.body = run_one,
		.arg = &run,
		.thread_start = thread_start,
		.thread_end = mysql_thread_end,
	};

	run.results = dbops_xcalloc(inv->count, sizeof(*run.results));
	for (size_t i = 0; i < inv->count; i++)
		run.results[i].world = &inv->worlds[i];
	dbops_parallel_for(&p);
	return run.results;
}

void wq_results_free(struct wq_result *r, size_t n)
{
	for (size_t i = 0; r && i < n; i++) {
		if (r[i].res)
			mysql_free_result(r[i].res);
		if (r[i].conn)
			mysql_close(r[i].conn);
	}
	free(r);
}

enum dbops_column_kind wq_column_kind(const MYSQL_FIELD *f)
{
	switch (f->type) {
	case MYSQL_TYPE_TINY:
	case MYSQL_TYPE_SHORT:
	case MYSQL_TYPE_LONG:
	case MYSQL_TYPE_INT24:
	case MYSQL_TYPE_LONGLONG:
	case MYSQL_TYPE_FLOAT:
	case MYSQL_TYPE_DOUBLE:
	case MYSQL_TYPE_DECIMAL:
	case MYSQL_TYPE_NEWDECIMAL:
	case MYSQL_TYPE_YEAR:
		return DBOPS_COLUMN_NUMBER;
	case MYSQL_TYPE_BIT:
		return DBOPS_COLUMN_BINARY;
	case MYSQL_TYPE_TINY_BLOB:
	case MYSQL_TYPE_MEDIUM_BLOB:
	case MYSQL_TYPE_LONG_BLOB:
	case MYSQL_TYPE_BLOB:
	case MYSQL_TYPE_STRING:
	case MYSQL_TYPE_VAR_STRING:
	case MYSQL_TYPE_VARCHAR:
		/* Character set 63 is "binary": bytes, not text. */
		return f->charsetnr == 63 ? DBOPS_COLUMN_BINARY
					  : DBOPS_COLUMN_TEXT;
	default:
		return DBOPS_COLUMN_TEXT;
	}
}

/* "a, b, c": the column names of a result, for a message. */
static void column_list(MYSQL_RES *res, char *buf, size_t len)
{
	MYSQL_FIELD *f = mysql_fetch_fields(res);
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < mysql_num_fields(res) && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? ", " : "",
				      f[i].name);
}

int wq_merge_columns(struct wq_result *r, size_t n, struct wq_merge *m)
{
	struct wq_result *first = NULL;

	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < n && first == NULL; i++)
		if (!dbops_err_isset(&r[i].err))
			first = &r[i];
	if (first == NULL)
		return -1;
	m->rows = first->res != NULL;
	if (!m->rows) {
		static char *names[] = { "world", "affected_rows" };
		static enum dbops_column_kind kinds[] = { DBOPS_COLUMN_TEXT,
							  DBOPS_COLUMN_NUMBER };

		m->ncols = 2;
		m->names = names;
		m->kinds = kinds;
	} else {
		MYSQL_FIELD *f = mysql_fetch_fields(first->res);

		m->ncols = mysql_num_fields(first->res) + 1;
		m->names = dbops_xcalloc(m->ncols, sizeof(*m->names));
		m->kinds = dbops_xcalloc(m->ncols, sizeof(*m->kinds));
		m->names[0] = "world";
		m->kinds[0] = DBOPS_COLUMN_TEXT;
		for (unsigned c = 1; c < m->ncols; c++) {
			m->names[c] = f[c - 1].name;
			m->kinds[c] = wq_column_kind(&f[c - 1]);
		}
	}
	/* Every other world must have answered alike. */
	for (size_t i = 0; i < n; i++) {
		struct wq_result *x = &r[i];
		char mine[300], theirs[300];

		if (x == first || dbops_err_isset(&x->err))
			continue;
		if ((x->res != NULL) != m->rows) {
			dbops_err_set(
				&x->err,
				m->rows ? "the statement returned no rows here, but rows on world \"%s\""
					: "the statement returned rows here, but none on world \"%s\"",
				first->world->name);
			continue;
		}
		if (!m->rows)
			continue;
		column_list(x->res, mine, sizeof(mine));
		column_list(first->res, theirs, sizeof(theirs));
		if (strcmp(mine, theirs) != 0)
			dbops_err_set(
				&x->err,
				"its columns (%s) differ from world \"%s\"'s (%s)",
				mine, first->world->name, theirs);
	}
	return 0;
}

void wq_merge_free(struct wq_merge *m)
{
	if (m->rows) {
		free(m->names);
		free(m->kinds);
	}
	memset(m, 0, sizeof(*m));
}

int wq_merge_rows(struct wq_result *r, size_t n, const struct wq_merge *m,
		  int (*row)(void *arg, const struct dbops_value *values),
		  void *arg)
{
	struct dbops_value *v = dbops_xcalloc(m->ncols, sizeof(*v));
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		struct wq_result *x = &r[i];
		char affected[32];
		MYSQL_ROW cells;

		if (dbops_err_isset(&x->err))
			continue;
		v[0].data = x->world->name;
		v[0].len = strlen(x->world->name);
		if (!m->rows) {
			v[1].len = (size_t)snprintf(affected, sizeof(affected),
						    "%llu", x->affected);
			v[1].data = affected;
			rc = row(arg, v);
			continue;
		}
		mysql_data_seek(x->res, 0);
		while (rc == 0 && (cells = mysql_fetch_row(x->res)) != NULL) {
			unsigned long *lens = mysql_fetch_lengths(x->res);

			for (unsigned c = 1; c < m->ncols; c++) {
				v[c].data = cells[c - 1];
				v[c].len = cells[c - 1] ? lens[c - 1] : 0;
			}
			rc = row(arg, v);
		}
	}
	free(v);
	return rc;
}
