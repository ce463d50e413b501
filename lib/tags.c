/*
 * tags.c - the TagRules file: rules that label records (tags_load) and
 * the matching of a session's addresses, a sender and a recipient
 * against them (tags_match_*), plus the greylisting mode a set of tags
 * asks for (tags_greylist). The format is in tags.h and smtpscope-tags(5).
 *
 * Limits (each an error with "FILE:LINE" when exceeded): TAGS_FILE_MAX
 * bytes of a regular file (a FIFO or device is refused, text_file_open),
 * TAGS_LINE_MAX bytes a line, TAGS_RULES_MAX rules, TAGS_NAMES_MAX distinct tag names,
 * TAGS_PATTERN_MAX bytes of an exact or wildcard pattern, TAGS_RE_MAX
 * bytes and TAGS_RE_COST_MAX states of a regular expression (and
 * TAGS_RE_TOTAL_MAX for the whole file), so neither regcomp() nor
 * matching can be made to use unbounded memory or time. Back-references
 * and stacked repetition operators ("a**") are refused for the same
 * reason. Addresses to match are cut at
 * TAGS_ADDR_MAX bytes; wildcards match in O(pattern x text) steps
 * without recursion.
 *
 * The file is long because the rule type is private to it: parsing,
 * address and pattern handling and matching share it, and nothing else
 * needs them.
 * Owns: the struct tags (rules, compiled expressions, the tag names,
 * each stored once); tags_free() releases it. Read-only after loading,
 * so any number of threads may match at once.
 * Fails: tags_load returns SCOPE_EIO (unreadable), SCOPE_EINVAL (syntax),
 * SCOPE_ETOOBIG (a limit) or SCOPE_ENOMEM, and the reason in err; the
 * matchers never fail: bad or missing input just matches nothing.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "errors.h"
#include "ipaddr.h"
#include "greylist/greylist.h"
#include "tags.h"
#include "text.h"

#define TAGS_LINE_MAX		4096	/* bytes of a line, without newline */
#define TAGS_FILE_MAX		(4 << 20)	/* bytes of the file */
#define TAGS_RULES_MAX		1024	/* tag lines in a file */
#define TAGS_NAMES_MAX		256	/* distinct tag names in a file */
#define TAGS_ADDR_MAX		320	/* bytes of an address matched */
#define TAGS_PATTERN_MAX	TAGS_ADDR_MAX	/* exact and wildcard text */
#define TAGS_RE_MAX		1024	/* bytes of a regular expression */
#define TAGS_RE_COST_MAX	1024	/* its size, {m,n} and + expanded */
#define TAGS_RE_TOTAL_MAX	65536	/* that size over the whole file */

enum tags_kind {
	TAGS_RCPT, TAGS_RCPT_DOMAIN, TAGS_SENDER_DOMAIN, TAGS_LOCAL,
	TAGS_CLIENT
};

enum tags_how { TAGS_EXACT, TAGS_GLOB, TAGS_REGEX };

struct tags_rule {
	enum tags_kind kind;
	enum tags_how how;
	unsigned short tag;		/* index into names */
	char *text;			/* lowercased: exact, glob, domain */
	regex_t re;			/* TAGS_REGEX */
	unsigned char addr[16];		/* local, client */
	int family;			/* AF_INET, AF_INET6; 0: any (local) */
	unsigned plen;			/* client prefix length */
	int port;			/* local; -1: any */
};

struct tags_name {
	char name[TAGS_NAME_MAX];
	bool has_rule;			/* some tag line gives it */
	int greylist;			/* enum greylist_mode, -1 none */
	unsigned greylist_line;		/* where that was said */
};

struct tags {
	struct tags_rule *rule;
	unsigned nrule, arule;
	struct tags_name name[TAGS_NAMES_MAX];
	unsigned nname;
	unsigned long re_cost;		/* TAGS_RE_TOTAL_MAX budget used */
};

/* where tags_load is: the file and line, for messages */
struct tags_ctx {
	struct tags *t;
	const char *path;
	unsigned line;
	char *err;
	size_t errsz;
};

