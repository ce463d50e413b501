/*
 * test_tags.c - the TagRules file: every kind, exact, wildcard and
 * regular expression patterns, case, local addresses and ports (IPv6 in
 * its several spellings), client networks (IPv4, IPv6, IPv4-mapped),
 * sender subdomains against lookalikes, each tag once and in order, the
 * TAGS_SET_MAX cap, merging, greylist modes, every error message with
 * its line, a pathological wildcard that must finish fast, and the
 * example of smtpscope-tags(5).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "errors.h"
#include "greylist/greylist.h"
#include "tags.h"
#include "tap.h"

static char E[512];

/* load - rules from text (named "t.rules" in errors); NULL on error,
 * the message in E and the code in *rc */
static struct tags *
load_rc(const char *text, int *rc)
{
	struct tags *t = NULL;
	FILE *fp = fmemopen((void *)text, strlen(text), "r");

	E[0] = '\0';
	if (fp == NULL) {
		printf("Bail out! fmemopen: %s\n", strerror(errno));
		exit(1);
	}
	*rc = tags_load_stream(&t, fp, "t.rules", E, sizeof(E));
	fclose(fp);
	return t;
}

static struct tags *
load(const char *text)
{
	int rc;
	struct tags *t = load_rc(text, &rc);

	if (t == NULL)
		printf("# load failed: %s\n", E);
	return t;
}

/* err_of - the error message rules give ("OK" when they load) */
static const char *
err_of(const char *text)
{
	int rc;
	struct tags *t = load_rc(text, &rc);

	if (t != NULL) {
		tags_free(t);
		return "OK";
	}
	return E;
}

/* show - a set as "a,b" and "+N" when N were dropped */
static const char *
show(const struct tags *t, const struct tags_set *set)
{
	static char out[2048];
	size_t n = 0;
	unsigned i;

	out[0] = '\0';
	for (i = 0; i < set->n && n < sizeof(out); i++)
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s",
		    i > 0 ? "," : "", tags_name(t, set->idx[i]));
	if (set->dropped > 0 && n < sizeof(out))
		snprintf(out + n, sizeof(out) - n, "+%u", set->dropped);
	return out;
}

static const char *
rcpt(const struct tags *t, const char *addr)
{
	struct tags_set set = { { 0 }, 0, 0 };

	tags_match_rcpt(t, addr, &set);
	return show(t, &set);
}

static const char *
sender(const struct tags *t, const char *addr)
{
	struct tags_set set = { { 0 }, 0, 0 };

	tags_match_sender(t, addr, &set);
	return show(t, &set);
}

static const char *
sess(const struct tags *t, const char *local, unsigned port,
    const char *client)
{
	struct tags_set set = { { 0 }, 0, 0 };

	tags_match_session(t, local, port, client, &set);
	return show(t, &set);
}

