/*
 * authres_parse.c - a strict reader of a whole Authentication-Results
 * value, by the grammar of RFC 8601 section 2.2:
 *
 *	authres-payload = [CFWS] authserv-id [ CFWS authres-version ]
 *	                  ( no-result / 1*resinfo ) [CFWS]
 *	no-result = [CFWS] ";" [CFWS] "none"
 *	resinfo   = [CFWS] ";" methodspec [ CFWS reasonspec ]
 *	            [ CFWS 1*propspec ]
 *	methodspec = [CFWS] method [CFWS] "=" [CFWS] result
 *	method    = Keyword [ [CFWS] "/" [CFWS] method-version ]
 *	reasonspec = "reason" [CFWS] "=" [CFWS] value
 *	propspec  = ptype [CFWS] "." [CFWS] property [CFWS] "=" pvalue
 *	pvalue    = [CFWS] ( value / [ [ local-part ] "@" ] domain-name )
 *	            [CFWS]
 *
 * with value an RFC 2045 token or quoted-string, Keyword an ldh-str,
 * and CFWS white space, folding (CRLF or LF followed by white space)
 * and nested comments. Only printable ASCII, white space and folding
 * are accepted: an 8-bit byte, a control character or a line break not
 * followed by white space makes the value invalid. It is the check the
 * tests and the fuzz target hold authres_build()'s output to, and what
 * a strict downstream reader would do.
 *
 * Owns nothing; reads each byte a bounded number of times, never past
 * the NUL. Errors: SCOPE_EINVAL (not a valid value).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/authres.h"
#include "errors.h"

/* a cursor over the value; err is sticky */
struct ap {
	const char *p;
	const char *value_start;
	bool err;
};

/* ap_fold - a line break that folds (followed by white space) at p:
 * its length, else 0 */
static size_t
ap_fold(const char *p)
{
	size_t n = p[0] == '\r' && p[1] == '\n' ? 2 : p[0] == '\n' ? 1 : 0;

	return n > 0 && (p[n] == ' ' || p[n] == '\t') ? n : 0;
}

/* ap_comment - a comment at '(' (nested, with quoted-pairs) */
static void
ap_comment(struct ap *a)
{
	size_t depth = 0, f;
	unsigned char c;

	do {
		c = (unsigned char)*a->p;
		if ((f = ap_fold(a->p)) > 0) {
			a->p += f;
			continue;
		}
		if (c == '\0' || (c < 0x20 && c != '\t') || c >= 0x7f) {
			a->err = true;
			return;
		}
		a->p++;
		if (c == '(')
			depth++;
		else if (c == ')')
			depth--;
		else if (c == '\\') {
			c = (unsigned char)*a->p;
			if ((c < 0x20 && c != '\t') || c >= 0x7f) {
				a->err = true;
				return;
			}
			a->p++;
		}
	} while (depth > 0);
}

/* ap_cfws - [CFWS]; true when something was skipped */
static bool
ap_cfws(struct ap *a)
{
	const char *start = a->p;
	size_t f;

	while (!a->err) {
		if (*a->p == ' ' || *a->p == '\t')
			a->p++;
		else if ((f = ap_fold(a->p)) > 0)
			a->p += f;
		else if (*a->p == '(')
			ap_comment(a);
		else
			break;
	}
	return a->p != start;
}

/* ap_expect - the character c, or an error */
static void
ap_expect(struct ap *a, char c)
{
	if (!a->err && *a->p == c)
		a->p++;
	else
		a->err = true;
}

/* ap_tchar - an RFC 2045 token character */
static bool
ap_tchar(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

/* ap_atext - an RFC 5322 atext character */
static bool
ap_atext(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("()<>[]:;@\\,.\"", c) == NULL;
}

/* ap_copy - keep s[0..n) in out (cut to outsz), when out is given */
static void
ap_copy(char *out, size_t outsz, const char *s, size_t n)
{
	if (out == NULL || outsz == 0)
		return;
	if (n >= outsz)
		n = outsz - 1;
	memcpy(out, s, n);
	out[n] = '\0';
}

/* ap_unquote - the text of a valid quoted-string s[0..n) into out:
 * quotes, quoted-pair backslashes and folding line breaks dropped */
static void
ap_unquote(char *out, size_t outsz, const char *s, size_t n)
{
	size_t i, len = 0;

	for (i = 1; i + 1 < n && len + 1 < outsz; i++) {
		if (s[i] == '\r' || s[i] == '\n')
			continue;
		if (s[i] == '\\')
			i++;
		out[len++] = s[i];
	}
	out[len] = '\0';
}

/* ap_keyword - an ldh-str: letters, digits, '-', not ending in '-' */
static void
ap_keyword(struct ap *a, char *out, size_t outsz)
{
	const char *s = a->p;
	size_t n = 0;

	if (a->err)
		return;
	while ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
	    (s[n] >= '0' && s[n] <= '9') || s[n] == '-')
		n++;
	if (n == 0 || s[n - 1] == '-') {
		a->err = true;
		return;
	}
	ap_copy(out, outsz, s, n);
	a->p += n;
}

/* ap_quoted - a quoted-string at '"', folding allowed inside */
static void
ap_quoted(struct ap *a)
{
	unsigned char c;
	size_t f;

	ap_expect(a, '"');
	while (!a->err) {
		c = (unsigned char)*a->p;
		if ((f = ap_fold(a->p)) > 0) {
			a->p += f;
			continue;
		}
		if (c == '"') {
			a->p++;
			return;
		}
		if (c == '\\') {
			a->p++;
			c = (unsigned char)*a->p;
		}
		if ((c < 0x20 && c != '\t') || c >= 0x7f)
			a->err = true;
		else
			a->p++;
	}
}

