/*
 * test_dnsudp.c - queries to a name server on loopback: one socket per
 * thread (every query of a thread comes from the same source port, across
 * contexts; another thread has its own, closed when it ends;
 * dns_resolver_free closes the caller's), and only the matching answer
 * is taken: one with another ID or another question, sent first, is
 * ignored. The
 * server is fakens.h's on 127.0.0.1, answering NOERROR (the query
 * echoed) and, when told to, first sending a forged NXDOMAIN.
 */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dns/dns.h"
#include "fakens.h"
#include "tap.h"

/* open_fds - descriptors this process has open */
static int
open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (d == NULL)
		return -1;
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

/* rcode_of - one TXT lookup through c: its rcode (-99: failed) */
static int
rcode_of(struct dns_ctx *c, const char *name)
{
	struct dns_answer a;
	int rc = -99;

	if (dns_query(c, name, LDNS_RR_TYPE_TXT, &a) == 0)
		rc = a.rcode;
	dns_answer_free(&a);
	return rc;
}

/* ids_vary - the first n query IDs the server saw: at most one repeat
 * (16 random 16-bit IDs repeat with a chance of 0.2 %), and not one
 * more than the last each time */
static bool
ids_vary(const struct fake *f, unsigned n)
{
	unsigned i, j, same = 0, up = 0;

	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			same += f->ids[i] == f->ids[j];
	for (i = 1; i < n; i++)
		up += f->ids[i] == (uint16_t)(f->ids[i - 1] + 1);
	return same <= 1 && up < n - 1;
}

/* other_thread - one lookup from a thread of its own */
static void *
other_thread(void *arg)
{
	struct dns_ctx c;

	dns_ctx_init(&c, arg);
	(void)rcode_of(&c, "other-thread.test");
	dns_ctx_free(&c);
	return NULL;
}

int
main(void)
{
	struct dns_resolver *r = NULL;
	struct fake f;
	struct dns_ctx c;
	pthread_t th;
	char servers[64], err[128], name[32];
	int fds0, during, rc1, rc2, rc3;
	unsigned k;

	plan(10);
	if (fake_start(&f, "127.0.0.1", 0) != 0)
		return 1;
	__atomic_store_n(&f.answer, 1, __ATOMIC_SEQ_CST);
	snprintf(servers, sizeof(servers), "127.0.0.1:%d", f.port);
	if (dns_resolver_new(&r, servers, 2000, 0, err, sizeof(err)) != 0)
		return 1;
	fds0 = open_fds();
	dns_ctx_init(&c, r);
	rc1 = rcode_of(&c, "one.test");
	rc2 = rcode_of(&c, "two.test");
	dns_ctx_free(&c);
	dns_ctx_init(&c, r);
	rc3 = rcode_of(&c, "three.test");
	dns_ctx_free(&c);
	during = open_fds();
	ok(rc1 == 0 && rc2 == 0 && rc3 == 0 && f.queries == 3, "three queries "
	    "answered NOERROR (%d %d %d, %u sent)", rc1, rc2, rc3, f.queries);
	ok(f.ports[0] == f.ports[1] && f.ports[1] == f.ports[2],
	    "one source port for a thread's queries to a loopback server, "
	    "across contexts (%u %u %u)", f.ports[0], f.ports[1], f.ports[2]);
	is_int(during - fds0, 1, "the thread keeps one socket open");
	ok(pthread_create(&th, NULL, other_thread, r) == 0 &&
	    pthread_join(th, NULL) == 0 && f.queries == 4 &&
	    f.ports[3] != f.ports[0], "another thread uses a socket of its own");
	is_int(open_fds() - fds0, 1, "which is closed when that thread ends");

	dns_ctx_init(&c, r);
	__atomic_store_n(&f.forge, FORGE_ID, __ATOMIC_SEQ_CST);
	is_int(rcode_of(&c, "forged-id.test"), 0,
	    "an answer with another ID, sent first, is ignored");
	__atomic_store_n(&f.forge, FORGE_QUESTION, __ATOMIC_SEQ_CST);
	is_int(rcode_of(&c, "forged-q.test"), 0,
	    "an answer to another question, sent first, is ignored");
	dns_ctx_free(&c);
	ok(f.ports[4] == f.ports[0] && f.ports[5] == f.ports[0],
	    "still the same socket after forged answers");
	dns_ctx_init(&c, r);
	for (k = f.queries; k < 16; k++) {
		snprintf(name, sizeof(name), "id%u.test", k);
		(void)rcode_of(&c, name);
	}
	dns_ctx_free(&c);
	ok(f.queries >= 16 && ids_vary(&f, 16), "RFC 5452: the IDs of 16 "
	    "queries vary and do not count up (%u %u %u %u ...)", f.ids[0],
	    f.ids[1], f.ids[2], f.ids[3]);

	dns_resolver_free(r);
	is_int(open_fds() - fds0, 0,
	    "dns_resolver_free closes the calling thread's socket");
	fake_stop(&f);
	return done_testing();
}
