/*
 * bench_main.c - smtpscope-bench: drive a milter with N concurrent
 * connections and report messages/s, latency per stage (p50, p99) and the
 * milter's CPU and memory (from /proc when its pid is given).
 *
 * SYNOPSIS
 *	smtpscope-bench -s SOCKET [-c CONNS] [-n MSGS] [-w WARMUP] [-k PER]
 *	    [-m FILE]... [-r RCPTS] [-a NETS] [-p PID] [-H HOLD] [-T] [-j]
 *
 *	-c  concurrent connections (default 8)
 *	-n  measured messages (default 10000), after -w warm-up (default 500)
 *	-k  messages per connection (default 1, like one SMTP session each)
 *	-m  corpus file (repeatable; used round robin); default a 2 KB message
 *	-r  cycle RCPTS distinct recipients (rcpt1@smtpscope.test ...) over
 *	    the messages, so that greylisting sees RCPTS triplets; default 1,
 *	    bob@smtpscope.test
 *	-a  cycle NETS client addresses in distinct /24 networks (198.18.0.25,
 *	    198.18.1.25 ...; at most 512) over the sessions; default 1, the
 *	    corpus's sender 192.0.2.25
 *	-p  the milter's pid: CPU per message, peak RSS, memory per session
 *	-H  hold HOLD sessions open mid-message and report the milter's RSS
 *	    growth per open session (needs -p)
 *	-T  send TLS macros (a STARTTLS session with a client certificate)
 *	-j  print the results as one JSON object as well
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfdef.h>

#include "bench.h"

/*
 * The SMTP client the generator plays: the corpus's sender (corpus.sh signs
 * for bench.example, whose SPF record allows 192.0.2.0/24 and whose PTR for
 * 192.0.2.25 is this name), so SPF, iprev, DKIM and DMARC can all pass
 * against the benchmark's resolver, as with bench-e2e.sh's smtp-source.
 */
#define BENCH_CLIENT_NAME	"mail-out2.bench.example"
#define BENCH_CLIENT_ADDR	"192.0.2.25"
#define BENCH_SENDER		"news@bench.example"
#define BENCH_RCPT		"bob@smtpscope.test"
#define BENCH_RCPTS_MAX		10000000	/* -r: "rcpt9999999@" still fits */
#define BENCH_NETS_MAX		512		/* -a: the /24s of 198.18.0.0/15 */

struct bench_opts {
	const char *socket;
	int conns, per_conn, hold, tls, json;
	long messages, warmup, rcpts, nets;
	long pid;
	struct msgfile *corpus;
	size_t ncorpus;
};


struct bench_worker {
	const struct bench_opts *o;
	long quota;
	int id;
	long done, failed;
	struct bench_samples s;
	pthread_t th;
};

static struct bench_opts opts = { NULL, 8, 1, 0, 0, 0, 10000, 500, 1, 1, 0, NULL, 0 };

/* the default macro lists of Postfix 3.7 when a milter sends none */
static const char *const bench_default_macros[BENCH_STAGES] = {
	"j {daemon_name} {daemon_addr} v _",
	"{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer}",
	("i {auth_type} {auth_authen} {auth_author} {mail_addr} {mail_host} "
	    "{mail_mailer}"),
	"{rcpt_addr} {rcpt_host} {rcpt_mailer}",
	"i", "i", "i"
};

struct bench_ctx {
	int tls;
	char qid[40];
	char port[16];
	char rcpt[64];		/* the message's recipient, without <> */
	char addr[16];		/* the session's client address */
	char client[96];	/* "name [addr]", Postfix's _ macro */
};

