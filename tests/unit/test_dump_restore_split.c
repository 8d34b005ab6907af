/*
 * test_dump_restore_split.c - unit tests for utils/dump-restore/split.c:
 * a mysqldump text cut into statements as the mariadb client cuts it
 * (quotes, comments, executable comments, DELIMITER, the sandbox line, the
 * trailer), with line numbers, whatever the chunks it arrives in.
 */
#include "testutil.h"

#include <stdbool.h>

#include "../../utils/dump-restore/split.h"

/* One statement as the callback saw it. */
struct stmt {
	char *text;
	size_t len;
	long line;
};

/* Everything a run of the splitter produced. */
struct result {
	struct stmt *v;
	size_t n;
	size_t cap;
	int feed_rc;   /* the first non-zero dr_split_feed() value */
	int finish_rc; /* dr_split_finish(), when the feeds went well */
	long err_line;
	bool trailer;
	char *pending; /* dr_split_pending() after DR_SPLIT_UNTERMINATED */
	size_t pending_len;
	/* Test knobs for the callback: */
	struct dr_splitter *sp;
	bool follow_modes; /* act as the server: sql_mode sets the modes */
	size_t stop_at;	   /* return 7 at this statement (1-based), or 0 */
};

/* An expected statement. */
struct want {
	long line;
	const char *text;
};

static int collect(void *arg, const char *stmt, size_t len, long line)
{
	struct result *r = arg;
	struct stmt *st;

	assert_int_equal(stmt[len], '\0');
	assert_true(len > 0);
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 16;
		r->v = realloc(r->v, r->cap * sizeof(*r->v));
		assert_non_null(r->v);
	}
	st = &r->v[r->n++];
	st->text = malloc(len + 1);
	assert_non_null(st->text);
	memcpy(st->text, stmt, len + 1);
	st->len = len;
	st->line = line;
	if (r->follow_modes && strstr(stmt, "sql_mode") != NULL) {
		unsigned int m = 0;

		if (strstr(stmt, "NO_BACKSLASH_ESCAPES") != NULL)
			m |= DR_SPLIT_NO_BACKSLASH_ESCAPES;
		if (strstr(stmt, "ANSI_QUOTES") != NULL)
			m |= DR_SPLIT_ANSI_QUOTES;
		dr_split_set_modes(r->sp, m);
	}
	if (r->stop_at != 0 && r->n == r->stop_at)
		return 7;
	return 0;
}

static void result_free(struct result *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i].text);
	free(r->v);
	free(r->pending);
	memset(r, 0, sizeof(*r));
}

/* How the input is cut into feeds. */
enum cut { WHOLE, BYTES, AT, RANDOM };

/* A small deterministic generator for RANDOM cuts. */
static unsigned int next_random(unsigned int *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return (*seed >> 16) & 0x7fff;
}

/*
 * Splits IN (LEN bytes) into r, fed whole, a byte at a time, in two pieces
 * cut at ARG, or in random pieces of 1..ARG bytes. Each piece is copied to
 * a buffer of its own size, so that a read past it shows under ASan.
 */
static void split_cut(const char *in, size_t len, enum cut cut, size_t arg,
		      struct result *r)
{
	struct dr_splitter *sp = dr_split_new();
	unsigned int seed = (unsigned int)arg;
	size_t off = 0;

	assert_non_null(sp);
	r->sp = sp;
	while (off < len && r->feed_rc == 0) {
		size_t n = len - off;
		char *piece;

		if (cut == BYTES)
			n = 1;
		else if (cut == AT && off < arg)
			n = arg - off;
		else if (cut == RANDOM)
			n = 1 + next_random(&seed) % arg;
		if (n > len - off)
			n = len - off;
		piece = malloc(n ? n : 1);
		assert_non_null(piece);
		memcpy(piece, in + off, n);
		r->feed_rc = dr_split_feed(sp, piece, n, collect, r);
		free(piece);
		off += n;
	}
	if (r->feed_rc == 0) {
		r->finish_rc = dr_split_finish(sp, collect, r, &r->err_line);
	} else {
		r->err_line = dr_split_error_line(sp);
	}
	if (r->finish_rc == DR_SPLIT_UNTERMINATED) {
		const char *p = dr_split_pending(sp, &r->pending_len);

		r->pending = malloc(r->pending_len + 1);
		assert_non_null(r->pending);
		memcpy(r->pending, p, r->pending_len + 1);
	}
	r->trailer = dr_split_saw_trailer(sp);
	dr_split_free(sp);
	r->sp = NULL;
}

static void split(const char *in, struct result *r)
{
	split_cut(in, strlen(in), WHOLE, 0, r);
}

static void assert_stmts(const struct result *r, const struct want *w, size_t n)
{
	for (size_t i = 0; i < n && i < r->n; i++) {
		if (r->v[i].line != w[i].line ||
		    r->v[i].len != strlen(w[i].text) ||
		    memcmp(r->v[i].text, w[i].text, r->v[i].len) != 0)
			fail_msg("statement %zu: line %ld \"%s\", expected "
				 "line %ld \"%s\"",
				 i + 1, r->v[i].line, r->v[i].text, w[i].line,
				 w[i].text);
	}
	if (r->n != n)
		fail_msg("%zu statements, expected %zu", r->n, n);
}

#define ASSERT_STMTS(r, ...)                                        \
	assert_stmts((r), (const struct want[]){ __VA_ARGS__ },     \
		     sizeof((const struct want[]){ __VA_ARGS__ }) / \
			     sizeof(struct want))

/* Splits s whole and checks it gives the statements listed, cleanly. */
#define ASSERT_SPLIT(s, ...)                       \
	do {                                       \
		struct result r_ = { 0 };          \
		split((s), &r_);                   \
		assert_int_equal(r_.feed_rc, 0);   \
		assert_int_equal(r_.finish_rc, 0); \
		ASSERT_STMTS(&r_, __VA_ARGS__);    \
		result_free(&r_);                  \
	} while (0)

/* Splits s whole and checks it is nothing but whitespace and comments. */
static void assert_no_stmts(const char *s)
{
	struct result r = { 0 };

	split(s, &r);
	assert_int_equal(r.feed_rc, 0);
	assert_int_equal(r.finish_rc, 0);
	assert_int_equal(r.n, 0);
	result_free(&r);
}

