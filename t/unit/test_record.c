/*
 * test_record.c - sessions played through lib/session into a real record
 * log, each line parsed back with jansson; then pseudonymization: a
 * session with every kind of field filled in, recorded under each mode,
 * searched as serialized text for the raw values.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "auth/authres.h"
#include "errors.h"
#include "macros_fake.h"
#include "record/pseudo.h"
#include "record/record.h"
#include "record/recordlog.h"
#include "session.h"
#include "stats.h"
#include "tap.h"
#include "testutil.h"

static char logpath[] = "/tmp/test_record.XXXXXX";
static struct recordlog *rlog;
static struct session_env env;

/* parsed - a record's text (as record_*_text returned it) as an object,
 * NULL on any failure; a key given twice is a failure */
static json_t *
parsed(int rc, char *text, size_t len)
{
	json_t *o = NULL;

	if (rc == SCOPE_OK)
		o = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	free(text);
	return o;
}

/* message_obj, session_obj - the records of ps as objects */
static json_t *
message_obj(const struct session *s, const struct session_message *m,
    const char *action, const char *stage)
{
	char *text;
	size_t len;
	int rc = record_message_text(s, m, action, stage, 0, &text, &len);

	return parsed(rc, text, len);
}

static json_t *
session_obj(const struct session *s)
{
	char *text;
	size_t len;
	int rc = record_session_text(s, 0, &text, &len);

	return parsed(rc, text, len);
}

static const char *const connect_macros[] = {
	"j", "mx.smtpscope.test", "v", "Postfix 3.7.11",
	"{daemon_addr}", "127.0.0.1", "{daemon_port}", "2525",
	"{client_ptr}", "client.example.org", NULL
};
static const char *const helo_tls[] = {
	"{tls_version}", "TLSv1.2", "{cipher}", "ECDHE-RSA-AES256-GCM-SHA384",
	"{cipher_bits}", "256", NULL
};
static const char *const eom_macros[] = { "i", "4ABCDEF123", NULL };
static const char *const none[] = { NULL };

/* read_lines - parse every line of the log; returns the count */
static int
read_lines(json_t **recs, int max, int *bad)
{
	char line[300000];
	FILE *fp = fopen(logpath, "r");
	int n = 0;

	*bad = 0;
	while (fp != NULL && n < max && fgets(line, sizeof(line), fp) != NULL) {
		recs[n] = json_loads(line, 0, NULL);
		if (recs[n] == NULL || line[strlen(line) - 1] != '\n')
			(*bad)++;
		else
			n++;
	}
	if (fp != NULL)
		fclose(fp);
	return n;
}

/* sa_v4 - an IPv4 client address */
static struct sockaddr_in
sa_v4(const char *ip, unsigned port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	inet_pton(AF_INET, ip, &sin.sin_addr);
	return sin;
}

/* play_message - MAIL .. EOM with the given recipients */
static void
play_message(struct session *s, const char *from, int nrcpt)
{
	struct macro_src m = fake_src(none), e = fake_src(eom_macros);
	const char *mail[] = { from, "SIZE=321", NULL };
	const char *rcpt[] = { "<rcpt@smtpscope.test>", NULL };
	int i;

	session_mail(s, mail, &m);
	for (i = 0; i < nrcpt; i++)
		session_rcpt(s, rcpt, &m, NULL);
	session_data(s, &m);
	session_header(s, "From", "a@example.org");	/* leading space stripped */
	session_header(s, "Message-ID", " <id1@example.org>");
	session_eoh(s, &e);
	session_body(s, (const unsigned char *)"hello\r\n", 7);
	session_eom(s, &e, NULL, NULL);
}


/* pseudonymization: the raw values of each group, and a full session */
static const char *const raw_ip[] = {
	"192.0.2.10", "10.2.0.192", "192-0-2-10", NULL
};
static const char *const raw_ip6[] = {
	"2001:db8:1:2::77", "7.7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2",
	NULL
};
static const char *const raw_names[] = { "client-host", "CLIENT-HOST", NULL };
static const char *const raw_addrs[] = {
	"alice.sender", "bob.rcpt", "carol.user", "dave.signer", NULL
};
static const char *const raw_msgid[] = { "uniq-msgid-42", NULL };
static char keypath[] = "/tmp/test_record.key.XXXXXX";

static struct session ps;
static struct session_message pm;
static struct session_gl pgl[1];
static struct dns_ctx pdns_s, pdns_m;
static struct dkimverify_sig psig[1];
static struct greylist_params pglp;
static struct session_env penv;

/* fill_dns - one logged lookup */
static void
fill_dns(struct dns_ctx *c, const char *q, uint16_t type)
{
	struct dns_lookup *l = &c->log[c->nlog++];

	snprintf(l->qname, sizeof(l->qname), "%s", q);
	l->qtype = type;
	l->rcode = 0;
	l->cached = type == 16;	/* TXT lookups as if from the cache */
	l->ms = 1.5;
	c->total++;
}

