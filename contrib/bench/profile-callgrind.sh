#!/bin/bash
# profile-callgrind.sh - instructions smtpscope spends per message, by
# function, counted by callgrind (repeatable on a busy machine)
#
# SYNOPSIS
#	contrib/bench/profile-callgrind.sh                # as root
#	CONF=smtpscope-spine.conf MSGS=500 contrib/bench/profile-callgrind.sh
#	EXTRA="DNSCache no" contrib/bench/profile-callgrind.sh
#
# DESCRIPTION
#	Builds nothing. Writes the benchmark corpus (corpus.sh), starts the
#	DNS lab (milters.sh: a namespace with unbound serving bench.example)
#	and, in it, smtpscope with CONF (default smtpscope-full.conf) plus the
#	run's keys and EXTRA (one key a line) under valgrind --tool=callgrind,
#	twice: smtpscope-bench sends WARMUP messages (default 50) to the
#	first, WARMUP + MSGS (default 300) to the second, every corpus file
#	round robin, one per connection, CONNS connections (default 2); each
#	is stopped after. The difference over MSGS is the cost of one message
#	without start-up and exit (callgrind_control --zero needs vgdb to
#	interrupt a blocked process, which not every machine allows). Prints
#	instructions per message, in total and by function, exclusive and
#	inclusive (callgrind_annotate), and keeps the profiles in OUT/latest
#	(base.out, run.out, summary.txt).
#
# ENVIRONMENT
#	SMTPSCOPE_BIN, BENCH_BIN as in bench-direct.sh; CONF, EXTRA, MSGS,
#	WARMUP, CONNS, OUT (default /tmp/smtpscope-callgrind)
#
# DIAGNOSTICS
#	Exits 1 when a tool is missing or a step fails; everything it started
#	is stopped by PID on exit.
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$repo/t/integration/harness.sh"
. "$here/milters.sh"
SMTPSCOPE_BIN=${SMTPSCOPE_BIN:-$repo/build/milter/smtpscope}
BENCH_BIN=${BENCH_BIN:-$repo/build/contrib/bench/smtpscope-bench}
CONF=${CONF:-smtpscope-full.conf}
EXTRA=${EXTRA:-}
MSGS=${MSGS:-300} WARMUP=${WARMUP:-50} CONNS=${CONNS:-2}
OUT=${OUT:-/tmp/smtpscope-callgrind}
RUN_TIMEOUT=${RUN_TIMEOUT:-900}
HZ=$(getconf CLK_TCK)
FILES="plain-2k plain-2k-signed alt-10k alt-10k-signed attach-100k attach-100k-signed"
. "$here/common.sh"

[ "$(id -u)" -eq 0 ] || die "run as root (network namespace)"
for tool in valgrind callgrind_annotate unbound ip jq; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed (valgrind)"
done
[ -x "$SMTPSCOPE_BIN" ] && [ -x "$BENCH_BIN" ] || die "build smtpscope and smtpscope-bench first"

bench_start profile-callgrind
"$here/corpus.sh" "$T/corpus" >/dev/null || die "corpus.sh failed"
bm_dns_start "$T/dns" "$T/corpus" || die "unbound did not start"
extra=()
[ -n "$EXTRA" ] && mapfile -t extra <<<"$EXTRA"
args=()
for f in $FILES; do args+=(-m "$T/corpus/$f.eml"); done

# profile NAME COUNT - smtpscope under callgrind for COUNT messages, then
# stopped; its per-function exclusive and inclusive counts in
# $RES/NAME.self and $RES/NAME.incl ("Ir function" lines)
profile() {
	local name=$1 n=$2 dir=$T/$1 pid rc
	mkdir -p "$dir" && chown nobody "$dir" && chmod 755 "$dir" || return 1
	scope_conf "$dir" "$here/$CONF" profile-callgrind.sh "${extra[@]}" || return 1
	# written at exit, after smtpscope became nobody
	touch "$dir/callgrind.out" && chown nobody "$dir/callgrind.out" || return 1
	ip netns exec "$BM_NS" valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.out" \
		"$SMTPSCOPE_BIN" -c "$dir/smtpscope.conf" -f >"$dir/out" 2>"$dir/stderr" &
	pid=$!
	harness_track_pid "$pid"
	for _ in $(seq 600); do [ -S "$dir/smtpscope.sock" ] && break; sleep 0.1; done
	[ -S "$dir/smtpscope.sock" ] || { cat "$dir/stderr" >&2; return 1; }
	read -r _ rc < <(bench "$dir/bench.txt" -s "unix:$dir/smtpscope.sock" -c "$CONNS" -n "$n" -w 0 "${args[@]}")
	[ "$rc" = 0 ] || { say "smtpscope-bench: $(head -c 300 "$dir/bench.txt.err")"; return 1; }
	sleep 1
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null
	cp "$dir/callgrind.out" "$RES/$name.out" || return 1
	for k in self incl; do
		callgrind_annotate --threshold=100 --inclusive=$([ $k = incl ] && echo yes || echo no) \
			"$RES/$name.out" 2>/dev/null | sed -n '/^Ir/,$p' |
			awk '/^ *[0-9,]+ / && !/=>/ { x = $1; gsub(",", "", x); $1 = ""
				sub(/^ *\([ 0-9.]+%\) */, ""); print x "\t" $0 }' >"$RES/$name.$k"
	done
	awk '/^summary:/ { print $2 }' "$RES/$name.out" >"$RES/$name.total"
}

# per_msg A B - by function, (B - A) / MSGS, the 30 largest
per_msg() {
	awk -F'\t' -v m="$MSGS" 'FNR == NR { a[$2] = $1; next }
		{ d = ($1 - a[$2]) / m; if (d > 0) printf "%12.0f  %s\n", d, $2 }' "$1" "$2" |
		sort -rn | head -30
}

say "callgrind: $CONF ${EXTRA:+($EXTRA) }$WARMUP messages, then again with $MSGS more; $CONNS connections"
profile base "$WARMUP" || die "the base run failed"
profile run "$((WARMUP + MSGS))" || die "the measured run failed"
{
	echo "# $(date -u +%FT%TZ) $CONF ${EXTRA:+($EXTRA)} MSGS=$MSGS WARMUP=$WARMUP CONNS=$CONNS"
	echo "# per message: (run with WARMUP+MSGS messages - run with WARMUP) / MSGS"
	awk -v a="$(cat "$RES/base.total")" -v b="$(cat "$RES/run.total")" -v m="$MSGS" \
		'BEGIN { printf "instructions per message: %.0f\n", (b - a) / m }'
	echo "by function, exclusive (instructions per message):"
	per_msg "$RES/base.self" "$RES/run.self"
	echo "by function, inclusive (instructions per message):"
	per_msg "$RES/base.incl" "$RES/run.incl"
} | tee "$RES/summary.txt"
say "results in $RES"
