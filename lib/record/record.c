/*
 * record.c - write the JSON text of a message or session record, member
 * by member, straight from the session model (record_json.h's writer):
 * no tree is built. Whoever needs the record as an object (record_fit()
 * for one over the log's cap, the tests) parses the text.
 *
 * Every string stored in a session is already bounded valid UTF-8; the
 * writer checks it again and fails the record otherwise. Any failure
 * makes the whole record fail, never a partial record.
 *
 * Fields that can name people go through record_privacy.c (record_pv,
 * record_scrub); the Authentication-Results value is withheld when any
 * group is pseudonymized.
 */
#include "clock.h"
#include "errors.h"
#include "ipaddr.h"
#include "record/record.h"
#include "record/record_internal.h"

/* record_key - the key of the next member */
static void
record_key(struct record_b *b, const char *key)
{
	record_w_key(&b->w, key);
}

/* record_name - one of our names of a value (an enum's, a schema
 * constant); a missing name fails the record */
static void
record_name(struct record_b *b, const char *name)
{
	if (name == NULL)
		b->err = 1;
	record_w_str(&b->w, name);
}

/* record_kname - a member whose value is one of our names */
static void
record_kname(struct record_b *b, const char *key, const char *name)
{
	record_key(b, key);
	record_name(b, name);
}

/* record_kstr - a member: a string, or null when empty */
static void
record_kstr(struct record_b *b, const char *key, const char *v)
{
	record_key(b, key);
	record_text(b, v, true);
}

/* record_kint - a member: an integer */
static void
record_kint(struct record_b *b, const char *key, json_int_t v)
{
	record_key(b, key);
	record_w_int(&b->w, v);
}

/* record_kint_or_null - a member: an integer, or null unless known */
static void
record_kint_or_null(struct record_b *b, const char *key, bool known,
    json_int_t v)
{
	record_key(b, key);
	if (known)
		record_w_int(&b->w, v);
	else
		record_w_null(&b->w);
}

/* record_kbool - a member: true or false */
static void
record_kbool(struct record_b *b, const char *key, bool v)
{
	record_key(b, key);
	record_w_bool(&b->w, v);
}

/* record_knull - a member: null */
static void
record_knull(struct record_b *b, const char *key)
{
	record_key(b, key);
	record_w_null(&b->w);
}

/* record_kpv - a member: a value of a pseudonymized group */
static void
record_kpv(struct record_b *b, const char *key, enum record_grp g,
    const char *v, bool empty_null)
{
	record_key(b, key);
	record_pv(b, g, v, empty_null);
}

/* record_kscrub - a member: other text that can carry such a value */
static void
record_kscrub(struct record_b *b, const char *key, const char *v,
    bool empty_null)
{
	record_key(b, key);
	record_scrub(b, v, empty_null);
}

/* record_ts - a member: microseconds since the epoch as RFC 3339 */
static void
record_ts(struct record_b *b, const char *key, int64_t us)
{
	char ts[40];

	if (clock_rfc3339(us, ts, sizeof(ts)) != 0)
		b->err = 1;
	record_kname(b, key, ts);
}

/* record_common - v, ts, event, session, start: the fixed prefix */
static void
record_common(struct record_b *b, const struct session *s, const char *event)
{
	record_kint(b, "v", RECORD_VERSION);
	record_ts(b, "ts", clock_wall());
	record_kname(b, "event", event);
	record_kname(b, "session", s->id);
	record_ts(b, "start", s->start_wall);
}

/* record_family - "ipv4", "ipv6" or null */
static void
record_family(struct record_b *b, int family)
{
	record_key(b, "family");
	record_w_str(&b->w, ipaddr_family_name(family));
}

/* record_client - who connected */
static void
record_client(struct record_b *b, const struct session *s)
{
	record_key(b, "client");
	record_w_open(&b->w, '{');
	record_kpv(b, "ip", RECORD_IP, s->client_ip, true);
	record_kint_or_null(b, "port", s->client_port != 0, s->client_port);
	record_family(b, s->family);
	record_kpv(b, "ptr", RECORD_NAME, s->ptr[0] != '\0' ? s->ptr :
	    s->client_name, true);
	record_kpv(b, "name", RECORD_NAME, s->client_name, true);
	record_kstr(b, "resolve", s->resolve);
	if (s->helo_count > 0)
		record_kpv(b, "helo", RECORD_NAME, s->helo, false);
	else
		record_knull(b, "helo");
	record_kint(b, "helo_count", s->helo_count);
	record_w_close(&b->w, '}');
}

