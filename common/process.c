/*
 * process.c - spawn programs from an argv, capture their output, wait with a
 * timeout, kill their process group, drop to a system user. See process.h.
 *
 * The child side of fork() only calls async-signal-safe functions, since
 * the tools that use this are threaded (parallel loaders): the user's
 * groups are looked up before fork(), and a failure before exec reaches the
 * parent as an errno over a close-on-exec pipe.
 */
#include "clock.h"
#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int dbops_user_lookup(const char *name, struct dbops_user *user)
{
	struct passwd pw, *found = NULL;
	char buf[4096];
	int rc, n;

	memset(user, 0, sizeof(*user));
	rc = getpwnam_r(name, &pw, buf, sizeof(buf), &found);
	if (rc != 0) {
		errno = rc;
		return -1;
	}
	if (found == NULL) {
		errno = ENOENT;
		return -1;
	}
	snprintf(user->name, sizeof(user->name), "%s", pw.pw_name);
	snprintf(user->home, sizeof(user->home), "%s", pw.pw_dir);
	user->uid = pw.pw_uid;
	user->gid = pw.pw_gid;
	n = (int)(sizeof(user->groups) / sizeof(user->groups[0]));
	/* A server that lost a group (ssl-cert, say) would fail later and
	 * obscurely: refuse now instead. */
	if (getgrouplist(pw.pw_name, pw.pw_gid, user->groups, &n) < 0) {
		errno = E2BIG;
		return -1;
	}
	user->ngroups = n;
	return 0;
}

int dbops_user_for_server(const char *name, struct dbops_user *user, bool *drop)
{
	*drop = false;
	if (geteuid() != 0)
		return 0;
	if (dbops_user_lookup(name, user) != 0)
		return -1;
	*drop = true;
	return 0;
}

int dbops_user_chown(const struct dbops_user *user, const char *path)
{
	if (user == NULL || geteuid() != 0)
		return 0;
	return chown(path, user->uid, user->gid);
}

/* In the child: take on USER's identity for good. */
static int become_user(const struct dbops_user *user)
{
	if (setgroups((size_t)user->ngroups, user->groups) != 0)
		return -1;
	if (setgid(user->gid) != 0 || setuid(user->uid) != 0)
		return -1;
	/* Dropping must be irreversible. */
	if (user->uid != 0 && setuid(0) == 0) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

int dbops_user_can_access(const struct dbops_user *user, const char *path,
			  int mode, int *err)
{
	int pipefd[2], status, answer = -1;
	ssize_t n;
	pid_t pid;

	*err = 0;
	/* The answer comes over a pipe, not in the exit status, which a
	 * wrapper such as valgrind may change. */
	if (pipe2(pipefd, O_CLOEXEC) != 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return -1;
	}
	if (pid == 0) {
		int e = become_user(user) != 0	  ? -1
			: access(path, mode) == 0 ? 0
						  : errno;

		if (write(pipefd[1], &e, sizeof(e)) != (ssize_t)sizeof(e))
			_exit(1);
		_exit(0);
	}
	close(pipefd[1]);
	do
		n = read(pipefd[0], &answer, sizeof(answer));
	while (n < 0 && errno == EINTR);
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			break;
	if (n != (ssize_t)sizeof(answer) || answer < 0)
		return -1;
	*err = answer;
	return answer == 0 ? 1 : 0;
}

/* In the child: point FD at what opts says. */
static int setup_stream(int fd, enum dbops_stdio how, int capture_w, int log_fd,
			int null_fd)
{
	switch (how) {
	case DBOPS_STDIO_INHERIT:
		return 0;
	case DBOPS_STDIO_NULL:
		return dup2(null_fd, fd) < 0 ? -1 : 0;
	case DBOPS_STDIO_CAPTURE:
		return dup2(capture_w, fd) < 0 ? -1 : 0;
	case DBOPS_STDIO_FILE:
		return dup2(log_fd, fd) < 0 ? -1 : 0;
	}
	return -1;
}

static void reset_signals(void)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
}

extern char **environ;

/* Passwords given to us through the environment: no child needs them, and
 * a server keeps its environment, readable by its user, for its life. */
static const char *const secret_names[] = { "PGPASSWORD", "MYSQL_PWD" };
#define SECRET_COUNT (sizeof(secret_names) / sizeof(secret_names[0]))

