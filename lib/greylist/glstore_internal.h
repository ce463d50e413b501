/*
 * glstore_internal.h - what a glstore back end provides (glstore.c
 * dispatches to it). Each back end owns its impl pointer.
 */
#ifndef SMTPSCOPE_GLSTORE_INTERNAL_H
#define SMTPSCOPE_GLSTORE_INTERNAL_H

#include "greylist/glstore.h"

struct glstore_ops {
	const char *kind;
	int (*rmw)(struct glstore *s, const char *const *keys, unsigned nkeys,
	    int64_t ttl_s, glstore_fn fn, void *arg);
	int (*get)(struct glstore *s, const char *key, struct glstore_val *out);
	int (*put)(struct glstore *s, const char *key, const char *val,
	    size_t len, int64_t ttl_s);
	int (*del)(struct glstore *s, const char *key);
	int (*visit)(struct glstore *s, const char *prefix,
	    glstore_visit_fn fn, void *arg);
	void (*close)(struct glstore *s);
};

struct glstore {
	const struct glstore_ops *ops;
	void *impl;
	/* full-store episodes (glstore.c) */
	_Atomic bool full;
	_Atomic unsigned long nfull;	/* SCOPE_ENOSPC since it began */
	_Atomic int64_t full_at;	/* clock_mono() of the latest */
	glstore_notify_fn notify;
	void *notify_arg;
};

/* an episode ends with a write that succeeds this long after the last
 * one that failed full (microseconds) */
#define GLSTORE_FULL_QUIET_US	(60 * INT64_C(1000000))

/* the back ends' openers: fill s->ops and s->impl */
int glstore_lmdb_open(struct glstore *s, const char *path,
    const struct glstore_opts *o, char *err, size_t errsz);
/* glstore_lmdb_path_check - an absolute path, a regular file if there */
int glstore_lmdb_path_check(const char *path, char *err, size_t errsz);
/* glstore_redis_spec_check - the spec parses (no connection made) */
int glstore_redis_spec_check(const char *spec, char *err, size_t errsz);
int glstore_redis_open(struct glstore *s, const char *spec, long timeout_ms,
    char *err, size_t errsz);
int glstore_mem_open(struct glstore *s, char *err, size_t errsz);

/* glstore_set_error - this thread's last failure, for glstore_error() */
void glstore_set_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

#endif
