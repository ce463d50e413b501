/*
 * glstore_mem.c - the in-memory greylisting store ("mem:"), for tests and
 * for trying the greylist out without a database.
 *
 * A chained hash table (FNV-1a) behind one mutex: every operation, and
 * the whole of a glstore_rmw() including the caller's function, runs
 * under it, so rmw is atomic against every other thread of the process.
 * Nothing is shared between processes or survives glstore_close().
 * TTLs are honoured against time(NULL): an entry past its time reads as
 * absent and is freed when next met. glstore_visit() snapshots the
 * matching keys, then visits them in key order one at a time with the
 * mutex released while the visitor runs (it may call the store); an
 * entry the visitor marks is deleted unless it changed in between.
 * Owns: every key and value it holds; glstore_close() frees them.
 * Fails: SCOPE_ENOMEM, SCOPE_ETOOBIG (key, value or GLSTORE_MEM_MAX
 * entries), SCOPE_EINVAL, with a reason in glstore_error().
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "errors.h"
#include "greylist/glstore_internal.h"

#define GLSTORE_MEM_MAX		(1UL << 22)	/* entries */
#define GLSTORE_MEM_BUCKETS	64		/* initial, a power of 2 */

struct mem_entry {
	struct mem_entry *next;
	int64_t expires;		/* unix seconds, 0 never */
	size_t len;
	char *key;
	char val[GLSTORE_VAL_MAX];
};

struct mem_store {
	pthread_mutex_t lock;
	struct mem_entry **bucket;
	size_t nbucket;			/* a power of 2 */
	size_t count;
};

/* mem_hash - FNV-1a of a key */
static size_t
mem_hash(const char *key)
{
	uint64_t h = UINT64_C(14695981039346656037);

	for (; *key != '\0'; key++) {
		h ^= (unsigned char)*key;
		h *= UINT64_C(1099511628211);
	}
	return (size_t)h;
}

/* mem_check_key - non-empty and under GLSTORE_KEY_MAX with its NUL */
static int
mem_check_key(const char *key)
{
	if (key == NULL || key[0] == '\0' ||
	    strnlen(key, GLSTORE_KEY_MAX) >= GLSTORE_KEY_MAX) {
		glstore_set_error("mem: empty or over-long key");
		return SCOPE_EINVAL;
	}
	return SCOPE_OK;
}

/* mem_unlink - remove the entry *pp points to */
static void
mem_unlink(struct mem_store *m, struct mem_entry **pp)
{
	struct mem_entry *e = *pp;

	*pp = e->next;
	free(e->key);
	free(e);
	m->count--;
}

/* mem_find - the link to a live entry, or NULL; drops an expired one */
static struct mem_entry **
mem_find(struct mem_store *m, const char *key, int64_t now)
{
	struct mem_entry **pp = &m->bucket[mem_hash(key) & (m->nbucket - 1)];

	for (; *pp != NULL; pp = &(*pp)->next) {
		if (strcmp((*pp)->key, key) != 0)
			continue;
		if ((*pp)->expires != 0 && (*pp)->expires <= now) {
			mem_unlink(m, pp);
			return NULL;
		}
		return pp;
	}
	return NULL;
}

/* mem_grow - double the buckets when the chains get long */
static void
mem_grow(struct mem_store *m)
{
	struct mem_entry **nb, *e, *next;
	size_t n = m->nbucket * 2, i, h;

	if (m->count < m->nbucket * 2)
		return;
	nb = calloc(n, sizeof(*nb));
	if (nb == NULL)
		return;			/* longer chains, still correct */
	for (i = 0; i < m->nbucket; i++)
		for (e = m->bucket[i]; e != NULL; e = next) {
			next = e->next;
			h = mem_hash(e->key) & (n - 1);
			e->next = nb[h];
			nb[h] = e;
		}
	free(m->bucket);
	m->bucket = nb;
	m->nbucket = n;
}

