/*
 * sync.c - snap-import sync: import what is in a folder, then every file
 * that lands in it, as a systemd service.
 *
 * Design notes:
 * 1. The inotify watch is added before the folder is read, so no file falls
 *    between the two. A file is taken when it is closed after writing
 *    (IN_CLOSE_WRITE) or renamed into the folder (IN_MOVED_TO); when the
 *    event queue overflows, the folder is read again.
 * 2. A file still open for writing by anyone is not imported yet: a read
 *    lease (F_SETLEASE) cannot be had on it. Its closing brings it back.
 *    Where a lease is not allowed (another user's file, no CAP_LEASE), the
 *    file is taken as it is.
 * 3. Every file is hashed first: a content imported already is skipped at
 *    the cost of a read, and one that failed is not tried again until its
 *    content changes (its failure is in the ledger).
 * 4. One sync per table: a session advisory lock on the table's one name
 *    (db->key, schema-qualified), held as long as the connection lives.
 * 5. SIGTERM rolls back the file in progress and exits 0; SIGHUP reads the
 *    folder again.
 */
#include "sync.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <systemd/sd-daemon.h>

#include "clock.h"
#include "db.h"
#include "import.h"
#include "log.h"
#include "progress.h"
#include "stats.h"
#include "timestamp.h"
#include "xalloc.h"

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t rescan_requested;
static int wake_pipe[2] = { -1, -1 };

static void on_signal(int sig)
{
	int saved = errno;

	if (sig == SIGHUP)
		rescan_requested = 1;
	else
		stop_requested = 1;
	if (wake_pipe[1] >= 0 && write(wake_pipe[1], "x", 1) < 0) {
		/* The pipe is full: a wake-up is pending anyway. */
	}
	errno = saved;
}

/* The files waiting to be imported: names in the folder, sorted, unique. */
struct queue {
	char **names;
	size_t count, cap;
};

static void queue_add(struct queue *q, const char *name)
{
	size_t i;

	for (i = 0; i < q->count; i++) {
		int c = strcmp(q->names[i], name);

		if (c == 0)
			return;
		if (c > 0)
			break;
	}
	if (q->count == q->cap) {
		q->cap = q->cap ? q->cap * 2 : 16;
		q->names = dbops_xreallocarray(q->names, q->cap,
					       sizeof(*q->names));
	}
	memmove(q->names + i + 1, q->names + i,
		(q->count - i) * sizeof(char *));
	q->names[i] = dbops_xstrdup(name);
	q->count++;
}

static void queue_remove(struct queue *q, size_t i)
{
	free(q->names[i]);
	memmove(q->names + i, q->names + i + 1,
		(q->count - i - 1) * sizeof(char *));
	q->count--;
}

static void queue_free(struct queue *q)
{
	while (q->count > 0)
		queue_remove(q, q->count - 1);
	free(q->names);
}

/* Hidden files and the names editors and downloaders write first. */
static bool temporary_name(const char *name)
{
	static const char *const suffixes[] = {
		"~", ".tmp", ".part", ".partial", ".swp", ".crdownload", NULL
	};
	size_t len = strlen(name);

	if (name[0] == '.')
		return true;
	for (int i = 0; suffixes[i]; i++) {
		size_t n = strlen(suffixes[i]);

		if (len >= n && strcmp(name + len - n, suffixes[i]) == 0)
			return true;
	}
	return false;
}

bool snap_sync_wanted(const char *name, const char *pattern)
{
	return !temporary_name(name) &&
	       fnmatch(pattern, name, FNM_EXTMATCH) == 0;
}

struct sync {
	const struct snap_opts *o;
	const char *pattern;
	struct snap_db db;
	struct snap_stats stats;
	struct queue queue;
	struct MHD_Daemon *http;
	int inotify_fd;
	uint64_t watchdog_usec;
	int64_t last_watchdog;
	char last[512]; /* the last import, for STATUS= */
	bool any_failed;
};

static void notify_status(struct sync *s)
{
	dbops_metric_set(s->stats.waiting, NULL, (double)s->queue.count);
	sd_notifyf(
		0,
		"STATUS=watching %s: %u imported, %u skipped, %u failed, %zu waiting%s%s",
		s->o->dir, s->stats.imported, s->stats.skipped, s->stats.failed,
		s->queue.count, s->last[0] ? "; last: " : "", s->last);
}

