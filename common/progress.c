/*
 * progress.c - the progress line of long work on stderr: its text (pure,
 * integer arithmetic where it can, so no locale and no libm) and its
 * drawing, throttled by the monotonic clock. See progress.h.
 */
#include "progress.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "utf8.h"

/* Seconds between redraws: on a terminal, and in a log. */
#define REDRAW_TTY 0.2
#define REDRAW_LOG 10.0

/* Before this much time a rate means little. */
#define MIN_ELAPSED 0.1

/* The longest ETA shown, 99:59:59, plus one second. */
#define ETA_CAP 360000

/* Room for a line: longer ones are cut, terminals are narrower anyway. */
#define LINE_MAX_BYTES 512

struct dbops_progress {
	char *label;
	uint64_t total;
	uint64_t done;
	enum dbops_progress_unit unit;
	bool enabled;	     /* draws at all */
	bool tty;	     /* stderr is a terminal */
	bool drawn;	     /* a line was drawn once */
	bool shown;	     /* a line stands on the terminal now */
	bool force;	     /* the next update draws, however soon */
	uint64_t drawn_done; /* done as of the last line drawn */
	double start;	     /* dbops_clock_seconds() */
	double last;
};

int dbops_progress_parse_mode(const char *text, enum dbops_progress_mode *mode)
{
	static const char *const words[] = {
		[DBOPS_PROGRESS_AUTO] = "auto",
		[DBOPS_PROGRESS_ALWAYS] = "always",
		[DBOPS_PROGRESS_NEVER] = "never",
	};

	for (size_t i = 0; text != NULL && i < sizeof(words) / sizeof(*words);
	     i++) {
		if (strcmp(text, words[i]) == 0) {
			*mode = (enum dbops_progress_mode)i;
			return 0;
		}
	}
	errno = EINVAL;
	return -1;
}

/* Appends to a buffer like snprintf: cut at len - 1, counts everything. */
struct line {
	char *buf;
	size_t len;
	size_t pos;
};

static void put(struct line *l, const char *s)
{
	size_t n = strlen(s);

	if (l->pos + 1 < l->len) {
		size_t room = l->len - 1 - l->pos;
		size_t copy = n < room ? n : room;

		memcpy(l->buf + l->pos, s, copy);
		l->buf[l->pos + copy] = '\0';
	}
	l->pos += n;
}

/* "1023 B", "1.0 KiB", ..., "12.3 MiB": the largest unit below 1024.0. */
static void format_bytes(char *out, size_t len, uint64_t v)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	uint64_t tenths = 0;
	size_t k;

	if (v < 1024) {
		snprintf(out, len, "%" PRIu64 " B", v);
		return;
	}
	for (k = 0; k < 4; k++) {
		unsigned shift = 10 * ((unsigned)k + 1);
		uint64_t unit = (uint64_t)1 << shift;
		uint64_t rest = v & (unit - 1);

		/* Rounded to tenths, without overflow: rest * 10 < 2^44. */
		tenths = (v >> shift) * 10 + (rest * 10 + unit / 2) / unit;
		if (tenths < 10240)
			break;
	}
	if (k == 4)
		k = 3;
	snprintf(out, len, "%" PRIu64 ".%" PRIu64 " %s", tenths / 10,
		 tenths % 10, units[k]);
}

/* A non-negative double to an integer, saturating instead of overflowing. */
static uint64_t to_u64(double v)
{
	if (!(v >= 0))
		return 0;
	if (v >= 18446744073709551615.0)
		return UINT64_MAX;
	return (uint64_t)v;
}

/*
 * floor(done * 100 / total), at most 100, exactly: shift and add over the
 * bits of 100, the remainder kept below total so that nothing overflows.
 */
static unsigned percent(uint64_t done, uint64_t total)
{
	uint64_t q = 0, r = 0;

	if (done >= total)
		return 100;
	for (int bit = 6; bit >= 0; bit--) {
		q *= 2;
		if (r >= total - r) {
			r -= total - r;
			q++;
		} else {
			r *= 2;
		}
		if ((100 >> bit) & 1) {
			if (r >= total - done) {
				r -= total - done;
				q++;
			} else {
				r += done;
			}
		}
	}
	return (unsigned)q;
}

static void format_eta(char *out, size_t len, uint64_t done, uint64_t total,
		       double elapsed, bool rate_known)
{
	double eta;
	uint64_t s;

	if (done >= total) {
		snprintf(out, len, "0:00");
		return;
	}
	if (!rate_known) {
		snprintf(out, len, "--:--");
		return;
	}
	/* Rounded up: "0:00" only at the end. */
	eta = (double)(total - done) * elapsed / (double)done;
	s = to_u64(eta);
	if ((double)s < eta && s < UINT64_MAX)
		s++;
	if (s >= ETA_CAP)
		snprintf(out, len, ">99:59:59");
	else if (s >= 3600)
		snprintf(out, len, "%u:%02u:%02u", (unsigned)(s / 3600),
			 (unsigned)(s / 60 % 60), (unsigned)(s % 60));
	else
		snprintf(out, len, "%u:%02u", (unsigned)(s / 60),
			 (unsigned)(s % 60));
}

