/*
 * test_pseudo.c - pseudonyms (lib/record/pseudo.c): key file checks, key id,
 * HMAC determinism and key dependence, truncate, drop, keep, and the
 * prefix-preserving property of Crypto-PAn on random address pairs.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "errors.h"
#include "record/pseudo.h"
#include "tap.h"
#include "testutil.h"

static char key1[] = "/tmp/test_pseudo.k1.XXXXXX";
static char key2[] = "/tmp/test_pseudo.k2.XXXXXX";
static char keyshort[] = "/tmp/test_pseudo.ks.XXXXXX";
static const char secret1[] = "0123456789abcdef0123456789abcdef";
static const char secret2[] = "fedcba9876543210fedcba9876543210";

/* write_key - a key file with the given contents and mode */
static int
write_key(char *path, const char *data, mode_t mode)
{
	int fd = mkstemp(path);

	if (fd < 0 || write(fd, data, strlen(data)) != (ssize_t)strlen(data)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return chmod(path, mode);
}

/* mk - a pseudo for the modes, or NULL */
static struct pseudo *
mk(enum pseudo_mode ip, enum pseudo_mode names, enum pseudo_mode addrs,
    enum pseudo_mode msgid, const char *keyfile)
{
	struct pseudo_modes m = { ip, names, addrs, msgid };
	struct pseudo *p = NULL;
	char err[256];

	if (pseudo_new(&p, &m, keyfile, err, sizeof(err)) != 0) {
		diag(err);
		return NULL;
	}
	return p;
}

/* rnd - fixed seed: the same pairs on every run */
static uint64_t rnd_state = 0x9e3779b97f4a7c15ULL;

static uint64_t
rnd(void)
{
	return test_rng(&rnd_state);
}

/* common_bits - length of the common prefix of two addresses */
static int
common_bits(const unsigned char *a, const unsigned char *b, int nbits)
{
	int i;

	for (i = 0; i < nbits; i++)
		if (((a[i / 8] ^ b[i / 8]) & (0x80 >> (i % 8))) != 0)
			return i;
	return nbits;
}

/* prefix_pairs - random pairs sharing exactly k bits; returns failures */
static int
prefix_pairs(const struct pseudo *p, int af, int npairs, int *unparsed)
{
	int nbits = af == AF_INET ? 32 : 128, nbytes = nbits / 8, i, j, k;
	unsigned char a[16], b[16], oa[16], ob[16];
	char ta[64], tb[64], pa[PSEUDO_OUT_MAX], pb[PSEUDO_OUT_MAX];
	int bad = 0;

	*unparsed = 0;
	for (i = 0; i < npairs; i++) {
		for (j = 0; j < nbytes; j++) {
			a[j] = (unsigned char)rnd();
			b[j] = (unsigned char)rnd();
		}
		k = (int)(rnd() % (uint64_t)(nbits + 1));
		/* b: the first k bits of a, then bit k flipped */
		for (j = 0; j < k; j++)
			b[j / 8] = (unsigned char)((b[j / 8] & ~(0x80 >> (j % 8))) |
			    (a[j / 8] & (0x80 >> (j % 8))));
		if (k < nbits)
			b[k / 8] = (unsigned char)((b[k / 8] & ~(0x80 >> (k % 8))) |
			    (~a[k / 8] & (0x80 >> (k % 8))));
		inet_ntop(af, a, ta, sizeof(ta));
		inet_ntop(af, b, tb, sizeof(tb));
		if (!pseudo_ip(p, ta, pa, sizeof(pa)) ||
		    !pseudo_ip(p, tb, pb, sizeof(pb)) ||
		    inet_pton(af, pa, oa) != 1 || inet_pton(af, pb, ob) != 1) {
			(*unparsed)++;
			continue;
		}
		if (common_bits(a, b, nbits) != k ||
		    common_bits(oa, ob, nbits) != k)
			bad++;
		if (k == nbits && strcmp(pa, pb) != 0)
			bad++;
	}
	return bad;
}

/* is_hash - "h:" and 20 base32 characters, then end or suffix */
static int
is_hash(const char *s, const char *suffix)
{
	size_t i;

	if (strncmp(s, "h:", 2) != 0)
		return 0;
	for (i = 2; i < 22; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '2' && s[i] <= '7')))
			return 0;
	return strcmp(s + 22, suffix) == 0;
}

