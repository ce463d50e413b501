/*
 * test_dmarceval.c - DMARC with libopendmarc and the in-memory DNS layer:
 * organizational domains from the public suffix list, From handling,
 * record discovery (fallback, several records, DNS failures, DNSSEC),
 * policies (p, sp, pct), strict and relaxed alignment, and DKIM results
 * in every order (the libopendmarc "one stored DKIM result" trap).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "auth/dmarceval.h"
#include "dns/dns.h"
#include "errors.h"
#include "tap.h"

/* the list Debian's publicsuffix package installs (configure's default) */
#ifndef PSL_FILE
#define PSL_FILE	"/usr/share/publicsuffix/public_suffix_list.dat"
#endif

static const char *const zone_rrs[] = {
	"_dmarc.example.com. 300 IN TXT \"v=DMARC1; p=reject\"",
	"_dmarc.quar.example. 300 IN TXT \"v=DMARC1; p=quarantine\"",
	"_dmarc.mon.example. 300 IN TXT \"v=DMARC1; p=none\"",
	"_dmarc.org.example. 300 IN TXT \"v=DMARC1; p=reject; sp=quarantine\"",
	"_dmarc.nosp.example. 300 IN TXT \"v=DMARC1; p=quarantine\"",
	"_dmarc.own.org.example. 300 IN TXT \"v=DMARC1; p=none\"",
	"_dmarc.strict.example. 300 IN TXT "
	    "\"v=DMARC1; p=reject; adkim=s; aspf=s\"",
	"_dmarc.pct0.example. 300 IN TXT \"v=DMARC1; p=reject; pct=0\"",
	"_dmarc.pct50.example. 300 IN TXT \"v=DMARC1; p=reject; pct=50\"",
	"_dmarc.pctabc.example. 300 IN TXT \"v=DMARC1; p=reject; pct=abc\"",
	"_dmarc.bogus.example. 300 IN TXT \"v=DMARC1; p=reject\"",
	"_dmarc.sec.example. 300 IN TXT \"v=DMARC1; p=reject\"",
	"_dmarc.half.example. 300 IN TXT \"v=DMARC1; p=reject\"",
	"_dmarc.two.example. 300 IN TXT \"v=DMARC1; p=reject\"",
	"_dmarc.two.example. 300 IN TXT \"v=DMARC1; p=none\"",
	"_dmarc.mixed.example. 300 IN TXT \"v=spf1 -all\"",
	"_dmarc.mixed.example. 300 IN TXT \"v=DMARC1; p=quarantine\"",
	"_dmarc.other.example. 300 IN TXT \"v=spf1 -all\"",
	"_dmarc.lower.example. 300 IN TXT \"v=dmarc1; p=reject\"",
	"_dmarc.v10.example. 300 IN TXT \"v=DMARC10; p=reject\"",
	"_dmarc.broken.example. 300 IN TXT \"v=DMARC1; sp=reject\"",
	"_dmarc.badp.example. 300 IN TXT \"v=DMARC1; p=bogus\"",
	"_dmarc.split.example. 300 IN TXT \"v=DMARC1; \" \"p=reject\"",
	"_dmarc.example.co.uk. 300 IN TXT \"v=DMARC1; p=reject\"",
	"_dmarc.sec.test. 300 IN TXT \"v=DMARC1; p=quarantine\"",
	NULL
};

static struct dmarceval *ev;
static struct dns_resolver *zr;

/* sigs_from - build DKIM outcomes from "pass:d.example fail:x.example" */
static void
sigs_from(const char *spec, struct dkimverify_outcome *o,
    struct dkimverify_sig *sig, unsigned max)
{
	static const struct { const char *name; enum dkimverify_res r; } res[] = {
		{ "pass", DKIMVERIFY_PASS }, { "fail", DKIMVERIFY_FAIL },
		{ "neutral", DKIMVERIFY_NEUTRAL }, { "policy", DKIMVERIFY_POLICY },
		{ "temperror", DKIMVERIFY_TEMPERROR },
		{ "permerror", DKIMVERIFY_PERMERROR },
	};
	char buf[1024], *tok, *save = NULL, *colon;
	size_t i;

