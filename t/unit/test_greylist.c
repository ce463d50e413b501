/*
 * test_greylist.c - greylisting over the in-memory store with the clock
 * passed in: networks and keys, sender normalisation, the codecs, the
 * state machine (new, early, passed, deliveries, window and lifetime),
 * retry chains across networks and families, auto-allow, allow-lists,
 * observe against enforce, a failing store, expiry and statistics.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <sys/socket.h>

#include "clock.h"
#include "errors.h"
#include "greylist/glstore_internal.h"
#include "greylist/greylist.h"
#include "tap.h"

#define T0	INT64_C(1800000000)
#define DAY	INT64_C(86400)

static struct greylist_params P;
static struct glstore *S;

/* fresh - a new mem store and enforce-mode defaults */
static void
fresh(void)
{
	char err[128];

	glstore_close(S);
	S = NULL;
	if (glstore_open(&S, "mem:", 0, err, sizeof(err)) != 0) {
		printf("Bail out! mem store: %s\n", err);
		exit(1);
	}
	greylist_params_default(&P);
	P.mode = GREYLIST_ENFORCE;
}

/* try - one attempt; returns the verdict */
static enum greylist_verdict
try(const char *ip, const char *from, const char *to, int64_t now,
    struct greylist_result *r)
{
	struct greylist_attempt a = { ip, NULL, from, to, now, false, GREYLIST_OFF };

	greylist_check(&P, S, &a, r);
	return r->verdict;
}

/* net - greylist_network's text, or "EINVAL" and the like */
static const char *
net(const char *ip, unsigned p4, unsigned p6, int *fam)
{
	static char out[GREYLIST_NET_MAX];
	int rc = greylist_network(ip, p4, p6, out, sizeof(out), fam);

	return rc == 0 ? out : errors_str(rc);
}

/* networks - masking, canonical text, family, odd input */
static void
networks(void)
{
	const char *inval = errors_str(SCOPE_EINVAL);
	int fam = 0;

	is_str(net("192.0.2.77", 24, 64, &fam), "192.0.2.0/24", "IPv4 /24");
	is_int(fam, AF_INET, "IPv4 family");
	is_str(net("2001:DB8:1:2:3::9", 24, 64, &fam), "2001:db8:1:2::/64",
	    "IPv6 /64, lowercase, compressed");
	is_int(fam, AF_INET6, "IPv6 family");
	is_str(net("2001:db8:1:0:ffff::1", 24, 64, &fam), "2001:db8:1::/64",
	    "IPv6 /64 zero groups compressed");
	is_str(net("::ffff:198.51.100.9", 24, 64, &fam), "198.51.100.0/24",
	    "IPv4-mapped IPv6 counts as IPv4");
	is_int(fam, AF_INET, "mapped address family is IPv4");
	is_str(net("IPv6:2001:db8::1", 24, 64, NULL), "2001:db8::/64",
	    "Sendmail IPv6: prefix removed");
	is_str(net("[192.0.2.1]", 24, 64, NULL), "192.0.2.0/24",
	    "brackets removed");
	is_str(net("192.0.2.200", 25, 64, NULL), "192.0.2.128/25", "IPv4 /25");
	is_str(net("192.0.2.200", 32, 64, NULL), "192.0.2.200/32", "IPv4 /32");
	is_str(net("203.0.113.5", 0, 64, NULL), "0.0.0.0/0", "IPv4 /0");
	is_str(net("198.51.100.1", 20, 64, NULL), "198.51.96.0/20", "IPv4 /20");
	is_str(net("2001:db8:abcd:1234::1", 24, 48, NULL), "2001:db8:abcd::/48",
	    "IPv6 /48");
	is_str(net("2001:db8::ff", 24, 128, NULL), "2001:db8::ff/128",
	    "IPv6 /128");
	is_str(net("2001:db8:ffff::", 24, 33, NULL), "2001:db8:8000::/33",
	    "IPv6 /33 cuts inside a group");
	is_str(net("", 24, 64, NULL), inval, "empty address refused");
	is_str(net(NULL, 24, 64, NULL), inval, "NULL address refused");
	is_str(net("192.0.2", 24, 64, NULL), inval, "short IPv4 refused");
	is_str(net("192.0.2.256", 24, 64, NULL), inval, "octet 256 refused");
	is_str(net("fe80::1%eth0", 24, 64, NULL), inval, "zone index refused");
	is_str(net("unknown", 24, 64, NULL), inval, "a name refused");
	is_str(net(" 192.0.2.1", 24, 64, NULL), inval, "leading space refused");
	is_str(net("192.0.2.1", 33, 64, NULL), inval, "prefix4 33 refused");
	is_str(net("::1", 24, 129, NULL), inval, "prefix6 129 refused");
}

