/*
 * fuzz_pseudo.c - fuzz target: pseudonymization of hostile values. Every
 * mode of every group runs on the input; the output must be bounded,
 * valid UTF-8, and never the input itself unless the mode is keep.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "record/pseudo.h"
#include "text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NSETS	3

static struct pseudo *fuzz_p[FUZZ_NSETS];

/* fuzz_setup - a key file and three sets of modes, once */
static void
fuzz_setup(void)
{
	static const struct pseudo_modes m[FUZZ_NSETS] = {
		{ PSEUDO_HMAC, PSEUDO_HMAC, PSEUDO_HMAC, PSEUDO_HMAC },
		{ PSEUDO_PREFIX, PSEUDO_KEEP, PSEUDO_DROP, PSEUDO_KEEP },
		{ PSEUDO_TRUNCATE, PSEUDO_DROP, PSEUDO_KEEP, PSEUDO_DROP }
	};
	char path[] = "/tmp/fuzz_pseudo.XXXXXX", err[256];
	int fd, i;

	if (fuzz_p[0] != NULL)
		return;
	fd = mkstemp(path);	/* 0600 */
	if (fd < 0 || write(fd, "fuzzing-key-0123456789abcdef", 28) != 28)
		abort();
	close(fd);
	for (i = 0; i < FUZZ_NSETS; i++)
		if (pseudo_new(&fuzz_p[i], &m[i], path, err, sizeof(err)) != 0)
			abort();
	unlink(path);
}

/* fuzz_check - the output is NUL-terminated, bounded, valid UTF-8 */
static void
fuzz_check(bool kept, const char *out)
{
	char again[PSEUDO_OUT_MAX];
	bool cut = false;
	size_t n;

	if (!kept)
		return;
	n = strnlen(out, PSEUDO_OUT_MAX);
	if (n == PSEUDO_OUT_MAX)
		abort();
	if (text_clean(again, sizeof(again), out, n, &cut) != n || cut ||
	    memcmp(again, out, n) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char in[1024], out[PSEUDO_OUT_MAX];
	size_t n = size < sizeof(in) - 1 ? size : sizeof(in) - 1;
	int i;

	fuzz_setup();
	memcpy(in, data, n);
	in[n] = '\0';
	for (i = 0; i < FUZZ_NSETS; i++) {
		fuzz_check(pseudo_ip(fuzz_p[i], in, out, sizeof(out)), out);
		fuzz_check(pseudo_name(fuzz_p[i], in, out, sizeof(out)), out);
		fuzz_check(pseudo_addr(fuzz_p[i], in, out, sizeof(out)), out);
		fuzz_check(pseudo_msgid(fuzz_p[i], in, out, sizeof(out)), out);
	}
	return 0;
}
