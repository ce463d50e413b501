/*
 * test_record.c - sessions played through lib/session into a real record
 * log, each line parsed back with jansson.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "macros_fake.h"
#include "recordlog.h"
#include "session.h"
#include "tap.h"
#include "testutil.h"

static char logpath[] = "/tmp/test_record.XXXXXX";
static struct recordlog *rlog;
static struct session_env env;

static const char *const connect_macros[] = {
	"j", "mx.smtpscope.test", "v", "Postfix 3.7.11",
	"{daemon_addr}", "127.0.0.1", "{daemon_port}", "2525",
	"{client_ptr}", "client.example.org", NULL
};
static const char *const helo_tls[] = {
	"{tls_version}", "TLSv1.2", "{cipher}", "ECDHE-RSA-AES256-GCM-SHA384",
	"{cipher_bits}", "256", NULL
};
static const char *const eom_macros[] = { "i", "4ABCDEF123", NULL };
static const char *const none[] = { NULL };

/* read_lines - parse every line of the log; returns the count */
static int
read_lines(json_t **recs, int max, int *bad)
{
	char line[300000];
	FILE *fp = fopen(logpath, "r");
	int n = 0;

	*bad = 0;
	while (fp != NULL && n < max && fgets(line, sizeof(line), fp) != NULL) {
		recs[n] = json_loads(line, 0, NULL);
		if (recs[n] == NULL || line[strlen(line) - 1] != '\n')
			(*bad)++;
		else
			n++;
	}
	if (fp != NULL)
		fclose(fp);
	return n;
}

/* sa_v4 - an IPv4 client address */
static struct sockaddr_in
sa_v4(const char *ip, unsigned port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	inet_pton(AF_INET, ip, &sin.sin_addr);
	return sin;
}

/* play_message - MAIL .. EOM with the given recipients */
static void
play_message(struct session *s, const char *from, int nrcpt)
{
	struct macro_src m = fake_src(none), e = fake_src(eom_macros);
	const char *mail[] = { from, "SIZE=321", NULL };
	const char *rcpt[] = { "<rcpt@smtpscope.test>", NULL };
	int i;

	session_mail(s, mail, &m);
	for (i = 0; i < nrcpt; i++)
		session_rcpt(s, rcpt, &m, NULL);
	session_data(s, &m);
	session_header(s, "From", "a@example.org");	/* leading space stripped */
	session_header(s, "Message-ID", " <id1@example.org>");
	session_eoh(s, &e);
	session_body(s, (const unsigned char *)"hello\r\n", 7);
	session_eom(s, &e, NULL, NULL);
}


/* has_trunc - whether a record's "truncated" names a field */
static int
has_trunc(json_t *rec, const char *name)
{
	json_t *a = json_object_get(rec, "truncated"), *v;
	size_t i;

	json_array_foreach(a, i, v)
		if (strcmp(json_string_value(v), name) == 0)
			return 1;
	return 0;
}

