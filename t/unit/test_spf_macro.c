/*
 * test_spf_macro.c - RFC 7208 section 7 macro expansion: every example
 * of section 7.4, then every macro letter with 0, 1, 2 and many DIGITs,
 * with and without "r", with each delimiter, on values that hold the
 * delimiters and values that do not, for IPv4 and IPv6 clients; first
 * through spf_macro_expand(), then end to end through a whole check
 * (the name an exists: term asks for), which is where libspf2's own
 * expansion used to drop a character. Expected values come from
 * ref_expand() below, written from the RFC's text, not from the code
 * under test.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "dns/dns.h"
#include "errors.h"
#include "auth/spf.h"
#include "auth/spf_macro.h"
#include "tap.h"

#define REF_MAX	1024

/* one sender and client for the matrix */
struct who {
	const char *local, *domain, *helo, *ip, *ptr;
};

static const struct who people[] = {
	/* values without any delimiter but '.' */
	{ "joel", "example.com", "mx.example.org", "192.0.2.3",
	    "mail.example.com" },
	/* values holding every delimiter */
	{ "x.y-z+w,v/u_t=s", "a-b.c_d.example.com", "h-1.h_2.example.org",
	    "2001:db8::cb01", "p-1.p_2+q.example.com" },
	{ "first=last", "d.example.com", "h.example.org", "2001:db8::1",
	    "x/y,z.example.com" },
	{ "someuser", "example.net", "mx.example.net", "198.51.100.7",
	    "unknown" },
};

/* ref_value - the value of a letter for who (RFC 7208 7.2) */
static void
ref_value(const struct who *w, char letter, char *out, size_t outsz)
{
	unsigned char a[16];
	bool six = strchr(w->ip, ':') != NULL;
	size_t n = 0;
	int i;

	switch (letter) {
	case 's':
		snprintf(out, outsz, "%s@%s", w->local, w->domain);
		break;
	case 'l':
		snprintf(out, outsz, "%s", w->local);
		break;
	case 'o':
	case 'd':
		snprintf(out, outsz, "%s", w->domain);
		break;
	case 'h':
		snprintf(out, outsz, "%s", w->helo);
		break;
	case 'p':
		snprintf(out, outsz, "%s", w->ptr);
		break;
	case 'v':
		snprintf(out, outsz, "%s", six ? "ip6" : "in-addr");
		break;
	case 'c':
		snprintf(out, outsz, "%s", w->ip);
		break;
	case 'r':
		snprintf(out, outsz, "receiver.example");
		break;
	case 't':
		snprintf(out, outsz, "1234567890");
		break;
	case 'i':
		if (!six) {
			snprintf(out, outsz, "%s", w->ip);
			break;
		}
		inet_pton(AF_INET6, w->ip, a);
		out[0] = '\0';
		for (i = 0; i < 32; i++)	/* one nibble per label */
			n += (size_t)snprintf(out + n, outsz - n, "%s%x",
			    i ? "." : "", i % 2 ? a[i / 2] & 15 : a[i / 2] >> 4);
		break;
	}
}

/* ref_expand - 7.3: split at the delimiters ("." if none), reverse if
 * asked, keep the 'keep' right-hand parts (all if 0 or too many), join
 * with ".", URL-escape (upper-case hex) all but RFC 3986 unreserved */
static void
ref_expand(const char *value, int keep, bool rev, const char *delims,
    bool url, char *out, size_t outsz)
{
	char *parts[REF_MAX], copy[REF_MAX], joined[REF_MAX], *p;
	int n = 0, i, from;
	size_t o = 0;

	snprintf(copy, sizeof(copy), "%s", value);
	if (delims[0] == '\0')
		delims = ".";
	parts[n++] = copy;
	for (p = copy; *p != '\0'; p++)
		if (strchr(delims, *p) != NULL) {
			*p = '\0';
			parts[n++] = p + 1;
		}
	for (i = 0; rev && i < n / 2; i++) {
		p = parts[i];
		parts[i] = parts[n - 1 - i];
		parts[n - 1 - i] = p;
	}
	from = keep > 0 && keep < n ? n - keep : 0;
	joined[0] = '\0';
	for (i = from; i < n; i++) {
		strncat(joined, i > from ? "." : "", sizeof(joined) -
		    strlen(joined) - 1);
		strncat(joined, parts[i], sizeof(joined) - strlen(joined) - 1);
	}
	for (p = joined; *p != '\0' && o + 4 < outsz; p++) {
		if (!url || strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP"
		    "QRSTUVWXYZ0123456789-._~", *p) != NULL)
			out[o++] = *p;
		else
			o += (size_t)snprintf(out + o, outsz - o, "%%%02X",
			    (unsigned char)*p);
	}
	out[o] = '\0';
}

