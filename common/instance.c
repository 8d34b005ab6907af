/*
 * instance.c - private PostgreSQL and MariaDB servers. See instance.h for
 * the directory layout.
 *
 * Design notes:
 * 1. The server program is started directly from an argv (postgres, or
 *    mariadbd with a generated option file), not through pg_ctl or
 *    mysqld_safe: pg_ctl would run it through /bin/sh with our paths in a
 *    command string, and we want its exit status and log ourselves.
 * 2. The server runs in a session of its own, so it outlives the tool that
 *    started it (dump-restore up, then later down) and no terminal signal
 *    reaches it. DIR/instance.state lets a later process find it.
 * 3. Ready means: the process still runs, (PostgreSQL) postmaster.pid says
 *    "ready", and a connect() to the unix socket succeeds.
 * 4. With no port given, a free port is picked by binding to it; another
 *    program can take it before the server does, so an "Address already in
 *    use" start is retried on another port, a few times.
 * 5. Every MariaDB instance has its own tmpdir: servers starting at once in
 *    a shared /tmp delete each other's temporary tables.
 */
#include "instance.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

#define PG_LIBDIR      "/usr/lib/postgresql"
#define STATE_FILE     "instance.state"
#define MARIADB_SOCKET "mysqld.sock"
#define PORT_RETRIES   5
#define EXCERPT_LINES  4

/*
 * Format a path. init_instance() refuses directories so long that a path
 * built from them could reach PATH_MAX, so this does not truncate.
 */
static void __attribute__((format(printf, 3, 4)))
path_printf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

const char *dbops_server_name(enum dbops_server server)
{
	return server == DBOPS_SERVER_POSTGRES ? "PostgreSQL" : "MariaDB";
}

bool dbops_instance_socket_fits(const char *dir, const char *name)
{
	struct sockaddr_un sa;

	return strlen(dir) + 1 + strlen(name) < sizeof(sa.sun_path);
}

/* --- reading server logs ------------------------------------------------ */

static const char *const pg_levels[] = { "FATAL:  ", "PANIC:  ",   "ERROR:  ",
					 "LOG:  ",   "WARNING:  ", "DETAIL:  ",
					 "HINT:  ",  NULL };
static const char *const maria_levels[] = { "[ERROR] ", "[Warning] ", "[Note] ",
					    NULL };

/* Where the level word starts in LINE (the time stamp cut off), or NULL. */
static const char *after_timestamp(enum dbops_server server, const char *line,
				   size_t len, const char **level)
{
	const char *const *levels =
		server == DBOPS_SERVER_POSTGRES ? pg_levels : maria_levels;
	const char *best = NULL;

	for (int i = 0; levels[i] != NULL; i++) {
		const char *p = memmem(line, len, levels[i], strlen(levels[i]));

		if (p != NULL && (best == NULL || p < best)) {
			best = p;
			*level = levels[i];
		}
	}
	return best;
}

static bool says_what_failed(const char *text, size_t len)
{
	static const char *const phrases[] = { "could not",
					       "Address already in use",
					       "Permission denied",
					       "No such file", NULL };

	for (int i = 0; phrases[i] != NULL; i++)
		if (memmem(text, len, phrases[i], strlen(phrases[i])) != NULL)
			return true;
	return false;
}

/*
 * Whether a log line explains a failure. PostgreSQL's DETAIL and HINT lines
 * count when the line before them did.
 */
static bool relevant_line(enum dbops_server server, const char *level,
			  const char *text, size_t len, bool previous)
{
	/* Lines printed before logging starts have no level word. */
	if (level == NULL)
		return says_what_failed(text, len);
	if (server == DBOPS_SERVER_MARIADB)
		return strcmp(level, "[ERROR] ") == 0 &&
		       !(len == strlen("[ERROR] Aborting") &&
			 memcmp(text, "[ERROR] Aborting", len) == 0);
	if (!strcmp(level, "FATAL:  ") || !strcmp(level, "PANIC:  ") ||
	    !strcmp(level, "ERROR:  "))
		return true;
	if (!strcmp(level, "DETAIL:  ") || !strcmp(level, "HINT:  "))
		return previous;
	return says_what_failed(text, len);
}

