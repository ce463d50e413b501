/*
 * dkimsign.c - sign a message with libopendkim, for the tests.
 *
 * Usage: dkimsign -d DOMAIN -s SELECTOR -k KEYFILE [-a ALG] [-c HDR/BODY]
 *            [-l] [-h header:list] [-t TIME] [-x TTL] < message > signed
 *
 * Reads an RFC 5322 message (LF or CRLF line ends, at most 64 MiB) and
 * writes it with a DKIM-Signature header field prepended, in the line
 * ends of the input. ALG is rsa-sha256 (default), rsa-sha1 or
 * ed25519-sha256; HDR/BODY is simple or relaxed each (default
 * relaxed/relaxed); -l adds l= for the whole body; -h names the header
 * fields to sign (default: libopendkim's list); -t signs as of a fixed
 * time (t=, for expired-signature tests) and -x adds x= that many seconds
 * later. KEYFILE is a PEM private key as written by `openssl genpkey
 * -algorithm RSA|ED25519` (PKCS#8); libopendkim 2.11 takes both kinds in
 * that form as they are. RSA keys down to 512 bits are accepted (tests
 * of the verifier's RFC 8301 policy need short keys).
 *
 * Exit status: 0 signed, 1 bad input or signing failure, 2 usage.
 * Everything is read into memory: this is a test tool, not the milter.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <opendkim/dkim.h>

#define DKIMSIGN_MSG_MAX	(64 * 1024 * 1024)
#define DKIMSIGN_HDRS_MAX	64

/*
 * libopendkim 2.11's dkim_privkey_load() never frees an Ed25519 key (the
 * EVP_PKEY and its buffer): a one-shot tool can live with that, so the
 * sanitizer build of this tool does not report leaks, whatever
 * ASAN_OPTIONS says (LeakSanitizer asks this function before it checks).
 */
int __lsan_is_turned_off(void);

int
__lsan_is_turned_off(void)
{
	return 1;
}

/* usage - the synopsis, exit 2 */
static void
usage(void)
{
	fprintf(stderr, "usage: dkimsign -d domain -s selector -k keyfile "
	    "[-a rsa-sha256|rsa-sha1|ed25519-sha256] [-c relaxed/relaxed] "
	    "[-l] [-h header:list] [-t time] [-x ttl] < message > signed\n");
	exit(2);
}

/* slurp - a whole stream in memory, NUL-terminated; NULL when too big */
static char *
slurp(FILE *fp, size_t *len)
{
	size_t cap = 65536, n = 0, got;
	char *buf = malloc(cap + 1), *grown;

	while (buf != NULL && (got = fread(buf + n, 1, cap - n, fp)) > 0) {
		n += got;
		if (n < cap)
			continue;
		if (cap >= DKIMSIGN_MSG_MAX) {
			free(buf);
			return NULL;
		}
		grown = realloc(buf, cap * 2 + 1);
		if (grown == NULL)
			free(buf);
		buf = grown;
		cap *= 2;
	}
	if (buf == NULL)
		return NULL;
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* key_load - the key file as text (caller frees) */
static char *
key_load(const char *path)
{
	FILE *fp = fopen(path, "rb");
	size_t len;
	char *out;

	if (fp == NULL)
		return NULL;
	out = slurp(fp, &len);
	fclose(fp);
	return out;
}

/* parse_canon - "relaxed/simple" into two DKIM_CANON_* values */
static bool
parse_canon(const char *s, dkim_canon_t *hc, dkim_canon_t *bc)
{
	const char *slash = strchr(s, '/');
	size_t hl = slash != NULL ? (size_t)(slash - s) : strlen(s);
	const char *b = slash != NULL ? slash + 1 : "simple";

	if (hl == 6 && strncmp(s, "simple", 6) == 0)
		*hc = DKIM_CANON_SIMPLE;
	else if (hl == 7 && strncmp(s, "relaxed", 7) == 0)
		*hc = DKIM_CANON_RELAXED;
	else
		return false;
	if (strcmp(b, "simple") == 0)
		*bc = DKIM_CANON_SIMPLE;
	else if (strcmp(b, "relaxed") == 0)
		*bc = DKIM_CANON_RELAXED;
	else
		return false;
	return true;
}

/* parse_hdrlist - "from:to:subject" into a NULL-terminated array */
static const char **
parse_hdrlist(char *s)
{
	static const char *list[DKIMSIGN_HDRS_MAX + 1];
	char *save = NULL, *t;
	size_t n = 0;

	for (t = strtok_r(s, ":", &save); t != NULL && n < DKIMSIGN_HDRS_MAX;
	    t = strtok_r(NULL, ":", &save))
		list[n++] = t;
	list[n] = NULL;
	return n > 0 ? list : NULL;
}

/* header_end - end of the (possibly folded) header field at p */
static const char *
header_end(const char *p, const char *end)
{
	const char *nl;

	for (;;) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			return end;
		if (nl + 1 >= end || (nl[1] != ' ' && nl[1] != '\t'))
			return nl + 1;
		p = nl + 1;
	}
}