/* senders - normalisation of senders and recipients, and the keys */
static void
senders(void)
{
	char out[300], lng[600];
	struct greylist_keys k;
	const char *big_inval = errors_str(SCOPE_EINVAL);

	greylist_norm_sender("Alice@Example.COM", out, sizeof(out));
	is_str(out, "alice@example.com", "sender lowercased");
	greylist_norm_sender("<Bob@example.com>", out, sizeof(out));
	is_str(out, "bob@example.com", "angle brackets removed");
	greylist_norm_sender("", out, sizeof(out));
	is_str(out, "<>", "empty sender is <>");
	greylist_norm_sender("<>", out, sizeof(out));
	is_str(out, "<>", "<> stays <>");
	greylist_norm_sender(NULL, out, sizeof(out));
	is_str(out, "<>", "NULL sender is <>");
	greylist_norm_sender("prvs=1234abcdef=news@example.com", out,
	    sizeof(out));
	is_str(out, "news@example.com", "BATV prvs=TAG= removed");
	greylist_norm_sender("PRVS=0987FEDCBA=News@Example.com", out,
	    sizeof(out));
	is_str(out, "news@example.com", "BATV upper case removed");
	greylist_norm_sender("prvs=news=1234abcdef@example.com", out,
	    sizeof(out));
	is_str(out, "news@example.com", "older BATV prvs=LOCAL=TAG removed");
	greylist_norm_sender("btv1==123abcDEF==user@example.com", out,
	    sizeof(out));
	is_str(out, "user@example.com", "btv1== removed");
	greylist_norm_sender("msprvs1=17880TtF7Bxn9=bounces-x@example.com", out,
	    sizeof(out));
	is_str(out, "bounces-x@example.com", "msprvs1= removed");
	greylist_norm_sender("bounce-123-4567@lists.example.com", out,
	    sizeof(out));
	is_str(out, "bounce-#-#@lists.example.com", "VERP digit runs are #");
	greylist_norm_sender("user@mx2.example.com", out, sizeof(out));
	is_str(out, "user@mx2.example.com", "domain digits kept");
	greylist_norm_sender("prvs=5555abcdef=bounce-42@example.com", out,
	    sizeof(out));
	is_str(out, "bounce-#@example.com", "BATV then VERP");
	greylist_norm_sender("SRS0=HhHh=2Q=example.org=user@fwd.example", out,
	    sizeof(out));
	is_str(out, "example.org=user@fwd.example", "SRS0 hash and time removed");
	greylist_norm_sender("prvs=@example.com", out, sizeof(out));
	is_str(out, "prvs=@example.com", "bare prvs= kept");
	greylist_norm_sender("postmaster", out, sizeof(out));
	is_str(out, "postmaster", "no domain: kept");
	greylist_norm_sender("Alice@Example.COM", out, 6);
	is_str(out, "alice", "bounded by the output size");

	greylist_norm_rcpt("<User+Tag123@Example.NET>", out, sizeof(out));
	is_str(out, "user+tag123@example.net",
	    "recipient lowercased, digits and extension kept");

	is_int(greylist_keys(&P, "192.0.2.9", "Bounce-77@Example.com",
	    "Rcpt@Example.net", &k), 0, "keys: returns 0");
	is_str(k.triplet, "t|192.0.2.0/24|bounce-#@example.com|rcpt@example.net",
	    "keys: triplet");
	is_str(k.chain, "c|bounce-#@example.com|rcpt@example.net", "keys: chain");
	is_str(k.client, "a|192.0.2.0/24", "keys: client network");
	greylist_keys(&P, "2001:db8::1", "", "a@b", &k);
	is_str(k.triplet, "t|2001:db8::/64|<>|a@b", "keys: IPv6, null sender");
	greylist_keys(&P, "192.0.2.1", "a|b c%d@x", "r@x", &k);
	is_str(k.chain, "c|a%7Cb%20c%25d@x|r@x", "keys: |, space, % escaped");
	memset(lng, 'x', sizeof(lng) - 1);
	lng[sizeof(lng) - 1] = '\0';
	is_int(greylist_keys(&P, "192.0.2.1", lng, lng, &k), 0,
	    "keys: long addresses fit");
	ok(strncmp(k.chain, "c|sha256:", 9) == 0 && strlen(k.chain) ==
	    2 + 71 + 1 + 71, "keys: long parts hashed (%s)", k.chain);
	ok(strlen(k.triplet) < GLSTORE_KEY_MAX, "keys: triplet under the cap");
	is_str(errors_str(greylist_keys(&P, "nope", "a", "b", &k)), big_inval,
	    "keys: bad address refused");
}

