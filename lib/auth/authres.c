/*
 * authres.c - the Authentication-Results value smtpscope writes (RFC
 * 8601, with RFC 6008's header.b), and the authserv-id of those already
 * in a message.
 *
 * Writing: the header is printable ASCII only (RFC 6532 UTF-8 would
 * be allowed only in a message sent with SMTPUTF8, which a milter
 * cannot reliably know), and every string taken from an outcome came
 * from the network. An identity (property value: a name, an address, an
 * IP, a DKIM tag) is written only when each byte is printable ASCII
 * other than space and ; ( ) " \ (ar_ident), as an RFC 2045 token when
 * it is one, local-part@domain unquoted when that is a dot-atom at a
 * plain domain name, else a quoted-string; otherwise the property is
 * left out (RFC 8601 makes properties optional; a mangled identity
 * would mislead). Free text (reasons, comment parts: ar_text) keeps
 * printable ASCII, with each other character (a UTF-8 sequence, an
 * invalid byte, a control) as '?' and ; ( ) " \ as , [ ] ' / so that no
 * value can end a resinfo, open a comment or break the folding. The
 * record keeps the original text. The value is
 *
 *	servid;\n\tresinfo;\n\tresinfo ...	or	servid; none
 *
 * with "\n\t" (LF TAB, libmilter's folding) before each resinfo, and
 * inside a resinfo only where a line would pass RFC 5322's 998 bytes.
 * Output is deterministic. When it does not fit, the value ends after
 * the last whole resinfo and SCOPE_ETOOBIG is returned; when not even
 * one fits, the value is "".
 *
 * Reading: authres_servid() follows RFC 8601's authres-payload up to the
 * first ";": [CFWS] authserv-id [CFWS [version [CFWS]]], where CFWS
 * takes white space, CR and LF (folding as received) and nested
 * comments with quoted-pairs, and the id is a token or a quoted-string.
 * It reads each byte at most once, never past the NUL, allocates
 * nothing, and writes at most outsz bytes. authres_claims() is wider on
 * purpose (a forged header kept is worse than a garbled one removed):
 * the id is the first token or quoted-string whatever follows it
 * ("id/1;" claims id: '/' ends a token), or the dotted reading of
 * OpenDKIM's and OpenDMARC's parser (pieces joined by '.', CFWS around
 * the dots, quotes dropped); either one naming servid is a claim.
 *
 * Owns nothing; callers pass every buffer. Errors: SCOPE_EINVAL (bad
 * input), SCOPE_ETOOBIG (did not fit).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "auth/authres.h"
#include "errors.h"
#include "text.h"

#define AUTHRES_VALUE_MAX	320	/* bytes of one cleaned value */
#define AUTHRES_SERVID_MAX	255	/* bytes of the authserv-id we write */
#define AUTHRES_ITEM_MAX	1024	/* one property or comment, escaped */
#define AUTHRES_LINE_MAX	998	/* RFC 5322 §2.1.1 */
#define AUTHRES_NAME_LEN	24	/* "Authentication-Results: " */
#define AUTHRES_ID_MAX		1024	/* authserv-id authres_claims() reads */

/* a bounded writer: len < sz always, s NUL-terminated; over is sticky */
struct ar_out {
	char *s;
	size_t sz;
	size_t len;
	size_t line;		/* bytes since the last LF */
	bool over;
};

/* ar_out_init - a writer over buf[0..sz), sz > 0 */
static void
ar_out_init(struct ar_out *o, char *buf, size_t sz, size_t line)
{
	o->s = buf;
	o->sz = sz;
	o->len = 0;
	o->line = line;
	o->over = false;
	buf[0] = '\0';
}

/* ar_put - append n bytes, or mark the writer full */
static void
ar_put(struct ar_out *o, const char *p, size_t n)
{
	size_t i;

	if (o->over)
		return;
	if (n >= o->sz - o->len) {
		o->over = true;
		return;
	}
	memcpy(o->s + o->len, p, n);
	o->len += n;
	o->s[o->len] = '\0';
	for (i = 0; i < n; i++)
		o->line = p[i] == '\n' ? 0 : o->line + 1;
}

/* ar_puts - append a C string */
static void
ar_puts(struct ar_out *o, const char *s)
{
	ar_put(o, s, strlen(s));
}

