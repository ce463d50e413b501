/*
 * dmarceval.c - DMARC (RFC 7489) for one message, with libopendmarc.
 *
 * What each part does, and who does it:
 *  - From: addrlist_parse() of the one From header; several headers,
 *    several domains, or a mailbox without a usable domain is permerror.
 *  - Record discovery (§6.6.3): TXT at _dmarc.<From domain>, else at
 *    _dmarc.<organizational domain>, through lib/dns so the DNSSEC status
 *    is known and the lookups are logged and bounded. Only records that
 *    start with "v=DMARC1" count; two or more is "none"; a DNS failure is
 *    temperror. libopendmarc parses the record (store_dmarc) and we read
 *    p, sp, pct, adkim and aspf back.
 *  - Organizational domains (§3.2) come from our own reading of the
 *    public suffix list file, not from libopendmarc's opendmarc_get_tld():
 *    in 1.4.2 that function leaves its output untouched for a name under
 *    a TLD that is not in the list (sec.test), gets wildcard rules wrong
 *    (b.a.ck -> a.ck, a.b.kawasaki.jp -> b.kawasaki.jp) and is not even
 *    declared in <opendmarc/dmarc.h>. libopendmarc is still initialised
 *    with the same file (OPENDMARC_TLD_TYPE_MOZILLA), once per process.
 *    Internationalized names are compared as A-labels: the list's rules
 *    in U-labels (公司.cn, *.kawasaki.jp's IDN siblings) are converted
 *    once at load, and a name with U-labels is converted before the
 *    rules apply (libidn2, IDNA2008 with the UTS #46 non-transitional
 *    mapping, as libpsl does); the organizational domain is always
 *    given in A-labels, the form DNS lookups and alignment use. A name
 *    libidn2 refuses has no organizational domain.
 *  - Alignment (§3.1) is computed here, over every DKIM signature, and
 *    libopendmarc is never given DKIM or SPF results. Its
 *    opendmarc_policy_store_dkim() keeps only one DKIM result per
 *    context, and whether a later call replaces the stored one depends on
 *    the results and domains of the calls made so far, so the verdict of
 *    opendmarc_get_policy_to_enforce() can depend on the order of the
 *    signatures (a later unaligned or failing one hiding an aligned pass,
 *    or the reverse). Here, dkim_aligned is true exactly
 *    when SOME signature with result pass has a d= aligned with the From
 *    domain; other signatures are never looked at, so their number,
 *    results and order cannot matter. Only MAIL FROM SPF is an input.
 *  - pct (§6.6.4) is a draw with arc4random_uniform(); a failing message
 *    the draw leaves out keeps disposition none (pct_sampled_out).
 *
 * Owns: struct dmarceval (the suffix rules); per check, one libopendmarc
 * policy context, freed before returning.
 * Fails: dmarceval_new on an unreadable or empty list, one that is not a
 * regular file of at most DMARCEVAL_FILE_MAX bytes, or one with a line
 * that is no public suffix rule (message in err, naming the line);
 * dmarceval_check only on ENOMEM. Everything about the message or the
 * DNS is a result (none, pass, fail, temperror, permerror).
 */
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include <idn2.h>
#include <opendmarc/dmarc.h>

#include "auth/addrlist.h"
#include "auth/dmarceval.h"
#include "errors.h"
#include "text.h"

#ifndef PSL_DEFAULT
#define PSL_DEFAULT	"/usr/share/publicsuffix/public_suffix_list.dat"
#endif

#define DMARCEVAL_RECORD_MAX	2048	/* longer records are permerror */
#define DMARCEVAL_LINE_MAX	1024	/* bytes of a list line */
#define DMARCEVAL_FILE_MAX	(16 << 20)	/* bytes of the list */
#define DMARCEVAL_RULES_MAX	200000	/* sanity cap on the list */
#define DMARCEVAL_LABELS_MAX	128	/* 253 characters: 127 labels */

struct dmarceval {
	char **rules;		/* sorted, lowercase: "co.uk" "*.ck" "!www.ck" */
	size_t nrules;
};

/* libopendmarc's state is global: initialised by the first dmarceval_new,
 * shut down with the last dmarceval_free */
static pthread_mutex_t dmarceval_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned dmarceval_users;
static OPENDMARC_LIB_T dmarceval_lib;

