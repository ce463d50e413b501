/*
 * dns_cache.c - answers kept for all sessions, so one sender's second
 * message asks the resolver nothing.
 *
 * Keyed by (name, type): the name lowercased, one trailing dot dropped.
 * The cached value is the lookup's outcome as dns.c classified it: the
 * rcode, the DNSSEC status and the answer packet in wire form. The CD
 * query that tells bogus from error is part of that classification, so
 * it needs no key of its own. Lifetimes:
 *   positive  the lowest TTL in the answer section
 *   negative  NXDOMAIN or no record of the type: the lower of the SOA's
 *             TTL and its MINIMUM (RFC 2308 section 5); without a SOA in
 *             the authority section it is not cached
 *   bogus     DNS_CACHE_BOGUS_S (60 s), so a repaired zone is seen soon
 *   error, timeout, skipped, malformed: never cached (the resolver-down
 *             state of dns_health.c is what spares a dead server)
 * all capped by DNSCacheMaxTTL; a TTL of 0 is not cached. A hit returns
 * the status the answer was fetched with: it is never upgraded (a cached
 * insecure stays insecure, a bogus stays bogus until it expires).
 *
 * A hit parses the wire form into a packet of the caller's, except for a
 * small answer (at most DNS_CACHE_SHARE_WIRE bytes and DNS_CACHE_SHARE_RRS
 * records): its first hit keeps the parsed packet in the entry, and every
 * later hit hands out that packet with one more reference (struct
 * dns_shared, counted atomically; dns_answer_free drops it, and the
 * entry's own goes when the entry is dropped). A shared packet is
 * read-only; whoever changes it takes a copy first (dns_answer_own).
 *
 * Memory: at most DNSCacheSize entries (split evenly over the shards),
 * each at most DNS_CACHE_WIRE_MAX
 * bytes of packet (larger answers are not kept); a parsed small answer
 * adds at most about 2.5 KB to its entry (8 records; test_dnscache). The entries are spread
 * over DNS_CACHE_SHARDS shards by a seeded hash, each with its own mutex,
 * hash chains and CLOCK ring (a hit sets a reference bit; eviction
 * sweeps the ring, clearing bits, and takes the first entry expired or
 * unreferenced). A lock is held only to find, copy or swap an entry;
 * packets are parsed and built outside it. Counters: dns_cache_hits,
 * dns_cache_misses, dns_cache_evictions. Nothing here logs; allocation
 * failure only means an answer is not kept.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "clock.h"
#include "dns/dns_internal.h"
#include "errors.h"
#include "stats.h"

#define DNS_CACHE_SHARD_BITS	5
#define DNS_CACHE_SHARDS	(1U << DNS_CACHE_SHARD_BITS)
/* the hash's top bits pick the shard, its low bits the chain */
#define DNS_CACHE_SHARD(dc, h)	(&(dc)->shard[(h) >> (64 - DNS_CACHE_SHARD_BITS)])
#define DNS_CACHE_WIRE_MAX	4096	/* bytes of packet kept per entry */
#define DNS_CACHE_BOGUS_S	60
/* answers parsed once and shared by later hits: at most this many bytes
 * of wire form and of records (all sections), so that wire and parsed
 * form together stay within the DNS_CACHE_WIRE_MAX an entry may take */
#define DNS_CACHE_SHARE_WIRE	512
#define DNS_CACHE_SHARE_RRS	8

/* a parsed packet that cache hits share, counted references */
struct dns_shared {
	ldns_pkt *pkt;
	unsigned refs;		/* __atomic */
};

struct dns_cache_entry {
	struct dns_cache_entry *next;	/* hash chain */
	uint64_t hash;
	int64_t expires;		/* clock_mono() microseconds */
	uint32_t slot;			/* index in the shard's ring */
	uint16_t qtype;
	bool ref;			/* CLOCK reference bit */
	int rcode;
	enum dns_sec sec;
	size_t wirelen;			/* 0: no packet (bogus) */
	uint8_t *wire;
	struct dns_shared *parsed;	/* set by the first hit of a small
					 * answer; one reference */
	char name[];			/* lowercased, no trailing dot */
};

