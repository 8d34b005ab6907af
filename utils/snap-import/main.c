/*
 * main.c - snap-import: load CSV snapshot files into PostgreSQL, list what
 * was loaded, keep a folder synced as a service. Options, dispatch and the
 * per-file lines; the work is in import.c, list.c and sync.c.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "import.h"
#include "list.h"
#include "cli.h"
#include "log.h"
#include "output.h"
#include "progress.h"
#include "stats.h"
#include "sync.h"

enum {
	OPT_METRICS_FILE = CHAR_MAX + 1,
	OPT_NAME,
	OPT_FORMAT,
	OPT_ALL,
	OPT_PATTERN,
	OPT_LISTEN,
	OPT_ONCE,
	OPT_PROGRESS
};

static const struct option longopts[] = {
	{ "all", no_argument, NULL, OPT_ALL },
	{ "database", required_argument, NULL, 'd' },
	{ "dir", required_argument, NULL, 'D' },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "help", no_argument, NULL, 'h' },
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "metrics-file", required_argument, NULL, OPT_METRICS_FILE },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "once", no_argument, NULL, OPT_ONCE },
	{ "pattern", required_argument, NULL, OPT_PATTERN },
	{ "progress", required_argument, NULL, OPT_PROGRESS },
	{ "quiet", no_argument, NULL, 'q' },
	{ "table", required_argument, NULL, 't' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static void usage(void)
{
	fputs("Usage:\n"
	      " snap-import [import] [options] FILE...\n"
	      " snap-import list [options] [FILE...]\n"
	      " snap-import sync -D DIR [options]\n"
	      "\n"
	      "Load CSV snapshot files into PostgreSQL with COPY, each file in one\n"
	      "transaction and never twice; list what was loaded; keep a folder synced.\n"
	      "\n"
	      "Options:\n"
	      " -d, --database DB        host:port, a conninfo string or a URI\n"
	      " -t, --table TABLE        [schema.]table to load into (default snapshots)\n"
	      " -q, --quiet              no informational messages\n"
	      " -v, --verbose            debugging messages\n"
	      "     --progress WHEN      auto, always or never (default auto)\n"
	      "\n"
	      "import:\n"
	      "     --metrics-file FILE  write Prometheus metrics to FILE at the end\n"
	      "     --name NAME          the name recorded for - (standard input)\n"
	      "\n"
	      "list:\n"
	      "     --format FORMAT      table, csv, tsv or json (default table)\n"
	      "     --all                failed files too, with their error\n"
	      "\n"
	      "sync:\n"
	      " -D, --dir DIR            the folder to keep synced\n"
	      "     --pattern GLOB       the file names to import (default *.csv)\n"
	      "     --listen ADDR:PORT   serve /metrics there\n"
	      "     --once               import what is there, then exit\n"
	      "\n"
	      " -h, --help               display this help\n"
	      " -V, --version            display version\n"
	      "\n"
	      "See snap-import(1).\n",
	      stdout);
}

/* Print one file's outcome; errors go to the log. */
static void report(const char *name, enum snap_outcome out,
		   const struct snap_result *r)
{
	switch (out) {
	case SNAP_IMPORTED: {
		double secs = r->seconds > 1e-6 ? r->seconds : 1e-6;

		printf("imported %s: %lld rows, %lld bytes, %.3f s, %.0f rows/s, snapshot %lld\n",
		       name, (long long)r->rows, (long long)r->bytes,
		       r->seconds, (double)r->rows / secs, (long long)r->id);
		break;
	}
	case SNAP_SKIPPED:
		printf("skipped %s: already imported at %s as \"%s\", snapshot %lld\n",
		       name, r->found.at, r->found.name,
		       (long long)r->found.id);
		break;
	case SNAP_KNOWN_FAILED:
		printf("skipped %s: failed at %s and unchanged since: %s\n",
		       name, r->found.at, r->found.error);
		break;
	case SNAP_FAILED:
		dbops_log_error("could not import \"%s\": %s", name,
				r->err.msg);
		break;
	case SNAP_INTERRUPTED:
		dbops_log_warning(
			"import of \"%s\" interrupted and rolled back", name);
		break;
	}
	fflush(stdout);
}

static int cmd_import(const struct snap_opts *o, char **files, int nfiles)
{
	struct snap_import_opts iopts = { .progress = o->progress };
	struct snap_stats st = { 0 };
	struct snap_db db;
	struct dbops_err err = { "" };
	int rc = 0;

	if (nfiles == 0)
		return dbops_cli_error("no file to import");
	for (int i = 0; i < nfiles; i++)
		if (strcmp(files[i], "-") == 0 && o->stdin_name == NULL)
			return dbops_cli_error(
				"reading standard input (-) needs --name NAME");
	snap_stats_init(&st);
	if (snap_db_open(&db, o->database, o->table, &err) != 0) {
		/* No file can be imported: say so for each. */
		for (int i = 0; i < nfiles; i++) {
			dbops_log_error("could not import \"%s\": %s",
					strcmp(files[i], "-") ? files[i]
							      : o->stdin_name,
					err.msg);
			snap_stats_count(&st, SNAP_FAILED, NULL);
		}
		rc = 1;
	} else {
		for (int i = 0; i < nfiles; i++) {
			const char *name = strcmp(files[i], "-") == 0
						   ? o->stdin_name
						   : files[i];
			struct snap_result r;
			enum snap_outcome out = snap_import_file(
				&db, files[i], name, &iopts, &r);

			report(name, out, &r);
			snap_stats_count(&st, out, &r);
			if (out == SNAP_FAILED)
				rc = 1;
		}
	}
	snap_db_close(&db);
	if (o->metrics_file &&
	    dbops_metrics_write_file(st.metrics, o->metrics_file) != 0) {
		dbops_log_error("could not write metrics file \"%s\": %s",
				o->metrics_file, strerror(errno));
		rc = 1;
	}
	snap_stats_free(&st);
	return rc;
}

