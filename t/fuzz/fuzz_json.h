/*
 * fuzz_json.h - a strict JSON checker for the records the session and
 * record fuzz targets see: one pass, no allocation, so checking a record
 * costs far less than parsing it with jansson (which allocated a node
 * per value, the larger part of those targets' time under ASan).
 *
 * fuzz_json_check() accepts exactly what jansson's json_loadb(text, len,
 * 0) accepts for an object: RFC 8259 grammar, valid UTF-8 (no overlong
 * forms, no surrogates, nothing past U+10FFFF), no \u0000, escaped
 * surrogates only in pairs, integers within int64, finite reals, nesting
 * up to FUZZ_JSON_DEPTH. It also tells the type of some top-level keys.
 * fuzz_json_selftest() compares it with jansson on fixed cases (valid and
 * invalid) and aborts on any disagreement; the targets run it once.
 */
#ifndef SMTPSCOPE_FUZZ_JSON_H
#define SMTPSCOPE_FUZZ_JSON_H

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define FUZZ_JSON_DEPTH	2048	/* jansson's JSON_PARSER_MAX_DEPTH */

struct fuzz_json {
	const unsigned char *p, *end;
	int depth;
};

static bool fuzz_json_value(struct fuzz_json *j, char *type);

/* fuzz_json_ws - skip the four whitespace bytes JSON allows */
static inline void
fuzz_json_ws(struct fuzz_json *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
	    *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

/* fuzz_json_utf8 - one multi-byte UTF-8 sequence starting at p */
static inline bool
fuzz_json_utf8(struct fuzz_json *j)
{
	unsigned c = *j->p, n, i;
	uint32_t cp;

	if (c >= 0xc2 && c <= 0xdf)
		n = 1, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 2, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 3, cp = c & 0x07;
	else
		return false;
	if ((size_t)(j->end - j->p) <= n)
		return false;
	for (i = 1; i <= n; i++) {
		if ((j->p[i] & 0xc0) != 0x80)
			return false;
		cp = cp << 6 | (j->p[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return false;
	j->p += n + 1;
	return true;
}

/* fuzz_json_hex4 - the four hex digits of a \u escape at p */
static inline int32_t
fuzz_json_hex4(struct fuzz_json *j)
{
	int32_t v = 0;
	int i, d;

	if (j->end - j->p < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		d = j->p[i];
		d = d >= '0' && d <= '9' ? d - '0' : d >= 'a' && d <= 'f' ?
		    d - 'a' + 10 : d >= 'A' && d <= 'F' ? d - 'A' + 10 : -1;
		if (d < 0)
			return -1;
		v = v << 4 | d;
	}
	j->p += 4;
	return v;
}

/* fuzz_json_escape - one escape after its backslash */
static inline bool
fuzz_json_escape(struct fuzz_json *j)
{
	int32_t u, lo;

	if (j->p >= j->end)
		return false;
	if (strchr("\"\\/bfnrt", *j->p) != NULL && *j->p != '\0') {
		j->p++;
		return true;
	}
	if (*j->p++ != 'u' || (u = fuzz_json_hex4(j)) <= 0)
		return false;	/* also \u0000: jansson refuses it */
	if (u >= 0xdc00 && u <= 0xdfff)
		return false;
	if (u < 0xd800 || u > 0xdbff)
		return true;
	if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u')
		return false;
	j->p += 2;
	lo = fuzz_json_hex4(j);
	return lo >= 0xdc00 && lo <= 0xdfff;
}

/* fuzz_json_string - a string at p (its opening quote); its bytes go to
 * *s and *n when they hold no escape, else *s is NULL */
static bool
fuzz_json_string(struct fuzz_json *j, const unsigned char **s, size_t *n)
{
	const unsigned char *start = ++j->p;
	bool esc = false;

	while (j->p < j->end && *j->p != '"') {
		if (*j->p < 0x20)
			return false;
		if (*j->p == '\\') {
			j->p++;
			esc = true;
			if (!fuzz_json_escape(j))
				return false;
		} else if (*j->p >= 0x80) {
			if (!fuzz_json_utf8(j))
				return false;
		} else {
			j->p++;
		}
	}
	if (j->p >= j->end)
		return false;
	*s = esc ? NULL : start;
	*n = (size_t)(j->p - start);
	j->p++;
	return true;
}

/* fuzz_json_number - a number; type 'i' (within int64) or 'r' (finite) */
static bool
fuzz_json_number(struct fuzz_json *j, char *type)
{
	const unsigned char *start = j->p;
	char buf[512], *e;
	size_t len;

	*type = 'i';
	if (*j->p == '-')
		j->p++;
	if (j->p >= j->end || *j->p < '0' || *j->p > '9')
		return false;
	if (*j->p == '0')
		j->p++;
	else
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	if (j->p < j->end && *j->p == '.') {
		*type = 'r';
		if (++j->p >= j->end || *j->p < '0' || *j->p > '9')
			return false;
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		*type = 'r';
		if (++j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (j->p >= j->end || *j->p < '0' || *j->p > '9')
			return false;
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	len = (size_t)(j->p - start);
	if (len >= sizeof(buf))
		return false;	/* no record writes such a number */
	memcpy(buf, start, len);
	buf[len] = '\0';
	errno = 0;
	if (*type == 'i') {
		(void)strtoll(buf, &e, 10);
		return errno == 0;
	}
	return isfinite(strtod(buf, &e));	/* underflow is accepted */
}

/* fuzz_json_members - an object's members or an array's elements, p past
 * the opening bracket; for the top-level object (keys != NULL) types[i]
 * gets the type of keys[i] */
static bool
fuzz_json_members(struct fuzz_json *j, bool object, const char *const *keys,
    char *types, size_t nkeys)
{
	const unsigned char *k = NULL;
	size_t kn = 0, i;
	char t;

	fuzz_json_ws(j);
	if (j->p < j->end && *j->p == (object ? '}' : ']')) {
		j->p++;
		return true;
	}
	for (;;) {
		if (object) {
			if (j->p >= j->end || *j->p != '"' ||
			    !fuzz_json_string(j, &k, &kn))
				return false;
			fuzz_json_ws(j);
			if (j->p >= j->end || *j->p++ != ':')
				return false;
		}
		if (!fuzz_json_value(j, &t))
			return false;
		for (i = 0; object && keys != NULL && k != NULL && i < nkeys; i++)
			if (strlen(keys[i]) == kn && memcmp(keys[i], k, kn) == 0)
				types[i] = t;
		fuzz_json_ws(j);
		if (j->p >= j->end)
			return false;
		if (*j->p == (object ? '}' : ']')) {
			j->p++;
			return true;
		}
		if (*j->p++ != ',')
			return false;
		fuzz_json_ws(j);
	}
}

/* fuzz_json_literal - true, false or null at p */
static bool
fuzz_json_literal(struct fuzz_json *j, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
		return false;
	j->p += n;
	return true;
}

/* fuzz_json_value - one value after optional whitespace; *type is one of
 * o a s i r b z */
static bool
fuzz_json_value(struct fuzz_json *j, char *type)
{
	const unsigned char *s;
	size_t n;
	bool ok;

	fuzz_json_ws(j);
	if (j->p >= j->end)
		return false;
	switch (*j->p) {
	case '{':
	case '[':
		*type = *j->p == '{' ? 'o' : 'a';
		if (++j->depth > FUZZ_JSON_DEPTH)
			return false;
		j->p++;
		ok = fuzz_json_members(j, *type == 'o', NULL, NULL, 0);
		j->depth--;
		return ok;
	case '"':
		*type = 's';
		return fuzz_json_string(j, &s, &n);
	case 't':
		*type = 'b';
		return fuzz_json_literal(j, "true");
	case 'f':
		*type = 'b';
		return fuzz_json_literal(j, "false");
	case 'n':
		*type = 'z';
		return fuzz_json_literal(j, "null");
	default:
		return fuzz_json_number(j, type);
	}
}

/* fuzz_json_check - text[0..len) is one JSON object (see above); types[i]
 * gets the type of its key keys[i], 0 when absent (the last of duplicate
 * keys counts, as in jansson) */
static bool
fuzz_json_check(const char *text, size_t len, const char *const *keys,
    char *types, size_t nkeys)
{
	struct fuzz_json j = { (const unsigned char *)text,
	    (const unsigned char *)text + len, 0 };

	memset(types, 0, nkeys);
	fuzz_json_ws(&j);
	if (j.p >= j.end || *j.p++ != '{' ||
	    !fuzz_json_members(&j, true, keys, types, nkeys))
		return false;
	fuzz_json_ws(&j);
	return j.p == j.end;
}

/* fuzz_json_selftest - the checker agrees with jansson on fixed cases */
static void
fuzz_json_selftest(void)
{
	static const char *const cases[] = {
		"{}", " {\"v\":1} ", ("{\"a\":[1,-0,0.5,-1e3,2E+2,true,false,"
		"null,{},[],\"\\u00e9\\ud83d\\ude00\\n\\\"\"]}"),
		"{\"s\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}",
		"{\"i\":9223372036854775807}", "{\"i\":-9223372036854775808}",
		"{\"i\":9223372036854775808}", "{\"r\":1e400}", "{\"r\":1e-400}",
		"[]", "1", "\"x\"", "{", "{\"a\"}", "{\"a\":}", "{\"a\":1,}",
		"{\"a\":01}", "{\"a\":1.}", "{\"a\":.5}", "{\"a\":+1}",
		"{\"a\":-}", "{\"a\":1e}", "{\"a\":tru}", "{\"a\":nul}",
		"{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}", "{\"a\":\"\\u0000\"}",
		"{\"a\":\"\\ud800\"}", "{\"a\":\"\\udc00\"}",
		"{\"a\":\"\\ud800\\u0041\"}", "{\"a\":\"\x01\"}",
		"{\"a\":\"\xc0\xaf\"}", "{\"a\":\"\xed\xa0\x80\"}",
		"{\"a\":\"\xf4\x90\x80\x80\"}", "{\"a\":\"\xe2\x82\"}",
		"{\"a\":\"\x80\"}", "{\"a\":\"\xff\"}", "{\"a\":1}x",
		"{\"a\":1} {}", "{'a':1}", "{\"a\":[1 2]}", "{\"a\":[1,]}",
		"{\"a\":\"unterminated}", "{\"a\"\n:\t1\r}", "{\"a\":NaN}",
		"{\"a\":Infinity}", "{\"\\u0041\":1}", "{\"a\":[[[[[[]]]]]]}"
	};
	static const char *const keys[] = { "v" };
	json_error_t err;
	json_t *o;
	char types[1];
	size_t i;
	bool mine, theirs;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		o = json_loadb(cases[i], strlen(cases[i]), 0, &err);
		theirs = o != NULL && json_is_object(o);
		json_decref(o);
		mine = fuzz_json_check(cases[i], strlen(cases[i]), keys, types,
		    1);
		if (mine != theirs) {
			fprintf(stderr, "fuzz_json: case %zu (%s): jansson %d, "
			    "checker %d\n", i, cases[i], theirs, mine);
			abort();
		}
	}
}

#endif
