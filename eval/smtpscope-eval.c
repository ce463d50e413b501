/*
 * smtpscope-eval.c - what would smtpscope record for this message?
 *
 * SYNOPSIS
 *	smtpscope-eval --client-ip IP [--helo NAME] [--mail-from ADDR]
 *	    [--rcpt ADDR]... [--tls-version V [--cipher C] [--cipher-bits N]
 *	    [--cert-subject S] [--cert-issuer I] [--verify OK|FAIL|NO]]
 *	    [--zone FILE]... [--zone-sec APEX=secure|bogus]...
 *	    [--timeout-name NAME]... | [--nameservers LIST]
 *	    [--dns-timeout MS] [--no-spf] [--no-iprev] [--no-dkim] [--no-dmarc]
 *	    [--max-signatures N] [--dkim-min-key-bits N] [--dkim-allow-sha1]
 *	    [--public-suffix-list FILE] [--authserv-id ID]
 *	    [--remove-all-auth-results] [--tag-rules FILE] [--time WHEN]
 *	    [MESSAGE-FILE | -]
 *
 * DESCRIPTION
 *	Runs the milter's pipeline (lib/session: the same events, checks and
 *	record builder) on a message file and an envelope given on the
 *	command line, and prints the message record and the session record
 *	it would write, as JSON Lines on standard output. With --zone, DNS
 *	answers come from master-format zone files only (nothing is sent on
 *	the network), so results are deterministic; --zone-sec marks a zone's
 *	answers secure (AD) or bogus, --timeout-name makes a name never
 *	answer. Without --zone, lookups go to --nameservers or resolv.conf.
 *	Header changes are simulated as if the MTA accepted them: the record's
 *	authentication_results shows the header smtpscope would add and the
 *	forged ones it would remove.
 *	--time WHEN (Unix seconds or RFC 3339) evaluates as of that moment,
 *	to reprocess archived mail with the verdicts it had on arrival: the
 *	records' timestamps and the DKIM x= and t= checks (and SPF's %{t})
 *	use it, through the pinned wall clock (clock_pin_wall) and the time()
 *	that eval_clock.c gives the libraries. DNS answers are today's.
 *	Exit status: 0, 64 for bad usage, 66 for an unreadable input, 78 for
 *	a check that cannot be set up (public suffix list).
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/auth.h"
#include "clock.h"
#include "config.h"
#include "dns/dns.h"
#include "errors.h"
#include "msgfile.h"
#include "record/recordlog.h"
#include "session.h"
#include "auth/spf.h"
#include "tags.h"
#include "text.h"

#define EVAL_MACROS_MAX	32
#define EVAL_RCPT_MAX	100

struct eval_opts {
	const char *client_ip, *helo, *mail_from, *message, *nameservers;
	const char *rcpt[EVAL_RCPT_MAX];
	int nrcpt;
	const char *macros[EVAL_MACROS_MAX * 2 + 1];	/* name, value, ..., NULL */
	int nmacros;
	bool zones, spf, iprev, dkim, dmarc, allow_sha1, remove_all;
	long dns_timeout, max_sigs, min_key_bits;
	const char *psl, *servid, *tag_rules;
	struct dns_resolver *dns;
};

/* eval_get - the macro source over the option list */
static const char *
eval_get(void *arg, const char *name)
{
	const struct eval_opts *o = arg;
	int i;

	for (i = 0; i < o->nmacros; i++)
		if (strcmp(o->macros[2 * i], name) == 0)
			return o->macros[2 * i + 1];
	return NULL;
}

/* eval_usage - print usage, exit 64 */
static void __attribute__((noreturn))
eval_usage(const char *why)
{
	if (why != NULL)
		fprintf(stderr, "smtpscope-eval: %s\n", why);
	fprintf(stderr, "usage: smtpscope-eval --client-ip IP [--helo NAME] "
	    "[--mail-from ADDR] [--rcpt ADDR]... [--tls-version V ...]\n"
	    "\t[--zone FILE]... [--zone-sec APEX=secure|bogus]... "
	    "[--timeout-name NAME]...\n\t[--nameservers LIST] "
	    "[--dns-timeout MS] [--no-spf] [--no-iprev] [--no-dkim]\n"
	    "\t[--no-dmarc] [--max-signatures N] [--dkim-min-key-bits N] "
	    "[--dkim-allow-sha1]\n\t[--public-suffix-list FILE] "
	    "[--authserv-id ID] [--remove-all-auth-results]\n"
	    "\t[--tag-rules FILE] [--time SECONDS|RFC3339]\n"
	    "\t[MESSAGE-FILE | -]\n");
	exit(64);
}

