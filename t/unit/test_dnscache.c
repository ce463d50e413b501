/*
 * test_dnscache.c - the DNS answer cache on in-memory zones with a fake
 * clock: a hit after a miss (logged cached, counted), names compared
 * without case, positive TTLs, negative answers for the SOA's TTL or
 * MINIMUM (not at all without a SOA), a hostile huge TTL capped by the
 * maximum, bogus kept 60 s, errors and timeouts never kept, a status
 * never upgraded while cached, the bound on entries with evictions
 * counted, memory that stops growing at the bound (100,000 names), and
 * 8 threads hammering a small cache.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "dns/dns.h"
#include "errors.h"
#include "stats.h"
#include "tap.h"

#define T0	1800000000000000LL	/* fake clock start, microseconds */
#define SEC	1000000LL

static const char *const zone_rrs[] = {
	"c.test. 300 IN SOA ns.c.test. h.c.test. 1 3600 600 86400 120",
	"c.test. 300 IN TXT \"v=spf1 -all\"",
	"mx.c.test. 300 IN A 192.0.2.25",
	"short.c.test. 10 IN A 192.0.2.26",
	"huge.c.test. 2147483647 IN A 192.0.2.27",
	"*.wild.c.test. 300 IN A 192.0.2.99",
	"up.c.test. 300 IN A 192.0.2.30",
	"nosoa.example. 300 IN A 192.0.2.31",
	"*.eight.c.test. 300 IN A 192.0.2.40",
	"*.eight.c.test. 300 IN A 192.0.2.41",
	"*.eight.c.test. 300 IN A 192.0.2.42",
	"*.eight.c.test. 300 IN A 192.0.2.43",
	"*.eight.c.test. 300 IN A 192.0.2.44",
	"*.eight.c.test. 300 IN A 192.0.2.45",
	"*.eight.c.test. 300 IN A 192.0.2.46",
	"*.eight.c.test. 300 IN A 192.0.2.47",
	"nine.c.test. 300 IN A 192.0.2.50",
	"nine.c.test. 300 IN A 192.0.2.51",
	"nine.c.test. 300 IN A 192.0.2.52",
	"nine.c.test. 300 IN A 192.0.2.53",
	"nine.c.test. 300 IN A 192.0.2.54",
	"nine.c.test. 300 IN A 192.0.2.55",
	"nine.c.test. 300 IN A 192.0.2.56",
	"nine.c.test. 300 IN A 192.0.2.57",
	"nine.c.test. 300 IN A 192.0.2.58",
	NULL
};

struct probe {
	int rcode;
	enum dns_sec sec;
	size_t n;	/* records of the type */
	bool cached;
	bool owner_ok;	/* every record's owner is the query name */
};

/* probe - one lookup in a fresh context; what came back and how */
static struct probe
probe(struct dns_resolver *r, const char *name, uint16_t type)
{
	struct probe p = { -99, DNS_SEC_ERROR, 0, false, true };
	ldns_rdf *want = ldns_dname_new_frm_str(name);
	struct dns_answer a;
	struct dns_ctx c;
	ldns_rr_list *l;
	size_t i;

	dns_ctx_init(&c, r);
	if (dns_query(&c, name, type, &a) == 0) {
		p.rcode = a.rcode;
		p.sec = a.sec;
		p.cached = c.nlog == 1 && c.log[0].cached;
		l = dns_answer_records(&a, type);
		p.n = l != NULL ? ldns_rr_list_rr_count(l) : 0;
		for (i = 0; i < p.n; i++)
			if (want == NULL || ldns_dname_compare(ldns_rr_owner(
			    ldns_rr_list_rr(l, i)), want) != 0)
				p.owner_ok = false;
		ldns_rr_list_free(l);
		dns_answer_free(&a);
	}
	ldns_rdf_deep_free(want);
	dns_ctx_free(&c);
	return p;
}

