/*
 * test_metrics.c - metrics derived from records (lib/metrics.c): every
 * family counts what the record says, hostile label values count as
 * "other" and never become series, and the exposition text is well formed.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "metrics.h"
#include "stats.h"
#include "tap.h"

/* value - the value of one series in the exposition, or -1 */
static long long
value(const char *series)
{
	char *text, *p, *line;
	size_t len, n = strlen(series);
	long long v = -1;

	if (metrics_render(&text, &len) != 0)
		return -2;
	for (p = text; (line = strsep(&p, "\n")) != NULL;)
		if (strncmp(line, series, n) == 0 && line[n] == ' ')
			v = atoll(line + n + 1);
	free(text);
	return v;
}

/* observe - count one record given as JSON text */
static void
observe(const char *json)
{
	json_error_t e;
	json_t *rec = json_loads(json, 0, &e);

	if (rec == NULL) {
		printf("# bad test JSON: %s\n", e.text);
		return;
	}
	metrics_observe_record(rec);
	json_decref(rec);
}

static void
test_session_records(void)
{
	observe("{\"event\":\"session\",\"client\":{\"family\":\"ipv6\"},"
	    "\"tls\":{\"version\":\"TLSv1.3\"},\"auth\":{\"iprev\":"
	    "{\"result\":\"pass\"}},\"dns\":[{\"rcode\":\"NOERROR\","
	    "\"dnssec\":\"secure\",\"ms\":3.5}]}");
	observe("{\"event\":\"session\",\"client\":{\"family\":\"ipv4\"},"
	    "\"tls\":null,\"auth\":{\"iprev\":{\"result\":\"temperror\"}},"
	    "\"dns\":[{\"rcode\":null,\"dnssec\":\"timeout\",\"ms\":5000}]}");
	is_int(value("smtpscope_client_sessions_total{family=\"ipv6\"}"), 1,
	    "an IPv6 session");
	is_int(value("smtpscope_client_sessions_total{family=\"ipv4\"}"), 1,
	    "an IPv4 session");
	is_int(value("smtpscope_tls_sessions_total{version=\"TLSv1.3\"}"), 1,
	    "a TLS 1.3 session");
	is_int(value("smtpscope_tls_sessions_total{version=\"none\"}"), 1,
	    "a session without TLS");
	is_int(value("smtpscope_check_results_total{check=\"iprev\","
	    "result=\"temperror\"}"), 1, "iprev temperror from the session record");
	is_int(value("smtpscope_dns_lookups_total{dnssec=\"timeout\","
	    "rcode=\"none\"}"), 1, "a lookup without an answer has rcode none");
	is_int(value("smtpscope_dns_lookup_seconds_bucket{le=\"0.005\"}"), 1,
	    "3.5 ms falls in the 5 ms bucket");
	is_int(value("smtpscope_dns_lookup_seconds_bucket{le=\"5\"}"), 2,
	    "buckets are cumulative");
	is_int(value("smtpscope_dns_lookup_seconds_count"), 2,
	    "two lookups timed");
}

static void
test_message_records(void)
{
	observe("{\"event\":\"message\",\"auth\":{\"spf\":{\"mailfrom\":"
	    "{\"result\":\"softfail\"},\"helo\":{\"result\":\"none\"}},"
	    "\"dkim\":[{\"result\":\"pass\"},{\"result\":\"fail\"}],"
	    "\"dkim_error\":null,\"dmarc\":{\"result\":\"pass\"}},"
	    "\"greylist\":{\"rcpt\":[{\"verdict\":\"new\"},"
	    "{\"verdict\":\"passed\"}]}}");
	observe("{\"event\":\"message\",\"auth\":{\"dkim\":[],"
	    "\"dkim_error\":null},\"greylist\":null}");
	is_int(value("smtpscope_check_results_total{check=\"spf_mailfrom\","
	    "result=\"softfail\"}"), 1, "SPF MAIL FROM softfail");
	is_int(value("smtpscope_check_results_total{check=\"spf_helo\","
	    "result=\"none\"}"), 1, "SPF HELO none");
	is_int(value("smtpscope_check_results_total{check=\"dkim\","
	    "result=\"pass\"}"), 1, "one DKIM pass per signature");
	is_int(value("smtpscope_check_results_total{check=\"dkim\","
	    "result=\"fail\"}"), 1, "one DKIM fail per signature");
	is_int(value("smtpscope_check_results_total{check=\"dkim\","
	    "result=\"none\"}"), 1, "a message without signatures is dkim=none");
	is_int(value("smtpscope_check_results_total{check=\"dmarc\","
	    "result=\"pass\"}"), 1, "DMARC pass");
	is_int(value("smtpscope_greylist_verdicts_total{verdict=\"new\"}"), 1,
	    "greylist verdict new");
	is_int(value("smtpscope_greylist_verdicts_total{verdict=\"passed\"}"),
	    1, "greylist verdict passed");
}

static void
test_hostile(void)
{
	char *text;
	size_t len;

	observe("{\"event\":\"session\",\"client\":{\"family\":"
	    "\"x\\\"} 99\\n# evil\"},\"tls\":{\"version\":\"SSLv2\\n\"},"
	    "\"auth\":{\"iprev\":{\"result\":\"pass\\\"\"}}}");
	observe("{\"event\":\"message\",\"auth\":{\"dkim\":{\"result\":1},"
	    "\"spf\":[1,2]},\"greylist\":{\"rcpt\":\"new\"},\"dns\":{}}");
	observe("[1,2,3]");
	observe("{\"event\":\"other\"}");
	is_int(value("smtpscope_client_sessions_total{family=\"other\"}"), 1,
	    "an unknown family counts as other");
	is_int(value("smtpscope_tls_sessions_total{version=\"other\"}"), 1,
	    "an unknown TLS version counts as other");
	is_int(value("smtpscope_check_results_total{check=\"iprev\","
	    "result=\"other\"}"), 1, "an unknown result counts as other");
	if (metrics_render(&text, &len) != 0) {
		ok(0, "render");
		return;
	}
	ok(strstr(text, "evil") == NULL && strstr(text, "SSLv2") == NULL,
	    "no record text reaches the exposition");
	ok(len > 0 && text[len - 1] == '\n', "the exposition ends in a newline");
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
	is_int(value("smtpscope_sessions_in_flight"), 1, "sessions in flight");
	is_int(value("smtpscope_start_time_seconds"), 1700000000, "start time");
	is_int(value("smtpscope_build_info{version=\"9.9.9\"}"), 1, "version");
	is_int(value("smtpscope_records_lost_total"), 3,
	    "stats counters are exported with _total");
	metrics_reset();
	is_int(value("smtpscope_check_results_total{check=\"dmarc\","
	    "result=\"pass\"}"), 0, "reset zeroes the families");
}

int
main(void)
{
	plan(9 + 8 + 5 + 5);
	test_session_records();
	test_message_records();
	test_hostile();
	test_process();
	return done_testing();
}
