/*
 * instance.h - one smtpscope per socket and pid file.
 *
 * instance_check() runs before the socket is opened (libmilter would
 * unlink a live socket): a UNIX socket that answers a connect, or a pid
 * file that another process holds locked, means another instance runs,
 * and this one must touch nothing. A socket that refuses (a dead
 * instance's) is left for libmilter to replace.
 * instance_lock() takes the pid file's write lock for the life of the
 * process (fcntl; the lock goes with the process, so a crash frees it).
 * instance_owns_socket() tells at exit whether the socket path is still
 * the socket this process made, so a stop never removes another's.
 */
#ifndef SMTPSCOPE_INSTANCE_H
#define SMTPSCOPE_INSTANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* instance_check - 0, or -1 with why another instance runs in err */
int instance_check(const char *socket_path, const char *pid_file, char *err,
    size_t errsz);
/* instance_lock - lock an open pid file; 0, or -1 (errno EAGAIN: held) */
int instance_lock(int fd);
/* instance_remember_socket - note the inode of the socket we made */
void instance_remember_socket(const char *path);
/* instance_owns_socket - is path still the socket we made? */
bool instance_owns_socket(const char *path);

#endif