/* zone - the test data, with a cache of size entries unless 0 */
static struct dns_resolver *
zone(size_t size, long max_ttl)
{
	struct dns_resolver *r;
	int i;

	if (dns_resolver_new_zones(&r, 2000) != 0)
		return NULL;
	for (i = 0; zone_rrs[i] != NULL; i++)
		dns_zone_add(r, zone_rrs[i]);
	dns_zone_add_timeout(r, "slow.c.test.");
	dns_zone_set_sec(r, "bogus.c.test.", DNS_SEC_BOGUS);
	dns_zone_set_sec(r, "err.c.test.", DNS_SEC_ERROR);
	if (size > 0 && dns_resolver_cache(r, size, max_ttl) != 0) {
		dns_resolver_free(r);
		return NULL;
	}
	return r;
}

/* at - set the fake clock s seconds after T0 */
static void
at(double s)
{
	clock_set_fake(T0 + (int64_t)(s * SEC));
}

/* test_hit - a miss, then a hit with the same answer, counted */
static void
test_hit(struct dns_resolver *r)
{
	struct probe a, b, c;

	stats_reset();
	at(0);
	a = probe(r, "mx.c.test", LDNS_RR_TYPE_A);
	b = probe(r, "mx.c.test", LDNS_RR_TYPE_A);
	ok(!a.cached && a.rcode == LDNS_RCODE_NOERROR && a.n == 1,
	    "first lookup is asked (not cached), one A record");
	ok(b.cached && b.rcode == LDNS_RCODE_NOERROR && b.n == 1 && b.owner_ok,
	    "second lookup is cached, with the same answer");
	is_int((long)stats_get(STATS_DNS_CACHE_MISSES), 1, "one miss counted");
	is_int((long)stats_get(STATS_DNS_CACHE_HITS), 1, "one hit counted");
	c = probe(r, "MX.C.Test.", LDNS_RR_TYPE_A);
	ok(c.cached && c.n == 1, "names compared without case, trailing dot "
	    "ignored");
	c = probe(r, "mx.c.test", LDNS_RR_TYPE_AAAA);
	ok(!c.cached, "another type of the same name is its own entry");
	c = probe(r, "mx.c.test", LDNS_RR_TYPE_AAAA);
	ok(c.cached && c.rcode == LDNS_RCODE_NOERROR && c.n == 0,
	    "NODATA is cached too");
}

/* lifetime - asked at t0, cached just before t0 + life, asked again at
 * t0 + life; the cached probe */
static struct probe
lifetime(struct dns_resolver *r, const char *name, uint16_t type, double t0,
    double life, const char *what)
{
	struct probe p;

	at(t0);
	p = probe(r, name, type);
	ok(!p.cached, "%s: asked", what);
	at(t0 + life - 0.1);
	p = probe(r, name, type);
	ok(p.cached, "%s: cached at %.1f s", what, life - 0.1);
	at(t0 + life);
	ok(!probe(r, name, type).cached, "%s: asked again at %.0f s", what,
	    life);
	return p;
}

/* test_ttl - an answer lives for its TTL, no longer; a hostile TTL of
 * 2^31-1 s is cut to DNSCacheMaxTTL (3600 s) */
static void
test_ttl(struct dns_resolver *r)
{
	lifetime(r, "short.c.test", LDNS_RR_TYPE_A, 0, 10, "TTL 10");
	lifetime(r, "huge.c.test", LDNS_RR_TYPE_A, 100, 3600,
	    "TTL 2^31-1, DNSCacheMaxTTL 3600");
}

/* test_negative - RFC 2308: min(SOA TTL 300, MINIMUM 120); no SOA: never */
static void
test_negative(struct dns_resolver *r)
{
	struct probe p;

	p = lifetime(r, "nope.c.test", LDNS_RR_TYPE_TXT, 1000, 120,
	    "NXDOMAIN, SOA TTL 300 MINIMUM 120");
	ok(p.rcode == LDNS_RCODE_NXDOMAIN, "the cached answer is NXDOMAIN");
	probe(r, "other.example", LDNS_RR_TYPE_A);
	ok(!probe(r, "other.example", LDNS_RR_TYPE_A).cached,
	    "a negative answer without a SOA is not cached");
	ok(probe(r, "nosoa.example", LDNS_RR_TYPE_A).n == 1 &&
	    probe(r, "nosoa.example", LDNS_RR_TYPE_A).cached,
	    "a positive answer needs no SOA");
}

