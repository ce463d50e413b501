/*
 * daemon_log.c - syslog and stderr output of the daemon, rate-limited faults.
 *
 * Log lines are built with vsnprintf into a bounded buffer and control
 * characters are replaced, so hostile text cannot forge log lines.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "clock.h"
#include "daemon_log.h"
#include "dns/dns.h"
#include "errors.h"
#include "ratelimit.h"
#include "stats.h"

#define DAEMON_LOG_LINE_MAX	1024
#define DAEMON_LOG_FAULT_US	(60LL * 1000000)

static bool daemon_log_syslog;
static bool daemon_log_stderr = true;
static bool daemon_log_opened;	/* daemon_log_open() chose the outputs */
static struct ratelimit daemon_log_limit;
static struct ratelimit daemon_log_notice_limit;

/* daemon_log_facility - a facility name as in smtpscope.conf */
int
daemon_log_facility(const char *name)
{
	static const struct {
		const char *name;
		int value;
	} map[] = {
		{ "mail", LOG_MAIL }, { "daemon", LOG_DAEMON },
		{ "user", LOG_USER }, { "local0", LOG_LOCAL0 },
		{ "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 },
		{ "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 },
		{ "local5", LOG_LOCAL5 }, { "local6", LOG_LOCAL6 },
		{ "local7", LOG_LOCAL7 },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i].name, name) == 0)
			return map[i].value;
	return LOG_MAIL;
}

/* daemon_log_open - choose the outputs */
void
daemon_log_open(const char *ident, bool use_syslog, int facility,
    bool use_stderr)
{
	daemon_log_syslog = use_syslog;
	daemon_log_stderr = use_stderr;
	daemon_log_opened = true;
	ratelimit_init(&daemon_log_limit, DAEMON_LOG_FAULT_US);
	ratelimit_init(&daemon_log_notice_limit, DAEMON_LOG_FAULT_US);
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, facility);
}

/* daemon_log_open_stderr - daemon mode detaches from stderr once ready */
void
daemon_log_open_stderr(bool use_stderr)
{
	daemon_log_stderr = use_stderr;
}

/* daemon_log_early - before the configuration chose the outputs: an
 * error that stops the start reaches the mail log too (facility mail,
 * as Syslog's default), not only a terminal nobody may be reading */
static void
daemon_log_early(int priority, const char *line)
{
	static bool opened;

	if (!opened) {
		openlog("smtpscope", LOG_PID, LOG_MAIL);
		opened = true;
	}
	syslog(LOG_MAIL | priority, "%s", line);
}

/* daemon_log - one sanitised line to each output */
void
daemon_log(int priority, const char *fmt, ...)
{
	char line[DAEMON_LOG_LINE_MAX];
	va_list ap;
	char *p;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	for (p = line; *p != '\0'; p++)
		if (iscntrl((unsigned char)*p))
			*p = '?';
	if (daemon_log_syslog)
		syslog(priority, "%s", line);
	else if (!daemon_log_opened && priority <= LOG_ERR)
		daemon_log_early(priority, line);
	if (daemon_log_stderr)
		fprintf(stderr, "smtpscope: %s\n", line);
}

/* daemon_log_errstr - text for an errno (> 0) or a core error code
 * (< 0); never "Success": 0 means the cause is not known */
const char *
daemon_log_errstr(int err)
{
	if (err > 0)
		return strerror(err);
	if (err < 0)
		return errors_str(err);
	return "cause unknown";
}

/* daemon_log_fault - the env fault hook: at most one line a minute; the
 * errno only when the fault has one (sys_errno > 0) */
void
daemon_log_fault(void *arg, int code, int sys_errno, const char *what)
{
	uint64_t held = 0;

	(void)arg;
	if (!ratelimit_allow(&daemon_log_limit, clock_mono(), &held))
		return;
	daemon_log(LOG_WARNING, "internal fault: %s: %s%s%s; %llu similar "
	    "faults not logged; records lost so far: %llu", what,
	    errors_str(code), sys_errno > 0 ? ": " : "",
	    sys_errno > 0 ? strerror(sys_errno) : "",
	    (unsigned long long)held,
	    (unsigned long long)stats_get(STATS_RECORDS_LOST));
}

/* daemon_log_notice - the env notice hook (records cut to fit): at most
 * one line a minute */
void
daemon_log_notice(void *arg, int code, const char *what)
{
	uint64_t held = 0;

	(void)arg;
	(void)code;
	if (!ratelimit_allow(&daemon_log_notice_limit, clock_mono(), &held))
		return;
	daemon_log(LOG_WARNING, "%s; %llu similar not logged; records cut so "
	    "far: %llu", what, (unsigned long long)held,
	    (unsigned long long)stats_get(STATS_RECORDS_CUT));
}

/* daemon_log_recordlog - the record log's episodes of lost records: one
 * line when writes start failing, one when a record is written again */
void
daemon_log_recordlog(void *arg, int err, uint64_t lost)
{
	(void)arg;
	if (err != 0)
		daemon_log(LOG_ERR, "record log: cannot write records: %s; "
		    "records are lost until a write succeeds (counter "
		    "records_lost)", strerror(err));
	else
		daemon_log(LOG_NOTICE, "record log: writing records again; "
		    "%llu records lost meanwhile", (unsigned long long)lost);
}

/* daemon_log_dns - a name server's change of state (arg unused) */
void
daemon_log_dns(void *arg, const struct dns_event *ev)
{
	(void)arg;
	if (ev->down)
		daemon_log(LOG_WARNING, "resolver %s considered down after %u "
		    "timeouts", ev->server, ev->timeouts);
	else
		daemon_log(LOG_NOTICE, "resolver %s answers again after %.0f s",
		    ev->server, ev->down_s);
}

/* daemon_log_stats - every counter on one line */
void
daemon_log_stats(const char *when)
{
	char line[DAEMON_LOG_LINE_MAX];
	size_t used = 0;
	int i, n;

	line[0] = '\0';
	for (i = 0; i < STATS_NCOUNTERS && used < sizeof(line); i++) {
		n = snprintf(line + used, sizeof(line) - used, "%s%s=%llu",
		    i == 0 ? "" : " ", stats_name(i),
		    (unsigned long long)stats_get(i));
		if (n < 0)
			break;
		used += (size_t)n;
	}
	daemon_log(LOG_INFO, "stats (%s): %s", when, line);
}
