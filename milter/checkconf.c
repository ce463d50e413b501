/*
 * checkconf.c - smtpscope -n: check what a start needs, report every
 * problem (see checkconf.h).
 *
 * DESCRIPTION
 *	The checks follow start's order: the configuration and what is built
 *	from it (exit 78), UserID and SocketGroup (78), MetricsListen (78),
 *	the milter socket's folder (71), the record log (73), the pid file
 *	(73), all as the user running -n (start does them as root); then the
 *	greylist store (78) as UserID. The exit status is the code of the
 *	first problem found, as start would exit with it.
 *
 *	Files are checked with lstat(2) and access(2); nothing is created.
 *	An LMDB store that exists is opened as the daemon opens it, and its
 *	lock file removed again when the check made it; one that does not
 *	exist needs a writable folder. A Redis store is not reached (a
 *	note says so). A running instance's socket and pid file are only
 *	looked at, never opened.
 *
 *	The check as UserID runs in a child: it drops to UserID and writes
 *	its findings to a pipe, one line each ("S code", "E text", "W text",
 *	"N text"); the parent adds them to its own.
 *
 * DIAGNOSTICS
 *	"smtpscope: FILE:LINE: Key: text" on stderr for each error (at most
 *	CONFIG_ERRS_KEEP, then how many more), "smtpscope: warning: ..." for
 *	what a reload, a log reopen or the stop would trip over.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "checkconf.h"
#include "errors.h"
#include "greylist/glstore.h"
#include "greylist_daemon.h"
#include "metrics_http.h"
#include "snapshot.h"
#include "sockspec.h"

#define CHECKCONF_PATH_MAX	1100	/* a configured path (1023) and more */
#define CHECKCONF_WHY_MAX	(CHECKCONF_PATH_MAX + 128)	/* a reason */

struct checkconf {
	const char *file;
	bool verbose;
	struct snapshot *snap;		/* the configuration as loaded */
	const struct config *cfg;	/* &snap->cfg */
	struct checkconf_ids ids;
	struct config_errs errs;	/* problems a start would stop at */
	struct config_errs warns;	/* problems for later (reload, stop) */
	int status;			/* the first error's exit code */
	char who[80];			/* the user the checks run as */
	bool child;			/* in the child, writing to the pipe */
};