static void assert_same_results(const struct result *a, const struct result *b,
				const char *how)
{
	if (a->n != b->n)
		fail_msg("%s: %zu statements, expected %zu", how, a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		if (a->v[i].line != b->v[i].line ||
		    a->v[i].len != b->v[i].len ||
		    memcmp(a->v[i].text, b->v[i].text, a->v[i].len) != 0)
			fail_msg("%s: statement %zu differs: \"%s\" at line "
				 "%ld, expected \"%s\" at line %ld",
				 how, i + 1, a->v[i].text, a->v[i].line,
				 b->v[i].text, b->v[i].line);
	}
	assert_int_equal(a->feed_rc, b->feed_rc);
	assert_int_equal(a->finish_rc, b->finish_rc);
	assert_int_equal(a->err_line, b->err_line);
	assert_int_equal(a->trailer, b->trailer);
	assert_int_equal(a->pending_len, b->pending_len);
	if (a->pending_len > 0)
		assert_memory_equal(a->pending, b->pending, a->pending_len);
}

/* Splits IN every way there is and checks all agree with the whole. */
static void assert_any_cut_same(const char *in, size_t len)
{
	struct result whole = { 0 }, r = { 0 };
	char how[64];

	split_cut(in, len, WHOLE, 0, &whole);
	split_cut(in, len, BYTES, 0, &r);
	assert_same_results(&r, &whole, "a byte at a time");
	result_free(&r);
	for (size_t at = 1; at < len; at++) {
		split_cut(in, len, AT, at, &r);
		snprintf(how, sizeof(how), "cut at %zu", at);
		assert_same_results(&r, &whole, how);
		result_free(&r);
	}
	for (unsigned int seed = 1; seed <= 200; seed++) {
		split_cut(in, len, RANDOM, seed % 2 ? 7 : 300, &r);
		snprintf(how, sizeof(how), "random cuts, seed %u", seed);
		assert_same_results(&r, &whole, how);
		result_free(&r);
	}
	result_free(&whole);
}

/*
 * A dump as mariadb-dump 10.11 writes it (--opt, --routines, --triggers),
 * cut down: the sandbox line, the header's version-gated SETs, a table
 * with its data, a trigger, the stand-in for a view, a procedure, the
 * view, the footer and the trailer.
 */
static const char DUMP[] =
	"/*M!999999\\- enable the sandbox mode */ \n"
	"-- MariaDB dump 10.19-10.11.19-MariaDB, for debian-linux-gnu "
	"(x86_64)\n"
	"--\n"
	"-- Host: localhost    Database: shop\n"
	"-- ------------------------------------------------------\n"
	"-- Server version\t10.11.19-MariaDB-0+deb12u1\n"
	"\n"
	"/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;\n"
	"/*!40101 SET NAMES utf8mb4 */;\n"
	"/*!40103 SET TIME_ZONE='+00:00' */;\n"
	"/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */;\n"
	"/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, "
	"SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;\n"
	"/*M!100616 SET @OLD_NOTE_VERBOSITY=@@NOTE_VERBOSITY, NOTE_VERBOSITY=0 "
	"*/;\n"
	"\n"
	"--\n"
	"-- Table structure for table `orders`\n"
	"--\n"
	"\n"
	"DROP TABLE IF EXISTS `orders`;\n"
	"/*!40101 SET @saved_cs_client     = @@character_set_client */;\n"
	"/*!40101 SET character_set_client = utf8mb4 */;\n"
	"CREATE TABLE `orders` (\n"
	"  `id` int(11) NOT NULL AUTO_INCREMENT,\n"
	"  `note` varchar(200) DEFAULT NULL COMMENT 'free; -- and # and /*',\n"
	"  PRIMARY KEY (`id`)\n"
	") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;\n"
	"/*!40101 SET character_set_client = @saved_cs_client */;\n"
	"\n"
	"--\n"
	"-- Dumping data for table `orders`\n"
	"--\n"
	"\n"
	"LOCK TABLES `orders` WRITE;\n"
	"/*!40000 ALTER TABLE `orders` DISABLE KEYS */;\n"
	"INSERT INTO `orders` VALUES (1,'it\\'s; fine'),(2,'back\\\\'),"
	"(3,'a\\nb -- c'),(4,'x\"y`z'),(-5,'');\n"
	"/*!40000 ALTER TABLE `orders` ENABLE KEYS */;\n"
	"UNLOCK TABLES;\n"
	"/*!50003 SET @saved_sql_mode       = @@sql_mode */ ;\n"
	"/*!50003 SET sql_mode              = 'STRICT_TRANS_TABLES' */ ;\n"
	"DELIMITER ;;\n"
	"/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 "
	"TRIGGER `orders_bi` BEFORE INSERT ON `orders` FOR EACH ROW BEGIN\n"
	"  IF NEW.note IS NULL THEN SET NEW.note = 'none;;'; END IF;\n"
	"END */;;\n"
	"DELIMITER ;\n"
	"/*!50003 SET sql_mode              = @saved_sql_mode */ ;\n"
	"\n"
	"--\n"
	"-- Temporary table structure for view `recent`\n"
	"--\n"
	"\n"
	"DROP TABLE IF EXISTS `recent`;\n"
	"/*!50001 DROP VIEW IF EXISTS `recent`*/;\n"
	"SET @saved_cs_client     = @@character_set_client;\n"
	"/*!50001 CREATE VIEW `recent` AS SELECT\n"
	" 1 AS `id` */;\n"
	"SET character_set_client = @saved_cs_client;\n"
	"\n"
	"--\n"
	"-- Dumping routines for database 'shop'\n"
	"--\n"
	"/*!50003 DROP PROCEDURE IF EXISTS `tidy` */;\n"
	"DELIMITER ;;\n"
	"CREATE DEFINER=`root`@`localhost` PROCEDURE `tidy`(IN keep INT)\n"
	"BEGIN\n"
	"  -- drop old rows; keep KEEP\n"
	"  DELETE FROM orders WHERE id < keep; /* done */\n"
	"  SELECT 'a;;b' AS x;\n"
	"END ;;\n"
	"DELIMITER ;\n"
	"\n"
	"--\n"
	"-- Final view structure for view `recent`\n"
	"--\n"
	"\n"
	"/*!50001 DROP VIEW IF EXISTS `recent`*/;\n"
	"/*!50001 CREATE ALGORITHM=UNDEFINED */\n"
	"/*!50013 DEFINER=`root`@`localhost` SQL SECURITY DEFINER */\n"
	"/*!50001 VIEW `recent` AS select `orders`.`id` AS `id` from `orders` "
	"where `orders`.`note` <> ';' */;\n"
	"/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;\n"
	"\n"
	"/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;\n"
	"/*M!100616 SET NOTE_VERBOSITY=@OLD_NOTE_VERBOSITY */;\n"
	"\n"
	"-- Dump completed on 2024-05-01 12:00:00\n";