/* eval_macro - add a macro given on the command line */
static void
eval_macro(struct eval_opts *o, const char *name, const char *value)
{
	if (o->nmacros == EVAL_MACROS_MAX)
		eval_usage("too many macros");
	o->macros[2 * o->nmacros] = name;
	o->macros[2 * o->nmacros + 1] = value;
	o->nmacros++;
}

/* eval_zones - the in-memory resolver, created on first use */
static struct dns_resolver *
eval_zones(struct eval_opts *o)
{
	if (o->dns == NULL) {
		if (dns_resolver_new_zones(&o->dns, o->dns_timeout) != 0)
			exit(71);
		o->zones = true;
	}
	return o->dns;
}

/* eval_zone_sec - --zone-sec APEX=secure|bogus */
static void
eval_zone_sec(struct eval_opts *o, const char *arg)
{
	char apex[DNS_NAME_MAX];
	const char *eq = strchr(arg, '=');
	enum dns_sec sec;

	if (eq == NULL || (size_t)(eq - arg) >= sizeof(apex))
		eval_usage("--zone-sec wants APEX=secure|bogus");
	if (strcmp(eq + 1, "secure") == 0)
		sec = DNS_SEC_SECURE;
	else if (strcmp(eq + 1, "bogus") == 0)
		sec = DNS_SEC_BOGUS;
	else
		eval_usage("--zone-sec wants APEX=secure|bogus");
	memcpy(apex, arg, (size_t)(eq - arg));
	apex[eq - arg] = '\0';
	if (dns_zone_set_sec(eval_zones(o), apex, sec) != 0)
		eval_usage("--zone-sec: bad apex name");
}

/* eval_zone_option - --zone, --zone-sec, --timeout-name */
static void
eval_zone_option(struct eval_opts *o, int opt, const char *arg)
{
	char err[512];

	if (opt == 'S') {
		eval_zone_sec(o, arg);
	} else if (opt == 'T') {
		if (dns_zone_add_timeout(eval_zones(o), arg) != 0)
			eval_usage("bad --timeout-name");
	} else if (dns_zone_load(eval_zones(o), arg, err, sizeof(err)) != 0) {
		fprintf(stderr, "smtpscope-eval: %s\n", err);
		exit(66);
	}
}

/* eval_number - a decimal option argument in [min, max] */
static long
eval_number(const char *arg, long min, long max, const char *what)
{
	long n;

	if (text_parse_long(arg, 10, min, max, &n) != 0)
		eval_usage(what);
	return n;
}

/* eval_time - --time: pin the wall clock to that moment */
static void
eval_time(const char *arg)
{
	char why[200];
	int64_t us;
	int rc = clock_parse_time(arg, &us);

	if (rc == SCOPE_ERANGE)
		snprintf(why, sizeof(why), "--time: '%.*s' is out of range "
		    "(1970-01-01T00:00:01Z to 9999-12-31T23:59:59Z)",
		    CLOCK_PARSE_MAX, arg);
	else if (rc != SCOPE_OK)
		snprintf(why, sizeof(why), "--time: '%.*s' is neither Unix "
		    "seconds nor an RFC 3339 date-time such as "
		    "2026-11-28T22:42:03Z", CLOCK_PARSE_MAX, arg);
	if (rc != SCOPE_OK)
		eval_usage(why);
	clock_pin_wall(us);
}