	memset(o, 0, sizeof(*o));
	o->sig = sig;
	snprintf(buf, sizeof(buf), "%s", spec);
	for (tok = strtok_r(buf, " ", &save); tok != NULL && o->nsig < max;
	    tok = strtok_r(NULL, " ", &save)) {
		struct dkimverify_sig *s = &sig[o->nsig++];

		memset(s, 0, sizeof(*s));
		colon = strchr(tok, ':');
		if (colon == NULL)
			abort();
		*colon = '\0';
		s->result = DKIMVERIFY_PERMERROR;
		for (i = 0; i < sizeof(res) / sizeof(res[0]); i++)
			if (strcmp(res[i].name, tok) == 0)
				s->result = res[i].r;
		snprintf(s->domain, sizeof(s->domain), "%s", colon + 1);
		snprintf(s->selector, sizeof(s->selector), "sel");
		s->key_bits = -1;
		s->body_length = -1;
	}
	o->total = o->nsig;
}

/* check_from - evaluate with From header values, SPF "result:domain" or
 * NULL, DKIM spec or NULL; a fresh DNS context each time */
static int
check_from(const char *const *from, unsigned nfrom, unsigned headers,
    const char *spf, const char *dkim, struct dmarceval_outcome *o)
{
	struct dmarceval_input in;
	struct spf_outcome so;
	struct dkimverify_outcome dko;
	struct dkimverify_sig sig[16];
	struct dns_ctx ctx;
	int rc;

	memset(&in, 0, sizeof(in));
	in.from = from;
	in.nfrom = nfrom;
	in.from_headers = headers;
	if (spf != NULL) {
		const char *colon = strchr(spf, ':');

		memset(&so, 0, sizeof(so));
		so.result = strncmp(spf, "pass:", 5) == 0 ? SPF_RES_PASS :
		    strncmp(spf, "softfail:", 9) == 0 ? SPF_RES_SOFTFAIL :
		    strncmp(spf, "none:", 5) == 0 ? SPF_RES_NONE : SPF_RES_FAIL;
		snprintf(so.domain, sizeof(so.domain), "%s", colon + 1);
		snprintf(so.identity, sizeof(so.identity), "u@%s", colon + 1);
		in.spf_mailfrom = &so;
	}
	if (dkim != NULL) {
		sigs_from(dkim, &dko, sig, 16);
		in.dkim = &dko;
	}
	if (dns_ctx_init(&ctx, zr) != 0)
		abort();
	rc = dmarceval_check(ev, &ctx, &in, o);
	dns_ctx_free(&ctx);
	return rc;
}

/* check - one From header */
static int
check(const char *from, const char *spf, const char *dkim,
    struct dmarceval_outcome *o)
{
	const char *v[1];

	v[0] = from;
	return check_from(v, 1, 1, spf, dkim, o);
}

/* org - the organizational domain, or "ERR n" */
static const char *
org(const char *name)
{
	static char buf[300];
	int rc = dmarceval_org_domain(ev, name, buf, sizeof(buf));

	if (rc != SCOPE_OK)
		snprintf(buf, sizeof(buf), "ERR %d", rc);
	return buf;
}

static char psl_dir[] = "/tmp/test_dmarceval.XXXXXX", psl_path[128];
static bool psl_made;

/* psl_done - remove the last list file and the scratch folder */
static void
psl_done(void)
{
	unlink(psl_path);
	rmdir(psl_dir);
}

/* psl_file - a list file with these contents in a scratch folder (the
 * previous one is removed) */
static const char *
psl_file(const char *name, const char *text)
{
	char *dir = psl_dir, *path = psl_path;
	FILE *fp;

	unlink(psl_path);

	/* made once: a random name may itself end in 'X' */
	if (!psl_made && mkdtemp(dir) == NULL)
		return "/nonexistent/scratch";
	psl_made = true;
	snprintf(path, sizeof(psl_path), "%s/%s", dir, name);
	if ((fp = fopen(path, "w")) == NULL)
		return "/nonexistent/scratch";
	fputs(text, fp);
	fclose(fp);
	return path;
}

