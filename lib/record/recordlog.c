/*
 * recordlog.c - O_APPEND record log with lock-protected reopen.
 *
 * Owns its descriptor and path copy. Writers hold the read side of a
 * rwlock during their one write(2); reopen holds the write side only for
 * the descriptor swap. A short write (disk full) is counted as a lost
 * record; a newline is then attempted so that the next record starts on
 * a line of its own and readers can skip the broken line.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errors.h"
#include "record/recordlog.h"

struct recordlog {
	pthread_rwlock_t lock;
	int fd;
	char *path;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	int chown;		/* set_owner was called */
	int borrowed;		/* fd given by the caller: never reopened or closed */
	int last_errno;
};

/* recordlog_open_fd - open the path for appending, refusing links */
static int
recordlog_open_fd(struct recordlog *rl, int *fd_out)
{
	struct stat st;
	int fd;

	fd = open(rl->path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC | O_NOCTTY, rl->mode);
	if (fd < 0) {
		rl->last_errno = errno;
		return SCOPE_EIO;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rl->last_errno = S_ISREG(st.st_mode) ? errno : EINVAL;
		close(fd);
		return SCOPE_EIO;
	}
	if (rl->chown && (st.st_uid != rl->uid || st.st_gid != rl->gid) &&
	    fchown(fd, rl->uid, rl->gid) != 0 && geteuid() == 0) {
		rl->last_errno = errno;
		close(fd);
		return SCOPE_EIO;
	}
	*fd_out = fd;
	return SCOPE_OK;
}

/* recordlog_open - a log handle with the file open */
int
recordlog_open(struct recordlog **out, const char *path, mode_t mode)
{
	struct recordlog *rl = calloc(1, sizeof(*rl));
	int rc;

	*out = NULL;
	if (rl == NULL)
		return SCOPE_ENOMEM;
	rl->path = strdup(path);
	rl->mode = mode;
	if (rl->path == NULL) {
		free(rl);
		return SCOPE_ENOMEM;
	}
	rc = recordlog_open_fd(rl, &rl->fd);
	if (rc != SCOPE_OK) {
		errno = rl->last_errno;
		free(rl->path);
		free(rl);
		return rc;
	}
	pthread_rwlock_init(&rl->lock, NULL);
	*out = rl;
	return SCOPE_OK;
}

/* recordlog_from_fd - a log on a descriptor the caller owns */
int
recordlog_from_fd(struct recordlog **out, int fd)
{
	struct recordlog *rl = calloc(1, sizeof(*rl));

	*out = NULL;
	if (rl == NULL)
		return SCOPE_ENOMEM;
	rl->fd = fd;
	rl->borrowed = 1;
	pthread_rwlock_init(&rl->lock, NULL);
	*out = rl;
	return SCOPE_OK;
}

/* recordlog_set_owner - owner for files we create; applied now too */
int
recordlog_set_owner(struct recordlog *rl, uid_t uid, gid_t gid)
{
	rl->uid = uid;
	rl->gid = gid;
	rl->chown = 1;
	if (fchown(rl->fd, uid, gid) != 0) {
		rl->last_errno = errno;
		return SCOPE_EIO;
	}
	return SCOPE_OK;
}

/* recordlog_reopen - open the path again and swap descriptors */
int
recordlog_reopen(struct recordlog *rl)
{
	int fd, old, rc;

	if (rl->borrowed)
		return SCOPE_OK;
	rc = recordlog_open_fd(rl, &fd);
	if (rc != SCOPE_OK)
		return rc;	/* keep writing to the old file */
	pthread_rwlock_wrlock(&rl->lock);
	old = rl->fd;
	rl->fd = fd;
	pthread_rwlock_unlock(&rl->lock);
	close(old);
	return SCOPE_OK;
}

/* recordlog_write - one write(2) of a whole line */
int
recordlog_write(struct recordlog *rl, const char *line, size_t len)
{
	ssize_t n;
	int saved;

	if (len == 0 || line[len - 1] != '\n')
		return SCOPE_EINVAL;
	pthread_rwlock_rdlock(&rl->lock);
	do {
		n = write(rl->fd, line, len);
	} while (n < 0 && errno == EINTR);
	saved = errno;
	if (n > 0 && (size_t)n < len) {
		/* the file system ran out of room mid-record: end the line */
		(void)!write(rl->fd, "\n", 1);
		saved = ENOSPC;
	}
	pthread_rwlock_unlock(&rl->lock);
	if (n < 0 || (size_t)n != len) {
		rl->last_errno = saved;
		return SCOPE_EIO;
	}
	return SCOPE_OK;
}

/* recordlog_write_json - serialise compactly and append with a newline */
int
recordlog_write_json(struct recordlog *rl, const json_t *rec)
{
	size_t cap = 4096, need;
	char *buf = NULL, *grown;
	int rc;

	for (;;) {
		grown = realloc(buf, cap);
		if (grown == NULL) {
			free(buf);
			return SCOPE_ENOMEM;
		}
		buf = grown;
		need = json_dumpb(rec, buf, cap - 1, JSON_COMPACT |
		    JSON_REAL_PRECISION(12));
		if (need == 0) {
			free(buf);
			return SCOPE_ENOMEM;
		}
		if (need <= cap - 1)
			break;
		if (need + 1 > RECORDLOG_RECORD_MAX) {
			free(buf);
			return SCOPE_ETOOBIG;
		}
		cap = need + 1;
	}
	buf[need] = '\n';
	rc = recordlog_write(rl, buf, need + 1);
	free(buf);
	return rc;
}

/* recordlog_close - close and free */
void
recordlog_close(struct recordlog *rl)
{
	if (rl == NULL)
		return;
	if (!rl->borrowed)
		close(rl->fd);
	pthread_rwlock_destroy(&rl->lock);
	free(rl->path);
	free(rl);
}

/* recordlog_errno - errno behind the last failure */
int
recordlog_errno(const struct recordlog *rl)
{
	return rl->last_errno;
}