static const struct want DUMP_STMTS[] = {
	{ 8,
	  "/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */" },
	{ 9, "/*!40101 SET NAMES utf8mb4 */" },
	{ 10, "/*!40103 SET TIME_ZONE='+00:00' */" },
	{ 11, "/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, "
	      "UNIQUE_CHECKS=0 */" },
	{ 12, "/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, "
	      "SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */" },
	{ 13, "/*M!100616 SET @OLD_NOTE_VERBOSITY=@@NOTE_VERBOSITY, "
	      "NOTE_VERBOSITY=0 */" },
	{ 19, "DROP TABLE IF EXISTS `orders`" },
	{ 20, "/*!40101 SET @saved_cs_client     = @@character_set_client */" },
	{ 21, "/*!40101 SET character_set_client = utf8mb4 */" },
	{ 22, "CREATE TABLE `orders` (\n"
	      "  `id` int(11) NOT NULL AUTO_INCREMENT,\n"
	      "  `note` varchar(200) DEFAULT NULL COMMENT 'free; -- and # and "
	      "/*',\n"
	      "  PRIMARY KEY (`id`)\n"
	      ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 "
	      "COLLATE=utf8mb4_general_ci" },
	{ 27, "/*!40101 SET character_set_client = @saved_cs_client */" },
	{ 33, "LOCK TABLES `orders` WRITE" },
	{ 34, "/*!40000 ALTER TABLE `orders` DISABLE KEYS */" },
	{ 35, "INSERT INTO `orders` VALUES (1,'it\\'s; fine'),(2,'back\\\\'),"
	      "(3,'a\\nb -- c'),(4,'x\"y`z'),(-5,'')" },
	{ 36, "/*!40000 ALTER TABLE `orders` ENABLE KEYS */" },
	{ 37, "UNLOCK TABLES" },
	{ 38, "/*!50003 SET @saved_sql_mode       = @@sql_mode */" },
	{ 39, "/*!50003 SET sql_mode              = 'STRICT_TRANS_TABLES' */" },
	{ 41,
	  "/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 "
	  "TRIGGER `orders_bi` BEFORE INSERT ON `orders` FOR EACH ROW "
	  "BEGIN\n"
	  "  IF NEW.note IS NULL THEN SET NEW.note = 'none;;'; END IF;\n"
	  "END */" },
	{ 45, "/*!50003 SET sql_mode              = @saved_sql_mode */" },
	{ 51, "DROP TABLE IF EXISTS `recent`" },
	{ 52, "/*!50001 DROP VIEW IF EXISTS `recent`*/" },
	{ 53, "SET @saved_cs_client     = @@character_set_client" },
	{ 54, "/*!50001 CREATE VIEW `recent` AS SELECT\n 1 AS `id` */" },
	{ 56, "SET character_set_client = @saved_cs_client" },
	{ 61, "/*!50003 DROP PROCEDURE IF EXISTS `tidy` */" },
	{ 63,
	  "CREATE DEFINER=`root`@`localhost` PROCEDURE `tidy`(IN keep INT)\n"
	  "BEGIN\n"
	  "  \n"
	  "  DELETE FROM orders WHERE id < keep; \n"
	  "  SELECT 'a;;b' AS x;\n"
	  "END" },
	{ 75, "/*!50001 DROP VIEW IF EXISTS `recent`*/" },
	{ 76, "/*!50001 CREATE ALGORITHM=UNDEFINED */\n"
	      "/*!50013 DEFINER=`root`@`localhost` SQL SECURITY DEFINER */\n"
	      "/*!50001 VIEW `recent` AS select `orders`.`id` AS `id` from "
	      "`orders` where `orders`.`note` <> ';' */" },
	{ 79, "/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */" },
	{ 81, "/*!40101 SET SQL_MODE=@OLD_SQL_MODE */" },
	{ 82, "/*M!100616 SET NOTE_VERBOSITY=@OLD_NOTE_VERBOSITY */" },
};

/* ---- bad input ---------------------------------------------------------- */

static void test_split_open_quote_at_end_reports_its_line(void **state)
{
	static const char *const inputs[] = {
		"SELECT 1;\nSELECT\n'abc;\n\nxyz",
		"SELECT 1;\nSELECT\n\"abc;\nxyz;",
		"SELECT 1;\nSELECT\n`abc;\nxyz;",
		/* An escaped quote does not close it; nor does \ at the end. */
		"SELECT 1;\nSELECT\n'abc\\';\n",
		"SELECT 1;\nSELECT\n'abc\\",
	};

	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		struct result r = { 0 };

		split(inputs[i], &r);
		assert_int_equal(r.feed_rc, 0);
		assert_int_equal(r.finish_rc, DR_SPLIT_OPEN_QUOTE);
		assert_int_equal(r.err_line, 3);
		ASSERT_STMTS(&r, { 1, "SELECT 1" });
		result_free(&r);
	}
}

static void test_split_open_comment_at_end_reports_its_line(void **state)
{
	static const char *const inputs[] = {
		"SELECT 1;\n\n/* a\n; b\n",
		"SELECT 1;\nSELECT 2 /* a; */ + 1;\nSELECT /* x *",
		"SELECT 1;\nSELECT 2;\n/*",
		"SELECT 1;\nSELECT 2;\n/*M",
		"SELECT 1;\nSELECT 2;\n/*!999999\\- enable the sandbox mode",
	};
	static const long lines[] = { 3, 3, 3, 3, 3 };

	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		struct result r = { 0 };

		split(inputs[i], &r);
		assert_int_equal(r.feed_rc, 0);
		assert_int_equal(r.finish_rc, DR_SPLIT_OPEN_COMMENT);
		assert_int_equal(r.err_line, lines[i]);
		assert_string_equal(r.v[0].text, "SELECT 1");
		result_free(&r);
	}
}

static void test_split_unterminated_statement_at_end(void **state)
{
	struct result r = { 0 };

	split("SELECT 1;\n\nINSERT INTO t\nVALUES (1) -- no end\n", &r);
	assert_int_equal(r.feed_rc, 0);
	assert_int_equal(r.finish_rc, DR_SPLIT_UNTERMINATED);
	assert_int_equal(r.err_line, 3);
	ASSERT_STMTS(&r, { 1, "SELECT 1" });
	assert_string_equal(r.pending, "INSERT INTO t\nVALUES (1)");
	assert_int_equal(r.pending_len, strlen(r.pending));
	result_free(&r);

	/* Under DELIMITER ;; a lone ";" does not end it. */
	split("DELIMITER ;;\nSELECT 1;", &r);
	assert_int_equal(r.finish_rc, DR_SPLIT_UNTERMINATED);
	assert_int_equal(r.err_line, 2);
	assert_string_equal(r.pending, "SELECT 1;");
	assert_int_equal(r.n, 0);
	result_free(&r);

	/* Whitespace and comments after the last statement are not one. */
	split("SELECT 1;\n  \n-- c\n# d\n/* e */\n", &r);
	assert_int_equal(r.finish_rc, 0);
	assert_null(r.pending);
	result_free(&r);
}

