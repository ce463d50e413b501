/*
 * fuzz_authres.c - fuzz target for lib/auth/authres.c.
 *
 * The input, as a C string, is a received Authentication-Results value:
 * authres_servid() and authres_claims() must not crash, must return 0,
 * SCOPE_EINVAL or SCOPE_ETOOBIG, and leave a NUL-terminated id inside
 * the buffer ("" on error); a parsed id must claim its own header.
 *
 * The same bytes, cut at '|', then fill the outcome strings (servid,
 * client address, PTR name, SPF, DKIM and DMARC fields; unterminated
 * when a flag says so) and the first bytes choose results and sizes:
 * the value authres_build() writes must stay inside outsz, be printable
 * ASCII with "\n\t" folding only, read back by authres_parse() (RFC
 * 8601's grammar), and give back the servid when authres_servid_ok().
 * authres_parse() on the input must not crash, and a value it reads
 * must claim its own authserv-id.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/authres.h"
#include "errors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX	65536

/* fuzz_piece - the next '|'-separated piece of data */
static const uint8_t *
fuzz_piece(const uint8_t **p, const uint8_t *end, size_t *len)
{
	const uint8_t *start = *p, *bar;

	if (start >= end) {
		*len = 0;
		return start;
	}
	bar = memchr(start, '|', (size_t)(end - start));
	*len = (size_t)((bar != NULL ? bar : end) - start);
	*p = bar != NULL ? bar + 1 : end;
	return start;
}

/* fuzz_field - fill a field from the next piece; unterminated when asked */
static void
fuzz_field(char *field, size_t sz, const uint8_t **p, const uint8_t *end,
    bool unterminated)
{
	size_t len;
	const uint8_t *s = fuzz_piece(p, end, &len);

	memset(field, unterminated ? 'A' : '\0', sz);
	if (len > sz)
		len = sz;
	if (len > 0)
		memcpy(field, s, len);
	if (!unterminated)
		field[len < sz ? len : sz - 1] = '\0';
}

/* fuzz_safe - the written value is printable ASCII with "\n\t" folding
 * only, and RFC 8601's grammar reads it back */
static bool
fuzz_safe(const char *v)
{
	struct authres_parsed ar;
	const unsigned char *p = (const unsigned char *)v;

	for (; *p != '\0'; p++) {
		if (*p == '\n' && p[1] == '\t')
			p++;
		else if (*p < 0x20 || *p > 0x7e)
			return false;
	}
	return *v == '\0' || authres_parse(v, &ar) == 0;
}

/* fuzz_empty_id - nothing but white space and one trailing dot, which
 * authres_claims() ignores: such an id names no server */
static bool
fuzz_empty_id(const char *id)
{
	size_t n = strlen(id);

	while (n > 0 && (id[n - 1] == ' ' || id[n - 1] == '\t'))
		n--;
	if (n > 0 && id[n - 1] == '.')
		n--;
	return strspn(id, " \t") >= n;
}

/* fuzz_parse - authres_servid and authres_claims on one value */
static void
fuzz_parse(const char *value, size_t outsz)
{
	struct authres_parsed ar;
	char id[1100];
	int rc;

	memset(id, '#', sizeof(id));
	rc = authres_servid(value, id, outsz);
	if (rc != 0 && rc != SCOPE_EINVAL && rc != SCOPE_ETOOBIG)
		abort();
	if (memchr(id, '\0', outsz) == NULL || id[outsz] != '#')
		abort();
	if (rc != 0 && id[0] != '\0')
		abort();
	if (rc == 0 && (id[0] == '\0' || strchr(id, '\r') != NULL ||
	    strchr(id, '\n') != NULL))
		abort();
	if (rc == 0 && !fuzz_empty_id(id) && !authres_claims(value, id))
		abort();
	(void)authres_claims(value, "mx.example.com");
	rc = authres_parse(value, &ar);
	if (rc != 0 && rc != SCOPE_EINVAL)
		abort();
	if (rc == 0 && strlen(ar.servid) < sizeof(ar.servid) - 1 &&
	    !fuzz_empty_id(ar.servid) && !authres_claims(value, ar.servid))
		abort();	/* a valid header always claims its own id */
}

static struct iprev_outcome ip;
static struct spf_outcome mf, he;
static struct dkimverify_sig sigs[4];
static struct dkimverify_outcome dk;
static struct dmarceval_outcome dm;