/* feed_body - the body with CRLF line ends, in 64 KiB chunks */
static DKIM_STAT
feed_body(DKIM *dkim, const char *p, const char *end)
{
	size_t len = (size_t)(end - p), n = 0, off, i;
	unsigned char *crlf = malloc(len * 2 + 1);
	DKIM_STAT st = DKIM_STAT_OK;

	if (crlf == NULL)
		return DKIM_STAT_NORESOURCE;
	for (i = 0; i < len; i++) {
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			crlf[n++] = '\r';
		crlf[n++] = (unsigned char)p[i];
	}
	for (off = 0; off < n && st == DKIM_STAT_OK; off += 65536)
		st = dkim_body(dkim, crlf + off, n - off < 65536 ? n - off :
		    65536);
	free(crlf);
	return st;
}

/* put_sighdr - "DKIM-Signature: ..." in the input's line ends */
static void
put_sighdr(const unsigned char *sig, size_t len, bool crlf)
{
	size_t i;

	fputs("DKIM-Signature: ", stdout);
	for (i = 0; i < len; i++) {
		if (sig[i] == '\r')
			continue;
		if (sig[i] == '\n' && crlf)
			putchar('\r');
		putchar(sig[i]);
	}
	fputs(crlf ? "\r\n" : "\n", stdout);
}

