/*
 * instance_mariadb.c - the MariaDB (and MySQL) driver of instance.c:
 * mariadbd or mysqld found on PATH or in the sbin directories,
 * mariadb-install-db, and an option file written before each start. See
 * instance_driver.h.
 *
 * Every instance has its own tmpdir: servers starting at once in a shared
 * /tmp delete each other's temporary tables.
 */
#include "instance_driver.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "log.h"

#define MARIADB_SOCKET "mysqld.sock"

/* NAME in PATH's directories, then in the sbin directories; 0 if found. */
static int which(const char *name, char *out, size_t len)
{
	static const char *const sbin[] = { "/usr/sbin", "/usr/bin",
					    "/usr/local/sbin", NULL };
	const char *path = getenv("PATH");
	const char *dir = path ? path : "";

	while (*dir != '\0') {
		size_t n = strcspn(dir, ":");

		snprintf(out, len, "%.*s/%s", (int)n, dir, name);
		if (n > 0 && dbops_instance_executable(out))
			return 0;
		dir += n + (dir[n] == ':');
	}
	for (int i = 0; sbin[i] != NULL; i++) {
		snprintf(out, len, "%s/%s", sbin[i], name);
		if (dbops_instance_executable(out))
			return 0;
	}
	return -1;
}

/* "10.11.19" from "mariadbd  Ver 10.11.19-MariaDB-0+deb12u1 for ...". */
static void server_version(const char *server, const struct dbops_user *user,
			   char *out, size_t len)
{
	const char *argv[] = { server, "--version", NULL };
	char *text = NULL, *ver;
	int status;

	snprintf(out, len, "(unknown version)");
	if (dbops_process_run(argv, user, 10000, &text, &status) == 0 &&
	    (ver = strstr(text, "Ver ")) != NULL) {
		size_t n = strcspn(ver + 4, "- \n");

		snprintf(out, len, "%.*s", (int)n, ver + 4);
	}
	free(text);
}

static int maria_find_programs(const struct dbops_instance_opts *opts,
			       struct dbops_instance *inst)
{
	char *server = inst->program;

	if (opts->bindir != NULL) {
		snprintf(inst->bindir, sizeof(inst->bindir), "%s",
			 opts->bindir);
		snprintf(server, PATH_MAX, "%.*s/mariadbd", PATH_MAX - 16,
			 opts->bindir);
		if (!dbops_instance_executable(server))
			snprintf(server, PATH_MAX, "%.*s/mysqld", PATH_MAX - 16,
				 opts->bindir);
	} else if (which("mariadbd", server, PATH_MAX) != 0 &&
		   which("mysqld", server, PATH_MAX) != 0) {
		dbops_log_error(
			"no MariaDB or MySQL server is installed: no mariadbd or mysqld in PATH or /usr/sbin");
		dbops_log_hint("install the Debian package mariadb-server");
		return -1;
	}
	if (!dbops_instance_executable(server)) {
		dbops_log_error("no MariaDB server in \"%s\"", inst->bindir);
		return -1;
	}
	if (which("mariadb-install-db", inst->init_program, PATH_MAX) != 0 &&
	    which("mysql_install_db", inst->init_program, PATH_MAX) != 0)
		inst->init_program[0] = '\0';
	snprintf(inst->bindir, sizeof(inst->bindir), "%.*s",
		 (int)(strrchr(server, '/') - server), server);
	server_version(server, inst->drop ? &inst->user : NULL, inst->version,
		       sizeof(inst->version));
	return 0;
}

/*
 * The account a client of ours uses, named after whoever runs us, as
 * MariaDB's unix_socket authentication wants.
 */
static int maria_admin_user(struct dbops_instance *inst)
{
	struct passwd pw, *found = NULL;
	char buf[4096];

	if (getpwuid_r(geteuid(), &pw, buf, sizeof(buf), &found) != 0 ||
	    found == NULL) {
		dbops_log_error("could not find the name of user %d",
				(int)geteuid());
		return -1;
	}
	snprintf(inst->admin_user, sizeof(inst->admin_user), "%s", pw.pw_name);
	return 0;
}

