/*
 * session.c - session and message state driven by MTA events.
 *
 * Owns: the struct session (freed by session_close) and its message
 * (freed when its record is written). Faults of our own are counted,
 * reported through env->fault, and never stop the session.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <jansson.h>

#include "auth/authres.h"
#include "clock.h"
#include "errors.h"
#include "metrics.h"
#include "record/record.h"
#include "record/recordlog.h"
#include "session.h"
#include "stats.h"
#include "text.h"

static const char *const session_stage_names[SESSION_NSTAGES] = {
	"connect", "helo", "mail", "rcpt", "data", "header", "eoh", "body",
	"eom", "abort", "close"
};

static const char *const session_trunc_names[] = {
	"helo", "ptr", "server", "tls", "from", "rcpt", "rcpt_list", "msgid",
	"queue_id", "auth"
};

/* session_stage_name - the record's name of a stage */
const char *
session_stage_name(enum session_stage stage)
{
	return session_stage_names[stage];
}

/* session_trunc_name - the record's name of a truncation bit */
const char *
session_trunc_name(unsigned bit)
{
	unsigned i;

	for (i = 0; i < sizeof(session_trunc_names) / sizeof(char *); i++)
		if (bit == 1u << i)
			return session_trunc_names[i];
	return "?";
}

/* session_fault_mark - count a fault of our own on the session and its
 * message (OnError applies to the message) without reporting it */
static void
session_fault_mark(struct session *s)
{
	s->fault = true;
	if (s->msg != NULL)
		s->msg->fault = true;
	stats_add(STATS_INTERNAL_ERRORS, 1);
}

/* session_fault_errno - count and report a fault of our own, with the
 * errno behind it (0: none) */
static void
session_fault_errno(struct session *s, int code, int sys_errno,
    const char *what)
{
	session_fault_mark(s);
	if (s->env->fault != NULL)
		s->env->fault(s->env->fault_arg, code, sys_errno, what);
}

/* session_fault - a fault of our own that no errno explains */
static void
session_fault(struct session *s, int code, const char *what)
{
	session_fault_errno(s, code, 0, what);
}

/* session_copy - bounded copy; a cut sets the truncation bit */
static void
session_copy(char *out, size_t outsz, const char *in, unsigned *mask,
    unsigned bit)
{
	bool cut = false;

	text_copy(out, outsz, in, &cut);
	if (cut) {
		*mask |= bit;
		stats_add(STATS_TRUNCATIONS, 1);
	}
}

/* session_mark - note the first time a stage is seen */
static void
session_mark(int64_t *t, enum session_stage stage)
{
	if (t[stage] == 0)
		t[stage] = clock_mono();
}

/* per thread: random bytes for session ids, fetched 32 ids at a time */
#define SESSION_ID_POOL	(32 * SESSION_ID_LEN / 2)
static __thread unsigned char session_id_pool[SESSION_ID_POOL];
static __thread size_t session_id_left;

/* session_make_id - 96 random bits as 24 hex digits; the bits come from
 * getrandom(2) in blocks of 32 ids (one system call per 32 sessions), or,
 * should it fail, from the clock and rand() */
static void
session_make_id(char *out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char *raw;
	size_t i;
	int64_t now;

	if (session_id_left < SESSION_ID_LEN / 2) {
		if (getrandom(session_id_pool, sizeof(session_id_pool),
		    GRND_NONBLOCK) == (ssize_t)sizeof(session_id_pool)) {
			session_id_left = sizeof(session_id_pool);
		} else {
			now = clock_mono() ^ (int64_t)(uintptr_t)out;
			for (i = 0; i < SESSION_ID_LEN / 2; i++)
				session_id_pool[i] = (unsigned char)(now >>
				    ((i % 8) * 8)) ^ (unsigned char)rand();
			session_id_left = SESSION_ID_LEN / 2;
		}
	}
	session_id_left -= SESSION_ID_LEN / 2;
	raw = session_id_pool + session_id_left;
	for (i = 0; i < SESSION_ID_LEN / 2; i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[SESSION_ID_LEN] = '\0';
	explicit_bzero(raw, SESSION_ID_LEN / 2);	/* used once */
}

/* session_new - allocate a session; the caller owns it until close */
struct session *
session_new(const struct session_env *env)
{
	struct session *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		stats_add(STATS_INTERNAL_ERRORS, 1);
		return NULL;
	}
	s->env = env;
	s->start_wall = clock_wall();
	s->start_mono = clock_mono();
	s->t[SESSION_STAGE_CONNECT] = s->start_mono;
	s->tls.bits = -1;
	s->tls.verified = -1;
	session_make_id(s->id);
	stats_add(STATS_SESSIONS, 1);
	metrics_session_begin();
	return s;
}

