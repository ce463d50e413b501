/*
 * clock.c - wall and monotonic clocks with a fake for tests.
 *
 * The fake clock is a process-wide value; it is set only by tests before
 * any thread starts. Both clocks then return the fake value, which tests
 * advance explicitly.
 */
#include <stdio.h>
#include <time.h>

#include "clock.h"
#include "errors.h"

static int64_t clock_fake_us;

/* clock_read - microseconds of one POSIX clock */
static int64_t
clock_read(clockid_t id)
{
	struct timespec ts;

	if (clock_gettime(id, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* clock_wall - real time in microseconds since the epoch */
int64_t
clock_wall(void)
{
	if (clock_fake_us != 0)
		return clock_fake_us;
	return clock_read(CLOCK_REALTIME);
}

/* clock_mono - monotonic microseconds, only differences are meaningful */
int64_t
clock_mono(void)
{
	if (clock_fake_us != 0)
		return clock_fake_us;
	return clock_read(CLOCK_MONOTONIC);
}

/* clock_set_fake - make both clocks return wall_us; 0 restores them */
void
clock_set_fake(int64_t wall_us)
{
	clock_fake_us = wall_us;
}

/* clock_rfc3339 - format a wall time in RFC 3339 UTC with microseconds */
int
clock_rfc3339(int64_t wall_us, char *out, size_t outsz)
{
	time_t secs = (time_t)(wall_us / 1000000);
	long usec = (long)(wall_us % 1000000);
	struct tm tm;
	int n;

	if (usec < 0) {
		usec += 1000000;
		secs -= 1;
	}
	if (gmtime_r(&secs, &tm) == NULL)
		return SCOPE_ERANGE;
	n = snprintf(out, outsz, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, usec);
	if (n < 0 || (size_t)n >= outsz)
		return SCOPE_ETOOBIG;
	return SCOPE_OK;
}
