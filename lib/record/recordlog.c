/*
 * recordlog.c - O_APPEND record log with lock-protected reopen.
 *
 * Owns its descriptor and path copy. Writers hold one mutex for their
 * write and its repair, and reopen holds it for the descriptor swap, so
 * within the process records never interleave.
 *
 * A short write (disk full, file size limit) never leaves a torn line:
 * the rest is retried once, and if that fails too the file is cut back
 * with ftruncate(2) to where the record started (the offset after the
 * write, from lseek(2), less the bytes written). When the file cannot be
 * cut (a pipe, a failing ftruncate), the next record is preceded by a
 * newline, so only that one broken line is invalid, and its record is
 * counted lost like every other that failed. Other processes appending
 * to the same file are not supported: one of their lines written between
 * our write and our repair would be cut too.
 *
 * An episode of failures (first lost record to the next record written)
 * is reported to the notify callback twice: when it starts and when it
 * ends, with the number of records it lost.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errors.h"
#include "record/record_json.h"
#include "record/recordlog.h"

struct recordlog {
	pthread_mutex_t lock;	/* write, repair, swap, episode state */
	int fd;
	char *path;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	int chown;		/* set_owner was called */
	int borrowed;		/* fd given by the caller: never reopened or closed */
	int last_errno;
	int need_newline;	/* a broken line could not be cut */
	uint64_t episode_lost;	/* lost since the last record written */
	recordlog_notify_fn *notify;
	void *notify_arg;
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
	pthread_mutex_init(&rl->lock, NULL);
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
	pthread_mutex_init(&rl->lock, NULL);
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
	pthread_mutex_lock(&rl->lock);
	old = rl->fd;
	rl->fd = fd;
	rl->need_newline = 0;	/* a new file starts clean */
	pthread_mutex_unlock(&rl->lock);
	close(old);
	return SCOPE_OK;
}

/* recordlog_write_all - write len bytes, retrying a short write once;
 * *done: bytes written; 0 or the errno of the failure */
static int
recordlog_write_all(int fd, const char *buf, size_t len, size_t *done)
{
	ssize_t n;
	int tries = 0;

	*done = 0;
	while (*done < len) {
		n = write(fd, buf + *done, len - *done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		if (n == 0)
			return ENOSPC;	/* no progress: treat as full */
		*done += (size_t)n;
		if (*done < len && ++tries > 1)
			return ENOSPC;	/* still short after a retry */
	}
	return 0;
}

/* recordlog_repair - a record was written in part: cut the file back to
 * where it started, or have the next record start on a new line */
static void
recordlog_repair(struct recordlog *rl, size_t written)
{
	off_t end;

	end = lseek(rl->fd, 0, SEEK_CUR);
	if (end < 0 || (uintmax_t)end < written ||
	    ftruncate(rl->fd, end - (off_t)written) != 0)
		rl->need_newline = 1;
}

/* recordlog_account - episode bookkeeping after one record (lock held) */
static void
recordlog_account(struct recordlog *rl, int err)
{
	if (err == 0) {
		if (rl->episode_lost > 0 && rl->notify != NULL)
			rl->notify(rl->notify_arg, 0, rl->episode_lost);
		rl->episode_lost = 0;
		return;
	}
	rl->last_errno = err;
	if (rl->episode_lost++ == 0 && rl->notify != NULL)
		rl->notify(rl->notify_arg, err, 0);
}

/* recordlog_write - one whole line, repaired if only part of it landed */
int
recordlog_write(struct recordlog *rl, const char *line, size_t len)
{
	size_t done = 0;
	int err = 0;

	if (len == 0 || line[len - 1] != '\n')
		return SCOPE_EINVAL;
	pthread_mutex_lock(&rl->lock);
	if (rl->need_newline) {
		err = recordlog_write_all(rl->fd, "\n", 1, &done);
		if (err == 0)
			rl->need_newline = 0;
	}
	if (err == 0) {
		err = recordlog_write_all(rl->fd, line, len, &done);
		if (err != 0 && done > 0)
			recordlog_repair(rl, done);
	}
	recordlog_account(rl, err);
	pthread_mutex_unlock(&rl->lock);
	return err == 0 ? SCOPE_OK : SCOPE_EIO;
}

/* recordlog_write_json - serialise compactly (record_json.c) and append
 * with a newline; SCOPE_ETOOBIG past RECORDLOG_RECORD_MAX */
int
recordlog_write_json(struct recordlog *rl, const json_t *rec)
{
	char *buf;
	size_t len;
	int rc;

	rc = record_json_dump(rec, RECORDLOG_RECORD_MAX - 1, 1, &buf, &len);
	if (rc != SCOPE_OK)
		return rc == SCOPE_EINVAL ? SCOPE_ENOMEM : rc;
	buf[len] = '\n';
	rc = recordlog_write(rl, buf, len + 1);
	free(buf);
	return rc;
}

/* recordlog_set_notify - who hears of episodes of lost records */
void
recordlog_set_notify(struct recordlog *rl, recordlog_notify_fn *fn, void *arg)
{
	pthread_mutex_lock(&rl->lock);
	rl->notify = fn;
	rl->notify_arg = arg;
	pthread_mutex_unlock(&rl->lock);
}

/* recordlog_close - close and free */
void
recordlog_close(struct recordlog *rl)
{
	if (rl == NULL)
		return;
	if (!rl->borrowed)
		close(rl->fd);
	pthread_mutex_destroy(&rl->lock);
	free(rl->path);
	free(rl);
}

/* recordlog_errno - errno behind the last failure */
int
recordlog_errno(const struct recordlog *rl)
{
	return rl->last_errno;
}
