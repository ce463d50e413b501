/*
 * test_config.c - the smtpscope.conf parser on good and bad files.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	plan(24);
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
