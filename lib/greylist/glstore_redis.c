/*
 * glstore_redis.c - the greylisting store on a Redis server (hiredis),
 * "redis:HOST:PORT[/DB]", "redis:[V6]:PORT[/DB]" or "redis:unix:/path[/DB]"
 * (a last path component of digits only is the database number).
 *
 * Keys and values are stored as they come (no prefix); values are Redis
 * strings, written with SET ... EX ttl (no expiry when ttl_s <= 0; a
 * key's own out[i].ttl_s wins over the call's). A server at its
 * maxmemory answers OOM: SCOPE_ENOSPC, the store is full.
 * glstore_rmw(): WATCH the keys and MGET them (one round trip), call fn,
 * then MULTI, SET each written key, EXEC (a second round trip). EXEC
 * answering nil means another writer touched a key in between: the step
 * is tried again after a short random pause, up to REDIS_RMW_RETRIES
 * times, then fails with "conflict". fn must clear out[i].present for
 * keys it leaves unchanged, or every call rewrites them (and contends).
 * glstore_visit(): SCAN MATCH prefix* COUNT REDIS_BATCH, MGET per batch,
 * then one Lua script per batch that deletes each marked key only if its
 * value is still the one visited. SCAN may show a key twice.
 *
 * Connections: one per thread per store (a pthread key; the destructor
 * closes it when the thread ends, glstore_close() closes the rest), made
 * on first use, with timeout_ms for the connect and for every reply. The
 * store opens without contacting the server, so the daemon starts while
 * Redis is down and fails open call by call. Any error, error reply or
 * timeout drops the thread's connection (SCOPE_EIO, reason in
 * glstore_error()); the next call reconnects, at once after the server
 * closed the connection, otherwise not before REDIS_RETRY_MS, so that a
 * dead or hung server costs one fast failure per call.
 *
 * Not supported: AUTH (use a UNIX socket with file permissions, or a
 * server bound to a private address), TLS, Sentinel, Cluster. The process
 * must ignore SIGPIPE (libmilter does): hiredis writes with write(2).
 * glstore_close() must run after every thread using the store is done.
 * Owns: the connections.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "errors.h"
#include "greylist/glstore_internal.h"
#include "text.h"

#define REDIS_RMW_RETRIES	5	/* after the first try, on conflicts */
#define REDIS_RETRY_MS		1000	/* between failed connects, per thread */
#define REDIS_BATCH		1000	/* SCAN COUNT in glstore_visit() */
#define REDIS_DB_MAX		65535

struct redis_conn;

struct redis_store {
	char where[300];		/* "unix:/path" or "host:port", for errors */
	char host[256];			/* host name or address, or socket path */
	bool is_unix;
	int port;
	long db;
	struct timeval tv;
	long timeout_ms;
	pthread_key_t key;
	pthread_mutex_t lock;		/* the list of connections */
	struct redis_conn *conns;
};

/* one thread's connection */
struct redis_conn {
	struct redis_store *st;
	redisContext *c;		/* NULL: not connected */
	int64_t retry_at;		/* monotonic ms of the next connect */
	char why[160];			/* why the last connect failed */
	unsigned seed;			/* back-off jitter */
	struct redis_conn *prev, *next;
};

/* a compare-and-delete of KEYS[i] when its value is ARGV[i] */
static const char redis_cad_script[] =
	"local n = 0\n"
	"for i = 1, #KEYS do\n"
	"  if redis.call('GET', KEYS[i]) == ARGV[i] then\n"
	"    redis.call('DEL', KEYS[i]); n = n + 1\n"
	"  end\n"
	"end\n"
	"return n\n";

/* redis_now - monotonic milliseconds */
static int64_t
redis_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* redis_drop - close a thread's connection; pause_ms delays the next
 * connect */
static void
redis_drop(struct redis_conn *rc, int64_t pause_ms)
{
	if (rc->c != NULL)
		redisFree(rc->c);
	rc->c = NULL;
	if (pause_ms > 0)
		rc->retry_at = redis_now() + pause_ms;
}

