/*
 * test_timestamp.c - unit tests for common/timestamp.c: every form the
 * parser accepts and the instant it means, every rejection and its message,
 * local time across daylight saving changes, and both formats.
 *
 * Expected epochs were computed apart from this code, with GNU date(1)
 * ("date -u -d 2024-03-01T12:00:00Z +%s") and zdump(8) for the transitions.
 */
#include "testutil.h"

#include <time.h>

#include "timestamp.h"

#define SEC 1000000LL

/* 2024-03-01T12:00:00Z, the instant most cases below name. */
#define NOON_UTC 1709294400LL

#define FORMS                                                       \
	"expected a form such as 2024-03-01, 2024-03-01 12:00:00, " \
	"2024-03-01T12:00:00Z, 20240301T120000Z, "                  \
	"Sat Dec 05 10:08:34 2026 UTC or @1709294400"

static void set_tz(const char *tz)
{
	if (tz == NULL)
		unsetenv("TZ");
	else
		setenv("TZ", tz, 1);
	tzset();
}

static int64_t parse_ok(const char *text)
{
	struct dbops_err err = { "" };
	int64_t usec = -42;

	if (dbops_timestamp_parse(text, &usec, &err) != 0)
		fail_msg("\"%s\" rejected: %s", text, err.msg);
	return usec;
}

/* The parse fails with exactly msg, leaving the result alone. */
static void assert_rejected(const char *text, const char *msg)
{
	struct dbops_err err;
	int64_t usec = -42;

	memset(err.msg, 'x', sizeof(err.msg));
	if (dbops_timestamp_parse(text, &usec, &err) != -1)
		fail_msg("\"%s\" accepted as %lld", text, (long long)usec);
	assert_string_equal(err.msg, msg);
	assert_true(usec == -42);
}

static void assert_unrecognised(const char *text)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "unrecognised time \"%s\": %s", text, FORMS);
	assert_rejected(text, msg);
}

static void assert_parses(const char *text, int64_t usec)
{
	int64_t got = parse_ok(text);

	if (got != usec)
		fail_msg("\"%s\" gave %lld, expected %lld", text,
			 (long long)got, (long long)usec);
}

static void assert_formats(int64_t usec, const char *local, const char *utc)
{
	char buf[DBOPS_TIMESTAMP_LEN];

	if (local != NULL) {
		assert_int_equal(dbops_timestamp_format(usec, buf, sizeof(buf)),
				 strlen(local));
		assert_string_equal(buf, local);
	}
	if (utc != NULL) {
		assert_int_equal(
			dbops_timestamp_format_utc(usec, buf, sizeof(buf)),
			strlen(utc));
		assert_string_equal(buf, utc);
	}
}

static void test_timestamp_rejects_empty(void **state)
{
	struct dbops_err err;
	int64_t usec;

	set_tz("UTC");
	assert_rejected("", "empty time");
	assert_int_equal(dbops_timestamp_parse(NULL, &usec, &err), -1);
	assert_string_equal(err.msg, "empty time");
}

static void test_timestamp_rejects_garbage(void **state)
{
	set_tz("UTC");
	assert_unrecognised("foo");
	assert_unrecognised("yesterday");
	assert_unrecognised("2024/03/01");
	assert_unrecognised("01.03.2024");
	assert_unrecognised("12:00:00");
	assert_unrecognised("12024-03-01");
	assert_unrecognised("-2024-03-01");
	assert_unrecognised("2024-03-01T12:00:00.Z");
	assert_unrecognised("@+1709294400");
	assert_rejected("@1e9",
			"unrecognised time \"@1e9\": unexpected \"e9\" at "
			"the end");
}

static void test_timestamp_rejects_trailing_junk(void **state)
{
	set_tz("UTC");
	assert_rejected("2024-03-01x",
			"unrecognised time \"2024-03-01x\": unexpected \"x\" "
			"at the end");
	/* A zone after a space is one word. */
	assert_rejected("2024-03-01 12:00:00 UTC now",
			"unrecognised time \"2024-03-01 12:00:00 UTC now\": "
			"unexpected \" now\" at the end");
	assert_rejected("2024-03-01T12:00:00Z+01",
			"unrecognised time \"2024-03-01T12:00:00Z+01\": "
			"unexpected \"+01\" at the end");
	/* A zone belongs to a time of day, not to a bare date. */
	assert_rejected("2024-03-01Z", "unrecognised time \"2024-03-01Z\": "
				       "unexpected \"Z\" at the end");
	/* An offset after a space, and then another zone. */
	assert_rejected("2024-03-01 12:00:00 +02:00 UTC",
			"unrecognised time \"2024-03-01 12:00:00 +02:00 UTC\": "
			"unexpected \" UTC\" at the end");
	assert_rejected("2024-03-01 12:00:00Z UTC",
			"unrecognised time \"2024-03-01 12:00:00Z UTC\": "
			"unexpected \" UTC\" at the end");
	assert_unrecognised("2024-03-01 12:00:00  UTC");
	assert_unrecognised("2024-03-01 12:00:00 +");
	assert_unrecognised("2024-03-01 12:00:00 1UTC");
	/* A zone belongs to a time of day, not to a bare date. */
	assert_unrecognised("2024-03-01 UTC");
	assert_rejected("@1709294400s", "unrecognised time \"@1709294400s\": "
					"unexpected \"s\" at the end");
}

