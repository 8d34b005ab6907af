/*
 * query.c - run one statement on every world at once and merge what comes
 * back. See query.h.
 *
 * Each world has a thread (up to DBOPS_PARALLEL_MAX, parallel.h) and a
 * connection of its own, so one slow or hanging world costs its own time
 * limit, not the others'. Connecting is limited by Connector/C's connect
 * timeout. The statement is sent with the non-blocking API and awaited
 * with poll() until the limit; then it is cancelled on the server (KILL
 * QUERY from a second connection: abandoning the connection would leave it
 * running, and a DML would commit after we said it failed), and its end
 * awaited for CANCEL_GRACE_MS more, to tell "interrupted" (error 1317,
 * nothing took effect) from "ended first" (it took effect: a success).
 */
#include "query.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <errmsg.h>
#include <mysqld_error.h>

#include "clock.h"
#include "decimal.h"
#include "parallel.h"
#include "xalloc.h"

#define CANCEL_GRACE_MS 10000

struct run {
	const struct wq_inventory *inv;
	struct wq_result *results;
	const char *sql;
	unsigned timeout;
	bool write;
};

bool wq_statement_reads(const char *sql)
{
	static const char *const reads[] = { "SELECT", "SHOW",	  "DESCRIBE",
					     "DESC",   "EXPLAIN", "WITH",
					     "VALUES", "TABLE",	  "CHECKSUM",
					     "CALL",   "DO",	  "HELP",
					     NULL };
	const char *p = sql;
	size_t n = 0;

	/* Past white space and comments, as the server reads them. */
	for (;;) {
		while (isspace((unsigned char)*p))
			p++;
		if (p[0] == '/' && p[1] == '*' && p[2] != '!' && p[2] != 'M') {
			const char *end = strstr(p + 2, "*/");

			if (end == NULL)
				return false;
			p = end + 2;
		} else if ((p[0] == '-' && p[1] == '-' &&
			    (p[2] == ' ' || p[2] == '\t' || p[2] == '\n')) ||
			   p[0] == '#') {
			p += strcspn(p, "\n");
		} else {
			break;
		}
	}
	if (*p == '(')
		return true;
	while (isalpha((unsigned char)p[n]))
		n++;
	for (int i = 0; reads[i] != NULL; i++)
		if (strlen(reads[i]) == n && strncasecmp(p, reads[i], n) == 0)
			return true;
	return false;
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
		dbops_err_set(&r->err, "no answer within %u s: %s", timeout,
			      mysql_error(conn));
	else if (e == ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION)
		dbops_err_set(
			&r->err,
			"%s (without --write, world-query runs a statement in a read-only transaction)",
			mysql_error(conn));
	else if (e == CR_CONN_HOST_ERROR || e == CR_CONNECTION_ERROR)
		/* Its errno may be the non-blocking connect's EINPROGRESS
		 * (115), which says nothing: say what it means. */
		dbops_err_set(
			&r->err,
			"%s: nothing answers there; is the world's server stopped? (dump-restore status)",
			mysql_error(conn));
	else
		dbops_err_set(&r->err, "%s", mysql_error(conn));
}

/*
 * Wait, until UNTIL_MS, for what the non-blocking call asked (STATUS):
 * the MYSQL_WAIT_* that happened, or 0 when UNTIL_MS came first.
 */
static int wait_socket(MYSQL *conn, int status, int64_t until_ms)
{
	struct pollfd pfd = { .fd = mysql_get_socket(conn) };
	int64_t left = until_ms - dbops_clock_ms();
	int ms = left < 0	  ? 0
		 : left > INT_MAX ? INT_MAX
				  : (int)left,
	    n, got = 0;

	if (status & MYSQL_WAIT_TIMEOUT &&
	    mysql_get_timeout_value_ms(conn) < (unsigned)ms)
		ms = (int)mysql_get_timeout_value_ms(conn);
	pfd.events = (short)((status & MYSQL_WAIT_READ ? POLLIN : 0) |
			     (status & MYSQL_WAIT_WRITE ? POLLOUT : 0) |
			     (status & MYSQL_WAIT_EXCEPT ? POLLPRI : 0));
	do
		n = poll(&pfd, 1, ms);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return dbops_clock_ms() >= until_ms ? 0 : MYSQL_WAIT_TIMEOUT;
	if (pfd.revents & (POLLIN | POLLHUP | POLLERR))
		got |= MYSQL_WAIT_READ;
	if (pfd.revents & POLLOUT)
		got |= MYSQL_WAIT_WRITE;
	if (pfd.revents & POLLPRI)
		got |= MYSQL_WAIT_EXCEPT;
	return got;
}