int
main(void)
{
	struct pseudo_modes m = { PSEUDO_HMAC, PSEUDO_KEEP, PSEUDO_KEEP,
	    PSEUDO_KEEP };
	struct pseudo *p = NULL, *p1, *p1b, *p2, *pk, *pt, *pd, *pp;
	char err[256], a[PSEUDO_OUT_MAX], b[PSEUDO_OUT_MAX], c[PSEUDO_OUT_MAX];
	char want_id[17], big[5000], small[12];
	unsigned char md[32], addr[16], addr2[16];
	unsigned int mdlen = 0;
	int rc, bad, unparsed, i;
	static const char hostile[] = "ev\"il\\\x01\xff\xfe\xc0\xafname\r\n";

	plan(74);
	if (write_key(key1, secret1, 0600) != 0 ||
	    write_key(key2, secret2, 0600) != 0 ||
	    write_key(keyshort, "too short", 0600) != 0)
		return 1;

	/* key file and mode checks */
	rc = pseudo_new(&p, &m, NULL, err, sizeof(err));
	ok(rc == SCOPE_EINVAL && p == NULL, "hmac without a key file is refused");
	ok(strstr(err, "PseudonymizeKeyFile") != NULL &&
	    strstr(err, "PseudonymizeClientAddress") != NULL,
	    "the error names the missing key file and the mode needing it");
	m.client_addr = PSEUDO_KEEP;
	m.msgid = PSEUDO_HMAC;
	rc = pseudo_new(&p, &m, "", err, sizeof(err));
	ok(rc == SCOPE_EINVAL && strstr(err, "PseudonymizeMessageID") != NULL,
	    "an empty key file name is missing too, named for Message-ID");
	m.msgid = PSEUDO_KEEP;
	m.client_addr = PSEUDO_PREFIX;
	ok(pseudo_new(&p, &m, NULL, err, sizeof(err)) == SCOPE_EINVAL,
	    "prefix without a key file is refused");
	m.client_addr = PSEUDO_KEEP;
	m.names = PSEUDO_PREFIX;
	ok(pseudo_new(&p, &m, key1, err, sizeof(err)) == SCOPE_EINVAL,
	    "prefix for names is refused");
	m.names = PSEUDO_HMAC;
	if (chmod(key1, 0644) != 0)
		return 1;
	rc = pseudo_new(&p, &m, key1, err, sizeof(err));
	ok(rc != 0 && p == NULL, "a key file of mode 0644 is refused");
	ok(strstr(err, "group or others") != NULL, "and the error says why");
	if (chmod(key1, 0640) != 0)
		return 1;
	ok(pseudo_new(&p, &m, key1, err, sizeof(err)) != 0,
	    "a key file of mode 0640 is refused");
	if (chmod(key1, 0600) != 0)
		return 1;
	rc = pseudo_new(&p, &m, key1, err, sizeof(err));
	ok(rc == 0 && p != NULL, "a key file of mode 0600 is accepted");
	pseudo_free(p);
	p = NULL;
	if (chmod(key1, 0400) != 0)
		return 1;
	ok(pseudo_new(&p, &m, key1, err, sizeof(err)) == 0,
	    "a key file of mode 0400 is accepted");
	pseudo_free(p);
	p = NULL;
	ok(pseudo_new(&p, &m, keyshort, err, sizeof(err)) == SCOPE_ERANGE,
	    "a key shorter than 16 bytes is refused");
	ok(pseudo_new(&p, &m, "/tmp", err, sizeof(err)) != 0 &&
	    strstr(err, "regular") != NULL, "a directory is refused");
	ok(pseudo_new(&p, &m, "/nonexistent/key", err, sizeof(err)) ==
	    SCOPE_EIO, "a missing key file is an I/O error");
	ok(pseudo_new(&p, &m, "/dev/null", err, sizeof(err)) != 0,
	    "a device is refused");

	p1 = mk(PSEUDO_HMAC, PSEUDO_HMAC, PSEUDO_HMAC, PSEUDO_HMAC, key1);
	p1b = mk(PSEUDO_HMAC, PSEUDO_HMAC, PSEUDO_HMAC, PSEUDO_HMAC, key1);
	p2 = mk(PSEUDO_HMAC, PSEUDO_HMAC, PSEUDO_HMAC, PSEUDO_HMAC, key2);
	pk = mk(PSEUDO_KEEP, PSEUDO_KEEP, PSEUDO_KEEP, PSEUDO_KEEP, NULL);
	pt = mk(PSEUDO_TRUNCATE, PSEUDO_DROP, PSEUDO_KEEP, PSEUDO_KEEP, NULL);
	pd = mk(PSEUDO_DROP, PSEUDO_DROP, PSEUDO_DROP, PSEUDO_DROP, NULL);
	pp = mk(PSEUDO_PREFIX, PSEUDO_KEEP, PSEUDO_KEEP, PSEUDO_KEEP, key1);
	if (p1 == NULL || p1b == NULL || p2 == NULL || pk == NULL ||
	    pt == NULL || pd == NULL || pp == NULL)
		return 1;

	/* key id */
	EVP_Digest(secret1, strlen(secret1), md, &mdlen, EVP_sha256(), NULL);
	for (i = 0; i < 8; i++)
		snprintf(want_id + 2 * i, 3, "%02x", md[i]);
	is_str(pseudo_key_id(p1), want_id, "key id: first 16 hex digits of SHA-256(key)");
	ok(strcmp(pseudo_key_id(p2), pseudo_key_id(p1)) != 0,
	    "another key has another id");
	is_str(pseudo_key_id(pt), "", "no key id when no mode uses a key");
	is_str(pseudo_key_id(pp), want_id, "prefix mode reports its key id");
	ok(!pseudo_active(pk), "all keep is not active");
	ok(pseudo_active(pt) && pseudo_active(p1), "other modes are active");
	ok(pseudo_modes(pt)->client_addr == PSEUDO_TRUNCATE &&
	    pseudo_modes(pt)->names == PSEUDO_DROP, "modes are kept as given");

	/* hmac: determinism, key dependence, form */
	ok(pseudo_name(p1, "mail.example.org", a, sizeof(a)) &&
	    pseudo_name(p1, "mail.example.org", b, sizeof(b)) &&
	    strcmp(a, b) == 0, "a name hashes the same twice");
	ok(pseudo_name(p1b, "mail.example.org", b, sizeof(b)) &&
	    strcmp(a, b) == 0, "and the same under another instance of the key");
	ok(pseudo_name(p2, "mail.example.org", c, sizeof(c)) &&
	    strcmp(a, c) != 0, "and differently under another key");
	ok(is_hash(a, ""), "name pseudonym is h: and 20 base32 characters");
	ok(strstr(a, "example") == NULL, "the whole name is hashed");
	ok(pseudo_name(p1, "MAIL.Example.ORG", b, sizeof(b)) && strcmp(a, b) == 0,
	    "names are hashed case-blind");
	ok(pseudo_name(p1, "mail.example.net", b, sizeof(b)) && strcmp(a, b) != 0,
	    "another name, another pseudonym");
	ok(pseudo_ip(p1, "192.0.2.10", a, sizeof(a)) && is_hash(a, ""),
	    "hmac of a client address");
	ok(pseudo_ip(p1, "192.0.2.0/24", b, sizeof(b)) && is_hash(b, "/24"),
	    "hmac of a network keeps /len");
	ok(pseudo_ip(p1, "192.0.2.10", b, sizeof(b)) && strcmp(a, b) == 0 &&
	    pseudo_ip(p2, "192.0.2.10", c, sizeof(c)) && strcmp(a, c) != 0,
	    "address hmac: deterministic, key dependent");
	ok(pseudo_name(p1, "192.0.2.10", b, sizeof(b)) && strcmp(a, b) != 0,
	    "groups are separated: the same text as name hashes differently");

	/* addresses */
	ok(pseudo_addr(p1, "alice@example.com", a, sizeof(a)) &&
	    is_hash(a, "@example.com"), "hmac of an address keeps the domain");
	ok(pseudo_addr(p1, "alice@EXAMPLE.com", b, sizeof(b)) &&
	    is_hash(b, "@EXAMPLE.com") && strncmp(a, b, 22) == 0,
	    "the domain is compared case-blind, and written as given");
	ok(pseudo_addr(p1, "Alice@example.com", b, sizeof(b)) &&
	    strncmp(a, b, 22) != 0, "the local part is case-sensitive");
	ok(pseudo_addr(p1, "alice@example.net", b, sizeof(b)) &&
	    strncmp(a, b, 22) != 0,
	    "one local part in two domains: unrelated pseudonyms");
	ok(pseudo_addr(p1, "", a, sizeof(a)) && strcmp(a, "") == 0,
	    "the null sender stays empty");
	ok(pseudo_addr(p1, "alice", a, sizeof(a)) && is_hash(a, ""),
	    "an address without a domain is hashed whole");
	ok(pseudo_addr(p1, "\"a@b\"@example.org", a, sizeof(a)) &&
	    is_hash(a, "@example.org"), "a quoted local part with @: domain after the last @");
	ok(pseudo_msgid(p1, "<id1@example.org>", a, sizeof(a)) && is_hash(a, ""),
	    "a Message-ID is hashed whole");
	ok(pseudo_msgid(p2, "<id1@example.org>", b, sizeof(b)) && strcmp(a, b) != 0,
	    "Message-ID under another key differs");

	/* keep, drop */
	ok(pseudo_ip(pk, "192.0.2.10", a, sizeof(a)) && strcmp(a, "192.0.2.10") == 0,
	    "keep passes an address through");
	ok(pseudo_name(pk, "mx.example.org", a, sizeof(a)) &&
	    strcmp(a, "mx.example.org") == 0, "keep passes a name through");
	ok(pseudo_addr(pk, "a@example.org", a, sizeof(a)) &&
	    strcmp(a, "a@example.org") == 0 && pseudo_msgid(pk, "<x@y>", b,
	    sizeof(b)) && strcmp(b, "<x@y>") == 0,
	    "keep passes addresses and Message-IDs through");
	ok(pseudo_name(NULL, "n.example", a, sizeof(a)) && strcmp(a, "n.example") == 0,
	    "no pseudo at all keeps");
	ok(!pseudo_ip(pd, "192.0.2.10", a, sizeof(a)) && a[0] == '\0',
	    "drop: address");
	ok(!pseudo_name(pd, "mx.example.org", a, sizeof(a)), "drop: name");
	ok(!pseudo_addr(pd, "a@example.org", a, sizeof(a)), "drop: address");
	ok(!pseudo_msgid(pd, "<x@y>", a, sizeof(a)), "drop: Message-ID");
	ok(!pseudo_name(pt, "mx.example.org", a, sizeof(a)) &&
	    pseudo_addr(pt, "a@example.org", b, sizeof(b)),
	    "groups are independent");

	/* truncate */
	ok(pseudo_ip(pt, "192.0.2.10", a, sizeof(a)) && strcmp(a, "192.0.2.0") == 0,
	    "truncate IPv4 to /24");
	ok(pseudo_ip(pt, "2001:db8:1:2:3:4:5:6", a, sizeof(a)) &&
	    strcmp(a, "2001:db8:1::") == 0, "truncate IPv6 to /48");
	ok(pseudo_ip(pt, "198.51.100.0/22", a, sizeof(a)) &&
	    strcmp(a, "198.51.100.0/22") == 0, "truncate keeps a shorter /len");
	ok(pseudo_ip(pt, "2001:db8:1:2::/64", a, sizeof(a)) &&
	    strcmp(a, "2001:db8:1::/48") == 0, "truncate shortens a longer /len");
	ok(!pseudo_ip(pt, "not an address", a, sizeof(a)) && a[0] == '\0',
	    "truncate drops what is not an address");
	ok(!pseudo_ip(pp, "192.0.2.300", a, sizeof(a)),
	    "prefix drops what is not an address");
	ok(!pseudo_ip(pt, "192.0.2.0/33", a, sizeof(a)), "a bad /len is dropped");

	/* prefix (Crypto-PAn) */
	bad = prefix_pairs(pp, AF_INET, 2000, &unparsed);
	is_int(unparsed, 0, "IPv4 pseudonyms all parse as addresses");
	is_int(bad, 0, "IPv4: 2000 random pairs keep exactly their common prefix");
	bad = prefix_pairs(pp, AF_INET6, 1000, &unparsed);
	is_int(unparsed, 0, "IPv6 pseudonyms all parse as addresses");
	is_int(bad, 0, "IPv6: 1000 random pairs keep exactly their common prefix");
	ok(pseudo_ip(pp, "192.0.2.10", a, sizeof(a)) && strcmp(a, "192.0.2.10") != 0 &&
	    inet_pton(AF_INET, a, addr) == 1, "prefix maps an IPv4 address to another");
	ok(pseudo_ip(pp, "192.0.2.10", b, sizeof(b)) && strcmp(a, b) == 0,
	    "prefix is deterministic");
	ok(pseudo_ip(pp, "192.0.2.0/24", b, sizeof(b)) &&
	    strstr(b, "/24") != NULL && (b[strlen(b) - 3] = '\0',
	    inet_pton(AF_INET, b, addr2) == 1) && memcmp(addr, addr2, 3) == 0 &&
	    addr2[3] == 0, "a /24 maps to the /24 of its members' pseudonyms");
	{
		struct pseudo *pp2 = mk(PSEUDO_PREFIX, PSEUDO_KEEP, PSEUDO_KEEP,
		    PSEUDO_KEEP, key2);

		ok(pp2 != NULL && pseudo_ip(pp2, "192.0.2.10", b, sizeof(b)) &&
		    strcmp(a, b) != 0, "prefix depends on the key");
		pseudo_free(pp2);
	}
	ok(pseudo_ip(pp, "2001:db8::1", a, sizeof(a)) &&
	    inet_pton(AF_INET6, a, addr) == 1 && strcmp(a, "2001:db8::1") != 0,
	    "prefix maps an IPv6 address to a valid other one");

	/* hostile and oversized input, tiny output */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big + 100, hostile, sizeof(hostile) - 1);
	ok(pseudo_name(pk, big, a, sizeof(a)) && strlen(a) < sizeof(a) &&
	    valid_utf8(a), "keep: a 5000-byte hostile name is cut, valid UTF-8");
	ok(pseudo_name(p1, big, a, sizeof(a)) && is_hash(a, ""),
	    "hmac of a 5000-byte hostile name");
	memcpy(big + 4000, "@", 1);
	ok(pseudo_addr(p1, big, a, sizeof(a)) && strlen(a) < sizeof(a) &&
	    valid_utf8(a), "hmac of a huge address: domain cut to fit");
	ok(pseudo_addr(p1, "a@\xff\xfe.example", a, sizeof(a)) && valid_utf8(a),
	    "invalid UTF-8 in a kept domain is replaced");
	ok(!pseudo_name(p1, "mx.example.org", small, sizeof(small)),
	    "a pseudonym that does not fit is dropped, not cut");
	ok(pseudo_addr(p1, "alice@example.com", c, 24) && strlen(c) < 24 &&
	    is_hash(c, ""), "no room for the domain: the hash alone");
	ok(pseudo_name(pk, hostile, small, sizeof(small)) &&
	    strlen(small) < sizeof(small) && valid_utf8(small),
	    "keep into a small buffer: cut on a character boundary");
	ok(!pseudo_ip(p1, "x", a, 0), "outsz 0 is refused");

	pseudo_free(p1);
	pseudo_free(p1b);
	pseudo_free(p2);
	pseudo_free(pk);
	pseudo_free(pt);
	pseudo_free(pd);
	pseudo_free(pp);
	unlink(key1);
	unlink(key2);
	unlink(keyshort);
	return done_testing();
}