static void test_timestamp_rejects_surrounding_space(void **state)
{
	set_tz("UTC");
	assert_rejected(" 2024-03-01", "unrecognised time \" 2024-03-01\": "
				       "leading or trailing space");
	assert_rejected("2024-03-01 ", "unrecognised time \"2024-03-01 \": "
				       "leading or trailing space");
	/* A message stays one line (errbuf.h): the newline shows as a space. */
	assert_rejected("2024-03-01\n", "unrecognised time \"2024-03-01 \": "
					"leading or trailing space");
	assert_rejected(" ", "unrecognised time \" \": "
			     "leading or trailing space");
}

static void test_timestamp_rejects_partial(void **state)
{
	set_tz("UTC");
	assert_unrecognised("2024-03");
	assert_unrecognised("2024");
	assert_unrecognised("2024-03-");
	assert_unrecognised("202403");
	assert_unrecognised("2024030");
	assert_unrecognised("202403011");
	assert_unrecognised("2024-03-01T");
	assert_unrecognised("2024-03-01T12");
	assert_unrecognised("2024-03-01 12:");
	assert_unrecognised("2024-03-01 12:00:");
	assert_unrecognised("2024-03-01_12-00");
	assert_unrecognised("2024-03-01_12:00");
	assert_unrecognised("2024-03-01_12-00:00");
	assert_unrecognised("20240301T1200");
	assert_unrecognised("20240301T");
	assert_unrecognised("2024-03-01T12:00:00+");
	assert_unrecognised("2024-03-01T12:00:00+02:");
	assert_unrecognised("@");
	assert_unrecognised("@-");
	assert_unrecognised("@1.");
	assert_unrecognised("@.5");
}

static void test_timestamp_rejects_single_digit_fields(void **state)
{
	set_tz("UTC");
	assert_unrecognised("2024-3-1");
	assert_unrecognised("2024-03-1");
	assert_unrecognised("2024-3-01");
	assert_unrecognised("2024-03-01 1:00");
	assert_unrecognised("2024-03-01 12:0");
	assert_unrecognised("2024-03-01 12:00:0");
	assert_unrecognised("2024-03-01T12:00:00+2");
	assert_unrecognised("2024-03-01T12:00:00+02:0");
	assert_unrecognised("2024-03-01T12:00:00+020");
	assert_unrecognised("2024-03-001");
}

static void test_timestamp_rejects_fraction_after_minutes(void **state)
{
	set_tz("UTC");
	assert_unrecognised("2024-03-01 12:00.5");
	assert_rejected("2024-03-01.5", "unrecognised time \"2024-03-01.5\": "
					"unexpected \".5\" at the end");
}

static void test_timestamp_rejects_month_13(void **state)
{
	set_tz("UTC");
	assert_rejected("2024-13-01", "month 13 is out of range");
	assert_rejected("20241301T120000Z", "month 13 is out of range");
	assert_rejected("2024-00-10", "month 0 is out of range");
}

static void test_timestamp_rejects_feb_30(void **state)
{
	set_tz("UTC");
	assert_rejected("2024-02-30", "day 30 is out of range for 2024-02");
	assert_rejected("2024-04-31 12:00",
			"day 31 is out of range for 2024-04");
	assert_rejected("2024-03-00", "day 0 is out of range for 2024-03");
	assert_rejected("20240132", "day 32 is out of range for 2024-01");
}

static void test_timestamp_rejects_feb_29_in_2023(void **state)
{
	set_tz("UTC");
	assert_rejected("2023-02-29", "day 29 is out of range for 2023-02");
	assert_rejected("1900-02-29", "day 29 is out of range for 1900-02");
	assert_rejected("2100-02-29T00:00:00Z",
			"day 29 is out of range for 2100-02");
}