/* codecs - strict decoding, round trips */
static void
codecs(void)
{
	struct greylist_entry e;
	struct greylist_chain c;
	struct greylist_client cl;
	char buf[GLSTORE_VAL_MAX];
	const char *t = "1 1800000000 1800000400 2 1800000400 3";
	const char *ch = "1 100 200 3 1 192.0.2.0/24,4,100;2001:db8::/64,6,200";
	int n;

	is_int(greylist_entry_decode(t, strlen(t), &e), 0, "triplet decodes");
	ok(e.first == T0 && e.last == T0 + 400 && e.attempts == 2 &&
	    e.passed == T0 + 400 && e.deliveries == 3, "triplet fields");
	n = greylist_entry_encode(&e, buf, sizeof(buf));
	ok(n == (int)strlen(t) && strcmp(buf, t) == 0, "triplet round trip");
	is_int(greylist_chain_decode(ch, strlen(ch), &c), 0, "chain decodes");
	ok(c.nhop == 2 && c.hop[1].family == AF_INET6 && c.hop[1].t == 200 &&
	    strcmp(c.hop[0].net, "192.0.2.0/24") == 0 && c.passes == 1,
	    "chain fields");
	greylist_chain_encode(&c, buf, sizeof(buf));
	is_str(buf, ch, "chain round trip");
	is_int(greylist_chain_decode("1 5 6 0 0", 9, &c), 0,
	    "chain without hops decodes");
	is_int(greylist_client_decode("1 7 99", 6, &cl), 0, "client decodes");
	ok(cl.passes == 7 && cl.last == 99, "client fields");
	greylist_client_encode(&cl, buf, sizeof(buf));
	is_str(buf, "1 7 99", "client round trip");
	is_int(greylist_entry_encode(&e, buf, 8), SCOPE_ETOOBIG,
	    "encode into a short buffer: ETOOBIG");

	is_int(greylist_entry_decode("2 1 1 1 0 0", 11, &e), SCOPE_EINVAL,
	    "triplet: other version refused");
	is_int(greylist_entry_decode("1 01 1 1 0 0", 12, &e), SCOPE_EINVAL,
	    "triplet: leading zero refused");
	is_int(greylist_entry_decode("1 -1 1 1 0 0", 12, &e), SCOPE_EINVAL,
	    "triplet: sign refused");
	is_int(greylist_entry_decode("1 1 1 1 0", 9, &e), SCOPE_EINVAL,
	    "triplet: missing field refused");
	is_int(greylist_entry_decode("1 1 1 1 0 0 ", 12, &e), SCOPE_EINVAL,
	    "triplet: trailing space refused");
	is_int(greylist_entry_decode("1 1 1 0 0 0", 11, &e), SCOPE_EINVAL,
	    "triplet: zero attempts refused");
	is_int(greylist_entry_decode("1 99999999999999999999 1 1 0 0", 30, &e),
	    SCOPE_EINVAL, "triplet: overflowing time refused");
	is_int(greylist_entry_decode("1 1 1 1 0 4294967296", 20, &e),
	    SCOPE_EINVAL, "triplet: count over UINT_MAX refused");
	is_int(greylist_entry_decode("1 1\0 1 1 0 0", 12, &e), SCOPE_EINVAL,
	    "triplet: NUL refused");
	is_int(greylist_chain_decode("1 1 1 1 0 x,4,1", 15, &c), SCOPE_EINVAL,
	    "chain: bad network text refused");
	is_int(greylist_chain_decode("1 1 1 1 0 1.2.3.0/24,5,1", 24, &c),
	    SCOPE_EINVAL, "chain: family 5 refused");
	is_int(greylist_chain_decode("1 1 1 1 0 1.2.3.0/24,4,1;", 25, &c),
	    SCOPE_EINVAL, "chain: empty hop refused");
	is_int(greylist_chain_decode("1 1 1 0 0 1.2.3.0/24,4,1", 24, &c),
	    SCOPE_EINVAL, "chain: total under the hops refused");
	strcpy(buf, "1 1 1 9 0 ");
	for (n = 0; n < GREYLIST_CHAIN_MAX + 1; n++)
		strcat(buf, n == 0 ? "1.2.3.0/24,4,1" : ";1.2.3.0/24,4,1");
	is_int(greylist_chain_decode(buf, strlen(buf), &c), SCOPE_EINVAL,
	    "chain: more than GREYLIST_CHAIN_MAX hops refused");
	is_int(greylist_client_decode("1 1", 3, &cl), SCOPE_EINVAL,
	    "client: missing field refused");
	is_int(greylist_client_decode(NULL, 0, &cl), SCOPE_EINVAL,
	    "client: empty refused");
}

/* states - new, early, passed, deliveries, window and lifetime */
static void
states(void)
{
	struct greylist_result r;
	const char *ip = "192.0.2.10", *f = "sender@example.com",
	    *to = "rcpt@example.net";

	fresh();
	is_int(try(ip, f, to, T0, &r), GREYLIST_NEW, "first attempt: new");
	ok(r.attempt == 1 && r.first_seen == T0 && r.delay_s == 0,
	    "new: attempt 1, first seen now");
	is_str(r.net, "192.0.2.0/24", "new: the client's network");
	ok(greylist_refuses(&P, &r), "enforce refuses new");
	is_int(try(ip, f, to, T0 + 60, &r), GREYLIST_EARLY, "retry at 60 s: early");
	ok(r.attempt == 2 && r.delay_s == 60, "early: attempt 2, 60 s");
	ok(greylist_refuses(&P, &r), "enforce refuses early");
	is_int(try("192.0.2.99", f, to, T0 + 299, &r), GREYLIST_EARLY,
	    "same /24 at 299 s: still early");
	is_int(try(ip, f, to, T0 + 300, &r), GREYLIST_PASSED,
	    "retry at 300 s: passed");
	ok(r.attempt == 4 && r.delay_s == 300 && !r.via_chain,
	    "passed: attempt 4, 300 s, not via chain");
	ok(!greylist_refuses(&P, &r), "enforce lets passed through");
	is_int(try(ip, f, to, T0 + 10 * DAY, &r), GREYLIST_PASSED,
	    "later delivery: passed");
	is_int(r.attempt, 5, "later delivery counted");
	is_int(try(ip, f, to, T0 + 10 * DAY + 50 * DAY, &r), GREYLIST_NEW,
	    "after the lifetime without attempts: new again");

	fresh();
	try(ip, f, to, T0, &r);
	is_int(try(ip, f, to, T0 + 2 * DAY + 1, &r), GREYLIST_NEW,
	    "retry after the window: a new round");
	is_int(r.first_seen, T0 + 2 * DAY + 1, "new round starts now");
	is_int(try(ip, f, to, T0 + 2 * DAY + 301, &r), GREYLIST_PASSED,
	    "new round passes after the delay");
	is_int(try(ip, "other@example.com", to, T0 + 2 * DAY + 302, &r),
	    GREYLIST_NEW, "another sender: its own triplet");
	is_int(try(ip, f, "x@example.net", T0 + 2 * DAY + 303, &r), GREYLIST_NEW,
	    "another recipient: its own triplet");
	is_int(try("198.51.100.1", "", to, T0, &r), GREYLIST_NEW,
	    "null sender is greylisted too");

	fresh();
	P.mode = GREYLIST_OBSERVE;
	is_int(try(ip, f, to, T0, &r), GREYLIST_NEW, "observe: new measured");
	ok(!greylist_refuses(&P, &r), "observe never refuses");
	is_int(try(ip, f, to, T0 + 400, &r), GREYLIST_PASSED,
	    "observe keeps the same state");
	P.mode = GREYLIST_OFF;
	is_int(try(ip, f, to, T0 + 500, &r), GREYLIST_SKIPPED, "off: skipped");
	P.mode = GREYLIST_ENFORCE;
	is_int(try("", f, to, T0, &r), GREYLIST_SKIPPED, "no address: skipped");
	is_int(try("unknown", f, to, T0, &r), GREYLIST_SKIPPED,
	    "unusable address: skipped");
	ok(!greylist_refuses(&P, &r), "skipped is not refused");
}

