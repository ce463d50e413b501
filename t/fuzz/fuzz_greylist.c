/*
 * fuzz_greylist.c - fuzz target: every greylist decoder and the key
 * builders on hostile bytes, and the atomic step on hostile stored
 * values. Decoders never crash, an accepted value encodes back to
 * itself, and a check over garbage entries still gives a bounded result.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "greylist/glstore.h"
#include "greylist/greylist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_codecs - decode, re-encode, compare */
static void
fuzz_codecs(const char *in, size_t len)
{
	char out[GLSTORE_VAL_MAX + 1];
	struct greylist_entry e;
	struct greylist_chain c;
	struct greylist_client cl;
	int n;

	if (greylist_entry_decode(in, len, &e) == 0) {
		n = greylist_entry_encode(&e, out, sizeof(out));
		if (n < 0 || (size_t)n != len || memcmp(out, in, len) != 0)
			abort();
	}
	if (greylist_chain_decode(in, len, &c) == 0) {
		if (c.nhop > GREYLIST_CHAIN_MAX)
			abort();
		n = greylist_chain_encode(&c, out, sizeof(out));
		if (n < 0 || (size_t)n != len || memcmp(out, in, len) != 0)
			abort();
	}
	if (greylist_client_decode(in, len, &cl) == 0) {
		n = greylist_client_encode(&cl, out, sizeof(out));
		if (n < 0 || (size_t)n != len || memcmp(out, in, len) != 0)
			abort();
	}
}

/* fuzz_keys - the input as an address, sender and recipient */
static void
fuzz_keys(const struct greylist_params *p, const char *s)
{
	char net[GREYLIST_NET_MAX], out[300];
	struct greylist_keys k;
	int fam;

	if (greylist_network(s, p->prefix4, p->prefix6, net, sizeof(net),
	    &fam) == 0 && strchr(net, '/') == NULL)
		abort();
	greylist_norm_sender(s, out, sizeof(out));
	if (strlen(out) >= sizeof(out) || out[0] == '\0')
		abort();
	greylist_norm_rcpt(s, out, sizeof(out));
	if (greylist_keys(p, "192.0.2.1", s, s, &k) != 0 ||
	    strlen(k.triplet) >= GLSTORE_KEY_MAX || strchr(k.chain, ' ') != NULL)
		abort();
}

/* fuzz_step - the input as the stored triplet, chain and client */
static void
fuzz_step(const struct greylist_params *p, const char *in, size_t len)
{
	static struct glstore *s;
	struct greylist_attempt a = { "192.0.2.7", NULL, "a@x", "b@y",
		INT64_C(1800000000), false, GREYLIST_OFF };
	struct greylist_result r;
	char err[64];
	int i;

	if (s == NULL && glstore_open(&s, "mem:", 0, err, sizeof(err)) != 0)
		abort();
	if (len > GLSTORE_VAL_MAX)
		return;
	glstore_put(s, "t|192.0.2.0/24|a@x|b@y", in, len, 0);
	glstore_put(s, "c|a@x|b@y", in, len, 0);
	glstore_put(s, "a|192.0.2.0/24", in, len, 0);
	for (i = 0; i < 2; i++) {
		greylist_check(p, s, &a, &r);
		if (r.verdict == GREYLIST_ERROR || r.nchain > GREYLIST_CHAIN_MAX ||
		    strlen(r.net) >= sizeof(r.net))
			abort();
		a.client_ip = "2001:db8::7";
		a.now += 400;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char buf[4096];
	struct greylist_params p;
	size_t len = size < sizeof(buf) - 1 ? size : sizeof(buf) - 1;

	memcpy(buf, data, len);
	buf[len] = '\0';
	greylist_params_default(&p);
	p.mode = GREYLIST_ENFORCE;
	fuzz_codecs(buf, len);
	fuzz_keys(&p, buf);
	fuzz_step(&p, buf, len);
	return 0;
}
