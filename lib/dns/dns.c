/*
 * dns.c - resolvers, per-message contexts, one query with its DNSSEC status.
 *
 * Network lookups go to the configured name servers in order, one try at
 * a time, through per-context clones of one ldns resolver per server
 * (ldns resolvers are not shared between threads), with EDNS0 (1232-byte
 * UDP payload), the DO bit, TCP fallback on truncation, and a per-try
 * timeout cut to what is left of the context's budget. Servers considered
 * down (dns_health.c) are passed over; a lookup with none left is not sent
 * and is logged as skipped. A loopback server is asked over the calling
 * thread's kept socket (dns_udp.c), any other through ldns with a fresh
 * socket per query; every answer must match its query (ID, question).
 * With a cache (dns_cache.c) a lookup is answered from it when it can,
 * and what was asked is kept there. Owns: the resolver and its cache
 * (dns_resolver_free), the context's clones (dns_ctx_free), answer
 * packets (dns_answer_free).
 */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "dns/dns_internal.h"
#include "errors.h"
#include "stats.h"
#include "text.h"

static const char *const dns_sec_names[] = {
	"insecure", "secure", "bogus", "error", "timeout"
};

/* dns_sec_name - the record's name of a status */
const char *
dns_sec_name(enum dns_sec sec)
{
	return dns_sec_names[sec];
}

/* dns_lookup_status - the status, or "skipped" for a lookup not sent */
const char *
dns_lookup_status(const struct dns_lookup *l)
{
	return l->skipped ? "skipped" : dns_sec_name(l->sec);
}

/* dns_lookup_reason - why a lookup was not sent, or NULL */
const char *
dns_lookup_reason(const struct dns_lookup *l)
{
	return l->skipped ? "resolver down" : NULL;
}

/* dns_sec_worst - bogus beats error beats timeout beats insecure beats secure */
enum dns_sec
dns_sec_worst(enum dns_sec a, enum dns_sec b)
{
	static const int rank[] = { 1, 0, 4, 3, 2 };	/* by enum value */

	return rank[a] >= rank[b] ? a : b;
}

/* dns_push_server - one "ip", "ip:port" or "[v6]:port" */
static int
dns_push_server(ldns_resolver *lr, const char *spec, int *port)
{
	char host[64];
	const char *colon, *end;
	ldns_rdf *addr;
	long p = 53;
	size_t len;

	if (spec[0] == '[') {
		end = strchr(spec, ']');
		if (end == NULL)
			return SCOPE_EINVAL;
		len = (size_t)(end - spec - 1);
		spec++;
		colon = end[1] == ':' ? end + 1 : NULL;
	} else {
		colon = strchr(spec, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL)
			colon = NULL;	/* a bare IPv6 address */
		len = colon != NULL ? (size_t)(colon - spec) : strlen(spec);
	}
	if (len == 0 || len >= sizeof(host))
		return SCOPE_EINVAL;
	memcpy(host, spec, len);
	host[len] = '\0';
	if (colon != NULL &&
	    text_parse_long(colon + 1, 10, 1, 65535, &p) != SCOPE_OK)
		return SCOPE_EINVAL;
	if (*port != 0 && *port != p)
		return SCOPE_ERANGE;	/* ldns has one port for all servers */
	*port = (int)p;
	addr = ldns_rdf_new_frm_str(strchr(host, ':') ? LDNS_RDF_TYPE_AAAA :
	    LDNS_RDF_TYPE_A, host);
	if (addr == NULL)
		return SCOPE_EINVAL;
	if (ldns_resolver_push_nameserver(lr, addr) != LDNS_STATUS_OK) {
		ldns_rdf_deep_free(addr);
		return SCOPE_ENOMEM;
	}
	ldns_rdf_deep_free(addr);
	return SCOPE_OK;
}

