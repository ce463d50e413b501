/*
 * dns.c - resolvers, per-message contexts, one query with its DNSSEC status.
 *
 * Network lookups use a per-context clone of one configured ldns resolver
 * (ldns resolvers are not shared between threads), with EDNS0 (1232-byte
 * UDP payload), the DO bit, TCP fallback on truncation, and a per-try
 * timeout cut to what is left of the context's budget. Owns: the resolver
 * (dns_resolver_free), the context's clone (dns_ctx_free), answer packets
 * (dns_answer_free).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "dns/dns_internal.h"
#include "errors.h"
#include "stats.h"
#include "text.h"

static const char *const dns_sec_names[] = {
	"insecure", "secure", "bogus", "error", "timeout"
};

/* dns_sec_name - the record's name of a status */
const char *
dns_sec_name(enum dns_sec sec)
{
	return dns_sec_names[sec];
}

/* dns_sec_worst - bogus beats error beats timeout beats insecure beats secure */
enum dns_sec
dns_sec_worst(enum dns_sec a, enum dns_sec b)
{
	static const int rank[] = { 1, 0, 4, 3, 2 };	/* by enum value */

	return rank[a] >= rank[b] ? a : b;
}

/* dns_push_server - one "ip", "ip:port" or "[v6]:port" */
static int
dns_push_server(ldns_resolver *lr, const char *spec, int *port)
{
	char host[64];
	const char *colon, *end;
	ldns_rdf *addr;
	long p = 53;
	size_t len;

	if (spec[0] == '[') {
		end = strchr(spec, ']');
		if (end == NULL)
			return SCOPE_EINVAL;
		len = (size_t)(end - spec - 1);
		spec++;
		colon = end[1] == ':' ? end + 1 : NULL;
	} else {
		colon = strchr(spec, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL)
			colon = NULL;	/* a bare IPv6 address */
		len = colon != NULL ? (size_t)(colon - spec) : strlen(spec);
	}
	if (len == 0 || len >= sizeof(host))
		return SCOPE_EINVAL;
	memcpy(host, spec, len);
	host[len] = '\0';
	if (colon != NULL &&
	    text_parse_long(colon + 1, 10, 1, 65535, &p) != SCOPE_OK)
		return SCOPE_EINVAL;
	if (*port != 0 && *port != p)
		return SCOPE_ERANGE;	/* ldns has one port for all servers */
	*port = (int)p;
	addr = ldns_rdf_new_frm_str(strchr(host, ':') ? LDNS_RDF_TYPE_AAAA :
	    LDNS_RDF_TYPE_A, host);
	if (addr == NULL)
		return SCOPE_EINVAL;
	if (ldns_resolver_push_nameserver(lr, addr) != LDNS_STATUS_OK) {
		ldns_rdf_deep_free(addr);
		return SCOPE_ENOMEM;
	}
	ldns_rdf_deep_free(addr);
	return SCOPE_OK;
}

/* dns_servers - fill a resolver from the Nameservers list */
static int
dns_servers(ldns_resolver *lr, const char *servers, char *err, size_t errsz)
{
	char buf[1024], *tok, *save = NULL;
	int port = 0, rc;

	if ((size_t)snprintf(buf, sizeof(buf), "%s", servers) >= sizeof(buf)) {
		snprintf(err, errsz, "Nameservers list too long");
		return SCOPE_ETOOBIG;
	}
	for (tok = strtok_r(buf, " ,\t", &save); tok != NULL;
	    tok = strtok_r(NULL, " ,\t", &save)) {
		rc = dns_push_server(lr, tok, &port);
		if (rc != SCOPE_OK) {
			snprintf(err, errsz, rc == SCOPE_ERANGE ? "'%s': all "
			    "name servers must use the same port" :
			    "'%s': expected ip, ip:port or [ipv6]:port", tok);
			return rc;
		}
	}
	if (port == 0) {
		snprintf(err, errsz, "no name server given");
		return SCOPE_EINVAL;
	}
	ldns_resolver_set_port(lr, (uint16_t)port);
	return SCOPE_OK;
}

