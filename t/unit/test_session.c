/*
 * test_session.c - the message pipeline of lib/session with the checks
 * on: forged Authentication-Results removal through a fake MTA editor,
 * From header counts reaching DMARC, DMARCReject, the DKIM signature cap,
 * a body of several MB streamed in small chunks with bounded memory,
 * one DNSTimeout budget for everything the end of a message waits for
 * (iprev and SPF against a name server that never answers), and a full
 * greylist store (counted, passed, no per-message fault).
 * DNS comes from in-memory zones (and that silent server); each case
 * reads its record back.
 */
#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "auth/auth.h"
#include "clock.h"
#include "errors.h"
#include "macros_fake.h"
#include "metrics.h"
#include "metrics_value.h"
#include "record/recordlog.h"
#include "errors.h"
#include "greylist/glstore_internal.h"
#include "greylist/greylist.h"
#include "session.h"
#include "stats.h"
#include "tags.h"
#include "tap.h"
#include "testutil.h"

#define SERVID	"mx.smtpscope.test"

static char logpath[] = "/tmp/test_session.XXXXXX";
static struct recordlog *rlog;
static struct session_env env;
static struct auth_env auth;

/* the fake MTA: what smtpscope asked it to change */
struct edits {
	unsigned removed[64];	/* the first 64 removals asked */
	unsigned nremoved;	/* all removals asked */
	char added[8192];
	unsigned nadded;
	int refuse;		/* answer every change with an error */
	/* optional model of the message's A-R headers, in order:
	 * AR_HARMLESS, AR_FORGED or AR_GONE (deleted) */
	unsigned char *ar;
	unsigned nar;
	bool sendmail;		/* Sendmail counts deleted headers, Postfix
				 * does not */
	unsigned missed;	/* removals whose index named no header */
};

enum { AR_HARMLESS, AR_FORGED, AR_GONE };

static int
fake_add(void *arg, const char *name, const char *value)
{
	struct edits *e = arg;

	if (e->refuse || strcmp(name, "Authentication-Results") != 0)
		return -2;
	snprintf(e->added, sizeof(e->added), "%s", value);
	e->nadded++;
	return 0;
}

/* model_remove - delete the index'th A-R header as the MTA would */
static void
model_remove(struct edits *e, unsigned index)
{
	unsigned i, n = 0;

	for (i = 0; i < e->nar; i++) {
		if (e->ar[i] == AR_GONE && !e->sendmail)
			continue;
		if (++n == index)
			break;
	}
	if (i == e->nar || e->ar[i] == AR_GONE)
		e->missed++;	/* Sendmail: deleting a deleted one is a no-op */
	else
		e->ar[i] = AR_GONE;
}

/* model_count - A-R headers of one kind left in the model */
static unsigned
model_count(const struct edits *e, int kind)
{
	unsigned i, n = 0;

	for (i = 0; i < e->nar; i++)
		n += e->ar[i] == kind;
	return n;
}

static int
fake_remove(void *arg, const char *name, unsigned index)
{
	struct edits *e = arg;

	if (e->refuse || strcmp(name, "Authentication-Results") != 0)
		return -2;
	if (e->nremoved < 64)
		e->removed[e->nremoved] = index;
	e->nremoved++;
	if (e->ar != NULL)
		model_remove(e, index);
	return 0;
}

static const char *const none[] = { NULL };

/* the last fault reported through env.fault */
static int fault_code;
static char fault_what[128];

static void
fault_note(void *arg, int code, int sys_errno, const char *what)
{
	(void)sys_errno;
	(void)arg;
	fault_code = code;
	snprintf(fault_what, sizeof(fault_what), "%s", what);
}

/* last_record - the last message record of the log, or NULL */
static json_t *
last_record(void)
{
	static char line[400000];
	FILE *fp = fopen(logpath, "r");
	json_t *rec = NULL, *o;

	while (fp != NULL && fgets(line, sizeof(line), fp) != NULL) {
		o = json_loads(line, 0, NULL);
		if (o != NULL && strcmp(json_string_value(json_object_get(o,
		    "event")), "message") == 0) {
			json_decref(rec);
			rec = o;
		} else {
			json_decref(o);
		}
	}
	if (fp != NULL)
		fclose(fp);
	return rec;
}


