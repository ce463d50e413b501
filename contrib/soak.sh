#!/bin/bash
# soak.sh - a long run of smtpscope with every check on: RSS and fds flat,
# no record lost
#
# SYNOPSIS
#	contrib/soak.sh                        # as root; 1,000,000 messages
#	SOAK_MSGS=200000 contrib/soak.sh       # fewer
#	nice -n 10 contrib/soak.sh >soak.txt   # on a shared machine
#
# DESCRIPTION
#	Builds nothing. Writes the benchmark corpus (contrib/bench/corpus.sh:
#	2, 10 and 100 KB, each unsigned and DKIM-signed), starts unbound in a
#	network namespace serving bench.example (contrib/bench/milters.sh) and
#	smtpscope in it with every check on: contrib/bench/smtpscope-full.conf
#	(SPF, iprev, DKIM, DMARC, the Authentication-Results header) plus
#	greylisting in observe mode on an LMDB store (GreylistDelay 0,
#	GreylistAutoAllow 0, so every message reads and writes the store).
#
#	Then SOAK_MSGS messages in chunks of SOAK_CHUNK, each chunk one
#	smtpscope-bench run (-c SOAK_CONNS connections, one message per
#	connection, i.e. one session per message, the corpus files round
#	robin). After each chunk it waits until the
#	record log holds one record per message and one per session, renames
#	it and sends SIGUSR1 (smtpscope reopens it), checks that every line of
#	the renamed file is valid JSON and counts the message and session
#	records in it, then deletes it. It samples the daemon's VmRSS, RssAnon,
#	RssFile (/proc/PID/status) and open fds (/proc/PID/fd) at the start
#	(after a warm-up chunk of SOAK_WARMUP messages, not counted) and after
#	each chunk.
#
#	Output (stdout): one line per chunk: messages so far, msgs/s of the
#	chunk, records of the chunk (message + session) and the expected
#	count, VmRSS, RssAnon, RssFile (KiB) and fds; then a summary: start /
#	middle / end RSS and fds, the growth per 100,000 messages between
#	the middle and the end, records written against messages +
#	sessions, and the tally of check results (SPF, iprev, first DKIM
#	signature, DMARC, greylist verdict) over every message. The figures of a run are in docs/reliability.md.
#
# ENVIRONMENT
#	SOAK_MSGS (1000000), SOAK_CHUNK (50000), SOAK_CONNS (8),
#	SOAK_WARMUP (5000), SOAK_DEADLINE (epoch seconds: start no chunk
#	after it; the summary covers what ran), SMTPSCOPE_BIN, BENCH_BIN
#	(default: the build/ tree of this repository), KEEP=1 keeps the
#	scratch folder.
#
# DIAGNOSTICS
#	Progress on stderr. Exits 1 when a record is missing or invalid, a
#	bench run fails a message, the daemon dies, or RssAnon grew more than
#	SOAK_RSS_SLACK KiB (8192) or the fds by more than 8 from the middle
#	to the end of the run (the first half is warm-up of caches and
#	allocator arenas).
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
. "$repo/t/integration/harness.sh"
. "$here/bench/milters.sh"

SOAK_MSGS=${SOAK_MSGS:-1000000}
SOAK_CHUNK=${SOAK_CHUNK:-50000}
SOAK_CONNS=${SOAK_CONNS:-8}
SOAK_WARMUP=${SOAK_WARMUP:-5000}
SOAK_DEADLINE=${SOAK_DEADLINE:-0}
SOAK_RSS_SLACK=${SOAK_RSS_SLACK:-8192}
SMTPSCOPE_BIN=${SMTPSCOPE_BIN:-$repo/build/milter/smtpscope}
BENCH_BIN=${BENCH_BIN:-$repo/build/contrib/bench/smtpscope-bench}
FILES="plain-2k plain-2k-signed alt-10k alt-10k-signed attach-100k attach-100k-signed"
OUT=/dev/null RUN_TIMEOUT=$((24 * 3600)) HZ=$(getconf CLK_TCK)
. "$here/bench/common.sh"

