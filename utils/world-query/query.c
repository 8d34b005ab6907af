/*
 * query.c - run one statement on every world at once and merge what comes
 * back. See query.h.
 *
 * Each world has a thread and a connection of its own, so one slow or
 * hanging world costs its own time limit, not the others'. The limit is
 * Connector/C's connect, read and write timeouts, all set to --timeout:
 * a server that does not answer within it ends the wait.
 */
#include "query.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <errmsg.h>

#define MAX_THREADS 64

struct run {
	const struct wq_inventory *inv;
	struct wq_result *results;
	const char *sql;
	unsigned timeout;
	_Atomic size_t next;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

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
		snprintf(r->error, sizeof(r->error),
			 "no answer within %u s: %s", timeout,
			 mysql_error(conn));
	else
		snprintf(r->error, sizeof(r->error), "%s", mysql_error(conn));
}

static void run_one(struct run *run, struct wq_result *r)
{
	char group[160];
	double started = now();
	MYSQL *conn = mysql_init(NULL);

	r->conn = conn;
	if (conn == NULL) {
		snprintf(r->error, sizeof(r->error), "out of memory");
		return;
	}
	snprintf(group, sizeof(group), "client_%s", r->world->name);
	mysql_options(conn, MYSQL_READ_DEFAULT_FILE, run->inv->path);
	mysql_options(conn, MYSQL_READ_DEFAULT_GROUP, group);
	mysql_options(conn, MYSQL_OPT_CONNECT_TIMEOUT, &run->timeout);
	mysql_options(conn, MYSQL_OPT_READ_TIMEOUT, &run->timeout);
	mysql_options(conn, MYSQL_OPT_WRITE_TIMEOUT, &run->timeout);
	mysql_options(conn, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (mysql_real_connect(conn, NULL, NULL, NULL, NULL, 0, NULL, 0) ==
	    NULL) {
		world_error(r, conn, run->timeout, now() - started);
		return;
	}
	if (run->sql == NULL) {
		if (mysql_ping(conn) != 0)
			world_error(r, conn, run->timeout, now() - started);
		return;
	}
	if (mysql_real_query(conn, run->sql, (unsigned long)strlen(run->sql)) !=
	    0) {
		world_error(r, conn, run->timeout, now() - started);
		return;
	}
	r->res = mysql_store_result(conn);
	if (r->res == NULL) {
		if (mysql_field_count(conn) != 0)
			world_error(r, conn, run->timeout, now() - started);
		else
			r->affected = mysql_affected_rows(conn);
	}
}

static void *worker(void *arg)
{
	struct run *run = arg;
	size_t i;

	mysql_thread_init();
	while ((i = atomic_fetch_add(&run->next, 1)) < run->inv->count)
		run_one(run, &run->results[i]);
	mysql_thread_end();
	return NULL;
}

struct wq_result *wq_run(const struct wq_inventory *inv, const char *sql,
			 int timeout)
{
	struct run run = { .inv = inv,
			   .sql = sql,
			   .timeout = (unsigned)timeout };
	pthread_t threads[MAX_THREADS];
	size_t nthreads = inv->count < MAX_THREADS ? inv->count : MAX_THREADS;

	run.results = calloc(inv->count, sizeof(*run.results));
	if (run.results == NULL)
		return NULL;
	for (size_t i = 0; i < inv->count; i++)
		run.results[i].world = &inv->worlds[i];
	for (size_t t = 0; t < nthreads; t++)
		if (pthread_create(&threads[t], NULL, worker, &run) != 0) {
			nthreads = t;
			break;
		}
	if (nthreads == 0)
		worker(&run); /* no thread could start: do it here */
	for (size_t t = 0; t < nthreads; t++)
		pthread_join(threads[t], NULL);
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
		if (r[i].error[0] == '\0')
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
		m->names = calloc(m->ncols, sizeof(*m->names));
		m->kinds = calloc(m->ncols, sizeof(*m->kinds));
		if (m->names == NULL || m->kinds == NULL)
			return -1;
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

		if (x == first || x->error[0] != '\0')
			continue;
		if ((x->res != NULL) != m->rows) {
			snprintf(
				x->error, sizeof(x->error),
				m->rows ? "the statement returned no rows here, but rows on world \"%s\""
					: "the statement returned rows here, but none on world \"%s\"",
				first->world->name);
			continue;
		}
		if (!m->rows)
			continue;
		column_list(x->res, mine, sizeof(mine));
		column_list(first->res, theirs, sizeof(theirs));
		if (strcmp(mine, theirs) != 0 &&
		    snprintf(x->error, sizeof(x->error),
			     "its columns (%s) differ from world \"%s\"'s (%s)",
			     mine, first->world->name, theirs) < 0)
			x->error[0] = '?';
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
	struct dbops_value *v = calloc(m->ncols, sizeof(*v));
	int rc = 0;

	if (v == NULL)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct wq_result *x = &r[i];
		char affected[32];
		MYSQL_ROW cells;

		if (x->error[0] != '\0')
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