enum dmarceval_fetch {
	FETCH_NONE,		/* no DMARC record (NXDOMAIN, none that counts) */
	FETCH_FOUND,
	FETCH_SEVERAL,		/* two or more: §6.6.3 says none */
	FETCH_TOOLONG,		/* one record, over DMARCEVAL_RECORD_MAX */
	FETCH_TEMP		/* timeout, SERVFAIL, bogus, other rcode */
};

static const char *const dmarceval_res_names[] = {
	"none", "pass", "fail", "temperror", "permerror"
};
static const char *const dmarceval_disp_names[] = {
	"none", "quarantine", "reject"
};

/* dmarceval_res_name - RFC 8601 name of a result */
const char *
dmarceval_res_name(enum dmarceval_res r)
{
	if ((unsigned)r >= sizeof(dmarceval_res_names) /
	    sizeof(dmarceval_res_names[0]))
		return "permerror";
	return dmarceval_res_names[r];
}

/* dmarceval_disp_name - "none", "quarantine", "reject" */
const char *
dmarceval_disp_name(enum dmarceval_disp d)
{
	if ((unsigned)d >= sizeof(dmarceval_disp_names) /
	    sizeof(dmarceval_disp_names[0]))
		return "none";
	return dmarceval_disp_names[d];
}

/* dmarceval_cmp - qsort/bsearch over rule strings */
static int
dmarceval_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* dmarceval_has - is this exact rule in the list? */
static bool
dmarceval_has(const struct dmarceval *e, const char *rule)
{
	return bsearch(&rule, e->rules, e->nrules, sizeof(e->rules[0]),
	    dmarceval_cmp) != NULL;
}

/* dmarceval_has_8bit - does a string have a byte outside ASCII? */
static bool
dmarceval_has_8bit(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return true;
	return false;
}

/* dmarceval_alabel - a UTF-8 name in A-labels (malloc'ed, the caller
 * frees with idn2_free), or NULL when libidn2 refuses it */
static char *
dmarceval_alabel(const char *utf8)
{
	char *out = NULL;

	if (idn2_to_ascii_8z(utf8, &out, IDN2_NFC_INPUT |
	    IDN2_NONTRANSITIONAL) != IDN2_OK) {
		idn2_free(out);
		return NULL;
	}
	return out;
}

/* dmarceval_rule_alabel - a rule as stored (strdup'ed): in A-labels
 * after its "!" or "*." when it has U-labels (a rule libidn2 refuses
 * stays as written, and so matches no name); NULL on ENOMEM */
static char *
dmarceval_rule_alabel(const char *rule)
{
	size_t pre = rule[0] == '!' ? 1 : strncmp(rule, "*.", 2) == 0 ? 2 : 0;
	char *a, *out;
	size_t n;

	if (!dmarceval_has_8bit(rule) || (a = dmarceval_alabel(rule + pre)) ==
	    NULL)
		return strdup(rule);
	n = pre + strlen(a) + 1;
	if ((out = malloc(n)) != NULL)
		snprintf(out, n, "%.*s%s", (int)pre, rule, a);
	idn2_free(a);
	return out;
}

/* dmarceval_rule_ok - a public suffix rule: an optional '!', then
 * labels of letters, digits, '-', '_', '*' or UTF-8 bytes (IDN rules are
 * listed in Unicode), separated by single dots */
