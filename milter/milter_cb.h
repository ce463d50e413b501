/*
 * milter_cb.h - libmilter callbacks that feed lib/session.
 *
 * milter_cb_desc is the struct smfiDesc to register. The callbacks only
 * copy facts out of libmilter (macros, arguments) into session events;
 * the core decides what is recorded. milter_cb_active() counts open
 * sessions, for an orderly shutdown and the session limit.
 */
#ifndef SMTPSCOPE_MILTER_CB_H
#define SMTPSCOPE_MILTER_CB_H

#include <libmilter/mfapi.h>

#include "session.h"

extern struct smfiDesc milter_cb_desc;

/* milter_cb_init - ready the callbacks; each session takes the current
 * configuration snapshot (snapshot.h) when it starts */
void milter_cb_init(void);
unsigned milter_cb_active(void);
/* milter_cb_limit - refuse connections beyond max sessions (0: none) */
void milter_cb_limit(unsigned max);
/* milter_cb_stop - refuse new connections from now on (shutdown) */
void milter_cb_stop(void);

#endif
