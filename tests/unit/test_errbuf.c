/*
 * test_errbuf.c - unit tests for common/errbuf.c.
 */
#include "testutil.h"

#include "errbuf.h"

static void test_errbuf_set_returns_minus_one_and_formats(void **state)
{
	struct dbops_err err = { "" };

	assert_false(dbops_err_isset(&err));
	assert_int_equal(dbops_err_set(&err, "line %d: %s", 3, "bad"), -1);
	assert_true(dbops_err_isset(&err));
	assert_string_equal(err.msg, "line 3: bad");
}

static void test_errbuf_null_is_accepted(void **state)
{
	assert_int_equal(dbops_err_set(NULL, "x"), -1);
	assert_int_equal(dbops_err_first(NULL, "x"), -1);
	assert_int_equal(dbops_err_prefix(NULL, "x"), -1);
	dbops_err_clear(NULL);
	assert_false(dbops_err_isset(NULL));
}

static void test_errbuf_newlines_become_spaces(void **state)
{
	struct dbops_err err;

	dbops_err_set(&err, "near ')\nstatus=running\r\nx'");
	assert_string_equal(err.msg, "near ') status=running  x'");
	assert_null(strchr(err.msg, '\n'));
}

static void test_errbuf_first_reason_wins(void **state)
{
	struct dbops_err err = { "" };

	dbops_err_first(&err, "first");
	dbops_err_first(&err, "second");
	assert_string_equal(err.msg, "first");
	dbops_err_set(&err, "replaced");
	assert_string_equal(err.msg, "replaced");
	dbops_err_clear(&err);
	assert_false(dbops_err_isset(&err));
}

static void test_errbuf_prefix_adds_context(void **state)
{
	struct dbops_err err;

	dbops_err_set(&err, "unterminated quote");
	dbops_err_prefix(&err, "\"%s\" line %u: ", "a.csv", 7u);
	assert_string_equal(err.msg, "\"a.csv\" line 7: unterminated quote");
}

static void test_errbuf_long_message_cut_visibly(void **state)
{
	struct dbops_err err;
	char big[3000];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	dbops_err_set(&err, "%s", big);
	assert_int_equal(strlen(err.msg), DBOPS_ERR_MAX - 1);
	assert_string_equal(err.msg + DBOPS_ERR_MAX - 4, "...");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errbuf_null_is_accepted),
		cmocka_unit_test(test_errbuf_long_message_cut_visibly),
		cmocka_unit_test(test_errbuf_newlines_become_spaces),
		cmocka_unit_test(test_errbuf_set_returns_minus_one_and_formats),
		cmocka_unit_test(test_errbuf_first_reason_wins),
		cmocka_unit_test(test_errbuf_prefix_adds_context),
	};

	return cmocka_run_group_tests_name("errbuf", tests, NULL, NULL);
}