/* fill_session - every field that can name a person, for client ip */
static void
fill_session(const char *ip, const char *rev)
{
	static char ar[1024], rcpt0[] = "bob.rcpt@example.net";
	char q[300];

	memset(&ps, 0, sizeof(ps));
	memset(&pm, 0, sizeof(pm));
	memset(&pdns_s, 0, sizeof(pdns_s));
	memset(&pdns_m, 0, sizeof(pdns_m));
	memset(pgl, 0, sizeof(pgl));
	memset(psig, 0, sizeof(psig));
	greylist_params_default(&pglp);
	pglp.mode = GREYLIST_OBSERVE;
	penv.gl = &pglp;
	ps.env = &penv;
	snprintf(ps.id, sizeof(ps.id), "0123456789abcdef01234567");
	snprintf(ps.client_ip, sizeof(ps.client_ip), "%s", ip);
	ps.family = strchr(ip, ':') != NULL ? AF_INET6 : AF_INET;
	ps.client_port = 40000;
	snprintf(ps.client_name, sizeof(ps.client_name), "ptr.client-host.example");
	snprintf(ps.ptr, sizeof(ps.ptr), "PTR.client-host.example");
	snprintf(ps.helo, sizeof(ps.helo), "helo.client-host.example");
	ps.helo_count = 1;
	snprintf(ps.server_addr, sizeof(ps.server_addr), "203.0.113.1");
	snprintf(ps.server_name, sizeof(ps.server_name), "mx.smtpscope.test");
	ps.tls.used = true;
	ps.tls.peer = true;
	ps.tls.verified = -1;
	snprintf(ps.tls.subject, sizeof(ps.tls.subject), "/CN=tls.client-host.example");
	snprintf(ps.tls.issuer, sizeof(ps.tls.issuer), "client-host CA");
	snprintf(ps.tls.cn_subject, sizeof(ps.tls.cn_subject), "tls.client-host.example");
	ps.auth.dns = &pdns_s;
	ps.auth.iprev.result = 0;
	snprintf(ps.auth.iprev.names[0], DNS_NAME_MAX, "ptr.client-host.example");
	snprintf(ps.auth.iprev.names[1], DNS_NAME_MAX, "alt.client-host.example");
	snprintf(ps.auth.iprev.names[2], DNS_NAME_MAX, "%s.dyn.example.net",
	    strchr(ip, ':') != NULL ? "2001-db8-1-2--77" : "192-0-2-10");
	ps.auth.iprev.nnames = 3;
	ps.auth.iprev.matched = 0;
	snprintf(q, sizeof(q), "%s", rev);
	fill_dns(&pdns_s, q, 12);
	fill_dns(&pdns_s, "ptr.client-host.example", 1);
	fill_dns(&pdns_s, "alt.client-host.example", 28);
	ps.gl = pgl;

	pm.index = 1;
	snprintf(pm.from, sizeof(pm.from), "alice.sender@example.org");
	pm.rcpt[0] = rcpt0;
	pm.nrcpt = pm.rcpt_total = 1;
	pm.size_declared = -1;
	snprintf(pm.auth_type, sizeof(pm.auth_type), "PLAIN");
	snprintf(pm.auth_user, sizeof(pm.auth_user), "carol.user");
	snprintf(pm.msgid, sizeof(pm.msgid), "<uniq-msgid-42@example.org>");
	pm.msgid_count = 1;
	pm.auth.dns = &pdns_m;
	pm.auth.spf = true;
	snprintf(pm.auth.mailfrom.identity, 321, "alice.sender@example.org");
	snprintf(pm.auth.mailfrom.domain, 256, "example.org");
	snprintf(pm.auth.mailfrom.mechanism, 128, "ip4:%s", ip);
	snprintf(pm.auth.mailfrom.explanation, 256,
	    "%s may not send for alice.sender@example.org", ip);
	snprintf(pm.auth.helo.identity, 321, "postmaster@helo.client-host.example");
	snprintf(pm.auth.helo.domain, 256, "helo.client-host.example");
	snprintf(pm.auth.helo.reason, 160, "no SPF record at helo.client-host.example");
	pm.auth.dkim = true;
	pm.auth.dkim_out.sig = psig;
	pm.auth.dkim_out.nsig = pm.auth.dkim_out.total = 1;
	psig[0].key_bits = -1;
	psig[0].body_length = -1;
	snprintf(psig[0].domain, sizeof(psig[0].domain), "example.org");
	snprintf(psig[0].identity, sizeof(psig[0].identity), "dave.signer@example.org");
	fill_dns(&pdns_m, "example.org", 16);
	fill_dns(&pdns_m, "alice.sender._spf.example.org", 1);
	snprintf(q, sizeof(q), "%.*s.dnsbl.example", (int)(strstr(rev, ".i") -
	    rev), rev);
	fill_dns(&pdns_m, q, 1);
	fill_dns(&pdns_m, "HELO.client-host.example", 16);
	snprintf(ar, sizeof(ar), "mx.smtpscope.test;\r\n\tiprev=pass "
	    "policy.iprev=%s (ptr.client-host.example);\r\n\tspf=pass "
	    "smtp.mailfrom=alice.sender@example.org smtp.helo="
	    "helo.client-host.example", ip);
	pm.ar = ar;
	snprintf(pgl[0].rcpt, sizeof(pgl[0].rcpt), "bob.rcpt@example.net");
	pgl[0].msg = 1;
	pgl[0].r.verdict = GREYLIST_NEW;
	pgl[0].r.attempt = 1;
	snprintf(pgl[0].r.net, sizeof(pgl[0].r.net), "%s",
	    strchr(ip, ':') != NULL ? "2001:db8:1:2::/64" : "192.0.2.0/24");
	snprintf(pgl[0].r.chain[0].net, sizeof(pgl[0].r.chain[0].net),
	    "198.51.100.0/24");
	pgl[0].r.chain[0].family = AF_INET;
	pgl[0].r.nchain = pgl[0].r.chain_total = 1;
	pm.gl = pgl;
	pm.ngl = pm.gl_total = 1;
	ps.ngl = ps.gl_total = 1;
}

/* leaks - the raw values of a list found in text; "" when none */
static const char *
leaks(const char *text, const char *const *raw)
{
	for (; *raw != NULL; raw++)
		if (strcasestr(text, *raw) != NULL)
			return *raw;
	return "";
}

