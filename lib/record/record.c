/*
 * record.c - build the JSON object of a message or session record.
 *
 * Every string stored in a session is already bounded valid UTF-8, so
 * jansson escapes it into valid JSON. An allocation failure anywhere
 * makes the whole record NULL, never a partial record.
 *
 * Fields that can name people go through record_privacy.c (record_pv,
 * record_scrub); the Authentication-Results value is withheld when any
 * group is pseudonymized.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "record/record.h"
#include "record/record_internal.h"

/* record_ms - milliseconds between two monotonic microsecond times */
static json_t *
record_ms(int64_t from, int64_t to)
{
	return json_real((double)(to - from) / 1000.0);
}

/* record_common - v, ts, event, session: the fixed prefix */
static json_t *
record_common(struct record_b *b, const struct session *s, const char *event)
{
	char ts[40];
	json_t *o = json_object();

	if (clock_rfc3339(clock_wall(), ts, sizeof(ts)) != 0)
		b->err = 1;
	record_put(b, o, "v", json_integer(RECORD_VERSION));
	record_put(b, o, "ts", json_string(ts));
	record_put(b, o, "event", json_string(event));
	record_put(b, o, "session", json_string(s->id));
	if (clock_rfc3339(s->start_wall, ts, sizeof(ts)) != 0)
		b->err = 1;
	record_put(b, o, "start", json_string(ts));
	return o;
}

/* record_family - "ipv4", "ipv6" or null */
static json_t *
record_family(int family)
{
	if (family == AF_INET)
		return json_string("ipv4");
	if (family == AF_INET6)
		return json_string("ipv6");
	return json_null();
}

/* record_client - who connected */
static json_t *
record_client(struct record_b *b, const struct session *s)
{
	json_t *o = json_object();

	record_put(b, o, "ip", record_pv(b, RECORD_IP, s->client_ip, true));
	record_put(b, o, "port", s->client_port != 0 ?
	    json_integer(s->client_port) : json_null());
	record_put(b, o, "family", record_family(s->family));
	record_put(b, o, "ptr", record_pv(b, RECORD_NAME, s->ptr[0] != '\0' ?
	    s->ptr : s->client_name, true));
	record_put(b, o, "name", record_pv(b, RECORD_NAME, s->client_name,
	    true));
	record_put(b, o, "resolve", record_str(s->resolve));
	record_put(b, o, "helo", s->helo_count > 0 ?
	    record_pv(b, RECORD_NAME, s->helo, false) : json_null());
	record_put(b, o, "helo_count", json_integer(s->helo_count));
	return o;
}

/* record_server - where the client connected, and which MTA */
static json_t *
record_server(struct record_b *b, const struct session *s)
{
	json_t *o = json_object();

	record_put(b, o, "addr", record_str(s->server_addr));
	record_put(b, o, "port", s->server_port != 0 ?
	    json_integer(s->server_port) : json_null());
	record_put(b, o, "name", record_str(s->server_name));
	record_put(b, o, "daemon", record_str(s->daemon_name));
	record_put(b, o, "mta", json_string(macro_mta_name(s->mta)));
	record_put(b, o, "mta_version", record_str(s->mta_version));
	return o;
}

/* record_peer - the client certificate, or null */
static json_t *
record_peer(struct record_b *b, const struct tls_info *tls)
{
	json_t *o;

	if (!tls->peer)
		return json_null();
	o = json_object();
	record_put(b, o, "subject", record_pv(b, RECORD_NAME, tls->subject,
	    true));
	record_put(b, o, "issuer", record_pv(b, RECORD_NAME, tls->issuer,
	    true));
	record_put(b, o, "verified", tls->verified < 0 ? json_null() :
	    json_boolean(tls->verified));
	record_put(b, o, "verify", record_str(tls->verify));
	record_put(b, o, "cn_subject", record_pv(b, RECORD_NAME,
	    tls->cn_subject, true));
	record_put(b, o, "cn_issuer", record_pv(b, RECORD_NAME, tls->cn_issuer,
	    true));
	record_put(b, o, "md5", record_pv(b, RECORD_NAME, tls->cert_md5, true));
	return o;
}

