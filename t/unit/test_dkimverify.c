/*
 * test_dkimverify.c - DKIM verification through libopendkim and the
 * in-memory DNS layer: keys are made at test time with openssl(1) in a
 * temporary directory, messages are signed with t/tools/dkimsign, key
 * records go into an in-memory zone. Covers every result, the DNSSEC
 * status, the signature cap, streaming of a large body, hostile
 * signature values, and msgfile's raw header values.
 */
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "auth/dkimkey.h"
#include "auth/dkimkeycache.h"
#include "auth/dkimverify.h"
#include "dns/dns.h"
#include "errors.h"
#include "msgfile.h"
#include "stats.h"
#include "tap.h"

static char tmpdir[] = "/tmp/test_dkimverify.XXXXXX";
static char signer[1024];

static const char base_msg[] =
    "From: Alice <alice@example.org>\n"
    "To: Bob <bob@example.net>\n"
    "Subject: quarterly figures\n"
    "Date: Sat, 28 Nov 2026 10:00:00 +0000\n"
    "Message-ID: <t.1@example.org>\n"
    "\n"
    "The figures are attached.\n"
    "Regards,\n"
    "Alice\n";

/* run - a shell command; true when it exits 0 */
static bool
run(const char *cmd)
{
	return system(cmd) == 0;
}

/* slurp_file - a whole file, NUL-terminated (caller frees) */
static char *
slurp_file(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long n;

	if (fp == NULL)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	buf = malloc((size_t)n + 1);
	if (buf != NULL && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(fp);
	if (buf != NULL) {
		buf[n] = '\0';
		if (len != NULL)
			*len = (size_t)n;
	}
	return buf;
}

/* write_file - text to a file in the temporary directory */
static void
write_file(const char *name, const char *text, size_t len)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	fp = fopen(path, "wb");
	if (fp == NULL || fwrite(text, 1, len, fp) != len) {
		printf("Bail out! cannot write %s\n", path);
		exit(1);
	}
	fclose(fp);
}

/* read_b64 - the first line of a file in the temporary directory
 * (caller frees); bails out when it is missing or empty */
static char *
read_b64(const char *name, const char *ext)
{
	char path[512], *p, *nl;

	snprintf(path, sizeof(path), "%s/%s.%s", tmpdir, name, ext);
	if ((p = slurp_file(path, NULL)) == NULL || p[0] == '\0') {
		printf("Bail out! cannot read %s\n", path);
		exit(1);
	}
	if ((nl = strchr(p, '\n')) != NULL)
		*nl = '\0';
	return p;
}

/* keygen_pub - the p= value of key NAME made by keygen (caller frees) */
static char *
keygen_pub(const char *name)
{
	return read_b64(name, "pub");
}

/* keygen - a private key NAME.pem and its p= value (caller frees) */
static char *
keygen(const char *name, const char *alg, int bits)
{
	char cmd[1024];

	if (bits > 0)
		snprintf(cmd, sizeof(cmd), "openssl genpkey -algorithm %s "
		    "-pkeyopt rsa_keygen_bits:%d -out %s/%s.pem 2>/dev/null && "
		    "openssl pkey -in %s/%s.pem -pubout -outform DER 2>/dev/null"
		    " | base64 -w0 > %s/%s.pub", alg, bits, tmpdir, name,
		    tmpdir, name, tmpdir, name);
	else	/* Ed25519: p= is the raw 32-byte key (RFC 8463) */
		snprintf(cmd, sizeof(cmd), "openssl genpkey -algorithm %s "
		    "-out %s/%s.pem 2>/dev/null && openssl pkey -in %s/%s.pem "
		    "-pubout -outform DER 2>/dev/null | tail -c 32 | base64 -w0 "
		    "> %s/%s.pub", alg, tmpdir, name, tmpdir, name, tmpdir,
		    name);
	if (!run(cmd)) {
		printf("Bail out! cannot make key %s with openssl\n", name);
		exit(1);
	}
	return keygen_pub(name);
}

/* pkcs1_of - the PKCS#1 RSAPublicKey of NAME.pem, in base64 (caller
 * frees); cut > 0 drops that many bytes from its end (a corrupt key) */
static char *
pkcs1_of(const char *name, int cut)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "openssl rsa -in %s/%s.pem -RSAPublicKey_out "
	    "-outform DER 2>/dev/null | head -c -%d | base64 -w0 > %s/%s.p1",
	    tmpdir, name, cut, tmpdir, name);
	if (!run(cmd)) {
		printf("Bail out! cannot write the PKCS#1 key of %s\n", name);
		exit(1);
	}
	return read_b64(name, "p1");
}

/* sign - msg signed by dkimsign with extra options (caller frees) */
static char *
sign(const char *msg, size_t len, const char *key, const char *opts)
{
	char cmd[2048], out[512];
	char *text;

	write_file("in.eml", msg, len);
	snprintf(out, sizeof(out), "%s/out.eml", tmpdir);
	snprintf(cmd, sizeof(cmd), "%s -k %s/%s.pem %s < %s/in.eml > %s",
	    signer, tmpdir, key, opts, tmpdir, out);
	if (!run(cmd) || (text = slurp_file(out, NULL)) == NULL) {
		printf("Bail out! dkimsign failed: %s\n", cmd);
		exit(1);
	}
	return text;
}

/* txt - a TXT record for the zone, split into 255-byte strings */
static void
txt(struct dns_resolver *r, const char *name, const char *value)
{
	char rr[8192];
	size_t n, len = strlen(value), off = 0;

	n = (size_t)snprintf(rr, sizeof(rr), "%s 300 IN TXT", name);
	do {
		n += (size_t)snprintf(rr + n, sizeof(rr) - n, " \"%.*s\"",
		    (int)(len - off < 255 ? len - off : 255), value + off);
		off += 255;
	} while (off < len);
	if (dns_zone_add(r, rr) != 0) {
		printf("Bail out! zone refused %s\n", rr);
		exit(1);
	}
}

/* key_txt - "v=DKIM1; k=...; p=..." plus extra tags */
static void
key_txt(struct dns_resolver *r, const char *name, const char *k,
    const char *p, const char *extra)
{
	char v[4096];

	snprintf(v, sizeof(v), "v=DKIM1; k=%s; %sp=%s", k, extra, p);
	txt(r, name, v);
}

/* verify_chunks - a message text through dkimverify, body in chunks */
static int
verify_chunks(struct dkimverify *v, struct dns_resolver *r, const char *text,
    size_t len, size_t chunk, struct dkimverify_outcome *out)
{
	struct msgfile mf;
	struct dkimverify_msg *m;
	struct dns_ctx dc;
	size_t i, off;
	int rc;

	if (msgfile_parse(text, len, &mf) != 0)
		return SCOPE_EINVAL;
	m = dkimverify_msg_new(v);
	if (m == NULL || dns_ctx_init(&dc, r) != 0) {
		msgfile_free(&mf);
		dkimverify_msg_free(m);
		return SCOPE_ENOMEM;
	}
	for (i = 0; i < mf.nhdr; i++)
		dkimverify_msg_header(m, mf.hdr[i].name, mf.hdr[i].raw);
	dkimverify_msg_eoh(m);
	for (off = 0; off < mf.body_len; off += chunk)
		dkimverify_msg_body(m, (const unsigned char *)mf.body + off,
		    mf.body_len - off < chunk ? mf.body_len - off : chunk);
	rc = dkimverify_msg_eom(m, &dc, out);
	dkimverify_msg_free(m);
	dns_ctx_free(&dc);
	msgfile_free(&mf);
	return rc;
}

