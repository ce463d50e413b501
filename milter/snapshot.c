/*
 * snapshot.c - build, share and retire configuration snapshots (see
 * snapshot.h). Building reads files (configuration, TagRules, the public
 * suffix list, the pseudonymization key) and creates the DNS layer; it
 * never exits and never logs: every failure is one message naming file,
 * line and key, for smtpscope -n, the start and a reload alike.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/authres.h"
#include "daemon_log.h"
#include "greylist/greylist_config.h"
#include "snapshot.h"

static pthread_mutex_t snapshot_lock = PTHREAD_MUTEX_INITIALIZER;
static struct snapshot *snapshot_current;
static unsigned long snapshot_generation;

/* snapshot_free - release everything a snapshot built */
static void
snapshot_free(struct snapshot *s)
{
	auth_env_free(&s->auth);
	tags_free(s->tags);
	pseudo_free(s->pseudo);
	config_free(&s->cfg);
	free(s);
}

/* snapshot_headers - the authserv-id and what is done to headers */
static int
snapshot_headers(struct snapshot *s, char *err, size_t errsz)
{
	const struct config *cfg = &s->cfg;

	if (cfg->authserv_id != NULL)
		snprintf(s->servid, sizeof(s->servid), "%s", cfg->authserv_id);
	else if (gethostname(s->servid, sizeof(s->servid)) != 0 ||
	    s->servid[0] == '\0')
		snprintf(s->servid, sizeof(s->servid), "localhost");
	s->servid[sizeof(s->servid) - 1] = '\0';
	if (cfg->authserv_id != NULL && !authres_servid_ok(s->servid)) {
		snprintf(err, errsz, "%s:%u: AuthservID: not 1 to 255 bytes of "
		    "printable ASCII without space or ; ( ) \" \\", cfg->file,
		    cfg->line[CONFIG_KEY_AUTHSERV_ID]);
		return -1;
	}
	s->env.servid = s->servid;
	s->env.headers = cfg->headers;
	s->env.remove_all_ar = cfg->remove_all_auth_results;
	s->env.dmarc_reject = cfg->dmarc_reject;
	s->env.tempfail_on_error = cfg->on_error == CONFIG_ON_ERROR_TEMPFAIL;
	return 0;
}

/* snapshot_tags - the TagRules file */
static int
snapshot_tags(struct snapshot *s, char *err, size_t errsz)
{
	char why[512];

	if (s->cfg.tag_rules == NULL)
		return 0;
	if (tags_load(&s->tags, s->cfg.tag_rules, why, sizeof(why)) != 0) {
		snprintf(err, errsz, "%s:%u: TagRules: %s", s->cfg.file,
		    s->cfg.line[CONFIG_KEY_TAG_RULES], why);
		return -1;
	}
	s->env.tags = s->tags;
	return 0;
}

/* snapshot_pseudo - the pseudonymization modes and key */
static int
snapshot_pseudo(struct snapshot *s, char *err, size_t errsz)
{
	const struct config *cfg = &s->cfg;
	struct pseudo_modes m = {
		(enum pseudo_mode)cfg->pseudo_client_address,
		(enum pseudo_mode)cfg->pseudo_names,
		(enum pseudo_mode)cfg->pseudo_addresses,
		(enum pseudo_mode)cfg->pseudo_message_id
	};
	char why[512];

	if (pseudo_new(&s->pseudo, &m, cfg->pseudo_key_file, why,
	    sizeof(why)) != 0) {
		snprintf(err, errsz, "%s:%u: PseudonymizeKeyFile: %s",
		    cfg->file, cfg->line[CONFIG_KEY_PSEUDO_KEY_FILE], why);
		return -1;
	}
	s->env.pseudo = s->pseudo;
	return 0;
}

/* snapshot_auth - the DNS layer and the checks */
static int
snapshot_auth(struct snapshot *s, char *err, size_t errsz)
{
	const struct config *cfg = &s->cfg;
	struct auth_checks c = {
		cfg->spf, cfg->iprev, cfg->dkim, cfg->dmarc,
		{ (unsigned)cfg->maximum_signatures,
		  (unsigned)cfg->dkim_min_key_bits, cfg->dkim_allow_sha1 },
		cfg->public_suffix_list
	};
	char why[512];

	if (!c.spf && !c.iprev && !c.dkim && !c.dmarc)
		return 0;
	if (dns_resolver_new(&s->auth.dns, cfg->nameservers, cfg->dns_timeout,
	    cfg->dns_retries, why, sizeof(why)) != 0) {
		snprintf(err, errsz, "%s:%u: Nameservers: %s", cfg->file,
		    cfg->line[CONFIG_KEY_NAMESERVERS], why);
		return -1;
	}
	dns_resolver_outage(s->auth.dns, (unsigned)cfg->dns_down_after,
	    cfg->dns_down_window, daemon_log_dns, NULL);
	if (cfg->dns_cache && dns_resolver_cache(s->auth.dns,
	    (size_t)cfg->dns_cache_size, cfg->dns_cache_max_ttl) != 0) {
		snprintf(err, errsz, "%s:%u: DNSCache: out of memory",
		    cfg->file, cfg->line[CONFIG_KEY_DNS_CACHE]);
		return -1;
	}
	if (auth_env_checks(&s->auth, &c, why, sizeof(why)) != 0) {
		if (c.dmarc && s->auth.dmarc == NULL && (!c.dkim ||
		    s->auth.dkim != NULL))
			snprintf(err, errsz, "%s:%u: PublicSuffixList: %s",
			    cfg->file, cfg->line[CONFIG_KEY_PUBLIC_SUFFIX_LIST],
			    why);
		else
			snprintf(err, errsz, "%s: %s", cfg->file, why);
		return -1;
	}
	s->env.auth = &s->auth;
	return 0;
}