static int cmd_list(const struct snap_opts *o, char **files, int nfiles)
{
	enum dbops_output_format format = DBOPS_FORMAT_TABLE;
	struct snap_db db;
	struct dbops_err err = { "" };
	int rc;

	if (o->format && dbops_output_parse_format(o->format, &format) != 0)
		return dbops_cli_error(
			"unknown format \"%s\": use table, csv, tsv or json",
			o->format);
	if (snap_db_open(&db, o->database, o->table, &err) != 0) {
		dbops_log_error("%s", err.msg);
		snap_db_close(&db);
		return 1;
	}
	rc = snap_list(&db, format, o->all, files, nfiles);
	snap_db_close(&db);
	return rc != 0;
}

/* Options that belong to one command only. */
static int check_command_options(const char *cmd, const struct snap_opts *o)
{
	bool is_import = strcmp(cmd, "import") == 0;
	bool is_list = strcmp(cmd, "list") == 0;
	bool is_sync = strcmp(cmd, "sync") == 0;

	if (!is_import && (o->metrics_file || o->stdin_name))
		return dbops_cli_error(
			"--metrics-file and --name belong to import");
	if (!is_list && (o->format || o->all))
		return dbops_cli_error("--format and --all belong to list");
	if (!is_sync && (o->dir || o->pattern || o->listen || o->once))
		return dbops_cli_error(
			"--dir, --pattern, --listen and --once belong to sync");
	if (is_sync && o->dir == NULL)
		return dbops_cli_error("sync needs -D DIR");
	return 0;
}

int main(int argc, char **argv)
{
	struct snap_opts o = { .table = SNAP_DEFAULT_TABLE,
			       .progress = DBOPS_PROGRESS_AUTO };
	enum dbops_progress_mode progress;
	const char *cmd = "import";
	int c;

	dbops_log_init(argv[0]);
	/* Options may come before or after the command (GNU permutation). */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":D:d:hqt:Vv", longopts, NULL)) !=
	       -1) {
		switch (c) {
		case 'D':
			o.dir = optarg;
			break;
		case 'd':
			o.database = optarg;
			break;
		case 'h':
			usage();
			return 0;
		case 'q':
			dbops_log_set_verbosity(DBOPS_LOG_QUIET);
			break;
		case 't':
			o.table = optarg;
			break;
		case 'V':
			printf("snap-import %s\n", DBOPS_VERSION);
			return 0;
		case 'v':
			dbops_log_set_verbosity(DBOPS_LOG_VERBOSE);
			break;
		case OPT_ALL:
			o.all = true;
			break;
		case OPT_FORMAT:
			o.format = optarg;
			break;
		case OPT_LISTEN:
			o.listen = optarg;
			break;
		case OPT_METRICS_FILE:
			o.metrics_file = optarg;
			break;
		case OPT_NAME:
			o.stdin_name = optarg;
			break;
		case OPT_ONCE:
			o.once = true;
			break;
		case OPT_PATTERN:
			o.pattern = optarg;
			break;
		case OPT_PROGRESS:
			if (dbops_progress_parse_mode(optarg, &progress) != 0)
				return dbops_cli_error(
					"invalid value \"%s\" for --progress: use auto, always or never",
					optarg);
			o.progress = (int)progress;
			break;
		case ':':
			return dbops_cli_error("option \"%s\" needs a value",
					       argv[optind - 1]);
		default:
			return dbops_cli_error("unknown option \"%s\"",
					       argv[optind - 1]);
		}
	}
	/* The first operand names the command; a file called "list" is
	 * imported as "snap-import import list". */
	if (optind < argc && (strcmp(argv[optind], "import") == 0 ||
			      strcmp(argv[optind], "list") == 0 ||
			      strcmp(argv[optind], "sync") == 0))
		cmd = argv[optind++];
	if (check_command_options(cmd, &o) != 0)
		return 1;
	if (strcmp(cmd, "list") == 0)
		return dbops_log_exit_status(
			cmd_list(&o, argv + optind, argc - optind));
	if (strcmp(cmd, "sync") == 0) {
		if (optind < argc)
			return dbops_cli_error(
				"sync takes no file arguments: it imports what is in -D DIR");
		return dbops_log_exit_status(snap_sync(&o));
	}
	return dbops_log_exit_status(
		cmd_import(&o, argv + optind, argc - optind));
}
