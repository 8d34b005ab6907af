/*
 * restore.c - run the recovery and watch it.
 *
 * The server always runs with recovery_target_action = pause, so that it
 * stays at the target while we ask it where it stopped
 * (pg_last_wal_replay_lsn() and the log's "recovery stopping" line) and
 * hold that against what verification predicted; only then is the
 * requested action taken. An end-of-archive target becomes an inclusive
 * LSN target on the last record verified, so that it can pause too.
 */
#include "restore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "backup_util.h"
#include "instance.h"
#include "clock.h"
#include "fetch.h"
#include "fileio.h"
#include "log.h"
#include "parallel.h"
#include "preflight.h"
#include "process.h"
#include "progress.h"
#include "telemetry.h"
#include "xalloc.h"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

/* The line a signal during verification writes: all but the number. */
static char verify_signal_line[128];

/*
 * Before the extraction nothing is written, so a signal needs no cleanup:
 * one line (write(2) only: this is a signal handler) and exit status 1.
 */
static void on_signal_verifying(int sig)
{
	static const char tail[] =
		" during verification: nothing was written\n";
	char buf[sizeof(verify_signal_line) + sizeof(tail) + 8], digits[8];
	size_t n = strlen(verify_signal_line);
	int d = 0;

	memcpy(buf, verify_signal_line, n);
	do
		digits[d++] = (char)('0' + sig % 10);
	while ((sig /= 10) > 0 && d < (int)sizeof(digits));
	while (d > 0)
		buf[n++] = digits[--d];
	memcpy(buf + n, tail, sizeof(tail) - 1);
	n += sizeof(tail) - 1;
	/* Nothing else to do if the line cannot be written. */
	(void)!write(STDERR_FILENO, buf, n);
	_exit(1);
}

void pitr_exit_on_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal_verifying };

	snprintf(verify_signal_line, sizeof(verify_signal_line),
		 "%s%s: error: interrupted by signal ",
		 dbops_log_to_journal() ? "<3>" : "", dbops_log_progname());
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/*
 * From the extraction on, SIGINT, SIGTERM and SIGHUP only set
 * `interrupted`: the extraction stops at its next block and its partial
 * copy is removed, a running server is stopped. SA_RESTART, so that a read
 * in libarchive or libpq is not failed by the signal.
 */
static void catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal,
				.sa_flags = SA_RESTART };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* S as a single-quoted shell word in BUF; -1 when it does not fit. */
static int shell_quote(const char *s, char *buf, size_t len)
{
	size_t n = 0;

	if (len < 3)
		return -1;
	buf[n++] = '\'';
	for (; *s; s++) {
		if (n + 6 >= len)
			return -1;
		if (*s == '\'') {
			memcpy(buf + n, "'\\''", 4);
			n += 4;
		} else {
			buf[n++] = *s;
		}
	}
	buf[n++] = '\'';
	buf[n] = '\0';
	return 0;
}

/* S for a single-quoted postgresql.conf string: quotes doubled, and
 * backslashes too, since the server reads them as escapes; a line end,
 * which would end the string and the line, as the escape \n (\r too). */
static int conf_quote(const char *s, char *buf, size_t len)
{
	size_t n = 0;

	for (; *s; s++) {
		if (n + 3 >= len)
			return -1;
		if (*s == '\n' || *s == '\r') {
			buf[n++] = '\\';
			buf[n++] = *s == '\n' ? 'n' : 'r';
			continue;
		}
		if (*s == '\'' || *s == '\\')
			buf[n++] = *s;
		buf[n++] = *s;
	}
	buf[n] = '\0';
	return 0;
}

/* S as one word of restore_command: quoted for the shell, and each %
 * doubled, which PostgreSQL reads as a literal % (L1). */
static int command_word(const char *s, char *buf, size_t len)
{
	char quoted[8192];
	size_t n = 0;

	if (shell_quote(s, quoted, sizeof(quoted)) != 0)
		return -1;
	for (const char *c = quoted; *c; c++) {
		if (n + 3 >= len)
			return -1;
		if (*c == '%')
			buf[n++] = '%';
		buf[n++] = *c;
	}
	buf[n] = '\0';
	return 0;
}

int pitr_restore_command_for(const char *exe, const char *archive,
			     const char *spool, int prefetch, char *buf,
			     size_t len)
{
	char words[3][16384], cmd[3 * 16384 + 64];
	int n;

	if (command_word(exe, words[0], sizeof(words[0])) != 0 ||
	    command_word(archive, words[1], sizeof(words[1])) != 0 ||
	    command_word(spool, words[2], sizeof(words[2])) != 0)
		return -1;
	/* %f and %p are names PostgreSQL fills in: hex digits, pg_wal/... */
	n = snprintf(cmd, sizeof(cmd),
		     "%s fetch-wal -a %s --spool %s --prefetch %d %%f %%p",
		     words[0], words[1], words[2], prefetch);
	if (n < 0 || (size_t)n >= sizeof(cmd))
		return -1;
	return conf_quote(cmd, buf, len);
}

static int datadir_usable(const char *datadir)
{
	DIR *d = opendir(datadir);
	struct dirent *de;

	if (d == NULL) {
		struct stat st;
		char to[PATH_MAX];
		ssize_t n;
		int err = errno;

		if (err == ENOENT && lstat(datadir, &st) == 0 &&
		    S_ISLNK(st.st_mode) &&
		    (n = readlink(datadir, to, sizeof(to) - 1)) >= 0) {
			to[n] = '\0';
			dbops_log_error(
				"\"%s\" is a symbolic link to \"%s\", which does not exist",
				datadir, to);
			dbops_log_hint(
				"create the directory it points to, or give another -D");
			return -1;
		}
		if (err == ENOENT)
			return 0;
		dbops_log_error("could not open directory \"%s\": %s", datadir,
				strerror(err));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0) {
			closedir(d);
			dbops_log_error(
				"\"%s\": the data directory exists and is not empty: pitr-replay never writes over data",
				datadir);
			dbops_log_hint("give a new or empty directory");
			return -1;
		}
	}
	closedir(d);
	return 0;
}

/* Remove DIR and everything in it. */
static void remove_tree(const char *dir)
{
	pitr_empty_dir(dir);
	rmdir(dir);
}

struct lay_down_job {
	const struct restore_opts *o;
	struct plan *plan;
	const struct dbops_user *owner;
	_Atomic int checked; /* pitr_verify_wal's result; 1 while it runs */
	int extracted;
	_Atomic bool extract_done;
	bool created; /* DATADIR did not exist before */
};

/*
 * What needs the WAL read: its checks, the limits its parameter changes
 * raise, and the server's user's read access to every segment it will need.
 */
static int check_wal(const struct lay_down_job *j)
{
	if (pitr_verify_wal(&j->o->verify, j->plan) != 0 ||
	    pitr_check_limits(j->o, j->plan) != 0)
		return -1;
	return j->owner ? pitr_check_archive_access(j->plan, j->owner) : 0;
}

/* Item 0 checks the WAL, item 1 extracts the base backup. */
static void lay_down_item(void *arg, size_t i)
{
	struct lay_down_job *j = arg;

	if (i == 0) {
		atomic_store(&j->checked, check_wal(j) == 0 ? 0 : -1);
		return;
	}
	/* On one thread the check ran first: no extraction after it failed. */
	j->extracted =
		atomic_load(&j->checked) == -1 || interrupted
			? -1
			: pitr_backup_extract(&j->plan->backup, j->o->datadir,
					      j->owner, &interrupted);
	atomic_store(&j->extract_done, true);
}

