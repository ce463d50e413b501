/*
 * pseudo.h - pseudonymization of what a record says about people, per
 * field group, applied when a record is written (the checks always use
 * the real values).
 *
 * Groups and modes (smtpscope.conf keys Pseudonymize*):
 *   client addresses   keep | hmac | prefix | truncate | drop
 *   host names         keep | hmac | drop     (HELO, PTR, verified name)
 *   envelope addresses keep | hmac | drop     (MAIL FROM, RCPT TO)
 *   Message-ID         keep | hmac | drop
 * hmac: HMAC-SHA256 under a secret key read from PseudonymizeKeyFile (a
 * file no one but its owner may read); the same input gives the same
 * output under one key, so records can still be joined, and a dictionary
 * attack needs the key (unlike postgrey's unsalted SHA-1). Each record
 * names the key's id (the first 16 hex digits of SHA-256 of the key), so
 * keys can rotate. prefix: prefix-preserving address anonymization in the
 * style of Crypto-PAn (AES-128 under the key; two addresses sharing a
 * k-bit prefix map to addresses sharing exactly a k-bit prefix), IPv4
 * and IPv6. truncate: the /24 or /48 network, host bits zero. drop: the
 * value becomes null.
 *
 * A struct pseudo is read-only after pseudo_new() and shared by all
 * threads.
 */
#ifndef SMTPSCOPE_PSEUDO_H
#define SMTPSCOPE_PSEUDO_H

#include <stdbool.h>
#include <stddef.h>

enum pseudo_mode {
	PSEUDO_KEEP,
	PSEUDO_HMAC,
	PSEUDO_DROP,
	PSEUDO_PREFIX,		/* client addresses only */
	PSEUDO_TRUNCATE		/* client addresses only */
};

struct pseudo_modes {
	enum pseudo_mode client_addr;
	enum pseudo_mode names;
	enum pseudo_mode addresses;
	enum pseudo_mode msgid;
};

#define PSEUDO_OUT_MAX	400	/* bytes any pseudonym needs, with NUL */

struct pseudo;

/* pseudo_new - modes and the key (keyfile may be NULL when no mode needs
 * a key); err names the problem (unreadable, readable by others, shorter
 * than 16 bytes) */
int pseudo_new(struct pseudo **out, const struct pseudo_modes *m,
    const char *keyfile, char *err, size_t errsz);
void pseudo_free(struct pseudo *p);

/* pseudo_active - some group is not kept as it is */
bool pseudo_active(const struct pseudo *p);
/* pseudo_key_id - 16 hex digits naming the key, "" without a key */
const char *pseudo_key_id(const struct pseudo *p);
const struct pseudo_modes *pseudo_modes(const struct pseudo *p);

/* each returns false when the value is dropped; out gets the value to
 * write (the input itself with keep) */
bool pseudo_ip(const struct pseudo *p, const char *ip, char *out,
    size_t outsz);
bool pseudo_name(const struct pseudo *p, const char *name, char *out,
    size_t outsz);
bool pseudo_addr(const struct pseudo *p, const char *addr, char *out,
    size_t outsz);
bool pseudo_msgid(const struct pseudo *p, const char *msgid, char *out,
    size_t outsz);

#endif
