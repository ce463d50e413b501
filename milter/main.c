/*
 * main.c - smtpscope daemon: options, start-up, privileges, main loop.
 *
 * SYNOPSIS
 *	smtpscope -c FILE [-f] [-n [-v]] [-p SOCKET] [-V]
 *
 * DESCRIPTION
 *	Reads the configuration (exit 78 on any error, naming file, line
 *	and key), opens the milter socket, the record log and the pid file
 *	as root, drops to UserID, then runs libmilter in a thread while the
 *	main thread takes every signal (signals.h): SIGHUP/SIGUSR1 reopen
 *	the record log,
 *	SIGTERM/SIGINT stop accepting connections, wait up to
 *	ShutdownTimeout for sessions in flight, remove socket and pid file
 *	and exit 0.
 *
 *	-n checks the configuration and what start needs, reporting every
 *	problem (checkconf.c); -n -v prints the effective configuration too.
 *
 * DIAGNOSTICS
 *	Start-up problems go to stderr and syslog with a sysexits code.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "auth/auth.h"
#include "auth/authres.h"
#include "auth/dkimkeycache.h"
#include "greylist_daemon.h"
#include "record/pseudo.h"
#include "tags.h"
#include "config.h"
#include "checkconf.h"
#include "clock.h"
#include "daemon_log.h"
#include "fdlimit.h"
#include "instance.h"
#include "metrics.h"
#include "metrics_http.h"
#include "milter_cb.h"
#include "privs.h"
#include "record/record.h"
#include "record/recordlog.h"
#include "session.h"
#include "signals.h"
#include "snapshot.h"
#include "sockspec.h"
#include "stats.h"

struct main_opts {
	const char *config_file;
	const char *socket;
	int foreground;
	int check_only;
	int verbose;
};

struct main_state {
	struct config cfg;
	struct privs privs;
	int have_privs;
	gid_t socket_gid;		/* SocketGroup, else the UserID group */
	struct recordlog *log;
	struct session_env env;		/* shared parts: log, faults, store */
	struct snapshot *snap;		/* until installed: the first one */
	const char *socket_override;	/* -p */
	struct greylist_daemon gl;
	pthread_t milter_thread;
	pthread_t main_thread;
	int milter_rc;
};

/* main_usage - print usage and exit */
static void
main_usage(void)
{
	fprintf(stderr, "usage: smtpscope -c FILE [-f] [-n [-v]] [-p SOCKET] "
	    "[-V]\n");
	exit(EX_USAGE);
}

/* main_version - our version, the record schema and libmilter's version */
static void
main_version(void)
{
	unsigned int major = 0, minor = 0, patch = 0;

	(void)smfi_version(&major, &minor, &patch);
	printf("smtpscope %s (record schema v%d, libmilter %u.%u.%u)\n",
	    PACKAGE_VERSION, RECORD_VERSION, major, minor, patch);
}

/* main_opts_parse - command line */
static void
main_opts_parse(int argc, char **argv, struct main_opts *o)
{
	int ch;

	memset(o, 0, sizeof(*o));
	while ((ch = getopt(argc, argv, "c:fnp:vVh")) != -1) {
		switch (ch) {
		case 'c':
			o->config_file = optarg;
			break;
		case 'f':
			o->foreground = 1;
			break;
		case 'n':
			o->check_only = 1;
			break;
		case 'p':
			o->socket = optarg;
			break;
		case 'v':
			o->verbose = 1;
			break;
		case 'V':
			main_version();
			exit(EX_OK);
		default:
			main_usage();
		}
	}
	if (o->config_file == NULL || optind != argc ||
	    (o->verbose && !o->check_only))
		main_usage();
}

