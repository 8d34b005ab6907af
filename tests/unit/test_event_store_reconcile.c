/*
 * test_event_store_reconcile.c - event-store's reconciler (reconcile.c)
 * against a real PostgreSQL and a real Redis: the servers of
 * tests/event-store-redis.bats, which runs this program with PGHOST and
 * REDIS_URL set, and ES_TEST_SERVERS=1 to say that those servers are
 * scratch ones (the test drops a schema and empties Redis with FLUSHALL);
 * without them (as a plain unit test) every test skips.
 *
 * The test makes the tables of the service in a schema of its own (an
 * odd name, to check the quoting) and commits batches as the batcher does:
 * raw events, hour rollups, the batches row with its deltas and
 * writers.last_seq in one transaction, then (or not, as after kill -9)
 * the apply to Redis. The oracle is the SQL recomputation of every
 * symbol's aggregate from the raw events.
 */
#include "testutil.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>

#include <hiredis/hiredis.h>
#include <libpq-fe.h>

#include "../../utils/event-store/reconcile.h"

#define SCHEMA "es test \"q\""
#define Q      "\"es test \"\"q\"\"\""
#define US(x)                                                                \
	"(extract(epoch from date_trunc('second', " x "))::bigint * 1000000" \
	" + extract(microseconds from " x ")::bigint % 1000000)"

static PGconn *pg;

/* The servers of the bats file, which the tests may empty. */
static bool servers_given(void)
{
	const char *given = getenv("ES_TEST_SERVERS");

	return getenv("PGHOST") != NULL && getenv("REDIS_URL") != NULL &&
	       given != NULL && strcmp(given, "1") == 0;
}
static struct es_redis *r;
static unsigned seed = 18;
/* Other reconcilers run: an apply may find its batch applied, or no ready. */
static bool racing;

static PGresult *sqlv(const char *sql, int n, const char *const *params)
{
	PGresult *res = PQexecParams(pg, sql, n, NULL, params, NULL, NULL, 0);

	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(pg));
	return res;
}

static void sql(const char *text)
{
	PQclear(sqlv(text, 0, NULL));
}

static long long sql_int(const char *text)
{
	PGresult *res = sqlv(text, 0, NULL);
	long long v = atoll(PQgetvalue(res, 0, 0));

	PQclear(res);
	return v;
}

/* A command on a plain hiredis connection to $REDIS_URL. */
static void redis_raw(const char *cmd)
{
	struct es_redis_url u;
	struct dbops_err err = { "" };
	redisContext *c;
	redisReply *reply;

	assert_int_equal(es_redis_url_parse(getenv("REDIS_URL"), &u, &err), 0);
	c = u.unix_socket ? redisConnectUnix(u.path)
			  : redisConnect(u.host, u.port);
	assert_non_null(c);
	assert_int_equal(c->err, 0);
	if (u.db != 0)
		freeReplyObject(redisCommand(c, "SELECT %d", u.db));
	reply = redisCommand(c, cmd);
	assert_non_null(reply);
	assert_int_not_equal(reply->type, REDIS_REPLY_ERROR);
	freeReplyObject(reply);
	redisFree(c);
}

static int setup_all(void **state)
{
	struct dbops_err err = { "" };

	if (!servers_given())
		return 0;
	pg = PQconnectdb("");
	if (PQstatus(pg) != CONNECTION_OK)
		return -1;
	sql("SET client_min_messages = warning");
	sql("SET TimeZone = 'UTC'");
	sql("DROP SCHEMA IF EXISTS " Q " CASCADE");
	sql("CREATE SCHEMA " Q);
	sql("CREATE TABLE " Q ".initial_events (uuid uuid PRIMARY KEY,"
	    " symbol text NOT NULL CHECK (symbol ~ '^[a-z]$'),"
	    " at timestamptz NOT NULL, vowel boolean NOT NULL)");
	sql("CREATE INDEX ON " Q ".initial_events (at)");
	sql("CREATE TABLE " Q ".followups (uuid uuid PRIMARY KEY"
	    " REFERENCES " Q ".initial_events, at timestamptz NOT NULL)");
	sql("CREATE TABLE " Q ".rollups (period text CHECK (period IN"
	    " ('minute','hour')), bucket timestamptz, symbol text,"
	    " events bigint, followups bigint, earliest timestamptz,"
	    " latest timestamptz, PRIMARY KEY (period, bucket, symbol))");
	sql("CREATE TABLE " Q ".writers (writer bigserial PRIMARY KEY,"
	    " host text, pid int, started timestamptz,"
	    " last_seq bigint NOT NULL DEFAULT 0)");
	sql("CREATE TABLE " Q ".batches (writer bigint, seq bigint,"
	    " committed timestamptz, deltas text NOT NULL,"
	    " PRIMARY KEY (writer, seq))");
	r = es_redis_new(getenv("REDIS_URL"), NULL, 2000, &err);
	return r ? 0 : -1;
}