/* redis_io_fail - the connection broke during what (called at once, so
 * that errno is the failure's): record why, drop it; SCOPE_EIO */
static int
redis_io_fail(struct redis_conn *rc, const char *what)
{
	int e = errno;
	redisContext *c = rc->c;
	const struct redis_store *st = rc->st;

	if (c->err == REDIS_ERR_IO && (e == EAGAIN || e == EWOULDBLOCK)) {
		snprintf(rc->why, sizeof(rc->why), "%s: no answer within "
		    "%ld ms", what, st->timeout_ms);
		glstore_set_error("redis %s: %s", st->where, rc->why);
		redis_drop(rc, REDIS_RETRY_MS);	/* hung: do not hammer it */
	} else {
		snprintf(rc->why, sizeof(rc->why), "%s: %s", what,
		    c->errstr[0] != '\0' ? c->errstr : "I/O error");
		glstore_set_error("redis %s: %s", st->where, rc->why);
		/* the server closed the connection (restart, idle timeout):
		 * reconnect at once; anything else: pause */
		redis_drop(rc, c->err == REDIS_ERR_EOF || (c->err ==
		    REDIS_ERR_IO && (e == EPIPE || e == ECONNRESET)) ? 0 :
		    REDIS_RETRY_MS);
	}
	return SCOPE_EIO;
}

/* redis_reply_fail - an error or unexpected reply: drop the connection
 * (it may be inside WATCH or MULTI), free the reply; SCOPE_EIO, or
 * SCOPE_ENOSPC for an OOM error (the server is at its maxmemory) */
static int
redis_reply_fail(struct redis_conn *rc, redisReply *r, const char *what)
{
	int code = SCOPE_EIO;

	if (r != NULL && r->type == REDIS_REPLY_ERROR) {
		glstore_set_error("redis %s: %s: %s", rc->st->where, what,
		    r->str);
		if (strncmp(r->str, "OOM ", 4) == 0)
			code = SCOPE_ENOSPC;	/* at maxmemory: full */
	} else
		glstore_set_error("redis %s: %s: unexpected reply type %d",
		    rc->st->where, what, r != NULL ? r->type : -1);
	if (r != NULL)
		freeReplyObject(r);
	redis_drop(rc, 0);
	return code;
}

/* redis_status - a status reply saying text, e.g. "OK" */
static bool
redis_status(const redisReply *r, const char *text)
{
	return r != NULL && r->type == REDIS_REPLY_STATUS &&
	    strcmp(r->str, text) == 0;
}

/* redis_connect - connect rc, select the database */
static int
redis_connect(struct redis_conn *rc)
{
	const struct redis_store *st = rc->st;
	redisReply *r;
	char db[24];
	const char *argv[2] = { "SELECT", db };

	rc->c = st->is_unix ? redisConnectUnixWithTimeout(st->host, st->tv) :
	    redisConnectWithTimeout(st->host, st->port, st->tv);
	if (rc->c == NULL || rc->c->err != 0) {
		snprintf(rc->why, sizeof(rc->why), "connect: %s",
		    rc->c != NULL ? rc->c->errstr : "out of memory");
		redis_drop(rc, REDIS_RETRY_MS);
		glstore_set_error("redis %s: %s", st->where, rc->why);
		return SCOPE_EIO;
	}
	if (redisSetTimeout(rc->c, st->tv) != REDIS_OK)
		return redis_io_fail(rc, "set timeout");
	if (st->db == 0)
		return SCOPE_OK;
	snprintf(db, sizeof(db), "%ld", st->db);
	r = redisCommandArgv(rc->c, 2, argv, NULL);
	if (r == NULL)
		return redis_io_fail(rc, "SELECT");
	if (!redis_status(r, "OK"))
		return redis_reply_fail(rc, r, "SELECT");
	freeReplyObject(r);
	return SCOPE_OK;
}

