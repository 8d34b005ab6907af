/*
 * test_pitr_replay_timeline.c - unit tests for utils/pitr-replay/timeline.c:
 * history files in the form PostgreSQL writes them (parent TLI, TAB,
 * switch point, TAB, reason; comments and blank lines), what is refused and
 * how it is said, and the questions asked of a history: which timeline
 * holds an LSN, which file holds a segment (the segment with the switch
 * point comes from the new timeline), how it reads in a message. Also
 * pitr_timeline_load() from an archive directory.
 */
#include "testutil.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "log.h"

#include "../../utils/pitr-replay/timeline.h"

#define MB16 (16u << 20)

static void parse_ok(const char *text, uint32_t tli, struct tl_history *h)
{
	struct dbops_err err = { "" };

	if (pitr_timeline_parse(text, tli, h, &err) != 0)
		fail_msg("pitr_timeline_parse failed: %s", err.msg);
}

static void assert_parse_error(const char *text, uint32_t tli, const char *want)
{
	struct tl_history *h = malloc(sizeof(*h));
	struct dbops_err err = { "" };

	assert_non_null(h);
	assert_int_equal(pitr_timeline_parse(text, tli, h, &err), -1);
	assert_string_equal(err.msg, want);
	free(h);
}

static void assert_entry(const struct tl_history *h, size_t i, uint32_t tli,
			 lsn_t begin, lsn_t end)
{
	assert_true(i < h->n);
	assert_int_equal(h->e[i].tli, tli);
	if (h->e[i].begin != begin || h->e[i].end != end)
		fail_msg(
			"entry %zu: begin %llX end %llX, expected %llX and %llX",
			i, (unsigned long long)h->e[i].begin,
			(unsigned long long)h->e[i].end,
			(unsigned long long)begin, (unsigned long long)end);
}

/* ---- parsing ------------------------------------------------------------- */

static void test_timeline_parse_one_line(void **state)
{
	static struct tl_history h;

	parse_ok("1\t0/4000448\tbefore 2024-03-01 12:00:00.123456+00\n", 2, &h);
	assert_int_equal(h.n, 2);
	assert_entry(&h, 0, 1, 0, 0x4000448);
	assert_entry(&h, 1, 2, 0x4000448, LSN_INFINITE);
}

static void test_timeline_parse_without_final_newline(void **state)
{
	static struct tl_history h;

	parse_ok("1\t0/4000448\tno recovery target specified", 2, &h);
	assert_int_equal(h.n, 2);
	assert_entry(&h, 0, 1, 0, 0x4000448);
	/* No reason at all, as older files may have. */
	parse_ok("1\t0/4000448", 2, &h);
	assert_entry(&h, 1, 2, 0x4000448, LSN_INFINITE);
}

static void test_timeline_parse_multi_line_comments_blanks(void **state)
{
	static struct tl_history h;
	static const char text[] =
		"# history of timeline 5\n"
		"\n"
		"1\t0/3000000\tno recovery target specified\n"
		"   \n"
		"  # an indented comment\n"
		"2\t0/50000A0\tat restore point \"rp_fork\"\n"
		"\t\n"
		"4\t1/A0\tafter transaction 745\r\n"
		"\n";

	parse_ok(text, 5, &h);
	assert_int_equal(h.n, 4);
	assert_entry(&h, 0, 1, 0, 0x3000000);
	assert_entry(&h, 1, 2, 0x3000000, 0x50000A0);
	assert_entry(&h, 2, 4, 0x50000A0, 0x1000000A0ULL);
	assert_entry(&h, 3, 5, 0x1000000A0ULL, LSN_INFINITE);
}

static void test_timeline_parse_spaces_for_tabs(void **state)
{
	static struct tl_history h;

	parse_ok("  1 0/4000448   reason with  spaces\n", 3, &h);
	assert_int_equal(h.n, 2);
	assert_entry(&h, 0, 1, 0, 0x4000448);
	assert_entry(&h, 1, 3, 0x4000448, LSN_INFINITE);
}

