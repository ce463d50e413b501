/*
 * test_text.c - bounded UTF-8 cleaning and strict integer parsing.
 */
#include <string.h>

#include "errors.h"
#include "tap.h"
#include "text.h"

int
main(void)
{
	char out[16];
	bool cut;
	long v;

	plan(19);
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
	return done_testing();
}
