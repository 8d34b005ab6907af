/*
 * test_event_store_pgarray - the binary arrays event-store sends
 * (utils/event-store/pgarray.c), byte for byte in array_recv()'s format;
 * the server reading them is tested by tests/event-store*.bats.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../utils/event-store/pgarray.h"

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void test_pgarray_header_and_uuids(void **state)
{
	static const unsigned char want[16] = { 0x6f, 0x8e, 0x2c, 0x1a,
						0x0d, 0x6b, 0x4e, 0x8f,
						0x9a, 0x51, 0x3c, 0x2b,
						0x7d, 0x4e, 0x5f, 0x60 };
	struct es_pgarray a;
	const unsigned char *p;
	int len;

	es_pgarray_init(&a, ES_OID_UUID);
	assert_true(
		es_pgarray_uuid(&a, "6f8e2c1a-0d6b-4e8f-9a51-3c2b7d4e5f60"));
	assert_true(
		es_pgarray_uuid(&a, "6F8E2C1A-0D6B-4E8F-9A51-3C2B7D4E5F60"));
	p = (const unsigned char *)es_pgarray_bytes(&a, &len);
	assert_int_equal(len, 20 + 2 * (4 + 16));
	assert_int_equal(be32(p), 1);	     /* one dimension */
	assert_int_equal(be32(p + 4), 0);    /* no NULL */
	assert_int_equal(be32(p + 8), 2950); /* uuid */
	assert_int_equal(be32(p + 12), 2);   /* two elements */
	assert_int_equal(be32(p + 16), 1);   /* from 1 */
	assert_int_equal(be32(p + 20), 16);
	assert_memory_equal(p + 24, want, 16);
	assert_memory_equal(p + 44, want, 16);
	es_pgarray_free(&a);
}

static void test_pgarray_bad_uuid_appends_nothing(void **state)
{
	struct es_pgarray a;
	int len;

	es_pgarray_init(&a, ES_OID_UUID);
	assert_false(
		es_pgarray_uuid(&a, "6f8e2c1a-0d6b-4e8f-9a51-3c2b7d4e5f6"));
	assert_false(
		es_pgarray_uuid(&a, "6f8e2c1a-0d6b-4e8f-9a51-3c2b7d4e5f6g"));
	assert_false(
		es_pgarray_uuid(&a, "6f8e2c1a0d6b-4e8f-9a51-3c2b7d4e5f60a"));
	assert_false(
		es_pgarray_uuid(&a, "6f8e2c1a-0d6b-4e8f-9a51-3c2b7d4e5f600"));
	es_pgarray_bytes(&a, &len);
	assert_int_equal(len, 20);
	es_pgarray_free(&a);
}

static void test_pgarray_times_counts_nulls(void **state)
{
	struct es_pgarray a;
	const unsigned char *p;
	int len;

	es_pgarray_init(&a, ES_OID_TIMESTAMPTZ);
	/* 2000-01-01 00:00:00.000001 UTC: PostgreSQL's epoch plus 1 us */
	es_pgarray_time(&a, INT64_C(946684800000001));
	/* 1970-01-01: before that epoch, negative */
	es_pgarray_time(&a, 0);
	es_pgarray_null(&a);
	p = (const unsigned char *)es_pgarray_bytes(&a, &len);
	assert_int_equal(len, 20 + 2 * 12 + 4);
	assert_int_equal(be32(p + 4), 1); /* a NULL */
	assert_int_equal(be32(p + 12), 3);
	assert_int_equal(be32(p + 20), 8);
	assert_int_equal(be32(p + 24), 0);
	assert_int_equal(be32(p + 28), 1);
	assert_int_equal(be32(p + 36),
			 (uint32_t)((uint64_t)-INT64_C(946684800000000) >> 32));
	assert_int_equal(be32(p + 40),
			 (uint32_t)(uint64_t)-INT64_C(946684800000000));
	assert_int_equal(be32(p + 44), 0xffffffffu); /* NULL: length -1 */
	es_pgarray_free(&a);

	es_pgarray_init(&a, ES_OID_INT8);
	es_pgarray_int8(&a, 258);
	p = (const unsigned char *)es_pgarray_bytes(&a, &len);
	assert_int_equal(be32(p + 8), 20);
	assert_int_equal(be32(p + 24), 0);
	assert_int_equal(be32(p + 28), 258);
	es_pgarray_free(&a);

	es_pgarray_init(&a, ES_OID_BOOL);
	es_pgarray_bool(&a, true);
	es_pgarray_text(&a, "ab", 2);
	p = (const unsigned char *)es_pgarray_bytes(&a, &len);
	assert_int_equal(len, 20 + 5 + 6);
	assert_int_equal(p[24], 1);
	assert_int_equal(be32(p + 25), 2);
	assert_memory_equal(p + 29, "ab", 2);
	es_pgarray_free(&a);
}

static void test_pgbinary_values(void **state)
{
	unsigned char b[8];
	const unsigned char minus_two[8] = { 0xff, 0xff, 0xff, 0xff,
					     0xff, 0xff, 0xff, 0xfe };

	/* PostgreSQL's epoch plus 1 us, and 1970 before it: both ways */
	es_pgbinary_time(INT64_C(946684800000001), b);
	assert_int_equal(be32(b), 0);
	assert_int_equal(be32(b + 4), 1);
	assert_int_equal(es_pgbinary_to_time(b), INT64_C(946684800000001));
	es_pgbinary_time(0, b);
	assert_int_equal(es_pgbinary_int8(b), -INT64_C(946684800000000));
	assert_int_equal(es_pgbinary_to_time(b), 0);
	/* an int8 of a row: big-endian, two's complement */
	assert_int_equal(es_pgbinary_int8(minus_two), -2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pgarray_header_and_uuids),
		cmocka_unit_test(test_pgarray_bad_uuid_appends_nothing),
		cmocka_unit_test(test_pgarray_times_counts_nulls),
		cmocka_unit_test(test_pgbinary_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
