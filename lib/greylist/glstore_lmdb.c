/*
 * glstore_lmdb.c - the greylisting store in one LMDB file ("lmdb:/path").
 *
 * One environment per process (MDB_NOTLS: transactions may move between
 * the milter's pool threads), one file plus its "-lock" file
 * (MDB_NOSUBDIR), both created 0600 for the daemon's user; a symbolic
 * link or anything but a regular file at the path is refused. Several
 * processes may open the same file at once (two daemons on one host,
 * the administration tool beside the daemon): LMDB's lock file
 * serialises writers and tracks readers; stale reader slots left by a
 * crashed process are cleared at open (mdb_reader_check) and again when
 * the reader table is full. The process must not fork after opening
 * (LMDB's rule); open after dropping privileges, or chown both files.
 *
 * Durability: MDB_NOMETASYNC - data pages are flushed at each commit,
 * the meta page is not, so a system crash (not a process crash) may lose
 * the last committed transactions but never corrupts the file.
 *
 * glstore_rmw() is one write transaction (get, fn, put, commit); fn
 * failing aborts it. TTLs are ignored: the caller expires entries with
 * glstore_visit(), which works in batches of LMDB_BATCH entries (one
 * short read transaction each, resuming after the last key seen, then
 * one write transaction for the batch's deletions), so a large store
 * never holds up writers. A batch's entry is deleted only if its value
 * is still the one the visitor saw (a fresh write in between wins).
 *
 * The map starts at opts.map_initial bytes (default: the smaller of
 * GLSTORE_MAP_DEFAULT and map_max; or what the file already records, if
 * more). A write transaction that fills it (MDB_MAP_FULL) is aborted,
 * the map doubles (lmdb_grow: mdb_env_set_mapsize under the exclusive
 * resize lock, so no transaction of this process is live) up to
 * map_max (GreylistMaxSize), and the transaction runs again; at map_max
 * it fails SCOPE_ENOSPC "store full". Deletions (expiry) may grow the
 * map by a further map_max / 16, so a full store can still be expired.
 * If another process grows the map, this one adopts the new size at
 * its next transaction (MDB_MAP_RESIZED) or when it fills.
 *
 * Failures return SCOPE_EIO (or SCOPE_EINVAL for bad keys) with a reason
 * in glstore_error(). Owns: the environment, its path copy.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <lmdb.h>

#include "errors.h"
#include "greylist/glstore_internal.h"

#define LMDB_MAXREADERS	512	/* concurrent read transactions, all processes */
#define LMDB_BATCH	1000	/* entries per glstore_visit() batch */

struct lmdb_store {
	MDB_env *env;
	MDB_dbi dbi;
	size_t map_max;			/* inserts grow the map up to this */
	/* held shared around every transaction, exclusive to adopt a map
	 * grown by another process (mdb_env_set_mapsize needs no live
	 * transaction in this process) */
	pthread_rwlock_t resize;
};

/* one entry copied out of a read transaction during a visit */
struct lmdb_item {
	char key[GLSTORE_KEY_MAX];
	size_t klen;
	char val[GLSTORE_VAL_MAX + 1];
	size_t vlen;
	bool oversize;		/* the stored value exceeds GLSTORE_VAL_MAX */
	bool del;
};

/* lmdb_mapsize - this process's current map size */
static size_t
lmdb_mapsize(struct lmdb_store *st)
{
	MDB_envinfo info;

	return mdb_env_info(st->env, &info) == 0 ? info.me_mapsize : 0;
}

/* a size in MiB, or in KiB under 1 MiB (small test maps) */
#define LMDB_SIZE(b)	((b) >= ((size_t)1 << 20) ? (b) >> 20 : (b) >> 10)
#define LMDB_UNIT(b)	((b) >= ((size_t)1 << 20) ? "MiB" : "KiB")

/* lmdb_fail - record an LMDB failure; SCOPE_EIO, or SCOPE_ENOSPC for a
 * map that is full at its maximum */
