/*
 * smtpscope-greylist.c - look at and tend the greylisting state.
 *
 * SYNOPSIS
 *	smtpscope-greylist (-c CONFIG | -s STORE-SPEC) [--lifetime SECONDS]
 *	    [--retry-window SECONDS] COMMAND [ARGUMENTS]
 *	    list [--json]
 *	    allow NET
 *	    delete KEY | delete --triplet IP SENDER RCPT
 *	    expire
 *	    stats [--json]
 *
 * DESCRIPTION
 *	Opens the store the milter uses (GreylistStore of smtpscope.conf, or
 *	the spec given) and lists its entries, allows a client network (an
 *	a|NET entry whose passes count is GREYLIST_TOOL_ALLOW, so the network
 *	is auto-allowed until it has been idle for GreylistLifetime), deletes
 *	one entry, removes what outlived the lifetime, or the retry window
 *	for an unconfirmed entry (as the daemon does
 *	periodically for LMDB), or sums the state up. Output is one line
 *	per entry of "kind key name=value...", or JSON Lines with --json;
 *	times are unix seconds. The network, prefix lengths, delay and
 *	auto-allow count come from the configuration (-c) or the defaults.
 *	Run as root, it first becomes UserID of the configuration (or, with
 *	-s lmdb:PATH, the owner of PATH's folder), so that it never leaves
 *	a root-owned store behind that the daemon cannot open.
 *	Exit status: 0; 1 delete found no such entry; 64 bad usage; 65 bad
 *	NET or address; 69 the store cannot be opened; 74 a store operation
 *	failed; 77 cannot become that user; 78 the configuration is invalid.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <pwd.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"
#include "errors.h"
#include "greylist/glstore.h"
#include "privs.h"
#include "greylist/greylist.h"
#include "text.h"

#define GREYLIST_TOOL_ALLOW	1000000000u	/* passes of an "allow" entry */

#define EX_OK		0
#define EX_NOTFOUND	1
#define EX_USAGE	64
#define EX_DATAERR	65
#define EX_UNAVAILABLE	69
#define EX_IOERR	74
#define EX_NOPERM	77
#define EX_CONFIG	78

struct tool {
	struct greylist_params p;
	char *spec;			/* owned */
	char *user;			/* UserID of the configuration; owned */
	long timeout_ms;
	size_t map_max;			/* GreylistMaxSize, 0: default */
	bool json, triplet;
	int64_t now;
};

/* tool_usage - print usage, exit 64 */
static void __attribute__((noreturn))
tool_usage(const char *why)
{
	if (why != NULL)
		fprintf(stderr, "smtpscope-greylist: %s\n", why);
	fprintf(stderr, "usage: smtpscope-greylist (-c CONFIG | -s STORE-SPEC) "
	    "[--lifetime SECONDS] [--retry-window SECONDS] COMMAND\n"
	    "\tlist [--json]\n\tallow NET\n"
	    "\tdelete KEY | delete --triplet IP SENDER RCPT\n"
	    "\texpire\n\tstats [--json]\n");
	exit(EX_USAGE);
}

/* tool_config - the greylist parameters and store from smtpscope.conf */
static void
tool_config(struct tool *t, const char *path)
{
	struct config cfg;
	char err[CONFIG_ERR_MAX];

	if (config_init(&cfg) != 0 || config_load(&cfg, path, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "smtpscope-greylist: %s\n", err);
		exit(EX_CONFIG);
	}
	free(t->spec);
	t->spec = strdup(cfg.greylist_store != NULL ? cfg.greylist_store : "");
	t->timeout_ms = cfg.greylist_timeout;
	t->map_max = (size_t)cfg.greylist_max_size << 20;
	t->p.mode = (enum greylist_mode)cfg.greylist;
	t->p.delay_s = cfg.greylist_delay;
	t->p.window_s = cfg.greylist_retry_window;
	t->p.lifetime_s = cfg.greylist_lifetime;
	t->p.auto_allow = (unsigned)cfg.greylist_auto_allow;
	t->p.prefix4 = (unsigned)cfg.greylist_ipv4_prefix;
	t->p.prefix6 = (unsigned)cfg.greylist_ipv6_prefix;
	t->p.chain = cfg.greylist_chain;
	if (cfg.user_id != NULL && (t->user = strdup(cfg.user_id)) == NULL)
		exit(EX_UNAVAILABLE);
	config_free(&cfg);
	if (t->spec == NULL)
		exit(EX_CONFIG);
}

