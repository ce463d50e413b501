/*
 * dkimkeycache.c - parsed DKIM public keys, shared by every message (see
 * dkimkeycache.h): our d2i_PUBKEY_bio() in front of OpenSSL's.
 *
 * A lookup hashes the key's DER bytes (FNV-1a), then compares length,
 * hash and bytes with each kept entry (a linear pass over 512 entries is
 * a few thousand instructions, against about 660,000 for a parse). An
 * entry holds a private copy of the bytes and one reference to the
 * EVP_PKEY; a hit returns another reference (EVP_PKEY_up_ref). Replacing
 * an entry frees the table's reference only; a caller still holding the
 * key keeps it alive.
 *
 * How many bytes the DER object spans is read from its header
 * (ASN1_get_object), and exactly that many are taken from the BIO, as
 * OpenSSL's function would; trailing bytes stay in the BIO.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "auth/dkimkeycache.h"
#include "stats.h"

struct dkimkeycache_entry {
	unsigned char *der;	/* owned copy; NULL: free slot */
	long len;
	uint64_t hash;
	EVP_PKEY *key;		/* the table's reference */
	bool used;		/* CLOCK: looked up since the hand passed */
};

static pthread_mutex_t dkimkeycache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct dkimkeycache_entry dkimkeycache_tab[DKIMKEYCACHE_ENTRIES];
static size_t dkimkeycache_hand;

typedef EVP_PKEY *(*dkimkeycache_d2i_fn)(BIO *, EVP_PKEY **);