/* record_server - where the client connected, and which MTA */
static void
record_server(struct record_b *b, const struct session *s)
{
	record_key(b, "server");
	record_w_open(&b->w, '{');
	record_kstr(b, "addr", s->server_addr);
	record_kint_or_null(b, "port", s->server_port != 0, s->server_port);
	record_kstr(b, "name", s->server_name);
	record_kstr(b, "daemon", s->daemon_name);
	record_kname(b, "mta", macro_mta_name(s->mta));
	record_kstr(b, "mta_version", s->mta_version);
	record_w_close(&b->w, '}');
}

/* record_peer - the client certificate, or null */
static void
record_peer(struct record_b *b, const struct tls_info *tls)
{
	record_key(b, "peer");
	if (!tls->peer) {
		record_w_null(&b->w);
		return;
	}
	record_w_open(&b->w, '{');
	record_kpv(b, "subject", RECORD_NAME, tls->subject, true);
	record_kpv(b, "issuer", RECORD_NAME, tls->issuer, true);
	record_key(b, "verified");
	if (tls->verified < 0)
		record_w_null(&b->w);
	else
		record_w_bool(&b->w, tls->verified);
	record_kstr(b, "verify", tls->verify);
	record_kpv(b, "cn_subject", RECORD_NAME, tls->cn_subject, true);
	record_kpv(b, "cn_issuer", RECORD_NAME, tls->cn_issuer, true);
	record_kpv(b, "md5", RECORD_NAME, tls->cert_md5, true);
	record_w_close(&b->w, '}');
}

/* record_tls - null without TLS, else the negotiated parameters */
static void
record_tls(struct record_b *b, const struct tls_info *tls)
{
	record_key(b, "tls");
	if (!tls->used) {
		record_w_null(&b->w);
		return;
	}
	record_w_open(&b->w, '{');
	record_kstr(b, "version", tls->version);
	record_kstr(b, "cipher", tls->cipher);
	record_kint_or_null(b, "bits", tls->bits >= 0, tls->bits);
	record_peer(b, tls);
	record_w_close(&b->w, '}');
}

/* record_timing - ms from connect of each stage seen */
static void
record_timing(struct record_b *b, int64_t start, const int64_t *t)
{
	int i;

	record_key(b, "timing");
	record_w_open(&b->w, '{');
	for (i = 0; i < SESSION_NSTAGES; i++) {
		if (t[i] == 0)
			continue;
		record_key(b, session_stage_name(i));
		record_w_real(&b->w, (double)(t[i] - start) / 1000.0);
	}
	record_w_close(&b->w, '}');
}

/* record_truncated - names of the fields cut at their cap */
static void
record_truncated(struct record_b *b, unsigned mask)
{
	unsigned bit;

	record_key(b, "truncated");
	record_w_open(&b->w, '[');
	for (bit = 1; bit != 0 && bit <= mask; bit <<= 1)
		if ((mask & bit) != 0)
			record_name(b, session_trunc_name(bit));
	record_w_close(&b->w, ']');
}

/* record_rcode - an rcode's name, or null without an answer */
static void
record_rcode(struct record_b *b, int rcode)
{
	char buf[DNS_RCODE_NAME_MAX];

	record_key(b, "rcode");
	if (rcode < 0)
		record_w_null(&b->w);
	else
		record_name(b, dns_rcode_name(rcode, buf, sizeof(buf)));
}

/* record_qtype - a query type's name ("TXT"; "TYPE65" when ldns has none) */
static void
record_qtype(struct record_b *b, uint16_t t)
{
	char buf[DNS_TYPE_NAME_MAX];

	record_kname(b, "type", dns_type_name(t, buf, sizeof(buf)));
}

