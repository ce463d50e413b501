/*
 * test_record_json.c - record_json_dump() against jansson's json_dumpb()
 * with the record log's flags: the same bytes for every tree, the same
 * refusals (strings that are not UTF-8), and the caps.
 *
 * Trees are random but seeded (SEED, default 20261204; COUNT trees,
 * default 20000): objects and arrays nested up to 6 deep, keys and
 * strings of random bytes drawn to hit every escape, the UTF-8 edges
 * (overlong forms, surrogates, U+10FFFF and past it, cut sequences,
 * embedded NULs), integers at their limits, reals, true, false, null.
 * Invalid UTF-8 goes into string values only: jansson checks those and
 * refuses the tree, but writes a key that is not UTF-8 without a check
 * (a text that is not JSON), where record_json_dump refuses it too.
 */
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "errors.h"
#include "record/record_json.h"
#include "record/recordlog.h"
#include "tap.h"
#include "testutil.h"

static uint64_t rng_state;

/* rng - deterministic from the seed */
static uint64_t
rng(void)
{
	return test_rng(&rng_state);
}

static unsigned
pick(unsigned n)
{
	return (unsigned)(rng() % n);
}

/* byte sequences that probe the escaper and the UTF-8 checker */
static const char *const pieces[] = {
	"plain", " ", "\"", "\\", "/", "\b", "\f", "\n", "\r", "\t", "\x01",
	"\x1f", "\x7f", "caf\xc3\xa9", "\xe2\x80\xae", "\xe2\x80\xa8",
	"\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf", "\xed\x9f\xbf", "\xee\x80\x80",
	/* long plain runs, for the 16-byte scan */
	"mail-out2.bench.example", "0123456789abcdef0123456789abcdef~",
	/* invalid from here on (INVALID_FROM) */
	"\xc0\xaf", "\xc1\xbf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
	"\xf5\x80\x80\x80", "\x80", "\xbf", "\xc3", "\xe2\x80", "\xf0\x9f\x98",
	"\xff", "\xfe",
};
#define INVALID_FROM	22
#define NPIECES		(sizeof(pieces) / sizeof(pieces[0]))

/* random_bytes - a string of pieces; *valid false if one is not UTF-8 */
static size_t
random_bytes(char *out, size_t cap, bool allow_invalid, bool *valid)
{
	size_t n = 0, len;
	unsigned i, k, count = pick(6);

	for (i = 0; i < count; i++) {
		if (pick(10) == 0) {		/* an embedded NUL */
			if (n + 1 < cap)
				out[n++] = '\0';
			continue;
		}
		k = allow_invalid && pick(8) == 0 ? pick(NPIECES) :
		    pick(INVALID_FROM);
		len = strlen(pieces[k]);
		if (n + len >= cap)
			break;
		memcpy(out + n, pieces[k], len);
		n += len;
		if (k >= INVALID_FROM)
			*valid = false;
	}
	return n;
}

static json_t *random_tree(unsigned depth, bool allow_invalid, bool *valid);

/* random_scalar - a string, number or literal */
static json_t *
random_scalar(bool allow_invalid, bool *valid)
{
	static const json_int_t ints[] = { 0, 1, -1, 9, 10, 4294967296LL,
	    LLONG_MAX, LLONG_MIN, LLONG_MIN + 1, 1234567890123LL };
	static const double reals[] = { 0.0, -0.0, 0.5, 1.0, 3.14159265358979,
	    1e300, -2.5e-7, 123456789012345.0, 1.0 / 3.0 };
	char buf[256];
	size_t n;

	double d;
	uint64_t bits;

	switch (pick(8)) {
	case 7:		/* any finite double, every exponent */
		bits = rng();
		memcpy(&d, &bits, sizeof(d));
		return json_real(isfinite(d) ? d : 1.5);
	case 0:
		return json_integer(ints[pick(sizeof(ints) / sizeof(ints[0]))]);
	case 1:
		return json_integer((json_int_t)rng());
	case 2:
		return json_real(reals[pick(sizeof(reals) / sizeof(reals[0]))]);
	case 3:
		return pick(3) == 0 ? json_true() : pick(2) ? json_false() :
		    json_null();
	default:
		n = random_bytes(buf, sizeof(buf), allow_invalid, valid);
		return json_stringn_nocheck(buf, n);
	}
}

