/*
 * test_snap_import_db.c - unit tests for the pure parts of snap-import's
 * db.c and sync.c: what -d means to libpq, server errors as one line, which
 * names sync takes.
 */
#include "testutil.h"

#include "../../utils/snap-import/db.h"
#include "../../utils/snap-import/sync.h"

struct params {
	const char *keys[4], *values[4];
	char host[256];
	int n;
};

static void conn(struct params *p, const char *database)
{
	memset(p, 0, sizeof(*p));
	p->n = snap_db_conn_params(database, p->host, sizeof(p->host), p->keys,
				   p->values);
}

static void test_db_conn_none_uses_the_environment(void **state)
{
	struct params p;

	conn(&p, NULL);
	assert_int_equal(p.n, 0);
	conn(&p, "");
	assert_int_equal(p.n, 0);
}

static void test_db_conn_host_port(void **state)
{
	struct params p;

	conn(&p, "localhost:5432");
	assert_int_equal(p.n, 2);
	assert_string_equal(p.keys[0], "host");
	assert_string_equal(p.values[0], "localhost");
	assert_string_equal(p.keys[1], "port");
	assert_string_equal(p.values[1], "5432");
	conn(&p, "[::1]:6543");
	assert_int_equal(p.n, 2);
	assert_string_equal(p.values[0], "::1");
	assert_string_equal(p.values[1], "6543");
}

static void test_db_conn_host_port_dbname(void **state)
{
	struct params p;

	conn(&p, "db1:5432/game");
	assert_int_equal(p.n, 3);
	assert_string_equal(p.keys[0], "host");
	assert_string_equal(p.values[0], "db1");
	assert_string_equal(p.keys[1], "port");
	assert_string_equal(p.values[1], "5432");
	assert_string_equal(p.keys[2], "dbname");
	assert_string_equal(p.values[2], "game");
	conn(&p, "[::1]:6543/my db");
	assert_int_equal(p.n, 3);
	assert_string_equal(p.values[0], "::1");
	assert_string_equal(p.values[1], "6543");
	assert_string_equal(p.values[2], "my db");
	/* A trailing slash names no database. */
	conn(&p, "db1:5432/");
	assert_int_equal(p.n, 2);
	assert_string_equal(p.values[1], "5432");
	/* Not a port before the slash: a name. */
	conn(&p, "db:x/y");
	assert_int_equal(p.n, 1);
	assert_string_equal(p.keys[0], "dbname");
	assert_string_equal(p.values[0], "db:x/y");
}

static void test_db_conn_conninfo_uri_and_name(void **state)
{
	struct params p;

	conn(&p, "host=db1 dbname=game");
	assert_int_equal(p.n, 1);
	assert_string_equal(p.keys[0], "dbname");
	assert_string_equal(p.values[0], "host=db1 dbname=game");
	conn(&p, "postgresql://u@db1:5432/game");
	assert_int_equal(p.n, 1);
	assert_string_equal(p.values[0], "postgresql://u@db1:5432/game");
	conn(&p, "game");
	assert_int_equal(p.n, 1);
	assert_string_equal(p.keys[0], "dbname");
	assert_string_equal(p.values[0], "game");
	/* Not a port: a name. */
	conn(&p, "db:abc");
	assert_int_equal(p.n, 1);
	assert_string_equal(p.keys[0], "dbname");
}

static void test_db_error_with_line_and_column(void **state)
{
	struct dbops_err err = { "" };

	snap_db_format_error("invalid input syntax for type integer: \"high\"",
			     "COPY t, line 5, column level: \"high\"", NULL,
			     &err);
	assert_string_equal(
		err.msg,
		"line 5, column level: invalid input syntax for type integer: \"high\"");
}

static void test_db_error_with_line_only(void **state)
{
	struct dbops_err err = { "" };

	snap_db_format_error("extra data after last expected column",
			     "COPY t, line 3: \"2,b,2,,,,extra\"", NULL, &err);
	assert_string_equal(err.msg,
			    "line 3: extra data after last expected column");
	snap_db_format_error(
		"invalid byte sequence for encoding \"UTF8\": 0xff",
		"COPY t, line 2", NULL, &err);
	assert_string_equal(
		err.msg,
		"line 2: invalid byte sequence for encoding \"UTF8\": 0xff");
}

static void test_db_error_column_name_with_colon_and_space(void **state)
{
	struct dbops_err err = { "" };

	snap_db_format_error("value too long",
			     "COPY t, line 9, column my col: \"x\"", NULL,
			     &err);
	assert_string_equal(err.msg, "line 9, column my col: value too long");
}

