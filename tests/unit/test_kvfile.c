/*
 * test_kvfile.c - unit tests for common/kvfile.c: every byte survives a
 * round trip, a damaged file is refused with the line, never guessed at.
 */
#include "testutil.h"

#include <errno.h>

#include "fileio.h"
#include "kvfile.h"

struct pairs {
	char keys[16][64];
	char values[16][256];
	int n;
	int stop_at; /* refuse the pair with this index (1-based) */
};

static int collect(void *ctx, const char *key, const char *value,
		   struct dbops_err *err)
{
	struct pairs *p = ctx;

	if (++p->n == p->stop_at)
		return dbops_err_set(err, "unknown status \"%s\"", value);
	snprintf(p->keys[p->n - 1], sizeof(p->keys[0]), "%s", key);
	snprintf(p->values[p->n - 1], sizeof(p->values[0]), "%s", value);
	return 0;
}

static char *written(const char *key, const char *value)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	dbops_kv_put(f, key, value);
	fclose(f);
	return text;
}

static void parse_fails(const char *text, const char *why)
{
	struct pairs p = { .n = 0 };
	struct dbops_err err = { "" };

	assert_int_equal(dbops_kv_parse(text, strlen(text), collect, &p, &err),
			 -1);
	assert_string_equal(err.msg, why);
}

static void test_kvfile_damaged_files_refused_with_the_line(void **state)
{
	/* The review's case: an unescaped error text broke into lines. */
	parse_fails(
		"status=failed\nerror=near ')\nstatus=running\nx' at line 1\n",
		"line 3: key \"status\" appears twice");
	parse_fails("a=1\nno equals sign\n",
		    "line 2: no \"=\" in \"no equals sign\"");
	parse_fails("Bad=1\n", "line 1: invalid key \"Bad\"");
	parse_fails("=1\n", "line 1: invalid key \"\"");
	parse_fails("a=x\\qy\n", "line 1: unknown escape \"\\q\"");
	parse_fails("a=x\\\n", "line 1: a value ends in a lone backslash");
	parse_fails(
		"a=\\x4\n",
		"line 1: \"\\x\" is not followed by two hex digits of a byte other than 00");
	parse_fails(
		"a=\\x00\n",
		"line 1: \"\\x\" is not followed by two hex digits of a byte other than 00");
}

static void test_kvfile_nul_byte_refused(void **state)
{
	struct pairs p = { .n = 0 };
	struct dbops_err err = { "" };
	static const char text[] = "a=1\nb=x\0y\n";

	assert_int_equal(
		dbops_kv_parse(text, sizeof(text) - 1, collect, &p, &err), -1);
	assert_string_equal(err.msg, "line 2: a NUL byte");
}

static void test_kvfile_callback_refusal_gets_the_line(void **state)
{
	struct pairs p = { .n = 0, .stop_at = 2 };
	struct dbops_err err = { "" };
	const char *text = "# comment\n\nworld=w1\nstatus=bogus\n";

	assert_int_equal(dbops_kv_parse(text, strlen(text), collect, &p, &err),
			 -1);
	assert_string_equal(err.msg, "line 4: unknown status \"bogus\"");
}

static void test_kvfile_escapes_as_documented(void **state)
{
	char *t = written("error", "a\\b\nc\rd\te\x01\x7f\xc3\xa9");

	assert_string_equal(t, "error=a\\\\b\\nc\\rd\\te\\x01\\x7f\xc3\xa9\n");
	free(t);
	t = written("empty", NULL);
	assert_string_equal(t, "empty=\n");
	free(t);
}

static void test_kvfile_every_byte_round_trips(void **state)
{
	char value[256], *t;
	struct pairs p = { .n = 0 };
	struct dbops_err err = { "" };

	for (int i = 1; i < 256; i++)
		value[i - 1] = (char)i;
	value[255] = '\0';
	t = written("all", value);
	/* One line: the only LF is the last byte. */
	assert_ptr_equal(strchr(t, '\n'), t + strlen(t) - 1);
	assert_int_equal(dbops_kv_parse(t, strlen(t), collect, &p, &err), 0);
	assert_int_equal(p.n, 1);
	assert_string_equal(p.keys[0], "all");
	assert_memory_equal(p.values[0], value, 256);
	free(t);
}

static void test_kvfile_last_line_without_newline(void **state)
{
	struct pairs p = { .n = 0 };
	struct dbops_err err = { "" };

	assert_int_equal(dbops_kv_parse("a=1\nb=2", 7, collect, &p, &err), 0);
	assert_int_equal(p.n, 2);
	assert_string_equal(p.values[1], "2");
}

static void test_kvfile_read_tells_missing_from_damaged(void **state)
{
	char *dir = make_scratch_dir("kvfile"), *path;
	struct pairs p = { .n = 0 };
	struct dbops_err err = { "" };
	struct dbops_atomic_file af;

	assert_true(asprintf(&path, "%s/world.state", dir) > 0);
	assert_int_equal(dbops_kv_read(path, collect, &p, &err), -1);
	assert_int_equal(errno, ENOENT);
	assert_string_equal(err.msg, "No such file or directory");

	assert_int_equal(dbops_atomic_open(&af, path, 0600), 0);
	dbops_kv_put(af.f, "error", "line 3: near ')\nstatus=running\nx'");
	dbops_kv_putf(af.f, "port", "%d", 3307);
	assert_int_equal(dbops_atomic_commit(&af), 0);
	assert_int_equal(dbops_kv_read(path, collect, &p, &err), 0);
	assert_int_equal(p.n, 2);
	assert_string_equal(p.values[0], "line 3: near ')\nstatus=running\nx'");
	assert_string_equal(p.values[1], "3307");

	assert_int_equal(dbops_atomic_write(path, 0600, "a=1\na=2\n", 8), 0);
	assert_int_equal(dbops_kv_read(path, collect, &p, &err), -1);
	assert_int_equal(errno, EINVAL);
	assert_string_equal(err.msg, "line 2: key \"a\" appears twice");

	assert_int_equal(dbops_kv_read(dir, collect, &p, &err), -1);
	assert_int_equal(errno, EINVAL);
	remove_scratch_dir(dir);
	free(path);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_kvfile_damaged_files_refused_with_the_line),
		cmocka_unit_test(test_kvfile_nul_byte_refused),
		cmocka_unit_test(test_kvfile_callback_refusal_gets_the_line),
		cmocka_unit_test(test_kvfile_escapes_as_documented),
		cmocka_unit_test(test_kvfile_every_byte_round_trips),
		cmocka_unit_test(test_kvfile_last_line_without_newline),
		cmocka_unit_test(test_kvfile_read_tells_missing_from_damaged),
	};

	return cmocka_run_group_tests_name("kvfile", tests, NULL, NULL);
}
