/*
 * test_metrics.c - metrics derived from records (lib/metrics.c): every
 * family counts what the record says (from the session fields it is
 * written from; unit/test_session compares with records written),
 * hostile label values count as "other" and never become series, and
 * the exposition text is well formed.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>

#include "metrics.h"
#include "metrics_value.h"
#include "stats.h"
#include "tap.h"

/* a session as the session layer hands it over: env (greylisting off
 * unless gl is set), no DNS context unless dns is */
static struct session_env env;
static struct dns_ctx dns1, dns2;

static void
session_init(struct session *s, int family, const char *tls)
{
	memset(s, 0, sizeof(*s));
	s->env = &env;
	s->family = family;
	if (tls != NULL) {
		s->tls.used = true;
		snprintf(s->tls.version, sizeof(s->tls.version), "%s", tls);
	}
}

/* lookup - one listed lookup of c */
static void
lookup(struct dns_ctx *c, int rcode, enum dns_sec sec, double ms)
{
	struct dns_lookup *l = &c->log[c->nlog++];

	memset(l, 0, sizeof(*l));
	l->rcode = rcode;
	l->sec = sec;
	l->ms = ms;
	c->total++;
}

static void
test_session_records(void)
{
	struct session s;

	session_init(&s, AF_INET6, "TLSv1.3");
	s.auth.dns = &dns1;
	s.auth.iprev.result = IPREV_PASS;
	lookup(&dns1, 0, DNS_SEC_SECURE, 3.5);
	metrics_observe_session(&s);
	session_init(&s, AF_INET, NULL);
	s.auth.dns = &dns2;
	s.auth.iprev.result = IPREV_TEMPERROR;
	lookup(&dns2, -1, DNS_SEC_TIMEOUT, 5000);
	metrics_observe_session(&s);
	is_int(metrics_value(
	    "smtpscope_client_sessions_total{family=\"ipv6\"}"), 1,
	    "an IPv6 session");
	is_int(metrics_value(
	    "smtpscope_client_sessions_total{family=\"ipv4\"}"), 1,
	    "an IPv4 session");
	is_int(metrics_value(
	    "smtpscope_tls_sessions_total{version=\"TLSv1.3\"}"), 1,
	    "a TLS 1.3 session");
	is_int(metrics_value(
	    "smtpscope_tls_sessions_total{version=\"none\"}"), 1,
	    "a session without TLS");
	is_int(metrics_value("smtpscope_check_results_total{check=\"iprev\","
	    "result=\"temperror\"}"), 1,
	    "iprev temperror from the session record");
	is_int(metrics_value("smtpscope_dns_lookups_total{dnssec=\"timeout\","
	    "rcode=\"none\"}"), 1, "a lookup without an answer has rcode none");
	is_int(metrics_value(
	    "smtpscope_dns_lookup_seconds_bucket{le=\"0.005\"}"), 1,
	    "3.5 ms falls in the 5 ms bucket");
	is_int(metrics_value(
	    "smtpscope_dns_lookup_seconds_bucket{le=\"5\"}"), 2,
	    "buckets are cumulative");
	is_int(metrics_value("smtpscope_dns_lookup_seconds_count"), 2,
	    "two lookups timed");
}

