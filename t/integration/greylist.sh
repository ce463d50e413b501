#!/bin/bash
# greylist.sh - greylisting through a real Postfix with swaks clients on
# loopback: the first attempt gets 451 4.7.1, an early retry 451 again, a
# retry after GreylistDelay (4 s here) passes; a retry from another address
# (127.0.0.2, with /32 networks) or from ::1 passes as a chain retry; the
# records show attempts, delays and chains; the LMDB state survives a
# restart; observe mode never refuses. Then two smtpscope instances (two
# Postfix smtpd services, one milter each) share one real Redis server
# started here on a UNIX socket: one sees the other's entries; killing
# Redis lets mail through with the verdict "error".
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
. "$here/harness.sh"
. "$here/scope.sh"

[ "$(id -u)" -eq 0 ] || tap_skip_all "needs root to run a throwaway Postfix"
for tool in postfix swaks jq redis-server; do
	command -v "$tool" >/dev/null 2>&1 || tap_skip_all "$tool is not installed"
done
harness_init greylist
tap_plan 44

# a delay long enough that an immediate retry is early even in a slow
# (sanitizer) build; the test waits for it from the first attempt's time
DELAY=4
GL=(Greylist enforce GreylistDelay "$DELAY" GreylistIPv4Prefix 32 GreylistChain yes)
# mark: remember now; after_delay: sleep until the delay since mark is over
mark() { t0=$(date +%s.%N); }
after_delay() { sleep "$(awk -v t0="$t0" -v now="$(date +%s.%N)" -v d="$DELAY" 'BEGIN { w = t0 + d + 0.3 - now; print (w > 0 ? w : 0) }')"; }
scope_start "${GL[@]}" GreylistStore "lmdb:$T/scope/greylist.lmdb"
tap_ok $? "smtpscope starts with an LMDB greylist"
pf_start "unix:$SCOPE_SOCK"; tap_ok $? "Postfix starts"

# send SRC DST TO [PORT]: one message; prints swaks' exit status
send() {
	swaks_to "$2" "${4:-$PF_PORT}" --local-interface "$1" --helo gl.case.test \
		--from sender@example.org --to "$3" >/dev/null
	echo $?
}
nrec=0
# expect N: wait for N more records
expect() { nrec=$((nrec + $1)); scope_wait "$nrec" 15; }
# g TO K FIELD: FIELD of the greylist result in the K-th message record for TO
g() {
	jq -r -s "[.[] | select(.event==\"message\" and .envelope.rcpt[0]==\"$1\")] | .[$2].greylist.rcpt[0].$3" "$SCOPE_LOG"
}
last451() { tail -30 "$T/swaks.log" | grep -c '451 4.7.1'; }

# 1. one triplet: new, early, passed
mark
rc=$(send 127.0.0.1 127.0.0.1 t1@smtpscope.test); expect 2
tap_isnt "$rc" 0 "first attempt refused"
tap_ok "$([ "$(last451)" -ge 1 ]; echo $?)" "with 451 4.7.1"
tap_is "$(g t1@smtpscope.test 0 verdict)/$(g t1@smtpscope.test 0 attempt)" new/1 "record: new, attempt 1"
tap_is "$(jq -r -s '[.[] | select(.event=="message")][0].disposition | .action + "/" + .stage' "$SCOPE_LOG")" \
	abort/rcpt "record: the message ended at RCPT"
tap_is "$(jq -r -s '[.[] | select(.event=="session")][0].greylist.rcpt[0] | .rcpt + "/" + .verdict' "$SCOPE_LOG")" \
	t1@smtpscope.test/new "the session record carries the verdict per recipient"
