/*
 * signals.c - our signals blocked in every thread and taken by the main
 * thread with sigtimedwait(); sigwait() for libmilter's signal thread,
 * which never hands it one of them (see signals.h for why).
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "signals.h"

static bool signals_parked;	/* libmilter's thread reached sigwait() */

/* signals_block_set - signals only the main thread may take */
void
signals_block_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGUSR1);
	sigaddset(set, SIGUSR2);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
}

/* signals_install - block the set here (threads inherit it), SIGPIPE
 * ignored */
int
signals_install(void)
{
	struct sigaction sa;
	sigset_t set;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGPIPE, &sa, NULL) != 0)
		return -1;
	signals_block_set(&set);
	errno = pthread_sigmask(SIG_BLOCK, &set, NULL);
	return errno == 0 ? 0 : -1;
}

/* signals_event_of - what a signal asks of the main loop */
static int
signals_event_of(int sig)
{
	switch (sig) {
	case SIGHUP:
		return SIGNALS_RELOAD;
	case SIGUSR1:
		return SIGNALS_REOPEN;
	case SIGUSR2:
		return SIGNALS_MILTER_DONE;
	case SIGTERM:
	case SIGINT:
		return SIGNALS_STOP;
	default:
		return SIGNALS_NONE;
	}
}

/* signals_wait - the first signal within timeout_ms, then every other
 * one already pending, as event bits */
int
signals_wait(int timeout_ms)
{
	struct timespec ts = { timeout_ms / 1000, (timeout_ms % 1000) * 1000000L };
	static const struct timespec zero = { 0, 0 };
	sigset_t set;
	int sig, events = SIGNALS_NONE;

	signals_block_set(&set);
	sig = sigtimedwait(&set, NULL, timeout_ms < 0 ? NULL : &ts);
	while (sig > 0) {
		events |= signals_event_of(sig);
		sig = sigtimedwait(&set, NULL, &zero);
	}
	return events;
}

/* signals_guarded - libmilter's signal thread is parked */
bool
signals_guarded(void)
{
	return __atomic_load_n(&signals_parked, __ATOMIC_SEQ_CST);
}

/*
 * sigwait - libmilter's signal thread calls this instead of the C
 * library's: it waits only for the signals of *set that are not ours
 * (none, for libmilter's SIGHUP, SIGTERM and SIGINT), so libmilter never
 * sees SIGHUP or SIGTERM and never stops the milter on its own. With no
 * signal left to wait for, the thread sleeps until the process exits.
 */
int
sigwait(const sigset_t *set, int *sig)
{
	sigset_t ours, rest;
	int s;

	signals_block_set(&ours);
	sigemptyset(&rest);
	for (s = 1; s < NSIG; s++)
		if (sigismember(set, s) == 1 && sigismember(&ours, s) != 1)
			sigaddset(&rest, s);
	__atomic_store_n(&signals_parked, true, __ATOMIC_SEQ_CST);
	if (sigisemptyset(&rest)) {
		for (;;)
			pause();
	}
	do {
		s = sigwaitinfo(&rest, NULL);
	} while (s < 0 && errno == EINTR);
	if (s < 0)
		return errno;
	*sig = s;
	return 0;
}