/* dns_servers - fill a resolver from the Nameservers list */
static int
dns_servers(ldns_resolver *lr, const char *servers, char *err, size_t errsz)
{
	char buf[1024], *tok, *save = NULL;
	int port = 0, rc;

	if ((size_t)snprintf(buf, sizeof(buf), "%s", servers) >= sizeof(buf)) {
		snprintf(err, errsz, "Nameservers list too long");
		return SCOPE_ETOOBIG;
	}
	for (tok = strtok_r(buf, " ,\t", &save); tok != NULL;
	    tok = strtok_r(NULL, " ,\t", &save)) {
		rc = dns_push_server(lr, tok, &port);
		if (rc != SCOPE_OK) {
			snprintf(err, errsz, rc == SCOPE_ERANGE ? "'%s': all "
			    "name servers must use the same port" :
			    "'%s': expected ip, ip:port or [ipv6]:port", tok);
			return rc;
		}
	}
	if (port == 0) {
		snprintf(err, errsz, "no name server given");
		return SCOPE_EINVAL;
	}
	ldns_resolver_set_port(lr, (uint16_t)port);
	return SCOPE_OK;
}

/* dns_server_name - "ip", or "ip:port" / "[v6]:port" off port 53 */
static void
dns_server_name(const ldns_rdf *ns, uint16_t port, char *out, size_t outsz)
{
	char *ip = ldns_rdf2str(ns);
	bool v6 = ldns_rdf_get_type(ns) == LDNS_RDF_TYPE_AAAA;

	if (port == 53)
		snprintf(out, outsz, "%s", ip != NULL ? ip : "?");
	else
		snprintf(out, outsz, "%s%s%s:%u", v6 ? "[" : "",
		    ip != NULL ? ip : "?", v6 ? "]" : "", (unsigned)port);
	LDNS_FREE(ip);
}

/* dns_server_tmpl - a resolver for one name server, our settings */
static ldns_resolver *
dns_server_tmpl(const ldns_rdf *ns, uint16_t port)
{
	ldns_resolver *lr = ldns_resolver_new();

	if (lr == NULL)
		return NULL;
	if (ldns_resolver_push_nameserver(lr, ns) != LDNS_STATUS_OK) {
		ldns_resolver_deep_free(lr);
		return NULL;
	}
	ldns_resolver_set_port(lr, port);
	ldns_resolver_set_recursive(lr, true);
	ldns_resolver_set_dnssec(lr, true);
	ldns_resolver_set_edns_udp_size(lr, 1232);
	ldns_resolver_set_fallback(lr, true);
	ldns_resolver_set_defnames(lr, false);
	ldns_resolver_set_dnsrch(lr, false);
	ldns_resolver_set_random(lr, false);
	ldns_resolver_set_retry(lr, 1);		/* our loop retries */
	return lr;
}

/* dns_server_addr - the server's socket address, and whether it is on
 * loopback (then each thread keeps one socket for it: dns_udp.c) */
static int
dns_server_addr(struct dns_server *s, const ldns_rdf *ns, uint16_t port)
{
	size_t len = 0;
	struct sockaddr_storage *ss = ldns_rdf2native_sockaddr_storage(ns,
	    port, &len);

	if (ss == NULL || len > sizeof(s->addr)) {
		LDNS_FREE(ss);
		return SCOPE_ENOMEM;
	}
	memcpy(&s->addr, ss, len);
	s->addrlen = (socklen_t)len;
	s->loopback = dns_udp_is_loopback(&s->addr);
	LDNS_FREE(ss);
	return SCOPE_OK;
}

/* dns_split - one template per name server of lr (at most
 * DNS_SERVERS_MAX), with its name for the log */
static int
dns_split(struct dns_resolver *r, const ldns_resolver *lr, char *err,
    size_t errsz)
{
	size_t i, n = ldns_resolver_nameserver_count(lr);
	ldns_rdf **ns = ldns_resolver_nameservers(lr);
	uint16_t port = ldns_resolver_port(lr);

	if (n == 0 || n > DNS_SERVERS_MAX) {
		snprintf(err, errsz, n == 0 ? "no name server given" :
		    "more than %d name servers", DNS_SERVERS_MAX);
		return SCOPE_EINVAL;
	}
	for (i = 0; i < n; i++) {
		r->servers[i].tmpl = dns_server_tmpl(ns[i], port);
		if (r->servers[i].tmpl == NULL)
			return SCOPE_ENOMEM;
		r->nservers++;
		dns_server_name(ns[i], port, r->servers[i].name,
		    sizeof(r->servers[i].name));
		if (dns_server_addr(&r->servers[i], ns[i], port) != SCOPE_OK)
			return SCOPE_ENOMEM;
	}
	return SCOPE_OK;
}