int
main(void)
{
	struct macro_src cm = fake_src(connect_macros), hm = fake_src(helo_tls);
	struct sockaddr_in sin = sa_v4("192.0.2.10", 40000);
	struct sockaddr_in6 sin6;
	json_t *recs[16];
	char longhelo[1200], hostile[] = "evil\r\nhelo\"\\\x01\xff\xfe end";
	struct session *s;
	int n, bad, fd;

	fd = mkstemp(logpath);
	if (fd < 0 || recordlog_open(&rlog, logpath, 0600) != 0)
		return 1;
	close(fd);
	env.log = rlog;
	plan(40);

	/* session 1: TLS, two messages, a hostile HELO */
	s = session_new(&env);
	session_connect(s, "unknown", (struct sockaddr *)&sin, &cm);
	session_helo(s, hostile, &hm);
	play_message(s, "<a@example.org>", 1);
	play_message(s, "<>", 2);
	session_close(s);
	n = read_lines(recs, 16, &bad);
	is_int(n, 3, "two messages and one session give three records");
	is_int(bad, 0, "every line is valid JSON ending in a newline");
	is_int(ifield(recs[0], "v"), 1, "schema version 1");
	is_str(sfield(recs[0], "event"), "message", "first record is a message");
	is_str(sfield(recs[2], "event"), "session", "last record is the session");
	ok(strcmp(sfield(recs[0], "session"), sfield(recs[2], "session")) == 0,
	    "message and session records share the session id");
	is_str(sfield(recs[0], "client.helo"), "evil\r\nhelo\"\\\x01\xef\xbf\xbd\xef\xbf\xbd end",
	    "hostile HELO survives exactly, invalid bytes replaced");
	is_str(sfield(recs[0], "client.ip"), "192.0.2.10", "client ip");
	is_int(ifield(recs[0], "client.port"), 40000, "client port");
	is_str(sfield(recs[0], "client.family"), "ipv4", "client family");
	is_str(sfield(recs[0], "client.ptr"), "client.example.org", "client ptr from {client_ptr}");
	is_str(sfield(recs[0], "server.name"), "mx.smtpscope.test", "server name from j");
	is_int(ifield(recs[0], "server.port"), 2525, "server port");
	is_str(sfield(recs[0], "server.mta"), "postfix", "MTA detected");
	is_str(sfield(recs[0], "tls.version"), "TLSv1.2", "TLS version from HELO macros");
	is_int(ifield(recs[0], "tls.bits"), 256, "TLS bits as integer");
	ok(json_is_null(field(recs[0], "tls.peer")), "no client certificate: peer null");
	is_str(sfield(recs[0], "queue_id"), "4ABCDEF123", "queue id from i");
	is_str(sfield(recs[0], "envelope.from"), "a@example.org", "sender without brackets");
	is_str(sfield(recs[1], "envelope.from"), "", "null sender is the empty string");
	is_int(ifield(recs[1], "envelope.rcpt_count"), 2, "second message has two recipients");
	is_str(sfield(recs[0], "message.id"), "<id1@example.org>", "Message-ID kept");
	is_int(ifield(recs[0], "message.headers"), 2, "header count");
	is_int(ifield(recs[0], "message.size"), 52 + 2 + 7, "size: headers + blank line + body");
	is_int(ifield(recs[0], "envelope.size_declared"), 321, "ESMTP SIZE kept");
	is_str(sfield(recs[0], "disposition.action"), "accept", "disposition accept");
	is_int(ifield(recs[1], "msg"), 2, "messages are numbered in the session");
	is_int(ifield(recs[2], "messages"), 2, "session counts its messages");
	ok(json_is_array(field(recs[2], "tags")), "tags is an array");
	while (n > 0)
		json_decref(recs[--n]);
	if (truncate(logpath, 0) != 0)
		return 1;

	/* session 2: IPv4-mapped IPv6, over-long HELO, too many recipients, abort */
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "::ffff:198.51.100.9", &sin6.sin6_addr);
	memset(longhelo, 'h', sizeof(longhelo) - 1);
	longhelo[sizeof(longhelo) - 1] = '\0';
	s = session_new(&env);
	session_connect(s, "[198.51.100.9]", (struct sockaddr *)&sin6, &cm);
	session_helo(s, longhelo, &cm);
	{
		struct macro_src m = fake_src(none);
		const char *mail[] = { "<x@example.org>", NULL };
		const char *rcpt[] = { "<r@smtpscope.test>", NULL };
		int i;

		session_mail(s, mail, &m);
		for (i = 0; i < 150; i++)
			session_rcpt(s, rcpt, &m, NULL);
		session_abort(s);
	}
	session_close(s);
	n = read_lines(recs, 16, &bad);
	is_int(n, 2, "aborted message and session give two records");
	is_str(sfield(recs[0], "client.family"), "ipv4", "IPv4-mapped address counts as ipv4");
	is_str(sfield(recs[0], "client.ip"), "198.51.100.9", "mapped address unwrapped");
	is_int((long long)strlen(sfield(recs[0], "client.helo")), SESSION_HELO_MAX - 1,
	    "HELO capped at its documented length");
	ok(has_trunc(recs[0], "helo"), "capped HELO is named in truncated");
	is_int((long long)json_array_size(field(recs[0], "envelope.rcpt")), SESSION_RCPT_MAX,
	    "recipient list capped");
	is_int(ifield(recs[0], "envelope.rcpt_count"), 150, "all recipients counted");
	is_str(sfield(recs[0], "disposition.action"), "abort", "aborted message recorded as abort");
	is_str(sfield(recs[0], "disposition.stage"), "rcpt", "abort stage is the last stage seen");
	ok(json_is_null(field(recs[0], "message.size")), "no DATA: size is null");
	is_int(ifield(recs[1], "aborted"), 1, "session counts the aborted message");
	while (n > 0)
		json_decref(recs[--n]);
	recordlog_close(rlog);
	unlink(logpath);
	return done_testing();
}
