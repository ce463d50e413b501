#!/bin/sh
# bench-report.sh - throughput and memory of smtpscope-report
#
# Generates a 100 MB and a 1 GB record file (t/report/gen_records.py bench,
# about 1.5 KB a record, streamed), runs smtpscope-report -f json on each
# under /usr/bin/time -v, and prints records/s and the maximum RSS, then the
# RSS ratio (1 GB / 100 MB): about 1 when memory does not grow with input.
# Not part of make check. Needs: python3, time (Debian packages).
# Environment: BENCH_DIR (default /tmp/smtpscope-bench-report), SIZES in MB
# (default "100 1000"), KEEP=1 keeps the record files.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
dir=${BENCH_DIR:-/tmp/smtpscope-bench-report}
sizes=${SIZES:-"100 1000"}
py=/usr/bin/python3
[ -x /usr/bin/time ] || { echo "bench-report: needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
mkdir -p "$dir"
for mb in $sizes; do
	f="$dir/records-${mb}M.jsonl"
	if [ ! -s "$f" ]; then
		t0=$(date +%s)
		"$py" "$top/t/report/gen_records.py" bench --bytes $((mb * 1000000)) > "$f"
		echo "generated $f in $(( $(date +%s) - t0 )) s"
	fi
	recs=$(wc -l < "$f")
	bytes=$(wc -c < "$f")
	# default caps, then small caps: memory is bounded by the caps (the
	# first-attempt store and the organization table), not by the file
	for caps in default small; do
		opts=
		[ "$caps" = small ] && opts="--org-cap 1000 --pending-cap 10000"
		# shellcheck disable=SC2086
		/usr/bin/time -v "$py" "$top/contrib/report/smtpscope-report" $opts -f json \
			-o "$dir/report-${mb}M-$caps.json" "$f" 2> "$dir/time-${mb}M-$caps.txt"
		wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$dir/time-${mb}M-$caps.txt")
		rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$dir/time-${mb}M-$caps.txt")
		secs=$(echo "$wall" | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
		echo "$mb MB, $caps caps: $recs records, $bytes bytes, $wall wall," \
			"$(awk -v r="$recs" -v b="$bytes" -v s="$secs" 'BEGIN { printf "%.0f records/s, %.1f MB/s", r / s, b / s / 1e6 }')," \
			"max RSS $rss kB"
		eval "rss_$caps=\${rss_$caps:-}\ $rss"
	done
	[ "${KEEP:-0}" = 1 ] || rm -f "$f"
done
for caps in default small; do
	eval "set -- \$rss_$caps"
	awk -v a="$1" -v b="${!#}" -v c="$caps" 'BEGIN { printf "RSS ratio, largest / smallest file, %s caps: %.2f\n", c, b / a }'
done