/* session_sockaddr - client address and port from the connect argument */
static int
session_sockaddr(struct session *s, const struct sockaddr *sa)
{
	const struct sockaddr_in *sin = (const void *)sa;
	const struct sockaddr_in6 *sin6 = (const void *)sa;
	struct in_addr v4;

	if (sa == NULL)
		return SCOPE_ENOENT;
	if (sa->sa_family == AF_INET) {
		s->family = AF_INET;
		s->client_port = ntohs(sin->sin_port);
		inet_ntop(AF_INET, &sin->sin_addr, s->client_ip,
		    sizeof(s->client_ip));
		return SCOPE_OK;
	}
	if (sa->sa_family != AF_INET6)
		return SCOPE_ENOENT;
	s->client_port = ntohs(sin6->sin6_port);
	if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
		s->family = AF_INET;
		memcpy(&v4, &sin6->sin6_addr.s6_addr[12], sizeof(v4));
		inet_ntop(AF_INET, &v4, s->client_ip, sizeof(s->client_ip));
	} else {
		s->family = AF_INET6;
		inet_ntop(AF_INET6, &sin6->sin6_addr, s->client_ip,
		    sizeof(s->client_ip));
	}
	return SCOPE_OK;
}

/* session_macro_port - a port macro as a number, 0 if absent or bad */
static unsigned
session_macro_port(const struct macro_src *m, const char *name)
{
	const char *v = macro_get(m, name);
	long n;

	if (v == NULL || text_parse_long(v, 10, 0, 65535, &n) != SCOPE_OK)
		return 0;
	return (unsigned)n;
}

/* session_client_macros - fall-backs and names from connect macros */
static void
session_client_macros(struct session *s, const char *hostname,
    const struct macro_src *m)
{
	const char *ptr = macro_get(m, "{client_ptr}");
	const char *addr = macro_get(m, "{client_addr}");

	if (s->client_ip[0] == '\0' && addr != NULL &&
	    macro_addr(addr, s->client_ip, sizeof(s->client_ip),
	    &s->family) != SCOPE_OK)
		s->client_ip[0] = '\0';
	if (s->client_port == 0)
		s->client_port = session_macro_port(m, "{client_port}");
	/* "unknown" (Postfix) and "[addr]" (Sendmail) mean: no name */
	if (hostname != NULL && hostname[0] != '[' &&
	    strcmp(hostname, "unknown") != 0)
		session_copy(s->client_name, sizeof(s->client_name), hostname,
		    &s->truncated, SESSION_TRUNC_PTR);
	if (ptr != NULL && ptr[0] != '[' && strcmp(ptr, "unknown") != 0)
		session_copy(s->ptr, sizeof(s->ptr), ptr, &s->truncated,
		    SESSION_TRUNC_PTR);
	session_copy(s->resolve, sizeof(s->resolve),
	    macro_get(m, "{client_resolve}"), &s->truncated, SESSION_TRUNC_PTR);
}