/* dns_resolver_alloc - an empty resolver with its lock */
static struct dns_resolver *
dns_resolver_alloc(long timeout_ms)
{
	struct dns_resolver *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	if (pthread_mutex_init(&r->lock, NULL) != 0) {
		free(r);
		return NULL;
	}
	if (pthread_key_create(&r->udp_key, dns_udp_local_free) != 0) {
		pthread_mutex_destroy(&r->lock);
		free(r);
		return NULL;
	}
	r->timeout_ms = timeout_ms;
	return r;
}

/* dns_resolver_new - a network resolver */
int
dns_resolver_new(struct dns_resolver **out, const char *servers,
    long timeout_ms, long retries, char *err, size_t errsz)
{
	struct dns_resolver *r = dns_resolver_alloc(timeout_ms);
	ldns_resolver *lr = NULL;
	int rc = SCOPE_OK;

	*out = NULL;
	if (r == NULL)
		return SCOPE_ENOMEM;
	if (servers == NULL) {
		if (ldns_resolver_new_frm_file(&lr, NULL) != LDNS_STATUS_OK) {
			snprintf(err, errsz, "cannot read /etc/resolv.conf");
			rc = SCOPE_EIO;
		}
	} else if ((lr = ldns_resolver_new()) == NULL) {
		rc = SCOPE_ENOMEM;
	} else {
		rc = dns_servers(lr, servers, err, errsz);
	}
	if (rc == SCOPE_OK)
		rc = dns_split(r, lr, err, errsz);
	if (lr != NULL)
		ldns_resolver_deep_free(lr);
	if (rc != SCOPE_OK) {
		dns_resolver_free(r);
		return rc;
	}
	r->retries = retries;
	*out = r;
	return SCOPE_OK;
}

/* dns_resolver_new_zones - in-memory data */
int
dns_resolver_new_zones(struct dns_resolver **out, long timeout_ms)
{
	struct dns_resolver *r = dns_resolver_alloc(timeout_ms);

	*out = NULL;
	if (r == NULL)
		return SCOPE_ENOMEM;
	r->rrs = ldns_rr_list_new();
	r->timeouts = ldns_rr_list_new();
	if (r->rrs == NULL || r->timeouts == NULL) {
		dns_resolver_free(r);
		return SCOPE_ENOMEM;
	}
	*out = r;
	return SCOPE_OK;
}

/* dns_zone_load - a master file into the in-memory data */
int
dns_zone_load(struct dns_resolver *r, const char *path, char *err,
    size_t errsz)
{
	FILE *fp = fopen(path, "r");
	ldns_rr_list *copy;
	ldns_zone *z = NULL;
	ldns_status st;
	int line = 0;

	if (fp == NULL) {
		snprintf(err, errsz, "%s: cannot open", path);
		return SCOPE_EIO;
	}
	st = ldns_zone_new_frm_fp_l(&z, fp, NULL, 3600, LDNS_RR_CLASS_IN, &line);
	fclose(fp);
	if (st != LDNS_STATUS_OK) {
		snprintf(err, errsz, "%s:%d: %s", path, line,
		    ldns_get_errorstr_by_id(st));
		return SCOPE_EINVAL;
	}
	copy = ldns_rr_list_clone(ldns_zone_rrs(z));
	if (copy == NULL || (ldns_zone_soa(z) != NULL &&
	    !ldns_rr_list_push_rr(copy, ldns_rr_clone(ldns_zone_soa(z)))) ||
	    !ldns_rr_list_cat(r->rrs, copy)) {
		ldns_rr_list_deep_free(copy);
		ldns_zone_deep_free(z);
		return SCOPE_ENOMEM;
	}
	ldns_rr_list_free(copy);	/* its records now belong to r->rrs */
	ldns_zone_deep_free(z);
	return SCOPE_OK;
}

/* dns_zone_add - one record in master-file syntax */
int
dns_zone_add(struct dns_resolver *r, const char *rr_text)
{
	ldns_rr *rr = NULL;

	if (ldns_rr_new_frm_str(&rr, rr_text, 3600, NULL, NULL) !=
	    LDNS_STATUS_OK)
		return SCOPE_EINVAL;
	if (!ldns_rr_list_push_rr(r->rrs, rr)) {
		ldns_rr_free(rr);
		return SCOPE_ENOMEM;
	}
	return SCOPE_OK;
}

