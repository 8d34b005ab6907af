/*
 * main.c - world-query: one SQL statement on every restored world at once,
 * one merged answer. Options, --list, --shell, and the printing.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mysql.h>

#include "cli.h"
#include "inventory.h"
#include "log.h"
#include "output.h"
#include "paths.h"
#include "process.h"
#include "query.h"
#include "telemetry.h"
#include "reduce.h"
#include "xalloc.h"

struct wq_opts {
	const char *root;
	const char *inventory;
	const char **worlds; /* -w patterns, nworlds of them */
	int nworlds;
	enum dbops_output_format format;
	const char *reduce;
	const char *shell;
	unsigned timeout; /* seconds, for Connector/C */
	bool list;
	bool write;		  /* --write: the statement may change data */
	const char *metrics_file; /* --metrics-file */
};

enum {
	OPT_ROOT = DBOPS_CLI_LONG_ID(0),
	OPT_INVENTORY = DBOPS_CLI_LONG_ID(1),
	OPT_FORMAT = DBOPS_CLI_LONG_ID(2),
	OPT_TIMEOUT = DBOPS_CLI_LONG_ID(3),
	OPT_REDUCE = DBOPS_CLI_LONG_ID(4),
	OPT_LIST = DBOPS_CLI_LONG_ID(5),
	OPT_SHELL = DBOPS_CLI_LONG_ID(6),
	OPT_WRITE = DBOPS_CLI_LONG_ID(7),
	OPT_METRICS_FILE = DBOPS_CLI_LONG_ID(8),
};

static const struct dbops_cli_option options[] = {
	{ OPT_ROOT, "root", "DIR", "the worlds of dump-restore --root DIR" },
	{ OPT_INVENTORY, "inventory", "FILE",
	  "an option file of [client_<world>] groups" },
	{ 'w', "world", "WORLD",
	  "only this world (repeatable; glob patterns)" },
	{ OPT_FORMAT, "format", "FORMAT",
	  "table, csv, tsv or json (default table)" },
	{ OPT_TIMEOUT, "timeout", "TIME",
	  "limit per world, such as 30s or 5m (default 60s)" },
	{ OPT_REDUCE, "reduce", "SQL",
	  "run SQL on the merged rows (SQLite table rows)" },
	{ OPT_WRITE, "write", NULL,
	  "let the statement change data (default: read only)" },
	{ OPT_METRICS_FILE, "metrics-file", "FILE",
	  "write Prometheus metrics to FILE at the end" },
	{ OPT_LIST, "list", NULL, "the worlds, and whether each answers" },
	{ OPT_SHELL, "shell", "WORLD",
	  "start the mariadb client on that world" },
	{ 0, NULL, NULL, NULL },
};

static const int exclusive[][DBOPS_CLI_GROUP_MAX] = {
	{ OPT_ROOT, OPT_INVENTORY },
	{ OPT_LIST, OPT_SHELL },
	{ 0 },
};

static const char *const synopsis[] = {
	"[options] SQL",
	"--list [--root DIR | --inventory FILE]",
	"--shell WORLD [--root DIR | --inventory FILE]",
	NULL,
};

/* In the order of enum dbops_output_format. */
static const char *const formats[] = { "table", "csv", "tsv", "json", NULL };

/* The longest --timeout: Connector/C counts its timeouts in seconds. */
#define TIMEOUT_MAX_MS (86400 * 1000)

