#!/bin/bash
# postfix.sh - smtpscope behind a real Postfix on loopback, driven by swaks.
#
# Each case uses its own HELO name, so its session and message records can
# be found by client.helo. Checks the records' fields against what swaks
# negotiated and what Postfix logged (queue ids by Message-ID).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
. "$here/harness.sh"
. "$here/scope.sh"

for tool in postfix swaks jq /usr/sbin/smtp-source; do
	command -v "$tool" >/dev/null 2>&1 || tap_skip_all "$tool is not installed"
done
[ "$(id -u)" -eq 0 ] || tap_skip_all "needs root to run a throwaway Postfix"

harness_init postfix
tap_plan 57
harness_pki "$T/pki" >/dev/null
scope_start; tap_ok $? "smtpscope starts"
pf_start "unix:$SCOPE_SOCK"; tap_ok $? "Postfix starts with smtpscope attached"

# msg HELO FIELD - a field of the message record(s) of one case
msg() { scope_jq "map(select(.event==\"message\" and .client.helo==\"$1\")) | .[0].$2" | tr -d '"'; }
sess() { scope_jq "map(select(.event==\"session\" and .client.helo==\"$1\")) | .[0].$2" | tr -d '"'; }
count() { scope_jq "map(select(.event==\"$1\" and .client.helo==\"$2\")) | length"; }
nrec=0
expect() { nrec=$((nrec + $1)); scope_wait "$nrec" 10; }
last_cipher() { grep -a 'TLS started with cipher' "$T/swaks.log" | tail -1 | sed 's/.*cipher //'; }

# 1. plain IPv4
swaks_to 127.0.0.1 "$PF_PORT" --helo v4.case.test --to v4@smtpscope.test >/dev/null
tap_ok $? "swaks: plain IPv4 message accepted"
expect 2
tap_is "$(msg v4.case.test client.family)" ipv4 "IPv4: family"
tap_is "$(msg v4.case.test client.ip)" 127.0.0.1 "IPv4: client address"
tap_is "$(msg v4.case.test tls)" null "IPv4 plain: tls is null"
tap_is "$(msg v4.case.test envelope.from)" sender@example.org "IPv4: envelope sender"
tap_is "$(msg v4.case.test 'envelope.rcpt[0]')" v4@smtpscope.test "IPv4: envelope recipient"
tap_is "$(msg v4.case.test disposition.action)" accept "IPv4: disposition accept"
tap_is "$(msg v4.case.test server.mta)" postfix "MTA detected as postfix"
tap_is "$(msg v4.case.test server.port)" "$PF_PORT" "server port from {daemon_port}"
tap_is "$(msg v4.case.test server.name)" mx.smtpscope.test "server name from j"
tap_is "$(sess v4.case.test messages)" 1 "IPv4: session record counts one message"
tap_ok "$([ "$(msg v4.case.test session)" = "$(sess v4.case.test session)" ]; echo $?)" \
	"IPv4: message and session records share the session id"
msgid=$(msg v4.case.test message.id)
qid=$(msg v4.case.test queue_id)
pf_wait_log "message-id=$msgid" 1 10
logged=$(grep -aF "message-id=$msgid" "$PF_LOG" | sed -E 's/.*: ([0-9A-F]+): message-id=.*/\1/' | head -1)
tap_is "$qid" "$logged" "IPv4: queue id matches Postfix's log"
tap_ok "$([ "$(msg v4.case.test message.size)" -gt 100 ]; echo $?)" "IPv4: message size counted"

# 2. plain IPv6
swaks_to ::1 "$PF_PORT" --helo v6.case.test --to v6@smtpscope.test >/dev/null
tap_ok $? "swaks: plain IPv6 message accepted"
expect 2
tap_is "$(msg v6.case.test client.family)" ipv6 "IPv6: family"
tap_is "$(msg v6.case.test client.ip)" ::1 "IPv6: client address"
tap_is "$(msg v6.case.test server.addr)" ::1 "IPv6: server address"

# 3, 4. STARTTLS with TLS 1.2 and 1.3: version, cipher, bits as swaks saw them
for v in 1_2 1_3; do
	h=tls$v.case.test
	swaks_to 127.0.0.1 "$PF_PORT" --helo "$h" --to "tls$v@smtpscope.test" --tls --tls-protocol "tlsv$v" >/dev/null
	tap_ok $? "swaks: STARTTLS TLSv${v/_/.} message accepted"
	expect 2
	IFS=: read -r sv sc sb <<< "$(last_cipher)"
	tap_is "$(msg "$h" tls.version)" "TLSv${v/_/.}" "TLSv${v/_/.}: version"
	tap_is "$(msg "$h" tls.version)" "$sv" "TLSv${v/_/.}: version as swaks negotiated"
	tap_is "$(msg "$h" tls.cipher)" "$sc" "TLSv${v/_/.}: cipher as swaks negotiated"
	tap_is "$(msg "$h" tls.bits)" "$sb" "TLSv${v/_/.}: bits as swaks negotiated"
done

# 5. a CA-signed client certificate; 6. a self-signed one (Postfix hides it)
swaks_to 127.0.0.1 "$PF_PORT" --helo cert.case.test --to cert@smtpscope.test --tls \
	--tls-cert "$PKI_DIR/client.crt" --tls-key "$PKI_DIR/client.key" >/dev/null