/* verify - verify_chunks in 4 KiB chunks */
static int
verify(struct dkimverify *v, struct dns_resolver *r, const char *text,
    struct dkimverify_outcome *out)
{
	return verify_chunks(v, r, text, strlen(text), 4096, out);
}

/* one_result - verify a one-signature message; result and reason */
static enum dkimverify_res
one_result(struct dkimverify *v, struct dns_resolver *r, const char *text,
    char *reason, size_t rsz, struct dkimverify_sig *sig)
{
	struct dkimverify_outcome out;
	enum dkimverify_res res = DKIMVERIFY_NONE;

	if (verify(v, r, text, &out) == 0 && out.nsig == 1) {
		res = out.sig[0].result;
		if (reason != NULL)
			snprintf(reason, rsz, "%s", out.sig[0].reason);
		if (sig != NULL)
			*sig = out.sig[0];
	}
	dkimverify_outcome_free(&out);
	return res;
}

/* replace - a copy of text with the first 'from' made 'to' */
static char *
replace(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	size_t n = strlen(text) + strlen(to) + 1;
	char *out = malloc(n);

	if (at == NULL || out == NULL) {
		printf("Bail out! replace: '%s' not found\n", from);
		exit(1);
	}
	snprintf(out, n, "%.*s%s%s", (int)(at - text), text, to,
	    at + strlen(from));
	return out;
}

/* test_msgfile_raw - raw values keep white space and folding, CRLF */
static void
test_msgfile_raw(void)
{
	static const char t[] = "Subject:  two\n\tlines\nX-A:b\r\n\r\nbody\n";
	struct msgfile mf;

	ok(msgfile_parse(t, sizeof(t) - 1, &mf) == 0 && mf.nhdr == 2,
	    "msgfile: two header fields");
	is_str(mf.nhdr > 0 ? mf.hdr[0].raw : NULL, "  two\r\n\tlines",
	    "msgfile: raw keeps leading space, folding becomes CRLF");
	is_str(mf.nhdr > 0 ? mf.hdr[0].value : NULL, "two\n\tlines",
	    "msgfile: value as before");
	is_str(mf.nhdr > 1 ? mf.hdr[1].raw : NULL, "b",
	    "msgfile: raw without white space");
	msgfile_free(&mf);
}

/* test_basic - RSA-2048 and Ed25519, fields of the outcome */
static void
test_basic(struct dkimverify *v, struct dns_resolver *r)
{
	struct dkimverify_outcome out;
	char *s, *s2, *b;
	int rc;

	s = sign(base_msg, strlen(base_msg), "rsa2048",
	    "-d example.org -s rsa");
	rc = verify(v, r, s, &out);
	is_int(rc, 0, "rsa-2048: eom returns 0");
	is_int(out.total, 1, "rsa-2048: one DKIM-Signature seen");
	is_int(out.nsig, 1, "rsa-2048: one outcome");
	if (out.nsig == 1) {
		is_str(dkimverify_res_name(out.sig[0].result), "pass",
		    "rsa-2048: pass");
		is_str(out.sig[0].reason, "", "rsa-2048: no reason on pass");
		is_str(out.sig[0].domain, "example.org", "rsa-2048: d=");
		is_str(out.sig[0].selector, "rsa", "rsa-2048: s=");
		is_str(out.sig[0].algorithm, "rsa-sha256", "rsa-2048: a=");
		is_str(out.sig[0].canon, "relaxed/relaxed", "rsa-2048: c=");
		is_str(out.sig[0].key_type, "rsa", "rsa-2048: key type");
		is_int(out.sig[0].key_bits, 2048, "rsa-2048: key bits");
		is_int(out.sig[0].body_length, -1, "rsa-2048: no l=");
		is_str(out.sig[0].identity, "", "rsa-2048: no i=");
		b = strstr(s, "b=");
		while (b != NULL && b > s && b[-1] != ' ' && b[-1] != '\t')
			b = strstr(b + 1, "b=");
		ok(b != NULL && strlen(out.sig[0].b_prefix) == 8 &&
		    strncmp(out.sig[0].b_prefix, b + 2, 8) == 0,
		    "rsa-2048: b_prefix is the first 8 characters of b=");
		ok(out.sig[0].dnssec_known && out.sig[0].dnssec ==
		    DNS_SEC_INSECURE, "rsa-2048: key lookup insecure");
		ok(!out.sig[0].testing, "rsa-2048: not a test key");
	} else {
		for (rc = 0; rc < 13; rc++)
			ok(0, "rsa-2048: outcome missing");
	}
	dkimverify_outcome_free(&out);

	/* bare LF folding in the values handed over */
	s2 = strdup(s);
	{
		struct msgfile mf;
		struct dkimverify_msg *m = dkimverify_msg_new(v);
		struct dns_ctx dc;
		size_t i;
		char *p, *q;

		msgfile_parse(s2, strlen(s2), &mf);
		dns_ctx_init(&dc, r);
		for (i = 0; i < mf.nhdr; i++) {
			for (p = q = mf.hdr[i].raw; *p != '\0'; p++)
				if (*p != '\r')
					*q++ = *p;
			*q = '\0';
			dkimverify_msg_header(m, mf.hdr[i].name, mf.hdr[i].raw);
		}
		dkimverify_msg_eoh(m);
		dkimverify_msg_body(m, (unsigned char *)mf.body, mf.body_len);
		rc = dkimverify_msg_eom(m, &dc, &out);
		ok(rc == 0 && out.nsig == 1 && out.sig[0].result ==
		    DKIMVERIFY_PASS, "bare LF folding in header values: pass "
		    "(%s %s; %s)", out.nsig == 1 ? dkimverify_res_name(
		    out.sig[0].result) : "-", out.nsig == 1 ? out.sig[0].reason
		    : "-", out.error);
		dkimverify_outcome_free(&out);
		dkimverify_msg_free(m);
		dns_ctx_free(&dc);
		msgfile_free(&mf);
	}
	free(s2);

	/* Ed25519, and both signatures on one message */
	s2 = sign(s, strlen(s), "ed", "-d example.org -s ed -a ed25519-sha256");
	rc = verify(v, r, s2, &out);
	ok(rc == 0 && out.nsig == 2 && out.total == 2,
	    "two signatures: two outcomes");
	if (out.nsig == 2) {
		is_str(dkimverify_res_name(out.sig[0].result), "pass",
		    "two signatures: the top (ed25519) passes");
		is_str(out.sig[0].algorithm, "ed25519-sha256",
		    "ed25519: a=ed25519-sha256, listed first (top first)");
		is_str(out.sig[0].key_type, "ed25519", "ed25519: key type");
		is_int(out.sig[0].key_bits, 256, "ed25519: 256-bit key");
		is_str(dkimverify_res_name(out.sig[1].result), "pass",
		    "two signatures: the second (rsa) passes");
		is_str(out.sig[1].algorithm, "rsa-sha256",
		    "two signatures: second is rsa-sha256");
	} else {
		for (rc = 0; rc < 6; rc++)
			ok(0, "two signatures: outcome missing");
	}
	dkimverify_outcome_free(&out);
	free(s2);

	s2 = sign(base_msg, strlen(base_msg), "ed",
	    "-d example.org -s ed -a ed25519-sha256 -c relaxed/simple");
	is_int(one_result(v, r, s2, NULL, 0, NULL), DKIMVERIFY_PASS,
	    "ed25519 alone, relaxed/simple: pass");
	free(s2);
	free(s);
}

