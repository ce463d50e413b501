/*
 * text.c - UTF-8 cleaning with caps, strict integer parsing, bounded
 * reading of configured files.
 *
 * text_clean() validates UTF-8 by RFC 3629 (no overlong forms, no
 * surrogates, nothing above U+10FFFF). It owns nothing; callers pass the
 * destination buffer, whose size is the cap. text_file_open() returns a
 * stream that owns its descriptor and its byte budget (freed by fclose).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errors.h"
#include "text.h"

static const char text_replacement[] = "\xef\xbf\xbd";	/* U+FFFD */

/* text_utf8_len - length of the valid sequence at p, or 0 if invalid */
static size_t
text_utf8_len(const unsigned char *p, size_t avail)
{
	unsigned char c = p[0];
	size_t need, i;
	unsigned long cp;

	if (c >= 0x01 && c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		need = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4;
		cp = c & 0x07;
	} else {
		return 0;	/* NUL, continuation byte, 0xc0/0xc1, 0xf5+ */
	}
	if (need > avail)
		return 0;
	for (i = 1; i < need; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return need;
}

/* text_clean - bounded valid-UTF-8 copy of a byte string */
size_t
text_clean(char *out, size_t outsz, const char *in, size_t inlen,
    bool *truncated)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t used = 0, pos = 0, valid, len;
	const void *src;

	if (truncated != NULL)
		*truncated = false;
	if (outsz == 0)
		return 0;
	while (pos < inlen) {
		/* a run of ASCII (no NUL) goes at once, as far as it fits */
		for (len = 0; pos + len < inlen && p[pos + len] - 1u < 0x7fu;
		    len++)
			;
		if (len > 0) {
			if (len > outsz - 1 - used) {
				memcpy(out + used, p + pos, outsz - 1 - used);
				used = outsz - 1;
				if (truncated != NULL)
					*truncated = true;
				break;
			}
			memcpy(out + used, p + pos, len);
			used += len;
			pos += len;
			continue;
		}
		valid = text_utf8_len(p + pos, inlen - pos);
		src = valid > 0 ? (const void *)(p + pos) : text_replacement;
		len = valid > 0 ? valid : 3;
		if (used + len > outsz - 1) {
			if (truncated != NULL)
				*truncated = true;
			break;
		}
		memcpy(out + used, src, len);
		used += len;
		pos += valid > 0 ? valid : 1;
	}
	out[used] = '\0';
	return used;
}

/* text_copy - text_clean of a C string */
size_t
text_copy(char *out, size_t outsz, const char *src, bool *truncated)
{
	if (src == NULL)
		src = "";
	return text_clean(out, outsz, src, strlen(src), truncated);
}

/* text_parse_long - strict whole-string integer in a range */
int
text_parse_long(const char *s, int base, long min, long max, long *out)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0' || *s == ' ' || *s == '+')
		return SCOPE_EINVAL;
	errno = 0;
	v = strtol(s, &end, base);
	if (*end != '\0')
		return SCOPE_EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return SCOPE_ERANGE;
	*out = v;
	return SCOPE_OK;
}

/* text_ieq - ASCII case-insensitive comparison */
bool
text_ieq(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

/* text_read_line - one line into buf (a trailing CR dropped); 1 line, 0
 * EOF, <0 error with the reason in why: NUL byte, too long, read error */
int
text_read_line(FILE *fp, char *buf, size_t bufsz, const char **why)
{
	size_t len = 0;
	int c;

	while ((c = getc(fp)) != EOF && c != '\n') {
		if (c == '\0') {
			*why = "NUL byte in line";
			return SCOPE_EINVAL;
		}
		if (len + 1 >= bufsz) {
			*why = "line too long";
			return SCOPE_ETOOBIG;
		}
		buf[len++] = (char)c;
	}
	if (ferror(fp)) {
		*why = strerror(errno);
		return SCOPE_EIO;
	}
	if (c == EOF && len == 0)
		return 0;
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	return 1;
}

/* text_header_is - name equals want, ignoring case and trailing blanks */
bool
text_header_is(const char *name, const char *want)
{
	size_t n = strlen(want);

	return name != NULL && strncasecmp(name, want, n) == 0 &&
	    name[n + strspn(name + n, " \t")] == '\0';
}

/* a configured file being read: its descriptor and the bytes it may
 * still give */
struct text_file {
	int fd;
	size_t left;
};

/* text_file_read - the stream's read: at most the budget, then EFBIG */
static ssize_t
text_file_read(void *cookie, char *buf, size_t size)
{
	struct text_file *f = cookie;
	ssize_t n;

	if (f->left == 0) {
		/* the budget is spent: at the end only if nothing is left */
		n = read(f->fd, buf, size > 0 ? 1 : 0);
		if (n <= 0)
			return n;
		errno = EFBIG;
		return -1;
	}
	do
		n = read(f->fd, buf, size < f->left ? size : f->left);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		f->left -= (size_t)n;
	return n;
}

/* text_file_close - the stream's close: the descriptor and the cookie */
static int
text_file_close(void *cookie)
{
	struct text_file *f = cookie;
	int rc = close(f->fd);

	free(f);
	return rc;
}

/* text_file_fail - close fd, set why, return code */
static int
text_file_fail(int fd, const char **why, const char *text, int code)
{
	close(fd);
	*why = text;
	return code;
}

/* text_file_open - a regular file of at most max bytes, as a stream */
int
text_file_open(const char *path, size_t max, FILE **out, const char **why)
{
	cookie_io_functions_t io = { text_file_read, NULL, NULL,
	    text_file_close };
	struct text_file *f;
	struct stat st;
	int fd;

	*out = NULL;
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		*why = strerror(errno);
		return SCOPE_EIO;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		return text_file_fail(fd, why, "not a regular file",
		    SCOPE_EINVAL);
	if ((uintmax_t)st.st_size > max)
		return text_file_fail(fd, why, "too large", SCOPE_ETOOBIG);
	if ((f = malloc(sizeof(*f))) == NULL)
		return text_file_fail(fd, why, "out of memory", SCOPE_ENOMEM);
	f->fd = fd;
	f->left = max;
	if ((*out = fopencookie(f, "r", io)) == NULL) {
		free(f);
		return text_file_fail(fd, why, "out of memory", SCOPE_ENOMEM);
	}
	return SCOPE_OK;
}

/* text_hexval - the value of one hex digit, -1 if c is none */
int
text_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}
