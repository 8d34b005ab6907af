/*
 * redislink.h - how the service uses Redis (redisagg.h, reconcile.h): the
 * batcher applies each committed batch's deltas before answering its
 * events, the dashboard threads read a symbol's aggregate, and a
 * reconciler thread keeps Redis in step with PostgreSQL each second. Each
 * thread has its own Redis handle (hiredis is not thread-safe).
 */
#ifndef ES_REDISLINK_H
#define ES_REDISLINK_H

#include <stdbool.h>
#include <stdint.h>

#include "deltas.h"
#include "errbuf.h"
#include "store.h"

struct es_redislink;

/*
 * A link to the Redis of URL with keys under PREFIX, for the tables of
 * SCHEMA (unquoted) on CONNINFO. Checks the URL; connects lazily. NULL
 * with ERR set when the URL does not parse.
 */
struct es_redislink *es_redislink_new(const char *url, const char *prefix,
				      const char *conninfo, const char *schema,
				      struct dbops_err *err);

/*
 * The store's committed() callback, on the batcher's thread: apply batch
 * SEQ of WRITER with its DELTAS. A failure is left to the reconciler.
 */
void es_redislink_committed(int64_t writer, int64_t seq, const char *deltas,
			    void *link);

/*
 * The HTTP layer's symbol() callback, on any thread (its own handle):
 * 0 with *AGG from Redis when its aggregates are complete, -1 otherwise
 * (answer from PostgreSQL).
 */
int es_redislink_symbol(void *link, char symbol, struct es_aggregate *agg);

/* Whether Redis answered last and its aggregates are complete. */
bool es_redislink_up(void *link);

/*
 * Start the reconciler thread for this instance, whose batchers are the
 * N writers WRITERS: a step at once, then each second. 0, or -1 with ERR
 * set.
 */
int es_redislink_start(struct es_redislink *l, const int64_t *writers, int n,
		       struct dbops_err *err);

/*
 * Stop the reconciler and free L (the dashboard threads' handles go as
 * their threads exit). NULL is accepted.
 */
void es_redislink_free(struct es_redislink *l);

#endif