static bool secret_variable(const char *entry)
{
	for (size_t i = 0; i < SECRET_COUNT; i++) {
		size_t n = strlen(secret_names[i]);

		if (strncmp(entry, secret_names[i], n) == 0 && entry[n] == '=')
			return true;
	}
	return false;
}

void dbops_process_forget_secrets(void)
{
	for (size_t i = 0; i < SECRET_COUNT; i++)
		unsetenv(secret_names[i]);
}

/* Our environment less the secret variables, for the child: made before
 * fork(), as the child of a threaded process may not allocate. */
static char **child_environment(void)
{
	size_t n = 0, k = 0;
	char **env;

	while (environ != NULL && environ[n] != NULL)
		n++;
	env = calloc(n + 1, sizeof(*env));
	if (env == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!secret_variable(environ[i]))
			env[k++] = environ[i];
	return env;
}

/* The child, after fork(): never returns. */
static void __attribute__((noreturn))
child_exec(const struct dbops_spawn_opts *opts, char **env, int report_w,
	   int capture_w)
{
	int saved, null_fd, log_fd = -1;

	if (opts->new_session ? setsid() < 0 : setpgid(0, 0) < 0)
		goto fail;
	reset_signals();
	if (opts->user != NULL && become_user(opts->user) != 0)
		goto fail;
	if (opts->cwd != NULL && chdir(opts->cwd) != 0)
		goto fail;
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0)
		goto fail;
	if (opts->out == DBOPS_STDIO_FILE || opts->err == DBOPS_STDIO_FILE) {
		log_fd = open(opts->log_path,
			      O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (log_fd < 0)
			goto fail;
	}
	if (setup_stream(STDOUT_FILENO, opts->out, capture_w, log_fd,
			 null_fd) ||
	    setup_stream(STDERR_FILENO, opts->err, capture_w, log_fd, null_fd))
		goto fail;
	execvpe(opts->argv[0], (char *const *)opts->argv, env);
fail:
	saved = errno;
	if (write(report_w, &saved, sizeof(saved)) < 0) {
		/* The parent sees a short read and reports EIO. */
	}
	_exit(127);
}

int dbops_process_spawn(const struct dbops_spawn_opts *opts,
			struct dbops_process *proc)
{
	int report[2], capture[2] = { -1, -1 };
	bool capturing = opts->out == DBOPS_STDIO_CAPTURE ||
			 opts->err == DBOPS_STDIO_CAPTURE;
	int child_errno = 0, status;
	char **env = NULL;
	ssize_t n;
	pid_t pid;

	memset(proc, 0, sizeof(*proc));
	proc->capture_fd = -1;
	proc->pid = -1;
	if (opts->argv == NULL || opts->argv[0] == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (pipe2(report, O_CLOEXEC) != 0)
		return -1;
	if (capturing && pipe2(capture, O_CLOEXEC) != 0)
		goto fail_pipes;
	proc->output = calloc(1, 1);
	env = child_environment();
	if (proc->output == NULL || env == NULL)
		goto fail_pipes;

	pid = fork();
	if (pid < 0)
		goto fail_pipes;
	if (pid == 0)
		child_exec(opts, env, report[1], capture[1]);
	free(env);
	env = NULL;

	if (!opts->new_session)
		setpgid(pid, pid); /* also here: no race with an early kill */
	close(report[1]);
	if (capturing)
		close(capture[1]);
	do
		n = read(report[0], &child_errno, sizeof(child_errno));
	while (n < 0 && errno == EINTR);
	close(report[0]);
	proc->pid = pid;
	proc->capture_fd = capturing ? capture[0] : -1;
	if (n == 0)
		return 0;

	/* It never reached exec: reap it and report why. */
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	dbops_process_free(proc);
	proc->pid = -1;
	errno = n == (ssize_t)sizeof(child_errno) ? child_errno : EIO;
	return -1;

fail_pipes:
	child_errno = errno;
	free(env);
	close(report[0]);
	close(report[1]);
	if (capture[0] >= 0) {
		close(capture[0]);
		close(capture[1]);
	}
	free(proc->output);
	proc->output = NULL;
	errno = child_errno;
	return -1;
}

/* Read what is there on the capture pipe; closes it at end of file. */
static void read_capture(struct dbops_process *proc)
{
	char buf[65536];
	ssize_t n = read(proc->capture_fd, buf, sizeof(buf));
	size_t keep;
	char *grown;

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		close(proc->capture_fd);
		proc->capture_fd = -1;
		return;
	}
	keep = (size_t)n;
	if (proc->output_len + keep > DBOPS_PROCESS_CAPTURE_MAX) {
		keep = DBOPS_PROCESS_CAPTURE_MAX - proc->output_len;
		proc->output_truncated = true;
	}
	if (keep == 0)
		return;
	grown = realloc(proc->output, proc->output_len + keep + 1);
	if (grown == NULL) {
		proc->output_truncated = true;
		return;
	}
	memcpy(grown + proc->output_len, buf, keep);
	proc->output = grown;
	proc->output_len += keep;
	proc->output[proc->output_len] = '\0';
}

