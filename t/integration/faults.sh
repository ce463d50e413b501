#!/bin/bash
# faults.sh - the fault matrix under load, through a real Postfix: 20
# concurrent smtp-source sessions from the DNS lab's client namespace,
# DKIM-signed mail (sec.test, t/tools/dkimsign), SPF, iprev, DKIM, DMARC and
# greylisting (enforce, the triplet passed beforehand) all on. Each case
# injects one fault while the load runs:
#
#   dns-garbage     the only resolver answers random bytes     } a fake DNS
#   dns-truncated   ... TC over UDP, cut-off TCP replies        } server on
#   dns-oversized   ... 1,500 A records / 64 KB TXT answers     } loopback
#   log-renamed     record log renamed, later SIGUSR1 (as logrotate)
#   log-deleted     record log deleted, later SIGUSR1
#   log-symlink     record log replaced by a symlink, then SIGUSR1
#   kill            smtpscope SIGKILLed, restarted on the same LMDB store
#   redis-kill      the Redis greylist store killed (then restarted)
#   redis-stop      the Redis greylist store SIGSTOPped for 2 s
#   flood           300 connections to the milter socket (idle or garbage)
#
# (A silent resolver is dns-outage.sh.) What must hold, per case: every
# message accepted (in "kill" only those sent while smtpscope ran);
# one message record per message Postfix accepted (its queue ids), none
# twice, and one session record per Postfix session; every line valid
# JSON; the daemon's VmRSS within 64 MiB and its fds within 4 of what
# they were before the load, once the load is over. Plus what the case
# itself is about (listed in its function). Slow: about 2-3 minutes.
set -u
here=$(cd "$(dirname "$0")" && pwd)
for lib in tap harness scope dnslab; do . "$here/$lib.sh"; done
SIGN=${top_builddir:-../..}/t/tools/dkimsign
SOURCE=/usr/sbin/smtp-source

dnslab_available || tap_skip_all "DNS lab tools missing, or not root"
for tool in postfix swaks jq redis-server python3 "$SOURCE"; do
	command -v "$tool" >/dev/null 2>&1 || tap_skip_all "$tool is not installed"
done
[ -x "$SIGN" ] || tap_skip_all "t/tools/dkimsign not built"
harness_init faults
N=${FAULTS_MESSAGES:-160}	# messages per case
S=20			# concurrent sessions
CASES=(dns-garbage dns-truncated dns-oversized log-renamed log-deleted log-symlink
	kill redis-kill redis-stop flood)
tap_plan 97

dnslab_start; tap_ok $? "DNS lab starts"
dnslab_client_ns; tap_ok $? "client namespace"
mkdir -p "$T/redis" "$T/logs" && chmod 755 "$T/redis" && chown nobody "$T/logs"
REDIS_SOCK=$T/redis/redis.sock
SOCK=$T/milter/smtpscope.sock
mkdir -p "$T/milter" && chown nobody "$T/milter"
# the message: signed by sec.test (SPF, DKIM and DMARC pass from .10)
{
	printf '%s\n' "From: A <a@sec.test>" "To: <r@smtpscope.test>" "Subject: fault matrix" \
		"Date: $(date -R)" "Message-ID: <faults.$$@sec.test>" "" "Body line one." "Line two."
} | "$SIGN" -d sec.test -s sel1 -k "$DNSLAB_DKIM_KEY" >"$T/msg.eml"
tap_ok $? "message signed"
BASE=(Nameservers "$DNSLAB_RESOLVER" SPF yes IPrev yes DKIM yes DMARC yes
	Greylist enforce GreylistDelay 1 GreylistChain no GreylistTimeout 200)
# VmRSS may grow by 64 MiB under load; an ASan build keeps freed memory in
# its quarantine (256 MiB by default) and maps shadow memory: 1 GiB there
RSS_SLACK=65536
ldd "$SCOPE_BIN" 2>/dev/null | grep -q libasan && RSS_SLACK=1048576
LMDB=(GreylistStore "lmdb:$T/milter/greylist.lmdb")
REDIS=(GreylistStore "redis:unix:$REDIS_SOCK")