/* recorded - message and session records of the filled session as text */
static int
recorded(const struct pseudo *p, json_t **rec, char **text)
{
	penv.pseudo = p;
	rec[0] = message_obj(&ps, &pm, "accept", "eom");
	rec[1] = session_obj(&ps);
	if (rec[0] == NULL || rec[1] == NULL)
		return -1;
	text[0] = json_dumps(rec[0], JSON_COMPACT);
	text[1] = json_dumps(rec[1], JSON_COMPACT);
	return text[0] != NULL && text[1] != NULL ? 0 : -1;
}

static void
recorded_free(json_t **rec, char **text)
{
	int i;

	for (i = 0; i < 2; i++) {
		json_decref(rec[i]);
		free(text[i]);
	}
}

/* mk_pseudo - a pseudo for the modes */
static struct pseudo *
mk_pseudo(enum pseudo_mode ip, enum pseudo_mode names, enum pseudo_mode addrs,
    enum pseudo_mode msgid)
{
	struct pseudo_modes m = { ip, names, addrs, msgid };
	struct pseudo *p = NULL;
	char err[256];

	if (pseudo_new(&p, &m, keypath, err, sizeof(err)) != 0)
		diag(err);
	return p;
}

/* no_leak - neither record holds any raw value of the list */
static void
no_leak(char **text, const char *const *raw, const char *what)
{
	const char *l0 = leaks(text[0], raw), *l1 = leaks(text[1], raw);

	if (!ok(*l0 == '\0' && *l1 == '\0', "%s: nothing raw in either record", what))
		printf("# found '%s' in:\n# %s\n", *l0 != '\0' ? l0 : l1,
		    *l0 != '\0' ? text[0] : text[1]);
}

