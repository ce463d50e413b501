/*
 * text.h - bounded, valid-UTF-8 copies of hostile strings, strict numbers.
 *
 * Everything the MTA or the client hands us (HELO, addresses, header
 * values, macro values) goes through text_clean() before it is stored:
 * the copy is valid UTF-8 (each invalid byte and each NUL becomes U+FFFD),
 * never longer than the destination allows, cut on a character boundary,
 * and the caller learns whether anything was cut.
 */
#ifndef SMTPSCOPE_TEXT_H
#define SMTPSCOPE_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* text_clean - copy in[0..inlen) into out (always NUL-terminated); returns length */
size_t text_clean(char *out, size_t outsz, const char *in, size_t inlen,
    bool *truncated);

/* text_copy - text_clean for a C string; a NULL src gives "" */
size_t text_copy(char *out, size_t outsz, const char *src, bool *truncated);

/* text_hexval - the value of one hex digit, -1 if c is none */
int text_hexval(int c);
/* text_parse_long - whole-string decimal (or base 8 with base==8) in [min,max] */
int text_parse_long(const char *s, int base, long min, long max, long *out);

/* text_ieq - ASCII case-insensitive equality */
bool text_ieq(const char *a, const char *b);

/* text_header_is - a header field name is want: any case, white space
 * before the colon allowed (RFC 5322 obsolete syntax, which MTAs pass on
 * and libopendkim accepts) */
bool text_header_is(const char *name, const char *want);

/* text_read_line - one line of a file into buf, without its LF (and CR);
 * 1 for a line, 0 at the end, <0 with *why set: a NUL byte, a line that
 * does not fit bufsz, a read error */
int text_read_line(FILE *fp, char *buf, size_t bufsz, const char **why);

/* text_file_open - open a file named by the configuration for reading:
 * opened with O_NONBLOCK (a FIFO or a device never blocks the open),
 * then fstat on that descriptor (no race with a rename) must show a
 * regular file of at most max bytes; the stream reads at most max bytes
 * even if the file grows (a read past them fails with EFBIG, so
 * text_read_line says "File too large"). *out gets the stream (fclose
 * it); or SCOPE_EIO (cannot open: *why is strerror), SCOPE_EINVAL (not a
 * regular file), SCOPE_ETOOBIG (over max bytes), SCOPE_ENOMEM */
int text_file_open(const char *path, size_t max, FILE **out,
    const char **why);

#endif
