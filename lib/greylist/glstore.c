/*
 * glstore.c - open a greylisting store by its spec and dispatch to the
 * back end; keeps each thread's last failure reason.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
 * [/db]" or "mem:" */
int
glstore_open(struct glstore **out, const char *spec, long timeout_ms,
    char *err, size_t errsz)
{
	struct glstore *s = calloc(1, sizeof(*s));
	int rc;

	*out = NULL;
	if (s == NULL) {
		snprintf(err, errsz, "out of memory");
		return SCOPE_ENOMEM;
	}
	if (strncmp(spec, "lmdb:", 5) == 0)
		rc = glstore_lmdb_open(s, spec + 5, err, errsz);
	else if (strncmp(spec, "redis:", 6) == 0)
		rc = glstore_redis_open(s, spec + 6, timeout_ms, err, errsz);
	else if (strcmp(spec, "mem:") == 0)
		rc = glstore_mem_open(s, err, errsz);
	else {
		snprintf(err, errsz, "not lmdb:/path, redis:host:port[/db] "
		    "or redis:unix:/path[/db]");
		rc = SCOPE_EINVAL;
	}
	if (rc != SCOPE_OK) {
		free(s);
		return rc;
	}
	*out = s;
	return SCOPE_OK;
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

int
glstore_rmw(struct glstore *s, const char *const *keys, unsigned nkeys,
    int64_t ttl_s, glstore_fn fn, void *arg)
{
	if (nkeys == 0 || nkeys > GLSTORE_RMW_KEYS)
		return SCOPE_EINVAL;
	return s->ops->rmw(s, keys, nkeys, ttl_s, fn, arg);
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
	if (len > GLSTORE_VAL_MAX)
		return SCOPE_ETOOBIG;
	return s->ops->put(s, key, val, len, ttl_s);
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
