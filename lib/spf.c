/*
 * spf.c - SPF checks with libspf2 whose DNS layer is lib/dns.
 *
 * libspf2's lookup callback gets no per-request context, so the running
 * evaluation (struct spf_eval: its dns_ctx, counters and answers) sits in
 * a thread-local pointer for the duration of one check; libmilter runs
 * each callback synchronously on its thread. There is no libspf2 cache:
 * every lookup libspf2 asks for is one dns_query(), logged in the
 * caller's dns_ctx.
 *
 * What the glue does about libspf2 1.2.10 (docs/spf-conformance.md):
 *  - the entry point is ours, not SPF_request_query_mailfrom(): loopback
 *    clients get no free pass, and a DNS error while fetching the record
 *    is temperror instead of "(invalid)";
 *  - record fetching is ours (the layer's get_spf hook): TXT only (type
 *    SPF is never asked for, RFC 7208 §3.1), "v=spf1" records selected by
 *    §4.5, a record libspf2 cannot compile is permerror, duplicate
 *    redirect=/exp= are permerror (§6), redirect= is evaluated after all
 *    mechanisms and ignored next to "all" (§6.1);
 *  - the limits of §4.6.4 are counted here over the whole evaluation
 *    (libspf2 counts per record, so include escapes them): more than 10
 *    DNS-querying terms or more than 2 void lookups give permerror (the
 *    layer then answers TRY_AGAIN so libspf2 stops at once), and PTR
 *    answers beyond 10 names are ignored instead of being an error;
 *  - exp= is looked up only when the final result is fail (libspf2 would
 *    fetch it for neutral, softfail and inside include too);
 *  - the matching term is found by replaying the evaluation term by term
 *    from the answers already received (no new queries).
 * Owns: everything it allocates per check is freed before returning.
 * Fails: out of memory inside libspf2 aborts (the library's policy);
 * everything else is an SPF result.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <spf2/spf.h>
#include <spf2/spf_dns.h>
#include <spf2/spf_dns_rr.h>

#include "errors.h"
#include "spf.h"
#include "spf_syntax.h"
#include "text.h"

#define SPF_TERMS_MAX	10	/* DNS-querying terms, RFC 7208 §4.6.4 */
#define SPF_VOIDS_MAX	2	/* void lookups, ibid. */
#define SPF_PTR_MAX	10	/* PTR names considered, ibid. */
#define SPF_MEMO_MAX	256	/* answers kept for finding the term */
#define SPF_RECS_MAX	24	/* records kept (top, include, redirect) */
#define SPF_REPLAY_MAX	11	/* records followed by redirect when replaying */
#define SPF_TXT_MAX	4096	/* bytes of one TXT record we pass on */
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
	const char *limit;	/* a limit was exceeded: permerror, this reason */
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
	char exp_name[DNS_NAME_MAX];
	char exp_dom[DNS_NAME_MAX];
};

struct spf_checker {
	SPF_dns_server_t layer;
	SPF_server_t *server;
};

static __thread struct spf_eval *spf_cur;
static pthread_once_t spf_once = PTHREAD_ONCE_INIT;

static const char *const spf_res_names[] = {
	"none", "neutral", "pass", "fail", "softfail", "temperror",
	"permerror"
};

/* spf_res_name - RFC 8601 name of a result */
const char *
spf_res_name(enum spf_res r)
{
	if ((unsigned)r >= sizeof(spf_res_names) / sizeof(spf_res_names[0]))
		return "permerror";
	return spf_res_names[r];
}

/* spf_name_eq - same DNS name, ignoring case and one trailing dot */
static bool
spf_name_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

/* spf_rr_new - an answer without records */
static SPF_dns_rr_t *
spf_rr_new(SPF_dns_server_t *srv, const char *domain, ns_type type,
    SPF_dns_stat_t herrno)
{
	return SPF_dns_rr_new_init(srv, domain, type, 0, herrno);
}

/* spf_dname - a domain name rdf as text without the final dot (caller frees) */
static char *
spf_dname(const ldns_rdf *rdf)
{
	char *s;
	size_t len;

	if (rdf == NULL || ldns_rdf_get_type(rdf) != LDNS_RDF_TYPE_DNAME)
		return NULL;
	s = ldns_rdf2str(rdf);
	if (s == NULL)
		return NULL;
	len = strlen(s);
	if (len > 0 && s[len - 1] == '.')
		s[len - 1] = '\0';
	return s;
}

