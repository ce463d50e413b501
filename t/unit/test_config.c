/*
 * test_config.c - the smtpscope.conf parser on good and bad files.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "errors.h"
#include "tap.h"

static char tmpdir[] = "/tmp/test_config.XXXXXX";

/* write_file - a config file with the given bytes; returns its path */
static const char *
write_file(const char *name, const char *data, size_t len)
{
	static char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	fp = fopen(path, "w");
	if (fp == NULL || fwrite(data, 1, len, fp) != len)
		abort();
	fclose(fp);
	return path;
}

/* load - parse bytes as a file; returns the rc, err gets the message */
static int
load(const char *name, const char *data, size_t len, struct config *cfg,
    char *err)
{
	const char *path = write_file(name, data, len);

	config_init(cfg);
	return config_load(cfg, path, err, CONFIG_ERR_MAX);
}

/* expect_error - a bad file fails with a message containing 'want' */
static void
expect_error(const char *name, const char *data, const char *want)
{
	struct config cfg;
	char err[CONFIG_ERR_MAX] = "";
	int rc = load(name, data, strlen(data), &cfg, err);

	ok(rc != 0 && strstr(err, want) != NULL, "%s: error names '%s'", name,
	    want);
	if (strstr(err, want) == NULL)
		printf("# message: %s\n", err);
	config_free(&cfg);
}

/* load_path - config_load of a path under a watchdog: a read that
 * blocks (a FIFO) fails the test by SIGALRM instead of hanging it */
static int
load_path(struct config *cfg, const char *path, char *err)
{
	int rc;

	config_init(cfg);
	alarm(10);
	rc = config_load(cfg, path, err, CONFIG_ERR_MAX);
	alarm(0);
	return rc;
}

/* files - the files a configuration names, and the file itself, must
 * be regular files of bounded size; store specs must parse (issue 12) */
static void
files(struct config *cfg, char *err)
{
	char path[256], want[320], *huge;
	int rc;

	snprintf(path, sizeof(path), "%s/fifo.conf", tmpdir);
	ok(mkfifo(path, 0600) == 0, "a FIFO as the configuration file");
	rc = load_path(cfg, path, err);
	ok(rc != 0 && strstr(err, "fifo.conf:0: cannot open: not a regular "
	    "file") != NULL, "a FIFO configuration fails at once (%s)", err);
	config_free(cfg);
	rc = load_path(cfg, "/dev/zero", err);
	ok(rc != 0 && strstr(err, "/dev/zero:0: cannot open: not a regular "
	    "file") != NULL, "a device as the configuration fails (%s)", err);
	config_free(cfg);
	huge = malloc(CONFIG_FILE_MAX + 2);
	if (huge == NULL)
		abort();
	memset(huge, '#', CONFIG_FILE_MAX + 1);
	for (rc = 4000; rc < CONFIG_FILE_MAX; rc += 4000)
		huge[rc] = '\n';
	load("huge.conf", huge, CONFIG_FILE_MAX + 1, cfg, err);
	ok(strstr(err, "huge.conf:0: cannot open: over 1048576 bytes") != NULL,
	    "a configuration over 1 MiB is refused (%s)", err);
	free(huge);
	config_free(cfg);
	expect_error("psl-zero.conf", "PublicSuffixList /dev/zero\n",
	    "psl-zero.conf:1: PublicSuffixList: '/dev/zero': not a regular file");
	snprintf(path, sizeof(path), "TagRules %s/fifo.conf\n", tmpdir);
	snprintf(want, sizeof(want), "tags-fifo.conf:1: TagRules: "
	    "'%s/fifo.conf': not a regular file", tmpdir);
	expect_error("tags-fifo.conf", path, want);
	expect_error("key-dir.conf", "PseudonymizeKeyFile /tmp\n",
	    "key-dir.conf:1: PseudonymizeKeyFile: '/tmp': not a regular file");
	expect_error("gl-memcached.conf", "GreylistStore memcached:x\n",
	    "gl-memcached.conf:1: GreylistStore: 'memcached:x': not lmdb:/path");
	expect_error("gl-v6.conf", "Greylist observe\nGreylistStore redis:[::1\n",
	    "gl-v6.conf:2: GreylistStore: 'redis:[::1': redis:[::1: expected "
	    "redis:HOST:PORT");
	expect_error("gl-null.conf", "GreylistStore lmdb:/dev/null\n",
	    "gl-null.conf:1: GreylistStore: 'lmdb:/dev/null': /dev/null: not a "
	    "regular file");
	expect_error("gl-rel.conf", "GreylistStore lmdb:greylist.lmdb\n",
	    "gl-rel.conf:1: GreylistStore: 'lmdb:greylist.lmdb': "
	    "lmdb:greylist.lmdb: path must be absolute");
	rc = load("gl-good.conf", "GreylistStore redis:[::1]:6379/2\n",
	    strlen("GreylistStore redis:[::1]:6379/2\n"), cfg, err);
	ok(rc == 0 && strcmp(cfg->greylist_store, "redis:[::1]:6379/2") == 0,
	    "a good Redis spec is kept");
	config_free(cfg);
	snprintf(path, sizeof(path), "%s/fifo.conf", tmpdir);
	unlink(path);
}

