/*
 * test_pitr_replay_restore.c - unit tests for pitr_restore_command_for() in
 * utils/pitr-replay/restore.c: the restore_command written to
 * postgresql.auto.conf, read back the way PostgreSQL's configuration file
 * parser reads a quoted value, then run by /bin/sh in a data directory with
 * %f and %p filled in as PostgreSQL fills them: a segment present is
 * copied, a .gz one inflated, a missing one is exit status 1 (the end of
 * the archive to PostgreSQL), and any other failure 126 (fatal).
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <zlib.h>

#include "log.h"

#include "../../utils/pitr-replay/restore.h"

#define SEGNAME "000000010000000000000003"

/* ---- reading the value back ---------------------------------------------- */

/*
 * Read the quoted value that starts at *S ('...') the way PostgreSQL's
 * configuration file scanner and DeescapeQuotedString() (guc-file.l) do:
 * the token is \'([^'\\\n]|\\.|\'\')*\' and within it '' is one quote and
 * a backslash escapes the next character (\b \f \n \r \t, up to three
 * octal digits, anything else as itself). Returns the value (caller frees)
 * and sets *REST to what follows the closing quote; NULL when there is no
 * closing quote.
 */
static char *conf_unquote(const char *s, const char **rest)
{
	size_t len = strlen(s), j = 0;
	char *out = malloc(len + 1);

	assert_non_null(out);
	assert_int_equal(s[0], '\'');
	for (size_t i = 1; i < len; i++) {
		char c = s[i];

		if (c == '\n')
			break;
		if (c == '\\' && s[i + 1] != '\0' && s[i + 1] != '\n') {
			c = s[++i];
			switch (c) {
			case 'b':
				out[j++] = '\b';
				break;
			case 'f':
				out[j++] = '\f';
				break;
			case 'n':
				out[j++] = '\n';
				break;
			case 'r':
				out[j++] = '\r';
				break;
			case 't':
				out[j++] = '\t';
				break;
			case '0':
			case '1':
			case '2':
			case '3':
			case '4':
			case '5':
			case '6':
			case '7': {
				int v = 0, k;

				for (k = 0; k < 3 && s[i + k] >= '0' &&
					    s[i + k] <= '7';
				     k++)
					v = v * 8 + (s[i + k] - '0');
				i += (size_t)k - 1;
				out[j++] = (char)v;
				break;
			}
			default:
				out[j++] = c;
			}
		} else if (c == '\'' && s[i + 1] == '\'') {
			out[j++] = '\'';
			i++;
		} else if (c == '\'') {
			out[j] = '\0';
			*rest = s + i + 1;
			return out;
		} else {
			out[j++] = c;
		}
	}
	free(out);
	return NULL;
}

/* The file's quoting undone: '' -> ' and doubled backslashes -> one. */
static char *undouble(const char *s)
{
	char *out = malloc(strlen(s) + 1);
	size_t j = 0;

	assert_non_null(out);
	for (size_t i = 0; s[i]; i++) {
		out[j++] = s[i];
		if ((s[i] == '\'' || s[i] == '\\') && s[i + 1] == s[i])
			i++;
	}
	out[j] = '\0';
	return out;
}

/* %f, %p and %% filled in as PostgreSQL's replace_percent_placeholders(). */
static char *fill_in(const char *cmd, const char *f, const char *p)
{
	size_t cap = strlen(cmd) * 4 + strlen(f) * 16 + strlen(p) * 16 + 1,
	       j = 0;
	char *out = malloc(cap);

	assert_non_null(out);
	for (size_t i = 0; cmd[i]; i++) {
		if (cmd[i] == '%' && cmd[i + 1] == 'f') {
			j += (size_t)snprintf(out + j, cap - j, "%s", f);
			i++;
		} else if (cmd[i] == '%' && cmd[i + 1] == 'p') {
			j += (size_t)snprintf(out + j, cap - j, "%s", p);
			i++;
		} else if (cmd[i] == '%' && cmd[i + 1] == '%') {
			out[j++] = '%';
			i++;
		} else {
			out[j++] = cmd[i];
		}
	}
	out[j] = '\0';
	return out;
}

/* Run CMD with /bin/sh -c in DIR, as the server runs restore_command. */
static int run_in(const char *dir, const char *cmd)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		if (null >= 0) {
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
		}
		if (chdir(dir) != 0)
			_exit(99);
		unsetenv("CDPATH");
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(98);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* ---- files --------------------------------------------------------------- */

