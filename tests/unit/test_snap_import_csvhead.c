/*
 * test_snap_import_csvhead.c - unit tests for utils/snap-import/csvhead.c:
 * the header read as COPY's CSV mode reads it (quotes, line ends, where the
 * data starts) with its messages, and the column types guessed from data
 * records, value by value and column by column.
 */
#include "testutil.h"

#include "../../utils/snap-import/csvhead.h"

/* The types of a record, for ASSERT_TYPES(got, SNAP_TYPE_X, ...). */
#define ASSERT_TYPES(got, ...)                                         \
	assert_types((got), (const enum snap_type[]){ __VA_ARGS__ },   \
		     sizeof((const enum snap_type[]){ __VA_ARGS__ }) / \
			     sizeof(enum snap_type))

static void assert_types(const enum snap_type *got, const enum snap_type *want,
			 size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(got[i], want[i]);
}

/* Parses the string s as the whole buffer. */
static int parse(const char *s, bool at_eof, struct snap_header *h,
		 struct dbops_err *err)
{
	return snap_header_parse(s, strlen(s), at_eof, h, err);
}

/* Asserts that s (at the end of the file) is rejected with message want. */
static void assert_header_error(const char *s, size_t len, const char *want)
{
	struct snap_header h = { (char **)1, 7, 7 };
	struct dbops_err err = { "" };

	assert_int_equal(snap_header_parse(s, len, true, &h, &err), -1);
	assert_string_equal(err.msg, want);
	assert_null(h.names);
	assert_int_equal(h.count, 0);
	assert_int_equal(h.length, 0);
}

/* The type of the single column of csv, all of whose records must count. */
static enum snap_type column_type(const char *csv, size_t records)
{
	enum snap_type t = SNAP_TYPE_TEXT;

	assert_int_equal(
		snap_infer_types(csv, strlen(csv), true, 1, SIZE_MAX, &t),
		records);
	return t;
}

/* The type of one value, given as a raw CSV field. */
static enum snap_type value_type(const char *field)
{
	return column_type(field, 1);
}

static void assert_value_types(const char *const *fields, size_t n,
			       enum snap_type want)
{
	for (size_t i = 0; i < n; i++) {
		enum snap_type got = value_type(fields[i]);

		if (got != want)
			fail_msg("\"%s\": type %d, expected %d", fields[i],
				 (int)got, (int)want);
	}
}

#define ASSERT_VALUE_TYPES(want, ...)                                     \
	assert_value_types((const char *const[]){ __VA_ARGS__ },          \
			   sizeof((const char *const[]){ __VA_ARGS__ }) / \
				   sizeof(const char *),                  \
			   (want))

/* ---- the header: bad input ---------------------------------------------- */

static void test_csvhead_header_rejects_empty_file(void **state)
{
	struct snap_header h;
	struct dbops_err err = { "" };

	assert_header_error("", 0, "the file is empty");
	/* Not the end yet: nothing to judge. */
	assert_int_equal(snap_header_parse("", 0, false, &h, &err), 1);
	assert_null(h.names);
}

static void test_csvhead_header_rejects_empty_name(void **state)
{
	assert_header_error("a,,c\n", 5, "column 2 of the header has no name");
	assert_header_error("a,\"\"\n", 5,
			    "column 2 of the header has no name");
	assert_header_error("a,b,\n", 5, "column 3 of the header has no name");
	assert_header_error(",a", 2, "column 1 of the header has no name");
	assert_header_error("\n", 1, "column 1 of the header has no name");
	assert_header_error("\r\nx\r\n", 5,
			    "column 1 of the header has no name");
}

static void test_csvhead_header_rejects_duplicate_names(void **state)
{
	assert_header_error("a,b,a\n", 6,
			    "column \"a\" appears twice in the header");
	/* Quoting does not make another name. */
	assert_header_error("\"id\",id\n", 8,
			    "column \"id\" appears twice in the header");
	/* The name repeated first is named, whatever the sort order. */
	assert_header_error("z,b,b,z\n", 8,
			    "column \"b\" appears twice in the header");
	assert_header_error("b,z,z,b\n", 8,
			    "column \"z\" appears twice in the header");
}

static void test_csvhead_header_rejects_unterminated_quote(void **state)
{
	struct snap_header h;
	struct dbops_err err = { "" };

	assert_header_error("a,\"b\n", 5,
			    "unterminated quoted field in the header");
	assert_header_error("\"a,b", 4,
			    "unterminated quoted field in the header");
	assert_header_error("\"a\"\"\n", 5,
			    "unterminated quoted field in the header");
	/* Before the end the quote may still close. */
	assert_int_equal(parse("a,\"b\n", false, &h, &err), 1);
	assert_null(h.names);
}

static void test_csvhead_header_rejects_nul_byte(void **state)
{
	static const char buf[] = "a,\"b\0c\"\nx";

	assert_header_error(buf, sizeof(buf) - 1,
			    "column 2 of the header contains a NUL byte");
}

static void test_csvhead_header_error_without_err(void **state)
{
	struct snap_header h;

	/* The caller may not want the reason: err may be NULL. */
	assert_int_equal(snap_header_parse("a,a\n", 4, true, &h, NULL), -1);
	assert_null(h.names);
	assert_int_equal(snap_header_parse("", 0, true, &h, NULL), -1);
}

