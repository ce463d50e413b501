/*
 * test_dns.c - the DNS layer on in-memory zones, a master file, and a
 * silent server (the time budget), and iprev on top of it; resolver
 * outages with a fake name server on loopback that reads and never
 * answers until told to: down after DNSDownAfter silences, lookups
 * skipped at once, one probe per window, up again when it answers, and
 * each server of several on its own.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "dns/dns.h"
#include "errors.h"
#include "dns/iprev.h"
#include "fakens.h"
#include "stats.h"
#include "tap.h"

static const char *const zone_rrs[] = {
	"sec.test. 300 IN SOA ns.sec.test. h.sec.test. 1 3600 600 86400 300",
	"sec.test. 300 IN TXT \"v=spf1 -all\"",
	"mx.sec.test. 300 IN A 192.0.2.25",
	"www.sec.test. 300 IN CNAME mx.sec.test.",
	"toslow.sec.test. 300 IN CNAME slow.sec.test.",
	"*.wild.sec.test. 300 IN A 192.0.2.99",
	"a.b.ent.sec.test. 300 IN A 192.0.2.7",
	"client.sec.test. 300 IN A 198.51.100.10",
	"client6.sec.test. 300 IN AAAA 2001:db8:100::10",
	"10.100.51.198.in-addr.arpa. 300 IN PTR client.sec.test.",
	"11.100.51.198.in-addr.arpa. 300 IN PTR forged.sec.test.",
	"0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.8.b.d.0.1.0.0.2.ip6.arpa. "
	    "300 IN PTR client6.sec.test.",
	"13.100.51.198.in-addr.arpa. 300 IN PTR slow.sec.test.",
	NULL
};

/* query - one lookup; returns the rcode, *sec and the answer count */
static int
query(struct dns_ctx *c, const char *name, uint16_t type, enum dns_sec *sec,
    size_t *n)
{
	struct dns_answer a;
	ldns_rr_list *l;

	if (dns_query(c, name, type, &a) != 0)
		return -99;
	*sec = a.sec;
	l = dns_answer_records(&a, type);
	*n = l != NULL ? ldns_rr_list_rr_count(l) : 0;
	ldns_rr_list_free(l);
	dns_answer_free(&a);
	return a.rcode;
}

