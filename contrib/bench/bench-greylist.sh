#!/bin/bash
# bench-greylist.sh - what greylisting costs smtpscope per message, by store:
# Greylist off, observe with LMDB, observe with Redis, under smtpscope-bench
#
# SYNOPSIS
#	contrib/bench/bench-greylist.sh           # as root; R=3, -c 8 and -c 32
#	QUICK=1 contrib/bench/bench-greylist.sh   # smoke test: MSGS=500 R=1
#	SMTPSCOPE_BIN=/tmp/b/milter/smtpscope \
#	    BENCH_BIN=/tmp/b/contrib/bench/smtpscope-bench contrib/bench/bench-greylist.sh
#
# DESCRIPTION
#	Builds nothing. Starts a Redis server of its own (redis-server on a
#	UNIX socket in the scratch folder, no persistence) and three smtpscope
#	instances with the spine configuration (smtpscope-spine.conf: no SPF,
#	iprev, DKIM or DMARC, so that greylisting is most of the work), as
#	nobody, on UNIX sockets:
#
#	  off    Greylist off
#	  lmdb   Greylist observe, GreylistStore lmdb:SCRATCH/lmdb/gl.lmdb
#	  redis  Greylist observe, GreylistStore redis:unix:SCRATCH/redis/redis.sock
#
#	Observe mode refuses nothing, so every message goes through; with
#	GreylistDelay 0 and GreylistAutoAllow 0 a triplet's first attempt is
#	"new" and every later one "passed" (a store read and an update per
#	recipient), and no client network is ever auto-allowed out of the
#	store. smtpscope-bench cycles RCPTS recipients (-r) and NETS client
#	addresses in distinct /24 networks (-a), one sender: with the
#	defaults (1000, 250) the store holds 1000 triplets, each network four.
#	With NETS=1 (the corpus's sender alone) every recipient also updates
#	the one client network's entry, which concurrent sessions then
#	contend for (Redis: WATCH conflicts; see "What greylisting costs" in
#	docs/performance.md).
#
#	Then R times, for each connection count in CONNS (8, 32) and each
#	store in turn (interleaved: off lmdb redis off lmdb redis ...), a wait
#	for a quiet machine (common.sh's wait_quiet) and one run of
#
#	  smtpscope-bench -s unix:SOCK -c CONNS -n MSGS -w WARMUP -r RCPTS -a NETS -p PID -j
#
#	one message of one recipient per milter connection (smtpscope-bench's
#	built-in 2 KB message). After each run the records written during it
#	are checked: at least MSGS+WARMUP message records; with greylisting
#	off, no greylist object; with a store, one verdict per message, all of
#	them new or passed, none error.
#
#	Per run (runs.csv): messages/s; p50 and p99 of the RCPT reply
#	latency (where the greylist verdict is taken) and of the per-message
#	total wait; the milter's CPU ms per message (smtpscope-bench, over the
#	measured messages) and its user share; the load generator's CPU ms per
#	message; the verdict counts; how quiet the machine was.
#
#	The summary: per connection count and store, medians over error-free
#	runs ([min-max] for messages/s and CPU) and the ratios to Greylist
#	off from the same interleaved runs.
#
# ENVIRONMENT
#	SMTPSCOPE_BIN   smtpscope (default: REPO/build/milter/smtpscope)
#	BENCH_BIN       smtpscope-bench (default: REPO/build/contrib/bench/smtpscope-bench)
#	STORES          which configurations, in order (default "off lmdb redis")
#	CONNS           connection counts (default "8 32")
#	MSGS, WARMUP    smtpscope-bench -n, -w (3000, 300)
#	RCPTS           smtpscope-bench -r: distinct recipients (1000)
#	NETS            smtpscope-bench -a: client /24 networks (250, at most 512)
#	R               repetitions (3)
#	QUICK=1         MSGS=500 R=1 unless set explicitly
#	OUT             results folder (default /tmp/smtpscope-bench-greylist);
#	                each invocation writes OUT/YYYYmmdd-HHMMSS/ and points
#	                OUT/latest at it: summary.txt, runs.csv, env.txt, runs/
#	IDLE_BUSY, IDLE_MAX  see common.sh's wait_quiet (15 %, 60 s)
#	RUN_TIMEOUT     seconds before a smtpscope-bench run is killed (600)
#	KEEP=1          keep the scratch folder (records, configurations, stores)
#
# DIAGNOSTICS
#	Progress on stderr, the table on stdout (and in summary.txt). Exits 1
#	when a tool is missing, Redis or a smtpscope does not start, or a run
#	failed (smtpscope-bench exit status, failed messages, records missing,
#	a verdict other than new or passed). Everything it started (Redis and
#	the smtpscope instances) is stopped by PID on exit.
#
# CAVEATS
#	smtpscope-bench, smtpscope and Redis share the same CPUs, unpinned:
#	messages/s is what they do together. The milter CPU column does not
#	include Redis's own CPU, which is given beside it (redis ms/msg). The
#	LMDB file lives in the scratch folder, on whatever file system /tmp
#	is (env.txt says); LMDB syncs it at every write commit.
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$repo/t/integration/harness.sh"
. "$here/milters.sh"