static bool reap(struct dbops_process *proc)
{
	pid_t r;

	if (proc->exited)
		return true;
	do
		r = waitpid(proc->pid, &proc->status, WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r == proc->pid || (r < 0 && errno == ECHILD))
		proc->exited = true;
	return proc->exited;
}

int dbops_process_wait(struct dbops_process *proc, int timeout_ms)
{
	int64_t deadline = dbops_clock_ms() + timeout_ms;
	int nap = 1;

	if (proc->pid <= 0) {
		errno = ECHILD;
		return -1;
	}
	for (;;) {
		long long left =
			timeout_ms < 0 ? 50 : deadline - dbops_clock_ms();
		int slice = left < 50 ? (int)(left > 0 ? left : 0) : 50;

		if (proc->capture_fd >= 0) {
			struct pollfd p = { proc->capture_fd, POLLIN, 0 };

			/* Once it exited, only drain what is already there:
			 * a grandchild may hold the pipe open for long. */
			if (poll(&p, 1, proc->exited ? 0 : slice) > 0)
				read_capture(proc);
			else if (proc->exited) {
				close(proc->capture_fd);
				proc->capture_fd = -1;
			}
		} else if (!reap(proc)) {
			/* Nothing to read: back off from 1 ms to 32 ms. */
			dbops_clock_sleep_ms(nap < slice ? nap : slice);
			if (nap < 32)
				nap *= 2;
		}
		if (reap(proc) && proc->capture_fd < 0)
			return 0;
		if (timeout_ms >= 0 && dbops_clock_ms() >= deadline)
			return 1;
	}
}

int dbops_process_kill(struct dbops_process *proc, int grace_ms)
{
	if (proc->pid <= 0 || reap(proc))
		return 0;
	if (kill(-proc->pid, SIGTERM) != 0)
		kill(proc->pid, SIGTERM);
	if (dbops_process_wait(proc, grace_ms) == 0)
		return 0;
	if (kill(-proc->pid, SIGKILL) != 0)
		kill(proc->pid, SIGKILL);
	return dbops_process_wait(proc, -1) == 0 ? 0 : -1;
}

void dbops_process_free(struct dbops_process *proc)
{
	if (proc->capture_fd >= 0)
		close(proc->capture_fd);
	proc->capture_fd = -1;
	free(proc->output);
	proc->output = NULL;
	proc->output_len = 0;
}

int dbops_process_run(const char *const *argv, const struct dbops_user *user,
		      int timeout_ms, char **output, int *status)
{
	struct dbops_spawn_opts opts = {
		.argv = argv,
		.user = user,
		.out = DBOPS_STDIO_CAPTURE,
		.err = DBOPS_STDIO_CAPTURE,
	};
	struct dbops_process proc;
	int rc;

	*output = NULL;
	if (dbops_process_spawn(&opts, &proc) != 0)
		return -1;
	rc = dbops_process_wait(&proc, timeout_ms);
	if (rc == 1)
		dbops_process_kill(&proc, 2000);
	*status = proc.status;
	*output = proc.output;
	proc.output = NULL;
	dbops_process_free(&proc);
	if (rc == 1) {
		errno = ETIMEDOUT;
		return -1;
	}
	return rc;
}

const char *dbops_process_describe_status(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d",
			 WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "was killed by signal %d (%s)",
			 WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(buf, len, "stopped with wait status %d", status);
	return buf;
}
