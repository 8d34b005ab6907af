/*
 * test_paths.c - unit tests for common/paths.c.
 */
#include "testutil.h"

#include "paths.h"

static void test_paths_state_dir_by_user(void **state)
{
	char buf[256];

	setenv("HOME", "/home/ann", 1);
	dbops_state_dir("worlds", buf, sizeof(buf));
	if (geteuid() == 0)
		assert_string_equal(buf, "/var/lib/dbops/worlds");
	else
		assert_string_equal(buf, "/home/ann/.local/state/dbops/worlds");
}

static void test_paths_state_dir_fits_the_buffer(void **state)
{
	char buf[8];

	assert_ptr_equal(dbops_state_dir("worlds", buf, sizeof(buf)), buf);
	assert_int_equal(strlen(buf), sizeof(buf) - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths_state_dir_by_user),
		cmocka_unit_test(test_paths_state_dir_fits_the_buffer),
	};

	return cmocka_run_group_tests_name("paths", tests, NULL, NULL);
}
