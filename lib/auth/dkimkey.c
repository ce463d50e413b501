/*
 * dkimkey.c - a DKIM key record's PKCS#1 RSAPublicKey p= rewritten as the
 * SubjectPublicKeyInfo libopendkim reads (see dkimkey.h).
 *
 * The record is read as an RFC 6376 section 3.2 tag list: tags split at
 * ';', names and values trimmed of folding white space. Only a record
 * whose k= is absent or "rsa" and whose p= decodes (base64, white space
 * dropped) to exactly one DER RSAPublicKey is rewritten; OpenSSL parses
 * the key (d2i_PublicKey, the PKCS#1 form) and writes its SPKI
 * (i2d_PUBKEY). An SPKI never parses as an RSAPublicKey (its first
 * element is a SEQUENCE, not an INTEGER), so it is never touched.
 *
 * Failures: SCOPE_ENOMEM; everything else leaves the record as it was.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "auth/dkimkey.h"
#include "errors.h"

struct dkimkey_span {
	size_t off, len;	/* len 0 and off SIZE_MAX: absent */
};

/* dkimkey_is_ws - folding white space inside a tag list */
static bool
dkimkey_is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* dkimkey_trim - a span without white space at either end */
static void
dkimkey_trim(const char *rec, size_t *from, size_t *to)
{
	while (*from < *to && dkimkey_is_ws(rec[*from]))
		(*from)++;
	while (*to > *from && dkimkey_is_ws(rec[*to - 1]))
		(*to)--;
}

/* dkimkey_tags - the value spans of k= and p=; false if neither found */
static bool
dkimkey_tags(const char *rec, size_t len, struct dkimkey_span *k,
    struct dkimkey_span *p)
{
	size_t start = 0, end, eq, nfrom, nto, vfrom;

	k->off = p->off = SIZE_MAX;
	k->len = p->len = 0;
	while (start <= len) {
		end = start;
		while (end < len && rec[end] != ';')
			end++;
		eq = start;
		while (eq < end && rec[eq] != '=')
			eq++;
		nfrom = start;
		nto = eq;
		dkimkey_trim(rec, &nfrom, &nto);
		if (eq < end && nto - nfrom == 1) {
			vfrom = eq + 1;
			nto = end;
			dkimkey_trim(rec, &vfrom, &nto);
			if (rec[nfrom] == 'k')
				*k = (struct dkimkey_span){ vfrom, nto - vfrom };
			else if (rec[nfrom] == 'p')
				*p = (struct dkimkey_span){ vfrom, nto - vfrom };
		}
		start = end + 1;
	}
	return p->off != SIZE_MAX && p->len > 0;
}

/* dkimkey_unbase64 - p= decoded (white space dropped) into a new buffer;
 * NULL on bad base64 or ENOMEM (*nomem says which) */
static unsigned char *
dkimkey_unbase64(const char *s, size_t len, int *outlen, bool *nomem)
{
	unsigned char *clean, *der;
	EVP_ENCODE_CTX *ctx;
	size_t i, n = 0;
	int a = 0, b = 0, ok;

	clean = malloc(len + 1);
	der = malloc(len + 1);
	ctx = EVP_ENCODE_CTX_new();
	*nomem = clean == NULL || der == NULL || ctx == NULL;
	if (*nomem) {
		free(clean);
		free(der);
		EVP_ENCODE_CTX_free(ctx);
		return NULL;
	}
	for (i = 0; i < len; i++)
		if (!dkimkey_is_ws(s[i]))
			clean[n++] = (unsigned char)s[i];
	EVP_DecodeInit(ctx);
	ok = n <= INT32_MAX &&
	    EVP_DecodeUpdate(ctx, der, &a, clean, (int)n) >= 0 &&
	    EVP_DecodeFinal(ctx, der + a, &b) == 1;
	EVP_ENCODE_CTX_free(ctx);
	free(clean);
	if (!ok || a + b <= 0) {
		free(der);
		return NULL;
	}
	*outlen = a + b;
	return der;
}

/* dkimkey_spki_base64 - the SPKI of a PKCS#1 RSAPublicKey, in base64;
 * NULL if der is not exactly one RSAPublicKey, or on ENOMEM */
