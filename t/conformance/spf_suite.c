/*
 * spf_suite.c - the OpenSPF conformance suites (RFC 7208, RFC 4408) run
 * through lib/auth/spf.c and an in-memory zone of lib/dns, as TAP.
 *
 * Usage: spf_suite [SUITE.yml ...]; without arguments it runs
 * $top_srcdir/t/data/spf/rfc7208-tests.yml and rfc4408-tests.yml. Each
 * YAML document is a scenario (description, tests, zonedata); each test
 * is one TAP point named "SUITE SCENARIO: TEST". Cases listed in
 * t/data/spf/known-failures.txt ("SUITE SCENARIO: TEST" TAB reason) are
 * reported as TODO. The pass rate of each suite is printed at the end.
 *
 * Conventions of the suites' own driver (pyspf's testspf.py), followed:
 *  - an empty mailfrom checks the HELO identity (postmaster@HELO);
 *  - "SPF" records are also served as TXT when the name has no TXT entry
 *    ("TXT: NONE" suppresses that and serves nothing);
 *  - "TIMEOUT" at a name makes queries of types not listed there time
 *    out. lib/dns times out whole names, so a name that holds TXT, A, MX,
 *    PTR, AAAA or CNAME data besides TIMEOUT serves its data and answers
 *    NODATA for other types (only "spftimeout" has this, and only its
 *    TXT record is ever asked for, so the outcome is the same);
 *  - a test's explanation is compared when given; "DEFAULT" stands for
 *    no explanation;
 *  - YAML strings are code points; those below U+0100 are the bytes the
 *    suite means ("\xEF" is the byte 0xEF), as in the Python 2 driver.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "dns/dns.h"
#include "errors.h"
#include "auth/spf.h"
#include "known.h"

#define SUITE_RR_MAX	8192

static int tap_n, tap_failed;

/* node - a node of the document or NULL */
static yaml_node_t *
node(yaml_document_t *doc, int id)
{
	return id == 0 ? NULL : yaml_document_get_node(doc, id);
}

/* scalar - the text of a scalar node, or NULL */
static const char *
scalar(yaml_node_t *n)
{
	return n != NULL && n->type == YAML_SCALAR_NODE ?
	    (const char *)n->data.scalar.value : NULL;
}

/* map_get - the value of key in a mapping node */
static yaml_node_t *
map_get(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *p;
	const char *k;

	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	    p++) {
		k = scalar(node(doc, p->key));
		if (k != NULL && strcmp(k, key) == 0)
			return node(doc, p->value);
	}
	return NULL;
}

/* bytes_n - UTF-8 text (inlen bytes, NULs allowed) whose code points are
 * all below U+0100 as those bytes (into out, size outsz); other text
 * unchanged. Returns the length. */
static size_t
bytes_n(const char *in, size_t inlen, char *out, size_t outsz)
{
	const unsigned char *p = (const unsigned char *)in, *end = p + inlen;
	bool latin = true;
	size_t n = 0;

	while (p < end && latin) {
		if (*p < 0x80)
			p++;
		else if ((*p == 0xc2 || *p == 0xc3) && p + 1 < end &&
		    (p[1] & 0xc0) == 0x80)
			p += 2;
		else
			latin = false;
	}
	for (p = (const unsigned char *)in; p < end && n + 1 < outsz;) {
		if (latin && *p >= 0x80) {
			out[n++] = (char)(((p[0] & 0x03) << 6) | (p[1] & 0x3f));
			p += 2;
		} else {
			out[n++] = (char)*p++;
		}
	}
	out[n] = '\0';
	return n;
}

/* bytes - bytes_n for a C string */
static size_t
bytes(const char *in, char *out, size_t outsz)
{
	return bytes_n(in, strlen(in), out, outsz);
}

/* esc_name - a zone owner or target name in master-file syntax */
static void
esc_name(const char *in, char *out, size_t outsz)
{
	char raw[1024];
	size_t n = 0, i, len = bytes(in, raw, sizeof(raw));
	unsigned char ch;

	for (i = 0; i < len && n + 5 < outsz; i++) {
		ch = (unsigned char)raw[i];
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
		    ch == '.' || ch == '*' || ch == '/' || ch == '+' || ch == '=')
			out[n++] = (char)ch;
		else
			n += (size_t)snprintf(out + n, outsz - n, "\\%03u", ch);
	}
	if (n == 0 || out[n - 1] != '.')
		out[n++] = '.';
	out[n] = '\0';
}

