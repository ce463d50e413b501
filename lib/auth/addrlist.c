/*
 * addrlist.c - the domains of an RFC 5322 address list (From:).
 *
 * A small lexer (CFWS skipped between tokens: blanks, bare CR and LF,
 * nested comments with quoted-pairs) feeds a recursive-descent parser of
 * RFC 5322 §3.4 address-list, obsolete forms of §4.4 included:
 *   mailbox     = [phrase] "<" [obs-route] addr-spec ">" | addr-spec
 *   group       = phrase ":" [mailbox-list] ";"
 *   obs-route   = 1*("," / "@" domain) ":"     (skipped)
 *   addr-spec   = local-part "@" domain         (obs-local-part: words and
 *                                                dots, CFWS between)
 * Encoded words (RFC 2047) and raw UTF-8 (RFC 6532) are atoms. A domain
 * literal ([192.0.2.1]) or a domain that is not a plausible DNS name
 * (labels of 1..63 letters, digits, '-' or '_', 253 characters at most)
 * gives a mailbox without a usable domain (nodomain).
 *
 * Hostile input: on anything unexpected the parser sets syntax_error and
 * skips to the next ',' or ';'; what it skipped counts as one more
 * mailbox without a domain, so "a@good.example <b@evil.example>" can
 * never look like a clean single mailbox at good.example.
 * Owns: nothing; reads value[0..len) only (no NUL needed), writes out.
 * Fails: never; problems are counted in out.
 */
#include <limits.h>
#include <stdbool.h>
#include <string.h>

#include "auth/addrlist.h"

#define ADDRLIST_NAME_MAX	253	/* text form of a DNS name */
#define ADDRLIST_LABEL_MAX	63

enum addrlist_tok {
	TOK_END, TOK_ATOM, TOK_QSTR, TOK_DLIT, TOK_DOT, TOK_LT, TOK_GT,
	TOK_AT, TOK_COMMA, TOK_COLON, TOK_SEMI, TOK_OTHER
};

struct addrlist_parser {
	const unsigned char *s;
	size_t len, pos;
	bool in_group;
	struct addrlist *out;
	/* the token last peeked, valid until consumed */
	enum addrlist_tok tok;
	size_t tok_start, tok_len, tok_next;
	bool peeked;
};

/* addrlist_atext - RFC 5322 atext, plus any byte >= 0x80 (RFC 6532) */
static bool
addrlist_atext(unsigned char c)
{
	if (c >= 0x80)
		return true;
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* addrlist_error - note a syntax error (sticky) */
static void
addrlist_error(struct addrlist_parser *p)
{
	p->out->syntax_error = 1;
}

/* addrlist_skip_cfws - blanks, folding (CRLF or bare LF/CR), comments */
static void
addrlist_skip_cfws(struct addrlist_parser *p)
{
	unsigned depth;

	while (p->pos < p->len) {
		unsigned char c = p->s[p->pos];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			p->pos++;
			continue;
		}
		if (c != '(')
			return;
		depth = 0;
		while (p->pos < p->len) {
			c = p->s[p->pos++];
			if (c == '\\') {
				if (p->pos < p->len)
					p->pos++;
			} else if (c == '(') {
				depth++;
			} else if (c == ')') {
				if (--depth == 0)
					break;
			}
		}
		if (depth != 0)
			addrlist_error(p);	/* unterminated comment */
	}
}

/* addrlist_skip_quoted - past a quoted string or a domain literal */
static void
addrlist_skip_quoted(struct addrlist_parser *p, unsigned char close)
{
	while (p->pos < p->len) {
		unsigned char c = p->s[p->pos++];

		if (c == '\\') {
			if (p->pos < p->len)
				p->pos++;
		} else if (c == close) {
			return;
		}
	}
	addrlist_error(p);		/* unterminated */
}

