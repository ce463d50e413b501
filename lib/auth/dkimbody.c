/*
 * dkimbody.c - DKIM body hashes computed as the body streams past
 * (RFC 6376 section 3.4.3 simple, 3.4.4 relaxed, 3.5 l=, 3.7 bh=).
 *
 * Why not libopendkim's: its body canonicalization goes byte by byte
 * through dynamic strings (0.9 M instructions per message of the 2.7 M
 * smtpscope spends in all, docs/performance.md), and its relaxed form
 * drops a CR that no LF follows, which RFC 6376 keeps as line content
 * (docs/dkim-conformance.md). Here a chunk is scanned once per
 * canonicalization in use, runs of ordinary bytes (for relaxed, words
 * with the single spaces between them) go to the digests whole, and each
 * digest is OpenSSL's, fetched once per process.
 *
 * Both canonicalizations hold back what may turn out to be empty lines
 * at the end of the body: held_pairs CRLFs, then possibly a CR that
 * ended the last chunk (held_cr: the next byte decides whether it ends a
 * line). They are written when content follows, and dropped at the end.
 * simple: bytes pass unchanged; at the end one CRLF stands for the
 *         trailing empty lines, or is added to a body without one (an
 *         empty body is CRLF).
 * relaxed: a run of SP and HTAB becomes one SP, written only when content
 *         follows on the same line (white space at a line's end goes); at
 *         the end one CRLF follows the last non-empty line, and a body
 *         with no content at all is empty (RFC 6376 erratum 1384).
 * A line that the body's end cuts short counts as a line for both (the
 * CRLF is added, relaxed drops its trailing white space), as Mail::DKIM
 * does.
 *
 * Ownership: dkimbody_new allocates one block with every hash state;
 * the digest contexts are freed by dkimbody_final or dkimbody_free.
 */
#include <ctype.h>
#include <stddef.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "auth/dkimbody.h"
#include "errors.h"

#define DKIMBODY_OUT	4096	/* relaxed output gathered per digest call */
#define DKIMBODY_PAIRS	32	/* CRLFs written per call */

struct dkimbody_hash {
	enum dkimbody_canon canon;
	enum dkimbody_md md;
	int64_t limit;		/* < 0: none */
	uint64_t fed;		/* bytes hashed */
	EVP_MD_CTX *ctx;	/* NULL once finished or failed */
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int dlen;	/* 0: no digest */
};

/* one canonicalization's state */
struct dkimbody_stream {
	bool used;
	uint64_t held_pairs;	/* CRLFs held back */
	bool held_cr;		/* a CR ended the last chunk */
	bool wsp;		/* relaxed: white space not yet written */
	bool content;		/* relaxed: a non-empty line was written */
	uint64_t len;		/* canonical bytes so far */
	size_t outlen;		/* relaxed: bytes gathered in out */
	unsigned char out[DKIMBODY_OUT];
};

struct dkimbody {
	struct dkimbody_hash hash[DKIMBODY_HASHES_MAX];
	unsigned nhash;
	struct dkimbody_stream st[2];	/* by enum dkimbody_canon */
	bool started;
	bool done;
};

static const unsigned char dkimbody_crlfs[2 * DKIMBODY_PAIRS + 1] =
    "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n"
    "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n";

/* byte classes for relaxed: 0 content, 1 white space, 2 CR */
static const unsigned char dkimbody_class[256] = {
	['\t'] = 1, [' '] = 1, ['\r'] = 2
};

static pthread_once_t dkimbody_once = PTHREAD_ONCE_INIT;
static EVP_MD *dkimbody_mds[2];	/* by enum dkimbody_md */

/* dkimbody_fetch - the digests, fetched once (OpenSSL 3 would look them
 * up on every init given EVP_sha256()) */
static void
dkimbody_fetch(void)
{
	dkimbody_mds[DKIMBODY_SHA1] = EVP_MD_fetch(NULL, "SHA1", NULL);
	dkimbody_mds[DKIMBODY_SHA256] = EVP_MD_fetch(NULL, "SHA256", NULL);
}

/* dkimbody_init - fetch the digests now (dkimverify_new, at start-up),
 * not in the first message: its sender would wait for OpenSSL's
 * provider look-up; 0 or SCOPE_ENOMEM */