[ "$(id -u)" -eq 0 ] || die "run as root (network namespace, smtpscope as nobody)"
for tool in jq unbound ip; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed"
done
for b in SMTPSCOPE_BIN BENCH_BIN; do [ -x "${!b}" ] || die "no executable at ${!b}"; done

harness_init soak || die "no scratch folder"
trap 'harness_cleanup; bm_dns_stop' EXIT
"$here/bench/corpus.sh" "$T/corpus" >/dev/null || die "corpus.sh failed"
bm_dns_start "$T/dns" "$T/corpus" || die "unbound did not start"

dir=$T/scope
mkdir -p "$dir" && chown nobody "$dir" && chmod 755 "$dir" || die "no $dir"
LOG=$dir/records.jsonl
scope_conf "$dir" "$here/bench/smtpscope-full.conf" soak.sh "Greylist observe" \
	"GreylistStore lmdb:$dir/greylist.lmdb" "GreylistDelay 0" "GreylistAutoAllow 0" ||
	die "configuration does not check"
ip netns exec "$BM_NS" "$SMTPSCOPE_BIN" -c "$dir/smtpscope.conf" -f >>"$dir/out" 2>>"$dir/stderr" &
PID=$!
harness_track_pid "$PID"
bm_wait_sock "$dir/smtpscope.sock" "$PID" || { cat "$dir/stderr" >&2; die "smtpscope did not start"; }
CORPUS=()
for f in $FILES; do CORPUS+=(-m "$T/corpus/$f.eml"); done

# sample - "VmRSS RssAnon RssFile fds" of the daemon (KiB)
sample() {
	local fds
	fds=$(ls "/proc/$PID/fd" 2>/dev/null | wc -l)
	awk -v fds="$fds" '/^VmRSS:/ { r = $2 } /^RssAnon:/ { a = $2 } /^RssFile:/ { f = $2 }
		END { print r + 0, a + 0, f + 0, fds }' "/proc/$PID/status" 2>/dev/null
}
# has_lines N - the record log has N lines
has_lines() { [ "$(wc -l <"$LOG" 2>/dev/null || echo 0)" -ge "$1" ]; }

