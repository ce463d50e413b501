/*
 * snapshot.h - one loaded configuration and everything built from it,
 * shared by the sessions that started under it (reference counted).
 *
 * snapshot_load() reads the configuration file and builds what sessions
 * use: the checks (DNS layer, DKIM, DMARC with its public suffix list),
 * the tag rules, the pseudonymization key, the greylisting parameters and
 * the authserv-id. It validates everything before it returns, so a reload
 * either gets a whole new snapshot or an error naming file, line and key,
 * and the running one stays.
 *
 * snapshot_install() makes a snapshot the current one; each new SMTP
 * session takes a reference (snapshot_acquire) and keeps its snapshot to
 * the end (snapshot_release), so sessions in flight finish with the
 * configuration they started with. The last release frees a snapshot.
 * All of these are thread safe (one mutex around the reference counts and
 * the current pointer; building happens outside it).
 */
#ifndef SMTPSCOPE_SNAPSHOT_H
#define SMTPSCOPE_SNAPSHOT_H

#include <stddef.h>

#include "auth/auth.h"
#include "config.h"
#include "greylist/greylist.h"
#include "record/pseudo.h"
#include "session.h"
#include "tags.h"

struct snapshot {
	unsigned refs;			/* under the snapshot lock */
	unsigned long generation;	/* 1 at start, +1 per reload */
	struct config cfg;
	struct auth_env auth;
	struct tags *tags;		/* NULL: no TagRules */
	struct pseudo *pseudo;
	struct greylist_params glp;
	char servid[256];		/* AuthservID or the host name */
	struct session_env env;		/* what sessions see */
};

/*
 * snapshot_load - read FILE (with Socket overridden when socket is not
 * NULL) and build a snapshot with one reference (the caller's); 0, or -1
 * with "FILE:LINE: Key: reason" in err. The shared parts (record log,
 * fault hook, greylist store) come later, from snapshot_bind().
 */
int snapshot_load(struct snapshot **out, const char *file, const char *socket,
    char *err, size_t errsz);

/*
 * snapshot_check - for smtpscope -n: the same, but every error goes to
 * errs and building goes on past it (a part whose key's line was bad is
 * skipped); the snapshot (with one reference) holds what could be built.
 * NULL: out of memory. cfg.file is NULL when the file cannot be read.
 */
struct snapshot *snapshot_check(const char *file, const char *socket,
    struct config_errs *errs);

/*
 * snapshot_bind - take the process-wide parts from shared: the record log,
 * the fault hook and the greylist store (greylisting is on for the
 * snapshot's sessions when its Greylist mode is not off and a store is
 * open).
 */
void snapshot_bind(struct snapshot *s, const struct session_env *shared);

/* snapshot_install - s (its reference passes to us) becomes current; the
 * previous one is released. NULL: none is current (shutdown). */
void snapshot_install(struct snapshot *s);

/* snapshot_acquire - a reference to the current snapshot, NULL if none */
struct snapshot *snapshot_acquire(void);

/* snapshot_release - drop a reference; the last one frees the snapshot */
void snapshot_release(struct snapshot *s);

#endif
