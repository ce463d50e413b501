#!/bin/bash
# fault.sh - smtpscope's own faults: a full disk under the record log.
# OnError accept: mail still flows, lost records are counted, the fault is
# logged once per episode; OnError tempfail: the message gets 451.
# Under load on a 1 MiB file system that fills up and frees up again
# (milter load from smtpscope-bench): no torn line in the record log, and
# records written + records lost = records attempted.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
. "$here/harness.sh"
. "$here/scope.sh"

for tool in postfix swaks; do
	command -v "$tool" >/dev/null 2>&1 || tap_skip_all "$tool is not installed"
done
[ "$(id -u)" -eq 0 ] || tap_skip_all "needs root to mount a small tmpfs"
harness_init fault
full=$T/full
mkdir -p "$full"
mount -t tmpfs -o size=16k,mode=0777 tmpfs "$full" || tap_skip_all "cannot mount a tmpfs here"
small=$T/small
unmount_full() { umount "$full" 2>/dev/null; umount "$small" 2>/dev/null; harness_cleanup; }
trap unmount_full EXIT
bench=${top_builddir:-../..}/contrib/bench/smtpscope-bench
tap_plan 21

# fill the file system, leaving the (empty) record log in place
touch "$full/records.jsonl" && chown nobody "$full/records.jsonl"
dd if=/dev/zero of="$full/filler" bs=1k count=64 2>/dev/null
scope_start RecordLog "$full/records.jsonl"
tap_ok $? "smtpscope starts with its record log on a full file system"
pf_start "unix:$SCOPE_SOCK"; tap_ok $? "Postfix starts"
for i in 1 2 3; do
	swaks_to 127.0.0.1 "$PF_PORT" --helo full.case.test --to "f$i@smtpscope.test" >/dev/null
	rc=$?
done
tap_is "$rc" 0 "OnError accept: mail is accepted although no record can be written"
tap_is "$(grep -c 'status=sent' "$PF_LOG")" 3 "OnError accept: all three messages delivered"
scope_stop
tap_is "$(grep -c 'record log: cannot write records: No space left on device' "$SCOPE_DIR/stderr")" 1 \
	"the fault is logged once, not once per record"
tap_ok "$(grep -q 'records_lost=6' "$SCOPE_DIR/stderr"; echo $?)" "the lost records are counted (3 messages + 3 sessions)"

# OnError tempfail: the message is refused with 451 4.3.0
rm -f "$SCOPE_CONF"
scope_start RecordLog "$full/records.jsonl" OnError tempfail
tap_ok $? "smtpscope restarts with OnError tempfail"
swaks_to 127.0.0.1 "$PF_PORT" --helo tempfail.case.test --to t@smtpscope.test >/dev/null
tap_ok "$([ $? -ne 0 ]; echo $?)" "OnError tempfail: swaks sees a failure"
tap_ok "$(grep -q '<\*\* *451 4.3.0' "$T/swaks.log"; echo $?)" "OnError tempfail: the reply is 451 4.3.0"
scope_stop
scope_assert_clean

# stat_of NAME - a counter from the daemon's exit line
stat_of() { sed -n "s/.*stats (exit):.* $1=\([0-9]*\).*/\1/p" "$SCOPE_DIR/stderr" | tail -1; }

# under load: a 1 MiB file system, 400 KiB taken by a filler; the record
# log fills the rest mid-load, the filler goes, more load
mkdir -p "$small"
[ -x "$bench" ] || harness_diag "$bench is not built (make builds it)"
mount -t tmpfs -o size=1m,mode=0777 tmpfs "$small"
tap_ok $? "a 1 MiB tmpfs is mounted"
touch "$small/records.jsonl" && chown nobody "$small/records.jsonl"
dd if=/dev/zero of="$small/filler" bs=1k count=400 2>/dev/null
SCOPE_NAME=load scope_start RecordLog "$small/records.jsonl"
tap_ok $? "smtpscope starts with its record log on a 1 MiB file system"
"$bench" -s "unix:$SCOPE_SOCK" -c 8 -n 1500 -w 0 >"$T/bench1.out" 2>&1
rm -f "$small/filler"
"$bench" -s "unix:$SCOPE_SOCK" -c 8 -n 150 -w 0 >"$T/bench2.out" 2>&1
tap_ok $? "the load after space came back runs"
scope_stop
sessions=$(stat_of sessions); messages=$(stat_of messages)
written=$(stat_of records_written); lost=$(stat_of records_lost)
harness_diag "sessions=$sessions messages=$messages written=$written lost=$lost"
tap_ok "$([ "${lost:-0}" -gt 0 ] && [ "${written:-0}" -gt 0 ]; echo $?)" \
	"the disk filled up mid-load: records were written and lost"
tap_is "$((written + lost))" "$((sessions + messages))" \
	"records written + records lost = records attempted (sessions + messages)"
bad=$(python3 -c '
import json, sys
bad = 0
for line in open(sys.argv[1], "rb"):
    try:
        json.loads(line)
        bad += not line.endswith(b"\n")
    except ValueError:
        bad += 1
print(bad)' "$SCOPE_LOG")
tap_is "$bad" 0 "every line of the record log is valid JSON (no torn, no glued record)"
tap_is "$(wc -l < "$SCOPE_LOG")" "$written" "the record log has one line per record counted written"
# one line when an episode starts, one when it ends. A full tmpfs still
# takes a small record in the free tail of its last page, which ends an
# episode and lets the next failure start another (seen: 2 episodes for
# 2,315 records lost), so count episodes, not lines
starts=$(grep -c 'record log: cannot write records: No space left on device' "$SCOPE_DIR/stderr")
ends=$(grep -c 'record log: writing records again; [0-9]* records lost meanwhile' "$SCOPE_DIR/stderr")
harness_diag "episodes: $starts started, $ends ended"
tap_ok "$([ "$starts" -ge 1 ] && [ "$starts" -le 10 ]; echo $?)" \
	"each episode's start is logged once, not each lost record ($starts lines for ${lost:-0} records lost)"
tap_is "$ends" "$starts" "and its end once records are written again"
tap_is "$(sed -n 's/.*writing records again; \([0-9]*\) records lost meanwhile.*/\1/p' \
	"$SCOPE_DIR/stderr" | awk '{ n += $1 } END { print n + 0 }')" "${lost:-0}" \
	"the records lost per episode add up to records_lost"
scope_assert_clean
tap_done
