/*
 * signals.h - the daemon's signals, taken by the main thread alone.
 *
 * libmilter starts a thread of its own that waits with sigwait(3) for
 * SIGHUP, SIGTERM and SIGINT and stops the milter on any of them: to
 * libmilter, SIGHUP means "stop". Blocking those signals in our threads
 * is not enough: a thread waiting in sigwait() may dequeue a pending
 * process-directed signal whatever the masks of the other threads (on
 * Linux, as soon as the main thread already has a signal pending, e.g.
 * SIGUSR1 of a SIGHUP+SIGUSR1 pair). So:
 *
 *  - signals_install() blocks SIGHUP, SIGUSR1, SIGUSR2, SIGTERM and
 *    SIGINT in the main thread before any thread exists; every thread
 *    inherits the mask, so none of them runs a handler;
 *  - the main thread takes them with sigtimedwait() (signals_wait());
 *  - signals.c defines sigwait() itself, which the dynamic linker binds
 *    libmilter's call to (the executable's symbols come first): it never
 *    returns one of our signals, so libmilter's signal thread waits for
 *    nothing and never stops the milter. We stop libmilter with
 *    smfi_stop() when we decide to. Nothing else in smtpscope calls
 *    sigwait().
 *
 * signals_guarded() tells whether libmilter's thread did reach our
 * sigwait() (the daemon checks it once after start-up and warns if not).
 */
#ifndef SMTPSCOPE_SIGNALS_H
#define SMTPSCOPE_SIGNALS_H

#include <signal.h>
#include <stdbool.h>

enum signals_event {
	SIGNALS_NONE = 0,
	SIGNALS_REOPEN = 1,	/* SIGUSR1: reopen the record log */
	SIGNALS_STOP = 2,	/* SIGTERM, SIGINT, SIGUSR2 from outside */
	SIGNALS_MILTER_DONE = 4,/* the libmilter thread ended (SIGUSR2) */
	SIGNALS_RELOAD = 8	/* SIGHUP: today the same as SIGNALS_REOPEN */
};

/* signals_install - block our set in the calling (main) thread, ignore
 * SIGPIPE; call before any thread starts; 0 or -1 (errno set) */
int signals_install(void);
/* signals_block_set - the signals only the main thread takes */
void signals_block_set(sigset_t *set);
/* signals_wait - wait up to timeout_ms for our signals; event bits of
 * every signal pending by then */
int signals_wait(int timeout_ms);
/* signals_guarded - libmilter's signal thread is parked in our sigwait */
bool signals_guarded(void);

#endif