/* Tell systemd we live, at half the watchdog period at most. */
static void watchdog_tick(void *arg)
{
	struct sync *s = arg;
	int64_t now;

	if (s->watchdog_usec == 0)
		return;
	now = dbops_clock_us();
	if (now - s->last_watchdog >= (int64_t)s->watchdog_usec / 2) {
		sd_notify(0, "WATCHDOG=1");
		s->last_watchdog = now;
	}
}

static int scan(struct sync *s)
{
	DIR *d = opendir(s->o->dir);
	struct dirent *e;

	if (d == NULL) {
		dbops_log_error("could not read directory \"%s\": %s",
				s->o->dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_type != DT_REG && e->d_type != DT_UNKNOWN &&
		    e->d_type != DT_LNK)
			continue;
		if (snap_sync_wanted(e->d_name, s->pattern))
			queue_add(&s->queue, e->d_name);
	}
	closedir(d);
	return 0;
}

/*
 * Whether a file is complete: 1 yes, 0 someone still writes it, -1 gone
 * or not a regular file (dropped from the queue).
 */
static int complete(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), rc = 1;

	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (fcntl(fd, F_SETLEASE, F_RDLCK) == 0)
		fcntl(fd, F_SETLEASE, F_UNLCK);
	else if (errno == EAGAIN)
		rc = 0;
	close(fd);
	return rc;
}

/* The connection broke: say so and try to get it (and the lock) back. */
static bool reconnect(struct sync *s);

static void import_one(struct sync *s, const char *name)
{
	struct snap_import_opts iopts = {
		.check_failed = true,
		.always_hash_first = true,
		.progress = DBOPS_PROGRESS_NEVER,
		.stop = &stop_requested,
		.tick = watchdog_tick,
		.tick_arg = s,
		.types = s->o->types,
		.dialect = s->o->dialect,
		.columns = &s->o->columns,
	};
	char path[4096], at[DBOPS_TIMESTAMP_LEN];
	struct dbops_err err = { "" };
	struct snap_result r;
	enum snap_outcome out;

	snprintf(path, sizeof(path), "%s/%s", s->o->dir, name);
	out = snap_import_file(&s->db, path, name, &iopts, &r);
	switch (out) {
	case SNAP_IMPORTED:
		dbops_log_info(
			"imported %s: %lld rows, %lld bytes, %.3f s, snapshot %lld",
			name, (long long)r.rows, (long long)r.bytes, r.seconds,
			(long long)r.id);
		dbops_timestamp_format((int64_t)time(NULL) * 1000000, at,
				       sizeof(at));
		snprintf(s->last, sizeof(s->last),
			 "imported %s (%lld rows) at %s", name,
			 (long long)r.rows, at);
		break;
	case SNAP_SKIPPED:
		dbops_log_info("skipped %s: already imported at %s as \"%s\"",
			       name, r.found.at, r.found.name);
		break;
	case SNAP_KNOWN_FAILED:
		dbops_log_debug("skipped %s: failed before and unchanged",
				name);
		return; /* counted when it failed */
	case SNAP_INTERRUPTED:
		dbops_log_info("import of %s interrupted and rolled back",
			       name);
		return;
	case SNAP_FAILED:
		if (PQstatus(s->db.conn) != CONNECTION_OK) {
			dbops_log_warning("could not import \"%s\": %s", name,
					  r.err.msg);
			if (reconnect(s))
				queue_add(&s->queue, name); /* try it again */
			return;
		}
		dbops_log_error("could not import \"%s\": %s", name, r.err.msg);
		s->any_failed = true;
		if (r.sha256[0] &&
		    snap_db_record_failure(&s->db, name, r.sha256, r.bytes,
					   r.err.msg, &err) != 0)
			dbops_log_warning(
				"could not record the failure of \"%s\": %s",
				name, err.msg);
		snprintf(s->last, sizeof(s->last), "failed %s", name);
		break;
	}
	snap_stats_count(&s->stats, out, &r);
}

/* Import what the queue holds and is complete. */
static void drain(struct sync *s)
{
	size_t i = 0;

	while (i < s->queue.count && !stop_requested) {
		char path[4096], *name = s->queue.names[i];
		int state;

		snprintf(path, sizeof(path), "%s/%s", s->o->dir, name);
		state = complete(path);
		if (state == 0) {
			i++; /* still being written: its close brings it back */
			continue;
		}
		name = dbops_xstrdup(name);
		queue_remove(&s->queue, i);
		if (state > 0)
			import_one(s, name);
		free(name);
		notify_status(s);
	}
}

