/*
 * spf.h - SPF (RFC 7208) with libspf2, every lookup through lib/dns.
 *
 * A struct spf_checker wraps one libspf2 SPF_server_t whose DNS layer is
 * ours: each query goes to dns_query() on the struct dns_ctx of the
 * evaluation running on the calling thread, so it is bounded by that
 * context's DNSTimeout budget and listed in its lookup log. One checker
 * is shared by all threads; each evaluation is synchronous.
 *
 * The glue corrects libspf2 1.2.10 where RFC 7208 differs (see spf.c and
 * docs/spf-conformance.md): DNS errors give temperror, not "(invalid)";
 * loopback clients are evaluated like any other (libspf2 would pass them
 * without DNS); the 10-term and 2-void-lookup limits count across
 * include; redirect is evaluated last and ignored next to "all"; PTR
 * answers beyond 10 names are ignored; exp= is fetched only for a final
 * fail; type SPF (99) is never queried; macros are expanded by our own
 * RFC 7208 section 7 code (spf_macro.c), not libspf2's.
 *
 * Failures: the functions return 0 or a negative SCOPE_* code; every
 * DNS or record problem is a result (temperror, permerror), not an
 * error. Out of memory inside libspf2 aborts (the library's own policy).
 */
#ifndef SMTPSCOPE_SPF_H
#define SMTPSCOPE_SPF_H

#include "dns/dns.h"

enum spf_res {
	SPF_RES_NONE,
	SPF_RES_NEUTRAL,
	SPF_RES_PASS,
	SPF_RES_FAIL,
	SPF_RES_SOFTFAIL,
	SPF_RES_TEMPERROR,
	SPF_RES_PERMERROR
};

struct spf_outcome {
	enum spf_res result;
	char identity[321];	/* checked: local@domain, postmaster@helo */
	char domain[256];
	char mechanism[128];	/* the term that matched as published, e.g.
				 * "ip4:192.0.2.0/24", "-all"; "" by default */
	char reason[160];	/* why: libspf2's error text or ours, bounded */
	char explanation[256];	/* exp= text on fail, if any */
	enum dns_sec dnssec;	/* of the SPF record lookup (TXT at domain) */
	unsigned lookups;	/* DNS queries this evaluation made */
};

struct spf_checker;

/* spf_checker_new - a checker shared by all threads; spf_checker_free() */
int spf_checker_new(struct spf_checker **out);
void spf_checker_free(struct spf_checker *c);

/* spf_check_mailfrom - RFC 7208 §2.4: the MAIL FROM identity; a null
 * sender (or one without a domain) uses postmaster@HELO */
int spf_check_mailfrom(struct spf_checker *c, struct dns_ctx *dns,
    const char *client_ip, const char *helo, const char *mailfrom,
    struct spf_outcome *out);

/* spf_check_helo - RFC 7208 §2.3: the HELO identity; none when the HELO
 * is not a multi-label domain name (an address literal, say) */
int spf_check_helo(struct spf_checker *c, struct dns_ctx *dns,
    const char *client_ip, const char *helo, struct spf_outcome *out);

/* spf_res_name - "pass", "fail", ... as in RFC 8601 */
const char *spf_res_name(enum spf_res r);

#endif
