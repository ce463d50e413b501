/*
 * greylist.h - greylisting that measures: triplets, attempts, delays and
 * retry chains, over a glstore.
 *
 * For each recipient greylist_check() makes one atomic step on the store
 * (glstore_rmw) over three keys:
 *   t|NET|SENDER|RCPT   the triplet: client network (IPv4 /24, IPv6 /64 by
 *                       default), normalised sender, normalised recipient;
 *   c|SENDER|RCPT       the retry chain: the same delivery from any
 *                       network or family (large senders retry from other
 *                       addresses), with the earlier attempts' networks;
 *   a|NET               the client network's count of passed deliveries
 *                       (auto-allow after GreylistAutoAllow of them);
 *                       written only while counting toward that, then
 *                       refreshed hourly, so it is not a hot key.
 * Verdicts:
 *   new      first attempt of a triplet (or one whose retry window or
 *            lifetime ran out): enforce answers 451 4.7.1;
 *   early    a retry before GreylistDelay: 451 again;
 *   passed   a retry after the delay (or a chain retry from another
 *            network, GreylistChain), or any later delivery of a triplet
 *            that passed;
 *   allowed  allow-listed (network, client name, auto-allow): not
 *            greylisted, still counted;
 *   skipped  greylisting off for this message (null client address...);
 *   error    the store failed: mail passes (fail open), the record says
 *            so, syslog says it once a minute (a full store: once when
 *            it fills, once when it has room again).
 * Expiry: an unconfirmed triplet (never passed) or chain (never passed
 * from another network) is worth keeping only for the retry window: it
 * gets GreylistRetryWindow from its first attempt (Redis TTL; LMDB:
 * greylist_expire), so triplets sprayed by a client that never retries
 * cannot fill the store for GreylistLifetime; confirmed entries live
 * GreylistLifetime after their last use.
 * In observe mode nothing is ever refused; the same state is kept, so
 * the records measure what enforce would have done.
 *
 * Normalisation (documented in smtpscope.conf(5)): addresses are
 * lowercased; a BATV prefix (prvs=TAG=) is removed from the sender's
 * local part and digit runs in it become '#' (VERP and SRS-style
 * per-message senders map to one sender, as in postgrey); the null
 * sender is "<>". IPv4-mapped IPv6 addresses count as IPv4.
 *
 * greylist.c (decisions), greylist_codec.c (keys and stored entries) and
 * greylist_admin.c (expiry, statistics) are protocol-free and time is
 * passed in, so tests control it.
 */
#ifndef SMTPSCOPE_GREYLIST_H
#define SMTPSCOPE_GREYLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "greylist/glstore.h"

#define GREYLIST_CHAIN_MAX	8	/* earlier attempts kept per chain */
#define GREYLIST_NET_MAX	48	/* "2001:db8::/64" and the like */
#define GREYLIST_ALLOW_MAX	64	/* allow-list entries of each kind */

enum greylist_mode { GREYLIST_OFF, GREYLIST_OBSERVE, GREYLIST_ENFORCE };

enum greylist_verdict {
	GREYLIST_SKIPPED,
	GREYLIST_NEW,
	GREYLIST_EARLY,
	GREYLIST_PASSED,
	GREYLIST_ALLOWED,
	GREYLIST_ERROR
};

struct greylist_params {
	enum greylist_mode mode;
	int64_t delay_s;		/* GreylistDelay, 300 */
	int64_t window_s;		/* GreylistRetryWindow, 2 days */
	int64_t lifetime_s;		/* GreylistLifetime, 35 days */
	unsigned auto_allow;		/* GreylistAutoAllow, 5; 0: never */
	unsigned prefix4;		/* GreylistIPv4Prefix, 24 */
	unsigned prefix6;		/* GreylistIPv6Prefix, 64 */
	bool chain;			/* GreylistChain, yes */
	/* GreylistAllowNetworks: address, prefix length, family */
	struct {
		unsigned char addr[16];
		unsigned len;
		int family;
	} allow_net[GREYLIST_ALLOW_MAX];
	unsigned nallow_net;
	/* GreylistAllowDomains: the client's verified host name is one of
	 * these or under one of them */
	char allow_domain[GREYLIST_ALLOW_MAX][256];
	unsigned nallow_domain;
};

/* one earlier attempt of a chain */
struct greylist_hop {
	char net[GREYLIST_NET_MAX];	/* "192.0.2.0/24" */
	int family;			/* AF_INET, AF_INET6 */
	int64_t t;			/* unix seconds */
};

/* what one recipient's check found */
struct greylist_result {
	enum greylist_verdict verdict;
	enum greylist_mode mode;	/* the mode applied */
	bool via_chain;			/* passed as a retry from elsewhere */
	bool auto_allowed;		/* allowed by the passes count */
	unsigned attempt;		/* of this triplet (or chain), 1 first */
	int64_t first_seen;		/* unix seconds, 0 unknown */
	int64_t delay_s;		/* since the first attempt */
	char net[GREYLIST_NET_MAX];	/* this client's network */
	struct greylist_hop chain[GREYLIST_CHAIN_MAX];	/* earlier attempts
					 * from other networks, oldest first */
	unsigned nchain;
	unsigned chain_total;		/* may exceed GREYLIST_CHAIN_MAX */
	char error[128];		/* on GREYLIST_ERROR */
	bool store_full;		/* on GREYLIST_ERROR: the store is full
					 * (LMDB at GreylistMaxSize, Redis at
					 * maxmemory) */
};

