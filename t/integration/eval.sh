#!/bin/bash
# eval.sh - smtpscope-eval on zone files: the same pipeline as the milter,
# deterministic DNS, records on standard output.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
command -v jq >/dev/null 2>&1 || tap_skip_all "jq is not installed"
EVAL=${top_builddir:-../..}/eval/smtpscope-eval
data=${top_srcdir:-$here/../..}/t/data/eval
tap_plan 16

run() { "$EVAL" --zone "$data/example.zone" "$@" "$data/msg.eml"; }
out=$(run --client-ip 192.0.2.25 --helo mail.example.test --mail-from alice@example.test \
	--rcpt bob@smtpscope.test --zone-sec example.test=secure)
tap_is "$?" 0 "eval exits 0"
tap_is "$(echo "$out" | wc -l)" 2 "a message record and a session record"
msg=$(echo "$out" | head -1)
f() { echo "$msg" | jq -r "$1"; }
tap_is "$(f .event)/$(f .session)" "message/$(echo "$out" | tail -1 | jq -r .session)" \
	"the records share a session id"
tap_is "$(f .auth.spf.mailfrom.result)/$(f .auth.spf.mailfrom.dnssec)" pass/secure "MAIL FROM pass, secure zone"
tap_is "$(f .auth.spf.helo.result)" pass "HELO identity pass (a mechanism)"
tap_is "$(f .auth.iprev.result)" pass "iprev pass"
tap_is "$(f .message.id)" "<eval-1@example.test>" "the message file's Message-ID"
tap_is "$(f '.envelope.rcpt[0]')" bob@smtpscope.test "the envelope from the command line"

msg=$(run --client-ip 2001:db8::25 --helo mail.example.test --mail-from alice@example.test | head -1)
tap_is "$(f .auth.spf.mailfrom.result)/$(f .client.family)" pass/ipv6 "IPv6 client passes through include:"
msg=$(run --client-ip 198.51.100.7 --helo mail.example.test --mail-from alice@example.test | head -1)
tap_is "$(f .auth.spf.mailfrom.result)/$(f .auth.spf.mailfrom.mechanism)" "fail/-all" "other client: fail by -all"
tap_is "$(f .auth.iprev.result)" permerror "no PTR: iprev permerror"
msg=$(run --client-ip 198.51.100.7 --mail-from x@soft.example.test | head -1)
tap_is "$(f .auth.spf.mailfrom.result)" softfail "softfail"
msg=$(run --client-ip 198.51.100.7 --mail-from x@slowref.example.test --timeout-name slow.other.test \
	--dns-timeout 300 | head -1)
tap_is "$(f .auth.spf.mailfrom.result)" temperror "a name that never answers: temperror"
msg=$(run --client-ip 192.0.2.25 --mail-from x@example.test --zone-sec example.test=bogus | head -1)
tap_is "$(f .auth.spf.mailfrom.result)/$(f .auth.spf.mailfrom.dnssec)" temperror/bogus "bogus zone: temperror"
msg=$(run --client-ip 192.0.2.25 --tls-version TLSv1.3 --cipher TLS_AES_128_GCM_SHA256 --cipher-bits 128 \
	--mail-from x@example.test | head -1)
tap_is "$(f .tls.version)/$(f .tls.bits)" TLSv1.3/128 "TLS facts from the command line"
"$EVAL" --helo x >/dev/null 2>&1
tap_is "$?" 64 "missing --client-ip is a usage error"
tap_done
