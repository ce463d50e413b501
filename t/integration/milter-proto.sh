#!/bin/bash
# milter-proto.sh - smtpscope over the raw milter protocol (t/tools/miltertalk):
# a milter connection reused for further SMTP sessions (SMFIC_QUIT_NC) gives
# each of them a full session (records, Authentication-Results header,
# greylisting), and a fault log line names no errno that it does not have
# (it used to read "input/output error: Success").
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
. "$here/harness.sh"
. "$here/scope.sh"

command -v jq >/dev/null 2>&1 || tap_skip_all "jq is not installed"
[ "$(id -u)" -eq 0 ] || tap_skip_all "needs root (smtpscope drops to nobody)"
TALK=${top_builddir:-../..}/t/tools/miltertalk
harness_init milter-proto
tap_plan 15

# two SMTP sessions on one milter connection, QUIT_NC between them, then
# QUIT: no syslog call on the way:
# libmilter logs "private data not NULL" (LOG_WARNING) for a connection
# that ends with the milter's private pointer set, which was every SMTP
# session once (seen as a connect to /dev/log, or a send of that text)
scope_start; tap_ok $? "smtpscope starts"
strace -f -qq -e trace=socket,connect,sendto,sendmsg -s 300 \
	-o "$T/sessions.trace" -p "$SCOPE_PID" 2>/dev/null &
trace_pid=$!
harness_track_pid "$trace_pid"
traced() { ! grep -q '^TracerPid:[[:space:]]*0$' "/proc/$SCOPE_PID/status"; }
harness_wait 30 traced
out=$("$TALK" -s "unix:$SCOPE_SOCK" sessions 2 2>&1)
tap_is $? 0 "both sessions on the reused connection are answered"
sleep 0.5
kill -INT "$trace_pid" 2>/dev/null
wait "$trace_pid" 2>/dev/null
tap_is "$(grep -c '/dev/log\|private data' "$T/sessions.trace")" 0 \
	"no syslog call for sessions that end normally (no \"private data not NULL\")"
for i in 1 2; do
	tap_ok "$(echo "$out" | grep -q "^eom $i: i .*Authentication-Results|.*; none"; echo $?)" \
		"session $i: the end of message inserts an Authentication-Results header"
done
scope_stop
tap_is "$(jq -r 'select(.event=="session") | .client.ip' "$SCOPE_LOG" | sort | tr '\n' ' ')" \
	"192.0.2.1 192.0.2.2 " "a session record for each SMTP session"
tap_is "$(jq -r 'select(.event=="message") | .queue_id' "$SCOPE_LOG" | sort | tr '\n' ' ')" \
	"QNC1 QNC2 " "a message record for each message"
tap_is "$(jq -r '.session' "$SCOPE_LOG" | sort -u | wc -l)" 2 "two distinct session ids"
tap_ok "$(grep -q 'stopping: 0 sessions in flight' "$SCOPE_DIR/stderr"; echo $?)" \
	"no session counted as in flight after the connection ended"

# greylisting in enforce mode applies to the second session too
SCOPE_NAME=grey scope_start Greylist enforce GreylistStore "lmdb:$T/grey/gl.lmdb"
tap_ok $? "smtpscope starts with Greylist enforce"
out=$("$TALK" -s "unix:$SCOPE_SOCK" sessions 2 2>&1)
for i in 1 2; do
	tap_ok "$(echo "$out" | grep -q "^rcpt $i: y 451 4.7.1"; echo $?)" \
		"session $i: the first attempt of a new triplet gets 451 4.7.1"
done
scope_stop

# a fault that has no errno is logged without one: no actions offered,
# so the header cannot be added
SCOPE_NAME=noact scope_start
"$TALK" -a 0x100 -s "unix:$SCOPE_SOCK" sessions 1 >/dev/null 2>&1
scope_stop
tap_ok "$(grep -q 'internal fault: adding Authentication-Results: the MTA did not take the header change;' "$SCOPE_DIR/stderr"; echo $?)" \
	"the fault is logged with its code"
tap_is "$(grep -c 'Success' "$SCOPE_DIR/stderr")" 0 "no log line says \"Success\" about a failure"
scope_assert_clean
tap_done