/* esc_txt - one string of TXT data, split in quoted pieces of <= 255 */
static void
esc_txt(yaml_node_t *v, char *out, size_t outsz, size_t *used)
{
	char raw[8192];
	size_t n = *used, i, piece = 0, len = v == NULL ? 0 :
	    bytes_n((const char *)v->data.scalar.value, v->data.scalar.length,
	    raw, sizeof(raw));
	unsigned char ch;

	if (n + 4 >= outsz)
		return;
	out[n++] = ' ';
	out[n++] = '"';
	for (i = 0; i < len && n + 8 < outsz; i++) {
		if (piece == 255) {
			n += (size_t)snprintf(out + n, outsz - n, "\" \"");
			piece = 0;
		}
		ch = (unsigned char)raw[i];
		if (ch < 0x20 || ch > 0x7e || ch == '"' || ch == '\\')
			n += (size_t)snprintf(out + n, outsz - n, "\\%03u", ch);
		else
			out[n++] = (char)ch;
		piece++;
	}
	out[n++] = '"';
	out[n] = '\0';
	*used = n;
}

/* add_rr - one record into the zone; a diagnostic when it does not parse */
static void
add_rr(struct dns_resolver *r, const char *text)
{
	if (dns_zone_add(r, text) != SCOPE_OK)
		printf("# zone: cannot add '%s'\n", text);
}

/* add_txt - TXT or SPF data (a string or a list of strings) */
static void
add_txt(struct dns_resolver *r, const char *owner, const char *type,
    yaml_document_t *doc, yaml_node_t *v)
{
	char rr[SUITE_RR_MAX];
	yaml_node_item_t *it;
	size_t used;

	used = (size_t)snprintf(rr, sizeof(rr), "%s 3600 IN %s", owner, type);
	if (scalar(v) != NULL) {
		esc_txt(v, rr, sizeof(rr), &used);
	} else if (v != NULL && v->type == YAML_SEQUENCE_NODE) {
		for (it = v->data.sequence.items.start;
		    it < v->data.sequence.items.top; it++)
			if (scalar(node(doc, *it)) != NULL)
				esc_txt(node(doc, *it), rr, sizeof(rr), &used);
		if (v->data.sequence.items.start == v->data.sequence.items.top)
			esc_txt(NULL, rr, sizeof(rr), &used);	/* null text */
	}
	add_rr(r, rr);
}

/* add_entry - one "TYPE: value" of a name; returns whether it served data
 * (other than type SPF) and notes TXT entries */
static bool
add_entry(struct dns_resolver *r, const char *owner, yaml_document_t *doc,
    yaml_node_t *entry, bool gen_txt, bool *has_txt)
{
	yaml_node_pair_t *p = entry->data.mapping.pairs.start;
	yaml_node_t *v = node(doc, p->value), *a, *b;
	const char *type = scalar(node(doc, p->key)), *val = scalar(v);
	char rr[SUITE_RR_MAX], target[1100];

	if (type == NULL)
		return false;
	if (strcmp(type, "TXT") == 0)
		*has_txt = true;
	if (val != NULL && strcmp(val, "NONE") == 0)
		return false;
	if (strcmp(type, "SPF") == 0) {
		add_txt(r, owner, "SPF", doc, v);
		if (gen_txt)
			add_txt(r, owner, "TXT", doc, v);
		return gen_txt;
	}
	if (strcmp(type, "TXT") == 0) {
		add_txt(r, owner, "TXT", doc, v);
		return true;
	}
	if (strcmp(type, "MX") == 0 && v != NULL &&
	    v->type == YAML_SEQUENCE_NODE &&
	    v->data.sequence.items.top - v->data.sequence.items.start == 2) {
		a = node(doc, v->data.sequence.items.start[0]);
		b = node(doc, v->data.sequence.items.start[1]);
		if (scalar(a) == NULL || scalar(b) == NULL)
			return false;
		esc_name(scalar(b), target, sizeof(target));
		snprintf(rr, sizeof(rr), "%s 3600 IN MX %s %s", owner, scalar(a),
		    target);
		add_rr(r, rr);
		return true;
	}
	if (val == NULL)
		return false;
	if (strcmp(type, "PTR") == 0 || strcmp(type, "CNAME") == 0) {
		esc_name(val, target, sizeof(target));
		snprintf(rr, sizeof(rr), "%s 3600 IN %s %s", owner, type, target);
	} else {
		snprintf(rr, sizeof(rr), "%s 3600 IN %s %s", owner, type, val);
	}
	add_rr(r, rr);
	return true;
}

