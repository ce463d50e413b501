/*
 * spf_syntax.c - RFC 7208 record syntax, checked before libspf2 sees a
 * record, and the rewriting that lets libspf2 evaluate what it cannot
 * parse or orders wrongly.
 *
 * libspf2 1.2.10 accepts records RFC 7208 calls syntax errors (bad
 * domain-spec endings, invalid macros, CIDR lengths with leading zeros,
 * a CIDR on exists, non-ASCII bytes, "redirect:" as a mechanism) and
 * rejects valid ones (modifier names with ".", /0 prefix lengths). So a
 * record is checked here term by term against the ABNF of §4.6.1, §5,
 * §6 and §7.1, and libspf2 gets a rewritten text:
 *  - unknown modifiers are dropped (they are ignored anyway, §6);
 *  - redirect= goes last, or is dropped when there is an "all" (§6.1);
 *  - ip4:x/0 and ip6:x/0 become two /1 halves for the client's family
 *    and vanish for the other;
 *  - a or mx with a /0 length for the client's family get the
 *    SPF_SYNTAX_ANY label in front of the target name: the DNS layer
 *    then answers "any address" when the name has one (spf.c);
 *  - the CIDR length for the other family is dropped (irrelevant);
 *  - given the macro values, every domain-spec is expanded here by
 *    spf_macro.c (libspf2's expansion is wrong) and written back as
 *    literal text, but a plain %{p}, which libspf2 expands right and
 *    looks up only when it evaluates the term; an a or mx name that
 *    expanded to hold a '/' gets an explicit full CIDR length after it.
 * Terms whose compiled form would come near libspf2's 511-byte buffer
 * are refused (permerror); no real record comes close.
 * Owns nothing; returned strings are the caller's. Pure functions, but
 * for the %{p} lookup a macro expansion may ask for.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "auth/spf_macro.h"
#include "auth/spf_syntax.h"

#define SPF_SYNTAX_TERMS_MAX	256
/* libspf2 compiles a term into at most 511 bytes; close to that limit
 * its string-literal bookkeeping can underflow (fixed upstream in 2023,
 * shevek/libspf2 #44, after the 1.2.10 Debian ships). A generous upper
 * estimate of the compiled size keeps every term far below it. */
#define SPF_SYNTAX_COMPILED_MAX	400
/* an expanded domain-spec is at most 253 characters (§7.3), but its '%'
 * and SP are written twice for libspf2 */
#define SPF_SYNTAX_EXPANDED_MAX	320

static bool
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* spf_syntax_next - the next term: SP separated, nothing else is */
bool
spf_syntax_next(const char *text, size_t *pos, const char **t, size_t *len)
{
	size_t p = *pos;

	while (text[p] == ' ')
		p++;
	if (text[p] == '\0')
		return false;
	*t = text + p;
	while (text[p] != ' ' && text[p] != '\0')
		p++;
	*len = (size_t)(text + p - *t);
	*pos = p;
	return true;
}

/* spf_syntax_modifier - name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ) */
bool
spf_syntax_modifier(const char *t, size_t len, size_t *namelen)
{
	size_t i = 1;

	if (len == 0 || !is_alpha(t[0]))
		return false;
	while (i < len && (is_alpha(t[i]) || is_digit(t[i]) || t[i] == '-' ||
	    t[i] == '_' || t[i] == '.'))
		i++;
	*namelen = i;
	return i < len && t[i] == '=';
}

/* spf_syntax_is_all - [qualifier] "all" */
bool
spf_syntax_is_all(const char *t, size_t len)
{
	if (len > 0 && strchr("+-~?", t[0]) != NULL) {
		t++;
		len--;
	}
	return len == 3 && strncasecmp(t, "all", 3) == 0;
}

/* spf_literal_cost - what one more literal byte costs libspf2 */
static size_t
spf_literal_cost(bool *in_literal, size_t bytes)
{
	size_t c = bytes + (*in_literal ? 0 : 7);	/* head, alignment */

	*in_literal = true;
	return c;
}

/* spf_macro - a macro-string (§7.1); explain: SP and c, r, t allowed.
 * *tail is where the literal text after the last macro-expand starts.
 * Outside explanations (which spf.c expands piecewise) it also refuses
 * what libspf2 would compile into more than SPF_SYNTAX_COMPILED_MAX. */
