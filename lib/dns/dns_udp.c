/*
 * dns_udp.c - one query over UDP without a socket per query, for a name
 * server on loopback, and the check every answer passes.
 *
 * ldns opens, sets up and closes a socket for every query (socket, two
 * fcntl, sendto, poll, recvfrom, close). For a resolver on loopback each
 * thread keeps one connected UDP socket per server instead (the
 * resolver's thread-specific data), opened at the thread's first query
 * and closed when the thread ends (dns_resolver_free closes the calling
 * thread's), so descriptors are bounded by the threads, not by the
 * sessions; a thread makes one query at a time, so nothing else reads
 * its socket. Its source port stays fixed, which is safe only where no
 * one off the machine can reach it: RFC 5452's defence against forged
 * answers is a random source port per query as well as a random ID, so a
 * server off loopback keeps ldns's fresh socket (a new random port) per
 * query.
 *
 * On a kept socket, datagrams left over from an earlier query that
 * timed out are drained before sending; then answers are read until one
 * matches (dns_udp_matches: same ID, QR set, the same question, name
 * compared without case) or the time is up; one with our ID that does
 * not parse is malformed (its ldns status is returned). An answer with the TC bit
 * is given back truncated; dns.c asks again over TCP through ldns. The
 * answer from ldns's path is checked the same way (dns.c). Failures map
 * to ldns statuses: LDNS_STATUS_NETWORK_ERR (nothing usable in time),
 * LDNS_STATUS_SOCKET_ERROR, LDNS_STATUS_MEM_ERR.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "dns/dns_internal.h"

#define DNS_UDP_BUF	4096	/* we ask for 1232 bytes (EDNS0) */

/* dns_udp_is_loopback - 127.0.0.0/8 or ::1 */
bool
dns_udp_is_loopback(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in *in4 = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;

	if (ss->ss_family == AF_INET)
		return (ntohl(in4->sin_addr.s_addr) >> 24) == 127;
	return ss->ss_family == AF_INET6 &&
	    IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
}

/* dns_udp_matches - is answer the reply to query: ID, QR, one question
 * with the same name (without case), type and class */
bool
dns_udp_matches(const ldns_pkt *query, const ldns_pkt *answer)
{
	const ldns_rr_list *qq = ldns_pkt_question(query);
	const ldns_rr_list *aq = ldns_pkt_question(answer);
	const ldns_rr *q, *a;

	if (ldns_pkt_id(answer) != ldns_pkt_id(query) || !ldns_pkt_qr(answer) ||
	    ldns_rr_list_rr_count(aq) != 1 || ldns_rr_list_rr_count(qq) != 1)
		return false;
	q = ldns_rr_list_rr(qq, 0);
	a = ldns_rr_list_rr(aq, 0);
	return ldns_rr_get_type(q) == ldns_rr_get_type(a) &&
	    ldns_rr_get_class(q) == ldns_rr_get_class(a) &&
	    ldns_dname_compare(ldns_rr_owner(q), ldns_rr_owner(a)) == 0;
}

/* the sockets one thread keeps, one per server; -1: none */
struct dns_udp_local {
	int fd[DNS_SERVERS_MAX];
};

/* dns_udp_local_free - close a thread's sockets (its key's destructor) */
void
dns_udp_local_free(void *p)
{
	struct dns_udp_local *l = p;
	unsigned i;

	if (l == NULL)
		return;
	for (i = 0; i < DNS_SERVERS_MAX; i++)
		if (l->fd[i] >= 0)
			close(l->fd[i]);
	free(l);
}

/* dns_udp_local - the calling thread's sockets for r, made on first use;
 * NULL when out of memory */
static struct dns_udp_local *
dns_udp_local(struct dns_resolver *r)
{
	struct dns_udp_local *l = pthread_getspecific(r->udp_key);
	unsigned i;

	if (l != NULL)
		return l;
	if ((l = malloc(sizeof(*l))) == NULL)
		return NULL;
	for (i = 0; i < DNS_SERVERS_MAX; i++)
		l->fd[i] = -1;
	if (pthread_setspecific(r->udp_key, l) != 0) {
		free(l);
		return NULL;
	}
	return l;
}

/* dns_udp_open - a connected, non-blocking UDP socket to the server */
static int
dns_udp_open(const struct dns_server *s)
{
	int fd = socket(s->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)&s->addr, s->addrlen) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* dns_udp_drain - throw away datagrams that arrived after their query
 * gave up (they would not match anyway; this keeps the queue short) */
static void
dns_udp_drain(int fd)
{
	uint8_t buf[DNS_UDP_BUF];
	int n;

	for (n = 0; n < 64; n++)
		if (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) < 0 &&
		    errno != ECONNREFUSED)
			break;
}

/* dns_udp_read - the matching answer, read until deadline: 1 found, 0
 * not (yet), -1 socket error, 2 an answer with our ID that does not
 * parse (*bad says why) */
static int
dns_udp_read(int fd, const ldns_pkt *query, ldns_pkt **answer,
    ldns_status *bad)
{
	uint8_t buf[DNS_UDP_BUF];
	ldns_pkt *pkt;
	ssize_t n;

	for (;;) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == ECONNREFUSED || errno == EINTR ? 0 : -1;
		pkt = NULL;
		*bad = ldns_wire2pkt(&pkt, buf, (size_t)n);
		if (*bad != LDNS_STATUS_OK && n >= 2 &&
		    ((unsigned)buf[0] << 8 | buf[1]) == ldns_pkt_id(query))
			return 2;	/* ours, malformed */
		if (*bad != LDNS_STATUS_OK)
			continue;	/* not a DNS message for us */
		if (dns_udp_matches(query, pkt)) {
			*answer = pkt;
			return 1;
		}
		ldns_pkt_free(pkt);	/* stale or forged: keep waiting */
	}
}

/* dns_udp_send - query over the thread's socket to server i (opened on
 * first use, reopened after an error), waiting at most us */
ldns_status
dns_udp_send(struct dns_resolver *r, unsigned i, const ldns_pkt *query,
    int64_t us, ldns_pkt **answer)
{
	struct dns_udp_local *l = dns_udp_local(r);
	int64_t end = clock_mono() + us, left;
	ldns_status bad = LDNS_STATUS_OK;
	uint8_t *wire = NULL;
	struct pollfd pfd;
	size_t len;
	int got, *fd;

	*answer = NULL;
	if (l == NULL)
		return LDNS_STATUS_MEM_ERR;
	fd = &l->fd[i];
	if (*fd < 0 && (*fd = dns_udp_open(&r->servers[i])) < 0)
		return LDNS_STATUS_SOCKET_ERROR;
	if (ldns_pkt2wire(&wire, query, &len) != LDNS_STATUS_OK)
		return LDNS_STATUS_MEM_ERR;
	dns_udp_drain(*fd);
	got = send(*fd, wire, len, 0) == (ssize_t)len ? 0 : -1;
	LDNS_FREE(wire);
	while (got == 0 && (left = end - clock_mono()) > 0) {
		pfd.fd = *fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, (int)((left + 999) / 1000)) < 0 &&
		    errno != EINTR)
			got = -1;
		else
			got = dns_udp_read(*fd, query, answer, &bad);
	}
	if (got < 0) {
		close(*fd);
		*fd = -1;
		return LDNS_STATUS_SOCKET_ERROR;
	}
	if (got == 2)
		return bad;
	return got == 1 ? LDNS_STATUS_OK : LDNS_STATUS_NETWORK_ERR;
}
