/*
 * config.h - smtpscope.conf: one typed table of keys, a strict parser.
 *
 * The file is "Key value" lines; keys are case-insensitive; '#' starts a
 * comment at the start of a line or after white space. Every key has a
 * type, a range or a list of values, a default and a help text, all in
 * config_table.c; the man page smtpscope.conf(5) shows the same table and
 * t/unit/test_config_doc.c fails when the two disagree.
 *
 * Errors are reported as "FILE:LINE: Key: what is wrong" in the caller's
 * buffer (config_load: the first one), or each of them in a struct
 * config_errs (config_load_all, for smtpscope -n). A struct config owns its strings; config_free() releases them.
 */
#ifndef SMTPSCOPE_CONFIG_H
#define SMTPSCOPE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define CONFIG_LINE_MAX	4096	/* longest line accepted, bytes */
#define CONFIG_FILE_MAX	(1 << 20)	/* largest file accepted, bytes */
#define CONFIG_ERR_MAX	512	/* size of an error message buffer */
#define CONFIG_ERRS_KEEP	100	/* errors a struct config_errs keeps */

enum config_type {
	CONFIG_STRING,		/* printable text, no spaces at the ends */
	CONFIG_PATH,		/* absolute path */
	CONFIG_BOOL,		/* yes/no, true/false, on/off, 1/0 */
	CONFIG_INT,		/* decimal integer in [min, max] */
	CONFIG_OCTAL,		/* octal file mode in [min, max] */
	CONFIG_ENUM,		/* one of a '|'-separated list */
	CONFIG_SOCKET,		/* unix:/path, inet:port@host, inet6:port@host */
	CONFIG_USER,		/* user[:group] */
	CONFIG_STORE		/* a greylisting store: lmdb:/path, redis:... */
};

enum config_on_error { CONFIG_ON_ERROR_ACCEPT, CONFIG_ON_ERROR_TEMPFAIL };

struct config_key {
	const char *name;
	enum config_type type;
	long min, max;		/* CONFIG_INT, CONFIG_OCTAL */
	const char *choices;	/* CONFIG_ENUM: "a|b|c" */
	const char *defval;	/* NULL: no default (unset) */
	size_t offset;		/* of the value in struct config */
	const char *help;
};

enum config_key_id {
	CONFIG_KEY_SOCKET,
	CONFIG_KEY_SOCKET_MODE,
	CONFIG_KEY_SOCKET_GROUP,
	CONFIG_KEY_RECORD_LOG,
	CONFIG_KEY_RECORD_LOG_MODE,
	CONFIG_KEY_USER_ID,
	CONFIG_KEY_PID_FILE,
	CONFIG_KEY_SYSLOG,
	CONFIG_KEY_SYSLOG_FACILITY,
	CONFIG_KEY_ON_ERROR,
	CONFIG_KEY_AUTHSERV_ID,
	CONFIG_KEY_SHUTDOWN_TIMEOUT,
	CONFIG_KEY_STATS_INTERVAL,
	CONFIG_KEY_THREAD_STACK_SIZE,
	CONFIG_KEY_METRICS_LISTEN,
	CONFIG_KEY_NAMESERVERS,
	CONFIG_KEY_DNS_TIMEOUT,
	CONFIG_KEY_DNS_RETRIES,
	CONFIG_KEY_DNS_DOWN_AFTER,
	CONFIG_KEY_DNS_DOWN_WINDOW,
	CONFIG_KEY_DNS_CACHE,
	CONFIG_KEY_DNS_CACHE_SIZE,
	CONFIG_KEY_DNS_CACHE_MAX_TTL,
	CONFIG_KEY_SPF,
	CONFIG_KEY_IPREV,
	CONFIG_KEY_DKIM,
	CONFIG_KEY_MAXIMUM_SIGNATURES,
	CONFIG_KEY_DKIM_MIN_KEY_BITS,
	CONFIG_KEY_DKIM_ALLOW_SHA1,
	CONFIG_KEY_DMARC,
	CONFIG_KEY_PUBLIC_SUFFIX_LIST,
	CONFIG_KEY_DMARC_REJECT,
	CONFIG_KEY_HEADERS,
	CONFIG_KEY_REMOVE_ALL_AUTH_RESULTS,
	CONFIG_KEY_GREYLIST,
	CONFIG_KEY_GREYLIST_STORE,
	CONFIG_KEY_GREYLIST_TIMEOUT,
	CONFIG_KEY_GREYLIST_DELAY,
	CONFIG_KEY_GREYLIST_RETRY_WINDOW,
	CONFIG_KEY_GREYLIST_LIFETIME,
	CONFIG_KEY_GREYLIST_AUTO_ALLOW,
	CONFIG_KEY_GREYLIST_IPV4_PREFIX,
	CONFIG_KEY_GREYLIST_IPV6_PREFIX,
	CONFIG_KEY_GREYLIST_CHAIN,
	CONFIG_KEY_GREYLIST_ALLOW_NETWORKS,
	CONFIG_KEY_GREYLIST_ALLOW_DOMAINS,
	CONFIG_KEY_GREYLIST_EXPIRE_INTERVAL,
	CONFIG_KEY_GREYLIST_MAX_SIZE,
	CONFIG_KEY_TAG_RULES,
	CONFIG_KEY_PSEUDO_CLIENT_ADDRESS,
	CONFIG_KEY_PSEUDO_NAMES,
	CONFIG_KEY_PSEUDO_ADDRESSES,
	CONFIG_KEY_PSEUDO_MESSAGE_ID,
	CONFIG_KEY_PSEUDO_KEY_FILE,
	CONFIG_NKEYS
};

