/*
 * main.c - pitr-replay: recover a PostgreSQL base backup to a point in
 * time from a WAL archive, with everything checked before replay.
 *
 *	pitr-replay restore -b BASE -a ARCHIVE -D DATADIR [target] [options]
 *	pitr-replay verify  -b BASE -a ARCHIVE [target]
 *	pitr-replay window  -a ARCHIVE [-b BASE] [--format F]
 *	pitr-replay info    [-b BASE]... [-a ARCHIVE] [--time T] [--format F]
 *	pitr-replay fetch-wal -a ARCHIVE [--spool DIR] NAME DEST
 *
 * Options go through common/cli.h: the table below drives parsing, the
 * exclusive targets and --help; this file checks what each command takes
 * and runs it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "clock.h"
#include "info.h"
#include "fetch.h"
#include "log.h"
#include "mfcheck.h"
#include "output.h"
#include "parallel.h"
#include "progress.h"
#include "restore.h"
#include "telemetry.h"
#include "timestamp.h"
#include "verify.h"
#include "window.h"
#include "xalloc.h"

enum {
	OPT_TARGET_TIME = DBOPS_CLI_LONG_ID(0),
	OPT_TARGET_LSN,
	OPT_TARGET_XID,
	OPT_TARGET_NAME,
	OPT_TARGET,
	OPT_EXCLUSIVE,
	OPT_TIMELINE,
	OPT_ACTION,
	OPT_KEEP_RUNNING,
	OPT_PORT,
	OPT_PG_BINDIR,
	OPT_SET,
	OPT_CONF,
	OPT_METRICS_FILE,
	OPT_FORMAT,
	OPT_PROGRESS,
	OPT_TABLESPACE_MAP,
	OPT_NO_MANIFEST_CHECK,
	OPT_TIME,
	OPT_SPOOL,
	OPT_PREFETCH,
	OPT_JOBS,
};

#define MAX_BASES 64

struct pitr_opts {
	const char *command;
	struct restore_opts r;
	enum dbops_output_format format;
	bool format_given;
	bool timeline_given;
	bool no_manifest_check;
	const char *bases[MAX_BASES]; /* info: every -b */
	int nbases;
	const char *time; /* info --time */
	int64_t time_us;
	bool prefetch_given;
	struct fetch_opts fetch;
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
	{ OPT_TARGET, "target", "immediate",
	  "stop as soon as the backup is consistent" },
	{ OPT_EXCLUSIVE, "target-exclusive", NULL,
	  "stop just before the target instead" },
	{ 0, NULL, NULL, NULL },
};

static const struct dbops_cli_option options[] = {
	{ 'b', "base", "BASE",
	  "base backup: a directory, -Ft output or a tar; info: also a folder of them, and -b again" },
	{ 'a', "archive", "DIR",
	  "WAL archive: segments, .history; plain or compressed" },
	{ 'D', "datadir", "DIR",
	  "data directory to create (must not exist or be empty)" },
	{ OPT_TIMELINE, "timeline", "N|current|latest",
	  "timeline to recover along (default: latest)" },
	{ OPT_ACTION, "action", "A",
	  "promote (default), pause or shutdown at the target" },
	{ OPT_KEEP_RUNNING, "keep-running", NULL,
	  "leave the server running; print its connection string" },
	{ OPT_PORT, "port", "P",
	  "TCP port on 127.0.0.1 (default: a free one)" },
	{ OPT_TABLESPACE_MAP, "tablespace-map", "OLD=NEW",
	  "put the tablespace at OLD in NEW (repeatable)" },
	{ OPT_PG_BINDIR, "pg-bindir", "DIR",
	  "server programs (default /usr/lib/postgresql/N/bin)" },
	{ OPT_SET, "set", "NAME=VALUE",
	  "a setting for the restored server (repeatable)" },
	{ OPT_CONF, "conf", "FILE",
	  "the server's postgresql.conf, if not the backup's" },
	{ OPT_METRICS_FILE, "metrics-file", "FILE",
	  "verify, restore: write Prometheus metrics to FILE at the end" },
	{ OPT_FORMAT, "format", "F",
	  "window, info: table, csv, tsv or json; verify: json" },
	{ OPT_NO_MANIFEST_CHECK, "no-manifest-check", NULL,
	  "verify: do not hold the backup's files against backup_manifest" },
	{ OPT_TIME, "time", "T", "info: which backup to restore to time T" },
	{ OPT_PROGRESS, "progress", "WHEN", "auto (default), always or never" },
	{ OPT_JOBS, "jobs", "N",
	  "threads checking WAL (default: one per core)" },
	{ 0, NULL, NULL, NULL },
};

