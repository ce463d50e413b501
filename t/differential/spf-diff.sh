#!/bin/bash
# spf-diff.sh - differential test of SPF: smtpscope against pyspf on
# generated cases (t/differential/spf-gen.py), both reading the same zone
# data. TAP. Run by `make check` with a fixed seed; run-spf.sh takes any.
# Usage: spf-diff.sh [SEED [COUNT]]
set -u
seed=${1:-${SPF_DIFF_SEED:-7208}}
count=${2:-${SPF_DIFF_COUNT:-5000}}
src=${srcdir:-$(dirname "$0")/..}
here=$src/differential
build=${top_builddir:-$(cd "$(dirname "$0")/../.." && pwd)/build}/t
py=/usr/bin/python3
if ! $py -c 'import spf' 2>/dev/null; then
	echo "1..0 # SKIP pyspf (python3-spf) is not installed"
	exit 0
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/spf-diff.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
cases=$work/spfgen-$seed.yml
$py "$here/spf-gen.py" "$seed" "$count" >"$cases" || { echo "1..0 # generator failed"; exit 1; }
echo "# seed $seed, $count cases"
SPF_SUITE_DUMP=$work/smtpscope.tsv top_srcdir=${top_srcdir:-$src/..} \
	"$build/conformance/spf_suite" "$cases" >"$work/suite.log" 2>&1
if [ ! -s "$work/smtpscope.tsv" ]; then
	echo "1..1"
	echo "not ok 1 - spf_suite wrote no answers"
	tail -5 "$work/suite.log" | sed 's/^/# /'
	exit 1
fi
$py "$here/spf-pyspf.py" spfgen "$cases" "$work/smtpscope.tsv" \
	"$here/spf-known-differences.txt"