static bool
spf_macro(const char *s, size_t len, bool explain, size_t *tail)
{
	size_t i = 0, j, digits, cost = 8;	/* mechanism head, CIDR */
	bool lit = false;
	int value;
	char letter;

	*tail = 0;
	while (i < len) {
		if (!explain && cost > SPF_SYNTAX_COMPILED_MAX)
			return false;
		if (s[i] == ' ') {	/* only between macro-strings */
			if (!explain)
				return false;
			i++;
			continue;
		}
		if (s[i] != '%') {	/* macro-literal: visible ASCII */
			if ((unsigned char)s[i] < 0x21 ||
			    (unsigned char)s[i] > 0x7e)
				return false;
			cost += spf_literal_cost(&lit, 1);
			i++;
			continue;
		}
		if (i + 1 >= len)
			return false;
		if (s[i + 1] == '%' || s[i + 1] == '_' || s[i + 1] == '-') {
			cost += spf_literal_cost(&lit, 3);
			i += 2;
			*tail = i;
			continue;
		}
		if (s[i + 1] != '{' || i + 2 >= len)
			return false;
		letter = s[i + 2];
		if (letter >= 'A' && letter <= 'Z')
			letter = (char)(letter - 'A' + 'a');
		if (letter == '\0' ||
		    strchr(explain ? "slodiphvcrt" : "slodiphv", letter) ==
		    NULL)
			return false;
		j = i + 3;
		for (digits = 0, value = 0; j < len && is_digit(s[j]);
		    j++, digits++)
			if (value < 1000)	/* saturates: "all parts" */
				value = value * 10 + (s[j] - '0');
		if (digits > 0 && value == 0)
			return false;	/* §7.3: nonzero */
		if (j < len && (s[j] == 'r' || s[j] == 'R'))
			j++;
		while (j < len && s[j] != '\0' &&
		    strchr(".-+,/_=", s[j]) != NULL)
			j++;
		if (j >= len || s[j] != '}')
			return false;
		cost += 4;
		lit = false;
		i = j + 1;
		*tail = i;
	}
	return explain || cost <= SPF_SYNTAX_COMPILED_MAX;
}

/* spf_toplabel - ( *alphanum ALPHA *alphanum ) /
 * ( 1*alphanum "-" *( alphanum / "-" ) alphanum ) */
static bool
spf_toplabel(const char *s, size_t len)
{
	bool alpha = false, dash = false;
	size_t i;

	if (len == 0)
		return false;
	for (i = 0; i < len; i++) {
		if (is_alpha(s[i]))
			alpha = true;
		else if (s[i] == '-')
			dash = true;
		else if (!is_digit(s[i]))
			return false;
	}
	if (!dash)
		return alpha;
	return s[0] != '-' && s[len - 1] != '-';
}

/* spf_domain_spec - macro-string domain-end (§7.1, no c, r, t) */
static bool
spf_domain_spec(const char *s, size_t len)
{
	size_t tail, end, dot;

	if (len == 0 || !spf_macro(s, len, false, &tail))
		return false;
	if (tail == len && len >= 2)
		return true;	/* ends with a macro-expand */
	end = len;
	if (end > tail && s[end - 1] == '.')
		end--;
	for (dot = end; dot > tail && s[dot - 1] != '.'; dot--)
		;
	if (dot == tail)
		return false;	/* no "." toplabel */
	return spf_toplabel(s + dot, end - dot);
}

/* spf_cidr - parse "/" digits at the end of s[0..*len): 0 or a number
 * without a leading zero, at most maxdigits long; -1 when absent */
static int
spf_cidr(const char *s, size_t *len, size_t maxdigits, bool dbl)
{
	size_t n = *len, d = 0, need = dbl ? 2 : 1;

	while (d < n && is_digit(s[n - 1 - d]))
		d++;
	if (d == 0 || d > maxdigits || (d > 1 && s[n - d] == '0') ||
	    n - d < need || s[n - d - 1] != '/')
		return -1;
	if (dbl && s[n - d - 2] != '/')
		return -1;
	if (!dbl && n - d >= 2 && s[n - d - 2] == '/')
		return -1;	/* that is the IPv6 length */
	*len = n - d - need;
	return atoi(s + n - d);
}

/* spf_ip4 - qnum "." qnum "." qnum "." qnum, no leading zeros */
static bool
spf_ip4(const char *s, size_t len)
{
	size_t i = 0, d;
	int parts = 0, v;

	while (parts < 4) {
		for (d = 0, v = 0; i < len && is_digit(s[i]) && d < 4; i++, d++)
			v = v * 10 + (s[i] - '0');
		if (d == 0 || d > 3 || v > 255 || (d > 1 && s[i - d] == '0'))
			return false;
		parts++;
		if (parts < 4) {
			if (i >= len || s[i] != '.')
				return false;
			i++;
		}
	}
	return i == len;
}

/* spf_ip6 - an IPv6 address as inet_pton() reads it */
static bool
spf_ip6(const char *s, size_t len)
{
	char buf[64];
	struct in6_addr a;

	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return inet_pton(AF_INET6, buf, &a) == 1;
}

