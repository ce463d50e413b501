/*
 * ratelimit.c - one message per interval, counting the rest.
 */
#include "ratelimit.h"

/* ratelimit_init - a gate that opens once per interval_us */
void
ratelimit_init(struct ratelimit *rl, int64_t interval_us)
{
	pthread_mutex_init(&rl->lock, NULL);
	rl->interval_us = interval_us;
	rl->last_us = 0;
	rl->suppressed = 0;
}

/* ratelimit_allow - true when a message may go out now */
bool
ratelimit_allow(struct ratelimit *rl, int64_t now_us, uint64_t *suppressed)
{
	bool ok;

	pthread_mutex_lock(&rl->lock);
	ok = rl->last_us == 0 || now_us - rl->last_us >= rl->interval_us;
	if (ok) {
		*suppressed = rl->suppressed;
		rl->suppressed = 0;
		rl->last_us = now_us;
	} else {
		rl->suppressed++;
	}
	pthread_mutex_unlock(&rl->lock);
	return ok;
}
