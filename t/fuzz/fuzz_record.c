/*
 * fuzz_record.c - fuzz target: the record writer (record.h) at and past
 * its caps. The input fills a session and a message as lib/session would
 * hold them (every string a text_clean() copy, so valid UTF-8 of at most
 * its array's size) and sets every count and list: recipients, DKIM
 * signatures, DNS lookups, PTR names, greylist results and chains, tags,
 * each up to its cap, with totals beyond it. The input decides how big
 * the record gets: a string is empty, its pattern, the pattern 8 times,
 * or (a length byte of 0xff) filled to its cap; a list holds as many
 * entries as its count byte says. The two-byte inputs whose first byte
 * has bit 1 set and whose second is 0xfc or more fill every string and
 * list to its cap, the largest record the structures allow
 * (corpus/record/all-full, all-full-plain; strings of U+0001, which the
 * writer escapes as \u0001): a few inputs libFuzzer rarely mutates into,
 * as each takes milliseconds where most take microseconds.
 * Lists are allocated at the length they are given, so a read past
 * their count is a sanitizer report.
 *
 * Checked: the text record_message_text() and record_session_text()
 * write (the daemon's records) is valid JSON (fuzz_json.h, which accepts
 * what jansson's parser accepts, without building the tree) with v, ts,
 * event and session; parsed (no key twice) and written again by jansson
 * it is the same bytes, and so by the record log's tree writer
 * (record_json.c). A record the writer does not return, or one past
 * RECORDLOG_RECORD_MAX (which the daemon cuts with record_fit()), is
 * counted, not a failure; the counts are printed at exit when
 * FUZZ_RECORD_STATS is set. With FUZZ_RECORD_PRINT set every record's
 * text goes to standard output, one a line, for comparing two builds.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "errors.h"
#include "record/pseudo.h"
#include "record/record_json.h"
#include "record/record.h"
#include "record/recordlog.h"
#include "session.h"
#include "tags.h"
#include "text.h"
#include "fuzz_json.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* make check's replay: mutations in all (a full record takes ms) */
const int fuzz_replay_budget = 3000;

#define FUZZ_HEAP_MAX	16384	/* heap strings (A-R value) up to this */

struct fuzz_in {
	const uint8_t *p;
	size_t left;
	bool full;		/* every string at its cap */
};

static struct tags *fuzz_tags;
static unsigned fuzz_ntags;
static struct pseudo *fuzz_pseudo;
static unsigned long fuzz_null, fuzz_big, fuzz_runs;

static uint8_t
fuzz_byte(struct fuzz_in *in)
{
	if (in->left == 0)	/* past the end: empty; full: every flag */
		return in->full ? 0xff : 0;
	in->left--;
	return *in->p++;
}

static unsigned
fuzz_u32(struct fuzz_in *in)
{
	unsigned v = fuzz_byte(in);

	v = v << 8 | fuzz_byte(in);
	v = v << 8 | fuzz_byte(in);
	return v << 8 | fuzz_byte(in);
}

/* fuzz_time - unix seconds as the greylist store gives them: 0 (unknown)
 * to 9999-12-31 (its codec refuses later ones) */
static int64_t
fuzz_time(struct fuzz_in *in)
{
	uint8_t k = fuzz_byte(in);

	if (k < 8)
		return k == 0 ? 0 : INT64_C(253402300799) - (k - 1);
	return (int64_t)fuzz_u32(in);
}

/* fuzz_fill - out gets a clean copy of a pattern of the input (c & 63)
 * + 1 bytes long, by c >> 6: empty, the pattern, the pattern 8 times;
 * c == 0xff or full: repeated past the cap (twice the array's size) */
static void
fuzz_fill(struct fuzz_in *in, char *out, size_t outsz)
{
	static char src[2 * FUZZ_HEAP_MAX];
	uint8_t c = fuzz_byte(in);
	size_t plen = (c & 63) + 1, len, i;
	const uint8_t *pat = in->p;
	bool cut;

	if (plen > in->left)
		plen = in->left;
	in->p += plen;
	in->left -= plen;
	len = in->full || c == 0xff ? 2 * outsz : (c >> 6) == 3 ?
	    8 * plen : plen;
	if (len > sizeof(src))
		len = sizeof(src);
	for (i = 0; i < len; i++)
		src[i] = plen > 0 ? (char)pat[i % plen] : '\x01';
	if ((c >> 6) == 0 && !in->full)
		len = 0;
	text_clean(out, outsz, src, len, &cut);
}
#define FILL(in, a)	fuzz_fill((in), (a), sizeof(a))

