/*
 * dkimverify.c - DKIM (RFC 6376, RFC 8463) verification of every
 * signature of a message with libopendkim, keys fetched through lib/dns.
 *
 * One DKIM_LIB (dkimverify_new) serves all threads. Its DNS service is
 * ours: dkim_dns_set_init/close are NULL (so libopendkim never builds its
 * own resolver), and the query callbacks (dkimverify_dns_start/
 * _waitreply/_cancel) run dns_query() synchronously on the message being
 * finished on this thread, found through a thread-local pointer that is
 * set only around dkim_eom(). DKIM_LIBFLAGS_DELAYSIGPROC keeps libopendkim
 * from fetching keys at dkim_eoh(); a query made with no message set
 * anyway answers "error", so it can only ever give temperror, never
 * touch another thread's message. The answer goes to libopendkim in wire
 * format (ldns_pkt2wire); the DNSSEC status of each key lookup is kept
 * by name so each outcome carries the status of its own key.
 *
 * A struct dkimverify_msg owns its DKIM handle; headers are handed on as
 * "Name:value" exactly as received except that a bare LF in the folding
 * becomes CRLF. libopendkim verifies the header hash and the signature;
 * the body hash is ours (dkimbody.c): at the end of the header block
 * each signature's body canonicalization, digest and l= are read from
 * libopendkim, and the body streams through our hashes, never kept, a
 * bare LF in it taken as CRLF (not DKIM_LIBFLAGS_FIXCRLF, which copies
 * every byte and makes a bare CR a line end too). libopendkim is given no
 * body, only what its l= check needs (dkimverify_body_pad); its body
 * hash verdict is replaced by ours (dkimverify_sig_state). Why: its body
 * canonicalization was a third of smtpscope's instructions per message
 * (docs/performance.md), and its relaxed form drops a bare CR that RFC
 * 6376 keeps. Should our hashes not be set up (no memory), libopendkim
 * gets the body and its own verdict stands.
 * The prescreen callback ignores (dkim_sig_ignore) every signature after
 * the first max_sigs; DKIM-Signature headers are counted on arrival.
 *
 * Results (RFC 8601 §2.7.1), per signature:
 *   pass       the signature verified, body hash matched, and policy
 *              allows it;
 *   fail       verified with the key but the signature (header hash) or
 *              the body hash did not match; the reason says which;
 *   policy     verified, but RFC 8301 forbids it here: rsa-sha1 unless
 *              allow_sha1, or an RSA key shorter than min_key_bits
 *              (libopendkim's own minimum is set to 512 so the
 *              cryptographic result is still known);
 *   temperror  the key lookup timed out, got SERVFAIL or failed DNSSEC
 *              validation (bogus), or another transient DNS failure;
 *   permerror  the signature or its key cannot ever verify: missing,
 *              empty or malformed tags, d=/i= mismatch, unknown a=,
 *              expired x= (RFC 6376 §6.1.1 makes that a PERMFAIL, and
 *              RFC 8601 permerror is "unlikely to produce a final result
 *              later"), l= beyond the body, key record absent (NXDOMAIN
 *              or no TXT), revoked (empty p=), unparsable or of an
 *              unknown k=, v= or h=, not for e-mail (s=), several
 *              records;
 *   neutral    a signature we do not evaluate: an unsupported v=, c= or
 *              q= (RFC 6376 says to ignore such signatures), or one that
 *              libopendkim left unprocessed without an error.
 * A key record whose p= is a bare PKCS#1 RSAPublicKey is re-wrapped as
 * SPKI before libopendkim sees it (dkimkey.c); key_encoding says which
 * form the key came in.
 * key_bits is -1 until a key was decoded; dnssec_known says a lookup of
 * the signature's key name was made (by it or by an earlier signature
 * with the same selector and domain).
 *
 * Failures: ENOMEM (or libopendkim reporting an internal error) is the
 * only error return; everything about the message is a result.
 */
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include <opendkim/dkim.h>

#include "auth/dkimbody.h"
#include "auth/dkimkey.h"
#include "auth/dkimverify.h"
#include "errors.h"
#include "text.h"

#define DKIMVERIFY_KEYLOG_MAX	DKIMVERIFY_SIGS_HARDMAX
#define DKIMVERIFY_LIB_MINBITS	512	/* libopendkim's floor; ours is opt */
#define DKIMVERIFY_HDR_MAX	(1024 * 1024)	/* one header field */
#define DKIMVERIFY_HDRS_MAX	(1024 * 1024)	/* the whole header block:
						 * libopendkim keeps it until
						 * the end of the message */

struct dkimverify {
	DKIM_LIB *lib;
	struct dkimverify_options opt;
};

/* one key lookup made for this message */
struct dkimverify_keylog {
	char qname[DNS_NAME_MAX];
	int rcode;		/* -1: no answer */
	enum dns_sec sec;
	bool pkcs1;		/* a PKCS#1 p= was re-wrapped as SPKI */
};

