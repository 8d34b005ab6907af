/*
 * test_hex.c - unit tests for common/hex.c.
 */
#include "testutil.h"

#include "hex.h"

static void test_hex_digits_of_both_cases(void **state)
{
	assert_int_equal(dbops_hex_digit('0'), 0);
	assert_int_equal(dbops_hex_digit('9'), 9);
	assert_int_equal(dbops_hex_digit('a'), 10);
	assert_int_equal(dbops_hex_digit('f'), 15);
	assert_int_equal(dbops_hex_digit('A'), 10);
	assert_int_equal(dbops_hex_digit('F'), 15);
}

static void test_hex_other_characters(void **state)
{
	const char *others = "gG/:@`xX -\n";

	for (const char *p = others; *p; p++)
		assert_int_equal(dbops_hex_digit(*p), -1);
	assert_int_equal(dbops_hex_digit('\0'), -1);
	/* a byte above 0x7f, as a char may hold it (negative) */
	assert_int_equal(dbops_hex_digit((char)0xe9), -1);
	assert_int_equal(dbops_hex_digit(0xe9), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hex_digits_of_both_cases),
		cmocka_unit_test(test_hex_other_characters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