/* ar_rewind - drop everything after mark (a length with its line count) */
static void
ar_rewind(struct ar_out *o, size_t len, size_t line)
{
	o->len = len;
	o->line = line;
	o->s[len] = '\0';
}

/* ar_seqlen - length of the UTF-8 sequence led by c (input is valid) */
static size_t
ar_seqlen(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c < 0xe0)
		return 2;
	if (c < 0xf0)
		return 3;
	return 4;
}

/* ar_ident_char - a byte an identity may hold in our header: printable
 * ASCII but space and the five that could end or open something in a
 * naive reader: ; ( ) " \ */
static bool
ar_ident_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr(";()\"\\", c) == NULL;
}

/* ar_ident - a network identity (a name, an address) for a property
 * value: its bytes when every one is an ar_ident_char and it fits
 * AUTHRES_VALUE_MAX, else 0 (the property is then left out: RFC 8601
 * makes properties optional, and a mangled identity would mislead) */
static size_t
ar_ident(char out[AUTHRES_VALUE_MAX + 1], const char *in, size_t insz)
{
	size_t i, n = in != NULL ? strnlen(in, insz) : 0;

	if (n > AUTHRES_VALUE_MAX)
		n = 0;
	for (i = 0; i < n; i++)
		if (!ar_ident_char((unsigned char)in[i]))
			n = 0;
	memcpy(out, in != NULL ? in : "", n);
	out[n] = '\0';
	return n;
}

/* ar_text - free text (a reason, a comment part) in printable ASCII, cut
 * to AUTHRES_VALUE_MAX: every other character (a whole UTF-8 sequence,
 * an invalid byte, a control) becomes '?', and ; ( ) " \ become
 * , [ ] ' / so that nothing in it can end the value or open a comment */
static size_t
ar_text(char out[AUTHRES_VALUE_MAX + 1], const char *in, size_t insz)
{
	static const char from[] = ";()\"\\", to[] = ",[]'/";
	char tmp[4 * AUTHRES_VALUE_MAX + 1];
	const unsigned char *u = (const unsigned char *)tmp;
	const char *m;
	size_t n, i, len = 0;

	n = in != NULL ? text_clean(tmp, sizeof(tmp), in, strnlen(in, insz),
	    NULL) : 0;
	tmp[n] = '\0';
	for (i = 0; i < n && len < AUTHRES_VALUE_MAX; i += ar_seqlen(u[i])) {
		if (u[i] < 0x20 || u[i] >= 0x7f)
			out[len++] = '?';
		else if ((m = strchr(from, tmp[i])) != NULL)
			out[len++] = to[m - from];
		else
			out[len++] = tmp[i];
	}
	out[len] = '\0';
	return len;
}

/* authres_servid_ok - an AuthservID we can write: 1 to 255 bytes of
 * printable ASCII, no space, none of ; ( ) " \ */
bool
authres_servid_ok(const char *servid)
{
	size_t i, n;

	if (servid == NULL)
		return false;
	n = strnlen(servid, AUTHRES_SERVID_MAX + 1);
	if (n == 0 || n > AUTHRES_SERVID_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!ar_ident_char((unsigned char)servid[i]))
			return false;
	return true;
}

/* ar_tchar - an RFC 2045 token character */
static bool
ar_tchar(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

/* ar_is_token - a non-empty RFC 2045 token */
static bool
ar_is_token(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!ar_tchar((unsigned char)s[i]))
			return false;
	return n > 0;
}

/* ar_is_atext - an RFC 5322 atext character, ASCII only */
static bool
ar_is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* ar_is_ldh - a letter, digit or hyphen */
static bool
ar_is_ldh(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-';
}

/* ar_is_dotted - non-empty parts of bytes that pass ok() joined by single
 * dots; with hyphen_inside, no part starts or ends with '-' */
static bool
ar_is_dotted(const char *s, size_t n, bool (*ok)(unsigned char),
    bool hyphen_inside)
{
	size_t i;
	unsigned char c;

	if (n == 0 || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c == '.') {
			if (s[i + 1] == '.')	/* i + 1 < n: s[n - 1] is no dot */
				return false;
		} else if (!ok(c)) {
			return false;
		} else if (c == '-' && hyphen_inside && (i == 0 ||
		    s[i - 1] == '.' || i + 1 == n || s[i + 1] == '.')) {
			return false;
		}
	}
	return true;
}