static int set_option(void *ctx, int id, const char *arg)
{
	struct wq_opts *o = ctx;
	int64_t ms;
	int choice;

	switch (id) {
	case OPT_ROOT:
		o->root = arg;
		return 0;
	case OPT_INVENTORY:
		o->inventory = arg;
		return 0;
	case 'w':
		o->worlds = dbops_xreallocarray(
			o->worlds, (size_t)o->nworlds + 1, sizeof(*o->worlds));
		o->worlds[o->nworlds++] = arg;
		return 0;
	case OPT_FORMAT:
		if (dbops_cli_choice("--format", arg, formats, &choice) != 0)
			return -1;
		o->format = (enum dbops_output_format)choice;
		return 0;
	case OPT_TIMEOUT:
		if (dbops_cli_duration("--timeout", arg, 1000, TIMEOUT_MAX_MS,
				       &ms) != 0)
			return -1;
		/* A part of a second is a whole one: never less than asked. */
		o->timeout = (unsigned)((ms + 999) / 1000);
		return 0;
	case OPT_REDUCE:
		o->reduce = arg;
		return 0;
	case OPT_LIST:
		o->list = true;
		return 0;
	case OPT_WRITE:
		o->write = true;
		return 0;
	case OPT_METRICS_FILE:
		o->metrics_file = arg;
		return 0;
	case OPT_SHELL:
		o->shell = arg;
		return 0;
	}
	return -1;
}

static const struct dbops_cli cli = {
	.name = "world-query",
	.synopsis = synopsis,
	.about =
		"Run one SQL statement on every world at once and print one merged\n"
		"answer, its first column the world.\n",
	.sections = (const struct dbops_cli_section[]){ { "Options", options },
							{ NULL, NULL } },
	.exclusive = exclusive,
	.handle = set_option,
};

/* dump-restore's default root: its worlds.cnf is the default inventory. */
static void default_inventory(const struct wq_opts *o, char *buf, size_t len)
{
	char root[PATH_MAX];

	if (o->inventory)
		snprintf(buf, len, "%s", o->inventory);
	else
		snprintf(buf, len, "%s/worlds.cnf",
			 o->root ? o->root
				 : dbops_state_dir("worlds", root,
						   sizeof(root)));
}

/* A writer to stdout; dbops_output_new() fails only out of memory. */
static struct dbops_output *new_output(enum dbops_output_format format)
{
	struct dbops_output *w = dbops_output_new(stdout, format);

	if (w == NULL)
		dbops_xalloc_failed();
	return w;
}

static int print_row(void *arg, const struct dbops_value *values)
{
	return dbops_output_row(arg, values) != 0;
}

/* Report each failed world; returns how many failed. */
static size_t report_failures(const struct wq_result *r, size_t n)
{
	size_t failed = 0;

	for (size_t i = 0; i < n; i++)
		if (r[i].late)
			dbops_log_warning(
				"world \"%s\": the statement ended after the time limit, before its cancel reached the server: it took effect",
				r[i].world->name);
	for (size_t i = 0; i < n; i++)
		if (dbops_err_isset(&r[i].err)) {
			dbops_log_error("world \"%s\": %s", r[i].world->name,
					r[i].err.msg);
			failed++;
		}
	return failed;
}

/* Say which result columns were renamed because they were called world. */
static void warn_renamed(const struct wq_merge *m)
{
	for (unsigned c = 1; m->rows && c < m->ncols; c++)
		if (m->names[c] != m->fields[c - 1].name)
			dbops_log_warning(
				"the result's column \"%s\" is shown as \"%s\": the first column is the world",
				m->fields[c - 1].name, m->names[c]);
}

/* Print result set SET of the merge (rows, or --reduce's answer to them). */
static int print_set(const struct wq_opts *o, struct wq_result *r, size_t n,
		     unsigned set)
{
	struct dbops_output *w;
	struct wq_merge m;
	int rc;

	if (wq_merge_columns(r, n, set, &m) != 0)
		return 1;
	warn_renamed(&m);
	w = new_output(o->format);
	if (o->reduce) {
		rc = wq_reduce(r, n, &m, o->reduce, o->format, w) != 0;
	} else {
		if (o->format == DBOPS_FORMAT_JSON)
			wq_merge_json_kinds(r, n, &m);
		for (unsigned c = 0; c < m.ncols; c++)
			dbops_output_add_column(w, m.names[c], m.kinds[c]);
		rc = wq_merge_rows(r, n, &m, print_row, w) != 0;
	}
	if (dbops_output_finish(w) != 0) {
		dbops_log_error("could not write the answer: %s",
				strerror(errno));
		rc = 1;
	}
	dbops_output_free(w);
	wq_merge_free(&m);
	return rc;
}

