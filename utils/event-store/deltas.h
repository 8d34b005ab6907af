/*
 * deltas.h - per-symbol aggregates and the deltas text of a batch.
 *
 * event-store keeps, for each of the 26 symbols a-z, the aggregate behind
 * GET /dashboard/symbol: how many initial events, how many of them were
 * followed up, and the times of the first and last. A batch of events
 * changes some of them; that change (the batch's "deltas") is kept with the
 * batch in PostgreSQL (batches.deltas) as text and added to Redis by
 * redisagg.c, so that a lost or late Redis can be caught up from SQL.
 *
 * The deltas text, one line per symbol the batch touched, in symbol order,
 * lines separated by "\n" (no newline after the last one; a batch that
 * touched nothing is the empty text):
 *
 *	<symbol> <events> <followups> <earliest_us> <latest_us>
 *
 * symbol one letter a-z; events and followups decimal integers >= 0, not
 * both 0; earliest_us and latest_us decimal microseconds since the epoch
 * (UTC), or "-" when the batch has no initial event of that symbol (exactly
 * when events is 0); earliest_us <= latest_us. Fields are separated by one
 * space; no sign on a count, a "-" sign allowed on a time; no leading zeros
 * ("0" itself excepted). Example: "a 3 1 1498678454486693 1498678454499012\n
 * e 0 2 - -" (a follow-up counts for the symbol of its initial event,
 * whenever that initial event came).
 *
 * Everything here is pure: no I/O, no allocation, safe from any thread.
 */
#ifndef ES_DELTAS_H
#define ES_DELTAS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errbuf.h"

/* The symbols a-z, as indexes 0-25 of an array of aggregates. */
#define ES_SYMBOLS 26

/*
 * The value of earliest_us and latest_us while events is 0: they are then
 * meaningless, and every function here keeps them at ES_TIME_NONE (and
 * ignores what they hold). Printed as "-" in the deltas text; in Redis the
 * hash simply has no "earliest" / "latest" field.
 */
#define ES_TIME_NONE INT64_MIN

/* Enough for the deltas text of any 26 aggregates, with its NUL. */
#define ES_DELTAS_MAX (ES_SYMBOLS * 88 + 1)

struct es_aggregate {
	int64_t events;	     /* initial events */
	int64_t followups;   /* of those initial events, the followed-up */
	int64_t earliest_us; /* time of the first, ES_TIME_NONE if none */
	int64_t latest_us;   /* time of the last, ES_TIME_NONE if none */
};

/* Index 0-25 of symbol C ('a'-'z'), or -1 for any other character. */
int es_symbol_index(int c);

/* Set all 26 aggregates of AGGS to nothing (0, 0, none, none). */
void es_aggregates_clear(struct es_aggregate aggs[ES_SYMBOLS]);

/* Count one initial event of symbol index SYM (0-25) at AT_US. */
void es_aggregate_add_initial(struct es_aggregate aggs[ES_SYMBOLS], int sym,
			      int64_t at_us);

/* Count one follow-up of an initial event of symbol index SYM (0-25). */
void es_aggregate_add_followup(struct es_aggregate aggs[ES_SYMBOLS], int sym);

/*
 * Add SRC into DST, symbol by symbol: counts summed, earliest the smaller
 * and latest the larger of those that exist. This is what applying a
 * batch's deltas to the aggregates does.
 */
void es_aggregates_merge(struct es_aggregate dst[ES_SYMBOLS],
			 const struct es_aggregate src[ES_SYMBOLS]);

/* Whether A and B are the same aggregate (times compared only if events). */
bool es_aggregate_equal(const struct es_aggregate *a,
			const struct es_aggregate *b);

/*
 * Write the deltas text of AGGS into BUF (SIZE bytes, ES_DELTAS_MAX is
 * always enough) and return its length, or the length it would need when
 * SIZE is too small (as snprintf). Symbols with no event and no follow-up
 * are left out.
 */
size_t es_deltas_format(const struct es_aggregate aggs[ES_SYMBOLS], char *buf,
			size_t size);

/*
 * Parse the deltas text TEXT (NUL-terminated) into AGGS (all 26 set; the
 * symbols not named are nothing). Strict: anything but the form above is
 * refused with -1 and a message in ERR naming the line, e.g.
 * "line 2: symbol \"B\" is not one letter a-z". Returns 0 on success.
 */
int es_deltas_parse(const char *text, struct es_aggregate aggs[ES_SYMBOLS],
		    struct dbops_err *err);

#endif