static void test_timestamp_rejects_hour_24(void **state)
{
	set_tz("UTC");
	assert_rejected("2024-03-01 24:00", "hour 24 is out of range");
	assert_rejected("20240301T240000Z", "hour 24 is out of range");
}

static void test_timestamp_rejects_minute_60(void **state)
{
	set_tz("UTC");
	assert_rejected("2024-03-01 12:60", "minute 60 is out of range");
	assert_rejected("2024-03-01_12-60-00", "minute 60 is out of range");
}

static void test_timestamp_rejects_second_60(void **state)
{
	set_tz("UTC");
	assert_rejected("2024-03-01 12:00:60", "second 60 is out of range");
	/* A real leap second, still refused: time_t has no room for it. */
	assert_rejected("2016-12-31T23:59:60Z", "second 60 is out of range");
}

static void test_timestamp_rejects_offset_16(void **state)
{
	set_tz("UTC");
	assert_rejected("2024-03-01T12:00:00+16:00",
			"offset +16:00 is out of range");
	assert_rejected("2024-03-01T12:00:00-1600",
			"offset -1600 is out of range");
	assert_rejected("2024-03-01 12:00+99", "offset +99 is out of range");
	assert_rejected("2024-03-01T12:00:00+05:60",
			"offset +05:60 is out of range");
}

static void test_timestamp_rejects_seven_fraction_digits(void **state)
{
	set_tz("UTC");
	assert_rejected("2024-03-01 12:00:00.1234567",
			"fraction .1234567 has more than 6 digits");
	assert_rejected("20240301T120000.0000000Z",
			"fraction .0000000 has more than 6 digits");
	assert_rejected("@1709294400.1234567",
			"fraction .1234567 has more than 6 digits");
}

static void test_timestamp_rejects_year_before_1000(void **state)
{
	set_tz("UTC");
	assert_rejected("0999-12-31", "year 0999 is out of range");
	assert_rejected("00010101T000000Z", "year 0001 is out of range");
}

static void test_timestamp_rejects_epoch_beyond_year_9999(void **state)
{
	set_tz("UTC");
	assert_rejected("@253402300800", "@253402300800 is beyond year 9999");
	assert_rejected("@99999999999999999999999999",
			"@99999999999999999999999999 is beyond year 9999");
	assert_rejected("@-377705116801",
			"@-377705116801 is before year -9999");
	assert_rejected("@-377705116800.000001",
			"@-377705116800.000001 is before year -9999");
	assert_parses("@253402300799.999999", 253402300799999999LL);
	assert_parses("@-377705116800", -377705116800LL * SEC);
}

/* Found by tests/fuzz/fuzz_timestamp.c: the fields were in range, the
 * instant was not, and its UTC form could not be read back. */
static void test_timestamp_rejects_text_beyond_year_9999_in_utc(void **state)
{
	set_tz("America/New_York");
	assert_rejected(
		"9999-12-31 23:59:59.999999-07:30",
		"9999-12-31 23:59:59.999999-07:30 is beyond year 9999 in UTC");
	assert_rejected("9999-12-31 23:00:00",
			"9999-12-31 23:00:00 is beyond year 9999 in UTC");
	assert_parses("9999-12-31 23:59:59.999999+00:00", 253402300799999999LL);
	assert_parses("9999-12-31 18:59:59", 253402300799LL * SEC);
}

static void test_timestamp_rejects_skipped_local_time(void **state)
{
	set_tz("Europe/Berlin");
	assert_rejected("2024-03-31 02:30",
			"2024-03-31 02:30:00 does not exist in time zone "
			"Europe/Berlin");
	assert_rejected("2024-03-31T02:00:00.5",
			"2024-03-31 02:00:00.5 does not exist in time zone "
			"Europe/Berlin");
	assert_rejected("20240331_025959",
			"2024-03-31 02:59:59 does not exist in time zone "
			"Europe/Berlin");

	set_tz(":America/New_York");
	assert_rejected("2024-03-10 02:30:00",
			"2024-03-10 02:30:00 does not exist in time zone "
			"America/New_York");

	/* Half an hour forward. */
	set_tz("Australia/Lord_Howe");
	assert_rejected("2024-10-06 02:15",
			"2024-10-06 02:15:00 does not exist in time zone "
			"Australia/Lord_Howe");

	/* Samoa skipped a whole day to cross the date line. */
	set_tz("Pacific/Apia");
	assert_rejected("2011-12-30",
			"2011-12-30 00:00:00 does not exist in time zone "
			"Pacific/Apia");
	assert_parses("2011-12-29 23:59:59", 1325239199LL * SEC);
	assert_parses("2011-12-31", 1325239200LL * SEC);
}