/* tool_options - the command line; returns the index of the command */
static int
tool_options(int argc, char **argv, struct tool *t)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "store", required_argument, NULL, 's' },
		{ "lifetime", required_argument, NULL, 'l' },
		{ "retry-window", required_argument, NULL, 'w' },
		{ "json", no_argument, NULL, 'j' },
		{ "triplet", no_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *config = NULL, *spec = NULL;
	long lifetime = -1, window = -1;
	int c;

	while ((c = getopt_long(argc, argv, "c:s:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 's':
			spec = optarg;
			break;
		case 'l':
			if (text_parse_long(optarg, 10, 1, 100L * 365 * 86400,
			    &lifetime) != 0)
				tool_usage("--lifetime wants seconds");
			break;
		case 'w':
			if (text_parse_long(optarg, 10, 60, 2592000,
			    &window) != 0)
				tool_usage("--retry-window wants 60 to 2592000 "
				    "seconds");
			break;
		case 'j':
			t->json = true;
			break;
		case 't':
			t->triplet = true;
			break;
		default:
			tool_usage(NULL);
		}
	}
	if ((config == NULL) == (spec == NULL))
		tool_usage("one of -c CONFIG and -s STORE-SPEC, please");
	if (config != NULL)
		tool_config(t, config);
	else if ((t->spec = strdup(spec)) == NULL)
		exit(EX_UNAVAILABLE);
	if (lifetime > 0)
		t->p.lifetime_s = lifetime;
	if (window > 0)
		t->p.window_s = window;
	if (optind >= argc)
		tool_usage("no command");
	return optind;
}

/* tool_store_owner - for an LMDB store given by -s: the owner of its folder */
static const char *
tool_store_owner(const struct tool *t)
{
	char dir[4096];
	const char *path, *slash;
	struct stat st;
	struct passwd *pw;

	if (strncmp(t->spec, "lmdb:", 5) != 0)
		return NULL;
	path = t->spec + 5;
	slash = strrchr(path, '/');
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if ((size_t)(slash - path) >= sizeof(dir))
		return NULL;
	else
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 :
		    (int)(slash - path), path);
	if (stat(dir, &st) != 0 || st.st_uid == 0)
		return NULL;
	pw = getpwuid(st.st_uid);
	return pw != NULL ? pw->pw_name : NULL;
}

/*
 * tool_drop_root - run as root, become the daemon's user before the store
 * is opened, so that a store file the tool creates (LMDB data and lock
 * files) belongs to the daemon and not to root. The user is UserID of the
 * configuration (-c), else, for an LMDB store given by -s, the owner of
 * the store's folder. Exits 77 when that user cannot be taken.
 */
static void
tool_drop_root(const struct tool *t)
{
	const char *user = t->user != NULL ? t->user : tool_store_owner(t);
	struct privs p;
	char err[256];

	if (geteuid() != 0 || user == NULL)
		return;
	if (privs_resolve(user, &p, err, sizeof(err)) != 0 ||
	    privs_drop(&p, err, sizeof(err)) != 0) {
		fprintf(stderr, "smtpscope-greylist: %s\n", err);
		exit(EX_NOPERM);
	}
}

/* tool_open - the store, or exit 69 */
static struct glstore *
tool_open(const struct tool *t)
{
	struct glstore_opts o;
	struct glstore *s;
	char err[256];

	memset(&o, 0, sizeof(o));
	o.timeout_ms = t->timeout_ms;
	o.map_max = t->map_max;
	if (glstore_open_opts(&s, t->spec, &o, err, sizeof(err)) != 0) {
		fprintf(stderr, "smtpscope-greylist: %s: %s\n", t->spec, err);
		exit(EX_UNAVAILABLE);
	}
	return s;
}

/* tool_failed - a store operation failed: say why, return 74 */
static int
tool_failed(const char *what, int rc)
{
	fprintf(stderr, "smtpscope-greylist: %s: %s\n", what,
	    glstore_error()[0] != '\0' ? glstore_error() : errors_str(rc));
	return EX_IOERR;
}

/* tool_emit - one JSON object as a line; takes the reference */
static void
tool_emit(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);

	if (s != NULL)
		printf("%s\n", s);
	free(s);
	json_decref(o);
}

/* tool_hops - a chain's attempts as text or JSON */
static json_t *
tool_hops(const struct greylist_chain *c, char *text, size_t textsz)
{
	json_t *a = json_array();
	size_t n = 0;
	unsigned i;
	int w;

	text[0] = '\0';
	for (i = 0; i < c->nhop; i++) {
		json_array_append_new(a, json_pack("{s:s,s:i,s:I}", "net",
		    c->hop[i].net, "family", c->hop[i].family == AF_INET ? 4 : 6,
		    "t", (json_int_t)c->hop[i].t));
		w = snprintf(text + n, textsz - n, "%s%s,%d,%lld",
		    i == 0 ? "" : ";", c->hop[i].net,
		    c->hop[i].family == AF_INET ? 4 : 6, (long long)c->hop[i].t);
		if (w > 0 && (size_t)w < textsz - n)
			n += (size_t)w;
	}
	return a;
}