/* test_rcpt - exact, wildcard, regex, case, domains */
static void
test_rcpt(void)
{
	struct tags *t = load(
	    "# recipients\n"
	    "\n"
	    "tag exact rcpt Probe@Example.ORG\n"
	    "tag wild rcpt probe-*@example.org\n"
	    "tag q rcpt p?@example.org\n"
	    "tag re rcpt ~^v6-[0-9]+@(ipv6|v6)\\.example\\.net$\n"
	    "tag sp rcpt ~^a b@\n"
	    "tag cls rcpt ~^[[:alpha:]]{3}[[:digit:]]{2}[]x-]@\n"
	    "\ttag  dom   rcpt-domain   *.Example.Org  \r\n"
	    "tag apex rcpt-domain example.org\n"
	    "tag any rcpt-domain ~.\n");

	ok(t != NULL, "rcpt rules load");
	is_str(rcpt(t, "probe@example.org"), "exact,apex,any",
	    "exact address, case-insensitive");
	is_str(rcpt(t, "PROBE@EXAMPLE.ORG"), "exact,apex,any",
	    "upper-case input matches");
	is_str(rcpt(t, "<probe@example.org>"), "exact,apex,any",
	    "angle brackets are removed");
	is_str(rcpt(t, "probe-17@example.org"), "wild,apex,any",
	    "wildcard * matches");
	is_str(rcpt(t, "probe-@example.org"), "wild,apex,any",
	    "wildcard * matches empty text");
	is_str(rcpt(t, "probe@example.org.evil"), "any",
	    "exact is whole text");
	is_str(rcpt(t, "p1@example.org"), "q,apex,any", "? one character");
	is_str(rcpt(t, "p12@example.org"), "apex,any", "? not two");
	is_str(rcpt(t, "p\xc3\xa9@example.org"), "q,apex,any",
	    "? one UTF-8 character");
	is_str(rcpt(t, "v6-42@IPv6.example.net"), "re,any",
	    "regex, case-insensitive");
	is_str(rcpt(t, "v6-x@ipv6.example.net"), "any", "regex not matching");
	is_str(rcpt(t, "Abc12]@x"), "cls,any",
	    "regex with classes, ']' first in brackets, intervals");
	is_str(rcpt(t, "Abc123@x"), "any", "classes not matching");
	is_str(rcpt(t, "a b@x"), "sp,any", "regex may contain a blank");
	is_str(rcpt(t, "x@mx.example.org"), "dom,any",
	    "rcpt-domain wildcard subdomain");
	is_str(rcpt(t, "x@a.b.EXAMPLE.ORG."), "dom,any",
	    "rcpt-domain: case and final dot");
	is_str(rcpt(t, "x@example.org"), "apex,any",
	    "*.example.org is not example.org");
	is_str(rcpt(t, "x@notexample.org"), "any",
	    "*.example.org is not notexample.org");
	is_str(rcpt(t, "a@b@example.org"), "apex,any",
	    "domain after the last @");
	is_str(rcpt(t, "postmaster"), "", "no @: no domain, no match");
	is_str(rcpt(t, ""), "", "empty recipient");
	is_str(rcpt(t, NULL), "", "NULL recipient");
	tags_free(t);
}

/* test_long - inputs past 320 bytes are cut; a bad wildcard is fast */
static void
test_long(void)
{
	char big[4000], pat[200];
	struct tags *t;
	clock_t c0;
	int i;

	memset(big, 'a', 300);
	big[300] = '\0';
	snprintf(pat, sizeof(pat), "tag slow rcpt *a*a*a*a*a*b\n"
	    "tag fast rcpt *a*a*a*a*a*\n");
	t = load(pat);
	c0 = clock();
	for (i = 0; i < 100; i++)
		rcpt(t, big);
	is_str(rcpt(t, big), "fast", "*a*a*a*a*a*b fails on 300 a's");
	ok((double)(clock() - c0) / CLOCKS_PER_SEC < 1.0,
	    "100 pathological wildcard matches under a second");
	tags_free(t);

	t = load("tag long rcpt-domain ~^x{309}$\ntag cut rcpt ~^a{320}$\n");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	big[10] = '@';
	is_str(rcpt(t, big), "long", "a long domain is cut at 320 bytes");
	memset(big, 'a', sizeof(big) - 1);
	is_str(rcpt(t, big), "cut", "3999 bytes seen as 320");
	big[320] = '\0';
	is_str(rcpt(t, big), "cut", "320 bytes seen whole");
	big[319] = '\0';
	is_str(rcpt(t, big), "", "319 bytes do not match a{320}");
	tags_free(t);
}