int
dkimbody_init(void)
{
	if (pthread_once(&dkimbody_once, dkimbody_fetch) != 0 ||
	    dkimbody_mds[DKIMBODY_SHA1] == NULL ||
	    dkimbody_mds[DKIMBODY_SHA256] == NULL)
		return SCOPE_ENOMEM;
	return SCOPE_OK;
}

/* dkimbody_new - an empty set of hashes; only the hashes in use
 * (hash[0..nhash)) and the streams' state before their output buffers are
 * set: zeroing all of the 15 KB block was a tenth of the cost of
 * hashing a small body */
struct dkimbody *
dkimbody_new(void)
{
	struct dkimbody *b;
	unsigned i;

	if (pthread_once(&dkimbody_once, dkimbody_fetch) != 0)
		return NULL;
	if ((b = malloc(sizeof(*b))) == NULL)
		return NULL;
	b->nhash = 0;
	b->started = false;
	b->done = false;
	for (i = 0; i < sizeof(b->st) / sizeof(b->st[0]); i++)
		memset(&b->st[i], 0, offsetof(struct dkimbody_stream, out));
	return b;
}

/* dkimbody_want - a hash of one canonicalization, digest and limit */
int
dkimbody_want(struct dkimbody *b, enum dkimbody_canon canon,
    enum dkimbody_md md, int64_t limit)
{
	struct dkimbody_hash *h;
	unsigned i;

	if (b->started || (canon != DKIMBODY_SIMPLE &&
	    canon != DKIMBODY_RELAXED) || (md != DKIMBODY_SHA1 &&
	    md != DKIMBODY_SHA256) || dkimbody_mds[md] == NULL)
		return -1;
	if (limit < 0)
		limit = -1;
	for (i = 0; i < b->nhash; i++)
		if (b->hash[i].canon == canon && b->hash[i].md == md &&
		    b->hash[i].limit == limit)
			return (int)i;
	if (b->nhash == DKIMBODY_HASHES_MAX)
		return -1;
	h = &b->hash[b->nhash];
	memset(h, 0, sizeof(*h));
	h->ctx = EVP_MD_CTX_new();
	if (h->ctx == NULL)
		return -1;
	if (EVP_DigestInit_ex2(h->ctx, dkimbody_mds[md], NULL) != 1) {
		EVP_MD_CTX_free(h->ctx);
		h->ctx = NULL;
		return -1;
	}
	h->canon = canon;
	h->md = md;
	h->limit = limit;
	b->st[canon].used = true;
	return (int)b->nhash++;
}

/* dkimbody_emit - canonical bytes of one canonicalization to its hashes,
 * each cut at its limit */
static void
dkimbody_emit(struct dkimbody *b, enum dkimbody_canon canon,
    const unsigned char *p, size_t n)
{
	struct dkimbody_hash *h;
	uint64_t room;
	size_t take;
	unsigned i;

	if (n == 0)
		return;
	b->st[canon].len += n;
	for (i = 0; i < b->nhash; i++) {
		h = &b->hash[i];
		if (h->canon != canon || h->ctx == NULL)
			continue;
		take = n;
		if (h->limit >= 0) {
			room = (uint64_t)h->limit - h->fed;
			if (room == 0)
				continue;
			if (room < take)
				take = (size_t)room;
		}
		if (EVP_DigestUpdate(h->ctx, p, take) != 1) {
			EVP_MD_CTX_free(h->ctx);	/* no digest: no match */
			h->ctx = NULL;
		}
		h->fed += take;
	}
}

/* dkimbody_put - relaxed output, gathered before it is hashed */
static void
dkimbody_put(struct dkimbody *b, const unsigned char *p, size_t n)
{
	struct dkimbody_stream *st = &b->st[DKIMBODY_RELAXED];

	if (st->outlen + n > sizeof(st->out)) {
		dkimbody_emit(b, DKIMBODY_RELAXED, st->out, st->outlen);
		st->outlen = 0;
	}
	if (n >= sizeof(st->out)) {
		dkimbody_emit(b, DKIMBODY_RELAXED, p, n);
		return;
	}
	memcpy(st->out + st->outlen, p, n);
	st->outlen += n;
}

