/*
 * test_cli.c - unit tests for common/cli.c: the messages of every kind of
 * option mistake, exclusive options, the usage screen, typed values.
 */
#include "testutil.h"

#include <errno.h>

#include "cli.h"
#include "log.h"

enum {
	OPT_AT = DBOPS_CLI_LONG_ID(0),
	OPT_ROOT,
	OPT_INVENTORY,
	OPT_TARGET_TIME,
	OPT_TARGET_LSN,
	OPT_FORMAT
};

struct seen {
	int jobs;
	const char *at, *root, *inventory, *format;
	int calls;
};

static const struct dbops_cli_option test_opts[] = {
	{ 'j', "jobs", "N", "worlds loaded at once (default: the cores)" },
	{ OPT_AT, "at", "TIME", "each world's latest dump at or before TIME" },
	{ OPT_ROOT, "root", "DIR", "where the worlds live" },
	{ OPT_INVENTORY, "inventory", "FILE",
	  "an option file of [client_<world>] groups, read instead of the one under --root, which is a long help text that has to wrap" },
	{ OPT_TARGET_TIME, "target-time", "T", "stop before T" },
	{ OPT_TARGET_LSN, "target-lsn", "L", "stop after L" },
	{ OPT_FORMAT, "format", "FORMAT", NULL },
	{ 0, NULL, NULL, NULL },
};

static const int test_exclusive[][DBOPS_CLI_GROUP_MAX] = {
	{ OPT_ROOT, OPT_INVENTORY },
	{ 0 },
};

static int handle(void *ctx, int id, const char *arg)
{
	struct seen *s = ctx;

	s->calls++;
	switch (id) {
	case 'j':
		return dbops_cli_int("--jobs", arg, 1, 64, &s->jobs);
	case OPT_AT:
		s->at = arg;
		return 0;
	case OPT_ROOT:
		s->root = arg;
		return 0;
	case OPT_INVENTORY:
		s->inventory = arg;
		return 0;
	case OPT_FORMAT:
		s->format = arg;
		return 0;
	}
	return 0;
}

static const char *const test_synopsis[] = { "up [--at TIME] SOURCE...",
					     "down [WORLD...]", NULL };

static const struct dbops_cli test_cli = {
	.name = "tool",
	.synopsis = test_synopsis,
	.about = "Do a thing to every world.\n",
	.sections =
		(const struct dbops_cli_section[]){ { "Options", test_opts },
						    { NULL, NULL } },
	.exclusive = test_exclusive,
	.handle = handle,
};

/* Parse ARGS (NULL-terminated), capturing stderr into *ERR. */
static int parse(struct seen *s, char **err, int *first, const char **args)
{
	char *argv[32];
	int argc = 0, rc;
	struct capture c;

	argv[argc++] = "tool";
	for (const char **a = args; *a; a++)
		argv[argc++] = (char *)*a;
	argv[argc] = NULL;
	memset(s, 0, sizeof(*s));
	capture_begin(&c, STDERR_FILENO);
	rc = dbops_cli_parse(&test_cli, s, argc, argv, first);
	*err = capture_end(&c);
	return rc;
}

#define HINT "Try \"tool --help\" for more information.\n"

static void expect_error(const char **args, const char *message)
{
	struct seen s;
	char *err, *want;
	int first;

	assert_int_equal(parse(&s, &err, &first, args), 1);
	assert_true(asprintf(&want, "tool: error: %s\n" HINT, message) > 0);
	assert_string_equal(err, want);
	free(want);
	free(err);
}

static void test_cli_unknown_short_option_in_a_cluster_is_named(void **state)
{
	/* The bug of every tool: "-zq" named argv[0] or the command. */
	expect_error((const char *[]){ "-zq", "status", NULL },
		     "unknown option \"-z\"");
	expect_error((const char *[]){ "status", "-qz", NULL },
		     "unknown option \"-z\"");
	expect_error((const char *[]){ "-x", NULL }, "unknown option \"-x\"");
}

static void test_cli_unknown_long_option_named_without_value(void **state)
{
	expect_error((const char *[]){ "--bogus", NULL },
		     "unknown option \"--bogus\"");
	expect_error((const char *[]){ "up", "--bogus=3", NULL },
		     "unknown option \"--bogus\"");
}

