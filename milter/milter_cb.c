/*
 * milter_cb.c - libmilter callbacks: negotiation, then one session event each.
 *
 * Negotiation asks only for the steps smtpscope uses, turns off replies
 * for the steps inside DATA where the MTA allows it (SMFIP_NR_*), skips
 * unknown commands, asks for headers exactly as received (leading space
 * kept, for DKIM), for the right to add and remove headers (only with
 * Headers yes), and for exactly the macros of lib/macro.c at each stage. Owns struct milter_conn (one per connection, freed at
 * close).
 */
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "daemon_log.h"
#include "errors.h"
#include "milter_cb.h"
#include "stats.h"

struct milter_conn {
	struct session *s;	/* NULL when allocation failed */
	unsigned long pflags;	/* negotiated protocol flags */
};

static const struct session_env *milter_env;
static unsigned milter_active;
static int milter_stopping;

/*
 * Steps we leave without a reply, where the MTA offers it: those inside
 * DATA, which always end in end-of-message (which we answer). Not the
 * envelope steps: Postfix 3.7 buffers no-reply events and, when the
 * client quits before DATA, closes the milter connection without sending
 * them, so the milter never learns of the session or of the aborted
 * MAIL/RCPT (seen in t/integration/postfix.sh). Answering CONNECT, HELO,
 * MAIL and RCPT costs a round trip each and keeps every record.
 */
static const unsigned long milter_nr_wanted = SMFIP_NR_DATA | SMFIP_NR_HDR |
    SMFIP_NR_EOH | SMFIP_NR_BODY | SMFIP_NR_UNKN;

/* milter_cb_init - remember the shared environment */
void
milter_cb_init(const struct session_env *env)
{
	milter_env = env;
}

/* milter_cb_active - connections currently open */
unsigned
milter_cb_active(void)
{
	return __atomic_load_n(&milter_active, __ATOMIC_RELAXED);
}

/* milter_cb_stop - new connections are refused from now on */
void
milter_cb_stop(void)
{
	__atomic_store_n(&milter_stopping, 1, __ATOMIC_SEQ_CST);
}

/* milter_getsym - struct macro_src over smfi_getsymval */
static const char *
milter_getsym(void *arg, const char *name)
{
	return smfi_getsymval(arg, (char *)name);
}

/* milter_conn_of - our state for a context, or NULL */
static struct milter_conn *
milter_conn_of(SMFICTX *ctx)
{
	return smfi_getpriv(ctx);
}

/* milter_reply - NOREPLY where negotiated, else CONTINUE */
static sfsistat
milter_reply(SMFICTX *ctx, unsigned long nr_flag)
{
	struct milter_conn *c = milter_conn_of(ctx);

	return c != NULL && (c->pflags & nr_flag) != 0 ? SMFIS_NOREPLY :
	    SMFIS_CONTINUE;
}

/* milter_symlist - ask for one stage's macros; failure is not fatal */
static void
milter_symlist(SMFICTX *ctx, int stage, const char *list)
{
	if (smfi_setsymlist(ctx, stage, (char *)list) != MI_SUCCESS)
		daemon_log(LOG_WARNING, "MTA refused macro list for stage %d",
		    stage);
}

