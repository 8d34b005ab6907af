/*
 * reconcile.c - one step of the reconciler (reconcile.h): rebuild Redis's
 * aggregates from the hour rollups when "ready" is missing, catch every
 * writer up from the batches table, prune the batches Redis has applied.
 */
#include "reconcile.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* How many batches rows of a writer one prune looks at, at most. */
#define PRUNE_LIMIT 5000
/* How many batches rows one catch-up query reads. */
#define CATCH_UP_PAGE 1000
/* The rebuild lock's expiry, seconds. */
#define LOCK_TTL 30

/*
 * Microseconds since the epoch of timestamptz X, exact on PostgreSQL 13
 * (where EXTRACT gives a double) as on 14 and later (numeric): whole
 * seconds and the microseconds within the second apart. For a format
 * string: "%%" is its one "%".
 */
#define US(x)                                                                \
	"(extract(epoch from date_trunc('second', " x "))::bigint * 1000000" \
	" + extract(microseconds from " x ")::bigint %% 1000000)"

struct tables {
	char *rollups, *writers, *batches; /* "schema"."name", quoted */
};

/* A writer: its last_seq in PostgreSQL, and how far Redis has it. */
struct writer {
	int64_t writer, pg_last, redis_last;
};

static char *quoted(PGconn *pg, const char *schema, const char *name,
		    struct dbops_err *err)
{
	char *s = PQescapeIdentifier(pg, schema, strlen(schema));
	char *n = PQescapeIdentifier(pg, name, strlen(name));
	char *out = NULL;

	if (s != NULL && n != NULL)
		out = dbops_xasprintf("%s.%s", s, n);
	else
		dbops_err_set(err, "PostgreSQL: cannot quote \"%s\": %s",
			      schema, PQerrorMessage(pg));
	PQfreemem(s);
	PQfreemem(n);
	return out;
}

static void tables_free(struct tables *t)
{
	free(t->rollups);
	free(t->writers);
	free(t->batches);
}

/*
 * Run SQL with the N text PARAMS; returns the result when its status is
 * WANT, else NULL with the server's reason in ERR (WHAT names the step).
 */
static PGresult *run(PGconn *pg, const char *what, const char *sql, int n,
		     const char *const *params, ExecStatusType want,
		     struct dbops_err *err)
{
	PGresult *res = PQexecParams(pg, sql, n, NULL, params, NULL, NULL, 0);

	if (PQresultStatus(res) == want)
		return res;
	dbops_err_set(err, "PostgreSQL: %s: %s", what,
		      res ? PQresultErrorMessage(res) : PQerrorMessage(pg));
	PQclear(res);
	return NULL;
}

static int run_command(PGconn *pg, const char *what, const char *sql,
		       struct dbops_err *err)
{
	PGresult *res = run(pg, what, sql, 0, NULL, PGRES_COMMAND_OK, err);

	PQclear(res);
	return res ? 0 : -1;
}

static int64_t value(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col)
		       ? ES_TIME_NONE
		       : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

/* The per-symbol sums of the hour rollups into AGGS. */
static int read_sums(PGconn *pg, const struct tables *t,
		     struct es_aggregate aggs[ES_SYMBOLS],
		     struct dbops_err *err)
{
	char *sql = dbops_xasprintf(
		"SELECT symbol, coalesce(sum(events), 0)::bigint,"
		" coalesce(sum(followups), 0)::bigint,"
		" " US("min(earliest)") ", " US(
			"max(latest)") " FROM %s"
				       " WHERE period = 'hour' GROUP BY symbol",
		t->rollups);
	PGresult *res = run(pg, "sums of the hour rollups", sql, 0, NULL,
			    PGRES_TUPLES_OK, err);
	int rc = 0;

	free(sql);
	if (res == NULL)
		return -1;
	es_aggregates_clear(aggs);
	for (int i = 0; i < PQntuples(res) && rc == 0; i++) {
		const char *s = PQgetvalue(res, i, 0);
		int sym = strlen(s) == 1 ? es_symbol_index((unsigned char)*s)
					 : -1;
		struct es_aggregate *a = &aggs[sym < 0 ? 0 : sym];

		if (sym < 0) {
			rc = dbops_err_set(err, "%s holds the symbol \"%s\"",
					   t->rollups, s);
			break;
		}
		a->events = value(res, i, 1);
		a->followups = value(res, i, 2);
		a->earliest_us = a->events ? value(res, i, 3) : ES_TIME_NONE;
		a->latest_us = a->events ? value(res, i, 4) : ES_TIME_NONE;
		if (a->events > 0 && (a->earliest_us == ES_TIME_NONE ||
				      a->latest_us == ES_TIME_NONE))
			rc = dbops_err_set(err,
					   "%s: symbol \"%s\" has events "
					   "but no earliest or latest",
					   t->rollups, s);
	}
	PQclear(res);
	return rc;
}