/* redis_conn - this thread's connected context (made on first use) */
static int
redis_conn(struct redis_store *st, struct redis_conn **out)
{
	struct redis_conn *rc = pthread_getspecific(st->key);
	int64_t now;

	if (rc == NULL) {
		if ((rc = calloc(1, sizeof(*rc))) == NULL) {
			glstore_set_error("redis: out of memory");
			return SCOPE_ENOMEM;
		}
		rc->st = st;
		rc->seed = (unsigned)(uintptr_t)rc ^ (unsigned)redis_now();
		if (pthread_setspecific(st->key, rc) != 0) {
			free(rc);
			glstore_set_error("redis: out of memory");
			return SCOPE_ENOMEM;
		}
		pthread_mutex_lock(&st->lock);
		rc->next = st->conns;
		if (st->conns != NULL)
			st->conns->prev = rc;
		st->conns = rc;
		pthread_mutex_unlock(&st->lock);
	}
	*out = rc;
	if (rc->c != NULL)
		return SCOPE_OK;
	now = redis_now();
	if (now < rc->retry_at) {
		glstore_set_error("redis %s: down (%s); next attempt in "
		    "%" PRId64 " ms", st->where, rc->why[0] != '\0' ?
		    rc->why : "connection lost", rc->retry_at - now);
		return SCOPE_EIO;
	}
	rc->why[0] = '\0';
	return redis_connect(rc);
}

/* redis_conn_free - the key's destructor: a thread ends */
static void
redis_conn_free(void *p)
{
	struct redis_conn *rc = p;
	struct redis_store *st = rc->st;

	pthread_mutex_lock(&st->lock);
	if (rc->prev != NULL)
		rc->prev->next = rc->next;
	else
		st->conns = rc->next;
	if (rc->next != NULL)
		rc->next->prev = rc->prev;
	pthread_mutex_unlock(&st->lock);
	redis_drop(rc, 0);
	free(rc);
}

/* redis_key_ok - a key's length is within GLSTORE_KEY_MAX */
static int
redis_key_ok(const char *key)
{
	size_t len = strlen(key);

	if (len == 0 || len >= GLSTORE_KEY_MAX) {
		glstore_set_error("redis: key empty or over %d bytes",
		    GLSTORE_KEY_MAX - 1);
		return SCOPE_EINVAL;
	}
	return SCOPE_OK;
}

/* redis_read - WATCH and MGET the keys in one round trip */
static int
redis_read(struct redis_conn *rc, const char *const *keys, unsigned nkeys,
    struct glstore_val *in)
{
	const char *argv[GLSTORE_RMW_KEYS + 1];
	redisReply *r;
	unsigned i;

	memcpy(argv + 1, keys, sizeof(*keys) * nkeys);
	argv[0] = "WATCH";
	if (redisAppendCommandArgv(rc->c, (int)nkeys + 1, argv, NULL) != 0)
		return redis_io_fail(rc, "WATCH");
	argv[0] = "MGET";
	if (redisAppendCommandArgv(rc->c, (int)nkeys + 1, argv, NULL) != 0)
		return redis_io_fail(rc, "MGET");
	if (redisGetReply(rc->c, (void **)&r) != REDIS_OK)
		return redis_io_fail(rc, "WATCH");
	if (!redis_status(r, "OK"))
		return redis_reply_fail(rc, r, "WATCH");
	freeReplyObject(r);
	if (redisGetReply(rc->c, (void **)&r) != REDIS_OK)
		return redis_io_fail(rc, "MGET");
	if (r->type != REDIS_REPLY_ARRAY || r->elements != nkeys)
		return redis_reply_fail(rc, r, "MGET");
	for (i = 0; i < nkeys; i++) {
		const redisReply *e = r->element[i];

		in[i].present = e->type == REDIS_REPLY_STRING &&
		    e->len <= GLSTORE_VAL_MAX;	/* else absent: overwritten */
		in[i].len = in[i].present ? e->len : 0;
		if (in[i].present)
			memcpy(in[i].data, e->str, e->len);
	}
	freeReplyObject(r);
	return SCOPE_OK;
}