static int tags_error(struct tags_ctx *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* tags_error - format "FILE:LINE: text" into err; returns code */
static int
tags_error(struct tags_ctx *c, int code, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (c->errsz > 0)
		snprintf(c->err, c->errsz, "%s:%u: %s", c->path, c->line, text);
	return code;
}

/*
 * Reading and splitting lines.
 */

/* tags_read_line - one line (text_read_line), no control characters */
static int
tags_read_line(FILE *fp, char *buf, size_t bufsz, const char **why)
{
	size_t i;
	int rc = text_read_line(fp, buf, bufsz, why);

	if (rc == SCOPE_ETOOBIG)
		*why = "line too long (more than 4096 bytes)";
	if (rc != 1)
		return rc;
	for (i = 0; buf[i] != '\0'; i++)
		if (((unsigned char)buf[i] < 0x20 && buf[i] != '\t') ||
		    buf[i] == 0x7f) {
			*why = "control character in line";
			return SCOPE_EINVAL;
		}
	return 1;
}

/* tags_field - cut the next blank-separated field off *p; NULL at end */
static char *
tags_field(char **p)
{
	char *s = *p + strspn(*p, " \t"), *e;

	if (*s == '\0') {
		*p = s;
		return NULL;
	}
	e = s + strcspn(s, " \t");
	if (*e != '\0')
		*e++ = '\0';
	*p = e;
	return s;
}

/* tags_rest - the rest of the line, trimmed */
static char *
tags_rest(char *p)
{
	char *end;

	p += strspn(p, " \t");
	end = p + strlen(p);
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	return p;
}

/* tags_lower - ASCII lowercase in place (whatever the locale) */
static void
tags_lower(char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/*
 * Tag names.
 */

/* tags_name_valid - 1 to 63 of [A-Za-z0-9._-] */
static bool
tags_name_valid(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n < TAGS_NAME_MAX && strspn(s,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._-") == n;
}

/* tags_name_index - the index of a name, added when new; <0 error */
static int
tags_name_index(struct tags_ctx *c, const char *name)
{
	struct tags *t = c->t;
	unsigned i;

	if (!tags_name_valid(name))
		return tags_error(c, SCOPE_EINVAL, "bad tag name '%.80s' (1 to "
		    "63 letters, digits, '.', '_' or '-')", name);
	for (i = 0; i < t->nname; i++)
		if (strcmp(t->name[i].name, name) == 0)
			return (int)i;
	if (t->nname >= TAGS_NAMES_MAX)
		return tags_error(c, SCOPE_ETOOBIG, "more than %d tag names",
		    TAGS_NAMES_MAX);
	snprintf(t->name[i].name, sizeof(t->name[i].name), "%s", name);
	t->name[i].greylist = -1;
	t->nname++;
	return (int)i;
}

/*
 * Patterns: exact, wildcard, regular expression.
 */

/* tags_re_atom - one step of tags_re_cost that is no repetition: a
 * group opens or closes, '|', or one atom (a character, an escape, a
 * bracket expression: []...] and [^]...] included); returns what follows */
static const char *
tags_re_atom(const char *p, unsigned long *cost, unsigned *depth,
    unsigned long *atom)
{
	const char *close;

	if (*p == '(' && *depth < TAGS_RE_MAX) {
		cost[++*depth] = 0;
		*atom = 0;
		return p + 1;
	}
	if (*p == ')' && *depth > 0) {
		*atom = cost[(*depth)--] + 1;
		cost[*depth] += *atom;
		return p + 1;
	}
	if (*p == '|') {
		*atom = 0;
		return p + 1;
	}
	*atom = 1;
	cost[*depth] += 1;
	if (*p == '\\' && p[1] != '\0')
		return p + 2;
	if (*p != '[')
		return p + 1;
	p++;
	if (*p == '^')
		p++;
	if (*p == ']')
		p++;
	while (*p != '\0' && *p != ']') {
		if (*p == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=') &&
		    (close = strchr(p + 2, ']')) != NULL)
			p = close + 1;
		else
			p++;
	}
	return *p == ']' ? p + 1 : p;
}

#define TAGS_RE_STACKED	((unsigned long)-1)	/* tags_re_cost: "a**" */

/* tags_re_cost - the size of an ERE with its repetitions expanded,
 * roughly as glibc's regcomp() builds it: sequences add, {m,n} and '+'
 * copy their atom; TAGS_RE_STACKED for two repetition operators in a row
 * (undefined in POSIX, and slow to compile in glibc) */
static unsigned long
tags_re_cost(const char *re)
{
	unsigned long cost[TAGS_RE_MAX + 1], atom = 0, n;
	unsigned depth = 0;
	const char *p = re;
	bool rep = false;
	char *end;

	cost[0] = 0;
	while (*p != '\0') {
		n = 0;
		if (*p == '*' || *p == '?' || *p == '+') {
			n = *p++ == '+' ? 2 : 1;
		} else if (*p == '{' && isdigit((unsigned char)p[1])) {
			n = strtoul(p + 1, &end, 10);
			if (*end == ',' && isdigit((unsigned char)end[1]))
				n = strtoul(end + 1, &end, 10);
			else if (*end == ',')
				n++;
			p = *end != '\0' ? end + 1 : end;
		}
		if (n > 0) {
			/* a+ is built as a a*, a{m,n} as n copies of a */
			if (rep)
				return TAGS_RE_STACKED;
			if (n > TAGS_RE_COST_MAX)
				return TAGS_RE_COST_MAX + 1;
			cost[depth] += 1 + atom * (n - 1);
			atom *= n;
			rep = true;
		} else {
			rep = false;
			p = tags_re_atom(p, cost, &depth, &atom);
		}
		if (cost[depth] > TAGS_RE_COST_MAX)
			return TAGS_RE_COST_MAX + 1;
	}
	while (depth > 0) {
		cost[depth - 1] += cost[depth];
		depth--;
	}
	return cost[0];
}

/* tags_has_backref - "\1" to "\9" outside a bracket expression */
static bool
tags_has_backref(const char *re)
{
	const char *p;

	for (p = re; *p != '\0'; p++) {
		if (*p != '\\')
			continue;
		if (p[1] >= '1' && p[1] <= '9')
			return true;
		if (p[1] == '\0')
			break;
		p++;
	}
	return false;
}

/* tags_pattern - an rcpt or rcpt-domain pattern into r */
static int
tags_pattern(struct tags_ctx *c, struct tags_rule *r, const char *pat)
{
	char msg[256];
	unsigned long cost;
	int rc;

	if (pat[0] == '~') {
		pat++;
		if (*pat == '\0')
			return tags_error(c, SCOPE_EINVAL,
			    "empty regular expression");
		if (strlen(pat) > TAGS_RE_MAX)
			return tags_error(c, SCOPE_ETOOBIG, "regular expression "
			    "longer than %d bytes", TAGS_RE_MAX);
		if (tags_has_backref(pat))
			return tags_error(c, SCOPE_EINVAL, "bad regular "
			    "expression: back-references are not allowed");
		cost = tags_re_cost(pat);
		if (cost == TAGS_RE_STACKED)
			return tags_error(c, SCOPE_EINVAL, "bad regular "
			    "expression: repetition operator repeated");
		if (cost > TAGS_RE_COST_MAX)
			return tags_error(c, SCOPE_ETOOBIG, "regular expression "
			    "too large (repetition counts expand to more than "
			    "%d)", TAGS_RE_COST_MAX);
		if (c->t->re_cost + cost > TAGS_RE_TOTAL_MAX)
			return tags_error(c, SCOPE_ETOOBIG, "regular expressions "
			    "too large together (more than %d)",
			    TAGS_RE_TOTAL_MAX);
		rc = regcomp(&r->re, pat, REG_EXTENDED | REG_ICASE | REG_NOSUB);
		if (rc != 0) {
			regerror(rc, NULL, msg, sizeof(msg));
			return tags_error(c, SCOPE_EINVAL,
			    "bad regular expression: %s", msg);
		}
		c->t->re_cost += cost;
		r->how = TAGS_REGEX;
		return SCOPE_OK;
	}
	if (strlen(pat) > TAGS_PATTERN_MAX)
		return tags_error(c, SCOPE_ETOOBIG, "pattern longer than %d "
		    "bytes", TAGS_PATTERN_MAX);
	r->text = strdup(pat);
	if (r->text == NULL)
		return tags_error(c, SCOPE_ENOMEM, "out of memory");
	tags_lower(r->text);
	r->how = strpbrk(pat, "*?") != NULL ? TAGS_GLOB : TAGS_EXACT;
	return SCOPE_OK;
}

/* tags_glob - does s match the wildcard pattern p (* any text, ? one
 * character)? Iterative: on a mismatch only the latest '*' is widened, which
 * is enough for this pattern language, so at most |p| x |s| steps;
 * '?' takes a whole UTF-8 sequence */
static bool
tags_glob(const char *p, const char *s)
{
	const char *star = NULL, *resume = NULL;

	while (*s != '\0') {
		if (*p == '*') {
			while (*p == '*')
				p++;
			if (*p == '\0')
				return true;
			star = p;
			resume = s;
		} else if (*p == '?') {
			/* one character: a UTF-8 sequence counts as one */
			p++;
			s++;
			while ((*s & 0xc0) == 0x80)
				s++;
		} else if (*p == *s) {
			p++;
			s++;
		} else if (star != NULL) {
			p = star;
			s = ++resume;
		} else {
			return false;
		}
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

/* tags_text_match - an exact, wildcard or regex rule on lowercased text */
static bool
tags_text_match(const struct tags_rule *r, const char *s)
{
	switch (r->how) {
	case TAGS_EXACT:
		return strcmp(r->text, s) == 0;
	case TAGS_GLOB:
		return tags_glob(r->text, s);
	case TAGS_REGEX:
		return regexec(&r->re, s, 0, NULL, 0) == 0;
	}
	return false;
}

/*
 * Domains and addresses.
 */

/* tags_domain - a sender-domain DOMAIN: labels of letters, digits, '-',
 * '_' or non-ASCII bytes, 1 to 63 each, 253 in all, one final '.' */
static int
tags_domain(struct tags_ctx *c, struct tags_rule *r, const char *dom)
{
	size_t n = strlen(dom), label = 0, i;

	if (n > 0 && dom[n - 1] == '.')
		n--;
	for (i = 0; i < n && n <= 253; i++) {
		if (dom[i] == '.') {
			if (label == 0)
				break;
			label = 0;
		} else if (isalnum((unsigned char)dom[i]) || dom[i] == '-' ||
		    dom[i] == '_' || (unsigned char)dom[i] >= 0x80) {
			if (++label > 63)
				break;
		} else {
			break;
		}
	}
	if (n == 0 || n > 253 || i < n || label == 0)
		return tags_error(c, SCOPE_EINVAL, "bad domain '%.80s'", dom);
	r->text = strndup(dom, n);
	if (r->text == NULL)
		return tags_error(c, SCOPE_ENOMEM, "out of memory");
	tags_lower(r->text);
	r->how = TAGS_EXACT;
	return SCOPE_OK;
}

/* tags_local - ADDR[:PORT]: IPv4, [IPv6] or '*', PORT a number or '*';
 * an IPv6 address without brackets takes no port */
static int
tags_local(struct tags_ctx *c, struct tags_rule *r, char *spec)
{
	char *port = NULL, *close;
	long v;

	r->port = -1;
	if (spec[0] == '[') {
		close = strchr(spec, ']');
		if (close == NULL)
			return tags_error(c, SCOPE_EINVAL, "bad address '%.80s' "
			    "(no closing ']')", spec);
		if (close[1] == ':')
			port = close + 2;
		else if (close[1] != '\0')
			return tags_error(c, SCOPE_EINVAL, "bad address '%.80s'",
			    spec);
		close[1] = '\0';
	} else if (strchr(spec, ':') == strrchr(spec, ':') &&
	    (port = strchr(spec, ':')) != NULL) {
		*port++ = '\0';
	}
	if (port != NULL && strcmp(port, "*") != 0) {
		if (text_parse_long(port, 10, 1, 65535, &v) != 0)
			return tags_error(c, SCOPE_EINVAL, "bad port '%.80s' (1 to "
			    "65535 or '*')", port);
		r->port = (int)v;
	}
	if (strcmp(spec, "*") == 0) {
		r->family = 0;
		return SCOPE_OK;
	}
	if (ipaddr_parse(spec, r->addr, &r->family) != SCOPE_OK)
		return tags_error(c, SCOPE_EINVAL, "bad address '%.80s' "
		    "(IPv4, [IPv6] or '*')", spec);
	return SCOPE_OK;
}

/* tags_client - ADDR or ADDR/LEN, host bits zero */
static int
tags_client(struct tags_ctx *c, struct tags_rule *r, char *spec)
{
	unsigned char masked[16];
	char *slash = strchr(spec, '/'), text[INET6_ADDRSTRLEN];
	long v = -1;
	int fam;

	if (slash != NULL)
		*slash++ = '\0';
	if (ipaddr_parse(spec, r->addr, &r->family) != SCOPE_OK)
		return tags_error(c, SCOPE_EINVAL, "bad address '%.80s'", spec);
	fam = strchr(spec, ':') != NULL ? AF_INET6 : AF_INET;
	if (slash != NULL && text_parse_long(slash, 10, 0,
	    fam == AF_INET ? 32 : 128, &v) != 0)
		return tags_error(c, SCOPE_EINVAL, "bad prefix length '%.80s' "
		    "(0 to %d)", slash, fam == AF_INET ? 32 : 128);
	if (v < 0)
		v = fam == AF_INET ? 32 : 128;
	if (fam == AF_INET6 && r->family == AF_INET) {
		/* ::ffff:192.0.2.0/120 is 192.0.2.0/24 */
		if (v < 96)
			return tags_error(c, SCOPE_EINVAL, "bad prefix length "
			    "'%ld' for an IPv4-mapped network (96 to 128)", v);
		v -= 96;
	}
	r->plen = (unsigned)v;
	memcpy(masked, r->addr, sizeof(masked));
	ipaddr_mask(masked, r->plen);
	if (memcmp(masked, r->addr, sizeof(masked)) != 0) {
		if (inet_ntop(r->family, masked, text, sizeof(text)) == NULL)
			text[0] = '\0';
		return tags_error(c, SCOPE_EINVAL, "host bits set in '%.80s/%s' "
		    "(the network is %s/%u)", spec, slash != NULL ? slash :
		    "", text, r->plen);
	}
	return SCOPE_OK;
}

/* tags_prefix_match - is addr (of family) inside the rule's network? */
static bool
tags_prefix_match(const struct tags_rule *r, const unsigned char addr[16],
    int family)
{
	unsigned char a[16];

	if (family != r->family)
		return false;
	memcpy(a, addr, sizeof(a));
	ipaddr_mask(a, r->plen);
	return memcmp(a, r->addr, sizeof(a)) == 0;
}

/*
 * Lines.
 */

/* tags_kind - a kind keyword; -1 unknown */
static int
tags_kind(const char *s)
{
	static const char *const kinds[] = {
		[TAGS_RCPT] = "rcpt", [TAGS_RCPT_DOMAIN] = "rcpt-domain",
		[TAGS_SENDER_DOMAIN] = "sender-domain", [TAGS_LOCAL] = "local",
		[TAGS_CLIENT] = "client"
	};
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (text_ieq(kinds[i], s))
			return (int)i;
	return -1;
}

/* tags_new_rule - room for one more rule, zeroed */
static int
tags_new_rule(struct tags_ctx *c, struct tags_rule **out)
{
	struct tags *t = c->t;
	struct tags_rule *nr;
	unsigned n;

	if (t->nrule >= TAGS_RULES_MAX)
		return tags_error(c, SCOPE_ETOOBIG, "more than %d rules",
		    TAGS_RULES_MAX);
	if (t->nrule == t->arule) {
		n = t->arule == 0 ? 16 : 2 * t->arule;
		nr = realloc(t->rule, n * sizeof(*nr));
		if (nr == NULL)
			return tags_error(c, SCOPE_ENOMEM, "out of memory");
		t->rule = nr;
		t->arule = n;
	}
	*out = &t->rule[t->nrule];
	memset(*out, 0, sizeof(**out));
	return SCOPE_OK;
}

/* tags_tag_line - "NAME KIND PATTERN" after "tag" */
static int
tags_tag_line(struct tags_ctx *c, char *p)
{
	struct tags_rule *r = NULL;
	char *name = tags_field(&p), *kind = tags_field(&p), *pat;
	int idx, k, rc;

	if (name == NULL)
		return tags_error(c, SCOPE_EINVAL, "missing tag name");
	if (kind == NULL)
		return tags_error(c, SCOPE_EINVAL, "missing kind (rcpt, "
		    "rcpt-domain, sender-domain, local or client)");
	pat = tags_rest(p);
	k = tags_kind(kind);
	if (k < 0)
		return tags_error(c, SCOPE_EINVAL, "unknown kind '%.80s' (rcpt, "
		    "rcpt-domain, sender-domain, local or client)", kind);
	if (*pat == '\0')
		return tags_error(c, SCOPE_EINVAL, "missing pattern");
	if (pat[0] != '~' && strpbrk(pat, " \t") != NULL)
		return tags_error(c, SCOPE_EINVAL, "blank inside '%.80s' (only "
		    "a regular expression may contain one)", pat);
	if ((idx = tags_name_index(c, name)) < 0)
		return idx;
	if ((rc = tags_new_rule(c, &r)) != SCOPE_OK || r == NULL)
		return rc;
	r->kind = (enum tags_kind)k;
	r->tag = (unsigned short)idx;
	switch (r->kind) {
	case TAGS_RCPT:
	case TAGS_RCPT_DOMAIN:
		rc = tags_pattern(c, r, pat);
		break;
	case TAGS_SENDER_DOMAIN:
		rc = tags_domain(c, r, pat);
		break;
	case TAGS_LOCAL:
		rc = tags_local(c, r, pat);
		break;
	case TAGS_CLIENT:
		rc = tags_client(c, r, pat);
		break;
	}
	if (rc != SCOPE_OK) {
		free(r->text);
		return rc;
	}
	c->t->name[idx].has_rule = true;
	c->t->nrule++;
	return SCOPE_OK;
}

/* tags_greylist_line - "NAME off|observe|enforce" after "greylist" */
static int
tags_greylist_line(struct tags_ctx *c, char *p)
{
	static const char *const modes[] = {
		[GREYLIST_OFF] = "off", [GREYLIST_OBSERVE] = "observe",
		[GREYLIST_ENFORCE] = "enforce"
	};
	char *name = tags_field(&p), *mode = tags_field(&p);
	struct tags_name *n;
	int idx, m;

	if (name == NULL)
		return tags_error(c, SCOPE_EINVAL, "missing tag name");
	if (mode == NULL)
		return tags_error(c, SCOPE_EINVAL, "missing greylist mode (off, "
		    "observe or enforce)");
	if (*tags_rest(p) != '\0')
		return tags_error(c, SCOPE_EINVAL, "trailing text after "
		    "'%.80s'", mode);
	for (m = 0; m < 3; m++)
		if (text_ieq(modes[m], mode))
			break;
	if (m == 3)
		return tags_error(c, SCOPE_EINVAL, "unknown greylist mode "
		    "'%.80s' (off, observe or enforce)", mode);
	if ((idx = tags_name_index(c, name)) < 0)
		return idx;
	n = &c->t->name[idx];
	if (n->greylist >= 0)
		return tags_error(c, SCOPE_EINVAL, "second greylist line for "
		    "tag %s (the first is line %u)", name, n->greylist_line);
	n->greylist = m;
	n->greylist_line = c->line;
	return SCOPE_OK;
}

/* tags_line - one line: blank, comment, tag or greylist */
static int
tags_line(struct tags_ctx *c, char *line)
{
	char *p = line, *word = tags_field(&p);

	if (word == NULL || word[0] == '#')
		return SCOPE_OK;
	if (text_ieq(word, "tag"))
		return tags_tag_line(c, p);
	if (text_ieq(word, "greylist"))
		return tags_greylist_line(c, p);
	return tags_error(c, SCOPE_EINVAL, "unknown keyword '%.80s' (tag or "
	    "greylist)", word);
}

/* tags_check - after the last line: every greylist name has a rule */
static int
tags_check(struct tags_ctx *c)
{
	unsigned i;

	for (i = 0; i < c->t->nname; i++)
		if (!c->t->name[i].has_rule) {
			c->line = c->t->name[i].greylist_line;
			return tags_error(c, SCOPE_EINVAL, "greylist line for "
			    "tag %s, which no tag rule gives",
			    c->t->name[i].name);
		}
	return SCOPE_OK;
}

/* tags_load_stream - read rules from an open file; path names it in err */
int
tags_load_stream(struct tags **out, FILE *fp, const char *path, char *err,
    size_t errsz)
{
	struct tags_ctx c = { NULL, path, 0, err, errsz };
	char buf[TAGS_LINE_MAX + 2];
	const char *why = NULL;
	int rc;

	*out = NULL;
	if (errsz > 0)
		err[0] = '\0';
	c.t = calloc(1, sizeof(*c.t));
	if (c.t == NULL)
		return tags_error(&c, SCOPE_ENOMEM, "out of memory");
	for (;;) {
		c.line++;
		rc = tags_read_line(fp, buf, sizeof(buf), &why);
		if (rc == 0)
			break;
		if (rc < 0) {
			tags_error(&c, rc, "%s", why);
			break;
		}
		if ((rc = tags_line(&c, buf)) != SCOPE_OK)
			break;
	}
	if (rc == 0)
		rc = tags_check(&c);
	if (rc != SCOPE_OK) {
		tags_free(c.t);
		return rc;
	}
	*out = c.t;
	return SCOPE_OK;
}

/* tags_load - read a rules file; the caller frees *out with tags_free */
int
tags_load(struct tags **out, const char *path, char *err, size_t errsz)
{
	const char *why;
	FILE *fp;
	int rc;

	*out = NULL;
	rc = text_file_open(path, TAGS_FILE_MAX, &fp, &why);
	if (rc == SCOPE_ETOOBIG) {
		snprintf(err, errsz, "%s: over %d bytes", path, TAGS_FILE_MAX);
		return rc;
	}
	if (rc != SCOPE_OK) {
		snprintf(err, errsz, "%s: %s", path, why);
		return rc == SCOPE_ENOMEM ? rc : SCOPE_EIO;
	}
	rc = tags_load_stream(out, fp, path, err, errsz);
	fclose(fp);
	return rc;
}

/* tags_free - the rules, their expressions and names; NULL is fine */
void
tags_free(struct tags *t)
{
	unsigned i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nrule; i++) {
		if (t->rule[i].how == TAGS_REGEX)
			regfree(&t->rule[i].re);
		free(t->rule[i].text);
	}
	free(t->rule);
	free(t);
}

/*
 * Matching.
 */

/* what one tags_match_* call has added, so each tag counts once */
struct tags_seen {
	unsigned char bit[TAGS_NAMES_MAX / 8];
};

/* tags_add - add tag idx to set unless there; count it once if full */
static void
tags_add(struct tags_set *set, struct tags_seen *seen, unsigned idx)
{
	unsigned i;

	if (idx >= TAGS_NAMES_MAX || (seen->bit[idx / 8] & (1u << (idx % 8))))
		return;
	seen->bit[idx / 8] |= (unsigned char)(1u << (idx % 8));
	if (set->n > TAGS_SET_MAX)
		set->n = TAGS_SET_MAX;
	for (i = 0; i < set->n; i++)
		if (set->idx[i] == idx)
			return;
	if (set->n < TAGS_SET_MAX)
		set->idx[set->n++] = (unsigned short)idx;
	else
		set->dropped++;
}

/* tags_cut - a lowercased copy of an address, cut at TAGS_ADDR_MAX bytes,
 * without blanks around it and one pair of angle brackets */
static void
tags_cut(const char *in, char out[TAGS_ADDR_MAX + 1])
{
	size_t n;

	in = in != NULL ? in : "";
	in += strspn(in, " \t");
	n = strlen(in);
	while (n > 0 && (in[n - 1] == ' ' || in[n - 1] == '\t'))
		n--;
	if (n >= 2 && in[0] == '<' && in[n - 1] == '>') {
		in++;
		n -= 2;
	}
	if (n > TAGS_ADDR_MAX)
		n = TAGS_ADDR_MAX;
	memcpy(out, in, n);
	out[n] = '\0';
	tags_lower(out);
}

/* tags_domain_of - the part after the last '@' without a final '.';
 * NULL without '@' or when empty */
static const char *
tags_domain_of(char *addr)
{
	char *at = strrchr(addr, '@');
	size_t n;

	if (at == NULL)
		return NULL;
	n = strlen(++at);
	if (n > 0 && at[n - 1] == '.')
		at[--n] = '\0';
	return n > 0 ? at : NULL;
}

/* tags_match_session - local address/port and client rules, in order */
void
tags_match_session(const struct tags *t, const char *local_ip,
    unsigned local_port, const char *client_ip, struct tags_set *set)
{
	struct tags_seen seen = { { 0 } };
	const struct tags_rule *r;
	unsigned char la[16], ca[16];
	int lf = 0, cf = 0;
	bool lok, cok;
	unsigned i;

	if (t == NULL || set == NULL)
		return;
	lok = ipaddr_parse(local_ip, la, &lf) == SCOPE_OK;
	cok = ipaddr_parse(client_ip, ca, &cf) == SCOPE_OK;
	for (i = 0; i < t->nrule; i++) {
		r = &t->rule[i];
		if (r->kind == TAGS_LOCAL) {
			if (r->port >= 0 && (unsigned)r->port != local_port)
				continue;
			if (r->family != 0 && (!lok || lf != r->family ||
			    memcmp(la, r->addr, 16) != 0))
				continue;
			tags_add(set, &seen, r->tag);
		} else if (r->kind == TAGS_CLIENT && cok &&
		    tags_prefix_match(r, ca, cf)) {
			tags_add(set, &seen, r->tag);
		}
	}
}

/* tags_match_sender - sender-domain rules: equal or a subdomain */
void
tags_match_sender(const struct tags *t, const char *sender,
    struct tags_set *set)
{
	struct tags_seen seen = { { 0 } };
	char buf[TAGS_ADDR_MAX + 1];
	const char *dom;
	size_t dn, rn;
	unsigned i;

	if (t == NULL || set == NULL)
		return;
	tags_cut(sender, buf);
	if ((dom = tags_domain_of(buf)) == NULL)
		return;
	dn = strlen(dom);
	for (i = 0; i < t->nrule; i++) {
		if (t->rule[i].kind != TAGS_SENDER_DOMAIN)
			continue;
		rn = strlen(t->rule[i].text);
		if (rn > dn || strcmp(dom + dn - rn, t->rule[i].text) != 0)
			continue;
		if (rn == dn || dom[dn - rn - 1] == '.')
			tags_add(set, &seen, t->rule[i].tag);
	}
}

/* tags_match_rcpt - rcpt (the whole address) and rcpt-domain rules */
void
tags_match_rcpt(const struct tags *t, const char *rcpt,
    struct tags_set *set)
{
	struct tags_seen seen = { { 0 } };
	char buf[TAGS_ADDR_MAX + 1], dbuf[TAGS_ADDR_MAX + 1];
	const struct tags_rule *r;
	const char *dom;
	unsigned i;

	if (t == NULL || set == NULL)
		return;
	tags_cut(rcpt, buf);
	memcpy(dbuf, buf, sizeof(dbuf));
	dom = tags_domain_of(dbuf);
	for (i = 0; i < t->nrule; i++) {
		r = &t->rule[i];
		if ((r->kind == TAGS_RCPT && tags_text_match(r, buf)) ||
		    (r->kind == TAGS_RCPT_DOMAIN && dom != NULL &&
		    tags_text_match(r, dom)))
			tags_add(set, &seen, r->tag);
	}
}

/* tags_merge - add from's tags to into, each once, in from's order;
 * into->dropped grows by those that do not fit, and is at least
 * from->dropped */
void
tags_merge(struct tags_set *into, const struct tags_set *from)
{
	struct tags_seen seen = { { 0 } };
	unsigned i, n;

	if (into == NULL || from == NULL)
		return;
	n = from->n < TAGS_SET_MAX ? from->n : TAGS_SET_MAX;
	for (i = 0; i < n; i++)
		tags_add(into, &seen, from->idx[i]);
	if (into->dropped < from->dropped)
		into->dropped = from->dropped;
}

/* tags_name - the name of a tag index; "?" for one out of range */
const char *
tags_name(const struct tags *t, unsigned idx)
{
	if (t == NULL || idx >= t->nname)
		return "?";
	return t->name[idx].name;
}

/* tags_greylist - the mode of the first tag in set with a greylist line */
int
tags_greylist(const struct tags *t, const struct tags_set *set)
{
	unsigned i, n;

	if (t == NULL || set == NULL)
		return -1;
	n = set->n < TAGS_SET_MAX ? set->n : TAGS_SET_MAX;
	for (i = 0; i < n; i++)
		if (set->idx[i] < t->nname && t->name[set->idx[i]].greylist >= 0)
			return t->name[set->idx[i]].greylist;
	return -1;
}