/* spf_rr_put - store one record's data at index n; false if malformed */
static bool
spf_rr_put(SPF_dns_rr_t *rr, int n, const ldns_rr *lr)
{
	const ldns_rdf *rdf;
	size_t i, len, used = 0;
	char *name;
	const uint8_t *d;

	switch (rr->rr_type) {
	case ns_t_a:
	case ns_t_aaaa:
		rdf = ldns_rr_rdf(lr, 0);
		len = rr->rr_type == ns_t_a ? 4 : 16;
		if (rdf == NULL || ldns_rdf_size(rdf) != len ||
		    SPF_dns_rr_buf_realloc(rr, n, len) != SPF_E_SUCCESS)
			return false;
		memcpy(rr->rr_type == ns_t_a ? (void *)&rr->rr[n]->a :
		    (void *)&rr->rr[n]->aaaa, ldns_rdf_data(rdf), len);
		return true;
	case ns_t_mx:
	case ns_t_ptr:
		name = spf_dname(ldns_rr_rdf(lr, rr->rr_type == ns_t_mx ? 1 : 0));
		if (name == NULL)
			return false;
		if (SPF_dns_rr_buf_realloc(rr, n, strlen(name) + 1) !=
		    SPF_E_SUCCESS) {
			free(name);
			return false;
		}
		memcpy(rr->rr[n]->ptr, name, strlen(name) + 1);
		free(name);
		return true;
	case ns_t_txt:	/* strings glued together, RFC 7208 §3.3 */
		if (SPF_dns_rr_buf_realloc(rr, n, SPF_TXT_MAX + 1) !=
		    SPF_E_SUCCESS)
			return false;
		for (i = 0; i < ldns_rr_rd_count(lr); i++) {
			rdf = ldns_rr_rdf(lr, i);
			if (ldns_rdf_get_type(rdf) != LDNS_RDF_TYPE_STR ||
			    ldns_rdf_size(rdf) < 1)
				return false;
			d = ldns_rdf_data(rdf);
			len = d[0];
			if (len + 1 > ldns_rdf_size(rdf) || used + len > SPF_TXT_MAX)
				return false;
			memcpy(rr->rr[n]->txt + used, d + 1, len);
			used += len;
		}
		/* a NUL would cut the record short: make it a syntax error */
		for (i = 0; i < used; i++)
			if (rr->rr[n]->txt[i] == '\0')
				rr->rr[n]->txt[i] = '\177';
		rr->rr[n]->txt[used] = '\0';
		return true;
	default:
		return false;
	}
}

/* spf_rr_from_answer - our answer as libspf2's; never NULL unless OOM */
static SPF_dns_rr_t *
spf_rr_from_answer(SPF_dns_server_t *srv, const char *domain, ns_type type,
    const struct dns_answer *a)
{
	ldns_rr_list *list;
	SPF_dns_rr_t *rr;
	size_t i, count;
	int n = 0;

	if (a->rcode == LDNS_RCODE_NXDOMAIN)
		return spf_rr_new(srv, domain, type, HOST_NOT_FOUND);
	if (a->rcode != LDNS_RCODE_NOERROR)	/* timeout, SERVFAIL, ... */
		return spf_rr_new(srv, domain, type, TRY_AGAIN);
	list = dns_answer_rrs(a, (uint16_t)type);
	count = list != NULL ? ldns_rr_list_rr_count(list) : 0;
	if (count == 0) {
		ldns_rr_list_deep_free(list);
		return spf_rr_new(srv, domain, type, NO_DATA);
	}
	rr = spf_rr_new(srv, domain, type, NETDB_SUCCESS);
	if (rr == NULL) {
		ldns_rr_list_deep_free(list);
		return NULL;
	}
	for (i = 0; i < count; i++)
		if (spf_rr_put(rr, n, ldns_rr_list_rr(list, i)))
			n++;	/* a malformed record is skipped, not trusted */
	ldns_rr_list_deep_free(list);
	rr->num_rr = n;
	if (n == 0)
		rr->herrno = NO_DATA;
	return rr;
}

/* spf_memo_add - keep a copy of an answer for the replay */
static void
spf_memo_add(struct spf_eval *ev, SPF_dns_rr_t *rr)
{
	SPF_dns_rr_t **grown, *copy = NULL;

	if (ev->nmemo == SPF_MEMO_MAX)
		return;
	if (ev->nmemo % 16 == 0) {
		grown = realloc(ev->memo, (ev->nmemo + 16) * sizeof(*grown));
		if (grown == NULL)
			return;
		ev->memo = grown;
	}
	if (SPF_dns_rr_dup(&copy, rr) != SPF_E_SUCCESS) {
		if (copy != NULL)
			SPF_dns_rr_free(copy);
		return;
	}
	ev->memo[ev->nmemo++] = copy;
}

/* spf_memo_get - a copy of a remembered answer, TRY_AGAIN when none */
static SPF_dns_rr_t *
spf_memo_get(struct spf_eval *ev, SPF_dns_server_t *srv, const char *domain,
    ns_type type)
{
	SPF_dns_rr_t *copy = NULL;
	unsigned i;

	for (i = 0; i < ev->nmemo; i++) {
		if (ev->memo[i]->rr_type != type || ev->memo[i]->domain == NULL ||
		    !spf_name_eq(ev->memo[i]->domain, domain))
			continue;
		if (SPF_dns_rr_dup(&copy, ev->memo[i]) == SPF_E_SUCCESS)
			return copy;
		if (copy != NULL)
			SPF_dns_rr_free(copy);
		break;
	}
	return spf_rr_new(srv, domain, type, TRY_AGAIN);
}