struct dkimverify_msg {
	struct dkimverify *v;
	DKIM *dkim;
	unsigned total;		/* DKIM-Signature headers seen */
	bool eoh;		/* dkim_eoh() called */
	bool unusable;		/* libopendkim gave up on the message */
	bool body_cr;		/* the last body byte handed on was CR */
	bool lib_body;		/* libopendkim hashes the body too */
	struct dkimbody *body;	/* our body hashes (NULL: none needed) */
	DKIM_SIGINFO *bsig[DKIMVERIFY_SIGS_HARDMAX];	/* as at eoh */
	int bhash[DKIMVERIFY_SIGS_HARDMAX];	/* its hash, -1: none */
	enum dkimbody_canon bcanon[DKIMVERIFY_SIGS_HARDMAX];
	int64_t blimit[DKIMVERIFY_SIGS_HARDMAX];	/* l=, -1: none */
	unsigned nbsig;
	size_t hdr_bytes;	/* header bytes handed to libopendkim */
	char error[128];
	struct dns_ctx *dns;	/* set only during dkimverify_msg_eom() */
	unsigned nkeys;
	/* the query in progress (libopendkim asks one at a time) */
	int q_status;
	size_t q_len;
	int q_dnssec;
	/* last: not zeroed at creation, an entry is set when it is added */
	struct dkimverify_keylog keys[DKIMVERIFY_KEYLOG_MAX];
};

/* the message being finished on this thread (set around dkim_eom) */
static __thread struct dkimverify_msg *dkimverify_cur;

/* dkimverify_res_name - the RFC 8601 word */
const char *
dkimverify_res_name(enum dkimverify_res r)
{
	switch (r) {
	case DKIMVERIFY_PASS:
		return "pass";
	case DKIMVERIFY_FAIL:
		return "fail";
	case DKIMVERIFY_NEUTRAL:
		return "neutral";
	case DKIMVERIFY_POLICY:
		return "policy";
	case DKIMVERIFY_TEMPERROR:
		return "temperror";
	case DKIMVERIFY_PERMERROR:
		return "permerror";
	case DKIMVERIFY_NONE:
		break;
	}
	return "none";
}

/* dkimverify_dnssec - our status as a DKIM_DNSSEC_* constant */
static int
dkimverify_dnssec(enum dns_sec sec)
{
	switch (sec) {
	case DNS_SEC_SECURE:
		return DKIM_DNSSEC_SECURE;
	case DNS_SEC_INSECURE:
		return DKIM_DNSSEC_INSECURE;
	case DNS_SEC_BOGUS:
		return DKIM_DNSSEC_BOGUS;
	default:
		return DKIM_DNSSEC_UNKNOWN;
	}
}

/* dkimverify_keylog_add - remember how a key lookup went; NULL if full */
static struct dkimverify_keylog *
dkimverify_keylog_add(struct dkimverify_msg *m, const char *qname, int rcode,
    enum dns_sec sec)
{
	struct dkimverify_keylog *k;
	size_t len;

	if (m->nkeys == DKIMVERIFY_KEYLOG_MAX)
		return NULL;
	k = &m->keys[m->nkeys++];
	len = strnlen(qname, sizeof(k->qname) - 1);
	memcpy(k->qname, qname, len);
	k->qname[len] = '\0';
	k->rcode = rcode;
	k->sec = sec;
	k->pkcs1 = false;
	return k;
}

/* dkimverify_keylog_find - the lookup of selector._domainkey.domain */
static const struct dkimverify_keylog *
dkimverify_keylog_find(const struct dkimverify_msg *m, const char *selector,
    const char *domain)
{
	char name[DNS_NAME_MAX];
	size_t len;
	unsigned i;

	if (snprintf(name, sizeof(name), "%s._domainkey.%s", selector,
	    domain) >= (int)sizeof(name))
		return NULL;
	len = strlen(name);
	if (len > 0 && name[len - 1] == '.')
		name[len - 1] = '\0';
	for (i = m->nkeys; i-- > 0;)
		if (strcasecmp(m->keys[i].qname, name) == 0)
			return &m->keys[i];
	return NULL;
}

/* dkimverify_dns_start - one key query, answered before we return */
static int
dkimverify_dns_start(void *srv, int type, unsigned char *query,
    unsigned char *buf, size_t buflen, void **qh)
{
	struct dkimverify_msg *m = dkimverify_cur;
	struct dns_answer a;
	struct dkimverify_keylog *k;
	uint8_t *wire = NULL;
	size_t wlen = 0;
	int nwrap = 0;

	(void)srv;
	if (m == NULL || m->dns == NULL || type < 0 || type > 65535)
		return DKIM_DNS_ERROR;	/* no message: KEYFAIL, never a guess */
	*qh = m;
	m->q_status = DKIM_DNS_ERROR;
	m->q_len = 0;
	m->q_dnssec = DKIM_DNSSEC_UNKNOWN;
	if (dns_query(m->dns, (const char *)query, (uint16_t)type, &a) != 0) {
		dkimverify_keylog_add(m, (const char *)query, -1,
		    DNS_SEC_ERROR);
		return DKIM_DNS_SUCCESS;	/* waitreply reports the error */
	}
	k = dkimverify_keylog_add(m, (const char *)query, a.rcode, a.sec);
	m->q_dnssec = dkimverify_dnssec(a.sec);
	if (a.pkt != NULL)	/* PKCS#1 p= to SPKI; ENOMEM: no key */
		nwrap = dkimkey_rewrap_pkt(&a);
	if (k != NULL)
		k->pkcs1 = nwrap > 0;
	if (a.rcode == -1)
		m->q_status = DKIM_DNS_EXPIRED;	/* "query timed out" */
	else if (a.pkt != NULL && nwrap >= 0 && (a.rcode == LDNS_RCODE_NOERROR ||
	    a.rcode == LDNS_RCODE_NXDOMAIN) &&
	    ldns_pkt2wire(&wire, a.pkt, &wlen) == LDNS_STATUS_OK &&
	    wlen <= buflen) {
		memcpy(buf, wire, wlen);
		m->q_len = wlen;
		m->q_status = DKIM_DNS_SUCCESS;
	}
	free(wire);
	dns_answer_free(&a);
	return DKIM_DNS_SUCCESS;
}

