/*
 * range.h - how /dashboard/range reads [lower, upper) without a scan of
 * every event: whole hours from the hour rollups, whole minutes at the
 * edges from the minute rollups, and only the sub-minute edges from the raw
 * events. Pure: the cut and the SQL text; store.c runs it.
 */
#ifndef ES_RANGE_H
#define ES_RANGE_H

#include <stdint.h>

#define ES_MINUTE_US INT64_C(60000000)
#define ES_HOUR_US   INT64_C(3600000000)

enum es_source { ES_RAW, ES_MINUTE, ES_HOUR };

/* [from, to) read from one source; from < to. */
struct es_segment {
	enum es_source source;
	int64_t from, to;
};

/* At most: raw, minutes, hours, minutes, raw. */
#define ES_SEGMENTS_MAX 5

/*
 * Cut [LOWER, UPPER) (microseconds, UTC) into SEGS, in time order, with no
 * gap and no overlap, each as coarse as its bounds allow: an hour segment
 * starts and ends on whole hours, a minute segment on whole minutes.
 * Returns the count (0 when LOWER >= UPPER).
 */
int es_range_cut(int64_t lower, int64_t upper,
		 struct es_segment segs[ES_SEGMENTS_MAX]);

/* The floor of US to a multiple of UNIT (also for negative US). */
int64_t es_range_floor(int64_t us, int64_t unit);

/*
 * The one statement that answers the range SEGS (N of them) from the
 * tables of SCHEMA (an identifier quoted already, such as "\"event_store\""):
 * rows (symbol, count, followups, earliest, latest), times as text
 * "YYYY-MM-DD HH:MM:SS.ffffff" in UTC (the session's TimeZone must be
 * UTC), only symbols with events, sorted by symbol. A malloc'd string.
 */
char *es_range_sql(const char *schema, const struct es_segment *segs, int n);

#endif