/* spf_addrs_set - the names whose address lookups come next */
static void
spf_addrs_set(struct spf_eval *ev, SPF_dns_rr_t *rr)
{
	if (ev->addrs != NULL)
		SPF_dns_rr_free(ev->addrs);
	ev->addrs = NULL;
	ev->addr_next = 0;
	if (rr != NULL && SPF_dns_rr_dup(&ev->addrs, rr) != SPF_E_SUCCESS &&
	    ev->addrs != NULL) {
		SPF_dns_rr_free(ev->addrs);
		ev->addrs = NULL;
	}
}

/* spf_kind_of - what a lookup libspf2 asks for is, for the limits */
static enum spf_kind
spf_kind_of(struct spf_eval *ev, const char *domain, ns_type type)
{
	if (ev->explaining)
		return SPF_KIND_OTHER;
	if ((type == ns_t_a || type == ns_t_aaaa) && ev->addrs != NULL &&
	    ev->addr_next < ev->addrs->num_rr &&
	    spf_name_eq(ev->addrs->rr[ev->addr_next]->ptr, domain)) {
		ev->addr_next++;
		return SPF_KIND_ADDR;
	}
	spf_addrs_set(ev, NULL);
	return type == ns_t_txt ? SPF_KIND_OTHER : SPF_KIND_TERM;
}

/* spf_qname - the name to ask for: without our "any address" label,
 * and cut to 253 characters from the left (RFC 7208 §7.3) */
static const char *
spf_qname(const char *domain, bool *any)
{
	size_t len;

	*any = strncasecmp(domain, SPF_SYNTAX_ANY ".", SPF_SYNTAX_ANY_LEN + 1)
	    == 0;
	if (*any)
		domain += SPF_SYNTAX_ANY_LEN + 1;
	len = strlen(domain);
	if (len > 0 && domain[len - 1] == '.')
		len--;
	while (len > 253 && strchr(domain, '.') != NULL) {
		len -= (size_t)(strchr(domain, '.') + 1 - domain);
		domain = strchr(domain, '.') + 1;
	}
	return domain;
}

/* spf_any - a /0 prefix on a or mx (spf_syntax.c): any address record
 * stands for the client's own; MX targets carry the label on */
static void
spf_any(struct spf_eval *ev, SPF_dns_rr_t *rr)
{
	size_t len;
	int i;

	if (rr->herrno != NETDB_SUCCESS || rr->num_rr == 0)
		return;
	if (rr->rr_type == ns_t_a) {
		rr->rr[0]->a = ev->req->ipv4;
		rr->num_rr = 1;
	} else if (rr->rr_type == ns_t_aaaa) {
		rr->rr[0]->aaaa = ev->req->ipv6;
		rr->num_rr = 1;
	} else if (rr->rr_type == ns_t_mx) {
		for (i = 0; i < rr->num_rr; i++) {
			len = strlen(rr->rr[i]->mx);
			if (SPF_dns_rr_buf_realloc(rr, i, len +
			    SPF_SYNTAX_ANY_LEN + 2) != SPF_E_SUCCESS)
				continue;
			memmove(rr->rr[i]->mx + SPF_SYNTAX_ANY_LEN + 1,
			    rr->rr[i]->mx, len + 1);
			memcpy(rr->rr[i]->mx, SPF_SYNTAX_ANY ".",
			    SPF_SYNTAX_ANY_LEN + 1);
		}
	}
}

/* spf_query - one lookup for libspf2 through dns_query(), counted */
static SPF_dns_rr_t *
spf_query(struct spf_eval *ev, SPF_dns_server_t *srv, const char *domain,
    ns_type type, enum spf_kind kind)
{
	struct dns_answer a;
	SPF_dns_rr_t *rr;
	const char *qname;
	bool is_void, any;

	if (ev->limit != NULL)	/* over: stop libspf2 without asking */
		return spf_rr_new(srv, domain, type, TRY_AGAIN);
	if (kind == SPF_KIND_TERM && ++ev->terms > SPF_TERMS_MAX) {
		ev->limit = "more than 10 DNS-querying terms (RFC 7208 4.6.4)";
		return spf_rr_new(srv, domain, type, TRY_AGAIN);
	}
	ev->last_sec = DNS_SEC_INSECURE;
	qname = spf_qname(domain, &any);
	if (dns_query(ev->dns, qname, (uint16_t)type, &a) != SCOPE_OK) {
		/* not a name we can ask for (bad label): none */
		return spf_rr_new(srv, domain, type, HOST_NOT_FOUND);
	}
	ev->last_sec = a.sec;
	rr = spf_rr_from_answer(srv, domain, type, &a);
	dns_answer_free(&a);
	if (rr == NULL)
		return NULL;
	if (any)
		spf_any(ev, rr);
	if (type == ns_t_ptr && rr->num_rr > SPF_PTR_MAX)
		rr->num_rr = SPF_PTR_MAX;	/* §4.6.4: ignore the rest */
	is_void = rr->herrno == HOST_NOT_FOUND || rr->herrno == NO_DATA;
	if (kind == SPF_KIND_TERM && is_void && ++ev->voids > SPF_VOIDS_MAX) {
		ev->limit = "more than 2 void lookups (RFC 7208 4.6.4)";
		rr->herrno = TRY_AGAIN;
		rr->num_rr = 0;
		return rr;
	}
	if (kind != SPF_KIND_OTHER)
		spf_memo_add(ev, rr);
	if ((type == ns_t_mx || type == ns_t_ptr) && kind == SPF_KIND_TERM &&
	    rr->herrno == NETDB_SUCCESS)
		spf_addrs_set(ev, rr);
	return rr;
}