static void test_timestamp_error_not_wanted(void **state)
{
	int64_t usec;

	set_tz("UTC");
	assert_int_equal(dbops_timestamp_parse("foo", &usec, NULL), -1);
}

static void test_timestamp_accepts_every_form(void **state)
{
	static const struct {
		const char *text;
		int64_t sec;
	} cases[] = {
		{ "2024-03-01", 1709251200 },
		{ "2024-03-01 12:00", NOON_UTC },
		{ "2024-03-01 12:00:00", NOON_UTC },
		{ "2024-03-01T12:00:00", NOON_UTC },
		{ "2024-03-01t12:00:00", NOON_UTC },
		{ "2024-03-01T12:00", NOON_UTC },
		{ "2024-03-01T12:00:00Z", NOON_UTC },
		{ "20240301", 1709251200 },
		{ "20240301T120000", NOON_UTC },
		{ "20240301T120000Z", NOON_UTC },
		{ "20240301_120000", NOON_UTC },
		{ "20240301-120000", NOON_UTC },
		{ "2024-03-01_12-00-00", NOON_UTC },
		{ "2024-03-01_12:00:00", NOON_UTC },
		{ "@1709294400", NOON_UTC },
		{ "2024-02-29", 1709164800 },
		{ "2000-02-29", 951782400 },
		{ "1000-01-01T00:00:00Z", -30610224000 },
		{ "9999-12-31T23:59:59Z", 253402300799 },
		{ "1969-12-31 23:59:59", -1 },
	};

	set_tz("UTC");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_parses(cases[i].text, cases[i].sec * SEC);
}

static void test_timestamp_offsets(void **state)
{
	/* TZ plays no part once an offset is given. */
	set_tz("Europe/Berlin");
	assert_parses("2024-03-01T12:00:00Z", NOON_UTC * SEC);
	assert_parses("2024-03-01T12:00:00z", NOON_UTC * SEC);
	assert_parses("2024-03-01T12:00:00+00:00", NOON_UTC * SEC);
	assert_parses("2024-03-01T12:00:00-00", NOON_UTC * SEC);
	assert_parses("2024-03-01T12:00:00+02", 1709287200 * SEC);
	assert_parses("2024-03-01T12:00:00+02:00", 1709287200 * SEC);
	assert_parses("2024-03-01T12:00:00+0200", 1709287200 * SEC);
	assert_parses("2024-03-01 12:00+02:00", 1709287200 * SEC);
	assert_parses("2024-03-01T12:00:00-05", 1709312400 * SEC);
	assert_parses("2024-03-01T12:00:00-05:30", 1709314200 * SEC);
	assert_parses("2024-03-01T12:00:00+15:59", 1709236860 * SEC);
	assert_parses("2024-03-01T12:00:00-15:59", 1709351940 * SEC);
	assert_parses("20240301T120000+0200", 1709287200 * SEC);
	assert_parses("20240301T120000-05:30", 1709314200 * SEC);
	assert_parses("20240301_120000Z", NOON_UTC * SEC);
	assert_parses("20240301-120000-05", 1709312400 * SEC);
	assert_parses("2024-03-01_12-00-00+02:00", 1709287200 * SEC);
	assert_parses("2024-03-01_12:00:00Z", NOON_UTC * SEC);
	/* Across midnight and into the previous day. */
	assert_parses("2024-03-01T00:00:00+01", 1709247600 * SEC);
}

static void test_timestamp_fractions(void **state)
{
	set_tz("UTC");
	assert_parses("2024-03-01 12:00:00.1", NOON_UTC * SEC + 100000);
	assert_parses("2024-03-01 12:00:00.12", NOON_UTC * SEC + 120000);
	assert_parses("2024-03-01T12:00:00.123456", NOON_UTC * SEC + 123456);
	assert_parses("2024-03-01T12:00:00.000001Z", NOON_UTC * SEC + 1);
	assert_parses("2024-03-01T12:00:00.5+02:00", 1709287200 * SEC + 500000);
	assert_parses("20240301T120000.25Z", NOON_UTC * SEC + 250000);
	assert_parses("2024-03-01_12-00-00.114", NOON_UTC * SEC + 114000);
	assert_parses("1969-12-31T23:59:59.5Z", -500000);
}

static void test_timestamp_epoch(void **state)
{
	set_tz("Europe/Berlin");
	assert_parses("@1709294400", NOON_UTC * SEC);
	assert_parses("@1709294400.5", NOON_UTC * SEC + 500000);
	assert_parses("@0", 0);
	assert_parses("@-0", 0);
	assert_parses("@-1", -SEC);
	assert_parses("@-1.5", -1500000);
	assert_parses("@-0.000001", -1);
	assert_parses("@0001709294400", NOON_UTC * SEC);
}