/* redis_simple - one command expecting a status "OK" */
static int
redis_simple(struct redis_conn *rc, int argc, const char **argv,
    const size_t *lens)
{
	redisReply *r = redisCommandArgv(rc->c, argc, argv, lens);

	if (r == NULL)
		return redis_io_fail(rc, argv[0]);
	if (!redis_status(r, "OK"))
		return redis_reply_fail(rc, r, argv[0]);
	freeReplyObject(r);
	return SCOPE_OK;
}

/* redis_set_argv - SET key val [EX ttl] into argv/lens; returns argc */
static int
redis_set_argv(const char **argv, size_t *lens, const char *key,
    const char *val, size_t len, int64_t ttl_s, char *ttlbuf, size_t ttlsz)
{
	argv[0] = "SET";
	lens[0] = 3;
	argv[1] = key;
	lens[1] = strlen(key);
	argv[2] = val;
	lens[2] = len;
	if (ttl_s <= 0)
		return 3;
	snprintf(ttlbuf, ttlsz, "%" PRId64, ttl_s);
	argv[3] = "EX";
	lens[3] = 2;
	argv[4] = ttlbuf;
	lens[4] = strlen(ttlbuf);
	return 5;
}

/* redis_write - MULTI, SET each written key, EXEC in one round trip;
 * *conflict when EXEC answers nil (a watched key changed) */
static int
redis_write(struct redis_conn *rc, const char *const *keys, unsigned nkeys,
    const struct glstore_val *out, int64_t ttl_s, bool *conflict)
{
	const char *argv[5], *unwatch = "UNWATCH", *multi = "MULTI",
	    *exec = "EXEC";
	char ttl[24];
	size_t lens[5];
	redisReply *r;
	unsigned i, n = 0;
	int argc;

	*conflict = false;
	for (i = 0; i < nkeys; i++) {
		if (out[i].present && out[i].len > GLSTORE_VAL_MAX) {
			glstore_set_error("redis: value over %d bytes",
			    GLSTORE_VAL_MAX);
			redis_simple(rc, 1, &unwatch, NULL);
			return SCOPE_ETOOBIG;
		}
		n += out[i].present;
	}
	if (n == 0)
		return redis_simple(rc, 1, &unwatch, NULL);
	if (redisAppendCommandArgv(rc->c, 1, &multi, NULL) != 0)
		return redis_io_fail(rc, "MULTI");
	for (i = 0; i < nkeys; i++) {
		if (!out[i].present)
			continue;
		argc = redis_set_argv(argv, lens, keys[i], out[i].data,
		    out[i].len, out[i].ttl_s > 0 ? out[i].ttl_s : ttl_s, ttl,
		    sizeof(ttl));
		if (redisAppendCommandArgv(rc->c, argc, argv, lens) != 0)
			return redis_io_fail(rc, "SET");
	}
	if (redisAppendCommandArgv(rc->c, 1, &exec, NULL) != 0)
		return redis_io_fail(rc, "EXEC");
	for (i = 0; i <= n; i++) {
		if (redisGetReply(rc->c, (void **)&r) != REDIS_OK)
			return redis_io_fail(rc, i == 0 ? "MULTI" : "SET");
		if (!redis_status(r, i == 0 ? "OK" : "QUEUED"))
			return redis_reply_fail(rc, r, i == 0 ? "MULTI" : "SET");
		freeReplyObject(r);
	}
	if (redisGetReply(rc->c, (void **)&r) != REDIS_OK)
		return redis_io_fail(rc, "EXEC");
	if (r->type == REDIS_REPLY_NIL) {
		freeReplyObject(r);
		*conflict = true;
		return SCOPE_OK;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != n)
		return redis_reply_fail(rc, r, "EXEC");
	for (i = 0; i < n; i++)
		if (!redis_status(r->element[i], "OK")) {
			glstore_set_error("redis %s: EXEC: a SET failed: %s",
			    rc->st->where, r->element[i]->type ==
			    REDIS_REPLY_ERROR ? r->element[i]->str : "?");
			freeReplyObject(r);
			redis_drop(rc, 0);
			return SCOPE_EIO;
		}
	freeReplyObject(r);
	return SCOPE_OK;
}

