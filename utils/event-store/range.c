/*
 * range.c - cut a time range into rollup and raw segments, and write the
 * one UNION ALL statement that reads them (see range.h).
 *
 * Design notes:
 * 1. Rollups count an initial event in the bucket of its time, with the
 *    follow-ups of that event whenever they came; so a range made of whole
 *    buckets sums them, and the edges read the raw events joined with
 *    their follow-ups, which counts the same way.
 * 2. The edges are under a minute each, so the raw part of a range reads
 *    at most two minutes of events through the index on "at", whatever
 *    the range's length; the minute part at most 2 x 59 minute buckets.
 *    Their follow-ups are looked up one by one in the primary key
 *    (EXISTS), not joined: a join may hash the whole followups table.
 */
#include "range.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"
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

static void append(char **buf, size_t *len, size_t *cap, const char *s)
{
	size_t n = strlen(s);

	if (*len + n + 1 > *cap) {
		*cap = (*len + n + 1) * 2;
		*buf = dbops_xreallocarray(*buf, *cap, 1);
	}
	memcpy(*buf + *len, s, n + 1);
	*len += n;
}

static char *segment_sql(const char *schema, const struct es_segment *s)
{
	char from[ES_TIME_LEN], to[ES_TIME_LEN];

	es_time_format(s->from, from);
	es_time_format(s->to, to);
	if (s->source == ES_RAW)
		return dbops_xasprintf(
			"SELECT i.symbol, count(*) AS events,"
			" count(*) FILTER (WHERE EXISTS (SELECT FROM"
			" %s.followups f WHERE f.uuid = i.uuid)) AS followups,"
			" min(i.at) AS earliest, max(i.at) AS latest"
			" FROM %s.initial_events i"
			" WHERE i.at >= '%s+00' AND i.at < '%s+00'"
			" GROUP BY i.symbol",
			schema, schema, from, to);
	return dbops_xasprintf(
		"SELECT symbol, sum(events) AS events,"
		" sum(followups) AS followups, min(earliest) AS earliest,"
		" max(latest) AS latest"
		" FROM %s.rollups WHERE period = '%s'"
		" AND bucket >= '%s+00' AND bucket < '%s+00'"
		" GROUP BY symbol",
		schema, s->source == ES_HOUR ? "hour" : "minute", from, to);
}

char *es_range_sql(const char *schema, const struct es_segment *segs, int n)
{
	size_t len = 0, cap = 0;
	char *buf = NULL;

	append(&buf, &len, &cap,
	       "SELECT symbol, sum(events)::bigint, sum(followups)::bigint,"
	       " to_char(min(earliest), 'YYYY-MM-DD HH24:MI:SS.US'),"
	       " to_char(max(latest), 'YYYY-MM-DD HH24:MI:SS.US')"
	       " FROM (");
	for (int i = 0; i < n; i++) {
		char *s = segment_sql(schema, &segs[i]);

		if (i > 0)
			append(&buf, &len, &cap, " UNION ALL ");
		append(&buf, &len, &cap, s);
		free(s);
	}
	if (n == 0)
		append(&buf, &len, &cap,
		       "SELECT NULL::text AS symbol, 0::bigint AS events,"
		       " 0::bigint AS followups,"
		       " NULL::timestamptz AS earliest,"
		       " NULL::timestamptz AS latest WHERE false");
	append(&buf, &len, &cap,
	       ") AS u GROUP BY symbol HAVING sum(events) > 0 ORDER BY symbol");
	return buf;
}
