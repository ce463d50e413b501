/*
 * test_clock.c - the clock seam (fake, pinned wall clock) and the parser
 * of the moments given on a command line (Unix seconds, RFC 3339).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "errors.h"
#include "tap.h"

#define US	1000000LL

struct good {
	const char *in;
	long long want_us;
	const char *what;
};

struct bad {
	const char *in;
	int want_rc;
	const char *what;
};

static const struct good goods[] = {
	{ "2026-11-28T22:42:03Z", 1795905723 * US, "UTC date-time" },
	{ "2026-11-28t22:42:03z", 1795905723 * US, "lower-case t and z" },
	{ "2026-11-28T23:42:03+01:00", 1795905723 * US, "offset +01:00" },
	{ "2026-11-28T17:12:03-05:30", 1795905723 * US, "offset -05:30" },
	{ "2026-11-29T05:42:03+07:00", 1795905723 * US,
	    "an offset that crosses midnight" },
	{ "2026-11-28T22:42:03-00:00", 1795905723 * US,
	    "-00:00 (unknown local offset) is UTC" },
	{ "2026-11-28T22:42:03.5Z", 1795905723 * US + 500000,
	    "one fraction digit" },
	{ "2026-11-28T22:42:03.000001Z", 1795905723 * US + 1,
	    "a microsecond" },
	{ "2026-11-28T22:42:03.123456789+01:00",
	    (1795905723 - 3600) * US + 123456,
	    "nanoseconds are cut to microseconds" },
	{ "2024-02-29T12:00:00Z", 1709208000 * US, "leap year 2024: Feb 29" },
	{ "2000-02-29T00:00:00Z", 951782400 * US,
	    "leap year 2000 (divisible by 400)" },
	{ "2016-12-31T23:59:60Z", 1483228800 * US,
	    "a leap second counts as the next second" },
	{ "2017-01-01T00:59:60+01:00", 1483228800 * US,
	    "a leap second at the end of the UTC day, local offset" },
	{ "1970-01-01T00:00:01Z", 1 * US, "the earliest moment" },
	{ "9999-12-31T23:59:59Z", CLOCK_SECS_MAX * US, "the latest moment" },
	{ "1795905723", 1795905723 * US, "Unix seconds" },
	{ "1795905723.25", 1795905723 * US + 250000, "Unix seconds, fraction" },
	{ "1", 1 * US, "Unix second 1" },
	{ "253402300799", CLOCK_SECS_MAX * US, "the latest Unix second" },
};

static const struct bad bads[] = {
	{ "", SCOPE_EINVAL, "empty" },
	{ "now", SCOPE_EINVAL, "a word" },
	{ "2026-11-28T22:42:03", SCOPE_EINVAL, "no offset" },
	{ "2026-11-28 22:42:03Z", SCOPE_EINVAL, "space for T" },
	{ " 2026-11-28T22:42:03Z", SCOPE_EINVAL, "leading space" },
	{ "2026-11-28T22:42:03Z ", SCOPE_EINVAL, "trailing space" },
	{ "2026-11-28T22:42:03Zjunk", SCOPE_EINVAL, "trailing junk" },
	{ "2026-1-28T22:42:03Z", SCOPE_EINVAL, "one-digit month" },
	{ "26-11-28T22:42:03Z", SCOPE_EINVAL, "two-digit year" },
	{ "12026-11-28T22:42:03Z", SCOPE_EINVAL, "five-digit year" },
	{ "2026-11-28", SCOPE_EINVAL, "date only" },
	{ "2026-13-01T00:00:00Z", SCOPE_EINVAL, "month 13" },
	{ "2026-00-01T00:00:00Z", SCOPE_EINVAL, "month 0" },
	{ "2026-11-00T00:00:00Z", SCOPE_EINVAL, "day 0" },
	{ "2026-11-31T00:00:00Z", SCOPE_EINVAL, "November 31" },
	{ "2023-02-29T00:00:00Z", SCOPE_EINVAL, "Feb 29 in 2023" },
	{ "2100-02-29T00:00:00Z", SCOPE_EINVAL, "Feb 29 in 2100 (century)" },
	{ "2026-02-30T00:00:00Z", SCOPE_EINVAL, "Feb 30" },
	{ "2026-11-28T24:00:00Z", SCOPE_EINVAL, "hour 24" },
	{ "2026-11-28T22:60:00Z", SCOPE_EINVAL, "minute 60" },
	{ "2026-11-28T22:42:61Z", SCOPE_EINVAL, "second 61" },
	{ "2026-11-28T12:00:60Z", SCOPE_EINVAL,
	    "a leap second not at the end of a UTC day" },
	{ "2026-11-28T22:42:03+0100", SCOPE_EINVAL, "offset without colon" },
	{ "2026-11-28T22:42:03+01", SCOPE_EINVAL, "offset without minutes" },
	{ "2026-11-28T22:42:03+24:00", SCOPE_EINVAL, "offset hour 24" },
	{ "2026-11-28T22:42:03+01:60", SCOPE_EINVAL, "offset minute 60" },
	{ "2026-11-28T22:42:03.Z", SCOPE_EINVAL, "a dot without digits" },
	{ "2026-11-28T22:42:03.1234567890Z", SCOPE_EINVAL,
	    "ten fraction digits" },
	{ "1970-01-01T00:00:00Z", SCOPE_ERANGE, "the epoch itself" },
	{ "1969-12-31T23:59:59Z", SCOPE_ERANGE, "before the epoch" },
	{ "1970-01-01T00:30:00+01:00", SCOPE_ERANGE,
	    "before the epoch through the offset" },
	{ "9999-12-31T23:59:59-00:01", SCOPE_ERANGE,
	    "after 9999 through the offset" },
	{ "0", SCOPE_ERANGE, "Unix second 0" },
	{ "253402300800", SCOPE_ERANGE, "after 9999 in Unix seconds" },
	{ "99999999999999999999999", SCOPE_ERANGE, "a huge number" },
	{ "-5", SCOPE_EINVAL, "a negative number" },
	{ "+5", SCOPE_EINVAL, "a plus sign" },
	{ "17959.", SCOPE_EINVAL, "Unix seconds, a dot without digits" },
	{ "1795905723s", SCOPE_EINVAL, "Unix seconds with a unit" },
	{ "0x10", SCOPE_EINVAL, "hexadecimal" },
};

/* test_goods - every valid form gives its moment */
static void
test_goods(void)
{
	int64_t us;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(goods) / sizeof(goods[0]); i++) {
		us = -1;
		rc = clock_parse_time(goods[i].in, &us);
		if (!is_int(rc, SCOPE_OK, goods[i].what))
			printf("# input: '%s'\n", goods[i].in);
		is_int(us, goods[i].want_us, goods[i].what);
	}
}