static const struct dbops_cli_option fetch_options[] = {
	{ OPT_SPOOL, "spool", "DIR",
	  "fetch-wal: prefetch into DIR (an existing directory)" },
	{ OPT_PREFETCH, "prefetch", "N",
	  "fetch-wal, restore: segments made ready ahead (default 8)" },
	{ 0, NULL, NULL, NULL },
};

/* One recovery target at most: a second kind is refused by the table. */
static const int exclusive[][DBOPS_CLI_GROUP_MAX] = {
	{ OPT_TARGET_TIME, OPT_TARGET_LSN, OPT_TARGET_XID, OPT_TARGET_NAME,
	  OPT_TARGET },
	{ 0 },
};

static const char *const synopsis[] = {
	"restore -b BASE -a ARCHIVE -D DATADIR [target] [options]",
	"verify  -b BASE -a ARCHIVE [target] [--timeline N|current|latest]",
	"window  -a ARCHIVE [-b BASE] [--format F]",
	"info    [-b BASE]... [-a ARCHIVE] [--time T] [--format F]",
	"fetch-wal -a ARCHIVE [--spool DIR [--prefetch N]] NAME DEST",
	NULL,
};

static const char *const target_names[] = {
	[TARGET_TIME] = "--target-time", [TARGET_LSN] = "--target-lsn",
	[TARGET_XID] = "--target-xid",	 [TARGET_NAME] = "--target-name",
	[TARGET_IMMEDIATE] = "--target",
};

/*
 * A transaction ID, alone (3 to 4294967295) or as txid_current() and
 * pg_current_xact_id() give it once the epoch is above 0: epoch << 32 | ID.
 * PostgreSQL keeps the low 32 bits; the epoch is kept to be checked
 * against the WAL's.
 */
static int set_target_xid(struct pitr_target *t, const char *option,
			  const char *value)
{
	long long n;
	uint32_t low;

	if (dbops_cli_parse_int(value, &n) != 0 || n < 3)
		return dbops_cli_invalid(
			option, value,
			"expected a transaction ID from 3 to 4294967295, or one with its epoch as txid_current() gives it");
	low = (uint32_t)((unsigned long long)n & UINT32_MAX);
	t->xid = low;
	t->has_epoch = n > UINT32_MAX;
	t->epoch = (uint32_t)((unsigned long long)n >> 32);
	if (low < 3)
		return dbops_cli_invalid(
			option, value,
			"that is transaction ID %u of epoch %u, which no transaction has (IDs start at 3)",
			low, t->epoch);
	return 0;
}

static int set_target(struct pitr_opts *o, enum target_kind kind,
		      const char *value)
{
	struct pitr_target *t = &o->r.verify.target;
	const char *option = target_names[kind];
	struct dbops_err terr = { "" };
	int64_t usec;

	if (t->kind == kind)
		return dbops_cli_error("option \"%s\" given twice", option);
	t->kind = kind;
	snprintf(t->text, sizeof(t->text), "%s", value);
	switch (kind) {
	case TARGET_TIME:
		/* Checked here; one without a zone is read again in the
		 * server's time zone once the backup is known. */
		if (dbops_timestamp_parse_in(value, "UTC", &usec,
					     &t->zone_given, &terr) != 0)
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
		return set_target_xid(t, option, value);
	case TARGET_NAME:
		if (value[0] == '\0' || strlen(value) >= RESTORE_POINT_NAME_MAX)
			return dbops_cli_invalid(
				option, value,
				"restore point names are 1 to %d bytes",
				RESTORE_POINT_NAME_MAX - 1);
		snprintf(t->name, sizeof(t->name), "%s", value);
		break;
	case TARGET_IMMEDIATE:
		if (strcmp(value, "immediate") != 0)
			return dbops_cli_invalid(
				option, value,
				"the only target given this way is \"immediate\"");
		break;
	case TARGET_END:
		break;
	}
	return 0;
}