static void test_cli_missing_value_names_the_option_as_given(void **state)
{
	expect_error((const char *[]){ "--jobs", NULL },
		     "option \"--jobs\" needs a value");
	expect_error((const char *[]){ "-qj", NULL },
		     "option \"-j\" needs a value");
	expect_error((const char *[]){ "--at", NULL },
		     "option \"--at\" needs a value");
}

static void test_cli_flag_with_a_value_is_refused(void **state)
{
	expect_error((const char *[]){ "--quiet=1", NULL },
		     "option \"--quiet\" takes no value");
	expect_error((const char *[]){ "--help=x", NULL },
		     "option \"--help\" takes no value");
}

static void test_cli_ambiguous_prefix_lists_the_candidates(void **state)
{
	expect_error(
		(const char *[]){ "--target", "x", NULL },
		"option \"--target\" is ambiguous: --target-time, --target-lsn");
}

static void test_cli_exclusive_options_refused_together(void **state)
{
	expect_error(
		(const char *[]){ "--root", "a", "--inventory", "b", NULL },
		"--root and --inventory cannot be used together");
	expect_error((const char *[]){ "--inv", "b", "--root=a", NULL },
		     "--inventory and --root cannot be used together");
}

static void test_cli_typed_value_message_shape(void **state)
{
	expect_error(
		(const char *[]){ "-j", "x", NULL },
		"invalid value \"x\" for --jobs: use a number from 1 to 64");
	expect_error(
		(const char *[]){ "--jobs=65", NULL },
		"invalid value \"65\" for --jobs: use a number from 1 to 64");
}

static void test_cli_options_among_operands_and_prefixes(void **state)
{
	struct seen s;
	char *err;
	int first;
	const char *args[] = { "up",   "-j",   "3",  "dir1", "--at=2024-03-01",
			       "dir2", "--ro", "/r", "--",   "--jobs",
			       NULL };

	assert_int_equal(parse(&s, &err, &first, args), DBOPS_CLI_RUN);
	assert_string_equal(err, "");
	assert_int_equal(s.jobs, 3);
	assert_string_equal(s.at, "2024-03-01");
	assert_string_equal(s.root, "/r");
	assert_int_equal(s.calls, 3);
	/* Operands after the options, in their order; "--" ends options. */
	assert_int_equal(first, 7);
	free(err);
}

static void test_cli_same_exclusive_option_twice_is_fine(void **state)
{
	struct seen s;
	char *err;
	int first;

	assert_int_equal(
		parse(&s, &err, &first,
		      (const char *[]){ "--root", "a", "--root", "b", NULL }),
		DBOPS_CLI_RUN);
	assert_string_equal(s.root, "b");
	free(err);
}

static void test_cli_quiet_and_verbose_set_the_log(void **state)
{
	struct seen s;
	char *err;
	int first;

	parse(&s, &err, &first, (const char *[]){ "-v", NULL });
	assert_int_equal(dbops_log_verbosity(), DBOPS_LOG_VERBOSE);
	free(err);
	parse(&s, &err, &first, (const char *[]){ "--quiet", NULL });
	assert_int_equal(dbops_log_verbosity(), DBOPS_LOG_QUIET);
	free(err);
	dbops_log_set_verbosity(DBOPS_LOG_NORMAL);
}

static char *help_text(const char *flag, int *rc)
{
	struct capture c;
	struct seen s;
	char *err, *out;
	int first;

	capture_begin(&c, STDOUT_FILENO);
	*rc = parse(&s, &err, &first, (const char *[]){ "up", flag, NULL });
	out = capture_end(&c);
	assert_string_equal(err, "");
	free(err);
	return out;
}

static void test_cli_version_prints_name_and_version(void **state)
{
	int rc;
	char *out = help_text("-V", &rc);

	assert_int_equal(rc, 0);
	assert_string_equal(out, "tool " DBOPS_VERSION "\n");
	free(out);
}