static void test_csvhead_header_error_is_cut_to_one_line(void **state)
{
	static const char buf[] = "\"a\nb\",\"a\nb\"\n";
	struct dbops_err err = { "" };
	struct snap_header h;
	size_t n = 3 * DBOPS_ERR_MAX;
	char *big = malloc(2 * n + 2);

	/* A name with a line end in it still gives a one-line message. */
	assert_int_equal(
		snap_header_parse(buf, sizeof(buf) - 1, true, &h, &err), -1);
	assert_string_equal(err.msg,
			    "column \"a b\" appears twice in the header");
	/* A name longer than the buffer: cut, ending in "...". */
	assert_non_null(big);
	memset(big, 'n', 2 * n + 1);
	big[n] = ',';
	big[2 * n + 1] = '\n';
	assert_int_equal(snap_header_parse(big, 2 * n + 2, true, &h, &err), -1);
	assert_int_equal(strlen(err.msg), DBOPS_ERR_MAX - 1);
	assert_string_equal(err.msg + DBOPS_ERR_MAX - 4, "...");
	free(big);
}

static void test_csvhead_header_needs_more_data(void **state)
{
	static const char *const partial[] = {
		"a,b",	       /* no line end yet */
		"a,\"b\nc",    /* a newline inside quotes */
		"a,\"b\"\"\n", /* "" keeps the quote open */
		"a,b\r",       /* CR or CR LF: the next byte tells */
	};
	struct snap_header h;
	struct dbops_err err = { "" };

	for (size_t i = 0; i < sizeof(partial) / sizeof(partial[0]); i++) {
		assert_int_equal(parse(partial[i], false, &h, &err), 1);
		assert_null(h.names);
		assert_int_equal(h.count, 0);
		assert_int_equal(h.length, 0);
	}
	assert_string_equal(err.msg, "");
}

/* ---- the header: good input --------------------------------------------- */

static void test_csvhead_header_simple(void **state)
{
	struct snap_header h;
	struct dbops_err err = { "" };

	assert_int_equal(parse("id,name,price\n1,x,2.5\n", false, &h, &err), 0);
	assert_int_equal(h.count, 3);
	assert_string_equal(h.names[0], "id");
	assert_string_equal(h.names[1], "name");
	assert_string_equal(h.names[2], "price");
	assert_int_equal(h.length, 14);
	snap_header_free(&h);
	assert_null(h.names);
	assert_int_equal(h.count, 0);
	snap_header_free(&h);
}

static void test_csvhead_header_quoted_names(void **state)
{
	static const char buf[] = "\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\","
				  "\"cr\r\nlf\",x\"y,z\"w,plain\n1,2,3,4,5,6\n";
	struct snap_header h;
	struct dbops_err err = { "" };

	assert_int_equal(parse(buf, false, &h, &err), 0);
	assert_int_equal(h.count, 6);
	assert_string_equal(h.names[0], "a,b");
	assert_string_equal(h.names[1], "say \"hi\"");
	assert_string_equal(h.names[2], "two\nlines");
	assert_string_equal(h.names[3], "cr\r\nlf");
	/* A quote may open mid-field, as in COPY. */
	assert_string_equal(h.names[4], "xy,zw");
	assert_string_equal(h.names[5], "plain");
	assert_int_equal(h.length, strlen(buf) - strlen("1,2,3,4,5,6\n"));
	snap_header_free(&h);
}

static void test_csvhead_header_keeps_spaces_and_case(void **state)
{
	struct snap_header h;
	struct dbops_err err = { "" };

	assert_int_equal(parse(" a ,A,a\n", true, &h, &err), 0);
	assert_int_equal(h.count, 3);
	assert_string_equal(h.names[0], " a ");
	assert_string_equal(h.names[1], "A");
	assert_string_equal(h.names[2], "a");
	snap_header_free(&h);
}

static void test_csvhead_header_line_ends(void **state)
{
	struct snap_header h;
	struct dbops_err err = { "" };

	assert_int_equal(parse("a,b\r\n1,2\r\n", false, &h, &err), 0);
	assert_int_equal(h.count, 2);
	assert_string_equal(h.names[1], "b");
	assert_int_equal(h.length, 5);
	snap_header_free(&h);

	/* A lone CR ends the line, as in COPY. */
	assert_int_equal(parse("a,b\r1,2\r", false, &h, &err), 0);
	assert_int_equal(h.count, 2);
	assert_string_equal(h.names[1], "b");
	assert_int_equal(h.length, 4);
	snap_header_free(&h);

	/* A CR last in the file is the whole line end. */
	assert_int_equal(parse("a,b\r", true, &h, &err), 0);
	assert_int_equal(h.length, 4);
	snap_header_free(&h);
}

static void test_csvhead_header_at_eof_without_line_end(void **state)
{
	struct snap_header h;
	struct dbops_err err = { "" };

	assert_int_equal(parse("a,\"b\"", true, &h, &err), 0);
	assert_int_equal(h.count, 2);
	assert_string_equal(h.names[0], "a");
	assert_string_equal(h.names[1], "b");
	assert_int_equal(h.length, 5);
	snap_header_free(&h);
}

static void test_csvhead_header_length_locates_data(void **state)
{
	static const char buf[] = "\"n\r\n1\",d\r\n7,2024-01-02\r\n8,";
	enum snap_type t[2];
	struct snap_header h;
	struct dbops_err err = { "" };

	assert_int_equal(parse(buf, true, &h, &err), 0);
	assert_int_equal(h.count, 2);
	assert_string_equal(h.names[0], "n\r\n1");
	assert_int_equal(h.length, 10);
	assert_int_equal(snap_infer_types(buf + h.length,
					  strlen(buf) - h.length, true, h.count,
					  SIZE_MAX, t),
			 2);
	ASSERT_TYPES(t, SNAP_TYPE_INTEGER, SNAP_TYPE_DATE);
	snap_header_free(&h);
}