/* test_failures - bogus for 60 s; errors and timeouts never */
static void
test_failures(struct dns_resolver *r)
{
	struct probe p;

	p = lifetime(r, "x.bogus.c.test", LDNS_RR_TYPE_TXT, 2000, 60, "bogus");
	ok(p.sec == DNS_SEC_BOGUS && p.rcode == LDNS_RCODE_SERVFAIL,
	    "the cached answer is still bogus");
	probe(r, "x.err.c.test", LDNS_RR_TYPE_TXT);
	p = probe(r, "x.err.c.test", LDNS_RR_TYPE_TXT);
	ok(!p.cached && p.sec == DNS_SEC_ERROR, "SERVFAIL (error) not cached");
	probe(r, "slow.c.test", LDNS_RR_TYPE_TXT);
	p = probe(r, "slow.c.test", LDNS_RR_TYPE_TXT);
	ok(!p.cached && p.sec == DNS_SEC_TIMEOUT, "a timeout is not cached");
}

/* test_no_upgrade - the status an answer was fetched with is the one a
 * hit shows, whatever the zone says meanwhile */
static void
test_no_upgrade(struct dns_resolver *r)
{
	struct probe p;

	at(3000);
	p = probe(r, "up.c.test", LDNS_RR_TYPE_A);
	ok(!p.cached && p.sec == DNS_SEC_INSECURE, "insecure answer asked");
	dns_zone_set_sec(r, "up.c.test.", DNS_SEC_SECURE);
	p = probe(r, "up.c.test", LDNS_RR_TYPE_A);
	ok(p.cached && p.sec == DNS_SEC_INSECURE,
	    "a cached insecure answer is not upgraded to secure");
	at(3000 + 300);
	p = probe(r, "up.c.test", LDNS_RR_TYPE_A);
	ok(!p.cached && p.sec == DNS_SEC_SECURE, "after its TTL: secure");
	dns_zone_set_sec(r, "x.bogus.c.test.", DNS_SEC_SECURE);
	at(4000);
	probe(r, "y.bogus.c.test", LDNS_RR_TYPE_TXT);
	dns_zone_set_sec(r, "y.bogus.c.test.", DNS_SEC_SECURE);
	p = probe(r, "y.bogus.c.test", LDNS_RR_TYPE_TXT);
	ok(p.cached && p.sec == DNS_SEC_BOGUS,
	    "a cached bogus answer stays bogus when the zone is repaired");
}

/* test_bound - at most size entries: the rest were evicted */
static void
test_bound(void)
{
	struct dns_resolver *r = zone(64, 3600);
	char name[64];
	size_t held;
	unsigned i;

	stats_reset();
	at(5000);
	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "n%u.wild.c.test", i);
		probe(r, name, LDNS_RR_TYPE_A);
	}
	held = dns_resolver_cache_entries(r);
	ok(held > 0 && held <= 64, "DNSCacheSize 64: %zu of 1000 answers held",
	    held);
	ok(stats_get(STATS_DNS_CACHE_EVICTIONS) + held == 1000,
	    "each answer not held was evicted, and counted (%llu)",
	    (unsigned long long)stats_get(STATS_DNS_CACHE_EVICTIONS));
	ok(probe(r, "n999.wild.c.test", LDNS_RR_TYPE_A).cached,
	    "the newest answer is held");
	dns_resolver_free(r);
}

struct hammer {
	struct dns_resolver *r;
	unsigned seed, wrong, done;
};

/* hammer_run - lookups over 200 names; counts wrong answers */
static void *
hammer_run(void *arg)
{
	struct hammer *h = arg;
	char name[64];
	struct probe p;
	unsigned i;

	for (i = 0; i < 3000; i++) {
		h->seed = h->seed * 1103515245u + 12345u;
		snprintf(name, sizeof(name), "h%u.wild.c.test",
		    (h->seed >> 8) % 200);
		p = probe(h->r, name, LDNS_RR_TYPE_A);
		if (p.rcode != LDNS_RCODE_NOERROR || p.n != 1 || !p.owner_ok)
			h->wrong++;
		h->done++;
	}
	return NULL;
}

