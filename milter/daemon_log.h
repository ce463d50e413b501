/*
 * daemon_log.h - operational messages: syslog, and stderr in the foreground.
 *
 * Messages about the daemon go here, never into the record log. Faults
 * that can repeat per message (record log unwritable, out of memory) go
 * through daemon_log_fault(), which lets one line a minute through and
 * says how many it held back.
 */
#ifndef SMTPSCOPE_DAEMON_LOG_H
#define SMTPSCOPE_DAEMON_LOG_H

#include <stdbool.h>
#include <stdint.h>

void daemon_log_open(const char *ident, bool use_syslog, int facility,
    bool use_stderr);
/* daemon_log_open_stderr - keep or stop copying messages to stderr */
void daemon_log_open_stderr(bool use_stderr);
void daemon_log(int priority, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* daemon_log_fault - rate-limited warning for faults of our own; the
 * env's fault hook (sys_errno: the errno behind it, 0: none) */
void daemon_log_fault(void *arg, int code, int sys_errno, const char *what);
/* daemon_log_errstr - errno (> 0) or core code (< 0) as text; the only
 * way the daemon turns an error number into text, so that an errno of 0
 * (a failure that set none) never reads "Success" */
const char *daemon_log_errstr(int err);
/* daemon_log_notice - rate-limited warning for records cut to fit */
void daemon_log_notice(void *arg, int code, const char *what);
/* daemon_log_recordlog - the record log's notify callback (recordlog.h):
 * one line when records start being lost, one when they are written again */
void daemon_log_recordlog(void *arg, int err, uint64_t lost);
/* daemon_log_dns - the DNS layer's hook: a name server went down or
 * answers again (one line per change) */
struct dns_event;
void daemon_log_dns(void *arg, const struct dns_event *ev);
/* daemon_log_stats - one line with every counter */
void daemon_log_stats(const char *when);
/* daemon_log_facility - LOG_MAIL etc. from its configuration name */
int daemon_log_facility(const char *name);

#endif