/* fixed_ptr - %{p} of the direct tests */
static const char *
fixed_ptr(void *arg)
{
	return arg;
}

/* vars_for - spf_macro_vars of a who */
static void
vars_for(const struct who *w, struct spf_macro_vars *v, char *sender,
    size_t sendersz)
{
	memset(v, 0, sizeof(*v));
	snprintf(sender, sendersz, "%s@%s", w->local, w->domain);
	v->sender = sender;
	v->local = w->local;
	v->sender_dom = w->domain;
	v->domain = w->domain;
	v->helo = w->helo;
	v->receiver = "receiver.example";
	v->now = 1234567890;
	v->family = strchr(w->ip, ':') != NULL ? AF_INET6 : AF_INET;
	inet_pton(v->family, w->ip, v->addr);
	v->ptr_name = fixed_ptr;
	v->ptr_arg = (void *)w->ptr;
}

static const int digit_cases[] = { 0, 1, 2, 3, 5, 127, 128 };
static const char *const delim_cases[] = {
	"", ".", "-", "+", ",", "/", "_", "=", ".-+,/_=", "-_"
};

/* macro_text - "%{" letter digits r delims "}" */
static void
macro_text(char letter, int keep, bool rev, const char *delims, char *out,
    size_t outsz)
{
	char num[16] = "";

	if (keep > 0)
		snprintf(num, sizeof(num), "%d", keep);
	snprintf(out, outsz, "%%{%c%s%s%s}", letter, num, rev ? "r" : "",
	    delims);
}

/* matrix_direct - every letter and transformer through spf_macro_expand */
static void
matrix_direct(void)
{
	static const char letters[] = "slodiphvcrt";
	char sender[300], mac[64], val[REF_MAX], want[REF_MAX], *got;
	struct spf_macro_vars v;
	size_t w, l, d, k, r, u;
	unsigned bad, n;

	for (w = 0; w < sizeof(people) / sizeof(people[0]); w++) {
		vars_for(&people[w], &v, sender, sizeof(sender));
		for (l = 0; letters[l] != '\0'; l++) {
			bad = n = 0;
			ref_value(&people[w], letters[l], val, sizeof(val));
			for (u = 0; u < 2; u++)
			for (k = 0; k < sizeof(digit_cases) / sizeof(int); k++)
			for (r = 0; r < 2; r++)
			for (d = 0; d < sizeof(delim_cases) / sizeof(char *); d++) {
				macro_text(u ? (char)(letters[l] - 32) :
				    letters[l], digit_cases[k], r, delim_cases[d],
				    mac, sizeof(mac));
				ref_expand(val, digit_cases[k], r, delim_cases[d],
				    u, want, sizeof(want));
				got = spf_macro_expand(&v, mac, strlen(mac),
				    SPF_MACRO_EXPLAIN);
				n++;
				if (got == NULL || strcmp(got, want) != 0) {
					if (bad++ == 0)
						printf("# %s: got '%s', want '%s'\n",
						    mac, got ? got : "(null)", want);
				}
				free(got);
			}
			ok(bad == 0, "%%{%c} of %s@%s from %s: %u of %u right",
			    letters[l], people[w].local, people[w].domain,
			    people[w].ip, n - bad, n);
		}
	}
}

/* rfc_examples - RFC 7208 7.4, for strong-bad@email.example.com */
static void
rfc_examples(void)
{
	static const struct { const char *in, *out; } ex[] = {
		{ "%{s}", "strong-bad@email.example.com" },
		{ "%{o}", "email.example.com" },
		{ "%{d}", "email.example.com" },
		{ "%{d4}", "email.example.com" },
		{ "%{d3}", "email.example.com" },
		{ "%{d2}", "example.com" },
		{ "%{d1}", "com" },
		{ "%{dr}", "com.example.email" },
		{ "%{d2r}", "example.email" },
		{ "%{l}", "strong-bad" },
		{ "%{l-}", "strong.bad" },
		{ "%{lr}", "strong-bad" },
		{ "%{lr-}", "bad.strong" },
		{ "%{l1r-}", "strong" },
		{ "%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com" },
		{ "%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com" },
		{ "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}",
		    "bad.strong.lp.3.2.0.192.in-addr._spf.example.com" },
		{ "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}",
		    "3.2.0.192.in-addr.strong.lp._spf.example.com" },
		{ "%{d2}.trusted-domains.example.net",
		    "example.com.trusted-domains.example.net" },
	};
	const struct who w4 = { "strong-bad", "email.example.com",
	    "mx.example.org", "192.0.2.3", "mx.example.org" };
	const struct who w6 = { "strong-bad", "email.example.com",
	    "mx.example.org", "2001:db8::cb01", "mx.example.org" };
	char sender[300], *got;
	struct spf_macro_vars v;
	size_t i;

	vars_for(&w4, &v, sender, sizeof(sender));
	for (i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
		got = spf_macro_expand(&v, ex[i].in, strlen(ex[i].in),
		    SPF_MACRO_DOMAIN);
		is_str(got, ex[i].out, ex[i].in);
		free(got);
	}
	vars_for(&w6, &v, sender, sizeof(sender));
	got = spf_macro_expand(&v, "%{ir}.%{v}._spf.%{d2}", 21,
	    SPF_MACRO_DOMAIN);
	is_str(got, "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0"
	    ".1.0.0.2.ip6._spf.example.com", "IPv6 %{ir}.%{v}._spf.%{d2}");
	free(got);
}