/* test_threads - 8 threads on a cache smaller than their names */
static void
test_threads(void)
{
	struct dns_resolver *r = zone(128, 3600);
	struct hammer h[8];
	pthread_t t[8];
	unsigned i, wrong = 0, done = 0, started = 0;

	clock_set_fake(0);
	stats_reset();
	for (i = 0; i < 8; i++) {
		h[i] = (struct hammer){ r, i + 1, 0, 0 };
		started += pthread_create(&t[i], NULL, hammer_run, &h[i]) == 0;
	}
	for (i = 0; i < started; i++) {
		pthread_join(t[i], NULL);
		wrong += h[i].wrong;
		done += h[i].done;
	}
	ok(started == 8 && done == 24000 && wrong == 0,
	    "8 threads: %u lookups, %u wrong answers", done, wrong);
	ok(stats_get(STATS_DNS_CACHE_HITS) + stats_get(STATS_DNS_CACHE_MISSES)
	    == 24000 && stats_get(STATS_DNS_CACHE_HITS) > 0 &&
	    stats_get(STATS_DNS_CACHE_EVICTIONS) > 0,
	    "every lookup a hit or a miss; both and evictions happened");
	dns_resolver_free(r);
}

/* rss_kib - this process's resident set, KiB (-1 when unknown) */
static long
rss_kib(void)
{
	FILE *fp = fopen("/proc/self/status", "r");
	char line[128];
	long kib = -1;

	while (fp != NULL && fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	if (fp != NULL)
		fclose(fp);
	return kib;
}

/* test_memory - 100,000 distinct names through a cache of 2,000: it
 * holds at most 2,000 and memory stops growing with it */
static void
test_memory(void)
{
	struct dns_resolver *r = zone(2000, 3600);
	long rss0, rss1 = 0, rss2;
	char name[64], text[160];
	unsigned i;

	at(6000);
	rss0 = rss_kib();
	for (i = 0; i < 100000; i++) {
		snprintf(name, sizeof(name), "m%u.wild.c.test", i);
		probe(r, name, LDNS_RR_TYPE_A);
		if (i == 9999)
			rss1 = rss_kib();
	}
	rss2 = rss_kib();
	snprintf(text, sizeof(text), "RSS: %ld KiB before, %ld after 10,000 "
	    "names, %ld after 100,000; %zu answers held", rss0, rss1, rss2,
	    dns_resolver_cache_entries(r));
	diag(text);
#ifdef __SANITIZE_ADDRESS__
	/* ASan keeps freed memory in quarantine: RSS says nothing here */
	ok(dns_resolver_cache_entries(r) == 2000, "DNSCacheSize 2000: 2000 "
	    "answers held (RSS not checked under AddressSanitizer)");
#else
	ok(dns_resolver_cache_entries(r) == 2000 && rss2 >= 0 &&
	    rss2 - rss1 < 1024, "DNSCacheSize 2000: 2000 answers held, and "
	    "90,000 more names add less than 1 MiB (%ld KiB)", rss2 - rss1);
#endif
	dns_resolver_free(r);
}

/* test_shared - a small answer is parsed once, at its first hit, and
 * later hits share that packet; one held past its entry's expiry stays
 * good; a copy made to change it (dns_answer_own) leaves the cache's
 * alone; an answer of more than 8 records is parsed for every hit */
static void
test_shared(void)
{
	struct dns_resolver *r = zone(100, 3600);
	struct dns_answer a1, a2, a3;
	struct dns_ctx c;
	const ldns_rr *rr;

	at(7000);
	dns_ctx_init(&c, r);
	dns_query(&c, "mx.c.test", LDNS_RR_TYPE_A, &a1);
	ok(a1.pkt != NULL && a1.shared == NULL, "a miss: the packet is the "
	    "lookup's own");
	dns_answer_free(&a1);
	dns_query(&c, "mx.c.test", LDNS_RR_TYPE_A, &a2);
	dns_query(&c, "MX.c.test.", LDNS_RR_TYPE_A, &a3);
	ok(a2.shared != NULL && a3.shared == a2.shared && a3.pkt == a2.pkt,
	    "the hits share one parsed packet");
	ok(dns_answer_own(&a3) == SCOPE_OK && a3.shared == NULL &&
	    a3.pkt != NULL && a3.pkt != a2.pkt, "dns_answer_own: a copy of "
	    "its own in place of the reference");
	ldns_rr_set_ttl(ldns_rr_list_rr(ldns_pkt_answer(a3.pkt), 0), 7);
	rr = ldns_rr_list_rr(ldns_pkt_answer(a2.pkt), 0);
	ok(rr != NULL && ldns_rr_ttl(rr) == 300, "changing the copy leaves "
	    "the shared packet as it was");
	dns_answer_free(&a3);
	at(7000 + 400);		/* the entry has expired */
	dns_query(&c, "mx.c.test", LDNS_RR_TYPE_A, &a1);
	rr = ldns_rr_list_rr(ldns_pkt_answer(a2.pkt), 0);
	ok(!c.log[c.nlog - 1].cached && a1.shared == NULL && rr != NULL &&
	    ldns_rr_rd_count(rr) == 1 && ldns_rdf_size(ldns_rr_rdf(rr, 0)) ==
	    4 && ldns_rdf_data(ldns_rr_rdf(rr, 0))[3] == 25,
	    "an expired entry is asked again, and a packet held from it "
	    "stays good (ASan would see a use after free)");
	dns_answer_free(&a1);
	dns_answer_free(&a2);
	dns_query(&c, "nine.c.test", LDNS_RR_TYPE_A, &a1);
	dns_answer_free(&a1);
	dns_query(&c, "nine.c.test", LDNS_RR_TYPE_A, &a1);
	ok(c.log[c.nlog - 1].cached && a1.shared == NULL && a1.pkt != NULL &&
	    ldns_rr_list_rr_count(ldns_pkt_answer(a1.pkt)) == 9,
	    "nine records: a hit, parsed for itself, not shared");
	dns_answer_free(&a1);
	dns_ctx_free(&c);
	dns_resolver_free(r);
}

/* test_shared_memory - 2,000 answers of 8 records (the largest kept
 * parsed), each looked up three times: wire form and parsed packet
 * together stay under the 4 KB an entry may take (smtpscope.conf(5)) */
static void
test_shared_memory(void)
{
	struct dns_resolver *r = zone(4000, 3600);	/* no shard fills */
	long rss0, rss1, rss2;
	char name[64], text[200];
	unsigned i, k;

	at(8000);
	rss0 = rss_kib();
	for (i = 0; i < 2000; i++) {
		snprintf(name, sizeof(name), "s%u.eight.c.test", i);
		probe(r, name, LDNS_RR_TYPE_A);
	}
	rss1 = rss_kib();
	for (k = 0; k < 2; k++)
		for (i = 0; i < 2000; i++) {
			snprintf(name, sizeof(name), "s%u.eight.c.test", i);
			probe(r, name, LDNS_RR_TYPE_A);
		}
	rss2 = rss_kib();
	snprintf(text, sizeof(text), "RSS: %ld KiB, %ld with 2,000 answers "
	    "of 8 records, %ld with them parsed and shared", rss0, rss1, rss2);
	diag(text);
#ifdef __SANITIZE_ADDRESS__
	ok(dns_resolver_cache_entries(r) == 2000, "2000 answers of 8 records "
	    "held (RSS not checked under AddressSanitizer)");
#else
	ok(dns_resolver_cache_entries(r) == 2000 && rss0 >= 0 &&
	    (rss2 - rss0) * 1024 / 2000 < 4096, "2000 answers of 8 records, "
	    "parsed and shared: %ld bytes each, under 4 KB",
	    (rss2 - rss0) * 1024 / 2000);
#endif
	dns_resolver_free(r);
}

/* test_off - without a cache (eval --zone) nothing is ever cached */
static void
test_off(void)
{
	struct dns_resolver *r = zone(0, 0);

	probe(r, "mx.c.test", LDNS_RR_TYPE_A);
	ok(!probe(r, "mx.c.test", LDNS_RR_TYPE_A).cached,
	    "no cache: every lookup asked");
	dns_resolver_free(r);
}

int
main(void)
{
	struct dns_resolver *r = zone(1000, 3600);

	plan(43);
	if (r == NULL)
		return 1;
	test_hit(r);
	test_ttl(r);
	test_negative(r);
	test_failures(r);
	test_no_upgrade(r);
	dns_resolver_free(r);
	test_bound();
	test_threads();
	test_memory();
	test_shared();
	test_shared_memory();
	test_off();
	clock_set_fake(0);
	return done_testing();
}