static int run_query(const struct wq_opts *o, struct wq_inventory *inv,
		     const char *sql)
{
	struct wq_result *r = wq_run(inv, sql, o->timeout, o->write);
	unsigned sets = wq_merge_sets(r, inv->count);
	int rc = 0;

	if (sets == 0) {
		report_failures(r, inv->count);
		dbops_log_error("no world answered");
		if (o->metrics_file)
			wq_metrics_write(o->metrics_file, r, inv->count);
		wq_results_free(r, inv->count);
		return 1;
	}
	if (o->reduce && sets > 1) {
		dbops_log_error(
			"--reduce: the statement returned %u result sets, and --reduce reads one: nothing printed (the statement ran)",
			sets);
		dbops_log_hint(
			"run the statement without --reduce to see them all, or select only one");
		rc = 1;
		sets = 0;
	}
	/* Each result set (of a CALL) is its own table, in order. */
	for (unsigned k = 0; k < sets; k++) {
		if (k > 0 && o->format != DBOPS_FORMAT_JSON)
			putchar('\n'); /* json: one array after the other */
		if (print_set(o, r, inv->count, k) != 0)
			rc = 1;
	}
	/* The others' rows are out; now what went wrong, world by world. */
	if (report_failures(r, inv->count) > 0)
		rc = 1;
	if (o->metrics_file &&
	    wq_metrics_write(o->metrics_file, r, inv->count) != 0)
		rc = 1;
	wq_results_free(r, inv->count);
	return rc;
}

static int list_worlds(const struct wq_opts *o, struct wq_inventory *inv)
{
	struct wq_result *r = wq_run(inv, NULL, o->timeout, false);
	struct dbops_output *w = new_output(o->format);
	int rc = 0;

	dbops_output_add_column(w, "world", DBOPS_COLUMN_TEXT);
	dbops_output_add_column(w, "host", DBOPS_COLUMN_TEXT);
	dbops_output_add_column(w, "port", DBOPS_COLUMN_NUMBER);
	dbops_output_add_column(w, "socket", DBOPS_COLUMN_TEXT);
	dbops_output_add_column(w, "database", DBOPS_COLUMN_TEXT);
	dbops_output_add_column(w, "answers", DBOPS_COLUMN_TEXT);
	for (size_t i = 0; i < inv->count; i++) {
		const struct wq_world *x = &inv->worlds[i];

		dbops_output_row_strings(
			w, (const char *[]){
				   x->name, x->host[0] ? x->host : NULL,
				   x->port[0] ? x->port : NULL,
				   x->socket[0] ? x->socket : NULL,
				   x->database[0] ? x->database : NULL,
				   dbops_err_isset(&r[i].err) ? "no" : "yes" });
	}
	if (dbops_output_finish(w) != 0)
		rc = 1;
	dbops_output_free(w);
	if (report_failures(r, inv->count) > 0)
		rc = 1;
	wq_results_free(r, inv->count);
	return rc;
}

/* Replace ourselves with the mariadb (or mysql) client on that world. */
static int shell(const struct wq_inventory *inv, const char *world)
{
	const char *clients[] = { "mariadb", "mysql" };
	char *file, *suffix;

	if (wq_inventory_find(inv, world) == NULL) {
		dbops_log_error("no world \"%s\" in inventory \"%s\"", world,
				inv->path);
		return 1;
	}
	/* One argument each, whatever the path holds: no shell splits it. */
	file = dbops_xasprintf("--defaults-extra-file=%s", inv->path);
	suffix = dbops_xasprintf("--defaults-group-suffix=_%s", world);
	fflush(stdout);
	/* The world's password is in the inventory: a MYSQL_PWD of ours
	   would only sit in the client's environment. */
	dbops_process_forget_secrets();
	for (int i = 0; i < 2; i++) {
		/* --defaults-extra-file must come first. */
		char *const argv[] = { (char *)clients[i], file, suffix, NULL };

		execvp(clients[i], argv);
	}
	dbops_log_error("could not start the mariadb client: %s",
			strerror(errno));
	dbops_log_hint("install the Debian package mariadb-client");
	free(file);
	free(suffix);
	return 1;
}

