/*
 * test_process.c - unit tests for common/process.c: spawning from an argv,
 * capture, exit statuses, timeouts, killing a process group, dropping to
 * another user.
 */
#include "testutil.h"

#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "clock.h"
#include "process.h"

static void test_process_missing_program_is_enoent(void **state)
{
	const char *argv[] = { "dbops-no-such-program", NULL };
	char *out = NULL;
	int status;

	assert_int_equal(dbops_process_run(argv, NULL, 5000, &out, &status),
			 -1);
	assert_int_equal(errno, ENOENT);
	assert_null(out);
}

static void test_process_not_executable_is_eacces(void **state)
{
	char *dir = make_scratch_dir("proc");
	char path[512];
	const char *argv[] = { path, NULL };
	char *out = NULL;
	int status;
	FILE *f;

	snprintf(path, sizeof(path), "%s/script", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("#!/bin/sh\necho hi\n", f);
	fclose(f);
	/* No x bit at all: even root may not execute it. */
	chmod(path, 0644);
	assert_int_equal(dbops_process_run(argv, NULL, 5000, &out, &status),
			 -1);
	assert_int_equal(errno, EACCES);
	unlink(path);
	rmdir(dir);
	free(dir);
}

static void test_process_bad_argv_is_einval(void **state)
{
	const char *argv[] = { NULL };
	char *out;
	int status;

	assert_int_equal(dbops_process_run(argv, NULL, 1000, &out, &status),
			 -1);
	assert_int_equal(errno, EINVAL);
}

static void test_process_timeout_kills_the_child(void **state)
{
	const char *argv[] = { "sleep", "30", NULL };
	int64_t start = dbops_clock_ms();
	char *out = NULL;
	int status;

	assert_int_equal(dbops_process_run(argv, NULL, 200, &out, &status), -1);
	assert_int_equal(errno, ETIMEDOUT);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGTERM);
	/* Generous bound: it must not wait for sleep's 30 s. */
	assert_true(dbops_clock_ms() - start < 10000);
	free(out);
}

static bool process_gone(pid_t pid)
{
	char path[64], buf[256];
	FILE *f;
	char *close_paren;

	if (kill(pid, 0) != 0)
		return true;
	/* Reparented to a PID 1 that does not reap: a zombie is gone too. */
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return true;
	if (fgets(buf, sizeof(buf), f) == NULL)
		buf[0] = '\0';
	fclose(f);
	close_paren = strrchr(buf, ')');
	return close_paren != NULL && close_paren[2] == 'Z';
}

static void test_process_kill_reaches_the_whole_group(void **state)
{
	/* The shell starts a grandchild and reports its pid. */
	const char *argv[] = { "sh", "-c", "sleep 30 & echo $!; wait", NULL };
	struct dbops_spawn_opts opts = {
		.argv = argv,
		.out = DBOPS_STDIO_CAPTURE,
		.err = DBOPS_STDIO_INHERIT,
	};
	struct dbops_process proc;
	pid_t grandchild = 0;
	int i;

	assert_int_equal(dbops_process_spawn(&opts, &proc), 0);
	for (i = 0; i < 100 && grandchild == 0; i++) {
		assert_int_equal(dbops_process_wait(&proc, 50), 1);
		grandchild = (pid_t)atoi(proc.output);
	}
	assert_true(grandchild > 0);
	assert_int_equal(dbops_process_kill(&proc, 2000), 0);
	assert_true(proc.exited);
	for (i = 0; i < 100 && !process_gone(grandchild); i++)
		dbops_clock_sleep_ms(20);
	assert_true(process_gone(grandchild));
	dbops_process_free(&proc);
}

static void test_process_captures_stdout_and_stderr(void **state)
{
	const char *argv[] = { "sh", "-c", "echo out; echo err >&2; exit 3",
			       NULL };
	char *out;
	int status;

	assert_int_equal(dbops_process_run(argv, NULL, 5000, &out, &status), 0);
	assert_string_equal(out, "out\nerr\n");
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 3);
	free(out);
}

static void test_process_arguments_are_not_split_by_a_shell(void **state)
{
	const char *argv[] = { "printf", "[%s]\\n", "a b",
			       "$HOME",	 "'; ls",   NULL };
	char *out;
	int status;

	assert_int_equal(dbops_process_run(argv, NULL, 5000, &out, &status), 0);
	assert_string_equal(out, "[a b]\n[$HOME]\n['; ls]\n");
	free(out);
}

static void test_process_large_output_is_captured_whole(void **state)
{
	/* 1 to 400000, one a line: 2,688,895 bytes, past any pipe buffer. */
	const char *argv[] = { "seq", "1", "400000", NULL };
	char *out;
	int status;

	assert_int_equal(dbops_process_run(argv, NULL, 10000, &out, &status),
			 0);
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(strlen(out), 2688895);
	assert_memory_equal(out + strlen(out) - 7, "400000\n", 7);
	free(out);
}

