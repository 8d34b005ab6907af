/*
 * up.c - dump-restore up: the root made ready, every chosen world brought
 * up on a few threads at once (common/parallel.h), a progress board on a
 * terminal, worlds.cnf rewritten and the summary printed. See commands.h.
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mysql.h>

#include "cli.h"
#include "clock.h"
#include "commands.h"
#include "log.h"
#include "telemetry.h"
#include "parallel.h"
#include "process.h"
#include "timestamp.h"
#include "utf8.h"
#include "world.h"
#include "xalloc.h"

struct up_job {
	const struct dr_dump **chosen;
	struct dr_world *worlds;
	size_t count;
	struct dr_up_opts opts;
	double *started;    /* when each world's load began to read, or 0 */
	double *ended;	    /* when its up ended (phase UP_ENDED) */
	_Atomic int *phase; /* UP_QUEUED, UP_BUSY, UP_ENDED */
	size_t height;	    /* the board's lines on the screen, 0: none */
	unsigned long mark; /* dbops_log_redraw()'s */
};

/* Where a world is: not begun (beyond -j), being brought up, or done. */
enum { UP_QUEUED, UP_BUSY, UP_ENDED };

static void up_one(void *arg, size_t i)
{
	struct up_job *job = arg;

	atomic_store(&job->phase[i], UP_BUSY);
	dr_world_up(&job->worlds[i], job->chosen[i], &job->opts);
	job->ended[i] = dbops_clock_seconds();
	atomic_store(&job->phase[i], UP_ENDED); /* after ended and status */
}

/* Connector/C wants each thread that uses it to say so. */
static void thread_start(void)
{
	mysql_thread_init();
}

static void thread_end(void)
{
	mysql_thread_end();
}

/* The board's classes, in the order it shows them when rows run short. */
enum board_class { B_BUSY, B_FAILED, B_QUEUED, B_DONE, B_CLASSES };

static enum board_class board_class(const struct up_job *job, size_t i)
{
	int phase = atomic_load(&job->phase[i]);

	if (phase == UP_QUEUED)
		return B_QUEUED;
	if (phase == UP_BUSY)
		return B_BUSY;
	return job->worlds[i].kept || job->worlds[i].status == DR_RUNNING
		       ? B_DONE
		       : B_FAILED;
}

/* World I's line, without newline, into LINE. */
static void board_line(struct up_job *job, size_t i, double now, char *line,
		       size_t len)
{
	struct dr_world *w = &job->worlds[i];
	uint64_t read = atomic_load(&w->load.read);

	switch (board_class(job, i)) {
	case B_QUEUED:
		snprintf(line, len, "%s: queued", w->name);
		break;
	case B_FAILED:
		snprintf(line, len, "%s: failed", w->name);
		break;
	case B_DONE:
		if (w->kept || job->started[i] == 0) {
			snprintf(line, len, "%s: %s", w->name,
				 w->kept ? "kept" : "done");
		} else {
			/* The bytes and the rate of the load, its clock
			 * stopped: no total, so no "100%" and no ETA. */
			char how[64];
			/* The world's own clock of its load: the board may
			 * first see a fast load after it ended. */
			double took = w->load_seconds > 0
					      ? w->load_seconds
					      : job->ended[i] - job->started[i];

			dbops_progress_format(how, sizeof(how), NULL, read, 0,
					      took, DBOPS_PROGRESS_BYTES);
			snprintf(line, len, "%s: done, %s, in %.1f s", w->name,
				 how, took);
		}
		break;
	default:
		if (read == 0)
			snprintf(line, len, "%s: starting", w->name);
		else
			dbops_progress_format(
				line, len, w->name, read, w->load.total,
				now - job->started[i], DBOPS_PROGRESS_BYTES);
	}
}

/* The terminal's rows and columns (0: not a terminal, no limit). */
static void terminal_size(size_t *rows, size_t *cols)
{
	struct winsize ws;

	*rows = *cols = 0;
	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0) {
		*rows = ws.ws_row;
		*cols = ws.ws_col;
	}
}

/* Append LINE to the board, cut to COLS - 1 columns so it never wraps. */
static void board_put(char *board, size_t *len, const char *line, size_t cols)
{
	size_t n = strlen(line);

	if (cols > 1 && n > cols - 1)
		n = dbops_utf8_cut(line, cols - 1);
	memcpy(board + *len, "\r", 1);
	memcpy(board + *len + 1, line, n);
	memcpy(board + *len + 1 + n, "\033[K\n", 4);
	*len += n + 5;
}