/* stored - the triplet's value; "" if absent */
static const char *
stored(const char *key)
{
	static struct glstore_val v;

	if (glstore_get(S, key, &v) != 0 || !v.present)
		return "";
	v.data[v.len < sizeof(v.data) ? v.len : sizeof(v.data) - 1] = '\0';
	return v.data;
}

/* triplet_passed - when the stored triplet passed, -1 unreadable */
static int64_t
triplet_passed(const char *key)
{
	struct greylist_entry e;
	const char *v = stored(key);

	return greylist_entry_decode(v, strlen(v), &e) == 0 ? e.passed : -1;
}

/* chains - a retry from another network or family */
static void
chains(void)
{
	struct greylist_result r;
	const char *f = "news@big.example", *to = "u@example.net";

	fresh();
	try("192.0.2.1", f, to, T0, &r);
	is_int(try("198.51.100.7", f, to, T0 + 100, &r), GREYLIST_NEW,
	    "chain: other network at 100 s: new");
	is_int(r.nchain, 1, "chain: the earlier attempt listed");
	is_str(r.chain[0].net, "192.0.2.0/24", "chain: its network");
	is_int(try("198.51.100.7", f, to, T0 + 350, &r), GREYLIST_PASSED,
	    "chain: retry from the other network after the delay passes");
	ok(r.via_chain, "chain: via_chain set");
	ok(r.delay_s == 350 && r.first_seen == T0,
	    "chain: delay from the first attempt elsewhere");
	is_int(r.attempt, 3, "chain: third attempt of the delivery");
	ok(r.nchain == 1 && r.chain[0].t == T0 && r.chain[0].family == AF_INET,
	    "chain: earlier attempt listed, oldest first");
	is_int(r.chain_total, 2, "chain: two earlier attempts in all");
	ok(triplet_passed("t|198.51.100.0/24|news@big.example|u@example.net") ==
	    T0 + 350, "chain: the triplet is marked passed");
	ok(try("198.51.100.7", f, to, T0 + 500, &r) == GREYLIST_PASSED &&
	    !r.via_chain, "chain: a later delivery passes on the triplet");

	fresh();
	try("192.0.2.1", f, to, T0, &r);
	is_int(try("2001:db8:5::25", f, to, T0 + 360, &r), GREYLIST_PASSED,
	    "chain: retry over IPv6 passes");
	ok(r.via_chain && r.nchain == 1 && r.chain[0].family == AF_INET,
	    "chain: the IPv4 attempt listed");
	is_str(r.net, "2001:db8:5::/64", "chain: this attempt's network");

	fresh();
	try("192.0.2.1", f, to, T0, &r);
	try("192.0.2.2", f, to, T0 + 10, &r);
	is_int(try("192.0.2.3", f, to, T0 + 20, &r), GREYLIST_EARLY,
	    "chain: same network is not a chain pass");
	is_int(r.nchain, 0, "chain: nothing from other networks");
	is_int(r.chain_total, 2, "chain: total counts every network");

	fresh();
	P.chain = false;
	try("192.0.2.1", f, to, T0, &r);
	is_int(try("198.51.100.7", f, to, T0 + 400, &r), GREYLIST_NEW,
	    "chain off: other network is new");
	ok(!r.via_chain && r.nchain == 1,
	    "chain off: still measured (earlier attempt listed)");

	fresh();
	try("192.0.2.1", f, to, T0, &r);
	is_int(try("198.51.100.7", f, to, T0 + 3 * DAY, &r), GREYLIST_NEW,
	    "chain: attempt elsewhere older than the window does not count");
	is_int(r.nchain, 0, "chain: stale attempts dropped");

	fresh();
	for (int i = 0; i < GREYLIST_CHAIN_MAX + 3; i++) {
		char ip[32];

		snprintf(ip, sizeof(ip), "10.%d.0.1", i);
		try(ip, f, to, T0 + i, &r);
	}
	ok(r.nchain == GREYLIST_CHAIN_MAX && r.chain_total ==
	    GREYLIST_CHAIN_MAX + 2, "chain: capped at GREYLIST_CHAIN_MAX, "
	    "total kept");
	is_str(r.chain[0].net, "10.2.0.0/24",
	    "chain: the oldest ones dropped (10 earlier, 8 kept)");
}