/* test_sender - domain or a subdomain; lookalikes and the null sender */
static void
test_sender(void)
{
	struct tags *t = load("tag ex sender-domain Example.COM\n"
	    "tag sub sender-domain mail.example.com.\n"
	    "tag ex2 sender-domain example.com\n");

	is_str(sender(t, "a@example.com"), "ex,ex2", "domain itself");
	is_str(sender(t, "a@EXAMPLE.com."), "ex,ex2", "case and final dot");
	is_str(sender(t, "a@mail.example.com"), "ex,sub,ex2", "subdomain");
	is_str(sender(t, "a@x.y.mail.example.com"), "ex,sub,ex2",
	    "deeper subdomain");
	is_str(sender(t, "a@evil-example.com"), "",
	    "evil-example.com is no subdomain");
	is_str(sender(t, "a@notexample.com"), "", "notexample.com neither");
	is_str(sender(t, "a@example.com.evil"), "", "nor example.com.evil");
	is_str(sender(t, "a@ample.com"), "", "nor a shorter domain");
	is_str(sender(t, ""), "", "null sender never matches");
	is_str(sender(t, "<>"), "", "<> never matches");
	is_str(sender(t, "example.com"), "", "no @, no domain");
	is_str(sender(t, "<a@example.com>"), "ex,ex2", "brackets removed");
	tags_free(t);
}

/* test_local - addresses in binary, IPv6 spellings, ports */
static void
test_local(void)
{
	struct tags *t = load(
	    "tag v4 local 192.0.2.1:25\n"
	    "tag v4any local 192.0.2.1\n"
	    "tag v6 local [2001:db8::1]:25\n"
	    "tag v6any local [2001:DB8:0::1]\n"
	    "tag v6bare local 2001:db8::1\n"
	    "tag sub local *:587\n"
	    "tag all local *\n"
	    "tag allstar local *:*\n"
	    "tag v4star local 192.0.2.1:*\n");

	ok(t != NULL, "local rules load");
	is_str(sess(t, "192.0.2.1", 25, NULL), "v4,v4any,all,allstar,v4star",
	    "IPv4 and port");
	is_str(sess(t, "192.0.2.1", 26, NULL), "v4any,all,allstar,v4star",
	    "IPv4 other port");
	is_str(sess(t, "192.0.2.2", 587, NULL), "sub,all,allstar",
	    "*:587 any address");
	is_str(sess(t, "2001:db8::1", 25, NULL),
	    "v6,v6any,v6bare,all,allstar", "IPv6");
	is_str(sess(t, "2001:DB8:0:0:0:0:0:1", 25, NULL),
	    "v6,v6any,v6bare,all,allstar", "IPv6 long form, upper case");
	is_str(sess(t, "[IPv6:2001:db8::1]", 26, NULL),
	    "v6any,v6bare,all,allstar", "IPv6 in brackets with IPv6: prefix");
	is_str(sess(t, "::ffff:192.0.2.1", 25, NULL),
	    "v4,v4any,all,allstar,v4star", "IPv4-mapped local address");
	is_str(sess(t, "2001:db8::2", 25, NULL), "all,allstar",
	    "other IPv6 address");
	is_str(sess(t, NULL, 587, NULL), "sub,all,allstar",
	    "unknown address: only '*' rules");
	is_str(sess(t, "garbage", 25, "also garbage"), "all,allstar",
	    "unparsable addresses");
	tags_free(t);
}

/* test_client - networks, v4, v6, mapped */
static void
test_client(void)
{
	struct tags *t = load(
	    "tag net4 client 198.51.100.0/24\n"
	    "tag host4 client 198.51.100.7\n"
	    "tag all4 client 0.0.0.0/0\n"
	    "tag net6 client 2001:DB8:1::/48\n"
	    "tag host6 client [2001:db8:1::7]\n"
	    "tag all6 client ::/0\n"
	    "tag mapped client ::ffff:203.0.113.0/120\n"
	    "tag odd client 203.0.113.128/25\n");

	ok(t != NULL, "client rules load");
	is_str(sess(t, NULL, 0, "198.51.100.7"), "net4,host4,all4",
	    "IPv4 host and network");
	is_str(sess(t, NULL, 0, "198.51.101.7"), "all4", "outside the /24");
	is_str(sess(t, NULL, 0, "::ffff:198.51.100.7"), "net4,host4,all4",
	    "IPv4-mapped client matches IPv4 rules");
	is_str(sess(t, NULL, 0, "2001:db8:1:ffff::7"), "net6,all6",
	    "IPv6 network");
	is_str(sess(t, NULL, 0, "2001:db8:1:0:0:0:0:7"), "net6,host6,all6",
	    "IPv6 host, long form");
	is_str(sess(t, NULL, 0, "2001:db8:2::1"), "all6", "outside the /48");
	is_str(sess(t, NULL, 0, "203.0.113.200"), "all4,mapped,odd",
	    "IPv4-mapped rule is an IPv4 /24; /25 upper half");
	is_str(sess(t, NULL, 0, "203.0.113.1"), "all4,mapped",
	    "/25 lower half not in the upper");
	is_str(sess(t, "192.0.2.1", 25, NULL), "", "no client address");
	tags_free(t);
}