/* fuzz_setup - tag rules with 16 long names, a pseudonymization key */
static void
fuzz_setup(void)
{
	static const struct pseudo_modes m = { PSEUDO_PREFIX, PSEUDO_HMAC,
	    PSEUDO_HMAC, PSEUDO_HMAC };
	char rules[4096];
	size_t off = 0;

	if (fuzz_tags != NULL)
		return;
	for (fuzz_ntags = 0; fuzz_ntags < TAGS_SET_MAX + 2; fuzz_ntags++)
		off += (size_t)snprintf(rules + off, sizeof(rules) - off,
		    "tag t%02u-%.*s rcpt x%u\n", fuzz_ntags, TAGS_NAME_MAX - 5,
		    "-------------------------------------------------------"
		    "---------", fuzz_ntags);
	fuzz_tags = fuzz_tags_new(rules, off);
	fuzz_pseudo = fuzz_pseudo_new(&m);
	fuzz_json_selftest();
}

/* fuzz_tls - TLS facts with every field */
static void
fuzz_tls(struct fuzz_in *in, struct tls_info *t)
{
	uint8_t f = fuzz_byte(in);

	t->used = f & 1;
	t->peer = f & 2;
	t->bits = (int)fuzz_u32(in);
	t->verified = (int)(f >> 2 & 3) - 1;
	FILL(in, t->version);
	FILL(in, t->cipher);
	FILL(in, t->subject);
	FILL(in, t->issuer);
	FILL(in, t->cn_subject);
	FILL(in, t->cn_issuer);
	FILL(in, t->cert_md5);
	FILL(in, t->verify);
}

/* fuzz_dns - a lookup log up to DNS_LOG_MAX; NULL when the input says */
static struct dns_ctx *
fuzz_dns(struct fuzz_in *in)
{
	struct dns_ctx *c;
	uint8_t n = fuzz_byte(in);
	unsigned i;

	if (n == 0)
		return NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		abort();
	c->nlog = in->full ? DNS_LOG_MAX : n % (DNS_LOG_MAX + 1);
	c->total = c->nlog + fuzz_u32(in) % 1000000;
	for (i = 0; i < c->nlog; i++) {
		FILL(in, c->log[i].qname);
		c->log[i].qtype = (uint16_t)fuzz_u32(in);
		c->log[i].rcode = (int)(fuzz_byte(in) % 26) - 1;
		c->log[i].sec = fuzz_byte(in) % 5;
		c->log[i].ms = (double)fuzz_u32(in) / 7.0;
	}
	return c;
}

/* fuzz_iprev - the session's iprev outcome */
static void
fuzz_iprev(struct fuzz_in *in, struct session *s)
{
	struct iprev_outcome *io = &s->auth.iprev;
	unsigned i;

	s->auth.dns = fuzz_dns(in);
	io->result = fuzz_byte(in) % 5;
	io->nnames = in->full ? IPREV_NAMES_MAX : fuzz_byte(in) %
	    (IPREV_NAMES_MAX + 1);
	io->ptr_total = io->nnames + fuzz_u32(in) % 1000;
	io->matched = (int)(fuzz_byte(in) % (IPREV_NAMES_MAX + 2)) - 1;
	io->dnssec = fuzz_byte(in) % 5;
	for (i = 0; i < io->nnames; i++)
		FILL(in, io->names[i]);
}

/* fuzz_session_fields - the connection's facts */
static void
fuzz_session_fields(struct fuzz_in *in, struct session *s)
{
	unsigned i;

	s->start_wall = (int64_t)fuzz_u32(in) * 1000000;
	s->start_mono = 1;
	s->mta = fuzz_byte(in) % 3;
	s->client_port = fuzz_u32(in) % 70000;
	s->family = (int[]){ 0, AF_INET, AF_INET6, AF_UNIX }[fuzz_byte(in) % 4];
	s->helo_count = fuzz_u32(in) % 1000;
	s->server_port = fuzz_u32(in) % 70000;
	s->messages = fuzz_u32(in);
	s->aborted = fuzz_u32(in);
	s->truncated = fuzz_u32(in) & 0x3ff;
	s->fault = fuzz_byte(in) & 1;
	FILL(in, s->id);
	FILL(in, s->mta_version);
	FILL(in, s->client_ip);
	FILL(in, s->client_name);
	FILL(in, s->ptr);
	FILL(in, s->resolve);
	FILL(in, s->helo);
	FILL(in, s->server_addr);
	FILL(in, s->server_name);
	FILL(in, s->daemon_name);
	for (i = 0; i < SESSION_NSTAGES; i++)
		s->t[i] = fuzz_byte(in) & 1 ? (int64_t)fuzz_u32(in) : 0;
	fuzz_tls(in, &s->tls);
	fuzz_iprev(in, s);
}

