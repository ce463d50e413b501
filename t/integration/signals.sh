#!/bin/bash
# signals.sh - a storm of SIGHUP+SIGUSR1 pairs, each pair sent back to back,
# while Postfix sends mail through smtpscope. libmilter's own signal thread
# takes a SIGHUP that arrives while SIGUSR1 is still pending as "stop" (the
# daemon used to exit 0 within about 40 pairs); the daemon must still run
# afterwards, and every message must have exactly one record.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
. "$here/harness.sh"
. "$here/scope.sh"

scope_require_load
harness_init signals
tap_plan 9
MSGS=300
PAIRS=400
scope_start; tap_ok $? "smtpscope starts"
pf_start "unix:$SCOPE_SOCK"; tap_ok $? "Postfix starts"

scope_source "$MSGS" sig.case.test
src=$SOURCE_PID
sleep 0.3
sent=0
for i in $(seq "$PAIRS"); do
	# both orders: the one that hurt was SIGUSR1 then SIGHUP
	if [ $((i % 2)) -eq 0 ]; then
		kill -USR1 "$SCOPE_PID" 2>/dev/null && kill -HUP "$SCOPE_PID" 2>/dev/null || break
	else
		kill -HUP "$SCOPE_PID" 2>/dev/null && kill -USR1 "$SCOPE_PID" 2>/dev/null || break
	fi
	sent=$((sent + 1))
	sleep 0.005
done
tap_is "$sent" "$PAIRS" "$PAIRS SIGHUP+SIGUSR1 pairs sent while mail flows"
wait "$src"
tap_is $? 0 "smtp-source sent $MSGS messages"
# libmilter notices a stop only within about 5 seconds
sleep 6
tap_ok "$(kill -0 "$SCOPE_PID" 2>/dev/null; echo $?)" "smtpscope still runs after the storm"
pf_wait_log 'postfix/discard\[[0-9]+\]: .*status=sent' "$MSGS" 30
tap_is "$(grep -cE 'postfix/discard\[[0-9]+\]: .*status=sent' "$PF_LOG")" "$MSGS" \
	"Postfix delivered all $MSGS messages (none tempfailed by a missing milter)"
scope_stop
tap_is "$(jq -r 'select(.event=="message") | .session + " " + .queue_id' "$SCOPE_LOG" | sort -u | wc -l)" "$MSGS" \
	"one message record for each of the $MSGS messages"
tap_is "$(jq -r 'select(.event=="message") | .queue_id' "$SCOPE_LOG" | wc -l)" "$MSGS" "no message record written twice"
tap_diag "reopens logged: $(grep -c 'reopened' "$SCOPE_DIR/stderr")"
scope_assert_clean
tap_done
