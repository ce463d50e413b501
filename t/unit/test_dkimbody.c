/*
 * test_dkimbody.c - DKIM body hashes (lib/auth/dkimbody.c): known
 * digests, the RFC 6376 section 3.4.5 example, bare CRs, l=, bh= with
 * folding, the limits of the API, and 20,000 random hostile bodies and
 * 6,000 random texts with long words fed in random chunks against a
 * plain reading of the RFC (dkimbody_ref.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "auth/dkimbody.h"
#include "errors.h"
#include "tap.h"
#include "testutil.h"
#include "../fuzz/dkimbody_ref.h"

/* b64 - a digest of p[0..n) in base64 */
static void
b64(enum dkimbody_md md, const unsigned char *p, size_t n, char *out)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dl = 0;

	EVP_Digest(p, n, d, &dl, md == DKIMBODY_SHA1 ? EVP_sha1() :
	    EVP_sha256(), NULL);
	EVP_EncodeBlock((unsigned char *)out, d, (int)dl);
}

/* hash_body - body in chunks of step bytes (0: one piece); true when the
 * hash matches bh, *clen the canonical length */
static bool
hash_body(const char *body, size_t n, size_t step, enum dkimbody_canon c,
    enum dkimbody_md md, int64_t limit, const char *bh, uint64_t *clen)
{
	struct dkimbody *b = dkimbody_new();
	size_t off, k;
	int idx;
	bool r;

	if (b == NULL)
		return false;
	idx = dkimbody_want(b, c, md, limit);
	for (off = 0; off < n; off += k) {
		k = step == 0 || n - off < step ? n - off : step;
		dkimbody_update(b, (const unsigned char *)body + off, k);
	}
	dkimbody_final(b);
	r = dkimbody_match(b, idx, bh);
	if (clen != NULL)
		*clen = dkimbody_canon_len(b, c);
	dkimbody_free(b);
	return r;
}

/* expect - the body canonicalizes to want (each chunk size 0..5) */
static void
expect(const char *name, const char *body, enum dkimbody_canon c,
    const char *want)
{
	char bh[100];
	uint64_t len = 0;
	size_t step;
	bool all = true;

	b64(DKIMBODY_SHA256, (const unsigned char *)want, strlen(want), bh);
	for (step = 0; step <= 5; step++)
		all = all && hash_body(body, strlen(body), step, c,
		    DKIMBODY_SHA256, -1, bh, &len) && len == strlen(want);
	ok(all, "%s", name);
}

static void
test_known(void)
{
	ok(hash_body("", 0, 0, DKIMBODY_SIMPLE, DKIMBODY_SHA256, -1,
	    "frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=", NULL),
	    "empty body, simple, sha256 (CRLF)");
	ok(hash_body("", 0, 0, DKIMBODY_RELAXED, DKIMBODY_SHA256, -1,
	    "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", NULL),
	    "empty body, relaxed, sha256 (nothing)");
	ok(hash_body("", 0, 0, DKIMBODY_SIMPLE, DKIMBODY_SHA1, -1,
	    "uoq1oCgLlTqpdDX/iUbLy7J1Wic=", NULL),
	    "empty body, simple, sha1");
	ok(hash_body("\r\n\r\n", 4, 0, DKIMBODY_RELAXED, DKIMBODY_SHA1, -1,
	    "2jmj7l5rSw0yVb/vlWAYkK/YBwk=", NULL),
	    "empty lines only, relaxed, sha1 (nothing)");
	expect("RFC 6376 3.4.5 example, relaxed",
	    " C \r\nD \t E\r\n\r\n\r\n", DKIMBODY_RELAXED, " C\r\nD E\r\n");
	expect("RFC 6376 3.4.5 example, simple",
	    " C \r\nD \t E\r\n\r\n\r\n", DKIMBODY_SIMPLE,
	    " C \r\nD \t E\r\n");
	expect("bare CR is line content, relaxed", "a\rb \r\n\r\n",
	    DKIMBODY_RELAXED, "a\rb\r\n");
	expect("bare CR is line content, simple", "a\rb \r\n\r\n",
	    DKIMBODY_SIMPLE, "a\rb \r\n");
	expect("CR at the very end, simple", "x\r\n\r", DKIMBODY_SIMPLE,
	    "x\r\n\r\r\n");
	expect("CR at the very end, relaxed", "x \r", DKIMBODY_RELAXED,
	    "x \r\r\n");
	expect("no final CRLF: added, simple", "abc", DKIMBODY_SIMPLE,
	    "abc\r\n");
	expect("no final CRLF: added, white space dropped, relaxed",
	    "abc \t", DKIMBODY_RELAXED, "abc\r\n");
	expect("white-space-only lines inside are kept empty, relaxed",
	    "a\r\n \t \r\n\r\nb\r\n \r\n", DKIMBODY_RELAXED,
	    "a\r\n\r\n\r\nb\r\n");
	expect("white space at a line's start becomes one SP, relaxed",
	    "\t\t a\r\n", DKIMBODY_RELAXED, " a\r\n");
	expect("bare LF is content", "a\nb\r\n\n", DKIMBODY_RELAXED,
	    "a\nb\r\n\n\r\n");
}