/*
 * The settings among SETTINGS that shape the files mariadb-install-db
 * creates, as its options ("--name=value"), into OUT (up to MAX). The redo
 * log is made at install time: a different size at the first start makes
 * the server write a second log beside the first (MariaDB 10.11 on), which
 * a small disk cannot hold.
 */
static int install_time_settings(const char *const *settings, char out[][96],
				 int max)
{
	static const char redo[] = "innodb_log_file_size=";
	int n = 0;

	for (const char *const *s = settings; s && *s && n < max; s++)
		if (strncmp(*s, redo, sizeof(redo) - 1) == 0)
			snprintf(out[n++], sizeof(out[0]), "--%s", *s);
	return n;
}

/* Whether the install script would keep PATH whole: it splits on spaces. */
static bool shell_safe(const char *path)
{
	return strspn(path,
		      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		      "0123456789/._-+@%=:,") == strlen(path);
}

/*
 * mariadb-install-db is a shell script that expands its options unquoted:
 * a path with a space or a quote in it breaks. It is given ALIAS instead, a
 * symbolic link to the instance's directory in a new private directory
 * under /tmp, when the real path is not safe. Returns the directory to
 * name (the real one or the alias), or NULL after reporting why.
 */
static const char *install_dir(struct dbops_instance *inst, char *alias,
			       size_t len)
{
	if (shell_safe(inst->dir))
		return inst->dir;
	snprintf(alias, len, "/tmp/dbops-XXXXXX");
	if (mkdtemp(alias) == NULL ||
	    (inst->drop && dbops_user_chown(&inst->user, alias) != 0)) {
		dbops_log_error("could not create a directory in /tmp: %s",
				strerror(errno));
		return NULL;
	}
	strcat(alias, "/i");
	if (symlink(inst->dir, alias) != 0) {
		dbops_log_error("could not create symbolic link \"%s\": %s",
				alias, strerror(errno));
		*strrchr(alias, '/') = '\0';
		rmdir(alias);
		return NULL;
	}
	return alias;
}

static void remove_alias(const char *dir, char *alias)
{
	if (dir != alias)
		return;
	unlink(alias);
	*strrchr(alias, '/') = '\0';
	rmdir(alias);
}

static int maria_init_datadir(const struct dbops_instance_opts *opts,
			      struct dbops_instance *inst, int timeout_s)
{
	char datadir_opt[PATH_MAX + 16], tmpdir_opt[PATH_MAX + 16],
		admin_opt[128], extra[4][96];
	/* No account without a password on TCP: root and the admin account
	 * (whoever runs us) log in through the unix socket only. */
	const char *argv[16] = { inst->init_program,
				 "--no-defaults",
				 datadir_opt,
				 tmpdir_opt,
				 "--auth-root-authentication-method=socket",
				 admin_opt,
				 "--skip-test-db",
				 "--skip-name-resolve" };
	int argc = 8, nextra, rc;
	char alias[32];
	const char *dir;

	if (inst->init_program[0] == '\0') {
		dbops_log_error(
			"could not initialise MariaDB data directory \"%s\": no mariadb-install-db or mysql_install_db in PATH",
			inst->datadir);
		dbops_log_hint("install the Debian package mariadb-server");
		return -1;
	}
	dir = install_dir(inst, alias, sizeof(alias));
	if (dir == NULL)
		return -1;
	/* A data directory to initialise is always DIR/data. */
	snprintf(datadir_opt, sizeof(datadir_opt), "--datadir=%.*s/data",
		 PATH_MAX, dir);
	snprintf(tmpdir_opt, sizeof(tmpdir_opt), "--tmpdir=%.*s/tmp", PATH_MAX,
		 dir);
	snprintf(admin_opt, sizeof(admin_opt), "--auth-root-socket-user=%s",
		 inst->admin_user);
	nextra = install_time_settings(opts->settings, extra, 4);
	for (int i = 0; i < nextra; i++)
		argv[argc++] = extra[i];
	argv[argc] = NULL;
	rc = dbops_instance_run_init(inst, argv, timeout_s);
	remove_alias(dir, alias);
	return rc;
}

