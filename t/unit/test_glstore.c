/*
 * test_glstore.c - one list of tests run against every glstore back end:
 * "mem:", "lmdb:" in a scratch directory, and a Redis server this test
 * starts itself (redis-server on a UNIX socket in the scratch directory,
 * nothing on the network; one short-lived TCP instance on 127.0.0.1).
 * A back end that cannot run (mem: not built yet, no redis-server) is a
 * TAP skip. Then what only one back end has: LMDB files, reopen and a
 * second process; Redis TTLs, databases, two handles, a hung, a killed
 * and a restarted server.
 *
 * The Redis servers (and the LMDB test's second process) are killed by
 * PID at exit, on SIGINT/TERM/HUP/ABRT and on the watchdog alarm, and die
 * with this process (PDEATHSIG). KEEP=1 keeps the scratch directory.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "errors.h"
#include "greylist/glstore.h"
#include "greylist/greylist.h"
#include "tap.h"

#define COMMON_TESTS	26	/* test_common() */
#define LMDB_TESTS	8	/* test_lmdb() */
#define SPEC_TESTS	8	/* test_redis_specs() */
#define REDIS_TESTS	17	/* test_redis() */
#define GROW_TESTS	9	/* test_lmdb_grow() */
#define RGREY_TESTS	6	/* test_redis_greylist() */
#define NTHREADS	8
#define NINCR		500
#define NVISIT		2500

static char dir[64];
static volatile pid_t redis_pid, redis_tcp_pid, lmdb_child;

/* skip - n skipped tests */
static void
skip(int n, const char *why)
{
	while (n-- > 0)
		printf("ok %d # skip %s\n", ++tap_n, why);
	fflush(stdout);
}

/* now_ms - monotonic milliseconds */
static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* path_in - dir/name */
static const char *
path_in(char *buf, size_t sz, const char *name)
{
	if ((size_t)snprintf(buf, sz, "%s/%.*s", dir, 100, name) >= sz)
		buf[0] = '\0';
	return buf;
}

/* ---- the Redis servers ---- */

/* kill_servers - async-signal-safe: kill exactly our servers */
static void
kill_servers(void)
{
	if (redis_pid > 0)
		kill(redis_pid, SIGKILL);
	if (redis_tcp_pid > 0)
		kill(redis_tcp_pid, SIGKILL);
	if (lmdb_child > 0)
		kill(lmdb_child, SIGKILL);
}

