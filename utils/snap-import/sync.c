/*
 * sync.c - snap-import sync: import what is in a folder, then every file
 * that lands in it, as a systemd service.
 *
 * Design notes:
 * 1. The inotify watch is added before the folder is read, so no file falls
 *    between the two. Events (a close after writing, a rename in, a new
 *    name, a link) only make sync look at a file again; when the event
 *    queue overflows, the folder is read again.
 * 2. A file is imported once, when complete (syncstate.h): renamed into
 *    the folder, or quiet for --settle (size, times and inode unchanged),
 *    whether or not a read lease can be had; where one can, a file still
 *    open for writing also waits for its close.
 * 3. Each file is hashed (feeding the watchdog) and looked up in the ledger
 *    once: a content imported already is skipped, one that failed is not
 *    tried again until it changes. A file that changes after its import is
 *    reported and not imported again: while sync runs, any change of the
 *    same inode; across restarts, a file that grew (the imported content
 *    is its beginning).
 * 4. Failures are told apart (syncstate.h): one of the content is recorded
 *    in the ledger and waits for the file to change (or for retry and
 *    forget); a passing one (connection, cancel, lock timeout, disk full)
 *    is tried again with backoff, and is not recorded.
 * 5. One sync per table: a session advisory lock on the table's one name
 *    (db->key, schema-qualified), held as long as the connection lives.
 * 6. SIGTERM rolls back the file in progress (or lets its commit finish)
 *    and exits 0; SIGHUP reads the folder again and asks the ledger about
 *    the failed files.
 */
#include "sync.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
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
#include <openssl/evp.h>
#include <systemd/sd-daemon.h>

#include "clock.h"
#include "compress.h"
#include "db.h"
#include "import.h"
#include "ledger.h"
#include "log.h"
#include "progress.h"
#include "stats.h"
#include "syncstate.h"
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

/* How often the failed and changed files are asked about again. */
#define RECHECK_US (60 * 1000000LL)
/* How long --once waits, beyond --settle, for files still being written
 * and for passing failures. */
#define ONCE_EXTRA_US (10 * 1000000LL)
#define HASH_CHUNK    (1u << 20)

#define PENDING ((1u << SNAP_F_WAITING) | (1u << SNAP_F_RETRY))

struct sync {
	const struct snap_opts *o;
	const char *pattern;
	struct snap_db db;
	struct snap_stats stats;
	struct snap_ftable files;
	struct MHD_Daemon *http;
	int inotify_fd;
	uint64_t watchdog_usec;
	int64_t last_watchdog;
	int64_t settle_us;
	int64_t next_recheck_us;
	int64_t last_status_us;
	char last[512]; /* the last import, for STATUS= */
	struct dbops_metric *changed, *failing, *retries, *db_up;
};