/* spf_dns_lookup - libspf2's lookup callback */
static SPF_dns_rr_t *
spf_dns_lookup(SPF_dns_server_t *srv, const char *domain, ns_type type,
    int should_cache)
{
	struct spf_eval *ev = spf_cur;

	(void)should_cache;
	if (domain == NULL)
		domain = "";
	if (ev == NULL)
		return spf_rr_new(srv, domain, type, TRY_AGAIN);
	if (type == ns_t_spf)	/* RFC 7208 §3.1: type SPF is not used */
		return spf_rr_new(srv, domain, type, NO_DATA);
	if (ev->replay)
		return spf_memo_get(ev, srv, domain, type);
	return spf_query(ev, srv, domain, type, spf_kind_of(ev, domain, type));
}

/* spf_is_v1 - does a TXT string start with the version section? (§4.5) */
static bool
spf_is_v1(const char *txt)
{
	return strncasecmp(txt, "v=spf1", 6) == 0 &&
	    (txt[6] == ' ' || txt[6] == '\0');
}

/* spf_rec_keep - remember a fetched record for finding the term */
static void
spf_rec_keep(struct spf_eval *ev, const char *domain, const char *text)
{
	struct spf_rec *r;

	if (ev->nrecs == SPF_RECS_MAX)
		return;
	r = &ev->recs[ev->nrecs];
	r->domain = strdup(domain);
	r->text = strdup(text);
	if (r->domain == NULL || r->text == NULL) {
		free(r->domain);
		free(r->text);
		return;
	}
	ev->nrecs++;
}

/* spf_rec_find - the record kept for a domain */
static const char *
spf_rec_find(const struct spf_eval *ev, const char *domain)
{
	unsigned i;

	for (i = 0; i < ev->nrecs; i++)
		if (spf_name_eq(ev->recs[i].domain, domain))
			return ev->recs[i].text;
	return NULL;
}

/* spf_get_record - the layer's get_spf hook: fetch, select, compile */
static SPF_errcode_t
spf_get_record(SPF_server_t *server, SPF_request_t *req,
    SPF_response_t *resp, SPF_record_t **recp)
{
	struct spf_eval *ev = spf_cur;
	const char *domain = req->cur_dom, *found = NULL, *why;
	SPF_dns_server_t *srv = server->resolver;
	SPF_dns_rr_t *rr;
	SPF_errcode_t err;
	char *fixed;
	int i, n = 0;
	bool top;

	*recp = NULL;
	if (ev == NULL || domain == NULL)
		return SPF_response_add_error(resp, SPF_E_DNS_ERROR,
		    "no DNS context");
	top = !ev->replay && ev->fetches++ == 0;
	if (!ev->replay)
		spf_addrs_set(ev, NULL);
	rr = ev->replay ? spf_memo_get(ev, srv, domain, ns_t_txt) :
	    spf_query(ev, srv, domain, ns_t_txt,
	    top ? SPF_KIND_TOP : SPF_KIND_TERM);
	if (rr == NULL)
		return SPF_response_add_error(resp, SPF_E_NO_MEMORY,
		    "out of memory");
	if (top) {
		ev->sec_known = true;
		ev->sec = ev->last_sec;
	}
	if (rr->herrno != NETDB_SUCCESS && rr->herrno != HOST_NOT_FOUND &&
	    rr->herrno != NO_DATA) {
		SPF_dns_rr_free(rr);
		return SPF_response_add_error(resp, SPF_E_DNS_ERROR,
		    "DNS failure looking up the record of '%s'", domain);
	}
	for (i = 0; i < rr->num_rr && rr->herrno == NETDB_SUCCESS; i++)
		if (spf_is_v1(rr->rr[i]->txt)) {
			found = rr->rr[i]->txt;
			n++;
		}
	if (n == 0) {
		SPF_dns_rr_free(rr);
		resp->result = SPF_RESULT_NONE;
		resp->reason = SPF_REASON_FAILURE;
		return SPF_response_add_error(resp, SPF_E_NOT_SPF,
		    "no SPF record at '%s'", domain);
	}
	resp->result = SPF_RESULT_PERMERROR;
	resp->reason = SPF_REASON_FAILURE;
	if (n > 1) {
		SPF_dns_rr_free(rr);
		return SPF_response_add_error(resp, SPF_E_MULTIPLE_RECORDS,
		    "more than one SPF record at '%s'", domain);
	}
	if (!ev->replay)
		spf_rec_keep(ev, domain, found);
	fixed = spf_syntax_record(found, req->client_ver, &why);
	SPF_dns_rr_free(rr);
	if (fixed == NULL)
		return SPF_response_add_error(resp, SPF_E_SYNTAX,
		    "record of '%s': %s", domain, why);
	err = SPF_record_compile(server, resp, recp, fixed);
	free(fixed);
	if (err != SPF_E_SUCCESS) {
		if (*recp != NULL)
			SPF_record_free(*recp);
		*recp = NULL;
		return err == SPF_E_NO_MEMORY || err == SPF_E_DNS_ERROR ?
		    SPF_E_SYNTAX : err;
	}
	resp->result = SPF_RESULT_INVALID;
	resp->reason = SPF_REASON_NONE;
	return SPF_E_SUCCESS;
}