static void test_split_rejects_bad_delimiter(void **state)
{
	static const char *const inputs[] = {
		"SELECT 1;\nDELIMITER\nSELECT 2;\n",
		"SELECT 1;\ndelimiter   \t\nSELECT 2;\n",
		"SELECT 1;\nDELIMITER \\\\\nSELECT 2;\n",
		"SELECT 1;\nDELIMITER $\\$\nSELECT 2;\n",
		"SELECT 1;\nDELIMITER '$$\nSELECT 2;\n",
		"SELECT 1;\nDELIMITER ''\nSELECT 2;\n",
		"SELECT 1;\nDELIMITER",
		/* A statement that is a DELIMITER command, as the client
		 * reads it: here one without an argument. */
		"SELECT 1;\n DELIMITER;\nSELECT 2;\n",
	};

	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		struct result r = { 0 };

		split(inputs[i], &r);
		if (r.feed_rc == 0)
			assert_int_equal(r.finish_rc, DR_SPLIT_BAD_DELIMITER);
		else
			assert_int_equal(r.feed_rc, DR_SPLIT_BAD_DELIMITER);
		assert_int_equal(r.err_line, 2);
		ASSERT_STMTS(&r, { 1, "SELECT 1" });
		result_free(&r);
	}
}

static void test_split_statement_over_limit(void **state)
{
	struct dr_splitter *sp = dr_split_new();
	struct result r = { 0 };
	static const char in[] = "SELECT 1;\nSELECT '0123456789';\nSELECT 2;";

	assert_non_null(sp);
	r.sp = sp;
	dr_split_set_limit(sp, 16);
	assert_int_equal(dr_split_feed(sp, in, strlen(in), collect, &r),
			 DR_SPLIT_TOO_LONG);
	assert_int_equal(dr_split_error_line(sp), 2);
	ASSERT_STMTS(&r, { 1, "SELECT 1" });
	/* The splitter stays stopped. */
	assert_int_equal(dr_split_feed(sp, "X;", 2, collect, &r),
			 DR_SPLIT_TOO_LONG);
	assert_int_equal(dr_split_finish(sp, collect, &r, NULL),
			 DR_SPLIT_TOO_LONG);
	assert_int_equal(r.n, 1);
	dr_split_free(sp);
	result_free(&r);

	/* Exactly the limit is fine. */
	sp = dr_split_new();
	assert_non_null(sp);
	dr_split_set_limit(sp, 16);
	assert_int_equal(
		dr_split_feed(sp, "SELECT '0123456';", 17, collect, &r), 0);
	assert_int_equal(dr_split_finish(sp, collect, &r, NULL), 0);
	ASSERT_STMTS(&r, { 1, "SELECT '0123456'" });
	dr_split_free(sp);
	result_free(&r);
}

static void test_split_callback_value_stops_the_feed(void **state)
{
	struct result r = { .stop_at = 2 };

	split("SELECT 1;\nSELECT 2;\nSELECT 3;\n", &r);
	assert_int_equal(r.feed_rc, 7);
	assert_int_equal(r.err_line, 0);
	ASSERT_STMTS(&r, { 1, "SELECT 1" }, { 2, "SELECT 2" });
	result_free(&r);
}

static void test_split_strerror(void **state)
{
	assert_string_equal(dr_split_strerror(DR_SPLIT_NOMEM), "out of memory");
	assert_string_equal(dr_split_strerror(DR_SPLIT_TOO_LONG),
			    "statement longer than the limit");
	assert_string_equal(dr_split_strerror(DR_SPLIT_BAD_DELIMITER),
			    "DELIMITER needs an argument without backslashes");
	assert_string_equal(dr_split_strerror(DR_SPLIT_OPEN_QUOTE),
			    "the dump ends inside a quoted string opened here");
	assert_string_equal(dr_split_strerror(DR_SPLIT_OPEN_COMMENT),
			    "the dump ends inside a comment opened here");
	assert_string_equal(dr_split_strerror(DR_SPLIT_UNTERMINATED),
			    "the last statement lacks its delimiter");
	assert_string_equal(dr_split_strerror(7), "unknown error");
}

/* ---- statements and lines ----------------------------------------------- */

static void test_split_simple_statements(void **state)
{
	ASSERT_SPLIT("SELECT 1;SELECT 2;\nSELECT 3 ;  \n", { 1, "SELECT 1" },
		     { 1, "SELECT 2" }, { 2, "SELECT 3" });
	/* Whitespace goes before, whitespace and control bytes after (not
	 * bytes above 0x7f); empty statements are skipped. */
	ASSERT_SPLIT(" \t\r\n\v\f SELECT\t1\t;;; \n;\n", { 2, "SELECT\t1" });
	ASSERT_SPLIT("SELECT 4 \x01\x7f\n;SELECT 5 AS \xc2\xa0;\x02;",
		     { 1, "SELECT 4" }, { 2, "SELECT 5 AS \xc2\xa0" });
	assert_no_stmts("");
	assert_no_stmts("\n\n   \n;\n ; ;;");
}

static void test_split_line_numbers(void **state)
{
	ASSERT_SPLIT("-- a comment\n"
		     "\n"
		     "# another\n"
		     "/* a block\n"
		     "   on lines */\n"
		     "SELECT\n"
		     "  1;\n"
		     "\n"
		     "SELECT 'a\n"
		     "b\n"
		     "c';  SELECT 3;\n"
		     "/* x */ SELECT\n"
		     "4;\n"
		     "   \n"
		     "  -- x\n"
		     "\tSELECT /* \n\n */ 5 -- y\n"
		     ";",
		     { 6, "SELECT\n  1" }, { 9, "SELECT 'a\nb\nc'" },
		     { 11, "SELECT 3" }, { 12, "SELECT\n4" },
		     { 16, "SELECT  5" });
	/* Escaped line ends and ones after a backslash count too. */
	ASSERT_SPLIT("SELECT 'a\\\nb';\nSELECT `x\ny`, \"\\\n\";\nSELECT 9;",
		     { 1, "SELECT 'a\\\nb'" }, { 3, "SELECT `x\ny`, \"\\\n\"" },
		     { 6, "SELECT 9" });
}

