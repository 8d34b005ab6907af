/*
 * redisagg.h - the per-symbol aggregates in Redis.
 *
 * Keys, all under a prefix P (default "{event-store}:", whose braces are a
 * Redis Cluster hash tag putting every key on one shard):
 *
 *	P sym:<s>   hash: events, followups, earliest, latest (decimal
 *	            integers; times in microseconds since the epoch; earliest
 *	            and latest absent while events is 0)
 *	P last      hash: writer id -> seq of its last batch applied
 *	P ready     present when the aggregates are complete
 *	P rebuild   the rebuild lock (SET NX EX), holding its owner's token
 *
 * Invariants (each step is one Lua script, so atomic):
 *  1. Without "ready" nothing is applied and nothing should be read: the
 *     aggregates may be partial (a flushed or new Redis).
 *  2. With "ready", sym:* are the sum of the hour rollups as of the
 *     batches named by "last": for every writer w, exactly the batches
 *     1..last[w] of w are counted, each once.
 *  3. apply(w, seq) counts batch seq of w only if seq == last[w] + 1, so a
 *     batch applied twice counts once and none is skipped.
 *  4. rebuild sets sym:*, last and ready together, and only while ready is
 *     absent (two rebuilding instances cannot undo each other's applies).
 *
 * The server must keep every key: a key evicted under maxmemory (any
 * maxmemory-policy but noeviction) would leave wrong aggregates marked
 * ready. A Redis that loses everything (restart without persistence,
 * FLUSHALL) is fine: "ready" goes with the rest and the reconciler
 * rebuilds.
 *
 * Only commands of Redis 6.0 are used, and only hiredis calls that both
 * 0.14 (bullseye, bookworm) and 1.x (trixie) have.
 *
 * Threads: hiredis is NOT thread-safe, and neither is a struct es_redis:
 * each thread makes its own with es_redis_new() and uses it alone. The
 * parser of URLs is pure and safe anywhere.
 *
 * Connection: lazy. Each call connects first if there is no connection
 * (connect timeout, then AUTH and SELECT as the URL says); a call that
 * fails on the connection (refused, reset, timed out) drops it, and the
 * next call connects again. An error reply of the server keeps it.
 */
#ifndef ES_REDISAGG_H
#define ES_REDISAGG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "deltas.h"
#include "errbuf.h"

/* Where a Redis server is, as es_redis_url_parse() reads it. */
struct es_redis_url {
	bool unix_socket;   /* true: path; false: host and port */
	char host[256];	    /* without the brackets of an IPv6 address */
	int port;	    /* 6379 unless given */
	char path[108];	    /* the socket's path (sun_path's size) */
	int db;		    /* SELECT db after connecting when not 0 */
	char user[128];	    /* "" for none: AUTH password alone */
	char password[256]; /* "" for none: no AUTH */
};

/*
 * Parse URL, one of
 *	redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]
 *	unix:/path/to/socket[?db=N]
 * into OUT. HOST may be an IPv6 address in brackets; PASSWORD and USER may
 * hold %XX escapes; PORT 1-65535 (default 6379), DB 0-65535 (default 0).
 * Returns 0, or -1 with the reason in ERR (the URL itself is not quoted:
 * it may hold a password).
 */
int es_redis_url_parse(const char *url, struct es_redis_url *out,
		       struct dbops_err *err);

/*
 * Write the URL of U without its password ("redis://h:6379/0",
 * "unix:/run/redis.sock?db=1") into BUF of SIZE bytes, for messages.
 */
void es_redis_url_describe(const struct es_redis_url *u, char *buf,
			   size_t size);

struct es_redis;

/*
 * A handle on the Redis of URL with keys under PREFIX (NULL: the default
 * "{event-store}:"), connect and command timeouts TIMEOUT_MS each. Does not
 * connect. Returns NULL with the reason in ERR when URL does not parse.
 * SIGPIPE is set to be ignored if it was not handled (hiredis writes to
 * its socket with write(), and a closed connection must fail the call,
 * not kill the process).
 * One thread only (see above); free with es_redis_free().
 */
struct es_redis *es_redis_new(const char *url, const char *prefix,
			      int timeout_ms, struct dbops_err *err);

/* Close the connection and free R (NULL is fine). */
void es_redis_free(struct es_redis *r);

