/*
 * test_natsort.c - unit tests for common/natsort.c.
 */
#include "testutil.h"

#include "natsort.h"

static void test_natsort_numbers_compare_as_numbers(void **state)
{
	assert_true(dbops_natural_cmp("world2", "world10") < 0);
	assert_true(dbops_natural_cmp("world10", "world2") > 0);
	assert_true(dbops_natural_cmp("world10", "world10") == 0);
	assert_true(dbops_natural_cmp("w9x", "w10a") < 0);
}

static void test_natsort_leading_zeros_and_prefixes(void **state)
{
	assert_true(dbops_natural_cmp("world02", "world2") == 0);
	assert_true(dbops_natural_cmp("world", "world1") < 0);
	assert_true(dbops_natural_cmp("world1", "world") > 0);
	assert_true(dbops_natural_cmp("", "a") < 0);
}

static void test_natsort_letters_as_bytes(void **state)
{
	assert_true(dbops_natural_cmp("a", "b") < 0);
	assert_true(dbops_natural_cmp("eu9", "us1") < 0);
	assert_true(dbops_natural_cmp("B", "a") < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_natsort_numbers_compare_as_numbers),
		cmocka_unit_test(test_natsort_leading_zeros_and_prefixes),
		cmocka_unit_test(test_natsort_letters_as_bytes),
	};

	return cmocka_run_group_tests_name("natsort", tests, NULL, NULL);
}
