/*
 * fuzz_addrlist.c - fuzz target: the From: address-list parser reads
 * only data[0..size), and whatever the input its outcome is consistent:
 * at most ADDRLIST_MAX domains, never more domains (returned or not)
 * than mailboxes, and every domain a NUL-terminated, lowercase,
 * plausible DNS name without a trailing dot.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/addrlist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_domain_ok - the invariant of one returned domain */
static int
fuzz_domain_ok(const char *d)
{
	size_t n = strnlen(d, ADDRLIST_DOMAIN_MAX), i, label = 0;

	if (n == 0 || n > 253 || d[n - 1] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		if (d[i] == '.') {
			if (label == 0)
				return 0;
			label = 0;
		} else if ((d[i] >= 'a' && d[i] <= 'z') ||
		    (d[i] >= '0' && d[i] <= '9') || d[i] == '-' ||
		    d[i] == '_') {
			if (++label > 63)
				return 0;
		} else {
			return 0;
		}
	}
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct addrlist al;
	char *copy = malloc(size > 0 ? size : 1);
	unsigned i;

	if (copy == NULL)
		return 0;
	/* an exact-size heap copy: one byte past it is an ASan report */
	memcpy(copy, data, size);
	addrlist_parse(copy, size, &al);
	free(copy);
	if (al.ndomain > ADDRLIST_MAX || al.ndomain > al.nmailbox ||
	    al.nodomain > al.nmailbox ||
	    (unsigned long)al.ndomain + al.nodomain > al.nmailbox ||
	    (al.syntax_error != 0 && al.syntax_error != 1))
		abort();
	for (i = 0; i < al.ndomain; i++)
		if (!fuzz_domain_ok(al.domain[i]))
			abort();
	return 0;
}