static void
test_limits(void)
{
	char bh[100], folded[110];
	uint64_t len = 0;
	struct dkimbody *b;
	int i, a, c;

	b64(DKIMBODY_SHA256, (const unsigned char *)"hello", 5, bh);
	ok(hash_body("hello  world\r\n", 14, 3, DKIMBODY_RELAXED,
	    DKIMBODY_SHA256, 5, bh, &len) && len == 13,
	    "l=5 hashes 5 canonical bytes; the body is 13");
	b64(DKIMBODY_SHA256, (const unsigned char *)"", 0, bh);
	ok(hash_body("x\r\n", 3, 0, DKIMBODY_SIMPLE, DKIMBODY_SHA256, 0, bh,
	    NULL), "l=0 hashes nothing");
	b64(DKIMBODY_SHA256, (const unsigned char *)"x\r\n", 3, bh);
	ok(hash_body("x\r\n", 3, 0, DKIMBODY_SIMPLE, DKIMBODY_SHA256,
	    1000000, bh, &len) && len == 3,
	    "l= beyond the body hashes all of it (the caller checks l=)");
	ok(hash_body("x\r\n", 3, 1, DKIMBODY_SIMPLE, DKIMBODY_SHA256, -1,
	    "zlEP\r\n\t+91m jIv9NqiSt/ArUtXKp32rC6vYY=LgMdGkdl4=", NULL) ==
	    false, "a different bh= does not match");
	ok(hash_body("x\r\n", 3, 1, DKIMBODY_SIMPLE, DKIMBODY_SHA256, -1,
	    "", NULL) == false, "an empty bh= does not match");
	/* folding white space inside bh= is ignored */
	b64(DKIMBODY_SHA256, (const unsigned char *)"x\r\n", 3, bh);
	snprintf(folded, sizeof(folded), "%.10s\r\n\t%s ", bh, bh + 10);
	ok(hash_body("x\r\n", 3, 1, DKIMBODY_SIMPLE, DKIMBODY_SHA256, -1,
	    folded, NULL), "bh= folded with CRLF and HTAB still matches");
	bh[strlen(bh) - 1] = '\0';
	ok(!hash_body("x\r\n", 3, 1, DKIMBODY_SIMPLE, DKIMBODY_SHA256, -1,
	    bh, NULL), "bh= one character short does not match");

	b = dkimbody_new();
	a = dkimbody_want(b, DKIMBODY_RELAXED, DKIMBODY_SHA256, -1);
	c = dkimbody_want(b, DKIMBODY_RELAXED, DKIMBODY_SHA256, -7);
	ok(a >= 0 && a == c, "the same request shares one hash");
	ok(dkimbody_want(b, DKIMBODY_SIMPLE, DKIMBODY_SHA256, -1) != a,
	    "another canonicalization gets its own");
	for (i = 0; i < DKIMBODY_HASHES_MAX + 5; i++)
		c = dkimbody_want(b, DKIMBODY_SIMPLE, DKIMBODY_SHA1, i);
	ok(c == -1, "past %d hashes: refused", DKIMBODY_HASHES_MAX);
	ok(!dkimbody_match(b, a, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="),
	    "no match before the end of the body");
	dkimbody_update(b, (const unsigned char *)"z", 1);
	ok(dkimbody_want(b, DKIMBODY_RELAXED, DKIMBODY_SHA1, -1) == -1,
	    "no new hash once the body has begun");
	dkimbody_final(b);
	ok(!dkimbody_match(b, 999, "x") && !dkimbody_match(b, -1, "x"),
	    "an unknown hash never matches");
	dkimbody_free(b);
	dkimbody_free(NULL);
}

/* test_blank_run - 100,000 empty lines between two lines, in 7-byte
 * chunks: held back, then written when content follows */
static void
test_blank_run(void)
{
	size_t n = 2 * 100000 + 6, i;
	char *body = malloc(n + 1), *want = malloc(n + 1), bh[100];

	if (body == NULL || want == NULL)
		abort();
	memcpy(body, "a\r\n", 3);
	for (i = 0; i < 100000; i++)
		memcpy(body + 3 + 2 * i, "\r\n", 2);
	memcpy(body + n - 3, "b\r\n", 3);
	b64(DKIMBODY_SHA256, (unsigned char *)body, n, bh);
	ok(hash_body(body, n, 7, DKIMBODY_RELAXED, DKIMBODY_SHA256, -1, bh,
	    NULL) && hash_body(body, n, 7, DKIMBODY_SIMPLE, DKIMBODY_SHA256,
	    -1, bh, NULL), "100,000 empty lines inside the body are kept");
	b64(DKIMBODY_SHA256, (unsigned char *)"a\r\n", 3, bh);
	ok(hash_body(body, n - 3, 7, DKIMBODY_RELAXED, DKIMBODY_SHA256, -1,
	    bh, NULL) && hash_body(body, n - 3, 7, DKIMBODY_SIMPLE,
	    DKIMBODY_SHA256, -1, bh, NULL),
	    "100,000 empty lines at the end are dropped");
	free(body);
	free(want);
}

/* random_body - bytes drawn mostly from the ones that matter */
static size_t
random_body(uint64_t *rng, unsigned char *body, size_t max)
{
	static const unsigned char pick[] = "\r\n\r\n\r\n  \t\tab \r";
	size_t n = (size_t)(test_rng(rng) % max), i;

	for (i = 0; i < n; i++) {
		uint64_t r = test_rng(rng);
		body[i] = r % 8 == 0 ? (unsigned char)(r >> 8) :
		    pick[(r >> 8) % (sizeof(pick) - 1)];
	}
	return n;
}

/* one_case - body streamed in chunks of step bytes (0: whole) hashes,
 * cut at limit (-1: none), as the reference reading does; true if so */
static bool
one_case(const unsigned char *body, size_t n, unsigned c, unsigned md,
    int64_t limit_pick, uint64_t *rng, size_t step)
{
	unsigned char *ref;
	uint64_t clen;
	size_t rlen;
	int64_t limit;
	char bh[100];
	bool good;

	ref = dkimbody_ref(body, n, c == DKIMBODY_RELAXED, &rlen);
	if (ref == NULL)
		abort();
	limit = limit_pick < 0 ? -1 : (int64_t)(test_rng(rng) % (rlen + 5));
	b64(md, ref, limit >= 0 && (size_t)limit < rlen ? (size_t)limit :
	    rlen, bh);
	good = hash_body((const char *)body, n, step, c, md, limit, bh,
	    &clen) && clen == rlen;
	free(ref);
	return good;
}

/* test_random - streamed hashes equal the reference's, every chunking,
 * both canonicalizations and digests, limits inside and beyond */
static void
test_random(void)
{
	unsigned char body[400];
	uint64_t rng = 20261205;
	size_t n, step;
	unsigned bad = 0, cases, c, md;
	int64_t limit;

	for (cases = 0; cases < 20000; cases++) {
		n = random_body(&rng, body, sizeof(body));
		c = cases % 2;
		md = (cases / 2) % 2;
		limit = cases % 3 == 0 ? -1 : 0;
		step = test_rng(&rng) % 10;	/* 0: the whole body */
		if (!one_case(body, n, c, md, limit, &rng, step) &&
		    bad++ < 5) {
			char msg[80];

			snprintf(msg, sizeof(msg), "case %u: n=%zu canon=%u "
			    "step=%zu", cases, n, c, step);
			diag(msg);
		}
	}
	ok(bad == 0, "20,000 random bodies: streamed = reference "
	    "(%u differ)", bad);
}

/* random_text - words of 1 to 40 bytes (any byte but SP, HTAB, CR)
 * between the separators relaxed treats apart: single and double
 * spaces, tabs, line ends, bare CRs, spaces before a line end */
static size_t
random_text(uint64_t *rng, unsigned char *body, size_t max)
{
	static const char *sep[] = { " ", " ", " ", "  ", "\t", " \t",
	    "\r\n", " \r\n", "\r", "\r\n\r\n", "\n" };
	size_t n = 0, w, i;
	const char *x;
	unsigned char c;

	while (n + 48 < max) {
		w = 1 + test_rng(rng) % 40;
		for (i = 0; i < w; i++) {
			do
				c = (unsigned char)test_rng(rng);
			while (c == ' ' || c == '\t' || c == '\r');
			body[n++] = c;
		}
		x = sep[test_rng(rng) % (sizeof(sep) / sizeof(sep[0]))];
		memcpy(body + n, x, strlen(x));
		n += strlen(x);
		if (test_rng(rng) % 64 == 0)
			break;
	}
	return n;
}

/* test_random_text - long runs and single spaces (the 16-byte scan and
 * the words-with-spaces runs), in chunks of 1 to 100 bytes or whole */
static void
test_random_text(void)
{
	unsigned char body[4096];
	uint64_t rng = 20261206;
	size_t n, step;
	unsigned bad = 0, cases;

	for (cases = 0; cases < 6000; cases++) {
		n = random_text(&rng, body, sizeof(body));
		step = test_rng(&rng) % 101;	/* 0: the whole body */
		if (!one_case(body, n, cases % 2, DKIMBODY_SHA256, -1, &rng,
		    step))
			bad++;
	}
	ok(bad == 0, "6,000 random texts with long words: streamed = "
	    "reference (%u differ)", bad);
}

int
main(void)
{
	plan(33);
	ok(dkimbody_init() == SCOPE_OK && dkimbody_init() == SCOPE_OK,
	    "the digests are fetched once, before any body (and again is a "
	    "no-op)");
	test_known();
	test_limits();
	test_blank_run();
	test_random();
	test_random_text();
	return done_testing();
}
