/*
 * test_output.c - unit tests for common/output.c: the exact bytes of the
 * table, csv, tsv and json formats, their escaping of control bytes and
 * invalid UTF-8, and the reporting of misuse and of failed writes.
 */
#include "testutil.h"

#include <errno.h>

#include "output.h"

/* A value from a string literal, which may hold NUL bytes. */
#define VALUE(lit) ((struct dbops_value){ (lit), sizeof(lit) - 1 })

/* Output captured in memory with open_memstream. */
struct sink {
	FILE *f;
	char *buf;
	size_t len;
};

static struct dbops_output *sink_open(struct sink *s,
				      enum dbops_output_format fmt)
{
	struct dbops_output *w;

	s->buf = NULL;
	s->len = 0;
	s->f = open_memstream(&s->buf, &s->len);
	assert_non_null(s->f);
	w = dbops_output_new(s->f, fmt);
	assert_non_null(w);
	return w;
}

/* Finishes and frees w; returns all it wrote (caller frees), s->len set. */
static char *sink_close(struct sink *s, struct dbops_output *w)
{
	assert_int_equal(dbops_output_finish(w), 0);
	dbops_output_free(w);
	assert_int_equal(fclose(s->f), 0);
	return s->buf;
}

static void add(struct dbops_output *w, const char *name,
		enum dbops_column_kind kind)
{
	assert_int_equal(dbops_output_add_column(w, name, kind), 0);
}

static void row(struct dbops_output *w, const char *const *values)
{
	assert_int_equal(dbops_output_row_strings(w, values), 0);
}

/* The small table every format is shown with. */
static char *small_table(enum dbops_output_format fmt)
{
	struct sink s;
	struct dbops_output *w = sink_open(&s, fmt);

	add(w, "id", DBOPS_COLUMN_NUMBER);
	add(w, "name", DBOPS_COLUMN_TEXT);
	add(w, "note", DBOPS_COLUMN_TEXT);
	row(w, (const char *[]){ "1", "alice", NULL });
	row(w, (const char *[]){ "42", "bob", "x,y" });
	return sink_close(&s, w);
}

/*
 * The json of one value of kind, in a column "v": what stands between
 * {"v": and } (caller frees).
 */
static char *json_cell(enum dbops_column_kind kind, const char *data,
		       size_t len)
{
	static const char head[] = "[\n{\"v\":", tail[] = "}\n]\n";
	struct dbops_value v = { data, len };
	struct sink s;
	struct dbops_output *w = sink_open(&s, DBOPS_FORMAT_JSON);
	char *out, *cell;
	size_t n;

	add(w, "v", kind);
	assert_int_equal(dbops_output_row(w, &v), 0);
	out = sink_close(&s, w);
	n = strlen(out);
	assert_true(n >= strlen(head) + strlen(tail));
	assert_memory_equal(out, head, strlen(head));
	assert_string_equal(out + n - strlen(tail), tail);
	cell = strndup(out + strlen(head), n - strlen(head) - strlen(tail));
	assert_non_null(cell);
	free(out);
	return cell;
}

static void assert_json_text(const char *data, size_t len, const char *want)
{
	char *got = json_cell(DBOPS_COLUMN_TEXT, data, len);

	assert_string_equal(got, want);
	free(got);
}

/* ---- misuse and failures ------------------------------------------------ */

static void test_output_parse_format_rejects_others(void **state)
{
	static const char *const bad[] = {
		"", "TABLE", "Json", "xml", "csv ", " tsv", "tab", "jsonl",
	};
	enum dbops_output_format fmt = DBOPS_FORMAT_TSV;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		assert_int_equal(dbops_output_parse_format(bad[i], &fmt), -1);
		assert_int_equal(errno, EINVAL);
		assert_int_equal(fmt, DBOPS_FORMAT_TSV);
	}
	assert_int_equal(dbops_output_parse_format(NULL, &fmt), -1);
	assert_int_equal(dbops_output_parse_format("csv", NULL), -1);
}

static void test_output_new_rejects_bad_arguments(void **state)
{
	errno = 0;
	assert_null(dbops_output_new(NULL, DBOPS_FORMAT_CSV));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(dbops_output_new(stdout, (enum dbops_output_format)42));
	assert_int_equal(errno, EINVAL);
}

