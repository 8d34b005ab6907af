/*
 * test_dump_restore_cnf.c - unit tests for dump-restore's option-file
 * values (cnf.h): what the MariaDB clients read from a value as written,
 * and that every value dr_cnf_put() writes reads back unchanged.
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "../../utils/dump-restore/cnf.h"

static const char *value(const char *raw)
{
	static char buf[256];

	return dr_cnf_value(raw, buf, sizeof(buf));
}

static void test_cnf_value_as_the_client_reads_it(void **state)
{
	/* Unquoted, a '#' starts a comment: the bug of LOW 5. */
	assert_string_equal(value("odd #db"), "odd");
	assert_string_equal(value(" \"odd #db\" "), "odd #db");
	assert_string_equal(value("'odd #db' # comment"), "odd #db");
	assert_string_equal(value("\"a\\\"b\""), "a\"b");
	assert_string_equal(value("\"a\\\\\""), "a\\");
	assert_string_equal(value("\"tab\\there\\n\""), "tab\there\n");
	assert_string_equal(value("\"it's\""), "it's");
	assert_string_equal(value("a\\sb"), "a b");
	/* A backslash before another letter stays. */
	assert_string_equal(value("c:\\x"), "c:\\x");
	assert_string_equal(value("\""), "\"");
	assert_string_equal(value(""), "");
}

static void test_cnf_put_reads_back(void **state)
{
	static const char *const values[] = {
		"odd #db \"q\" 'x' \\b",
		"a\\",
		"\"",
		"'",
		" lead and trail ",
		"tab\tnew\nline\rcr",
		"# all comment",
		"Zoë 🐉 山田",
		"",
	};

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		char *text = NULL, *eq;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);

		assert_non_null(f);
		dr_cnf_put(f, "database", values[i]);
		fclose(f);
		assert_int_equal(text[len - 1], '\n');
		text[len - 1] = '\0';
		assert_null(strchr(text, '\n'));
		eq = strchr(text, '=');
		assert_non_null(eq);
		assert_string_equal(value(eq + 1), values[i]);
		free(text);
	}
}

static void test_cnf_value_fits_exactly(void **state)
{
	char out[8], small[4];

	/* The raw text's length and its NUL are always enough. */
	assert_string_equal(dr_cnf_value("analyst", out, sizeof(out)),
			    "analyst");
	assert_string_equal(dr_cnf_value("\"a\\\"b\"", out, 7), "a\"b");
	/* Less is cut, never overrun. */
	assert_string_equal(dr_cnf_value("analyst", small, sizeof(small)),
			    "ana");
	assert_string_equal(dr_cnf_value("x", small, 1), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cnf_value_as_the_client_reads_it),
		cmocka_unit_test(test_cnf_put_reads_back),
		cmocka_unit_test(test_cnf_value_fits_exactly),
	};

	return cmocka_run_group_tests_name("dump-restore cnf", tests, NULL,
					   NULL);
}