struct dns_cache_shard {
	pthread_mutex_t lock;
	struct dns_cache_entry **buckets;	/* nbuckets, a power of 2 */
	struct dns_cache_entry **ring;		/* cap slots */
	uint32_t nbuckets, cap, used, hand;
};

struct dns_cache {
	struct dns_cache_shard shard[DNS_CACHE_SHARDS];
	uint64_t seed;
	int64_t max_ttl_us;
};

/* dns_cache_key - name lowercased, without a trailing dot; its length */
static size_t
dns_cache_key(const char *qname, char out[DNS_NAME_MAX])
{
	size_t i, n = strnlen(qname, DNS_NAME_MAX - 1);

	if (n > 1 && qname[n - 1] == '.')
		n--;
	for (i = 0; i < n; i++)
		out[i] = (char)(qname[i] >= 'A' && qname[i] <= 'Z' ?
		    qname[i] + ('a' - 'A') : qname[i]);
	out[n] = '\0';
	return n;
}

/* dns_cache_hash - FNV-1a over the key and type, from a random seed,
 * finished with a 64-bit mixer */
static uint64_t
dns_cache_hash(const struct dns_cache *dc, const char *key, size_t len,
    uint16_t qtype)
{
	uint64_t h = dc->seed ^ 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ (uint8_t)key[i]) * 0x100000001b3ULL;
	h = (h ^ qtype) * 0x100000001b3ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

/* dns_cache_pow2 - the smallest power of 2 >= n */
static uint32_t
dns_cache_pow2(uint32_t n)
{
	uint32_t p = 1;

	while (p < n && p < (1U << 30))
		p <<= 1;
	return p;
}