# --- helpers -----------------------------------------------------------------
# start NAME KEY VALUE... - smtpscope with BASE + KEYs, records in $T/logs/NAME/
start() {
	local name=$1
	shift
	CASE_DIR=$T/logs/$name
	mkdir -p "$CASE_DIR" && chown nobody "$CASE_DIR"
	SCOPE_NAME=milter scope_start "${BASE[@]}" RecordLog "$CASE_DIR/records.jsonl" "$@" &&
		harness_wait "$HARNESS_READY" scope_listens
}
# scope_listens - smtpscope (this $SCOPE_PID) accepts on the milter socket
scope_listens() { ss -Hxlp 2>/dev/null | grep -F "$SOCK " | grep -q "pid=$SCOPE_PID,"; }
# prime - the test's triplet passes greylisting in the current store
prime() {
	dnslab_swaks 198.51.100.10 --helo client.sec.test --from a@sec.test --to r@smtpscope.test >/dev/null
	harness_wait 20 dnslab_swaks 198.51.100.10 --helo client.sec.test --from a@sec.test \
		--to r@smtpscope.test >/dev/null
}
# sample - "VmRSS_KiB fds" of smtpscope
sample() {
	echo "$(awk '/^VmRSS:/ { print $2 }' "/proc/$SCOPE_PID/status" 2>/dev/null || echo 0)" \
		"$(ls "/proc/$SCOPE_PID/fd" 2>/dev/null | wc -l)"
}
# load_start - N messages in S sessions in the background; marks the maillog
load_start() {
	PF_MARK=$(($(wc -l <"$PF_LOG") + 1))
	SESS0=$(session_records)	# the priming attempts' sessions
	read -r RSS0 FD0 < <(sample)
	dnslab_exec "$SOURCE" -s "$S" -m "$N" -M client.sec.test -f a@sec.test -t r@smtpscope.test \
		-F "$T/msg.eml" "198.51.100.1:$PF_PORT" >"$CASE_DIR/source.log" 2>&1 &
	LOAD_PID=$!
	harness_track_pid "$LOAD_PID"
}
# pflog_since - the maillog since the case's mark
pflog_since() { tail -n +"$PF_MARK" "$PF_LOG"; }
# accepted_ids - queue ids cleanup accepted (and did not reject) since the mark
accepted_ids() {
	pflog_since | sed -nE 's/.*postfix\/cleanup\[[0-9]+\]: ([0-9A-Za-z]+): (message-id=|milter-reject:|reject:).*/\1 \2/p' |
		awk '$2 == "message-id=" { ok[$1] = 1; next } { bad[$1] = 1 }
		     END { for (id in ok) if (!(id in bad)) print id }' | sort
}
# delivered - messages delivered (discard) since the mark
delivered() { pflog_since | grep -c 'postfix/discard\[.*status=sent'; }
# pf_settled - every accepted message delivered
pf_settled() { [ "$(delivered)" -ge "$(accepted_ids | grep -c .)" ]; }
# more_mail K - wait until K more messages are delivered (the load goes on)
more_mail() { harness_wait 60 pf_delivered $(($(delivered) + $1)); }
pf_delivered() { [ "$(delivered)" -ge "$1" ]; }
# mid_load K - wait until the case's records hold K lines (the load runs)
mid_load() { harness_wait 60 scope_has_all "$1"; }
scope_has_all() { [ "$(cat "$CASE_DIR"/records.jsonl* 2>/dev/null | wc -l)" -ge "$1" ]; }
# load_wait - wait for smtp-source; its status in LOAD_RC
load_wait() { wait "$LOAD_PID"; LOAD_RC=$?; }
# records FILTER - jq -r FILTER over every record of the case (all files)
records() { cat "$CASE_DIR"/records.jsonl* 2>/dev/null | jq -r "$1"; }
# session_records - how many session records the case has
session_records() { records 'select(.event == "session") | 1' | wc -l; }
# sessions_done - a session record for each Postfix session since the mark
sessions_done() {
	[ $(($(session_records) - SESS0)) -ge \
		"$(pflog_since | grep -cE 'postfix/smtpd\[[0-9]+\]: connect from [^ ]*\[198\.51\.100\.')" ]
}
# fds_settled - the fds are back within 4 of the count before the load
fds_settled() { [ "$(ls "/proc/$SCOPE_PID/fd" 2>/dev/null | wc -l)" -le $((FD0 + 4)) ]; }