/* fuzz_tags_set - up to TAGS_SET_MAX valid tag indexes */
static void
fuzz_tags_set(struct fuzz_in *in, struct tags_set *t)
{
	unsigned i;

	t->n = in->full ? TAGS_SET_MAX : fuzz_byte(in) % (TAGS_SET_MAX + 1);
	t->dropped = fuzz_u32(in) % 1000;
	for (i = 0; i < t->n; i++)
		t->idx[i] = (unsigned short)(fuzz_byte(in) % fuzz_ntags);
}

/* fuzz_gl - greylist results with chains */
static struct session_gl *
fuzz_gl(struct fuzz_in *in, unsigned *n, unsigned *total)
{
	struct session_gl *gl;
	unsigned i, j;

	*n = in->full ? SESSION_GL_MAX : fuzz_byte(in) % (SESSION_GL_MAX + 1);
	*total = *n + fuzz_u32(in) % 100000;
	gl = calloc(*n, sizeof(*gl));
	if (gl == NULL && *n > 0)
		abort();
	for (i = 0; i < *n; i++) {
		struct greylist_result *r = &gl[i].r;

		FILL(in, gl[i].rcpt);
		gl[i].msg = fuzz_u32(in);
		r->verdict = fuzz_byte(in) % 6;
		r->mode = fuzz_byte(in) % 3;
		r->via_chain = fuzz_byte(in) & 1;
		r->auto_allowed = fuzz_byte(in) & 1;
		r->attempt = fuzz_u32(in);
		r->first_seen = fuzz_time(in);
		r->delay_s = (int64_t)fuzz_u32(in) - 1000;
		FILL(in, r->net);
		FILL(in, r->error);
		r->nchain = in->full ? GREYLIST_CHAIN_MAX : fuzz_byte(in) %
		    (GREYLIST_CHAIN_MAX + 1);
		r->chain_total = r->nchain + fuzz_u32(in) % 1000;
		for (j = 0; j < r->nchain; j++) {
			FILL(in, r->chain[j].net);
			r->chain[j].family = fuzz_byte(in) & 1 ? AF_INET6 :
			    AF_INET;
			r->chain[j].t = fuzz_time(in);
		}
	}
	return gl;
}

/* fuzz_spf - one SPF outcome */
static void
fuzz_spf(struct fuzz_in *in, struct spf_outcome *o)
{
	o->result = fuzz_byte(in) % 7;
	o->dnssec = fuzz_byte(in) % 5;
	o->lookups = fuzz_u32(in);
	FILL(in, o->identity);
	FILL(in, o->domain);
	FILL(in, o->mechanism);
	FILL(in, o->reason);
	FILL(in, o->explanation);
}

/* fuzz_dkim - signatures up to the hard cap */
static void
fuzz_dkim(struct fuzz_in *in, struct dkimverify_outcome *d)
{
	unsigned i;

	d->nsig = in->full ? DKIMVERIFY_SIGS_HARDMAX : fuzz_byte(in) %
	    (DKIMVERIFY_SIGS_HARDMAX + 1);
	d->total = d->nsig + fuzz_u32(in) % 1000;
	FILL(in, d->error);
	d->sig = calloc(d->nsig, sizeof(*d->sig));
	if (d->sig == NULL && d->nsig > 0)
		abort();
	for (i = 0; i < d->nsig; i++) {
		struct dkimverify_sig *g = &d->sig[i];

		g->result = fuzz_byte(in) % 7;
		g->key_bits = (int)fuzz_u32(in);
		g->body_length = (long)fuzz_u32(in) - 1;
		g->testing = fuzz_byte(in) & 1;
		g->dnssec_known = fuzz_byte(in) & 1;
		g->dnssec = fuzz_byte(in) % 5;
		FILL(in, g->reason);
		FILL(in, g->domain);
		FILL(in, g->selector);
		FILL(in, g->algorithm);
		FILL(in, g->canon);
		FILL(in, g->identity);
		FILL(in, g->key_type);
		FILL(in, g->b_prefix);
	}
}

