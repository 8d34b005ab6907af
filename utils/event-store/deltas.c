/*
 * deltas.c - per-symbol aggregates and the deltas text of a batch (the
 * format is in deltas.h).
 */
#include "deltas.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

int es_symbol_index(int c)
{
	return c >= 'a' && c <= 'z' ? c - 'a' : -1;
}

static void aggregate_clear(struct es_aggregate *a)
{
	a->events = 0;
	a->followups = 0;
	a->earliest_us = ES_TIME_NONE;
	a->latest_us = ES_TIME_NONE;
}

void es_aggregates_clear(struct es_aggregate aggs[ES_SYMBOLS])
{
	for (int i = 0; i < ES_SYMBOLS; i++)
		aggregate_clear(&aggs[i]);
}

void es_aggregate_add_initial(struct es_aggregate aggs[ES_SYMBOLS], int sym,
			      int64_t at_us)
{
	struct es_aggregate *a = &aggs[sym];

	if (a->events == 0 || at_us < a->earliest_us)
		a->earliest_us = at_us;
	if (a->events == 0 || at_us > a->latest_us)
		a->latest_us = at_us;
	a->events++;
}

void es_aggregate_add_followup(struct es_aggregate aggs[ES_SYMBOLS], int sym)
{
	aggs[sym].followups++;
}

void es_aggregates_merge(struct es_aggregate dst[ES_SYMBOLS],
			 const struct es_aggregate src[ES_SYMBOLS])
{
	for (int i = 0; i < ES_SYMBOLS; i++) {
		struct es_aggregate *d = &dst[i];
		const struct es_aggregate *s = &src[i];

		if (s->events > 0) {
			if (d->events == 0 || s->earliest_us < d->earliest_us)
				d->earliest_us = s->earliest_us;
			if (d->events == 0 || s->latest_us > d->latest_us)
				d->latest_us = s->latest_us;
		}
		d->events += s->events;
		d->followups += s->followups;
	}
}

bool es_aggregate_equal(const struct es_aggregate *a,
			const struct es_aggregate *b)
{
	if (a->events != b->events || a->followups != b->followups)
		return false;
	return a->events == 0 || (a->earliest_us == b->earliest_us &&
				  a->latest_us == b->latest_us);
}

/* "-" for none, else the decimal number, into BUF of 24 bytes. */
static const char *time_text(const struct es_aggregate *a, int64_t t, char *buf)
{
	if (a->events == 0)
		return "-";
	snprintf(buf, 24, "%" PRId64, t);
	return buf;
}

size_t es_deltas_format(const struct es_aggregate aggs[ES_SYMBOLS], char *buf,
			size_t size)
{
	size_t len = 0;

	if (size > 0)
		buf[0] = '\0';
	for (int i = 0; i < ES_SYMBOLS; i++) {
		const struct es_aggregate *a = &aggs[i];
		char e[24], l[24];
		int n;

		if (a->events == 0 && a->followups == 0)
			continue;
		n = snprintf(len < size ? buf + len : NULL,
			     len < size ? size - len : 0,
			     "%s%c %" PRId64 " %" PRId64 " %s %s",
			     len > 0 ? "\n" : "", 'a' + i, a->events,
			     a->followups, time_text(a, a->earliest_us, e),
			     time_text(a, a->latest_us, l));
		len += (size_t)n;
	}
	return len;
}

/*
 * One field WHAT of a line: *P at its start; NEXT names the field that
 * must follow after one space, NULL when WHAT ends the line. On success *P
 * is past the field and its space. Returns the field's length, or 0 with
 * ERR set.
 */
static size_t field(const char **p, const char *what, const char *next,
		    struct dbops_err *err)
{
	const char *s = *p;
	size_t n = strcspn(s, " \n");

	if (n == 0) {
		dbops_err_set(err, "%s is missing", what);
		return 0;
	}
	if (next == NULL && s[n] == ' ') {
		dbops_err_set(err, "text after the %s", what);
		return 0;
	}
	if (next != NULL && s[n] != ' ') {
		dbops_err_set(err, "%s is missing", next);
		return 0;
	}
	*p = s + n + (next != NULL ? 1 : 0);
	return n;
}

/*
 * The decimal integer S of N bytes into *V: digits only unless SIGNED
 * allows a leading "-"; no leading zeros; no overflow. Returns 0 or -1.
 */
