/*
 * spf.c - SPF checks (RFC 7208) with libspf2 whose DNS layer is lib/dns.
 *
 * A checker is one libspf2 SPF_server_t whose SPF_dns_server_t is ours
 * (spf_dns.c). libspf2's callbacks get no per-request context, so the
 * running evaluation (struct spf_eval: its dns_ctx, counters, answers)
 * sits in the thread-local spf_current for the duration of one check;
 * libmilter runs each callback synchronously on its thread. There is no
 * libspf2 cache: every lookup libspf2 asks for is one dns_query(), listed
 * in the caller's dns_ctx and counted in spf_outcome.lookups.
 *
 * What the glue does about libspf2 1.2.10 (docs/spf-conformance.md):
 *  - the entry point is ours, not SPF_request_query_mailfrom(): loopback
 *    clients get no free pass, a DNS error while fetching the record is
 *    temperror instead of "(invalid)", a record libspf2 cannot compile
 *    is permerror, and the domain is checked first (§4.3: none);
 *  - records are fetched by spf_dns.c (TXT only, selected by §4.5) and
 *    checked and rewritten by spf_syntax.c before libspf2 compiles them;
 *  - the §4.6.4 limits are counted over the whole check (spf_dns.c);
 *  - every macro is expanded by spf_macro.c, not libspf2 (whose DIGIT
 *    transformer drops a character): domain-specs before libspf2
 *    compiles a record (spf_syntax.c), explanations and redirect
 *    targets here;
 *  - exp= is looked up only when the final result is fail;
 *  - the term that matched is found by replaying the published terms one
 *    by one from the answers already received (no new queries).
 * Owns: everything it allocates per check is freed before returning.
 * Fails: out of memory inside libspf2 aborts (the library's policy);
 * every DNS or record problem is an SPF result, not an error.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "errors.h"
#include "auth/spf_internal.h"
#include "auth/spf_syntax.h"
#include "text.h"

#define SPF_REPLAY_MAX	11	/* records followed by redirect, replaying */

__thread struct spf_eval *spf_current;
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

/* spf_ptr_name - %{p}: libspf2's validated client name, found on demand
 * through our DNS layer and kept in the request */
static const char *
spf_ptr_name(void *arg)
{
	return SPF_request_get_client_dom((SPF_request_t *)arg);
}

/* spf_macro_vars_init - the macro values of this check at domain 'dom' */
void
spf_macro_vars_init(struct spf_eval *ev, const char *dom,
    struct spf_macro_vars *v)
{
	SPF_request_t *req = ev->req;

	memset(v, 0, sizeof(*v));
	v->sender = req->env_from != NULL ? req->env_from : "";
	v->local = req->env_from_lp != NULL ? req->env_from_lp : "";
	v->sender_dom = req->env_from_dp != NULL ? req->env_from_dp : "";
	v->domain = dom != NULL ? dom : v->sender_dom;
	v->helo = req->helo_dom != NULL ? req->helo_dom : "";
	v->receiver = SPF_request_get_rec_dom(req);
	v->family = req->client_ver;
	if (req->client_ver == AF_INET6)
		memcpy(v->addr, &req->ipv6, 16);
	else
		memcpy(v->addr, &req->ipv4, 4);
	v->now = (long long)time(NULL);
	v->ptr_name = spf_ptr_name;
	v->ptr_arg = req;
}

/* spf_expand - expand a domain-spec for the request at domain 'dom' */
static char *
spf_expand(struct spf_eval *ev, const char *macro_text, size_t len,
    const char *dom)
{
	struct spf_macro_vars v;

	spf_macro_vars_init(ev, dom, &v);
	return spf_macro_expand(&v, macro_text, len, SPF_MACRO_DOMAIN);
}

/* spf_explain_text - expand an explain-string (§6.2) with spf_macro.c */
static void
spf_explain_text(struct spf_eval *ev, const char *txt, struct spf_outcome *out)
{
	struct spf_macro_vars v;
	char *x;

	spf_macro_vars_init(ev, ev->exp_dom, &v);
	x = spf_macro_expand(&v, txt, strlen(txt), SPF_MACRO_EXPLAIN);
	if (x == NULL)
		return;	/* no explanation */
	text_copy(out->explanation, sizeof(out->explanation), x, NULL);
	free(x);
}

/* spf_explain - RFC 7208 §6.2: the exp= text, for a final fail; one TXT
 * record or none, an explain-string or none */
static void
spf_explain(struct spf_eval *ev, struct spf_outcome *out)
{
	SPF_dns_rr_t *rr;

	ev->explaining = true;
	rr = spf_dns_query(ev, &ev->c->layer, ev->exp_name, ns_t_txt,
	    SPF_KIND_OTHER);
	if (rr == NULL)
		return;
	if (rr->herrno == NETDB_SUCCESS && rr->num_rr == 1 &&
	    spf_syntax_explain(rr->rr[0]->txt))
		spf_explain_text(ev, rr->rr[0]->txt, out);
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
	char text[SPF_TERM_MAX + 8], *fixed;
	struct spf_macro_vars v;
	bool hit = false;

	spf_macro_vars_init(ev, dom, &v);
	fixed = spf_syntax_term(term, len, ev->req->client_ver, &v);
	if (resp == NULL || fixed == NULL || fixed[0] == '\0' ||
	    strlen(fixed) > SPF_TERM_MAX) {
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
		text = spf_dns_rec_find(ev, dom);
		if (text == NULL)
			break;
		redirect = NULL;
		redirect_len = 0;
		all = false;
		for (pos = 6; spf_syntax_next(text, &pos, &t, &len);) {
			if (spf_syntax_modifier(t, len, &nlen)) {
				if (nlen == 8 &&
				    strncasecmp(t, "redirect", 8) == 0) {
					redirect = t + 9;
					redirect_len = len - 9;
				}
				continue;
			}
			all = all || spf_syntax_is_all(t, len);
			if (spf_try_term(ev, t, len, dom, want)) {
				text_clean(out->mechanism,
				    sizeof(out->mechanism), t, len, NULL);
				ev->replay = false;
				return;
			}
		}
		if (redirect == NULL || all || redirect_len >= sizeof(dom))
			break;
		next = spf_expand(ev, redirect, redirect_len, dom);
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
		if (resp->result == SPF_RESULT_INVALID &&
		    err == SPF_E_DNS_ERROR)
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
	    out->result != SPF_RES_TEMPERROR &&
	    out->result != SPF_RES_PERMERROR) {
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
	spf_dns_eval_free(ev);
	if (ev->req != NULL)
		SPF_request_free(ev->req);
	ev->req = NULL;
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
	spf_current = &ev;
	spf_evaluate(&ev, out);
	spf_current = NULL;
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

	if (c == NULL || dns == NULL || out == NULL)
		return SCOPE_EINVAL;
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

	if (c == NULL || dns == NULL || out == NULL)
		return SCOPE_EINVAL;
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
	c->layer.get_spf = spf_dns_get_record;
	c->layer.get_exp = spf_dns_get_exp;
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
