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

void daemon_log_open(const char *ident, bool use_syslog, int facility,
    bool use_stderr);
/* daemon_log_open_stderr - keep or stop copying messages to stderr */
void daemon_log_open_stderr(bool use_stderr);
void daemon_log(int priority, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* daemon_log_fault - rate-limited warning for faults of our own */
void daemon_log_fault(void *arg, int code, const char *what);
/* daemon_log_dns - the DNS layer's hook: a name server went down or
 * answers again (one line per change) */
struct dns_event;
void daemon_log_dns(void *arg, const struct dns_event *ev);
/* daemon_log_stats - one line with every counter */
void daemon_log_stats(const char *when);
/* daemon_log_facility - LOG_MAIL etc. from its configuration name */
int daemon_log_facility(const char *name);

#endif
