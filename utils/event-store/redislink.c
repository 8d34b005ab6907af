/*
 * redislink.c - the service's use of Redis (see redislink.h).
 *
 * Design notes:
 * 1. The batcher applies each batch right after its COMMIT and before
 *    answering, so that a client that reads /dashboard/symbol after its
 *    200 sees its event. An apply that fails (Redis down, GAP, NOTREADY)
 *    is not retried there: the reconciler catches up from the batches
 *    table. After an error the batcher leaves Redis alone for a second,
 *    so that a Redis that does not answer does not slow every commit;
 *    likewise the dashboard threads after a failed read.
 * 2. redis_up says whether the aggregates can be served from Redis now:
 *    the last command answered and "ready" was there. redis_lag_batches
 *    counts this instance's batches committed and not yet applied, over
 *    its batchers (a writer each). The batchers share one Redis handle,
 *    one apply at a time.
 * 3. The reconciler has its own PostgreSQL connection and Redis handle;
 *    a step at start and each second (es_reconcile_once()).
 */
#include "redislink.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "reconcile.h"
#include "redisagg.h"
#include "telemetry.h"
#include "xalloc.h"

/* Timeouts of a Redis command: on the request path, and the reconciler's. */
#define FAST_TIMEOUT_MS	     500
#define RECONCILE_TIMEOUT_MS 2000
/* How long the batcher (the readers) leave Redis alone after a failed
   apply (read). */
#define APPLY_BACKOFF_MS 1000

/* A batcher's writer, its last seq committed and the last in Redis. */
struct writer_seqs {
	int64_t writer;
	atomic_llong committed, applied;
};

struct es_redislink {
	char *url, *prefix, *conninfo, *schema;
	struct es_redis *batcher; /* the batchers' handle, under apply_lock */
	pthread_mutex_t apply_lock;
	int64_t skip_until_ms;	    /* batchers: no apply before */
	atomic_llong read_after_ms; /* readers: no read before */
	pthread_key_t reader;	    /* each dashboard thread's handle */
	atomic_bool up;
	struct writer_seqs *writers; /* this instance's */
	int nwriters;
	pthread_t thread;
	bool running;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
};

static void set_up(struct es_redislink *l, bool up)
{
	atomic_store(&l->up, up);
	es_tm_redis_up(up);
}

static void update_lag(struct es_redislink *l)
{
	long long lag = 0;

	for (int i = 0; i < l->nwriters; i++) {
		long long c = atomic_load(&l->writers[i].committed);
		long long a = atomic_load(&l->writers[i].applied);

		lag += c > a ? c - a : 0;
	}
	es_tm_redis_lag((double)lag);
}

/* This instance's seqs of WRITER, or NULL. */
static struct writer_seqs *seqs_of(struct es_redislink *l, int64_t writer)
{
	for (int i = 0; i < l->nwriters; i++)
		if (l->writers[i].writer == writer)
			return &l->writers[i];
	return NULL;
}

static void reader_free(void *r)
{
	es_redis_free(r);
}

struct es_redislink *es_redislink_new(const char *url, const char *prefix,
				      const char *conninfo, const char *schema,
				      struct dbops_err *err)
{
	struct es_redislink *l = dbops_xcalloc(1, sizeof(*l));
	pthread_condattr_t ca;

	l->batcher = es_redis_new(url, prefix, FAST_TIMEOUT_MS, err);
	if (l->batcher == NULL) {
		dbops_err_prefix(err, "invalid --redis URL: ");
		free(l);
		return NULL;
	}
	l->url = dbops_xstrdup(url);
	l->prefix = dbops_xstrdup(prefix);
	l->conninfo = dbops_xstrdup(conninfo ? conninfo : "");
	l->schema = dbops_xstrdup(schema);
	pthread_key_create(&l->reader, reader_free);
	pthread_mutex_init(&l->lock, NULL);
	pthread_mutex_init(&l->apply_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->cond, &ca);
	pthread_condattr_destroy(&ca);
	atomic_init(&l->up, false);
	atomic_init(&l->read_after_ms, 0);
	return l;
}

void es_redislink_committed(int64_t writer, int64_t seq, const char *deltas,
			    void *link)
{
	struct es_redislink *l = link;
	struct writer_seqs *w = seqs_of(l, writer);
	struct dbops_err err = { "" };
	enum es_apply_result res;

	if (w != NULL)
		atomic_store(&w->committed, seq);
	pthread_mutex_lock(&l->apply_lock);
	if (dbops_clock_ms() < l->skip_until_ms) {
		pthread_mutex_unlock(&l->apply_lock);
		update_lag(l);
		return;
	}
	res = es_redis_apply_text(l->batcher, writer, seq, deltas, &err);
	switch (res) {
	case ES_APPLY_OK:
	case ES_APPLY_DUPLICATE:
		if (w != NULL)
			atomic_store(&w->applied, seq);
		set_up(l, true);
		break;
	case ES_APPLY_GAP:
		/* An earlier batch is missing: the reconciler applies it. */
		break;
	case ES_APPLY_NOTREADY:
		set_up(l, false);
		break;
	case ES_APPLY_ERROR:
		if (atomic_load(&l->up))
			dbops_log_warning(
				"could not apply batch %lld to Redis %s: %s",
				(long long)seq, es_redis_name(l->batcher),
				err.msg);
		set_up(l, false);
		l->skip_until_ms = dbops_clock_ms() + APPLY_BACKOFF_MS;
		break;
	}
	pthread_mutex_unlock(&l->apply_lock);
	update_lag(l);
}

