/*
 * miltertalk.c - a scripted MTA for the integration tests: speaks the
 * milter protocol (contrib/bench/bench_wire.c) to a milter socket and
 * prints what the milter answered.
 *
 * SYNOPSIS
 *	miltertalk -s SOCKET [-a ACTIONS] sessions N
 *	miltertalk -s SOCKET hold N SECONDS
 *
 * DESCRIPTION
 *	sessions N: one milter connection carrying N SMTP sessions, each
 *	CONNECT, HELO, MAIL, RCPT, DATA, four headers, EOH, BODY, EOM, the
 *	sessions separated by SMFIC_QUIT_NC ("a new connection follows")
 *	and the last one ended by SMFIC_QUIT. For each end of message it
 *	prints one line per packet the milter sent, and one for the reply
 *	to RCPT (when it is not "continue", the message ends there with
 *	SMFIC_ABORT, as an MTA would with no recipient left):
 *	    rcpt SESSION: CMD TEXT
 *	    eom SESSION: CMD TEXT      (NUL bytes shown as '|')
 *	Session i's client is 192.0.2.i, its queue id QNC<i>. -a sets the
 *	actions offered at negotiation (default 0x1ff, all of version 6).
 *
 *	hold N SECONDS: opens N milter connections at once, sends the
 *	option negotiation on each, then CONNECT on each that answered, and
 *	waits up to 10 seconds for the answers; prints
 *	    answered A refused R silent S
 *	(refused: the milter closed the connection; silent: no answer), then
 *	holds the connections open for SECONDS and closes them.
 *
 * DIAGNOSTICS
 *	Exit 0 when the milter answered every step (sessions) or the counts
 *	were printed (hold); 1 on a protocol failure; 64 on bad usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <libmilter/mfdef.h>

#include "bench.h"
#include "clock.h"

#define TALK_HOLD_MAX	100000
#define TALK_WAIT_MS	10000

/* talk_usage - and exit */
static void
talk_usage(void)
{
	fprintf(stderr, "usage: miltertalk -s SOCKET [-a ACTIONS] sessions N\n"
	    "       miltertalk -s SOCKET hold N SECONDS\n");
	exit(64);
}

/* talk_print - one packet as a line, NULs as '|' */
static void
talk_print(const char *step, int session, char cmd, const char *data,
    size_t len)
{
	size_t i;

	printf("%s %d: %c ", step, session, cmd);
	for (i = 0; i < len; i++)
		putchar(data[i] == '\0' ? '|' : (unsigned char)data[i] < ' ' ?
		    '?' : data[i]);
	putchar('\n');
}

/* talk_eom - send EOM, print every packet up to the final reply */
static int
talk_eom(int fd, int session)
{
	char cmd, *data;
	size_t len;

	if (bench_send(fd, SMFIC_BODYEOB, NULL, 0) != 0)
		return -1;
	for (;;) {
		if (bench_recv(fd, &cmd, &data, &len) != 0)
			return -1;
		talk_print("eom", session, cmd, data, len);
		free(data);
		if (cmd != '\0' && strchr("cartdyf", cmd) != NULL)
			return cmd == SMFIR_CONTINUE || cmd == SMFIR_ACCEPT ? 0 : -1;
	}
}

/* talk_rcpt - RCPT; prints the reply; 1: refused (451 of greylisting) */
static int
talk_rcpt(int fd, int session)
{
	static const char rcpt[] = "<r@smtpscope.test>";
	char cmd, *data;
	size_t len;

	if (bench_send(fd, SMFIC_RCPT, rcpt, sizeof(rcpt)) != 0)
		return -1;
	for (;;) {
		if (bench_recv(fd, &cmd, &data, &len) != 0)
			return -1;
		if (cmd != SMFIR_PROGRESS)
			break;
		free(data);
	}
	talk_print("rcpt", session, cmd, data, len);
	free(data);
	return cmd == SMFIR_CONTINUE ? 0 : 1;
}

/* talk_step - one command; wait for the reply unless negotiated away */
static int
talk_step(const struct bench_conn *c, char cmd, const void *data,
    size_t len, uint32_t nr_flag)
{
	if (bench_send(c->fd, cmd, data, len) != 0)
		return -1;
	if ((c->pflags & nr_flag) != 0)
		return 0;
	return bench_wait_reply(c->fd) == SMFIR_CONTINUE ? 0 : -1;
}

