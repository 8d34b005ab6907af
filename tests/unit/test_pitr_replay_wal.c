/*
 * test_pitr_replay_wal.c - unit tests for utils/pitr-replay/wal.c: LSN
 * text (PostgreSQL's %X/%X) both ways and what it refuses, segment file
 * names for 16 MB, 1 GB and 1 MB segments both ways, the valid segment
 * sizes, the page magic of each major version, and TimestampTz printed as
 * PostgreSQL prints it.
 */
#include "testutil.h"

#include "../../utils/pitr-replay/wal.h"

/* ---- LSNs ---------------------------------------------------------------- */

static void assert_lsn_round_trip(lsn_t lsn, const char *text)
{
	char buf[LSN_TEXT];
	lsn_t back = 0;

	assert_string_equal(pitr_lsn_format(lsn, buf), text);
	assert_int_equal(pitr_lsn_parse(text, &back), 0);
	assert_true(back == lsn);
}

static void test_wal_lsn_format_and_parse(void **state)
{
	assert_lsn_round_trip(0, "0/0");
	assert_lsn_round_trip(0x16B3748, "0/16B3748");
	assert_lsn_round_trip(0x100000000ULL, "1/0");
	assert_lsn_round_trip(0x2A00000028ULL, "2A/28");
	assert_lsn_round_trip(0xFFFFFFFFULL, "0/FFFFFFFF");
	assert_lsn_round_trip(0xFFFFFFFF00000000ULL, "FFFFFFFF/0");
	/* The longest text fills LSN_TEXT exactly, with its NUL. */
	assert_lsn_round_trip(UINT64_MAX, "FFFFFFFF/FFFFFFFF");
	assert_int_equal(strlen("FFFFFFFF/FFFFFFFF") + 1, LSN_TEXT);
}

static void test_wal_lsn_format_returns_buf(void **state)
{
	char buf[LSN_TEXT];

	assert_ptr_equal(pitr_lsn_format(0x4000448, buf), buf);
	assert_string_equal(buf, "0/4000448");
}

static void test_wal_lsn_parse_accepts(void **state)
{
	lsn_t lsn = 0;

	/* Either case, leading zeros up to eight digits a side. */
	assert_int_equal(pitr_lsn_parse("aBc/dEf", &lsn), 0);
	assert_true(lsn == (0xABCULL << 32 | 0xDEF));
	assert_int_equal(pitr_lsn_parse("00000000/00000001", &lsn), 0);
	assert_true(lsn == 1);
	assert_int_equal(pitr_lsn_parse("0/4000448", &lsn), 0);
	assert_true(lsn == 0x4000448);
	assert_int_equal(pitr_lsn_parse("ffffffff/ffffffff", &lsn), 0);
	assert_true(lsn == UINT64_MAX);
}

static void test_wal_lsn_parse_rejects(void **state)
{
	static const char *const bad[] = {
		"",	"0/",	       "/1",	      "/",    "G/1",
		"1/G",	"123456789/0", "0/123456789", "1/2x", "1/2 ",
		" 1/2", "1//2",	       "1/2/3",	      "+1/2", "-1/2",
		"1/-2", "0x1/2",       "1 /2",	      "1/ 2", "12",
		"1\\2", "1/2\n",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		lsn_t lsn = 0x1234;

		if (pitr_lsn_parse(bad[i], &lsn) != -1)
			fail_msg("pitr_lsn_parse(\"%s\") accepted it", bad[i]);
		/* A refused text leaves the output alone. */
		assert_true(lsn == 0x1234);
	}
}

static void test_wal_lsn_round_trip_many(void **state)
{
	uint64_t x = 0x243F6A8885A308D3ULL;

	for (int i = 0; i < 2000; i++) {
		char buf[LSN_TEXT];
		lsn_t back;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		/* Small, medium and full-width values. */
		lsn_t lsn = i % 3 == 0 ? x >> 40 : i % 3 == 1 ? x >> 20 : x;
		assert_int_equal(
			pitr_lsn_parse(pitr_lsn_format(lsn, buf), &back), 0);
		assert_true(back == lsn);
	}
}

