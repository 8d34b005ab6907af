/*
 * test_progress.c - unit tests for common/progress.c: the exact text of a
 * progress line, --progress parsing, and what each mode draws on a file
 * and on a terminal (a pseudo-terminal standing in for one).
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <termios.h>

#include "progress.h"

#define KIB 1024ULL
#define MIB (1024 * KIB)
#define GIB (1024 * MIB)
#define TIB (1024 * GIB)

static void assert_line(const char *label, uint64_t done, uint64_t total,
			double elapsed, enum dbops_progress_unit unit,
			const char *want)
{
	char buf[256];
	size_t n = dbops_progress_format(buf, sizeof(buf), label, done, total,
					 elapsed, unit);

	assert_string_equal(buf, want);
	assert_int_equal(n, strlen(want));
}

/* The bytes count alone, as a line with no label and no total shows it. */
static void assert_bytes(uint64_t v, const char *want)
{
	char line[64];

	snprintf(line, sizeof(line), "%s, -- B/s", want);
	assert_line(NULL, v, 0, 0, DBOPS_PROGRESS_BYTES, line);
}

/* The ETA of items work done at 1 item/s with remaining items to go. */
static void assert_eta(uint64_t remaining, const char *want)
{
	char buf[128];
	const char *eta;

	dbops_progress_format(buf, sizeof(buf), "t", 10, 10 + remaining, 10,
			      DBOPS_PROGRESS_ITEMS);
	eta = strstr(buf, ", ETA ");
	assert_non_null(eta);
	assert_string_equal(eta + 6, want);
}

static void test_progress_parse_mode_rejects_bad_words(void **state)
{
	const char *bad[] = { "", "Auto", "yes", "always ", "nev", "tty" };
	enum dbops_progress_mode mode = DBOPS_PROGRESS_NEVER;

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		errno = 0;
		assert_int_equal(dbops_progress_parse_mode(bad[i], &mode), -1);
		assert_int_equal(errno, EINVAL);
		assert_int_equal(mode, DBOPS_PROGRESS_NEVER);
	}
	assert_int_equal(dbops_progress_parse_mode(NULL, &mode), -1);
	assert_int_equal(mode, DBOPS_PROGRESS_NEVER);
}

static void test_progress_parse_mode_words(void **state)
{
	enum dbops_progress_mode mode = DBOPS_PROGRESS_NEVER;

	assert_int_equal(dbops_progress_parse_mode("auto", &mode), 0);
	assert_int_equal(mode, DBOPS_PROGRESS_AUTO);
	assert_int_equal(dbops_progress_parse_mode("always", &mode), 0);
	assert_int_equal(mode, DBOPS_PROGRESS_ALWAYS);
	assert_int_equal(dbops_progress_parse_mode("never", &mode), 0);
	assert_int_equal(mode, DBOPS_PROGRESS_NEVER);
}

static void test_progress_format_bytes_with_total(void **state)
{
	/* 12.3 MiB of 45.6 MiB in 1.5 s: 8.2 MiB/s, 4.06 s to go. */
	assert_line("world1", 12897485, 47815066, 1.5, DBOPS_PROGRESS_BYTES,
		    "world1: 12.3 MiB / 45.6 MiB (26%), 8.2 MiB/s, ETA 0:05");
	assert_line("w", 512, 2048, 1, DBOPS_PROGRESS_BYTES,
		    "w: 512 B / 2.0 KiB (25%), 512 B/s, ETA 0:03");
}

static void test_progress_format_items_with_total(void **state)
{
	/* 35.29/s; 280 to go take 7.93 s. */
	assert_line("files", 120, 400, 3.4, DBOPS_PROGRESS_ITEMS,
		    "files: 120 / 400 (30%), 35.3/s, ETA 0:08");
	assert_line("files", 1, 3, 4, DBOPS_PROGRESS_ITEMS,
		    "files: 1 / 3 (33%), 0.3/s, ETA 0:08");
}