/* dns_resolver_new - a network resolver */
int
dns_resolver_new(struct dns_resolver **out, const char *servers,
    long timeout_ms, long retries, char *err, size_t errsz)
{
	struct dns_resolver *r = calloc(1, sizeof(*r));
	ldns_resolver *lr = NULL;
	int rc = SCOPE_OK;

	*out = NULL;
	if (r == NULL)
		return SCOPE_ENOMEM;
	if (servers == NULL) {
		if (ldns_resolver_new_frm_file(&lr, NULL) != LDNS_STATUS_OK) {
			snprintf(err, errsz, "cannot read /etc/resolv.conf");
			rc = SCOPE_EIO;
		}
	} else if ((lr = ldns_resolver_new()) == NULL) {
		rc = SCOPE_ENOMEM;
	} else {
		rc = dns_servers(lr, servers, err, errsz);
	}
	if (rc != SCOPE_OK) {
		if (lr != NULL)
			ldns_resolver_deep_free(lr);
		free(r);
		return rc;
	}
	ldns_resolver_set_recursive(lr, true);
	ldns_resolver_set_dnssec(lr, true);
	ldns_resolver_set_edns_udp_size(lr, 1232);
	ldns_resolver_set_fallback(lr, true);
	ldns_resolver_set_defnames(lr, false);
	ldns_resolver_set_dnsrch(lr, false);
	ldns_resolver_set_retry(lr, 1);
	r->tmpl = lr;
	r->timeout_ms = timeout_ms;
	r->retries = retries;
	*out = r;
	return SCOPE_OK;
}

/* dns_resolver_new_zones - in-memory data */
int
dns_resolver_new_zones(struct dns_resolver **out, long timeout_ms)
{
	struct dns_resolver *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (r == NULL)
		return SCOPE_ENOMEM;
	r->rrs = ldns_rr_list_new();
	r->timeouts = ldns_rr_list_new();
	if (r->rrs == NULL || r->timeouts == NULL) {
		dns_resolver_free(r);
		return SCOPE_ENOMEM;
	}
	r->timeout_ms = timeout_ms;
	*out = r;
	return SCOPE_OK;
}

/* dns_zone_load - a master file into the in-memory data */
int
dns_zone_load(struct dns_resolver *r, const char *path, char *err,
    size_t errsz)
{
	FILE *fp = fopen(path, "r");
	ldns_rr_list *copy;
	ldns_zone *z = NULL;
	ldns_status st;
	int line = 0;

	if (fp == NULL) {
		snprintf(err, errsz, "%s: cannot open", path);
		return SCOPE_EIO;
	}
	st = ldns_zone_new_frm_fp_l(&z, fp, NULL, 3600, LDNS_RR_CLASS_IN, &line);
	fclose(fp);
	if (st != LDNS_STATUS_OK) {
		snprintf(err, errsz, "%s:%d: %s", path, line,
		    ldns_get_errorstr_by_id(st));
		return SCOPE_EINVAL;
	}
	copy = ldns_rr_list_clone(ldns_zone_rrs(z));
	if (copy == NULL || (ldns_zone_soa(z) != NULL &&
	    !ldns_rr_list_push_rr(copy, ldns_rr_clone(ldns_zone_soa(z)))) ||
	    !ldns_rr_list_cat(r->rrs, copy)) {
		ldns_rr_list_deep_free(copy);
		ldns_zone_deep_free(z);
		return SCOPE_ENOMEM;
	}
	ldns_rr_list_free(copy);	/* its records now belong to r->rrs */
	ldns_zone_deep_free(z);
	return SCOPE_OK;
}

/* dns_zone_add - one record in master-file syntax */
int
dns_zone_add(struct dns_resolver *r, const char *rr_text)
{
	ldns_rr *rr = NULL;

	if (ldns_rr_new_frm_str(&rr, rr_text, 3600, NULL, NULL) !=
	    LDNS_STATUS_OK)
		return SCOPE_EINVAL;
	if (!ldns_rr_list_push_rr(r->rrs, rr)) {
		ldns_rr_free(rr);
		return SCOPE_ENOMEM;
	}
	return SCOPE_OK;
}

/* dns_zone_add_timeout - queries for this name never get an answer */
int
dns_zone_add_timeout(struct dns_resolver *r, const char *name)
{
	char text[DNS_NAME_MAX + 32];
	ldns_rr *rr = NULL;

	snprintf(text, sizeof(text), "%s 0 IN TXT \"timeout\"", name);
	if (ldns_rr_new_frm_str(&rr, text, 0, NULL, NULL) != LDNS_STATUS_OK)
		return SCOPE_EINVAL;
	if (!ldns_rr_list_push_rr(r->timeouts, rr)) {
		ldns_rr_free(rr);
		return SCOPE_ENOMEM;
	}
	return SCOPE_OK;
}

/* dns_zone_set_sec - DNSSEC status of the names at and under apex */
int
dns_zone_set_sec(struct dns_resolver *r, const char *apex, enum dns_sec sec)
{
	struct dns_zone_sec *grown;
	ldns_rdf *name = ldns_dname_new_frm_str(apex);

	if (name == NULL)
		return SCOPE_EINVAL;
	grown = realloc(r->secs, (r->nsecs + 1) * sizeof(*grown));
	if (grown == NULL) {
		ldns_rdf_deep_free(name);
		return SCOPE_ENOMEM;
	}
	r->secs = grown;
	grown[r->nsecs].apex = name;
	grown[r->nsecs].sec = sec;
	r->nsecs++;
	return SCOPE_OK;
}

