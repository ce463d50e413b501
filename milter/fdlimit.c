/*
 * fdlimit.c - raise RLIMIT_NOFILE to its hard limit; sessions that fit.
 */
#include <errno.h>
#include <limits.h>
#include <sys/resource.h>
#include <syslog.h>

#include "daemon_log.h"
#include "fdlimit.h"

/* fdlimit_sessions - sessions that fit under limit descriptors */
static unsigned
fdlimit_sessions(rlim_t limit, unsigned per_session)
{
	rlim_t n;

	if (per_session == 0)
		per_session = 1;
	if (limit == RLIM_INFINITY || limit > (rlim_t)UINT_MAX)
		limit = (rlim_t)UINT_MAX;
	n = limit > FDLIMIT_RESERVE + per_session ?
	    (limit - FDLIMIT_RESERVE) / per_session : 1;
	return (unsigned)n;
}

/* fdlimit_setup - soft limit up to the hard one; the session limit */
unsigned
fdlimit_setup(unsigned per_session)
{
	struct rlimit rl;
	rlim_t was;
	unsigned max;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
		daemon_log(LOG_WARNING, "cannot read the file descriptor "
		    "limit: %s; no session limit", daemon_log_errstr(errno));
		return 0;
	}
	was = rl.rlim_cur;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
			daemon_log(LOG_WARNING, "cannot raise the file "
			    "descriptor limit from %llu to %llu: %s",
			    (unsigned long long)was,
			    (unsigned long long)rl.rlim_max,
			    daemon_log_errstr(errno));
			rl.rlim_cur = was;
		}
	}
	max = fdlimit_sessions(rl.rlim_cur, per_session);
	daemon_log(LOG_INFO, "file descriptor limit %llu (soft limit was "
	    "%llu, hard limit %llu): at most %u sessions at once",
	    (unsigned long long)rl.rlim_cur, (unsigned long long)was,
	    (unsigned long long)rl.rlim_max, max);
	return max;
}