static void test_timeline_parse_empty_text(void **state)
{
	static struct tl_history h;

	/* Only the tip. */
	parse_ok("", 7, &h);
	assert_int_equal(h.n, 1);
	assert_entry(&h, 0, 7, 0, LSN_INFINITE);
	parse_ok("# nothing\n\n", 7, &h);
	assert_int_equal(h.n, 1);
}

static void test_timeline_parse_reuses_history(void **state)
{
	static struct tl_history h;

	parse_ok("1\t0/1000000\tx\n2\t0/2000000\ty\n", 3, &h);
	assert_int_equal(h.n, 3);
	/* A second parse starts afresh. */
	parse_ok("1\t0/4000448\tz\n", 2, &h);
	assert_int_equal(h.n, 2);
	assert_entry(&h, 1, 2, 0x4000448, LSN_INFINITE);
}

static void test_timeline_parse_rejects_non_numeric_tli(void **state)
{
	assert_parse_error(
		"x\t0/4000448\treason\n", 2,
		"line 1: expected a numeric timeline ID, found \"x\"");
	assert_parse_error(
		"1\t0/1\n1a\t0/2\n", 3,
		"line 2: expected a numeric timeline ID, found \"1a\"");
	assert_parse_error(
		"# c\n\n0\t0/1\n", 3,
		"line 3: expected a numeric timeline ID, found \"0\"");
	assert_parse_error(
		"-1\t0/1\n", 3,
		"line 1: expected a numeric timeline ID, found \"-1\"");
	assert_parse_error(
		"4294967296\t0/1\n", 3,
		"line 1: expected a numeric timeline ID, found \"4294967296\"");
	assert_parse_error(
		"0x1\t0/1\n", 3,
		"line 1: expected a numeric timeline ID, found \"0x1\"");
}

/* A timeline ID longer than 31 characters was cut there: "0...020/10
 * 0/10" was read as timeline 2 until 0/10 (PostgreSQL reads timeline 20,
 * then finds no switch point), and "0...020/10 x" refused for timeline 2. */
static void test_timeline_parse_rejects_long_tli_token(void **state)
{
	assert_parse_error(
		"00000000000000000000000000000020/10\t0/10\tx\n", 3,
		"line 1: expected a numeric timeline ID, found \"00000000000000000000000000000020/10\"");
	assert_parse_error(
		"00000000000000000000000000000020/10\tx\n", 3,
		"line 1: expected a numeric timeline ID, found \"00000000000000000000000000000020/10\"");
}

static void test_timeline_parse_rejects_bad_lsn(void **state)
{
	assert_parse_error(
		"1\t0/40G0448\treason\n", 2,
		"line 1: expected a timeline switch point LSN after timeline 1");
	assert_parse_error(
		"1\n", 2,
		"line 1: expected a timeline switch point LSN after timeline 1");
	assert_parse_error(
		"1\t0/1\n2\t\n", 3,
		"line 2: expected a timeline switch point LSN after timeline 2");
	assert_parse_error(
		"1\t123456789/0\n", 2,
		"line 1: expected a timeline switch point LSN after timeline 1");
	assert_parse_error(
		"1\t0/\n", 2,
		"line 1: expected a timeline switch point LSN after timeline 1");
}

static void test_timeline_parse_rejects_non_increasing(void **state)
{
	assert_parse_error("2\t0/1000000\tx\n1\t0/2000000\ty\n", 3,
			   "line 2: timeline IDs must increase: 1 after 2");
	assert_parse_error("1\t0/1000000\tx\n1\t0/2000000\ty\n", 3,
			   "line 2: timeline IDs must increase: 1 after 1");
}

static void test_timeline_parse_rejects_tli_not_below_child(void **state)
{
	assert_parse_error(
		"2\t0/1000000\tx\n", 2,
		"timeline IDs must be less than the child timeline's ID 2, found 2");
	assert_parse_error(
		"1\t0/1000000\tx\n3\t0/2000000\ty\n", 2,
		"timeline IDs must be less than the child timeline's ID 2, found 3");
}