/* Every writer with a batch: (writer, last_seq) into *OUT, *N. */
static int read_writers(PGconn *pg, const struct tables *t,
			struct es_writer_seq **out, size_t *n,
			struct dbops_err *err)
{
	char *sql = dbops_xasprintf("SELECT writer, last_seq FROM %s"
				    " WHERE last_seq > 0 ORDER BY writer",
				    t->writers);
	PGresult *res = run(pg, "writers", sql, 0, NULL, PGRES_TUPLES_OK, err);

	free(sql);
	*out = NULL;
	*n = 0;
	if (res == NULL)
		return -1;
	*n = (size_t)PQntuples(res);
	*out = dbops_xcalloc(*n ? *n : 1, sizeof(**out));
	for (size_t i = 0; i < *n; i++) {
		(*out)[i].writer = value(res, (int)i, 0);
		(*out)[i].seq = value(res, (int)i, 1);
	}
	PQclear(res);
	return 0;
}

/* The snapshot the rebuild sets Redis to, then the rebuild itself. */
static int rebuild_locked(PGconn *pg, struct es_redis *r,
			  const struct tables *t,
			  struct es_reconcile_stats *out)
{
	struct es_aggregate aggs[ES_SYMBOLS];
	struct es_writer_seq *last = NULL;
	size_t n = 0;
	int rc = -1;

	if (run_command(pg, "BEGIN",
			"BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
			&out->err) != 0)
		return -1;
	if (read_sums(pg, t, aggs, &out->err) != 0 ||
	    read_writers(pg, t, &last, &n, &out->err) != 0 ||
	    run_command(pg, "COMMIT", "COMMIT", &out->err) != 0) {
		PQclear(PQexec(pg, "ROLLBACK"));
		free(last);
		return -1;
	}
	switch (es_redis_rebuild(r, aggs, last, n, &out->err)) {
	case ES_REBUILD_OK:
		out->rebuilt = true;
		rc = 0;
		break;
	case ES_REBUILD_REFUSED:
		rc = 0;
		break;
	default:
		break;
	}
	free(last);
	return rc;
}

/* Step 1: "ready" is missing. */
static int rebuild(PGconn *pg, struct es_redis *r, const struct tables *t,
		   struct es_reconcile_stats *out)
{
	struct dbops_err ignored = { "" };
	int rc;

	switch (es_redis_lock(r, LOCK_TTL, &out->err)) {
	case 0:
		out->lock_busy = true;
		return 0;
	case 1:
		break;
	default:
		return -1;
	}
	rc = rebuild_locked(pg, r, t, out);
	/* An unlock that fails leaves a lock that expires in LOCK_TTL. */
	es_redis_unlock(r, rc == 0 ? &out->err : &ignored);
	return dbops_err_isset(&out->err) ? -1 : 0;
}

static int by_writer(const void *a, const void *b)
{
	const struct es_writer_seq *x = a, *y = b;

	return x->writer < y->writer ? -1 : x->writer > y->writer;
}

/* Redis's last of WRITER in the sorted LAST of N (0 when absent). */
static int64_t redis_last(const struct es_writer_seq *last, size_t n,
			  int64_t writer)
{
	struct es_writer_seq key = { writer, 0 };
	const struct es_writer_seq *found =
		n ? bsearch(&key, last, n, sizeof(*last), by_writer) : NULL;

	return found ? found->seq : 0;
}

/* Redis's last of W->writer now, into W->redis_last. */
static int reread_last(struct es_redis *r, struct writer *w,
		       struct dbops_err *err)
{
	struct es_writer_seq *last;
	size_t n;

	if (es_redis_last_all(r, &last, &n, err) != 0)
		return -1;
	if (n > 0)
		qsort(last, n, sizeof(*last), by_writer);
	w->redis_last = redis_last(last, n, w->writer);
	free(last);
	return 0;
}

enum step { STEP_MORE, STEP_DONE, STEP_STOP, STEP_FAILED };