/* random_object - up to 6 members with random keys */
static json_t *
random_object(unsigned depth, bool allow_invalid, bool *valid)
{
	json_t *o = json_object();
	char key[64];
	size_t n;
	unsigned i, count = pick(7);

	for (i = 0; i < count && o != NULL; i++) {
		/* keys are always UTF-8: jansson dumps a key that is not
		 * without checking it (a broken text); ours refuses it.
		 * Record keys are fixed ASCII names */
		n = random_bytes(key, sizeof(key), false, valid);
		if (pick(3) == 0)
			n = (size_t)snprintf(key, sizeof(key), "k%u", i);
		json_object_setn_new_nocheck(o, key, n,
		    random_tree(depth + 1, allow_invalid, valid));
	}
	return o;
}

/* random_tree - any value, containers while depth allows */
static json_t *
random_tree(unsigned depth, bool allow_invalid, bool *valid)
{
	json_t *a;
	unsigned i, count;

	if (depth >= 6 || pick(3) == 0)
		return random_scalar(allow_invalid, valid);
	if (pick(2) == 0)
		return random_object(depth, allow_invalid, valid);
	a = json_array();
	count = pick(6);
	for (i = 0; i < count && a != NULL; i++)
		json_array_append_new(a, random_tree(depth + 1, allow_invalid,
		    valid));
	return a;
}

/* compare - ours and jansson's for one tree; 0 when they agree */
static int
compare(const json_t *t, bool valid, unsigned *refused)
{
	size_t want = json_dumpb(t, NULL, 0, RECORDLOG_JSON_FLAGS), len;
	char *theirs, *ours;
	int rc, bad;

	rc = record_json_dump(t, 1 << 20, 1, &ours, &len);
	if (want == 0) {
		(*refused)++;
		free(ours);
		return rc == SCOPE_OK || valid;	/* refused: must be invalid */
	}
	if (rc != SCOPE_OK || len != want) {
		if (getenv("VERBOSE") != NULL) {
			char *j = json_dumps(t, RECORDLOG_JSON_FLAGS);
			printf("# rc %d len %zu want %zu: %s\n# ours %.*s\n", rc,
			    len, want, j != NULL ? j : "?", (int)len,
			    ours != NULL ? ours : "");
			free(j);
		}
		free(ours);
		return 1;
	}
	theirs = malloc(want);
	if (theirs == NULL || json_dumpb(t, theirs, want,
	    RECORDLOG_JSON_FLAGS) != want) {
		free(theirs);
		free(ours);
		return 1;
	}
	bad = memcmp(ours, theirs, want) != 0;
	if (bad)
		printf("# ours:    %.*s\n# jansson: %.*s\n", (int)len, ours,
		    (int)want, theirs);
	free(theirs);
	free(ours);
	return bad;
}

/* test_random - COUNT random trees, half with invalid strings allowed */
static void
test_random(unsigned count)
{
	unsigned i, diff = 0, refused = 0;
	bool valid;
	json_t *t;

	for (i = 0; i < count; i++) {
		valid = true;
		t = pick(2) ? random_object(0, i % 2 == 1, &valid) :
		    random_tree(0, i % 2 == 1, &valid);
		if (!json_is_object(t) && !json_is_array(t)) {
			json_decref(t);
			continue;
		}
		diff += (unsigned)compare(t, valid, &refused);
		json_decref(t);
	}
	is_int(diff, 0, "random trees: the same bytes as json_dumpb, the same "
	    "refusals");
	ok(refused > count / 20, "random trees: invalid UTF-8 was refused "
	    "(%u times)", refused);
}

/* ulp_step - the next double from v upwards (dir > 0) or downwards */
static double
ulp_step(double v, int dir)
{
	uint64_t bits;

	if (v == 0)
		return dir > 0 ? 5e-324 : -5e-324;
	memcpy(&bits, &v, sizeof(bits));
	bits = (v > 0) == (dir > 0) ? bits + 1 : bits - 1;
	memcpy(&v, &bits, sizeof(v));
	return v;
}

/* test_millis - durations (k / 1000.0 for microseconds k), which ours
 * writes without snprintf(): the same bytes as jansson for 1,000,000
 * values of k up to 10^10 in size, with their neighbouring doubles (one
 * ulp either way: not of that form, so the general path) and -0.0 */
