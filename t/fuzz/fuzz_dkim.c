/*
 * fuzz_dkim.c - fuzz target: a hostile message through the DKIM verifier
 * (our glue around libopendkim: header hand-over, the signature cap, the
 * DNS callbacks, the outcome copies) and the Authentication-Results
 * writer. Keys come from an in-memory zone: one RSA key for
 * sel._domainkey.example.com, a revoked one, a timeout. Every outcome
 * must be within its caps and every string valid, bounded UTF-8.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/authres.h"
#include "auth/dkimverify.h"
#include "dns/dns.h"
#include "msgfile.h"
#include "text.h"

#define FUZZ_SIGS	4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct dkimverify *fuzz_v;
static struct dns_resolver *fuzz_r;

/* fuzz_setup - the verifier and the zone, once */
static int
fuzz_setup(void)
{
	struct dkimverify_options o = { FUZZ_SIGS, 1024, false };
	char err[128];

	if (fuzz_v != NULL)
		return 0;
	if (dns_resolver_new_zones(&fuzz_r, 200) != 0 ||
	    dns_zone_add(fuzz_r, "sel._domainkey.example.com. TXT "
	    "\"v=DKIM1; k=rsa; p=MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBALgSoqXVSEmf"
	    "cIsOzw7oRuCCOwsmtX/SJnTWxYyj2leFxfS/AVJ+dYfY+hXqMsT7l+MZvvh/R1W"
	    "zN4MO/kI/7XsCAwEAAQ==\"") != 0 ||
	    dns_zone_add(fuzz_r, "rev._domainkey.example.com. TXT "
	    "\"v=DKIM1; p=\"") != 0 ||
	    dns_zone_add_timeout(fuzz_r, "slow._domainkey.example.com") != 0 ||
	    dkimverify_new(&fuzz_v, &o, err, sizeof(err)) != 0)
		abort();
	return 0;
}

/* fuzz_clean - a field is NUL-terminated within its size, valid UTF-8 */
static void
fuzz_clean(const char *s, size_t size)
{
	char again[512];
	bool cut = false;
	size_t n = strnlen(s, size);

	if (n == size || n >= sizeof(again))
		abort();
	if (text_clean(again, sizeof(again), s, n, &cut) != n || cut ||
	    memcmp(again, s, n) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dkimverify_outcome out;
	struct authres_input in;
	struct dkimverify_msg *m;
	struct dns_ctx c;
	struct msgfile mf;
	char ar[AUTHRES_MAX];
	size_t i;

	fuzz_setup();
	if (msgfile_parse((const char *)data, size, &mf) != 0)
		return 0;
	m = dkimverify_msg_new(fuzz_v);
	if (m == NULL || dns_ctx_init(&c, fuzz_r) != 0)
		abort();
	for (i = 0; i < mf.nhdr; i++)
		dkimverify_msg_header(m, mf.hdr[i].name, mf.hdr[i].raw);
	dkimverify_msg_eoh(m);
	dkimverify_msg_body(m, (const unsigned char *)mf.body, mf.body_len);
	if (dkimverify_msg_eom(m, &c, &out) == 0) {
		if (out.nsig > FUZZ_SIGS || out.nsig > out.total)
			abort();
		for (i = 0; i < out.nsig; i++) {
			fuzz_clean(out.sig[i].domain, sizeof(out.sig[i].domain));
			fuzz_clean(out.sig[i].selector,
			    sizeof(out.sig[i].selector));
			fuzz_clean(out.sig[i].identity,
			    sizeof(out.sig[i].identity));
			fuzz_clean(out.sig[i].b_prefix,
			    sizeof(out.sig[i].b_prefix));
			fuzz_clean(out.sig[i].reason, sizeof(out.sig[i].reason));
		}
		memset(&in, 0, sizeof(in));
		in.servid = "mx.example.net";
		in.dkim = &out;
		if (authres_build(&in, ar, sizeof(ar)) == 0 &&
		    (strchr(ar, '\r') != NULL || !authres_claims(ar,
		    "mx.example.net")))
			abort();
	}
	dkimverify_outcome_free(&out);
	dkimverify_msg_free(m);
	dns_ctx_free(&c);
	msgfile_free(&mf);
	return 0;
}