/* bench_macro_value - what Postfix would send for a macro, or NULL */
static const char *
bench_macro_value(const struct bench_ctx *x, const char *name)
{
	static const char *const fixed[] = {
		"j", "mx.smtpscope.test", "v", "Postfix 3.7.11",
		"{daemon_name}", "mx.smtpscope.test", "{daemon_addr}", "192.0.2.1",
		"{daemon_port}", "25",
		"{client_name}", BENCH_CLIENT_NAME, "{client_ptr}",
		BENCH_CLIENT_NAME, "{client_resolve}", "OK",
		"{client_connections}", "1", "{mail_addr}", BENCH_SENDER,
		"{mail_host}", "[127.0.0.1]:2600", "{mail_mailer}", "smtp",
		"{rcpt_host}", "[127.0.0.1]:2600",
		"{rcpt_mailer}", "smtp", NULL
	};
	static const char *const tls[] = {
		"{tls_version}", "TLSv1.3", "{cipher}", "TLS_AES_256_GCM_SHA384",
		"{cipher_bits}", "256", "{cert_subject}", "client.example.org",
		"{cert_issuer}", "Example Issuing CA", NULL
	};
	size_t i;

	if (strcmp(name, "i") == 0)
		return x->qid;
	if (strcmp(name, "{client_port}") == 0)
		return x->port;
	if (strcmp(name, "{rcpt_addr}") == 0)
		return x->rcpt;
	if (strcmp(name, "{client_addr}") == 0)
		return x->addr;
	if (strcmp(name, "_") == 0)
		return x->client;
	for (i = 0; fixed[i] != NULL; i += 2)
		if (strcmp(fixed[i], name) == 0)
			return fixed[i + 1];
	for (i = 0; x->tls && tls[i] != NULL; i += 2)
		if (strcmp(tls[i], name) == 0)
			return tls[i + 1];
	return NULL;
}

/* bench_rcpt - the recipient of message number n: one address, or one of -r */
static void
bench_rcpt(struct bench_ctx *x, long n)
{
	if (opts.rcpts <= 1)
		snprintf(x->rcpt, sizeof(x->rcpt), "%s", BENCH_RCPT);
	else
		snprintf(x->rcpt, sizeof(x->rcpt), "rcpt%ld@smtpscope.test",
		    n % opts.rcpts + 1);
}

/* bench_client - the client address of session number n: one, or one of -a */
static void
bench_client(struct bench_ctx *x, long n)
{
	if (opts.nets <= 1)
		snprintf(x->addr, sizeof(x->addr), "%s", BENCH_CLIENT_ADDR);
	else
		snprintf(x->addr, sizeof(x->addr), "198.%u.%u.25",
		    (unsigned)(18 + n % opts.nets / 256) & 0xff,
		    (unsigned)(n % opts.nets % 256) & 0xff);
	snprintf(x->client, sizeof(x->client), "%s [%s]", BENCH_CLIENT_NAME,
	    x->addr);
}

/* bench_macros - send the macros of one stage that the milter asked for */
static int
bench_macros(const struct bench_conn *c, const struct bench_ctx *x,
    int stage, char cmd)
{
	const char *list = c->symlist[stage] != NULL ? c->symlist[stage] :
	    bench_default_macros[stage];
	char buf[4096], name[64];
	const char *p = list, *v;
	size_t used = 1, nl, vl;

	buf[0] = cmd;
	while (*p != '\0') {
		p += strspn(p, " ,");
		nl = strcspn(p, " ,");
		if (nl == 0 || nl >= sizeof(name))
			break;
		memcpy(name, p, nl);
		name[nl] = '\0';
		p += nl;
		v = bench_macro_value(x, name);
		if (v == NULL || used + nl + strlen(v) + 2 > sizeof(buf))
			continue;
		vl = strlen(v);
		memcpy(buf + used, name, nl + 1);
		used += nl + 1;
		memcpy(buf + used, v, vl + 1);
		used += vl + 1;
	}
	return bench_send(c->fd, SMFIC_MACRO, buf, used);
}

/* bench_step - send one step unless skipped; wait unless no-reply */
static int
bench_step(struct bench_conn *c, struct bench_samples *s, int st, char cmd,
    const void *data, size_t len, uint32_t no_flag, uint32_t nr_flag,
    double *total)
{
	double t0, ms;
	int r;

	if (no_flag != 0 && (c->pflags & no_flag) != 0)
		return SMFIR_CONTINUE;
	t0 = bench_now();
	if (bench_send(c->fd, cmd, data, len) != 0)
		return -1;
	if (nr_flag != 0 && (c->pflags & nr_flag) != 0)
		return SMFIR_CONTINUE;
	r = bench_wait_reply(c->fd);
	ms = (bench_now() - t0) * 1000;
	if (s != NULL)
		bench_sample(s, st, ms);
	*total += ms;
	return r;
}

