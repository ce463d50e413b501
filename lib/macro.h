/*
 * macro.h - the MTA's milter macros, asked for and normalised.
 *
 * Postfix and Sendmail name and encode the same facts differently:
 * Sendmail writes IPv6 clients as "IPv6:0:0:...:1" and certificate
 * subjects in xtext ("/O=Lab+20Client/..."), gives {verify} and the full
 * distinguished names; Postfix gives only the CN of a certificate that
 * verified, and no {verify}. This module turns both into one struct
 * tls_info and canonical addresses. It reads macros through struct
 * macro_src, so it needs no libmilter and tests can feed any values.
 */
#ifndef SMTPSCOPE_MACRO_H
#define SMTPSCOPE_MACRO_H

#include <stdbool.h>
#include <stddef.h>

/* a source of macro values: get() returns NULL when the macro is unset */
struct macro_src {
	const char *(*get)(void *arg, const char *name);
	void *arg;
};

/* the macros smtpscope asks for at each stage (smfi_setsymlist) */
extern const char macro_list_connect[];
extern const char macro_list_helo[];
extern const char macro_list_envfrom[];
extern const char macro_list_envrcpt[];
extern const char macro_list_data[];
extern const char macro_list_eoh[];
extern const char macro_list_eom[];

enum macro_mta { MACRO_MTA_UNKNOWN, MACRO_MTA_POSTFIX, MACRO_MTA_SENDMAIL };

#define MACRO_TLS_VERSION_MAX	16
#define MACRO_TLS_CIPHER_MAX	128
#define MACRO_DN_MAX		512
#define MACRO_SHORT_MAX		64

struct tls_info {
	bool used;
	char version[MACRO_TLS_VERSION_MAX];	/* "TLSv1.3" */
	char cipher[MACRO_TLS_CIPHER_MAX];
	int bits;				/* -1: not given */
	bool peer;				/* a client certificate is known */
	char subject[MACRO_DN_MAX];
	char issuer[MACRO_DN_MAX];
	char cn_subject[MACRO_DN_MAX];		/* Sendmail only */
	char cn_issuer[MACRO_DN_MAX];		/* Sendmail only */
	char cert_md5[MACRO_SHORT_MAX];		/* Sendmail only */
	char verify[MACRO_SHORT_MAX];		/* raw {verify}, Sendmail only */
	int verified;				/* 1, 0, or -1: MTA does not say */
};

/* macro_get - a macro's value, or NULL when unset or empty */
const char *macro_get(const struct macro_src *m, const char *name);

/* macro_mta_detect - which MTA from the v macro; version copied out */
enum macro_mta macro_mta_detect(const char *v, char *version, size_t versz);
const char *macro_mta_name(enum macro_mta mta);

/* macro_read_tls - fill tls from the TLS macros if present; returns 1 if
 * TLS macros were seen, 0 if not; *truncated is set when a value was cut */
int macro_read_tls(const struct macro_src *m, struct tls_info *tls,
    bool *truncated);

/* macro_tls_version - canonical protocol name ("TLSv1" -> "TLSv1.0") */
void macro_tls_version(const char *in, char *out, size_t outsz, bool *truncated);

/* macro_addr - canonical text of an address macro ("IPv6:0:0::1" ->
 * "::1", "[192.0.2.1]" -> "192.0.2.1"); SCOPE_EINVAL if not an address */
int macro_addr(const char *in, char *out, size_t outsz, int *family);

/* macro_xtext_decode - RFC 3461 xtext ("+20" -> " "), bounded, cleaned */
size_t macro_xtext_decode(const char *in, char *out, size_t outsz,
    bool *truncated);

#endif