size_t dbops_progress_format(char *buf, size_t len, const char *label,
			     uint64_t done, uint64_t total,
			     double elapsed_seconds,
			     enum dbops_progress_unit unit)
{
	struct line l = { buf, len, 0 };
	bool bytes = unit == DBOPS_PROGRESS_BYTES;
	bool rate_known = done > 0 && elapsed_seconds >= MIN_ELAPSED;
	double rate = rate_known ? (double)done / elapsed_seconds : 0;
	char text[48];

	if (len > 0)
		buf[0] = '\0';
	if (label != NULL && *label != '\0') {
		put(&l, label);
		put(&l, ": ");
	}
	if (bytes)
		format_bytes(text, sizeof(text), done);
	else
		snprintf(text, sizeof(text), "%" PRIu64, done);
	put(&l, text);
	if (total > 0) {
		put(&l, " / ");
		if (bytes)
			format_bytes(text, sizeof(text), total);
		else
			snprintf(text, sizeof(text), "%" PRIu64, total);
		put(&l, text);
		snprintf(text, sizeof(text), " (%u%%)", percent(done, total));
		put(&l, text);
	}
	put(&l, ", ");
	if (!rate_known) {
		put(&l, bytes ? "-- B/s" : "--/s");
	} else if (bytes) {
		format_bytes(text, sizeof(text), to_u64(rate + 0.5));
		put(&l, text);
		put(&l, "/s");
	} else if (rate < 1e15) {
		uint64_t tenths = to_u64(rate * 10 + 0.5);

		snprintf(text, sizeof(text), "%" PRIu64 ".%" PRIu64 "/s",
			 tenths / 10, tenths % 10);
		put(&l, text);
	} else {
		/* Past any real rate, where tenths would overflow. */
		snprintf(text, sizeof(text), "%" PRIu64 "/s", to_u64(rate));
		put(&l, text);
	}
	if (total > 0) {
		put(&l, ", ETA ");
		format_eta(text, sizeof(text), done, total, elapsed_seconds,
			   rate_known);
		put(&l, text);
	}
	return l.pos;
}

struct dbops_progress *dbops_progress_new(const char *label, uint64_t total,
					  enum dbops_progress_unit unit,
					  enum dbops_progress_mode mode)
{
	struct dbops_progress *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	if (label != NULL) {
		p->label = strdup(label);
		if (p->label == NULL) {
			free(p);
			return NULL;
		}
	}
	p->total = total;
	p->unit = unit;
	p->tty = isatty(STDERR_FILENO) == 1;
	p->enabled = mode == DBOPS_PROGRESS_ALWAYS ||
		     (mode == DBOPS_PROGRESS_AUTO && p->tty);
	p->start = dbops_clock_seconds();
	return p;
}

/* Columns of the terminal on stderr, 0 if it does not say. */
static size_t terminal_width(void)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) != 0)
		return 0;
	return ws.ws_col;
}

static void draw(struct dbops_progress *p, double now, bool final)
{
	/* "\r" + text + "\033[K" + "\n" */
	char buf[1 + LINE_MAX_BYTES + 3 + 1 + 1];
	char *text = p->tty ? buf + 1 : buf;
	size_t n, width;
	int saved = errno;

	n = dbops_progress_format(text, LINE_MAX_BYTES + 1, p->label, p->done,
				  p->total, now - p->start, p->unit);
	if (n > LINE_MAX_BYTES)
		n = dbops_utf8_cut(text, LINE_MAX_BYTES);
	if (p->tty) {
		/* Stay off the last column: writing there may wrap the line
		 * and "\r" would then go back to the wrong row. */
		width = terminal_width();
		if (width > 0 && n > width - 1)
			n = dbops_utf8_cut(text, width - 1);
		buf[0] = '\r';
		memcpy(text + n, "\033[K", 3);
		n += 4;
		if (final)
			buf[n++] = '\n';
	} else {
		text[n++] = '\n';
	}
	dbops_log_write_raw(buf, n);
	p->drawn = true;
	p->shown = p->tty && !final;
	p->force = false;
	p->drawn_done = p->done;
	p->last = now;
	errno = saved;
}

void dbops_progress_update(struct dbops_progress *p, uint64_t done)
{
	double now;

	if (p == NULL)
		return;
	p->done = done;
	if (!p->enabled)
		return;
	now = dbops_clock_seconds();
	if (p->drawn && !p->force &&
	    now - p->last < (p->tty ? REDRAW_TTY : REDRAW_LOG))
		return;
	draw(p, now, false);
}

void dbops_progress_clear(struct dbops_progress *p)
{
	int saved = errno;

	if (p == NULL || !p->shown)
		return;
	dbops_log_write_raw("\r\033[K", 4);
	p->shown = false;
	p->force = true;
	errno = saved;
}

void dbops_progress_finish(struct dbops_progress *p)
{
	if (p == NULL)
		return;
	if (p->enabled && p->drawn && (p->tty || p->done != p->drawn_done))
		draw(p, dbops_clock_seconds(), true);
	free(p->label);
	free(p);
}
