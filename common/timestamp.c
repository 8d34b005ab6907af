/*
 * timestamp.c - parse the timestamps users type and file names carry, and
 * print them. See timestamp.h for the forms.
 *
 * The parser reads the text once, left to right, into broken-down fields;
 * only then are the fields checked against their ranges, so a message names
 * the field at fault ("month 13 is out of range") rather than the shape.
 * Dates with a zone become UTC by calendar arithmetic alone; dates without
 * one go through the C library's reading of TZ.
 *
 * Local time does not use mktime(): in the hour repeated in autumn glibc's
 * mktime() with tm_isdst = -1 answers with whichever offset it used last, and
 * in the hour skipped in spring it quietly moves the time an hour on. We ask
 * localtime_r() instead which offsets are in force around the date and keep
 * each reading of the wall clock that localtime_r() gives back unchanged.
 */
#include "timestamp.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#define USEC_PER_SEC 1000000
#define SEC_PER_DAY  86400

/* "@" epochs: the years -9999 to 9999, UTC. */
#define EPOCH_MIN_SEC (-377705116800LL) /* -9999-01-01T00:00:00Z */
#define EPOCH_MAX_SEC 253402300799LL	/* 9999-12-31T23:59:59Z */

static const char forms_hint[] =
	"expected a form such as 2024-03-01, 2024-03-01 12:00:00, "
	"2024-03-01T12:00:00Z, 20240301T120000Z, "
	"Sat Dec 05 10:08:34 2026 UTC or @1709294400";

/* What the text says, before any range check. */
struct stamp_fields {
	int year, month, day;
	int hour, minute, second;
	int usec;
	int frac_digits;  /* as typed, to name a fraction too long */
	const char *frac; /* the "." of the fraction, NULL if none */
	const char *zone; /* the zone as typed, NULL if none */
	int zone_len;
	const char *zone_name; /* after a space: "UTC", "Europe/Paris" */
	int zone_name_len;
	bool zone_is_setting; /* zone_name is the caller's, not typed */
	int zone_hours, zone_minutes, zone_sign;
};

static int unrecognised(const char *text, struct dbops_err *err)
{
	return dbops_err_set(err, "unrecognised time \"%s\": %s", text,
			     forms_hint);
}

/* TEXT parsed up to REST, which is left over. */
static int trailing_text(const char *text, const char *rest,
			 struct dbops_err *err)
{
	return dbops_err_set(
		err, "unrecognised time \"%s\": unexpected \"%s\" at the end",
		text, rest);
}

/* The length of the run of ASCII digits at p. */
static int digit_run(const char *p)
{
	int n = 0;

	while (p[n] >= '0' && p[n] <= '9')
		n++;
	return n;
}

/*
 * Read a field of exactly n digits at *p, no more and no fewer, and move *p
 * past it. Returns false, *p unmoved, if the digits at *p are not n.
 */
static bool take_digits(const char **p, int n, int *value)
{
	int v = 0;

	if (digit_run(*p) != n)
		return false;
	for (int i = 0; i < n; i++)
		v = v * 10 + ((*p)[i] - '0');
	*value = v;
	*p += n;
	return true;
}

static bool take_char(const char **p, char c)
{
	if (**p != c)
		return false;
	(*p)++;
	return true;
}

/* An optional ".digits" after the seconds; more than six is kept to blame. */
static bool take_fraction(const char **p, struct stamp_fields *f)
{
	int n;

	if (**p != '.')
		return true;
	n = digit_run(*p + 1);
	if (n == 0)
		return false;
	f->frac = *p;
	f->frac_digits = n;
	for (int i = 0; i < 6; i++)
		f->usec = f->usec * 10 + (i < n ? (*p)[1 + i] - '0' : 0);
	*p += 1 + n;
	return true;
}