/* The contents of PATH (caller frees), its length in *LEN; NULL if absent. */
static unsigned char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	unsigned char *buf;
	long n;

	if (f == NULL)
		return NULL;
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* Segment-like contents. */
static unsigned char segment[64 * 1024];

static int setup_group(void **state)
{
	dbops_log_init("pitr-replay");
	for (size_t i = 0; i < sizeof(segment); i++)
		segment[i] = (unsigned char)(i * 131 + i / 251);
	return 0;
}

/* The fixture: SCRATCH/data (the server's working directory, with pg_wal)
 * and an archive directory named NAME under SCRATCH. */
struct fixture {
	char *scratch;
	char *datadir;
	char *archive;
	char *command; /* restore_command's value as the server reads it */
	char *line;    /* the value as written, quoted */
	char *meant;   /* the command as meant */
};

/* The test's fixture, removed by teardown() however the test ends. */
static struct fixture *current;

static struct fixture *make_fixture(const char *archive_name, bool faithful)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	char buf[16384], *pgwal;

	assert_non_null(fx);
	current = fx;
	fx->scratch = make_scratch_dir("restore");
	fx->datadir = path_join(fx->scratch, "data");
	fx->archive = path_join(fx->scratch, archive_name);
	assert_int_equal(mkdir(fx->datadir, 0700), 0);
	pgwal = path_join(fx->datadir, "pg_wal");
	assert_int_equal(mkdir(pgwal, 0700), 0);
	free(pgwal);
	assert_int_equal(mkdir(fx->archive, 0755), 0);
	assert_int_equal(
		pitr_restore_command_for(fx->archive, buf, sizeof(buf)), 0);
	if (faithful) {
		char *line, *value;
		const char *rest = NULL;

		/* As restore.c writes it: restore_command = '%s' */
		assert_true(asprintf(&line, "'%s'\n", buf) > 0);
		fx->line = line;
		value = conf_unquote(line, &rest);
		fx->command = value;
		if (value == NULL || strcmp(rest, "\n") != 0)
			fail_msg(
				"PostgreSQL would read restore_command = '%s' as the string "
				"'%s', with \"%.12s...\" after it: a syntax error in postgresql.auto.conf",
				buf, value ? value : "", rest ? rest : "");
		/* It must read back as the command meant: the shell's text. */
		fx->meant = undouble(buf);
		if (strcmp(value, fx->meant) != 0)
			fail_msg(
				"PostgreSQL would read restore_command as\n  %s\nwhere\n  %s\nwas meant",
				value, fx->meant);
	} else {
		fx->command = undouble(buf);
	}
	return fx;
}

static void free_fixture(struct fixture *fx)
{
	if (fx == NULL)
		return;
	current = NULL;
	remove_scratch_dir(fx->scratch);
	free(fx->scratch);
	free(fx->datadir);
	free(fx->archive);
	free(fx->command);
	free(fx->line);
	free(fx->meant);
	free(fx);
}

static int teardown(void **state)
{
	free_fixture(current);
	assert_int_equal(dbops_log_error_count(), 0);
	return 0;
}

/* Run the command for segment F into %p = P, in the data directory. */
static int restore(const struct fixture *fx, const char *f, const char *p)
{
	char *cmd = fill_in(fx->command, f, p);
	int rc = run_in(fx->datadir, cmd);

	free(cmd);
	return rc;
}

static void assert_restored(const struct fixture *fx, const char *p)
{
	char *path = path_join(fx->datadir, p);
	size_t len = 0;
	unsigned char *got = read_file(path, &len);

	if (got == NULL)
		fail_msg("%s was not written", path);
	assert_int_equal(len, sizeof(segment));
	assert_memory_equal(got, segment, sizeof(segment));
	free(got);
	free(path);
}

