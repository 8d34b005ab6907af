/*
 * clock.h - the one monotonic clock of the suite, for deadlines, rates and
 * elapsed times (never for a time of day: see timestamp.h for those).
 *
 * CLOCK_MONOTONIC does not jump when the wall clock is set, so a deadline
 * computed from it holds across an NTP step or a change of time zone.
 */
#ifndef DBOPS_CLOCK_H
#define DBOPS_CLOCK_H

#include <stdint.h>

/* Milliseconds on the monotonic clock, from an arbitrary origin. */
int64_t dbops_clock_ms(void);

/* Microseconds on the monotonic clock, from the same origin. */
int64_t dbops_clock_us(void);

/* Seconds on the monotonic clock, with a fraction, from the same origin. */
double dbops_clock_seconds(void);

/*
 * Sleep MS milliseconds (none when MS <= 0), resuming after a signal
 * handler interrupts it.
 */
void dbops_clock_sleep_ms(int ms);

/*
 * Whether the deadline AT (from dbops_clock_ms() plus a timeout) has
 * passed.
 */
static inline int dbops_clock_passed(int64_t at)
{
	return dbops_clock_ms() >= at;
}

#endif
