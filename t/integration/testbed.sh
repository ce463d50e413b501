#!/bin/bash
# testbed.sh - the whole measurement test bed (contrib/testbed): start the
# targets and the five simulated providers of profiles.conf, send one
# message from every provider to every target, and check that the
# capability table smtpscope-report infers from smtpscope's records equals
# the ground truth of the profiles, for every provider and capability;
# then that testbed-stop.sh leaves no namespace and no process behind.
# About 60 s. Run under the integration lock (t/integration/README in
# COMMON rules): flock /tmp/smtpscope-it.lock make check TESTS=integration/testbed.sh
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
top=$(cd "${top_srcdir:-$here/../..}" && pwd)
bed=$top/contrib/testbed
[ "$(id -u)" -eq 0 ] || tap_skip_all "needs root (namespaces, Postfix)"
for tool in ip nsd unbound ldns-signzone postfix swaks jq dig openssl mta-sts-daemon /usr/bin/python3; do
	command -v "$tool" >/dev/null 2>&1 || tap_skip_all "$tool is not installed"
done
[ -e /run/netns/stb-core ] && tap_skip_all "a test bed runs already (contrib/testbed/testbed-stop.sh)"
export SCOPE_BIN=${SCOPE_BIN:-$(cd "${top_builddir:-$here/../..}" && pwd)/milter/smtpscope}
export TB_DIR
TB_DIR=$(mktemp -d /tmp/smtpscope-testbed-it.XXXXXX) || exit 1
cleanup() {
	local rc=$?
	"$bed/testbed-stop.sh" >/dev/null 2>&1
	[ "${KEEP:-0}" = 1 ] || rm -rf -- "$TB_DIR"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
. "$bed/testbed-lib.sh"
n=$(tb_profiles | wc -l)
tap_plan $((n + 4))

"$bed/testbed-start.sh" 2>"$TB_DIR/start.err"
rc=$?
tap_ok $rc "the test bed starts ($n providers, ${#TB_TARGETS[@]} targets)"
[ $rc -eq 0 ] || { tap_diag "$(cat "$TB_DIR/start.err")"; exit 1; }
t0=$EPOCHSECONDS
TB_SETTLE=10 "$bed/testbed-run.sh" 150 >"$TB_DIR/run.out" 2>&1
tap_ok $? "the driver sends and the report prints the table ($((EPOCHSECONDS - t0)) s)"
sed 's/^/# /' "$TB_DIR/run.out"
truth=$(tb_truth | sort)
got=$(tb_table_lines "$TB_DIR/table.json" | sort)
for org in $(tb_profiles | awk '{ print $1 ".tb" }'); do
	tap_is "$(grep "^$org " <<<"$got")" "$(grep "^$org " <<<"$truth")" \
		"inferred capabilities of $org equal its profile"
done
tap_is "$(jq -r '[.rows[] | .spf, .dmarc] | map(split(" ")[0]) | unique | join(",")' \
	"$TB_DIR/table.json")" pass "SPF and DMARC of every provider's mail pass"
"$bed/testbed-stop.sh"
left=$(ip netns list | grep -c '^stb-'; pgrep -f "$TB_DIR" | wc -l)
tap_is "$(echo $left)" "0 0" "testbed-stop.sh leaves no namespace and no process"
tap_done