/* play - one session with one message; headers as name, value pairs */
static enum session_verdict
play(const char *mailfrom, const char *const *hdrs, const unsigned char *body,
    size_t len, size_t chunk, struct edits *ed)
{
	struct macro_src m = fake_src(none);
	struct sockaddr_in sin;
	struct session_editor editor = { fake_add, fake_remove, ed };
	const char *mail[] = { mailfrom, NULL };
	const char *rcpt[] = { "<rcpt@smtpscope.test>", NULL };
	enum session_verdict v;
	struct session *s = session_new(&env);
	size_t off;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.1", &sin.sin_addr);
	session_connect(s, "unknown", (struct sockaddr *)&sin, &m);
	session_helo(s, "mx.example.com", &m);
	session_mail(s, mail, &m);
	session_rcpt(s, rcpt, &m, NULL);
	session_data(s, &m);
	for (; hdrs[0] != NULL; hdrs += 2)
		session_header(s, hdrs[0], hdrs[1]);
	session_eoh(s, &m);
	for (off = 0; off < len; off += chunk)
		session_body(s, body + off, len - off < chunk ? len - off : chunk);
	v = session_eom(s, &m, ed != NULL ? &editor : NULL, NULL);
	session_close(s);
	return v;
}

static const unsigned char small_body[] = "Hello.\r\n";

/* forged A-R headers: which are removed, and in which order */
static void
test_forged(void)
{
	static const char *const hdrs[] = {
		"Authentication-Results", " mx.smtpscope.test; spf=pass",
		"Received", " from somewhere",
		"authentication-results", " MX.SMTPSCOPE.TEST ; dkim=pass",
		"Authentication-Results", " other.example; spf=pass",
		"AUTHENTICATION-RESULTS", "\n\t(forged)\n\t mx.smtpscope.test.;\n\tdmarc=pass",
		"Authentication-Results", " mx.smtpscope.test.evil; spf=pass",
		"Authentication-Results ", " \"mx.smtpscope.test\" 1; none",
		"Authentication-Results", " mx.smtpscope.test/1; dkim=pass",
		"From", " <a@example.com>",
		NULL
	};
	struct edits ed;
	json_t *rec;

	memset(&ed, 0, sizeof(ed));
	play("<a@example.com>", hdrs, small_body, sizeof(small_body) - 1, 64,
	    &ed);
	rec = last_record();
	is_int(ed.nremoved, 5, "forged: five headers claim our id");
	ok(ed.nremoved == 5 && ed.removed[0] == 7 && ed.removed[1] == 6 &&
	    ed.removed[2] == 4 && ed.removed[3] == 2 && ed.removed[4] == 1,
	    "forged: removed last first (7 \"id/1;\", 6, 4, 2, 1), others "
	    "kept");
	is_int(ed.nadded, 1, "forged: ours added once");
	ok(strncmp(ed.added, SERVID ";", strlen(SERVID) + 1) == 0,
	    "forged: ours starts with our authserv-id");
	is_int(ifield(rec, "authentication_results.found"), 7,
	    "record: seven A-R headers found");
	is_int(ifield(rec, "authentication_results.forged"), 5,
	    "record: five forged");
	is_int(ifield(rec, "authentication_results.removed"), 5,
	    "record: five removed");
	is_str(sfield(rec, "authentication_results.value"), ed.added,
	    "record: the value exactly as added");
	ok(json_is_true(field(rec, "authentication_results.added")),
	    "record: added");
	json_decref(rec);

	/* RemoveAllAuthResults */
	env.remove_all_ar = true;
	memset(&ed, 0, sizeof(ed));
	play("<a@example.com>", hdrs, small_body, sizeof(small_body) - 1, 64,
	    &ed);
	is_int(ed.nremoved, 7, "RemoveAllAuthResults: all seven removed");
	env.remove_all_ar = false;

	/* Headers no: nothing touched, the record still has the value */
	env.headers = false;
	memset(&ed, 0, sizeof(ed));
	play("<a@example.com>", hdrs, small_body, sizeof(small_body) - 1, 64,
	    &ed);
	rec = last_record();
	ok(ed.nremoved == 0 && ed.nadded == 0, "Headers no: no change asked");
	ok(sfield(rec, "authentication_results.value") != NULL &&
	    json_is_false(field(rec, "authentication_results.added")),
	    "Headers no: the record has the header it would write");
	json_decref(rec);
	env.headers = true;

	/* an MTA that refuses: counted, a fault, the mail still goes */
	memset(&ed, 0, sizeof(ed));
	ed.refuse = 1;
	env.fault = fault_note;
	ok(play("<a@example.com>", hdrs, small_body, sizeof(small_body) - 1,
	    64, &ed) == SESSION_CONTINUE, "refused edits: mail continues");
	rec = last_record();
	is_int(ifield(rec, "authentication_results.not_removed"), 5,
	    "refused edits: counted as not removed");
	ok(json_is_true(json_object_get(rec, "fault")),
	    "refused edits: the record shows a fault");
	ok(fault_code == SCOPE_EREFUSED && strcmp(errors_str(fault_code),
	    "the MTA did not take the header change") == 0 &&
	    strstr(fault_what, "Authentication-Results") != NULL,
	    "refused edits: the fault hook (syslog) says the MTA did not take "
	    "the change to Authentication-Results");
	env.fault = NULL;
	json_decref(rec);
}

