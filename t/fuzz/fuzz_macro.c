/*
 * fuzz_macro.c - fuzz target: macro normalisation on hostile values.
 *
 * The input is split at NUL bytes into values for the TLS and address
 * macros, as a hostile or broken MTA could send them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz_names[] = {
	"{tls_version}", "{cipher}", "{cipher_bits}", "{cert_subject}",
	"{cert_issuer}", "{verify}", "{cn_subject}", "{cn_issuer}", "{cert_md5}"
};
#define FUZZ_NNAMES (sizeof(fuzz_names) / sizeof(fuzz_names[0]))

static const char *fuzz_values[FUZZ_NNAMES];

static const char *
fuzz_get(void *arg, const char *name)
{
	size_t i;

	(void)arg;
	for (i = 0; i < FUZZ_NNAMES; i++)
		if (strcmp(fuzz_names[i], name) == 0)
			return fuzz_values[i];
	return NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), out[128];
	struct macro_src m = { fuzz_get, NULL };
	struct tls_info tls;
	size_t i, start = 0, k = 0;
	bool cut;
	int fam;

	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	memset(fuzz_values, 0, sizeof(fuzz_values));
	for (i = 0; i <= size && k < FUZZ_NNAMES; i++)
		if (copy[i] == '\0') {
			fuzz_values[k++] = copy + start;
			start = i + 1;
		}
	(void)macro_read_tls(&m, &tls, &cut);
	if (strlen(tls.subject) >= sizeof(tls.subject))
		abort();
	(void)macro_addr(copy, out, sizeof(out), &fam);
	(void)macro_xtext_decode(copy, out, sizeof(out), &cut);
	free(copy);
	return 0;
}