static void
on_signal(int sig)
{
	kill_servers();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* cleanup - atexit: servers, then the scratch directory */
static void
cleanup(void)
{
	char p[256];
	struct dirent *d;
	DIR *dp;

	kill_servers();
	if (redis_pid > 0)
		waitpid(redis_pid, NULL, 0);
	if (redis_tcp_pid > 0)
		waitpid(redis_tcp_pid, NULL, 0);
	redis_pid = redis_tcp_pid = 0;
	if (dir[0] == '\0' || getenv("KEEP") != NULL)
		return;
	if ((dp = opendir(dir)) != NULL) {
		while ((d = readdir(dp)) != NULL)
			if (strcmp(d->d_name, ".") != 0 &&
			    strcmp(d->d_name, "..") != 0)
				unlink(path_in(p, sizeof(p), d->d_name));
		closedir(dp);
	}
	rmdir(dir);
}

/* find_redis - $REDIS_SERVER or redis-server on PATH, /usr/bin, /usr/sbin */
static bool
find_redis(char *out, size_t sz)
{
	const char *env = getenv("REDIS_SERVER");
	char path[1024], *d, *save = NULL;

	if (env != NULL && *env != '\0') {
		snprintf(out, sz, "%s", env);
		return access(out, X_OK) == 0;
	}
	snprintf(path, sizeof(path), "%s:/usr/bin:/usr/sbin:/usr/local/bin",
	    getenv("PATH") != NULL ? getenv("PATH") : "");
	for (d = strtok_r(path, ":", &save); d != NULL;
	    d = strtok_r(NULL, ":", &save)) {
		snprintf(out, sz, "%s/redis-server", d);
		if (access(out, X_OK) == 0)
			return true;
	}
	return false;
}

/* start_redis - redis-server on dir/redis.sock (port 0) or on
 * 127.0.0.1:port (no socket); returns its PID or -1 */
static pid_t
start_redis(const char *bin, int port, const char *log)
{
	char sock[128], logp[128], portbuf[16];
	const char *argv[20];
	int n = 0, fd;
	pid_t pid;

	snprintf(portbuf, sizeof(portbuf), "%d", port);
	path_in(sock, sizeof(sock), "redis.sock");
	path_in(logp, sizeof(logp), log);
	argv[n++] = bin;
	argv[n++] = "--port";
	argv[n++] = portbuf;
	if (port == 0) {
		unlink(sock);
		argv[n++] = "--unixsocket";
		argv[n++] = sock;
		argv[n++] = "--unixsocketperm";
		argv[n++] = "700";
	} else {
		argv[n++] = "--bind";
		argv[n++] = "127.0.0.1";
	}
	argv[n++] = "--save";
	argv[n++] = "";
	argv[n++] = "--appendonly";
	argv[n++] = "no";
	argv[n++] = "--daemonize";
	argv[n++] = "no";
	argv[n++] = "--dir";
	argv[n++] = dir;
	argv[n] = NULL;
	fflush(stdout);
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fd = open(logp, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	return pid;
}

/* wait_listening - until a connect to the socket (or port) succeeds */
static bool
wait_listening(int port, long ms)
{
	long long end = now_ms() + ms;
	struct sockaddr_un sun;
	struct sockaddr_in sin;
	int fd, rc;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/redis.sock", dir);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	do {
		fd = socket(port == 0 ? AF_UNIX : AF_INET, SOCK_STREAM, 0);
		rc = port == 0 ? connect(fd, (struct sockaddr *)&sun,
		    sizeof(sun)) : connect(fd, (struct sockaddr *)&sin,
		    sizeof(sin));
		close(fd);
		if (rc == 0)
			return true;
		sleep_ms(20);
	} while (now_ms() < end);
	return false;
}

/* free_port - a TCP port free on 127.0.0.1 just now */
static int
free_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
		port = ntohs(sin.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* stop_server - SIGKILL and reap one of our servers */
static void
stop_server(volatile pid_t *pid)
{
	pid_t p = *pid;

	if (p <= 0)
		return;
	kill(p, SIGKILL);
	waitpid(p, NULL, 0);
	*pid = 0;
}

/* ---- read-modify-write functions ---- */

/* fn_incr - out[0] = in[0] + 1 (decimal), other keys left alone */
static int
fn_incr(void *arg, const struct glstore_val *in, struct glstore_val *out,
    unsigned n)
{
	char buf[32];
	long v = 0;
	unsigned i;

	(void)arg;
	if (in[0].present && in[0].len < sizeof(buf)) {
		memcpy(buf, in[0].data, in[0].len);
		buf[in[0].len] = '\0';
		v = strtol(buf, NULL, 10);
	}
	out[0].len = (size_t)snprintf(out[0].data, sizeof(out[0].data),
	    "%ld", v + 1);
	out[0].present = true;
	for (i = 1; i < n; i++)
		out[i].present = false;
	return 0;
}

/* what the first rmw test saw */
struct seen {
	unsigned calls;
	bool present[GLSTORE_RMW_KEYS];
	char first[32];
};

/* fn_create - record what was read; write "1" to key 0 and "z" to key 2 */
static int
fn_create(void *arg, const struct glstore_val *in, struct glstore_val *out,
    unsigned n)
{
	struct seen *s = arg;
	unsigned i;

	s->calls++;
	for (i = 0; i < n; i++)
		s->present[i] = in[i].present;
	snprintf(s->first, sizeof(s->first), "%.*s",
	    in[0].present ? (int)in[0].len : 0, in[0].data);
	fn_incr(NULL, in, out, n);
	out[2].present = true;
	out[2].len = 1;
	out[2].data[0] = 'z';
	return 0;
}

/* fn_fail - change everything, then refuse */
static int
fn_fail(void *arg, const struct glstore_val *in, struct glstore_val *out,
    unsigned n)
{
	fn_incr(arg, in, out, n);
	return -42;
}

/* fn_oversize - claim a value longer than GLSTORE_VAL_MAX */
static int
fn_oversize(void *arg, const struct glstore_val *in, struct glstore_val *out,
    unsigned n)
{
	(void)arg;
	(void)in;
	(void)n;
	out[0].present = true;
	out[0].len = GLSTORE_VAL_MAX + 1;
	return 0;
}

/* ---- helpers over the store ---- */

/* get_str - a key's value as a string, "(absent)" or "(error N)" */
static const char *
get_str(struct glstore *s, const char *key, char *buf, size_t sz)
{
	struct glstore_val v;
	int rc = glstore_get(s, key, &v);

	if (rc == SCOPE_ENOENT && !v.present)
		snprintf(buf, sz, "(absent)");
	else if (rc != SCOPE_OK || !v.present)
		snprintf(buf, sz, "(error %d)", rc);
	else
		snprintf(buf, sz, "%.*s", (int)v.len, v.data);
	return buf;
}

struct worker {
	struct glstore *s;
	const char *key;
	unsigned retried;	/* rmw calls that failed and were repeated */
	unsigned failed;	/* increments given up */
};

/* worker_run - NINCR increments, each repeated until it succeeds */
static void *
worker_run(void *p)
{
	struct worker *w = p;
	const char *keys[1] = { w->key };
	int i, tries;

	for (i = 0; i < NINCR; i++) {
		for (tries = 0; tries < 100; tries++) {
			if (glstore_rmw(w->s, keys, 1, 3600, fn_incr,
			    NULL) == SCOPE_OK)
				break;
			w->retried++;
		}
		if (tries == 100)
			w->failed++;
	}
	return NULL;
}

/* hammer - NTHREADS x NINCR increments of key, threads alternating over
 * the handles; returns failures, *retried the repeated calls, *ops_s the
 * rate */
static unsigned
hammer(struct glstore **s, int nhandles, const char *key, unsigned *retried,
    double *ops_s)
{
	struct worker w[NTHREADS];
	pthread_t th[NTHREADS];
	unsigned failed = 0;
	long long t0 = now_ms();
	int i;

	*retried = 0;
	for (i = 0; i < NTHREADS; i++) {
		w[i] = (struct worker){ s[i % nhandles], key, 0, 0 };
		pthread_create(&th[i], NULL, worker_run, &w[i]);
	}
	for (i = 0; i < NTHREADS; i++) {
		pthread_join(th[i], NULL);
		failed += w[i].failed;
		*retried += w[i].retried;
	}
	*ops_s = NTHREADS * NINCR * 1000.0 / (double)(now_ms() - t0 + 1);
	return failed;
}

/* fill - NVISIT entries v|NNNNN = NNNNN, four keys per rmw */
static int
fn_fill(void *arg, const struct glstore_val *in, struct glstore_val *out,
    unsigned n)
{
	const int *base = arg;
	unsigned i;

	(void)in;
	for (i = 0; i < n; i++) {
		out[i].present = true;
		out[i].len = (size_t)snprintf(out[i].data,
		    sizeof(out[i].data), "%d", *base + (int)i);
	}
	return 0;
}

static bool
fill(struct glstore *s)
{
	char k[4][32];
	const char *keys[4] = { k[0], k[1], k[2], k[3] };
	int i, j;

	for (i = 0; i < NVISIT; i += 4) {
		for (j = 0; j < 4; j++)
			snprintf(k[j], sizeof(k[j]), "v|%05d", i + j);
		if (glstore_rmw(s, keys, NVISIT - i < 4 ? (unsigned)(NVISIT - i)
		    : 4, 0, fn_fill, &i) != SCOPE_OK)
			return false;
	}
	return true;
}

struct visit {
	unsigned char seen[NVISIT];
	unsigned calls, distinct, outside, badval;
	int stop_after;		/* > 0: return -5 at this call */
	bool del_even;
	const char *prefix;
};

/* visitor - check and count each entry; delete even ones if asked */
static int
visitor(void *arg, const char *key, const char *val, size_t len)
{
	struct visit *v = arg;
	char buf[16];
	long i;

	v->calls++;
	if (v->stop_after > 0 && v->calls == (unsigned)v->stop_after)
		return -5;
	if (strncmp(key, v->prefix, strlen(v->prefix)) != 0) {
		v->outside++;
		return 0;
	}
	if (strncmp(key, "v|", 2) != 0)
		return 0;
	i = strtol(key + 2, NULL, 10);
	if (i < 0 || i >= NVISIT)
		return 0;
	snprintf(buf, sizeof(buf), "%ld", i);
	if (len != strlen(buf) || memcmp(val, buf, len) != 0)
		v->badval++;
	if (!v->seen[i]++)
		v->distinct++;
	return v->del_even && i % 2 == 0 ? 1 : 0;
}

/* ---- the common list ---- */

/* label - "name: text" for is_int and is_str (one at a time) */
static const char *
label(const char *name, const char *text)
{
	static char msg[160];

	snprintf(msg, sizeof(msg), "%s: %s", name, text);
	return msg;
}

#define NAME(text) label(name, text)

/* test_kv - put, get, del: 8 tests */
static void
test_kv(struct glstore *s, const char *name)
{
	char buf[64], longkey[GLSTORE_KEY_MAX + 8];
	struct glstore_val v;
	int rc;

	is_int(glstore_put(s, "k|a", "hello", 5, 60), SCOPE_OK, NAME("put"));
	is_str(get_str(s, "k|a", buf, sizeof(buf)), "hello",
	    NAME("get returns what was put"));
	rc = glstore_get(s, "k|none", &v);
	ok(rc == SCOPE_ENOENT && !v.present,
	    "%s: get of an absent key: SCOPE_ENOENT, not present", name);
	is_int(glstore_del(s, "k|a"), SCOPE_OK, NAME("del"));
	is_int(glstore_del(s, "k|a"), SCOPE_ENOENT,
	    NAME("del of an absent key: SCOPE_ENOENT"));
	is_str(get_str(s, "k|a", buf, sizeof(buf)), "(absent)",
	    NAME("gone after del"));
	glstore_put(s, "k|bin", "a\0b\n", 4, 60);
	rc = glstore_get(s, "k|bin", &v);
	ok(rc == SCOPE_OK && v.len == 4 && memcmp(v.data, "a\0b\n", 4) == 0,
	    "%s: values are bytes (NUL, newline)", name);
	memset(longkey, 'k', GLSTORE_KEY_MAX);
	longkey[GLSTORE_KEY_MAX] = '\0';
	ok(glstore_put(s, longkey, "x", 1, 60) < 0,
	    "%s: a key of GLSTORE_KEY_MAX bytes is refused", name);
}

/* test_rmw - create, read, update, refuse: 9 tests */
static void
test_rmw(struct glstore *s, const char *name)
{
	const char *keys[3] = { "t|x", "c|x", "a|x" };
	struct seen seen = { 0 };
	char buf[64];
	int rc;

	glstore_del(s, "t|x");
	glstore_del(s, "c|x");
	glstore_del(s, "a|x");
	is_int(glstore_rmw(s, keys, 3, 60, fn_create, &seen), SCOPE_OK,
	    NAME("rmw over absent keys"));
	is_str(get_str(s, "t|x", buf, sizeof(buf)), "1",
	    NAME("rmw creates a key"));
	is_str(get_str(s, "c|x", buf, sizeof(buf)), "(absent)",
	    NAME("rmw leaves a key not marked present alone"));
	ok(!seen.present[0] && !seen.present[1] && !seen.present[2] &&
	    strcmp(get_str(s, "a|x", buf, sizeof(buf)), "z") == 0,
	    "%s: rmw read all keys absent, wrote the third", name);
	memset(&seen, 0, sizeof(seen));
	rc = glstore_rmw(s, keys, 3, 60, fn_create, &seen);
	ok(rc == SCOPE_OK && seen.present[0] && !seen.present[1] &&
	    seen.present[2] && strcmp(seen.first, "1") == 0,
	    "%s: rmw reads existing and absent keys", name);
	is_str(get_str(s, "t|x", buf, sizeof(buf)), "2",
	    NAME("rmw updates a key"));
	is_int(glstore_rmw(s, keys, 3, 60, fn_fail, NULL), -42,
	    NAME("rmw returns the function's failure"));
	is_str(get_str(s, "t|x", buf, sizeof(buf)), "2",
	    NAME("a failed function writes nothing"));
	ok(glstore_rmw(s, keys, 1, 60, fn_oversize, NULL) < 0 &&
	    strcmp(get_str(s, "t|x", buf, sizeof(buf)), "2") == 0,
	    "%s: rmw refuses a value over GLSTORE_VAL_MAX, writes nothing",
	    name);
}

/* test_visit - batches, prefixes, deletions, stopping: 7 tests */
static void
test_visit(struct glstore *s, const char *name)
{
	struct visit vis;
	char buf[64];
	int rc;

	ok(fill(s), "%s: %d entries written", name, NVISIT);
	glstore_put(s, "w|other", "1", 1, 60);
	glstore_put(s, "u|other", "1", 1, 60);
	memset(&vis, 0, sizeof(vis));
	vis.prefix = "v|";
	vis.del_even = true;
	is_int(glstore_visit(s, "v|", visitor, &vis), SCOPE_OK,
	    NAME("visit over more than one batch"));
	ok(vis.distinct == NVISIT && vis.calls >= NVISIT,
	    "%s: visit sees every entry under the prefix (%u of %d, %u calls)",
	    name, vis.distinct, NVISIT, vis.calls);
	ok(vis.outside == 0 && vis.badval == 0,
	    "%s: visit sees only the prefix, with the right values", name);
	memset(&vis, 0, sizeof(vis));
	vis.prefix = "";
	glstore_visit(s, "v|", visitor, &vis);
	ok(vis.distinct == NVISIT / 2 && vis.seen[1] && !vis.seen[2] &&
	    strcmp(get_str(s, "w|other", buf, sizeof(buf)), "1") == 0,
	    "%s: visit deleted what the visitor marked, nothing else (%u left)",
	    name, vis.distinct);
	glstore_put(s, "g*|1", "1", 1, 60);
	glstore_put(s, "gx|1", "1", 1, 60);
	glstore_put(s, "g[*]?\\|1", "1", 1, 60);
	glstore_put(s, "g[x]?\\|1", "1", 1, 60);
	memset(&vis, 0, sizeof(vis));
	vis.prefix = "";
	glstore_visit(s, "g*", visitor, &vis);
	rc = (int)vis.calls;
	memset(&vis, 0, sizeof(vis));
	vis.prefix = "";
	glstore_visit(s, "g[*]?\\", visitor, &vis);
	ok(rc == 1 && vis.calls == 1,
	    "%s: glob characters in a prefix are literal (%d, %u)", name, rc,
	    vis.calls);
	memset(&vis, 0, sizeof(vis));
	vis.prefix = "";
	vis.stop_after = 3;
	rc = glstore_visit(s, "v|", visitor, &vis);
	ok(rc == -5 && vis.calls == 3,
	    "%s: a visitor's negative code stops the visit", name);
}

/* test_common - the list every back end passes: COMMON_TESTS tests */
static void
test_common(struct glstore *s, const char *name)
{
	unsigned failed, retried;
	char buf[64], msg[128];
	double rate;

	test_kv(s, name);
	test_rmw(s, name);
	test_visit(s, name);
	glstore_del(s, "n|counter");
	failed = hammer(&s, 1, "n|counter", &retried, &rate);
	is_str(get_str(s, "n|counter", buf, sizeof(buf)), "4000",
	    NAME("8 threads x 500 rmw increments: exactly 4000"));
	is_int(failed, 0, NAME("no increment given up"));
	snprintf(msg, sizeof(msg), "%s: rmw %.0f ops/s, %u retried", name,
	    rate, retried);
	diag(msg);
}

/* ---- LMDB only ---- */

static void
test_lmdb(struct glstore **sp, const char *spec, const char *path)
{
	char buf[64], lock[256], link[200];
	struct glstore *s = *sp, *t;
	struct stat st;
	unsigned failed, retried;
	double rate;
	int status = -1;
	pid_t pid;

	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600,
	    "lmdb: the file is created 0600");
	snprintf(lock, sizeof(lock), "%s-lock", path);
	ok(stat(lock, &st) == 0 && (st.st_mode & 0777) == 0600,
	    "lmdb: one lock file beside it, 0600");
	glstore_close(s);
	*sp = NULL;
	ok(glstore_open(sp, spec, 0, buf, sizeof(buf)) == SCOPE_OK &&
	    strcmp(get_str(*sp, "t|x", buf, sizeof(buf)), "2") == 0,
	    "lmdb: state survives close and reopen");
	s = *sp;
	if (s == NULL) {
		skip(LMDB_TESTS - 3, "lmdb: reopen failed");
		return;
	}

	/* a second process with its own environment, incrementing at once */
	glstore_del(s, "n|fork");
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		redis_pid = redis_tcp_pid = 0;
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (glstore_open(&t, spec, 0, buf, sizeof(buf)) != SCOPE_OK)
			_exit(2);
		failed = hammer(&t, 1, "n|fork", &retried, &rate);
		glstore_close(t);
		_exit(failed == 0 ? 0 : 1);
	}
	lmdb_child = pid;
	failed = hammer(&s, 1, "n|fork", &retried, &rate);
	if (pid > 0)
		waitpid(pid, &status, 0);
	lmdb_child = 0;
	ok(pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
	    failed == 0, "lmdb: a second process increments beside us");
	is_str(get_str(s, "n|fork", buf, sizeof(buf)), "8000",
	    "lmdb: two processes x 4000 increments: exactly 8000");

	snprintf(link, sizeof(link), "%s/link.mdb", dir);
	ok(symlink(path, link) == 0 &&
	    glstore_open(&t, (snprintf(lock, sizeof(lock), "lmdb:%s", link),
	    lock), 0, buf, sizeof(buf)) == SCOPE_EINVAL,
	    "lmdb: a symbolic link is refused");
	ok(glstore_open(&t, (snprintf(lock, sizeof(lock), "lmdb:%s", dir),
	    lock), 0, buf, sizeof(buf)) != SCOPE_OK,
	    "lmdb: a directory is refused");
	ok(glstore_open(&t, "lmdb:", 0, buf, sizeof(buf)) == SCOPE_EINVAL &&
	    buf[0] != '\0', "lmdb: an empty path is refused with a reason");
}

