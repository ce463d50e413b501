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

struct glstore;

/* glstore_open - by spec ("lmdb:/path", "redis:host:port/db", "mem:");
 * timeout_ms bounds each Redis call; err gets a reason */
int glstore_open(struct glstore **out, const char *spec, long timeout_ms,
    char *err, size_t errsz);
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
