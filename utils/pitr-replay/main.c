/*
 * main.c - pitr-replay: recover a PostgreSQL base backup to a point in
 * time from a WAL archive, with everything checked before replay.
 *
 *	pitr-replay restore -b BASE -a ARCHIVE -D DATADIR [target] [options]
 *	pitr-replay verify  -b BASE -a ARCHIVE [target]
 *	pitr-replay window  -a ARCHIVE [-b BASE] [--format F]
 *
 * Options go through common/cli.h: the table below drives parsing, the
 * exclusive targets and --help; this file checks what each command takes
 * and runs it.
 */
#include <stdio.h>
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
	OPT_TARGET_TIME = DBOPS_CLI_LONG_ID(0),
	OPT_TARGET_LSN,
	OPT_TARGET_XID,
	OPT_TARGET_NAME,
	OPT_EXCLUSIVE,
	OPT_TIMELINE,
	OPT_ACTION,
	OPT_KEEP_RUNNING,
	OPT_PORT,
	OPT_PG_BINDIR,
	OPT_SET,
	OPT_CONF,
	OPT_FORMAT,
	OPT_PROGRESS,
};

struct pitr_opts {
	const char *command;
	struct restore_opts r;
	enum dbops_output_format format;
	bool format_given;
	bool timeline_given;
};

static const struct dbops_cli_option target_options[] = {
	{ OPT_TARGET_TIME, "target-time", "T",
	  "stop before the first transaction ending after T" },
	{ OPT_TARGET_LSN, "target-lsn", "L",
	  "stop after the first record at or after L" },
	{ OPT_TARGET_XID, "target-xid", "X",
	  "stop after transaction X commits or aborts" },
	{ OPT_TARGET_NAME, "target-name", "NAME",
	  "stop after the restore point NAME" },
	{ OPT_EXCLUSIVE, "target-exclusive", NULL,
	  "stop just before the target instead" },
	{ 0, NULL, NULL, NULL },
};

static const struct dbops_cli_option options[] = {
	{ 'b', "base", "BASE",
	  "base backup: a directory, -Ft output or a tar" },
	{ 'a', "archive", "DIR",
	  "WAL archive: segments (or .gz), .history, .backup" },
	{ 'D', "datadir", "DIR",
	  "data directory to create (must not exist or be empty)" },
	{ OPT_TIMELINE, "timeline", "N|latest",
	  "timeline to recover along (default: latest)" },
	{ OPT_ACTION, "action", "A",
	  "promote (default), pause or shutdown at the target" },
	{ OPT_KEEP_RUNNING, "keep-running", NULL,
	  "leave the server running; print its connection string" },
	{ OPT_PORT, "port", "P",
	  "TCP port on 127.0.0.1 (default: a free one)" },
	{ OPT_PG_BINDIR, "pg-bindir", "DIR",
	  "server programs (default /usr/lib/postgresql/N/bin)" },
	{ OPT_SET, "set", "NAME=VALUE",
	  "a setting for the restored server (repeatable)" },
	{ OPT_CONF, "conf", "FILE",
	  "the server's postgresql.conf, if not the backup's" },
	{ OPT_FORMAT, "format", "F", "window: table, csv, tsv or json" },
	{ OPT_PROGRESS, "progress", "WHEN", "auto (default), always or never" },
	{ 0, NULL, NULL, NULL },
};

/* One recovery target at most: a second kind is refused by the table. */
static const int exclusive[][DBOPS_CLI_GROUP_MAX] = {
	{ OPT_TARGET_TIME, OPT_TARGET_LSN, OPT_TARGET_XID, OPT_TARGET_NAME },
	{ 0 },
};

static const char *const synopsis[] = {
	"restore -b BASE -a ARCHIVE -D DATADIR [target] [options]",
	"verify  -b BASE -a ARCHIVE [target] [--timeline N|latest]",
	"window  -a ARCHIVE [-b BASE] [--format F]",
	NULL,
};

static const char *const target_names[] = {
	[TARGET_TIME] = "--target-time",
	[TARGET_LSN] = "--target-lsn",
	[TARGET_XID] = "--target-xid",
	[TARGET_NAME] = "--target-name",
};

