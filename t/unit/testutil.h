/*
 * testutil.h - checks shared by the unit tests: UTF-8 validity of a
 * string, fields of a parsed record by dotted path, and a seeded
 * pseudo-random generator.
 */
#ifndef SMTPSCOPE_TESTUTIL_H
#define SMTPSCOPE_TESTUTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

/* test_rng - xorshift64*: the same sequence from the same (non-zero)
 * state on every run */
static inline uint64_t
test_rng(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 0x2545f4914f6cdd1dULL;
}

/* valid_utf8 - is s valid UTF-8 (RFC 3629 shape, no overlongs)? */
static inline bool
valid_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int need;

	while (*p != '\0') {
		if (*p < 0x80)
			need = 0;
		else if (*p >= 0xc2 && *p <= 0xdf)
			need = 1;
		else if (*p >= 0xe0 && *p <= 0xef)
			need = 2;
		else if (*p >= 0xf0 && *p <= 0xf4)
			need = 3;
		else
			return false;
		for (p++; need > 0; need--, p++)
			if ((*p & 0xc0) != 0x80)
				return false;
	}
	return true;
}

/* field - a nested field by dotted path; sfield, ifield - its value */
static inline json_t *
field(json_t *o, const char *path)
{
	char buf[128], *p, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = strtok_r(buf, ".", &save); p != NULL && o != NULL;
	    p = strtok_r(NULL, ".", &save))
		o = json_object_get(o, p);
	return o;
}

static inline const char *
sfield(json_t *o, const char *path)
{
	return json_string_value(field(o, path));
}

static inline long long
ifield(json_t *o, const char *path)
{
	return json_integer_value(field(o, path));
}

#endif
