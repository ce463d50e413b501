/*
 * dkim_suite.c - the Mail::DKIM verifier corpus run through lib/msgfile
 * and lib/dkimverify with an in-memory zone, as TAP.
 *
 * Data: $srcdir/data/dkim/mail-dkim (or $top_srcdir/t/data/...): corpus/
 * messages, FAKE_DNS.dat (the key records), expected.tsv (overall result
 * per message), expected_strict.tsv (the same under Mail::DKIM's Strict
 * mode) and expected_signatures.tsv (per signature).
 *
 * Each message is read with msgfile_load() and handed over with the raw
 * header values. The overall result follows Mail::DKIM: "pass" if any
 * signature passes, else "fail" if any fails, else "invalid"; "none"
 * without DKIM signatures. Our policy, neutral, permerror and temperror
 * all count as "invalid" there. expected.tsv and expected_signatures.tsv
 * are compared with the lenient options (allow_sha1, min_key_bits 0,
 * as Mail::DKIM's default mode), expected_strict.tsv with the defaults
 * (RFC 8301: no rsa-sha1, 1024-bit RSA minimum).
 *
 * FAKE_DNS.dat: "name TXT-data" lines become TXT records (split into
 * 255-byte strings); "NXDOMAIN" adds nothing; "~~Query timed out~~" is
 * dns_zone_add_timeout(); "~~SERVFAIL~~" sets the name's DNSSEC status to
 * "error", for which lib/dns answers SERVFAIL.
 *
 * One TAP point per row, named "lenient FILE", "strict FILE" or
 * "signature FILE #N". A disagreement listed in
 * t/data/dkim/known-differences.txt (that name, TAB, reason) is TODO; any
 * other fails. The agreement of each mode is printed at the end.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/dkimverify.h"
#include "dns/dns.h"
#include "errors.h"
#include "msgfile.h"
#include "known.h"


struct tally {
	unsigned rows, agree, todo;
};

static int tap_n, tap_failed;
static char datadir[1024];

/* chomp - strip trailing white space */
static void
chomp(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
}

/* zone_txt - one TXT record, split into 255-byte quoted strings */
static void
zone_txt(struct dns_resolver *r, const char *name, const char *value)
{
	char rr[16384];
	size_t n, len = strlen(value), off = 0, k;

	n = (size_t)snprintf(rr, sizeof(rr), "%s. 300 IN TXT", name);
	do {
		rr[n++] = ' ';
		rr[n++] = '"';
		for (k = 0; off < len && k < 255 && n < sizeof(rr) - 8;
		    k++, off++) {
			if (value[off] == '"' || value[off] == '\\')
				rr[n++] = '\\';
			rr[n++] = value[off];
		}
		rr[n++] = '"';
	} while (off < len && n < sizeof(rr) - 300);
	rr[n] = '\0';
	if (dns_zone_add(r, rr) != 0)
		printf("# zone: cannot add '%s'\n", rr);
}

/* zone_load - FAKE_DNS.dat into an in-memory zone */
static struct dns_resolver *
zone_load(const char *path)
{
	struct dns_resolver *r;
	char line[8192], *name, *data;
	size_t n;
	FILE *fp = fopen(path, "r");

	if (fp == NULL || dns_resolver_new_zones(&r, 2000) != 0) {
		if (fp != NULL)
			fclose(fp);
		return NULL;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		chomp(line);
		if (line[0] == '#' || line[0] == '\0')
			continue;
		name = line;
		data = name + strcspn(name, " \t");
		if (*data != '\0')
			*data++ = '\0';
		data += strspn(data, " \t");
		if (strcmp(data, "NXDOMAIN") == 0)
			continue;
		if (strcmp(data, "~~Query timed out~~") == 0) {
			dns_zone_add_timeout(r, name);
			continue;
		}
		if (strcmp(data, "~~SERVFAIL~~") == 0) {
			dns_zone_set_sec(r, name, DNS_SEC_ERROR);
			continue;
		}
		n = strlen(data);
		if (n >= 2 && data[0] == '"' && data[n - 1] == '"') {
			data[n - 1] = '\0';
			data++;
		}
		zone_txt(r, name, data);
	}
	fclose(fp);
	return r;
}