/* record_tls - null without TLS, else the negotiated parameters */
static json_t *
record_tls(struct record_b *b, const struct tls_info *tls)
{
	json_t *o;

	if (!tls->used)
		return json_null();
	o = json_object();
	record_put(b, o, "version", record_str(tls->version));
	record_put(b, o, "cipher", record_str(tls->cipher));
	record_put(b, o, "bits", tls->bits >= 0 ? json_integer(tls->bits) :
	    json_null());
	record_put(b, o, "peer", record_peer(b, tls));
	return o;
}

/* record_timing - ms from connect of each stage seen */
static json_t *
record_timing(struct record_b *b, int64_t start, const int64_t *t)
{
	json_t *o = json_object();
	int i;

	for (i = 0; i < SESSION_NSTAGES; i++)
		if (t[i] != 0)
			record_put(b, o, session_stage_name(i),
			    record_ms(start, t[i]));
	return o;
}

/* record_truncated - names of the fields cut at their cap */
static json_t *
record_truncated(struct record_b *b, unsigned mask)
{
	json_t *a = json_array();
	unsigned bit;

	for (bit = 1; bit != 0 && bit <= mask; bit <<= 1)
		if ((mask & bit) != 0 && (a == NULL ||
		    json_array_append_new(a, json_string(session_trunc_name(bit))) != 0))
			b->err = 1;
	return a;
}

/* record_rcode - an rcode's name, or null without an answer */
static json_t *
record_rcode(int rcode)
{
	static const char *const names[] = {
		"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"
	};
	char buf[16];

	if (rcode < 0)
		return json_null();
	if ((size_t)rcode < sizeof(names) / sizeof(names[0]))
		return json_string(names[rcode]);
	snprintf(buf, sizeof(buf), "RCODE%d", rcode);
	return json_string(buf);
}

/* record_qtype - a query type's name ("TXT"; "TYPE65" when ldns has none) */
static json_t *
record_qtype(uint16_t t)
{
	char buf[DNS_TYPE_NAME_MAX];
	const char *name = dns_type_name(t, buf, sizeof(buf));

	return name != NULL ? json_string(name) : NULL;
}

/* record_dns - the lookups of a context, or an empty list */
static json_t *
record_dns(struct record_b *b, const struct dns_ctx *c)
{
	json_t *a = json_array(), *o;
	unsigned i;

	for (i = 0; c != NULL && i < c->nlog; i++) {
		const struct dns_lookup *l = &c->log[i];

		o = json_object();
		record_put(b, o, "q", record_scrub(b, l->qname, false));
		record_put(b, o, "type", record_qtype(l->qtype));
		record_put(b, o, "rcode", record_rcode(l->rcode));
		record_put(b, o, "dnssec", json_string(dns_lookup_status(l)));
		if (dns_lookup_reason(l) != NULL)
			record_put(b, o, "reason",
			    json_string(dns_lookup_reason(l)));
		record_put(b, o, "cached", json_boolean(l->cached));
		record_put(b, o, "ms", json_real(l->ms));
		if (a == NULL || o == NULL || json_array_append_new(a, o) != 0)
			b->err = 1;
	}
	return a;
}

/* record_iprev - the session's iprev outcome, or null */
static json_t *
record_iprev(struct record_b *b, const struct auth_session *a)
{
	const struct iprev_outcome *io = &a->iprev;
	json_t *o, *names;
	unsigned i;

	if (a->dns == NULL)
		return json_null();
	o = json_object();
	names = json_array();
	for (i = 0; i < io->nnames; i++)
		if (names == NULL ||
		    json_array_append_new(names, record_pv(b, RECORD_NAME,
		    io->names[i], false)) != 0)
			b->err = 1;
	record_put(b, o, "result", json_string(iprev_res_name(io->result)));
	record_put(b, o, "ptr", names);
	record_put(b, o, "ptr_total", json_integer(io->ptr_total));
	record_put(b, o, "matched", io->matched >= 0 &&
	    (unsigned)io->matched < io->nnames ? record_pv(b, RECORD_NAME,
	    io->names[io->matched], false) : json_null());
	record_put(b, o, "dnssec", json_string(dns_sec_name(io->dnssec)));
	return o;
}