/* test_fail - tampered body, tampered signed header */
static void
test_fail(struct dkimverify *v, struct dns_resolver *r)
{
	char reason[128], *s, *t;

	s = sign(base_msg, strlen(base_msg), "rsa2048",
	    "-d example.org -s rsa -c simple/simple");
	t = replace(s, "figures are attached", "figures are attacked");
	is_int(one_result(v, r, t, reason, sizeof(reason), NULL),
	    DKIMVERIFY_FAIL, "tampered body: fail");
	is_str(reason, "body hash mismatch", "tampered body: reason");
	free(t);
	t = replace(s, "Subject: quarterly figures", "Subject: quarterly fixtures");
	is_int(one_result(v, r, t, reason, sizeof(reason), NULL),
	    DKIMVERIFY_FAIL, "tampered Subject: fail");
	is_str(reason, "signature did not verify", "tampered Subject: reason");
	free(t);
	/* an unsigned header added: still passes */
	t = replace(s, "From: Alice", "X-Added: yes\nFrom: Alice");
	is_int(one_result(v, r, t, NULL, 0, NULL), DKIMVERIFY_PASS,
	    "an unsigned header field added: pass");
	free(t);
	free(s);
}

/* test_keys - missing, timed out, revoked, broken, testing keys */
static void
test_keys(struct dkimverify *v, struct dns_resolver *r)
{
	struct dkimverify_sig sig;
	char reason[128], *s;

	s = sign(base_msg, strlen(base_msg), "rsa2048",
	    "-d example.org -s nokey");
	is_int(one_result(v, r, s, reason, sizeof(reason), &sig),
	    DKIMVERIFY_PERMERROR, "key NXDOMAIN: permerror");
	ok(strstr(reason, "no key") != NULL, "key NXDOMAIN: reason '%s'",
	    reason);
	ok(sig.dnssec_known, "key NXDOMAIN: a lookup was made");
	free(s);

	s = sign(base_msg, strlen(base_msg), "rsa2048",
	    "-d example.org -s slow");
	is_int(one_result(v, r, s, reason, sizeof(reason), &sig),
	    DKIMVERIFY_TEMPERROR, "key timeout: temperror");
	ok(strstr(reason, "timed out") != NULL, "key timeout: reason '%s'",
	    reason);
	ok(sig.dnssec_known && sig.dnssec == DNS_SEC_TIMEOUT,
	    "key timeout: dnssec status timeout");
	is_int(sig.key_bits, -1, "key timeout: key bits unknown");
	free(s);

	s = sign(base_msg, strlen(base_msg), "rsa2048",
	    "-d example.org -s revoked");
	is_int(one_result(v, r, s, reason, sizeof(reason), NULL),
	    DKIMVERIFY_PERMERROR, "revoked key (p=): permerror");
	ok(strstr(reason, "revoked") != NULL, "revoked key: reason '%s'",
	    reason);
	free(s);

	s = sign(base_msg, strlen(base_msg), "rsa2048",
	    "-d example.org -s broken");
	is_int(one_result(v, r, s, reason, sizeof(reason), NULL),
	    DKIMVERIFY_PERMERROR, "key record with garbage p=: permerror");
	free(s);

	s = sign(base_msg, strlen(base_msg), "rsa2048",
	    "-d example.org -s unknownk");
	is_int(one_result(v, r, s, reason, sizeof(reason), NULL),
	    DKIMVERIFY_PERMERROR, "key record k=foo: permerror");
	free(s);

	s = sign(base_msg, strlen(base_msg), "rsa2048",
	    "-d example.org -s testing");
	is_int(one_result(v, r, s, NULL, 0, &sig), DKIMVERIFY_PASS,
	    "t=y key: pass");
	ok(sig.testing, "t=y key: testing flag set");
	free(s);

	s = sign(base_msg, strlen(base_msg), "rsa2048",
	    "-d example.org -s rsa -t 1000000000 -x 100");
	is_int(one_result(v, r, s, reason, sizeof(reason), NULL),
	    DKIMVERIFY_PERMERROR, "expired x=: permerror");
	ok(strstr(reason, "expired") != NULL, "expired x=: reason '%s'",
	    reason);
	free(s);
}

/* test_pkcs1_one - one message under selector SEL: its result, encoding */
static void
test_pkcs1_one(struct dkimverify *v, struct dns_resolver *r, const char *key,
    const char *sel, enum dkimverify_res want, const char *enc)
{
	struct dkimverify_sig sig;
	char opts[128], reason[128], name[256];
	char *s;

	snprintf(opts, sizeof(opts), "-d example.org -s %s -a %s", sel,
	    strcmp(key, "ed") == 0 ? "ed25519-sha256" : "rsa-sha256");
	s = sign(base_msg, strlen(base_msg), key, opts);
	memset(&sig, 0, sizeof(sig));
	snprintf(name, sizeof(name), "key %s signed by %s: %s", sel, key,
	    dkimverify_res_name(want));
	is_str(dkimverify_res_name(one_result(v, r, s, reason, sizeof(reason),
	    &sig)), dkimverify_res_name(want), name);
	snprintf(name, sizeof(name), "key %s: encoding '%s'", sel, enc);
	is_str(sig.key_encoding, enc, name);
	free(s);
}

/* rewrap_reference - what dkimkey_rewrap decides for p= b64, read the
 * plain way: base64 decoded whole (white space dropped), then d2i as a
 * PKCS#1 RSAPublicKey that must span it all */