static int teardown_all(void **state)
{
	if (pg != NULL) {
		sql("DROP SCHEMA IF EXISTS " Q " CASCADE");
		PQfinish(pg);
	}
	es_redis_free(r);
	return 0;
}

/* Each test: empty tables, an empty Redis. */
static void fresh(void)
{
	if (pg == NULL)
		skip();
	sql("TRUNCATE " Q ".followups, " Q ".initial_events, " Q ".rollups, " Q
	    ".writers, " Q ".batches");
	redis_raw("FLUSHALL");
}

static int64_t new_writer(void)
{
	return sql_int("INSERT INTO " Q ".writers (host, pid, started)"
		       " VALUES ('test', 1, now()) RETURNING writer");
}

/* One initial event of a random symbol; counted into D. */
static void add_initial(struct es_aggregate d[ES_SYMBOLS])
{
	char sym[2] = { (char)('a' + rand_r(&seed) % ES_SYMBOLS), '\0' };
	int64_t at =
		1498678454000000 + (int64_t)(rand_r(&seed) % 100000) * 30000013;
	char atbuf[24];
	const char *params[2] = { sym, atbuf };

	snprintf(atbuf, sizeof(atbuf), "%" PRId64, at);
	PQclear(sqlv("WITH i AS (INSERT INTO " Q ".initial_events"
		     " VALUES (gen_random_uuid(), $1, 'epoch'::timestamptz"
		     " + $2::bigint * interval '1 microsecond',"
		     " $1 IN ('a', 'e', 'i', 'o', 'u')) RETURNING symbol, at)"
		     " INSERT INTO " Q ".rollups SELECT 'hour',"
		     " date_trunc('hour', at), symbol, 1, 0, at, at FROM i"
		     " ON CONFLICT (period, bucket, symbol) DO UPDATE SET"
		     " events = rollups.events + 1,"
		     " earliest = least(rollups.earliest, excluded.earliest),"
		     " latest = greatest(rollups.latest, excluded.latest)",
		     2, params));
	es_aggregate_add_initial(d, sym[0] - 'a', at);
}

/* One follow-up of an initial event that has none, if any is left. */
static void add_followup(struct es_aggregate d[ES_SYMBOLS])
{
	PGresult *res = sqlv(
		"WITH c AS (SELECT uuid, symbol, at FROM " Q ".initial_events i"
		" WHERE NOT EXISTS (SELECT 1 FROM " Q ".followups f"
		" WHERE f.uuid = i.uuid) ORDER BY uuid LIMIT 1),"
		" f AS (INSERT INTO " Q ".followups SELECT uuid, now() FROM c)"
		" UPDATE " Q ".rollups r SET followups = r.followups + 1"
		" FROM c WHERE r.period = 'hour'"
		" AND r.bucket = date_trunc('hour', c.at)"
		" AND r.symbol = c.symbol RETURNING c.symbol",
		0, NULL);

	if (PQntuples(res) == 1)
		es_aggregate_add_followup(d, PQgetvalue(res, 0, 0)[0] - 'a');
	PQclear(res);
}

/*
 * Commit a batch of WRITER with INITIALS initial events and FOLLOWUPS
 * follow-ups, committed AGE_S seconds ago, as the batcher does; apply it
 * to Redis when APPLY (expecting OK). Returns its seq.
 */
static int64_t commit_batch(int64_t writer, int initials, int followups,
			    bool apply, int age_s)
{
	struct es_aggregate d[ES_SYMBOLS];
	char text[ES_DELTAS_MAX], w[24], age[24];
	const char *params[3] = { w, text, age };
	struct dbops_err err = { "" };
	PGresult *res;
	int64_t seq;

	es_aggregates_clear(d);
	sql("BEGIN");
	for (int i = 0; i < initials; i++)
		add_initial(d);
	for (int i = 0; i < followups; i++)
		add_followup(d);
	es_deltas_format(d, text, sizeof(text));
	snprintf(w, sizeof(w), "%" PRId64, writer);
	snprintf(age, sizeof(age), "%d", age_s);
	res = sqlv("WITH s AS (UPDATE " Q ".writers SET last_seq = last_seq + 1"
		   " WHERE writer = $1 RETURNING writer, last_seq)"
		   " INSERT INTO " Q ".batches SELECT writer, last_seq,"
		   " now() - $3::int * interval '1 second', $2 FROM s"
		   " RETURNING seq",
		   3, params);
	seq = atoll(PQgetvalue(res, 0, 0));
	PQclear(res);
	sql("COMMIT");
	if (apply && racing)
		es_redis_apply(r, writer, seq, d, &err);
	else if (apply)
		assert_int_equal(es_redis_apply(r, writer, seq, d, &err),
				 ES_APPLY_OK);
	return seq;
}

