/*
 * macro.c - request lists and normalisation of Postfix and Sendmail macros.
 *
 * Every value copied out goes through text_clean(): bounded, valid UTF-8.
 * Nothing here allocates.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>

#include "errors.h"
#include "macro.h"
#include "text.h"

#define MACRO_TLS_LIST "{tls_version} {cipher} {cipher_bits} {cert_subject} " \
	"{cert_issuer} {verify} {cn_subject} {cn_issuer} {cert_md5}"

/*
 * TLS macros are asked for at CONNECT (wrapper-mode TLS, port 465), at
 * HELO (after STARTTLS; Postfix calls HELO again after the handshake) and
 * at MAIL (some setups skip the second HELO). libmilter keeps the values
 * of earlier stages, so the later stages need only what is new there.
 */
const char macro_list_connect[] = "j v {daemon_name} {daemon_addr} "
	"{daemon_port} {if_addr} {client_addr} {client_port} {client_ptr} "
	"{client_resolve} " MACRO_TLS_LIST;
const char macro_list_helo[] = MACRO_TLS_LIST;
const char macro_list_envfrom[] = "i {auth_type} {auth_authen} "
	MACRO_TLS_LIST;
const char macro_list_envrcpt[] = "i";
const char macro_list_data[] = "i";
const char macro_list_eoh[] = "i";
const char macro_list_eom[] = "i {msg_id}";

/* macro_get - a non-empty macro value or NULL */
const char *
macro_get(const struct macro_src *m, const char *name)
{
	const char *v;

	if (m == NULL || m->get == NULL)
		return NULL;
	v = m->get(m->arg, name);
	return v != NULL && *v != '\0' ? v : NULL;
}

/* macro_mta_detect - Postfix says "Postfix 3.7.11", Sendmail "8.17.1.9" */
enum macro_mta
macro_mta_detect(const char *v, char *version, size_t versz)
{
	if (versz > 0)
		version[0] = '\0';
	if (v == NULL)
		return MACRO_MTA_UNKNOWN;
	if (strncmp(v, "Postfix", 7) == 0) {
		v += 7;
		v += strspn(v, " ");
		text_copy(version, versz, v, NULL);
		return MACRO_MTA_POSTFIX;
	}
	text_copy(version, versz, v, NULL);
	if (isdigit((unsigned char)v[0]))
		return MACRO_MTA_SENDMAIL;
	return MACRO_MTA_UNKNOWN;
}

/* macro_mta_name - the record's name for an MTA */
const char *
macro_mta_name(enum macro_mta mta)
{
	switch (mta) {
	case MACRO_MTA_POSTFIX:
		return "postfix";
	case MACRO_MTA_SENDMAIL:
		return "sendmail";
	default:
		return "unknown";
	}
}

/* macro_tls_version - OpenSSL's names, with "TLSv1" made "TLSv1.0" */
void
macro_tls_version(const char *in, char *out, size_t outsz, bool *truncated)
{
	if (strcmp(in, "TLSv1") == 0)
		in = "TLSv1.0";
	text_copy(out, outsz, in, truncated);
}

/* macro_xtext_decode - "+XX" to the byte XX; a bad escape stays as is */
size_t
macro_xtext_decode(const char *in, char *out, size_t outsz, bool *truncated)
{
	char raw[MACRO_DN_MAX * 2];
	size_t n = 0;
	int hi, lo;

	while (*in != '\0' && n < sizeof(raw)) {
		if (in[0] == '+' && (hi = text_hexval(in[1])) >= 0 &&
		    (lo = text_hexval(in[2])) >= 0) {
			raw[n++] = (char)(hi * 16 + lo);
			in += 3;
		} else {
			raw[n++] = *in++;
		}
	}
	n = text_clean(out, outsz, raw, n, truncated);
	if (*in != '\0' && truncated != NULL)
		*truncated = true;
	return n;
}

