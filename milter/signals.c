/*
 * signals.c - async-signal-safe flags and a self-pipe for the main loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "signals.h"

static volatile sig_atomic_t signals_pending;
static int signals_pipe[2] = { -1, -1 };

/* signals_handler - record the event, wake the main loop */
static void
signals_handler(int sig)
{
	int saved = errno;
	char byte = 0;

	if (sig == SIGHUP || sig == SIGUSR1)
		signals_pending |= SIGNALS_REOPEN;
	else if (sig == SIGUSR2)
		signals_pending |= SIGNALS_MILTER_DONE;
	else
		signals_pending |= SIGNALS_STOP;
	(void)!write(signals_pipe[1], &byte, 1);
	errno = saved;
}

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

/* signals_install - handlers for the set, SIGPIPE ignored */
int
signals_install(void)
{
	static const int sigs[] = { SIGHUP, SIGUSR1, SIGUSR2, SIGTERM, SIGINT };
	struct sigaction sa;
	sigset_t set;
	size_t i;

	if (pipe2(signals_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = signals_handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL) != 0)
			return -1;
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) != 0)
		return -1;
	signals_block_set(&set);
	return pthread_sigmask(SIG_UNBLOCK, &set, NULL) == 0 ? 0 : -1;
}

/* signals_wait - sleep until a signal or the timeout; return events */
int
signals_wait(int timeout_ms)
{
	struct pollfd pfd = { signals_pipe[0], POLLIN, 0 };
	char drain[64];
	int events;

	if (signals_pending == 0)
		(void)poll(&pfd, 1, timeout_ms);
	while (read(signals_pipe[0], drain, sizeof(drain)) > 0)
		;
	events = __atomic_exchange_n(&signals_pending, 0, __ATOMIC_SEQ_CST);
	return events;
}