/* dkimverify_dns_waitreply - the answer is always there already */
static int
dkimverify_dns_waitreply(void *srv, void *qh, struct timeval *to,
    size_t *len, int *err, int *dnssec)
{
	struct dkimverify_msg *m = qh;

	(void)srv;
	(void)to;
	if (m == NULL)
		return DKIM_DNS_ERROR;
	if (len != NULL)
		*len = m->q_len;
	if (err != NULL)
		*err = 0;
	if (dnssec != NULL)
		*dnssec = m->q_dnssec;
	return m->q_status;
}

/* dkimverify_dns_cancel - nothing to cancel */
static int
dkimverify_dns_cancel(void *srv, void *qh)
{
	(void)srv;
	(void)qh;
	return DKIM_DNS_SUCCESS;
}

/* dkimverify_prescreen - ignore signatures past max_sigs */
static DKIM_CBSTAT
dkimverify_prescreen(DKIM *dkim, DKIM_SIGINFO **sigs, int nsigs)
{
	struct dkimverify_msg *m = dkim_get_user_context(dkim);
	int i;

	if (m == NULL)
		return DKIM_CBSTAT_CONTINUE;
	for (i = (int)m->v->opt.max_sigs; i < nsigs; i++)
		dkim_sig_ignore(sigs[i]);
	return DKIM_CBSTAT_CONTINUE;
}

/* dkimverify_setopt - one dkim_options() call; false on failure */
static bool
dkimverify_setopt(DKIM_LIB *lib, int opt, void *val, size_t len)
{
	return dkim_options(lib, DKIM_OP_SETOPT, opt, val, len) == DKIM_STAT_OK;
}

/* dkimverify_new - the shared library handle with our DNS service */
int
dkimverify_new(struct dkimverify **out, const struct dkimverify_options *opt,
    char *err, size_t errsz)
{
	struct dkimverify *v;
	unsigned int flags, minbits = DKIMVERIFY_LIB_MINBITS;

	*out = NULL;
	if (opt->max_sigs < 1 || opt->max_sigs > DKIMVERIFY_SIGS_HARDMAX) {
		snprintf(err, errsz, "max_sigs %u not in 1..%u", opt->max_sigs,
		    DKIMVERIFY_SIGS_HARDMAX);
		return SCOPE_ERANGE;
	}
	if (dkimbody_init() != SCOPE_OK) {
		snprintf(err, errsz, "OpenSSL has no SHA-1 or SHA-256");
		return SCOPE_ENOMEM;
	}
	v = calloc(1, sizeof(*v));
	if (v == NULL || (v->lib = dkim_init(NULL, NULL)) == NULL) {
		free(v);
		snprintf(err, errsz, "dkim_init failed");
		return SCOPE_ENOMEM;
	}
	v->opt = *opt;
	flags = DKIM_LIBFLAGS_DELAYSIGPROC |
	    DKIM_LIBFLAGS_BADSIGHANDLES;
	if (!dkimverify_setopt(v->lib, DKIM_OPTS_FLAGS, &flags,
	    sizeof(flags)) ||
	    !dkimverify_setopt(v->lib, DKIM_OPTS_MINKEYBITS, &minbits,
	    sizeof(minbits)) ||
	    dkim_set_prescreen(v->lib, dkimverify_prescreen) != DKIM_STAT_OK) {
		snprintf(err, errsz, "libopendkim refused an option");
		dkimverify_free(v);
		return SCOPE_EINVAL;
	}
	dkim_dns_set_init(v->lib, NULL);
	dkim_dns_set_close(v->lib, NULL);
	(void)dkim_dns_set_query_service(v->lib, v);
	dkim_dns_set_query_start(v->lib, dkimverify_dns_start);
	dkim_dns_set_query_waitreply(v->lib, dkimverify_dns_waitreply);
	dkim_dns_set_query_cancel(v->lib, dkimverify_dns_cancel);
	*out = v;
	return SCOPE_OK;
}

/* dkimverify_free - release the library handle */
void
dkimverify_free(struct dkimverify *v)
{
	if (v == NULL)
		return;
	if (v->lib != NULL)
		dkim_close(v->lib);
	free(v);
}

