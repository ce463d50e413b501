/*
 * fuzz_config.c - fuzz target: smtpscope.conf parser on arbitrary bytes.
 */
#include <stdint.h>
#include <stdio.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg;
	char err[CONFIG_ERR_MAX];
	FILE *fp;

	if (size == 0 || config_init(&cfg) != 0)
		return 0;
	fp = fmemopen((void *)data, size, "r");
	if (fp != NULL) {
		(void)config_load_stream(&cfg, fp, "fuzz.conf", err, sizeof(err));
		fclose(fp);
	}
	config_free(&cfg);
	return 0;
}
