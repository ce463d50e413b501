/*
 * clock.h - the core's clock, a test seam.
 *
 * clock_wall() gives the real time for record timestamps and clock_mono()
 * a monotonic time for stage timings, both in microseconds. Tests replace
 * both with clock_set_fake() to get deterministic records.
 */
#ifndef SMTPSCOPE_CLOCK_H
#define SMTPSCOPE_CLOCK_H

#include <stddef.h>
#include <stdint.h>

int64_t clock_wall(void);
int64_t clock_mono(void);
void clock_set_fake(int64_t wall_us);	/* 0 restores the real clock */

/* clock_rfc3339 - format wall microseconds as 2026-11-28T22:01:02.123456Z */
int clock_rfc3339(int64_t wall_us, char *out, size_t outsz);

#endif