/* setup - library errors, then the shared evaluator */
static void
setup(void)
{
	char err[256];
	struct dmarceval *bad;
	int rc;

	rc = dmarceval_new(&bad, "/nonexistent/psl.dat", err, sizeof(err));
	ok(rc < 0 && bad == NULL, "missing list file: an error (%d)", rc);
	ok(strstr(err, "/nonexistent/psl.dat") != NULL &&
	    strstr(err, "No such file") != NULL,
	    "missing list file: message names it (%s)", err);
	rc = dmarceval_new(&bad, psl_file("empty.dat", ""), err, sizeof(err));
	ok(rc < 0 && strstr(err, "no public suffix rules") != NULL,
	    "empty list file: an error (%s)", err);
	rc = dmarceval_new(&bad, "/dev/zero", err, sizeof(err));
	ok(rc < 0 && bad == NULL && strstr(err, "/dev/zero: not a regular "
	    "file") != NULL, "a device is refused, not read forever (%s)", err);
	rc = dmarceval_new(&bad, psl_file("passwd.dat",
	    "root:x:0:0:root:/root:/bin/bash\n"), err, sizeof(err));
	ok(rc < 0 && strstr(err, "passwd.dat:1: not a public suffix rule") !=
	    NULL, "a file that is no list (passwd) is refused with its line "
	    "(%s)", err);
	rc = dmarceval_new(&bad, psl_file("badline.dat",
	    "// a list\ncom\nco.uk\n!www.ck\n*.ck\nexample..com\n"), err,
	    sizeof(err));
	ok(rc < 0 && strstr(err, "badline.dat:6: not a public suffix rule") !=
	    NULL, "an empty label is no rule (%s)", err);
	rc = dmarceval_new(&bad, psl_file("small.dat",
	    "// a list\ncom\nco.uk\n!www.ck\n*.ck\n\xe5\x85\xac\xe5\x8f"
	    "\xb8.cn\n"), err, sizeof(err));
	ok(rc == 0, "a small list of valid rules (wildcard, exception, IDN) "
	    "loads (%s)", err);
	dmarceval_free(bad);
	psl_done();
	rc = dmarceval_new(&bad, NULL, err, sizeof(err));
	is_int(rc, 0, "NULL path: the configured default list loads");
	dmarceval_free(bad);
	rc = dmarceval_new(&ev, PSL_FILE, err, sizeof(err));
	is_int(rc, 0, "explicit list path loads");
	if (rc != 0) {
		printf("# %s\n", err);
		exit(1);
	}
}

/* org_idn - internationalized names: compared and answered in A-labels */
static void
org_idn(void)
{
	static const char *const cases[][3] = {
		{ "foo.xn--55qx5d.cn", "foo.xn--55qx5d.cn",
		    "A-label name under the U-label rule \u516c\u53f8.cn" },
		{ "a.foo.\xe5\x85\xac\xe5\x8f\xb8.cn", "foo.xn--55qx5d.cn",
		    "U-label name: given in A-labels" },
		{ "xn--55qx5d.cn", "xn--55qx5d.cn",
		    "an IDN public suffix is its own" },
		{ "mail.B\xc3\x9c" "CHER.de", "xn--bcher-kva.de",
		    "upper-case U-label mapped (UTS #46) to its A-label" },
		{ "x.\xff.com", "ERR -3", "invalid UTF-8 refused" },
	};
	char name[160];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(name, sizeof(name), "org: %s", cases[i][2]);
		is_str(org(cases[i][0]), cases[i][1], name);
	}
}