/* load_zone - a scenario's zonedata into a new resolver */
static struct dns_resolver *
load_zone(yaml_document_t *doc, yaml_node_t *zd)
{
	struct dns_resolver *r = NULL;
	yaml_node_pair_t *p;
	yaml_node_item_t *it;
	yaml_node_t *list, *e;
	char owner[1100];
	bool timeout, has_txt, served, gen_txt;

	if (dns_resolver_new_zones(&r, 2000) != SCOPE_OK)
		return NULL;
	if (zd == NULL || zd->type != YAML_MAPPING_NODE)
		return r;
	for (p = zd->data.mapping.pairs.start; p < zd->data.mapping.pairs.top;
	    p++) {
		if (scalar(node(doc, p->key)) == NULL)
			continue;
		esc_name(scalar(node(doc, p->key)), owner, sizeof(owner));
		list = node(doc, p->value);
		if (list == NULL || list->type != YAML_SEQUENCE_NODE)
			continue;
		gen_txt = true;	/* no TXT entry at all: serve SPF as TXT */
		for (it = list->data.sequence.items.start;
		    it < list->data.sequence.items.top; it++) {
			e = node(doc, *it);
			if (e != NULL && e->type == YAML_MAPPING_NODE &&
			    e->data.mapping.pairs.top > e->data.mapping.pairs.start &&
			    scalar(node(doc, e->data.mapping.pairs.start->key)) &&
			    strcmp(scalar(node(doc,
			    e->data.mapping.pairs.start->key)), "TXT") == 0)
				gen_txt = false;
		}
		timeout = has_txt = served = false;
		for (it = list->data.sequence.items.start;
		    it < list->data.sequence.items.top; it++) {
			e = node(doc, *it);
			if (scalar(e) != NULL && strcmp(scalar(e), "TIMEOUT") == 0)
				timeout = true;
			else if (e != NULL && e->type == YAML_MAPPING_NODE &&
			    e->data.mapping.pairs.top > e->data.mapping.pairs.start)
				served |= add_entry(r, owner, doc, e, gen_txt,
				    &has_txt);
		}
		if (timeout && !served)
			dns_zone_add_timeout(r, owner);
		else if (timeout)
			printf("# zone: %s holds data and TIMEOUT: data served, "
			    "no per-type timeout\n", owner);
	}
	return r;
}

/* result_ok - is got among the expected result(s)? */
static bool
result_ok(yaml_document_t *doc, yaml_node_t *want, const char *got)
{
	yaml_node_item_t *it;

	if (scalar(want) != NULL)
		return strcmp(scalar(want), got) == 0;
	if (want == NULL || want->type != YAML_SEQUENCE_NODE)
		return false;
	for (it = want->data.sequence.items.start;
	    it < want->data.sequence.items.top; it++)
		if (scalar(node(doc, *it)) != NULL &&
		    strcmp(scalar(node(doc, *it)), got) == 0)
			return true;
	return false;
}

/* want_text - the expected result(s) for a diagnostic */
static void
want_text(yaml_document_t *doc, yaml_node_t *want, char *out, size_t outsz)
{
	yaml_node_item_t *it;
	size_t n = 0;

	out[0] = '\0';
	if (scalar(want) != NULL) {
		snprintf(out, outsz, "%s", scalar(want));
		return;
	}
	if (want == NULL || want->type != YAML_SEQUENCE_NODE)
		return;
	for (it = want->data.sequence.items.start;
	    it < want->data.sequence.items.top && n < outsz; it++)
		n += (size_t)snprintf(out + n, outsz - n, "%s%s",
		    n > 0 ? "|" : "", scalar(node(doc, *it)) ?
		    scalar(node(doc, *it)) : "?");
}

/* SPF_SUITE_DUMP names a file that gets "NAME TAB RESULT TAB
 * EXPLANATION" per test (t/differential/spf-diff.sh) */
static FILE *dump;

/* run_test - one case; returns whether it passed */
static bool
run_test(struct spf_checker *c, struct dns_resolver *r, const char *name,
    yaml_document_t *doc, yaml_node_t *t)
{
	const char *host = scalar(map_get(doc, t, "host"));
	const char *helo = scalar(map_get(doc, t, "helo"));
	const char *from = scalar(map_get(doc, t, "mailfrom"));
	const char *exp = scalar(map_get(doc, t, "explanation"));
	yaml_node_t *want = map_get(doc, t, "result");
	const char *reason = known_reason(name), *got_exp;
	char b_helo[1024], b_from[1024], wants[128];
	struct spf_outcome out;
	struct dns_ctx ctx;
	bool pass;
	int rc;

	bytes(helo != NULL ? helo : "", b_helo, sizeof(b_helo));
	bytes(from != NULL ? from : "", b_from, sizeof(b_from));
	if (dns_ctx_init(&ctx, r) != SCOPE_OK)
		return false;
	if (b_from[0] == '\0')
		rc = spf_check_helo(c, &ctx, host, b_helo, &out);
	else
		rc = spf_check_mailfrom(c, &ctx, host, b_helo, b_from, &out);
	dns_ctx_free(&ctx);
	got_exp = out.explanation[0] != '\0' ? out.explanation : "DEFAULT";
	if (dump != NULL)	/* the differential tests compare these */
		fprintf(dump, "%s\t%s\t%s\n", name, spf_res_name(out.result),
		    got_exp);
	pass = rc == SCOPE_OK && result_ok(doc, want, spf_res_name(out.result)) &&
	    (exp == NULL || strcmp(exp, got_exp) == 0);
	tap_n++;
	printf("%s %d - %s%s%s\n", pass ? "ok" : "not ok", tap_n, name,
	    reason != NULL ? " # TODO " : "", reason != NULL ? reason : "");
	if (!pass) {
		want_text(doc, want, wants, sizeof(wants));
		printf("#   got %s (%s; mechanism '%s'; %u lookups)%s%s, want %s%s%s\n",
		    spf_res_name(out.result), out.reason, out.mechanism,
		    out.lookups, exp != NULL ? ", explanation " : "",
		    exp != NULL ? got_exp : "", wants,
		    exp != NULL ? ", explanation " : "", exp != NULL ? exp : "");
		if (reason == NULL)
			tap_failed++;
	}
	return pass;
}