# chunk N - one bench run of N messages; checks and rotates the record log;
# prints "messages_ok msgs_per_s message_records session_records bad_json"
chunk() {
	local n=$1 out=$T/bench.out j ok rate m s bad
	bench "$out" -s "unix:$dir/smtpscope.sock" -c "$SOAK_CONNS" -n "$n" -w 0 -k 1 -j \
		"${CORPUS[@]}" >/dev/null
	j=$(grep '^{' "$out" | tail -1)
	[ -n "$j" ] || j='{}'
	ok=$(echo "$j" | jq '(.messages // 0) - (.failed // 0)')
	rate=$(echo "$j" | jq '.msgs_per_s // 0 | floor')
	# one record per message and per session; the session record follows
	# the connection's close, so wait for them (a ceiling, not a sleep)
	harness_wait 120 has_lines $((2 * n)) || say "record log short after 120 s"
	mv "$LOG" "$LOG.chunk" && kill -USR1 "$PID"
	harness_wait 30 test -e "$LOG" || say "record log not reopened"
	# jq stops at the first line that is not JSON: lines minus objects read
	bad=$(($(wc -l <"$LOG.chunk") - $(jq -c 'select(type == "object") | 1' "$LOG.chunk" 2>/dev/null | wc -l)))
	# what the checks found, tallied over the whole run (results.txt)
	jq -r 'select(.event == "message") | [.auth.spf.mailfrom.result // "-", .auth.iprev.result // "-",
		(.auth.dkim[0].result // "none"), .auth.dmarc.result // "-",
		(.greylist.rcpt[0].verdict // "-")] | join(" ")' "$LOG.chunk" 2>/dev/null >>"$T/results.txt"
	m=$(grep -c '"event":"message"' "$LOG.chunk")
	s=$(grep -c '"event":"session"' "$LOG.chunk")
	rm -f "$LOG.chunk"
	echo "$ok $rate $m $s $bad"
}

fail=0
say "warm-up: $SOAK_WARMUP messages; scratch $T"
read -r ok _ m s bad < <(chunk "$SOAK_WARMUP")
[ "$ok/$m/$s/$bad" = "$SOAK_WARMUP/$SOAK_WARMUP/$SOAK_WARMUP/0" ] ||
	{ say "warm-up: $ok sent, $m message and $s session records, $bad bad"; fail=1; }
read -r rss0 anon0 file0 fd0 < <(sample)
echo "# $("$SMTPSCOPE_BIN" -V 2>&1 | head -1), every check on" \
	"(smtpscope-full.conf + Greylist observe on LMDB); $SOAK_CONNS connections, one message" \
	"per session, corpus files round robin; $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)"
printf '%-9s %8s %9s %9s %8s %8s %8s %4s\n' messages msgs/s records expected VmRSS RssAnon RssFile fds
printf '%-9s %8s %9s %9s %8s %8s %8s %4s\n' start - - - "$rss0" "$anon0" "$file0" "$fd0"
done_msgs=0 sent=0 recs=0 want=0
ROWS=()
while [ "$done_msgs" -lt "$SOAK_MSGS" ]; do
	if [ "$SOAK_DEADLINE" -gt 0 ] && [ "$(date +%s)" -ge "$SOAK_DEADLINE" ]; then
		say "deadline reached after $done_msgs messages"
		break
	fi
	n=$SOAK_CHUNK
	[ $((done_msgs + n)) -le "$SOAK_MSGS" ] || n=$((SOAK_MSGS - done_msgs))
	read -r ok rate m s bad < <(chunk "$n")
	kill -0 "$PID" 2>/dev/null || { say "smtpscope is gone"; fail=1; break; }
	done_msgs=$((done_msgs + n)) sent=$((sent + ok)) recs=$((recs + m + s)) want=$((want + 2 * n))
	[ "$ok" = "$n" ] || { say "chunk: $((n - ok)) messages failed"; fail=1; }
	[ "$bad" = 0 ] || { say "chunk: $bad invalid lines"; fail=1; }
	read -r rss anon file fd < <(sample)
	ROWS+=("$done_msgs $anon $fd $rss")
	printf '%-9s %8s %9s %9s %8s %8s %8s %4s\n' "$done_msgs" "$rate" $((m + s)) $((2 * n)) \
		"$rss" "$anon" "$file" "$fd"
done
[ "$recs" = "$want" ] || fail=1
nrows=${#ROWS[@]}
[ "$nrows" -gt 0 ] || die "no chunk ran"
read -r mid_n mid_anon mid_fd mid_rss <<<"${ROWS[$(((nrows - 1) / 2))]}"
read -r end_n end_anon end_fd end_rss <<<"${ROWS[$((nrows - 1))]}"
per100k() { awk -v d="$1" -v n=$((end_n - mid_n)) 'BEGIN { if (n > 0) printf "%+.0f", d * 100000 / n; else print "-" }'; }
echo "summary: $done_msgs messages ($sent accepted by the milter), $done_msgs sessions;" \
	"records $recs of $want (messages + sessions)"
echo "VmRSS KiB start/middle/end: $rss0 / $mid_rss / $end_rss; RssAnon $anon0 / $mid_anon / $end_anon" \
	"($(per100k $((end_anon - mid_anon))) KiB per 100,000 messages, middle to end); fds $fd0 / $mid_fd / $end_fd"
[ $((end_anon - mid_anon)) -le "$SOAK_RSS_SLACK" ] || { say "RssAnon grew by $((end_anon - mid_anon)) KiB"; fail=1; }
[ $((end_fd - mid_fd)) -le 8 ] || { say "fds grew by $((end_fd - mid_fd))"; fail=1; }
echo "check results (spf iprev dkim dmarc greylist: count):"
sort "$T/results.txt" | uniq -c | sort -rn | head -8 | awk '{ c = $1; $1 = ""; printf "  %s: %d\n", substr($0, 2), c }'
grep -E 'internal fault|records_lost' "$dir/stderr" | head -5 >&2
[ "$fail" = 0 ] && say "soak passed" || say "soak FAILED"
exit "$fail"