/* spf_ip_mech - ip4/ip6 directive; writes the rewritten form */
static bool
spf_ip_mech(const char *q, size_t qlen, const char *v, size_t len, bool six,
    int family, struct spf_sbuf *out)
{
	size_t alen = len;
	int c = spf_cidr(v, &alen, six ? 3 : 2, false);

	if (!(six ? spf_ip6(v, alen) : spf_ip4(v, alen)) ||
	    c > (six ? 128 : 32))
		return false;
	if (c != 0) {	/* as published */
		spf_sbuf_add(out, q, qlen);
		spf_sbuf_str(out, six ? "ip6:" : "ip4:");
		spf_sbuf_add(out, v, len);
		return true;
	}
	if ((family == AF_INET6) != six)
		return true;	/* never matches this client: nothing */
	spf_sbuf_add(out, q, qlen);
	spf_sbuf_str(out, six ? "ip6:::/1 " : "ip4:0.0.0.0/1 ");
	spf_sbuf_add(out, q, qlen);
	spf_sbuf_str(out, six ? "ip6:8000::/1" : "ip4:128.0.0.0/1");
	return true;
}

/* spf_spec_put - a domain-spec as libspf2 gets it: as published, or
 * expanded by spf_macro.c when vars are given (libspf2's expansion is
 * wrong, see there) */
static bool
spf_spec_put(struct spf_sbuf *out, const char *spec, size_t len,
    const struct spf_macro_vars *vars)
{
	char *x;
	bool ok;

	if (vars == NULL) {
		spf_sbuf_add(out, spec, len);
		return true;
	}
	x = spf_macro_expand(vars, spec, len, SPF_MACRO_LIBSPF2);
	if (x == NULL)
		return false;
	ok = strlen(x) <= SPF_SYNTAX_EXPANDED_MAX;
	if (ok)
		spf_sbuf_str(out, x);
	free(x);
	return ok;
}

/* spf_addr_mech - a or mx: [":" domain-spec] [ip4-cidr] ["/" ip6-cidr] */
static bool
spf_addr_mech(const char *q, size_t qlen, const char *name, const char *v,
    size_t len, int family, const struct spf_macro_vars *vars,
    struct spf_sbuf *out)
{
	int c6 = spf_cidr(v, &len, 3, true), c4 = spf_cidr(v, &len, 2, false);
	int mine = family == AF_INET6 ? c6 : c4;
	char num[16];
	size_t at;

	if (c4 > 32 || c6 > 128)
		return false;
	if (len > 0 && (v[0] != ':' || !spf_domain_spec(v + 1, len - 1)))
		return false;
	spf_sbuf_add(out, q, qlen);
	spf_sbuf_str(out, name);
	if (mine == 0) {	/* any address of the name matches */
		spf_sbuf_str(out, ":" SPF_SYNTAX_ANY ".");
		return len > 0 ? spf_spec_put(out, v + 1, len - 1, vars) :
		    spf_spec_put(out, "%{d}", 4, vars);
	}
	if (len > 0) {
		spf_sbuf_str(out, ":");
		at = out->len;
		if (!spf_spec_put(out, v + 1, len - 1, vars))
			return false;
		/* an expanded '/' (a local part "x/24") must not read as a
		 * CIDR: an explicit full length ends the name for libspf2 */
		if (mine < 0 && !out->oom &&
		    memchr(out->s + at, '/', out->len - at) != NULL)
			mine = family == AF_INET6 ? 128 : 32;
	}
	if (mine > 0) {
		snprintf(num, sizeof(num), "%s%d", family == AF_INET6 ? "//" :
		    "/", mine);
		spf_sbuf_str(out, num);
	}
	return true;
}

/* spf_directive - [qualifier] mechanism (§5), written for libspf2 */
static bool
spf_directive(const char *t, size_t len, int family,
    const struct spf_macro_vars *vars, struct spf_sbuf *out)
{
	static const char *const names[] = {
		"all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists"
	};
	const char *q = t, *v;
	size_t qlen = 0, n = 0, i, vlen;

	if (len > 0 && strchr("+-~?", t[0]) != NULL && t[0] != '\0') {
		qlen = 1;
		t++;
		len--;
	}
	while (n < len && (is_alpha(t[n]) || is_digit(t[n])))
		n++;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == n && strncasecmp(t, names[i], n) == 0)
			break;
	v = t + n;
	vlen = len - n;
	switch (i) {
	case 0:		/* all */
		if (vlen != 0)
			return false;
		break;
	case 1:		/* include */
	case 7:		/* exists */
		if (vlen < 2 || v[0] != ':' ||
		    !spf_domain_spec(v + 1, vlen - 1))
			return false;
		break;
	case 2:		/* a */
	case 3:		/* mx */
		return spf_addr_mech(q, qlen, i == 2 ? "a" : "mx", v, vlen,
		    family, vars, out);
	case 4:		/* ptr */
		if (vlen > 0 && (v[0] != ':' ||
		    !spf_domain_spec(v + 1, vlen - 1)))
			return false;
		break;
	case 5:		/* ip4 */
	case 6:		/* ip6 */
		if (vlen < 2 || v[0] != ':')
			return false;
		return spf_ip_mech(q, qlen, v + 1, vlen - 1, i == 6, family,
		    out);
	default:
		return false;	/* unknown mechanism */
	}
	spf_sbuf_add(out, q, qlen + n + (vlen > 0 ? 1 : 0));
	return vlen == 0 || spf_spec_put(out, v + 1, vlen - 1, vars);
}