/* record_dns - the lookups of a context, or an empty list */
static void
record_dns(struct record_b *b, const struct dns_ctx *c)
{
	unsigned i;

	record_key(b, "dns");
	record_w_open(&b->w, '[');
	for (i = 0; c != NULL && i < c->nlog; i++) {
		const struct dns_lookup *l = &c->log[i];

		record_w_open(&b->w, '{');
		record_kscrub(b, "q", l->qname, false);
		record_qtype(b, l->qtype);
		record_rcode(b, l->rcode);
		record_kname(b, "dnssec", dns_lookup_status(l));
		if (dns_lookup_reason(l) != NULL)
			record_kname(b, "reason", dns_lookup_reason(l));
		record_kbool(b, "cached", l->cached);
		record_key(b, "ms");
		record_w_real(&b->w, l->ms);
		record_w_close(&b->w, '}');
	}
	record_w_close(&b->w, ']');
	record_kint(b, "dns_total", c != NULL ? c->total : 0);
}

/* record_iprev - the session's iprev outcome, or null */
static void
record_iprev(struct record_b *b, const struct auth_session *a)
{
	const struct iprev_outcome *io = &a->iprev;
	unsigned i;

	record_key(b, "iprev");
	if (a->dns == NULL) {
		record_w_null(&b->w);
		return;
	}
	record_w_open(&b->w, '{');
	record_kname(b, "result", iprev_res_name(io->result));
	record_key(b, "ptr");
	record_w_open(&b->w, '[');
	for (i = 0; i < io->nnames; i++)
		record_pv(b, RECORD_NAME, io->names[i], false);
	record_w_close(&b->w, ']');
	record_kint(b, "ptr_total", io->ptr_total);
	if (io->matched >= 0 && (unsigned)io->matched < io->nnames)
		record_kpv(b, "matched", RECORD_NAME, io->names[io->matched],
		    false);
	else
		record_knull(b, "matched");
	record_kname(b, "dnssec", dns_sec_name(io->dnssec));
	record_w_close(&b->w, '}');
}

/* record_spf - one SPF outcome */
static void
record_spf(struct record_b *b, const char *key, const struct spf_outcome *so)
{
	record_key(b, key);
	record_w_open(&b->w, '{');
	record_kname(b, "result", spf_res_name(so->result));
	record_kscrub(b, "identity", so->identity, true);
	record_kscrub(b, "domain", so->domain, true);
	record_kscrub(b, "mechanism", so->mechanism, true);
	record_kscrub(b, "reason", so->reason, true);
	record_kscrub(b, "explanation", so->explanation, true);
	record_kname(b, "dnssec", dns_sec_name(so->dnssec));
	record_kint(b, "lookups", so->lookups);
	record_w_close(&b->w, '}');
}

/* record_dkim_sig - one DKIM signature's outcome */
static void
record_dkim_sig(struct record_b *b, const struct dkimverify_sig *sig)
{
	record_w_open(&b->w, '{');
	record_kname(b, "result", dkimverify_res_name(sig->result));
	record_kscrub(b, "reason", sig->reason, true);
	record_kstr(b, "d", sig->domain);
	record_kstr(b, "s", sig->selector);
	record_kstr(b, "a", sig->algorithm);
	record_kstr(b, "c", sig->canon);
	if (sig->identity[0] == '@')
		record_kscrub(b, "i", sig->identity, true);
	else
		record_kpv(b, "i", RECORD_ADDR, sig->identity, true);
	record_kstr(b, "b", sig->b_prefix);
	record_kint_or_null(b, "l", sig->body_length >= 0, sig->body_length);
	record_kstr(b, "key_type", sig->key_type);
	record_kint_or_null(b, "key_bits", sig->key_bits >= 0, sig->key_bits);
	record_kstr(b, "key_encoding", sig->key_encoding);
	record_kbool(b, "testing", sig->testing);
	if (sig->dnssec_known)
		record_kname(b, "dnssec", dns_sec_name(sig->dnssec));
	else
		record_knull(b, "dnssec");
	record_w_close(&b->w, '}');
}

/* record_dkim - every evaluated signature, their total and the error;
 * null when DKIM did not run */