/* dns_resolver_free - release everything */
void
dns_resolver_free(struct dns_resolver *r)
{
	size_t i;

	if (r == NULL)
		return;
	if (r->tmpl != NULL)
		ldns_resolver_deep_free(r->tmpl);
	ldns_rr_list_deep_free(r->rrs);
	ldns_rr_list_deep_free(r->timeouts);
	for (i = 0; i < r->nsecs; i++)
		ldns_rdf_deep_free(r->secs[i].apex);
	free(r->secs);
	free(r);
}

/* dns_ctx_init - a fresh context with the full budget */
int
dns_ctx_init(struct dns_ctx *c, struct dns_resolver *r)
{
	memset(c, 0, sizeof(*c));
	c->r = r;
	c->deadline = clock_mono() + (int64_t)r->timeout_ms * 1000;
	if (r->tmpl != NULL) {
		c->lr = ldns_resolver_clone(r->tmpl);
		if (c->lr == NULL)
			return SCOPE_ENOMEM;
	}
	return SCOPE_OK;
}

/* dns_ctx_free - release the context's resolver */
void
dns_ctx_free(struct dns_ctx *c)
{
	if (c->lr != NULL)
		ldns_resolver_deep_free(c->lr);
	c->lr = NULL;
}

/* dns_send - one network attempt with or without CD; pkt or NULL, and
 * *malformed set when an answer came that did not parse (counted, never
 * trusted) */
static ldns_pkt *
dns_send(struct dns_ctx *c, const ldns_rdf *name, uint16_t qtype, bool cd,
    bool *malformed)
{
	ldns_status st;
	int64_t left = c->deadline - clock_mono();
	struct timeval tv;
	ldns_pkt *pkt = NULL;
	long per_try;

	if (left <= 0)
		return NULL;
	per_try = (long)(left / (c->r->retries + 1));
	if (per_try < 1000)
		per_try = (long)left;
	tv.tv_sec = per_try / 1000000;
	tv.tv_usec = per_try % 1000000;
	ldns_resolver_set_timeout(c->lr, tv);
	ldns_resolver_set_retry(c->lr, (uint8_t)(c->r->retries + 1));
	ldns_resolver_set_dnssec_cd(c->lr, cd);
	st = ldns_resolver_send(&pkt, c->lr, name, qtype, LDNS_RR_CLASS_IN,
	    LDNS_RD);
	if (st == LDNS_STATUS_OK)
		return pkt;
	if (st != LDNS_STATUS_NETWORK_ERR && st != LDNS_STATUS_RES_NO_NS &&
	    st != LDNS_STATUS_SOCKET_ERROR) {
		*malformed = true;
		stats_add(STATS_DNS_MALFORMED, 1);
	}
	return NULL;
}

/* dns_net_answer - a network query classified for DNSSEC */
static void
dns_net_answer(struct dns_ctx *c, const ldns_rdf *name, uint16_t qtype,
    struct dns_answer *out)
{
	bool malformed = false;
	ldns_pkt *pkt = dns_send(c, name, qtype, false, &malformed), *cd;
	int rc;

	out->pkt = NULL;
	if (pkt == NULL) {
		out->rcode = -1;
		out->sec = malformed ? DNS_SEC_ERROR : DNS_SEC_TIMEOUT;
		return;
	}
	out->rcode = ldns_pkt_get_rcode(pkt);
	if (out->rcode == LDNS_RCODE_NOERROR || out->rcode == LDNS_RCODE_NXDOMAIN) {
		out->sec = ldns_pkt_ad(pkt) ? DNS_SEC_SECURE : DNS_SEC_INSECURE;
		out->pkt = pkt;
		return;
	}
	ldns_pkt_free(pkt);
	out->sec = DNS_SEC_ERROR;
	if (out->rcode != LDNS_RCODE_SERVFAIL)
		return;
	cd = dns_send(c, name, qtype, true, &malformed);	/* validation? */
	rc = cd != NULL ? (int)ldns_pkt_get_rcode(cd) : -1;
	if (rc == LDNS_RCODE_NOERROR || rc == LDNS_RCODE_NXDOMAIN)
		out->sec = DNS_SEC_BOGUS;
	if (cd != NULL)
		ldns_pkt_free(cd);
}

