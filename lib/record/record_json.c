/*
 * record_json.c - a record's compact JSON text without jansson's dumper
 * (see record_json.h for what it writes and why).
 *
 * One growing buffer per call; every append checks the cap first, so a
 * record never costs more than max + extra bytes. Strings: a table says
 * which bytes are copied as they are (printable ASCII but '"' and '\\');
 * a run of them is one memcpy, a control or quote is escaped, a byte
 * from 0x80 up starts a UTF-8 sequence that is checked as RFC 3629
 * section 4 defines it (no overlong forms, no surrogates, nothing past
 * U+10FFFF) and copied.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "record/record_json.h"
#include "record/recordlog.h"

/* bytes copied as they are inside a string: 0x20..0x7f but '"' (0x22)
 * and '\\' (0x5c); a table, since this test runs for every byte */
static const unsigned char record_json_plain[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	/* 0x00 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	/* 0x10 */
	1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,	/* 0x20 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,	/* 0x30 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,	/* 0x40 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,	/* 0x50 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,	/* 0x60 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,	/* 0x70 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	/* 0x80 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	/* 0x90 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	/* 0xa0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	/* 0xb0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	/* 0xc0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	/* 0xd0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	/* 0xe0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	/* 0xf0 */
};

/* record_json_grow - room for n more bytes of text (sets err if not) */
static bool
record_json_grow(struct record_w *w, size_t n)
{
	size_t want, cap;
	char *p;

	if (w->err != SCOPE_OK)
		return false;
	if (n > w->max - w->len) {
		w->err = SCOPE_ETOOBIG;
		return false;
	}
	want = w->len + n + w->extra;
	if (want <= w->cap)
		return true;
	cap = w->cap != 0 ? w->cap : 4096;
	while (cap < want)
		cap *= 2;
	if (cap > w->max + w->extra)
		cap = w->max + w->extra;
	if ((p = realloc(w->p, cap)) == NULL) {
		w->err = SCOPE_ENOMEM;
		return false;
	}
	w->p = p;
	w->cap = cap;
	return true;
}

/* record_json_room - n more bytes fit without growing (err unset) */
static inline bool
record_json_room(const struct record_w *w, size_t n)
{
	return w->err == SCOPE_OK && n <= w->max - w->len &&
	    n + w->extra <= w->cap - w->len;
}

/* record_json_put - append n bytes */
static void
record_json_put(struct record_w *w, const char *s, size_t n)
{
	if (n == 0 || (!record_json_room(w, n) && !record_json_grow(w, n)))
		return;
	memcpy(w->p + w->len, s, n);
	w->len += n;
}

/* record_json_putc - append one byte */
static inline void
record_json_putc(struct record_w *w, char c)
{
	if (record_json_room(w, 1) || record_json_grow(w, 1))
		w->p[w->len++] = c;
}