static void test_progress_format_unknown_total(void **state)
{
	assert_line("world1", 12897485, 0, 1.5, DBOPS_PROGRESS_BYTES,
		    "world1: 12.3 MiB, 8.2 MiB/s");
	assert_line("files", 120, 0, 3.4, DBOPS_PROGRESS_ITEMS,
		    "files: 120, 35.3/s");
	assert_line("files", 0, 0, 0, DBOPS_PROGRESS_ITEMS, "files: 0, --/s");
}

static void test_progress_format_without_label(void **state)
{
	assert_line(NULL, 120, 400, 3.4, DBOPS_PROGRESS_ITEMS,
		    "120 / 400 (30%), 35.3/s, ETA 0:08");
	assert_line("", 120, 0, 0, DBOPS_PROGRESS_ITEMS, "120, --/s");
}

static void test_progress_format_rate_unknown_at_start(void **state)
{
	/* No time yet, too little time, or nothing done: no rate, no ETA. */
	assert_line("files", 120, 400, 0, DBOPS_PROGRESS_ITEMS,
		    "files: 120 / 400 (30%), --/s, ETA --:--");
	assert_line("files", 120, 400, 0.099, DBOPS_PROGRESS_ITEMS,
		    "files: 120 / 400 (30%), --/s, ETA --:--");
	assert_line("files", 0, 400, 60, DBOPS_PROGRESS_ITEMS,
		    "files: 0 / 400 (0%), --/s, ETA --:--");
	assert_line("x", 0, 1024, 0, DBOPS_PROGRESS_BYTES,
		    "x: 0 B / 1.0 KiB (0%), -- B/s, ETA --:--");
	assert_line("files", 120, 400, -1, DBOPS_PROGRESS_ITEMS,
		    "files: 120 / 400 (30%), --/s, ETA --:--");
	assert_line("files", 120, 400, NAN, DBOPS_PROGRESS_ITEMS,
		    "files: 120 / 400 (30%), --/s, ETA --:--");
	/* From 0.1 s on, the rate counts. */
	assert_line("files", 120, 400, 0.1, DBOPS_PROGRESS_ITEMS,
		    "files: 120 / 400 (30%), 1200.0/s, ETA 0:01");
}

static void test_progress_format_done_reaches_total(void **state)
{
	assert_line("files", 400, 400, 8, DBOPS_PROGRESS_ITEMS,
		    "files: 400 / 400 (100%), 50.0/s, ETA 0:00");
	/* Done at once: no rate, but nothing left either. */
	assert_line("files", 400, 400, 0, DBOPS_PROGRESS_ITEMS,
		    "files: 400 / 400 (100%), --/s, ETA 0:00");
	/* A total that was an estimate: never past 100%. */
	assert_line("files", 500, 400, 10, DBOPS_PROGRESS_ITEMS,
		    "files: 500 / 400 (100%), 50.0/s, ETA 0:00");
	/* The percentage rounds down: 100% only at the end. */
	assert_line("files", 999, 1000, 1, DBOPS_PROGRESS_ITEMS,
		    "files: 999 / 1000 (99%), 999.0/s, ETA 0:01");
}

static void test_progress_format_eta_shapes(void **state)
{
	assert_eta(0, "0:00");
	assert_eta(1, "0:01");
	assert_eta(59, "0:59");
	assert_eta(60, "1:00");
	assert_eta(3599, "59:59");
	assert_eta(3600, "1:00:00");
	assert_eta(3661, "1:01:01");
	assert_eta(359999, "99:59:59");
	assert_eta(360000, ">99:59:59");
	assert_eta(UINT64_MAX - 10, ">99:59:59");
}

