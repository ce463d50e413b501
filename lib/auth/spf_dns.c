/*
 * spf_dns.c - libspf2's DNS layer on lib/dns, with RFC 7208's limits.
 *
 * The SPF_dns_server_t of a checker calls these: spf_dns_lookup() for
 * every A, AAAA, MX, PTR and TXT query libspf2 makes, spf_dns_get_record()
 * to fetch and select a record, spf_dns_get_exp() when libspf2 wants an
 * explanation. Each query is one dns_query() on the dns_ctx of the
 * evaluation running on this thread (spf_current), converted to an
 * SPF_dns_rr_t: NXDOMAIN is HOST_NOT_FOUND, NOERROR without records is
 * NO_DATA, a timeout, SERVFAIL or any other rcode is TRY_AGAIN (so
 * libspf2 yields temperror). Type SPF (99) is never asked for.
 *
 * Here the limits of RFC 7208 §4.6.4 are counted over the whole check:
 * lookups are classified as the record of the checked domain, a
 * DNS-querying term (include, a, mx, ptr, exists, redirect, %{p}), the
 * address lookups of an MX or PTR answer's names, or exp=. The 11th term
 * or the 3rd void term sets ev->limit and every later lookup answers
 * TRY_AGAIN without asking, so libspf2 stops; spf.c then reports
 * permerror. PTR answers keep their first 10 names.
 *
 * Every answer is kept (ev->memo) so that spf.c can replay terms to find
 * the one that matched without asking again. Owns: the memo, the kept
 * records and the last MX/PTR answer, released by spf_dns_eval_free().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "errors.h"
#include "auth/spf_internal.h"
#include "auth/spf_syntax.h"

/* spf_dns_name_eq - same DNS name, ignoring case and one trailing dot */
static bool
spf_dns_name_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

/* spf_dns_rr_new - an answer without records */
static SPF_dns_rr_t *
spf_dns_rr_new(SPF_dns_server_t *srv, const char *domain, ns_type type,
    SPF_dns_stat_t herrno)
{
	return SPF_dns_rr_new_init(srv, domain, type, 0, herrno);
}

/* spf_dns_dname - a name rdf as text without the final dot (caller frees) */
static char *
spf_dns_dname(const ldns_rdf *rdf)
{
	char *s, text[DNS_NAME_TEXT_MAX];
	size_t len;

	if (rdf == NULL || ldns_rdf_get_type(rdf) != LDNS_RDF_TYPE_DNAME)
		return NULL;
	if (dns_name_text(rdf, text, sizeof(text)) == SCOPE_OK)
		s = strdup(text);
	else
		s = ldns_rdf2str(rdf);	/* malformed: as before */
	if (s == NULL)
		return NULL;
	len = strlen(s);
	if (len > 0 && s[len - 1] == '.')
		s[len - 1] = '\0';
	return s;
}

