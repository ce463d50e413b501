/*
 * test_authres.c - the Authentication-Results value we write (every
 * method and result, quoting, escaping of hostile values, truncation,
 * determinism) and the authserv-id of received ones (CFWS, comments,
 * quoting, versions, look-alikes, garbage); outcomes are built by hand.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/authres.h"
#include "errors.h"
#include "tap.h"
#include "testutil.h"

#define SID	"mx.example.com"

static char filler = 'Z';	/* bytes after each field's NUL */

/* setf - a field: v, NUL, then filler bytes to the end */
static void
setf(char *field, size_t sz, const char *v)
{
	size_t n = strlen(v);

	if (n >= sz)
		n = sz - 1;
	memset(field, filler, sz);
	memcpy(field, v, n);
	field[n] = '\0';
}

#define SETF(f, v)	setf((f), sizeof(f), (v))

/* header_safe - no CR, LF only as "\n\t", no other control character,
 * valid UTF-8, no line over 998 bytes (the first with the field name) */
static bool
header_safe(const char *v)
{
	const unsigned char *p = (const unsigned char *)v;
	size_t line = strlen("Authentication-Results: ");

	for (; *p != '\0'; p++) {
		if (*p == '\n') {
			if (p[1] != '\t')
				return false;
			line = 0;
			continue;
		}
		if ((*p < 0x20 && !(*p == '\t' && p > (const unsigned char *)v &&
		    p[-1] == '\n')) || *p == 0x7f)
			return false;
		if (++line > 998)
			return false;
	}
	return valid_utf8(v);
}

static struct iprev_outcome ip;
static struct spf_outcome mf, he;
static struct dkimverify_sig sigs[DKIMVERIFY_SIGS_HARDMAX];
static struct dkimverify_outcome dk;
static struct dmarceval_outcome dm;
static char out[AUTHRES_MAX + 1];

/* set_iprev - an iprev outcome with at most one PTR name */
static void
set_iprev(enum iprev_res res, const char *name, int matched,
    enum dns_sec sec)
{
	memset(&ip, filler, sizeof(ip));
	ip.result = res;
	ip.nnames = name != NULL ? 1 : 0;
	ip.ptr_total = ip.nnames;
	SETF(ip.names[0], name != NULL ? name : "");
	ip.matched = matched;
	ip.dnssec = sec;
}

/* set_spf - an SPF outcome */
static void
set_spf(struct spf_outcome *o, enum spf_res res, const char *identity,
    const char *domain, const char *reason, enum dns_sec sec,
    unsigned lookups)
{
	memset(o, filler, sizeof(*o));
	o->result = res;
	SETF(o->identity, identity);
	SETF(o->domain, domain);
	SETF(o->mechanism, "");
	SETF(o->reason, reason);
	SETF(o->explanation, "");
	o->dnssec = sec;
	o->lookups = lookups;
}

/* set_sig - signature i of the DKIM outcome */
static void
set_sig(unsigned i, enum dkimverify_res res, const char *reason,
    const char *d, const char *s, const char *b, int bits)
{
	struct dkimverify_sig *g = &sigs[i];

	memset(g, filler, sizeof(*g));
	g->result = res;
	SETF(g->reason, reason);
	SETF(g->domain, d);
	SETF(g->selector, s);
	SETF(g->algorithm, "rsa-sha256");
	SETF(g->canon, "relaxed/relaxed");
	SETF(g->identity, "");
	SETF(g->key_type, bits > 0 ? "rsa" : "");
	g->key_bits = bits;
	g->body_length = -1;
	SETF(g->b_prefix, b);
	g->testing = false;
	g->dnssec_known = bits > 0;
	g->dnssec = DNS_SEC_SECURE;
	dk.sig = sigs;
	if (dk.nsig < i + 1)
		dk.nsig = dk.total = i + 1;
}

/* set_dmarc - a DMARC outcome with a record p=reject sp=none pct=100 */
static void
set_dmarc(enum dmarceval_res res, const char *from, bool record,
    enum dmarceval_disp disp, const char *reason)
{
	memset(&dm, filler, sizeof(dm));
	dm.result = res;
	SETF(dm.reason, reason);
	SETF(dm.from_domain, from);
	SETF(dm.org_domain, from);
	SETF(dm.record_domain, record ? from : "");
	dm.have_record = record;
	SETF(dm.p, "reject");
	SETF(dm.sp, "none");
	dm.pct = 100;
	dm.adkim = 'r';
	dm.aspf = 'r';
	SETF(dm.spf_domain, "");
	SETF(dm.dkim_domain, "");
	dm.disposition = disp;
	dm.pct_sampled_out = false;
	dm.dnssec = DNS_SEC_INSECURE;
}

/* input - an input with the given outcomes */
static struct authres_input
input(const char *servid, bool i, bool m, bool h, bool d, bool c)
{
	struct authres_input in;

	memset(&in, 0, sizeof(in));
	in.servid = servid;
	in.client_ip = "192.0.2.1";
	in.iprev = i ? &ip : NULL;
	in.spf_mailfrom = m ? &mf : NULL;
	in.spf_helo = h ? &he : NULL;
	in.dkim = d ? &dk : NULL;
	in.dmarc = c ? &dm : NULL;
	return in;
}

/* build - authres_build into out; its return code */
static int
build(const struct authres_input *in)
{
	return authres_build(in, out, sizeof(out));
}

/* check - build, expect 0 and exactly want */
static void
check(const struct authres_input *in, const char *want, const char *name)
{
	int rc = build(in);

	if (rc != 0)
		printf("# rc %d\n", rc);
	is_str(rc == 0 ? out : "(error)", want, name);
}

