/*
 * main.c - pitr-replay: recover a PostgreSQL base backup to a point in
 * time from a WAL archive, with everything checked before replay.
 *
 *	pitr-replay restore -b BASE -a ARCHIVE -D DATADIR [target] [options]
 *	pitr-replay verify  -b BASE -a ARCHIVE [target]
 *	pitr-replay window  -a ARCHIVE [-b BASE] [--format F]
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "log.h"
#include "output.h"
#include "progress.h"
#include "restore.h"
#include "timestamp.h"
#include "verify.h"
#include "window.h"

enum {
	OPT_TARGET_TIME = CHAR_MAX + 1,
	OPT_TARGET_LSN,
	OPT_TARGET_XID,
	OPT_TARGET_NAME,
	OPT_EXCLUSIVE,
	OPT_TIMELINE,
	OPT_ACTION,
	OPT_KEEP_RUNNING,
	OPT_PORT,
	OPT_PG_BINDIR,
	OPT_FORMAT,
	OPT_PROGRESS,
};

static const struct option longopts[] = {
	{ "action", required_argument, NULL, OPT_ACTION },
	{ "archive", required_argument, NULL, 'a' },
	{ "base", required_argument, NULL, 'b' },
	{ "datadir", required_argument, NULL, 'D' },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "help", no_argument, NULL, 'h' },
	{ "keep-running", no_argument, NULL, OPT_KEEP_RUNNING },
	{ "pg-bindir", required_argument, NULL, OPT_PG_BINDIR },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "progress", required_argument, NULL, OPT_PROGRESS },
	{ "quiet", no_argument, NULL, 'q' },
	{ "target-exclusive", no_argument, NULL, OPT_EXCLUSIVE },
	{ "target-lsn", required_argument, NULL, OPT_TARGET_LSN },
	{ "target-name", required_argument, NULL, OPT_TARGET_NAME },
	{ "target-time", required_argument, NULL, OPT_TARGET_TIME },
	{ "target-xid", required_argument, NULL, OPT_TARGET_XID },
	{ "timeline", required_argument, NULL, OPT_TIMELINE },
	{ "verbose", no_argument, NULL, 'v' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static void usage(void)
{
	fputs("Usage:\n"
	      " pitr-replay restore -b BASE -a ARCHIVE -D DATADIR [target] [options]\n"
	      " pitr-replay verify  -b BASE -a ARCHIVE [target] [--timeline N|latest]\n"
	      " pitr-replay window  -a ARCHIVE [-b BASE] [--format F]\n"
	      "\n"
	      "Recover a PostgreSQL base backup to a point in time from a WAL archive,\n"
	      "after checking every WAL record it needs.\n"
	      "\n"
	      "Targets (none: the end of the archive):\n"
	      "     --target-time T       stop before the first transaction ending after T\n"
	      "     --target-lsn L        stop after the first record at or after L\n"
	      "     --target-xid X        stop after transaction X commits or aborts\n"
	      "     --target-name NAME    stop after the restore point NAME\n"
	      "     --target-exclusive    stop just before the target instead\n"
	      "\n"
	      "Options:\n"
	      " -b, --base BASE           base backup: a directory, pg_basebackup -Ft output, or a tar\n"
	      " -a, --archive DIR         WAL archive: segments (plain or .gz), .history, .backup\n"
	      " -D, --datadir DIR         data directory to create (must not exist or be empty)\n"
	      "     --timeline N|latest   timeline to recover along (default: latest)\n"
	      "     --action A            promote (default), pause or shutdown at the target\n"
	      "     --keep-running        leave the server running; print its connection string\n"
	      "     --port P              TCP port on 127.0.0.1 (default: a free one)\n"
	      "     --pg-bindir DIR       server programs (default /usr/lib/postgresql/N/bin)\n"
	      "     --format F            window: table, csv, tsv or json\n"
	      "     --progress WHEN       auto (default), always or never\n"
	      " -q, --quiet               only errors\n"
	      " -v, --verbose             more detail\n"
	      " -V, --version             print the version\n"
	      " -h, --help                this help\n"
	      "\n"
	      "See pitr-replay(1).\n",
	      stdout);
}

struct cli {
	const char *command;
	struct restore_opts r;
	const char *format;
	int targets;
};

static int set_target(struct cli *c, enum target_kind kind, const char *value)
{
	struct pitr_target *t = &c->r.verify.target;
	struct dbops_err terr;
	char *end;
	int64_t usec;
	unsigned long xid;

	c->targets++;
	t->kind = kind;
	snprintf(t->text, sizeof(t->text), "%s", value);
	switch (kind) {
	case TARGET_TIME:
		if (dbops_timestamp_parse(value, &usec, &terr) != 0)
			return dbops_cli_error(
				"invalid --target-time \"%s\": %s", value,
				terr.msg);
		t->time = unix_us_to_pg_time(usec);
		break;
	case TARGET_LSN:
		if (lsn_parse(value, &t->lsn) != 0)
			return dbops_cli_error(
				"invalid --target-lsn \"%s\": expected an LSN such as 0/16B3748",
				value);
		break;
	case TARGET_XID:
		errno = 0;
		xid = strtoul(value, &end, 10);
		if (errno || *end || end == value || value[0] == '-' ||
		    xid < 3 || xid > UINT32_MAX)
			return dbops_cli_error(
				"invalid --target-xid \"%s\": expected a transaction ID from 3 to 4294967295",
				value);
		t->xid = (uint32_t)xid;
		break;
	case TARGET_NAME:
		if (value[0] == '\0' || strlen(value) >= RESTORE_POINT_NAME_MAX)
			return dbops_cli_error(
				"invalid --target-name \"%s\": restore point names are 1 to %d bytes",
				value, RESTORE_POINT_NAME_MAX - 1);
		snprintf(t->name, sizeof(t->name), "%s", value);
		break;
	case TARGET_END:
		break;
	}
	return 0;
}

static int parse_timeline(const char *value, uint32_t *tli)
{
	char *end;
	unsigned long n;

	if (strcmp(value, "latest") == 0) {
		*tli = 0;
		return 0;
	}
	errno = 0;
	n = strtoul(value, &end, 10);
	if (errno || *end || end == value || value[0] == '-' || n == 0 ||
	    n > UINT32_MAX)
		return dbops_cli_error(
			"invalid --timeline \"%s\": use a timeline number or \"latest\"",
			value);
	*tli = (uint32_t)n;
	return 0;
}

static int parse_action(const char *value, enum restore_action *a)
{
	if (strcmp(value, "promote") == 0)
		*a = ACTION_PROMOTE;
	else if (strcmp(value, "pause") == 0)
		*a = ACTION_PAUSE;
	else if (strcmp(value, "shutdown") == 0)
		*a = ACTION_SHUTDOWN;
	else
		return dbops_cli_error(
			"invalid --action \"%s\": use promote, pause or shutdown",
			value);
	return 0;
}

static int parse_port(const char *value, int *port)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(value, &end, 10);
	if (errno || *end || end == value || n < 1 || n > 65535)
		return dbops_cli_error("invalid --port \"%s\": use 1 to 65535",
				       value);
	*port = (int)n;
	return 0;
}

static int parse_option(struct cli *c, int opt, const char *arg)
{
	struct verify_opts *v = &c->r.verify;

	switch (opt) {
	case 'a':
		v->archive = arg;
		return 0;
	case 'b':
		v->base = arg;
		return 0;
	case 'D':
		c->r.datadir = arg;
		return 0;
	case 'q':
		dbops_log_set_verbosity(DBOPS_LOG_QUIET);
		return 0;
	case 'v':
		dbops_log_set_verbosity(DBOPS_LOG_VERBOSE);
		return 0;
	case OPT_TARGET_TIME:
		return set_target(c, TARGET_TIME, arg);
	case OPT_TARGET_LSN:
		return set_target(c, TARGET_LSN, arg);
	case OPT_TARGET_XID:
		return set_target(c, TARGET_XID, arg);
	case OPT_TARGET_NAME:
		return set_target(c, TARGET_NAME, arg);
	case OPT_EXCLUSIVE:
		v->target.exclusive = true;
		return 0;
	case OPT_TIMELINE:
		return parse_timeline(arg, &v->timeline);
	case OPT_ACTION:
		return parse_action(arg, &c->r.action);
	case OPT_KEEP_RUNNING:
		c->r.keep_running = true;
		return 0;
	case OPT_PORT:
		return parse_port(arg, &c->r.port);
	case OPT_PG_BINDIR:
		v->pg_bindir = arg;
		return 0;
	case OPT_FORMAT:
		c->format = arg;
		return 0;
	case OPT_PROGRESS:
		if (dbops_progress_parse_mode(arg, &v->progress) != 0)
			return dbops_cli_error(
				"invalid --progress \"%s\": use auto, always or never",
				arg);
		return 0;
	}
	return 1;
}

/* Options that make no sense for the command are refused, not ignored. */
static int check_command(const struct cli *c)
{
	const struct verify_opts *v = &c->r.verify;
	bool restore = strcmp(c->command, "restore") == 0;
	bool window = strcmp(c->command, "window") == 0;

	if (!restore && !window && strcmp(c->command, "verify") != 0)
		return dbops_cli_error(
			"unknown command \"%s\": use restore, verify or window",
			c->command);
	if (c->targets > 1)
		return dbops_cli_error(
			"give at most one of --target-time, --target-lsn, --target-xid and --target-name");
	if (v->target.exclusive &&
	    (c->targets == 0 || v->target.kind == TARGET_NAME))
		return dbops_cli_error(
			"--target-exclusive needs --target-time, --target-lsn or --target-xid");
	if (v->archive == NULL)
		return dbops_cli_error("no WAL archive given (-a ARCHIVE)");
	if (!window && v->base == NULL)
		return dbops_cli_error("no base backup given (-b BASE)");
	if (restore && c->r.datadir == NULL)
		return dbops_cli_error("no data directory given (-D DATADIR)");
	if (!restore && (c->r.datadir || c->r.keep_running || c->r.port ||
			 c->r.action != ACTION_PROMOTE))
		return dbops_cli_error(
			"-D, --action, --keep-running and --port are for restore");
	if (window && (c->targets || v->timeline))
		return dbops_cli_error(
			"window takes no target or --timeline: it shows every timeline");
	if (!window && c->format)
		return dbops_cli_error("--format is for window");
	if (c->r.keep_running && c->r.action == ACTION_SHUTDOWN)
		return dbops_cli_error(
			"--keep-running cannot be used with --action shutdown");
	return 0;
}