/* An option file value, double-quoted: quotes and backslashes escaped. */
static void put_quoted(FILE *f, const char *name, const char *value)
{
	fprintf(f, "%s=\"", name);
	for (const char *p = value; *p; p++) {
		if (*p == '"' || *p == '\\')
			putc('\\', f);
		putc(*p, f);
	}
	fputs("\"\n", f);
}

/* DIR/my.cnf, read by mariadbd first (--defaults-file). */
static int maria_configure(const struct dbops_instance_opts *opts,
			   struct dbops_instance *inst)
{
	char path[PATH_MAX + 16], tmpdir[PATH_MAX + 16], pidfile[PATH_MAX + 16];
	struct dbops_atomic_file af;

	snprintf(path, sizeof(path), "%s/my.cnf", inst->dir);
	snprintf(tmpdir, sizeof(tmpdir), "%s/tmp", inst->dir);
	snprintf(pidfile, sizeof(pidfile), "%s/mariadbd.pid", inst->dir);
	if (dbops_atomic_open(&af, path, 0600) != 0)
		goto fail;
	if (inst->drop)
		dbops_atomic_chown(&af, inst->user.uid, inst->user.gid);
	/* [mysqld] is read by every MariaDB and MySQL version. */
	fprintf(af.f, "# written by %s; regenerated at every start\n[mysqld]\n",
		dbops_log_progname());
	put_quoted(af.f, "datadir", inst->datadir);
	put_quoted(af.f, "socket", inst->socket);
	put_quoted(af.f, "tmpdir", tmpdir);
	put_quoted(af.f, "pid-file", pidfile);
	put_quoted(af.f, "log-error", inst->log);
	fprintf(af.f,
		"port=%d\nbind-address=127.0.0.1\nskip-name-resolve\n"
		"skip-log-bin\n",
		inst->port);
	for (const char *const *s = opts->settings; s && *s; s++)
		fprintf(af.f, "%s\n", *s);
	if (dbops_atomic_commit(&af) == 0)
		return 0;
fail:
	dbops_log_error("could not write \"%s\": %s", path, strerror(errno));
	return -1;
}

static void maria_server_argv(const struct dbops_instance_opts *opts,
			      const struct dbops_instance *inst,
			      struct dbops_server_argv *a)
{
	snprintf(a->text[0], sizeof(a->text[0]), "--defaults-file=%.*s/my.cnf",
		 PATH_MAX, inst->dir);
	a->argv[0] = inst->program;
	a->argv[1] = a->text[0]; /* it must come first */
	a->argv[2] = NULL;
	a->argc = 2;
}

static void maria_socket_path(struct dbops_instance *inst)
{
	snprintf(inst->socket, sizeof(inst->socket), "%.*s/" MARIADB_SOCKET,
		 PATH_MAX - 32, inst->socket_dir);
}

/* [ERROR] lines, but the "Aborting" that follows every failed start. */
static bool maria_relevant_line(const char *level, const char *text, size_t len,
				bool previous)
{
	static const char aborting[] = "[ERROR] Aborting";

	/* Lines printed before logging starts have no level word. */
	if (level == NULL)
		return dbops_instance_log_says_failed(text, len);
	return strcmp(level, "[ERROR] ") == 0 &&
	       !(len == sizeof(aborting) - 1 &&
		 memcmp(text, aborting, len) == 0);
}

const struct dbops_server_driver dbops_mariadb = {
	.name = "MariaDB",
	.state_name = "mariadb",
	.system_user = "mysql",
	.datadir_marker = "mysql",
	.socket_probe = MARIADB_SOCKET,
	.programs = (const char *const[]){ "mariadbd", "mysqld", NULL },
	.stop_signal = SIGTERM,
	.log_levels = (const char *const[]){ "[ERROR] ", "[Warning] ",
					     "[Note] ", NULL },
	.relevant_line = maria_relevant_line,
	.admin_user = maria_admin_user,
	.find_programs = maria_find_programs,
	.init_datadir = maria_init_datadir,
	.configure = maria_configure,
	.server_argv = maria_server_argv,
	.socket_path = maria_socket_path,
};