static int
rewrap_reference(const char *b64)
{
	unsigned char clean[1200], der[1200];
	const unsigned char *q = der;
	EVP_ENCODE_CTX *ctx = EVP_ENCODE_CTX_new();
	EVP_PKEY *pk;
	size_t i, n = 0;
	int a = 0, b = 0, ok;

	for (i = 0; b64[i] != '\0' && n < sizeof(clean); i++)
		if (strchr(" \t\r\n", b64[i]) == NULL)
			clean[n++] = (unsigned char)b64[i];
	EVP_DecodeInit(ctx);
	ok = EVP_DecodeUpdate(ctx, der, &a, clean, (int)n) >= 0 &&
	    EVP_DecodeFinal(ctx, der + a, &b) == 1 && a + b > 0;
	EVP_ENCODE_CTX_free(ctx);
	if (!ok)
		return DKIMKEY_ENC_ASIS;
	pk = d2i_PublicKey(EVP_PKEY_RSA, NULL, &q, a + b);
	ok = pk != NULL && q == der + a + b;
	EVP_PKEY_free(pk);
	ERR_clear_error();
	return ok ? DKIMKEY_ENC_PKCS1 : DKIMKEY_ENC_ASIS;
}

/* test_rewrap_random - dkimkey_rewrap looks at the first bytes of p= to
 * skip keys that cannot be PKCS#1; 20,000 records made from a PKCS#1 key,
 * an SPKI and random bytes, with bytes of their DER headers changed, cut
 * short, and white space in the base64, decide as the plain reading does */
static void
test_rewrap_random(const char *p1, const char *spki)
{
	unsigned char base[3][600], der[600];
	char b64[1000], ws[1300], rec[1400], *out;
	int blen[3], len, k;
	size_t outlen, i, j;
	unsigned seed = 20261205, bad = 0, pkcs1 = 0, t;

	blen[0] = EVP_DecodeBlock(base[0], (const unsigned char *)p1,
	    (int)strlen(p1));
	blen[1] = EVP_DecodeBlock(base[1], (const unsigned char *)spki,
	    (int)strlen(spki));
	for (k = 0; k < 2; k++)		/* DecodeBlock counts the padding */
		for (i = strlen(k == 0 ? p1 : spki); i > 0 &&
		    (k == 0 ? p1 : spki)[i - 1] == '='; i--)
			blen[k]--;
	for (k = 0; k < 200; k++)
		base[2][k] = (unsigned char)rand_r(&seed);
	blen[2] = 200;
	for (t = 0; t < 20000; t++) {
		k = (int)(rand_r(&seed) % 3);
		len = blen[k];
		memcpy(der, base[k], (size_t)blen[k]);
		for (j = rand_r(&seed) % 3; j > 0; j--)	/* header bytes */
			der[rand_r(&seed) % 12] ^= (unsigned char)(1 <<
			    rand_r(&seed) % 8);
		if (rand_r(&seed) % 4 == 0)
			der[rand_r(&seed) % 12] = rand_r(&seed) % 2 ? 0x30 :
			    0x02;
		if (rand_r(&seed) % 8 == 0)
			len = (int)(rand_r(&seed) % 14);	/* cut short */
		EVP_EncodeBlock((unsigned char *)b64, der, len);
		for (i = 0, j = 0; b64[i] != '\0'; i++) {
			if (rand_r(&seed) % 16 == 0)
				ws[j++] = " \t\r\n"[rand_r(&seed) % 4];
			ws[j++] = b64[i];
		}
		ws[j] = '\0';
		snprintf(rec, sizeof(rec), "v=DKIM1; k=rsa; p=%s", ws);
		k = dkimkey_rewrap(rec, strlen(rec), &out, &outlen);
		free(out);
		pkcs1 += k == DKIMKEY_ENC_PKCS1;
		if (k != rewrap_reference(ws) && bad++ == 0)
			printf("# differs for p=%s\n", ws);
	}
	ok(bad == 0 && pkcs1 > 1000, "dkimkey_rewrap: 20,000 mutated keys "
	    "decided as a whole-key reading does (%u PKCS#1)", pkcs1);
}

/* test_pkcs1 - the same messages verify with keys published as SPKI and
 * as bare PKCS#1 RSAPublicKey; a corrupt PKCS#1 key is a permerror */
static void
test_pkcs1(struct dkimverify *v, struct dns_resolver *r)
{
	static const char rec[] = "v=DKIM1; t=y ;k=rsa; p = %s ; n=x\tz";
	char in[2048], want[2048], *p1, *spki, *out;
	size_t outlen;
	int rc;

	test_pkcs1_one(v, r, "rsa1024", "spki1024", DKIMVERIFY_PASS, "spki");
	test_pkcs1_one(v, r, "rsa1024", "pkcs1024", DKIMVERIFY_PASS, "pkcs1");
	test_pkcs1_one(v, r, "rsa2048", "rsa", DKIMVERIFY_PASS, "spki");
	test_pkcs1_one(v, r, "rsa2048", "pkcs2048", DKIMVERIFY_PASS, "pkcs1");
	test_pkcs1_one(v, r, "rsa2048", "pkcsfold", DKIMVERIFY_PASS, "pkcs1");
	test_pkcs1_one(v, r, "rsa1024", "pkcs2048", DKIMVERIFY_FAIL, "pkcs1");
	test_pkcs1_one(v, r, "rsa2048", "pkcsbad", DKIMVERIFY_PERMERROR, "");
	test_pkcs1_one(v, r, "ed", "ed", DKIMVERIFY_PASS, "raw");

	/* the rewrite itself: only p= changes, byte for byte */
	p1 = pkcs1_of("rsa1024", 0);
	spki = keygen_pub("rsa1024");
	snprintf(in, sizeof(in), rec, p1);
	snprintf(want, sizeof(want), rec, spki);
	rc = dkimkey_rewrap(in, strlen(in), &out, &outlen);
	is_int(rc, DKIMKEY_ENC_PKCS1, "dkimkey_rewrap: PKCS#1 rewritten");
	is_str(out, want, "dkimkey_rewrap: SPKI in p=, the rest as it was");
	ok(out != NULL && outlen == strlen(want), "dkimkey_rewrap: length");
	free(out);
	snprintf(in, sizeof(in), rec, spki);
	is_int(dkimkey_rewrap(in, strlen(in), &out, &outlen),
	    DKIMKEY_ENC_ASIS, "dkimkey_rewrap: SPKI left alone");
	ok(out == NULL, "dkimkey_rewrap: nothing allocated for SPKI");
	snprintf(in, sizeof(in), "v=DKIM1; k=ed25519; p=%s", p1);
	is_int(dkimkey_rewrap(in, strlen(in), &out, &outlen),
	    DKIMKEY_ENC_ASIS, "dkimkey_rewrap: k=ed25519 left alone");
	test_rewrap_random(p1, spki);
	free(p1);
	free(spki);
}

