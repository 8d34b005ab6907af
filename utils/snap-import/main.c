/*
 * main.c - snap-import: load CSV snapshot files into PostgreSQL, list what
 * was loaded, keep a folder synced as a service. Options, dispatch and the
 * per-file lines; the work is in import.c, list.c and sync.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "db.h"
#include "import.h"
#include "ledger.h"
#include "list.h"
#include "log.h"
#include "output.h"
#include "progress.h"
#include "retry.h"
#include "stats.h"
#include "xalloc.h"
#include "sync.h"

enum {
	OPT_METRICS_FILE = DBOPS_CLI_LONG_ID(0),
	OPT_NAME,
	OPT_FORMAT,
	OPT_ALL,
	OPT_PATTERN,
	OPT_LISTEN,
	OPT_ONCE,
	OPT_PROGRESS,
	OPT_TYPES,
	OPT_ALL_TEXT,
	OPT_TIMEZONE,
	OPT_ENCODING,
	OPT_SETTLE
};

static const struct dbops_cli_option common_options[] = {
	{ 'd', "database", "DB", "host:port, a conninfo string or a URI" },
	{ 't', "table", "TABLE",
	  "[schema.]table to load into (default " SNAP_DEFAULT_TABLE ")" },
	{ OPT_PROGRESS, "progress", "WHEN",
	  "auto, always or never (default auto)" },
	{ 0, NULL, NULL, NULL },
};

static const struct dbops_cli_option import_options[] = {
	{ OPT_METRICS_FILE, "metrics-file", "FILE",
	  "write Prometheus metrics to FILE at the end" },
	{ OPT_NAME, "name", "NAME",
	  "the name recorded for - (standard input)" },
	{ 0, NULL, NULL, NULL },
};

static const struct dbops_cli_option table_options[] = {
	{ OPT_TYPES, "types", "COL=TYPE,...",
	  "the types of these columns of a new table" },
	{ OPT_ALL_TEXT, "all-text", NULL, "every column of a new table text" },
	{ OPT_TIMEZONE, "timezone", "ZONE",
	  "read timestamps without an offset in ZONE (default UTC)" },
	{ OPT_ENCODING, "encoding", "ENCODING",
	  "the files' encoding, such as LATIN1 (default UTF8)" },
	{ 0, NULL, NULL, NULL },
};

static const struct dbops_cli_option list_options[] = {
	{ OPT_FORMAT, "format", "FORMAT",
	  "table, csv, tsv or json (default table)" },
	{ OPT_ALL, "all", NULL, "failed files too, with their error" },
	{ 0, NULL, NULL, NULL },
};

static const struct dbops_cli_option sync_options[] = {
	{ 'D', "dir", "DIR", "the folder to keep synced" },
	{ OPT_PATTERN, "pattern", "GLOB",
	  "the file names to import (default *.csv)" },
	{ OPT_LISTEN, "listen", "ADDR:PORT", "serve /metrics there" },
	{ OPT_ONCE, "once", NULL, "import what is there, then exit" },
	{ OPT_SETTLE, "settle", "DURATION",
	  "a file closed but not renamed in is complete once unchanged this long (default 5s)" },
	{ 0, NULL, NULL, NULL },
};

/* The words of --progress and --format, and what each stands for. */
static const char *const progress_words[] = { "auto", "always", "never", NULL };
static const enum dbops_progress_mode progress_modes[] = {
	DBOPS_PROGRESS_AUTO, DBOPS_PROGRESS_ALWAYS, DBOPS_PROGRESS_NEVER
};
static const char *const format_words[] = { "table", "csv", "tsv", "json",
					    NULL };
static const enum dbops_output_format formats[] = { DBOPS_FORMAT_TABLE,
						    DBOPS_FORMAT_CSV,
						    DBOPS_FORMAT_TSV,
						    DBOPS_FORMAT_JSON };