/* main_config - load and check the configuration; exits 78 when bad */
static void
main_config(const struct main_opts *o, struct main_state *st)
{
	struct checkconf_ids ids;
	struct config_errs errs;
	char err[CONFIG_ERR_MAX];

	memset(&errs, 0, sizeof(errs));
	if (config_init(&st->cfg) != 0) {
		daemon_log(LOG_ERR, "out of memory");
		exit(EX_OSERR);
	}
	if (config_load(&st->cfg, o->config_file, err, sizeof(err)) != 0 ||
	    (o->socket != NULL && config_set(&st->cfg, "Socket", o->socket,
	    "(command line -p)", 0, err, sizeof(err)) != 0)) {
		daemon_log(LOG_ERR, "%s", err);
		exit(EX_CONFIG);
	}
	checkconf_identity(&st->cfg, &ids, &errs);
	if (errs.count > 0) {
		daemon_log(LOG_ERR, "%s", errs.kept > 0 ?
		    errs.text[0] : "out of memory");
		config_errs_free(&errs);
		exit(EX_CONFIG);
	}
	st->privs = ids.privs;
	st->have_privs = ids.have_privs;
	st->socket_gid = ids.socket_gid;
}

/* main_metrics_check - MetricsListen must be an address and port */
static void
main_metrics_check(const struct main_state *st)
{
	char err[CONFIG_ERR_MAX];

	if (checkconf_metrics(&st->cfg, err, sizeof(err)) != 0) {
		daemon_log(LOG_ERR, "%s", err);
		exit(EX_CONFIG);
	}
}

static int main_ready_fd = -1;	/* daemon mode: pipe to the waiting parent */

/* what start-up created, removed again when it fails (main_die) */
static struct {
	const struct main_state *st;
	bool socket;		/* the milter socket */
	bool pid_file;
	bool record_log;	/* the record log did not exist before */
} main_made;

/* main_unlink_socket - remove a UNIX socket; quiet when already gone */
static void
main_unlink_socket(const struct main_state *st)
{
	struct sockspec spec;
	const char *why;

	if (sockspec_parse(st->cfg.socket, &spec, &why) == 0 &&
	    spec.kind == SOCKSPEC_UNIX && instance_owns_socket(spec.path) &&
	    unlink(spec.path) != 0 && errno != ENOENT)
		daemon_log(LOG_WARNING, "cannot remove socket %s: %s",
		    spec.path, daemon_log_errstr(errno));
}

/* main_undo_start - a failed start removes the socket and pid file it
 * created, and the record log it created while still empty */
static void
main_undo_start(void)
{
	const struct main_state *st = main_made.st;
	struct stat sb;

	if (st == NULL)
		return;
	if (main_made.socket)
		main_unlink_socket(st);
	if (main_made.pid_file && unlink(st->cfg.pid_file) != 0)
		daemon_log(LOG_WARNING, "cannot remove pid file %s: %s",
		    st->cfg.pid_file, daemon_log_errstr(errno));
	if (main_made.record_log && stat(st->cfg.record_log, &sb) == 0 &&
	    S_ISREG(sb.st_mode) && sb.st_size == 0)
		(void)unlink(st->cfg.record_log);
}


/* main_die - start-up failure: log and exit with a sysexits code, which a
 * waiting parent (daemon mode) passes on as its own exit status */
static void __attribute__((format(printf, 2, 3), noreturn))
main_die(int code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	daemon_log(LOG_ERR, "%s", msg);
	main_undo_start();
	if (main_ready_fd >= 0) {
		unsigned char byte = (unsigned char)code;

		(void)!write(main_ready_fd, &byte, 1);
	}
	exit(code);
}

/* main_fdlimit - raise the descriptor limit; at most as many sessions as
 * it has room for: each holds its milter connection, and may hold a DNS
 * socket and a Redis connection (one per libmilter thread) */
static void
main_fdlimit(const struct main_state *st)
{
	unsigned per = 1;

	if (st->cfg.spf || st->cfg.iprev || st->cfg.dkim || st->cfg.dmarc)
		per++;
	if (st->gl.p.mode != GREYLIST_OFF && st->cfg.greylist_store != NULL &&
	    strncmp(st->cfg.greylist_store, "redis", 5) == 0)
		per++;
	milter_cb_limit(fdlimit_setup(per));
}