/* silent_server - a UDP socket that never answers; returns its port */
static int
silent_server(int *fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	*fd = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (*fd < 0 || bind(*fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    getsockname(*fd, (struct sockaddr *)&sin, &len) != 0)
		return -1;
	return ntohs(sin.sin_port);
}

/* what the daemon would have logged */
struct events {
	unsigned down, up, timeouts;
	double down_s;
	char server[DNS_SERVER_TEXT];
};

/* on_event - the callback the daemon gives the DNS layer */
static void
on_event(void *arg, const struct dns_event *ev)
{
	struct events *e = arg;

	if (ev->down) {
		e->down++;
		e->timeouts = ev->timeouts;
	} else {
		e->up++;
		e->down_s = ev->down_s;
	}
	snprintf(e->server, sizeof(e->server), "%s", ev->server);
}

/* one lookup in a context of its own: what happened and how long it took */
struct probe {
	struct dns_resolver *r;
	int rcode;
	bool skipped;
	char status[16];
	int64_t us;
};

/* lookup - one A lookup with a fresh budget */
static void *
lookup(void *arg)
{
	struct probe *p = arg;
	struct dns_answer a;
	struct dns_ctx c;
	int64_t t0 = clock_mono();

	dns_ctx_init(&c, p->r);
	p->rcode = -99;
	if (dns_query(&c, "a.outage.test.", LDNS_RR_TYPE_A, &a) == 0) {
		p->rcode = a.rcode;
		p->skipped = a.skipped;
		dns_answer_free(&a);
	}
	snprintf(p->status, sizeof(p->status), "%s", c.nlog == 1 ?
	    dns_lookup_status(&c.log[0]) : "none");
	p->us = clock_mono() - t0;
	dns_ctx_free(&c);
	return NULL;
}

/* test_outage - one silent server: down, skipped, probed, up again */
static void
test_outage(void)
{
	struct dns_resolver *r;
	struct events ev;
	struct fake f;
	struct probe p, bg;
	pthread_t th;
	char servers[64], err[256];
	struct dns_ctx c;
	int i;

	memset(&ev, 0, sizeof(ev));
	stats_reset();
	if (fake_start(&f, "127.0.0.1", 0) != 0)
		return;
	snprintf(servers, sizeof(servers), "127.0.0.1:%d", f.port);
	if (dns_resolver_new(&r, servers, 200, 0, err, sizeof(err)) != 0)
		return;
	dns_resolver_outage(r, 3, 400, on_event, &ev);
	p.r = r;
	for (i = 0; i < 2; i++)
		lookup(&p);
	ok(p.rcode == -1 && !p.skipped && p.us >= 150000,
	    "silent server: a lookup waits for its timeout");
	is_int(ev.down, 0, "two timeouts: not down yet");
	lookup(&p);
	is_int(ev.down, 1, "third timeout in a row: considered down, once");
	is_int(ev.timeouts, 3, "the event says after how many timeouts");
	is_str(ev.server, servers, "the event names the server with its port");
	is_int((long long)stats_get(STATS_DNS_RESOLVER_DOWN), 1,
	    "counter dns_resolver_down");
	lookup(&p);
	ok(p.us < 50000, "down: a lookup returns at once (%lld us)",
	    (long long)p.us);
	ok(p.rcode == -1 && p.skipped, "down: no answer, marked skipped");
	is_str(p.status, "skipped", "down: the log says skipped");
	dns_ctx_init(&c, r);
	{
		struct dns_answer a;

		dns_query(&c, "b.outage.test.", LDNS_RR_TYPE_TXT, &a);
		dns_answer_free(&a);
	}
	is_str(dns_lookup_reason(&c.log[0]) ? dns_lookup_reason(&c.log[0]) :
	    "(null)", "resolver down", "down: the log says why");
	is_str(dns_sec_name(c.log[0].sec), "timeout",
	    "down: the checks see a timeout (temperror)");
	dns_ctx_free(&c);
	is_int(__atomic_load_n(&f.queries, __ATOMIC_SEQ_CST), 3,
	    "down: nothing was sent");
	is_int((long long)stats_get(STATS_DNS_SKIPPED), 2,
	    "counter dns_skipped");
	usleep(450000);
	bg.r = r;
	pthread_create(&th, NULL, lookup, &bg);
	usleep(60000);
	lookup(&p);
	pthread_join(th, NULL);
	ok(!bg.skipped && bg.us >= 150000,
	    "after the window: one lookup probes the server");
	ok(p.skipped && p.us < 50000,
	    "while the probe waits, other lookups are still skipped at once");
	is_int(__atomic_load_n(&f.queries, __ATOMIC_SEQ_CST), 4,
	    "one probe query went out");
	lookup(&p);
	ok(p.skipped, "a silent probe starts a new window");
	is_int(ev.down + ev.up, 1, "no event for a failed probe");
	__atomic_store_n(&f.answer, 1, __ATOMIC_SEQ_CST);
	usleep(450000);
	lookup(&p);
	ok(!p.skipped && p.rcode == 0, "the probe is answered: NOERROR");
	is_int(ev.up, 1, "up again: one event");
	ok(ev.down_s >= 0.8 && ev.down_s < 5.0,
	    "the event says how long it was down (%.2f s)", ev.down_s);
	lookup(&p);
	ok(!p.skipped && p.rcode == 0 && p.us < 100000,
	    "up: lookups are sent and answered again");
	dns_resolver_free(r);
	fake_stop(&f);
}

/* test_two_servers - a silent first server goes down on its own; the
 * second keeps answering, and once the first is down, at once */
static void
test_two_servers(void)
{
	struct dns_resolver *r;
	struct events ev;
	struct fake f1, f2;
	struct probe p;
	char servers[64], err[256];
	int i;

	memset(&ev, 0, sizeof(ev));
	if (fake_start(&f1, "127.0.0.1", 0) != 0 ||
	    fake_start(&f2, "127.0.0.2", f1.port) != 0) {
		ok(0, "two fake servers on one port");
		return;
	}
	__atomic_store_n(&f2.answer, 1, __ATOMIC_SEQ_CST);
	snprintf(servers, sizeof(servers), "127.0.0.1:%d 127.0.0.2:%d",
	    f1.port, f1.port);
	if (dns_resolver_new(&r, servers, 400, 0, err, sizeof(err)) != 0)
		return;
	dns_resolver_outage(r, 2, 10000, on_event, &ev);
	p.r = r;
	lookup(&p);
	ok(p.rcode == 0 && p.us >= 150000,
	    "first server silent: the second answers after its share of time");
	lookup(&p);
	is_int(ev.down, 1, "the silent server is down after two timeouts");
	ok(strncmp(ev.server, "127.0.0.1:", 10) == 0,
	    "the event names the silent server");
	for (i = 0; i < 3; i++)
		lookup(&p);
	ok(p.rcode == 0 && !p.skipped && p.us < 100000,
	    "one server down: lookups go to the other at once");
	is_int(__atomic_load_n(&f1.queries, __ATOMIC_SEQ_CST), 2,
	    "the down server gets no more queries");
	dns_resolver_free(r);
	fake_stop(&f1);
	fake_stop(&f2);
}

/* test_shared_deadline - contexts made for one deadline share the budget */
static void
test_shared_deadline(void)
{
	struct dns_resolver *r;
	struct iprev_outcome io;
	struct dns_answer a;
	struct dns_ctx c1, c2;
	struct fake f;
	char servers[64], err[256];
	int64_t t0, deadline;

	if (fake_start(&f, "127.0.0.1", 0) != 0)
		return;
	snprintf(servers, sizeof(servers), "127.0.0.1:%d", f.port);
	if (dns_resolver_new(&r, servers, 300, 1, err, sizeof(err)) != 0)
		return;
	t0 = clock_mono();
	deadline = dns_deadline(r);
	dns_ctx_init_until(&c1, r, deadline);
	dns_ctx_init_until(&c2, r, deadline);
	iprev_check(&c1, "192.0.2.1", &io);
	dns_query(&c2, "example.test.", LDNS_RR_TYPE_TXT, &a);
	dns_answer_free(&a);
	ok(clock_mono() - t0 < 450000,
	    "iprev and SPF contexts with one deadline: one 300 ms budget");
	is_str(iprev_res_name(io.result), "temperror", "iprev: temperror");
	dns_ctx_free(&c1);
	dns_ctx_free(&c2);
	dns_resolver_free(r);
	fake_stop(&f);
}

/* test_name_text - dns_name_text against ldns_rdf2str: 100,000 random
 * wire names (labels of 0 to 63 random bytes, every byte value, up to 255
 * bytes in all), the root, and a buffer one byte too small */
static void
test_name_text(void)
{
	uint8_t wire[256];
	char got[DNS_NAME_TEXT_MAX], *want;
	unsigned seed = 20261205, t, bad = 0, lab;
	size_t n, i, len;
	ldns_rdf *rdf;

	for (t = 0; t < 100000; t++) {
		n = 0;
		while (n < 200 && rand_r(&seed) % 5 != 0) {
			len = 1 + rand_r(&seed) % (t % 2 == 0 ? 63 : 7);
			if (n + 1 + len > 254)
				break;
			wire[n++] = (uint8_t)len;
			for (i = 0; i < len; i++) {
				lab = rand_r(&seed) % 4;	/* mostly letters */
				wire[n++] = lab == 0 ? (uint8_t)rand_r(&seed) :
				    (uint8_t)('a' + rand_r(&seed) % 26);
			}
		}
		wire[n++] = 0;
		rdf = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, n, wire);
		want = rdf != NULL ? ldns_rdf2str(rdf) : NULL;
		if (want == NULL || dns_name_text(rdf, got, sizeof(got)) !=
		    SCOPE_OK || strcmp(got, want) != 0) {
			if (bad++ == 0)
				printf("# got %s want %s\n", got, want != NULL ?
				    want : "(null)");
		}
		free(want);
		ldns_rdf_deep_free(rdf);
	}
	is_int(bad, 0, "dns_name_text: the text of ldns_rdf2str for 100,000 "
	    "random names");
	rdf = ldns_dname_new_frm_str("mail.example.");
	ok(rdf != NULL && dns_name_text(rdf, got, 14) == SCOPE_OK &&
	    strcmp(got, "mail.example.") == 0 &&
	    dns_name_text(rdf, got, 13) == SCOPE_ETOOBIG,
	    "dns_name_text: 14 bytes hold \"mail.example.\", 13 do not");
	ldns_rdf_deep_free(rdf);
	memcpy(wire, "\0\3abc\0", 6);	/* an empty label first */
	rdf = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, 6, wire);
	is_int(dns_name_text(rdf, got, sizeof(got)), SCOPE_EINVAL,
	    "dns_name_text: a malformed name is refused (callers fall back "
	    "to ldns)");
	ldns_rdf_deep_free(rdf);
}