static void
build_none(void)
{
	struct authres_input in = input(SID, false, false, false, false, false);

	check(&in, SID "; none", "nothing ran: servid; none");
	set_iprev(IPREV_NONE, NULL, -1, DNS_SEC_INSECURE);
	in = input(SID, true, false, false, false, false);
	check(&in, SID "; none", "iprev none is omitted");
	in = input(NULL, false, false, false, false, false);
	is_int(build(&in), SCOPE_EINVAL, "NULL servid: EINVAL");
	in = input("", false, false, false, false, false);
	is_int(build(&in), SCOPE_EINVAL, "empty servid: EINVAL");
	is_int(authres_build(NULL, out, sizeof(out)), SCOPE_EINVAL,
	    "NULL input: EINVAL");
	is_int(authres_build(&in, NULL, 0), SCOPE_ETOOBIG,
	    "no output buffer: ETOOBIG");
}

static void
build_iprev(void)
{
	struct authres_input in = input(SID, true, false, false, false, false);

	set_iprev(IPREV_PASS, "mail.example.com", 0, DNS_SEC_SECURE);
	check(&in, SID ";\n\tiprev=pass policy.iprev=192.0.2.1 "
	    "(mail.example.com; dnssec=secure)", "iprev pass");
	set_iprev(IPREV_FAIL, "other.example.net", -1, DNS_SEC_INSECURE);
	check(&in, SID ";\n\tiprev=fail policy.iprev=192.0.2.1 "
	    "(other.example.net; dnssec=insecure)", "iprev fail names a PTR");
	set_iprev(IPREV_TEMPERROR, NULL, -1, DNS_SEC_TIMEOUT);
	check(&in, SID ";\n\tiprev=temperror policy.iprev=192.0.2.1 "
	    "(dnssec=timeout)", "iprev temperror");
	set_iprev(IPREV_PERMERROR, NULL, -1, DNS_SEC_BOGUS);
	check(&in, SID ";\n\tiprev=permerror policy.iprev=192.0.2.1 "
	    "(dnssec=bogus)", "iprev permerror");
	set_iprev(IPREV_PASS, "mail.example.com", 0, DNS_SEC_SECURE);
	in.client_ip = "2001:db8::1";
	check(&in, SID ";\n\tiprev=pass policy.iprev=\"2001:db8::1\" "
	    "(mail.example.com; dnssec=secure)", "iprev IPv6 is quoted");
	in.client_ip = NULL;
	set_iprev(IPREV_PASS, "a(b)c\\d.example", 5, DNS_SEC_INSECURE);
	check(&in, SID ";\n\tiprev=pass (dnssec=insecure)",
	    "iprev: no client ip, out-of-range match index");
	set_iprev(IPREV_FAIL, "a(b)c\\d.example", -1, DNS_SEC_INSECURE);
	check(&in, SID ";\n\tiprev=fail (a[b]c/d.example; "
	    "dnssec=insecure)", "iprev: ( ) \\ in a comment become [ ] /");
}

static void
build_spf(void)
{
	static const char *const names[] = { "none", "neutral", "pass",
	    "fail", "softfail", "temperror", "permerror" };
	struct authres_input in = input(SID, false, true, false, false, false);
	char want[200], name[80];
	unsigned r;

	set_spf(&mf, SPF_RES_PASS, "user@example.com", "example.com", "",
	    DNS_SEC_INSECURE, 1);
	check(&in, SID ";\n\tspf=pass smtp.mailfrom=user@example.com "
	    "(dnssec=insecure)", "spf pass smtp.mailfrom");
	in = input(SID, false, false, true, false, false);
	set_spf(&he, SPF_RES_NONE, "postmaster@mail.example.com",
	    "mail.example.com", "", DNS_SEC_INSECURE, 0);
	check(&in, SID ";\n\tspf=none smtp.helo=mail.example.com",
	    "spf none smtp.helo is written, without DNS no comment");
	set_spf(&he, SPF_RES_NONE, "postmaster@[192.0.2.1]", "[192.0.2.1]",
	    "not a multi-label domain name (RFC 7208 4.3)", DNS_SEC_INSECURE,
	    0);
	check(&in, SID ";\n\tspf=none reason=\"not a multi-label domain name "
	    "[RFC 7208 4.3]\" smtp.helo=\"[192.0.2.1]\"",
	    "spf helo address literal quoted, reason quoted, ( ) as [ ]");
	in = input(SID, false, true, false, false, false);
	for (r = 0; r < sizeof(names) / sizeof(names[0]); r++) {
		set_spf(&mf, (enum spf_res)r, "a@b.example", "b.example", "",
		    DNS_SEC_SECURE, 2);
		snprintf(want, sizeof(want), SID ";\n\tspf=%s "
		    "smtp.mailfrom=a@b.example (dnssec=secure)", names[r]);
		snprintf(name, sizeof(name), "spf result %s", names[r]);
		check(&in, want, name);
	}
	set_spf(&mf, SPF_RES_PASS, "first.last+tag@sub.example.com",
	    "sub.example.com", "", DNS_SEC_INSECURE, 0);
	check(&in, SID ";\n\tspf=pass smtp.mailfrom=first.last+tag@sub."
	    "example.com", "dot-atom local part stays unquoted");
	set_spf(&mf, SPF_RES_PASS, "\"john doe\"@example.com",
	    "example.com", "", DNS_SEC_INSECURE, 0);
	check(&in, SID ";\n\tspf=pass", "quoted local part (space, quotes):"
	    " smtp.mailfrom left out");
	set_spf(&mf, SPF_RES_FAIL, "a;b(c)@example.com", "example.com",
	    "x\\y", DNS_SEC_INSECURE, 0);
	check(&in, SID ";\n\tspf=fail reason=\"x/y\"",
	    "; and ( in local part: left out; backslash in reason as /");
	set_spf(&mf, SPF_RES_PASS, "a..b@example.com", "example.com", "",
	    DNS_SEC_INSECURE, 0);
	check(&in, SID ";\n\tspf=pass smtp.mailfrom=\"a..b@example.com\"",
	    "not a dot-atom: quoted");
	set_spf(&mf, SPF_RES_PASS, "a@exa mple.com", "example.com", "",
	    DNS_SEC_INSECURE, 0);
	check(&in, SID ";\n\tspf=pass", "domain with space: left out");
	set_spf(&mf, SPF_RES_PASS, "a=b/c@ex_ample.com", "example.com", "",
	    DNS_SEC_INSECURE, 0);
	check(&in, SID ";\n\tspf=pass smtp.mailfrom=\"a=b/c@ex_ample.com\"",
	    "'_' in the domain: not a plain domain name, quoted");
}