static int
lmdb_fail(struct lmdb_store *st, const char *what, int rc)
{
	size_t map = lmdb_mapsize(st);

	if (rc == MDB_MAP_FULL) {
		glstore_set_error("lmdb %s: store full (map %zu %s, "
		    "GreylistMaxSize %zu %s)", what, LMDB_SIZE(map),
		    LMDB_UNIT(map), LMDB_SIZE(st->map_max),
		    LMDB_UNIT(st->map_max));
		return SCOPE_ENOSPC;
	}
	glstore_set_error("lmdb %s: %s", what, mdb_strerror(rc));
	return SCOPE_EIO;
}

/* lmdb_key - check a key and point an MDB_val at it */
static int
lmdb_key(const char *key, MDB_val *k)
{
	size_t len = strlen(key);

	if (len == 0 || len >= GLSTORE_KEY_MAX) {
		glstore_set_error("lmdb: key empty or over %d bytes",
		    GLSTORE_KEY_MAX - 1);
		return SCOPE_EINVAL;
	}
	k->mv_size = len;
	k->mv_data = (void *)key;
	return SCOPE_OK;
}

/* lmdb_begin - a transaction under the shared resize lock; on success
 * the caller ends it and then calls lmdb_end() */
static int
lmdb_begin(struct lmdb_store *st, unsigned flags, MDB_txn **txn)
{
	int rc;

	pthread_rwlock_rdlock(&st->resize);
	rc = mdb_txn_begin(st->env, NULL, flags, txn);
	if (rc == MDB_READERS_FULL) {
		/* slots of crashed processes: free them, try once more */
		mdb_reader_check(st->env, NULL);
		rc = mdb_txn_begin(st->env, NULL, flags, txn);
	}
	if (rc == MDB_MAP_RESIZED) {
		/* another process grew the map: adopt its size */
		pthread_rwlock_unlock(&st->resize);
		pthread_rwlock_wrlock(&st->resize);
		rc = mdb_env_set_mapsize(st->env, 0);
		pthread_rwlock_unlock(&st->resize);
		pthread_rwlock_rdlock(&st->resize);
		if (rc == 0)
			rc = mdb_txn_begin(st->env, NULL, flags, txn);
	}
	if (rc != 0) {
		pthread_rwlock_unlock(&st->resize);
		return lmdb_fail(st, "begin", rc);
	}
	return SCOPE_OK;
}

/* lmdb_end - release what lmdb_begin() took */
static void
lmdb_end(struct lmdb_store *st)
{
	pthread_rwlock_unlock(&st->resize);
}

/* lmdb_abort - abort and release */
static void
lmdb_abort(struct lmdb_store *st, MDB_txn *txn)
{
	mdb_txn_abort(txn);
	lmdb_end(st);
}

/* lmdb_grow - after MDB_MAP_FULL at map size seen: double the map up
 * to limit, unless another thread did already; SCOPE_OK when the map is
 * now larger than seen. (Not mdb_env_set_mapsize(env, 0): that adopts
 * the size in the file, which may be smaller than ours while no commit
 * has recorded our growth yet. A larger size another process set comes
 * with MDB_MAP_RESIZED in lmdb_begin, or by doubling here.) */
static int
lmdb_grow(struct lmdb_store *st, size_t seen, size_t limit)
{
	size_t now, want;
	int rc = 0;

	pthread_rwlock_wrlock(&st->resize);
	now = lmdb_mapsize(st);
	if (now <= seen && seen < limit) {
		want = seen > limit / 2 ? limit : seen * 2;
		rc = mdb_env_set_mapsize(st->env, want);
		now = lmdb_mapsize(st);
	}
	pthread_rwlock_unlock(&st->resize);
	return rc == 0 && now > seen ? SCOPE_OK : SCOPE_ENOSPC;
}

/* a write transaction's work (lmdb_write): 0 to commit, an LMDB code
 * (what says where it failed), or LMDB_BODY_FAILED with the SCOPE code
 * in scope_rc */
#define LMDB_BODY_FAILED	1
struct lmdb_work {
	int (*body)(struct lmdb_store *st, MDB_txn *txn, void *arg,
	    struct lmdb_work *w);
	void *arg;
	const char *what;		/* the LMDB call that failed */
	int scope_rc;
};

/* lmdb_write - run w->body in a write transaction and commit; a full
 * map grows (up to limit) and the work runs again from the start */