if [ "${QUICK:-0}" = 1 ]; then
	MSGS=${MSGS:-500} R=${R:-1}
fi
MSGS=${MSGS:-3000} WARMUP=${WARMUP:-300} R=${R:-3} RCPTS=${RCPTS:-1000} NETS=${NETS:-250}
CONNS=${CONNS:-8 32}
STORES=${STORES:-off lmdb redis}
SMTPSCOPE_BIN=${SMTPSCOPE_BIN:-$repo/build/milter/smtpscope}
BENCH_BIN=${BENCH_BIN:-$repo/build/contrib/bench/smtpscope-bench}
OUT=${OUT:-/tmp/smtpscope-bench-greylist}
IDLE_BUSY=${IDLE_BUSY:-15}
IDLE_MAX=${IDLE_MAX:-60}
RUN_TIMEOUT=${RUN_TIMEOUT:-600}
HZ=$(getconf CLK_TCK)
NCPU=$(nproc)

declare -A S_NAME=([off]="Greylist off" [lmdb]="observe, LMDB" [redis]="observe, Redis")

. "$here/common.sh"

# --- checks -----------------------------------------------------------------
[ "$(id -u)" -eq 0 ] || die "run as root (smtpscope drops to nobody)"
for tool in jq pgrep timeout; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed"
done
for b in SMTPSCOPE_BIN BENCH_BIN; do
	[ -x "${!b}" ] || die "no executable at ${!b} (set $b)"
done
for v in MSGS R RCPTS NETS; do
	case ${!v} in '' | *[!0-9]*) die "$v must be a positive integer" ;; esac
	[ "${!v}" -gt 0 ] || die "$v must be a positive integer"
done
case $WARMUP in '' | *[!0-9]*) die "WARMUP must be a number" ;; esac
for c in $CONNS; do
	case $c in '' | *[!0-9]* | 0) die "CONNS must be positive integers" ;; esac
done
for s in $STORES; do [ -n "${S_NAME[$s]:-}" ] || die "unknown store '$s' (off lmdb redis)"; done
has_s() { case " $STORES " in *" $1 "*) return 0 ;; esac; return 1; }
if has_s redis; then
	for tool in redis-server redis-cli; do
		command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed (STORES has redis)"
	done
fi

# --- set-up -----------------------------------------------------------------
bench_start bench-greylist

say "MSGS=$MSGS WARMUP=$WARMUP RCPTS=$RCPTS NETS=$NETS R=$R CONNS='$CONNS' stores: $STORES"
say "results: $RES; scratch: $T"

REDIS_PID='' REDIS_SOCK=$T/redis/redis.sock
# redis_start - our own Redis on REDIS_SOCK, no persistence; its PID is
# tracked, so the EXIT trap stops exactly it
redis_start() {
	local dir=$T/redis
	mkdir -p "$dir" && chmod 755 "$dir" || return 1
	redis-server --port 0 --unixsocket "$REDIS_SOCK" --unixsocketperm 777 \
		--save '' --appendonly no --dir "$dir" >"$dir/redis.log" 2>&1 &
	REDIS_PID=$!
	harness_track_pid "$REDIS_PID"
	bm_wait_sock "$REDIS_SOCK" "$REDIS_PID" &&
		[ "$(redis-cli -s "$REDIS_SOCK" ping 2>/dev/null)" = PONG ] && return 0
	cat "$dir/redis.log" >&2
	return 1
}

