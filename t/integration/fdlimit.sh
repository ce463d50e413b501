#!/bin/bash
# fdlimit.sh - 1,100 milter sessions held open at once under a soft
# descriptor limit of 1,024. At the limit libmilter's accept loop spins at
# 100 % CPU on EMFILE and new sessions get no answer; smtpscope raises its
# soft limit to the hard one, and refuses sessions (closed at once, the MTA
# applies its default action) that the limit has no room for.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
. "$here/harness.sh"
. "$here/scope.sh"

[ "$(id -u)" -eq 0 ] || tap_skip_all "needs root (smtpscope drops to nobody; raises hard limits)"
TALK=${top_builddir:-../..}/t/tools/miltertalk
BIN=$SCOPE_BIN
HELD=1100
harness_init fdlimit
tap_plan 16

# with_limits SOFT HARD - a wrapper that starts smtpscope under these limits
with_limits() {
	printf '#!/bin/sh\nulimit -Sn %s && ulimit -Hn %s && exec "%s" "$@"\n' "$1" "$2" "$BIN" > "$T/wrap-$1-$2"
	chmod 755 "$T/wrap-$1-$2"
	SCOPE_BIN=$T/wrap-$1-$2
}

# cpu_ticks PID - user + system clock ticks so far
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# hold_and_measure - hold $HELD sessions; sets COUNTS and TICKS (CPU ticks
# of the daemon over 2 s while they are held)
hold_and_measure() {
	local out=$SCOPE_DIR/hold.out t0 i
	"$TALK" -s "unix:$SCOPE_SOCK" hold "$HELD" 4 > "$out" 2>&1 &
	local talk=$!
	harness_track_pid "$talk"
	for i in $(seq 1 200); do
		grep -q '^answered' "$out" && break
		sleep 0.1
	done
	t0=$(cpu_ticks "$SCOPE_PID")
	sleep 2
	TICKS=$(( $(cpu_ticks "$SCOPE_PID") - t0 ))
	COUNTS=$(grep '^answered' "$out")
	wait "$talk"
}

# soft 1,024, hard 4,096: the soft limit is raised, every session answered
with_limits 1024 4096
SCOPE_NAME=raise scope_start; tap_ok $? "smtpscope starts with soft limit 1024, hard 4096"
tap_ok "$(grep -q 'file descriptor limit 4096 (soft limit was 1024, hard limit 4096)' "$SCOPE_DIR/stderr"; echo $?)" \
	"the soft limit is raised to the hard one and logged"
hold_and_measure
tap_is "$COUNTS" "answered $HELD refused 0 silent 0" "all $HELD held sessions are answered"
tap_ok "$([ "$TICKS" -lt 30 ]; echo $?)" "no busy loop while they are held ($TICKS CPU ticks in 2 s)"
tap_ok "$(kill -0 "$SCOPE_PID" 2>/dev/null; echo $?)" "smtpscope still runs"
"$TALK" -s "unix:$SCOPE_SOCK" sessions 1 >/dev/null 2>&1
tap_is $? 0 "a new session afterwards is answered"
scope_stop

# soft = hard = 1,024: sessions beyond the room are refused, none hangs
with_limits 1024 1024
SCOPE_NAME=cap scope_start; tap_ok $? "smtpscope starts with soft and hard limit 1024"
max=$(sed -n 's/.*file descriptor limit 1024 .*: at most \([0-9]*\) sessions at once.*/\1/p' "$SCOPE_DIR/stderr")
tap_ok "$([ -n "$max" ] && [ "$max" -lt 1024 ]; echo $?)" "the session limit ($max) leaves room below the descriptor limit"
hold_and_measure
tap_is "$COUNTS" "answered $max refused $((HELD - max)) silent 0" \
	"$max sessions answered, the others refused at once, none left without an answer"
tap_ok "$([ "$TICKS" -lt 30 ]; echo $?)" "no busy loop at the limit ($TICKS CPU ticks in 2 s)"
tap_ok "$(kill -0 "$SCOPE_PID" 2>/dev/null; echo $?)" "smtpscope still runs"
"$TALK" -s "unix:$SCOPE_SOCK" sessions 1 >/dev/null 2>&1
tap_is $? 0 "a new session after they ended is answered"
scope_stop
tap_is "$(grep -c 'session limit .* reached' "$SCOPE_DIR/stderr")" 1 "the refusals are logged once"
tap_ok "$(grep -q "sessions_refused=$((HELD - max))" "$SCOPE_DIR/stderr"; echo $?)" \
	"the refusals are counted (sessions_refused)"
tap_ok "$(grep -q 'stats (exit):.* records_lost=0 ' "$SCOPE_DIR/stderr"; echo $?)" "no record lost"
scope_assert_clean
tap_done