/* record_spf - one SPF outcome */
static json_t *
record_spf(struct record_b *b, const struct spf_outcome *so)
{
	json_t *o = json_object();

	record_put(b, o, "result", json_string(spf_res_name(so->result)));
	record_put(b, o, "identity", record_scrub(b, so->identity, true));
	record_put(b, o, "domain", record_scrub(b, so->domain, true));
	record_put(b, o, "mechanism", record_scrub(b, so->mechanism, true));
	record_put(b, o, "reason", record_scrub(b, so->reason, true));
	record_put(b, o, "explanation", record_scrub(b, so->explanation, true));
	record_put(b, o, "dnssec", json_string(dns_sec_name(so->dnssec)));
	record_put(b, o, "lookups", json_integer(so->lookups));
	return o;
}

/* record_dkim_sig - one DKIM signature's outcome */
static json_t *
record_dkim_sig(struct record_b *b, const struct dkimverify_sig *sig)
{
	json_t *o = json_object();

	record_put(b, o, "result", json_string(dkimverify_res_name(sig->result)));
	record_put(b, o, "reason", record_scrub(b, sig->reason, true));
	record_put(b, o, "d", record_str(sig->domain));
	record_put(b, o, "s", record_str(sig->selector));
	record_put(b, o, "a", record_str(sig->algorithm));
	record_put(b, o, "c", record_str(sig->canon));
	record_put(b, o, "i", sig->identity[0] == '@' ?
	    record_scrub(b, sig->identity, true) :
	    record_pv(b, RECORD_ADDR, sig->identity, true));
	record_put(b, o, "b", record_str(sig->b_prefix));
	record_put(b, o, "l", sig->body_length >= 0 ?
	    json_integer(sig->body_length) : json_null());
	record_put(b, o, "key_type", record_str(sig->key_type));
	record_put(b, o, "key_bits", sig->key_bits >= 0 ?
	    json_integer(sig->key_bits) : json_null());
	record_put(b, o, "key_encoding", record_str(sig->key_encoding));
	record_put(b, o, "testing", json_boolean(sig->testing));
	record_put(b, o, "dnssec", sig->dnssec_known ?
	    json_string(dns_sec_name(sig->dnssec)) : json_null());
	return o;
}

/* record_dkim - every evaluated signature, or null when DKIM did not run */
static json_t *
record_dkim(struct record_b *b, const struct auth_message *a)
{
	json_t *arr;
	unsigned i;

	if (!a->dkim)
		return json_null();
	arr = json_array();
	for (i = 0; i < a->dkim_out.nsig; i++)
		if (arr == NULL || json_array_append_new(arr,
		    record_dkim_sig(b, &a->dkim_out.sig[i])) != 0)
			b->err = 1;
	return arr;
}

/* record_char - a one-character policy tag ('r', 's') as a string */
static json_t *
record_char(char c)
{
	char buf[2] = { c, '\0' };

	return c != '\0' ? json_string(buf) : json_null();
}