static void test_output_add_column_rejects_misuse(void **state)
{
	struct sink s;
	struct dbops_output *w = sink_open(&s, DBOPS_FORMAT_CSV);
	char *out;

	errno = 0;
	assert_int_equal(dbops_output_add_column(w, NULL, DBOPS_COLUMN_TEXT),
			 -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(
		dbops_output_add_column(w, "x", (enum dbops_column_kind)9), -1);
	assert_int_equal(errno, EINVAL);
	add(w, "a", DBOPS_COLUMN_TEXT);
	row(w, (const char *[]){ "1" });
	errno = 0;
	assert_int_equal(dbops_output_add_column(w, "late", DBOPS_COLUMN_TEXT),
			 -1);
	assert_int_equal(errno, EINVAL);
	row(w, (const char *[]){ "2" });
	out = sink_close(&s, w);
	assert_string_equal(out, "a\n1\n2\n");
	free(out);
}

static void test_output_row_without_columns_fails(void **state)
{
	struct dbops_value v = VALUE("x");
	struct sink s;
	struct dbops_output *w = sink_open(&s, DBOPS_FORMAT_JSON);
	char *out;

	errno = 0;
	assert_int_equal(dbops_output_row(w, &v), -1);
	assert_int_equal(errno, EINVAL);
	add(w, "a", DBOPS_COLUMN_TEXT);
	errno = 0;
	assert_int_equal(dbops_output_row(w, NULL), -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(dbops_output_row_strings(w, NULL), -1);
	assert_int_equal(errno, EINVAL);
	out = sink_close(&s, w);
	assert_string_equal(out, "[]\n");
	free(out);
}

static void test_output_nothing_after_finish(void **state)
{
	struct sink s;
	struct dbops_output *w = sink_open(&s, DBOPS_FORMAT_TSV);

	add(w, "a", DBOPS_COLUMN_TEXT);
	assert_int_equal(dbops_output_finish(w), 0);
	errno = 0;
	assert_int_equal(dbops_output_row_strings(w, (const char *[]){ "1" }),
			 -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(dbops_output_add_column(w, "b", DBOPS_COLUMN_TEXT),
			 -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(dbops_output_finish(w), -1);
	assert_int_equal(errno, EINVAL);
	dbops_output_free(w);
	dbops_output_free(NULL);
	assert_int_equal(fclose(s.f), 0);
	assert_string_equal(s.buf, "a\n");
	free(s.buf);
}

static void test_output_finish_reports_write_error(void **state)
{
	static const enum dbops_output_format fmts[] = {
		DBOPS_FORMAT_TABLE,
		DBOPS_FORMAT_CSV,
		DBOPS_FORMAT_TSV,
		DBOPS_FORMAT_JSON,
	};

	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		FILE *f = fopen("/dev/full", "w");
		struct dbops_output *w;

		assert_non_null(f);
		w = dbops_output_new(f, fmts[i]);
		assert_non_null(w);
		add(w, "a", DBOPS_COLUMN_TEXT);
		/* Small enough to stay in the FILE's buffer until finish. */
		row(w, (const char *[]){ "x" });
		errno = 0;
		assert_int_equal(dbops_output_finish(w), -1);
		assert_int_equal(errno, ENOSPC);
		dbops_output_free(w);
		fclose(f);
	}
}

static void test_output_write_error_is_sticky(void **state)
{
	FILE *f = fopen("/dev/full", "w");
	struct dbops_output *w;

	assert_non_null(f);
	assert_int_equal(setvbuf(f, NULL, _IONBF, 0), 0);
	w = dbops_output_new(f, DBOPS_FORMAT_CSV);
	assert_non_null(w);
	add(w, "a", DBOPS_COLUMN_TEXT);
	errno = 0;
	assert_int_equal(dbops_output_row_strings(w, (const char *[]){ "x" }),
			 -1);
	assert_int_equal(errno, ENOSPC);
	errno = 0;
	assert_int_equal(dbops_output_row_strings(w, (const char *[]){ "y" }),
			 -1);
	assert_int_equal(errno, ENOSPC);
	errno = 0;
	assert_int_equal(dbops_output_finish(w), -1);
	assert_int_equal(errno, ENOSPC);
	dbops_output_free(w);
	fclose(f);
}

static void test_output_parse_format_accepts_four(void **state)
{
	enum dbops_output_format fmt;

	assert_int_equal(dbops_output_parse_format("table", &fmt), 0);
	assert_int_equal(fmt, DBOPS_FORMAT_TABLE);
	assert_int_equal(dbops_output_parse_format("csv", &fmt), 0);
	assert_int_equal(fmt, DBOPS_FORMAT_CSV);
	assert_int_equal(dbops_output_parse_format("tsv", &fmt), 0);
	assert_int_equal(fmt, DBOPS_FORMAT_TSV);
	assert_int_equal(dbops_output_parse_format("json", &fmt), 0);
	assert_int_equal(fmt, DBOPS_FORMAT_JSON);
}

/* ---- table -------------------------------------------------------------- */

static void test_output_table_exact_bytes(void **state)
{
	char *out = small_table(DBOPS_FORMAT_TABLE);

	assert_string_equal(out, "+----+-------+------+\n"
				 "| id | name  | note |\n"
				 "+----+-------+------+\n"
				 "|  1 | alice | NULL |\n"
				 "| 42 | bob   | x,y  |\n"
				 "+----+-------+------+\n");
	free(out);
}

static void test_output_table_no_rows_header_box(void **state)
{
	struct sink s;
	struct dbops_output *w = sink_open(&s, DBOPS_FORMAT_TABLE);
	char *out;

	add(w, "id", DBOPS_COLUMN_NUMBER);
	add(w, "", DBOPS_COLUMN_TEXT);
	out = sink_close(&s, w);
	assert_string_equal(out, "+----+--+\n"
				 "| id |  |\n"
				 "+----+--+\n");
	free(out);
}

/*
 * One column without a name, no row: the table's arena was never allocated, and
 * stepping its NULL pointer by 0 is undefined (found by the QA round and
 * again by fuzz_event_store_output; this test fails under UBSan).
 */
static void test_output_table_all_empty(void **state)
{
	struct sink s;
	struct dbops_output *w = sink_open(&s, DBOPS_FORMAT_TABLE);
	char *out;

	add(w, "", DBOPS_COLUMN_BINARY);
	out = sink_close(&s, w);
	assert_string_equal(out, "+--+\n"
				 "|  |\n"
				 "+--+\n");
	free(out);
}

static void test_output_no_columns_empty_document(void **state)
{
	static const struct {
		enum dbops_output_format fmt;
		const char *want;
	} cases[] = {
		{ DBOPS_FORMAT_TABLE, "" },
		{ DBOPS_FORMAT_CSV, "" },
		{ DBOPS_FORMAT_TSV, "" },
		{ DBOPS_FORMAT_JSON, "[]\n" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sink s;
		char *out = sink_close(&s, sink_open(&s, cases[i].fmt));

		assert_string_equal(out, cases[i].want);
		free(out);
	}
}

static void test_output_table_utf8_width_numbers_right(void **state)
{
	struct sink s;
	struct dbops_output *w = sink_open(&s, DBOPS_FORMAT_TABLE);
	char *out;

	add(w, "città", DBOPS_COLUMN_TEXT);
	add(w, "n", DBOPS_COLUMN_NUMBER);
	row(w, (const char *[]){ "é", "5" });
	row(w, (const char *[]){ "日本", "12345" });
	row(w, (const char *[]){ "😀x", NULL });
	out = sink_close(&s, w);
	assert_string_equal(out, "+-------+-------+\n"
				 "| città | n     |\n"
				 "+-------+-------+\n"
				 "| é     |     5 |\n"
				 "| 日本  | 12345 |\n"
				 "| 😀x   |  NULL |\n"
				 "+-------+-------+\n");
	free(out);
}

/* Terminal columns: wide 2, combining marks and joiners 0, like wcwidth. */
static void test_output_table_measures_display_width(void **state)
{
	struct sink s;
	struct dbops_output *w = sink_open(&s, DBOPS_FORMAT_TABLE);
	char *out;

	add(w, "name", DBOPS_COLUMN_TEXT);
	row(w, (const char *[]){ "山田太郎" }); /* 8 */
	row(w, (const char *[]){
		       "e\xcc\x81 \xef\xbd\xb6\xef\xbe\x80" }); /* é ｶﾀ: 4 */
	row(w,
	    (const char *[]){
		    "\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9" }); /* 👨‍👩: 4 */
	row(w, (const char *[]){ "Zoë 🐉" });			       /* 6 */
	out = sink_close(&s, w);
	assert_string_equal(
		out, "+----------+\n"
		     "| name     |\n"
		     "+----------+\n"
		     "| 山田太郎 |\n"
		     "| e\xcc\x81 \xef\xbd\xb6\xef\xbe\x80     |\n"
		     "| \xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9     |\n"
		     "| Zoë 🐉   |\n"
		     "+----------+\n");
	free(out);
}

static void test_output_table_escapes_unsafe_bytes(void **state)
{
	static const struct dbops_value rows[] = {
		VALUE("a\nb\tc\rd\\e"),
		VALUE("\x01\x7f\xff\xc3"), /* C3 truncated at the end */
		VALUE("x\0y"),
		VALUE("\xc3\xa9\xe6\x97"), /* é, then a truncated 日 */
	};
	struct sink s;
	struct dbops_output *w = sink_open(&s, DBOPS_FORMAT_TABLE);
	char *out;

	add(w, "v\x1b", DBOPS_COLUMN_TEXT);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_int_equal(dbops_output_row(w, &rows[i]), 0);
	out = sink_close(&s, w);
	assert_string_equal(out, "+------------------+\n"
				 "| v\\x1b            |\n"
				 "+------------------+\n"
				 "| a\\nb\\tc\\rd\\e     |\n"
				 "| \\x01\\x7f\\xff\\xc3 |\n"
				 "| x\\x00y           |\n"
				 "| é\\xe6\\x97        |\n"
				 "+------------------+\n");
	free(out);
}

static void test_output_table_binary_as_hex(void **state)
{
	struct dbops_value r1[] = { VALUE("\x00\xff\x10"), VALUE("x") };
	struct dbops_value r2[] = { VALUE(""), { NULL, 0 } };
	struct dbops_value r3[] = { { NULL, 0 }, VALUE("") };
	struct sink s;
	struct dbops_output *w = sink_open(&s, DBOPS_FORMAT_TABLE);
	char *out;

	add(w, "b", DBOPS_COLUMN_BINARY);
	add(w, "t", DBOPS_COLUMN_TEXT);
	assert_int_equal(dbops_output_row(w, r1), 0);
	assert_int_equal(dbops_output_row(w, r2), 0);
	assert_int_equal(dbops_output_row(w, r3), 0);
	out = sink_close(&s, w);
	assert_string_equal(out, "+----------+------+\n"
				 "| b        | t    |\n"
				 "+----------+------+\n"
				 "| 0x00ff10 | x    |\n"
				 "| 0x       | NULL |\n"
				 "| NULL     |      |\n"
				 "+----------+------+\n");
	free(out);
}

static void test_output_table_holds_rows_to_finish(void **state)
{
	struct sink s;
	struct dbops_output *w = sink_open(&s, DBOPS_FORMAT_TABLE);
	char num[16];
	char *out;

	add(w, "n", DBOPS_COLUMN_NUMBER);
	for (int i = 0; i < 1000; i++) {
		snprintf(num, sizeof(num), "%d", i);
		row(w, (const char *[]){ num });
	}
	assert_int_equal(fflush(s.f), 0);
	assert_int_equal(s.len, 0);
	out = sink_close(&s, w);
	/* 3 rules, the header and 1000 rows, each "| nnn |\n". */
	assert_int_equal(s.len, 8 * 1004);
	assert_memory_equal(out, "+-----+\n| n   |\n+-----+\n|   0 |\n", 32);
	assert_memory_equal(out + 24 + 8 * 10, "|  10 |\n", 8);
	assert_string_equal(out + s.len - 16, "| 999 |\n+-----+\n");
	free(out);
}

/* ---- csv ---------------------------------------------------------------- */

static void test_output_csv_exact_bytes(void **state)
{
	char *out = small_table(DBOPS_FORMAT_CSV);

	assert_string_equal(out, "id,name,note\n"
				 "1,alice,\n"
				 "42,bob,\"x,y\"\n");
	free(out);
}

static void test_output_csv_null_is_not_empty_string(void **state)
{
	struct sink s;
	struct dbops_output *w = sink_open(&s, DBOPS_FORMAT_CSV);
	char *out;

	add(w, "a", DBOPS_COLUMN_TEXT);
	add(w, "b", DBOPS_COLUMN_NUMBER);
	row(w, (const char *[]){ "", NULL });
	row(w, (const char *[]){ NULL, "" });
	out = sink_close(&s, w);
	assert_string_equal(out, "a,b\n"
				 "\"\",\n"
				 ",\"\"\n");
	free(out);
}

static void test_output_csv_quoting_rules(void **state)
{
	static const char *const values[] = {
		"plain",  "a,b",     "say \"hi\"", "cr\rx", "lf\nx", " lead",
		"trail ", "in side", "tab\tx",	   "\"",    "",
	};
	struct sink s;
	struct dbops_output *w = sink_open(&s, DBOPS_FORMAT_CSV);
	char *out;

	add(w, "v", DBOPS_COLUMN_TEXT);
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
		row(w, &values[i]);
	out = sink_close(&s, w);
	assert_string_equal(out, "v\n"
				 "plain\n"
				 "\"a,b\"\n"
				 "\"say \"\"hi\"\"\"\n"
				 "\"cr\rx\"\n"
				 "\"lf\nx\"\n"
				 "\" lead\"\n"
				 "\"trail \"\n"
				 "in side\n"
				 "tab\tx\n"
				 "\"\"\"\"\n"
				 "\"\"\n");
	free(out);
}

static void test_output_csv_header_quoted_binary_raw(void **state)
{
	struct dbops_value v[] = { VALUE("x\0,\xff"), VALUE("\x01\x80") };
	static const char want[] = "\"a,b\",\"\"\n\"x\0,\xff\",\x01\x80\n";
	struct sink s;
	struct dbops_output *w = sink_open(&s, DBOPS_FORMAT_CSV);
	char *out;

	add(w, "a,b", DBOPS_COLUMN_BINARY);
	add(w, "", DBOPS_COLUMN_TEXT);
	assert_int_equal(dbops_output_row(w, v), 0);
	out = sink_close(&s, w);
	assert_int_equal(s.len, sizeof(want) - 1);
	assert_memory_equal(out, want, sizeof(want) - 1);
	free(out);
}

static void test_output_csv_streams_rows(void **state)
{
	struct sink s;
	struct dbops_output *w = sink_open(&s, DBOPS_FORMAT_CSV);
	char *out;

	add(w, "a", DBOPS_COLUMN_NUMBER);
	row(w, (const char *[]){ "1" });
	assert_int_equal(fflush(s.f), 0);
	assert_string_equal(s.buf, "a\n1\n");
	out = sink_close(&s, w);
	assert_string_equal(out, "a\n1\n");
	free(out);
}

/* ---- tsv ---------------------------------------------------------------- */

static void test_output_tsv_exact_bytes(void **state)
{
	char *out = small_table(DBOPS_FORMAT_TSV);

	assert_string_equal(out, "id\tname\tnote\n"
				 "1\talice\t\\N\n"
				 "42\tbob\tx,y\n");
	free(out);
}

static void test_output_tsv_escapes_and_null(void **state)
{
	struct dbops_value r1[] = { VALUE("back\\slash"), { NULL, 0 } };
	struct dbops_value r2[] = { VALUE("t\tn\nr\r"), VALUE("\\N") };
	struct dbops_value r3[] = { VALUE(""), VALUE("\0\x01\\\xff") };
	static const char want[] = "a\\tb\tc\\\\\n"
				   "back\\\\slash\t\\N\n"
				   "t\\tn\\nr\\r\t\\\\N\n"
				   "\t\0\x01\\\\\xff\n";
	struct sink s;
	struct dbops_output *w = sink_open(&s, DBOPS_FORMAT_TSV);
	char *out;

	add(w, "a\tb", DBOPS_COLUMN_TEXT);
	add(w, "c\\", DBOPS_COLUMN_BINARY);
	assert_int_equal(dbops_output_row(w, r1), 0);
	assert_int_equal(dbops_output_row(w, r2), 0);
	assert_int_equal(dbops_output_row(w, r3), 0);
	out = sink_close(&s, w);
	assert_int_equal(s.len, sizeof(want) - 1);
	assert_memory_equal(out, want, sizeof(want) - 1);
	free(out);
}

/* ---- json --------------------------------------------------------------- */

static void test_output_json_exact_bytes(void **state)
{
	char *out = small_table(DBOPS_FORMAT_JSON);

	assert_string_equal(out,
			    "[\n"
			    "{\"id\":1,\"name\":\"alice\",\"note\":null},\n"
			    "{\"id\":42,\"name\":\"bob\",\"note\":\"x,y\"}\n"
			    "]\n");
	free(out);
}

static void test_output_json_no_rows_empty_array(void **state)
{
	struct sink s;
	struct dbops_output *w = sink_open(&s, DBOPS_FORMAT_JSON);
	char *out;

	add(w, "a", DBOPS_COLUMN_TEXT);
	out = sink_close(&s, w);
	assert_string_equal(out, "[]\n");
	free(out);
}

static void test_output_json_escapes_control_bytes(void **state)
{
	char in[36];

	for (int i = 0; i < 32; i++)
		in[i] = (char)i;
	memcpy(in + 32, "\"\\\x7f/", 4);
	assert_json_text(in, sizeof(in),
			 "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006"
			 "\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f"
			 "\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016"
			 "\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d"
			 "\\u001e\\u001f\\\"\\\\\x7f/\"");
}

static void test_output_json_replaces_invalid_utf8(void **state)
{
	static const struct {
		const char *in;
		const char *want;
	} cases[] = {
		/* lone continuation bytes */
		{ "\x80", "\"\\ufffd\"" },
		{ "a\xbf"
		  "b",
		  "\"a\\ufffdb\"" },
		/* truncated sequences, at the end and before ASCII */
		{ "\xe6\x97", "\"\\ufffd\\ufffd\"" },
		{ "\xe6\x97x", "\"\\ufffd\\ufffdx\"" },
		{ "\xf0\x9f\x98", "\"\\ufffd\\ufffd\\ufffd\"" },
		{ "\xc3", "\"\\ufffd\"" },
		/* overlong forms */
		{ "\xc0\x80", "\"\\ufffd\\ufffd\"" },
		{ "\xc1\xbf", "\"\\ufffd\\ufffd\"" },
		{ "\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"" },
		{ "\xf0\x80\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" },
		/* surrogates U+D800 and U+DFFF */
		{ "\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"" },
		{ "\xed\xbf\xbf", "\"\\ufffd\\ufffd\\ufffd\"" },
		/* above U+10FFFF, and bytes that never occur */
		{ "\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" },
		{ "\xf5\xf8\xfe\xff", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" },
		/* a lead byte followed by another lead byte */
		{ "\xc3\xc3\xa9", "\"\\ufffd\xc3\xa9\"" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_json_text(cases[i].in, strlen(cases[i].in),
				 cases[i].want);
}

static void test_output_json_passes_valid_utf8(void **state)
{
	static const char *const valid[] = {
		"é",
		"日本",
		"😀",
		"a😀b",
		"\x7f",		    /* U+007F */
		"\xc2\x80",	    /* U+0080 */
		"\xed\x9f\xbf",	    /* U+D7FF, below the surrogates */
		"\xee\x80\x80",	    /* U+E000, above them */
		"\xef\xbf\xbf",	    /* U+FFFF */
		"\xf4\x8f\xbf\xbf", /* U+10FFFF */
	};
	char want[64];

	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		snprintf(want, sizeof(want), "\"%s\"", valid[i]);
		assert_json_text(valid[i], strlen(valid[i]), want);
	}
}

static void test_output_json_validates_numbers(void **state)
{
	static const char *const bare[] = {
		"0",	"-0",	"42",	"-17",	  "3.14",
		"-0.0", "1e10", "1E+2", "2.5e-3", "10.01E07",
	};
	static const char *const quoted[] = {
		"NaN",	 "Infinity", "-Infinity", "1.",	  "+1",	  "",	"01",
		".5",	 "1e",	     "1e+",	  "0x10", " 1",	  "1 ", "--1",
		"1.5.2", "-",	     "1_000",	  "-.5",  "1.e3",
	};
	char want[64], *got;

	for (size_t i = 0; i < sizeof(bare) / sizeof(bare[0]); i++) {
		got = json_cell(DBOPS_COLUMN_NUMBER, bare[i], strlen(bare[i]));
		assert_string_equal(got, bare[i]);
		free(got);
	}
	for (size_t i = 0; i < sizeof(quoted) / sizeof(quoted[0]); i++) {
		got = json_cell(DBOPS_COLUMN_NUMBER, quoted[i],
				strlen(quoted[i]));
		snprintf(want, sizeof(want), "\"%s\"", quoted[i]);
		assert_string_equal(got, want);
		free(got);
	}
	got = json_cell(DBOPS_COLUMN_NUMBER, "12\0", 3);
	assert_string_equal(got, "\"12\\u0000\"");
	free(got);
	got = json_cell(DBOPS_COLUMN_TEXT, "42", 2);
	assert_string_equal(got, "\"42\"");
	free(got);
	got = json_cell(DBOPS_COLUMN_NUMBER, NULL, 0);
	assert_string_equal(got, "null");
	free(got);
}

static void test_output_json_binary_hex_keys_escaped(void **state)
{
	struct dbops_value r1[] = { VALUE("\x00\xff\x10"), VALUE("x") };
	struct dbops_value r2[] = { VALUE(""), { NULL, 0 } };
	struct sink s;
	struct dbops_output *w = sink_open(&s, DBOPS_FORMAT_JSON);
	char *out;

	add(w, "b", DBOPS_COLUMN_BINARY);
	add(w, "k\"\n\xff", DBOPS_COLUMN_TEXT);
	assert_int_equal(dbops_output_row(w, r1), 0);
	assert_int_equal(dbops_output_row(w, r2), 0);
	out = sink_close(&s, w);
	assert_string_equal(out,
			    "[\n"
			    "{\"b\":\"0x00ff10\",\"k\\\"\\n\\ufffd\":\"x\"},\n"
			    "{\"b\":\"0x\",\"k\\\"\\n\\ufffd\":null}\n"
			    "]\n");
	free(out);
}

static void test_output_json_streams_rows(void **state)
{
	struct sink s;
	struct dbops_output *w = sink_open(&s, DBOPS_FORMAT_JSON);
	char *out;

	add(w, "a", DBOPS_COLUMN_NUMBER);
	row(w, (const char *[]){ "1" });
	assert_int_equal(fflush(s.f), 0);
	assert_string_equal(s.buf, "[\n{\"a\":1}");
	row(w, (const char *[]){ "2" });
	assert_int_equal(fflush(s.f), 0);
	assert_string_equal(s.buf, "[\n{\"a\":1},\n{\"a\":2}");
	out = sink_close(&s, w);
	assert_string_equal(out, "[\n{\"a\":1},\n{\"a\":2}\n]\n");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_output_parse_format_rejects_others),
		cmocka_unit_test(test_output_new_rejects_bad_arguments),
		cmocka_unit_test(test_output_add_column_rejects_misuse),
		cmocka_unit_test(test_output_row_without_columns_fails),
		cmocka_unit_test(test_output_nothing_after_finish),
		cmocka_unit_test(test_output_finish_reports_write_error),
		cmocka_unit_test(test_output_write_error_is_sticky),
		cmocka_unit_test(test_output_parse_format_accepts_four),
		cmocka_unit_test(test_output_table_exact_bytes),
		cmocka_unit_test(test_output_table_no_rows_header_box),
		cmocka_unit_test(test_output_table_all_empty),
		cmocka_unit_test(test_output_no_columns_empty_document),
		cmocka_unit_test(test_output_table_utf8_width_numbers_right),
		cmocka_unit_test(test_output_table_measures_display_width),
		cmocka_unit_test(test_output_table_escapes_unsafe_bytes),
		cmocka_unit_test(test_output_table_binary_as_hex),
		cmocka_unit_test(test_output_table_holds_rows_to_finish),
		cmocka_unit_test(test_output_csv_exact_bytes),
		cmocka_unit_test(test_output_csv_null_is_not_empty_string),
		cmocka_unit_test(test_output_csv_quoting_rules),
		cmocka_unit_test(test_output_csv_header_quoted_binary_raw),
		cmocka_unit_test(test_output_csv_streams_rows),
		cmocka_unit_test(test_output_tsv_exact_bytes),
		cmocka_unit_test(test_output_tsv_escapes_and_null),
		cmocka_unit_test(test_output_json_exact_bytes),
		cmocka_unit_test(test_output_json_no_rows_empty_array),
		cmocka_unit_test(test_output_json_escapes_control_bytes),
		cmocka_unit_test(test_output_json_replaces_invalid_utf8),
		cmocka_unit_test(test_output_json_passes_valid_utf8),
		cmocka_unit_test(test_output_json_validates_numbers),
		cmocka_unit_test(test_output_json_binary_hex_keys_escaped),
		cmocka_unit_test(test_output_json_streams_rows),
	};

	return cmocka_run_group_tests_name("output", tests, NULL, NULL);
}