static void test_csvhead_header_many_columns(void **state)
{
	size_t n = 20000, len = 0;
	char *buf = malloc(n * 8 + 16);
	struct snap_header h;
	struct dbops_err err = { "" };

	assert_non_null(buf);
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(buf + len, "%sc%zu", i ? "," : "", i);
	buf[len++] = '\n';
	assert_int_equal(snap_header_parse(buf, len, false, &h, &err), 0);
	assert_int_equal(h.count, n);
	assert_string_equal(h.names[n - 1], "c19999");
	assert_int_equal(h.length, len);
	snap_header_free(&h);

	/* A last column repeating the first, found without n * n compares. */
	memcpy(buf + len - 1, ",c0", 3);
	assert_int_equal(snap_header_parse(buf, len + 2, true, &h, &err), -1);
	assert_string_equal(err.msg,
			    "column \"c0\" appears twice in the header");
	free(buf);
}

/* ---- inference: records ------------------------------------------------- */

static void test_csvhead_infer_skips_ragged_records(void **state)
{
	static const char buf[] = "1,a\n"
				  "x,y,z\n" /* three fields: skipped */
				  "oops\n"  /* one: skipped */
				  "\n"	    /* one NULL: skipped */
				  "2,b\n";
	enum snap_type t[2];

	assert_int_equal(
		snap_infer_types(buf, strlen(buf), true, 2, SIZE_MAX, t), 2);
	ASSERT_TYPES(t, SNAP_TYPE_INTEGER, SNAP_TYPE_TEXT);
}

static void test_csvhead_infer_ignores_partial_last_record(void **state)
{
	static const char cut[] = "1,2\n3,x"; /* x may be the start of xyz */
	static const char open[] = "1,2\n3,\"4\n";
	enum snap_type t[2];

	assert_int_equal(
		snap_infer_types(cut, strlen(cut), false, 2, SIZE_MAX, t), 1);
	ASSERT_TYPES(t, SNAP_TYPE_INTEGER, SNAP_TYPE_INTEGER);
	/* At the end of the file the last record needs no line end. */
	assert_int_equal(
		snap_infer_types(cut, strlen(cut), true, 2, SIZE_MAX, t), 2);
	ASSERT_TYPES(t, SNAP_TYPE_INTEGER, SNAP_TYPE_TEXT);
	/* An open quote is never complete: COPY will reject it. */
	assert_int_equal(
		snap_infer_types(open, strlen(open), false, 2, SIZE_MAX, t), 1);
	assert_int_equal(
		snap_infer_types(open, strlen(open), true, 2, SIZE_MAX, t), 1);
	ASSERT_TYPES(t, SNAP_TYPE_INTEGER, SNAP_TYPE_INTEGER);
}

static void test_csvhead_infer_no_records(void **state)
{
	enum snap_type t[3] = { SNAP_TYPE_TEXT, SNAP_TYPE_TEXT,
				SNAP_TYPE_TEXT };

	assert_int_equal(snap_infer_types("", 0, true, 3, SIZE_MAX, t), 0);
	ASSERT_TYPES(t, SNAP_TYPE_NULL, SNAP_TYPE_NULL, SNAP_TYPE_NULL);
	assert_int_equal(snap_infer_types("1,2,3\n", 6, true, 3, 0, t), 0);
	ASSERT_TYPES(t, SNAP_TYPE_NULL, SNAP_TYPE_NULL, SNAP_TYPE_NULL);
}

static void test_csvhead_infer_respects_max_records(void **state)
{
	static const char buf[] = "1\n2\nx,y\n3\nhello\n";
	enum snap_type t;

	assert_int_equal(snap_infer_types(buf, strlen(buf), true, 1, 2, &t), 2);
	assert_int_equal(t, SNAP_TYPE_INTEGER);
	/* A skipped record does not count. */
	assert_int_equal(snap_infer_types(buf, strlen(buf), true, 1, 3, &t), 3);
	assert_int_equal(t, SNAP_TYPE_INTEGER);
	assert_int_equal(snap_infer_types(buf, strlen(buf), true, 1, 4, &t), 4);
	assert_int_equal(t, SNAP_TYPE_TEXT);
}

static void test_csvhead_infer_quoted_commas_and_newlines(void **state)
{
	static const char buf[] = "1,\"a,b\",\"x\ny\"\n"
				  "2,\"c\r\n\"\"d\"\"\",\"\"\"\"\n"
				  "\"3\",e,\"4,5\"\n";
	enum snap_type t[3];

	assert_int_equal(
		snap_infer_types(buf, strlen(buf), false, 3, SIZE_MAX, t), 3);
	ASSERT_TYPES(t, SNAP_TYPE_INTEGER, SNAP_TYPE_TEXT, SNAP_TYPE_TEXT);
}