/* org_domains - RFC 7489 §3.2 through the list */
static void
org_domains(void)
{
	char small[8];

	is_str(org("a.b.example.co.uk"), "example.co.uk", "org: a.b.example.co.uk");
	is_str(org("example.co.uk"), "example.co.uk", "org: example.co.uk itself");
	is_str(org("co.uk"), "co.uk", "org: a public suffix is its own");
	is_str(org("mail.example.com"), "example.com", "org: mail.example.com");
	is_str(org("com"), "com", "org: a TLD is its own");
	is_str(org("sec.test"), "sec.test",
	    "org: .test is not listed, implicit * rule: sec.test");
	is_str(org("a.b.sec.test"), "sec.test", "org: a.b.sec.test");
	is_str(org("b.a.ck"), "b.a.ck", "org: wildcard *.ck");
	is_str(org("x.www.ck"), "www.ck", "org: exception !www.ck");
	is_str(org("x.a.b.kawasaki.jp"), "a.b.kawasaki.jp",
	    "org: wildcard *.kawasaki.jp");
	is_str(org("x.city.kawasaki.jp"), "city.kawasaki.jp",
	    "org: exception !city.kawasaki.jp");
	is_str(org("x.y.github.io"), "y.github.io",
	    "org: private-section rule github.io");
	is_str(org("Mail.EXAMPLE.com."), "example.com",
	    "org: case and trailing dot ignored");
	org_idn();
	is_str(org("a..example.com"), "ERR -3", "org: empty label refused");
	is_str(org("a b.example"), "ERR -3", "org: not a DNS name refused");
	is_int(dmarceval_org_domain(ev, "a.example.com", small, sizeof(small)),
	    SCOPE_ETOOBIG, "org: short output buffer refused");
}

/* from_handling - permerror for every unusable From */
static void
from_handling(void)
{
	struct dmarceval_outcome o;
	const char *two[] = { "a@example.com", "b@example.com" };

	is_int(check_from(NULL, 0, 0, "pass:example.com", NULL, &o), 0,
	    "no From: returns 0");
	is_str(dmarceval_res_name(o.result), "permerror", "no From: permerror");
	is_str(o.reason, "no From header", "no From: reason");
	check_from(two, 2, 2, "pass:example.com", "pass:example.com", &o);
	is_str(dmarceval_res_name(o.result), "permerror",
	    "two From headers: permerror, even with aligned passes");
	is_str(o.reason, "several From headers", "two From headers: reason");
	is_int(o.from_headers, 2, "two From headers: counted");
	check_from(two, 1, 3, "pass:example.com", NULL, &o);
	is_str(dmarceval_res_name(o.result), "permerror",
	    "one value given but three headers seen: permerror");
	check("a@example.com, b@evil.example", "pass:example.com", NULL, &o);
	is_str(dmarceval_res_name(o.result), "permerror",
	    "two domains in one From: permerror");
	is_str(o.reason, "From mailboxes in different domains",
	    "two domains: reason");
	is_int(o.from_mailboxes, 2, "two domains: two mailboxes");
	check("a@example.com, B <b@EXAMPLE.com>", "pass:example.com", NULL, &o);
	is_str(dmarceval_res_name(o.result), "pass",
	    "two mailboxes in the same domain: evaluated (pass)");
	check("a@[192.0.2.1]", "pass:example.com", NULL, &o);
	is_str(dmarceval_res_name(o.result), "permerror",
	    "domain literal: permerror");
	is_str(o.from_domain, "", "domain literal: no from_domain");
	check("undisclosed-recipients:;", NULL, NULL, &o);
	is_str(dmarceval_res_name(o.result), "permerror",
	    "empty group: permerror");
	check("a@example.com <b@evil.example>", "pass:example.com", NULL, &o);
	is_str(dmarceval_res_name(o.result), "permerror",
	    "addr-spec followed by an angle addr: permerror, never pass");
	check("\r\n Alice\r\n <alice@Example.COM.>", "pass:example.com", NULL,
	    &o);
	is_str(o.from_domain, "example.com",
	    "folded value: domain lowercased, dot dropped");
	is_str(dmarceval_res_name(o.result), "pass", "folded value: pass");
	is_str(dns_sec_name(o.dnssec), "insecure",
	    "permerror before DNS: dnssec insecure");
}

