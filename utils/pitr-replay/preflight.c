/*
 * preflight.c - the checks `restore` makes before it writes anything, so
 * that a restore that would fail after the extraction (a server of another
 * major version, a busy port, settings below the WAL's server, a segment
 * the server's user cannot read) fails first, with the fix named.
 */
#include "preflight.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdint.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "instance.h"
#include "log.h"
#include "xalloc.h"

const char *const pitr_limit_names[PITR_LIMITS] = {
	"max_connections",	     "max_worker_processes",
	"max_wal_senders",	     "max_prepared_transactions",
	"max_locks_per_transaction",
};

/*
 * ControlFileData of PostgreSQL 13 to 17: pg_control_version at byte 8
 * (1300 for 13 to 16, 1700 for 17), then, after the checkpoint copy (88
 * bytes in all five: 17's wal_level fills what was padding), the ints
 * MaxConnections, max_worker_processes, max_wal_senders,
 * max_prepared_xacts and max_locks_per_xact from byte 180 on.
 */
#define CONTROL_VERSION_AT 8
#define CONTROL_LIMITS_AT  180

int pitr_control_limits(const unsigned char *control, size_t len,
			struct pitr_limits *out)
{
	uint32_t version;

	if (len < CONTROL_LIMITS_AT + 4 * PITR_LIMITS)
		return -1;
	memcpy(&version, control + CONTROL_VERSION_AT, 4);
	if (version != 1300 && version != 1700)
		return -1;
	for (int i = 0; i < PITR_LIMITS; i++) {
		int32_t v;

		memcpy(&v, control + CONTROL_LIMITS_AT + 4 * i, 4);
		/* max_locks_per_transaction is at least 10; the others 0 on. */
		if (v < 0 || v > (1 << 23))
			return -1;
		out->value[i] = v;
	}
	return 0;
}

/* The major version `BINDIR/postgres -V` reports: 0 when it cannot tell. */
static int server_major(const char *bindir)
{
	char prog[PATH_MAX + 16], *output = NULL, *p;
	const char *argv[] = { prog, "-V", NULL };
	int status = 0, major = 0;

	snprintf(prog, sizeof(prog), "%s/postgres", bindir);
	if (dbops_process_run(argv, NULL, 30000, &output, &status) == 0 &&
	    WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
	    (p = strstr(output, "(PostgreSQL) ")) != NULL)
		major = atoi(p + strlen("(PostgreSQL) "));
	free(output);
	return major;
}

static int check_server_version(const struct restore_opts *o,
				const struct plan *plan)
{
	int want = plan->backup.pg_major, have = server_major(plan->bindir);

	if (have == want)
		return 0;
	if (have == 0)
		dbops_log_error(
			"could not tell the version of \"%s/postgres\": \"postgres -V\" did not say \"(PostgreSQL) N\"",
			plan->bindir);
	else
		dbops_log_error(
			"\"%s/postgres\" is PostgreSQL %d, but the base backup is PostgreSQL %d",
			plan->bindir, have, want);
	dbops_log_hint(
		"install the Debian package postgresql-%d (apt-get install postgresql-%d)%s",
		want, want,
		o->verify.pg_bindir ? " and give --pg-bindir its directory, or "
				      "leave --pg-bindir out"
				    : "");
	return -1;
}