/* session_server_macros - the MTA and the address the client reached */
static void
session_server_macros(struct session *s, const struct macro_src *m)
{
	const char *addr = macro_get(m, "{daemon_addr}");
	int family;

	if (addr == NULL)
		addr = macro_get(m, "{if_addr}");
	if (addr == NULL || macro_addr(addr, s->server_addr,
	    sizeof(s->server_addr), &family) != SCOPE_OK)
		s->server_addr[0] = '\0';
	s->server_port = session_macro_port(m, "{daemon_port}");
	session_copy(s->server_name, sizeof(s->server_name),
	    macro_get(m, "j"), &s->truncated, SESSION_TRUNC_SERVER);
	session_copy(s->daemon_name, sizeof(s->daemon_name),
	    macro_get(m, "{daemon_name}"), &s->truncated, SESSION_TRUNC_SERVER);
	s->mta = macro_mta_detect(macro_get(m, "v"), s->mta_version,
	    sizeof(s->mta_version));
	if (macro_get(m, "v") != NULL &&
	    strlen(macro_get(m, "v")) >= sizeof(s->mta_version)) {
		s->truncated |= SESSION_TRUNC_SERVER;
		stats_add(STATS_TRUNCATIONS, 1);
	}
}

/* session_tls - take TLS facts from the macros when they first appear */
static void
session_tls(struct session *s, const struct macro_src *m)
{
	bool cut = false;

	if (s->tls.used)
		return;
	if (macro_read_tls(m, &s->tls, &cut) == 1 && cut) {
		s->truncated |= SESSION_TRUNC_TLS;
		stats_add(STATS_TRUNCATIONS, 1);
	}
}

/* session_connect - the client connected */
void
session_connect(struct session *s, const char *hostname,
    const struct sockaddr *sa, const struct macro_src *m)
{
	if (session_sockaddr(s, sa) != SCOPE_OK)
		s->family = 0;
	session_client_macros(s, hostname, m);
	session_server_macros(s, m);
	session_tls(s, m);
	if (s->env->tags != NULL) {
		tags_match_session(s->env->tags, s->server_addr,
		    s->server_port, s->client_ip, &s->tags);
		tags_merge(&s->tags_all, &s->tags);
	}
}

/* session_helo - HELO or EHLO; Postfix repeats it after STARTTLS */
void
session_helo(struct session *s, const char *helo, const struct macro_src *m)
{
	session_mark(s->t, SESSION_STAGE_HELO);
	s->helo_count++;
	session_copy(s->helo, sizeof(s->helo), helo, &s->truncated,
	    SESSION_TRUNC_HELO);
	session_tls(s, m);
}

/* session_write_cut - a record over the log's cap, cut down to fit it
 * (record_fit, on the record parsed from its text) and written; never
 * dropped for its size */
static int
session_write_cut(struct session *s, const char *text, size_t len)
{
	char cuts[160], what[256];
	json_t *rec;
	int rc;

	if ((rec = json_loadb(text, len, 0, NULL)) == NULL)
		return SCOPE_ENOMEM;
	rc = record_fit(rec, RECORDLOG_RECORD_MAX - 1, cuts, sizeof(cuts));
	if (rc == SCOPE_OK) {
		stats_add(STATS_RECORDS_CUT, 1);
		if (s->env->notice != NULL) {
			const char *event = json_string_value(
			    json_object_get(rec, "event"));

			snprintf(what, sizeof(what), "%s record of session %s "
			    "cut to fit %d bytes: %s", event != NULL ? event :
			    "a", s->id, RECORDLOG_RECORD_MAX, cuts);
			s->env->notice(s->env->fault_arg, SCOPE_ETOOBIG, what);
		}
		rc = recordlog_write_json(s->env->log, rec);
	}
	json_decref(rec);
	return rc;
}

/* session_write - append one record, given as its text (rc: how writing
 * the text went; text has a spare byte for the newline, and is freed
 * here); faults are reported */
