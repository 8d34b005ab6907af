/*
 * main.c - snap-import: load CSV snapshot files into PostgreSQL, list what
 * was loaded, keep a folder synced as a service. Options, dispatch and the
 * per-file lines; the work is in import.c, list.c and sync.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "cli.h"
#include "db.h"
#include "import.h"
#include "ledger.h"
#include "listen.h"
#include "list.h"
#include "names.h"
#include "log.h"
#include "output.h"
#include "parallel.h"
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
	OPT_COPY_FORMAT,
	OPT_DATA_DIR,
	OPT_DELIMITER,
	OPT_QUOTE,
	OPT_NULL,
	OPT_HEADER,
	OPT_COLUMNS,
	OPT_TABLE_FROM_NAME,
	OPT_FORCE,
	OPT_SETTLE
};

static const struct dbops_cli_option common_options[] = {
	{ 'd', "database", "DB",
	  "host:port[/dbname], a conninfo string or a URI" },
	{ 't', "table", "TABLE",
	  "[schema.]table to load into (default " SNAP_DEFAULT_TABLE ")" },
	{ OPT_PROGRESS, "progress", "WHEN",
	  "auto, always or never (default auto)" },
	{ 0, NULL, NULL, NULL },
};

static const struct dbops_cli_option route_options[] = {
	{ OPT_TABLE_FROM_NAME, "table-from-name", "PATTERN",
	  "the table (and snapshot_date) from each file's name, such as snapshot_%Y%m%d.csv" },
	{ 0, NULL, NULL, NULL },
};

static const struct dbops_cli_option import_options[] = {
	{ OPT_METRICS_FILE, "metrics-file", "FILE",
	  "write Prometheus metrics to FILE at the end" },
	{ OPT_NAME, "name", "NAME",
	  "the name recorded for - (standard input)" },
	{ 'j', "jobs", "N", "files imported at once (default 1)" },
	{ OPT_FORCE, "force", NULL,
	  "import a content imported before again, replacing it" },
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
	{ OPT_COPY_FORMAT, "copy-format", "FORMAT",
	  "auto (binary when every value can be sent exactly) or csv" },
	{ 0, NULL, NULL, NULL },
};

static const struct dbops_cli_option dialect_options[] = {
	{ OPT_DELIMITER, "delimiter", "CHAR",
	  "the field separator, such as ; or tab (default a comma)" },
	{ OPT_QUOTE, "quote", "CHAR", "the quote character (default \")" },
	{ OPT_NULL, "null", "STRING",
	  "an unquoted field read as NULL (default: empty)" },
	{ OPT_HEADER, "header", "WHERE",
	  "first (the default: line 1 names the columns) or none" },
	{ OPT_COLUMNS, "columns", "A,B,...",
	  "the column names of files without a header" },
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
	{ OPT_DATA_DIR, "data-dir", "DIR", "the same as --dir" },
	{ OPT_PATTERN, "pattern", "GLOB",
	  "the file names to import (default *.csv, compressed too)" },
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

static const char *const header_words[] = { "first", "none", NULL };
static const char *const copy_format_words[] = { "auto", "csv", NULL };

/* --delimiter and --quote: one byte, not a line end; tab by name too. */
static int one_char(const char *option, const char *arg, char *out)
{
	if (strcmp(arg, "\\t") == 0 || strcmp(arg, "tab") == 0) {
		*out = '\t';
		return 0;
	}
	if (strlen(arg) != 1 || *arg == '\n' || *arg == '\r' ||
	    (unsigned char)*arg >= 0x80)
		return dbops_cli_invalid(
			option, arg,
			"use one ASCII character, not a line end, or tab");
	*out = *arg;
	return 0;
}

/* The dialect's options. 0, -1 after reporting, 1: not one of them. */
static int set_dialect(struct snap_opts *o, int id, const char *arg)
{
	struct dbops_err err = { "" };
	int i;

	if (id < OPT_DELIMITER || id > OPT_COLUMNS)
		return 1;
	o->dialect_given = true;
	switch (id) {
	case OPT_DELIMITER:
		return one_char("--delimiter", arg, &o->dialect.delimiter);
	case OPT_QUOTE:
		return one_char("--quote", arg, &o->dialect.quote);
	case OPT_NULL:
		if (strlen(arg) > SNAP_NULL_MAX || strpbrk(arg, "\r\n"))
			return dbops_cli_invalid(
				"--null", arg,
				"use at most %d bytes and no line end",
				SNAP_NULL_MAX);
		o->dialect.null = arg;
		return 0;
	case OPT_HEADER:
		if (dbops_cli_choice("--header", arg, header_words, &i) != 0)
			return -1;
		o->dialect.header = i == 0;
		return 0;
	case OPT_COLUMNS:
		snap_header_free(&o->columns);
		if (strpbrk(arg, "\r\n"))
			return dbops_cli_invalid("--columns", arg,
						 "a name holds a line end");
		if (snap_header_parse(arg, strlen(arg), true, &o->columns,
				      &err) != 0)
			return dbops_cli_invalid("--columns", arg, "%s",
						 *arg ? err.msg
						      : "give the names");
		return 0;
	}
	return 1;
}

