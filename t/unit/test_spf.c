/*
 * test_spf.c - SPF through libspf2 and the in-memory DNS layer: every
 * result, both identities, IPv6, DNS accounting, DNSSEC status, the
 * glue's corrections to libspf2, and hostile input.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns.h"
#include "errors.h"
#include "auth/spf.h"
#include "tap.h"
#include "testutil.h"

static const char *const zone_rrs[] = {
	"pass.test. 300 IN TXT \"v=spf1 ip4:192.0.2.0/24 -all\"",
	"soft.test. 300 IN TXT \"v=spf1 ~all\"",
	"neutral.test. 300 IN TXT \"v=spf1 ?all\"",
	"default.test. 300 IN TXT \"v=spf1 ip4:192.0.2.1\"",
	"none.test. 300 IN A 192.0.2.1",
	"none.test. 300 IN TXT \"some other text\"",
	"two.test. 300 IN TXT \"v=spf1 -all\"",
	"two.test. 300 IN TXT \"v=spf1 +all\"",
	"loop1.test. 300 IN TXT \"v=spf1 include:loop2.test -all\"",
	"loop2.test. 300 IN TXT \"v=spf1 include:loop1.test -all\"",
	"bogus.test. 300 IN TXT \"v=spf1 +all\"",
	"errinc.test. 300 IN TXT \"v=spf1 include:err.test -all\"",
	"err.test. 300 IN TXT \"v=spf1 +all\"",
	"slowinc.test. 300 IN TXT \"v=spf1 a:slow.test -all\"",
	"secure.test. 300 IN TXT \"v=spf1 a -all\"",
	"secure.test. 300 IN A 192.0.2.10",
	"helo.test. 300 IN TXT \"v=spf1 a -all\"",
	"helo.test. 300 IN A 192.0.2.20",
	"six.test. 300 IN TXT \"v=spf1 ip6:2001:db8::/32 -all\"",
	"sixa.test. 300 IN TXT \"v=spf1 a -all\"",
	"sixa.test. 300 IN AAAA 2001:db8::7",
	"count.test. 300 IN TXT \"v=spf1 a:x.test mx:y.test include:pass.test -all\"",
	"x.test. 300 IN A 198.51.100.99",
	"y.test. 300 IN MX 10 mx.y.test.",
	"mx.y.test. 300 IN A 198.51.100.98",
	"incl.test. 300 IN TXT \"v=spf1 include:pass.test -all\"",
	"redir.test. 300 IN TXT \"v=spf1 redirect=pass.test\"",
	"redirall.test. 300 IN TXT \"v=spf1 redirect=pass.test ?all\"",
	"exp.test. 300 IN TXT \"v=spf1 ip4:192.0.2.0/24 -all exp=why.exp.test\"",
	"why.exp.test. 300 IN TXT \"%{i} is not one of %{d}'s \" \"designated mail servers\"",
	"void.test. 300 IN TXT \"v=spf1 a:n1.test a:n2.test a:n3.test -all\"",
	"split.test. 300 IN TXT \"v=spf1 ip4:192.0.2.0/24\" \" -all\"",
	"cidr0.test. 300 IN TXT \"v=spf1 a:host.cidr0.test/0 -all\"",
	"host.cidr0.test. 300 IN A 203.0.113.1",
	"macro.test. 300 IN TXT \"v=spf1 exists:%{l}.x.test -all\"",
	"bad.test. 300 IN TXT \"v=spf1 a:\\128\\255 -all\"",
	"badmacro.test. 300 IN TXT \"v=spf1 exists:%{d99999999999}.x -all\"",
	"badmacro2.test. 300 IN TXT \"v=spf1 exists:%{l -all\"",
	"nul.test. 300 IN TXT \"v=spf1 -all\\000 +all\"",
	"rt.test. 300 IN TXT \"v=spf1 exists:%{iR}.rt.test -all\"",
	"*.rt.test. 300 IN A 127.0.0.2",
	NULL
};

/* outcome_clean - every string of the outcome bounded and valid UTF-8 */
static bool
outcome_clean(const struct spf_outcome *o)
{
	return strlen(o->identity) < sizeof(o->identity) &&
	    strlen(o->domain) < sizeof(o->domain) &&
	    strlen(o->mechanism) < sizeof(o->mechanism) &&
	    strlen(o->reason) < sizeof(o->reason) &&
	    strlen(o->explanation) < sizeof(o->explanation) &&
	    valid_utf8(o->identity) && valid_utf8(o->domain) &&
	    valid_utf8(o->mechanism) && valid_utf8(o->reason) &&
	    valid_utf8(o->explanation);
}

