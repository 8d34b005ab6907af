/*
 * instance.c - private database servers: the part every server shares.
 * The drivers (instance_pg.c, instance_mariadb.c) know each server; see
 * instance.h for the directory layout and instance_driver.h for the split.
 *
 * Design notes:
 * 1. The server program is started directly from an argv (postgres, or
 *    mariadbd with a generated option file), not through pg_ctl or
 *    mysqld_safe: pg_ctl would run it through /bin/sh with our paths in a
 *    command string, and we want its exit status and log ourselves.
 * 2. The server runs in a session of its own, so it outlives the tool that
 *    started it (dump-restore up, then later down) and no terminal signal
 *    reaches it. DIR/instance.state lets a later process find it.
 * 3. Ready means: the process still runs, the driver says so (PostgreSQL's
 *    postmaster.pid), and a connect() to the unix socket succeeds.
 * 4. With no port given, a free port is picked by binding to it; another
 *    program can take it before the server does, so an "Address already in
 *    use" start is retried on another port, a few times.
 * 5. A pid read from a state file is trusted only when /proc shows the
 *    driver's server program working in this instance's data directory: a
 *    pid reused after a crash or a reboot is never signalled.
 */
#include "instance_driver.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "fileio.h"
#include "log.h"

#define PORT_RETRIES  5
#define EXCERPT_LINES 4

const char *dbops_server_name(const struct dbops_server_driver *driver)
{
	return driver->name;
}

bool dbops_instance_socket_fits(const char *dir, const char *name)
{
	struct sockaddr_un sa;

	return strlen(dir) + 1 + strlen(name) < sizeof(sa.sun_path);
}

bool dbops_instance_executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	       access(path, X_OK) == 0;
}

/*
 * Report a failed start: the error line carries the most telling log line,
 * detail lines the others. WHAT is e.g. "the server exited with status 1".
 */
static void report_start_failure(const struct dbops_instance *inst,
				 const char *log_text, const char *what)
{
	const struct dbops_server_driver *d = inst->driver;
	char lines[EXCERPT_LINES][256];
	bool relevant = false;
	int n = log_text ? dbops_instance_log_excerpt(d, log_text, lines,
						      EXCERPT_LINES, &relevant)
			 : 0;

	dbops_log_error("could not start %s %s in \"%s\": %s", d->name,
			inst->version, inst->dir,
			relevant ? dbops_instance_log_text(d, lines[0]) : what);
	if (relevant)
		dbops_log_detail("%s; server log \"%s\":", what, inst->log);
	else if (n > 0)
		dbops_log_detail("the last lines of server log \"%s\":",
				 inst->log);
	for (int i = 0; i < n; i++)
		dbops_log_detail("  %s", lines[i]);
}

int dbops_instance_run_init(struct dbops_instance *inst,
			    const char *const *argv, int timeout_s)
{
	char how[128], lines[EXCERPT_LINES][256];
	const char *name =
		strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	char *out = NULL;
	bool relevant;
	int status = 0, n;

	if (dbops_process_run(argv, inst->drop ? &inst->user : NULL,
			      timeout_s * 1000, &out, &status) != 0) {
		if (errno != ETIMEDOUT) {
			dbops_log_error("could not run \"%s\": %s", argv[0],
					strerror(errno));
			free(out);
			return -1;
		}
		snprintf(how, sizeof(how), "did not finish within %d s",
			 timeout_s);
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		free(out);
		return 0;
	} else {
		dbops_process_describe_status(status, how, sizeof(how));
	}
	n = dbops_instance_log_excerpt(inst->driver, out ? out : "", lines,
				       EXCERPT_LINES, &relevant);
	dbops_log_error("could not initialise %s data directory \"%s\": %s %s",
			inst->driver->name, inst->datadir, name, how);
	for (int i = 0; i < n; i++)
		dbops_log_detail("  %s", lines[i]);
	free(out);
	return -1;
}

