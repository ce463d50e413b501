/*
 * dns_internal.h - what dns.c and dns_zone.c share; not for other modules.
 */
#ifndef SMTPSCOPE_DNS_INTERNAL_H
#define SMTPSCOPE_DNS_INTERNAL_H

#include "dns/dns.h"

struct dns_zone_sec {
	ldns_rdf *apex;
	enum dns_sec sec;
};

struct dns_resolver {
	ldns_resolver *tmpl;	/* network: cloned per context; else NULL */
	long timeout_ms;	/* budget per context */
	long retries;
	ldns_rr_list *rrs;	/* in-memory data */
	ldns_rr_list *timeouts;	/* owner names that never answer */
	struct dns_zone_sec *secs;
	size_t nsecs;
};

/* dns_zone_answer - answer from in-memory data into a new packet */
int dns_zone_answer(const struct dns_resolver *r, const ldns_rdf *qname,
    uint16_t qtype, struct dns_answer *out);

#endif
