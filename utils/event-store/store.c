/*
 * store.c - event-store's PostgreSQL side (see store.h).
 *
 * Design notes:
 * 1. A batcher thread (a lane, note 6), with its own connection, takes
 *    up to --batch-events queued events, waiting --batch-wait after the
 *    first, and commits them in one transaction: the initial events
 *    (unnest() of arrays sent in binary, note 7), the follow-ups whose
 *    initial exists, then in one statement the rollups, the batches row
 *    and the writer's last_seq. Only after COMMIT are the events
 *    answered: an event that got a 200 is committed (synchronous_commit
 *    on).
 * 2. The rollups of a batch are summed in C and upserted in one statement,
 *    sorted by (period, bucket, symbol): two instances lock rollup rows in
 *    the same order and cannot deadlock on them. A follow-up adds to the
 *    rollups of its initial event's buckets.
 * 3. A second event with the same uuid in one batch is not sent: it gets
 *    the answer the first one's outcome implies (409, or the 404 of an
 *    unknown initial).
 * 4. If PostgreSQL fails, the whole batch is answered 503 and rolled back;
 *    the connection is made again at the next batch, and last_seq read
 *    again (a COMMIT whose answer was lost may have happened).
 * 5. Every connection runs with TimeZone UTC: rollup buckets and printed
 *    times are UTC whatever the server's setting.
 * 6. --batchers lanes take batches from the one queue, each with its own
 *    thread, connection and writer (its own seqs): while one waits for
 *    its statements and COMMIT, the next batch is already being written,
 *    which keeps both the server and the service busy. Two lanes touch
 *    the same rows only through the same uuid (sent twice at once) and
 *    the rollups; each batch inserts its uuids and upserts its rollups in
 *    sorted order, so they wait for each other but never deadlock.
 * 7. The inserts are plain, without ON CONFLICT: a uuid seen before is a
 *    client's mistake (or retry), and ON CONFLICT looks every row up in
 *    the unique index before inserting it, a fifth of the server's time.
 *    When a plain insert meets one (unique_violation), the transaction is
 *    rolled back and the batch committed again with ON CONFLICT DO
 *    NOTHING, which tells which events were stored.
 */
#include "store.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "clock.h"
#include "log.h"
#include "pgarray.h"
#include "range.h"
#include "telemetry.h"
#include "xalloc.h"

/* Microseconds since the epoch of a timestamptz expression X, exactly
   (extract(epoch) is a double before PostgreSQL 14). */
#define US_OF(x)                                                   \
	"(extract(epoch from date_trunc('second', " x "))::bigint" \
	" * 1000000 + extract(microseconds from " x ")::bigint %% 1000000)"

#define UNAVAILABLE "PostgreSQL is unavailable: event not stored"

/* Failures to reach PostgreSQL are logged at most this often. */
#define QUIET_MS 10000

static atomic_llong batcher_logged = -QUIET_MS, reader_logged = -QUIET_MS;

/* Whether a message of the kind last logged at *LAST may be logged now. */
static bool log_now(atomic_llong *last)
{
	long long now = dbops_clock_ms(), then = atomic_load(last);

	return now - then >= QUIET_MS &&
	       atomic_compare_exchange_strong(last, &then, now);
}

/* The batcher's statements, prepared once per connection. */
enum {
	STMT_INITIALS,
	STMT_INITIALS_CAREFUL,
	STMT_FOLLOWUPS,
	STMT_FOLLOWUPS_CAREFUL,
	STMT_RECORD,
	STMT_COUNT
};

/* A batcher: its thread, connection and row in the writers table. */
struct lane {
	struct es_store *st;
	PGconn *conn;
	int64_t writer, last_seq;
	bool need_seq;		   /* read last_seq again after a failure */
	bool prepared[STMT_COUNT]; /* on this connection */
	pthread_t thread;
	bool running;
	int in_batch;
};

struct es_store {
	struct es_store_config cfg;
	char *conninfo;
	char *schema; /* quoted identifier */
	struct lane *lanes;
	int nlanes, lanes_left; /* batchers, and those not ended */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct es_event *head, **tail;
	int queued;
	int64_t first_us; /* when the first event of the queue came */
	bool closing, closed;
	pthread_key_t reader; /* each thread's connection for reads */
};