/* mem_set - create or replace an entry (lock held) */
static int
mem_set(struct mem_store *m, const char *key, const char *val, size_t len,
    int64_t ttl_s, int64_t now)
{
	struct mem_entry **pp = mem_find(m, key, now), *e;
	size_t h;

	if (len > GLSTORE_VAL_MAX) {
		glstore_set_error("mem: value of %zu bytes", len);
		return SCOPE_ETOOBIG;
	}
	if (pp != NULL) {
		e = *pp;
	} else {
		if (m->count >= GLSTORE_MEM_MAX) {
			glstore_set_error("mem: store full");
			return SCOPE_ETOOBIG;
		}
		e = calloc(1, sizeof(*e));
		if (e == NULL || (e->key = strdup(key)) == NULL) {
			free(e);
			glstore_set_error("mem: out of memory");
			return SCOPE_ENOMEM;
		}
		h = mem_hash(key) & (m->nbucket - 1);
		e->next = m->bucket[h];
		m->bucket[h] = e;
		m->count++;
		mem_grow(m);
	}
	memcpy(e->val, val, len);
	e->len = len;
	e->expires = ttl_s > 0 ? now + ttl_s : 0;
	return SCOPE_OK;
}

/* mem_rmw - read, decide and write under the mutex */
static int
mem_rmw(struct glstore *s, const char *const *keys, unsigned nkeys,
    int64_t ttl_s, glstore_fn fn, void *arg)
{
	struct mem_store *m = s->impl;
	struct glstore_val *in, *out;
	struct mem_entry **pp;
	int64_t now = (int64_t)time(NULL);
	unsigned i;
	int rc = SCOPE_OK;

	for (i = 0; i < nkeys; i++)
		if ((rc = mem_check_key(keys[i])) != 0)
			return rc;
	in = calloc(2 * (size_t)nkeys, sizeof(*in));
	if (in == NULL) {
		glstore_set_error("mem: out of memory");
		return SCOPE_ENOMEM;
	}
	out = in + nkeys;
	pthread_mutex_lock(&m->lock);
	for (i = 0; i < nkeys; i++) {
		pp = mem_find(m, keys[i], now);
		if (pp != NULL) {
			in[i].present = true;
			in[i].len = (*pp)->len;
			memcpy(in[i].data, (*pp)->val, (*pp)->len);
		}
		out[i] = in[i];
	}
	rc = fn(arg, in, out, nkeys);
	for (i = 0; rc == SCOPE_OK && i < nkeys; i++)
		if (out[i].present)
			rc = mem_set(m, keys[i], out[i].data, out[i].len,
			    out[i].ttl_s > 0 ? out[i].ttl_s : ttl_s, now);
	pthread_mutex_unlock(&m->lock);
	free(in);
	return rc;
}

/* mem_get - one key; SCOPE_ENOENT when absent (out->present false) */
static int
mem_get(struct glstore *s, const char *key, struct glstore_val *out)
{
	struct mem_store *m = s->impl;
	struct mem_entry **pp;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = mem_check_key(key)) != 0)
		return rc;
	pthread_mutex_lock(&m->lock);
	pp = mem_find(m, key, (int64_t)time(NULL));
	if (pp != NULL) {
		out->present = true;
		out->len = (*pp)->len;
		memcpy(out->data, (*pp)->val, (*pp)->len);
	}
	pthread_mutex_unlock(&m->lock);
	return pp != NULL ? SCOPE_OK : SCOPE_ENOENT;
}

/* mem_put - one key */
static int
mem_put(struct glstore *s, const char *key, const char *val, size_t len,
    int64_t ttl_s)
{
	struct mem_store *m = s->impl;
	int rc;

	if ((rc = mem_check_key(key)) != 0)
		return rc;
	pthread_mutex_lock(&m->lock);
	rc = mem_set(m, key, val, len, ttl_s, (int64_t)time(NULL));
	pthread_mutex_unlock(&m->lock);
	return rc;
}

/* mem_del - one key; SCOPE_ENOENT when absent */
static int
mem_del(struct glstore *s, const char *key)
{
	struct mem_store *m = s->impl;
	struct mem_entry **pp;
	int rc;

	if ((rc = mem_check_key(key)) != 0)
		return rc;
	pthread_mutex_lock(&m->lock);
	pp = mem_find(m, key, (int64_t)time(NULL));
	if (pp != NULL)
		mem_unlink(m, pp);
	pthread_mutex_unlock(&m->lock);
	return pp != NULL ? SCOPE_OK : SCOPE_ENOENT;
}