struct config {
	char *socket;
	long socket_mode;
	char *socket_group;	/* NULL: the UserID group */
	char *record_log;
	long record_log_mode;
	char *user_id;
	char *pid_file;
	bool syslog;
	int syslog_facility;	/* index into the key's choices */
	int on_error;		/* enum config_on_error */
	char *authserv_id;
	long shutdown_timeout;
	long stats_interval;
	long thread_stack_size;	/* KiB, each libmilter worker's stack */
	char *metrics_listen;	/* NULL: no metrics endpoint */
	char *nameservers;	/* NULL: /etc/resolv.conf */
	long dns_timeout;	/* milliseconds, per message */
	long dns_retries;
	long dns_down_after;	/* unanswered queries in a row; 0: never */
	long dns_down_window;	/* milliseconds */
	bool dns_cache;		/* keep answers for all sessions */
	long dns_cache_size;	/* entries */
	long dns_cache_max_ttl;	/* seconds */
	bool spf;
	bool iprev;
	bool dkim;
	long maximum_signatures;
	long dkim_min_key_bits;
	bool dkim_allow_sha1;
	bool dmarc;
	char *public_suffix_list;
	bool dmarc_reject;
	bool headers;			/* write Authentication-Results */
	bool remove_all_auth_results;
	int greylist;			/* enum greylist_mode */
	char *greylist_store;
	long greylist_timeout;		/* milliseconds, per store call */
	long greylist_delay;		/* seconds */
	long greylist_retry_window;
	long greylist_lifetime;
	long greylist_auto_allow;
	long greylist_ipv4_prefix;
	long greylist_ipv6_prefix;
	bool greylist_chain;
	char *greylist_allow_networks;	/* list, checked by the daemon */
	char *greylist_allow_domains;
	long greylist_expire_interval;	/* seconds */
	long greylist_max_size;		/* MiB, an LMDB store's largest map */
	char *tag_rules;		/* TagRules file, NULL: none */
	int pseudo_client_address;	/* enum pseudo_mode, by choice index */
	int pseudo_names;
	int pseudo_addresses;
	int pseudo_message_id;
	char *pseudo_key_file;

	char *file;			/* the file read, for messages */
	unsigned line[CONFIG_NKEYS];	/* where each key was set, 0: default */
};

extern const struct config_key config_table[CONFIG_NKEYS];

/* every error of a check (smtpscope -n), each "FILE:LINE: Key: reason";
 * the first CONFIG_ERRS_KEEP are kept, the rest only counted */
struct config_errs {
	unsigned count;			/* errors found */
	unsigned kept;			/* of them in text[] */
	char *text[CONFIG_ERRS_KEEP];	/* owned: config_errs_free() */
	bool bad[CONFIG_NKEYS];		/* keys with an error */
};

/* config_init - defaults; returns 0 or SCOPE_ENOMEM */
int config_init(struct config *cfg);
/* config_load - read a file over the defaults; err gets FILE:LINE: Key: text */
int config_load(struct config *cfg, const char *path, char *err, size_t errsz);
/* config_load_stream - the same from an open stream named 'name' */
int config_load_stream(struct config *cfg, FILE *fp, const char *name,
    char *err, size_t errsz);
/* config_load_all - the same, but loading goes on past each error, and
 * every error goes to errs (the texts config_load would give); 0, or the
 * first error's code */
int config_load_all(struct config *cfg, const char *path,
    struct config_errs *errs);
/* config_errs_add - one error about key id (-1: none); copies text */
void config_errs_add(struct config_errs *e, int key, const char *text);
/* config_errs_free - release the texts; e is empty again */
void config_errs_free(struct config_errs *e);
/* config_format - a key's value as the file writes it; SCOPE_ENOENT
 * when the key has no value (no default, not set) */
int config_format(const struct config *cfg, enum config_key_id id, char *out,
    size_t outsz);
/* config_print - the effective configuration in file syntax, every key
 * in table order ("# Key (not set)" for one without value); the output
 * loads into the same values */
int config_print(const struct config *cfg, FILE *fp);
/* config_same - does key id have the same value in a and b? */
bool config_same(const struct config *a, const struct config *b,
    enum config_key_id id);
int config_set(struct config *cfg, const char *key, const char *value,
    const char *file, unsigned line, char *err, size_t errsz);
void config_free(struct config *cfg);

/* config_lookup - the table entry for a key name (case-insensitive) */
const struct config_key *config_lookup(const char *name);
/* config_type_name - "socket", "path", ... as the man page says */
const char *config_type_name(enum config_type type);
/* config_enum_choice - the name of choice 'index' of an enum key */
int config_enum_choice(const struct config_key *key, int index, char *out,
    size_t outsz);

#endif