/* test_order - each tag once, first-match order, the cap, merging */
static void
test_order(void)
{
	char text[8192];
	struct tags_set a = { { 0 }, 0, 0 }, b = { { 0 }, 0, 0 };
	struct tags *t;
	size_t n = 0;
	int i;

	t = load("tag b rcpt x@y\ntag a rcpt-domain y\ntag b rcpt-domain *\n"
	    "tag c rcpt *\n");
	is_str(rcpt(t, "x@y"), "b,a,c", "each tag once, rule order");
	tags_match_rcpt(t, "x@y", &a);
	tags_match_rcpt(t, "q@y", &a);
	is_str(show(t, &a), "b,a,c", "adding again keeps the set");
	tags_match_rcpt(t, "q@z", &b);
	is_str(show(t, &b), "b,c", "second recipient");
	tags_merge(&b, &a);
	is_str(show(t, &b), "b,c,a", "merge adds the missing ones after");
	is_str(tags_name(t, 99), "?", "name out of range");
	tags_free(t);

	for (i = 0; i < 20; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
		    "tag t%02d rcpt-domain example.org\n", i);
	n += (size_t)snprintf(text + n, sizeof(text) - n,
	    "tag t00 rcpt *\ntag t19 rcpt *\n");
	t = load(text);
	is_str(rcpt(t, "a@example.org"), "t00,t01,t02,t03,t04,t05,t06,t07,"
	    "t08,t09,t10,t11,t12,t13,t14,t15+4",
	    "16 tags kept, 4 dropped, each counted once");
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	tags_match_rcpt(t, "a@example.org", &a);
	tags_merge(&b, &a);
	is_int(b.n, TAGS_SET_MAX, "merge of a full set is full");
	is_int(b.dropped, 4, "merge keeps the dropped count");
	tags_free(t);
}

/* test_greylist - modes, first tag with a line, errors */
static void
test_greylist(void)
{
	struct tags_set set = { { 0 }, 0, 0 };
	struct tags *t = load(
	    "greylist gl-enf enforce\n"
	    "tag plain rcpt-domain example.org\n"
	    "tag gl-obs rcpt-domain obs.example.org\n"
	    "tag gl-enf rcpt-domain *.example.org\n"
	    "tag gl-off rcpt off@example.org\n"
	    "greylist gl-obs OBSERVE\n"
	    "greylist gl-off off\n");

	ok(t != NULL, "greylist lines load (before and after the rules)");
	tags_match_rcpt(t, "a@example.org", &set);
	is_int(tags_greylist(t, &set), -1, "no greylist line: -1");
	tags_match_rcpt(t, "a@obs.example.org", &set);
	is_int(tags_greylist(t, &set), GREYLIST_OBSERVE,
	    "first tag with a line: observe before enforce");
	memset(&set, 0, sizeof(set));
	tags_match_rcpt(t, "a@x.example.org", &set);
	is_int(tags_greylist(t, &set), GREYLIST_ENFORCE, "enforce");
	memset(&set, 0, sizeof(set));
	tags_match_rcpt(t, "off@example.org", &set);
	is_int(tags_greylist(t, &set), GREYLIST_OFF, "off is 0");
	is_int(tags_greylist(NULL, &set), -1, "no rules: -1");
	tags_free(t);
}

/* one error case: rules and the message */
struct err_case {
	const char *text;
	const char *err;
};