/* test_rcode_name - the names records and metrics show for rcodes */
static void
test_rcode_name(void)
{
	char buf[DNS_RCODE_NAME_MAX];

	ok(dns_rcode_name(-1, buf, sizeof(buf)) == NULL &&
	    strcmp(dns_rcode_name(0, buf, sizeof(buf)), "NOERROR") == 0 &&
	    strcmp(dns_rcode_name(3, buf, sizeof(buf)), "NXDOMAIN") == 0 &&
	    strcmp(dns_rcode_name(4, buf, sizeof(buf)), "NOTIMP") == 0 &&
	    strcmp(dns_rcode_name(5, buf, sizeof(buf)), "REFUSED") == 0 &&
	    strcmp(dns_rcode_name(6, buf, sizeof(buf)), "RCODE6") == 0 &&
	    strcmp(dns_rcode_name(4095, buf, sizeof(buf)), "RCODE4095") == 0 &&
	    dns_rcode_name(4095, buf, 9) == NULL,
	    "dns_rcode_name: names, RCODE<n> past REFUSED, NULL without an "
	    "answer or room");
}

/* test_type_name - dns_type_name against ldns_rr_type2str for every
 * one of the 65,536 types, and a buffer too small for "TYPE65280" */
static void
test_type_name(void)
{
	char buf[DNS_TYPE_NAME_MAX], *want;
	const char *got;
	unsigned t, bad = 0;

	for (t = 0; t < 65536; t++) {
		want = ldns_rr_type2str((ldns_rr_type)t);
		got = dns_type_name((uint16_t)t, buf, sizeof(buf));
		if (want == NULL || got == NULL || strcmp(got, want) != 0) {
			if (bad++ == 0)
				printf("# type %u: got %s want %s\n", t,
				    got != NULL ? got : "(null)",
				    want != NULL ? want : "(null)");
		}
		free(want);
	}
	is_int(bad, 0, "dns_type_name: ldns_rr_type2str's name for all "
	    "65,536 types");
	ok(dns_type_name(65280, buf, 9) == NULL &&
	    strcmp(dns_type_name(65280, buf, 10), "TYPE65280") == 0 &&
	    strcmp(dns_type_name(LDNS_RR_TYPE_TXT, buf, 1), "TXT") == 0,
	    "dns_type_name: TYPE65280 needs 10 bytes; a known name needs "
	    "none");
}