/* "Z", "z", "+HH", "+HH:MM" or "+HHMM" (or "-"), if one is there. */
static bool take_zone(const char **p, struct stamp_fields *f)
{
	const char *start = *p;

	if (**p == 'Z' || **p == 'z') {
		(*p)++;
	} else if (**p == '+' || **p == '-') {
		f->zone_sign = **p == '-' ? -1 : 1;
		(*p)++;
		if (take_digits(p, 4, &f->zone_hours)) {
			f->zone_minutes = f->zone_hours % 100;
			f->zone_hours /= 100;
		} else if (!take_digits(p, 2, &f->zone_hours)) {
			return false;
		} else if (take_char(p, ':') &&
			   !take_digits(p, 2, &f->zone_minutes)) {
			return false;
		}
	} else {
		return true;
	}
	f->zone = start;
	f->zone_len = (int)(*p - start);
	return true;
}

/*
 * The time of day after the date's separator sep: "HH:MM[:SS]" after " " or
 * "T", "HH-MM-SS" or "HH:MM:SS" after "_" (file names), "HHMMSS" after a
 * compact date. The fraction and zone follow any of them.
 */
static bool take_time(const char **p, char sep, bool compact,
		      struct stamp_fields *f)
{
	char colon = ':';

	if (compact) {
		int hms;

		if (!take_digits(p, 6, &hms))
			return false;
		f->hour = hms / 10000;
		f->minute = hms / 100 % 100;
		f->second = hms % 100;
	} else {
		if (!take_digits(p, 2, &f->hour))
			return false;
		if (sep == '_' && **p == '-')
			colon = '-';
		if (!take_char(p, colon) || !take_digits(p, 2, &f->minute))
			return false;
		if (take_char(p, colon)) {
			if (!take_digits(p, 2, &f->second))
				return false;
		} else if (sep == '_' || **p == '.') {
			/* File names carry seconds; a fraction needs them. */
			return false;
		}
	}
	return take_fraction(p, f) && take_zone(p, f);
}

/*
 * After a time of day, a space and a zone, as the server log and psql write
 * them: an offset ("+02", "-05:30"), or a word: UTC, GMT, UT or Z, or a
 * zone name of the tz database ("Europe/Paris"), checked later.
 */
static bool take_spaced_zone(const char **p, struct stamp_fields *f)
{
	const char *q = *p + 1;
	int n = 0;

	if (*q == '+' || *q == '-') {
		*p = q;
		return take_zone(p, f) && f->zone != NULL;
	}
	if (!isalpha((unsigned char)*q))
		return false;
	while (isalnum((unsigned char)q[n]) || q[n] == '/' || q[n] == '_' ||
	       q[n] == '+' || q[n] == '-')
		n++;
	f->zone_name = q;
	f->zone_name_len = n;
	*p = q + n;
	return true;
}