/* redis_backoff - a random pause of up to 2^try ms before a retry */
static void
redis_backoff(struct redis_conn *rc, unsigned try)
{
	long us = (long)(rand_r(&rc->seed) % (1000 << try));
	struct timespec ts = { 0, us * 1000 };

	nanosleep(&ts, NULL);
}

/* redis_rmw - WATCH/MGET, fn, MULTI/SET/EXEC, retried on conflicts */
static int
redis_rmw(struct glstore *s, const char *const *keys, unsigned nkeys,
    int64_t ttl_s, glstore_fn fn, void *arg)
{
	struct redis_store *st = s->impl;
	struct glstore_val in[GLSTORE_RMW_KEYS], out[GLSTORE_RMW_KEYS];
	const char *unwatch = "UNWATCH";
	struct redis_conn *rc;
	bool conflict, reconnected = false;
	unsigned i, try;
	int rv;

	for (i = 0; i < nkeys; i++)
		if ((rv = redis_key_ok(keys[i])) != SCOPE_OK)
			return rv;
	for (try = 0; try <= REDIS_RMW_RETRIES; try++) {
		if ((rv = redis_conn(st, &rc)) != SCOPE_OK)
			return rv;
		if (try > 0)
			redis_backoff(rc, try);
		rv = redis_read(rc, keys, nkeys, in);
		if (rv == SCOPE_EIO && !reconnected && rc->c == NULL &&
		    rc->retry_at <= redis_now()) {
			/* the server closed this thread's old connection (a
			 * restart): nothing was written yet, so reconnect
			 * and start over once, instead of failing the call */
			reconnected = true;
			continue;
		}
		if (rv != SCOPE_OK)
			return rv;
		memcpy(out, in, sizeof(in[0]) * nkeys);
		if ((rv = fn(arg, in, out, nkeys)) < 0) {
			redis_simple(rc, 1, &unwatch, NULL);
			return rv;
		}
		rv = redis_write(rc, keys, nkeys, out, ttl_s, &conflict);
		if (rv != SCOPE_OK || !conflict)
			return rv;
	}
	glstore_set_error("redis %s: conflict: other writers changed the "
	    "keys %d times in a row", st->where, REDIS_RMW_RETRIES + 1);
	return SCOPE_EIO;
}

/* redis_get - GET; SCOPE_ENOENT (present false) when absent */
static int
redis_get(struct glstore *s, const char *key, struct glstore_val *out)
{
	const char *argv[2] = { "GET", key };
	struct redis_conn *rc;
	redisReply *r;
	int rv;

	out->present = false;
	out->len = 0;
	if ((rv = redis_key_ok(key)) != SCOPE_OK ||
	    (rv = redis_conn(s->impl, &rc)) != SCOPE_OK)
		return rv;
	if ((r = redisCommandArgv(rc->c, 2, argv, NULL)) == NULL)
		return redis_io_fail(rc, "GET");
	if (r->type == REDIS_REPLY_NIL)
		rv = SCOPE_ENOENT;
	else if (r->type != REDIS_REPLY_STRING)
		return redis_reply_fail(rc, r, "GET");
	else if (r->len > GLSTORE_VAL_MAX) {
		glstore_set_error("redis: stored value over %d bytes",
		    GLSTORE_VAL_MAX);
		rv = SCOPE_ETOOBIG;
	} else {
		out->present = true;
		out->len = r->len;
		memcpy(out->data, r->str, r->len);
	}
	freeReplyObject(r);
	return rv;
}

/* redis_put - SET key val [EX ttl] */
static int
redis_put(struct glstore *s, const char *key, const char *val, size_t len,
    int64_t ttl_s)
{
	const char *argv[5];
	struct redis_conn *rc;
	size_t lens[5];
	char ttl[24];
	int argc, rv;

	if ((rv = redis_key_ok(key)) != SCOPE_OK ||
	    (rv = redis_conn(s->impl, &rc)) != SCOPE_OK)
		return rv;
	argc = redis_set_argv(argv, lens, key, val, len, ttl_s, ttl,
	    sizeof(ttl));
	return redis_simple(rc, argc, argv, lens);
}

