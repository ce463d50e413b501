/*
 * greylist.c - greylisting that measures: parameters, allow-lists and the
 * one atomic step per recipient (greylist_check). How state is named and
 * stored (normalisation, keys, entry codecs) is greylist_codec.c; expiry
 * and statistics are greylist_admin.c.
 *
 * One recipient is one glstore_rmw() over three keys (greylist.h): the
 * triplet t|NET|SENDER|RCPT, the retry chain c|SENDER|RCPT and the client
 * network a|NET. The step (greylist_step) decides the verdict from what
 * it read and writes the new entries; it keeps no state of its own, so
 * the store may call it again after a conflict.
 *
 * Decisions:
 *  - allow-listed clients (GreylistAllowNetworks, GreylistAllowDomains)
 *    touch no store: a triplet of a client that is never asked to retry
 *    would read as a never-retried delivery and skew the pass rate and
 *    the delay statistics; the record still says "allowed";
 *  - an auto-allowed network (a|NET passes >= GreylistAutoAllow) leaves
 *    its triplets alone too, but its a|NET entry is counted and
 *    refreshed, so an active network does not expire;
 *  - passes counts every passed delivery (postgrey counts successful
 *    deliveries, not distinct triplets), including later deliveries of a
 *    triplet that passed;
 *  - the chain is kept and reported whether or not GreylistChain is on,
 *    so records measure what chain passing would do; only the pass
 *    itself needs GreylistChain;
 *  - undecodable entries, and entries dated more than a retry window in
 *    the future, are treated as absent (and removed by greylist_expire).
 * Owns nothing: the step's state lives in greylist_check's frame.
 * Fails: never on bad input (EINVAL); a store failure is GREYLIST_ERROR.
 */
#include <ctype.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "errors.h"
#include "ipaddr.h"
#include "greylist/glstore_internal.h"
#include "greylist/greylist.h"
#include "greylist/greylist_internal.h"

static const char *const greylist_verdicts[] = {
	"skipped", "new", "early", "passed", "allowed", "error"
};
static const char *const greylist_modes[] = { "off", "observe", "enforce" };

/* greylist_verdict_name - the record's name of a verdict */
const char *
greylist_verdict_name(enum greylist_verdict v)
{
	if ((unsigned)v >= sizeof(greylist_verdicts) / sizeof(greylist_verdicts[0]))
		return "error";
	return greylist_verdicts[v];
}

/* greylist_mode_name - the configuration's name of a mode */
const char *
greylist_mode_name(enum greylist_mode m)
{
	if ((unsigned)m >= sizeof(greylist_modes) / sizeof(greylist_modes[0]))
		return "off";
	return greylist_modes[m];
}

/* greylist_params_default - the documented defaults (mode off) */
void
greylist_params_default(struct greylist_params *p)
{
	memset(p, 0, sizeof(*p));
	p->mode = GREYLIST_OFF;
	p->delay_s = 300;
	p->window_s = 2 * 86400;
	p->lifetime_s = 35 * 86400;
	p->auto_allow = 5;
	p->prefix4 = 24;
	p->prefix6 = 64;
	p->chain = true;
}

/* greylist_inc - saturating increment */
static unsigned
greylist_inc(unsigned v)
{
	return v == UINT_MAX ? v : v + 1;
}

/*
 * The step. keys: 0 triplet, 1 chain, 2 client network.
 */
struct greylist_step {
	const struct greylist_params *p;
	int64_t now;
	const char *net;
	int family;
	struct greylist_result r;	/* rewritten by every call */
};

/* greylist_set - an encoded entry as the value to write */
static int
greylist_set(struct glstore_val *v, int len)
{
	if (len < 0)
		return len;
	v->present = true;
	v->len = (size_t)len;
	return SCOPE_OK;
}

/* greylist_stale - outlived its lifetime, or dated beyond a window ahead */
static bool
greylist_stale(const struct greylist_params *p, int64_t now, int64_t first,
    int64_t last)
{
	return now - last > p->lifetime_s || first > now + p->window_s ||
	    last > now + p->window_s;
}

/* greylist_window_left - seconds of the retry window left after since
 * (at least 1): the life of an unconfirmed entry */
static int64_t
greylist_window_left(const struct greylist_params *p, int64_t now,
    int64_t since)
{
	int64_t left = since + p->window_s - now;

	return left > 0 ? left : 1;
}

/* greylist_step_triplet - the triplet's own verdict (NEW, EARLY, PASSED) */
static enum greylist_verdict
greylist_step_triplet(struct greylist_step *st, const struct glstore_val *in,
    struct greylist_entry *e)
{
	const struct greylist_params *p = st->p;
	int64_t now = st->now;