/* dns_zone_add_timeout - queries for this name never get an answer */
int
dns_zone_add_timeout(struct dns_resolver *r, const char *name)
{
	char text[DNS_NAME_MAX + 32];
	ldns_rr *rr = NULL;

	snprintf(text, sizeof(text), "%s 0 IN TXT \"timeout\"", name);
	if (ldns_rr_new_frm_str(&rr, text, 0, NULL, NULL) != LDNS_STATUS_OK)
		return SCOPE_EINVAL;
	if (!ldns_rr_list_push_rr(r->timeouts, rr)) {
		ldns_rr_free(rr);
		return SCOPE_ENOMEM;
	}
	return SCOPE_OK;
}

/* dns_zone_set_sec - DNSSEC status of the names at and under apex */
int
dns_zone_set_sec(struct dns_resolver *r, const char *apex, enum dns_sec sec)
{
	struct dns_zone_sec *grown;
	ldns_rdf *name = ldns_dname_new_frm_str(apex);

	if (name == NULL)
		return SCOPE_EINVAL;
	grown = realloc(r->secs, (r->nsecs + 1) * sizeof(*grown));
	if (grown == NULL) {
		ldns_rdf_deep_free(name);
		return SCOPE_ENOMEM;
	}
	r->secs = grown;
	grown[r->nsecs].apex = name;
	grown[r->nsecs].sec = sec;
	r->nsecs++;
	return SCOPE_OK;
}

/* dns_resolver_free - release everything */
void
dns_resolver_free(struct dns_resolver *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nservers; i++)
		ldns_resolver_deep_free(r->servers[i].tmpl);
	pthread_mutex_destroy(&r->lock);
	dns_cache_free(r->cache);
	/* this thread's sockets; other threads close theirs as they end */
	dns_udp_local_free(pthread_getspecific(r->udp_key));
	pthread_key_delete(r->udp_key);
	ldns_rr_list_deep_free(r->rrs);
	ldns_rr_list_deep_free(r->timeouts);
	for (i = 0; i < r->nsecs; i++)
		ldns_rdf_deep_free(r->secs[i].apex);
	free(r->secs);
	free(r);
}

/* dns_resolver_cache - answers kept for all contexts */
int
dns_resolver_cache(struct dns_resolver *r, size_t entries, long max_ttl_s)
{
	dns_cache_free(r->cache);
	r->cache = NULL;
	return dns_cache_new(&r->cache, entries, max_ttl_s);
}

/* dns_resolver_cache_entries - answers held, 0 without a cache */
size_t
dns_resolver_cache_entries(struct dns_resolver *r)
{
	return r->cache != NULL ? dns_cache_entries(r->cache) : 0;
}

/* dns_deadline - the end of a budget that starts now */
int64_t
dns_deadline(const struct dns_resolver *r)
{
	return clock_mono() + (int64_t)r->timeout_ms * 1000;
}

/* dns_ctx_init_until - a fresh context ending at deadline */
int
dns_ctx_init_until(struct dns_ctx *c, struct dns_resolver *r,
    int64_t deadline)
{
	/* everything before the log; a lookup's entry is set when it is
	 * listed (the log is most of the context's 9 KB) */
	memset(c, 0, offsetof(struct dns_ctx, log));
	c->r = r;
	c->deadline = deadline;
	return SCOPE_OK;
}

/* dns_ctx_init - a fresh context with the full budget */
int
dns_ctx_init(struct dns_ctx *c, struct dns_resolver *r)
{
	return dns_ctx_init_until(c, r, dns_deadline(r));
}

/* dns_ctx_free - release the context's resolver clones */
void
dns_ctx_free(struct dns_ctx *c)
{
	unsigned i;

	for (i = 0; i < DNS_SERVERS_MAX; i++) {
		if (c->lr[i] != NULL)
			ldns_resolver_deep_free(c->lr[i]);
		c->lr[i] = NULL;
	}
}

/* dns_clone - the context's resolver for server i, cloned on first use */
static ldns_resolver *
dns_clone(struct dns_ctx *c, unsigned i)
{
	if (c->lr[i] == NULL)
		c->lr[i] = ldns_resolver_clone(c->r->servers[i].tmpl);
	return c->lr[i];
}