/* spf_get_exp - the layer's get_exp hook: note the exp= name, look it
 * up later only if the final result is fail */
static SPF_errcode_t
spf_get_exp(SPF_server_t *server, const char *domain, char **bufp,
    size_t *buflenp)
{
	struct spf_eval *ev = spf_cur;
	char *grown;

	(void)server;
	if (ev != NULL && !ev->replay) {
		ev->exp_asked = true;
		snprintf(ev->exp_name, sizeof(ev->exp_name), "%s",
		    domain != NULL ? domain : "");
		snprintf(ev->exp_dom, sizeof(ev->exp_dom), "%s",
		    ev->req->cur_dom != NULL ? ev->req->cur_dom : "");
	}
	if (*bufp == NULL || *buflenp < sizeof(SPF_EXP_SENTINEL)) {
		grown = realloc(*bufp, sizeof(SPF_EXP_SENTINEL));
		if (grown == NULL)
			return SPF_E_NO_MEMORY;
		*bufp = grown;
		*buflenp = sizeof(SPF_EXP_SENTINEL);
	}
	memcpy(*bufp, SPF_EXP_SENTINEL, sizeof(SPF_EXP_SENTINEL));
	return SPF_E_SUCCESS;
}

/* spf_expand - expand a macro-string for the request at domain 'dom' */
static char *
spf_expand(struct spf_eval *ev, const char *macro_text, const char *dom)
{
	SPF_server_t *server = ev->c->server;
	SPF_response_t *resp = SPF_response_new(ev->req);
	SPF_macro_t *mac = NULL;
	const char *save = ev->req->cur_dom;
	char *buf = NULL;
	size_t buflen = 0;
	SPF_errcode_t err;

	if (resp == NULL)
		return NULL;
	err = SPF_record_compile_macro(server, resp, &mac, macro_text);
	if (err == SPF_E_SUCCESS && mac != NULL) {
		ev->req->cur_dom = dom;
		err = SPF_record_expand_data(server, ev->req, resp,
		    (SPF_data_t *)((char *)mac + sizeof(SPF_macro_t)),
		    mac->macro_len, &buf, &buflen);
		ev->req->cur_dom = save;
	}
	if (mac != NULL)
		SPF_macro_free(mac);
	SPF_response_free(resp);
	if (err != SPF_E_SUCCESS) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* spf_explain - RFC 7208 §6.2: the exp= text, for a final fail */
static void
spf_explain(struct spf_eval *ev, struct spf_outcome *out)
{
	SPF_dns_rr_t *rr;
	char *text;
	size_t i;

	ev->explaining = true;
	rr = spf_query(ev, &ev->c->layer, ev->exp_name, ns_t_txt,
	    SPF_KIND_OTHER);
	if (rr == NULL)
		return;
	if (rr->herrno == NETDB_SUCCESS && rr->num_rr == 1) {
		text = spf_expand(ev, rr->rr[0]->txt, ev->exp_dom);
		for (i = 0; text != NULL && text[i] != '\0'; i++)
			if ((unsigned char)text[i] < 0x20 ||
			    (unsigned char)text[i] > 0x7e)
				break;	/* §6.2: US-ASCII only */
		if (text != NULL && text[i] == '\0')
			text_copy(out->explanation, sizeof(out->explanation),
			    text, NULL);
		free(text);
	}
	SPF_dns_rr_free(rr);
}

/* spf_try_term - does this one term decide 'want' at domain? (replay) */
static bool
spf_try_term(struct spf_eval *ev, const char *term, size_t len,
    const char *dom, SPF_result_t want)
{
	SPF_server_t *server = ev->c->server;
	SPF_response_t *resp = SPF_response_new(ev->req);
	SPF_record_t *rec = NULL;
	const char *save = ev->req->cur_dom;
	char text[SPF_TXT_MAX + 8], *fixed;
	bool hit = false;

	fixed = spf_syntax_term(term, len, ev->req->client_ver);
	if (resp == NULL || fixed == NULL || fixed[0] == '\0' ||
	    strlen(fixed) > SPF_TXT_MAX) {
		if (resp != NULL)
			SPF_response_free(resp);
		free(fixed);
		return false;
	}
	snprintf(text, sizeof(text), "v=spf1 %s", fixed);
	free(fixed);
	if (SPF_record_compile(server, resp, &rec, text) == SPF_E_SUCCESS &&
	    rec != NULL) {
		resp->spf_record_exp = rec;
		ev->req->cur_dom = dom;
		SPF_record_interpret(rec, ev->req, resp, 0);
		ev->req->cur_dom = save;
		hit = resp->reason == SPF_REASON_MECH && resp->result == want;
	}
	if (rec != NULL)
		SPF_record_free(rec);
	SPF_response_free(resp);
	return hit;
}

/* spf_attribute - which published term decided the result: replay each
 * term alone from the answers received, following redirect= */
static void
spf_attribute(struct spf_eval *ev, const char *domain, SPF_result_t want,
    struct spf_outcome *out)
{
	char dom[DNS_NAME_MAX], *next;
	const char *text, *t, *redirect;
	size_t pos, len, nlen, redirect_len;
	int hops;
	bool all;

	snprintf(dom, sizeof(dom), "%s", domain);
	ev->replay = true;
	for (hops = 0; hops < SPF_REPLAY_MAX; hops++) {
		text = spf_rec_find(ev, dom);
		if (text == NULL)
			break;
		redirect = NULL;
		redirect_len = 0;
		all = false;
		for (pos = 6; spf_syntax_next(text, &pos, &t, &len);) {
			if (spf_syntax_modifier(t, len, &nlen)) {
				if (nlen == 8 && strncasecmp(t, "redirect", 8) == 0) {
					redirect = t + 9;
					redirect_len = len - 9;
				}
				continue;
			}
			all = all || spf_syntax_is_all(t, len);
			if (spf_try_term(ev, t, len, dom, want)) {
				text_clean(out->mechanism, sizeof(out->mechanism),
				    t, len, NULL);
				ev->replay = false;
				return;
			}
		}
		if (redirect == NULL || all || redirect_len >= sizeof(dom))
			break;
		{
			char spec[DNS_NAME_MAX];

			memcpy(spec, redirect, redirect_len);
			spec[redirect_len] = '\0';
			next = spf_expand(ev, spec, dom);
		}
		if (next == NULL)
			break;
		snprintf(dom, sizeof(dom), "%s", next);
		free(next);
	}
	ev->replay = false;
}

/* spf_map - libspf2's result as ours */
static enum spf_res
spf_map(SPF_result_t r)
{
	switch (r) {
	case SPF_RESULT_NEUTRAL:
		return SPF_RES_NEUTRAL;
	case SPF_RESULT_PASS:
		return SPF_RES_PASS;
	case SPF_RESULT_FAIL:
		return SPF_RES_FAIL;
	case SPF_RESULT_SOFTFAIL:
		return SPF_RES_SOFTFAIL;
	case SPF_RESULT_NONE:
		return SPF_RES_NONE;
	case SPF_RESULT_TEMPERROR:
		return SPF_RES_TEMPERROR;
	default:
		return SPF_RES_PERMERROR;
	}
}

/* spf_reason - the most specific text libspf2 left in the response */
static void
spf_reason(SPF_response_t *resp, SPF_errcode_t err, struct spf_outcome *out)
{
	SPF_error_t *e;
	int i;

	for (i = SPF_response_messages(resp) - 1; i >= 0; i--) {
		e = SPF_response_message(resp, i);
		if (e != NULL && SPF_error_errorp(e) && e->message != NULL) {
			text_copy(out->reason, sizeof(out->reason), e->message,
			    NULL);
			return;
		}
	}
	if (err != SPF_E_SUCCESS || resp->err != SPF_E_SUCCESS)
		text_copy(out->reason, sizeof(out->reason),
		    SPF_strerror(err != SPF_E_SUCCESS ? err : resp->err), NULL);
	else
		text_copy(out->reason, sizeof(out->reason),
		    SPF_strreason(resp->reason), NULL);
}

/* spf_evaluate - check_host() for a prepared request */
static void
spf_evaluate(struct spf_eval *ev, struct spf_outcome *out)
{
	SPF_server_t *server = ev->c->server;
	SPF_response_t *resp = SPF_response_new(ev->req);
	SPF_record_t *rec = NULL;
	SPF_errcode_t err;

	if (resp == NULL) {
		out->result = SPF_RES_TEMPERROR;
		text_copy(out->reason, sizeof(out->reason), "out of memory",
		    NULL);
		return;
	}
	ev->req->cur_dom = ev->req->env_from_dp;
	err = SPF_server_get_record(server, ev->req, resp, &rec);
	if (err == SPF_E_SUCCESS) {
		resp->spf_record_exp = rec;
		err = SPF_record_interpret(rec, ev->req, resp, 0);
		resp->spf_record_exp = NULL;
		out->result = spf_map(resp->result);
		if (resp->result == SPF_RESULT_INVALID && err == SPF_E_DNS_ERROR)
			out->result = SPF_RES_TEMPERROR;
	} else if (err == SPF_E_DNS_ERROR) {
		out->result = SPF_RES_TEMPERROR;
	} else {
		out->result = resp->result == SPF_RESULT_NONE ? SPF_RES_NONE :
		    SPF_RES_PERMERROR;
	}
	spf_reason(resp, err, out);
	if (ev->limit != NULL) {
		out->result = SPF_RES_PERMERROR;
		text_copy(out->reason, sizeof(out->reason), ev->limit, NULL);
	} else if (rec != NULL && resp->reason == SPF_REASON_MECH &&
	    out->result != SPF_RES_TEMPERROR && out->result != SPF_RES_PERMERROR) {
		spf_attribute(ev, ev->req->env_from_dp, resp->result, out);
	}
	if (out->result == SPF_RES_FAIL && ev->exp_asked &&
	    resp->explanation != NULL &&
	    strcmp(resp->explanation, SPF_EXP_SENTINEL) == 0)
		spf_explain(ev, out);
	if (rec != NULL)
		SPF_record_free(rec);
	SPF_response_free(resp);
}

/* spf_domain_ok - RFC 7208 §4.3: a multi-label name, labels 1..63 */
static bool
spf_domain_ok(const char *d)
{
	size_t len = strlen(d), label = 0, labels = 0, i;

	if (len > 0 && d[len - 1] == '.')
		len--;
	if (len == 0 || len > 253 || d[0] == '[')
		return false;
	for (i = 0; i <= len; i++) {
		if (i == len || d[i] == '.') {
			if (label == 0 || label > 63)
				return false;
			labels++;
			label = 0;
		} else {
			label++;
		}
	}
	return labels >= 2;
}

/* spf_client - parse the client address; IPv4-mapped IPv6 is IPv4 */
static int
spf_client(SPF_request_t *req, const char *ip)
{
	char buf[INET6_ADDRSTRLEN + 8];
	struct in6_addr a6;
	struct in_addr a4;
	size_t len;

	if (ip == NULL)
		return SCOPE_EINVAL;
	if (strncasecmp(ip, "IPv6:", 5) == 0)
		ip += 5;
	len = strlen(ip);
	if (len >= 2 && ip[0] == '[' && ip[len - 1] == ']') {
		ip++;
		len -= 2;
	}
	if (len >= sizeof(buf))
		return SCOPE_EINVAL;
	memcpy(buf, ip, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, &a4) == 1)
		return SPF_request_set_ipv4(req, a4) == SPF_E_SUCCESS ?
		    SCOPE_OK : SCOPE_ENOMEM;
	if (inet_pton(AF_INET6, buf, &a6) != 1)
		return SCOPE_EINVAL;
	if (IN6_IS_ADDR_V4MAPPED(&a6)) {
		memcpy(&a4, &a6.s6_addr[12], 4);
		return SPF_request_set_ipv4(req, a4) == SPF_E_SUCCESS ?
		    SCOPE_OK : SCOPE_ENOMEM;
	}
	return SPF_request_set_ipv6(req, a6) == SPF_E_SUCCESS ?
	    SCOPE_OK : SCOPE_ENOMEM;
}

