/*
 * stats.h - process-wide counters of what smtpscope did and what failed.
 *
 * Counters are updated with atomic adds from any thread and read for the
 * periodic and final log lines. The daemon logs them; tests read them.
 */
#ifndef SMTPSCOPE_STATS_H
#define SMTPSCOPE_STATS_H

#include <stdint.h>

enum stats_counter {
	STATS_SESSIONS,		/* sessions opened */
	STATS_MESSAGES,		/* message records produced */
	STATS_RECORDS_WRITTEN,	/* records written whole */
	STATS_RECORDS_LOST,	/* records that could not be written */
	STATS_RECORDS_CUT,	/* records cut down to fit the size cap */
	STATS_INTERNAL_ERRORS,	/* faults of our own (memory, bugs) */
	STATS_TEMPFAILS,	/* messages we tempfailed because of OnError */
	STATS_TRUNCATIONS,	/* strings cut at their cap */
	STATS_REOPENS,		/* record log reopened */
	STATS_DNS_MALFORMED,	/* DNS answers that did not parse */
	STATS_GREYLIST_REFUSED,	/* recipients answered 451 by greylisting */
	STATS_GREYLIST_ERRORS,	/* greylist store failures (mail passed) */
	STATS_DNS_SKIPPED,	/* lookups not sent: resolver considered down */
	STATS_DNS_RESOLVER_DOWN,	/* name servers that went down */
	STATS_GREYLIST_STORE_FULL, /* greylist errors: the store was full */
	STATS_SESSIONS_REFUSED,	/* milter connections refused at the limit */
	STATS_RELOADS,		/* configurations reloaded (SIGHUP) */
	STATS_RELOAD_FAILURES,	/* reloads refused: the new one was bad */
	STATS_DNS_CACHE_HITS,	/* lookups answered from the DNS cache */
	STATS_DNS_CACHE_MISSES,	/* lookups the cache did not have */
	STATS_DNS_CACHE_EVICTIONS,	/* answers dropped to stay in DNSCacheSize */
	STATS_DKIM_KEYS_PARSED,	/* DKIM public keys decoded (key cache misses) */
	STATS_DKIM_KEY_CACHE_HITS,	/* DKIM public keys found already parsed */
	STATS_NCOUNTERS
};

void stats_add(enum stats_counter c, uint64_t n);
uint64_t stats_get(enum stats_counter c);
const char *stats_name(enum stats_counter c);
void stats_reset(void);

#endif