/* test_dnssec - the status of the key lookup is carried */
static void
test_dnssec(struct dkimverify *v, struct dns_resolver *r)
{
	struct dkimverify_sig sig;
	char reason[128], *s;

	s = sign(base_msg, strlen(base_msg), "rsa2048",
	    "-d secure.example -s rsa");
	is_int(one_result(v, r, s, NULL, 0, &sig), DKIMVERIFY_PASS,
	    "secure zone: pass");
	ok(sig.dnssec_known && sig.dnssec == DNS_SEC_SECURE,
	    "secure zone: dnssec secure");
	free(s);
	s = sign(base_msg, strlen(base_msg), "rsa2048",
	    "-d insecure.example -s rsa");
	is_int(one_result(v, r, s, NULL, 0, &sig), DKIMVERIFY_PASS,
	    "insecure zone: pass");
	ok(sig.dnssec_known && sig.dnssec == DNS_SEC_INSECURE,
	    "insecure zone: dnssec insecure");
	free(s);
	s = sign(base_msg, strlen(base_msg), "rsa2048",
	    "-d bogus.example -s rsa");
	is_int(one_result(v, r, s, reason, sizeof(reason), &sig),
	    DKIMVERIFY_TEMPERROR, "bogus zone: temperror");
	ok(sig.dnssec_known && sig.dnssec == DNS_SEC_BOGUS,
	    "bogus zone: dnssec bogus");
	ok(strstr(reason, "bogus") != NULL, "bogus zone: reason '%s'", reason);
	free(s);
}

/*
 * test_l_two_canons - a simple/simple and a relaxed/relaxed signature,
 * both with l= the whole body; then a byte goes and two spaces come
 * after a space: the simple body grows (its l= still fits, the hash
 * differs: fail), the relaxed body shrinks below its l= (permerror), even
 * though libopendkim's stand-in body is as long as the simple l=
 */
static void
test_l_two_canons(struct dkimverify *v, struct dns_resolver *r)
{
	struct dkimverify_outcome out;
	char *s, *t, *u;
	bool ok2;

	s = sign(base_msg, strlen(base_msg), "rsa2048",
	    "-d example.org -s rsa -c simple/simple -l");
	t = sign(s, strlen(s), "rsa2048",
	    "-d example.org -s rsa -c relaxed/relaxed -l");
	ok2 = verify(v, r, t, &out) == 0 && out.nsig == 2 &&
	    out.sig[0].result == DKIMVERIFY_PASS &&
	    out.sig[1].result == DKIMVERIFY_PASS;
	dkimverify_outcome_free(&out);
	ok(ok2, "l= on simple and relaxed signatures: both pass");
	u = replace(t, "The figures are attached.",
	    "he figures are   attached.");
	ok2 = verify(v, r, u, &out) == 0 && out.nsig == 2 &&
	    strcmp(out.sig[0].canon, "relaxed/relaxed") == 0 &&
	    out.sig[0].result == DKIMVERIFY_PERMERROR &&
	    strstr(out.sig[0].reason, "length") != NULL &&
	    out.sig[1].result == DKIMVERIFY_FAIL &&
	    strcmp(out.sig[1].reason, "body hash mismatch") == 0;
	if (!ok2 && out.nsig == 2)
		printf("# got %s: %s / %s: %s\n", out.sig[0].canon,
		    out.sig[0].reason, out.sig[1].canon, out.sig[1].reason);
	dkimverify_outcome_free(&out);
	ok(ok2, "relaxed body now shorter than its l=: permerror; simple "
	    "body longer: l= fits, body hash mismatch");
	free(u);
	free(t);
	free(s);
}

/* test_policy - l=, rsa-sha1 and short keys (RFC 8301) */
static void
test_policy(struct dkimverify *v, struct dkimverify *lenient,
    struct dns_resolver *r)
{
	struct dkimverify_sig sig;
	char reason[128], *s, *t;
	size_t blen = strlen(strstr(base_msg, "\n\n") + 2);

	s = sign(base_msg, strlen(base_msg), "rsa2048",
	    "-d example.org -s rsa -l");
	is_int(one_result(v, r, s, NULL, 0, &sig), DKIMVERIFY_PASS,
	    "l=: pass");
	/* LF body of n lines becomes CRLF: one more byte per line */
	is_int(sig.body_length, (long long)(blen + 3), "l=: body_length");
	t = malloc(strlen(s) + 64);
	snprintf(t, strlen(s) + 64, "%sAppended after signing.\n", s);
	is_int(one_result(v, r, t, NULL, 0, NULL), DKIMVERIFY_PASS,
	    "l=: text appended after the signed length still passes");
	free(t);
	free(s);

	test_l_two_canons(v, r);

	s = sign(base_msg, strlen(base_msg), "rsa2048",
	    "-d example.org -s rsa -a rsa-sha1");
	is_int(one_result(v, r, s, reason, sizeof(reason), NULL),
	    DKIMVERIFY_POLICY, "rsa-sha1: policy");
	is_str(reason, "rsa-sha1 not accepted (RFC 8301)", "rsa-sha1: reason");
	is_int(one_result(lenient, r, s, NULL, 0, NULL), DKIMVERIFY_PASS,
	    "rsa-sha1 with allow_sha1: pass");
	t = replace(s, "figures are attached", "figures are attacked");
	is_int(one_result(v, r, t, NULL, 0, NULL), DKIMVERIFY_FAIL,
	    "rsa-sha1 with a tampered body: fail, not policy");
	free(t);
	free(s);

	s = sign(base_msg, strlen(base_msg), "rsa768",
	    "-d example.org -s short");
	is_int(one_result(v, r, s, reason, sizeof(reason), &sig),
	    DKIMVERIFY_POLICY, "768-bit key: policy");
	is_str(reason, "1024-bit minimum, key has 768", "768-bit key: reason");
	is_int(sig.key_bits, 768, "768-bit key: key bits");
	is_int(one_result(lenient, r, s, NULL, 0, NULL), DKIMVERIFY_PASS,
	    "768-bit key with min_key_bits 0: pass");
	free(s);
}

/* test_cap - 20 signatures, max_sigs 10 */
static void
test_cap(struct dkimverify *v, struct dns_resolver *r)
{
	struct dkimverify_outcome out;
	char *s, *end, *t;
	size_t hl, i, n;
	unsigned pass = 0;

	s = sign(base_msg, strlen(base_msg), "rsa2048",
	    "-d example.org -s rsa");
	end = strstr(s, "\nFrom:");
	hl = (size_t)(end - s) + 1;
	n = strlen(s);
	t = malloc(hl * 20 + n + 1);
	for (i = 0; i < 19; i++)
		memcpy(t + i * hl, s, hl);
	memcpy(t + 19 * hl, s, n + 1);
	ok(verify(v, r, t, &out) == 0, "20 signatures: eom returns 0");
	is_int(out.total, 20, "20 signatures: total 20");
	is_int(out.nsig, 10, "20 signatures: 10 evaluated (max_sigs)");
	for (i = 0; i < out.nsig; i++)
		pass += out.sig[i].result == DKIMVERIFY_PASS;
	is_int(pass, 10, "20 signatures: the 10 evaluated pass");
	dkimverify_outcome_free(&out);
	free(t);
	free(s);
}