static void checkconf_error(struct checkconf *c, int key, int code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void checkconf_warn(struct checkconf *c, int key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* checkconf_say - an informational line: on stdout, or with -v (where
 * stdout is the configuration alone) on stderr */
static void
checkconf_say(const struct checkconf *c, const char *text)
{
	if (c->verbose)
		fprintf(stderr, "smtpscope: %s\n", text);
	else
		printf("%s\n", text);
}

/* checkconf_note - a line that is neither error nor warning (the child
 * sends it to the parent) */
static void
checkconf_note(const struct checkconf *c, const char *text)
{
	if (c->child)
		printf("N %s\n", text);
	else
		checkconf_say(c, text);
}

/* checkconf_add - one finding, "FILE:LINE: Key: text" */
static void __attribute__((format(printf, 4, 0)))
checkconf_add(struct checkconf *c, struct config_errs *list, int key,
    const char *fmt, va_list ap)
{
	char text[CONFIG_ERR_MAX], line[CONFIG_ERR_MAX + 300];

	vsnprintf(text, sizeof(text), fmt, ap);
	if (key >= 0)
		snprintf(line, sizeof(line), "%s:%u: %s: %s", c->file,
		    c->cfg->line[key], config_table[key].name, text);
	else
		snprintf(line, sizeof(line), "%s: %s", c->file, text);
	config_errs_add(list, key, line);
}

/* checkconf_error - a problem start would stop at, with its exit code */
static void
checkconf_error(struct checkconf *c, int key, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	checkconf_add(c, &c->errs, key, fmt, ap);
	va_end(ap);
	if (c->status == EX_OK)
		c->status = code;
}

/* checkconf_warn - a problem start gets past, but a later step does not */
static void
checkconf_warn(struct checkconf *c, int key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	checkconf_add(c, &c->warns, key, fmt, ap);
	va_end(ap);
}

/* checkconf_identity - UserID, SocketGroup, no root without UserID */
void
checkconf_identity(const struct config *cfg, struct checkconf_ids *ids,
    struct config_errs *errs)
{
	char why[CONFIG_ERR_MAX / 2], err[CONFIG_ERR_MAX];

	memset(ids, 0, sizeof(*ids));
	if (cfg->user_id != NULL) {
		if (privs_resolve(cfg->user_id, &ids->privs, why,
		    sizeof(why)) != 0) {
			snprintf(err, sizeof(err), "%s:%u: UserID: %s",
			    cfg->file, cfg->line[CONFIG_KEY_USER_ID], why);
			config_errs_add(errs, CONFIG_KEY_USER_ID, err);
		} else
			ids->have_privs = true;
	}
	ids->socket_gid = ids->have_privs ? ids->privs.gid : (gid_t)-1;
	if (cfg->socket_group != NULL && privs_group(cfg->socket_group,
	    &ids->socket_gid, why, sizeof(why)) != 0) {
		snprintf(err, sizeof(err), "%s:%u: SocketGroup: %s", cfg->file,
		    cfg->line[CONFIG_KEY_SOCKET_GROUP], why);
		config_errs_add(errs, CONFIG_KEY_SOCKET_GROUP, err);
	}
	if (geteuid() == 0 && cfg->user_id == NULL &&
	    !errs->bad[CONFIG_KEY_USER_ID]) {
		snprintf(err, sizeof(err), "%s: UserID: refusing to run as "
		    "root without UserID", cfg->file);
		config_errs_add(errs, CONFIG_KEY_USER_ID, err);
	}
}

/* checkconf_metrics - MetricsListen must be an address and port */
int
checkconf_metrics(const struct config *cfg, char *err, size_t errsz)
{
	char why[CONFIG_ERR_MAX / 2];

	if (cfg->metrics_listen == NULL ||
	    metrics_http_check(cfg->metrics_listen, why, sizeof(why)) == 0)
		return 0;
	snprintf(err, errsz, "%s:%u: MetricsListen: %s", cfg->file,
	    cfg->line[CONFIG_KEY_METRICS_LISTEN], why);
	return -1;
}

/* checkconf_folder - may this user create a file in path's folder? 0,
 * or -1 with "folder DIR: reason" in why */
static int
checkconf_folder(const char *path, char *why, size_t whysz)
{
	char dir[CHECKCONF_PATH_MAX], *slash;
	struct stat sb;
	const char *reason = NULL;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL)
		return 0;
	slash[slash == dir ? 1 : 0] = '\0';
	if (stat(dir, &sb) != 0)
		reason = strerror(errno);
	else if (!S_ISDIR(sb.st_mode))
		reason = "not a folder";
	else if (access(dir, W_OK | X_OK) != 0)
		reason = strerror(errno);
	if (reason == NULL)
		return 0;
	snprintf(why, whysz, "folder %s: %s", dir, reason);
	return -1;
}

/* checkconf_file - may this user open path with 'mode' (access(2)
 * bits), or create it when it is not there? 0, or -1 with why */
static int
checkconf_file(const char *path, int mode, char *why, size_t whysz)
{
	struct stat sb;

	if (lstat(path, &sb) != 0) {
		if (errno == ENOENT)
			return checkconf_folder(path, why, whysz);
		snprintf(why, whysz, "%s", strerror(errno));
		return -1;
	}
	if (S_ISLNK(sb.st_mode) || !S_ISREG(sb.st_mode)) {
		snprintf(why, whysz, "%s", S_ISLNK(sb.st_mode) ?
		    "a symbolic link (refused)" : "not a regular file");
		return -1;
	}
	if (access(path, mode) != 0) {
		snprintf(why, whysz, "%s", strerror(errno));
		return -1;
	}
	return 0;
}

/* checkconf_socket_path - the UNIX socket's path, NULL for inet */
static const char *
checkconf_socket_path(const struct config *cfg, struct sockspec *spec)
{
	const char *why;

	if (sockspec_parse(cfg->socket, spec, &why) != 0 ||
	    spec->kind != SOCKSPEC_UNIX)
		return NULL;
	return spec->path;
}

/* checkconf_socket - start binds a UNIX socket as root (inet: parsed) */
static void
checkconf_socket(struct checkconf *c)
{
	struct sockspec spec;
	const char *path = checkconf_socket_path(c->cfg, &spec);
	struct stat sb;
	char why[CHECKCONF_WHY_MAX];

	if (path == NULL || c->errs.bad[CONFIG_KEY_SOCKET])
		return;
	if (lstat(path, &sb) == 0 && !S_ISSOCK(sb.st_mode))
		checkconf_error(c, CONFIG_KEY_SOCKET, EX_OSERR, "cannot open "
		    "socket %s: something that is not a socket is there",
		    path);
	else if (checkconf_folder(path, why, sizeof(why)) != 0)
		checkconf_error(c, CONFIG_KEY_SOCKET, EX_OSERR, "cannot open "
		    "socket %s: %s", path, why);
}

/* checkconf_files - the record log and the pid file, opened as root */
static void
checkconf_files(struct checkconf *c)
{
	char why[CHECKCONF_WHY_MAX];

	if (!c->errs.bad[CONFIG_KEY_RECORD_LOG] &&
	    checkconf_file(c->cfg->record_log, W_OK, why, sizeof(why)) != 0)
		checkconf_error(c, CONFIG_KEY_RECORD_LOG, EX_CANTCREAT,
		    "cannot open record log %s: %s", c->cfg->record_log, why);
	if (c->cfg->pid_file != NULL && !c->errs.bad[CONFIG_KEY_PID_FILE] &&
	    checkconf_file(c->cfg->pid_file, R_OK | W_OK, why,
	    sizeof(why)) != 0)
		checkconf_error(c, CONFIG_KEY_PID_FILE, EX_CANTCREAT,
		    "cannot write pid file %s: %s", c->cfg->pid_file, why);
}

/* checkconf_lmdb_open - open an existing LMDB store as the daemon does;
 * a lock file the open made is removed again */
static void
checkconf_lmdb_open(struct checkconf *c, const char *path)
{
	char lock[CHECKCONF_PATH_MAX], why[256], err[CONFIG_ERR_MAX];
	struct glstore_opts o;
	struct glstore *store;
	struct stat sb;
	bool had_lock;

	snprintf(lock, sizeof(lock), "%s-lock", path);
	had_lock = lstat(lock, &sb) == 0;
	greylist_daemon_opts(c->cfg, &o);
	if (glstore_open_opts(&store, c->cfg->greylist_store, &o, why,
	    sizeof(why)) != SCOPE_OK) {
		greylist_daemon_error(c->cfg, why, err, sizeof(err));
		config_errs_add(&c->errs, CONFIG_KEY_GREYLIST_STORE, err);
		if (c->status == EX_OK)
			c->status = EX_CONFIG;
	} else
		glstore_close(store);
	if (!had_lock && lstat(lock, &sb) == 0)
		(void)unlink(lock);
}

/* checkconf_store - the greylist store, as UserID (when greylisting) */
static void
checkconf_store(struct checkconf *c)
{
	const char *spec = c->cfg->greylist_store, *path;
	char why[CHECKCONF_WHY_MAX], note[CONFIG_ERR_MAX + 100];
	struct stat sb;

	if (c->snap->glp.mode == GREYLIST_OFF || spec == NULL ||
	    c->errs.bad[CONFIG_KEY_GREYLIST_STORE])
		return;
	if (strncmp(spec, "lmdb:", 5) != 0) {
		snprintf(note, sizeof(note), "note: %s: GreylistStore: %s: "
		    "not checked (the server is first reached at start)",
		    c->file, spec);
		checkconf_note(c, note);
		return;
	}
	path = spec + 5;
	if (lstat(path, &sb) == 0) {
		checkconf_lmdb_open(c, path);
		return;
	}
	if (errno != ENOENT)
		snprintf(why, sizeof(why), "%s: %s", path, strerror(errno));
	else if (checkconf_folder(path, why, sizeof(why)) == 0)
		return;		/* start creates it */
	checkconf_error(c, CONFIG_KEY_GREYLIST_STORE, EX_CONFIG, "%s: %s "
	    "(as %s)", spec, why, c->who);
}

/* checkconf_readable - a file a reload reads again as UserID */
static void
checkconf_readable(struct checkconf *c, enum config_key_id key)
{
	const char *path = *(char *const *)((const char *)c->cfg +
	    config_table[key].offset);

	if (path != NULL && !c->errs.bad[key] && access(path, R_OK) != 0)
		checkconf_warn(c, (int)key, "%s cannot read %s: %s; a reload "
		    "(SIGHUP) would fail", c->who, path, strerror(errno));
}

/* checkconf_later - what UserID needs after start: reloads read the
 * files again, a reopen may create the record log, the stop removes the
 * socket and the pid file */
static void
checkconf_later(struct checkconf *c)
{
	struct sockspec spec;
	const char *sock = checkconf_socket_path(c->cfg, &spec);
	char why[CHECKCONF_WHY_MAX];

	checkconf_readable(c, CONFIG_KEY_TAG_RULES);
	checkconf_readable(c, CONFIG_KEY_PSEUDO_KEY_FILE);
	if (c->cfg->dmarc)
		checkconf_readable(c, CONFIG_KEY_PUBLIC_SUFFIX_LIST);
	if (!c->errs.bad[CONFIG_KEY_RECORD_LOG] &&
	    checkconf_folder(c->cfg->record_log, why, sizeof(why)) != 0)
		checkconf_warn(c, CONFIG_KEY_RECORD_LOG, "%s cannot create %s "
		    "again after it is rotated away (SIGUSR1): %s", c->who,
		    c->cfg->record_log, why);
	if (c->cfg->pid_file != NULL && !c->errs.bad[CONFIG_KEY_PID_FILE] &&
	    checkconf_folder(c->cfg->pid_file, why, sizeof(why)) != 0)
		checkconf_warn(c, CONFIG_KEY_PID_FILE, "%s cannot remove %s at "
		    "stop: %s", c->who, c->cfg->pid_file, why);
	if (sock != NULL && !c->errs.bad[CONFIG_KEY_SOCKET] &&
	    checkconf_folder(sock, why, sizeof(why)) != 0)
		checkconf_warn(c, CONFIG_KEY_SOCKET, "%s cannot remove %s at "
		    "stop: %s", c->who, sock, why);
}

/* checkconf_child - as UserID: the checks, written to fd, then exit */
static void __attribute__((noreturn))
checkconf_child(struct checkconf *c, int fd)
{
	char err[CONFIG_ERR_MAX];
	unsigned i;

	c->errs.count = c->errs.kept = 0;	/* the texts are the parent's; */
	c->warns.count = c->warns.kept = 0;	/* the keys in error stay */
	c->status = EX_OK;
	c->child = true;
	if (dup2(fd, STDOUT_FILENO) < 0)
		_exit(EX_OSERR);
	if (privs_drop(&c->ids.privs, err, sizeof(err)) != 0) {
		printf("S %d\nE %s: UserID: %s\n", EX_OSERR, c->file, err);
		fflush(stdout);
		_exit(EX_OK);
	}
	checkconf_store(c);
	checkconf_later(c);
	printf("S %d\n", c->status);
	for (i = 0; i < c->errs.kept; i++)
		printf("E %s\n", c->errs.text[i]);
	for (i = 0; i < c->warns.kept; i++)
		printf("W %s\n", c->warns.text[i]);
	fflush(stdout);
	_exit(EX_OK);
}

/* checkconf_collect - the child's lines into c; false if none came */
static bool
checkconf_collect(struct checkconf *c, FILE *fp)
{
	char line[CONFIG_ERR_MAX + 400];
	bool status = false;
	int code;

	while (fgets(line, sizeof(line), fp) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == 'S' && sscanf(line, "S %d", &code) == 1) {
			status = true;
			if (c->status == EX_OK)
				c->status = code;
		} else if (strncmp(line, "E ", 2) == 0)
			config_errs_add(&c->errs, -1, line + 2);
		else if (strncmp(line, "W ", 2) == 0)
			config_errs_add(&c->warns, -1, line + 2);
		else if (strncmp(line, "N ", 2) == 0)
			checkconf_note(c, line + 2);
	}
	return status;
}

