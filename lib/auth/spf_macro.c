/*
 * spf_macro.c - RFC 7208 section 7 macro expansion.
 *
 * libspf2 1.2.10's SPF_record_expand_data() gets the DIGIT transformer
 * wrong: asked for more parts than the value has, it drops the first
 * character ("%{l1r+}" of "joel" is "oel"), and it counts dots that are
 * not delimiters as part boundaries. Its compiler also rejects the ','
 * and '/' delimiters. So smtpscope expands every macro itself:
 *  - domain-specs of mechanisms and modifiers, before libspf2 compiles a
 *    record (SPF_MACRO_LIBSPF2: the result is written back as libspf2
 *    macro text, literal '%' and ' ' escaped; a plain %{p} is left for
 *    libspf2 so that its PTR lookups still happen only when the term is
 *    evaluated: libspf2 expands that form correctly);
 *  - redirect= targets when finding the term that matched;
 *  - explanations (SPF_MACRO_EXPLAIN).
 * Pure functions but for the %{p} callback. Owns nothing; returned
 * strings are the caller's.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "auth/spf_macro.h"

#define SPF_MACRO_NAME_MAX	253	/* §7.3: longest name queried */
#define SPF_MACRO_DELIMS	".-+,/_="

/* spf_sbuf_add - append bytes */
void
spf_sbuf_add(struct spf_sbuf *b, const char *s, size_t n)
{
	char *grown;
	size_t cap;

	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		cap = (b->len + n + 1) * 2 + 64;
		grown = realloc(b->s, cap);
		if (grown == NULL) {
			b->oom = true;
			return;
		}
		b->s = grown;
		b->cap = cap;
	}
	if (n > 0)
		memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

/* spf_sbuf_str - append a C string */
void
spf_sbuf_str(struct spf_sbuf *b, const char *s)
{
	spf_sbuf_add(b, s, strlen(s));
}

/* spf_macro_unreserved - RFC 3986 §2.3: ALPHA DIGIT "-" "." "_" "~" */
static bool
spf_macro_unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~';
}

/* spf_macro_put_url - append bytes, percent-encoded (upper-case hex) */
static void
spf_macro_put_url(struct spf_sbuf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	char enc[3];
	size_t i;

	for (i = 0; i < n; i++) {
		if (spf_macro_unreserved((unsigned char)s[i])) {
			spf_sbuf_add(b, s + i, 1);
			continue;
		}
		enc[0] = '%';
		enc[1] = hex[(unsigned char)s[i] >> 4];
		enc[2] = hex[(unsigned char)s[i] & 15];
		spf_sbuf_add(b, enc, 3);
	}
}

/* spf_macro_transform - split, reverse, keep the right-hand parts, join */
char *
spf_macro_transform(const char *value, unsigned long keep, bool rev,
    const char *delims, bool url)
{
	struct spf_sbuf out = { NULL, 0, 0, false };
	const char *set = delims != NULL && delims[0] != '\0' ? delims : ".";
	size_t len = strlen(value), nparts = 1, i, p, first, *start, *plen;

	for (i = 0; i < len; i++)
		if (strchr(set, value[i]) != NULL)
			nparts++;
	start = calloc(nparts, sizeof(*start));
	plen = calloc(nparts, sizeof(*plen));
	if (start == NULL || plen == NULL) {
		free(start);
		free(plen);
		return NULL;
	}
	for (i = 0, p = 0; i <= len; i++) {
		if (i < len && strchr(set, value[i]) == NULL)
			continue;
		plen[p] = i - start[p];
		if (++p < nparts)
			start[p] = i + 1;
	}
	if (rev)
		for (i = 0; i < nparts / 2; i++) {
			size_t ts = start[i], tl = plen[i];

			start[i] = start[nparts - 1 - i];
			plen[i] = plen[nparts - 1 - i];
			start[nparts - 1 - i] = ts;
			plen[nparts - 1 - i] = tl;
		}
	first = keep > 0 && keep < nparts ? nparts - keep : 0;
	spf_sbuf_str(&out, "");
	for (p = first; p < nparts; p++) {
		if (p > first)
			spf_sbuf_add(&out, ".", 1);
		if (url)
			spf_macro_put_url(&out, value + start[p], plen[p]);
		else
			spf_sbuf_add(&out, value + start[p], plen[p]);
	}
	free(start);
	free(plen);
	if (out.oom) {
		free(out.s);
		return NULL;
	}
	return out.s;
}