/* fill_g - put 200-byte values under g|NNNNN from *i on until a put
 * fails or n are written; the failure's code (SCOPE_OK: all written) */
static int
fill_g(struct glstore *s, unsigned *i, unsigned n)
{
	char key[32], val[200];
	unsigned end = *i + n;
	int rc = SCOPE_OK;

	memset(val, 'v', sizeof(val));
	for (; *i < end && rc == SCOPE_OK; (*i)++) {
		snprintf(key, sizeof(key), "g|%05u", *i);
		rc = glstore_put(s, key, val, sizeof(val), 0);
	}
	return rc;
}

/* file_size - st_size of dir/name, -1 if none */
static long long
file_size(const char *name)
{
	char p[160];
	struct stat st;

	return stat(path_in(p, sizeof(p), name), &st) == 0 ?
	    (long long)st.st_size : -1;
}

/* grow_child - a second process that opened the store while its map was
 * small: after the parent grew it, read the parent's latest key and
 * write one of its own (exit 0), 2 open failed, 3 read, 4 write */
static void
grow_child(const char *spec, int ready, int go)
{
	struct glstore_opts o = { 0, 1 << 20, 64 << 10 };
	char buf[64], c = 0;
	struct glstore *t;
	struct glstore_val v;

	redis_pid = redis_tcp_pid = 0;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (glstore_open_opts(&t, spec, &o, buf, sizeof(buf)) != SCOPE_OK)
		_exit(2);
	(void)!write(ready, "r", 1);
	(void)!read(go, &c, 1);
	if (glstore_get(t, "g|last", &v) != SCOPE_OK || v.len != 4)
		_exit(3);
	if (glstore_put(t, "g|child", "kid", 3, 0) != SCOPE_OK)
		_exit(4);
	glstore_close(t);
	_exit(0);
}

