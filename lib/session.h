/*
 * session.h - what happened in one SMTP session, as events from the MTA.
 *
 * The milter turns each libmilter callback into one session_*() call with
 * plain C values and a macro source; nothing here knows libmilter. A
 * session owns its current message; every stored string is a bounded,
 * valid-UTF-8 copy (text.h) and every list has a cap, so one session
 * holds at most a few tens of KiB whatever the client sends.
 *
 * Records: session_eom() and session_abort() write the message record;
 * session_close() writes the session record (and a pending message
 * record if the connection dropped mid-message) and frees the session.
 * A fault of our own (no memory, record not written) is reported through
 * the env's fault hook and, with OnError tempfail, turns the reply at the
 * end of the message into a temporary failure.
 */
#ifndef SMTPSCOPE_SESSION_H
#define SMTPSCOPE_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "auth/auth.h"
#include "greylist/greylist.h"
#include "macro.h"
#include "tags.h"

/* caps, in bytes including the terminating NUL, or counts */
#define SESSION_HELO_MAX	256	/* RFC 5321 domain: 255 */
#define SESSION_NAME_MAX	256	/* PTR and MTA host names */
#define SESSION_ADDR_MAX	321	/* RFC 5321 path: 64 + 1 + 255 */
#define SESSION_IP_MAX		46	/* INET6_ADDRSTRLEN */
#define SESSION_QID_MAX		64	/* MTA queue id */
#define SESSION_MSGID_MAX	512	/* Message-ID header value */
#define SESSION_RCPT_MAX	100	/* recipients listed per message */
#define SESSION_ID_LEN		24	/* hex characters of a session id */
#define SESSION_AR_RUNS		256	/* runs of forged A-R headers kept
					 * (see session_message) */
#define SESSION_GL_MAX		16	/* greylist results listed per message
					 * and per session; more are counted */

enum session_stage {
	SESSION_STAGE_CONNECT,
	SESSION_STAGE_HELO,
	SESSION_STAGE_MAIL,
	SESSION_STAGE_RCPT,
	SESSION_STAGE_DATA,
	SESSION_STAGE_HEADER,
	SESSION_STAGE_EOH,
	SESSION_STAGE_BODY,
	SESSION_STAGE_EOM,
	SESSION_STAGE_ABORT,
	SESSION_STAGE_CLOSE,
	SESSION_NSTAGES
};

/* fields that can be cut at their cap, named in the record's "truncated" */
enum session_trunc {
	SESSION_TRUNC_HELO = 1 << 0,
	SESSION_TRUNC_PTR = 1 << 1,
	SESSION_TRUNC_SERVER = 1 << 2,
	SESSION_TRUNC_TLS = 1 << 3,
	SESSION_TRUNC_FROM = 1 << 4,
	SESSION_TRUNC_RCPT = 1 << 5,
	SESSION_TRUNC_RCPT_LIST = 1 << 6,
	SESSION_TRUNC_MSGID = 1 << 7,
	SESSION_TRUNC_QUEUE_ID = 1 << 8,
	SESSION_TRUNC_AUTH = 1 << 9
};

enum session_verdict { SESSION_CONTINUE, SESSION_TEMPFAIL, SESSION_REJECT };

struct recordlog;

/* what the session needs from the daemon; shared, read-only */
struct session_env {
	struct recordlog *log;
	bool tempfail_on_error;		/* OnError tempfail */
	const struct auth_env *auth;	/* checks to run; may be NULL */
	const char *servid;		/* AuthservID */
	bool headers;			/* add A-R, remove forged ones */
	bool remove_all_ar;		/* RemoveAllAuthResults */
	bool dmarc_reject;		/* DMARCReject */
	const struct greylist_params *gl;	/* NULL: greylisting off */
	struct glstore *glstore;
	const struct tags *tags;	/* TagRules; NULL: none */
	const struct pseudo *pseudo;	/* Pseudonymize*; NULL: keep all */
	/* called on a fault of our own; may be NULL */
	void (*fault)(void *arg, int code, const char *what);
	void *fault_arg;
};