/* main_socket - register with libmilter and open the socket as root */
static void
main_socket(struct main_state *st)
{
	struct sockspec spec;
	const char *why;

	if (getenv("SMTPSCOPE_MILTER_DEBUG") != NULL)
		(void)smfi_setdbg(atoi(getenv("SMTPSCOPE_MILTER_DEBUG")));
	if (smfi_register(milter_cb_desc) != MI_SUCCESS)
		main_die(EX_SOFTWARE, "smfi_register failed");
	if (smfi_setconn(st->cfg.socket) != MI_SUCCESS)
		main_die(EX_CONFIG, "smfi_setconn %s failed", st->cfg.socket);
	main_made.st = st;
	if (smfi_opensocket(1) != MI_SUCCESS)
		main_die(EX_OSERR, "cannot open socket %s: %s", st->cfg.socket,
		    daemon_log_errstr(errno));
	main_made.socket = true;
	if (sockspec_parse(st->cfg.socket, &spec, &why) != 0 ||
	    spec.kind != SOCKSPEC_UNIX)
		return;
	instance_remember_socket(spec.path);
	if ((st->have_privs || st->cfg.socket_group != NULL) &&
	    chown(spec.path, st->have_privs ? st->privs.uid : (uid_t)-1,
	    st->socket_gid) != 0)
		main_die(EX_OSERR, "cannot chown socket %s: %s", spec.path,
		    daemon_log_errstr(errno));
	if (chmod(spec.path, (mode_t)st->cfg.socket_mode) != 0)
		main_die(EX_OSERR, "cannot chmod socket %s: %s", spec.path,
		    daemon_log_errstr(errno));
}

/* main_recordlog - open the record log as root, owned by UserID */
static void
main_recordlog(struct main_state *st)
{
	struct stat sb;

	main_made.record_log = lstat(st->cfg.record_log, &sb) != 0 &&
	    errno == ENOENT;
	if (recordlog_open(&st->log, st->cfg.record_log,
	    (mode_t)st->cfg.record_log_mode) != 0)
		main_die(EX_CANTCREAT, "cannot open record log %s: %s",
		    st->cfg.record_log, daemon_log_errstr(errno));
	if (st->have_privs && geteuid() == 0 &&
	    recordlog_set_owner(st->log, st->privs.uid, st->privs.gid) != 0)
		main_die(EX_CANTCREAT, "cannot chown record log %s: %s",
		    st->cfg.record_log, daemon_log_errstr(recordlog_errno(st->log)));
	st->env.log = st->log;
	st->env.fault = daemon_log_fault;
	st->env.fault_arg = st->log;
	st->env.notice = daemon_log_notice;
	recordlog_set_notify(st->log, daemon_log_recordlog, NULL);
	milter_cb_init();
}

/* main_daemonize - fork; the parent waits for the child's status byte:
 * 0 once it is ready, or the sysexits code it died with */
static void
main_daemonize(void)
{
	unsigned char status = EX_SOFTWARE;
	int pfd[2];
	pid_t pid;

	if (pipe(pfd) != 0)
		main_die(EX_OSERR, "pipe: %s", daemon_log_errstr(errno));
	pid = fork();
	if (pid < 0)
		main_die(EX_OSERR, "fork: %s", daemon_log_errstr(errno));
	if (pid > 0) {
		close(pfd[1]);
		if (read(pfd[0], &status, 1) != 1)
			status = EX_SOFTWARE;
		exit(status);
	}
	close(pfd[0]);
	main_ready_fd = pfd[1];
	if (setsid() < 0 || chdir("/") != 0)
		main_die(EX_OSERR, "setsid/chdir: %s", daemon_log_errstr(errno));
}

/* main_ready - tell a waiting parent we are up, then detach stdio */
static void
main_ready(void)
{
	unsigned char ok = EX_OK;
	int devnull;

	if (main_ready_fd < 0)
		return;
	(void)!write(main_ready_fd, &ok, 1);
	close(main_ready_fd);
	main_ready_fd = -1;
	daemon_log_open_stderr(false);
	devnull = open("/dev/null", O_RDWR);
	if (devnull >= 0) {
		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(devnull, 2);
		if (devnull > 2)
			close(devnull);
	}
}

