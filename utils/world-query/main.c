/*
 * main.c - world-query: one SQL statement on every restored world at once,
 * one merged answer. Options, --list, --shell, and the printing.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mysql.h>

#include "inventory.h"
#include "cli.h"
#include "log.h"
#include "output.h"
#include "paths.h"
#include "query.h"
#include "reduce.h"

struct wq_opts {
	const char *root;
	const char *inventory;
	char **worlds;
	int nworlds;
	const char *format;
	const char *reduce;
	const char *shell;
	int timeout;
	bool list;
};

enum {
	OPT_ROOT = CHAR_MAX + 1,
	OPT_INVENTORY,
	OPT_FORMAT,
	OPT_TIMEOUT,
	OPT_REDUCE,
	OPT_LIST,
	OPT_SHELL
};

static const struct option longopts[] = {
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "help", no_argument, NULL, 'h' },
	{ "inventory", required_argument, NULL, OPT_INVENTORY },
	{ "list", no_argument, NULL, OPT_LIST },
	{ "quiet", no_argument, NULL, 'q' },
	{ "reduce", required_argument, NULL, OPT_REDUCE },
	{ "root", required_argument, NULL, OPT_ROOT },
	{ "shell", required_argument, NULL, OPT_SHELL },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "verbose", no_argument, NULL, 'v' },
	{ "version", no_argument, NULL, 'V' },
	{ "world", required_argument, NULL, 'w' },
	{ NULL, 0, NULL, 0 },
};

static void usage(void)
{
	fputs("Usage:\n"
	      " world-query [options] SQL\n"
	      " world-query --list [--root DIR | --inventory FILE]\n"
	      " world-query --shell WORLD [--root DIR | --inventory FILE]\n"
	      "\n"
	      "Run one SQL statement on every world at once and print one merged\n"
	      "answer, its first column the world.\n"
	      "\n"
	      "Options:\n"
	      "     --root DIR          the worlds of dump-restore --root DIR\n"
	      "     --inventory FILE    an option file of [client_<world>] groups\n"
	      " -w, --world WORLD       only this world (repeatable; glob patterns)\n"
	      "     --format FORMAT     table, csv, tsv or json (default table)\n"
	      "     --timeout SECONDS   limit per world (default 60)\n"
	      "     --reduce SQL        run SQL on the merged rows (SQLite table rows)\n"
	      "     --list              the worlds, and whether each answers\n"
	      "     --shell WORLD       start the mariadb client on that world\n"
	      " -q, --quiet             no informational messages\n"
	      " -v, --verbose           debugging messages\n"
	      " -h, --help              display this help\n"
	      " -V, --version           display version\n"
	      "\n"
	      "See world-query(1).\n",
	      stdout);
}

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

static int print_row(void *arg, const struct dbops_value *values)
{
	return dbops_output_row(arg, values) != 0;
}

/* Report each failed world; returns how many failed. */
static size_t report_failures(const struct wq_result *r, size_t n)
{
	size_t failed = 0;

	for (size_t i = 0; i < n; i++)
		if (r[i].error[0] != '\0') {
			dbops_log_error("world \"%s\": %s", r[i].world->name,
					r[i].error);
			failed++;
		}
	return failed;
}

static int run_query(const struct wq_opts *o, struct wq_inventory *inv,
		     const char *sql, enum dbops_output_format format)
{
	struct wq_result *r = wq_run(inv, sql, o->timeout);
	struct dbops_output *w;
	struct wq_merge m;
	int rc = 0;

	if (r == NULL) {
		dbops_log_error("out of memory");
		return 1;
	}
	if (wq_merge_columns(r, inv->count, &m) != 0) {
		report_failures(r, inv->count);
		dbops_log_error("no world answered");
		wq_results_free(r, inv->count);
		return 1;
	}
	w = dbops_output_new(stdout, format);
	if (w == NULL) {
		rc = 1;
	} else if (o->reduce) {
		rc = wq_reduce(r, inv->count, &m, o->reduce, w) != 0;
	} else {
		for (unsigned c = 0; c < m.ncols; c++)
			dbops_output_add_column(w, m.names[c], m.kinds[c]);
		rc = wq_merge_rows(r, inv->count, &m, print_row, w) != 0;
	}
	if (w && dbops_output_finish(w) != 0) {
		dbops_log_error("could not write the answer: %s",
				strerror(errno));
		rc = 1;
	}
	dbops_output_free(w);
	/* The others' rows are out; now what went wrong, world by world. */
	if (report_failures(r, inv->count) > 0)
		rc = 1;
	wq_merge_free(&m);
	wq_results_free(r, inv->count);
	return rc;
}

static int list_worlds(const struct wq_opts *o, struct wq_inventory *inv,
		       enum dbops_output_format format)
{
	struct wq_result *r = wq_run(inv, NULL, o->timeout);
	struct dbops_output *w = dbops_output_new(stdout, format);
	int rc = 0;