/* test_lmdb_grow - a map of 64 KiB grows to GreylistMaxSize (1 MiB here)
 * as it fills; a second process that opened it small adopts the larger
 * map; at the maximum, SCOPE_ENOSPC; deletions still work when full */
static void
test_lmdb_grow(void)
{
	struct glstore_opts o = { 0, 1 << 20, 64 << 10 };
	char spec[200], path[160], buf[256];
	int ready[2], go[2], status = -1, rc;
	unsigned i = 0, n, del;
	struct glstore *s;
	pid_t pid;

	path_in(path, sizeof(path), "grow.mdb");
	snprintf(spec, sizeof(spec), "lmdb:%s", path);
	if (glstore_open_opts(&s, spec, &o, buf, sizeof(buf)) != SCOPE_OK ||
	    pipe(ready) != 0 || pipe(go) != 0) {
		skip(GROW_TESTS, "lmdb: grow store did not open");
		return;
	}
	fflush(stdout);
	if ((pid = fork()) == 0)
		grow_child(spec, ready[1], go[0]);
	lmdb_child = pid;
	ok(pid > 0 && read(ready[0], buf, 1) == 1,
	    "lmdb grow: a second process opened the 64 KiB map");
	rc = fill_g(s, &i, 1500);
	ok(rc == SCOPE_OK, "lmdb grow: 1500 x 200 bytes written into a 64 KiB "
	    "map without an error (%s)", rc == 0 ? "ok" : glstore_error());
	ok(file_size("grow.mdb") > 300 << 10, "lmdb grow: the file grew past "
	    "the first map (%lld bytes)", file_size("grow.mdb"));
	glstore_put(s, "g|last", "last", 4, 0);
	(void)!write(go[1], "g", 1);
	if (pid > 0)
		waitpid(pid, &status, 0);
	lmdb_child = 0;
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "lmdb grow: the "
	    "other process adopts the grown map, reads and writes (exit %d)",
	    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	is_str(get_str(s, "g|child", buf, sizeof(buf)), "kid",
	    "lmdb grow: its write is seen here");
	n = i;
	rc = fill_g(s, &i, 20000);
	ok(rc == SCOPE_ENOSPC && i > n, "lmdb grow: at GreylistMaxSize "
	    "SCOPE_ENOSPC (%d after %u more)", rc, i - n);
	ok(strstr(glstore_error(), "store full") != NULL &&
	    strstr(glstore_error(), "GreylistMaxSize 1 MiB") != NULL,
	    "lmdb grow: the reason names the limit (%s)", glstore_error());
	ok(file_size("grow.mdb") <= (1 << 20) + (1 << 16),
	    "lmdb grow: the file stays within the limit and a sixteenth "
	    "(%lld bytes)", file_size("grow.mdb"));
	for (del = 0, n = 0; n + 1 < i; n++) {
		snprintf(buf, sizeof(buf), "g|%05u", n);
		del += glstore_del(s, buf) == SCOPE_OK;
	}
	is_int(del, i - 1, "lmdb grow: a full store still deletes every "
	    "entry");
	glstore_close(s);
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
}

