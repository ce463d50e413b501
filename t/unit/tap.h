/*
 * tap.h - a minimal TAP producer for the unit tests.
 *
 * plan(n); ok(cond, "name"); is_int(got, want, "name"); is_str(...);
 * return done_testing(); Every assertion names what it checks; a failed
 * one prints what it got and wanted as diagnostics.
 */
#ifndef SMTPSCOPE_TAP_H
#define SMTPSCOPE_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed, tap_planned;

static inline void
plan(int n)
{
	tap_planned = n;
	printf("1..%d\n", n);
}

static inline int __attribute__((format(printf, 2, 3)))
ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	printf("%s %d - ", cond ? "ok" : "not ok", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		tap_failed++;
	fflush(stdout);
	return cond;
}

static inline int
is_int(long long got, long long want, const char *name)
{
	if (ok(got == want, "%s", name))
		return 1;
	printf("# got:  %lld\n# want: %lld\n", got, want);
	return 0;
}

static inline int
is_str(const char *got, const char *want, const char *name)
{
	int same = (got == NULL && want == NULL) ||
	    (got != NULL && want != NULL && strcmp(got, want) == 0);

	if (ok(same, "%s", name))
		return 1;
	printf("# got:  '%s'\n# want: '%s'\n", got ? got : "(null)",
	    want ? want : "(null)");
	return 0;
}

static inline void
diag(const char *text)
{
	printf("# %s\n", text);
}

static inline int
done_testing(void)
{
	if (tap_planned != tap_n) {
		printf("# planned %d, ran %d\n", tap_planned, tap_n);
		return 1;
	}
	return tap_failed == 0 ? 0 : 1;
}

#endif