/* spf_macro_ip - %{i}: dotted quad, or dotted nibbles for IPv6 */
static void
spf_macro_ip(const struct spf_macro_vars *v, bool pretty, char *buf,
    size_t bufsz)
{
	size_t i, n = 0;

	if (v->family != AF_INET6 || pretty) {
		if (inet_ntop(v->family == AF_INET6 ? AF_INET6 : AF_INET,
		    v->addr, buf, (socklen_t)bufsz) == NULL)
			buf[0] = '\0';
		return;
	}
	for (i = 0; i < 16 && n + 4 < bufsz; i++)
		n += (size_t)snprintf(buf + n, bufsz - n, "%s%x.%x",
		    i > 0 ? "." : "", v->addr[i] >> 4, v->addr[i] & 15);
}

/* spf_macro_value - the value of a macro letter (lower case) */
static const char *
spf_macro_value(const struct spf_macro_vars *v, char letter, char *buf,
    size_t bufsz)
{
	const char *p;
	size_t len;

	switch (letter) {
	case 's':
		return v->sender;
	case 'l':
		return v->local;
	case 'o':
		return v->sender_dom;
	case 'd':	/* "include:example.com." names example.com */
		len = strlen(v->domain);
		if (len < 2 || v->domain[len - 1] != '.' || len > bufsz)
			return v->domain;
		memcpy(buf, v->domain, len - 1);
		buf[len - 1] = '\0';
		return buf;
	case 'h':
		return v->helo;
	case 'r':
		return v->receiver != NULL ? v->receiver : "unknown";
	case 'v':
		return v->family == AF_INET6 ? "ip6" : "in-addr";
	case 'i':
	case 'c':
		spf_macro_ip(v, letter == 'c', buf, bufsz);
		return buf;
	case 't':
		snprintf(buf, bufsz, "%lld", v->now);
		return buf;
	case 'p':
		p = v->ptr_name != NULL ? v->ptr_name(v->ptr_arg) : NULL;
		return p != NULL ? p : "unknown";
	default:
		return NULL;
	}
}

/* one parsed macro-expand: "%{" letter *DIGIT ["r"] *delimiter "}" */
struct spf_macro_ref {
	char letter;		/* lower case */
	bool url;		/* the letter was upper case */
	unsigned long keep;	/* 0: no DIGIT */
	bool rev;
	char delims[16];
	size_t len;		/* of the whole "%{...}" */
};

/* spf_macro_parse - parse the macro-expand at s (s[0] == '%') */
static bool
spf_macro_parse(const char *s, size_t len, bool explain,
    struct spf_macro_ref *m)
{
	size_t j = 3, nd = 0, ndigits = 0;
	char c;

	if (len < 4 || s[1] != '{')
		return false;
	c = s[2];
	m->url = c >= 'A' && c <= 'Z';
	m->letter = m->url ? (char)(c - 'A' + 'a') : c;
	if (m->letter == '\0' || strchr(explain ? "slodiphvcrt" : "slodiphv",
	    m->letter) == NULL)
		return false;
	for (m->keep = 0; j < len && s[j] >= '0' && s[j] <= '9'; j++) {
		ndigits++;
		if (m->keep < 1000)	/* more than any name has parts */
			m->keep = m->keep * 10 + (unsigned long)(s[j] - '0');
	}
	if (ndigits > 0 && m->keep == 0)
		return false;	/* §7.3: a DIGIT must be nonzero */
	m->rev = j < len && (s[j] == 'r' || s[j] == 'R');
	if (m->rev)
		j++;
	for (; j < len && s[j] != '\0' && strchr(SPF_MACRO_DELIMS, s[j]) !=
	    NULL; j++)
		if (nd + 1 < sizeof(m->delims) &&
		    strchr(m->delims, s[j]) == NULL)
			m->delims[nd++] = s[j];
	m->delims[nd] = '\0';
	if (j >= len || s[j] != '}')
		return false;
	m->len = j + 1;
	return true;
}

/* spf_macro_lazy_p - a %{p} libspf2 expands right: lower case, no DIGIT,
 * only the delimiters its compiler knows */
static bool
spf_macro_lazy_p(const struct spf_macro_ref *m)
{
	return m->letter == 'p' && !m->url && m->keep == 0 &&
	    strpbrk(m->delims, ",/") == NULL;
}

/* spf_macro_put - append expanded text, escaped as libspf2 macro text
 * when 'escape' ('%' as "%%", SP as "%_") */