static void test_timeline_parse_error_into_errbuf_or_null(void **state)
{
	static struct tl_history h;
	struct dbops_err err = { "" };

	assert_int_equal(pitr_timeline_parse("x\t0/1\n", 2, &h, &err), -1);
	assert_string_equal(
		err.msg, "line 1: expected a numeric timeline ID, found \"x\"");
	/* A caller that does not want the reason passes NULL. */
	assert_int_equal(pitr_timeline_parse("x\t0/1\n", 2, &h, NULL), -1);
}

static void test_timeline_parse_many_timelines(void **state)
{
	static struct tl_history h;
	size_t cap = 256 * 32, used = 0;
	char *text = malloc(cap);

	assert_non_null(text);
	text[0] = '\0';
	/* The most it holds: TL_MAX_ENTRIES - 1 ancestors and the tip. */
	for (unsigned t = 1; t < TL_MAX_ENTRIES; t++)
		used += (size_t)snprintf(text + used, cap - used,
					 "%u\t0/%X\tr\n", t, t * 0x100);
	parse_ok(text, TL_MAX_ENTRIES, &h);
	assert_int_equal(h.n, TL_MAX_ENTRIES);
	assert_entry(&h, TL_MAX_ENTRIES - 1, TL_MAX_ENTRIES,
		     (TL_MAX_ENTRIES - 1) * 0x100, LSN_INFINITE);
	/* One more is refused, not written past the end. */
	snprintf(text + used, cap - used, "%u\t0/%X\tr\n", TL_MAX_ENTRIES,
		 TL_MAX_ENTRIES * 0x100);
	struct dbops_err err = { "" };
	assert_int_equal(
		pitr_timeline_parse(text, TL_MAX_ENTRIES + 1, &h, &err), -1);
	assert_non_null(strstr(err.msg, "more than 255 timelines"));
	free(text);
}

/* ---- questions ----------------------------------------------------------- */

static const char three_tl[] = "1\t0/4000448\tno recovery target specified\n"
			       "\n"
			       "2\t0/6000000\tat restore point \"x\"\n";

static void test_timeline_at(void **state)
{
	static struct tl_history h;

	parse_ok(three_tl, 3, &h);
	assert_int_equal(pitr_timeline_at(&h, 0)->tli, 1);
	assert_int_equal(pitr_timeline_at(&h, 0x4000447)->tli, 1);
	/* The switch point itself is on the new timeline. */
	assert_int_equal(pitr_timeline_at(&h, 0x4000448)->tli, 2);
	assert_int_equal(pitr_timeline_at(&h, 0x5FFFFFF)->tli, 2);
	assert_int_equal(pitr_timeline_at(&h, 0x6000000)->tli, 3);
	assert_int_equal(pitr_timeline_at(&h, 0x100000000ULL)->tli, 3);
	assert_int_equal(pitr_timeline_at(&h, UINT64_MAX)->tli, 3);
	assert_ptr_equal(pitr_timeline_at(&h, 0x5000000), &h.e[1]);
}

static void test_timeline_find(void **state)
{
	static struct tl_history h;

	parse_ok(three_tl, 3, &h);
	assert_ptr_equal(pitr_timeline_find(&h, 1), &h.e[0]);
	assert_ptr_equal(pitr_timeline_find(&h, 2), &h.e[1]);
	assert_ptr_equal(pitr_timeline_find(&h, 3), &h.e[2]);
	assert_null(pitr_timeline_find(&h, 4));
	assert_null(pitr_timeline_find(&h, 0));
	/* A timeline the path skips (a sibling branch). */
	parse_ok("1\t0/1000000\tx\n3\t0/2000000\ty\n", 4, &h);
	assert_null(pitr_timeline_find(&h, 2));
	assert_ptr_equal(pitr_timeline_find(&h, 3), &h.e[1]);
}

