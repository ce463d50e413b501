/*
 * dkimkeycache.h - DKIM public keys parsed once, shared by every message.
 *
 * libopendkim decodes a signature's public key (the p= of its key record,
 * DER SubjectPublicKeyInfo) with OpenSSL's d2i_PUBKEY_bio() for every
 * signature it checks, and offers no way to hand it a parsed key. With
 * OpenSSL 3 that decoding costs about seven times the RSA check itself
 * (docs/performance.md). This module defines d2i_PUBKEY_bio() in the
 * program, which the dynamic linker then binds libopendkim's calls to:
 * for a memory BIO (the only kind libopendkim uses for keys) it looks the
 * key's exact DER bytes up in a small table of parsed keys and returns a
 * new reference to the parsed key; on a miss it parses the bytes with
 * d2i_PUBKEY() and keeps the result. Any other use (another BIO type, or
 * a caller asking to reuse an EVP_PKEY) goes to OpenSSL's own function.
 *
 * The table is keyed by content, so it is a pure memo of a pure function:
 * a rotated or revoked key has other bytes (or none) and is parsed anew;
 * nothing expires. Callers only read the key and free their reference
 * (EVP_PKEY objects are reference counted and, in OpenSSL 3, safe to
 * read from several threads). Bounded: DKIMKEYCACHE_ENTRIES keys of at
 * most DKIMKEYCACHE_DER_MAX bytes, replaced by a CLOCK sweep; one mutex,
 * held for the lookup only (parsing happens outside it).
 *
 * Counters: dkim_keys_parsed (misses), dkim_key_cache_hits.
 */
#ifndef SMTPSCOPE_DKIMKEYCACHE_H
#define SMTPSCOPE_DKIMKEYCACHE_H

#include <stdbool.h>

#define DKIMKEYCACHE_ENTRIES	512	/* parsed keys kept */
#define DKIMKEYCACHE_DER_MAX	2048	/* larger keys are parsed, not kept */

/* dkimkeycache_active - whether libopendkim's key decoding reaches us */
bool dkimkeycache_active(void);

/* dkimkeycache_clear - drop every kept key (tests, exit) */
void dkimkeycache_clear(void);

#endif