static void test_csvhead_infer_line_ends(void **state)
{
	static const char crlf[] = "1,true\r\n2,false\r\n\"3\r\n\",true\r\n";
	static const char cr[] = "1,true\r2,false\r3,false";
	enum snap_type t[2];

	assert_int_equal(
		snap_infer_types(crlf, strlen(crlf), false, 2, SIZE_MAX, t), 3);
	/* "3\r\n" is a value with a line end in it: text. */
	ASSERT_TYPES(t, SNAP_TYPE_TEXT, SNAP_TYPE_BOOLEAN);
	assert_int_equal(snap_infer_types(crlf, 19, false, 2, SIZE_MAX, t), 2);
	ASSERT_TYPES(t, SNAP_TYPE_INTEGER, SNAP_TYPE_BOOLEAN);
	assert_int_equal(snap_infer_types(cr, strlen(cr), true, 2, SIZE_MAX, t),
			 3);
	ASSERT_TYPES(t, SNAP_TYPE_INTEGER, SNAP_TYPE_BOOLEAN);
}

static void test_csvhead_infer_empty_line_is_one_null(void **state)
{
	assert_int_equal(column_type("1\n\n2\n", 3), SNAP_TYPE_INTEGER);
	assert_int_equal(column_type("\n\n", 2), SNAP_TYPE_NULL);
}

/* ---- inference: values -------------------------------------------------- */

static void test_csvhead_infer_spaces_make_text(void **state)
{
	ASSERT_VALUE_TYPES(SNAP_TYPE_TEXT, " 1", "1 ", "\" 1\"", "true ",
			   " 2024-01-02", "2024-01-02 ", "1.5\t", " ",
			   "2024-01-02 10:00 ", "2024-01-02  10:00");
}

static void test_csvhead_infer_quoted_empty_is_text(void **state)
{
	assert_int_equal(value_type("\"\""), SNAP_TYPE_TEXT);
	assert_int_equal(column_type("1\n\"\"\n2\n", 3), SNAP_TYPE_TEXT);
	/* Unquoted empty is NULL and constrains nothing. */
	assert_int_equal(column_type("1\n\n2\n", 3), SNAP_TYPE_INTEGER);
}

static void test_csvhead_infer_null_only_column(void **state)
{
	static const char buf[] = "1,\n2,\n";
	enum snap_type t[2];

	assert_int_equal(
		snap_infer_types(buf, strlen(buf), true, 2, SIZE_MAX, t), 2);
	ASSERT_TYPES(t, SNAP_TYPE_INTEGER, SNAP_TYPE_NULL);
	assert_string_equal(snap_type_sql(t[1]), "text");
}

static void test_csvhead_infer_booleans(void **state)
{
	/* Only what boolean::text prints: the rest would come back changed. */
	ASSERT_VALUE_TYPES(SNAP_TYPE_BOOLEAN, "true", "false", "\"true\"");
	ASSERT_VALUE_TYPES(SNAP_TYPE_TEXT, "t", "f", "yes", "no", "TRUE",
			   "False", "T", "F", "YES", "NO", "No", "y", "n", "on",
			   "off", "tru", "truee", "nope", "\"t\"\"\"");
	ASSERT_VALUE_TYPES(SNAP_TYPE_INTEGER, "1", "0");
	assert_int_equal(column_type("true\nfalse\n\ntrue\n", 4),
			 SNAP_TYPE_BOOLEAN);
	assert_int_equal(column_type("true\n1\n", 2), SNAP_TYPE_TEXT);
	/* Norway, and grades. */
	assert_int_equal(column_type("NO\nNO\n", 2), SNAP_TYPE_TEXT);
	assert_int_equal(column_type("F\nT\n", 2), SNAP_TYPE_TEXT);
}

static void test_csvhead_infer_integer_boundaries(void **state)
{
	ASSERT_VALUE_TYPES(SNAP_TYPE_INTEGER, "0", "42", "-42", "2147483647",
			   "-2147483648", "\"12\"", "1\"2\"3");
	ASSERT_VALUE_TYPES(SNAP_TYPE_BIGINT, "2147483648", "-2147483649",
			   "9223372036854775807", "-9223372036854775808",
			   "4915112345678");
	/* What would not come back as written: leading zeros, '+', -0. */
	ASSERT_VALUE_TYPES(SNAP_TYPE_TEXT, "-0", "+0", "+42", "007", "08123",
			   "+2147483647", "00000000000000000000000002147483647",
			   "0009223372036854775807", "+4915112345678", "00");
	ASSERT_VALUE_TYPES(SNAP_TYPE_NUMERIC, "9223372036854775808",
			   "-9223372036854775809", "18446744073709551615",
			   "18446744073709551616",
			   "123456789012345678901234567890");
	ASSERT_VALUE_TYPES(SNAP_TYPE_TEXT, "-", "+", "--1", "+-1", "1-", "0x1F",
			   "1_000", "1 000", "\xd9\xa1");
}

static void test_csvhead_infer_numeric_forms(void **state)
{
	ASSERT_VALUE_TYPES(SNAP_TYPE_NUMERIC, "1.5", "-1.5", "0.0", "1.50",
			   "0.001", "-0.5", "\"3.14\"");
	/* numeric prints these otherwise: 1, 0.5, 1000, 120000, 0.0 ... */
	ASSERT_VALUE_TYPES(SNAP_TYPE_TEXT, "1.", ".5", "-.5", "+.5", "+1.5",
			   "-2.5E-3", "1e10", "1E+10", "1.e5", "00.10", "12E4",
			   "10.10e10", "-0.0", "-0.00", ".", "-.", "1.2.3",
			   "1e", "NaN", "nan", "Infinity", "-Infinity", "inf",
			   "\"1,5\"", "1.5f", "$1", "\"1,000\"");
}

