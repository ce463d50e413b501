#!/bin/bash
# testbed-run.sh - send one marked message from every provider to every target
#
# Usage: testbed-run.sh [WAIT]    (root, after testbed-start.sh)
# Each provider submits, inside its namespace, one message per target
# (Subject "testbed RUN PROVIDER TARGET", Message-ID <RUN.PROVIDER.TARGET@...>)
# to its own Postfix, which delivers it by MX like any mail provider. The
# driver then waits until every provider whose queue retries has passed
# greylisting (or WAIT seconds, default 180, have gone by) plus a settle
# time for the other retries, and prints smtpscope-report's capability
# table from a snapshot of $TB_DIR/scope/records.jsonl (also written as
# table.json and report.html in $TB_DIR).
set -u
. "$(dirname "$0")/testbed-lib.sh"
wait_max=${1:-180}
run=$(date +%s)
start=$EPOCHSECONDS
records=$TB_DIR/scope/records.jsonl
[ -e "/run/netns/$TB_NS-core" ] || { tb_log "no test bed runs (testbed-start.sh)"; exit 1; }

while read -r name _; do
	for t in "${TB_TARGETS[@]}"; do
		tb_exec "$name" swaks --server 127.0.0.1 --port 25 --helo "mail.$name.tb" \
			--from "probe@$name.tb" --to "probe-$name-$t@$t.tb" \
			--header "Subject: testbed $run $name $t" \
			--header "Message-ID: <$run.$name.$t@$name.tb>" \
			--timeout 10 >>"$TB_DIR/swaks.log" 2>&1 ||
			tb_log "submission $name -> $t failed (see $TB_DIR/swaks.log)"
	done
done < <(tb_profiles)
tb_log "submitted $(( $(tb_profiles | wc -l) * ${#TB_TARGETS[@]} )) messages (run $run)"

# retried: the providers with RETRY quick have a passed greylisting retry
retried() {
	local name retry n
	while read -r name _ _ _ _ retry _; do
		[ "$retry" = quick ] || continue
		n=$(grep -c "\"helo\":\"mail.$name.tb\".*\"verdict\":\"passed\"" "$records" 2>/dev/null)
		[ "${n:-0}" -ge 1 ] || return 1
	done < <(tb_profiles)
}
harness_wait "$wait_max" retried || tb_log "not every retrying provider passed greylisting in ${wait_max}s"
# the other deferred mail (and any late delivery) gets a few more retries
sleep "${TB_SETTLE:-15}"
tb_log "run took $((EPOCHSECONDS - start)) s"
rep=$TB_TOP/contrib/report/smtpscope-report
# one snapshot for every form of the report: the log may still grow
snap=$TB_DIR/records.snapshot.jsonl
cp "$records" "$snap"
python3 "$rep" --testbed "$TB_TARGETS_FILE" -f json "$snap" | jq .testbed >"$TB_DIR/table.json"
python3 "$rep" --testbed "$TB_TARGETS_FILE" -f html -o "$TB_DIR/report.html" "$snap"
python3 "$rep" --testbed "$TB_TARGETS_FILE" "$snap" | sed -n '/== Provider capabilities/,$p'
