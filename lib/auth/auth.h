/*
 * auth.h - the authentication checks of a session and its messages.
 *
 * auth_session() runs once per session (iprev); auth_message() once per
 * message that reached MAIL (SPF for the MAIL FROM and HELO identities;
 * for a message that reached its end also DKIM, every signature, and
 * DMARC). While the message streams past, auth_message_header/_eoh/_body
 * feed the DKIM verifier and keep the From header values; nothing else
 * of the message is kept. Each owns a dns_ctx, so its lookups are listed
 * in the record; both take a deadline (auth_deadline), so that the checks
 * one reply waits for share one DNSTimeout budget. Checks switched off,
 * or without a client address, leave their result at "none". Nothing
 * here fails the message: a DNS problem is a temperror in the result.
 */
#ifndef SMTPSCOPE_AUTH_H
#define SMTPSCOPE_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/dkimverify.h"
#include "auth/dmarceval.h"
#include "dns/dns.h"
#include "dns/iprev.h"
#include "auth/spf.h"

#define AUTH_FROM_KEPT	2	/* From header values kept for DMARC */
#define AUTH_FROM_MAX	8192	/* bytes kept of one From value */

struct auth_env {
	struct dns_resolver *dns;	/* NULL: no DNS checks at all */
	struct spf_checker *spf;	/* NULL: SPF off */
	bool iprev;
	struct dkimverify *dkim;	/* NULL: DKIM off */
	struct dmarceval *dmarc;	/* NULL: DMARC off */
};

/* which checks to set up, and how (from the configuration) */
struct auth_checks {
	bool spf, iprev, dkim, dmarc;
	struct dkimverify_options dkim_opt;
	const char *psl;		/* PublicSuffixList, NULL: default */
};

struct auth_session {
	bool done;
	struct iprev_outcome iprev;
	struct dns_ctx *dns;		/* owned; NULL until used */
};

struct auth_message {
	bool done;
	bool spf;			/* SPF was evaluated */
	struct spf_outcome mailfrom;
	struct spf_outcome helo;
	struct dkimverify_msg *dkim_msg;	/* owned; streaming state */
	bool dkim;			/* DKIM was evaluated */
	struct dkimverify_outcome dkim_out;	/* owns its signatures */
	bool dmarc;			/* DMARC was evaluated */
	struct dmarceval_outcome dmarc_out;
	char *from[AUTH_FROM_KEPT];	/* owned copies of From values */
	unsigned from_headers;		/* From headers seen */
	struct dns_ctx *dns;		/* owned; NULL until used */
};

/* auth_env_checks - set up the checkers of env (env->dns set by the
 * caller when any check is on); err names what failed */
int auth_env_checks(struct auth_env *env, const struct auth_checks *c,
    char *err, size_t errsz);
/* auth_env_free - release the checkers and the resolver */
void auth_env_free(struct auth_env *env);

/* auth_deadline - now plus DNSTimeout (0 without DNS): the deadline to
 * pass to the runs that share one budget */
int64_t auth_deadline(const struct auth_env *env);
/* auth_session_run - iprev, once, ending by deadline (0: a budget of its
 * own from now) */
void auth_session_run(const struct auth_env *env, struct auth_session *a,
    const char *client_ip, int64_t deadline);
/* auth_message_header - one header as received (value with its leading
 * white space and folding); SCOPE_ENOMEM when a copy failed */
int auth_message_header(const struct auth_env *env, struct auth_message *a,
    const char *name, const char *value);
void auth_message_eoh(struct auth_message *a);
void auth_message_body(struct auth_message *a, const unsigned char *buf,
    size_t len);
/* auth_message_run - the checks, ending by deadline (0: a budget of their
 * own); complete: the message reached its end (DKIM and DMARC run only
 * then) */
void auth_message_run(const struct auth_env *env, struct auth_message *a,
    const char *client_ip, const char *helo, const char *mailfrom,
    bool complete, int64_t deadline);
/* auth_message_authres - the Authentication-Results value for the checks
 * that ran; 0 or SCOPE_ETOOBIG (whole resinfos only) */
int auth_message_authres(const struct auth_session *as,
    const struct auth_message *a, const char *servid, const char *client_ip,
    char *out, size_t outsz);
void auth_session_free(struct auth_session *a);
void auth_message_free(struct auth_message *a);

#endif
