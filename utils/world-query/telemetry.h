/*
 * telemetry.h - world-query --metrics-file: each world's result and time,
 * for node_exporter's textfile collector (monitoring/README.md).
 */
#ifndef WQ_TELEMETRY_H
#define WQ_TELEMETRY_H

#include <stddef.h>

#include "query.h"

/*
 * Write PATH atomically: for each of the N results R, whether the world
 * answered without an error and how long it took; and when the run ended.
 * Returns 0, or -1 after an error naming PATH.
 */
int wq_metrics_write(const char *path, const struct wq_result *r, size_t n);

#endif