/* OLD=NEW, both absolute, OLD given once. */
static int add_tablespace_map(struct pitr_opts *o, char *arg)
{
	struct restore_opts *r = &o->r;
	char *eq = strchr(arg, '=');

	if (eq == NULL || arg[0] != '/' || eq[1] != '/')
		return dbops_cli_invalid("--tablespace-map", arg,
					 "use OLD=NEW, two absolute paths");
	for (size_t i = 0; i < r->nts_maps; i++)
		if (strlen(r->ts_maps[i].old_dir) == (size_t)(eq - arg) &&
		    strncmp(r->ts_maps[i].old_dir, arg, (size_t)(eq - arg)) ==
			    0)
			return dbops_cli_invalid("--tablespace-map", arg,
						 "\"%.*s\" is mapped twice",
						 (int)(eq - arg), arg);
	r->ts_maps = dbops_xreallocarray(r->ts_maps, r->nts_maps + 1,
					 sizeof(*r->ts_maps));
	r->ts_maps[r->nts_maps].old_dir =
		dbops_xstrndup(arg, (size_t)(eq - arg));
	r->ts_maps[r->nts_maps++].new_dir = eq + 1;
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
	if (strncasecmp(arg, "timezone=", 9) == 0)
		o->r.verify.timezone = arg + 9;
	return 0;
}

/* "latest", "current" or a timeline ID from 1 to 4294967295, as
 * recovery_target_timeline takes them. */
static int set_timeline(struct pitr_opts *o, const char *value)
{
	struct verify_opts *v = &o->r.verify;
	long long n;

	o->timeline_given = true;
	if (strcmp(value, "latest") == 0) {
		v->timeline_goal = TIMELINE_LATEST;
		return 0;
	}
	if (strcmp(value, "current") == 0) {
		v->timeline_goal = TIMELINE_CURRENT;
		return 0;
	}
	if (dbops_cli_parse_int(value, &n) != 0 || n < 1 || n > UINT32_MAX)
		return dbops_cli_invalid(
			"--timeline", value,
			"use a timeline number, \"current\" or \"latest\"");
	v->timeline_goal = TIMELINE_NUMERIC;
	v->timeline = (uint32_t)n;
	return 0;
}

static int set_info_time(struct pitr_opts *o, const char *value)
{
	struct dbops_err terr = { "" };

	if (o->time != NULL)
		return dbops_cli_error("option \"--time\" given twice");
	if (dbops_timestamp_parse(value, &o->time_us, &terr) != 0)
		return dbops_cli_invalid("--time", value, "%s", terr.msg);
	o->time = value;
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
		o->fetch.archive = arg;
		return 0;
	case 'b':
		if (o->nbases == MAX_BASES)
			return dbops_cli_error("more than %d -b options",
					       MAX_BASES);
		o->bases[o->nbases++] = arg;
		v->base = o->bases[0];
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
	case OPT_TARGET:
		return set_target(o, TARGET_IMMEDIATE, arg);
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
	case OPT_TABLESPACE_MAP:
		return add_tablespace_map(o, (char *)arg);
	case OPT_SET:
		return add_set(o, arg);
	case OPT_CONF:
		o->r.conf = v->conf = arg;
		return 0;
	case OPT_METRICS_FILE:
		o->r.metrics_file = arg;
		return 0;
	case OPT_FORMAT:
		rc = dbops_cli_choice("--format", arg, formats, &choice);
		o->format = (enum dbops_output_format)choice;
		o->format_given = true;
		return rc;
	case OPT_NO_MANIFEST_CHECK:
		o->no_manifest_check = true;
		return 0;
	case OPT_TIME:
		return set_info_time(o, arg);
	case OPT_PROGRESS:
		rc = dbops_cli_choice("--progress", arg, whens, &choice);
		v->progress = (enum dbops_progress_mode)choice;
		return rc;
	case OPT_JOBS:
		return dbops_cli_int("--jobs", arg, 1, DBOPS_PARALLEL_MAX,
				     &pitr_scan_jobs);
	case OPT_SPOOL:
		o->fetch.spool = arg;
		return 0;
	case OPT_PREFETCH:
		o->prefetch_given = true;
		return dbops_cli_int("--prefetch", arg, 0, FETCH_PREFETCH_MAX,
				     &o->fetch.prefetch);
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
			{ "The restore_command of a restored server",
			  fetch_options },
			{ NULL, NULL } },
	.exclusive = exclusive,
	.handle = set_option,
};