static char *
dkimkey_spki_base64(const unsigned char *der, int derlen, bool *nomem)
{
	const unsigned char *q = der;
	unsigned char *spki = NULL;
	char *b64 = NULL;
	EVP_PKEY *pk;
	int n;

	*nomem = false;
	pk = d2i_PublicKey(EVP_PKEY_RSA, NULL, &q, derlen);
	if (pk == NULL || q != der + derlen) {
		EVP_PKEY_free(pk);
		return NULL;
	}
	n = i2d_PUBKEY(pk, &spki);
	EVP_PKEY_free(pk);
	if (n > 0 && (b64 = malloc(((size_t)n + 2) / 3 * 4 + 1)) != NULL)
		EVP_EncodeBlock((unsigned char *)b64, spki, n);
	*nomem = b64 == NULL;
	OPENSSL_free(spki);
	return b64;
}

/* dkimkey_splice - rec with the span p replaced by val (caller frees) */
static char *
dkimkey_splice(const char *rec, size_t len, const struct dkimkey_span *p,
    const char *val, size_t *outlen)
{
	size_t vlen = strlen(val), n = len - p->len + vlen;
	char *out = malloc(n + 1);

	if (out == NULL)
		return NULL;
	memcpy(out, rec, p->off);
	memcpy(out + p->off, val, vlen);
	memcpy(out + p->off + vlen, rec + p->off + p->len,
	    len - p->off - p->len);
	out[n] = '\0';
	*outlen = n;
	return out;
}

/* dkimkey_b64_value - a base64 character's 6 bits, or -1 */
static int
dkimkey_b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* dkimkey_maybe_pkcs1 - false when the first bytes of p= show that it is
 * not a DER RSAPublicKey: a SEQUENCE whose first element is an INTEGER.
 * An SPKI (every key in practice) has a SEQUENCE there, and d2i would
 * refuse it only after a base64 decode, OpenSSL's decoder framework and
 * an error left on the thread's OpenSSL error queue. Reads the first 12
 * base64 characters (9 bytes: tag, a length of up to 5 bytes, the next
 * tag); true (the full check decides) when there are fewer */
static bool
dkimkey_maybe_pkcs1(const char *s, size_t len)
{
	unsigned char der[9];
	size_t i, n = 0, at;
	uint32_t acc = 0;
	int v, bits = 0;

	for (i = 0; i < len && n < sizeof(der); i++) {
		if (dkimkey_is_ws(s[i]))
			continue;
		if ((v = dkimkey_b64_value(s[i])) < 0)
			return true;
		acc = (acc << 6) | (uint32_t)v;
		if ((bits += 6) >= 8) {
			bits -= 8;
			der[n++] = (unsigned char)(acc >> bits);
		}
	}
	if (n < sizeof(der))
		return true;
	if (der[0] != 0x30)
		return false;
	at = der[1] < 0x80 ? 2 : 2 + (size_t)(der[1] & 0x7f);
	return at >= sizeof(der) || der[at] == 0x02;
}

/* dkimkey_rewrap - see dkimkey.h */
int
dkimkey_rewrap(const char *rec, size_t len, char **out, size_t *outlen)
{
	struct dkimkey_span k, p;
	unsigned char *der;
	char *b64;
	bool nomem = false;
	int derlen = 0;

	*out = NULL;
	*outlen = 0;
	if (len > DKIMKEY_RECORD_MAX || !dkimkey_tags(rec, len, &k, &p))
		return DKIMKEY_ENC_ASIS;
	if (k.off != SIZE_MAX && (k.len != 3 ||
	    strncasecmp(rec + k.off, "rsa", 3) != 0))
		return DKIMKEY_ENC_ASIS;
	if (!dkimkey_maybe_pkcs1(rec + p.off, p.len))
		return DKIMKEY_ENC_ASIS;
	der = dkimkey_unbase64(rec + p.off, p.len, &derlen, &nomem);
	if (der == NULL)
		return nomem ? SCOPE_ENOMEM : DKIMKEY_ENC_ASIS;
	b64 = dkimkey_spki_base64(der, derlen, &nomem);
	free(der);
	if (b64 == NULL)
		return nomem ? SCOPE_ENOMEM : DKIMKEY_ENC_ASIS;
	*out = dkimkey_splice(rec, len, &p, b64, outlen);
	free(b64);
	return *out == NULL ? SCOPE_ENOMEM : DKIMKEY_ENC_PKCS1;
}