/* addrlist_peek - the next token, without consuming it */
static enum addrlist_tok
addrlist_peek(struct addrlist_parser *p)
{
	size_t save;
	unsigned char c;

	if (p->peeked)
		return p->tok;
	save = p->pos;
	addrlist_skip_cfws(p);
	p->tok_start = p->pos;
	p->peeked = true;
	if (p->pos >= p->len) {
		p->tok = TOK_END;
		p->tok_len = 0;
		p->tok_next = p->pos;
		p->pos = save;
		return p->tok;
	}
	c = p->s[p->pos++];
	switch (c) {
	case '"':
		addrlist_skip_quoted(p, '"');
		p->tok = TOK_QSTR;
		break;
	case '[':
		addrlist_skip_quoted(p, ']');
		p->tok = TOK_DLIT;
		break;
	case '.': p->tok = TOK_DOT; break;
	case '<': p->tok = TOK_LT; break;
	case '>': p->tok = TOK_GT; break;
	case '@': p->tok = TOK_AT; break;
	case ',': p->tok = TOK_COMMA; break;
	case ':': p->tok = TOK_COLON; break;
	case ';': p->tok = TOK_SEMI; break;
	default:
		if (addrlist_atext(c)) {
			while (p->pos < p->len && addrlist_atext(p->s[p->pos]))
				p->pos++;
			p->tok = TOK_ATOM;
		} else {
			p->tok = TOK_OTHER;
		}
		break;
	}
	p->tok_len = p->pos - p->tok_start;
	p->tok_next = p->pos;
	p->pos = save;
	return p->tok;
}

/* addrlist_next - consume the peeked token */
static void
addrlist_next(struct addrlist_parser *p)
{
	(void)addrlist_peek(p);
	p->pos = p->tok_next;
	p->peeked = false;
}

/* addrlist_count - add one to a counter, saturating */
static void
addrlist_count(unsigned *n)
{
	if (*n < UINT_MAX)
		(*n)++;
}

/* addrlist_valid - lowercase name[0..len) in place, drop one trailing
 * dot, and check it is a plausible DNS name; the new length or 0 */
static size_t
addrlist_valid(char *name, size_t len)
{
	size_t i, label = 0;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > ADDRLIST_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (c >= 'A' && c <= 'Z')
			name[i] = (char)(c - 'A' + 'a');
		if (c == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
		if (++label > ADDRLIST_LABEL_MAX)
			return 0;
	}
	name[len] = '\0';
	return len;
}

/* addrlist_mailbox - record one mailbox; domain NULL when unusable */
static void
addrlist_mailbox(struct addrlist_parser *p, const char *domain)
{
	struct addrlist *out = p->out;

	addrlist_count(&out->nmailbox);
	if (domain == NULL)
		addrlist_count(&out->nodomain);
	else if (out->ndomain < ADDRLIST_MAX)
		memcpy(out->domain[out->ndomain++], domain, strlen(domain) + 1);
}

/* addrlist_recover - skip to the next ',' ';' or the end (and to the
 * next '>' first when inside an angle address). What was skipped is a
 * mailbox whose domain we cannot know: counted when the item has not
 * recorded one yet, or when anything was skipped after it */
static void
addrlist_recover(struct addrlist_parser *p, bool in_angle, bool recorded)
{
	enum addrlist_tok t;
	bool skipped = false;

	addrlist_error(p);
	for (;;) {
		t = addrlist_peek(p);
		if (t == TOK_END)
			break;
		if (in_angle && t == TOK_GT) {
			addrlist_next(p);
			in_angle = false;
			continue;
		}
		if (!in_angle && (t == TOK_COMMA || t == TOK_SEMI))
			break;
		addrlist_next(p);
		skipped = true;
	}
	if (!recorded || skipped)
		addrlist_mailbox(p, NULL);
}

/* addrlist_domain - after '@': a dot-atom domain (CFWS allowed around
 * the dots, obs-domain) into buf, all its atoms and dots consumed; false
 * when it is not a usable DNS name */
static bool
addrlist_domain(struct addrlist_parser *p, char *buf, size_t bufsz)
{
	size_t used = 0;
	bool want_atom = true, bad = false;
	enum addrlist_tok t;

	for (;;) {
		t = addrlist_peek(p);
		if (t == TOK_ATOM && want_atom) {
			if (used + p->tok_len < bufsz) {
				memcpy(buf + used, p->s + p->tok_start, p->tok_len);
				used += p->tok_len;
			} else {
				bad = true;	/* too long */
			}
			want_atom = false;
		} else if (t == TOK_DOT) {
			if (want_atom)
				bad = true;	/* "a..b" or ".a" */
			else if (used + 1 < bufsz)
				buf[used++] = '.';
			else
				bad = true;
			want_atom = true;
		} else {
			break;
		}
		addrlist_next(p);
	}
	buf[used] = '\0';
	if (used == 0 || bad)
		return false;
	/* a trailing dot is allowed (and dropped) */
	return addrlist_valid(buf, used) > 0;
}