static void
spf_macro_put(struct spf_sbuf *b, const char *s, size_t n, bool escape)
{
	size_t i;

	if (!escape) {
		spf_sbuf_add(b, s, n);
		return;
	}
	for (i = 0; i < n; i++)
		spf_sbuf_str(b, s[i] == '%' ? "%%" : s[i] == ' ' ? "%_" :
		    (char[2]){ s[i], '\0' });
}

/* spf_macro_one - expand one macro-expand into out */
static bool
spf_macro_one(const struct spf_macro_vars *v, const struct spf_macro_ref *m,
    struct spf_sbuf *out, bool escape)
{
	char buf[300], *x;
	const char *val = spf_macro_value(v, m->letter, buf, sizeof(buf));

	if (val == NULL)
		val = "";
	x = spf_macro_transform(val, m->keep, m->rev, m->delims, m->url);
	if (x == NULL) {
		out->oom = true;
		return false;
	}
	spf_macro_put(out, x, strlen(x), escape);
	free(x);
	return true;
}

/* spf_macro_run - expand s into out; lazy_p leaves plain %{p} as it is
 * (*kept tells whether one was) */
static bool
spf_macro_run(const struct spf_macro_vars *v, const char *s, size_t len,
    bool explain, bool lazy_p, bool escape, struct spf_sbuf *out,
    bool *kept)
{
	struct spf_macro_ref m;
	size_t i = 0;

	*kept = false;
	while (i < len && !out->oom) {
		if (s[i] != '%') {	/* macro-literal, or SP in explain */
			if (((unsigned char)s[i] < 0x21 && !(explain &&
			    s[i] == ' ')) || (unsigned char)s[i] > 0x7e)
				return false;
			spf_sbuf_add(out, s + i, 1);
			i++;
			continue;
		}
		if (i + 1 < len && (s[i + 1] == '%' || s[i + 1] == '_' ||
		    s[i + 1] == '-')) {
			spf_macro_put(out, s[i + 1] == '%' ? "%" : s[i + 1] ==
			    '_' ? " " : "%20", s[i + 1] == '-' ? 3 : 1,
			    escape);
			i += 2;
			continue;
		}
		memset(&m, 0, sizeof(m));
		if (!spf_macro_parse(s + i, len - i, explain, &m))
			return false;
		if (lazy_p && spf_macro_lazy_p(&m)) {
			spf_sbuf_add(out, s + i, m.len);
			*kept = true;
		} else if (!spf_macro_one(v, &m, out, escape)) {
			return false;
		}
		i += m.len;
	}
	return !out->oom;
}

/* spf_macro_cut - §7.3: drop labels from the left while over 253 */
static void
spf_macro_cut(struct spf_sbuf *b)
{
	size_t len = b->len, skip = 0;
	const char *dot;

	if (len > 0 && b->s[len - 1] == '.')
		len--;
	while (len - skip > SPF_MACRO_NAME_MAX &&
	    (dot = memchr(b->s + skip, '.', len - skip)) != NULL)
		skip = (size_t)(dot + 1 - b->s);
	if (skip > 0) {
		memmove(b->s, b->s + skip, b->len - skip + 1);
		b->len -= skip;
	}
}

/* spf_macro_expand - expand a macro-string for one mode */
char *
spf_macro_expand(const struct spf_macro_vars *v, const char *s, size_t len,
    enum spf_macro_mode mode)
{
	struct spf_sbuf out = { NULL, 0, 0, false }, esc = { NULL, 0, 0, false };
	bool kept, ok;

	spf_sbuf_str(&out, "");
	ok = spf_macro_run(v, s, len, mode == SPF_MACRO_EXPLAIN,
	    mode == SPF_MACRO_LIBSPF2, false, &out, &kept);
	if (ok && mode != SPF_MACRO_EXPLAIN && !kept)
		spf_macro_cut(&out);
	if (ok && mode == SPF_MACRO_LIBSPF2) {
		/* again, escaped; a kept %{p} leaves the cut to the query */
		spf_sbuf_str(&esc, "");
		if (kept)
			ok = spf_macro_run(v, s, len, false, true, true, &esc,
			    &kept);
		else
			spf_macro_put(&esc, out.s, out.len, true);
		free(out.s);
		out = esc;
		ok = ok && !out.oom;
	}
	if (!ok || out.oom) {
		free(out.s);
		return NULL;
	}
	return out.s;
}