/* eval_options - the command line */
static void
eval_options(int argc, char **argv, struct eval_opts *o)
{
	static const struct option longopts[] = {
		{ "client-ip", required_argument, NULL, 'i' },
		{ "helo", required_argument, NULL, 'h' },
		{ "mail-from", required_argument, NULL, 'f' },
		{ "rcpt", required_argument, NULL, 'r' },
		{ "tls-version", required_argument, NULL, 1 },
		{ "cipher", required_argument, NULL, 2 },
		{ "cipher-bits", required_argument, NULL, 3 },
		{ "cert-subject", required_argument, NULL, 4 },
		{ "cert-issuer", required_argument, NULL, 5 },
		{ "verify", required_argument, NULL, 6 },
		{ "zone", required_argument, NULL, 'z' },
		{ "zone-sec", required_argument, NULL, 'S' },
		{ "timeout-name", required_argument, NULL, 'T' },
		{ "nameservers", required_argument, NULL, 'n' },
		{ "dns-timeout", required_argument, NULL, 't' },
		{ "no-spf", no_argument, NULL, 7 },
		{ "no-iprev", no_argument, NULL, 8 },
		{ "no-dkim", no_argument, NULL, 9 },
		{ "no-dmarc", no_argument, NULL, 10 },
		{ "max-signatures", required_argument, NULL, 11 },
		{ "dkim-min-key-bits", required_argument, NULL, 12 },
		{ "dkim-allow-sha1", no_argument, NULL, 13 },
		{ "public-suffix-list", required_argument, NULL, 14 },
		{ "authserv-id", required_argument, NULL, 15 },
		{ "remove-all-auth-results", no_argument, NULL, 16 },
		{ "tag-rules", required_argument, NULL, 17 },
		{ "time", required_argument, NULL, 18 },
		{ NULL, 0, NULL, 0 }
	};
	static const char *const tls_names[] = { NULL, "{tls_version}",
		"{cipher}", "{cipher_bits}", "{cert_subject}", "{cert_issuer}",
		"{verify}" };
	int ch;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'i': o->client_ip = optarg; break;
		case 'h': o->helo = optarg; break;
		case 'f': o->mail_from = optarg; break;
		case 'r':
			if (o->nrcpt == EVAL_RCPT_MAX)
				eval_usage("too many --rcpt");
			o->rcpt[o->nrcpt++] = optarg;
			break;
		case 1: case 2: case 3: case 4: case 5: case 6:
			eval_macro(o, tls_names[ch], optarg);
			break;
		case 'z': case 'S': case 'T':
			eval_zone_option(o, ch, optarg);
			break;
		case 'n': o->nameservers = optarg; break;
		case 't': o->dns_timeout = eval_number(optarg, 100, 60000,
		    "--dns-timeout"); break;
		case 7: o->spf = false; break;
		case 8: o->iprev = false; break;
		case 9: o->dkim = false; break;
		case 10: o->dmarc = false; break;
		case 11: o->max_sigs = eval_number(optarg, 1,
		    DKIMVERIFY_SIGS_HARDMAX, "--max-signatures"); break;
		case 12: o->min_key_bits = eval_number(optarg, 0, 16384,
		    "--dkim-min-key-bits"); break;
		case 13: o->allow_sha1 = true; break;
		case 14: o->psl = optarg; break;
		case 15: o->servid = optarg; break;
		case 16: o->remove_all = true; break;
		case 17: o->tag_rules = optarg; break;
		case 18: eval_time(optarg); break;
		default: eval_usage(NULL);
		}
	}
	if (o->client_ip == NULL)
		eval_usage("--client-ip is required");
	if (o->zones && o->nameservers != NULL)
		eval_usage("--zone and --nameservers exclude each other");
	if (optind < argc - 1)
		eval_usage("one message file at most");
	o->message = optind < argc ? argv[optind] : NULL;
}

/* eval_sockaddr - the client address as the connect callback gets it */
static int
eval_sockaddr(const char *ip, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(25000);
		return 0;
	}
	if (inet_pton(AF_INET6, ip, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(25000);
		return 0;
	}
	return -1;
}

/* eval_add_ok, eval_remove_ok - simulated header changes: the MTA
 * would accept them */
static int
eval_add_ok(void *arg, const char *name, const char *value)
{
	(void)arg;
	(void)name;
	(void)value;
	return 0;
}

static int
eval_remove_ok(void *arg, const char *name, unsigned index)
{
	(void)arg;
	(void)name;
	(void)index;
	return 0;
}