/* ---- Redis only ---- */

static int
fn_ttl(void *arg, const struct glstore_val *in, struct glstore_val *out,
    unsigned n)
{
	(void)arg;
	(void)in;
	(void)n;
	out[0].present = true;
	out[0].len = 1;
	out[0].data[0] = 'r';
	return 0;
}

/* timed_get - a get's return code and its duration */
static int
timed_get(struct glstore *s, long long *ms)
{
	struct glstore_val v;
	long long t0 = now_ms();
	int rc = glstore_get(s, "t|x", &v);

	*ms = now_ms() - t0;
	return rc;
}

/* recover - retry a put for up to ms; true when it worked */
static bool
recover(struct glstore *s, long ms)
{
	long long end = now_ms() + ms;

	do {
		if (glstore_put(s, "k|up", "1", 1, 60) == SCOPE_OK)
			return true;
		sleep_ms(50);
	} while (now_ms() < end);
	return false;
}

static void
test_redis_specs(void)
{
	static const char *const bad[] = {
		"redis:nohost", "redis:host:0", "redis:[::1]6379",
		"redis:unix:relative.sock"
	};
	char err[256], spec[160];
	struct glstore *t;
	long long ms;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(glstore_open(&t, bad[i], 200, err, sizeof(err)) ==
		    SCOPE_EINVAL && err[0] != '\0', "redis: '%s' refused", bad[i]);
	rc = glstore_open(&t, "redis:[::1]:6379/2", 200, err, sizeof(err));
	glstore_close(t);
	rc |= glstore_open(&t, "redis:localhost:6379", 200, err, sizeof(err));
	glstore_close(t);
	rc |= glstore_open(&t, "redis:unix:/x/y.sock/15", 200, err,
	    sizeof(err));
	glstore_close(t);
	is_int(rc, SCOPE_OK, "redis: [v6]:port/db, host:port, unix:/path/db");
	snprintf(spec, sizeof(spec), "redis:unix:%s/none.sock", dir);
	ok(glstore_open(&t, spec, 200, err, sizeof(err)) == SCOPE_OK,
	    "redis: opens while the server is down (lazy connect)");
	if (t == NULL) {
		skip(2, "no handle");
		return;
	}
	rc = timed_get(t, &ms);
	ok(rc == SCOPE_EIO && ms < 200, "redis: down: SCOPE_EIO at once "
	    "(%lld ms)", ms);
	ok(strstr(glstore_error(), "connect") != NULL,
	    "redis: down: the reason names the connect (%s)", glstore_error());
	glstore_close(t);
}

