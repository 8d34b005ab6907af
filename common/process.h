/*
 * process.h - run other programs: always from an argv, never through a shell.
 *
 * A child runs in a process group of its own (or a session of its own, for
 * servers that must outlive us), so a timeout can kill it and everything it
 * started. Run as root, a child can be made to drop to a system user (the
 * `postgres` or `mysql` account) before it executes, as pg_ctlcluster does.
 */
#ifndef DBOPS_PROCESS_H
#define DBOPS_PROCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define DBOPS_USER_GROUPS_MAX 1024

/* A system account a child process drops to. */
struct dbops_user {
	char name[64];
	uid_t uid;
	gid_t gid;
	/* Supplementary groups, looked up in advance. */
	gid_t groups[DBOPS_USER_GROUPS_MAX];
	int ngroups;
	char home[256];
};

/*
 * Look up the account NAME and its groups. Returns 0, or -1 with errno
 * ENOENT when there is no such user, E2BIG when it is in more groups than
 * DBOPS_USER_GROUPS_MAX (never some of them only), or another errno from
 * the lookup.
 */
int dbops_user_lookup(const char *name, struct dbops_user *user);

/*
 * The account a server should run as: when we are root, NAME (which must
 * exist: -1 and ENOENT otherwise); when we are not, ourselves, in which case
 * *user is left alone and *drop is false.
 */
int dbops_user_for_server(const char *name, struct dbops_user *user,
			  bool *drop);

/*
 * Whether USER may reach PATH with access(2) MODE (R_OK, W_OK, X_OK),
 * checked in a child that has taken on USER's identity. Returns 1 yes, 0 no
 * (errno of the failed check in *err), -1 if the check itself failed.
 */
int dbops_user_can_access(const struct dbops_user *user, const char *path,
			  int mode, int *err);

/* Give PATH to USER (chown), when we are root; a no-op otherwise. */
int dbops_user_chown(const struct dbops_user *user, const char *path);

enum dbops_stdio {
	DBOPS_STDIO_INHERIT, /* the parent's stream */
	DBOPS_STDIO_NULL,    /* /dev/null */
	DBOPS_STDIO_CAPTURE, /* a pipe the parent reads (see dbops_process_wait) */
	DBOPS_STDIO_FILE,    /* appended to opts.log_path */
};

struct dbops_spawn_opts {
	const char *const
		*argv; /* argv[0]: a path, or a name looked up in PATH */
	const struct dbops_user *user; /* NULL: stay who we are */
	enum dbops_stdio out;	       /* stdout */
	enum dbops_stdio err; /* stderr; CAPTURE with out CAPTURE merges both */
	const char *log_path; /* for DBOPS_STDIO_FILE, created 0600 */
	const char *cwd;      /* NULL: ours */
	bool new_session; /* setsid(): detach from our terminal and outlive us */
};

struct dbops_process {
	pid_t pid;
	int capture_fd; /* read end of the capture pipe, or -1 */
	char *output;	/* what was captured so far, NUL-terminated */
	size_t output_len;
	bool output_truncated; /* more than DBOPS_PROCESS_CAPTURE_MAX arrived */
	bool exited;
	int status; /* waitpid status once exited */
};

#define DBOPS_PROCESS_CAPTURE_MAX (4u << 20)

/*
 * Start a child. stdin is /dev/null. Its environment is ours less the
 * passwords libpq and the MariaDB client take from it (PGPASSWORD,
 * MYSQL_PWD): no child needs them, and a server would keep them, readable
 * by its user, for its life. Returns 0, or -1 with errno set when
 * the program could not be started at all (not found: ENOENT, not
 * executable: EACCES, the drop to opts->user refused: EPERM, ...); a child
 * that started and failed later shows in its exit status instead.
 */
int dbops_process_spawn(const struct dbops_spawn_opts *opts,
			struct dbops_process *proc);

/*
 * Wait up to TIMEOUT_MS (negative: forever) for the child to exit, reading
 * its captured output meanwhile. Returns 0 when it exited (proc->status),
 * 1 on timeout (the child still runs), -1 on error.
 */
int dbops_process_wait(struct dbops_process *proc, int timeout_ms);

/*
 * Stop the child's whole process group: SIGTERM, then SIGKILL after
 * GRACE_MS, and reap it. Returns 0 once it is gone.
 */
int dbops_process_kill(struct dbops_process *proc, int grace_ms);

/* Remove the password variables (PGPASSWORD, MYSQL_PWD), which no child of
   ours is given, from our own environment: for a program run by exec() in
   our place. */
void dbops_process_forget_secrets(void);

/* Release what dbops_process_spawn() allocated (not the process). */
void dbops_process_free(struct dbops_process *proc);

/*
 * Run ARGV to completion as USER (NULL: ourselves) with stdout and stderr
 * captured together, for at most TIMEOUT_MS (negative: no limit; on timeout
 * the child's group is killed). On return 0, *output (caller frees) holds
 * what it printed and *status its waitpid status. Returns -1 with errno if
 * it could not be started, ETIMEDOUT if it ran too long (output still set).
 */
int dbops_process_run(const char *const *argv, const struct dbops_user *user,
		      int timeout_ms, char **output, int *status);

/*
 * Describe a waitpid status for a message: "exited with status 1",
 * "was killed by signal 9 (Killed)". Returns buf.
 */
const char *dbops_process_describe_status(int status, char *buf, size_t len);

#endif