static void
record_dkim(struct record_b *b, const struct auth_message *a)
{
	unsigned i;

	record_key(b, "dkim");
	if (!a->dkim) {
		record_w_null(&b->w);
		record_knull(b, "dkim_total");
		record_knull(b, "dkim_error");
		return;
	}
	record_w_open(&b->w, '[');
	for (i = 0; i < a->dkim_out.nsig; i++)
		record_dkim_sig(b, &a->dkim_out.sig[i]);
	record_w_close(&b->w, ']');
	record_kint(b, "dkim_total", a->dkim_out.total);
	record_kscrub(b, "dkim_error", a->dkim_out.error, true);
}

/* record_kchar - a member: a one-character policy tag ('r', 's') as a
 * string, null for none */
static void
record_kchar(struct record_b *b, const char *key, char c)
{
	char buf[2] = { c, '\0' };

	record_kstr(b, key, buf);
}

/* record_dmarc_policy - what the DMARC record said (null without one) */
static void
record_dmarc_policy(struct record_b *b, const struct dmarceval_outcome *d)
{
	static const char *const keys[] = {
		"record_domain", "p", "sp", "pct", "adkim", "aspf", "policy"
	};
	size_t i;

	if (!d->have_record) {
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			record_knull(b, keys[i]);
		return;
	}
	record_kstr(b, "record_domain", d->record_domain);
	record_kstr(b, "p", d->p);
	record_kstr(b, "sp", d->sp);
	record_kint(b, "pct", d->pct);
	record_kchar(b, "adkim", d->adkim);
	record_kchar(b, "aspf", d->aspf);
	record_kname(b, "policy", d->policy_is_sp ? "sp" : "p");
}

/* record_dmarc - the DMARC evaluation, or null when it did not run */
static void
record_dmarc(struct record_b *b, const struct auth_message *a)
{
	const struct dmarceval_outcome *d = &a->dmarc_out;

	record_key(b, "dmarc");
	if (!a->dmarc) {
		record_w_null(&b->w);
		return;
	}
	record_w_open(&b->w, '{');
	record_kname(b, "result", dmarceval_res_name(d->result));
	record_kscrub(b, "reason", d->reason, true);
	record_kstr(b, "from_domain", d->from_domain);
	record_kint(b, "from_headers", d->from_headers);
	record_kint(b, "from_mailboxes", d->from_mailboxes);
	record_kstr(b, "org_domain", d->org_domain);
	record_dmarc_policy(b, d);
	record_kbool(b, "spf_aligned", d->spf_aligned);
	record_kstr(b, "spf_domain", d->spf_domain);
	record_kbool(b, "dkim_aligned", d->dkim_aligned);
	record_kstr(b, "dkim_domain", d->dkim_domain);
	record_kname(b, "disposition", dmarceval_disp_name(d->disposition));
	record_kbool(b, "pct_sampled_out", d->pct_sampled_out);
	record_kname(b, "dnssec", dns_sec_name(d->dnssec));
	record_w_close(&b->w, '}');
}

/* record_auth - "auth" of a record; msg NULL for the session record */
static void
record_auth(struct record_b *b, const struct session *s,
    const struct session_message *msg)
{
	record_key(b, "auth");
	record_w_open(&b->w, '{');
	if (msg != NULL) {
		record_key(b, "spf");
		if (msg->auth.spf) {
			record_w_open(&b->w, '{');
			record_spf(b, "mailfrom", &msg->auth.mailfrom);
			record_spf(b, "helo", &msg->auth.helo);
			record_w_close(&b->w, '}');
		} else {
			record_w_null(&b->w);
		}
		record_dkim(b, &msg->auth);
		record_dmarc(b, &msg->auth);
	}
	record_iprev(b, &s->auth);
	record_w_close(&b->w, '}');
}

/* record_authres - the A-R header we wrote (or would have), and what
 * happened to those the message came with */
static void
record_authres(struct record_b *b, const struct session_message *msg)
{
	record_key(b, "authentication_results");
	record_w_open(&b->w, '{');
	/* the value names addresses and hosts of every group: withheld */
	if (b->p != NULL) {
		record_knull(b, "value");
		record_kbool(b, "withheld", true);
	} else {
		record_kstr(b, "value", msg->ar);
	}
	record_kbool(b, "added", msg->ar_added);
	record_kint(b, "found", msg->ar_found);
	record_kint(b, "forged", msg->ar_forged);
	record_kint(b, "removed", msg->ar_removed);
	record_kint(b, "removed_other", msg->ar_removed_other);
	record_kint(b, "not_removed", msg->ar_unremoved);
	record_w_close(&b->w, '}');
}

