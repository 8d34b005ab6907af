/*
 * test_clock.c - unit tests for common/clock.c.
 */
#include "testutil.h"

#include "clock.h"

static void test_clock_units_agree_and_never_go_back(void **state)
{
	int64_t ms = dbops_clock_ms(), us = dbops_clock_us();
	double s = dbops_clock_seconds();

	/* Read within a few milliseconds of each other. */
	assert_true(us / 1000 - ms >= 0 && us / 1000 - ms < 1000);
	assert_true(s * 1000 - (double)ms >= -1 &&
		    s * 1000 - (double)ms < 1000);
	for (int i = 0; i < 1000; i++) {
		int64_t later = dbops_clock_us();

		assert_true(later >= us);
		us = later;
	}
}

static void test_clock_sleep_lasts_at_least_as_asked(void **state)
{
	int64_t start = dbops_clock_ms();

	dbops_clock_sleep_ms(30);
	assert_true(dbops_clock_ms() - start >= 30);
	dbops_clock_sleep_ms(0);
	dbops_clock_sleep_ms(-5);
}

static void test_clock_deadline(void **state)
{
	assert_true(dbops_clock_passed(dbops_clock_ms() - 1));
	assert_false(dbops_clock_passed(dbops_clock_ms() + 60000));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clock_units_agree_and_never_go_back),
		cmocka_unit_test(test_clock_sleep_lasts_at_least_as_asked),
		cmocka_unit_test(test_clock_deadline),
	};

	return cmocka_run_group_tests_name("clock", tests, NULL, NULL);
}