static int set_option(void *ctx, int id, const char *arg)
{
	struct snap_opts *o = ctx;
	int i;

	switch (id) {
	case 'D':
		o->dir = arg;
		return 0;
	case 'd':
		o->database = arg;
		return 0;
	case 't':
		o->table = arg;
		return 0;
	case OPT_ALL:
		o->all = true;
		return 0;
	case OPT_ALL_TEXT:
		o->types.all_text = true;
		return 0;
	case OPT_TYPES: {
		struct dbops_err err = { "" };

		if (snap_types_parse(arg, &o->types, &err) != 0)
			return dbops_cli_invalid("--types", arg, "%s", err.msg);
		o->types_given = true;
		return 0;
	}
	case OPT_TIMEZONE:
		o->timezone = arg;
		return 0;
	case OPT_ENCODING:
		o->encoding = arg;
		return 0;
	case OPT_FORMAT:
		if (dbops_cli_choice("--format", arg, format_words, &i) != 0)
			return -1;
		o->format = formats[i];
		o->format_given = true;
		return 0;
	case OPT_LISTEN:
		if (snap_sync_parse_listen(arg, &o->listen_addr,
					   &o->listen_len) != 0)
			return dbops_cli_invalid(
				"--listen", arg,
				"use ADDR:PORT (a port from 1 to 65535), such as 127.0.0.1:9187");
		o->listen = arg;
		return 0;
	case OPT_METRICS_FILE:
		o->metrics_file = arg;
		return 0;
	case OPT_NAME:
		o->stdin_name = arg;
		return 0;
	case OPT_ONCE:
		o->once = true;
		return 0;
	case OPT_SETTLE:
		o->settle_given = true;
		return dbops_cli_duration("--settle", arg, 0,
					  24 * 3600 * 1000LL, &o->settle_ms);
	case OPT_PATTERN:
		o->pattern = arg;
		return 0;
	case OPT_PROGRESS:
		if (dbops_cli_choice("--progress", arg, progress_words, &i) !=
		    0)
			return -1;
		o->progress = progress_modes[i];
		o->progress_given = true;
		return 0;
	}
	return -1;
}

static const char *const synopsis[] = { "[import] [options] FILE...",
					"plan [options] FILE...",
					"list [options] [FILE...]",
					"sync -D DIR [options]",
					"retry [options] FILE...",
					"forget [options] FILE...",
					NULL };

