/*
 * dmarceval.h - DMARC (RFC 7489) for one message, with libopendmarc.
 *
 * The DMARC record is fetched through lib/dns (so its DNSSEC status is
 * known and the lookup is bounded and logged) and handed to libopendmarc
 * with opendmarc_policy_store_dmarc(); the organizational domain comes
 * from a public suffix list file (Debian's publicsuffix package by
 * default). Only MAIL FROM SPF counts (RFC 7489 §4.2; HELO SPF is never
 * MAIL FROM evidence, CVE-2019-20790). Alignment is decided over every
 * DKIM signature that passed, so a later failing or unaligned signature
 * can never turn a pass into a fail or the reverse (the libopendmarc
 * "last stored result wins" trap).
 *
 * The From header decides the domain: no From header, several From
 * headers, or mailboxes in different domains give permerror (recorded
 * as such, never pass). The disposition is what the policy asks for
 * (none, quarantine, reject), after pct (a message pct does not select
 * gets the next less strict policy, RFC 7489 6.3); smtpscope enforces it
 * only when DMARCReject says so (the caller's business).
 *
 * A struct dmarceval is shared by all threads (libopendmarc's suffix
 * table is global and read-only after start-up).
 */
#ifndef SMTPSCOPE_DMARCEVAL_H
#define SMTPSCOPE_DMARCEVAL_H

#include <stdbool.h>
#include <stddef.h>

#include "auth/dkimverify.h"
#include "dns/dns.h"
#include "auth/spf.h"

enum dmarceval_res {
	DMARCEVAL_NONE,		/* no DMARC record (or not evaluated) */
	DMARCEVAL_PASS,
	DMARCEVAL_FAIL,
	DMARCEVAL_TEMPERROR,	/* record lookup failed temporarily */
	DMARCEVAL_PERMERROR	/* broken record, or unusable From */
};

enum dmarceval_disp {
	DMARCEVAL_DISP_NONE,
	DMARCEVAL_DISP_QUARANTINE,
	DMARCEVAL_DISP_REJECT
};

/* what the message gave: the From header values and the other checks */
struct dmarceval_input {
	const char *const *from;	/* From header values, as received */
	unsigned nfrom;			/* values given */
	unsigned from_headers;		/* From headers seen (may be more) */
	const struct spf_outcome *spf_mailfrom;	/* NULL: SPF not run */
	const struct dkimverify_outcome *dkim;	/* NULL: DKIM not run */
};

struct dmarceval_outcome {
	enum dmarceval_res result;
	char reason[128];		/* "" on pass */
	char from_domain[256];		/* "" when unusable */
	unsigned from_headers;
	unsigned from_mailboxes;
	char org_domain[256];		/* of from_domain */
	char record_domain[256];	/* where the record was found */
	bool have_record;
	char p[16];			/* "none" "quarantine" "reject" */
	char sp[16];			/* "" when absent */
	int pct;			/* 0..100, 100 when absent */
	char adkim;			/* 'r' or 's' */
	char aspf;			/* 'r' or 's' */
	bool policy_is_sp;		/* sp applied (subdomain of org) */
	bool spf_aligned;		/* MAIL FROM SPF pass and aligned */
	char spf_domain[256];		/* the MAIL FROM domain compared */
	bool dkim_aligned;		/* some passing signature aligned */
	char dkim_domain[256];		/* d= of the first aligned pass */
	enum dmarceval_disp disposition;	/* asked for, after pct */
	bool pct_sampled_out;		/* fail, but not selected by pct: the
					 * next less strict policy applied */
	enum dns_sec dnssec;		/* of the record lookup(s) */
};

struct dmarceval;

/* dmarceval_new - load the public suffix list (NULL: built-in default) */
int dmarceval_new(struct dmarceval **out, const char *psl_path, char *err,
    size_t errsz);
void dmarceval_free(struct dmarceval *e);

/* dmarceval_check - evaluate; 0, or a negative SCOPE_* code (ENOMEM) */
int dmarceval_check(struct dmarceval *e, struct dns_ctx *dns,
    const struct dmarceval_input *in, struct dmarceval_outcome *out);

/* dmarceval_org_domain - the organizational domain of a name */
int dmarceval_org_domain(const struct dmarceval *e, const char *domain,
    char *out, size_t outsz);

const char *dmarceval_res_name(enum dmarceval_res r);
const char *dmarceval_disp_name(enum dmarceval_disp d);

#endif