static void test_wal_lsn_segno(void **state)
{
	assert_int_equal(lsn_segno(0x4000448, 16u << 20), 4);
	assert_int_equal(lsn_segno(0x3FFFFFF, 16u << 20), 3);
	assert_int_equal(lsn_segno(0x100000000ULL, 16u << 20), 256);
	assert_int_equal(lsn_segno(0x100000000ULL, 1u << 30), 4);
	assert_int_equal(lsn_segno(0x1FFFFF, 1u << 20), 1);
}

/* ---- segment names ------------------------------------------------------- */

static void assert_name_round_trip(uint32_t tli, uint64_t segno,
				   uint32_t seg_size, const char *name)
{
	char buf[25];
	uint32_t tli_back = 0;
	uint64_t segno_back = 0;

	pitr_wal_segment_name(tli, segno, seg_size, buf);
	assert_string_equal(buf, name);
	assert_int_equal(pitr_wal_parse_segment_name(name, seg_size, &tli_back,
						     &segno_back),
			 0);
	assert_int_equal(tli_back, tli);
	assert_true(segno_back == segno);
}

static void test_wal_segment_name_16mb(void **state)
{
	uint32_t s = 16u << 20; /* 256 segments a "log" */

	assert_name_round_trip(1, 0, s, "000000010000000000000000");
	assert_name_round_trip(1, 1, s, "000000010000000000000001");
	assert_name_round_trip(1, 0xFF, s, "0000000100000000000000FF");
	assert_name_round_trip(1, 0x100, s, "000000010000000100000000");
	assert_name_round_trip(1, 0x1FF, s, "0000000100000001000000FF");
	assert_name_round_trip(2, lsn_segno(0x4000448, s), s,
			       "000000020000000000000004");
	assert_name_round_trip(0xABCDEF12, 0x12345678ULL * 256 + 0x9A, s,
			       "ABCDEF12123456780000009A");
	assert_name_round_trip(0xFFFFFFFF, 0xFFFFFFFFULL * 256 + 0xFF, s,
			       "FFFFFFFFFFFFFFFF000000FF");
}

static void test_wal_segment_name_1gb(void **state)
{
	uint32_t s = 1u << 30; /* 4 segments a "log" */

	assert_name_round_trip(1, 0, s, "000000010000000000000000");
	assert_name_round_trip(1, 3, s, "000000010000000000000003");
	assert_name_round_trip(1, 4, s, "000000010000000100000000");
	assert_name_round_trip(1, 5, s, "000000010000000100000001");
	assert_name_round_trip(3, 0x400 + 2, s, "000000030000010000000002");
	assert_name_round_trip(1, lsn_segno(0x2A00000028ULL, s), s,
			       "000000010000002A00000000");
}

static void test_wal_segment_name_1mb(void **state)
{
	uint32_t s = 1u << 20; /* 4096 segments a "log" */

	assert_name_round_trip(1, 1, s, "000000010000000000000001");
	assert_name_round_trip(1, 0xFFF, s, "000000010000000000000FFF");
	assert_name_round_trip(1, 0x1000, s, "000000010000000100000000");
}

static void test_wal_parse_segment_name_suffix_and_rejects(void **state)
{
	uint32_t tli = 0;
	uint64_t segno = 0;

	/* Whatever follows the 24 digits is the caller's business. */
	assert_int_equal(
		pitr_wal_parse_segment_name("000000020000000000000005.partial",
					    16u << 20, &tli, &segno),
		0);
	assert_int_equal(tli, 2);
	assert_int_equal(segno, 5);
	assert_int_equal(
		pitr_wal_parse_segment_name("00000001000000000000000A.gz",
					    16u << 20, &tli, &segno),
		0);
	assert_int_equal(segno, 10);

	static const char *const bad[] = {
		"",
		"00000001000000000000000", /* 23 digits */
		"00000001000000000000000a", /* lower case, as PostgreSQL refuses */
		"0000000100000000000000G1",
		"0000000100000000 0000001",
		"00000002.history",
		"X00000010000000000000001",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tli = 77;
		if (pitr_wal_parse_segment_name(bad[i], 16u << 20, &tli,
						&segno) != -1)
			fail_msg("\"%s\" parsed as a segment name", bad[i]);
		assert_int_equal(tli, 77);
	}
}