static void
build_dkim(void)
{
	static const char *const names[] = { "none", "pass", "fail",
	    "neutral", "policy", "temperror", "permerror" };
	struct authres_input in = input(SID, false, false, false, true, false);
	char want[300], name[80];
	unsigned r;

	memset(&dk, 0, sizeof(dk));
	check(&in, SID ";\n\tdkim=none", "dkim: nsig 0 gives dkim=none");
	set_sig(0, DKIMVERIFY_PASS, "", "example.com", "sel1", "AbCdEfGh",
	    2048);
	check(&in, SID ";\n\tdkim=pass header.d=example.com header.s=sel1 "
	    "header.a=rsa-sha256 header.b=AbCdEfGh (2048-bit rsa key; "
	    "dnssec=secure)", "dkim pass");
	set_sig(0, DKIMVERIFY_FAIL, "body hash mismatch", "example.com",
	    "sel1", "AbCdEfGh", 2048);
	sigs[0].dnssec = DNS_SEC_INSECURE;
	check(&in, SID ";\n\tdkim=fail reason=\"body hash mismatch\" "
	    "header.d=example.com header.s=sel1 header.a=rsa-sha256 "
	    "header.b=AbCdEfGh (2048-bit rsa key; dnssec=insecure)",
	    "dkim fail with reason");
	for (r = 0; r < sizeof(names) / sizeof(names[0]); r++) {
		set_sig(0, (enum dkimverify_res)r, "", "d.example", "s", "b",
		    0);
		snprintf(want, sizeof(want), SID ";\n\tdkim=%s header.d="
		    "d.example header.s=s header.a=rsa-sha256 header.b=b",
		    names[r]);
		snprintf(name, sizeof(name), "dkim result %s", names[r]);
		check(&in, want, name);
	}
	set_sig(0, DKIMVERIFY_PASS, "", "a.example", "s1", "ab/+Cd=E", 0);
	SETF(sigs[0].key_type, "ed25519");
	SETF(sigs[0].algorithm, "ed25519-sha256");
	sigs[0].testing = true;
	set_sig(1, DKIMVERIFY_PERMERROR, "no key", "", "", "", 0);
	set_sig(2, DKIMVERIFY_POLICY, "rsa-sha1 not allowed", "c.example",
	    "s3", "QQQQQQQQ", 1024);
	SETF(sigs[2].algorithm, "rsa-sha1");
	check(&in, SID ";\n\tdkim=pass header.d=a.example header.s=s1 "
	    "header.a=ed25519-sha256 header.b=\"ab/+Cd=E\" "
	    "(ed25519 key; testing);\n\t"
	    "dkim=permerror reason=\"no key\" header.a=rsa-sha256;\n\t"
	    "dkim=policy reason=\"rsa-sha1 not allowed\" header.d=c.example "
	    "header.s=s3 header.a=rsa-sha1 header.b=QQQQQQQQ "
	    "(1024-bit rsa key; dnssec=secure)",
	    "dkim: three signatures in order, b= with / quoted, empty d= omitted");
	memset(&dk, 0, sizeof(dk));
}

static void
build_dmarc(void)
{
	struct authres_input in = input(SID, false, false, false, false, true);

	set_dmarc(DMARCEVAL_FAIL, "example.com", true, DMARCEVAL_DISP_REJECT,
	    "");
	check(&in, SID ";\n\tdmarc=fail policy.dmarc=reject "
	    "header.from=example.com (p=reject sp=none pct=100; "
	    "dnssec=insecure)", "dmarc fail");
	dm.pct = 10;
	dm.pct_sampled_out = true;
	dm.disposition = DMARCEVAL_DISP_NONE;
	SETF(dm.sp, "");
	check(&in, SID ";\n\tdmarc=fail policy.dmarc=none "
	    "header.from=example.com (p=reject pct=10; sampled out by pct; "
	    "dnssec=insecure)", "dmarc fail sampled out, no sp");
	SETF(dm.p, "");
	SETF(dm.sp, "none");
	dm.pct = 150;
	check(&in, SID ";\n\tdmarc=fail policy.dmarc=none "
	    "header.from=example.com (sp=none pct=100; sampled out by pct; "
	    "dnssec=insecure)", "dmarc: empty p omitted, pct shown in 0..100");
	set_dmarc(DMARCEVAL_NONE, "", false, DMARCEVAL_DISP_NONE, "");
	check(&in, SID ";\n\tdmarc=none", "dmarc none without From domain");
	set_dmarc(DMARCEVAL_NONE, "example.org", false, DMARCEVAL_DISP_NONE,
	    "");
	check(&in, SID ";\n\tdmarc=none header.from=example.org "
	    "(dnssec=insecure)", "dmarc none with From domain");
	set_dmarc(DMARCEVAL_PASS, "example.com", true, DMARCEVAL_DISP_NONE,
	    "");
	dm.dnssec = DNS_SEC_SECURE;
	check(&in, SID ";\n\tdmarc=pass header.from=example.com "
	    "(p=reject sp=none pct=100; dnssec=secure)", "dmarc pass");
	set_dmarc(DMARCEVAL_PERMERROR, "", false, DMARCEVAL_DISP_NONE,
	    "multiple From domains");
	check(&in, SID ";\n\tdmarc=permerror reason=\"multiple From domains\"",
	    "dmarc permerror with reason");
	set_dmarc(DMARCEVAL_TEMPERROR, "example.net", false,
	    DMARCEVAL_DISP_NONE, "");
	dm.dnssec = DNS_SEC_TIMEOUT;
	check(&in, SID ";\n\tdmarc=temperror header.from=example.net "
	    "(dnssec=timeout)", "dmarc temperror");
}

