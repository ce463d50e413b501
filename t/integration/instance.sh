#!/bin/bash
# instance.sh - one smtpscope per socket and pid file: a second instance
# refuses, touching neither the running one's socket nor its pid file; a
# stale socket or pid file left by a killed instance is taken over.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
. "$here/harness.sh"
. "$here/scope.sh"

[ "$(id -u)" -eq 0 ] || tap_skip_all "needs root (UserID)"
harness_init instance
tap_plan 12

scope_start
tap_ok $? "the first instance starts"
ino=$(stat -c %i "$SCOPE_SOCK")
pidf=$SCOPE_DIR/smtpscope.pid

# the same configuration again, in daemon mode
err=$("$SCOPE_BIN" -c "$SCOPE_CONF" 2>&1)
tap_is $? 75 "a second instance on the same socket and pid file exits 75"
tap_ok "$(echo "$err" | grep -qE 'holds the pid file|answers: another milter'; echo $?)" \
	"and says why ($(echo "$err" | tail -n 1))"
tap_is "$(stat -c %i "$SCOPE_SOCK" 2>&1)" "$ino" "the running instance's socket is untouched"
tap_is "$(tr -d '\n' <"$pidf")" "$SCOPE_PID" "its pid file still names it"

# another socket, the same pid file
sed "s|^Socket .*|Socket unix:$SCOPE_DIR/b.sock|" "$SCOPE_CONF" >"$SCOPE_DIR/b.conf"
"$SCOPE_BIN" -f -c "$SCOPE_DIR/b.conf" >"$SCOPE_DIR/b.err" 2>&1
tap_is $? 75 "a second instance on the same pid file exits 75"
tap_ok "$([ ! -e "$SCOPE_DIR/b.sock" ]; echo $?)" "and leaves no socket behind"
tap_ok "$(kill -0 "$SCOPE_PID"; echo $?)" "the first instance runs on"

# a killed instance leaves a stale socket and pid file: taken over
kill -KILL "$SCOPE_PID"
harness_wait 10 harness_pid_gone "$SCOPE_PID"
tap_ok "$([ -S "$SCOPE_SOCK" ]; echo $?)" "SIGKILL left the socket behind"
"$SCOPE_BIN" -f -c "$SCOPE_CONF" 2>>"$SCOPE_DIR/stderr" &
new=$!
harness_track_pid "$new"
harness_wait 30 sh -c "[ \"\$(tr -d '\n' <'$pidf' 2>/dev/null)\" = $new ] && [ -S '$SCOPE_SOCK' ]"
tap_ok $? "a new instance takes over the stale socket and pid file"
tap_ok "$(python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])' "$SCOPE_SOCK" 2>/dev/null; echo $?)" \
	"and its socket answers"
kill -TERM "$new"
harness_wait 30 harness_pid_gone "$new"
tap_ok "$([ ! -e "$SCOPE_SOCK" ] && [ ! -e "$pidf" ]; echo $?)" "its stop removes its socket and pid file"
tap_done
