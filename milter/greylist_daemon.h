/*
 * greylist_daemon.h - greylisting in the daemon: parameters from the
 * configuration (checked at start-up, errors name file, line and key),
 * the store opened once privileges are dropped (so an LMDB file belongs
 * to UserID), the periodic expiry of an LMDB store (at once when it
 * fills), and one log line when the store fills and one when it has
 * room again.
 */
#ifndef SMTPSCOPE_GREYLIST_DAEMON_H
#define SMTPSCOPE_GREYLIST_DAEMON_H

#include <stdint.h>

#include "config.h"
#include "greylist/glstore.h"
#include "greylist/greylist.h"

struct greylist_daemon {
	struct greylist_params p;
	struct glstore *store;		/* NULL while off or not yet open */
	int64_t next_expire;		/* clock_mono() microseconds */
	int64_t interval_us;
	_Atomic bool expire_soon;	/* the store filled: expire at the
					 * next tick */
};

/* greylist_daemon_config - parameters; exits 78 on a bad allow-list */
void greylist_daemon_config(struct greylist_daemon *gd,
    const struct config *cfg);
/* greylist_daemon_opts - the store's options (timeout, map size) */
void greylist_daemon_opts(const struct config *cfg, struct glstore_opts *o);
/* greylist_daemon_error - the store error start and -n print:
 * "FILE:LINE: GreylistStore: SPEC: why" into err; returns -1 */
int greylist_daemon_error(const struct config *cfg, const char *why,
    char *err, size_t errsz);
/* greylist_daemon_open - open the store (when on); 0 or -1 with err */
int greylist_daemon_open(struct greylist_daemon *gd, const struct config *cfg,
    char *err, size_t errsz);
/* greylist_daemon_tick - expire old entries of an LMDB store when due */
void greylist_daemon_tick(struct greylist_daemon *gd);
void greylist_daemon_close(struct greylist_daemon *gd);

#endif