/* ---- quotes ------------------------------------------------------------- */

static void test_split_quote_with_escaped_quote(void **state)
{
	ASSERT_SPLIT("SELECT 'it\\'s;';SELECT 2;", { 1, "SELECT 'it\\'s;'" },
		     { 1, "SELECT 2" });
	/* A backslash before the closing quote is itself escaped. */
	ASSERT_SPLIT("SELECT 'a\\\\';SELECT 'b\\\\\\\\';SELECT 2;",
		     { 1, "SELECT 'a\\\\'" }, { 1, "SELECT 'b\\\\\\\\'" },
		     { 1, "SELECT 2" });
	ASSERT_SPLIT("SELECT \"say \\\"hi;\\\"\";",
		     { 1, "SELECT \"say \\\"hi;\\\"\"" });
	/* Doubled quotes. */
	ASSERT_SPLIT("SELECT 'it''s;', \"a\"\";\", `b``;`;SELECT 2;",
		     { 1, "SELECT 'it''s;', \"a\"\";\", `b``;`" },
		     { 1, "SELECT 2" });
	/* Other quotes inside a quote are plain. */
	ASSERT_SPLIT("SELECT '\"`;', \"'`;\", `'\";`;",
		     { 1, "SELECT '\"`;', \"'`;\", `'\";`" });
}

static void test_split_backtick_has_no_escapes(void **state)
{
	ASSERT_SPLIT("CREATE TABLE `a\\` (x int);SELECT 2;",
		     { 1, "CREATE TABLE `a\\` (x int)" }, { 1, "SELECT 2" });
}

static void test_split_delimiter_inside_quotes_and_comments(void **state)
{
	ASSERT_SPLIT("INSERT INTO `t;` VALUES (';', \";\") /* ; */ # ;\n"
		     "-- ;\n"
		     ", (1);",
		     { 1, "INSERT INTO `t;` VALUES (';', \";\")  \n\n, (1)" });
}

static void test_split_backslash_escapes_follow_modes(void **state)
{
	struct result r = { .follow_modes = true };

	/* A routine made under NO_BACKSLASH_ESCAPES: 'C:\' is whole. */
	split("/*!50003 SET sql_mode = 'NO_BACKSLASH_ESCAPES' */ ;\n"
	      "SELECT 'C:\\';\n"
	      "SELECT \"D:\\\";\n"
	      "/*!50003 SET sql_mode = '' */ ;\n"
	      "SELECT 'it\\'s;';\n"
	      "SET sql_mode = 'ANSI_QUOTES';\n"
	      "SELECT \"a\\\", 'b\\';';\n",
	      &r);
	assert_int_equal(r.finish_rc, 0);
	ASSERT_STMTS(&r,
		     { 1, "/*!50003 SET sql_mode = 'NO_BACKSLASH_ESCAPES' */" },
		     { 2, "SELECT 'C:\\'" }, { 3, "SELECT \"D:\\\"" },
		     { 4, "/*!50003 SET sql_mode = '' */" },
		     { 5, "SELECT 'it\\'s;'" },
		     { 6, "SET sql_mode = 'ANSI_QUOTES'" },
		     { 7, "SELECT \"a\\\", 'b\\';'" });
	result_free(&r);
}

static void test_split_binary_bytes_in_quotes(void **state)
{
	/* Every byte, escaped as mysql_real_escape_string() does. */
	char *in = malloc(4096), *want = malloc(4096);
	static const char utf8[] = "\xc3\xbc"
				   "n\xc3\xaf"
				   "c\xc3\xb8"
				   "d\xc3\xa9 "
				   "\xe2\x9c\x93 \xf0\x9d\x84\x9e";
	static const char tail[] = "',x'00ff',\"\x00\xff;\");";
	size_t n = 0;
	struct result r = { 0 };

	assert_non_null(in);
	assert_non_null(want);
	n += (size_t)sprintf(in, "INSERT INTO `b` VALUES (_binary '");
	for (int c = 0; c < 256; c++) {
		const char *esc = NULL;

		switch (c) {
		case 0:
			esc = "\\0";
			break;
		case '\n':
			esc = "\\n";
			break;
		case '\r':
			esc = "\\r";
			break;
		case '\\':
			esc = "\\\\";
			break;
		case '\'':
			esc = "\\'";
			break;
		case '"':
			esc = "\\\"";
			break;
		case 032:
			esc = "\\Z";
			break;
		}
		if (esc != NULL) {
			memcpy(in + n, esc, 2);
			n += 2;
		} else {
			in[n++] = (char)c;
		}
	}
	memcpy(in + n, "','", 3);
	n += 3;
	memcpy(in + n, utf8, sizeof(utf8) - 1);
	n += sizeof(utf8) - 1;
	/* Raw bytes are data too, NUL included. */
	memcpy(in + n, tail, sizeof(tail) - 1);
	n += sizeof(tail) - 1;
	memcpy(want, in, n - 1);
	split_cut(in, n, WHOLE, 0, &r);
	assert_int_equal(r.finish_rc, 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.v[0].len, n - 1);
	assert_memory_equal(r.v[0].text, want, n - 1);
	assert_int_equal(r.v[0].line, 1);
	result_free(&r);
	assert_any_cut_same(in, n);
	free(in);
	free(want);
}

/* ---- comments ----------------------------------------------------------- */

static void test_split_dash_dash_comments(void **state)
{
	ASSERT_SPLIT("SELECT 1 -- one; two\n+1;", { 1, "SELECT 1 \n+1" });
	ASSERT_SPLIT("SELECT 1 --\tone;\n+1;", { 1, "SELECT 1 \n+1" });
	ASSERT_SPLIT("SELECT 1 --\n+1;", { 1, "SELECT 1 \n+1" });
	ASSERT_SPLIT("SELECT 1 --\r\n+1;", { 1, "SELECT 1 \n+1" });
	/* Not a comment without a space: 1--1 is arithmetic. */
	ASSERT_SPLIT("SELECT 1--1;SELECT 2---3;", { 1, "SELECT 1--1" },
		     { 1, "SELECT 2---3" });
	ASSERT_SPLIT("SELECT 1 -1;", { 1, "SELECT 1 -1" });
	/* At the start of a statement "--" needs no space. */
	ASSERT_SPLIT("--x; y\nSELECT 1;--z\nSELECT 2;---\nSELECT 3;",
		     { 2, "SELECT 1" }, { 3, "SELECT 2" }, { 4, "SELECT 3" });
}