static int
lmdb_write(struct lmdb_store *st, struct lmdb_work *w, size_t limit)
{
	MDB_txn *txn;
	size_t seen;
	int rc;

	for (;;) {
		if ((rc = lmdb_begin(st, 0, &txn)) != SCOPE_OK)
			return rc;
		w->what = "put";
		rc = w->body(st, txn, w->arg, w);
		if (rc == 0) {
			w->what = "commit";
			rc = mdb_txn_commit(txn);
		} else {
			mdb_txn_abort(txn);
		}
		seen = lmdb_mapsize(st);	/* still under the shared lock */
		lmdb_end(st);
		if (rc == 0)
			return SCOPE_OK;
		if (rc == LMDB_BODY_FAILED)
			return w->scope_rc;
		if (rc != MDB_MAP_FULL || lmdb_grow(st, seen, limit) !=
		    SCOPE_OK)
			return lmdb_fail(st, w->what, rc);
	}
}

/* the keys and step of one lmdb_rmw */
struct lmdb_rmw_arg {
	MDB_val k[GLSTORE_RMW_KEYS];
	unsigned nkeys;
	glstore_fn fn;
	void *arg;
};

/* lmdb_rmw_body - get every key, let fn decide, put */
static int
lmdb_rmw_body(struct lmdb_store *st, MDB_txn *txn, void *arg,
    struct lmdb_work *w)
{
	struct lmdb_rmw_arg *a = arg;
	struct glstore_val in[GLSTORE_RMW_KEYS], out[GLSTORE_RMW_KEYS];
	MDB_val v;
	unsigned i;
	int rc;

	for (i = 0; i < a->nkeys; i++) {
		in[i].present = false;
		in[i].len = 0;
		in[i].ttl_s = 0;
		w->what = "get";
		rc = mdb_get(txn, st->dbi, &a->k[i], &v);
		if (rc == MDB_NOTFOUND)
			continue;
		if (rc != 0)
			return rc;
		if (v.mv_size > GLSTORE_VAL_MAX)
			continue;	/* not ours: read as absent, overwritten */
		in[i].present = true;
		in[i].len = v.mv_size;
		memcpy(in[i].data, v.mv_data, v.mv_size);
	}
	memcpy(out, in, sizeof(in[0]) * a->nkeys);
	if ((w->scope_rc = a->fn(a->arg, in, out, a->nkeys)) < 0)
		return LMDB_BODY_FAILED;
	for (i = 0; i < a->nkeys; i++) {
		if (!out[i].present)
			continue;
		if (out[i].len > GLSTORE_VAL_MAX) {
			glstore_set_error("lmdb: value over %d bytes",
			    GLSTORE_VAL_MAX);
			w->scope_rc = SCOPE_ETOOBIG;
			return LMDB_BODY_FAILED;
		}
		v.mv_size = out[i].len;
		v.mv_data = out[i].data;
		w->what = "put";
		if ((rc = mdb_put(txn, st->dbi, &a->k[i], &v, 0)) != 0)
			return rc;
	}
	return 0;
}

/* lmdb_rmw - get every key, let fn decide, put, commit: one write txn
 * (run again, fn too, after the map grew) */
static int
lmdb_rmw(struct glstore *s, const char *const *keys, unsigned nkeys,
    int64_t ttl_s, glstore_fn fn, void *arg)
{
	struct lmdb_store *st = s->impl;
	struct lmdb_rmw_arg a;
	struct lmdb_work w = { lmdb_rmw_body, &a, "put", 0 };
	unsigned i;
	int rc;

	(void)ttl_s;		/* entries expire by glstore_visit() */
	for (i = 0; i < nkeys; i++)
		if ((rc = lmdb_key(keys[i], &a.k[i])) != SCOPE_OK)
			return rc;
	a.nkeys = nkeys;
	a.fn = fn;
	a.arg = arg;
	return lmdb_write(st, &w, st->map_max);
}