/* run_suite - every scenario of one file; prints its pass rate later */
static int
run_suite(struct spf_checker *c, const char *path, const char *suite,
    int *passed, int *total)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root, *tests, *t;
	yaml_node_pair_t *p;
	struct dns_resolver *r;
	const char *desc, *tname;
	char name[512];
	FILE *fp = fopen(path, "rb");
	int rc = 0;

	*passed = *total = 0;
	if (fp == NULL) {
		printf("# cannot open %s\n", path);
		return -1;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, fp);
	for (;;) {
		if (!yaml_parser_load(&parser, &doc)) {
			printf("# %s: YAML error: %s\n", path,
			    parser.problem ? parser.problem : "?");
			rc = -1;
			break;
		}
		root = yaml_document_get_root_node(&doc);
		if (root == NULL) {
			yaml_document_delete(&doc);
			break;
		}
		desc = scalar(map_get(&doc, root, "description"));
		tests = map_get(&doc, root, "tests");
		r = load_zone(&doc, map_get(&doc, root, "zonedata"));
		for (p = tests != NULL && tests->type == YAML_MAPPING_NODE ?
		    tests->data.mapping.pairs.start : NULL;
		    p != NULL && p < tests->data.mapping.pairs.top; p++) {
			tname = scalar(node(&doc, p->key));
			t = node(&doc, p->value);
			snprintf(name, sizeof(name), "%s %s: %s", suite,
			    desc != NULL ? desc : "?", tname ? tname : "?");
			(*total)++;
			if (r != NULL && run_test(c, r, name, &doc, t))
				(*passed)++;
		}
		dns_resolver_free(r);
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
	fclose(fp);
	return rc;
}

int
main(int argc, char **argv)
{
	const char *top = getenv("top_srcdir");
	static const char *defaults[] = { "rfc7208-tests.yml", "rfc4408-tests.yml" };
	char path[1024], suite[64], rates[8][160];
	struct spf_checker *c;
	int i, n, passed, total, bad = 0, nrates = 0;
	const char *base, *dot;

	if (top == NULL)
		top = "..";
	snprintf(path, sizeof(path), "%s/t/data/spf/known-failures.txt", top);
	known_load(path);
	if (getenv("SPF_SUITE_DUMP") != NULL &&
	    (dump = fopen(getenv("SPF_SUITE_DUMP"), "w")) == NULL) {
		printf("1..0 # SKIP cannot write %s\n", getenv("SPF_SUITE_DUMP"));
		return 1;
	}
	if (spf_checker_new(&c) != SCOPE_OK) {
		printf("1..0 # SKIP cannot create the SPF checker\n");
		return 1;
	}
	n = argc > 1 ? argc - 1 : 2;
	for (i = 0; i < n; i++) {
		if (argc > 1)
			snprintf(path, sizeof(path), "%s", argv[i + 1]);
		else
			snprintf(path, sizeof(path), "%s/t/data/spf/%s", top,
			    defaults[i]);
		base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
		dot = strchr(base, '-');
		snprintf(suite, sizeof(suite), "%.*s",
		    (int)(dot ? dot - base : (long)strlen(base)), base);
		if (run_suite(c, path, suite, &passed, &total) != 0)
			bad++;
		if (nrates < 8)
			snprintf(rates[nrates++], sizeof(rates[0]),
			    "%s: %d of %d passed (%.1f%%)", suite, passed, total,
			    total > 0 ? 100.0 * passed / total : 0.0);
	}
	spf_checker_free(c);
	for (i = 0; i < nrates; i++)
		printf("# %s\n", rates[i]);
	printf("1..%d\n", tap_n);
	known_free();
	if (dump != NULL && fclose(dump) != 0)
		bad++;
	return bad == 0 && tap_failed == 0 ? 0 : 1;
}
