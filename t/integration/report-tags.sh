#!/bin/bash
# report-tags.sh - two tagged measurement targets through a real Postfix
# and smtpscope: target-a by recipient (a regular expression), target-b by
# the local port the client reached (a second smtpd service, IPv6 and
# STARTTLS). The records carry the tags, and smtpscope-report's per-tag
# figures match what the test sent. Then the same daemon with client
# addresses pseudonymized (prefix-preserving), names hashed and envelope
# addresses dropped: the records keep none of the real values and name the
# key.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
. "$here/harness.sh"
. "$here/scope.sh"

REPORT=${top_srcdir:-$here/../..}/contrib/report/smtpscope-report
[ "$(id -u)" -eq 0 ] || tap_skip_all "needs root to run a throwaway Postfix"
for tool in postfix swaks jq /usr/bin/python3; do
	command -v "$tool" >/dev/null 2>&1 || tap_skip_all "$tool is not installed"
done
harness_init reporttags
tap_plan 21

PORT_B=$(harness_free_port)
mkdir -p "$T/rules" && chmod 755 "$T/rules"
cat >"$T/rules/tags.conf" <<EOF
# two measurement targets
tag target-a rcpt ~^a[0-9]+@smtpscope\.test\$
tag target-b local 127.0.0.1:$PORT_B
tag target-b local [::1]:$PORT_B
tag loopback6 client ::1
EOF
scope_start TagRules "$T/rules/tags.conf"; tap_ok $? "smtpscope starts with two targets' rules"
pf_start "unix:$SCOPE_SOCK"; tap_ok $? "Postfix starts"
postconf -c "$PF_DIR/etc" -M \
	"127.0.0.1:$PORT_B/inet=127.0.0.1:$PORT_B inet n - n - - smtpd" \
	"[::1]:$PORT_B/inet=[::1]:$PORT_B inet n - n - - smtpd"
pf_age_config
pf_reload; tap_ok $? "a second smtpd service on port $PORT_B"
listens_b() { ss -Hltn | grep -q "\[::1\]:$PORT_B "; }
harness_wait "$HARNESS_READY" listens_b

ok=0
for i in 1 2 3; do
	swaks_to 127.0.0.1 "$PF_PORT" --helo a.case.test --to "a$i@smtpscope.test" >/dev/null && ok=$((ok + 1))
done
for i in 1 2; do
	swaks_to ::1 "$PORT_B" --helo b.case.test --to "b$i@smtpscope.test" --tls >/dev/null && ok=$((ok + 1))
done
tap_is "$ok" 5 "three messages to target-a, two to target-b (IPv6, STARTTLS)"
scope_wait 10 15; tap_ok $? "ten records written"
scope_stop

tags() { jq -r -s "[.[] | select(.event==\"message\" and .envelope.rcpt[0]==\"$1\")][0].tags | join(\",\")" "$SCOPE_LOG"; }
tap_is "$(tags a1@smtpscope.test)" target-a "record: a1 tagged target-a"
tap_is "$(tags b1@smtpscope.test)" target-b,loopback6 "record: b1 tagged target-b (port) and loopback6 (client)"
tap_is "$(jq -r -s '[.[] | select(.event=="session" and (.tags | index("target-b")))] | length' "$SCOPE_LOG")" 2 \
	"session records carry the tags too"

out=$("$REPORT" --format json "$SCOPE_LOG")
tap_is "$?" 0 "smtpscope-report reads the record log"
r() { echo "$out" | jq -r "$1"; }
tap_is "$(r '.groups["*"].messages')" 5 "report: 5 messages overall"
tap_is "$(r '.groups["target-a"].messages')/$(r '.groups["target-a"].ipv6.share')/$(r '.groups["target-a"].tls.share')" \
	3/0/0 "report, target-a: 3 messages, no IPv6, no TLS"
tap_is "$(r '.groups["target-b"].messages')/$(r '.groups["target-b"].ipv6.share')/$(r '.groups["target-b"].tls.share')" \
	2/1/1 "report, target-b: 2 messages, all IPv6, all TLS"
tap_is "$("$REPORT" --format json --tag target-b "$SCOPE_LOG" | jq -r '.groups["*"].messages')" 2 \
	"report --tag target-b: 2 messages"
"$REPORT" --format html "$SCOPE_LOG" >"$T/report.html"
tap_ok "$(grep -q '<svg' "$T/report.html" && ! grep -qE '(src|href)="https?:' "$T/report.html"; echo $?)" \
	"HTML report: inline SVG, no external assets"
tap_ok "$(grep -q 'target-b' "$T/report.html"; echo $?)" "HTML report names the targets"

# pseudonymization in the running daemon
head -c 32 /dev/urandom >"$T/rules/key" && chmod 600 "$T/rules/key"
scope_start TagRules "$T/rules/tags.conf" PseudonymizeClientAddress prefix \
	PseudonymizeNames hmac PseudonymizeAddresses drop PseudonymizeKeyFile "$T/rules/key"
tap_ok $? "smtpscope starts with pseudonymization (key read as root)"
nrec=$(wc -l <"$SCOPE_LOG")
swaks_to 127.0.0.1 "$PF_PORT" --helo secret-helo.case.test --to a9@smtpscope.test >/dev/null
scope_wait $((nrec + 2)) 15
scope_stop
last=$(tail -2 "$SCOPE_LOG" | jq -c 'del(.server)')	# the server is ours: kept
tap_ok "$(echo "$last" | grep -qE '127\.0\.0\.1|secret-helo|a9@smtpscope|sender@example' ; [ $? -ne 0 ]; echo $?)" \
	"no real client address, HELO or envelope address in the records"
m=$(echo "$last" | head -1)
tap_is "$(echo "$m" | jq -r '.client.ip | test("^[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+$")')" true \
	"client address still an IPv4 address (prefix-preserving)"
tap_is "$(echo "$m" | jq -r '.envelope.from')/$(echo "$m" | jq -r '.client.helo | startswith("h:")')" null/true \
	"envelope address dropped, HELO hashed"
tap_is "$(echo "$m" | jq -r '.pseudonym_key | length')" 16 "the record names the key (16 hex digits)"
tap_is "$(echo "$m" | jq -r '.tags | join(",")')" target-a "tags still computed from the real recipient"
tap_done