/* spf_norm - lower-case the "R" transformer, which libspf2 rejects
 * (ABNF strings ignore case; the macro letter keeps its case) */
static void
spf_norm(char *s)
{
	size_t i, j;

	for (i = 0; s != NULL && s[i] != '\0'; i++) {
		if (s[i] != '%')
			continue;
		if (s[i + 1] == '\0')
			break;
		if (s[i + 1] != '{') {	/* %%, %_, %- */
			i++;
			continue;
		}
		for (j = i + 2; s[j] != '\0' && s[j] != '}'; j++)
			if (j > i + 2 && s[j] == 'R')
				s[j] = 'r';
		if (s[j] == '\0')
			break;
		i = j;
	}
}

/* spf_syntax_term - one directive for the replay */
char *
spf_syntax_term(const char *term, size_t len, int family,
    const struct spf_macro_vars *vars)
{
	struct spf_sbuf out = { NULL, 0, 0, false };

	spf_sbuf_str(&out, "");
	if (!spf_directive(term, len, family, vars, &out) || out.oom) {
		free(out.s);
		return NULL;
	}
	spf_norm(out.s);
	return out.s;
}

/* spf_syntax_record - check and rewrite a whole record */
char *
spf_syntax_record(const char *record, int family,
    const struct spf_macro_vars *vars, const char **why, size_t *at)
{
	struct spf_sbuf out = { NULL, 0, 0, false };
	const char *t = record, *redirect = NULL, *exp = NULL;
	size_t pos = 6, len, nlen, redirect_len = 0, exp_len = 0, before;
	unsigned nterms = 0;
	bool all = false;

	*why = NULL;
	*at = 0;
	spf_sbuf_add(&out, record, 6);
	while (spf_syntax_next(record, &pos, &t, &len)) {
		if (++nterms > SPF_SYNTAX_TERMS_MAX) {
			*why = "too many terms";
			break;
		}
		if (spf_syntax_modifier(t, len, &nlen)) {
			size_t tail;

			if (nlen == 8 && strncasecmp(t, "redirect", 8) == 0) {
				if (redirect != NULL) {
					*why = "more than one redirect=";
					break;
				}
				redirect = t;
				redirect_len = len;
				if (!spf_domain_spec(t + 9, len - 9))
					*why = "redirect= needs a domain-spec";
			} else if (nlen == 3 && strncasecmp(t, "exp", 3) == 0) {
				if (exp != NULL) {
					*why = "more than one exp=";
					break;
				}
				exp = t;
				exp_len = len;
				if (!spf_domain_spec(t + 4, len - 4))
					*why = "exp= needs a domain-spec";
			} else if (!spf_macro(t + nlen + 1, len - nlen - 1,
			    true, &tail)) {
				*why = "bad macro-string in a modifier";
			}
			if (*why != NULL)
				break;
			continue;
		}
		all = all || spf_syntax_is_all(t, len);
		before = out.len;
		spf_sbuf_str(&out, " ");
		if (!spf_directive(t, len, family, vars, &out)) {
			*why = "syntax error in a mechanism";
			break;
		}
		if (out.len == before + 1)	/* dropped: never matches */
			out.s[out.len = before] = '\0';
	}
	if (*why != NULL)
		*at = (size_t)(t - record);
	if (*why == NULL && exp != NULL) {
		spf_sbuf_str(&out, " exp=");
		if (!spf_spec_put(&out, exp + 4, exp_len - 4, vars))
			*why = "exp= does not expand";
	}
	if (*why == NULL && redirect != NULL && !all) {
		spf_sbuf_str(&out, " redirect=");
		if (!spf_spec_put(&out, redirect + 9, redirect_len - 9, vars))
			*why = "redirect= does not expand";
	}
	if (*why == NULL && out.oom)
		*why = "out of memory";
	if (*why != NULL) {
		free(out.s);
		return NULL;
	}
	spf_norm(out.s);
	return out.s;
}

/* spf_syntax_explain - explain-string = *( macro-string / SP ) */
bool
spf_syntax_explain(const char *text)
{
	size_t tail;

	return spf_macro(text, strlen(text), true, &tail);
}
