#!/bin/bash
# run-psl.sh - the organizational-domain differential test for any seed and
# count: names from psl-gen.py, smtpscope's answer (psl-orgdomain, i.e.
# dmarceval_org_domain) against libpsl's (psl --print-reg-domain), both on
# the same list file, compared by psl-compare.py.
#
# Usage: run-psl.sh SEED COUNT [KEEPDIR]
# Prints TAP. The list: $PSL_FILE, default
# /usr/share/publicsuffix/public_suffix_list.dat (Debian publicsuffix).
# Needs psl (Debian psl); a missing tool skips.
set -u
here=$(cd "$(dirname "$0")" && pwd)
seed=${1:?usage: run-psl.sh SEED COUNT [KEEPDIR]}
count=${2:?usage: run-psl.sh SEED COUNT [KEEPDIR]}
PY=/usr/bin/python3
list=${PSL_FILE:-/usr/share/publicsuffix/public_suffix_list.dat}
ORG=${top_builddir:-$here/../../build}/t/differential/psl-orgdomain
. "$here/dkim-common.sh"
[ -x "$ORG" ] || diff_bail "$ORG not built"
command -v psl >/dev/null 2>&1 || diff_skip "psl missing (Debian psl)"
[ -r "$list" ] || diff_skip "$list missing (Debian publicsuffix)"
diff_workdir "${@:3}"
echo "# seed $seed, $count names, list $list"
"$PY" "$here/psl-gen.py" "$seed" "$count" "$list" >"$dir/names" || diff_bail "psl-gen.py failed"
"$ORG" "$list" <"$dir/names" >"$dir/ours" || diff_bail "psl-orgdomain failed"
psl --load-psl-file "$list" --print-reg-domain <"$dir/names" >"$dir/psl" || diff_bail "psl failed"
"$PY" "$here/psl-compare.py" "$dir/ours" "$dir/psl" "$here/psl-known-differences.txt"
