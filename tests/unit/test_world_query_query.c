/*
 * test_world_query_query.c - which statements world-query runs without
 * --write: only those whose first keyword reads.
 */
#include "testutil.h"

#include "../../utils/world-query/query.h"

static void test_query_writes_need_write(void **state)
{
	assert_false(wq_statement_reads("UPDATE players SET level = 1"));
	assert_false(wq_statement_reads("delete from players"));
	assert_false(wq_statement_reads("INSERT INTO t VALUES (1)"));
	assert_false(wq_statement_reads("REPLACE INTO t VALUES (1)"));
	assert_false(wq_statement_reads("DROP TABLE players"));
	assert_false(wq_statement_reads("TRUNCATE players"));
	assert_false(wq_statement_reads("SET @a = 1"));
	assert_false(wq_statement_reads("SELECTED"));
	assert_false(wq_statement_reads("  /* SELECT */ UPDATE t SET a = 1"));
	assert_false(wq_statement_reads("-- SELECT\nUPDATE t SET a = 1"));
	assert_false(wq_statement_reads("# SELECT\nDELETE FROM t"));
	/* An executable comment is the server's statement: not skipped. */
	assert_false(wq_statement_reads("/*!40000 DELETE FROM t */"));
	assert_false(wq_statement_reads("/* open comment SELECT"));
	assert_false(wq_statement_reads(""));
}

static void test_query_reads_run_read_only(void **state)
{
	assert_true(wq_statement_reads("SELECT 1"));
	assert_true(wq_statement_reads("  select * from players"));
	assert_true(wq_statement_reads("SHOW TABLES"));
	assert_true(wq_statement_reads("desc players"));
	assert_true(wq_statement_reads("EXPLAIN SELECT 1"));
	assert_true(wq_statement_reads("WITH a AS (SELECT 1) SELECT * FROM a"));
	assert_true(wq_statement_reads("(SELECT 1) UNION (SELECT 2)"));
	assert_true(wq_statement_reads("CHECKSUM TABLE players"));
	assert_true(wq_statement_reads("CALL p()"));
	assert_true(wq_statement_reads("/* note */ -- x\n# y\n\tSELECT 1"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query_writes_need_write),
		cmocka_unit_test(test_query_reads_run_read_only),
	};

	return cmocka_run_group_tests_name("world-query query", tests, NULL,
					   NULL);
}