/* From headers as DMARC sees them */
static void
test_from(void)
{
	static const char *const two[] = {
		"From", " <a@example.com>", "From", " <b@example.com>", NULL
	};
	static const char *const zero[] = { "Subject", " no from", NULL };
	static const char *const mixed[] = {
		"From", " a@example.com, b@example.net", NULL
	};
	static const char *const spaced[] = {
		"From", " <a@example.com>", "From ", " <b@evil.example>", NULL
	};
	json_t *rec;

	play("<a@example.com>", two, small_body, 8, 8, NULL);
	rec = last_record();
	is_str(sfield(rec, "auth.dmarc.result"), "permerror",
	    "two From headers: permerror");
	is_int(ifield(rec, "auth.dmarc.from_headers"), 2,
	    "two From headers: counted");
	json_decref(rec);
	play("<a@example.com>", zero, small_body, 8, 8, NULL);
	rec = last_record();
	is_str(sfield(rec, "auth.dmarc.result"), "permerror",
	    "no From header: permerror");
	json_decref(rec);
	play("<a@example.com>", mixed, small_body, 8, 8, NULL);
	rec = last_record();
	is_str(sfield(rec, "auth.dmarc.result"), "permerror",
	    "mailboxes of two domains: permerror");
	json_decref(rec);
	play("<a@example.com>", spaced, small_body, 8, 8, NULL);
	rec = last_record();
	ok(strcmp(sfield(rec, "auth.dmarc.result"), "permerror") == 0 &&
	    ifield(rec, "auth.dmarc.from_headers") == 2,
	    "\"From :\" (obsolete syntax) counts as a second From header");
	json_decref(rec);
}

/* DMARC fail under p=reject: observed by default, refused on request */
static void
test_dmarc_reject(void)
{
	static const char *const hdrs[] = { "From", " <a@example.com>", NULL };
	struct edits ed;
	json_t *rec;

	memset(&ed, 0, sizeof(ed));
	ok(play("<a@example.com>", hdrs, small_body, 8, 8, &ed) ==
	    SESSION_CONTINUE, "DMARC fail, p=reject: accepted by default");
	rec = last_record();
	is_str(sfield(rec, "auth.dmarc.result"), "fail", "DMARC: fail");
	is_str(sfield(rec, "auth.dmarc.disposition"), "reject",
	    "DMARC: disposition reject");
	is_str(sfield(rec, "disposition.action"), "accept", "record: accept");
	json_decref(rec);
	env.dmarc_reject = true;
	memset(&ed, 0, sizeof(ed));
	ok(play("<a@example.com>", hdrs, small_body, 8, 8, &ed) ==
	    SESSION_REJECT, "DMARCReject yes: rejected");
	rec = last_record();
	is_str(sfield(rec, "disposition.action"), "reject", "record: reject");
	is_int(ed.nadded, 0, "rejected: no header added");
	json_decref(rec);
	env.dmarc_reject = false;
}

/* many signatures, and a large body in small chunks */
static void
test_dkim_bounds(void)
{
	static const char *hdrs[2 * 40 + 3];
	static char sig[40][200];
	unsigned char *body;
	size_t len = 8u << 20, i;
	struct mallinfo2 before, after;
	json_t *rec;

	for (i = 0; i < 40; i++) {
		snprintf(sig[i], sizeof(sig[i]), " v=1; a=rsa-sha256; "
		    "d=example.com; s=s%zu; c=relaxed/relaxed; h=from; "
		    "bh=AAAA; b=QUJDREVGR0hJSktMTU5PUA==", i);
		hdrs[2 * i] = "DKIM-Signature";
		hdrs[2 * i + 1] = sig[i];
	}
	hdrs[80] = "From";
	hdrs[81] = " <a@example.com>";
	hdrs[82] = NULL;
	body = malloc(len);
	if (body == NULL)
		return;
	for (i = 0; i < len; i++)
		body[i] = (i % 78 == 76) ? '\r' : (i % 78 == 77) ? '\n' :
		    (unsigned char)('a' + i % 26);
	before = mallinfo2();
	play("<a@example.com>", hdrs, body, len, 1024, NULL);
	after = mallinfo2();
	rec = last_record();
	is_int(ifield(rec, "auth.dkim_total"), 40, "40 signatures counted");
	is_int((long long)json_array_size(field(rec, "auth.dkim")), 10,
	    "only MaximumSignatures (10) evaluated");
	is_int(ifield(rec, "message.body_bytes"), (long long)len,
	    "8 MB body seen");
	ok(after.uordblks < before.uordblks + 512 * 1024,
	    "8 MB body in 1 KB chunks: heap grew by %zd bytes (< 512 KB)",
	    (ssize_t)after.uordblks - (ssize_t)before.uordblks);
	json_decref(rec);
	free(body);
}

