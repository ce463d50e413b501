/*
 * metrics.h - what the records say, summed up for monitoring.
 *
 * The session layer counts every record it writes with
 * metrics_observe_message() or metrics_observe_session(); the counters
 * are derived from the fields the record is written from, through the
 * same names, so a metric never says what the records do not (results per
 * check, TLS versions, IP families, greylisting verdicts, DNS lookups by
 * status and a latency histogram). Label values come from fixed lists;
 * anything else counts as "other", so a hostile value can never create a
 * new series. Sessions in flight are counted at session_new/session_close.
 *
 * metrics_render() writes everything, with the process counters of
 * stats.h, in the Prometheus text exposition format (version 0.0.4).
 * Every function is thread safe (relaxed atomic adds); nothing allocates
 * except metrics_render's output buffer, which the caller frees.
 */
#ifndef SMTPSCOPE_METRICS_H
#define SMTPSCOPE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "session.h"

/* metrics_observe_message, metrics_observe_session - count what a message
 * or session record says */
void metrics_observe_message(const struct session *s,
    const struct session_message *msg);
void metrics_observe_session(const struct session *s);

/* metrics_session_begin, metrics_session_end - sessions in flight */
void metrics_session_begin(void);
void metrics_session_end(void);

/* metrics_set_start - the daemon's start time (unix seconds) and version */
void metrics_set_start(int64_t unix_s, const char *version);

/*
 * metrics_render - the exposition text; *out is malloc'ed (caller frees),
 * *outlen its length. 0, or SCOPE_ENOMEM.
 */
int metrics_render(char **out, size_t *outlen);

/* metrics_reset - zero every metric (tests) */
void metrics_reset(void);

#endif