/* fuzz_dmarc - the DMARC outcome */
static void
fuzz_dmarc(struct fuzz_in *in, struct dmarceval_outcome *d)
{
	uint8_t f = fuzz_byte(in);

	d->result = fuzz_byte(in) % 5;
	d->disposition = fuzz_byte(in) % 3;
	d->dnssec = fuzz_byte(in) % 5;
	d->have_record = f & 1;
	d->policy_is_sp = f & 2;
	d->spf_aligned = f & 4;
	d->dkim_aligned = f & 8;
	d->pct_sampled_out = f & 16;
	d->adkim = "rs\0x"[fuzz_byte(in) % 4];
	d->aspf = "rs\0x"[fuzz_byte(in) % 4];
	d->pct = (int)fuzz_u32(in);
	d->from_headers = fuzz_u32(in);
	d->from_mailboxes = fuzz_u32(in);
	FILL(in, d->reason);
	FILL(in, d->from_domain);
	FILL(in, d->org_domain);
	FILL(in, d->record_domain);
	FILL(in, d->p);
	FILL(in, d->sp);
	FILL(in, d->spf_domain);
	FILL(in, d->dkim_domain);
}

/* fuzz_heap_str - an owned string up to FUZZ_HEAP_MAX bytes */
static char *
fuzz_heap_str(struct fuzz_in *in, size_t max)
{
	static char buf[FUZZ_HEAP_MAX];
	char *s;

	fuzz_fill(in, buf, max < sizeof(buf) ? max : sizeof(buf));
	if ((s = strdup(buf)) == NULL)
		abort();
	return s;
}

/* fuzz_message - every field of a message */
static void
fuzz_message(struct fuzz_in *in, struct session_message *m)
{
	uint8_t f = fuzz_byte(in);
	unsigned i;

	m->index = fuzz_u32(in);
	m->size_declared = (long)fuzz_u32(in) - 1;
	m->nrcpt = in->full ? SESSION_RCPT_MAX : fuzz_byte(in) %
	    (SESSION_RCPT_MAX + 1);
	m->rcpt_total = m->nrcpt + fuzz_u32(in) % 1000000;
	m->msgid_count = fuzz_u32(in);
	m->headers = fuzz_u32(in);
	m->header_bytes = (uint64_t)fuzz_u32(in) << 20;
	m->body_bytes = (uint64_t)fuzz_u32(in) << 20;
	m->truncated = fuzz_u32(in) & 0x3ff;
	m->fault = f & 1;
	m->ar_found = fuzz_u32(in);
	m->ar_forged = fuzz_u32(in);
	m->ar_removed = fuzz_u32(in);
	m->ar_unremoved = fuzz_u32(in);
	m->ar_added = f & 2;
	m->auth.done = f & 4;
	m->auth.spf = f & 8;
	m->auth.dkim = f & 16;
	m->auth.dmarc = f & 32;
	FILL(in, m->queue_id);
	FILL(in, m->from);
	FILL(in, m->auth_type);
	FILL(in, m->auth_user);
	FILL(in, m->msgid);
	for (i = 0; i < SESSION_NSTAGES; i++)
		m->t[i] = fuzz_byte(in) & 1 ? (int64_t)fuzz_u32(in) : 0;
	for (i = 0; i < m->nrcpt; i++)
		m->rcpt[i] = fuzz_heap_str(in, SESSION_ADDR_MAX);
	if (f & 64)
		m->ar = fuzz_heap_str(in, FUZZ_HEAP_MAX);
	fuzz_spf(in, &m->auth.mailfrom);
	fuzz_spf(in, &m->auth.helo);
	fuzz_dkim(in, &m->auth.dkim_out);
	fuzz_dmarc(in, &m->auth.dmarc_out);
	m->auth.dns = fuzz_dns(in);
	m->gl = fuzz_gl(in, &m->ngl, &m->gl_total);
	fuzz_tags_set(in, &m->tags);
}

/* fuzz_same_text - the record log's writer (record_json.c) gives jansson's
 * bytes, or refuses only what jansson's text could not be written as
 * (past the cap) */