/* redis_del - DEL; SCOPE_ENOENT when absent */
static int
redis_del(struct glstore *s, const char *key)
{
	const char *argv[2] = { "DEL", key };
	struct redis_conn *rc;
	redisReply *r;
	int rv;

	if ((rv = redis_key_ok(key)) != SCOPE_OK ||
	    (rv = redis_conn(s->impl, &rc)) != SCOPE_OK)
		return rv;
	if ((r = redisCommandArgv(rc->c, 2, argv, NULL)) == NULL)
		return redis_io_fail(rc, "DEL");
	if (r->type != REDIS_REPLY_INTEGER)
		return redis_reply_fail(rc, r, "DEL");
	rv = r->integer > 0 ? SCOPE_OK : SCOPE_ENOENT;
	freeReplyObject(r);
	return rv;
}

/* redis_pattern - prefix with glob characters escaped, then "*" */
static void
redis_pattern(const char *prefix, char *out)
{
	size_t n = 0;

	for (; *prefix != '\0'; prefix++) {
		if (strchr("*?[]\\", *prefix) != NULL)
			out[n++] = '\\';
		out[n++] = *prefix;
	}
	out[n++] = '*';
	out[n] = '\0';
}

/* redis_sweep - compare-and-delete the marked keys of one batch (keys
 * from the SCAN reply, values from the MGET reply) */
static int
redis_sweep(struct redis_conn *rc, const redisReply *keys,
    const redisReply *vals, const bool *del, size_t n)
{
	const char **argv;
	size_t *lens, i, nd = 0, argc;
	redisReply *r;
	char num[24];
	int rv = SCOPE_OK;

	for (i = 0; i < n; i++)
		nd += del[i];
	if (nd == 0)
		return SCOPE_OK;
	argv = calloc(3 + 2 * nd, sizeof(*argv));
	lens = calloc(3 + 2 * nd, sizeof(*lens));
	if (argv == NULL || lens == NULL) {
		free(argv);
		free(lens);
		return SCOPE_ENOMEM;
	}
	snprintf(num, sizeof(num), "%zu", nd);
	argv[0] = "EVAL";
	lens[0] = 4;
	argv[1] = redis_cad_script;
	lens[1] = sizeof(redis_cad_script) - 1;
	argv[2] = num;
	lens[2] = strlen(num);
	for (i = 0, argc = 3; i < n; i++) {
		if (!del[i])
			continue;
		argv[argc] = keys->element[i]->str;
		lens[argc] = keys->element[i]->len;
		argv[argc + nd] = vals->element[i]->str;
		lens[argc + nd] = vals->element[i]->len;
		argc++;
	}
	r = redisCommandArgv(rc->c, (int)(3 + 2 * nd), argv, lens);
	if (r == NULL)
		rv = redis_io_fail(rc, "EVAL");
	else if (r->type != REDIS_REPLY_INTEGER)
		rv = redis_reply_fail(rc, r, "EVAL");
	else
		freeReplyObject(r);
	free(argv);
	free(lens);
	return rv;
}

/* redis_mget - MGET the keys of a SCAN reply */
static int
redis_mget(struct redis_conn *rc, const redisReply *keys, redisReply **out)
{
	const char **argv = calloc(keys->elements + 1, sizeof(*argv));
	size_t *lens = calloc(keys->elements + 1, sizeof(*lens));
	redisReply *r;
	size_t i;

	*out = NULL;
	if (argv == NULL || lens == NULL) {
		free(argv);
		free(lens);
		return SCOPE_ENOMEM;
	}
	argv[0] = "MGET";
	lens[0] = 4;
	for (i = 0; i < keys->elements; i++) {
		argv[i + 1] = keys->element[i]->str;
		lens[i + 1] = keys->element[i]->len;
	}
	r = redisCommandArgv(rc->c, (int)keys->elements + 1, argv, lens);
	free(argv);
	free(lens);
	if (r == NULL)
		return redis_io_fail(rc, "MGET");
	if (r->type != REDIS_REPLY_ARRAY || r->elements != keys->elements)
		return redis_reply_fail(rc, r, "MGET");
	*out = r;
	return SCOPE_OK;
}