static const struct err_case err_cases[] = {
	{ "tag a rcpt x\nfoo a rcpt x\n",
	    "t.rules:2: unknown keyword 'foo' (tag or greylist)" },
	{ "\n\ntag a mailfrom x\n",
	    "t.rules:3: unknown kind 'mailfrom' (rcpt, rcpt-domain, "
	    "sender-domain, local or client)" },
	{ "tag\n", "t.rules:1: missing tag name" },
	{ "tag a\n", "t.rules:1: missing kind (rcpt, rcpt-domain, "
	    "sender-domain, local or client)" },
	{ "# c\ntag a rcpt   \n", "t.rules:2: missing pattern" },
	{ "tag a/b rcpt x\n", "t.rules:1: bad tag name 'a/b' (1 to 63 "
	    "letters, digits, '.', '_' or '-')" },
	{ "tag 0123456789012345678901234567890123456789012345678901234567890"
	    "123 rcpt x\n", "t.rules:1: bad tag name '0123456789012345678901"
	    "234567890123456789012345678901234567890123' (1 to 63 letters, "
	    "digits, '.', '_' or '-')" },
	{ "tag a rcpt ~(x\n",	/* the rest is regerror()'s, libc's own */
	    "t.rules:1: bad regular expression: *" },
	{ "tag a rcpt ~\n", "t.rules:1: empty regular expression" },
	{ "tag a rcpt ~(a)\\1\n", "t.rules:1: bad regular expression: "
	    "back-references are not allowed" },
	{ "tag a rcpt ~((a{200}){200}){20}\n", "t.rules:1: regular "
	    "expression too large (repetition counts expand to more than "
	    "1024)" },
	{ "tag a rcpt ~^a|a++++++++++++++++++++a)+$\n", "t.rules:1: bad "
	    "regular expression: repetition operator repeated" },
	{ "tag a rcpt ~^(a|a*?)\n", "t.rules:1: bad regular expression: "
	    "repetition operator repeated" },
	{ "tag a rcpt ~(((((((((((a)+)+)+)+)+)+)+)+)+)+)+\n", "t.rules:1: "
	    "regular expression too large (repetition counts expand to more "
	    "than 1024)" },
	{ "tag a rcpt x@y # comment\n", "t.rules:1: blank inside 'x@y # "
	    "comment' (only a regular expression may contain one)" },
	{ "tag a sender-domain ex..com\n",
	    "t.rules:1: bad domain 'ex..com'" },
	{ "tag a sender-domain *.example.com\n",
	    "t.rules:1: bad domain '*.example.com'" },
	{ "tag a local 192.0.2.300:25\n", "t.rules:1: bad address "
	    "'192.0.2.300' (IPv4, [IPv6] or '*')" },
	{ "tag a local 192.0.2.1:0\n",
	    "t.rules:1: bad port '0' (1 to 65535 or '*')" },
	{ "tag a local [2001:db8::1]:65536\n",
	    "t.rules:1: bad port '65536' (1 to 65535 or '*')" },
	{ "tag a local [2001:db8::1\n", "t.rules:1: bad address "
	    "'[2001:db8::1' (no closing ']')" },
	{ "tag a local [2001:db8::1]25\n",
	    "t.rules:1: bad address '[2001:db8::1]25'" },
	{ "tag a client 198.51.100.0/33\n",
	    "t.rules:1: bad prefix length '33' (0 to 32)" },
	{ "tag a client 2001:db8::/129\n",
	    "t.rules:1: bad prefix length '129' (0 to 128)" },
	{ "tag a client 198.51.100.1/24\n", "t.rules:1: host bits set in "
	    "'198.51.100.1/24' (the network is 198.51.100.0/24)" },
	{ "tag a client 2001:db8::1/64\n", "t.rules:1: host bits set in "
	    "'2001:db8::1/64' (the network is 2001:db8::/64)" },
	{ "tag a client ::ffff:192.0.2.0/64\n", "t.rules:1: bad prefix "
	    "length '64' for an IPv4-mapped network (96 to 128)" },
	{ "tag a client example.net\n",
	    "t.rules:1: bad address 'example.net'" },
	{ "tag a rcpt x\ngreylist a\n", "t.rules:2: missing greylist mode "
	    "(off, observe or enforce)" },
	{ "tag a rcpt x\ngreylist a strict\n", "t.rules:2: unknown greylist "
	    "mode 'strict' (off, observe or enforce)" },
	{ "tag a rcpt x\ngreylist a off now\n",
	    "t.rules:2: trailing text after 'off'" },
	{ "tag a rcpt x\ngreylist a off\n\ngreylist a enforce\n",
	    "t.rules:4: second greylist line for tag a (the first is line 2)" },
	{ "tag a rcpt x\n#\ngreylist b enforce\ntag c rcpt y\n",
	    "t.rules:3: greylist line for tag b, which no tag rule gives" },
	{ "greylist\n", "t.rules:1: missing tag name" },
	{ "tag a rcpt x\ttag\x01\n", "t.rules:1: control character in line" },
};