declare -A PID SOCK SCOPE_LOG
# start_scope S - smtpscope spine with store S's greylisting keys, as nobody
start_scope() {
	local s=$1 dir=$T/$1
	local -a keys=("Greylist off")
	mkdir -p "$dir" && chown nobody "$dir" && chmod 755 "$dir" || return 1
	SOCK[$s]=$dir/smtpscope.sock
	SCOPE_LOG[$s]=$dir/records.jsonl
	case $s in
	lmdb) keys=("Greylist observe" "GreylistStore lmdb:$dir/gl.lmdb") ;;
	redis) keys=("Greylist observe" "GreylistStore redis:unix:$REDIS_SOCK") ;;
	esac
	[ "$s" = off ] || keys+=("GreylistDelay 0" "GreylistAutoAllow 0")
	scope_conf "$dir" "$here/smtpscope-spine.conf" bench-greylist.sh "${keys[@]}" || return 1
	"$SMTPSCOPE_BIN" -c "$dir/smtpscope.conf" -f >>"$dir/out" 2>>"$dir/stderr" &
	PID[$s]=$!
	harness_track_pid "${PID[$s]}"
	bm_wait_sock "${SOCK[$s]}" "${PID[$s]}" && return 0
	cat "$dir/stderr" >&2
	return 1
}
if has_s redis; then
	redis_start || die "redis-server did not start"
fi
for s in $STORES; do start_scope "$s" || die "smtpscope (${S_NAME[$s]}) did not start"; done
say "up: $(for s in $STORES; do printf '%s %s, ' "$s" "${PID[$s]}"; done)redis-server ${REDIS_PID:-(none)}"

# --- helpers ----------------------------------------------------------------
# (ratio, proc_ut_st, bench, wait_quiet: common.sh)
# scope_lines S - lines in instance S's record log so far
scope_lines() { wc -l <"${SCOPE_LOG[$1]}" 2>/dev/null || echo 0; }
# scope_verdicts S FROM - "messages new passed other error nulls" over the
# message records after line FROM of S's record log (nulls: records
# without a greylist object; other: any verdict but new, passed, error)
scope_verdicts() {
	tail -n +$(($2 + 1)) "${SCOPE_LOG[$1]}" | jq -r 'select(.event == "message") |
		if .greylist == null then "null" else (.greylist.rcpt[]?.verdict // "none") end' |
		awk '{ m++; c[$1]++ } END {
			o = m - c["new"] - c["passed"] - c["error"] - c["null"]
			printf "%d %d %d %d %d %d\n", m, c["new"], c["passed"], o, c["error"], c["null"] }'
}

# --- the runs ---------------------------------------------------------------
{
	echo "# $(date -u +%FT%TZ) $(uname -sr), $NCPU CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
	echo "# smtpscope-bench (milter protocol v6, no MTA), smtpscope and Redis share the $NCPU CPUs, unpinned"
	echo "# MSGS=$MSGS WARMUP=$WARMUP R=$R CONNS='$CONNS', one message per connection, built-in 2 KB"
	echo "#   message, one sender, $RCPTS recipients (-r) and $NETS client /24 networks (-a) cycled"
	echo "# $("$SMTPSCOPE_BIN" -V 2>&1 | head -1), smtpscope-spine.conf (no checks) plus: off: Greylist off;"
	echo "#   lmdb/redis: Greylist observe, GreylistDelay 0, GreylistAutoAllow 0, GreylistTimeout default"
	has_s lmdb && echo "# LMDB store on $(df -T "$T" | awk 'NR == 2 { print $2 }') ($T/lmdb/gl.lmdb)"
	has_s redis && echo "# $(redis-server --version | cut -d' ' -f1-3) on a UNIX socket, --save '' --appendonly no"
} >"$RES/env.txt"
echo "store,conns,rep,messages,failed,seconds,msgs_per_s,rcpt_p50,rcpt_p99,total_p50,total_p99,cpu_ms,user_pct,client_ms,redis_ms,records,v_new,v_passed,v_other,v_error,v_null,errors,waited_s,busy_before_pct,load1" >"$RES/runs.csv"

