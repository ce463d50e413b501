/*
 * spf_syntax.h - RFC 7208 record syntax for lib/auth/spf.c (not for other
 * modules): the checks libspf2 1.2.10 omits, and the text libspf2 is
 * given instead of the published record.
 */
#ifndef SMTPSCOPE_SPF_SYNTAX_H
#define SMTPSCOPE_SPF_SYNTAX_H

#include <stdbool.h>
#include <stddef.h>

#include "auth/spf_macro.h"

/* the label that asks the DNS layer for "any address of this name":
 * how a /0 prefix on a or mx reaches libspf2, which cannot express it */
#define SPF_SYNTAX_ANY		"_smtpscope-any"
#define SPF_SYNTAX_ANY_LEN	14

/* spf_syntax_record - check a "v=spf1" record (RFC 7208 §4.6.1, §5,
 * §6, §7.1) and build the text libspf2 evaluates for a client of this
 * family (AF_INET, AF_INET6): unknown modifiers dropped, redirect= last
 * or dropped next to "all", /0 prefixes rewritten; with vars, every
 * domain-spec expanded (spf_macro.c) but a plain %{p}. Returns a string the
 * caller frees, or NULL with *why set (permerror; "out of memory" too)
 * and *at the offset of the term at fault. */
char *spf_syntax_record(const char *record, int family,
    const struct spf_macro_vars *vars, const char **why, size_t *at);

/* spf_syntax_term - one published directive as libspf2 must see it
 * (possibly empty: never matches); NULL when it is not a valid one */
char *spf_syntax_term(const char *term, size_t len, int family,
    const struct spf_macro_vars *vars);

/* spf_syntax_explain - is text an explain-string (§6.2)? */
bool spf_syntax_explain(const char *text);

/* spf_syntax_next - the next SP-separated term after *pos */
bool spf_syntax_next(const char *text, size_t *pos, const char **t,
    size_t *len);

/* spf_syntax_modifier - is the term a modifier (name "=" ...)? */
bool spf_syntax_modifier(const char *t, size_t len, size_t *namelen);

/* spf_syntax_is_all - is the term the "all" mechanism? */
bool spf_syntax_is_all(const char *t, size_t len);

#endif