static bool is_leap(int year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int dbops_timestamp_days_in_month(int year, int month)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30,
				    31, 31, 30, 31, 30, 31 };

	return month == 2 && is_leap(year) ? 29 : days[month - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The inverse of days_from_civil(). */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* Whole seconds, rounded down, and the microseconds after them. */
static int64_t split_usec(int64_t usec, int *frac)
{
	int rem = (int)(usec % USEC_PER_SEC);

	*frac = rem < 0 ? rem + USEC_PER_SEC : rem;
	return floor_div(usec, USEC_PER_SEC);
}

/* ".5", ".123456" or "" for a fraction of usec microseconds. */
static void format_fraction(int usec, char out[8])
{
	int n = 6;

	out[0] = '\0';
	if (usec == 0)
		return;
	snprintf(out, 8, ".%06d", usec);
	while (out[n] == '0')
		out[n--] = '\0';
}

static int check_ranges(const struct stamp_fields *f, struct dbops_err *err)
{
	if (f->year < 1000)
		return dbops_err_set(err, "year %04d is out of range", f->year);
	if (f->month < 1 || f->month > 12)
		return dbops_err_set(err, "month %d is out of range", f->month);
	if (f->day < 1 ||
	    f->day > dbops_timestamp_days_in_month(f->year, f->month))
		return dbops_err_set(err,
				     "day %d is out of range for %04d-%02d",
				     f->day, f->year, f->month);
	if (f->hour > 23)
		return dbops_err_set(err, "hour %d is out of range", f->hour);
	if (f->minute > 59)
		return dbops_err_set(err, "minute %d is out of range",
				     f->minute);
	if (f->second > 59)
		return dbops_err_set(err, "second %d is out of range",
				     f->second);
	if (f->frac_digits > 6)
		return dbops_err_set(err,
				     "fraction %.*s has more than 6 digits",
				     f->frac_digits + 1, f->frac);
	if (f->zone != NULL &&
	    (f->zone_hours > DBOPS_TIMESTAMP_MAX_OFFSET_HOURS ||
	     f->zone_minutes > 59))
		return dbops_err_set(err, "offset %.*s is out of range",
				     f->zone_len, f->zone);
	return 0;
}

/*
 * The instant at which the wall clock of TZ reads wall (seconds, the wall
 * clock's fields counted as if they were UTC). Each offset in force within a
 * day either side is tried; a reading is kept if localtime_r() agrees that
 * the offset holds at the instant it gives. None: the wall time was skipped.
 * Two: the hour was repeated, and the earlier instant wins.
 */
static bool local_to_utc(int64_t wall, int64_t *sec)
{
	static const int probes[] = { -SEC_PER_DAY, 0, SEC_PER_DAY };
	bool found = false;

	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		time_t t = (time_t)(wall + probes[i]);
		struct tm tm;
		int64_t cand;

		if (localtime_r(&t, &tm) == NULL)
			continue;
		cand = wall - tm.tm_gmtoff;
		t = (time_t)cand;
		if (localtime_r(&t, &tm) == NULL || wall - tm.tm_gmtoff != cand)
			continue;
		if (!found || cand < *sec)
			*sec = cand;
		found = true;
	}
	return found;
}

/* The wall time of F does not exist in ZONE (TZ's when NULL). */
static int skipped_time(const struct stamp_fields *f, const char *zone,
			struct dbops_err *err)
{
	const char *tz = zone ? zone : getenv("TZ");
	char frac[8];

	format_fraction(f->usec, frac);
	if (tz != NULL && *tz == ':')
		tz++;
	return dbops_err_set(
		err,
		"%04d-%02d-%02d %02d:%02d:%02d%s does not exist in "
		"%s%s",
		f->year, f->month, f->day, f->hour, f->minute, f->second, frac,
		tz != NULL && *tz != '\0' ? "time zone " : "",
		tz != NULL && *tz != '\0' ? tz : "local time");
}