/* ap_value - an RFC 2045 value: token or quoted-string */
static void
ap_value(struct ap *a)
{
	const char *s = a->p;

	if (a->err)
		return;
	if (*s == '"') {
		ap_quoted(a);
		return;
	}
	while (ap_tchar((unsigned char)*a->p))
		a->p++;
	if (a->p == s)
		a->err = true;
}

/* ap_domain - sub-domain *("." sub-domain), labels of letters, digits
 * and '-' starting with a letter or digit */
static void
ap_domain(struct ap *a)
{
	char label[64];

	do {
		if (!a->err && *a->p == '-')
			a->err = true;
		ap_keyword(a, label, sizeof(label));
	} while (!a->err && *a->p == '.' && (a->p++, true));
}

/* ap_pvalue - [CFWS] ( value / [ [ local-part ] "@" ] domain-name ) [CFWS]
 * (local-part a dot-atom or a quoted-string) */
static void
ap_pvalue(struct ap *a)
{
	const char *s;

	ap_cfws(a);
	if (a->err)
		return;
	s = a->p;
	if (*s == '"')
		ap_quoted(a);
	else
		while (ap_atext((unsigned char)*a->p) || (*a->p == '.' &&
		    a->p > s && a->p[-1] != '.' && ap_atext((unsigned char)
		    a->p[1])))
			a->p++;
	if (!a->err && *a->p == '@') {
		a->p++;
		ap_domain(a);
	} else if (!a->err) {
		a->p = s;	/* not local-part@: a value */
		ap_value(a);
	}
	ap_cfws(a);
}

/* ap_propspec - "." property "=" pvalue after its ptype; true when
 * the pvalue ended in CFWS (which may separate the next one) */
static bool
ap_propspec(struct ap *a)
{
	const char *end;

	ap_cfws(a);
	ap_expect(a, '.');
	ap_cfws(a);
	ap_keyword(a, NULL, 0);
	ap_cfws(a);
	ap_expect(a, '=');
	ap_pvalue(a);
	end = a->p;
	return !a->err && end > a->value_start && (end[-1] == ' ' ||
	    end[-1] == '\t' || end[-1] == ')');
}

/* ap_resinfo - one resinfo after its ';': methodspec, then reasonspec
 * and propspecs, each after CFWS */
static void
ap_resinfo(struct ap *a, struct authres_result *r)
{
	char word[32];
	bool sep;

	ap_cfws(a);
	ap_keyword(a, r != NULL ? r->method : NULL, sizeof(r->method));
	ap_cfws(a);
	if (!a->err && *a->p == '/') {
		a->p++;
		ap_cfws(a);
		if (!(*a->p >= '0' && *a->p <= '9'))
			a->err = true;
		a->p += strspn(a->p, "0123456789");
		ap_cfws(a);
	}
	ap_expect(a, '=');
	ap_cfws(a);
	ap_keyword(a, r != NULL ? r->result : NULL, sizeof(r->result));
	sep = ap_cfws(a);
	while (!a->err && sep && *a->p != ';' && *a->p != '\0') {
		ap_keyword(a, word, sizeof(word));
		if (a->err)
			return;
		if (strcasecmp(word, "reason") == 0) {
			ap_cfws(a);
			ap_expect(a, '=');
			ap_cfws(a);
			ap_value(a);
			sep = ap_cfws(a);
		} else {
			sep = ap_propspec(a);
		}
	}
}

/* ap_version - [ CFWS authres-version ] after the authserv-id */
static void
ap_version(struct ap *a, struct authres_parsed *out)
{
	const char *mark = a->p;
	size_t n;

	if (!ap_cfws(a) || !(*a->p >= '0' && *a->p <= '9')) {
		if (!a->err)
			a->p = mark;
		return;
	}
	n = strspn(a->p, "0123456789");
	out->version = n < 9 ? (unsigned)strtoul(a->p, NULL, 10) : ~0u;
	a->p += n;
}

/* authres_parse - a whole A-R value by RFC 8601's grammar */
int
authres_parse(const char *value, struct authres_parsed *out)
{
	struct ap a = { value, value, false };
	const char *start;

	if (value == NULL || out == NULL)
		return SCOPE_EINVAL;
	memset(out, 0, sizeof(*out));
	ap_cfws(&a);
	start = a.p;
	ap_value(&a);
	if (a.err)
		return SCOPE_EINVAL;
	if (*start == '"')
		ap_unquote(out->servid, sizeof(out->servid), start,
		    (size_t)(a.p - start));
	else
		ap_copy(out->servid, sizeof(out->servid), start,
		    (size_t)(a.p - start));
	ap_version(&a, out);
	for (;;) {
		ap_cfws(&a);
		if (a.err || *a.p != ';')
			break;
		a.p++;
		start = a.p;
		ap_cfws(&a);
		if (out->n == 0 && !a.err && strncasecmp(a.p, "none", 4) == 0) {
			a.p += 4;
			ap_cfws(&a);
			if (!a.err && *a.p == '\0') {
				out->none = true;
				return SCOPE_OK;
			}
		}
		a.err = false;
		a.p = start;
		ap_resinfo(&a, out->n < AUTHRES_PARSE_MAX ? &out->r[out->n] :
		    NULL);
		out->n++;
	}
	return !a.err && *a.p == '\0' && out->n > 0 ? SCOPE_OK : SCOPE_EINVAL;
}
