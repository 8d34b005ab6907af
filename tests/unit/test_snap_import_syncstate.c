/*
 * test_snap_import_syncstate.c - sync's rules: when a file is complete
 * (renamed in, or quiet for the settle period by observation or by its
 * own times), what a change is, which failures pass, the backoff, and
 * the table of files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../utils/snap-import/syncstate.h"

#define S  1000000LL	/* a second in microseconds */
#define NS 1000000000LL /* ... in nanoseconds */

/* A file of SIZE bytes last changed at CHANGED (wall clock, seconds). */
static struct snap_fstat file(int64_t size, int64_t changed)
{
	struct snap_fstat f = { .dev = 1,
				.ino = 42,
				.size = size,
				.mtime_ns = changed * NS,
				.ctime_ns = changed * NS };
	return f;
}

static void test_settled_after_quiet_period_observed(void **state)
{
	struct snap_fentry e = { 0 };
	struct snap_fstat f = file(10, 1000);
	int64_t wait;

	/* Its times are now (wall 1000 s): only watching tells. */
	snap_fentry_observe(&e, &f, 50 * S);
	assert_false(snap_fentry_settled(&e, 50 * S, 1000 * NS, 5 * S, &wait));
	assert_int_equal(wait, 5 * S);
	assert_false(snap_fentry_settled(&e, 53 * S, 1003 * NS, 5 * S, &wait));
	assert_int_equal(wait, 2 * S);
	assert_true(snap_fentry_settled(&e, 55 * S, 1005 * NS, 5 * S, &wait));
}

static void test_a_change_restarts_the_quiet_period(void **state)
{
	struct snap_fentry e = { 0 };
	struct snap_fstat f = file(10, 1000), g = file(20, 1004);
	int64_t wait;

	assert_true(snap_fentry_observe(&e, &f, 50 * S));
	assert_false(snap_fentry_observe(&e, &f, 52 * S));
	assert_true(snap_fentry_observe(&e, &g, 54 * S));
	assert_false(snap_fentry_settled(&e, 56 * S, 1006 * NS, 5 * S, &wait));
	assert_int_equal(wait, 3 * S);
	assert_true(snap_fentry_settled(&e, 59 * S, 1009 * NS, 5 * S, &wait));
}

static void test_old_file_settled_at_once(void **state)
{
	struct snap_fentry e = { 0 };
	struct snap_fstat f = file(10, 100);
	int64_t wait;

	/* Changed 900 s ago, by its ctime: no need to watch it. */
	snap_fentry_observe(&e, &f, 50 * S);
	assert_true(snap_fentry_settled(&e, 50 * S, 1000 * NS, 5 * S, &wait));
}

static void test_old_mtime_recent_ctime_waits(void **state)
{
	struct snap_fentry e = { 0 };
	struct snap_fstat f = file(10, 100);
	int64_t wait;

	/* cp -p, touch -d: the mtime is old, the ctime tells the truth. */
	f.ctime_ns = 999 * NS;
	snap_fentry_observe(&e, &f, 50 * S);
	assert_false(snap_fentry_settled(&e, 50 * S, 1000 * NS, 5 * S, &wait));
	assert_int_equal(wait, 4 * S);
}

static void test_future_times_do_not_count(void **state)
{
	struct snap_fentry e = { 0 };
	struct snap_fstat f = file(10, 5000);
	int64_t wait;

	snap_fentry_observe(&e, &f, 50 * S);
	assert_false(snap_fentry_settled(&e, 51 * S, 1000 * NS, 5 * S, &wait));
	assert_true(snap_fentry_settled(&e, 55 * S, 1004 * NS, 5 * S, &wait));
}

static void test_moved_in_is_complete_until_changed(void **state)
{
	struct snap_fentry e = { 0 };
	struct snap_fstat f = file(10, 1000), g = file(11, 1000);
	int64_t wait;

	snap_fentry_observe(&e, &f, 50 * S);
	e.moved = true;
	assert_true(snap_fentry_settled(&e, 50 * S, 1000 * NS, 5 * S, &wait));
	snap_fentry_observe(&e, &g, 51 * S);
	assert_false(e.moved);
	assert_false(snap_fentry_settled(&e, 51 * S, 1001 * NS, 5 * S, &wait));
}

static void test_settle_zero(void **state)
{
	struct snap_fentry e = { 0 };
	struct snap_fstat f = file(10, 1000);
	int64_t wait;

	snap_fentry_observe(&e, &f, 50 * S);
	assert_true(snap_fentry_settled(&e, 50 * S, 1000 * NS, 0, &wait));
}