static void test_cli_help_screen(void **state)
{
	int rc;
	char *out = help_text("--help", &rc);
	const char *want =
		"Usage:\n"
		" tool up [--at TIME] SOURCE...\n"
		" tool down [WORLD...]\n"
		"\n"
		"Do a thing to every world.\n"
		"\n"
		"Options:\n"
		" -j, --jobs N          worlds loaded at once (default: the cores)\n"
		"     --at TIME         each world's latest dump at or before TIME\n"
		"     --root DIR        where the worlds live\n"
		"     --inventory FILE  an option file of [client_<world>] groups, read instead\n"
		"                       of the one under --root, which is a long help text that\n"
		"                       has to wrap\n"
		"     --target-time T   stop before T\n"
		"     --target-lsn L    stop after L\n"
		"\n"
		" -q, --quiet           only errors and warnings\n"
		" -v, --verbose         debugging messages too\n"
		" -h, --help            print this help and exit\n"
		" -V, --version         print the version and exit\n"
		"\n"
		"See tool(1).\n";

	assert_int_equal(rc, 0);
	assert_string_equal(out, want);
	free(out);
}

static void test_cli_help_lines_under_80_columns(void **state)
{
	int rc;
	char *out = help_text("-h", &rc);

	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"))
		assert_true(strlen(line) < 80);
	free(out);
}