/* checkconf_as_user - fork, drop to UserID in the child, check there */
static void
checkconf_as_user(struct checkconf *c)
{
	int pfd[2], wstatus;
	FILE *fp;
	pid_t pid;

	fflush(stdout);
	if (pipe(pfd) != 0 || (pid = fork()) < 0) {
		checkconf_error(c, -1, EX_OSERR, "cannot check as %s: %s",
		    c->who, strerror(errno));
		return;
	}
	if (pid == 0) {
		close(pfd[0]);
		checkconf_child(c, pfd[1]);
	}
	close(pfd[1]);
	fp = fdopen(pfd[0], "r");
	if (fp == NULL || !checkconf_collect(c, fp))
		checkconf_error(c, -1, EX_SOFTWARE, "the check as %s did not "
		    "finish", c->who);
	if (fp != NULL)
		fclose(fp);
	else
		close(pfd[0]);
	while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
		continue;
}

/* checkconf_runtime - the checks as the daemon's user after the drop */
static void
checkconf_runtime(struct checkconf *c)
{
	char line[200];

	if (geteuid() == 0 && c->ids.have_privs) {
		snprintf(c->who, sizeof(c->who), "%s", c->ids.privs.user);
		checkconf_as_user(c);
		return;
	}
	snprintf(c->who, sizeof(c->who), "uid %u", (unsigned)geteuid());
	if (geteuid() != 0) {
		snprintf(line, sizeof(line), "note: not run as root: checked "
		    "as uid %u, as a start by this user would run",
		    (unsigned)geteuid());
		checkconf_say(c, line);
	}
	checkconf_store(c);
}