/* main_pidfile - write our pid, owned by UserID so we can remove it */
static void
main_pidfile(struct main_state *st)
{
	char buf[32];
	int fd, n;

	if (st->cfg.pid_file == NULL)
		return;
	fd = open(st->cfg.pid_file, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0644);
	if (fd < 0)
		main_die(EX_CANTCREAT, "cannot write pid file %s: %s",
		    st->cfg.pid_file, daemon_log_errstr(errno));
	/* held for our lifetime (the descriptor stays open): one instance */
	if (instance_lock(fd) != 0)
		main_die(EX_TEMPFAIL, "another smtpscope holds the pid file %s; "
		    "not starting", st->cfg.pid_file);
	main_made.pid_file = true;
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || write(fd, buf, (size_t)n) != n ||
	    (st->have_privs && geteuid() == 0 &&
	    fchown(fd, st->privs.uid, st->privs.gid) != 0))
		main_die(EX_CANTCREAT, "cannot write pid file %s: %s",
		    st->cfg.pid_file, daemon_log_errstr(errno));
}

/* main_instance - refuse, touching nothing, when another instance runs
 * on our socket or pid file (libmilter would unlink a live socket) */
static void
main_instance(const struct main_state *st)
{
	struct sockspec spec;
	const char *why;
	char err[512];

	if (instance_check(sockspec_parse(st->cfg.socket, &spec, &why) == 0 &&
	    spec.kind == SOCKSPEC_UNIX ? spec.path : NULL, st->cfg.pid_file,
	    err, sizeof(err)) != 0)
		main_die(EX_TEMPFAIL, "%s", err);
}

/* main_milter_thread - run libmilter; tell the main thread when done */
static void *
main_milter_thread(void *arg)
{
	struct main_state *st = arg;

	st->milter_rc = smfi_main();
	pthread_kill(st->main_thread, SIGUSR2);
	return NULL;
}

/* main_greylist - open the greylisting store as UserID (an LMDB file
 * must belong to the daemon's user) and hand it to the sessions */
static void
main_greylist(struct main_state *st)
{
	char err[512];

	if (greylist_daemon_open(&st->gl, &st->cfg, err, sizeof(err)) != 0)
		main_die(EX_CONFIG, "%s", err);
	st->env.glstore = st->gl.store;
	snapshot_bind(st->snap, &st->env);
	snapshot_install(st->snap);	/* sessions take it from here */
	st->snap = NULL;
}

/* main_thread_stacks - ThreadStackSize for every thread started from
 * now on without attributes (libmilter's listener and workers) */
static void
main_thread_stacks(const struct main_state *st)
{
	pthread_attr_t attr;

	errno = pthread_attr_init(&attr);
	if (errno == 0) {
		errno = pthread_attr_setstacksize(&attr,
		    (size_t)st->cfg.thread_stack_size * 1024);
		if (errno == 0)
			errno = pthread_setattr_default_np(&attr);
		(void)pthread_attr_destroy(&attr);
	}
	if (errno != 0)
		main_die(EX_OSERR, "ThreadStackSize %ld: %s",
		    st->cfg.thread_stack_size, daemon_log_errstr(errno));
}

/* main_start_milter - libmilter in a thread of its own (it inherits the
 * mask that blocks our signals: signals_install) */
static void
main_start_milter(struct main_state *st)
{
	main_thread_stacks(st);
	st->main_thread = pthread_self();
	errno = pthread_create(&st->milter_thread, NULL, main_milter_thread, st);
	if (errno != 0)
		main_die(EX_OSERR, "cannot start milter thread: %s",
		    daemon_log_errstr(errno));
}

/* main_check_guard - warn when libmilter's signal thread did not reach
 * our sigwait() within a second (a libmilter that binds sigwait
 * internally): SIGHUP and SIGTERM could then stop libmilter directly */
static void
main_check_guard(void)
{
	int i;

	for (i = 0; i < 100 && !signals_guarded(); i++)
		usleep(10 * 1000);
	if (!signals_guarded())
		daemon_log(LOG_WARNING, "libmilter's signal thread did not "
		    "reach smtpscope's sigwait(): SIGHUP may stop the milter");
}

/* main_reopen - SIGUSR1: reopen the record log */
static void
main_reopen(struct main_state *st)
{
	if (recordlog_reopen(st->log) != 0) {
		errno = recordlog_errno(st->log);
		daemon_log(LOG_ERR, "cannot reopen record log %s: %s; still "
		    "writing to the old file", st->cfg.record_log,
		    daemon_log_errstr(errno));
		return;
	}
	stats_add(STATS_REOPENS, 1);
	daemon_log(LOG_INFO, "record log %s reopened", st->cfg.record_log);
}

