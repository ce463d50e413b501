/*
 * fuzz_msgfile.c - fuzz target: splitting message text into header fields
 * and a CRLF body (smtpscope-eval's and the load generator's input).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msgfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct msgfile m;
	size_t i;

	if (msgfile_parse((const char *)data, size, &m) == 0) {
		for (i = 0; i < m.nhdr; i++)
			if (m.hdr[i].name == NULL || m.hdr[i].value == NULL ||
			    m.hdr[i].raw == NULL ||
			    strlen(m.hdr[i].raw) < strlen(m.hdr[i].value))
				abort();
		if (m.body_len > 0 && (m.body_len < 2 ||
		    memcmp(m.body + m.body_len - 2, "\r\n", 2) != 0))
			abort();
	}
	msgfile_free(&m);
	return 0;
}