/* chain_count - A records dns_answer_records finds for q in a packet
 * of the given answer records; -1 when they are not the packet's own */
static int
chain_count(const char *q, const char *const *rrs)
{
	struct dns_answer a;
	ldns_rr *rr;
	ldns_rr_list *l;
	size_t i;
	int n = 0;

	memset(&a, 0, sizeof(a));
	a.pkt = ldns_pkt_query_new(ldns_dname_new_frm_str(q), LDNS_RR_TYPE_A,
	    LDNS_RR_CLASS_IN, LDNS_RD);
	for (; *rrs != NULL; rrs++) {
		rr = NULL;
		if (ldns_rr_new_frm_str(&rr, *rrs, 300, NULL, NULL) !=
		    LDNS_STATUS_OK)
			abort();
		ldns_pkt_push_rr(a.pkt, LDNS_SECTION_ANSWER, rr);
	}
	l = dns_answer_records(&a, LDNS_RR_TYPE_A);
	for (i = 0; l != NULL && i < ldns_rr_list_rr_count(l); i++, n++)
		if (ldns_rr_list_rr(l, i) != ldns_rr_list_rr(
		    ldns_pkt_answer(a.pkt), i + ldns_rr_list_rr_count(
		    ldns_pkt_answer(a.pkt)) - ldns_rr_list_rr_count(l)))
			n = -100;
	ldns_rr_list_free(l);
	dns_answer_free(&a);
	return n;
}

/* test_chain - CNAME chains: followed in any order, loops end, padding
 * for other names ignored, the records are the packet's */