/* Redis's aggregates equal the recomputation from the raw events. */
static void assert_redis_equals_sql(void)
{
	struct es_aggregate want[ES_SYMBOLS], got[ES_SYMBOLS];
	struct dbops_err err = { "" };
	PGresult *res;

	es_aggregates_clear(want);
	res = sqlv(
		"SELECT i.symbol, count(*), count(f.uuid), " US("min(i.at)") ", " US(
			"max(i.at)") " FROM " Q ".initial_events i LEFT JOIN " Q
				     ".followups f"
				     " USING (uuid) GROUP BY i.symbol",
		0, NULL);
	for (int i = 0; i < PQntuples(res); i++) {
		struct es_aggregate *a = &want[PQgetvalue(res, i, 0)[0] - 'a'];

		a->events = atoll(PQgetvalue(res, i, 1));
		a->followups = atoll(PQgetvalue(res, i, 2));
		a->earliest_us = atoll(PQgetvalue(res, i, 3));
		a->latest_us = atoll(PQgetvalue(res, i, 4));
	}
	PQclear(res);
	assert_int_equal(es_redis_read_all(r, got, &err), 1);
	for (int i = 0; i < ES_SYMBOLS; i++) {
		if (!es_aggregate_equal(&want[i], &got[i]))
			fail_msg("symbol %c: redis %" PRId64 " %" PRId64
				 " %" PRId64 " %" PRId64 ", sql %" PRId64
				 " %" PRId64 " %" PRId64 " %" PRId64,
				 'a' + i, got[i].events, got[i].followups,
				 got[i].earliest_us, got[i].latest_us,
				 want[i].events, want[i].followups,
				 want[i].earliest_us, want[i].latest_us);
	}
}

static void reconcile(struct es_reconcile_stats *st)
{
	if (es_reconcile_once(pg, r, SCHEMA, st) != 0)
		fail_msg("es_reconcile_once: %s", st->err.msg);
	assert_int_equal(PQtransactionStatus(pg), PQTRANS_IDLE);
}

/* An empty database: the first step makes Redis ready. */
static void make_ready(void)
{
	struct es_reconcile_stats st;

	reconcile(&st);
	assert_true(st.ready_missing);
	assert_true(st.rebuilt);
}

static void test_reconcile_rebuilds_lost_redis(void **state)
{
	struct es_reconcile_stats st;
	struct dbops_err err = { "" };
	int64_t w1, w2;

	fresh();
	make_ready();
	w1 = new_writer();
	w2 = new_writer();
	for (int i = 0; i < 5; i++) {
		commit_batch(w1, 40, 10, true, 0);
		commit_batch(w2, 30, 15, true, 0);
	}
	assert_redis_equals_sql();
	redis_raw("FLUSHALL");
	reconcile(&st);
	assert_true(st.ready_missing);
	assert_true(st.rebuilt);
	assert_false(st.lock_busy);
	assert_int_equal(st.batches_applied, 0);
	assert_int_equal(st.writers_behind, 0);
	assert_int_equal(st.lag_batches, 0);
	assert_redis_equals_sql();
	/* last came back with it: the next batches apply in turn. */
	assert_int_equal(es_redis_apply_text(r, w1, 5, "a 1 0 1 1", &err),
			 ES_APPLY_DUPLICATE);
	commit_batch(w1, 5, 5, true, 0);
	assert_redis_equals_sql();
	reconcile(&st);
	assert_false(st.ready_missing);
	assert_false(st.rebuilt);
}

