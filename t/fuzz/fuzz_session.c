/*
 * fuzz_session.c - fuzz target: the session layer driven by a sequence of
 * milter events in any order, with hostile macros, as milter_cb.c would
 * call it (lib/session.h only; no libmilter).
 *
 * Input: one byte of settings (A-R headers, RemoveAllAuthResults,
 * DMARCReject, OnError tempfail, the checks against in-memory DNS,
 * pseudonymization, greylisting and tags, an MTA that refuses header
 * changes), then events until the input ends, each an opcode byte and
 * its arguments (fuzz_event()). Strings are a length byte and bytes; 255
 * means a two-byte length follows, so values can pass every cap.
 *
 * Invariants checked after every event: no crash or sanitizer report;
 * every record written is one line of valid JSON (fuzz_json.h, which
 * accepts what jansson's parser accepts, without building the tree), an
 * object with an integer "v" and a string "event", at most
 * RECORDLOG_RECORD_MAX bytes; the heap the session holds stays under
 * FUZZ_MEM_MAX however long the body or the header list.
 */
#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "auth/auth.h"
#include "greylist/glstore.h"
#include "macro.h"
#include "record/pseudo.h"
#include "record/recordlog.h"
#include "session.h"
#include "tags.h"
#include "fuzz_json.h"
#include "fuzz_util.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FUZZ_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define FUZZ_ASAN 1
#endif
#ifdef FUZZ_ASAN
/* from the ASan runtime (clang's sanitizer/allocator_interface.h; gcc
 * ships no such header, so it is declared here) */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MEM_MAX	(4u * 1024 * 1024)	/* heap a session may hold */
#define FUZZ_STR_MAX	8192
#define FUZZ_NSLOTS	8
#define FUZZ_NARGS	4
#define FUZZ_REPEAT_MAX	256	/* most repeats of one event (fuzz_count) */

/* the input being decoded */
struct fuzz_in {
	const uint8_t *p;
	size_t left;
};

/* the fake MTA's macro table: names and values from the input */
static char fuzz_mname[FUZZ_NSLOTS][64];
static char fuzz_mval[FUZZ_NSLOTS][FUZZ_STR_MAX + 1];
static bool fuzz_mset[FUZZ_NSLOTS];

static const char *const fuzz_macros[] = {
	"{client_addr}", "{client_port}", "{client_ptr}", "{client_resolve}",
	"{daemon_addr}", "{daemon_port}", "{daemon_name}", "{if_addr}", "j",
	"v", "i", "{auth_type}", "{auth_authen}", "{msg_id}",
	"{tls_version}", "{cipher}", "{cipher_bits}", "{cert_subject}",
	"{cert_issuer}", "{verify}", "{cn_subject}", "{cn_issuer}",
	"{cert_md5}"
};
#define FUZZ_NMACROS	(sizeof(fuzz_macros) / sizeof(fuzz_macros[0]))

static struct recordlog *fuzz_log;
static int fuzz_fd = -1;
static struct auth_env fuzz_auth;
static struct pseudo *fuzz_pseudo;
static struct tags *fuzz_tags;
static struct greylist_params fuzz_gl;
static unsigned long fuzz_faults, fuzz_records, fuzz_runs;

/* fuzz_byte - the next byte, 0 at the end */
static uint8_t
fuzz_byte(struct fuzz_in *in)
{
	if (in->left == 0)
		return 0;
	in->left--;
	return *in->p++;
}

/* fuzz_str - a NUL-terminated string of the input into buf */
static char *
fuzz_str(struct fuzz_in *in, char *buf)
{
	size_t n = fuzz_byte(in);

	if (n == 255) {
		n = (size_t)fuzz_byte(in) << 8;
		n |= fuzz_byte(in);
	}
	if (n > FUZZ_STR_MAX)
		n = FUZZ_STR_MAX;
	if (n > in->left)
		n = in->left;
	memcpy(buf, in->p, n);
	buf[n] = '\0';
	in->p += n;
	in->left -= n;
	return buf;
}

/* fuzz_get - struct macro_src over the table */
static const char *
fuzz_get(void *arg, const char *name)
{
	int i;

	(void)arg;
	for (i = 0; i < FUZZ_NSLOTS; i++)
		if (fuzz_mset[i] && strcmp(fuzz_mname[i], name) == 0)
			return fuzz_mval[i];
	return NULL;
}