static void test_split_dash_dash_at_end_of_input(void **state)
{
	struct result r = { 0 };

	split("SELECT 1;\nSELECT 2 --", &r);
	assert_int_equal(r.finish_rc, DR_SPLIT_UNTERMINATED);
	assert_string_equal(r.pending, "SELECT 2");
	result_free(&r);
	split("SELECT 1;\nSELECT 2 -", &r);
	assert_string_equal(r.pending, "SELECT 2 -");
	result_free(&r);
	split("SELECT 1;\n--", &r);
	assert_int_equal(r.finish_rc, 0);
	assert_int_equal(r.n, 1);
	result_free(&r);
}

static void test_split_hash_comments(void **state)
{
	ASSERT_SPLIT("# a; b\nSELECT 1 # c; d\n, 2;#e\nSELECT 3;",
		     { 2, "SELECT 1 \n, 2" }, { 4, "SELECT 3" });
}

static void test_split_block_comment_dropped(void **state)
{
	/* Dropped; a space stands for it when text follows at once. */
	ASSERT_SPLIT("SELECT/* a; */1;", { 1, "SELECT 1" });
	ASSERT_SPLIT("SELECT /* a */ 1;", { 1, "SELECT  1" });
	ASSERT_SPLIT("SELECT 1/**//* b */+2;", { 1, "SELECT 1 +2" });
	ASSERT_SPLIT("SELECT 1/* a */\n+2;", { 1, "SELECT 1\n+2" });
	ASSERT_SPLIT("SELECT 1/* a */'x';", { 1, "SELECT 1 'x'" });
	ASSERT_SPLIT("SELECT 1/* a */;", { 1, "SELECT 1" });
	ASSERT_SPLIT("SELECT 1/* a */-- b\n+2;", { 1, "SELECT 1\n+2" });
	/* Not at the start, and "/" "*" "/" does not close it. */
	ASSERT_SPLIT("/* a */ /*/ b; */SELECT 1;", { 1, "SELECT 1" });
	/* As in the client, a slash-star inside takes its star along. */
	ASSERT_SPLIT("SELECT 1 /* a /*/ b; */ + 2;SELECT 3 /* x /**/+4;",
		     { 1, "SELECT 1  + 2" }, { 1, "SELECT 3  +4" });
	/* Quotes inside a comment are not quotes. */
	ASSERT_SPLIT("SELECT 1 /* it's */;SELECT 2;", { 1, "SELECT 1" },
		     { 1, "SELECT 2" });
	/* "*" "/" outside a comment is text. */
	ASSERT_SPLIT("SELECT 2 */ 1;", { 1, "SELECT 2 */ 1" });
	/* The client's quirk: no space before a backslash, but the space
	 * stays due for the byte after it. */
	ASSERT_SPLIT("SELECT 1/* x */\\N AS a;SELECT 1/* x */\\N\\N,3;",
		     { 1, "SELECT 1\\N AS a" }, { 1, "SELECT 1\\N\\N ,3" });
}

static void test_split_executable_comments_kept(void **state)
{
	ASSERT_SPLIT("/*!40101 SET NAMES utf8mb4 */;\n"
		     "/*M!100101 SET LOCAL SQL_LOG_OFF=0 */;\n"
		     "CREATE DATABASE /*!32312 IF NOT EXISTS*/ `d` "
		     "/*!40100 DEFAULT CHARACTER SET latin1 */;\n"
		     "SELECT 1 /*M!*/;",
		     { 1, "/*!40101 SET NAMES utf8mb4 */" },
		     { 2, "/*M!100101 SET LOCAL SQL_LOG_OFF=0 */" },
		     { 3, "CREATE DATABASE /*!32312 IF NOT EXISTS*/ `d` "
			  "/*!40100 DEFAULT CHARACTER SET latin1 */" },
		     { 4, "SELECT 1 /*M!*/" });
	/* Quotes inside count: the ";" in the string does not end it. */
	ASSERT_SPLIT("/*!50001 VIEW v AS select ';' AS `x;` */;",
		     { 1, "/*!50001 VIEW v AS select ';' AS `x;` */" });
	/* "/" "*M" without "!" is a plain comment. */
	ASSERT_SPLIT("SELECT 1 /*M 2 */+3;", { 1, "SELECT 1  +3" });
}

static void test_split_delimiter_ends_executable_comment(void **state)
{
	/* As in the client, which sends "/" "*!50003 SET @a=1" alone: an
	 * executable comment does not hide the delimiter. */
	ASSERT_SPLIT("/*!50003 SET @a=1; SET @b=2 */;",
		     { 1, "/*!50003 SET @a=1" }, { 1, "SET @b=2 */" });
}

/* ---- client commands ---------------------------------------------------- */

static void test_split_sandbox_line_dropped(void **state)
{
	ASSERT_SPLIT("/*!999999\\- enable the sandbox mode */\n"
		     "-- MariaDB dump 10.19\nSELECT 1;",
		     { 3, "SELECT 1" });
	ASSERT_SPLIT("/*M!999999\\- enable the sandbox mode */ \nSELECT 1;",
		     { 2, "SELECT 1" });
	/* Later in the file too (dumps concatenated), but not inside a
	 * statement. */
	ASSERT_SPLIT("SELECT 1;\n/*M!999999\\- enable the sandbox mode */ \n"
		     "SELECT 2 /*M!999999\\- x */;",
		     { 1, "SELECT 1" }, { 3, "SELECT 2 /*M!999999\\- x */" });
	/* Other versions are plain executable comments. */
	ASSERT_SPLIT("/*!99999\\- x */;", { 1, "/*!99999\\- x */" });
}

static void test_split_delimiter_command(void **state)
{
	ASSERT_SPLIT("DELIMITER ;;\n"
		     "CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN\n"
		     "  SET @a = ';;'; SET @b = 1;\n"
		     "END ;;\n"
		     "SELECT 1;;\n"
		     "DELIMITER ;\n"
		     "SELECT 2;",
		     { 2, "CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW "
			  "BEGIN\n  SET @a = ';;'; SET @b = 1;\nEND" },
		     { 5, "SELECT 1" }, { 7, "SELECT 2" });
	/* Any case, after whitespace, with whitespace after; a quoted
	 * argument; the rest of the line ignored. */
	ASSERT_SPLIT("  delimiter   $$  junk\nSELECT 1$$\n"
		     "DeLiMiTeR '//' more\r\nSELECT 2//\n"
		     "DELIMITER \"a\"\"b\"\nSELECT 3a\"b\n"
		     "DELIMITER ;\r\nSELECT 4;",
		     { 2, "SELECT 1" }, { 4, "SELECT 2" }, { 6, "SELECT 3" },
		     { 8, "SELECT 4" });
	/* At most 15 bytes, as the client keeps. */
	ASSERT_SPLIT("DELIMITER 0123456789abcdefXYZ\n"
		     "SELECT 1 0123456789abcde\n"
		     "SELECT 2 0123456789abcdef0123456789abcde",
		     { 2, "SELECT 1" }, { 3, "SELECT 2" }, { 3, "f" });
	/* A statement that turns out to be a DELIMITER command is one. */
	ASSERT_SPLIT("SELECT 1; DELIMITER $$;\nSELECT 2$$", { 1, "SELECT 1" },
		     { 2, "SELECT 2" });
	/* Not a command inside a statement, nor a longer word. */
	ASSERT_SPLIT("SELECT 1,\nDELIMITER ;;\nSELECT 2;\nDELIMITERS;",
		     { 1, "SELECT 1,\nDELIMITER" }, { 3, "SELECT 2" },
		     { 4, "DELIMITERS" });
}