/* word - our result as Mail::DKIM's word */
static const char *
word(enum dkimverify_res res)
{
	switch (res) {
	case DKIMVERIFY_PASS:
		return "pass";
	case DKIMVERIFY_FAIL:
		return "fail";
	case DKIMVERIFY_NONE:
		return "none";
	default:
		return "invalid";
	}
}

/* run_file - verify one corpus message; 0 or an error */
static int
run_file(struct dkimverify *v, struct dns_resolver *r, const char *file,
    struct dkimverify_outcome *out)
{
	char path[2048];
	struct msgfile mf;
	struct dkimverify_msg *m;
	struct dns_ctx dc;
	size_t i, off;
	int rc;

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "%s/corpus/%s", datadir, file);
	if (msgfile_load(path, &mf) != 0) {
		msgfile_free(&mf);
		return SCOPE_EIO;
	}
	if ((m = dkimverify_msg_new(v)) == NULL || dns_ctx_init(&dc, r) != 0) {
		dkimverify_msg_free(m);
		msgfile_free(&mf);
		return SCOPE_ENOMEM;
	}
	for (i = 0; i < mf.nhdr; i++)
		dkimverify_msg_header(m, mf.hdr[i].name, mf.hdr[i].raw);
	dkimverify_msg_eoh(m);
	for (off = 0; off < mf.body_len; off += 1000)
		dkimverify_msg_body(m, (const unsigned char *)mf.body + off,
		    mf.body_len - off < 1000 ? mf.body_len - off : 1000);
	rc = dkimverify_msg_eom(m, &dc, out);
	dkimverify_msg_free(m);
	dns_ctx_free(&dc);
	msgfile_free(&mf);
	return rc;
}

/* overall - Mail::DKIM's result over all signatures */
static const char *
overall(const struct dkimverify_outcome *out)
{
	bool fail = false;
	unsigned i;

	if (out->nsig == 0)
		return "none";
	for (i = 0; i < out->nsig; i++) {
		if (out->sig[i].result == DKIMVERIFY_PASS)
			return "pass";
		fail = fail || out->sig[i].result == DKIMVERIFY_FAIL;
	}
	return fail ? "fail" : "invalid";
}

/* details - every signature's result and reason, as a diagnostic */
static void
details(const struct dkimverify_outcome *out)
{
	unsigned i;

	for (i = 0; i < out->nsig; i++)
		printf("#   sig %u: %s (%s) d=%s s=%s a=%s bits=%d\n", i + 1,
		    dkimverify_res_name(out->sig[i].result), out->sig[i].reason,
		    out->sig[i].domain, out->sig[i].selector,
		    out->sig[i].algorithm, out->sig[i].key_bits);
	if (out->error[0] != '\0')
		printf("#   message: %s\n", out->error);
}

/* report - one TAP point */
static void
report(struct tally *t, const char *name, const char *got, const char *want,
    const struct dkimverify_outcome *out)
{
	bool same = strcmp(got, want) == 0;
	const char *reason = known_reason(name);

	tap_n++;
	t->rows++;
	t->agree += same;
	if (!same && reason != NULL)
		t->todo++;
	if (!same && reason == NULL)
		tap_failed++;
	printf("%s %d - %s: got %s, want %s%s%s\n", same ? "ok" : "not ok",
	    tap_n, name, got, want, reason != NULL ? " # TODO " : "",
	    reason != NULL ? reason : "");
	if (!same && out != NULL)
		details(out);
}

/* run_tsv - every row of an overall-result table */
static void
run_tsv(const char *table, const char *mode, struct dkimverify *v,
    struct dns_resolver *r, struct tally *t)
{
	char path[2048], line[4096], name[4200], *file, *want, *tab;
	struct dkimverify_outcome out;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", datadir, table);
	if ((fp = fopen(path, "r")) == NULL) {
		printf("# cannot open %s\n", path);
		tap_failed++;
		return;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		chomp(line);
		if (line[0] == '#' || (tab = strchr(line, '\t')) == NULL)
			continue;
		*tab = '\0';
		file = line;
		want = tab + 1;
		if ((tab = strchr(want, '\t')) != NULL)
			*tab = '\0';
		snprintf(name, sizeof(name), "%s %s", mode, file);
		if (run_file(v, r, file, &out) != 0) {
			report(t, name, "error", want, NULL);
			continue;
		}
		report(t, name, overall(&out), want, &out);
		dkimverify_outcome_free(&out);
	}
	fclose(fp);
}