/* allows - auto-allow and allow-lists */
static void
allows(void)
{
	struct greylist_result r;
	struct greylist_attempt a = { "203.0.113.9", "mx1.Trusted.Example.",
		"s@x", "r@y", T0, false, GREYLIST_OFF };
	int i;

	fresh();
	P.auto_allow = 3;
	try("192.0.2.1", "a@x", "r@y", T0, &r);
	try("192.0.2.1", "a@x", "r@y", T0 + 300, &r);
	try("192.0.2.1", "a@x", "r@y", T0 + 400, &r);
	is_int(try("192.0.2.5", "b@x", "r@y", T0 + 500, &r), GREYLIST_NEW,
	    "auto-allow: two passes are not enough");
	try("192.0.2.1", "a@x", "r@y", T0 + 600, &r);
	is_str(stored("a|192.0.2.0/24"), "1 3 1800000600",
	    "auto-allow: three passed deliveries counted");
	is_int(try("192.0.2.5", "c@x", "r@y", T0 + 700, &r), GREYLIST_ALLOWED,
	    "auto-allow: the network is allowed after three");
	ok(r.auto_allowed && !greylist_refuses(&P, &r),
	    "auto-allow: flagged, not refused");
	is_str(stored("t|192.0.2.0/24|c@x|r@y"), "",
	    "auto-allow: no triplet written");
	is_int(try("192.0.3.5", "c@x", "r@y", T0 + 800, &r), GREYLIST_NEW,
	    "auto-allow: the next /24 is not");
	P.auto_allow = 0;
	is_int(try("192.0.2.5", "d@x", "r@y", T0 + 900, &r), GREYLIST_NEW,
	    "auto-allow 0: never");

	fresh();
	is_int(greylist_parse_allow_net(&P, "203.0.113.0/24"), 0,
	    "allow net: parsed");
	is_int(greylist_parse_allow_net(&P, "2001:db8:ab::/48"), 0,
	    "allow net: IPv6 parsed");
	is_int(greylist_parse_allow_net(&P, "198.51.100.7"), 0,
	    "allow net: a host parsed");
	is_int(greylist_parse_allow_net(&P, "::ffff:192.0.2.128/121"), 0,
	    "allow net: mapped network parsed");
	is_int(greylist_parse_allow_net(&P, "192.0.2.1/24"), SCOPE_EINVAL,
	    "allow net: host bits set refused");
	is_int(greylist_parse_allow_net(&P, "192.0.2.0/33"), SCOPE_EINVAL,
	    "allow net: /33 refused");
	is_int(greylist_parse_allow_net(&P, "192.0.2.0/024"), SCOPE_EINVAL,
	    "allow net: leading zero refused");
	is_int(greylist_parse_allow_net(&P, "192.0.2.0/"), SCOPE_EINVAL,
	    "allow net: empty length refused");
	is_int(greylist_parse_allow_net(&P, "example.com"), SCOPE_EINVAL,
	    "allow net: a name refused");
	is_int(greylist_parse_allow_net(&P, "192.0.2.0/24 "), SCOPE_EINVAL,
	    "allow net: trailing space refused");
	is_int(greylist_parse_allow_domain(&P, "Trusted.Example."), 0,
	    "allow domain: parsed");
	is_int(greylist_parse_allow_domain(&P, "bad..example"), SCOPE_EINVAL,
	    "allow domain: empty label refused");
	is_int(greylist_parse_allow_domain(&P, "bad example"), SCOPE_EINVAL,
	    "allow domain: space refused");
	is_int(greylist_parse_allow_domain(&P, ""), SCOPE_EINVAL,
	    "allow domain: empty refused");
	P.nallow_net = 0;
	for (i = 0; i < GREYLIST_ALLOW_MAX; i++)
		greylist_parse_allow_net(&P, "10.0.0.0/8");
	is_int(greylist_parse_allow_net(&P, "10.0.0.0/8"), SCOPE_ETOOBIG,
	    "allow net: full list ETOOBIG");
	P.nallow_net = 0;
	greylist_parse_allow_net(&P, "203.0.113.0/24");
	greylist_parse_allow_net(&P, "2001:db8:ab::/48");
	greylist_parse_allow_net(&P, "::ffff:192.0.2.128/121");
	for (i = (int)P.nallow_domain; i < GREYLIST_ALLOW_MAX; i++)
		greylist_parse_allow_domain(&P, "x.example");
	is_int(greylist_parse_allow_domain(&P, "y.example"), SCOPE_ETOOBIG,
	    "allow domain: full list ETOOBIG");

	a.client_name = NULL;
	greylist_check(&P, S, &a, &r);
	is_int(r.verdict, GREYLIST_ALLOWED, "allowed by network");
	ok(!r.auto_allowed && strcmp(r.net, "203.0.113.0/24") == 0,
	    "allowed by network: net filled, not auto");
	is_str(stored("t|203.0.113.0/24|s@x|r@y"), "",
	    "allowed: no triplet written");
	is_int(try("2001:db8:ab:cd::1", "s@x", "r@y", T0, &r), GREYLIST_ALLOWED,
	    "allowed by IPv6 network");
	is_int(try("::ffff:192.0.2.200", "s@x", "r@y", T0, &r), GREYLIST_ALLOWED,
	    "allowed by mapped network (as IPv4)");
	is_int(try("192.0.2.1", "s@x", "r@y", T0, &r), GREYLIST_NEW,
	    "outside the allowed /25: new");
	a.client_ip = "198.51.100.50";
	a.client_name = "mx1.Trusted.Example.";
	greylist_check(&P, S, &a, &r);
	is_int(r.verdict, GREYLIST_ALLOWED, "allowed by a name under the domain");
	a.client_name = "trusted.example";
	greylist_check(&P, S, &a, &r);
	is_int(r.verdict, GREYLIST_ALLOWED, "allowed by the domain itself");
	a.client_name = "eviltrusted.example";
	greylist_check(&P, S, &a, &r);
	is_int(r.verdict, GREYLIST_NEW, "a name merely ending the same: new");
	a.client_name = "trusted.example.evil.test";
	a.rcpt = "r2@y";
	greylist_check(&P, S, &a, &r);
	is_int(r.verdict, GREYLIST_NEW, "the domain inside a name: new");
}

