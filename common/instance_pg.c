/*
 * instance_pg.c - the PostgreSQL driver of instance.c: Debian's server
 * programs under /usr/lib/postgresql/<major>/bin, initdb, the postgres argv
 * and postmaster.pid's readiness. See instance_driver.h.
 */
#include "instance_driver.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define PG_LIBDIR "/usr/lib/postgresql"

int dbops_pg_bindir(int major, const char *given, char *bindir, size_t len)
{
	char prog[PATH_MAX + 16];

	if (given != NULL)
		snprintf(bindir, len, "%s", given);
	else
		snprintf(bindir, len, PG_LIBDIR "/%d/bin", major);
	snprintf(prog, sizeof(prog), "%s/postgres", bindir);
	return dbops_instance_executable(prog) ? 0 : -1;
}

/* The highest major version under /usr/lib/postgresql with a server. */
static int newest_major(void)
{
	DIR *d = opendir(PG_LIBDIR);
	struct dirent *e;
	char bindir[PATH_MAX];
	int best = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		int major = atoi(e->d_name);

		if (major > best &&
		    dbops_pg_bindir(major, NULL, bindir, sizeof(bindir)) == 0)
			best = major;
	}
	closedir(d);
	return best;
}

/* PG_VERSION of a data directory: its major version, 0 if absent. */
static int datadir_major(const char *datadir)
{
	char path[PATH_MAX + 16];
	int major = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/PG_VERSION", datadir);
	f = fopen(path, "re");
	if (f == NULL)
		return 0;
	if (fscanf(f, "%d", &major) != 1 || major <= 0)
		major = -1;
	fclose(f);
	return major;
}

/* The major version to run: asked for, the data directory's, the newest. */
static int choose_major(const struct dbops_instance_opts *opts,
			const struct dbops_instance *inst, int data_major)
{
	if (opts->pg_major != 0)
		return opts->pg_major;
	if (data_major != 0 || opts->bindir != NULL)
		return data_major;
	return newest_major();
}

static int pg_find_programs(const struct dbops_instance_opts *opts,
			    struct dbops_instance *inst)
{
	int data_major = datadir_major(inst->datadir);
	int major = choose_major(opts, inst, data_major);

	if (data_major < 0) {
		dbops_log_error(
			"could not read the version of data directory \"%s\": PG_VERSION holds no number",
			inst->datadir);
		return -1;
	}
	if (major == 0 && opts->bindir == NULL) {
		dbops_log_error(
			"no PostgreSQL server is installed: no %s/<version>/bin/postgres",
			PG_LIBDIR);
		dbops_log_hint(
			"install a server package, e.g. \"apt-get install postgresql\"");
		return -1;
	}
	if (dbops_pg_bindir(major, opts->bindir, inst->bindir,
			    sizeof(inst->bindir)) != 0) {
		dbops_log_error(
			"PostgreSQL %d server binaries not found: no \"%s/postgres\"",
			major, inst->bindir);
		if (opts->bindir == NULL)
			dbops_log_hint(
				"install the Debian package postgresql-%d",
				major);
		return -1;
	}
	if (data_major > 0 && major > 0 && data_major != major) {
		dbops_log_error(
			"data directory \"%s\" is of PostgreSQL %d, not %d",
			inst->datadir, data_major, major);
		return -1;
	}
	snprintf(inst->version, sizeof(inst->version), "%d", major);
	snprintf(inst->program, sizeof(inst->program), "%.*s/postgres",
		 PATH_MAX - 16, inst->bindir);
	snprintf(inst->init_program, sizeof(inst->init_program), "%.*s/initdb",
		 PATH_MAX - 16, inst->bindir);
	return 0;
}

static int pg_admin_user(struct dbops_instance *inst)
{
	/* initdb -U postgres below. */
	snprintf(inst->admin_user, sizeof(inst->admin_user), "postgres");
	return 0;
}