static int
session_write(struct session *s, int rc, char *text, size_t len)
{
	if (rc == SCOPE_OK && len <= RECORDLOG_RECORD_MAX - 1) {
		text[len] = '\n';
		rc = recordlog_write(s->env->log, text, len + 1);
	} else if (rc == SCOPE_OK) {
		rc = session_write_cut(s, text, len);
	} else {
		stats_add(STATS_RECORDS_LOST, 1);
		session_fault(s, rc, "building a record");
		return rc;
	}
	free(text);
	if (rc != SCOPE_OK) {
		stats_add(STATS_RECORDS_LOST, 1);
		/* the record log reports its episodes of write failures */
		if (rc == SCOPE_EIO)
			session_fault_mark(s);
		else
			session_fault(s, rc, "writing a record");
		return rc;
	}
	stats_add(STATS_RECORDS_WRITTEN, 1);
	return SCOPE_OK;
}

/* session_message_free - release a message and its recipient copies */
static void
session_message_free(struct session_message *msg)
{
	unsigned i;

	if (msg == NULL)
		return;
	for (i = 0; i < msg->nrcpt; i++)
		free(msg->rcpt[i]);
	auth_message_free(&msg->auth);
	free(msg->ar);
	free(msg->gl);
	free(msg);
}

/* session_last_stage - the latest stage the message reached */
static enum session_stage
session_last_stage(const struct session_message *msg)
{
	int i;

	for (i = SESSION_STAGE_EOM; i > SESSION_STAGE_CONNECT; i--)
		if (msg->t[i] != 0)
			return (enum session_stage)i;
	return SESSION_STAGE_MAIL;
}

/* session_checks - the session's and the message's checks, once each;
 * what runs now (iprev for the first message, SPF, DKIM, DMARC) shares
 * one DNSTimeout budget, the most DNS may delay the reply */
static void
session_checks(struct session *s, bool complete)
{
	int64_t deadline = auth_deadline(s->env->auth);

	auth_session_run(s->env->auth, &s->auth, s->client_ip, deadline);
	auth_message_run(s->env->auth, &s->msg->auth, s->client_ip,
	    s->helo_count > 0 ? s->helo : NULL, s->msg->from, complete,
	    deadline);
}

/* session_finish - write the message record and drop the message */
static int
session_finish(struct session *s, const char *action,
    enum session_stage stage)
{
	struct session_message *msg = s->msg;
	char *text;
	size_t len;
	int rc;

	if (msg == NULL)
		return SCOPE_OK;
	session_checks(s, false);
	tags_merge(&s->tags_all, &msg->tags);
	s->messages++;
	if (strcmp(action, "abort") == 0)
		s->aborted++;
	stats_add(STATS_MESSAGES, 1);
	metrics_observe_message(s, msg);
	rc = record_message_text(s, msg, action, session_stage_name(stage), 1,
	    &text, &len);
	rc = session_write(s, rc, text, len);
	s->msg = NULL;
	session_message_free(msg);
	return rc;
}

/* session_unbracket - an envelope address without its angle brackets */
static void
session_unbracket(char *out, size_t outsz, const char *arg, unsigned *mask,
    unsigned bit)
{
	char tmp[SESSION_ADDR_MAX + 2];
	size_t len;
	bool cut = false;

	text_copy(tmp, sizeof(tmp), arg, &cut);
	len = strlen(tmp);
	if (len >= 2 && tmp[0] == '<' && tmp[len - 1] == '>') {
		tmp[len - 1] = '\0';
		text_copy(out, outsz, tmp + 1, &cut);
	} else {
		text_copy(out, outsz, tmp, &cut);
	}
	if (cut) {
		*mask |= bit;
		stats_add(STATS_TRUNCATIONS, 1);
	}
}

/* session_esmtp_size - SIZE= among the MAIL FROM parameters */
static long
session_esmtp_size(const char *const *argv)
{
	long n;

	for (; argv != NULL && *argv != NULL; argv++)
		if (strncasecmp(*argv, "SIZE=", 5) == 0 &&
		    text_parse_long(*argv + 5, 10, 0, 0x7fffffffL, &n) == 0)
			return n;
	return -1;
}

