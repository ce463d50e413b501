/*
 * pseudo.c - pseudonyms for what a record says about people (pseudo.h).
 *
 * Owns: a struct pseudo (the modes and the keys derived from the key
 * file), read-only after pseudo_new() and shared by all threads; every
 * call below uses only its own stack and per-call OpenSSL contexts.
 *
 * Keys. The key file holds the secret, byte for byte (a trailing newline
 * is part of it). It must be a regular file of 16 to 4096 bytes that only
 * its owner can read (mode & 077 == 0); it is read once, by pseudo_new(),
 * and only when a mode needs it (hmac anywhere, prefix). The key id is
 * the first 16 hex digits of SHA-256(secret). Sub-keys are separated by
 * label: HMAC-SHA256(secret, "smtpscope pseudo hmac v1") keys the
 * pseudonyms, HMAC-SHA256(secret, "smtpscope pseudo cryptopan key v1")
 * gives the AES-128 key of Crypto-PAn and the same with "... pad v1" the
 * block that, encrypted, is its pad.
 *
 * hmac: "h:" and the first 100 bits of HMAC-SHA256(subkey, group label,
 * NUL, value) in lower-case base32 (20 characters, a-z 2-7). Two distinct
 * values collide with probability 2^-100; among n distinct values the
 * chance of any collision is about n^2 / 2^101 (10^9 values: 4e-13).
 * Names are folded to ASCII lower case first (DNS is case-blind), and so
 * is the domain of an address; local parts and Message-IDs are hashed as
 * they are. An address is hashed whole (so john@a.example and
 * john@b.example get unrelated pseudonyms) and written with its domain
 * kept: "h:...@example.org"; the null sender "" stays "".
 *
 * prefix (Crypto-PAn, Xu, Fan, Ammar, Moon 2002): bit i of the output is
 * bit i of the input XOR the first bit of AES_K(first i bits of the input
 * followed by bits i..127 of the pad), for 32 (IPv4) or 128 (IPv6) bits,
 * so outputs share exactly as long a prefix as inputs. IPv4 uses the
 * first 32 bits of the block, as the reference implementation does.
 *
 * pseudo_ip() also takes a network "addr/len" (greylisting's nets): the
 * address is mapped and masked to len bits (and to /24 or /48 with
 * truncate), "/len" is kept, so a net's pseudonym is the prefix of its
 * members' pseudonyms (truncate also shortens a longer len to 24 or
 * 48). An input that is not an address gets no
 * prefix/truncate form and is dropped.
 *
 * Failure: pseudo_new() returns a negative SCOPE_* code and a message.
 * The mapping functions cannot fail visibly; when OpenSSL fails, or the
 * output does not fit, they drop the value (return false) rather than
 * write it in clear. Every output is valid UTF-8 and shorter than outsz.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>

#include "errors.h"
#include "record/pseudo.h"
#include "text.h"

#define PSEUDO_KEY_MIN	16
#define PSEUDO_KEY_MAX	4096
#define PSEUDO_HASH_CHARS	20	/* base32 characters: 100 bits */
#define PSEUDO_TAG	"h:"

struct pseudo {
	struct pseudo_modes m;
	bool keyed;			/* some mode uses the key */
	char key_id[17];
	unsigned char hkey[32];		/* HMAC sub-key */
	unsigned char akey[16];		/* Crypto-PAn AES-128 key */
	unsigned char pad[16];		/* Crypto-PAn pad */
	EVP_CIPHER *aes;		/* fetched AES-128-ECB, or NULL */
	EVP_MAC *mac;			/* fetched HMAC, or NULL */
};

/* pseudo_mode_name - the configuration word of a mode */
static const char *
pseudo_mode_name(enum pseudo_mode m)
{
	static const char *const names[] = {
		"keep", "hmac", "drop", "prefix", "truncate"
	};

	return (unsigned)m < sizeof(names) / sizeof(names[0]) ? names[m] : "?";
}