static void test_csvhead_infer_numeric_limits(void **state)
{
	size_t n = 131072 + 20;
	char *buf = malloc(n + 1);

	assert_non_null(buf);
	/* 131072 digits before the point fit numeric; one more does not. */
	memset(buf, '9', 131072);
	buf[131072] = '\0';
	assert_int_equal(value_type(buf), SNAP_TYPE_NUMERIC);
	strcpy(buf + 131072, "9");
	assert_int_equal(value_type(buf), SNAP_TYPE_TEXT);

	/* 16383 digits after the point fit; one more does not. */
	strcpy(buf, "0.");
	memset(buf + 2, '1', 16383);
	buf[16385] = '\0';
	assert_int_equal(value_type(buf), SNAP_TYPE_NUMERIC);
	strcpy(buf + 16385, "1");
	assert_int_equal(value_type(buf), SNAP_TYPE_TEXT);
	free(buf);
}

static void test_csvhead_infer_dates(void **state)
{
	ASSERT_VALUE_TYPES(SNAP_TYPE_DATE, "2024-03-01", "2024-02-29",
			   "2000-02-29", "2023-12-31", "0001-01-01",
			   "9999-12-31", "2023-04-30", "\"2024-01-31\"");
	ASSERT_VALUE_TYPES(SNAP_TYPE_TEXT, "2023-02-29", "1900-02-29",
			   "2024-13-01", "2024-00-10", "2024-01-00",
			   "2024-04-31", "2024-01-32", "0000-01-01",
			   "2024-1-01", "2024-01-1", "2024/01/01", "24-01-01",
			   "12024-01-01", "2024-01-01x", "2024-0a-01");
	/* Without dashes it is a number. */
	assert_int_equal(value_type("20240101"), SNAP_TYPE_INTEGER);
}

static void test_csvhead_infer_timestamps(void **state)
{
	ASSERT_VALUE_TYPES(
		SNAP_TYPE_TIMESTAMPTZ, "2024-03-01 12:00", "2024-03-01T12:00",
		"2024-03-01 12:00:59", "2024-03-01 00:00:00.1",
		"2024-03-01 23:59:59.123456", "2024-03-01T12:00Z",
		"2024-03-01T12:00:00Z", "2024-03-01 12:00:00+02",
		"2024-03-01 12:00:00+02:00", "2024-03-01 12:00:00-0530",
		"2024-03-01 12:00:00.5-05:30", "2024-03-01 12:00+15:59",
		"2024-02-29 12:00-00");
	ASSERT_VALUE_TYPES(
		SNAP_TYPE_TEXT, "2024-03-01 24:00", "2024-03-01 12:60",
		"2024-03-01 12:00:60", "2024-03-01 12", "2024-03-01 12:0",
		"2024-03-01 1:00", "2024-03-01 12:00:0", "2024-03-01 12:00:00.",
		"2024-03-01 12:00:00.1234567", "2024-03-01 12:00.5",
		"2024-03-01x12:00", "2024-03-01t12:00", "2024-03-01 12:00 +02",
		"2024-03-01 12:00+2", "2024-03-01 12:00+16",
		"2024-03-01 12:00+02:60", "2024-03-01 12:00+02:0",
		"2024-03-01 12:00+020", "2024-03-01 12:00+02:00:00",
		"2024-03-01 12:00Z+01", "2024-03-01 12:00ZZ",
		"2024-03-01 12:00z", "2024-03-01 12:00 UTC", "2023-02-29 12:00",
		"2024-03-01 12:00:", "2024-03-01 12:00+",
		/* found by fuzz_snap_import_csvhead: "+HH:" is none of
		   the offsets (PostgreSQL reads it as +HH, but a value that
		   only its reader takes is kept as text) */
		"2024-03-01 10:00+00:", "2024-03-01 10:00:00-05:");
}

static void test_csvhead_infer_embedded_nul_is_text(void **state)
{
	static const char buf[] = "1\n1\0002\n";
	enum snap_type t;

	assert_int_equal(
		snap_infer_types(buf, sizeof(buf) - 1, true, 1, SIZE_MAX, &t),
		2);
	assert_int_equal(t, SNAP_TYPE_TEXT);
}

/* ---- inference: columns ------------------------------------------------- */

static void test_csvhead_infer_widens_numbers(void **state)
{
	assert_int_equal(column_type("1\n2147483647\n", 2), SNAP_TYPE_INTEGER);
	assert_int_equal(column_type("1\n2147483648\n3\n", 3),
			 SNAP_TYPE_BIGINT);
	assert_int_equal(column_type("3000000000\n1\n", 2), SNAP_TYPE_BIGINT);
	assert_int_equal(column_type("1\n3000000000\n1.5\n2\n", 4),
			 SNAP_TYPE_NUMERIC);
	assert_int_equal(column_type("1e3\n7\n", 2), SNAP_TYPE_TEXT);
	assert_int_equal(column_type("1\n9223372036854775808\n", 2),
			 SNAP_TYPE_NUMERIC);
}

static void test_csvhead_infer_date_and_timestamp_are_text(void **state)
{
	/* A date is not an instant: a timestamptz would print it otherwise. */
	assert_int_equal(column_type("2024-01-01\n2024-01-02 10:00\n", 2),
			 SNAP_TYPE_TEXT);
	assert_int_equal(column_type("2024-01-02T10:00Z\n\n2024-01-01\n", 3),
			 SNAP_TYPE_TEXT);
	assert_int_equal(
		column_type("2024-01-02T10:00Z\n\n2024-01-02 11:00\n", 3),
		SNAP_TYPE_TIMESTAMPTZ);
	assert_int_equal(column_type("2024-01-01\n\n2024-01-02\n", 3),
			 SNAP_TYPE_DATE);
}

