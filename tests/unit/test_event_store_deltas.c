/*
 * test_event_store_deltas.c - unit tests for event-store's deltas.c: the
 * deltas text of a batch, strict parsing with the line named, formatting
 * and merging of per-symbol aggregates.
 */
#include "testutil.h"

#include "../../utils/event-store/deltas.h"

/* Parse TEXT, which must fail with exactly MESSAGE. */
static void refused(const char *text, const char *message)
{
	struct es_aggregate aggs[ES_SYMBOLS];
	struct dbops_err err = { "" };

	assert_int_equal(es_deltas_parse(text, aggs, &err), -1);
	assert_string_equal(err.msg, message);
}

static void test_deltas_parse_bad_symbol(void **state)
{
	refused("B 1 0 5 5", "line 1: symbol \"B\" is not one letter a-z");
	refused("ab 1 0 5 5", "line 1: symbol \"ab\" is not one letter a-z");
	refused(" a 1 0 5 5", "line 1: symbol \"\" is not one letter a-z");
	refused("a 1 0 5 5\n1 1 0 5 5",
		"line 2: symbol \"1\" is not one letter a-z");
}

static void test_deltas_parse_missing_fields(void **state)
{
	refused("a", "line 1: events count is missing");
	refused("a 1", "line 1: followups count is missing");
	refused("a 1 0", "line 1: earliest time is missing");
	refused("a 1 0 5", "line 1: latest time is missing");
	refused("a 1 0 5 ", "line 1: latest time is missing");
	refused("a  1 0 5 5", "line 1: events count is missing");
	refused("a 1 0 5 5 7", "line 1: text after the latest time");
	refused("a 1 0 5 5\tx",
		"line 1: latest time \"5\tx\" is not microseconds or \"-\"");
}

static void test_deltas_parse_bad_numbers(void **state)
{
	refused("a x 0 5 5", "line 1: events count \"x\" is not a number >= 0");
	refused("a -1 0 5 5",
		"line 1: events count \"-1\" is not a number >= 0");
	refused("a +1 0 5 5",
		"line 1: events count \"+1\" is not a number >= 0");
	refused("a 01 0 5 5",
		"line 1: events count \"01\" is not a number >= 0");
	refused("a 1 9223372036854775808 5 5",
		"line 1: followups count \"9223372036854775808\" is not a "
		"number >= 0");
	refused("a 1 0 5x 5",
		"line 1: earliest time \"5x\" is not microseconds or \"-\"");
	refused("a 1 0 -0 5",
		"line 1: earliest time \"-0\" is not microseconds or \"-\"");
	refused("a 1 0 -01 5",
		"line 1: earliest time \"-01\" is not microseconds or \"-\"");
	refused("a 1 0 -- 5",
		"line 1: earliest time \"--\" is not microseconds or \"-\"");
	refused("a 1 0 5 -9223372036854775808",
		"line 1: latest time \"-9223372036854775808\" is not "
		"microseconds or \"-\"");
}

static void test_deltas_parse_inconsistent(void **state)
{
	refused("a 0 0 - -", "line 1: no event and no follow-up");
	refused("a 0 1 5 5", "line 1: times must be \"-\" exactly when the "
			     "events count is 0");
	refused("a 1 1 - 5", "line 1: times must be \"-\" exactly when the "
			     "events count is 0");
	refused("a 2 0 6 5", "line 1: earliest time after latest time");
}

static void test_deltas_parse_bad_lines(void **state)
{
	refused("b 1 0 5 5\na 1 0 5 5",
		"line 2: symbol \"a\" after \"b\": lines must be in symbol "
		"order, each symbol once");
	refused("a 1 0 5 5\na 1 0 5 5",
		"line 2: symbol \"a\" after \"a\": lines must be in symbol "
		"order, each symbol once");
	refused("a 1 0 5 5\n", "line 2: empty line");
	refused("a 1 0 5 5\n\nb 1 0 5 5",
		"line 2: symbol \"\" is not one letter a-z");
	refused("\n", "line 1: symbol \"\" is not one letter a-z");
	refused("a 1 0 5 5\r\nb 1 0 5 5",
		"line 1: latest time \"5 \" is not microseconds or \"-\"");
}

static void test_deltas_parse_empty_is_nothing(void **state)
{
	struct es_aggregate aggs[ES_SYMBOLS];
	struct dbops_err err = { "" };

	assert_int_equal(es_deltas_parse("", aggs, &err), 0);
	for (int i = 0; i < ES_SYMBOLS; i++) {
		assert_int_equal(aggs[i].events, 0);
		assert_int_equal(aggs[i].followups, 0);
		assert_true(aggs[i].earliest_us == ES_TIME_NONE);
		assert_true(aggs[i].latest_us == ES_TIME_NONE);
	}
}

static void test_deltas_parse_lines(void **state)
{
	struct es_aggregate aggs[ES_SYMBOLS];
	struct dbops_err err = { "" };

	assert_int_equal(
		es_deltas_parse("a 3 1 1498678454486693 1498678454499012\n"
				"e 0 2 - -\n"
				"z 1 0 -5 -5",
				aggs, &err),
		0);
	assert_int_equal(aggs[0].events, 3);
	assert_int_equal(aggs[0].followups, 1);
	assert_true(aggs[0].earliest_us == 1498678454486693);
	assert_true(aggs[0].latest_us == 1498678454499012);
	assert_int_equal(aggs[4].events, 0);
	assert_int_equal(aggs[4].followups, 2);
	assert_true(aggs[4].earliest_us == ES_TIME_NONE);
	assert_true(aggs[4].latest_us == ES_TIME_NONE);
	assert_true(aggs[25].earliest_us == -5);
	assert_int_equal(aggs[1].events, 0);
	assert_true(aggs[1].latest_us == ES_TIME_NONE);
}