	if (!in->present || greylist_entry_decode(in->data, in->len, e) != 0 ||
	    greylist_stale(p, now, e->first, e->last) ||
	    (e->passed == 0 && now - e->first > p->window_s)) {
		memset(e, 0, sizeof(*e));
		e->first = e->last = now;
		e->attempts = 1;
		return GREYLIST_NEW;
	}
	if (now > e->last)
		e->last = now;
	if (e->passed != 0) {
		e->deliveries = greylist_inc(e->deliveries);
		return GREYLIST_PASSED;
	}
	e->attempts = greylist_inc(e->attempts);
	if (now - e->first < p->delay_s)
		return GREYLIST_EARLY;
	e->passed = now;
	return GREYLIST_PASSED;
}

/* greylist_step_chain - read the chain, list the earlier attempts from
 * other networks, find the earliest one a chain pass may count; returns
 * its index or -1 */
static int
greylist_step_chain(struct greylist_step *st, const struct glstore_val *in,
    struct greylist_chain *c)
{
	const struct greylist_params *p = st->p;
	struct greylist_hop *h;
	unsigned i, n = 0;
	int found = -1;

	if (!in->present || greylist_chain_decode(in->data, in->len, c) != 0 ||
	    greylist_stale(p, st->now, c->first, c->last))
		memset(c, 0, sizeof(*c));
	if (c->total > 0 && st->now - c->last > p->window_s) {
		/* a new round of the same delivery; keep the passes */
		c->total = 0;
		c->nhop = 0;
	}
	/* drop attempts older than the window */
	for (i = 0; i < c->nhop; i++)
		if (st->now - c->hop[i].t <= p->window_s)
			c->hop[n++] = c->hop[i];
	c->nhop = n;
	if (c->total == 0)
		c->first = st->now;
	st->r.chain_total = c->total;
	for (i = 0; i < c->nhop; i++) {
		h = &c->hop[i];
		if (strcmp(h->net, st->net) == 0)
			continue;
		st->r.chain[st->r.nchain++] = *h;
		if (found < 0 && st->now - h->t >= p->delay_s)
			found = (int)i;
	}
	return found;
}

/* greylist_step_append - this attempt as the chain's latest */
static void
greylist_step_append(struct greylist_step *st, struct greylist_chain *c)
{
	struct greylist_hop *h;

	if (c->nhop == GREYLIST_CHAIN_MAX) {
		memmove(&c->hop[0], &c->hop[1],
		    (GREYLIST_CHAIN_MAX - 1) * sizeof(c->hop[0]));
		c->nhop--;
	}
	h = &c->hop[c->nhop++];
	memset(h, 0, sizeof(*h));
	snprintf(h->net, sizeof(h->net), "%s", st->net);
	h->family = st->family;
	h->t = st->now;
	c->total = greylist_inc(c->total);
	c->last = st->now;
}

#define GREYLIST_CLIENT_REFRESH	3600	/* seconds between refreshes of an
					 * auto-allowed network's entry */

/* greylist_step - the glstore_fn of greylist_check */
static int
greylist_step(void *arg, const struct glstore_val *in,
    struct glstore_val *out, unsigned nkeys)
{
	struct greylist_step *st = arg;
	const struct greylist_params *p = st->p;
	struct greylist_entry e;
	struct greylist_chain c;
	struct greylist_client cl;
	enum greylist_verdict v;
	int hop, rc;
	unsigned i;

	if (nkeys != 3)
		return SCOPE_EINVAL;
	for (i = 0; i < nkeys; i++) {
		out[i].present = false;		/* leave alone unless set */
		out[i].len = 0;
	}
	memset(&st->r.chain, 0, sizeof(st->r.chain));
	st->r.nchain = st->r.chain_total = 0;
	st->r.via_chain = st->r.auto_allowed = false;

	if (!in[2].present || greylist_client_decode(in[2].data, in[2].len,
	    &cl) != 0 || greylist_stale(p, st->now, cl.last, cl.last))
		memset(&cl, 0, sizeof(cl));
	if (p->auto_allow > 0 && cl.passes >= p->auto_allow) {
		st->r.verdict = GREYLIST_ALLOWED;
		st->r.auto_allowed = true;
		/* an allowed network's entry is only kept alive, at most
		 * once per GREYLIST_CLIENT_REFRESH: written on every message
		 * it would be the hottest key of a shared store (Redis
		 * transactions on it would conflict under load) */
		if (st->now - cl.last < GREYLIST_CLIENT_REFRESH)
			return 0;
		cl.last = st->now;
		return greylist_set(&out[2], greylist_client_encode(&cl,
		    out[2].data, sizeof(out[2].data)));
	}

