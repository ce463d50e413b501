/*
 * greylist.c - greylisting that measures: normalisation, keys, the entry
 * codecs, the one atomic step per recipient, expiry and statistics.
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
 *  - an IPv4-mapped IPv6 address (::ffff:192.0.2.1) counts as IPv4; an
 *    "IPv6:" prefix (Sendmail) and one pair of brackets are removed; a
 *    zone index (fe80::1%eth0) is refused;
 *  - a key part longer than GREYLIST_PART_MAX becomes "sha256:HEX" (the
 *    SHA-256 of the normalised address, from ldns, already linked);
 *  - undecodable entries, and entries dated more than a retry window in
 *    the future, are treated as absent (and removed by greylist_expire).
 * Fails: never on bad input (EINVAL); a store failure is GREYLIST_ERROR.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <ldns/sha2.h>

#include "errors.h"
#include "glstore_internal.h"
#include "greylist.h"

#define GREYLIST_TIME_MAX	INT64_C(253402300799)	/* 9999-12-31 */
#define GREYLIST_ADDR_MAX	1024	/* normalised address, bytes */
#define GREYLIST_DELAYS_MAX	(1UL << 24)	/* delays kept by stats */

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

/* greylist_addr - parse a client address: 4 or 16 bytes, IPv4-mapped
 * IPv6 as IPv4, "IPv6:" and one pair of brackets removed */
static int
greylist_addr(const char *ip, unsigned char addr[16], int *family)
{
	char buf[INET6_ADDRSTRLEN + 8];
	size_t n;

	if (ip == NULL)
		return SCOPE_EINVAL;
	n = strlen(ip);
	if (n >= 2 && ip[0] == '[' && ip[n - 1] == ']') {
		ip++;
		n -= 2;
	}
	if (n >= 5 && strncasecmp(ip, "IPv6:", 5) == 0) {
		ip += 5;
		n -= 5;
	}
	if (n == 0 || n >= sizeof(buf))
		return SCOPE_EINVAL;
	memcpy(buf, ip, n);
	buf[n] = '\0';
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, buf, addr) == 1) {
		*family = AF_INET;
		return SCOPE_OK;
	}
	if (inet_pton(AF_INET6, buf, addr) != 1)
		return SCOPE_EINVAL;
	*family = AF_INET6;
	if (memcmp(addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
		memmove(addr, addr + 12, 4);
		memset(addr + 4, 0, 12);
		*family = AF_INET;
	}
	return SCOPE_OK;
}

/* greylist_mask - clear the bits after len */
static void
greylist_mask(unsigned char addr[16], unsigned len, unsigned bytes)
{
	unsigned i;

	for (i = 0; i < bytes; i++) {
		if (len >= 8 * (i + 1))
			continue;
		if (len <= 8 * i)
			addr[i] = 0;
		else
			addr[i] &= (unsigned char)(0xff << (8 - (len - 8 * i)));
	}
}

/* greylist_net_text - "192.0.2.0/24", "2001:db8::/64" */
static int
greylist_net_text(const unsigned char addr[16], int family, unsigned len,
    char *out, size_t outsz)
{
	char buf[INET6_ADDRSTRLEN];
	int n;

	if (inet_ntop(family, addr, buf, sizeof(buf)) == NULL)
		return SCOPE_EINVAL;
	n = snprintf(out, outsz, "%s/%u", buf, len);
	if (n < 0 || (size_t)n >= outsz) {
		if (outsz > 0)
			out[0] = '\0';
		return SCOPE_ETOOBIG;
	}
	return SCOPE_OK;
}

/* greylist_network - the client's network in canonical text */
int
greylist_network(const char *ip, unsigned prefix4, unsigned prefix6,
    char *out, size_t outsz, int *family)
{
	unsigned char addr[16];
	unsigned len;
	int fam;

	if (outsz > 0)
		out[0] = '\0';
	if (prefix4 > 32 || prefix6 > 128 || greylist_addr(ip, addr, &fam) != 0)
		return SCOPE_EINVAL;
	len = fam == AF_INET ? prefix4 : prefix6;
	greylist_mask(addr, len, fam == AF_INET ? 4 : 16);
	if (family != NULL)
		*family = fam;
	return greylist_net_text(addr, fam, len, out, outsz);
}

/* greylist_put - append one byte to a bounded buffer */
static void
greylist_put(char *out, size_t outsz, size_t *n, char c)
{
	if (*n + 1 < outsz)
		out[(*n)++] = c;
}