/* pseudo_read_key - the secret from a file only its owner can read */
static int
pseudo_read_key(const char *path, unsigned char *buf, size_t *len,
    char *err, size_t errsz)
{
	struct stat st;
	ssize_t n;
	size_t got = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		snprintf(err, errsz, "PseudonymizeKeyFile %s: %s", path,
		    strerror(errno));
		return SCOPE_EIO;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errsz, "PseudonymizeKeyFile %s: not a regular file",
		    path);
		close(fd);
		return SCOPE_EINVAL;
	}
	if ((st.st_mode & 077) != 0) {
		snprintf(err, errsz, "PseudonymizeKeyFile %s: readable or "
		    "writable by group or others (mode %04o); chmod 600", path,
		    (unsigned)(st.st_mode & 07777));
		close(fd);
		return SCOPE_EINVAL;
	}
	if (st.st_size < PSEUDO_KEY_MIN || st.st_size > PSEUDO_KEY_MAX) {
		snprintf(err, errsz, "PseudonymizeKeyFile %s: %lld bytes, must "
		    "be %d to %d", path, (long long)st.st_size, PSEUDO_KEY_MIN,
		    PSEUDO_KEY_MAX);
		close(fd);
		return SCOPE_ERANGE;
	}
	while (got < PSEUDO_KEY_MAX + 1) {
		n = read(fd, buf + got, PSEUDO_KEY_MAX + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errsz, "PseudonymizeKeyFile %s: %s", path,
			    strerror(errno));
			close(fd);
			return SCOPE_EIO;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got < PSEUDO_KEY_MIN || got > PSEUDO_KEY_MAX) {
		snprintf(err, errsz, "PseudonymizeKeyFile %s: %zu bytes, must "
		    "be %d to %d", path, got, PSEUDO_KEY_MIN, PSEUDO_KEY_MAX);
		return SCOPE_ERANGE;
	}
	*len = got;
	return 0;
}

/* pseudo_subkey - HMAC-SHA256(secret, label) */
static int
pseudo_subkey(const unsigned char *key, size_t klen, const char *label,
    unsigned char out[32])
{
	unsigned int olen = 32;

	return HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)label,
	    strlen(label), out, &olen) != NULL && olen == 32 ? 0 : -1;
}

/* pseudo_derive - key id and sub-keys from the secret */
static int
pseudo_derive(struct pseudo *p, const unsigned char *key, size_t klen)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[32], padin[32];
	unsigned int mdlen = 0;
	EVP_CIPHER_CTX *c;
	int i, outl = 0, ok;

	if (EVP_Digest(key, klen, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != 32)
		return -1;
	for (i = 0; i < 8; i++) {
		p->key_id[2 * i] = hex[md[i] >> 4];
		p->key_id[2 * i + 1] = hex[md[i] & 15];
	}
	p->key_id[16] = '\0';
	if (pseudo_subkey(key, klen, "smtpscope pseudo hmac v1", p->hkey) != 0 ||
	    pseudo_subkey(key, klen, "smtpscope pseudo cryptopan key v1", md) != 0 ||
	    pseudo_subkey(key, klen, "smtpscope pseudo cryptopan pad v1", padin) != 0)
		return -1;
	memcpy(p->akey, md, sizeof(p->akey));
	OPENSSL_cleanse(md, sizeof(md));
	p->aes = EVP_CIPHER_fetch(NULL, "AES-128-ECB", NULL);
	p->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (p->aes == NULL || p->mac == NULL ||
	    (c = EVP_CIPHER_CTX_new()) == NULL)
		return -1;
	ok = EVP_EncryptInit_ex2(c, p->aes, p->akey, NULL, NULL) == 1 &&
	    EVP_CIPHER_CTX_set_padding(c, 0) == 1 &&
	    EVP_EncryptUpdate(c, p->pad, &outl, padin, 16) == 1 && outl == 16;
	EVP_CIPHER_CTX_free(c);
	OPENSSL_cleanse(padin, sizeof(padin));
	return ok ? 0 : -1;
}