/*
 * Whether the last call reached Redis and had its answer (false before the
 * first call): the dbops_eventstore_redis_up gauge.
 */
bool es_redis_up(const struct es_redis *r);

/* The description of R's URL (no password), for messages. */
const char *es_redis_name(const struct es_redis *r);

enum es_apply_result {
	ES_APPLY_OK,	    /* counted; last[writer] = seq */
	ES_APPLY_DUPLICATE, /* seq <= last[writer]: already counted, no change */
	ES_APPLY_GAP, /* seq > last[writer] + 1: an earlier one is missing */
	ES_APPLY_NOTREADY, /* no "ready": the reconciler will rebuild */
	ES_APPLY_ERROR,	   /* Redis unreachable or failing; reason in err */
};

/* "ok", "duplicate", "gap", "notready", "error": for logs and labels. */
const char *es_apply_result_name(enum es_apply_result result);

/*
 * Apply the deltas of batch SEQ (>= 1) of WRITER, atomically, as
 * invariant 3 says. Safe to repeat after an error: a batch whose apply
 * did reach Redis answers DUPLICATE the second time.
 */
enum es_apply_result
es_redis_apply(struct es_redis *r, int64_t writer, int64_t seq,
	       const struct es_aggregate deltas[ES_SYMBOLS],
	       struct dbops_err *err);

/*
 * As es_redis_apply() with the deltas text of the batch (deltas.h); a text
 * that does not parse is ES_APPLY_ERROR, nothing sent.
 */
enum es_apply_result es_redis_apply_text(struct es_redis *r, int64_t writer,
					 int64_t seq, const char *deltas,
					 struct dbops_err *err);

/*
 * Read the aggregate of symbol index SYM (0-25) into OUT, together with
 * the presence of "ready" (one script, so both of one moment). Returns 1
 * when ready (OUT set), 0 when not ready (OUT untouched: answer from
 * PostgreSQL), -1 on error (ERR).
 */
int es_redis_read(struct es_redis *r, int sym, struct es_aggregate *out,
		  struct dbops_err *err);

/* As es_redis_read() for all 26 symbols at once. */
int es_redis_read_all(struct es_redis *r, struct es_aggregate out[ES_SYMBOLS],
		      struct dbops_err *err);

/* A writer and a seq of its batches. */
struct es_writer_seq {
	int64_t writer;
	int64_t seq;
};

/*
 * Read the whole "last" hash into *OUT (malloc'd, caller frees; NULL when
 * empty), its length in *N. Returns 0, or -1 on error (ERR).
 */
int es_redis_last_all(struct es_redis *r, struct es_writer_seq **out, size_t *n,
		      struct dbops_err *err);

/* 1 when "ready" exists, 0 when not, -1 on error (ERR). */
int es_redis_ready(struct es_redis *r, struct dbops_err *err);

/*
 * Delete "ready": the aggregates are no longer trusted and the next
 * reconciler step rebuilds them. Returns 0, -1 on error (ERR).
 */
int es_redis_drop_ready(struct es_redis *r, struct dbops_err *err);

/*
 * Take the rebuild lock: SET P rebuild <token> NX EX TTL_S, the token
 * unique to R. Returns 1 when taken, 0 when another holds it, -1 on error.
 */
int es_redis_lock(struct es_redis *r, int ttl_s, struct dbops_err *err);

/*
 * Release the lock if R still holds it (its token; a lock that expired and
 * was taken by another is left alone). Returns 0, -1 on error.
 */
int es_redis_unlock(struct es_redis *r, struct dbops_err *err);

enum es_rebuild_result {
	ES_REBUILD_OK,	    /* aggregates, last and ready set */
	ES_REBUILD_REFUSED, /* "ready" exists: nothing changed */
	ES_REBUILD_ERROR,   /* reason in err */
};

/*
 * Replace the aggregates by AGGS and "last" by the N pairs of LAST (each
 * writer's last_seq of the same PostgreSQL snapshot as AGGS), then set
 * "ready": one script, refused while "ready" exists (invariant 4). The
 * caller should hold the lock; the script does not check it.
 */
enum es_rebuild_result
es_redis_rebuild(struct es_redis *r, const struct es_aggregate aggs[ES_SYMBOLS],
		 const struct es_writer_seq *last, size_t n,
		 struct dbops_err *err);

#endif
