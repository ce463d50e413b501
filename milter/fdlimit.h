/*
 * fdlimit.h - the daemon's file descriptor limit and the session limit
 * derived from it.
 *
 * libmilter's accept loop retries at once when accept() fails with
 * EMFILE: at the descriptor limit it spins at 100 % CPU and new sessions
 * get no answer until the MTA's milter timeout. So smtpscope raises its
 * soft RLIMIT_NOFILE to the hard limit at start, and refuses sessions
 * beyond what the limit leaves room for (milter_cb_limit), so that the
 * limit itself is never reached.
 */
#ifndef SMTPSCOPE_FDLIMIT_H
#define SMTPSCOPE_FDLIMIT_H

/* descriptors kept free for the daemon itself: listening socket, record
 * log, syslog, stores, resolver set-up, the libraries, and the metrics
 * endpoint's 32 connections */
#define FDLIMIT_RESERVE	128

/*
 * fdlimit_setup - raise the soft limit to the hard one, log both, and
 * return how many sessions fit at once when each may hold per_session
 * descriptors (at least 1). Never fails: a limit that cannot be read or
 * raised is logged and the current one used.
 */
unsigned fdlimit_setup(unsigned per_session);

#endif
