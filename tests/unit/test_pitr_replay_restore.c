/*
 * test_pitr_replay_restore.c - unit tests for pitr_restore_command_for() in
 * utils/pitr-replay/restore.c: the restore_command written to
 * postgresql.auto.conf, read back the way PostgreSQL's configuration file
 * parser reads a quoted value, %f, %p and %% filled in as PostgreSQL fills
 * them, then run by /bin/sh in a data directory: the program it names must
 * get exactly `fetch-wal -a ARCHIVE --spool SPOOL --prefetch 8 NAME DEST`,
 * whatever the paths hold (quotes, backslashes, spaces, %, $). What
 * fetch-wal then does is tested on real archives in
 * tests/pitr-replay-fetch.bats.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "log.h"

#include "../../utils/pitr-replay/restore.h"

#define SEGNAME "000000010000000000000003"
#define DEST	"pg_wal/RECOVERYXLOG"

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

/* The contents of PATH (caller frees, NUL-terminated); NULL if absent. */
static char *read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int setup_group(void **state)
{
	dbops_log_init("pitr-replay");
	return 0;
}

/* The fixture: SCRATCH/data (the server's working directory), a program
 * that writes its arguments to data/args, one a line, and an archive and
 * a spool directory, each in a directory named NAME under SCRATCH. */
struct fixture {
	char *scratch;
	char *datadir;
	char *exe;
	char *archive;
	char *spool;
	char *command; /* restore_command's value as the server reads it */
	char *line;    /* the value as written, quoted */
};

/* The test's fixture, removed by teardown() however the test ends. */
static struct fixture *current;

static void make_program(const char *path)
{
	static const char script[] =
		"#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done >args\n";

	write_bytes(path, script, sizeof(script) - 1);
	assert_int_equal(chmod(path, 0755), 0);
}

static struct fixture *make_fixture(const char *name)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	char buf[65536], *dir, *value;
	const char *rest = NULL;

	assert_non_null(fx);
	current = fx;
	fx->scratch = make_scratch_dir("restore");
	fx->datadir = path_join(fx->scratch, "data");
	assert_int_equal(mkdir(fx->datadir, 0700), 0);
	dir = path_join(fx->scratch, name);
	assert_int_equal(mkdir(dir, 0755), 0);
	fx->exe = path_join(dir, "pitr-replay");
	fx->archive = path_join(dir, "archive");
	fx->spool = path_join(dir, "spool");
	free(dir);
	make_program(fx->exe);
	assert_int_equal(pitr_restore_command_for(fx->exe, fx->archive,
						  fx->spool, 8, buf,
						  sizeof(buf)),
			 0);
	/* As restore.c writes it: restore_command = '%s' */
	assert_true(asprintf(&fx->line, "'%s'\n", buf) > 0);
	value = conf_unquote(fx->line, &rest);
	if (value == NULL || strcmp(rest, "\n") != 0)
		fail_msg(
			"PostgreSQL would read restore_command = '%s' as the string "
			"'%s', with \"%.12s...\" after it: a syntax error in postgresql.auto.conf",
			buf, value ? value : "", rest ? rest : "");
	fx->command = value;
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
	free(fx->exe);
	free(fx->archive);
	free(fx->spool);
	free(fx->command);
	free(fx->line);
	free(fx);
}

static int teardown(void **state)
{
	free_fixture(current);
	assert_int_equal(dbops_log_error_count(), 0);
	return 0;
}

/* Run the command for F into %p = DEST in the data directory: the program
 * is run and gets its arguments as meant. */
static void assert_runs(const struct fixture *fx, const char *f)
{
	char *cmd = fill_in(fx->command, f, DEST);
	char *args_path = path_join(fx->datadir, "args");
	char *want, *got;

	assert_int_equal(run_in(fx->datadir, cmd), 0);
	assert_true(
		asprintf(
			&want,
			"fetch-wal\n-a\n%s\n--spool\n%s\n--prefetch\n8\n%s\n%s\n",
			fx->archive, fx->spool, f, DEST) > 0);
	got = read_text(args_path);
	if (got == NULL)
		fail_msg("the command\n  %s\ndid not run \"%s\"", cmd, fx->exe);
	if (strcmp(got, want) != 0)
		fail_msg(
			"the command\n  %s\ngave the arguments\n%s\nwhere\n%s\nwas meant",
			cmd, got, want);
	free(got);
	free(want);
	free(args_path);
	free(cmd);
}

