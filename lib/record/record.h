/*
 * record.h - the measurement records, schema version RECORD_VERSION.
 *
 * record_message() and record_session() turn a session into the JSON
 * object of one record (docs/smtpscope-records.5 documents every field).
 * The caller owns the returned object (json_decref); NULL means out of
 * memory. Key order is fixed: v, ts, event, session first.
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

#endif