/* --- directories, ports, sockets ---------------------------------------- */

/* Whether the server's user may write and search DIR. */
static int check_usable(const char *dir, const struct dbops_instance *inst)
{
	int err = 0;

	if (inst->drop) {
		if (dbops_user_can_access(&inst->user, dir, W_OK | X_OK,
					  &err) != 0)
			return 0;
	} else if (access(dir, W_OK | X_OK) == 0) {
		return 0;
	} else {
		err = errno;
	}
	dbops_log_error("directory \"%s\" is not accessible to user \"%s\": %s",
			dir, inst->drop ? inst->user.name : "running this tool",
			strerror(err));
	if (inst->drop)
		dbops_log_hint(
			"every parent directory must be searchable by \"%s\" (chmod o+x), e.g. choose a directory under /var/tmp",
			inst->user.name);
	return -1;
}

/*
 * Make DIR 0700 and the server user's when it is missing. One that exists
 * is left as its owner set it (it may be the user's own --root), but the
 * server's user must be able to use it.
 */
static int prepare_dir(const char *dir, struct dbops_instance *inst)
{
	struct stat st;

	if (mkdir(dir, 0700) == 0) {
		if (chmod(dir, 0700) != 0 ||
		    (inst->drop && dbops_user_chown(&inst->user, dir) != 0)) {
			dbops_log_error(
				"could not set owner and mode of \"%s\": %s",
				dir, strerror(errno));
			return -1;
		}
	} else if (errno != EEXIST) {
		dbops_log_error("could not create directory \"%s\": %s", dir,
				strerror(errno));
		return -1;
	}
	if (stat(dir, &st) != 0) {
		dbops_log_error("could not use directory \"%s\": %s", dir,
				strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		dbops_log_error(
			"could not use directory \"%s\": not a directory", dir);
		return -1;
	}
	return check_usable(dir, inst);
}

static bool port_free(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	if (fd < 0)
		return false;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	ok = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

/* A port no one listens on: from BASE up, or one the kernel picks. */
static int pick_port(int base, int skip_below)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int port = 0, fd;

	if (base > 0) {
		for (int p = base > skip_below ? base : skip_below; p < 65536;
		     p++)
			if (port_free(p))
				return p;
		return 0;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* Socket directory: DIR itself, or a short private one when DIR is deep. */
static int prepare_socket_dir(struct dbops_instance *inst)
{
	if (dbops_instance_socket_fits(inst->dir, inst->driver->socket_probe)) {
		snprintf(inst->socket_dir, sizeof(inst->socket_dir), "%s",
			 inst->dir);
		return 0;
	}
	snprintf(inst->socket_dir, sizeof(inst->socket_dir),
		 "/tmp/dbops-XXXXXX");
	if (mkdtemp(inst->socket_dir) == NULL ||
	    (inst->drop && dbops_user_chown(&inst->user, inst->socket_dir))) {
		dbops_log_error(
			"could not create a socket directory in /tmp: %s",
			strerror(errno));
		return -1;
	}
	inst->own_socket_dir = true;
	return 0;
}

static void remove_socket_dir(struct dbops_instance *inst)
{
	char path[PATH_MAX + 32];

	if (!inst->own_socket_dir)
		return;
	/* A server killed hard leaves its socket (and lock) behind. */
	unlink(inst->socket);
	snprintf(path, sizeof(path), "%s.lock", inst->socket);
	unlink(path);
	rmdir(inst->socket_dir);
	inst->own_socket_dir = false;
}

static bool socket_accepts(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	if (fd < 0 || strlen(path) >= sizeof(sa.sun_path)) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

void dbops_instance_clear(struct dbops_instance *inst)
{
	memset(inst, 0, sizeof(*inst));
	inst->proc.pid = -1;
	inst->proc.capture_fd = -1;
}

/* --- running ------------------------------------------------------------- */

/* Whether PID is alive and not a zombie (our own child may be one). */
static bool pid_alive(pid_t pid)
{
	char path[64], buf[512], *paren;
	FILE *f;
	size_t n;

	if (pid <= 0 || (kill(pid, 0) != 0 && errno == ESRCH))
		return false;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (f == NULL)
		return true;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	paren = strrchr(buf, ')');
	return !(paren != NULL && paren[1] == ' ' && paren[2] == 'Z');
}

/* Whether PID runs one of the driver's server programs. */
static bool pid_runs_server(const struct dbops_instance *inst)
{
	char path[64], comm[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)inst->pid);
	f = fopen(path, "re");
	if (f == NULL)
		return false;
	if (fgets(comm, sizeof(comm), f) == NULL)
		comm[0] = '\0';
	fclose(f);
	comm[strcspn(comm, "\n")] = '\0';
	for (int i = 0; inst->driver->programs[i] != NULL; i++)
		if (strcmp(comm, inst->driver->programs[i]) == 0)
			return true;
	return false;
}

/*
 * Whether PID works in INST's data directory: both servers chdir() there.
 * When /proc does not let us see (another user's process, hidepid), the
 * program name has to do.
 */
static bool pid_in_datadir(const struct dbops_instance *inst)
{
	char link[64], cwd[PATH_MAX], data[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/cwd", (int)inst->pid);
	n = readlink(link, cwd, sizeof(cwd) - 1);
	if (n < 0)
		return errno == EACCES || errno == EPERM;
	cwd[n] = '\0';
	if (realpath(inst->datadir, data) == NULL)
		return false;
	return strcmp(cwd, data) == 0;
}

bool dbops_instance_running(const struct dbops_instance *inst)
{
	if (inst->proc.pid > 0 && inst->proc.exited)
		return false;
	return pid_alive(inst->pid) && pid_runs_server(inst) &&
	       pid_in_datadir(inst);
}

static bool initialised(const struct dbops_instance *inst)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/%s", inst->datadir,
		 inst->driver->datadir_marker);
	return access(path, F_OK) == 0;
}

/*
 * Wait until the server takes connections, it exits, or the deadline
 * passes. 0 ready, 1 exited, -1 timed out (the server killed).
 */
static int wait_ready(struct dbops_instance *inst, int64_t deadline)
{
	for (;;) {
		if (dbops_process_wait(&inst->proc, 0) == 0)
			return 1;
		if ((inst->driver->ready == NULL ||
		     inst->driver->ready(inst)) &&
		    socket_accepts(inst->socket))
			return 0;
		if (dbops_clock_passed(deadline)) {
			dbops_process_kill(&inst->proc, 5000);
			return -1;
		}
		dbops_clock_sleep_ms(20);
	}
}

/* Start the server program once; 0 ready, 1 port taken (retry), -1 failed. */
static int launch(const struct dbops_instance_opts *opts,
		  struct dbops_instance *inst, int timeout_s, bool may_retry)
{
	struct dbops_server_argv a;
	struct stat st;
	off_t log_start = stat(inst->log, &st) == 0 ? st.st_size : 0;
	int64_t deadline = dbops_clock_ms() + timeout_s * 1000LL;
	char how[128], status[96], *log_text;
	int rc;

	inst->driver->server_argv(opts, inst, &a);
	struct dbops_spawn_opts spawn = {
		.argv = a.argv,
		.user = inst->drop ? &inst->user : NULL,
		.out = DBOPS_STDIO_FILE,
		.err = DBOPS_STDIO_FILE,
		.log_path = inst->log,
		.new_session = true,
	};
	if (dbops_process_spawn(&spawn, &inst->proc) != 0) {
		dbops_log_error("could not run \"%s\": %s", inst->program,
				strerror(errno));
		return -1;
	}
	inst->pid = inst->proc.pid;
	if (opts->no_wait)
		return 0;
	rc = wait_ready(inst, deadline);
	if (rc == 0)
		return 0;
	log_text = dbops_instance_log_tail(inst->log, log_start);
	if (rc > 0 && may_retry && log_text &&
	    strstr(log_text, "Address already in use")) {
		free(log_text);
		dbops_process_free(&inst->proc);
		return 1;
	}
	if (rc < 0)
		snprintf(how, sizeof(how),
			 "the server did not accept connections within %d s",
			 timeout_s);
	else
		snprintf(how, sizeof(how), "the server %s",
			 dbops_process_describe_status(inst->proc.status,
						       status, sizeof(status)));
	report_start_failure(inst, log_text, how);
	if (log_text && strstr(log_text, "Address already in use"))
		dbops_log_hint(
			"port %d is in use; choose another port or stop the server that holds it",
			inst->port);
	free(log_text);
	return -1;
}

/* PATH made absolute into BUF: servers do not run in our directory. */
static int absolute(const char *path, char *buf, size_t len)
{
	char cwd[PATH_MAX];

	if (path[0] == '/') {
		snprintf(buf, len, "%s", path);
		return 0;
	}
	if (getcwd(cwd, sizeof(cwd)) == NULL) {
		dbops_log_error("could not find the current directory: %s",
				strerror(errno));
		return -1;
	}
	snprintf(buf, len, "%.*s/%.*s", PATH_MAX / 2, cwd, PATH_MAX / 2 - 8,
		 path);
	return 0;
}

static int init_instance(const struct dbops_instance_opts *opts,
			 struct dbops_instance *inst)
{
	const struct dbops_server_driver *d = opts->driver;
	const char *user_name = opts->run_as ? opts->run_as : d->system_user;

	dbops_instance_clear(inst);
	inst->driver = d;
	if (opts->dir == NULL || opts->dir[0] == '\0') {
		dbops_log_error("no directory given for the %s instance",
				d->name);
		return -1;
	}
	/* Paths built from these must not reach PATH_MAX. */
	if (strlen(opts->dir) > PATH_MAX / 2 - 64 ||
	    (opts->datadir && strlen(opts->datadir) > PATH_MAX / 2 - 64)) {
		dbops_log_error("directory path too long: \"%.60s...\"",
				opts->dir);
		return -1;
	}
	if (absolute(opts->dir, inst->dir, sizeof(inst->dir)) != 0)
		return -1;
	if (opts->datadir != NULL) {
		if (absolute(opts->datadir, inst->datadir,
			     sizeof(inst->datadir)) != 0)
			return -1;
	} else {
		snprintf(inst->datadir, sizeof(inst->datadir), "%.*s/data",
			 PATH_MAX / 2, inst->dir);
	}
	snprintf(inst->log, sizeof(inst->log), "%.*s/server.log", PATH_MAX / 2,
		 inst->dir);
	if (d->admin_user(inst) != 0)
		return -1;
	if (dbops_user_for_server(user_name, &inst->user, &inst->drop) != 0) {
		dbops_log_error(
			"could not run the %s server as user \"%s\": %s",
			d->name, user_name,
			errno == ENOENT	 ? "no such user"
			: errno == E2BIG ? "in more groups than we keep"
					 : strerror(errno));
		dbops_log_hint(
			"run as another user than root, or install the server package that creates \"%s\"",
			user_name);
		return -1;
	}
	return 0;
}

/* Everything before the first launch; 0, or -1 reported. */
static int prepare(const struct dbops_instance_opts *opts,
		   struct dbops_instance *inst, int timeout_s)
{
	const struct dbops_server_driver *d = opts->driver;
	char tmpdir[PATH_MAX + 16];

	if (init_instance(opts, inst) != 0 || prepare_dir(inst->dir, inst) != 0)
		return -1;
	if (opts->datadir != NULL && !initialised(inst)) {
		dbops_log_error(
			"\"%s\" is not a %s data directory: no %s in it",
			inst->datadir, d->name, d->datadir_marker);
		return -1;
	}
	if (d->find_programs(opts, inst) != 0)
		return -1;
	if (d->configure != NULL) {
		/* The drivers that write a configuration give it a tmpdir. */
		snprintf(tmpdir, sizeof(tmpdir), "%s/tmp", inst->dir);
		if (prepare_dir(tmpdir, inst) != 0)
			return -1;
	}
	if (!initialised(inst) && d->init_datadir(opts, inst, timeout_s) != 0)
		return -1;
	return prepare_socket_dir(inst);
}

/* Launch on a port, another one while the port was taken; 0, or -1. */
static int launch_on_a_port(const struct dbops_instance_opts *opts,
			    struct dbops_instance *inst, int timeout_s)
{
	int rc = -1;

	for (int attempt = 0, last = 0; attempt < PORT_RETRIES; attempt++) {
		inst->port = opts->port > 0
				     ? opts->port
				     : pick_port(opts->port_base, last + 1);
		if (inst->port == 0) {
			dbops_log_error(
				"no free TCP port on 127.0.0.1 from %d up",
				opts->port_base);
			return -1;
		}
		last = inst->port;
		inst->driver->socket_path(inst);
		if (inst->driver->configure != NULL &&
		    inst->driver->configure(opts, inst) != 0)
			return -1;
		rc = launch(opts, inst, timeout_s,
			    opts->port == 0 && attempt + 1 < PORT_RETRIES);
		if (rc != 1)
			return rc;
		dbops_log_debug(
			"port %d was taken before the server bound it; trying another",
			inst->port);
	}
	return rc;
}

int dbops_instance_start(const struct dbops_instance_opts *opts,
			 struct dbops_instance *inst)
{
	int timeout_s = opts->timeout_s > 0 ? opts->timeout_s : 60;
	int rc = prepare(opts, inst, timeout_s);

	if (rc == 0)
		rc = launch_on_a_port(opts, inst, timeout_s);
	if (rc == 0 && dbops_instance_write_state(inst) != 0) {
		dbops_instance_stop(inst, timeout_s);
		rc = -1;
	}
	if (rc != 0) {
		remove_socket_dir(inst);
		dbops_process_free(&inst->proc);
		return -1;
	}
	return 0;
}

/* Wait for the server to be gone; true if it went within TIMEOUT_MS. */
static bool wait_gone(struct dbops_instance *inst, int timeout_ms)
{
	int64_t deadline = dbops_clock_ms() + timeout_ms;

	for (;;) {
		if (inst->proc.pid > 0) {
			if (dbops_process_wait(&inst->proc, 0) == 0)
				return true;
		} else if (!pid_alive(inst->pid)) {
			return true;
		}
		if (dbops_clock_passed(deadline))
			return false;
		dbops_clock_sleep_ms(20);
	}
}

int dbops_instance_stop(struct dbops_instance *inst, int timeout_s)
{
	char path[PATH_MAX + 32];
	int rc = 0;

	if (timeout_s <= 0)
		timeout_s = 60;
	if (dbops_instance_running(inst)) {
		kill(inst->pid, inst->driver->stop_signal);
		if (!wait_gone(inst, timeout_s * 1000)) {
			kill(-inst->pid, SIGKILL);
			kill(inst->pid, SIGKILL);
			wait_gone(inst, 5000);
			dbops_log_error(
				"%s in \"%s\" (pid %d) did not stop within %d s; killed it",
				inst->driver->name, inst->dir, (int)inst->pid,
				timeout_s);
			rc = -1;
		}
	}
	remove_socket_dir(inst);
	snprintf(path, sizeof(path), "%s/" STATE_FILE, inst->dir);
	unlink(path);
	dbops_process_free(&inst->proc);
	inst->pid = 0;
	return rc;
}
