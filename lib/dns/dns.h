/*
 * dns.h - the one DNS layer: every lookup smtpscope makes goes through it.
 *
 * A struct dns_resolver is shared and read-only once built: either the
 * network (Nameservers, or the system's resolv.conf) through ldns with
 * EDNS0 and the DO bit, or in-memory zone data (master files, single
 * records, names that time out) for smtpscope-eval and tests.
 *
 * A struct dns_ctx belongs to one message (or session): it carries the
 * deadline that bounds all its lookups together (DNSTimeout), and the
 * log of what was asked, how it went and how long it took, which the
 * record shows. Each answer is classified for DNSSEC:
 *   secure    NOERROR/NXDOMAIN with AD from a validating resolver
 *   insecure  NOERROR/NXDOMAIN without AD
 *   bogus     SERVFAIL that succeeds again with CD set (validation failed)
 *   error     SERVFAIL also with CD, or another failure rcode
 *   timeout   no answer within the remaining time
 * AD is meaningful only from a validating resolver one trusts (a local
 * unbound); docs/dns.md says how to set one up.
 *
 * Cache: a resolver may keep answers for all its contexts
 * (dns_resolver_cache; dns_cache.c says what is kept and how long). A
 * lookup answered from it is logged like any other, marked cached, with
 * the DNSSEC status the answer was fetched with.
 *
 * Outages: each configured name server has a shared, thread-safe health
 * state (dns_health.c). After DNSDownAfter unanswered queries in a row,
 * from any context, a server is considered down for DNSDownWindow:
 * lookups that would go to it are not sent (the next server is tried),
 * and a lookup with no server left answers at once as a timeout that the
 * log marks skipped ("resolver down"). The first lookup after the window
 * probes the server (others are still skipped); an answer makes it up
 * again, no answer starts a new window. The daemon hears each change
 * through a callback; lib/ never logs.
 */
#ifndef SMTPSCOPE_DNS_H
#define SMTPSCOPE_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ldns/ldns.h>

#define DNS_LOG_MAX	32	/* lookups listed per record; more are counted */
#define DNS_NAME_MAX	256
#define DNS_SERVERS_MAX	8	/* name servers used (Nameservers, resolv.conf) */
#define DNS_SERVER_TEXT	64	/* "[v6]:port" of one name server */

enum dns_sec {
	DNS_SEC_INSECURE,	/* first: a zeroed status never claims secure */
	DNS_SEC_SECURE,
	DNS_SEC_BOGUS,
	DNS_SEC_ERROR,
	DNS_SEC_TIMEOUT
};

struct dns_resolver;

struct dns_lookup {
	char qname[DNS_NAME_MAX];
	uint16_t qtype;
	int rcode;		/* LDNS_RCODE_*, -1 when there was no answer */
	enum dns_sec sec;
	bool skipped;		/* not sent: every server considered down */
	bool cached;		/* answered from the cache, nothing sent */
	double ms;
};

struct dns_ctx {
	struct dns_resolver *r;
	ldns_resolver *lr[DNS_SERVERS_MAX];	/* per server, cloned when
					 * first used; network only */
	int64_t deadline;	/* clock_mono() microseconds */
	unsigned nlog;		/* listed */
	unsigned total;		/* made, may exceed DNS_LOG_MAX */
	struct dns_lookup log[DNS_LOG_MAX];	/* last: [nlog..] unset */
};

struct dns_shared;	/* a cached answer's packet, shared (dns_cache.c) */

struct dns_answer {
	int rcode;		/* -1: no answer (timeout, network error) */
	enum dns_sec sec;
	bool skipped;		/* not sent: every server considered down */
	ldns_pkt *pkt;		/* NULL without a usable answer; read-only
				 * while shared (dns_answer_own to change) */
	struct dns_shared *shared;	/* set: pkt is the cache's, one
					 * reference held (dns_answer_free) */
};

/* a change of one name server's state, for the daemon's log */
struct dns_event {
	const char *server;	/* "127.0.0.1", "127.0.0.1:5353", "[::1]:5353" */
	bool down;		/* true: now considered down; false: answers */
	unsigned timeouts;	/* down: unanswered queries in a row */
	double down_s;		/* up again: seconds it was considered down */
};
typedef void dns_event_fn(void *arg, const struct dns_event *ev);

/* dns_resolver_new - network resolver; servers "ip ip:port [v6]:port ..."
 * separated by spaces or commas, NULL for /etc/resolv.conf */
int dns_resolver_new(struct dns_resolver **out, const char *servers,
    long timeout_ms, long retries, char *err, size_t errsz);
/* dns_resolver_new_zones - empty in-memory data, answers insecure */
int dns_resolver_new_zones(struct dns_resolver **out, long timeout_ms);
int dns_zone_load(struct dns_resolver *r, const char *path, char *err,
    size_t errsz);