/* record_json_utf8_len - bytes of the valid UTF-8 sequence at s, or 0 */
static size_t
record_json_utf8_len(const unsigned char *s, size_t avail)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;		/* overlong */
	else if (c == 0xed)
		hi = 0x9f;		/* surrogates */
	else if (c == 0xf0)
		lo = 0x90;		/* overlong */
	else if (c == 0xf4)
		hi = 0x8f;		/* past U+10FFFF */
	if (avail < n || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

/* record_json_escape - one ASCII byte that is not plain, escaped */
static void
record_json_escape(struct record_w *w, unsigned char c)
{
	static const char hex[] = "0123456789ABCDEF";
	char u[6] = { '\\', 'u', '0', '0', 0, 0 };

	switch (c) {
	case '"':	record_json_put(w, "\\\"", 2); return;
	case '\\':	record_json_put(w, "\\\\", 2); return;
	case '\b':	record_json_put(w, "\\b", 2); return;
	case '\f':	record_json_put(w, "\\f", 2); return;
	case '\n':	record_json_put(w, "\\n", 2); return;
	case '\r':	record_json_put(w, "\\r", 2); return;
	case '\t':	record_json_put(w, "\\t", 2); return;
	default:
		u[4] = hex[c >> 4];
		u[5] = hex[c & 0x0f];
		record_json_put(w, u, sizeof(u));
	}
}

/* record_json_string - a quoted, escaped string of n bytes */
static void
record_json_string(struct record_w *w, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, start, k;

	record_json_putc(w, '"');
	while (i < n && w->err == SCOPE_OK) {
		start = i;
		while (i < n && record_json_plain[s[i]])
			i++;
		record_json_put(w, str + start, i - start);
		if (i == n)
			break;
		if (s[i] < 0x80) {
			record_json_escape(w, s[i]);
			i++;
			continue;
		}
		if ((k = record_json_utf8_len(s + i, n - i)) == 0) {
			if (w->err == SCOPE_OK)
				w->err = SCOPE_EINVAL;
			return;
		}
		record_json_put(w, str + i, k);
		i += k;
	}
	record_json_putc(w, '"');
}

/* record_json_integer - a json_int_t in decimal */
static void
record_json_integer(struct record_w *w, json_int_t v)
{
	char digits[24], *p = digits + sizeof(digits);
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v :
	    (unsigned long long)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--p = '-';
	record_json_put(w, p, (size_t)(digits + sizeof(digits) - p));
}

/*
 * record_json_millis - the text of v when v is the double nearest to
 * k / 1000 for an integer k, 0 < |k| < 10^9: every duration in a record
 * (microseconds over 1000.0), written without snprintf(), which was a
 * fifth of the cost of writing a record. It is what "%.12g" writes: k /
 * 1000 has at most 9 significant digits, v is within half an ulp of it
 * (a relative 2^-53), far less than half a unit of the 12th digit, so v
 * rounds to k / 1000 exactly; 0.001 <= |v| < 10^6 keeps "%g" out of
 * exponent form. Trailing zeros of the fraction are dropped, and ".0"
 * stands for none (record_json_real's rule). false: any other value
 * (nothing written). unit/test_record_json compares both ways.
 */
static bool
record_json_millis(struct record_w *w, double v)
{
	char text[24], *p = text + sizeof(text);
	double x;
	long long k;
	unsigned long long u;
	int digits;
	bool frac = false;

	if (!(v > -1e6 && v < 1e6))	/* NaN fails too */
		return false;
	x = v * 1000.0;
	k = (long long)(x < 0 ? x - 0.5 : x + 0.5);
	if (k == 0 || k <= -1000000000LL || k >= 1000000000LL ||
	    (double)k / 1000.0 != v)
		return false;
	u = k < 0 ? (unsigned long long)-k : (unsigned long long)k;
	for (digits = 0; digits < 3; digits++, u /= 10) {
		if (u % 10 != 0 || frac) {
			*--p = (char)('0' + u % 10);
			frac = true;
		}
	}
	*--p = frac ? '.' : '0';
	if (!frac)
		*--p = '.';
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (k < 0)
		*--p = '-';
	record_json_put(w, p, (size_t)(text + sizeof(text) - p));
	return true;
}

/*
 * record_json_real - a real as jansson writes it with JSON_REAL_PRECISION
 * (12): "%.12g", ".0" added when that has neither '.' nor 'e', and the
 * exponent without '+' or leading zeros. The daemon never calls
 * setlocale(), so the decimal point is '.'. json_real() takes no NaN or
 * infinity.
 */
static void
record_json_real(struct record_w *w, double v)
{
	char text[40], *e, *from;
	int n;

	if (record_json_millis(w, v))
		return;
	n = snprintf(text, sizeof(text) - 2, "%.12g", v);
	if (n < 0 || (size_t)n >= sizeof(text) - 2) {
		if (w->err == SCOPE_OK)
			w->err = SCOPE_EINVAL;
		return;
	}
	if (strchr(text, '.') == NULL && strchr(text, 'e') == NULL) {
		memcpy(text + n, ".0", 3);
		n += 2;
	}
	if ((e = strchr(text, 'e')) != NULL) {
		e++;
		if (*e == '-')
			e++;
		for (from = e; *from == '+' || *from == '0'; from++)
			;
		if (*from == '\0')
			from--;		/* keep one digit of "e+00" */
		memmove(e, from, strlen(from) + 1);
		n = (int)strlen(text);
	}
	record_json_put(w, text, (size_t)n);
}

/* record_w_sep - a comma before a member or element that is not the
 * first of its array or object (none after a key) */
static void
record_w_sep(struct record_w *w)
{
	uint64_t bit;

	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->depth == 0)
		return;
	bit = (uint64_t)1 << (w->depth - 1);
	if ((w->more & bit) != 0)
		record_json_putc(w, ',');
	w->more |= bit;
}

/* record_w_init - an empty text */
void
record_w_init(struct record_w *w, size_t max, size_t extra)
{
	memset(w, 0, sizeof(*w));
	w->max = max;
	w->extra = extra;
}

/* record_w_take - the text, or the first failure */
int
record_w_take(struct record_w *w, char **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	if (w->err == SCOPE_OK && (w->p == NULL || w->depth != 0))
		w->err = w->p == NULL ? SCOPE_ENOMEM : SCOPE_EINVAL;
	if (w->err != SCOPE_OK) {
		free(w->p);
		w->p = NULL;
		return w->err;
	}
	*out = w->p;
	*len = w->len;
	w->p = NULL;
	return SCOPE_OK;
}