static void
fuzz_same_text(const json_t *rec, const char *text, size_t len)
{
	char *ours;
	size_t n;
	int rc;

	rc = record_json_dump(rec, RECORDLOG_RECORD_MAX - 1, 1, &ours, &n);
	if (rc == SCOPE_ETOOBIG && len + 1 > RECORDLOG_RECORD_MAX)
		return;
	if (rc != SCOPE_OK || n != len || memcmp(ours, text, len) != 0) {
		fprintf(stderr, "record_json_dump (%d, %zu bytes) differs from "
		    "jansson (%zu bytes)\n", rc, n, len);
		abort();
	}
	free(ours);
}

/* fuzz_check - the text the daemon writes (record_*_text, rc and text
 * as they returned): valid JSON with v, ts, event and session, and
 * exactly what jansson writes of the object it parses into (so, no key
 * twice); count what the log would cut */
static void
fuzz_check(int rc, char *text, size_t len)
{
	static const char *const keys[] = { "v", "ts", "event", "session" };
	char types[4], *dumped;
	json_error_t err;
	json_t *rec;
	size_t i;

	if (rc != SCOPE_OK) {
		fuzz_null++;
		return;
	}
	if (len + 1 > RECORDLOG_RECORD_MAX)
		fuzz_big++;
	if (!fuzz_json_check(text, len, keys, types, 4)) {
		fprintf(stderr, "invalid JSON: %.*s\n", (int)len, text);
		abort();
	}
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (types[i] == 0)
			abort();
	rec = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
	if (rec == NULL) {
		fprintf(stderr, "jansson refuses the record: %s\n", err.text);
		abort();
	}
	dumped = json_dumps(rec, JSON_COMPACT | JSON_REAL_PRECISION(12));
	if (dumped == NULL || strlen(dumped) != len ||
	    memcmp(dumped, text, len) != 0) {
		fprintf(stderr, "the record's text is not jansson's\n");
		abort();
	}
	fuzz_same_text(rec, dumped, len);
	if (getenv("FUZZ_RECORD_PRINT") != NULL)	/* differential runs */
		printf("%.*s\n", (int)len, text);
	free(dumped);
	free(text);
	json_decref(rec);
}

/* fuzz_free - what fuzz_message and fuzz_session_fields allocated */
static void
fuzz_free(struct session *s, struct session_message *m)
{
	unsigned i;

	for (i = 0; i < m->nrcpt; i++)
		free(m->rcpt[i]);
	free(m->ar);
	free(m->auth.dkim_out.sig);
	free(m->auth.dns);
	free(m->gl);
	free(s->auth.dns);
	free(s->gl);
}

static void
fuzz_stats(void)
{
	if (getenv("FUZZ_RECORD_STATS") != NULL)
		fprintf(stderr, "fuzz_record: %lu runs, %lu records not built, "
		    "%lu past RECORDLOG_RECORD_MAX\n", fuzz_runs, fuzz_null,
		    fuzz_big);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct session s;
	static struct session_message m;
	static struct greylist_params gp;
	struct session_env env;
	struct fuzz_in in = { data, size, false };
	uint8_t f, g;
	char *text;
	size_t len;
	int rc;

	fuzz_setup();
	if (fuzz_runs++ == 0)
		atexit(fuzz_stats);
	memset(&s, 0, sizeof(s));
	memset(&m, 0, sizeof(m));
	memset(&env, 0, sizeof(env));
	f = fuzz_byte(&in);
	g = fuzz_byte(&in);
	in.full = (f & 1) && g >= 0xfc && size == 2;	/* the largest record */
	env.tags = f & 2 ? fuzz_tags : NULL;
	env.pseudo = f & 4 ? fuzz_pseudo : NULL;
	greylist_params_default(&gp);
	gp.mode = g % 4;
	env.gl = gp.mode <= GREYLIST_ENFORCE ? &gp : NULL;
	s.env = &env;
	fuzz_session_fields(&in, &s);
	fuzz_message(&in, &m);
	s.gl = fuzz_gl(&in, &s.ngl, &s.gl_total);
	fuzz_tags_set(&in, &s.tags);
	fuzz_tags_set(&in, &s.tags_all);
	rc = record_message_text(&s, &m, (const char *[]){ "accept",
	    "tempfail", "reject", "abort" }[f >> 3 & 3],
	    session_stage_name((enum session_stage)(f >> 5) %
	    SESSION_NSTAGES), 1, &text, &len);
	fuzz_check(rc, text, len);
	rc = record_session_text(&s, 1, &text, &len);
	fuzz_check(rc, text, len);
	fuzz_free(&s, &m);
	return 0;
}
