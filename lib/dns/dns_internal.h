/*
 * dns_internal.h - what dns.c, dns_cache.c, dns_health.c, dns_udp.c and dns_zone.c share; not for
 * other modules.
 */
#ifndef SMTPSCOPE_DNS_INTERNAL_H
#define SMTPSCOPE_DNS_INTERNAL_H

#include <pthread.h>
#include <sys/socket.h>

#include "dns/dns.h"

struct dns_zone_sec {
	ldns_rdf *apex;
	enum dns_sec sec;
};

/* one name server: its resolver template and its shared health */
struct dns_server {
	ldns_resolver *tmpl;	/* this server only; cloned per context */
	char name[DNS_SERVER_TEXT];
	struct sockaddr_storage addr;
	socklen_t addrlen;
	bool loopback;		/* one kept socket per thread (dns_udp.c) */
	unsigned fails;		/* unanswered queries in a row */
	bool down;
	int64_t down_since;	/* clock_mono() when it went down */
	int64_t probe_at;	/* down: when the next probe may go */
};

enum dns_admit {
	DNS_ADMIT_UP,		/* send */
	DNS_ADMIT_PROBE,	/* down, but this query probes it */
	DNS_ADMIT_SKIP		/* down: do not send */
};

struct dns_cache;

struct dns_resolver {
	struct dns_server servers[DNS_SERVERS_MAX];	/* network only */
	unsigned nservers;	/* 0: in-memory data */
	pthread_mutex_t lock;	/* the servers' health fields */
	unsigned down_after;	/* 0: never considered down */
	int64_t window_us;
	dns_event_fn *notify;
	void *notify_arg;
	long timeout_ms;	/* budget per context */
	long retries;
	ldns_rr_list *rrs;	/* in-memory data */
	ldns_rr_list *timeouts;	/* owner names that never answer */
	struct dns_zone_sec *secs;
	size_t nsecs;
	struct dns_cache *cache;	/* NULL: every lookup is asked */
	pthread_key_t udp_key;	/* each thread's kept sockets (dns_udp.c) */
};

/* dns_health_live - servers not considered down (at least 1) */
unsigned dns_health_live(struct dns_resolver *r);
/* dns_health_admit - may a query go to server i now? */
enum dns_admit dns_health_admit(struct dns_resolver *r, unsigned i);
/* dns_health_report - server i answered (or not) a query that was sent */
void dns_health_report(struct dns_resolver *r, unsigned i, bool answered);

/* dns_zone_answer - answer from in-memory data into a new packet */
int dns_zone_answer(const struct dns_resolver *r, const ldns_rdf *qname,
    uint16_t qtype, struct dns_answer *out);

/* dns_udp_is_loopback - 127.0.0.0/8 or ::1 (dns_udp.c) */
bool dns_udp_is_loopback(const struct sockaddr_storage *ss);
/* dns_udp_matches - is answer the reply to query (ID, QR, question)? */
bool dns_udp_matches(const ldns_pkt *query, const ldns_pkt *answer);
/* dns_udp_send - query server i over the calling thread's kept socket */
ldns_status dns_udp_send(struct dns_resolver *r, unsigned i,
    const ldns_pkt *query, int64_t us, ldns_pkt **answer);
/* dns_udp_local_free - close one thread's kept sockets (key destructor) */
void dns_udp_local_free(void *p);

/* dns_cache_new - an empty answer cache (dns_cache.c) */
int dns_cache_new(struct dns_cache **out, size_t entries, long max_ttl_s);
void dns_cache_free(struct dns_cache *dc);
/* dns_cache_entries - answers held, all shards */
size_t dns_cache_entries(struct dns_cache *dc);
/* dns_cache_get - a cached answer into out: true (out->pkt shared with
 * the cache, out->shared set, for a small answer looked up before; else
 * a packet of its own) */
bool dns_cache_get(struct dns_cache *dc, const char *qname, uint16_t qtype,
    struct dns_answer *out);
/* dns_cache_put - keep an answer as long as its TTLs allow */
void dns_cache_put(struct dns_cache *dc, const char *qname, uint16_t qtype,
    const struct dns_answer *a);
/* dns_cache_release - drop one reference to a shared packet */
void dns_cache_release(struct dns_shared *sh);

#endif
