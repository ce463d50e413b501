/*
 * fuzz_util.h - set-up shared by fuzz targets: a pseudonymization set
 * with a fixed key, tag rules from a string. Both abort on failure (a
 * broken set-up is not a finding).
 */
#ifndef SMTPSCOPE_FUZZ_UTIL_H
#define SMTPSCOPE_FUZZ_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "record/pseudo.h"
#include "tags.h"

/* fuzz_pseudo_new - pseudonymization in modes m, keyed from a temp file */
static inline struct pseudo *
fuzz_pseudo_new(const struct pseudo_modes *m)
{
	char path[] = "/tmp/fuzz_pseudo.XXXXXX", err[256];
	struct pseudo *p = NULL;
	int fd = mkstemp(path);	/* 0600 */

	if (fd < 0 || write(fd, "fuzzing-key-0123456789abcdef", 28) != 28)
		abort();
	close(fd);
	if (pseudo_new(&p, m, path, err, sizeof(err)) != 0)
		abort();
	unlink(path);
	return p;
}

/* fuzz_tags_new - tag rules from len bytes of text */
static inline struct tags *
fuzz_tags_new(const char *rules, size_t len)
{
	FILE *fp = fmemopen((void *)rules, len, "r");
	struct tags *t = NULL;
	char err[256];

	if (fp == NULL || tags_load_stream(&t, fp, "rules", err,
	    sizeof(err)) != 0)
		abort();
	fclose(fp);
	return t;
}

#endif
