/*
 * record_internal.h - what record.c (the record objects) and
 * record_privacy.c (pseudonymization of their fields) share: the builder
 * state of one record and its small helpers. Not for other modules.
 */
#ifndef SMTPSCOPE_RECORD_INTERNAL_H
#define SMTPSCOPE_RECORD_INTERNAL_H

#include <stdbool.h>

#include <jansson.h>

#include "record/pseudo.h"
#include "session.h"

#define RECORD_NEEDLES	32	/* raw values looked for when scrubbing */
#define RECORD_FORM_MAX	80	/* one text form of the client address */
#define RECORD_SCRUB_MAX	2048	/* a scrubbed value; longer: null */

enum record_grp { RECORD_IP, RECORD_NAME, RECORD_ADDR, RECORD_MSGID };

/* one raw value to find, and what replaces it (NULL: drop the field) */
struct record_needle {
	const char *raw;
	size_t len;
	const char *rep;
};

/* the pseudonymization state of one record (heap: about 16 KiB) */
struct record_pctx {
	struct record_needle n[RECORD_NEEDLES];	/* longest first */
	unsigned nn;
	char forms[8][RECORD_FORM_MAX];	/* client address forms, raw */
	char reps[RECORD_NEEDLES][PSEUDO_OUT_MAX];
	char buf[RECORD_SCRUB_MAX];
	char out[PSEUDO_OUT_MAX];
};

struct record_b {
	int err;	/* sticky: any failed insertion */
	const struct pseudo *p;		/* NULL: everything kept */
	struct record_pctx *pc;		/* owned; set when p is */
};

/* record_put - insert a value, remembering failure (val may be NULL);
 * key is one of the schema's field names, an ASCII constant of ours
 * (never input), so jansson's UTF-8 check of it is skipped (about 25,000
 * instructions per message) */
static inline void
record_put(struct record_b *b, json_t *obj, const char *key, json_t *val)
{
	if (obj == NULL || val == NULL ||
	    json_object_set_new_nocheck(obj, key, val) != 0)
		b->err = 1;
}

/* record_str - a string, or null when empty */
static inline json_t *
record_str(const char *s)
{
	return s != NULL && *s != '\0' ? json_string(s) : json_null();
}

/* record_text - a string, or null when empty and empty_null */
static inline json_t *
record_text(const char *v, bool empty_null)
{
	return empty_null ? record_str(v) : json_string(v != NULL ? v : "");
}

/* record_privacy.c: set up pseudonymization for one record (msg NULL for
 * the session record), and release it */
void record_begin(struct record_b *b, const struct session *s,
    const struct session_message *msg);
void record_end(struct record_b *b);
/* a value of a group: its pseudonym, or (kept) scrubbed; null when
 * dropped, or when empty and empty_null */
json_t *record_pv(struct record_b *b, enum record_grp g, const char *v,
    bool empty_null);
/* any other text that can carry a pseudonymized value */
json_t *record_scrub(struct record_b *b, const char *v, bool empty_null);
/* pseudonym_key and pseudonymized, when active */
void record_pseudo_keys(struct record_b *b, json_t *o);

#endif