/* set_all - one outcome per method, realistic */
static void
set_all(void)
{
	set_iprev(IPREV_PASS, "mail.example.com", 0, DNS_SEC_SECURE);
	set_spf(&mf, SPF_RES_PASS, "user@example.com", "example.com", "",
	    DNS_SEC_INSECURE, 1);
	set_spf(&he, SPF_RES_NONE, "postmaster@mail.example.com",
	    "mail.example.com", "", DNS_SEC_INSECURE, 1);
	memset(&dk, 0, sizeof(dk));
	set_sig(0, DKIMVERIFY_PASS, "", "example.com", "sel1", "AbCdEfGh",
	    2048);
	set_sig(1, DKIMVERIFY_FAIL, "body hash mismatch", "example.net",
	    "s2", "ZZZZZZZZ", 1024);
	set_dmarc(DMARCEVAL_PASS, "example.com", true, DMARCEVAL_DISP_NONE,
	    "");
}

static const char all_want[] = SID ";\n"
    "\tiprev=pass policy.iprev=192.0.2.1 (mail.example.com; dnssec=secure);\n"
    "\tspf=pass smtp.mailfrom=user@example.com (dnssec=insecure);\n"
    "\tspf=none smtp.helo=mail.example.com (dnssec=insecure);\n"
    "\tdkim=pass header.d=example.com header.s=sel1 header.a=rsa-sha256 "
    "header.b=AbCdEfGh (2048-bit rsa key; dnssec=secure);\n"
    "\tdkim=fail reason=\"body hash mismatch\" header.d=example.net "
    "header.s=s2 header.a=rsa-sha256 header.b=ZZZZZZZZ "
    "(1024-bit rsa key; dnssec=secure);\n"
    "\tdmarc=pass header.from=example.com (p=reject sp=none pct=100; "
    "dnssec=insecure)";

static void
build_all(void)
{
	struct authres_input in = input(SID, true, true, true, true, true);
	char first[sizeof(out)];
	size_t full, sz, len;
	bool prefix_ok = true, rc_ok = true;
	int rc;

	set_all();
	check(&in, all_want, "all methods, in order");
	snprintf(first, sizeof(first), "%s", out);
	filler = '\xff';
	set_all();
	filler = 'Z';
	build(&in);
	is_str(out, first, "deterministic: bytes after the NULs do not matter");

	/* truncation: every outsz gives "" or whole resinfos, never more */
	full = strlen(all_want);
	for (sz = 1; sz <= full + 1; sz++) {
		memset(out, '#', sizeof(out));
		rc = authres_build(&in, out, sz);
		len = strlen(out);
		if (len >= sz || strncmp(out, all_want, len) != 0 ||
		    (len > 0 && all_want[len] != ';' && all_want[len] != '\0') ||
		    (len > 0 && len < strlen(SID) + 2) || out[sz] != '#')
			prefix_ok = false;
		if (rc != (sz == full + 1 ? 0 : SCOPE_ETOOBIG))
			rc_ok = false;
	}
	ok(prefix_ok, "truncation: every outsz gives whole resinfos only, "
	    "in bounds");
	ok(rc_ok, "truncation: ETOOBIG below strlen+1, 0 at it");
	rc = authres_build(&in, out, strlen(SID) + 80);
	is_int(rc, SCOPE_ETOOBIG, "small outsz: ETOOBIG");
	is_str(out, SID ";\n\tiprev=pass policy.iprev=192.0.2.1 "
	    "(mail.example.com; dnssec=secure)", "small outsz: first resinfo");
	rc = authres_build(&in, out, strlen(SID) + 10);
	ok(rc == SCOPE_ETOOBIG && out[0] == '\0',
	    "no resinfo fits: ETOOBIG and empty value");
	in = input(SID, false, false, false, false, false);
	rc = authres_build(&in, out, strlen(SID) + 3);
	ok(rc == SCOPE_ETOOBIG && out[0] == '\0',
	    "'servid; none' does not fit: ETOOBIG and empty value");
	rc = authres_build(&in, out, 1);
	ok(rc == SCOPE_ETOOBIG && out[0] == '\0', "outsz 1: ETOOBIG, \"\"");
}