static void
test_message_records(void)
{
	static const struct greylist_params gl = { .mode = GREYLIST_OBSERVE };
	struct dkimverify_sig sigs[2];
	struct session_gl gls[2];
	struct session_message m;
	struct session s;

	memset(&m, 0, sizeof(m));
	memset(sigs, 0, sizeof(sigs));
	memset(gls, 0, sizeof(gls));
	session_init(&s, AF_INET, NULL);
	env.gl = &gl;
	m.auth.spf = true;
	m.auth.mailfrom.result = SPF_RES_SOFTFAIL;
	m.auth.helo.result = SPF_RES_NONE;
	m.auth.dkim = true;
	sigs[0].result = DKIMVERIFY_PASS;
	sigs[1].result = DKIMVERIFY_FAIL;
	m.auth.dkim_out.sig = sigs;
	m.auth.dkim_out.nsig = 2;
	m.auth.dmarc = true;
	m.auth.dmarc_out.result = DMARCEVAL_PASS;
	gls[0].r.verdict = GREYLIST_NEW;
	gls[1].r.verdict = GREYLIST_PASSED;
	m.gl = gls;
	m.ngl = 2;
	m.gl_total = 2;
	metrics_observe_message(&s, &m);
	/* no signature, no error: dkim=none; greylisting off: no verdicts */
	memset(&m, 0, sizeof(m));
	m.auth.dkim = true;
	env.gl = NULL;
	m.gl = gls;
	m.ngl = 1;
	metrics_observe_message(&s, &m);
	/* no signature, but an error: not none */
	snprintf(m.auth.dkim_out.error, sizeof(m.auth.dkim_out.error), "x");
	metrics_observe_message(&s, &m);
	is_int(metrics_value(
	    "smtpscope_check_results_total{check=\"spf_mailfrom\","
	    "result=\"softfail\"}"), 1, "SPF MAIL FROM softfail");
	is_int(metrics_value("smtpscope_check_results_total{check=\"spf_helo\","
	    "result=\"none\"}"), 1, "SPF HELO none");
	is_int(metrics_value("smtpscope_check_results_total{check=\"dkim\","
	    "result=\"pass\"}"), 1, "one DKIM pass per signature");
	is_int(metrics_value("smtpscope_check_results_total{check=\"dkim\","
	    "result=\"fail\"}"), 1, "one DKIM fail per signature");
	is_int(metrics_value("smtpscope_check_results_total{check=\"dkim\","
	    "result=\"none\"}"), 1,
	    "a message without signatures or error is dkim=none");
	is_int(metrics_value("smtpscope_check_results_total{check=\"dmarc\","
	    "result=\"pass\"}"), 1, "DMARC pass");
	is_int(metrics_value(
	    "smtpscope_greylist_verdicts_total{verdict=\"new\"}"), 1,
	    "greylist verdict new");
	is_int(metrics_value(
	    "smtpscope_greylist_verdicts_total{verdict=\"passed\"}"),
	    1, "greylist verdict passed, none while greylisting is off");
}

static void
test_hostile(void)
{
	struct session s;
	char *text;
	size_t len;

	session_init(&s, AF_UNIX, "SSLv2\n\"} 99\n# evil");
	metrics_observe_session(&s);
	session_init(&s, AF_INET, "");
	s.auth.dns = &dns1;
	s.auth.iprev.result = (enum iprev_res)99;
	dns1.nlog = 0;
	lookup(&dns1, 4, DNS_SEC_BOGUS, -1);
	lookup(&dns1, 0, DNS_SEC_SECURE, 0.0 / 0.0);
	metrics_observe_session(&s);
	is_int(metrics_value(
	    "smtpscope_client_sessions_total{family=\"other\"}"), 1,
	    "an unknown family counts as other");
	is_int(metrics_value(
	    "smtpscope_tls_sessions_total{version=\"other\"}"), 2,
	    "an unknown or empty TLS version counts as other");
	is_int(metrics_value("smtpscope_check_results_total{check=\"iprev\","
	    "result=\"permerror\"}"), 1,
	    "a result out of range counts as the record names it");
	is_int(metrics_value("smtpscope_dns_lookups_total{dnssec=\"bogus\","
	    "rcode=\"other\"}"), 1, "NOTIMP counts as other");
	is_int(metrics_value("smtpscope_dns_lookup_seconds_count"), 2,
	    "a negative or NaN time is not timed");
	if (metrics_render(&text, &len) != 0) {
		ok(0, "render");
		return;
	}
	ok(strstr(text, "evil") == NULL && strstr(text, "SSLv2") == NULL,
	    "no record text reaches the exposition");
	ok(len > 0 && text[len - 1] == '\n',
	    "the exposition ends in a newline");
	free(text);
}

static void
test_process(void)
{
	metrics_set_start(1700000000, "9.9.9");
	metrics_session_begin();
	metrics_session_begin();
	metrics_session_end();
	stats_add(STATS_RECORDS_LOST, 3);
	is_int(metrics_value(
	    "smtpscope_sessions_in_flight"), 1, "sessions in flight");
	is_int(metrics_value(
	    "smtpscope_start_time_seconds"), 1700000000, "start time");
	is_int(metrics_value(
	    "smtpscope_build_info{version=\"9.9.9\"}"), 1, "version");
	is_int(metrics_value("smtpscope_records_lost_total"), 3,
	    "stats counters are exported with _total");
	metrics_reset();
	is_int(metrics_value("smtpscope_check_results_total{check=\"dmarc\","
	    "result=\"pass\"}"), 0, "reset zeroes the families");
}

int
main(void)
{
	plan(9 + 8 + 7 + 5);
	test_session_records();
	test_message_records();
	test_hostile();
	test_process();
	return done_testing();
}
