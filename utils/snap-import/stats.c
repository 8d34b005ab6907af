/*
 * stats.c - what snap-import counts, for its summary and its Prometheus
 * metrics (written by import --metrics-file, served by sync --listen).
 */
#include "stats.h"

#include <stdio.h>
#include <time.h>

#include "xalloc.h"

/* Import durations: from a small file to a large snapshot. */
static const double duration_bounds[] = { 0.05, 0.1, 0.25, 0.5, 1,   2.5,
					  5,	10,  30,   60,	300, 900 };

void snap_stats_init(struct snap_stats *st)
{
	static const char *const results[] = { "imported", "skipped",
					       "failed" };

	/* metrics.h promises ENOMEM; tool code stops there (xalloc.h). */
	st->metrics = dbops_metrics_new();
	if (st->metrics == NULL)
		dbops_xalloc_failed();
	st->files = dbops_metrics_counter(
		st->metrics, "dbops_snap_import_files_total",
		"Files seen, by result: imported, skipped (content already imported) or failed.");
	st->rows = dbops_metrics_counter(
		st->metrics, "dbops_snap_import_rows_total", "Rows imported.");
	st->bytes = dbops_metrics_counter(st->metrics,
					  "dbops_snap_import_bytes_total",
					  "Bytes of the files imported.");
	st->duration = dbops_metrics_histogram(
		st->metrics, "dbops_snap_import_duration_seconds",
		"Time to import one file, of the files imported.",
		duration_bounds,
		sizeof(duration_bounds) / sizeof(duration_bounds[0]));
	st->last_success = dbops_metrics_gauge(
		st->metrics, "dbops_snap_import_last_success_timestamp_seconds",
		"When the last file was imported, in seconds since the epoch.");
	st->waiting = dbops_metrics_gauge(
		st->metrics, "dbops_snap_import_files_waiting",
		"Files found and not yet imported (sync).");
	if (!st->files || !st->rows || !st->bytes || !st->duration ||
	    !st->last_success || !st->waiting)
		dbops_xalloc_failed();
	/* Every result shows from the start, at 0. */
	for (int i = 0; i < 3; i++)
		dbops_metric_add(st->files,
				 (const char *[]){ "result", results[i], NULL },
				 0);
}

void snap_stats_free(struct snap_stats *st)
{
	dbops_metrics_free(st->metrics);
	st->metrics = NULL;
}

void snap_stats_count(struct snap_stats *st, enum snap_outcome out,
		      const struct snap_result *r)
{
	const char *result = out == SNAP_IMPORTED  ? "imported"
			     : out == SNAP_SKIPPED ? "skipped"
						   : "failed";

	if (out == SNAP_INTERRUPTED)
		return;
	if (out == SNAP_IMPORTED) {
		st->imported++;
		dbops_metric_add(st->rows, NULL, (double)r->rows);
		dbops_metric_add(st->bytes, NULL, (double)r->bytes);
		dbops_metric_observe(st->duration, NULL, r->seconds);
		dbops_metric_set(st->last_success, NULL, (double)time(NULL));
	} else if (out == SNAP_SKIPPED) {
		st->skipped++;
	} else {
		st->failed++;
	}
	dbops_metric_add(st->files, (const char *[]){ "result", result, NULL },
			 1);
}
