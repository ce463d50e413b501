/*
 * greylist_daemon.c - greylisting set-up, expiry and shut-down in the
 * daemon. Owns the store handle (greylist_daemon_close).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sysexits.h>

#include "clock.h"
#include "daemon_log.h"
#include "errors.h"
#include "greylist/glstore.h"
#include "greylist/greylist_config.h"
#include "greylist_daemon.h"

/* greylist_daemon_config - the parameters, or exit 78 naming the key */
void
greylist_daemon_config(struct greylist_daemon *gd, const struct config *cfg)
{
	char err[256];
	int key;

	memset(gd, 0, sizeof(*gd));
	if (greylist_config(cfg, &gd->p, &key, err, sizeof(err)) != SCOPE_OK) {
		fprintf(stderr, "smtpscope: %s:%u: %s: %s\n", cfg->file,
		    cfg->line[key], config_table[key].name, err);
		exit(EX_CONFIG);
	}
	gd->interval_us = cfg->greylist_expire_interval * 1000000;
}

/* greylist_daemon_full - the store's notify hook: one line when it
 * fills (and an expiry at the next tick), one when it has room again */
static void
greylist_daemon_full(void *arg, bool full, unsigned long failed,
    const char *reason)
{
	struct greylist_daemon *gd = arg;

	if (full) {
		atomic_store(&gd->expire_soon, true);
		daemon_log(LOG_ERR, "greylist store full: %s; greylisting "
		    "fails open (new triplets are not stored and pass, verdict "
		    "error, counter greylist_store_full) until expiry frees "
		    "room", reason);
	} else {
		daemon_log(LOG_NOTICE, "greylist store has room again: %lu "
		    "recipients passed unchecked while it was full", failed);
	}
}

/* greylist_daemon_opts - the store's options from the configuration */
void
greylist_daemon_opts(const struct config *cfg, struct glstore_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->timeout_ms = cfg->greylist_timeout;
	o->map_max = (size_t)cfg->greylist_max_size << 20;
}

/* greylist_daemon_error - "FILE:LINE: GreylistStore: SPEC: why"; -1 */
int
greylist_daemon_error(const struct config *cfg, const char *why, char *err,
    size_t errsz)
{
	snprintf(err, errsz, "%s:%u: GreylistStore: %s: %s", cfg->file,
	    cfg->line[CONFIG_KEY_GREYLIST_STORE], cfg->greylist_store, why);
	return -1;
}

/* greylist_daemon_open - the store, when greylisting is on */
int
greylist_daemon_open(struct greylist_daemon *gd, const struct config *cfg,
    char *err, size_t errsz)
{
	struct glstore_opts o;
	char why[256];

	if (gd->p.mode == GREYLIST_OFF)
		return 0;
	greylist_daemon_opts(cfg, &o);
	if (glstore_open_opts(&gd->store, cfg->greylist_store, &o, why,
	    sizeof(why)) != SCOPE_OK)
		return greylist_daemon_error(cfg, why, err, errsz);
	glstore_set_notify(gd->store, greylist_daemon_full, gd);
	gd->next_expire = clock_mono() + gd->interval_us;
	daemon_log(LOG_INFO, "greylisting (%s) with %s store %s",
	    greylist_mode_name(gd->p.mode), glstore_kind(gd->store),
	    cfg->greylist_store);
	return 0;
}

/* greylist_daemon_tick - LMDB has no TTLs: remove entries unused for
 * GreylistLifetime (unconfirmed ones after GreylistRetryWindow), in small
 * batches (glstore_visit) while mail flows; at once when the store
 * filled */
void
greylist_daemon_tick(struct greylist_daemon *gd)
{
	unsigned long removed = 0;
	bool soon = atomic_exchange(&gd->expire_soon, false);

	if (gd->store == NULL || strcmp(glstore_kind(gd->store), "lmdb") != 0 ||
	    (clock_mono() < gd->next_expire && !soon))
		return;
	gd->next_expire = clock_mono() + gd->interval_us;
	if (greylist_expire(&gd->p, gd->store, clock_wall() / 1000000,
	    &removed) != SCOPE_OK)
		daemon_log(LOG_WARNING, "greylist expiry failed: %s",
		    glstore_error());
	else if (removed > 0)
		daemon_log(LOG_INFO, "greylist expiry removed %lu entries",
		    removed);
}

/* greylist_daemon_close - close the store */
void
greylist_daemon_close(struct greylist_daemon *gd)
{
	glstore_close(gd->store);
	gd->store = NULL;
}