static void test_csvhead_infer_mixed_families_are_text(void **state)
{
	assert_int_equal(column_type("1\n2024-01-01\n", 2), SNAP_TYPE_TEXT);
	assert_int_equal(column_type("2024-01-01 10:00\n1.5\n", 2),
			 SNAP_TYPE_TEXT);
	assert_int_equal(column_type("true\n1\n", 2), SNAP_TYPE_TEXT);
	assert_int_equal(column_type("1\nx\n2\n", 3), SNAP_TYPE_TEXT);
	/* Text stays text whatever follows. */
	assert_int_equal(column_type("x\n1\n1\n", 3), SNAP_TYPE_TEXT);
}

static void test_csvhead_infer_columns_apart(void **state)
{
	static const char buf[] =
		"1,2.5,true,2024-01-01,2024-01-01 10:00:00+00,abc,,9999999999\n"
		"2,3,false,2024-01-02,2024-01-02T11:00:00Z,\"\",,-1\n";
	enum snap_type t[8];

	assert_int_equal(
		snap_infer_types(buf, strlen(buf), false, 8, SIZE_MAX, t), 2);
	ASSERT_TYPES(t, SNAP_TYPE_INTEGER, SNAP_TYPE_NUMERIC, SNAP_TYPE_BOOLEAN,
		     SNAP_TYPE_DATE, SNAP_TYPE_TIMESTAMPTZ, SNAP_TYPE_TEXT,
		     SNAP_TYPE_NULL, SNAP_TYPE_BIGINT);
}

static void test_csvhead_infer_large_sample(void **state)
{
	size_t cap = 4 << 20, len = 0, rows = 0;
	char *buf = malloc(cap);
	enum snap_type t[5];

	assert_non_null(buf);
	while (cap - len > 128) {
		len += (size_t)snprintf(buf + len, cap - len,
					"%zu,\"name %zu, \"\"q\"\"\",%zu.%02zu,"
					"2024-%02zu-%02zu,%s\n",
					rows, rows, rows, rows % 100,
					rows % 12 + 1, rows % 28 + 1,
					rows % 2 ? "true" : "false");
		rows++;
	}
	assert_int_equal(snap_infer_types(buf, len, false, 5, SIZE_MAX, t),
			 rows);
	ASSERT_TYPES(t, SNAP_TYPE_INTEGER, SNAP_TYPE_TEXT, SNAP_TYPE_NUMERIC,
		     SNAP_TYPE_DATE, SNAP_TYPE_BOOLEAN);
	free(buf);
}

/* ---- whole-file inference ------------------------------------------------ */

/* Feed CSV to inference in pieces of STEP bytes, as import.c does. */
static void feed_in_pieces(struct snap_infer *in, const char *csv, size_t step)
{
	size_t len = strlen(csv), pos = 0, have = 0;
	char *wb = malloc(len + 1);

	assert_non_null(wb);
	while (pos < len || have > 0) {
		size_t add = len - pos < step ? len - pos : step, used;
		bool eof;

		memcpy(wb + have, csv + pos, add);
		have += add;
		pos += add;
		eof = pos == len;
		used = snap_infer_feed(in, wb, have, eof);
		memmove(wb, wb + used, have - used);
		have -= used;
		if (eof)
			break;
	}
	free(wb);
}

static void test_csvhead_infer_whole_file_text_after_10000(void **state)
{
	size_t cap = 10001 * 12 + 64, len = 0;
	char *csv = malloc(cap);
	struct snap_infer in;

	assert_non_null(csv);
	for (int i = 1; i <= 10000; i++)
		len += (size_t)snprintf(csv + len, cap - len, "%d,%d\n", i,
					i * 2);
	snprintf(csv + len, cap - len, "abc,3000000000\n");
	for (size_t step = 1; step <= 65536; step *= 16) {
		snap_infer_init(&in, 2, 2);
		feed_in_pieces(&in, csv, step);
		assert_int_equal(in.records, 10001);
		assert_int_equal(in.cols[0].type, SNAP_TYPE_TEXT);
		assert_int_equal(in.cols[0].line, 10002);
		assert_string_equal(in.cols[0].value, "abc");
		assert_int_equal(in.cols[0].was, SNAP_TYPE_INTEGER);
		/* Past integer: bigint. */
		assert_int_equal(in.cols[1].type, SNAP_TYPE_BIGINT);
		snap_infer_free(&in);
	}
	free(csv);
}

static void test_csvhead_infer_lines_count_quoted_line_ends(void **state)
{
	struct snap_infer in;

	snap_infer_init(&in, 2, 2);
	feed_in_pieces(&in, "1,\"a\nb\"\r\n2,\"c\r\nd\"\n007,x\n", 3);
	assert_int_equal(in.cols[0].type, SNAP_TYPE_TEXT);
	assert_int_equal(in.cols[0].line, 6);
	assert_string_equal(in.cols[0].value, "007");
	assert_int_equal(in.cols[0].value_type, SNAP_TYPE_TEXT);
	snap_infer_free(&in);
}

/* ---- the COPY stream ------------------------------------------------------ */

/* Scan CSV in pieces of STEP bytes; what COPY gets, in a static buffer. */
static const char *scan(struct snap_scan *sc, const char *csv, size_t len,
			size_t step)
{
	static char out[4096];
	size_t o = 0;

	snap_scan_init(sc);
	for (size_t pos = 0; pos < len && sc->marker_line == 0;) {
		size_t n = len - pos < step ? len - pos : step;

		o += snap_scan_chunk(sc, csv + pos, n, pos + n == len, out + o);
		pos += n;
	}
	out[o] = '\0';
	return out;
}