/* dns_send_kept - over the thread's socket to a loopback server; a
 * truncated answer is asked again over TCP (ldns) */
static ldns_status
dns_send_kept(struct dns_ctx *c, unsigned i, ldns_pkt *query,
    int64_t us, ldns_pkt **pkt)
{
	ldns_status st = dns_udp_send(c->r, i, query, us, pkt);

	if (st != LDNS_STATUS_OK || !ldns_pkt_tc(*pkt))
		return st;
	ldns_pkt_free(*pkt);
	*pkt = NULL;
	ldns_resolver_set_usevc(c->lr[i], true);
	st = ldns_resolver_send_pkt(pkt, c->lr[i], query);
	ldns_resolver_set_usevc(c->lr[i], false);
	return st;
}

/* dns_try - one attempt at server i within us microseconds; the ldns
 * status. Every answer must match the query (ID, question): one that
 * does not is no answer. */
static ldns_status
dns_try(struct dns_ctx *c, unsigned i, const ldns_rdf *name, uint16_t qtype,
    bool cd, int64_t us, ldns_pkt **pkt)
{
	ldns_resolver *lr = dns_clone(c, i);
	ldns_pkt *query = NULL;
	struct timeval tv;
	ldns_status st;

	if (lr == NULL)
		return LDNS_STATUS_MEM_ERR;
	tv.tv_sec = (time_t)(us / 1000000);
	tv.tv_usec = (suseconds_t)(us % 1000000);
	/* a silence earlier in this context must not rule the server out */
	ldns_resolver_set_nameserver_rtt(lr, 0, LDNS_RESOLV_RTT_MIN);
	ldns_resolver_set_timeout(lr, tv);
	ldns_resolver_set_dnssec_cd(lr, cd);
	/* the query comes with a random ID (RFC 5452), drawn by ldns from
	 * OpenSSL's RAND_bytes; drawing a second one cost 10,000
	 * instructions per query (test_dnsudp checks the IDs vary) */
	if (ldns_resolver_prepare_query_pkt(&query, lr, name, qtype,
	    LDNS_RR_CLASS_IN, LDNS_RD) != LDNS_STATUS_OK)
		return LDNS_STATUS_MEM_ERR;
	if (c->r->servers[i].loopback)
		st = dns_send_kept(c, i, query, us, pkt);
	else
		st = ldns_resolver_send_pkt(pkt, lr, query);
	if (st == LDNS_STATUS_OK && *pkt != NULL &&
	    !dns_udp_matches(query, *pkt)) {
		ldns_pkt_free(*pkt);
		*pkt = NULL;
		st = LDNS_STATUS_NETWORK_ERR;	/* not the answer: none came */
	}
	ldns_pkt_free(query);
	return st;
}

/* dns_silence - no answer at all (as opposed to one we could not use) */
static bool
dns_silence(ldns_status st)
{
	return st == LDNS_STATUS_NETWORK_ERR || st == LDNS_STATUS_RES_NO_NS ||
	    st == LDNS_STATUS_SOCKET_ERROR;
}

/* dns_send_round - one try at each server that is up (or probed); pkt,
 * or NULL with *sent and *malformed updated */
static ldns_pkt *
dns_send_round(struct dns_ctx *c, const ldns_rdf *name, uint16_t qtype,
    bool cd, unsigned rounds_left, bool *sent, bool *malformed)
{
	int64_t left, per_try;
	ldns_pkt *pkt;
	ldns_status st;
	unsigned i;

	for (i = 0; i < c->r->nservers; i++) {
		left = c->deadline - clock_mono();
		if (left <= 0)
			return NULL;
		if (dns_health_admit(c->r, i) == DNS_ADMIT_SKIP)
			continue;
		per_try = left / ((int64_t)rounds_left * dns_health_live(c->r));
		if (per_try < 1000)
			per_try = left;
		*sent = true;
		pkt = NULL;
		st = dns_try(c, i, name, qtype, cd, per_try, &pkt);
		if (st == LDNS_STATUS_MEM_ERR)
			return NULL;
		dns_health_report(c->r, i, !dns_silence(st));
		if (st == LDNS_STATUS_OK && pkt != NULL)
			return pkt;
		if (!dns_silence(st)) {
			if (pkt != NULL)
				ldns_pkt_free(pkt);
			*malformed = true;
			stats_add(STATS_DNS_MALFORMED, 1);
			return NULL;
		}
	}
	return NULL;
}

