/*
 * milter_reuse.c - the negotiated protocol flags of a milter connection
 * kept between two SMTP sessions on it.
 *
 * An MTA may reuse a milter connection for its next SMTP session
 * (SMFIC_QUIT_NC): libmilter calls close, then connect for the next
 * session, with no new negotiation, so the flags negotiated (which steps
 * get no reply, leading space in headers) must outlive the session.
 * libmilter's private pointer cannot hold them: a connection that ends
 * with it set makes libmilter log "private data not NULL" at LOG_WARNING,
 * which would be one line in the mail log for every SMTP session. So
 * close leaves the pointer NULL and puts the flags here, keyed by the
 * context's address; connect on a context with no state takes them.
 *
 * The table: MILTER_REUSE_SLOTS slots, one mutex, a short linear probe
 * from the address's hash. Most entries are of connections that simply
 * ended: they stay until a new connection negotiates at the same address
 * (libmilter's contexts are malloc'd, so addresses come back) or a later
 * put needs the slot. A reused connection's entry lives from close to the
 * next connect, microseconds, so losing it to eviction needs
 * MILTER_REUSE_PROBE other sessions ending on the same probe in between;
 * should it happen, take falls back to the flags of the last negotiation
 * (what the same MTA would have negotiated) and says so.
 */
#include <pthread.h>
#include <stdint.h>

#include "milter_reuse.h"

#define MILTER_REUSE_SLOTS	4096	/* a power of two */
#define MILTER_REUSE_PROBE	8

struct milter_reuse_slot {
	const void *ctx;	/* NULL: free */
	unsigned long pflags;
};

static struct milter_reuse_slot milter_reuse_tab[MILTER_REUSE_SLOTS];
static pthread_mutex_t milter_reuse_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long milter_reuse_last;	/* the last negotiated flags */

/* milter_reuse_hash - the first slot to look at for ctx */
static unsigned
milter_reuse_hash(const void *ctx)
{
	uint64_t h = (uint64_t)(uintptr_t)ctx;

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return (unsigned)h & (MILTER_REUSE_SLOTS - 1);
}

/* milter_reuse_find - ctx's slot, or NULL; called locked */
static struct milter_reuse_slot *
milter_reuse_find(const void *ctx)
{
	unsigned i, h = milter_reuse_hash(ctx);

	for (i = 0; i < MILTER_REUSE_PROBE; i++) {
		struct milter_reuse_slot *s =
		    &milter_reuse_tab[(h + i) & (MILTER_REUSE_SLOTS - 1)];

		if (s->ctx == ctx)
			return s;
	}
	return NULL;
}

/* milter_reuse_negotiated - a new connection at ctx */
void
milter_reuse_negotiated(const void *ctx, unsigned long pflags)
{
	struct milter_reuse_slot *s;

	(void)pthread_mutex_lock(&milter_reuse_lock);
	milter_reuse_last = pflags;
	if ((s = milter_reuse_find(ctx)) != NULL)
		s->ctx = NULL;
	(void)pthread_mutex_unlock(&milter_reuse_lock);
}

/* milter_reuse_put - keep ctx's flags: its own slot, a free one, or the
 * first of its probe */
void
milter_reuse_put(const void *ctx, unsigned long pflags)
{
	struct milter_reuse_slot *s, *use = NULL;
	unsigned i, h = milter_reuse_hash(ctx);

	(void)pthread_mutex_lock(&milter_reuse_lock);
	for (i = 0; i < MILTER_REUSE_PROBE && use == NULL; i++) {
		s = &milter_reuse_tab[(h + i) & (MILTER_REUSE_SLOTS - 1)];
		if (s->ctx == ctx || s->ctx == NULL)
			use = s;
	}
	if (use == NULL)
		use = &milter_reuse_tab[h];
	use->ctx = ctx;
	use->pflags = pflags;
	(void)pthread_mutex_unlock(&milter_reuse_lock);
}

/* milter_reuse_take - ctx's flags, forgotten; else the last negotiated */
bool
milter_reuse_take(const void *ctx, unsigned long *pflags)
{
	struct milter_reuse_slot *s;
	bool found;

	(void)pthread_mutex_lock(&milter_reuse_lock);
	s = milter_reuse_find(ctx);
	found = s != NULL;
	*pflags = found ? s->pflags : milter_reuse_last;
	if (found)
		s->ctx = NULL;
	(void)pthread_mutex_unlock(&milter_reuse_lock);
	return found;
}
