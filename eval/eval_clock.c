/*
 * eval_clock.c - time(2) for the libraries linked into smtpscope-eval,
 * so that --time reaches the checks that read the clock themselves.
 *
 * libopendkim 2.11 checks a signature's x= (expired) and t= (in the
 * future) against time(NULL) in dkim_siglist_setup(); its
 * DKIM_OPTS_FIXEDTIME only stamps the signatures it makes (checked: a
 * verifying handle with it still finds an expired signature expired).
 * libspf2 1.2.10 expands the %{t} macro of an explanation with
 * time(NULL). This definition of time() in the executable interposes on
 * glibc's for every shared library (ELF symbol lookup searches the
 * executable first): while the wall clock is pinned (clock_pin_wall) it
 * returns the pinned second, otherwise what glibc's time() returns.
 * Only smtpscope-eval links this file; the daemon reads the real clock.
 */
#include <dlfcn.h>
#include <time.h>

#include "clock.h"

typedef time_t (*eval_time_fn)(time_t *);

/* time - the pinned wall clock's second, or the real time() */
time_t
time(time_t *out)
{
	static eval_time_fn real;
	time_t now;

	if (!clock_pinned() && real == NULL)
		real = (eval_time_fn)dlsym(RTLD_NEXT, "time");
	if (!clock_pinned() && real != NULL)
		now = real(NULL);
	else
		now = (time_t)(clock_wall() / 1000000);
	if (out != NULL)
		*out = now;
	return now;
}
