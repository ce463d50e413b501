/*
 * record_internal.h - what record.c (the record objects) and
 * record_privacy.c (pseudonymization of their fields) share: the builder
 * state of one record and its small helpers. Not for other modules.
 */
#ifndef SMTPSCOPE_RECORD_INTERNAL_H
#define SMTPSCOPE_RECORD_INTERNAL_H

#include <stdbool.h>


#include "record/pseudo.h"
#include "record/record_json.h"
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
	struct record_w w;	/* the record's text */
	int err;	/* sticky: a failure outside the writer */
	const struct pseudo *p;		/* NULL: everything kept */
	struct record_pctx *pc;		/* owned; set when p is */
};

/* record_text - a string, or null when empty and empty_null (NULL is
 * empty) */
static inline void
record_text(struct record_b *b, const char *v, bool empty_null)
{
	if (v == NULL || *v == '\0')
		record_w_str(&b->w, empty_null ? NULL : "");
	else
		record_w_str(&b->w, v);
}

/* record_privacy.c: set up pseudonymization for one record (msg NULL for
 * the session record), and release it */
void record_begin(struct record_b *b, const struct session *s,
    const struct session_message *msg);
void record_end(struct record_b *b);
/* a value of a group: its pseudonym, or (kept) scrubbed; null when
 * dropped, or when empty and empty_null */
void record_pv(struct record_b *b, enum record_grp g, const char *v,
    bool empty_null);
/* any other text that can carry a pseudonymized value */
void record_scrub(struct record_b *b, const char *v, bool empty_null);
/* the members pseudonym_key and pseudonymized, when active */
void record_pseudo_keys(struct record_b *b);

#endif
