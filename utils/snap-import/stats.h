/*
 * stats.h - snap-import's counters and Prometheus metrics.
 */
#ifndef SNAP_STATS_H
#define SNAP_STATS_H

#include "import.h"
#include "snap.h"

/* Register the metrics (out of memory ends the process: xalloc.h). */
void snap_stats_init(struct snap_stats *st);

/* Release the metrics; ST may be initialised again. */
void snap_stats_free(struct snap_stats *st);

/* Count one file's outcome (an interrupted one is not counted). */
void snap_stats_count(struct snap_stats *st, enum snap_outcome out,
		      const struct snap_result *r);

#endif
