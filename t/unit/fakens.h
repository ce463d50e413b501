/*
 * fakens.h - a fake name server on loopback for the DNS unit tests
 * (test_dns.c, test_dnsudp.c): a thread reads queries, counts them, keeps
 * the source ports and IDs of the first 16, and, only when told to (answer),
 * sends each back as a NOERROR answer without records; with forge set it
 * first sends a forged NXDOMAIN with another ID or another question.
 * Fields marked atomic may be changed while it runs.
 */
#ifndef SMTPSCOPE_FAKENS_H
#define SMTPSCOPE_FAKENS_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum fake_forge { FORGE_NONE, FORGE_ID, FORGE_QUESTION };

struct fake {
	int fd, port;
	int answer;		/* atomic: reply (NOERROR, no data) */
	int forge;		/* atomic: enum fake_forge, before the reply */
	int stop;		/* atomic */
	unsigned queries;	/* atomic: queries received */
	uint16_t ports[16];	/* source ports of the first queries */
	uint16_t ids[16];	/* and their IDs */
	pthread_t th;
};

/* fake_reply - the query back as an answer; a forged one first if told */
static void
fake_reply(struct fake *f, unsigned char *buf, size_t n,
    const struct sockaddr_storage *from, socklen_t flen)
{
	unsigned char forged[4096];
	int forge = __atomic_load_n(&f->forge, __ATOMIC_SEQ_CST);

	buf[2] |= 0x80;					/* QR */
	buf[3] = (unsigned char)((buf[3] & 0x10) | 0x80);	/* RA, NOERROR */
	if (forge != FORGE_NONE && n > 13 && n <= sizeof(forged)) {
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

/* fake_run - the server loop: count, remember the port, maybe answer */
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
		i = __atomic_fetch_add(&f->queries, 1, __ATOMIC_SEQ_CST);
		if (i < 16) {
			f->ports[i] = ntohs(((struct sockaddr_in *)&from)->sin_port);
			f->ids[i] = (uint16_t)(buf[0] << 8 | buf[1]);
		}
		if (__atomic_load_n(&f->answer, __ATOMIC_SEQ_CST))
			fake_reply(f, buf, (size_t)n, &from, flen);
	}
	return NULL;
}

/* fake_start - a silent server on addr (port 0: any free port) */
static int
fake_start(struct fake *f, const char *addr, int port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	memset(f, 0, sizeof(*f));
	f->fd = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, addr, &sin.sin_addr);
	if (f->fd < 0 || bind(f->fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    getsockname(f->fd, (struct sockaddr *)&sin, &len) != 0)
		return -1;
	f->port = ntohs(sin.sin_port);
	return pthread_create(&f->th, NULL, fake_run, f) == 0 ? 0 : -1;
}

/* fake_stop - end the thread, close the socket */
static void
fake_stop(struct fake *f)
{
	__atomic_store_n(&f->stop, 1, __ATOMIC_SEQ_CST);
	pthread_join(f->th, NULL);
	close(f->fd);
}

#endif