static void
test_chain(void)
{
	static const char *const order[] = {
	    "c.test. 300 IN CNAME d.test.", "a.test. 300 IN CNAME b.test.",
	    "b.test. 300 IN CNAME c.test.", "x.test. 300 IN A 192.0.2.9",
	    "d.test. 300 IN A 192.0.2.1", "d.test. 300 IN A 192.0.2.2",
	    NULL };
	static const char *const loop[] = {
	    "a.test. 300 IN CNAME b.test.", "b.test. 300 IN CNAME a.test.",
	    "a.test. 300 IN A 192.0.2.1", NULL };
	static const char *const far[] = {
	    "a.test. 300 IN CNAME b.test.", "b.test. 300 IN CNAME c.test.",
	    "c.test. 300 IN CNAME d.test.", "d.test. 300 IN CNAME e.test.",
	    "e.test. 300 IN CNAME f.test.", "f.test. 300 IN CNAME g.test.",
	    "g.test. 300 IN CNAME h.test.", "h.test. 300 IN CNAME i.test.",
	    "i.test. 300 IN CNAME j.test.", "j.test. 300 IN A 192.0.2.1",
	    NULL };

	is_int(chain_count("a.test.", order), 2, "a CNAME chain given out of "
	    "order is followed; the padding beside it is ignored");
	is_int(chain_count("a.test.", loop), 1, "a CNAME loop ends");
	is_int(chain_count("j.test.", far), 1, "the query name's own records");
	is_int(chain_count("a.test.", far), 1, "9 CNAMEs in order are followed");
}

/* reverse_ldns - the reverse name the way iprev asked ldns for it */
static char *
reverse_ldns(const char *ip)
{
	ldns_rdf *addr, *rev;
	char *text;

	addr = ldns_rdf_new_frm_str(strchr(ip, ':') != NULL ?
	    LDNS_RDF_TYPE_AAAA : LDNS_RDF_TYPE_A, ip);
	if (addr == NULL)
		return NULL;
	rev = ldns_rdf_address_reverse(addr);
	text = rev != NULL ? ldns_rdf2str(rev) : NULL;
	ldns_rdf_deep_free(rev);
	ldns_rdf_deep_free(addr);
	return text;
}

/* test_reverse_name - dns_reverse_name against ldns_rdf_address_reverse
 * and ldns_rdf2str: 100,000 random addresses (IPv4, IPv6 as inet_ntop
 * writes them, mostly zero IPv6 for the "::" forms, IPv4-mapped, upper
 * case hex), strings that are no address, and the buffer sizes */
static void
test_reverse_name(void)
{
	static const char *junk[] = { "", "1.2.3", "1.2.3.4.5", "256.1.1.1",
	    "01.2.3.4", "1.2.3.4 ", ":::", "1::2::3", "gg::1", "[::1]",
	    "::1%eth0", "example.org" };
	char ip[INET6_ADDRSTRLEN], got[DNS_REVERSE_NAME_MAX], *want;
	unsigned seed = 20261206, t, bad = 0, i, rc;
	unsigned char a[16];
	int af;

	for (t = 0; t < 100000; t++) {
		af = t % 2 == 0 ? AF_INET : AF_INET6;
		for (i = 0; i < 16; i++)
			a[i] = t % 4 == 1 && rand_r(&seed) % 4 != 0 ? 0 :
			    (uint8_t)rand_r(&seed);
		if (t % 8 == 3)
			memcpy(a, "\0\0\0\0\0\0\0\0\0\0\377\377", 12);
		inet_ntop(af, a, ip, sizeof(ip));
		if (t % 16 == 5)
			for (i = 0; ip[i] != '\0'; i++)
				ip[i] = (char)toupper((unsigned char)ip[i]);
		want = reverse_ldns(ip);
		rc = (unsigned)dns_reverse_name(ip, got, sizeof(got));
		if (want == NULL || rc != SCOPE_OK || strcmp(got, want) != 0) {
			if (bad++ == 0)
				printf("# %s: got %s want %s\n", ip, got,
				    want != NULL ? want : "(null)");
		}
		free(want);
	}
	is_int(bad, 0, "dns_reverse_name: the name ldns gives for 100,000 "
	    "random addresses");
	for (i = 0, bad = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		want = reverse_ldns(junk[i]);
		if (want != NULL || dns_reverse_name(junk[i], got,
		    sizeof(got)) != SCOPE_EINVAL)
			bad++;
		free(want);
	}
	is_int(bad, 0, "dns_reverse_name: what ldns refuses is refused");
	ok(dns_reverse_name("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", got,
	    DNS_REVERSE_NAME_MAX) == SCOPE_OK && strlen(got) + 1 ==
	    DNS_REVERSE_NAME_MAX && dns_reverse_name("1.2.3.4", got, 21) ==
	    SCOPE_ETOOBIG && dns_reverse_name("1.2.3.4", got, 22) ==
	    SCOPE_OK && strcmp(got, "4.3.2.1.in-addr.arpa.") == 0,
	    "dns_reverse_name: DNS_REVERSE_NAME_MAX holds any IPv6 name; "
	    "22 bytes hold 4.3.2.1.in-addr.arpa., 21 do not");
}

