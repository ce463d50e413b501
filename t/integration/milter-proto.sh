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
tap_plan 14

# two SMTP sessions on one milter connection, QUIT_NC between them
scope_start; tap_ok $? "smtpscope starts"
out=$("$TALK" -s "unix:$SCOPE_SOCK" sessions 2 2>&1)
tap_is $? 0 "both sessions on the reused connection are answered"
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
tap_ok "$(grep -q 'internal fault: adding Authentication-Results: input/output error;' "$SCOPE_DIR/stderr"; echo $?)" \
	"the fault is logged with its code"
tap_is "$(grep -c 'Success' "$SCOPE_DIR/stderr")" 0 "no log line says \"Success\" about a failure"
scope_assert_clean
tap_done
