/*
 * record_json.h - a record's compact JSON text, written without jansson's
 * dumper.
 *
 * The text is byte for byte what json_dumpb(rec, ..., RECORDLOG_JSON_FLAGS)
 * writes (t/unit/test_record_json.c compares the two on hostile trees, and
 * the record fuzz target on every tree it builds): keys in insertion
 * order, no white space, strings escaped as jansson does ('"', '\\', the
 * C0 controls as \b \f \n \r \t or \u00XX, everything else as is).
 * jansson's dumper walks every string one code point at a time through
 * its UTF-8 decoder and formats every integer with snprintf; on records
 * that was 14 % of smtpscope's instructions per message
 * (docs/performance.md). Here a run of plain bytes is found with a table
 * and copied at once; a string that is not valid UTF-8 is refused, as
 * jansson refuses it. Reals are written as jansson's
 * JSON_REAL_PRECISION(12) writes them.
 *
 * The same writer is open to the record builder (record.c), which writes
 * a record's text straight from the session model, member by member,
 * without a tree in between (struct record_w below).
 *
 * Failures: SCOPE_ETOOBIG (the text would pass max bytes), SCOPE_EINVAL
 * (invalid UTF-8, nesting over RECORD_JSON_DEPTH, a value of no JSON
 * type), SCOPE_ENOMEM.
 */
#ifndef SMTPSCOPE_RECORD_JSON_H
#define SMTPSCOPE_RECORD_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define RECORD_JSON_DEPTH	64	/* arrays and objects inside each other */

/* one growing text; members and elements are separated by the writer */
struct record_w {
	char *p;		/* owned until record_w_take */
	size_t len, cap;
	size_t max;		/* text limit */
	size_t extra;		/* spare bytes the caller wants after it */
	int err;		/* first failure, SCOPE_OK until then */
	unsigned depth;		/* open arrays and objects */
	bool after_key;		/* a key was written, its value is next */
	uint64_t more;		/* bit d: depth d already has a member */
};

/* record_w_init - an empty text of at most max bytes, extra spare */
void record_w_init(struct record_w *w, size_t max, size_t extra);
/* record_w_take - the finished text (*out, caller frees; *len bytes plus
 * the extra) or the first failure (nothing to free then) */
int record_w_take(struct record_w *w, char **out, size_t *len);
/* record_w_open - '{' or '['; record_w_close - '}' or ']' */
void record_w_open(struct record_w *w, char c);
void record_w_close(struct record_w *w, char c);
/* record_w_key - a member's key (a schema constant: written unescaped
 * but for the quotes) */
void record_w_key(struct record_w *w, const char *key);
/* values: a string (NULL: null), null, a boolean, an integer, a real */
void record_w_str(struct record_w *w, const char *s);
void record_w_null(struct record_w *w);
void record_w_bool(struct record_w *w, bool v);
void record_w_int(struct record_w *w, json_int_t v);
void record_w_real(struct record_w *w, double v);

/*
 * record_json_dump - rec's text in a new buffer (*out, caller frees) of
 * *len bytes plus `extra` spare bytes after them (for a newline), at most
 * max bytes of text
 */
int record_json_dump(const json_t *rec, size_t max, size_t extra, char **out,
    size_t *len);

#endif