static int take_lock(struct sync *s)
{
	/* Keyed by the table's one name: any spelling of -t takes it. */
	const char *params[] = { s->db.key };
	struct dbops_err err = { "" };
	PGresult *res = snap_db_exec(
		&s->db,
		"SELECT pg_try_advisory_lock(hashtext('snap-import sync ' || $1))",
		1, params, &err);
	int rc = -1;

	if (res == NULL) {
		dbops_log_error("%s", err.msg);
		return -1;
	}
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		snap_db_describe_error(res, &err);
		dbops_log_error(
			"could not take the sync lock of table \"%s\": %s",
			s->db.target, err.msg);
	} else if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		dbops_log_error(
			"another snap-import sync is running for table \"%s\"",
			s->db.target);
		dbops_log_hint(
			"one sync per table at a time; stop the other one or use another -t TABLE");
	} else {
		rc = 0;
	}
	PQclear(res);
	return rc;
}

static bool reconnect(struct sync *s)
{
	for (int delay = 1; !stop_requested;
	     delay = delay < 30 ? delay * 2 : 30) {
		PQreset(s->db.conn);
		if (PQstatus(s->db.conn) == CONNECTION_OK) {
			struct dbops_err err = { "" };

			if (snap_db_set_session(&s->db, &err) != 0) {
				dbops_log_error("%s", err.msg);
				stop_requested = 1;
				return false;
			}
			if (take_lock(s) != 0) {
				stop_requested = 1;
				return false;
			}
			dbops_log_info("connected to the database again");
			return true;
		}
		dbops_log_warning(
			"could not reconnect to the database; trying again in %d s",
			delay);
		for (int i = 0; i < delay * 10 && !stop_requested; i++) {
			watchdog_tick(s);
			dbops_clock_sleep_ms(100);
		}
	}
	return false;
}

/* Read the inotify events; queue what they name. 1 to rescan, -1 fatal. */
static int read_events(struct sync *s)
{
	char buf[16384]
		__attribute__((aligned(__alignof__(struct inotify_event))));
	int rescan = 0;

	for (;;) {
		ssize_t n = read(s->inotify_fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return rescan;
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const void *)p;

			if (ev->mask & IN_Q_OVERFLOW) {
				dbops_log_warning(
					"inotify queue overflow: reading \"%s\" again",
					s->o->dir);
				rescan = 1;
			}
			if (ev->mask &
			    (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
				dbops_log_error(
					"directory \"%s\" was removed or moved",
					s->o->dir);
				return -1;
			}
			if (ev->len > 0 &&
			    (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO)) &&
			    snap_sync_wanted(ev->name, s->pattern))
				queue_add(&s->queue, ev->name);
			p += sizeof(*ev) + ev->len;
		}
	}
}

static enum MHD_Result serve(void *cls, struct MHD_Connection *conn,
			     const char *url, const char *method,
			     const char *version, const char *upload,
			     size_t *upload_size, void **state)
{
	struct sync *s = cls;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	unsigned status = MHD_HTTP_OK;
	size_t len;
	char *body;

	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return MHD_NO;
	if (strcmp(url, "/metrics") == 0) {
		body = dbops_metrics_render(s->stats.metrics, &len);
	} else {
		body = dbops_xstrdup("snap-import: see /metrics\n");
		len = strlen(body);
		status = MHD_HTTP_NOT_FOUND;
	}
	if (body == NULL)
		return MHD_NO;
	resp = MHD_create_response_from_buffer(len, body,
					       MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type",
				DBOPS_METRICS_CONTENT_TYPE);
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

int snap_sync_parse_listen(const char *text, struct sockaddr_storage *ss,
			   socklen_t *len)
{
	const char *colon = strrchr(text, ':');
	char host[128];
	char *end;
	long port;

	if (colon == NULL)
		return -1;
	port = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || port < 1 || port > 65535)
		return -1;
	snprintf(host, sizeof(host), "%.*s", (int)(colon - text), text);
	memset(ss, 0, sizeof(*ss));
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		host[strlen(host) - 1] = '\0';
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a);
		return inet_pton(AF_INET6, host + 1, &a->sin6_addr) == 1 ? 0
									 : -1;
	}
	struct sockaddr_in *a = (struct sockaddr_in *)ss;

	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)port);
	*len = sizeof(*a);
	if (host[0] == '\0') {
		a->sin_addr.s_addr = htonl(INADDR_ANY);
		return 0;
	}
	if (strcmp(host, "localhost") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	return inet_pton(AF_INET, host, &a->sin_addr) == 1 ? 0 : -1;
}