/* dkimverify_msg_new - a verifying handle for one message */
struct dkimverify_msg *
dkimverify_msg_new(struct dkimverify *v)
{
	struct dkimverify_msg *m = malloc(sizeof(*m));
	DKIM_STAT st = DKIM_STAT_OK;

	if (m == NULL)
		return NULL;
	/* all but the key log (17 KB, most of it never used) */
	memset(m, 0, offsetof(struct dkimverify_msg, keys));
	m->v = v;
	m->dkim = dkim_verify(v->lib, (const unsigned char *)"smtpscope",
	    NULL, &st);
	if (m->dkim == NULL || st != DKIM_STAT_OK) {
		if (m->dkim != NULL)
			dkim_free(m->dkim);
		free(m);
		return NULL;
	}
	(void)dkim_set_user_context(m->dkim, m);
	return m;
}

/* dkimverify_printf - formatted text into a field, made valid UTF-8 */
static void __attribute__((format(printf, 3, 4)))
dkimverify_printf(char *dst, size_t dstsz, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	text_copy(dst, dstsz, buf, NULL);
}

/* dkimverify_msg_note - keep the first message-level problem */
static void
dkimverify_msg_note(struct dkimverify_msg *m, const char *what, DKIM_STAT st)
{
	const char *detail;

	if (m->error[0] != '\0')
		return;
	detail = dkim_geterror(m->dkim);
	if (detail == NULL || detail[0] == '\0')
		detail = dkim_getresultstr(st);
	dkimverify_printf(m->error, sizeof(m->error), "%s: %s", what,
	    detail != NULL ? detail : "unknown");
}

/* dkimverify_msg_header - "Name:value" to libopendkim, bare LF made CRLF
 * (a header folded with a bare LF would not canonicalize as signed) */
void
dkimverify_msg_header(struct dkimverify_msg *m, const char *name,
    const char *value)
{
	size_t nl = strlen(name), vl = strlen(value), i, n;
	unsigned char small[2048], *line = small;
	DKIM_STAT st;

	if (text_header_is(name, "DKIM-Signature"))
		m->total++;
	if (m->eoh || m->unusable || nl + vl + 1 > DKIMVERIFY_HDR_MAX)
		return;
	m->hdr_bytes += nl + vl + 1;
	if (m->hdr_bytes > DKIMVERIFY_HDRS_MAX) {
		m->unusable = true;
		snprintf(m->error, sizeof(m->error), "header block over %d "
		    "bytes: not verified", DKIMVERIFY_HDRS_MAX);
		return;
	}
	/* "Name:value", each bare LF as CRLF: at most nl + 2 * vl + 2 */
	if (nl + 2 * vl + 2 > sizeof(small) &&
	    (line = malloc(nl + 2 * vl + 2)) == NULL) {
		m->unusable = true;
		snprintf(m->error, sizeof(m->error), "out of memory");
		return;
	}
	memcpy(line, name, nl);
	n = nl;
	line[n++] = ':';
	for (i = 0; i < vl; i++) {
		if (value[i] == '\n' && (i == 0 || value[i - 1] != '\r'))
			line[n++] = '\r';
		line[n++] = (unsigned char)value[i];
	}
	line[n] = '\0';
	st = dkim_header(m->dkim, line, n);
	if (line != small)
		free(line);
	if (st != DKIM_STAT_OK)
		dkimverify_msg_note(m, "header", st);
}

/*
 * dkimverify_body_want - our body hash for signature i as parsed at the
 * end of the header block: -1 (none) for a signature libopendkim already
 * found wrong or ignores; its l= (or -1) kept for dkimverify_body_pad.
 */
static int
dkimverify_body_want(struct dkimverify_msg *m, unsigned i, DKIM_SIGINFO *sig)
{
	dkim_canon_t bc;
	dkim_alg_t alg;
	ssize_t signlen = -1;
	int idx;

	if ((dkim_sig_getflags(sig) & DKIM_SIGFLAG_IGNORE) != 0 ||
	    dkim_sig_geterror(sig) != DKIM_SIGERROR_UNKNOWN ||
	    dkim_sig_getcanonlen(m->dkim, sig, NULL, NULL, &signlen) !=
	    DKIM_STAT_OK ||
	    dkim_sig_getcanons(sig, NULL, &bc) != DKIM_STAT_OK ||
	    dkim_sig_getsignalg(sig, &alg) != DKIM_STAT_OK)
		return -1;
	m->bcanon[i] = bc == DKIM_CANON_RELAXED ? DKIMBODY_RELAXED :
	    DKIMBODY_SIMPLE;
	m->blimit[i] = signlen < 0 ? -1 : (int64_t)signlen;
	idx = dkimbody_want(m->body, m->bcanon[i], alg == DKIM_SIGN_RSASHA1 ?
	    DKIMBODY_SHA1 : DKIMBODY_SHA256, m->blimit[i]);
	if (idx < 0)
		m->lib_body = true;	/* libopendkim's result stands */
	return idx;
}

