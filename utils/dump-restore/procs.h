/*
 * procs.h - the processes that work on a world's directory, found through
 * /proc rather than through a pid someone wrote down: an `up` killed while
 * its server was being made or started leaves no instance.state, but it
 * may leave mariadb-install-db, its bootstrap mariadbd, or a mariadbd still
 * recovering, all writing into ROOT/<world>/data.
 *
 * A process belongs to the world DIR when its program is a MariaDB server
 * (mariadbd, mysqld) or its install script, and it works in DIR's data
 * directory (its cwd: the server chdir()s there) or names DIR's my.cnf or
 * data directory on its command line (before that chdir, and for the
 * install script). Any other process, whatever a state file says, is never
 * signalled.
 */
#ifndef DR_PROCS_H
#define DR_PROCS_H

#include <stdbool.h>
#include <sys/types.h>

#include "errbuf.h"

#define DR_PROCS_MAX 16

struct dr_proc {
	pid_t pid;
	bool server; /* mariadbd or mysqld; else the install script */
};

/*
 * Pure: whether a process with program name COMM, working directory CWD
 * ("" when unknown) and arguments ARGV (ARGC of them) works on the world
 * whose directory's real path is REALDIR. Returns 1 for a server, 2 for the
 * install script, 0 for anything else.
 */
int dr_procs_match(const char *realdir, const char *comm, const char *cwd,
		   const char *const *argv, int argc);

/*
 * The processes working on DIR, into PROCS (at most DR_PROCS_MAX).
 * Returns how many.
 */
int dr_procs_find(const char *dir, struct dr_proc *procs);

/*
 * Stop every process working on DIR: the install script first (SIGKILL:
 * it would start another server), then the servers with SIGTERM and,
 * after TIMEOUT_S, SIGKILL; done when two looks 100 ms apart find none
 * and every process signalled has exited.
 * Returns 0, or -1 with ERR naming a pid that still runs.
 */
int dr_procs_stop(const char *dir, int timeout_s, struct dbops_err *err);

#endif