static void test_csvhead_scan_marker_anywhere(void **state)
{
	static const char *const files[] = {
		"v\na\n\\.\nb\n",
		"v\ra\r\\.\rb\r",
		"v\r\na\r\n\\.\r\nb\r\n",
		"v\na\n\\.\r\nb\n",
	};

	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++)
		for (size_t step = 1; step <= strlen(files[f]); step++) {
			struct snap_scan sc;

			scan(&sc, files[f], strlen(files[f]), step);
			assert_int_equal(sc.marker_line, 3);
			snap_scan_free(&sc);
		}
}

static void test_csvhead_scan_marker_as_data(void **state)
{
	static const char *const files[] = {
		"v\n\"a\n\\.\nb\"\n", /* in quotes */
		"v\n\\.x\n",	      /* more on its line */
		"v\na\n\\.",	      /* the end of the file */
		"v\nx\\.\n",	      /* not at the start */
		"v\n\\\n",	      /* a lone backslash */
	};

	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++)
		for (size_t step = 1; step <= strlen(files[f]); step++) {
			struct snap_scan sc;
			const char *out =
				scan(&sc, files[f], strlen(files[f]), step);

			assert_int_equal(sc.marker_line, 0);
			assert_string_equal(out, files[f]);
			snap_scan_free(&sc);
		}
}

static void test_csvhead_scan_marker_off_for_pg18(void **state)
{
	static const char csv[] = "v\n\\.\nb\n";
	char out[64];
	struct snap_scan sc;
	size_t n;

	snap_scan_init(&sc);
	sc.markers = false;
	n = snap_scan_chunk(&sc, csv, strlen(csv), true, out);
	assert_int_equal(sc.marker_line, 0);
	assert_memory_equal(out, csv, n);
	assert_int_equal(n, strlen(csv));
	snap_scan_free(&sc);
}

static void test_csvhead_scan_drops_blank_lines(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "a,b\n1,2\n\n", "a,b\n1,2\n" },
		{ "a,b\n\n1,2\n\n\n3,4\n", "a,b\n1,2\n3,4\n" },
		{ "a,b\r\n1,2\r\n\r\n3,4\r\n\r\n", "a,b\r\n1,2\r\n3,4\r\n" },
		{ "a\r1\r\r2\r", "a\r1\r2\r" },
		/* An empty line in quotes is data; spaces are data. */
		{ "a\n\"x\n\ny\"\n \n", "a\n\"x\n\ny\"\n \n" },
	};

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
		for (size_t step = 1; step <= strlen(cases[c].in); step++) {
			struct snap_scan sc;

			assert_string_equal(scan(&sc, cases[c].in,
						 strlen(cases[c].in), step),
					    cases[c].out);
			snap_scan_free(&sc);
		}
}

static void test_csvhead_scan_maps_lines_back(void **state)
{
	static const char csv[] = "a\n\n1\n\n\n2\nx\n";
	struct snap_scan sc;

	scan(&sc, csv, strlen(csv), 4);
	/* COPY sees a, 1, 2, x on its lines 1 to 4. */
	assert_int_equal(snap_scan_file_line(&sc, 1), 1);
	assert_int_equal(snap_scan_file_line(&sc, 2), 3);
	assert_int_equal(snap_scan_file_line(&sc, 3), 6);
	assert_int_equal(snap_scan_file_line(&sc, 4), 7);
	snap_scan_free(&sc);
}

static void test_csvhead_type_sql(void **state)
{
	assert_string_equal(snap_type_sql(SNAP_TYPE_NULL), "text");
	assert_string_equal(snap_type_sql(SNAP_TYPE_BOOLEAN), "boolean");
	assert_string_equal(snap_type_sql(SNAP_TYPE_INTEGER), "integer");
	assert_string_equal(snap_type_sql(SNAP_TYPE_BIGINT), "bigint");
	assert_string_equal(snap_type_sql(SNAP_TYPE_NUMERIC), "numeric");
	assert_string_equal(snap_type_sql(SNAP_TYPE_DATE), "date");
	assert_string_equal(snap_type_sql(SNAP_TYPE_TIMESTAMPTZ),
			    "timestamptz");
	assert_string_equal(snap_type_sql(SNAP_TYPE_TEXT), "text");
	assert_string_equal(snap_type_sql((enum snap_type)99), "text");
}

/* ---- dialects --------------------------------------------------------------- */

static void test_csvhead_dialect_header(void **state)
{
	const struct snap_dialect d = { ';', '\'', "NA", true };
	struct snap_header h;
	struct dbops_err err = { "" };
	static const char csv[] = "a;'b;c';'it''s';\"d\"\n1;2;3;4\n";

	assert_int_equal(snap_header_parse_dialect(&d, csv, strlen(csv), false,
						   &h, &err),
			 0);
	assert_int_equal(h.count, 4);
	assert_string_equal(h.names[1], "b;c");
	assert_string_equal(h.names[2], "it's");
	/* The double quote is data under another quote. */
	assert_string_equal(h.names[3], "\"d\"");
	assert_int_equal(h.length, 20);
	snap_header_free(&h);
	/* The default dialect sees one name with quotes and commas. */
	assert_int_equal(snap_header_parse("a;b,c\n", 6, false, &h, &err), 0);
	assert_int_equal(h.count, 2);
	assert_string_equal(h.names[0], "a;b");
	snap_header_free(&h);
}