/* fail_rmw - a back end whose every step fails */
static int
fail_rmw(struct glstore *s, const char *const *keys, unsigned nkeys,
    int64_t ttl_s, glstore_fn fn, void *arg)
{
	(void)s; (void)keys; (void)nkeys; (void)ttl_s; (void)fn; (void)arg;
	glstore_set_error("fake: connection refused");
	return SCOPE_EIO;
}

/* failing - the store fails: error verdict, mail passes */
static void
failing(void)
{
	static const struct glstore_ops fail_ops = { "fake", fail_rmw, NULL,
		NULL, NULL, NULL, NULL };
	struct glstore fake = { .ops = &fail_ops };
	struct greylist_attempt a = { "192.0.2.1", NULL, "a@x", "b@y", T0, false,
	    GREYLIST_OFF };
	struct greylist_result r;

	greylist_params_default(&P);
	P.mode = GREYLIST_ENFORCE;
	greylist_check(&P, &fake, &a, &r);
	is_int(r.verdict, GREYLIST_ERROR, "store failure: error verdict");
	is_str(r.error, "fake: connection refused", "store failure: the reason");
	ok(!greylist_refuses(&P, &r), "store failure: fail open");
	is_str(r.net, "192.0.2.0/24", "store failure: network still named");
	greylist_check(&P, NULL, &a, &r);
	is_int(r.verdict, GREYLIST_ERROR, "no store: error verdict");
}

/* hostile - garbage in the store reads as absent */
static void
hostile(void)
{
	struct greylist_result r;
	const char *k = "t|192.0.2.0/24|a@x|b@y";

	fresh();
	glstore_put(S, k, "garbage", 7, 0);
	is_int(try("192.0.2.1", "a@x", "b@y", T0, &r), GREYLIST_NEW,
	    "garbage triplet: new round");
	is_str(stored(k), "1 1800000000 1800000000 1 0 0",
	    "garbage triplet: rewritten");
	glstore_put(S, k, "1 9000000000 9000000000 1 0 0", 29, 0);
	is_int(try("192.0.2.1", "a@x", "b@y", T0, &r), GREYLIST_NEW,
	    "triplet from the far future: new round");
	glstore_put(S, "c|a@x|b@y", "1 1 1 1 0 zz", 12, 0);
	glstore_put(S, "a|192.0.2.0/24", "1 x", 3, 0);
	is_int(try("192.0.2.1", "a@x", "b@y", T0 + 400, &r), GREYLIST_PASSED,
	    "garbage chain and client: ignored");
	is_str(stored("a|192.0.2.0/24"), "1 1 1800000400",
	    "garbage client: rewritten");
}

/* count_kind - entries under a prefix */
static int
count_one(void *arg, const char *key, const char *val, size_t len)
{
	(void)key; (void)val; (void)len;
	(*(int *)arg)++;
	return 0;
}

static int
count_kind(const char *prefix)
{
	int n = 0;

	glstore_visit(S, prefix, count_one, &n);
	return n;
}

/* expiry - greylist_expire removes what outlived the lifetime only */
static void
expiry(void)
{
	struct greylist_result r;
	struct greylist_stats st;
	unsigned long removed = 99;

	fresh();
	try("192.0.2.1", "old@x", "r@y", T0, &r);
	try("192.0.2.1", "old@x", "r@y", T0 + 400, &r);
	try("192.0.2.1", "new@x", "r@y", T0 + 30 * DAY, &r);
	try("198.51.100.1", "new@x", "r@y", T0 + 30 * DAY + 600, &r);
	glstore_put(S, "t|junk", "x", 1, 0);
	is_int(greylist_expire(&P, S, T0 + 36 * DAY, &removed), 0,
	    "expire: returns 0");
	is_int((long long)removed, 5,
	    "expire: old triplet, its chain, its client, junk and the "
	    "unconfirmed first triplet of the chain removed");
	is_str(stored("t|192.0.2.0/24|old@x|r@y"), "", "expire: old triplet gone");
	ok(stored("t|198.51.100.0/24|new@x|r@y")[0] != '\0',
	    "expire: recent triplet kept");
	ok(stored("c|new@x|r@y")[0] != '\0', "expire: recent chain kept");
	ok(stored("a|198.51.100.0/24")[0] != '\0', "expire: recent client kept");
	is_int(count_kind("t|") + count_kind("c|") + count_kind("a|"), 3,
	    "expire: three entries left");
	greylist_expire(&P, S, T0 + 36 * DAY, &removed);
	is_int((long long)removed, 0, "expire again: nothing");

	fresh();
	try("192.0.2.1", "a@x", "r@y", T0, &r);
	try("192.0.2.1", "a@x", "r@y", T0 + 300, &r);
	try("192.0.2.1", "b@x", "r@y", T0, &r);
	try("192.0.2.1", "b@x", "r@y", T0 + 1000, &r);
	try("192.0.2.1", "c@x", "r@y", T0, &r);
	try("198.51.100.1", "c@x", "r@y", T0 + 500, &r);
	try("192.0.2.1", "d@x", "r@y", T0, &r);
	glstore_put(S, "a|bad", "nonsense", 8, 0);
	is_int(greylist_stats(&P, S, &st), 0, "stats: returns 0");
	is_int((long long)st.triplets, 5, "stats: five triplets");
	is_int((long long)st.passed, 3, "stats: three passed");
	ok(st.pass_rate > 0.59 && st.pass_rate < 0.61, "stats: pass rate 0.6");
	is_int((long long)st.chain_passes, 1, "stats: one chain pass");
	is_int((long long)st.chains, 4, "stats: four chains");
	is_int((long long)st.clients, 2, "stats: two client networks");
	is_int((long long)st.invalid, 1, "stats: one invalid entry");
	is_int((long long)st.ndelays, 2, "stats: two retry delays");
	is_int(st.delay_median, 300, "stats: median retry delay");
	is_int(st.delay_p90, 1000, "stats: 90th percentile retry delay");
	fresh();
	greylist_stats(&P, S, &st);
	ok(st.triplets == 0 && st.delay_median == -1 && st.pass_rate == 0.0,
	    "stats: empty store");
}