static void test_wal_valid_seg_size(void **state)
{
	for (uint32_t s = 1u << 20; s <= 1u << 30 && s != 0; s <<= 1)
		assert_true(pitr_wal_valid_seg_size(s));
	assert_false(pitr_wal_valid_seg_size(0));
	assert_false(pitr_wal_valid_seg_size(1));
	assert_false(pitr_wal_valid_seg_size(8192));
	assert_false(pitr_wal_valid_seg_size(1u << 19));
	assert_false(pitr_wal_valid_seg_size((1u << 20) - 1));
	assert_false(pitr_wal_valid_seg_size((1u << 20) + 1));
	assert_false(pitr_wal_valid_seg_size(3u << 20));
	assert_false(pitr_wal_valid_seg_size((16u << 20) + 8192));
	assert_false(pitr_wal_valid_seg_size(1u << 31));
	assert_false(pitr_wal_valid_seg_size(UINT32_MAX));
}

/* ---- page magic ---------------------------------------------------------- */

static void test_wal_major_for_magic(void **state)
{
	assert_int_equal(pitr_wal_major_for_magic(0xD106), 13);
	assert_int_equal(pitr_wal_major_for_magic(0xD10D), 14);
	assert_int_equal(pitr_wal_major_for_magic(0xD110), 15);
	assert_int_equal(pitr_wal_major_for_magic(0xD113), 16);
	assert_int_equal(pitr_wal_major_for_magic(0xD116), 17);
	/* 12, 11, 18, unreleased values, byte-swapped 17, nothing. */
	assert_int_equal(pitr_wal_major_for_magic(0xD101), 0);
	assert_int_equal(pitr_wal_major_for_magic(0xD098), 0);
	assert_int_equal(pitr_wal_major_for_magic(0xD118), 0);
	assert_int_equal(pitr_wal_major_for_magic(0xD114), 0);
	assert_int_equal(pitr_wal_major_for_magic(0x16D1), 0);
	assert_int_equal(pitr_wal_major_for_magic(0), 0);
	assert_int_equal(pitr_wal_major_for_magic(0xFFFF), 0);
}

static void test_wal_magic_for_major(void **state)
{
	for (int major = 13; major <= 17; major++)
		assert_int_equal(pitr_wal_major_for_magic(
					 pitr_wal_magic_for_major(major)),
				 major);
	assert_int_equal(pitr_wal_magic_for_major(15), 0xD110);
	assert_int_equal(pitr_wal_magic_for_major(12), 0);
	assert_int_equal(pitr_wal_magic_for_major(18), 0);
	assert_int_equal(pitr_wal_magic_for_major(0), 0);
	assert_int_equal(pitr_wal_magic_for_major(-1), 0);
}

/* ---- TimestampTz ---------------------------------------------------------- */

static const char *fmt(int64_t pg_us)
{
	static char buf[PG_TIME_TEXT];

	memset(buf, 'x', sizeof(buf));
	return pitr_pg_time_format(pg_us, buf);
}

static void test_wal_pg_time_epoch(void **state)
{
	assert_string_equal(fmt(0), "2000-01-01 00:00:00+00");
	assert_string_equal(fmt(1000000), "2000-01-01 00:00:01+00");
	assert_string_equal(fmt(86400LL * 1000000), "2000-01-02 00:00:00+00");
}

static void test_wal_pg_time_fraction_trimmed(void **state)
{
	assert_string_equal(fmt(500000), "2000-01-01 00:00:00.5+00");
	assert_string_equal(fmt(120000), "2000-01-01 00:00:00.12+00");
	assert_string_equal(fmt(1), "2000-01-01 00:00:00.000001+00");
	assert_string_equal(fmt(100), "2000-01-01 00:00:00.0001+00");
	assert_string_equal(fmt(999999), "2000-01-01 00:00:00.999999+00");
	assert_string_equal(fmt(61000010), "2000-01-01 00:01:01.00001+00");
}