/* run_sigs - expected_signatures.tsv: file, index, result, note */
static void
run_sigs(struct dkimverify *v, struct dns_resolver *r, struct tally *t)
{
	char path[2048], line[4096], name[4200], *f[3], *tab;
	struct dkimverify_outcome out;
	const char *got;
	unsigned idx;
	int i;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/expected_signatures.tsv", datadir);
	if ((fp = fopen(path, "r")) == NULL) {
		printf("# cannot open %s\n", path);
		tap_failed++;
		return;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		chomp(line);
		if (line[0] == '#')
			continue;
		f[0] = line;
		for (i = 1; i < 3; i++) {
			tab = strchr(f[i - 1], '\t');
			if (tab == NULL)
				break;
			*tab = '\0';
			f[i] = tab + 1;
		}
		if (i < 3)
			continue;
		if ((tab = strchr(f[2], '\t')) != NULL)
			*tab = '\0';
		idx = (unsigned)atoi(f[1]);
		snprintf(name, sizeof(name), "signature %s #%u", f[0], idx);
		if (run_file(v, r, f[0], &out) != 0) {
			report(t, name, "error", f[2], NULL);
			continue;
		}
		got = idx >= 1 && idx <= out.nsig ?
		    word(out.sig[idx - 1].result) : "absent";
		if (strcmp(f[2], "(not asserted)") == 0)
			report(t, name, f[2], f[2], NULL);	/* ran: no crash */
		else
			report(t, name, got, f[2], &out);
		dkimverify_outcome_free(&out);
	}
	fclose(fp);
}

int
main(void)
{
	struct dkimverify_options lenient = { DKIMVERIFY_SIGS_DEFAULT, 0, true };
	struct dkimverify_options strict = { DKIMVERIFY_SIGS_DEFAULT, 1024,
	    false };
	struct tally tl = { 0, 0, 0 }, ts = { 0, 0, 0 }, tg = { 0, 0, 0 };
	struct dkimverify *vl, *vs;
	struct dns_resolver *r;
	const char *src = getenv("srcdir"), *top = getenv("top_srcdir");
	char path[2048], err[128];

	if (src != NULL)
		snprintf(datadir, sizeof(datadir), "%s/data/dkim", src);
	else if (top != NULL)
		snprintf(datadir, sizeof(datadir), "%s/t/data/dkim", top);
	else
		snprintf(datadir, sizeof(datadir), "t/data/dkim");
	snprintf(path, sizeof(path), "%s/known-differences.txt", datadir);
	known_load(path);
	strncat(datadir, "/mail-dkim", sizeof(datadir) - strlen(datadir) - 1);
	snprintf(path, sizeof(path), "%s/FAKE_DNS.dat", datadir);
	if ((r = zone_load(path)) == NULL) {
		printf("1..0 # SKIP cannot read %s\n", path);
		return 0;
	}
	if (dkimverify_new(&vl, &lenient, err, sizeof(err)) != 0 ||
	    dkimverify_new(&vs, &strict, err, sizeof(err)) != 0) {
		printf("Bail out! dkimverify_new: %s\n", err);
		return 1;
	}
	run_tsv("expected.tsv", "lenient", vl, r, &tl);
	run_tsv("expected_strict.tsv", "strict", vs, r, &ts);
	run_sigs(vl, r, &tg);
	printf("1..%d\n", tap_n);
	printf("# agreement: %u/%u (lenient, expected.tsv), %u/%u (strict, "
	    "expected_strict.tsv), %u/%u (signatures, "
	    "expected_signatures.tsv); documented differences: %u, %u, %u\n",
	    tl.agree, tl.rows, ts.agree, ts.rows, tg.agree, tg.rows, tl.todo,
	    ts.todo, tg.todo);
	dkimverify_free(vl);
	dkimverify_free(vs);
	dns_resolver_free(r);
	known_free();
	return tap_failed == 0 ? 0 : 1;
}