static void
test_millis(void)
{
	json_t *a = json_array();
	unsigned i, diff = 0, refused = 0, n = 0;
	long long k;
	double v;

	for (i = 0; i < 1000000 && a != NULL; i++) {
		switch (i % 4) {
		case 0:
			k = (long long)(rng() % 2000);
			break;
		case 1:
			k = (long long)(rng() % 2000000000ULL);
			break;
		case 2:
			k = (long long)(rng() % 20000000000ULL);
			break;
		default:
			k = (long long)(rng() % 1000000000ULL) * 1000;
			break;
		}
		if (rng() & 1)
			k = -k;
		v = (double)k / 1000.0;
		json_array_clear(a);
		json_array_append_new(a, json_real(v));
		json_array_append_new(a, json_real(ulp_step(v, 1)));
		json_array_append_new(a, json_real(ulp_step(v, -1)));
		if (i == 0)
			json_array_append_new(a, json_real(-0.0));
		diff += (unsigned)compare(a, true, &refused);
		n++;
	}
	json_decref(a);
	is_int(diff + refused, 0, "durations k / 1000 (1,000,000, |k| up to "
	    "2e10) and their neighbours: the same bytes as json_dumpb");
	(void)n;
}

/* test_caps - the text limit, the spare bytes, depth, non-containers */
static void
test_caps(void)
{
	json_t *o = json_pack("{s:s, s:[i, i]}", "a", "x\ny", "b", 1, -2);
	json_t *deep = json_array(), *cur = deep, *next;
	char *out;
	size_t len, i;
	int rc;

	rc = record_json_dump(o, 1000, 1, &out, &len);
	ok(rc == SCOPE_OK && len == 23 &&
	    memcmp(out, "{\"a\":\"x\\ny\",\"b\":[1,-2]}", 23) == 0,
	    "a small record: %.*s", (int)len, out != NULL ? out : "");
	if (out != NULL)
		out[len] = '\n';	/* the spare byte is there (ASan) */
	free(out);
	is_int(record_json_dump(o, 23, 0, &out, &len), SCOPE_OK,
	    "exactly at the limit: written");
	free(out);
	is_int(record_json_dump(o, 22, 0, &out, &len), SCOPE_ETOOBIG,
	    "one byte past the limit: SCOPE_ETOOBIG");
	ok(out == NULL && len == 0, "nothing is handed back on failure");
	for (i = 0; i < RECORD_JSON_DEPTH + 1 && cur != NULL; i++) {
		next = json_array();
		json_array_append_new(cur, next);
		cur = next;
	}
	is_int(record_json_dump(deep, 1000, 0, &out, &len), SCOPE_EINVAL,
	    "nesting past RECORD_JSON_DEPTH is refused");
	json_decref(deep);
	json_decref(o);
	o = json_object();
	json_object_setn_new_nocheck(o, "k\xc0\xaf", 3, json_true());
	is_int(record_json_dump(o, 1000, 0, &out, &len), SCOPE_EINVAL,
	    "a key that is not UTF-8 is refused");
	json_decref(o);
	o = json_string("alone");
	is_int(record_json_dump(o, 1000, 0, &out, &len), SCOPE_EINVAL,
	    "a value that is neither object nor array is refused (as "
	    "json_dumpb does)");
	json_decref(o);
}

/* test_every_place - each byte that is not copied as it is (controls,
 * '"', '\\', UTF-8 valid and not) at every place of a 64-byte plain
 * string, and every length: as json_dumpb writes it, or refused where it
 * refuses (the 16-byte scan and its tail) */
static void
test_every_place(void)
{
	static const char *const odd[] = { "\x01", "\x1f", "\"", "\\", "\n",
	    "\x7f", "\xc3\xa9", "\xe2\x82\xac", "\xff", "\x80" };
	char s[80];
	unsigned k, at, len, diff = 0, refused = 0, cases = 0;
	size_t n;
	json_t *a;

	for (k = 0; k < sizeof(odd) / sizeof(odd[0]); k++) {
		for (len = 1; len <= 64; len++) {
			for (at = 0; at < len; at++) {
				memset(s, 'a' + at % 26, len);
				n = strlen(odd[k]);
				if (at + n > len)
					continue;
				memcpy(s + at, odd[k], n);
				a = json_array();
				json_array_append_new(a,
				    json_stringn_nocheck(s, len));
				diff += (unsigned)compare(a, k < 8, &refused);
				json_decref(a);
				cases++;
			}
		}
	}
	ok(diff == 0 && cases > 20000, "%u strings with one odd byte at "
	    "every place: the same bytes as json_dumpb, the same refusals "
	    "(%u differ)", cases, diff);
}

int
main(void)
{
	const char *seed = getenv("SEED"), *count = getenv("COUNT");

	rng_state = seed != NULL ? strtoull(seed, NULL, 10) : 20261204;
	if (rng_state == 0)
		rng_state = 1;
	plan(11);
	test_random(count != NULL ? (unsigned)strtoul(count, NULL, 10) :
	    20000);
	test_every_place();
	test_millis();
	test_caps();
	return done_testing();
}
