#!/bin/bash
# run-dkim.sh - the DKIM differential test for any seed and count: generate
# the cases (dkim-gen.py), verify every signature with smtpscope-eval,
# dkimpy and Mail::DKIM from one key table, compare (dkim-compare.py).
#
# Usage: run-dkim.sh SEED COUNT [KEEPDIR]
# Prints TAP; exits 0 when every disagreement is a documented class
# (dkim-known-differences.txt). The cases and results stay in KEEPDIR when
# given (else in a temporary directory, removed). Needs python3-dkim,
# python3-nacl, libmail-dkim-perl, jq, openssl; a missing one skips.
# smtpscope-eval and t/tools/dkimsign are taken from $top_builddir
# (default: the build tree beside this file's source tree, ../../build).
set -u
here=$(cd "$(dirname "$0")" && pwd)
seed=${1:?usage: run-dkim.sh SEED COUNT [KEEPDIR]}
count=${2:?usage: run-dkim.sh SEED COUNT [KEEPDIR]}
PY=/usr/bin/python3
EVAL=${top_builddir:-$here/../../build}/eval/smtpscope-eval
DKIMSIGN=${top_builddir:-$here/../../build}/t/tools/dkimsign
export DKIMSIGN
skip() { echo "1..0 # SKIP $1"; exit 0; }
[ -x "$EVAL" ] || { echo "Bail out! $EVAL not built"; exit 1; }
[ -x "$DKIMSIGN" ] || { echo "Bail out! $DKIMSIGN not built"; exit 1; }
"$PY" -c 'import dkim, nacl.signing' 2>/dev/null || skip "dkimpy or PyNaCl missing (python3-dkim)"
perl -MMail::DKIM::Verifier -e1 2>/dev/null || skip "Mail::DKIM missing (libmail-dkim-perl)"
command -v jq >/dev/null 2>&1 || skip "jq missing"
command -v openssl >/dev/null 2>&1 || skip "openssl missing"
if [ $# -ge 3 ]; then
	dir=$3
	mkdir -p "$dir"
else
	dir=$(mktemp -d) && trap 'rm -rf -- "$dir"' EXIT
fi
echo "# seed $seed, $count cases, in $dir"
"$PY" "$here/dkim-gen.py" "$seed" "$count" "$dir" || { echo "Bail out! dkim-gen.py failed"; exit 1; }
"$here/dkim-smtpscope.sh" "$EVAL" "$dir" >"$dir/smtpscope.tsv" || { echo "Bail out! smtpscope side failed"; exit 1; }
"$PY" "$here/dkim-dkimpy.py" "$dir" >"$dir/dkimpy.tsv" || { echo "Bail out! dkimpy side failed"; exit 1; }
perl "$here/dkim-maildkim.pl" "$dir" >"$dir/maildkim.tsv" || { echo "Bail out! Mail::DKIM side failed"; exit 1; }
"$PY" "$here/dkim-compare.py" "$dir" "$here/dkim-known-differences.txt"
