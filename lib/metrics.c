/*
 * metrics.c - counters derived from the records, and their exposition.
 *
 * Each family below is a fixed list of label values with one atomic
 * counter per value (or per pair of values); a record's string that is
 * not in the list counts under "other". A record is counted from the
 * session fields it is written from, through the same names
 * (spf_res_name() and the like), without reading its text;
 * unit/test_session checks the counts against the records written. See
 * metrics.h for the contract and smtpscope(8), METRICS, for the names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "ipaddr.h"
#include "metrics.h"
#include "stats.h"

/* label value lists; the last entry of each is "other" */
static const char *const metrics_checks[] = {
	"spf_mailfrom", "spf_helo", "dkim", "dmarc", "iprev"
};
#define METRICS_NCHECKS	5
static const char *const metrics_results[] = {
	"pass", "fail", "softfail", "neutral", "none", "policy",
	"temperror", "permerror", "other"
};
#define METRICS_NRESULTS	9
static const char *const metrics_tls[] = {
	"none", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3", "other"
};
#define METRICS_NTLS	6
static const char *const metrics_families[] = { "ipv4", "ipv6", "other" };
#define METRICS_NFAMILIES	3
static const char *const metrics_verdicts[] = {
	"new", "early", "passed", "allowed", "skipped", "error", "other"
};
#define METRICS_NVERDICTS	7
static const char *const metrics_dnssec[] = {
	"secure", "insecure", "bogus", "error", "timeout", "skipped", "other"
};
#define METRICS_NDNSSEC	7
static const char *const metrics_rcodes[] = {
	"NOERROR", "NXDOMAIN", "SERVFAIL", "REFUSED", "none", "other"
};
#define METRICS_NRCODES	6
/* DNS latency buckets, seconds (upper bounds; +Inf is the count) */
static const double metrics_dns_le[] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5
};
#define METRICS_NBUCKETS	12

static uint64_t m_results[METRICS_NCHECKS][METRICS_NRESULTS];
static uint64_t m_tls[METRICS_NTLS];
static uint64_t m_families[METRICS_NFAMILIES];
static uint64_t m_verdicts[METRICS_NVERDICTS];
static uint64_t m_dns[METRICS_NDNSSEC][METRICS_NRCODES];
static uint64_t m_dns_bucket[METRICS_NBUCKETS];	/* not cumulative */
static uint64_t m_dns_count;
static uint64_t m_dns_us_sum;			/* microseconds */
static int64_t m_in_flight;
static int64_t m_start;
static char m_version[32] = "unknown";

/* metrics_inc - add one */
static void
metrics_inc(uint64_t *c)
{
	__atomic_add_fetch(c, 1, __ATOMIC_RELAXED);
}

