/*
 * test_snap_import_binary.c - unit tests for utils/snap-import/binary.c:
 * CSV records as COPY's binary format. The refusals first (each sends the
 * file as CSV), then the bytes of each type as its receive function reads
 * them, then records cut anywhere by the chunks.
 */
#include "testutil.h"

#include "../../utils/snap-import/binary.h"

/* The signature, flags and header extension: 19 bytes. */
#define HEAD 19

static const struct snap_dialect dialect = SNAP_DIALECT_DEFAULT;

/* Feeds S whole (at the end of the file) to B of the columns TYPES. */
static int feed(struct snap_bin *b, const enum snap_type *types, size_t n,
		const char *s)
{
	snap_bin_init(b, &dialect, n, types, true);
	return snap_bin_feed(b, s, strlen(s), true);
}

static void assert_refused(const enum snap_type *types, size_t n, const char *s,
			   const char *why)
{
	struct snap_bin b;

	assert_int_equal(feed(&b, types, n, s), -1);
	assert_string_equal(b.why, why);
	snap_bin_free(&b);
}

static void test_binary_refusals(void **state)
{
	const enum snap_type two[] = { SNAP_TYPE_INTEGER, SNAP_TYPE_TEXT };
	const enum snap_type num[] = { SNAP_TYPE_NUMERIC };
	const enum snap_type ts[] = { SNAP_TYPE_TIMESTAMPTZ };
	const enum snap_type one[] = { SNAP_TYPE_TEXT };
	struct snap_bin b;

	(void)state;
	assert_refused(two, 2, "a,b\n1,x,y\n",
		       "record 1 has more than 2 fields");
	assert_refused(two, 2, "a,b\n1\n", "record 1 has 1 fields, not 2");
	assert_refused(two, 2, "a,b\r\n1,x\n",
		       "record 1 ends its line differently");
	assert_refused(two, 2, "a,b\n1,\"x\n", "record 1 ends inside quotes");
	assert_refused(
		two, 2, "a,b\n007,x\n",
		"record 1, column 1: \"007\" is not how PostgreSQL prints type integer");
	assert_refused(
		two, 2, "a,b\n3000000000,x\n",
		"record 1, column 1: \"3000000000\" is not how PostgreSQL prints type integer");
	assert_refused(
		num, 1, "n\n1e-5\n",
		"record 1, column 1: \"1e-5\" is not how PostgreSQL prints type numeric");
	assert_refused(
		num, 1, "n\n-0\n",
		"record 1, column 1: \"-0\" is not how PostgreSQL prints type numeric");
	assert_refused(
		num, 1, "n\n\"\"\n",
		"record 1, column 1: \"\" is not how PostgreSQL prints type numeric");
	assert_refused(one, 1, "v\n\\.\n", "record 1 is \\.");
	/* Without an offset, only in UTC. */
	snap_bin_init(&b, &dialect, 1, ts, false);
	assert_int_equal(
		snap_bin_feed(&b, "t\n2024-01-01 10:00:00+01\n", 25, true), 0);
	snap_bin_free(&b);
	snap_bin_init(&b, &dialect, 1, ts, false);
	assert_int_equal(
		snap_bin_feed(&b, "t\n2024-01-01 10:00:00\n", 22, true), -1);
	assert_string_equal(
		b.why,
		"record 1, column 1: \"2024-01-01 10:00:00\" has no offset and the time zone is not UTC");
	snap_bin_free(&b);
}

static void test_binary_sql_types(void **state)
{
	enum snap_type t;

	(void)state;
	assert_true(snap_bin_type("timestamptz", &t));
	assert_int_equal(t, SNAP_TYPE_TIMESTAMPTZ);
	assert_true(snap_bin_type("text", &t));
	assert_int_equal(t, SNAP_TYPE_TEXT);
	assert_false(snap_bin_type("smallint", &t));
	assert_false(snap_bin_type("timestamp", &t));
	assert_false(snap_bin_type("varchar(3)", &t));
}

/* The bytes of one record of one column holding S. */
static void assert_value(enum snap_type type, const char *s,
			 const unsigned char *want, size_t n)
{
	struct snap_bin b;
	char in[256];

	snprintf(in, sizeof(in), "c\n%s\n", s);
	assert_int_equal(feed(&b, &type, 1, in), 0);
	/* The header, the field count, the value, the trailer (-1). */
	assert_int_equal(b.len, HEAD + 2 + n + 2);
	assert_memory_equal(b.out, "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0", HEAD);
	assert_memory_equal(b.out + HEAD, "\0\1", 2);
	assert_memory_equal(b.out + HEAD + 2, want, n);
	assert_memory_equal(b.out + HEAD + 2 + n, "\377\377", 2);
	snap_bin_free(&b);
}