/* test_stream - 8 MB body in 1 KB chunks with bounded memory */
static void
test_stream(struct dkimverify *v, struct dns_resolver *r)
{
	static const char line[] = "0123456789 streaming line of text to "
	    "make a large body, 64 bytes\n";
	size_t hlen = strstr(base_msg, "\n\n") + 2 - base_msg, n, off, i;
	size_t big = 8 * 1024 * 1024;
	char *msg = malloc(hlen + big + 1), *s;
	struct msgfile mf;
	struct dkimverify_msg *m;
	struct dkimverify_outcome out;
	struct dns_ctx dc;
	size_t before, peak = 0, now;

	memcpy(msg, base_msg, hlen);
	for (n = hlen; n + sizeof(line) - 1 <= hlen + big;
	    n += sizeof(line) - 1)
		memcpy(msg + n, line, sizeof(line) - 1);
	msg[n] = '\0';
	s = sign(msg, n, "rsa2048", "-d example.org -s rsa -c simple/relaxed");
	free(msg);
	ok(msgfile_parse(s, strlen(s), &mf) == 0 && mf.body_len > big,
	    "8 MB message parsed");
	free(s);
	m = dkimverify_msg_new(v);
	dns_ctx_init(&dc, r);
	for (i = 0; i < mf.nhdr; i++)
		dkimverify_msg_header(m, mf.hdr[i].name, mf.hdr[i].raw);
	dkimverify_msg_eoh(m);
	dkimverify_msg_body(m, (const unsigned char *)mf.body, 1024);
	before = mallinfo2().uordblks;
	for (off = 1024, i = 0; off < mf.body_len; off += 1024, i++) {
		dkimverify_msg_body(m, (const unsigned char *)mf.body + off,
		    mf.body_len - off < 1024 ? mf.body_len - off : 1024);
		if (i % 64 == 0) {
			now = mallinfo2().uordblks;
			if (now > before && now - before > peak)
				peak = now - before;
		}
	}
	now = mallinfo2().uordblks;
	if (now > before && now - before > peak)
		peak = now - before;
	ok(peak < 256 * 1024, "8 MB body in 1 KB chunks: heap grew %zu bytes "
	    "(< 256 KB)", peak);
	ok(dkimverify_msg_eom(m, &dc, &out) == 0 && out.nsig == 1 &&
	    out.sig[0].result == DKIMVERIFY_PASS, "8 MB body: pass");
	dkimverify_outcome_free(&out);
	dkimverify_msg_free(m);
	dns_ctx_free(&dc);
	msgfile_free(&mf);
}

/* test_garbage - hostile DKIM-Signature values */
static void
test_garbage(struct dkimverify *v, struct dns_resolver *r)
{
	static const struct {
		const char *value;
		int want;	/* -1: permerror or neutral */
	} cases[] = {
		{ "", -1 },
		{ " synerr", -1 },
		{ " v=1; a=rsa-sha256", DKIMVERIFY_PERMERROR },
		{ " v=1; a=rsa-sha256; d=; s=; b=; bh=; h=", DKIMVERIFY_PERMERROR },
		{ " v=1; a=rsa-md5; d=example.org; s=rsa; c=relaxed; "
		    "h=from; bh=AAAA; b=AAAA", DKIMVERIFY_PERMERROR },
		{ " v=5; a=rsa-sha256; d=example.org; s=rsa; h=from; "
		    "bh=AAAA; b=AAAA", DKIMVERIFY_NEUTRAL },
		{ " v=1; a=rsa-sha256; c=foobar; d=example.org; s=rsa; "
		    "h=from; bh=AAAA; b=AAAA", DKIMVERIFY_NEUTRAL },
		{ " v=1; a=rsa-sha256; d=example.org; s=rsa; h=from; "
		    "bh=AAAA; b=AAAA; l=-5", DKIMVERIFY_PERMERROR },
		{ " v=1; a=rsa-sha256; d=example.org; s=rsa; h=to; "
		    "bh=AAAA; b=AAAA", DKIMVERIFY_PERMERROR },
		{ " v=1; a=rsa-sha256; d=example.org; s=rsa; i=x@other.org; "
		    "h=from; bh=AAAA; b=AAAA", DKIMVERIFY_PERMERROR },
		{ " v=1; v=1; ;;; = ; ==; a", -1 },
		{ " \xff\xfe\x80 d=\xc3\x28; s=\xed\xa0\x80", -1 },
	};
	struct dkimverify_outcome out;
	char text[20000], longv[12000];
	size_t i;
	bool valid;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "DKIM-Signature:%s\n%s",
		    cases[i].value, base_msg);
		if (verify(v, r, text, &out) != 0 || out.nsig != 1) {
			ok(0, "garbage %zu: one outcome (got %u)", i, out.nsig);
			dkimverify_outcome_free(&out);
			continue;
		}
		if (cases[i].want < 0)
			ok(out.sig[0].result == DKIMVERIFY_PERMERROR ||
			    out.sig[0].result == DKIMVERIFY_NEUTRAL,
			    "garbage %zu: %s (%s)", i,
			    dkimverify_res_name(out.sig[0].result),
			    out.sig[0].reason);
		else
			ok(out.sig[0].result == (enum dkimverify_res)
			    cases[i].want, "garbage %zu: %s (%s), want %s", i,
			    dkimverify_res_name(out.sig[0].result),
			    out.sig[0].reason, dkimverify_res_name(
			    (enum dkimverify_res)cases[i].want));
		dkimverify_outcome_free(&out);
	}
	/* a 10 kB value; the fields are cut, and stay valid UTF-8 */
	memset(longv, 'x', sizeof(longv));
	memcpy(longv, " v=1; a=rsa-sha256; s=rsa; h=from; bh=AAAA; b=AAAA; d=",
	    55);
	longv[sizeof(longv) - 1] = '\0';
	snprintf(text, sizeof(text), "DKIM-Signature:%s\n%s", longv, base_msg);
	ok(verify(v, r, text, &out) == 0 && out.nsig == 1 &&
	    out.sig[0].result != DKIMVERIFY_PASS,
	    "a 10 kB d=: not a pass, no crash");
	valid = out.nsig == 1 && strlen(out.sig[0].domain) <
	    sizeof(out.sig[0].domain);
	ok(valid, "a 10 kB d=: domain cut to its field");
	dkimverify_outcome_free(&out);
}

/* test_unsigned - no signature, DomainKey-Signature only */
static void
test_unsigned(struct dkimverify *v, struct dns_resolver *r)
{
	struct dkimverify_outcome out;
	char text[4096];

	ok(verify(v, r, base_msg, &out) == 0 && out.nsig == 0 &&
	    out.total == 0 && out.sig == NULL, "unsigned: nsig 0, total 0");
	dkimverify_outcome_free(&out);
	snprintf(text, sizeof(text), "DomainKey-Signature: a=rsa-sha1; "
	    "q=dns; c=simple; s=rsa; d=example.org; b=AAAA\n%s", base_msg);
	ok(verify(v, r, text, &out) == 0 && out.nsig == 0 && out.total == 0,
	    "DomainKey-Signature only: not counted");
	dkimverify_outcome_free(&out);
}

/* test_line_ends - bodies mixing CRLF and bare LF verify in chunks of
 * every small size (a CR ending one chunk and the LF starting the next
 * are one CRLF; a bare LF is hashed as CRLF, as the signer did). A bare
 * CR is body text like any other (t/differential: dkimpy, Mail::DKIM) */
