/*
 * sync.h - snap-import sync: keep a folder imported, as a service.
 */
#ifndef SNAP_SYNC_H
#define SNAP_SYNC_H

#include <stdbool.h>
#include <sys/socket.h>

#include "snap.h"

/*
 * Run the service (or, with --once, one pass) as O says. Returns 0 on a
 * clean stop (SIGTERM), or with --once when every file imported; 1
 * otherwise, after reporting why.
 */
int snap_sync(const struct snap_opts *o);

/* The names sync takes without --pattern: CSV files, compressed or not. */
#define SNAP_SYNC_DEFAULT_PATTERN "*.csv?(.gz|.zst|.xz|.bz2)"

/*
 * Whether sync takes a file of this NAME: not hidden or temporary, and
 * matching PATTERN (glob(7), with ksh's ?(a|b) and the like: FNM_EXTMATCH).
 */
bool snap_sync_wanted(const char *name, const char *pattern);

#endif
