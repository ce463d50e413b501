/*
 * fuzz_clock.c - fuzz target: the parser of command-line moments (Unix
 * seconds, RFC 3339). Whatever it accepts is in range and survives a
 * round trip through clock_rfc3339; whatever it refuses is refused with
 * EINVAL or ERANGE and the result left alone.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "errors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char in[CLOCK_PARSE_MAX * 2 + 1], out[40];
	int64_t us = -1, again = -1;
	int rc;

	if (size >= sizeof(in))
		size = sizeof(in) - 1;
	memcpy(in, data, size);
	in[size] = '\0';
	rc = clock_parse_time(in, &us);
	if (rc != SCOPE_OK) {
		if ((rc != SCOPE_EINVAL && rc != SCOPE_ERANGE) || us != -1)
			abort();
		return 0;
	}
	if (us < 1000000 || us > CLOCK_SECS_MAX * 1000000 + 999999)
		abort();
	if (clock_rfc3339(us, out, sizeof(out)) != SCOPE_OK ||
	    clock_parse_rfc3339(out, &again) != SCOPE_OK || again != us)
		abort();
	return 0;
}