/* spf_eval_free - release what an evaluation kept */
static void
spf_eval_free(struct spf_eval *ev)
{
	unsigned i;

	for (i = 0; i < ev->nmemo; i++)
		SPF_dns_rr_free(ev->memo[i]);
	free(ev->memo);
	for (i = 0; i < ev->nrecs; i++) {
		free(ev->recs[i].domain);
		free(ev->recs[i].text);
	}
	spf_addrs_set(ev, NULL);
	if (ev->req != NULL)
		SPF_request_free(ev->req);
}

/* spf_check - one identity: sender is local@domain (local may be empty) */
static int
spf_check(struct spf_checker *c, struct dns_ctx *dns, const char *client_ip,
    const char *helo, const char *local, size_t local_len, const char *domain,
    struct spf_outcome *out)
{
	struct spf_eval ev;
	char *sender;
	size_t dlen = strlen(domain);
	unsigned start;
	int rc;

	memset(out, 0, sizeof(*out));
	out->result = SPF_RES_NONE;
	out->dnssec = DNS_SEC_INSECURE;
	if (local_len == 0) {
		local = "postmaster";	/* RFC 7208 §4.3 */
		local_len = 10;
	}
	sender = malloc(local_len + dlen + 2);
	if (sender == NULL)
		return SCOPE_ENOMEM;
	memcpy(sender, local, local_len);
	sender[local_len] = '@';
	memcpy(sender + local_len + 1, domain, dlen + 1);
	text_copy(out->identity, sizeof(out->identity), sender, NULL);
	text_copy(out->domain, sizeof(out->domain), domain, NULL);