	v = greylist_step_triplet(st, &in[0], &e);
	st->r.attempt = e.attempts + e.deliveries;
	st->r.first_seen = e.first;
	st->r.delay_s = st->now - e.first;
	hop = greylist_step_chain(st, &in[1], &c);
	if ((v == GREYLIST_NEW || v == GREYLIST_EARLY) && p->chain && hop >= 0) {
		v = GREYLIST_PASSED;
		st->r.via_chain = true;
		e.passed = st->now;
		c.passes = greylist_inc(c.passes);
		st->r.attempt = greylist_inc(c.total);
		st->r.first_seen = c.hop[hop].t;
		st->r.delay_s = st->now - c.hop[hop].t;
	}
	greylist_step_append(st, &c);
	st->r.verdict = v;

	rc = greylist_set(&out[0], greylist_entry_encode(&e, out[0].data,
	    sizeof(out[0].data)));
	if (e.passed == 0)	/* unconfirmed: of use for the window only */
		out[0].ttl_s = greylist_window_left(p, st->now, e.first);
	if (rc == 0)
		rc = greylist_set(&out[1], greylist_chain_encode(&c,
		    out[1].data, sizeof(out[1].data)));
	if (c.passes == 0)
		out[1].ttl_s = greylist_window_left(p, st->now, c.last);
	/* the network's passes count only toward auto-allow: not written
	 * when auto-allow is off, nor past its threshold (see above) */
	if (rc == 0 && v == GREYLIST_PASSED && p->auto_allow > 0) {
		cl.passes = greylist_inc(cl.passes);
		cl.last = st->now;
		rc = greylist_set(&out[2], greylist_client_encode(&cl,
		    out[2].data, sizeof(out[2].data)));
	}
	return rc;
}

/* greylist_allowed - on an allow-list by network or verified name? */
static bool
greylist_allowed(const struct greylist_params *p, const char *ip,
    const char *name)
{
	unsigned char addr[16], net[16];
	size_t n, dn;
	unsigned i;
	int fam;

	if (ipaddr_parse(ip, addr, &fam) == 0) {
		for (i = 0; i < p->nallow_net && i < GREYLIST_ALLOW_MAX; i++) {
			if (p->allow_net[i].family != fam)
				continue;
			memcpy(net, addr, sizeof(net));
			ipaddr_mask(net, p->allow_net[i].len);
			if (memcmp(net, p->allow_net[i].addr, 16) == 0)
				return true;
		}
	}
	if (name == NULL)
		return false;
	n = strlen(name);
	if (n > 0 && name[n - 1] == '.')
		n--;
	for (i = 0; i < p->nallow_domain && i < GREYLIST_ALLOW_MAX; i++) {
		dn = strlen(p->allow_domain[i]);
		if (dn == 0 || dn > n)
			continue;
		if (strncasecmp(name + n - dn, p->allow_domain[i], dn) == 0 &&
		    (dn == n || name[n - dn - 1] == '.'))
			return true;
	}
	return false;
}

/* greylist_check - one recipient: the atomic step and its verdict */
void
greylist_check(const struct greylist_params *p, struct glstore *s,
    const struct greylist_attempt *a, struct greylist_result *out)
{
	struct greylist_step st;
	struct greylist_keys k;
	const char *keys[3];
	int rc;

	memset(out, 0, sizeof(*out));
	out->verdict = GREYLIST_SKIPPED;
	out->mode = a->mode_set ? a->mode : p->mode;
	if (out->mode == GREYLIST_OFF || a->client_ip == NULL ||
	    greylist_keys(p, a->client_ip, a->sender, a->rcpt, &k) != 0)
		return;
	snprintf(out->net, sizeof(out->net), "%s", k.net);
	if (greylist_allowed(p, a->client_ip, a->client_name)) {
		out->verdict = GREYLIST_ALLOWED;
		return;
	}
	if (s == NULL) {
		out->verdict = GREYLIST_ERROR;
		snprintf(out->error, sizeof(out->error), "no store");
		return;
	}
	memset(&st, 0, sizeof(st));
	st.p = p;
	st.now = a->now;
	st.net = k.net;
	st.family = k.family;
	st.r = *out;
	keys[0] = k.triplet;
	keys[1] = k.chain;
	keys[2] = k.client;
	glstore_set_error("%s", "");
	rc = glstore_rmw(s, keys, 3, p->lifetime_s, greylist_step, &st);
	if (rc < 0) {
		out->verdict = GREYLIST_ERROR;
		out->store_full = rc == SCOPE_ENOSPC;
		snprintf(out->error, sizeof(out->error), "%s",
		    glstore_error()[0] != '\0' ? glstore_error() : errors_str(rc));
		return;
	}
	*out = st.r;
	out->mode = a->mode_set ? a->mode : p->mode;
}

