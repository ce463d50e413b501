/*
 * auth.c - run the checks a session and a message need, each in its own
 * DNS context; contexts made for one deadline share one time budget.
 * Owns the contexts, the DKIM streaming state, the DKIM outcome and the
 * From copies (auth_*_free).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/auth.h"
#include "auth/authres.h"
#include "errors.h"
#include "stats.h"
#include "text.h"

/* auth_ctx - a new DNS context ending at deadline (0: a full budget from
 * now), NULL when out of memory */
static struct dns_ctx *
auth_ctx(struct dns_resolver *r, int64_t deadline)
{
	struct dns_ctx *c = malloc(sizeof(*c));

	if (c != NULL && dns_ctx_init_until(c, r, deadline != 0 ? deadline :
	    dns_deadline(r)) != SCOPE_OK) {
		dns_ctx_free(c);
		free(c);
		c = NULL;
	}
	if (c == NULL)
		stats_add(STATS_INTERNAL_ERRORS, 1);
	return c;
}

/* auth_env_checks - the shared checkers the configuration asks for */
int
auth_env_checks(struct auth_env *env, const struct auth_checks *c,
    char *err, size_t errsz)
{
	int rc;

	env->iprev = c->iprev;
	if (c->spf && (rc = spf_checker_new(&env->spf)) != SCOPE_OK) {
		snprintf(err, errsz, "cannot set up libspf2");
		return rc;
	}
	if (c->dkim && (rc = dkimverify_new(&env->dkim, &c->dkim_opt, err,
	    errsz)) != SCOPE_OK)
		return rc;
	if (c->dmarc && (rc = dmarceval_new(&env->dmarc, c->psl, err,
	    errsz)) != SCOPE_OK)
		return rc;
	return SCOPE_OK;
}

/* auth_env_free - everything auth_env_checks made, and the resolver */
void
auth_env_free(struct auth_env *env)
{
	if (env->spf != NULL)
		spf_checker_free(env->spf);
	if (env->dkim != NULL)
		dkimverify_free(env->dkim);
	if (env->dmarc != NULL)
		dmarceval_free(env->dmarc);
	if (env->dns != NULL)
		dns_resolver_free(env->dns);
	memset(env, 0, sizeof(*env));
}

/* auth_deadline - the end of a DNSTimeout budget starting now, to share
 * between auth_session_run and auth_message_run; 0 without DNS */
int64_t
auth_deadline(const struct auth_env *env)
{
	return env != NULL && env->dns != NULL ? dns_deadline(env->dns) : 0;
}

/* auth_session_run - iprev, once */
void
auth_session_run(const struct auth_env *env, struct auth_session *a,
    const char *client_ip, int64_t deadline)
{
	if (a->done)
		return;
	a->done = true;
	if (env == NULL || env->dns == NULL || !env->iprev ||
	    client_ip == NULL || *client_ip == '\0')
		return;
	a->dns = auth_ctx(env->dns, deadline);
	if (a->dns != NULL)
		(void)iprev_check(a->dns, client_ip, &a->iprev);
}

/* auth_keep_from - a bounded copy of a From value, for DMARC */
static int
auth_keep_from(struct auth_message *a, const char *value)
{
	unsigned i = a->from_headers++;

	if (i >= AUTH_FROM_KEPT)
		return SCOPE_OK;
	a->from[i] = strndup(value, AUTH_FROM_MAX);
	if (a->from[i] == NULL)
		return SCOPE_ENOMEM;
	if (strlen(a->from[i]) == AUTH_FROM_MAX)
		stats_add(STATS_TRUNCATIONS, 1);
	return SCOPE_OK;
}

/* auth_message_header - stream a header to DKIM; keep From values */
int
auth_message_header(const struct auth_env *env, struct auth_message *a,
    const char *name, const char *value)
{
	int rc = SCOPE_OK;

	if (env == NULL || name == NULL)
		return SCOPE_OK;
	if (value == NULL)
		value = "";
	if (env->dkim != NULL && a->dkim_msg == NULL && !a->done) {
		a->dkim_msg = dkimverify_msg_new(env->dkim);
		if (a->dkim_msg == NULL)
			rc = SCOPE_ENOMEM;
	}
	if (a->dkim_msg != NULL)
		dkimverify_msg_header(a->dkim_msg, name, value);
	if (env->dmarc != NULL && text_header_is(name, "From") &&
	    auth_keep_from(a, value) != SCOPE_OK)
		rc = SCOPE_ENOMEM;
	return rc;
}

