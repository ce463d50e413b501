/*
 * iprev.c - reverse-then-forward DNS check of the client address.
 *
 * All lookups go through the message's or session's dns_ctx, so they share
 * its time budget and appear in the record's DNS log. Owns nothing beyond
 * the answers it frees before returning.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "errors.h"
#include "dns/iprev.h"
#include "text.h"

static const char *const iprev_names[] = {
	"none", "pass", "fail", "temperror", "permerror"
};

/* iprev_res_name - the RFC 8601 result name ("permerror" for a value
 * out of range, as spf_res_name and dmarceval_res_name do) */
const char *
iprev_res_name(enum iprev_res r)
{
	if ((unsigned)r >= sizeof(iprev_names) / sizeof(iprev_names[0]))
		return "permerror";
	return iprev_names[r];
}

/* iprev_temporary - an answer that says nothing final */
static bool
iprev_temporary(const struct dns_answer *a)
{
	return a->rcode != LDNS_RCODE_NOERROR && a->rcode != LDNS_RCODE_NXDOMAIN;
}

/* iprev_ptr - the PTR names, bounded and cleaned */
static int
iprev_ptr(struct dns_ctx *dns, const char *ip, struct iprev_outcome *out)
{
	char rname[DNS_NAME_MAX], name[DNS_NAME_TEXT_MAX];
	struct dns_answer a;
	ldns_rr_list *ptrs;
	const ldns_rdf *rdf;
	char *text;
	size_t i;
	int rc;

	rc = dns_reverse_name(ip, rname, sizeof(rname));
	if (rc != SCOPE_OK || (rc = dns_query(dns, rname, LDNS_RR_TYPE_PTR,
	    &a)) != SCOPE_OK)
		return rc;
	out->dnssec = a.sec;
	ptrs = dns_answer_records(&a, LDNS_RR_TYPE_PTR);
	for (i = 0; ptrs != NULL && i < ldns_rr_list_rr_count(ptrs); i++) {
		out->ptr_total++;
		if (out->nnames == IPREV_NAMES_MAX)
			continue;
		rdf = ldns_rr_rdf(ldns_rr_list_rr(ptrs, i), 0);
		if (dns_name_text(rdf, name, sizeof(name)) == SCOPE_OK) {
			text_copy(out->names[out->nnames++], DNS_NAME_MAX, name,
			    NULL);
			continue;
		}
		text = ldns_rdf2str(rdf);	/* not a DNAME: as before */
		if (text != NULL)
			text_copy(out->names[out->nnames++], DNS_NAME_MAX, text,
			    NULL);
		LDNS_FREE(text);
	}
	ldns_rr_list_free(ptrs);
	if (iprev_temporary(&a))
		out->result = IPREV_TEMPERROR;
	else if (out->nnames == 0)
		out->result = IPREV_PERMERROR;
	dns_answer_free(&a);
	return SCOPE_OK;
}

/* iprev_forward - does this name have the address? 1 yes, 0 no, -1 temp */
static int
iprev_forward(struct dns_ctx *dns, const char *name, const char *ip,
    enum dns_sec *sec)
{
	uint16_t type = strchr(ip, ':') != NULL ? LDNS_RR_TYPE_AAAA :
	    LDNS_RR_TYPE_A;
	unsigned char want[16], got[16];
	int af = type == LDNS_RR_TYPE_A ? AF_INET : AF_INET6, found = 0;
	size_t len = af == AF_INET ? 4 : 16, i;
	struct dns_answer a;
	ldns_rr_list *addrs;
	ldns_rdf *rd;

	if (inet_pton(af, ip, want) != 1 ||
	    dns_query(dns, name, type, &a) != SCOPE_OK)
		return -1;
	*sec = a.sec;
	addrs = dns_answer_records(&a, type);
	for (i = 0; addrs != NULL && i < ldns_rr_list_rr_count(addrs); i++) {
		rd = ldns_rr_rdf(ldns_rr_list_rr(addrs, i), 0);
		if (rd != NULL && ldns_rdf_size(rd) == len) {
			memcpy(got, ldns_rdf_data(rd), len);
			found |= memcmp(got, want, len) == 0;
		}
	}
	ldns_rr_list_free(addrs);
	if (!found && iprev_temporary(&a))
		found = -1;
	dns_answer_free(&a);
	return found;
}

/* iprev_check - PTR, then forward lookups until one matches */
int
iprev_check(struct dns_ctx *dns, const char *client_ip,
    struct iprev_outcome *out)
{
	enum dns_sec sec = DNS_SEC_INSECURE, ptr_sec;
	bool temp = false;
	unsigned i;
	int rc, r;

	memset(out, 0, sizeof(*out));
	out->matched = -1;
	if (client_ip == NULL || *client_ip == '\0')
		return SCOPE_OK;	/* IPREV_NONE */
	rc = iprev_ptr(dns, client_ip, out);
	if (rc != SCOPE_OK || out->result != IPREV_NONE)
		return rc;
	ptr_sec = out->dnssec;
	for (i = 0; i < out->nnames; i++) {
		r = iprev_forward(dns, out->names[i], client_ip, &sec);
		if (r == 1) {
			out->matched = (int)i;
			out->result = IPREV_PASS;
			out->dnssec = dns_sec_worst(ptr_sec, sec);
			return SCOPE_OK;
		}
		temp |= r < 0;
		out->dnssec = dns_sec_worst(out->dnssec, sec);
	}
	out->result = temp ? IPREV_TEMPERROR : IPREV_FAIL;
	return SCOPE_OK;
}
