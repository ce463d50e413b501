#!/bin/bash
# auth-dns.sh - SPF and iprev through real DNS: a signed, an unsigned, a
# bogus and an expired zone behind a validating unbound (dnslab.sh), a real
# Postfix with smtpscope, and swaks clients from their own network namespace
# (198.51.100.10-12, 2001:db8:100::10-12). Checks every result and DNSSEC
# status in the records, and that a DNS server that never answers yields
# temperror within DNSTimeout while the mail is still accepted.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
. "$here/harness.sh"
. "$here/scope.sh"
. "$here/dnslab.sh"

[ "$(id -u)" -eq 0 ] || tap_skip_all "needs root for namespaces and Postfix"
for tool in postfix swaks jq; do
	command -v "$tool" >/dev/null 2>&1 || tap_skip_all "$tool is not installed"
done
dnslab_available || tap_skip_all "DNS lab tools missing"
harness_init authdns
tap_plan 41
dnslab_start; tap_ok $? "DNS lab (nsd + validating unbound) starts"
dnslab_client_ns; tap_ok $? "client namespace with 198.51.100.10-12"
scope_start Nameservers "$DNSLAB_RESOLVER" SPF yes IPrev yes DNSTimeout 2000
tap_ok $? "smtpscope starts with the lab resolver"
dnslab_postfix_listen
pf_start "unix:$SCOPE_SOCK"; tap_ok $? "Postfix listens on the veth address too"

nrec=0
# send SRC HELO FROM TO: one message through Postfix from the namespace
send() {
	dnslab_swaks "$1" --helo "$2" --from "$3" --to "$4" >/dev/null
	local rc=$?
	nrec=$((nrec + 2))
	scope_wait "$nrec" 15
	return $rc
}
# m TO FIELD: a field of the message record for a recipient
m() { scope_jq "map(select(.event==\"message\" and .envelope.rcpt[0]==\"$1\")) | .[0].$2" | tr -d '"'; }
spf() { echo "$(m "$1" "auth.spf.$2.result")/$(m "$1" "auth.spf.$2.dnssec")"; }

send 198.51.100.10 client.sec.test a@sec.test t1@smtpscope.test
tap_ok $? "signed zone: message accepted"
tap_is "$(spf t1@smtpscope.test mailfrom)" pass/secure "signed zone: SPF pass, secure"
tap_is "$(m t1@smtpscope.test auth.spf.mailfrom.mechanism)" "ip4:198.51.100.0/24" "the matching mechanism"
tap_is "$(spf t1@smtpscope.test helo)" pass/secure "HELO identity evaluated separately: pass"
tap_is "$(m t1@smtpscope.test auth.iprev.result)/$(m t1@smtpscope.test auth.iprev.dnssec)" pass/secure \
	"iprev: PTR and A agree, secure"
tap_is "$(m t1@smtpscope.test 'auth.iprev.matched')" client.sec.test. "iprev: the matching name"
tap_ok "$([ "$(m t1@smtpscope.test dns_total)" -ge 2 ]; echo $?)" "the message's lookups are listed"
tap_is "$(m t1@smtpscope.test 'dns[0].q')/$(m t1@smtpscope.test 'dns[0].type')/$(m t1@smtpscope.test 'dns[0].dnssec')" \
	"sec.test/TXT/secure" "the first lookup is the SPF record, secure"

send 198.51.100.10 client.sec.test a@insec.test t2@smtpscope.test
tap_is "$(spf t2@smtpscope.test mailfrom)" pass/insecure "unsigned zone: SPF pass, insecure"
send 198.51.100.10 client.sec.test a@bogus.test t3@smtpscope.test
tap_ok $? "bogus zone: message still accepted"
tap_is "$(spf t3@smtpscope.test mailfrom)" temperror/bogus "bogus zone: SPF temperror, bogus"
send 198.51.100.10 client.sec.test a@expired.test t4@smtpscope.test
tap_is "$(spf t4@smtpscope.test mailfrom)" temperror/bogus "expired signatures: temperror, bogus"
send 198.51.100.10 client.sec.test a@fail.sec.test t5@smtpscope.test
tap_ok $? "SPF fail is observed, not enforced: message accepted"
tap_is "$(spf t5@smtpscope.test mailfrom)" fail/secure "-all: fail"
send 198.51.100.10 client.sec.test a@soft.sec.test t6@smtpscope.test
tap_is "$(m t6@smtpscope.test auth.spf.mailfrom.result)" softfail "~all: softfail"
send 198.51.100.10 client.sec.test a@neutral.sec.test t7@smtpscope.test
tap_is "$(m t7@smtpscope.test auth.spf.mailfrom.result)" neutral "?all: neutral"
send 198.51.100.10 client.sec.test a@none.sec.test t8@smtpscope.test
tap_is "$(m t8@smtpscope.test auth.spf.mailfrom.result)" none "no SPF record: none"
send 198.51.100.10 client.sec.test a@twospf.sec.test t9@smtpscope.test
tap_is "$(m t9@smtpscope.test auth.spf.mailfrom.result)" permerror "two SPF records: permerror"
send 198.51.100.10 client.sec.test a@loop.sec.test t10@smtpscope.test
tap_is "$(m t10@smtpscope.test auth.spf.mailfrom.result)" permerror "include loop: permerror"
send 198.51.100.10 client.sec.test a@incl.sec.test t11@smtpscope.test
tap_is "$(m t11@smtpscope.test auth.spf.mailfrom.result)" pass "include: pass"
send 198.51.100.10 client.sec.test "<>" t12@smtpscope.test
tap_is "$(m t12@smtpscope.test auth.spf.mailfrom.identity)" postmaster@client.sec.test \
	"null sender: postmaster@HELO"