static void copy_line(char *dst, const char *src, size_t len)
{
	if (len > 255)
		len = 255;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

int dbops_instance_log_excerpt(enum dbops_server server, const char *log_text,
			       char (*lines)[256], int max, bool *relevant)
{
	const char *p = log_text;
	int found = 0, fallback = 0;
	bool previous = false;
	/* Ring buffers of line starts: relevant ones and any non-empty ones. */
	const char *rel[16], *any[16];
	size_t rel_len[16], any_len[16];

	if (max > 16)
		max = 16;
	while (*p != '\0') {
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		const char *level = NULL;
		const char *text = after_timestamp(server, p, len, &level);
		size_t tlen = text ? len - (size_t)(text - p) : len;

		if (text == NULL)
			text = p;
		if (relevant_line(server, level, text, tlen, previous)) {
			rel[found % 16] = text;
			rel_len[found % 16] = tlen;
			found++;
			previous = true;
		} else {
			previous = false;
		}
		if (len > 0) {
			any[fallback % 16] = text;
			any_len[fallback % 16] = tlen;
			fallback++;
		}
		p = end ? end + 1 : p + len;
	}

	*relevant = found > 0;
	const char **src = found > 0 ? rel : any;
	size_t *src_len = found > 0 ? rel_len : any_len;
	int total = found > 0 ? found : fallback;
	int n = total < max ? total : max;

	for (int i = 0; i < n; i++) {
		int k = (total - n + i) % 16;

		copy_line(lines[i], src[k], src_len[k]);
	}
	return n;
}

/* The text of a log line without its level word, for a headline. */
static const char *without_level(enum dbops_server server, const char *line)
{
	const char *level = NULL;
	const char *text = after_timestamp(server, line, strlen(line), &level);

	if (text == NULL)
		return line;
	text += strlen(level);
	while (*text == ' ')
		text++;
	return text;
}

/* Read at most the last 64 KiB of PATH from OFFSET on; caller frees. */
static char *read_log_tail(const char *path, off_t offset)
{
	const off_t keep = 65536;
	struct stat st;
	char *text;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0 || st.st_size < offset) {
		close(fd);
		return NULL;
	}
	if (st.st_size - offset > keep)
		offset = st.st_size - keep;
	text = malloc((size_t)(st.st_size - offset) + 1);
	if (text == NULL) {
		close(fd);
		return NULL;
	}
	n = pread(fd, text, (size_t)(st.st_size - offset), offset);
	close(fd);
	text[n > 0 ? n : 0] = '\0';
	return text;
}

/*
 * Report a failed start: the error line carries the most telling log line,
 * detail lines the others. WHAT is e.g. "server exited with status 1".
 */
static void report_start_failure(const struct dbops_instance *inst,
				 const char *log_text, const char *what)
{
	char lines[EXCERPT_LINES][256];
	bool relevant = false;
	int n = log_text ? dbops_instance_log_excerpt(inst->server, log_text,
						      lines, EXCERPT_LINES,
						      &relevant)
			 : 0;

	if (!relevant) {
		dbops_log_error("could not start %s %s in \"%s\": %s",
				dbops_server_name(inst->server), inst->version,
				inst->dir, what);
		if (n > 0)
			dbops_log_detail("the last lines of server log \"%s\":",
					 inst->log);
		for (int i = 0; i < n; i++)
			dbops_log_detail("  %s", lines[i]);
		return;
	}
	dbops_log_error("could not start %s %s in \"%s\": %s",
			dbops_server_name(inst->server), inst->version,
			inst->dir, without_level(inst->server, lines[0]));
	dbops_log_detail("%s; server log \"%s\":", what, inst->log);
	for (int i = 0; i < n; i++)
		dbops_log_detail("  %s", lines[i]);
}

/* --- finding the server programs ---------------------------------------- */

static bool is_executable(const char *path)
{
	return access(path, X_OK) == 0;
}

/* The highest major version under /usr/lib/postgresql with a server. */
static int newest_pg_major(void)
{
	DIR *d = opendir(PG_LIBDIR);
	struct dirent *e;
	char path[PATH_MAX];
	int best = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		int major = atoi(e->d_name);

		snprintf(path, sizeof(path), PG_LIBDIR "/%s/bin/postgres",
			 e->d_name);
		if (major > best && is_executable(path))
			best = major;
	}
	closedir(d);
	return best;
}

/* PG_VERSION of a data directory: its major version, 0 if absent. */
static int datadir_pg_major(const char *datadir)
{
	char path[PATH_MAX];
	int major = 0;
	FILE *f;

	path_printf(path, sizeof(path), "%s/PG_VERSION", datadir);
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	if (fscanf(f, "%d", &major) != 1)
		major = -1;
	fclose(f);
	return major;
}

static int find_pg_binaries(const struct dbops_instance_opts *opts,
			    struct dbops_instance *inst)
{
	char postgres[PATH_MAX + 16];
	int major = opts->pg_major;
	int data_major = datadir_pg_major(inst->datadir);