/* test_redis - TTLs, databases, two handles */
static void
test_redis(struct glstore *s, const char *spec)
{
	struct glstore *h[2] = { s, NULL };
	const char *rkey[1] = { "ttl|r" };
	char buf[256], spec3[256];
	struct glstore *t;
	unsigned failed, retried;
	double rate;
	int rc;

	ok(glstore_put(s, "ttl|p", "1", 1, 1) == SCOPE_OK &&
	    strcmp(get_str(s, "ttl|p", buf, sizeof(buf)), "1") == 0,
	    "redis: an entry with ttl 1 is there at once");
	glstore_rmw(s, rkey, 1, 1, fn_ttl, NULL);
	glstore_put(s, "ttl|0", "1", 1, 0);
	sleep_ms(1500);
	is_str(get_str(s, "ttl|p", buf, sizeof(buf)), "(absent)",
	    "redis: put's ttl honoured (gone after 1.5 s)");
	is_str(get_str(s, "ttl|r", buf, sizeof(buf)), "(absent)",
	    "redis: rmw's ttl honoured");
	is_str(get_str(s, "ttl|0", buf, sizeof(buf)), "1",
	    "redis: ttl 0 never expires");

	snprintf(spec3, sizeof(spec3), "%s/3", spec);
	rc = glstore_open(&t, spec3, 200, buf, sizeof(buf));
	if (rc == SCOPE_OK) {
		glstore_put(t, "db|3", "1", 1, 60);
		ok(strcmp(get_str(t, "db|3", buf, sizeof(buf)), "1") == 0 &&
		    strcmp(get_str(s, "db|3", buf, sizeof(buf)), "(absent)") == 0,
		    "redis: /3 selects another database");
		glstore_close(t);
	} else
		ok(0, "redis: open %s: %s", spec3, buf);

	if (glstore_open(&h[1], spec, 200, buf, sizeof(buf)) == SCOPE_OK) {
		failed = hammer(h, 2, "n|two", &retried, &rate);
		is_str(get_str(s, "n|two", buf, sizeof(buf)), "4000",
		    "redis: two handles (two MX hosts) x 4 threads: exactly 4000");
		is_int(failed, 0, "redis: two handles: no increment given up");
		snprintf(buf, sizeof(buf), "redis, two handles: rmw %.0f ops/s, "
		    "%u retried", rate, retried);
		diag(buf);
		glstore_close(h[1]);
	} else
		skip(2, "second handle");
}

