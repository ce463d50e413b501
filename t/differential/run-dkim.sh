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
. "$here/dkim-common.sh"
[ -x "$EVAL" ] || diff_bail "$EVAL not built"
[ -x "$DKIMSIGN" ] || diff_bail "$DKIMSIGN not built"
"$PY" -c 'import dkim, nacl.signing' 2>/dev/null || diff_skip "dkimpy or PyNaCl missing (python3-dkim)"
perl -MMail::DKIM::Verifier -e1 2>/dev/null || diff_skip "Mail::DKIM missing (libmail-dkim-perl)"
command -v jq >/dev/null 2>&1 || diff_skip "jq missing"
command -v openssl >/dev/null 2>&1 || diff_skip "openssl missing"
diff_workdir "${@:3}"
echo "# seed $seed, $count cases, in $dir"
"$PY" "$here/dkim-gen.py" "$seed" "$count" "$dir" || diff_bail "dkim-gen.py failed"
"$here/dkim-smtpscope.sh" "$EVAL" "$dir" >"$dir/smtpscope.tsv" || diff_bail "smtpscope side failed"
"$PY" "$here/dkim-dkimpy.py" "$dir" >"$dir/dkimpy.tsv" || diff_bail "dkimpy side failed"
perl "$here/dkim-maildkim.pl" "$dir" >"$dir/maildkim.tsv" || diff_bail "Mail::DKIM side failed"
"$PY" "$here/dkim-compare.py" "$dir" "$here/dkim-known-differences.txt"