static int start_http(struct sync *s)
{
	const struct sockaddr_storage *ss = &s->o->listen_addr;

	s->http = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
			(ss->ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
		0, NULL, NULL, serve, s, MHD_OPTION_SOCK_ADDR, ss,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_END);
	if (s->http == NULL) {
		dbops_log_error(
			"could not listen on %s for /metrics: %s", s->o->listen,
			errno ? strerror(errno) : "the address is not free");
		return -1;
	}
	return 0;
}

static int setup_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	if (pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
		return -1;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/* The service loop: wait for events, signals and the watchdog's period. */
static int watch(struct sync *s)
{
	while (!stop_requested) {
		struct pollfd fds[2] = { { s->inotify_fd, POLLIN, 0 },
					 { wake_pipe[0], POLLIN, 0 } };
		int timeout =
			s->watchdog_usec ? (int)(s->watchdog_usec / 2000) : -1;
		char drain_buf[64];
		int ev;

		/* Files still being written are looked at again now and then. */
		if (s->queue.count > 0 && (timeout < 0 || timeout > 1000))
			timeout = 1000;
		if (poll(fds, 2, timeout) < 0 && errno != EINTR) {
			dbops_log_error("poll failed: %s", strerror(errno));
			return -1;
		}
		watchdog_tick(s);
		while (read(wake_pipe[0], drain_buf, sizeof(drain_buf)) > 0)
			;
		ev = read_events(s);
		if (ev < 0)
			return -1;
		if (rescan_requested)
			dbops_log_info("reading \"%s\" again (SIGHUP)",
				       s->o->dir);
		if (ev > 0 || rescan_requested) {
			rescan_requested = 0;
			if (scan(s) != 0)
				return -1;
		}
		drain(s);
		notify_status(s);
	}
	return 0;
}

int snap_sync(const struct snap_opts *o)
{
	struct sync s = { .o = o,
			  .pattern = o->pattern ? o->pattern
						: SNAP_SYNC_DEFAULT_PATTERN,
			  .inotify_fd = -1 };
	struct dbops_err err = { "" };
	int rc = 1;
	struct stat st;

	/* st is looked at only when stat() filled it; errno only when
	 * stat() failed (review 5.2: a stale errno named a plain file). */
	if (stat(o->dir, &st) != 0) {
		dbops_log_error("could not watch directory \"%s\": %s", o->dir,
				strerror(errno));
		return 1;
	}
	if (!S_ISDIR(st.st_mode)) {
		dbops_log_error(
			"could not watch directory \"%s\": not a directory",
			o->dir);
		return 1;
	}
	if (setup_signals() != 0) {
		dbops_log_error("could not set up: %s", strerror(errno));
		return 1;
	}
	snap_stats_init(&s.stats);
	if (snap_db_open(&s.db, o->database, o->table, o->timezone, o->encoding,
			 &err) != 0) {
		dbops_log_error("%s", err.msg);
		goto out;
	}
	if (take_lock(&s) != 0)
		goto out;
	if (o->listen && start_http(&s) != 0)
		goto out;
	if (!o->once) {
		/* Watch first, then read the folder: nothing falls between. */
		s.inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (s.inotify_fd < 0 ||
		    inotify_add_watch(s.inotify_fd, o->dir,
				      IN_CLOSE_WRITE | IN_MOVED_TO |
					      IN_DELETE_SELF | IN_MOVE_SELF |
					      IN_ONLYDIR) < 0) {
			dbops_log_error("could not watch directory \"%s\": %s",
					o->dir, strerror(errno));
			goto out;
		}
		if (sd_watchdog_enabled(0, &s.watchdog_usec) <= 0)
			s.watchdog_usec = 0;
	}
	if (scan(&s) != 0)
		goto out;
	if (!o->once)
		sd_notify(0, "READY=1");
	drain(&s);
	notify_status(&s);
	if (o->once) {
		rc = s.any_failed ? 1 : 0;
		goto out;
	}
	dbops_log_info("watching \"%s\" for %s", o->dir, s.pattern);
	rc = watch(&s) == 0 ? 0 : 1;
	sd_notify(0, "STOPPING=1");
out:
	if (s.http)
		MHD_stop_daemon(s.http);
	if (s.inotify_fd >= 0)
		close(s.inotify_fd);
	queue_free(&s.queue);
	snap_db_close(&s.db);
	snap_stats_free(&s.stats);
	for (int i = 0; i < 2; i++)
		if (wake_pipe[i] >= 0)
			close(wake_pipe[i]);
	return rc;
}
