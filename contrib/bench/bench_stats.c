/*
 * bench_stats.c - latency samples, quantiles, and a milter's CPU and
 * memory from /proc. Owns the sample arrays (bench_samples_free).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

static const char *const bench_stage_names[ST_N] = {
	"connect", "helo", "mail", "rcpt", "data", "header", "eoh", "body",
	"eom", "message"
};

/* bench_stage_name - a stage's name in the report */
const char *
bench_stage_name(int st)
{
	return bench_stage_names[st];
}

/* bench_now - monotonic seconds */
double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* bench_sample - record one latency in ms; dropped when memory runs out */
void
bench_sample(struct bench_samples *s, int st, double ms)
{
	double *grown;
	size_t cap;

	if (s->n[st] == s->cap[st]) {
		cap = s->cap[st] ? s->cap[st] * 2 : 1024;
		grown = realloc(s->v[st], cap * sizeof(double));
		if (grown == NULL)
			return;
		s->v[st] = grown;
		s->cap[st] = cap;
	}
	s->v[st][s->n[st]++] = ms;
}

/* bench_samples_merge - append every sample of 'from' */
void
bench_samples_merge(struct bench_samples *into, struct bench_samples *from)
{
	size_t i;
	int st;

	for (st = 0; st < ST_N; st++)
		for (i = 0; i < from->n[st]; i++)
			bench_sample(into, st, from->v[st][i]);
}

/* bench_samples_free - release the arrays */
void
bench_samples_free(struct bench_samples *s)
{
	int st;

	for (st = 0; st < ST_N; st++)
		free(s->v[st]);
	memset(s, 0, sizeof(*s));
}

/* bench_cmp - qsort order of doubles */
static int
bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* bench_quantile - nearest-rank quantile */
double
bench_quantile(struct bench_samples *s, int st, double q)
{
	size_t rank;

	if (s->n[st] == 0)
		return -1;
	qsort(s->v[st], s->n[st], sizeof(double), bench_cmp);
	rank = (size_t)(q * (double)s->n[st] + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > s->n[st])
		rank = s->n[st];
	return s->v[st][rank - 1];
}

/* bench_proc_status - one "Key: N kB" line of /proc/PID/status */
static long
bench_proc_status(long pid, const char *key)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	long v = -1;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	fp = fopen(path, "r");
	while (fp != NULL && fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, key, klen) == 0 && line[klen] == ':')
			v = strtol(line + klen + 1, NULL, 10);
	if (fp != NULL)
		fclose(fp);
	return v;
}

/* bench_proc_read - CPU seconds and memory of a process (all threads) */
int
bench_proc_read(long pid, struct bench_proc *p)
{
	char path[64], buf[1024], *rp;
	unsigned long ut, st;
	FILE *fp;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	fp = fopen(path, "r");
	if (fp == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	rp = strrchr(buf, ')');	/* the command name may hold spaces */
	if (rp == NULL || sscanf(rp + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u "
	    "%*u %*u %lu %lu", &ut, &st) != 2)
		return -1;
	p->cpu_s = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
	p->rss_kib = bench_proc_status(pid, "VmRSS");
	p->hwm_kib = bench_proc_status(pid, "VmHWM");
	return 0;
}
