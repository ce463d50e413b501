/*
 * privs.c - user lookup and privilege drop.
 *
 * The daemon opens its socket, record log and pid file as root, then
 * calls privs_drop() before it accepts a single connection.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon_log.h"
#include "privs.h"

/* privs_resolve - user (and optional group) names to ids */
int
privs_resolve(const char *spec, struct privs *out, char *err, size_t errsz)
{
	char user[64];
	const char *colon = strchr(spec, ':');
	size_t ulen = colon != NULL ? (size_t)(colon - spec) : strlen(spec);
	struct passwd *pw;
	struct group *gr;

	if (ulen == 0 || ulen >= sizeof(user)) {
		snprintf(err, errsz, "bad user name");
		return -1;
	}
	memcpy(user, spec, ulen);
	user[ulen] = '\0';
	pw = getpwnam(user);
	if (pw == NULL) {
		snprintf(err, errsz, "no such user '%s'", user);
		return -1;
	}
	out->uid = pw->pw_uid;
	out->gid = pw->pw_gid;
	snprintf(out->user, sizeof(out->user), "%s", user);
	if (colon == NULL)
		return 0;
	gr = getgrnam(colon + 1);
	if (gr == NULL) {
		snprintf(err, errsz, "no such group '%s'", colon + 1);
		return -1;
	}
	out->gid = gr->gr_gid;
	return 0;
}

/* privs_drop - become the configured user for good */
int
privs_drop(const struct privs *p, char *err, size_t errsz)
{
	if (initgroups(p->user, p->gid) != 0 || setgid(p->gid) != 0 ||
	    setuid(p->uid) != 0) {
		snprintf(err, errsz, "cannot become %s: %s", p->user,
		    daemon_log_errstr(errno));
		return -1;
	}
	if (p->uid != 0 && (setuid(0) == 0 || geteuid() == 0)) {
		snprintf(err, errsz, "could regain root after dropping it");
		return -1;
	}
	return 0;
}