tap_is "$(m t12@smtpscope.test auth.spf.mailfrom.result)" pass "null sender: the HELO name's policy applies"

send 198.51.100.11 forged.insec.test a@sec.test t13@smtpscope.test
tap_is "$(m t13@smtpscope.test auth.iprev.result)" fail "iprev: PTR name without the address: fail"
send 198.51.100.12 gone.insec.test a@sec.test t14@smtpscope.test
tap_is "$(m t14@smtpscope.test auth.iprev.result)" permerror "iprev: no PTR: permerror"
tap_is "$(m t14@smtpscope.test auth.spf.helo.result)" none "HELO name that does not exist: none"

send 2001:db8:100::10 client6.sec.test a@sec.test t15@smtpscope.test
tap_is "$(m t15@smtpscope.test client.family)" ipv6 "IPv6 client from the namespace"
tap_is "$(spf t15@smtpscope.test mailfrom)" pass/secure "IPv6: SPF pass via ip6:, secure"
tap_is "$(m t15@smtpscope.test auth.iprev.result)" pass "IPv6: iprev pass"

# a name under a server that never answers: temperror within DNSTimeout
send 198.51.100.10 client.sec.test a@timeout.insec.test t16@smtpscope.test
tap_ok $? "DNS timeout: message still accepted"
tap_is "$(spf t16@smtpscope.test mailfrom)" temperror/timeout "DNS timeout: temperror, timeout"
# the message's lookups (its dns[] with their times) waited one DNSTimeout
# in all: the one that timed out took about 2 s, all of them together
# less than 2 s + slack (iprev, SPF, DMARC share one budget per message)
waits=$(scope_jq 'map(select(.event == "message" and .envelope.rcpt[0] == "t16@smtpscope.test")) |
	.[0].dns | [([.[] | select(.dnssec == "timeout") | .ms] | max // 0), ([.[].ms] | add // 0)] | join(" ")' | tr -d '"')
tap_ok "$(echo "$waits" | awk '{ exit !($1 >= 1900 && $2 < 2600) }'; echo $?)" \
	"DNS timeout: the timed-out lookup waited DNSTimeout (2 s), the message's lookups less than 2.6 s in all (ms: $waits)"

# the session records carry iprev and their own lookups
tap_is "$(scope_jq 'map(select(.event=="session" and .client.ip=="198.51.100.11")) | .[0].auth.iprev.result' | tr -d '"')" \
	fail "session record: iprev"
tap_is "$(scope_jq 'map(select(.event=="session" and .client.ip=="198.51.100.11")) | .[0].dns[0].type' | tr -d '"')" \
	PTR "session record: its PTR lookup"
tap_is "$(jq -c . "$SCOPE_LOG" >/dev/null 2>&1; echo $?)" 0 "every record is valid JSON"

# every lookup went to the lab: a resolver that never answers makes all temperror
scope_stop
rm -f "$SCOPE_CONF"
scope_start Nameservers "$DNSLAB_BLACKHOLE" SPF yes IPrev yes DNSTimeout 500
before=$(wc -l < "$SCOPE_LOG")
nrec=$before
send 198.51.100.10 client.sec.test a@sec.test t17@smtpscope.test
tap_ok $? "silent resolver: message accepted"
tap_is "$(m t17@smtpscope.test auth.spf.mailfrom.result)/$(m t17@smtpscope.test auth.iprev.result)" \
	temperror/temperror "silent resolver: SPF and iprev temperror"
scope_stop
scope_assert_clean
tap_done