/* mem_strcmp - char * for qsort */
static int
mem_strcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* mem_snapshot - the keys starting with prefix, sorted; caller frees */
static int
mem_snapshot(struct mem_store *m, const char *prefix, char ***keys,
    size_t *nkeys)
{
	struct mem_entry *e;
	size_t i, n = 0, plen = strlen(prefix);
	char **k;
	int rc = SCOPE_OK;

	pthread_mutex_lock(&m->lock);
	k = calloc(m->count + 1, sizeof(*k));
	for (i = 0; k != NULL && rc == SCOPE_OK && i < m->nbucket; i++)
		for (e = m->bucket[i]; e != NULL && rc == SCOPE_OK; e = e->next)
			if (strncmp(e->key, prefix, plen) == 0 &&
			    (k[n] = strdup(e->key)) != NULL)
				n++;
			else if (strncmp(e->key, prefix, plen) == 0)
				rc = SCOPE_ENOMEM;
	pthread_mutex_unlock(&m->lock);
	if (k == NULL || rc != SCOPE_OK) {
		for (i = 0; k != NULL && i < n; i++)
			free(k[i]);
		free(k);
		glstore_set_error("mem: out of memory");
		return SCOPE_ENOMEM;
	}
	qsort(k, n, sizeof(*k), mem_strcmp);
	*keys = k;
	*nkeys = n;
	return SCOPE_OK;
}

/* mem_visit - every live entry under prefix, in key order; the visitor
 * sees a NUL-terminated copy */
static int
mem_visit(struct glstore *s, const char *prefix, glstore_visit_fn fn,
    void *arg)
{
	struct mem_store *m = s->impl;
	struct glstore_val *v;
	struct mem_entry **pp;
	char **keys, *buf;
	size_t nkeys, i;
	int rc, vr;

	rc = mem_snapshot(m, prefix, &keys, &nkeys);
	if (rc != SCOPE_OK)
		return rc;
	v = malloc(sizeof(*v));
	buf = malloc(GLSTORE_VAL_MAX + 1);
	if (v == NULL || buf == NULL) {
		glstore_set_error("mem: out of memory");
		rc = SCOPE_ENOMEM;
	}
	for (i = 0; rc == SCOPE_OK && i < nkeys; i++) {
		if (mem_get(s, keys[i], v) != SCOPE_OK)
			continue;		/* gone meanwhile */
		memcpy(buf, v->data, v->len);
		buf[v->len] = '\0';
		vr = fn(arg, keys[i], buf, v->len);
		if (vr < 0) {
			rc = vr;
			break;
		}
		if (vr != 1)
			continue;
		pthread_mutex_lock(&m->lock);
		pp = mem_find(m, keys[i], (int64_t)time(NULL));
		if (pp != NULL && (*pp)->len == v->len &&
		    memcmp((*pp)->val, v->data, v->len) == 0)
			mem_unlink(m, pp);
		pthread_mutex_unlock(&m->lock);
	}
	for (i = 0; i < nkeys; i++)
		free(keys[i]);
	free(keys);
	free(v);
	free(buf);
	return rc;
}

/* mem_close - free every entry and the table */
static void
mem_close(struct glstore *s)
{
	struct mem_store *m = s->impl;
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nbucket; i++)
		while (m->bucket[i] != NULL)
			mem_unlink(m, &m->bucket[i]);
	free(m->bucket);
	pthread_mutex_destroy(&m->lock);
	free(m);
	s->impl = NULL;
}

static const struct glstore_ops mem_ops = {
	"mem", mem_rmw, mem_get, mem_put, mem_del, mem_visit, mem_close
};

/* glstore_mem_open - an empty store */
int
glstore_mem_open(struct glstore *s, char *err, size_t errsz)
{
	struct mem_store *m = calloc(1, sizeof(*m));

	if (m != NULL)
		m->bucket = calloc(GLSTORE_MEM_BUCKETS, sizeof(*m->bucket));
	if (m == NULL || m->bucket == NULL ||
	    pthread_mutex_init(&m->lock, NULL) != 0) {
		if (m != NULL)
			free(m->bucket);
		free(m);
		snprintf(err, errsz, "out of memory");
		return SCOPE_ENOMEM;
	}
	m->nbucket = GLSTORE_MEM_BUCKETS;
	s->ops = &mem_ops;
	s->impl = m;
	return SCOPE_OK;
}