/* unconfirmed - a triplet that is never retried is kept for the retry
 * window only, not the lifetime (issue 12: sprayed triplets filled the
 * store); an early retry does not extend it; confirmed entries stay */
static void
unconfirmed(void)
{
	struct greylist_result r;
	unsigned long removed = 99;

	fresh();
	try("192.0.2.1", "spray@x", "r@y", T0, &r);
	try("192.0.2.1", "early@x", "r@y", T0, &r);
	try("192.0.2.1", "early@x", "r@y", T0 + 100, &r);
	try("192.0.2.1", "kept@x", "r@y", T0, &r);
	try("192.0.2.1", "kept@x", "r@y", T0 + 400, &r);
	is_int(r.verdict, GREYLIST_PASSED, "unconfirmed: kept@x passed");
	greylist_expire(&P, S, T0 + P.window_s, &removed);
	is_int((long long)removed, 0,
	    "unconfirmed: kept until the retry window is over");
	greylist_expire(&P, S, T0 + P.window_s + 1, &removed);
	is_int((long long)removed, 3, "unconfirmed: past the window, the two "
	    "unconfirmed triplets and the chain of the one never retried are "
	    "removed");
	ok(stored("t|192.0.2.0/24|spray@x|r@y")[0] == '\0' &&
	    stored("c|spray@x|r@y")[0] == '\0',
	    "unconfirmed: the never-retried triplet and chain are gone");
	ok(stored("t|192.0.2.0/24|early@x|r@y")[0] == '\0',
	    "unconfirmed: an early retry does not extend the window");
	ok(stored("t|192.0.2.0/24|kept@x|r@y")[0] != '\0' &&
	    stored("c|kept@x|r@y")[0] != '\0',
	    "unconfirmed: a passed triplet (and its recent chain) stays");
	greylist_expire(&P, S, T0 + 400 + P.window_s + 1, &removed);
	ok(removed == 2 && stored("t|192.0.2.0/24|kept@x|r@y")[0] != '\0',
	    "unconfirmed: chains without a pass from elsewhere go a window "
	    "after their latest attempt, a passed triplet stays");
	P.window_s = 5 * DAY;
	try("192.0.2.1", "spray@x", "r@y", T0, &r);
	greylist_expire(&P, S, T0 + 3 * DAY, &removed);
	ok(removed == 0 && stored("t|192.0.2.0/24|spray@x|r@y")[0] != '\0',
	    "unconfirmed: the configured window counts, not the default");
}

/* letters - i as lower-case letters (digit runs in senders are one '#') */
static void
letters(unsigned i, char *out, size_t outsz)
{
	size_t n = 0;

	do {
		if (n + 1 < outsz)
			out[n++] = (char)('a' + i % 26);
		i /= 26;
	} while (i > 0);
	out[n] = '\0';
}

static int full_begun, full_ended;
static unsigned long full_failed;
static char full_reason[256];

/* on_full - the store's notify hook */
static void
on_full(void *arg, bool full, unsigned long failed, const char *reason)
{
	(void)arg;
	if (full) {
		full_begun++;
		snprintf(full_reason, sizeof(full_reason), "%s", reason);
	} else {
		full_ended++;
		full_failed = failed;
	}
}

/* attempt - one attempt from the spraying network on store s */
static enum greylist_verdict
attempt(struct glstore *s, const char *from, int64_t now,
    struct greylist_result *r)
{
	struct greylist_attempt a = { "203.0.113.9", NULL, from, "r@y", now,
	    false, GREYLIST_OFF };

	greylist_check(&P, s, &a, r);
	return r->verdict;
}

/* spray - new triplets from one network until nerr errors (or limit);
 * counts verdicts in v[], refusals of error verdicts, store_full ones */
static unsigned
spray(struct glstore *s, int64_t now, unsigned nerr, unsigned v[6],
    unsigned *err_refused, unsigned *err_full)
{
	char from[64], part[16];
	struct greylist_result r;
	unsigned i;

	memset(v, 0, 6 * sizeof(v[0]));
	*err_refused = *err_full = 0;
	for (i = 0; i < 20000 && v[GREYLIST_ERROR] < nerr; i++) {
		letters(i, part, sizeof(part));
		snprintf(from, sizeof(from), "bulk-%s@spray.example", part);
		v[attempt(s, from, now, &r)]++;
		if (r.verdict == GREYLIST_ERROR) {
			*err_refused += greylist_refuses(&P, &r);
			*err_full += r.store_full;
		}
	}
	return i;
}

