/*
 * glstore.h - the greylisting state store: a small key-value interface
 * with an atomic read-modify-write over a few keys.
 *
 * Two back ends sit behind it:
 *   lmdb:/path/to/file        an embedded LMDB file (default): one file,
 *                             crash-safe, shared by all threads and by
 *                             every process that opens the same file;
 *   redis:HOST:PORT[/DB]      a Redis server (hiredis), so that several
 *   redis:unix:/path[/DB]     MX hosts share one state; atomic with
 *                             WATCH/MULTI/EXEC, entries expire by TTL.
 * and an in-memory one for tests (mem:).
 *
 * Values are short byte strings (the greylist codec's text, at most
 * GLSTORE_VAL_MAX bytes). glstore_rmw() reads every key, hands the values
 * to a function that decides the new ones, and writes them back, all as
 * one atomic step against every other user of the store (LMDB: one write
 * transaction; Redis: WATCH the keys, MGET, MULTI SET... EXEC, retried a
 * few times when another writer got in between). The function may be
 * called more than once (after a conflict) and must not keep state.
 *
 * Thread safety: one struct glstore is shared by all threads (LMDB: one
 * environment; Redis: one connection per thread, made on first use).
 * Failures (store down, disk full, timeout) return SCOPE_EIO with a
 * reason in glstore_error(); the caller fails open.
 *
 * A full store: an LMDB map grows (doubling) when it fills, up to
 * opts.map_max (GreylistMaxSize); a Redis server at its maxmemory
 * answers OOM. Either way glstore_rmw() and glstore_put() then return
 * SCOPE_ENOSPC. The store counts such failures and tells the notify
 * hook once when an episode starts (the first SCOPE_ENOSPC) and once
 * when it ends (a write that succeeds a minute after the last failure,
 * clock_mono), from the calling thread.
 */
#ifndef SMTPSCOPE_GLSTORE_H
#define SMTPSCOPE_GLSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GLSTORE_KEY_MAX		512	/* bytes of a key, with its NUL */
#define GLSTORE_VAL_MAX		1024	/* bytes of a value */
#define GLSTORE_RMW_KEYS	4	/* keys one glstore_rmw() may touch */

struct glstore_val {
	bool present;			/* in: the key exists; out: write it */
	size_t len;
	int64_t ttl_s;			/* out: seconds to live of this key
					 * (Redis, mem), 0: the call's ttl_s */
	char data[GLSTORE_VAL_MAX];
};

/* the decision inside a read-modify-write: in[i] for keys[i] as read,
 * out[i] starts as a copy of in[i]; set out[i].present to write it (a
 * value of len 0 with present false leaves the key alone); return 0, or
 * a negative code to write nothing */
typedef int (*glstore_fn)(void *arg, const struct glstore_val *in,
    struct glstore_val *out, unsigned nkeys);

/* visiting entries: return 0 to go on, 1 to delete this entry and go
 * on, a negative code to stop */
typedef int (*glstore_visit_fn)(void *arg, const char *key,
    const char *val, size_t len);

/* a full-store episode began (full) or ended (!full, failed: the calls
 * refused while it lasted); reason: the store's words */
typedef void (*glstore_notify_fn)(void *arg, bool full,
    unsigned long failed, const char *reason);

struct glstore;

#define GLSTORE_MAP_DEFAULT	((size_t)1 << 30)	/* LMDB's first map */
#define GLSTORE_MAP_MAX		((size_t)4 << 30)	/* GreylistMaxSize */

struct glstore_opts {
	long timeout_ms;		/* each Redis call */
	size_t map_max;			/* LMDB map at most (0: GLSTORE_MAP_MAX) */
	size_t map_initial;		/* LMDB map at first (0: the smaller of
					 * GLSTORE_MAP_DEFAULT and map_max) */
};

/* glstore_open - by spec ("lmdb:/path", "redis:host:port/db", "mem:");
 * timeout_ms bounds each Redis call; err gets a reason */
int glstore_open(struct glstore **out, const char *spec, long timeout_ms,
    char *err, size_t errsz);
/* glstore_open_opts - the same with every option */
int glstore_open_opts(struct glstore **out, const char *spec,
    const struct glstore_opts *o, char *err, size_t errsz);
/* glstore_spec_check - is spec a usable store, without opening it (for
 * configuration checks): the scheme, a Redis address, an absolute LMDB
 * path that is a regular file if it exists; SCOPE_EINVAL with err */
int glstore_spec_check(const char *spec, char *err, size_t errsz);
/* glstore_set_notify - the hook for full-store episodes (set before the
 * store is shared between threads) */
void glstore_set_notify(struct glstore *s, glstore_notify_fn fn, void *arg);
/* glstore_full - the store's last write failed full; *failed gets the
 * calls refused since the episode began (may be NULL) */
bool glstore_full(struct glstore *s, unsigned long *failed);
void glstore_close(struct glstore *s);

/* glstore_rmw - atomic read-modify-write of nkeys keys; every written key
 * gets ttl_s seconds to live (Redis; LMDB entries are expired by
 * glstore_visit from the caller's codec) */
int glstore_rmw(struct glstore *s, const char *const *keys, unsigned nkeys,
    int64_t ttl_s, glstore_fn fn, void *arg);

/* glstore_get, glstore_put, glstore_del - single keys (administration) */
int glstore_get(struct glstore *s, const char *key, struct glstore_val *out);
int glstore_put(struct glstore *s, const char *key, const char *val,
    size_t len, int64_t ttl_s);
int glstore_del(struct glstore *s, const char *key);

/* glstore_visit - every entry whose key starts with prefix, in batches
 * that never hold the store for long (mail keeps flowing while a large
 * store is listed or expired); entries the visitor marks are deleted */
int glstore_visit(struct glstore *s, const char *prefix,
    glstore_visit_fn fn, void *arg);

/* glstore_error - the last failure's reason on this thread, "" if none */
const char *glstore_error(void);
/* glstore_kind - "lmdb", "redis" or "mem" */
const char *glstore_kind(const struct glstore *s);

#endif