/* ar_is_dot_atom - RFC 5322 dot-atom-text, ASCII only */
static bool
ar_is_dot_atom(const char *s, size_t n)
{
	return ar_is_dotted(s, n, ar_is_atext, false);
}

/* ar_is_domain - labels of letters, digits and '-' (not first or last
 * in a label) joined by dots */
static bool
ar_is_domain(const char *s, size_t n)
{
	return ar_is_dotted(s, n, ar_is_ldh, true);
}

/* ar_put_quoted - s as a quoted-string, '\' and '"' escaped */
static void
ar_put_quoted(struct ar_out *o, const char *s)
{
	ar_put(o, "\"", 1);
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			ar_put(o, "\\", 1);
		ar_put(o, s, 1);
	}
	ar_put(o, "\"", 1);
}

/* ar_put_value - s as a token when it is one, else quoted */
static void
ar_put_value(struct ar_out *o, const char *s)
{
	if (ar_is_token(s, strlen(s)))
		ar_puts(o, s);
	else
		ar_put_quoted(o, s);
}

/* ar_put_mailbox - [local-part]@domain unquoted when dot-atom@domain,
 * else as a value */
static void
ar_put_mailbox(struct ar_out *o, const char *s)
{
	const char *at = strrchr(s, '@');
	size_t local;

	if (at != NULL) {
		local = (size_t)(at - s);
		if ((local == 0 || ar_is_dot_atom(s, local)) &&
		    ar_is_domain(at + 1, strlen(at + 1))) {
			ar_puts(o, s);
			return;
		}
	}
	ar_put_value(o, s);
}

/* ar_item - append one space-separated element (property, reason,
 * comment), folding first when the line would grow past 998 bytes */
static void
ar_item(struct ar_out *o, const struct ar_out *item)
{
	if (item->over) {
		o->over = true;
		return;
	}
	if (o->line + 1 + item->len > AUTHRES_LINE_MAX)
		ar_put(o, "\n\t", 2);
	else
		ar_put(o, " ", 1);
	ar_put(o, item->s, item->len);
}

/* ar_prop - "ptype.property=value" from a network string; nothing when
 * the value is empty; mailbox says local-part@domain form is allowed */
static void
ar_prop(struct ar_out *o, const char *name, const char *raw, size_t rawsz,
    bool mailbox)
{
	char buf[AUTHRES_ITEM_MAX], val[AUTHRES_VALUE_MAX + 1];
	struct ar_out item;

	if (ar_ident(val, raw, rawsz) == 0)
		return;
	ar_out_init(&item, buf, sizeof(buf), 0);
	ar_puts(&item, name);
	ar_put(&item, "=", 1);
	if (mailbox)
		ar_put_mailbox(&item, val);
	else
		ar_put_value(&item, val);
	ar_item(o, &item);
}

/* ar_reason - RFC 8601 reasonspec, always quoted; nothing when empty */
static void
ar_reason(struct ar_out *o, const char *raw, size_t rawsz)
{
	char buf[AUTHRES_ITEM_MAX], val[AUTHRES_VALUE_MAX + 1];
	struct ar_out item;

	if (ar_text(val, raw, rawsz) == 0)
		return;
	ar_out_init(&item, buf, sizeof(buf), 0);
	ar_puts(&item, "reason=");
	ar_put_quoted(&item, val);
	ar_item(o, &item);
}

/* a comment under construction: "(part; part; ...)" */
struct ar_comment {
	char buf[AUTHRES_ITEM_MAX];
	struct ar_out o;
	unsigned parts;
};

/* ar_comment_init - an empty comment */
static void
ar_comment_init(struct ar_comment *c)
{
	ar_out_init(&c->o, c->buf, sizeof(c->buf), 0);
	c->parts = 0;
	ar_put(&c->o, "(", 1);
}

/* ar_comment_add - one part from a network string, '(' ')' '\' escaped */
static void
ar_comment_add(struct ar_comment *c, const char *raw, size_t rawsz)
{
	char val[AUTHRES_VALUE_MAX + 1];
	const char *s;

	if (ar_text(val, raw, rawsz) == 0)
		return;
	if (c->parts++ > 0)
		ar_put(&c->o, "; ", 2);
	for (s = val; *s != '\0'; s++) {
		if (*s == '(' || *s == ')' || *s == '\\')
			ar_put(&c->o, "\\", 1);
		ar_put(&c->o, s, 1);
	}
}