/* session_mail - MAIL FROM opens a message */
void
session_mail(struct session *s, const char *const *argv,
    const struct macro_src *m)
{
	struct session_message *msg;

	if (s->msg != NULL)	/* no abort came: close the last one */
		session_finish(s, "abort", session_last_stage(s->msg));
	session_mark(s->t, SESSION_STAGE_MAIL);
	session_tls(s, m);
	msg = calloc(1, sizeof(*msg));
	if (msg == NULL) {
		session_fault(s, SCOPE_ENOMEM, "new message");
		return;
	}
	s->msg = msg;
	msg->index = s->messages + 1;
	msg->t[SESSION_STAGE_MAIL] = clock_mono();
	session_unbracket(msg->from, sizeof(msg->from),
	    argv != NULL ? argv[0] : NULL, &msg->truncated, SESSION_TRUNC_FROM);
	msg->size_declared = session_esmtp_size(argv != NULL && argv[0] != NULL ?
	    argv + 1 : NULL);
	msg->tags = s->tags;
	if (s->env->tags != NULL)
		tags_match_sender(s->env->tags, msg->from, &msg->tags);
	session_copy(msg->auth_type, sizeof(msg->auth_type),
	    macro_get(m, "{auth_type}"), &msg->truncated, SESSION_TRUNC_AUTH);
	session_copy(msg->auth_user, sizeof(msg->auth_user),
	    macro_get(m, "{auth_authen}"), &msg->truncated, SESSION_TRUNC_AUTH);
}

/* session_queue_id - take the queue id once the MTA has one */
static void
session_queue_id(struct session_message *msg, const struct macro_src *m)
{
	const char *qid = macro_get(m, "i");

	if (qid != NULL && msg->queue_id[0] == '\0')
		session_copy(msg->queue_id, sizeof(msg->queue_id), qid,
		    &msg->truncated, SESSION_TRUNC_QUEUE_ID);
}

/* session_msg_stage - a message stage with the queue id macro */
static void
session_msg_stage(struct session *s, enum session_stage stage,
    const struct macro_src *m)
{
	session_mark(s->t, stage);
	if (s->msg == NULL)
		return;
	session_mark(s->msg->t, stage);
	session_queue_id(s->msg, m);
}

/* session_gl_keep - append a result to a capped, growing list */
static int
session_gl_keep(struct session_gl **list, unsigned *n, unsigned *total,
    const struct session_gl *g)
{
	struct session_gl *grown;

	(*total)++;
	if (*n == SESSION_GL_MAX)
		return SCOPE_OK;
	grown = realloc(*list, (*n + 1) * sizeof(**list));
	if (grown == NULL)
		return SCOPE_ENOMEM;
	*list = grown;
	grown[(*n)++] = *g;
	return SCOPE_OK;
}

/* session_greylist - one recipient through greylisting (mode: a tag's
 * greylist mode, or -1 for the configured one); true to refuse */
static bool
session_greylist(struct session *s, struct session_message *msg,
    const char *rcpt, int mode)
{
	const struct session_env *env = s->env;
	struct greylist_attempt a;
	struct session_gl g;

	memset(&a, 0, sizeof(a));
	memset(&g, 0, sizeof(g));
	text_copy(g.rcpt, sizeof(g.rcpt), rcpt, NULL);
	g.msg = msg->index;
	a.client_ip = s->client_ip;
	a.client_name = s->client_name[0] != '\0' ? s->client_name : NULL;
	a.sender = msg->from;
	a.rcpt = rcpt;
	a.now = clock_wall() / 1000000;
	if (mode >= 0) {
		a.mode_set = true;
		a.mode = (enum greylist_mode)mode;
	}
	greylist_check(env->gl, env->glstore, &a, &g.r);
	if (g.r.verdict == GREYLIST_ERROR) {
		stats_add(STATS_GREYLIST_ERRORS, 1);
		if (g.r.store_full)	/* logged once per episode instead */
			stats_add(STATS_GREYLIST_STORE_FULL, 1);
		else if (env->fault != NULL)
			env->fault(env->fault_arg, SCOPE_EIO, 0, g.r.error[0] !=
			    '\0' ? g.r.error : "greylist store");
	}
	if (session_gl_keep(&msg->gl, &msg->ngl, &msg->gl_total, &g) !=
	    SCOPE_OK || session_gl_keep(&s->gl, &s->ngl, &s->gl_total, &g) !=
	    SCOPE_OK)
		session_fault(s, SCOPE_ENOMEM, "greylist result");
	if (!greylist_refuses(env->gl, &g.r))
		return false;
	stats_add(STATS_GREYLIST_REFUSED, 1);
	return true;
}