/* a header block over 1 MiB: DKIM stops, says why, memory stays bounded */
static void
test_dkim_header_cap(void)
{
	static const char *hdrs[2 * 1202 + 1];
	static char filler[1000];
	json_t *rec;
	unsigned i;

	memset(filler, 'x', sizeof(filler) - 1);
	filler[0] = ' ';
	hdrs[0] = "DKIM-Signature";
	hdrs[1] = " v=1; a=rsa-sha256; d=example.com; s=s; h=from; bh=AAAA; b=QUJD";
	hdrs[2] = "From";
	hdrs[3] = " <a@example.com>";
	for (i = 2; i < 1202; i++) {
		hdrs[2 * i] = "X-Filler";
		hdrs[2 * i + 1] = filler;
	}
	hdrs[2 * 1202] = NULL;
	play("<a@example.com>", hdrs, small_body, 8, 8, NULL);
	rec = last_record();
	ok(sfield(rec, "auth.dkim_error") != NULL &&
	    strstr(sfield(rec, "auth.dkim_error"), "header block") != NULL,
	    "1.2 MB of headers: DKIM says the header block is too large");
	ok(json_array_size(field(rec, "auth.dkim")) == 0 &&
	    ifield(rec, "auth.dkim_total") == 1,
	    "its signature is counted, not evaluated");
	ok(strstr(sfield(rec, "authentication_results.value"),
	    "dkim=permerror reason=\"header block") != NULL,
	    "A-R: dkim=permerror with the reason, not dkim=none");
	json_decref(rec);
}

/* session_from_192_0_2_1 - a session from 192.0.2.1 after MAIL FROM */
static struct session *
session_from_192_0_2_1(const char **mail, struct macro_src *m)
{
	struct sockaddr_in sin;
	struct session *s;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.1", &sin.sin_addr);
	s = session_new(&env);
	session_connect(s, "unknown", (struct sockaddr *)&sin, m);
	session_mail(s, mail, m);
	return s;
}

/* tags, and a tag's greylist mode: enforce for one tagged recipient
 * while the configured mode is observe */
static void
test_tags_greylist(void)
{
	static const char rules[] =
	    "tag grey rcpt grey@smtpscope.test\n"
	    "tag docs rcpt-domain smtpscope.test\n"
	    "tag bulk sender-domain example.com\n"
	    "greylist grey enforce\n";
	static const char *const hdrs[] = { "From", " <a@example.com>", NULL };
	struct macro_src m = fake_src(none);
	const char *mail[] = { "<a@example.com>", NULL };
	const char *grey[] = { "<grey@smtpscope.test>", NULL };
	const char *other[] = { "<other@smtpscope.test>", NULL };
	struct greylist_params gp;
	struct glstore *store = NULL;
	struct tags *tags = NULL;
	const char *reply = NULL;
	char err[256];
	FILE *fp = fmemopen((void *)rules, sizeof(rules) - 1, "r");
	struct session *s;
	json_t *rec;

	if (fp == NULL || tags_load_stream(&tags, fp, "rules", err,
	    sizeof(err)) != 0 || glstore_open(&store, "mem:", 100, err,
	    sizeof(err)) != 0) {
		printf("Bail out! tags or store: %s\n", err);
		exit(1);
	}
	fclose(fp);
	greylist_params_default(&gp);
	gp.mode = GREYLIST_OBSERVE;
	env.tags = tags;
	env.gl = &gp;
	env.glstore = store;
	s = session_from_192_0_2_1(mail, &m);
	ok(session_rcpt(s, other, &m, &reply) == SESSION_CONTINUE,
	    "configured observe: a new triplet is not refused");
	ok(session_rcpt(s, grey, &m, &reply) == SESSION_TEMPFAIL &&
	    reply != NULL, "the tag's greylist enforce: refused (451)");
	session_data(s, &m);
	session_header(s, hdrs[0], hdrs[1]);
	session_eoh(s, &m);
	session_eom(s, &m, NULL, NULL);
	session_close(s);
	rec = last_record();
	is_str(json_string_value(json_array_get(json_object_get(rec, "tags"),
	    0)), "bulk", "tags: the sender's first");
	is_int((long long)json_array_size(json_object_get(rec, "tags")), 3,
	    "tags: bulk, docs, grey, each once");
	is_str(sfield(json_array_get(field(rec, "greylist.rcpt"), 0), "mode"),
	    "observe", "record: observe for the untagged recipient");
	is_str(sfield(json_array_get(field(rec, "greylist.rcpt"), 1), "mode"),
	    "enforce", "record: enforce for the tagged one");
	json_decref(rec);
	env.tags = NULL;
	env.gl = NULL;
	env.glstore = NULL;
	glstore_close(store);
	tags_free(tags);
}

