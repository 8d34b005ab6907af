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

/* The slots of a range: raw, minutes, hours, minutes, raw. */
#define ES_RANGE_SLOTS 5

/* The range statements: one per set of slots read (a bit mask, bit K for
   slot K), the empty set unused. */
#define ES_RANGE_SHAPES (1 << ES_RANGE_SLOTS)

/*
 * The bounds of the slots for the segments SEGS (N of them, from
 * es_range_cut()): BOUNDS[2k] and BOUNDS[2k+1] are the from and to of slot
 * k, equal (an empty range) for a slot no segment fills. Returns the slots
 * filled, bit k for slot k (0 when N is 0), or -1 if the segments are not
 * in the order of the slots.
 */
int es_range_slots(const struct es_segment *segs, int n,
		   int64_t bounds[2 * ES_RANGE_SLOTS]);

/*
 * The statement that answers a range from the tables of SCHEMA (an
 * identifier quoted already, such as "\"event_store\"") by reading the
 * slots USED (a mask from es_range_slots(), not 0) and only those,
 * prepared once per connection and shape: its parameters are the used
 * slots' bounds as timestamptz, in slot order ($1 and $2 the first used
 * slot's from and to); its rows (symbol text, count int8, followups int8,
 * earliest and latest timestamptz), only symbols with events, sorted by
 * symbol. A malloc'd string.
 */
char *es_range_sql(const char *schema, unsigned used);

#endif