/* milter_negotiate - choose steps, no-reply flags and macros */
static sfsistat
milter_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	struct milter_conn *c;

	(void)f2;
	(void)f3;
	if (__atomic_load_n(&milter_stopping, __ATOMIC_SEQ_CST))
		return SMFIS_REJECT;	/* libmilter closes; the MTA goes on */
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		stats_add(STATS_INTERNAL_ERRORS, 1);
		daemon_log_fault(NULL, SCOPE_ENOMEM, "connection state");
		return SMFIS_ALL_OPTS;	/* libmilter defaults; we stay passive */
	}
	__atomic_add_fetch(&milter_active, 1, __ATOMIC_RELAXED);
	c->pflags = (f1 & milter_nr_wanted) | (f1 & SMFIP_NOUNKNOWN) |
	    (f1 & SMFIP_HDR_LEADSPC);
	smfi_setpriv(ctx, c);
	*pf0 = f0 & (SMFIF_SETSYMLIST |
	    (milter_env->headers ? SMFIF_ADDHDRS | SMFIF_CHGHDRS : 0));
	*pf1 = c->pflags;
	*pf2 = 0;
	*pf3 = 0;
	if ((f0 & SMFIF_SETSYMLIST) != 0) {
		milter_symlist(ctx, SMFIM_CONNECT, macro_list_connect);
		milter_symlist(ctx, SMFIM_HELO, macro_list_helo);
		milter_symlist(ctx, SMFIM_ENVFROM, macro_list_envfrom);
		milter_symlist(ctx, SMFIM_ENVRCPT, macro_list_envrcpt);
		milter_symlist(ctx, SMFIM_DATA, macro_list_data);
		milter_symlist(ctx, SMFIM_EOH, macro_list_eoh);
		milter_symlist(ctx, SMFIM_EOM, macro_list_eom);
	}
	return SMFIS_CONTINUE;
}

/* milter_session - the session of a context, or NULL */
static struct session *
milter_session(SMFICTX *ctx)
{
	struct milter_conn *c = milter_conn_of(ctx);

	return c != NULL ? c->s : NULL;
}

/* milter_connect - a client connected to the MTA */
static sfsistat
milter_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	struct milter_conn *c = milter_conn_of(ctx);
	struct macro_src m = { milter_getsym, ctx };

	if (c == NULL)
		return SMFIS_CONTINUE;
	if (c->s == NULL)
		c->s = session_new(milter_env);
	if (c->s == NULL) {
		daemon_log_fault(NULL, SCOPE_ENOMEM, "new session");
		return milter_reply(ctx, SMFIP_NR_CONN);
	}
	session_connect(c->s, hostname, (const struct sockaddr *)hostaddr, &m);
	return milter_reply(ctx, SMFIP_NR_CONN);
}

/* milter_helo - HELO/EHLO */
static sfsistat
milter_helo(SMFICTX *ctx, char *helo)
{
	struct session *s = milter_session(ctx);
	struct macro_src m = { milter_getsym, ctx };

	if (s != NULL)
		session_helo(s, helo, &m);
	return milter_reply(ctx, SMFIP_NR_HELO);
}

/* milter_envfrom - MAIL FROM */
static sfsistat
milter_envfrom(SMFICTX *ctx, char **argv)
{
	struct session *s = milter_session(ctx);
	struct macro_src m = { milter_getsym, ctx };

	if (s != NULL)
		session_mail(s, (const char *const *)argv, &m);
	return milter_reply(ctx, SMFIP_NR_MAIL);
}

/* milter_envrcpt - RCPT TO; greylisting may answer 451 4.7.1 */
static sfsistat
milter_envrcpt(SMFICTX *ctx, char **argv)
{
	struct session *s = milter_session(ctx);
	struct macro_src m = { milter_getsym, ctx };
	const char *reply = NULL;

	if (s != NULL && session_rcpt(s, (const char *const *)argv, &m,
	    &reply) == SESSION_TEMPFAIL) {
		(void)smfi_setreply(ctx, "451", "4.7.1", (char *)reply);
		return SMFIS_TEMPFAIL;
	}
	return milter_reply(ctx, SMFIP_NR_RCPT);
}

/* milter_data - DATA */
static sfsistat
milter_data(SMFICTX *ctx)
{
	struct session *s = milter_session(ctx);
	struct macro_src m = { milter_getsym, ctx };

	if (s != NULL)
		session_data(s, &m);
	return milter_reply(ctx, SMFIP_NR_DATA);
}

/* milter_header - one header */
static sfsistat
milter_header(SMFICTX *ctx, char *name, char *value)
{
	struct session *s = milter_session(ctx);

	if (s != NULL)
		session_header(s, name, value);
	return milter_reply(ctx, SMFIP_NR_HDR);
}

