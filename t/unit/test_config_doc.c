/*
 * test_config_doc.c - docs/smtpscope.conf.5 must list exactly the key table.
 *
 * Each key appears in the man page as
 *	.TP
 *	.B Name
 *	(type; default: D; range: MIN..MAX)     or   values: a|b
 * and this test rebuilds that line from config_table[] for every key, and
 * fails on any key documented but not in the table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "tap.h"

/* doc_line - the parenthesised line the man page must carry for a key */
static void
doc_line(const struct config_key *k, char *out, size_t outsz)
{
	char range[600] = "";

	if (k->type == CONFIG_INT)
		snprintf(range, sizeof(range), "; range: %ld..%ld", k->min, k->max);
	else if (k->type == CONFIG_OCTAL)
		snprintf(range, sizeof(range), "; range: %#lo..%#lo", k->min, k->max);
	else if (k->type == CONFIG_ENUM)
		snprintf(range, sizeof(range), "; values: %s", k->choices);
	snprintf(out, outsz, "(%s; default: %s%s)", config_type_name(k->type),
	    k->defval != NULL ? k->defval : "none", range);
}

/* doc_find - the line after ".B name" following a .TP, or NULL */
static char *
doc_find(char **lines, int n, const char *name)
{
	char want[128];
	int i;

	snprintf(want, sizeof(want), ".B %s", name);
	for (i = 1; i + 1 < n; i++)
		if (strcmp(lines[i - 1], ".TP") == 0 && strcmp(lines[i], want) == 0)
			return lines[i + 1];
	return NULL;
}

int
main(void)
{
	const char *srcdir = getenv("top_srcdir");
	char path[1024], buf[2048], want[1024], *lines[4000], *got;
	int n = 0, i, documented = 0;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/docs/smtpscope.conf.5",
	    srcdir != NULL ? srcdir : "..");
	plan(CONFIG_NKEYS + 1);
	fp = fopen(path, "r");
	if (fp == NULL) {
		printf("# cannot open %s\n", path);
		return 1;
	}
	while (n < 4000 && fgets(buf, sizeof(buf), fp) != NULL) {
		buf[strcspn(buf, "\n")] = '\0';
		lines[n++] = strdup(buf);
	}
	fclose(fp);
	for (i = 0; i < CONFIG_NKEYS; i++) {
		doc_line(&config_table[i], want, sizeof(want));
		got = doc_find(lines, n, config_table[i].name);
		is_str(got, want, config_table[i].name);
	}
	for (i = 1; i < n; i++)
		if (strcmp(lines[i - 1], ".TP") == 0 &&
		    strncmp(lines[i], ".B ", 3) == 0 && i + 1 < n &&
		    lines[i + 1][0] == '(' && strstr(lines[i + 1], "default:"))
			documented++;
	is_int(documented, CONFIG_NKEYS, "the man page documents no key the table lacks");
	for (i = 0; i < n; i++)
		free(lines[i]);
	return done_testing();
}