/* dns_send - DNSRetries + 1 rounds over the servers with or without CD;
 * pkt or NULL, *sent false when every server was considered down, and
 * *malformed set when an answer came that did not parse (counted, never
 * trusted) */
static ldns_pkt *
dns_send(struct dns_ctx *c, const ldns_rdf *name, uint16_t qtype, bool cd,
    bool *sent, bool *malformed)
{
	unsigned rounds = (unsigned)c->r->retries + 1, t;
	ldns_pkt *pkt = NULL;
	bool any;

	*sent = false;
	for (t = 0; t < rounds && pkt == NULL && !*malformed; t++) {
		any = false;
		pkt = dns_send_round(c, name, qtype, cd, rounds - t, &any,
		    malformed);
		*sent |= any;
		if (!any || c->deadline <= clock_mono())
			break;
	}
	return pkt;
}

/* dns_net_answer - a network query classified for DNSSEC */
static void
dns_net_answer(struct dns_ctx *c, const ldns_rdf *name, uint16_t qtype,
    struct dns_answer *out)
{
	bool malformed = false, sent;
	ldns_pkt *pkt = dns_send(c, name, qtype, false, &sent, &malformed), *cd;
	int rc;

	out->pkt = NULL;
	if (pkt == NULL) {
		out->rcode = -1;
		out->sec = malformed ? DNS_SEC_ERROR : DNS_SEC_TIMEOUT;
		out->skipped = !sent && c->deadline > clock_mono();
		if (out->skipped)
			stats_add(STATS_DNS_SKIPPED, 1);
		return;
	}
	out->rcode = ldns_pkt_get_rcode(pkt);
	if (out->rcode == LDNS_RCODE_NOERROR || out->rcode == LDNS_RCODE_NXDOMAIN) {
		out->sec = ldns_pkt_ad(pkt) ? DNS_SEC_SECURE : DNS_SEC_INSECURE;
		out->pkt = pkt;
		return;
	}
	ldns_pkt_free(pkt);
	out->sec = DNS_SEC_ERROR;
	if (out->rcode != LDNS_RCODE_SERVFAIL)
		return;
	cd = dns_send(c, name, qtype, true, &sent, &malformed); /* validation? */
	rc = cd != NULL ? (int)ldns_pkt_get_rcode(cd) : -1;
	if (rc == LDNS_RCODE_NOERROR || rc == LDNS_RCODE_NXDOMAIN)
		out->sec = DNS_SEC_BOGUS;
	if (cd != NULL)
		ldns_pkt_free(cd);
}

/* dns_log_add - remember a lookup for the record */
static void
dns_log_add(struct dns_ctx *c, const char *qname, uint16_t qtype,
    const struct dns_answer *a, bool cached, int64_t t0)
{
	struct dns_lookup *l;
	size_t n;

	c->total++;
	if (c->nlog == DNS_LOG_MAX)
		return;
	l = &c->log[c->nlog++];
	n = strnlen(qname, sizeof(l->qname) - 1);
	memcpy(l->qname, qname, n);
	l->qname[n] = '\0';
	l->qtype = qtype;
	l->rcode = a->rcode;
	l->sec = a->sec;
	l->skipped = a->skipped;
	l->cached = cached;
	l->ms = (double)(clock_mono() - t0) / 1000.0;
}

/* dns_query - one lookup through the context */
int
dns_query(struct dns_ctx *c, const char *qname, uint16_t qtype,
    struct dns_answer *out)
{
	int64_t t0 = clock_mono();
	ldns_rdf *name;
	int rc = SCOPE_OK;

	memset(out, 0, sizeof(*out));
	if (strlen(qname) >= DNS_NAME_MAX)
		return SCOPE_ETOOBIG;
	if (c->r->cache != NULL && dns_cache_get(c->r->cache, qname, qtype,
	    out)) {
		dns_log_add(c, qname, qtype, out, true, t0);
		return SCOPE_OK;
	}
	name = ldns_dname_new_frm_str(qname);
	if (name == NULL)
		return SCOPE_EINVAL;
	if (c->r->nservers > 0)
		dns_net_answer(c, name, qtype, out);
	else
		rc = dns_zone_answer(c->r, name, qtype, out);
	ldns_rdf_deep_free(name);
	if (rc != SCOPE_OK)
		return rc;
	if (c->r->cache != NULL)
		dns_cache_put(c->r->cache, qname, qtype, out);
	dns_log_add(c, qname, qtype, out, false, t0);
	return SCOPE_OK;
}