/* Whether NAME is a zone of the tz database ($TZDIR or /usr/share/zoneinfo). */
static bool zone_exists(const char *name)
{
	const char *dir = getenv("TZDIR");
	char path[512];
	struct stat st;

	if (strstr(name, "..") != NULL)
		return false;
	snprintf(path, sizeof(path), "%s/%s",
		 dir != NULL && *dir != '\0' ? dir : "/usr/share/zoneinfo",
		 name);
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Whether the word is an abbreviation such as EST or CEST: letters, all
 * upper case. */
static bool is_abbreviation(const char *name)
{
	for (const char *c = name; *c; c++)
		if (!isupper((unsigned char)*c))
			return false;
	return true;
}

/*
 * The instant at which the wall clock of zone NAME reads wall: TZ is set to
 * NAME for the time it takes, then put back.
 */
static int zone_name_to_utc(const struct stamp_fields *f, const char *name,
			    int64_t wall, int64_t *sec, struct dbops_err *err)
{
	const char *old = getenv("TZ");
	char *saved = old ? strdup(old) : NULL;
	bool found;

	if (old != NULL && saved == NULL)
		return dbops_err_set(err, "out of memory");
	setenv("TZ", name, 1);
	tzset();
	found = local_to_utc(wall, sec);
	if (saved != NULL)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	free(saved);
	tzset();
	return found ? 0 : skipped_time(f, name, err);
}

/*
 * A zone written after a space: UTC, GMT, UT and Z are UTC; other
 * abbreviations are refused, as they mean different offsets in different
 * places; anything else must be a zone of the tz database.
 */
static int named_zone_to_utc(const struct stamp_fields *f, int64_t wall,
			     int64_t *sec, struct dbops_err *err)
{
	char name[128];

	snprintf(name, sizeof(name), "%.*s", f->zone_name_len, f->zone_name);
	if (strcasecmp(name, "UTC") == 0 || strcasecmp(name, "GMT") == 0 ||
	    strcasecmp(name, "UT") == 0 || strcasecmp(name, "Z") == 0) {
		*sec = wall;
		return 0;
	}
	/* A server's `timezone` may be "EST": a zone of the tz database. */
	if (is_abbreviation(name) && !f->zone_is_setting)
		return dbops_err_set(
			err,
			"time zone abbreviation \"%s\" is ambiguous (abbreviations other than UTC, GMT and Z mean different offsets in different places: IST is India, Ireland or Israel): give a zone name such as Europe/Paris or an offset such as +01:00",
			name);
	if (!zone_exists(name))
		return dbops_err_set(
			err,
			"unknown time zone \"%s\": no such zone in the tz database (a name such as Europe/Paris or America/New_York)",
			name);
	return zone_name_to_utc(f, name, wall, sec, err);
}

static int fields_to_usec(const struct stamp_fields *f, int64_t *usec,
			  struct dbops_err *err)
{
	int64_t sec = days_from_civil(f->year, f->month, f->day) * SEC_PER_DAY +
		      f->hour * 3600 + f->minute * 60 + f->second;

	if (f->zone != NULL) {
		sec -= f->zone_sign *
		       (f->zone_hours * 3600 + f->zone_minutes * 60);
	} else if (f->zone_name != NULL) {
		if (named_zone_to_utc(f, sec, &sec, err) != 0)
			return -1;
	} else if (!local_to_utc(sec, &sec)) {
		return skipped_time(f, NULL, err);
	}
	*usec = sec * USEC_PER_SEC + f->usec;
	return 0;
}

/* "@[-]seconds[.fraction]" */
static int parse_epoch(const char *text, int64_t *usec, struct dbops_err *err)
{
	struct stamp_fields f = { 0 };
	const char *p = text + 1;
	bool negative = take_char(&p, '-');
	int64_t sec = 0;
	int n;

	while (*p == '0' && p[1] >= '0' && p[1] <= '9')
		p++;
	n = digit_run(p);
	if (n == 0)
		return unrecognised(text, err);
	/* Twelve digits hold the range; more cannot be in it. */
	for (int i = 0; i < n && i < 13; i++)
		sec = sec * 10 + (p[i] - '0');
	p += n;
	if (!take_fraction(&p, &f))
		return unrecognised(text, err);
	if (*p != '\0')
		return trailing_text(text, p, err);
	if (f.frac_digits > 6)
		return dbops_err_set(err,
				     "fraction %.*s has more than 6 digits",
				     f.frac_digits + 1, f.frac);
	if (negative && (n > 12 || sec > -EPOCH_MIN_SEC ||
			 (sec == -EPOCH_MIN_SEC && f.usec > 0)))
		return dbops_err_set(err, "%s is before year -9999", text);
	if (!negative && (n > 12 || sec > EPOCH_MAX_SEC))
		return dbops_err_set(err, "%s is beyond year 9999", text);
	sec = sec * USEC_PER_SEC + f.usec;
	*usec = negative ? -sec : sec;
	return 0;
}

static const char *const month_names[12] = { "Jan", "Feb", "Mar", "Apr",
					     "May", "Jun", "Jul", "Aug",
					     "Sep", "Oct", "Nov", "Dec" };
static const char *const day_names[7] = { "Sun", "Mon", "Tue", "Wed",
					  "Thu", "Fri", "Sat" };

/* The index of the three-letter NAME (any case) in NAMES, or -1. */
static int name_index(const char *p, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (strncasecmp(p, names[i], 3) == 0 &&
		    !isalpha((unsigned char)p[3]))
			return i;
	return -1;
}

/*
 * PostgreSQL's "Postgres" date style, as psql shows a timestamptz under
 * DateStyle=Postgres: "Sat Dec 05 10:08:34.38 2026 UTC", the zone
 * optional. DOW is the weekday as typed, checked once the date is known.
 */
static bool take_postgres_style(const char **p, struct stamp_fields *f,
				int *dow)
{
	int mon;

	*dow = name_index(*p, day_names, 7);
	if (*dow < 0 || (*p)[3] != ' ')
		return false;
	*p += 4;
	mon = name_index(*p, month_names, 12);
	if (mon < 0 || (*p)[3] != ' ')
		return false;
	f->month = mon + 1;
	*p += 4;
	if (!take_digits(p, 2, &f->day) && !take_digits(p, 1, &f->day))
		return false;
	if (!take_char(p, ' ') || !take_time(p, ' ', false, f) ||
	    f->zone != NULL || !take_char(p, ' ') ||
	    !take_digits(p, 4, &f->year))
		return false;
	return **p != ' ' || take_spaced_zone(p, f);
}

/* A weekday typed with the date must be the date's: a typo otherwise. */
static int check_weekday(const struct stamp_fields *f, int dow,
			 struct dbops_err *err)
{
	/* 1970-01-01 was a Thursday (4). */
	int64_t days = days_from_civil(f->year, f->month, f->day);
	int real = (int)(((days % 7) + 7 + 4) % 7);

	if (dow == real)
		return 0;
	return dbops_err_set(err, "%04d-%02d-%02d is a %s, not a %s", f->year,
			     f->month, f->day, day_names[real], day_names[dow]);
}

int dbops_timestamp_parse_in(const char *text, const char *zone, int64_t *usec,
			     bool *zone_given, struct dbops_err *err)
{
	struct stamp_fields f = { .month = 1, .day = 1 };
	const char *p = text;
	int64_t instant = 0;
	int dow = -1;
	size_t len;
	char sep;

	if (text == NULL || *text == '\0')
		return dbops_err_set(err, "empty time");
	len = strlen(text);
	if (isspace((unsigned char)text[0]) ||
	    isspace((unsigned char)text[len - 1]))
		return dbops_err_set(
			err,
			"unrecognised time \"%s\": leading or trailing "
			"space",
			text);
	tzset();
	if (*p == '@')
		return parse_epoch(text, usec, err);

	if (digit_run(p) == 4) {
		/* 2024-03-01, then " ", "T" or "_" and a time */
		if (!take_digits(&p, 4, &f.year) || !take_char(&p, '-') ||
		    !take_digits(&p, 2, &f.month) || !take_char(&p, '-') ||
		    !take_digits(&p, 2, &f.day))
			return unrecognised(text, err);
		sep = *p;
		if (sep == ' ' || sep == 'T' || sep == 't' || sep == '_') {
			p++;
			if (!take_time(&p, sep, false, &f) ||
			    (*p == ' ' && f.zone == NULL &&
			     !take_spaced_zone(&p, &f)))
				return unrecognised(text, err);
		}
	} else if (digit_run(p) == 8) {
		/* 20240301, then "T", "_" or "-" and a time */
		int ymd = 0;

		take_digits(&p, 8, &ymd);
		f.year = ymd / 10000;
		f.month = ymd / 100 % 100;
		f.day = ymd % 100;
		sep = *p;
		if (sep == 'T' || sep == 't' || sep == '_' || sep == '-') {
			p++;
			if (!take_time(&p, sep, true, &f) ||
			    (*p == ' ' && f.zone == NULL &&
			     !take_spaced_zone(&p, &f)))
				return unrecognised(text, err);
		}
	} else if (isalpha((unsigned char)*p)) {
		if (!take_postgres_style(&p, &f, &dow))
			return unrecognised(text, err);
	} else {
		return unrecognised(text, err);
	}
	if (*p != '\0')
		return trailing_text(text, p, err);
	if (check_ranges(&f, err) != 0 ||
	    (dow >= 0 && check_weekday(&f, dow, err) != 0))
		return -1;
	if (zone_given)
		*zone_given = f.zone != NULL || f.zone_name != NULL;
	if (zone != NULL && f.zone == NULL && f.zone_name == NULL) {
		f.zone_name = zone;
		f.zone_name_len = (int)strlen(zone);
		f.zone_is_setting = true;
	}
	if (fields_to_usec(&f, &instant, err) != 0)
		return -1;
	/* The last day of 9999 west of Greenwich is in 10000 in UTC, which
	 * no form here can write back. */
	if (instant / USEC_PER_SEC > EPOCH_MAX_SEC)
		return dbops_err_set(err, "%s is beyond year 9999 in UTC",
				     text);
	*usec = instant;
	return 0;
}

int dbops_timestamp_parse(const char *text, int64_t *usec,
			  struct dbops_err *err)
{
	return dbops_timestamp_parse_in(text, NULL, usec, NULL, err);
}

/* Copy the formatted text out if it fits, as both formatters promise. */
static size_t put(const char *text, int n, char *buf, size_t len)
{
	if (n < 0 || (size_t)n >= len) {
		if (len > 0)
			buf[0] = '\0';
		return 0;
	}
	memcpy(buf, text, (size_t)n + 1);
	return (size_t)n;
}

size_t dbops_timestamp_format(int64_t usec, char *buf, size_t len)
{
	char text[64], frac[8], offset[16];
	int usec_part, n;
	time_t t = (time_t)split_usec(usec, &usec_part);
	long off, year;
	struct tm tm;

	tzset();
	if (localtime_r(&t, &tm) == NULL)
		return put("", -1, buf, len);
	format_fraction(usec_part, frac);
	off = labs(tm.tm_gmtoff);
	n = snprintf(offset, sizeof(offset), "%c%02ld:%02ld",
		     tm.tm_gmtoff < 0 ? '-' : '+', off / 3600, off / 60 % 60);
	if (off % 60 != 0)
		snprintf(offset + n, sizeof(offset) - (size_t)n, ":%02ld",
			 off % 60);
	year = (long)tm.tm_year + 1900;
	n = snprintf(text, sizeof(text), "%s%04ld-%02d-%02d %02d:%02d:%02d%s%s",
		     year < 0 ? "-" : "", labs(year), tm.tm_mon + 1, tm.tm_mday,
		     tm.tm_hour, tm.tm_min, tm.tm_sec, frac, offset);
	return put(text, n, buf, len);
}

size_t dbops_timestamp_format_utc(int64_t usec, char *buf, size_t len)
{
	char text[64], frac[8];
	int usec_part, month, day, n;
	int64_t sec = split_usec(usec, &usec_part);
	int64_t days = floor_div(sec, SEC_PER_DAY);
	int64_t in_day = sec - days * SEC_PER_DAY, year;

	civil_from_days(days, &year, &month, &day);
	format_fraction(usec_part, frac);
	n = snprintf(text, sizeof(text), "%s%04lld-%02d-%02dT%02d:%02d:%02d%sZ",
		     year < 0 ? "-" : "", (long long)llabs(year), month, day,
		     (int)(in_day / 3600), (int)(in_day / 60 % 60),
		     (int)(in_day % 60), frac);
	return put(text, n, buf, len);
}