/* dns_cache_new - an empty cache of at most entries answers */
int
dns_cache_new(struct dns_cache **out, size_t entries, long max_ttl_s)
{
	struct dns_cache *dc = calloc(1, sizeof(*dc));
	uint32_t per;
	unsigned i;

	*out = NULL;
	if (dc == NULL)
		return SCOPE_ENOMEM;
	if (entries > (size_t)UINT32_MAX)
		entries = UINT32_MAX;
	per = (uint32_t)(entries / DNS_CACHE_SHARDS);
	if (getrandom(&dc->seed, sizeof(dc->seed), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(dc->seed))
		dc->seed = (uint64_t)clock_mono();
	dc->max_ttl_us = (int64_t)max_ttl_s * 1000000;
	for (i = 0; i < DNS_CACHE_SHARDS; i++) {
		struct dns_cache_shard *s = &dc->shard[i];

		/* the first entries % shards shards hold one more: the
		 * total is entries exactly (a shard of 0 keeps nothing) */
		s->cap = per + (i < entries % DNS_CACHE_SHARDS);
		s->nbuckets = dns_cache_pow2(s->cap);
		s->buckets = calloc(s->nbuckets, sizeof(*s->buckets));
		s->ring = calloc(s->cap + 1, sizeof(*s->ring));
		if (s->buckets == NULL || s->ring == NULL ||
		    pthread_mutex_init(&s->lock, NULL) != 0) {
			free(s->buckets);
			free(s->ring);
			s->buckets = NULL;
			s->ring = NULL;
			dns_cache_free(dc);
			return SCOPE_ENOMEM;
		}
	}
	*out = dc;
	return SCOPE_OK;
}

/* dns_cache_release - drop one reference; the last frees the packet */
void
dns_cache_release(struct dns_shared *sh)
{
	if (sh != NULL && __atomic_sub_fetch(&sh->refs, 1, __ATOMIC_ACQ_REL) ==
	    0) {
		ldns_pkt_free(sh->pkt);
		free(sh);
	}
}

/* dns_cache_entry_free - one entry, its packet and its reference */
static void
dns_cache_entry_free(struct dns_cache_entry *e)
{
	if (e != NULL) {
		free(e->wire);
		dns_cache_release(e->parsed);
	}
	free(e);
}

/* dns_cache_free - every entry, the shards, the cache */
void
dns_cache_free(struct dns_cache *dc)
{
	unsigned i, j;

	if (dc == NULL)
		return;
	for (i = 0; i < DNS_CACHE_SHARDS; i++) {
		struct dns_cache_shard *s = &dc->shard[i];

		if (s->ring == NULL)
			continue;	/* never set up (dns_cache_new failed) */
		for (j = 0; j < s->used; j++)
			dns_cache_entry_free(s->ring[j]);
		free(s->ring);
		free(s->buckets);
		pthread_mutex_destroy(&s->lock);
	}
	free(dc);
}

/* dns_cache_entries - answers held now, shard by shard */
size_t
dns_cache_entries(struct dns_cache *dc)
{
	size_t n = 0;
	unsigned i;

	for (i = 0; i < DNS_CACHE_SHARDS; i++) {
		pthread_mutex_lock(&dc->shard[i].lock);
		n += dc->shard[i].used;
		pthread_mutex_unlock(&dc->shard[i].lock);
	}
	return n;
}

/* dns_cache_find - the entry of a key in a locked shard, or NULL; *link
 * is where the chain points to it */
static struct dns_cache_entry *
dns_cache_find(struct dns_cache_shard *s, uint64_t h, const char *key,
    uint16_t qtype, struct dns_cache_entry ***link)
{
	struct dns_cache_entry **p = &s->buckets[h & (s->nbuckets - 1)];

	for (; *p != NULL; p = &(*p)->next)
		if ((*p)->hash == h && (*p)->qtype == qtype &&
		    strcmp((*p)->name, key) == 0) {
			*link = p;
			return *p;
		}
	return NULL;
}

/* dns_cache_unlink - take e out of its chain and the ring of a locked
 * shard (the ring's last entry fills its slot); the caller frees it */
static void
dns_cache_unlink(struct dns_cache_shard *s, struct dns_cache_entry *e)
{
	struct dns_cache_entry **p = &s->buckets[e->hash & (s->nbuckets - 1)];
	struct dns_cache_entry *last;

	while (*p != e)
		p = &(*p)->next;
	*p = e->next;
	last = s->ring[--s->used];
	s->ring[e->slot] = last;
	last->slot = e->slot;
	s->ring[s->used] = NULL;
	if (s->hand >= s->used)
		s->hand = 0;
}

/* dns_cache_victim - CLOCK: sweep from the hand, clearing reference
 * bits, to the first entry expired or not referenced since the last
 * sweep (at most two turns) */
static struct dns_cache_entry *
dns_cache_victim(struct dns_cache_shard *s, int64_t now)
{
	struct dns_cache_entry *e;
	uint32_t n;

	for (n = 0; n < 2 * s->used; n++) {
		e = s->ring[s->hand];
		s->hand = (s->hand + 1) % s->used;
		if (!e->ref || e->expires <= now)
			return e;
		e->ref = false;
	}
	return s->ring[s->hand];
}

/* dns_cache_shareable - small enough to keep parsed beside its wire
 * form (the header's four counts: ancount, nscount, arcount after qdcount) */
static bool
dns_cache_shareable(const struct dns_cache_entry *e)
{
	const uint8_t *w = e->wire;

	if (e->wirelen < 12 || e->wirelen > DNS_CACHE_SHARE_WIRE)
		return false;
	return (size_t)((w[6] << 8) | w[7]) + ((w[8] << 8) | w[9]) +
	    ((w[10] << 8) | w[11]) <= DNS_CACHE_SHARE_RRS;
}

/* dns_cache_share - pkt (parsed from wire) as a shared packet with the
 * caller's reference; kept in the entry too if the entry of that key
 * still holds that wire form and no shared packet (it may have been
 * replaced or evicted while the lock was not held). NULL: no memory */
static struct dns_shared *
dns_cache_share(struct dns_cache_shard *s, uint64_t h, const char *key,
    uint16_t qtype, ldns_pkt *pkt, const uint8_t *wire, size_t wirelen)
{
	struct dns_shared *sh = malloc(sizeof(*sh));
	struct dns_cache_entry *e, **link;

	if (sh == NULL)
		return NULL;
	sh->pkt = pkt;
	sh->refs = 1;
	pthread_mutex_lock(&s->lock);
	e = dns_cache_find(s, h, key, qtype, &link);
	if (e != NULL && e->parsed == NULL && e->wirelen == wirelen &&
	    memcmp(e->wire, wire, wirelen) == 0) {
		sh->refs = 2;
		e->parsed = sh;
	}
	pthread_mutex_unlock(&s->lock);
	return sh;
}

/* dns_cache_get - a hit fills out (rcode, sec and the packet: shared when
 * the entry has one, else parsed from the wire form, and shared from now
 * on when small): true; a miss (or an expired entry, dropped here) false */
bool
dns_cache_get(struct dns_cache *dc, const char *qname, uint16_t qtype,
    struct dns_answer *out)
{
	char key[DNS_NAME_MAX];
	size_t len = dns_cache_key(qname, key), wirelen = 0;
	uint64_t h = dns_cache_hash(dc, key, len, qtype);
	struct dns_cache_shard *s = DNS_CACHE_SHARD(dc, h);
	struct dns_cache_entry *e, **link, *dead = NULL;
	struct dns_shared *sh = NULL;
	uint8_t *wire = NULL;
	bool hit = false, share = false;

	pthread_mutex_lock(&s->lock);
	e = dns_cache_find(s, h, key, qtype, &link);
	if (e != NULL && e->expires <= clock_mono()) {
		dns_cache_unlink(s, e);
		dead = e;
	} else if (e != NULL && (e->parsed != NULL || e->wirelen == 0 ||
	    (wire = malloc(e->wirelen)) != NULL)) {
		e->ref = true;
		hit = true;
		out->rcode = e->rcode;
		out->sec = e->sec;
		if ((sh = e->parsed) != NULL) {
			__atomic_add_fetch(&sh->refs, 1, __ATOMIC_ACQ_REL);
		} else if (wire != NULL) {
			wirelen = e->wirelen;
			memcpy(wire, e->wire, wirelen);
			share = dns_cache_shareable(e);
		}
	}
	pthread_mutex_unlock(&s->lock);
	dns_cache_entry_free(dead);
	out->pkt = NULL;
	out->shared = sh;
	if (sh != NULL) {
		out->pkt = sh->pkt;
	} else if (hit && wire != NULL) {
		if (ldns_wire2pkt(&out->pkt, wire, wirelen) != LDNS_STATUS_OK) {
			out->pkt = NULL;
			hit = false;	/* cannot happen: we wrote it */
		} else if (share) {
			out->shared = dns_cache_share(s, h, key, qtype,
			    out->pkt, wire, wirelen);
		}
	}
	free(wire);
	stats_add(hit ? STATS_DNS_CACHE_HITS : STATS_DNS_CACHE_MISSES, 1);
	return hit;
}

/* dns_cache_min_ttl - the lowest TTL of a section's records (UINT32_MAX
 * when empty), and whether one of them has type qtype */
static uint32_t
dns_cache_min_ttl(const ldns_rr_list *l, uint16_t qtype, bool *has_type)
{
	uint32_t ttl = UINT32_MAX;
	size_t i;

	for (i = 0; i < ldns_rr_list_rr_count(l); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(l, i);

		if (ldns_rr_ttl(rr) < ttl)
			ttl = ldns_rr_ttl(rr);
		if (ldns_rr_get_type(rr) == qtype)
			*has_type = true;
	}
	return ttl;
}

/* dns_cache_neg_ttl - RFC 2308: the lower of the authority SOA's TTL and
 * MINIMUM; 0 (do not cache) without a SOA */
static uint32_t
dns_cache_neg_ttl(const ldns_pkt *pkt)
{
	const ldns_rr_list *au = ldns_pkt_authority(pkt);
	const ldns_rr *rr;
	uint32_t min;
	size_t i;

	for (i = 0; i < ldns_rr_list_rr_count(au); i++) {
		rr = ldns_rr_list_rr(au, i);
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA ||
		    ldns_rr_rd_count(rr) < 7)
			continue;
		min = ldns_rdf2native_int32(ldns_rr_rdf(rr, 6));
		return min < ldns_rr_ttl(rr) ? min : ldns_rr_ttl(rr);
	}
	return 0;
}

