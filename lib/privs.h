/*
 * privs.h - resolve UserID and give up root.
 */
#ifndef SMTPSCOPE_PRIVS_H
#define SMTPSCOPE_PRIVS_H

#include <stddef.h>
#include <sys/types.h>

struct privs {
	uid_t uid;
	gid_t gid;
	char user[64];
};

/* privs_resolve - look up "user[:group]"; 0, or -1 with a message in err */
int privs_resolve(const char *spec, struct privs *out, char *err, size_t errsz);
/* privs_group - look up a group name; 0, or -1 with a message in err */
int privs_group(const char *name, gid_t *out, char *err, size_t errsz);
/* privs_drop - setgroups, setgid, setuid, and check root cannot return */
int privs_drop(const struct privs *p, char *err, size_t errsz);

#endif