/* Leave DATADIR as it was found, and say so when a signal was the cause. */
static void undo_lay_down(const struct lay_down_job *j)
{
	pitr_empty_dir(j->o->datadir);
	if (j->created)
		rmdir(j->o->datadir);
	pitr_backup_remove_tablespaces(&j->plan->backup);
	if (interrupted)
		dbops_log_error(
			"interrupted by signal %d: %s the data directory \"%s\" it was filling",
			(int)interrupted, j->created ? "removed" : "emptied",
			j->o->datadir);
}

/*
 * Every 50 ms while both run: after a signal, once the extraction has
 * stopped, undo it and exit, without waiting for the WAL check, which
 * cannot be stopped midway and whose result no longer matters.
 */
static void lay_down_tick(void *arg, size_t done)
{
	struct lay_down_job *j = arg;

	(void)done;
	if (!interrupted || !atomic_load(&j->extract_done))
		return;
	undo_lay_down(j);
	_exit(1);
}

/*
 * Check the WAL and lay the base backup down in DATADIR at the same time:
 * one reads and checksums the archive, the other writes files, and neither
 * waits for the other. Nothing starts before both are done; if either
 * fails, or a signal comes, DATADIR is left as it was found (absent, or
 * empty).
 */
static int lay_down(const struct restore_opts *o, struct plan *plan,
		    const struct dbops_user *owner)
{
	struct lay_down_job job = { .o = o,
				    .plan = plan,
				    .owner = owner,
				    .checked = 1,
				    .extracted = -1 };
	struct dbops_parallel both = { .count = 2,
				       .jobs = 2,
				       .body = lay_down_item,
				       .arg = &job,
				       .tick = lay_down_tick,
				       .tick_ms = 50 };

	job.created = mkdir(o->datadir, 0700) == 0;
	if (!job.created && errno != EEXIST) {
		dbops_log_error(
			"could not create the data directory \"%s\": %s",
			o->datadir, strerror(errno));
		return -1;
	}
	if (chmod(o->datadir, 0700) != 0 ||
	    (owner && dbops_user_chown(owner, o->datadir) != 0))
		dbops_log_error(
			"could not make \"%s\" the server's (mode 0700, owner %s): %s",
			o->datadir, owner ? owner->name : "us",
			strerror(errno));
	else
		dbops_parallel_for(&both);
	if (job.extracted == 0 && atomic_load(&job.checked) == 0 &&
	    !interrupted)
		return 0;
	undo_lay_down(&job);
	return -1;
}

static int write_file(const char *path, const char *text, int flags,
		      const struct dbops_user *owner)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0600);

	if (fd < 0 || dbops_write_all(fd, text, strlen(text)) != 0 ||
	    fsync(fd) != 0) {
		dbops_log_error("could not write \"%s\": %s", path,
				strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	if (owner && dbops_user_chown(owner, path) != 0) {
		dbops_log_error("could not give \"%s\" to %s: %s", path,
				owner->name, strerror(errno));
		return -1;
	}
	return 0;
}

/* The recovery_target_* lines for the plan. */
static void target_settings(const struct plan *p, char *buf, size_t len)
{
	char v[PG_TIME_TEXT + 8], name[2 * RESTORE_POINT_NAME_MAX + 2];
	const struct pitr_target *t = &p->target;
	const char *incl = t->exclusive ? "off" : "on";

	switch (t->kind) {
	case TARGET_END:
		snprintf(
			buf, len,
			"# The end of the archive, as verified: the last record starts at this LSN.\n"
			"recovery_target_lsn = '%s'\nrecovery_target_inclusive = 'on'\n",
			pitr_lsn_format(p->end_record_lsn, v));
		break;
	case TARGET_TIME:
		snprintf(
			buf, len,
			"recovery_target_time = '%s'\nrecovery_target_inclusive = '%s'\n",
			pitr_pg_time_format(t->time, v), incl);
		break;
	case TARGET_LSN:
		snprintf(
			buf, len,
			"recovery_target_lsn = '%s'\nrecovery_target_inclusive = '%s'\n",
			pitr_lsn_format(t->lsn, v), incl);
		break;
	case TARGET_XID:
		snprintf(
			buf, len,
			"recovery_target_xid = '%u'\nrecovery_target_inclusive = '%s'\n",
			t->xid, incl);
		break;
	case TARGET_NAME:
		conf_quote(t->name, name, sizeof(name));
		snprintf(buf, len, "recovery_target_name = '%s'\n", name);
		break;
	case TARGET_IMMEDIATE:
		snprintf(buf, len, "recovery_target = 'immediate'\n");
		break;
	}
}

/* This program's absolute path, which the server runs as restore_command. */
static int self_exe(char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);

	if (n < 0 || (size_t)n >= len - 1) {
		dbops_log_error(
			"could not find this program's own path (\"/proc/self/exe\"): %s",
			n < 0 ? strerror(errno) : "too long");
		return -1;
	}
	buf[n] = '\0';
	return 0;
}

/* DATADIR/pitr-replay/spool, absolute: fetch-wal's prefetch spool. */
static int spool_path(const char *datadir, char *buf, size_t len)
{
	char abs[PATH_MAX];

	if (realpath(datadir, abs) == NULL) {
		dbops_log_error("could not resolve \"%s\": %s", datadir,
				strerror(errno));
		return -1;
	}
	snprintf(buf, len, "%s/pitr-replay/spool", abs);
	return 0;
}

/*
 * Our recovery settings in postgresql.auto.conf, between these two lines:
 * removed after a promotion, and with every other recovery setting by a
 * later restore of a backup of the result.
 */
#define BLOCK_BEGIN "# BEGIN pitr-replay recovery settings"
#define BLOCK_END   "# END pitr-replay recovery settings"
/* What pitr-replay before these markers began its block with; the block
 * ended with its archive_mode line. */
#define OLD_BLOCK_BEGIN "# Recovery settings written by pitr-replay"

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Whether LINE of postgresql.auto.conf sets a parameter of recovery. */
static bool recovery_setting(const char *line)
{
	static const char *const names[] = {
		"restore_command",
		"recovery_target",
		"archive_cleanup_command",
		"recovery_end_command",
	};

	line += strspn(line, " \t");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (starts_with(line, names[i]))
			return true;
	return false;
}

enum strip { STRIP_EARLIER, STRIP_OURS };

struct strip_state {
	int in;	      /* 1: in a BEGIN/END block, 2: in an old-format one */
	int foreign;  /* recovery settings outside our blocks */
	int recovery; /* recovery settings blocks of an earlier run */
};

/*
 * Whether to drop LINE: with STRIP_OURS, our recovery block; with
 * STRIP_EARLIER, every block of pitr-replay (any version) and every other
 * recovery setting, counted in ST.
 */
static bool strip_line(const char *line, enum strip how, struct strip_state *st)
{
	if (st->in) {
		if ((st->in == 1 && starts_with(line, "# END pitr-replay")) ||
		    (st->in == 2 && starts_with(line, "archive_mode")))
			st->in = 0;
		return true;
	}
	if (starts_with(line, how == STRIP_OURS ? BLOCK_BEGIN
						: "# BEGIN pitr-replay")) {
		st->in = 1;
		st->recovery += starts_with(line, BLOCK_BEGIN);
	} else if (how == STRIP_EARLIER && starts_with(line, OLD_BLOCK_BEGIN)) {
		st->in = 2;
		st->recovery++;
	} else if (how == STRIP_EARLIER && recovery_setting(line)) {
		st->foreign++;
	} else {
		return false;
	}
	return true;
}