/* dns_cache_ttl - how long an answer may be kept, in seconds (0: not) */
static uint32_t
dns_cache_ttl(const struct dns_answer *a, uint16_t qtype)
{
	uint32_t ttl, neg;
	bool has_type = false;

	if (a->sec == DNS_SEC_BOGUS)
		return DNS_CACHE_BOGUS_S;
	if (a->pkt == NULL || (a->sec != DNS_SEC_SECURE &&
	    a->sec != DNS_SEC_INSECURE) || (a->rcode != LDNS_RCODE_NOERROR &&
	    a->rcode != LDNS_RCODE_NXDOMAIN))
		return 0;
	ttl = dns_cache_min_ttl(ldns_pkt_answer(a->pkt), qtype, &has_type);
	if (a->rcode == LDNS_RCODE_NXDOMAIN || !has_type) {
		neg = dns_cache_neg_ttl(a->pkt);
		ttl = neg < ttl ? neg : ttl;
	}
	return ttl == UINT32_MAX ? 0 : ttl;
}

/* dns_cache_entry_new - an entry holding a copy of the answer, or NULL */
static struct dns_cache_entry *
dns_cache_entry_new(const char *key, size_t len, uint16_t qtype,
    const struct dns_answer *a)
{
	struct dns_cache_entry *e = calloc(1, sizeof(*e) + len + 1);
	ldns_buffer *buf;

	if (e == NULL)
		return NULL;
	memcpy(e->name, key, len + 1);
	e->qtype = qtype;
	e->rcode = a->rcode;
	e->sec = a->sec;
	if (a->pkt == NULL)
		return e;
	buf = ldns_buffer_new(512);
	if (buf == NULL || ldns_pkt2buffer_wire(buf, a->pkt) != LDNS_STATUS_OK ||
	    ldns_buffer_position(buf) > DNS_CACHE_WIRE_MAX ||
	    (e->wire = malloc(ldns_buffer_position(buf))) == NULL) {
		ldns_buffer_free(buf);
		free(e);
		return NULL;
	}
	e->wirelen = ldns_buffer_position(buf);
	memcpy(e->wire, ldns_buffer_begin(buf), e->wirelen);
	ldns_buffer_free(buf);
	return e;
}