static void test_fstat_changes(void **state)
{
	struct snap_fstat a = file(10, 1000), b = a;

	assert_true(snap_fstat_same(&a, &b));
	assert_false(snap_fstat_content_changed(&a, &b));
	b.ctime_ns++; /* chmod, a link: not the content */
	assert_false(snap_fstat_same(&a, &b));
	assert_false(snap_fstat_content_changed(&a, &b));
	b.size = 11; /* appended */
	assert_true(snap_fstat_content_changed(&a, &b));
	b = a;
	b.mtime_ns++; /* rewritten in place, same size */
	assert_true(snap_fstat_content_changed(&a, &b));
	b.ino = 43; /* another file of that name */
	assert_false(snap_fstat_content_changed(&a, &b));
}

static void test_failure_kinds(void **state)
{
	/* Passing: the connection, cancel, lock timeout, disk full ... */
	assert_true(snap_failure_passes(NULL, false));
	assert_true(snap_failure_passes("08006", true));
	assert_true(snap_failure_passes("57014", true));
	assert_true(snap_failure_passes("57P01", true));
	assert_true(snap_failure_passes("55P03", true));
	assert_true(snap_failure_passes("55006", true));
	assert_true(snap_failure_passes("53100", true));
	assert_true(snap_failure_passes("53300", true));
	assert_true(snap_failure_passes("40P01", true));
	assert_true(snap_failure_passes("58030", true));
	/* ... the content's: bad data, a header that does not fit, ours. */
	assert_false(snap_failure_passes("22P02", true));
	assert_false(snap_failure_passes("22003", true));
	assert_false(snap_failure_passes("23502", true));
	assert_false(snap_failure_passes("42703", true));
	assert_false(snap_failure_passes("55000", true));
	assert_false(snap_failure_passes("", true));
	assert_false(snap_failure_passes(NULL, true));
	assert_false(snap_failure_passes("08", true));
}

static void test_backoff(void **state)
{
	int d = 0, seen[10];

	for (int i = 0; i < 10; i++)
		seen[i] = d = snap_backoff_next(d);
	assert_int_equal(seen[0], 1);
	assert_int_equal(seen[1], 2);
	assert_int_equal(seen[4], 16);
	assert_int_equal(seen[5], 32);
	assert_int_equal(seen[6], 60);
	assert_int_equal(seen[9], 60);
}

static void test_table(void **state)
{
	struct snap_ftable t;
	struct snap_fentry **list;
	size_t n;
	char name[32];

	snap_ftable_init(&t);
	for (int i = 999; i >= 0; i--) {
		snprintf(name, sizeof(name), "f%03d.csv", i);
		assert_non_null(snap_ftable_add(&t, name));
	}
	assert_int_equal(t.count, 1000);
	assert_ptr_equal(snap_ftable_add(&t, "f500.csv"),
			 snap_ftable_get(&t, "f500.csv"));
	assert_int_equal(t.count, 1000);
	snap_ftable_get(&t, "f007.csv")->state = SNAP_F_FAILED;
	snap_ftable_get(&t, "f003.csv")->state = SNAP_F_FAILED;
	assert_int_equal(snap_ftable_count(&t, SNAP_F_FAILED), 2);
	list = snap_ftable_list(&t, 1u << SNAP_F_FAILED, &n);
	assert_int_equal(n, 2);
	assert_string_equal(list[0]->name, "f003.csv");
	assert_string_equal(list[1]->name, "f007.csv");
	free(list);
	list = snap_ftable_list(&t, 0, &n);
	assert_int_equal(n, 1000);
	for (size_t i = 1; i < n; i++)
		assert_true(strcmp(list[i - 1]->name, list[i]->name) < 0);
	free(list);
	snap_ftable_remove(&t, "f003.csv");
	snap_ftable_remove(&t, "nope.csv");
	assert_null(snap_ftable_get(&t, "f003.csv"));
	assert_int_equal(t.count, 999);
	snap_ftable_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_settled_after_quiet_period_observed),
		cmocka_unit_test(test_a_change_restarts_the_quiet_period),
		cmocka_unit_test(test_old_file_settled_at_once),
		cmocka_unit_test(test_old_mtime_recent_ctime_waits),
		cmocka_unit_test(test_future_times_do_not_count),
		cmocka_unit_test(test_moved_in_is_complete_until_changed),
		cmocka_unit_test(test_settle_zero),
		cmocka_unit_test(test_fstat_changes),
		cmocka_unit_test(test_failure_kinds),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
