/*
 * procs.c - the processes working on a world's directory, and stopping
 * them. See procs.h.
 */
#include "procs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "xalloc.h"

#define ARGS_MAX      32
#define CMDLINE_MAX   16384
#define SIGNALLED_MAX 64

/* A process signalled to stop, told from a later one given its pid. */
struct signalled {
	pid_t pid;
	unsigned long long start;
};

static bool is_server(const char *comm)
{
	return strcmp(comm, "mariadbd") == 0 || strcmp(comm, "mysqld") == 0;
}

/* /proc/PID/comm is cut at 15 bytes: "mariadb-install-db" is cut too. */
static bool is_install_script(const char *comm)
{
	return strncmp(comm, "mariadb-install", 15) == 0 ||
	       strncmp(comm, "mysql_install_d", 15) == 0;
}

/* Whether ARG is "--NAME=" followed by exactly WANT. */
static bool option_is(const char *arg, const char *name, const char *want)
{
	size_t n = strlen(name);

	return strncmp(arg, "--", 2) == 0 && strncmp(arg + 2, name, n) == 0 &&
	       arg[2 + n] == '=' && strcmp(arg + 3 + n, want) == 0;
}

int dr_procs_match(const char *realdir, const char *comm, const char *cwd,
		   const char *const *argv, int argc)
{
	char data[PATH_MAX + 8], cnf[PATH_MAX + 8];
	bool server = is_server(comm);

	if (!server && !is_install_script(comm))
		return 0;
	snprintf(data, sizeof(data), "%s/data", realdir);
	snprintf(cnf, sizeof(cnf), "%s/my.cnf", realdir);
	if (server && strcmp(cwd, data) == 0)
		return 1;
	for (int i = 0; i < argc; i++)
		if (option_is(argv[i], "datadir", data) ||
		    option_is(argv[i], "defaults-file", cnf))
			return server ? 1 : 2;
	return 0;
}

/* PATH resolved, also when its last part does not exist yet; or as is. */
static void resolve(const char *path, char *buf, size_t len)
{
	char dir[PATH_MAX], real[PATH_MAX];
	const char *slash = strrchr(path, '/');

	if (realpath(path, real) != NULL) {
		snprintf(buf, len, "%s", real);
		return;
	}
	if (slash != NULL && slash != path &&
	    (size_t)(slash - path) < sizeof(dir)) {
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
		if (realpath(dir, real) != NULL) {
			snprintf(buf, len, "%s%s", real, slash);
			return;
		}
	}
	snprintf(buf, len, "%s", path);
}

/* A /proc/PID file into BUF (NUL-terminated); its length, or -1. */
static ssize_t read_proc(pid_t pid, const char *name, char *buf, size_t len)
{
	char path[64];
	ssize_t n, total = 0;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while ((size_t)total + 1 < len &&
	       (n = read(fd, buf + total, len - 1 - (size_t)total)) > 0)
		total += n;
	close(fd);
	buf[total] = '\0';
	return total;
}

/*
 * The argv of PID, its --datadir and --defaults-file values resolved, into
 * ARGS (texts in STORE). Returns how many.
 */
static int proc_args(pid_t pid, char (*store)[PATH_MAX + 32], const char **args)
{
	char *cmdline = dbops_xmalloc(CMDLINE_MAX);
	ssize_t len = read_proc(pid, "cmdline", cmdline, CMDLINE_MAX);
	int argc = 0;

	for (ssize_t i = 0; len > 0 && i < len && argc < ARGS_MAX;
	     i += (ssize_t)strlen(cmdline + i) + 1) {
		const char *a = cmdline + i, *eq = strchr(a, '=');
		char value[PATH_MAX];

		if (eq && (strncmp(a, "--datadir=", 10) == 0 ||
			   strncmp(a, "--defaults-file=", 16) == 0)) {
			resolve(eq + 1, value, sizeof(value));
			snprintf(store[argc], sizeof(store[argc]), "%.*s=%s",
				 (int)(eq - a), a, value);
		} else {
			snprintf(store[argc], sizeof(store[argc]), "%s", a);
		}
		args[argc] = store[argc];
		argc++;
	}
	free(cmdline);
	return argc;
}

/* Whether PID works on REALDIR: 1 server, 2 install script, 0 not. */
static int proc_matches(pid_t pid, const char *realdir)
{
	char(*store)[PATH_MAX + 32];
	const char *args[ARGS_MAX];
	char comm[64], link[64], cwd[PATH_MAX] = "";
	ssize_t n;
	int kind;

	if (read_proc(pid, "comm", comm, sizeof(comm)) <= 0)
		return 0;
	comm[strcspn(comm, "\n")] = '\0';
	if (!is_server(comm) && !is_install_script(comm))
		return 0;
	snprintf(link, sizeof(link), "/proc/%d/cwd", (int)pid);
	n = readlink(link, cwd, sizeof(cwd) - 1);
	cwd[n > 0 ? n : 0] = '\0';
	store = dbops_xcalloc(ARGS_MAX, sizeof(*store));
	kind = dr_procs_match(realdir, comm, cwd, args,
			      proc_args(pid, store, args));
	free(store);
	return kind;
}