/* ar_comment_end - close the comment and append it, if it has parts */
static void
ar_comment_end(struct ar_out *o, struct ar_comment *c)
{
	if (c->parts == 0)
		return;
	ar_put(&c->o, ")", 1);
	ar_item(o, &c->o);
}

/* ar_name - entry r of a name table, dflt when out of range */
static const char *
ar_name(const char *const *names, size_t n, unsigned r, const char *dflt)
{
	return r < n ? names[r] : dflt;
}

#define AR_NAME(t, r, d)	ar_name((t), sizeof(t) / sizeof((t)[0]), \
				    (unsigned)(r), (d))

static const char *const ar_iprev_names[] = {
	"none", "pass", "fail", "temperror", "permerror"
};
static const char *const ar_spf_names[] = {
	"none", "neutral", "pass", "fail", "softfail", "temperror",
	"permerror"
};
static const char *const ar_dkim_names[] = {
	"none", "pass", "fail", "neutral", "policy", "temperror", "permerror"
};
static const char *const ar_dmarc_names[] = {
	"none", "pass", "fail", "temperror", "permerror"
};
static const char *const ar_disp_names[] = {
	"none", "quarantine", "reject"
};
static const char *const ar_sec_names[] = {
	"insecure", "secure", "bogus", "error", "timeout"
};

/* ar_comment_dnssec - the "dnssec=STATUS" part */
static void
ar_comment_dnssec(struct ar_comment *c, enum dns_sec sec)
{
	char part[32];

	snprintf(part, sizeof(part), "dnssec=%s",
	    AR_NAME(ar_sec_names, sec, "error"));
	ar_comment_add(c, part, sizeof(part));
}

/* ar_method - "method=result" */
static void
ar_method(struct ar_out *o, const char *method, const char *result)
{
	ar_puts(o, method);
	ar_put(o, "=", 1);
	ar_puts(o, result);
}

/* ar_iprev - iprev=RESULT policy.iprev=IP (name; dnssec=S) */
static void
ar_iprev(struct ar_out *o, const struct authres_input *in)
{
	const struct iprev_outcome *r = in->iprev;
	struct ar_comment c;
	unsigned nn = r->nnames < IPREV_NAMES_MAX ? r->nnames : IPREV_NAMES_MAX;
	int shown = -1;

	ar_method(o, "iprev", AR_NAME(ar_iprev_names, r->result, "permerror"));
	ar_prop(o, "policy.iprev", in->client_ip, AUTHRES_VALUE_MAX, false);
	if (r->result == IPREV_PASS && r->matched >= 0 &&
	    (unsigned)r->matched < nn)
		shown = r->matched;
	else if (r->result == IPREV_FAIL && nn > 0)
		shown = 0;
	ar_comment_init(&c);
	if (shown >= 0)
		ar_comment_add(&c, r->names[shown], sizeof(r->names[shown]));
	ar_comment_dnssec(&c, r->dnssec);
	ar_comment_end(o, &c);
}

/* ar_spf - spf=RESULT [reason=] smtp.mailfrom=ID | smtp.helo=NAME */
static void
ar_spf(struct ar_out *o, const struct spf_outcome *r, bool helo)
{
	struct ar_comment c;

	ar_method(o, "spf", AR_NAME(ar_spf_names, r->result, "permerror"));
	if (r->result != SPF_RES_PASS)
		ar_reason(o, r->reason, sizeof(r->reason));
	if (helo)
		ar_prop(o, "smtp.helo", r->domain, sizeof(r->domain), false);
	else
		ar_prop(o, "smtp.mailfrom", r->identity, sizeof(r->identity),
		    true);
	ar_comment_init(&c);
	if (r->lookups > 0)
		ar_comment_dnssec(&c, r->dnssec);
	ar_comment_end(o, &c);
}

/* ar_dkim_sig - dkim=RESULT [reason=] header.d= header.s= header.a=
 * header.b= (BITS-bit TYPE key; testing; dnssec=S) */