/* dkimkey_txt_join - a TXT record's strings joined; NULL if too long */
static char *
dkimkey_txt_join(const ldns_rr *rr, size_t *len)
{
	size_t i, n = 0, sl;
	const ldns_rdf *f;
	char *buf = malloc(DKIMKEY_RECORD_MAX + 1);

	if (buf == NULL)
		return NULL;
	for (i = 0; i < ldns_rr_rd_count(rr); i++) {
		f = ldns_rr_rdf(rr, i);
		if (ldns_rdf_get_type(f) != LDNS_RDF_TYPE_STR ||
		    ldns_rdf_size(f) < 1)
			break;
		sl = ldns_rdf_data(f)[0];
		if (sl + 1 > ldns_rdf_size(f) || n + sl > DKIMKEY_RECORD_MAX)
			break;
		memcpy(buf + n, ldns_rdf_data(f) + 1, sl);
		n += sl;
	}
	if (i < ldns_rr_rd_count(rr)) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* dkimkey_txt_set - a TXT record's strings replaced by text, split into
 * 255-byte strings; the old ones are freed only once all new ones exist
 * (should ldns then fail to grow the list, the record keeps fewer strings
 * and so no usable key) */
static int
dkimkey_txt_set(ldns_rr *rr, const char *text, size_t len)
{
	size_t nstr = len / 255 + 1, i, off, sl;
	ldns_rdf **f = calloc(nstr, sizeof(*f));
	uint8_t chunk[256];
	int rc;

	if (f == NULL)
		return SCOPE_ENOMEM;
	for (i = 0, off = 0; i < nstr; i++, off += sl) {
		sl = len - off < 255 ? len - off : 255;
		chunk[0] = (uint8_t)sl;
		memcpy(chunk + 1, text + off, sl);
		f[i] = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_STR, sl + 1, chunk);
		if (f[i] == NULL) {
			while (i-- > 0)
				ldns_rdf_deep_free(f[i]);
			free(f);
			return SCOPE_ENOMEM;
		}
	}
	while (ldns_rr_rd_count(rr) > 0)
		ldns_rdf_deep_free(ldns_rr_pop_rdf(rr));
	for (i = 0; i < nstr; i++)
		if (!ldns_rr_push_rdf(rr, f[i]))
			break;
	rc = i == nstr ? 0 : SCOPE_ENOMEM;	/* a torn record: no key */
	for (; i < nstr; i++)
		ldns_rdf_deep_free(f[i]);
	free(f);
	return rc;
}

/* dkimkey_rewrap_pkt - see dkimkey.h */
int
dkimkey_rewrap_pkt(struct dns_answer *a)
{
	ldns_rr_list *ans = ldns_pkt_answer(a->pkt);
	size_t i, len, nlen;
	char *text, *repl;
	ldns_rr *rr;
	int n = 0, rc;

	for (i = 0; ans != NULL && i < ldns_rr_list_rr_count(ans); i++) {
		rr = ldns_rr_list_rr(ans, i);
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_TXT ||
		    (text = dkimkey_txt_join(rr, &len)) == NULL)
			continue;
		rc = dkimkey_rewrap(text, len, &repl, &nlen);
		free(text);
		if (rc == DKIMKEY_ENC_PKCS1) {
			/* a packet shared with the cache: changed in a copy,
			 * whose records are in the same order */
			rc = dns_answer_own(a);
			ans = ldns_pkt_answer(a->pkt);
			if (rc == SCOPE_OK)
				rc = dkimkey_txt_set(ldns_rr_list_rr(ans, i),
				    repl, nlen);
			free(repl);
			n++;
		}
		if (rc < 0)
			return rc;
	}
	return n;
}