/* dns_answer_free - release the packet, or the reference to it */
void
dns_answer_free(struct dns_answer *a)
{
	if (a->shared != NULL)
		dns_cache_release(a->shared);
	else if (a->pkt != NULL)
		ldns_pkt_free(a->pkt);
	a->pkt = NULL;
	a->shared = NULL;
}

/* dns_answer_own - a copy of a shared packet in place of the reference */
int
dns_answer_own(struct dns_answer *a)
{
	ldns_pkt *copy;

	if (a->shared == NULL)
		return SCOPE_OK;
	if ((copy = ldns_pkt_clone(a->pkt)) == NULL)
		return SCOPE_ENOMEM;
	dns_cache_release(a->shared);
	a->shared = NULL;
	a->pkt = copy;
	return SCOPE_OK;
}

/* the query name and the CNAME targets that follow from it, borrowed
 * from the packet; a chain longer than DNS_CHAIN_MAX names (no real
 * answer has one) is followed that far */
#define DNS_CHAIN_MAX	32
struct dns_chain {
	const ldns_rdf *name[DNS_CHAIN_MAX];
	size_t n;
};

/* dns_chain_has - is name the query name or a CNAME target on its chain? */
static bool
dns_chain_has(const struct dns_chain *c, const ldns_rdf *name)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (ldns_dname_compare(c->name[i], name) == 0)
			return true;
	return false;
}

/* dns_chain_make - the chain of pkt's query name, in 8 passes over the
 * answer at most; false without a question */
static bool
dns_chain_make(const ldns_pkt *pkt, struct dns_chain *c)
{
	ldns_rr_list *q = ldns_pkt_question(pkt), *an = ldns_pkt_answer(pkt);
	const ldns_rr *rr;
	bool grown = true;
	size_t i;
	int hops;

	c->n = 0;
	if (q == NULL || ldns_rr_list_rr_count(q) == 0 ||
	    ldns_rr_owner(ldns_rr_list_rr(q, 0)) == NULL)
		return false;
	c->name[c->n++] = ldns_rr_owner(ldns_rr_list_rr(q, 0));
	for (hops = 0; grown && hops < 8; hops++) {
		grown = false;
		for (i = 0; i < ldns_rr_list_rr_count(an) &&
		    c->n < DNS_CHAIN_MAX; i++) {
			rr = ldns_rr_list_rr(an, i);
			if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_CNAME ||
			    ldns_rr_rd_count(rr) < 1 ||
			    !dns_chain_has(c, ldns_rr_owner(rr)) ||
			    dns_chain_has(c, ldns_rr_rdf(rr, 0)))
				continue;
			c->name[c->n++] = ldns_rr_rdf(rr, 0);
			grown = true;
		}
	}
	return true;
}

/* dns_answer_records - the answer records of one type whose owner is the
 * query name or on its CNAME chain; padding for other names is ignored.
 * The records stay the packet's: nothing is copied */
ldns_rr_list *
dns_answer_records(const struct dns_answer *a, uint16_t qtype)
{
	struct dns_chain chain;
	ldns_rr_list *an, *out = NULL;
	ldns_rr *rr;
	size_t i;

	if (a->pkt == NULL || a->rcode != LDNS_RCODE_NOERROR ||
	    !dns_chain_make(a->pkt, &chain))
		return NULL;
	an = ldns_pkt_answer(a->pkt);
	for (i = 0; i < ldns_rr_list_rr_count(an); i++) {
		rr = ldns_rr_list_rr(an, i);
		if (ldns_rr_get_type(rr) != qtype ||
		    !dns_chain_has(&chain, ldns_rr_owner(rr)))
			continue;
		if (out == NULL && (out = ldns_rr_list_new()) == NULL)
			return NULL;
		if (!ldns_rr_list_push_rr(out, rr)) {
			ldns_rr_list_free(out);	/* no memory: none */
			return NULL;
		}
	}
	return out;
}
