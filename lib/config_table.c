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
		"Permissions of a UNIX socket."
	},
	[CONFIG_KEY_SOCKET_GROUP] = {
		"SocketGroup", CONFIG_STRING, 0, 0, NULL, NULL,
		offsetof(struct config, socket_group),
		"Group of a UNIX socket (default: the UserID group): the MTA's "
		"group, e.g. postfix, whose smtpd keeps no other group."
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
	[CONFIG_KEY_THREAD_STACK_SIZE] = {
		"ThreadStackSize", CONFIG_INT, 256, 65536, NULL, "1024",
		offsetof(struct config, thread_stack_size),
		"KiB of stack for each thread that handles MTA connections "
		"(instead of the stack limit, often 8192); glibc keeps the "
		"stacks of ended threads for reuse up to 40 MiB in all."
	},
	[CONFIG_KEY_METRICS_LISTEN] = {
		"MetricsListen", CONFIG_STRING, 0, 0, NULL, NULL,
		offsetof(struct config, metrics_listen),
		"ADDRESS:PORT or [IPV6]:PORT of an HTTP endpoint serving "
		"/metrics (Prometheus text) and /health; off when unset."
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
		"Milliseconds all DNS lookups the end of one message waits for "
		"(its SPF, DKIM and DMARC, and the session's iprev when it runs "
		"then) may take together; later lookups are temperror."
	},
	[CONFIG_KEY_DNS_RETRIES] = {
		"DNSRetries", CONFIG_INT, 0, 5, NULL, "1",
		offsetof(struct config, dns_retries),
		"Retries of an unanswered query, within DNSTimeout."
	},
	[CONFIG_KEY_DNS_DOWN_AFTER] = {
		"DNSDownAfter", CONFIG_INT, 0, 100, NULL, "3",
		offsetof(struct config, dns_down_after),
		"Unanswered queries in a row (all sessions together) after "
		"which a name server is considered down; 0 never does."
	},
	[CONFIG_KEY_DNS_DOWN_WINDOW] = {
		"DNSDownWindow", CONFIG_INT, 1000, 3600000, NULL, "30000",
		offsetof(struct config, dns_down_window),
		"Milliseconds a name server considered down gets no queries "
		"(lookups are temperror at once); then one query probes it."
	},
	[CONFIG_KEY_DNS_CACHE] = {
		"DNSCache", CONFIG_BOOL, 0, 0, NULL, "yes",
		offsetof(struct config, dns_cache),
		"Keep DNS answers in memory for all sessions, within their TTLs "
		"and DNSCacheMaxTTL."
	},
	[CONFIG_KEY_DNS_CACHE_SIZE] = {
		"DNSCacheSize", CONFIG_INT, 16, 10000000, NULL, "10000",
		offsetof(struct config, dns_cache_size),
		"Most DNS answers the cache holds (each at most 4 KB)."
	},
	[CONFIG_KEY_DNS_CACHE_MAX_TTL] = {
		"DNSCacheMaxTTL", CONFIG_INT, 1, 604800, NULL, "3600",
		offsetof(struct config, dns_cache_max_ttl),
		"Seconds a DNS answer is kept at most, whatever its TTL."
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
	[CONFIG_KEY_GREYLIST] = {
		"Greylist", CONFIG_ENUM, 0, 0, "off|observe|enforce", "off",
		offsetof(struct config, greylist),
		"Greylisting: observe keeps the state and records what enforce "
		"would do, never refusing mail; enforce answers 451 4.7.1 at "
		"RCPT to a new triplet and to a retry before GreylistDelay."
	},
	[CONFIG_KEY_GREYLIST_STORE] = {
		"GreylistStore", CONFIG_STORE, 0, 0, NULL,
		"lmdb:/var/lib/smtpscope/greylist.lmdb",
		offsetof(struct config, greylist_store),
		"Where the greylisting state lives: lmdb:/path (one file on this "
		"host) or redis:host:port[/db], redis:unix:/path[/db] (shared "
		"by several MX hosts)."
	},
	[CONFIG_KEY_GREYLIST_TIMEOUT] = {
		"GreylistTimeout", CONFIG_INT, 10, 10000, NULL, "500",
		offsetof(struct config, greylist_timeout),
		"Milliseconds one Redis call may take; a slower or dead store "
		"gives the verdict error and the mail passes."
	},
	[CONFIG_KEY_GREYLIST_DELAY] = {
		"GreylistDelay", CONFIG_INT, 0, 86400, NULL, "300",
		offsetof(struct config, greylist_delay),
		"Seconds a new triplet must wait before a retry passes "
		"(postgrey's --delay)."
	},
	[CONFIG_KEY_GREYLIST_RETRY_WINDOW] = {
		"GreylistRetryWindow", CONFIG_INT, 60, 2592000, NULL, "172800",
		offsetof(struct config, greylist_retry_window),
		"Seconds after the first attempt within which a retry passes; "
		"later, the triplet starts over (postgrey's --retry-window)."
	},
	[CONFIG_KEY_GREYLIST_LIFETIME] = {
		"GreylistLifetime", CONFIG_INT, 3600, 31536000, NULL, "3024000",
		offsetof(struct config, greylist_lifetime),
		"Seconds an entry is kept after its last use (35 days, "
		"postgrey's --max-age)."
	},
	[CONFIG_KEY_GREYLIST_AUTO_ALLOW] = {
		"GreylistAutoAllow", CONFIG_INT, 0, 100000, NULL, "5",
		offsetof(struct config, greylist_auto_allow),
		"Passed deliveries after which a client network is no longer "
		"greylisted; 0 never (postgrey's --auto-whitelist-clients)."
	},
	[CONFIG_KEY_GREYLIST_IPV4_PREFIX] = {
		"GreylistIPv4Prefix", CONFIG_INT, 8, 32, NULL, "24",
		offsetof(struct config, greylist_ipv4_prefix),
		"Prefix length of the client network in an IPv4 triplet."
	},
	[CONFIG_KEY_GREYLIST_IPV6_PREFIX] = {
		"GreylistIPv6Prefix", CONFIG_INT, 16, 128, NULL, "64",
		offsetof(struct config, greylist_ipv6_prefix),
		"Prefix length of the client network in an IPv6 triplet."
	},
	[CONFIG_KEY_GREYLIST_CHAIN] = {
		"GreylistChain", CONFIG_BOOL, 0, 0, NULL, "yes",
		offsetof(struct config, greylist_chain),
		"A retry of the same sender and recipient from another network "
		"or address family passes once the delay is over (large "
		"senders retry from other addresses); measured either way."
	},
	[CONFIG_KEY_GREYLIST_ALLOW_NETWORKS] = {
		"GreylistAllowNetworks", CONFIG_STRING, 0, 0, NULL, NULL,
		offsetof(struct config, greylist_allow_networks),
		"Client networks never greylisted: addresses or prefixes "
		"(192.0.2.0/24, 2001:db8::/32), separated by spaces or commas."
	},
	[CONFIG_KEY_GREYLIST_ALLOW_DOMAINS] = {
		"GreylistAllowDomains", CONFIG_STRING, 0, 0, NULL, NULL,
		offsetof(struct config, greylist_allow_domains),
		"Clients never greylisted by their host name as the MTA "
		"verified it (the name or any name under it), separated by "
		"spaces or commas."
	},
	[CONFIG_KEY_GREYLIST_EXPIRE_INTERVAL] = {
		"GreylistExpireInterval", CONFIG_INT, 60, 86400, NULL, "3600",
		offsetof(struct config, greylist_expire_interval),
		"Seconds between removals of entries older than "
		"GreylistLifetime from an LMDB store (Redis entries expire by "
		"themselves), done in small batches while mail flows."
	},
	[CONFIG_KEY_GREYLIST_MAX_SIZE] = {
		"GreylistMaxSize", CONFIG_INT, 1, 1048576, NULL, "4096",
		offsetof(struct config, greylist_max_size),
		"MiB an LMDB store may grow to: its map starts at 1024 (or this, "
		"if less) and doubles when full; at this size new triplets are "
		"not stored and pass (verdict error). Expiry may exceed it by a "
		"sixteenth. Redis: see its maxmemory."
	},
	[CONFIG_KEY_TAG_RULES] = {
		"TagRules", CONFIG_PATH, 0, 0, NULL, NULL,
		offsetof(struct config, tag_rules),
		"A file of rules that tag records (by recipient, recipient "
		"domain, sender domain, local address and port, client network) "
		"and choose a greylisting mode per tag; see smtpscope-tags(5)."
	},
	[CONFIG_KEY_PSEUDO_CLIENT_ADDRESS] = {
		"PseudonymizeClientAddress", CONFIG_ENUM, 0, 0,
		"keep|hmac|drop|prefix|truncate", "keep",
		offsetof(struct config, pseudo_client_address),
		"How records show client addresses (and their networks and "
		"reverse names): as they are, HMAC-SHA256 under the key, left "
		"out, prefix-preserving (Crypto-PAn style), or cut to /24 and "
		"/48."
	},
	[CONFIG_KEY_PSEUDO_NAMES] = {
		"PseudonymizeNames", CONFIG_ENUM, 0, 0, "keep|hmac|drop", "keep",
		offsetof(struct config, pseudo_names),
		"How records show HELO, PTR and verified client host names and "
		"client certificate names."
	},
	[CONFIG_KEY_PSEUDO_ADDRESSES] = {
		"PseudonymizeAddresses", CONFIG_ENUM, 0, 0, "keep|hmac|drop",
		"keep",
		offsetof(struct config, pseudo_addresses),
		"How records show envelope addresses (MAIL FROM, RCPT TO, SMTP "
		"AUTH user)."
	},
	[CONFIG_KEY_PSEUDO_MESSAGE_ID] = {
		"PseudonymizeMessageID", CONFIG_ENUM, 0, 0, "keep|hmac|drop",
		"keep",
		offsetof(struct config, pseudo_message_id),
		"How records show the Message-ID."
	},
	[CONFIG_KEY_PSEUDO_KEY_FILE] = {
		"PseudonymizeKeyFile", CONFIG_PATH, 0, 0, NULL, NULL,
		offsetof(struct config, pseudo_key_file),
		"The secret key (at least 16 bytes) of hmac and prefix; the "
		"file must not be readable by group or others. Records name "
		"the key's id so keys can rotate."
	},
};