static int integer(const char *s, size_t n, bool is_signed, int64_t *v)
{
	bool neg = is_signed && n > 1 && s[0] == '-';
	uint64_t x = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : INT64_MAX;
	size_t i = neg ? 1 : 0;

	if (n == i || (s[i] == '0' && n > i + 1))
		return -1;
	for (; i < n; i++) {
		unsigned d = (unsigned char)s[i] - '0';

		if (d > 9 || x > (limit - d) / 10)
			return -1;
		x = x * 10 + d;
	}
	if (neg && x == 0)
		return -1; /* "-0" */
	*v = neg ? (int64_t)(0 - x) : (int64_t)x;
	return 0;
}

/* A count field (events, followups) of the line at *P into *V. */
static int count_field(const char **p, const char *what, const char *next,
		       int64_t *v, struct dbops_err *err)
{
	const char *s = *p;
	size_t n = field(p, what, next, err);

	if (n == 0)
		return -1;
	if (integer(s, n, false, v) != 0)
		return dbops_err_set(err, "%s \"%.*s\" is not a number >= 0",
				     what, (int)(n > 24 ? 24 : n), s);
	return 0;
}

/* A time field of the line at *P into *V: ES_TIME_NONE for "-". */
static int time_field(const char **p, const char *what, const char *next,
		      int64_t *v, struct dbops_err *err)
{
	const char *s = *p;
	size_t n = field(p, what, next, err);

	if (n == 0)
		return -1;
	if (n == 1 && s[0] == '-') {
		*v = ES_TIME_NONE;
		return 0;
	}
	if (integer(s, n, true, v) != 0 || *v == ES_TIME_NONE)
		return dbops_err_set(err,
				     "%s \"%.*s\" is not microseconds or \"-\"",
				     what, (int)(n > 24 ? 24 : n), s);
	return 0;
}

/* The line at *P (up to "\n" or the end) into A; *P past it. */
static int parse_line(const char **p, int *sym, struct es_aggregate *a,
		      struct dbops_err *err)
{
	const char *s = *p;
	size_t n = strcspn(s, " \n");

	if (n != 1 || es_symbol_index((unsigned char)s[0]) < 0)
		return dbops_err_set(err,
				     "symbol \"%.*s\" is not one letter a-z",
				     (int)(n > 24 ? 24 : n), s);
	*sym = es_symbol_index((unsigned char)s[0]);
	if (s[1] != ' ')
		return dbops_err_set(err, "events count is missing");
	*p = s + 2;
	if (count_field(p, "events count", "followups count", &a->events,
			err) != 0 ||
	    count_field(p, "followups count", "earliest time", &a->followups,
			err) != 0 ||
	    time_field(p, "earliest time", "latest time", &a->earliest_us,
		       err) != 0 ||
	    time_field(p, "latest time", NULL, &a->latest_us, err) != 0)
		return -1;
	if (a->events == 0 && a->followups == 0)
		return dbops_err_set(err, "no event and no follow-up");
	if ((a->events == 0) != (a->earliest_us == ES_TIME_NONE) ||
	    (a->events == 0) != (a->latest_us == ES_TIME_NONE))
		return dbops_err_set(err, "times must be \"-\" exactly when "
					  "the events count is 0");
	if (a->events > 0 && a->earliest_us > a->latest_us)
		return dbops_err_set(err, "earliest time after latest time");
	return 0;
}

int es_deltas_parse(const char *text, struct es_aggregate aggs[ES_SYMBOLS],
		    struct dbops_err *err)
{
	const char *p = text;
	int line = 0, prev = -1;

	es_aggregates_clear(aggs);
	if (*p == '\0')
		return 0;
	for (;;) {
		struct es_aggregate a;
		int sym = -1;

		line++;
		if (parse_line(&p, &sym, &a, err) != 0)
			return dbops_err_prefix(err, "line %d: ", line);
		if (sym <= prev)
			return dbops_err_set(
				err,
				"line %d: symbol \"%c\" after \"%c\": "
				"lines must be in symbol order, "
				"each symbol once",
				line, 'a' + sym, 'a' + prev);
		aggs[sym] = a;
		prev = sym;
		if (*p == '\0')
			return 0;
		p++; /* the "\n" */
		if (*p == '\0')
			return dbops_err_set(err, "line %d: empty line",
					     line + 1);
	}
}