/*
 * Rewrite DATADIR's postgresql.auto.conf without the lines HOW drops
 * (atomically, fileio.h). 0 (also when there is no such file), or -1
 * reported.
 */
static int strip_auto_conf(const char *datadir, enum strip how,
			   const struct dbops_user *owner)
{
	char path[PATH_MAX + 64], *line = NULL;
	struct dbops_atomic_file af;
	size_t cap = 0;
	struct strip_state st = { 0 };
	FILE *f;

	snprintf(path, sizeof(path), "%s/postgresql.auto.conf", datadir);
	if ((f = fopen(path, "re")) == NULL && errno == ENOENT)
		return 0;
	if (f == NULL || dbops_atomic_open(&af, path, 0600) != 0) {
		dbops_log_error("could not rewrite \"%s\": %s", path,
				strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	if (owner)
		dbops_atomic_chown(&af, owner->uid, owner->gid);
	while (getline(&line, &cap, f) > 0) {
		if (!strip_line(line, how, &st))
			fputs(line, af.f);
	}
	free(line);
	fclose(f);
	if (dbops_atomic_commit(&af) != 0) {
		dbops_log_error("could not rewrite \"%s\": %s", path,
				strerror(errno));
		return -1;
	}
	if (how == STRIP_OURS)
		return 0;
	if (st.foreign)
		dbops_log_warning(
			"\"%s\": removed %d recovery setting(s) that an earlier recovery left there",
			path, st.foreign);
	if (st.recovery)
		dbops_log_warning(
			"\"%s\": removed the recovery settings an earlier pitr-replay left there",
			path);
	return 0;
}

/*
 * The program of restore_command: pitr-replay-fetch-wal, fetch-wal without
 * pitr-replay's libraries (fetchwal/main.c), when it is in ../lib/dbops
 * from EXE's directory, runs this EXE (from its ../../bin) for what it does
 * not read itself, and OWNER, the server's user, may run it; else EXE.
 */
static char *parent_of(const char *path);

static void fetch_program(const char *exe, const struct dbops_user *owner,
			  char *buf, size_t len)
{
	char *dir = parent_of(exe), *helper, *up, *back;
	char full[PATH_MAX], self[PATH_MAX], real[PATH_MAX];
	int err;

	snprintf(buf, len, "%s", exe);
	helper = dbops_xasprintf("%s/../lib/dbops/pitr-replay-fetch-wal", dir);
	if (realpath(helper, real) != NULL && access(real, X_OK) == 0 &&
	    (owner == NULL ||
	     dbops_user_can_access(owner, real, X_OK, &err) == 1)) {
		up = parent_of(real);
		back = dbops_xasprintf("%s/../../bin/pitr-replay", up);
		if (realpath(back, full) != NULL &&
		    realpath(exe, self) != NULL && strcmp(full, self) == 0)
			snprintf(buf, len, "%s", real);
		free(back);
		free(up);
	}
	free(helper);
	free(dir);
}

/* S as one comment line: a line end in it (a restore point's name may
 * hold one) written as \n or \r, which would end the comment and leave
 * the rest of the name as a line the server reads as a setting. */
static const char *comment_text(const char *s, char *buf, size_t len)
{
	size_t n = 0;

	for (; *s && n + 3 < len; s++) {
		if (*s == '\n' || *s == '\r') {
			buf[n++] = '\\';
			buf[n++] = *s == '\n' ? 'n' : 'r';
		} else {
			buf[n++] = *s;
		}
	}
	buf[n] = '\0';
	return buf;
}

static int write_recovery_settings(const struct restore_opts *o,
				   const struct plan *p, const char *action,
				   const struct dbops_user *owner)
{
	char path[PATH_MAX + 64], command[65536], targets[512], what[256],
		comment[512], stamp[64], exe[PATH_MAX], spool[PATH_MAX + 32],
		program[PATH_MAX];
	char *text;
	time_t now = time(NULL);
	struct tm tm;
	int rc;

	if (self_exe(exe, sizeof(exe)) != 0 ||
	    spool_path(o->datadir, spool, sizeof(spool)) != 0)
		return -1;
	fetch_program(exe, owner, program, sizeof(program));
	if (pitr_restore_command_for(program, p->arc.dir, spool, o->prefetch,
				     command, sizeof(command)) != 0) {
		dbops_log_error(
			"\"%s\": archive path too long for restore_command",
			p->arc.dir);
		return -1;
	}
	target_settings(p, targets, sizeof(targets));
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S UTC", &tm);
	text = dbops_xasprintf(
		"\n" BLOCK_BEGIN ", written by pitr-replay %s at %s:\n"
		"# %s on timeline %u. Removed after a promotion.\n"
		"restore_command = '%s'\n"
		"%s"
		"recovery_target_timeline = '%s'\n"
		"recovery_target_action = '%s'\n" BLOCK_END "\n"
		"# BEGIN pitr-replay: a restored copy must not archive into the\n"
		"# archive it came from; remove these lines once it is to become\n"
		"# a primary of its own.\n"
		"archive_mode = 'off'\n"
		"# END pitr-replay\n",
		DBOPS_VERSION, stamp,
		comment_text(
			pitr_target_describe(&p->target, what, sizeof(what)),
			comment, sizeof(comment)),
		p->tli, command, targets, p->tli_setting, action);
	snprintf(path, sizeof(path), "%s/postgresql.auto.conf", o->datadir);
	rc = write_file(path, text, O_APPEND, owner);
	free(text);
	return rc;
}

/* Set recovery_target_action in our block (written last in the file),
 * by replacing the file atomically (fileio.h). */
static int set_final_action(const char *datadir, const char *action,
			    const struct dbops_user *owner)
{
	static const char pause_line[] = "recovery_target_action = 'pause'";
	char path[PATH_MAX + 64], *text = NULL, *at, *next;
	struct dbops_atomic_file af;
	FILE *f;
	size_t len = 0;
	int rc = -1;

	snprintf(path, sizeof(path), "%s/postgresql.auto.conf", datadir);
	f = fopen(path, "re");
	if (f == NULL || getdelim(&text, &len, '\0', f) < 0)
		goto done;
	at = NULL;
	for (next = text; (next = strstr(next, pause_line)) != NULL; next++)
		at = next;
	if (at == NULL || dbops_atomic_open(&af, path, 0600) != 0)
		goto done;
	if (owner)
		dbops_atomic_chown(&af, owner->uid, owner->gid);
	fprintf(af.f, "%.*srecovery_target_action = '%s'%s", (int)(at - text),
		text, action, at + strlen(pause_line));
	rc = dbops_atomic_commit(&af);
done:
	if (rc != 0)
		dbops_log_warning(
			"could not set recovery_target_action to '%s' in \"%s\"",
			action, path);
	if (f)
		fclose(f);
	free(text);
	return rc;
}

/*
 * Verification read WAL from a .partial segment (pg_receivewal's unfinished
 * one, or the one a server archives when a standby is promoted), whose name
 * PostgreSQL never asks restore_command for. Copy it, decompressed and
 * padded with zeros to a whole segment, into pg_wal under the segment's own
 * name, where recovery looks when the archive has no such file: as Barman's
 * get-wal --partial serves it.
 */
static int stage_partial(const struct restore_opts *o, const struct plan *p,
			 const struct dbops_user *owner)
{
	const struct wal_reader *r = &p->scan.reader;
	uint32_t size = p->arc.seg_size, tli;
	uint64_t segno = r->partial_lsn / (size ? size : 1);
	const struct archive_segment *seg;
	char name[25], path[PATH_MAX + 64];
	unsigned char *buf;
	int fd, rc = -1;

	if (r->partial_file[0] == '\0')
		return 0;
	tli = pitr_timeline_file_tli(&p->hist, segno, size);
	seg = pitr_walarc_find_any(&p->arc, tli, segno);
	if (seg == NULL || !seg->partial)
		return 0;
	pitr_wal_segment_name(tli, segno, size, name);
	snprintf(path, sizeof(path), "%s/pg_wal", o->datadir);
	if (mkdir(path, 0700) == 0 && owner)
		(void)dbops_user_chown(owner, path);
	snprintf(path, sizeof(path), "%s/pg_wal/%s", o->datadir, name);
	buf = dbops_xmalloc(size);
	if (pitr_walarc_read_segment(&p->arc, seg, buf) != 0)
		goto out;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || dbops_write_all(fd, buf, size) != 0 || fsync(fd) != 0) {
		dbops_log_error("could not write \"%s\": %s", path,
				strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	close(fd);
	if (owner && dbops_user_chown(owner, path) != 0) {
		dbops_log_error("could not give \"%s\" to %s: %s", path,
				owner->name, strerror(errno));
		goto out;
	}
	dbops_log_info("\"%s\": copied from the .partial segment \"%s/%s\"",
		       path, p->arc.dir, seg->name);
	rc = 0;
out:
	free(buf);
	return rc;
}

/* Prepare the extracted data directory for a private run. */
static int prepare_datadir(const struct restore_opts *o, const struct plan *p,
			   const char *rundir, const struct dbops_user *owner)
{
	char path[PATH_MAX + 64];
	struct stat st;

	snprintf(path, sizeof(path), "%s/standby.signal", o->datadir);
	if (unlink(path) == 0)
		dbops_log_warning(
			"\"%s\": removed: a standby never reaches a recovery target",
			path);
	if (lstat(rundir, &st) == 0) {
		remove_tree(rundir);
		dbops_log_warning(
			"\"%s\": removed: the work directory of an earlier pitr-replay, copied by the backup",
			rundir);
	}
	if (strip_auto_conf(o->datadir, STRIP_EARLIER, owner) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/postgresql.conf", o->datadir);
	if (stat(path, &st) != 0 &&
	    write_file(
		    path,
		    "# postgresql.conf: the base backup had none (Debian keeps it in /etc/postgresql);\n"
		    "# written empty by pitr-replay so that the server starts with defaults.\n",
		    O_EXCL, owner) != 0)
		return -1;
	if (write_recovery_settings(o, p, "pause", owner) != 0 ||
	    stage_partial(o, p, owner) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/recovery.signal", o->datadir);
	if (write_file(path, "", O_TRUNC, owner) != 0)
		return -1;
	/* Our own client authentication for the private run: the socket lives in
	 * a directory only the server's user (and root) can reach. */
	if (mkdir(rundir, 0700) != 0 && errno != EEXIST) {
		dbops_log_error("could not create \"%s\": %s", rundir,
				strerror(errno));
		return -1;
	}
	if (owner && dbops_user_chown(owner, rundir) != 0)
		return -1;
	/* fetch-wal's prefetch spool, removed at the end of the restore. */
	snprintf(path, sizeof(path), "%s/spool", rundir);
	if ((mkdir(path, 0700) != 0 && errno != EEXIST) ||
	    (owner && dbops_user_chown(owner, path) != 0)) {
		dbops_log_error("could not create \"%s\": %s", path,
				strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/pg_hba.conf", rundir);
	if (write_file(path, "local all all trust\n", O_TRUNC, owner) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/pg_ident.conf", rundir);
	return write_file(path, "", O_TRUNC, owner);
}

/* What a FATAL or PANIC line of recovery means, in our words. */
static const char *explain(const char *line)
{
	static const struct {
		const char *text, *meaning;
	} known[] = {
		{ "recovery ended before configured recovery target was reached",
		  "the server ran out of WAL before the target: a segment it needed could not be restored (was the archive changed after verification?)" },
		{ "requested recovery stop point is before consistent recovery point",
		  "the target is before the base backup's consistency point" },
		{ "could not locate required checkpoint record",
		  "the WAL at the base backup's start could not be restored from the archive" },
		{ "has wrong size",
		  "a file in the archive has the wrong size" },
		{ "could not restore file",
		  "copying a file from the archive failed (see the restore_command's message in the server log)" },
		{ "database files are incompatible with server",
		  "the base backup belongs to another PostgreSQL version or build" },
		{ "is not a valid data directory",
		  "the base backup is not a complete data directory" },
		{ "could not load library",
		  "the backup's configuration preloads a library that is not installed here (shared_preload_libraries)" },
		{ "could not access file",
		  "the backup's configuration names a library or file that is not on this host (shared_preload_libraries?)" },
		{ "not a child of this server's history",
		  "the target timeline does not descend from the backup's timeline" },
		{ "unexpected timeline ID",
		  "the timeline switch in the WAL does not match the timeline history" },
		{ "out of memory", "the server ran out of memory" },
		{ "No space left on device",
		  "the disk of the data directory is full" },
		{ "hot standby is not possible",
		  "a setting of the backup is lower than on the server that wrote the WAL" },
		{ "insufficient parameter settings",
		  "a limit is lower than on the server that wrote the WAL, which raised it after the backup: give it with --set NAME=VALUE" },
		{ "multiple recovery targets specified",
		  "the backup's configuration has recovery targets of its own (in postgresql.conf, or a file it includes): remove them" },
	};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strstr(line, known[i].text))
			return known[i].meaning;
	return "recovery failed";
}

struct follow {
	off_t offset;
	char stop_line[512];
	char fatal_line[512];	/* the first FATAL or PANIC that is a cause */
	char fatal_detail[512]; /* the DETAIL line right after it */
	char fetch_error[512];	/* fetch-wal's last error before fatal_line */
	char last_error[512];	/* the last ERROR, FATAL or PANIC that is one */
	bool after_fatal;	/* the previous line was fatal_line */
	char param_line[512];	/* PostgreSQL 14 on: recovery paused for a
				   setting below the WAL's server's */
	char param_detail[512]; /* its DETAIL: which setting, which value */
	bool after_param;
	char last_xact_line[512];
	char last_line[512]; /* the last line the server wrote, for a stall */
	uint64_t restored;
	char partial[4096];
};

/*
 * Whether an ERROR, FATAL or PANIC message (from its severity on) is the
 * answer to our own polling while the server cannot take us yet, or to our
 * first try of a database that is not there: never the cause of a failure.
 */
bool pitr_restore_log_noise(const char *msg)
{
	static const char *const noise[] = {
		"the database system is starting up",
		"the database system is not yet accepting connections",
		"the database system is not accepting connections",
		"the database system is shutting down",
		"the database system is in recovery mode",
		"database \"postgres\" does not exist",
		"terminating connection due to administrator command",
	};

	for (size_t i = 0; i < sizeof(noise) / sizeof(noise[0]); i++)
		if (strstr(msg, noise[i]))
			return true;
	return false;
}

static void take_line(struct follow *f, const char *line)
{
	const char *p;
	bool fatal;

	if (line[0])
		snprintf(f->last_line, sizeof(f->last_line), "%s", line);
	/* The restore_command's own message (its stderr is the server log):
	 * what a "could not restore file" FATAL hides behind its exit status. */
	if (!f->fatal_line[0] && (p = strstr(line, ": error: ")) != NULL &&
	    (strncmp(line, "pitr-replay: ", 13) == 0 ||
	     strncmp(line, "pitr-replay-fetch-wal: ", 23) == 0))
		snprintf(f->fetch_error, sizeof(f->fetch_error), "%s", p + 9);
	if (strstr(line, "restored log file \"") && !strstr(line, ".history\""))
		f->restored++;
	if ((p = strstr(line, "recovery stopping ")) != NULL)
		snprintf(f->stop_line, sizeof(f->stop_line), "%s", p);
	if ((p = strstr(line, "last completed transaction was at log time ")) !=
	    NULL)
		snprintf(f->last_xact_line, sizeof(f->last_xact_line), "%s", p);
	if (f->after_fatal && (p = strstr(line, "DETAIL:")) != NULL)
		snprintf(f->fatal_detail, sizeof(f->fatal_detail), "%s", p);
	if (f->after_param && (p = strstr(line, "DETAIL:")) != NULL)
		snprintf(f->param_detail, sizeof(f->param_detail), "%s", p);
	f->after_fatal = f->after_param = false;
	if ((p = strstr(line, "WARNING:")) &&
	    strstr(p, "insufficient parameter settings") && !f->param_line[0]) {
		snprintf(f->param_line, sizeof(f->param_line), "%s", p);
		f->after_param = true;
	}
	fatal = (p = strstr(line, "FATAL:")) || (p = strstr(line, "PANIC:"));
	if (!fatal)
		p = strstr(line, "ERROR:");
	if (p == NULL || pitr_restore_log_noise(p))
		return;
	snprintf(f->last_error, sizeof(f->last_error), "%s", p);
	if (fatal && !f->fatal_line[0]) {
		snprintf(f->fatal_line, sizeof(f->fatal_line), "%s", p);
		f->after_fatal = true;
	}
}

/* Append SRC to the string in DST (of CAP bytes), cutting what does not fit. */
static void append(char *dst, size_t cap, const char *src)
{
	size_t have = strlen(dst), add = strlen(src);

	if (add > cap - 1 - have)
		add = cap - 1 - have;
	memcpy(dst + have, src, add);
	dst[have + add] = '\0';
}

/* Read what the server wrote to its log since the last call. */
static void follow_log(struct follow *f, const char *log)
{
	char buf[65536];
	int fd = open(log, O_RDONLY | O_CLOEXEC);
	ssize_t got;

	if (fd < 0)
		return;
	while ((got = pread(fd, buf, sizeof(buf) - 1, f->offset)) > 0) {
		char *line = buf, *nl;

		buf[got] = '\0';
		f->offset += got;
		while ((nl = strchr(line, '\n')) != NULL) {
			*nl = '\0';
			if (f->partial[0]) {
				append(f->partial, sizeof(f->partial), line);
				take_line(f, f->partial);
				f->partial[0] = '\0';
			} else {
				take_line(f, line);
			}
			line = nl + 1;
		}
		append(f->partial, sizeof(f->partial), line);
	}
	close(fd);
}

struct server_state {
	bool in_recovery, paused;
	lsn_t replay_lsn;
	char last_xact[64]; /* as text, or "none" */
	bool has_last_xact;
	int64_t last_xact_us; /* TimestampTz */
};

/*
 * A wait for the server gives up when it sees no progress (a new line in
 * the server log, replay advancing) for limit_s seconds: a long recovery
 * that moves is never cut short, a server that hangs is not waited for
 * for ever.
 */
#define STALL_ENV	"PITR_REPLAY_STALL_TIMEOUT"
#define STALL_DEFAULT_S 600

struct watch {
	int limit_s;
	const char *dbname; /* postgres, or template1 when it has none */
	int failures;	    /* status queries failed in a row, not for noise */
	char failure[512];  /* libpq's message for the last of them */
	int64_t since_ms;   /* when progress was last seen */
	off_t offset;	    /* the server log's length then */
	lsn_t lsn;	    /* the replay position then */
};

static int stall_limit_s(void)
{
	const char *v = getenv(STALL_ENV);
	char *end;
	long n;

	if (v == NULL || *v == '\0')
		return STALL_DEFAULT_S;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < 1 || n > 86400) {
		dbops_log_warning(
			"invalid value \"%s\" for %s (seconds, 1 to 86400): using %d",
			v, STALL_ENV, STALL_DEFAULT_S);
		return STALL_DEFAULT_S;
	}
	return (int)n;
}

static void watch_start(struct watch *w, const struct follow *f, lsn_t lsn)
{
	w->since_ms = dbops_clock_ms();
	w->offset = f->offset;
	w->lsn = lsn;
}

/* The deadline of the current stall, on dbops_clock_ms(). */
static int64_t watch_deadline(const struct watch *w)
{
	return w->since_ms + w->limit_s * 1000LL;
}

/* Whether nothing moved for limit_s seconds; progress restarts the count. */
static bool watch_stalled(struct watch *w, const struct follow *f, lsn_t lsn)
{
	if (f->offset != w->offset || lsn != w->lsn) {
		watch_start(w, f, lsn);
		return false;
	}
	return dbops_clock_passed(watch_deadline(w));
}

/* Report a stall while WHAT (what we were waiting for). */
static void report_stall(const struct restore_opts *o, const struct watch *w,
			 const struct follow *f, const char *log,
			 const char *what)
{
	dbops_log_error(
		"could not restore \"%s\": the server made no progress for %d s while waiting for %s",
		o->datadir, w->limit_s, what);
	if (f->last_line[0])
		dbops_log_detail("last line of server log \"%s\": %s", log,
				 f->last_line);
	else
		dbops_log_detail("server log \"%s\" is empty", log);
	dbops_log_hint(
		"%s sets the seconds without progress to allow (now %d); the data directory \"%s\" is left as it is for inspection",
		STALL_ENV, w->limit_s, o->datadir);
}

static void ignore_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/*
 * Run SQL on CONN, waiting until DEADLINE (dbops_clock_ms()) at most, so
 * that a server that hangs cannot hang us. Returns the last result, or
 * NULL when the query could not be sent, the connection failed or the
 * deadline passed (the connection is then of no further use).
 */
static PGresult *exec_until(PGconn *conn, const char *sql, int64_t deadline)
{
	PGresult *last = NULL, *res;

	if (!PQsendQuery(conn, sql))
		return NULL;
	for (;;) {
		struct pollfd pfd = { .fd = PQsocket(conn), .events = POLLIN };
		int64_t left;

		while (!PQisBusy(conn)) {
			if ((res = PQgetResult(conn)) == NULL)
				return last;
			PQclear(last);
			last = res;
		}
		left = deadline - dbops_clock_ms();
		if (left <= 0 ||
		    (poll(&pfd, 1, left > 1000 ? 1000 : (int)left) < 0 &&
		     errno != EINTR) ||
		    !PQconsumeInput(conn)) {
			PQclear(last);
			return NULL;
		}
	}
}

/*
 * Connect to INST by keywords (a path with spaces or quotes needs no
 * quoting that way), waiting LIMIT_S seconds at most (2 to 10). Returns
 * the connection, which the caller checks with PQstatus and frees.
 */
static PGconn *connect_to(const struct dbops_instance *inst,
			  const struct watch *w)
{
	char port[16], timeout[16];
	const char *keys[] = {
		"host", "port", "user", "dbname", "connect_timeout", NULL
	};
	const char *values[] = { inst->socket_dir, port,    "postgres",
				 w->dbname,	   timeout, NULL };
	PGconn *conn;

	snprintf(port, sizeof(port), "%d", inst->port);
	snprintf(timeout, sizeof(timeout), "%d",
		 w->limit_s < 2	   ? 2
		 : w->limit_s > 10 ? 10
				   : w->limit_s);
	conn = PQconnectdbParams(keys, values, 0);
	/* A WARNING the server sends (a crash of another backend) is for the
	 * server log, which we quote; never for our stderr. */
	PQsetNoticeProcessor(conn, ignore_notice, NULL);
	return conn;
}

/*
 * Whether a failed connection or status query (libpq's MSG) is one to try
 * again: the server not yet taking connections, its socket not yet there,
 * the connection lost (the server's exit is seen next). The database
 * "postgres" missing makes W try template1 from then on.
 */
static bool transient(struct watch *w, const char *msg)
{
	static const char *const again[] = {
		"Is the server running", /* no socket yet, or refused */
		"server closed the connection unexpectedly",
		"terminating connection",
		"no connection to the server",
		"timeout expired",
	};

	if (strstr(msg, "database \"postgres\" does not exist") &&
	    strcmp(w->dbname, "postgres") == 0) {
		w->dbname = "template1";
		return true;
	}
	if (pitr_restore_log_noise(msg))
		return true;
	for (size_t i = 0; i < sizeof(again) / sizeof(again[0]); i++)
		if (strstr(msg, again[i]))
			return true;
	return false;
}

/* A failed try: counted when it is not TRANSIENT, the count reset when it is. */
static void poll_failed(struct watch *w, const char *msg)
{
	const char *nl;

	if (msg[0] == '\0' || transient(w, msg)) {
		w->failures = 0;
		return;
	}
	w->failures++;
	nl = strchr(msg, '\n');
	snprintf(w->failure, sizeof(w->failure), "%.*s",
		 nl ? (int)(nl - msg) : (int)strlen(msg), msg);
}

static int query_state(PGconn *conn, struct server_state *st, struct watch *w)
{
	int64_t deadline = watch_deadline(w);
	PGresult *res = exec_until(
		conn,
		"SELECT pg_is_in_recovery(), pg_is_wal_replay_paused(), "
		"pg_last_wal_replay_lsn(), "
		"to_char(pg_last_xact_replay_timestamp() AT TIME ZONE 'UTC', "
		"'YYYY-MM-DD HH24:MI:SS.US') || '+00', "
		"(extract(epoch FROM pg_last_xact_replay_timestamp() - "
		"'2000-01-01 00:00:00+00'::timestamptz) * 1000000)::bigint",
		deadline);
	int rc = -1;

	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
		st->in_recovery = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
		st->paused = st->in_recovery &&
			     strcmp(PQgetvalue(res, 0, 1), "t") == 0;
		st->replay_lsn = 0;
		if (!PQgetisnull(res, 0, 2))
			(void)pitr_lsn_parse(PQgetvalue(res, 0, 2),
					     &st->replay_lsn);
		snprintf(st->last_xact, sizeof(st->last_xact), "%s",
			 PQgetisnull(res, 0, 3) ? "none"
						: PQgetvalue(res, 0, 3));
		st->has_last_xact = !PQgetisnull(res, 0, 4);
		st->last_xact_us =
			st->has_last_xact
				? strtoll(PQgetvalue(res, 0, 4), NULL, 10)
				: 0;
		rc = 0;
	} else {
		poll_failed(w, res ? PQresultErrorMessage(res)
				   : PQerrorMessage(conn));
	}
	PQclear(res);
	return rc;
}

/* S as a libpq connection-string value in BUF: in single quotes, with
 * quotes and backslashes escaped by a backslash. */
static void conninfo_quote(const char *s, char *buf, size_t len)
{
	size_t n = 0;

	buf[n++] = '\'';
	for (; *s && n + 4 < len; s++) {
		if (*s == '\'' || *s == '\\')
			buf[n++] = '\\';
		buf[n++] = *s;
	}
	buf[n++] = '\'';
	buf[n] = '\0';
}

/* The connection string printed for --keep-running: psql takes it as is. */
static void conninfo_of(const struct dbops_instance *inst, const char *dbname,
			char *buf, size_t len)
{
	char host[2 * PATH_MAX + 3];

	conninfo_quote(inst->socket_dir, host, sizeof(host));
	snprintf(buf, len, "host=%s port=%d user=postgres dbname=%s", host,
		 inst->port, dbname);
}

static void report_server_failure(const struct restore_opts *o,
				  const struct follow *f, const char *log,
				  const char *how)
{
	if (f->fatal_line[0]) {
		dbops_log_error("recovery failed: the server said \"%s\"",
				f->fatal_line);
		if (f->fatal_detail[0])
			dbops_log_detail("the server said \"%s\"",
					 f->fatal_detail);
		dbops_log_detail("%s", explain(f->fatal_line));
		if (f->fetch_error[0] &&
		    strstr(f->fatal_line, "could not restore file"))
			dbops_log_detail("the restore_command said \"%s\"",
					 f->fetch_error);
	} else {
		dbops_log_error("recovery failed: the server %s", how);
	}
	dbops_log_hint(
		"the data directory \"%s\" is left as it is for inspection; the server log is \"%s\"",
		o->datadir, log);
}

/*
 * Stop the server, waiting limit_s seconds at most; a server that had to
 * be killed has its last log line quoted. 0, or -1 reported.
 */
static int stop_server(struct dbops_instance *inst, struct follow *f,
		       int limit_s)
{
	if (dbops_instance_stop(inst, limit_s) == 0)
		return 0;
	follow_log(f, inst->log);
	if (f->last_line[0])
		dbops_log_detail("last line of server log \"%s\": %s",
				 inst->log, f->last_line);
	return -1;
}

/*
 * A status query that fails this many times in a row (200 ms apart), for a
 * reason other than the server still starting, will not succeed: a
 * database or catalog file missing from the backup, say.
 */
#define POLL_FAILURES_MAX 5

static void report_query_failure(const struct restore_opts *o,
				 const struct watch *w, const struct follow *f,
				 const char *log)
{
	dbops_log_error(
		"could not follow the recovery of \"%s\": the server refuses the status query: \"%s\"",
		o->datadir, f->last_error[0] ? f->last_error : w->failure);
	if (f->last_error[0] && !strstr(w->failure, f->last_error) &&
	    !strstr(f->last_error, w->failure))
		dbops_log_detail("libpq said \"%s\"", w->failure);
	dbops_log_hint(
		"the base backup may lack files (compare it with its backup_manifest: pg_verifybackup); the data directory \"%s\" is left as it is for inspection; the server log is \"%s\"",
		o->datadir, log);
}

/* One look at the server; 1 once it is paused or out of recovery. */
static int poll_recovery(struct dbops_instance *inst, PGconn **conn,
			 struct server_state *st, struct watch *w)
{
	if (*conn == NULL) {
		*conn = connect_to(inst, w);
		if (PQstatus(*conn) != CONNECTION_OK) {
			poll_failed(w, PQerrorMessage(*conn));
			PQfinish(*conn);
			*conn = NULL;
			return 0;
		}
	}
	if (query_state(*conn, st, w) != 0) {
		/* Not ready yet, or gone: a new connection next time. */
		PQfinish(*conn);
		*conn = NULL;
		return 0;
	}
	w->failures = 0;
	return st->paused || !st->in_recovery;
}

/* Run the server until it pauses at the target. 0, or -1 reported. */
static int run_recovery(const struct restore_opts *o, struct plan *p,
			struct dbops_instance *inst, struct server_state *st,
			struct follow *f, struct watch *w)
{
	struct dbops_progress *progress;
	char how[128];
	PGconn *conn = NULL;
	int64_t next_try = 0;
	int rc = -1;

	progress =
		dbops_progress_new("replaying WAL: segments", p->scan.segments,
				   DBOPS_PROGRESS_ITEMS, o->verify.progress);
	watch_start(w, f, st->replay_lsn);
	for (;;) {
		follow_log(f, inst->log);
		/* The server may fetch a segment past the stop point: count at most
		 * the segments verification read. */
		dbops_progress_update(progress, f->restored < p->scan.segments
							? f->restored
							: p->scan.segments);
		if (dbops_process_wait(&inst->proc, 0) == 0) {
			follow_log(f, inst->log);
			dbops_progress_clear(progress);
			report_server_failure(
				o, f, inst->log,
				dbops_process_describe_status(
					inst->proc.status, how, sizeof(how)));
			break;
		}
		if (interrupted) {
			dbops_progress_clear(progress);
			dbops_log_error(
				"interrupted by signal %d: stopping the server",
				(int)interrupted);
			stop_server(inst, f, 60);
			dbops_log_hint(
				"the data directory \"%s\" is left as it is",
				o->datadir);
			break;
		}
		if (watch_stalled(w, f, st->replay_lsn)) {
			dbops_progress_clear(progress);
			report_stall(o, w, f, inst->log,
				     "recovery to reach the target");
			stop_server(inst, f, w->limit_s);
			break;
		}
		if ((conn != NULL || dbops_clock_ms() >= next_try) &&
		    poll_recovery(inst, &conn, st, w) == 1) {
			follow_log(f, inst->log);
			rc = 0;
			break;
		}
		if (w->failures >= POLL_FAILURES_MAX) {
			follow_log(f, inst->log);
			dbops_progress_clear(progress);
			report_query_failure(o, w, f, inst->log);
			stop_server(inst, f, w->limit_s);
			break;
		}
		if (conn == NULL && dbops_clock_ms() >= next_try)
			next_try = dbops_clock_ms() + 200;
		dbops_clock_sleep_ms(50);
	}
	dbops_progress_finish(progress);
	PQfinish(conn);
	return rc;
}

/*
 * The server paused before the target because the WAL raises a limit
 * (max_connections, ...) above this run's: the source was restarted with
 * it after the backup, so pg_control did not have it.
 */
static int report_param_pause(const struct restore_opts *o,
			      const struct server_state *st,
			      const struct follow *f)
{
	char a[LSN_TEXT];

	dbops_log_error(
		"could not reach the target: the server paused recovery at %s: \"%s\"",
		pitr_lsn_format(st->replay_lsn, a), f->param_line);
	if (f->param_detail[0])
		dbops_log_detail("the server said \"%s\"", f->param_detail);
	dbops_log_hint(
		"the server that wrote the WAL raised the setting after the base backup: give it with --set NAME=VALUE; the data directory \"%s\" is left as it is for inspection",
		o->datadir);
	return -1;
}

/* Hold where the server stopped against the verified plan. */
static int confirm(const struct restore_opts *o, const struct plan *p,
		   const struct server_state *st, const struct follow *f,
		   FILE *out)
{
	bool end = p->target.kind == TARGET_END;
	lsn_t want = end ? p->scan.end_lsn : p->scan.stop.replay_end;
	bool has_xact =
		end ? p->scan.has_last_xact : p->scan.stop.has_last_xact;
	int64_t xact =
		end ? p->scan.last_xact_time : p->scan.stop.last_xact_time;
	char a[LSN_TEXT], b[LSN_TEXT], when[PG_TIME_TEXT];

	if (f->param_line[0])
		return report_param_pause(o, st, f);
	/* The end is an inclusive LSN target on the last record: when that is
	 * a commit (the last one a .partial segment holds, often), the server
	 * keeps the time of the transaction before (see scan.c). */
	if (end && has_xact &&
	    p->scan.last_xact_lsn == p->scan.last_record_lsn) {
		has_xact = p->scan.has_prev_xact;
		xact = p->scan.prev_xact_time;
	}
	if (!st->in_recovery) {
		dbops_log_error(
			"the server ended recovery by itself instead of pausing at the target");
		dbops_log_hint(
			"the data directory \"%s\" is left as it is for inspection",
			o->datadir);
		return -1;
	}
	if (st->replay_lsn != want) {
		dbops_log_error(
			"the server stopped replay at %s, but verification found the target's stop point at %s",
			pitr_lsn_format(st->replay_lsn, a),
			pitr_lsn_format(want, b));
		dbops_log_hint(
			"the data directory \"%s\" is left as it is for inspection",
			o->datadir);
		return -1;
	}
	/* The server counts time from the consistency point on only. */
	if (has_xact && st->has_last_xact && st->last_xact_us != xact) {
		dbops_log_error(
			"the server's last replayed transaction ended at %s, but verification found %s",
			st->last_xact, pitr_pg_time_format(xact, when));
		dbops_log_hint(
			"the data directory \"%s\" is left as it is for inspection",
			o->datadir);
		return -1;
	}
	fprintf(out, "recovered: %s\n",
		f->stop_line[0] ? f->stop_line
				: "(no stop line in the server log)");
	fprintf(out, "replayed up to: %s (last transaction %s)\n",
		pitr_lsn_format(st->replay_lsn, a), st->last_xact);
	return 0;
}

/*
 * Promote a server paused at its recovery target: resuming replay there
 * ends recovery, as the server's own hint says, and wakes it at once,
 * where pg_promote() waits out the paused loop's sleep of up to a second.
 */
static int promote(const struct restore_opts *o, struct dbops_instance *inst,
		   struct follow *f, struct watch *w)
{
	PGconn *conn = connect_to(inst, w);
	PGresult *res;
	bool ok = PQstatus(conn) == CONNECTION_OK;

	follow_log(f, inst->log);
	watch_start(w, f, 0);
	if (ok) {
		res = exec_until(conn, "SELECT pg_wal_replay_resume()",
				 watch_deadline(w));
		ok = PQresultStatus(res) == PGRES_TUPLES_OK;
		PQclear(res);
	}
	while (ok && !watch_stalled(w, f, 0)) {
		res = exec_until(conn, "SELECT pg_is_in_recovery()",
				 watch_deadline(w));
		ok = PQresultStatus(res) == PGRES_TUPLES_OK &&
		     PQntuples(res) == 1;
		if (ok && strcmp(PQgetvalue(res, 0, 0), "f") == 0) {
			PQclear(res);
			PQfinish(conn);
			return 0;
		}
		PQclear(res);
		dbops_clock_sleep_ms(20);
		follow_log(f, inst->log);
	}
	if (ok || dbops_clock_passed(watch_deadline(w)))
		report_stall(o, w, f, inst->log,
			     "the promoted server to leave recovery");
	else
		dbops_log_error("promotion failed: %s", PQerrorMessage(conn));
	PQfinish(conn);
	return -1;
}

static int take_action(const struct restore_opts *o,
		       struct dbops_instance *inst, struct follow *f,
		       struct watch *w, const struct dbops_user *owner,
		       FILE *out)
{
	int rc = 0;

	if (o->action == ACTION_PROMOTE) {
		rc = promote(o, inst, f, w);
		if (rc == 0) {
			fprintf(out,
				"promoted: the server left recovery on a new timeline\n");
			rc = strip_auto_conf(o->datadir, STRIP_OURS, owner);
		}
	} else if (o->action == ACTION_SHUTDOWN) {
		set_final_action(o->datadir, "shutdown", owner);
		fprintf(out,
			"shut down at the target (recovery.signal kept; a later start stops there again)\n");
	} else {
		fprintf(out, "paused at the target (recovery.signal kept)\n");
	}
	return rc;
}

static int check_reach(const struct dbops_user *user, const char *path,
		       int mode, const char *what)
{
	int err = 0, ok = dbops_user_can_access(user, path, mode, &err);

	if (ok == 1)
		return 0;
	dbops_log_error("the server's user %s could not %s \"%s\": %s",
			user->name, what, path,
			ok == 0 ? strerror(err) : "the check failed");
	dbops_log_hint(
		"make every directory above it searchable by %s (chmod o+x), or use another place",
		user->name);
	return -1;
}

static char *parent_of(const char *path)
{
	char *copy = dbops_xstrdup(path), *slash;

	slash = strrchr(copy, '/');
	while (slash && slash > copy && slash[1] == '\0') {
		*slash = '\0';
		slash = strrchr(copy, '/');
	}
	if (slash == NULL)
		strcpy(copy, ".");
	else if (slash == copy)
		slash[1] = '\0';
	else
		*slash = '\0';
	return copy;
}

/* Whether the server's user DROPped to can reach the data directory's
 * parent, read the archive and run this program (its restore_command);
 * reported when not. */
static bool reachable(const struct restore_opts *o, const struct plan *plan,
		      const struct dbops_user *user)
{
	char *parent = parent_of(o->datadir), exe[PATH_MAX];
	bool ok = check_reach(user, parent, X_OK, "reach") == 0 &&
		  check_reach(user, plan->arc.dir, R_OK | X_OK, "read") == 0 &&
		  self_exe(exe, sizeof(exe)) == 0 &&
		  check_reach(user, exe, X_OK, "run") == 0;

	free(parent);
	return ok;
}

/* Start the server on the prepared DATADIR, without waiting for it. */
static int start_server(const struct restore_opts *o, const struct plan *plan,
			const char *rundir, struct pitr_settings *more,
			struct dbops_instance *inst)
{
	char hba[PATH_MAX + 32], ident[PATH_MAX + 32];
	const char *settings[sizeof(more->list) / sizeof(more->list[0]) + 4] = {
		"hot_standby=on", hba, ident
	};

	snprintf(hba, sizeof(hba), "hba_file=%s/pg_hba.conf", rundir);
	snprintf(ident, sizeof(ident), "ident_file=%s/pg_ident.conf", rundir);
	/* Ours first: a later -c of the same name wins, so --set can
	 * change what it may (pitr-replay refuses the rest). */
	for (int i = 0; i < more->n; i++)
		settings[3 + i] = more->list[i];
	struct dbops_instance_opts io = {
		.driver = &dbops_postgres,
		.dir = rundir,
		.datadir = o->datadir,
		.pg_major = plan->backup.pg_major,
		.bindir = plan->bindir,
		.port = o->port,
		.settings = settings,
		.no_wait = true,
	};

	if (interrupted) {
		dbops_log_error("interrupted by signal %d", (int)interrupted);
		dbops_log_hint("the data directory \"%s\" is left as it is",
			       o->datadir);
		return -1;
	}
	if (dbops_instance_start(&io, inst) != 0) {
		dbops_log_hint(
			"the data directory \"%s\" is left as it is for inspection",
			o->datadir);
		return -1;
	}
	return 0;
}

static int restore(const struct restore_opts *o, struct pitr_run_facts *facts)
{
	struct plan plan;
	struct dbops_user user;
	struct dbops_instance inst = { .proc = { .pid = -1,
						 .capture_fd = -1 } };
	struct pitr_settings settings;
	struct server_state st = { 0 };
	struct follow f = { 0 };
	struct watch w = { .limit_s = stall_limit_s(), .dbname = "postgres" };
	const struct dbops_user *owner;
	bool drop = false;
	char rundir[PATH_MAX], conninfo[2 * PATH_MAX + 128];
	/* -q: only errors and warnings; the report goes nowhere. */
	bool quiet = dbops_log_verbosity() == DBOPS_LOG_QUIET;
	char spool[PATH_MAX + 32] = "";
	FILE *out = o->keep_running ? stderr : stdout;
	int rc = 1;

	if (datadir_usable(o->datadir) != 0)
		return 1;
	if (dbops_user_for_server("postgres", &user, &drop) != 0) {
		dbops_log_error(
			"could not run PostgreSQL as user \"postgres\": %s",
			errno == ENOENT ? "no such user" : strerror(errno));
		return 1;
	}
	owner = drop ? &user : NULL;
	if (quiet && (out = fopen("/dev/null", "we")) == NULL) {
		dbops_log_error("could not open \"/dev/null\": %s",
				strerror(errno));
		return 1;
	}
	pitr_exit_on_signals();
	/* verify needs no server; restore starts one. */
	if (pitr_verify_prepare(&o->verify, &plan) != 0 ||
	    pitr_find_server_binaries(plan.backup.pg_major, o->verify.pg_bindir,
				      plan.bindir) != 0 ||
	    pitr_backup_map_tablespaces(&plan.backup, o->datadir, o->ts_maps,
					o->nts_maps) != 0 ||
	    (drop && !reachable(o, &plan, &user)) ||
	    pitr_preflight(o, &plan, owner) != 0)
		goto done;
	catch_signals();
	if (lay_down(o, &plan, owner) != 0)
		goto done;
	pitr_run_facts_of(&plan, facts);
	pitr_settings_make(o, &plan, &settings);
	pitr_plan_report(&plan, out);
	snprintf(rundir, sizeof(rundir), "%s/pitr-replay", o->datadir);
	snprintf(spool, sizeof(spool), "%s/spool", rundir);
	if (prepare_datadir(o, &plan, rundir, owner) != 0 ||
	    start_server(o, &plan, rundir, &settings, &inst) != 0 ||
	    run_recovery(o, &plan, &inst, &st, &f, &w) != 0)
		goto done;
	if (confirm(o, &plan, &st, &f, out) == 0 &&
	    take_action(o, &inst, &f, &w, owner, out) == 0)
		rc = 0;
	if (rc == 0 && o->keep_running && o->action != ACTION_SHUTDOWN) {
		conninfo_of(&inst, w.dbname, conninfo, sizeof(conninfo));
		printf("%s\n", conninfo);
	} else if (stop_server(&inst, &f, w.limit_s) != 0) {
		rc = 1;
	} else if (rc == 0) {
		/* Nothing of ours is left in a data directory at its target;
		 * the prefetcher is ended first, as it may still write there. */
		pitr_fetch_spool_remove(spool);
		spool[0] = '\0';
		remove_tree(rundir);
	}
done:
	/* The server's later calls, if it runs on, read the archive. */
	if (spool[0])
		pitr_fetch_spool_remove(spool);
	/* What we hold of the server's process, whether it stopped, failed
	 * during recovery or runs on. */
	dbops_process_free(&inst.proc);
	pitr_plan_free(&plan);
	if (quiet)
		fclose(out);
	return rc;
}

int pitr_restore_run(const struct restore_opts *o)
{
	struct pitr_run_facts facts = { 0 };
	int64_t start_ms = dbops_clock_ms();
	int rc = restore(o, &facts);

	if (o->metrics_file &&
	    pitr_metrics_write(o->metrics_file, "restore", rc == 0,
			       (double)(dbops_clock_ms() - start_ms) / 1000,
			       &facts) != 0)
		rc = 1;
	return rc;
}