int
main(void)
{
	struct config cfg;
	char err[CONFIG_ERR_MAX], big[CONFIG_LINE_MAX + 100];
	const char *good =
	    "# a comment\n"
	    "  socket   unix:/run/smtpscope/s.sock   # trailing comment\n"
	    "RECORDLOG /var/log/r.jsonl\r\n"
	    "\n"
	    "UserID smtpscope:postfix\n"
	    "OnError TempFail\n"
	    "Syslog no\n"
	    "SocketMode 0600\n"
	    "AuthservID mx.example.org\n";
	int rc;

	if (mkdtemp(tmpdir) == NULL)
		return 1;
	plan(24 + 12);
	config_init(&cfg);
	is_str(cfg.socket, "unix:/run/smtpscope/smtpscope.sock", "default Socket");
	is_int(cfg.on_error, CONFIG_ON_ERROR_ACCEPT, "default OnError is accept");
	ok(cfg.syslog, "default Syslog is yes");
	is_int(cfg.socket_mode, 0660, "default SocketMode is 0660");
	ok(cfg.user_id == NULL, "UserID has no default");
	config_free(&cfg);

	rc = load("good.conf", good, strlen(good), &cfg, err);
	is_int(rc, 0, "a good file loads");
	is_str(cfg.socket, "unix:/run/smtpscope/s.sock", "keys are case-insensitive, comments cut");
	is_str(cfg.record_log, "/var/log/r.jsonl", "CRLF line ends are accepted");
	is_str(cfg.user_id, "smtpscope:postfix", "user:group is kept");
	is_int(cfg.on_error, CONFIG_ON_ERROR_TEMPFAIL, "enum values are case-insensitive");
	ok(!cfg.syslog, "boolean no");
	is_int(cfg.socket_mode, 0600, "octal mode");
	is_int(cfg.line[CONFIG_KEY_USER_ID], 5, "the line of each key is kept");
	config_free(&cfg);

	expect_error("unknown.conf", "Socket unix:/x\nFrobnicate yes\n",
	    "unknown.conf:2: unknown key 'Frobnicate'");
	expect_error("badenum.conf", "OnError maybe\n",
	    "badenum.conf:1: OnError: 'maybe' not one of the allowed values");
	expect_error("badsock.conf", "Socket tcp:25\n", "badsock.conf:1: Socket:");
	expect_error("range.conf", "ShutdownTimeout 99999\n",
	    "range.conf:1: ShutdownTimeout: '99999': value out of range");
	expect_error("dup.conf", "Syslog yes\nsyslog no\n",
	    "dup.conf:2: Syslog: set again (first set at line 1)");
	expect_error("novalue.conf", "RecordLog\n", "novalue.conf:1: RecordLog: missing value");
	expect_error("relpath.conf", "RecordLog records.jsonl\n",
	    "relpath.conf:1: RecordLog: 'records.jsonl': path must be absolute");
	expect_error("baduser.conf", "UserID root;rm\n", "baduser.conf:1: UserID:");
	rc = load("nul.conf", "Syslog yes\nSyslog\0 no\n", 22, &cfg, err);
	ok(rc != 0 && strstr(err, "nul.conf:2: NUL byte") != NULL, "a NUL byte is an error with its line");
	config_free(&cfg);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	expect_error("long.conf", big, "long.conf:1: line too long");
	files(&cfg, err);
	config_init(&cfg);
	rc = config_load(&cfg, "/nonexistent/smtpscope.conf", err, sizeof(err));
	ok(rc != 0 && strstr(err, "/nonexistent/smtpscope.conf") != NULL &&
	    strstr(err, "cannot open") != NULL, "an unreadable file names the file");
	config_free(&cfg);
	snprintf(big, sizeof(big), "rm -rf '%s'", tmpdir);
	if (system(big) != 0)
		diag("could not remove the temporary folder");
	return done_testing();
}
