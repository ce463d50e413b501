/*
 * test_addrlist.c - the From: address-list parser: plain, obsolete and
 * hostile forms, limits, and reads bounded by len.
 *
 * Each table case compares one summary of the whole outcome
 * ("domains|mailboxes|nodomain|syntax_error"), so any field that drifts
 * fails the case and the diagnostics show every field.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/addrlist.h"
#include "tap.h"

struct addr_case {
	const char *value;
	const char *want;	/* "d1,d2|nmailbox|nodomain|syntax_error" */
	const char *name;
};

static const struct addr_case cases[] = {
	{ "a@example.com", "example.com|1|0|0", "bare addr-spec" },
	{ " a@example.com", "example.com|1|0|0", "leading space as received" },
	{ "<a@example.com>", "example.com|1|0|0", "angle addr, no name" },
	{ "Alice <a@Example.COM>", "example.com|1|0|0",
	  "display name, domain lowercased" },
	{ "a@example.com.", "example.com|1|0|0", "trailing dot removed" },
	{ "\"Alice Q. Public\" <a@example.com>", "example.com|1|0|0",
	  "quoted display name with a dot" },
	{ "\"a@good.example\" <b@evil.example>", "evil.example|1|0|0",
	  "address inside a quoted name is only a name" },
	{ "\"x \\\" <y@good.example>\" <b@evil.example>", "evil.example|1|0|0",
	  "escaped quote inside the quoted name" },
	{ "\"quoted local\"@example.com", "example.com|1|0|0",
	  "quoted local part" },
	{ "a.b.c@example.com", "example.com|1|0|0", "dotted local part" },
	{ "a . b @ example . com", "example.com|1|0|0",
	  "obs: CFWS around dots and @" },
	{ "Alice (the (nested) \\) one) <a@example.com> (x)",
	  "example.com|1|0|0", "nested comments with escapes" },
	{ "a@(comment)example.com", "example.com|1|0|0",
	  "comment between @ and domain" },
	{ "(b@evil.example) a@good.example", "good.example|1|0|0",
	  "address in a comment is ignored" },
	{ "Alice\r\n <a@example.com>", "example.com|1|0|0", "CRLF folding" },
	{ "Alice\n\t<a@example.com>", "example.com|1|0|0", "bare LF folding" },
	{ "=?utf-8?q?J=C3=B6rg?= <j@example.de>", "example.de|1|0|0",
	  "encoded word as display name" },
	{ "=?utf-8?b?SsO2cmc=?= <j@example.de>", "example.de|1|0|0",
	  "base64 encoded word" },
	{ "J\xc3\xb6rg <j@example.de>", "example.de|1|0|0",
	  "raw UTF-8 display name" },
	{ "<@route.example,@r2.example:a@example.com>", "example.com|1|0|0",
	  "obs route skipped" },
	{ "a@example.com, b@example.org", "example.com,example.org|2|0|0",
	  "two mailboxes" },
	{ "a@x.example,,b@x.example, ", "x.example,x.example|2|0|0",
	  "obs-mbox-list empty elements" },
	{ "undisclosed-recipients:;", "|0|0|0", "empty group" },
	{ "Team: a@x.example, B <b@y.example>;", "x.example,y.example|2|0|0",
	  "group with members" },
	{ "Team: a@x.example, c@z.example", "x.example,z.example|2|0|1",
	  "group without ';'" },
	{ "a@[192.0.2.1]", "|1|1|0", "domain literal: no usable domain" },
	{ "<a@[IPv6:2001:db8::1]>", "|1|1|0", "IPv6 literal" },
	{ "a@sub_domain.example", "sub_domain.example|1|0|0",
	  "underscore allowed" },
	{ "a@ex$ample.com", "|1|1|1", "bad character in domain" },
	{ "a@example..com", "|1|1|1", "empty label" },
	{ "a@.example.com", "|1|1|1", "leading dot" },
	{ "a@", "|1|1|1", "nothing after @" },
	{ "@example.com", "example.com|1|0|1", "no local part" },
	{ "alice", "|1|1|1", "name without address" },
	{ "", "|0|0|0", "empty value" },
	{ "   \r\n ", "|0|0|0", "only folding white space" },
	{ "<>", "|1|1|1", "null address" },
	{ "a@good.example <b@evil.example>", "good.example|2|1|1",
	  "addr-spec then angle addr: the rest is unusable" },
	{ "A <a@good.example> <b@evil.example>", "good.example|2|1|1",
	  "two angle addrs in one mailbox" },
	{ "A <a@good.example", "good.example|1|0|1", "missing '>'" },
	{ "\"unterminated <a@evil.example>", "|1|1|1",
	  "unterminated quoted string swallows the rest" },
	{ "(unterminated a@evil.example", "|0|0|1",
	  "unterminated comment swallows the rest" },
	{ "a@[1.2.3.4", "|1|1|1", "unterminated domain literal" },
	{ "a@b@c.example", "b|2|1|1", "two @" },
	{ "a@example.com; b@example.org", "example.com,example.org|2|0|1",
	  "stray ';' outside a group" },
	{ "G1: G2: a@x.example;;", "x.example|1|0|1", "nested group" },
	{ "a@exa mple.com", "exa|2|1|1", "space inside the domain" },
	{ "\xff\xfe@\xff.example", "|1|1|1", "8-bit domain is not a DNS name" },
	{ ")a@example.com", "|1|1|1", "stray ')'" },
	{ "a@-x-.example", "-x-.example|1|0|0",
	  "hyphens anywhere are plausible" },
};