/* bench_argv - "a\0b\0" from two strings */
static size_t
bench_argv(char *buf, size_t size, const char *a, const char *b)
{
	int n = snprintf(buf, size, "%s%c%s", a, 0, b != NULL ? b : "");

	return n > 0 ? (size_t)n + 1 : 0;
}

/* bench_session_open - negotiate, connect and HELO on a new connection */
static int
bench_session_open(struct bench_conn *c, struct bench_ctx *x,
    struct bench_samples *s, double *total)
{
	char buf[512];
	size_t len;
	int n;

	memset(c, 0, sizeof(*c));
	c->fd = bench_connect(opts.socket);
	if (c->fd < 0 || bench_negotiate(c) != 0)
		return -1;
	if (bench_macros(c, x, 0, SMFIC_CONNECT) != 0)
		return -1;
	n = snprintf(buf, sizeof(buf), BENCH_CLIENT_NAME "%c4%c%c%s", 0,
	    (char)(atoi(x->port) >> 8), (char)(atoi(x->port) & 0xff), x->addr);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -1;
	len = (size_t)n + 1;
	if (bench_step(c, s, ST_CONNECT, SMFIC_CONNECT, buf, len,
	    SMFIP_NOCONNECT, SMFIP_NR_CONN, total) != SMFIR_CONTINUE)
		return -1;
	if (bench_macros(c, x, 1, SMFIC_HELO) != 0)
		return -1;
	return bench_step(c, s, ST_HELO, SMFIC_HELO, BENCH_CLIENT_NAME,
	    sizeof(BENCH_CLIENT_NAME), SMFIP_NOHELO, SMFIP_NR_HELO, total) == SMFIR_CONTINUE ? 0 : -1;
}

/* bench_envelope - MAIL, RCPT, DATA */
static int
bench_envelope(struct bench_conn *c, const struct bench_ctx *x,
    struct bench_samples *s, double *total)
{
	char buf[256];
	size_t len;
	int n;

	if (bench_macros(c, x, 2, SMFIC_MAIL) != 0)
		return -1;
	len = bench_argv(buf, sizeof(buf), "<" BENCH_SENDER ">", "SIZE=2048");
	if (bench_step(c, s, ST_MAIL, SMFIC_MAIL, buf, len, SMFIP_NOMAIL,
	    SMFIP_NR_MAIL, total) != SMFIR_CONTINUE)
		return -1;
	if (bench_macros(c, x, 3, SMFIC_RCPT) != 0)
		return -1;
	n = snprintf(buf, sizeof(buf), "<%s>", x->rcpt);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -1;
	if (bench_step(c, s, ST_RCPT, SMFIC_RCPT, buf, (size_t)n + 1,
	    SMFIP_NORCPT, SMFIP_NR_RCPT, total) != SMFIR_CONTINUE)
		return -1;
	if (bench_macros(c, x, 4, SMFIC_DATA) != 0)
		return -1;
	return bench_step(c, s, ST_DATA, SMFIC_DATA, NULL, 0, SMFIP_NODATA,
	    SMFIP_NR_DATA, total) == SMFIR_CONTINUE ? 0 : -1;
}

