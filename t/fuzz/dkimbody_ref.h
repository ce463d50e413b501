/*
 * dkimbody_ref.h - a second, plain reading of RFC 6376 body
 * canonicalization (sections 3.4.3 and 3.4.4) for checking
 * lib/auth/dkimbody.c: the whole body at once, cut into lines at CRLF
 * (a last line without CRLF is a line too), each line rewritten, the
 * empty lines at the end dropped. Written for clarity, not speed; shared
 * by unit/test_dkimbody and fuzz_dkimbody. The caller frees the result.
 */
#ifndef SMTPSCOPE_DKIMBODY_REF_H
#define SMTPSCOPE_DKIMBODY_REF_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* dkimbody_ref_line - one relaxed line (no CRLF) into out: runs of SP
 * and HTAB become one SP, those at the end go; returns its length */
static inline size_t
dkimbody_ref_line(const unsigned char *p, size_t n, unsigned char *out)
{
	size_t i, k = 0;
	bool ws = false;

	for (i = 0; i < n; i++) {
		if (p[i] == ' ' || p[i] == '\t') {
			ws = true;
			continue;
		}
		if (ws)
			out[k++] = ' ';
		ws = false;
		out[k++] = p[i];
	}
	return k;
}

/* dkimbody_ref - the canonical form of body[0..n) (relaxed or simple);
 * *outlen gets its length; NULL when out of memory */
static inline unsigned char *
dkimbody_ref(const unsigned char *body, size_t n, bool relaxed,
    size_t *outlen)
{
	unsigned char *out = malloc(2 * n + 3);
	size_t start = 0, end, k = 0, keep = 0, len;

	if (out == NULL)
		return NULL;
	if (!relaxed) {
		len = n;
		while (len >= 2 && body[len - 2] == '\r' && body[len - 1] == '\n')
			len -= 2;
		memcpy(out, body, len);
		memcpy(out + len, "\r\n", 2);
		*outlen = len + 2;
		return out;
	}
	/* relaxed: keep = the length up to the end of the last non-empty
	 * line (with its CRLF) */
	while (start < n) {
		for (end = start; end < n; end++)
			if (body[end] == '\r' && end + 1 < n &&
			    body[end + 1] == '\n')
				break;
		len = dkimbody_ref_line(body + start, end - start, out + k);
		k += len;
		out[k++] = '\r';
		out[k++] = '\n';
		if (len > 0)
			keep = k;
		start = end + 2;	/* past the CRLF (or past the end) */
	}
	*outlen = keep;
	return out;
}

#endif