static void test_timestamp_local_utc(void **state)
{
	set_tz("UTC");
	assert_parses("2024-03-01 12:00:00", NOON_UTC * SEC);
	set_tz("");
	assert_parses("2024-03-01 12:00:00", NOON_UTC * SEC);
}

static void test_timestamp_local_berlin(void **state)
{
	set_tz("Europe/Berlin");
	assert_parses("2024-01-15 12:00:00", 1705316400 * SEC); /* +01:00 */
	assert_parses("2024-07-15 12:00:00", 1721037600 * SEC); /* +02:00 */
	assert_parses("2024-03-01", 1709247600 * SEC);
	/* Either side of the spring gap. */
	assert_parses("2024-03-31 01:59:59", 1711846799 * SEC);
	assert_parses("2024-03-31 03:00:00", 1711846800 * SEC);
}

static void test_timestamp_local_new_york(void **state)
{
	set_tz("America/New_York");
	assert_parses("2024-01-15 12:00:00", 1705338000 * SEC); /* -05:00 */
	assert_parses("2024-07-15 12:00:00", 1721059200 * SEC); /* -04:00 */
	assert_parses("2024-03-01T07:00:00", NOON_UTC * SEC);
}

static void test_timestamp_local_kolkata(void **state)
{
	set_tz("Asia/Kolkata");
	assert_parses("2024-03-01 17:30", NOON_UTC * SEC);
}

static void test_timestamp_repeated_hour_is_the_earlier(void **state)
{
	set_tz("Europe/Berlin");
	/* Read a winter time first: glibc's mktime() would remember it. */
	assert_parses("2024-12-01 12:00", 1733050800 * SEC);
	assert_parses("2024-10-27 02:30", 1729989000 * SEC); /* +02:00 */
	assert_parses("2024-07-01 12:00", 1719828000 * SEC);
	assert_parses("2024-10-27 02:30", 1729989000 * SEC);
	assert_parses("2024-10-27 01:59:59", 1729987199 * SEC);
	assert_parses("2024-10-27 03:00:00", 1729994400 * SEC);
	/* The later instant is reached by giving its offset. */
	assert_parses("2024-10-27 02:30+01:00", (1729989000 + 3600) * SEC);

	set_tz("America/New_York");
	assert_parses("2024-11-03 01:30", 1730611800 * SEC); /* -04:00 */

	set_tz("Australia/Lord_Howe");
	assert_parses("2024-04-07 01:45", 1712414700 * SEC); /* +11:00 */
}

static void test_timestamp_format_in_zones(void **state)
{
	set_tz("UTC");
	assert_formats(NOON_UTC * SEC, "2024-03-01 12:00:00+00:00", NULL);
	set_tz("Europe/Berlin");
	assert_formats(NOON_UTC * SEC, "2024-03-01 13:00:00+01:00", NULL);
	assert_formats(1721037600 * SEC, "2024-07-15 12:00:00+02:00", NULL);
	assert_formats(1729989000 * SEC, "2024-10-27 02:30:00+02:00", NULL);
	assert_formats((1729989000 + 3600) * SEC, "2024-10-27 02:30:00+01:00",
		       NULL);
	/* Local mean time, before Germany kept zone time. */
	assert_formats(-5364662400 * SEC, "1800-01-01 00:53:28+00:53:28", NULL);
	set_tz("America/New_York");
	assert_formats(NOON_UTC * SEC, "2024-03-01 07:00:00-05:00", NULL);
	assert_formats(1721059200 * SEC, "2024-07-15 12:00:00-04:00", NULL);
	set_tz("Asia/Kolkata");
	assert_formats(NOON_UTC * SEC, "2024-03-01 17:30:00+05:30", NULL);
	assert_formats(NOON_UTC * SEC + 114000, "2024-03-01 17:30:00.114+05:30",
		       NULL);
	assert_formats(NOON_UTC * SEC + 1, "2024-03-01 17:30:00.000001+05:30",
		       NULL);
}