static void
build_servid(void)
{
	struct authres_input in = input("mx/1=x", false, false, false, false,
	    false);
	static const char *const bad[] = {
		"my \"odd\" (server)\\", "mx\r\n.example.com", "mx example.com",
		"mx;example.com", "mx(c).example.com", "mx\xe2\x80\xae.example.com",
		"caf\xc3\xa9.example", "mx\x7f", NULL
	};
	char id[300];
	unsigned i, nbad = 0;

	check(&in, "\"mx/1=x\"; none", "servid that is not a token: quoted");
	is_int(authres_servid(out, id, sizeof(id)), 0,
	    "quoted servid: parses back");
	is_str(id, "mx/1=x", "quoted servid: round trip");
	in.servid = "MX.Example.COM.";
	check(&in, "MX.Example.COM.; none", "servid kept as configured");
	for (i = 0; bad[i] != NULL; i++) {
		in.servid = bad[i];
		nbad += build(&in) == SCOPE_EINVAL && out[0] == '\0' &&
		    !authres_servid_ok(bad[i]);
	}
	is_int(nbad, i, "servid with space, ; ( \" \\, a control or 8-bit "
	    "byte: EINVAL, nothing written");
	memset(id, 'a', 256);
	id[256] = '\0';
	in.servid = id;
	is_int(build(&in), SCOPE_EINVAL, "servid over 255 bytes: EINVAL");
}

/* resinfo_has - the resinfo starting with head holds what */
static bool
resinfo_has(const char *v, const char *head, const char *what)
{
	const char *r = strstr(v, head), *end;

	if (r == NULL)
		return false;
	end = strchr(r, ';');
	if (end == NULL)
		end = r + strlen(r);
	r = strstr(r, what);
	return r != NULL && r < end;
}

static void
build_hostile(void)
{
	struct authres_input in = input(SID, true, true, true, true, true);
	char local[400], addr[600];
	unsigned i;
	int rc;

	set_all();
	SETF(sigs[1].reason, "evil\r\nX-Injected: yes\n\t(\"\\)");
	SETF(sigs[1].domain, "bad\x01\x1b[31m\x7f.example");
	SETF(sigs[1].selector, "s\xff\xfe\xc0\xaf");
	SETF(ip.names[0], "ptr\r\n(x).example\xc2\x85");
	rc = build(&in);
	ok(rc == 0 && header_safe(out), "hostile: header safe");
	ok(strstr(out, "reason=\"evil??X-Injected: yes??['/]\"") != NULL,
	    "hostile reason: CR LF TAB as '?', ( \" \\ ) as [ ' / ]");
	ok(resinfo_has(out, "dkim=fail", "dkim=fail") &&
	    !resinfo_has(out, "dkim=fail", "header.d="),
	    "hostile d=: C0 and DEL, property left out");
	ok(resinfo_has(out, "dkim=fail", "header.a=") &&
	    !resinfo_has(out, "dkim=fail", "header.s="),
	    "hostile s=: invalid UTF-8, property left out");
	ok(strstr(out, "(ptr??[x].example?; dnssec=secure)") != NULL,
	    "hostile PTR name: CR LF and C1 as '?', parentheses as [ ]");

	memset(local, 'x', 300);
	local[300] = '\0';
	snprintf(addr, sizeof(addr), "%s@example.com", local);
	set_spf(&mf, SPF_RES_PASS, addr, "example.com", "", DNS_SEC_INSECURE,
	    1);
	rc = build(&in);
	ok(rc == 0 && header_safe(out) && strstr(out, addr) != NULL,
	    "300-char local part (field-capped): unquoted dot-atom, safe");
	memset(local, '"', 300);
	snprintf(addr, sizeof(addr), "%s@example.com", local);
	set_spf(&mf, SPF_RES_PASS, addr, "example.com", "", DNS_SEC_INSECURE,
	    1);
	memset(local, '\x01', 300);
	SETF(mf.reason, local);
	mf.result = SPF_RES_FAIL;
	rc = build(&in);
	ok(rc == 0 && header_safe(out), "300 quotes and 159 controls: "
	    "lines stay under 998 bytes");

	/* every field full of the worst bytes, all signatures */
	for (i = 0; i < DKIMVERIFY_SIGS_HARDMAX; i++) {
		set_sig(i, DKIMVERIFY_FAIL, "", "", "", "", 4096);
		memset(sigs[i].reason, '"', sizeof(sigs[i].reason));
		memset(sigs[i].domain, '\\', sizeof(sigs[i].domain));
		memset(sigs[i].selector, '\n', sizeof(sigs[i].selector));
		memset(sigs[i].algorithm, 0xff, sizeof(sigs[i].algorithm));
		memset(sigs[i].b_prefix, '(', sizeof(sigs[i].b_prefix));
		memset(sigs[i].key_type, ')', sizeof(sigs[i].key_type));
	}
	memset(out, '#', sizeof(out));
	rc = build(&in);
	ok(rc == SCOPE_ETOOBIG && strlen(out) <= AUTHRES_MAX &&
	    header_safe(out), "64 unterminated worst-case signatures: "
	    "ETOOBIG, at most AUTHRES_MAX bytes, safe");
	ok(strstr(out, "dkim=fail") != NULL && out[strlen(out) - 1] != ';',
	    "cut after a whole dkim resinfo");
	memset(&dk, 0, sizeof(dk));
}

/* sid - authres_servid's id, or "(rc N)" */
static const char *
sid(const char *value)
{
	static char id[256];
	static char err[32];
	int rc = authres_servid(value, id, sizeof(id));

	if (rc == 0)
		return id;
	snprintf(err, sizeof(err), "(rc %d)", rc);
	return err;
}

/* claims_spellings - every spelling a reader could take for our id is
 * ours, whatever version or junk follows (issue 12, item 9) */
