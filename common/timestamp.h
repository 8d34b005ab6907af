/*
 * timestamp.h - the one parser for the timestamps users type and file names
 * carry, and the two ways dbops prints them.
 *
 * A timestamp is an int64_t count of microseconds since 1970-01-01 00:00:00
 * UTC (leap seconds not counted, as in time_t).
 *
 * Accepted forms (the whole string; no surrounding space):
 *
 *	2024-03-01                     midnight
 *	2024-03-01 12:00               also with "T" or "t" for the space
 *	2024-03-01 12:00:00[.123456]   fraction of 1 to 6 digits
 *	2024-03-01_12-00-00[.123456]   file-name forms, also with ":"
 *	20240301                       compact: midnight
 *	20240301T120000[.123456]       also with "_" or "-" for the "T"
 *	@1709294400[.5]                seconds since the epoch, may be negative
 *	Sat Dec 05 10:08:34[.38] 2026  PostgreSQL's DateStyle "Postgres"; the
 *	                               weekday must be the date's
 *
 * Any form with a time of day may end in a zone: "Z", "z", "+02", "+02:00",
 * "+0200" or "-05:30", at most 15:59 either way. Or, after one space, as the
 * PostgreSQL server log and psql write times: such an offset, "UTC", "GMT",
 * "UT" or "Z" (any case), or a zone name of the tz database
 * ("2024-03-01 12:00:00 Europe/Paris", read in that zone whatever TZ says,
 * with the rules for local time below). Other abbreviations ("EST", "CEST",
 * "IST") are refused: they mean different offsets in different places.
 * Without a zone the time is local time in the zone TZ names, read as
 * date(1) reads it. Dates run from year 1000 to 9999.
 */
#ifndef DBOPS_TIMESTAMP_H
#define DBOPS_TIMESTAMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errbuf.h"

/*
 * The largest zone offset, in hours (15:59 either way): PostgreSQL refuses
 * more (MAX_TZDISP_HOUR), and no place on Earth is that far from UTC.
 */
#define DBOPS_TIMESTAMP_MAX_OFFSET_HOURS 15

/* Room for either format of any int64_t value, with its terminating NUL. */
#define DBOPS_TIMESTAMP_LEN 40

/*
 * Parse text into *usec. Returns 0, or -1 with *usec untouched and a
 * one-line reason in ERR (NULL: not wanted), for example:
 *
 *	month 13 is out of range
 *	day 29 is out of range for 2023-02
 *	2024-03-31 02:30:00 does not exist in time zone Europe/Berlin
 *	unknown time zone "Mars/Olympus": no such zone in the tz database (...)
 *
 * A local time skipped by a change of offset (the spring forward of
 * daylight saving time) is an error. A local time that occurs twice (the
 * hour repeated in autumn) is the earlier instant, which is the daylight
 * saving one. Calls tzset(), so a change of TZ is seen at once.
 */
int dbops_timestamp_parse(const char *text, int64_t *usec,
			  struct dbops_err *err);

/*
 * As dbops_timestamp_parse(), but a text without a zone is read in ZONE (a
 * zone of the tz database, or UTC; NULL: TZ's), as PostgreSQL reads a time
 * without one in its own `timezone` setting. *ZONE_GIVEN (may be NULL) tells
 * whether the text had a zone.
 */
int dbops_timestamp_parse_in(const char *text, const char *zone, int64_t *usec,
			     bool *zone_given, struct dbops_err *err);

/*
 * Write usec as local time in the zone of TZ with its UTC offset, such as
 * "2024-03-01 12:00:00+02:00", into buf. A fraction (".5", ".123456";
 * trailing zeros dropped) follows the seconds only when it is not zero. An
 * offset with seconds, as local mean time before time zones had, prints as
 * "+00:53:28". Returns the length written, or 0 with buf empty when len is
 * too small (DBOPS_TIMESTAMP_LEN always suffices).
 */
size_t dbops_timestamp_format(int64_t usec, char *buf, size_t len);

/*
 * As dbops_timestamp_format(), in UTC and ISO 8601: "2024-03-01T10:00:00Z",
 * "2024-03-01T10:00:00.114Z". TZ plays no part.
 */
size_t dbops_timestamp_format_utc(int64_t usec, char *buf, size_t len);

/* Days in MONTH (1 to 12) of YEAR, in the proleptic Gregorian calendar. */
int dbops_timestamp_days_in_month(int year, int month);

#endif
