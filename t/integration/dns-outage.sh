#!/bin/bash
# dns-outage.sh - a resolver outage through the real Postfix: smtpscope's
# only name server is the DNS lab's black hole (takes queries, never
# answers), with the default DNSTimeout (5 s), DNSDownAfter (3) and
# DNSDownWindow (30 s). Twenty messages in a row from the client namespace:
# all accepted, every record present with iprev and SPF temperror; the
# first messages pay one DNSTimeout at most (iprev and SPF share it), then
# the resolver is considered down (logged once) and the rest pass at once,
# their lookups listed as skipped with the reason "resolver down". Before
# the outage handling this cost two timeouts per message (about 200 s).
# Prints the wall time and the per-message delays as diagnostics.
set -u
here=$(cd "$(dirname "$0")" && pwd)
for lib in tap harness scope dnslab; do . "$here/$lib.sh"; done

N=${DNS_OUTAGE_MESSAGES:-20}
TIMEOUT_MS=5000		# DNSTimeout's default, not set in the configuration

dnslab_available || tap_skip_all "DNS lab tools missing, or not root"
command -v postfix swaks jq >/dev/null 2>&1 || tap_skip_all "needs postfix, swaks and jq"
harness_init dnsoutage
tap_plan 12
dnslab_start; tap_ok $? "DNS lab with its black hole starts"
dnslab_client_ns; tap_ok $? "client namespace with 198.51.100.10"
scope_start Nameservers "$DNSLAB_BLACKHOLE" SPF yes IPrev yes
tap_ok $? "smtpscope starts with the black hole as its only resolver"
dnslab_postfix_listen
pf_start "unix:$SCOPE_SOCK"; tap_ok $? "Postfix listens on the veth address too"

failed=0 delays=''
t0=$(date +%s%N)
for i in $(seq 1 "$N"); do
	s=$(date +%s%N)
	dnslab_swaks 198.51.100.10 --helo client.sec.test --from a@sec.test \
		--to "o$i@smtpscope.test" >/dev/null || failed=$((failed + 1))
	delays="$delays $((($(date +%s%N) - s) / 1000000))"
done
wall=$((($(date +%s%N) - t0) / 1000000))
scope_wait $((2 * N)) 60
tap_is "$failed" 0 "$N messages in a row: all accepted"
harness_diag "wall time for $N messages: $wall ms; per message (ms):$delays"

msgs() { scope_jq "map(select(.event==\"message\" and (.envelope.rcpt[0] // \"\" | startswith(\"o\"))))$1"; }
tap_is "$(msgs ' | length')" "$N" "a record for every message"
tap_is "$(msgs ' | map(.auth.iprev.result + "/" + .auth.spf.mailfrom.result) | unique | join(",")' | tr -d '"')" \
	temperror/temperror "every record: iprev and SPF temperror"
# SMTP itself takes well under a second a message here; DNS may add less
# than 3 timeouts in all (the main branch: 2 timeouts for every message)
tap_ok "$([ "$wall" -lt $((3 * TIMEOUT_MS + N * 1000)) ]; echo $?)" \
	"$N messages: less than 3 DNSTimeouts + 1 s a message ($wall ms)"
slow=$(echo $delays | tr ' ' '\n' | awk -v t=$((TIMEOUT_MS / 2)) '$1 >= t { n++ } END { print n + 0 }')
tap_ok "$([ "$slow" -le 2 ]; echo $?)" \
	"at most 2 messages waited for a timeout ($slow)"
skipped=$(msgs ' | map(select(.dns != [] and (.dns | all(.dnssec == "skipped" and .reason == "resolver down")))) | length')
tap_ok "$([ "$skipped" -ge $((N - 3)) ]; echo $?)" \
	"messages after the outage was noticed: lookups skipped, reason resolver down ($skipped of $N)"
tap_is "$(grep -c "resolver $DNSLAB_BLACKHOLE considered down after 3 timeouts" "$SCOPE_DIR/stderr")" 1 \
	"the outage is logged once"
scope_stop
scope_assert_clean
tap_done