static void
ar_dkim_sig(struct ar_out *o, const struct dkimverify_sig *g)
{
	struct ar_comment c;
	char type[sizeof(g->key_type)], part[64];

	ar_method(o, "dkim", AR_NAME(ar_dkim_names, g->result, "permerror"));
	if (g->result != DKIMVERIFY_PASS)
		ar_reason(o, g->reason, sizeof(g->reason));
	ar_prop(o, "header.d", g->domain, sizeof(g->domain), false);
	ar_prop(o, "header.s", g->selector, sizeof(g->selector), false);
	ar_prop(o, "header.a", g->algorithm, sizeof(g->algorithm), false);
	ar_prop(o, "header.b", g->b_prefix, sizeof(g->b_prefix), false);
	ar_comment_init(&c);
	memcpy(type, g->key_type, sizeof(type));
	type[sizeof(type) - 1] = '\0';
	if (type[0] != '\0') {
		if (g->key_bits > 0)
			snprintf(part, sizeof(part), "%d-bit %s key",
			    g->key_bits, type);
		else
			snprintf(part, sizeof(part), "%s key", type);
		ar_comment_add(&c, part, sizeof(part));
	}
	if (g->testing)
		ar_comment_add(&c, "testing", sizeof("testing"));
	if (g->dnssec_known)
		ar_comment_dnssec(&c, g->dnssec);
	ar_comment_end(o, &c);
}

/* ar_dmarc - dmarc=RESULT [reason=] [policy.dmarc=DISP] header.from=DOM
 * (p=P sp=SP pct=N; sampled out by pct; dnssec=S) */
static void
ar_dmarc(struct ar_out *o, const struct dmarceval_outcome *r)
{
	struct ar_comment c;
	char part[80];
	int np, nsp;

	ar_method(o, "dmarc", AR_NAME(ar_dmarc_names, r->result, "permerror"));
	if (r->result != DMARCEVAL_PASS)
		ar_reason(o, r->reason, sizeof(r->reason));
	if (r->result == DMARCEVAL_FAIL)
		ar_prop(o, "policy.dmarc", AR_NAME(ar_disp_names,
		    r->disposition, "none"), AUTHRES_VALUE_MAX, false);
	ar_prop(o, "header.from", r->from_domain, sizeof(r->from_domain),
	    false);
	ar_comment_init(&c);
	if (r->have_record) {
		np = (int)strnlen(r->p, sizeof(r->p));
		nsp = (int)strnlen(r->sp, sizeof(r->sp));
		snprintf(part, sizeof(part), "%s%.*s%s%.*s pct=%d",
		    np > 0 ? "p=" : "", np, r->p, nsp > 0 ? " sp=" : "", nsp,
		    r->sp, r->pct < 0 ? 0 : r->pct > 100 ? 100 : r->pct);
		ar_comment_add(&c, part[0] == ' ' ? part + 1 : part,
		    sizeof(part));
		if (r->pct_sampled_out)
			ar_comment_add(&c, "sampled out by pct",
			    sizeof("sampled out by pct"));
	}
	if (strnlen(r->from_domain, sizeof(r->from_domain)) > 0)
		ar_comment_dnssec(&c, r->dnssec);
	ar_comment_end(o, &c);
}

/* ar_resinfo - one ";\n\t"-led resinfo, or nothing when it does not fit */
static bool
ar_resinfo(struct ar_out *o, const struct authres_input *in, int kind,
    unsigned sig)
{
	size_t len = o->len, line = o->line;

	ar_put(o, ";\n\t", 3);
	switch (kind) {
	case 0:
		ar_iprev(o, in);
		break;
	case 1:
		ar_spf(o, in->spf_mailfrom, false);
		break;
	case 2:
		ar_spf(o, in->spf_helo, true);
		break;
	case 3:
		if ((in->dkim->nsig == 0 || in->dkim->sig == NULL) &&
		    in->dkim->total > 0) {
			/* signed, but not evaluated (the message itself was
			 * unusable, e.g. its header block too large) */
			ar_method(o, "dkim", "permerror");
			ar_reason(o, in->dkim->error, sizeof(in->dkim->error));
		} else if (in->dkim->nsig == 0 || in->dkim->sig == NULL)
			ar_method(o, "dkim", "none");
		else
			ar_dkim_sig(o, &in->dkim->sig[sig]);
		break;
	default:
		ar_dmarc(o, in->dmarc);
		break;
	}
	if (!o->over)
		return true;
	ar_rewind(o, len, line);
	return false;
}

