/*
 * test_dnsudp.c - queries to a name server on loopback: one socket per
 * context (every query of a context comes from the same source port, and
 * dns_ctx_free closes it), and only the matching answer is taken: one
 * with another ID or another question, sent first, is ignored. The
 * server is a fake on 127.0.0.1 that answers NOERROR (the query echoed)
 * and, when told to, first sends a forged NXDOMAIN.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dns/dns.h"
#include "tap.h"

enum forge { FORGE_NONE, FORGE_ID, FORGE_QUESTION };

struct fake {
	int fd, port;
	int forge;		/* atomic: enum forge */
	int stop;		/* atomic */
	unsigned n;		/* atomic: queries received */
	uint16_t ports[16];	/* source ports of the first queries */
	pthread_t th;
};

/* fake_reply - send the query back as an answer; forged first if told */
static void
fake_reply(struct fake *f, unsigned char *buf, size_t n,
    const struct sockaddr_storage *from, socklen_t flen)
{
	unsigned char forged[4096];
	int forge = __atomic_load_n(&f->forge, __ATOMIC_SEQ_CST);

	buf[2] |= 0x80;					/* QR */
	buf[3] = (unsigned char)((buf[3] & 0x10) | 0x80);	/* RA, NOERROR */
	if (forge != FORGE_NONE && n > 13) {
		memcpy(forged, buf, n);
		forged[3] |= 3;				/* NXDOMAIN */
		if (forge == FORGE_ID)
			forged[1] ^= 0x5a;
		else
			forged[13] ^= 0x01;		/* first label's letter */
		(void)sendto(f->fd, forged, n, 0, (const struct sockaddr *)from,
		    flen);
	}
	(void)sendto(f->fd, buf, n, 0, (const struct sockaddr *)from, flen);
}

/* fake_run - the server loop */
static void *
fake_run(void *arg)
{
	struct fake *f = arg;
	struct pollfd pfd = { f->fd, POLLIN, 0 };
	struct sockaddr_storage from;
	unsigned char buf[4096];
	socklen_t flen;
	unsigned i;
	ssize_t n;

	while (!__atomic_load_n(&f->stop, __ATOMIC_SEQ_CST)) {
		if (poll(&pfd, 1, 20) <= 0)
			continue;
		flen = sizeof(from);
		n = recvfrom(f->fd, buf, sizeof(buf), 0,
		    (struct sockaddr *)&from, &flen);
		if (n < 12)
			continue;
		i = __atomic_fetch_add(&f->n, 1, __ATOMIC_SEQ_CST);
		if (i < 16)
			f->ports[i] = ntohs(((struct sockaddr_in *)&from)->sin_port);
		fake_reply(f, buf, (size_t)n, &from, flen);
	}
	return NULL;
}

/* fake_start - the server on 127.0.0.1, any free port */
static int
fake_start(struct fake *f)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	memset(f, 0, sizeof(*f));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	f->fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (f->fd < 0 || bind(f->fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    getsockname(f->fd, (struct sockaddr *)&sin, &len) != 0)
		return -1;
	f->port = ntohs(sin.sin_port);
	return pthread_create(&f->th, NULL, fake_run, f) == 0 ? 0 : -1;
}

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

int
main(void)
{
	struct dns_resolver *r = NULL;
	struct fake f;
	struct dns_ctx c;
	char servers[64], err[128];
	int fds0, during, rc1, rc2, rc3;

	plan(6);
	if (fake_start(&f) != 0)
		return 1;
	snprintf(servers, sizeof(servers), "127.0.0.1:%d", f.port);
	if (dns_resolver_new(&r, servers, 2000, 0, err, sizeof(err)) != 0)
		return 1;
	fds0 = open_fds();
	dns_ctx_init(&c, r);
	rc1 = rcode_of(&c, "one.test");
	rc2 = rcode_of(&c, "two.test");
	rc3 = rcode_of(&c, "three.test");
	during = open_fds();
	ok(rc1 == 0 && rc2 == 0 && rc3 == 0 && f.n == 3, "three queries "
	    "answered NOERROR (%d %d %d, %u sent)", rc1, rc2, rc3, f.n);
	ok(f.ports[0] == f.ports[1] && f.ports[1] == f.ports[2],
	    "one source port for the context's queries to a loopback "
	    "server (%u %u %u)", f.ports[0], f.ports[1], f.ports[2]);
	is_int(during - fds0, 1, "the context keeps one socket open");
	dns_ctx_free(&c);
	is_int(open_fds() - fds0, 0, "dns_ctx_free closes it");

	dns_ctx_init(&c, r);
	__atomic_store_n(&f.forge, FORGE_ID, __ATOMIC_SEQ_CST);
	is_int(rcode_of(&c, "forged-id.test"), 0,
	    "an answer with another ID, sent first, is ignored");
	__atomic_store_n(&f.forge, FORGE_QUESTION, __ATOMIC_SEQ_CST);
	is_int(rcode_of(&c, "forged-q.test"), 0,
	    "an answer to another question, sent first, is ignored");
	dns_ctx_free(&c);

	__atomic_store_n(&f.stop, 1, __ATOMIC_SEQ_CST);
	pthread_join(f.th, NULL);
	close(f.fd);
	dns_resolver_free(r);
	return done_testing();
}