/* A connection to R's world with the inventory's settings; NULL, or an
 * unconnected handle on failure (the caller closes it). */
static MYSQL *connect_world(const struct run *run, struct wq_result *r,
			    unsigned connect_timeout, unsigned read_timeout,
			    bool nonblock)
{
	char group[160];
	MYSQL *conn = mysql_init(NULL);

	if (conn == NULL)
		dbops_xalloc_failed(); /* its only failure */
	snprintf(group, sizeof(group), "client_%s", r->world->name);
	mysql_options(conn, MYSQL_READ_DEFAULT_FILE, run->inv->path);
	mysql_options(conn, MYSQL_READ_DEFAULT_GROUP, group);
	mysql_options(conn, MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout);
	mysql_options(conn, MYSQL_OPT_READ_TIMEOUT, &read_timeout);
	mysql_options(conn, MYSQL_OPT_WRITE_TIMEOUT, &read_timeout);
	mysql_options(conn, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (nonblock)
		mysql_options(conn, MYSQL_OPT_NONBLOCK, 0);
	if (mysql_real_connect(conn, NULL, NULL, NULL, NULL, 0, NULL, 0) ==
	    NULL) {
		r->conn = conn; /* for its error; closed with the results */
		return NULL;
	}
	return conn;
}

/* KILL QUERY of CONN's thread from a second connection; 0, or -1 (WHY). */
static int cancel_query(const struct run *run, struct wq_result *r, MYSQL *conn,
			char *why, size_t len)
{
	struct wq_result k = { .world = r->world };
	MYSQL *killer = connect_world(run, &k, 10, 10, false);
	char sql[64];
	int rc = 0;

	if (killer == NULL) {
		snprintf(why, len, "%s", mysql_error(k.conn));
		mysql_close(k.conn);
		return -1;
	}
	snprintf(sql, sizeof(sql), "KILL QUERY %lu", mysql_thread_id(conn));
	if (mysql_query(killer, sql) != 0) {
		snprintf(why, len, "%s", mysql_error(killer));
		rc = -1;
	}
	mysql_close(killer);
	return rc;
}

/* The statement was interrupted by our cancel: not a late success. */
static void cancelled_error(struct wq_result *r, unsigned timeout)
{
	r->late = false;
	dbops_err_set(
		&r->err,
		"no answer within %u s: cancelled on the server (KILL QUERY) before it ended: it did not take effect, nothing was committed",
		timeout);
}

/*
 * Drive the non-blocking call (STATUS from its _start, NEXT: a
 * mysql_next_result, else a mysql_real_query) until it ends, cancelling it
 * on the server at DEADLINE and then waiting CANCEL_GRACE_MS more. 0 when
 * it ended (*RET its result, *CANCELLED whether the cancel was sent), or
 * -1 with R->err when the cancel could not be sent or was not confirmed.
 */
static int await_call(const struct run *run, struct wq_result *r, MYSQL *conn,
		      int64_t deadline, int status, bool next, int *ret,
		      bool *cancelled)
{
	char why[256];

	while (status != 0) {
		int got = wait_socket(conn, status, deadline);

		if (got == 0 && *cancelled) {
			dbops_err_set(
				&r->err,
				"no answer within %u s; it was cancelled on the server (KILL QUERY), but the server did not confirm within %d s: it may still take effect",
				run->timeout, CANCEL_GRACE_MS / 1000);
			return -1;
		}
		if (got == 0) {
			if (cancel_query(run, r, conn, why, sizeof(why)) != 0) {
				dbops_err_set(
					&r->err,
					"no answer within %u s, and it could not be cancelled on the server: %s: it may still take effect",
					run->timeout, why);
				return -1;
			}
			*cancelled = true;
			deadline = dbops_clock_ms() + CANCEL_GRACE_MS;
			continue;
		}
		status = next ? mysql_next_result_cont(ret, conn, got)
			      : mysql_real_query_cont(ret, conn, got);
	}
	return 0;
}

/* A read the cancel cut short may still answer (SLEEP() returns 1): an
 * answer to drop, and nothing was changed. */
static void drop_late_read(const struct run *run, struct wq_result *r,
			   MYSQL *conn)
{
	MYSQL_RES *res = mysql_store_result(conn);

	if (res != NULL)
		mysql_free_result(res);
	dbops_err_set(
		&r->err,
		"no answer within %u s: cancelled on the server (KILL QUERY); what it sent after the cancel is dropped (read only: nothing was changed)",
		run->timeout);
}

/*
 * Send the statement and wait for its answer until the time limit; then
 * cancel it and wait for its outcome. 0 with the answer waiting on CONN
 * (R->late when it ended after the limit), or -1 with R->err.
 */
static int timed_query(const struct run *run, struct wq_result *r, MYSQL *conn,
		       int64_t deadline)
{
	bool cancelled = false;
	int ret = 0,
	    status = mysql_real_query_start(&ret, conn, run->sql,
					    (unsigned long)strlen(run->sql));

	if (await_call(run, r, conn, deadline, status, false, &ret,
		       &cancelled) != 0)
		return -1;
	if (ret == 0 && cancelled && !run->write) {
		drop_late_read(run, r, conn);
		return -1;
	}
	if (ret == 0) {
		/* A statement that may write and ended first: it took
		 * effect, and is never reported as failed. */
		r->late = cancelled;
		return 0;
	}
	if (cancelled && mysql_errno(conn) == ER_QUERY_INTERRUPTED)
		cancelled_error(r, run->timeout);
	else
		world_error(r, conn, run->timeout, 0);
	return -1;
}

/*
 * The next result set of a CALL, within the same time limit: 0 when one
 * waits on CONN, 1 when there is none, -1 with R->err. Cancelled between
 * two result sets, what the procedure did before may have taken effect.
 */
static int timed_next(const struct run *run, struct wq_result *r, MYSQL *conn,
		      int64_t deadline)
{
	bool cancelled = false;
	int ret = 0, status = mysql_next_result_start(&ret, conn);

	if (await_call(run, r, conn, deadline, status, true, &ret,
		       &cancelled) != 0)
		return -1;
	if (ret <= 0 && cancelled && !run->write) {
		drop_late_read(run, r, conn);
		return -1;
	}
	if (ret <= 0) {
		r->late = r->late || cancelled;
		return ret < 0 ? 1 : 0;
	}
	if (cancelled && mysql_errno(conn) == ER_QUERY_INTERRUPTED)
		dbops_err_set(
			&r->err,
			"no answer within %u s: cancelled on the server (KILL QUERY) after its result set %u; what it did before may have taken effect",
			run->timeout, r->nsets);
	else
		world_error(r, conn, run->timeout, 0);
	return -1;
}

/*
 * Keep every result set of the answer waiting on CONN (a CALL sends one
 * per SELECT it ran, then a last status; other statements one or none),
 * or the affected rows when there is none; R->err on an error between.
 */
static void store_sets(const struct run *run, struct wq_result *r, MYSQL *conn,
		       double started, int64_t deadline)
{
	int more;

	do {
		MYSQL_RES *res = mysql_store_result(conn);

		if (res != NULL) {
			r->sets = dbops_xreallocarray(r->sets, r->nsets + 1,
						      sizeof(*r->sets));
			r->sets[r->nsets++] = res;
		} else if (mysql_field_count(conn) != 0) {
			if (r->late && r->nsets > 0 &&
			    mysql_errno(conn) == ER_QUERY_INTERRUPTED)
				dbops_err_set(
					&r->err,
					"no answer within %u s: cancelled on the server (KILL QUERY) after its result set %u; what it did before may have taken effect",
					run->timeout, r->nsets);
			else if (r->late &&
				 mysql_errno(conn) == ER_QUERY_INTERRUPTED)
				cancelled_error(r, run->timeout);
			else
				world_error(r, conn, run->timeout,
					    dbops_clock_seconds() - started);
			return;
		} else if (r->nsets == 0) {
			r->affected = mysql_affected_rows(conn);
		}
		if (!mysql_more_results(conn))
			return;
		/* After a late answer, the rest has the grace to come. */
		more = timed_next(run, r, conn,
				  r->late ? dbops_clock_ms() + CANCEL_GRACE_MS
					  : deadline);
	} while (more == 0);
}

/* One world, in a worker thread: connect, send, keep what comes back. */
static void run_world(const struct run *run, struct wq_result *r,
		      double started)
{
	int64_t deadline = dbops_clock_ms() + run->timeout * 1000LL;
	/* The library's own read limit comes after ours and the grace. */
	unsigned slack = run->timeout + CANCEL_GRACE_MS / 1000 + 5;
	MYSQL *conn = connect_world(run, r, run->timeout, slack, true);

	if (conn == NULL) {
		world_error(r, r->conn, run->timeout,
			    dbops_clock_seconds() - started);
		return;
	}
	r->conn = conn;
	if (run->sql == NULL) {
		if (mysql_ping(conn) != 0)
			world_error(r, conn, run->timeout,
				    dbops_clock_seconds() - started);
		return;
	}
	if (!run->write &&
	    mysql_query(conn, "START TRANSACTION READ ONLY") != 0) {
		world_error(r, conn, run->timeout, 0);
		return;
	}
	if (timed_query(run, r, conn, deadline) == 0)
		store_sets(run, r, conn, started, deadline);
	if (!run->write)
		mysql_query(conn, "ROLLBACK");
}

static void run_one(void *arg, size_t i)
{
	const struct run *run = arg;
	struct wq_result *r = &run->results[i];
	double started = dbops_clock_seconds();

	run_world(run, r, started);
	r->seconds = dbops_clock_seconds() - started;
}

/* Connector/C's per-thread state, in each worker (it returns a flag). */
static void thread_start(void)
{
	mysql_thread_init();
}

struct wq_result *wq_run(const struct wq_inventory *inv, const char *sql,
			 unsigned timeout, bool write)
{
	struct run run = {
		.inv = inv, .sql = sql, .timeout = timeout, .write = write
	};
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
		for (unsigned k = 0; k < r[i].nsets; k++)
			mysql_free_result(r[i].sets[k]);
		free(r[i].sets);
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
	case MYSQL_TYPE_GEOMETRY:
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

/* The first world that answered, or NULL. */
static struct wq_result *first_answer(struct wq_result *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!dbops_err_isset(&r[i].err))
			return &r[i];
	return NULL;
}

unsigned wq_merge_sets(struct wq_result *r, size_t n)
{
	struct wq_result *first = first_answer(r, n);

	if (first == NULL)
		return 0;
	for (size_t i = 0; i < n; i++) {
		struct wq_result *x = &r[i];

		if (x == first || dbops_err_isset(&x->err))
			continue;
		if ((x->nsets > 0) != (first->nsets > 0))
			dbops_err_set(
				&x->err,
				first->nsets > 0
					? "the statement returned no rows here, but rows on world \"%s\""
					: "the statement returned rows here, but none on world \"%s\"",
				first->world->name);
		else if (x->nsets != first->nsets)
			dbops_err_set(
				&x->err,
				"the statement returned %u result sets here, but %u on world \"%s\"",
				x->nsets, first->nsets, first->world->name);
	}
	return first->nsets > 0 ? first->nsets : 1;
}

/* Whether NAME is one of M's first C names, in any case. */
static bool name_taken(const struct wq_merge *m, unsigned c, const char *name)
{
	const MYSQL_FIELD *f = m->fields;

	if (strcasecmp(name, "world") == 0)
		return true;
	for (unsigned i = 0; i + 1 < m->ncols; i++)
		if (strcasecmp(f[i].name, name) == 0)
			return true;
	for (unsigned i = 1; i < c; i++)
		if (strcasecmp(m->names[i], name) == 0)
			return true;
	return false;
}

/* Column C's name: the result's, or world_N if that is "world". */
static void name_column(struct wq_merge *m, unsigned c)
{
	const char *name = m->fields[c - 1].name;
	char *other;

	if (strcasecmp(name, "world") != 0) {
		m->names[c] = (char *)name;
		return;
	}
	for (unsigned k = 1;; k++) {
		other = dbops_xasprintf("%s_%u", name, k);
		if (!name_taken(m, c, other))
			break;
		free(other);
	}
	m->owned[m->nowned++] = other;
	m->names[c] = other;
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

/* Every other world's set must have the first's columns. */
static void check_columns(struct wq_result *r, size_t n,
			  const struct wq_result *first, unsigned set)
{
	for (size_t i = 0; i < n; i++) {
		struct wq_result *x = &r[i];
		char mine[300], theirs[300];

		if (x == first || dbops_err_isset(&x->err))
			continue;
		column_list(x->sets[set], mine, sizeof(mine));
		column_list(first->sets[set], theirs, sizeof(theirs));
		if (strcmp(mine, theirs) != 0)
			dbops_err_set(
				&x->err,
				"its columns (%s) differ from world \"%s\"'s (%s)",
				mine, first->world->name, theirs);
	}
}

int wq_merge_columns(struct wq_result *r, size_t n, unsigned set,
		     struct wq_merge *m)
{
	struct wq_result *first = first_answer(r, n);

	memset(m, 0, sizeof(*m));
	if (first == NULL)
		return -1;
	m->set = set;
	m->rows = first->nsets > 0;
	if (!m->rows) {
		static char *names[] = { "world", "affected_rows" };
		static enum dbops_column_kind kinds[] = { DBOPS_COLUMN_TEXT,
							  DBOPS_COLUMN_NUMBER };

		m->ncols = 2;
		m->names = names;
		m->kinds = kinds;
		return 0;
	}
	m->fields = mysql_fetch_fields(first->sets[set]);
	m->ncols = mysql_num_fields(first->sets[set]) + 1;
	m->names = dbops_xcalloc(m->ncols, sizeof(*m->names));
	m->kinds = dbops_xcalloc(m->ncols, sizeof(*m->kinds));
	m->owned = dbops_xcalloc(m->ncols, sizeof(*m->owned));
	m->names[0] = "world";
	m->kinds[0] = DBOPS_COLUMN_TEXT;
	for (unsigned c = 1; c < m->ncols; c++) {
		name_column(m, c);
		m->kinds[c] = wq_column_kind(&m->fields[c - 1]);
	}
	check_columns(r, n, first, set);
	return 0;
}

/* Whether column C of M holds a number a double would not read back. */
static bool column_exceeds_double(struct wq_result *r, size_t n,
				  const struct wq_merge *m, unsigned c)
{
	enum enum_field_types t = m->fields[c - 1].type;

	if (t == MYSQL_TYPE_FLOAT || t == MYSQL_TYPE_DOUBLE)
		return false;
	for (size_t i = 0; i < n; i++) {
		MYSQL_RES *res;
		MYSQL_ROW cells;

		if (dbops_err_isset(&r[i].err))
			continue;
		res = r[i].sets[m->set];
		mysql_data_seek(res, 0);
		while ((cells = mysql_fetch_row(res)) != NULL) {
			unsigned long *lens = mysql_fetch_lengths(res);

			if (cells[c - 1] != NULL &&
			    !wq_number_fits_double(cells[c - 1], lens[c - 1]))
				return true;
		}
	}
	return false;
}

void wq_merge_json_kinds(struct wq_result *r, size_t n, struct wq_merge *m)
{
	for (unsigned c = 1; m->rows && c < m->ncols; c++)
		if (m->kinds[c] == DBOPS_COLUMN_NUMBER &&
		    column_exceeds_double(r, n, m, c))
			m->kinds[c] = DBOPS_COLUMN_TEXT;
}

void wq_merge_free(struct wq_merge *m)
{
	if (m->rows) {
		free(m->names);
		free(m->kinds);
		for (unsigned i = 0; i < m->nowned; i++)
			free(m->owned[i]);
		free(m->owned);
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
		mysql_data_seek(x->sets[m->set], 0);
		while (rc == 0 &&
		       (cells = mysql_fetch_row(x->sets[m->set])) != NULL) {
			unsigned long *lens =
				mysql_fetch_lengths(x->sets[m->set]);

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