/* test_errors - every message with its line */
static void
test_errors(void)
{
	char big[TAGS_NAME_MAX * 300 + 8000];
	size_t i, n = 0, last = 0, len;
	const char *got;
	int rc;
	struct tags *t;
	FILE *fp;

	for (i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
		char name[64];

		snprintf(name, sizeof(name), "error %zu: %.40s", i + 1,
		    err_cases[i].err + 8);
		len = strlen(err_cases[i].err);
		got = err_of(err_cases[i].text);
		if (err_cases[i].err[len - 1] == '*' && strlen(got) > len &&
		    strncmp(got, err_cases[i].err, len - 1) == 0)
			got = err_cases[i].err;
		is_str(got, err_cases[i].err, name);
	}

	/* a NUL in the middle (err_of uses strlen, so by hand) */
	fp = fmemopen((void *)"tag a rcpt x\0y\n", 15, "r");
	rc = tags_load_stream(&t, fp, "t.rules", E, sizeof(E));
	fclose(fp);
	is_str(E, "t.rules:1: NUL byte in line", "NUL byte in line");
	ok(rc == SCOPE_EINVAL && t == NULL, "NUL: EINVAL, no rules");

	memset(big, 'x', 5000);
	memcpy(big, "\ntag a rcpt ", 12);
	big[5000] = '\0';
	is_str(err_of(big), "t.rules:2: line too long (more than 4096 bytes)",
	    "line too long");
	memcpy(big + 4097, "\n", 2);
	is_str(err_of(big), "t.rules:2: pattern longer than 320 bytes",
	    "a 4096-byte line is read; the pattern is too long");
	memcpy(big, "tag a rcpt ~", 12);
	memset(big + 12, 'x', 1100);
	big[1112] = '\0';
	is_str(err_of(big), "t.rules:1: regular expression longer than 1024 "
	    "bytes", "regex too long");

	for (i = 0; i <= 1024; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n,
		    "tag a rcpt x\n");
	is_str(err_of(big), "t.rules:1025: more than 1024 rules",
	    "1025 rules");
	for (i = 0, n = 0; i <= 256; i++) {
		last = n;
		n += (size_t)snprintf(big + n, sizeof(big) - n,
		    "tag n%zu rcpt x\n", i);
	}
	is_str(err_of(big), "t.rules:257: more than 256 tag names",
	    "257 tag names");
	big[last] = '\0';	/* without the last line */
	ok(strcmp(err_of(big), "OK") == 0, "256 tag names load");
	for (i = 0, n = 0; i < 66; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n,
		    "tag a rcpt ~^a{1000}$\n");
	is_str(err_of(big), "t.rules:66: regular expressions too large "
	    "together (more than 65536)", "regex budget of the file");
	big[n - 22] = '\0';
	ok(strcmp(err_of(big), "OK") == 0, "65 large expressions load");
}