static void test_timeline_file_tli(void **state)
{
	static struct tl_history h;

	parse_ok(three_tl, 3, &h);
	/* 16 MB segments: the switch to 2 is inside segment 4. */
	assert_int_equal(pitr_timeline_file_tli(&h, 0, MB16), 1);
	assert_int_equal(pitr_timeline_file_tli(&h, 3, MB16), 1);
	/* The segment holding the switch point is read from the NEW timeline,
	 * which copied its first part from the old one. */
	assert_int_equal(pitr_timeline_file_tli(&h, 4, MB16), 2);
	assert_int_equal(pitr_timeline_file_tli(&h, 5, MB16), 2);
	/* A switch exactly at a segment start: that segment is the new one's,
	 * the one before the old one's. */
	assert_int_equal(pitr_timeline_file_tli(&h, 6, MB16), 3);
	assert_int_equal(pitr_timeline_file_tli(&h, 7, MB16), 3);
	assert_int_equal(pitr_timeline_file_tli(&h, 1000000, MB16), 3);
	/* With 1 GB segments both switches fall in segment 0. */
	assert_int_equal(pitr_timeline_file_tli(&h, 0, 1u << 30), 3);
	/* Timeline 1 alone. */
	parse_ok("", 1, &h);
	assert_int_equal(pitr_timeline_file_tli(&h, 0, MB16), 1);
	assert_int_equal(pitr_timeline_file_tli(&h, 99, MB16), 1);
}

static void test_timeline_file_tli_two_switches_in_one_segment(void **state)
{
	static struct tl_history h;

	parse_ok("1\t0/4000100\ta\n2\t0/4000200\tb\n", 3, &h);
	assert_int_equal(pitr_timeline_file_tli(&h, 3, MB16), 1);
	/* Timeline 2 never has a segment of its own here. */
	assert_int_equal(pitr_timeline_file_tli(&h, 4, MB16), 3);
}

static void test_timeline_describe(void **state)
{
	static struct tl_history h;
	char buf[128];

	parse_ok(three_tl, 3, &h);
	assert_string_equal(
		pitr_timeline_describe(&h, buf, sizeof(buf)),
		"1 until 0/4000448, then 2 until 0/6000000, then 3");
	parse_ok("1\t0/4000448\tx\n", 2, &h);
	assert_string_equal(pitr_timeline_describe(&h, buf, sizeof(buf)),
			    "1 until 0/4000448, then 2");
	parse_ok("", 1, &h);
	assert_string_equal(pitr_timeline_describe(&h, buf, sizeof(buf)), "1");
}

static void test_timeline_describe_truncates(void **state)
{
	static struct tl_history h;
	char buf[64];

	parse_ok(three_tl, 3, &h);
	memset(buf, 'x', sizeof(buf));
	assert_ptr_equal(pitr_timeline_describe(&h, buf, 12), buf);
	assert_string_equal(buf, "1 until 0/4");
	assert_int_equal(buf[12], 'x'); /* nothing past LEN */
	/* Cut in the middle of the second part. */
	pitr_timeline_describe(&h, buf, 30);
	assert_string_equal(buf, "1 until 0/4000448, then 2 unt");
}

/* ---- loading from an archive --------------------------------------------- */

static void write_file(const char *dir, const char *name, const void *data,
		       size_t len)
{
	char *path = path_join(dir, name);

	write_bytes(path, data, len);
	free(path);
}

/* An archive with one 1 MB segment (only its long header filled). */
static void make_archive(const char *dir)
{
	size_t size = 1u << 20;
	unsigned char *seg = calloc(1, size);
	uint16_t magic = 0xD110, info = XLP_LONG_HEADER;
	uint32_t tli = 1, seg_size = (uint32_t)size, blcksz = WAL_PAGE_SIZE;
	uint64_t addr = size, sysid = 7345012345678901234ULL;

	assert_non_null(seg);
	memcpy(seg, &magic, 2);
	memcpy(seg + 2, &info, 2);
	memcpy(seg + 4, &tli, 4);
	memcpy(seg + 8, &addr, 8);
	memcpy(seg + 24, &sysid, 8);
	memcpy(seg + 32, &seg_size, 4);
	memcpy(seg + 36, &blcksz, 4);
	write_file(dir, "000000010000000000000001", seg, size);
	free(seg);
}

