/*
 * main.c - dump-restore: bring back every game world as it was at a moment,
 * each in a private MariaDB server on this host, from timestamped .sql.gz
 * dumps. The options (common/cli.h) and the dispatch to the four commands
 * (commands.h).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cnf.h"
#include "commands.h"
#include "log.h"
#include "timestamp.h"

enum {
	OPT_AT = DBOPS_CLI_LONG_ID(0),
	OPT_FORMAT,
	OPT_ROOT,
	OPT_PORT_BASE,
	OPT_BINDIR,
	OPT_PROGRESS,
	OPT_DATABASE,
	OPT_ALLOW_INCOMPLETE,
	OPT_METRICS_FILE,
	OPT_DEFINER,
	OPT_STRICT,
	OPT_SHARE,
	OPT_BIND,
	OPT_MERGE
};

static const struct dbops_cli_option options[] = {
	{ OPT_AT, "at", "TIME", "each world's latest dump at or before TIME" },
	{ OPT_FORMAT, "format", "FORMAT",
	  "table, csv, tsv or json (default table)" },
	{ OPT_ROOT, "root", "DIR", "where the worlds live" },
	{ 'j', "jobs", "N", "worlds loaded at once (default: the cores)" },
	{ OPT_PORT_BASE, "port-base", "PORT",
	  "first TCP port to try (default: any free)" },
	{ OPT_BINDIR, "server-bindir", "DIR",
	  "where mariadbd is, if not in PATH or /usr/sbin" },
	{ OPT_PROGRESS, "progress", "WHEN",
	  "auto, always or never (default auto)" },
	{ OPT_DATABASE, "database", "NAME",
	  "for dumps that choose none (default game)" },
	{ OPT_ALLOW_INCOMPLETE, "allow-incomplete", NULL,
	  "load dumps that look cut short" },
	{ OPT_METRICS_FILE, "metrics-file", "FILE",
	  "up: write Prometheus metrics to FILE at the end" },
	{ OPT_DEFINER, "definer", "HOW",
	  "rewrite (default: the loader's) or keep DEFINERs" },
	{ OPT_STRICT, "strict", NULL,
	  "a world without a dump early enough stops up" },
	{ OPT_SHARE, "share", "GROUP", "let GROUP read worlds.cnf (0640)" },
	{ OPT_BIND, "bind", "ADDR",
	  "the servers listen on ADDR (default 127.0.0.1)" },
	{ OPT_MERGE, "merge", NULL, "inventory: merge the option files given" },
	{ 0, NULL, NULL, NULL },
};

static const char *const synopsis[] = {
	"plan   [--at TIME] [--format FORMAT] SOURCE...",
	"up     [--at TIME] [--strict] [--root DIR] [--jobs N]\n"
	"                     [--port-base PORT] [--bind ADDR] [--share GROUP]\n"
	"                     [--database NAME] [--definer HOW]\n"
	"                     [--allow-incomplete] [--metrics-file FILE]\n"
	"                     [--server-bindir DIR] [--progress WHEN]\n"
	"                     [--format FORMAT] SOURCE...",
	"status [--root DIR] [--format FORMAT]",
	"down   [--root DIR] [WORLD...]",
	"inventory --merge FILE...",
	NULL
};

static int set_option(void *ctx, int id, const char *arg)
{
	static const char *const progress[] = { "auto", "always", "never",
						NULL };
	static const char *const definer[] = { "rewrite", "keep", NULL };
	struct dr_opts *o = ctx;
	struct dbops_err err = { "" };
	int mode;

	switch (id) {
	case OPT_AT:
		if (dbops_timestamp_parse(arg, &o->at, &err) != 0)
			return dbops_cli_invalid("--at", arg, "%s", err.msg);
		o->have_at = true;
		return 0;
	case OPT_FORMAT:
		o->format = arg;
		return 0;
	case OPT_ROOT:
		o->root = arg;
		return 0;
	case 'j':
		return dbops_cli_int("--jobs", arg, 1, 64, &o->jobs);
	case OPT_PORT_BASE:
		return dbops_cli_int("--port-base", arg, 1, 65535,
				     &o->port_base);
	case OPT_BINDIR:
		o->bindir = arg;
		return 0;
	case OPT_DATABASE:
		if (arg[0] == '\0' || strlen(arg) > 64)
			return dbops_cli_invalid(
				"--database", arg, "%s",
				"a database name has 1 to 64 characters");
		o->database = arg;
		return 0;
	case OPT_ALLOW_INCOMPLETE:
		o->allow_incomplete = true;
		return 0;
	case OPT_METRICS_FILE:
		o->metrics_file = arg;
		return 0;
	case OPT_DEFINER:
		if (dbops_cli_choice("--definer", arg, definer, &mode) != 0)
			return -1;
		o->keep_definer = mode == 1;
		return 0;
	case OPT_STRICT:
		o->strict = true;
		return 0;
	case OPT_SHARE:
		o->share = arg;
		return 0;
	case OPT_BIND:
		return dr_parse_bind(arg, o);
	case OPT_MERGE:
		o->merge = true;
		return 0;
	case OPT_PROGRESS:
		if (dbops_cli_choice("--progress", arg, progress, &mode) != 0)
			return -1;
		o->progress = (enum dbops_progress_mode)mode;
		return 0;
	}
	return -1;
}

static const struct dbops_cli cli = {
	.name = "dump-restore",
	.synopsis = synopsis,
	.about =
		"Restore every game world, as it was at a moment, each in a private\n"
		"MariaDB server on this host, from <world>-<time>.sql.gz dumps.\n",
	.sections = (const struct dbops_cli_section[]){ { "Options", options },
							{ NULL, NULL } },
	.handle = set_option,
};

static int run(const struct dr_opts *o, const char *cmd, char **args, int n)
{
	if (o->metrics_file && strcmp(cmd, "up") != 0)
		return dbops_cli_error("--metrics-file belongs to up");
	if (strcmp(cmd, "inventory") == 0) {
		if (!o->merge)
			return dbops_cli_error("inventory needs --merge");
		return dr_cnf_merge(args, n);
	}
	if (o->merge)
		return dbops_cli_error("--merge belongs to inventory");
	if (strcmp(cmd, "plan") == 0)
		return dr_cmd_plan(o, args, n);
	if (strcmp(cmd, "up") == 0)
		return dr_cmd_up(o, args, n);
	if (strcmp(cmd, "status") != 0 && strcmp(cmd, "down") != 0)
		return dbops_cli_error(
			"unknown command \"%s\": use plan, up, status, down or inventory",
			cmd);
	if (o->have_at)
		return dbops_cli_error("--at belongs to plan and up");
	if (strcmp(cmd, "down") == 0)
		return dr_cmd_down(o, args, n);
	if (n > 0)
		return dbops_cli_error("status takes no arguments");
	return dr_cmd_status(o);
}

int main(int argc, char **argv)
{
	struct dr_opts o = { .progress = DBOPS_PROGRESS_AUTO,
			     .database = "game" };
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	int first, rc;

	dbops_log_init(argv[0]);
	o.jobs = cores < 1 ? 1 : cores > 64 ? 64 : (int)cores;
	rc = dbops_cli_parse(&cli, &o, argc, argv, &first);
	if (rc == DBOPS_CLI_RUN && first >= argc)
		rc = dbops_cli_error(
			"no command: use plan, up, status, down or inventory");
	else if (rc == DBOPS_CLI_RUN)
		rc = run(&o, argv[first], argv + first + 1, argc - first - 1);
	return dbops_log_exit_status(rc);
}