/* pseudo_new - check the modes, read the key when a mode needs one */
int
pseudo_new(struct pseudo **out, const struct pseudo_modes *m,
    const char *keyfile, char *err, size_t errsz)
{
	unsigned char *key;
	const char *needs = NULL;
	enum pseudo_mode needs_mode = PSEUDO_HMAC;
	struct pseudo *p;
	size_t klen = 0;
	char dummy[1];
	int rc;

	*out = NULL;
	if (err == NULL || errsz == 0) {
		err = dummy;
		errsz = sizeof(dummy);
	}
	err[0] = '\0';
	if (m == NULL || (unsigned)m->client_addr > PSEUDO_TRUNCATE ||
	    (unsigned)m->names > PSEUDO_DROP ||
	    (unsigned)m->addresses > PSEUDO_DROP ||
	    (unsigned)m->msgid > PSEUDO_DROP) {
		snprintf(err, errsz, "pseudonymization: invalid mode (prefix "
		    "and truncate apply to PseudonymizeClientAddress only)");
		return SCOPE_EINVAL;
	}
	if (m->client_addr == PSEUDO_HMAC || m->client_addr == PSEUDO_PREFIX) {
		needs = "PseudonymizeClientAddress";
		needs_mode = m->client_addr;
	} else if (m->names == PSEUDO_HMAC)
		needs = "PseudonymizeNames";
	else if (m->addresses == PSEUDO_HMAC)
		needs = "PseudonymizeAddresses";
	else if (m->msgid == PSEUDO_HMAC)
		needs = "PseudonymizeMessageID";
	if (needs != NULL && (keyfile == NULL || *keyfile == '\0')) {
		snprintf(err, errsz, "%s %s needs a key, and "
		    "PseudonymizeKeyFile is not set", needs,
		    pseudo_mode_name(needs_mode));
		return SCOPE_EINVAL;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return SCOPE_ENOMEM;
	p->m = *m;
	if (needs != NULL) {
		if ((key = malloc(PSEUDO_KEY_MAX + 1)) == NULL) {
			free(p);
			return SCOPE_ENOMEM;
		}
		rc = pseudo_read_key(keyfile, key, &klen, err, errsz);
		if (rc == 0 && pseudo_derive(p, key, klen) != 0) {
			snprintf(err, errsz, "PseudonymizeKeyFile %s: key "
			    "derivation failed (OpenSSL)", keyfile);
			rc = SCOPE_ENOMEM;
		}
		OPENSSL_cleanse(key, PSEUDO_KEY_MAX + 1);
		free(key);
		if (rc != 0) {
			pseudo_free(p);
			return rc;
		}
		p->keyed = true;
	}
	*out = p;
	return 0;
}

/* pseudo_free - wipe the keys and release */
void
pseudo_free(struct pseudo *p)
{
	if (p == NULL)
		return;
	EVP_CIPHER_free(p->aes);
	EVP_MAC_free(p->mac);
	OPENSSL_cleanse(p, sizeof(*p));
	free(p);
}

/* pseudo_active - some group is not kept */
bool
pseudo_active(const struct pseudo *p)
{
	return p != NULL && (p->m.client_addr != PSEUDO_KEEP ||
	    p->m.names != PSEUDO_KEEP || p->m.addresses != PSEUDO_KEEP ||
	    p->m.msgid != PSEUDO_KEEP);
}

/* pseudo_key_id - the key's id when a mode uses it, else "" */
const char *
pseudo_key_id(const struct pseudo *p)
{
	return p != NULL && p->keyed ? p->key_id : "";
}

const struct pseudo_modes *
pseudo_modes(const struct pseudo *p)
{
	return p != NULL ? &p->m : NULL;
}

/* pseudo_keep - the input, cleaned and bounded */
static bool
pseudo_keep(const char *in, char *out, size_t outsz)
{
	if (outsz == 0)
		return false;
	text_copy(out, outsz, in, NULL);
	return true;
}

/* pseudo_lower - ASCII lower case of one byte */
static unsigned char
pseudo_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 'a' - 'A') : c;
}

/* pseudo_hash - "h:" and 20 base32 characters of the HMAC of label NUL
 * value, where bytes from fold on are folded to lower case (fold may be
 * len: no folding); false when it does not fit or OpenSSL fails */
