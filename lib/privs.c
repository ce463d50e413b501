/*
 * privs.c - user lookup and privilege drop.
 *
 * The daemon opens its socket, record log and pid file as root, then
 * calls privs_drop() before it accepts a single connection;
 * smtpscope-greylist drops to the same user before it opens the store, so
 * that state it creates belongs to the daemon. Errors are returned with a
 * message; nothing here logs or exits.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "privs.h"

/* privs_resolve - user (and optional group) names to ids */
int
privs_resolve(const char *spec, struct privs *out, char *err, size_t errsz)
{
	char user[64];
	const char *colon = strchr(spec, ':');
	size_t ulen = colon != NULL ? (size_t)(colon - spec) : strlen(spec);
	struct passwd *pw;

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
	return privs_group(colon + 1, &out->gid, err, errsz);
}

/* privs_group - a group name to its id */
int
privs_group(const char *name, gid_t *out, char *err, size_t errsz)
{
	struct group *gr = getgrnam(name);

	if (gr == NULL) {
		snprintf(err, errsz, "no such group '%s'", name);
		return -1;
	}
	*out = gr->gr_gid;
	return 0;
}

/* privs_drop - become the configured user for good */
int
privs_drop(const struct privs *p, char *err, size_t errsz)
{
	if (initgroups(p->user, p->gid) != 0 || setgid(p->gid) != 0 ||
	    setuid(p->uid) != 0) {
		snprintf(err, errsz, "cannot become %s: %s", p->user,
		    strerror(errno));
		return -1;
	}
	if (p->uid != 0 && (setuid(0) == 0 || geteuid() == 0)) {
		snprintf(err, errsz, "could regain root after dropping it");
		return -1;
	}
	return 0;
}
