/*
 * range.c - cut a time range into rollup and raw segments, and write the
 * statement that reads them (see range.h).
 *
 * Design notes:
 * 1. Rollups count an initial event in the bucket of its time, with the
 *    follow-ups of that event whenever they came; so a range made of whole
 *    buckets sums them, and the edges read the raw events joined with
 *    their follow-ups, which counts the same way.
 * 2. The edges are under a minute each, so the raw part of a range reads
 *    at most two minutes of events through the index on "at", whatever
 *    the range's length; the minute part at most 2 x 59 minute buckets.
 *    Their follow-ups are looked up one by one in the primary key (a
 *    nested loop join: the session has hash and merge joins off).
 * 3. A range reads only the slots (raw, minutes, hours, minutes, raw)
 *    that its cut fills, with one statement per set of slots, prepared
 *    and planned once per connection when first needed: parsing and
 *    planning a statement per request cost more than running it. Its
 *    times go both ways in binary (microseconds since 2000), neither
 *    printed nor parsed. Measured, a range of whole days: 190 us of the
 *    server's CPU with all five slots (four of them empty) and the times
 *    in text, 125 us with the hour slot alone and the times in binary.
 */
#include "range.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

int64_t es_range_floor(int64_t us, int64_t unit)
{
	int64_t q = us / unit;

	if (us % unit != 0 && us < 0)
		q--;
	return q * unit;
}

static int64_t ceil_to(int64_t us, int64_t unit)
{
	int64_t f = es_range_floor(us, unit);

	return f == us ? us : f + unit;
}

static int add(struct es_segment *segs, int n, enum es_source source,
	       int64_t from, int64_t to)
{
	if (from < to)
		segs[n++] = (struct es_segment){ source, from, to };
	return n;
}

/* [FROM, TO) with no whole hour inside: minutes with raw edges. */
static int cut_minutes(int64_t from, int64_t to, struct es_segment *segs, int n)
{
	int64_t m1 = ceil_to(from, ES_MINUTE_US);
	int64_t m2 = es_range_floor(to, ES_MINUTE_US);

	if (m1 >= m2)
		return add(segs, n, ES_RAW, from, to);
	n = add(segs, n, ES_RAW, from, m1);
	n = add(segs, n, ES_MINUTE, m1, m2);
	return add(segs, n, ES_RAW, m2, to);
}

int es_range_cut(int64_t lower, int64_t upper,
		 struct es_segment segs[ES_SEGMENTS_MAX])
{
	int64_t h1, h2;
	int n = 0;

	if (lower >= upper)
		return 0;
	h1 = ceil_to(lower, ES_HOUR_US);
	h2 = es_range_floor(upper, ES_HOUR_US);
	if (h1 >= h2)
		return cut_minutes(lower, upper, segs, 0);
	n = cut_minutes(lower, h1, segs, n);
	n = add(segs, n, ES_HOUR, h1, h2);
	if (h2 < upper)
		n = cut_minutes(h2, upper, segs, n);
	return n;
}

/* The source each slot of the statement reads, in time order. */
static const enum es_source slot_source[ES_RANGE_SLOTS] = { ES_RAW, ES_MINUTE,
							    ES_HOUR, ES_MINUTE,
							    ES_RAW };

int es_range_slots(const struct es_segment *segs, int n,
		   int64_t bounds[2 * ES_RANGE_SLOTS])
{
	int k = 0, used = 0;

	for (int j = 0; j < ES_RANGE_SLOTS; j++)
		bounds[2 * j] = bounds[2 * j + 1] = n > 0 ? segs[0].from : 0;
	for (int i = 0; i < n; i++) {
		while (k < ES_RANGE_SLOTS && slot_source[k] != segs[i].source)
			k++;
		if (k == ES_RANGE_SLOTS)
			return -1;
		bounds[2 * k] = segs[i].from;
		bounds[2 * k + 1] = segs[i].to;
		used |= 1 << k;
		k++;
	}
	return used;
}

static void append(char **buf, size_t *len, size_t *cap, char *s)
{
	size_t n = strlen(s);

	if (*len + n + 1 > *cap) {
		*cap = (*len + n + 1) * 2;
		*buf = dbops_xreallocarray(*buf, *cap, 1);
	}
	memcpy(*buf + *len, s, n + 1);
	*len += n;
	free(s);
}

/* The rows of the raw slot whose bounds are parameters $FROM and
   $FROM+1: each initial event in the bounds, and whether it was followed
   up, looked up by uuid (a join, not EXISTS: a generic plan may hash
   EXISTS's subquery over the whole followups table). */
static char *raw_rows(const char *schema, int from)
{
	return dbops_xasprintf(
		"SELECT i.symbol, 1::bigint AS events,"
		" (f.uuid IS NOT NULL)::int::bigint AS followups,"
		" i.at AS earliest, i.at AS latest FROM %s.initial_events i"
		" LEFT JOIN %s.followups f ON f.uuid = i.uuid"
		" WHERE i.at >= $%d::timestamptz AND i.at < $%d::timestamptz",
		schema, schema, from, from + 1);
}

/* The rows of a rollup slot of PERIOD, its bounds $FROM and $FROM+1. */
static char *rollup_rows(const char *schema, const char *period, int from)
{
	return dbops_xasprintf(
		"SELECT symbol, events, followups, earliest, latest"
		" FROM %s.rollups WHERE period = '%s'"
		" AND bucket >= $%d::timestamptz AND bucket < $%d::timestamptz",
		schema, period, from, from + 1);
}

char *es_range_sql(const char *schema, unsigned used)
{
	size_t len = 0, cap = 0;
	char *buf = NULL;
	int param = 1;

	append(&buf, &len, &cap,
	       dbops_xstrdup("SELECT symbol, sum(events)::bigint,"
			     " sum(followups)::bigint, min(earliest),"
			     " max(latest) FROM ("));
	for (int k = 0; k < ES_RANGE_SLOTS; k++) {
		if (!(used & (1u << k)))
			continue;
		if (param > 1)
			append(&buf, &len, &cap, dbops_xstrdup(" UNION ALL "));
		append(&buf, &len, &cap,
		       slot_source[k] == ES_RAW
			       ? raw_rows(schema, param)
			       : rollup_rows(schema,
					     slot_source[k] == ES_HOUR
						     ? "hour"
						     : "minute",
					     param));
		param += 2;
	}
	append(&buf, &len, &cap,
	       dbops_xstrdup(") AS u GROUP BY symbol HAVING sum(events) > 0"
			     " ORDER BY symbol"));
	return buf;
}