/* session_rcpt_tags - a recipient's tags into the message's; the
 * greylist mode they ask for, or -1 */
static int
session_rcpt_tags(struct session *s, struct session_message *msg,
    const char *rcpt)
{
	struct tags_set set;

	if (s->env->tags == NULL)
		return -1;
	set = msg->tags;	/* session and sender tags come first */
	tags_match_rcpt(s->env->tags, rcpt, &set);
	tags_merge(&msg->tags, &set);
	return tags_greylist(s->env->tags, &set);
}

/* session_rcpt - RCPT TO adds a recipient, listed up to the cap, and
 * passes it through greylisting when that is on */
enum session_verdict
session_rcpt(struct session *s, const char *const *argv,
    const struct macro_src *m, const char **reply)
{
	struct session_message *msg = s->msg;
	char addr[SESSION_ADDR_MAX];
	int mode;

	session_msg_stage(s, SESSION_STAGE_RCPT, m);
	if (msg == NULL)
		return SESSION_CONTINUE;
	msg->rcpt_total++;
	session_unbracket(addr, sizeof(addr), argv != NULL ? argv[0] : NULL,
	    &msg->truncated, SESSION_TRUNC_RCPT);
	if (msg->nrcpt == SESSION_RCPT_MAX) {
		msg->truncated |= SESSION_TRUNC_RCPT_LIST;
	} else if ((msg->rcpt[msg->nrcpt] = strdup(addr)) == NULL) {
		session_fault(s, SCOPE_ENOMEM, "recipient copy");
	} else {
		msg->nrcpt++;
	}
	mode = session_rcpt_tags(s, msg, addr);
	if (s->env->gl == NULL || (mode < 0 ? s->env->gl->mode :
	    (enum greylist_mode)mode) == GREYLIST_OFF ||
	    !session_greylist(s, msg, addr, mode))
		return SESSION_CONTINUE;
	if (reply != NULL)
		*reply = "Greylisted, please try again later";
	return SESSION_TEMPFAIL;
}

/* session_data - DATA */
void
session_data(struct session *s, const struct macro_src *m)
{
	session_msg_stage(s, SESSION_STAGE_DATA, m);
}

/* session_servid - our authserv-id */
static const char *
session_servid(const struct session *s)
{
	return s->env->servid != NULL && *s->env->servid != '\0' ?
	    s->env->servid : "localhost";
}

/* session_mark_ar - remember A-R header number i (from 1) for removal:
 * it extends the last run, starts a new one, or, with every run taken,
 * starts the tail (all A-R headers from i on are removed) */
static void
session_mark_ar(struct session_message *msg, unsigned i)
{
	struct session_ar_run *last = msg->ar_nruns > 0 ?
	    &msg->ar_runs[msg->ar_nruns - 1] : NULL;

	if (msg->ar_tail != 0) {
		msg->ar_tail_forged++;
	} else if (last != NULL && last->first + last->count == i) {
		last->count++;
	} else if (msg->ar_nruns < SESSION_AR_RUNS) {
		msg->ar_runs[msg->ar_nruns].first = i;
		msg->ar_runs[msg->ar_nruns++].count = 1;
	} else {
		msg->ar_tail = i;
		msg->ar_tail_forged = 1;
		stats_add(STATS_TRUNCATIONS, 1);
	}
}

/* session_note_ar - an existing A-R header: counted, and remembered for
 * removal when it claims our authserv-id (RFC 8601 section 5); with
 * RemoveAllAuthResults the count alone says what to remove */