/* dkimkeycache_hash - FNV-1a over the DER bytes */
static uint64_t
dkimkeycache_hash(const unsigned char *p, long len)
{
	uint64_t h = 14695981039346656037ULL;
	long i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

/* dkimkeycache_openssl - OpenSSL's own d2i_PUBKEY_bio, found once */
static dkimkeycache_d2i_fn
dkimkeycache_openssl(void)
{
	static dkimkeycache_d2i_fn fn;
	void *sym;

	if (__atomic_load_n(&fn, __ATOMIC_ACQUIRE) == NULL) {
		sym = dlvsym(RTLD_NEXT, "d2i_PUBKEY_bio", "OPENSSL_3.0.0");
		if (sym == NULL)
			sym = dlsym(RTLD_NEXT, "d2i_PUBKEY_bio");
		__atomic_store_n(&fn, (dkimkeycache_d2i_fn)sym,
		    __ATOMIC_RELEASE);
	}
	return __atomic_load_n(&fn, __ATOMIC_ACQUIRE);
}

/* dkimkeycache_find - a new reference to the kept key, or NULL */
static EVP_PKEY *
dkimkeycache_find(const unsigned char *der, long len, uint64_t hash)
{
	struct dkimkeycache_entry *e;
	EVP_PKEY *key = NULL;
	size_t i;

	if (pthread_mutex_lock(&dkimkeycache_lock) != 0)
		return NULL;
	for (i = 0; i < DKIMKEYCACHE_ENTRIES; i++) {
		e = &dkimkeycache_tab[i];
		if (e->der == NULL || e->len != len || e->hash != hash ||
		    memcmp(e->der, der, (size_t)len) != 0)
			continue;
		if (EVP_PKEY_up_ref(e->key) == 1) {
			key = e->key;
			e->used = true;
		}
		break;
	}
	(void)pthread_mutex_unlock(&dkimkeycache_lock);
	return key;
}

/* dkimkeycache_victim - the slot to fill (CLOCK); caller holds the lock */
static struct dkimkeycache_entry *
dkimkeycache_victim(void)
{
	struct dkimkeycache_entry *e;

	for (;;) {
		e = &dkimkeycache_tab[dkimkeycache_hand];
		dkimkeycache_hand = (dkimkeycache_hand + 1) %
		    DKIMKEYCACHE_ENTRIES;
		if (e->der == NULL || !e->used)
			return e;
		e->used = false;
	}
}

/* dkimkeycache_keep - keep a parsed key (best effort: memory or lock) */
static void
dkimkeycache_keep(const unsigned char *der, long len, uint64_t hash,
    EVP_PKEY *key)
{
	struct dkimkeycache_entry *e;
	unsigned char *copy;

	if (len > DKIMKEYCACHE_DER_MAX || (copy = malloc((size_t)len)) == NULL)
		return;
	memcpy(copy, der, (size_t)len);
	if (EVP_PKEY_up_ref(key) != 1) {
		free(copy);
		return;
	}
	if (pthread_mutex_lock(&dkimkeycache_lock) != 0) {
		EVP_PKEY_free(key);
		free(copy);
		return;
	}
	e = dkimkeycache_victim();
	free(e->der);
	EVP_PKEY_free(e->key);
	e->der = copy;
	e->len = len;
	e->hash = hash;
	e->key = key;
	e->used = false;
	(void)pthread_mutex_unlock(&dkimkeycache_lock);
}

/* dkimkeycache_der_len - bytes of the DER object at p, or -1 */
static long
dkimkeycache_der_len(const unsigned char *p, long avail)
{
	const unsigned char *q = p;
	long content;
	int tag, xclass, rc;

	rc = ASN1_get_object(&q, &content, &tag, &xclass, avail);
	if ((rc & 0x80) != 0 || (rc & V_ASN1_CONSTRUCTED) == 0 ||
	    rc == (V_ASN1_CONSTRUCTED | 1))	/* indefinite length */
		return -1;
	if (content > avail - (long)(q - p))
		return -1;
	return (long)(q - p) + content;
}

/* dkimkeycache_skip - take len bytes out of the BIO; false if it had fewer */
static bool
dkimkeycache_skip(BIO *bp, long len)
{
	unsigned char scratch[256];
	int chunk;

	while (len > 0) {
		chunk = len > (long)sizeof(scratch) ? (int)sizeof(scratch) :
		    (int)len;
		if (BIO_read(bp, scratch, chunk) != chunk)
			return false;
		len -= chunk;
	}
	return true;
}

/*
 * dkimkeycache_lookup - the key for a memory BIO's next DER object; false
 * (nothing read) when the bytes are not one definite-length DER object
 * that parses, so that OpenSSL's own function judges them
 */
static bool
dkimkeycache_lookup(BIO *bp, EVP_PKEY **out)
{
	const unsigned char *der, *p;
	char *data;
	long avail, len;
	uint64_t hash;
	EVP_PKEY *key;

	avail = BIO_get_mem_data(bp, &data);
	if (avail <= 0)
		return false;
	der = (const unsigned char *)data;
	if ((len = dkimkeycache_der_len(der, avail)) < 0)
		return false;
	hash = dkimkeycache_hash(der, len);
	if ((key = dkimkeycache_find(der, len, hash)) != NULL) {
		stats_add(STATS_DKIM_KEY_CACHE_HITS, 1);
	} else {
		p = der;
		if ((key = d2i_PUBKEY(NULL, &p, len)) == NULL)
			return false;
		stats_add(STATS_DKIM_KEYS_PARSED, 1);
		dkimkeycache_keep(der, len, hash, key);
	}
	/* consume the object, as OpenSSL's function does */
	if (!dkimkeycache_skip(bp, len)) {
		EVP_PKEY_free(key);
		key = NULL;
	}
	*out = key;
	return true;
}

/*
 * d2i_PUBKEY_bio - OpenSSL's interface (openssl/x509.h): the public key
 * read from bp, a new reference the caller frees with EVP_PKEY_free()
 */
EVP_PKEY *
d2i_PUBKEY_bio(BIO *bp, EVP_PKEY **a)
{
	dkimkeycache_d2i_fn openssl;
	EVP_PKEY *key;

	if (bp != NULL && a == NULL && BIO_method_type(bp) == BIO_TYPE_MEM &&
	    dkimkeycache_lookup(bp, &key))
		return key;
	if ((openssl = dkimkeycache_openssl()) == NULL)
		return NULL;
	return openssl(bp, a);
}

/* dkimkeycache_active - whether the program's symbol is the one bound */
bool
dkimkeycache_active(void)
{
	return dlsym(RTLD_DEFAULT, "d2i_PUBKEY_bio") == (void *)d2i_PUBKEY_bio;
}

/* dkimkeycache_clear - drop every kept key */
void
dkimkeycache_clear(void)
{
	size_t i;

	if (pthread_mutex_lock(&dkimkeycache_lock) != 0)
		return;
	for (i = 0; i < DKIMKEYCACHE_ENTRIES; i++) {
		free(dkimkeycache_tab[i].der);
		EVP_PKEY_free(dkimkeycache_tab[i].key);
		memset(&dkimkeycache_tab[i], 0, sizeof(dkimkeycache_tab[i]));
	}
	dkimkeycache_hand = 0;
	(void)pthread_mutex_unlock(&dkimkeycache_lock);
}