static int setup(void **state)
{
	*state = make_scratch_dir("timeline");
	return 0;
}

static int teardown(void **state)
{
	remove_scratch_dir(*state);
	free(*state);
	assert_int_equal(dbops_log_error_count(), 0);
	return 0;
}

static void test_timeline_load(void **state)
{
	const char *dir = *state;
	static struct wal_archive arc;
	static struct tl_history h;
	struct capture cap;
	char *out;

	make_archive(dir);
	write_file(dir, "00000002.history",
		   "1\t0/180000\tno recovery target specified\n", 40);
	write_file(dir, "00000003.history", "1\t0/180000\tx\n2\t0/zz\n", 20);
	assert_int_equal(pitr_walarc_open(dir, &arc), 0);

	/* Timeline 1 needs no file. */
	assert_int_equal(pitr_timeline_load(&arc, 1, &h), 0);
	assert_int_equal(h.n, 1);
	assert_entry(&h, 0, 1, 0, LSN_INFINITE);

	assert_int_equal(pitr_timeline_load(&arc, 2, &h), 0);
	assert_int_equal(h.n, 2);
	assert_entry(&h, 0, 1, 0, 0x180000);
	assert_entry(&h, 1, 2, 0x180000, LSN_INFINITE);

	capture_begin(&cap, STDERR_FILENO);
	assert_int_equal(pitr_timeline_load(&arc, 4, &h), -1);
	out = capture_end(&cap);
	assert_non_null(strstr(out, "error: could not open \""));
	assert_non_null(strstr(
		out,
		"/00000004.history\": no such file: timeline 4 has no history file in the archive"));
	free(out);

	capture_begin(&cap, STDERR_FILENO);
	assert_int_equal(pitr_timeline_load(&arc, 3, &h), -1);
	out = capture_end(&cap);
	assert_non_null(
		strstr(out, "error: syntax error in timeline history file \""));
	assert_non_null(strstr(
		out,
		"/00000003.history\": "
		"line 2: expected a timeline switch point LSN after timeline 2"));
	free(out);
	assert_int_equal(dbops_log_error_count(), 2);
	dbops_log_reset_errors();
	pitr_walarc_close(&arc);
}

static int setup_group(void **state)
{
	dbops_log_init("pitr-replay");
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timeline_parse_one_line),
		cmocka_unit_test(test_timeline_parse_without_final_newline),
		cmocka_unit_test(
			test_timeline_parse_multi_line_comments_blanks),
		cmocka_unit_test(test_timeline_parse_spaces_for_tabs),
		cmocka_unit_test(test_timeline_parse_empty_text),
		cmocka_unit_test(test_timeline_parse_reuses_history),
		cmocka_unit_test(test_timeline_parse_rejects_non_numeric_tli),
		cmocka_unit_test(test_timeline_parse_rejects_bad_lsn),
		cmocka_unit_test(test_timeline_parse_rejects_long_tli_token),
		cmocka_unit_test(test_timeline_parse_rejects_non_increasing),
		cmocka_unit_test(
			test_timeline_parse_rejects_tli_not_below_child),
		cmocka_unit_test(test_timeline_parse_error_into_errbuf_or_null),
		cmocka_unit_test(test_timeline_parse_many_timelines),
		cmocka_unit_test(test_timeline_at),
		cmocka_unit_test(test_timeline_find),
		cmocka_unit_test(test_timeline_file_tli),
		cmocka_unit_test(
			test_timeline_file_tli_two_switches_in_one_segment),
		cmocka_unit_test(test_timeline_describe),
		cmocka_unit_test(test_timeline_describe_truncates),
		cmocka_unit_test_setup_teardown(test_timeline_load, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("pitr-replay timeline", tests,
					   setup_group, NULL);
}