/*
 * dkimverify_body_pad - what libopendkim is given for a body when it is
 * not given the body: before it verifies a signature with l= at all, it
 * checks that its own canonicalized body reached l= (else permerror).
 * It gets one line of F bytes, F the largest l= that our canonicalized
 * body reaches: every such signature passes its check, every other one
 * (l= beyond our body, so beyond F) fails it. The line has no white
 * space, so it is F bytes in either canonicalization. Its body hash is
 * not used (dkimverify_sig_state); the cost is that of hashing F bytes,
 * no more than the body.
 */
static void
dkimverify_body_pad(struct dkimverify_msg *m)
{
	unsigned char xs[512];
	uint64_t f = 0, n;
	unsigned i;

	if (m->lib_body || m->body == NULL)
		return;
	memset(xs, 'x', sizeof(xs));
	for (i = 0; i < m->nbsig; i++)
		if (m->bhash[i] >= 0 && m->blimit[i] >= 0 &&
		    (uint64_t)m->blimit[i] > f &&
		    dkimbody_canon_len(m->body, m->bcanon[i]) >=
		    (uint64_t)m->blimit[i])
			f = (uint64_t)m->blimit[i];
	if (f == 0)
		return;
	for (f = f < 3 ? 1 : f - 2; f > 0; f -= n) {
		n = f < sizeof(xs) ? f : sizeof(xs);
		(void)dkim_body(m->dkim, (unsigned char *)xs, (size_t)n);
	}
	(void)dkim_body(m->dkim, (unsigned char *)"\r\n", 2);
}

/* dkimverify_body_setup - the body hashes the signatures need */
static void
dkimverify_body_setup(struct dkimverify_msg *m)
{
	DKIM_SIGINFO **sigs = NULL;
	int nsigs = 0;
	unsigned i;

	if (dkim_getsiglist(m->dkim, &sigs, &nsigs) != DKIM_STAT_OK ||
	    sigs == NULL || nsigs <= 0)
		return;
	m->body = dkimbody_new();
	if (m->body == NULL) {
		m->lib_body = true;
		return;
	}
	for (i = 0; i < (unsigned)nsigs && i < m->v->opt.max_sigs; i++) {
		m->bsig[i] = sigs[i];
		m->bhash[i] = dkimverify_body_want(m, i, sigs[i]);
	}
	m->nbsig = i;
}

/* dkimverify_msg_eoh - end of the header block */
void
dkimverify_msg_eoh(struct dkimverify_msg *m)
{
	DKIM_STAT st;

	if (m->eoh || m->unusable)
		return;
	m->eoh = true;
	st = dkim_eoh(m->dkim);
	if (st == DKIM_STAT_OK)
		dkimverify_body_setup(m);
	else if (st != DKIM_STAT_NOSIG) {
		dkimverify_msg_note(m, "end of header", st);
		if (st != DKIM_STAT_CANTVRFY)
			m->unusable = true;
	}
}

/* dkimverify_body_put - body bytes to our hashes and, when it needs
 * them, to libopendkim */
static void
dkimverify_body_put(struct dkimverify_msg *m, const unsigned char *p,
    size_t n)
{
	if (m->body != NULL)
		dkimbody_update(m->body, p, n);
	if (m->lib_body)
		(void)dkim_body(m->dkim, (unsigned char *)p, n);
}

/* dkimverify_msg_body - one body chunk, hashed as it passes; a bare LF
 * (one not after CR, in this chunk or at the end of the last) goes on as
 * CRLF */
void
dkimverify_msg_body(struct dkimverify_msg *m, const unsigned char *buf,
    size_t len)
{
	const unsigned char *seg = buf, *end = buf + len, *lf;
	bool after_cr;

	if (!m->eoh)
		dkimverify_msg_eoh(m);
	if (m->unusable || len == 0 || (m->body == NULL && !m->lib_body))
		return;
	for (lf = memchr(buf, '\n', len); lf != NULL;
	    lf = memchr(lf + 1, '\n', (size_t)(end - lf - 1))) {
		after_cr = lf > buf ? lf[-1] == '\r' : m->body_cr;
		if (after_cr)
			continue;
		if (lf > seg)
			dkimverify_body_put(m, seg, (size_t)(lf - seg));
		dkimverify_body_put(m, (const unsigned char *)"\r", 1);
		seg = lf;	/* the LF starts the next piece */
	}
	dkimverify_body_put(m, seg, (size_t)(end - seg));
	m->body_cr = end[-1] == '\r';
}

/* dkimverify_tag - a signature tag's raw value, or NULL */
static const char *
dkimverify_tag(DKIM_SIGINFO *sig, const char *tag)
{
	return (const char *)dkim_sig_gettagvalue(sig, 0,
	    (unsigned char *)tag);
}

/* dkimverify_copy_tag - a tag into a field, without folding white space */
static void
dkimverify_copy_tag(char *dst, size_t dstsz, DKIM_SIGINFO *sig,
    const char *tag, size_t maxchars)
{
	const char *s = dkimverify_tag(sig, tag);
	char buf[512];
	size_t n = 0;

	if (s != NULL)
		for (; *s != '\0' && n < sizeof(buf) - 1 && n < maxchars; s++)
			if (!isspace((unsigned char)*s))
				buf[n++] = *s;
	buf[n] = '\0';
	text_copy(dst, dstsz, buf, NULL);
}