static int run(struct cli *c)
{
	if (strcmp(c->command, "window") == 0) {
		struct window_opts w = {
			.archive = c->r.verify.archive,
			.base = c->r.verify.base,
			.format = DBOPS_FORMAT_TABLE,
			.progress = c->r.verify.progress,
		};

		if (c->format &&
		    dbops_output_parse_format(c->format, &w.format) != 0)
			return dbops_cli_error(
				"unknown format \"%s\": use table, csv, tsv or json",
				c->format);
		return window_run(&w);
	}
	if (strcmp(c->command, "verify") == 0) {
		struct plan plan;
		int rc = verify_plan(&c->r.verify, &plan);

		if (rc == 0)
			plan_report(&plan, stdout);
		plan_free(&plan);
		return rc == 0 ? 0 : 1;
	}
	return restore_run(&c->r);
}

int main(int argc, char **argv)
{
	struct cli c = { 0 };
	int opt, rc;

	dbops_log_init(argv[0]);
	if (argc >= 2 &&
	    (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage();
		return 0;
	}
	if (argc >= 2 &&
	    (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)) {
		printf("pitr-replay %s\n", DBOPS_VERSION);
		return 0;
	}
	if (argc < 2 || argv[1][0] == '-')
		return dbops_cli_error(
			"no command given: use restore, verify or window");
	c.command = argv[1];
	optind = 2;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":a:b:D:hqvV", longopts, NULL)) !=
	       -1) {
		if (opt == 'h') {
			usage();
			return 0;
		}
		if (opt == 'V') {
			printf("pitr-replay %s\n", DBOPS_VERSION);
			return 0;
		}
		if (opt == ':')
			return dbops_cli_error("option \"%s\" needs a value",
					       argv[optind - 1]);
		if (opt == '?')
			return dbops_cli_error("unknown option \"%s\"",
					       argv[optind - 1]);
		if (parse_option(&c, opt, optarg) != 0)
			return 1;
	}
	if (optind < argc)
		return dbops_cli_error("unexpected argument \"%s\"",
				       argv[optind]);
	if (check_command(&c) != 0)
		return 1;
	rc = run(&c);
	return dbops_log_exit_status(rc);
}
