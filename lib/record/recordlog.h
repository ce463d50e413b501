/*
 * recordlog.h - the append-only record log (JSON Lines).
 *
 * Each record is serialised into one buffer ending in '\n' and written
 * with a single write(2) on an O_APPEND descriptor under the log's lock,
 * so concurrent records never interleave. A record that lands only in
 * part (disk full) is cut off the file again, so a reader never sees half
 * a line; only when the file cannot be cut (a pipe) does one broken line
 * stay, and the next record starts on a line of its own. Only this
 * process may append to the file.
 *
 * recordlog_reopen() (SIGHUP/SIGUSR1, for logrotate) opens the path anew
 * and swaps descriptors under the lock: every record goes whole to either
 * the old or the new file, none is lost or written twice.
 * Symbolic links and non-regular files are refused.
 */
#ifndef SMTPSCOPE_RECORDLOG_H
#define SMTPSCOPE_RECORDLOG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#define RECORDLOG_RECORD_MAX	(256 * 1024)	/* largest record, bytes,
						 * its newline included */
/* how recordlog_write_json serialises (record_fit measures the same) */
#define RECORDLOG_JSON_FLAGS	(JSON_COMPACT | JSON_REAL_PRECISION(12))

struct recordlog;

/* an episode of lost records: called with the log's lock held (it must
 * not write records) when one starts (err: its errno, lost 0) and when it
 * ends with a record written (err 0, lost: records it lost) */
typedef void recordlog_notify_fn(void *arg, int err, uint64_t lost);

/* recordlog_open - open (creating with mode) the log at path */
int recordlog_open(struct recordlog **out, const char *path, mode_t mode);
/* recordlog_from_fd - write to an open descriptor (any kind, e.g. standard
 * output for smtpscope-eval); it is not closed, and reopen does nothing */
int recordlog_from_fd(struct recordlog **out, int fd);
/* recordlog_set_owner - chown files we create (and the current one) */
int recordlog_set_owner(struct recordlog *rl, uid_t uid, gid_t gid);
int recordlog_reopen(struct recordlog *rl);
/* recordlog_set_notify - report episodes of lost records to fn */
void recordlog_set_notify(struct recordlog *rl, recordlog_notify_fn *fn,
    void *arg);
/* recordlog_write - one whole line (must end in '\n'); SCOPE_EIO when it
 * could not be written whole (nothing of it stays in a
 * regular file) */
int recordlog_write(struct recordlog *rl, const char *line, size_t len);
int recordlog_write_json(struct recordlog *rl, const json_t *rec);
void recordlog_close(struct recordlog *rl);
/* recordlog_errno - errno of the last failed write or open */
int recordlog_errno(const struct recordlog *rl);

#endif
