/*
 * metrics_value.h - one series of the metrics exposition, read back by
 * the unit tests that check what lib/metrics.c counted.
 */
#ifndef SMTPSCOPE_METRICS_VALUE_H
#define SMTPSCOPE_METRICS_VALUE_H

#include <stdlib.h>
#include <string.h>

#include "metrics.h"

/* metrics_value - the value of the series named exactly so, -1 when the
 * exposition has none, -2 when it could not be rendered */
static inline long long
metrics_value(const char *series)
{
	char *text, *p, *line;
	size_t len, n = strlen(series);
	long long v = -1;

	if (metrics_render(&text, &len) != 0)
		return -2;
	for (p = text; (line = strsep(&p, "\n")) != NULL;)
		if (strncmp(line, series, n) == 0 && line[n] == ' ')
			v = atoll(line + n + 1);
	free(text);
	return v;
}

#endif