	if (data_major < 0) {
		dbops_log_error(
			"could not read the version of data directory \"%s\": PG_VERSION holds no number",
			inst->datadir);
		return -1;
	}
	if (major == 0)
		major = data_major;
	if (major == 0 && opts->bindir == NULL)
		major = newest_pg_major();
	if (opts->bindir != NULL)
		snprintf(inst->bindir, sizeof(inst->bindir), "%s",
			 opts->bindir);
	else if (major == 0) {
		dbops_log_error(
			"no PostgreSQL server is installed: no %s/<version>/bin/postgres",
			PG_LIBDIR);
		dbops_log_hint(
			"install a server package, e.g. \"apt-get install postgresql\"");
		return -1;
	} else
		snprintf(inst->bindir, sizeof(inst->bindir),
			 PG_LIBDIR "/%d/bin", major);
	snprintf(postgres, sizeof(postgres), "%s/postgres", inst->bindir);
	if (!is_executable(postgres)) {
		dbops_log_error(
			"PostgreSQL %d server binaries not found: no \"%s\"",
			major, postgres);
		if (opts->bindir == NULL)
			dbops_log_hint(
				"install the Debian package postgresql-%d",
				major);
		return -1;
	}
	if (data_major > 0 && major > 0 && data_major != major) {
		dbops_log_error(
			"data directory \"%s\" is of PostgreSQL %d, not %d",
			inst->datadir, data_major, major);
		return -1;
	}
	snprintf(inst->version, sizeof(inst->version), "%d", major);
	return 0;
}

/* NAME in PATH's directories, then in the sbin directories; 0 if found. */
static int which(const char *name, char *out, size_t len)
{
	const char *path = getenv("PATH");
	char *copy = strdup(path ? path : "");
	char *save = NULL;
	int rc = -1;

	for (char *dir = strtok_r(copy, ":", &save); dir != NULL && rc != 0;
	     dir = strtok_r(NULL, ":", &save)) {
		snprintf(out, len, "%s/%s", dir, name);
		if (is_executable(out))
			rc = 0;
	}
	free(copy);
	for (const char *const *d =
		     (const char *const[]){ "/usr/sbin", "/usr/bin",
					    "/usr/local/sbin", NULL };
	     *d != NULL && rc != 0; d++) {
		snprintf(out, len, "%s/%s", *d, name);
		if (is_executable(out))
			rc = 0;
	}
	return rc;
}

/* "10.11.19" from "mariadbd  Ver 10.11.19-MariaDB-0+deb12u1 for ...". */
static void mariadb_version(const char *server, const struct dbops_user *user,
			    char *out, size_t len)
{
	const char *argv[] = { server, "--version", NULL };
	char *text = NULL, *ver;
	int status;

	snprintf(out, len, "(unknown version)");
	if (dbops_process_run(argv, user, 10000, &text, &status) == 0 &&
	    (ver = strstr(text, "Ver ")) != NULL) {
		size_t n = strcspn(ver + 4, "- \n");

		snprintf(out, len, "%.*s", (int)n, ver + 4);
	}
	free(text);
}

static int find_mariadb_binaries(const struct dbops_instance_opts *opts,
				 struct dbops_instance *inst, char *server,
				 char *install_db)
{
	const struct dbops_user *user = inst->drop ? &inst->user : NULL;

	if (opts->bindir != NULL) {
		snprintf(inst->bindir, sizeof(inst->bindir), "%s",
			 opts->bindir);
		snprintf(server, PATH_MAX, "%s/mariadbd", opts->bindir);
		if (!is_executable(server))
			snprintf(server, PATH_MAX, "%s/mysqld", opts->bindir);
	} else if (which("mariadbd", server, PATH_MAX) != 0 &&
		   which("mysqld", server, PATH_MAX) != 0) {
		dbops_log_error(
			"no MariaDB or MySQL server is installed: no mariadbd or mysqld in PATH or /usr/sbin");
		dbops_log_hint("install the Debian package mariadb-server");
		return -1;
	}
	if (!is_executable(server)) {
		dbops_log_error("no MariaDB server in \"%s\"", inst->bindir);
		return -1;
	}
	if (which("mariadb-install-db", install_db, PATH_MAX) != 0 &&
	    which("mysql_install_db", install_db, PATH_MAX) != 0)
		install_db[0] = '\0';
	snprintf(inst->bindir, sizeof(inst->bindir), "%.*s",
		 (int)(strrchr(server, '/') - server), server);
	mariadb_version(server, user, inst->version, sizeof(inst->version));
	return 0;
}

