/*
 * instance-driver.c - a small command over common/instance.c, so the bats
 * suites can start and stop real servers through the library the tools
 * use.
 *
 *   instance-driver start postgres|mariadb DIR [options]
 *   instance-driver stop DIR
 *   instance-driver status DIR
 *
 * start prints what a test needs as name=value lines on stdout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "instance_driver.h"
#include "log.h"

enum {
	OPT_BINDIR = DBOPS_CLI_LONG_ID(0),
	OPT_DATADIR,
	OPT_PG_MAJOR,
	OPT_PORT,
	OPT_PORT_BASE,
	OPT_SET,
	OPT_TIMEOUT
};

struct driver_opts {
	struct dbops_instance_opts start;
	const char *settings[32];
	int nsettings;
};

static const struct dbops_cli_option start_options[] = {
	{ OPT_BINDIR, "bindir", "DIR", "server programs directory" },
	{ OPT_DATADIR, "datadir", "DIR", "use this existing data directory" },
	{ OPT_PG_MAJOR, "pg-major", "N", "PostgreSQL major version" },
	{ OPT_PORT, "port", "N", "TCP port (default: a free one)" },
	{ OPT_PORT_BASE, "port-base", "N", "first port to try" },
	{ OPT_SET, "set", "NAME=VALUE", "a server setting (repeatable)" },
	{ OPT_TIMEOUT, "timeout", "S", "start and stop limit in seconds" },
	{ 0, NULL, NULL, NULL },
};

static int set_option(void *ctx, int id, const char *arg)
{
	struct driver_opts *o = ctx;
	struct dbops_instance_opts *s = &o->start;

	switch (id) {
	case OPT_BINDIR:
		s->bindir = arg;
		return 0;
	case OPT_DATADIR:
		s->datadir = arg;
		return 0;
	case OPT_PG_MAJOR:
		return dbops_cli_int("--pg-major", arg, 0, 99, &s->pg_major);
	case OPT_PORT:
		return dbops_cli_int("--port", arg, 0, 65535, &s->port);
	case OPT_PORT_BASE:
		return dbops_cli_int("--port-base", arg, 0, 65535,
				     &s->port_base);
	case OPT_TIMEOUT:
		return dbops_cli_int("--timeout", arg, 0, 3600, &s->timeout_s);
	case OPT_SET:
		if (o->nsettings == 31)
			return dbops_cli_invalid("--set", arg,
						 "at most 31 settings");
		o->settings[o->nsettings++] = arg;
		return 0;
	}
	return -1;
}

static const char *const synopsis[] = { "start postgres|mariadb DIR [options]",
					"stop DIR", "status DIR", NULL };

static const struct dbops_cli cli = {
	.name = "instance-driver",
	.synopsis = synopsis,
	.about =
		"Start, stop and look at a private server through common/instance.c.\n",
	.sections = (const struct dbops_cli_section[]){ { "Options for start",
							  start_options },
							{ NULL, NULL } },
	.handle = set_option,
};

static const struct dbops_server_driver *const both[] = { &dbops_postgres,
							  &dbops_mariadb,
							  NULL };

static void print_instance(const struct dbops_instance *inst)
{
	printf("server=%s\nversion=%s\nport=%d\nsocket=%s\nsocket_dir=%s\n"
	       "datadir=%s\nlog=%s\npid=%d\nadmin_user=%s\n",
	       inst->driver->state_name, inst->version, inst->port,
	       inst->socket, inst->socket_dir, inst->datadir, inst->log,
	       (int)inst->pid, inst->admin_user);
}

static int cmd_start(struct driver_opts *o, char **args, int n)
{
	struct dbops_instance inst;

	if (n != 2)
		return dbops_cli_error(
			"start needs a server kind and a directory");
	if (strcmp(args[0], "postgres") == 0)
		o->start.driver = &dbops_postgres;
	else if (strcmp(args[0], "mariadb") == 0)
		o->start.driver = &dbops_mariadb;
	else
		return dbops_cli_error("unknown server kind \"%s\"", args[0]);
	o->start.dir = args[1];
	o->start.settings = o->settings;
	if (dbops_instance_start(&o->start, &inst) != 0)
		return 1;
	print_instance(&inst);
	dbops_process_free(&inst.proc);
	return 0;
}

static int cmd_other(const char *cmd, char **args, int n)
{
	struct dbops_instance inst;

	if (strcmp(cmd, "stop") != 0 && strcmp(cmd, "status") != 0)
		return dbops_cli_error("unknown command \"%s\"", cmd);
	if (n != 1)
		return dbops_cli_error("%s needs one directory", cmd);
	if (dbops_instance_load(args[0], both, &inst) != 0)
		return 1;
	if (strcmp(cmd, "stop") == 0)
		return dbops_instance_stop(&inst, 0) != 0;
	if (!dbops_instance_running(&inst)) {
		printf("stopped\n");
		return 1;
	}
	printf("running\n");
	print_instance(&inst);
	return 0;
}

int main(int argc, char **argv)
{
	struct driver_opts o = { .nsettings = 0 };
	int first, rc;

	dbops_log_init(argv[0]);
	rc = dbops_cli_parse(&cli, &o, argc, argv, &first);
	if (rc == DBOPS_CLI_RUN && first >= argc)
		rc = dbops_cli_error("no command given");
	else if (rc == DBOPS_CLI_RUN && strcmp(argv[first], "start") == 0)
		rc = cmd_start(&o, argv + first + 1, argc - first - 1);
	else if (rc == DBOPS_CLI_RUN)
		rc = cmd_other(argv[first], argv + first + 1, argc - first - 1);
	return dbops_log_exit_status(rc);
}