/* dkimbody_pairs - the held-back CRLFs, written now that content follows */
static void
dkimbody_pairs(struct dkimbody *b, enum dkimbody_canon canon)
{
	struct dkimbody_stream *st = &b->st[canon];
	size_t k;

	while (st->held_pairs > 0) {
		k = st->held_pairs < DKIMBODY_PAIRS ? (size_t)st->held_pairs :
		    DKIMBODY_PAIRS;
		if (canon == DKIMBODY_RELAXED)
			dkimbody_put(b, dkimbody_crlfs, 2 * k);
		else
			dkimbody_emit(b, canon, dkimbody_crlfs, 2 * k);
		st->held_pairs -= k;
	}
}

/* dkimbody_simple - one chunk, simple: all but the trailing CRLFs (and a
 * CR that ends the chunk) passes at once */
static void
dkimbody_simple(struct dkimbody *b, const unsigned char *p, size_t n)
{
	struct dkimbody_stream *st = &b->st[DKIMBODY_SIMPLE];
	size_t i, pairs = 0;
	bool cr_end = false;

	if (st->held_cr) {
		st->held_cr = false;
		if (p[0] == '\n') {
			st->held_pairs++;
			p++;
			n--;
		} else {
			dkimbody_pairs(b, DKIMBODY_SIMPLE);
			dkimbody_emit(b, DKIMBODY_SIMPLE,
			    (const unsigned char *)"\r", 1);
		}
	}
	if (n == 0)
		return;
	i = n;
	if (p[i - 1] == '\r') {
		cr_end = true;
		i--;
	}
	while (i >= 2 && p[i - 2] == '\r' && p[i - 1] == '\n') {
		i -= 2;
		pairs++;
	}
	if (i > 0) {
		dkimbody_pairs(b, DKIMBODY_SIMPLE);
		dkimbody_emit(b, DKIMBODY_SIMPLE, p, i);
	}
	st->held_pairs += pairs;
	st->held_cr = cr_end;
}

/* dkimbody_relaxed_content - before content: the held lines, the space */
static void
dkimbody_relaxed_content(struct dkimbody *b)
{
	struct dkimbody_stream *st = &b->st[DKIMBODY_RELAXED];

	dkimbody_pairs(b, DKIMBODY_RELAXED);
	if (st->wsp) {
		dkimbody_put(b, (const unsigned char *)" ", 1);
		st->wsp = false;
	}
	st->content = true;
}

/* dkimbody_span - the first byte at or after p that is not content for
 * relaxed (SP, HTAB, CR), or end; 16 bytes a step where SSE2 is there
 * (every x86-64), which is what makes base64 lines cheap */
static const unsigned char *
dkimbody_span(const unsigned char *p, const unsigned char *end)
{
#ifdef __SSE2__
	const __m128i sp = _mm_set1_epi8(' ');
	const __m128i ht = _mm_set1_epi8('\t');
	const __m128i cr = _mm_set1_epi8('\r');
	__m128i v, hit;
	int bits;

	while (end - p >= 16) {
		v = _mm_loadu_si128((const __m128i *)(const void *)p);
		hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, sp),
		    _mm_cmpeq_epi8(v, ht)), _mm_cmpeq_epi8(v, cr));
		bits = _mm_movemask_epi8(hit);
		if (bits != 0)
			return p + __builtin_ctz((unsigned)bits);
		p += 16;
	}
#endif
	while (p < end && dkimbody_class[*p] == 0)
		p++;
	return p;
}

/* dkimbody_run - the end of a run that relaxed leaves as it is: content
 * bytes, and single SPs with content after them in this chunk (a lone
 * SP between words is its own canonical form); the byte at p is content
 * or end */
static const unsigned char *
dkimbody_run(const unsigned char *p, const unsigned char *end)
{
	for (;;) {
		p = dkimbody_span(p, end);
		if (end - p < 2 || p[0] != ' ' || dkimbody_class[p[1]] != 0)
			return p;
		p += 2;
	}
}

/* dkimbody_relaxed - one chunk, relaxed: runs of content bytes are
 * copied whole, white space and line ends decided byte by byte */