static void
claims_spellings(void)
{
	static const char *const ours[] = {
		SID "/1; dkim=pass header.d=paypal.com",
		SID "/2; dkim=pass", SID "/; dkim=pass", SID "@evil; dkim=pass",
		SID ":x; dkim=pass", SID "[1]; dkim=pass", SID "=1; dkim=pass",
		SID " 1; dkim=pass", SID " 2; dkim=pass", SID " 99; dkim=pass",
		SID " 01; dkim=pass", SID " 1 (c); dkim=pass",
		SID "(c)1; dkim=pass", SID " 18446744073709551617; dkim=pass",
		SID " 1 2; dkim=pass", SID "; none", SID,
		"mx . example . com; dkim=pass", "mx\r\n\t.example.com; dkim=pass",
		"mx (c) . (d) example.com; dkim=pass", "mx(c).example.com; none",
		"\"mx\".example.com; dkim=pass", "mx\".\"example.com; none",
		"\"mx\".\"example\".\"com\" 1; none",
		"\"" SID "\" 2; dkim=pass", "\"" SID "\"/1; dkim=pass",
		"MX . EXAMPLE . COM . ; dkim=pass",
		SID " (c) . evil; dkim=pass",	/* first token ours */
		"\" " SID " \"; dkim=pass", "\"\t" SID ".\"; none",
		NULL
	};
	static const char *const theirs[] = {
		SID ".evil; dkim=pass", SID "-evil; dkim=pass",
		SID "evil; dkim=pass", "evil." SID "; dkim=pass",
		"mx . example . com . evil; dkim=pass",
		"x" SID "; dkim=pass",
		"\"mx.example\".com.evil; none",
		"/" SID "; dkim=pass", "; " SID, "mx example.com; none",
		NULL
	};
	unsigned i, bad = 0;

	for (i = 0; ours[i] != NULL; i++)
		if (!authres_claims(ours[i], SID)) {
			diag("not claimed:");
			diag(ours[i]);
			bad++;
		}
	ok(bad == 0, "claims: %u spellings of our id (any version, '/' or "
	    "another tspecial after it, dots with white space or comments, "
	    "quoted pieces) are ours", i);
	for (bad = 0, i = 0; theirs[i] != NULL; i++)
		if (authres_claims(theirs[i], SID)) {
			diag("claimed:");
			diag(theirs[i]);
			bad++;
		}
	ok(bad == 0, "claims: %u other names (longer, prefixed, dotted on) are "
	    "not ours", i);
}

static void
parse(void)
{
	char small[8], inv[32];
	struct authres_input in;

	snprintf(inv, sizeof(inv), "(rc %d)", SCOPE_EINVAL);
	is_str(sid(SID "; spf=pass smtp.mailfrom=a@b"), SID, "plain");
	is_str(sid("MX.Example.COM; dkim=pass"), "MX.Example.COM",
	    "case kept");
	ok(authres_claims("MX.Example.COM; dkim=pass", SID),
	    "claims: case-insensitive");
	is_str(sid(" \t" SID " \t; spf=pass"), SID,
	    "leading and trailing white space");
	is_str(sid("\r\n\t" SID "\r\n ; spf=pass"), SID,
	    "CRLF folding before and after");
	is_str(sid("\n " SID "\n\t;\n\tspf=pass"), SID,
	    "LF folding before and after");
	is_str(sid("(forged) " SID "; spf=pass"), SID, "comment before");
	ok(authres_claims("(forged) " SID "; spf=pass", SID),
	    "claims: comment before");
	is_str(sid("(a (b \\) c) \\( d)" SID "(x); spf=pass"), SID,
	    "nested comment with quoted-pairs, comment right after");
	is_str(sid("\"" SID "\"; spf=pass"), SID, "quoted id");
	is_str(sid("\"mx\\.example\\\\.com\"; spf=pass"),
	    "mx.example\\.com", "quoted id with quoted-pairs");
	is_str(sid("\"mx.exa\r\n mple.com\"; spf=pass"), "mx.exa mple.com",
	    "quoted id unfolded");
	ok(authres_claims("\"" SID "\"; spf=pass", SID), "claims: quoted id");
	is_str(sid(SID " 1; spf=pass"), SID, "version number");
	is_str(sid(SID " (c) 1 (c) ; none"), SID,
	    "version number between comments");
	is_str(sid(SID), SID, "id alone");
	is_str(sid(SID " 1 2; spf=pass"), inv, "two versions: EINVAL");
	ok(!authres_claims("other.example.com; spf=pass", SID),
	    "claims: other id");
	ok(!authres_claims(SID ".evil; spf=pass", SID),
	    "claims: longer name with our id as prefix");
	ok(!authres_claims("mx.example.co; spf=pass", SID),
	    "claims: our id is longer");
	ok(!authres_claims(SID "x; spf=pass", SID),
	    "claims: one more character");
	ok(authres_claims(SID ".; spf=pass", SID),
	    "claims: trailing dot in header");
	ok(authres_claims(SID "; spf=pass", SID "."),
	    "claims: trailing dot in servid");
	ok(!authres_claims(SID "..; spf=pass", SID),
	    "claims: two trailing dots do not match");
	is_str(sid(""), inv, "empty: EINVAL");
	is_str(sid(" \r\n\t "), inv, "white space only: EINVAL");
	is_str(sid("(only a comment)"), inv, "only a comment: EINVAL");
	is_str(sid("(unterminated " SID "; spf=pass"), inv,
	    "unterminated comment: EINVAL");
	is_str(sid("(a (b) " SID "; spf=pass"), inv,
	    "unterminated nested comment: EINVAL");
	is_str(sid("(\\"), inv, "quoted-pair at the end: EINVAL");
	is_str(sid("\"" SID "; spf=pass"), inv, "unterminated quote: EINVAL");
	is_str(sid("\"" SID "\\"), inv, "quote ending in backslash: EINVAL");
	is_str(sid("\"\"; spf=pass"), inv, "empty quoted id: EINVAL");
	is_str(sid("\"mx\x01\"; spf=pass"), inv,
	    "control character in quoted id: EINVAL");
	is_str(sid("; spf=pass"), inv, "no id: EINVAL");
	is_str(sid(SID "/evil; spf=pass"), inv, "tspecial after id: EINVAL");
	is_str(sid(SID " spf=pass"), inv, "no semicolon: EINVAL");
	ok(authres_claims(SID " spf=pass", SID),
	    "claims: a malformed header whose first token is our id is ours");
	ok(!authres_claims(NULL, SID) && !authres_claims(SID ";", NULL) &&
	    !authres_claims(SID ";", "") && !authres_claims(".;", "."),
	    "claims: NULL value, NULL or empty servid, \".\"");
	is_int(authres_servid(NULL, small, sizeof(small)), SCOPE_EINVAL,
	    "NULL value: EINVAL");
	is_int(authres_servid(SID, small, sizeof(small)), SCOPE_ETOOBIG,
	    "id longer than out: ETOOBIG");
	is_str(small, "", "id longer than out: out empty");
	is_int(authres_servid("abcdefg;", small, sizeof(small)), 0,
	    "id of outsz-1 bytes fits");
	is_int(authres_servid("\"abcdefgh\";", small, sizeof(small)),
	    SCOPE_ETOOBIG, "quoted id too long: ETOOBIG");

	claims_spellings();
	set_all();
	in = input(SID, true, true, true, true, true);
	build(&in);
	is_str(sid(out), SID, "round trip: servid of a built value");
	ok(authres_claims(out, SID), "round trip: built value claims servid");
	in = input("123", false, false, false, false, false);
	build(&in);
	is_str(sid(out), "123", "round trip: numeric servid is the id, not a "
	    "version");
	memset(&dk, 0, sizeof(dk));
}

