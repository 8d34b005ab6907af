/*
 * main.c - dump-restore: bring back every game world as it was at a moment,
 * each in a private MariaDB server on this host, from timestamped .sql.gz
 * dumps. Options, the four commands, the worker pool of `up` and its
 * progress lines.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mysql.h>

#include "catalog.h"
#include "cli.h"
#include "log.h"
#include "output.h"
#include "paths.h"
#include "progress.h"
#include "timestamp.h"
#include "world.h"

struct dr_opts {
	const char *at;
	const char *format;
	const char *root;
	const char *bindir;
	int jobs;
	int port_base;
	enum dbops_progress_mode progress;
};

enum {
	OPT_AT = CHAR_MAX + 1,
	OPT_FORMAT,
	OPT_ROOT,
	OPT_JOBS,
	OPT_PORT_BASE,
	OPT_BINDIR,
	OPT_PROGRESS
};

static const struct option longopts[] = {
	{ "at", required_argument, NULL, OPT_AT },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "help", no_argument, NULL, 'h' },
	{ "jobs", required_argument, NULL, 'j' },
	{ "port-base", required_argument, NULL, OPT_PORT_BASE },
	{ "progress", required_argument, NULL, OPT_PROGRESS },
	{ "quiet", no_argument, NULL, 'q' },
	{ "root", required_argument, NULL, OPT_ROOT },
	{ "server-bindir", required_argument, NULL, OPT_BINDIR },
	{ "verbose", no_argument, NULL, 'v' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static void usage(void)
{
	fputs("Usage:\n"
	      " dump-restore plan   [--at TIME] [--format FORMAT] SOURCE...\n"
	      " dump-restore up     [--at TIME] [--root DIR] [--jobs N]\n"
	      "                     [--port-base PORT] SOURCE...\n"
	      " dump-restore status [--root DIR] [--format FORMAT]\n"
	      " dump-restore down   [--root DIR] [WORLD...]\n"
	      "\n"
	      "Restore every game world, as it was at a moment, each in a private\n"
	      "MariaDB server on this host, from <world>-<time>.sql.gz dumps.\n"
	      "\n"
	      "Options:\n"
	      "     --at TIME            each world's latest dump at or before TIME\n"
	      "     --format FORMAT      table, csv, tsv or json (default table)\n"
	      "     --root DIR           where the worlds live\n"
	      " -j, --jobs N             worlds loaded at once (default: the cores)\n"
	      "     --port-base PORT     first TCP port to try (default: any free)\n"
	      "     --server-bindir DIR  where mariadbd is, if not in PATH or /usr/sbin\n"
	      "     --progress WHEN      auto, always or never (default auto)\n"
	      " -q, --quiet              no informational messages\n"
	      " -v, --verbose            debugging messages\n"
	      " -h, --help               display this help\n"
	      " -V, --version            display version\n"
	      "\n"
	      "See dump-restore(1).\n",
	      stdout);
}

/* /var/lib/dbops/worlds for root, ~/.local/state/dbops/worlds otherwise. */
static const char *default_root(char *buf, size_t len)
{
	return dbops_state_dir("worlds", buf, len);
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

static int parse_format(const struct dr_opts *o, enum dbops_output_format *f)
{
	*f = DBOPS_FORMAT_TABLE;
	if (o->format && dbops_output_parse_format(o->format, f) != 0)
		return dbops_cli_error(
			"unknown format \"%s\": use table, csv, tsv or json",
			o->format);
	return 0;
}

static int choose(const struct dr_opts *o, char **sources, int n,
		  struct dr_catalog *cat, const struct dr_dump ***chosen,
		  size_t *count)
{
	int64_t at = 0;
	struct dbops_err err;

	if (n == 0)
		return dbops_cli_error(
			"no SOURCE: give directories of dumps or dump files");
	if (o->at && dbops_timestamp_parse(o->at, &at, &err) != 0) {
		dbops_log_error("invalid --at \"%s\": %s", o->at, err.msg);
		return 1;
	}
	if (dr_catalog_scan(cat, sources, n) != 0 ||
	    dr_catalog_choose(cat, o->at != NULL, at, chosen, count) != 0)
		return 1;
	return 0;
}

static int cmd_plan(const struct dr_opts *o, char **sources, int n)
{
	struct dr_catalog cat = { 0 };
	const struct dr_dump **chosen = NULL;
	enum dbops_output_format format;
	struct dbops_output *w;
	size_t count;
	int rc;

	if (parse_format(o, &format) != 0)
		return 1;
	rc = choose(o, sources, n, &cat, &chosen, &count);
	if (rc == 0 && (w = dbops_output_new(stdout, format)) != NULL) {
		dbops_output_add_column(w, "world", DBOPS_COLUMN_TEXT);
		dbops_output_add_column(w, "dump", DBOPS_COLUMN_TEXT);
		dbops_output_add_column(w, "dump_time", DBOPS_COLUMN_TEXT);
		dbops_output_add_column(w, "bytes", DBOPS_COLUMN_NUMBER);
		for (size_t i = 0; i < count; i++) {
			char when[DBOPS_TIMESTAMP_LEN], size[32];

			dbops_timestamp_format(chosen[i]->usec, when,
					       sizeof(when));
			snprintf(size, sizeof(size), "%lld",
				 (long long)chosen[i]->size);
			dbops_output_row_strings(
				w, (const char *[]){ chosen[i]->world,
						     chosen[i]->path, when,
						     size });
		}
		if (dbops_output_finish(w) != 0)
			rc = 1;
		dbops_output_free(w);
	}
	free(chosen);
	dr_catalog_free(&cat);
	return rc;
}

/* --- up ------------------------------------------------------------------ */

struct up_job {
	const struct dr_dump **chosen;
	struct dr_world *worlds;
	size_t count;
	_Atomic size_t next;
	_Atomic size_t done;
	struct dr_up_opts opts;
};

static void *worker(void *arg)
{
	struct up_job *job = arg;
	size_t i;

	mysql_thread_init();
	while ((i = atomic_fetch_add(&job->next, 1)) < job->count) {
		dr_world_up(&job->worlds[i], job->chosen[i], &job->opts);
		atomic_fetch_add(&job->done, 1);
	}
	mysql_thread_end();
	return NULL;
}

/*
 * One line per world on a terminal, redrawn in place: compressed bytes
 * read of the total, rate and time left.
 */
static void draw_board(struct up_job *job, double *started, double now,
		       bool redraw)
{
	char line[256];

	if (redraw)
		fprintf(stderr, "\033[%zuA", job->count);
	for (size_t i = 0; i < job->count; i++) {
		struct dr_world *w = &job->worlds[i];
		uint64_t read = atomic_load(&w->load.read);

		if (read > 0 && started[i] == 0)
			started[i] = now;
		if (w->kept)
			snprintf(line, sizeof(line), "%s: kept", w->name);
		else if (read == 0)
			snprintf(line, sizeof(line), "%s: %s", w->name,
				 w->status == DR_FAILED ? "failed"
							: "starting");
		else
			dbops_progress_format(line, sizeof(line), w->name, read,
					      w->load.total, now - started[i],
					      DBOPS_PROGRESS_BYTES);
		fprintf(stderr, "\r%s\033[K\n", line);
	}
	fflush(stderr);
}

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void run_workers(struct up_job *job, int jobs, bool board)
{
	pthread_t threads[64];
	int n = jobs < (int)job->count ? jobs : (int)job->count;
	double *started = calloc(job->count, sizeof(double));
	bool drawn = false;

	if (n > 64)
		n = 64;
	for (int t = 0; t < n; t++)
		pthread_create(&threads[t], NULL, worker, job);
	while (atomic_load(&job->done) < job->count) {
		if (board && started) {
			draw_board(job, started, mono_now(), drawn);
			drawn = true;
		}
		struct timespec nap = { 0, 200 * 1000000 };

		nanosleep(&nap, NULL);
	}
	for (int t = 0; t < n; t++)
		pthread_join(threads[t], NULL);
	if (board && started)
		draw_board(job, started, mono_now(), drawn);
	free(started);
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
	if (first && format == DBOPS_FORMAT_TABLE)
		printf("\nConnect to a world with:\n"
		       "  mariadb --defaults-extra-file=%s/worlds.cnf --defaults-group-suffix=_%s\n",
		       root, first);
}

static int cmd_up(const struct dr_opts *o, char **sources, int n)
{
	struct dr_catalog cat = { 0 };
	struct up_job job = { 0 };
	enum dbops_output_format format;
	char rootbuf[PATH_MAX];
	const char *root =
		o->root ? o->root : default_root(rootbuf, sizeof(rootbuf));
	bool board;
	int rc;

	if (parse_format(o, &format) != 0)
		return 1;
	rc = choose(o, sources, n, &cat, &job.chosen, &job.count);
	if (rc != 0)
		goto out;
	/* The server users must reach the worlds' directories through it. */
	if (make_dirs(root, 0711) != 0 || chmod(root, 0711) != 0) {
		dbops_log_error("could not create directory \"%s\": %s", root,
				strerror(errno));
		rc = 1;
		goto out;
	}
	job.worlds = calloc(job.count, sizeof(*job.worlds));
	if (job.worlds == NULL) {
		dbops_log_error("out of memory");
		rc = 1;
		goto out;
	}
	job.opts = (struct dr_up_opts){ .root = root,
					.port_base = o->port_base,
					.nworlds = (int)job.count,
					.bindir = o->bindir };
	for (size_t i = 0; i < job.count; i++) {
		snprintf(job.worlds[i].name, sizeof(job.worlds[i].name), "%s",
			 job.chosen[i]->world);
		snprintf(job.worlds[i].dir, sizeof(job.worlds[i].dir), "%s/%s",
			 root, job.chosen[i]->world);
	}
	board = o->progress == DBOPS_PROGRESS_ALWAYS ||
		(o->progress == DBOPS_PROGRESS_AUTO && isatty(STDERR_FILENO));
	run_workers(&job, o->jobs, board);
	for (size_t i = 0; i < job.count; i++)
		if (job.worlds[i].status != DR_RUNNING) {
			dbops_log_error("world \"%s\" from \"%s\": %s",
					job.worlds[i].name, job.chosen[i]->path,
					job.worlds[i].error.msg);
			rc = 1;
		}
	if (dr_worlds_cnf_write(root) != 0)
		rc = 1;
	print_summary(&job, root, format);
out:
	free(job.worlds);
	free(job.chosen);
	dr_catalog_free(&cat);
	return rc;
}

/* --- status and down ----------------------------------------------------- */

static int cmd_status(const struct dr_opts *o)
{
	static const char *const names[] = { "world",	       "status",
					     "port",	       "socket",
					     "dump",	       "dump_time",
					     "uptime_seconds", "disk_bytes" };
	static const enum dbops_column_kind kinds[] = {
		DBOPS_COLUMN_TEXT,   DBOPS_COLUMN_TEXT,	 DBOPS_COLUMN_NUMBER,
		DBOPS_COLUMN_TEXT,   DBOPS_COLUMN_TEXT,	 DBOPS_COLUMN_TEXT,
		DBOPS_COLUMN_NUMBER, DBOPS_COLUMN_NUMBER
	};
	enum dbops_output_format format;
	char rootbuf[PATH_MAX], **list;
	const char *root =
		o->root ? o->root : default_root(rootbuf, sizeof(rootbuf));
	struct dbops_output *w;
	int n;

	if (parse_format(o, &format) != 0)
		return 1;
	if (dr_world_list(root, &list, &n) != 0) {
		dbops_log_error("could not read \"%s\": %s", root,
				strerror(errno));
		return 1;
	}
	w = dbops_output_new(stdout, format);
	for (int c = 0; w && c < 8; c++)
		dbops_output_add_column(w, names[c], kinds[c]);
	for (int i = 0; w && i < n; i++) {
		struct dr_world x;
		char port[16], when[DBOPS_TIMESTAMP_LEN], up[32], disk[32];
		int64_t since = 0;
		bool running;

		if (dr_world_read(root, list[i], &x) != 0)
			continue;
		running =
			x.status == DR_RUNNING && dr_world_running(&x, &since);
		if (x.status == DR_RUNNING && !running)
			x.status = DR_STOPPED;
		snprintf(port, sizeof(port), "%d", x.port);
		dbops_timestamp_format(x.dump_usec, when, sizeof(when));
		snprintf(up, sizeof(up), "%lld",
			 (long long)(time(NULL) - since));
		snprintf(disk, sizeof(disk), "%lld",
			 (long long)dr_world_disk_usage(&x));
		dbops_output_row_strings(
			w, (const char *[]){ x.name, dr_status_name(x.status),
					     running ? port : NULL,
					     running ? x.socket : NULL, x.dump,
					     when, running ? up : NULL, disk });
	}
	for (int i = 0; i < n; i++)
		free(list[i]);
	free(list);
	if (w == NULL || dbops_output_finish(w) != 0) {
		dbops_output_free(w);
		return 1;
	}
	dbops_output_free(w);
	return 0;
}

static int cmd_down(const struct dr_opts *o, char **worlds, int n)
{
	char rootbuf[PATH_MAX], **list = NULL;
	const char *root =
		o->root ? o->root : default_root(rootbuf, sizeof(rootbuf));
	int count = 0, rc = 0;

	if (n == 0) {
		if (dr_world_list(root, &list, &count) != 0) {
			dbops_log_error("could not read \"%s\": %s", root,
					strerror(errno));
			return 1;
		}
		worlds = list;
		n = count;
	}
	for (int i = 0; i < n; i++) {
		if (dr_world_down(root, worlds[i]) != 0)
			rc = 1;
		else
			dbops_log_info("world \"%s\" stopped and removed",
				       worlds[i]);
	}
	for (int i = 0; i < count; i++)
		free(list[i]);
	free(list);
	if (access(root, F_OK) == 0 && dr_worlds_cnf_write(root) != 0)
		rc = 1;
	return rc;
}

static int parse_int(const char *text, const char *option, int min, int max,
		     int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (*text == '\0' || *end != '\0' || errno != 0 || v < min || v > max)
		return dbops_cli_error(
			"invalid value \"%s\" for option %s: use a number from %d to %d",
			text, option, min, max);
	*out = (int)v;
	return 0;
}

int main(int argc, char **argv)
{
	struct dr_opts o = { .progress = DBOPS_PROGRESS_AUTO };
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	const char *cmd;
	int c, rc;

	dbops_log_init(argv[0]);
	o.jobs = cores > 0 ? (int)cores : 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hj:qVv", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage();
			return 0;
		case 'j':
			if (parse_int(optarg, "--jobs", 1, 64, &o.jobs))
				return 1;
			break;
		case 'q':
			dbops_log_set_verbosity(DBOPS_LOG_QUIET);
			break;
		case 'V':
			printf("dump-restore %s\n", DBOPS_VERSION);
			return 0;
		case 'v':
			dbops_log_set_verbosity(DBOPS_LOG_VERBOSE);
			break;
		case OPT_AT:
			o.at = optarg;
			break;
		case OPT_BINDIR:
			o.bindir = optarg;
			break;
		case OPT_FORMAT:
			o.format = optarg;
			break;
		case OPT_JOBS:
			if (parse_int(optarg, "--jobs", 1, 64, &o.jobs))
				return 1;
			break;
		case OPT_PORT_BASE:
			if (parse_int(optarg, "--port-base", 1, 65535,
				      &o.port_base))
				return 1;
			break;
		case OPT_PROGRESS:
			if (dbops_progress_parse_mode(optarg, &o.progress) != 0)
				return dbops_cli_error(
					"invalid value \"%s\" for --progress: use auto, always or never",
					optarg);
			break;
		case OPT_ROOT:
			o.root = optarg;
			break;
		case ':':
			return dbops_cli_error("option \"%s\" needs a value",
					       argv[optind - 1]);
		default:
			return dbops_cli_error("unknown option \"%s\"",
					       argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return dbops_cli_error(
			"no command: use plan, up, status or down");
	cmd = argv[optind++];
	if (strcmp(cmd, "plan") == 0)
		return dbops_log_exit_status(
			cmd_plan(&o, argv + optind, argc - optind));
	if (strcmp(cmd, "status") == 0 || strcmp(cmd, "down") == 0) {
		if (o.at)
			return dbops_cli_error("--at belongs to plan and up");
		if (strcmp(cmd, "status") == 0)
			return dbops_log_exit_status(
				optind < argc
					? dbops_cli_error(
						  "status takes no arguments")
					: cmd_status(&o));
		return dbops_log_exit_status(
			cmd_down(&o, argv + optind, argc - optind));
	}
	if (strcmp(cmd, "up") != 0)
		return dbops_cli_error(
			"unknown command \"%s\": use plan, up, status or down",
			cmd);
	if (mysql_library_init(0, NULL, NULL) != 0) {
		dbops_log_error(
			"could not initialise the MariaDB client library");
		return 1;
	}
	rc = cmd_up(&o, argv + optind, argc - optind);
	mysql_library_end();
	return dbops_log_exit_status(rc);
}