static void test_reconcile_batch_applied_twice_counts_once(void **state)
{
	struct es_reconcile_stats st;
	struct dbops_err err = { "" };
	PGresult *res;
	int64_t w, seq;
	const char *params[1];

	fresh();
	make_ready();
	w = new_writer();
	commit_batch(w, 20, 0, true, 0);
	seq = commit_batch(w, 20, 8, true, 0);
	res = sqlv("SELECT deltas FROM " Q ".batches ORDER BY seq DESC LIMIT 1",
		   0, NULL);
	params[0] = PQgetvalue(res, 0, 0);
	assert_int_equal(es_redis_apply_text(r, w, seq, params[0], &err),
			 ES_APPLY_DUPLICATE);
	assert_int_equal(es_redis_apply_text(r, w, seq - 1, params[0], &err),
			 ES_APPLY_DUPLICATE);
	PQclear(res);
	reconcile(&st);
	assert_int_equal(st.batches_applied, 0);
	assert_int_equal(st.writers_behind, 0);
	assert_redis_equals_sql();
}

static void test_reconcile_catches_up_writers(void **state)
{
	struct es_reconcile_stats st;
	int64_t w1, w2, w3;

	fresh();
	make_ready();
	w1 = new_writer();
	w2 = new_writer();
	w3 = new_writer();
	for (int i = 0; i < 3; i++)
		commit_batch(w1, 25, 5, true, 0);
	/* Committed, never applied: as after kill -9 of the service. */
	for (int i = 0; i < 4; i++)
		commit_batch(w1, 25, 5, false, 0);
	for (int i = 0; i < 2; i++)
		commit_batch(w2, 10, 3, false, 0);
	commit_batch(w3, 10, 3, true, 0);
	reconcile(&st);
	assert_false(st.ready_missing);
	assert_int_equal(st.writers_behind, 2);
	assert_int_equal(st.batches_applied, 6);
	assert_int_equal(st.lag_batches, 0);
	assert_false(st.ready_dropped);
	assert_redis_equals_sql();
	reconcile(&st);
	assert_int_equal(st.writers_behind, 0);
	assert_int_equal(st.batches_applied, 0);
}

static void test_reconcile_pruned_batch_forces_rebuild(void **state)
{
	struct es_reconcile_stats st;
	struct dbops_err err = { "" };
	int64_t w;

	fresh();
	make_ready();
	w = new_writer();
	for (int i = 0; i < 3; i++)
		commit_batch(w, 20, 4, true, 0);
	commit_batch(w, 20, 4, false, 0);
	commit_batch(w, 20, 4, false, 0);
	sql("DELETE FROM " Q ".batches WHERE seq = 4");
	reconcile(&st);
	assert_true(st.ready_dropped);
	assert_int_equal(st.writers_behind, 1);
	assert_int_equal(st.batches_applied, 0);
	assert_int_equal(st.lag_batches, 2);
	assert_int_equal(es_redis_ready(r, &err), 0);
	reconcile(&st);
	assert_true(st.ready_missing);
	assert_true(st.rebuilt);
	assert_int_equal(st.lag_batches, 0);
	assert_redis_equals_sql();
}

static void test_reconcile_prunes_applied_old_batches(void **state)
{
	struct es_reconcile_stats st;
	int64_t w1, w2;

	fresh();
	make_ready();
	w1 = new_writer();
	w2 = new_writer();
	for (int i = 0; i < 4; i++)
		commit_batch(w1, 5, 1, true, 7200);
	commit_batch(w1, 5, 1, true, 0);     /* recent: kept */
	commit_batch(w1, 5, 1, false, 7200); /* old, applied by the step */
	commit_batch(w2, 5, 1, false, 7200);
	commit_batch(w2, 5, 1, false, 7200);
	reconcile(&st);
	assert_int_equal(st.writers_behind, 2);
	assert_int_equal(st.batches_applied, 3);
	assert_int_equal(st.batches_pruned, 7);
	assert_int_equal(sql_int("SELECT count(*) FROM " Q ".batches"), 1);
	assert_int_equal(sql_int("SELECT seq FROM " Q ".batches"), 5);
	assert_redis_equals_sql();
}

static void test_reconcile_old_unapplied_batches_stay(void **state)
{
	struct es_reconcile_stats st;
	int64_t w;

	fresh();
	make_ready();
	w = new_writer();
	commit_batch(w, 5, 1, true, 7200);
	/* Redis lost the apply of seq 2 and is not ready: nothing pruned. */
	commit_batch(w, 5, 1, false, 7200);
	redis_raw("FLUSHALL");
	redis_raw("SET {event-store}:rebuild someone-else EX 30");
	reconcile(&st);
	assert_true(st.ready_missing);
	assert_true(st.lock_busy);
	assert_false(st.rebuilt);
	assert_int_equal(st.batches_pruned, 0);
	assert_int_equal(sql_int("SELECT count(*) FROM " Q ".batches"), 2);
	redis_raw("DEL {event-store}:rebuild");
	reconcile(&st);
	assert_true(st.rebuilt);
	assert_int_equal(st.batches_applied, 0);
	assert_int_equal(st.batches_pruned, 2);
	assert_redis_equals_sql();
}

