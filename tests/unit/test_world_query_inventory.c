/*
 * test_world_query_inventory.c - unit tests for world-query's inventory:
 * the [client_<world>] groups of an option file, and choosing worlds.
 */
#include "testutil.h"

#include "../../utils/world-query/inventory.h"

static char *write_file(const char *text)
{
	char *dir = make_scratch_dir("inv"), *path;
	FILE *f;

	assert_true(asprintf(&path, "%s/worlds.cnf", dir) > 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(dir);
	return path;
}

static void cleanup(char *path)
{
	char *slash = strrchr(path, '/');

	unlink(path);
	*slash = '\0';
	rmdir(path);
	free(path);
}

static const char sample[] = "# worlds\n"
			     "[client]\n"
			     "user=nobody\n"
			     "[client_world10]\n"
			     "host = 127.0.0.1\n"
			     "port=3310\n"
			     "[client_world2]\n"
			     "host=127.0.0.1\n"
			     "port=3302\n"
			     "password=\"a ; b\"\n"
			     "database='game'\n"
			     "; a comment\n"
			     "!include /etc/other.cnf\n"
			     "[mysqld]\n"
			     "port=1\n"
			     "[client_eu-1]\n"
			     "socket=/run/eu.sock\n"
			     "[client_world2]\n"
			     "user=analyst\n";

static void test_inventory_missing_file(void **state)
{
	struct wq_inventory inv;
	struct dbops_err err = { "" };

	assert_int_equal(
		wq_inventory_read("/nonexistent/worlds.cnf", &inv, &err), -1);
	assert_string_equal(
		err.msg,
		"could not read inventory \"/nonexistent/worlds.cnf\": No such file or directory");
}

static void test_inventory_without_worlds(void **state)
{
	char *path = write_file("[client]\nuser=x\n[client_]\n");
	struct wq_inventory inv;
	struct dbops_err err = { "" };
	char want[512];

	assert_int_equal(wq_inventory_read(path, &inv, &err), -1);
	snprintf(want, sizeof(want),
		 "inventory \"%s\" has no world: no [client_<world>] group",
		 path);
	assert_string_equal(err.msg, want);
	cleanup(path);
}

/*
 * A world's name over 127 bytes was cut to 127: its group given twice made
 * two worlds of one name, and the cut name was a group not in the file
 * (fuzz_world_query_inventory; the QA round's inventory-long-group-twice).
 */
static void test_inventory_long_world_name(void **state)
{
	char name[201], *text, *path, want[1024];
	struct wq_inventory inv;
	struct dbops_err err = { "" };

	memset(name, 'w', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_true(asprintf(&text,
			     "[client_world1]\nport=1\n[client_%s]\nport=2\n"
			     "[client_%s]\nhost=h\n",
			     name, name) > 0);
	path = write_file(text);
	assert_int_equal(wq_inventory_read(path, &inv, &err), -1);
	snprintf(want, sizeof(want),
		 "could not read inventory \"%s\": line 3: the world name "
		 "\"%.40s...\" is longer than 127 bytes",
		 path, name);
	assert_string_equal(err.msg, want);
	assert_int_equal(inv.count, 0);
	cleanup(path);
	free(text);
	/* 127 bytes is a name still. */
	name[127] = '\0';
	assert_true(asprintf(&text, "[client_%s]\n[client_%s]\n", name, name) >
		    0);
	path = write_file(text);
	assert_int_equal(wq_inventory_read(path, &inv, &err), 0);
	assert_int_equal(inv.count, 1);
	assert_string_equal(inv.worlds[0].name, name);
	wq_inventory_free(&inv);
	cleanup(path);
	free(text);
}

static void test_inventory_worlds_in_natural_order(void **state)
{
	char *path = write_file(sample);
	struct wq_inventory inv;
	struct dbops_err err = { "" };

	assert_int_equal(wq_inventory_read(path, &inv, &err), 0);
	assert_int_equal(inv.count, 3);
	assert_string_equal(inv.worlds[0].name, "eu-1");
	assert_string_equal(inv.worlds[1].name, "world2");
	assert_string_equal(inv.worlds[2].name, "world10");
	assert_string_equal(inv.worlds[0].socket, "/run/eu.sock");
	assert_string_equal(inv.worlds[1].port, "3302");
	assert_string_equal(inv.worlds[1].database, "game");
	assert_string_equal(inv.worlds[2].host, "127.0.0.1");
	assert_string_equal(inv.worlds[2].port, "3310");
	assert_ptr_equal(wq_inventory_find(&inv, "world10"), &inv.worlds[2]);
	assert_null(wq_inventory_find(&inv, "world1"));
	wq_inventory_free(&inv);
	cleanup(path);
}

static void test_inventory_select_names_and_globs(void **state)
{
	char *path = write_file(sample);
	const char *patterns[] = { "world*", "eu-1" };
	struct wq_inventory inv;
	struct dbops_err err = { "" };

	assert_int_equal(wq_inventory_read(path, &inv, &err), 0);
	assert_int_equal(wq_inventory_select(&inv, patterns, 1, &err), 0);
	assert_int_equal(inv.count, 2);
	assert_string_equal(inv.worlds[0].name, "world2");
	wq_inventory_free(&inv);
	assert_int_equal(wq_inventory_read(path, &inv, &err), 0);
	assert_int_equal(wq_inventory_select(&inv, patterns + 1, 1, &err), 0);
	assert_int_equal(inv.count, 1);
	assert_string_equal(inv.worlds[0].name, "eu-1");
	wq_inventory_free(&inv);
	cleanup(path);
}

static void test_inventory_select_unknown_is_an_error(void **state)
{
	char *path = write_file(sample);
	const char *unknown[] = { "world3" }, *glob[] = { "us-*" };
	struct wq_inventory inv;
	struct dbops_err err = { "" };
	char want[512];

	assert_int_equal(wq_inventory_read(path, &inv, &err), 0);
	assert_int_equal(wq_inventory_select(&inv, unknown, 1, &err), -1);
	snprintf(want, sizeof(want), "no world \"world3\" in inventory \"%s\"",
		 path);
	assert_string_equal(err.msg, want);
	assert_int_equal(wq_inventory_select(&inv, glob, 1, &err), -1);
	snprintf(want, sizeof(want),
		 "no world matches \"us-*\" in inventory \"%s\"", path);
	assert_string_equal(err.msg, want);
	wq_inventory_free(&inv);
	cleanup(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inventory_missing_file),
		cmocka_unit_test(test_inventory_without_worlds),
		cmocka_unit_test(test_inventory_select_unknown_is_an_error),
		cmocka_unit_test(test_inventory_long_world_name),
		cmocka_unit_test(test_inventory_worlds_in_natural_order),
		cmocka_unit_test(test_inventory_select_names_and_globs),
	};

	return cmocka_run_group_tests_name("world-query inventory", tests, NULL,
					   NULL);
}