static void test_timestamp_format_utc(void **state)
{
	set_tz("Asia/Kolkata");
	assert_formats(NOON_UTC * SEC, NULL, "2024-03-01T12:00:00Z");
	assert_formats(NOON_UTC * SEC + 500000, NULL, "2024-03-01T12:00:00.5Z");
	assert_formats(NOON_UTC * SEC + 123456, NULL,
		       "2024-03-01T12:00:00.123456Z");
	assert_formats(0, NULL, "1970-01-01T00:00:00Z");
	assert_formats(-1, NULL, "1969-12-31T23:59:59.999999Z");
	assert_formats(-30610224000 * SEC, NULL, "1000-01-01T00:00:00Z");
	assert_formats(253402300799999999, NULL, "9999-12-31T23:59:59.999999Z");
	assert_formats(-377705116800 * SEC, NULL, "-9999-01-01T00:00:00Z");
	assert_formats(INT64_MAX, NULL, "294247-01-10T04:00:54.775807Z");
	assert_formats(INT64_MIN, NULL, "-290308-12-21T19:59:05.224192Z");
}

static void test_timestamp_format_needs_room(void **state)
{
	char buf[DBOPS_TIMESTAMP_LEN];

	set_tz("Asia/Kolkata");
	assert_int_equal(dbops_timestamp_format_utc(NOON_UTC * SEC, buf, 21),
			 20);
	assert_string_equal(buf, "2024-03-01T12:00:00Z");
	assert_int_equal(dbops_timestamp_format_utc(NOON_UTC * SEC, buf, 20),
			 0);
	assert_string_equal(buf, "");
	assert_int_equal(dbops_timestamp_format(NOON_UTC * SEC, buf, 26), 25);
	assert_string_equal(buf, "2024-03-01 17:30:00+05:30");
	assert_int_equal(dbops_timestamp_format(NOON_UTC * SEC, buf, 25), 0);
	assert_string_equal(buf, "");
	buf[0] = 'x';
	assert_int_equal(dbops_timestamp_format(NOON_UTC * SEC, buf, 0), 0);
	assert_int_equal(buf[0], 'x');
	/* The longest outputs still fit DBOPS_TIMESTAMP_LEN. */
	assert_true(dbops_timestamp_format(INT64_MIN + 1, buf, sizeof(buf)) >
		    0);
	assert_true(dbops_timestamp_format(INT64_MAX, buf, sizeof(buf)) > 0);
}

static void test_timestamp_round_trip(void **state)
{
	static const char *const zones[] = {
		"UTC",		"Europe/Berlin",       "America/New_York",
		"Asia/Kolkata", "Australia/Lord_Howe",
	};
	static const int64_t values[] = {
		NOON_UTC * SEC,
		NOON_UTC * SEC + 114000,
		NOON_UTC * SEC + 1,
		0,
		-1,
		1729989000 * SEC,	       /* Berlin 02:30, first time */
		(1729989000 + 3600) * SEC,     /* and second time */
		1711846799 * SEC + 999999,     /* Berlin, before the gap */
		1730611800 * SEC + 3600 * SEC, /* New York, second 01:30 */
		1712414700 * SEC + 1800 * SEC, /* Lord Howe, second 01:45 */
	};
	static const int64_t extremes[] = {
		-30610224000 * SEC, /* 1000-01-01 */
		-30610224000 * SEC + 1,
		253402300799999999, /* 9999-12-31 23:59:59.999999 */
	};
	char buf[DBOPS_TIMESTAMP_LEN];

	for (size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++) {
		set_tz(zones[z]);
		for (size_t i = 0; i < sizeof(values) / sizeof(values[0]);
		     i++) {
			assert_true(dbops_timestamp_format(values[i], buf,
							   sizeof(buf)) > 0);
			assert_parses(buf, values[i]);
			assert_true(dbops_timestamp_format_utc(
					    values[i], buf, sizeof(buf)) > 0);
			assert_parses(buf, values[i]);
		}
	}
	/*
	 * Far from today only in UTC: local mean time, before zone time,
	 * has offsets with seconds ("+00:53:28") that no form accepts.
	 */
	set_tz("UTC");
	for (size_t i = 0; i < sizeof(extremes) / sizeof(extremes[0]); i++) {
		assert_true(dbops_timestamp_format(extremes[i], buf,
						   sizeof(buf)) > 0);
		assert_parses(buf, extremes[i]);
		assert_true(dbops_timestamp_format_utc(extremes[i], buf,
						       sizeof(buf)) > 0);
		assert_parses(buf, extremes[i]);
	}
}

/* The server log's %m ("2024-03-01 11:58:02.123 UTC") and psql's forms:
 * a space, then UTC, GMT, UT or Z (any case), or an offset. TZ plays no
 * part. */