/* fuzz_fault - the env's fault hook: counted */
static void
fuzz_fault(void *arg, int code, int sys_errno, const char *what)
{
	(void)sys_errno;
	(void)arg;
	(void)code;
	(void)what;
	fuzz_faults++;
}

/* editor: accepts or refuses every change */
static int
fuzz_add(void *arg, const char *name, const char *value)
{
	return *(bool *)arg || name[0] == '\0' || value == NULL ? -2 : 0;
}

static int
fuzz_remove(void *arg, const char *name, unsigned index)
{
	return *(bool *)arg || name[0] == '\0' || index == 0 ? -2 : 0;
}

/* fuzz_heap - bytes allocated now */
static size_t
fuzz_heap(void)
{
#ifdef FUZZ_ASAN
	return __sanitizer_get_current_allocated_bytes();
#else
	return mallinfo2().uordblks;
#endif
}

/* fuzz_setup_auth - the checks against a few in-memory zones */
static void
fuzz_setup_auth(void)
{
	static const char *const zone[] = {
		"example.com. TXT \"v=spf1 ip4:192.0.2.0/24 include:inc.example.com -all\"",
		"inc.example.com. TXT \"v=spf1 a mx ptr exists:%{i}.x.example.com ~all\"",
		"_dmarc.example.com. TXT \"v=DMARC1; p=reject; sp=none; pct=50; adkim=s\"",
		"1.2.0.192.in-addr.arpa. PTR mx.example.com.",
		"mx.example.com. A 192.0.2.1",
		"sel._domainkey.example.com. TXT \"v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC5\"",
		NULL
	};
	struct auth_checks checks = { true, true, true, true,
	    { 4, 1024, false }, NULL };
	char err[512];
	int i;

	if (dns_resolver_new_zones(&fuzz_auth.dns, 200) != 0)
		abort();
	for (i = 0; zone[i] != NULL; i++)
		if (dns_zone_add(fuzz_auth.dns, zone[i]) != 0)
			abort();
	if (dns_zone_add_timeout(fuzz_auth.dns, "slow.example.com") != 0 ||
	    auth_env_checks(&fuzz_auth, &checks, err, sizeof(err)) != 0)
		abort();
}

/* fuzz_setup_rest - pseudonymization key, tag rules, greylist params */
static void
fuzz_setup_rest(void)
{
	static const struct pseudo_modes m = { PSEUDO_PREFIX, PSEUDO_HMAC,
	    PSEUDO_HMAC, PSEUDO_HMAC };
	static const char rules[] =
	    "tag docs rcpt-domain example.com\n"
	    "tag any rcpt *@*\n"
	    "tag re rcpt ~^[a-z]+@\n"
	    "tag bulk sender-domain example.com\n"
	    "tag lab client 192.0.2.0/24\n"
	    "tag six client ::/0\n"
	    "tag here local *:25\n"
	    "greylist docs enforce\n"
	    "greylist any observe\n";
	fuzz_pseudo = fuzz_pseudo_new(&m);
	fuzz_tags = fuzz_tags_new(rules, sizeof(rules) - 1);
	greylist_params_default(&fuzz_gl);
	fuzz_gl.mode = GREYLIST_OBSERVE;
}

/* fuzz_setup - once: the record log on a memory file, checks, rules */
static void
fuzz_setup(void)
{
	if (fuzz_log != NULL)
		return;
	fuzz_fd = memfd_create("fuzz_session", 0);
	if (fuzz_fd < 0 || recordlog_from_fd(&fuzz_log, fuzz_fd) != 0)
		abort();
	fuzz_setup_auth();
	fuzz_setup_rest();
	fuzz_json_selftest();
}

/* fuzz_check_line - one record: a JSON object with v and event */
static void
fuzz_check_line(const char *line, size_t len)
{
	static const char *const keys[] = { "v", "event" };
	char types[2];

	if (len > RECORDLOG_RECORD_MAX)
		abort();
	if (!fuzz_json_check(line, len, keys, types, 2) || types[0] != 'i' ||
	    types[1] != 's') {
		fprintf(stderr, "bad record: %.*s\n", (int)len, line);
		abort();
	}
}

