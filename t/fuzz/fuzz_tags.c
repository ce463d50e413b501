/*
 * fuzz_tags.c - fuzz target: the TagRules parser on arbitrary bytes, then
 * the rules (when they load) against fixed sessions, senders and
 * recipients, including hostile ones: must never crash or hang.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tags.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz_addrs[] = {
	"probe@example.org", "V6-1@IPv6.Example.NET", "<a@b.example.com>",
	"", "<>", "@", "a@", "x@y@z", "postmaster", "\xc3\xa9@\xff.example",
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab"
};

static const char *const fuzz_ips[][2] = {
	{ "192.0.2.1", "198.51.100.7" },
	{ "2001:db8::1", "2001:db8:1::7" },
	{ "[IPv6:::ffff:192.0.2.1]", "::ffff:203.0.113.200" },
	{ "garbage", "" },
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512], big[1000];
	struct tags_set s1, s2;
	struct tags *t = NULL;
	FILE *fp;
	size_t i;
	unsigned j;

	if (size == 0)
		return 0;
	fp = fmemopen((void *)data, size, "r");
	if (fp == NULL)
		return 0;
	if (tags_load_stream(&t, fp, "fuzz.rules", err, sizeof(err)) != 0) {
		fclose(fp);
		return 0;
	}
	fclose(fp);
	memset(&s1, 0, sizeof(s1));
	memset(&s2, 0, sizeof(s2));
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	big[500] = '@';
	for (i = 0; i < sizeof(fuzz_ips) / sizeof(fuzz_ips[0]); i++)
		tags_match_session(t, fuzz_ips[i][0], i == 0 ? 25 : 587,
		    fuzz_ips[i][1], &s1);
	tags_match_session(t, NULL, 0, NULL, &s1);
	for (i = 0; i < sizeof(fuzz_addrs) / sizeof(fuzz_addrs[0]); i++) {
		tags_match_sender(t, fuzz_addrs[i], &s1);
		tags_match_rcpt(t, fuzz_addrs[i], &s2);
	}
	tags_match_rcpt(t, big, &s2);
	tags_match_sender(t, big, &s2);
	tags_merge(&s1, &s2);
	for (j = 0; j < s1.n; j++)
		(void)strlen(tags_name(t, s1.idx[j]));
	(void)tags_greylist(t, &s1);
	(void)tags_greylist(t, &s2);
	tags_free(t);
	return 0;
}