/* scratch_rm - an LMDB file and its lock file in dir */
static void
scratch_rm(const char *dir, const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%s-lock", dir, name);
	unlink(path);
}

/* store_full - an LMDB store under a spray of new triplets (issue 12):
 * its map grows to GreylistMaxSize, then greylisting fails open with
 * the verdict error marked store_full, one notice per episode; expiry
 * of the unconfirmed entries makes room again */
static void
store_full(void)
{
	char dir[] = "/tmp/test_greylist.XXXXXX", spec[96], err[256];
	struct glstore_opts o = { 0, 256 << 10, 64 << 10 };
	unsigned v[6], fixed_new, refused, nfull;
	unsigned long removed = 0, failed = 0;
	struct greylist_result r;
	struct glstore *s;
	bool full;

	greylist_params_default(&P);
	P.mode = GREYLIST_ENFORCE;
	if (mkdtemp(dir) == NULL) {
		printf("Bail out! mkdtemp\n");
		exit(1);
	}
	/* a map that cannot grow (max = initial): how many fit in 64 KiB */
	snprintf(spec, sizeof(spec), "lmdb:%s/fixed.mdb", dir);
	o.map_max = o.map_initial;
	if (glstore_open_opts(&s, spec, &o, err, sizeof(err)) != 0) {
		printf("Bail out! %s\n", err);
		exit(1);
	}
	spray(s, T0, 1, v, &refused, &nfull);
	fixed_new = v[GREYLIST_NEW];
	glstore_close(s);

	snprintf(spec, sizeof(spec), "lmdb:%s/grow.mdb", dir);
	o.map_max = 256 << 10;
	if (glstore_open_opts(&s, spec, &o, err, sizeof(err)) != 0) {
		printf("Bail out! %s\n", err);
		exit(1);
	}
	glstore_set_notify(s, on_full, NULL);
	spray(s, T0, 50, v, &refused, &nfull);
	ok(fixed_new > 0 && v[GREYLIST_NEW] > 3 * fixed_new,
	    "full: the map grows from 64 to 256 KiB before it is full "
	    "(%u new triplets stored, %u in a fixed 64 KiB map)",
	    v[GREYLIST_NEW], fixed_new);
	is_int(v[GREYLIST_ERROR], 50, "full: then every new triplet is an "
	    "error verdict");
	is_int(nfull, 50, "full: each error says the store is full");
	is_int(refused, 0, "full: no error verdict refuses (fail open)");
	ok(v[GREYLIST_EARLY] + v[GREYLIST_PASSED] + v[GREYLIST_ALLOWED] +
	    v[GREYLIST_SKIPPED] == 0, "full: nothing but new and error");
	is_int(full_begun, 1, "full: one notice for 50 failures");
	ok(strstr(full_reason, "store full") != NULL &&
	    strstr(full_reason, "GreylistMaxSize 256 KiB") != NULL,
	    "full: the notice says why (%s)", full_reason);
	full = glstore_full(s, &failed);
	ok(full && failed == 50,
	    "full: the store counts the episode's failures (%lu)", failed);
	is_int(full_ended, 0, "full: no end while full");

	is_int(greylist_expire(&P, s, T0 + P.window_s + 1, &removed), 0,
	    "full: expiry works on a full store");
	ok(removed >= 2 * (unsigned long)v[GREYLIST_NEW],
	    "full: expiry removes the sprayed triplets and chains (%lu)",
	    removed);
	is_int(attempt(s, "late@spray.example", T0 + P.window_s + 2, &r),
	    GREYLIST_NEW, "full: after expiry a new triplet is stored again");
	ok(full_ended == 0 && glstore_full(s, NULL),
	    "full: the episode lasts until a minute without failures");
	clock_set_fake(clock_mono() + 61 * 1000000);
	is_int(attempt(s, "later@spray.example", T0 + P.window_s + 3, &r),
	    GREYLIST_NEW, "full: a minute later, another new triplet");
	clock_set_fake(0);
	ok(full_ended == 1 && full_failed == 50 && !glstore_full(s, NULL),
	    "full: one notice that the episode ended, with its 50 failures");
	is_int(attempt(s, "late@spray.example", T0 + P.window_s + 302, &r),
	    GREYLIST_PASSED, "full: its retry after the delay passes");
	glstore_close(s);
	scratch_rm(dir, "fixed.mdb");
	scratch_rm(dir, "grow.mdb");
	rmdir(dir);
}

/* names - verdict and mode names */
static void
names(void)
{
	is_str(greylist_verdict_name(GREYLIST_PASSED), "passed", "verdict name");
	is_str(greylist_verdict_name((enum greylist_verdict)42), "error",
	    "unknown verdict is error");
	is_str(greylist_mode_name(GREYLIST_OBSERVE), "observe", "mode name");
	greylist_params_default(&P);
	ok(P.mode == GREYLIST_OFF && P.delay_s == 300 && P.window_s == 2 * DAY &&
	    P.lifetime_s == 35 * DAY && P.auto_allow == 5 && P.prefix4 == 24 &&
	    P.prefix6 == 64 && P.chain, "defaults as documented");
}

int
main(void)
{
	plan(197 + 8 + 16);
	greylist_params_default(&P);
	networks();
	senders();
	codecs();
	states();
	chains();
	allows();
	failing();
	hostile();
	expiry();
	unconfirmed();
	store_full();
	names();
	glstore_close(S);
	return done_testing();
}
