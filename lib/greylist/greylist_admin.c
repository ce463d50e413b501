/*
 * greylist_admin.c - tending the greylisting state as a whole: expiry
 * (greylist_expire: the daemon's periodic run for stores without TTLs,
 * and "smtpscope-greylist expire") and statistics (greylist_stats, for
 * smtpscope-greylist). One glstore_visit() per kind of key (t|, c|,
 * a|); entries are read with the decoders of greylist_codec.c.
 * Owns: greylist_stats' array of retry delays, grown to at most
 * GREYLIST_DELAYS_MAX entries and freed before it returns.
 * Fails: the store's error or SCOPE_ENOMEM; an undecodable entry is no
 * failure (expiry removes it, statistics count it as invalid).
 */
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "greylist/greylist.h"

#define GREYLIST_DELAYS_MAX	(1UL << 24)	/* delays kept by stats */

/*
 * Expiry and statistics: one visit of each kind of key.
 */
enum greylist_kind { GREYLIST_KIND_TRIPLET, GREYLIST_KIND_CHAIN,
	GREYLIST_KIND_CLIENT };
static const char *const greylist_prefixes[] = { "t|", "c|", "a|" };

struct greylist_walk {
	const struct greylist_params *p;
	enum greylist_kind kind;
	int64_t now;
	unsigned long removed;
	struct greylist_stats *st;
	int64_t *delays;		/* stats: passed - first, grown */
	size_t ndelays, maxdelays;
};

/* greylist_until - until when an entry is kept: its latest attempt plus
 * the lifetime, or, unconfirmed, its first attempt (a chain: its
 * latest) plus the retry window; -1 undecodable */
static int64_t
greylist_until(const struct greylist_params *p, enum greylist_kind kind,
    const char *val, size_t len)
{
	struct greylist_entry e;
	struct greylist_chain c;
	struct greylist_client cl;

	switch (kind) {
	case GREYLIST_KIND_TRIPLET:
		if (greylist_entry_decode(val, len, &e) != 0)
			return -1;
		return e.passed == 0 ? e.first + p->window_s :
		    e.last + p->lifetime_s;
	case GREYLIST_KIND_CHAIN:
		if (greylist_chain_decode(val, len, &c) != 0)
			return -1;
		return c.last + (c.passes == 0 ? p->window_s : p->lifetime_s);
	default:
		if (greylist_client_decode(val, len, &cl) != 0)
			return -1;
		return cl.last + p->lifetime_s;
	}
}

/* greylist_walk_kinds - visit triplets, chains, then client entries
 * with w->kind set; stops at the first failure, returns glstore_visit's */
static int
greylist_walk_kinds(struct glstore *s, glstore_visit_fn fn,
    struct greylist_walk *w)
{
	int rc = SCOPE_OK;
	unsigned k;

	for (k = 0; k < 3 && rc == SCOPE_OK; k++) {
		w->kind = (enum greylist_kind)k;
		rc = glstore_visit(s, greylist_prefixes[k], fn, w);
	}
	return rc;
}

/* greylist_expire_one - the visitor: 1 deletes */
static int
greylist_expire_one(void *arg, const char *key, const char *val, size_t len)
{
	struct greylist_walk *w = arg;
	int64_t until = greylist_until(w->p, w->kind, val, len);

	(void)key;
	if (until >= 0 && w->now <= until)
		return 0;
	w->removed++;
	return 1;
}

/* greylist_expire - delete what outlived GreylistLifetime, and the
 * unconfirmed entries past GreylistRetryWindow */
int
greylist_expire(const struct greylist_params *p, struct glstore *s,
    int64_t now, unsigned long *removed)
{
	struct greylist_walk w;
	int rc;

	memset(&w, 0, sizeof(w));
	w.p = p;
	w.now = now;
	rc = greylist_walk_kinds(s, greylist_expire_one, &w);
	if (removed != NULL)
		*removed = w.removed;
	return rc < 0 ? rc : SCOPE_OK;
}

/* greylist_stats_delay - keep one retry delay (bounded) */
static int
greylist_stats_delay(struct greylist_walk *w, int64_t d)
{
	int64_t *nd;
	size_t max;

	if (w->ndelays == w->maxdelays) {
		if (w->maxdelays >= GREYLIST_DELAYS_MAX)
			return SCOPE_OK;	/* enough for percentiles */
		max = w->maxdelays == 0 ? 1024 : 2 * w->maxdelays;
		nd = realloc(w->delays, max * sizeof(*nd));
		if (nd == NULL)
			return SCOPE_ENOMEM;
		w->delays = nd;
		w->maxdelays = max;
	}
	w->delays[w->ndelays++] = d;
	return SCOPE_OK;
}

/* greylist_stats_one - the visitor: count one entry */
static int
greylist_stats_one(void *arg, const char *key, const char *val, size_t len)
{
	struct greylist_walk *w = arg;
	struct greylist_stats *st = w->st;
	struct greylist_entry e;
	struct greylist_chain c;
	struct greylist_client cl;

	(void)key;
	switch (w->kind) {
	case GREYLIST_KIND_TRIPLET:
		if (greylist_entry_decode(val, len, &e) != 0)
			break;
		st->triplets++;
		if (e.passed == 0)
			return 0;
		st->passed++;
		/* a chain pass of a new triplet is no retry of its own */
		if (e.passed - e.first >= w->p->delay_s && e.passed > e.first)
			return greylist_stats_delay(w, e.passed - e.first);
		return 0;
	case GREYLIST_KIND_CHAIN:
		if (greylist_chain_decode(val, len, &c) != 0)
			break;
		st->chains++;
		st->chain_passes += c.passes;
		return 0;
	default:
		if (greylist_client_decode(val, len, &cl) != 0)
			break;
		st->clients++;
		if (w->p->auto_allow > 0 && cl.passes >= w->p->auto_allow)
			st->auto_allowed++;
		return 0;
	}
	st->invalid++;
	return 0;
}

/* greylist_cmp - int64_t for qsort */
static int
greylist_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* greylist_rank - the nearest-rank percentile of sorted values */
static int64_t
greylist_rank(const int64_t *v, size_t n, unsigned pct)
{
	size_t r = (n * pct + 99) / 100;

	return v[r > 0 ? r - 1 : 0];
}

/* greylist_stats - entries per kind, pass rate, retry delays */
int
greylist_stats(const struct greylist_params *p, struct glstore *s,
    struct greylist_stats *st)
{
	struct greylist_walk w;
	int rc;

	memset(st, 0, sizeof(*st));
	memset(&w, 0, sizeof(w));
	w.p = p;
	w.st = st;
	rc = greylist_walk_kinds(s, greylist_stats_one, &w);
	st->pass_rate = st->triplets > 0 ?
	    (double)st->passed / (double)st->triplets : 0.0;
	st->ndelays = w.ndelays;
	st->delay_median = st->delay_p90 = -1;
	if (w.ndelays > 0) {
		qsort(w.delays, w.ndelays, sizeof(w.delays[0]), greylist_cmp);
		st->delay_median = greylist_rank(w.delays, w.ndelays, 50);
		st->delay_p90 = greylist_rank(w.delays, w.ndelays, 90);
	}
	free(w.delays);
	return rc < 0 ? rc : SCOPE_OK;
}
