/*
 * reconcile.h - one step of the reconciler: keep Redis's aggregates in
 * step with PostgreSQL.
 *
 * The batcher of each instance commits a batch (raw events, rollups, the
 * batches row with its deltas, writers.last_seq) and then applies its
 * deltas to Redis; that apply can fail or never happen (Redis down, kill -9
 * between the two). A reconciler thread in every instance calls
 * es_reconcile_once() at start and each second, with its own PGconn and
 * struct es_redis. One step:
 *
 *  1. If "ready" is missing: take the rebuild lock (SET NX EX 30); if
 *     taken, read in one REPEATABLE READ transaction the per-symbol sums
 *     of the hour rollups and every writer's last_seq, and rebuild Redis
 *     from them (refused if "ready" appeared meanwhile); release the lock.
 *     Lock held elsewhere: nothing more this step.
 *  2. Catch-up: for every writer whose last_seq is ahead of Redis's last,
 *     apply its batches in seq order from the batches table. If a batch
 *     that is needed is gone (pruned), or Redis answers GAP: DEL ready, so
 *     that the next step rebuilds.
 *  3. Prune: delete batches rows committed more than an hour ago whose
 *     seq Redis has applied (bounded work per writer and step).
 *
 * Steps of several instances may run at once: every change to Redis is
 * one of redisagg.h's atomic scripts, so they cannot count a batch twice.
 *
 * The tables are those of the schema SCHEMA (quoted by libpq), as the
 * service creates them:
 *	rollups (period, bucket, symbol, events, followups, earliest, latest)
 *	writers (writer, host, pid, started, last_seq)
 *	batches (writer, seq, committed, deltas)
 */
#ifndef ES_RECONCILE_H
#define ES_RECONCILE_H

#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "errbuf.h"
#include "redisagg.h"

/* What one step did (all zero / false when it did nothing). */
struct es_reconcile_stats {
	bool ready_missing;	 /* "ready" was missing at the start */
	bool lock_busy;		 /* ...and another instance held the lock */
	bool rebuilt;		 /* this step rebuilt the aggregates */
	bool ready_dropped;	 /* a needed batch was gone: "ready" deleted */
	int64_t writers_behind;	 /* writers whose last_seq was ahead */
	int64_t batches_applied; /* applied by this step (OK answers) */
	int64_t batches_pruned;	 /* batches rows deleted */
	int64_t lag_batches;	 /* sum of (last_seq - Redis last) after it */
	struct dbops_err err;	 /* why it failed, when it returns -1 */
};

/*
 * Run one step (above) with PG (an open connection, in no transaction,
 * left in none) and R (this thread's), over the tables of SCHEMA. Fills
 * *OUT. Returns 0, or -1 when PostgreSQL or Redis failed, with the reason
 * in OUT->err (what was done before the failure stays done and counted).
 */
int es_reconcile_once(PGconn *pg, struct es_redis *r, const char *schema,
		      struct es_reconcile_stats *out);

#endif