/* test_bads - every invalid form is refused with its code, untouched */
static void
test_bads(void)
{
	int64_t us;
	size_t i;

	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		us = 42;
		if (!is_int(clock_parse_time(bads[i].in, &us), bads[i].want_rc,
		    bads[i].what))
			printf("# input: '%s'\n", bads[i].in);
		is_int(us, 42, "a refused input leaves the result alone");
	}
}

/* test_rfc3339_only - the RFC 3339 parser alone takes no Unix seconds;
 * both refuse an over-long input and NULL */
static void
test_rfc3339_only(void)
{
	char longest[CLOCK_PARSE_MAX + 2];
	int64_t us;

	is_int(clock_parse_rfc3339("1795905723", &us), SCOPE_EINVAL,
	    "clock_parse_rfc3339 refuses Unix seconds");
	ok(clock_parse_rfc3339("2026-11-28T22:42:03Z", &us) == SCOPE_OK &&
	    us == 1795905723 * US, "clock_parse_rfc3339 reads a date-time");
	memset(longest, '0', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0';
	is_int(clock_parse_time(longest, &us), SCOPE_EINVAL,
	    "an input over CLOCK_PARSE_MAX is refused");
	is_int(clock_parse_time(NULL, &us), SCOPE_EINVAL, "NULL is refused");
}

/* test_round_trip - what clock_rfc3339 writes, the parser reads back */
static void
test_round_trip(void)
{
	static const int64_t moments[] = { 1 * US, 1795905723 * US + 123456,
	    951782400 * US, CLOCK_SECS_MAX * US + 999999 };
	char buf[40];
	int64_t us;
	size_t i;
	bool same = true;

	for (i = 0; i < sizeof(moments) / sizeof(moments[0]); i++)
		same = same && clock_rfc3339(moments[i], buf, sizeof(buf)) ==
		    SCOPE_OK && clock_parse_time(buf, &us) == SCOPE_OK &&
		    us == moments[i];
	ok(same, "clock_rfc3339 output parses back to the same moment");
}

/* test_rfc3339_text - clock_rfc3339 writes what the plain snprintf()
 * reading of its format writes: 200,000 moments from year 0 to 9999 (an
 * LCG, fixed seed), negative ones, years past 9999, and buffers one byte
 * too small and exactly large enough */
static void
test_rfc3339_text(void)
{
	static const int64_t edges[] = { 0, -1, 999999, 1000000, -62167219200LL *
	    US, 253402300799LL * US + 999999, 253402300800LL * US,
	    -62167219201LL * US };
	uint64_t x = 20261205;
	char got[40], want[80];
	int64_t t;
	time_t secs;
	struct tm tm;
	long usec;
	unsigned i, bad = 0, n = 200000 + sizeof(edges) / sizeof(edges[0]);

	for (i = 0; i < n; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		t = i < sizeof(edges) / sizeof(edges[0]) ? edges[i] :
		    (int64_t)(x >> 11) % (253402300800LL * US + 62167219200LL *
		    US) - 62167219200LL * US;
		secs = (time_t)(t / US);
		usec = (long)(t % US);
		if (usec < 0) {
			usec += US;
			secs--;
		}
		if (gmtime_r(&secs, &tm) == NULL)
			continue;
		snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec, usec);
		if (clock_rfc3339(t, got, sizeof(got)) != SCOPE_OK ||
		    strcmp(got, want) != 0) {
			if (bad++ == 0)
				printf("# at %lld: %s, want %s\n", (long long)t,
				    got, want);
		}
	}
	(void)n;
	is_int(bad, 0, "clock_rfc3339: the same text as snprintf() for "
	    "200,008 moments, years 0 to 10000");
	ok(clock_rfc3339(1795905723 * US, got, 27) == SCOPE_ETOOBIG &&
	    clock_rfc3339(1795905723 * US, got, 28) == SCOPE_OK &&
	    strcmp(got, "2026-11-28T22:42:03.000000Z") == 0,
	    "clock_rfc3339: 27 bytes are too few, 28 are enough");
}