static void test_timestamp_spaced_utc(void **state)
{
	set_tz("America/New_York");
	assert_parses("2024-03-01 11:58:02.123 UTC",
		      (NOON_UTC - 118) * SEC + 123000);
	assert_parses("2024-03-01 12:00:00 UTC", NOON_UTC * SEC);
	assert_parses("2024-03-01 12:00 GMT", NOON_UTC * SEC);
	assert_parses("2024-03-01T12:00:00 utc", NOON_UTC * SEC);
	assert_parses("2024-03-01 12:00:00 UT", NOON_UTC * SEC);
	assert_parses("2024-03-01 12:00:00 Z", NOON_UTC * SEC);
	assert_parses("20240301T120000 UTC", NOON_UTC * SEC);
	assert_parses("2024-03-01 14:00:00 +02", NOON_UTC * SEC);
	assert_parses("2024-03-01 14:00:00 +02:00", NOON_UTC * SEC);
	assert_parses("2024-03-01 06:30:00.5 -05:30", NOON_UTC * SEC + 500000);
	assert_rejected("2024-03-01 12:00:00 +16",
			"offset +16 is out of range");
}

/* Zone names of the tz database, in their own zone whatever TZ says;
 * TZ is left as it was. Epochs from date -u -d 'TZ="Europe/Paris" ...'. */
static void test_timestamp_zone_names(void **state)
{
	set_tz("America/New_York");
	assert_parses("2024-03-01 13:00:00 Europe/Paris", NOON_UTC * SEC);
	/* Summer time: +02. */
	assert_parses("2024-07-01 14:00:00 Europe/Paris", 1719835200LL * SEC);
	assert_parses("2024-03-01 21:00:00.25 Asia/Tokyo",
		      NOON_UTC * SEC + 250000);
	assert_parses("2024-03-01 12:00:00 Etc/UTC", NOON_UTC * SEC);
	assert_parses("2024-03-01 07:00:00 Etc/GMT+5", NOON_UTC * SEC);
	/* The hour repeated in autumn: the earlier, summer time instant. */
	assert_parses("2024-10-27 02:30:00 Europe/Paris", 1729989000LL * SEC);
	assert_rejected("2024-03-31 02:30:00 Europe/Paris",
			"2024-03-31 02:30:00 does not exist in time zone "
			"Europe/Paris");
	assert_string_equal(getenv("TZ"), "America/New_York");
	/* TZ unset stays unset. */
	set_tz(NULL);
	assert_parses("2024-03-01 13:00:00 Europe/Paris", NOON_UTC * SEC);
	assert_null(getenv("TZ"));
}

static void test_timestamp_rejects_abbreviations_and_unknown_zones(void **state)
{
	set_tz("UTC");
	assert_rejected(
		"2024-03-01 12:00:00 EST",
		"time zone abbreviation \"EST\" is ambiguous (abbreviations other than UTC, GMT and Z mean different offsets in different places: IST is India, Ireland or Israel): give a zone name such as Europe/Paris or an offset such as +01:00");
	assert_rejected(
		"2024-03-01 12:00:00.5 CEST",
		"time zone abbreviation \"CEST\" is ambiguous (abbreviations other than UTC, GMT and Z mean different offsets in different places: IST is India, Ireland or Israel): give a zone name such as Europe/Paris or an offset such as +01:00");
	assert_rejected(
		"2024-03-01 12:00:00 Mars/Olympus",
		"unknown time zone \"Mars/Olympus\": no such zone in the tz database (a name such as Europe/Paris or America/New_York)");
	/* Never a path out of the tz database. */
	assert_rejected("2024-03-01 12:00:00 Europe/../../etc/passwd",
			"unrecognised time \"2024-03-01 12:00:00 "
			"Europe/../../etc/passwd\": unexpected "
			"\"../../etc/passwd\" at the end");
}

/* PostgreSQL's DateStyle "Postgres", as psql prints a timestamptz under it
 * (SET datestyle = postgres; SELECT now()). Epochs from date -u -d. */
static void test_timestamp_postgres_style(void **state)
{
	set_tz("America/New_York");
	assert_parses("Sat Dec 05 10:08:34.38 2026 UTC",
		      1796465314LL * SEC + 380000);
	assert_parses("Fri Mar 01 12:00:00 2024 UTC", NOON_UTC * SEC);
	assert_parses("fri mar 1 13:00 2024 Europe/Paris", NOON_UTC * SEC);
	assert_parses("Fri Mar 01 14:00:00 2024 +02", NOON_UTC * SEC);
	/* Without a zone: TZ's, like the other forms. */
	assert_parses("Fri Mar 01 07:00:00 2024", NOON_UTC * SEC);
	assert_rejected("Sat Mar 01 12:00:00 2024 UTC",
			"2024-03-01 is a Fri, not a Sat");
	assert_rejected("Fri Feb 30 12:00:00 2024 UTC",
			"day 30 is out of range for 2024-02");
	assert_unrecognised("Fri Mar 01 2024");
	assert_unrecognised("Fri Mrz 01 12:00:00 2024");
	assert_unrecognised("Friday Mar 01 12:00:00 2024");
	assert_unrecognised("Fri Mar 01 12:00:00+02 2024");
}