/* results - pass via SPF or DKIM, fail with each policy */
static void
results(void)
{
	struct dmarceval_outcome o;

	is_int(check("a@example.com", "pass:example.com", NULL, &o), 0,
	    "spf pass: returns 0");
	is_str(dmarceval_res_name(o.result), "pass", "aligned SPF pass: pass");
	ok(o.spf_aligned && !o.dkim_aligned, "spf pass: spf_aligned only");
	is_str(o.reason, "", "pass: empty reason");
	is_str(o.record_domain, "example.com", "pass: record at the domain");
	is_str(o.p, "reject", "pass: p read back");
	is_int(o.pct, 100, "pass: pct defaults to 100");
	ok(o.adkim == 'r' && o.aspf == 'r', "pass: relaxed by default");
	is_str(dmarceval_disp_name(o.disposition), "none",
	    "pass: disposition none");
	check("a@example.com", "pass:bounce.example.com", NULL, &o);
	is_str(dmarceval_res_name(o.result), "pass",
	    "relaxed: SPF pass for a subdomain aligns");
	is_str(o.spf_domain, "bounce.example.com", "spf_domain reported");
	check("a@example.com", "fail:example.com", "pass:example.com", &o);
	is_str(dmarceval_res_name(o.result), "pass", "aligned DKIM pass: pass");
	ok(o.dkim_aligned && !o.spf_aligned, "dkim pass: dkim_aligned only");
	is_str(o.dkim_domain, "example.com", "dkim_domain reported");

	check("a@example.com", "fail:example.com", NULL, &o);
	is_str(dmarceval_res_name(o.result), "fail",
	    "SPF fail, no DKIM: fail");
	is_str(dmarceval_disp_name(o.disposition), "reject", "fail: p=reject");
	ok(!o.pct_sampled_out, "pct 100: never sampled out");
	check("a@example.com", "pass:other.example", "pass:other.example", &o);
	is_str(dmarceval_res_name(o.result), "fail",
	    "unaligned SPF and DKIM passes: fail");
	check("a@example.com", "softfail:example.com", "fail:example.com", &o);
	is_str(dmarceval_res_name(o.result), "fail",
	    "softfail and DKIM fail: fail");
	check("a@example.com", NULL, NULL, &o);
	is_str(dmarceval_res_name(o.result), "fail", "neither run: fail");
	check("a@quar.example", "fail:quar.example", NULL, &o);
	is_str(dmarceval_disp_name(o.disposition), "quarantine",
	    "fail: p=quarantine");
	check("a@mon.example", "fail:mon.example", NULL, &o);
	is_str(dmarceval_res_name(o.result), "fail", "p=none: still fail");
	is_str(dmarceval_disp_name(o.disposition), "none",
	    "fail: p=none asks nothing");
	check("a@split.example", "fail:split.example", NULL, &o);
	is_str(dmarceval_disp_name(o.disposition), "reject",
	    "character-strings concatenated");
	check("a@x.a.b.example.co.uk", "pass:example.co.uk", NULL, &o);
	is_str(o.org_domain, "example.co.uk", "co.uk: org domain");
	is_str(o.record_domain, "example.co.uk", "co.uk: record at the org");
	is_str(dmarceval_res_name(o.result), "pass", "co.uk: relaxed pass");
	check("a@mail.sec.test", "pass:sec.test", NULL, &o);
	is_str(o.record_domain, "sec.test",
	    "unlisted TLD .test: record found at sec.test");
	is_str(dmarceval_res_name(o.result), "pass",
	    "unlisted TLD .test: relaxed alignment works");
}

/* helo_never - only the MAIL FROM result is an input */
static void
helo_never(void)
{
	struct dmarceval_outcome o;

	/* the HELO identity may have passed, but the caller hands us only
	 * MAIL FROM: a fail there and no DKIM is a fail */
	check("a@example.com", "fail:example.com", NULL, &o);
	is_str(dmarceval_res_name(o.result), "fail",
	    "MAIL FROM fail (HELO pass not an input): fail");
	ok(!o.spf_aligned, "MAIL FROM fail: spf_aligned false");
	check("a@example.com", "none:example.com", NULL, &o);
	is_str(dmarceval_res_name(o.result), "fail",
	    "MAIL FROM none: fail");
}