static void test_split_backslash_outside_quotes(void **state)
{
	/* \ takes the next byte with it, as the client keeps \N and unknown
	 * commands: \; does not end, \' does not open. */
	ASSERT_SPLIT("SELECT \\N;SELECT 1 \\; 2;SELECT \\';",
		     { 1, "SELECT \\N" }, { 1, "SELECT 1 \\; 2" },
		     { 1, "SELECT \\'" });
}

static void test_split_byte_order_mark_skipped(void **state)
{
	ASSERT_SPLIT("\xEF\xBB\xBF"
		     "DELIMITER ;;\nSELECT 1;;",
		     { 2, "SELECT 1" });
	/* Only at the very start. */
	ASSERT_SPLIT("SELECT 1;\xEF\xBB\xBF;", { 1, "SELECT 1" },
		     { 1, "\xEF\xBB\xBF" });
}

/* ---- the trailer -------------------------------------------------------- */

static void test_split_trailer_detected(void **state)
{
	struct result r = { 0 };

	split("SELECT 1;\n-- Dump completed on 2024-05-01 12:00:00\n", &r);
	assert_true(r.trailer);
	result_free(&r);
	/* --skip-dump-date, no line end, blank lines and comments after */
	split("SELECT 1;\n-- Dump completed", &r);
	assert_true(r.trailer);
	result_free(&r);
	split("SELECT 1;\n-- Dump completed\n\n-- x\n\n", &r);
	assert_true(r.trailer);
	result_free(&r);
}

static void test_split_trailer_missing(void **state)
{
	struct result r = { 0 };

	split("SELECT 1;\n-- Dump complete\n", &r);
	assert_false(r.trailer);
	result_free(&r);
	/* A statement after it: the trailer was not the end. */
	split("-- Dump completed\nSELECT 1;\n", &r);
	assert_false(r.trailer);
	result_free(&r);
	split("SELECT 1;\n-- Dump completed\nINSERT INTO t VALUES (1", &r);
	assert_false(r.trailer);
	assert_int_equal(r.finish_rc, DR_SPLIT_UNTERMINATED);
	result_free(&r);
	/* Inside a statement or a string it is not a trailer. */
	split("SELECT '\n-- Dump completed\n';", &r);
	assert_false(r.trailer);
	result_free(&r);
}

/* ---- a whole dump, in any chunks ---------------------------------------- */

static void test_split_mysqldump_excerpt(void **state)
{
	struct result r = { 0 };

	split(DUMP, &r);
	assert_int_equal(r.feed_rc, 0);
	assert_int_equal(r.finish_rc, 0);
	assert_true(r.trailer);
	assert_stmts(&r, DUMP_STMTS,
		     sizeof(DUMP_STMTS) / sizeof(DUMP_STMTS[0]));
	result_free(&r);
}

static void test_split_any_chunks_same_statements(void **state)
{
	assert_any_cut_same(DUMP, sizeof(DUMP) - 1);
}

static void test_split_any_chunks_same_tricky_input(void **state)
{
	/* Every decision that looks ahead, near every boundary. */
	static const char in[] =
		"\xEF\xBB\xBF"
		"/*!999999\\- enable the sandbox mode */\n"
		"--x\n"
		"-- Dump completed\n"
		"SELECT 1--1 -- c\n"
		", 2 # d\n"
		";\n"
		"SELECT 1/*a*//*!1 b*/ /*M!1 c*/ /*M d*/x\\;'\\\\'\"\\\"\";\n"
		"delimiter $$\n"
		"SELECT `a``$$` $$ $\n"
		"$$\n"
		"DELIMITER ;\n"
		"SELECT '\\\n"
		"'; -- Dump completed\n";
	struct result r = { 0 };

	split(in, &r);
	assert_int_equal(r.finish_rc, 0);
	assert_true(r.trailer);
	ASSERT_STMTS(&r, { 4, "SELECT 1--1 \n, 2" },
		     { 7, "SELECT 1 /*!1 b*/ /*M!1 c*/  x\\;'\\\\'\"\\\"\"" },
		     { 9, "SELECT `a``$$`" }, { 9, "$" },
		     { 12, "SELECT '\\\n'" });
	result_free(&r);
	/* Whole, and cut short at every length (open quotes, open
	 * comments, unfinished statements, half a DELIMITER line). */
	for (size_t len = sizeof(in) - 1; len > 0; len--)
		assert_any_cut_same(in, len);
}

static void test_split_five_megabyte_statement(void **state)
{
	size_t big = 5u << 20;
	char *in = malloc(big + 64);
	struct dr_splitter *sp = dr_split_new();
	struct result r = { 0 };
	static const char filler[] = "ab;-#/*\"`x";
	size_t n, off, stmt_len;

	assert_non_null(in);
	assert_non_null(sp);
	n = (size_t)sprintf(in, "INSERT INTO t VALUES ('");
	for (size_t i = 0; i < big; i++)
		in[n++] = filler[i % (sizeof(filler) - 1)];
	stmt_len = n + 2;
	n += (size_t)sprintf(in + n, "');\nSELECT 2;\n");
	/* In the loader's way: 256 KiB at a time. */
	for (off = 0; off < n; off += 256u << 10) {
		size_t k = n - off < (256u << 10) ? n - off : 256u << 10;

		assert_int_equal(dr_split_feed(sp, in + off, k, collect, &r),
				 0);
	}
	assert_int_equal(dr_split_finish(sp, collect, &r, NULL), 0);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.v[0].len, stmt_len);
	assert_memory_equal(r.v[0].text, in, stmt_len);
	assert_int_equal(r.v[1].line, 2);
	assert_string_equal(r.v[1].text, "SELECT 2");
	dr_split_free(sp);
	result_free(&r);
	free(in);
}