/* addrlist_addr_spec - after the local part and '@': the domain, and
 * the mailbox is recorded; false (nothing recorded) when no domain
 * starts here */
static bool
addrlist_addr_spec(struct addrlist_parser *p)
{
	char dom[ADDRLIST_DOMAIN_MAX + 2];
	enum addrlist_tok t;

	t = addrlist_peek(p);
	if (t == TOK_DLIT) {		/* [192.0.2.1]: no DNS domain */
		addrlist_next(p);
		addrlist_mailbox(p, NULL);
		return true;
	}
	if (t != TOK_ATOM)
		return false;
	if (addrlist_domain(p, dom, sizeof(dom))) {
		addrlist_mailbox(p, dom);
	} else {
		addrlist_mailbox(p, NULL);
		addrlist_error(p);
	}
	return true;
}

/* addrlist_local - words and dots (obs-local-part); how many tokens */
static unsigned
addrlist_local(struct addrlist_parser *p)
{
	unsigned n = 0;
	enum addrlist_tok t;

	for (;;) {
		t = addrlist_peek(p);
		if (t != TOK_ATOM && t != TOK_QSTR && t != TOK_DOT)
			return n;
		addrlist_next(p);
		n++;
	}
}

/* addrlist_angle - after '<': [obs-route] addr-spec '>' or '<>' */
static void
addrlist_angle(struct addrlist_parser *p)
{
	enum addrlist_tok t = addrlist_peek(p);

	if (t == TOK_GT) {		/* <>: a null address */
		addrlist_next(p);
		addrlist_mailbox(p, NULL);
		addrlist_error(p);
		return;
	}
	if (t == TOK_AT || t == TOK_COMMA) {	/* obs-route, skipped */
		while ((t = addrlist_peek(p)) != TOK_COLON) {
			if (t == TOK_END || t == TOK_GT || t == TOK_LT ||
			    t == TOK_SEMI) {
				addrlist_recover(p, true, false);
				return;
			}
			addrlist_next(p);
		}
		addrlist_next(p);
	}
	if (addrlist_local(p) == 0 || addrlist_peek(p) != TOK_AT) {
		addrlist_recover(p, true, false);
		return;
	}
	addrlist_next(p);
	if (!addrlist_addr_spec(p)) {
		addrlist_recover(p, true, false);
		return;
	}
	if (addrlist_peek(p) == TOK_GT)
		addrlist_next(p);
	else
		addrlist_recover(p, true, true);
}

/* addrlist_item - one mailbox, or the start of a group */
static void
addrlist_item(struct addrlist_parser *p)
{
	unsigned nwords = addrlist_local(p);
	enum addrlist_tok t = addrlist_peek(p);

	switch (t) {
	case TOK_LT:
		addrlist_next(p);
		addrlist_angle(p);
		break;
	case TOK_AT:
		addrlist_next(p);
		if (nwords == 0)
			addrlist_error(p);
		if (!addrlist_addr_spec(p)) {
			addrlist_recover(p, false, false);
			return;
		}
		break;
	case TOK_COLON:
		addrlist_next(p);
		if (nwords == 0 || p->in_group)
			addrlist_error(p);
		p->in_group = true;
		return;
	case TOK_COMMA:
	case TOK_SEMI:
	case TOK_END:
		if (nwords > 0) {	/* a name without an address */
			addrlist_error(p);
			addrlist_mailbox(p, NULL);
		}
		return;
	default:
		addrlist_recover(p, false, false);
		return;
	}
	t = addrlist_peek(p);
	if (t != TOK_COMMA && t != TOK_SEMI && t != TOK_END)
		addrlist_recover(p, false, true);
}

/* addrlist_parse - fill out from one header value; never fails */
void
addrlist_parse(const char *value, size_t len, struct addrlist *out)
{
	struct addrlist_parser p;
	enum addrlist_tok t;

	memset(out, 0, sizeof(*out));
	memset(&p, 0, sizeof(p));
	p.s = (const unsigned char *)(value != NULL ? value : "");
	p.len = value != NULL ? len : 0;
	p.out = out;
	while ((t = addrlist_peek(&p)) != TOK_END) {
		if (t == TOK_COMMA) {
			addrlist_next(&p);
		} else if (t == TOK_SEMI) {
			addrlist_next(&p);
			if (!p.in_group)
				addrlist_error(&p);
			p.in_group = false;
		} else {
			addrlist_item(&p);
		}
	}
	if (p.in_group)
		addrlist_error(&p);	/* group without its ';' */
}