/* summary - one string for the whole outcome */
static void
summary(const struct addrlist *al, char *buf, size_t bufsz)
{
	size_t used = 0;
	unsigned i;

	buf[0] = '\0';
	for (i = 0; i < al->ndomain && used < bufsz; i++)
		used += (size_t)snprintf(buf + used, bufsz - used, "%s%s",
		    i > 0 ? "," : "", al->domain[i]);
	if (used < bufsz)
		snprintf(buf + used, bufsz - used, "|%u|%u|%d", al->nmailbox,
		    al->nodomain, al->syntax_error);
}

/* parse_exact - parse from a heap copy of exactly len bytes (no NUL), so
 * a read past len is an ASan report */
static void
parse_exact(const char *s, size_t len, struct addrlist *al)
{
	char *copy = malloc(len > 0 ? len : 1);

	if (copy == NULL)
		abort();
	memcpy(copy, s, len);
	addrlist_parse(copy, len, al);
	free(copy);
}

/* table - every case of the table */
static void
table(void)
{
	struct addrlist al;
	char got[4096];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		parse_exact(cases[i].value, strlen(cases[i].value), &al);
		summary(&al, got, sizeof(got));
		is_str(got, cases[i].want, cases[i].name);
	}
}

/* limits - name lengths, counts past ADDRLIST_MAX, len bounds */
static void
limits(void)
{
	struct addrlist al;
	char buf[70000], label63[64], label64[65], got[4096];
	size_t n, i;

	memset(label63, 'a', 63);
	label63[63] = '\0';
	memset(label64, 'b', 64);
	label64[64] = '\0';
	snprintf(buf, sizeof(buf), "x@%s.example", label63);
	parse_exact(buf, strlen(buf), &al);
	is_int(al.ndomain, 1, "63-character label accepted");
	snprintf(buf, sizeof(buf), "x@%s.example", label64);
	parse_exact(buf, strlen(buf), &al);
	is_int(al.nodomain, 1, "64-character label refused");

	/* 253 characters: 3 x 63 + 59 + 4 dots; then 254 */
	snprintf(buf, sizeof(buf), "x@%s.%s.%s.%.*s", label63, label63,
	    label63, 61, label63);
	parse_exact(buf, strlen(buf), &al);
	is_int((long long)strlen(buf) - 2, 253, "test name is 253 characters");
	ok(al.ndomain == 1 && strlen(al.domain[0]) == 253,
	    "253-character domain accepted");
	snprintf(buf, sizeof(buf), "x@%s.%s.%s.%.*s.", label63, label63,
	    label63, 61, label63);
	parse_exact(buf, strlen(buf), &al);
	ok(al.ndomain == 1 && strlen(al.domain[0]) == 253,
	    "253 characters plus the root dot accepted, dot dropped");
	snprintf(buf, sizeof(buf), "x@%s.%s.%s.%.*s", label63, label63,
	    label63, 62, label63);
	parse_exact(buf, strlen(buf), &al);
	is_int(al.nodomain, 1, "254-character domain refused");
	n = 0;
	n += (size_t)snprintf(buf, sizeof(buf), "x@");
	for (i = 0; i < 200; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "abcdefghij.");
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "com");
	parse_exact(buf, n, &al);
	is_int(al.nodomain, 1, "2000-character domain refused, no overflow");

	n = 0;
	for (i = 0; i < 20; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
		    "u%zu@d%zu.example, ", i, i);
	parse_exact(buf, n, &al);
	is_int(al.ndomain, ADDRLIST_MAX, "domains capped at ADDRLIST_MAX");
	is_int(al.nmailbox, 20, "every mailbox counted past the cap");
	is_str(al.domain[ADDRLIST_MAX - 1], "d7.example",
	    "the first ADDRLIST_MAX domains kept, in order");

	/* len shorter than the string: the rest is never looked at */
	parse_exact("a@example.com, b@evil.example", 13, &al);
	summary(&al, got, sizeof(got));
	is_str(got, "example.com|1|0|0", "parse stops at len");
	parse_exact("a@example.com", 6, &al);
	summary(&al, got, sizeof(got));
	is_str(got, "exam|1|0|0", "a cut domain is only what len allows");
	parse_exact("\"abc", 2, &al);
	is_int(al.syntax_error, 1, "quoted string cut by len is unterminated");
	parse_exact("a@example.com\0b@evil.example", 29, &al);
	summary(&al, got, sizeof(got));
	is_str(got, "example.com|2|1|1", "a NUL inside len is junk, not an end");
	addrlist_parse(NULL, 5, &al);
	is_int(al.nmailbox, 0, "NULL value: nothing");
	parse_exact("a@b", 0, &al);
	is_int(al.nmailbox, 0, "len 0: nothing");

	/* deep nesting and long runs: no recursion, no quadratic blow-up */
	memset(buf, '(', 30000);
	memset(buf + 30000, ')', 30000);
	memcpy(buf + 60000, "a@deep.example", 14);
	parse_exact(buf, 60014, &al);
	summary(&al, got, sizeof(got));
	is_str(got, "deep.example|1|0|0", "30000 nested comments");
	memset(buf, ',', 65000);
	parse_exact(buf, 65000, &al);
	summary(&al, got, sizeof(got));
	is_str(got, "|0|0|0", "65000 commas: empty elements only");
	memset(buf, '\\', 1001);
	buf[0] = '"';
	parse_exact(buf, 1001, &al);
	is_int(al.syntax_error, 1, "trailing backslash in a quoted string");
	for (i = 0; i < 60000; i += 2) {
		buf[i] = '@';
		buf[i + 1] = 'x';
	}
	parse_exact(buf, 60000, &al);
	ok(al.ndomain <= ADDRLIST_MAX && al.nmailbox >= al.ndomain +
	    al.nodomain && al.syntax_error == 1,
	    "'@x' repeated: bounded counts (%u mailboxes)", al.nmailbox);
}

int
main(void)
{
	plan((int)(sizeof(cases) / sizeof(cases[0])) + 20);
	table();
	limits();
	return done_testing();
}
