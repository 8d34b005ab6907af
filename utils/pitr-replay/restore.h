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

/* --set NAME=VALUE, at most this many times (the server's command line
 * holds them with pitr-replay's own). */
#define PITR_SETS_MAX 12

struct restore_opts {
	struct verify_opts verify;
	const char *datadir;
	enum restore_action action;
	bool keep_running;
	int port;			    /* 0: a free one */
	struct tablespace_mapping *ts_maps; /* --tablespace-map */
	size_t nts_maps;
	int prefetch; /* fetch-wal --prefetch in restore_command */
	const char *sets[PITR_SETS_MAX]; /* server settings, "name=value" */
	int nsets;
	const char *conf;	  /* --conf: the server's configuration file */
	const char *metrics_file; /* --metrics-file, or NULL */
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

/*
 * From now on SIGINT, SIGTERM and SIGHUP end the process at once with
 * exit status 1 and the one line "interrupted by signal N during
 * verification: nothing was written": for `verify`, and `restore` until it
 * starts writing.
 */
void pitr_exit_on_signals(void);

/*
 * Whether MSG, a server log message from its severity on ("FATAL:  ..."),
 * answers our own polling (the server still starting up, a database we
 * only tried) rather than explaining a failure. For the unit tests.
 */
bool pitr_restore_log_noise(const char *msg);

#endif