/* redis_visit_batch - MGET one SCAN batch, call fn, sweep; *stop gets
 * fn's negative code */
static int
redis_visit_batch(struct redis_conn *rc, const redisReply *keys,
    glstore_visit_fn fn, void *arg, int *stop)
{
	redisReply *vals;
	bool *del;
	size_t i;
	int rv;

	for (i = 0; i < keys->elements; i++)
		if (keys->element[i]->type != REDIS_REPLY_STRING)
			return redis_reply_fail(rc, NULL, "SCAN");
	if (keys->elements == 0)
		return SCOPE_OK;
	if ((del = calloc(keys->elements, sizeof(*del))) == NULL)
		return SCOPE_ENOMEM;
	if ((rv = redis_mget(rc, keys, &vals)) != SCOPE_OK) {
		free(del);
		return rv;
	}
	for (i = 0; i < keys->elements && *stop >= 0; i++) {
		const redisReply *k = keys->element[i], *v = vals->element[i];
		bool big = v->len > GLSTORE_VAL_MAX;

		if (v->type != REDIS_REPLY_STRING || k->len >= GLSTORE_KEY_MAX ||
		    strlen(k->str) != k->len)
			continue;	/* gone since, or not one of ours */
		*stop = fn(arg, k->str, big ? "" : v->str, big ? 0 : v->len);
		del[i] = *stop == 1;
	}
	rv = redis_sweep(rc, keys, vals, del, i);
	freeReplyObject(vals);
	free(del);
	return rv;
}

/* redis_visit - SCAN MATCH prefix*, a batch at a time */
static int
redis_visit(struct glstore *s, const char *prefix, glstore_visit_fn fn,
    void *arg)
{
	char pattern[2 * GLSTORE_KEY_MAX + 2], cursor[32] = "0", count[16];
	const char *argv[6] = { "SCAN", cursor, "MATCH", pattern, "COUNT",
	    count };
	struct redis_conn *rc;
	redisReply *r;
	int rv, stop = 0;

	if (strlen(prefix) >= GLSTORE_KEY_MAX)
		return SCOPE_EINVAL;
	redis_pattern(prefix, pattern);
	snprintf(count, sizeof(count), "%d", REDIS_BATCH);
	if ((rv = redis_conn(s->impl, &rc)) != SCOPE_OK)
		return rv;
	do {
		if ((r = redisCommandArgv(rc->c, 6, argv, NULL)) == NULL)
			return redis_io_fail(rc, "SCAN");
		if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
		    r->element[0]->type != REDIS_REPLY_STRING ||
		    r->element[0]->len >= sizeof(cursor) ||
		    r->element[1]->type != REDIS_REPLY_ARRAY)
			return redis_reply_fail(rc, r, "SCAN");
		memcpy(cursor, r->element[0]->str, r->element[0]->len + 1);
		rv = redis_visit_batch(rc, r->element[1], fn, arg, &stop);
		freeReplyObject(r);
		if (rv != SCOPE_OK)
			return rv;
	} while (stop >= 0 && strcmp(cursor, "0") != 0);
	return stop < 0 ? stop : SCOPE_OK;
}

/* redis_close - close every thread's connection and the key */
static void
redis_close(struct glstore *s)
{
	struct redis_store *st = s->impl;
	struct redis_conn *rc, *next;

	pthread_key_delete(st->key);
	for (rc = st->conns; rc != NULL; rc = next) {
		next = rc->next;
		redis_drop(rc, 0);
		free(rc);
	}
	pthread_mutex_destroy(&st->lock);
	free(st);
	s->impl = NULL;
}

static const struct glstore_ops redis_ops = {
	"redis", redis_rmw, redis_get, redis_put, redis_del, redis_visit,
	redis_close
};