static void test_deltas_format_round_trip(void **state)
{
	struct es_aggregate aggs[ES_SYMBOLS], back[ES_SYMBOLS];
	struct dbops_err err = { "" };
	char buf[ES_DELTAS_MAX];

	es_aggregates_clear(aggs);
	assert_int_equal(es_deltas_format(aggs, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	es_aggregate_add_initial(aggs, es_symbol_index('e'), 20);
	es_aggregate_add_initial(aggs, es_symbol_index('e'), 10);
	es_aggregate_add_initial(aggs, es_symbol_index('e'), 30);
	es_aggregate_add_followup(aggs, es_symbol_index('e'));
	es_aggregate_add_followup(aggs, es_symbol_index('b'));
	assert_int_equal(es_deltas_format(aggs, buf, sizeof(buf)), 21);
	assert_string_equal(buf, "b 0 1 - -\ne 3 1 10 30");
	assert_int_equal(es_deltas_parse(buf, back, &err), 0);
	for (int i = 0; i < ES_SYMBOLS; i++)
		assert_true(es_aggregate_equal(&aggs[i], &back[i]));
	/* Too small a buffer: cut, and the length it needs. */
	assert_int_equal(es_deltas_format(aggs, buf, 5), 21);
	assert_string_equal(buf, "b 0 ");
}

static void test_deltas_format_largest_fits(void **state)
{
	struct es_aggregate aggs[ES_SYMBOLS], back[ES_SYMBOLS];
	struct dbops_err err = { "" };
	char buf[ES_DELTAS_MAX];
	size_t n;

	for (int i = 0; i < ES_SYMBOLS; i++) {
		aggs[i].events = INT64_MAX;
		aggs[i].followups = INT64_MAX;
		aggs[i].earliest_us = INT64_MIN + 1;
		aggs[i].latest_us = INT64_MAX;
	}
	n = es_deltas_format(aggs, buf, sizeof(buf));
	assert_true(n < sizeof(buf));
	assert_int_equal(strlen(buf), n);
	assert_int_equal(es_deltas_parse(buf, back, &err), 0);
	for (int i = 0; i < ES_SYMBOLS; i++)
		assert_true(es_aggregate_equal(&aggs[i], &back[i]));
}

static void test_deltas_merge(void **state)
{
	struct es_aggregate dst[ES_SYMBOLS], src[ES_SYMBOLS];

	es_aggregates_clear(dst);
	es_aggregates_clear(src);
	es_aggregate_add_initial(dst, 0, 100);
	es_aggregate_add_followup(dst, 1);
	es_aggregate_add_initial(src, 0, 50);
	es_aggregate_add_initial(src, 0, 70);
	es_aggregate_add_followup(src, 0);
	es_aggregate_add_initial(src, 1, 7);
	es_aggregate_add_followup(src, 2);
	es_aggregates_merge(dst, src);
	assert_int_equal(dst[0].events, 3);
	assert_int_equal(dst[0].followups, 1);
	assert_true(dst[0].earliest_us == 50);
	assert_true(dst[0].latest_us == 100);
	/* A symbol with follow-ups only takes the times of the other. */
	assert_int_equal(dst[1].events, 1);
	assert_int_equal(dst[1].followups, 1);
	assert_true(dst[1].earliest_us == 7 && dst[1].latest_us == 7);
	assert_int_equal(dst[2].events, 0);
	assert_int_equal(dst[2].followups, 1);
	assert_true(dst[2].earliest_us == ES_TIME_NONE);
	assert_int_equal(dst[3].events, 0);
}

static void test_deltas_equal_ignores_times_without_events(void **state)
{
	struct es_aggregate a = { 0, 2, ES_TIME_NONE, ES_TIME_NONE };
	struct es_aggregate b = { 0, 2, 5, 6 };
	struct es_aggregate c = { 1, 2, 5, 6 }, d = { 1, 2, 5, 7 };

	assert_true(es_aggregate_equal(&a, &b));
	assert_false(es_aggregate_equal(&c, &d));
	assert_false(es_aggregate_equal(&a, &c));
}

static void test_symbol_index(void **state)
{
	assert_int_equal(es_symbol_index('a'), 0);
	assert_int_equal(es_symbol_index('z'), 25);
	assert_int_equal(es_symbol_index('A'), -1);
	assert_int_equal(es_symbol_index('{'), -1);
	assert_int_equal(es_symbol_index(0), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deltas_parse_bad_symbol),
		cmocka_unit_test(test_deltas_parse_missing_fields),
		cmocka_unit_test(test_deltas_parse_bad_numbers),
		cmocka_unit_test(test_deltas_parse_inconsistent),
		cmocka_unit_test(test_deltas_parse_bad_lines),
		cmocka_unit_test(test_deltas_parse_empty_is_nothing),
		cmocka_unit_test(test_deltas_parse_lines),
		cmocka_unit_test(test_deltas_format_round_trip),
		cmocka_unit_test(test_deltas_format_largest_fits),
		cmocka_unit_test(test_deltas_merge),
		cmocka_unit_test(
			test_deltas_equal_ignores_times_without_events),
		cmocka_unit_test(test_symbol_index),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
