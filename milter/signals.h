/*
 * signals.h - the main thread's signal loop.
 *
 * libmilter's own signal thread treats SIGHUP as "stop". To keep SIGHUP
 * for log rotation, the main thread keeps SIGHUP, SIGUSR1, SIGTERM and
 * SIGINT unblocked with handlers at all times while every libmilter
 * thread has them blocked: Linux then delivers each process-directed
 * signal to the main thread. Handlers only set a flag and write a byte
 * to a pipe; signals_wait() sleeps on that pipe.
 */
#ifndef SMTPSCOPE_SIGNALS_H
#define SMTPSCOPE_SIGNALS_H

#include <signal.h>

enum signals_event {
	SIGNALS_NONE = 0,
	SIGNALS_REOPEN = 1,	/* SIGHUP, SIGUSR1 */
	SIGNALS_STOP = 2,	/* SIGTERM, SIGINT */
	SIGNALS_MILTER_DONE = 4	/* the libmilter thread ended (SIGUSR2) */
};

/* signals_install - handlers and the wake-up pipe; 0 or -1 */
int signals_install(void);
/* signals_block_set - the set the milter threads must block */
void signals_block_set(sigset_t *set);
/* signals_wait - wait up to timeout_ms (-1: forever); event bits */
int signals_wait(int timeout_ms);

#endif