/* syntax - what is not a macro-string, and the escapes */
static void
syntax(void)
{
	const struct who w = { "a%b c", "example.com", "h.example", "192.0.2.1",
	    "p.example" };
	char sender[300], *got;
	struct spf_macro_vars v;

	vars_for(&w, &v, sender, sizeof(sender));
	ok(spf_macro_expand(&v, "%{d0}", 5, SPF_MACRO_DOMAIN) == NULL,
	    "a zero DIGIT is an error");
	ok(spf_macro_expand(&v, "%{c}", 4, SPF_MACRO_DOMAIN) == NULL,
	    "%%{c} only in explanations");
	ok(spf_macro_expand(&v, "%{x}", 4, SPF_MACRO_EXPLAIN) == NULL,
	    "unknown letter");
	ok(spf_macro_expand(&v, "%{d", 3, SPF_MACRO_EXPLAIN) == NULL,
	    "unclosed macro");
	ok(spf_macro_expand(&v, "a%", 2, SPF_MACRO_EXPLAIN) == NULL,
	    "lone %% at the end");
	got = spf_macro_expand(&v, "%%%_%-%{d}", 10, SPF_MACRO_EXPLAIN);
	is_str(got, "% %20example.com", "%%, %_ and %- escapes");
	free(got);
	got = spf_macro_expand(&v, "%{l}.x.%{d}", 11, SPF_MACRO_LIBSPF2);
	is_str(got, "a%%b%_c.x.example.com",
	    "written for libspf2: '%' and SP escaped");
	free(got);
	got = spf_macro_expand(&v, "%{pr}.%{l1}.x.test", 18, SPF_MACRO_LIBSPF2);
	is_str(got, "%{pr}.a%%b%_c.x.test",
	    "written for libspf2: a plain %{p} is left for libspf2");
	free(got);
	got = spf_macro_expand(&v, "%{p1}.x.test", 12, SPF_MACRO_LIBSPF2);
	is_str(got, "example.x.test", "a %{p} with a DIGIT is expanded here");
	free(got);
}

/* truncation - §7.3: more than 253 characters lose labels on the left */
static void
truncation(void)
{
	char local[64 * 5], sender[400], *got;
	struct spf_macro_vars v;
	struct who w = { NULL, "example.com", "h.example", "192.0.2.1", "p" };
	size_t i;

	for (i = 0; i < 4 * 61; i++)
		local[i] = i % 61 == 60 ? '.' : 'a';
	local[4 * 61] = '\0';
	w.local = local;
	vars_for(&w, &v, sender, sizeof(sender));
	got = spf_macro_expand(&v, "%{l}.%{d}.%{d}", 14, SPF_MACRO_DOMAIN);
	ok(got != NULL && strlen(got) <= 253 &&
	    strcmp(got + strlen(got) - 23, "example.com.example.com") == 0,
	    "expansion of 268 characters cut from the left to %zu",
	    got ? strlen(got) : 0);
	free(got);
}

/* end to end: the name an exists: term asks for in a whole check */
static struct spf_checker *chk;
static struct dns_resolver *zr;

/* asked - run a check; the last name asked for (lower case) in out */
static int
asked(const char *ip, const char *from, char *out, size_t outsz,
    enum spf_res *res)
{
	struct spf_outcome o;
	struct dns_ctx ctx;
	size_t i;
	int rc;

	dns_ctx_init(&ctx, zr);
	rc = spf_check_mailfrom(chk, &ctx, ip, "helo.example.org", from, &o);
	out[0] = '\0';
	if (ctx.nlog > 0)
		snprintf(out, outsz, "%s", ctx.log[ctx.nlog - 1].qname);
	for (i = 0; out[i] != '\0'; i++)
		if (out[i] >= 'A' && out[i] <= 'Z')
			out[i] = (char)(out[i] + 32);
	dns_ctx_free(&ctx);
	*res = o.result;
	return rc;
}

