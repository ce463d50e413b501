/*
 * ratelimit.h - "at most once per interval" gate for log messages.
 *
 * ratelimit_allow() says whether a message may be emitted now, and how
 * many were suppressed since the last one that was, so the one line
 * that gets through can say "(and N more)". Thread-safe.
 */
#ifndef SMTPSCOPE_RATELIMIT_H
#define SMTPSCOPE_RATELIMIT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct ratelimit {
	pthread_mutex_t lock;
	int64_t interval_us;
	int64_t last_us;	/* 0: never emitted */
	uint64_t suppressed;
};

void ratelimit_init(struct ratelimit *rl, int64_t interval_us);
bool ratelimit_allow(struct ratelimit *rl, int64_t now_us, uint64_t *suppressed);

#endif
