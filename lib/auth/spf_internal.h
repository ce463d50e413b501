/*
 * spf_internal.h - what spf.c and spf_dns.c share; not for other modules.
 *
 * One SPF check in progress is a struct spf_eval; libspf2's DNS layer
 * callbacks (spf_dns.c) find it through the thread-local spf_current,
 * which spf.c sets around each evaluation.
 */
#ifndef SMTPSCOPE_SPF_INTERNAL_H
#define SMTPSCOPE_SPF_INTERNAL_H

#include <netinet/in.h>
#include <stdbool.h>

#include <spf2/spf.h>
#include <spf2/spf_dns.h>
#include <spf2/spf_dns_rr.h>

#include "auth/spf.h"
#include "auth/spf_macro.h"

#define SPF_TERMS_MAX	10	/* DNS-querying terms, RFC 7208 §4.6.4 */
#define SPF_VOIDS_MAX	2	/* void lookups, ibid. */
#define SPF_PTR_MAX	10	/* PTR names considered, ibid. */
#define SPF_MEMO_MAX	256	/* answers kept for finding the term */
#define SPF_RECS_MAX	24	/* records kept (top, include, redirect) */
#define SPF_TERM_MAX	4096	/* bytes of one rewritten term (replay) */
#define SPF_EXP_SENTINEL "\001smtpscope-exp\001"

enum spf_kind {
	SPF_KIND_TOP,		/* the record of the checked domain */
	SPF_KIND_TERM,		/* a DNS-querying term (or %{p}) */
	SPF_KIND_ADDR,		/* address of an MX or PTR name */
	SPF_KIND_OTHER		/* exp=, not counted */
};

struct spf_rec {
	char *domain;
	char *text;		/* as published */
};

/* one check in progress on this thread */
struct spf_eval {
	struct spf_checker *c;
	struct dns_ctx *dns;
	SPF_request_t *req;
	bool replay;		/* answers from memo only, nothing counted */
	bool explaining;	/* exp= lookups after the result */
	unsigned fetches;	/* record fetches */
	unsigned terms;
	unsigned voids;
	const char *limit;	/* a limit was exceeded: permerror, why */
	SPF_dns_rr_t *addrs;	/* last MX/PTR answer, whose names come next */
	int addr_next;
	bool sec_known;
	enum dns_sec sec;	/* of the first record fetch */
	enum dns_sec last_sec;
	SPF_dns_rr_t **memo;
	unsigned nmemo;
	struct spf_rec recs[SPF_RECS_MAX];
	unsigned nrecs;
	bool exp_asked;
	char exp_name[1024];	/* as expanded; spf_dns_qname() cuts it */
	char exp_dom[DNS_NAME_MAX];
};

struct spf_checker {
	SPF_dns_server_t layer;
	SPF_server_t *server;
};

extern __thread struct spf_eval *spf_current;

/* spf_macro_vars_init - the macro values (spf_macro.c) of the running
 * check, with 'dom' as the current domain %{d} */
void spf_macro_vars_init(struct spf_eval *ev, const char *dom,
    struct spf_macro_vars *v);

/* spf_dns_lookup - the layer's lookup callback */
SPF_dns_rr_t *spf_dns_lookup(SPF_dns_server_t *srv, const char *domain,
    ns_type type, int should_cache);
/* spf_dns_get_record - the layer's get_spf hook */
SPF_errcode_t spf_dns_get_record(SPF_server_t *server, SPF_request_t *req,
    SPF_response_t *resp, SPF_record_t **recp);
/* spf_dns_get_exp - the layer's get_exp hook */
SPF_errcode_t spf_dns_get_exp(SPF_server_t *server, const char *domain,
    char **bufp, size_t *buflenp);
/* spf_dns_query - one counted lookup (never NULL unless out of memory) */
SPF_dns_rr_t *spf_dns_query(struct spf_eval *ev, SPF_dns_server_t *srv,
    const char *domain, ns_type type, enum spf_kind kind);
/* spf_dns_rec_find - the published record fetched for a domain */
const char *spf_dns_rec_find(const struct spf_eval *ev, const char *domain);
/* spf_dns_eval_free - release the answers and records an evaluation kept */
void spf_dns_eval_free(struct spf_eval *ev);

#endif