/* Every case, against the archive of FX. */
static void exercise(struct fixture *fx)
{
	char *seg = path_join(fx->archive, SEGNAME);
	char *seg_gz = path_join(fx->archive, SEGNAME ".gz");
	char *dest = path_join(fx->datadir, "pg_wal/RECOVERYXLOG");
	char *notdir;

	/* Present: copied, status 0. */
	write_bytes(seg, segment, sizeof(segment));
	assert_int_equal(restore(fx, SEGNAME, "pg_wal/RECOVERYXLOG"), 0);
	assert_restored(fx, "pg_wal/RECOVERYXLOG");
	assert_int_equal(unlink(dest), 0);

	/* Plain and .gz: the plain one. */
	write_gz(seg_gz, "not this one", 12);
	assert_int_equal(restore(fx, SEGNAME, "pg_wal/RECOVERYXLOG"), 0);
	assert_restored(fx, "pg_wal/RECOVERYXLOG");
	assert_int_equal(unlink(dest), 0);
	assert_int_equal(unlink(seg_gz), 0);

	/* Only .gz: inflated. */
	assert_int_equal(unlink(seg), 0);
	write_gz(seg_gz, segment, sizeof(segment));
	assert_int_equal(restore(fx, SEGNAME, "pg_wal/RECOVERYXLOG"), 0);
	assert_restored(fx, "pg_wal/RECOVERYXLOG");
	assert_int_equal(unlink(dest), 0);

	/* A damaged .gz: fatal, not "absent". */
	write_bytes(seg_gz, "\x1f\x8b\x08\x00garbage", 12);
	assert_int_equal(restore(fx, SEGNAME, "pg_wal/RECOVERYXLOG"), 126);
	unlink(dest);
	assert_int_equal(unlink(seg_gz), 0);

	/* Absent (as for the timeline history files PostgreSQL probes): 1. */
	assert_int_equal(restore(fx, SEGNAME, "pg_wal/RECOVERYXLOG"), 1);
	assert_false(exists(dest));
	assert_int_equal(
		restore(fx, "00000002.history", "pg_wal/RECOVERYHISTORY"), 1);
	/* A .partial is not the segment. */
	char *partial = path_join(fx->archive, SEGNAME ".partial");
	write_bytes(partial, segment, sizeof(segment));
	assert_int_equal(restore(fx, SEGNAME, "pg_wal/RECOVERYXLOG"), 1);
	assert_int_equal(unlink(partial), 0);
	free(partial);

	/* A history file is fetched like a segment. */
	char *hist = path_join(fx->archive, "00000002.history");
	write_bytes(hist, "1\t0/4000448\tx\n", 14);
	assert_int_equal(
		restore(fx, "00000002.history", "pg_wal/RECOVERYHISTORY"), 0);
	char *hist_dest = path_join(fx->datadir, "pg_wal/RECOVERYHISTORY");
	assert_true(exists(hist_dest));
	free(hist_dest);
	free(hist);

	/* Destination cannot be written (its directory is a file): 126. */
	notdir = path_join(fx->datadir, "notadir");
	write_bytes(notdir, "x", 1);
	write_bytes(seg, segment, sizeof(segment));
	assert_int_equal(restore(fx, SEGNAME, "notadir/RECOVERYXLOG"), 126);
	assert_int_equal(unlink(seg), 0);
	write_gz(seg_gz, segment, sizeof(segment));
	assert_int_equal(restore(fx, SEGNAME, "notadir/RECOVERYXLOG"), 126);
	assert_int_equal(unlink(seg_gz), 0);
	free(notdir);

	/* Unwritable by permission (root writes anyway: only as another user). */
	if (geteuid() != 0) {
		char *pgwal = path_join(fx->datadir, "pg_wal");

		write_bytes(seg, segment, sizeof(segment));
		assert_int_equal(chmod(pgwal, 0500), 0);
		assert_int_equal(restore(fx, SEGNAME, "pg_wal/RECOVERYXLOG"),
				 126);
		assert_int_equal(chmod(pgwal, 0700), 0);
		assert_int_equal(unlink(seg), 0);
		free(pgwal);
	}

	/* The archive directory is gone: 126, never "absent". */
	char *moved = path_join(fx->scratch, "moved-away");
	assert_int_equal(rename(fx->archive, moved), 0);
	assert_int_equal(restore(fx, SEGNAME, "pg_wal/RECOVERYXLOG"), 126);
	assert_int_equal(
		restore(fx, "00000002.history", "pg_wal/RECOVERYHISTORY"), 126);
	assert_int_equal(rename(moved, fx->archive), 0);
	free(moved);

	free(seg);
	free(seg_gz);
	free(dest);
}

/* ---- the text ------------------------------------------------------------ */

