/*
 * metrics.h - Prometheus telemetry: counters, gauges and histograms kept in
 * a registry, rendered in the text exposition format 0.0.4, either as a
 * string (for a /metrics endpoint) or atomically into a file (for
 * node_exporter's textfile collector).
 *
 * What a render looks like, metrics in registration order, series in the
 * order their label sets were first used:
 *
 *	# HELP snapimport_files_total Files seen, by outcome.
 *	# TYPE snapimport_files_total counter
 *	snapimport_files_total{result="imported"} 12
 *	snapimport_files_total{result="failed"} 1
 *	# HELP snapimport_import_duration_seconds Time to import one file.
 *	# TYPE snapimport_import_duration_seconds histogram
 *	snapimport_import_duration_seconds_bucket{le="0.5"} 3
 *	snapimport_import_duration_seconds_bucket{le="+Inf"} 4
 *	snapimport_import_duration_seconds_sum 2.75
 *	snapimport_import_duration_seconds_count 4
 *
 * A metric nothing was recorded in yet prints as one unlabelled series at
 * zero, so dashboards see it from the start. A labelled counter or gauge
 * should have its known label sets created at start-up instead, by adding 0
 * to each; a labelled histogram's series appear at their first observation.
 *
 * The label names of a metric are fixed by its first use; later uses must
 * give the same names, in any order. Series are kept in a list searched
 * linearly: labels are meant for a handful of values, never file names.
 *
 * Every function may be called from any thread: one mutex in the registry
 * guards all its metrics. Values are rendered in the C locale whatever the
 * program's locale.
 */
#ifndef DBOPS_METRICS_H
#define DBOPS_METRICS_H

#include <stddef.h>

/* The Content-Type a /metrics endpoint answers with. */
#define DBOPS_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct dbops_metrics;
struct dbops_metric;

/* A new, empty registry, or NULL (errno ENOMEM). */
struct dbops_metrics *dbops_metrics_new(void);

/* Free the registry and every metric in it; NULL is accepted. */
void dbops_metrics_free(struct dbops_metrics *m);

/*
 * Register a metric and return it; the registry owns it until
 * dbops_metrics_free(). name must match [a-zA-Z_:][a-zA-Z0-9_:]* and, for a
 * counter, end in "_total". help is UTF-8 text, or NULL for no HELP line.
 * A histogram's bounds are the upper bounds of its buckets, strictly
 * increasing and not NaN; the "+Inf" bucket is always added (a last bound
 * of +Inf is accepted and dropped). The bounds are copied.
 *
 * Returns NULL with errno EINVAL for an invalid name, help that is not
 * UTF-8, bad bounds, or a name taken by another metric of the registry
 * (a histogram also takes name_bucket, name_sum and name_count); errno
 * ENOMEM when out of memory. The value functions below accept a NULL
 * metric (and fail with EINVAL), so a failed registration is caught at the
 * first use at the latest.
 */
struct dbops_metric *dbops_metrics_counter(struct dbops_metrics *m,
					   const char *name, const char *help);
struct dbops_metric *dbops_metrics_gauge(struct dbops_metrics *m,
					 const char *name, const char *help);
struct dbops_metric *dbops_metrics_histogram(struct dbops_metrics *m,
					     const char *name, const char *help,
					     const double *bounds,
					     size_t nbounds);

/*
 * The value functions pick a series by labels: NULL for none, or a
 * NULL-terminated array of name, value pairs,
 *
 *	(const char *[]){ "result", "imported", NULL }
 *
 * Label names match [a-zA-Z_][a-zA-Z0-9_]*, do not start with "__", are
 * not repeated, and a histogram has no label "le"; values are UTF-8. The
 * strings are copied. A series is created at its first use.
 *
 * Each returns 0, or -1 with errno EINVAL (wrong type of metric, bad
 * labels, label names other than the metric's first use, a bad value) or
 * ENOMEM, and then changes nothing.
 */

/* Counter: delta finite and >= 0. Gauge: any delta. */
int dbops_metric_add(struct dbops_metric *metric, const char *const *labels,
		     double delta);

/* Gauge only: any value, NaN and infinities included. */
int dbops_metric_set(struct dbops_metric *metric, const char *const *labels,
		     double value);

/*
 * Histogram only: count value in the first bucket whose bound is >= value
 * (and in all those above it) and add it to the sum. NaN is refused.
 */
int dbops_metric_observe(struct dbops_metric *metric, const char *const *labels,
			 double value);

/*
 * The whole registry in the text format, NUL-terminated, in a malloc'd
 * string the caller frees; its length (without the NUL) in *len unless len
 * is NULL. NULL with errno ENOMEM when out of memory.
 */
char *dbops_metrics_render(struct dbops_metrics *m, size_t *len);

/*
 * Replace the file at path with a render of the registry, atomically:
 * readers see the old file or the new one, never a part. The text goes to
 * a hidden temporary file in the same directory (not ending in ".prom", so
 * the textfile collector ignores it), which is synced, made mode 0644 and
 * renamed over path; then the directory is synced.
 *
 * Returns 0, or -1 with errno. On a failure before the rename the
 * temporary file is removed and the old file is left as it was; if only
 * the final sync of the directory fails, the new file is in place but
 * may not survive a crash.
 */
int dbops_metrics_write_file(struct dbops_metrics *m, const char *path);

#endif