static void notify_status(struct sync *s, bool now)
{
	int64_t t = dbops_clock_us();
	size_t waiting, failing;

	/* Counting walks the table: not after each of 50,000 files. */
	if (!now && t - s->last_status_us < 500000)
		return;
	s->last_status_us = t;
	waiting = snap_ftable_count(&s->files, SNAP_F_WAITING);
	failing = snap_ftable_count(&s->files, SNAP_F_FAILED) +
		  snap_ftable_count(&s->files, SNAP_F_RETRY);
	dbops_metric_set(s->stats.waiting, NULL, (double)waiting);
	dbops_metric_set(s->failing, NULL, (double)failing);
	sd_notifyf(
		0,
		"STATUS=watching %s: %u imported, %u skipped, %u failed, %zu waiting%s%s",
		s->o->dir, s->stats.imported, s->stats.skipped, s->stats.failed,
		waiting, s->last[0] ? "; last: " : "", s->last);
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

static void file_path(const struct sync *s, const char *name, char *path,
		      size_t len)
{
	snprintf(path, len, "%s/%s", s->o->dir, name);
}

/* The file's facts; -1 when it is gone or not a regular file. */
static int file_stat(const struct sync *s, const char *name,
		     struct snap_fstat *f)
{
	char path[4096];
	struct stat st;

	file_path(s, name, path, sizeof(path));
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return -1;
	snap_fstat_from(f, &st);
	return 0;
}

static void set_error(struct snap_fentry *e, const char *why)
{
	free(e->error);
	e->error = why ? dbops_xstrdup(why) : NULL;
}

static void changed_after_import(struct sync *s, struct snap_fentry *e,
				 const char *how)
{
	char path[4096];

	file_path(s, e->name, path, sizeof(path));
	e->state = SNAP_F_CHANGED;
	e->sha256[0] = '\0';
	dbops_metric_add(s->changed, NULL, 1);
	dbops_log_warning(
		"file \"%s\" changed after its import as snapshot %lld (%s): not imported again",
		e->name, (long long)e->id, how);
	dbops_log_hint(
		"to import it as it is now, as a new snapshot: snap-import retry \"%s\" (with this sync's -d and -t)",
		path);
}

/* Look at a file again, after an event (MOVED: renamed in) or a scan. */
static void look(struct sync *s, const char *name, bool moved)
{
	struct snap_fentry *e = snap_ftable_add(&s->files, name);
	struct snap_fstat f;

	if (file_stat(s, name, &f) != 0) {
		snap_ftable_remove(&s->files, name);
		return;
	}
	switch (e->state) {
	case SNAP_F_DONE:
		if (snap_fstat_content_changed(&e->done, &f)) {
			e->seen = f;
			changed_after_import(s, e, "its size or time changed");
			return;
		}
		if (f.ino == e->done.ino && f.dev == e->done.dev)
			return;
		break; /* another file of that name: a new one */
	case SNAP_F_CHANGED:
		if (f.ino == e->done.ino && f.dev == e->done.dev)
			return;
		break;
	case SNAP_F_FAILED:
	case SNAP_F_RETRY:
		if (snap_fstat_same(&e->seen, &f))
			return;
		e->retry_delay_s = 0;
		break;
	case SNAP_F_WAITING:
		break;
	}
	e->state = SNAP_F_WAITING;
	set_error(e, NULL);
	snap_fentry_observe(e, &f, dbops_clock_us());
	if (moved)
		e->moved = true;
}

static int scan(struct sync *s)
{
	DIR *d = opendir(s->o->dir);
	struct dirent *e;
	unsigned n = 0;

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
			look(s, e->d_name, false);
		if (++n % 256 == 0)
			watchdog_tick(s);
	}
	closedir(d);
	return 0;
}

/*
 * Whether a writer still holds the file open: a read lease cannot be had.
 * Where no lease is allowed (another user's file, no CAP_LEASE), the
 * settle period alone decides.
 */
static bool being_written(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	bool busy = false;

	if (fd < 0)
		return false;
	if (fcntl(fd, F_SETLEASE, F_RDLCK) == 0)
		fcntl(fd, F_SETLEASE, F_UNLCK);
	else if (errno == EAGAIN)
		busy = true;
	close(fd);
	return busy;
}

/*
 * SHA-256 of the file at FD up to LIMIT bytes (-1: all of it) into HEX,
 * feeding the watchdog. 0, -1 on a read error (errno), 1 stopped.
 */