/* record_dmarc - the DMARC evaluation, or null when it did not run */
static json_t *
record_dmarc(struct record_b *b, const struct auth_message *a)
{
	const struct dmarceval_outcome *d = &a->dmarc_out;
	json_t *o;

	if (!a->dmarc)
		return json_null();
	o = json_object();
	record_put(b, o, "result", json_string(dmarceval_res_name(d->result)));
	record_put(b, o, "reason", record_scrub(b, d->reason, true));
	record_put(b, o, "from_domain", record_str(d->from_domain));
	record_put(b, o, "from_headers", json_integer(d->from_headers));
	record_put(b, o, "from_mailboxes", json_integer(d->from_mailboxes));
	record_put(b, o, "org_domain", record_str(d->org_domain));
	record_put(b, o, "record_domain", d->have_record ?
	    record_str(d->record_domain) : json_null());
	record_put(b, o, "p", d->have_record ? record_str(d->p) : json_null());
	record_put(b, o, "sp", d->have_record ? record_str(d->sp) : json_null());
	record_put(b, o, "pct", d->have_record ? json_integer(d->pct) :
	    json_null());
	record_put(b, o, "adkim", d->have_record ? record_char(d->adkim) :
	    json_null());
	record_put(b, o, "aspf", d->have_record ? record_char(d->aspf) :
	    json_null());
	record_put(b, o, "policy", !d->have_record ? json_null() :
	    json_string(d->policy_is_sp ? "sp" : "p"));
	record_put(b, o, "spf_aligned", json_boolean(d->spf_aligned));
	record_put(b, o, "spf_domain", record_str(d->spf_domain));
	record_put(b, o, "dkim_aligned", json_boolean(d->dkim_aligned));
	record_put(b, o, "dkim_domain", record_str(d->dkim_domain));
	record_put(b, o, "disposition",
	    json_string(dmarceval_disp_name(d->disposition)));
	record_put(b, o, "pct_sampled_out", json_boolean(d->pct_sampled_out));
	record_put(b, o, "dnssec", json_string(dns_sec_name(d->dnssec)));
	return o;
}

/* record_auth - "auth" of a record; msg NULL for the session record */
static json_t *
record_auth(struct record_b *b, const struct session *s,
    const struct session_message *msg)
{
	json_t *o = json_object(), *spf;

	if (msg != NULL) {
		if (msg->auth.spf) {
			spf = json_object();
			record_put(b, spf, "mailfrom", record_spf(b,
			    &msg->auth.mailfrom));
			record_put(b, spf, "helo", record_spf(b, &msg->auth.helo));
		} else {
			spf = json_null();
		}
		record_put(b, o, "spf", spf);
		record_put(b, o, "dkim", record_dkim(b, &msg->auth));
		record_put(b, o, "dkim_total", msg->auth.dkim ?
		    json_integer(msg->auth.dkim_out.total) : json_null());
		record_put(b, o, "dkim_error", msg->auth.dkim ?
		    record_scrub(b, msg->auth.dkim_out.error, true) : json_null());
		record_put(b, o, "dmarc", record_dmarc(b, &msg->auth));
	}
	record_put(b, o, "iprev", record_iprev(b, &s->auth));
	return o;
}

/* record_authres - the A-R header we wrote (or would have), and what
 * happened to those the message came with */
static json_t *
record_authres(struct record_b *b, const struct session_message *msg)
{
	json_t *o = json_object();

	/* the value names addresses and hosts of every group: withheld */
	record_put(b, o, "value", b->p != NULL ? json_null() :
	    record_str(msg->ar));
	if (b->p != NULL)
		record_put(b, o, "withheld", json_true());
	record_put(b, o, "added", json_boolean(msg->ar_added));
	record_put(b, o, "found", json_integer(msg->ar_found));
	record_put(b, o, "forged", json_integer(msg->ar_forged));
	record_put(b, o, "removed", json_integer(msg->ar_removed));
	record_put(b, o, "removed_other", json_integer(msg->ar_removed_other));
	record_put(b, o, "not_removed", json_integer(msg->ar_unremoved));
	return o;
}

/* record_time - unix seconds as RFC 3339, or null when 0 */
static json_t *
record_time(struct record_b *b, int64_t t)
{
	char ts[40];

	if (t <= 0)
		return json_null();
	if (clock_rfc3339(t * 1000000, ts, sizeof(ts)) != 0) {
		b->err = 1;
		return NULL;
	}
	return json_string(ts);
}

/* record_gl_chain - the earlier attempts from other networks */
static json_t *
record_gl_chain(struct record_b *b, const struct greylist_result *r)
{
	json_t *a = json_array(), *o;
	unsigned i;

	for (i = 0; i < r->nchain; i++) {
		o = json_object();
		record_put(b, o, "net", record_pv(b, RECORD_IP, r->chain[i].net,
		    false));
		record_put(b, o, "family", record_family(r->chain[i].family));
		record_put(b, o, "ts", record_time(b, r->chain[i].t));
		if (a == NULL || o == NULL || json_array_append_new(a, o) != 0)
			b->err = 1;
	}
	return a;
}

