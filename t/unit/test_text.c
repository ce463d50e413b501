/*
 * test_text.c - bounded UTF-8 cleaning, strict integer parsing, and
 * configured files read as regular files within a byte budget.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errors.h"
#include "tap.h"
#include "text.h"

/* test_file_open - text_file_open: regular files only, never blocking,
 * the size limit at open and while reading */
static void
test_file_open(void)
{
	char dir[] = "/tmp/test_text.XXXXXX", path[64], fifo[64], buf[64];
	const char *why = "";
	FILE *fp = NULL, *w;
	int rc;

	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/f", dir);
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	w = fopen(path, "w");
	if (w == NULL || mkfifo(fifo, 0600) != 0)
		abort();
	fputs("line one\nline two\n", w);
	fflush(w);
	rc = text_file_open(path, 64, &fp, &why);
	ok(rc == SCOPE_OK && text_read_line(fp, buf, sizeof(buf), &why) == 1 &&
	    strcmp(buf, "line one") == 0, "file: a regular file reads");
	/* it grows past its budget of 64 bytes while open */
	fputs("0123456789012345678901234567890123456789012345678901234567\n", w);
	fflush(w);
	while ((rc = text_read_line(fp, buf, sizeof(buf), &why)) == 1)
		;
	ok(rc == SCOPE_EIO && strstr(why, "too large") != NULL,
	    "file: reading past the budget fails (%s)", why);
	if (fp != NULL)
		fclose(fp);
	fp = NULL;
	rc = text_file_open(path, 64, &fp, &why);
	is_int(rc, SCOPE_ETOOBIG, "file: over the limit at open: ETOOBIG");
	rc = text_file_open(fifo, 64, &fp, &why);
	ok(rc == SCOPE_EINVAL && strcmp(why, "not a regular file") == 0 &&
	    fp == NULL, "file: a FIFO is refused without blocking");
	rc = text_file_open("/dev/zero", 64, &fp, &why);
	is_int(rc, SCOPE_EINVAL, "file: a device is refused");
	rc = text_file_open(dir, 64, &fp, &why);
	is_int(rc, SCOPE_EINVAL, "file: a folder is refused");
	rc = text_file_open("/nonexistent/x", 64, &fp, &why);
	ok(rc == SCOPE_EIO && strstr(why, "No such file") != NULL,
	    "file: a missing file says why (%s)", why);
	fclose(w);
	unlink(path);
	unlink(fifo);
	rmdir(dir);
}

/* ref_utf8_len - RFC 3629's table 4 read plainly: the length of the
 * well-formed sequence at p, 0 if there is none (NUL counts as none) */
static size_t
ref_utf8_len(const unsigned char *p, size_t avail)
{
	static const struct {
		unsigned char lo, hi, lo2, hi2;
		size_t n;
	} t[] = {
		{ 0x01, 0x7f, 0, 0, 1 }, { 0xc2, 0xdf, 0x80, 0xbf, 2 },
		{ 0xe0, 0xe0, 0xa0, 0xbf, 3 }, { 0xe1, 0xec, 0x80, 0xbf, 3 },
		{ 0xed, 0xed, 0x80, 0x9f, 3 }, { 0xee, 0xef, 0x80, 0xbf, 3 },
		{ 0xf0, 0xf0, 0x90, 0xbf, 4 }, { 0xf1, 0xf3, 0x80, 0xbf, 4 },
		{ 0xf4, 0xf4, 0x80, 0x8f, 4 },
	};
	size_t i, k;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (p[0] < t[i].lo || p[0] > t[i].hi)
			continue;
		if (t[i].n > avail)
			return 0;
		if (t[i].n > 1 && (p[1] < t[i].lo2 || p[1] > t[i].hi2))
			return 0;
		for (k = 2; k < t[i].n; k++)
			if (p[k] < 0x80 || p[k] > 0xbf)
				return 0;
		return t[i].n;
	}
	return 0;
}

/* ref_clean - what text_clean must write: each well-formed sequence, or
 * U+FFFD for a byte that starts none, up to the last whole one that fits */
static size_t
ref_clean(char *out, size_t outsz, const unsigned char *p, size_t n,
    bool *cut)
{
	size_t used = 0, pos = 0, v;

	*cut = false;
	while (pos < n) {
		v = ref_utf8_len(p + pos, n - pos);
		if (used + (v > 0 ? v : 3) > outsz - 1) {
			*cut = true;
			break;
		}
		memcpy(out + used, v > 0 ? (const char *)p + pos : "\xef\xbf\xbd",
		    v > 0 ? v : 3);
		used += v > 0 ? v : 3;
		pos += v > 0 ? v : 1;
	}
	out[used] = '\0';
	return used;
}