/* subdomains - sp at the organizational domain */
static void
subdomains(void)
{
	struct dmarceval_outcome o;

	check("a@sub.org.example", "fail:sub.org.example", NULL, &o);
	is_str(o.record_domain, "org.example", "subdomain: record at org");
	is_str(o.sp, "quarantine", "subdomain: sp read back");
	ok(o.policy_is_sp, "subdomain: sp applies");
	is_str(dmarceval_disp_name(o.disposition), "quarantine",
	    "subdomain: sp=quarantine, not p=reject");
	check("a@org.example", "fail:org.example", NULL, &o);
	ok(!o.policy_is_sp, "org domain itself: p applies");
	is_str(dmarceval_disp_name(o.disposition), "reject",
	    "org domain itself: p=reject");
	check("a@own.org.example", "fail:own.org.example", NULL, &o);
	is_str(o.record_domain, "own.org.example",
	    "subdomain with its own record: that record");
	ok(!o.policy_is_sp, "own record: p applies, not the org's sp");
	is_str(dmarceval_disp_name(o.disposition), "none",
	    "own record: its p=none");
	check("a@sub.nosp.example", "fail:sub.nosp.example", NULL, &o);
	ok(!o.policy_is_sp && o.sp[0] == '\0', "no sp: p applies");
	is_str(dmarceval_disp_name(o.disposition), "quarantine",
	    "no sp: p=quarantine for the subdomain");
}

/* alignment - strict and relaxed */
static void
alignment(void)
{
	struct dmarceval_outcome o;

	check("a@strict.example", "pass:mail.strict.example", NULL, &o);
	ok(o.aspf == 's' && !o.spf_aligned,
	    "aspf=s: subdomain SPF pass does not align");
	is_str(dmarceval_res_name(o.result), "fail", "aspf=s: fail");
	check("a@strict.example", "pass:STRICT.example.", NULL, &o);
	is_str(dmarceval_res_name(o.result), "pass",
	    "aspf=s: same name (case, dot) aligns");
	check("a@strict.example", NULL, "pass:sel.strict.example", &o);
	ok(o.adkim == 's' && !o.dkim_aligned,
	    "adkim=s: subdomain d= does not align");
	check("a@strict.example", NULL, "pass:strict.example", &o);
	is_str(dmarceval_res_name(o.result), "pass", "adkim=s: same d= passes");
	check("a@mail.example.com", NULL, "pass:example.com", &o);
	is_str(dmarceval_res_name(o.result), "pass",
	    "relaxed: parent d= aligns with a subdomain From");
	check("a@example.com", NULL, "pass:example.com.evil.example", &o);
	is_str(dmarceval_res_name(o.result), "fail",
	    "relaxed: a look-alike suffix does not align");
	check("a@example.co.uk", NULL, "pass:other.co.uk", &o);
	is_str(dmarceval_res_name(o.result), "fail",
	    "relaxed: sharing only the public suffix does not align");
	check("a@example.com", NULL, "pass:bad..example.com", &o);
	is_str(dmarceval_res_name(o.result), "fail",
	    "malformed d= never aligns");
}

/* pct - sampling */
static void
pct(void)
{
	struct dmarceval_outcome o;
	int i, applied = 0, out = 0;

	check("a@pct0.example", "fail:pct0.example", NULL, &o);
	is_int(o.pct, 0, "pct=0 read back");
	is_str(dmarceval_disp_name(o.disposition), "quarantine",
	    "pct=0, p=reject: never applied, the next less strict policy "
	    "(quarantine, RFC 7489 6.3)");
	ok(o.pct_sampled_out, "pct=0: sampled out");
	is_str(dmarceval_res_name(o.result), "fail", "pct=0: result still fail");
	check("a@pct0.example", "pass:pct0.example", NULL, &o);
	ok(!o.pct_sampled_out, "pct=0 but pass: not sampled out");
	for (i = 0; i < 200; i++) {
		check("a@pct50.example", "fail:pct50.example", NULL, &o);
		if (o.disposition == DMARCEVAL_DISP_REJECT && !o.pct_sampled_out)
			applied++;
		else if (o.disposition == DMARCEVAL_DISP_QUARANTINE &&
		    o.pct_sampled_out)
			out++;
	}
	ok(applied > 0 && out > 0 && applied + out == 200,
	    "pct=50: both outcomes over 200 draws (%d applied, %d out)",
	    applied, out);
	check("a@pctabc.example", "fail:pctabc.example", NULL, &o);
	is_int(o.pct, 100, "pct=abc: the default 100, not libopendmarc's 0");
	is_str(dmarceval_disp_name(o.disposition), "reject",
	    "pct=abc: policy applied");
}

