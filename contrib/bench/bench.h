/*
 * bench.h - smtpscope-bench: a milter-protocol (version 6) load generator.
 *
 * It plays an MTA towards any milter socket, the way Postfix 3.7 does:
 * option negotiation (honouring the milter's no-reply and no-step flags
 * and its macro lists), then per message connect, HELO, MAIL, RCPT, DATA,
 * headers, end of headers, body chunks and end of message, with a
 * realistic macro set. Used by the benchmark of smtpscope against other
 * milters on the same load; not installed.
 *
 * bench_wire.c  packets on a socket (owned buffers, bounded reads)
 * lib/msgfile.c  the message corpus (files parsed into headers and body)
 * bench_main.c  options, worker threads, statistics
 */
#ifndef SMTPSCOPE_BENCH_H
#define SMTPSCOPE_BENCH_H

#include <stddef.h>
#include <stdint.h>

#define BENCH_PKT_MAX	(1024 * 1024)	/* largest reply we accept */
#define BENCH_STAGES	7		/* SMFIM_* stage indices 0..6 */

/* one connection to the milter */
struct bench_conn {
	int fd;
	uint32_t actions;	/* offered (0: all), then negotiated */
	uint32_t pflags;	/* negotiated protocol flags */
	char *symlist[BENCH_STAGES];	/* macro names asked for, or NULL */
};

/* wire */
int bench_connect(const char *spec);
int bench_send(int fd, char cmd, const void *data, size_t len);
/* bench_recv - one packet; *data is owned by the caller (free) */
int bench_recv(int fd, char *cmd, char **data, size_t *len);
int bench_negotiate(struct bench_conn *c);
void bench_conn_close(struct bench_conn *c);
/* bench_wait_reply - read until a final reply; returns its command char */
int bench_wait_reply(int fd);

#include "msgfile.h"

/* statistics (bench_stats.c) */
enum bench_stage {
	ST_CONNECT, ST_HELO, ST_MAIL, ST_RCPT, ST_DATA, ST_HEADER, ST_EOH,
	ST_BODY, ST_EOM, ST_TOTAL, ST_N
};

struct bench_samples {
	double *v[ST_N];	/* milliseconds */
	size_t n[ST_N], cap[ST_N];
};

struct bench_proc {
	double cpu_s;		/* utime + stime */
	long rss_kib, hwm_kib;
};

double bench_now(void);
void bench_sample(struct bench_samples *s, int st, double ms);
void bench_samples_merge(struct bench_samples *into, struct bench_samples *from);
void bench_samples_free(struct bench_samples *s);
/* bench_quantile - q in [0,1] of stage st (sorts in place); -1 if none */
double bench_quantile(struct bench_samples *s, int st, double q);
const char *bench_stage_name(int st);
int bench_proc_read(long pid, struct bench_proc *p);

#endif