/* snapshot_greylist - the greylisting parameters (the store is shared) */
static int
snapshot_greylist(struct snapshot *s, char *err, size_t errsz)
{
	char why[256];
	int key;

	if (greylist_config(&s->cfg, &s->glp, &key, why, sizeof(why)) != 0) {
		snprintf(err, errsz, "%s:%u: %s: %s", s->cfg.file,
		    s->cfg.line[key], config_table[key].name, why);
		return -1;
	}
	return 0;
}

/* the parts built from a loaded configuration, in order; key: the one a
 * check (-n) skips the part for when that key's line was bad */
static const struct {
	int (*build)(struct snapshot *s, char *err, size_t errsz);
	enum config_key_id key;
} snapshot_parts[] = {
	{ snapshot_headers, CONFIG_KEY_AUTHSERV_ID },
	{ snapshot_greylist, CONFIG_KEY_GREYLIST },
	{ snapshot_auth, CONFIG_KEY_PUBLIC_SUFFIX_LIST },
	{ snapshot_tags, CONFIG_KEY_TAG_RULES },
	{ snapshot_pseudo, CONFIG_KEY_PSEUDO_KEY_FILE }
};
#define SNAPSHOT_NPARTS	(sizeof(snapshot_parts) / sizeof(snapshot_parts[0]))

/* snapshot_new - an empty snapshot at the defaults, NULL: out of memory */
static struct snapshot *
snapshot_new(void)
{
	struct snapshot *s = calloc(1, sizeof(*s));

	if (s != NULL && config_init(&s->cfg) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

/* snapshot_load - read the file and build everything from it */
int
snapshot_load(struct snapshot **out, const char *file, const char *socket,
    char *err, size_t errsz)
{
	struct snapshot *s = snapshot_new();
	size_t i;

	*out = NULL;
	if (s == NULL) {
		snprintf(err, errsz, "%s: out of memory", file);
		return -1;
	}
	if (config_load(&s->cfg, file, err, errsz) != 0 ||
	    (socket != NULL && config_set(&s->cfg, "Socket", socket,
	    "(command line -p)", 0, err, errsz) != 0)) {
		snapshot_free(s);
		return -1;
	}
	for (i = 0; i < SNAPSHOT_NPARTS; i++) {
		if (snapshot_parts[i].build(s, err, errsz) != 0) {
			snapshot_free(s);
			return -1;
		}
	}
	s->refs = 1;
	*out = s;
	return 0;
}

/* snapshot_check - snapshot_load going on past every error (-n) */
struct snapshot *
snapshot_check(const char *file, const char *socket, struct config_errs *errs)
{
	struct snapshot *s = snapshot_new();
	char err[CONFIG_ERR_MAX];
	size_t i;

	if (s == NULL)
		return NULL;
	s->refs = 1;
	if (config_load_all(&s->cfg, file, errs) != 0 && s->cfg.file == NULL)
		return s;		/* the file itself cannot be read */
	if (socket != NULL && config_set(&s->cfg, "Socket", socket,
	    "(command line -p)", 0, err, sizeof(err)) != 0)
		config_errs_add(errs, CONFIG_KEY_SOCKET, err);
	for (i = 0; i < SNAPSHOT_NPARTS; i++) {
		if (!errs->bad[snapshot_parts[i].key] &&
		    snapshot_parts[i].build(s, err, sizeof(err)) != 0)
			config_errs_add(errs, (int)snapshot_parts[i].key, err);
	}
	return s;
}

/* snapshot_bind - the record log, fault hook and greylist store */
void
snapshot_bind(struct snapshot *s, const struct session_env *shared)
{
	s->env.log = shared->log;
	s->env.fault = shared->fault;
	s->env.fault_arg = shared->fault_arg;
	s->env.notice = shared->notice;
	s->env.glstore = shared->glstore;
	s->env.gl = shared->glstore != NULL && s->glp.mode != GREYLIST_OFF ?
	    &s->glp : NULL;
}

/* snapshot_install - s becomes current; the previous one is released */
void
snapshot_install(struct snapshot *s)
{
	struct snapshot *old;

	pthread_mutex_lock(&snapshot_lock);
	old = snapshot_current;
	snapshot_current = s;
	if (s != NULL)
		s->generation = ++snapshot_generation;
	pthread_mutex_unlock(&snapshot_lock);
	if (old != NULL)
		snapshot_release(old);
}

/* snapshot_acquire - a reference to the current snapshot */
struct snapshot *
snapshot_acquire(void)
{
	struct snapshot *s;

	pthread_mutex_lock(&snapshot_lock);
	s = snapshot_current;
	if (s != NULL)
		s->refs++;
	pthread_mutex_unlock(&snapshot_lock);
	return s;
}

/* snapshot_release - drop a reference; the last frees */
void
snapshot_release(struct snapshot *s)
{
	unsigned left;

	if (s == NULL)
		return;
	pthread_mutex_lock(&snapshot_lock);
	left = --s->refs;
	pthread_mutex_unlock(&snapshot_lock);
	if (left == 0)
		snapshot_free(s);
}
