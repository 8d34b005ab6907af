/*
 * info.h - `pitr-replay info`: the base backups found on disk (each -b, or
 * every backup in a folder given) and in the WAL archive (its .backup
 * files), one row each: label, start and stop, timeline, size; with --time,
 * which backup to restore from for that time.
 */
#ifndef PITR_INFO_H
#define PITR_INFO_H

#include <stddef.h>
#include <stdint.h>

#include "output.h"

struct info_opts {
	const char *const *bases; /* backups, or folders of them */
	size_t nbases;
	const char *archive; /* NULL: none */
	const char *time;    /* --time as given, or NULL */
	int64_t time_us;     /* it, microseconds since 1970 */
	enum dbops_output_format format;
};

/* Print the backups; 0, or 1 after reporting why not. */
int pitr_info_run(const struct info_opts *o);

#endif
