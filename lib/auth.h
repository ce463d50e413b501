/*
 * auth.h - the authentication checks of a session and its messages.
 *
 * auth_session() runs once per session (iprev); auth_message() once per
 * message that reached MAIL (SPF for the MAIL FROM and HELO identities).
 * Each owns a dns_ctx, so its lookups share one DNSTimeout budget and are
 * listed in the record. Checks switched off, or without a client address,
 * leave their result at "none". Nothing here fails the message: a DNS
 * problem is a temperror in the result.
 */
#ifndef SMTPSCOPE_AUTH_H
#define SMTPSCOPE_AUTH_H

#include <stdbool.h>

#include "dns.h"
#include "iprev.h"
#include "spf.h"

struct auth_env {
	struct dns_resolver *dns;	/* NULL: no DNS checks at all */
	struct spf_checker *spf;	/* NULL: SPF off */
	bool iprev;
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
	struct dns_ctx *dns;		/* owned; NULL until used */
};

void auth_session_run(const struct auth_env *env, struct auth_session *a,
    const char *client_ip);
void auth_message_run(const struct auth_env *env, struct auth_message *a,
    const char *client_ip, const char *helo, const char *mailfrom);
void auth_session_free(struct auth_session *a);
void auth_message_free(struct auth_message *a);

#endif