static void test_wal_pg_time_real_value(void **state)
{
	/* 2024-03-01 11:58:02.114203 UTC */
	int64_t unix_s = 1709294282;
	int64_t pg = (unix_s - PG_EPOCH_UNIX_SECONDS) * 1000000LL + 114203;

	assert_string_equal(fmt(pg), "2024-03-01 11:58:02.114203+00");
	assert_string_equal(fmt(pg - 114203), "2024-03-01 11:58:02+00");
	/* Leap day and year end. */
	assert_string_equal(fmt(unix_us_to_pg_time(951782400LL * 1000000)),
			    "2000-02-29 00:00:00+00");
	assert_string_equal(
		fmt(unix_us_to_pg_time(1735689599LL * 1000000 + 900000)),
		"2024-12-31 23:59:59.9+00");
}

static void test_wal_pg_time_negative(void **state)
{
	/* Before 2000: the fraction still counts forward from the second. */
	assert_string_equal(fmt(-1), "1999-12-31 23:59:59.999999+00");
	assert_string_equal(fmt(-500000), "1999-12-31 23:59:59.5+00");
	assert_string_equal(fmt(-1000000), "1999-12-31 23:59:59+00");
	assert_string_equal(fmt(-1500000), "1999-12-31 23:59:58.5+00");
	/* Before the Unix epoch as well. */
	int64_t unix0 = -PG_EPOCH_UNIX_SECONDS * 1000000LL;
	assert_string_equal(fmt(unix0), "1970-01-01 00:00:00+00");
	assert_string_equal(fmt(unix0 - 1), "1969-12-31 23:59:59.999999+00");
	assert_string_equal(fmt(unix0 - 250000), "1969-12-31 23:59:59.75+00");
	assert_string_equal(fmt(unix0 - 86400LL * 1000000),
			    "1969-12-31 00:00:00+00");
}

static void test_wal_pg_time_conversions(void **state)
{
	assert_int_equal(pg_time_to_unix_us(0), 946684800000000LL);
	assert_int_equal(unix_us_to_pg_time(946684800000000LL), 0);
	assert_int_equal(unix_us_to_pg_time(pg_time_to_unix_us(-123456789)),
			 -123456789);
}

/* ---- fuzzing reproducers (../shared/qa/fuzz.md) --------------------------- */

/* Finding 8, pitrtext-segment-name-out-of-range-part.bin: the low 8 digits
 * of a name must be below the segments per 4 GB, else the name is no
 * segment's and would alias another. */
static void test_wal_fuzz_segment_name_out_of_range_part(void **state)
{
	uint32_t tli = 0;
	uint64_t segno = 0;
	char buf[25];

	assert_int_equal(pitr_wal_parse_segment_name("FFFFFFFFFFFFFFFFFFFFFFFF",
						     1u << 30, &tli, &segno),
			 -1);
	/* 1 GB: 4 per 4 GB, parts 0 to 3. */
	assert_int_equal(pitr_wal_parse_segment_name("000000010000000000000004",
						     1u << 30, &tli, &segno),
			 -1);
	assert_int_equal(pitr_wal_parse_segment_name("FFFFFFFFFFFFFFFF00000003",
						     1u << 30, &tli, &segno),
			 0);
	assert_true(tli == 0xFFFFFFFFu);
	assert_true(segno == 0xFFFFFFFFULL * 4 + 3);
	pitr_wal_segment_name(tli, segno, 1u << 30, buf);
	assert_string_equal(buf, "FFFFFFFFFFFFFFFF00000003");
	/* 16 MB: 0 to 0xFF; 1 MB: 0 to 0xFFF. */
	assert_int_equal(pitr_wal_parse_segment_name("000000010000000000000100",
						     16u << 20, &tli, &segno),
			 -1);
	assert_int_equal(pitr_wal_parse_segment_name("0000000100000000000000FF",
						     16u << 20, &tli, &segno),
			 0);
	assert_true(segno == 0xFF);
	assert_int_equal(pitr_wal_parse_segment_name("000000010000000000001000",
						     1u << 20, &tli, &segno),
			 -1);
	assert_int_equal(pitr_wal_parse_segment_name("000000010000000100000FFF",
						     1u << 20, &tli, &segno),
			 0);
	assert_true(segno == 0x1000 + 0xFFF);
}

/* Finding 4, wal-UB-wal.h99-pg_time_format-overflow-*.bin: times of commit
 * and restore point records near INT64_MAX overflowed in
 * pg_time_to_unix_us(). PostgreSQL prints INT64_MAX and INT64_MIN as
 * infinity and refuses times outside its range. */
