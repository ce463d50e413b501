/*
 * dns_internal.h - what dns.c, dns_health.c and dns_zone.c share; not for
 * other modules.
 */
#ifndef SMTPSCOPE_DNS_INTERNAL_H
#define SMTPSCOPE_DNS_INTERNAL_H

#include <pthread.h>

#include "dns/dns.h"

struct dns_zone_sec {
	ldns_rdf *apex;
	enum dns_sec sec;
};

/* one name server: its resolver template and its shared health */
struct dns_server {
	ldns_resolver *tmpl;	/* this server only; cloned per context */
	char name[DNS_SERVER_TEXT];
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

#endif