/* redis_parse_db - an optional "/DB" at end (cut off); SCOPE_EINVAL */
static int
redis_parse_db(char *spec, bool digits_only, long *db)
{
	char *slash = strrchr(spec, '/');

	*db = 0;
	if (slash == NULL || slash == spec)
		return SCOPE_OK;
	if (digits_only && (slash[1] == '\0' ||
	    strspn(slash + 1, "0123456789") != strlen(slash + 1)))
		return SCOPE_OK;	/* part of a socket path */
	if (text_parse_long(slash + 1, 10, 0, REDIS_DB_MAX, db) != SCOPE_OK)
		return SCOPE_EINVAL;
	*slash = '\0';
	return SCOPE_OK;
}

/* redis_parse - "host:port[/db]", "[v6]:port[/db]", "unix:/path[/db]" */
static int
redis_parse(struct redis_store *st, const char *spec, char *err,
    size_t errsz)
{
	char buf[300], *host = buf, *colon;
	bool v6;
	long port;

	if (strlen(spec) >= sizeof(buf))
		goto bad;
	memcpy(buf, spec, strlen(spec) + 1);
	if (strncmp(buf, "unix:", 5) == 0) {
		st->is_unix = true;
		if (buf[5] != '/' || redis_parse_db(buf + 5, true, &st->db) !=
		    SCOPE_OK || strlen(buf + 5) >=
		    sizeof(((struct sockaddr_un *)0)->sun_path))
			goto bad;
		memcpy(st->host, buf + 5, strlen(buf + 5) + 1);
		snprintf(st->where, sizeof(st->where), "unix:%s", st->host);
		return SCOPE_OK;
	}
	if (redis_parse_db(buf, false, &st->db) != SCOPE_OK)
		goto bad;
	if (buf[0] == '[') {
		host = buf + 1;
		if ((colon = strchr(host, ']')) == NULL || colon[1] != ':')
			goto bad;
		*colon++ = '\0';
	} else if ((colon = strchr(buf, ':')) == NULL ||
	    strchr(colon + 1, ':') != NULL)
		goto bad;
	*colon = '\0';
	if (host[0] == '\0' || strlen(host) >= sizeof(st->host) ||
	    text_parse_long(colon + 1, 10, 1, 65535, &port) != SCOPE_OK)
		goto bad;
	memcpy(st->host, host, strlen(host) + 1);
	st->port = (int)port;
	v6 = strchr(host, ':') != NULL;
	snprintf(st->where, sizeof(st->where), "%s%s%s:%d", v6 ? "[" : "",
	    st->host, v6 ? "]" : "", st->port);
	return SCOPE_OK;
bad:
	snprintf(err, errsz, "redis:%s: expected redis:HOST:PORT[/DB], "
	    "redis:[IPV6]:PORT[/DB] or redis:unix:/PATH[/DB]", spec);
	return SCOPE_EINVAL;
}

/* glstore_redis_open - parse the spec; connects lazily, per thread */
int
glstore_redis_open(struct glstore *s, const char *spec, long timeout_ms,
    char *err, size_t errsz)
{
	struct redis_store *st = calloc(1, sizeof(*st));
	int rc;

	if (st == NULL) {
		snprintf(err, errsz, "out of memory");
		return SCOPE_ENOMEM;
	}
	if ((rc = redis_parse(st, spec, err, errsz)) != SCOPE_OK) {
		free(st);
		return rc;
	}
	st->timeout_ms = timeout_ms > 0 ? timeout_ms : 1000;
	st->tv.tv_sec = st->timeout_ms / 1000;
	st->tv.tv_usec = (st->timeout_ms % 1000) * 1000;
	if (pthread_key_create(&st->key, redis_conn_free) != 0) {
		free(st);
		snprintf(err, errsz, "out of thread keys");
		return SCOPE_ENOMEM;
	}
	pthread_mutex_init(&st->lock, NULL);
	s->ops = &redis_ops;
	s->impl = st;
	return SCOPE_OK;
}

/* glstore_redis_spec_check - the spec parses; nothing is opened */
int
glstore_redis_spec_check(const char *spec, char *err, size_t errsz)
{
	struct redis_store st;

	memset(&st, 0, sizeof(st));
	return redis_parse(&st, spec, err, errsz);
}