/* info takes -b (any number), -a, --time and --format, nothing else. */
static int check_info(const struct pitr_opts *o)
{
	const struct verify_opts *v = &o->r.verify;

	if (v->target.kind != TARGET_END || o->timeline_given || o->r.datadir ||
	    o->r.keep_running || o->r.port || o->r.action != ACTION_PROMOTE ||
	    v->pg_bindir || o->no_manifest_check)
		return dbops_cli_error(
			"info takes only -b, -a, --time and --format");
	if (o->nbases == 0 && v->archive == NULL)
		return dbops_cli_error(
			"info needs backups (-b BASE) or a WAL archive (-a ARCHIVE)");
	if (o->time != NULL && v->archive == NULL)
		return dbops_cli_error(
			"--time needs the WAL archive (-a ARCHIVE): the backups' stop times and the timelines are there");
	return 0;
}

/* Options that make no sense for the command are refused, not ignored. */
static int check_command(const struct pitr_opts *o)
{
	const struct verify_opts *v = &o->r.verify;
	bool restore = strcmp(o->command, "restore") == 0;
	bool window = strcmp(o->command, "window") == 0;
	bool verify = strcmp(o->command, "verify") == 0;
	bool target = v->target.kind != TARGET_END;
	bool quiet = dbops_log_verbosity() == DBOPS_LOG_QUIET;

	if (strcmp(o->command, "info") == 0)
		return check_info(o);
	if (!restore && !window && !verify)
		return dbops_cli_error(
			"unknown command \"%s\": use restore, verify, window, info or fetch-wal",
			o->command);
	if (o->nbases > 1)
		return dbops_cli_error(
			"-b given %d times: only info takes several backups",
			o->nbases);
	if (o->time != NULL)
		return dbops_cli_error(
			"--time is for info; restore and verify take --target-time");
	if (o->fetch.spool || (o->prefetch_given && !restore))
		return dbops_cli_error(
			"--spool is for fetch-wal, --prefetch for fetch-wal and restore");
	if (v->target.exclusive && (!target || v->target.kind == TARGET_NAME ||
				    v->target.kind == TARGET_IMMEDIATE))
		return dbops_cli_error(
			"--target-exclusive needs --target-time, --target-lsn or --target-xid");
	if (v->archive == NULL)
		return dbops_cli_error("no WAL archive given (-a ARCHIVE)");
	if (!window && v->base == NULL)
		return dbops_cli_error("no base backup given (-b BASE)");
	if (restore && o->r.datadir == NULL)
		return dbops_cli_error("no data directory given (-D DATADIR)");
	if (!restore && (o->r.datadir || o->r.keep_running || o->r.port ||
			 o->r.action != ACTION_PROMOTE || o->r.nts_maps))
		return dbops_cli_error(
			"-D, --action, --keep-running, --port and --tablespace-map are for restore");
	if (!restore && !verify && (o->r.nsets || o->r.conf))
		return dbops_cli_error(
			"--set and --conf are for restore and verify");
	if (!restore && !verify && o->r.metrics_file)
		return dbops_cli_error(
			"--metrics-file is for restore and verify");
	if (window && (target || o->timeline_given))
		return dbops_cli_error(
			"window takes no target or --timeline: it shows every timeline");
	if (restore && o->format_given)
		return dbops_cli_error(
			"--format is for window, info and verify");
	if (verify && o->format_given && o->format != DBOPS_FORMAT_JSON)
		return dbops_cli_error(
			"verify prints its report as text, or as JSON with --format json");
	if (verify && quiet && o->format_given)
		return dbops_cli_error(
			"-q and --format json cannot be used together: -q leaves only errors and warnings");
	if (!verify && o->no_manifest_check)
		return dbops_cli_error("--no-manifest-check is for verify");
	if (o->r.keep_running && o->r.action == ACTION_SHUTDOWN)
		return dbops_cli_error(
			"--keep-running cannot be used with --action shutdown");
	return 0;
}

/*
 * verify: the backup, the manifest's files (unless --no-manifest-check),
 * then the WAL; every check runs even after the manifest's found a
 * difference, so that one run says all that is wrong.
 */