/* lmdb_get - one key; SCOPE_ENOENT (present false) when absent */
static int
lmdb_get(struct glstore *s, const char *key, struct glstore_val *out)
{
	struct lmdb_store *st = s->impl;
	MDB_val k, v;
	MDB_txn *txn;
	int rc;

	out->present = false;
	out->len = 0;
	if ((rc = lmdb_key(key, &k)) != SCOPE_OK ||
	    (rc = lmdb_begin(st, MDB_RDONLY, &txn)) != SCOPE_OK)
		return rc;
	rc = mdb_get(txn, st->dbi, &k, &v);
	if (rc == 0 && v.mv_size <= GLSTORE_VAL_MAX) {
		out->present = true;
		out->len = v.mv_size;
		memcpy(out->data, v.mv_data, v.mv_size);
	}
	lmdb_abort(st, txn);
	if (rc == MDB_NOTFOUND)
		return SCOPE_ENOENT;
	if (rc != 0)
		return lmdb_fail(st, "get", rc);
	if (!out->present) {
		glstore_set_error("lmdb: stored value over %d bytes",
		    GLSTORE_VAL_MAX);
		return SCOPE_ETOOBIG;
	}
	return SCOPE_OK;
}

/* one key and value for lmdb_put_body, lmdb_del_body */
struct lmdb_kv {
	MDB_val k, v;
};

/* lmdb_put_body - mdb_put of one key */
static int
lmdb_put_body(struct lmdb_store *st, MDB_txn *txn, void *arg,
    struct lmdb_work *w)
{
	struct lmdb_kv *kv = arg;

	w->what = "put";
	return mdb_put(txn, st->dbi, &kv->k, &kv->v, 0);
}

/* lmdb_put - one key in its own write transaction; ttl ignored */
static int
lmdb_put(struct glstore *s, const char *key, const char *val, size_t len,
    int64_t ttl_s)
{
	struct lmdb_store *st = s->impl;
	struct lmdb_kv kv;
	struct lmdb_work w = { lmdb_put_body, &kv, "put", 0 };
	int rc;

	(void)ttl_s;
	if ((rc = lmdb_key(key, &kv.k)) != SCOPE_OK)
		return rc;
	kv.v.mv_size = len;
	kv.v.mv_data = (void *)val;
	return lmdb_write(st, &w, st->map_max);
}

/* lmdb_del_body - mdb_del of one key; absent is SCOPE_ENOENT */
static int
lmdb_del_body(struct lmdb_store *st, MDB_txn *txn, void *arg,
    struct lmdb_work *w)
{
	struct lmdb_kv *kv = arg;
	int rc;

	w->what = "del";
	rc = mdb_del(txn, st->dbi, &kv->k, NULL);
	if (rc == MDB_NOTFOUND) {
		w->scope_rc = SCOPE_ENOENT;
		return LMDB_BODY_FAILED;
	}
	return rc;
}

/* lmdb_del_limit - how far deletions may grow the map: past map_max by
 * a sixteenth, so that a full store can still be expired (LMDB copies
 * pages on write, deletions too) */
static size_t
lmdb_del_limit(const struct lmdb_store *st)
{
	return st->map_max + st->map_max / 16;
}

/* lmdb_del - one key; SCOPE_ENOENT when absent */
static int
lmdb_del(struct glstore *s, const char *key)
{
	struct lmdb_store *st = s->impl;
	struct lmdb_kv kv;
	struct lmdb_work w = { lmdb_del_body, &kv, "del", 0 };
	int rc;

	if ((rc = lmdb_key(key, &kv.k)) != SCOPE_OK)
		return rc;
	return lmdb_write(st, &w, lmdb_del_limit(st));
}

/* lmdb_batch - copy up to LMDB_BATCH entries under prefix, starting at
 * the prefix (*n == 0 on entry, first batch) or after last[0..lastlen);
 * one read transaction; *n gets the count */