/* talk_macro - one macro for a stage */
static int
talk_macro(int fd, char stage, const char *name, const char *value)
{
	char buf[256];
	int n = snprintf(buf, sizeof(buf), "%c%s%c%s", stage, name, 0, value);

	if (n < 0 || (size_t)n >= sizeof(buf))
		return -1;
	return bench_send(fd, SMFIC_MACRO, buf, (size_t)n + 1);
}

/* talk_connect - CONNECT from 192.0.2.<session>, then HELO */
static int
talk_connect(const struct bench_conn *c, int session)
{
	char buf[128];
	int n;

	n = snprintf(buf, sizeof(buf), "client%d.example.org%c4%c%c192.0.2.%d",
	    session, 0, 0x61, 0xa8, session);
	if (n < 0 || (size_t)n >= sizeof(buf) ||
	    talk_macro(c->fd, SMFIC_CONNECT, "j", "mx.smtpscope.test") != 0 ||
	    talk_step(c, SMFIC_CONNECT, buf, (size_t)n + 1, SMFIP_NR_CONN) != 0)
		return -1;
	n = snprintf(buf, sizeof(buf), "client%d.example.org", session);
	return talk_step(c, SMFIC_HELO, buf, (size_t)n + 1, SMFIP_NR_HELO);
}

/* talk_message - MAIL, RCPT, DATA, headers, EOH, BODY, EOM */
static int
talk_message(const struct bench_conn *c, int session)
{
	static const char mail[] = "<a@example.org>";
	static const char *const hdrs[] = {
		"From", "a@example.org", "To", "r@smtpscope.test",
		"Subject", "quit_nc", "Message-ID", "<qnc@example.org>", NULL
	};
	static const char body[] = "hello\r\n";
	char buf[256], qid[16];
	const char *lead = (c->pflags & SMFIP_HDR_LEADSPC) != 0 ? " " : "";
	int i, n;

	snprintf(qid, sizeof(qid), "QNC%d", session);
	if (talk_macro(c->fd, SMFIC_MAIL, "i", qid) != 0 ||
	    talk_step(c, SMFIC_MAIL, mail, sizeof(mail), SMFIP_NR_MAIL) != 0)
		return -1;
	n = talk_rcpt(c->fd, session);
	if (n != 0)	/* refused: like an MTA with no recipient left */
		return n < 0 ? -1 : bench_send(c->fd, SMFIC_ABORT, NULL, 0);
	if (talk_step(c, SMFIC_DATA, NULL, 0, SMFIP_NR_DATA) != 0)
		return -1;
	for (i = 0; hdrs[i] != NULL; i += 2) {
		n = snprintf(buf, sizeof(buf), "%s%c%s%s", hdrs[i], 0, lead,
		    hdrs[i + 1]);
		if (n < 0 || talk_step(c, SMFIC_HEADER, buf, (size_t)n + 1,
		    SMFIP_NR_HDR) != 0)
			return -1;
	}
	if (talk_step(c, SMFIC_EOH, NULL, 0, SMFIP_NR_EOH) != 0 ||
	    talk_step(c, SMFIC_BODY, body, sizeof(body) - 1, SMFIP_NR_BODY) != 0 ||
	    talk_macro(c->fd, SMFIC_BODYEOB, "i", qid) != 0)
		return -1;
	return talk_eom(c->fd, session);
}

/* talk_sessions - n SMTP sessions on one milter connection */
static int
talk_sessions(const char *spec, uint32_t actions, int n)
{
	struct bench_conn c;
	int i, rc = 0;

	memset(&c, 0, sizeof(c));
	c.actions = actions;
	c.fd = bench_connect(spec);
	if (c.fd < 0 || bench_negotiate(&c) != 0) {
		fprintf(stderr, "miltertalk: cannot negotiate with %s\n", spec);
		bench_conn_close(&c);
		return 1;
	}
	for (i = 1; i <= n && rc == 0; i++) {
		if (talk_connect(&c, i) != 0 || talk_message(&c, i) != 0) {
			fprintf(stderr, "miltertalk: session %d failed\n", i);
			rc = 1;
		} else if (i < n && bench_send(c.fd, SMFIC_QUIT_NC, NULL, 0) != 0)
			rc = 1;
	}
	bench_conn_close(&c);	/* sends SMFIC_QUIT */
	return rc;
}

