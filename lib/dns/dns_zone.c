/*
 * dns_zone.c - answers from in-memory zone data, for smtpscope-eval
 * --zone and the tests: exact names, CNAME chains (at most 8), empty
 * non-terminals (NODATA), wildcards at the closest encloser (RFC 4592),
 * NXDOMAIN, names configured to time out, and a DNSSEC status per apex.
 * Answers are real ldns packets, so callers parse them exactly as they
 * parse answers from the network.
 */
#include <string.h>

#include "dns/dns_internal.h"
#include "errors.h"

#define DNS_ZONE_CNAME_MAX	8

/* dns_zone_has_name - is 'name' an owner, or an ancestor of one (ENT)? */
static bool
dns_zone_has_name(const struct dns_resolver *r, const ldns_rdf *name)
{
	size_t i;
	ldns_rdf *owner;

	for (i = 0; i < ldns_rr_list_rr_count(r->rrs); i++) {
		owner = ldns_rr_owner(ldns_rr_list_rr(r->rrs, i));
		if (ldns_dname_compare(owner, name) == 0 ||
		    ldns_dname_is_subdomain(owner, name))
			return true;
	}
	return false;
}

/* dns_zone_collect - clones of the RRs at owner of type (or any CNAME),
 * re-owned to 'as' (for wildcard synthesis); returns how many */
static size_t
dns_zone_collect(const struct dns_resolver *r, const ldns_rdf *owner,
    uint16_t type, const ldns_rdf *as, ldns_pkt *pkt)
{
	size_t i, n = 0;
	ldns_rr *rr, *copy;

	for (i = 0; i < ldns_rr_list_rr_count(r->rrs); i++) {
		rr = ldns_rr_list_rr(r->rrs, i);
		if (ldns_dname_compare(ldns_rr_owner(rr), owner) != 0 ||
		    ldns_rr_get_type(rr) != type)
			continue;
		copy = ldns_rr_clone(rr);
		if (copy == NULL)
			continue;
		if (as != NULL) {
			ldns_rdf_deep_free(ldns_rr_owner(copy));
			ldns_rr_set_owner(copy, ldns_rdf_clone(as));
		}
		ldns_pkt_push_rr(pkt, LDNS_SECTION_ANSWER, copy);
		n++;
	}
	return n;
}

/* dns_zone_wildcard - "*.encloser" for qname, or NULL (caller frees) */
static ldns_rdf *
dns_zone_wildcard(const struct dns_resolver *r, const ldns_rdf *qname)
{
	ldns_rdf *enc = ldns_dname_left_chop(qname), *next, *star, *wild;

	while (enc != NULL && ldns_dname_label_count(enc) > 0 &&
	    !dns_zone_has_name(r, enc)) {
		next = ldns_dname_left_chop(enc);
		ldns_rdf_deep_free(enc);
		enc = next;
	}
	if (enc == NULL)
		return NULL;
	star = ldns_dname_new_frm_str("*");
	wild = star != NULL ? ldns_dname_cat_clone(star, enc) : NULL;
	ldns_rdf_deep_free(star);
	ldns_rdf_deep_free(enc);
	return wild;
}

/* dns_zone_times_out - is name one whose queries time out? */
static bool
dns_zone_times_out(const struct dns_resolver *r, const ldns_rdf *name)
{
	size_t i;

	for (i = 0; i < ldns_rr_list_rr_count(r->timeouts); i++)
		if (ldns_dname_compare(ldns_rr_owner(ldns_rr_list_rr(
		    r->timeouts, i)), name) == 0)
			return true;
	return false;
}

/* dns_zone_lookup_name - answers for one name, following CNAMEs; -1 when
 * the chain reaches a name that times out (as a resolver would) */