/* a store that is full: every write fails SCOPE_ENOSPC */
static int
full_rmw(struct glstore *st, const char *const *keys, unsigned nkeys,
    int64_t ttl_s, glstore_fn fn, void *arg)
{
	(void)st; (void)keys; (void)nkeys; (void)ttl_s; (void)fn; (void)arg;
	glstore_set_error("lmdb put: store full (test)");
	return SCOPE_ENOSPC;
}

static unsigned faults;

/* count_fault - the env's fault hook, counting */
static void
count_fault(void *arg, int code, int sys_errno, const char *what)
{
	(void)arg; (void)code; (void)sys_errno; (void)what;
	faults++;
}

/* a full greylist store under enforce (issue 12): the recipients pass,
 * both counters count them, and the per-message fault line (once a
 * minute) stays quiet: the store logs the episode once instead */
static void
test_greylist_full(void)
{
	static const struct glstore_ops full_ops = { "full", full_rmw, NULL,
		NULL, NULL, NULL, NULL };
	struct glstore full = { .ops = &full_ops };
	struct macro_src m = fake_src(none);
	const char *mail[] = { "<a@example.com>", NULL };
	const char *r1[] = { "<one@smtpscope.test>", NULL };
	const char *r2[] = { "<two@smtpscope.test>", NULL };
	uint64_t errs = stats_get(STATS_GREYLIST_ERRORS);
	uint64_t nfull = stats_get(STATS_GREYLIST_STORE_FULL);
	struct greylist_params gp;
	const char *reply = NULL;
	struct session *s;
	json_t *rec;

	greylist_params_default(&gp);
	gp.mode = GREYLIST_ENFORCE;
	env.gl = &gp;
	env.glstore = &full;
	env.fault = count_fault;
	s = session_from_192_0_2_1(mail, &m);
	ok(session_rcpt(s, r1, &m, &reply) == SESSION_CONTINUE &&
	    session_rcpt(s, r2, &m, &reply) == SESSION_CONTINUE,
	    "store full under enforce: both recipients pass (fail open)");
	session_data(s, &m);
	session_eoh(s, &m);
	session_eom(s, &m, NULL, NULL);
	session_close(s);
	is_int((long long)(stats_get(STATS_GREYLIST_STORE_FULL) - nfull), 2,
	    "store full: counter greylist_store_full counts each recipient");
	is_int((long long)(stats_get(STATS_GREYLIST_ERRORS) - errs), 2,
	    "store full: greylist_errors counts them too");
	is_int(faults, 0, "store full: no per-message fault line");
	is_str(stats_name(STATS_GREYLIST_STORE_FULL), "greylist_store_full",
	    "store full: the counter's name in the stats line");
	rec = last_record();
	is_str(sfield(json_array_get(field(rec, "greylist.rcpt"), 0),
	    "verdict"), "error", "store full: the record's verdict is error");
	json_decref(rec);
	env.gl = NULL;
	env.glstore = NULL;
	env.fault = NULL;
}

/* test_budget - iprev (first message of the session) and SPF share one
 * budget: a silent resolver delays the message once, not once per check */
