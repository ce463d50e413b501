/*
 * spf_macro.h - RFC 7208 section 7 macro expansion, ours rather than
 * libspf2's (libspf2 1.2.10 drops the first character when a DIGIT
 * transformer asks for more parts than there are, keeps '.' as a
 * delimiter when others are given, and knows neither ',' nor '/').
 * For lib/auth/spf*.c only.
 */
#ifndef SMTPSCOPE_SPF_MACRO_H
#define SMTPSCOPE_SPF_MACRO_H

#include <stdbool.h>
#include <stddef.h>

/* what the macro letters stand for in one check (§7.2) */
struct spf_macro_vars {
	const char *sender;	/* s: local-part@domain */
	const char *local;	/* l */
	const char *sender_dom;	/* o */
	const char *domain;	/* d: the current domain */
	const char *helo;	/* h */
	const char *receiver;	/* r (explanations only) */
	int family;		/* AF_INET or AF_INET6 */
	unsigned char addr[16];	/* i, c: 4 or 16 bytes */
	long long now;		/* t (explanations only) */
	/* p: the validated name of the client, looked up on demand; NULL
	 * leaves the value "unknown" */
	const char *(*ptr_name)(void *arg);
	void *ptr_arg;
};

enum spf_macro_mode {
	SPF_MACRO_DOMAIN,	/* a domain-spec: no c, r, t; cut to 253 */
	SPF_MACRO_EXPLAIN,	/* an explain-string: spaces, c, r, t */
	SPF_MACRO_LIBSPF2	/* a domain-spec written back as libspf2
				 * macro text: literals escaped (%% %_),
				 * plain %{p} left for libspf2 to expand
				 * when it evaluates the term */
};

/* a growing string; oom set once an allocation failed (s stays valid) */
struct spf_sbuf {
	char *s;
	size_t len, cap;
	bool oom;
};

/* spf_sbuf_add - append n bytes; spf_sbuf_str - append a C string */
void spf_sbuf_add(struct spf_sbuf *b, const char *s, size_t n);
void spf_sbuf_str(struct spf_sbuf *b, const char *s);

/* spf_macro_expand - expand s[0..len) (§7.3). Returns a string the caller
 * frees, or NULL when s is not a valid macro-string for the mode or on
 * out of memory. */
char *spf_macro_expand(const struct spf_macro_vars *v, const char *s,
    size_t len, enum spf_macro_mode mode);

/* spf_macro_transform - one macro's value with its transformers: split
 * at the delimiters ("" means "."), optionally reversed, the rightmost
 * 'keep' parts (0: all), joined with "."; 'url' escapes what RFC 3986
 * does not leave unreserved. Caller frees; NULL on out of memory. */
char *spf_macro_transform(const char *value, unsigned long keep, bool rev,
    const char *delims, bool url);

#endif