/* record_time - a member: unix seconds as RFC 3339, or null when 0 */
static void
record_time(struct record_b *b, const char *key, int64_t t)
{
	if (t <= 0)
		record_knull(b, key);
	else
		record_ts(b, key, t * 1000000);
}

/* record_gl_chain - the earlier attempts from other networks */
static void
record_gl_chain(struct record_b *b, const struct greylist_result *r)
{
	unsigned i;

	record_key(b, "chain");
	record_w_open(&b->w, '[');
	for (i = 0; i < r->nchain; i++) {
		record_w_open(&b->w, '{');
		record_kpv(b, "net", RECORD_IP, r->chain[i].net, false);
		record_family(b, r->chain[i].family);
		record_time(b, "ts", r->chain[i].t);
		record_w_close(&b->w, '}');
	}
	record_w_close(&b->w, ']');
}

/* record_gl_one - one recipient's greylisting */
static void
record_gl_one(struct record_b *b, const struct session_gl *g, bool session)
{
	const struct greylist_result *r = &g->r;

	record_w_open(&b->w, '{');
	if (session)
		record_kint(b, "msg", g->msg);
	record_kpv(b, "rcpt", RECORD_ADDR, g->rcpt, false);
	record_kname(b, "mode", greylist_mode_name(r->mode));
	record_kname(b, "verdict", greylist_verdict_name(r->verdict));
	record_kint_or_null(b, "attempt", r->attempt > 0, r->attempt);
	record_time(b, "first_seen", r->first_seen);
	record_kint_or_null(b, "delay_s", r->first_seen > 0, r->delay_s);
	record_kpv(b, "net", RECORD_IP, r->net, true);
	record_kbool(b, "via_chain", r->via_chain);
	record_kbool(b, "auto_allowed", r->auto_allowed);
	record_gl_chain(b, r);
	record_kint(b, "chain_total", r->chain_total);
	record_kscrub(b, "error", r->error, true);
	record_w_close(&b->w, '}');
}

/* record_greylist - the greylisting of a message or session, or null
 * when it is off */
static void
record_greylist(struct record_b *b, const struct session *s,
    const struct session_gl *list, unsigned n, unsigned total, bool session)
{
	unsigned i;

	record_key(b, "greylist");
	if (s->env->gl == NULL || (s->env->gl->mode == GREYLIST_OFF &&
	    total == 0)) {
		record_w_null(&b->w);
		return;
	}
	record_w_open(&b->w, '{');
	record_kname(b, "mode", greylist_mode_name(s->env->gl->mode));
	record_key(b, "rcpt");
	record_w_open(&b->w, '[');
	for (i = 0; i < n; i++)
		record_gl_one(b, &list[i], session);
	record_w_close(&b->w, ']');
	record_kint(b, "total", total);
	record_w_close(&b->w, '}');
}

/* record_tags - tag names of a set, in the order of first match */
static void
record_tags(struct record_b *b, const struct session *s,
    const struct tags_set *set)
{
	unsigned i;

	record_key(b, "tags");
	record_w_open(&b->w, '[');
	for (i = 0; s->env->tags != NULL && i < set->n; i++)
		record_name(b, tags_name(s->env->tags, set->idx[i]));
	record_w_close(&b->w, ']');
}

/* record_session_part - fields shared by both record kinds */
static void
record_session_part(struct record_b *b, const struct session *s,
    const struct tags_set *tags)
{
	record_client(b, s);
	record_server(b, s);
	record_tls(b, &s->tls);
	record_tags(b, s, tags);
}