static struct spf_checker *chk;
static struct dns_resolver *zr;
static struct dns_ctx ctx;

/* mailfrom - check the MAIL FROM identity with a fresh DNS context */
static int
mailfrom(const char *ip, const char *helo, const char *from,
    struct spf_outcome *o)
{
	int rc;

	dns_ctx_init(&ctx, zr);
	rc = spf_check_mailfrom(chk, &ctx, ip, helo, from, o);
	dns_ctx_free(&ctx);
	return rc;
}

/* helo - check the HELO identity with a fresh DNS context */
static int
helo(const char *ip, const char *name, struct spf_outcome *o)
{
	int rc;

	dns_ctx_init(&ctx, zr);
	rc = spf_check_helo(chk, &ctx, ip, name, o);
	dns_ctx_free(&ctx);
	return rc;
}

/* results - one check per result */
static void
results(void)
{
	struct spf_outcome o;

	is_int(mailfrom("192.0.2.1", "h.test", "a@pass.test", &o), 0,
	    "pass: returns 0");
	is_str(spf_res_name(o.result), "pass", "pass: ip4 in range");
	is_str(o.mechanism, "ip4:192.0.2.0/24", "pass: the ip4 term decided");
	is_str(o.identity, "a@pass.test", "pass: identity is the sender");
	is_str(o.domain, "pass.test", "pass: domain");
	is_int(o.lookups, 1, "pass: one lookup (the TXT record)");
	is_str(dns_sec_name(o.dnssec), "insecure", "pass: unsigned zone is insecure");

	mailfrom("198.51.100.1", "h.test", "a@pass.test", &o);
	is_str(spf_res_name(o.result), "fail", "fail: outside the range");
	is_str(o.mechanism, "-all", "fail: -all decided");
	is_str(o.explanation, "", "fail: no exp=, no explanation");

	mailfrom("198.51.100.1", "h.test", "a@soft.test", &o);
	is_str(spf_res_name(o.result), "softfail", "softfail: ~all");
	mailfrom("198.51.100.1", "h.test", "a@neutral.test", &o);
	is_str(spf_res_name(o.result), "neutral", "neutral: ?all");
	is_str(o.mechanism, "?all", "neutral: ?all decided");
	mailfrom("198.51.100.1", "h.test", "a@default.test", &o);
	is_str(spf_res_name(o.result), "neutral",
	    "neutral: no term matched (default result)");
	is_str(o.mechanism, "", "default result: no mechanism");

	mailfrom("192.0.2.1", "h.test", "a@none.test", &o);
	is_str(spf_res_name(o.result), "none", "none: TXT but no v=spf1 record");
	mailfrom("192.0.2.1", "h.test", "a@nxdomain.test", &o);
	is_str(spf_res_name(o.result), "none", "none: the domain does not exist");

	mailfrom("192.0.2.1", "h.test", "a@two.test", &o);
	is_str(spf_res_name(o.result), "permerror", "permerror: two records");
	mailfrom("192.0.2.1", "h.test", "a@loop1.test", &o);
	is_str(spf_res_name(o.result), "permerror", "permerror: include loop");
	ok(o.lookups <= 11, "include loop: stops at the lookup limit (%u)",
	    o.lookups);

	mailfrom("192.0.2.1", "h.test", "a@slow.test", &o);
	is_str(spf_res_name(o.result), "temperror",
	    "temperror: the record lookup times out");
	is_str(dns_sec_name(o.dnssec), "timeout", "timeout: DNSSEC status timeout");
	mailfrom("192.0.2.1", "h.test", "a@slowinc.test", &o);
	is_str(spf_res_name(o.result), "temperror",
	    "temperror: an a: lookup times out");
	mailfrom("192.0.2.1", "h.test", "a@bogus.test", &o);
	is_str(spf_res_name(o.result), "temperror", "temperror: bogus (SERVFAIL)");
	is_str(dns_sec_name(o.dnssec), "bogus", "bogus: DNSSEC status propagated");
	mailfrom("192.0.2.1", "h.test", "a@errinc.test", &o);
	is_str(spf_res_name(o.result), "temperror",
	    "temperror: SERVFAIL inside include");

	mailfrom("192.0.2.10", "h.test", "a@secure.test", &o);
	is_str(spf_res_name(o.result), "pass", "secure zone: pass by a");
	is_str(o.mechanism, "a", "secure zone: the a term decided");
	is_str(dns_sec_name(o.dnssec), "secure", "secure zone: DNSSEC secure");
}