/* test_files - tags_load from a path, unreadable files */
static void
test_files(void)
{
	char path[] = "/tmp/test_tags.XXXXXX";
	struct tags *t = (struct tags *)1;
	int fd = mkstemp(path), rc;
	FILE *fp;

	fp = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (fp == NULL) {
		printf("Bail out! mkstemp\n");
		exit(1);
	}
	fputs("tag a rcpt x@y\ntag b rcpt z\n", fp);
	fclose(fp);
	rc = tags_load(&t, path, E, sizeof(E));
	ok(rc == SCOPE_OK && t != NULL, "tags_load reads a file");
	is_str(rcpt(t, "X@Y"), "a", "and its rules match");
	tags_free(t);
	rc = tags_load(&t, "/nonexistent/tags.rules", E, sizeof(E));
	is_int(rc, SCOPE_EIO, "missing file: EIO");
	is_str(E, "/nonexistent/tags.rules: No such file or directory",
	    "missing file: FILE: strerror");
	ok(t == NULL, "missing file: no rules");
	rc = tags_load(&t, "/dev/zero", E, sizeof(E));
	ok(rc == SCOPE_EIO && t == NULL && strcmp(E, "/dev/zero: not a "
	    "regular file") == 0, "a device is refused, not read (%s)", E);
	fp = fopen(path, "w");
	fputs("tag a rcpt x@y\n\ntag b local 192.0.2.1:99999\n", fp);
	fclose(fp);
	rc = tags_load(&t, path, E, sizeof(E));
	ok(rc == SCOPE_EINVAL && strstr(E, ":3: bad port '99999'") != NULL &&
	    strncmp(E, path, strlen(path)) == 0, "file error names FILE:3");
	unlink(path);

	ok(strcmp(err_of(""), "OK") == 0, "an empty file is no error");
	t = load("# only comments\n   # indented\n\n\t\n");
	is_str(rcpt(t, "a@b"), "", "comments only: no tags");
	tags_free(t);
	tags_free(NULL);
	tags_match_rcpt(NULL, "a@b", NULL);
	tags_match_session(NULL, NULL, 0, NULL, NULL);
	tags_match_sender(NULL, NULL, NULL);
	ok(1, "NULL rules and sets are harmless");
}

/* test_manual - the example of smtpscope-tags(5) loads and does what the
 * page says */
static void
test_manual(void)
{
	const char *src = getenv("top_srcdir");
	char path[1024], line[512], text[8192];
	struct tags_set msg = { { 0 }, 0, 0 }, rc = { { 0 }, 0, 0 };
	struct tags *t = NULL;
	bool in = false;
	size_t n = 0;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/docs/smtpscope-tags.5",
	    src != NULL ? src : "../..");
	text[0] = '\0';
	if ((fp = fopen(path, "r")) != NULL) {
		while (fgets(line, sizeof(line), fp) != NULL) {
			if (strncmp(line, ".ft ", 4) == 0)
				in = strncmp(line, ".ft CW", 6) == 0;
			else if (in && n < sizeof(text))
				n += (size_t)snprintf(text + n,
				    sizeof(text) - n, "%s", line);
		}
		fclose(fp);
	}
	ok(n > 0, "the manual's example found in %s", path);
	t = load(text);
	ok(t != NULL, "the manual's example loads");
	tags_match_session(t, "192.0.2.25", 25, "203.0.113.9", &msg);
	tags_match_rcpt(t, "run-17-3@grey.example.org", &rc);
	tags_merge(&msg, &rc);
	is_str(show(t, &msg), "greylisting,probe", "example: outside client");
	is_int(tags_greylist(t, &msg), GREYLIST_ENFORCE,
	    "example: greylisting enforced");
	memset(&msg, 0, sizeof(msg));
	tags_match_session(t, "192.0.2.25", 25, "198.51.100.9", &msg);
	tags_merge(&msg, &rc);
	is_str(show(t, &msg), "lab,greylisting,probe", "example: lab client");
	is_int(tags_greylist(t, &msg), GREYLIST_OFF,
	    "example: lab comes first, greylisting off");
	tags_free(t);
}

int
main(void)
{
	plan(137);
	test_rcpt();
	test_long();
	test_sender();
	test_local();
	test_client();
	test_order();
	test_greylist();
	test_errors();
	test_files();
	test_manual();
	return done_testing();
}