static void test_split_many_statements_in_one_feed(void **state)
{
	/* Line numbers stay right over many statements and feeds. */
	size_t count = 20000;
	char *in = malloc(count * 32);
	struct result r = { 0 };
	size_t n = 0;

	assert_non_null(in);
	for (size_t i = 0; i < count; i++)
		n += (size_t)sprintf(in + n, "INSERT INTO t VALUES (%zu);\n",
				     i);
	split_cut(in, n, RANDOM, 4000, &r);
	assert_int_equal(r.finish_rc, 0);
	assert_int_equal(r.n, count);
	for (size_t i = 0; i < count; i += 997) {
		char want[64];

		snprintf(want, sizeof(want), "INSERT INTO t VALUES (%zu)", i);
		assert_string_equal(r.v[i].text, want);
		assert_int_equal(r.v[i].line, (long)i + 1);
	}
	result_free(&r);
	free(in);
}

static void test_split_feed_nothing(void **state)
{
	struct dr_splitter *sp = dr_split_new();
	struct result r = { 0 };
	long line = -1;

	assert_non_null(sp);
	assert_int_equal(dr_split_feed(sp, NULL, 0, collect, &r), 0);
	assert_int_equal(dr_split_finish(sp, collect, &r, &line), 0);
	assert_int_equal(line, 0);
	assert_int_equal(r.n, 0);
	assert_false(dr_split_saw_trailer(sp));
	dr_split_free(sp);
	dr_split_free(NULL);
	result_free(&r);
}

#define KIND(text) dr_split_kind(text, strlen(text))

static void test_split_kind_reads_the_first_keywords(void **state)
{
	/* What a plain one-database dump starts its real work with. */
	assert_int_equal(KIND("DROP TABLE IF EXISTS `t`"), DR_STMT_OTHER);
	assert_int_equal(KIND("/*!40000 ALTER TABLE `t` DISABLE KEYS */"),
			 DR_STMT_OTHER);
	assert_int_equal(KIND("CREATE TABLE databases (i int)"), DR_STMT_OTHER);
	assert_int_equal(KIND("SETTINGS"), DR_STMT_OTHER);
	assert_int_equal(KIND("CALL p()"), DR_STMT_OTHER);
	/* What needs no database. */
	assert_int_equal(KIND("/*!40101 SET NAMES utf8mb4 */"), DR_STMT_ANY);
	assert_int_equal(KIND("/*M!100616 SET @OLD_NOTE_VERBOSITY=1 */"),
			 DR_STMT_ANY);
	assert_int_equal(KIND("set sql_mode=''"), DR_STMT_ANY);
	assert_int_equal(
		KIND("CREATE DATABASE /*!32312 IF NOT EXISTS*/ `game` /*!40100 DEFAULT CHARACTER SET utf8mb4 */"),
		DR_STMT_ANY);
	assert_int_equal(KIND("/*!40000 DROP DATABASE IF EXISTS `game`*/"),
			 DR_STMT_ANY);
	assert_int_equal(KIND("create schema x"), DR_STMT_ANY);
	assert_int_equal(KIND("/* a note */ SET @a = 1"), DR_STMT_ANY);
	assert_int_equal(KIND(""), DR_STMT_ANY);
	/* What chooses one. */
	assert_int_equal(KIND("USE `game`"), DR_STMT_USE);
	assert_int_equal(KIND("\n use game"), DR_STMT_USE);
	assert_int_equal(KIND("USER_TABLE"), DR_STMT_OTHER);
}

#define HEADER(text) dr_split_dump_header(text, strlen(text))

static void test_split_dump_header_of_mysqldump_only(void **state)
{
	assert_false(HEADER("CREATE DATABASE c;\n-- MySQL dump 10.13\n"));
	assert_false(HEADER("-- a script by hand\n"));
	assert_false(HEADER("-- MySQL dump"));
	assert_false(HEADER(""));
	assert_true(HEADER("-- MySQL dump 10.13  Distrib 5.1.41, for Win32\n"));
	assert_true(
		HEADER("/*M!999999\\- enable the sandbox mode */ \n"
		       "-- MariaDB dump 10.19-11.4.2-MariaDB, for Linux\n"));
	assert_true(HEADER("\xEF\xBB\xBF-- MariaDB dump 10.19\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_open_quote_at_end_reports_its_line),
		cmocka_unit_test(
			test_split_open_comment_at_end_reports_its_line),
		cmocka_unit_test(test_split_unterminated_statement_at_end),
		cmocka_unit_test(test_split_rejects_bad_delimiter),
		cmocka_unit_test(test_split_statement_over_limit),
		cmocka_unit_test(test_split_callback_value_stops_the_feed),
		cmocka_unit_test(test_split_strerror),
		cmocka_unit_test(test_split_simple_statements),
		cmocka_unit_test(test_split_line_numbers),
		cmocka_unit_test(test_split_quote_with_escaped_quote),
		cmocka_unit_test(test_split_backtick_has_no_escapes),
		cmocka_unit_test(
			test_split_delimiter_inside_quotes_and_comments),
		cmocka_unit_test(test_split_backslash_escapes_follow_modes),
		cmocka_unit_test(test_split_binary_bytes_in_quotes),
		cmocka_unit_test(test_split_dash_dash_comments),
		cmocka_unit_test(test_split_dash_dash_at_end_of_input),
		cmocka_unit_test(test_split_hash_comments),
		cmocka_unit_test(test_split_block_comment_dropped),
		cmocka_unit_test(test_split_executable_comments_kept),
		cmocka_unit_test(test_split_delimiter_ends_executable_comment),
		cmocka_unit_test(test_split_sandbox_line_dropped),
		cmocka_unit_test(test_split_delimiter_command),
		cmocka_unit_test(test_split_backslash_outside_quotes),
		cmocka_unit_test(test_split_byte_order_mark_skipped),
		cmocka_unit_test(test_split_trailer_detected),
		cmocka_unit_test(test_split_trailer_missing),
		cmocka_unit_test(test_split_mysqldump_excerpt),
		cmocka_unit_test(test_split_any_chunks_same_statements),
		cmocka_unit_test(test_split_any_chunks_same_tricky_input),
		cmocka_unit_test(test_split_five_megabyte_statement),
		cmocka_unit_test(test_split_many_statements_in_one_feed),
		cmocka_unit_test(test_split_feed_nothing),
		cmocka_unit_test(test_split_kind_reads_the_first_keywords),
		cmocka_unit_test(test_split_dump_header_of_mysqldump_only),
	};

	return cmocka_run_group_tests_name("dump_restore_split", tests, NULL,
					   NULL);
}