/* keys read only at start: a reload logs that they changed */
static const enum config_key_id main_restart_keys[] = {
	CONFIG_KEY_SOCKET, CONFIG_KEY_SOCKET_MODE, CONFIG_KEY_SOCKET_GROUP,
	CONFIG_KEY_USER_ID, CONFIG_KEY_PID_FILE, CONFIG_KEY_RECORD_LOG,
	CONFIG_KEY_RECORD_LOG_MODE, CONFIG_KEY_SYSLOG,
	CONFIG_KEY_SYSLOG_FACILITY, CONFIG_KEY_SHUTDOWN_TIMEOUT,
	CONFIG_KEY_STATS_INTERVAL, CONFIG_KEY_THREAD_STACK_SIZE,
	CONFIG_KEY_METRICS_LISTEN,
	CONFIG_KEY_GREYLIST_STORE, CONFIG_KEY_GREYLIST_TIMEOUT,
	CONFIG_KEY_GREYLIST_MAX_SIZE, CONFIG_KEY_GREYLIST_EXPIRE_INTERVAL
};

/* main_restart_only - log each start-only key the new file changes */
static void
main_restart_only(const struct main_state *st, const struct snapshot *snap)
{
	size_t i;
	enum config_key_id k;

	for (i = 0; i < sizeof(main_restart_keys) /
	    sizeof(main_restart_keys[0]); i++) {
		k = main_restart_keys[i];
		if (!config_same(&st->cfg, &snap->cfg, k))
			daemon_log(LOG_WARNING, "reload: %s changed in %s; it "
			    "takes effect at the next restart",
			    config_table[k].name, st->cfg.file);
	}
	if (st->gl.store == NULL && snap->glp.mode != GREYLIST_OFF)
		daemon_log(LOG_WARNING, "reload: Greylist is on, but no store "
		    "was opened at start; greylisting starts at the next "
		    "restart");
}

/*
 * main_reload - SIGHUP: read the configuration again (and the TagRules,
 * the public suffix list, the pseudonymization key), validated in full;
 * if good, new sessions use it while sessions in flight finish with the
 * one they started with; if not, the error is logged and the running one
 * stays. The record log is reopened either way.
 */
static void
main_reload(struct main_state *st)
{
	struct snapshot *snap;
	char err[CONFIG_ERR_MAX];

	if (snapshot_load(&snap, st->cfg.file, st->socket_override, err,
	    sizeof(err)) != 0) {
		stats_add(STATS_RELOAD_FAILURES, 1);
		daemon_log(LOG_ERR, "reload failed, the running configuration "
		    "stays: %s", err);
		main_reopen(st);
		return;
	}
	main_restart_only(st, snap);
	snapshot_bind(snap, &st->env);
	st->gl.p = snap->glp;		/* the expiry's parameters too */
	snapshot_install(snap);
	stats_add(STATS_RELOADS, 1);
	daemon_log(LOG_NOTICE, "reloaded %s: new sessions use it",
	    st->cfg.file);
	main_reopen(st);
}

/* main_loop - signals and periodic counters until asked to stop */
static void
main_loop(struct main_state *st)
{
	int64_t interval_ms = st->cfg.stats_interval * 1000;
	int64_t next = clock_mono() + interval_ms * 1000;
	int ev;

	for (;;) {
		/* wake at least once a minute for the greylist expiry */
		ev = signals_wait(interval_ms > 0 && interval_ms < 60000 ?
		    (int)interval_ms : 60000);
		if (ev & SIGNALS_RELOAD)
			main_reload(st);
		else if (ev & SIGNALS_REOPEN)
			main_reopen(st);
		if (ev & (SIGNALS_STOP | SIGNALS_MILTER_DONE))
			return;
		if (interval_ms > 0 && clock_mono() >= next) {
			daemon_log_stats("periodic");
			next = clock_mono() + interval_ms * 1000;
		}
		greylist_daemon_tick(&st->gl);
	}
}

