#!/bin/sh
# contrib/fuzz.sh - run every fuzz target for a while, keep and minimise the
# corpora in the repository, collect findings, print executions per target.
#
# SYNOPSIS
#	make fuzz [FUZZ_SECONDS=N] [FUZZ_TARGETS="session record ..."]
#	contrib/fuzz.sh [target ...]		(from a build dir configured with
#						 --enable-fuzzing CC=clang)
#
# DESCRIPTION
#	Each libFuzzer target t/fuzz/lf_NAME (built with -fsanitize=fuzzer,
#	address,undefined) runs FUZZ_SECONDS seconds (default 60) at nice 19
#	on a scratch copy of t/fuzz/corpus/NAME. A crash, leak, UB report or
#	timeout stops libFuzzer; the script keeps the artifact in the findings
#	folder and restarts the target for the rest of its time (at most
#	FUZZ_MAX_FINDINGS restarts). Then the corpus is minimised: files whose
#	name is not a 40-digit hash (hand-written seeds and regression cases)
#	are always kept; the hashed ones, old and new, are merged
#	(-merge=1, which prefers small inputs) into a fresh folder, capped at
#	FUZZ_MAX_FILES by dropping the largest, and replace the old ones.
#	The Python target t/fuzz/fuzz_report.py (the report's reader) runs
#	the same time (or FUZZ_EXECS lines) with its own seeded mutation
#	loop; an execution there is one mutated record line.
#
#	Environment: FUZZ_SECONDS (60), FUZZ_EXECS (stop a target earlier,
#	after this many executions; default: no limit), FUZZ_TIMEOUT (seconds per input, 10;
#	a timeout is rerun alone and kept only if it recurs),
#	FUZZ_MAX_FILES (hashed files kept per target, 48), FUZZ_MAX_LEN
#	(4096), FUZZ_MAX_FINDINGS (5), FUZZ_FINDINGS (folder, default
#	BUILD/fuzz-findings), FUZZ_TARGETS (names; default: all),
#	FUZZ_BUILDDIR, FUZZ_SRCDIR (default: the current directory and this
#	script's tree), PYTHON (/usr/bin/python3).
#
# DIAGNOSTICS
#	Exits 2 when the libFuzzer builds are missing, 1 when a target left
#	findings (listed under the table), 0 otherwise. Each run's log is
#	BUILD/fuzz-logs/NAME.N.log.
set -u