/* record_envelope - sender and recipients */
static void
record_envelope(struct record_b *b, const struct session_message *msg)
{
	unsigned i;

	record_key(b, "envelope");
	record_w_open(&b->w, '{');
	record_kpv(b, "from", RECORD_ADDR, msg->from, false);
	record_key(b, "rcpt");
	record_w_open(&b->w, '[');
	for (i = 0; i < msg->nrcpt; i++)
		record_pv(b, RECORD_ADDR, msg->rcpt[i], false);
	record_w_close(&b->w, ']');
	record_kint(b, "rcpt_count", msg->rcpt_total);
	record_kint_or_null(b, "size_declared", msg->size_declared >= 0,
	    msg->size_declared);
	if (msg->auth_type[0] == '\0') {
		record_knull(b, "auth");
	} else {
		record_key(b, "auth");
		record_w_open(&b->w, '{');
		record_kname(b, "mechanism", msg->auth_type);
		record_kpv(b, "user", RECORD_ADDR, msg->auth_user, true);
		record_w_close(&b->w, '}');
	}
	record_w_close(&b->w, '}');
}

/* record_content - what the message was like */
static void
record_content(struct record_b *b, const struct session_message *msg)
{
	record_key(b, "message");
	record_w_open(&b->w, '{');
	record_kpv(b, "id", RECORD_MSGID, msg->msgid, true);
	record_kint(b, "id_count", msg->msgid_count);
	record_kint_or_null(b, "size", msg->t[SESSION_STAGE_DATA] != 0 ||
	    msg->headers != 0 || msg->body_bytes != 0,
	    (json_int_t)(msg->header_bytes + (msg->headers > 0 ? 2 : 0) +
	    msg->body_bytes));
	record_kint(b, "headers", msg->headers);
	record_kint(b, "body_bytes", (json_int_t)msg->body_bytes);
	record_w_close(&b->w, '}');
}

/* record_disposition - what the MTA was told, and at which stage */
static void
record_disposition(struct record_b *b, const char *action, const char *stage)
{
	record_key(b, "disposition");
	record_w_open(&b->w, '{');
	record_kname(b, "action", action);
	record_kname(b, "stage", stage);
	record_w_close(&b->w, '}');
}

/* record_finish - the text, or the first failure */
static int
record_finish(struct record_b *b, char **out, size_t *len)
{
	record_pseudo_keys(b);
	record_w_close(&b->w, '}');
	record_end(b);
	if (b->err != 0 && b->w.err == SCOPE_OK)
		b->w.err = SCOPE_EINVAL;
	return record_w_take(&b->w, out, len);
}

/* record_message_text - one message (ended by EOM or abort) */
int
record_message_text(const struct session *s,
    const struct session_message *msg, const char *action, const char *stage,
    size_t extra, char **out, size_t *len)
{
	struct record_b b = { .err = 0 };

	record_w_init(&b.w, RECORD_TEXT_MAX, extra);
	record_begin(&b, s, msg);
	record_w_open(&b.w, '{');
	record_common(&b, s, "message");
	record_kint(&b, "msg", msg->index);
	record_session_part(&b, s, &msg->tags);
	record_kstr(&b, "queue_id", msg->queue_id);
	record_envelope(&b, msg);
	record_content(&b, msg);
	record_auth(&b, s, msg);
	record_authres(&b, msg);
	record_greylist(&b, s, msg->gl, msg->ngl, msg->gl_total, false);
	record_dns(&b, msg->auth.dns);
	record_disposition(&b, action, stage);
	record_timing(&b, s->start_mono, msg->t);
	record_truncated(&b, s->truncated | msg->truncated);
	record_kbool(&b, "fault", msg->fault);
	return record_finish(&b, out, len);
}

/* record_session_text - the whole connection, written at close */
int
record_session_text(const struct session *s, size_t extra, char **out,
    size_t *len)
{
	struct record_b b = { .err = 0 };

	record_w_init(&b.w, RECORD_TEXT_MAX, extra);
	record_begin(&b, s, NULL);
	record_w_open(&b.w, '{');
	record_common(&b, s, "session");
	record_session_part(&b, s, &s->tags_all);
	record_auth(&b, s, NULL);
	record_dns(&b, s->auth.dns);
	record_greylist(&b, s, s->gl, s->ngl, s->gl_total, true);
	record_kint(&b, "messages", s->messages);
	record_kint(&b, "aborted", s->aborted);
	record_timing(&b, s->start_mono, s->t);
	record_truncated(&b, s->truncated);
	record_kbool(&b, "fault", s->fault);
	return record_finish(&b, out, len);
}
