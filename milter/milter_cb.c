/*
 * milter_cb.c - libmilter callbacks: negotiation, then one session event each.
 *
 * Negotiation asks only for the steps smtpscope uses, turns off replies
 * for the steps inside DATA where the MTA allows it (SMFIP_NR_*), skips
 * unknown commands, asks for headers exactly as received (leading space
 * kept, for DKIM), for the right to add and remove headers (only with
 * Headers yes), and for exactly the macros of lib/macro.c at each stage.
 *
 * Owns struct milter_conn: one per SMTP session, freed at close. An MTA
 * may reuse a milter connection for the next SMTP session (SMFIC_QUIT_NC):
 * libmilter then calls close and, for the next session, connect again,
 * without a new negotiation. So close sets the context's private pointer
 * to NULL (libmilter logs "private data not NULL" for a connection that
 * ends with it set) and keeps the negotiated protocol flags in
 * milter_reuse.c; connect on a context with no state makes a full new
 * session from them. Nothing is allocated between sessions, so nothing
 * leaks when the connection then ends. A connection whose state could
 * not be allocated at negotiation stays passive: its private pointer is
 * MILTER_PASSIVE, not a pointer.
 *
 * New connections beyond milter_cb_limit() are refused at negotiation
 * (libmilter closes them at once, the MTA applies its default action and
 * goes on), so that open descriptors never reach the process's limit,
 * where libmilter's accept loop would spin on EMFILE.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "clock.h"
#include "daemon_log.h"
#include "errors.h"
#include "milter_cb.h"
#include "milter_reuse.h"
#include "ratelimit.h"
#include "snapshot.h"
#include "stats.h"

struct milter_conn {
	struct session *s;	/* NULL when allocation failed */
	struct snapshot *snap;	/* the configuration it started with */
	unsigned long pflags;	/* negotiated protocol flags */
};

static unsigned milter_active;
static unsigned milter_max;	/* 0: no limit */
static int milter_stopping;
static struct ratelimit milter_refuse_limit;
static struct ratelimit milter_guess_limit;

#define MILTER_LOG_US	(60LL * 1000000)	/* rate-limited lines: one a minute */
#define MILTER_PASSIVE	((void *)1)	/* no state: allocation failed */

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

/* milter_cb_init - ready the callbacks (sessions take their environment
 * from the current configuration snapshot) */
void
milter_cb_init(void)
{
	ratelimit_init(&milter_refuse_limit, MILTER_LOG_US);
	ratelimit_init(&milter_guess_limit, MILTER_LOG_US);
}

/* milter_cb_limit - at most max sessions at once (0: no limit) */
void
milter_cb_limit(unsigned max)
{
	milter_max = max;
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

/* milter_conn_of - our state for a context, or NULL (none, passive, or
 * between two sessions of a reused connection) */
static struct milter_conn *
milter_conn_of(SMFICTX *ctx)
{
	void *p = smfi_getpriv(ctx);

	return p == MILTER_PASSIVE ? NULL : p;
}

/* milter_pflags - the negotiated protocol flags of a context */
static unsigned long
milter_pflags(SMFICTX *ctx)
{
	struct milter_conn *c = milter_conn_of(ctx);

	return c != NULL ? c->pflags : 0;
}

/* milter_admit - count one more session; false (and not counted) when
 * 'limited' and the session limit is reached */
static bool
milter_admit(bool limited)
{
	unsigned n = __atomic_add_fetch(&milter_active, 1, __ATOMIC_SEQ_CST);

	if (!limited || milter_max == 0 || n <= milter_max)
		return true;
	__atomic_sub_fetch(&milter_active, 1, __ATOMIC_SEQ_CST);
	return false;
}

/* milter_conn_new - state for one SMTP session, already counted by
 * milter_admit; NULL: out of memory (and no longer counted) */
static struct milter_conn *
milter_conn_new(SMFICTX *ctx, unsigned long pflags)
{
	struct milter_conn *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		__atomic_sub_fetch(&milter_active, 1, __ATOMIC_SEQ_CST);
		stats_add(STATS_INTERNAL_ERRORS, 1);
		daemon_log_fault(NULL, SCOPE_ENOMEM, 0, "connection state");
		return NULL;
	}
	c->pflags = pflags;
	c->snap = snapshot_acquire();
	smfi_setpriv(ctx, c);
	return c;
}

