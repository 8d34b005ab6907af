/*
 * restore.h - `pitr-replay restore`: verify, lay the base backup down in a
 * new data directory, write the recovery settings, run PostgreSQL until it
 * reaches the target, confirm where it stopped, then promote, pause or
 * shut down.
 */
#ifndef PITR_RESTORE_H
#define PITR_RESTORE_H

#include <stdbool.h>

#include "verify.h"

enum restore_action { ACTION_PROMOTE, ACTION_PAUSE, ACTION_SHUTDOWN };

struct restore_opts {
	struct verify_opts verify;
	const char *datadir;
	enum restore_action action;
	bool keep_running;
	int port;			    /* 0: a free one */
	struct tablespace_mapping *ts_maps; /* --tablespace-map */
	size_t nts_maps;
	int prefetch; /* fetch-wal --prefetch in restore_command */
};

/* 0 when DATADIR is at the target, 1 otherwise (reported). */
int pitr_restore_run(const struct restore_opts *o);

/*
 * The restore_command that runs EXE (this program, by its absolute path)
 * as `EXE fetch-wal -a ARCHIVE --spool SPOOL --prefetch N %f %p`
 * (fetch.h): each path
 * one shell word, its % doubled so that PostgreSQL leaves it alone, and
 * the whole quoted for a single-quoted postgresql.conf value. -1 when it
 * does not fit in LEN. Exposed for the unit tests.
 */
int pitr_restore_command_for(const char *exe, const char *archive,
			     const char *spool, int prefetch, char *buf,
			     size_t len);

#endif