/* greylist_unwrap - trim white space and one pair of angle brackets */
static void
greylist_unwrap(const char *in, const char **start, size_t *len)
{
	const char *s = in != NULL ? in : "";
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n >= 2 && s[0] == '<' && s[n - 1] == '>') {
		s++;
		n -= 2;
	}
	*start = s;
	*len = n;
}

/* greylist_is_batv_tag - "KDDDSSSSSS": a key digit, 3 day digits, 6 hex */
static bool
greylist_is_batv_tag(const char *s, size_t n)
{
	size_t i;

	if (n != 10)
		return false;
	for (i = 0; i < 4; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	for (; i < 10; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* greylist_strip_batv - the local part without a BATV or SRS0 wrapping */
static void
greylist_strip_batv(const char **lp, size_t *ln)
{
	const char *l = *lp, *e1, *e2;
	size_t n = *ln, skip;

	if (n > 5 && strncmp(l, "prvs=", 5) == 0) {
		e1 = memchr(l + 5, '=', n - 5);
		if (e1 == NULL || e1 + 1 == l + n)
			return;
		if (!greylist_is_batv_tag(l + 5, (size_t)(e1 - l - 5)) &&
		    greylist_is_batv_tag(e1 + 1, (size_t)(l + n - e1 - 1))) {
			/* the older form prvs=LOCAL=TAG */
			*lp = l + 5;
			*ln = (size_t)(e1 - l - 5);
			return;
		}
		skip = (size_t)(e1 + 1 - l);
	} else if (n > 8 && strncmp(l, "msprvs1=", 8) == 0) {
		e1 = memchr(l + 8, '=', n - 8);
		if (e1 == NULL)
			return;
		skip = (size_t)(e1 + 1 - l);
	} else if (n > 6 && strncmp(l, "btv1==", 6) == 0) {
		for (e1 = l + 6; e1 + 1 < l + n; e1++)
			if (e1[0] == '=' && e1[1] == '=')
				break;
		if (e1 + 1 >= l + n)
			return;
		skip = (size_t)(e1 + 2 - l);
	} else if (n > 5 && strncmp(l, "srs0=", 5) == 0) {
		/* SRS0=HASH=TT=domain=local: keep "srs0=domain=local" */
		e1 = memchr(l + 5, '=', n - 5);
		e2 = e1 != NULL ? memchr(e1 + 1, '=', (size_t)(l + n - e1 - 1)) : NULL;
		if (e2 != NULL && e2 + 1 < l + n) {
			*lp = e2 + 1;
			*ln = (size_t)(l + n - e2 - 1);
		}
		return;
	} else {
		return;
	}
	if (skip < n) {
		*lp = l + skip;
		*ln = n - skip;
	}
}

/* greylist_norm_sender - lowercase, no BATV, digit runs as '#', "<>" */
void
greylist_norm_sender(const char *in, char *out, size_t outsz)
{
	char low[GREYLIST_ADDR_MAX];
	const char *s, *at, *lp;
	size_t len, i, n = 0, ln;

	if (outsz == 0)
		return;
	greylist_unwrap(in, &s, &len);
	if (len == 0) {
		snprintf(out, outsz, "<>");
		return;
	}
	if (len >= sizeof(low))
		len = sizeof(low) - 1;
	for (i = 0; i < len; i++)
		low[i] = (char)tolower((unsigned char)s[i]);
	low[len] = '\0';
	at = memrchr(low, '@', len);
	lp = low;
	ln = at != NULL ? (size_t)(at - low) : len;
	greylist_strip_batv(&lp, &ln);
	for (i = 0; i < ln; i++) {
		if (isdigit((unsigned char)lp[i])) {
			if (i == 0 || !isdigit((unsigned char)lp[i - 1]))
				greylist_put(out, outsz, &n, '#');
		} else {
			greylist_put(out, outsz, &n, lp[i]);
		}
	}
	if (at != NULL)
		for (s = at; s < low + len; s++)
			greylist_put(out, outsz, &n, *s);
	out[n] = '\0';
}

/* greylist_norm_rcpt - lowercase (and unwrapped), nothing else */
void
greylist_norm_rcpt(const char *in, char *out, size_t outsz)
{
	const char *s;
	size_t len, i, n = 0;

	if (outsz == 0)
		return;
	greylist_unwrap(in, &s, &len);
	for (i = 0; i < len; i++)
		greylist_put(out, outsz, &n, (char)tolower((unsigned char)s[i]));
	out[n] = '\0';
}

/* greylist_key_part - a normalised address as a key part: %XX escapes,
 * "sha256:HEX" when too long; returns the length */
static size_t
greylist_key_part(const char *in, char *out, size_t outsz)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[LDNS_SHA256_DIGEST_LENGTH];
	const unsigned char *p;
	size_t n = 0, i;

	for (p = (const unsigned char *)in; *p != '\0'; p++) {
		if (*p > 0x20 && *p < 0x7f && *p != '|' && *p != '%') {
			greylist_put(out, outsz, &n, (char)*p);
		} else {
			greylist_put(out, outsz, &n, '%');
			greylist_put(out, outsz, &n, "0123456789ABCDEF"[*p >> 4]);
			greylist_put(out, outsz, &n, "0123456789ABCDEF"[*p & 15]);
		}
		if (n > GREYLIST_PART_MAX)
			break;
	}
	if (n > GREYLIST_PART_MAX) {
		ldns_sha256((const unsigned char *)in, (unsigned)strlen(in), md);
		n = 0;
		for (i = 0; i < 7; i++)
			greylist_put(out, outsz, &n, "sha256:"[i]);
		for (i = 0; i < sizeof(md); i++) {
			greylist_put(out, outsz, &n, hex[md[i] >> 4]);
			greylist_put(out, outsz, &n, hex[md[i] & 15]);
		}
	}
	out[n] = '\0';
	return n;
}

/* greylist_keys - the triplet, chain and client keys of one attempt */
int
greylist_keys(const struct greylist_params *p, const char *client_ip,
    const char *sender, const char *rcpt, struct greylist_keys *k)
{
	char addr[GREYLIST_ADDR_MAX], from[GREYLIST_PART_MAX + 4],
	    to[GREYLIST_PART_MAX + 4];
	int rc;

	memset(k, 0, sizeof(*k));
	rc = greylist_network(client_ip, p->prefix4, p->prefix6, k->net,
	    sizeof(k->net), &k->family);
	if (rc != 0)
		return rc;
	greylist_norm_sender(sender, addr, sizeof(addr));
	greylist_key_part(addr, from, sizeof(from));
	greylist_norm_rcpt(rcpt, addr, sizeof(addr));
	greylist_key_part(addr, to, sizeof(to));
	/* at most 2 + 47 + 1 + 203 + 1 + 203 < GLSTORE_KEY_MAX */
	snprintf(k->triplet, sizeof(k->triplet), "t|%s|%s|%s", k->net, from, to);
	snprintf(k->chain, sizeof(k->chain), "c|%s|%s", from, to);
	snprintf(k->client, sizeof(k->client), "a|%s", k->net);
	return SCOPE_OK;
}

/*
 * The codecs. Fields are separated by one space; numbers are decimal
 * without sign or leading zeros, so a valid value encodes back to itself.
 */
struct greylist_rd {
	const char *p, *end;
	bool err;		/* sticky: callers check once */
};

/* greylist_rd_num - a number in [0, max], then one separator (or end
 * when sep is 0); sets rd->err otherwise */
static int64_t
greylist_rd_num(struct greylist_rd *rd, int64_t max, char sep)
{
	int64_t v = 0;
	const char *start = rd->p;

	if (rd->err)
		return 0;
	while (rd->p < rd->end && *rd->p >= '0' && *rd->p <= '9') {
		if (v > (max - (*rd->p - '0')) / 10) {
			rd->err = true;
			return 0;
		}
		v = v * 10 + (*rd->p++ - '0');
	}
	if (rd->p == start || (rd->p - start > 1 && *start == '0'))
		rd->err = true;
	else if (sep == 0 && rd->p != rd->end)
		rd->err = true;
	else if (sep != 0 && (rd->p == rd->end || *rd->p++ != sep))
		rd->err = true;
	return v;
}

/* greylist_rd_version - "1 " */
static void
greylist_rd_version(struct greylist_rd *rd, const char *val, size_t len)
{
	rd->p = val;
	rd->end = val + len;
	rd->err = val == NULL || len < 2 || len > GLSTORE_VAL_MAX ||
	    val[0] != '1' || val[1] != ' ';
	if (!rd->err)
		rd->p += 2;
}

/* greylist_entry_decode - "1 FIRST LAST ATTEMPTS PASSED DELIVERIES" */
int
greylist_entry_decode(const char *val, size_t len, struct greylist_entry *e)
{
	struct greylist_rd rd;

	memset(e, 0, sizeof(*e));
	greylist_rd_version(&rd, val, len);
	e->first = greylist_rd_num(&rd, GREYLIST_TIME_MAX, ' ');
	e->last = greylist_rd_num(&rd, GREYLIST_TIME_MAX, ' ');
	e->attempts = (unsigned)greylist_rd_num(&rd, UINT_MAX, ' ');
	e->passed = greylist_rd_num(&rd, GREYLIST_TIME_MAX, ' ');
	e->deliveries = (unsigned)greylist_rd_num(&rd, UINT_MAX, 0);
	if (rd.err || e->attempts == 0) {
		memset(e, 0, sizeof(*e));
		return SCOPE_EINVAL;
	}
	return SCOPE_OK;
}

/* greylist_rd_hop - "NET,F,T": NET of [0-9a-f.:/], F 4 or 6 */
static void
greylist_rd_hop(struct greylist_rd *rd, struct greylist_hop *h, char sep)
{
	size_t n = 0;
	int64_t f;

	while (!rd->err && rd->p < rd->end && *rd->p != ',') {
		if (n + 1 >= sizeof(h->net) || strchr("0123456789abcdef.:/",
		    *rd->p) == NULL || *rd->p == '\0')
			rd->err = true;
		else
			h->net[n++] = *rd->p++;
	}
	h->net[n] = '\0';
	if (n == 0 || rd->p == rd->end)
		rd->err = true;
	if (rd->err)
		return;
	rd->p++;
	f = greylist_rd_num(rd, 6, ',');
	if (f != 4 && f != 6)
		rd->err = true;
	h->family = f == 4 ? AF_INET : AF_INET6;
	h->t = greylist_rd_num(rd, GREYLIST_TIME_MAX, sep);
}

/* greylist_chain_decode - "1 FIRST LAST TOTAL PASSES[ HOP[;HOP]...]" */
int
greylist_chain_decode(const char *val, size_t len, struct greylist_chain *c)
{
	struct greylist_rd rd;
	char sep;

	memset(c, 0, sizeof(*c));
	greylist_rd_version(&rd, val, len);
	c->first = greylist_rd_num(&rd, GREYLIST_TIME_MAX, ' ');
	c->last = greylist_rd_num(&rd, GREYLIST_TIME_MAX, ' ');
	c->total = (unsigned)greylist_rd_num(&rd, UINT_MAX, ' ');
	sep = 0;
	if (!rd.err) {
		/* PASSES ends the value or is followed by the hops */
		const char *sp = memchr(rd.p, ' ', (size_t)(rd.end - rd.p));

		sep = sp != NULL ? ' ' : 0;
	}
	c->passes = (unsigned)greylist_rd_num(&rd, UINT_MAX, sep);
	while (!rd.err && sep != 0) {
		if (c->nhop == GREYLIST_CHAIN_MAX) {
			rd.err = true;
			break;
		}
		sep = memchr(rd.p, ';', (size_t)(rd.end - rd.p)) != NULL ? ';' : 0;
		greylist_rd_hop(&rd, &c->hop[c->nhop++], sep);
	}
	if (rd.err || c->total < c->nhop) {
		memset(c, 0, sizeof(*c));
		return SCOPE_EINVAL;
	}
	return SCOPE_OK;
}

/* greylist_client_decode - "1 PASSES LAST" */
int
greylist_client_decode(const char *val, size_t len, struct greylist_client *c)
{
	struct greylist_rd rd;

	memset(c, 0, sizeof(*c));
	greylist_rd_version(&rd, val, len);
	c->passes = (unsigned)greylist_rd_num(&rd, UINT_MAX, ' ');
	c->last = greylist_rd_num(&rd, GREYLIST_TIME_MAX, 0);
	if (rd.err) {
		memset(c, 0, sizeof(*c));
		return SCOPE_EINVAL;
	}
	return SCOPE_OK;
}

/* greylist_wr - snprintf that reports a cut as SCOPE_ETOOBIG */
static int
greylist_wr(char *out, size_t outsz, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int
greylist_wr(char *out, size_t outsz, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (*n >= outsz)
		return SCOPE_ETOOBIG;
	va_start(ap, fmt);
	w = vsnprintf(out + *n, outsz - *n, fmt, ap);
	va_end(ap);
	if (w < 0 || (size_t)w >= outsz - *n)
		return SCOPE_ETOOBIG;
	*n += (size_t)w;
	return SCOPE_OK;
}

/* greylist_entry_encode - the triplet's stored text */
int
greylist_entry_encode(const struct greylist_entry *e, char *out, size_t outsz)
{
	size_t n = 0;

	if (greylist_wr(out, outsz, &n, "1 %lld %lld %u %lld %u",
	    (long long)e->first, (long long)e->last, e->attempts,
	    (long long)e->passed, e->deliveries) != 0)
		return SCOPE_ETOOBIG;
	return (int)n;
}

/* greylist_chain_encode - the chain's stored text */
int
greylist_chain_encode(const struct greylist_chain *c, char *out, size_t outsz)
{
	size_t n = 0;
	unsigned i;
	int rc;

	rc = greylist_wr(out, outsz, &n, "1 %lld %lld %u %u",
	    (long long)c->first, (long long)c->last, c->total, c->passes);
	for (i = 0; rc == 0 && i < c->nhop && i < GREYLIST_CHAIN_MAX; i++)
		rc = greylist_wr(out, outsz, &n, "%c%s,%d,%lld",
		    i == 0 ? ' ' : ';', c->hop[i].net,
		    c->hop[i].family == AF_INET ? 4 : 6, (long long)c->hop[i].t);
	return rc != 0 ? SCOPE_ETOOBIG : (int)n;
}

/* greylist_client_encode - the client network's stored text */
int
greylist_client_encode(const struct greylist_client *c, char *out,
    size_t outsz)
{
	size_t n = 0;

	if (greylist_wr(out, outsz, &n, "1 %u %lld", c->passes,
	    (long long)c->last) != 0)
		return SCOPE_ETOOBIG;
	return (int)n;
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
		cl.passes = greylist_inc(cl.passes);
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
	if (rc == 0)
		rc = greylist_set(&out[1], greylist_chain_encode(&c,
		    out[1].data, sizeof(out[1].data)));
	if (rc == 0 && v == GREYLIST_PASSED) {
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

	if (greylist_addr(ip, addr, &fam) == 0) {
		for (i = 0; i < p->nallow_net && i < GREYLIST_ALLOW_MAX; i++) {
			if (p->allow_net[i].family != fam)
				continue;
			memcpy(net, addr, sizeof(net));
			greylist_mask(net, p->allow_net[i].len,
			    fam == AF_INET ? 4 : 16);
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
	if (p->mode == GREYLIST_OFF || a->client_ip == NULL ||
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
		snprintf(out->error, sizeof(out->error), "%s",
		    glstore_error()[0] != '\0' ? glstore_error() : errors_str(rc));
		return;
	}
	*out = st.r;
}

/* greylist_refuses - enforce mode and a new or early verdict */
bool
greylist_refuses(const struct greylist_params *p,
    const struct greylist_result *r)
{
	return p->mode == GREYLIST_ENFORCE && (r->verdict == GREYLIST_NEW ||
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
	if (greylist_addr(buf, addr, &fam) != 0)
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
	greylist_mask(net, (unsigned)len, fam == AF_INET ? 4 : 16);
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

/*
 * Expiry and statistics: one visit of each kind of key.
 */
enum greylist_kind { GREYLIST_KIND_TRIPLET, GREYLIST_KIND_CHAIN,
	GREYLIST_KIND_CLIENT };
static const char *const greylist_prefixes[] = { "t|", "c|", "a|" };

struct greylist_walk {
	const struct greylist_params *p;
	enum greylist_kind kind;
	int64_t now;
	unsigned long removed;
	struct greylist_stats *st;
	int64_t *delays;		/* stats: passed - first, grown */
	size_t ndelays, maxdelays;
};

/* greylist_last - the latest attempt of an entry; -1 undecodable */
static int64_t
greylist_last(enum greylist_kind kind, const char *val, size_t len)
{
	struct greylist_entry e;
	struct greylist_chain c;
	struct greylist_client cl;

	switch (kind) {
	case GREYLIST_KIND_TRIPLET:
		return greylist_entry_decode(val, len, &e) == 0 ? e.last : -1;
	case GREYLIST_KIND_CHAIN:
		return greylist_chain_decode(val, len, &c) == 0 ? c.last : -1;
	default:
		return greylist_client_decode(val, len, &cl) == 0 ? cl.last : -1;
	}
}

/* greylist_expire_one - the visitor: 1 deletes */
static int
greylist_expire_one(void *arg, const char *key, const char *val, size_t len)
{
	struct greylist_walk *w = arg;
	int64_t last = greylist_last(w->kind, val, len);

	(void)key;
	if (last >= 0 && w->now - last <= w->p->lifetime_s)
		return 0;
	w->removed++;
	return 1;
}

/* greylist_expire - delete what outlived GreylistLifetime */
int
greylist_expire(const struct greylist_params *p, struct glstore *s,
    int64_t now, unsigned long *removed)
{
	struct greylist_walk w;
	int rc = SCOPE_OK;
	unsigned k;

	memset(&w, 0, sizeof(w));
	w.p = p;
	w.now = now;
	for (k = 0; k < 3 && rc == SCOPE_OK; k++) {
		w.kind = (enum greylist_kind)k;
		rc = glstore_visit(s, greylist_prefixes[k], greylist_expire_one, &w);
	}
	if (removed != NULL)
		*removed = w.removed;
	return rc < 0 ? rc : SCOPE_OK;
}

/* greylist_stats_delay - keep one retry delay (bounded) */
static int
greylist_stats_delay(struct greylist_walk *w, int64_t d)
{
	int64_t *nd;
	size_t max;

	if (w->ndelays == w->maxdelays) {
		if (w->maxdelays >= GREYLIST_DELAYS_MAX)
			return SCOPE_OK;	/* enough for percentiles */
		max = w->maxdelays == 0 ? 1024 : 2 * w->maxdelays;
		nd = realloc(w->delays, max * sizeof(*nd));
		if (nd == NULL)
			return SCOPE_ENOMEM;
		w->delays = nd;
		w->maxdelays = max;
	}
	w->delays[w->ndelays++] = d;
	return SCOPE_OK;
}

/* greylist_stats_one - the visitor: count one entry */
static int
greylist_stats_one(void *arg, const char *key, const char *val, size_t len)
{
	struct greylist_walk *w = arg;
	struct greylist_stats *st = w->st;
	struct greylist_entry e;
	struct greylist_chain c;
	struct greylist_client cl;

	(void)key;
	switch (w->kind) {
	case GREYLIST_KIND_TRIPLET:
		if (greylist_entry_decode(val, len, &e) != 0)
			break;
		st->triplets++;
		if (e.passed == 0)
			return 0;
		st->passed++;
		/* a chain pass of a new triplet is no retry of its own */
		if (e.passed - e.first >= w->p->delay_s && e.passed > e.first)
			return greylist_stats_delay(w, e.passed - e.first);
		return 0;
	case GREYLIST_KIND_CHAIN:
		if (greylist_chain_decode(val, len, &c) != 0)
			break;
		st->chains++;
		st->chain_passes += c.passes;
		return 0;
	default:
		if (greylist_client_decode(val, len, &cl) != 0)
			break;
		st->clients++;
		if (w->p->auto_allow > 0 && cl.passes >= w->p->auto_allow)
			st->auto_allowed++;
		return 0;
	}
	st->invalid++;
	return 0;
}

/* greylist_cmp - int64_t for qsort */
static int
greylist_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* greylist_rank - the nearest-rank percentile of sorted values */
static int64_t
greylist_rank(const int64_t *v, size_t n, unsigned pct)
{
	size_t r = (n * pct + 99) / 100;

	return v[r > 0 ? r - 1 : 0];
}

/* greylist_stats - entries per kind, pass rate, retry delays */
int
greylist_stats(const struct greylist_params *p, struct glstore *s,
    struct greylist_stats *st)
{
	struct greylist_walk w;
	int rc = SCOPE_OK;
	unsigned k;

	memset(st, 0, sizeof(*st));
	memset(&w, 0, sizeof(w));
	w.p = p;
	w.st = st;
	for (k = 0; k < 3 && rc == SCOPE_OK; k++) {
		w.kind = (enum greylist_kind)k;
		rc = glstore_visit(s, greylist_prefixes[k], greylist_stats_one, &w);
	}
	st->pass_rate = st->triplets > 0 ?
	    (double)st->passed / (double)st->triplets : 0.0;
	st->ndelays = w.ndelays;
	st->delay_median = st->delay_p90 = -1;
	if (w.ndelays > 0) {
		qsort(w.delays, w.ndelays, sizeof(w.delays[0]), greylist_cmp);
		st->delay_median = greylist_rank(w.delays, w.ndelays, 50);
		st->delay_p90 = greylist_rank(w.delays, w.ndelays, 90);
	}
	free(w.delays);
	return rc < 0 ? rc : SCOPE_OK;
}