static void
dkimbody_relaxed(struct dkimbody *b, const unsigned char *p, size_t n)
{
	struct dkimbody_stream *st = &b->st[DKIMBODY_RELAXED];
	const unsigned char *end = p + n, *q;

	while (p < end) {
		if (st->held_cr) {
			st->held_cr = false;
			if (*p == '\n') {	/* a line ends */
				st->wsp = false;
				st->held_pairs++;
				p++;
				continue;
			}
			dkimbody_relaxed_content(b);	/* a bare CR */
			dkimbody_put(b, (const unsigned char *)"\r", 1);
		}
		switch (dkimbody_class[*p]) {
		case 1:
			st->wsp = true;
			p++;
			break;
		case 2:
			st->held_cr = true;
			p++;
			break;
		default:
			dkimbody_relaxed_content(b);
			q = dkimbody_run(p + 1, end);
			dkimbody_put(b, p, (size_t)(q - p));
			p = q;
			break;
		}
	}
}

/* dkimbody_update - the next body bytes, to each canonicalization used */
void
dkimbody_update(struct dkimbody *b, const unsigned char *buf, size_t len)
{
	if (b->done || len == 0)
		return;
	b->started = true;
	if (b->st[DKIMBODY_SIMPLE].used)
		dkimbody_simple(b, buf, len);
	if (b->st[DKIMBODY_RELAXED].used)
		dkimbody_relaxed(b, buf, len);
}

/* dkimbody_close - the end of the body for each canonicalization */
static void
dkimbody_close(struct dkimbody *b)
{
	struct dkimbody_stream *st = &b->st[DKIMBODY_SIMPLE];
	const unsigned char *crlf = (const unsigned char *)"\r\n";

	if (st->used) {
		if (st->held_cr) {
			dkimbody_pairs(b, DKIMBODY_SIMPLE);
			dkimbody_emit(b, DKIMBODY_SIMPLE, crlf, 1);
		}
		dkimbody_emit(b, DKIMBODY_SIMPLE, crlf, 2);
	}
	st = &b->st[DKIMBODY_RELAXED];
	if (st->used) {
		if (st->held_cr) {
			dkimbody_relaxed_content(b);
			dkimbody_put(b, crlf, 1);
		}
		if (st->content)
			dkimbody_put(b, crlf, 2);
		dkimbody_emit(b, DKIMBODY_RELAXED, st->out, st->outlen);
		st->outlen = 0;
	}
}

/* dkimbody_final - finish every hash */
void
dkimbody_final(struct dkimbody *b)
{
	struct dkimbody_hash *h;
	unsigned i;

	if (b->done)
		return;
	b->started = true;
	dkimbody_close(b);
	b->done = true;
	for (i = 0; i < b->nhash; i++) {
		h = &b->hash[i];
		if (h->ctx == NULL)
			continue;
		if (EVP_DigestFinal_ex(h->ctx, h->digest, &h->dlen) != 1)
			h->dlen = 0;
		EVP_MD_CTX_free(h->ctx);
		h->ctx = NULL;
	}
}

/* dkimbody_match - the digest in base64 against bh= */
bool
dkimbody_match(const struct dkimbody *b, int idx, const char *bh)
{
	unsigned char enc[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
	const struct dkimbody_hash *h;
	size_t i = 0;

	if (!b->done || idx < 0 || (unsigned)idx >= b->nhash || bh == NULL)
		return false;
	h = &b->hash[idx];
	if (h->dlen == 0)
		return false;
	(void)EVP_EncodeBlock(enc, h->digest, (int)h->dlen);
	for (; *bh != '\0'; bh++) {
		if (isspace((unsigned char)*bh))
			continue;
		if (enc[i] == '\0' || enc[i] != (unsigned char)*bh)
			return false;
		i++;
	}
	return enc[i] == '\0';
}

/* dkimbody_canon_len - the whole canonicalized body's length */
uint64_t
dkimbody_canon_len(const struct dkimbody *b, enum dkimbody_canon canon)
{
	return b->st[canon == DKIMBODY_RELAXED].len;
}

/* dkimbody_digest - the raw digest of hash idx */
size_t
dkimbody_digest(const struct dkimbody *b, int idx, const unsigned char **out)
{
	if (!b->done || idx < 0 || (unsigned)idx >= b->nhash) {
		*out = NULL;
		return 0;
	}
	*out = b->hash[idx].digest;
	return b->hash[idx].dlen;
}

/* dkimbody_free - release the digest contexts and the block */
void
dkimbody_free(struct dkimbody *b)
{
	unsigned i;

	if (b == NULL)
		return;
	for (i = 0; i < b->nhash; i++)
		EVP_MD_CTX_free(b->hash[i].ctx);
	free(b);
}