int dr_procs_find(const char *dir, struct dr_proc *procs)
{
	char realdir[PATH_MAX];
	struct dirent *e;
	DIR *d;
	int n = 0;

	if (realpath(dir, realdir) == NULL || (d = opendir("/proc")) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL && n < DR_PROCS_MAX) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		int kind;

		if (*end != '\0' || pid <= 0 || pid == (long)getpid())
			continue;
		kind = proc_matches((pid_t)pid, realdir);
		if (kind == 0)
			continue;
		procs[n].pid = (pid_t)pid;
		procs[n].server = kind == 1;
		n++;
	}
	closedir(d);
	return n;
}

/* PID's state letter and start time (/proc/PID/stat's 3rd and 22nd
   fields; the start time tells it from a later process given the same
   pid); false when it has no stat to read. */
static bool proc_stat(pid_t pid, char *state, unsigned long long *start)
{
	char stat[1024];
	const char *p;

	if (read_proc(pid, "stat", stat, sizeof(stat)) <= 0 ||
	    (p = strrchr(stat, ')')) == NULL || p[1] != ' ')
		return false;
	*state = p[2];
	/* The fields after the command's ")" start with the 3rd: the 22nd
	   is 19 spaces on. */
	for (int field = 2; field < 22 && p != NULL; field++)
		p = strchr(p + 1, ' ');
	*start = p != NULL ? strtoull(p + 1, NULL, 10) : 0;
	return true;
}

/* Whether the process P (as signalled) still exists: not exited, not a
   zombie, its pid not taken by another since. */
static bool still_exists(const struct signalled *p)
{
	unsigned long long start;
	char state;

	return proc_stat(p->pid, &state, &start) && state != 'Z' &&
	       state != 'X' && start == p->start;
}

/* Remember P among the N of SEEN (once); the new count. */
static int remember(struct signalled *seen, int n, pid_t pid)
{
	char state;

	for (int i = 0; i < n; i++)
		if (seen[i].pid == pid)
			return n;
	if (n == SIGNALLED_MAX)
		return n;
	if (!proc_stat(pid, &state, &seen[n].start))
		return n; /* gone already */
	seen[n].pid = pid;
	return n + 1;
}

/* The first of the N of SEEN that still exists, or NULL. */
static const struct signalled *any_left(const struct signalled *seen, int n)
{
	for (int i = 0; i < n; i++)
		if (still_exists(&seen[i]))
			return &seen[i];
	return NULL;
}

/*
 * A process that SIGKILL is ending no longer shows its command line or
 * working directory, so it stops matching DIR before it is gone (a server
 * freeing a large buffer pool or waiting for its disk can take seconds):
 * each process signalled is also waited for by its pid until it has
 * exited.
 */
int dr_procs_stop(const char *dir, int timeout_s, struct dbops_err *err)
{
	struct dr_proc p[DR_PROCS_MAX];
	struct signalled seen[SIGNALLED_MAX];
	const struct signalled *left;
	int64_t term_deadline = dbops_clock_ms() + timeout_s * 1000LL;
	int64_t kill_deadline = term_deadline + 10000;
	int n, nseen = 0, empty = 0;

	for (;;) {
		n = dr_procs_find(dir, p);
		if (n == 0 && ++empty >= 2 && any_left(seen, nseen) == NULL)
			return 0;
		if (n > 0)
			empty = 0;
		if (dbops_clock_passed(kill_deadline))
			break;
		for (int i = 0; i < n; i++) {
			nseen = remember(seen, nseen, p[i].pid);
			kill(p[i].pid,
			     !p[i].server || dbops_clock_passed(term_deadline)
				     ? SIGKILL
				     : SIGTERM);
		}
		dbops_clock_sleep_ms(100);
	}
	if (n == 0) {
		left = any_left(seen, nseen);
		if (left == NULL)
			return 0;
		return dbops_err_set(err,
				     "a process it stopped (pid %d) has not"
				     " exited 10 s after SIGKILL",
				     (int)left->pid);
	}
	return dbops_err_set(err,
			     "%s (pid %d) still runs on \"%s\" after SIGKILL",
			     p[0].server ? "its server" : "its install script",
			     (int)p[0].pid, dir);
}