static int
lmdb_batch(struct lmdb_store *st, const char *prefix, const char *last,
    size_t lastlen, struct lmdb_item *items, size_t *n)
{
	size_t plen = strlen(prefix);
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k, v;
	int rc;

	*n = 0;
	if ((rc = lmdb_begin(st, MDB_RDONLY, &txn)) != SCOPE_OK)
		return rc;
	if ((rc = mdb_cursor_open(txn, st->dbi, &cur)) != 0) {
		lmdb_abort(st, txn);
		return lmdb_fail(st, "cursor", rc);
	}
	k.mv_size = last != NULL ? lastlen : plen;
	k.mv_data = (void *)(last != NULL ? last : prefix);
	if (k.mv_size == 0)
		rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	else
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (rc == 0 && last != NULL && k.mv_size == lastlen &&
	    memcmp(k.mv_data, last, lastlen) == 0)
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	for (; rc == 0 && *n < LMDB_BATCH;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct lmdb_item *it = &items[*n];

		if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
			break;		/* past the prefix: sorted keys */
		if (k.mv_size >= GLSTORE_KEY_MAX)
			continue;
		memcpy(it->key, k.mv_data, k.mv_size);
		it->key[k.mv_size] = '\0';
		it->klen = k.mv_size;
		it->oversize = v.mv_size > GLSTORE_VAL_MAX;
		it->vlen = it->oversize ? 0 : v.mv_size;
		memcpy(it->val, v.mv_data, it->vlen);
		it->val[it->vlen] = '\0';
		it->del = false;
		(*n)++;
	}
	mdb_cursor_close(cur);
	lmdb_abort(st, txn);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return lmdb_fail(st, "cursor", rc);
	return SCOPE_OK;
}

/* a batch of visited entries for lmdb_sweep_body */
struct lmdb_marks {
	const struct lmdb_item *items;
	size_t n;
};

/* lmdb_sweep_body - delete the marked entries still as visited */
static int
lmdb_sweep_body(struct lmdb_store *st, MDB_txn *txn, void *arg,
    struct lmdb_work *w)
{
	struct lmdb_marks *m = arg;
	const struct lmdb_item *it;
	MDB_val k, v;
	size_t i;
	int rc;

	w->what = "del";
	for (i = 0; i < m->n; i++) {
		it = &m->items[i];
		if (!it->del)
			continue;
		k.mv_size = it->klen;
		k.mv_data = (void *)it->key;
		rc = mdb_get(txn, st->dbi, &k, &v);
		if (rc == MDB_NOTFOUND)
			continue;
		if (rc == 0 && (it->oversize ? v.mv_size <= GLSTORE_VAL_MAX :
		    v.mv_size != it->vlen ||
		    memcmp(v.mv_data, it->val, v.mv_size) != 0))
			continue;	/* rewritten since: keep it */
		if (rc == 0)
			rc = mdb_del(txn, st->dbi, &k, NULL);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* lmdb_sweep - delete the batch's marked entries whose values are still
 * the ones visited: one write transaction, none if nothing is marked */
static int
lmdb_sweep(struct lmdb_store *st, const struct lmdb_item *items, size_t n)
{
	struct lmdb_marks m = { items, n };
	struct lmdb_work w = { lmdb_sweep_body, &m, "del", 0 };
	size_t i;

	for (i = 0; i < n && !items[i].del; i++)
		;
	return i == n ? SCOPE_OK : lmdb_write(st, &w, lmdb_del_limit(st));
}

/* lmdb_visit - every entry under prefix, LMDB_BATCH at a time */
static int
lmdb_visit(struct glstore *s, const char *prefix, glstore_visit_fn fn,
    void *arg)
{
	struct lmdb_store *st = s->impl;
	struct lmdb_item *items;
	char last[GLSTORE_KEY_MAX];
	size_t n, i, lastlen = 0;
	bool first = true;
	int rc, vr = 0;

	if (strlen(prefix) >= GLSTORE_KEY_MAX)
		return SCOPE_EINVAL;
	items = malloc(sizeof(*items) * LMDB_BATCH);
	if (items == NULL)
		return SCOPE_ENOMEM;
	do {
		rc = lmdb_batch(st, prefix, first ? NULL : last, lastlen,
		    items, &n);
		if (rc != SCOPE_OK || n == 0)
			break;
		first = false;
		for (i = 0; i < n && vr >= 0; i++) {
			vr = fn(arg, items[i].key, items[i].val, items[i].vlen);
			items[i].del = vr == 1;
		}
		if ((rc = lmdb_sweep(st, items, i)) != SCOPE_OK)
			break;
		lastlen = items[n - 1].klen;
		memcpy(last, items[n - 1].key, lastlen + 1);
	} while (vr >= 0 && n == LMDB_BATCH);
	free(items);
	if (rc != SCOPE_OK)
		return rc;
	return vr < 0 ? vr : SCOPE_OK;
}

/* lmdb_close - close the environment */
static void
lmdb_close(struct glstore *s)
{
	struct lmdb_store *st = s->impl;

	mdb_env_close(st->env);
	pthread_rwlock_destroy(&st->resize);
	free(st);
	s->impl = NULL;
}

static const struct glstore_ops lmdb_ops = {
	"lmdb", lmdb_rmw, lmdb_get, lmdb_put, lmdb_del, lmdb_visit, lmdb_close
};

/* lmdb_env - create and open the environment and its unnamed database */
static int
lmdb_env(struct lmdb_store *st, const char *path, size_t initial, char *err,
    size_t errsz)
{
	MDB_txn *txn;
	int rc, dead = 0;

	if ((rc = mdb_env_create(&st->env)) != 0) {
		snprintf(err, errsz, "lmdb: %s", mdb_strerror(rc));
		return SCOPE_ENOMEM;
	}
	if ((rc = mdb_env_set_mapsize(st->env, initial)) != 0 ||
	    (rc = mdb_env_set_maxreaders(st->env, LMDB_MAXREADERS)) != 0 ||
	    (rc = mdb_env_open(st->env, path, MDB_NOSUBDIR | MDB_NOTLS |
	    MDB_NOMETASYNC, 0600)) != 0) {
		snprintf(err, errsz, "%s: %s", path, mdb_strerror(rc));
		goto fail;
	}
	if ((rc = mdb_reader_check(st->env, &dead)) != 0) {
		snprintf(err, errsz, "%s: reader check: %s", path,
		    mdb_strerror(rc));
		goto fail;
	}
	if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn)) != 0) {
		snprintf(err, errsz, "%s: %s", path, mdb_strerror(rc));
		goto fail;
	}
	if ((rc = mdb_dbi_open(txn, NULL, 0, &st->dbi)) != 0)
		mdb_txn_abort(txn);
	else
		rc = mdb_txn_commit(txn);	/* frees txn either way */
	if (rc != 0) {
		snprintf(err, errsz, "%s: %s", path, mdb_strerror(rc));
		goto fail;
	}
	return SCOPE_OK;