/* fuzz_check_records - every record written since the last check */
static void
fuzz_check_records(void)
{
	static char buf[4 * RECORDLOG_RECORD_MAX];
	off_t end = lseek(fuzz_fd, 0, SEEK_CUR);
	ssize_t n;
	char *p, *nl;

	if (end <= 0)
		return;
	if ((size_t)end > sizeof(buf))
		abort();	/* more than a few records at once */
	n = pread(fuzz_fd, buf, (size_t)end, 0);
	if (n != end)
		abort();
	for (p = buf; p < buf + n; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(buf + n - p));
		if (nl == NULL)
			abort();	/* a record without its line end */
		fuzz_check_line(p, (size_t)(nl - p));
		fuzz_records++;
	}
	if (ftruncate(fuzz_fd, 0) != 0 || lseek(fuzz_fd, 0, SEEK_SET) != 0)
		abort();
}

/* fuzz_connect - connect with an address of the family the input says */
static void
fuzz_connect(struct session *s, struct fuzz_in *in, const struct macro_src *m)
{
	static char host[FUZZ_STR_MAX + 1];
	struct sockaddr_storage ss;
	uint8_t fam = fuzz_byte(in) % 5;
	unsigned i;

	memset(&ss, 0, sizeof(ss));
	for (i = 0; i < sizeof(ss) && i < 32; i++)
		((uint8_t *)&ss)[i] = fuzz_byte(in);
	if (fam == 1) {
		ss.ss_family = AF_INET;
	} else if (fam == 2) {
		ss.ss_family = AF_INET6;
	} else if (fam == 3) {
		ss.ss_family = AF_UNIX;
		((struct sockaddr_un *)&ss)->sun_path[sizeof(((struct
		    sockaddr_un *)0)->sun_path) - 1] = '\0';
	}
	fuzz_str(in, host);
	session_connect(s, host, fam == 0 ? NULL : (struct sockaddr *)&ss, m);
}

/* fuzz_argv - an argument vector of up to FUZZ_NARGS strings */
static const char *const *
fuzz_argv(struct fuzz_in *in)
{
	static char args[FUZZ_NARGS][FUZZ_STR_MAX + 1];
	static const char *argv[FUZZ_NARGS + 1];
	unsigned n = fuzz_byte(in) % (FUZZ_NARGS + 1), i;

	for (i = 0; i < n; i++)
		argv[i] = fuzz_str(in, args[i]);
	argv[n] = NULL;
	return argv;
}

/* fuzz_macro - set one slot of the table */
static void
fuzz_macro(struct fuzz_in *in)
{
	static char raw[FUZZ_STR_MAX + 1];
	unsigned slot = fuzz_byte(in) % FUZZ_NSLOTS;
	unsigned which = fuzz_byte(in) % (FUZZ_NMACROS + 1);
	const char *name = which < FUZZ_NMACROS ? fuzz_macros[which] :
	    fuzz_str(in, raw);

	snprintf(fuzz_mname[slot], sizeof(fuzz_mname[slot]), "%s", name);
	fuzz_str(in, fuzz_mval[slot]);
	fuzz_mset[slot] = true;
}

/* fuzz_count - a repeat count from one byte: 0 to 15 for most values
 * (cheap runs), up to FUZZ_REPEAT_MAX for the top quarter (past every
 * cap: 100 recipients, 64 DKIM signatures, 16 greylist results) */
static unsigned
fuzz_count(struct fuzz_in *in)
{
	unsigned b = fuzz_byte(in);

	return b < 192 ? b % 16 : (b - 191) * (FUZZ_REPEAT_MAX / 64);
}

/* fuzz_repeat - a header or recipient many times (counts past caps) */
static void
fuzz_repeat(struct session *s, struct fuzz_in *in, bool header,
    const struct macro_src *m)
{
	static char a[FUZZ_STR_MAX + 1], b[FUZZ_STR_MAX + 1];
	unsigned n = fuzz_count(in), i;
	const char *argv[2] = { a, NULL };

	fuzz_str(in, a);
	if (header)
		fuzz_str(in, b);
	for (i = 0; i < n; i++) {
		if (header)
			session_header(s, a, b);
		else
			(void)session_rcpt(s, argv, m, NULL);
	}
}