rc=$(send 127.0.0.1 127.0.0.1 t1@smtpscope.test); expect 2
tap_isnt "$rc" 0 "early retry refused again"
tap_is "$(g t1@smtpscope.test 1 verdict)/$(g t1@smtpscope.test 1 attempt)" early/2 "record: early, attempt 2"
after_delay
rc=$(send 127.0.0.1 127.0.0.1 t1@smtpscope.test); expect 2
tap_is "$rc" 0 "retry after the delay accepted"
tap_is "$(g t1@smtpscope.test 2 verdict)/$(g t1@smtpscope.test 2 attempt)" passed/3 "record: passed, attempt 3"
tap_ok "$([ "$(g t1@smtpscope.test 2 delay_s)" -ge "$DELAY" ]; echo $?)" "record: delay since the first attempt >= $DELAY s"
tap_is "$(g t1@smtpscope.test 2 first_seen)" "$(g t1@smtpscope.test 0 first_seen)" "record: first_seen kept"
tap_is "$(jq -r -s '[.[] | select(.event=="message")][2].disposition.action' "$SCOPE_LOG")" accept "record: accepted"

# 2. a chain retry from another IPv4 address (another /32 network)
mark
rc=$(send 127.0.0.2 127.0.0.1 t2@smtpscope.test); expect 2
tap_is "$(g t2@smtpscope.test 0 verdict)/$(g t2@smtpscope.test 0 net)" new/127.0.0.2/32 "127.0.0.2: new, network /32"
after_delay
rc=$(send 127.0.0.3 127.0.0.1 t2@smtpscope.test); expect 2
tap_is "$rc" 0 "retry from 127.0.0.3 accepted"
tap_is "$(g t2@smtpscope.test 1 verdict)/$(g t2@smtpscope.test 1 via_chain)" passed/true "record: passed as a chain retry"
tap_is "$(g t2@smtpscope.test 1 'chain[0].net')/$(g t2@smtpscope.test 1 'chain[0].family')" 127.0.0.2/32/ipv4 \
	"record: the chain lists the earlier network"

# 3. a chain retry from the other address family
mark
rc=$(send 127.0.0.1 127.0.0.1 t3@smtpscope.test); expect 2
tap_isnt "$rc" 0 "IPv4 first attempt refused"
after_delay
rc=$(send ::1 ::1 t3@smtpscope.test); expect 2
tap_is "$rc" 0 "retry over IPv6 accepted"
tap_is "$(g t3@smtpscope.test 1 verdict)/$(g t3@smtpscope.test 1 via_chain)/$(g t3@smtpscope.test 1 'chain[0].family')" \
	passed/true/ipv4 "record: chain retry across families"
mark
rc=$(send 127.0.0.1 127.0.0.1 t4@smtpscope.test); expect 2
tap_isnt "$rc" 0 "t4: first attempt refused (before the restart)"

# 4. the LMDB state survives a restart
scope_stop; tap_ok $? "smtpscope stops"
scope_start "${GL[@]}" GreylistStore "lmdb:$T/scope/greylist.lmdb"
tap_ok $? "smtpscope restarts on the same LMDB file"
nrec=$(wc -l <"$SCOPE_LOG")
after_delay
rc=$(send 127.0.0.1 127.0.0.1 t4@smtpscope.test); expect 2
tap_is "$rc" 0 "t4: retry after the restart accepted"
tap_is "$(g t4@smtpscope.test 1 verdict)/$(g t4@smtpscope.test 1 attempt)" passed/2 "record: passed, attempt 2 (state kept)"
rc=$(send 127.0.0.1 127.0.0.1 t1@smtpscope.test); expect 2
tap_is "$rc/$(g t1@smtpscope.test 3 verdict)" 0/passed "t1 still known after the restart"
scope_stop

# 5. observe: never refuses, measures the same
scope_start Greylist observe GreylistDelay "$DELAY" GreylistStore "lmdb:$T/scope/greylist.lmdb"
nrec=$(wc -l <"$SCOPE_LOG")
rc=$(send 127.0.0.1 127.0.0.1 t5@smtpscope.test); expect 2
tap_is "$rc/$(g t5@smtpscope.test 0 verdict)" 0/new "observe: a new triplet is accepted, verdict new"
tap_is "$(jq -r -s '.[-1].greylist.mode' "$SCOPE_LOG")" observe "observe: the mode is recorded"
scope_stop
scope_assert_clean

