#!/bin/bash
# fault.sh - smtpscope's own faults: a full disk under the record log.
# OnError accept: mail still flows, lost records are counted, the fault is
# logged once (rate-limited); OnError tempfail: the message gets 451.
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
unmount_full() { umount "$full" 2>/dev/null; harness_cleanup; }
trap unmount_full EXIT
tap_plan 10

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
tap_is "$(grep -c 'internal fault: writing a record' "$SCOPE_DIR/stderr")" 1 \
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
tap_done