# run STORE CONNS REP - one smtpscope-bench run; appends to runs.csv
run() {
	local s=$1 c=$2 rep=$3 waited busy out j ct rc errs=0 r0 v
	local ut0 st0 ut1 st1 ru0 rs0 ru1 rs1 want=$((MSGS + WARMUP))
	out=$RES/runs/$s-c$c-r$rep.txt
	read -r waited busy < <(wait_quiet)
	r0=$(scope_lines "$s")
	read -r ut0 st0 < <(proc_ut_st "${PID[$s]}")
	read -r ru0 rs0 < <(proc_ut_st "${REDIS_PID:-0}")
	read -r ct rc < <(bench "$out" -s "unix:${SOCK[$s]}" -c "$c" -n "$MSGS" -w "$WARMUP" \
		-r "$RCPTS" -a "$NETS" -p "${PID[$s]}" -j)
	read -r ru1 rs1 < <(proc_ut_st "${REDIS_PID:-0}")
	read -r ut1 st1 < <(proc_ut_st "${PID[$s]}")
	[ "$rc" = 0 ] || { errs=$((errs + 1)); say "smtpscope-bench exit $rc: $(head -c 300 "$out.err")"; }
	kill -0 "${PID[$s]}" 2>/dev/null || { errs=$((errs + 1)); say "${S_NAME[$s]} is gone"; }
	# every warm-up and measured message has its record, with its verdict
	for _ in $(seq 50); do
		v=$(scope_verdicts "$s" "$r0")
		[ "${v%% *}" -ge "$want" ] && break
		sleep 0.1
	done
	set -- $v	# split on purpose: messages new passed other error nulls
	[ "$1" -ge "$want" ] || { errs=$((errs + 1)); say "$1 message records, want at least $want"; }
	if [ "$s" = off ]; then
		[ "$6" -eq "$1" ] || { errs=$((errs + 1)); say "greylisting off, yet $(($1 - $6)) records have a verdict"; }
	else
		[ "$(($2 + $3))" -eq "$1" ] && [ "$5" -eq 0 ] ||
			{ errs=$((errs + 1)); say "verdicts: $2 new, $3 passed, $4 other, $5 error, $6 none; want only new/passed"; }
	fi
	j=$(grep '^{' "$out" | tail -1)
	[ -n "$j" ] || { j='{}'; errs=$((errs + 1)); say "no JSON from smtpscope-bench: $(head -c 300 "$out.err")"; }
	echo "$j" | jq -r --arg s "$s" --argjson c "$c" --argjson rep "$rep" --argjson errs "$errs" \
		--argjson ct "$ct" --argjson hz "$HZ" --argjson n "$MSGS" --argjson wu "$WARMUP" \
		--argjson ut $((ut1 - ut0)) --argjson st $((st1 - st0)) --argjson rt $((ru1 - ru0 + rs1 - rs0)) \
		--arg v "$v" --argjson w "$waited" --argjson busy "$busy" \
		--arg load "$(cut -d' ' -f1 /proc/loadavg)" --arg redis "${REDIS_PID:-}" '
		def r(d): if . == null then "nan" else (. * pow(10; d) | round / pow(10; d) | tostring) end;
		($v | split(" ")) as $vs |
		[$s, $c, $rep, (.messages // 0), (.failed // 0), (.seconds | r(3)), (.msgs_per_s | r(1)),
		 (.latency_ms.rcpt.p50 | r(4)), (.latency_ms.rcpt.p99 | r(4)),
		 (.latency_ms.message.p50 | r(4)), (.latency_ms.message.p99 | r(4)),
		 (.cpu_ms_per_msg | r(4)),
		 (if $ut + $st > 0 then 100 * $ut / ($ut + $st) else null end | r(0)),
		 ($ct * 1000 / $hz / $n | r(4)),
		 (if $redis == "" then null else $rt * 1000 / $hz / ($n + $wu) end | r(4)),
		 $vs[0], $vs[1], $vs[2], $vs[3], $vs[4], $vs[5],
		 ($errs + (if (.failed // 1) > 0 then 1 else 0 end)), $w, $busy, $load] | @csv' |
		tr -d '"' >>"$RES/runs.csv"
	say "  rep $rep ${S_NAME[$s]} -c $c: $(tail -1 "$RES/runs.csv" | awk -F, '{
		printf "%s msg/s, rcpt p50/p99 %s/%s ms, total p99 %s ms, milter %s ms/msg, redis %s ms/msg, verdicts new %s passed %s error %s, errors %s",
		$7, $8, $9, $11, $12, $15, $17, $18, $20, $22 }')"
	[ "$(tail -1 "$RES/runs.csv" | cut -d, -f22)" = 0 ]
}

failed=0
for rep in $(seq "$R"); do
	for c in $CONNS; do
		for s in $STORES; do
			run "$s" "$c" "$rep" || failed=$((failed + 1))
		done
	done
done

# --- summary ----------------------------------------------------------------
# stats STORE CONNS COLUMN - "median min max" over error-free runs
stats() {
	awk -F, -v s="$1" -v c="$2" -v col="$3" \
		'NR > 1 && $1 == s && $2 == c && $22 == 0 { print $col }' "$RES/runs.csv" | median_minmax
}
med() { stats "$@" | cut -d' ' -f1; }
# medf FORMAT STORE CONNS COLUMN - the median, printf-formatted
medf() { stats "$2" "$3" "$4" | awk -v f="$1" '{ if ($1 == "nan") print "-"; else printf f "\n", $1 }'; }
# plus A B - A-B to three places with its sign, or "-"
plus() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == a + 0 && b == b + 0 && a != "" && b != "") printf "%+.3f", a - b; else print "-" }'; }
# vsum STORE CONNS COLUMN - the column's sum over all runs
vsum() { awk -F, -v s="$1" -v c="$2" -v col="$3" 'NR > 1 && $1 == s && $2 == c { t += $col } END { print t + 0 }' "$RES/runs.csv"; }

summary() {
	local c s
	cat "$RES/env.txt"
	echo "# values: median over error-free runs ([min-max] for msgs/s and CPU); x off: over Greylist off's"
	echo "#   median from the same interleaved runs; latency in ms (RCPT reply; total: every reply a message waited for)"
	echo
	printf '%-15s %-5s %-20s %-6s %-22s %-6s %-7s %-8s %-8s %-9s %-8s %-6s %-7s %-7s %s\n' \
		store conns "msgs/s" "x off" "milter CPU ms/msg" "x off" "+ms" "rcpt p50" "rcpt p99" \
		"p99 x off" "tot p99" "user%" "client" "redis" "verdicts new/passed/error (all runs)"
	for c in $CONNS; do
		for s in $STORES; do
			printf '%-15s %-5s %-20s %-6s %-22s %-6s %-7s %-8s %-8s %-9s %-8s %-6s %-7s %-7s %s\n' \
				"${S_NAME[$s]}" "$c" \
				"$(stats "$s" "$c" 7 | awk '{ printf "%.0f [%.0f-%.0f]", $1, $2, $3 }')" \
				"$(ratio "$(med "$s" "$c" 7)" "$(med off "$c" 7)")" \
				"$(stats "$s" "$c" 12 | awk '{ printf "%.3f [%.3f-%.3f]", $1, $2, $3 }')" \
				"$(ratio "$(med "$s" "$c" 12)" "$(med off "$c" 12)")" \
				"$(plus "$(med "$s" "$c" 12)" "$(med off "$c" 12)")" \
				"$(medf %.3f "$s" "$c" 8)" "$(medf %.3f "$s" "$c" 9)" \
				"$(ratio "$(med "$s" "$c" 9)" "$(med off "$c" 9)")" \
				"$(medf %.3f "$s" "$c" 11)" "$(medf %.0f "$s" "$c" 13)" \
				"$(medf %.3f "$s" "$c" 14)" \
				"$([ "$s" = redis ] && medf %.3f "$s" "$c" 15 || echo -)" \
				"$(vsum "$s" "$c" 17)/$(vsum "$s" "$c" 18)/$(vsum "$s" "$c" 20)"
		done
	done
	echo
	echo "columns: +ms: milter CPU ms/msg over Greylist off's; user%: smtpscope's user share of its CPU (whole"
	echo "invocation); client: smtpscope-bench's CPU ms/msg; redis: redis-server's CPU ms/msg over the whole"
	echo "invocation (warm-up and measured messages), not in the milter column; verdicts: warm-up included"
	awk -F, 'NR > 1 && $22 != 0 { n++ } END { printf "runs with errors (left out): %d\n", n }' "$RES/runs.csv"
}
summary >"$RES/summary.txt"
awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN { printf "wall time: %.0f s\n", b - a }' >>"$RES/summary.txt"
cat "$RES/summary.txt"
say "results in $RES (runs.csv, summary.txt, runs/)"
[ "$failed" -eq 0 ]
