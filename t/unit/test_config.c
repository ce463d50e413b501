/*
 * test_config.c - the smtpscope.conf parser on good and bad files.
 */
#include <stdbool.h>
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

/* load_all - parse bytes with config_load_all; errs gets every error */
static int
load_all(const char *name, const char *data, size_t len, struct config *cfg,
    struct config_errs *errs)
{
	const char *path = write_file(name, data, len);

	config_init(cfg);
	memset(errs, 0, sizeof(*errs));
	return config_load_all(cfg, path, errs);
}

/* has_error - is want the start of error i? */
static bool
has_error(const struct config_errs *errs, unsigned i, const char *want)
{
	if (i < errs->kept && strstr(errs->text[i], want) != NULL)
		return true;
	printf("# error %u: %s\n", i, i < errs->kept ? errs->text[i] : "(none)");
	return false;
}

/* every_error - config_load_all goes on past each bad line (issue 14) */
static void
every_error(void)
{
	static const char three[] =
	    "Socket unix:/run/s.sock\n"
	    "OnError maybe\n"
	    "Syslog no\n"
	    "ShutdownTimeout 99999\n"
	    "Frobnicate 1\n"
	    "RecordLog /var/log/r.jsonl\n";
	struct config cfg;
	struct config_errs errs;
	char err[CONFIG_ERR_MAX], *many;
	size_t i, len;
	int rc;

	rc = load_all("three.conf", three, strlen(three), &cfg, &errs);
	ok(rc != 0, "config_load_all fails on a file with errors");
	is_int((int)errs.count, 3, "three bad lines give three errors");
	ok(has_error(&errs, 0, "three.conf:2: OnError: 'maybe'"),
	    "the first error names line 2 and OnError");
	ok(has_error(&errs, 1, "three.conf:4: ShutdownTimeout: '99999': value out of range"),
	    "the second error names line 4 and ShutdownTimeout");
	ok(has_error(&errs, 2, "three.conf:5: unknown key 'Frobnicate'"),
	    "the third error names line 5 and the unknown key");
	ok(errs.bad[CONFIG_KEY_ON_ERROR] && errs.bad[CONFIG_KEY_SHUTDOWN_TIMEOUT] &&
	    !errs.bad[CONFIG_KEY_SYSLOG], "the keys in error are marked");
	ok(!cfg.syslog && strcmp(cfg.record_log, "/var/log/r.jsonl") == 0,
	    "the good lines after a bad one are still loaded");
	config_free(&cfg);
	config_init(&cfg);
	rc = config_load(&cfg, write_file("three.conf", three, strlen(three)),
	    err, sizeof(err));
	ok(rc != 0 && errs.kept > 0 && strcmp(err, errs.text[0]) == 0,
	    "config_load stops at the first error, with the same text");
	config_errs_free(&errs);
	config_free(&cfg);

	rc = load_all("nul2.conf", "Syslog\0 no\nOnError never\n", 25, &cfg, &errs);
	ok(errs.count == 2 && has_error(&errs, 0, "nul2.conf:1: NUL byte") &&
	    has_error(&errs, 1, "nul2.conf:2: OnError"),
	    "a NUL byte costs its line only; the next line is read");
	config_errs_free(&errs);
	config_free(&cfg);

	len = 150 * 12;
	many = malloc(len + 1);
	if (many == NULL)
		abort();
	for (i = 0; i < 150; i++)
		memcpy(many + i * 12, "Syslog what\n", 12);
	many[len] = '\0';
	rc = load_all("many.conf", many, len, &cfg, &errs);
	ok(errs.count == 150 && errs.kept == CONFIG_ERRS_KEEP &&
	    has_error(&errs, CONFIG_ERRS_KEEP - 1, "many.conf:100: Syslog"),
	    "150 errors: all counted, the first %d kept", CONFIG_ERRS_KEEP);
	config_errs_free(&errs);
	config_free(&cfg);
	free(many);
}

/* print_round_trip - config_print's output loads into the same values
 * and prints the same text (smtpscope -n -v) */
static void
print_round_trip(void)
{
	static const char some[] =
	    "Socket inet:8891@127.0.0.1\n"
	    "UserID smtpscope:postfix\n"
	    "SocketMode 0600\n"
	    "OnError tempfail\n"
	    "Syslog no\n"
	    "Nameservers 127.0.0.1:5353, [::1]:53\n"
	    "GreylistAllowNetworks 10.0.0.0/8 192.0.2.1\n";
	struct config cfg, again;
	char err[CONFIG_ERR_MAX], path[256], first[16384], second[16384];
	const char *in = write_file("some.conf", some, strlen(some));
	FILE *fp;
	size_t n1, n2;
	int i, same = 0, rc;

	config_init(&cfg);
	rc = config_load(&cfg, in, err, sizeof(err));
	snprintf(path, sizeof(path), "%s/printed.conf", tmpdir);
	fp = fopen(path, "w+");
	if (rc != 0 || fp == NULL)
		abort();
	ok(config_print(&cfg, fp) == 0, "config_print writes the configuration");
	rewind(fp);
	n1 = fread(first, 1, sizeof(first) - 1, fp);
	first[n1] = '\0';
	fclose(fp);
	ok(strstr(first, "SocketMode 0600\n") != NULL &&
	    strstr(first, "OnError tempfail\n") != NULL &&
	    strstr(first, "Syslog no\n") != NULL &&
	    strstr(first, "RecordLog /var/log/smtpscope/records.jsonl\n") != NULL &&
	    strstr(first, "# PidFile (not set)\n") != NULL,
	    "values in file syntax, defaults filled in, unset keys as comments");
	ok(strncmp(first, "Socket ", 7) == 0, "keys in table order");
	config_init(&again);
	rc = config_load(&again, path, err, sizeof(err));
	if (rc != 0)
		printf("# %s\n", err);
	for (i = 0; i < CONFIG_NKEYS; i++)
		same += config_same(&cfg, &again, (enum config_key_id)i);
	ok(rc == 0 && same == CONFIG_NKEYS, "the printed file loads into the same values");
	fp = tmpfile();
	if (fp == NULL || config_print(&again, fp) != 0)
		abort();
	rewind(fp);
	n2 = fread(second, 1, sizeof(second) - 1, fp);
	second[n2] = '\0';
	fclose(fp);
	is_str(second, first, "and prints the same text");
	config_free(&again);
	config_free(&cfg);
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
	plan(24 + 12 + 10 + 5);
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
	every_error();
	print_round_trip();
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
