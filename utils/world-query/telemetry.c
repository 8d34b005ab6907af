/*
 * telemetry.c - world-query's --metrics-file, with common/metrics: one
 * series per world (a handful to a few hundred, as labels should be).
 */
#include "telemetry.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "inventory.h"
#include "log.h"
#include "metrics.h"
#include "xalloc.h"

static struct dbops_metric *gauge(struct dbops_metrics *m, const char *name,
				  const char *help)
{
	struct dbops_metric *g = dbops_metrics_gauge(m, name, help);

	if (g == NULL)
		dbops_xalloc_failed();
	return g;
}

int wq_metrics_write(const char *path, const struct wq_result *r, size_t n)
{
	struct dbops_metrics *m = dbops_metrics_new();
	struct dbops_metric *ok, *secs, *last;
	struct timespec now;
	int rc;

	if (m == NULL)
		dbops_xalloc_failed();
	ok = gauge(
		m, "dbops_world_query_world_success",
		"1 if the world answered the last statement without an error, else 0.");
	secs = gauge(
		m, "dbops_world_query_world_seconds",
		"How long the world took, from connecting to its last result.");
	last = gauge(m, "dbops_world_query_last_run_timestamp_seconds",
		     "When the last run ended, in seconds since the epoch.");
	for (size_t i = 0; i < n; i++) {
		const char *labels[] = { "world", r[i].world->name, NULL };

		dbops_metric_set(ok, labels, r[i].err.msg[0] ? 0 : 1);
		dbops_metric_set(secs, labels, r[i].seconds);
	}
	clock_gettime(CLOCK_REALTIME, &now);
	dbops_metric_set(last, NULL, (double)now.tv_sec + now.tv_nsec / 1e9);
	rc = dbops_metrics_write_file(m, path);
	if (rc != 0)
		dbops_log_error("could not write the metrics file \"%s\": %s",
				path, strerror(errno));
	dbops_metrics_free(m);
	return rc;
}