/* greylist_refuses - the applied mode is enforce, the verdict new or
 * early */
bool
greylist_refuses(const struct greylist_params *p,
    const struct greylist_result *r)
{
	(void)p;
	return r->mode == GREYLIST_ENFORCE && (r->verdict == GREYLIST_NEW ||
	    r->verdict == GREYLIST_EARLY);
}

/* greylist_prefix_len - 0..128, decimal, no sign, no leading zero */
static int
greylist_prefix_len(const char *s, long *len)
{
	struct greylist_rd rd;

	rd.p = s;
	rd.end = s + strlen(s);
	rd.err = false;
	*len = (long)greylist_rd_num(&rd, 128, 0);
	return rd.err ? SCOPE_EINVAL : SCOPE_OK;
}

/* greylist_parse_allow_net - "192.0.2.0/24", "2001:db8::/32", an address */
int
greylist_parse_allow_net(struct greylist_params *p, const char *text)
{
	char buf[INET6_ADDRSTRLEN + 8];
	unsigned char addr[16], net[16];
	const char *slash;
	long len;
	size_t n;
	int fam;

	if (text == NULL)
		return SCOPE_EINVAL;
	slash = strchr(text, '/');
	n = slash != NULL ? (size_t)(slash - text) : strlen(text);
	if (n == 0 || n >= sizeof(buf) || strchr(text, '[') != NULL ||
	    strncasecmp(text, "IPv6:", 5) == 0)
		return SCOPE_EINVAL;
	memcpy(buf, text, n);
	buf[n] = '\0';
	if (ipaddr_parse(buf, addr, &fam) != 0)
		return SCOPE_EINVAL;
	if (slash == NULL) {
		len = fam == AF_INET ? 32 : 128;
	} else {
		if (greylist_prefix_len(slash + 1, &len) != 0)
			return SCOPE_EINVAL;
		if (fam == AF_INET && strchr(buf, ':') != NULL) {
			/* ::ffff:192.0.2.0/120 is 192.0.2.0/24 */
			if (len < 96)
				return SCOPE_EINVAL;
			len -= 96;
		}
		if (len > (fam == AF_INET ? 32 : 128))
			return SCOPE_EINVAL;
	}
	memcpy(net, addr, sizeof(net));
	ipaddr_mask(net, (unsigned)len);
	if (memcmp(net, addr, sizeof(net)) != 0)
		return SCOPE_EINVAL;	/* host bits set: say what you mean */
	if (p->nallow_net >= GREYLIST_ALLOW_MAX)
		return SCOPE_ETOOBIG;
	memcpy(p->allow_net[p->nallow_net].addr, net, 16);
	p->allow_net[p->nallow_net].len = (unsigned)len;
	p->allow_net[p->nallow_net].family = fam;
	p->nallow_net++;
	return SCOPE_OK;
}

/* greylist_parse_allow_domain - "example.com" (and its subdomains):
 * LDH and '_' labels of 1..63, at most 253 bytes, one trailing dot */
int
greylist_parse_allow_domain(struct greylist_params *p, const char *text)
{
	char *d;
	size_t n, i, label = 0;

	if (text == NULL)
		return SCOPE_EINVAL;
	n = strlen(text);
	if (n > 0 && text[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return SCOPE_EINVAL;
	for (i = 0; i < n; i++) {
		if (text[i] == '.') {
			if (label == 0)
				return SCOPE_EINVAL;
			label = 0;
		} else if (isalnum((unsigned char)text[i]) || text[i] == '-' ||
		    text[i] == '_') {
			if (++label > 63)
				return SCOPE_EINVAL;
		} else {
			return SCOPE_EINVAL;
		}
	}
	if (p->nallow_domain >= GREYLIST_ALLOW_MAX)
		return SCOPE_ETOOBIG;
	d = p->allow_domain[p->nallow_domain++];
	for (i = 0; i < n; i++)
		d[i] = (char)tolower((unsigned char)text[i]);
	d[n] = '\0';
	return SCOPE_OK;
}