# check NAME [LOST] - the six assertions every case makes; LOST: how many
# message and session records may be missing (0: none, and all N messages
# accepted)
check() {
	local name=$1 lost=${2:-0} lines objs ids nids recs sessions conns rss fd missing
	# the last session records follow the last connections' close
	harness_wait "$([ "$lost" = 0 ] && echo 30 || echo 5)" sessions_done
	lines=$(cat "$CASE_DIR"/records.jsonl* 2>/dev/null | wc -l)
	objs=$(records 'select(type == "object") | 1' 2>/dev/null | wc -l)
	# (a case that may lose records may end with none: a deleted log
	# whose load finished before the reopen)
	tap_ok "$({ [ "$lines" -gt 0 ] || [ "$lost" != 0 ]; } && [ "$objs" = "$lines" ]; echo $?)" \
		"$name: every line valid JSON ($objs of $lines)"
	harness_wait 60 pf_settled
	ids=$(accepted_ids)
	nids=$(echo "$ids" | grep -c .)
	recs=$(records 'select(.event == "message" and .queue_id != null) | .queue_id' | sort)
	missing=$(comm -23 <(echo "$ids") <(echo "$recs" | sort -u) | grep -c .)
	if [ "$lost" = 0 ]; then
		tap_is "$nids/$missing" "$N/0" "$name: $N messages accepted, a message record for each queue id"
	else
		tap_ok "$([ "$missing" -le "$lost" ]; echo $?)" \
			"$name: message records missing for $missing of $nids accepted messages (at most $lost)"
	fi
	# a queue id can come back when Postfix reuses an inode: a message is
	# its queue id within its session
	tap_is "$(records 'select(.event == "message") | .session + " " + .queue_id' | sort | uniq -d | grep -c .)" 0 \
		"$name: no message record written twice"
	sessions=$(($(session_records) - SESS0))
	conns=$(pflog_since | grep -cE 'postfix/smtpd\[[0-9]+\]: connect from [^ ]*\[198\.51\.100\.')
	if [ "$lost" = 0 ]; then
		tap_is "$sessions" "$conns" "$name: a session record for each Postfix session"
	else
		tap_ok "$([ "$sessions" -ge $((conns - lost)) ] && [ "$sessions" -le "$conns" ]; echo $?)" \
			"$name: session records for $sessions of $conns Postfix sessions (at most $lost missing)"
	fi
	harness_wait 30 fds_settled
	read -r rss fd < <(sample)
	tap_ok "$([ "$fd" -le $((FD0 + 4)) ]; echo $?)" "$name: fds bounded ($FD0 before, $fd after)"
	tap_ok "$([ "$rss" -le $((RSS0 + RSS_SLACK)) ]; echo $?)" \
		"$name: VmRSS bounded ($RSS0 KiB before, $rss after, at most +$RSS_SLACK)"
}
# run_plain NAME - load, wait, count; for cases whose fault is set up before
run_plain() {
	load_start
	load_wait
	tap_is "$LOAD_RC" 0 "$1: smtp-source sent $N messages"
}