/* talk_now_ms - monotonic milliseconds */
static long long
talk_now_ms(void)
{
	return (long long)(clock_mono() / 1000);
}

/* talk_collect - poll the connections that await an answer (state 1)
 * until each answered (2) or closed (3), or the deadline passed */
static void
talk_collect(struct pollfd *p, int *state, int n)
{
	long long end = talk_now_ms() + TALK_WAIT_MS;
	char cmd, *data;
	size_t len;
	int i, waiting;

	for (;;) {
		waiting = 0;
		for (i = 0; i < n; i++) {
			p[i].events = state[i] == 1 ? POLLIN : 0;
			waiting += state[i] == 1;
		}
		if (waiting == 0 || talk_now_ms() >= end ||
		    poll(p, (nfds_t)n, (int)(end - talk_now_ms())) <= 0)
			return;
		for (i = 0; i < n; i++) {
			if (state[i] != 1 || p[i].revents == 0)
				continue;
			state[i] = bench_recv(p[i].fd, &cmd, &data, &len) == 0 ?
			    2 : 3;
			free(data);
		}
	}
}

/* talk_send_all - send one packet on every answered connection */
static void
talk_send_all(struct pollfd *p, int *state, int n, char cmd,
    const void *data, size_t len)
{
	int i;

	for (i = 0; i < n; i++)
		if (state[i] == 2)
			state[i] = bench_send(p[i].fd, cmd, data, len) == 0 ? 1 : 3;
}

/* talk_hold - n connections at once; counts; hold; close */
static int
talk_hold(const char *spec, int n, int secs)
{
	const uint32_t offer[3] = { htonl(6), htonl(0x1ff), htonl(0x1fffff) };
	static const char conn[] = "held.example.org\0" "4\x61\xa8" "192.0.2.9";
	struct pollfd *p = calloc((size_t)n, sizeof(*p));
	int *state = calloc((size_t)n, sizeof(*state));
	int i, count[4] = { 0, 0, 0, 0 };

	if (p == NULL || state == NULL)
		return 1;
	for (i = 0; i < n; i++) {
		p[i].fd = bench_connect(spec);
		state[i] = p[i].fd >= 0 ? 2 : 3;
	}
	talk_send_all(p, state, n, SMFIC_OPTNEG, offer, sizeof(offer));
	talk_collect(p, state, n);
	talk_send_all(p, state, n, SMFIC_CONNECT, conn, sizeof(conn));
	talk_collect(p, state, n);
	for (i = 0; i < n; i++)
		count[state[i]]++;
	printf("answered %d refused %d silent %d\n", count[2], count[3],
	    count[1]);
	fflush(stdout);
	sleep((unsigned)secs);
	for (i = 0; i < n; i++)
		if (p[i].fd >= 0)
			close(p[i].fd);
	free(p);
	free(state);
	return 0;
}

/* talk_raise_nofile - room for n held connections (the hard limit too,
 * when it is lower and we may) */
static void
talk_raise_nofile(int n)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)n + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_max < want)
		rl.rlim_max = want;
	if (rl.rlim_cur < rl.rlim_max)
		rl.rlim_cur = rl.rlim_max;
	(void)setrlimit(RLIMIT_NOFILE, &rl);
}

int
main(int argc, char **argv)
{
	const char *spec = NULL;
	unsigned long actions = 0x1ff;
	int ch, n;

	while ((ch = getopt(argc, argv, "s:a:")) != -1) {
		switch (ch) {
		case 's': spec = optarg; break;
		case 'a': actions = strtoul(optarg, NULL, 0); break;
		default: talk_usage();
		}
	}
	if (spec == NULL || optind + 2 > argc)
		talk_usage();
	n = atoi(argv[optind + 1]);
	if (n < 1 || n > TALK_HOLD_MAX)
		talk_usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(argv[optind], "sessions") == 0 && optind + 2 == argc)
		return talk_sessions(spec, (uint32_t)actions, n);
	if (strcmp(argv[optind], "hold") == 0 && optind + 3 == argc) {
		talk_raise_nofile(n);
		return talk_hold(spec, n, atoi(argv[optind + 2]));
	}
	talk_usage();
	return 64;
}
