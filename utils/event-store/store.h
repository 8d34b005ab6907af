/*
 * store.h - event-store's PostgreSQL side: the schema, the queue of
 * events waiting for a commit, the batcher thread that commits them in
 * groups (raw events, rollups, the batch's deltas), and the dashboard
 * reads, each handler thread with its own connection.
 */
#ifndef ES_STORE_H
#define ES_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "deltas.h"
#include "errbuf.h"
#include "request.h"

struct es_store;

enum es_kind { ES_INITIAL, ES_FOLLOWUP };

/*
 * One event on its way to a commit. The HTTP layer fills kind, uuid,
 * symbol (initial events) and at, submits it, and gets it back through
 * the store's done() callback with status and body set: the answer, owned
 * by the event from then on (free(body)).
 */
struct es_event {
	enum es_kind kind;
	char uuid[ES_UUID_LEN + 1];
	char symbol; /* initial: given; follow-up: its initial's, once found */
	int64_t at;  /* microseconds since the epoch, UTC */
	int status;  /* the answer: 200, 404, 409, 503 */
	char *body;
	void *ctx; /* the caller's (the suspended connection) */
	struct es_event *next;
};

struct es_store_config {
	const char *conninfo; /* "" or NULL: libpq's environment */
	const char *schema;
	int batchers;	   /* batches committed at once, each by its own
			      thread, connection and writer (default 1) */
	int batch_events;  /* at most this many events per commit */
	int batch_wait_ms; /* collecting after the first queued event */
	/* Called by the batcher for each event once answered. */
	void (*done)(struct es_event *ev, void *arg);
	void *done_arg;
	/* Called by the batcher after each commit that changed something,
	   before done(): WRITER, SEQ and the batch's deltas text. */
	void (*committed)(int64_t writer, int64_t seq, const char *deltas,
			  void *arg);
	void *committed_arg;
	/* Called from the batcher's loop at least every HEARTBEAT_MS. */
	void (*heartbeat)(void *arg);
	void *heartbeat_arg;
	int heartbeat_ms;
};

/*
 * Connect, create the schema if missing (under an advisory lock, so that
 * instances starting together do not collide), register each batcher in
 * the writers table and start them. NULL with ERR set on failure.
 */
struct es_store *es_store_open(const struct es_store_config *cfg,
			       struct dbops_err *err);

/*
 * Queue EV for the next batch. Returns 0, or -1 when the store is closed
 * (stopping): then EV was not taken and the caller answers it.
 */
int es_store_submit(struct es_store *st, struct es_event *ev);

/* Events queued or in the batch being committed. */
int es_store_pending(struct es_store *st);

/*
 * Stop taking events (es_store_submit() fails from now on), commit and
 * answer every event queued, and stop the batcher. Reads still work.
 */
void es_store_drain(struct es_store *st);

/*
 * Drain ST, close its connections (the calling thread's for reads; the
 * other threads' close as they exit) and free it. NULL is accepted.
 */
void es_store_close(struct es_store *st);

/*
 * A new connection to CONNINFO ("" or NULL: libpq's environment) with the
 * session settings of every connection of event-store: TimeZone UTC,
 * synchronous_commit on, notices off. NULL with ERR set on failure.
 */
PGconn *es_store_connect(const char *conninfo, struct dbops_err *err);

/* The batchers, and batcher I's row in the writers table. */
int es_store_batchers(const struct es_store *st);
int64_t es_store_writer(const struct es_store *st, int i);

/* The schema as a quoted identifier, and the connection string. */
const char *es_store_schema_ident(const struct es_store *st);
const char *es_store_conninfo(const struct es_store *st);

/*
 * Dashboard reads, on the calling thread's own connection (made at its
 * first read, made again after a failure). Each returns 0, or -1 when
 * PostgreSQL does not answer.
 */

/* The aggregate of SYMBOL: the sums of its hour rollups. */
int es_store_symbol(struct es_store *st, char symbol, struct es_aggregate *agg);

/* The JSON array of /dashboard/range for [LOWER, UPPER), malloc'd. */
int es_store_range(struct es_store *st, int64_t lower, int64_t upper,
		   char **json);

/* Whether PostgreSQL answers a query now. */
bool es_store_ping(struct es_store *st);

/*
 * The answer object of a symbol's aggregate:
 * {"count":N,"symbol":"e","earliest":"...","latest":"...","followups":F},
 * earliest and latest null when there are no events. Malloc'd.
 */
char *es_aggregate_json(char symbol, const struct es_aggregate *agg);

#endif