static void test_wal_fuzz_pg_time_extremes(void **state)
{
	assert_string_equal(fmt(INT64_MAX), "infinity");
	assert_string_equal(fmt(INT64_MIN), "-infinity");
	/* The fuzzer's value, in PostgreSQL's range but past where
	 * microseconds since 1970 fit; the hand-built commit time, beyond. */
	assert_string_equal(fmt(9223091209350067675LL),
			    "294268-02-15 20:22:30.067675+00");
	assert_string_equal(fmt(9223372036854775552LL),
			    "out-of-range time 9223372036854775552");
	assert_string_equal(fmt(INT64_MAX - 1000),
			    "out-of-range time 9223372036854774807");
	assert_string_equal(fmt(INT64_MIN + 1),
			    "out-of-range time -9223372036854775807");
	assert_string_equal(fmt(PG_MIN_TIMESTAMP - 1),
			    "out-of-range time -211813488000000001");
	/* The last time PostgreSQL prints. */
	assert_string_equal(fmt(PG_END_TIMESTAMP - 1),
			    "294276-12-31 23:59:59.999999+00");
	assert_string_equal(fmt(PG_END_TIMESTAMP),
			    "out-of-range time 9223371331200000000");
	/* The conversions saturate. */
	assert_true(pg_time_to_unix_us(INT64_MAX - 5) == INT64_MAX);
	assert_true(unix_us_to_pg_time(INT64_MIN + 5) == INT64_MIN);
}

/* Years before 1 AD, as PostgreSQL prints them: "4714-11-24 ... BC", not
 * the astronomical year strftime gives ("-4713"). Found by
 * fuzz_pitr_replay_walnames. */
static void test_wal_pg_time_bc(void **state)
{
	/* 1 AD starts 730119 days before 2000-01-01 (proleptic Gregorian). */
	int64_t ad1 = -730119LL * 86400 * 1000000;

	assert_string_equal(fmt(PG_MIN_TIMESTAMP), "4714-11-24 00:00:00+00 BC");
	assert_string_equal(fmt(PG_MIN_TIMESTAMP + 1500000),
			    "4714-11-24 00:00:01.5+00 BC");
	assert_string_equal(fmt(ad1), "0001-01-01 00:00:00+00");
	assert_string_equal(fmt(ad1 - 1), "0001-12-31 23:59:59.999999+00 BC");
	assert_string_equal(fmt(ad1 - 366LL * 86400 * 1000000),
			    "0001-01-01 00:00:00+00 BC");
	assert_string_equal(fmt(ad1 - 367LL * 86400 * 1000000),
			    "0002-12-31 00:00:00+00 BC");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wal_lsn_format_and_parse),
		cmocka_unit_test(test_wal_pg_time_bc),
		cmocka_unit_test(test_wal_lsn_format_returns_buf),
		cmocka_unit_test(test_wal_lsn_parse_accepts),
		cmocka_unit_test(test_wal_lsn_parse_rejects),
		cmocka_unit_test(test_wal_lsn_round_trip_many),
		cmocka_unit_test(test_wal_lsn_segno),
		cmocka_unit_test(test_wal_segment_name_16mb),
		cmocka_unit_test(test_wal_segment_name_1gb),
		cmocka_unit_test(test_wal_segment_name_1mb),
		cmocka_unit_test(
			test_wal_parse_segment_name_suffix_and_rejects),
		cmocka_unit_test(test_wal_valid_seg_size),
		cmocka_unit_test(test_wal_major_for_magic),
		cmocka_unit_test(test_wal_magic_for_major),
		cmocka_unit_test(test_wal_pg_time_epoch),
		cmocka_unit_test(test_wal_pg_time_fraction_trimmed),
		cmocka_unit_test(test_wal_pg_time_real_value),
		cmocka_unit_test(test_wal_pg_time_negative),
		cmocka_unit_test(test_wal_pg_time_conversions),
		cmocka_unit_test(test_wal_fuzz_segment_name_out_of_range_part),
		cmocka_unit_test(test_wal_fuzz_pg_time_extremes),
	};

	return cmocka_run_group_tests_name("pitr-replay wal", tests, NULL,
					   NULL);
}