/* dns_log_add - remember a lookup for the record */
static void
dns_log_add(struct dns_ctx *c, const char *qname, uint16_t qtype,
    const struct dns_answer *a, int64_t t0)
{
	struct dns_lookup *l;

	c->total++;
	if (c->nlog == DNS_LOG_MAX)
		return;
	l = &c->log[c->nlog++];
	snprintf(l->qname, sizeof(l->qname), "%s", qname);
	l->qtype = qtype;
	l->rcode = a->rcode;
	l->sec = a->sec;
	l->ms = (double)(clock_mono() - t0) / 1000.0;
}

/* dns_query - one lookup through the context */
int
dns_query(struct dns_ctx *c, const char *qname, uint16_t qtype,
    struct dns_answer *out)
{
	int64_t t0 = clock_mono();
	ldns_rdf *name;
	int rc = SCOPE_OK;

	memset(out, 0, sizeof(*out));
	if (strlen(qname) >= DNS_NAME_MAX)
		return SCOPE_ETOOBIG;
	name = ldns_dname_new_frm_str(qname);
	if (name == NULL)
		return SCOPE_EINVAL;
	if (c->lr != NULL)
		dns_net_answer(c, name, qtype, out);
	else
		rc = dns_zone_answer(c->r, name, qtype, out);
	ldns_rdf_deep_free(name);
	if (rc == SCOPE_OK)
		dns_log_add(c, qname, qtype, out, t0);
	return rc;
}

/* dns_answer_free - release the packet */
void
dns_answer_free(struct dns_answer *a)
{
	if (a->pkt != NULL)
		ldns_pkt_free(a->pkt);
	a->pkt = NULL;
}

/* dns_chain_has - is name the query name or a CNAME target on its chain? */
static bool
dns_chain_has(const ldns_rr_list *chain, const ldns_rdf *name)
{
	size_t i;

	for (i = 0; i < ldns_rr_list_rr_count(chain); i++)
		if (ldns_dname_compare(ldns_rr_owner(ldns_rr_list_rr(chain, i)),
		    name) == 0)
			return true;
	return false;
}

/* dns_chain - the query name and the CNAME targets that follow from it,
 * as a list of records whose owners are those names (owned by caller) */
static ldns_rr_list *
dns_chain(const ldns_pkt *pkt)
{
	ldns_rr_list *q = ldns_pkt_question(pkt), *an = ldns_pkt_answer(pkt);
	ldns_rr_list *chain = ldns_rr_list_new();
	ldns_rr *rr, *marker;
	bool grown = true;
	size_t i;
	int hops;

	if (chain == NULL || q == NULL || ldns_rr_list_rr_count(q) == 0) {
		ldns_rr_list_deep_free(chain);
		return NULL;
	}
	marker = ldns_rr_clone(ldns_rr_list_rr(q, 0));
	ldns_rr_list_push_rr(chain, marker);
	for (hops = 0; grown && hops < 8; hops++) {
		grown = false;
		for (i = 0; i < ldns_rr_list_rr_count(an); i++) {
			rr = ldns_rr_list_rr(an, i);
			if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_CNAME ||
			    ldns_rr_rd_count(rr) < 1 ||
			    !dns_chain_has(chain, ldns_rr_owner(rr)) ||
			    dns_chain_has(chain, ldns_rr_rdf(rr, 0)))
				continue;
			marker = ldns_rr_new();
			if (marker == NULL)
				break;
			ldns_rr_set_owner(marker, ldns_rdf_clone(ldns_rr_rdf(rr, 0)));
			ldns_rr_list_push_rr(chain, marker);
			grown = true;
		}
	}
	return chain;
}

/* dns_answer_rrs - the answer records of one type whose owner is the
 * query name or on its CNAME chain; padding for other names is ignored */
ldns_rr_list *
dns_answer_rrs(const struct dns_answer *a, uint16_t qtype)
{
	ldns_rr_list *an, *chain, *out;
	ldns_rr *rr;
	size_t i;

	if (a->pkt == NULL || a->rcode != LDNS_RCODE_NOERROR)
		return NULL;
	chain = dns_chain(a->pkt);
	out = ldns_rr_list_new();
	an = ldns_pkt_answer(a->pkt);
	for (i = 0; chain != NULL && out != NULL &&
	    i < ldns_rr_list_rr_count(an); i++) {
		rr = ldns_rr_list_rr(an, i);
		if (ldns_rr_get_type(rr) == qtype &&
		    dns_chain_has(chain, ldns_rr_owner(rr)))
			ldns_rr_list_push_rr(out, ldns_rr_clone(rr));
	}
	ldns_rr_list_deep_free(chain);
	if (out != NULL && ldns_rr_list_rr_count(out) == 0) {
		ldns_rr_list_free(out);
		out = NULL;
	}
	return out;
}