/* identities - HELO, null sender, IPv6, loopback */
static void
identities(void)
{
	struct spf_outcome o;

	is_int(helo("192.0.2.20", "helo.test", &o), 0, "helo: returns 0");
	is_str(spf_res_name(o.result), "pass", "helo: pass");
	is_str(o.identity, "postmaster@helo.test", "helo: identity postmaster@helo");
	is_str(o.domain, "helo.test", "helo: domain is the HELO name");
	helo("192.0.2.21", "helo.test", &o);
	is_str(spf_res_name(o.result), "fail", "helo: fail from another address");
	helo("192.0.2.20", "[192.0.2.20]", &o);
	is_str(spf_res_name(o.result), "none", "helo: address literal is none");
	is_int(o.lookups, 0, "helo: address literal asks nothing");
	helo("192.0.2.20", "localhost", &o);
	is_str(spf_res_name(o.result), "none", "helo: single label is none");

	mailfrom("192.0.2.20", "helo.test", "", &o);
	is_str(o.identity, "postmaster@helo.test", "null sender: postmaster@helo");
	is_str(spf_res_name(o.result), "pass", "null sender: HELO policy applies");
	mailfrom("192.0.2.20", "helo.test", "<>", &o);
	is_str(o.identity, "postmaster@helo.test", "null sender <>: postmaster@helo");
	mailfrom("192.0.2.1", "h.test", "<a@pass.test>", &o);
	is_str(o.identity, "a@pass.test", "angle brackets are not the address");
	mailfrom("198.51.100.1", "h.test", "@pass.test", &o);
	is_str(o.identity, "postmaster@pass.test", "no local part: postmaster");

	mailfrom("2001:db8::5", "h.test", "a@six.test", &o);
	is_str(spf_res_name(o.result), "pass", "IPv6 client: pass by ip6");
	is_str(o.mechanism, "ip6:2001:db8::/32", "IPv6 client: the ip6 term decided");
	mailfrom("2001:db8:1::5", "h.test", "a@sixa.test", &o);
	is_str(spf_res_name(o.result), "fail", "IPv6 client: AAAA does not match");
	mailfrom("2001:db8::7", "h.test", "a@sixa.test", &o);
	is_str(spf_res_name(o.result), "pass", "IPv6 client: AAAA matches");
	mailfrom("IPv6:2001:db8::7", "h.test", "a@sixa.test", &o);
	is_str(spf_res_name(o.result), "pass", "IPv6: prefix accepted");
	mailfrom("::ffff:192.0.2.5", "h.test", "a@pass.test", &o);
	is_str(spf_res_name(o.result), "pass", "IPv4-mapped IPv6 is IPv4");
	mailfrom("2001:db8::5", "h.test", "a@pass.test", &o);
	is_str(spf_res_name(o.result), "fail", "IPv6 client: ip4 never matches");

	mailfrom("127.0.0.1", "h.test", "a@pass.test", &o);
	is_str(spf_res_name(o.result), "fail",
	    "loopback: evaluated, no free pass (libspf2 would pass it)");
	is_int(o.lookups, 1, "loopback: the record was looked up");
	mailfrom("::1", "h.test", "a@six.test", &o);
	is_str(spf_res_name(o.result), "fail", "::1: evaluated, no free pass");
}