static void test_progress_format_huge_total(void **state)
{
	assert_line("big", 1, UINT64_MAX, 1, DBOPS_PROGRESS_BYTES,
		    "big: 1 B / 16777216.0 TiB (0%), 1 B/s, ETA >99:59:59");
	assert_line("big", UINT64_MAX - 1, UINT64_MAX, 0.1,
		    DBOPS_PROGRESS_BYTES,
		    "big: 16777216.0 TiB / 16777216.0 TiB (99%), "
		    "16777216.0 TiB/s, ETA 0:01");
	assert_line("big", UINT64_MAX / 2, UINT64_MAX, 1, DBOPS_PROGRESS_ITEMS,
		    "big: 9223372036854775807 / 18446744073709551615 (49%), "
		    "9223372036854775808/s, ETA 0:01");
	assert_line("big", UINT64_MAX, UINT64_MAX, 0.1, DBOPS_PROGRESS_ITEMS,
		    "big: 18446744073709551615 / 18446744073709551615 (100%), "
		    "18446744073709551615/s, ETA 0:00");
}

static void assert_percent(uint64_t done, uint64_t total, const char *want)
{
	char buf[128];

	dbops_progress_format(buf, sizeof(buf), NULL, done, total, 0,
			      DBOPS_PROGRESS_ITEMS);
	assert_non_null(strstr(buf, want));
}

static void test_progress_format_percent_rounds_down_exactly(void **state)
{
	assert_percent(1, 3, "(33%)");
	assert_percent(2, 3, "(66%)");
	assert_percent(UINT64_MAX / 3, UINT64_MAX, "(33%)");
	assert_percent(9223372036854775807ULL, UINT64_MAX, "(49%)");
	assert_percent(9223372036854775808ULL, UINT64_MAX, "(50%)");
	assert_percent(18262276632972456098ULL, UINT64_MAX, "(98%)");
	assert_percent(18262276632972456099ULL, UINT64_MAX, "(99%)");
	assert_percent(UINT64_MAX - 1, UINT64_MAX, "(99%)");
}

static void test_progress_format_byte_units(void **state)
{
	assert_bytes(0, "0 B");
	assert_bytes(1023, "1023 B");
	assert_bytes(1024, "1.0 KiB");
	assert_bytes(1536, "1.5 KiB");
	assert_bytes(10 * KIB - 52, "9.9 KiB");
	/* Rounding up to 1024.0 goes to the next unit. */
	assert_bytes(MIB - 1, "1.0 MiB");
	assert_bytes(MIB - 52, "1023.9 KiB");
	assert_bytes(MIB, "1.0 MiB");
	assert_bytes(GIB + GIB / 4, "1.3 GiB");
	assert_bytes(GIB + GIB / 4 - 1, "1.2 GiB");
	assert_bytes(TIB, "1.0 TiB");
	assert_bytes(1024 * TIB, "1024.0 TiB");
	assert_bytes(UINT64_MAX, "16777216.0 TiB");
}

static void test_progress_format_cuts_like_snprintf(void **state)
{
	char buf[10];
	const char *whole = "files: 120 / 400 (30%), --/s, ETA --:--";

	memset(buf, 'x', sizeof(buf));
	assert_int_equal(dbops_progress_format(buf, sizeof(buf), "files", 120,
					       400, 0, DBOPS_PROGRESS_ITEMS),
			 strlen(whole));
	assert_string_equal(buf, "files: 12");
	assert_int_equal(dbops_progress_format(NULL, 0, "files", 120, 400, 0,
					       DBOPS_PROGRESS_ITEMS),
			 strlen(whole));
	assert_int_equal(dbops_progress_format(buf, 1, "files", 120, 400, 0,
					       DBOPS_PROGRESS_ITEMS),
			 strlen(whole));
	assert_string_equal(buf, "");
}

/* What the calls draw on stderr redirected to a file. */
static char *draw_to_file(enum dbops_progress_mode mode, uint64_t second)
{
	struct dbops_progress *p;
	struct capture c;

	capture_begin(&c, STDERR_FILENO);
	p = dbops_progress_new("files", 400, DBOPS_PROGRESS_ITEMS, mode);
	assert_non_null(p);
	dbops_progress_update(p, 0);
	dbops_progress_update(p, second);
	dbops_progress_clear(p);
	dbops_progress_finish(p);
	return capture_end(&c);
}

