# common.sh - shared by bench-e2e.sh, bench-direct.sh and bench-greylist.sh
# (sourced, bash): messages, the whole machine's CPU, waiting for a quiet
# machine before a timed run, median/min/max of a column, a smtpscope
# configuration for one run, and one smtpscope-bench run.
#
#	say TEXT / die TEXT      timestamped line on stderr / and exit 1
#	machine_ticks            "busy total" jiffies of all CPUs
#	busy_pct                 whole-machine busy % over the next second
#	wait_quiet               see below; needs IDLE_BUSY and IDLE_MAX
#	median_minmax            numbers on stdin -> "median min max" ("nan" x3 if none)
#	ratio A B                A/B to two places, or "-"
#	proc_ut_st PID           "utime stime" of PID in clock ticks
#	scope_conf DIR TEMPLATE BY [KEY...]  DIR/smtpscope.conf, checked; needs
#	                         SMTPSCOPE_BIN
#	bench OUTFILE ARGS...    one smtpscope-bench run; needs BENCH_BIN,
#	                         RUN_TIMEOUT and HZ

say() { printf '%s %s\n' "$(date +%T)" "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# machine_ticks - "busy total" jiffies of all CPUs from /proc/stat
machine_ticks() {
	local _ us ni sy id io irq sirq st
	read -r _ us ni sy id io irq sirq st _ </proc/stat
	echo "$((us + ni + sy + irq + sirq + st)) $((us + ni + sy + id + io + irq + sirq + st))"
}

# busy_pct - whole-machine CPU busy % over the next second
busy_pct() {
	local b0 t0 b1 t1
	read -r b0 t0 < <(machine_ticks)
	sleep 1
	read -r b1 t1 < <(machine_ticks)
	echo $(((b1 - b0) * 100 / (t1 - t0 > 0 ? t1 - t0 : 1)))
}

# wait_quiet - wait until no other smtp-source or smtpscope-bench process runs
# (up to 10 min), then until the machine is at most IDLE_BUSY % busy over one
# second (up to IDLE_MAX s); prints "seconds_waited busy_pct"
wait_quiet() {
	local w=0 b
	while pgrep -x smtp-source >/dev/null || pgrep -x smtpscope-bench >/dev/null; do
		[ $w -eq 0 ] && say "waiting for other benchmarks to finish:" \
			"$({ pgrep -a -x smtp-source; pgrep -a -x smtpscope-bench; } | cut -c1-100 | tr '\n' ';')"
		[ $w -ge 600 ] && { say "still busy after 10 min; measuring anyway"; break; }
		sleep 1
		w=$((w + 1))
	done
	local w2=0
	while b=$(busy_pct) && [ "$b" -gt "$IDLE_BUSY" ]; do
		[ $w2 -eq 0 ] && say "machine $b% busy before the run (others' work); waiting up to $IDLE_MAX s"
		w2=$((w2 + 1))
		[ $w2 -ge "$IDLE_MAX" ] && { say "still $b% busy; measuring anyway (busy_before in runs.csv)"; break; }
	done
	echo $((w + w2)) "$b"
}

# median_minmax - "median min max" of the numbers on standard input
median_minmax() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "nan nan nan"; exit }
		med = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		print med, v[1], v[NR] }'
}

# ratio A B - A/B to two places, or "-"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0 && a == a + 0) printf "%.2f", a / b; else print "-" }'; }

# proc_ut_st PID - "utime stime" of PID (whole thread group) in clock ticks
proc_ut_st() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo "0 0"; return; }
	s=${s##*) }
	set -- $s	# split on purpose: the fields after "(comm) "
	echo "${12} ${13}"
}

# scope_conf DIR TEMPLATE BY [KEY...] - write DIR/smtpscope.conf: TEMPLATE,
# then the keys of one run (socket DIR/smtpscope.sock, records
# DIR/records.jsonl, pid file, as nobody, no syslog; a comment names BY, the
# script) and any further KEYs, one a line; DIR must exist and be writable
# by nobody. Returns non-zero, with smtpscope -n's complaint on stderr,
# when the configuration does not check.
scope_conf() {
	local dir=$1 tmpl=$2 by=$3
	shift 3
	{
		cat "$tmpl"
		printf '\n# added by %s for this run\n' "$by"
		printf '%s\n' "Socket unix:$dir/smtpscope.sock" "SocketMode 0666" \
			"RecordLog $dir/records.jsonl" "PidFile $dir/smtpscope.pid" \
			"UserID nobody" "Syslog no" "ShutdownTimeout 5" "$@"
	} >"$dir/smtpscope.conf" || return 1
	"$SMTPSCOPE_BIN" -n -c "$dir/smtpscope.conf" >"$dir/check.out" 2>&1 ||
		{ cat "$dir/check.out" >&2; return 1; }
}

# bench OUTFILE ARGS... - smtpscope-bench with ARGS; stdout to OUTFILE,
# stderr to OUTFILE.err; prints "client_ticks rc" (times in the bash that
# waited for it, not in a subshell)
bench() {
	local out=$1 t
	shift
	t=$(bash -c '"$@" >"$0" 2>"$0.err"; rc=$?; times; exit $rc' "$out" \
		timeout "$RUN_TIMEOUT" "$BENCH_BIN" "$@")
	local rc=$?
	echo "$(echo "$t" | tail -1 | awk -v hz="$HZ" '{ t = 0; for (i = 1; i <= 2; i++) {
		split($i, x, "m"); sub("s", "", x[2]); t += x[1] * 60 + x[2] }
		printf "%d", t * hz + 0.5 }')" "$rc"
}

# bench_cleanup - the EXIT trap of bench_start: stop everything this run
# started (harness-tracked processes, the DNS of milters.sh if it ran)
bench_cleanup() {
	local rc=$?
	trap - EXIT
	trap '' PIPE
	say "stopping everything this run started"
	harness_cleanup
	if declare -F bm_dns_stop >/dev/null; then bm_dns_stop; fi
	exit $rc
}

# bench_start NAME - scratch folder ($T), traps that clean up on any exit,
# and a results folder $RES=$OUT/STAMP (with runs/) linked as $OUT/latest;
# sets T0 and stamp
bench_start() {
	harness_init "$1" || die "no scratch folder"
	trap bench_cleanup EXIT
	# a closed pipe or terminal must not kill the shell before the cleanup runs
	trap 'exit 129' HUP
	trap 'exit 141' PIPE
	T0=$EPOCHREALTIME
	stamp=$(date +%Y%m%d-%H%M%S)
	RES=$OUT/$stamp
	mkdir -p "$RES/runs" || die "cannot create $RES"
	ln -sfn "$stamp" "$OUT/latest"
}