/* The dialect's options together: what COPY would refuse, and --columns. */
static int check_dialect(const struct snap_opts *o)
{
	const struct snap_dialect *d = &o->dialect;

	if (d->delimiter == d->quote)
		return dbops_cli_error(
			"--delimiter and --quote must be different characters");
	if (strchr(d->null, d->delimiter) || strchr(d->null, d->quote))
		return dbops_cli_error(
			"--null may not contain the delimiter or the quote");
	if (!d->header && o->columns.count == 0)
		return dbops_cli_error(
			"--header none needs --columns A,B,... to name the columns");
	if (d->header && o->columns.count > 0)
		return dbops_cli_error(
			"--columns names the columns of files without a header: give --header none too");
	return 0;
}

static int set_option(void *ctx, int id, const char *arg)
{
	struct snap_opts *o = ctx;
	int i = set_dialect(o, id, arg);

	if (i <= 0)
		return i;
	switch (id) {
	case 'D':
	case OPT_DATA_DIR:
		o->dir = arg;
		return 0;
	case 'd':
		o->database = arg;
		return 0;
	case 't':
		o->table = arg;
		o->table_given = true;
		return 0;
	case OPT_TABLE_FROM_NAME: {
		struct dbops_err err = { "" };

		snap_name_pattern_free(&o->name_pattern);
		if (snap_name_pattern_parse(arg, &o->name_pattern, &err) != 0)
			return dbops_cli_invalid("--table-from-name", arg, "%s",
						 err.msg);
		return 0;
	}
	case OPT_ALL:
		o->all = true;
		return 0;
	case 'j':
		o->jobs_given = true;
		return dbops_cli_int("--jobs", arg, 1, DBOPS_PARALLEL_MAX,
				     &o->jobs);
	case OPT_FORCE:
		o->force = true;
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
	case OPT_COPY_FORMAT:
		if (dbops_cli_choice("--copy-format", arg, copy_format_words,
				     &i) != 0)
			return -1;
		o->types.copy_csv = i == 1;
		o->copy_format_given = true;
		return 0;
	case OPT_FORMAT:
		if (dbops_cli_choice("--format", arg, format_words, &i) != 0)
			return -1;
		o->format = formats[i];
		o->format_given = true;
		return 0;
	case OPT_LISTEN:
		if (dbops_listen_parse(arg, &o->listen_addr, &o->listen_len) !=
		    0)
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
			{ "Options for import and plan (instead of -t)",
			  route_options },
			{ "Options for import, plan, sync and retry (a new table)",
			  table_options },
			{ "Options for import, plan, sync and retry (the CSV dialect)",
			  dialect_options },
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

		printf("imported %s: %lld rows, %lld bytes, %.3f s, %.0f rows/s, snapshot %lld",
		       name, (long long)r->rows, (long long)r->bytes,
		       r->seconds, (double)r->rows / secs, (long long)r->id);
		if (r->replaced > 0)
			printf(", replacing snapshot %lld",
			       (long long)r->replaced);
		putchar('\n');
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

/* The connections of --table-from-name: one open at a time. */
struct router {
	const struct snap_opts *o;
	struct snap_db db;
	bool open;
	char *failed;	      /* the table that could not be opened ... */
	struct dbops_err why; /* ... and why */
};

/* R's connection to TABLE, opened unless it is the one open. 0, or -1. */
static int route(struct router *r, const char *table, bool date,
		 struct dbops_err *err)
{
	const struct snap_opts *o = r->o;

	if (r->open && strcmp(r->db.target, table) == 0)
		return 0;
	/* Once per table: a server that does not answer costs its
	 * timeout once. */
	if (r->failed && strcmp(r->failed, table) == 0)
		return dbops_err_set(err, "%s", r->why.msg);
	if (r->open)
		snap_db_close(&r->db);
	r->open = false;
	free(r->failed);
	r->failed = NULL;
	if (snap_db_open(&r->db, o->database, table, o->timezone, o->encoding,
			 err) != 0) {
		snap_db_close(&r->db);
		r->failed = dbops_xstrdup(table);
		dbops_err_set(&r->why, "%s", err->msg);
		return -1;
	}
	r->db.date_column = date;
	r->open = true;
	return 0;
}

/* One file of a --table-from-name import, counted in ST; its outcome. */
static enum snap_outcome import_routed(struct router *rt, const char *path,
				       const char *name,
				       struct snap_import_opts *iopts,
				       struct snap_stats *st)
{
	const struct snap_opts *o = rt->o;
	char date[SNAP_DATE_LEN], *table;
	struct snap_result r;
	enum snap_outcome out;

	if (snap_name_match(&o->name_pattern, name, &table, date) != 0) {
		dbops_log_error(
			"could not import \"%s\": its name does not match --table-from-name \"%s\"",
			name, o->name_pattern.pattern);
		snap_stats_count(st, SNAP_FAILED, NULL);
		return SNAP_FAILED;
	}
	memset(&r, 0, sizeof(r));
	if (route(rt, table, date[0] != '\0', &r.err) != 0) {
		dbops_log_error("could not import \"%s\": %s", name, r.err.msg);
		snap_stats_count(st, SNAP_FAILED, NULL);
		free(table);
		return SNAP_FAILED;
	}
	iopts->snapshot_date = date[0] ? date : NULL;
	out = snap_import_file(&rt->db, path, name, iopts, &r);
	report(name, out, &r);
	snap_stats_count(st, out, &r);
	free(table);
	return out;
}

/* snap-import --table-from-name FILE...: each file into its table. */
static int cmd_import_routed(const struct snap_opts *o, char **files,
			     int nfiles, struct snap_stats *st)
{
	struct snap_import_opts iopts = { .progress = o->progress,
					  .types = o->types,
					  .dialect = o->dialect,
					  .columns = &o->columns,
					  .force = o->force };
	struct router rt = { .o = o };
	int rc = 0;

	for (int i = 0; i < nfiles; i++) {
		const char *name =
			strcmp(files[i], "-") == 0 ? o->stdin_name : files[i];
		enum snap_outcome out =
			import_routed(&rt, files[i], name, &iopts, st);

		if (out == SNAP_FAILED)
			rc = 1;
	}
	if (rt.open)
		snap_db_close(&rt.db);
	free(rt.failed);
	return rc;
}

/* A file's outcome: printed and counted (batch.h calls one at a time). */
static void report_and_count(void *arg, const char *name, enum snap_outcome out,
			     const struct snap_result *r)
{
	report(name, out, r);
	snap_stats_count(arg, out, r);
}

/* The last success into the table, from the ledger, into ST's metric. */
static void last_success(const struct snap_opts *o, struct snap_stats *st)
{
	struct snap_db db;
	struct dbops_err err = { "" };
	double at;

	if (snap_db_open(&db, o->database, o->table, o->timezone, o->encoding,
			 &err) == 0 &&
	    snap_ledger_last_success(&db, &at, &err) == 0)
		dbops_metric_set(st->last_success, NULL, at);
	snap_db_close(&db);
}

static int cmd_import(const struct snap_opts *o, char **files, int nfiles)
{
	struct snap_stats st = { 0 };
	struct snap_batch b = {
		.o = o,
		.files = files,
		.nfiles = nfiles,
		.jobs = o->jobs,
		/* Progress lines of several files at once would mix. */
		.iopts = { .progress = o->jobs > 1 ? DBOPS_PROGRESS_NEVER
						   : o->progress,
			   .types = o->types,
			   .dialect = o->dialect,
			   .columns = &o->columns,
			   .force = o->force },
		.report = report_and_count,
		.report_arg = &st,
	};
	int rc;

	if (nfiles == 0)
		return dbops_cli_error("no file to import");
	for (int i = 0; i < nfiles; i++)
		if (strcmp(files[i], "-") == 0 && o->stdin_name == NULL)
			return dbops_cli_error(
				"reading standard input (-) needs --name NAME");
	snap_stats_init(&st);
	if (o->name_pattern.pattern)
		rc = cmd_import_routed(o, files, nfiles, &st);
	else
		rc = snap_import_batch(&b);
	/* A run that only skipped still knows the last success (S2-13). */
	if (rc == 0 && st.imported == 0 && o->metrics_file &&
	    !o->name_pattern.pattern)
		last_success(o, &st);
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
	struct snap_import_opts iopts = { .types = o->types,
					  .dialect = o->dialect,
					  .columns = &o->columns };
	int rc = 0;

	if (nfiles == 0)
		return dbops_cli_error("no file to plan");
	for (int i = 0; i < nfiles; i++) {
		struct dbops_err err = { "" };
		char date[SNAP_DATE_LEN] = "", *table = NULL, *qtable;

		if (nfiles > 1)
			printf("%s-- %s\n", i ? "\n" : "", files[i]);
		if (o->name_pattern.pattern &&
		    snap_name_match(&o->name_pattern, files[i], &table, date) !=
			    0) {
			dbops_log_error(
				"could not plan \"%s\": its name does not match --table-from-name \"%s\"",
				files[i], o->name_pattern.pattern);
			rc = 1;
			continue;
		}
		qtable = quote_table(table ? table : o->table);
		if (snap_plan_file(files[i], qtable, &iopts, stdout, &err) !=
		    0) {
			dbops_log_error("could not plan \"%s\": %s", files[i],
					err.msg);
			rc = 1;
		} else if (date[0]) {
			printf("-- and snapshot_date date: %s for every row, from the file's name\n",
			       date);
		}
		fflush(stdout);
		free(qtable);
		free(table);
	}
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
	if (!is_import && (o->jobs_given || o->force))
		return dbops_cli_error("--jobs and --force belong to import");
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
	if (!is_import && !is_sync && !is_retry && o->copy_format_given)
		return dbops_cli_error(
			"--copy-format belongs to import, sync and retry");
	if (is_plan &&
	    (o->database || o->progress_given || o->timezone || o->encoding))
		return dbops_cli_error(
			"plan reads the files only: it takes no --database, --progress, --timezone or --encoding");
	if (!is_import && !is_plan && !is_sync && !is_retry && o->dialect_given)
		return dbops_cli_error(
			"--delimiter, --quote, --null, --header and --columns belong to import, plan, sync and retry");
	if (check_dialect(o) != 0)
		return 1;
	if (o->name_pattern.pattern && !is_import && !is_plan)
		return dbops_cli_error(
			"--table-from-name belongs to import and plan: sync loads into one table (-t)");
	if (o->name_pattern.pattern && o->table_given)
		return dbops_cli_error(
			"-t and --table-from-name cannot be used together");
	if (o->name_pattern.pattern && o->jobs > 1)
		return dbops_cli_error(
			"--jobs and --table-from-name cannot be used together: the files of several tables are imported one at a time");
	if (is_sync && o->dir == NULL)
		return dbops_cli_error("sync needs -D DIR");
	return 0;
}

/* What the options hold: --types, --columns and --table-from-name. */
static void free_opts(struct snap_opts *o)
{
	snap_types_free(&o->types);
	snap_header_free(&o->columns);
	snap_name_pattern_free(&o->name_pattern);
}

/* CMD on the operands ARGV; the exit status. */
static int run_command(const char *cmd, struct snap_opts *o, char **argv,
		       int argc)
{
	if (strcmp(cmd, "plan") == 0)
		return dbops_log_exit_status(cmd_plan(o, argv, argc));
	if (strcmp(cmd, "list") == 0)
		return dbops_log_exit_status(cmd_list(o, argv, argc));
	if (strcmp(cmd, "retry") == 0 || strcmp(cmd, "forget") == 0)
		return dbops_log_exit_status(
			snap_retry(o, argv, argc, strcmp(cmd, "retry") == 0));
	if (strcmp(cmd, "sync") == 0) {
		if (argc > 0)
			return dbops_cli_error(
				"sync takes no file arguments: it imports what is in -D DIR");
		return dbops_log_exit_status(snap_sync(o));
	}
	return dbops_log_exit_status(cmd_import(o, argv, argc));
}

int main(int argc, char **argv)
{
	struct snap_opts o = { .table = SNAP_DEFAULT_TABLE,
			       .settle_ms = 5000,
			       .progress = DBOPS_PROGRESS_AUTO,
			       .jobs = 1,
			       .format = DBOPS_FORMAT_TABLE,
			       .dialect = SNAP_DIALECT_DEFAULT };
	const char *cmd = "import";
	int first, rc;

	dbops_log_init(argv[0]);
	/* Options may come before or after the command (GNU permutation). */
	rc = dbops_cli_parse(&cli, &o, argc, argv, &first);
	if (rc != DBOPS_CLI_RUN) {
		free_opts(&o);
		return rc;
	}
	/* The first operand names the command; a file called "list" is
	 * imported as "snap-import import list". */
	if (first < argc && (strcmp(argv[first], "import") == 0 ||
			     strcmp(argv[first], "list") == 0 ||
			     strcmp(argv[first], "plan") == 0 ||
			     strcmp(argv[first], "sync") == 0 ||
			     strcmp(argv[first], "retry") == 0 ||
			     strcmp(argv[first], "forget") == 0))
		cmd = argv[first++];
	rc = check_command_options(cmd, &o) != 0
		     ? 1
		     : run_command(cmd, &o, argv + first, argc - first);
	free_opts(&o);
	return rc;
}
