/*
 * tags.h - labels for records from configurable rules, so a researcher
 * can tell measurement targets apart (the TagRules file).
 *
 * A rules file has one rule per line, '#' comments:
 *   tag NAME rcpt PATTERN          a recipient address
 *   tag NAME rcpt-domain PATTERN   the domain of a recipient
 *   tag NAME sender-domain DOMAIN  the MAIL FROM domain or one under it
 *   tag NAME local ADDR[:PORT]     the address (and port) the client
 *                                  reached: 192.0.2.1:25, [2001:db8::1]:25,
 *                                  *:587, 192.0.2.1
 *   tag NAME client NET            the client address: 198.51.100.0/24
 *   greylist NAME off|observe|enforce   greylisting mode for recipients
 *                                  that carry tag NAME
 * PATTERN is compared without regard to case: exact text, a wildcard
 * pattern with * and ? (any text, one character), or, after '~', a POSIX
 * extended regular expression. NAME is 1 to 63 characters of letters,
 * digits, '.', '_' and '-'. An invalid line is an error naming the file
 * and line. Several rules may give several tags; a record lists each tag
 * once, in the order of first match.
 *
 * A struct tags is read-only after tags_load() and shared by all threads.
 */
#ifndef SMTPSCOPE_TAGS_H
#define SMTPSCOPE_TAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define TAGS_NAME_MAX	64	/* bytes of a tag name, with the NUL */
#define TAGS_SET_MAX	16	/* tags listed per record; more are counted */

/* the tags a record carries: indexes into the rules' tag names */
struct tags_set {
	unsigned short idx[TAGS_SET_MAX];
	unsigned n;
	unsigned dropped;	/* matches past TAGS_SET_MAX */
};

struct tags;

/* tags_load - read a rules file; err gets "FILE:LINE: reason" */
int tags_load(struct tags **out, const char *path, char *err, size_t errsz);
/* tags_load_stream - the same from an open file (tests, fuzzing); path
 * only names it in err */
int tags_load_stream(struct tags **out, FILE *fp, const char *path,
    char *err, size_t errsz);
void tags_free(struct tags *t);

/* tags_match_session - local address/port and client rules */
void tags_match_session(const struct tags *t, const char *local_ip,
    unsigned local_port, const char *client_ip, struct tags_set *set);
/* tags_match_sender - sender-domain rules (sender: "local@domain" or "") */
void tags_match_sender(const struct tags *t, const char *sender,
    struct tags_set *set);
/* tags_match_rcpt - rcpt and rcpt-domain rules for one recipient */
void tags_match_rcpt(const struct tags *t, const char *rcpt,
    struct tags_set *set);
/* tags_merge - add the tags of from to into (each once) */
void tags_merge(struct tags_set *into, const struct tags_set *from);
/* tags_name - the name of a tag index */
const char *tags_name(const struct tags *t, unsigned idx);
/* tags_greylist - the greylist mode (enum greylist_mode) the first tag
 * of set with a greylist line asks for, or -1 when none does */
int tags_greylist(const struct tags *t, const struct tags_set *set);

#endif
