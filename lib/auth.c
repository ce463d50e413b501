/*
 * auth.c - run the checks a session and a message need, each in its own
 * DNS context. Owns the contexts (auth_*_free).
 */
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "errors.h"
#include "stats.h"

/* auth_ctx - a new DNS context, NULL when out of memory */
static struct dns_ctx *
auth_ctx(struct dns_resolver *r)
{
	struct dns_ctx *c = malloc(sizeof(*c));

	if (c != NULL && dns_ctx_init(c, r) != SCOPE_OK) {
		dns_ctx_free(c);
		free(c);
		c = NULL;
	}
	if (c == NULL)
		stats_add(STATS_INTERNAL_ERRORS, 1);
	return c;
}

/* auth_session_run - iprev, once */
void
auth_session_run(const struct auth_env *env, struct auth_session *a,
    const char *client_ip)
{
	if (a->done)
		return;
	a->done = true;
	if (env == NULL || env->dns == NULL || !env->iprev ||
	    client_ip == NULL || *client_ip == '\0')
		return;
	a->dns = auth_ctx(env->dns);
	if (a->dns != NULL)
		(void)iprev_check(a->dns, client_ip, &a->iprev);
}

/* auth_message_run - SPF for both identities, once */
void
auth_message_run(const struct auth_env *env, struct auth_message *a,
    const char *client_ip, const char *helo, const char *mailfrom)
{
	if (a->done)
		return;
	a->done = true;
	if (env == NULL || env->dns == NULL || env->spf == NULL ||
	    client_ip == NULL || *client_ip == '\0')
		return;
	a->dns = auth_ctx(env->dns);
	if (a->dns == NULL)
		return;
	a->spf = true;
	(void)spf_check_mailfrom(env->spf, a->dns, client_ip, helo, mailfrom,
	    &a->mailfrom);
	(void)spf_check_helo(env->spf, a->dns, client_ip, helo, &a->helo);
}

/* auth_session_free - release the session's DNS context */
void
auth_session_free(struct auth_session *a)
{
	if (a->dns != NULL) {
		dns_ctx_free(a->dns);
		free(a->dns);
		a->dns = NULL;
	}
}

/* auth_message_free - release the message's DNS context */
void
auth_message_free(struct auth_message *a)
{
	if (a->dns != NULL) {
		dns_ctx_free(a->dns);
		free(a->dns);
		a->dns = NULL;
	}
}