static void
test_budget(void)
{
	struct auth_checks checks = { true, true, false, false,
	    { 10, 1024, false }, NULL };
	static const char *const hdrs[] = { "From", " <a@example.com>", NULL };
	struct auth_env silent;
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	char servers[64], err[512];
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	int64_t t0, took;
	json_t *rec;

	memset(&silent, 0, sizeof(silent));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) != 0)
		return;
	snprintf(servers, sizeof(servers), "127.0.0.1:%d", ntohs(sin.sin_port));
	if (dns_resolver_new(&silent.dns, servers, 300, 1, err,
	    sizeof(err)) != 0 || auth_env_checks(&silent, &checks, err,
	    sizeof(err)) != 0) {
		printf("Bail out! budget setup: %s\n", err);
		exit(1);
	}
	env.auth = &silent;
	t0 = clock_mono();
	play("<a@example.com>", hdrs, small_body, sizeof(small_body) - 1, 64,
	    NULL);
	took = clock_mono() - t0;
	ok(took >= 250000 && took < 450000, "silent resolver: iprev and SPF "
	    "together take one 300 ms DNSTimeout (%lld ms)",
	    (long long)took / 1000);
	rec = last_record();
	is_str(sfield(rec, "auth.iprev.result"), "temperror",
	    "silent resolver: iprev temperror");
	is_str(sfield(rec, "auth.spf.mailfrom.result"), "temperror",
	    "silent resolver: SPF temperror");
	json_decref(rec);
	env.auth = &auth;
	auth_env_free(&silent);
	close(fd);
}

/* play_ar - one message whose A-R headers are e->ar (AR_HARMLESS or
 * AR_FORGED), a From header after them; the model then shows what the
 * MTA kept; the message record, or NULL */
static json_t *
play_ar(struct edits *e)
{
	static const char harmless[] = " other.example; spf=pass";
	static const char forged[] =
	    " mx.smtpscope.test; dkim=pass header.d=paypal.com";
	const char **hdrs = calloc(2 * (size_t)e->nar + 3, sizeof(*hdrs));
	unsigned i;

	if (hdrs == NULL)
		return NULL;
	for (i = 0; i < e->nar; i++) {
		hdrs[2 * i] = "Authentication-Results";
		hdrs[2 * i + 1] = e->ar[i] == AR_FORGED ? forged : harmless;
	}
	hdrs[2 * i] = "From";
	hdrs[2 * i + 1] = " <a@example.com>";
	play("<a@example.com>", hdrs, small_body, sizeof(small_body) - 1, 64,
	    e);
	free(hdrs);
	return last_record();
}

/* ar_model - a model of n harmless A-R headers */
static void
ar_model(struct edits *e, unsigned n, bool sendmail)
{
	free(e->ar);
	memset(e, 0, sizeof(*e));
	e->ar = calloc(n, 1);
	e->nar = n;
	e->sendmail = sendmail;
}

/* a forged A-R header after many harmless ones: removal must not depend
 * on how many A-R headers come first (issue 12: the 4,097th survived) */
static void
test_forged_many(void)
{
	struct edits e = { 0 };
	json_t *rec;
	unsigned i;

	ar_model(&e, 4097, false);
	e.ar[4096] = AR_FORGED;
	rec = play_ar(&e);
	ok(e.nremoved == 1 && e.removed[0] == 4097,
	    "4096 harmless + 1 forged: the 4097th A-R header is removed");
	ok(model_count(&e, AR_FORGED) == 0 &&
	    model_count(&e, AR_HARMLESS) == 4096 && e.missed == 0,
	    "4096 harmless + 1 forged: the MTA keeps the 4096, not the forged");
	ok(ifield(rec, "authentication_results.found") == 4097 &&
	    ifield(rec, "authentication_results.forged") == 1 &&
	    ifield(rec, "authentication_results.removed") == 1 &&
	    ifield(rec, "authentication_results.not_removed") == 0 &&
	    !json_is_true(json_object_get(rec, "fault")),
	    "4096 harmless + 1 forged: record found 4097, forged 1, removed 1,"
	    " not_removed 0, no fault");
	json_decref(rec);

	/* 100,000 harmless, then five forged, under both MTAs' counting */
	for (i = 0; i < 2; i++) {
		ar_model(&e, 100005, i == 1);
		memset(e.ar + 100000, AR_FORGED, 5);
		rec = play_ar(&e);
		ok(model_count(&e, AR_FORGED) == 0 &&
		    model_count(&e, AR_HARMLESS) == 100000 && e.missed == 0 &&
		    e.nremoved == 5 && e.removed[0] == 100005 &&
		    e.removed[4] == 100001,
		    "100,000 harmless + 5 forged (%s): the five removed, highest"
		    " first, the others kept", i == 1 ? "Sendmail" : "Postfix");
		is_int(ifield(rec, "authentication_results.removed"), 5,
		    "100,000 harmless + 5 forged: record removed 5");
		json_decref(rec);
	}

	/* 300 forged, each after a harmless one: past 256 runs every A-R
	 * header from the 257th forged one on goes, harmless ones counted */
	ar_model(&e, 610, true);
	for (i = 0; i < 600; i += 2)
		e.ar[i] = AR_FORGED;
	rec = play_ar(&e);
	ok(model_count(&e, AR_FORGED) == 0 && e.missed == 0,
	    "300 separate forged headers: none kept");
	is_int(model_count(&e, AR_HARMLESS), 256,
	    "300 separate forged headers: the 256 harmless ones before the"
	    " 257th forged one kept");
	ok(ifield(rec, "authentication_results.removed") == 354 &&
	    ifield(rec, "authentication_results.removed_other") == 54,
	    "300 separate forged headers: record removed 354, of which 54"
	    " harmless (removed_other)");
	json_decref(rec);

	/* RemoveAllAuthResults: every one of 5,000 */
	env.remove_all_ar = true;
	ar_model(&e, 5000, false);
	e.ar[4999] = AR_FORGED;
	rec = play_ar(&e);
	ok(model_count(&e, AR_FORGED) + model_count(&e, AR_HARMLESS) == 0 &&
	    e.missed == 0 && ifield(rec, "authentication_results.removed") ==
	    5000, "RemoveAllAuthResults: all 5,000 A-R headers removed");
	json_decref(rec);
	env.remove_all_ar = false;
	free(e.ar);
}