static void
test_line_ends(struct dkimverify *v, struct dns_resolver *r)
{
	static const char body[] = "crlf line\r\nbare lf line\n\r\n\n"
	    "crlf\r\nlf\nlf\n\n\r\n\r\n\n"
	    "last line without an end";
	size_t hlen = strstr(base_msg, "\n\n") + 2 - base_msg, n;
	struct dkimverify_outcome out;
	const char *canon[] = { "relaxed/relaxed", "simple/simple" };
	char msg[1024], opts[128], *s;
	size_t chunk, c;
	unsigned bad;

	memcpy(msg, base_msg, hlen);
	memcpy(msg + hlen, body, sizeof(body));
	n = hlen + sizeof(body) - 1;
	for (c = 0; c < 2; c++) {
		snprintf(opts, sizeof(opts), "-d example.org -s rsa -c %s",
		    canon[c]);
		s = sign(msg, n, "rsa2048", opts);
		bad = 0;
		for (chunk = 1; chunk <= 9; chunk++) {
			if (verify_chunks(v, r, s, strlen(s), chunk, &out) != 0 ||
			    out.nsig != 1 ||
			    out.sig[0].result != DKIMVERIFY_PASS)
				bad++;
			dkimverify_outcome_free(&out);
		}
		ok(bad == 0, "mixed line ends, %s: passes in chunks of "
		    "1 to 9 bytes (%u failed)", canon[c], bad);
		free(s);
	}
}

/* keycache_delta - dkim_keys_parsed and dkim_key_cache_hits since *p, *h */
static void
keycache_delta(uint64_t *p, uint64_t *h)
{
	uint64_t np = stats_get(STATS_DKIM_KEYS_PARSED);
	uint64_t nh = stats_get(STATS_DKIM_KEY_CACHE_HITS);

	*p = np - *p;
	*h = nh - *h;
}

/* keycache_verify - one message's result with the key counters' moves */
static enum dkimverify_res
keycache_verify(struct dkimverify *v, struct dns_resolver *r,
    const char *key, const char *sel, uint64_t *parsed, uint64_t *hits)
{
	enum dkimverify_res res;
	char opts[128], *s;

	snprintf(opts, sizeof(opts), "-d example.org -s %s", sel);
	s = sign(base_msg, strlen(base_msg), key, opts);
	*parsed = stats_get(STATS_DKIM_KEYS_PARSED);
	*hits = stats_get(STATS_DKIM_KEY_CACHE_HITS);
	res = one_result(v, r, s, NULL, 0, NULL);
	keycache_delta(parsed, hits);
	free(s);
	return res;
}

/* keycache_der - the DER SPKI of key NAME (caller frees), its length */
static unsigned char *
keycache_der(const char *name, size_t *len)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s.der", tmpdir, name);
	return (unsigned char *)slurp_file(path, len);
}

/* test_keycache_bio - our d2i_PUBKEY_bio reads as OpenSSL's does */
static void
test_keycache_bio(void)
{
	char cmd[1024], path[512];
	unsigned char *der, *buf, rest[8];
	size_t len;
	uint64_t parsed, hits;
	EVP_PKEY *k1, *k2;
	BIO *b;

	snprintf(cmd, sizeof(cmd), "openssl pkey -in %s/rsa1024.pem -pubout "
	    "-outform DER -out %s/rsa1024.der 2>/dev/null", tmpdir, tmpdir);
	if (!run(cmd) || (der = keycache_der("rsa1024", &len)) == NULL) {
		printf("Bail out! cannot write rsa1024.der\n");
		exit(1);
	}
	buf = malloc(len + 3);
	if (buf == NULL) {
		printf("Bail out! malloc\n");
		exit(1);
	}
	memcpy(buf, der, len);
	memcpy(buf + len, "xyz", 3);
	dkimkeycache_clear();
	parsed = stats_get(STATS_DKIM_KEYS_PARSED);
	hits = stats_get(STATS_DKIM_KEY_CACHE_HITS);
	b = BIO_new_mem_buf(buf, (int)len + 3);
	k1 = d2i_PUBKEY_bio(b, NULL);
	ok(k1 != NULL && EVP_PKEY_get_bits(k1) == 1024,
	    "key cache: a DER key with trailing bytes parses (1024 bits)");
	is_int(BIO_read(b, rest, sizeof(rest)), 3,
	    "key cache: exactly the key's bytes were taken from the BIO");
	BIO_free(b);
	b = BIO_new_mem_buf(der, (int)len);
	k2 = d2i_PUBKEY_bio(b, NULL);
	BIO_free(b);
	ok(k2 != NULL && k2 == k1 && EVP_PKEY_eq(k1, k2) == 1,
	    "key cache: the same bytes give the same parsed key");
	EVP_PKEY_free(k2);
	keycache_delta(&parsed, &hits);
	ok(parsed == 1 && hits == 1, "key cache: 1 parse, 1 hit (%llu, %llu)",
	    (unsigned long long)parsed, (unsigned long long)hits);
	buf[len - 20] ^= 0x55;	/* inside the modulus: still DER */
	b = BIO_new_mem_buf(buf, (int)len);
	k2 = d2i_PUBKEY_bio(b, NULL);
	BIO_free(b);
	ok(k2 != NULL && k2 != k1 && EVP_PKEY_eq(k1, k2) != 1,
	    "key cache: one changed byte is another key");
	EVP_PKEY_free(k2);
	b = BIO_new_mem_buf(buf, 40);
	ok(d2i_PUBKEY_bio(b, NULL) == NULL, "key cache: a cut key is refused");
	BIO_free(b);
	snprintf(path, sizeof(path), "%s/rsa1024.der", tmpdir);
	b = BIO_new_file(path, "rb");
	k2 = b != NULL ? d2i_PUBKEY_bio(b, NULL) : NULL;
	ok(k2 != NULL && k2 != k1 && EVP_PKEY_eq(k1, k2) == 1,
	    "key cache: a file BIO goes to OpenSSL's function");
	EVP_PKEY_free(k2);
	BIO_free(b);
	EVP_PKEY_free(k1);
	free(buf);
	free(der);
}

