/*
 * psl-orgdomain.c - smtpscope's organizational domain (lib/auth/dmarceval.c,
 * RFC 7489 section 3.2) of every name on standard input, for the
 * differential test against libpsl (t/differential/run-psl.sh).
 *
 * Usage: psl-orgdomain PSL-FILE < names > results
 * Prints NAME<TAB>ORG per input line, ORG being "-" when smtpscope finds
 * no organizational domain (the name is not a domain name it accepts).
 * Lines are at most 1 KiB; longer ones are reported as "-".
 * Exit status: 0, or 1 when the list cannot be loaded.
 */
#include <stdio.h>
#include <string.h>

#include "auth/dmarceval.h"

int
main(int argc, char **argv)
{
	struct dmarceval *e;
	char line[1024], org[256], err[256];
	size_t n;

	if (argc != 2) {
		fprintf(stderr, "usage: psl-orgdomain PSL-FILE < names\n");
		return 2;
	}
	if (dmarceval_new(&e, argv[1], err, sizeof(err)) != 0) {
		fprintf(stderr, "psl-orgdomain: %s\n", err);
		return 1;
	}
	while (fgets(line, sizeof(line), stdin) != NULL) {
		n = strcspn(line, "\r\n");
		line[n] = '\0';
		if (dmarceval_org_domain(e, line, org, sizeof(org)) != 0)
			snprintf(org, sizeof(org), "-");
		printf("%s\t%s\n", line, org);
	}
	dmarceval_free(e);
	return 0;
}
