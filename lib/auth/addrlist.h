/*
 * addrlist.h - the domains of an RFC 5322 address list (From:).
 *
 * Parses a header value as an RFC 5322 address-list (obsolete syntax
 * included: route addresses, comments anywhere, quoted local parts,
 * groups, bare addresses, display names with encoded words) and returns
 * the domain of each mailbox, lowercased, with a trailing dot removed.
 * Nothing is allocated; input of any length and content is safe (the
 * parser is a fuzz target).
 */
#ifndef SMTPSCOPE_ADDRLIST_H
#define SMTPSCOPE_ADDRLIST_H

#include <stddef.h>

#define ADDRLIST_DOMAIN_MAX	256
#define ADDRLIST_MAX		8	/* domains returned; more are counted */

struct addrlist {
	char domain[ADDRLIST_MAX][ADDRLIST_DOMAIN_MAX];
	unsigned ndomain;	/* returned, at most ADDRLIST_MAX */
	unsigned nmailbox;	/* mailboxes seen, may exceed ADDRLIST_MAX */
	unsigned nodomain;	/* mailboxes without a usable domain */
	int syntax_error;	/* 1 when the value did not parse cleanly */
};

/* addrlist_parse - fill out from one header value; never fails */
void addrlist_parse(const char *value, size_t len, struct addrlist *out);

#endif