tap_ok $? "swaks: client certificate message accepted"
expect 2
tap_is "$(msg cert.case.test tls.peer.subject)" client.smtpscope.test "client cert: subject CN"
tap_is "$(msg cert.case.test tls.peer.issuer)" "smtpscope Test CA" "client cert: issuer CN"
tap_is "$(msg cert.case.test tls.peer.verified)" null "client cert: Postfix does not say verified"
swaks_to 127.0.0.1 "$PF_PORT" --helo self.case.test --to self@smtpscope.test --tls \
	--tls-cert "$PKI_DIR/selfclient.crt" --tls-key "$PKI_DIR/selfclient.key" >/dev/null
tap_ok $? "swaks: self-signed client certificate message accepted"
expect 2
tap_is "$(msg self.case.test tls.peer)" null "self-signed cert: invisible through Postfix"

# 7. wrapper-mode TLS: macros arrive at connect
swaks_to 127.0.0.1 "$PF_TLS_PORT" --helo tlsc.case.test --to tlsc@smtpscope.test --tlsc >/dev/null
tap_ok $? "swaks: wrapper-mode TLS message accepted"
expect 2
tap_ok "$(msg tlsc.case.test tls.version | grep -q '^TLSv1\.[23]$'; echo $?)" "wrapper TLS: version recorded"

# 8. two messages in one session
/usr/sbin/smtp-source -d -s 1 -m 2 -M two.case.test -f a@example.org -t two@smtpscope.test "127.0.0.1:$PF_PORT" 2>>"$T/swaks.log"
tap_ok $? "smtp-source: two messages in one session"
expect 3
tap_is "$(count message two.case.test)" 2 "two messages: two message records"
tap_is "$(scope_jq '[.[] | select(.client.helo=="two.case.test") | .session] | unique | length')" 1 \
	"two messages: one session id"
tap_is "$(sess two.case.test messages)" 2 "two messages: session counts 2"
tap_is "$(scope_jq '[.[] | select(.event=="message" and .client.helo=="two.case.test") | .msg] | sort | join(",")' )" '"1,2"' \
	"two messages: numbered 1 and 2"

# 9. quit after EHLO: a session record and no message record
swaks_to 127.0.0.1 "$PF_PORT" --helo quit.case.test --quit-after EHLO >/dev/null
expect 1
tap_is "$(count session quit.case.test)" 1 "quit after EHLO: one session record"
tap_is "$(count message quit.case.test)" 0 "quit after EHLO: no message record"
tap_is "$(sess quit.case.test messages)" 0 "quit after EHLO: messages 0"

# 10. quit after RCPT: the message is recorded as aborted
swaks_to 127.0.0.1 "$PF_PORT" --helo rcpt.case.test --to rcpt@smtpscope.test --quit-after RCPT >/dev/null
expect 2
tap_is "$(msg rcpt.case.test disposition.action)" abort "quit after RCPT: message aborted"
tap_is "$(msg rcpt.case.test disposition.stage)" rcpt "quit after RCPT: abort stage rcpt"

# 11. a hostile HELO: quotes, backslash, control and invalid UTF-8 bytes
# (Postfix with SMTPUTF8 rejects invalid UTF-8 itself; without it, it passes)
pf_set smtputf8_enable=no && pf_reload
swaks_to 127.0.0.1 "$PF_PORT" --helo $'ev"il\\\x01\xff\xfe{"v":9}' --to hostile@smtpscope.test >/dev/null
expect 2
tap_is "$(jq -c . "$SCOPE_LOG" >/dev/null 2>&1; echo $?)" 0 "every line of the record log is valid JSON"
tap_is "$(scope_jq 'map(select(.envelope.rcpt[0]=="hostile@smtpscope.test")) | .[0].client.helo')" \
	'"ev\"il\\\u0001��{\"v\":9}"' "hostile HELO escaped exactly, invalid bytes replaced"
tap_is "$(wc -l < "$SCOPE_LOG")" "$nrec" "one line per record, nothing else in the log"

# 12. SIGTERM while a session is in flight: the session finishes, its
# records are written, new connections are no longer accepted, then exit
slow_session() {
	exec 3<>"/dev/tcp/127.0.0.1/$PF_PORT" || return 1
	local line
	read -r line <&3
	printf 'EHLO slow.case.test\r\n' >&3
	while read -r line <&3; do case $line in 250\ *) break ;; esac; done
	printf 'MAIL FROM:<s@example.org>\r\nRCPT TO:<slow@smtpscope.test>\r\n' >&3
	read -r line <&3; read -r line <&3
	sleep 2	# smtpscope gets SIGTERM meanwhile
	printf 'DATA\r\n' >&3; read -r line <&3
	printf 'Subject: slow\r\n\r\nbody\r\n.\r\n' >&3; read -r line <&3
	echo "$line" > "$T/slow.reply"
	printf 'QUIT\r\n' >&3; read -r line <&3
	exec 3>&-
}
slow_session &
slow=$!
sleep 1
kill -TERM "$SCOPE_PID"
wait "$slow"
tap_ok "$(grep -q '^250 ' "$T/slow.reply"; echo $?)" "SIGTERM: the session in flight is accepted"
for i in $(seq 1 100); do kill -0 "$SCOPE_PID" 2>/dev/null || break; sleep 0.1; done
tap_ok "$(kill -0 "$SCOPE_PID" 2>/dev/null; [ $? -ne 0 ]; echo $?)" "SIGTERM: smtpscope exits after the session"
tap_is "$(msg slow.case.test disposition.action)/$(sess slow.case.test messages)" accept/1 \
	"SIGTERM: the session's message and session records are written"
tap_ok "$(grep -q 'stopping: 1 sessions in flight' "$SCOPE_DIR/stderr"; echo $?)" \
	"SIGTERM: the log says one session was in flight"
tap_ok "$([ ! -e "$SCOPE_SOCK" ]; echo $?)" "SIGTERM: the socket is removed"
scope_assert_clean
tap_done
