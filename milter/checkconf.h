/*
 * checkconf.h - smtpscope -n: check what a start needs, report every
 * problem, and (-v) print the effective configuration.
 *
 * checkconf_run() loads the configuration going on past each error
 * (snapshot_check), resolves the daemon's identity, and checks, creating
 * nothing and touching nothing a running instance holds, what start
 * opens as root (the milter socket's folder, the record log, the pid
 * file) as the user running -n, and what the daemon opens after it
 * dropped to UserID (the greylist store) as UserID: run as root, that
 * check runs in a child that drops to UserID (privs_drop) while this
 * process keeps its identity. What a reload, a log reopen or the stop
 * will need as UserID is a warning.
 *
 * The identity and MetricsListen checks are shared with the start, so
 * that both print the same text for the same problem.
 */
#ifndef SMTPSCOPE_CHECKCONF_H
#define SMTPSCOPE_CHECKCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config.h"
#include "privs.h"

/* who the daemon runs as */
struct checkconf_ids {
	struct privs privs;		/* UserID resolved */
	bool have_privs;		/* UserID is set and resolved */
	gid_t socket_gid;		/* SocketGroup, else the UserID group */
};

/*
 * checkconf_identity - resolve UserID and SocketGroup, and refuse root
 * without UserID; each error ("FILE:LINE: Key: text") goes to errs.
 */
void checkconf_identity(const struct config *cfg, struct checkconf_ids *ids,
    struct config_errs *errs);

/* checkconf_metrics - MetricsListen must be an address and port; 0, or
 * -1 with "FILE:LINE: MetricsListen: text" in err */
int checkconf_metrics(const struct config *cfg, char *err, size_t errsz);

/*
 * checkconf_run - smtpscope -n [-v]: check FILE (Socket overridden when
 * socket is not NULL); errors and warnings to stderr, the verdict (and
 * with verbose first the effective configuration) to stdout. Returns the
 * exit status: the sysexits code a start would exit with for the first
 * problem in the order start meets them, EX_OK when there is none.
 */
int checkconf_run(const char *file, const char *socket, bool verbose);

#endif