/* --- directories, ports, sockets ---------------------------------------- */

/* Make DIR (0700, the server user's) if missing; it must then be usable. */
static int prepare_dir(const char *dir, struct dbops_instance *inst)
{
	struct stat st;
	int err;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		dbops_log_error("could not create directory \"%s\": %s", dir,
				strerror(errno));
		return -1;
	}
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		dbops_log_error("\"%s\" is not a directory", dir);
		return -1;
	}
	if (chmod(dir, 0700) != 0 ||
	    (inst->drop && dbops_user_chown(&inst->user, dir) != 0)) {
		dbops_log_error("could not set owner and mode of \"%s\": %s",
				dir, strerror(errno));
		return -1;
	}
	if (inst->drop &&
	    dbops_user_can_access(&inst->user, dir, W_OK | X_OK, &err) == 0) {
		dbops_log_error(
			"directory \"%s\" is not accessible to user \"%s\": %s",
			dir, inst->user.name, strerror(err));
		dbops_log_hint(
			"every parent directory must be searchable by \"%s\" (chmod o+x), e.g. choose a directory under /var/tmp",
			inst->user.name);
		return -1;
	}
	return 0;
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
	char name[32];

	if (inst->server == DBOPS_SERVER_POSTGRES)
		snprintf(name, sizeof(name), ".s.PGSQL.65535.lock");
	else
		snprintf(name, sizeof(name), MARIADB_SOCKET);
	if (dbops_instance_socket_fits(inst->dir, name)) {
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

static void set_socket_path(struct dbops_instance *inst)
{
	if (inst->server == DBOPS_SERVER_POSTGRES)
		path_printf(inst->socket, sizeof(inst->socket),
			    "%s/.s.PGSQL.%d", inst->socket_dir, inst->port);
	else
		path_printf(inst->socket, sizeof(inst->socket),
			    "%s/" MARIADB_SOCKET, inst->socket_dir);
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

	if (fd < 0)
		return false;
	path_printf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

/* PostgreSQL's postmaster.pid line 8 says "ready" once it takes connections. */
static bool postmaster_ready(const char *datadir)
{
	char path[PATH_MAX + 32], *line = NULL;
	size_t cap = 0;
	bool ready = false;
	FILE *f;

	path_printf(path, sizeof(path), "%s/postmaster.pid", datadir);
	f = fopen(path, "r");
	if (f == NULL)
		return false;
	for (int i = 1; getline(&line, &cap, f) > 0; i++)
		if (i == 8)
			ready = strncmp(line, "ready", 5) == 0 ||
				strncmp(line, "standby", 7) == 0;
	free(line);
	fclose(f);
	return ready;
}

/* --- the state file ------------------------------------------------------ */

static int write_state(const struct dbops_instance *inst)
{
	char path[PATH_MAX + 32], tmp[PATH_MAX + 40];
	FILE *f;

	snprintf(path, sizeof(path), "%s/" STATE_FILE, inst->dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (f == NULL)
		goto fail;
	fprintf(f,
		"server=%s\nversion=%s\ndatadir=%s\nbindir=%s\n"
		"socket_dir=%s\nsocket=%s\nown_socket_dir=%d\nlog=%s\n"
		"port=%d\npid=%d\nuser=%s\nadmin_user=%s\n",
		inst->server == DBOPS_SERVER_POSTGRES ? "postgres" : "mariadb",
		inst->version, inst->datadir, inst->bindir, inst->socket_dir,
		inst->socket, inst->own_socket_dir, inst->log, inst->port,
		(int)inst->pid, inst->drop ? inst->user.name : "",
		inst->admin_user);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
		fclose(f);
		goto fail;
	}
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		goto fail;
	return 0;
fail:
	dbops_log_error("could not write \"%s\": %s", path, strerror(errno));
	unlink(tmp);
	return -1;
}

static void state_value(const char *key, const char *value,
			struct dbops_instance *inst)
{
#define STR(field)                                                       \
	do {                                                             \
		if (strcmp(key, #field) == 0)                            \
			snprintf(inst->field, sizeof(inst->field), "%s", \
				 value);                                 \
	} while (0)
	STR(version);
	STR(datadir);
	STR(bindir);
	STR(socket_dir);
	STR(socket);
	STR(log);
	STR(admin_user);
#undef STR
	if (strcmp(key, "server") == 0)
		inst->server = strcmp(value, "postgres") == 0
				       ? DBOPS_SERVER_POSTGRES
				       : DBOPS_SERVER_MARIADB;
	else if (strcmp(key, "port") == 0)
		inst->port = atoi(value);
	else if (strcmp(key, "pid") == 0)
		inst->pid = (pid_t)atoi(value);
	else if (strcmp(key, "own_socket_dir") == 0)
		inst->own_socket_dir = atoi(value) != 0;
	else if (strcmp(key, "user") == 0 && value[0] != '\0')
		inst->drop = dbops_user_lookup(value, &inst->user) == 0;
}

int dbops_instance_load(const char *dir, struct dbops_instance *inst)
{
	char path[PATH_MAX + 32], line[PATH_MAX + 64];
	FILE *f;

	memset(inst, 0, sizeof(*inst));
	inst->proc.pid = -1;
	inst->proc.capture_fd = -1;
	snprintf(inst->dir, sizeof(inst->dir), "%s", dir);
	snprintf(path, sizeof(path), "%s/" STATE_FILE, dir);
	f = fopen(path, "r");
	if (f == NULL) {
		dbops_log_error("could not read instance state \"%s\": %s",
				path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *eq = strchr(line, '=');

		line[strcspn(line, "\n")] = '\0';
		if (eq == NULL)
			continue;
		*eq = '\0';
		state_value(line, eq + 1, inst);
	}
	fclose(f);
	if (inst->pid <= 0 || inst->socket[0] == '\0') {
		dbops_log_error("instance state \"%s\" is incomplete", path);
		return -1;
	}
	return 0;
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
	f = fopen(path, "r");
	if (f == NULL)
		return true;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	paren = strrchr(buf, ')');
	return !(paren != NULL && paren[1] == ' ' && paren[2] == 'Z');
}

/* Whether PID is a server program (a pid reused after a crash is not). */
static bool pid_is_server(pid_t pid)
{
	char path[64], comm[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return false;
	if (fgets(comm, sizeof(comm), f) == NULL)
		comm[0] = '\0';
	fclose(f);
	comm[strcspn(comm, "\n")] = '\0';
	return strcmp(comm, "postgres") == 0 || strcmp(comm, "mariadbd") == 0 ||
	       strcmp(comm, "mysqld") == 0;
}

bool dbops_instance_running(const struct dbops_instance *inst)
{
	if (inst->proc.pid > 0 && inst->proc.exited)
		return false;
	return pid_alive(inst->pid) && pid_is_server(inst->pid);
}

static int write_mariadb_config(const struct dbops_instance_opts *opts,
				struct dbops_instance *inst, const char *path,
				const char *tmpdir)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	if (f == NULL) {
		dbops_log_error("could not write \"%s\": %s", path,
				strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/* [mysqld] is read by every MariaDB and MySQL version. */
	fprintf(f, "# written by %s; regenerated at every start\n[mysqld]\n",
		dbops_log_progname());
	fprintf(f,
		"datadir=\"%s\"\nsocket=\"%s\"\ntmpdir=\"%s\"\n"
		"pid-file=\"%s/mariadbd.pid\"\nlog-error=\"%s\"\n",
		inst->datadir, inst->socket, tmpdir, inst->dir, inst->log);
	fprintf(f,
		"port=%d\nbind-address=127.0.0.1\nskip-name-resolve\n"
		"skip-log-bin\n",
		inst->port);
	for (const char *const *s = opts->settings; s && *s; s++)
		fprintf(f, "%s\n", *s);
	if (fclose(f) != 0 ||
	    (inst->drop && dbops_user_chown(&inst->user, path))) {
		dbops_log_error("could not write \"%s\": %s", path,
				strerror(errno));
		return -1;
	}
	return 0;
}

/* Run an initialisation program (initdb, mariadb-install-db). */
static int run_init(struct dbops_instance *inst, const char *const *argv,
		    int timeout_s)
{
	char how[128], lines[EXCERPT_LINES][256];
	char *out = NULL;
	bool relevant;
	int status, n;

	if (dbops_process_run(argv, inst->drop ? &inst->user : NULL,
			      timeout_s * 1000, &out, &status) != 0 &&
	    errno != ETIMEDOUT) {
		dbops_log_error("could not run \"%s\": %s", argv[0],
				strerror(errno));
		free(out);
		return -1;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		free(out);
		return 0;
	}
	dbops_process_describe_status(status, how, sizeof(how));
	n = dbops_instance_log_excerpt(inst->server, out ? out : "", lines,
				       EXCERPT_LINES, &relevant);
	dbops_log_error("could not initialise %s data directory \"%s\": %s %s",
			dbops_server_name(inst->server), inst->datadir,
			strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1
					      : argv[0],
			how);
	for (int i = 0; i < n; i++)
		dbops_log_detail("  %s", lines[i]);
	free(out);
	return -1;
}

static bool initialised(const struct dbops_instance *inst)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/%s", inst->datadir,
		 inst->server == DBOPS_SERVER_POSTGRES ? "PG_VERSION"
						       : "mysql");
	return access(path, F_OK) == 0;
}

/*
 * The settings among SETTINGS that shape the files mariadb-install-db
 * creates, as its options ("--name=value"), into OUT (up to MAX). The redo
 * log is made at install time: a different size at the first start makes
 * the server write a second log beside the first (MariaDB 10.11 on), which
 * a small disk cannot hold.
 */
static int install_time_settings(const char *const *settings, char out[][96],
				 int max)
{
	static const char redo[] = "innodb_log_file_size=";
	int n = 0;

	for (const char *const *s = settings; s && *s && n < max; s++)
		if (strncmp(*s, redo, sizeof(redo) - 1) == 0)
			snprintf(out[n++], sizeof(out[0]), "--%s", *s);
	return n;
}

static int init_datadir(struct dbops_instance *inst, const char *install_db,
			const char *tmpdir, const char *const *settings,
			int timeout_s)
{
	char initdb[PATH_MAX + 16], datadir_opt[PATH_MAX + 16],
		tmpdir_opt[PATH_MAX + 16], admin_opt[128], extra[4][96];
	int nextra;

	if (inst->server == DBOPS_SERVER_POSTGRES) {
		snprintf(initdb, sizeof(initdb), "%s/initdb", inst->bindir);
		const char *argv[] = { initdb,	     "-D",	  inst->datadir,
				       "-U",	     "postgres",  "-A",
				       "trust",	     "-E",	  "UTF8",
				       "--locale=C", "--no-sync", NULL };
		return run_init(inst, argv, timeout_s);
	}
	if (install_db[0] == '\0') {
		dbops_log_error(
			"cannot initialise MariaDB data directory \"%s\": no mariadb-install-db or mysql_install_db in PATH",
			inst->datadir);
		dbops_log_hint("install the Debian package mariadb-server");
		return -1;
	}
	snprintf(datadir_opt, sizeof(datadir_opt), "--datadir=%s",
		 inst->datadir);
	snprintf(tmpdir_opt, sizeof(tmpdir_opt), "--tmpdir=%s", tmpdir);
	snprintf(admin_opt, sizeof(admin_opt), "--auth-root-socket-user=%s",
		 inst->admin_user);
	/* No account without a password on TCP: root and the admin account
	 * (whoever runs us) log in through the unix socket only. */
	const char *argv[16] = { install_db,
				 "--no-defaults",
				 datadir_opt,
				 tmpdir_opt,
				 "--auth-root-authentication-method=socket",
				 admin_opt,
				 "--skip-test-db",
				 "--skip-name-resolve" };
	int argc = 8;

	nextra = install_time_settings(settings, extra, 4);
	for (int i = 0; i < nextra; i++)
		argv[argc++] = extra[i];
	argv[argc] = NULL;
	return run_init(inst, argv, timeout_s);
}

/* Start the server program once; 0 ready, 1 port taken (retry), -1 failed. */
static int launch(const struct dbops_instance_opts *opts,
		  struct dbops_instance *inst, const char *server_prog,
		  const char *config, int timeout_s, bool may_retry)
{
	char port_opt[32], sockdir_opt[PATH_MAX + 32], defaults[PATH_MAX + 32];
	const char *argv[64];
	struct stat st;
	off_t log_start = stat(inst->log, &st) == 0 ? st.st_size : 0;
	int64_t deadline = dbops_clock_ms() + timeout_s * 1000LL;
	char how[128], *log_text;
	int argc = 0;

	if (inst->server == DBOPS_SERVER_POSTGRES) {
		snprintf(port_opt, sizeof(port_opt), "port=%d", inst->port);
		snprintf(sockdir_opt, sizeof(sockdir_opt),
			 "unix_socket_directories=%s", inst->socket_dir);
		argv[argc++] = server_prog;
		argv[argc++] = "-D";
		argv[argc++] = inst->datadir;
		argv[argc++] = "-c";
		argv[argc++] = port_opt;
		argv[argc++] = "-c";
		argv[argc++] = "listen_addresses=127.0.0.1";
		argv[argc++] = "-c";
		argv[argc++] = sockdir_opt;
		/* The log must come to us, whatever the data directory says. */
		argv[argc++] = "-c";
		argv[argc++] = "logging_collector=off";
		argv[argc++] = "-c";
		argv[argc++] = "log_destination=stderr";
		for (const char *const *s = opts->settings;
		     s && *s && argc < 60; s++) {
			argv[argc++] = "-c";
			argv[argc++] = *s;
		}
	} else {
		snprintf(defaults, sizeof(defaults), "--defaults-file=%s",
			 config);
		argv[argc++] = server_prog;
		argv[argc++] = defaults; /* it must come first */
	}
	argv[argc] = NULL;

	struct dbops_spawn_opts spawn = {
		.argv = argv,
		.user = inst->drop ? &inst->user : NULL,
		.out = DBOPS_STDIO_FILE,
		.err = DBOPS_STDIO_FILE,
		.log_path = inst->log,
		.new_session = true,
	};
	if (dbops_process_spawn(&spawn, &inst->proc) != 0) {
		dbops_log_error("could not run \"%s\": %s", server_prog,
				strerror(errno));
		return -1;
	}
	inst->pid = inst->proc.pid;
	if (opts->no_wait)
		return 0;

	for (;;) {
		if (dbops_process_wait(&inst->proc, 0) == 0)
			break; /* it exited: a failed start */
		if ((inst->server == DBOPS_SERVER_MARIADB ||
		     postmaster_ready(inst->datadir)) &&
		    socket_accepts(inst->socket))
			return 0;
		if (dbops_clock_ms() >= deadline) {
			dbops_process_kill(&inst->proc, 5000);
			log_text = read_log_tail(inst->log, log_start);
			snprintf(
				how, sizeof(how),
				"the server did not accept connections within %d s",
				timeout_s);
			report_start_failure(inst, log_text, how);
			free(log_text);
			return -1;
		}
		dbops_clock_sleep_ms(20);
	}

	log_text = read_log_tail(inst->log, log_start);
	if (may_retry && log_text &&
	    strstr(log_text, "Address already in use")) {
		free(log_text);
		dbops_process_free(&inst->proc);
		return 1;
	}
	snprintf(how, sizeof(how), "the server ");
	dbops_process_describe_status(inst->proc.status, how + strlen(how),
				      sizeof(how) - strlen(how));
	report_start_failure(inst, log_text, how);
	if (log_text && strstr(log_text, "Address already in use"))
		dbops_log_hint(
			"port %d is in use; choose another port or stop the server that holds it",
			inst->port);
	free(log_text);
	return -1;
}

/*
 * The account a client of ours uses: PostgreSQL's is "postgres" (initdb
 * -U), MariaDB's is named after whoever runs us, as its unix_socket
 * authentication wants.
 */
static int set_admin_user(struct dbops_instance *inst)
{
	struct passwd pw, *found = NULL;
	char buf[4096];

	if (inst->server == DBOPS_SERVER_POSTGRES) {
		snprintf(inst->admin_user, sizeof(inst->admin_user),
			 "postgres");
		return 0;
	}
	if (getpwuid_r(geteuid(), &pw, buf, sizeof(buf), &found) != 0 ||
	    found == NULL) {
		dbops_log_error("could not find the name of user %d",
				(int)geteuid());
		return -1;
	}
	snprintf(inst->admin_user, sizeof(inst->admin_user), "%s", pw.pw_name);
	return 0;
}

static int init_instance(const struct dbops_instance_opts *opts,
			 struct dbops_instance *inst)
{
	const char *user_name = opts->run_as;

	memset(inst, 0, sizeof(*inst));
	inst->proc.pid = -1;
	inst->proc.capture_fd = -1;
	inst->server = opts->server;
	if (opts->dir == NULL || opts->dir[0] == '\0') {
		dbops_log_error("no directory given for the %s instance",
				dbops_server_name(opts->server));
		return -1;
	}
	if (strlen(opts->dir) > PATH_MAX / 2 ||
	    (opts->datadir && strlen(opts->datadir) > PATH_MAX / 2)) {
		dbops_log_error("directory path too long: \"%.60s...\"",
				opts->dir);
		return -1;
	}
	/* Absolute paths: the server does not run in our working directory. */
	if (opts->dir[0] != '/') {
		char cwd[PATH_MAX];

		if (getcwd(cwd, sizeof(cwd)) == NULL) {
			dbops_log_error(
				"could not find the current directory: %s",
				strerror(errno));
			return -1;
		}
		path_printf(inst->dir, sizeof(inst->dir), "%s/%s", cwd,
			    opts->dir);
	} else {
		snprintf(inst->dir, sizeof(inst->dir), "%s", opts->dir);
	}
	if (opts->datadir != NULL)
		snprintf(inst->datadir, sizeof(inst->datadir), "%s",
			 opts->datadir);
	else
		path_printf(inst->datadir, sizeof(inst->datadir), "%s/data",
			    inst->dir);
	path_printf(inst->log, sizeof(inst->log), "%s/server.log", inst->dir);
	if (user_name == NULL)
		user_name = opts->server == DBOPS_SERVER_POSTGRES ? "postgres"
								  : "mysql";
	if (set_admin_user(inst) != 0)
		return -1;
	if (dbops_user_for_server(user_name, &inst->user, &inst->drop) != 0) {
		dbops_log_error("cannot run the %s server as user \"%s\": %s",
				dbops_server_name(opts->server), user_name,
				errno == ENOENT ? "no such user"
						: strerror(errno));
		dbops_log_hint(
			"run as another user than root, or install the server package that creates \"%s\"",
			user_name);
		return -1;
	}
	return 0;
}

int dbops_instance_start(const struct dbops_instance_opts *opts,
			 struct dbops_instance *inst)
{
	char server_prog[PATH_MAX], install_db[PATH_MAX] = "";
	char config[PATH_MAX + 16] = "", tmpdir[PATH_MAX + 16] = "";
	int timeout_s = opts->timeout_s > 0 ? opts->timeout_s : 60;
	int rc = -1;

	if (init_instance(opts, inst) != 0 || prepare_dir(inst->dir, inst) != 0)
		return -1;
	if (opts->datadir != NULL && !initialised(inst)) {
		dbops_log_error(
			"\"%s\" is not a %s data directory: no %s in it",
			inst->datadir, dbops_server_name(inst->server),
			inst->server == DBOPS_SERVER_POSTGRES ? "PG_VERSION"
							      : "mysql/");
		return -1;
	}
	if (inst->server == DBOPS_SERVER_POSTGRES) {
		if (find_pg_binaries(opts, inst) != 0)
			return -1;
		path_printf(server_prog, sizeof(server_prog), "%s/postgres",
			    inst->bindir);
	} else {
		if (find_mariadb_binaries(opts, inst, server_prog,
					  install_db) != 0)
			return -1;
		snprintf(config, sizeof(config), "%s/my.cnf", inst->dir);
		snprintf(tmpdir, sizeof(tmpdir), "%s/tmp", inst->dir);
		if (prepare_dir(tmpdir, inst) != 0)
			return -1;
	}
	if (!initialised(inst) && init_datadir(inst, install_db, tmpdir,
					       opts->settings, timeout_s) != 0)
		return -1;
	if (prepare_socket_dir(inst) != 0)
		return -1;

	for (int attempt = 0, last = 0; attempt < PORT_RETRIES; attempt++) {
		inst->port = opts->port > 0
				     ? opts->port
				     : pick_port(opts->port_base, last + 1);
		if (inst->port == 0) {
			dbops_log_error(
				"no free TCP port on 127.0.0.1 from %d up",
				opts->port_base);
			break;
		}
		last = inst->port;
		set_socket_path(inst);
		if (inst->server == DBOPS_SERVER_MARIADB &&
		    write_mariadb_config(opts, inst, config, tmpdir) != 0)
			break;
		rc = launch(opts, inst, server_prog, config, timeout_s,
			    opts->port == 0 && attempt + 1 < PORT_RETRIES);
		if (rc != 1)
			break;
		dbops_log_debug(
			"port %d was taken before the server bound it; trying another",
			inst->port);
	}
	if (rc == 0 && write_state(inst) != 0) {
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
		if (dbops_clock_ms() >= deadline)
			return false;
		dbops_clock_sleep_ms(20);
	}
}

int dbops_instance_stop(struct dbops_instance *inst, int timeout_s)
{
	char path[PATH_MAX + 32];
	int sig = inst->server == DBOPS_SERVER_POSTGRES ? SIGINT : SIGTERM;
	int rc = 0;

	if (timeout_s <= 0)
		timeout_s = 60;
	if (dbops_instance_running(inst)) {
		kill(inst->pid, sig);
		if (!wait_gone(inst, timeout_s * 1000)) {
			kill(-inst->pid, SIGKILL);
			kill(inst->pid, SIGKILL);
			wait_gone(inst, 5000);
			dbops_log_error(
				"%s in \"%s\" (pid %d) did not stop within %d s; killed it",
				dbops_server_name(inst->server), inst->dir,
				(int)inst->pid, timeout_s);
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