static int set_target(struct pitr_opts *o, enum target_kind kind,
		      const char *value)
{
	struct pitr_target *t = &o->r.verify.target;
	const char *option = target_names[kind];
	struct dbops_err terr = { "" };
	long long n;
	int64_t usec;

	if (t->kind == kind)
		return dbops_cli_error("option \"%s\" given twice", option);
	t->kind = kind;
	snprintf(t->text, sizeof(t->text), "%s", value);
	switch (kind) {
	case TARGET_TIME:
		if (dbops_timestamp_parse(value, &usec, &terr) != 0)
			return dbops_cli_invalid(option, value, "%s", terr.msg);
		t->time = unix_us_to_pg_time(usec);
		break;
	case TARGET_LSN:
		if (pitr_lsn_parse(value, &t->lsn) != 0)
			return dbops_cli_invalid(
				option, value,
				"expected an LSN such as 0/16B3748");
		break;
	case TARGET_XID:
		if (dbops_cli_parse_int(value, &n) != 0 || n < 3 ||
		    n > UINT32_MAX)
			return dbops_cli_invalid(
				option, value,
				"expected a transaction ID from 3 to 4294967295");
		t->xid = (uint32_t)n;
		break;
	case TARGET_NAME:
		if (value[0] == '\0' || strlen(value) >= RESTORE_POINT_NAME_MAX)
			return dbops_cli_invalid(
				option, value,
				"restore point names are 1 to %d bytes",
				RESTORE_POINT_NAME_MAX - 1);
		snprintf(t->name, sizeof(t->name), "%s", value);
		break;
	case TARGET_END:
		break;
	}
	return 0;
}

/*
 * --set NAME=VALUE: a server setting, of a name the server could have, and
 * not one of those pitr-replay itself must set for its run.
 */
static int add_set(struct pitr_opts *o, const char *arg)
{
	static const char *const ours[] = {
		"port",
		"listen_addresses",
		"unix_socket_directories",
		"hba_file",
		"ident_file",
		"hot_standby",
		"data_directory",
		"config_file",
		"external_pid_file",
		"logging_collector",
		"log_destination",
		"restore_command",
		"recovery_target",
		"recovery_target_",
		"archive_cleanup_command",
		"recovery_end_command",
	};
	size_t n = strspn(arg, "abcdefghijklmnopqrstuvwxyz"
			       "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.");

	if (n == 0 || arg[n] != '=')
		return dbops_cli_invalid(
			"--set", arg,
			"expected NAME=VALUE, such as work_mem=64MB");
	for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++)
		if (strncmp(arg, ours[i], strlen(ours[i])) == 0 &&
		    (arg[strlen(ours[i])] == '=' ||
		     ours[i][strlen(ours[i]) - 1] == '_'))
			return dbops_cli_invalid(
				"--set", arg,
				"pitr-replay sets %.*s itself for its run",
				(int)n, arg);
	if (o->r.nsets == PITR_SETS_MAX)
		return dbops_cli_error("--set given more than %d times",
				       PITR_SETS_MAX);
	o->r.sets[o->r.nsets++] = arg;
	return 0;
}

/* "latest" (0) or a timeline ID from 1 to 4294967295. */
static int set_timeline(struct pitr_opts *o, const char *value)
{
	long long n;

	o->timeline_given = true;
	if (strcmp(value, "latest") == 0) {
		o->r.verify.timeline = 0;
		return 0;
	}
	if (dbops_cli_parse_int(value, &n) != 0 || n < 1 || n > UINT32_MAX)
		return dbops_cli_invalid("--timeline", value,
					 "use a timeline number or \"latest\"");
	o->r.verify.timeline = (uint32_t)n;
	return 0;
}

static int set_option(void *ctx, int id, const char *arg)
{
	static const char *const actions[] = { "promote", "pause", "shutdown",
					       NULL };
	static const char *const formats[] = { "table", "csv", "tsv", "json",
					       NULL };
	static const char *const whens[] = { "auto", "always", "never", NULL };
	struct pitr_opts *o = ctx;
	struct verify_opts *v = &o->r.verify;
	int choice = 0, rc;

	switch (id) {
	case 'a':
		v->archive = arg;
		return 0;
	case 'b':
		v->base = arg;
		return 0;
	case 'D':
		o->r.datadir = arg;
		return 0;
	case OPT_TARGET_TIME:
		return set_target(o, TARGET_TIME, arg);
	case OPT_TARGET_LSN:
		return set_target(o, TARGET_LSN, arg);
	case OPT_TARGET_XID:
		return set_target(o, TARGET_XID, arg);
	case OPT_TARGET_NAME:
		return set_target(o, TARGET_NAME, arg);
	case OPT_EXCLUSIVE:
		v->target.exclusive = true;
		return 0;
	case OPT_TIMELINE:
		return set_timeline(o, arg);
	case OPT_ACTION:
		rc = dbops_cli_choice("--action", arg, actions, &choice);
		o->r.action = (enum restore_action)choice;
		return rc;
	case OPT_KEEP_RUNNING:
		o->r.keep_running = true;
		return 0;
	case OPT_PORT:
		return dbops_cli_int("--port", arg, 1, 65535, &o->r.port);
	case OPT_PG_BINDIR:
		v->pg_bindir = arg;
		return 0;
	case OPT_SET:
		return add_set(o, arg);
	case OPT_CONF:
		o->r.conf = arg;
		return 0;
	case OPT_FORMAT:
		rc = dbops_cli_choice("--format", arg, formats, &choice);
		o->format = (enum dbops_output_format)choice;
		o->format_given = true;
		return rc;
	case OPT_PROGRESS:
		rc = dbops_cli_choice("--progress", arg, whens, &choice);
		v->progress = (enum dbops_progress_mode)choice;
		return rc;
	}
	return -1;
}