/* authres_build - the A-R header value for what ran */
int
authres_build(const struct authres_input *in, char *out, size_t outsz)
{
	struct ar_out o;
	unsigned i, n, written = 0;
	bool fits = true;

	if (out == NULL || outsz == 0)
		return SCOPE_ETOOBIG;
	out[0] = '\0';
	if (in == NULL || !authres_servid_ok(in->servid))
		return SCOPE_EINVAL;
	ar_out_init(&o, out, outsz < AUTHRES_MAX + 1 ? outsz : AUTHRES_MAX + 1,
	    AUTHRES_NAME_LEN);
	ar_put_value(&o, in->servid);
	if (o.over) {
		out[0] = '\0';
		return SCOPE_ETOOBIG;
	}
	if (in->iprev != NULL && in->iprev->result != IPREV_NONE) {
		fits = ar_resinfo(&o, in, 0, 0);
		written++;
	}
	if (fits && in->spf_mailfrom != NULL) {
		fits = ar_resinfo(&o, in, 1, 0);
		written++;
	}
	if (fits && in->spf_helo != NULL) {
		fits = ar_resinfo(&o, in, 2, 0);
		written++;
	}
	if (in->dkim != NULL) {
		n = in->dkim->sig != NULL && in->dkim->nsig > 0 ?
		    in->dkim->nsig : 1;
		for (i = 0; fits && i < n; i++) {
			fits = ar_resinfo(&o, in, 3, i);
			written++;
		}
	}
	if (fits && in->dmarc != NULL) {
		fits = ar_resinfo(&o, in, 4, 0);
		written++;
	}
	if (written == 0)
		ar_puts(&o, "; none");
	if (!fits || o.over) {
		if (written <= 1)	/* not even one resinfo: nothing usable */
			out[0] = '\0';
		return SCOPE_ETOOBIG;
	}
	return SCOPE_OK;
}

/* ar_skip_cfws - white space, line breaks and nested comments (with
 * quoted-pairs); false when a comment is not terminated */
static bool
ar_skip_cfws(const char **pp)
{
	const char *p = *pp;
	size_t depth = 0;

	for (;;) {
		if (*p == '\0') {
			if (depth > 0)
				return false;
			break;
		}
		if (depth == 0) {
			if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
				p++;
			else if (*p == '(') {
				depth = 1;
				p++;
			} else
				break;
		} else if (*p == '\\') {
			if (*++p == '\0')
				return false;
			p++;
		} else {
			if (*p == '(')
				depth++;
			else if (*p == ')')
				depth--;
			p++;
		}
	}
	*pp = p;
	return true;
}

/* ar_quoted_id - a quoted-string at *pp ('"' consumed), unfolded and
 * unquoted into out; 0 or a SCOPE_* code */
