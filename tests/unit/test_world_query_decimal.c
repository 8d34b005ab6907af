/*
 * test_world_query_decimal.c - the exact decimals of --reduce's sum() and
 * avg(), and which numbers JSON may write bare. The expected values are
 * worked by hand, or are what MariaDB's SUM() and AVG() answer.
 */
#include "testutil.h"

#include "../../utils/world-query/decimal.h"

/* TEXT parsed and printed again. */
static const char *roundtrip(const char *text, char *buf, size_t len)
{
	struct wq_decimal d;

	if (wq_decimal_parse(text, strlen(text), &d) != 0)
		return "(error)";
	wq_decimal_format(&d, buf, len);
	return buf;
}

static void test_decimal_parse(void **state)
{
	char buf[100];
	struct wq_decimal d;

	assert_string_equal(roundtrip("0", buf, sizeof(buf)), "0");
	assert_string_equal(roundtrip("-12", buf, sizeof(buf)), "-12");
	assert_string_equal(roundtrip("+3.50", buf, sizeof(buf)), "3.50");
	assert_string_equal(roundtrip(".5", buf, sizeof(buf)), "0.5");
	assert_string_equal(roundtrip("-0.05", buf, sizeof(buf)), "-0.05");
	assert_string_equal(roundtrip("007.10", buf, sizeof(buf)), "7.10");
	assert_string_equal(roundtrip("1e3", buf, sizeof(buf)), "1000");
	assert_string_equal(roundtrip("1.25E+2", buf, sizeof(buf)), "125");
	assert_string_equal(roundtrip("1e-3", buf, sizeof(buf)), "0.001");
	assert_string_equal(roundtrip("99999999999999.9999", buf, sizeof(buf)),
			    "99999999999999.9999");
	assert_string_equal(roundtrip("18446744073709551615", buf, sizeof(buf)),
			    "18446744073709551615");
	/* 38 digits fit; 39 do not, unless the last are zeros after the point. */
	assert_string_equal(roundtrip("12345678901234567890123456789012345678",
				      buf, sizeof(buf)),
			    "12345678901234567890123456789012345678");
	assert_string_equal(roundtrip("123456789012345678901234567890123456789",
				      buf, sizeof(buf)),
			    "(error)");
	assert_string_equal(
		roundtrip("1234567890123456789012345678901234567.800", buf,
			  sizeof(buf)),
		"1234567890123456789012345678901234567.8");
	/* A DECIMAL(65,30) zero, and a tiny one. */
	assert_string_equal(
		roundtrip("0.000000000000000000000000000000", buf, sizeof(buf)),
		"0.000000000000000000000000000000");
	assert_string_equal(
		roundtrip("0.000000000000000000000000000001", buf, sizeof(buf)),
		"0.000000000000000000000000000001");
	static const char *const bad[] = { "x",	  "-",	".",  "1.2.3", "1e",
					   "1e+", " 1", "1 ", "0x10",  "--1" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(wq_decimal_parse(bad[i], strlen(bad[i]), &d),
				 -1);
	assert_int_equal(wq_decimal_parse("", 0, &d), -1);
}

/* The sum of the texts, as text. */
static const char *sum(const char *const *texts, char *buf, size_t len)
{
	struct wq_decimal acc = { 0, 0 }, x;

	for (; *texts; texts++)
		if (wq_decimal_parse(*texts, strlen(*texts), &x) != 0 ||
		    wq_decimal_add(&acc, &x) != 0)
			return "(error)";
	wq_decimal_format(&acc, buf, len);
	return buf;
}

static void test_decimal_add_is_exact(void **state)
{
	char buf[100];
	struct wq_decimal a, b;

	/* In doubles, 0.1 + 0.2 is 0.30000000000000004. */
	assert_string_equal(
		sum((const char *[]){ "0.1", "0.2", NULL }, buf, sizeof(buf)),
		"0.3");
	assert_string_equal(
		sum((const char *[]){ "99999999999999.9999", "0.0001", NULL },
		    buf, sizeof(buf)),
		"100000000000000.0000");
	assert_string_equal(sum((const char *[]){ "1.5", "-2.25", "3", NULL },
				buf, sizeof(buf)),
			    "2.25");
	assert_string_equal(
		sum((const char *[]){ "9223372036854775807", "1", NULL }, buf,
		    sizeof(buf)),
		"9223372036854775808");
	/* 38 nines plus one no longer fits: an error, never a rounding. */
	assert_string_equal(
		sum((const char *[]){ "99999999999999999999999999999999999999",
				      "1", NULL },
		    buf, sizeof(buf)),
		"(error)");
	/*
	 * Two numbers of 38 digits: their sum is beyond __int128 itself, an
	 * error, not a wrapped negative (fuzz_world_query_decimal).
	 */
	assert_string_equal(
		sum((const char *[]){ "99999999999999999999999999999999999999",
				      "99999999999999999999999999999999999999",
				      NULL },
		    buf, sizeof(buf)),
		"(error)");
	assert_string_equal(
		sum((const char *[]){ "-99999999999999999999999999999999999999",
				      "-0.9e38", NULL },
		    buf, sizeof(buf)),
		"(error)");
	wq_decimal_parse("-99999999999999999999999999999999999999", 39, &a);
	wq_decimal_parse("99999999999999999999999999999999999999", 38, &b);
	assert_int_equal(wq_decimal_sub(&a, &b), -1);
	/* A scale that would push the other past 38 digits. */
	assert_string_equal(
		sum((const char *[]){ "1234567890123456789012345678901234567",
				      "0.01", NULL },
		    buf, sizeof(buf)),
		"(error)");
	/* sub undoes add (window frames). */
	wq_decimal_parse("10.25", 5, &a);
	wq_decimal_parse("0.125", 5, &b);
	assert_int_equal(wq_decimal_add(&a, &b), 0);
	assert_int_equal(wq_decimal_sub(&a, &b), 0);
	wq_decimal_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, "10.250");
	/* Many small amounts: sakila's payment.amount, 2.99 x 10000. */
	a = (struct wq_decimal){ 0, 0 };
	wq_decimal_parse("2.99", 4, &b);
	for (int i = 0; i < 10000; i++)
		assert_int_equal(wq_decimal_add(&a, &b), 0);
	wq_decimal_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, "29900.00");
}