static bool
pseudo_hash(const struct pseudo *p, const char *label, const char *v,
    size_t len, size_t fold, char *out, size_t outsz)
{
	static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
	unsigned char md[32], chunk[256];
	EVP_MAC_CTX *ctx;
	OSSL_PARAM params[2];
	size_t i, n, at, bit, mdlen = 0;
	bool ok;

	if (!p->keyed || p->mac == NULL ||
	    outsz < sizeof(PSEUDO_TAG) + PSEUDO_HASH_CHARS)
		return false;
	ctx = EVP_MAC_CTX_new(p->mac);
	params[0] = OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	ok = ctx != NULL && EVP_MAC_init(ctx, p->hkey, sizeof(p->hkey),
	    params) == 1 && EVP_MAC_update(ctx, (const unsigned char *)label,
	    strlen(label) + 1) == 1;
	for (at = 0; ok && at < len; at += n) {
		n = len - at < sizeof(chunk) ? len - at : sizeof(chunk);
		for (i = 0; i < n; i++)
			chunk[i] = at + i >= fold ? pseudo_lower(
			    (unsigned char)v[at + i]) : (unsigned char)v[at + i];
		ok = EVP_MAC_update(ctx, chunk, n) == 1;
	}
	if (ok)
		ok = EVP_MAC_final(ctx, md, &mdlen, sizeof(md)) == 1;
	EVP_MAC_CTX_free(ctx);
	if (!ok || mdlen != sizeof(md))
		return false;
	memcpy(out, PSEUDO_TAG, sizeof(PSEUDO_TAG) - 1);
	for (i = 0; i < PSEUDO_HASH_CHARS; i++) {
		unsigned v5 = 0;

		for (bit = 5 * i; bit < 5 * i + 5; bit++)
			v5 = v5 << 1 | ((md[bit / 8] >> (7 - bit % 8)) & 1);
		out[sizeof(PSEUDO_TAG) - 1 + i] = b32[v5];
	}
	out[sizeof(PSEUDO_TAG) - 1 + PSEUDO_HASH_CHARS] = '\0';
	OPENSSL_cleanse(md, sizeof(md));
	return true;
}

/* pseudo_cryptopan - map nbits (32 or 128) of a in place */
static bool
pseudo_cryptopan(const struct pseudo *p, unsigned char *a, unsigned nbits)
{
	unsigned char block[16], enc[32], flip[16];
	EVP_CIPHER_CTX *c;
	unsigned i, byte;
	int outl;
	bool ok;

	if (p->aes == NULL || (c = EVP_CIPHER_CTX_new()) == NULL)
		return false;
	ok = EVP_EncryptInit_ex2(c, p->aes, p->akey, NULL, NULL) == 1 &&
	    EVP_CIPHER_CTX_set_padding(c, 0) == 1;
	memset(flip, 0, sizeof(flip));
	memcpy(block, p->pad, sizeof(block));
	for (i = 0; ok && i < nbits; i++) {
		/* block: the first i bits of a, then the pad */
		if (i > 0) {
			byte = (i - 1) / 8;
			block[byte] = (unsigned char)((block[byte] &
			    ~(0x80u >> ((i - 1) % 8))) | (a[byte] &
			    (0x80u >> ((i - 1) % 8))));
		}
		outl = 0;
		ok = EVP_EncryptUpdate(c, enc, &outl, block, 16) == 1 &&
		    outl == 16;
		if (ok && (enc[0] & 0x80) != 0)
			flip[i / 8] |= (unsigned char)(0x80u >> (i % 8));
	}
	EVP_CIPHER_CTX_free(c);
	if (!ok)
		return false;
	for (i = 0; i < nbits / 8; i++)
		a[i] ^= flip[i];
	return true;
}

/* pseudo_mask - keep the first bits bits of an address */
static void
pseudo_mask(unsigned char *a, unsigned nbytes, unsigned bits)
{
	unsigned i;

	for (i = 0; i < nbytes; i++) {
		if (bits >= 8 * (i + 1))
			continue;
		a[i] &= bits > 8 * i ? (unsigned char)(0xff00u >> (bits - 8 * i))
		    : 0;
	}
}

/* pseudo_ip_shaped - prefix or truncate of "addr" or "addr/len" */
static bool
pseudo_ip_shaped(const struct pseudo *p, const char *ip, char *out,
    size_t outsz)
{
	char addr[INET6_ADDRSTRLEN + 1], text[INET6_ADDRSTRLEN];
	unsigned char a[16];
	const char *slash = strchr(ip, '/');
	size_t alen = slash != NULL ? (size_t)(slash - ip) : strlen(ip);
	long len = -1;
	int af, nbits;

	if (alen >= sizeof(addr))
		return false;
	memcpy(addr, ip, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, a) == 1)
		af = AF_INET, nbits = 32;
	else if (inet_pton(AF_INET6, addr, a) == 1)
		af = AF_INET6, nbits = 128;
	else
		return false;
	if (slash != NULL && text_parse_long(slash + 1, 10, 0, nbits, &len) != 0)
		return false;
	if (p->m.client_addr == PSEUDO_PREFIX) {
		if (!pseudo_cryptopan(p, a, (unsigned)nbits))
			return false;
		if (len >= 0)
			pseudo_mask(a, (unsigned)nbits / 8, (unsigned)len);
	} else {
		if (len < 0 || len > (af == AF_INET ? 24 : 48))
			len = slash != NULL ? (af == AF_INET ? 24 : 48) : -1;
		pseudo_mask(a, (unsigned)nbits / 8, af == AF_INET ? 24 : 48);
		if (len >= 0)
			pseudo_mask(a, (unsigned)nbits / 8, (unsigned)len);
	}
	if (inet_ntop(af, a, text, sizeof(text)) == NULL)
		return false;
	if (len >= 0)
		return (size_t)snprintf(out, outsz, "%s/%ld", text, len) < outsz;
	return (size_t)snprintf(out, outsz, "%s", text) < outsz;
}

