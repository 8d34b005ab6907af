/*
 * telemetry.h - dump-restore up --metrics-file: each world's state, rows,
 * bytes loaded, load time and dump time, for node_exporter's textfile
 * collector (monitoring/README.md).
 */
#ifndef DR_TELEMETRY_H
#define DR_TELEMETRY_H

#include <stddef.h>

#include "catalog.h"
#include "world.h"

/*
 * Write PATH atomically for the N worlds W that up brought up (or failed
 * to), and as "skipped" every other world of CAT (its dumps all after
 * --at). Returns 0, or -1 after an error naming PATH.
 */
int dr_metrics_write(const char *path, const struct dr_world *w, size_t n,
		     const struct dr_catalog *cat);

#endif