/* bench_content - headers, end of headers, body chunks */
static int
bench_content(struct bench_conn *c, const struct bench_ctx *x,
    const struct msgfile *m, struct bench_samples *s, double *total)
{
	char buf[8192];
	size_t i, off, chunk;
	int n, r, lead = (c->pflags & SMFIP_HDR_LEADSPC) != 0;

	for (i = 0; i < m->nhdr; i++) {
		n = snprintf(buf, sizeof(buf), "%s%c%s%s", m->hdr[i].name, 0,
		    lead ? " " : "", m->hdr[i].value);
		if (n < 0 || (size_t)n >= sizeof(buf))
			continue;
		if (bench_step(c, s, ST_HEADER, SMFIC_HEADER, buf, (size_t)n + 1,
		    SMFIP_NOHDRS, SMFIP_NR_HDR, total) != SMFIR_CONTINUE)
			return -1;
	}
	if (bench_macros(c, x, 6, SMFIC_EOH) != 0 ||
	    bench_step(c, s, ST_EOH, SMFIC_EOH, NULL, 0, SMFIP_NOEOH,
	    SMFIP_NR_EOH, total) != SMFIR_CONTINUE)
		return -1;
	for (off = 0; off < m->body_len; off += chunk) {
		chunk = m->body_len - off > MILTER_CHUNK_SIZE ?
		    MILTER_CHUNK_SIZE : m->body_len - off;
		r = bench_step(c, s, ST_BODY, SMFIC_BODY, m->body + off, chunk,
		    SMFIP_NOBODY, SMFIP_NR_BODY, total);
		if (r == SMFIR_SKIP)
			break;	/* the milter wants no more body: go to EOM */
		if (r != SMFIR_CONTINUE)
			return r < 0 ? -1 : 1;	/* failed, or decided early */
	}
	return 0;
}

/* bench_message - one message on an open session */
static int
bench_message(struct bench_conn *c, struct bench_ctx *x,
    const struct msgfile *m, struct bench_samples *s, double *total)
{
	int r;

	if (bench_envelope(c, x, s, total) != 0)
		return -1;
	r = bench_content(c, x, m, s, total);
	if (r > 0)	/* the milter decided before the end: like an MTA, abort */
		return bench_send(c->fd, SMFIC_ABORT, NULL, 0) == 0 ? 0 : -1;
	if (r < 0 || bench_macros(c, x, 5, SMFIC_BODYEOB) != 0)
		return -1;
	r = bench_step(c, s, ST_EOM, SMFIC_BODYEOB, NULL, 0, 0, 0, total);
	return r == SMFIR_CONTINUE || r == SMFIR_ACCEPT ? 0 : -1;
}

/* bench_worker_run - the worker's share of messages */
static void *
bench_worker_run(void *arg)
{
	struct bench_worker *w = arg;
	struct bench_samples *s = &w->s;
	struct bench_conn c;
	struct bench_ctx x;
	double total;
	long i, seq = 0;
	int k;

	memset(&x, 0, sizeof(x));
	x.tls = w->o->tls;
	for (i = 0; i < w->quota; ) {
		snprintf(x.port, sizeof(x.port), "%d", 20000 + (int)(seq % 40000));
		bench_client(&x, seq * w->o->conns + w->id);
		total = 0;
		if (bench_session_open(&c, &x, s, &total) != 0) {
			w->failed++;
			bench_conn_close(&c);
			i++;
			continue;
		}
		for (k = 0; k < w->o->per_conn && i < w->quota; k++, i++, seq++) {
			snprintf(x.qid, sizeof(x.qid), "%X%05lX", w->id, seq);
			bench_rcpt(&x, seq * w->o->conns + w->id);
			if (bench_message(&c, &x, &w->o->corpus[(size_t)(seq + w->id) %
			    w->o->ncorpus], s, &total) != 0) {
				w->failed++;	/* counts toward the quota: no retry loop */
				i++;
				seq++;
				break;
			}
			w->done++;
			bench_sample(&w->s, ST_TOTAL, total);
			total = 0;
		}
		bench_conn_close(&c);
	}
	return NULL;
}

/* bench_phase - run 'total' messages over the connections; merge samples */
static long
bench_phase(long total, struct bench_samples *all, long *failed)
{
	struct bench_worker *w = calloc((size_t)opts.conns, sizeof(*w));
	long done = 0;
	int i;

	if (w == NULL)
		return -1;
	for (i = 0; i < opts.conns; i++) {
		w[i].o = &opts;
		w[i].id = i;
		w[i].quota = total / opts.conns + (i < total % opts.conns);
		pthread_create(&w[i].th, NULL, bench_worker_run, &w[i]);
	}
	for (i = 0; i < opts.conns; i++) {
		pthread_join(w[i].th, NULL);
		done += w[i].done;
		*failed += w[i].failed;
		if (all != NULL)
			bench_samples_merge(all, &w[i].s);
		bench_samples_free(&w[i].s);
	}
	free(w);
	return done;
}