/*
 * Apply the rows of RES (seq, deltas, in seq order) to Redis for W,
 * W->redis_last following. STEP_STOP when the aggregates cannot be
 * caught up (a batch missing: "ready" dropped; or not ready).
 */
static enum step apply_rows(PGresult *res, struct es_redis *r, struct writer *w,
			    struct es_reconcile_stats *out)
{
	for (int i = 0; i < PQntuples(res); i++) {
		int64_t seq = value(res, i, 0);

		if (seq != w->redis_last + 1)
			return STEP_MORE; /* a gap: the caller looks again */
		switch (es_redis_apply_text(r, w->writer, seq,
					    PQgetvalue(res, i, 1), &out->err)) {
		case ES_APPLY_OK:
			out->batches_applied++;
			/* fall through */
		case ES_APPLY_DUPLICATE:
			w->redis_last = seq;
			break;
		case ES_APPLY_GAP:
			return STEP_MORE;
		case ES_APPLY_NOTREADY:
			return STEP_STOP;
		default:
			return STEP_FAILED;
		}
	}
	return w->redis_last >= w->pg_last ? STEP_DONE : STEP_MORE;
}

/*
 * A batch W needs was not found: someone else may have applied (and
 * pruned) it meanwhile; if not, it is gone, and "ready" is dropped.
 */
static enum step missing_batch(struct es_redis *r, struct writer *w,
			       struct es_reconcile_stats *out)
{
	int64_t before = w->redis_last;

	if (reread_last(r, w, &out->err) != 0)
		return STEP_FAILED;
	if (w->redis_last > before)
		return w->redis_last >= w->pg_last ? STEP_DONE : STEP_MORE;
	if (es_redis_drop_ready(r, &out->err) != 0)
		return STEP_FAILED;
	out->ready_dropped = true;
	return STEP_STOP;
}

/* Step 2 for one writer W that is behind. */
static enum step catch_up(PGconn *pg, struct es_redis *r,
			  const struct tables *t, struct writer *w,
			  struct es_reconcile_stats *out)
{
	char *sql = dbops_xasprintf(
		"SELECT seq, deltas FROM %s WHERE writer = $1 AND seq > $2"
		" AND seq <= $3 ORDER BY seq LIMIT %d",
		t->batches, CATCH_UP_PAGE);
	enum step step = STEP_MORE;

	while (step == STEP_MORE) {
		char p[3][24];
		const char *params[3] = { p[0], p[1], p[2] };
		PGresult *res;
		int64_t before = w->redis_last;

		snprintf(p[0], sizeof(p[0]), "%" PRId64, w->writer);
		snprintf(p[1], sizeof(p[1]), "%" PRId64, w->redis_last);
		snprintf(p[2], sizeof(p[2]), "%" PRId64, w->pg_last);
		res = run(pg, "batches", sql, 3, params, PGRES_TUPLES_OK,
			  &out->err);
		if (res == NULL) {
			step = STEP_FAILED;
			break;
		}
		step = apply_rows(res, r, w, out);
		PQclear(res);
		if (step == STEP_MORE && w->redis_last == before)
			step = missing_batch(r, w, out);
	}
	free(sql);
	return step;
}

/* "{1,2,3}": the array literal of the N values that GET picks. */
static char *array_text(const struct writer *ws, size_t n,
			int64_t (*get)(const struct writer *))
{
	char *text = dbops_xmalloc(n * 21 + 3);
	size_t len = 0;

	text[len++] = '{';
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(text + len, "%s%" PRId64, i ? "," : "",
				       get(&ws[i]));
	text[len++] = '}';
	text[len] = '\0';
	return text;
}

static int64_t get_writer(const struct writer *w)
{
	return w->writer;
}

static int64_t get_applied(const struct writer *w)
{
	return w->redis_last;
}

/*
 * Step 3: the batches rows older than an hour that Redis has applied, of
 * every writer of WS (N) at once, among the PRUNE_LIMIT oldest seqs of
 * each writer, so that a step's work is bounded; nothing is read of a
 * writer whose oldest row is younger than an hour (seqs are in the order
 * of their commits). The rows are found by index and deleted by ctid:
 * written as a join, the planner scanned the whole table for the rows
 * older than an hour, 13 to 20 ms a second with 200,000 rows, and the
 * table holds an hour of batches (pg_stat_statements, EXPLAIN ANALYZE).
 */