#define IDS_THREADS	4
#define IDS_EACH	300	/* past the pool of 32 ids many times */

static char ids[IDS_THREADS * IDS_EACH][SESSION_ID_LEN + 1];

/* ids_make - IDS_EACH sessions on one thread, their ids kept */
static void *
ids_make(void *arg)
{
	char (*out)[SESSION_ID_LEN + 1] = arg;
	struct session *s;
	unsigned i;

	for (i = 0; i < IDS_EACH; i++) {
		s = session_new(&env);
		if (s == NULL)
			continue;
		memcpy(out[i], s->id, sizeof(out[i]));
		session_close(s);
	}
	return NULL;
}

/* ids_cmp - qsort order of ids */
static int
ids_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* test_ids - session ids: 24 lower-case hex digits, all different, from
 * several threads each drawing from its own pool */
static void
test_ids(void)
{
	pthread_t th[IDS_THREADS];
	unsigned i, bad = 0, dup = 0;
	size_t k;

	for (i = 0; i < IDS_THREADS; i++)
		if (pthread_create(&th[i], NULL, ids_make,
		    ids[i * IDS_EACH]) != 0)
			abort();
	for (i = 0; i < IDS_THREADS; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < IDS_THREADS * IDS_EACH; i++) {
		for (k = 0; k < SESSION_ID_LEN; k++)
			if (!((ids[i][k] >= '0' && ids[i][k] <= '9') ||
			    (ids[i][k] >= 'a' && ids[i][k] <= 'f')))
				break;
		if (k != SESSION_ID_LEN || ids[i][k] != '\0')
			bad++;
	}
	qsort(ids, IDS_THREADS * IDS_EACH, sizeof(ids[0]), ids_cmp);
	for (i = 1; i < IDS_THREADS * IDS_EACH; i++)
		if (strcmp(ids[i - 1], ids[i]) == 0)
			dup++;
	ok(bad == 0 && dup == 0, "session ids: %d from %d threads, 24 hex "
	    "digits each (%u not), all different (%u twice)",
	    IDS_THREADS * IDS_EACH, IDS_THREADS, bad, dup);
}

/* the expected count of each metrics series, from the records */
struct series {
	char name[160];
	long long n;
};
static struct series expect[64];
static unsigned nexpect;

/* count - one more of a series: family{label="value"} (value NULL:
 * "other"; labels of two: label is 'a="x",b' and value the second) */
static void
count(const char *family, const char *label, const char *value)
{
	char name[160];
	unsigned i;

	snprintf(name, sizeof(name), "smtpscope_%s{%s=\"%s\"}", family, label,
	    value != NULL ? value : "other");
	for (i = 0; i < nexpect && strcmp(expect[i].name, name) != 0; i++)
		;
	if (i == nexpect && nexpect < sizeof(expect) / sizeof(expect[0]))
		snprintf(expect[nexpect++].name, sizeof(expect[0].name), "%s",
		    name);
	if (i < nexpect)
		expect[i].n++;
}