fail:
	mdb_env_close(st->env);
	return SCOPE_EIO;
}

/* glstore_lmdb_path_check - absolute, and a regular file (no link) if
 * it exists */
int
glstore_lmdb_path_check(const char *path, char *err, size_t errsz)
{
	struct stat sb;

	if (path[0] == '\0') {
		snprintf(err, errsz, "lmdb: no path given");
		return SCOPE_EINVAL;
	}
	if (path[0] != '/') {
		snprintf(err, errsz, "lmdb:%s: path must be absolute", path);
		return SCOPE_EINVAL;
	}
	if (lstat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
		snprintf(err, errsz, "%s: not a regular file", path);
		return SCOPE_EINVAL;
	}
	return SCOPE_OK;
}

/* glstore_lmdb_open - open (creating 0600) the store file at path */
int
glstore_lmdb_open(struct glstore *s, const char *path,
    const struct glstore_opts *o, char *err, size_t errsz)
{
	struct lmdb_store *st;
	pthread_rwlockattr_t ra;
	size_t initial;
	int rc;

	if ((rc = glstore_lmdb_path_check(path, err, errsz)) != SCOPE_OK)
		return rc;
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return SCOPE_ENOMEM;
	}
	pthread_rwlockattr_init(&ra);
	pthread_rwlockattr_setkind_np(&ra,
	    PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	rc = pthread_rwlock_init(&st->resize, &ra);
	pthread_rwlockattr_destroy(&ra);
	if (rc != 0) {
		free(st);
		snprintf(err, errsz, "out of memory");
		return SCOPE_ENOMEM;
	}
	st->map_max = o->map_max > 0 ? o->map_max : GLSTORE_MAP_MAX;
	initial = o->map_initial > 0 ? o->map_initial : GLSTORE_MAP_DEFAULT;
	if (initial > st->map_max)
		initial = st->map_max;
	if ((rc = lmdb_env(st, path, initial, err, errsz)) != SCOPE_OK) {
		pthread_rwlock_destroy(&st->resize);
		free(st);
		return rc;
	}
	s->ops = &lmdb_ops;
	s->impl = st;
	return SCOPE_OK;
}
