/*
 * test_event_store_range.c - unit tests for utils/event-store/range.c: how
 * a range is cut into raw, minute and hour segments, and its statement.
 */
#include "testutil.h"

#include "../../utils/event-store/range.h"
#include "../../utils/event-store/request.h"

static int64_t t(const char *text)
{
	int64_t us;

	if (es_time_parse(text, &us) != 0)
		fail_msg("bad time \"%s\"", text);
	return us;
}

/* The cut of [LOWER, UPPER) as text: "raw 10:00:30-10:01 minute ...". */
static void expect_cut(const char *lower, const char *upper, const char *want)
{
	static const char *const names[] = { "raw", "minute", "hour" };
	struct es_segment s[ES_SEGMENTS_MAX];
	int n = es_range_cut(t(lower), t(upper), s);
	char got[1024] = "", a[ES_TIME_LEN], b[ES_TIME_LEN];

	for (int i = 0; i < n; i++) {
		es_time_format(s[i].from, a);
		es_time_format(s[i].to, b);
		snprintf(got + strlen(got), sizeof(got) - strlen(got),
			 "%s%s %s-%s", i ? " | " : "", names[s[i].source],
			 a + 11, b + 11);
		assert_true(s[i].from < s[i].to);
		if (i > 0)
			assert_true(s[i - 1].to == s[i].from);
	}
	assert_string_equal(got, want);
}

static void test_range_empty(void **state)
{
	struct es_segment s[ES_SEGMENTS_MAX];

	assert_int_equal(es_range_cut(5, 5, s), 0);
	assert_int_equal(es_range_cut(6, 5, s), 0);
}

static void test_range_within_a_minute(void **state)
{
	expect_cut("2017-06-28 10:00:10", "2017-06-28 10:00:50",
		   "raw 10:00:10.000000-10:00:50.000000");
	expect_cut("2017-06-28 10:00:10", "2017-06-28 10:01:10",
		   "raw 10:00:10.000000-10:01:10.000000");
}

static void test_range_whole_minutes(void **state)
{
	expect_cut("2017-06-28 10:00", "2017-06-28 10:05",
		   "minute 10:00:00.000000-10:05:00.000000");
	expect_cut("2017-06-28 10:00:00.5", "2017-06-28 10:05:00.000001",
		   "raw 10:00:00.500000-10:01:00.000000 | "
		   "minute 10:01:00.000000-10:05:00.000000 | "
		   "raw 10:05:00.000000-10:05:00.000001");
	expect_cut("2017-06-28 10:30", "2017-06-28 11:59:59",
		   "minute 10:30:00.000000-11:59:00.000000 | "
		   "raw 11:59:00.000000-11:59:59.000000");
}

static void test_range_whole_hours(void **state)
{
	expect_cut("2017-06-28", "2017-06-29",
		   "hour 00:00:00.000000-00:00:00.000000");
	expect_cut("2017-06-28 09:59:30", "2017-06-28 12:00:30.25",
		   "raw 09:59:30.000000-10:00:00.000000 | "
		   "hour 10:00:00.000000-12:00:00.000000 | "
		   "raw 12:00:00.000000-12:00:30.250000");
	expect_cut("2017-06-28 09:58:30", "2017-06-28 12:02:30",
		   "raw 09:58:30.000000-09:59:00.000000 | "
		   "minute 09:59:00.000000-10:00:00.000000 | "
		   "hour 10:00:00.000000-12:00:00.000000 | "
		   "minute 12:00:00.000000-12:02:00.000000 | "
		   "raw 12:02:00.000000-12:02:30.000000");
}

static void test_range_floor_of_negative_times(void **state)
{
	assert_int_equal(es_range_floor(-1, ES_MINUTE_US), -ES_MINUTE_US);
	assert_int_equal(es_range_floor(-ES_HOUR_US, ES_HOUR_US), -ES_HOUR_US);
	assert_int_equal(es_range_floor(ES_HOUR_US + 5, ES_HOUR_US),
			 ES_HOUR_US);
}

static void test_range_slots(void **state)
{
	struct es_segment s[ES_SEGMENTS_MAX];
	int64_t b[2 * ES_RANGE_SLOTS];
	int n = es_range_cut(t("2017-06-28 09:58:30"), t("2017-06-28 12:02:30"),
			     s);

	/* raw, minutes, hours, minutes, raw: every slot filled */
	assert_int_equal(es_range_slots(s, n, b), 0x1f);
	assert_int_equal(b[0], t("2017-06-28 09:58:30"));
	assert_int_equal(b[1], t("2017-06-28 09:59:00"));
	assert_int_equal(b[2], t("2017-06-28 09:59:00"));
	assert_int_equal(b[3], t("2017-06-28 10:00:00"));
	assert_int_equal(b[4], t("2017-06-28 10:00:00"));
	assert_int_equal(b[5], t("2017-06-28 12:00:00"));
	assert_int_equal(b[6], t("2017-06-28 12:00:00"));
	assert_int_equal(b[7], t("2017-06-28 12:02:00"));
	assert_int_equal(b[8], t("2017-06-28 12:02:00"));
	assert_int_equal(b[9], t("2017-06-28 12:02:30"));
}

