#!/bin/bash
# mta-sendmail.sh - smtpscope behind a real Sendmail 8.17 on loopback (in its
# own network namespace), driven by swaks: the records carry Sendmail's
# {verify} as tls.peer.verified, its full xtext DNs decoded, its IPv6 form
# canonicalised, and one record per message and per session.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
. "$here/harness.sh"
. "$here/scope.sh"
. "$here/sendmail.sh"

for tool in swaks jq m4 ip /usr/sbin/smtp-source; do
	command -v "$tool" >/dev/null 2>&1 || tap_skip_all "$tool is not installed"
done
[ "$(id -u)" -eq 0 ] || tap_skip_all "needs root for a network namespace"
harness_init sendmail
sm_ensure || tap_skip_all "Sendmail cannot be unpacked from the Debian archive"
tap_plan 31
harness_pki "$T/pki" >/dev/null
scope_start; tap_ok $? "smtpscope starts"
sm_start "$SCOPE_SOCK" "$PKI_DIR"; tap_ok $? "Sendmail starts with smtpscope attached"

msg() { scope_jq "map(select(.event==\"message\" and .client.helo==\"$1\")) | .[0].$2" | tr -d '"'; }
sess() { scope_jq "map(select(.event==\"session\" and .client.helo==\"$1\")) | .[0].$2" | tr -d '"'; }
nrec=0
expect() { nrec=$((nrec + $1)); scope_wait "$nrec" 10; }
last_cipher() { grep -a 'TLS started with cipher' "$T/swaks.log" | tail -1 | sed 's/.*cipher //'; }

sm_swaks --helo v4.sm.test --to v4@smtpscope.test >/dev/null
tap_ok $? "swaks: plain IPv4 message accepted"
expect 2
tap_is "$(msg v4.sm.test server.mta)" sendmail "MTA detected as sendmail"
tap_is "$(msg v4.sm.test client.family)" ipv4 "IPv4: family"
tap_is "$(msg v4.sm.test tls)" null "IPv4 plain: tls is null"
tap_ok "$(msg v4.sm.test queue_id | grep -Eq '^[0-9A-Za-z]{14}$'; echo $?)" "Sendmail queue id recorded"
tap_is "$(msg v4.sm.test server.port)" "$SM_PORT" "server port from {daemon_port}"
tap_is "$(msg v4.sm.test server.daemon)" MTA-v4 "daemon name from {daemon_name}"
tap_is "$(sess v4.sm.test messages)" 1 "session record counts one message"

sm_swaks --server ::1 --helo v6.sm.test --to v6@smtpscope.test >/dev/null
tap_ok $? "swaks: plain IPv6 message accepted"
expect 2
tap_is "$(msg v6.sm.test client.ip)" ::1 "IPv6: client address canonical"
tap_is "$(msg v6.sm.test server.addr)" ::1 "IPv6: Sendmail's IPv6:0:0:... server address canonicalised"

for v in 1_2 1_3; do
	h=tls$v.sm.test
	sm_swaks --helo "$h" --to "tls$v@smtpscope.test" --tls --tls-protocol "tlsv$v" >/dev/null
	expect 2
	IFS=: read -r sv sc sb <<< "$(last_cipher)"
	tap_is "$(msg "$h" tls.version)/$(msg "$h" tls.cipher)/$(msg "$h" tls.bits)" "$sv/$sc/$sb" \
		"TLSv${v/_/.}: version, cipher and bits as swaks negotiated"
	tap_is "$(msg "$h" tls.peer)" null "TLSv${v/_/.} without certificate: peer null ({verify}=NO)"
done

sm_swaks --helo cert.sm.test --to cert@smtpscope.test --tls \
	--tls-cert "$PKI_DIR/client.crt" --tls-key "$PKI_DIR/client.key" >/dev/null
expect 2
tap_is "$(msg cert.sm.test tls.peer.verified)" true "CA-signed certificate: verified true ({verify}=OK)"
tap_is "$(msg cert.sm.test tls.peer.verify)" OK "raw {verify} kept"
tap_is "$(msg cert.sm.test tls.peer.subject)" "/O=Test Client/CN=client.smtpscope.test" \
	"subject DN xtext-decoded"
tap_is "$(msg cert.sm.test tls.peer.cn_issuer)" "smtpscope Test CA" "issuer CN xtext-decoded"
tap_ok "$(msg cert.sm.test tls.peer.md5 | grep -Eq '^([0-9A-F]{2}:){15}[0-9A-F]{2}$'; echo $?)" "certificate MD5 recorded"

sm_swaks --helo self.sm.test --to self@smtpscope.test --tls \
	--tls-cert "$PKI_DIR/selfclient.crt" --tls-key "$PKI_DIR/selfclient.key" >/dev/null
expect 2
tap_is "$(msg self.sm.test tls.peer.verified)" false "self-signed certificate: verified false ({verify}=FAIL)"
tap_is "$(msg self.sm.test tls.peer.subject)" "/O=Rogue/CN=selfsigned.smtpscope.test" "self-signed subject kept"

sm_exec /usr/sbin/smtp-source -d -s 1 -m 2 -M two.sm.test -f a@example.org -t two@smtpscope.test \
	"127.0.0.1:$SM_PORT" 2>>"$T/swaks.log"
expect 3
tap_is "$(scope_jq '[.[] | select(.event=="message" and .client.helo=="two.sm.test")] | length')" 2 \
	"two messages in one session: two message records"
tap_is "$(sess two.sm.test messages)" 2 "two messages: the session counts 2"

sm_swaks --helo quit.sm.test --quit-after EHLO >/dev/null
expect 1
tap_is "$(sess quit.sm.test messages)" 0 "quit after EHLO: a session record with no message"

# Sendmail refuses a HELO that is not a domain name before the milter sees it
sm_swaks --helo $'ev"il\\\x01{"v":9}' --to hostile@smtpscope.test >/dev/null
expect 1
tap_is "$(jq -c . "$SCOPE_LOG" >/dev/null 2>&1; echo $?)" 0 "every line is valid JSON"
tap_is "$(scope_jq 'map(select(.event=="session" and .client.helo==null)) | length')" 1 \
	"HELO refused by Sendmail: the session is still recorded, helo null"
tap_is "$(wc -l < "$SCOPE_LOG")" "$nrec" "one line per record"
scope_stop
scope_assert_clean
tap_done