int es_redislink_symbol(void *link, char symbol, struct es_aggregate *agg)
{
	struct es_redislink *l = link;
	struct es_redis *r = pthread_getspecific(l->reader);
	struct dbops_err err = { "" };
	int rc;

	if (dbops_clock_ms() < atomic_load(&l->read_after_ms))
		return -1;
	if (r == NULL) {
		r = es_redis_new(l->url, l->prefix, FAST_TIMEOUT_MS, &err);
		if (r == NULL)
			return -1;
		pthread_setspecific(l->reader, r);
	}
	rc = es_redis_read(r, es_symbol_index(symbol), agg, &err);
	if (rc != 1)
		set_up(l, false);
	if (rc < 0) /* the other threads go to PostgreSQL for a while */
		atomic_store(&l->read_after_ms,
			     dbops_clock_ms() + APPLY_BACKOFF_MS);
	return rc == 1 ? 0 : -1;
}

bool es_redislink_up(void *link)
{
	return atomic_load(&((struct es_redislink *)link)->up);
}

/* This instance's writers' seqs in Redis's "last" into their applied. */
static void read_applied(struct es_redislink *l, struct es_redis *r)
{
	struct es_writer_seq *last = NULL;
	struct dbops_err err = { "" };
	size_t n = 0;

	if (es_redis_last_all(r, &last, &n, &err) != 0)
		return;
	for (size_t i = 0; i < n; i++) {
		struct writer_seqs *w = seqs_of(l, last[i].writer);

		if (w != NULL && last[i].seq > atomic_load(&w->applied))
			atomic_store(&w->applied, last[i].seq);
	}
	free(last);
}

/* One reconciler step; logs what changed since the last one. */
static void step(struct es_redislink *l, PGconn **pg, struct es_redis *r,
		 bool *failing)
{
	struct es_reconcile_stats st;
	struct dbops_err err = { "" };
	int rc;

	if (*pg == NULL || PQstatus(*pg) != CONNECTION_OK) {
		PQfinish(*pg);
		*pg = es_store_connect(l->conninfo, &err);
		if (*pg == NULL)
			return; /* the batcher reports PostgreSQL */
	}
	memset(&st, 0, sizeof(st));
	rc = es_reconcile_once(*pg, r, l->schema, &st);
	if (rc != 0 && !*failing)
		dbops_log_warning("could not reconcile Redis %s: %s",
				  es_redis_name(r), st.err.msg);
	if (rc == 0 && *failing)
		dbops_log_info("Redis %s reconciled", es_redis_name(r));
	if (st.rebuilt)
		dbops_log_info("rebuilt the aggregates in Redis %s",
			       es_redis_name(r));
	if (st.ready_dropped)
		dbops_log_warning(
			"Redis %s missed batches no longer kept: rebuilding",
			es_redis_name(r));
	*failing = rc != 0;
	if (rc == 0)
		read_applied(l, r);
	set_up(l, rc == 0 && (!st.ready_missing || st.rebuilt) &&
			  !st.ready_dropped);
	update_lag(l);
}

static void *reconciler(void *arg)
{
	struct es_redislink *l = arg;
	struct dbops_err err = { "" };
	struct es_redis *r =
		es_redis_new(l->url, l->prefix, RECONCILE_TIMEOUT_MS, &err);
	PGconn *pg = NULL;
	bool failing = false;
	struct timespec ts;

	pthread_mutex_lock(&l->lock);
	while (!l->stop && r != NULL) {
		pthread_mutex_unlock(&l->lock);
		step(l, &pg, r, &failing);
		pthread_mutex_lock(&l->lock);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += 1;
		while (!l->stop && pthread_cond_timedwait(&l->cond, &l->lock,
							  &ts) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&l->lock);
	PQfinish(pg);
	es_redis_free(r);
	return NULL;
}

int es_redislink_start(struct es_redislink *l, const int64_t *writers, int n,
		       struct dbops_err *err)
{
	l->writers = dbops_xcalloc((size_t)n, sizeof(*l->writers));
	l->nwriters = n;
	for (int i = 0; i < n; i++) {
		l->writers[i].writer = writers[i];
		atomic_init(&l->writers[i].committed, 0);
		atomic_init(&l->writers[i].applied, 0);
	}
	errno = pthread_create(&l->thread, NULL, reconciler, l);
	if (errno != 0)
		return dbops_err_set(err, "could not start the reconciler: %s",
				     strerror(errno));
	l->running = true;
	return 0;
}

void es_redislink_free(struct es_redislink *l)
{
	struct es_redis *r;

	if (l == NULL)
		return;
	pthread_mutex_lock(&l->lock);
	l->stop = true;
	pthread_cond_broadcast(&l->cond);
	pthread_mutex_unlock(&l->lock);
	if (l->running)
		pthread_join(l->thread, NULL);
	r = pthread_getspecific(l->reader);
	pthread_setspecific(l->reader, NULL);
	es_redis_free(r);
	pthread_key_delete(l->reader);
	es_redis_free(l->batcher);
	free(l->writers);
	pthread_cond_destroy(&l->cond);
	pthread_mutex_destroy(&l->lock);
	pthread_mutex_destroy(&l->apply_lock);
	free(l->url);
	free(l->prefix);
	free(l->conninfo);
	free(l->schema);
	free(l);
}