/* A reconciler of another instance: steps until told to stop. */
struct instance {
	pthread_t thread;
	atomic_bool *stop;
	int steps, failures, rebuilds;
	char error[DBOPS_ERR_MAX];
};

static void *instance_run(void *arg)
{
	struct instance *in = arg;
	struct dbops_err err = { "" };
	PGconn *conn = PQconnectdb("");
	struct es_redis *own =
		es_redis_new(getenv("REDIS_URL"), NULL, 2000, &err);

	while (!atomic_load(in->stop)) {
		struct es_reconcile_stats st;

		if (es_reconcile_once(conn, own, SCHEMA, &st) != 0) {
			in->failures++;
			snprintf(in->error, sizeof(in->error), "%s",
				 st.err.msg);
		}
		in->rebuilds += st.rebuilt;
		in->steps++;
		usleep(2000);
	}
	es_redis_free(own);
	PQfinish(conn);
	return NULL;
}

static void test_reconcile_instances_race(void **state)
{
	struct es_reconcile_stats st;
	struct instance in[2];
	atomic_bool stop = false;
	int64_t w1, w2;

	fresh();
	make_ready();
	w1 = new_writer();
	w2 = new_writer();
	racing = true;
	for (int i = 0; i < 2; i++) {
		memset(&in[i], 0, sizeof(in[i]));
		in[i].stop = &stop;
		assert_int_equal(pthread_create(&in[i].thread, NULL,
						instance_run, &in[i]),
				 0);
	}
	for (int i = 0; i < 60; i++) {
		commit_batch(i % 3 ? w1 : w2, 8, 3, i % 4 != 0, 0);
		if (i == 20 || i == 45)
			redis_raw("FLUSHALL");
		usleep(3000);
	}
	atomic_store(&stop, true);
	for (int i = 0; i < 2; i++)
		pthread_join(in[i].thread, NULL);
	racing = false;
	for (int i = 0; i < 2; i++) {
		if (in[i].failures > 0)
			fail_msg("instance %d: %s", i, in[i].error);
		assert_true(in[i].steps > 10);
	}
	/* FLUSHALL twice: each loss rebuilt once, by one of them. */
	assert_true(in[0].rebuilds + in[1].rebuilds >= 2);
	reconcile(&st);
	reconcile(&st);
	assert_int_equal(st.lag_batches, 0);
	assert_redis_equals_sql();
}

static void test_reconcile_redis_down_fails(void **state)
{
	struct es_reconcile_stats st;
	struct dbops_err err = { "" };
	struct es_redis *down;

	fresh();
	down = es_redis_new("redis://127.0.0.1:1/0", NULL, 500, &err);
	assert_int_equal(es_reconcile_once(pg, down, SCHEMA, &st), -1);
	assert_non_null(strstr(st.err.msg, "could not connect to redis "
					   "redis://127.0.0.1:1/0"));
	es_redis_free(down);
	assert_int_equal(es_reconcile_once(pg, r, "no such schema", &st), -1);
	assert_non_null(strstr(st.err.msg, "PostgreSQL: sums of the hour "
					   "rollups: ERROR:  relation \"no "
					   "such schema.rollups\" does not "
					   "exist"));
	assert_int_equal(PQtransactionStatus(pg), PQTRANS_IDLE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reconcile_redis_down_fails),
		cmocka_unit_test(test_reconcile_rebuilds_lost_redis),
		cmocka_unit_test(
			test_reconcile_batch_applied_twice_counts_once),
		cmocka_unit_test(test_reconcile_catches_up_writers),
		cmocka_unit_test(test_reconcile_pruned_batch_forces_rebuild),
		cmocka_unit_test(test_reconcile_prunes_applied_old_batches),
		cmocka_unit_test(test_reconcile_old_unapplied_batches_stay),
		cmocka_unit_test(test_reconcile_instances_race),
	};

	/* One test by name, for the bats file: ES_TEST=test_reconcile_... */
	if (getenv("ES_TEST") != NULL)
		cmocka_set_test_filter(getenv("ES_TEST"));
	if (!servers_given())
		fprintf(stderr, "# test_event_store_reconcile: skipped: no "
				"scratch servers (PGHOST, REDIS_URL and "
				"ES_TEST_SERVERS=1, as "
				"tests/event-store-redis.bats runs it)\n");
	return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