srcdir=${FUZZ_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
builddir=${FUZZ_BUILDDIR:-$(pwd)}
seconds=${FUZZ_SECONDS:-60}
timeout=${FUZZ_TIMEOUT:-10}
maxfiles=${FUZZ_MAX_FILES:-48}
maxlen=${FUZZ_MAX_LEN:-4096}
maxfind=${FUZZ_MAX_FINDINGS:-5}
maxexecs=${FUZZ_EXECS:-0}
findings=${FUZZ_FINDINGS:-$builddir/fuzz-findings}
logs=$builddir/fuzz-logs
corpora=$srcdir/t/fuzz/corpus
python=${PYTHON:-/usr/bin/python3}	# Debian's, as make check uses

# fuzz_targets - the names to run: arguments, FUZZ_TARGETS, or every lf_*
fuzz_targets() {
	if [ $# -gt 0 ]; then
		echo "$@"
	elif [ -n "${FUZZ_TARGETS:-}" ]; then
		echo "$FUZZ_TARGETS"
	else
		for f in "$builddir"/t/fuzz/lf_*; do
			[ -x "$f" ] && basename "$f" | sed 's/^lf_//'
		done
		echo report
	fi
}

# fuzz_is_hash - true when a corpus file name is libFuzzer's SHA-1 name
fuzz_is_hash() {
	echo "$1" | grep -Eq '^[0-9a-f]{40}$'
}

# fuzz_execs - the executions a libFuzzer log reports (0 when none)
fuzz_execs() {
	sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$1" |
	    tail -n 1 | grep . || echo 0
}

# fuzz_minimise NAME BIN WORK - merge hashed files of the corpus and WORK
fuzz_minimise() {
	name=$1 bin=$2 work=$3
	keep=$(mktemp -d) old=$(mktemp -d) fresh=$(mktemp -d)
	for f in "$corpora/$name"/*; do
		[ -f "$f" ] || continue
		if fuzz_is_hash "$(basename "$f")"; then
			mv "$f" "$old/"
		else
			cp "$f" "$keep/"
		fi
	done
	# the first folder holds the seeds: merge adds only new coverage
	cp "$keep"/* "$fresh/" 2>/dev/null
	nice -n 19 "$bin" -merge=1 -timeout="$timeout" -max_len="$maxlen" \
	    -rss_limit_mb=2048 "$fresh" "$old" "$work" \
	    >"$logs/$name.merge.log" 2>&1 || {
		echo "fuzz: $name: merge failed, corpus left as it was" >&2
		mv "$old"/* "$corpora/$name/" 2>/dev/null
		rm -rf "$keep" "$old" "$fresh"
		return 1
	}
	for f in "$fresh"/*; do
		[ -f "$f" ] || continue
		fuzz_is_hash "$(basename "$f")" && cp "$f" "$corpora/$name/"
	done
	# cap: drop the largest hashed files beyond FUZZ_MAX_FILES
	ls -S "$corpora/$name" | while read -r f; do
		fuzz_is_hash "$f" && echo "$f"
	done | head -n "-$maxfiles" | while read -r f; do
		rm -f "$corpora/$name/$f"
	done
	rm -rf "$keep" "$old" "$fresh"
}

# fuzz_found NAME LOG - move the artifacts one run left into the findings
fuzz_found() {
	n=0
	for f in "$findings/$1"-crash-* "$findings/$1"-leak-* \
	    "$findings/$1"-timeout-* "$findings/$1"-oom-* \
	    "$findings/$1"-slow-unit-*; do
		[ -f "$f" ] && n=$((n + 1))
	done
	echo "$n"
}

# fuzz_confirm NAME BIN - a timeout on a loaded machine (nice 19, shared
# cores) may be the scheduler's: rerun each new one alone; those that now
# finish in time go to unconfirmed/ and are not counted
fuzz_confirm() {
	for f in "$findings/$1"-timeout-*; do
		[ -f "$f" ] || continue
		if "$2" -timeout="$timeout" -runs=3 "$f" >"$f.rerun.log" 2>&1; then
			mkdir -p "$findings/unconfirmed"
			mv "$f" "$f.rerun.log" "$findings/unconfirmed/"
		fi
	done
}

# fuzz_run_lf NAME - one libFuzzer target: runs, findings, minimisation
fuzz_run_lf() {
	name=$1 bin=$builddir/t/fuzz/lf_$1
	work=$(mktemp -d)
	mkdir -p "$corpora/$name"
	cp "$corpora/$name"/* "$work/" 2>/dev/null
	start=$(date +%s) execs=0 runs=0
	before=$(fuzz_found "$name")
	while :; do
		left=$((seconds - ($(date +%s) - start)))
		[ "$left" -gt 0 ] && [ "$runs" -le "$maxfind" ] || break
		todo=-1
		if [ "$maxexecs" -gt 0 ]; then
			todo=$((maxexecs - execs))
			[ "$todo" -gt 0 ] || break
		fi
		runs=$((runs + 1))
		log=$logs/$name.$runs.log
		nice -n 19 "$bin" -max_total_time="$left" -runs="$todo" -timeout="$timeout" \
		    -max_len="$maxlen" -rss_limit_mb=2048 -print_final_stats=1 \
		    -report_slow_units="$timeout" \
		    -artifact_prefix="$findings/$name-" "$work" >"$log" 2>&1
		rc=$?
		execs=$((execs + $(fuzz_execs "$log")))
		fuzz_confirm "$name" "$bin"
		[ "$rc" -eq 0 ] && break
	done
	fuzz_minimise "$name" "$bin" "$work"
	rm -rf "$work"
	found=$(($(fuzz_found "$name") - before))
	files=$(ls "$corpora/$name" | wc -l)
	echo "$(date -u +%FT%TZ) $name $execs" >>"$logs/ledger"
	printf '%-12s %14s %8s %6s %9s\n' "$name" "$execs" \
	    "$(($(date +%s) - start))" "$files" "$found"
	[ "$found" -eq 0 ]
}

# fuzz_run_py - the report reader's Python target (its own mutation loop)
fuzz_run_py() {
	log=$logs/report.1.log start=$(date +%s)
	mkdir -p "$corpora/report"
	nice -n 19 "$python" "$srcdir/t/fuzz/fuzz_report.py" \
	    --seconds "$seconds" --runs "$maxexecs" --findings "$findings" \
	    "$corpora/report" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^executions: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
	found=$(sed -n 's/^findings: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
	echo "$(date -u +%FT%TZ) report ${execs:-0}" >>"$logs/ledger"
	printf '%-12s %14s %8s %6s %9s\n' report "${execs:-0}" \
	    "$(($(date +%s) - start))" "$(ls "$corpora/report" | wc -l)" \
	    "${found:-?}"
	[ "$rc" -eq 0 ]
}

main() {
	if ! ls "$builddir"/t/fuzz/lf_* >/dev/null 2>&1; then
		echo "fuzz: no libFuzzer builds in $builddir/t/fuzz:" \
		    "configure --enable-fuzzing CC=clang, then make" >&2
		exit 2
	fi
	mkdir -p "$findings" "$logs"
	status=0
	printf '%-12s %14s %8s %6s %9s\n' target executions seconds files findings
	for t in $(fuzz_targets "$@"); do
		if [ "$t" = report ]; then
			fuzz_run_py || status=1
		elif [ -x "$builddir/t/fuzz/lf_$t" ]; then
			fuzz_run_lf "$t" || status=1
		else
			echo "fuzz: no target $t" >&2
			status=1
		fi
	done
	if [ "$status" -ne 0 ]; then
		echo "findings (in $findings):"
		ls -1 "$findings"
	fi
	exit "$status"
}

main "$@"