/* tool_list_one - the visitor of list */
static int
tool_list_one(void *arg, const char *key, const char *val, size_t len)
{
	const struct tool *t = arg;
	struct greylist_entry e;
	struct greylist_chain c;
	struct greylist_client cl;
	char hops[GLSTORE_VAL_MAX];
	json_t *a;

	if (key[0] == 't' && greylist_entry_decode(val, len, &e) == 0) {
		if (t->json)
			tool_emit(json_pack("{s:s,s:s,s:I,s:I,s:i,s:I,s:i}",
			    "kind", "triplet", "key", key,
			    "first", (json_int_t)e.first, "last", (json_int_t)e.last,
			    "attempts", (int)e.attempts, "passed",
			    (json_int_t)e.passed, "deliveries", (int)e.deliveries));
		else
			printf("triplet %s first=%lld last=%lld attempts=%u "
			    "passed=%lld deliveries=%u\n", key, (long long)e.first,
			    (long long)e.last, e.attempts, (long long)e.passed,
			    e.deliveries);
	} else if (key[0] == 'c' && greylist_chain_decode(val, len, &c) == 0) {
		a = tool_hops(&c, hops, sizeof(hops));
		if (t->json)
			tool_emit(json_pack("{s:s,s:s,s:I,s:I,s:i,s:i,s:o}",
			    "kind", "chain", "key", key, "first",
			    (json_int_t)c.first, "last", (json_int_t)c.last,
			    "total", (int)c.total, "passes", (int)c.passes,
			    "attempts", a));
		else {
			json_decref(a);
			printf("chain %s first=%lld last=%lld total=%u passes=%u "
			    "attempts=%s\n", key, (long long)c.first,
			    (long long)c.last, c.total, c.passes,
			    hops[0] != '\0' ? hops : "-");
		}
	} else if (key[0] == 'a' && greylist_client_decode(val, len, &cl) == 0) {
		bool allowed = t->p.auto_allow > 0 && cl.passes >= t->p.auto_allow;

		if (t->json)
			tool_emit(json_pack("{s:s,s:s,s:I,s:I,s:b}", "kind",
			    "client", "key", key, "passes", (json_int_t)cl.passes,
			    "last", (json_int_t)cl.last, "allowed", allowed));
		else
			printf("client %s passes=%u last=%lld allowed=%s\n", key,
			    cl.passes, (long long)cl.last, allowed ? "yes" : "no");
	} else if (t->json) {
		tool_emit(json_pack("{s:s,s:s,s:i}", "kind", "invalid", "key",
		    key, "length", (int)len));
	} else {
		printf("invalid %s length=%zu\n", key, len);
	}
	return 0;
}

/* tool_list - every entry, triplets, then chains, then clients */
static int
tool_list(struct tool *t, struct glstore *s)
{
	static const char *const prefixes[] = { "t|", "c|", "a|" };
	unsigned i;
	int rc;

	for (i = 0; i < 3; i++) {
		rc = glstore_visit(s, prefixes[i], tool_list_one, t);
		if (rc < 0)
			return tool_failed("list", rc);
	}
	return EX_OK;
}

/* tool_allow - an a|NET entry that is auto-allowed */
static int
tool_allow(struct tool *t, struct glstore *s, const char *arg)
{
	struct greylist_client cl = { GREYLIST_TOOL_ALLOW, t->now };
	char addr[64], net[GREYLIST_NET_MAX], key[GLSTORE_KEY_MAX], val[64];
	const char *slash = strchr(arg, '/');
	size_t n = slash != NULL ? (size_t)(slash - arg) : strlen(arg);
	long len = -1;
	int fam, vlen, rc;

	if (n >= sizeof(addr) || (slash != NULL && text_parse_long(slash + 1,
	    10, 0, 128, &len) != 0)) {
		fprintf(stderr, "smtpscope-greylist: %s: not an address or "
		    "network\n", arg);
		return EX_DATAERR;
	}
	memcpy(addr, arg, n);
	addr[n] = '\0';
	if (greylist_network(addr, t->p.prefix4, t->p.prefix6, net,
	    sizeof(net), &fam) != 0) {
		fprintf(stderr, "smtpscope-greylist: %s: not an address or "
		    "network\n", arg);
		return EX_DATAERR;
	}
	if (len >= 0 && (unsigned long)len != (fam == AF_INET ? t->p.prefix4 :
	    t->p.prefix6)) {
		fprintf(stderr, "smtpscope-greylist: %s: client networks are "
		    "/%u (IPv4) and /%u (IPv6)\n", arg, t->p.prefix4,
		    t->p.prefix6);
		return EX_DATAERR;
	}
	snprintf(key, sizeof(key), "a|%s", net);
	vlen = greylist_client_encode(&cl, val, sizeof(val));
	rc = vlen < 0 ? vlen : glstore_put(s, key, val, (size_t)vlen,
	    t->p.lifetime_s);
	if (rc < 0)
		return tool_failed("allow", rc);
	printf("%s\n", key);
	return EX_OK;
}