# 6. two instances on one real Redis
REDIS_SOCK=$T/redis/redis.sock
mkdir -p "$T/redis" && chmod 755 "$T/redis"
redis_start() {
	redis-server --port 0 --unixsocket "$REDIS_SOCK" --unixsocketperm 777 --save '' \
		--appendonly no --dir "$T/redis" >>"$T/redis/log" 2>&1 &
	REDIS_PID=$!
	harness_track_pid "$REDIS_PID"
	for _ in $(seq 50); do [ -S "$REDIS_SOCK" ] && return 0; sleep 0.1; done
	return 1
}
redis_start; tap_ok $? "redis-server starts on a UNIX socket"
GLR=("${GL[@]}" GreylistStore "redis:unix:$REDIS_SOCK" GreylistTimeout 300)
SCOPE_NAME=scope-a scope_start "${GLR[@]}"; tap_ok $? "instance A on Redis"
A_PID=$SCOPE_PID A_SOCK=$SCOPE_SOCK A_LOG=$SCOPE_LOG A_DIR=$SCOPE_DIR
SCOPE_NAME=scope-b scope_start "${GLR[@]}"; tap_ok $? "instance B on Redis"
B_PID=$SCOPE_PID B_SOCK=$SCOPE_SOCK B_LOG=$SCOPE_LOG
PORT_B=$(harness_free_port)
pf_set "smtpd_milters = unix:$A_SOCK"
postconf -c "$PF_DIR/etc" -M "127.0.0.1:$PORT_B/inet=127.0.0.1:$PORT_B inet n - n - - smtpd -o smtpd_milters=unix:$B_SOCK"
pf_age_config
pf_reload; tap_ok $? "Postfix: port $PF_PORT through A, port $PORT_B through B"
for _ in $(seq 50); do ss -Hltn | grep -q "127.0.0.1:$PORT_B " && break; sleep 0.1; done

SCOPE_LOG=$A_LOG nrec=0
mark
rc=$(send 127.0.0.1 127.0.0.1 t6@smtpscope.test); expect 2
tap_is "$(g t6@smtpscope.test 0 verdict)" new "A: new triplet in Redis"
tap_isnt "$rc" 0 "A: refused"
after_delay
SCOPE_LOG=$B_LOG nrec=0
rc=$(send 127.0.0.1 127.0.0.1 t6@smtpscope.test "$PORT_B"); expect 2
tap_is "$rc" 0 "B: the retry is accepted"
tap_is "$(g t6@smtpscope.test 0 verdict)/$(g t6@smtpscope.test 0 attempt)" passed/2 "B saw A's entry: passed, attempt 2"

# 7. Redis dies: mail flows, the record says error
harness_stop_pids "$REDIS_PID"
SCOPE_LOG=$A_LOG nrec=$(wc -l <"$A_LOG")
rc=$(send 127.0.0.1 127.0.0.1 t7@smtpscope.test); expect 2
tap_is "$rc" 0 "Redis down: mail accepted (fail open)"
tap_is "$(g t7@smtpscope.test 0 verdict)" error "record: verdict error"
tap_ok "$([ -n "$(g t7@smtpscope.test 0 error)" ]; echo $?)" "record: the store's reason"
redis_start
sleep 1.2	# a thread whose connect failed waits 1 s before the next one
rc=$(send 127.0.0.1 127.0.0.1 t8@smtpscope.test); expect 2
tap_is "$(g t8@smtpscope.test 0 verdict)" new "Redis back: greylisting resumes"
[ "$(g t8@smtpscope.test 0 verdict)" = new ] || tap_diag "store error: $(g t8@smtpscope.test 0 error)"

SCOPE_PID=$B_PID SCOPE_DIR=$T/scope-b; scope_stop; scope_assert_clean
SCOPE_PID=$A_PID SCOPE_DIR=$A_DIR; scope_stop; scope_assert_clean
tap_done
