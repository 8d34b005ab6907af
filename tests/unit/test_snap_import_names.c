/*
 * test_snap_import_names.c - unit tests for snap-import's names.c: the
 * table and the snapshot's date from a file's name (--table-from-name).
 */
#include "testutil.h"

#include "../../utils/snap-import/names.h"

/* Match NAME against PATTERN: "table date", "table", or "-" (none). */
static const char *route(const char *pattern, const char *name)
{
	static char out[256];
	struct snap_name_pattern p;
	struct dbops_err err = { "" };
	char date[SNAP_DATE_LEN], *table;

	assert_int_equal(snap_name_pattern_parse(pattern, &p, &err), 0);
	if (snap_name_match(&p, name, &table, date) != 0) {
		snprintf(out, sizeof(out), "-");
	} else {
		snprintf(out, sizeof(out), "%s%s%s", table, *date ? " " : "",
			 date);
		free(table);
	}
	snap_name_pattern_free(&p);
	return out;
}

static void test_names_fixed_table_and_date(void **state)
{
	const char *p = "snapshot_%Y%m%d.csv";

	assert_string_equal(route(p, "snapshot_20230101.csv"),
			    "snapshot 2023-01-01");
	assert_string_equal(route(p, "/data/in/snapshot_20240229.csv"),
			    "snapshot 2024-02-29");
	assert_string_equal(route(p, "snapshot_20240229.csv.gz"),
			    "snapshot 2024-02-29");
	assert_string_equal(route(p, "snapshot_20240229.csv.zst"),
			    "snapshot 2024-02-29");
	/* Not a date, not this name, a date that does not exist. */
	assert_string_equal(route(p, "snapshot_2023011.csv"), "-");
	assert_string_equal(route(p, "snapshot_2023010a.csv"), "-");
	assert_string_equal(route(p, "snapshot_20230101.csv.bak"), "-");
	assert_string_equal(route(p, "other_20230101.csv"), "-");
	assert_string_equal(route(p, "snapshot_20230230.csv"), "-");
	assert_string_equal(route(p, "snapshot_20231301.csv"), "-");
	assert_string_equal(route(p, "snapshot_00000101.csv"), "-");
	/* Separators in any order. */
	assert_string_equal(route("sales-%d.%m.%Y.csv", "sales-31.12.2023.csv"),
			    "sales 2023-12-31");
}

static void test_names_table_from_the_name(void **state)
{
	const char *p = "%t_%Y-%m-%d.csv";

	assert_string_equal(route(p, "orders_2024-03-01.csv"),
			    "orders 2024-03-01");
	assert_string_equal(route(p, "daily_orders_2024-03-01.csv"),
			    "daily_orders 2024-03-01");
	assert_string_equal(route(p, "_2024-03-01.csv"), "-");
	assert_string_equal(route("%t.csv", "customers.csv"), "customers");
	assert_string_equal(route("%t.csv", "a.b.csv"), "a.b");
	assert_string_equal(route("100%%_%t.csv", "100%_x.csv"), "x");
	assert_string_equal(route("load%%%Y%m%d.csv", "load%20240101.csv"),
			    "load% 2024-01-01");
}

/*
 * A name over 63 bytes, from -t or a file's name, was quoted and sent, and
 * PostgreSQL cut it to 63: two such names were one table
 * (fuzz_snap_import_names).
 */
static void test_names_table_name_length(void **state)
{
	struct dbops_err err = { "" };
	char long_name[65], name[200], want[400];

	memset(long_name, 't', 64);
	long_name[64] = '\0';
	assert_int_equal(snap_table_name_check(long_name, &err), -1);
	snprintf(
		want, sizeof(want),
		"invalid table name \"%s\": \"%s\" is longer than 63 bytes, which PostgreSQL would cut",
		long_name, long_name);
	assert_string_equal(err.msg, want);
	snprintf(name, sizeof(name), "%s.t", long_name);
	assert_int_equal(snap_table_name_check(name, &err), -1);
	snprintf(name, sizeof(name), "s.%s", long_name);
	assert_int_equal(snap_table_name_check(name, &err), -1);
	snprintf(
		want, sizeof(want),
		"invalid table name \"%s\": \"%s\" is longer than 63 bytes, which PostgreSQL would cut",
		name, long_name);
	assert_string_equal(err.msg, want);
	long_name[63] = '\0';
	assert_int_equal(snap_table_name_check(long_name, &err), 0);
	snprintf(name, sizeof(name), "%s.%s", long_name, long_name);
	assert_int_equal(snap_table_name_check(name, &err), 0);
	assert_int_equal(snap_table_name_check("", &err), -1);
	assert_string_equal(err.msg, "invalid table name \"\"");
	assert_int_equal(snap_table_name_check("s.", &err), -1);
	assert_int_equal(snap_table_name_check(".t", &err), -1);
}

static void test_names_bad_patterns(void **state)
{
	static const struct {
		const char *pattern, *why;
	} cases[] = {
		{ "snap_%Y%m.csv",
		  "%Y, %m and %d go together: the date needs all three" },
		{ "snap_%Y%m%d%Y.csv", "%Y appears twice" },
		{ "%t_%t.csv", "%t appears twice" },
		{ "snap_%H.csv",
		  "%H is not a conversion: use %Y, %m, %d, %t or %%" },
		{ "snap_%", "a lone % at the end of the pattern" },
		{ "%Y%m%d.csv",
		  "no table: put %t where its name is, or a name before the date" },
		{ "___%Y%m%d.csv",
		  "no table: put %t where its name is, or a name before the date" },
		{ "snapshot.csv",
		  "no table: put %t where its name is, or a name before the date" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct snap_name_pattern p;
		struct dbops_err err = { "" };

		assert_int_equal(
			snap_name_pattern_parse(cases[i].pattern, &p, &err),
			-1);
		assert_string_equal(err.msg, cases[i].why);
		snap_name_pattern_free(&p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_fixed_table_and_date),
		cmocka_unit_test(test_names_table_from_the_name),
		cmocka_unit_test(test_names_table_name_length),
		cmocka_unit_test(test_names_bad_patterns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