/* discovery - no record, several, broken, DNS failures, DNSSEC */
static void
discovery(void)
{
	struct dmarceval_outcome o;

	check("a@norecord.example", "fail:norecord.example", NULL, &o);
	is_str(dmarceval_res_name(o.result), "none", "no record: none");
	ok(!o.have_record, "no record: have_record false");
	is_str(dmarceval_disp_name(o.disposition), "none",
	    "no record: disposition none");
	check("a@sub.norecord.example", NULL, NULL, &o);
	is_str(dmarceval_res_name(o.result), "none",
	    "no record at subdomain or org: none");
	check("a@other.example", "fail:other.example", NULL, &o);
	is_str(dmarceval_res_name(o.result), "none",
	    "only a non-DMARC TXT: none");
	check("a@lower.example", "fail:lower.example", NULL, &o);
	is_str(dmarceval_res_name(o.result), "none",
	    "v=dmarc1 (wrong case of the version) does not count");
	check("a@v10.example", "fail:v10.example", NULL, &o);
	is_str(dmarceval_res_name(o.result), "none",
	    "v=DMARC10 is not v=DMARC1");
	check("a@mixed.example", "fail:mixed.example", NULL, &o);
	is_str(dmarceval_disp_name(o.disposition), "quarantine",
	    "DMARC record next to another TXT: used");
	check("a@two.example", "fail:two.example", NULL, &o);
	is_str(dmarceval_res_name(o.result), "none",
	    "two DMARC records: none (§6.6.3)");
	ok(strstr(o.reason, "several") != NULL, "two records: reason says so");
	check("a@broken.example", "pass:broken.example", NULL, &o);
	is_str(dmarceval_res_name(o.result), "permerror",
	    "record without p=: permerror, even with an aligned pass");
	ok(strstr(o.reason, "p=") != NULL, "no p=: reason (%s)", o.reason);
	ok(o.have_record, "broken record: have_record true");
	check("a@badp.example", "fail:badp.example", NULL, &o);
	is_str(dmarceval_res_name(o.result), "permerror", "p=bogus: permerror");

	dns_zone_add_timeout(zr, "_dmarc.slow.example.");
	check("a@slow.example", "pass:slow.example", NULL, &o);
	is_str(dmarceval_res_name(o.result), "temperror",
	    "timeout: temperror, even with an aligned pass");
	is_str(dns_sec_name(o.dnssec), "timeout", "timeout: dnssec timeout");
	dns_zone_add_timeout(zr, "_dmarc.slowparent.example.");
	check("a@sub.slowparent.example", NULL, NULL, &o);
	is_str(dmarceval_res_name(o.result), "temperror",
	    "timeout at the org domain lookup: temperror");
	check("a@bogus.example", "pass:bogus.example", NULL, &o);
	is_str(dmarceval_res_name(o.result), "temperror", "bogus: temperror");
	is_str(dns_sec_name(o.dnssec), "bogus", "bogus: dnssec bogus");

	check("a@sec.example", "pass:sec.example", NULL, &o);
	is_str(dmarceval_res_name(o.result), "pass", "secure zone: pass");
	is_str(dns_sec_name(o.dnssec), "secure", "secure zone: dnssec secure");
	check("a@www.sec.example", "fail:sec.example", NULL, &o);
	is_str(dns_sec_name(o.dnssec), "secure",
	    "secure zone, two lookups (NXDOMAIN, record): secure");
	check("a@sub.half.example", "fail:half.example", NULL, &o);
	is_str(o.record_domain, "half.example", "half-signed: record at org");
	is_str(dns_sec_name(o.dnssec), "insecure",
	    "secure then insecure lookup: the weaker, insecure");
	check("a@ins.sec.example", "fail:sec.example", NULL, &o);
	is_str(o.record_domain, "sec.example", "insecure child: record at org");
	is_str(dns_sec_name(o.dnssec), "insecure",
	    "insecure then secure lookup: the weaker, insecure");
	check("a@example.com", "fail:example.com", NULL, &o);
	is_str(dns_sec_name(o.dnssec), "insecure", "unsigned: insecure");
}

