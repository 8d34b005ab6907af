/*
 * fuzz_event_store_range - libFuzzer target for the cut of a dashboard
 * range (utils/event-store/range.c): the bounds come from the query string
 * (es_time_parse(): the years 1 to 9999), the cut decides which rollups
 * answer.
 *
 * The input is two bounds, 8 bytes each, brought into those years.
 *
 * Properties: [lower, upper) is cut into at most ES_SEGMENTS_MAX segments,
 * in order, without gap or overlap, none empty; an hour segment starts and
 * ends on whole hours, a minute segment on whole minutes; the segments
 * fill the slots of the range statement in order, each slot's bounds
 * those of its segment or an empty range, and the slots said filled are
 * those and only those.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../utils/event-store/range.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 0001-01-01 and 10000-01-01 in microseconds since the epoch. */
#define FIRST INT64_C(-62135596800000000)
#define LAST  INT64_C(253402300800000000)

static int64_t bound(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return FIRST + (int64_t)(v % (uint64_t)(LAST - FIRST));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct es_segment segs[ES_SEGMENTS_MAX];
	int64_t lower, upper, at, bounds[2 * ES_RANGE_SLOTS];
	int n, used, filled = 0;

	if (size < 16)
		return 0;
	lower = bound(data);
	upper = bound(data + 8);
	if (size > 16 && data[16] & 1) /* near each other, often aligned */
		upper = lower + (int64_t)(data[16] >> 1) * ES_MINUTE_US * 7 +
			(size > 17 ? data[17] : 0);
	n = es_range_cut(lower, upper, segs);
	if (lower >= upper) {
		if (n != 0)
			abort();
		return 0;
	}
	if (n < 1 || n > ES_SEGMENTS_MAX)
		abort();
	at = lower;
	for (int i = 0; i < n; i++) {
		int64_t unit = segs[i].source == ES_HOUR     ? ES_HOUR_US
			       : segs[i].source == ES_MINUTE ? ES_MINUTE_US
							     : 1;

		if (segs[i].from != at || segs[i].to <= segs[i].from ||
		    es_range_floor(segs[i].from, unit) != segs[i].from ||
		    es_range_floor(segs[i].to, unit) != segs[i].to) {
			fprintf(stderr, "[%lld, %lld): segment %d bad\n",
				(long long)lower, (long long)upper, i);
			abort();
		}
		at = segs[i].to;
	}
	if (at != upper)
		abort();
	used = es_range_slots(segs, n, bounds);
	if (used <= 0 || used >= ES_RANGE_SHAPES)
		abort();
	for (int k = 0; k < ES_RANGE_SLOTS; k++) {
		if (bounds[2 * k] > bounds[2 * k + 1])
			abort();
		if (!(used & (1 << k)) != (bounds[2 * k] == bounds[2 * k + 1]))
			abort();
		for (int i = 0; i < n; i++)
			if (bounds[2 * k] == segs[i].from &&
			    bounds[2 * k + 1] == segs[i].to)
				filled++;
	}
	if (filled != n)
		abort();
	return 0;
}