static void test_binary_values(void **state)
{
	(void)state;
	assert_value(SNAP_TYPE_TEXT, "08123",
		     (const unsigned char *)"\0\0\0\00508123", 9);
	assert_value(SNAP_TYPE_TEXT, "\"\"", (const unsigned char *)"\0\0\0\0",
		     4);
	assert_value(SNAP_TYPE_TEXT, "",
		     (const unsigned char *)"\377\377\377\377", 4);
	assert_value(SNAP_TYPE_TEXT, "\"a\"\"b\"",
		     (const unsigned char *)"\0\0\0\3a\"b", 7);
	assert_value(SNAP_TYPE_BOOLEAN, "true",
		     (const unsigned char *)"\0\0\0\1\1", 5);
	assert_value(SNAP_TYPE_INTEGER, "-2147483648",
		     (const unsigned char *)"\0\0\0\4\200\0\0\0", 8);
	assert_value(SNAP_TYPE_BIGINT, "-1",
		     (const unsigned char
			      *)"\0\0\0\10\377\377\377\377\377\377\377\377",
		     12);
	/* 1.50: one digit 1 at weight 0, then 5000; dscale 2. */
	assert_value(
		SNAP_TYPE_NUMERIC, "1.50",
		(const unsigned char *)"\0\0\0\14\0\2\0\0\0\0\0\2\0\1\023\210",
		16);
	/* 0.00: no digits, dscale 2. */
	assert_value(SNAP_TYPE_NUMERIC, "0.00",
		     (const unsigned char *)"\0\0\0\10\0\0\0\0\0\0\0\2", 12);
	/* -0.0001: digit 1 at weight -1, negative, dscale 4. */
	assert_value(
		SNAP_TYPE_NUMERIC, "-0.0001",
		(const unsigned char *)"\0\0\0\12\0\1\377\377\100\0\0\4\0\1",
		14);
	/* 100000000: digit 1 at weight 2, trailing zero digits dropped. */
	assert_value(SNAP_TYPE_NUMERIC, "100000000",
		     (const unsigned char *)"\0\0\0\12\0\1\0\2\0\0\0\0\0\1",
		     14);
	/* Days and microseconds since 2000-01-01. */
	assert_value(SNAP_TYPE_DATE, "2000-01-01",
		     (const unsigned char *)"\0\0\0\4\0\0\0\0", 8);
	assert_value(SNAP_TYPE_DATE, "1999-12-31",
		     (const unsigned char *)"\0\0\0\4\377\377\377\377", 8);
	/* 0001-01-01 is 730119 days before: -730119 = 0xFFF4DBF9. */
	assert_value(SNAP_TYPE_DATE, "0001-01-01",
		     (const unsigned char *)"\0\0\0\4\377\364\333\371", 8);
	/* 2000-01-01 00:00:01.5+00:30 is -1798.5 s: -1798500000 us. */
	assert_value(SNAP_TYPE_TIMESTAMPTZ, "2000-01-01 00:00:01.5+00:30",
		     (const unsigned char
			      *)"\0\0\0\10\377\377\377\377\224\315\021\140",
		     12);
}

/* A file fed in chunks of every size gives the bytes it gives whole. */
static void test_binary_chunks(void **state)
{
	const enum snap_type types[] = { SNAP_TYPE_INTEGER, SNAP_TYPE_TEXT,
					 SNAP_TYPE_NUMERIC };
	const char *files[] = {
		"a,b,c\n1,\"x,\"\"y\"\"\nz\",1.5\n2,,\n3,\"\",10\n",
		"a,b,c\r\n1,\"x\r\ny\",1.5\r\n2,plain,0.25\r\n",
		"a,b,c\r1,x,1\r2,\"\"\"\",2\r",
		"a,b,c\n1,no line end,3",
	};
	struct snap_bin whole, part;

	(void)state;
	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		size_t len = strlen(files[f]);

		assert_int_equal(feed(&whole, types, 3, files[f]), 0);
		for (size_t step = 1; step < len; step++) {
			unsigned char *got = NULL;
			size_t got_len = 0;

			snap_bin_init(&part, &dialect, 3, types, true);
			for (size_t off = 0; off < len; off += step) {
				size_t n = off + step < len ? step : len - off;

				assert_int_equal(
					snap_bin_feed(&part, files[f] + off, n,
						      off + n == len),
					0);
				got = realloc(got, got_len + part.len);
				memcpy(got + got_len, part.out, part.len);
				got_len += part.len;
				part.len = 0;
			}
			assert_int_equal(got_len, whole.len);
			assert_memory_equal(got, whole.out, whole.len);
			free(got);
			snap_bin_free(&part);
		}
		snap_bin_free(&whole);
	}
}

/* Binary COPY's record numbers as the lines COPY's CSV mode names: the
 * last line of each record, line ends in quotes of the first line's kind
 * counted. */
static void test_binary_csv_lines(void **state)
{
	const enum snap_type types[] = { SNAP_TYPE_INTEGER, SNAP_TYPE_TEXT };
	struct snap_bin b;

	(void)state;
	assert_int_equal(feed(&b, types, 2,
			      "a,b\n1,\"x\ny\"\n2,z\n3,\"p\nq\nr\"\n4,s\n"),
			 0);
	assert_int_equal(snap_bin_csv_line(&b, 1), 3);
	assert_int_equal(snap_bin_csv_line(&b, 2), 4);
	assert_int_equal(snap_bin_csv_line(&b, 3), 7);
	assert_int_equal(snap_bin_csv_line(&b, 4), 8);
	snap_bin_free(&b);
	assert_int_equal(feed(&b, types, 2, "a,b\r\n1,\"x\r\ny\"\r\n2,z\r\n"),
			 0);
	assert_int_equal(snap_bin_csv_line(&b, 2), 4);
	snap_bin_free(&b);
	/* A CR in quotes is not counted in a file of LF lines. */
	assert_int_equal(feed(&b, types, 2, "a,b\n1,\"x\ry\"\n2,z\n"), 0);
	assert_int_equal(snap_bin_csv_line(&b, 2), 3);
	snap_bin_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_binary_refusals),
		cmocka_unit_test(test_binary_sql_types),
		cmocka_unit_test(test_binary_values),
		cmocka_unit_test(test_binary_chunks),
		cmocka_unit_test(test_binary_csv_lines),
	};

	return cmocka_run_group_tests_name("snap_import_binary", tests, NULL,
					   NULL);
}