	memset(&ev, 0, sizeof(ev));
	ev.c = c;
	ev.dns = dns;
	ev.req = SPF_request_new(c->server);
	if (ev.req == NULL) {
		free(sender);
		return SCOPE_ENOMEM;
	}
	rc = spf_client(ev.req, client_ip);
	if (rc != SCOPE_OK) {
		text_copy(out->reason, sizeof(out->reason), rc == SCOPE_EINVAL ?
		    "client address is not an IP address" : "out of memory",
		    NULL);
		free(sender);
		spf_eval_free(&ev);
		return rc;
	}
	if (!spf_domain_ok(domain)) {
		text_copy(out->reason, sizeof(out->reason),
		    "not a multi-label domain name (RFC 7208 4.3)", NULL);
		free(sender);
		spf_eval_free(&ev);
		return SCOPE_OK;
	}
	if (SPF_request_set_env_from(ev.req, sender) != SPF_E_SUCCESS ||
	    SPF_request_set_helo_dom(ev.req, helo != NULL ? helo : "") !=
	    SPF_E_SUCCESS || ev.req->env_from_dp == NULL) {
		free(sender);
		spf_eval_free(&ev);
		return SCOPE_ENOMEM;
	}
	free(sender);
	start = dns->total;
	spf_cur = &ev;
	spf_evaluate(&ev, out);
	spf_cur = NULL;
	out->lookups = dns->total - start;
	if (ev.sec_known)
		out->dnssec = ev.sec;
	spf_eval_free(&ev);
	return SCOPE_OK;
}