static void test_process_output_to_a_log_file(void **state)
{
	char *dir = make_scratch_dir("proc");
	char log[512];
	const char *argv[] = { "sh", "-c", "echo one; echo two >&2", NULL };
	struct dbops_spawn_opts opts = {
		.argv = argv,
		.out = DBOPS_STDIO_FILE,
		.err = DBOPS_STDIO_FILE,
		.log_path = log,
		.new_session = true,
	};
	struct dbops_process proc;
	struct stat st;
	char buf[64] = "";
	FILE *f;

	snprintf(log, sizeof(log), "%s/server.log", dir);
	assert_int_equal(dbops_process_spawn(&opts, &proc), 0);
	assert_int_equal(dbops_process_wait(&proc, 5000), 0);
	assert_int_equal(WEXITSTATUS(proc.status), 0);
	dbops_process_free(&proc);
	f = fopen(log, "r");
	assert_non_null(f);
	assert_int_equal(fread(buf, 1, sizeof(buf) - 1, f), 8);
	fclose(f);
	assert_string_equal(buf, "one\ntwo\n");
	assert_int_equal(stat(log, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	unlink(log);
	rmdir(dir);
	free(dir);
}

static void test_process_describe_status(void **state)
{
	char buf[128];

	assert_string_equal(
		dbops_process_describe_status(1 << 8, buf, sizeof(buf)),
		"exited with status 1");
	assert_string_equal(
		dbops_process_describe_status(SIGKILL, buf, sizeof(buf)),
		"was killed by signal 9 (Killed)");
}

static void test_process_unknown_user_is_enoent(void **state)
{
	struct dbops_user u;

	assert_int_equal(dbops_user_lookup("dbops-no-such-user", &u), -1);
	assert_int_equal(errno, ENOENT);
}

static void test_process_runs_as_another_user_when_root(void **state)
{
	const char *argv[] = { "id", "-u", NULL };
	struct dbops_user nobody;
	char expect[32];
	char *out;
	int status;

	if (geteuid() != 0)
		skip();
	assert_int_equal(dbops_user_lookup("nobody", &nobody), 0);
	assert_int_equal(dbops_process_run(argv, &nobody, 5000, &out, &status),
			 0);
	snprintf(expect, sizeof(expect), "%d\n", (int)nobody.uid);
	assert_string_equal(out, expect);
	free(out);
}

static void test_process_user_can_access_checks_as_that_user(void **state)
{
	char *dir = make_scratch_dir("proc");
	struct dbops_user nobody;
	int err;

	if (geteuid() != 0) {
		rmdir(dir);
		free(dir);
		skip();
	}
	assert_int_equal(dbops_user_lookup("nobody", &nobody), 0);
	chmod(dir, 0700);
	assert_int_equal(dbops_user_can_access(&nobody, dir, X_OK, &err), 0);
	assert_int_equal(err, EACCES);
	assert_int_equal(dbops_user_chown(&nobody, dir), 0);
	assert_int_equal(dbops_user_can_access(&nobody, dir, X_OK, &err), 1);
	rmdir(dir);
	free(dir);
}

static void test_process_for_server_keeps_us_when_not_root(void **state)
{
	struct dbops_user u;
	bool drop = true;

	if (geteuid() == 0) {
		assert_int_equal(dbops_user_for_server("nobody", &u, &drop), 0);
		assert_true(drop);
		assert_int_equal(
			dbops_user_for_server("dbops-no-such-user", &u, &drop),
			-1);
		assert_int_equal(errno, ENOENT);
	} else {
		assert_int_equal(
			dbops_user_for_server("dbops-no-such-user", &u, &drop),
			0);
		assert_false(drop);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_process_missing_program_is_enoent),
		cmocka_unit_test(test_process_not_executable_is_eacces),
		cmocka_unit_test(test_process_bad_argv_is_einval),
		cmocka_unit_test(test_process_timeout_kills_the_child),
		cmocka_unit_test(test_process_kill_reaches_the_whole_group),
		cmocka_unit_test(test_process_captures_stdout_and_stderr),
		cmocka_unit_test(
			test_process_arguments_are_not_split_by_a_shell),
		cmocka_unit_test(test_process_large_output_is_captured_whole),
		cmocka_unit_test(test_process_output_to_a_log_file),
		cmocka_unit_test(test_process_describe_status),
		cmocka_unit_test(test_process_unknown_user_is_enoent),
		cmocka_unit_test(test_process_runs_as_another_user_when_root),
		cmocka_unit_test(
			test_process_user_can_access_checks_as_that_user),
		cmocka_unit_test(
			test_process_for_server_keeps_us_when_not_root),
	};

	return cmocka_run_group_tests_name("process", tests, NULL, NULL);
}