int
main(void)
{
	struct dns_resolver *r, *net;
	struct dns_ctx c;
	struct iprev_outcome io;
	enum dns_sec sec;
	char path[] = "/tmp/test_dns.XXXXXX", err[256], servers[64];
	size_t n;
	int i, fd, sfd, port;
	int64_t t0;
	FILE *fp;

	plan(80);
	test_name_text();
	test_reverse_name();
	test_type_name();
	test_rcode_name();
	if (dns_resolver_new_zones(&r, 2000) != 0)
		return 1;
	for (i = 0; zone_rrs[i] != NULL; i++)
		if (dns_zone_add(r, zone_rrs[i]) != 0)
			printf("# bad test record %s\n", zone_rrs[i]);
	dns_zone_add_timeout(r, "slow.sec.test.");
	dns_zone_set_sec(r, "sec.test.", DNS_SEC_SECURE);
	dns_zone_set_sec(r, "bogus.test.", DNS_SEC_BOGUS);
	dns_zone_set_sec(r, "100.51.198.in-addr.arpa.", DNS_SEC_SECURE);
	dns_ctx_init(&c, r);

	is_int(query(&c, "mx.sec.test.", LDNS_RR_TYPE_A, &sec, &n), 0, "A: NOERROR");
	is_int(n, 1, "A: one address");
	is_str(dns_sec_name(sec), "secure", "a name under a secure apex is secure");
	is_int(query(&c, "nx.sec.test.", LDNS_RR_TYPE_A, &sec, &n), 3, "missing name: NXDOMAIN");
	is_int(query(&c, "mx.sec.test.", LDNS_RR_TYPE_MX, &sec, &n), 0, "no such type: NOERROR");
	is_int(n, 0, "no such type: no data");
	is_int(query(&c, "www.sec.test.", LDNS_RR_TYPE_A, &sec, &n), 0, "CNAME: NOERROR");
	is_int(n, 1, "CNAME is followed to the address");
	is_int(query(&c, "x.wild.sec.test.", LDNS_RR_TYPE_A, &sec, &n), 0, "wildcard: NOERROR");
	is_int(n, 1, "wildcard synthesises the address");
	is_int(query(&c, "b.ent.sec.test.", LDNS_RR_TYPE_A, &sec, &n), 0,
	    "empty non-terminal: NOERROR, not NXDOMAIN");
	is_int(query(&c, "slow.sec.test.", LDNS_RR_TYPE_A, &sec, &n), -1, "timeout: no rcode");
	is_str(dns_sec_name(sec), "timeout", "timeout status");
	is_int(query(&c, "toslow.sec.test.", LDNS_RR_TYPE_A, &sec, &n), -1,
	    "a CNAME to a name that times out times out too");
	is_int(query(&c, "x.bogus.test.", LDNS_RR_TYPE_TXT, &sec, &n), 2, "bogus zone: SERVFAIL");
	is_str(dns_sec_name(sec), "bogus", "bogus status");
	is_int(query(&c, "other.example.", LDNS_RR_TYPE_A, &sec, &n), 3, "unknown zone: NXDOMAIN");
	is_str(dns_sec_name(sec), "insecure", "outside any secure apex: insecure");
	is_int(c.nlog, 10, "every lookup is logged");
	is_str(c.log[0].qname, "mx.sec.test.", "log keeps the query name");
	ok(c.log[0].qtype == LDNS_RR_TYPE_A && c.log[0].rcode == 0, "log keeps type and rcode");
	for (i = 0; i < DNS_LOG_MAX + 5; i++)
		query(&c, "mx.sec.test.", LDNS_RR_TYPE_A, &sec, &n);
	ok(c.nlog == DNS_LOG_MAX && c.total == 10 + DNS_LOG_MAX + 5, "log capped, all counted");
	dns_ctx_free(&c);

	dns_ctx_init(&c, r);
	iprev_check(&c, "198.51.100.10", &io);
	is_str(iprev_res_name(io.result), "pass", "iprev: PTR and A agree");
	is_str(io.names[0], "client.sec.test.", "iprev: the PTR name");
	is_str(dns_sec_name(io.dnssec), "secure", "iprev: DNSSEC of the deciding lookups");
	iprev_check(&c, "198.51.100.11", &io);
	is_str(iprev_res_name(io.result), "fail", "iprev: PTR name without the address");
	iprev_check(&c, "198.51.100.12", &io);
	is_str(iprev_res_name(io.result), "permerror", "iprev: no PTR");
	iprev_check(&c, "198.51.100.13", &io);
	is_str(iprev_res_name(io.result), "temperror", "iprev: forward lookup times out");
	iprev_check(&c, "2001:db8:100::10", &io);
	is_str(iprev_res_name(io.result), "pass", "iprev: IPv6 PTR and AAAA agree");
	dns_ctx_free(&c);

	fd = mkstemp(path);
	fp = fdopen(fd, "w");
	fprintf(fp, "$ORIGIN file.test.\n$TTL 300\n@ IN SOA ns h 1 3600 600 86400 300\n"
	    "@ IN TXT \"v=spf1 ip4:192.0.2.0/24 -all\"\nmx IN A 192.0.2.1\n");
	fclose(fp);
	ok(dns_zone_load(r, path, err, sizeof(err)) == 0, "a master file loads");
	dns_ctx_init(&c, r);
	is_int(query(&c, "mx.file.test.", LDNS_RR_TYPE_A, &sec, &n), 0, "master file: name answers");
	is_int(query(&c, "file.test.", LDNS_RR_TYPE_TXT, &sec, &n), 0, "master file: apex TXT");
	dns_ctx_free(&c);
	fp = fopen(path, "w");
	fprintf(fp, "@ IN BOGUS stuff\n");
	fclose(fp);
	ok(dns_zone_load(r, path, err, sizeof(err)) != 0 && strstr(err, path) != NULL,
	    "a broken master file is an error naming the file");
	unlink(path);
	dns_resolver_free(r);

	{
		struct dns_answer pad;
		ldns_rr *rr = NULL;
		ldns_rr_list *l;

		memset(&pad, 0, sizeof(pad));
		pad.pkt = ldns_pkt_query_new(ldns_dname_new_frm_str("mx.sec.test."),
		    LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, LDNS_RD);
		ldns_rr_new_frm_str(&rr, "evil.example. 300 IN A 203.0.113.1",
		    300, NULL, NULL);
		ldns_pkt_push_rr(pad.pkt, LDNS_SECTION_ANSWER, rr);
		l = dns_answer_records(&pad, LDNS_RR_TYPE_A);
		ok(l == NULL, "answer records for another name (padding) are ignored");
		ldns_rr_list_free(l);
		dns_answer_free(&pad);
		test_chain();
	}
	ok(dns_resolver_new(&net, "127.0.0.1:99999", 1000, 1, err, sizeof(err))
	    != 0, "a port above 65535 is refused");
	ok(dns_resolver_new(&net, "127.0.0.1:53 127.0.0.2:5353", 1000, 1, err,
	    sizeof(err)) != 0, "name servers on different ports are refused");
	port = silent_server(&sfd);
	snprintf(servers, sizeof(servers), "127.0.0.1:%d", port);
	if (dns_resolver_new(&net, servers, 300, 1, err, sizeof(err)) != 0)
		return 1;
	dns_ctx_init(&c, net);
	t0 = clock_mono();
	for (i = 0; i < 3; i++)
		query(&c, "a.silent.test.", LDNS_RR_TYPE_A, &sec, &n);
	ok(clock_mono() - t0 < 450000, "three lookups to a silent server stay within the 300 ms budget");
	is_str(dns_sec_name(sec), "timeout", "a silent server is a timeout");
	dns_ctx_free(&c);
	dns_resolver_free(net);
	close(sfd);
	test_outage();
	test_two_servers();
	test_shared_deadline();
	return done_testing();
}