/* fuzz_body - a chunk, sent 1 to 16 times, or up to FUZZ_REPEAT_MAX + 1
 * times when the count byte says (bodies past any buffer) */
static void
fuzz_body(struct session *s, struct fuzz_in *in)
{
	size_t len = (size_t)fuzz_byte(in) << 8, times, i;

	len |= fuzz_byte(in);
	times = (size_t)fuzz_count(in) + 1;
	if (len > in->left)
		len = in->left;
	for (i = 0; i < times; i++)
		session_body(s, in->p, len);
	in->p += len;
	in->left -= len;
}

/* fuzz_event - one event on s; returns s, NULL after close */
static struct session *
fuzz_event(struct session *s, struct fuzz_in *in, const struct macro_src *m,
    bool *refuse)
{
	static char a[FUZZ_STR_MAX + 1], b[FUZZ_STR_MAX + 1];
	struct session_editor ed = { fuzz_add, fuzz_remove, refuse };
	const char *reply = NULL;

	switch (fuzz_byte(in) % 16) {
	case 0: fuzz_connect(s, in, m); break;
	case 1: session_helo(s, fuzz_str(in, a), m); break;
	case 2: session_mail(s, fuzz_argv(in), m); break;
	case 3: (void)session_rcpt(s, fuzz_argv(in), m, &reply); break;
	case 4: session_data(s, m); break;
	case 5:
		fuzz_str(in, a);
		session_header(s, a, fuzz_str(in, b));
		break;
	case 6: session_eoh(s, m); break;
	case 7: fuzz_body(s, in); break;
	case 8: (void)session_eom(s, m, &ed, &reply); break;
	case 9: session_abort(s); break;
	case 10: session_close(s); return NULL;
	case 11: break;	/* unknown command: milter_cb.c has no callback */
	case 12: fuzz_macro(in); break;
	case 13: memset(fuzz_mset, 0, sizeof(fuzz_mset)); break;
	case 14: fuzz_repeat(s, in, true, m); break;
	default: fuzz_repeat(s, in, false, m); break;
	}
	return s;
}

/* fuzz_env - the session settings from the first byte */
static void
fuzz_env(struct session_env *env, uint8_t f, struct glstore **store)
{
	char err[256];

	memset(env, 0, sizeof(*env));
	env->log = fuzz_log;
	env->servid = "mx.smtpscope.test";
	env->headers = f & 1;
	env->remove_all_ar = f & 2;
	env->dmarc_reject = f & 4;
	env->tempfail_on_error = f & 8;
	env->auth = f & 16 ? &fuzz_auth : NULL;
	env->pseudo = f & 32 ? fuzz_pseudo : NULL;
	env->fault = fuzz_fault;
	*store = NULL;
	if (f & 64) {
		if (glstore_open(store, "mem:", 100, err, sizeof(err)) != 0)
			abort();
		env->gl = &fuzz_gl;
		env->glstore = *store;
		env->tags = fuzz_tags;
	}
}

/* fuzz_stats - at exit with FUZZ_SESSION_STATS set */
static void
fuzz_stats(void)
{
	if (getenv("FUZZ_SESSION_STATS") != NULL)
		fprintf(stderr, "fuzz_session: %lu runs, %lu records, "
		    "%lu faults\n", fuzz_runs, fuzz_records, fuzz_faults);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct macro_src m = { fuzz_get, NULL };
	struct session_env env;
	struct glstore *store;
	struct session *s = NULL;
	size_t base;
	bool refuse;
	uint8_t f;

	fuzz_setup();
	if (fuzz_runs++ == 0)
		atexit(fuzz_stats);
	f = fuzz_byte(&in);
	refuse = f & 128;
	memset(fuzz_mset, 0, sizeof(fuzz_mset));
	fuzz_env(&env, f, &store);
	base = fuzz_heap();
	while (in.left > 0) {
		if (s == NULL && (s = session_new(&env)) == NULL)
			abort();
		s = fuzz_event(s, &in, &m, &refuse);
		fuzz_check_records();
		if (fuzz_heap() > base + FUZZ_MEM_MAX) {
			fprintf(stderr, "session holds %zu bytes\n",
			    fuzz_heap() - base);
			abort();
		}
	}
	if (s != NULL)
		session_close(s);
	fuzz_check_records();
	glstore_close(store);
	return 0;
}
