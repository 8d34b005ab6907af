/*
 * clock.c - the monotonic clock. See clock.h.
 */
#include "clock.h"

#include <errno.h>
#include <time.h>

static struct timespec now(void)
{
	struct timespec ts;

	/* Cannot fail for CLOCK_MONOTONIC on Linux. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts;
}

int64_t dbops_clock_ms(void)
{
	struct timespec ts = now();

	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t dbops_clock_us(void)
{
	struct timespec ts = now();

	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

double dbops_clock_seconds(void)
{
	struct timespec ts = now();

	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void dbops_clock_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	if (ms <= 0)
		return;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}