struct session_message {
	unsigned index;			/* 1 for the first in the session */
	char queue_id[SESSION_QID_MAX];
	char from[SESSION_ADDR_MAX];	/* "" for the null sender */
	long size_declared;		/* ESMTP SIZE=, -1 if not given */
	char *rcpt[SESSION_RCPT_MAX];	/* owned copies */
	unsigned nrcpt;			/* listed */
	unsigned rcpt_total;		/* seen, may exceed SESSION_RCPT_MAX */
	char auth_type[64];		/* SMTP AUTH mechanism, "" if none */
	char auth_user[SESSION_ADDR_MAX];
	char msgid[SESSION_MSGID_MAX];
	unsigned msgid_count;		/* Message-ID headers seen */
	unsigned headers;
	uint64_t header_bytes;		/* "Name: value\r\n" as on the wire */
	uint64_t body_bytes;
	int64_t t[SESSION_NSTAGES];	/* mono us of first sight, 0 unseen */
	unsigned truncated;		/* enum session_trunc bits */
	bool fault;			/* a fault of ours touched it */
	struct auth_message auth;
	/* Authentication-Results. Removal goes by the index among the
	 * headers of that name (smfi_chgheader), so every A-R header is
	 * counted, whatever its number; those to remove are kept as runs of
	 * consecutive indices (from 1). A message with more than
	 * SESSION_AR_RUNS separate runs of forged headers has every A-R
	 * header from the first one past the cap (ar_tail) on removed:
	 * memory stays fixed and no forged header is ever kept; the
	 * harmless ones removed that way are counted in ar_removed_other. */
	unsigned ar_found;		/* A-R headers seen */
	unsigned ar_forged;		/* claiming our AuthservID */
	struct session_ar_run {
		unsigned first;		/* index of the first, from 1 */
		unsigned count;
	} ar_runs[SESSION_AR_RUNS];
	unsigned ar_nruns;
	unsigned ar_tail;		/* 0, or remove from this index on */
	unsigned ar_tail_forged;	/* forged ones from ar_tail on */
	unsigned ar_removed;		/* removals the MTA accepted */
	unsigned ar_removed_other;	/* of which not forged (past the run
					 * cap, or RemoveAllAuthResults) */
	unsigned ar_unremoved;		/* to remove, but refused by the MTA */
	char *ar;			/* owned: the value we add (or would) */
	bool ar_added;
	struct session_gl *gl;		/* owned: greylist results, in RCPT
					 * order, at most SESSION_GL_MAX */
	unsigned ngl;
	unsigned gl_total;		/* recipients checked */
	struct tags_set tags;		/* session, sender and recipients */
};

/* one recipient's greylisting */
struct session_gl {
	char rcpt[SESSION_ADDR_MAX];
	unsigned msg;			/* message index in the session */
	struct greylist_result r;
};

/* header changes at end of message, done by the MTA glue; NULL: none */
struct session_editor {
	/* add a header at the top; 0 or a negative SCOPE_* code */
	int (*add)(void *arg, const char *name, const char *value);
	/* remove the index'th (from 1) header of that name */
	int (*remove)(void *arg, const char *name, unsigned index);
	void *arg;
};

struct session {
	const struct session_env *env;
	char id[SESSION_ID_LEN + 1];
	int64_t start_wall;
	int64_t start_mono;
	enum macro_mta mta;
	char mta_version[SESSION_NAME_MAX];
	char client_ip[SESSION_IP_MAX];
	unsigned client_port;
	int family;			/* AF_INET, AF_INET6, 0 unknown */
	char client_name[SESSION_NAME_MAX];	/* the MTA's verified name */
	char ptr[SESSION_NAME_MAX];
	char resolve[16];		/* {client_resolve}: OK FAIL FORGED TEMP */
	char helo[SESSION_HELO_MAX];
	unsigned helo_count;
	char server_addr[SESSION_IP_MAX];
	unsigned server_port;
	char server_name[SESSION_NAME_MAX];
	char daemon_name[SESSION_NAME_MAX];
	struct tls_info tls;
	int64_t t[SESSION_NSTAGES];
	unsigned messages;		/* message records written */
	unsigned aborted;		/* of which aborted */
	unsigned truncated;
	bool fault;
	struct auth_session auth;
	struct session_message *msg;	/* the message in progress, or NULL */
	struct session_gl *gl;		/* owned: the session's greylist
					 * results (all messages), capped */
	unsigned ngl;
	unsigned gl_total;
	struct tags_set tags;		/* local address and client rules */
	struct tags_set tags_all;	/* and those of every message */
};

/* session_new - a session for a new connection; NULL when out of memory */
struct session *session_new(const struct session_env *env);

void session_connect(struct session *s, const char *hostname,
    const struct sockaddr *sa, const struct macro_src *m);
void session_helo(struct session *s, const char *helo,
    const struct macro_src *m);
void session_mail(struct session *s, const char *const *argv,
    const struct macro_src *m);
/* session_rcpt - a recipient; SESSION_TEMPFAIL when greylisting refuses
 * it (451 4.7.1, text in *reply, static) */
enum session_verdict session_rcpt(struct session *s, const char *const *argv,
    const struct macro_src *m, const char **reply);
void session_data(struct session *s, const struct macro_src *m);
/* session_header - one header; value as received (leading white space
 * and folding kept: SMFIP_HDR_LEADSPC) */
void session_header(struct session *s, const char *name, const char *value);
void session_eoh(struct session *s, const struct macro_src *m);
void session_body(struct session *s, const unsigned char *chunk, size_t len);
/* session_eom - run the checks, edit headers through ed (may be NULL),
 * write the record; SESSION_REJECT only with DMARCReject (reply text in
 * *reply, static) */
enum session_verdict session_eom(struct session *s,
    const struct macro_src *m, const struct session_editor *ed,
    const char **reply);
void session_abort(struct session *s);
/* session_close - write the session record and free s */
void session_close(struct session *s);

/* session_trunc_name - the record's name of one truncation bit */
const char *session_trunc_name(unsigned bit);
const char *session_stage_name(enum session_stage stage);

#endif