/* accounting - lookups counted and listed, limits, glue fixes */
static void
accounting(void)
{
	struct spf_outcome o;
	unsigned i;
	bool listed;

	dns_ctx_init(&ctx, zr);
	spf_check_mailfrom(chk, &ctx, "192.0.2.1", "h.test", "a@count.test", &o);
	is_str(spf_res_name(o.result), "pass", "count: pass through include");
	is_str(o.mechanism, "include:pass.test", "count: the include term decided");
	is_int(o.lookups, 5, "count: TXT, A, MX, A of the MX host, TXT of include");
	is_int(ctx.total, 5, "count: the context made as many");
	is_int(ctx.nlog, 5, "count: and lists every one");
	listed = ctx.nlog == 5 && strcmp(ctx.log[0].qname, "count.test") == 0 &&
	    ctx.log[0].qtype == LDNS_RR_TYPE_TXT &&
	    strcmp(ctx.log[3].qname, "mx.y.test") == 0 &&
	    ctx.log[3].qtype == LDNS_RR_TYPE_A &&
	    strcmp(ctx.log[4].qname, "pass.test") == 0;
	ok(listed, "count: the log names each query in order");
	for (i = 0, listed = true; i < ctx.nlog; i++)
		if (ctx.log[i].qtype == 99)
			listed = false;
	ok(listed, "count: type SPF (99) is never asked for");
	spf_check_mailfrom(chk, &ctx, "192.0.2.1", "h.test", "a@pass.test", &o);
	is_int(o.lookups, 1, "a second check counts only its own lookups");
	dns_ctx_free(&ctx);

	mailfrom("192.0.2.1", "h.test", "a@redir.test", &o);
	is_str(spf_res_name(o.result), "pass", "redirect: pass from the target");
	is_str(o.mechanism, "ip4:192.0.2.0/24", "redirect: the target's term decided");
	is_str(o.domain, "redir.test", "redirect: domain stays the checked one");
	mailfrom("198.51.100.1", "h.test", "a@redirall.test", &o);
	is_str(spf_res_name(o.result), "neutral",
	    "redirect next to all is ignored (RFC 7208 6.1)");

	mailfrom("198.51.100.1", "h.test", "a@exp.test", &o);
	is_str(spf_res_name(o.result), "fail", "exp: fail");
	is_str(o.explanation,
	    "198.51.100.1 is not one of exp.test's designated mail servers",
	    "exp: explanation expanded, strings glued");
	is_int(o.lookups, 2, "exp: the exp= TXT is one more lookup");
	mailfrom("192.0.2.1", "h.test", "a@exp.test", &o);
	is_str(o.explanation, "", "exp: no explanation unless fail");

	mailfrom("198.51.100.1", "h.test", "a@void.test", &o);
	is_str(spf_res_name(o.result), "permerror",
	    "void lookups: a third one is permerror");
	mailfrom("192.0.2.1", "h.test", "a@split.test", &o);
	is_str(spf_res_name(o.result), "pass", "TXT strings glued (RFC 7208 3.3)");
	dns_ctx_init(&ctx, zr);
	spf_check_mailfrom(chk, &ctx, "192.0.2.1", "h.test", "a@rt.test", &o);
	ok(o.result == SPF_RES_PASS && ctx.nlog == 2 &&
	    strcmp(ctx.log[1].qname, "1.2.0.192.rt.test") == 0,
	    "%%{iR}: upper-case transformer accepted (libspf2 rejects it)");
	dns_ctx_free(&ctx);
	mailfrom("198.51.100.7", "h.test", "a@cidr0.test", &o);
	is_str(spf_res_name(o.result), "pass", "a:/0 matches any IPv4 client");
	is_str(o.mechanism, "a:host.cidr0.test/0", "a:/0 reported as published");
}