/* metrics_get - read a counter */
static uint64_t
metrics_get(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/* metrics_index - position of s in list (n entries), else the last */
static int
metrics_index(const char *const *list, int n, const char *s)
{
	int i;

	if (s != NULL)
		for (i = 0; i < n - 1; i++)
			if (strcmp(list[i], s) == 0)
				return i;
	return n - 1;
}

/* metrics_result - count one check's result */
static void
metrics_result(int check, const char *r)
{
	metrics_inc(&m_results[check][metrics_index(metrics_results,
	    METRICS_NRESULTS, r)]);
}

/* metrics_rcode - the label of a lookup's rcode, as the record names it
 * ("none" without an answer) */
static int
metrics_rcode(int rcode)
{
	char buf[DNS_RCODE_NAME_MAX];

	if (rcode < 0)
		return METRICS_NRCODES - 2;
	return metrics_index(metrics_rcodes, METRICS_NRCODES,
	    dns_rcode_name(rcode, buf, sizeof(buf)));
}

/* metrics_dns - the lookups a record lists: status, rcode, latency */
static void
metrics_dns(const struct dns_ctx *c)
{
	const struct dns_lookup *l;
	unsigned i;
	int b;

	for (i = 0; c != NULL && i < c->nlog; i++) {
		l = &c->log[i];
		metrics_inc(&m_dns[metrics_index(metrics_dnssec,
		    METRICS_NDNSSEC, dns_lookup_status(l))]
		    [metrics_rcode(l->rcode)]);
		if (!(l->ms >= 0 && l->ms <= 3.6e6))	/* NaN fails too */
			continue;
		for (b = 0; b < METRICS_NBUCKETS; b++)
			if (l->ms / 1000.0 <= metrics_dns_le[b])
				break;
		if (b < METRICS_NBUCKETS)
			metrics_inc(&m_dns_bucket[b]);
		metrics_inc(&m_dns_count);
		__atomic_add_fetch(&m_dns_us_sum, (uint64_t)(l->ms * 1000.0),
		    __ATOMIC_RELAXED);
	}
}

/* metrics_observe_message - count what a message's record says: SPF,
 * DKIM (one result per signature; none when there is neither signature
 * nor error), DMARC, greylisting verdicts, DNS lookups */
void
metrics_observe_message(const struct session *s,
    const struct session_message *msg)
{
	const struct auth_message *a = &msg->auth;
	unsigned i;

	if (a->spf) {
		metrics_result(0, spf_res_name(a->mailfrom.result));
		metrics_result(1, spf_res_name(a->helo.result));
	}
	if (a->dkim && a->dkim_out.nsig == 0 && a->dkim_out.error[0] == '\0')
		metrics_inc(&m_results[2][4]);		/* dkim=none */
	for (i = 0; a->dkim && i < a->dkim_out.nsig; i++)
		metrics_result(2,
		    dkimverify_res_name(a->dkim_out.sig[i].result));
	if (a->dmarc)
		metrics_result(3, dmarceval_res_name(a->dmarc_out.result));
	if (s->env->gl != NULL && (s->env->gl->mode != GREYLIST_OFF ||
	    msg->gl_total != 0))
		for (i = 0; i < msg->ngl; i++)
			metrics_inc(&m_verdicts[metrics_index(metrics_verdicts,
			    METRICS_NVERDICTS,
			    greylist_verdict_name(msg->gl[i].r.verdict))]);
	metrics_dns(a->dns);
}

/* metrics_observe_session - count what a session's record says: the
 * client's family, TLS, iprev, DNS lookups */
void
metrics_observe_session(const struct session *s)
{
	metrics_inc(&m_families[metrics_index(metrics_families,
	    METRICS_NFAMILIES, ipaddr_family_name(s->family))]);
	metrics_inc(&m_tls[!s->tls.used ? 0 : metrics_index(metrics_tls,
	    METRICS_NTLS, s->tls.version[0] != '\0' ? s->tls.version : NULL)]);
	if (s->auth.dns != NULL)
		metrics_result(4, iprev_res_name(s->auth.iprev.result));
	metrics_dns(s->auth.dns);
}

/* metrics_session_begin - one more session in flight */
void
metrics_session_begin(void)
{
	__atomic_add_fetch(&m_in_flight, 1, __ATOMIC_RELAXED);
}

/* metrics_session_end - one session fewer in flight */
void
metrics_session_end(void)
{
	__atomic_sub_fetch(&m_in_flight, 1, __ATOMIC_RELAXED);
}

/* metrics_set_start - start time and version for the info metrics */
void
metrics_set_start(int64_t unix_s, const char *version)
{
	m_start = unix_s;
	snprintf(m_version, sizeof(m_version), "%s", version);
}

/* metrics_head - the HELP and TYPE lines of a family */
static void
metrics_head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP smtpscope_%s %s\n# TYPE smtpscope_%s %s\n",
	    name, help, name, type);
}

/* metrics_family1 - a counter family with one label */
static void
metrics_family1(FILE *f, const char *name, const char *label,
    const char *const *values, const uint64_t *c, int n, const char *help)
{
	int i;

	metrics_head(f, name, "counter", help);
	for (i = 0; i < n; i++)
		fprintf(f, "smtpscope_%s{%s=\"%s\"} %llu\n", name, label,
		    values[i], (unsigned long long)metrics_get(&c[i]));
}

/* metrics_render_process - info, start time, in flight, stats counters */
static void
metrics_render_process(FILE *f)
{
	int i;

	metrics_head(f, "build_info", "gauge", "Version of the running daemon.");
	fprintf(f, "smtpscope_build_info{version=\"%s\"} 1\n", m_version);
	metrics_head(f, "start_time_seconds", "gauge",
	    "Start of the daemon, unix seconds.");
	fprintf(f, "smtpscope_start_time_seconds %lld\n", (long long)m_start);
	metrics_head(f, "sessions_in_flight", "gauge",
	    "SMTP sessions open now.");
	fprintf(f, "smtpscope_sessions_in_flight %lld\n",
	    (long long)__atomic_load_n(&m_in_flight, __ATOMIC_RELAXED));
	for (i = 0; i < STATS_NCOUNTERS; i++) {
		fprintf(f, "# HELP smtpscope_%s_total Counter %s of the "
		    "stats log line.\n# TYPE smtpscope_%s_total counter\n"
		    "smtpscope_%s_total %llu\n", stats_name(i), stats_name(i),
		    stats_name(i), stats_name(i),
		    (unsigned long long)stats_get(i));
	}
}

