/*
 * clock.h - the core's clock, a test seam.
 *
 * clock_wall() gives the real time for record timestamps and clock_mono()
 * a monotonic time for stage timings, both in microseconds. Tests replace
 * both with clock_set_fake() to get deterministic records.
 *
 * clock_pin_wall() fixes only the wall clock, for smtpscope-eval --time:
 * records then carry that moment while stage timings and DNS deadlines
 * (clock_mono) stay real. The daemon never pins. Fake and pinned values
 * are process-wide, set before any thread starts.
 *
 * clock_parse_time() reads a moment given by a person: Unix seconds or an
 * RFC 3339 date-time, both with optional fractional seconds (cut to
 * microseconds), from 1970-01-01T00:00:01Z to 9999-12-31T23:59:59Z.
 * It returns SCOPE_EINVAL for anything else (checked strictly: no
 * spaces, no one-digit fields, no missing offset, no February 30) and
 * SCOPE_ERANGE for a well-formed moment outside that range.
 */
#ifndef SMTPSCOPE_CLOCK_H
#define SMTPSCOPE_CLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLOCK_PARSE_MAX		64		/* longest input accepted */
#define CLOCK_SECS_MAX		253402300799LL	/* 9999-12-31T23:59:59Z */

int64_t clock_wall(void);
int64_t clock_mono(void);
void clock_set_fake(int64_t wall_us);	/* 0 restores the real clock */
void clock_pin_wall(int64_t wall_us);	/* 0 unpins the wall clock */
bool clock_pinned(void);

/* clock_rfc3339 - format wall microseconds as 2026-11-28T22:01:02.123456Z */
int clock_rfc3339(int64_t wall_us, char *out, size_t outsz);

/* clock_parse_rfc3339 - "2026-11-28T22:42:03.5+01:00" into wall_us */
int clock_parse_rfc3339(const char *s, int64_t *wall_us);
/* clock_parse_time - Unix seconds ("1796410490.25") or RFC 3339 */
int clock_parse_time(const char *s, int64_t *wall_us);

#endif
