#!/bin/bash
# rotate.sh - log rotation while mail flows: rename the record log and send
# SIGHUP or SIGUSR1 over and over; no record may be lost or written twice.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
. "$here/harness.sh"
. "$here/scope.sh"

scope_require_load
harness_init rotate
tap_plan 8
MSGS=400
scope_start; tap_ok $? "smtpscope starts"
pf_start "unix:$SCOPE_SOCK"; tap_ok $? "Postfix starts"

scope_source "$MSGS" rot.case.test
src=$SOURCE_PID
n=0
while kill -0 "$src" 2>/dev/null; do
	n=$((n + 1))
	mv "$SCOPE_LOG" "$SCOPE_LOG.$n" 2>/dev/null
	if [ $((n % 2)) -eq 0 ]; then kill -HUP "$SCOPE_PID"; else kill -USR1 "$SCOPE_PID"; fi
	sleep 0.05
done
wait "$src"
tap_is $? 0 "smtp-source sent $MSGS messages during $n rotations"
pf_wait_log 'postfix/discard\[[0-9]+\]: .*status=sent' "$MSGS" 30
scope_stop
tap_ok "$(kill -0 "$SCOPE_PID" 2>/dev/null; [ $? -ne 0 ]; echo $?)" "smtpscope stopped cleanly"
all=$T/all.jsonl
cat "$SCOPE_LOG".* "$SCOPE_LOG" 2>/dev/null > "$all"
tap_is "$(jq -c . "$all" >/dev/null 2>&1; echo $?)" 0 "every line in every rotated file is valid JSON"
# Postfix's short queue ids are microseconds plus the queue file's inode,
# so two messages seconds apart can share one when an inode is reused: a
# message is its queue id within its session
tap_is "$(jq -r 'select(.event=="message") | .session + " " + .queue_id' "$all" | sort -u | wc -l)" "$MSGS" \
	"one message record for each of the $MSGS messages"
tap_is "$(jq -r 'select(.event=="message") | .queue_id' "$all" | wc -l)" "$MSGS" "no message record written twice"
tap_diag "rotations: $n; files: $(ls "$SCOPE_LOG"* | wc -l); reopens logged: $(grep -c 'reopened' "$SCOPE_DIR/stderr")"
scope_assert_clean
tap_done