/* record_gl_one - one recipient's greylisting */
static json_t *
record_gl_one(struct record_b *b, const struct session_gl *g, bool session)
{
	const struct greylist_result *r = &g->r;
	json_t *o = json_object();

	if (session)
		record_put(b, o, "msg", json_integer(g->msg));
	record_put(b, o, "rcpt", record_pv(b, RECORD_ADDR, g->rcpt, false));
	record_put(b, o, "mode", json_string(greylist_mode_name(r->mode)));
	record_put(b, o, "verdict", json_string(greylist_verdict_name(
	    r->verdict)));
	record_put(b, o, "attempt", r->attempt > 0 ?
	    json_integer(r->attempt) : json_null());
	record_put(b, o, "first_seen", record_time(b, r->first_seen));
	record_put(b, o, "delay_s", r->first_seen > 0 ?
	    json_integer(r->delay_s) : json_null());
	record_put(b, o, "net", record_pv(b, RECORD_IP, r->net, true));
	record_put(b, o, "via_chain", json_boolean(r->via_chain));
	record_put(b, o, "auto_allowed", json_boolean(r->auto_allowed));
	record_put(b, o, "chain", record_gl_chain(b, r));
	record_put(b, o, "chain_total", json_integer(r->chain_total));
	record_put(b, o, "error", record_scrub(b, r->error, true));
	return o;
}

/* record_greylist - the greylisting of a message or session, or null
 * when it is off */
static json_t *
record_greylist(struct record_b *b, const struct session *s,
    const struct session_gl *list, unsigned n, unsigned total, bool session)
{
	json_t *o, *arr;
	unsigned i;

	if (s->env->gl == NULL || (s->env->gl->mode == GREYLIST_OFF &&
	    total == 0))
		return json_null();
	o = json_object();
	arr = json_array();
	for (i = 0; i < n; i++)
		if (arr == NULL || json_array_append_new(arr,
		    record_gl_one(b, &list[i], session)) != 0)
			b->err = 1;
	record_put(b, o, "mode", json_string(greylist_mode_name(
	    s->env->gl->mode)));
	record_put(b, o, "rcpt", arr);
	record_put(b, o, "total", json_integer(total));
	return o;
}

/* record_tags - tag names of a set, in the order of first match */
static json_t *
record_tags(struct record_b *b, const struct session *s,
    const struct tags_set *set)
{
	json_t *a = json_array();
	unsigned i;

	for (i = 0; s->env->tags != NULL && i < set->n; i++)
		if (a == NULL || json_array_append_new(a, json_string(
		    tags_name(s->env->tags, set->idx[i]))) != 0)
			b->err = 1;
	return a;
}

/* record_session_part - fields shared by both record kinds */
static void
record_session_part(struct record_b *b, json_t *o, const struct session *s,
    const struct tags_set *tags)
{
	record_put(b, o, "client", record_client(b, s));
	record_put(b, o, "server", record_server(b, s));
	record_put(b, o, "tls", record_tls(b, &s->tls));
	record_put(b, o, "tags", record_tags(b, s, tags));
}

/* record_envelope - sender and recipients */
static json_t *
record_envelope(struct record_b *b, const struct session_message *msg)
{
	json_t *o = json_object(), *rcpt = json_array();
	unsigned i;

	record_put(b, o, "from", record_pv(b, RECORD_ADDR, msg->from, false));
	for (i = 0; i < msg->nrcpt; i++)
		if (rcpt == NULL ||
		    json_array_append_new(rcpt, record_pv(b, RECORD_ADDR,
		    msg->rcpt[i], false)) != 0)
			b->err = 1;
	record_put(b, o, "rcpt", rcpt);
	record_put(b, o, "rcpt_count", json_integer(msg->rcpt_total));
	record_put(b, o, "size_declared", msg->size_declared >= 0 ?
	    json_integer(msg->size_declared) : json_null());
	record_put(b, o, "auth", msg->auth_type[0] == '\0' ? json_null() :
	    json_pack("{s:s, s:o}", "mechanism", msg->auth_type, "user",
	    record_pv(b, RECORD_ADDR, msg->auth_user, true)));
	return o;
}

