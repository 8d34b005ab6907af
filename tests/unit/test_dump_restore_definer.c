/*
 * test_dump_restore_definer.c - unit tests for dump-restore's DEFINER
 * finder (definer.h): the clause as mariadb-dump and people write it, and
 * the statements where there is none to find.
 */
#include "testutil.h"

#include <string.h>

#include "../../utils/dump-restore/definer.h"

/* STMT with its DEFINER clause left out, or "-" when none is found. */
static const char *without(const char *stmt)
{
	static char buf[1024];
	size_t from, to, len = strlen(stmt);

	if (!dr_definer_find(stmt, len, &from, &to))
		return "-";
	snprintf(buf, sizeof(buf), "%.*s%s", (int)from, stmt, stmt + to);
	return buf;
}

static void test_definer_none_to_find(void **state)
{
	assert_string_equal(without("CREATE TABLE t (definer INT)"), "-");
	assert_string_equal(without("INSERT INTO t VALUES ('DEFINER=`a`@`b`')"),
			    "-");
	assert_string_equal(without("CREATE VIEW v AS SELECT 'DEFINER=x@y'"),
			    "-");
	assert_string_equal(
		without("CREATE PROCEDURE p() SELECT 1 /* DEFINER=a@b */"),
		"-");
	assert_string_equal(without("/*!50001 CREATE ALGORITHM=UNDEFINED */\n"
				    "/*!50013 SQL SECURITY DEFINER */\n"
				    "/*!50001 VIEW `v` AS select 1 */"),
			    "-");
	assert_string_equal(without("CREATE DEFINER"), "-");
	assert_string_equal(without("CREATE DEFINER = `unterminated"), "-");
	assert_string_equal(without("SELECT 1"), "-");
	assert_string_equal(without(""), "-");
}

static void test_definer_mariadb_dump_forms(void **state)
{
	assert_string_equal(
		without("CREATE DEFINER=`prod`@`%` PROCEDURE `p`()\nSELECT 1"),
		"CREATE  PROCEDURE `p`()\nSELECT 1");
	assert_string_equal(
		without("/*!50001 CREATE ALGORITHM=UNDEFINED */\n"
			"/*!50013 DEFINER=`prod`@`%` SQL SECURITY DEFINER */\n"
			"/*!50001 VIEW `v` AS select 1 */"),
		"/*!50001 CREATE ALGORITHM=UNDEFINED */\n"
		"/*!50013  SQL SECURITY DEFINER */\n"
		"/*!50001 VIEW `v` AS select 1 */");
	assert_string_equal(
		without("/*!50003 CREATE*/ /*!50017 DEFINER=`prod`@`%`*/ "
			"/*!50003 TRIGGER t AFTER INSERT ON g FOR EACH ROW "
			"SET @x = 1 */"),
		"/*!50003 CREATE*/ /*!50017 */ /*!50003 TRIGGER t AFTER "
		"INSERT ON g FOR EACH ROW SET @x = 1 */");
	assert_string_equal(
		without("/*!50106 CREATE*/ /*!50117 DEFINER=`a``b`@`h`*/ "
			"/*!50106 EVENT e ON SCHEDULE EVERY 1 DAY DO SELECT 1 */"),
		"/*!50106 CREATE*/ /*!50117 */ /*!50106 EVENT e ON SCHEDULE "
		"EVERY 1 DAY DO SELECT 1 */");
}

static void test_definer_written_by_hand(void **state)
{
	assert_string_equal(
		without("create or replace definer = 'prod'@'%' sql security "
			"definer view v as select 1"),
		"create or replace  sql security definer view v as select 1");
	assert_string_equal(
		without("CREATE DEFINER=CURRENT_USER() FUNCTION f() RETURNS INT "
			"RETURN 1"),
		"CREATE  FUNCTION f() RETURNS INT RETURN 1");
	assert_string_equal(
		without("CREATE DEFINER = CURRENT_USER FUNCTION f() RETURNS INT "
			"RETURN 1"),
		"CREATE  FUNCTION f() RETURNS INT RETURN 1");
	assert_string_equal(without("ALTER DEFINER=prod@localhost VIEW v AS "
				    "SELECT 1"),
			    "ALTER  VIEW v AS SELECT 1");
	/* A role as definer: no host. */
	assert_string_equal(without("CREATE DEFINER=admins PROCEDURE p() "
				    "SELECT 1"),
			    "CREATE  PROCEDURE p() SELECT 1");
	assert_string_equal(
		without("-- made by hand\nCREATE DEFINER=\"a\"@\"b\""
			" PROCEDURE p() SELECT 1"),
		"-- made by hand\nCREATE  PROCEDURE p() SELECT 1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_definer_none_to_find),
		cmocka_unit_test(test_definer_mariadb_dump_forms),
		cmocka_unit_test(test_definer_written_by_hand),
	};

	return cmocka_run_group_tests_name("dump-restore definer", tests, NULL,
					   NULL);
}
