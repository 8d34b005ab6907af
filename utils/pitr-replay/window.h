/*
 * window.h - `pitr-replay window`: per timeline of an archive, what a
 * recovery can reach: from the base backup's consistency point to the last
 * transaction, with restore points and gaps, one row per fact.
 */
#ifndef PITR_WINDOW_H
#define PITR_WINDOW_H

#include "output.h"
#include "progress.h"

struct window_opts {
	const char *archive;
	const char *base; /* NULL: the archive's backup history files */
	enum dbops_output_format format;
	enum dbops_progress_mode progress;
};

/* Print the window; 0, or 1 after reporting why not. */
int pitr_window_run(const struct window_opts *o);

#endif