/* redis_cmd_int - an integer reply of one command on our test server,
 * -100 on any failure */
static long long
redis_cmd_int(const char *fmt, const char *arg)
{
	char sock[128];
	redisContext *c = redisConnectUnix(path_in(sock, sizeof(sock),
	    "redis.sock"));
	redisReply *r;
	long long v = -100;

	if (c == NULL || c->err)
		goto out;
	r = redisCommand(c, fmt, arg);
	if (r != NULL && r->type == REDIS_REPLY_INTEGER)
		v = r->integer;
	else if (r != NULL && r->type == REDIS_REPLY_STATUS)
		v = strcmp(r->str, "OK") == 0 ? 0 : -100;
	if (r != NULL)
		freeReplyObject(r);
out:
	if (c != NULL)
		redisFree(c);
	return v;
}

/* test_redis_greylist - issue 12 on Redis: an unconfirmed triplet and
 * its chain live the retry window (TTL), a passed one the lifetime; a
 * server at its maxmemory is a full store (SCOPE_ENOSPC, store_full) */
static void
test_redis_greylist(struct glstore *s)
{
	struct greylist_params p;
	struct greylist_attempt a = { "192.0.2.7", NULL, "ttl@x.example",
	    "r@y.example", 1800000000, false, GREYLIST_OFF };
	struct greylist_result r;
	long long ttl, cttl;

	greylist_params_default(&p);
	p.mode = GREYLIST_ENFORCE;
	greylist_check(&p, s, &a, &r);
	ttl = redis_cmd_int("TTL %s", "t|192.0.2.0/24|ttl@x.example|r@y.example");
	cttl = redis_cmd_int("TTL %s", "c|ttl@x.example|r@y.example");
	ok(r.verdict == GREYLIST_NEW && ttl > p.window_s - 5 &&
	    ttl <= p.window_s, "redis greylist: a new triplet's TTL is the "
	    "retry window (%lld s)", ttl);
	ok(cttl > p.window_s - 5 && cttl <= p.window_s,
	    "redis greylist: so is its chain's (%lld s)", cttl);
	a.now += 1000;
	greylist_check(&p, s, &a, &r);
	ttl = redis_cmd_int("TTL %s", "t|192.0.2.0/24|ttl@x.example|r@y.example");
	ok(r.verdict == GREYLIST_PASSED && ttl > p.lifetime_s - 5 &&
	    ttl <= p.lifetime_s, "redis greylist: once it passed, the "
	    "lifetime (%lld s)", ttl);
	ok(redis_cmd_int("CONFIG SET maxmemory %s", "1") == 0 &&
	    glstore_put(s, "k|oom", "x", 1, 60) == SCOPE_ENOSPC &&
	    glstore_full(s, NULL), "redis greylist: a server at maxmemory is "
	    "full: SCOPE_ENOSPC (%s)", glstore_error());
	a.sender = "oom@x.example";
	greylist_check(&p, s, &a, &r);
	ok(r.verdict == GREYLIST_ERROR && r.store_full &&
	    !greylist_refuses(&p, &r), "redis greylist: verdict error, "
	    "store_full, not refused (%s)", r.error);
	ok(redis_cmd_int("CONFIG SET maxmemory %s", "0") == 0 &&
	    glstore_put(s, "k|oom", "x", 1, 60) == SCOPE_OK,
	    "redis greylist: writes again below maxmemory");
}