/* sign - headers and body through a signing handle; 0 or 1 */
static int
sign(DKIM *dkim, const char *msg, size_t len, bool crlf)
{
	const char *p = msg, *end = msg + len, *e;
	unsigned char *hdr, *sig = NULL;
	size_t hl, siglen = 0;
	DKIM_STAT st = DKIM_STAT_OK;

	while (p < end && *p != '\n' && !(*p == '\r' && p + 1 < end &&
	    p[1] == '\n') && st == DKIM_STAT_OK) {
		e = header_end(p, end);
		hl = (size_t)(e - p);
		while (hl > 0 && (p[hl - 1] == '\n' || p[hl - 1] == '\r'))
			hl--;
		hdr = (unsigned char *)strndup(p, hl);
		if (hdr == NULL)
			return 1;
		st = dkim_header(dkim, hdr, hl);
		free(hdr);
		p = e;
	}
	if (st != DKIM_STAT_OK) {
		fprintf(stderr, "dkimsign: header: %s\n", dkim_getresultstr(st));
		return 1;
	}
	if (p < end)
		p += *p == '\r' ? 2 : 1;
	if ((st = dkim_eoh(dkim)) != DKIM_STAT_OK ||
	    (st = feed_body(dkim, p, end)) != DKIM_STAT_OK ||
	    (st = dkim_eom(dkim, NULL)) != DKIM_STAT_OK ||
	    (st = dkim_getsighdr_d(dkim, strlen("DKIM-Signature: "), &sig,
	    &siglen)) != DKIM_STAT_OK) {
		fprintf(stderr, "dkimsign: %s: %s\n", dkim_getresultstr(st),
		    dkim_geterror(dkim) != NULL ? dkim_geterror(dkim) : "");
		return 1;
	}
	put_sighdr(sig, siglen, crlf);
	fwrite(msg, 1, len, stdout);
	return fflush(stdout) == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	const char *domain = NULL, *selector = NULL, *keyfile = NULL;
	const char *alg = "rsa-sha256", *canon = "relaxed/relaxed";
	const char **hdrs = NULL;
	dkim_canon_t hc, bc;
	dkim_alg_t signalg;
	bool signlen = false, crlf;
	unsigned int flags = DKIM_LIBFLAGS_FIXCRLF, minbits = 512;
	uint64_t fixedtime = 0, ttl = 0;
	char *endp;
	DKIM_LIB *lib;
	DKIM *dkim;
	DKIM_STAT st;
	char *key, *msg, *nl;
	size_t len = 0;
	int c, rc;

	while ((c = getopt(argc, argv, "a:c:d:h:k:ls:t:x:")) != -1) {
		switch (c) {
		case 'a':
			alg = optarg;
			break;
		case 'c':
			canon = optarg;
			break;
		case 'd':
			domain = optarg;
			break;
		case 'h':
			hdrs = parse_hdrlist(optarg);
			break;
		case 'k':
			keyfile = optarg;
			break;
		case 'l':
			signlen = true;
			break;
		case 's':
			selector = optarg;
			break;
		case 't':
			fixedtime = strtoull(optarg, &endp, 10);
			if (*endp != '\0' || fixedtime == 0)
				usage();
			break;
		case 'x':
			ttl = strtoull(optarg, &endp, 10);
			if (*endp != '\0' || ttl == 0)
				usage();
			break;
		default:
			usage();
		}
	}
	if (domain == NULL || selector == NULL || keyfile == NULL ||
	    optind != argc || !parse_canon(canon, &hc, &bc))
		usage();
	if (strcmp(alg, "rsa-sha256") == 0)
		signalg = DKIM_SIGN_RSASHA256;
	else if (strcmp(alg, "rsa-sha1") == 0)
		signalg = DKIM_SIGN_RSASHA1;
	else if (strcmp(alg, "ed25519-sha256") == 0 || strcmp(alg,
	    "ed25519") == 0)
		signalg = DKIM_SIGN_ED25519SHA256;
	else
		usage();
	key = key_load(keyfile);
	if (key == NULL) {
		fprintf(stderr, "dkimsign: %s: cannot read the key\n", keyfile);
		return 1;
	}
	msg = slurp(stdin, &len);
	if (msg == NULL) {
		fprintf(stderr, "dkimsign: cannot read the message\n");
		return 1;
	}
	nl = memchr(msg, '\n', len);
	crlf = nl != NULL && nl > msg && nl[-1] == '\r';
	if (signlen)
		flags |= DKIM_LIBFLAGS_SIGNLEN;
	lib = dkim_init(NULL, NULL);
	if (lib == NULL || dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS,
	    &flags, sizeof(flags)) != DKIM_STAT_OK ||
	    dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_MINKEYBITS, &minbits,
	    sizeof(minbits)) != DKIM_STAT_OK ||
	    (fixedtime != 0 && dkim_options(lib, DKIM_OP_SETOPT,
	    DKIM_OPTS_FIXEDTIME, &fixedtime, sizeof(fixedtime)) !=
	    DKIM_STAT_OK) ||
	    (ttl != 0 && dkim_options(lib, DKIM_OP_SETOPT,
	    DKIM_OPTS_SIGNATURETTL, &ttl, sizeof(ttl)) != DKIM_STAT_OK)) {
		fprintf(stderr, "dkimsign: libopendkim setup failed\n");
		return 1;
	}
	dkim = dkim_sign(lib, (const unsigned char *)"dkimsign", NULL,
	    (dkim_sigkey_t)key, (const unsigned char *)selector,
	    (const unsigned char *)domain, hc, bc, signalg, -1, &st);
	if (dkim == NULL) {
		fprintf(stderr, "dkimsign: dkim_sign: %s\n",
		    dkim_getresultstr(st));
		return 1;
	}
	if (hdrs != NULL && dkim_signhdrs(dkim, hdrs) != DKIM_STAT_OK) {
		fprintf(stderr, "dkimsign: bad header list\n");
		return 1;
	}
	rc = sign(dkim, msg, len, crlf);
	dkim_free(dkim);
	dkim_close(lib);
	free(key);
	free(msg);
	return rc;
}