static void test_db_error_long_column_name_kept_whole(void **state)
{
	struct dbops_err err = { "" };
	char context[512], want[512], name[301];

	/* A name of up to 63 bytes is PostgreSQL's rule, but a context may
	 * be anything: no 256-byte cut of the "where" part. */
	memset(name, 'c', 300);
	name[300] = '\0';
	snprintf(context, sizeof(context), "COPY t, line 7, column %s: \"x\"",
		 name);
	snap_db_format_error("value too long", context, NULL, &err);
	snprintf(want, sizeof(want), "line 7, column %s: value too long", name);
	assert_string_equal(err.msg, want);
	/* A server message of several lines stays on one. */
	snap_db_format_error("bad\nvalue", "COPY t, line 2", NULL, &err);
	assert_string_equal(err.msg, "line 2: bad value");
	/* The caller may not want it. */
	snap_db_format_error("bad", "COPY t, line 2", NULL, NULL);
}

static void test_db_error_without_context(void **state)
{
	struct dbops_err err = { "" };

	snap_db_format_error("permission denied for table t", NULL, NULL, &err);
	assert_string_equal(err.msg, "permission denied for table t");
	snap_db_format_error(NULL, NULL, NULL, &err);
	assert_string_equal(err.msg, "unknown error");
}

static void test_sync_skips_hidden_and_temporary_names(void **state)
{
	assert_true(snap_sync_wanted("snapshot_20240301.csv", "*.csv"));
	assert_false(snap_sync_wanted(".snapshot.csv", "*.csv"));
	assert_false(snap_sync_wanted("snapshot.csv~", "*"));
	assert_false(snap_sync_wanted("snapshot.csv.tmp", "*"));
	assert_false(snap_sync_wanted("snapshot.csv.part", "*"));
	assert_false(snap_sync_wanted("snapshot.csv.partial", "*"));
	assert_false(snap_sync_wanted("snapshot.csv.swp", "*"));
	assert_false(snap_sync_wanted("snapshot.csv.crdownload", "*"));
	assert_false(snap_sync_wanted("notes.txt", "*.csv"));
	assert_true(snap_sync_wanted("notes.txt", "notes.*"));
}

static void test_sync_default_pattern_takes_compressed_csv(void **state)
{
	const char *p = SNAP_SYNC_DEFAULT_PATTERN;

	assert_true(snap_sync_wanted("s.csv", p));
	assert_true(snap_sync_wanted("s.csv.gz", p));
	assert_true(snap_sync_wanted("s.csv.zst", p));
	assert_true(snap_sync_wanted("s.csv.xz", p));
	assert_true(snap_sync_wanted("s.csv.bz2", p));
	assert_false(snap_sync_wanted("s.csv.gz.tmp", p));
	assert_false(snap_sync_wanted("s.csv.bak", p));
	assert_false(snap_sync_wanted("s.gz", p));
	assert_false(snap_sync_wanted("s.csvx", p));
	assert_false(snap_sync_wanted(".s.csv.gz", p));
}

static void test_db_ledger_name_escapes_what_is_not_utf8(void **state)
{
	char *n = snap_db_ledger_name("caf\xe9.csv");

	assert_string_equal(n, "caf\\xE9.csv");
	free(n);
	n = snap_db_ledger_name("caf\xc3\xa9 \xf0\x9f\x98\x80.csv");
	assert_string_equal(n, "caf\xc3\xa9 \xf0\x9f\x98\x80.csv");
	free(n);
	/* A cut sequence, a stray continuation byte. */
	n = snap_db_ledger_name("a\xc3\x80\x80"
				"b\xc3");
	assert_string_equal(n, "a\xc3\x80\\x80b\\xC3");
	free(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_db_ledger_name_escapes_what_is_not_utf8),
		cmocka_unit_test(test_db_conn_none_uses_the_environment),
		cmocka_unit_test(test_db_conn_host_port),
		cmocka_unit_test(test_db_conn_host_port_dbname),
		cmocka_unit_test(test_db_conn_conninfo_uri_and_name),
		cmocka_unit_test(test_db_error_with_line_and_column),
		cmocka_unit_test(test_db_error_with_line_only),
		cmocka_unit_test(
			test_db_error_column_name_with_colon_and_space),
		cmocka_unit_test(test_db_error_long_column_name_kept_whole),
		cmocka_unit_test(test_db_error_without_context),
		cmocka_unit_test(test_sync_skips_hidden_and_temporary_names),
		cmocka_unit_test(
			test_sync_default_pattern_takes_compressed_csv),
	};

	return cmocka_run_group_tests_name("snap-import db", tests, NULL, NULL);
}
