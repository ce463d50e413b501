/*
 * clock.c - wall and monotonic clocks with a fake for tests, a pinned
 * wall clock for smtpscope-eval --time, and the parser of the moments
 * a person gives (Unix seconds or RFC 3339).
 *
 * The fake clock and the pinned wall clock are process-wide values, set
 * before any thread starts: by tests (fake: both clocks return it, and
 * tests advance it explicitly) or by smtpscope-eval (pinned: only the
 * wall clock stops). The parser reads the date and time fields with
 * strptime(3) after checking their exact shape (strptime alone takes
 * one-digit fields and leading spaces), converts them with timegm(3),
 * checks the day exists by converting back, and applies the offset
 * itself; it never reads past the string's NUL.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "errors.h"

#define CLOCK_DATETIME_LEN	19	/* "2026-11-28T22:42:03" */
#define CLOCK_FRAC_MAX		9	/* fraction digits read (ns); cut to us */
#define CLOCK_UNIX_DIGITS	12	/* CLOCK_SECS_MAX has 12 digits */
#define CLOCK_DAY_SECS		86400

static int64_t clock_fake_us, clock_pinned_us;

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
	if (clock_pinned_us != 0)
		return clock_pinned_us;
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

/* clock_pin_wall - make only the wall clock return wall_us; 0 unpins */
void
clock_pin_wall(int64_t wall_us)
{
	clock_pinned_us = wall_us;
}

/* clock_pinned - is the wall clock pinned? */
bool
clock_pinned(void)
{
	return clock_pinned_us != 0;
}

#define CLOCK_RFC3339_LEN	27	/* "2026-12-05T04:15:03.123456Z" */