/* bench_hold - RSS growth of the milter per session held mid-message */
static double
bench_hold(void)
{
	struct bench_conn *c = calloc((size_t)opts.hold, sizeof(*c));
	struct bench_proc before, after;
	struct bench_ctx x;
	double total = 0, per = -1;
	int i, open = 0;

	memset(&x, 0, sizeof(x));
	strcpy(x.port, "40000");
	strcpy(x.qid, "HOLD");
	bench_rcpt(&x, 0);
	bench_client(&x, 0);
	if (c == NULL || bench_proc_read(opts.pid, &before) != 0) {
		free(c);
		return -1;
	}
	for (i = 0; i < opts.hold; i++) {
		if (bench_session_open(&c[i], &x, NULL, &total) != 0 ||
		    bench_envelope(&c[i], &x, NULL, &total) != 0 ||
		    bench_content(&c[i], &x, &opts.corpus[0], NULL, &total) != 0)
			break;
		open++;
	}
	usleep(300 * 1000);
	if (open > 0 && bench_proc_read(opts.pid, &after) == 0)
		per = (double)(after.rss_kib - before.rss_kib) / open;
	for (i = 0; i < opts.hold; i++) {
		if (c[i].fd >= 0)
			(void)bench_send(c[i].fd, SMFIC_ABORT, NULL, 0);
		bench_conn_close(&c[i]);
	}
	free(c);
	fprintf(stderr, "held %d of %d sessions open mid-message\n", open,
	    opts.hold);
	return per;
}

/* bench_report - the text report, and the JSON object with -j */
static void
bench_report(struct bench_samples *s, long done, long failed, double secs,
    const struct bench_proc *p0, const struct bench_proc *p1, double hold)
{
	double cpu_ms = opts.pid > 0 && done > 0 ?
	    (p1->cpu_s - p0->cpu_s) * 1000 / done : -1;
	int st, first = 1;

	printf("smtpscope-bench: %s, %d connections, %ld messages (+%ld warm-up), "
	    "%zu corpus file(s)%s\n", opts.socket, opts.conns, done, opts.warmup,
	    opts.ncorpus, opts.tls ? ", TLS macros" : "");
	printf("throughput: %.1f messages/s (%.2f s), %ld failed\n",
	    done / secs, secs, failed);
	printf("latency (ms, steps the milter answers)   p50      p99      max\n");
	for (st = 0; st < ST_N; st++)
		if (s->n[st] > 0)
			printf("  %-38s %7.3f  %7.3f  %7.3f\n", bench_stage_name(st),
			    bench_quantile(s, st, 0.5), bench_quantile(s, st, 0.99),
			    bench_quantile(s, st, 1.0));
	if (opts.pid > 0)
		printf("milter: %.3f CPU ms/message, peak RSS %ld KiB\n", cpu_ms,
		    p1->hwm_kib);
	if (hold >= 0)
		printf("milter: %.1f KiB RSS per open session (%d held)\n", hold,
		    opts.hold);
	if (!opts.json)
		return;
	printf("{\"messages\":%ld,\"failed\":%ld,\"seconds\":%.3f,"
	    "\"msgs_per_s\":%.1f,\"cpu_ms_per_msg\":%.4f,\"peak_rss_kib\":%ld,"
	    "\"kib_per_session\":%.1f,\"latency_ms\":{", done, failed, secs,
	    done / secs, cpu_ms, opts.pid > 0 ? p1->hwm_kib : -1, hold);
	for (st = 0; st < ST_N; st++) {
		if (s->n[st] == 0)
			continue;
		printf("%s\"%s\":{\"p50\":%.4f,\"p99\":%.4f}", first ? "" : ",",
		    bench_stage_name(st), bench_quantile(s, st, 0.5),
		    bench_quantile(s, st, 0.99));
		first = 0;
	}
	printf("}}\n");
}