static int prune(PGconn *pg, const struct tables *t, const struct writer *ws,
		 size_t n, struct es_reconcile_stats *out)
{
	char *sql = dbops_xasprintf(
		"DELETE FROM %1$s WHERE ctid = ANY (ARRAY("
		"SELECT b.ctid FROM unnest($1::bigint[], $2::bigint[])"
		" AS x (w, applied)"
		" CROSS JOIN LATERAL (SELECT o.seq AS first, o.committed"
		" FROM %1$s o WHERE o.writer = x.w ORDER BY o.seq LIMIT 1) f"
		" CROSS JOIN LATERAL (SELECT ctid FROM %1$s b"
		" WHERE b.writer = x.w AND b.seq BETWEEN f.first"
		" AND least(x.applied, f.first + %2$d - 1)"
		" AND b.committed < now() - interval '1 hour'"
		" ORDER BY b.seq LIMIT %2$d) b"
		" WHERE f.committed < now() - interval '1 hour'))",
		t->batches, PRUNE_LIMIT);
	char *writers = array_text(ws, n, get_writer);
	char *applied = array_text(ws, n, get_applied);
	const char *params[2] = { writers, applied };
	PGresult *res = run(pg, "prune batches", sql, 2, params,
			    PGRES_COMMAND_OK, &out->err);

	free(sql);
	free(writers);
	free(applied);
	if (res == NULL)
		return -1;
	out->batches_pruned += strtoll(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return 0;
}

/* The writers of PostgreSQL with Redis's last of each. */
static int writers_now(PGconn *pg, struct es_redis *r, const struct tables *t,
		       struct writer **ws, size_t *n,
		       struct es_reconcile_stats *out)
{
	struct es_writer_seq *pgw, *last;
	size_t npg, nlast;

	if (read_writers(pg, t, &pgw, &npg, &out->err) != 0)
		return -1;
	if (es_redis_last_all(r, &last, &nlast, &out->err) != 0) {
		free(pgw);
		return -1;
	}
	if (nlast > 0)
		qsort(last, nlast, sizeof(*last), by_writer);
	*ws = dbops_xcalloc(npg ? npg : 1, sizeof(**ws));
	for (size_t i = 0; i < npg; i++) {
		(*ws)[i].writer = pgw[i].writer;
		(*ws)[i].pg_last = pgw[i].seq;
		(*ws)[i].redis_last = redis_last(last, nlast, pgw[i].writer);
	}
	*n = npg;
	free(pgw);
	free(last);
	return 0;
}

/* Steps 2 and 3, "ready" being there. */
static int catch_up_all(PGconn *pg, struct es_redis *r, const struct tables *t,
			struct es_reconcile_stats *out)
{
	struct writer *ws;
	size_t n;
	int rc = 0;
	bool stop = false;

	if (writers_now(pg, r, t, &ws, &n, out) != 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0 && !stop; i++) {
		if (ws[i].pg_last <= ws[i].redis_last)
			continue;
		out->writers_behind++;
		switch (catch_up(pg, r, t, &ws[i], out)) {
		case STEP_FAILED:
			rc = -1;
			break;
		case STEP_STOP:
			stop = true;
			break;
		default:
			break;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (ws[i].pg_last > ws[i].redis_last)
			out->lag_batches += ws[i].pg_last - ws[i].redis_last;
	if (rc == 0 && !stop && n > 0)
		rc = prune(pg, t, ws, n, out);
	free(ws);
	return rc;
}

int es_reconcile_once(PGconn *pg, struct es_redis *r, const char *schema,
		      struct es_reconcile_stats *out)
{
	struct tables t = { NULL, NULL, NULL };
	int rc = -1, ready;

	memset(out, 0, sizeof(*out));
	t.rollups = quoted(pg, schema, "rollups", &out->err);
	t.writers = quoted(pg, schema, "writers", &out->err);
	t.batches = quoted(pg, schema, "batches", &out->err);
	if (t.rollups == NULL || t.writers == NULL || t.batches == NULL)
		goto out;
	ready = es_redis_ready(r, &out->err);
	if (ready < 0)
		goto out;
	if (ready == 0) {
		out->ready_missing = true;
		if (rebuild(pg, r, &t, out) != 0)
			goto out;
		if (!out->rebuilt) {
			/* Another instance rebuilds, or just did. */
			rc = 0;
			goto out;
		}
	}
	rc = catch_up_all(pg, r, &t, out);
out:
	tables_free(&t);
	return rc;
}