/* the facts of one attempt */
struct greylist_attempt {
	const char *client_ip;		/* text form */
	const char *client_name;	/* MTA-verified host name, or NULL */
	const char *sender;		/* "" for the null sender */
	const char *rcpt;
	int64_t now;			/* unix seconds */
	bool mode_set;			/* mode overrides p->mode (a tag's
					 * greylist line, TagRules) */
	enum greylist_mode mode;
};

/* greylist_params_default - the documented defaults (mode off) */
void greylist_params_default(struct greylist_params *p);
/* greylist_parse_allow_net - add "192.0.2.0/24" or "2001:db8::/32" (a
 * bare address is a host); SCOPE_EINVAL or SCOPE_ETOOBIG */
int greylist_parse_allow_net(struct greylist_params *p, const char *text);
int greylist_parse_allow_domain(struct greylist_params *p, const char *text);

/* greylist_check - one recipient: the atomic step and its verdict; never
 * fails (a store failure is GREYLIST_ERROR in out) */
void greylist_check(const struct greylist_params *p, struct glstore *s,
    const struct greylist_attempt *a, struct greylist_result *out);

/* greylist_refuses - enforce mode (the one the result applied) and a new
 * or early verdict */
bool greylist_refuses(const struct greylist_params *p,
    const struct greylist_result *r);

/* keys and entries, for the administration tool and the tests */
int greylist_network(const char *ip, unsigned prefix4, unsigned prefix6,
    char *out, size_t outsz, int *family);
void greylist_norm_sender(const char *in, char *out, size_t outsz);
void greylist_norm_rcpt(const char *in, char *out, size_t outsz);

/* a triplet entry as stored */
struct greylist_entry {
	int64_t first;			/* first attempt of this round */
	int64_t last;			/* latest attempt */
	unsigned attempts;		/* in this round, 1 for the first */
	int64_t passed;			/* when it passed, 0 not yet */
	unsigned deliveries;		/* attempts since it passed */
};
int greylist_entry_decode(const char *val, size_t len,
    struct greylist_entry *e);

/* the three keys of one attempt (greylist_keys): parts longer than
 * GREYLIST_PART_MAX become "sha256:HEX"; '|', '%', spaces, controls and
 * bytes over 0x7e are written %XX, so keys are printable and split on '|' */
#define GREYLIST_PART_MAX	200
struct greylist_keys {
	char triplet[GLSTORE_KEY_MAX];	/* t|NET|SENDER|RCPT */
	char chain[GLSTORE_KEY_MAX];	/* c|SENDER|RCPT */
	char client[GLSTORE_KEY_MAX];	/* a|NET */
	char net[GREYLIST_NET_MAX];
	int family;
};
/* greylist_keys - the keys for a client address, sender and recipient;
 * SCOPE_EINVAL for an unusable address */
int greylist_keys(const struct greylist_params *p, const char *client_ip,
    const char *sender, const char *rcpt, struct greylist_keys *k);

/* a chain entry as stored: "1 FIRST LAST TOTAL PASSES[ NET,F,T[;...]]"
 * (F is 4 or 6), the latest GREYLIST_CHAIN_MAX attempts, oldest first */
struct greylist_chain {
	int64_t first;			/* first attempt of this round */
	int64_t last;			/* latest attempt */
	unsigned total;			/* attempts in this round */
	unsigned passes;		/* passes from another network */
	struct greylist_hop hop[GREYLIST_CHAIN_MAX];
	unsigned nhop;
};
/* a client network entry as stored: "1 PASSES LAST" */
struct greylist_client {
	unsigned passes;		/* passed deliveries */
	int64_t last;			/* latest one */
};
/* decoders: 0 or SCOPE_EINVAL (hostile input safe: values may come
 * from a shared store); encoders: the length written (NUL-terminated),
 * or SCOPE_ETOOBIG; a triplet is "1 FIRST LAST ATTEMPTS PASSED DELIVERIES" */
int greylist_chain_decode(const char *val, size_t len,
    struct greylist_chain *c);
int greylist_client_decode(const char *val, size_t len,
    struct greylist_client *c);
int greylist_entry_encode(const struct greylist_entry *e, char *out,
    size_t outsz);
int greylist_chain_encode(const struct greylist_chain *c, char *out,
    size_t outsz);
int greylist_client_encode(const struct greylist_client *c, char *out,
    size_t outsz);

/* greylist_expire - delete triplets, chains and client entries whose
 * latest attempt is older than p->lifetime_s, unconfirmed ones (a
 * triplet never retried after the delay, a chain that never passed from
 * another network) once the retry window p->window_s is over, and
 * undecodable ones: the periodic expiry of stores without TTLs (LMDB);
 * removed gets the count */
int greylist_expire(const struct greylist_params *p, struct glstore *s,
    int64_t now, unsigned long *removed);

/* what the store holds (greylist_stats) */
struct greylist_stats {
	unsigned long triplets;		/* t| entries */
	unsigned long passed;		/* of them, passed */
	unsigned long chains;		/* c| entries */
	unsigned long chain_passes;	/* passes from another network */
	unsigned long clients;		/* a| entries */
	unsigned long auto_allowed;	/* of them, at p->auto_allow */
	unsigned long invalid;		/* undecodable entries */
	double pass_rate;		/* passed / triplets, 0 if none */
	unsigned long ndelays;		/* triplets that passed by retrying */
	int64_t delay_median;		/* passed - first, seconds; -1 none */
	int64_t delay_p90;
};
/* greylist_stats - visit the store once; 0 or the store's error */
int greylist_stats(const struct greylist_params *p, struct glstore *s,
    struct greylist_stats *st);

const char *greylist_verdict_name(enum greylist_verdict v);
const char *greylist_mode_name(enum greylist_mode m);

#endif