/*
 * dkimverify_qp_decode - DKIM-Quoted-Printable (RFC 6376 section 2.11) of
 * the i= tag, bounded by outsz. Ours, not dkim_sig_getidentity():
 * libopendkim 2.11's decoder reads past its buffer on malformed input
 * (found by fuzz_dkim). Folding white space is dropped; "=XX" is a byte;
 * a '=' without two hex digits is kept as it is.
 */
static void
dkimverify_qp_decode(const char *in, unsigned char *out, size_t outsz)
{
	size_t n = 0;
	int hi, lo;

	while (*in != '\0' && n + 1 < outsz) {
		if (*in == ' ' || *in == '\t' || *in == '\r' || *in == '\n') {
			in++;
			continue;
		}
		if (*in == '=' && (hi = text_hexval(in[1])) >= 0 &&
		    (lo = text_hexval(in[2])) >= 0) {
			out[n++] = (unsigned char)(hi << 4 | lo);
			in += 3;
			continue;
		}
		out[n++] = (unsigned char)*in++;
	}
	out[n] = '\0';
}

/* dkimverify_sig_fields - the descriptive fields of one outcome */
static void
dkimverify_sig_fields(struct dkimverify_msg *m, DKIM_SIGINFO *sig,
    struct dkimverify_sig *o)
{
	const char *s;
	unsigned int bits = 0;
	int err;
	long l;
	unsigned char id[DNS_NAME_MAX + 80];
	const struct dkimverify_keylog *k;

	o->key_bits = -1;
	o->body_length = -1;
	dkimverify_copy_tag(o->domain, sizeof(o->domain), sig, "d",
	    sizeof(o->domain) - 1);
	dkimverify_copy_tag(o->selector, sizeof(o->selector), sig, "s",
	    sizeof(o->selector) - 1);
	dkimverify_copy_tag(o->algorithm, sizeof(o->algorithm), sig, "a",
	    sizeof(o->algorithm) - 1);
	dkimverify_copy_tag(o->canon, sizeof(o->canon), sig, "c",
	    sizeof(o->canon) - 1);
	if (o->canon[0] == '\0')
		snprintf(o->canon, sizeof(o->canon), "simple/simple");
	else if (strchr(o->canon, '/') == NULL && strlen(o->canon) < 20)
		strcat(o->canon, "/simple");	/* fits: checked above */
	dkimverify_copy_tag(o->b_prefix, sizeof(o->b_prefix), sig, "b", 8);
	s = dkimverify_tag(sig, "i");
	if (s != NULL) {
		dkimverify_qp_decode(s, id, sizeof(id));
		text_copy(o->identity, sizeof(o->identity), (const char *)id,
		    NULL);
	}
	s = dkimverify_tag(sig, "l");
	if (s != NULL && text_parse_long(s, 10, 0, LONG_MAX, &l) == 0)
		o->body_length = l;
	s = (const char *)dkim_sig_gettagvalue(sig, 1, (unsigned char *)"p");
	if ((dkim_sig_getflags(sig) & DKIM_SIGFLAG_PROCESSED) != 0 &&
	    s != NULL && s[0] != '\0') {	/* a key record came back */
		s = (const char *)dkim_sig_gettagvalue(sig, 1,
		    (unsigned char *)"k");
		text_copy(o->key_type, sizeof(o->key_type),
		    s != NULL ? s : "rsa", NULL);
		k = dkimverify_keylog_find(m, o->selector, o->domain);
		snprintf(o->key_encoding, sizeof(o->key_encoding), "%s",
		    strcasecmp(o->key_type, "rsa") != 0 ? "raw" :
		    k != NULL && k->pkcs1 ? "pkcs1" : "spki");
		err = dkim_sig_geterror(sig);
		if (dkim_sig_getkeysize(sig, &bits) == DKIM_STAT_OK &&
		    bits > 0)
			o->key_bits = bits > INT32_MAX ? INT32_MAX : (int)bits;
		else if (strcmp(o->key_type, "ed25519") == 0 &&
		    (err == DKIM_SIGERROR_OK || err == DKIM_SIGERROR_UNKNOWN ||
		    err == DKIM_SIGERROR_BADSIG))
			o->key_bits = 256;	/* RFC 8463: always */
	}
	o->testing = (dkim_sig_getflags(sig) & DKIM_SIGFLAG_TESTKEY) != 0;
	k = dkimverify_keylog_find(m, o->selector, o->domain);
	if (k != NULL) {
		o->dnssec_known = true;
		o->dnssec = k->sec;
	}
}

/* dkimverify_dns_reason - why a key lookup gave no key (temperror) */
static void
dkimverify_dns_reason(const struct dkimverify_msg *m,
    struct dkimverify_sig *o)
{
	const struct dkimverify_keylog *k = dkimverify_keylog_find(m,
	    o->selector, o->domain);