/*
 * One line per world on a terminal, redrawn in place: queued, starting,
 * the bytes read of the total with rate and time left, done, failed or
 * kept. It fits the terminal: with more worlds than rows, the busy ones
 * first, then failed, queued and done, and a last line counting those not
 * shown. Messages printed meanwhile are never drawn over
 * (dbops_log_redraw): the board is drawn again below them.
 */
static void draw_board(void *arg, size_t done)
{
	static const char *const words[] = { "busy", "failed", "queued",
					     "done" };
	struct up_job *job = arg;
	double now = dbops_clock_seconds();
	size_t rows, cols, room, shown = 0, hidden[B_CLASSES] = { 0 }, len = 0,
				 nhidden = 0;
	char line[256], *board;

	(void)done;
	terminal_size(&rows, &cols);
	room = rows == 0 || job->count < rows ? job->count
	       : rows > 2		      ? rows - 2
					      : 0;
	board = dbops_xmalloc((room + 1) * (sizeof(line) + 8) + 8);
	for (size_t i = 0; i < job->count; i++)
		if (job->started[i] == 0 &&
		    atomic_load(&job->worlds[i].load.read) > 0)
			job->started[i] = now;
	for (int c = 0; c < B_CLASSES; c++)
		for (size_t i = 0; i < job->count; i++) {
			if (board_class(job, i) != (enum board_class)c)
				continue;
			if (shown == room) {
				hidden[c]++;
				nhidden++;
				continue;
			}
			board_line(job, i, now, line, sizeof(line));
			board_put(board, &len, line, cols);
			shown++;
		}
	if (nhidden > 0) {
		int n = snprintf(line, sizeof(line), "%zu more:", nhidden);
		bool first = true;

		for (int c = 0; c < B_CLASSES; c++)
			if (hidden[c] > 0) {
				n += snprintf(line + n,
					      sizeof(line) - (size_t)n,
					      "%s %zu %s", first ? "" : ",",
					      hidden[c], words[c]);
				first = false;
			}
		board_put(board, &len, line, cols);
		shown++;
	}
	memcpy(board + len, "\033[J", 3); /* what an old, taller board left */
	dbops_log_redraw(board, len + 3, job->height, &job->mark);
	job->height = shown;
	free(board);
}

/* DIR and then FILE as one shell word: single-quoted when it must be. */
static void shell_quoted(const char *dir, const char *file)
{
	bool plain = strspn(dir, "abcdefghijklmnopqrstuvwxyz"
				 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
				 "/._-+=:,@%") == strlen(dir);

	if (plain) {
		printf("%s%s", dir, file);
		return;
	}
	putchar('\'');
	for (const char *p = dir; *p; p++)
		fputs(*p == '\'' ? "'\\''" : (char[]){ *p, 0 }, stdout);
	printf("%s'", file);
}

static void print_summary(const struct up_job *job, const char *root,
			  enum dbops_output_format format)
{
	struct dbops_output *w = dbops_output_new(stdout, format);
	static const char *const names[] = {
		"world",     "status", "port", "socket",      "dump",
		"dump_time", "tables", "rows", "load_seconds"
	};
	static const enum dbops_column_kind kinds[] = {
		DBOPS_COLUMN_TEXT,   DBOPS_COLUMN_TEXT,	  DBOPS_COLUMN_NUMBER,
		DBOPS_COLUMN_TEXT,   DBOPS_COLUMN_TEXT,	  DBOPS_COLUMN_TEXT,
		DBOPS_COLUMN_NUMBER, DBOPS_COLUMN_NUMBER, DBOPS_COLUMN_NUMBER
	};
	const char *first = NULL;

	if (w == NULL)
		return;
	for (int c = 0; c < 9; c++)
		dbops_output_add_column(w, names[c], kinds[c]);
	for (size_t i = 0; i < job->count; i++) {
		const struct dr_world *x = &job->worlds[i];
		char port[16], when[DBOPS_TIMESTAMP_LEN], tables[32], rows[32],
			secs[32];
		bool ok = x->status == DR_RUNNING;

		snprintf(port, sizeof(port), "%d", x->port);
		dbops_timestamp_format(x->dump_usec, when, sizeof(when));
		snprintf(tables, sizeof(tables), "%lld", (long long)x->tables);
		snprintf(rows, sizeof(rows), "%lld", (long long)x->rows);
		snprintf(secs, sizeof(secs), "%.3f", x->load_seconds);
		dbops_output_row_strings(
			w, (const char *[]){
				   x->name,
				   x->kept ? "kept" : dr_status_name(x->status),
				   ok ? port : NULL, ok ? x->socket : NULL,
				   x->dump, when, ok ? tables : NULL,
				   ok ? rows : NULL, ok ? secs : NULL });
		if (ok && first == NULL)
			first = x->name;
	}
	dbops_output_finish(w);
	dbops_output_free(w);
	if (first && format == DBOPS_FORMAT_TABLE) {
		printf("\nConnect to a world with:\n"
		       "  mariadb --defaults-extra-file=");
		shell_quoted(root, "/worlds.cnf");
		printf(" --defaults-group-suffix=_%s\n", first);
	}
}

