/*
 * instance.c - one smtpscope per socket and pid file (see instance.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "instance.h"

static dev_t instance_dev;
static ino_t instance_ino;
static bool instance_known;

/* instance_socket_answers - does a UNIX socket at path accept a connect? */
static bool
instance_socket_answers(const char *path)
{
	struct sockaddr_un sun;
	struct stat sb;
	bool answers;
	int fd;

	if (lstat(path, &sb) != 0 || !S_ISSOCK(sb.st_mode) ||
	    strlen(path) >= sizeof(sun.sun_path))
		return false;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return false;
	answers = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	close(fd);
	return answers;
}

/* instance_pid_holder - the pid holding a write lock on path, or 0 */
static pid_t
instance_pid_holder(const char *path)
{
	struct flock fl;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return 0;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_GETLK, &fl) != 0 || fl.l_type == F_UNLCK)
		fl.l_pid = 0;
	close(fd);
	return fl.l_pid;
}

/* instance_check - is another instance running on our socket or pid file? */
int
instance_check(const char *socket_path, const char *pid_file, char *err,
    size_t errsz)
{
	pid_t pid;

	if (pid_file != NULL && (pid = instance_pid_holder(pid_file)) > 0) {
		snprintf(err, errsz, "another smtpscope (pid %ld) holds the pid "
		    "file %s; not starting", (long)pid, pid_file);
		return -1;
	}
	if (socket_path != NULL && instance_socket_answers(socket_path)) {
		snprintf(err, errsz, "socket %s answers: another milter "
		    "listens there; not starting", socket_path);
		return -1;
	}
	return 0;
}

/* instance_lock - take the pid file's write lock for our lifetime */
int
instance_lock(int fd)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	return fcntl(fd, F_SETLK, &fl);
}

/* instance_remember_socket - note which socket is ours */
void
instance_remember_socket(const char *path)
{
	struct stat sb;

	if (lstat(path, &sb) == 0) {
		instance_dev = sb.st_dev;
		instance_ino = sb.st_ino;
		instance_known = true;
	}
}

/* instance_owns_socket - path is still the socket we made */
bool
instance_owns_socket(const char *path)
{
	struct stat sb;

	return instance_known && lstat(path, &sb) == 0 &&
	    sb.st_dev == instance_dev && sb.st_ino == instance_ino;
}
