/*
 * stats.c - atomic process-wide counters.
 */
#include "stats.h"

static uint64_t stats_values[STATS_NCOUNTERS];

static const char *const stats_names[STATS_NCOUNTERS] = {
	"sessions", "messages", "records_written", "records_lost",
	"records_cut",
	"internal_errors", "tempfails", "truncations", "reopens",
	"dns_malformed", "greylist_refused", "greylist_errors",
	"dns_skipped", "dns_resolver_down", "greylist_store_full",
	"sessions_refused", "reloads", "reload_failures",
	"dns_cache_hits", "dns_cache_misses", "dns_cache_evictions",
	"dkim_keys_parsed", "dkim_key_cache_hits"
};

/* stats_add - add n to a counter */
void
stats_add(enum stats_counter c, uint64_t n)
{
	__atomic_add_fetch(&stats_values[c], n, __ATOMIC_RELAXED);
}

/* stats_get - read a counter */
uint64_t
stats_get(enum stats_counter c)
{
	return __atomic_load_n(&stats_values[c], __ATOMIC_RELAXED);
}

/* stats_name - the counter's name in log lines */
const char *
stats_name(enum stats_counter c)
{
	return stats_names[c];
}

/* stats_reset - zero every counter (tests) */
void
stats_reset(void)
{
	int i;

	for (i = 0; i < STATS_NCOUNTERS; i++)
		__atomic_store_n(&stats_values[i], 0, __ATOMIC_RELAXED);
}