/* spf_dns_rr_put - store one record's data at index n; false if malformed */
static bool
spf_dns_rr_put(SPF_dns_rr_t *rr, int n, const ldns_rr *lr)
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
		name = spf_dns_dname(ldns_rr_rdf(lr,
		    rr->rr_type == ns_t_mx ? 1 : 0));
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
		for (i = 0, len = 0; i < ldns_rr_rd_count(lr); i++) {
			rdf = ldns_rr_rdf(lr, i);
			if (ldns_rdf_get_type(rdf) != LDNS_RDF_TYPE_STR ||
			    ldns_rdf_size(rdf) < 1 ||
			    ldns_rdf_data(rdf)[0] + 1U > ldns_rdf_size(rdf))
				return false;
			len += ldns_rdf_data(rdf)[0];
		}
		if (SPF_dns_rr_buf_realloc(rr, n, len + 1) != SPF_E_SUCCESS)
			return false;
		for (i = 0; i < ldns_rr_rd_count(lr); i++) {
			d = ldns_rdf_data(ldns_rr_rdf(lr, i));
			memcpy(rr->rr[n]->txt + used, d + 1, d[0]);
			used += d[0];
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

/* spf_dns_rr_from_answer - our answer as libspf2's; never NULL unless OOM */
static SPF_dns_rr_t *
spf_dns_rr_from_answer(SPF_dns_server_t *srv, const char *domain, ns_type type,
    const struct dns_answer *a)
{
	ldns_rr_list *list;
	SPF_dns_rr_t *rr;
	size_t i, count;
	int n = 0;

	if (a->rcode == LDNS_RCODE_NXDOMAIN)
		return spf_dns_rr_new(srv, domain, type, HOST_NOT_FOUND);
	if (a->rcode != LDNS_RCODE_NOERROR)	/* timeout, SERVFAIL, ... */
		return spf_dns_rr_new(srv, domain, type, TRY_AGAIN);
	list = dns_answer_records(a, (uint16_t)type);
	count = list != NULL ? ldns_rr_list_rr_count(list) : 0;
	if (count == 0) {
		ldns_rr_list_free(list);
		return spf_dns_rr_new(srv, domain, type, NO_DATA);
	}
	rr = spf_dns_rr_new(srv, domain, type, NETDB_SUCCESS);
	if (rr == NULL) {
		ldns_rr_list_free(list);
		return NULL;
	}
	for (i = 0; i < count; i++)
		if (spf_dns_rr_put(rr, n, ldns_rr_list_rr(list, i)))
			n++;	/* a malformed record is skipped, not trusted */
	ldns_rr_list_free(list);
	rr->num_rr = n;
	if (n == 0)
		rr->herrno = NO_DATA;
	return rr;
}

/* spf_dns_memo_add - keep a copy of an answer for the replay */
static void
spf_dns_memo_add(struct spf_eval *ev, SPF_dns_rr_t *rr)
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

/* spf_dns_memo_get - a copy of a remembered answer, TRY_AGAIN when none */
static SPF_dns_rr_t *
spf_dns_memo_get(struct spf_eval *ev, SPF_dns_server_t *srv, const char *domain,
    ns_type type)
{
	SPF_dns_rr_t *copy = NULL;
	unsigned i;

	for (i = 0; i < ev->nmemo; i++) {
		if (ev->memo[i]->rr_type != type ||
		    ev->memo[i]->domain == NULL ||
		    !spf_dns_name_eq(ev->memo[i]->domain, domain))
			continue;
		if (SPF_dns_rr_dup(&copy, ev->memo[i]) == SPF_E_SUCCESS)
			return copy;
		if (copy != NULL)
			SPF_dns_rr_free(copy);
		break;
	}
	return spf_dns_rr_new(srv, domain, type, TRY_AGAIN);
}

/* spf_dns_addrs_set - the names whose address lookups come next */
static void
spf_dns_addrs_set(struct spf_eval *ev, SPF_dns_rr_t *rr)
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

/* spf_dns_kind_of - what a lookup libspf2 asks for is, for the limits */
static enum spf_kind
spf_dns_kind_of(struct spf_eval *ev, const char *domain, ns_type type)
{
	if (ev->explaining)
		return SPF_KIND_OTHER;
	if ((type == ns_t_a || type == ns_t_aaaa) && ev->addrs != NULL &&
	    ev->addr_next < ev->addrs->num_rr &&
	    spf_dns_name_eq(ev->addrs->rr[ev->addr_next]->ptr, domain)) {
		ev->addr_next++;
		return SPF_KIND_ADDR;
	}
	spf_dns_addrs_set(ev, NULL);
	return type == ns_t_txt ? SPF_KIND_OTHER : SPF_KIND_TERM;
}

/* spf_dns_qname - the name to ask for: without our "any address" label,
 * and cut to 253 characters from the left (RFC 7208 §7.3) */
static const char *
spf_dns_qname(const char *domain, bool *any)
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

/* spf_dns_any - a /0 prefix on a or mx (spf_syntax.c): any address record
 * stands for the client's own; MX targets carry the label on */
static void
spf_dns_any(struct spf_eval *ev, SPF_dns_rr_t *rr)
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

/* spf_dns_query - one lookup for libspf2 through dns_query(), counted */
SPF_dns_rr_t *
spf_dns_query(struct spf_eval *ev, SPF_dns_server_t *srv, const char *domain,
    ns_type type, enum spf_kind kind)
{
	struct dns_answer a;
	SPF_dns_rr_t *rr;
	const char *qname;
	bool is_void, any;

	if (ev->limit != NULL)	/* over: stop libspf2 without asking */
		return spf_dns_rr_new(srv, domain, type, TRY_AGAIN);
	if (kind == SPF_KIND_TERM && ++ev->terms > SPF_TERMS_MAX) {
		ev->limit = "more than 10 DNS-querying terms (RFC 7208 4.6.4)";
		return spf_dns_rr_new(srv, domain, type, TRY_AGAIN);
	}
	ev->last_sec = DNS_SEC_INSECURE;
	qname = spf_dns_qname(domain, &any);
	if (dns_query(ev->dns, qname, (uint16_t)type, &a) != SCOPE_OK) {
		/* not a name we can ask for (bad label): none */
		return spf_dns_rr_new(srv, domain, type, HOST_NOT_FOUND);
	}
	ev->last_sec = a.sec;
	rr = spf_dns_rr_from_answer(srv, domain, type, &a);
	dns_answer_free(&a);
	if (rr == NULL)
		return NULL;
	if (any)
		spf_dns_any(ev, rr);
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
		spf_dns_memo_add(ev, rr);
	if ((type == ns_t_mx || type == ns_t_ptr) && kind == SPF_KIND_TERM &&
	    rr->herrno == NETDB_SUCCESS)
		spf_dns_addrs_set(ev, rr);
	return rr;
}

/* spf_dns_lookup - libspf2's lookup callback */
SPF_dns_rr_t *
spf_dns_lookup(SPF_dns_server_t *srv, const char *domain, ns_type type,
    int should_cache)
{
	struct spf_eval *ev = spf_current;

	(void)should_cache;
	if (domain == NULL)
		domain = "";
	if (ev == NULL)
		return spf_dns_rr_new(srv, domain, type, TRY_AGAIN);
	if (type == ns_t_spf)	/* RFC 7208 §3.1: type SPF is not used */
		return spf_dns_rr_new(srv, domain, type, NO_DATA);
	if (ev->replay)
		return spf_dns_memo_get(ev, srv, domain, type);
	return spf_dns_query(ev, srv, domain, type,
	    spf_dns_kind_of(ev, domain, type));
}

/* spf_dns_is_v1 - does a TXT string start with the version section? (§4.5) */
static bool
spf_dns_is_v1(const char *txt)
{
	return strncasecmp(txt, "v=spf1", 6) == 0 &&
	    (txt[6] == ' ' || txt[6] == '\0');
}

/* spf_dns_rec_keep - remember a fetched record for finding the term */
static void
spf_dns_rec_keep(struct spf_eval *ev, const char *domain, const char *text)
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

/* spf_dns_rec_find - the record kept for a domain */
const char *
spf_dns_rec_find(const struct spf_eval *ev, const char *domain)
{
	unsigned i;

	for (i = 0; i < ev->nrecs; i++)
		if (spf_dns_name_eq(ev->recs[i].domain, domain))
			return ev->recs[i].text;
	return NULL;
}

/* spf_dns_get_record - the layer's get_spf hook: fetch, select, compile */
SPF_errcode_t
spf_dns_get_record(SPF_server_t *server, SPF_request_t *req,
    SPF_response_t *resp, SPF_record_t **recp)
{
	struct spf_eval *ev = spf_current;
	const char *domain = req->cur_dom, *found = NULL, *why;
	SPF_dns_server_t *srv = server->resolver;
	struct spf_macro_vars vars;
	SPF_dns_rr_t *rr;
	SPF_errcode_t err;
	char *fixed;
	size_t at;
	int i, n = 0;
	bool top;

	*recp = NULL;
	if (ev == NULL || domain == NULL)
		return SPF_response_add_error(resp, SPF_E_DNS_ERROR,
		    "no DNS context");
	top = !ev->replay && ev->fetches++ == 0;
	if (!ev->replay)
		spf_dns_addrs_set(ev, NULL);
	rr = ev->replay ? spf_dns_memo_get(ev, srv, domain, ns_t_txt) :
	    spf_dns_query(ev, srv, domain, ns_t_txt,
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
		if (spf_dns_is_v1(rr->rr[i]->txt)) {
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
		spf_dns_rec_keep(ev, domain, found);
	spf_macro_vars_init(ev, domain, &vars);
	fixed = spf_syntax_record(found, req->client_ver, &vars, &why, &at);
	if (fixed == NULL) {
		err = SPF_response_add_error(resp, SPF_E_SYNTAX,
		    "%s at \"%.*s\" in the record of %s", why,
		    (int)strcspn(found + at, " ") > 40 ? 40 :
		    (int)strcspn(found + at, " "), found + at, domain);
		SPF_dns_rr_free(rr);
		return err;
	}
	SPF_dns_rr_free(rr);
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

/* spf_dns_get_exp - the layer's get_exp hook: note the exp= name, look it
 * up later only if the final result is fail */
SPF_errcode_t
spf_dns_get_exp(SPF_server_t *server, const char *domain, char **bufp,
    size_t *buflenp)
{
	struct spf_eval *ev = spf_current;
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

/* spf_dns_eval_free - release the answers and records an evaluation kept */
void
spf_dns_eval_free(struct spf_eval *ev)
{
	unsigned i;

	for (i = 0; i < ev->nmemo; i++)
		SPF_dns_rr_free(ev->memo[i]);
	free(ev->memo);
	ev->memo = NULL;
	ev->nmemo = 0;
	for (i = 0; i < ev->nrecs; i++) {
		free(ev->recs[i].domain);
		free(ev->recs[i].text);
	}
	ev->nrecs = 0;
	spf_dns_addrs_set(ev, NULL);
}
