/*
 * bench_wire.c - milter packets: length (4 bytes, network order), command
 * byte, data. Reads are bounded by BENCH_PKT_MAX; every buffer returned
 * is owned by the caller.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <libmilter/mfdef.h>

#include "bench.h"

/* bench_connect_unix - connect to a UNIX socket path */
static int
bench_connect_unix(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* bench_connect_inet - connect to inet:PORT@HOST or inet6:PORT@HOST */
static int
bench_connect_inet(const char *rest)
{
	char port[16], host[256];
	const char *at = strchr(rest, '@');
	struct addrinfo hints, *ai = NULL;
	int fd = -1;

	if (at == NULL || (size_t)(at - rest) >= sizeof(port) ||
	    strlen(at + 1) >= sizeof(host))
		return -1;
	memcpy(port, rest, (size_t)(at - rest));
	port[at - rest] = '\0';
	strcpy(host, at + 1);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, port, &hints, &ai) != 0)
		return -1;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

/* bench_connect - a socket to the milter, -1 on failure */
int
bench_connect(const char *spec)
{
	struct timeval tv = { 30, 0 };
	int fd = -1;

	if (strncmp(spec, "unix:", 5) == 0)
		fd = bench_connect_unix(spec + 5);
	else if (strncmp(spec, "inet:", 5) == 0)
		fd = bench_connect_inet(spec + 5);
	else if (strncmp(spec, "inet6:", 6) == 0)
		fd = bench_connect_inet(spec + 6);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* bench_write_all - write every byte */
static int
bench_write_all(int fd, const struct iovec *iov, int n)
{
	struct iovec v[2];
	ssize_t w;
	int i;

	memcpy(v, iov, sizeof(v[0]) * (size_t)n);
	i = 0;
	while (i < n) {
		w = writev(fd, v + i, n - i);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		while (i < n && (size_t)w >= v[i].iov_len)
			w -= (ssize_t)v[i++].iov_len;
		if (i < n) {
			v[i].iov_base = (char *)v[i].iov_base + w;
			v[i].iov_len -= (size_t)w;
		}
	}
	return 0;
}

/* bench_send - one packet */
int
bench_send(int fd, char cmd, const void *data, size_t len)
{
	unsigned char head[5];
	uint32_t n = htonl((uint32_t)len + 1);
	struct iovec iov[2];

	memcpy(head, &n, 4);
	head[4] = (unsigned char)cmd;
	iov[0].iov_base = head;
	iov[0].iov_len = 5;
	iov[1].iov_base = (void *)data;
	iov[1].iov_len = len;
	return bench_write_all(fd, iov, len > 0 ? 2 : 1);
}

/* bench_read_all - read exactly len bytes */
static int
bench_read_all(int fd, void *buf, size_t len)
{
	size_t got = 0;
	ssize_t r;

	while (got < len) {
		r = read(fd, (char *)buf + got, len - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

/* bench_recv - one packet from the milter */
int
bench_recv(int fd, char *cmd, char **data, size_t *len)
{
	uint32_t n;
	char *buf;

	*data = NULL;
	if (bench_read_all(fd, &n, 4) != 0)
		return -1;
	n = ntohl(n);
	if (n < 1 || n > BENCH_PKT_MAX)
		return -1;
	buf = malloc(n);
	if (buf == NULL || bench_read_all(fd, buf, n) != 0) {
		free(buf);
		return -1;
	}
	*cmd = buf[0];
	*len = n - 1;
	memmove(buf, buf + 1, n - 1);
	*data = buf;
	return 0;
}

/* bench_symlists - the macro lists after the three flag words */
static void
bench_symlists(struct bench_conn *c, const char *p, size_t len)
{
	uint32_t stage;
	size_t slen;

	while (len > 4) {
		memcpy(&stage, p, 4);
		stage = ntohl(stage);
		p += 4;
		len -= 4;
		slen = strnlen(p, len);
		if (slen == len)
			return;
		if (stage < BENCH_STAGES && c->symlist[stage] == NULL)
			c->symlist[stage] = strndup(p, slen);
		p += slen + 1;
		len -= slen + 1;
	}
}

/* bench_negotiate - offer what Postfix 3.7 offers (or c->actions when
 * set), keep the answer */
int
bench_negotiate(struct bench_conn *c)
{
	uint32_t offer[3] = { htonl(6), htonl(c->actions != 0 ? c->actions :
	    0x1ff), htonl(0x1fffff) };
	uint32_t v;
	char cmd, *data;
	size_t len;

	if (bench_send(c->fd, SMFIC_OPTNEG, offer, sizeof(offer)) != 0 ||
	    bench_recv(c->fd, &cmd, &data, &len) != 0)
		return -1;
	if (cmd != SMFIC_OPTNEG || len < 12) {
		free(data);
		return -1;
	}
	memcpy(&v, data + 4, 4);
	c->actions = ntohl(v);
	memcpy(&v, data + 8, 4);
	c->pflags = ntohl(v);
	bench_symlists(c, data + 12, len - 12);
	free(data);
	return 0;
}

/* bench_conn_close - QUIT, close, free the macro lists */
void
bench_conn_close(struct bench_conn *c)
{
	int i;

	if (c->fd >= 0) {
		(void)bench_send(c->fd, SMFIC_QUIT, NULL, 0);
		close(c->fd);
	}
	c->fd = -1;
	for (i = 0; i < BENCH_STAGES; i++) {
		free(c->symlist[i]);
		c->symlist[i] = NULL;
	}
}

/* bench_wait_reply - skip progress and modification requests */
int
bench_wait_reply(int fd)
{
	char cmd, *data;
	size_t len;

	for (;;) {
		if (bench_recv(fd, &cmd, &data, &len) != 0)
			return -1;
		free(data);
		switch (cmd) {
		case SMFIR_CONTINUE:
		case SMFIR_ACCEPT:
		case SMFIR_REJECT:
		case SMFIR_TEMPFAIL:
		case SMFIR_DISCARD:
		case SMFIR_REPLYCODE:
		case SMFIR_SKIP:
		case SMFIR_SHUTDOWN:
		case SMFIR_CONN_FAIL:
			return cmd;
		default:
			continue;	/* progress, header edits, quarantine */
		}
	}
}