/* mkdir -p, the last one with MODE. */
static int make_dirs(const char *path, mode_t mode)
{
	char tmp[PATH_MAX];
	struct stat st;

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, mode) != 0 && errno != EEXIST)
		return -1;
	if (stat(tmp, &st) != 0 || !S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

/*
 * The server users must reach the worlds' directories through ROOT. One we
 * make gets 0711; one that exists keeps the mode its owner gave it, and
 * when the servers run as "mysql" it must let that user through.
 */
static int prepare_root(const char *root)
{
	struct dbops_user mysql;
	struct stat st;
	bool drop;
	int err = 0;

	if (stat(root, &st) != 0) {
		if (errno == ENOENT && make_dirs(root, 0711) == 0 &&
		    chmod(root, 0711) == 0)
			return 0;
		dbops_log_error("could not create directory \"%s\": %s", root,
				strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		dbops_log_error("could not create directory \"%s\": %s", root,
				strerror(ENOTDIR));
		return -1;
	}
	if (dbops_user_for_server("mysql", &mysql, &drop) != 0 || !drop)
		return 0; /* the servers run as we do, or as no one yet */
	if (dbops_user_can_access(&mysql, root, X_OK, &err) != 0)
		return 0;
	dbops_log_error(
		"could not use \"%s\" as the root: user \"%s\" may not search it: %s",
		root, mysql.name, strerror(err));
	dbops_log_hint(
		"the servers run as \"%s\": let it search \"%s\" and every directory above it (chmod o+x), or choose another --root",
		mysql.name, root);
	return -1;
}

/*
 * A chosen world whose name differs only by case from one already under
 * ROOT: their worlds.cnf groups would be one. Reported; -1 if any.
 */
static int root_case_clash(const char *root, const struct up_job *job)
{
	char **names;
	int n, rc = 0;

	if (dr_world_list(root, &names, &n) != 0)
		return 0;
	for (size_t i = 0; i < job->count; i++)
		for (int k = 0; k < n; k++) {
			const char *w = job->chosen[i]->world;

			if (strcmp(names[k], w) == 0 ||
			    strcasecmp(names[k], w) != 0)
				continue;
			dbops_log_error(
				"could not use \"%s\": world \"%s\" differs only by case from world \"%s\" in \"%s\"",
				job->chosen[i]->path, w, names[k], root);
			dbops_log_hint(
				"rename the file, or take world \"%s\" down first",
				names[k]);
			rc = -1;
		}
	for (int k = 0; k < n; k++)
		free(names[k]);
	free(names);
	return rc;
}

/* Worlds an interrupted up left starting or loading become failed. */
static void settle_all(const char *root)
{
	char **names;
	int n;

	if (dr_world_list(root, &names, &n) != 0)
		return;
	for (int i = 0; i < n; i++) {
		struct dr_world w;

		if (dr_world_read(root, names[i], &w) == 0)
			dr_world_settle(&w);
		free(names[i]);
	}
	free(names);
}

/* Whether WORLD is among the chosen ones. */
static bool chosen_world(const struct up_job *job, const char *world)
{
	for (size_t i = 0; i < job->count; i++)
		if (strcmp(job->chosen[i]->world, world) == 0)
			return true;
	return false;
}

/*
 * The last line of an up that did not bring every world up, when it had
 * more than one: which worlds were skipped (no dump early enough) and
 * which failed. -1 if any.
 */
static int report_missing(const struct up_job *job,
			  const struct dr_catalog *cat)
{
	char list[2048] = "";
	size_t len = 0, skipped = 0, failed = 0;

	for (size_t i = 0; i < cat->count; i++) {
		const char *w = cat->dumps[i].world;
		bool seen = false;

		for (size_t k = 0; k < i && !seen; k++)
			seen = strcmp(cat->dumps[k].world, w) == 0;
		if (seen || chosen_world(job, w))
			continue;
		skipped++;
		if (len < sizeof(list))
			len += (size_t)snprintf(list + len, sizeof(list) - len,
						"%s\"%s\" (skipped)",
						len ? ", " : "", w);
	}
	for (size_t i = 0; i < job->count; i++) {
		if (job->worlds[i].status == DR_RUNNING)
			continue;
		failed++;
		if (len < sizeof(list))
			len += (size_t)snprintf(list + len, sizeof(list) - len,
						"%s\"%s\" (failed)",
						len ? ", " : "",
						job->worlds[i].name);
	}
	if (skipped + failed == 0)
		return 0;
	if (skipped + job->count == 1)
		return -1; /* its own line named it */
	dbops_log_error("%zu of %zu worlds not brought up: %s",
			skipped + failed, skipped + job->count, list);
	return -1;
}

static int up(const struct dr_opts *o, char **sources, int n)
{
	struct dr_catalog cat = { 0 };
	struct up_job job = { 0 };
	enum dbops_output_format format;
	char rootbuf[PATH_MAX];
	const char *root = dr_root(o, rootbuf, sizeof(rootbuf));
	struct dbops_parallel p = { .body = up_one,
				    .arg = &job,
				    .jobs = o->jobs,
				    .thread_start = thread_start,
				    .thread_end = thread_end };
	int rc, lock = -1;

	if (dr_parse_format(o, &format) != 0)
		return 1;
	if (o->share && getgrnam(o->share) == NULL)
		return dbops_cli_error("--share: no group \"%s\"", o->share);
	rc = dr_choose(o, sources, n, &cat, &job.chosen, &job.count);
	if (rc == 0 && (prepare_root(root) != 0 ||
			(lock = dr_root_lock(root, "up", true)) < 0))
		rc = 1;
	if (rc != 0)
		goto out;
	settle_all(root);
	if (root_case_clash(root, &job) != 0) {
		rc = 1;
		goto out;
	}
	job.worlds = dbops_xcalloc(job.count, sizeof(*job.worlds));
	job.started = dbops_xcalloc(job.count, sizeof(*job.started));
	job.ended = dbops_xcalloc(job.count, sizeof(*job.ended));
	job.phase = dbops_xcalloc(job.count, sizeof(*job.phase));
	job.opts = (struct dr_up_opts){ .root = root,
					.port_base = o->port_base,
					.nworlds = (int)job.count,
					.bindir = o->bindir,
					.database = o->database,
					.allow_incomplete = o->allow_incomplete,
					.keep_definer = o->keep_definer,
					.bind = o->bind[0] ? o->bind : NULL };
	for (size_t i = 0; i < job.count; i++) {
		snprintf(job.worlds[i].name, sizeof(job.worlds[i].name), "%s",
			 job.chosen[i]->world);
		snprintf(job.worlds[i].dir, sizeof(job.worlds[i].dir), "%s/%s",
			 root, job.chosen[i]->world);
	}
	if (o->progress == DBOPS_PROGRESS_ALWAYS ||
	    (o->progress == DBOPS_PROGRESS_AUTO && isatty(STDERR_FILENO)))
		p.tick = draw_board;
	p.count = job.count;
	dbops_parallel_for(&p);
	for (size_t i = 0; i < job.count; i++)
		if (job.worlds[i].status != DR_RUNNING)
			dbops_log_error("world \"%s\" from \"%s\": %s",
					job.worlds[i].name, job.chosen[i]->path,
					job.worlds[i].error.msg);
	if (dr_worlds_cnf_write(root, o->share) != 0)
		rc = 1;
	print_summary(&job, root, format);
	fflush(stdout);
	if (report_missing(&job, &cat) != 0)
		rc = 1;
	if (o->metrics_file &&
	    dr_metrics_write(o->metrics_file, job.worlds, job.count, &cat) != 0)
		rc = 1;
out:
	if (lock >= 0)
		close(lock);
	free(job.started);
	free(job.ended);
	free((void *)job.phase);
	free(job.worlds);
	free(job.chosen);
	dr_catalog_free(&cat);
	return rc;
}

int dr_cmd_up(const struct dr_opts *o, char **sources, int n)
{
	int rc;

	if (mysql_library_init(0, NULL, NULL) != 0) {
		dbops_log_error(
			"could not initialise the MariaDB client library");
		return 1;
	}
	rc = up(o, sources, n);
	mysql_library_end();
	return rc;
}