# --- cases -------------------------------------------------------------------
FAKE_PIDS=()
# fake_dns MODE - start fakedns.py MODE; prints its 127.0.0.1:PORT
fake_dns() {
	python3 "$here/fakedns.py" "$1" "$T/fake-$1.port" 2>>"$T/fake-$1.err" &
	harness_track_pid $!
	harness_wait "$HARNESS_READY" test -s "$T/fake-$1.port"
}
case_dns() {
	local mode=$1 name=dns-$1
	fake_dns "$mode"
	start "$name" Nameservers "127.0.0.1:$(cat "$T/fake-$mode.port")" DNSTimeout 1000 "${LMDB[@]}"
	run_plain "$name"
	# what the checks could not know comes out as an error, never a pass
	tap_is "$(records 'select(.event == "message") | .auth.dkim[0].result' | sort -u | grep -c '^pass$')" 0 \
		"$name: no DKIM pass from a broken resolver"
	check "$name"
	scope_stop
}
case_log() {
	local what=$1 name=log-$1 log window
	start "$name" "${LMDB[@]}"
	log=$CASE_DIR/records.jsonl
	# a file smtpscope could write: it must stay empty
	touch "$CASE_DIR/elsewhere" && chown nobody "$CASE_DIR/elsewhere"
	load_start
	mid_load 40
	case $what in
	renamed) mv "$log" "$log.1" ;;
	deleted) rm -f "$log" ;;
	symlink) mv "$log" "$log.1"; ln -s "$CASE_DIR/elsewhere" "$log" ;;
	esac
	more_mail 15
	kill -USR1 "$SCOPE_PID"	# the reopen signal (SIGHUP reloads first)
	# deleted: everything written before the reopen is gone with the file
	harness_wait 10 test -e "$log"
	window=$(accepted_ids | grep -c .)
	load_wait
	tap_is "$LOAD_RC" 0 "$name: smtp-source sent $N messages"
	case $what in
	renamed)
		# nothing lost: the renamed file, then the reopened one
		check "$name" ;;
	deleted)
		# what went to the deleted file is gone (messages accepted
		# before the reopen, and those in flight); after SIGUSR1 the new
		# file gets the rest and the old one is closed
		check "$name" $((window + S))
		tap_ok "$(ls -l "/proc/$SCOPE_PID/fd" | grep -q '(deleted)'; [ $? -ne 0 ]; echo $?)" \
			"$name: the deleted file is closed after SIGUSR1" ;;
	symlink)
		# the reopen refuses the symlink: records stay in the old file
		check "$name"
		tap_ok "$([ ! -s "$CASE_DIR/elsewhere" ]; echo $?)" "$name: nothing written through the symlink" ;;
	esac
	scope_stop
}
case_kill() {
	local name=kill before v
	start "$name" "${LMDB[@]}"
	load_start
	mid_load 60
	kill -KILL "$SCOPE_PID"
	harness_wait 10 harness_pid_gone "$SCOPE_PID"
	SCOPE_NAME=milter scope_start "${BASE[@]}" RecordLog "$CASE_DIR/records.jsonl" "${LMDB[@]}" &&
		harness_wait "$HARNESS_READY" scope_listens
	tap_ok $? "$name: smtpscope restarts on the stale socket and the same LMDB store"
	load_wait	# messages during the gap got 451 (milter_default_action)
	# the LMDB store works after the kill: the triplet still passes
	before=$(records 'select(.event == "message") | 1' | wc -l)
	dnslab_swaks 198.51.100.10 --helo client.sec.test --from a@sec.test --to r@smtpscope.test >/dev/null
	tap_is "$?" 0 "$name: after the restart the greylisted triplet is accepted"
	harness_wait 20 scope_has_all $((before + 1))
	v=$(records 'select(.event == "message") | .greylist.rcpt[0].verdict' | tail -1)
	tap_ok "$(echo "$v" | grep -qxE 'passed|allowed'; echo $?)" \
		"$name: the LMDB store answers (verdict $v: passed or allowed, not error)"
	read -r RSS0 FD0 < <(sample)	# the new process is the one to bound
	# lost: messages in flight at the kill, sessions Postfix could not
	# take to the milter while it was down (one warning each: cannot
	# connect, or the connection was reset in the dead daemon's backlog)
	check "$name" $((S + $(pflog_since | grep -cE 'warning: (connect to Milter service|milter unix:)')))
	scope_stop
}
# greylisted - one attempt of the test triplet gets 451 4.7.1
greylisted() {
	dnslab_swaks 198.51.100.10 --helo client.sec.test --from a@sec.test --to r@smtpscope.test >/dev/null
	[ $? = 24 ]	# swaks: refused at RCPT
}
redis_start() {
	redis-server --port 0 --unixsocket "$REDIS_SOCK" --unixsocketperm 777 --save '' \
		--appendonly no --dir "$T/redis" >>"$T/redis/log" 2>&1 &
	REDIS_PID=$!
	harness_track_pid "$REDIS_PID"
	harness_wait "$HARNESS_READY" test -S "$REDIS_SOCK"
}
case_redis() {
	local what=$1 name=redis-$1 v
	start "$name" "${REDIS[@]}"
	prime
	load_start
	mid_load 60
	if [ "$what" = kill ]; then
		kill -KILL "$REDIS_PID"
		harness_wait 10 harness_pid_gone "$REDIS_PID"
	else
		kill -STOP "$REDIS_PID"
		sleep 2	# the fault itself: Redis frozen for 2 s
		kill -CONT "$REDIS_PID"
	fi
	load_wait
	tap_is "$LOAD_RC" 0 "$name: every message accepted (fail open)"
	v=$(records 'select(.event == "message") | .greylist.rcpt[0].verdict')
	tap_ok "$([ "$(echo "$v" | grep -cx error)" -gt 0 ] && [ "$(echo "$v" | grep -cvxE 'error|passed|allowed|new|early')" = 0 ]; echo $?)" \
		"$name: verdict error while Redis was out, otherwise passed or allowed ($(echo "$v" | sort | uniq -c | tr -s ' \n' ' '))"
	check "$name"
	if [ "$what" = kill ]; then
		# Redis back (empty): greylisting resumes, the triplet is new again
		rm -f "$REDIS_SOCK"
		redis_start
		harness_wait 20 greylisted
		tap_ok $? "$name: Redis restarted: the next attempt is greylisted (451) again"
	fi
	scope_stop
}
case_flood() {
	local name=flood fl
	start "$name" "${LMDB[@]}"
	load_start
	python3 - "$SOCK" 300 >"$CASE_DIR/flood.log" 2>&1 <<'EOF' &
import os, socket, sys, time
path, n = sys.argv[1], int(sys.argv[2])
socks = []
for i in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
    except OSError as e:
        print("connect", i, e)
        continue
    if i % 2:
        s.send(os.urandom(64))   # garbage instead of the milter protocol
    socks.append(s)
print("open", len(socks))
time.sleep(4)
for s in socks:
    s.close()
EOF
	fl=$!
	load_wait
	tap_is "$LOAD_RC" 0 "$name: smtp-source sent $N messages during the flood"
	wait "$fl"
	tap_diag "flood: $(tr '\n' ' ' <"$CASE_DIR/flood.log")"
	check "$name"
	scope_stop
}

# --- the run -------------------------------------------------------------------
start prime "${LMDB[@]}"
tap_ok $? "smtpscope starts (every check, greylisting enforce on LMDB)"
dnslab_postfix_listen
pf_start "unix:$SOCK"; tap_ok $? "Postfix listens on the client's side"
prime; tap_ok $? "the test triplet passes greylisting (LMDB)"
scope_stop
redis_start; tap_ok $? "redis-server on a UNIX socket"
for c in "${CASES[@]}"; do
	t0=$(date +%s)
	case $c in
	dns-*) case_dns "${c#dns-}" ;;
	log-*) case_log "${c#log-}" ;;
	kill) case_kill ;;
	redis-*) case_redis "${c#redis-}" ;;
	flood) case_flood ;;
	esac
	tap_diag "$c: $(($(date +%s) - t0)) s"
	scope_assert_clean
done
tap_done
