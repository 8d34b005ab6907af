/*
 * telemetry.c - pitr-replay's --metrics-file, written with common/metrics.
 * The names follow DESIGN.md and Prometheus' conventions (base units,
 * _seconds, _bytes, _timestamp_seconds), labelled by the command so that
 * verify and restore can share one collector directory.
 */
#include "telemetry.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "metrics.h"
#include "scan.h"
#include "wal.h"
#include "xalloc.h"

static struct dbops_metric *gauge(struct dbops_metrics *m, const char *name,
				  const char *help)
{
	struct dbops_metric *g = dbops_metrics_gauge(m, name, help);

	if (g == NULL)
		dbops_xalloc_failed();
	return g;
}

void pitr_run_facts_of(const struct plan *plan, struct pitr_run_facts *f)
{
	const struct path_scan *s = &plan->scan;

	f->scanned = true;
	f->wal_bytes = (double)s->segments * plan->arc.seg_size;
	/* Only a run to the end of the archive knows its end. */
	f->recoverable = plan->target.kind == TARGET_END && s->has_last_xact;
	if (f->recoverable)
		f->recoverable_s =
			(double)pg_time_to_unix_us(s->last_xact_time) / 1e6;
}

int pitr_metrics_write(const char *path, const char *command, bool ok,
		       double seconds, const struct pitr_run_facts *f)
{
	struct dbops_metrics *m = dbops_metrics_new();
	const char *labels[] = { "command", command, NULL };
	struct timespec now;
	int rc;

	if (m == NULL)
		dbops_xalloc_failed();
	clock_gettime(CLOCK_REALTIME, &now);
	dbops_metric_set(gauge(m, "dbops_pitr_replay_success",
			       "1 if the last run succeeded, else 0."),
			 labels, ok ? 1 : 0);
	dbops_metric_set(
		gauge(m, "dbops_pitr_replay_last_run_timestamp_seconds",
		      "When the last run ended, in seconds since the epoch."),
		labels, (double)now.tv_sec + now.tv_nsec / 1e9);
	dbops_metric_set(gauge(m, "dbops_pitr_replay_duration_seconds",
			       "How long the last run took."),
			 labels, seconds);
	if (f->scanned)
		dbops_metric_set(
			gauge(m, "dbops_pitr_replay_wal_checked_bytes",
			      "Bytes of WAL the last run read and checked."),
			labels, f->wal_bytes);
	if (f->recoverable)
		dbops_metric_set(
			gauge(m,
			      "dbops_pitr_replay_last_recoverable_timestamp_seconds",
			      "The newest transaction end a recovery from the archive reaches, in seconds since the epoch (runs to the end of the archive only)."),
			NULL, f->recoverable_s);
	rc = dbops_metrics_write_file(m, path);
	if (rc != 0)
		dbops_log_error("could not write the metrics file \"%s\": %s",
				path, strerror(errno));
	dbops_metrics_free(m);
	return rc;
}
