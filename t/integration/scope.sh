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
#	scope_require_load           skip the test (TAP) unless root with postfix,
#	                             jq and smtp-source: what scope_source needs
#	scope_source MSGS HELO       smtp-source sends MSGS messages (8 sessions)
#	                             to Postfix on $PF_PORT in the background;
#	                             tracks it, exports SOURCE_PID
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

scope_require_load() {
	local tool
	for tool in postfix jq /usr/sbin/smtp-source; do
		command -v "$tool" >/dev/null 2>&1 || tap_skip_all "$tool is not installed"
	done
	[ "$(id -u)" -eq 0 ] || tap_skip_all "needs root to run a throwaway Postfix"
}

scope_source() {
	/usr/sbin/smtp-source -s 8 -m "$1" -M "$2" -f a@example.org -t r@smtpscope.test \
		"127.0.0.1:$PF_PORT" 2>>"$T/source.log" &
	SOURCE_PID=$!
	harness_track_pid "$SOURCE_PID"
	export SOURCE_PID
}