	if (r == NULL || w == NULL) {
		dbops_log_error("out of memory");
		dbops_output_free(w);
		wq_results_free(r, inv->count);
		return 1;
	}
	dbops_output_add_column(w, "world", DBOPS_COLUMN_TEXT);
	dbops_output_add_column(w, "host", DBOPS_COLUMN_TEXT);
	dbops_output_add_column(w, "port", DBOPS_COLUMN_NUMBER);
	dbops_output_add_column(w, "socket", DBOPS_COLUMN_TEXT);
	dbops_output_add_column(w, "database", DBOPS_COLUMN_TEXT);
	dbops_output_add_column(w, "answers", DBOPS_COLUMN_TEXT);
	for (size_t i = 0; i < inv->count; i++) {
		const struct wq_world *x = &inv->worlds[i];

		dbops_output_row_strings(
			w,
			(const char *[]){ x->name, x->host[0] ? x->host : NULL,
					  x->port[0] ? x->port : NULL,
					  x->socket[0] ? x->socket : NULL,
					  x->database[0] ? x->database : NULL,
					  r[i].error[0] ? "no" : "yes" });
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
	char file[PATH_MAX + 32], suffix[160];
	const char *clients[] = { "mariadb", "mysql" };

	if (wq_inventory_find(inv, world) == NULL) {
		dbops_log_error("no world \"%s\" in inventory \"%s\"", world,
				inv->path);
		return 1;
	}
	snprintf(file, sizeof(file), "--defaults-extra-file=%s", inv->path);
	snprintf(suffix, sizeof(suffix), "--defaults-group-suffix=_%s", world);
	fflush(stdout);
	for (int i = 0; i < 2; i++) {
		/* --defaults-extra-file must come first. */
		char *const argv[] = { (char *)clients[i], file, suffix, NULL };

		execvp(clients[i], argv);
	}
	dbops_log_error("could not start the mariadb client: %s",
			strerror(errno));
	dbops_log_hint("install the Debian package mariadb-client");
	return 1;
}

static int parse_timeout(const char *text, int *out)
{
	char *end;
	long v = strtol(text, &end, 10);

	if (*text == '\0' || *end != '\0' || v < 1 || v > 86400)
		return dbops_cli_error(
			"invalid value \"%s\" for option --timeout: use whole seconds from 1 to 86400",
			text);
	*out = (int)v;
	return 0;
}

static int run(struct wq_opts *o, int argc, char **argv)
{
	enum dbops_output_format format = DBOPS_FORMAT_TABLE;
	struct wq_inventory inv;
	char path[PATH_MAX], err[PATH_MAX + 128];
	int rc;

	if (o->format && dbops_output_parse_format(o->format, &format) != 0)
		return dbops_cli_error(
			"unknown format \"%s\": use table, csv, tsv or json",
			o->format);
	if (o->root && o->inventory)
		return dbops_cli_error(
			"--root and --inventory cannot be used together");
	if ((o->list || o->shell) && argc > 0)
		return dbops_cli_error("--list and --shell take no SQL");
	if (o->list && o->shell)
		return dbops_cli_error(
			"--list and --shell cannot be used together");
	if (!o->list && !o->shell && argc != 1)
		return dbops_cli_error(
			argc == 0
				? "no SQL statement given"
				: "give the SQL statement as one argument (quote it)");
	default_inventory(o, path, sizeof(path));
	if (wq_inventory_read(path, &inv, err, sizeof(err)) != 0) {
		dbops_log_error("%s", err);
		if (o->inventory == NULL)
			dbops_log_hint(
				"bring worlds up with dump-restore up, or name an inventory with --inventory");
		return 1;
	}
	if (o->shell) {
		rc = shell(&inv, o->shell);
		wq_inventory_free(&inv);
		return rc;
	}
	if (wq_inventory_select(&inv, o->worlds, o->nworlds, err,
				sizeof(err)) != 0) {
		dbops_log_error("%s", err);
		wq_inventory_free(&inv);
		return 1;
	}
	rc = o->list ? list_worlds(o, &inv, format)
		     : run_query(o, &inv, argv[0], format);
	wq_inventory_free(&inv);
	return rc;
}

int main(int argc, char **argv)
{
	struct wq_opts o = { .timeout = 60 };
	int c, rc;

	dbops_log_init(argv[0]);
	o.worlds = calloc((size_t)argc, sizeof(char *));
	if (o.worlds == NULL)
		return 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hqVvw:", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage();
			free(o.worlds);
			return 0;
		case 'q':
			dbops_log_set_verbosity(DBOPS_LOG_QUIET);
			break;
		case 'V':
			printf("world-query %s\n", DBOPS_VERSION);
			free(o.worlds);
			return 0;
		case 'v':
			dbops_log_set_verbosity(DBOPS_LOG_VERBOSE);
			break;
		case 'w':
			o.worlds[o.nworlds++] = optarg;
			break;
		case OPT_FORMAT:
			o.format = optarg;
			break;
		case OPT_INVENTORY:
			o.inventory = optarg;
			break;
		case OPT_LIST:
			o.list = true;
			break;
		case OPT_REDUCE:
			o.reduce = optarg;
			break;
		case OPT_ROOT:
			o.root = optarg;
			break;
		case OPT_SHELL:
			o.shell = optarg;
			break;
		case OPT_TIMEOUT:
			if (parse_timeout(optarg, &o.timeout) != 0) {
				free(o.worlds);
				return 1;
			}
			break;
		case ':':
			free(o.worlds);
			return dbops_cli_error("option \"%s\" needs a value",
					       argv[optind - 1]);
		default:
			free(o.worlds);
			return dbops_cli_error("unknown option \"%s\"",
					       argv[optind - 1]);
		}
	}
	if (mysql_library_init(0, NULL, NULL) != 0) {
		dbops_log_error(
			"could not initialise the MariaDB client library");
		free(o.worlds);
		return 1;
	}
	rc = run(&o, argc - optind, argv + optind);
	mysql_library_end();
	free(o.worlds);
	return dbops_log_exit_status(rc);
}