/* ascii_only - printable ASCII, LF only as "\n\t" folding, lines of at
 * most 998 bytes with the field name */
static bool
ascii_only(const char *v)
{
	const unsigned char *p = (const unsigned char *)v;
	size_t line = strlen("Authentication-Results: ");

	for (; *p != '\0'; p++) {
		if (*p == '\n' && p[1] == '\t') {
			line = 0;
			p++;
		} else if (*p < 0x20 || *p > 0x7e) {
			return false;
		}
		if (++line > 998)
			return false;
	}
	return true;
}

/* pairs - "method=result ..." of a value read back by authres_parse, or
 * "(invalid)" */
static const char *
pairs(const char *v)
{
	static char buf[2048];
	struct authres_parsed ar;
	size_t len = 0;
	unsigned i;

	if (authres_parse(v, &ar) != 0)
		return "(invalid)";
	buf[0] = '\0';
	for (i = 0; i < ar.n && i < AUTHRES_PARSE_MAX; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s=%s",
		    i > 0 ? " " : "", ar.r[i].method, ar.r[i].result);
	if (ar.none)
		snprintf(buf, sizeof(buf), "none");
	if (strcmp(ar.servid, SID) != 0)
		return "(other servid)";
	return buf;
}

static void
parse_grammar(void)
{
	static const char *const good[][2] = {
		{ SID "; none", "none" },
		{ SID " 1 ; none", "none" },
		{ SID "; spf=pass smtp.mailfrom=example.net", "spf=pass" },
		{ SID "; auth=pass (cram-md5) smtp.auth=sender@example.net; "
		    "spf=pass smtp.mailfrom=example.net",
		    "auth=pass spf=pass" },
		{ SID ";\r\n  sender-id=fail header.from=example.com;\r\n"
		    "  dkim=pass (good signature) header.d=example.com",
		    "sender-id=fail dkim=pass" },
		{ SID " (foobar) 1 (baz);\n dkim (Because I like it) / 1 (One"
		    " yay) = (wait for it) fail\n policy (A dot can go here) ."
		    " (like that) expired\n (this surprised me) = (as I wasn't"
		    " expecting it) 1362471462", "dkim=fail" },
		{ SID "; dkim=fail reason=\"bad; (really)\" header.d=x.test "
		    "header.b=\"ab/+\"", "dkim=fail" },
		{ SID "; spf=pass smtp.mailfrom=\"a b\"@x.test smtp.helo=h",
		    "spf=pass" },
		{ "\"" SID "\"; iprev=pass policy.iprev=\"2001:db8::1\"",
		    "iprev=pass" },
	};
	static const char *const bad[] = {
		SID, SID ";", SID "; spf", SID "; spf=", SID "; =pass",
		SID "; spf=pass smtp", SID "; spf=pass smtp.helo",
		SID "; spf=pass smtp.helo=", SID "; spf=pass smtp.helo=a;b",
		SID "; spf=pass smtp.helo=a\nsmtp.mailfrom=b",
		SID "; spf=pass\r\nX-Injected: yes",
		SID "; spf=pass smtp.helo=a\x01", SID "; spf=pass (c\x7f)",
		SID "; spf=pass smtp.helo=adv\xe2\x80\xae.example.org",
		SID "; spf=pass smtp.helo=\"adv\xe2\x80\xae\"",
		SID "; spf=pass (unterminated", SID "; spf=pass smtp.helo=\"a",
		SID "; spf=pass smtp.helo=a b", SID "; none; spf=pass",
		SID "; spf=pass-", "; spf=pass",
		SID "; spf=pass smtp.mailfrom=a@-b.test",
	};
	unsigned i, nbad = 0, ngood = 0;
	char buf[64];

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (strcmp(pairs(good[i][0]), good[i][1]) == 0) {
			ngood++;
			continue;
		}
		diag("read wrongly:");
		diag(good[i][0]);
		diag(pairs(good[i][0]));
	}
	snprintf(buf, sizeof(buf), "%u", i);
	ok(ngood == i, "authres_parse: %s RFC 8601 values read (examples of"
	    " appendix B, comments everywhere, folding)", buf);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (strcmp(pairs(bad[i]), "(invalid)") == 0) {
			nbad++;
			continue;
		}
		diag("accepted:");
		diag(bad[i]);
	}
	ok(nbad == i, "authres_parse: %u invalid values refused (8-bit, "
	    "control, bare line break, unterminated, missing parts)", i);
}