/* bench_usage - and exit */
static void
bench_usage(void)
{
	fprintf(stderr, "usage: smtpscope-bench -s SOCKET [-c CONNS] [-n MSGS] "
	    "[-w WARMUP] [-k PER] [-m FILE]... [-r RCPTS] [-a NETS] [-p PID] "
	    "[-H HOLD] [-T] [-j]\n");
	exit(64);
}

/* bench_add_corpus - load one -m file */
static void
bench_add_corpus(const char *path)
{
	struct msgfile *grown = realloc(opts.corpus,
	    (opts.ncorpus + 1) * sizeof(*grown));

	if (grown == NULL || msgfile_load(path, &grown[opts.ncorpus]) != 0) {
		fprintf(stderr, "smtpscope-bench: cannot load %s\n", path);
		exit(66);
	}
	opts.corpus = grown;
	opts.ncorpus++;
}

/* bench_options - parse the command line */
static void
bench_options(int argc, char **argv)
{
	int ch;

	while ((ch = getopt(argc, argv, "s:c:n:w:k:m:r:a:p:H:Tj")) != -1) {
		switch (ch) {
		case 's': opts.socket = optarg; break;
		case 'c': opts.conns = atoi(optarg); break;
		case 'n': opts.messages = atol(optarg); break;
		case 'w': opts.warmup = atol(optarg); break;
		case 'k': opts.per_conn = atoi(optarg); break;
		case 'm': bench_add_corpus(optarg); break;
		case 'r': opts.rcpts = atol(optarg); break;
		case 'a': opts.nets = atol(optarg); break;
		case 'p': opts.pid = atol(optarg); break;
		case 'H': opts.hold = atoi(optarg); break;
		case 'T': opts.tls = 1; break;
		case 'j': opts.json = 1; break;
		default: bench_usage();
		}
	}
	if (opts.socket == NULL || opts.conns < 1 || opts.conns > 1000 ||
	    opts.messages < 1 || opts.per_conn < 1 || opts.warmup < 0 ||
	    opts.hold < 0 || (opts.hold > 0 && opts.pid <= 0) ||
	    opts.rcpts < 1 || opts.rcpts > BENCH_RCPTS_MAX ||
	    opts.nets < 1 || opts.nets > BENCH_NETS_MAX)
		bench_usage();
	if (opts.ncorpus == 0) {
		opts.corpus = calloc(1, sizeof(*opts.corpus));
		if (opts.corpus == NULL)
			exit(71);
		msgfile_builtin(&opts.corpus[0]);
		opts.ncorpus = 1;
	}
}

int
main(int argc, char **argv)
{
	struct bench_samples all;
	struct bench_proc p0 = { 0, 0, 0 }, p1 = { 0, 0, 0 };
	long done, failed = 0, wfailed = 0;
	double t0, secs, hold = -1;
	size_t i;

	bench_options(argc, argv);
	memset(&all, 0, sizeof(all));
	if (opts.warmup > 0 && bench_phase(opts.warmup, NULL, &wfailed) < 0)
		return 71;
	if (opts.pid > 0 && bench_proc_read(opts.pid, &p0) != 0) {
		fprintf(stderr, "smtpscope-bench: no process %ld\n", opts.pid);
		return 66;
	}
	t0 = bench_now();
	done = bench_phase(opts.messages, &all, &failed);
	secs = bench_now() - t0;
	if (opts.pid > 0)
		(void)bench_proc_read(opts.pid, &p1);
	if (opts.hold > 0)
		hold = bench_hold();
	bench_report(&all, done, failed + wfailed, secs, &p0, &p1, hold);
	bench_samples_free(&all);
	for (i = 0; i < opts.ncorpus; i++)
		msgfile_free(&opts.corpus[i]);
	free(opts.corpus);
	return failed + wfailed == 0 ? 0 : 1;
}