int dns_zone_add(struct dns_resolver *r, const char *rr_text);
int dns_zone_add_timeout(struct dns_resolver *r, const char *name);
/* dns_zone_set_sec - names at and under apex answer with this status */
int dns_zone_set_sec(struct dns_resolver *r, const char *apex,
    enum dns_sec sec);
void dns_resolver_free(struct dns_resolver *r);
/* dns_resolver_outage - consider a server down after down_after unanswered
 * queries in a row (0: never) for window_ms, probing once per window; fn
 * (may be NULL) hears each change from the thread whose query made it,
 * outside any lock. Set before the resolver is shared. */
void dns_resolver_outage(struct dns_resolver *r, unsigned down_after,
    long window_ms, dns_event_fn *fn, void *arg);

/* dns_resolver_cache - keep answers, shared by every context, at most
 * entries of them, none longer than max_ttl_s seconds. Set before the
 * resolver is shared; 0 or SCOPE_ENOMEM */
int dns_resolver_cache(struct dns_resolver *r, size_t entries,
    long max_ttl_s);

/* dns_resolver_cache_entries - answers the cache holds now (0 without) */
size_t dns_resolver_cache_entries(struct dns_resolver *r);

/* dns_deadline - clock_mono() now plus DNSTimeout: one budget to share */
int64_t dns_deadline(const struct dns_resolver *r);
/* dns_ctx_init - a context whose lookups share one DNSTimeout budget */
int dns_ctx_init(struct dns_ctx *c, struct dns_resolver *r);
/* dns_ctx_init_until - a context whose lookups end by deadline (from
 * dns_deadline), so several contexts can share one budget */
int dns_ctx_init_until(struct dns_ctx *c, struct dns_resolver *r,
    int64_t deadline);
void dns_ctx_free(struct dns_ctx *c);
/* dns_query - one lookup; 0 with *out filled (see rcode/sec), or <0 */
int dns_query(struct dns_ctx *c, const char *qname, uint16_t qtype,
    struct dns_answer *out);
void dns_answer_free(struct dns_answer *a);
/* dns_answer_own - make the packet the answer's own (a copy when it was
 * shared), before anything changes it; SCOPE_ENOMEM */
int dns_answer_own(struct dns_answer *a);
/* dns_answer_records - answer records of a type (CNAMEs followed), NULL
 * when none. The list is the caller's, the records in it are the
 * answer's: free the list with ldns_rr_list_free (never deep), and
 * before dns_answer_free; records are read-only (the packet may be
 * shared) */
ldns_rr_list *dns_answer_records(const struct dns_answer *a,
    uint16_t qtype);

const char *dns_sec_name(enum dns_sec sec);
/* dns_name_text - a DNAME rdf in presentation form, as ldns_rdf2str()
 * writes it (trailing dot; '.', ';', '(', ')' and '\\' in a label as
 * "\\c", other bytes that are not printable ASCII as "\\DDD"), without
 * ldns's formatted printing of every byte; SCOPE_EINVAL for anything but
 * a well-formed DNAME, SCOPE_ETOOBIG when out (DNS_NAME_TEXT_MAX fits
 * any name) is too small */
#define DNS_NAME_TEXT_MAX	1024
int dns_name_text(const ldns_rdf *rdf, char *out, size_t outsz);
/* dns_reverse_name - the name a PTR lookup of an address asks for:
 * "4.3.2.1.in-addr.arpa." for 1.2.3.4, 32 nibbles and "ip6.arpa." for
 * an IPv6 address (lower case); SCOPE_EINVAL when ip is neither (as
 * inet_pton reads them), SCOPE_ETOOBIG when out is too small
 * (DNS_REVERSE_NAME_MAX fits every address) */
#define DNS_REVERSE_NAME_MAX	74
int dns_reverse_name(const char *ip, char *out, size_t outsz);
/* dns_type_name - a query type's name as ldns_rr_type2str() writes it
 * ("TXT", "TYPE65280"): ldns's own constant for a type it knows, else
 * written into buf (16 bytes hold any); NULL if that fails */
#define DNS_TYPE_NAME_MAX	16
const char *dns_type_name(uint16_t type, char *buf, size_t bufsz);
/* dns_rcode_name - an rcode's name as the records and metrics show it
 * ("NOERROR" .. "REFUSED", else "RCODE<n>" written into buf, which
 * DNS_RCODE_NAME_MAX bytes hold); NULL for no answer (rcode < 0) */
#define DNS_RCODE_NAME_MAX	16
const char *dns_rcode_name(int rcode, char *buf, size_t bufsz);
/* dns_lookup_status - what the record shows as a lookup's "dnssec": the
 * status, or "skipped" for a lookup not sent */
const char *dns_lookup_status(const struct dns_lookup *l);
/* dns_lookup_reason - why a lookup was skipped ("resolver down"), or NULL */
const char *dns_lookup_reason(const struct dns_lookup *l);
/* dns_sec_worst - the weaker of two statuses (for a result built on many) */
enum dns_sec dns_sec_worst(enum dns_sec a, enum dns_sec b);

#endif