static void
session_note_ar(struct session *s, struct session_message *msg,
    const char *value)
{
	bool forged = authres_claims(value, session_servid(s));

	if (msg->ar_found == UINT_MAX)	/* unreachable: > 100 GB of headers */
		return;
	msg->ar_found++;
	if (forged)
		msg->ar_forged++;
	if (s->env->headers && forged && !s->env->remove_all_ar)
		session_mark_ar(msg, msg->ar_found);
}

/* session_header - one header: counted, Message-ID kept, A-R noted,
 * streamed to the checks */
void
session_header(struct session *s, const char *name, const char *value)
{
	struct session_message *msg = s->msg;
	const char *v = value != NULL ? value : "";

	if (msg == NULL || name == NULL)
		return;
	session_mark(msg->t, SESSION_STAGE_HEADER);
	if (auth_message_header(s->env->auth, &msg->auth, name, v) !=
	    SCOPE_OK)
		session_fault(s, SCOPE_ENOMEM, "header copy");
	if (text_header_is(name, "Authentication-Results"))
		session_note_ar(s, msg, v);
	msg->headers++;
	/* "Name:" value CRLF; without SMFIP_HDR_LEADSPC the MTA strips the
	 * space after the colon, which is then counted as one */
	msg->header_bytes += strlen(name) + 1 + (*v == ' ' || *v == '\t' ?
	    0 : 1) + strlen(v) + 2;
	if (!text_header_is(name, "Message-ID"))
		return;
	if (msg->msgid_count++ > 0)
		return;
	v += strspn(v, " \t");
	session_copy(msg->msgid, sizeof(msg->msgid), v, &msg->truncated,
	    SESSION_TRUNC_MSGID);
}

/* session_eoh - end of headers */
void
session_eoh(struct session *s, const struct macro_src *m)
{
	session_msg_stage(s, SESSION_STAGE_EOH, m);
	if (s->msg != NULL)
		auth_message_eoh(&s->msg->auth);
}

/* session_body - a body chunk: counted, hashed for DKIM, never kept */
void
session_body(struct session *s, const unsigned char *chunk, size_t len)
{
	if (s->msg == NULL)
		return;
	session_mark(s->msg->t, SESSION_STAGE_BODY);
	s->msg->body_bytes += len;
	auth_message_body(&s->msg->auth, chunk, len);
}

/* session_ar_build - our A-R value, kept for the record */
static void
session_ar_build(struct session *s, struct session_message *msg)
{
	char *buf = malloc(AUTHRES_MAX);

	if (buf == NULL) {
		session_fault(s, SCOPE_ENOMEM, "Authentication-Results");
		return;
	}
	if (auth_message_authres(&s->auth, &msg->auth, session_servid(s),
	    s->client_ip, buf, AUTHRES_MAX) != SCOPE_OK)
		stats_add(STATS_TRUNCATIONS, 1);
	msg->ar = strdup(buf);
	free(buf);
	if (msg->ar == NULL)
		session_fault(s, SCOPE_ENOMEM, "Authentication-Results");
}

/* session_ar_remove - remove A-R headers last..first (indices from 1),
 * highest first: the MTA's index counts the headers of that name as
 * they are at the time of the call, and Postfix drops a deleted header
 * from that count while Sendmail keeps it (with no value), so only
 * removal from the bottom up means the same under both */
static void
session_ar_remove(struct session_message *msg, const struct session_editor *ed,
    unsigned first, unsigned last)
{
	unsigned i;

	for (i = last; i >= first && i > 0; i--) {
		if (ed->remove(ed->arg, "Authentication-Results", i) ==
		    SCOPE_OK)
			msg->ar_removed++;
		else
			msg->ar_unremoved++;
	}
}

/* session_ar_edit - remove the forged A-R headers (or all of them), then
 * add ours at the top */
