/*
 * instance-driver.c - a small command over common/instance.c, so the bats
 * suites (and `make demo`, until the tools exist) can start and stop real
 * servers through the library the tools use.
 *
 *   instance-driver start postgres|mariadb DIR [options]
 *   instance-driver stop DIR
 *   instance-driver status DIR
 *
 * start prints what a test needs as name=value lines on stdout.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "instance_driver.h"
#include "cli.h"
#include "log.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage:\n"
		" instance-driver start postgres|mariadb DIR [options]\n"
		" instance-driver stop DIR\n"
		" instance-driver status DIR\n"
		"\n"
		"Options for start:\n"
		"     --bindir DIR       server programs directory\n"
		"     --datadir DIR      use this existing data directory\n"
		"     --pg-major N       PostgreSQL major version\n"
		"     --port N           TCP port (default: a free one)\n"
		"     --port-base N      first port to try\n"
		"     --set NAME=VALUE   a server setting (repeatable)\n"
		"     --timeout S        start and stop limit in seconds\n"
		" -v, --verbose          debug messages\n"
		" -h, --help             this text\n");
}

static int parse_number(const char *text, const char *option, int max, int *out)
{
	char *end;
	long v = strtol(text, &end, 10);

	if (*text == '\0' || *end != '\0' || v < 0 || v > max)
		return dbops_cli_error("invalid value \"%s\" for option %s",
				       text, option);
	*out = (int)v;
	return 0;
}

static void print_instance(const struct dbops_instance *inst)
{
	printf("server=%s\nversion=%s\nport=%d\nsocket=%s\nsocket_dir=%s\n"
	       "datadir=%s\nlog=%s\npid=%d\nadmin_user=%s\n",
	       inst->driver->state_name, inst->version, inst->port,
	       inst->socket, inst->socket_dir, inst->datadir, inst->log,
	       (int)inst->pid, inst->admin_user);
}

static int cmd_start(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "bindir", required_argument, NULL, 'b' },
		{ "datadir", required_argument, NULL, 'D' },
		{ "pg-major", required_argument, NULL, 'm' },
		{ "port", required_argument, NULL, 'p' },
		{ "port-base", required_argument, NULL, 'P' },
		{ "set", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	struct dbops_instance_opts opts = { 0 };
	struct dbops_instance inst;
	const char *settings[32] = { NULL };
	int nsettings = 0, c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			opts.bindir = optarg;
			break;
		case 'D':
			opts.datadir = optarg;
			break;
		case 'm':
			if (parse_number(optarg, "--pg-major", 99,
					 &opts.pg_major))
				return 1;
			break;
		case 'p':
			if (parse_number(optarg, "--port", 65535, &opts.port))
				return 1;
			break;
		case 'P':
			if (parse_number(optarg, "--port-base", 65535,
					 &opts.port_base))
				return 1;
			break;
		case 's':
			if (nsettings == 31)
				return dbops_cli_error(
					"too many --set options");
			settings[nsettings++] = optarg;
			break;
		case 't':
			if (parse_number(optarg, "--timeout", 3600,
					 &opts.timeout_s))
				return 1;
			break;
		default:
			return dbops_cli_error("bad option");
		}
	}
	if (argc - optind != 2)
		return dbops_cli_error(
			"start needs a server kind and a directory");
	if (strcmp(argv[optind], "postgres") == 0)
		opts.driver = &dbops_postgres;
	else if (strcmp(argv[optind], "mariadb") == 0)
		opts.driver = &dbops_mariadb;
	else
		return dbops_cli_error("unknown server kind \"%s\"",
				       argv[optind]);
	opts.dir = argv[optind + 1];
	opts.settings = settings;
	if (dbops_instance_start(&opts, &inst) != 0)
		return 1;
	print_instance(&inst);
	dbops_process_free(&inst.proc);
	return 0;
}

static const struct dbops_server_driver *const both[] = { &dbops_postgres,
							  &dbops_mariadb,
							  NULL };

int main(int argc, char **argv)
{
	struct dbops_instance inst;
	const char *cmd;

	dbops_log_init(argv[0]);
	if (argc >= 2 &&
	    (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc >= 2 &&
	    (!strcmp(argv[1], "-v") || !strcmp(argv[1], "--verbose"))) {
		dbops_log_set_verbosity(DBOPS_LOG_VERBOSE);
		argv++;
		argc--;
	}
	if (argc < 2)
		return dbops_cli_error("no command given");
	cmd = argv[1];
	if (strcmp(cmd, "start") == 0)
		return dbops_log_exit_status(cmd_start(argc - 1, argv + 1));
	if (argc != 3)
		return dbops_cli_error("%s needs one directory", cmd);
	if (strcmp(cmd, "stop") == 0) {
		if (dbops_instance_load(argv[2], both, &inst) != 0)
			return 1;
		return dbops_log_exit_status(dbops_instance_stop(&inst, 0));
	}
	if (strcmp(cmd, "status") == 0) {
		if (dbops_instance_load(argv[2], both, &inst) != 0)
			return 1;
		if (!dbops_instance_running(&inst)) {
			printf("stopped\n");
			return 1;
		}
		printf("running\n");
		print_instance(&inst);
		return 0;
	}
	return dbops_cli_error("unknown command \"%s\"", cmd);
}