/* record_content - what the message was like */
static json_t *
record_content(struct record_b *b, const struct session_message *msg)
{
	json_t *o = json_object();

	record_put(b, o, "id", record_pv(b, RECORD_MSGID, msg->msgid, true));
	record_put(b, o, "id_count", json_integer(msg->msgid_count));
	record_put(b, o, "size", msg->t[SESSION_STAGE_DATA] == 0 &&
	    msg->headers == 0 && msg->body_bytes == 0 ? json_null() :
	    json_integer((json_int_t)(msg->header_bytes +
	    (msg->headers > 0 ? 2 : 0) + msg->body_bytes)));
	record_put(b, o, "headers", json_integer(msg->headers));
	record_put(b, o, "body_bytes", json_integer((json_int_t)msg->body_bytes));
	return o;
}

/* record_finish - the object, or NULL after any failure */
static json_t *
record_finish(struct record_b *b, json_t *o)
{
	record_end(b);
	if (b->err != 0 || o == NULL) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* record_disposition - what the MTA was told, and at which stage (as
 * json_pack("{s:s, s:s}") built it, without parsing a format) */
static json_t *
record_disposition(struct record_b *b, const char *action,
    const char *stage)
{
	json_t *o = json_object();

	record_put(b, o, "action", json_string(action));
	record_put(b, o, "stage", json_string(stage));
	return o;
}

/* record_message - one message (ended by EOM or abort) */
json_t *
record_message(const struct session *s, const struct session_message *msg,
    const char *action, const char *stage)
{
	struct record_b b = { 0 };
	json_t *o;

	record_begin(&b, s, msg);
	o = record_common(&b, s, "message");

	record_put(&b, o, "msg", json_integer(msg->index));
	record_session_part(&b, o, s, &msg->tags);
	record_put(&b, o, "queue_id", record_str(msg->queue_id));
	record_put(&b, o, "envelope", record_envelope(&b, msg));
	record_put(&b, o, "message", record_content(&b, msg));
	record_put(&b, o, "auth", record_auth(&b, s, msg));
	record_put(&b, o, "authentication_results", record_authres(&b, msg));
	record_put(&b, o, "greylist", record_greylist(&b, s, msg->gl, msg->ngl,
	    msg->gl_total, false));
	record_put(&b, o, "dns", record_dns(&b, msg->auth.dns));
	record_put(&b, o, "dns_total", json_integer(msg->auth.dns != NULL ?
	    msg->auth.dns->total : 0));
	record_put(&b, o, "disposition", record_disposition(&b, action,
	    stage));
	record_put(&b, o, "timing", record_timing(&b, s->start_mono, msg->t));
	record_put(&b, o, "truncated", record_truncated(&b,
	    s->truncated | msg->truncated));
	record_put(&b, o, "fault", json_boolean(msg->fault));
	record_pseudo_keys(&b, o);
	return record_finish(&b, o);
}

/* record_session - the whole connection, written at close */
json_t *
record_session(const struct session *s)
{
	struct record_b b = { 0 };
	json_t *o;

	record_begin(&b, s, NULL);
	o = record_common(&b, s, "session");

	record_session_part(&b, o, s, &s->tags_all);
	record_put(&b, o, "auth", record_auth(&b, s, NULL));
	record_put(&b, o, "dns", record_dns(&b, s->auth.dns));
	record_put(&b, o, "dns_total", json_integer(s->auth.dns != NULL ?
	    s->auth.dns->total : 0));
	record_put(&b, o, "greylist", record_greylist(&b, s, s->gl, s->ngl,
	    s->gl_total, true));
	record_put(&b, o, "messages", json_integer(s->messages));
	record_put(&b, o, "aborted", json_integer(s->aborted));
	record_put(&b, o, "timing", record_timing(&b, s->start_mono, s->t));
	record_put(&b, o, "truncated", record_truncated(&b, s->truncated));
	record_put(&b, o, "fault", json_boolean(s->fault));
	record_pseudo_keys(&b, o);
	return record_finish(&b, o);
}