/* A time without a zone read in the zone a server's `timezone` names; one
 * with a zone keeps it. */
static void test_timestamp_parse_in_zone(void **state)
{
	struct dbops_err err = { "" };
	int64_t usec = 0;
	bool given = true;

	set_tz("America/New_York");
	assert_int_equal(dbops_timestamp_parse_in("2024-03-01 13:00:00",
						  "Europe/Paris", &usec, &given,
						  &err),
			 0);
	assert_true(usec == NOON_UTC * SEC);
	assert_false(given);
	assert_int_equal(dbops_timestamp_parse_in("2024-03-01 12:00:00 UTC",
						  "Europe/Paris", &usec, &given,
						  &err),
			 0);
	assert_true(usec == NOON_UTC * SEC);
	assert_true(given);
	/* A setting may be an abbreviation the tz database has as a zone. */
	assert_int_equal(dbops_timestamp_parse_in("2024-03-01 07:00:00", "EST",
						  &usec, NULL, &err),
			 0);
	assert_true(usec == NOON_UTC * SEC);
	assert_int_equal(dbops_timestamp_parse_in("2024-03-01 12:00:00", "UTC",
						  &usec, NULL, &err),
			 0);
	assert_true(usec == NOON_UTC * SEC);
	assert_int_equal(dbops_timestamp_parse_in("2024-03-31 02:30:00",
						  "Europe/Paris", &usec, NULL,
						  &err),
			 -1);
	assert_string_equal(
		err.msg,
		"2024-03-31 02:30:00 does not exist in time zone Europe/Paris");
	assert_string_equal(getenv("TZ"), "America/New_York");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timestamp_rejects_empty),
		cmocka_unit_test(
			test_timestamp_rejects_text_beyond_year_9999_in_utc),
		cmocka_unit_test(test_timestamp_rejects_garbage),
		cmocka_unit_test(test_timestamp_rejects_trailing_junk),
		cmocka_unit_test(test_timestamp_spaced_utc),
		cmocka_unit_test(test_timestamp_zone_names),
		cmocka_unit_test(test_timestamp_postgres_style),
		cmocka_unit_test(test_timestamp_parse_in_zone),
		cmocka_unit_test(
			test_timestamp_rejects_abbreviations_and_unknown_zones),
		cmocka_unit_test(test_timestamp_rejects_surrounding_space),
		cmocka_unit_test(test_timestamp_rejects_partial),
		cmocka_unit_test(test_timestamp_rejects_single_digit_fields),
		cmocka_unit_test(test_timestamp_rejects_fraction_after_minutes),
		cmocka_unit_test(test_timestamp_rejects_month_13),
		cmocka_unit_test(test_timestamp_rejects_feb_30),
		cmocka_unit_test(test_timestamp_rejects_feb_29_in_2023),
		cmocka_unit_test(test_timestamp_rejects_hour_24),
		cmocka_unit_test(test_timestamp_rejects_minute_60),
		cmocka_unit_test(test_timestamp_rejects_second_60),
		cmocka_unit_test(test_timestamp_rejects_offset_16),
		cmocka_unit_test(test_timestamp_rejects_seven_fraction_digits),
		cmocka_unit_test(test_timestamp_rejects_year_before_1000),
		cmocka_unit_test(test_timestamp_rejects_epoch_beyond_year_9999),
		cmocka_unit_test(test_timestamp_rejects_skipped_local_time),
		cmocka_unit_test(test_timestamp_error_not_wanted),
		cmocka_unit_test(test_timestamp_accepts_every_form),
		cmocka_unit_test(test_timestamp_offsets),
		cmocka_unit_test(test_timestamp_fractions),
		cmocka_unit_test(test_timestamp_epoch),
		cmocka_unit_test(test_timestamp_local_utc),
		cmocka_unit_test(test_timestamp_local_berlin),
		cmocka_unit_test(test_timestamp_local_new_york),
		cmocka_unit_test(test_timestamp_local_kolkata),
		cmocka_unit_test(test_timestamp_repeated_hour_is_the_earlier),
		cmocka_unit_test(test_timestamp_format_in_zones),
		cmocka_unit_test(test_timestamp_format_utc),
		cmocka_unit_test(test_timestamp_format_needs_room),
		cmocka_unit_test(test_timestamp_round_trip),
	};

	return cmocka_run_group_tests_name("timestamp", tests, NULL, NULL);
}