/*
 * main_shutdown - refuse new connections (and remove a UNIX socket so the
 * MTA fails over at once), let sessions in flight end for up to
 * ShutdownTimeout, then stop libmilter and clean up. libmilter's own stop
 * would cut the sessions in flight, so it comes last.
 */
static void
main_shutdown(struct main_state *st)
{
	int64_t deadline = clock_mono() + st->cfg.shutdown_timeout * 1000000;

	milter_cb_stop();
	metrics_http_set_stopping();
	main_unlink_socket(st);
	daemon_log(LOG_INFO, "stopping: %u sessions in flight",
	    milter_cb_active());
	while (milter_cb_active() > 0 && clock_mono() < deadline)
		usleep(20 * 1000);
	if (milter_cb_active() > 0)
		daemon_log(LOG_WARNING, "exiting with %u sessions unfinished "
		    "after %lds", milter_cb_active(), st->cfg.shutdown_timeout);
	smfi_stop();
	pthread_join(st->milter_thread, NULL);
	main_unlink_socket(st);
	if (st->cfg.pid_file != NULL && unlink(st->cfg.pid_file) != 0)
		daemon_log(LOG_WARNING, "cannot remove pid file %s: %s",
		    st->cfg.pid_file, daemon_log_errstr(errno));
	daemon_log_stats("exit");
	metrics_http_stop();
	recordlog_close(st->log);
	snapshot_install(NULL);		/* freed with its last session */
	greylist_daemon_close(&st->gl);
}

int
main(int argc, char **argv)
{
	struct main_opts o;
	struct main_state st;
	char err[CONFIG_ERR_MAX], facility[16];

	memset(&st, 0, sizeof(st));
	main_opts_parse(argc, argv, &o);
	if (o.check_only)
		return checkconf_run(o.config_file, o.socket, o.verbose != 0);
	main_config(&o, &st);
	st.socket_override = o.socket;
	if (snapshot_load(&st.snap, o.config_file, o.socket, err,
	    sizeof(err)) != 0) {
		daemon_log(LOG_ERR, "%s", err);
		exit(EX_CONFIG);
	}
	greylist_daemon_config(&st.gl, &st.cfg);
	main_metrics_check(&st);
	config_enum_choice(&config_table[CONFIG_KEY_SYSLOG_FACILITY],
	    st.cfg.syslog_facility, facility, sizeof(facility));
	daemon_log_open("smtpscope", st.cfg.syslog,
	    daemon_log_facility(facility), true);	/* stderr until ready */
	/* our signals blocked first: a SIGTERM that arrives once the socket
	 * exists must stop us cleanly, not by the default action, and every
	 * thread started later inherits the mask */
	if (signals_install() != 0)
		main_die(EX_OSERR, "cannot block signals: %s",
		    daemon_log_errstr(errno));
	main_fdlimit(&st);
	main_instance(&st);
	main_socket(&st);
	if (st.cfg.metrics_listen != NULL &&
	    metrics_http_bind(st.cfg.metrics_listen, err, sizeof(err)) != 0)
		main_die(EX_OSERR, "MetricsListen: %s", err);
	main_recordlog(&st);
	if (!o.foreground)
		main_daemonize();
	main_pidfile(&st);
	if (st.have_privs && geteuid() == 0 &&
	    privs_drop(&st.privs, err, sizeof(err)) != 0)
		main_die(EX_OSERR, "%s", err);
	main_greylist(&st);
	metrics_set_start((int64_t)time(NULL), PACKAGE_VERSION);
	if (metrics_http_start(err, sizeof(err)) != 0)
		main_die(EX_OSERR, "MetricsListen: %s", err);
	main_start_milter(&st);
	main_check_guard();
	daemon_log(LOG_INFO, "started on %s, records to %s", st.cfg.socket,
	    st.cfg.record_log);
	if (st.cfg.dkim && !dkimkeycache_active())
		daemon_log(LOG_NOTICE, "DKIM keys are parsed for every "
		    "signature: the key cache is not bound (see smtpscope(8))");
	main_ready();
	main_loop(&st);
	main_shutdown(&st);
	config_free(&st.cfg);
	return st.milter_rc == MI_SUCCESS ? EX_OK : EX_SOFTWARE;
}
