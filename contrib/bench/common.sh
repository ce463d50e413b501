# common.sh - shared by bench-e2e.sh and bench-direct.sh (sourced, bash):
# messages, the whole machine's CPU, waiting for a quiet machine before a
# timed run, and median/min/max of a column.
#
#	say TEXT / die TEXT      timestamped line on stderr / and exit 1
#	machine_ticks            "busy total" jiffies of all CPUs
#	busy_pct                 whole-machine busy % over the next second
#	wait_quiet               see below; needs IDLE_BUSY and IDLE_MAX
#	median_minmax            numbers on stdin -> "median min max" ("nan" x3 if none)

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
