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
 * Failures: SCOPE_ETOOBIG (the text would pass max bytes), SCOPE_EINVAL
 * (invalid UTF-8, nesting over RECORD_JSON_DEPTH, a value of no JSON
 * type), SCOPE_ENOMEM.
 */
#ifndef SMTPSCOPE_RECORD_JSON_H
#define SMTPSCOPE_RECORD_JSON_H

#include <stddef.h>

#include <jansson.h>

#define RECORD_JSON_DEPTH	64	/* arrays and objects inside each other */

/*
 * record_json_dump - rec's text in a new buffer (*out, caller frees) of
 * *len bytes plus `extra` spare bytes after them (for a newline), at most
 * max bytes of text
 */
int record_json_dump(const json_t *rec, size_t max, size_t extra, char **out,
    size_t *len);

#endif