static const struct session_editor eval_editor = {
	eval_add_ok, eval_remove_ok, NULL
};

/* eval_play - the milter's events for one message */
static void
eval_play(struct session *s, const struct eval_opts *o,
    const struct macro_src *m, const struct msgfile *msg)
{
	char from[512], rcpt[512];
	const char *mail_argv[2] = { from, NULL }, *rcpt_argv[2] = { rcpt, NULL };
	size_t i;
	int r;

	if (o->helo != NULL)
		session_helo(s, o->helo, m);
	snprintf(from, sizeof(from), "<%s>", o->mail_from != NULL ?
	    o->mail_from : "");
	session_mail(s, mail_argv, m);
	for (r = 0; r < o->nrcpt; r++) {
		snprintf(rcpt, sizeof(rcpt), "<%s>", o->rcpt[r]);
		session_rcpt(s, rcpt_argv, m, NULL);
	}
	session_data(s, m);
	for (i = 0; i < msg->nhdr; i++)
		session_header(s, msg->hdr[i].name, msg->hdr[i].raw);
	session_eoh(s, m);
	session_body(s, (const unsigned char *)msg->body, msg->body_len);
	session_eom(s, m, &eval_editor, NULL);
}

int
main(int argc, char **argv)
{
	struct eval_opts o = { .spf = true, .iprev = true, .dkim = true,
	    .dmarc = true, .dns_timeout = 5000,
	    .max_sigs = DKIMVERIFY_SIGS_DEFAULT, .min_key_bits = 1024 };
	struct macro_src m = { eval_get, &o };
	struct sockaddr_storage ss;
	struct auth_env auth;
	struct auth_checks checks;
	struct tags *tags = NULL;
	struct session_env env;
	struct recordlog *out;
	struct msgfile msg;
	struct session *s;
	char err[512];

	eval_macro(&o, "j", "smtpscope-eval");
	eval_macro(&o, "v", "smtpscope-eval");
	eval_macro(&o, "i", "EVAL");
	eval_options(argc, argv, &o);
	if (eval_sockaddr(o.client_ip, &ss) != 0)
		eval_usage("--client-ip is not an address");
	if (o.message != NULL ? msgfile_load(o.message, &msg) != 0 :
	    (msgfile_builtin(&msg), 0)) {
		fprintf(stderr, "smtpscope-eval: cannot read %s\n", o.message);
		return 66;
	}
	if (!o.zones && (o.spf || o.iprev || o.dkim || o.dmarc) &&
	    dns_resolver_new(&o.dns, o.nameservers, o.dns_timeout, 1, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "smtpscope-eval: %s\n", err);
		return 64;
	}
	memset(&auth, 0, sizeof(auth));
	auth.dns = o.dns;
	checks = (struct auth_checks){ o.spf, o.iprev, o.dkim, o.dmarc,
	    { (unsigned)o.max_sigs, (unsigned)o.min_key_bits, o.allow_sha1 },
	    o.psl };
	if (auth_env_checks(&auth, &checks, err, sizeof(err)) != 0) {
		fprintf(stderr, "smtpscope-eval: %s\n", err);
		auth_env_free(&auth);
		msgfile_free(&msg);
		return 78;
	}
	if (recordlog_from_fd(&out, STDOUT_FILENO) != 0)
		return 71;
	memset(&env, 0, sizeof(env));
	env.log = out;
	env.auth = &auth;
	env.servid = o.servid != NULL ? o.servid : "smtpscope-eval";
	env.headers = true;
	env.remove_all_ar = o.remove_all;
	if (o.tag_rules != NULL && tags_load(&tags, o.tag_rules, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "smtpscope-eval: %s\n", err);
		auth_env_free(&auth);
		msgfile_free(&msg);
		recordlog_close(out);
		return 78;
	}
	env.tags = tags;
	s = session_new(&env);
	if (s == NULL)
		return 71;
	session_connect(s, "unknown", (struct sockaddr *)&ss, &m);
	eval_play(s, &o, &m, &msg);
	session_close(s);
	recordlog_close(out);
	msgfile_free(&msg);
	auth_env_free(&auth);
	tags_free(tags);
	return 0;
}