/* count_result - a check's result, read from a record's object */
static void
count_result(const char *check, const json_t *o)
{
	char label[64];
	const char *r = json_string_value(json_object_get(o, "result"));

	snprintf(label, sizeof(label), "check=\"%s\",result", check);
	if (r != NULL)
		count("check_results_total", label, r);
}

/* count_record - what one record says, read as metrics.c read records
 * before it counted from the session */
static void
count_record(const json_t *rec)
{
	const json_t *au = json_object_get(rec, "auth"), *v, *dkim;
	char label[64];
	size_t i;

	if (strcmp(json_string_value(json_object_get(rec, "event")),
	    "session") == 0) {
		count("client_sessions_total", "family", json_string_value(
		    json_object_get(json_object_get(rec, "client"), "family")));
		v = json_object_get(rec, "tls");
		count("tls_sessions_total", "version", json_is_null(v) ? "none" :
		    json_string_value(json_object_get(v, "version")));
		count_result("iprev", json_object_get(au, "iprev"));
	} else {
		v = json_object_get(au, "spf");
		count_result("spf_mailfrom", json_object_get(v, "mailfrom"));
		count_result("spf_helo", json_object_get(v, "helo"));
		dkim = json_object_get(au, "dkim");
		if (json_is_array(dkim) && json_array_size(dkim) == 0 &&
		    json_is_null(json_object_get(au, "dkim_error")))
			count("check_results_total",
			    "check=\"dkim\",result", "none");
		json_array_foreach(dkim, i, v)
			count_result("dkim", v);
		count_result("dmarc", json_object_get(au, "dmarc"));
		json_array_foreach(json_object_get(json_object_get(rec,
		    "greylist"), "rcpt"), i, v)
			count("greylist_verdicts_total", "verdict",
			    json_string_value(json_object_get(v, "verdict")));
	}
	json_array_foreach(json_object_get(rec, "dns"), i, v) {
		const json_t *rc = json_object_get(v, "rcode");

		snprintf(label, sizeof(label), "dnssec=\"%s\",rcode",
		    json_string_value(json_object_get(v, "dnssec")));
		count("dns_lookups_total", label, json_is_null(rc) ? "none" :
		    json_string_value(rc));
	}
}

/* the metrics, counted from the session fields, say what every record
 * written by the tests above says */
static void
test_metrics_match(void)
{
	static char line[400000];
	FILE *fp = fopen(logpath, "r");
	unsigned i, records = 0, bad = 0;
	json_t *o;

	while (fp != NULL && fgets(line, sizeof(line), fp) != NULL) {
		if ((o = json_loads(line, 0, NULL)) == NULL)
			continue;
		records++;
		count_record(o);
		json_decref(o);
	}
	if (fp != NULL)
		fclose(fp);
	for (i = 0; i < nexpect; i++)
		if (metrics_value(expect[i].name) != expect[i].n) {
			printf("# %s: %lld in the records, %lld counted\n",
			    expect[i].name, expect[i].n,
			    metrics_value(expect[i].name));
			bad++;
		}
	ok(records > 20 && nexpect > 10 && bad == 0, "metrics: %u series "
	    "from %u records, all as the records say (%u differ)", nexpect,
	    records, bad);
}

int
main(void)
{
	struct auth_checks checks = { true, false, true, true,
	    { 10, 1024, false }, NULL };
	char err[512];
	int fd;

	plan(63);
	metrics_reset();
	fd = mkstemp(logpath);
	if (fd < 0 || recordlog_open(&rlog, logpath, 0600) != 0)
		return 1;
	close(fd);
	if (dns_resolver_new_zones(&auth.dns, 2000) != 0 ||
	    dns_zone_add(auth.dns, "example.com. TXT \"v=spf1 -all\"") != 0 ||
	    dns_zone_add(auth.dns,
	    "_dmarc.example.com. TXT \"v=DMARC1; p=reject\"") != 0 ||
	    auth_env_checks(&auth, &checks, err, sizeof(err)) != 0) {
		printf("Bail out! setup: %s\n", err);
		return 1;
	}
	env.log = rlog;
	env.auth = &auth;
	env.servid = SERVID;
	env.headers = true;
	test_forged();
	test_forged_many();
	test_from();
	test_dmarc_reject();
	test_dkim_bounds();
	test_dkim_header_cap();
	test_tags_greylist();
	test_greylist_full();
	test_budget();
	test_ids();
	test_metrics_match();
	auth_env_free(&auth);
	recordlog_close(rlog);
	unlink(logpath);
	return done_testing();
}