/* record_w_open - an array or object begins */
void
record_w_open(struct record_w *w, char c)
{
	record_w_sep(w);
	if (w->depth >= RECORD_JSON_DEPTH) {
		if (w->err == SCOPE_OK)
			w->err = SCOPE_EINVAL;
		return;
	}
	record_json_putc(w, c);
	w->depth++;
	w->more &= ~((uint64_t)1 << (w->depth - 1));
}

/* record_w_close - the innermost array or object ends */
void
record_w_close(struct record_w *w, char c)
{
	if (w->depth == 0) {
		if (w->err == SCOPE_OK)
			w->err = SCOPE_EINVAL;
		return;
	}
	record_json_putc(w, c);
	w->depth--;
}

/* record_w_key - a schema constant as a key (no byte needs escaping) */
void
record_w_key(struct record_w *w, const char *key)
{
	size_t n = strlen(key);

	record_w_sep(w);
	if (record_json_room(w, n + 3) || record_json_grow(w, n + 3)) {
		w->p[w->len++] = '"';
		memcpy(w->p + w->len, key, n);
		w->len += n;
		w->p[w->len++] = '"';
		w->p[w->len++] = ':';
	}
	w->after_key = true;
}

/* record_w_keyn - any key, escaped (the tree writer's) */
static void
record_w_keyn(struct record_w *w, const char *key, size_t n)
{
	record_w_sep(w);
	record_json_string(w, key, n);
	record_json_putc(w, ':');
	w->after_key = true;
}

/* record_w_strn - a string of n bytes */
static void
record_w_strn(struct record_w *w, const char *s, size_t n)
{
	record_w_sep(w);
	record_json_string(w, s, n);
}

/* record_w_str - a C string, or null for NULL */
void
record_w_str(struct record_w *w, const char *s)
{
	if (s == NULL)
		record_w_null(w);
	else
		record_w_strn(w, s, strlen(s));
}

/* record_w_null - null */
void
record_w_null(struct record_w *w)
{
	record_w_sep(w);
	record_json_put(w, "null", 4);
}

/* record_w_bool - true or false */
void
record_w_bool(struct record_w *w, bool v)
{
	record_w_sep(w);
	if (v)
		record_json_put(w, "true", 4);
	else
		record_json_put(w, "false", 5);
}

/* record_w_int - an integer */
void
record_w_int(struct record_w *w, json_int_t v)
{
	record_w_sep(w);
	record_json_integer(w, v);
}

/* record_w_real - a real; JSON has no NaN or infinity (json_real()
 * refuses them too) */
void
record_w_real(struct record_w *w, double v)
{
	record_w_sep(w);
	if (!isfinite(v)) {
		if (w->err == SCOPE_OK)
			w->err = SCOPE_EINVAL;
		return;
	}
	record_json_real(w, v);
}

static void record_json_value(struct record_w *, const json_t *);

/* record_json_object - members in insertion order */
static void
record_json_object(struct record_w *w, const json_t *obj)
{
	void *it;

	record_w_open(w, '{');
	for (it = json_object_iter((json_t *)obj); it != NULL &&
	    w->err == SCOPE_OK; it = json_object_iter_next((json_t *)obj, it)) {
		record_w_keyn(w, json_object_iter_key(it),
		    json_object_iter_key_len(it));
		record_json_value(w, json_object_iter_value(it));
	}
	record_w_close(w, '}');
}

/* record_json_array - elements in order */
static void
record_json_array(struct record_w *w, const json_t *arr)
{
	size_t i, n = json_array_size(arr);

	record_w_open(w, '[');
	for (i = 0; i < n && w->err == SCOPE_OK; i++)
		record_json_value(w, json_array_get(arr, i));
	record_w_close(w, ']');
}

/* record_json_value - any value */
static void
record_json_value(struct record_w *w, const json_t *v)
{
	if (v == NULL) {
		if (w->err == SCOPE_OK)
			w->err = SCOPE_EINVAL;
		return;
	}
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		record_json_object(w, v);
		break;
	case JSON_ARRAY:
		record_json_array(w, v);
		break;
	case JSON_STRING:
		record_w_strn(w, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		record_w_int(w, json_integer_value(v));
		break;
	case JSON_REAL:
		record_w_real(w, json_real_value(v));
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		record_w_bool(w, json_is_true(v));
		break;
	case JSON_NULL:
		record_w_null(w);
		break;
	default:
		if (w->err == SCOPE_OK)
			w->err = SCOPE_EINVAL;
	}
}

/* record_json_dump - rec's compact text in a new buffer */
int
record_json_dump(const json_t *rec, size_t max, size_t extra, char **out,
    size_t *len)
{
	struct record_w w;

	*out = NULL;
	*len = 0;
	if (!json_is_object(rec) && !json_is_array(rec))
		return SCOPE_EINVAL;	/* as json_dumpb without ENCODE_ANY */
	record_w_init(&w, max, extra);
	record_json_value(&w, rec);
	return record_w_take(&w, out, len);
}