static void
session_ar_edit(struct session *s, struct session_message *msg,
    const struct session_editor *ed)
{
	unsigned r;

	if (s->env->remove_all_ar) {
		session_ar_remove(msg, ed, 1, msg->ar_found);
	} else {
		if (msg->ar_tail != 0) {
			session_ar_remove(msg, ed, msg->ar_tail, msg->ar_found);
			msg->ar_removed_other = msg->ar_found - msg->ar_tail +
			    1 - msg->ar_tail_forged;
		}
		for (r = msg->ar_nruns; r-- > 0;)
			session_ar_remove(msg, ed, msg->ar_runs[r].first,
			    msg->ar_runs[r].first + msg->ar_runs[r].count - 1);
	}
	if (msg->ar_unremoved > 0)
		session_fault(s, SCOPE_EREFUSED,
		    "removing Authentication-Results");
	if (msg->ar == NULL || msg->ar[0] == '\0')
		return;
	if (ed->add(ed->arg, "Authentication-Results", msg->ar) == SCOPE_OK)
		msg->ar_added = true;
	else
		session_fault(s, SCOPE_EREFUSED, "adding Authentication-Results");
}

/* session_dmarc_reject - DMARCReject applies to this message */
static bool
session_dmarc_reject(const struct session *s,
    const struct session_message *msg)
{
	return s->env->dmarc_reject && msg->auth.dmarc &&
	    msg->auth.dmarc_out.result == DMARCEVAL_FAIL &&
	    msg->auth.dmarc_out.disposition == DMARCEVAL_DISP_REJECT;
}

/* session_eom - end of message: checks, headers, the record, our reply */
enum session_verdict
session_eom(struct session *s, const struct macro_src *m,
    const struct session_editor *ed, const char **reply)
{
	struct session_message *msg = s->msg;
	bool tempfail, reject;

	session_mark(s->t, SESSION_STAGE_EOM);
	if (msg == NULL) {
		session_fault(s, SCOPE_ESTATE, "end of message without MAIL");
		return s->env->tempfail_on_error ? SESSION_TEMPFAIL :
		    SESSION_CONTINUE;
	}
	session_mark(msg->t, SESSION_STAGE_EOM);
	session_queue_id(msg, m);
	if (msg->msgid[0] == '\0' && macro_get(m, "{msg_id}") != NULL)
		session_copy(msg->msgid, sizeof(msg->msgid),
		    macro_get(m, "{msg_id}"), &msg->truncated,
		    SESSION_TRUNC_MSGID);
	session_checks(s, true);
	session_ar_build(s, msg);
	reject = session_dmarc_reject(s, msg);
	if (s->env->headers && ed != NULL && !reject)
		session_ar_edit(s, msg, ed);
	tempfail = s->env->tempfail_on_error && msg->fault;
	if (session_finish(s, tempfail ? "tempfail" : reject ? "reject" :
	    "accept", SESSION_STAGE_EOM) != SCOPE_OK &&
	    s->env->tempfail_on_error)
		tempfail = true;
	if (tempfail) {
		stats_add(STATS_TEMPFAILS, 1);
		return SESSION_TEMPFAIL;
	}
	if (reject && reply != NULL)
		*reply = "Message rejected by the sender domain's DMARC policy";
	return reject ? SESSION_REJECT : SESSION_CONTINUE;
}

/* session_abort - the MTA dropped the message (RSET, QUIT, rejection);
 * Postfix also sends an abort after STARTTLS, when there is no message */
void
session_abort(struct session *s)
{
	if (s->msg == NULL)
		return;
	session_mark(s->t, SESSION_STAGE_ABORT);
	session_finish(s, "abort", session_last_stage(s->msg));
}

/* session_close - the connection ended: records out, memory freed */
void
session_close(struct session *s)
{
	char *text;
	size_t len;
	int rc;

	if (s == NULL)
		return;
	if (s->msg != NULL)
		session_finish(s, "abort", session_last_stage(s->msg));
	auth_session_run(s->env->auth, &s->auth, s->client_ip, 0);
	s->t[SESSION_STAGE_CLOSE] = clock_mono();
	metrics_observe_session(s);
	rc = record_session_text(s, 1, &text, &len);
	session_write(s, rc, text, len);
	auth_session_free(&s->auth);
	free(s->gl);
	free(s);
	metrics_session_end();
}