/* ---- the text ------------------------------------------------------------ */

static void test_restore_command_plain_paths(void **state)
{
	char buf[4096];

	assert_int_equal(
		pitr_restore_command_for("/usr/bin/pitr-replay",
					 "/var/lib/postgresql/wal-archive",
					 "/srv/data/pitr-replay/spool", 8, buf,
					 sizeof(buf)),
		0);
	/* The shell's single quotes, doubled for postgresql.conf. */
	assert_string_equal(
		buf,
		"''/usr/bin/pitr-replay'' fetch-wal -a ''/var/lib/postgresql/wal-archive'' "
		"--spool ''/srv/data/pitr-replay/spool'' --prefetch 8 %f %p");
}

static void test_restore_command_percent_doubled(void **state)
{
	char buf[4096];

	/* L1: "%p" in the path was filled in by the server. */
	assert_int_equal(pitr_restore_command_for("/bin/x", "/srv/arch%pct",
						  "/s%f", 8, buf, sizeof(buf)),
			 0);
	assert_string_equal(buf, "''/bin/x'' fetch-wal -a ''/srv/arch%%pct'' "
				 "--spool ''/s%%f'' --prefetch 8 %f %p");
}

static void test_restore_command_quote_and_spaces(void **state)
{
	char buf[4096];

	assert_int_equal(pitr_restore_command_for("/bin/x", "/srv/it's a dir",
						  "/s", 8, buf, sizeof(buf)),
			 0);
	/* '\'' for the shell, then '' and \\ for the file. */
	assert_non_null(strstr(buf, "-a ''/srv/it''\\\\''''s a dir'' "));
}

static void test_restore_command_too_long(void **state)
{
	char buf[40], *big = malloc(20000);

	assert_int_equal(pitr_restore_command_for("/bin/x", "/a", "/s", 8, buf,
						  sizeof(buf)),
			 -1);
	assert_non_null(big);
	memset(big, 'a', 19999);
	big[0] = '/';
	big[19999] = '\0';
	char *out = malloc(65536);
	assert_non_null(out);
	assert_int_equal(
		pitr_restore_command_for("/bin/x", big, "/s", 8, out, 65536),
		-1);
	/* Quotes and % make it longer: ' becomes '\'' and then ''\''''. */
	memset(big, '\'', 4000);
	big[4000] = '\0';
	assert_int_equal(
		pitr_restore_command_for("/bin/x", big, "/s", 8, out, 65536),
		-1);
	memset(big, '%', 9000);
	big[9000] = '\0';
	assert_int_equal(
		pitr_restore_command_for("/bin/x", big, "/s", 8, out, 65536),
		-1);
	free(out);
	free(big);
}

/* ---- running it ---------------------------------------------------------- */

static void test_restore_command_runs_plain_path(void **state)
{
	assert_runs(make_fixture("plain"), SEGNAME);
}

static void test_restore_command_runs_quote_and_spaces(void **state)
{
	assert_runs(make_fixture("it's the \"wal\" $archive `x`"), SEGNAME);
}

/* A backslash is an escape to PostgreSQL's reading of the value: "\t"
 * must not become a TAB. */
static void test_restore_command_runs_backslash(void **state)
{
	assert_runs(make_fixture("wal\\tarchive\\"), SEGNAME);
}

/* L1: a % in a path, before f or p or another %, is the path's. */
static void test_restore_command_runs_percent(void **state)
{
	struct fixture *fx = make_fixture("100% %f %p %% %r 'q' %");

	assert_runs(fx, SEGNAME);
	assert_runs(fx, "00000002.history");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_restore_command_plain_paths),
		cmocka_unit_test(test_restore_command_percent_doubled),
		cmocka_unit_test(test_restore_command_quote_and_spaces),
		cmocka_unit_test(test_restore_command_too_long),
		cmocka_unit_test_teardown(test_restore_command_runs_plain_path,
					  teardown),
		cmocka_unit_test_teardown(
			test_restore_command_runs_quote_and_spaces, teardown),
		cmocka_unit_test_teardown(test_restore_command_runs_backslash,
					  teardown),
		cmocka_unit_test_teardown(test_restore_command_runs_percent,
					  teardown),
	};

	return cmocka_run_group_tests_name("pitr-replay restore", tests,
					   setup_group, NULL);
}
