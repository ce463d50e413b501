/*
 * iprev.h - RFC 8601 §3 "iprev": does the client address's PTR name lead
 * back to the address?
 *
 * PTR lookup of the client address, then A or AAAA lookups of at most
 * IPREV_NAMES_MAX of the names. Results as RFC 8601 §2.7.3 defines them:
 *   pass       a name's forward lookup contains the address
 *   fail       PTR names exist, but none leads back
 *   temperror  the PTR lookup (or, with no match, a forward lookup) failed
 *              temporarily (SERVFAIL, timeout, bogus)
 *   permerror  no PTR data (NXDOMAIN, or NOERROR without answers)
 * The DNSSEC status is that of the lookups that decided the result.
 */
#ifndef SMTPSCOPE_IPREV_H
#define SMTPSCOPE_IPREV_H

#include "dns/dns.h"

#define IPREV_NAMES_MAX	10

enum iprev_res {
	IPREV_NONE,		/* not evaluated (no client address) */
	IPREV_PASS,
	IPREV_FAIL,
	IPREV_TEMPERROR,
	IPREV_PERMERROR
};

struct iprev_outcome {
	enum iprev_res result;
	char names[IPREV_NAMES_MAX][DNS_NAME_MAX];	/* PTR names */
	unsigned nnames;
	unsigned ptr_total;	/* PTR records seen, may exceed the cap */
	int matched;		/* index into names, -1 when none */
	enum dns_sec dnssec;
};

/* iprev_check - evaluate for an address in text form */
int iprev_check(struct dns_ctx *dns, const char *client_ip,
    struct iprev_outcome *out);
const char *iprev_res_name(enum iprev_res r);

#endif
