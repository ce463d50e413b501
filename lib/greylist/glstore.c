/*
 * glstore.c - open a greylisting store by its spec and dispatch to the
 * back end; keeps each thread's last failure reason and the store's
 * full-store episode (glstore_track: counted, told to the notify hook
 * once when it begins and once when it ends).
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "errors.h"
#include "greylist/glstore_internal.h"

static __thread char glstore_err[256];

/* glstore_set_error - remember why the last call failed on this thread */
void
glstore_set_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(glstore_err, sizeof(glstore_err), fmt, ap);
	va_end(ap);
}

/* glstore_error - this thread's last failure, "" if none */
const char *
glstore_error(void)
{
	return glstore_err;
}

/* glstore_open - "lmdb:/path", "redis:host:port[/db]", "redis:unix:/path
 * [/db]" or "mem:", with the default sizes */
int
glstore_open(struct glstore **out, const char *spec, long timeout_ms,
    char *err, size_t errsz)
{
	struct glstore_opts o;

	memset(&o, 0, sizeof(o));
	o.timeout_ms = timeout_ms;
	return glstore_open_opts(out, spec, &o, err, errsz);
}

/* glstore_open_opts - open by spec with every option */
int
glstore_open_opts(struct glstore **out, const char *spec,
    const struct glstore_opts *o, char *err, size_t errsz)
{
	struct glstore *s = calloc(1, sizeof(*s));
	int rc;

	*out = NULL;
	if (s == NULL) {
		snprintf(err, errsz, "out of memory");
		return SCOPE_ENOMEM;
	}
	if (strncmp(spec, "lmdb:", 5) == 0)
		rc = glstore_lmdb_open(s, spec + 5, o, err, errsz);
	else if (strncmp(spec, "redis:", 6) == 0)
		rc = glstore_redis_open(s, spec + 6, o->timeout_ms, err, errsz);
	else if (strcmp(spec, "mem:") == 0)
		rc = glstore_mem_open(s, err, errsz);
	else
		rc = glstore_spec_check(spec, err, errsz);
	if (rc != SCOPE_OK) {
		free(s);
		return rc;
	}
	*out = s;
	return SCOPE_OK;
}

/* glstore_spec_check - the spec's form, nothing opened */
int
glstore_spec_check(const char *spec, char *err, size_t errsz)
{
	if (strncmp(spec, "lmdb:", 5) == 0)
		return glstore_lmdb_path_check(spec + 5, err, errsz);
	if (strncmp(spec, "redis:", 6) == 0)
		return glstore_redis_spec_check(spec + 6, err, errsz);
	if (strcmp(spec, "mem:") == 0)
		return SCOPE_OK;
	snprintf(err, errsz, "not lmdb:/path, redis:host:port[/db] "
	    "or redis:unix:/path[/db]");
	return SCOPE_EINVAL;
}

/* glstore_set_notify - the full-store episode hook */
void
glstore_set_notify(struct glstore *s, glstore_notify_fn fn, void *arg)
{
	s->notify = fn;
	s->notify_arg = arg;
}

/* glstore_full - in a full-store episode? */
bool
glstore_full(struct glstore *s, unsigned long *failed)
{
	if (failed != NULL)
		*failed = atomic_load(&s->nfull);
	return atomic_load(&s->full);
}

/* glstore_track - a write's outcome for the full-store episode: the
 * first SCOPE_ENOSPC begins one; a write that succeeds once none has
 * failed full for GLSTORE_FULL_QUIET_US ends it (a store at its size
 * takes some writes as expiry or page reuse frees room: that is still
 * one episode); exactly one thread sees each change and tells the hook */
static void
glstore_track(struct glstore *s, int rc, bool wrote)
{
	unsigned long n;

	if (rc == SCOPE_ENOSPC) {
		atomic_store(&s->full_at, clock_mono());
		n = atomic_fetch_add(&s->nfull, 1);
		if (!atomic_exchange(&s->full, true) && s->notify != NULL)
			s->notify(s->notify_arg, true, n + 1, glstore_error());
	} else if (rc == SCOPE_OK && wrote && atomic_load(&s->full) &&
	    clock_mono() - atomic_load(&s->full_at) >= GLSTORE_FULL_QUIET_US &&
	    atomic_exchange(&s->full, false)) {
		n = atomic_exchange(&s->nfull, 0);
		if (s->notify != NULL)
			s->notify(s->notify_arg, false, n, "");
	}
}

/* glstore_close - close the back end and free the handle */
void
glstore_close(struct glstore *s)
{
	if (s == NULL)
		return;
	s->ops->close(s);
	free(s);
}

/* the caller's step, wrapped to learn whether it wrote anything */
struct glstore_call {
	glstore_fn fn;
	void *arg;
	bool wrote;
};

/* glstore_call_fn - run the step with fresh TTLs, note any write */
static int
glstore_call_fn(void *arg, const struct glstore_val *in,
    struct glstore_val *out, unsigned nkeys)
{
	struct glstore_call *c = arg;
	unsigned i;
	int rc;

	for (i = 0; i < nkeys; i++)
		out[i].ttl_s = 0;
	rc = c->fn(c->arg, in, out, nkeys);
	c->wrote = false;
	for (i = 0; rc >= 0 && i < nkeys; i++)
		c->wrote |= out[i].present;
	return rc;
}

/* glstore_rmw - the back end's atomic step; tracks a full store */
int
glstore_rmw(struct glstore *s, const char *const *keys, unsigned nkeys,
    int64_t ttl_s, glstore_fn fn, void *arg)
{
	struct glstore_call c = { fn, arg, false };
	int rc;

	if (nkeys == 0 || nkeys > GLSTORE_RMW_KEYS)
		return SCOPE_EINVAL;
	rc = s->ops->rmw(s, keys, nkeys, ttl_s, glstore_call_fn, &c);
	glstore_track(s, rc, c.wrote);
	return rc;
}

int
glstore_get(struct glstore *s, const char *key, struct glstore_val *out)
{
	return s->ops->get(s, key, out);
}

int
glstore_put(struct glstore *s, const char *key, const char *val, size_t len,
    int64_t ttl_s)
{
	int rc;

	if (len > GLSTORE_VAL_MAX)
		return SCOPE_ETOOBIG;
	rc = s->ops->put(s, key, val, len, ttl_s);
	glstore_track(s, rc, true);
	return rc;
}

int
glstore_del(struct glstore *s, const char *key)
{
	return s->ops->del(s, key);
}

int
glstore_visit(struct glstore *s, const char *prefix, glstore_visit_fn fn,
    void *arg)
{
	return s->ops->visit(s, prefix, fn, arg);
}

/* glstore_kind - the back end's name */
const char *
glstore_kind(const struct glstore *s)
{
	return s->ops->kind;
}