/* a hostile string put in one field of set_all()'s outcomes */
struct ascii_field {
	const char *name;
	void (*set)(const char *v);
	const char *gone;	/* the property left out, or NULL (text) */
};

static void f_helo(const char *v) { SETF(he.domain, v); }
static void f_local(const char *v)
{
	char a[600];

	snprintf(a, sizeof(a), "%s@example.com", v);
	SETF(mf.identity, a);
}
static void f_domain(const char *v)
{
	char a[600];

	snprintf(a, sizeof(a), "user@%s", v);
	SETF(mf.identity, a);
}
static void f_from(const char *v) { SETF(dm.from_domain, v); }
static void f_d(const char *v) { SETF(sigs[0].domain, v); }
static void f_s(const char *v) { SETF(sigs[0].selector, v); }
static void f_b(const char *v) { SETF(sigs[0].b_prefix, v); }
static void f_a(const char *v) { SETF(sigs[0].algorithm, v); }
static void f_ptr(const char *v) { SETF(ip.names[0], v); }
static void f_reason(const char *v) { SETF(sigs[1].reason, v); }
static void f_ktype(const char *v) { SETF(sigs[1].key_type, v); }

/* one field against every hostile value: the header stays printable
 * ASCII with folding, reads back with the same method=result pairs and
 * our servid, and the property is left out rather than mangled */
static void
ascii_field(const struct ascii_field *f, const char *const *vals,
    const char *want)
{
	struct authres_input in = input(SID, true, true, true, true, true);
	unsigned i, fails = 0;
	char msg[200];

	for (i = 0; vals[i] != NULL; i++) {
		set_all();
		f->set(vals[i]);
		if (build(&in) == 0 && ascii_only(out) &&
		    strcmp(pairs(out), want) == 0 &&
		    strstr(out, "\xef\xbf\xbd") == NULL &&
		    (f->gone == NULL || vals[i][strspn(vals[i], "x")] == '\0' ||
		    strstr(out, f->gone) == NULL))
			continue;
		fails++;
		snprintf(msg, sizeof(msg), "%s value %u: got", f->name, i);
		diag(msg);
		diag(out);
	}
	ok(fails == 0, "ASCII: %s with bidi, controls, 8-bit, ; ( \" \\, CR, "
	    "LF, 1000 bytes: header printable ASCII, same results",
	    f->name);
}

static void
build_ascii(void)
{
	static char long_x[1001], long_semi[1001];
	static const char *vals[] = {
		"adv\xe2\x80\xae.example.org", "a\x01\x1b[31mb.example.org",
		"x\xff\xfe\xc0\xaf.example.org", "caf\xc3\xa9.example.org",
		"a;dkim=pass header.d=paypal.com", "a(comment", "a)b.test",
		"a\"b", "a\\b", "a\rb", "a\nb", "a\r\n\tb",
		"a\r\nX-Injected: yes", "a b", "\xc2\x85", long_x, long_semi,
		NULL
	};
	static const struct ascii_field fields[] = {
		{ "HELO", f_helo, "smtp.helo=" },
		{ "MAIL FROM local part", f_local, "smtp.mailfrom=" },
		{ "MAIL FROM domain", f_domain, "smtp.mailfrom=" },
		{ "From domain", f_from, "header.from=" },
		{ "DKIM d=", f_d, "header.d=example.com" },
		{ "DKIM s=", f_s, "header.s=sel1" },
		{ "DKIM b=", f_b, "header.b=AbCdEfGh" },
		{ "DKIM a=", f_a, NULL },
		{ "iprev name", f_ptr, NULL },
		{ "DKIM reason", f_reason, NULL },
		{ "DKIM key type", f_ktype, NULL },
	};
	const char *want;
	unsigned i;
	struct authres_input in = input(SID, true, true, true, true, true);

	memset(long_x, 'x', 1000);
	memset(long_semi, ';', 1000);
	set_all();
	build(&in);
	want = "iprev=pass spf=pass spf=none dkim=pass dkim=fail dmarc=pass";
	is_str(pairs(out), want, "ASCII: the clean header reads back");
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		ascii_field(&fields[i], vals, want);
	in.client_ip = "192.0.2.1\xe2\x80\xae";
	set_all();
	ok(build(&in) == 0 && ascii_only(out) && strcmp(pairs(out), want) ==
	    0 && strstr(out, "policy.iprev") == NULL,
	    "ASCII: client address with bidi: policy.iprev left out");

	set_all();
	f_helo("adv\xe2\x80\xae.example.org");
	in.client_ip = "192.0.2.1";
	build(&in);
	ok(strstr(out, "\tspf=none (dnssec=insecure);") != NULL,
	    "ASCII: issue 12's HELO \"adv\\u202e.example.org\": spf=none "
	    "without smtp.helo");
	set_all();
	f_reason("body hash \xe2\x80\xae; header.d=paypal.com (x)");
	build(&in);
	ok(strstr(out, "reason=\"body hash ?, header.d=paypal.com [x]\"") !=
	    NULL, "ASCII: reason text: bidi as '?', ; ( ) as , [ ]");
	memset(&dk, 0, sizeof(dk));
}

int
main(void)
{
	plan(138);
	build_none();
	build_iprev();
	build_spf();
	build_dkim();
	build_dmarc();
	build_all();
	build_servid();
	build_hostile();
	build_ascii();
	parse_grammar();
	parse();
	return done_testing();
}