static void test_decimal_divide_rounds_like_avg(void **state)
{
	char buf[100];
	struct wq_decimal s, q;

	/* MariaDB: AVG(x) over 1.00, 2.00, 2.00 is 1.666667 (scale 2 + 4). */
	wq_decimal_parse("5.00", 4, &s);
	assert_int_equal(wq_decimal_divide(&s, 3, 6, &q), 0);
	wq_decimal_format(&q, buf, sizeof(buf));
	assert_string_equal(buf, "1.666667");
	/* Half away from zero, both signs. */
	wq_decimal_parse("-5", 2, &s);
	assert_int_equal(wq_decimal_divide(&s, 8, 2, &q), 0);
	wq_decimal_format(&q, buf, sizeof(buf));
	assert_string_equal(buf, "-0.63");
	wq_decimal_parse("1", 1, &s);
	assert_int_equal(wq_decimal_divide(&s, 8, 2, &q), 0);
	wq_decimal_format(&q, buf, sizeof(buf));
	assert_string_equal(buf, "0.13");
	/* Integers: AVG(1, 2) is 1.5000. */
	wq_decimal_parse("3", 1, &s);
	assert_int_equal(wq_decimal_divide(&s, 2, 4, &q), 0);
	wq_decimal_format(&q, buf, sizeof(buf));
	assert_string_equal(buf, "1.5000");
	assert_int_equal(wq_decimal_divide(&s, 0, 4, &q), -1);
}

static void test_decimal_digits(void **state)
{
	struct wq_decimal d;

	wq_decimal_parse("0", 1, &d);
	assert_int_equal(wq_decimal_digits(&d), 0);
	wq_decimal_parse("1234.5678", 9, &d);
	assert_int_equal(wq_decimal_digits(&d), 8);
	wq_decimal_parse("1234.5000", 9, &d);
	assert_int_equal(wq_decimal_digits(&d), 5);
	wq_decimal_parse("1000", 4, &d);
	assert_int_equal(wq_decimal_digits(&d), 4);
	wq_decimal_parse("0.000123", 8, &d);
	assert_int_equal(wq_decimal_digits(&d), 3);
}

static bool fits(const char *s)
{
	return wq_number_fits_double(s, strlen(s));
}

static void test_number_fits_double(void **state)
{
	assert_true(fits("0"));
	assert_true(fits("-17"));
	assert_true(fits("9007199254740992")); /* 2^53 */
	assert_true(fits("-9007199254740992"));
	assert_false(fits("9007199254740993")); /* a double reads ...992 */
	assert_false(fits("18446744073709551615"));
	assert_true(fits("1234.5678"));
	assert_true(fits("123456789012.345"));	 /* 15 digits */
	assert_false(fits("1234567890123.456")); /* 16 */
	assert_false(fits("99999999999999.9999"));
	assert_true(fits("99999999999999.0000")); /* trailing zeros */
	assert_true(fits("0.000000000000000000000000000001"));
	assert_true(fits("1.7976931348623157e308")); /* a DOUBLE */
	assert_true(fits("-1.5E-7"));
	assert_false(fits("1e"));
	assert_false(fits("NaN"));
	assert_false(fits(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decimal_parse),
		cmocka_unit_test(test_decimal_add_is_exact),
		cmocka_unit_test(test_decimal_divide_rounds_like_avg),
		cmocka_unit_test(test_decimal_digits),
		cmocka_unit_test(test_number_fits_double),
	};

	return cmocka_run_group_tests_name("world-query decimal", tests, NULL,
					   NULL);
}