static int hash_file(struct sync *s, int fd, int64_t limit, char hex[65])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char digest[32];
	char *buf = dbops_xmalloc(HASH_CHUNK);
	int64_t off = 0;
	int rc = -1;

	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		dbops_xalloc_failed();
	for (;;) {
		size_t want = HASH_CHUNK;
		ssize_t n;

		if (limit >= 0 && limit - off < (int64_t)want)
			want = (size_t)(limit - off);
		if (want == 0)
			break;
		n = pread(fd, buf, want, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		EVP_DigestUpdate(md, buf, (size_t)n);
		off += n;
		watchdog_tick(s);
		if (stop_requested) {
			rc = 1;
			goto out;
		}
	}
	if (EVP_DigestFinal_ex(md, digest, NULL) == 1) {
		for (int i = 0; i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", digest[i]);
		rc = 0;
	}
out:
	free(buf);
	EVP_MD_CTX_free(md);
	return rc;
}

/*
 * The file at FD (of SIZE bytes) as the ledger knows it: FD itself, or
 * for a compressed file its decompressed copy (compress.h), whose size
 * goes to *BYTES (else SIZE). The caller closes a copy. -1 with the
 * reason in ERR (a damaged compressed file).
 */
static int content_fd(int fd, int64_t size, int64_t *bytes,
		      struct dbops_err *err)
{
	unsigned char head[16];
	ssize_t n = pread(fd, head, sizeof(head), 0);
	enum snap_compression c =
		n > 0 ? snap_compression_of(head, (size_t)n) : SNAP_COMP_NONE;
	struct stat st;
	int copy;

	*bytes = size;
	if (c == SNAP_COMP_NONE)
		return fd;
	copy = snap_decompress(fd, c, err);
	if (copy >= 0 && fstat(copy, &st) == 0)
		*bytes = st.st_size;
	return copy;
}

/*
 * Whether the rows of the imported content M are gone from the table
 * (snap_db_rows_gone): 1, 0, or -1 with the reason in ERR.
 */
static int rows_gone(struct sync *s, const struct snap_ledger_match *m,
		     struct dbops_err *err)
{
	return m->imported ? snap_db_rows_gone(&s->db, &m->found, err) : 0;
}

/* The connection broke: say so and try to get it (and the lock) back. */
static bool reconnect(struct sync *s);

/* A passing failure: try again later, the connection back first. */
static void passing(struct sync *s, struct snap_fentry *e, const char *why)
{
	e->retry_delay_s = snap_backoff_next(e->retry_delay_s);
	e->retry_at_us = dbops_clock_us() + (int64_t)e->retry_delay_s * 1000000;
	e->state = SNAP_F_RETRY;
	set_error(e, why);
	dbops_metric_add(s->retries, NULL, 1);
	dbops_log_warning(
		"could not import \"%s\": %s; a passing failure, trying again in %d s",
		e->name, why, e->retry_delay_s);
	if (PQstatus(s->db.conn) != CONNECTION_OK)
		reconnect(s);
}

/* Record a failure; a file that failed before any import made the
 * ledger makes it. */
static int record(struct sync *s, const char *name, const char *sha256,
		  int64_t bytes, const char *why, struct dbops_err *err)
{
	snap_db_clear_sqlstate();
	if (snap_db_record_failure(&s->db, name, sha256, bytes, why, err) == 0)
		return 0;
	if (strcmp(snap_db_last_sqlstate(), "42P01") != 0 ||
	    snap_db_ensure_ledger(&s->db, err) != 0)
		return -1;
	return snap_db_record_failure(&s->db, name, sha256, bytes, why, err);
}

/* A failure of the content: recorded, tried again when the file changes. */
static void failed(struct sync *s, struct snap_fentry *e, const char *sha256,
		   int64_t bytes, const char *why)
{
	struct dbops_err err = { "" };

	dbops_log_error("could not import \"%s\": %s", e->name, why);
	e->state = SNAP_F_FAILED;
	set_error(e, why);
	snprintf(e->sha256, sizeof(e->sha256), "%s", sha256 ? sha256 : "");
	if (sha256 && record(s, e->name, sha256, bytes, why, &err) != 0)
		dbops_log_warning("could not record the failure of \"%s\": %s",
				  e->name, err.msg);
	snprintf(s->last, sizeof(s->last), "failed %s", e->name);
	snap_stats_count(&s->stats, SNAP_FAILED, NULL);
}

static void imported(struct sync *s, struct snap_fentry *e,
		     const struct snap_fstat *f, const struct snap_result *r)
{
	char at[DBOPS_TIMESTAMP_LEN];

	dbops_log_info(
		"imported %s: %lld rows, %lld bytes, %.3f s, snapshot %lld",
		e->name, (long long)r->rows, (long long)r->bytes, r->seconds,
		(long long)r->id);
	dbops_timestamp_format((int64_t)time(NULL) * 1000000, at, sizeof(at));
	snprintf(s->last, sizeof(s->last), "imported %s (%lld rows) at %s",
		 e->name, (long long)r->rows, at);
	e->state = SNAP_F_DONE;
	e->done = *f;
	e->id = r->id;
}

/* Import the file (hashed: SHA256, as F says; its content BYTES long),
 * then sort the outcome. */
static void import_now(struct sync *s, struct snap_fentry *e,
		       const struct snap_fstat *f, const char *sha256,
		       int64_t bytes)
{
	struct snap_import_opts iopts = {
		.always_hash_first = true,
		.sha256 = sha256,
		.progress = DBOPS_PROGRESS_NEVER,
		.stop = &stop_requested,
		.tick = watchdog_tick,
		.tick_arg = s,
		.types = s->o->types,
		.dialect = s->o->dialect,
		.columns = &s->o->columns,
	};
	char path[4096];
	struct snap_result r;
	struct snap_fstat after;
	enum snap_outcome out;

	file_path(s, e->name, path, sizeof(path));
	snap_db_clear_sqlstate();
	snap_decompress_clear();
	out = snap_import_file(&s->db, path, e->name, &iopts, &r);
	switch (out) {
	case SNAP_IMPORTED:
		imported(s, e, f, &r);
		snap_stats_count(&s->stats, out, &r);
		return;
	case SNAP_SKIPPED:
	case SNAP_KNOWN_FAILED: /* another importer was first */
		dbops_log_info("skipped %s: already imported at %s as \"%s\"",
			       e->name, r.found.at, r.found.name);
		e->state = SNAP_F_DONE;
		e->done = *f;
		e->id = r.found.id;
		snap_stats_count(&s->stats, SNAP_SKIPPED, &r);
		return;
	case SNAP_INTERRUPTED:
		dbops_log_info("import of %s interrupted and rolled back",
			       e->name);
		return;
	case SNAP_FAILED:
		break;
	}
	if (file_stat(s, e->name, &after) != 0) {
		e->gone = true;
	} else if (!snap_fstat_same(&after, f)) {
		/* It changed under us: the completion rule again. */
		dbops_log_info("%s changed while it was being imported: "
			       "waiting for it to be complete",
			       e->name);
		snap_fentry_observe(e, &after, dbops_clock_us());
	} else if (snap_failure_passes(snap_db_last_sqlstate(),
				       PQstatus(s->db.conn) == CONNECTION_OK) ||
		   snap_decompress_local_failure()) {
		passing(s, e, r.err.msg);
	} else {
		failed(s, e, sha256, bytes, r.err.msg);
	}
}

/* Whether the content at FD (SIZE bytes) begins with the content imported
 * as M says. */
static bool grew_from(struct sync *s, int fd, int64_t size,
		      const struct snap_ledger_match *m)
{
	char hex[65];

	if (!m->by_name || m->name_bytes >= size)
		return false;
	return hash_file(s, fd, m->name_bytes, hex) == 0 &&
	       strcmp(hex, m->name_sha256) == 0;
}

/* The ledger's look-up failed (ERR): in passing, or for this file. */
static void lookup_failed(struct sync *s, struct snap_fentry *e, int64_t bytes,
			  const char *why)
{
	if (snap_failure_passes(snap_db_last_sqlstate(),
				PQstatus(s->db.conn) == CONNECTION_OK))
		passing(s, e, why);
	else
		failed(s, e, NULL, bytes, why);
}

/* Decide what to do with a complete file (its content at PFD, BYTES
 * long), and do it. */
static void decide(struct sync *s, struct snap_fentry *e, int pfd,
		   const struct snap_fstat *f, int64_t bytes)
{
	struct snap_ledger_match m;
	struct dbops_err err = { "" };
	char sha[65], how[128];
	int rc = hash_file(s, pfd, -1, sha), gone = 0;

	if (rc > 0)
		return;
	if (rc < 0) {
		failed(s, e, NULL, bytes, strerror(errno));
		return;
	}
	snap_db_clear_sqlstate();
	if (snap_ledger_lookup(&s->db, sha, e->name, &m, &err) != 0 ||
	    (gone = rows_gone(s, &m, &err)) < 0) {
		lookup_failed(s, e, bytes, err.msg);
		return;
	}
	if (m.imported && !gone) {
		dbops_log_info("skipped %s: already imported at %s as \"%s\"",
			       e->name, m.found.at, m.found.name);
		e->state = SNAP_F_DONE;
		e->done = *f;
		e->id = m.found.id;
		snap_stats_count(&s->stats, SNAP_SKIPPED, NULL);
	} else if (m.failed) {
		/* Counted when it failed; named again, as it still waits. */
		dbops_log_warning(
			"skipped %s: failed at %s and unchanged since: %s",
			e->name, m.found.at, m.found.error);
		e->state = SNAP_F_FAILED;
		set_error(e, m.found.error);
		snprintf(e->sha256, sizeof(e->sha256), "%s", sha);
	} else if (!gone && grew_from(s, pfd, bytes, &m)) {
		e->done = *f;
		e->id = m.name_id;
		snprintf(how, sizeof(how), "it grew from %lld to %lld bytes",
			 (long long)m.name_bytes, (long long)bytes);
		changed_after_import(s, e, how);
		snprintf(e->sha256, sizeof(e->sha256), "%s", sha);
	} else {
		/* Rows gone: the import says so, and it is recorded. */
		import_now(s, e, f, sha, bytes);
	}
}

/* The complete file at FD: hashed as the ledger knows it (a compressed
 * file by its content), then decide(). */
static void process(struct sync *s, struct snap_fentry *e, int fd,
		    const struct snap_fstat *f)
{
	struct dbops_err err = { "" };
	int64_t bytes;
	int pfd;

	snap_decompress_clear();
	pfd = content_fd(fd, f->size, &bytes, &err);
	if (pfd < 0) {
		/* No room for the decompressed copy: in passing, as a disk
		 * full on the server is. */
		if (snap_decompress_local_failure())
			passing(s, e, err.msg);
		else
			failed(s, e, NULL, f->size, err.msg);
		return;
	}
	decide(s, e, pfd, f, bytes);
	if (pfd != fd)
		close(pfd);
}

/*
 * Whether a waiting file is complete now (syncstate.h); if not, *WAIT_US
 * is how long before it may be.
 */
static bool ready(struct sync *s, struct snap_fentry *e, int64_t *wait_us)
{
	struct snap_fstat f;
	struct timespec wall;
	char path[4096];
	int64_t now = dbops_clock_us();

	*wait_us = 0;
	if (file_stat(s, e->name, &f) != 0) {
		e->gone = true;
		return false;
	}
	if (e->state == SNAP_F_RETRY) {
		if (now < e->retry_at_us) {
			*wait_us = e->retry_at_us - now;
			return false;
		}
		if (!snap_fentry_observe(e, &f, now))
			return true;
		e->state = SNAP_F_WAITING;
	}
	snap_fentry_observe(e, &f, now);
	clock_gettime(CLOCK_REALTIME, &wall);
	if (!snap_fentry_settled(
		    e, now, (int64_t)wall.tv_sec * 1000000000 + wall.tv_nsec,
		    s->settle_us, wait_us))
		return false;
	file_path(s, e->name, path, sizeof(path));
	if (being_written(path)) {
		*wait_us = 1000000; /* its close brings an event */
		return false;
	}
	return true;
}

/* Open the complete file and process it, unless it changed meanwhile. */
static void take(struct sync *s, struct snap_fentry *e)
{
	char path[4096];
	struct stat st;
	struct snap_fstat f;
	int fd;

	file_path(s, e->name, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0) {
		if (errno == ENOENT)
			e->gone = true;
		else
			failed(s, e, NULL, 0, strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	snap_fstat_from(&f, &st);
	if (snap_fstat_same(&f, &e->seen))
		process(s, e, fd, &f);
	else
		snap_fentry_observe(e, &f, dbops_clock_us());
	close(fd);
}

/*
 * Import what is complete, in name order. *WAKE_US: how long before a
 * file still waiting may be complete (INT64_MAX: none waits).
 */
static void drain(struct sync *s, int64_t *wake_us)
{
	size_t n;
	struct snap_fentry **list = snap_ftable_list(&s->files, PENDING, &n);

	*wake_us = INT64_MAX;
	for (size_t i = 0; i < n && !stop_requested; i++) {
		struct snap_fentry *e = list[i];
		int64_t wait;

		if (ready(s, e, &wait)) {
			take(s, e);
			/* Failed in passing, or changed meanwhile: its turn
			 * comes again. */
			if (e->state == SNAP_F_RETRY)
				wait = e->retry_at_us - dbops_clock_us();
			else if (e->state == SNAP_F_WAITING)
				wait = s->settle_us;
			else
				wait = INT64_MAX;
		}
		if (!e->gone && wait < *wake_us)
			*wake_us = wait;
		watchdog_tick(s);
		notify_status(s, false);
	}
	for (size_t i = 0; i < n; i++)
		if (list[i]->gone)
			snap_ftable_remove(&s->files, list[i]->name);
	free(list);
	notify_status(s, true);
}

/* Hash the file as it is now into e->sha256 (left empty on a failure). */
static void hash_path(struct sync *s, struct snap_fentry *e)
{
	char path[4096];
	int fd;

	struct dbops_err err = { "" };
	int64_t bytes;
	int pfd;

	file_path(s, e->name, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	/* The content of a compressed file, as the ledger has it. */
	pfd = content_fd(fd, 0, &bytes, &err);
	if (pfd < 0 || hash_file(s, pfd, -1, e->sha256) != 0)
		e->sha256[0] = '\0';
	if (pfd >= 0 && pfd != fd)
		close(pfd);
	close(fd);
}

/*
 * Ask the ledger again about the failed and changed files: a content now
 * imported (snap-import retry) is done; a failure forgotten (snap-import
 * forget) makes the file wait to be tried again.
 */
static void recheck(struct sync *s)
{
	unsigned mask = (1u << SNAP_F_FAILED) | (1u << SNAP_F_CHANGED);
	size_t n;
	struct snap_fentry **list = snap_ftable_list(&s->files, mask, &n);

	for (size_t i = 0; i < n && !stop_requested; i++) {
		struct snap_fentry *e = list[i];
		struct snap_ledger_match m;
		struct dbops_err err = { "" };

		watchdog_tick(s);
		if (e->sha256[0] == '\0' && e->state == SNAP_F_CHANGED)
			hash_path(s, e);
		if (e->sha256[0] == '\0')
			continue; /* not read: waits for a change */
		if (snap_ledger_lookup(&s->db, e->sha256, e->name, &m, &err) !=
		    0)
			break;
		/* A failure for rows gone stands until --force imports the
		 * file again (its ledger row is then a new one). */
		if (m.imported && (e->state != SNAP_F_FAILED ||
				   rows_gone(s, &m, &err) == 0)) {
			e->state = SNAP_F_DONE;
			e->done = e->seen;
			e->id = m.found.id;
		} else if (e->state == SNAP_F_FAILED && !m.failed) {
			e->state = SNAP_F_WAITING;
			e->moved = true; /* complete: it is unchanged */
		}
	}
	free(list);
	s->next_recheck_us = dbops_clock_us() + RECHECK_US;
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
	dbops_metric_set(s->db_up, NULL, 0);
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
			dbops_metric_set(s->db_up, NULL, 1);
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

/* One inotify event: look at the file it names, or forget it. */
static void on_event(struct sync *s, const struct inotify_event *ev)
{
	if (ev->len == 0 || !snap_sync_wanted(ev->name, s->pattern))
		return;
	if (ev->mask & (IN_DELETE | IN_MOVED_FROM))
		snap_ftable_remove(&s->files, ev->name);
	else
		look(s, ev->name, (ev->mask & IN_MOVED_TO) != 0);
}

/* Read the inotify events; look at what they name. 1 to rescan, -1 fatal. */
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
			on_event(s, ev);
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

static int start_http(struct sync *s)
{
	const struct sockaddr_storage *ss = &s->o->listen_addr;

	/* No MHD_USE_ERROR_LOG: libmicrohttpd's own lines ("Failed to bind
	 * to port 0: ...") are not ours; the one line below says it all. */
	errno = 0;
	s->http = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD |
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

/* The poll timeout, in ms, for a file that may be complete in WAKE_US. */
static int poll_timeout(const struct sync *s, int64_t wake_us)
{
	int64_t t = wake_us;

	if (s->watchdog_usec && (int64_t)s->watchdog_usec / 2 < t)
		t = (int64_t)s->watchdog_usec / 2;
	if (s->next_recheck_us - dbops_clock_us() < t)
		t = s->next_recheck_us - dbops_clock_us();
	if (t == INT64_MAX)
		return -1;
	t = (t + 999) / 1000;
	return t < 10 ? 10 : t > 3600000 ? 3600000 : (int)t;
}

/* The service loop: wait for events, signals and the files' time. */
static int watch(struct sync *s, int64_t wake_us)
{
	while (!stop_requested) {
		struct pollfd fds[2] = { { s->inotify_fd, POLLIN, 0 },
					 { wake_pipe[0], POLLIN, 0 } };
		char drain_buf[64];
		int ev;

		if (poll(fds, 2, poll_timeout(s, wake_us)) < 0 &&
		    errno != EINTR) {
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
			if (scan(s) != 0)
				return -1;
		}
		if (rescan_requested || dbops_clock_us() >= s->next_recheck_us)
			recheck(s);
		rescan_requested = 0;
		drain(s, &wake_us);
	}
	return 0;
}

/* Name the files that failed; 1 if any did, else 0. */
static int report_failed(struct sync *s)
{
	size_t n, shown = 0;
	unsigned mask = (1u << SNAP_F_FAILED) | (1u << SNAP_F_RETRY);
	struct snap_fentry **list = snap_ftable_list(&s->files, mask, &n);
	char names[1024] = "";

	for (size_t i = 0; i < n && shown < 5; i++, shown++) {
		size_t len = strlen(names);

		snprintf(names + len, sizeof(names) - len, "%s\"%s\"",
			 i ? ", " : "", list[i]->name);
	}
	if (n > 0) {
		dbops_log_error(
			"%zu file%s of \"%s\" failed and %s not imported: %s%s",
			n, n == 1 ? "" : "s", s->o->dir, n == 1 ? "is" : "are",
			names, n > shown ? ", ..." : "");
		dbops_log_hint(
			"fix the file (a changed file is tried again), or see snap-import retry and forget");
	}
	free(list);
	return n > 0;
}

/*
 * --once: import what is there; wait up to --settle (and a little more,
 * for passing failures) for what is still being written, then leave it
 * for the next run. 1 when a file failed.
 */
static int run_once(struct sync *s)
{
	int64_t deadline = dbops_clock_us() + s->settle_us + ONCE_EXTRA_US;
	int64_t wake;

	for (;;) {
		size_t n;
		struct snap_fentry **left;

		drain(s, &wake);
		left = snap_ftable_list(&s->files, PENDING, &n);
		if (n > 0 && !stop_requested && dbops_clock_us() < deadline) {
			free(left);
			if (wake > deadline - dbops_clock_us())
				wake = deadline - dbops_clock_us();
			for (int64_t t = 0; t < wake && !stop_requested;
			     t += 100000)
				dbops_clock_sleep_ms(100);
			continue;
		}
		for (size_t i = 0; i < n; i++)
			if (left[i]->state == SNAP_F_WAITING)
				dbops_log_info(
					"left %s: still being written; the next run takes it",
					left[i]->name);
		free(left);
		break;
	}
	return report_failed(s);
}

/* The metrics sync adds to the import's (stats.h). */
static void sync_metrics(struct sync *s)
{
	struct dbops_err err = { "" };
	double at;

	s->changed = dbops_metrics_counter(
		s->stats.metrics, "dbops_snap_import_files_changed_total",
		"Files that changed after their import (not imported again).");
	s->failing = dbops_metrics_gauge(
		s->stats.metrics, "dbops_snap_import_files_failing",
		"Files of the folder not imported because they failed (sync).");
	s->retries = dbops_metrics_counter(
		s->stats.metrics, "dbops_snap_import_retries_total",
		"Passing failures (connection, cancel, lock timeout, disk full), each tried again.");
	s->db_up = dbops_metrics_gauge(
		s->stats.metrics, "dbops_snap_import_database_up",
		"Whether sync is connected to the database.");
	if (!s->changed || !s->failing || !s->retries || !s->db_up)
		dbops_xalloc_failed();
	dbops_metric_add(s->changed, NULL, 0);
	dbops_metric_add(s->retries, NULL, 0);
	dbops_metric_set(s->db_up, NULL, 1);
	/* The last success survives restarts: the ledger has it. */
	if (snap_ledger_last_success(&s->db, &at, &err) == 0)
		dbops_metric_set(s->stats.last_success, NULL, at);
	else
		dbops_log_warning("could not read the last import: %s",
				  err.msg);
}

/* Watch first, then read the folder: nothing falls between. */
static int start_watch(struct sync *s)
{
	s->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (s->inotify_fd < 0 ||
	    inotify_add_watch(s->inotify_fd, s->o->dir,
			      IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE |
				      IN_ATTRIB | IN_DELETE | IN_MOVED_FROM |
				      IN_DELETE_SELF | IN_MOVE_SELF |
				      IN_ONLYDIR) < 0) {
		dbops_log_error("could not watch directory \"%s\": %s",
				s->o->dir, strerror(errno));
		return -1;
	}
	if (sd_watchdog_enabled(0, &s->watchdog_usec) <= 0)
		s->watchdog_usec = 0;
	return 0;
}

static int check_dir(const char *dir)
{
	struct stat st;

	/* st is looked at only when stat() filled it; errno only when
	 * stat() failed (review 5.2: a stale errno named a plain file). */
	if (stat(dir, &st) != 0) {
		dbops_log_error("could not watch directory \"%s\": %s", dir,
				strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		dbops_log_error(
			"could not watch directory \"%s\": not a directory",
			dir);
		return -1;
	}
	return 0;
}

static int run(struct sync *s)
{
	int64_t wake;
	int rc;

	if (take_lock(s) != 0)
		return 1;
	sync_metrics(s);
	snap_ledger_name_index(&s->db);
	if (s->o->listen && start_http(s) != 0)
		return 1;
	if (!s->o->once && start_watch(s) != 0)
		return 1;
	if (scan(s) != 0)
		return 1;
	s->next_recheck_us = dbops_clock_us() + RECHECK_US;
	if (s->o->once)
		return run_once(s);
	sd_notify(0, "READY=1");
	drain(s, &wake);
	dbops_log_info("watching \"%s\" for %s", s->o->dir, s->pattern);
	rc = watch(s, wake) == 0 ? 0 : 1;
	sd_notify(0, "STOPPING=1");
	/* A service that stops as asked exits 0, whatever files failed on
	 * the way (they are in the ledger and were each reported). */
	if (rc == 0)
		dbops_log_reset_errors();
	return rc;
}

int snap_sync(const struct snap_opts *o)
{
	struct sync s = { .o = o,
			  .pattern = o->pattern ? o->pattern
						: SNAP_SYNC_DEFAULT_PATTERN,
			  .settle_us = o->settle_ms * 1000,
			  .inotify_fd = -1 };
	struct dbops_err err = { "" };
	int rc = 1;

	if (check_dir(o->dir) != 0)
		return 1;
	if (setup_signals() != 0) {
		dbops_log_error("could not set up: %s", strerror(errno));
		return 1;
	}
	snap_stats_init(&s.stats);
	snap_ftable_init(&s.files);
	if (snap_db_open(&s.db, o->database, o->table, o->timezone, o->encoding,
			 &err) != 0)
		dbops_log_error("%s", err.msg);
	else
		rc = run(&s);
	if (s.http)
		MHD_stop_daemon(s.http);
	if (s.inotify_fd >= 0)
		close(s.inotify_fd);
	snap_ftable_free(&s.files);
	snap_db_close(&s.db);
	snap_stats_free(&s.stats);
	for (int i = 0; i < 2; i++)
		if (wake_pipe[i] >= 0)
			close(wake_pipe[i]);
	return rc;
}