/* pseudo_tests - each mode over the filled session */
static void
pseudo_tests(void)
{
	struct pseudo *p;
	json_t *rec[2], *a;
	char *text[2];
	int fd = mkstemp(keypath);

	if (fd < 0 || write(fd, "record test key, 32 bytes long..", 32) != 32 ||
	    fchmod(fd, 0600) != 0) {
		diag("cannot write a key file");
		return;
	}
	close(fd);

	/* no pseudo and all keep: raw values are there, no extra keys */
	fill_session("192.0.2.10", "10.2.0.192.in-addr.arpa");
	p = mk_pseudo(PSEUDO_KEEP, PSEUDO_KEEP, PSEUDO_KEEP, PSEUDO_KEEP);
	if (recorded(p, rec, text) == 0) {
		ok(*leaks(text[0], raw_ip) && *leaks(text[0], raw_names) &&
		    *leaks(text[0], raw_addrs) && *leaks(text[0], raw_msgid),
		    "keep: the raw values are in the record (the search works)");
		ok(field(rec[0], "pseudonym_key") == NULL &&
		    field(rec[0], "authentication_results.withheld") == NULL,
		    "keep: no pseudonymization keys");
		ok(sfield(rec[0], "authentication_results.value") != NULL,
		    "keep: A-R value written");
	}
	recorded_free(rec, text);
	pseudo_free(p);

	/* hmac everywhere */
	p = mk_pseudo(PSEUDO_HMAC, PSEUDO_HMAC, PSEUDO_HMAC, PSEUDO_HMAC);
	if (recorded(p, rec, text) == 0) {
		no_leak(text, raw_ip, "hmac, client address");
		no_leak(text, raw_names, "hmac, names");
		no_leak(text, raw_addrs, "hmac, addresses");
		no_leak(text, raw_msgid, "hmac, Message-ID");
		is_str(sfield(rec[0], "pseudonym_key"), pseudo_key_id(p),
		    "hmac: message record names the key");
		is_str(sfield(rec[1], "pseudonym_key"), pseudo_key_id(p),
		    "hmac: session record names the key");
		a = field(rec[0], "pseudonymized");
		ok(json_array_size(a) == 4 && strcmp(json_string_value(
		    json_array_get(a, 0)), "client_addr") == 0 &&
		    strcmp(json_string_value(json_array_get(a, 3)), "msgid") == 0,
		    "hmac: all four groups listed");
		ok(json_is_null(field(rec[0], "authentication_results.value")) &&
		    json_is_true(field(rec[0], "authentication_results.withheld")),
		    "hmac: A-R value withheld");
		ok(strncmp(sfield(rec[0], "client.ip"), "h:", 2) == 0,
		    "hmac: client.ip is a pseudonym");
		ok(strstr(sfield(rec[0], "envelope.from"), "@example.org") != NULL,
		    "hmac: envelope.from keeps its domain");
		ok(strstr(text[0], "\"d\":\"example.org\"") != NULL,
		    "hmac: DKIM d= kept in the text");
		ok(strstr(text[1], "\"q\":\"h:") != NULL &&
		    strstr(text[1], ".in-addr.arpa\"") != NULL,
		    "hmac: the reverse query is the pseudonym in its zone");
		ok(strstr(text[0], ".dnsbl.example\"") != NULL,
		    "hmac: the address inside a query name is replaced in place");
		ok(strstr(text[0], "._spf.example.org") != NULL,
		    "hmac: a local part in a query name is replaced, the rest kept");
		a = field(rec[0], "dns");
		ok(json_is_true(json_object_get(json_array_get(a, 0), "cached")) &&
		    json_is_false(json_object_get(json_array_get(a, 1),
		    "cached")), "each lookup says whether it was cached");
		ok(strstr(text[1], "\"net\":\"h:") != NULL &&
		    strstr(text[1], "/24\"") != NULL, "hmac: greylist net keeps /24");
		is_str(sfield(rec[0], "client.ptr"), sfield(rec[0], "auth.iprev.matched"),
		    "hmac: one name, one pseudonym (ptr, iprev matched; case-blind)");
	}
	recorded_free(rec, text);
	pseudo_free(p);

	/* drop everywhere */
	p = mk_pseudo(PSEUDO_DROP, PSEUDO_DROP, PSEUDO_DROP, PSEUDO_DROP);
	if (recorded(p, rec, text) == 0) {
		no_leak(text, raw_ip, "drop, client address");
		no_leak(text, raw_names, "drop, names");
		no_leak(text, raw_addrs, "drop, addresses");
		no_leak(text, raw_msgid, "drop, Message-ID");
		is_str(sfield(rec[0], "pseudonym_key"), "", "drop: no key id");
		ok(json_is_null(field(rec[0], "client.ip")) &&
		    json_is_null(field(rec[0], "client.helo")) &&
		    json_is_null(field(rec[0], "envelope.from")) &&
		    json_is_null(field(rec[0], "message.id")),
		    "drop: the fields are null");
		ok(strstr(text[0], "\"rcode\"") != NULL && strstr(text[0],
		    "\"q\":null") != NULL, "drop: DNS entries stay, their names null");
	}
	recorded_free(rec, text);
	pseudo_free(p);

	/* prefix, hmac names, addresses kept, Message-ID dropped */
	p = mk_pseudo(PSEUDO_PREFIX, PSEUDO_HMAC, PSEUDO_KEEP, PSEUDO_DROP);
	if (recorded(p, rec, text) == 0) {
		char ip[64], rev[80], net[80];
		unsigned char b[4];

		no_leak(text, raw_ip, "prefix, client address");
		no_leak(text, raw_names, "prefix, names");
		no_leak(text, raw_msgid, "prefix, Message-ID");
		ok(*leaks(text[0], raw_addrs) != '\0', "prefix: addresses kept");
		snprintf(ip, sizeof(ip), "%s", sfield(rec[0], "client.ip"));
		ok(inet_pton(AF_INET, ip, b) == 1, "prefix: client.ip is an IPv4 address");
		snprintf(rev, sizeof(rev), "\"%u.%u.%u.%u.in-addr.arpa\"", b[3],
		    b[2], b[1], b[0]);
		ok(strstr(text[1], rev) != NULL,
		    "prefix: the reverse query names the pseudonymized address");
		snprintf(net, sizeof(net), "\"net\":\"%u.%u.%u.0/24\"", b[0], b[1], b[2]);
		ok(strstr(text[0], net) != NULL,
		    "prefix: greylist net is the /24 of the pseudonymized address");
		a = field(rec[0], "pseudonymized");
		ok(json_array_size(a) == 3, "prefix: three groups listed");
		ok(strstr(text[0], "\"mechanism\":\"ip4:") != NULL,
		    "prefix: the SPF mechanism keeps its shape");
	}
	recorded_free(rec, text);
	pseudo_free(p);

	/* truncate only: /24 kept, names kept */
	p = mk_pseudo(PSEUDO_TRUNCATE, PSEUDO_KEEP, PSEUDO_KEEP, PSEUDO_KEEP);
	if (recorded(p, rec, text) == 0) {
		no_leak(text, raw_ip, "truncate, client address");
		is_str(sfield(rec[0], "client.ip"), "192.0.2.0", "truncate: client.ip /24");
		ok(strstr(text[1], "\"0.2.0.192.in-addr.arpa\"") != NULL,
		    "truncate: the reverse query of the /24 address");
		is_str(sfield(rec[0], "pseudonym_key"), "", "truncate: no key id");
		ok(*leaks(text[0], raw_names) != '\0', "truncate: names kept");
		ok(strstr(text[1], "\"192-0-2-0.dyn.example.net\"") != NULL,
		    "truncate: a kept PTR name loses the address inside it");
	}
	recorded_free(rec, text);
	pseudo_free(p);

	/* IPv6 with prefix and dropped names */
	fill_session("2001:db8:1:2::77",
	    "7.7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
	p = mk_pseudo(PSEUDO_PREFIX, PSEUDO_DROP, PSEUDO_HMAC, PSEUDO_HMAC);
	if (recorded(p, rec, text) == 0) {
		unsigned char b[16];

		no_leak(text, raw_ip6, "IPv6 prefix, client address");
		no_leak(text, raw_names, "IPv6, names dropped");
		no_leak(text, raw_addrs, "IPv6, addresses");
		ok(inet_pton(AF_INET6, sfield(rec[0], "client.ip"), b) == 1,
		    "IPv6 prefix: client.ip is an IPv6 address");
		ok(strstr(text[1], ".ip6.arpa\"") != NULL,
		    "IPv6 prefix: the reverse query keeps its form");
		ok(strstr(text[0], "/64\"") != NULL, "IPv6 prefix: greylist net keeps /64");
	}
	recorded_free(rec, text);
	pseudo_free(p);
	penv.pseudo = NULL;
}

/* pseudo_played - a session played through lib/session and the log */
static void
pseudo_played(struct macro_src *cm)
{
	static const char *const tlsm[] = {
		"{tls_version}", "TLSv1.3", "{cert_subject}", "tls.client-host.example",
		"{cert_issuer}", "client-host CA", NULL
	};
	struct macro_src hm = fake_src(tlsm);
	struct sockaddr_in sin = sa_v4("192.0.2.10", 40001);
	struct pseudo *p = mk_pseudo(PSEUDO_HMAC, PSEUDO_HMAC, PSEUDO_HMAC,
	    PSEUDO_HMAC);
	struct session_env e = env;
	struct session *s;
	char line[300000], *text[2] = { NULL, NULL };
	FILE *fp;
	int n = 0;

	e.pseudo = p;
	s = session_new(&e);
	session_connect(s, "ptr.client-host.example", (struct sockaddr *)&sin, cm);
	session_helo(s, "helo.client-host.example", &hm);
	{
		struct macro_src m = fake_src(none), x = fake_src(eom_macros);
		const char *mail[] = { "<alice.sender@example.org>", NULL };
		const char *rcpt[] = { "<bob.rcpt@example.net>", NULL };

		session_mail(s, mail, &m);
		session_rcpt(s, rcpt, &m, NULL);
		session_data(s, &m);
		session_header(s, "Message-ID", " <uniq-msgid-42@example.org>");
		session_eoh(s, &x);
		session_eom(s, &x, NULL, NULL);
	}
	session_close(s);
	fp = fopen(logpath, "r");
	while (fp != NULL && n < 2 && fgets(line, sizeof(line), fp) != NULL)
		text[n++] = strdup(line);
	if (fp != NULL)
		fclose(fp);
	is_int(n, 2, "played with hmac: two records in the log");
	if (n == 2) {
		no_leak(text, raw_ip, "played, client address");
		no_leak(text, raw_names, "played, names");
		no_leak(text, raw_addrs, "played, addresses");
		no_leak(text, raw_msgid, "played, Message-ID");
		ok(strstr(text[0], "\"pseudonym_key\":\"") != NULL &&
		    strstr(text[1], "\"pseudonym_key\":\"") != NULL,
		    "played: both records name the key");
	}
	free(text[0]);
	free(text[1]);
	pseudo_free(p);
	if (truncate(logpath, 0) != 0)
		diag("cannot truncate the log");
}

/*
 * Records over the cap: every field at its cap, filled with control bytes
 * (each escaped as 6 bytes), every list full.
 */
#define MAX_SIGS	64	/* MaximumSignatures at its maximum */
#define FIT_ORDER	"dns,authentication_results,greylist,dkim,rcpt_list," \
	"strings,record"
#define FILL(f)	fill((f), sizeof(f))

static int has_trunc(json_t *rec, const char *name);
static struct dkimverify_sig msig[MAX_SIGS];
static struct session_gl mgl[SESSION_GL_MAX];
static char *mrcpt[SESSION_RCPT_MAX], *mar;

/* fill - a field filled to its cap with control bytes */
static void
fill(char *f, size_t size)
{
	size_t i;

	for (i = 0; i + 1 < size; i++)
		f[i] = (char)(1 + i % 31);
	f[size - 1] = '\0';
}

/* fill_dns_max - every lookup slot, names of control bytes */
static void
fill_dns_max(struct dns_ctx *c)
{
	memset(c, 0, sizeof(*c));
	while (c->nlog < DNS_LOG_MAX) {
		fill_dns(c, "x", 16);
		FILL(c->log[c->nlog - 1].qname);
	}
	c->total = 1000;
}

/* fill_max - the filled session of fill_session(), then every field at
 * its cap and every list full */
static void
fill_max(void)
{
	unsigned i, j;

	fill_session("192.0.2.10", "10.2.0.192.in-addr.arpa");
	FILL(ps.client_name); FILL(ps.ptr); FILL(ps.helo); FILL(ps.mta_version);
	FILL(ps.server_name); FILL(ps.daemon_name); FILL(ps.tls.version);
	FILL(ps.tls.cipher); FILL(ps.tls.subject); FILL(ps.tls.issuer);
	FILL(ps.tls.cn_subject); FILL(ps.tls.cn_issuer); FILL(ps.tls.cert_md5);
	FILL(ps.tls.verify);
	for (i = 0; i < IPREV_NAMES_MAX; i++)
		FILL(ps.auth.iprev.names[i]);
	ps.auth.iprev.nnames = IPREV_NAMES_MAX;
	fill_dns_max(&pdns_s);
	fill_dns_max(&pdns_m);
	FILL(pm.queue_id); FILL(pm.from); FILL(pm.auth_user); FILL(pm.msgid);
	for (i = 0; i < SESSION_RCPT_MAX; i++) {
		if (mrcpt[i] == NULL)
			mrcpt[i] = malloc(SESSION_ADDR_MAX);
		fill(mrcpt[i], SESSION_ADDR_MAX);
		pm.rcpt[i] = mrcpt[i];
	}
	pm.nrcpt = SESSION_RCPT_MAX;
	pm.rcpt_total = 150;
	if (mar == NULL)
		mar = malloc(AUTHRES_MAX);
	fill(mar, AUTHRES_MAX);
	pm.ar = mar;
	FILL(pm.auth.mailfrom.identity); FILL(pm.auth.mailfrom.reason);
	FILL(pm.auth.mailfrom.explanation); FILL(pm.auth.helo.identity);
	FILL(pm.auth.dkim_out.error);
	for (i = 0; i < MAX_SIGS; i++) {
		memset(&msig[i], 0, sizeof(msig[i]));
		FILL(msig[i].reason); FILL(msig[i].domain);
		FILL(msig[i].selector); FILL(msig[i].algorithm);
		FILL(msig[i].canon); FILL(msig[i].identity);
		FILL(msig[i].b_prefix); FILL(msig[i].key_type);
	}
	pm.auth.dkim_out.sig = msig;
	pm.auth.dkim_out.nsig = MAX_SIGS;
	pm.auth.dkim_out.total = 100;
	for (i = 0; i < SESSION_GL_MAX; i++) {
		mgl[i] = pgl[0];
		FILL(mgl[i].rcpt);
		FILL(mgl[i].r.error);
		for (j = 0; j < GREYLIST_CHAIN_MAX; j++)
			mgl[i].r.chain[j] = pgl[0].r.chain[0];
		mgl[i].r.nchain = GREYLIST_CHAIN_MAX;
	}
	pm.gl = ps.gl = mgl;
	pm.ngl = ps.ngl = SESSION_GL_MAX;
	pm.truncated = SESSION_TRUNC_RCPT_LIST;
}

/* dumped_size - bytes of the record as the record log writes it */
static size_t
dumped_size(const json_t *rec)
{
	return json_dumpb(rec, NULL, 0, RECORDLOG_JSON_FLAGS);
}

/* in_order - the names of cuts appear in FIT_ORDER in the same order */
static bool
in_order(const char *cuts)
{
	const char *o = FIT_ORDER;
	size_t n;

	for (; *cuts != '\0'; cuts += n + (cuts[n] == ',')) {
		n = strcspn(cuts, ",");
		while (*o != '\0' && (strncmp(o, cuts, n) != 0 ||
		    (o[n] != ',' && o[n] != '\0')))
			o += strcspn(o, ",") + (o[strcspn(o, ",")] == ',');
		if (*o == '\0')
			return false;
		o += n;
	}
	return true;
}

/* fit_ok - rec, fitted into cap, is valid JSON within cap with the
 * mandatory fields, cut in the documented order and named in truncated;
 * a reason when not, "" when it is */
static const char *
fit_ok(json_t *rec, size_t cap, const char *cuts, bool message)
{
	static char why[200];
	json_t *back;
	char *text = json_dumps(rec, RECORDLOG_JSON_FLAGS);
	const char *c;
	size_t n;

	why[0] = '\0';
	back = text != NULL ? json_loads(text, 0, NULL) : NULL;
	if (back == NULL)
		snprintf(why, sizeof(why), "not valid JSON");
	else if (strlen(text) > cap)
		snprintf(why, sizeof(why), "%zu bytes over %zu", strlen(text), cap);
	else if (!in_order(cuts))
		snprintf(why, sizeof(why), "cuts \"%s\" not in order", cuts);
	else if (ifield(back, "v") != 1 || sfield(back, "ts")[0] == '\0' ||
	    sfield(back, "session")[0] == '\0' ||
	    sfield(back, "client.ip")[0] == '\0' ||
	    (message && (ifield(back, "msg") != 1 ||
	    strcmp(sfield(back, "disposition.action"), "accept") != 0)))
		snprintf(why, sizeof(why), "a mandatory field is missing");
	for (c = cuts; why[0] == '\0' && *c != '\0'; c += n + (c[n] == ',')) {
		char name[40];

		n = strcspn(c, ",");
		snprintf(name, sizeof(name), "%.*s", (int)n, c);
		if (!has_trunc(back, name))
			snprintf(why, sizeof(why), "%s not in truncated", name);
	}
	json_decref(back);
	free(text);
	return why;
}

/* fit_tests - maximal records always fit, whatever the cap */
static void
fit_tests(void)
{
	static const size_t caps[] = {
		RECORDLOG_RECORD_MAX - 1, 200000, 131072, 65536, RECORD_FIT_MIN
	};
	const char *why = "", *w;
	char cuts[200];
	json_t *rec;
	size_t i, before;

	penv.pseudo = NULL;
	fill_max();
	rec = message_obj(&ps, &pm, "accept", "eom");
	before = rec != NULL ? dumped_size(rec) : 0;
	printf("# maximal message record: %zu bytes\n", before);
	ok(before > RECORDLOG_RECORD_MAX, "a maximal message record is over "
	    "the cap before it is cut");
	is_int(record_fit(rec, RECORDLOG_RECORD_MAX - 1, cuts, sizeof(cuts)), 0,
	    "record_fit fits it into the cap");
	is_str(fit_ok(rec, RECORDLOG_RECORD_MAX - 1, cuts, true), "",
	    "cut in order, named in truncated, valid, mandatory fields kept");
	printf("# cut: %s; now %zu bytes\n", cuts, dumped_size(rec));
	ok(has_trunc(rec, "rcpt_list") && ifield(rec, "envelope.rcpt_count") ==
	    150 && ifield(rec, "auth.dkim_total") == 100 &&
	    ifield(rec, "dns_total") == 1000, "the lists' totals are kept");
	json_decref(rec);

	for (i = 0; i < sizeof(caps) / sizeof(caps[0]) && why[0] == '\0'; i++) {
		rec = message_obj(&ps, &pm, "accept", "eom");
		if (record_fit(rec, caps[i], cuts, sizeof(cuts)) != 0)
			why = "record_fit failed";
		else if ((w = fit_ok(rec, caps[i], cuts, true))[0] != '\0')
			why = w;
		json_decref(rec);
		rec = session_obj(&ps);
		if (why[0] == '\0' && record_fit(rec, caps[i], cuts,
		    sizeof(cuts)) != 0)
			why = "record_fit failed on the session record";
		else if (why[0] == '\0' &&
		    (w = fit_ok(rec, caps[i], cuts, false))[0] != '\0')
			why = w;
		json_decref(rec);
		if (why[0] != '\0')
			printf("# cap %zu\n", caps[i]);
	}
	is_str(why, "", "message and session records fit every cap down to "
	    "RECORD_FIT_MIN");
	rec = message_obj(&ps, &pm, "accept", "eom");
	record_fit(rec, RECORD_FIT_MIN, cuts, sizeof(cuts));
	is_str(cuts, "dns,authentication_results,greylist,dkim,rcpt_list,"
	    "strings", "at RECORD_FIT_MIN every list and string is cut");
	is_int(record_fit(rec, RECORD_FIT_MIN - 1, cuts, sizeof(cuts)),
	    SCOPE_ETOOBIG, "a cap below RECORD_FIT_MIN is refused");
	json_decref(rec);

	/* what no step but the last can shrink: a list of numbers */
	rec = message_obj(&ps, &pm, "accept", "eom");
	{
		json_t *a = json_array();

		for (i = 0; i < 60000; i++)
			json_array_append_new(a, json_integer(1000000 + i));
		json_object_set_new(rec, "extra", a);
	}
	ok(record_fit(rec, RECORDLOG_RECORD_MAX - 1, cuts, sizeof(cuts)) == 0 &&
	    fit_ok(rec, RECORDLOG_RECORD_MAX - 1, cuts, true)[0] == '\0' &&
	    strcmp(cuts, FIT_ORDER) == 0 && has_trunc(rec, "record") &&
	    has_trunc(rec, "rcpt_list") && field(rec, "extra") == NULL &&
	    field(rec, "envelope") == NULL && dumped_size(rec) < 4096,
	    "the last resort is the minimal record: mandatory fields and "
	    "truncated only");
	json_decref(rec);

	fill_session("192.0.2.10", "10.2.0.192.in-addr.arpa");
	rec = message_obj(&ps, &pm, "accept", "eom");
	before = dumped_size(rec);
	ok(record_fit(rec, RECORDLOG_RECORD_MAX - 1, cuts, sizeof(cuts)) == 0 &&
	    cuts[0] == '\0' && dumped_size(rec) == before &&
	    !has_trunc(rec, "dns"), "a record within the cap is left alone");
	json_decref(rec);
	for (i = 0; i < SESSION_RCPT_MAX; i++)
		free(mrcpt[i]);
	free(mar);
}

/* fit_played - a hostile message through the session into the record
 * log: control bytes in HELO, 100 recipients and Message-ID, 40 DKIM
 * signatures with long fields; its record is written, cut */
static void
fit_played(struct macro_src *cm)
{
	struct macro_src m = fake_src(none), e = fake_src(eom_macros);
	struct sockaddr_in sin = sa_v4("192.0.2.11", 40001);
	const char *mail[] = { "<a@example.org>", NULL };
	const char *rcpt[] = { NULL, NULL };
	char addr[SESSION_ADDR_MAX + 2], helo[SESSION_HELO_MAX], id[300];
	json_t *recs[4];
	struct session *s;
	unsigned i;
	int n, bad;

	if (truncate(logpath, 0) != 0)
		diag("could not empty the log");
	fill(helo, sizeof(helo));
	s = session_new(&env);
	session_connect(s, "unknown", (struct sockaddr *)&sin, cm);
	session_helo(s, helo, cm);
	session_mail(s, mail, &m);
	for (i = 0; i < SESSION_RCPT_MAX; i++) {
		fill(addr, sizeof(addr) - 13);
		addr[0] = '<';
		snprintf(addr + sizeof(addr) - 14, 14, "%03u@x.test>", i);
		rcpt[0] = addr;
		session_rcpt(s, rcpt, &m, NULL);
	}
	session_data(s, &m);
	fill(id, sizeof(id));
	session_header(s, "Message-ID", id);
	session_eoh(s, &e);
	s->msg->auth.dkim = true;	/* as if 40 signatures were verified */
	s->msg->auth.dkim_out.sig = calloc(40, sizeof(struct dkimverify_sig));
	for (i = 0; s->msg->auth.dkim_out.sig != NULL && i < 40; i++) {
		struct dkimverify_sig *g = &s->msg->auth.dkim_out.sig[i];

		FILL(g->reason); FILL(g->domain); FILL(g->selector);
		FILL(g->identity); FILL(g->canon); FILL(g->algorithm);
		s->msg->auth.dkim_out.nsig = s->msg->auth.dkim_out.total = i + 1;
	}
	stats_reset();
	session_eom(s, &e, NULL, NULL);
	session_close(s);
	n = read_lines(recs, 4, &bad);
	ok(n == 2 && bad == 0 && stats_get(STATS_RECORDS_LOST) == 0,
	    "a hostile message's record over the cap is written, not dropped");
	ok(n >= 1 && has_trunc(recs[0], "dkim") &&
	    strcmp(sfield(recs[0], "event"), "message") == 0 &&
	    json_array_size(field(recs[0], "envelope.rcpt")) > 0,
	    "it is cut (DKIM signatures first), and says so in truncated");
	is_int((long long)stats_get(STATS_RECORDS_CUT), 1,
	    "records_cut counts it");
	while (n > 0)
		json_decref(recs[--n]);
}

/* has_trunc - whether a record's "truncated" names a field */
static int
has_trunc(json_t *rec, const char *name)
{
	json_t *a = json_object_get(rec, "truncated"), *v;
	size_t i;

	json_array_foreach(a, i, v)
		if (strcmp(json_string_value(v), name) == 0)
			return 1;
	return 0;
}

int
main(void)
{
	struct macro_src cm = fake_src(connect_macros), hm = fake_src(helo_tls);
	struct sockaddr_in sin = sa_v4("192.0.2.10", 40000);
	struct sockaddr_in6 sin6;
	json_t *recs[16];
	char longhelo[1200], hostile[] = "evil\r\nhelo\"\\\x01\xff\xfe end";
	struct session *s;
	int n, bad, fd;

	fd = mkstemp(logpath);
	if (fd < 0 || recordlog_open(&rlog, logpath, 0600) != 0)
		return 1;
	close(fd);
	env.log = rlog;
	plan(40 + 54 + 12);

	/* session 1: TLS, two messages, a hostile HELO */
	s = session_new(&env);
	session_connect(s, "unknown", (struct sockaddr *)&sin, &cm);
	session_helo(s, hostile, &hm);
	play_message(s, "<a@example.org>", 1);
	play_message(s, "<>", 2);
	session_close(s);
	n = read_lines(recs, 16, &bad);
	is_int(n, 3, "two messages and one session give three records");
	is_int(bad, 0, "every line is valid JSON ending in a newline");
	is_int(ifield(recs[0], "v"), 1, "schema version 1");
	is_str(sfield(recs[0], "event"), "message", "first record is a message");
	is_str(sfield(recs[2], "event"), "session", "last record is the session");
	ok(strcmp(sfield(recs[0], "session"), sfield(recs[2], "session")) == 0,
	    "message and session records share the session id");
	is_str(sfield(recs[0], "client.helo"), "evil\r\nhelo\"\\\x01\xef\xbf\xbd\xef\xbf\xbd end",
	    "hostile HELO survives exactly, invalid bytes replaced");
	is_str(sfield(recs[0], "client.ip"), "192.0.2.10", "client ip");
	is_int(ifield(recs[0], "client.port"), 40000, "client port");
	is_str(sfield(recs[0], "client.family"), "ipv4", "client family");
	is_str(sfield(recs[0], "client.ptr"), "client.example.org", "client ptr from {client_ptr}");
	is_str(sfield(recs[0], "server.name"), "mx.smtpscope.test", "server name from j");
	is_int(ifield(recs[0], "server.port"), 2525, "server port");
	is_str(sfield(recs[0], "server.mta"), "postfix", "MTA detected");
	is_str(sfield(recs[0], "tls.version"), "TLSv1.2", "TLS version from HELO macros");
	is_int(ifield(recs[0], "tls.bits"), 256, "TLS bits as integer");
	ok(json_is_null(field(recs[0], "tls.peer")), "no client certificate: peer null");
	is_str(sfield(recs[0], "queue_id"), "4ABCDEF123", "queue id from i");
	is_str(sfield(recs[0], "envelope.from"), "a@example.org", "sender without brackets");
	is_str(sfield(recs[1], "envelope.from"), "", "null sender is the empty string");
	is_int(ifield(recs[1], "envelope.rcpt_count"), 2, "second message has two recipients");
	is_str(sfield(recs[0], "message.id"), "<id1@example.org>", "Message-ID kept");
	is_int(ifield(recs[0], "message.headers"), 2, "header count");
	is_int(ifield(recs[0], "message.size"), 52 + 2 + 7, "size: headers + blank line + body");
	is_int(ifield(recs[0], "envelope.size_declared"), 321, "ESMTP SIZE kept");
	is_str(sfield(recs[0], "disposition.action"), "accept", "disposition accept");
	is_int(ifield(recs[1], "msg"), 2, "messages are numbered in the session");
	is_int(ifield(recs[2], "messages"), 2, "session counts its messages");
	ok(json_is_array(field(recs[2], "tags")), "tags is an array");
	while (n > 0)
		json_decref(recs[--n]);
	if (truncate(logpath, 0) != 0)
		return 1;

	/* session 2: IPv4-mapped IPv6, over-long HELO, too many recipients, abort */
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "::ffff:198.51.100.9", &sin6.sin6_addr);
	memset(longhelo, 'h', sizeof(longhelo) - 1);
	longhelo[sizeof(longhelo) - 1] = '\0';
	s = session_new(&env);
	session_connect(s, "[198.51.100.9]", (struct sockaddr *)&sin6, &cm);
	session_helo(s, longhelo, &cm);
	{
		struct macro_src m = fake_src(none);
		const char *mail[] = { "<x@example.org>", NULL };
		const char *rcpt[] = { "<r@smtpscope.test>", NULL };
		int i;

		session_mail(s, mail, &m);
		for (i = 0; i < 150; i++)
			session_rcpt(s, rcpt, &m, NULL);
		session_abort(s);
	}
	session_close(s);
	n = read_lines(recs, 16, &bad);
	is_int(n, 2, "aborted message and session give two records");
	is_str(sfield(recs[0], "client.family"), "ipv4", "IPv4-mapped address counts as ipv4");
	is_str(sfield(recs[0], "client.ip"), "198.51.100.9", "mapped address unwrapped");
	is_int((long long)strlen(sfield(recs[0], "client.helo")), SESSION_HELO_MAX - 1,
	    "HELO capped at its documented length");
	ok(has_trunc(recs[0], "helo"), "capped HELO is named in truncated");
	is_int((long long)json_array_size(field(recs[0], "envelope.rcpt")), SESSION_RCPT_MAX,
	    "recipient list capped");
	is_int(ifield(recs[0], "envelope.rcpt_count"), 150, "all recipients counted");
	is_str(sfield(recs[0], "disposition.action"), "abort", "aborted message recorded as abort");
	is_str(sfield(recs[0], "disposition.stage"), "rcpt", "abort stage is the last stage seen");
	ok(json_is_null(field(recs[0], "message.size")), "no DATA: size is null");
	is_int(ifield(recs[1], "aborted"), 1, "session counts the aborted message");
	while (n > 0)
		json_decref(recs[--n]);
	if (truncate(logpath, 0) != 0)
		return 1;

	pseudo_tests();
	pseudo_played(&cm);
	fit_tests();
	fit_played(&cm);
	unlink(keypath);
	recordlog_close(rlog);
	unlink(logpath);
	return done_testing();
}