/* test_clean_random - text_clean against ref_clean: 200,000 random
 * strings (ASCII runs, valid and broken sequences, NULs) into buffers of
 * 1 to 80 bytes */
static void
test_clean_random(void)
{
	static const char *piece[] = { "a", "hello world ", "\xc3\xa9",
	    "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xed\xa0\x80", "\xc0\xaf",
	    "\xf4\x90\x80\x80", "\xe0\x80", "\x80", "\xff", "\t\r\n" };
	unsigned char in[128];
	char got[96], want[96];
	unsigned seed = 20261206, t, bad = 0;
	size_t n, k, outsz, lg, lw;
	bool cg, cw;

	for (t = 0; t < 200000; t++) {
		n = 0;
		while (n < 100 && rand_r(&seed) % 8 != 0) {
			if (rand_r(&seed) % 4 == 0) {
				in[n++] = (unsigned char)rand_r(&seed);
				continue;
			}
			k = (size_t)rand_r(&seed) % (sizeof(piece) /
			    sizeof(piece[0]));
			memcpy(in + n, piece[k], strlen(piece[k]));
			n += strlen(piece[k]);
		}
		outsz = 1 + (size_t)rand_r(&seed) % 80;
		lg = text_clean(got, outsz, (const char *)in, n, &cg);
		lw = ref_clean(want, outsz, in, n, &cw);
		if (lg != lw || cg != cw || memcmp(got, want, lw + 1) != 0)
			bad++;
	}
	is_int(bad, 0, "200,000 random strings cleaned as RFC 3629 reads "
	    "them, cut at the same place");
}

int
main(void)
{
	char out[16];
	bool cut;
	long v;

	plan(19 + 7 + 1);
	text_copy(out, sizeof(out), "plain ascii", &cut);
	is_str(out, "plain ascii", "ASCII is copied unchanged");
	ok(!cut, "short ASCII is not truncated");
	text_copy(out, sizeof(out), "caf\xc3\xa9", &cut);
	is_str(out, "caf\xc3\xa9", "valid two-byte UTF-8 is kept");
	text_copy(out, sizeof(out), "a\xffz", &cut);
	is_str(out, "a\xef\xbf\xbdz", "an invalid byte becomes U+FFFD");
	text_copy(out, sizeof(out), "\xc0\xaf", &cut);
	is_str(out, "\xef\xbf\xbd\xef\xbf\xbd", "overlong '/' is two replacements");
	text_copy(out, sizeof(out), "\xed\xa0\x80", &cut);
	is_str(out, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd",
	    "a UTF-16 surrogate is rejected byte by byte");
	text_copy(out, sizeof(out), "\xf4\x90\x80\x80", &cut);
	ok(strstr(out, "\xef\xbf\xbd") == out, "code point above U+10FFFF is rejected");
	text_clean(out, sizeof(out), "a\0b", 3, &cut);
	is_str(out, "a\xef\xbf\xbd" "b", "an embedded NUL becomes U+FFFD");
	text_copy(out, sizeof(out), "0123456789abcdefghij", &cut);
	is_int((long long)strlen(out), 15, "copy is capped at the buffer size");
	ok(cut, "a capped copy reports truncation");
	text_copy(out, 6, "abcd\xc3\xa9", &cut);
	is_str(out, "abcd", "a cut never splits a UTF-8 sequence");
	text_copy(out, sizeof(out), NULL, &cut);
	is_str(out, "", "NULL copies as empty");
	ok(text_parse_long("42", 10, 0, 100, &v) == 0 && v == 42, "decimal parses");
	is_int(text_parse_long("42x", 10, 0, 100, &v), SCOPE_EINVAL, "trailing junk is rejected");
	is_int(text_parse_long("101", 10, 0, 100, &v), SCOPE_ERANGE, "out of range is rejected");
	is_int(text_parse_long("99999999999999999999", 10, 0, 100, &v), SCOPE_ERANGE,
	    "overflow is rejected");
	ok(text_parse_long("0640", 8, 0, 0777, &v) == 0 && v == 0640, "octal parses");
	ok(text_header_is("from", "From") && text_header_is("From \t", "From"),
	    "header names: any case, blanks before the colon");
	ok(!text_header_is("From-X", "From") && !text_header_is("Fro", "From") &&
	    !text_header_is(NULL, "From"), "header names: no prefix matches");
	test_file_open();
	test_clean_random();
	return done_testing();
}