/* dns_cache_insert - put e in a locked shard, replacing the entry of the
 * same key or evicting one when full; what the caller frees */
static struct dns_cache_entry *
dns_cache_insert(struct dns_cache_shard *s, struct dns_cache_entry *e,
    int64_t now)
{
	struct dns_cache_entry **link, *old;

	old = dns_cache_find(s, e->hash, e->name, e->qtype, &link);
	if (old != NULL) {
		dns_cache_unlink(s, old);
	} else if (s->used == s->cap) {
		old = dns_cache_victim(s, now);
		dns_cache_unlink(s, old);
		stats_add(STATS_DNS_CACHE_EVICTIONS, 1);
	}
	link = &s->buckets[e->hash & (s->nbuckets - 1)];
	e->next = *link;
	*link = e;
	e->slot = s->used;
	s->ring[s->used++] = e;
	return old;
}

/* dns_cache_put - keep an answer for its lifetime (see the top) */
void
dns_cache_put(struct dns_cache *dc, const char *qname, uint16_t qtype,
    const struct dns_answer *a)
{
	char key[DNS_NAME_MAX];
	size_t len = dns_cache_key(qname, key);
	uint32_t ttl = dns_cache_ttl(a, qtype);
	int64_t now = clock_mono(), life = (int64_t)ttl * 1000000;
	struct dns_cache_entry *e, *old;
	struct dns_cache_shard *s;

	if (life > dc->max_ttl_us)
		life = dc->max_ttl_us;
	if (life <= 0 || (e = dns_cache_entry_new(key, len, qtype, a)) == NULL)
		return;
	e->hash = dns_cache_hash(dc, key, len, qtype);
	e->expires = now + life;
	s = DNS_CACHE_SHARD(dc, e->hash);
	if (s->cap == 0) {
		dns_cache_entry_free(e);
		return;
	}
	pthread_mutex_lock(&s->lock);
	old = dns_cache_insert(s, e, now);
	pthread_mutex_unlock(&s->lock);
	dns_cache_entry_free(old);
}