static int
ar_quoted_id(const char **pp, char *out, size_t outsz, size_t *len)
{
	const char *p = *pp;
	unsigned char c;

	for (;;) {
		c = (unsigned char)*p;
		if (c == '\0')
			return SCOPE_EINVAL;	/* unterminated */
		p++;
		if (c == '"')
			break;
		if (c == '\r' || c == '\n')
			continue;	/* folding */
		if (c == '\\') {
			c = (unsigned char)*p;
			if (c == '\0')
				return SCOPE_EINVAL;
			p++;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return SCOPE_EINVAL;
		if (*len + 1 >= outsz)
			return SCOPE_ETOOBIG;
		out[(*len)++] = (char)c;
	}
	*pp = p;
	return SCOPE_OK;
}

/* authres_servid - the authserv-id of a received A-R value, unquoted */
int
authres_servid(const char *value, char *out, size_t outsz)
{
	const char *p = value;
	size_t len = 0;
	int rc;

	if (out == NULL || outsz == 0)
		return SCOPE_EINVAL;
	out[0] = '\0';
	if (value == NULL || !ar_skip_cfws(&p))
		return SCOPE_EINVAL;
	if (*p == '"') {
		p++;
		rc = ar_quoted_id(&p, out, outsz, &len);
	} else {
		rc = SCOPE_OK;
		for (; ar_tchar((unsigned char)*p) ||
		    (unsigned char)*p >= 0x80; p++) {
			if (len + 1 >= outsz) {
				rc = SCOPE_ETOOBIG;
				break;
			}
			out[len++] = *p;
		}
	}
	if (rc == SCOPE_OK && len == 0)
		rc = SCOPE_EINVAL;
	if (rc == SCOPE_OK && !ar_skip_cfws(&p))
		rc = SCOPE_EINVAL;
	if (rc == SCOPE_OK && *p >= '0' && *p <= '9') {	/* authres-version */
		p += strspn(p, "0123456789");
		if (!ar_skip_cfws(&p))
			rc = SCOPE_EINVAL;
	}
	if (rc == SCOPE_OK && *p != ';' && *p != '\0')
		rc = SCOPE_EINVAL;
	if (rc != SCOPE_OK)
		len = 0;
	out[len] = '\0';
	return rc;
}

/* ar_trim - s[0..*n) without white space around it and one trailing
 * dot */
static const char *
ar_trim(const char *s, size_t *n)
{
	while (*n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		(*n)--;
	}
	while (*n > 0 && (s[*n - 1] == ' ' || s[*n - 1] == '\t'))
		(*n)--;
	if (*n > 0 && s[*n - 1] == '.')
		(*n)--;
	return s;
}

/* ar_same_id - id names servid: any case, white space around either
 * (inside quotes) and a trailing dot on either side ignored */
static bool
ar_same_id(const char *id, size_t a, const char *servid)
{
	size_t b = strlen(servid);

	id = ar_trim(id, &a);
	servid = ar_trim(servid, &b);
	return a > 0 && a == b && strncasecmp(id, servid, a) == 0;
}

/* ar_first_value - RFC 2045 reading: the first token or quoted-string
 * after [CFWS], whatever follows it ("mx.example.com/1;" names
 * mx.example.com: '/' ends a token); false when there is none or it
 * does not fit */
static bool
ar_first_value(const char *value, char *id, size_t idsz, size_t *len)
{
	const char *p = value;

	*len = 0;
	if (!ar_skip_cfws(&p))
		return false;
	if (*p == '"') {
		p++;
		return ar_quoted_id(&p, id, idsz, len) == SCOPE_OK;
	}
	for (; ar_tchar((unsigned char)*p) || (unsigned char)*p >= 0x80; p++) {
		if (*len + 1 >= idsz)
			return false;
		id[(*len)++] = *p;
	}
	return true;
}

/* ar_piece - one dot-separated piece of a dotted reading: up to white
 * space, '(', ';', '=', '.' or the end, quotes and backslashes dropped
 * (what they enclose kept); false when it does not fit */
static bool
ar_piece(const char **pp, char *id, size_t idsz, size_t *len)
{
	const char *p = *pp;
	bool quoted = false;

	for (; *p != '\0'; p++) {
		if (!quoted && strchr(" \t\r\n(;=.", *p) != NULL)
			break;
		if (*p == '"') {
			quoted = !quoted;
			continue;
		}
		if (*p == '\\' && p[1] != '\0')
			p++;
		if (*len + 1 >= idsz)
			return false;
		id[(*len)++] = *p;
	}
	*pp = p;
	return true;
}

/* ar_dotted_value - the reading of OpenDKIM's and OpenDMARC's parser
 * (ares.c) and of RFC 5322's obsolete domain syntax: pieces joined by
 * dots, with white space and comments allowed around each dot
 * ("mx . example (c) . com" names mx.example.com) */
static bool
ar_dotted_value(const char *value, char *id, size_t idsz, size_t *len)
{
	const char *p = value, *after;

	*len = 0;
	if (!ar_skip_cfws(&p))
		return false;
	for (;;) {
		if (!ar_piece(&p, id, idsz, len))
			return false;
		after = p;
		if (!ar_skip_cfws(&after) || *after != '.')
			return true;
		if (*len + 1 >= idsz)
			return false;
		id[(*len)++] = '.';
		p = after + 1;
		if (!ar_skip_cfws(&p))
			return false;
	}
}

/* authres_claims - a reader could take the value's authserv-id for
 * servid: under the RFC 2045 reading or the dotted one */
bool
authres_claims(const char *value, const char *servid)
{
	char id[AUTHRES_ID_MAX];
	size_t len;

	if (value == NULL || servid == NULL)
		return false;
	if (ar_first_value(value, id, sizeof(id), &len) &&
	    ar_same_id(id, len, servid))
		return true;
	return ar_dotted_value(value, id, sizeof(id), &len) &&
	    ar_same_id(id, len, servid);
}