/* dkim_orders - every order of several signatures gives one answer */
static void
dkim_orders(void)
{
	static const char *const pass_set[3] = {
		"pass:example.com", "fail:example.com", "pass:other.example"
	};
	static const char *const fail_set[3] = {
		"pass:other.example", "fail:example.com", "temperror:example.com"
	};
	static const int perm[6][3] = {
		{ 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 }, { 1, 2, 0 }, { 2, 0, 1 },
		{ 2, 1, 0 }
	};
	struct dmarceval_outcome o;
	char spec[256];
	int i, good;

	for (i = 0, good = 0; i < 6; i++) {
		snprintf(spec, sizeof(spec), "%s %s %s", pass_set[perm[i][0]],
		    pass_set[perm[i][1]], pass_set[perm[i][2]]);
		check("a@example.com", "fail:example.com", spec, &o);
		if (o.result == DMARCEVAL_PASS && o.dkim_aligned &&
		    strcmp(o.dkim_domain, "example.com") == 0)
			good++;
		else
			printf("# order '%s' gave %s\n", spec,
			    dmarceval_res_name(o.result));
	}
	is_int(good, 6, "aligned pass + aligned fail + unaligned pass: "
	    "pass in all 6 orders");
	for (i = 0, good = 0; i < 6; i++) {
		snprintf(spec, sizeof(spec), "%s %s %s", fail_set[perm[i][0]],
		    fail_set[perm[i][1]], fail_set[perm[i][2]]);
		check("a@example.com", "fail:example.com", spec, &o);
		if (o.result == DMARCEVAL_FAIL && !o.dkim_aligned)
			good++;
		else
			printf("# order '%s' gave %s\n", spec,
			    dmarceval_res_name(o.result));
	}
	is_int(good, 6, "unaligned pass + aligned fail + aligned temperror: "
	    "fail in all 6 orders");

	check("a@example.com", NULL, "pass:example.com fail:other.example", &o);
	is_str(dmarceval_res_name(o.result), "pass", "aligned pass first: pass");
	check("a@example.com", NULL, "fail:other.example pass:example.com", &o);
	is_str(dmarceval_res_name(o.result), "pass", "aligned pass last: pass");
	check("a@example.com", NULL,
	    "fail:a.example fail:b.example policy:example.com neutral:c.example "
	    "permerror:example.com pass:d.example pass:example.com", &o);
	is_str(dmarceval_res_name(o.result), "pass",
	    "aligned pass after six others: pass");
	check("a@example.com", NULL, "pass:other.example fail:example.com", &o);
	is_str(dmarceval_res_name(o.result), "fail",
	    "unaligned pass + aligned fail: fail");
	check("a@example.com", NULL, "fail:example.com pass:other.example", &o);
	is_str(dmarceval_res_name(o.result), "fail",
	    "aligned fail + unaligned pass: fail");
	check("a@example.com", NULL, "policy:example.com", &o);
	is_str(dmarceval_res_name(o.result), "fail",
	    "aligned but policy (RFC 8301) is not a pass");
	check("a@mail.example.com", NULL,
	    "pass:other.example pass:mail.example.com pass:example.com", &o);
	is_str(o.dkim_domain, "mail.example.com",
	    "dkim_domain: the first aligned pass in header order");
}

int
main(void)
{
	int i;

	if (access(PSL_FILE, R_OK) != 0) {
		printf("1..0 # SKIP no public suffix list at %s\n", PSL_FILE);
		return 0;
	}
	plan(144);
	setup();
	if (dns_resolver_new_zones(&zr, 2000) != 0)
		return 1;
	for (i = 0; zone_rrs[i] != NULL; i++)
		if (dns_zone_add(zr, zone_rrs[i]) != 0) {
			printf("# bad zone line %s\n", zone_rrs[i]);
			return 1;
		}
	dns_zone_set_sec(zr, "bogus.example.", DNS_SEC_BOGUS);
	dns_zone_set_sec(zr, "sec.example.", DNS_SEC_SECURE);
	dns_zone_set_sec(zr, "sub.half.example.", DNS_SEC_SECURE);
	dns_zone_set_sec(zr, "ins.sec.example.", DNS_SEC_INSECURE);
	org_domains();
	from_handling();
	results();
	helo_never();
	subdomains();
	alignment();
	pct();
	discovery();
	dkim_orders();
	dmarceval_free(ev);
	dns_resolver_free(zr);
	return done_testing();
}