PGconn *es_store_connect(const char *conninfo, struct dbops_err *err)
{
	const char *keys[] = { "connect_timeout", "dbname",
			       "fallback_application_name", NULL };
	const char *values[] = { "10", conninfo, "event-store", NULL };
	PGconn *c = PQconnectdbParams(keys, values, 1);
	PGresult *r;

	if (c == NULL) {
		dbops_err_set(err, "out of memory");
		return NULL;
	}
	if (PQstatus(c) != CONNECTION_OK) {
		dbops_err_set(err, "could not connect to PostgreSQL: %s",
			      PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	r = PQexec(c, "SET TIME ZONE 'UTC'; SET synchronous_commit = on;"
		      " SET client_min_messages = warning");
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		dbops_err_set(err, "could not set up the session: %s",
			      PQerrorMessage(c));
		PQclear(r);
		PQfinish(c);
		return NULL;
	}
	PQclear(r);
	return c;
}

/*
 * The session of the batcher and of the readers: each statement is
 * prepared and planned once per connection (a generic plan), and that plan
 * must stay right whatever the tables hold when it is made. The batcher's
 * statements read unnest() of the batch's arrays and look initial events
 * up by uuid; the reads look rows up by time and uuid. With sequential
 * scans, hash and merge joins off, each one's plan is index lookups (a
 * nested loop over the arrays, an index range for a time range): right
 * for a batch of any size and tables of any size. Measured: a plan chosen
 * by the statistics, made while the tables were new (a scan of
 * initial_events), stayed bad as they grew (throughput fell to a fifth
 * until autovacuum's first ANALYZE), and planning every batch anew cost
 * a fifth of the batcher's server time.
 */
static int planned_session(PGconn *c, struct dbops_err *err)
{
	PGresult *r = PQexec(c, "SET plan_cache_mode = force_generic_plan;"
				" SET enable_seqscan = off;"
				" SET enable_hashjoin = off;"
				" SET enable_mergejoin = off;"
				" SET max_parallel_workers_per_gather = 0");
	int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -1;

	if (rc != 0)
		dbops_err_set(err, "could not set up the session: %s",
			      PQerrorMessage(c));
	PQclear(r);
	return rc;
}

/* Run SQL with no answer wanted; 0, or -1 with ERR set. */
static int run(PGconn *c, const char *sql, struct dbops_err *err)
{
	PGresult *r = PQexec(c, sql);
	int rc = PQresultStatus(r) == PGRES_COMMAND_OK ||
				 PQresultStatus(r) == PGRES_TUPLES_OK
			 ? 0
			 : -1;

	if (rc != 0)
		dbops_err_set(err, "%s", PQerrorMessage(c));
	PQclear(r);
	return rc;
}

static const char schema_sql[] =
	"CREATE SCHEMA IF NOT EXISTS %1$s;"
	"CREATE TABLE IF NOT EXISTS %1$s.initial_events ("
	" uuid uuid PRIMARY KEY,"
	" symbol text NOT NULL CHECK (symbol ~ '^[a-z]$'),"
	" at timestamptz NOT NULL, vowel boolean NOT NULL);"
	"CREATE INDEX IF NOT EXISTS initial_events_at"
	" ON %1$s.initial_events (at);"
	"CREATE TABLE IF NOT EXISTS %1$s.followups ("
	" uuid uuid PRIMARY KEY,"
	" at timestamptz NOT NULL);"
	"CREATE TABLE IF NOT EXISTS %1$s.rollups ("
	" period text CHECK (period IN ('minute', 'hour')),"
	" bucket timestamptz, symbol text, events bigint, followups bigint,"
	" earliest timestamptz, latest timestamptz,"
	" PRIMARY KEY (period, bucket, symbol));"
	"CREATE INDEX IF NOT EXISTS rollups_symbol"
	" ON %1$s.rollups (period, symbol);"
	"CREATE TABLE IF NOT EXISTS %1$s.writers ("
	" writer bigserial PRIMARY KEY, host text, pid int,"
	" started timestamptz, last_seq bigint NOT NULL DEFAULT 0);"
	"CREATE TABLE IF NOT EXISTS %1$s.batches ("
	" writer bigint, seq bigint, committed timestamptz,"
	" deltas text NOT NULL, PRIMARY KEY (writer, seq));";

/* Whether the five tables exist already: 1, 0, or -1 with ERR set. A role
   that may only read and write them starts without any DDL: PostgreSQL
   checks the CREATE privilege even for CREATE ... IF NOT EXISTS. */
static int tables_exist(struct es_store *st, struct dbops_err *err)
{
	const char *values[] = { st->schema };
	PGresult *r = PQexecParams(
		st->lanes[0].conn,
		"SELECT count(*) = 5 FROM unnest(ARRAY['initial_events',"
		" 'followups', 'rollups', 'writers', 'batches']) AS t"
		" WHERE to_regclass($1 || '.' || t) IS NOT NULL",
		1, NULL, values, NULL, NULL, 0);
	int rc = -1;

	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		rc = PQgetvalue(r, 0, 0)[0] == 't';
	else
		dbops_err_set(err, "could not look for the schema %s: %s",
			      st->schema, PQerrorMessage(st->lanes[0].conn));
	PQclear(r);
	return rc;
}

/* Create what is missing, under a transaction-level advisory lock on the
   schema's name: two instances starting together take turns. */
static int create_schema(struct es_store *st, struct dbops_err *err)
{
	char *lit = PQescapeLiteral(st->lanes[0].conn, st->schema,
				    strlen(st->schema));
	char *sql = dbops_xasprintf(schema_sql, st->schema);
	char *lock = dbops_xasprintf(
		"BEGIN; SELECT pg_advisory_xact_lock(1702000018, hashtext(%s))",
		lit ? lit : "''");
	int rc = run(st->lanes[0].conn, lock, err) != 0 ||
				 run(st->lanes[0].conn, sql, err) != 0 ||
				 run(st->lanes[0].conn, "COMMIT", err) != 0
			 ? -1
			 : 0;

	if (rc != 0) {
		dbops_err_prefix(
			err, "could not create the schema %s: ", st->schema);
		run(st->lanes[0].conn, "ROLLBACK", NULL);
	}
	PQfreemem(lit);
	free(sql);
	free(lock);
	return rc;
}

static int register_writer(struct lane *ln, struct dbops_err *err)
{
	struct es_store *st = ln->st;
	char host[256] = "", pid[32];
	const char *values[] = { host, pid };
	char *sql =
		dbops_xasprintf("INSERT INTO %s.writers (host, pid, started)"
				" VALUES ($1, $2, now()) RETURNING writer",
				st->schema);
	PGresult *r;

	gethostname(host, sizeof(host) - 1);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	r = PQexecParams(ln->conn, sql, 2, NULL, values, NULL, NULL, 0);
	free(sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		dbops_err_set(err, "could not register in %s.writers: %s",
			      st->schema, PQerrorMessage(ln->conn));
		PQclear(r);
		return -1;
	}
	ln->writer = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	ln->last_seq = 0;
	PQclear(r);
	return 0;
}

/* Make the batcher's connection again and read last_seq; 0 or -1. */
static int reconnect(struct lane *ln)
{
	struct es_store *st = ln->st;
	struct dbops_err err = { "" };
	char *sql, id[32];
	const char *values[] = { id };
	PGresult *r;

	if (ln->conn == NULL || PQstatus(ln->conn) != CONNECTION_OK) {
		PQfinish(ln->conn);
		ln->conn = es_store_connect(st->conninfo, &err);
		memset(ln->prepared, 0, sizeof(ln->prepared));
		if (ln->conn != NULL && planned_session(ln->conn, &err) != 0) {
			PQfinish(ln->conn);
			ln->conn = NULL;
		}
		if (ln->conn == NULL) {
			if (log_now(&batcher_logged))
				dbops_log_warning("%s", err.msg);
			return -1;
		}
		dbops_log_info("connected to PostgreSQL again");
	}
	snprintf(id, sizeof(id), "%lld", (long long)ln->writer);
	sql = dbops_xasprintf(
		"SELECT last_seq FROM %s.writers WHERE writer = $1",
		st->schema);
	r = PQexecParams(ln->conn, sql, 1, NULL, values, NULL, NULL, 0);
	free(sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		dbops_log_warning("could not read this writer's last_seq: %s",
				  PQerrorMessage(ln->conn));
		PQclear(r);
		return -1;
	}
	ln->last_seq = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	ln->need_seq = false;
	PQclear(r);
	return 0;
}

/* ---- one batch ---- */

/* The batch being committed: the events, and what is sent of them. */
struct batch {
	struct es_event **ev;
	int n;
	int *first;	  /* index of the first event with the same kind and
			      uuid, or its own */
	int *order;	  /* indexes sorted by (kind, uuid) */
	int64_t *init_at; /* follow-ups: their initial's time */
	bool *stored;
	struct es_aggregate aggs[ES_SYMBOLS];
	bool careful;  /* ON CONFLICT: see note 7 */
	bool conflict; /* a plain insert met a uuid already there */
};

/* Whether R failed on a unique key (SQLSTATE 23505). */
static bool unique_violation(const PGresult *r)
{
	const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);

	return state != NULL && strcmp(state, "23505") == 0;
}

