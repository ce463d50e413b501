/*
 * macros_fake.h - a struct macro_src over a NULL-terminated name/value list,
 * for tests that play the MTA.
 */
#ifndef SMTPSCOPE_MACROS_FAKE_H
#define SMTPSCOPE_MACROS_FAKE_H

#include <string.h>

#include "macro.h"

static inline const char *
fake_get(void *arg, const char *name)
{
	const char *const *kv = arg;

	for (; kv[0] != NULL; kv += 2)
		if (strcmp(kv[0], name) == 0)
			return kv[1];
	return NULL;
}

static inline struct macro_src
fake_src(const char *const *kv)
{
	struct macro_src m = { fake_get, (void *)kv };

	return m;
}

#endif
