/*
 * telemetry.h - --metrics-file: what a verify or restore found, for
 * node_exporter's textfile collector, so that an alert fires when the
 * archive stops being recoverable (monitoring/dbops-alerts.yml).
 */
#ifndef PITR_TELEMETRY_H
#define PITR_TELEMETRY_H

#include <stdbool.h>
#include <stdint.h>

#include "verify.h"

/* What a run learnt of the WAL, for the metrics. */
struct pitr_run_facts {
	bool scanned;	      /* the WAL was read and checked */
	double wal_bytes;     /* how much of it */
	bool recoverable;     /* read to the end of the archive: */
	double recoverable_s; /* its newest transaction end, Unix seconds */
};

/* The facts of PLAN, whose WAL check returned 0. */
void pitr_run_facts_of(const struct plan *plan, struct pitr_run_facts *f);

/*
 * Write PATH atomically for COMMAND ("verify" or "restore"): whether it
 * succeeded (OK), how long it took (SECONDS) and when it ended, and the
 * facts F of its WAL. Returns 0, or -1 after an error naming PATH.
 */
int pitr_metrics_write(const char *path, const char *command, bool ok,
		       double seconds, const struct pitr_run_facts *f);

#endif