	if (k == NULL)
		snprintf(o->reason, sizeof(o->reason), "key lookup failed");
	else if (k->rcode == -1)
		snprintf(o->reason, sizeof(o->reason),
		    "key lookup: DNS query timed out");
	else if (k->sec == DNS_SEC_BOGUS)
		snprintf(o->reason, sizeof(o->reason),
		    "key lookup: DNSSEC validation failed (bogus)");
	else if (k->rcode == LDNS_RCODE_SERVFAIL)
		snprintf(o->reason, sizeof(o->reason),
		    "key lookup: DNS SERVFAIL");
	else
		snprintf(o->reason, sizeof(o->reason),
		    "key lookup: DNS error (rcode %d)", k->rcode);
}

/* dkimverify_error_res - the result of a libopendkim signature error */
static enum dkimverify_res
dkimverify_error_res(int err)
{
	switch (err) {
	case DKIM_SIGERROR_KEYFAIL:
		return DKIMVERIFY_TEMPERROR;
	case DKIM_SIGERROR_BADSIG:
		return DKIMVERIFY_FAIL;
	case DKIM_SIGERROR_VERSION:
	case DKIM_SIGERROR_INVALID_HC:
	case DKIM_SIGERROR_INVALID_BC:
	case DKIM_SIGERROR_INVALID_Q:
	case DKIM_SIGERROR_INVALID_QO:
		return DKIMVERIFY_NEUTRAL;	/* RFC 6376: ignore these */
	default:
		return DKIMVERIFY_PERMERROR;
	}
}

/* dkimverify_policy - RFC 8301 on a signature that verified */
static void
dkimverify_policy(const struct dkimverify_options *opt,
    struct dkimverify_sig *o)
{
	if (!opt->allow_sha1 && strcasecmp(o->algorithm, "rsa-sha1") == 0) {
		o->result = DKIMVERIFY_POLICY;
		snprintf(o->reason, sizeof(o->reason),
		    "rsa-sha1 not accepted (RFC 8301)");
	} else if (strcmp(o->key_type, "rsa") == 0 && o->key_bits >= 0 &&
	    (unsigned)o->key_bits < opt->min_key_bits) {
		o->result = DKIMVERIFY_POLICY;
		snprintf(o->reason, sizeof(o->reason),
		    "%u-bit minimum, key has %d", opt->min_key_bits,
		    o->key_bits);
	}
}

/* what became of one signature: libopendkim's flags, error and body hash
 * verdict, the last two with our body hash put in */
struct dkimverify_state {
	unsigned int flags;
	int err;
	int bh;
};

/*
 * dkimverify_sig_state - libopendkim verified the header hash; whether
 * the body hash matches is ours to say when we hashed the body for the
 * signature, and so is whether l= fits the body (the stand-in of
 * dkimverify_body_pad is as long as the largest l= that fits, so it may
 * let a smaller l= of another canonicalization through). libopendkim compared bh= with a hash of the body it was
 * given (none, or the body through its own canonicalization) and said
 * BADSIG on a mismatch; that verdict is replaced. An error it set after
 * the body hash (t=s) stands. A body hash that matches gets the key
 * size floor libopendkim would have applied to it.
 */
static void
dkimverify_sig_state(struct dkimverify_msg *m, unsigned i,
    DKIM_SIGINFO *sig, struct dkimverify_state *s)
{
	unsigned int bits = 0;
	dkim_alg_t alg = DKIM_SIGN_UNKNOWN;
	bool ours;

	s->flags = dkim_sig_getflags(sig);
	s->err = dkim_sig_geterror(sig);
	s->bh = dkim_sig_getbh(sig);
	if (m->body == NULL || i >= m->nbsig || m->bsig[i] != sig ||
	    m->bhash[i] < 0 || (s->flags & DKIM_SIGFLAG_PASSED) == 0)
		return;
	if (m->blimit[i] >= 0 && dkimbody_canon_len(m->body, m->bcanon[i]) <
	    (uint64_t)m->blimit[i]) {	/* the stand-in was longer */
		s->err = DKIM_SIGERROR_TOOLARGE_L;
		s->flags &= ~(unsigned int)DKIM_SIGFLAG_PASSED;
		return;
	}
	ours = dkimbody_match(m->body, m->bhash[i], dkimverify_tag(sig, "bh"));
	if (s->err == DKIM_SIGERROR_BADSIG && s->bh == DKIM_SIGBH_MISMATCH)
		s->err = DKIM_SIGERROR_OK;
	s->bh = ours ? DKIM_SIGBH_MATCH : DKIM_SIGBH_MISMATCH;
	if (s->err != DKIM_SIGERROR_OK && s->err != DKIM_SIGERROR_UNKNOWN)
		return;
	if (!ours) {
		s->err = DKIM_SIGERROR_BADSIG;
		return;
	}
	(void)dkim_sig_getsignalg(sig, &alg);
	if (alg != DKIM_SIGN_ED25519SHA256 &&
	    (dkim_sig_getkeysize(sig, &bits) != DKIM_STAT_OK ||
	    bits < DKIMVERIFY_LIB_MINBITS)) {
		s->err = DKIM_SIGERROR_KEYTOOSMALL;
		s->flags &= ~(unsigned int)DKIM_SIGFLAG_PASSED;
	}
}