/* auth_message_eoh - end of headers for DKIM */
void
auth_message_eoh(struct auth_message *a)
{
	if (a->dkim_msg != NULL)
		dkimverify_msg_eoh(a->dkim_msg);
}

/* auth_message_body - a body chunk for DKIM, hashed and forgotten */
void
auth_message_body(struct auth_message *a, const unsigned char *buf,
    size_t len)
{
	if (a->dkim_msg != NULL)
		dkimverify_msg_body(a->dkim_msg, buf, len);
}

/* auth_message_dkim - verify every signature (up to the cap) */
static void
auth_message_dkim(struct auth_message *a)
{
	if (a->dkim_msg == NULL)
		return;
	if (dkimverify_msg_eom(a->dkim_msg, a->dns, &a->dkim_out) != SCOPE_OK) {
		stats_add(STATS_INTERNAL_ERRORS, 1);
		dkimverify_outcome_free(&a->dkim_out);
		return;
	}
	a->dkim = true;
}

/* auth_message_dmarc - DMARC over the From values, MAIL FROM SPF, DKIM */
static void
auth_message_dmarc(const struct auth_env *env, struct auth_message *a)
{
	struct dmarceval_input in;

	memset(&in, 0, sizeof(in));
	in.from = (const char *const *)a->from;
	in.nfrom = a->from_headers < AUTH_FROM_KEPT ? a->from_headers :
	    AUTH_FROM_KEPT;
	in.from_headers = a->from_headers;
	in.spf_mailfrom = a->spf ? &a->mailfrom : NULL;
	in.dkim = a->dkim ? &a->dkim_out : NULL;
	if (dmarceval_check(env->dmarc, a->dns, &in, &a->dmarc_out) !=
	    SCOPE_OK) {
		stats_add(STATS_INTERNAL_ERRORS, 1);
		return;
	}
	a->dmarc = true;
}

/* auth_message_run - SPF for both identities, then DKIM and DMARC for a
 * complete message, once, all in one DNS budget (ending at deadline) */
void
auth_message_run(const struct auth_env *env, struct auth_message *a,
    const char *client_ip, const char *helo, const char *mailfrom,
    bool complete, int64_t deadline)
{
	bool have_ip = client_ip != NULL && *client_ip != '\0';

	if (a->done)
		return;
	a->done = true;
	if (env == NULL || env->dns == NULL)
		return;
	if (env->spf == NULL && !(complete && (a->dkim_msg != NULL ||
	    env->dmarc != NULL)))
		return;
	a->dns = auth_ctx(env->dns, deadline);
	if (a->dns == NULL)
		return;
	if (env->spf != NULL && have_ip) {
		a->spf = true;
		(void)spf_check_mailfrom(env->spf, a->dns, client_ip, helo,
		    mailfrom, &a->mailfrom);
		(void)spf_check_helo(env->spf, a->dns, client_ip, helo,
		    &a->helo);
	}
	if (!complete)
		return;
	auth_message_dkim(a);
	if (env->dmarc != NULL)
		auth_message_dmarc(env, a);
}

/* auth_message_authres - the A-R value for what ran */
int
auth_message_authres(const struct auth_session *as,
    const struct auth_message *a, const char *servid, const char *client_ip,
    char *out, size_t outsz)
{
	struct authres_input in;

	memset(&in, 0, sizeof(in));
	in.servid = servid;
	in.client_ip = client_ip;
	in.iprev = as != NULL && as->dns != NULL ? &as->iprev : NULL;
	in.spf_mailfrom = a->spf ? &a->mailfrom : NULL;
	in.spf_helo = a->spf ? &a->helo : NULL;
	in.dkim = a->dkim ? &a->dkim_out : NULL;
	in.dmarc = a->dmarc ? &a->dmarc_out : NULL;
	return authres_build(&in, out, outsz);
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

/* auth_message_free - release the message's DNS context and DKIM state */
void
auth_message_free(struct auth_message *a)
{
	unsigned i;

	dkimverify_msg_free(a->dkim_msg);
	a->dkim_msg = NULL;
	dkimverify_outcome_free(&a->dkim_out);
	for (i = 0; i < AUTH_FROM_KEPT; i++) {
		free(a->from[i]);
		a->from[i] = NULL;
	}
	if (a->dns != NULL) {
		dns_ctx_free(a->dns);
		free(a->dns);
		a->dns = NULL;
	}
}