/* fuzz_build - outcomes from the input, the value checked */
static void
fuzz_build(const uint8_t *data, size_t size)
{
	static char out[AUTHRES_MAX + 2];
	char servid[300], client[64], id[1100];
	const uint8_t *p = data + 4, *end = data + size;
	struct authres_input in;
	size_t outsz, i, len;
	uint8_t f0, f1, f2, f3;
	bool u;
	int rc;

	if (size < 4)
		return;
	f0 = data[0];
	f1 = data[1];
	f2 = data[2];
	f3 = data[3];
	u = (f1 & 0x80) != 0;
	fuzz_field(servid, sizeof(servid), &p, end, false);
	fuzz_field(client, sizeof(client), &p, end, false);

	memset(&ip, 0, sizeof(ip));
	ip.result = (enum iprev_res)(f0 % 5);
	ip.nnames = f0 % 3;
	ip.matched = (int)(f1 % 4) - 1;
	ip.dnssec = (enum dns_sec)(f2 % 5);
	fuzz_field(ip.names[0], sizeof(ip.names[0]), &p, end, u);
	fuzz_field(ip.names[1], sizeof(ip.names[1]), &p, end, u);

	memset(&mf, 0, sizeof(mf));
	mf.result = (enum spf_res)(f1 % 7);
	mf.lookups = f2 & 1;
	mf.dnssec = (enum dns_sec)(f3 % 5);
	fuzz_field(mf.identity, sizeof(mf.identity), &p, end, u);
	fuzz_field(mf.reason, sizeof(mf.reason), &p, end, u);
	he = mf;
	he.result = (enum spf_res)(f2 % 7);
	fuzz_field(he.domain, sizeof(he.domain), &p, end, u);

	memset(&dk, 0, sizeof(dk));
	memset(sigs, 0, sizeof(sigs));
	dk.sig = sigs;
	dk.nsig = dk.total = f3 % 5;
	for (i = 0; i < dk.nsig; i++) {
		sigs[i].result = (enum dkimverify_res)((f0 + i) % 7);
		sigs[i].key_bits = (int)(f2 * 16) - 1;
		sigs[i].testing = (f3 & 0x40) != 0;
		sigs[i].dnssec_known = (f3 & 0x20) != 0;
		sigs[i].dnssec = (enum dns_sec)((f1 + i) % 5);
		fuzz_field(sigs[i].reason, sizeof(sigs[i].reason), &p, end, u);
		fuzz_field(sigs[i].domain, sizeof(sigs[i].domain), &p, end, u);
		fuzz_field(sigs[i].selector, sizeof(sigs[i].selector), &p, end,
		    u);
		fuzz_field(sigs[i].algorithm, sizeof(sigs[i].algorithm), &p,
		    end, u);
		fuzz_field(sigs[i].b_prefix, sizeof(sigs[i].b_prefix), &p, end,
		    u);
		fuzz_field(sigs[i].key_type, sizeof(sigs[i].key_type), &p, end,
		    u);
	}

	memset(&dm, 0, sizeof(dm));
	dm.result = (enum dmarceval_res)(f2 % 5);
	dm.disposition = (enum dmarceval_disp)(f3 % 3);
	dm.have_record = (f0 & 0x80) != 0;
	dm.pct_sampled_out = (f0 & 0x40) != 0;
	dm.pct = (int)f1 - 20;
	dm.dnssec = (enum dns_sec)(f0 % 5);
	fuzz_field(dm.reason, sizeof(dm.reason), &p, end, u);
	fuzz_field(dm.from_domain, sizeof(dm.from_domain), &p, end, u);
	fuzz_field(dm.p, sizeof(dm.p), &p, end, u);
	fuzz_field(dm.sp, sizeof(dm.sp), &p, end, u);

	memset(&in, 0, sizeof(in));
	in.servid = servid;
	in.client_ip = (f1 & 0x40) != 0 ? NULL : client;
	in.iprev = (f3 & 0x80) != 0 ? NULL : &ip;
	in.spf_mailfrom = (f0 & 0x20) != 0 ? NULL : &mf;
	in.spf_helo = (f0 & 0x10) != 0 ? NULL : &he;
	in.dkim = (f1 & 0x20) != 0 ? NULL : &dk;
	in.dmarc = (f1 & 0x10) != 0 ? NULL : &dm;

	outsz = (f2 & 0x80) != 0 ? (size_t)(f3 * 3 + 1) : sizeof(out) - 1;
	memset(out, '#', sizeof(out));
	rc = authres_build(&in, out, outsz);
	if (rc != 0 && rc != SCOPE_ETOOBIG && rc != SCOPE_EINVAL)
		abort();
	if (memchr(out, '\0', outsz) == NULL || out[outsz] != '#')
		abort();
	len = strlen(out);
	if (len > AUTHRES_MAX || (rc == 0 && len == 0) || !fuzz_safe(out))
		abort();
	if (len == 0)
		return;
	if (authres_servid(out, id, sizeof(id)) != 0)
		abort();
	if (authres_servid_ok(servid) &&
	    (strcmp(id, servid) != 0 ||
	    (strcmp(servid, ".") != 0 && !authres_claims(out, servid))))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char value[FUZZ_MAX + 1];

	if (size > FUZZ_MAX)
		size = FUZZ_MAX;
	memcpy(value, data, size);
	value[size] = '\0';
	fuzz_parse(value, 1024);
	fuzz_parse(value, 1 + (size % 17));
	fuzz_build(data, size);
	return 0;
}
