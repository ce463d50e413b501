/*
 * known.c - the documented disagreements of a conformance suite. Owns the
 * copies of names and reasons (known_free).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "known.h"

struct known {
	char *name;
	char *reason;
};

static struct known known[KNOWN_MAX];
static int nknown;

/* known_load - name TAB reason per line; '#' comments, blank lines */
void
known_load(const char *path)
{
	char line[1024], *tab;
	FILE *fp = fopen(path, "r");

	if (fp == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL && nknown < KNOWN_MAX) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || (tab = strchr(line, '\t')) == NULL)
			continue;
		*tab = '\0';
		known[nknown].name = strdup(line);
		known[nknown].reason = strdup(tab + 1);
		nknown++;
	}
	fclose(fp);
}

/* known_reason - why a case is allowed to disagree, or NULL */
const char *
known_reason(const char *name)
{
	int i;

	for (i = 0; i < nknown; i++)
		if (known[i].name != NULL && strcmp(known[i].name, name) == 0)
			return known[i].reason;
	return NULL;
}

/* known_free - release every copy */
void
known_free(void)
{
	int i;

	for (i = 0; i < nknown; i++) {
		free(known[i].name);
		free(known[i].reason);
	}
	nknown = 0;
}