static void test_progress_never_draws_nothing(void **state)
{
	char *out = draw_to_file(DBOPS_PROGRESS_NEVER, 200);

	assert_string_equal(out, "");
	free(out);
}

static void test_progress_auto_draws_nothing_on_a_file(void **state)
{
	char *out = draw_to_file(DBOPS_PROGRESS_AUTO, 200);

	assert_string_equal(out, "");
	free(out);
}

static void test_progress_always_draws_plain_lines_on_a_file(void **state)
{
	const char *first = "files: 0 / 400 (0%), --/s, ETA --:--\n";
	const char *last = "files: 200 / 400 (50%), ";
	char *out = draw_to_file(DBOPS_PROGRESS_ALWAYS, 200);

	/* The first update draws; the second comes too soon; the end draws
	 * the latest count (its rate depends on the clock). */
	assert_memory_equal(out, first, strlen(first));
	assert_memory_equal(out + strlen(first), last, strlen(last));
	assert_null(strchr(out, '\r'));
	assert_null(strchr(out, '\033'));
	assert_ptr_equal(strchr(out + strlen(first), '\n'),
			 out + strlen(out) - 1);
	free(out);
}

static void test_progress_always_skips_a_repeated_last_line(void **state)
{
	char *out = draw_to_file(DBOPS_PROGRESS_ALWAYS, 0);

	assert_string_equal(out, "files: 0 / 400 (0%), --/s, ETA --:--\n");
	free(out);
}

static void test_progress_finish_without_update_draws_nothing(void **state)
{
	struct capture c;
	char *out;

	capture_begin(&c, STDERR_FILENO);
	dbops_progress_finish(dbops_progress_new("x", 0, DBOPS_PROGRESS_BYTES,
						 DBOPS_PROGRESS_ALWAYS));
	out = capture_end(&c);
	assert_string_equal(out, "");
	free(out);
}

static void test_progress_null_is_accepted(void **state)
{
	dbops_progress_update(NULL, 1);
	dbops_progress_clear(NULL);
	dbops_progress_finish(NULL);
}

/* stderr on the slave side of a raw pseudo-terminal cols wide. */
struct pty {
	int master;
	int saved;
};

static bool pty_begin(struct pty *t, unsigned short cols)
{
	struct winsize ws = { .ws_row = 24, .ws_col = cols };
	struct termios tio;
	int slave;

	t->master = posix_openpt(O_RDWR | O_NOCTTY);
	if (t->master < 0)
		return false;
	if (grantpt(t->master) != 0 || unlockpt(t->master) != 0 ||
	    (slave = open(ptsname(t->master), O_RDWR | O_NOCTTY)) < 0) {
		close(t->master);
		return false;
	}
	/* Raw: "\n" arrives as it was written, not as "\r\n". */
	assert_int_equal(tcgetattr(slave, &tio), 0);
	cfmakeraw(&tio);
	assert_int_equal(tcsetattr(slave, TCSANOW, &tio), 0);
	assert_int_equal(ioctl(slave, TIOCSWINSZ, &ws), 0);
	fflush(stderr);
	t->saved = dup(STDERR_FILENO);
	assert_true(t->saved >= 0);
	assert_true(dup2(slave, STDERR_FILENO) >= 0);
	close(slave);
	return true;
}

/* Restore stderr and return what reached the terminal. */
static char *pty_end(struct pty *t)
{
	struct pollfd pfd = { .fd = t->master, .events = POLLIN };
	size_t len = 0;
	char *text = malloc(4096);

	assert_non_null(text);
	assert_true(dup2(t->saved, STDERR_FILENO) >= 0);
	close(t->saved);
	/* The terminal hands the bytes on asynchronously: read until it has
	 * been quiet for a while. */
	while (len < 4095 && poll(&pfd, 1, 200) == 1) {
		ssize_t n = read(t->master, text + len, 4095 - len);

		if (n <= 0)
			break;
		len += (size_t)n;
	}
	text[len] = '\0';
	close(t->master);
	return text;
}

