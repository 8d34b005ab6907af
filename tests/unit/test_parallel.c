/*
 * test_parallel.c - unit tests for common/parallel.c: every item runs
 * once, on as many threads as asked, hooks run per thread, ticks see the
 * count grow.
 */
#include "testutil.h"

#include <pthread.h>
#include <stdatomic.h>

#include "clock.h"
#include "parallel.h"

#define ITEMS 200

static _Atomic int runs[ITEMS];
static _Atomic int running, most_running;
static _Atomic int starts, ends;
static size_t ticks_seen[1000];
static int nticks;

static void body(void *arg, size_t i)
{
	int now = atomic_fetch_add(&running, 1) + 1;
	int most = atomic_load(&most_running);

	while (now > most &&
	       !atomic_compare_exchange_weak(&most_running, &most, now))
		;
	atomic_fetch_add(&runs[i], 1);
	if (arg != NULL)
		dbops_clock_sleep_ms(*(int *)arg);
	atomic_fetch_sub(&running, 1);
}

static void thread_start(void)
{
	atomic_fetch_add(&starts, 1);
}

static void thread_end(void)
{
	atomic_fetch_add(&ends, 1);
}

static void tick(void *arg, size_t done)
{
	if (nticks < 1000)
		ticks_seen[nticks++] = done;
}

static int reset(void **state)
{
	for (int i = 0; i < ITEMS; i++)
		runs[i] = 0;
	running = most_running = starts = ends = 0;
	nticks = 0;
	return 0;
}

static void test_parallel_every_item_once(void **state)
{
	struct dbops_parallel p = { .count = ITEMS, .jobs = 8, .body = body };

	dbops_parallel_for(&p);
	for (int i = 0; i < ITEMS; i++)
		assert_int_equal(runs[i], 1);
}

static void
test_parallel_threads_at_most_jobs_and_hooks_per_thread(void **state)
{
	int ms = 5;
	struct dbops_parallel p = { .count = 20,
				    .jobs = 3,
				    .body = body,
				    .arg = &ms,
				    .thread_start = thread_start,
				    .thread_end = thread_end };

	dbops_parallel_for(&p);
	assert_true(most_running <= 3);
	assert_int_equal(starts, 3);
	assert_int_equal(ends, 3);
}

static _Atomic int arrived;

/* Each item waits for the others: it ends only if all run at once. */
static void rendezvous(void *arg, size_t i)
{
	int64_t give_up = dbops_clock_ms() + 30000;

	atomic_fetch_add(&arrived, 1);
	while (atomic_load(&arrived) < 4 && dbops_clock_ms() < give_up)
		dbops_clock_sleep_ms(1);
}

static void test_parallel_items_run_at_the_same_time(void **state)
{
	struct dbops_parallel p = { .count = 4, .jobs = 4, .body = rendezvous };

	arrived = 0;
	dbops_parallel_for(&p);
	assert_int_equal(arrived, 4);
}

static void test_parallel_no_more_threads_than_items(void **state)
{
	struct dbops_parallel p = { .count = 2,
				    .jobs = 50,
				    .body = body,
				    .thread_start = thread_start };

	dbops_parallel_for(&p);
	assert_int_equal(starts, 2);
}

static void test_parallel_ticks_end_with_all_done(void **state)
{
	int ms = 20;
	struct dbops_parallel p = { .count = 6,
				    .jobs = 2,
				    .body = body,
				    .arg = &ms,
				    .tick = tick,
				    .tick_ms = 5 };

	dbops_parallel_for(&p);
	assert_true(nticks >= 2);
	assert_int_equal(ticks_seen[nticks - 1], 6);
	for (int i = 1; i < nticks; i++)
		assert_true(ticks_seen[i] >= ticks_seen[i - 1]);
	assert_int_equal(ticks_seen[0] < 6, 1);
}

static void test_parallel_nothing_to_do(void **state)
{
	struct dbops_parallel p = { .count = 0,
				    .jobs = 4,
				    .body = body,
				    .thread_start = thread_start,
				    .tick = tick };

	dbops_parallel_for(&p);
	assert_int_equal(starts, 0);
	assert_int_equal(nticks, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_parallel_nothing_to_do, reset),
		cmocka_unit_test_setup(test_parallel_every_item_once, reset),
		cmocka_unit_test_setup(
			test_parallel_threads_at_most_jobs_and_hooks_per_thread,
			reset),
		cmocka_unit_test(test_parallel_items_run_at_the_same_time),
		cmocka_unit_test_setup(test_parallel_no_more_threads_than_items,
				       reset),
		cmocka_unit_test_setup(test_parallel_ticks_end_with_all_done,
				       reset),
	};

	return cmocka_run_group_tests_name("parallel", tests, NULL, NULL);
}