/* The combination of options and operands; 0 or the usage error's 1. */
static int check_usage(const struct wq_opts *o, int argc)
{
	if ((o->list || o->shell) && argc > 0)
		return dbops_cli_error("--list and --shell take no SQL");
	if (!o->list && !o->shell && argc != 1)
		return dbops_cli_error(
			argc == 0
				? "no SQL statement given"
				: "give the SQL statement as one argument (quote it)");
	if ((o->list || o->shell) && (o->write || o->metrics_file))
		return dbops_cli_error(
			"--write and --metrics-file belong to a SQL statement");
	return 0;
}

/* A statement that may change data, without --write: refused, saying so. */
static bool refuse_write(const struct wq_opts *o,
			 const struct wq_inventory *inv, const char *sql)
{
	int n = (int)strcspn(sql, "\n");

	if (o->write || wq_statement_reads(sql))
		return false;
	dbops_log_error(
		"statement \"%.*s%s\" may change data or the schema: not run on any world",
		n > 60 ? 60 : n, sql, n > 60 || sql[n] ? "..." : "");
	dbops_log_hint("give --write to run it on the %zu world%s selected",
		       inv->count, inv->count == 1 ? "" : "s");
	return true;
}

static int run(const struct wq_opts *o, const char *sql)
{
	struct wq_inventory inv;
	struct dbops_err err = { "" };
	char path[PATH_MAX];
	int rc;

	default_inventory(o, path, sizeof(path));
	if (wq_inventory_read(path, &inv, &err) != 0) {
		dbops_log_error("%s", err.msg);
		if (access(path, F_OK) == 0 && access(path, R_OK) != 0)
			dbops_log_hint(
				"it is another user's: ask them to run dump-restore up --share GROUP for a group of yours");
		else if (o->inventory == NULL)
			dbops_log_hint(
				"bring worlds up with dump-restore up, or name an inventory with --inventory");
		return 1;
	}
	if (o->shell) {
		rc = shell(&inv, o->shell);
	} else if (wq_inventory_select(&inv, o->worlds, o->nworlds, &err) !=
		   0) {
		dbops_log_error("%s", err.msg);
		rc = 1;
	} else {
		rc = o->list			  ? list_worlds(o, &inv)
		     : refuse_write(o, &inv, sql) ? 1
						  : run_query(o, &inv, sql);
	}
	wq_inventory_free(&inv);
	return rc;
}

/* After the options: check the operands, then run with the client library. */
static int start(const struct wq_opts *o, int argc, char **argv)
{
	int rc;

	if (check_usage(o, argc) != 0)
		return 1;
	if (mysql_library_init(0, NULL, NULL) != 0) {
		dbops_log_error(
			"could not initialise the MariaDB client library");
		return 1;
	}
	rc = run(o, argc > 0 ? argv[0] : NULL);
	mysql_library_end();
	return rc;
}

int main(int argc, char **argv)
{
	struct wq_opts o = { .format = DBOPS_FORMAT_TABLE, .timeout = 60 };
	int first, rc;

	dbops_log_init(argv[0]);
	rc = dbops_cli_parse(&cli, &o, argc, argv, &first);
	if (rc == DBOPS_CLI_RUN)
		rc = start(&o, argc - first, argv + first);
	free(o.worlds);
	return dbops_log_exit_status(rc);
}