/* clock_put_digits - v as exactly n decimal digits at p (v < 10^n) */
static void
clock_put_digits(char *p, long v, int n)
{
	while (n-- > 0) {
		p[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

/* clock_rfc3339_put - what the snprintf() below writes for a year of
 * 0..9999, into at least CLOCK_RFC3339_LEN + 1 bytes */
static void
clock_rfc3339_put(char *out, const struct tm *tm, long usec)
{
	memcpy(out, "0000-00-00T00:00:00.000000Z", CLOCK_RFC3339_LEN + 1);
	clock_put_digits(out, tm->tm_year + 1900L, 4);
	clock_put_digits(out + 5, tm->tm_mon + 1L, 2);
	clock_put_digits(out + 8, tm->tm_mday, 2);
	clock_put_digits(out + 11, tm->tm_hour, 2);
	clock_put_digits(out + 14, tm->tm_min, 2);
	clock_put_digits(out + 17, tm->tm_sec, 2);
	clock_put_digits(out + 20, usec, 6);
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
	if (tm.tm_year + 1900 >= 0 && tm.tm_year + 1900 <= 9999 &&
	    outsz > CLOCK_RFC3339_LEN) {
		clock_rfc3339_put(out, &tm, usec);	/* no snprintf: 4 a message */
		return SCOPE_OK;
	}
	n = snprintf(out, outsz, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, usec);
	if (n < 0 || (size_t)n >= outsz)
		return SCOPE_ETOOBIG;
	return SCOPE_OK;
}

/* clock_digits - n ASCII digits at s (stops at a NUL), their value */
static bool
clock_digits(const char *s, size_t n, long *value)
{
	long v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*value = v;
	return true;
}

/* clock_fraction - an optional ".DIGITS" at *p in microseconds (cut, not
 * rounded); *p moves past it */
static int
clock_fraction(const char **p, long *usec)
{
	const char *d = *p + 1;
	size_t n, i;
	long us = 0;

	*usec = 0;
	if (**p != '.')
		return SCOPE_OK;
	n = strspn(d, "0123456789");
	if (n == 0 || n > CLOCK_FRAC_MAX)
		return SCOPE_EINVAL;
	for (i = 0; i < 6; i++)
		us = us * 10 + (i < n ? d[i] - '0' : 0);
	*usec = us;
	*p = d + n;
	return SCOPE_OK;
}

/* clock_offset - "Z" or "+hh:mm" / "-hh:mm" ending the string, in
 * seconds east of UTC ("-00:00", an unknown local offset, is UTC) */
static int
clock_offset(const char *s, long *east)
{
	long h, m;

	if ((s[0] == 'Z' || s[0] == 'z') && s[1] == '\0') {
		*east = 0;
		return SCOPE_OK;
	}
	if ((s[0] != '+' && s[0] != '-') || !clock_digits(s + 1, 2, &h) ||
	    s[3] != ':' || !clock_digits(s + 4, 2, &m) || s[6] != '\0' ||
	    h > 23 || m > 59)
		return SCOPE_EINVAL;
	*east = (h * 3600 + m * 60) * (s[0] == '-' ? -1 : 1);
	return SCOPE_OK;
}

/* clock_shape - "dddd-dd-ddTdd:dd:dd" (T or t) at s */
static bool
clock_shape(const char *s)
{
	static const char pat[] = "dddd-dd-ddTdd:dd:dd";
	size_t i;
	bool good;

	for (i = 0; i < CLOCK_DATETIME_LEN; i++) {
		if (pat[i] == 'd')
			good = s[i] >= '0' && s[i] <= '9';
		else if (pat[i] == 'T')
			good = s[i] == 'T' || s[i] == 't';
		else
			good = s[i] == pat[i];
		if (!good)
			return false;
	}
	return true;
}

/* clock_fields - the date and time fields of a shaped string into tm,
 * each in its range and the day one that exists; false otherwise */
static bool
clock_fields(const char *s, struct tm *tm)
{
	char dt[CLOCK_DATETIME_LEN + 1];
	struct tm back;
	const char *end;

	memcpy(dt, s, CLOCK_DATETIME_LEN);
	dt[10] = 'T';
	dt[CLOCK_DATETIME_LEN] = '\0';
	memset(tm, 0, sizeof(*tm));
	end = strptime(dt, "%Y-%m-%dT%H:%M:%S", tm);
	if (end == NULL || *end != '\0' || tm->tm_sec > 60)
		return false;
	back = *tm;
	back.tm_sec = 0;
	(void)timegm(&back);	/* years 0..9999 cannot overflow time_t */
	return back.tm_mday == tm->tm_mday && back.tm_mon == tm->tm_mon &&
	    back.tm_year == tm->tm_year;
}

/* clock_parse_rfc3339 - an RFC 3339 date-time into wall microseconds;
 * a leap second (hh:mm:60) counts as the next second, as in POSIX time,
 * and only where one can be: at the end of a UTC day */
int
clock_parse_rfc3339(const char *s, int64_t *wall_us)
{
	const char *p;
	struct tm tm;
	long usec, east;
	int64_t secs;
	bool leap;
	int rc;

	if (s == NULL || strnlen(s, CLOCK_PARSE_MAX + 1) > CLOCK_PARSE_MAX ||
	    !clock_shape(s) || !clock_fields(s, &tm))
		return SCOPE_EINVAL;
	p = s + CLOCK_DATETIME_LEN;
	if ((rc = clock_fraction(&p, &usec)) != SCOPE_OK ||
	    (rc = clock_offset(p, &east)) != SCOPE_OK)
		return rc;
	leap = tm.tm_sec == 60;
	tm.tm_sec -= leap ? 1 : 0;
	secs = (int64_t)timegm(&tm) - east;
	if (secs < 1 || secs + leap > CLOCK_SECS_MAX)
		return SCOPE_ERANGE;
	if (leap && secs % CLOCK_DAY_SECS != CLOCK_DAY_SECS - 1)
		return SCOPE_EINVAL;
	*wall_us = (secs + leap) * 1000000 + usec;
	return SCOPE_OK;
}

/* clock_parse_unix - decimal seconds since the epoch, optional fraction */
static int
clock_parse_unix(const char *s, int64_t *wall_us)
{
	size_t n = strspn(s, "0123456789");
	const char *p = s + n;
	int64_t secs = 0;
	long usec;
	size_t i;

	if (n == 0 || clock_fraction(&p, &usec) != SCOPE_OK || *p != '\0')
		return SCOPE_EINVAL;
	if (n > CLOCK_UNIX_DIGITS)
		return SCOPE_ERANGE;
	for (i = 0; i < n; i++)
		secs = secs * 10 + (s[i] - '0');
	if (secs < 1 || secs > CLOCK_SECS_MAX)
		return SCOPE_ERANGE;
	*wall_us = secs * 1000000 + usec;
	return SCOPE_OK;
}

/* clock_parse_time - Unix seconds or an RFC 3339 date-time */
int
clock_parse_time(const char *s, int64_t *wall_us)
{
	size_t n;

	if (s == NULL || strnlen(s, CLOCK_PARSE_MAX + 1) > CLOCK_PARSE_MAX)
		return SCOPE_EINVAL;
	n = strspn(s, "0123456789");
	if (n > 0 && (s[n] == '\0' || s[n] == '.'))
		return clock_parse_unix(s, wall_us);
	return clock_parse_rfc3339(s, wall_us);
}