static const struct dbops_cli cli = {
	.name = "snap-import",
	.synopsis = synopsis,
	.about =
		"Load CSV snapshot files into PostgreSQL with COPY, each file in one\n"
		"transaction and never twice; list what was loaded; keep a folder synced.\n",
	.sections =
		(const struct dbops_cli_section[]){
			{ "Options", common_options },
			{ "Options for import", import_options },
			{ "Options for import, plan and sync (a new table)",
			  table_options },
			{ "Options for list", list_options },
			{ "Options for sync", sync_options },
			{ NULL, NULL } },
	.handle = set_option,
};

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
	struct snap_import_opts iopts = { .progress = o->progress,
					  .types = o->types };
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
	if (snap_db_open(&db, o->database, o->table, o->timezone, o->encoding,
			 &err) != 0) {
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
	/* A run that only skipped still knows the last success (S2-13). */
	if (rc == 0 && st.imported == 0) {
		double at;

		if (snap_ledger_last_success(&db, &at, &err) == 0)
			dbops_metric_set(st.last_success, NULL, at);
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
	struct snap_db db;
	struct dbops_err err = { "" };
	int rc;

	if (snap_db_open(&db, o->database, o->table, NULL, NULL, &err) != 0) {
		dbops_log_error("%s", err.msg);
		snap_db_close(&db);
		return 1;
	}
	rc = snap_list(&db, o->format, o->all, files, nfiles);
	snap_db_close(&db);
	return rc != 0;
}

/* -t as a quoted, qualified name, for plan (no connection to quote it). */
static char *quote_table(const char *table)
{
	size_t n = strlen(table);
	char *q = dbops_xmalloc(2 * n + 6), *o = q;

	*o++ = '"';
	for (const char *s = table; *s; s++) {
		if (*s == '.' && strchr(s + 1, '.') == NULL &&
		    strchr(table, '.') == s) {
			*o++ = '"';
			*o++ = '.';
			*o++ = '"';
			continue;
		}
		if (*s == '"')
			*o++ = '"';
		*o++ = *s;
	}
	*o++ = '"';
	*o = '\0';
	return q;
}

/* snap-import plan: what a first import would create, without a database. */
static int cmd_plan(const struct snap_opts *o, char **files, int nfiles)
{
	struct snap_import_opts iopts = { .types = o->types };
	char *qtable = quote_table(o->table);
	int rc = 0;

	if (nfiles == 0) {
		free(qtable);
		return dbops_cli_error("no file to plan");
	}
	for (int i = 0; i < nfiles; i++) {
		struct dbops_err err = { "" };

		if (nfiles > 1)
			printf("%s-- %s\n", i ? "\n" : "", files[i]);
		if (snap_plan_file(files[i], qtable, &iopts, stdout, &err) !=
		    0) {
			dbops_log_error("could not plan \"%s\": %s", files[i],
					err.msg);
			rc = 1;
		}
		fflush(stdout);
	}
	free(qtable);
	return rc;
}

/* Options that belong to one command only. */
static int check_command_options(const char *cmd, const struct snap_opts *o)
{
	bool is_import = strcmp(cmd, "import") == 0;
	bool is_plan = strcmp(cmd, "plan") == 0;
	bool is_list = strcmp(cmd, "list") == 0;
	bool is_sync = strcmp(cmd, "sync") == 0;
	bool is_retry = strcmp(cmd, "retry") == 0;

	if (!is_import && (o->metrics_file || o->stdin_name))
		return dbops_cli_error(
			"--metrics-file and --name belong to import");
	if (!is_list && (o->format_given || o->all))
		return dbops_cli_error("--format and --all belong to list");
	if (!is_sync &&
	    (o->dir || o->pattern || o->listen || o->once || o->settle_given))
		return dbops_cli_error(
			"--dir, --pattern, --listen, --once and --settle belong to sync");
	if (!is_import && !is_plan && !is_sync && !is_retry &&
	    (o->types_given || o->types.all_text || o->timezone || o->encoding))
		return dbops_cli_error(
			"--types, --all-text, --timezone and --encoding belong to import, plan, sync and retry");
	if (is_plan &&
	    (o->database || o->progress_given || o->timezone || o->encoding))
		return dbops_cli_error(
			"plan reads the files only: it takes no --database, --progress, --timezone or --encoding");
	if (is_sync && o->dir == NULL)
		return dbops_cli_error("sync needs -D DIR");
	return 0;
}

int main(int argc, char **argv)
{
	struct snap_opts o = { .table = SNAP_DEFAULT_TABLE,
			       .settle_ms = 5000,
			       .progress = DBOPS_PROGRESS_AUTO,
			       .format = DBOPS_FORMAT_TABLE };
	const char *cmd = "import";
	int first, rc;

	dbops_log_init(argv[0]);
	/* Options may come before or after the command (GNU permutation). */
	rc = dbops_cli_parse(&cli, &o, argc, argv, &first);
	if (rc != DBOPS_CLI_RUN)
		return rc;
	/* The first operand names the command; a file called "list" is
	 * imported as "snap-import import list". */
	if (first < argc && (strcmp(argv[first], "import") == 0 ||
			     strcmp(argv[first], "list") == 0 ||
			     strcmp(argv[first], "plan") == 0 ||
			     strcmp(argv[first], "sync") == 0 ||
			     strcmp(argv[first], "retry") == 0 ||
			     strcmp(argv[first], "forget") == 0))
		cmd = argv[first++];
	if (check_command_options(cmd, &o) != 0)
		return 1;
	if (strcmp(cmd, "plan") == 0) {
		rc = cmd_plan(&o, argv + first, argc - first);
		snap_types_free(&o.types);
		return dbops_log_exit_status(rc);
	}
	if (strcmp(cmd, "list") == 0)
		return dbops_log_exit_status(
			cmd_list(&o, argv + first, argc - first));
	if (strcmp(cmd, "retry") == 0 || strcmp(cmd, "forget") == 0)
		return dbops_log_exit_status(
			snap_retry(&o, argv + first, argc - first,
				   strcmp(cmd, "retry") == 0));
	if (strcmp(cmd, "sync") == 0) {
		if (first < argc)
			return dbops_cli_error(
				"sync takes no file arguments: it imports what is in -D DIR");
		return dbops_log_exit_status(snap_sync(&o));
	}
	return dbops_log_exit_status(
		cmd_import(&o, argv + first, argc - first));
}