static void test_restore_command_plain_path(void **state)
{
	char buf[4096];

	assert_int_equal(
		pitr_restore_command_for("/var/lib/postgresql/wal-archive", buf,
					 sizeof(buf)),
		0);
	/* The shell's single quotes, doubled for postgresql.conf. */
	assert_string_equal(
		buf,
		"cd ''/var/lib/postgresql/wal-archive'' || exit 126; "
		"if [ -f \"%f\" ]; then cp \"%f\" \"$OLDPWD/%p\" || exit 126; "
		"elif [ -f \"%f.gz\" ]; then gzip -dc \"%f.gz\" >\"$OLDPWD/%p\" || exit 126; "
		"elif [ -f \"%f.zst\" ]; then zstd -dc \"%f.zst\" >\"$OLDPWD/%p\" || exit 126; "
		"elif [ -f \"%f.lz4\" ]; then lz4 -dc \"%f.lz4\" >\"$OLDPWD/%p\" || exit 126; "
		"elif [ -f \"%f.xz\" ]; then xz -dc \"%f.xz\" >\"$OLDPWD/%p\" || exit 126; "
		"elif [ -f \"%f.bz2\" ]; then bzip2 -dc \"%f.bz2\" >\"$OLDPWD/%p\" || exit 126; "
		"else exit 1; fi");
}

static void test_restore_command_quote_and_spaces(void **state)
{
	char buf[4096];
	char *cmd;

	assert_int_equal(
		pitr_restore_command_for("/srv/it's a dir", buf, sizeof(buf)),
		0);
	/* Doubled once more for the file: '\'' becomes ''\''''. */
	assert_non_null(
		strstr(buf, "cd ''/srv/it''\\\\''''s a dir'' || exit 126; "));
	/* With the doubling undone, the shell word is the path. */
	cmd = undouble(buf);
	assert_non_null(strstr(cmd, "cd '/srv/it'\\''s a dir' || exit 126; "));
	free(cmd);
}

static void test_restore_command_too_long(void **state)
{
	char buf[64], *big = malloc(20000);

	assert_int_equal(pitr_restore_command_for("/a", buf, sizeof(buf)), -1);
	assert_non_null(big);
	memset(big, 'a', 19999);
	big[0] = '/';
	big[19999] = '\0';
	char *out = malloc(65536);
	assert_non_null(out);
	assert_int_equal(pitr_restore_command_for(big, out, 65536), -1);
	/* Quotes make it longer: ' becomes '\'' and then ''\''''. */
	memset(big, '\'', 4000);
	big[4000] = '\0';
	assert_int_equal(pitr_restore_command_for(big, out, 65536), -1);
	free(out);
	free(big);
}

/* ---- running it ---------------------------------------------------------- */

static void test_restore_command_runs_plain_path(void **state)
{
	struct fixture *fx = make_fixture("archive", true);

	exercise(fx);
}

static void test_restore_command_runs_quote_and_spaces_undoubled(void **state)
{
	/* The brief's check: '' undone by hand, then the shell. */
	struct fixture *fx = make_fixture("it's the \"wal\" $archive", false);

	exercise(fx);
}

/*
 * BUG (restore.c conf_quote/shell_quote): PostgreSQL reads a backslash in a
 * quoted configuration value as an escape. The shell quoting of a single
 * quote, '\'', doubled to ''\'''', is read by the server's scanner as
 * '' \' '' '... and the string ends early: postgresql.auto.conf gets a
 * syntax error ("syntax error in file ... near token "s"", checked with
 * postgres -C restore_command of PostgreSQL 15), so a restore from an
 * archive whose path has a quote cannot start. conf_quote() must double
 * backslashes too (or shell_quote avoid them, e.g. '"'"').
 */
static void test_restore_command_quote_as_postgresql_reads_it(void **state)
{
	struct fixture *fx = make_fixture("it's a dir", true);

	exercise(fx);
}

/*
 * BUG (same cause): an archive path with a backslash is changed by the
 * server's reading of the value: "\t" becomes a TAB, so the command cd's
 * to another directory and every segment is fatal (126).
 */
static void test_restore_command_backslash_as_postgresql_reads_it(void **state)
{
	struct fixture *fx = make_fixture("wal\\tarchive", true);

	exercise(fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_restore_command_plain_path),
		cmocka_unit_test(test_restore_command_quote_and_spaces),
		cmocka_unit_test(test_restore_command_too_long),
		cmocka_unit_test_teardown(test_restore_command_runs_plain_path,
					  teardown),
		cmocka_unit_test_teardown(
			test_restore_command_runs_quote_and_spaces_undoubled,
			teardown),
		cmocka_unit_test_teardown(
			test_restore_command_quote_as_postgresql_reads_it,
			teardown),
		cmocka_unit_test_teardown(
			test_restore_command_backslash_as_postgresql_reads_it,
			teardown),
	};

	return cmocka_run_group_tests_name("pitr-replay restore", tests,
					   setup_group, NULL);
}
