/*
 * dns_name.c - DNS names as text, written byte by byte: a wire name in
 * the presentation form ldns_rdf2str() gives, and the reverse-lookup
 * name of an address (RFC 1035 section 3.5, RFC 3596 section 2.5) as
 * ldns_rdf_address_reverse() and ldns_rdf2str() give it; and a query
 * type's name as ldns_rr_type2str() gives it; an rcode's name as the
 * records and metrics show it (our spelling, "NOTIMP", kept from the
 * first record schema; ldns says "NOTIMPL"). Why not ldns:
 * it prints every byte through its formatted buffer printer (and
 * allocates a buffer for a type's name), which was a visible share of
 * iprev's, SPF's and the records' cost per message (docs/performance.md);
 * the unit tests compare both ways on random names and addresses, and on
 * every type.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "dns/dns.h"
#include "errors.h"

/* dns_name_text - see dns.h */
int
dns_name_text(const ldns_rdf *rdf, char *out, size_t outsz)
{
	const uint8_t *d;
	size_t size, at = 0, n = 0, i;
	uint8_t c;
	bool esc;

	if (rdf == NULL || ldns_rdf_get_type(rdf) != LDNS_RDF_TYPE_DNAME ||
	    (size = ldns_rdf_size(rdf)) == 0 || outsz == 0)
		return SCOPE_EINVAL;
	d = ldns_rdf_data(rdf);
	if (size == 1) {	/* the root */
		if (outsz < 2)
			return SCOPE_ETOOBIG;
		memcpy(out, ".", 2);
		return SCOPE_OK;
	}
	while (at < size && d[at] != 0) {
		if (d[at] > 63 || at + 1 + d[at] >= size)
			return SCOPE_EINVAL;
		for (i = at + 1; i <= at + d[at]; i++) {
			c = d[i];
			esc = c == '.' || c == ';' || c == '(' || c == ')' ||
			    c == '\\';
			/* room for it, then the label's dot and the NUL */
			if (outsz - n < 2 + (esc ? 2u : c <= 0x20 || c >= 0x7f ?
			    4u : 1u))
				return SCOPE_ETOOBIG;
			if (esc) {
				out[n++] = '\\';
				out[n++] = (char)c;
			} else if (c <= 0x20 || c >= 0x7f) {
				out[n++] = '\\';
				out[n++] = (char)('0' + c / 100);
				out[n++] = (char)('0' + c / 10 % 10);
				out[n++] = (char)('0' + c % 10);
			} else {
				out[n++] = (char)c;
			}
		}
		out[n++] = '.';
		at += 1 + d[at];
	}
	if (at + 1 != size)
		return SCOPE_EINVAL;	/* no root label at the end */
	out[n] = '\0';
	return SCOPE_OK;
}

/* dns_type_name - see dns.h */
const char *
dns_type_name(uint16_t type, char *buf, size_t bufsz)
{
	const ldns_rr_descriptor *d = ldns_rr_descript(type);
	char *text;

	/* ldns names the query-only types (IXFR to ANY) apart */
	if (d != NULL && d->_name != NULL && (type < LDNS_RR_TYPE_IXFR ||
	    type > LDNS_RR_TYPE_ANY))
		return d->_name;
	text = ldns_rr_type2str((ldns_rr_type)type);	/* AXFR, TYPE65... */
	if (text == NULL || strlen(text) >= bufsz) {
		LDNS_FREE(text);
		return NULL;
	}
	memcpy(buf, text, strlen(text) + 1);
	LDNS_FREE(text);
	return buf;
}

/* dns_rcode_name - see dns.h */
const char *
dns_rcode_name(int rcode, char *buf, size_t bufsz)
{
	static const char *const names[] = {
		"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"
	};
	int n;

	if (rcode < 0)
		return NULL;
	if ((size_t)rcode < sizeof(names) / sizeof(names[0]))
		return names[rcode];
	n = snprintf(buf, bufsz, "RCODE%d", rcode);
	return n > 0 && (size_t)n < bufsz ? buf : NULL;
}

/* dns_name_octet - a byte in decimal and a dot at out; the length */
static size_t
dns_name_octet(char *out, unsigned v)
{
	size_t n = 0;

	if (v >= 100)
		out[n++] = (char)('0' + v / 100);
	if (v >= 10)
		out[n++] = (char)('0' + v / 10 % 10);
	out[n++] = (char)('0' + v % 10);
	out[n++] = '.';
	return n;
}

/* dns_reverse_name - see dns.h */
int
dns_reverse_name(const char *ip, char *out, size_t outsz)
{
	static const char hex[] = "0123456789abcdef";
	static const char v4[] = "in-addr.arpa.", v6[] = "ip6.arpa.";
	char buf[DNS_REVERSE_NAME_MAX];
	unsigned char a[16];
	size_t n = 0;
	int i;

	if (inet_pton(AF_INET, ip, a) == 1) {
		for (i = 3; i >= 0; i--)
			n += dns_name_octet(buf + n, a[i]);
		memcpy(buf + n, v4, sizeof(v4));
		n += sizeof(v4);
	} else if (inet_pton(AF_INET6, ip, a) == 1) {
		for (i = 15; i >= 0; i--) {
			buf[n++] = hex[a[i] & 15];
			buf[n++] = '.';
			buf[n++] = hex[a[i] >> 4];
			buf[n++] = '.';
		}
		memcpy(buf + n, v6, sizeof(v6));
		n += sizeof(v6);
	} else {
		return SCOPE_EINVAL;
	}
	if (n > outsz)
		return SCOPE_ETOOBIG;
	memcpy(out, buf, n);
	return SCOPE_OK;
}
