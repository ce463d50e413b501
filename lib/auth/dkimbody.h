/*
 * dkimbody.h - DKIM body hashes (RFC 6376 sections 3.4.3, 3.4.4, 3.5 l=,
 * 3.7) computed as the body streams past, outside libopendkim.
 *
 * A struct dkimbody belongs to one message. Before the first byte the
 * caller asks for the hashes it needs (dkimbody_want: a canonicalization,
 * a digest and an optional l= limit); requests that are the same share
 * one hash. Body bytes go in as they come (dkimbody_update, any chunk
 * sizes, CRLF line ends expected, a bare CR or LF is line content);
 * dkimbody_final ends the body, after which dkimbody_match compares a
 * hash with a signature's bh= and dkimbody_canon_len says how long the
 * canonicalized body was (for l=).
 */
#ifndef SMTPSCOPE_AUTH_DKIMBODY_H
#define SMTPSCOPE_AUTH_DKIMBODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DKIMBODY_HASHES_MAX	64	/* distinct hashes per message */

enum dkimbody_canon {
	DKIMBODY_SIMPLE = 0,
	DKIMBODY_RELAXED = 1
};

enum dkimbody_md {
	DKIMBODY_SHA1 = 0,
	DKIMBODY_SHA256 = 1
};

struct dkimbody;

/* dkimbody_init - the digests fetched from OpenSSL once, before the
 * first message (also done by the first dkimbody_new); 0 or SCOPE_ENOMEM */
int dkimbody_init(void);
/* dkimbody_new - an empty set of hashes; NULL when out of memory */
struct dkimbody *dkimbody_new(void);

/* dkimbody_want - the index of a hash of the canonicalized body, cut at
 * limit bytes (limit < 0: the whole body); -1 when out of memory or past
 * DKIMBODY_HASHES_MAX, or after the first body byte */
int dkimbody_want(struct dkimbody *b, enum dkimbody_canon canon,
    enum dkimbody_md md, int64_t limit);

/* dkimbody_update - the next body bytes */
void dkimbody_update(struct dkimbody *b, const unsigned char *buf,
    size_t len);

/* dkimbody_final - the end of the body: every hash is finished */
void dkimbody_final(struct dkimbody *b);

/* dkimbody_match - true when hash idx, base64 encoded, equals bh (white
 * space in bh ignored, as the tag's folding allows); false before
 * dkimbody_final or when the digest failed */
bool dkimbody_match(const struct dkimbody *b, int idx, const char *bh);

/* dkimbody_canon_len - bytes of the whole canonicalized body (after
 * dkimbody_final), whatever the limits */
uint64_t dkimbody_canon_len(const struct dkimbody *b,
    enum dkimbody_canon canon);

/* dkimbody_digest - hash idx's raw digest and its length (0 if none) */
size_t dkimbody_digest(const struct dkimbody *b, int idx,
    const unsigned char **out);

/* dkimbody_free - release everything */
void dkimbody_free(struct dkimbody *b);

#endif