static void test_range_slots_left_empty(void **state)
{
	struct es_segment s[ES_SEGMENTS_MAX];
	int64_t b[2 * ES_RANGE_SLOTS];
	int n = es_range_cut(t("2017-06-28 09:58:30"), t("2017-06-28 10:00:10"),
			     s);

	/* raw, minutes, then the last raw slot: no hour, one minute run */
	assert_int_equal(n, 3);
	assert_int_equal(es_range_slots(s, n, b), 1 << 0 | 1 << 1 | 1 << 4);
	assert_int_equal(b[0], t("2017-06-28 09:58:30"));
	assert_int_equal(b[1], t("2017-06-28 09:59:00"));
	assert_int_equal(b[2], t("2017-06-28 09:59:00"));
	assert_int_equal(b[3], t("2017-06-28 10:00:00"));
	assert_int_equal(b[4], b[5]);
	assert_int_equal(b[6], b[7]);
	assert_int_equal(b[8], t("2017-06-28 10:00:00"));
	assert_int_equal(b[9], t("2017-06-28 10:00:10"));
}

static void test_range_slots_out_of_order(void **state)
{
	struct es_segment s[2] = { { ES_HOUR, 0, ES_HOUR_US },
				   { ES_HOUR, ES_HOUR_US, 2 * ES_HOUR_US } };
	int64_t b[2 * ES_RANGE_SLOTS];

	assert_int_equal(es_range_slots(s, 2, b), -1);
}

static void test_range_slots_of_whole_days(void **state)
{
	struct es_segment s[ES_SEGMENTS_MAX];
	int64_t b[2 * ES_RANGE_SLOTS];
	int n = es_range_cut(t("2017-06-28"), t("2017-06-30"), s);

	/* the hour slot alone */
	assert_int_equal(es_range_slots(s, n, b), 1 << 2);
	assert_int_equal(b[4], t("2017-06-28"));
	assert_int_equal(b[5], t("2017-06-30"));
}

static void test_range_sql(void **state)
{
	char *sql = es_range_sql("\"es\"", 0x1f);
	const char *raw1, *minute1, *hour, *minute2, *raw2;

	/* The five slots in order, each with its two parameters. */
	raw1 = strstr(sql,
		      "FROM \"es\".initial_events i LEFT JOIN"
		      " \"es\".followups f ON f.uuid = i.uuid WHERE"
		      " i.at >= $1::timestamptz AND i.at < $2::timestamptz");
	minute1 = strstr(sql, "FROM \"es\".rollups WHERE period = 'minute'"
			      " AND bucket >= $3::timestamptz AND bucket <"
			      " $4::timestamptz");
	hour = strstr(sql, "FROM \"es\".rollups WHERE period = 'hour'"
			   " AND bucket >= $5::timestamptz AND bucket <"
			   " $6::timestamptz");
	minute2 = strstr(sql, "FROM \"es\".rollups WHERE period = 'minute'"
			      " AND bucket >= $7::timestamptz AND bucket <"
			      " $8::timestamptz");
	raw2 = strstr(sql, "i.at >= $9::timestamptz AND i.at <"
			   " $10::timestamptz");
	assert_non_null(raw1);
	assert_non_null(minute1);
	assert_non_null(hour);
	assert_non_null(minute2);
	assert_non_null(raw2);
	assert_true(raw1 < minute1 && minute1 < hour && hour < minute2 &&
		    minute2 < raw2);
	/* The times as they are, read in binary. */
	assert_non_null(strstr(sql, "min(earliest), max(latest) FROM ("));
	assert_non_null(strstr(sql, "HAVING sum(events) > 0 ORDER BY symbol"));
	free(sql);
}

static void test_range_sql_reads_only_its_slots(void **state)
{
	char *hour = es_range_sql("\"es\"", 1 << 2);
	char *edges = es_range_sql("\"es\"", 1 << 1 | 1 << 4);

	/* One slot, numbered from $1; no UNION, no raw events. */
	assert_non_null(strstr(hour, "FROM \"es\".rollups WHERE period ="
				     " 'hour' AND bucket >= $1::timestamptz AND"
				     " bucket < $2::timestamptz) AS u"));
	assert_null(strstr(hour, "UNION"));
	assert_null(strstr(hour, "initial_events"));
	assert_null(strstr(hour, "$3"));
	/* Minutes then raw events, $1 to $4. */
	assert_non_null(strstr(edges, "period = 'minute' AND bucket >="
				      " $1::timestamptz AND bucket <"
				      " $2::timestamptz UNION ALL SELECT"
				      " i.symbol"));
	assert_non_null(strstr(edges, "i.at >= $3::timestamptz AND i.at <"
				      " $4::timestamptz) AS u"));
	assert_null(strstr(edges, "'hour'"));
	free(hour);
	free(edges);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_range_empty),
		cmocka_unit_test(test_range_within_a_minute),
		cmocka_unit_test(test_range_whole_minutes),
		cmocka_unit_test(test_range_whole_hours),
		cmocka_unit_test(test_range_floor_of_negative_times),
		cmocka_unit_test(test_range_slots),
		cmocka_unit_test(test_range_slots_left_empty),
		cmocka_unit_test(test_range_slots_out_of_order),
		cmocka_unit_test(test_range_slots_of_whole_days),
		cmocka_unit_test(test_range_sql),
		cmocka_unit_test(test_range_sql_reads_only_its_slots),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