/* test_pin - a pinned wall clock stops; the monotonic one goes on */
static void
test_pin(void)
{
	int64_t m0;
	struct timespec nap = { 0, 2000000 };

	clock_pin_wall(1795905723 * US);
	m0 = clock_mono();
	nanosleep(&nap, NULL);
	is_int(clock_wall(), 1795905723 * US, "a pinned wall clock");
	ok(clock_pinned(), "clock_pinned says so");
	ok(clock_mono() > m0, "the monotonic clock still runs when pinned");
	clock_set_fake(5 * US);
	ok(clock_wall() == 5 * US && clock_mono() == 5 * US,
	    "the fake clock overrides a pinned one");
	clock_set_fake(0);
	clock_pin_wall(0);
	ok(clock_wall() > 1700000000 * US && clock_wall() !=
	    1795905723 * US && !clock_pinned(),
	    "unpinned, the wall clock is real again");
}

int
main(void)
{
	plan((int)(2 * (sizeof(goods) / sizeof(goods[0])) +
	    2 * (sizeof(bads) / sizeof(bads[0]))) + 4 + 1 + 2 + 5);
	test_goods();
	test_bads();
	test_rfc3339_only();
	test_round_trip();
	test_rfc3339_text();
	test_pin();
	return done_testing();
}
