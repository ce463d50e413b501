/*
 * config_table.c - the one table of smtpscope.conf keys.
 *
 * Adding a key: add its id to enum config_key_id, its field to struct
 * config, its row here, and its entry to docs/smtpscope.conf.5 (the unit
 * test test_config_doc compares the two and fails on any drift).
 */
#include <stddef.h>

#include "config.h"

const struct config_key config_table[CONFIG_NKEYS] = {
	[CONFIG_KEY_SOCKET] = {
		"Socket", CONFIG_SOCKET, 0, 0, NULL,
		"unix:/run/smtpscope/smtpscope.sock",
		offsetof(struct config, socket),
		"Where smtpscope listens for the MTA: unix:/path, "
		"inet:port@host or inet6:port@host."
	},
	[CONFIG_KEY_SOCKET_MODE] = {
		"SocketMode", CONFIG_OCTAL, 0, 0777, NULL, "0660",
		offsetof(struct config, socket_mode),
		"Permissions of a UNIX socket; its group is the UserID group."
	},
	[CONFIG_KEY_RECORD_LOG] = {
		"RecordLog", CONFIG_PATH, 0, 0, NULL,
		"/var/log/smtpscope/records.jsonl",
		offsetof(struct config, record_log),
		"The record log (JSON Lines), opened with O_APPEND; its folder "
		"must be writable by UserID so that a reopen can create it."
	},
	[CONFIG_KEY_RECORD_LOG_MODE] = {
		"RecordLogMode", CONFIG_OCTAL, 0, 0666, NULL, "0640",
		offsetof(struct config, record_log_mode),
		"Permissions of a record log that smtpscope creates."
	},
	[CONFIG_KEY_USER_ID] = {
		"UserID", CONFIG_USER, 0, 0, NULL, NULL,
		offsetof(struct config, user_id),
		"user[:group] to run as after opening the socket and the log; "
		"required when started as root."
	},
	[CONFIG_KEY_PID_FILE] = {
		"PidFile", CONFIG_PATH, 0, 0, NULL, NULL,
		offsetof(struct config, pid_file),
		"File to write the daemon's process id to; removed at exit."
	},
	[CONFIG_KEY_SYSLOG] = {
		"Syslog", CONFIG_BOOL, 0, 0, NULL, "yes",
		offsetof(struct config, syslog),
		"Log operational messages to syslog (with -f they also go to "
		"standard error)."
	},
	[CONFIG_KEY_SYSLOG_FACILITY] = {
		"SyslogFacility", CONFIG_ENUM, 0, 0,
		"mail|daemon|user|local0|local1|local2|local3|local4|local5|"
		"local6|local7", "mail",
		offsetof(struct config, syslog_facility),
		"Syslog facility for operational messages."
	},
	[CONFIG_KEY_ON_ERROR] = {
		"OnError", CONFIG_ENUM, 0, 0, "accept|tempfail", "accept",
		offsetof(struct config, on_error),
		"What happens to a message when smtpscope itself fails (record "
		"not written, out of memory): accept lets it through, tempfail "
		"answers 451 so that no message goes unrecorded."
	},
	[CONFIG_KEY_AUTHSERV_ID] = {
		"AuthservID", CONFIG_STRING, 0, 0, NULL, NULL,
		offsetof(struct config, authserv_id),
		"The authserv-id of the Authentication-Results header smtpscope "
		"adds, and of the ones it removes as forged; unset means the "
		"host name."
	},
	[CONFIG_KEY_SHUTDOWN_TIMEOUT] = {
		"ShutdownTimeout", CONFIG_INT, 0, 3600, NULL, "30",
		offsetof(struct config, shutdown_timeout),
		"Seconds SIGTERM waits for sessions in flight before exiting."
	},
	[CONFIG_KEY_STATS_INTERVAL] = {
		"StatsInterval", CONFIG_INT, 0, 86400, NULL, "3600",
		offsetof(struct config, stats_interval),
		"Seconds between counter lines in syslog; 0 logs them only at "
		"exit."
	},
	[CONFIG_KEY_NAMESERVERS] = {
		"Nameservers", CONFIG_STRING, 0, 0, NULL, NULL,
		offsetof(struct config, nameservers),
		"Resolvers to ask: ip, ip:port or [ipv6]:port, separated by "
		"spaces or commas (one port for all); unset means "
		"/etc/resolv.conf. DNSSEC status needs a validating resolver."
	},
	[CONFIG_KEY_DNS_TIMEOUT] = {
		"DNSTimeout", CONFIG_INT, 100, 60000, NULL, "5000",
		offsetof(struct config, dns_timeout),
		"Milliseconds all DNS lookups for one message (or one session's "
		"iprev check) may take together; later lookups are temperror."
	},
	[CONFIG_KEY_DNS_RETRIES] = {
		"DNSRetries", CONFIG_INT, 0, 5, NULL, "1",
		offsetof(struct config, dns_retries),
		"Retries of an unanswered query, within DNSTimeout."
	},
	[CONFIG_KEY_SPF] = {
		"SPF", CONFIG_BOOL, 0, 0, NULL, "yes",
		offsetof(struct config, spf),
		"Evaluate SPF for the MAIL FROM and HELO identities."
	},
	[CONFIG_KEY_IPREV] = {
		"IPrev", CONFIG_BOOL, 0, 0, NULL, "yes",
		offsetof(struct config, iprev),
		"Check that the client address's PTR name leads back to it."
	},
	[CONFIG_KEY_DKIM] = {
		"DKIM", CONFIG_BOOL, 0, 0, NULL, "yes",
		offsetof(struct config, dkim),
		"Verify every DKIM signature (RSA and Ed25519), up to "
		"MaximumSignatures per message."
	},
	[CONFIG_KEY_MAXIMUM_SIGNATURES] = {
		"MaximumSignatures", CONFIG_INT, 1, 64, NULL, "10",
		offsetof(struct config, maximum_signatures),
		"DKIM signatures evaluated per message; the rest are counted, "
		"not verified (a message with thousands of signatures costs "
		"no more than this many)."
	},
	[CONFIG_KEY_DKIM_MIN_KEY_BITS] = {
		"DKIMMinimumKeyBits", CONFIG_INT, 0, 16384, NULL, "1024",
		offsetof(struct config, dkim_min_key_bits),
		"RSA keys shorter than this give dkim=policy even when the "
		"signature verifies (RFC 8301)."
	},
	[CONFIG_KEY_DKIM_ALLOW_SHA1] = {
		"DKIMAllowSHA1", CONFIG_BOOL, 0, 0, NULL, "no",
		offsetof(struct config, dkim_allow_sha1),
		"Accept rsa-sha1 signatures; by default they give dkim=policy "
		"(RFC 8301)."
	},
	[CONFIG_KEY_DMARC] = {
		"DMARC", CONFIG_BOOL, 0, 0, NULL, "yes",
		offsetof(struct config, dmarc),
		"Evaluate DMARC for the From domain (needs DKIM and SPF for "
		"alignment; either alone is still used)."
	},
	[CONFIG_KEY_PUBLIC_SUFFIX_LIST] = {
		"PublicSuffixList", CONFIG_PATH, 0, 0, NULL, PSL_DEFAULT,
		offsetof(struct config, public_suffix_list),
		"The public suffix list that gives organizational domains for "
		"DMARC (Debian package publicsuffix)."
	},
	[CONFIG_KEY_DMARC_REJECT] = {
		"DMARCReject", CONFIG_BOOL, 0, 0, NULL, "no",
		offsetof(struct config, dmarc_reject),
		"Reject (550 5.7.1) a message whose DMARC disposition is reject; "
		"by default the disposition is only recorded."
	},
	[CONFIG_KEY_HEADERS] = {
		"Headers", CONFIG_BOOL, 0, 0, NULL, "yes",
		offsetof(struct config, headers),
		"Add an Authentication-Results header and remove forged ones; "
		"no leaves every message untouched (pure observation)."
	},
	[CONFIG_KEY_REMOVE_ALL_AUTH_RESULTS] = {
		"RemoveAllAuthResults", CONFIG_BOOL, 0, 0, NULL, "no",
		offsetof(struct config, remove_all_auth_results),
		"Remove every Authentication-Results header the message "
		"arrives with, not only those claiming AuthservID."
	},
};