static int run_verify(struct pitr_opts *o)
{
	struct manifest_check mc = { 0 };
	struct plan plan;
	bool quiet = dbops_log_verbosity() == DBOPS_LOG_QUIET;
	struct pitr_run_facts facts = { 0 };
	int64_t start_ms = dbops_clock_ms();
	int rc, mrc = 0;

	pitr_exit_on_signals();
	rc = pitr_verify_prepare(&o->r.verify, &plan);

	if (rc == 0 && !o->no_manifest_check)
		mrc = pitr_manifest_check(&plan.backup, &mc);
	if (rc == 0)
		rc = pitr_verify_wal(&o->r.verify, &plan);
	if (rc == 0)
		pitr_run_facts_of(&plan, &facts);
	if (rc == 0 && mrc == 0 && !quiet) {
		if (o->format == DBOPS_FORMAT_JSON)
			rc = pitr_plan_report_json(
				&plan, &mc, o->no_manifest_check, stdout);
		else
			pitr_plan_report(&plan, stdout);
		if (o->format != DBOPS_FORMAT_JSON)
			pitr_manifest_report(&mc, o->no_manifest_check, stdout);
	}
	if (o->r.metrics_file &&
	    pitr_metrics_write(o->r.metrics_file, "verify", rc == 0 && mrc == 0,
			       (double)(dbops_clock_ms() - start_ms) / 1000,
			       &facts) != 0)
		rc = -1;
	pitr_plan_free(&plan);
	return rc == 0 && mrc == 0 ? 0 : 1;
}

/*
 * fetch-wal takes ARCHIVE and two operands, and nothing else of the
 * others' options. Its usage errors are 126 like its other failures: a
 * mistyped restore_command must stop the server, not read as the end of
 * the archive.
 */
static int run_fetch(struct pitr_opts *o, int noperands, char **operands)
{
	const struct verify_opts *v = &o->r.verify;

	if (noperands != 2) {
		dbops_cli_error(
			"fetch-wal takes two operands, NAME and DEST (%%f and %%p), not %d",
			noperands);
		return FETCH_FAILED;
	}
	if (o->fetch.archive == NULL) {
		dbops_cli_error("no WAL archive given (-a ARCHIVE)");
		return FETCH_FAILED;
	}
	if (v->base || o->r.datadir || v->target.kind != TARGET_END ||
	    v->target.exclusive || o->timeline_given || o->format_given ||
	    o->r.keep_running || o->r.port || v->pg_bindir ||
	    o->r.action != ACTION_PROMOTE) {
		dbops_cli_error(
			"fetch-wal takes -a, --spool, --prefetch, NAME and DEST only");
		return FETCH_FAILED;
	}
	o->fetch.name = operands[0];
	o->fetch.dest = operands[1];
	return pitr_fetch_wal_run(&o->fetch);
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
	if (strcmp(o->command, "info") == 0) {
		struct info_opts i = {
			.bases = o->bases,
			.nbases = (size_t)o->nbases,
			.archive = o->r.verify.archive,
			.time = o->time,
			.time_us = o->time_us,
			.format = o->format,
		};

		return pitr_info_run(&i);
	}
	if (strcmp(o->command, "verify") == 0)
		return run_verify(o);
	o->r.prefetch = o->fetch.prefetch;
	return pitr_restore_run(&o->r);
}

/* Whether ARGV names the fetch-wal command (for its exit status). */
static bool is_fetch(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "fetch-wal") == 0)
			return true;
	return false;
}

/* What the options hold: the --tablespace-map pairs. */
static void free_opts(struct pitr_opts *o)
{
	for (size_t i = 0; i < o->r.nts_maps; i++)
		free((char *)o->r.ts_maps[i].old_dir);
	free(o->r.ts_maps);
	o->r.ts_maps = NULL;
	o->r.nts_maps = 0;
}

int main(int argc, char **argv)
{
	struct pitr_opts o = { .format = DBOPS_FORMAT_TABLE,
			       .fetch.prefetch = FETCH_PREFETCH_DEFAULT };
	int first, rc;

	dbops_log_init(argv[0]);
	rc = dbops_cli_parse(&cli, &o, argc, argv, &first);
	if (rc == DBOPS_CLI_RUN && first < argc &&
	    strcmp(argv[first], "fetch-wal") == 0)
		return run_fetch(&o, argc - first - 1, argv + first + 1);
	if (rc == 1 && is_fetch(argc, argv))
		return FETCH_FAILED;
	if (rc == DBOPS_CLI_RUN && first >= argc)
		rc = dbops_cli_error(
			"no command given: use restore, verify, window, info or fetch-wal");
	else if (rc == DBOPS_CLI_RUN && first + 1 < argc)
		rc = dbops_cli_error("unexpected argument \"%s\"",
				     argv[first + 1]);
	if (rc == DBOPS_CLI_RUN) {
		o.command = argv[first];
		rc = check_command(&o) != 0 ? 1 : run(&o);
	}
	free_opts(&o);
	return dbops_log_exit_status(rc);
}