/* --port: free on 127.0.0.1, where the server will listen. */
static int check_port(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int one = 1, rc, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return 0; /* the server will say */
	/* As the server binds: a port in TIME_WAIT is free to it. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	rc = bind(fd, (struct sockaddr *)&a, sizeof(a));
	if (rc != 0 && errno == EADDRINUSE) {
		dbops_log_error("could not use port %d on 127.0.0.1: %s", port,
				strerror(errno));
		dbops_log_hint(
			"another program listens there: choose another --port, or leave --port out for a free one");
	}
	close(fd);
	return rc != 0 && errno == EADDRINUSE ? -1 : 0;
}

static int check_conf(const char *conf, const struct dbops_user *user)
{
	struct stat st;
	int err = 0;

	if (stat(conf, &st) != 0) {
		dbops_log_error("could not use \"%s\" as --conf: %s", conf,
				strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		dbops_log_error("could not use \"%s\" as --conf: not a file",
				conf);
		return -1;
	}
	if (conf[0] != '/') {
		dbops_log_error(
			"could not use \"%s\" as --conf: give an absolute path (the server does not run here)",
			conf);
		return -1;
	}
	if (user && dbops_user_can_access(user, conf, R_OK, &err) != 1) {
		dbops_log_error(
			"the server's user %s could not read \"%s\": %s",
			user->name, conf,
			err ? strerror(err) : "the check failed");
		dbops_log_hint("make it readable by %s", user->name);
		return -1;
	}
	return 0;
}

/* The name of a --set NAME=VALUE, into NAME (of LEN bytes). */
static void set_name(const char *set, char *name, size_t len)
{
	const char *eq = strchr(set, '=');
	size_t n = eq ? (size_t)(eq - set) : strlen(set);

	snprintf(name, len, "%.*s", (int)(n < len ? n : len - 1), set);
}

/*
 * The limits recovery needs: the backup's pg_control's, raised by any
 * parameter change the WAL up to the target holds (the source restarted
 * with higher ones after the backup). SOURCE names where each came from.
 * Returns false when neither could be read.
 */
static bool needed_limits(const struct plan *plan, struct pitr_limits *lim,
			  char source[PITR_LIMITS][64])
{
	const struct path_scan *sc = &plan->scan;
	bool known = pitr_control_limits(plan->backup.control,
					 plan->backup.control_len, lim) == 0;

	for (int i = 0; i < PITR_LIMITS; i++) {
		snprintf(source[i], 64, "the backup's pg_control");
		if (!sc->has_wal_limits ||
		    (known && sc->wal_limit[i] <= lim->value[i]))
			continue;
		lim->value[i] = sc->wal_limit[i];
		snprintf(source[i], 64, "a parameter change in the WAL at ");
		pitr_lsn_format(sc->wal_limit_lsn[i],
				source[i] + strlen(source[i]));
	}
	return known || sc->has_wal_limits;
}

/* The value --set gives limit I, or NULL. */
static const char *limit_given(const struct restore_opts *o, int i)
{
	const char *given = NULL;
	char name[64];

	for (int j = 0; j < o->nsets; j++) {
		set_name(o->sets[j], name, sizeof(name));
		if (strcmp(name, pitr_limit_names[i]) == 0)
			given = strchr(o->sets[j], '=') + 1;
	}
	return given;
}

int pitr_check_limits(const struct restore_opts *o, const struct plan *plan)
{
	struct pitr_limits lim;
	char source[PITR_LIMITS][64];

	if (!needed_limits(plan, &lim, source))
		return 0;
	for (int i = 0; i < PITR_LIMITS; i++) {
		const char *given = limit_given(o, i);

		if (given == NULL || atoll(given) >= lim.value[i])
			continue;
		dbops_log_error(
			"--set %s=%s is below the %d of the server that wrote the WAL (%s): recovery would stop on \"insufficient parameter settings\"",
			pitr_limit_names[i], given, lim.value[i], source[i]);
		dbops_log_hint("give %s=%d or more, or leave it out",
			       pitr_limit_names[i], lim.value[i]);
		return -1;
	}
	return 0;
}

/* The limits recovery needs, each as a setting unless --set gives it. */
static void add_limits(const struct restore_opts *o, const struct plan *plan,
		       struct pitr_settings *s)
{
	struct pitr_limits lim;
	char source[PITR_LIMITS][64];

	if (!needed_limits(plan, &lim, source)) {
		dbops_log_warning(
			"\"%s\": could not read the server's limits from its global/pg_control; recovery runs with the backup's settings",
			plan->backup.path);
		return;
	}
	for (int i = 0; i < PITR_LIMITS; i++) {
		if (limit_given(o, i))
			continue;
		snprintf(s->text[s->n], sizeof(s->text[s->n]), "%s=%d",
			 pitr_limit_names[i], lim.value[i]);
		s->list[s->n] = s->text[s->n];
		s->n++;
	}
}

void pitr_settings_make(const struct restore_opts *o, const struct plan *plan,
			struct pitr_settings *s)
{
	int k = 0;

	memset(s, 0, sizeof(*s));
	/* Whatever a configuration file says, the server runs here: a
	 * Debian postgresql.conf names the cluster's own data directory and
	 * pid file. */
	snprintf(s->text[k], sizeof(s->text[k]), "data_directory=%s",
		 o->datadir);
	s->list[s->n++] = s->text[k++];
	if (o->conf) {
		snprintf(s->text[k], sizeof(s->text[k]), "config_file=%s",
			 o->conf);
		s->list[s->n++] = s->text[k++];
		/* Not the cluster's: in our work directory (an empty value
		 * is a file name to PostgreSQL, which then complains). */
		snprintf(s->text[k], sizeof(s->text[k]),
			 "external_pid_file=%s/pitr-replay/external.pid",
			 o->datadir);
		s->list[s->n++] = s->text[k++];
	}
	if (plan->backup.pg_major < 15)
		s->list[s->n++] = "stats_temp_directory=pg_stat_tmp";
	add_limits(o, plan, s);
	for (int j = 0; j < o->nsets; j++)
		s->list[s->n++] = o->sets[j];
	s->list[s->n] = NULL;
}

int pitr_preflight(const struct restore_opts *o, const struct plan *plan,
		   const struct dbops_user *user)
{
	if (check_server_version(o, plan) != 0 ||
	    (o->port && check_port(o->port) != 0) ||
	    (o->conf && check_conf(o->conf, user) != 0))
		return -1;
	return pitr_check_limits(o, plan);
}

/* The server's user may not read DIR/NAME: say so. ERR: why, or 0 when
 * the check itself failed. */
static int report_unreadable(const struct dbops_user *user, const char *dir,
			     const char *name, int err)
{
	dbops_log_error("the server's user %s could not read \"%s/%s\": %s",
			user->name, dir, name,
			err ? strerror(err) : "the check failed");
	dbops_log_hint(
		"recovery may read it (the server reads ahead past the target): make the archive's files readable by %s (chmod o+r, or its group)",
		user->name);
	return -1;
}

/* In the child of check_reads(): USER's identity, for good. */
static int become(const struct dbops_user *user)
{
	if (setgroups((size_t)user->ngroups, user->groups) != 0 ||
	    setgid(user->gid) != 0 || setuid(user->uid) != 0)
		return -1;
	if (user->uid != 0 && setuid(0) == 0)
		return -1;
	return 0;
}

/*
 * Whether USER may read each of the N files NAMES in DIR, as
 * dbops_user_can_access() says of one, in order, in one child process
 * that takes the user's identity (one a file took some 0.3 s for 140
 * segments): -1 after the message for the first it may not read.
 */
static int check_reads(const struct dbops_user *user, const char *dir,
		       char (*names)[64], size_t n)
{
	int pipefd[2], status, answer[2] = { 0, -1 }; /* file, errno */
	ssize_t got = -1;
	pid_t pid;

	if (n == 0)
		return 0;
	if (pipe2(pipefd, O_CLOEXEC) != 0)
		return report_unreadable(user, dir, names[0], 0);
	if ((pid = fork()) < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return report_unreadable(user, dir, names[0], 0);
	}
	if (pid == 0) {
		int a[2] = { 0, become(user) != 0 ? -1 : 0 };
		char path[PATH_MAX + 80];

		for (size_t i = 0; a[1] == 0 && i < n; i++) {
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
			if (access(path, R_OK) != 0)
				a[0] = (int)i, a[1] = errno;
		}
		_exit(write(pipefd[1], a, sizeof(a)) == (ssize_t)sizeof(a) ? 0
									   : 1);
	}
	close(pipefd[1]);
	do
		got = read(pipefd[0], answer, sizeof(answer));
	while (got < 0 && errno == EINTR);
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (got != (ssize_t)sizeof(answer) || answer[0] < 0 ||
	    (size_t)answer[0] >= n)
		return report_unreadable(user, dir, names[0], 0);
	if (answer[1] < 0) /* it could not become USER */
		return report_unreadable(user, dir, names[answer[0]], 0);
	if (answer[1] != 0)
		return report_unreadable(user, dir, names[answer[0]],
					 answer[1]);
	return 0;
}

int pitr_check_archive_access(const struct plan *plan,
			      const struct dbops_user *user)
{
	const struct path_scan *sc = &plan->scan;
	char path[PATH_MAX + 80], (*names)[64];
	size_t n = 0, cap = (size_t)sc->segments + 2;
	struct stat st;
	int rc;

	names = dbops_xcalloc(cap, sizeof(*names));
	if (plan->tli > 1) {
		snprintf(names[n], sizeof(names[n]), "%08X.history", plan->tli);
		snprintf(path, sizeof(path), "%s/%s", plan->arc.dir, names[n]);
		if (stat(path, &st) == 0)
			n++;
	}
	for (uint64_t segno = sc->first_segno; sc->segments; segno++) {
		uint32_t tli = pitr_timeline_file_tli(&plan->hist, segno,
						      plan->arc.seg_size);
		const struct archive_segment *seg =
			pitr_walarc_find(&plan->arc, tli, segno);

		/* Past the verified ones, a missing segment ends the archive
		 * for the server too. */
		if (seg == NULL && segno > sc->last_segno)
			break;
		/* One read from the backup's pg_wal is in the data directory. */
		if (seg && !seg->in_backup) {
			if (n == cap)
				names = dbops_xreallocarray(names, cap *= 2,
							    sizeof(*names));
			snprintf(names[n++], sizeof(names[0]), "%s", seg->name);
		}
	}
	rc = check_reads(user, plan->arc.dir, names, n);
	free(names);
	return rc;
}