static bool
dmarceval_rule_ok(const char *rule)
{
	const unsigned char *p = (const unsigned char *)rule;
	size_t label = 0;

	if (*p == '!')
		p++;
	for (; *p != '\0'; p++) {
		if (*p == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (isalnum(*p) || *p == '-' || *p == '_' || *p == '*' ||
		    *p >= 0x80) {
			label++;
		} else {
			return false;
		}
	}
	return label > 0;
}

/* dmarceval_add - keep one rule (grown array, at most RULES_MAX) */
static int
dmarceval_add(struct dmarceval *e, const char *rule, size_t *cap)
{
	char **grown;

	if (e->nrules == *cap) {
		if (*cap >= DMARCEVAL_RULES_MAX)
			return SCOPE_ETOOBIG;
		*cap = *cap == 0 ? 8192 : *cap * 2;
		grown = realloc(e->rules, *cap * sizeof(*grown));
		if (grown == NULL)
			return SCOPE_ENOMEM;
		e->rules = grown;
	}
	if ((e->rules[e->nrules] = dmarceval_rule_alabel(rule)) == NULL)
		return SCOPE_ENOMEM;
	e->nrules++;
	return SCOPE_OK;
}

/* dmarceval_load_lines - the first word of each line that is not a
 * comment, lowercased, each a valid rule; err names the line */
static int
dmarceval_load_lines(struct dmarceval *e, FILE *fp, const char *path,
    char *err, size_t errsz)
{
	char line[DMARCEVAL_LINE_MAX], *s, *end;
	const char *why = NULL;
	unsigned n = 0;
	size_t cap = 0;
	int rc;

	while ((rc = text_read_line(fp, line, sizeof(line), &why)) == 1) {
		n++;
		for (s = line; *s == ' ' || *s == '\t'; s++)
			;
		if (s[0] == '\0' || (s[0] == '/' && s[1] == '/'))
			continue;
		for (end = s; *end != '\0' && !isspace((unsigned char)*end);
		    end++)
			*end = (char)tolower((unsigned char)*end);
		*end = '\0';
		if (!dmarceval_rule_ok(s)) {
			snprintf(err, errsz, "%s:%u: not a public suffix rule "
			    "(not a public suffix list?)", path, n);
			return SCOPE_EINVAL;
		}
		if ((rc = dmarceval_add(e, s, &cap)) == SCOPE_ETOOBIG) {
			snprintf(err, errsz, "%s: more than %d rules", path,
			    DMARCEVAL_RULES_MAX);
			return rc;
		}
		if (rc != SCOPE_OK) {
			snprintf(err, errsz, "%s: out of memory", path);
			return rc;
		}
	}
	if (rc < 0)
		snprintf(err, errsz, "%s:%u: %s", path, n + 1, why);
	return rc;
}

/* dmarceval_load - read the rules of a public suffix list: a regular
 * file of at most DMARCEVAL_FILE_MAX bytes whose every line is a
 * comment, blank or a valid rule, with at least one rule */
static int
dmarceval_load(struct dmarceval *e, const char *path, char *err,
    size_t errsz)
{
	const char *why;
	FILE *fp;
	int rc;

	rc = text_file_open(path, DMARCEVAL_FILE_MAX, &fp, &why);
	if (rc == SCOPE_ETOOBIG)
		snprintf(err, errsz, "%s: over %d bytes", path,
		    DMARCEVAL_FILE_MAX);
	else if (rc != SCOPE_OK)
		snprintf(err, errsz, "%s: %s", path, why);
	if (rc != SCOPE_OK)
		return rc;
	rc = dmarceval_load_lines(e, fp, path, err, errsz);
	fclose(fp);
	if (rc == SCOPE_OK && e->nrules == 0) {
		snprintf(err, errsz, "%s: no public suffix rules", path);
		rc = SCOPE_EINVAL;
	}
	if (rc == SCOPE_OK)
		qsort(e->rules, e->nrules, sizeof(e->rules[0]), dmarceval_cmp);
	return rc;
}

/* dmarceval_rules_free - release the rules and the struct */
static void
dmarceval_rules_free(struct dmarceval *e)
{
	size_t i;

	for (i = 0; i < e->nrules; i++)
		free(e->rules[i]);
	free(e->rules);
	free(e);
}

/* dmarceval_free - release the rules; the last one shuts libopendmarc */
void
dmarceval_free(struct dmarceval *e)
{
	if (e == NULL)
		return;
	dmarceval_rules_free(e);
	pthread_mutex_lock(&dmarceval_lock);
	if (dmarceval_users > 0 && --dmarceval_users == 0)
		(void)opendmarc_policy_library_shutdown(&dmarceval_lib);
	pthread_mutex_unlock(&dmarceval_lock);
}

/* dmarceval_new - load the public suffix list (NULL: built-in default) */
int
dmarceval_new(struct dmarceval **out, const char *psl_path, char *err,
    size_t errsz)
{
	struct dmarceval *e;
	int rc;

	*out = NULL;
	if (errsz > 0)
		err[0] = '\0';
	if (psl_path == NULL)
		psl_path = PSL_DEFAULT;
	if (strlen(psl_path) >= sizeof(dmarceval_lib.tld_source_file)) {
		snprintf(err, errsz, "%s: path too long", psl_path);
		return SCOPE_ETOOBIG;
	}
	e = calloc(1, sizeof(*e));
	if (e == NULL) {
		snprintf(err, errsz, "out of memory");
		return SCOPE_ENOMEM;
	}
	rc = dmarceval_load(e, psl_path, err, errsz);
	if (rc != SCOPE_OK) {
		dmarceval_rules_free(e);
		return rc;
	}
	pthread_mutex_lock(&dmarceval_lock);
	if (dmarceval_users == 0) {
		memset(&dmarceval_lib, 0, sizeof(dmarceval_lib));
		dmarceval_lib.tld_type = OPENDMARC_TLD_TYPE_MOZILLA;
		memcpy(dmarceval_lib.tld_source_file, psl_path,
		    strlen(psl_path) + 1);
		if (opendmarc_policy_library_init(&dmarceval_lib) != 0) {
			pthread_mutex_unlock(&dmarceval_lock);
			snprintf(err, errsz, "%s: libopendmarc cannot load it",
			    psl_path);
			dmarceval_rules_free(e);
			return SCOPE_EINVAL;
		}
	}
	dmarceval_users++;
	pthread_mutex_unlock(&dmarceval_lock);
	*out = e;
	return SCOPE_OK;
}

/* dmarceval_norm - a lowercase copy of a plausible DNS name without its
 * trailing dot (labels 1..63 of letters, digits, '-', '_'; at most 253
 * characters), U-labels turned into A-labels first; false when it is
 * not one */
static bool
dmarceval_norm(const char *in, char *out, size_t outsz)
{
	size_t n = strlen(in), i, label = 0;
	char *a;
	bool ok;

	if (dmarceval_has_8bit(in)) {	/* U-labels: their A-labels */
		if (n > 1024 || (a = dmarceval_alabel(in)) == NULL)
			return false;
		ok = !dmarceval_has_8bit(a) && dmarceval_norm(a, out, outsz);
		idn2_free(a);
		return ok;
	}

	if (n > 0 && in[n - 1] == '.')
		n--;
	if (n == 0 || n > 253 || n >= outsz)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (isalnum(c) || c == '-' || c == '_') {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
		out[i] = (char)tolower(c);
	}
	out[n] = '\0';
	return label > 0;
}

/* dmarceval_org_domain - the organizational domain of a name (§3.2):
 * the public suffix by the list's rules (exceptions first, then the
 * longest normal or wildcard match, else the implicit "*" rule: the TLD)
 * plus one label. A name that is itself a public suffix (co.uk, or a.ck
 * under *.ck) has no such label: its organizational domain is itself. */
int
dmarceval_org_domain(const struct dmarceval *e, const char *domain,
    char *out, size_t outsz)
{
	char d[256], probe[258];
	size_t off[DMARCEVAL_LABELS_MAX], n = 0, k, ps = 0, exc = 0, i, len;
	const char *org;

	if (e == NULL || domain == NULL || !dmarceval_norm(domain, d,
	    sizeof(d)))
		return SCOPE_EINVAL;
	off[n++] = 0;
	for (i = 0; d[i] != '\0'; i++)
		if (d[i] == '.')
			off[n++] = i + 1;	/* at most 127 labels */
	for (k = 1; k <= n; k++) {
		const char *suffix = d + off[n - k];

		if (dmarceval_has(e, suffix))
			ps = k;
		if (k >= 2) {
			snprintf(probe, sizeof(probe), "*.%s",
			    d + off[n - k + 1]);
			if (dmarceval_has(e, probe))
				ps = k;
		}
		snprintf(probe, sizeof(probe), "!%s", suffix);
		if (dmarceval_has(e, probe))
			exc = k;
	}
	if (exc > 0)
		ps = exc - 1;	/* the exception's own label is not public */
	if (ps == 0)
		ps = 1;		/* the implicit "*" rule */
	org = n > ps ? d + off[n - ps - 1] : d;
	len = strlen(org);
	if (len >= outsz)
		return SCOPE_ETOOBIG;
	memcpy(out, org, len + 1);
	return SCOPE_OK;
}

/* dmarceval_is_v1 - does a TXT record start with v=DMARC1 (§6.4:
 * "v" *WSP "=" *WSP "DMARC1", then the end, WSP or ';')? */
static bool
dmarceval_is_v1(const char *t)
{
	if (*t != 'v' && *t != 'V')
		return false;
	for (t++; *t == ' ' || *t == '\t'; t++)
		;
	if (*t++ != '=')
		return false;
	while (*t == ' ' || *t == '\t')
		t++;
	if (strncmp(t, "DMARC1", 6) != 0)
		return false;
	t += 6;
	return *t == '\0' || *t == ' ' || *t == '\t' || *t == ';';
}

/* dmarceval_txt - the character-strings of one TXT record joined; NULs
 * become DEL so they cannot cut the record short; false if too long */
static bool
dmarceval_txt(const ldns_rr *rr, char *buf, size_t bufsz)
{
	size_t i, used = 0, j;

	for (i = 0; i < ldns_rr_rd_count(rr); i++) {
		const ldns_rdf *rdf = ldns_rr_rdf(rr, i);
		const uint8_t *d = ldns_rdf_data(rdf);

		if (ldns_rdf_get_type(rdf) != LDNS_RDF_TYPE_STR ||
		    ldns_rdf_size(rdf) < 1 || d[0] + 1U > ldns_rdf_size(rdf))
			continue;
		if (used + d[0] >= bufsz) {
			buf[0] = '\0';
			return false;
		}
		for (j = 0; j < d[0]; j++)
			buf[used++] = d[1 + j] != '\0' ? (char)d[1 + j] : '\177';
	}
	buf[used] = '\0';
	return true;
}

/* dmarceval_fetch - the DMARC record at _dmarc.<domain> */
static int
dmarceval_fetch(struct dns_ctx *dns, const char *domain, char *rec,
    size_t recsz, enum dns_sec *sec, enum dmarceval_fetch *res)
{
	char qname[DNS_NAME_MAX + 8], txt[DMARCEVAL_RECORD_MAX + 1];
	struct dns_answer a;
	ldns_rr_list *rrs;
	size_t i, nfound = 0;
	bool toolong = false;
	int rc;

	*res = FETCH_NONE;
	*sec = DNS_SEC_INSECURE;
	rec[0] = '\0';
	snprintf(qname, sizeof(qname), "_dmarc.%s", domain);
	rc = dns_query(dns, qname, LDNS_RR_TYPE_TXT, &a);
	if (rc == SCOPE_ENOMEM)
		return rc;
	if (rc != SCOPE_OK)
		return SCOPE_OK;	/* a name that cannot exist: none */
	*sec = a.sec;
	if (a.rcode == LDNS_RCODE_NXDOMAIN) {
		dns_answer_free(&a);
		return SCOPE_OK;
	}
	if (a.rcode != LDNS_RCODE_NOERROR || a.sec == DNS_SEC_BOGUS ||
	    a.sec == DNS_SEC_ERROR || a.sec == DNS_SEC_TIMEOUT) {
		*res = FETCH_TEMP;
		dns_answer_free(&a);
		return SCOPE_OK;
	}
	rrs = dns_answer_records(&a, LDNS_RR_TYPE_TXT);
	for (i = 0; rrs != NULL && i < ldns_rr_list_rr_count(rrs); i++) {
		bool fits = dmarceval_txt(ldns_rr_list_rr(rrs, i), txt,
		    sizeof(txt));

		if (!fits) {
			/* too long to check here: count it only if its
			 * start says DMARC1 */
			const ldns_rdf *rdf = ldns_rr_rdf(ldns_rr_list_rr(rrs,
			    i), 0);
			char head[16];
			size_t hl;

			if (rdf == NULL || ldns_rdf_size(rdf) < 1)
				continue;
			hl = ldns_rdf_data(rdf)[0];
			if (hl > sizeof(head) - 1)
				hl = sizeof(head) - 1;
			if (hl + 1 > ldns_rdf_size(rdf))
				continue;
			memcpy(head, ldns_rdf_data(rdf) + 1, hl);
			head[hl] = '\0';
			if (strncmp(head, "v=DMARC1", 8) == 0) {
				nfound++;
				toolong = true;
			}
			continue;
		}
		if (!dmarceval_is_v1(txt))
			continue;
		if (nfound++ == 0 && strlen(txt) < recsz)
			memcpy(rec, txt, strlen(txt) + 1);
	}
	ldns_rr_list_free(rrs);
	dns_answer_free(&a);
	if (nfound > 1)
		*res = FETCH_SEVERAL;
	else if (nfound == 1)
		*res = toolong ? FETCH_TOOLONG : FETCH_FOUND;
	return SCOPE_OK;
}

/* dmarceval_pct - the pct= value as published; -1 when absent; 100 when
 * not a number (§6.3: an invalid value takes the default; libopendmarc
 * 1.4.2 would read "pct=abc" as 0 and never apply the policy) */
static int
dmarceval_pct(const char *rec)
{
	const char *t = rec, *v;
	long n = 0;

	while (*t != '\0') {
		while (*t == ' ' || *t == '\t' || *t == ';')
			t++;
		if (strncasecmp(t, "pct", 3) == 0) {
			for (v = t + 3; *v == ' ' || *v == '\t'; v++)
				;
			if (*v == '=') {
				for (v++; *v == ' ' || *v == '\t'; v++)
					;
				if (!isdigit((unsigned char)*v))
					return 100;
				while (isdigit((unsigned char)*v) && n <= 1000)
					n = n * 10 + (*v++ - '0');
				while (*v == ' ' || *v == '\t')
					v++;
				if (*v != '\0' && *v != ';')
					return 100;
				return n > 100 ? 100 : (int)n;
			}
		}
		while (*t != '\0' && *t != ';')
			t++;
	}
	return -1;
}

/* dmarceval_policy_name - libopendmarc's p/sp letter as a word */
static const char *
dmarceval_policy_name(int p)
{
	switch (p) {
	case DMARC_RECORD_P_NONE: return "none";
	case DMARC_RECORD_P_QUARANTINE: return "quarantine";
	case DMARC_RECORD_P_REJECT: return "reject";
	default: return "";
	}
}

/* dmarceval_parse - the record through libopendmarc: the policy fields,
 * or result permerror with a reason; 0 or SCOPE_ENOMEM */
static int
dmarceval_parse(const char *rec, const char *from_domain,
    const char *org_or_null, struct dmarceval_outcome *out)
{
	DMARC_POLICY_T *pctx;
	int st, p = 0, sp = 0, pct = 100, adkim = 0, aspf = 0;

	pctx = opendmarc_policy_connect_init((u_char *)"0.0.0.0",
	    DMARC_POLICY_IP_TYPE_IPV4);
	if (pctx == NULL)
		return SCOPE_ENOMEM;
	st = opendmarc_policy_store_dmarc(pctx, (u_char *)rec,
	    (u_char *)from_domain, (u_char *)org_or_null);
	if (st == DMARC_PARSE_ERROR_NO_ALLOC) {
		(void)opendmarc_policy_connect_shutdown(pctx);
		return SCOPE_ENOMEM;
	}
	if (st != DMARC_PARSE_OKAY) {
		out->result = DMARCEVAL_PERMERROR;
		snprintf(out->reason, sizeof(out->reason),
		    "DMARC record at %.60s: %s", out->record_domain,
		    opendmarc_policy_status_to_str(st));
		(void)opendmarc_policy_connect_shutdown(pctx);
		return SCOPE_OK;
	}
	(void)opendmarc_policy_fetch_p(pctx, &p);
	(void)opendmarc_policy_fetch_sp(pctx, &sp);
	(void)opendmarc_policy_fetch_pct(pctx, &pct);
	(void)opendmarc_policy_fetch_adkim(pctx, &adkim);
	(void)opendmarc_policy_fetch_aspf(pctx, &aspf);
	(void)opendmarc_policy_connect_shutdown(pctx);
	text_copy(out->p, sizeof(out->p), dmarceval_policy_name(p), NULL);
	text_copy(out->sp, sizeof(out->sp), dmarceval_policy_name(sp), NULL);
	st = dmarceval_pct(rec);
	if (st >= 0)
		pct = st;
	out->pct = pct < 0 ? 0 : pct > 100 ? 100 : pct;
	out->adkim = adkim == DMARC_RECORD_A_STRICT ? 's' : 'r';
	out->aspf = aspf == DMARC_RECORD_A_STRICT ? 's' : 'r';
	if (out->p[0] == '\0') {
		out->result = DMARCEVAL_PERMERROR;
		snprintf(out->reason, sizeof(out->reason),
		    "DMARC record at %.60s: no usable p=", out->record_domain);
	}
	return SCOPE_OK;
}

/* dmarceval_aligned - is name aligned with the From domain? strict:
 * equal; relaxed: the same organizational domain (§3.1) */
static bool
dmarceval_aligned(const struct dmarceval *e, const char *name, char mode,
    const struct dmarceval_outcome *out)
{
	char n[256], org[256];

	if (!dmarceval_norm(name, n, sizeof(n)))
		return false;
	if (mode == 's')
		return strcmp(n, out->from_domain) == 0;
	return dmarceval_org_domain(e, n, org, sizeof(org)) == SCOPE_OK &&
	    strcmp(org, out->org_domain) == 0;
}

/* dmarceval_alignment - SPF (MAIL FROM only) and DKIM identifiers. Any
 * passing signature with an aligned d= is enough; failing or unaligned
 * signatures are skipped, never stored or weighed (see the top of file) */
static void
dmarceval_alignment(const struct dmarceval *e,
    const struct dmarceval_input *in, struct dmarceval_outcome *out)
{
	const struct dkimverify_sig *s;
	unsigned i;

	if (in->spf_mailfrom != NULL) {
		text_copy(out->spf_domain, sizeof(out->spf_domain),
		    in->spf_mailfrom->domain, NULL);
		out->spf_aligned = in->spf_mailfrom->result == SPF_RES_PASS &&
		    dmarceval_aligned(e, in->spf_mailfrom->domain, out->aspf,
		    out);
	}
	if (in->dkim == NULL || in->dkim->sig == NULL)
		return;
	for (i = 0; i < in->dkim->nsig; i++) {
		s = &in->dkim->sig[i];
		if (s->result != DKIMVERIFY_PASS ||
		    !dmarceval_aligned(e, s->domain, out->adkim, out))
			continue;
		out->dkim_aligned = true;
		text_copy(out->dkim_domain, sizeof(out->dkim_domain),
		    s->domain, NULL);
		break;
	}
}

/* dmarceval_from - the one From domain, or permerror with a reason */
static bool
dmarceval_from(const struct dmarceval_input *in,
    struct dmarceval_outcome *out)
{
	struct addrlist al;
	const char *v;
	unsigned i;

	out->from_headers = in->from_headers > in->nfrom ? in->from_headers :
	    in->nfrom;
	out->result = DMARCEVAL_PERMERROR;
	if (out->from_headers == 0 || in->from == NULL) {
		text_copy(out->reason, sizeof(out->reason), "no From header",
		    NULL);
		return false;
	}
	if (out->from_headers > 1) {
		text_copy(out->reason, sizeof(out->reason),
		    "several From headers", NULL);
		return false;
	}
	v = in->from[0] != NULL ? in->from[0] : "";
	addrlist_parse(v, strlen(v), &al);
	out->from_mailboxes = al.nmailbox;
	if (al.nmailbox == 0) {
		text_copy(out->reason, sizeof(out->reason),
		    "no mailbox in From", NULL);
		return false;
	}
	if (al.nodomain > 0) {
		text_copy(out->reason, sizeof(out->reason),
		    "From mailbox without a usable domain", NULL);
		return false;
	}
	if (al.ndomain < al.nmailbox) {
		text_copy(out->reason, sizeof(out->reason),
		    "too many From mailboxes", NULL);
		return false;
	}
	for (i = 1; i < al.ndomain; i++)
		if (strcmp(al.domain[i], al.domain[0]) != 0) {
			text_copy(out->reason, sizeof(out->reason),
			    "From mailboxes in different domains", NULL);
			return false;
		}
	text_copy(out->from_domain, sizeof(out->from_domain), al.domain[0],
	    NULL);
	out->result = DMARCEVAL_NONE;
	return true;
}

/* dmarceval_discover - §6.6.3: From domain, then organizational domain;
 * fills rec and record_domain, or sets result and reason */
static int
dmarceval_discover(struct dns_ctx *dns, struct dmarceval_outcome *out,
    char *rec, size_t recsz)
{
	enum dmarceval_fetch f;
	enum dns_sec sec;
	const char *at = out->from_domain;
	int rc;

	rc = dmarceval_fetch(dns, at, rec, recsz, &sec, &f);
	if (rc != SCOPE_OK)
		return rc;
	out->dnssec = sec;
	if (f == FETCH_NONE && strcmp(out->org_domain, out->from_domain) != 0) {
		at = out->org_domain;
		rc = dmarceval_fetch(dns, at, rec, recsz, &sec, &f);
		if (rc != SCOPE_OK)
			return rc;
		out->dnssec = dns_sec_worst(out->dnssec, sec);
	}
	switch (f) {
	case FETCH_FOUND:
		out->have_record = true;
		text_copy(out->record_domain, sizeof(out->record_domain), at,
		    NULL);
		return SCOPE_OK;
	case FETCH_TOOLONG:
		out->have_record = true;
		text_copy(out->record_domain, sizeof(out->record_domain), at,
		    NULL);
		out->result = DMARCEVAL_PERMERROR;
		snprintf(out->reason, sizeof(out->reason),
		    "DMARC record at %.60s longer than %d", at,
		    DMARCEVAL_RECORD_MAX);
		return SCOPE_OK;
	case FETCH_SEVERAL:
		out->result = DMARCEVAL_NONE;
		snprintf(out->reason, sizeof(out->reason),
		    "several DMARC records at _dmarc.%.60s", at);
		return SCOPE_OK;
	case FETCH_TEMP:
		out->result = DMARCEVAL_TEMPERROR;
		snprintf(out->reason, sizeof(out->reason),
		    "DNS %s for _dmarc.%.60s", dns_sec_name(sec), at);
		return SCOPE_OK;
	default:
		out->result = DMARCEVAL_NONE;
		text_copy(out->reason, sizeof(out->reason), "no DMARC record",
		    NULL);
		return SCOPE_OK;
	}
}

/* dmarceval_dispose - result and disposition from alignment and policy */
static void
dmarceval_dispose(struct dmarceval_outcome *out)
{
	const char *pol;

	if (out->spf_aligned || out->dkim_aligned) {
		out->result = DMARCEVAL_PASS;
		out->reason[0] = '\0';
		return;
	}
	out->result = DMARCEVAL_FAIL;
	text_copy(out->reason, sizeof(out->reason),
	    "no aligned SPF or DKIM pass", NULL);
	out->policy_is_sp = out->sp[0] != '\0' &&
	    strcmp(out->record_domain, out->from_domain) != 0;
	pol = out->policy_is_sp ? out->sp : out->p;
	if (strcmp(pol, "reject") == 0)
		out->disposition = DMARCEVAL_DISP_REJECT;
	else if (strcmp(pol, "quarantine") == 0)
		out->disposition = DMARCEVAL_DISP_QUARANTINE;
	if (out->disposition != DMARCEVAL_DISP_NONE &&
	    (out->pct <= 0 || (out->pct < 100 &&
	    arc4random_uniform(100) >= (uint32_t)out->pct))) {
		/* RFC 7489 section 6.3 (pct): a message not selected gets the
		 * next less strict policy: reject becomes quarantine,
		 * quarantine becomes none */
		out->disposition = out->disposition == DMARCEVAL_DISP_REJECT ?
		    DMARCEVAL_DISP_QUARANTINE : DMARCEVAL_DISP_NONE;
		out->pct_sampled_out = true;
	}
}

/* dmarceval_check - evaluate; 0, or a negative SCOPE_* code (ENOMEM) */
int
dmarceval_check(struct dmarceval *e, struct dns_ctx *dns,
    const struct dmarceval_input *in, struct dmarceval_outcome *out)
{
	char rec[DMARCEVAL_RECORD_MAX + 1];
	int rc;

	memset(out, 0, sizeof(*out));
	out->pct = 100;
	out->adkim = 'r';
	out->aspf = 'r';
	out->dnssec = DNS_SEC_INSECURE;
	if (e == NULL || dns == NULL || in == NULL)
		return SCOPE_EINVAL;
	if (!dmarceval_from(in, out))
		return SCOPE_OK;
	if (dmarceval_org_domain(e, out->from_domain, out->org_domain,
	    sizeof(out->org_domain)) != SCOPE_OK) {
		out->result = DMARCEVAL_PERMERROR;	/* cannot happen */
		text_copy(out->reason, sizeof(out->reason),
		    "no organizational domain", NULL);
		return SCOPE_OK;
	}
	rc = dmarceval_discover(dns, out, rec, sizeof(rec));
	if (rc == SCOPE_OK && out->have_record &&
	    out->result == DMARCEVAL_NONE)
		rc = dmarceval_parse(rec, out->from_domain,
		    strcmp(out->record_domain, out->from_domain) != 0 ?
		    out->org_domain : NULL, out);
	if (rc != SCOPE_OK)
		return rc;
	/* alignment is reported in every case with a From domain (relaxed
	 * without a record); it decides the result only with a record */
	dmarceval_alignment(e, in, out);
	if (out->have_record && out->result == DMARCEVAL_NONE)
		dmarceval_dispose(out);
	return SCOPE_OK;
}
