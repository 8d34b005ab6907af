/*
 * test_dump_restore_catalog.c - unit tests for dump-restore's catalog:
 * world and time from dump file names, natural order, and the dump each
 * world uses at a given time.
 */
#include "testutil.h"

#include <time.h>

#include "../../utils/dump-restore/catalog.h"
#include "log.h"
#include "timestamp.h"

static int utc(void **state)
{
	setenv("TZ", "UTC", 1);
	tzset();
	dbops_log_init("dump-restore");
	return 0;
}

static int64_t at(const char *text)
{
	int64_t usec;
	struct dbops_err err;

	assert_int_equal(dbops_timestamp_parse(text, &usec, &err), 0);
	return usec;
}

static void parses(const char *name, const char *world, const char *when)
{
	char *w = NULL;
	struct dbops_err err;
	int64_t usec;

	assert_int_equal(dr_dump_parse_name(name, &w, &usec, &err), 0);
	assert_string_equal(w, world);
	assert_int_equal(usec, at(when));
	free(w);
}

static void test_catalog_name_rejects_what_does_not_parse(void **state)
{
	char *w = NULL;
	struct dbops_err err;
	int64_t usec;

	assert_int_equal(dr_dump_parse_name("world1.sql", &w, &usec, &err), -1);
	assert_string_equal(err.msg, "the name does not end in .sql.gz");
	assert_int_equal(
		dr_dump_parse_name("world1-latest.sql.gz", &w, &usec, &err),
		-1);
	assert_string_equal(
		err.msg,
		"it is not named <world>-<time>.sql.gz (time such as 2024-03-01T02:00:00Z or 20240301_020000)");
	assert_int_equal(
		dr_dump_parse_name("2024-03-01.sql.gz", &w, &usec, &err), -1);
	assert_int_equal(
		dr_dump_parse_name("wo rld-2024-03-01.sql.gz", &w, &usec, &err),
		-2);
	assert_string_equal(
		err.msg,
		"world name \"wo rld\" must start with a letter or a digit and hold only letters, digits, '-', '_' and '.'");
	/* Hidden, or read as an option: no command could name it. */
	assert_int_equal(dr_dump_parse_name(".hidden-2024-03-01.sql.gz", &w,
					    &usec, &err),
			 -2);
	assert_string_equal(
		err.msg,
		"world name \".hidden\" must start with a letter or a digit and hold only letters, digits, '-', '_' and '.'");
	assert_int_equal(
		dr_dump_parse_name("-dash-2024-03-01.sql.gz", &w, &usec, &err),
		-2);
	/*
	 * Over 127 bytes a world's name was cut (struct dr_world, worlds.cnf)
	 * while its directory was not (fuzz_dump_restore_names).
	 */
	{
		char name[256], world[129];

		memset(world, 'w', 128);
		world[128] = '\0';
		snprintf(name, sizeof(name), "%s-2024-03-01.sql.gz", world);
		assert_int_equal(dr_dump_parse_name(name, &w, &usec, &err), -2);
		assert_string_equal(
			err.msg,
			"world name \"wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww...\" is longer than 127 bytes");
		assert_false(dr_world_name_ok(world));
		world[127] = '\0';
		assert_true(dr_world_name_ok(world));
		snprintf(name, sizeof(name), "%s-2024-03-01.sql.gz", world);
		assert_int_equal(dr_dump_parse_name(name, &w, &usec, &err), 0);
		assert_string_equal(w, world);
		free(w);
		w = NULL;
	}
	assert_false(dr_world_name_ok(".hidden"));
	assert_false(dr_world_name_ok("-dash"));
	assert_false(dr_world_name_ok(".."));
	assert_false(dr_world_name_ok(""));
	assert_true(dr_world_name_ok("w.orld_odd-name"));
	assert_null(w);
}

static void test_catalog_name_forms(void **state)
{
	parses("world1-2024-03-01T02:00:00Z.sql.gz", "world1",
	       "2024-03-01T02:00:00Z");
	parses("world2_20240301_020000.sql.gz", "world2",
	       "2024-03-01T02:00:00Z");
	parses("world3.2024-03-01_02-00-00.sql.gz", "world3",
	       "2024-03-01T02:00:00Z");
	parses("world10-20240301T140000Z.sql.gz", "world10",
	       "2024-03-01T14:00:00Z");
	parses("w-2024-03-01.sql.gz", "w", "2024-03-01");
}

static void test_catalog_name_world_with_separators(void **state)
{
	parses("eu-world1-2024-03-01T02:00:00Z.sql.gz", "eu-world1",
	       "2024-03-01T02:00:00Z");
	parses("eu_west.world_7_20240301_020000.sql.gz", "eu_west.world_7",
	       "2024-03-01T02:00:00Z");
}

