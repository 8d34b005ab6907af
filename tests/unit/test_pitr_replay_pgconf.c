/*
 * test_pitr_replay_pgconf.c - unit tests for pgconf.c: one setting's value
 * in PostgreSQL configuration files, with the server's syntax (checked by
 * hand against `postgres -C timezone` on files like these), includes
 * followed on disk and not in a tar.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../utils/pitr-replay/pgconf.h"

static struct pitr_conf_value scan(const char *text)
{
	struct pitr_conf_value v = { 0 };

	pitr_conf_scan_text(text, strlen(text), "\"postgresql.conf\"", NULL,
			    "timezone", 0, &v);
	return v;
}

static void test_pgconf_forms(void **state)
{
	struct pitr_conf_value v;

	v = scan("timezone = 'Europe/Paris'\n");
	assert_true(v.found);
	assert_string_equal(v.value, "Europe/Paris");
	assert_string_equal(v.source, "\"postgresql.conf\" line 1");
	v = scan("# timezone = 'Asia/Tokyo'\nTimeZone America/New_York # x\n");
	assert_true(v.found);
	assert_string_equal(v.value, "America/New_York");
	assert_string_equal(v.source, "\"postgresql.conf\" line 2");
	v = scan("timezone='Etc/GMT+5'\r\n\n  log_timezone = 'UTC'\n");
	assert_string_equal(v.value, "Etc/GMT+5");
	/* The last one wins; quotes doubled or escaped. */
	v = scan("timezone = 'UTC'\ntimezone = 'It''s\\tx'\n");
	assert_string_equal(v.value, "It's\tx");
	v = scan("work_mem = 4MB\n");
	assert_false(v.found);
	assert_false(v.unknown);
}

static void test_pgconf_unknown(void **state)
{
	struct pitr_conf_value v;

	/* An include in a tar cannot be read: unknown, unless set later. */
	v = scan("timezone = 'UTC'\ninclude_dir = 'conf.d'\n");
	assert_false(v.found);
	assert_true(v.unknown);
	assert_string_equal(
		v.why,
		"\"postgresql.conf\" line 2 includes a file not read here");
	v = scan("include 'x.conf'\ntimezone = 'UTC'\n");
	assert_true(v.found);
	assert_false(v.unknown);
	v = scan("timezone = 'UTC\n");
	assert_true(v.unknown);
	assert_string_equal(v.why,
			    "\"postgresql.conf\" line 1 is not a setting");
	v = scan("timezone = UTC junk\n");
	assert_true(v.unknown);
	v = scan("= UTC\n");
	assert_true(v.unknown);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_pgconf_includes_on_disk(void **state)
{
	char dir[] = "/tmp/pgconfXXXXXX", path[256], sub[256];
	struct pitr_conf_value v = { 0 };

	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/conf.d", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(path, sizeof(path), "%s/conf.d/10-zone.conf", dir);
	write_file(path, "timezone = 'Asia/Tokyo'\n");
	snprintf(path, sizeof(path), "%s/conf.d/20-zone.conf", dir);
	write_file(path, "timezone = 'Europe/Paris'\n");
	snprintf(path, sizeof(path), "%s/conf.d/30-zone.conf.off", dir);
	write_file(path, "timezone = 'Europe/Oslo'\n");
	snprintf(path, sizeof(path), "%s/postgresql.conf", dir);
	write_file(path, "timezone = 'UTC'\ninclude_dir 'conf.d'\n"
			 "include_if_exists = 'absent.conf'\n");
	pitr_conf_scan_file(path, "timezone", false, 0, &v);
	assert_true(v.found);
	assert_string_equal(v.value, "Europe/Paris");
	snprintf(sub, sizeof(sub), "\"%s/conf.d/20-zone.conf\" line 1", dir);
	assert_string_equal(v.source, sub);
	/* A missing include (not _if_exists) stops the server: unknown. */
	write_file(path, "include 'absent.conf'\n");
	memset(&v, 0, sizeof(v));
	pitr_conf_scan_file(path, "timezone", false, 0, &v);
	assert_true(v.unknown);
	/* A file that includes itself ends at the depth limit. */
	write_file(path, "include 'postgresql.conf'\n");
	memset(&v, 0, sizeof(v));
	pitr_conf_scan_file(path, "timezone", false, 0, &v);
	assert_true(v.unknown);
	snprintf(path, sizeof(path), "rm -r '%s'", dir);
	assert_int_equal(system(path), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pgconf_forms),
		cmocka_unit_test(test_pgconf_unknown),
		cmocka_unit_test(test_pgconf_includes_on_disk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
