/*
 * dns_health.c - is a name server considered down? Shared by all threads.
 *
 * Each configured server counts its unanswered queries in a row (any
 * answer, even a failure rcode or a malformed one, resets the count).
 * At DNSDownAfter the server is considered down for DNSDownWindow: queries
 * for it are not sent, except the first one after the window, which
 * probes it. The probe's answer brings it back; its silence starts a new
 * window. The fields live in the resolver under one small mutex, held only
 * to read or update them (never during a query). The daemon's callback is
 * called after the mutex is released, once per change, and the counters
 * dns_resolver_down (changes to down) are kept here. Nothing is allocated;
 * nothing fails.
 */
#include "clock.h"
#include "dns/dns_internal.h"
#include "stats.h"

/* dns_resolver_outage - the settings and the daemon's callback */
void
dns_resolver_outage(struct dns_resolver *r, unsigned down_after,
    long window_ms, dns_event_fn *fn, void *arg)
{
	r->down_after = down_after;
	r->window_us = (int64_t)window_ms * 1000;
	r->notify = fn;
	r->notify_arg = arg;
}

/* dns_health_live - servers not considered down, at least 1 (a probe) */
unsigned
dns_health_live(struct dns_resolver *r)
{
	unsigned i, n = 0;

	pthread_mutex_lock(&r->lock);
	for (i = 0; i < r->nservers; i++)
		n += !r->servers[i].down;
	pthread_mutex_unlock(&r->lock);
	return n > 0 ? n : 1;
}

/* dns_health_admit - up: send; down: the first query after the window
 * probes (and moves the next probe a window later), the others skip */
enum dns_admit
dns_health_admit(struct dns_resolver *r, unsigned i)
{
	struct dns_server *s = &r->servers[i];
	int64_t now = clock_mono();
	enum dns_admit a = DNS_ADMIT_UP;

	pthread_mutex_lock(&r->lock);
	if (s->down && now < s->probe_at) {
		a = DNS_ADMIT_SKIP;
	} else if (s->down) {
		a = DNS_ADMIT_PROBE;
		s->probe_at = now + r->window_us;
	}
	pthread_mutex_unlock(&r->lock);
	return a;
}

/* dns_health_report - count an answer or a silence; tell the daemon when
 * the server's state changed */
void
dns_health_report(struct dns_resolver *r, unsigned i, bool answered)
{
	struct dns_server *s = &r->servers[i];
	struct dns_event ev = { s->name, false, 0, 0.0 };
	int64_t now = clock_mono();
	bool changed = false;

	pthread_mutex_lock(&r->lock);
	s->fails = answered ? 0 : s->fails + 1;
	if (answered && s->down) {
		s->down = false;
		changed = true;
		ev.down_s = (double)(now - s->down_since) / 1e6;
	} else if (!answered && s->down) {
		s->probe_at = now + r->window_us;	/* the probe failed */
	} else if (!answered && r->down_after > 0 &&
	    s->fails >= r->down_after) {
		s->down = changed = ev.down = true;
		s->down_since = now;
		s->probe_at = now + r->window_us;
		ev.timeouts = s->fails;
	}
	pthread_mutex_unlock(&r->lock);
	if (!changed)
		return;
	if (ev.down)
		stats_add(STATS_DNS_RESOLVER_DOWN, 1);
	if (r->notify != NULL)
		r->notify(r->notify_arg, &ev);
}