static const struct dbops_cli cli = {
	.name = "pitr-replay",
	.synopsis = synopsis,
	.about = "Recover a PostgreSQL base backup to a point in time from a "
		 "WAL archive,\nafter checking every WAL record it needs.\n",
	.sections =
		(const struct dbops_cli_section[]){
			{ "Targets (none: the end of the archive)",
			  target_options },
			{ "Options", options },
			{ NULL, NULL } },
	.exclusive = exclusive,
	.handle = set_option,
};

/* Options that make no sense for the command are refused, not ignored. */
static int check_command(const struct pitr_opts *o)
{
	const struct verify_opts *v = &o->r.verify;
	bool restore = strcmp(o->command, "restore") == 0;
	bool window = strcmp(o->command, "window") == 0;
	bool target = v->target.kind != TARGET_END;

	if (!restore && !window && strcmp(o->command, "verify") != 0)
		return dbops_cli_error(
			"unknown command \"%s\": use restore, verify or window",
			o->command);
	if (v->target.exclusive && (!target || v->target.kind == TARGET_NAME))
		return dbops_cli_error(
			"--target-exclusive needs --target-time, --target-lsn or --target-xid");
	if (v->archive == NULL)
		return dbops_cli_error("no WAL archive given (-a ARCHIVE)");
	if (!window && v->base == NULL)
		return dbops_cli_error("no base backup given (-b BASE)");
	if (restore && o->r.datadir == NULL)
		return dbops_cli_error("no data directory given (-D DATADIR)");
	if (!restore && (o->r.datadir || o->r.keep_running || o->r.port ||
			 o->r.action != ACTION_PROMOTE))
		return dbops_cli_error(
			"-D, --action, --keep-running and --port are for restore");
	if (!restore && (o->r.nsets || o->r.conf))
		return dbops_cli_error("--set and --conf are for restore");
	if (window && (target || o->timeline_given))
		return dbops_cli_error(
			"window takes no target or --timeline: it shows every timeline");
	if (!window && o->format_given)
		return dbops_cli_error("--format is for window");
	if (o->r.keep_running && o->r.action == ACTION_SHUTDOWN)
		return dbops_cli_error(
			"--keep-running cannot be used with --action shutdown");
	return 0;
}

static int run_verify(struct pitr_opts *o)
{
	struct plan plan;
	int rc;

	pitr_exit_on_signals();
	rc = pitr_verify_plan(&o->r.verify, &plan);

	if (rc == 0)
		pitr_plan_report(&plan, stdout);
	pitr_plan_free(&plan);
	return rc == 0 ? 0 : 1;
}

static int run(struct pitr_opts *o)
{
	if (strcmp(o->command, "window") == 0) {
		struct window_opts w = {
			.archive = o->r.verify.archive,
			.base = o->r.verify.base,
			.format = o->format,
			.progress = o->r.verify.progress,
		};

		return pitr_window_run(&w);
	}
	if (strcmp(o->command, "verify") == 0)
		return run_verify(o);
	return pitr_restore_run(&o->r);
}

int main(int argc, char **argv)
{
	struct pitr_opts o = { .format = DBOPS_FORMAT_TABLE };
	int first, rc;

	dbops_log_init(argv[0]);
	rc = dbops_cli_parse(&cli, &o, argc, argv, &first);
	if (rc == DBOPS_CLI_RUN && first >= argc)
		rc = dbops_cli_error(
			"no command given: use restore, verify or window");
	else if (rc == DBOPS_CLI_RUN && first + 1 < argc)
		rc = dbops_cli_error("unexpected argument \"%s\"",
				     argv[first + 1]);
	if (rc == DBOPS_CLI_RUN) {
		o.command = argv[first];
		rc = check_command(&o) != 0 ? 1 : run(&o);
	}
	return dbops_log_exit_status(rc);
}
