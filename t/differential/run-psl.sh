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
[ -x "$ORG" ] || { echo "Bail out! $ORG not built"; exit 1; }
command -v psl >/dev/null 2>&1 || { echo "1..0 # SKIP psl missing (Debian psl)"; exit 0; }
[ -r "$list" ] || { echo "1..0 # SKIP $list missing (Debian publicsuffix)"; exit 0; }
if [ $# -ge 3 ]; then
	dir=$3
	mkdir -p "$dir"
else
	dir=$(mktemp -d) && trap 'rm -rf -- "$dir"' EXIT
fi
echo "# seed $seed, $count names, list $list"
"$PY" "$here/psl-gen.py" "$seed" "$count" "$list" >"$dir/names" || { echo "Bail out! psl-gen.py failed"; exit 1; }
"$ORG" "$list" <"$dir/names" >"$dir/ours" || { echo "Bail out! psl-orgdomain failed"; exit 1; }
psl --load-psl-file "$list" --print-reg-domain <"$dir/names" >"$dir/psl" || { echo "Bail out! psl failed"; exit 1; }
"$PY" "$here/psl-compare.py" "$dir/ours" "$dir/psl" "$here/psl-known-differences.txt"
