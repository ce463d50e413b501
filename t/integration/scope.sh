# scope.sh - start smtpscope for an integration test and read its records (sourced, bash).
#
#	scope_start [KEY VALUE]...   write $SCOPE_DIR/smtpscope.conf (socket, record
#	                             log and pid file under $T/${SCOPE_NAME:-scope},
#	                             UserID nobody;
#	                             KEY VALUE pairs add or override keys), start the daemon in the
#	                             foreground, track its PID; exports SCOPE_DIR,
#	                             SCOPE_SOCK, SCOPE_LOG, SCOPE_PID, SCOPE_CONF
#	scope_stop                   SIGTERM and wait for the daemon to exit
#	scope_wait N SECS            wait until the record log has N lines
#	                             (SECS scaled as harness_wait does)
#	scope_jq FILTER              jq -c FILTER over every record (slurped)
#	scope_assert_clean           TAP: no sanitizer report on the daemon's stderr
#
# Needs harness.sh (for $T and harness_track_pid) and $top_builddir.

SCOPE_BIN=${SCOPE_BIN:-${top_builddir:-../..}/milter/smtpscope}

scope_start() {
	SCOPE_DIR=$T/${SCOPE_NAME:-scope}
	mkdir -p "$SCOPE_DIR" && chown nobody "$SCOPE_DIR" && chmod 755 "$SCOPE_DIR"
	SCOPE_SOCK=$SCOPE_DIR/smtpscope.sock
	SCOPE_LOG=$SCOPE_DIR/records.jsonl
	SCOPE_CONF=$SCOPE_DIR/smtpscope.conf
	local -A conf=(
		[Socket]="unix:$SCOPE_SOCK" [SocketMode]=0666 [RecordLog]="$SCOPE_LOG"
		[PidFile]="$SCOPE_DIR/smtpscope.pid" [UserID]=nobody [Syslog]=no
		[ShutdownTimeout]=5
		# no DNS checks unless a test asks (and then with the test
		# resolver): no query may leave the machine
		[SPF]=no [IPrev]=no [DKIM]=no [DMARC]=no
	)
	while [ $# -ge 2 ]; do conf[$1]=$2; shift 2; done
	SCOPE_LOG=${conf[RecordLog]}
	local key
	for key in "${!conf[@]}"; do echo "$key ${conf[$key]}"; done > "$SCOPE_CONF"
	"$SCOPE_BIN" -c "$SCOPE_CONF" -f 2>>"$SCOPE_DIR/stderr" >>"$SCOPE_DIR/out" &
	SCOPE_PID=$!
	harness_track_pid "$SCOPE_PID"
	export SCOPE_DIR SCOPE_SOCK SCOPE_LOG SCOPE_PID SCOPE_CONF
	harness_wait "$HARNESS_READY" scope_up_or_gone
	[ -S "$SCOPE_SOCK" ] && return 0
	harness_diag "smtpscope did not start:" "$(cat "$SCOPE_DIR/stderr")"
	return 1
}

scope_stop() {
	kill -TERM "$SCOPE_PID" 2>/dev/null
	local i
	for i in $(seq 1 150); do
		kill -0 "$SCOPE_PID" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

# scope_up_or_gone - the socket is there, or the daemon has exited
scope_up_or_gone() { [ -S "$SCOPE_SOCK" ] || ! kill -0 "$SCOPE_PID" 2>/dev/null; }

scope_wait() { harness_wait "$2" scope_has "$1"; }
# scope_has N - the record log has N lines
scope_has() { [ "$(wc -l < "$SCOPE_LOG" 2>/dev/null || echo 0)" -ge "$1" ]; }

scope_jq() { jq -c -s "$1" "$SCOPE_LOG"; }

# scope_assert_clean - one TAP assertion: no sanitizer report on stderr
# (meaningful in the --enable-sanitizers build; always true otherwise)
scope_assert_clean() {
	if grep -qE 'ERROR: (Address|Leak|Thread)Sanitizer|runtime error:' "$SCOPE_DIR/stderr" 2>/dev/null; then
		tap_ok 1 "no sanitizer report from smtpscope"
		grep -E -A12 'ERROR: |runtime error:' "$SCOPE_DIR/stderr" | head -40 | sed 's/^/# /'
	else
		tap_ok 0 "no sanitizer report from smtpscope"
	fi
}