static void test_csvhead_dialect_null_string(void **state)
{
	const struct snap_dialect d = { '\t', '"', "NA", true };
	struct snap_infer in;

	/* NA unquoted is NULL; "NA" quoted is text; an unquoted empty
	 * field is the empty string, text. */
	snap_infer_init(&in, 3, 2);
	in.dialect = &d;
	feed_in_pieces(&in, "1\tNA\t2\nNA\t\"NA\"\t\n3\tx\t4\n", 2);
	assert_int_equal(in.cols[0].type, SNAP_TYPE_INTEGER);
	assert_int_equal(in.cols[1].type, SNAP_TYPE_TEXT);
	assert_int_equal(in.cols[1].line, 3);
	assert_int_equal(in.cols[2].type, SNAP_TYPE_TEXT);
	assert_int_equal(in.cols[2].line, 3);
	assert_string_equal(in.cols[2].value, "");
	snap_infer_free(&in);
}

static void test_csvhead_dialect_scan_quote(void **state)
{
	/* A \. inside single quotes is data when ' is the quote. */
	static const char csv[] = "v\n'a\n\\.\nb'\n";
	char out[64];
	struct snap_scan sc;
	size_t n;

	snap_scan_init(&sc);
	sc.quote = '\'';
	n = snap_scan_chunk(&sc, csv, strlen(csv), true, out);
	assert_int_equal(sc.marker_line, 0);
	assert_int_equal(n, strlen(csv));
	snap_scan_free(&sc);
	snap_scan_init(&sc);
	snap_scan_chunk(&sc, csv, strlen(csv), true, out);
	assert_int_equal(sc.marker_line, 3);
	snap_scan_free(&sc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csvhead_header_rejects_empty_file),
		cmocka_unit_test(
			test_csvhead_infer_whole_file_text_after_10000),
		cmocka_unit_test(
			test_csvhead_infer_lines_count_quoted_line_ends),
		cmocka_unit_test(test_csvhead_scan_marker_anywhere),
		cmocka_unit_test(test_csvhead_scan_marker_as_data),
		cmocka_unit_test(test_csvhead_scan_marker_off_for_pg18),
		cmocka_unit_test(test_csvhead_scan_drops_blank_lines),
		cmocka_unit_test(test_csvhead_scan_maps_lines_back),
		cmocka_unit_test(test_csvhead_header_rejects_empty_name),
		cmocka_unit_test(test_csvhead_header_rejects_duplicate_names),
		cmocka_unit_test(
			test_csvhead_header_rejects_unterminated_quote),
		cmocka_unit_test(test_csvhead_header_rejects_nul_byte),
		cmocka_unit_test(test_csvhead_header_error_without_err),
		cmocka_unit_test(test_csvhead_header_error_is_cut_to_one_line),
		cmocka_unit_test(test_csvhead_header_needs_more_data),
		cmocka_unit_test(test_csvhead_header_simple),
		cmocka_unit_test(test_csvhead_header_quoted_names),
		cmocka_unit_test(test_csvhead_header_keeps_spaces_and_case),
		cmocka_unit_test(test_csvhead_header_line_ends),
		cmocka_unit_test(test_csvhead_header_at_eof_without_line_end),
		cmocka_unit_test(test_csvhead_header_length_locates_data),
		cmocka_unit_test(test_csvhead_header_many_columns),
		cmocka_unit_test(test_csvhead_infer_skips_ragged_records),
		cmocka_unit_test(
			test_csvhead_infer_ignores_partial_last_record),
		cmocka_unit_test(test_csvhead_infer_no_records),
		cmocka_unit_test(test_csvhead_infer_respects_max_records),
		cmocka_unit_test(test_csvhead_infer_quoted_commas_and_newlines),
		cmocka_unit_test(test_csvhead_infer_line_ends),
		cmocka_unit_test(test_csvhead_infer_empty_line_is_one_null),
		cmocka_unit_test(test_csvhead_infer_spaces_make_text),
		cmocka_unit_test(test_csvhead_infer_quoted_empty_is_text),
		cmocka_unit_test(test_csvhead_infer_null_only_column),
		cmocka_unit_test(test_csvhead_infer_booleans),
		cmocka_unit_test(test_csvhead_infer_integer_boundaries),
		cmocka_unit_test(test_csvhead_infer_numeric_forms),
		cmocka_unit_test(test_csvhead_infer_numeric_limits),
		cmocka_unit_test(test_csvhead_infer_dates),
		cmocka_unit_test(test_csvhead_infer_timestamps),
		cmocka_unit_test(test_csvhead_infer_embedded_nul_is_text),
		cmocka_unit_test(test_csvhead_infer_widens_numbers),
		cmocka_unit_test(
			test_csvhead_infer_date_and_timestamp_are_text),
		cmocka_unit_test(test_csvhead_infer_mixed_families_are_text),
		cmocka_unit_test(test_csvhead_infer_columns_apart),
		cmocka_unit_test(test_csvhead_infer_large_sample),
		cmocka_unit_test(test_csvhead_type_sql),
		cmocka_unit_test(test_csvhead_dialect_header),
		cmocka_unit_test(test_csvhead_dialect_null_string),
		cmocka_unit_test(test_csvhead_dialect_scan_quote),
	};

	return cmocka_run_group_tests_name("snap_import_csvhead", tests, NULL,
					   NULL);
}
