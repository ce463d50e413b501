/*
 * greylist_codec.c - how the greylisting state is named and stored: the
 * client's network, address normalisation, the three keys of an attempt
 * (greylist_keys) and the stored text of triplet, chain and client
 * entries (greylist_entry_*, greylist_chain_*, greylist_client_*).
 *
 * Naming:
 *  - an IPv4-mapped IPv6 address (::ffff:192.0.2.1) counts as IPv4; an
 *    "IPv6:" prefix (Sendmail) and one pair of brackets are removed; a
 *    zone index (fe80::1%eth0) is refused;
 *  - a key part longer than GREYLIST_PART_MAX becomes "sha256:HEX" (the
 *    SHA-256 of the normalised address, from ldns, already linked).
 * Storing: see "The codecs" below; decoders take hostile input (values
 * may come from a shared store) and zero their output on any deviation.
 * Owns nothing: every function writes into the caller's buffers, keeps
 * no state and never allocates.
 * Fails: SCOPE_EINVAL for bad input, SCOPE_ETOOBIG for a short buffer.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <ldns/sha2.h>

#include "errors.h"
#include "ipaddr.h"
#include "greylist/greylist.h"
#include "greylist/greylist_internal.h"

#define GREYLIST_TIME_MAX	INT64_C(253402300799)	/* 9999-12-31 */
#define GREYLIST_ADDR_MAX	1024	/* normalised address, bytes */

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
	if (prefix4 > 32 || prefix6 > 128 || ipaddr_parse(ip, addr, &fam) != 0)
		return SCOPE_EINVAL;
	len = fam == AF_INET ? prefix4 : prefix6;
	ipaddr_mask(addr, len);
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
	if (ln == 0 && at == NULL) {	/* "prvs==123": nothing but a tag;
					 * keep it whole, never "" */
		lp = low;
		ln = len;
	}
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

/* greylist_rd_num - a number in [0, max], then one separator (or end
 * when sep is 0); sets rd->err otherwise */
int64_t
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