/* milter_reply - NOREPLY where negotiated, else CONTINUE */
static sfsistat
milter_reply(SMFICTX *ctx, unsigned long nr_flag)
{
	return (milter_pflags(ctx) & nr_flag) != 0 ? SMFIS_NOREPLY :
	    SMFIS_CONTINUE;
}

/* milter_refuse - over the session limit: count, log once a minute */
static void
milter_refuse(void)
{
	uint64_t held = 0;

	stats_add(STATS_SESSIONS_REFUSED, 1);
	if (ratelimit_allow(&milter_refuse_limit, clock_mono(), &held))
		daemon_log(LOG_WARNING, "session limit %u reached (file "
		    "descriptors): refusing new milter connections, the MTA "
		    "applies its default action; %llu refused so far",
		    milter_max, (unsigned long long)stats_get(
		    STATS_SESSIONS_REFUSED));
}

/* milter_reuse_guessed - a reused connection's flags were not kept (see
 * milter_reuse.c): counted, logged once a minute */
static void
milter_reuse_guessed(void)
{
	uint64_t held = 0;

	stats_add(STATS_INTERNAL_ERRORS, 1);
	if (ratelimit_allow(&milter_guess_limit, clock_mono(), &held))
		daemon_log(LOG_WARNING, "a reused milter connection's "
		    "negotiated flags were not kept: the last negotiated "
		    "ones are used");
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
	if (!milter_admit(true)) {
		milter_refuse();
		return SMFIS_REJECT;
	}
	c = milter_conn_new(ctx, (f1 & milter_nr_wanted) |
	    (f1 & SMFIP_NOUNKNOWN) | (f1 & SMFIP_HDR_LEADSPC));
	if (c == NULL) {
		smfi_setpriv(ctx, MILTER_PASSIVE);
		return SMFIS_ALL_OPTS;	/* libmilter defaults; we stay passive */
	}
	milter_reuse_negotiated(ctx, c->pflags);
	*pf0 = f0 & (SMFIF_SETSYMLIST | (c->snap != NULL &&
	    c->snap->env.headers ? SMFIF_ADDHDRS | SMFIF_CHGHDRS : 0));
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

/* milter_connect - a client connected to the MTA; on a reused milter
 * connection (after SMFIC_QUIT_NC) the state of a new session first */
static sfsistat
milter_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	struct milter_conn *c = milter_conn_of(ctx);
	struct macro_src m = { milter_getsym, ctx };
	unsigned long pflags;

	if (smfi_getpriv(ctx) == NULL) {	/* a reused connection */
		if (!milter_reuse_take(ctx, &pflags))
			milter_reuse_guessed();
		if (milter_admit(false))
			c = milter_conn_new(ctx, pflags);
	}
	if (c == NULL)
		return milter_reply(ctx, SMFIP_NR_CONN);
	if (c->s == NULL && c->snap != NULL)
		c->s = session_new(&c->snap->env);
	if (c->s == NULL) {
		daemon_log_fault(NULL, SCOPE_ENOMEM, 0, "new session");
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
		v = c != NULL && c->snap != NULL &&
		    c->snap->env.tempfail_on_error ? SESSION_TEMPFAIL :
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

/* milter_close - the SMTP session ended (and the connection, or a new
 * session follows on it: the tagged flags stay for milter_connect) */
static sfsistat
milter_close(SMFICTX *ctx)
{
	struct milter_conn *c = milter_conn_of(ctx);

	if (c == NULL)
		return SMFIS_CONTINUE;
	smfi_setpriv(ctx, NULL);
	milter_reuse_put(ctx, c->pflags);
	session_close(c->s);
	snapshot_release(c->snap);
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
