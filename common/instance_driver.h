/*
 * instance_driver.h - what a server driver supplies to instance.c. Private
 * to instance.c, serverlog.c and the drivers (instance_pg.c,
 * instance_mariadb.c): tools see only instance.h.
 *
 * The generic part owns the life of an instance: its directory, the user
 * it runs as, ports, the socket directory, the state file, spawning the
 * program and waiting with a deadline, stopping. A driver knows one
 * server: where its programs are, how a data directory is made, the argv
 * that starts it, when it is ready, and how its log reads.
 */
#ifndef DBOPS_INSTANCE_DRIVER_H
#define DBOPS_INSTANCE_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "instance.h"

/* Room for the argv of a server start and the strings it points to. */
struct dbops_server_argv {
	const char *argv[72];
	int argc;
	char text[4][PATH_MAX + 64];
};

struct dbops_server_driver {
	const char *name;	     /* "PostgreSQL", for messages */
	const char *state_name;	     /* "postgres", in instance.state */
	const char *system_user;     /* the account a root run drops to */
	const char *datadir_marker;  /* a file every data directory has */
	const char *socket_probe;    /* the longest socket file name */
	const char *const *programs; /* /proc/PID/comm of its server */
	int stop_signal;	     /* the fast shutdown */

	/* The log's level words, for serverlog.c; NULL-terminated. */
	const char *const *log_levels;
	/* Whether a log line (its LEVEL word, as in log_levels, or NULL) tells
	 * what failed; PREVIOUS: whether the line before did. */
	bool (*relevant_line)(const char *level, const char *text, size_t len,
			      bool previous);

	/* Set inst->admin_user. 0, or -1 reported. */
	int (*admin_user)(struct dbops_instance *inst);
	/* Find the programs: inst->bindir, program, init_program, version.
	   0, or -1 reported. */
	int (*find_programs)(const struct dbops_instance_opts *opts,
			     struct dbops_instance *inst);
	/* Make inst->datadir a new data directory. 0, or -1 reported. */
	int (*init_datadir)(const struct dbops_instance_opts *opts,
			    struct dbops_instance *inst, int timeout_s);
	/* Before each start, inst->port and socket known: write what the
	   start reads (MariaDB's my.cnf). NULL: nothing. 0, or -1 reported. */
	int (*configure)(const struct dbops_instance_opts *opts,
			 struct dbops_instance *inst);
	/* The argv that starts the server. */
	void (*server_argv)(const struct dbops_instance_opts *opts,
			    const struct dbops_instance *inst,
			    struct dbops_server_argv *a);
	/* Set inst->socket from inst->socket_dir and inst->port. */
	void (*socket_path)(struct dbops_instance *inst);
	/* Whether the server says it is ready, before the socket is tried
	   (PostgreSQL's postmaster.pid); NULL: the socket alone. */
	bool (*ready)(const struct dbops_instance *inst);
};

/*
 * Run an initialisation program ARGV (initdb, mariadb-install-db) as the
 * instance's user, for at most TIMEOUT_S. 0, or -1 reported with its
 * output's telling lines.
 */
int dbops_instance_run_init(struct dbops_instance *inst,
			    const char *const *argv, int timeout_s);

/* The state file's name in the instance's directory. */
#define STATE_FILE "instance.state"

/* INST emptied, with no process. */
void dbops_instance_clear(struct dbops_instance *inst);

/*
 * instance_state.c: record INST in DIR/instance.state, atomically. 0, or
 * -1 reported.
 */
int dbops_instance_write_state(const struct dbops_instance *inst);

/* Whether PATH is an executable file. */
bool dbops_instance_executable(const char *path);

/*
 * instance_log.c: at most the last 64 KiB of the file PATH from OFFSET on,
 * NUL-terminated (caller frees), or NULL when it cannot be read.
 */
char *dbops_instance_log_tail(const char *path, off_t offset);

/*
 * instance_log.c: whether a log line's TEXT (LEN bytes) says what could
 * not be done ("could not", "Permission denied", ...).
 */
bool dbops_instance_log_says_failed(const char *text, size_t len);

/* instance_log.c: the text of an excerpt LINE without its level word. */
const char *dbops_instance_log_text(const struct dbops_server_driver *driver,
				    const char *line);

#endif