/* tool_delete - one key, or the triplet of an attempt */
static int
tool_delete(struct tool *t, struct glstore *s, int argc, char **argv)
{
	struct greylist_keys k;
	const char *key;
	int rc;

	if (t->triplet) {
		if (argc != 3)
			tool_usage("delete --triplet IP SENDER RCPT");
		if (greylist_keys(&t->p, argv[0], argv[1], argv[2], &k) != 0) {
			fprintf(stderr, "smtpscope-greylist: %s: not an address\n",
			    argv[0]);
			return EX_DATAERR;
		}
		key = k.triplet;
	} else {
		if (argc != 1)
			tool_usage("delete KEY");
		key = argv[0];
	}
	rc = glstore_del(s, key);
	if (rc == SCOPE_ENOENT) {
		fprintf(stderr, "smtpscope-greylist: %s: no such entry\n", key);
		return EX_NOTFOUND;
	}
	if (rc < 0)
		return tool_failed("delete", rc);
	printf("%s\n", key);
	return EX_OK;
}

/* tool_stats - what the store holds, summed up */
static int
tool_stats(struct tool *t, struct glstore *s)
{
	struct greylist_stats st;
	int rc = greylist_stats(&t->p, s, &st);

	if (rc < 0)
		return tool_failed("stats", rc);
	if (t->json) {
		tool_emit(json_pack("{s:I,s:I,s:f,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
		    "triplets", (json_int_t)st.triplets,
		    "passed", (json_int_t)st.passed, "pass_rate", st.pass_rate,
		    "retry_delays", (json_int_t)st.ndelays,
		    "retry_delay_median", (json_int_t)st.delay_median,
		    "retry_delay_p90", (json_int_t)st.delay_p90,
		    "chains", (json_int_t)st.chains,
		    "chain_passes", (json_int_t)st.chain_passes,
		    "clients", (json_int_t)st.clients,
		    "auto_allowed", (json_int_t)st.auto_allowed,
		    "invalid", (json_int_t)st.invalid));
		return EX_OK;
	}
	printf("triplets %lu\npassed %lu\npass_rate %.4f\nretry_delays %lu\n"
	    "retry_delay_median %lld\nretry_delay_p90 %lld\nchains %lu\n"
	    "chain_passes %lu\nclients %lu\nauto_allowed %lu\ninvalid %lu\n",
	    st.triplets, st.passed, st.pass_rate, st.ndelays,
	    (long long)st.delay_median, (long long)st.delay_p90, st.chains,
	    st.chain_passes, st.clients, st.auto_allowed, st.invalid);
	return EX_OK;
}

int
main(int argc, char **argv)
{
	struct tool t;
	struct glstore *s;
	unsigned long removed;
	const char *cmd;
	int i, nargs, rc;

	memset(&t, 0, sizeof(t));
	greylist_params_default(&t.p);
	t.timeout_ms = 500;
	t.now = (int64_t)time(NULL);
	i = tool_options(argc, argv, &t);
	cmd = argv[i++];
	nargs = argc - i;
	if (strcmp(cmd, "list") != 0 && strcmp(cmd, "allow") != 0 &&
	    strcmp(cmd, "delete") != 0 && strcmp(cmd, "expire") != 0 &&
	    strcmp(cmd, "stats") != 0)
		tool_usage("unknown command");
	if ((strcmp(cmd, "allow") == 0 && nargs != 1) ||
	    ((strcmp(cmd, "list") == 0 || strcmp(cmd, "expire") == 0 ||
	    strcmp(cmd, "stats") == 0) && nargs != 0))
		tool_usage("wrong number of arguments");
	if (t.triplet && strcmp(cmd, "delete") != 0)
		tool_usage("--triplet goes with delete");
	tool_drop_root(&t);
	s = tool_open(&t);
	if (strcmp(cmd, "list") == 0) {
		rc = tool_list(&t, s);
	} else if (strcmp(cmd, "allow") == 0) {
		rc = tool_allow(&t, s, argv[i]);
	} else if (strcmp(cmd, "delete") == 0) {
		rc = tool_delete(&t, s, nargs, argv + i);
	} else if (strcmp(cmd, "expire") == 0) {
		rc = greylist_expire(&t.p, s, t.now, &removed);
		if (rc < 0)
			rc = tool_failed("expire", rc);
		else
			printf("removed %lu\n", removed);
	} else {
		rc = tool_stats(&t, s);
	}
	glstore_close(s);
	free(t.spec);
	free(t.user);
	if (fflush(stdout) != 0 && rc == EX_OK)
		rc = EX_IOERR;
	return rc;
}