/* macro_addr - canonical address text from a macro value */
int
macro_addr(const char *in, char *out, size_t outsz, int *family)
{
	char buf[INET6_ADDRSTRLEN + 8];
	unsigned char bin[sizeof(struct in6_addr)];
	size_t len;

	if (strncasecmp(in, "IPv6:", 5) == 0)
		in += 5;
	len = strlen(in);
	if (len >= 2 && in[0] == '[' && in[len - 1] == ']') {
		in++;
		len -= 2;
	}
	if (len >= sizeof(buf))
		return SCOPE_EINVAL;
	memcpy(buf, in, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, bin) == 1)
		*family = AF_INET;
	else if (inet_pton(AF_INET6, buf, bin) == 1)
		*family = AF_INET6;
	else
		return SCOPE_EINVAL;
	if (*family == AF_INET6 && IN6_IS_ADDR_V4MAPPED((struct in6_addr *)bin)) {
		*family = AF_INET;
		memmove(bin, bin + 12, 4);
	}
	if (inet_ntop(*family, bin, out, (socklen_t)outsz) == NULL)
		return SCOPE_ETOOBIG;
	return SCOPE_OK;
}

/* macro_copy - copy an optional macro into a field, noting truncation */
static void
macro_copy(const struct macro_src *m, const char *name, char *out,
    size_t outsz, bool *truncated)
{
	bool cut = false;

	text_copy(out, outsz, macro_get(m, name), &cut);
	if (cut)
		*truncated = true;
}

/* macro_decode - an optional xtext macro, decoded into a field */
static void
macro_decode(const struct macro_src *m, const char *name, char *out,
    size_t outsz, bool *truncated)
{
	const char *v = macro_get(m, name);
	bool cut = false;

	macro_xtext_decode(v != NULL ? v : "", out, outsz, &cut);
	if (cut)
		*truncated = true;
}

/* macro_read_peer - the client certificate, from either MTA's macros.
 * Sendmail xtext-encodes DNs and CNs; Postfix passes a plain CN, where
 * '+' is rare and only a valid "+XX" escape is decoded. */
static void
macro_read_peer(const struct macro_src *m, struct tls_info *tls,
    bool *truncated)
{
	const char *verify = macro_get(m, "{verify}");

	macro_copy(m, "{verify}", tls->verify, sizeof(tls->verify), truncated);
	macro_copy(m, "{cert_md5}", tls->cert_md5, sizeof(tls->cert_md5),
	    truncated);
	macro_decode(m, "{cert_subject}", tls->subject, sizeof(tls->subject),
	    truncated);
	macro_decode(m, "{cert_issuer}", tls->issuer, sizeof(tls->issuer),
	    truncated);
	macro_decode(m, "{cn_subject}", tls->cn_subject,
	    sizeof(tls->cn_subject), truncated);
	macro_decode(m, "{cn_issuer}", tls->cn_issuer, sizeof(tls->cn_issuer),
	    truncated);
	tls->verified = -1;
	tls->peer = tls->subject[0] != '\0' || tls->issuer[0] != '\0';
	if (verify == NULL)
		return;
	if (strcmp(verify, "OK") == 0 || strcmp(verify, "TRUSTED") == 0) {
		tls->verified = 1;
		tls->peer = true;
	} else if (strcmp(verify, "NO") == 0 || strcmp(verify, "NOT") == 0 ||
	    strcmp(verify, "NONE") == 0) {
		tls->peer = false;	/* no certificate presented or asked */
	} else {
		tls->verified = 0;	/* FAIL, PROTOCOL, SOFTWARE, TEMP, ... */
		tls->peer = true;
	}
}

/* macro_read_tls - the TLS facts of a session, if the MTA gave them */
int
macro_read_tls(const struct macro_src *m, struct tls_info *tls,
    bool *truncated)
{
	const char *version = macro_get(m, "{tls_version}");
	const char *bits = macro_get(m, "{cipher_bits}");
	long n;

	*truncated = false;
	if (version == NULL)
		return 0;
	memset(tls, 0, sizeof(*tls));
	tls->used = true;
	macro_tls_version(version, tls->version, sizeof(tls->version),
	    truncated);
	macro_copy(m, "{cipher}", tls->cipher, sizeof(tls->cipher), truncated);
	tls->bits = -1;
	if (bits != NULL && text_parse_long(bits, 10, 0, 65535, &n) == SCOPE_OK)
		tls->bits = (int)n;
	macro_read_peer(m, tls, truncated);
	return 1;
}
