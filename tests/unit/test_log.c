/*
 * test_log.c - unit tests for common/log.c: message format, verbosity,
 * journal prefixes, the error count behind the exit status.
 */
#include "testutil.h"

#include <sys/stat.h>

#include "log.h"

static char *log_and_capture(enum dbops_log_level level, const char *text)
{
	struct capture c;

	capture_begin(&c, STDERR_FILENO);
	dbops_log(level, "%s", text);
	return capture_end(&c);
}

static int reset(void **state)
{
	(void)state;
	unsetenv("JOURNAL_STREAM");
	dbops_log_init("/usr/bin/pitr-replay");
	dbops_log_set_verbosity(DBOPS_LOG_NORMAL);
	dbops_log_reset_errors();
	return 0;
}

static void test_log_newline_in_message_stays_one_line(void **state)
{
	char *out = log_and_capture(DBOPS_LOG_ERROR, "bad\nvalue\r\"x\"");

	assert_string_equal(out, "pitr-replay: error: bad value \"x\"\n");
	free(out);
}

static void test_log_error_format_uses_basename(void **state)
{
	char *out = log_and_capture(DBOPS_LOG_ERROR,
				    "could not open file \"x\": No such file");

	assert_string_equal(
		out,
		"pitr-replay: error: could not open file \"x\": No such file\n");
	free(out);
}

static void test_log_levels_have_their_words(void **state)
{
	char *w = log_and_capture(DBOPS_LOG_WARNING, "w");
	char *h = log_and_capture(DBOPS_LOG_HINT, "h");
	char *d = log_and_capture(DBOPS_LOG_DETAIL, "d");
	char *i = log_and_capture(DBOPS_LOG_INFO, "i");

	assert_string_equal(w, "pitr-replay: warning: w\n");
	assert_string_equal(h, "pitr-replay: hint: h\n");
	assert_string_equal(d, "pitr-replay: detail: d\n");
	assert_string_equal(i, "pitr-replay: info: i\n");
	free(w);
	free(h);
	free(d);
	free(i);
}

static void test_log_quiet_hides_info_not_errors(void **state)
{
	char *i, *e;

	dbops_log_set_verbosity(DBOPS_LOG_QUIET);
	i = log_and_capture(DBOPS_LOG_INFO, "progress");
	e = log_and_capture(DBOPS_LOG_ERROR, "broken");
	assert_string_equal(i, "");
	assert_string_equal(e, "pitr-replay: error: broken\n");
	free(i);
	free(e);
}

static void test_log_debug_only_when_verbose(void **state)
{
	char *quiet = log_and_capture(DBOPS_LOG_DEBUG, "x");
	char *loud;

	dbops_log_set_verbosity(DBOPS_LOG_VERBOSE);
	loud = log_and_capture(DBOPS_LOG_DEBUG, "x");
	assert_string_equal(quiet, "");
	assert_string_equal(loud, "pitr-replay: debug: x\n");
	free(quiet);
	free(loud);
}

static void test_log_long_message_is_not_truncated(void **state)
{
	char text[5000];
	char *out;

	memset(text, 'a', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	out = log_and_capture(DBOPS_LOG_WARNING, text);
	assert_int_equal(strlen(out),
			 strlen("pitr-replay: warning: ") + 4999 + 1);
	free(out);
}

static void test_log_errors_force_exit_status_1(void **state)
{
	char *out;

	assert_int_equal(dbops_log_exit_status(0), 0);
	assert_int_equal(dbops_log_exit_status(3), 1);
	out = log_and_capture(DBOPS_LOG_WARNING, "only a warning");
	assert_int_equal(dbops_log_exit_status(0), 0);
	free(out);
	out = log_and_capture(DBOPS_LOG_ERROR, "a failure");
	assert_int_equal(dbops_log_error_count(), 1);
	assert_int_equal(dbops_log_exit_status(0), 1);
	free(out);
}

/*
 * The review's stack over-read: a program name longer than the line
 * buffer (exec -a "$(3000 x)") made the prefix be copied out of a 1 KiB
 * buffer it had overflowed. ASan checks the reads in the sanitized run.
 */
static void test_log_long_program_name(void **state)
{
	char name[3001], *out, *want;

	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	dbops_log_init(name);
	out = log_and_capture(DBOPS_LOG_ERROR, "unknown option \"--bogus\"");
	assert_true(asprintf(&want, "%s: error: unknown option \"--bogus\"\n",
			     name) > 0);
	assert_string_equal(out, want);
	free(out);
	free(want);
}

static void test_log_journal_prefix_when_stderr_is_journal(void **state)
{
	struct capture c;
	struct stat st;
	char js[64];
	char *out;

	capture_begin(&c, STDERR_FILENO);
	assert_int_equal(fstat(STDERR_FILENO, &st), 0);
	snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", js, 1);
	dbops_log_init("snap-import");
	assert_true(dbops_log_to_journal());
	dbops_log_error("e");
	dbops_log_warning("w");
	dbops_log_info("i");
	out = capture_end(&c);
	assert_string_equal(out, "<3>snap-import: error: e\n"
				 "<4>snap-import: warning: w\n"
				 "<6>snap-import: info: i\n");
	free(out);
}

static void test_log_journal_stream_of_another_file_is_ignored(void **state)
{
	setenv("JOURNAL_STREAM", "1:1", 1);
	dbops_log_init("snap-import");
	assert_false(dbops_log_to_journal());
	setenv("JOURNAL_STREAM", "garbage", 1);
	dbops_log_init("snap-import");
	assert_false(dbops_log_to_journal());
}

/* A block redrawn in place goes back up over itself, never over a message. */
static void test_log_redraw_never_draws_over_a_message(void **state)
{
	unsigned long mark = 0;
	struct capture c;
	char *out;

	capture_begin(&c, STDERR_FILENO);
	dbops_log_redraw("a\nb\n", 4, 0, &mark);
	dbops_log_redraw("A\nB\n", 4, 2, &mark);
	dbops_log_error("lost?");
	dbops_log_redraw("x\ny\n", 4, 2, &mark);
	dbops_log_redraw("X\n", 2, 2, &mark);
	out = capture_end(&c);
	assert_string_equal(out, "a\nb\n"
				 "\r\033[2AA\nB\n"
				 "pitr-replay: error: lost?\n"
				 "x\ny\n"
				 "\r\033[2AX\n");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(
			test_log_newline_in_message_stays_one_line, reset),
		cmocka_unit_test_setup(test_log_error_format_uses_basename,
				       reset),
		cmocka_unit_test_setup(test_log_levels_have_their_words, reset),
		cmocka_unit_test_setup(test_log_quiet_hides_info_not_errors,
				       reset),
		cmocka_unit_test_setup(test_log_debug_only_when_verbose, reset),
		cmocka_unit_test_setup(test_log_long_message_is_not_truncated,
				       reset),
		cmocka_unit_test_setup(test_log_errors_force_exit_status_1,
				       reset),
		cmocka_unit_test_setup(test_log_long_program_name, reset),
		cmocka_unit_test_setup(
			test_log_redraw_never_draws_over_a_message, reset),
		cmocka_unit_test_setup(
			test_log_journal_prefix_when_stderr_is_journal, reset),
		cmocka_unit_test_setup(
			test_log_journal_stream_of_another_file_is_ignored,
			reset),
	};

	/* The last test leaves an error counted: the exit handler must not
	 * turn cmocka's own status into a failure, so forget it first. */
	int rc = cmocka_run_group_tests_name("log", tests, NULL, NULL);

	dbops_log_reset_errors();
	return rc;
}
