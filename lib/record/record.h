/*
 * record.h - the measurement records, schema version RECORD_VERSION.
 *
 * record_message() and record_session() turn a session into the JSON
 * object of one record (docs/smtpscope-records.5 documents every field).
 * The caller owns the returned object (json_decref); NULL means out of
 * memory. Key order is fixed: v, ts, event, session first.
 *
 * record_fit() (record_fit.c) cuts a record that is too large for the
 * record log in a fixed order (smtpscope-records(5), SIZE) instead of
 * letting it be dropped.
 */
#ifndef SMTPSCOPE_RECORD_H
#define SMTPSCOPE_RECORD_H

#include <jansson.h>

#include "session.h"

#define RECORD_VERSION	1

json_t *record_message(const struct session *s,
    const struct session_message *msg, const char *action,
    const char *stage);
json_t *record_session(const struct session *s);

/* the smallest cap record_fit() accepts: its minimal record always fits */
#define RECORD_FIT_MIN	(48 * 1024)

/* record_fit - cut rec in place until its serialisation (without the
 * newline) is at most cap bytes; each step taken is named in its
 * "truncated" list and in cuts ("dns,dkim", "" when nothing was cut,
 * bounded by cutsz). 0 when it fits; SCOPE_ETOOBIG when cap is below
 * RECORD_FIT_MIN, SCOPE_ENOMEM. */
int record_fit(json_t *rec, size_t cap, char *cuts, size_t cutsz);

#endif