static int
dns_zone_lookup_name(const struct dns_resolver *r, const ldns_rdf *qname,
    uint16_t qtype, ldns_pkt *pkt)
{
	ldns_rdf *name = ldns_rdf_clone(qname), *wild, *src, *target;
	ldns_rr_list *cn;
	int hops, rcode = LDNS_RCODE_NXDOMAIN;

	for (hops = 0; name != NULL && hops <= DNS_ZONE_CNAME_MAX; hops++) {
		if (hops > 0 && dns_zone_times_out(r, name)) {
			rcode = -1;
			break;
		}
		wild = NULL;
		src = name;
		if (!dns_zone_has_name(r, name)) {
			wild = dns_zone_wildcard(r, name);
			if (wild == NULL || !dns_zone_has_name(r, wild)) {
				ldns_rdf_deep_free(wild);	/* NULL is fine */
				break;
			}
			src = wild;
		}
		rcode = LDNS_RCODE_NOERROR;
		if (dns_zone_collect(r, src, qtype, wild ? name : NULL, pkt) > 0 ||
		    qtype == LDNS_RR_TYPE_CNAME ||
		    dns_zone_collect(r, src, LDNS_RR_TYPE_CNAME,
		    wild ? name : NULL, pkt) == 0) {
			ldns_rdf_deep_free(wild);
			break;
		}
		ldns_rdf_deep_free(wild);
		cn = ldns_pkt_rr_list_by_name_and_type(pkt, name,
		    LDNS_RR_TYPE_CNAME, LDNS_SECTION_ANSWER);
		target = cn != NULL ? ldns_rdf_clone(ldns_rr_rdf(
		    ldns_rr_list_rr(cn, 0), 0)) : NULL;
		ldns_rr_list_deep_free(cn);
		ldns_rdf_deep_free(name);
		name = target;
	}
	ldns_rdf_deep_free(name);
	return rcode;
}

/* dns_zone_sec_of - the configured status of the apex enclosing qname */
static enum dns_sec
dns_zone_sec_of(const struct dns_resolver *r, const ldns_rdf *qname)
{
	enum dns_sec sec = DNS_SEC_INSECURE;
	size_t i, best = 0;

	for (i = 0; i < r->nsecs; i++) {
		if ((ldns_dname_compare(qname, r->secs[i].apex) == 0 ||
		    ldns_dname_is_subdomain(qname, r->secs[i].apex)) &&
		    ldns_dname_label_count(r->secs[i].apex) >= best) {
			best = ldns_dname_label_count(r->secs[i].apex);
			sec = r->secs[i].sec;
		}
	}
	return sec;
}

/* dns_zone_answer - build the answer packet for a query */
int
dns_zone_answer(const struct dns_resolver *r, const ldns_rdf *qname,
    uint16_t qtype, struct dns_answer *out)
{
	ldns_pkt *pkt;

	out->pkt = NULL;
	if (dns_zone_times_out(r, qname)) {
		out->rcode = -1;
		out->sec = DNS_SEC_TIMEOUT;
		return SCOPE_OK;
	}
	out->sec = dns_zone_sec_of(r, qname);
	if (out->sec == DNS_SEC_BOGUS || out->sec == DNS_SEC_ERROR) {
		out->rcode = LDNS_RCODE_SERVFAIL;
		return SCOPE_OK;
	}
	pkt = ldns_pkt_query_new(ldns_rdf_clone(qname), qtype,
	    LDNS_RR_CLASS_IN, LDNS_RD);
	if (pkt == NULL)
		return SCOPE_ENOMEM;
	ldns_pkt_set_qr(pkt, true);
	ldns_pkt_set_ra(pkt, true);
	out->rcode = dns_zone_lookup_name(r, qname, qtype, pkt);
	if (out->rcode == -1) {	/* a CNAME to a name that times out */
		ldns_pkt_free(pkt);
		out->sec = DNS_SEC_TIMEOUT;
		return SCOPE_OK;
	}
	ldns_pkt_set_rcode(pkt, (uint8_t)out->rcode);
	ldns_pkt_set_ad(pkt, out->sec == DNS_SEC_SECURE);
	out->pkt = pkt;
	return SCOPE_OK;
}
