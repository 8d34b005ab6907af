/*
 * test_pitr_replay_preflight.c - unit tests for pitr_control_limits() in
 * utils/pitr-replay/preflight.c: the five limits recovery needs, read from
 * the head of a pg_control file of PostgreSQL 13 to 17 (ControlFileData:
 * pg_control_version at byte 8, MaxConnections and the four after it from
 * byte 180, as `pg_controldata` of PostgreSQL 13, 15 and 17 shows them).
 */
#include "testutil.h"

#include <stdint.h>

#include "../../utils/pitr-replay/preflight.h"
#include "data/pg_control_heads.h"

/* A pg_control head of VERSION with the limits V (5 ints). */
static void control_of(unsigned char *buf, uint32_t version, const int32_t *v)
{
	memset(buf, 0, PG_CONTROL_HEAD);
	memcpy(buf + 8, &version, 4);
	memcpy(buf + 180, v, 5 * sizeof(int32_t));
}

static void test_control_limits_too_short(void **state)
{
	unsigned char buf[PG_CONTROL_HEAD];
	const int32_t v[5] = { 100, 8, 10, 0, 64 };
	struct pitr_limits lim;

	(void)state;
	control_of(buf, 1300, v);
	assert_int_equal(pitr_control_limits(buf, 8, &lim), -1);
	assert_int_equal(pitr_control_limits(buf, 199, &lim), -1);
	assert_int_equal(pitr_control_limits(buf, 200, &lim), 0);
}

static void test_control_limits_other_versions(void **state)
{
	unsigned char buf[PG_CONTROL_HEAD];
	const int32_t v[5] = { 100, 8, 10, 0, 64 };
	struct pitr_limits lim;

	(void)state;
	control_of(buf, 1201, v); /* PostgreSQL 12 */
	assert_int_equal(pitr_control_limits(buf, sizeof(buf), &lim), -1);
	control_of(buf, 1800, v); /* a later one, of another layout maybe */
	assert_int_equal(pitr_control_limits(buf, sizeof(buf), &lim), -1);
}

static void test_control_limits_implausible_value(void **state)
{
	unsigned char buf[PG_CONTROL_HEAD];
	const int32_t neg[5] = { 100, 8, -1, 0, 64 };
	const int32_t huge[5] = { 100, 8, 10, 0, 1 << 24 };
	struct pitr_limits lim;

	(void)state;
	control_of(buf, 1300, neg);
	assert_int_equal(pitr_control_limits(buf, sizeof(buf), &lim), -1);
	control_of(buf, 1300, huge);
	assert_int_equal(pitr_control_limits(buf, sizeof(buf), &lim), -1);
}

static void test_control_limits_pg13_to_16(void **state)
{
	unsigned char buf[PG_CONTROL_HEAD];
	const int32_t v[5] = { 150, 8, 4, 10, 64 };
	struct pitr_limits lim;

	(void)state;
	control_of(buf, 1300, v);
	assert_int_equal(pitr_control_limits(buf, sizeof(buf), &lim), 0);
	for (int i = 0; i < PITR_LIMITS; i++)
		assert_int_equal(lim.value[i], v[i]);
	assert_string_equal(pitr_limit_names[0], "max_connections");
	assert_string_equal(pitr_limit_names[3], "max_prepared_transactions");
	assert_string_equal(pitr_limit_names[4], "max_locks_per_transaction");
}

static void test_control_limits_pg17(void **state)
{
	unsigned char buf[PG_CONTROL_HEAD];
	const int32_t v[5] = { 300, 16, 10, 0, 128 };
	struct pitr_limits lim;

	(void)state;
	control_of(buf, 1700, v);
	assert_int_equal(pitr_control_limits(buf, sizeof(buf), &lim), 0);
	assert_int_equal(lim.value[0], 300);
	assert_int_equal(lim.value[1], 16);
	assert_int_equal(lim.value[4], 128);
}

/* Real pg_control files of PostgreSQL 13 and 17, as pg_controldata reads
 * them (data/pg_control_heads.h). */
static void test_control_limits_real_pg13_and_pg17(void **state)
{
	const int32_t want[5] = { 123, 9, 7, 5, 77 };
	const unsigned char *heads[] = { pg13_control_head, pg17_control_head };
	struct pitr_limits lim;

	(void)state;
	for (int h = 0; h < 2; h++) {
		assert_int_equal(pitr_control_limits(heads[h], 256, &lim), 0);
		for (int i = 0; i < PITR_LIMITS; i++)
			assert_int_equal(lim.value[i], want[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_control_limits_too_short),
		cmocka_unit_test(test_control_limits_other_versions),
		cmocka_unit_test(test_control_limits_implausible_value),
		cmocka_unit_test(test_control_limits_pg13_to_16),
		cmocka_unit_test(test_control_limits_pg17),
		cmocka_unit_test(test_control_limits_real_pg13_and_pg17),
	};

	return cmocka_run_group_tests_name("pitr-replay preflight", tests, NULL,
					   NULL);
}
