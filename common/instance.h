/*
 * instance.h - start and stop a private database server in a directory of
 * its own: PostgreSQL (instance_pg.c) or MariaDB/MySQL (instance_mariadb.c),
 * each a driver behind this one interface.
 *
 * An instance lives in DIR (owned by the user the server runs as; made
 * 0700 when this module creates it, left as it is otherwise):
 *
 *	DIR/data/          the data directory (unless an existing one is given)
 *	DIR/server.log     everything the server writes to stdout and stderr
 *	DIR/my.cnf         MariaDB only: the generated option file
 *	DIR/tmp/           MariaDB only: its private tmpdir
 *	DIR/instance.state what a later process needs to find and stop it
 *	                   (kvfile.h's format, written atomically)
 *
 * The server listens on a unix socket in DIR (or, when DIR is too deep for
 * the 107 bytes of sun_path, in a short private directory under /tmp) and
 * on TCP at 127.0.0.1 only, on a free port. Run as root, the server runs as
 * the `postgres` or `mysql` system user, as Debian's own scripts do.
 *
 * Every wait has a deadline (opts.timeout_s). Failures are reported
 * through log.h (an error line naming the directory and quoting the server
 * log's relevant lines as detail lines) and return -1.
 *
 * A tool names the driver it needs (&dbops_postgres or &dbops_mariadb), so
 * it links only that one.
 */
#ifndef DBOPS_INSTANCE_H
#define DBOPS_INSTANCE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "process.h"

struct dbops_server_driver;

/* The PostgreSQL driver (instance_pg.c). */
extern const struct dbops_server_driver dbops_postgres;
/* The MariaDB (and MySQL) driver (instance_mariadb.c). */
extern const struct dbops_server_driver dbops_mariadb;

struct dbops_instance_opts {
	const struct dbops_server_driver *driver;
	const char *dir;     /* created 0700 when missing */
	const char *datadir; /* an existing data directory; NULL: DIR/data,
				   initialised when it is not yet */
	int pg_major;	     /* PostgreSQL: the major version to run; 0: the
				   data directory's, or the newest installed */
	const char *bindir;  /* where the server programs are; NULL: search */
	int port;	     /* 0: a free one (see port_base) */
	int port_base;	     /* with port 0: the first port to try; 0: any */
	int timeout_s;	     /* start and stop limit; 0: 60 s */
	const char *const *settings; /* extra "name=value" server settings */
	const char *run_as;	     /* when root: NULL for postgres / mysql */
	bool no_wait; /* return once the server process runs, without
				   waiting for it to take connections: for a
				   caller that follows a long recovery itself */
};

struct dbops_instance {
	const struct dbops_server_driver *driver;
	char dir[PATH_MAX];
	char datadir[PATH_MAX];
	char bindir[PATH_MAX];
	char program[PATH_MAX]; /* the server program: postgres, mariadbd */
	char init_program
		[PATH_MAX]; /* initdb, mariadb-install-db; "" if none */
	char socket_dir[PATH_MAX];
	char socket[PATH_MAX]; /* the socket file itself */
	char log[PATH_MAX];
	char version[64];    /* "15" for PostgreSQL, "10.11.19" for MariaDB */
	char admin_user[64]; /* the superuser account to connect as: postgres
				   (PostgreSQL), or the name of the user who
				   started it (MariaDB, unix socket only) */
	int port;
	pid_t pid;	     /* the server (postmaster / mariadbd) */
	bool own_socket_dir; /* socket_dir is a short one we made in /tmp */
	bool drop;	     /* the server runs as user, not as us */
	struct dbops_user user;
	struct dbops_process proc; /* valid in the process that started it */
};

/* "PostgreSQL" or "MariaDB". */
const char *dbops_server_name(const struct dbops_server_driver *driver);

/*
 * Start a server as OPTS says and wait until it accepts connections on its
 * socket, for at most opts->timeout_s. On success INST describes it and
 * DIR/instance.state records it. Returns 0, or -1 after reporting why
 * (with the server log's lines).
 */
int dbops_instance_start(const struct dbops_instance_opts *opts,
			 struct dbops_instance *inst);

/*
 * Stop the server: fast shutdown (PostgreSQL SIGINT, MariaDB SIGTERM),
 * SIGKILL after TIMEOUT_S (0: 60). Data stays; the state file and a private
 * socket directory go. Returns 0, or -1 after reporting why.
 */
int dbops_instance_stop(struct dbops_instance *inst, int timeout_s);

/*
 * Fill INST from DIR/instance.state, for a process other than the one that
 * started the server. DRIVERS (NULL-terminated) are the servers the caller
 * handles; a state of another server is refused. Returns 0, or -1 after
 * reporting why.
 */
int dbops_instance_load(const char *dir,
			const struct dbops_server_driver *const *drivers,
			struct dbops_instance *inst);

/*
 * Whether the server INST describes is running: its pid is alive, is the
 * driver's server program, and (where /proc lets us see it) works in INST's
 * data directory, so a pid reused by another process is never taken for it.
 */
bool dbops_instance_running(const struct dbops_instance *inst);

/* Whether a socket NAME in DIR fits in sun_path (107 bytes and a NUL). */
bool dbops_instance_socket_fits(const char *dir, const char *name);

/*
 * Pure: pick the lines of a server log that explain a failed start:
 * PostgreSQL's FATAL/PANIC/ERROR lines and LOG lines saying what could not
 * be done, MariaDB's [ERROR] lines, with their time stamps cut off; the
 * last MAX of them, oldest first; or, when none match, the last MAX
 * non-empty lines (and *RELEVANT is false). Each line is copied into
 * LINES[i] (cut at 255 bytes). Returns how many were copied.
 */
int dbops_instance_log_excerpt(const struct dbops_server_driver *driver,
			       const char *log_text, char (*lines)[256],
			       int max, bool *relevant);

/*
 * The directory of PostgreSQL MAJOR's server programs: GIVEN when it is
 * not NULL, else Debian's /usr/lib/postgresql/MAJOR/bin, into BINDIR (of
 * LEN bytes). Returns 0 when a postgres program is there, -1 otherwise
 * (nothing reported: the caller knows what to advise).
 */
int dbops_pg_bindir(int major, const char *given, char *bindir, size_t len);

#endif