/* test_redis_faults - a hung, a killed, a restarted server; then TCP */
static void
test_redis_faults(struct glstore *s, const char *bin)
{
	char buf[256], spec[64];
	struct glstore *t;
	long long ms;
	int rc, port;

	/* a hung server: every reply times out */
	kill(redis_pid, SIGSTOP);
	rc = timed_get(s, &ms);
	ok(rc == SCOPE_EIO, "redis: hung server: SCOPE_EIO");
	ok(ms >= 150 && ms < 1000, "redis: hung server: after the 200 ms "
	    "timeout (%lld ms)", ms);
	ok(strstr(glstore_error(), "no answer") != NULL,
	    "redis: hung server: reason (%s)", glstore_error());
	rc = timed_get(s, &ms);
	ok(rc == SCOPE_EIO && ms < 50 && strstr(glstore_error(), "down"),
	    "redis: no reconnect within a second: fails at once (%lld ms, %s)",
	    ms, glstore_error());
	kill(redis_pid, SIGCONT);
	ok(recover(s, 3000), "redis: recovers once the server answers again");

	/* a killed server, restarted on the same socket */
	stop_server(&redis_pid);
	rc = timed_get(s, &ms);
	ok(rc == SCOPE_EIO && ms < 1000, "redis: killed server: SCOPE_EIO "
	    "quickly (%lld ms)", ms);
	ok(glstore_error()[0] != '\0', "redis: killed server: reason (%s)",
	    glstore_error());
	redis_pid = start_redis(bin, 0, "redis.log");
	ok(redis_pid > 0 && wait_listening(0, 5000) && recover(s, 3000),
	    "redis: recovers after a restart on the same socket");

	/* TCP, once */
	port = free_port();
	redis_tcp_pid = port > 0 ? start_redis(bin, port, "redis-tcp.log") : -1;
	if (redis_tcp_pid > 0 && wait_listening(port, 5000)) {
		snprintf(spec, sizeof(spec), "redis:127.0.0.1:%d", port);
		rc = glstore_open(&t, spec, 200, buf, sizeof(buf));
		ok(rc == SCOPE_OK && glstore_put(t, "k|tcp", "tcp", 3, 60) ==
		    SCOPE_OK, "redis: put over TCP to 127.0.0.1");
		is_str(rc == SCOPE_OK ? get_str(t, "k|tcp", buf, sizeof(buf)) :
		    "", "tcp", "redis: get over TCP");
		if (rc == SCOPE_OK)
			glstore_close(t);
	} else
		skip(2, "TCP redis-server did not start");
	stop_server(&redis_tcp_pid);
}

int
main(void)
{
	char err[256], spec[200], path[160], bin[512];
	struct glstore *s;
	int rc;

	plan(3 * (1 + COMMON_TESTS) + LMDB_TESTS + GROW_TESTS + SPEC_TESTS +
	    REDIS_TESTS + RGREY_TESTS);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	signal(SIGABRT, on_signal);
	signal(SIGALRM, on_signal);
	alarm(120);		/* a watchdog: never leave a server behind */
	snprintf(dir, sizeof(dir), "/tmp/test_glstore.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	atexit(cleanup);

	rc = glstore_open(&s, "mem:", 0, err, sizeof(err));
	if (rc == SCOPE_OK) {
		is_str(glstore_kind(s), "mem", "mem: kind");
		test_common(s, "mem");
		glstore_close(s);
	} else {
		snprintf(spec, sizeof(spec), "mem: back end not available: %.100s",
		    err);
		skip(1 + COMMON_TESTS, spec);
	}

	path_in(path, sizeof(path), "data.mdb");
	snprintf(spec, sizeof(spec), "lmdb:%s", path);
	rc = glstore_open(&s, spec, 0, err, sizeof(err));
	if (ok(rc == SCOPE_OK, "lmdb: open%s%s", rc == 0 ? "" : ": ",
	    rc == 0 ? "" : err)) {
		test_common(s, "lmdb");
		test_lmdb(&s, spec, path);
		glstore_close(s);
	} else
		skip(COMMON_TESTS + LMDB_TESTS, "lmdb: open failed");
	test_lmdb_grow();

	if (!find_redis(bin, sizeof(bin))) {
		skip(SPEC_TESTS + 1 + COMMON_TESTS + REDIS_TESTS + RGREY_TESTS,
		    "no redis-server");
		return done_testing();
	}
	test_redis_specs();
	redis_pid = start_redis(bin, 0, "redis.log");
	snprintf(spec, sizeof(spec), "redis:unix:%s/redis.sock", dir);
	if (redis_pid <= 0 || !wait_listening(0, 5000) ||
	    glstore_open(&s, spec, 200, err, sizeof(err)) != SCOPE_OK) {
		skip(1 + COMMON_TESTS + REDIS_TESTS + RGREY_TESTS,
		    "redis-server did not start");
		return done_testing();
	}
	is_str(glstore_kind(s), "redis", "redis: kind");
	test_common(s, "redis");
	test_redis(s, spec);
	test_redis_greylist(s);
	test_redis_faults(s, bin);
	glstore_close(s);
	return done_testing();
}