static int pg_init_datadir(const struct dbops_instance_opts *opts,
			   struct dbops_instance *inst, int timeout_s)
{
	const char *argv[] = { inst->init_program,
			       "-D",
			       inst->datadir,
			       "-U",
			       "postgres",
			       "-A",
			       "trust",
			       "-E",
			       "UTF8",
			       "--locale=C",
			       "--no-sync",
			       NULL };

	return dbops_instance_run_init(inst, argv, timeout_s);
}

static void pg_server_argv(const struct dbops_instance_opts *opts,
			   const struct dbops_instance *inst,
			   struct dbops_server_argv *a)
{
	snprintf(a->text[0], sizeof(a->text[0]), "port=%d", inst->port);
	snprintf(a->text[1], sizeof(a->text[1]), "unix_socket_directories=%s",
		 inst->socket_dir);
	a->argc = 0;
	a->argv[a->argc++] = inst->program;
	a->argv[a->argc++] = "-D";
	a->argv[a->argc++] = inst->datadir;
	a->argv[a->argc++] = "-c";
	a->argv[a->argc++] = a->text[0];
	a->argv[a->argc++] = "-c";
	a->argv[a->argc++] = "listen_addresses=127.0.0.1";
	a->argv[a->argc++] = "-c";
	a->argv[a->argc++] = a->text[1];
	/* The log must come to us, whatever the data directory says. */
	a->argv[a->argc++] = "-c";
	a->argv[a->argc++] = "logging_collector=off";
	a->argv[a->argc++] = "-c";
	a->argv[a->argc++] = "log_destination=stderr";
	for (const char *const *s = opts->settings; s && *s && a->argc < 68;
	     s++) {
		a->argv[a->argc++] = "-c";
		a->argv[a->argc++] = *s;
	}
	a->argv[a->argc] = NULL;
}

static void pg_socket_path(struct dbops_instance *inst)
{
	snprintf(inst->socket, sizeof(inst->socket), "%.*s/.s.PGSQL.%d",
		 PATH_MAX - 32, inst->socket_dir, inst->port);
}

/* postmaster.pid line 8 says "ready" once it takes connections. */
static bool pg_ready(const struct dbops_instance *inst)
{
	char path[PATH_MAX + 32], *line = NULL;
	size_t cap = 0;
	bool ready = false;
	FILE *f;

	snprintf(path, sizeof(path), "%s/postmaster.pid", inst->datadir);
	f = fopen(path, "re");
	if (f == NULL)
		return false;
	for (int i = 1; getline(&line, &cap, f) > 0; i++)
		if (i == 8)
			ready = strncmp(line, "ready", 5) == 0 ||
				strncmp(line, "standby", 7) == 0;
	free(line);
	fclose(f);
	return ready;
}

/* FATAL, PANIC and ERROR lines; DETAIL and HINT after one of those. */
static bool pg_relevant_line(const char *level, const char *text, size_t len,
			     bool previous)
{
	/* Lines printed before logging starts have no level word. */
	if (level == NULL)
		return dbops_instance_log_says_failed(text, len);
	if (!strcmp(level, "FATAL:  ") || !strcmp(level, "PANIC:  ") ||
	    !strcmp(level, "ERROR:  "))
		return true;
	if (!strcmp(level, "DETAIL:  ") || !strcmp(level, "HINT:  "))
		return previous;
	return dbops_instance_log_says_failed(text, len);
}

const struct dbops_server_driver dbops_postgres = {
	.name = "PostgreSQL",
	.state_name = "postgres",
	.system_user = "postgres",
	.datadir_marker = "PG_VERSION",
	.socket_probe = ".s.PGSQL.65535.lock",
	.programs = (const char *const[]){ "postgres", NULL },
	.stop_signal = SIGINT,
	.log_levels = (const char *const[]){ "FATAL:  ", "PANIC:  ", "ERROR:  ",
					     "LOG:  ", "WARNING:  ",
					     "DETAIL:  ", "HINT:  ", NULL },
	.relevant_line = pg_relevant_line,
	.admin_user = pg_admin_user,
	.find_programs = pg_find_programs,
	.init_datadir = pg_init_datadir,
	.server_argv = pg_server_argv,
	.socket_path = pg_socket_path,
	.ready = pg_ready,
};