static void test_cli_parse_int(void **state)
{
	long long v;

	assert_int_equal(dbops_cli_parse_int("42", &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(dbops_cli_parse_int("-7", &v), 0);
	assert_int_equal(v, -7);
	assert_int_equal(dbops_cli_parse_int("", &v), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(dbops_cli_parse_int(" 4", &v), -1);
	assert_int_equal(dbops_cli_parse_int("4x", &v), -1);
	assert_int_equal(dbops_cli_parse_int("-", &v), -1);
	assert_int_equal(dbops_cli_parse_int("99999999999999999999", &v), -1);
	assert_int_equal(errno, ERANGE);
}

static void test_cli_parse_size(void **state)
{
	uint64_t v;

	assert_int_equal(dbops_cli_parse_size("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(dbops_cli_parse_size("512K", &v), 0);
	assert_int_equal(v, 512 << 10);
	assert_int_equal(dbops_cli_parse_size("64MiB", &v), 0);
	assert_int_equal(v, 64 << 20);
	assert_int_equal(dbops_cli_parse_size("1g", &v), 0);
	assert_int_equal(v, 1 << 30);
	assert_int_equal(dbops_cli_parse_size("2TB", &v), 0);
	assert_true(v == 2ULL << 40);
	assert_int_equal(dbops_cli_parse_size("10B", &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(dbops_cli_parse_size("1.5G", &v), -1);
	assert_int_equal(dbops_cli_parse_size("M", &v), -1);
	assert_int_equal(dbops_cli_parse_size("1X", &v), -1);
	assert_int_equal(dbops_cli_parse_size("1Mi", &v), -1);
	assert_int_equal(dbops_cli_parse_size("-1", &v), -1);
	assert_int_equal(dbops_cli_parse_size("16777216T", &v), -1);
	assert_int_equal(errno, ERANGE);
}

static void test_cli_parse_duration(void **state)
{
	int64_t v;

	assert_int_equal(dbops_cli_parse_duration("30", &v), 0);
	assert_int_equal(v, 30000);
	assert_int_equal(dbops_cli_parse_duration("500ms", &v), 0);
	assert_int_equal(v, 500);
	assert_int_equal(dbops_cli_parse_duration("1.5s", &v), 0);
	assert_int_equal(v, 1500);
	assert_int_equal(dbops_cli_parse_duration("5m", &v), 0);
	assert_int_equal(v, 300000);
	assert_int_equal(dbops_cli_parse_duration("1h30m", &v), 0);
	assert_int_equal(v, 5400000);
	assert_int_equal(dbops_cli_parse_duration("1d", &v), 0);
	assert_int_equal(v, 86400000);
	assert_int_equal(dbops_cli_parse_duration("", &v), -1);
	assert_int_equal(dbops_cli_parse_duration("1h30", &v), -1);
	assert_int_equal(dbops_cli_parse_duration("1.s", &v), -1);
	assert_int_equal(dbops_cli_parse_duration("5min", &v), -1);
	assert_int_equal(dbops_cli_parse_duration("-5s", &v), -1);
	assert_int_equal(dbops_cli_parse_duration("9999999999999999999d", &v),
			 -1);
	assert_int_equal(errno, ERANGE);
}

static char *invalid_message(int (*call)(void))
{
	struct capture c;
	char *err;

	capture_begin(&c, STDERR_FILENO);
	assert_int_equal(call(), -1);
	err = capture_end(&c);
	return err;
}

static int bad_size(void)
{
	uint64_t v;

	return dbops_cli_size("--buffer", "2G", 1 << 10, 1 << 30, &v);
}

static int bad_duration(void)
{
	int64_t v;

	return dbops_cli_duration("--timeout", "0", 1000, 86400000, &v);
}

static int bad_choice(void)
{
	static const char *const formats[] = { "table", "csv", "tsv", "json",
					       NULL };
	int v;

	return dbops_cli_choice("--format", "xml", formats, &v);
}

static void test_cli_typed_messages(void **state)
{
	char *a = invalid_message(bad_size);
	char *b = invalid_message(bad_duration);
	char *c = invalid_message(bad_choice);

	assert_string_equal(
		a,
		"tool: error: invalid value \"2G\" for --buffer: use a size from 1K to 1G bytes, such as 512K, 64M or 1G\n" HINT);
	assert_string_equal(
		b,
		"tool: error: invalid value \"0\" for --timeout: use a duration from 1s to 1d, such as 30 (seconds), 30s, 5m or 1h\n" HINT);
	assert_string_equal(
		c,
		"tool: error: invalid value \"xml\" for --format: use table, csv, tsv or json\n" HINT);
	free(a);
	free(b);
	free(c);
}

static void test_cli_error_adds_the_hint(void **state)
{
	struct capture c;
	char *out;

	capture_begin(&c, STDERR_FILENO);
	assert_int_equal(dbops_cli_error("unknown command \"%s\"", "frob"), 1);
	out = capture_end(&c);
	assert_string_equal(out,
			    "tool: error: unknown command \"frob\"\n" HINT);
	free(out);
}

static void test_cli_choice_index(void **state)
{
	static const char *const actions[] = { "promote", "pause", "shutdown",
					       NULL };
	int v = -1;

	assert_int_equal(dbops_cli_choice("--action", "pause", actions, &v), 0);
	assert_int_equal(v, 1);
}

static int setup(void **state)
{
	unsetenv("JOURNAL_STREAM");
	dbops_log_init("tool");
	return 0;
}

/* The errors reported on purpose must not fail the run at exit. */
static int teardown(void **state)
{
	dbops_log_reset_errors();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_cli_unknown_short_option_in_a_cluster_is_named),
		cmocka_unit_test(
			test_cli_unknown_long_option_named_without_value),
		cmocka_unit_test(
			test_cli_missing_value_names_the_option_as_given),
		cmocka_unit_test(test_cli_flag_with_a_value_is_refused),
		cmocka_unit_test(
			test_cli_ambiguous_prefix_lists_the_candidates),
		cmocka_unit_test(test_cli_exclusive_options_refused_together),
		cmocka_unit_test(test_cli_typed_value_message_shape),
		cmocka_unit_test(test_cli_options_among_operands_and_prefixes),
		cmocka_unit_test(test_cli_same_exclusive_option_twice_is_fine),
		cmocka_unit_test(test_cli_quiet_and_verbose_set_the_log),
		cmocka_unit_test(test_cli_version_prints_name_and_version),
		cmocka_unit_test(test_cli_help_screen),
		cmocka_unit_test(test_cli_help_lines_under_80_columns),
		cmocka_unit_test(test_cli_parse_int),
		cmocka_unit_test(test_cli_parse_size),
		cmocka_unit_test(test_cli_parse_duration),
		cmocka_unit_test(test_cli_typed_messages),
		cmocka_unit_test(test_cli_error_adds_the_hint),
		cmocka_unit_test(test_cli_choice_index),
	};

	return cmocka_run_group_tests_name("cli", tests, setup, teardown);
}