/* hostile - nothing crashes, everything copied out is clean */
static void
hostile(void)
{
	static const char *const froms[] = {
		"", "@", "@@", "a@", "<", ">", "<<>>", "a@[192.0.2.1]",
		"\xff\xfe@pass.test", "a@b@pass.test", "a@pass.test.",
		"a@.pass.test", "a@pass..test", "a@-.test", "\"q@x\"@pass.test",
		"a@\xc3\x28.test", "a@pass.test\n", NULL
	};
	static const char *const ips[] = {
		"", "not-an-ip", "1.2.3", "1.2.3.4.5", "::ffff:", "[::1",
		"IPv6:", "999.1.1.1", NULL
	};
	struct spf_outcome o;
	char *big;
	bool clean = true, none = true;
	int i, rc;

	for (i = 0; froms[i] != NULL; i++) {
		rc = mailfrom("192.0.2.1", "h\xff.test", froms[i], &o);
		clean = clean && rc == 0 && outcome_clean(&o);
	}
	ok(clean, "hostile senders: no crash, outputs bounded and UTF-8");
	mailfrom("192.0.2.1", "h.test", "\xff\xfe@pass.test", &o);
	is_str(spf_res_name(o.result), "pass", "binary local part: still evaluated");
	ok(valid_utf8(o.identity) && strstr(o.identity, "\xef\xbf\xbd") != NULL,
	    "binary local part: identity cleaned to U+FFFD");
	for (i = 0; ips[i] != NULL; i++) {
		rc = mailfrom(ips[i], "h.test", "a@pass.test", &o);
		none = none && rc == SCOPE_EINVAL && o.result == SPF_RES_NONE &&
		    outcome_clean(&o);
	}
	ok(none, "bad client addresses: SCOPE_EINVAL, result none");
	is_int(mailfrom(NULL, NULL, NULL, &o), SCOPE_EINVAL,
	    "NULL client, helo and sender: SCOPE_EINVAL");
	is_int(spf_check_mailfrom(chk, NULL, "192.0.2.1", "h.test",
	    "a@pass.test", &o), SCOPE_EINVAL, "no DNS context: SCOPE_EINVAL");
	is_int(helo("192.0.2.1", NULL, &o), 0, "NULL HELO: checked");
	is_str(spf_res_name(o.result), "none", "NULL HELO: none");

	big = malloc(100001);
	memset(big, 'a', 100000);
	big[100000] = '\0';
	helo("192.0.2.1", big, &o);
	ok(o.result == SPF_RES_NONE && outcome_clean(&o),
	    "100 kB HELO: none, outputs bounded");
	memcpy(big + 100000 - 11, "@macro.test", 11);
	rc = mailfrom("192.0.2.1", "h.test", big, &o);
	ok(rc == 0 && o.result == SPF_RES_PASS && outcome_clean(&o),
	    "100 kB local part through %%{l}: the label is cut (RFC 7208 7.3), "
	    "x.test exists: pass");
	for (i = 0; i < 299; i++)
		big[i] = i % 2 ? '.' : 'b';
	memcpy(big + 299, "@macro.test", 12);
	dns_ctx_init(&ctx, zr);
	rc = spf_check_mailfrom(chk, &ctx, "192.0.2.1", "h.test", big, &o);
	ok(rc == 0 && o.result == SPF_RES_FAIL && ctx.nlog == 2 &&
	    strlen(ctx.log[1].qname) <= 253 &&
	    strcmp(ctx.log[1].qname + strlen(ctx.log[1].qname) - 8,
	    "b.x.test") == 0,
	    "expanded name of 306 characters: asked as its last 253 at most");
	dns_ctx_free(&ctx);
	free(big);

	mailfrom("192.0.2.1", "h.test", "a@bad.test", &o);
	is_str(spf_res_name(o.result), "permerror", "non-ASCII record: permerror");
	mailfrom("192.0.2.1", "h.test", "a@badmacro.test", &o);
	is_str(spf_res_name(o.result), "fail",
	    "huge macro digits: all parts (RFC 7208 7.3), no such name: fail");
	mailfrom("192.0.2.1", "h.test", "a@badmacro2.test", &o);
	is_str(spf_res_name(o.result), "permerror", "unclosed macro: permerror");
	mailfrom("192.0.2.1", "h.test", "a@huge.test", &o);
	is_str(spf_res_name(o.result), "permerror",
	    "term near libspf2's compile buffer: permerror");
	mailfrom("192.0.2.1", "h.test", "a@nul.test", &o);
	is_str(spf_res_name(o.result), "permerror",
	    "NUL inside a record: permerror, not a shorter record");

	is_str(spf_res_name(SPF_RES_NONE), "none", "name: none");
	is_str(spf_res_name(SPF_RES_SOFTFAIL), "softfail", "name: softfail");
	is_str(spf_res_name(SPF_RES_TEMPERROR), "temperror", "name: temperror");
	is_str(spf_res_name((enum spf_res)42), "permerror",
	    "name: out of range is permerror");
}

/* huge_record - one term of 100 macros, served in 255-byte strings */
static void
huge_record(void)
{
	char text[1024], rr[1200];
	size_t n = 0, i;

	n = (size_t)snprintf(text, sizeof(text), "v=spf1 exists:");
	for (i = 0; i < 100; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%%{d}.");
	snprintf(text + n, sizeof(text) - n, "x.test -all");
	n = (size_t)snprintf(rr, sizeof(rr), "huge.test. 300 IN TXT");
	for (i = 0; i < strlen(text); i += 255)
		n += (size_t)snprintf(rr + n, sizeof(rr) - n, " \"%.255s\"",
		    text + i);
	if (dns_zone_add(zr, rr) != 0)
		printf("# cannot add huge.test\n");
}

int
main(void)
{
	int i;

	plan(95);
	ok(spf_checker_new(&chk) == 0, "checker created");
	ok(dns_resolver_new_zones(&zr, 2000) == 0, "zone resolver created");
	for (i = 0; zone_rrs[i] != NULL; i++)
		if (dns_zone_add(zr, zone_rrs[i]) != 0)
			printf("# cannot add %s\n", zone_rrs[i]);
	huge_record();
	dns_zone_add_timeout(zr, "slow.test");
	dns_zone_set_sec(zr, "bogus.test", DNS_SEC_BOGUS);
	dns_zone_set_sec(zr, "err.test", DNS_SEC_ERROR);
	dns_zone_set_sec(zr, "secure.test", DNS_SEC_SECURE);
	results();
	identities();
	accounting();
	hostile();
	spf_checker_free(chk);
	dns_resolver_free(zr);
	return done_testing();
}
