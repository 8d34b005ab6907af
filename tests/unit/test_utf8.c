/*
 * test_utf8.c - unit tests for common/utf8.c: the strict definition
 * (table 3-7 of the Unicode standard) and cutting at a character's edge.
 */
#include "testutil.h"

#include "utf8.h"

static size_t seq(const char *s)
{
	return dbops_utf8_seq_len((const unsigned char *)s, strlen(s));
}

static void test_utf8_bad_sequences_are_refused(void **state)
{
	assert_int_equal(seq("\x80"), 0);	      /* lone continuation */
	assert_int_equal(seq("\xc0\xaf"), 0);	      /* overlong "/" */
	assert_int_equal(seq("\xc1\xbf"), 0);	      /* overlong */
	assert_int_equal(seq("\xe0\x80\xaf"), 0);     /* overlong */
	assert_int_equal(seq("\xed\xa0\x80"), 0);     /* surrogate D800 */
	assert_int_equal(seq("\xf0\x8f\xbf\xbf"), 0); /* overlong */
	assert_int_equal(seq("\xf4\x90\x80\x80"), 0); /* above U+10FFFF */
	assert_int_equal(seq("\xf5\x80\x80\x80"), 0);
	assert_int_equal(seq("\xff"), 0);
	assert_int_equal(seq("\xc3"), 0); /* cut short */
	assert_int_equal(seq("\xe6\x97"), 0);
	assert_int_equal(seq("\xc3\x41"), 0); /* no continuation */
}

static void test_utf8_good_sequences_have_their_length(void **state)
{
	assert_int_equal(seq("A"), 1);
	assert_int_equal(seq("\xc3\xa9"), 2);	      /* é */
	assert_int_equal(seq("\xe6\x97\xa5"), 3);     /* 日 */
	assert_int_equal(seq("\xed\x9f\xbf"), 3);     /* U+D7FF */
	assert_int_equal(seq("\xf0\x9f\x98\x80"), 4); /* 😀 */
	assert_int_equal(seq("\xf4\x8f\xbf\xbf"), 4); /* U+10FFFF */
}

static void test_utf8_valid_whole_strings(void **state)
{
	assert_true(dbops_utf8_valid("", 0));
	assert_true(dbops_utf8_valid("\xc3\xa9t\xc3\xa9", 5));
	assert_true(dbops_utf8_valid("a\0b", 3));
	assert_false(dbops_utf8_valid("caf\xe9", 4)); /* Latin-1 */
	assert_false(dbops_utf8_valid("\xc3\xa9\xc3", 3));
}

static void test_utf8_cut_keeps_whole_characters(void **state)
{
	const char *s = "a\xc3\xa9\xe6\x97\xa5";

	assert_int_equal(dbops_utf8_cut(s, 1), 1);
	assert_int_equal(dbops_utf8_cut(s, 2), 1); /* é started */
	assert_int_equal(dbops_utf8_cut(s, 3), 3);
	assert_int_equal(dbops_utf8_cut(s, 4), 3); /* 日 started */
	assert_int_equal(dbops_utf8_cut(s, 5), 3);
	assert_int_equal(dbops_utf8_cut(s, 6), 6);
	assert_int_equal(dbops_utf8_cut("\x80\x80", 2), 2);
}

static int width(const char *s)
{
	return dbops_utf8_width((const unsigned char *)s, strlen(s));
}

/* wcwidth() in C.UTF-8, whatever this process's locale (here C). */
static void test_utf8_width_is_terminal_columns(void **state)
{
	assert_int_equal(width("a"), 1);
	assert_int_equal(width("\xc3\xa9"), 1);		/* é */
	assert_int_equal(width("\xe5\xb1\xb1"), 2);	/* 山 */
	assert_int_equal(width("\xef\xbd\xb6"), 1);	/* halfwidth ｶ */
	assert_int_equal(width("\xef\xbc\xa1"), 2);	/* fullwidth Ａ */
	assert_int_equal(width("\xf0\x9f\x90\x89"), 2); /* 🐉 */
	assert_int_equal(width("\xf0\xa0\x80\x80"), 2); /* U+20000 */
	assert_int_equal(width("\xcc\x81"), 0);		/* combining acute */
	assert_int_equal(width("\xe2\x80\x8d"), 0);	/* ZWJ */
	assert_int_equal(width("\xef\xb8\x8f"), 0);	/* VS16 */
	assert_int_equal(width("\xc2\x85"), 1); /* C1: unknown to wcwidth */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_width_is_terminal_columns),
		cmocka_unit_test(test_utf8_bad_sequences_are_refused),
		cmocka_unit_test(test_utf8_good_sequences_have_their_length),
		cmocka_unit_test(test_utf8_valid_whole_strings),
		cmocka_unit_test(test_utf8_cut_keeps_whole_characters),
	};

	return cmocka_run_group_tests_name("utf8", tests, NULL, NULL);
}