static int cmp_ev(const void *a, const void *b, void *arg)
{
	struct es_event **ev = arg;
	const struct es_event *x = ev[*(const int *)a];
	const struct es_event *y = ev[*(const int *)b];
	int c = (int)x->kind - (int)y->kind;

	if (c == 0)
		c = strcmp(x->uuid, y->uuid);
	return c != 0 ? c : *(const int *)a - *(const int *)b;
}

/* Sort the batch's events by (kind, uuid) and mark the repeats. */
static void mark_repeats(struct batch *b)
{
	for (int i = 0; i < b->n; i++)
		b->order[i] = i;
	qsort_r(b->order, (size_t)b->n, sizeof(int), cmp_ev, b->ev);
	for (int k = 0; k < b->n; k++) {
		int i = b->order[k], p = k > 0 ? b->order[k - 1] : -1;

		b->first[i] = i;
		if (p >= 0 && b->ev[p]->kind == b->ev[i]->kind &&
		    strcmp(b->ev[p]->uuid, b->ev[i]->uuid) == 0)
			b->first[i] = b->first[p];
	}
}

/* The index of the event of KIND with UUID (a first one), or -1. */
static int find(const struct batch *b, enum es_kind kind, const char *uuid)
{
	int lo = 0, hi = b->n - 1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		const struct es_event *e = b->ev[b->order[mid]];
		int c = (int)e->kind - (int)kind;

		if (c == 0)
			c = strcmp(e->uuid, uuid);
		if (c == 0) {
			int i = b->order[mid];

			return b->first[i];
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

/* A growing text, for the range answer. */
struct text {
	char *s;
	size_t len, cap;
};

static void put(struct text *t, const char *s)
{
	size_t n = strlen(s);

	if (t->len + n + 1 > t->cap) {
		t->cap = (t->len + n + 1) * 2 + 64;
		t->s = dbops_xreallocarray(t->s, t->cap, 1);
	}
	memcpy(t->s + t->len, s, n + 1);
	t->len += n;
}

/* A statement's parameters and the format of its rows, as
   PQexecPrepared() takes them (LENGTHS and FORMATS NULL: all text). */
struct params {
	int n;
	const char *const *values;
	const int *lengths, *formats;
	int binary_rows; /* 1: the rows in binary */
};

/* Run the statement NAME (SQL, prepared on C at its first use there,
   which *PREPARED records) with the parameters P. */
static PGresult *exec_prepared(PGconn *c, bool *prepared, const char *name,
			       const char *sql, const struct params *p)
{
	if (!*prepared) {
		PGresult *r = PQprepare(c, name, sql, p->n, NULL);

		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			return r;
		PQclear(r);
		*prepared = true;
	}
	return PQexecPrepared(c, name, p->n, p->values, p->lengths, p->formats,
			      p->binary_rows);
}

/* Run the batcher's statement ID on the lane's connection. */
static PGresult *exec_stmt(struct lane *ln, int id, const char *sql, int n,
			   const char *const *values, const int *lengths,
			   const int *formats)
{
	struct params p = { n, values, lengths, formats, 0 };
	char name[16];

	snprintf(name, sizeof(name), "es_%d", id);
	return exec_prepared(ln->conn, &ln->prepared[id], name, sql, &p);
}

/* Run statement ID with the arrays A (N of them, binary) as parameters
   $1 to $N, and the texts MORE (NMORE of them) after them. */
static PGresult *exec_arrays(struct lane *ln, int id, const char *sql,
			     struct es_pgarray *a, int n,
			     const char *const *more, int nmore)
{
	const char *values[12];
	int lengths[12], formats[12];

	for (int i = 0; i < n; i++) {
		values[i] = es_pgarray_bytes(&a[i], &lengths[i]);
		formats[i] = 1;
	}
	for (int i = 0; i < nmore; i++) {
		values[n + i] = more[i];
		lengths[n + i] = 0;
		formats[n + i] = 0;
	}
	return exec_stmt(ln, id, sql, n + nmore, values, lengths, formats);
}

static void init_arrays(struct es_pgarray *a, const uint32_t *types, int n)
{
	for (int i = 0; i < n; i++)
		es_pgarray_init(&a[i], types[i]);
}

static void free_arrays(struct es_pgarray *a, int n)
{
	for (int i = 0; i < n; i++)
		es_pgarray_free(&a[i]);
}

/* A uuid that passed the request's check and yet is none (a bug): the
   batch fails, answered 503, rather than answer for an event not sent.
   Frees the N arrays A; -1. */
static int bad_uuid(struct es_pgarray *a, int n, const char *uuid)
{
	dbops_log_warning("not a uuid in a batch: \"%s\"", uuid);
	free_arrays(a, n);
	return -1;
}

/* The initial events of B that R (the insert's answer) stored: those
   it returned when careful, else every one sent (the first of its uuid). */
static void mark_initials_stored(struct batch *b, const PGresult *r)
{
	if (!b->careful) {
		for (int i = 0; i < b->n; i++)
			b->stored[i] = b->ev[i]->kind == ES_INITIAL &&
				       b->first[i] == i;
		return;
	}
	for (int k = 0; k < PQntuples(r); k++) {
		int i = find(b, ES_INITIAL, PQgetvalue(r, k, 0));

		if (i >= 0)
			b->stored[i] = true;
	}
}

/* Insert the first initial event of each uuid; mark those stored. */
static int insert_initials(struct lane *ln, struct batch *b)
{
	static const uint32_t types[] = { ES_OID_UUID, ES_OID_TEXT,
					  ES_OID_TIMESTAMPTZ, ES_OID_BOOL };
	struct es_store *st = ln->st;
	struct es_pgarray a[4];
	char *sql;
	PGresult *r;
	int sent = 0, rc = 0;

	init_arrays(a, types, 4);
	for (int k = 0; k < b->n; k++) { /* in uuid order: see note 6 */
		int i = b->order[k];
		struct es_event *e = b->ev[i];

		if (e->kind != ES_INITIAL || b->first[i] != i)
			continue;
		if (!es_pgarray_uuid(&a[0], e->uuid))
			return bad_uuid(a, 4, e->uuid);
		es_pgarray_text(&a[1], &e->symbol, 1);
		es_pgarray_time(&a[2], e->at);
		es_pgarray_bool(&a[3], es_symbol_vowel(e->symbol));
		sent++;
	}
	if (sent > 0) {
		sql = dbops_xasprintf(
			"INSERT INTO %s.initial_events (uuid, symbol, at, vowel)"
			" SELECT * FROM unnest($1::uuid[], $2::text[],"
			" $3::timestamptz[], $4::boolean[])%s",
			st->schema,
			b->careful ? " ON CONFLICT DO NOTHING RETURNING uuid"
				   : "");
		r = exec_arrays(
			ln, b->careful ? STMT_INITIALS_CAREFUL : STMT_INITIALS,
			sql, a, 4, NULL, 0);
		free(sql);
		rc = PQresultStatus(r) == (b->careful ? PGRES_TUPLES_OK
						      : PGRES_COMMAND_OK)
			     ? 0
			     : -1;
		if (rc == 0)
			mark_initials_stored(b, r);
		b->conflict = rc != 0 && !b->careful && unique_violation(r);
		if (rc != 0 && !b->conflict)
			dbops_log_warning("could not insert initial events: %s",
					  PQerrorMessage(ln->conn));
		PQclear(r);
	}
	free_arrays(a, 4);
	return rc;
}

/*
 * The follow-ups' statement: each follow-up of the arrays whose initial
 * exists is inserted, and answered with a row (uuid, symbol, time of the
 * initial, stored). Plain, every such one is stored (or the statement
 * fails); CAREFUL, with ON CONFLICT, a row (uuid, NULL, NULL, true) says
 * which were, beside a row (uuid, symbol, time, false) per one found:
 * joining the two in SQL would be a nested loop over the batch (hash
 * joins are off, see planned_session()).
 */
static char *followups_sql(const char *schema, bool careful)
{
	return dbops_xasprintf(
		"WITH f AS (SELECT f.uuid, f.at, i.symbol, i.at AS iat"
		" FROM unnest($1::uuid[], $2::timestamptz[]) AS f (uuid, at)"
		" JOIN %1$s.initial_events i ON i.uuid = f.uuid),"
		" ins AS (INSERT INTO %1$s.followups (uuid, at)"
		" SELECT uuid, at FROM f%2$s RETURNING uuid)"
		" SELECT uuid, symbol, " US_OF("iat") ", %3$s FROM f%4$s",
		schema, careful ? " ON CONFLICT DO NOTHING" : "",
		careful ? "false" : "true",
		careful ? " UNION ALL SELECT uuid, NULL, NULL, true FROM ins"
			: "");
}

/* Insert the first follow-up of each uuid whose initial exists; learn
   the initial's symbol and time of each whose initial exists. */
static int insert_followups(struct lane *ln, struct batch *b)
{
	struct es_store *st = ln->st;
	static const uint32_t types[] = { ES_OID_UUID, ES_OID_TIMESTAMPTZ };
	struct es_pgarray a[2];
	char *sql;
	PGresult *r;
	int sent = 0, rc = 0;

	init_arrays(a, types, 2);
	for (int k = 0; k < b->n; k++) { /* in uuid order: see note 6 */
		int i = b->order[k];

		if (b->ev[i]->kind != ES_FOLLOWUP || b->first[i] != i)
			continue;
		if (!es_pgarray_uuid(&a[0], b->ev[i]->uuid))
			return bad_uuid(a, 2, b->ev[i]->uuid);
		es_pgarray_time(&a[1], b->ev[i]->at);
		sent++;
	}
	if (sent > 0) {
		sql = followups_sql(st->schema, b->careful);
		r = exec_arrays(ln,
				b->careful ? STMT_FOLLOWUPS_CAREFUL
					   : STMT_FOLLOWUPS,
				sql, a, 2, NULL, 0);
		free(sql);
		rc = PQresultStatus(r) == PGRES_TUPLES_OK ? 0 : -1;
		for (int k = 0; rc == 0 && k < PQntuples(r); k++) {
			int i = find(b, ES_FOLLOWUP, PQgetvalue(r, k, 0));

			if (i < 0)
				continue;
			if (PQgetvalue(r, k, 3)[0] == 't')
				b->stored[i] = true;
			if (!PQgetisnull(r, k, 1)) {
				b->ev[i]->symbol = PQgetvalue(r, k, 1)[0];
				b->init_at[i] =
					strtoll(PQgetvalue(r, k, 2), NULL, 10);
			}
		}
		b->conflict = rc != 0 && !b->careful && unique_violation(r);
		if (rc != 0 && !b->conflict)
			dbops_log_warning("could not insert follow-ups: %s",
					  PQerrorMessage(ln->conn));
		PQclear(r);
	}
	free_arrays(a, 2);
	return rc;
}

/* One rollup change: (period, bucket, symbol) += (events, followups). */
struct rollup {
	int period; /* 0 hour, 1 minute: the order of their names */
	int64_t bucket;
	char symbol;
	int64_t events, followups, earliest, latest;
};

static int cmp_rollup(const void *a, const void *b)
{
	const struct rollup *x = a, *y = b;

	if (x->period != y->period)
		return x->period - y->period;
	if (x->bucket != y->bucket)
		return x->bucket < y->bucket ? -1 : 1;
	return x->symbol - y->symbol;
}

/* The batch's rollup changes, sorted and merged; their count. */
static int collect_rollups(struct batch *b, struct rollup *r)
{
	int n = 0, m = 0;

	for (int i = 0; i < b->n; i++) {
		const struct es_event *e = b->ev[i];
		bool init = e->kind == ES_INITIAL;
		int64_t at = init ? e->at : b->init_at[i];

		if (!b->stored[i])
			continue;
		for (int p = 0; p < 2; p++)
			r[n++] = (struct rollup){
				p,
				es_range_floor(at, p == 0 ? ES_HOUR_US
							  : ES_MINUTE_US),
				e->symbol,
				init,
				!init,
				init ? at : INT64_MAX,
				init ? at : INT64_MIN
			};
		if (init)
			es_aggregate_add_initial(
				b->aggs, es_symbol_index(e->symbol), at);
		else
			es_aggregate_add_followup(b->aggs,
						  es_symbol_index(e->symbol));
	}
	qsort(r, (size_t)n, sizeof(*r), cmp_rollup);
	for (int i = 0; i < n; i++) {
		if (m > 0 && cmp_rollup(&r[m - 1], &r[i]) == 0) {
			struct rollup *t = &r[m - 1];

			t->events += r[i].events;
			t->followups += r[i].followups;
			t->earliest = r[i].earliest < t->earliest
					      ? r[i].earliest
					      : t->earliest;
			t->latest = r[i].latest > t->latest ? r[i].latest
							    : t->latest;
		} else {
			r[m++] = r[i];
		}
	}
	return m;
}

/* The statement of record_batch(): the rollups' upsert (arrays $1 to $7),
   the batches row and the writer's last_seq ($8 writer, $9 seq, $10
   deltas) in one round trip. */
static char *record_sql(const char *schema)
{
	return dbops_xasprintf(
		"WITH r AS (INSERT INTO %1$s.rollups AS o (period, bucket,"
		" symbol, events, followups, earliest, latest)"
		" SELECT * FROM unnest($1::text[], $2::timestamptz[],"
		" $3::text[], $4::bigint[], $5::bigint[],"
		" $6::timestamptz[], $7::timestamptz[])"
		" ON CONFLICT (period, bucket, symbol) DO UPDATE SET"
		" events = o.events + excluded.events,"
		" followups = o.followups + excluded.followups,"
		" earliest = least(o.earliest, excluded.earliest),"
		" latest = greatest(o.latest, excluded.latest)),"
		" b AS (INSERT INTO %1$s.batches (writer, seq, committed,"
		" deltas) VALUES ($8, $9, now(), $10))"
		" UPDATE %1$s.writers SET last_seq = $9 WHERE writer = $8",
		schema);
}

/* The rollups' arrays A (seven) of the changes R (N of them). */
static void rollup_arrays(const struct rollup *r, int n, struct es_pgarray *a)
{
	static const uint32_t types[] = { ES_OID_TEXT,	     ES_OID_TIMESTAMPTZ,
					  ES_OID_TEXT,	     ES_OID_INT8,
					  ES_OID_INT8,	     ES_OID_TIMESTAMPTZ,
					  ES_OID_TIMESTAMPTZ };

	init_arrays(a, types, 7);
	for (int i = 0; i < n; i++) {
		const char *period = r[i].period == 0 ? "hour" : "minute";

		es_pgarray_text(&a[0], period, strlen(period));
		es_pgarray_time(&a[1], r[i].bucket);
		es_pgarray_text(&a[2], &r[i].symbol, 1);
		es_pgarray_int8(&a[3], r[i].events);
		es_pgarray_int8(&a[4], r[i].followups);
		if (r[i].events > 0) {
			es_pgarray_time(&a[5], r[i].earliest);
			es_pgarray_time(&a[6], r[i].latest);
		} else {
			es_pgarray_null(&a[5]);
			es_pgarray_null(&a[6]);
		}
	}
}

/*
 * Record what the batch B stored: its rollups, its batches row with its
 * deltas (*DELTAS, malloc'd) and the writer's last_seq, in one statement.
 * Nothing when it stored nothing (*DELTAS NULL). 0, or -1.
 */
static int record_batch(struct lane *ln, struct batch *b, char **deltas)
{
	struct rollup *r = dbops_xcalloc((size_t)b->n * 2 + 1, sizeof(*r));
	int n = collect_rollups(b, r), rc = 0;
	char w[32], s[32], text[ES_DELTAS_MAX];
	struct es_pgarray a[7];
	const char *more[3] = { w, s, NULL };
	PGresult *res;
	char *sql;

	if (n == 0) { /* then no aggregate changed either */
		free(r);
		return 0;
	}
	es_deltas_format(b->aggs, text, sizeof(text));
	*deltas = dbops_xstrdup(text);
	more[2] = *deltas;
	rollup_arrays(r, n, a);
	snprintf(w, sizeof(w), "%lld", (long long)ln->writer);
	snprintf(s, sizeof(s), "%lld", (long long)ln->last_seq + 1);
	sql = record_sql(ln->st->schema);
	res = exec_arrays(ln, STMT_RECORD, sql, a, 7, more, 3);
	free(sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		dbops_log_warning("could not record the batch: %s",
				  PQerrorMessage(ln->conn));
		rc = -1;
	}
	PQclear(res);
	free_arrays(a, 7);
	free(r);
	return rc;
}

/* ---- answers ---- */

static void answer(struct es_event *e, int status, char *body)
{
	e->status = status;
	e->body = body;
}

static void answer_error(struct es_event *e, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void answer_error(struct es_event *e, int status, const char *fmt, ...)
{
	char msg[ES_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	answer(e, status, es_error_body(msg));
}

static void answer_initial(struct batch *b, int i)
{
	struct es_event *e = b->ev[i];

	if (b->first[i] == i && b->stored[i]) {
		answer(e, 200,
		       dbops_xasprintf(
			       "{\"uuid\":\"%s\",\"symbol\":\"%c\",\"vowel\":%s}",
			       e->uuid, e->symbol,
			       es_symbol_vowel(e->symbol) ? "true" : "false"));
		es_tm_event("initial", "stored");
		return;
	}
	answer_error(e, 409, "uuid %s already has an initial event", e->uuid);
	es_tm_event("initial", "duplicate");
}

static void answer_followup(struct batch *b, int i)
{
	struct es_event *e = b->ev[i];
	int f = b->first[i];
	bool known = b->ev[f]->symbol != '\0';

	if (!known) {
		answer_error(e, 404, "no initial event with uuid %s", e->uuid);
		es_tm_event("followup", "unknown");
	} else if (f == i && b->stored[i]) {
		answer(e, 200,
		       dbops_xasprintf("{\"uuid\":\"%s\",\"symbol\":\"%c\","
				       "\"followup\":true}",
				       e->uuid, b->ev[f]->symbol));
		es_tm_event("followup", "stored");
	} else {
		answer_error(e, 409, "uuid %s already has a follow-up",
			     e->uuid);
		es_tm_event("followup", "duplicate");
	}
}

/* BEGIN, on a connection made again first if it broke: a server that
   restarted since the last batch shows only at the next command, and
   nothing is lost by sending BEGIN twice. 0, or -1. */
static int begin(struct lane *ln)
{
	if ((ln->conn == NULL || PQstatus(ln->conn) != CONNECTION_OK ||
	     ln->need_seq) &&
	    reconnect(ln) != 0)
		return -1;
	if (run(ln->conn, "BEGIN", NULL) == 0)
		return 0;
	if (PQstatus(ln->conn) == CONNECTION_OK || reconnect(ln) != 0)
		return -1;
	return run(ln->conn, "BEGIN", NULL);
}

/* Commit the batch B; 0, or -1 when PostgreSQL failed (rolled back). */
/* Start an attempt at the batch B: nothing stored, no follow-up's
   initial known yet. */
static void reset_attempt(struct batch *b)
{
	memset(b->stored, 0, (size_t)b->n * sizeof(*b->stored));
	memset(b->init_at, 0, (size_t)b->n * sizeof(*b->init_at));
	es_aggregates_clear(b->aggs);
	for (int i = 0; i < b->n; i++)
		if (b->ev[i]->kind == ES_FOLLOWUP)
			b->ev[i]->symbol = '\0';
	b->conflict = false;
}

/* One transaction of the batch B; 0, or -1 when it was rolled back. */
static int try_batch(struct lane *ln, struct batch *b, char **deltas)
{
	int rc;

	*deltas = NULL;
	reset_attempt(b);
	if (begin(ln) != 0)
		return -1;
	rc = insert_initials(ln, b) != 0 || insert_followups(ln, b) != 0 ||
			     record_batch(ln, b, deltas) != 0
		     ? -1
		     : 0;
	if (rc == 0) {
		struct dbops_err err = { "" };

		if (run(ln->conn, "COMMIT", &err) != 0) {
			dbops_log_warning("could not commit a batch: %s",
					  err.msg);
			rc = -1;
		}
	} else if (PQstatus(ln->conn) == CONNECTION_OK) {
		run(ln->conn, "ROLLBACK", NULL);
	}
	if (rc != 0) {
		free(*deltas);
		*deltas = NULL;
	}
	return rc;
}

/* Commit the batch B; 0, or -1 when PostgreSQL failed (rolled back). A
   batch with a uuid stored already is committed again, carefully. */
static int commit_batch(struct lane *ln, struct batch *b, char **deltas)
{
	int rc = try_batch(ln, b, deltas);

	if (rc != 0 && b->conflict) {
		b->careful = true;
		rc = try_batch(ln, b, deltas);
	}
	if (rc != 0) {
		ln->need_seq = true;
		return -1;
	}
	if (*deltas != NULL)
		ln->last_seq++;
	return 0;
}

static void process_batch(struct lane *ln, struct es_event **ev, int n)
{
	struct es_store *st = ln->st;
	struct batch b = { .ev = ev, .n = n };
	double t0 = dbops_clock_seconds();
	char *deltas;
	int rc;

	b.first = dbops_xcalloc((size_t)n, sizeof(int));
	b.order = dbops_xcalloc((size_t)n, sizeof(int));
	b.init_at = dbops_xcalloc((size_t)n, sizeof(int64_t));
	b.stored = dbops_xcalloc((size_t)n, sizeof(bool));
	mark_repeats(&b);
	rc = commit_batch(ln, &b, &deltas);
	es_tm_postgresql_up(rc == 0);
	if (rc == 0) {
		es_tm_batch(n, dbops_clock_seconds() - t0);
		if (deltas && st->cfg.committed)
			st->cfg.committed(ln->writer, ln->last_seq, deltas,
					  st->cfg.committed_arg);
	}
	for (int i = 0; i < n; i++) {
		if (rc != 0) {
			answer(ev[i], 503, es_error_body(UNAVAILABLE));
			es_tm_event(ev[i]->kind == ES_INITIAL ? "initial"
							      : "followup",
				    "unavailable");
		} else if (ev[i]->kind == ES_INITIAL) {
			answer_initial(&b, i);
		} else {
			answer_followup(&b, i);
		}
	}
	free(deltas);
	free(b.first);
	free(b.order);
	free(b.init_at);
	free(b.stored);
}

/* ---- the batcher ---- */

/* The monotonic time US (dbops_clock_us()) as a deadline for the
   condition variable. */
static void deadline_at(struct timespec *ts, int64_t us)
{
	ts->tv_sec = (time_t)(us / 1000000);
	ts->tv_nsec = (long)(us % 1000000) * 1000L;
}

/* Wait for a batch (with the lock held); its events, or 0 when closed
   and empty. */
static int take_batch(struct lane *ln, struct es_event **ev)
{
	struct es_store *st = ln->st;
	struct timespec ts;
	int n = 0;

	while (st->queued == 0 && !st->closing) {
		deadline_at(&ts, dbops_clock_us() +
					 (int64_t)st->cfg.heartbeat_ms * 1000);
		if (pthread_cond_timedwait(&st->cond, &st->lock, &ts) ==
		    ETIMEDOUT)
			break;
	}
	if (st->queued == 0)
		return 0;
	/* The first queued event waits --batch-wait at most, counted from
	   its arrival: events queued during the last commit go at once. */
	deadline_at(&ts, st->first_us + (int64_t)st->cfg.batch_wait_ms * 1000);
	while (st->queued < st->cfg.batch_events && !st->closing &&
	       pthread_cond_timedwait(&st->cond, &st->lock, &ts) != ETIMEDOUT)
		;
	while (st->head != NULL && n < st->cfg.batch_events) {
		ev[n++] = st->head;
		st->head = st->head->next;
	}
	if (st->head == NULL)
		st->tail = &st->head;
	st->queued -= n;
	ln->in_batch = n;
	if (st->queued > 0) /* the rest waited since before the batch */
		st->first_us = dbops_clock_us() -
			       (int64_t)st->cfg.batch_wait_ms * 1000;
	return n;
}

static void *batcher(void *arg)
{
	struct lane *ln = arg;
	struct es_store *st = ln->st;
	struct es_event **ev =
		dbops_xcalloc((size_t)st->cfg.batch_events, sizeof(*ev));

	pthread_mutex_lock(&st->lock);
	for (;;) {
		int n = take_batch(ln, ev);

		if (n == 0 && st->closing && st->queued == 0)
			break;
		pthread_mutex_unlock(&st->lock);
		if (st->cfg.heartbeat)
			st->cfg.heartbeat(st->cfg.heartbeat_arg);
		if (n > 0) {
			process_batch(ln, ev, n);
			for (int i = 0; i < n; i++)
				st->cfg.done(ev[i], st->cfg.done_arg);
		}
		pthread_mutex_lock(&st->lock);
		ln->in_batch = 0;
	}
	if (--st->lanes_left == 0)
		st->closed = true;
	pthread_mutex_unlock(&st->lock);
	free(ev);
	return NULL;
}

int es_store_submit(struct es_store *st, struct es_event *ev)
{
	pthread_mutex_lock(&st->lock);
	if (st->closed || st->closing) {
		pthread_mutex_unlock(&st->lock);
		return -1;
	}
	ev->next = NULL;
	*st->tail = ev;
	st->tail = &ev->next;
	if (st->queued++ == 0)
		st->first_us = dbops_clock_us();
	if (st->queued == 1 || st->queued >= st->cfg.batch_events)
		pthread_cond_signal(&st->cond);
	pthread_mutex_unlock(&st->lock);
	return 0;
}

int es_store_pending(struct es_store *st)
{
	int n;

	pthread_mutex_lock(&st->lock);
	n = st->queued;
	for (int i = 0; i < st->nlanes; i++)
		n += st->lanes[i].in_batch;
	pthread_mutex_unlock(&st->lock);
	return n;
}

/* ---- open and close ---- */

/* A thread's connection for reads, and its prepared statements: the
   symbol's, and a range's for each set of slots (READ_RANGE + the set). */
enum { READ_SYMBOL, READ_RANGE, READ_COUNT = READ_RANGE + ES_RANGE_SHAPES };

struct reader {
	PGconn *conn;
	bool prepared[READ_COUNT];
};

static void reader_free(void *arg)
{
	struct reader *rd = arg;

	if (rd != NULL)
		PQfinish(rd->conn);
	free(rd);
}

/* The schema's name as a quoted identifier into st->schema; 0 or -1. */
static int quote_schema(struct es_store *st, PGconn *c, struct dbops_err *err)
{
	const char *name = st->cfg.schema;
	char *q = PQescapeIdentifier(c, name, strlen(name));

	if (q == NULL) {
		const char *why = PQerrorMessage(c);

		return dbops_err_set(err, "invalid --schema \"%s\": %.*s", name,
				     (int)strcspn(why, "\n"), why);
	}
	st->schema = dbops_xstrdup(q);
	PQfreemem(q);
	return 0;
}

/* Each lane's connection and row in the writers table, the schema made
   first if missing (on the first lane's connection); 0 or -1. */
static int open_lanes(struct es_store *st, struct dbops_err *err)
{
	int have;

	for (int i = 0; i < st->nlanes; i++) {
		struct lane *ln = &st->lanes[i];

		ln->st = st;
		ln->conn = es_store_connect(st->conninfo, err);
		if (ln->conn == NULL || planned_session(ln->conn, err) != 0 ||
		    (i == 0 && quote_schema(st, ln->conn, err) != 0))
			return -1;
	}
	if ((have = tables_exist(st, err)) < 0 ||
	    (have == 0 && create_schema(st, err) != 0))
		return -1;
	for (int i = 0; i < st->nlanes; i++)
		if (register_writer(&st->lanes[i], err) != 0)
			return -1;
	return 0;
}

struct es_store *es_store_open(const struct es_store_config *cfg,
			       struct dbops_err *err)
{
	struct es_store *st = dbops_xcalloc(1, sizeof(*st));
	pthread_condattr_t ca;

	st->cfg = *cfg;
	st->conninfo = dbops_xstrdup(cfg->conninfo ? cfg->conninfo : "");
	st->nlanes = cfg->batchers > 0 ? cfg->batchers : 1;
	st->lanes = dbops_xcalloc((size_t)st->nlanes, sizeof(*st->lanes));
	st->tail = &st->head;
	pthread_mutex_init(&st->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&st->cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_key_create(&st->reader, reader_free);
	if (open_lanes(st, err) != 0) {
		st->closed = true;
		es_store_close(st);
		return NULL;
	}
	for (int i = 0; i < st->nlanes; i++) {
		struct lane *ln = &st->lanes[i];

		errno = pthread_create(&ln->thread, NULL, batcher, ln);
		if (errno != 0) {
			dbops_err_set(err, "could not start the batcher: %s",
				      strerror(errno));
			st->closed = true;
			es_store_close(st);
			return NULL;
		}
		ln->running = true;
		pthread_mutex_lock(&st->lock);
		st->lanes_left++;
		pthread_mutex_unlock(&st->lock);
	}
	return st;
}

void es_store_drain(struct es_store *st)
{
	pthread_mutex_lock(&st->lock);
	st->closing = true;
	pthread_cond_broadcast(&st->cond);
	pthread_mutex_unlock(&st->lock);
	for (int i = 0; i < st->nlanes; i++) {
		if (st->lanes[i].running)
			pthread_join(st->lanes[i].thread, NULL);
		st->lanes[i].running = false;
	}
}

void es_store_close(struct es_store *st)
{
	void *conn;

	if (st == NULL)
		return;
	es_store_drain(st);
	conn = pthread_getspecific(st->reader);
	if (conn != NULL) {
		pthread_setspecific(st->reader, NULL);
		reader_free(conn);
	}
	pthread_key_delete(st->reader);
	for (int i = 0; i < st->nlanes; i++)
		PQfinish(st->lanes[i].conn);
	free(st->lanes);
	pthread_cond_destroy(&st->cond);
	pthread_mutex_destroy(&st->lock);
	free(st->conninfo);
	free(st->schema);
	free(st);
}

int es_store_batchers(const struct es_store *st)
{
	return st->nlanes;
}

int64_t es_store_writer(const struct es_store *st, int i)
{
	return st->lanes[i].writer;
}

const char *es_store_schema_ident(const struct es_store *st)
{
	return st->schema;
}

const char *es_store_conninfo(const struct es_store *st)
{
	return st->conninfo;
}

/* ---- reads ---- */

/* The calling thread's connection for reads, made if need be; or NULL.
   It has the batcher's session (see planned_session()): the reads are
   prepared once and their plan made once, by the indexes. */
static struct reader *reader(struct es_store *st)
{
	struct reader *rd = pthread_getspecific(st->reader);
	struct dbops_err err = { "" };

	if (rd != NULL && rd->conn != NULL &&
	    PQstatus(rd->conn) == CONNECTION_OK)
		return rd;
	if (rd == NULL) {
		rd = dbops_xcalloc(1, sizeof(*rd));
		pthread_setspecific(st->reader, rd);
	}
	PQfinish(rd->conn);
	memset(rd->prepared, 0, sizeof(rd->prepared));
	rd->conn = es_store_connect(st->conninfo, &err);
	if (rd->conn != NULL && planned_session(rd->conn, &err) != 0) {
		PQfinish(rd->conn);
		rd->conn = NULL;
	}
	if (rd->conn == NULL) {
		if (log_now(&reader_logged))
			dbops_log_warning("%s", err.msg);
		return NULL;
	}
	return rd;
}

/* Drop the thread's connection for reads: the next read makes a new one. */
static void reader_drop(struct reader *rd)
{
	PQfinish(rd->conn);
	rd->conn = NULL;
}

/*
 * Run the read ID (SQL, prepared; ID -1 runs SQL as it is, P unused) with
 * the parameters P on the calling thread's connection: its rows, or NULL. A
 * connection found broken (the server restarted since its last use) is
 * made again and the read tried once more, so no request pays for it.
 */
static PGresult *read_query(struct es_store *st, int id, const char *sql,
			    const struct params *p)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		struct reader *rd = reader(st);
		char name[32];
		PGresult *r;

		if (rd == NULL)
			return NULL;
		snprintf(name, sizeof(name), "es_read_%d", id);
		r = id < 0 ? PQexec(rd->conn, sql)
			   : exec_prepared(rd->conn, &rd->prepared[id], name,
					   sql, p);
		if (PQresultStatus(r) == PGRES_TUPLES_OK)
			return r;
		PQclear(r);
		if (PQstatus(rd->conn) == CONNECTION_OK || attempt == 1) {
			if (log_now(&reader_logged))
				dbops_log_warning("a dashboard read failed: %s",
						  PQerrorMessage(rd->conn));
			if (PQstatus(rd->conn) != CONNECTION_OK)
				reader_drop(rd);
			return NULL;
		}
		reader_drop(rd);
	}
	return NULL;
}

/* Value (ROW, COL) of R, rows in binary, as an int8 (0 when NULL), or
   as a time (microseconds, ES_TIME_NONE when NULL). */
static int64_t binary_int8(const PGresult *r, int row, int col)
{
	return PQgetlength(r, row, col) == 8
		       ? es_pgbinary_int8(
				 (const unsigned char *)PQgetvalue(r, row, col))
		       : 0;
}

static int64_t binary_time(const PGresult *r, int row, int col)
{
	return PQgetlength(r, row, col) == 8
		       ? es_pgbinary_to_time(
				 (const unsigned char *)PQgetvalue(r, row, col))
		       : ES_TIME_NONE;
}

int es_store_symbol(struct es_store *st, char symbol, struct es_aggregate *agg)
{
	char sym[2] = { symbol, 0 };
	const char *values[] = { sym };
	char *sql;
	PGresult *r;

	sql = dbops_xasprintf("SELECT coalesce(sum(events), 0)::bigint,"
			      " coalesce(sum(followups), 0)::bigint,"
			      " min(earliest), max(latest) FROM %s.rollups"
			      " WHERE period = 'hour' AND symbol = $1",
			      st->schema);
	r = read_query(st, READ_SYMBOL, sql,
		       &(struct params){ 1, values, NULL, NULL, 1 });
	free(sql);
	if (r == NULL)
		return -1;
	agg->events = binary_int8(r, 0, 0);
	agg->followups = binary_int8(r, 0, 1);
	agg->earliest_us = binary_time(r, 0, 2);
	agg->latest_us = binary_time(r, 0, 3);
	PQclear(r);
	return 0;
}

char *es_aggregate_json(char symbol, const struct es_aggregate *agg)
{
	char e[ES_TIME_LEN + 2] = "null", l[ES_TIME_LEN + 2] = "null";

	if (agg->events > 0) {
		e[0] = l[0] = '"';
		es_time_format(agg->earliest_us, e + 1);
		es_time_format(agg->latest_us, l + 1);
		strcat(e, "\"");
		strcat(l, "\"");
	}
	return dbops_xasprintf("{\"count\":%lld,\"symbol\":\"%c\","
			       "\"earliest\":%s,\"latest\":%s,"
			       "\"followups\":%lld}",
			       (long long)agg->events, symbol, e, l,
			       (long long)agg->followups);
}

/* The JSON array of the range's rows R (in binary) into *JSON. */
static void range_json(const PGresult *r, char **json)
{
	struct text out = { 0 };

	put(&out, "[");
	for (int i = 0; i < PQntuples(r); i++) {
		struct es_aggregate agg = {
			.events = binary_int8(r, i, 1),
			.followups = binary_int8(r, i, 2),
			.earliest_us = binary_time(r, i, 3),
			.latest_us = binary_time(r, i, 4),
		};
		char *o = es_aggregate_json(PQgetvalue(r, i, 0)[0], &agg);

		if (i > 0)
			put(&out, ",");
		put(&out, o);
		free(o);
	}
	put(&out, "]");
	*json = out.s;
}

int es_store_range(struct es_store *st, int64_t lower, int64_t upper,
		   char **json)
{
	struct es_segment segs[ES_SEGMENTS_MAX];
	int n = es_range_cut(lower, upper, segs), used, nvalues = 0;
	int64_t bounds[2 * ES_RANGE_SLOTS];
	unsigned char bytes[2 * ES_RANGE_SLOTS][8];
	const char *values[2 * ES_RANGE_SLOTS];
	int lengths[2 * ES_RANGE_SLOTS], formats[2 * ES_RANGE_SLOTS];
	char *sql;
	PGresult *r;

	if (n == 0) {
		*json = dbops_xstrdup("[]");
		return 0;
	}
	used = es_range_slots(segs, n, bounds);
	if (used <= 0) {
		dbops_log_warning("a range cut into segments out of order");
		return -1;
	}
	for (int i = 0; i < 2 * ES_RANGE_SLOTS; i++) {
		if (!(used & (1 << (i / 2))))
			continue;
		es_pgbinary_time(bounds[i], bytes[nvalues]);
		values[nvalues] = (const char *)bytes[nvalues];
		lengths[nvalues] = 8;
		formats[nvalues++] = 1;
	}
	sql = es_range_sql(st->schema, (unsigned)used);
	r = read_query(
		st, READ_RANGE + used, sql,
		&(struct params){ nvalues, values, lengths, formats, 1 });
	free(sql);
	if (r == NULL)
		return -1;
	range_json(r, json);
	PQclear(r);
	return 0;
}

bool es_store_ping(struct es_store *st)
{
	PGresult *r = read_query(st, -1, "SELECT 1", NULL);

	PQclear(r);
	return r != NULL;
}
