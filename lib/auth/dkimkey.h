/*
 * dkimkey.h - DKIM key records (RFC 6376 section 3.6.1) as they come from
 * DNS, put in the form libopendkim reads.
 *
 * RFC 6376 says p= holds a SubjectPublicKeyInfo for k=rsa, but some
 * domains publish a bare PKCS#1 RSAPublicKey (a DER SEQUENCE of the
 * modulus and exponent) and Mail::DKIM, dkimpy and Rspamd verify those.
 * libopendkim only reads the SPKI form, so dkimkey_rewrap() rewrites such
 * a p= as the SPKI of the same key and leaves every other byte of the
 * record as it was. Anything else (an SPKI, an Ed25519 key, a p= that is
 * neither, a record that is not a key) is left alone, so libopendkim
 * still judges it.
 *
 * dkimkey_rewrap_pkt() does the same on a DNS answer before it goes to
 * libopendkim (the key query callback of dkimverify.c).
 *
 * Failures: a negative SCOPE_* code for ENOMEM only; input is bounded by
 * DKIMKEY_RECORD_MAX.
 */
#ifndef SMTPSCOPE_DKIMKEY_H
#define SMTPSCOPE_DKIMKEY_H

#include <stddef.h>

#include <ldns/ldns.h>

#include "dns/dns.h"

#define DKIMKEY_RECORD_MAX	8192	/* a key record, all strings joined */

enum dkimkey_enc {
	DKIMKEY_ENC_ASIS,	/* left alone: SPKI, Ed25519 or not a key */
	DKIMKEY_ENC_PKCS1	/* p= was a PKCS#1 RSAPublicKey: rewritten */
};

/* dkimkey_rewrap - rec (len bytes, not NUL-terminated) with a PKCS#1 p=
 * rewritten as SPKI. Returns DKIMKEY_ENC_PKCS1 with *out (malloc'ed,
 * NUL-terminated, *outlen bytes; the caller frees) when rewritten,
 * DKIMKEY_ENC_ASIS with *out NULL when not, or SCOPE_ENOMEM. */
int dkimkey_rewrap(const char *rec, size_t len, char **out, size_t *outlen);

/* dkimkey_rewrap_pkt - dkimkey_rewrap() on every TXT record of a DNS
 * answer, in place (the new text split into 255-byte strings; a packet
 * shared with the DNS cache is copied first, dns_answer_own). Returns
 * how many records were rewritten, or SCOPE_ENOMEM (the packet may then
 * be partly rewritten and a record short of strings, which then gives no
 * key). */
int dkimkey_rewrap_pkt(struct dns_answer *a);

#endif