/* pseudo_ip - a client address, or "addr/len" network */
bool
pseudo_ip(const struct pseudo *p, const char *ip, char *out, size_t outsz)
{
	const char *slash;
	size_t len;

	if (outsz == 0)
		return false;
	out[0] = '\0';
	if (ip == NULL)
		ip = "";
	if (p == NULL || p->m.client_addr == PSEUDO_KEEP)
		return pseudo_keep(ip, out, outsz);
	if (p->m.client_addr == PSEUDO_DROP)
		return false;
	if (*ip == '\0')
		return true;
	if (p->m.client_addr == PSEUDO_HMAC) {
		slash = strchr(ip, '/');
		len = slash != NULL ? (size_t)(slash - ip) : strlen(ip);
		if (!pseudo_hash(p, "ip", ip, len, len, out, outsz))
			return false;
		if (slash != NULL) {
			long bits;

			size_t used = strlen(out), sl = strlen(slash);

			if (text_parse_long(slash + 1, 10, 0, 128, &bits) != 0 ||
			    used + sl >= outsz) {
				out[0] = '\0';
				return false;
			}
			memcpy(out + used, slash, sl + 1);
		}
		return true;
	}
	if (!pseudo_ip_shaped(p, ip, out, outsz)) {
		out[0] = '\0';
		return false;
	}
	return true;
}

/* pseudo_name - a host name (or a certificate's name) */
bool
pseudo_name(const struct pseudo *p, const char *name, char *out,
    size_t outsz)
{
	if (outsz == 0)
		return false;
	out[0] = '\0';
	if (name == NULL)
		name = "";
	if (p == NULL || p->m.names == PSEUDO_KEEP)
		return pseudo_keep(name, out, outsz);
	if (p->m.names == PSEUDO_DROP)
		return false;
	if (*name == '\0')
		return true;
	return pseudo_hash(p, "name", name, strlen(name), 0, out, outsz);
}

/* pseudo_addr - an envelope address: hashed whole, the domain kept */
bool
pseudo_addr(const struct pseudo *p, const char *addr, char *out,
    size_t outsz)
{
	const char *at;
	size_t len, used;

	if (outsz == 0)
		return false;
	out[0] = '\0';
	if (addr == NULL)
		addr = "";
	if (p == NULL || p->m.addresses == PSEUDO_KEEP)
		return pseudo_keep(addr, out, outsz);
	if (p->m.addresses == PSEUDO_DROP)
		return false;
	if (*addr == '\0')
		return true;
	len = strlen(addr);
	at = strrchr(addr, '@');
	if (!pseudo_hash(p, "addr", addr, len, at != NULL ?
	    (size_t)(at - addr) : len, out, outsz))
		return false;
	if (at == NULL || at[1] == '\0')
		return true;
	used = strlen(out);
	if (outsz - used < 3)
		return true;	/* no room for the domain: the hash alone */
	out[used++] = '@';
	text_copy(out + used, outsz - used, at + 1, NULL);
	return true;
}

/* pseudo_msgid - a Message-ID, hashed whole */
bool
pseudo_msgid(const struct pseudo *p, const char *msgid, char *out,
    size_t outsz)
{
	if (outsz == 0)
		return false;
	out[0] = '\0';
	if (msgid == NULL)
		msgid = "";
	if (p == NULL || p->m.msgid == PSEUDO_KEEP)
		return pseudo_keep(msgid, out, outsz);
	if (p->m.msgid == PSEUDO_DROP)
		return false;
	if (*msgid == '\0')
		return true;
	return pseudo_hash(p, "msgid", msgid, strlen(msgid), strlen(msgid),
	    out, outsz);
}