/* dkimverify_sig_result - what became of one signature */
static void
dkimverify_sig_result(struct dkimverify_msg *m,
    const struct dkimverify_state *s, struct dkimverify_sig *o)
{
	unsigned int flags = s->flags;
	int err = s->err;
	const char *why;

	if (err == DKIM_SIGERROR_OK || err == DKIM_SIGERROR_UNKNOWN) {
		if ((flags & DKIM_SIGFLAG_PROCESSED) == 0) {
			o->result = DKIMVERIFY_NEUTRAL;
			dkimverify_printf(o->reason, sizeof(o->reason), "%s",
			    m->error[0] != '\0' ? m->error : "not evaluated");
		} else if (s->bh == DKIM_SIGBH_MISMATCH) {
			o->result = DKIMVERIFY_FAIL;
			snprintf(o->reason, sizeof(o->reason),
			    "body hash mismatch");
		} else if ((flags & DKIM_SIGFLAG_PASSED) == 0) {
			o->result = DKIMVERIFY_FAIL;
			snprintf(o->reason, sizeof(o->reason),
			    "signature did not verify");
		} else {
			o->result = DKIMVERIFY_PASS;
			dkimverify_policy(&m->v->opt, o);
		}
		return;
	}
	o->result = dkimverify_error_res(err);
	if (o->result == DKIMVERIFY_TEMPERROR) {
		dkimverify_dns_reason(m, o);
		return;
	}
	if (err == DKIM_SIGERROR_BADSIG && s->bh == DKIM_SIGBH_MISMATCH)
		why = "body hash mismatch";
	else if (err == DKIM_SIGERROR_BADSIG)
		why = "signature did not verify";
	else if (err == DKIM_SIGERROR_NOKEY)
		why = "no key record (NXDOMAIN or no TXT)";
	else if (err == DKIM_SIGERROR_KEYREVOKED)
		why = "key revoked (empty p=)";
	else
		why = dkim_sig_geterrorstr(err);
	dkimverify_printf(o->reason, sizeof(o->reason), "%s",
	    why != NULL ? why : "signature error");
}

/* dkimverify_collect - one outcome per evaluated signature */
static int
dkimverify_collect(struct dkimverify_msg *m, struct dkimverify_outcome *out)
{
	DKIM_SIGINFO **sigs = NULL;
	struct dkimverify_state state;
	int nsigs = 0, i;
	unsigned n;

	if (dkim_getsiglist(m->dkim, &sigs, &nsigs) != DKIM_STAT_OK ||
	    sigs == NULL || nsigs <= 0)
		return SCOPE_OK;
	n = (unsigned)nsigs < m->v->opt.max_sigs ? (unsigned)nsigs :
	    m->v->opt.max_sigs;
	out->sig = calloc(n, sizeof(*out->sig));
	if (out->sig == NULL)
		return SCOPE_ENOMEM;
	for (i = 0; (unsigned)i < n; i++) {
		dkimverify_sig_state(m, (unsigned)i, sigs[i], &state);
		dkimverify_sig_fields(m, sigs[i], &out->sig[i]);
		dkimverify_sig_result(m, &state, &out->sig[i]);
	}
	out->nsig = n;
	return SCOPE_OK;
}

/* dkimverify_msg_eom - fetch keys, verify, describe every signature */
int
dkimverify_msg_eom(struct dkimverify_msg *m, struct dns_ctx *dns,
    struct dkimverify_outcome *out)
{
	DKIM_STAT st = DKIM_STAT_OK;
	struct dkimverify_msg *saved = dkimverify_cur;
	int rc;

	memset(out, 0, sizeof(*out));
	out->total = m->total;
	if (!m->eoh)
		dkimverify_msg_eoh(m);
	if (m->body != NULL && !m->unusable) {
		dkimbody_final(m->body);
		dkimverify_body_pad(m);
	}
	if (!m->unusable) {
		m->dns = dns;
		dkimverify_cur = m;
		st = dkim_eom(m->dkim, NULL);
		dkimverify_cur = saved;
		m->dns = NULL;
	}
	if (st == DKIM_STAT_NORESOURCE)
		return SCOPE_ENOMEM;
	if (st == DKIM_STAT_INTERNAL) {
		dkimverify_msg_note(m, "verification", st);
		snprintf(out->error, sizeof(out->error), "%s", m->error);
		return SCOPE_ESTATE;
	}
	if (m->total == 0)
		return SCOPE_OK;	/* unsigned (DomainKeys not counted) */
	rc = dkimverify_collect(m, out);
	snprintf(out->error, sizeof(out->error), "%s", m->error);
	return rc;
}

/* dkimverify_msg_free - release the message state */
void
dkimverify_msg_free(struct dkimverify_msg *m)
{
	if (m == NULL)
		return;
	if (m->dkim != NULL)
		dkim_free(m->dkim);
	dkimbody_free(m->body);
	free(m);
}

/* dkimverify_outcome_free - release the outcome list */
void
dkimverify_outcome_free(struct dkimverify_outcome *out)
{
	free(out->sig);
	out->sig = NULL;
	out->nsig = 0;
}