static void test_progress_auto_redraws_in_place_on_a_terminal(void **state)
{
	const char *first = "\rfiles: 0 / 400 (0%), --/s, ETA --:--\033[K"
			    "\r\033[K"
			    "\rfiles: 200 / 400 (50%), ";
	const char *end = "\033[K\n";
	struct dbops_progress *p;
	struct pty t;
	char *out;

	if (!pty_begin(&t, 0))
		skip();
	p = dbops_progress_new("files", 400, DBOPS_PROGRESS_ITEMS,
			       DBOPS_PROGRESS_AUTO);
	dbops_progress_update(p, 0);
	dbops_progress_update(p, 100); /* too soon: not drawn */
	dbops_progress_clear(p);       /* a message would go here */
	dbops_progress_update(p, 200); /* drawn again at once */
	dbops_progress_finish(p);
	out = pty_end(&t);

	assert_memory_equal(out, first, strlen(first));
	assert_string_equal(out + strlen(out) - strlen(end), end);
	/* Two lines of 200: the redraw after the clear and the final one. */
	assert_non_null(strstr(strstr(out, "200 / 400") + 1, "200 / 400"));
	assert_null(strstr(out, "100 / 400"));
	free(out);
}

static void test_progress_line_cut_to_terminal_width(void **state)
{
	struct dbops_progress *p;
	struct pty t;
	char *out;

	if (!pty_begin(&t, 20))
		skip();
	/* "é" is two bytes: a cut in its middle moves before it. */
	p = dbops_progress_new("files_é", 400, DBOPS_PROGRESS_ITEMS,
			       DBOPS_PROGRESS_AUTO);
	dbops_progress_update(p, 0);
	dbops_progress_finish(p);
	out = pty_end(&t);
	assert_string_equal(out, "\rfiles_é: 0 / 400 (\033[K"
				 "\rfiles_é: 0 / 400 (\033[K\n");
	free(out);

	if (!pty_begin(&t, 8))
		skip();
	p = dbops_progress_new("files_é", 400, DBOPS_PROGRESS_ITEMS,
			       DBOPS_PROGRESS_ALWAYS);
	dbops_progress_update(p, 0);
	dbops_progress_finish(p);
	out = pty_end(&t);
	assert_string_equal(out, "\rfiles_\033[K\rfiles_\033[K\n");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_progress_parse_mode_rejects_bad_words),
		cmocka_unit_test(test_progress_parse_mode_words),
		cmocka_unit_test(test_progress_format_bytes_with_total),
		cmocka_unit_test(test_progress_format_items_with_total),
		cmocka_unit_test(test_progress_format_unknown_total),
		cmocka_unit_test(test_progress_format_without_label),
		cmocka_unit_test(test_progress_format_rate_unknown_at_start),
		cmocka_unit_test(test_progress_format_done_reaches_total),
		cmocka_unit_test(test_progress_format_eta_shapes),
		cmocka_unit_test(test_progress_format_huge_total),
		cmocka_unit_test(
			test_progress_format_percent_rounds_down_exactly),
		cmocka_unit_test(test_progress_format_byte_units),
		cmocka_unit_test(test_progress_format_cuts_like_snprintf),
		cmocka_unit_test(test_progress_never_draws_nothing),
		cmocka_unit_test(test_progress_auto_draws_nothing_on_a_file),
		cmocka_unit_test(
			test_progress_always_draws_plain_lines_on_a_file),
		cmocka_unit_test(
			test_progress_always_skips_a_repeated_last_line),
		cmocka_unit_test(
			test_progress_finish_without_update_draws_nothing),
		cmocka_unit_test(test_progress_null_is_accepted),
		cmocka_unit_test(
			test_progress_auto_redraws_in_place_on_a_terminal),
		cmocka_unit_test(test_progress_line_cut_to_terminal_width),
	};

	return cmocka_run_group_tests_name("progress", tests, NULL, NULL);
}
