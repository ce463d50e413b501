/*
 * fuzz_text.c - fuzz target: UTF-8 cleaning must always yield valid,
 * bounded UTF-8 (cleaning the output again changes nothing).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[300], again[300];
	size_t n, m;
	bool cut;

	n = text_clean(out, sizeof(out), (const char *)data, size, &cut);
	if (n >= sizeof(out) || strlen(out) != n)
		abort();
	m = text_clean(again, sizeof(again), out, n, &cut);
	if (m != n || memcmp(out, again, n) != 0 || cut)
		abort();
	return 0;
}
