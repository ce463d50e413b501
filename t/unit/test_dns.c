/*
 * test_dns.c - the DNS layer on in-memory zones, a master file, and a
 * silent server (the time budget), and iprev on top of it.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "dns/dns.h"
#include "dns/iprev.h"
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
	l = dns_answer_rrs(&a, type);
	*n = l != NULL ? ldns_rr_list_rr_count(l) : 0;
	ldns_rr_list_deep_free(l);
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

	plan(38);
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
		l = dns_answer_rrs(&pad, LDNS_RR_TYPE_A);
		ok(l == NULL, "answer records for another name (padding) are ignored");
		ldns_rr_list_deep_free(l);
		dns_answer_free(&pad);
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
	return done_testing();
}
