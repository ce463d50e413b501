/*
 * dkimverify.h - DKIM (RFC 6376, RFC 8463) verification of every
 * signature of a message, with libopendkim; key lookups through lib/dns.
 *
 * A struct dkimverify is shared by all threads (one DKIM_LIB whose DNS
 * callbacks send each key query to dns_query() on the struct dns_ctx of
 * the message being finished on the calling thread). A struct
 * dkimverify_msg follows one message: headers as they arrive, the body
 * streamed in chunks (never buffered whole: libopendkim hashes as it
 * goes), then dkimverify_msg_eom() fetches the keys and fills one
 * outcome per signature, in header order, top first.
 *
 * Policy (RFC 8301): rsa-sha1 and RSA keys shorter than min_key_bits
 * verify cryptographically but give "policy", with the reason saying
 * why, unless allowed by the options. Signatures beyond max_sigs are
 * not evaluated; they are counted in total.
 *
 * Failures: functions return 0 or a negative SCOPE_* code (ENOMEM only).
 * Anything about the message or DNS is a result (permerror, temperror),
 * never an error. Hostile input is bounded: every string copied into an
 * outcome is cut to its field and made valid UTF-8.
 */
#ifndef SMTPSCOPE_DKIMVERIFY_H
#define SMTPSCOPE_DKIMVERIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "dns/dns.h"

#define DKIMVERIFY_SIGS_DEFAULT	10	/* MaximumSignatures */
#define DKIMVERIFY_SIGS_HARDMAX	64

enum dkimverify_res {
	DKIMVERIFY_NONE,	/* message not signed (no outcome carries it) */
	DKIMVERIFY_PASS,
	DKIMVERIFY_FAIL,
	DKIMVERIFY_NEUTRAL,	/* signature ignored: syntax we do not
				 * evaluate, or beyond the cap */
	DKIMVERIFY_POLICY,	/* valid, but not acceptable (RFC 8301) */
	DKIMVERIFY_TEMPERROR,	/* key lookup failed temporarily */
	DKIMVERIFY_PERMERROR	/* broken signature or key record */
};

struct dkimverify_options {
	unsigned max_sigs;	/* 1..DKIMVERIFY_SIGS_HARDMAX */
	unsigned min_key_bits;	/* RSA; RFC 8301: 1024 */
	bool allow_sha1;	/* accept rsa-sha1 (RFC 8301 says no) */
};

struct dkimverify_sig {
	enum dkimverify_res result;
	char reason[128];	/* why, e.g. "body hash mismatch"; "" on pass */
	char domain[256];	/* d= */
	char selector[128];	/* s= */
	char algorithm[32];	/* a=, e.g. "rsa-sha256", "ed25519-sha256" */
	char canon[40];		/* c=, header/body, e.g. "relaxed/simple" */
	char identity[321];	/* i=, "" when absent */
	char key_type[16];	/* "rsa", "ed25519", "" when no key */
	char key_encoding[8];	/* p= as published: "spki" or "pkcs1" (RSA),
				 * "raw" (Ed25519), "" when no key */
	int key_bits;		/* -1 when unknown */
	long body_length;	/* l=, -1 when absent */
	char b_prefix[16];	/* first 8 characters of b= (RFC 6008) */
	bool testing;		/* key record t=y */
	bool dnssec_known;	/* a key lookup was made */
	enum dns_sec dnssec;	/* of the key lookup */
};

struct dkimverify_outcome {
	struct dkimverify_sig *sig;	/* owned, nsig entries */
	unsigned nsig;		/* evaluated (capped by max_sigs) */
	unsigned total;		/* DKIM-Signature headers seen */
	char error[128];	/* a message-level problem, "" if none */
};

struct dkimverify;
struct dkimverify_msg;

/* dkimverify_new - the shared verifier; err gets a reason on failure */
int dkimverify_new(struct dkimverify **out,
    const struct dkimverify_options *opt, char *err, size_t errsz);
void dkimverify_free(struct dkimverify *v);

/* dkimverify_msg_new - state for one message; NULL on ENOMEM */
struct dkimverify_msg *dkimverify_msg_new(struct dkimverify *v);
/* dkimverify_msg_header - one header exactly as received: value with its
 * leading whitespace and folding (CRLF or bare LF) kept */
void dkimverify_msg_header(struct dkimverify_msg *m, const char *name,
    const char *value);
void dkimverify_msg_eoh(struct dkimverify_msg *m);
/* dkimverify_msg_body - a body chunk, CRLF line ends as on the wire */
void dkimverify_msg_body(struct dkimverify_msg *m, const unsigned char *buf,
    size_t len);
/* dkimverify_msg_eom - fetch keys (through dns), verify, fill out; out
 * is the caller's, released with dkimverify_outcome_free() */
int dkimverify_msg_eom(struct dkimverify_msg *m, struct dns_ctx *dns,
    struct dkimverify_outcome *out);
void dkimverify_msg_free(struct dkimverify_msg *m);
void dkimverify_outcome_free(struct dkimverify_outcome *out);

/* dkimverify_res_name - "pass", "fail", ... as in RFC 8601 */
const char *dkimverify_res_name(enum dkimverify_res r);

#endif