/* regressions - the cases of issue 13: record, existing name, sender,
 * the name that must be asked for, the result */
static void
regressions(void)
{
	static const struct {
		const char *rr, *exists, *from, *want, *res;
	} c[] = {
		{ "example.com. 300 IN TXT \"v=spf1 exists:%{l1r+}.%{d} -all\"",
		    "joel.example.com. 300 IN A 127.0.0.2", "joel@example.com",
		    "joel.example.com", "pass" },
		{ "dnsbl.test. 300 IN TXT \"v=spf1 exists:%{l1r+-}.u.%{d} -all\"",
		    "someuser.u.dnsbl.test. 300 IN A 127.0.0.2",
		    "someuser@dnsbl.test", "someuser.u.dnsbl.test", "pass" },
		{ "strong.test. 300 IN TXT \"v=spf1 exists:%{l1r-}.u.%{d} -all\"",
		    NULL, "strong-bad@strong.test", "strong.u.strong.test",
		    "fail" },
		/* an expanded "/24" is part of the name, not a CIDR */
		{ "slash.test. 300 IN TXT \"v=spf1 a:h.slash.test.%{l} -all\"",
		    "h.slash.test.x/24. 300 IN A 192.0.2.9", "x/24@slash.test",
		    "h.slash.test.x/24", "pass" },
		/* %{d} of "include:i.tdot.test." is i.tdot.test */
		{ "tdot.test. 300 IN TXT \"v=spf1 include:i.tdot.test. -all\"",
		    "i.tdot.test. 300 IN TXT \"v=spf1 exists:%{d2}.z.test\"",
		    "a@tdot.test", "tdot.test.z.test", "fail" },
	};
	char q[300];
	enum spf_res res;
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		dns_zone_add(zr, c[i].rr);
		if (c[i].exists != NULL)
			dns_zone_add(zr, c[i].exists);
		asked("192.0.2.9", c[i].from, q, sizeof(q), &res);
		is_str(q, c[i].want, c[i].rr + strcspn(c[i].rr, ":") + 1);
		is_str(spf_res_name(res), c[i].res, c[i].from);
	}
}

/* matrix_checked - the domain-spec letters end to end, every transformer */
static void
matrix_checked(void)
{
	static const char letters[] = "slodihv";
	static const struct who base[] = {
		{ "joel", NULL, "helo.example.org", "192.0.2.3", "" },
		{ "x.y-z+w,v/u_t=s", NULL, "helo.example.org",
		    "2001:db8::cb01", "" },
	};
	char dom[64], rr[256], mac[64], val[REF_MAX], want[REF_MAX],
	    q[300], from[200];
	struct who w;
	enum spf_res res;
	size_t b, l, d, k, r;
	unsigned bad, n, zone = 0;

	for (b = 0; b < 2; b++)
	for (l = 0; letters[l] != '\0'; l++) {
		bad = n = 0;
		for (k = 0; k < sizeof(digit_cases) / sizeof(int); k++)
		for (r = 0; r < 2; r++)
		for (d = 0; d < sizeof(delim_cases) / sizeof(char *); d++) {
			snprintf(dom, sizeof(dom), "m%u-a_b.test", zone++);
			macro_text(letters[l], digit_cases[k], r, delim_cases[d],
			    mac, sizeof(mac));
			snprintf(rr, sizeof(rr), "%s 300 IN TXT \"v=spf1 "
			    "exists:%s.q.test -all\"", dom, mac);
			dns_zone_add(zr, rr);
			w = base[b];
			w.domain = dom;
			ref_value(&w, letters[l], val, sizeof(val));
			ref_expand(val, digit_cases[k], r, delim_cases[d],
			    false, want, sizeof(want));
			strncat(want, ".q.test", sizeof(want) - strlen(want) - 1);
			snprintf(from, sizeof(from), "%s@%s", w.local, dom);
			asked(w.ip, from, q, sizeof(q), &res);
			n++;
			if (strcasecmp(q, want) != 0 && bad++ == 0)
				printf("# %s for %s: asked '%s', want '%s'\n",
				    mac, from, q, want);
		}
		ok(bad == 0, "checked: exists:%%{%c...} from %s, %u of %u asked "
		    "right", letters[l], base[b].ip, n - bad, n);
	}
}

int
main(void)
{
	plan(44 + 20 + 9 + 1 + 10 + 14 + 2);
	matrix_direct();
	rfc_examples();
	syntax();
	truncation();
	ok(spf_checker_new(&chk) == 0, "checker created");
	ok(dns_resolver_new_zones(&zr, 2000) == 0, "zone resolver created");
	regressions();
	matrix_checked();
	spf_checker_free(chk);
	dns_resolver_free(zr);
	return done_testing();
}
