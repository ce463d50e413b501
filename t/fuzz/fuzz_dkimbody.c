/*
 * fuzz_dkimbody.c - fuzz target: the streamed DKIM body hashes
 * (lib/auth/dkimbody.c) of any body, cut into chunks of any size, equal
 * the digests of a plain reading of RFC 6376 (dkimbody_ref.h), in both
 * canonicalizations, with and without an l= limit; the canonical length
 * agrees too. Input: a chunk size byte (0: one piece), a limit byte
 * (255: no limit), then the body.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "auth/dkimbody.h"
#include "dkimbody_ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_dkimbody_one - one canonicalization; aborts on a difference */
static void
fuzz_dkimbody_one(const uint8_t *body, size_t n, size_t step,
    int64_t limit, enum dkimbody_canon c)
{
	unsigned char d[EVP_MAX_MD_SIZE], *ref;
	char bh[4 * EVP_MAX_MD_SIZE / 3 + 4];
	const unsigned char *got;
	struct dkimbody *b = dkimbody_new();
	size_t rlen, off, k, cut;
	unsigned int dl = 0;
	int idx;

	ref = dkimbody_ref(body, n, c == DKIMBODY_RELAXED, &rlen);
	if (b == NULL || ref == NULL)
		abort();
	idx = dkimbody_want(b, c, DKIMBODY_SHA256, limit);
	if (idx < 0)
		abort();
	for (off = 0; off < n; off += k) {
		k = step == 0 || n - off < step ? n - off : step;
		dkimbody_update(b, body + off, k);
	}
	dkimbody_final(b);
	cut = limit >= 0 && (uint64_t)limit < rlen ? (size_t)limit : rlen;
	if (EVP_Digest(ref, cut, d, &dl, EVP_sha256(), NULL) != 1)
		abort();
	EVP_EncodeBlock((unsigned char *)bh, d, (int)dl);
	if (dkimbody_digest(b, idx, &got) != dl || memcmp(got, d, dl) != 0 ||
	    !dkimbody_match(b, idx, bh) ||
	    dkimbody_canon_len(b, c) != (uint64_t)rlen)
		abort();
	dkimbody_free(b);
	free(ref);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t step;
	int64_t limit;

	if (size < 2)
		return 0;
	step = data[0] % 17;
	limit = data[1] == 255 ? -1 : (int64_t)data[1] * 3;
	fuzz_dkimbody_one(data + 2, size - 2, step, limit, DKIMBODY_SIMPLE);
	fuzz_dkimbody_one(data + 2, size - 2, step, limit, DKIMBODY_RELAXED);
	return 0;
}
