/*
 * test_snap_import_plan.c - the columns of a new table: names shortened to
 * 63 bytes, --types, and the reasons plan prints.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../utils/snap-import/plan.h"

static void test_plan_short_names_kept(void **state)
{
	char out[SNAP_NAME_MAX + 1];
	char name[64];

	snap_column_name("id", out);
	assert_string_equal(out, "id");
	memset(name, 'x', 63);
	name[63] = '\0';
	snap_column_name(name, out);
	assert_string_equal(out, name);
}

static void test_plan_long_names_shortened(void **state)
{
	char a[SNAP_NAME_MAX + 1], b[SNAP_NAME_MAX + 1], c[SNAP_NAME_MAX + 1];
	char name[80];

	memset(name, 'x', 70);
	name[70] = '\0';
	snap_column_name(name, a);
	snap_column_name(name, c);
	assert_int_equal(strlen(a), 63);
	assert_string_equal(a, c); /* the same every time */
	assert_memory_equal(a, name, 54);
	assert_int_equal(a[54], '_');
	/* A common 63-byte prefix gives two names. */
	name[69] = 'y';
	snap_column_name(name, b);
	assert_int_equal(strlen(b), 63);
	assert_string_not_equal(a, b);
}

static void test_plan_long_names_cut_whole_characters(void **state)
{
	char out[SNAP_NAME_MAX + 1];
	char name[100] = "";

	/* 53 bytes, then 2-byte characters: the cut falls inside one. */
	memset(name, 'a', 53);
	for (int i = 0; i < 10; i++)
		strcat(name, "\xc3\xa9");
	snap_column_name(name, out);
	assert_true(strlen(out) <= 63);
	assert_int_equal(out[53], '_');
}

static void test_plan_types_parse(void **state)
{
	struct snap_type_opts o = { 0 };
	struct dbops_err err = { "" };

	assert_int_equal(snap_types_parse("zip=text,n=bigint", &o, &err), 0);
	assert_int_equal(o.count, 2);
	assert_string_equal(o.overrides[0].column, "zip");
	assert_string_equal(o.overrides[0].type, "text");
	assert_string_equal(o.overrides[1].type, "bigint");
	assert_int_equal(snap_types_parse("x=double precision", &o, &err), 0);
	assert_int_equal(snap_types_parse("x", &o, &err), -1);
	assert_string_equal(err.msg, "\"x\" is not COLUMN=TYPE");
	assert_int_equal(snap_types_parse("x=int4; drop", &o, &err), -1);
	assert_non_null(strstr(err.msg, "unknown type \"int4; drop\""));
	snap_types_free(&o);
}

static void test_plan_make(void **state)
{
	char *names[] = { "zip", "n", "b" };
	struct snap_guess g[3] = {
		{ .type = SNAP_TYPE_TEXT,
		  .line = 2,
		  .value_type = SNAP_TYPE_TEXT,
		  .value = "08123" },
		{ .type = SNAP_TYPE_INTEGER },
		{ .type = SNAP_TYPE_BOOLEAN },
	};
	struct snap_type_opts o = { 0 };
	struct dbops_err err = { "" };
	struct snap_plan p;

	assert_int_equal(snap_types_parse("n=bigint", &o, &err), 0);
	assert_int_equal(snap_plan_make(names, 3, g, NULL, &o, &p, &err), 0);
	assert_string_equal(p.types[0], "text");
	assert_string_equal(
		p.why[0],
		"line 2 has \"08123\", which no other type prints back unchanged");
	assert_string_equal(p.types[1], "bigint");
	assert_string_equal(p.why[1], "given by --types");
	assert_string_equal(p.types[2], "boolean");
	snap_plan_free(&p);
	snap_types_free(&o);

	assert_int_equal(snap_types_parse("nope=text", &o, &err), 0);
	assert_int_equal(snap_plan_make(names, 3, g, NULL, &o, &p, &err), -1);
	assert_string_equal(err.msg,
			    "column \"nope\" of --types is not in the header");
	snap_types_free(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan_short_names_kept),
		cmocka_unit_test(test_plan_long_names_shortened),
		cmocka_unit_test(test_plan_long_names_cut_whole_characters),
		cmocka_unit_test(test_plan_types_parse),
		cmocka_unit_test(test_plan_make),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
