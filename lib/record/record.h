/*
 * record.h - the measurement records, schema version RECORD_VERSION.
 *
 * record_message_text() and record_session_text() write the compact JSON
 * text of one record (docs/smtpscope-records.5 documents every field)
 * straight from the session, into a new buffer (*out, the caller frees)
 * of *len bytes plus `extra` spare bytes; the text is what
 * record_json_dump() writes of the object. 0, or SCOPE_ENOMEM,
 * SCOPE_ETOOBIG (past RECORD_TEXT_MAX), SCOPE_EINVAL (a string that is
 * not UTF-8, a failed clock). Key order is fixed: v, ts, event, session
 * first.
 * Parsed with json_loadb(), the text gives the record as an object (for
 * record_fit(), and the tests).
 *
 * record_fit() (record_fit.c) cuts a record that is too large for the
 * record log in a fixed order (smtpscope-records(5), SIZE) instead of
 * letting it be dropped.
 */
#ifndef SMTPSCOPE_RECORD_H
#define SMTPSCOPE_RECORD_H

#include <stddef.h>

#include <jansson.h>

#include "session.h"

#define RECORD_VERSION	1
/* the longest text a record may have before record_fit() cuts it; far
 * above what a session's bounded fields can reach */
#define RECORD_TEXT_MAX	(16 * 1024 * 1024)

int record_message_text(const struct session *s,
    const struct session_message *msg, const char *action, const char *stage,
    size_t extra, char **out, size_t *len);
int record_session_text(const struct session *s, size_t extra, char **out,
    size_t *len);


/* the smallest cap record_fit() accepts: its minimal record always fits */
#define RECORD_FIT_MIN	(48 * 1024)

/* record_fit - cut rec in place until its serialisation (without the
 * newline) is at most cap bytes; each step taken is named in its
 * "truncated" list and in cuts ("dns,dkim", "" when nothing was cut,
 * bounded by cutsz). 0 when it fits; SCOPE_ETOOBIG when cap is below
 * RECORD_FIT_MIN, SCOPE_ENOMEM. */
int record_fit(json_t *rec, size_t cap, char *cuts, size_t cutsz);

#endif