static void add(struct dr_catalog *c, const char *world, const char *when)
{
	struct dr_dump *d;

	c->dumps = realloc(c->dumps, (c->count + 1) * sizeof(*c->dumps));
	d = &c->dumps[c->count++];
	assert_true(asprintf(&d->path, "/dumps/%s-%s.sql.gz", world, when) > 0);
	d->world = strdup(world);
	d->usec = at(when);
	d->size = 1;
	d->mtime = 1;
}

static void test_catalog_choose_world_without_early_dump(void **state)
{
	struct dr_catalog c = { 0 };
	const struct dr_dump **chosen;
	struct capture cap;
	size_t n;
	char *err;

	add(&c, "world1", "2024-03-01T02:00:00Z");
	add(&c, "world2", "2024-03-02T02:00:00Z");
	add(&c, "world2", "2024-03-03T02:00:00Z");
	capture_begin(&cap, STDERR_FILENO);
	assert_int_equal(dr_catalog_choose(&c, true, at("2024-03-01T12:00:00Z"),
					   true, &chosen, &n),
			 -1);
	err = capture_end(&cap);
	assert_string_equal(
		err,
		"dump-restore: error: world \"world2\" has no dump at or before 2024-03-01 12:00:00+00:00: its earliest is \"/dumps/world2-2024-03-02T02:00:00Z.sql.gz\" of 2024-03-02 02:00:00+00:00\n");
	free(err);
	dbops_log_reset_errors();
	/* Without --strict: reported, skipped, the others chosen. */
	capture_begin(&cap, STDERR_FILENO);
	assert_int_equal(dr_catalog_choose(&c, true, at("2024-03-01T12:00:00Z"),
					   false, &chosen, &n),
			 0);
	err = capture_end(&cap);
	assert_string_equal(
		err,
		"dump-restore: error: world \"world2\" has no dump at or before 2024-03-01 12:00:00+00:00: its earliest is \"/dumps/world2-2024-03-02T02:00:00Z.sql.gz\" of 2024-03-02 02:00:00+00:00; skipped\n");
	free(err);
	assert_int_equal(n, 1);
	assert_string_equal(chosen[0]->world, "world1");
	free(chosen);
	dbops_log_reset_errors();
	dr_catalog_free(&c);
}

static void test_catalog_choose_latest_at_or_before(void **state)
{
	struct dr_catalog c = { 0 };
	const struct dr_dump **chosen;
	size_t n;

	add(&c, "world10", "2024-03-01T02:00:00Z");
	add(&c, "world2", "2024-03-01T14:00:00Z");
	add(&c, "world2", "2024-03-01T02:00:00Z");
	add(&c, "world10", "2024-03-01T14:00:00Z");
	add(&c, "world2", "2024-02-28T02:00:00Z");
	assert_int_equal(dr_catalog_choose(&c, true, at("2024-03-01T12:00:00Z"),
					   false, &chosen, &n),
			 0);
	assert_int_equal(n, 2);
	assert_string_equal(chosen[0]->world, "world2");
	assert_int_equal(chosen[0]->usec, at("2024-03-01T02:00:00Z"));
	assert_string_equal(chosen[1]->world, "world10");
	assert_int_equal(chosen[1]->usec, at("2024-03-01T02:00:00Z"));
	free(chosen);
	/* At exactly a dump's time, that dump. */
	assert_int_equal(dr_catalog_choose(&c, true, at("2024-03-01T14:00:00Z"),
					   false, &chosen, &n),
			 0);
	assert_int_equal(chosen[0]->usec, at("2024-03-01T14:00:00Z"));
	free(chosen);
	/* No time: the latest. */
	assert_int_equal(dr_catalog_choose(&c, false, 0, false, &chosen, &n),
			 0);
	assert_int_equal(chosen[1]->usec, at("2024-03-01T14:00:00Z"));
	free(chosen);
	dr_catalog_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(
			test_catalog_name_rejects_what_does_not_parse, utc),
		cmocka_unit_test_setup(
			test_catalog_choose_world_without_early_dump, utc),
		cmocka_unit_test_setup(test_catalog_name_forms, utc),
		cmocka_unit_test_setup(test_catalog_name_world_with_separators,
				       utc),
		cmocka_unit_test_setup(test_catalog_choose_latest_at_or_before,
				       utc),
	};

	return cmocka_run_group_tests_name("dump-restore catalog", tests, NULL,
					   NULL);
}