/* test_keycache - keys parsed once, never confused, through libopendkim */
static void
test_keycache(struct dkimverify *v, struct dns_resolver *r)
{
	uint64_t parsed, hits;

	ok(dkimkeycache_active(), "key cache: bound in front of OpenSSL's");
	dkimkeycache_clear();
	is_int(keycache_verify(v, r, "rsa2048", "rsa", &parsed, &hits),
	    DKIMVERIFY_PASS, "key cache: first message passes");
	ok(parsed == 1 && hits == 0, "key cache: first message parses its key "
	    "(%llu, %llu)", (unsigned long long)parsed,
	    (unsigned long long)hits);
	is_int(keycache_verify(v, r, "rsa2048", "rsa", &parsed, &hits),
	    DKIMVERIFY_PASS, "key cache: second message passes");
	ok(parsed == 0 && hits == 1, "key cache: second message finds its "
	    "key parsed (%llu, %llu)", (unsigned long long)parsed,
	    (unsigned long long)hits);
	is_int(keycache_verify(v, r, "rsa1024", "spki1024", &parsed, &hits),
	    DKIMVERIFY_PASS, "key cache: another key passes");
	ok(parsed == 1, "key cache: another key is parsed");
	is_int(keycache_verify(v, r, "rsa1024", "rsa", &parsed, &hits),
	    DKIMVERIFY_FAIL, "key cache: 1024 signature, 2048 key: fail");
	is_int(keycache_verify(v, r, "rsa2048", "spki1024", &parsed, &hits),
	    DKIMVERIFY_FAIL, "key cache: 2048 signature, 1024 key: fail");
	ok(parsed == 0 && hits == 1, "key cache: both keys were cached");
	test_keycache_bio();
	dkimkeycache_clear();
}

/* test_names - the RFC 8601 words and option checks */
static void
test_names(void)
{
	struct dkimverify_options o = { 0, 1024, false };
	struct dkimverify *v = NULL;
	char err[128];

	is_str(dkimverify_res_name(DKIMVERIFY_NONE), "none", "name: none");
	is_str(dkimverify_res_name(DKIMVERIFY_PASS), "pass", "name: pass");
	is_str(dkimverify_res_name(DKIMVERIFY_FAIL), "fail", "name: fail");
	is_str(dkimverify_res_name(DKIMVERIFY_NEUTRAL), "neutral",
	    "name: neutral");
	is_str(dkimverify_res_name(DKIMVERIFY_POLICY), "policy",
	    "name: policy");
	is_str(dkimverify_res_name(DKIMVERIFY_TEMPERROR), "temperror",
	    "name: temperror");
	is_str(dkimverify_res_name(DKIMVERIFY_PERMERROR), "permerror",
	    "name: permerror");
	ok(dkimverify_new(&v, &o, err, sizeof(err)) == SCOPE_ERANGE &&
	    v == NULL, "max_sigs 0 refused");
	o.max_sigs = DKIMVERIFY_SIGS_HARDMAX + 1;
	ok(dkimverify_new(&v, &o, err, sizeof(err)) == SCOPE_ERANGE,
	    "max_sigs above the hard maximum refused");
}

/* zone - the key records of the tests */
static struct dns_resolver *
zone(void)
{
	struct dns_resolver *r;
	char *rsa = keygen("rsa2048", "RSA", 2048);
	char *ed = keygen("ed", "ED25519", 0);
	char *r768 = keygen("rsa768", "RSA", 768);
	char *r1024 = keygen("rsa1024", "RSA", 1024);
	char *p1024 = pkcs1_of("rsa1024", 0), *p2048 = pkcs1_of("rsa2048", 0);
	char *pbad = pkcs1_of("rsa2048", 7), fold[1024];

	if (dns_resolver_new_zones(&r, 2000) != 0) {
		printf("Bail out! no resolver\n");
		exit(1);
	}
	key_txt(r, "rsa._domainkey.example.org", "rsa", rsa, "");
	key_txt(r, "ed._domainkey.example.org", "ed25519", ed, "");
	key_txt(r, "short._domainkey.example.org", "rsa", r768, "");
	key_txt(r, "testing._domainkey.example.org", "rsa", rsa, "t=y; ");
	key_txt(r, "revoked._domainkey.example.org", "rsa", "", "");
	key_txt(r, "broken._domainkey.example.org", "rsa", "!!!notbase64",
	    "");
	key_txt(r, "unknownk._domainkey.example.org", "foo", rsa, "");
	key_txt(r, "rsa._domainkey.secure.example", "rsa", rsa, "");
	key_txt(r, "rsa._domainkey.insecure.example", "rsa", rsa, "");
	key_txt(r, "rsa._domainkey.bogus.example", "rsa", rsa, "");
	key_txt(r, "spki1024._domainkey.example.org", "rsa", r1024, "");
	key_txt(r, "pkcs1024._domainkey.example.org", "rsa", p1024, "");
	key_txt(r, "pkcs2048._domainkey.example.org", "rsa", p2048, "");
	key_txt(r, "pkcsbad._domainkey.example.org", "rsa", pbad, "");
	snprintf(fold, sizeof(fold), "v=DKIM1; p=%.40s \t %s; t=s", p2048,
	    p2048 + 40);
	txt(r, "pkcsfold._domainkey.example.org", fold);
	dns_zone_add(r, "example.org. 300 IN A 192.0.2.1");
	dns_zone_add_timeout(r, "slow._domainkey.example.org");
	dns_zone_set_sec(r, "secure.example", DNS_SEC_SECURE);
	dns_zone_set_sec(r, "bogus.example", DNS_SEC_BOGUS);
	free(rsa);
	free(ed);
	free(r768);
	free(r1024);
	free(p1024);
	free(p2048);
	free(pbad);
	return r;
}

int
main(int argc, char **argv)
{
	struct dkimverify_options strict = { DKIMVERIFY_SIGS_DEFAULT, 1024,
	    false };
	struct dkimverify_options lenient = { DKIMVERIFY_SIGS_DEFAULT, 0,
	    true };
	struct dkimverify *v, *vl;
	struct dns_resolver *r;
	const char *top = getenv("top_builddir");
	char err[128], cmd[1200];

	(void)argc;
	if (top != NULL)
		snprintf(signer, sizeof(signer), "%s/t/tools/dkimsign", top);
	else
		snprintf(signer, sizeof(signer), "%.*s/../tools/dkimsign",
		    (int)(strrchr(argv[0], '/') != NULL ?
		    strrchr(argv[0], '/') - argv[0] : 1),
		    strrchr(argv[0], '/') != NULL ? argv[0] : ".");
	if (access(signer, X_OK) != 0) {
		printf("Bail out! %s not built\n", signer);
		return 1;
	}
	if (!run("openssl version >/dev/null 2>&1")) {
		printf("1..0 # SKIP openssl(1) not found\n");
		return 0;
	}
	if (mkdtemp(tmpdir) == NULL) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	plan(121 + 17 + 2 + 2 + 1);
	r = zone();
	if (dkimverify_new(&v, &strict, err, sizeof(err)) != 0 ||
	    dkimverify_new(&vl, &lenient, err, sizeof(err)) != 0) {
		printf("Bail out! dkimverify_new: %s\n", err);
		return 1;
	}
	test_msgfile_raw();
	test_basic(v, r);
	test_fail(v, r);
	test_keys(v, r);
	test_pkcs1(v, r);
	test_dnssec(v, r);
	test_policy(v, vl, r);
	test_cap(v, r);
	test_stream(v, r);
	test_garbage(v, r);
	test_unsigned(v, r);
	test_keycache(v, r);
	test_line_ends(v, r);
	test_names();
	dkimverify_free(v);
	dkimverify_free(vl);
	dns_resolver_free(r);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	(void)run(cmd);
	return done_testing();
}