/* metrics_render_dns - lookups by status and rcode, latency histogram */
static void
metrics_render_dns(FILE *f)
{
	uint64_t cum = 0;
	int s, r, b;

	metrics_head(f, "dns_lookups_total", "counter",
	    "DNS lookups listed in records, by DNSSEC status and rcode.");
	for (s = 0; s < METRICS_NDNSSEC; s++)
		for (r = 0; r < METRICS_NRCODES; r++)
			fprintf(f, "smtpscope_dns_lookups_total{dnssec=\"%s\","
			    "rcode=\"%s\"} %llu\n", metrics_dnssec[s],
			    metrics_rcodes[r],
			    (unsigned long long)metrics_get(&m_dns[s][r]));
	metrics_head(f, "dns_lookup_seconds", "histogram",
	    "Time of the DNS lookups listed in records.");
	for (b = 0; b < METRICS_NBUCKETS; b++) {
		cum += metrics_get(&m_dns_bucket[b]);
		fprintf(f, "smtpscope_dns_lookup_seconds_bucket{le=\"%g\"} "
		    "%llu\n", metrics_dns_le[b], (unsigned long long)cum);
	}
	fprintf(f, "smtpscope_dns_lookup_seconds_bucket{le=\"+Inf\"} %llu\n"
	    "smtpscope_dns_lookup_seconds_sum %.6f\n"
	    "smtpscope_dns_lookup_seconds_count %llu\n",
	    (unsigned long long)metrics_get(&m_dns_count),
	    (double)metrics_get(&m_dns_us_sum) / 1e6,
	    (unsigned long long)metrics_get(&m_dns_count));
}

/* metrics_render - the whole exposition text */
int
metrics_render(char **out, size_t *outlen)
{
	FILE *f;
	int c, r;

	*out = NULL;
	*outlen = 0;
	if ((f = open_memstream(out, outlen)) == NULL)
		return SCOPE_ENOMEM;
	metrics_render_process(f);
	metrics_head(f, "check_results_total", "counter",
	    "Results of the checks as recorded (one per DKIM signature).");
	for (c = 0; c < METRICS_NCHECKS; c++)
		for (r = 0; r < METRICS_NRESULTS; r++)
			fprintf(f, "smtpscope_check_results_total{check=\"%s\","
			    "result=\"%s\"} %llu\n", metrics_checks[c],
			    metrics_results[r],
			    (unsigned long long)metrics_get(&m_results[c][r]));
	metrics_family1(f, "tls_sessions_total", "version", metrics_tls,
	    m_tls, METRICS_NTLS, "Sessions by TLS version (none: no TLS).");
	metrics_family1(f, "client_sessions_total", "family", metrics_families,
	    m_families, METRICS_NFAMILIES, "Sessions by client IP family.");
	metrics_family1(f, "greylist_verdicts_total", "verdict",
	    metrics_verdicts, m_verdicts, METRICS_NVERDICTS,
	    "Greylisting verdicts of the recipients in message records.");
	metrics_render_dns(f);
	if (ferror(f) != 0) {
		fclose(f);
		free(*out);
		*out = NULL;
		return SCOPE_ENOMEM;
	}
	if (fclose(f) != 0) {
		free(*out);
		*out = NULL;
		return SCOPE_ENOMEM;
	}
	return SCOPE_OK;
}

/* metrics_reset - zero every metric (tests) */
void
metrics_reset(void)
{
	memset(m_results, 0, sizeof(m_results));
	memset(m_tls, 0, sizeof(m_tls));
	memset(m_families, 0, sizeof(m_families));
	memset(m_verdicts, 0, sizeof(m_verdicts));
	memset(m_dns, 0, sizeof(m_dns));
	memset(m_dns_bucket, 0, sizeof(m_dns_bucket));
	m_dns_count = 0;
	m_dns_us_sum = 0;
	m_in_flight = 0;
}