/* spf_check_mailfrom - the MAIL FROM identity (RFC 7208 §2.4) */
int
spf_check_mailfrom(struct spf_checker *c, struct dns_ctx *dns,
    const char *client_ip, const char *helo, const char *mailfrom,
    struct spf_outcome *out)
{
	const char *from = mailfrom != NULL ? mailfrom : "", *at;
	size_t len = strlen(from);

	if (len >= 2 && from[0] == '<' && from[len - 1] == '>') {
		from++;
		len -= 2;
	}
	if (len == 0)	/* null sender: postmaster@HELO */
		return spf_check_helo(c, dns, client_ip, helo, out);
	at = memrchr(from, '@', len);
	if (at == NULL) {	/* no local part: postmaster@domain */
		char dom[DNS_NAME_MAX * 2];

		if (len >= sizeof(dom))
			len = sizeof(dom) - 1;
		memcpy(dom, from, len);
		dom[len] = '\0';
		return spf_check(c, dns, client_ip, helo, "", 0, dom, out);
	}
	{
		char dom[DNS_NAME_MAX * 2];
		size_t dlen = len - (size_t)(at + 1 - from);

		if (dlen >= sizeof(dom))
			dlen = sizeof(dom) - 1;
		memcpy(dom, at + 1, dlen);
		dom[dlen] = '\0';
		return spf_check(c, dns, client_ip, helo, from,
		    (size_t)(at - from), dom, out);
	}
}

/* spf_check_helo - the HELO identity (RFC 7208 §2.3) */
int
spf_check_helo(struct spf_checker *c, struct dns_ctx *dns,
    const char *client_ip, const char *helo, struct spf_outcome *out)
{
	char dom[DNS_NAME_MAX * 2];

	snprintf(dom, sizeof(dom), "%s", helo != NULL ? helo : "");
	return spf_check(c, dns, client_ip, helo, "", 0, dom, out);
}

/* spf_quiet - libspf2 prints warnings to stderr; a daemon wants none */
static void
spf_quiet(void)
{
	SPF_warning_handler = NULL;
	SPF_info_handler = NULL;
	SPF_debug_handler = NULL;
}

/* spf_checker_new - a libspf2 server on our DNS layer */
int
spf_checker_new(struct spf_checker **out)
{
	struct spf_checker *c = calloc(1, sizeof(*c));
	SPF_response_t *resp = NULL;

	*out = NULL;
	if (c == NULL)
		return SCOPE_ENOMEM;
	pthread_once(&spf_once, spf_quiet);
	c->layer.lookup = spf_dns_lookup;
	c->layer.get_spf = spf_get_record;
	c->layer.get_exp = spf_get_exp;
	c->layer.name = "smtpscope";
	c->server = SPF_server_new_dns(&c->layer, 0);
	if (c->server == NULL) {
		free(c);
		return SCOPE_ENOMEM;
	}
	/* no default explanation: ours is exp= or nothing */
	SPF_server_set_explanation(c->server, "", &resp);
	if (resp != NULL)
		SPF_response_free(resp);
	*out = c;
	return SCOPE_OK;
}

/* spf_checker_free - release the server (the layer is part of c) */
void
spf_checker_free(struct spf_checker *c)
{
	if (c == NULL)
		return;
	SPF_server_free(c->server);
	free(c);
}