/* milter_eoh - end of headers */
static sfsistat
milter_eoh(SMFICTX *ctx)
{
	struct session *s = milter_session(ctx);
	struct macro_src m = { milter_getsym, ctx };

	if (s != NULL)
		session_eoh(s, &m);
	return milter_reply(ctx, SMFIP_NR_EOH);
}

/* milter_body - a body chunk */
static sfsistat
milter_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct session *s = milter_session(ctx);

	if (s != NULL)
		session_body(s, chunk, len);
	return milter_reply(ctx, SMFIP_NR_BODY);
}

/* milter_hdr_add - session_editor: a header at the top; with
 * SMFIP_HDR_LEADSPC the MTA writes "Name:value", so the space is ours */
static int
milter_hdr_add(void *arg, const char *name, const char *value)
{
	SMFICTX *ctx = arg;
	struct milter_conn *c = milter_conn_of(ctx);
	char *spaced = NULL;
	int rc;

	if (c != NULL && (c->pflags & SMFIP_HDR_LEADSPC) != 0 &&
	    asprintf(&spaced, " %s", value) < 0)
		return SCOPE_ENOMEM;
	rc = smfi_insheader(ctx, 0, (char *)name, spaced != NULL ? spaced :
	    (char *)value);
	free(spaced);
	return rc == MI_SUCCESS ? SCOPE_OK : SCOPE_EREFUSED;
}

/* milter_hdr_remove - session_editor: the index'th header of a name */
static int
milter_hdr_remove(void *arg, const char *name, unsigned index)
{
	return smfi_chgheader(arg, (char *)name, (int)index, NULL) ==
	    MI_SUCCESS ? SCOPE_OK : SCOPE_EREFUSED;
}

/* milter_eom - end of message: header changes and our verdict */
static sfsistat
milter_eom(SMFICTX *ctx)
{
	struct milter_conn *c = milter_conn_of(ctx);
	struct macro_src m = { milter_getsym, ctx };
	struct session_editor ed = { milter_hdr_add, milter_hdr_remove, ctx };
	enum session_verdict v;
	const char *reply = NULL;

	if (c != NULL && c->s != NULL)
		v = session_eom(c->s, &m, &ed, &reply);
	else
		v = milter_env->tempfail_on_error ? SESSION_TEMPFAIL :
		    SESSION_CONTINUE;
	if (v == SESSION_REJECT) {
		(void)smfi_setreply(ctx, "550", "5.7.1", (char *)reply);
		return SMFIS_REJECT;
	}
	if (v != SESSION_TEMPFAIL)
		return SMFIS_CONTINUE;
	(void)smfi_setreply(ctx, "451", "4.3.0",
	    "Temporary local problem, please try again later");
	return SMFIS_TEMPFAIL;
}

/* milter_abort - the message was abandoned */
static sfsistat
milter_abort(SMFICTX *ctx)
{
	struct session *s = milter_session(ctx);

	if (s != NULL)
		session_abort(s);
	return SMFIS_CONTINUE;
}

/* milter_close - the connection ended */
static sfsistat
milter_close(SMFICTX *ctx)
{
	struct milter_conn *c = milter_conn_of(ctx);

	if (c == NULL)
		return SMFIS_CONTINUE;
	smfi_setpriv(ctx, NULL);
	session_close(c->s);
	free(c);
	__atomic_sub_fetch(&milter_active, 1, __ATOMIC_RELAXED);
	return SMFIS_CONTINUE;
}

struct smfiDesc milter_cb_desc = {
	.xxfi_name = "smtpscope",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_SETSYMLIST | SMFIF_ADDHDRS | SMFIF_CHGHDRS,
	.xxfi_connect = milter_connect,
	.xxfi_helo = milter_helo,
	.xxfi_envfrom = milter_envfrom,
	.xxfi_envrcpt = milter_envrcpt,
	.xxfi_header = milter_header,
	.xxfi_eoh = milter_eoh,
	.xxfi_body = milter_body,
	.xxfi_eom = milter_eom,
	.xxfi_abort = milter_abort,
	.xxfi_close = milter_close,
	.xxfi_unknown = NULL,
	.xxfi_data = milter_data,
	.xxfi_negotiate = milter_negotiate,
};