/* checkconf_report - every error and warning, then the verdict */
static void
checkconf_report(const struct checkconf *c)
{
	char line[CONFIG_ERR_MAX];
	unsigned i;

	for (i = 0; i < c->errs.kept; i++)
		fprintf(stderr, "smtpscope: %s\n", c->errs.text[i]);
	if (c->errs.count > c->errs.kept)
		fprintf(stderr, "smtpscope: %u more errors not shown\n",
		    c->errs.count - c->errs.kept);
	for (i = 0; i < c->warns.kept; i++)
		fprintf(stderr, "smtpscope: warning: %s\n", c->warns.text[i]);
	if (c->errs.count > 0) {
		fprintf(stderr, "smtpscope: %s: %u error%s, exit %d\n", c->file,
		    c->errs.count, c->errs.count == 1 ? "" : "s", c->status);
		return;
	}
	snprintf(line, sizeof(line), "%s: configuration OK%s", c->file,
	    c->warns.count > 0 ? " (with warnings)" : "");
	checkconf_say(c, line);
}

/* checkconf_start - the configuration, the identity, MetricsListen */
static int
checkconf_start(struct checkconf *c, const char *socket)
{
	char err[CONFIG_ERR_MAX];

	c->snap = snapshot_check(c->file, socket, &c->errs);
	if (c->snap == NULL) {
		fprintf(stderr, "smtpscope: %s: out of memory\n", c->file);
		return EX_OSERR;
	}
	c->cfg = &c->snap->cfg;
	if (c->errs.count > 0)
		c->status = EX_CONFIG;
	if (c->cfg->file == NULL)
		return EX_CONFIG;	/* nothing read: nothing to check */
	checkconf_identity(c->cfg, &c->ids, &c->errs);
	if (checkconf_metrics(c->cfg, err, sizeof(err)) != 0)
		config_errs_add(&c->errs, CONFIG_KEY_METRICS_LISTEN, err);
	if (c->errs.count > 0)
		c->status = EX_CONFIG;
	return EX_OK;
}

/* checkconf_run - smtpscope -n [-v] */
int
checkconf_run(const char *file, const char *socket, bool verbose)
{
	struct checkconf c;
	int rc;

	memset(&c, 0, sizeof(c));
	c.file = file;
	c.verbose = verbose;
	rc = checkconf_start(&c, socket);
	if (rc == EX_OK) {
		if (verbose && config_print(c.cfg, stdout) != 0)
			checkconf_error(&c, -1, EX_IOERR, "cannot print the "
			    "configuration: %s", strerror(errno));
		checkconf_socket(&c);
		checkconf_files(&c);
		checkconf_runtime(&c);
	}
	checkconf_report(&c);
	fflush(stdout);
	snapshot_release(c.snap);
	config_errs_free(&c.errs);
	config_errs_free(&c.warns);
	return rc != EX_OK && c.status == EX_OK ? rc : c.status;
}
