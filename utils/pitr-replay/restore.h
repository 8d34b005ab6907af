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
	int port;			 /* 0: a free one */
	const char *sets[PITR_SETS_MAX]; /* server settings, "name=value" */
	int nsets;
	const char *conf; /* --conf: the server's configuration file */
};

/* 0 when DATADIR is at the target, 1 otherwise (reported). */
int pitr_restore_run(const struct restore_opts *o);

/*
 * The restore_command for ARCHIVE: a shell snippet that copies %f (or
 * inflates %f.gz) to %p, exits 1 only when neither is there, and 126 for
 * any other failure, which PostgreSQL treats as fatal instead of as the end
 * of the archive. Quoted for postgresql.conf. Exposed for the unit tests.
 */
int pitr_restore_command_for(const char *archive, char *buf, size_t len);

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
