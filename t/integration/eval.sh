#!/bin/bash
# eval.sh - smtpscope-eval on zone files: the same pipeline as the milter,
# deterministic DNS, records on standard output.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
command -v jq >/dev/null 2>&1 || tap_skip_all "jq is not installed"
EVAL=${top_builddir:-../..}/eval/smtpscope-eval
data=${top_srcdir:-$here/../..}/t/data/eval
SIGN=${top_builddir:-../..}/t/tools/dkimsign
tap_plan 47

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
msg=$(run --client-ip 198.51.100.7 --mail-from joel@peruser.example.test | head -1)
tap_is "$(f .auth.spf.mailfrom.result)/$(f .auth.spf.mailfrom.mechanism)" "pass/exists:%{l1r+}.u.%{d}" \
	"%{l1r+} of joel asks joel.u.peruser.example.test: pass"
msg=$(run --client-ip 198.51.100.7 --mail-from someuser@peruser.example.test | head -1)
tap_is "$(f .auth.spf.mailfrom.result)" pass "%{l1r+-} of someuser: pass"
msg=$(run --client-ip 198.51.100.7 --mail-from other@peruser.example.test | head -1)
tap_is "$(f .auth.spf.mailfrom.result)" fail "a user without a name: fail"
"$EVAL" --helo x >/dev/null 2>&1
tap_is "$?" 64 "missing --client-ip is a usage error"
bad=0
for v in 5x "" -1 99 60001 " 300"; do
	"$EVAL" --client-ip 192.0.2.1 --dns-timeout "$v" </dev/null >/dev/null 2>&1
	[ $? -eq 64 ] || bad=$((bad + 1))
done
tap_is "$bad" 0 "--dns-timeout must be a number of ms from 100 to 60000 (5x, empty, -1, 99, 60001, ' 300': usage error 64)"

# DKIM and DMARC: msg.eml signed here with fresh RSA and Ed25519 keys,
# the keys and a DMARC record in a zone file of their own
tmp=$(mktemp -d) && trap 'rm -rf -- "$tmp"' EXIT
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/rsa.key" 2>/dev/null
openssl genpkey -algorithm ED25519 -out "$tmp/ed.key" 2>/dev/null
rsa=$(openssl pkey -in "$tmp/rsa.key" -pubout -outform DER 2>/dev/null | base64 -w0)
ed=$(openssl pkey -in "$tmp/ed.key" -pubout -outform DER 2>/dev/null | tail -c 32 | base64 -w0)
{
	echo "sel1._domainkey.example.test. 300 IN TXT \"v=DKIM1; k=rsa; p=${rsa:0:200}\" \"${rsa:200}\""
	echo "ed1._domainkey.example.test. 300 IN TXT \"v=DKIM1; k=ed25519; p=$ed\""
	echo "_dmarc.example.test. 300 IN TXT \"v=DMARC1; p=reject\""
	# the same RSA key as a bare PKCS#1 RSAPublicKey, and a truncated one
	p1=$(openssl rsa -in "$tmp/rsa.key" -RSAPublicKey_out -outform DER 2>/dev/null | base64 -w0)
	bad=$(openssl rsa -in "$tmp/rsa.key" -RSAPublicKey_out -outform DER 2>/dev/null | head -c -9 | base64 -w0)
	echo "pk1._domainkey.example.test. 300 IN TXT \"v=DKIM1; k=rsa; p=${p1:0:200}\" \"${p1:200}\""
	echo "pkbad._domainkey.example.test. 300 IN TXT \"v=DKIM1; k=rsa; p=${bad:0:200}\" \"${bad:200}\""
} >"$tmp/keys.zone"
"$SIGN" -d example.test -s sel1 -k "$tmp/rsa.key" -a rsa-sha256 <"$data/msg.eml" |
	"$SIGN" -d example.test -s ed1 -k "$tmp/ed.key" -a ed25519-sha256 >"$tmp/signed.eml"
tap_is "$?" 0 "msg.eml signed with RSA and Ed25519"
records() { "$EVAL" --zone "$data/example.zone" --zone "$tmp/keys.zone" --zone-sec example.test=secure \
	--client-ip 192.0.2.25 --helo mail.example.test --mail-from alice@example.test \
	--authserv-id mx.eval.test "$@"; }
dkim() { records "$@" | head -1; }
msg=$(dkim "$tmp/signed.eml")
tap_is "$(f '[.auth.dkim[] | .result + "/" + .key_type + "/" + .dnssec] | join(",")')" \
	pass/ed25519/secure,pass/rsa/secure "both signatures pass, keys secure"
tap_is "$(f .auth.dmarc.result)/$(f .auth.dmarc.dkim_aligned)/$(f .auth.dmarc.p)" pass/true/reject "DMARC pass, DKIM aligned"
tap_is "$(f .authentication_results.value | head -1)" "mx.eval.test;" "A-R starts with --authserv-id"
tap_is "$(f .authentication_results.value | grep -c '^	dkim=pass header.d=example.test')" 2 "A-R: one dkim=pass per signature"
"$SIGN" -d example.test -s pk1 -k "$tmp/rsa.key" <"$data/msg.eml" |
	"$SIGN" -d example.test -s pkbad -k "$tmp/rsa.key" >"$tmp/pkcs1.eml"
tap_is "$?" 0 "msg.eml signed for the PKCS#1 keys"
msg=$(dkim "$tmp/pkcs1.eml")
tap_is "$(f '[.auth.dkim[] | .s + "/" + .result + "/" + (.key_encoding // "-")] | join(",")')" \
	pkbad/permerror/-,pk1/pass/pkcs1 "a PKCS#1 key passes (key_encoding pkcs1); a truncated one: permerror"
msg=$(dkim "$tmp/signed.eml")
tap_is "$(f '[.auth.dkim[] | .key_encoding] | join(",")')" raw,spki "key_encoding of the Ed25519 and SPKI keys"
sed 's/^Subject: .*/Subject: changed/' "$tmp/signed.eml" |
	sed '1i Authentication-Results: MX.EVAL.TEST; dkim=pass' >"$tmp/forged.eml"
msg=$(dkim "$tmp/forged.eml")
tap_is "$(f '[.auth.dkim[].result] | join(",")')/$(f .auth.dmarc.result)" fail,fail/pass \
	"a changed signed header: both fail; DMARC still passes on aligned SPF"
tap_is "$(f .authentication_results.forged)/$(f .authentication_results.removed)" 1/1 "a forged A-R header would be removed"
"$EVAL" --client-ip 192.0.2.25 --zone "$data/example.zone" --public-suffix-list /nonexistent "$data/msg.eml" >/dev/null 2>&1
tap_is "$?" 78 "an unreadable public suffix list: exit 78"

# --time: evaluate as of a moment, as archived mail would have been. A
# signature made 2000 s ago (t=) that expired 1000 s later (x=), both
# beyond libopendkim's 300 s allowance for clock drift.
t0=$(($(date +%s) - 2000))
"$SIGN" -d example.test -s sel1 -k "$tmp/rsa.key" -t "$t0" -x 1000 <"$data/msg.eml" >"$tmp/expired.eml"
sig() { f '[.auth.dkim[] | .result + "/" + .reason] | join(",")'; }
utc() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%S.000000Z; }
msg=$(dkim "$tmp/expired.eml")
tap_is "$(sig)" "permerror/signature expired" "without --time, x= in the past: permerror, signature expired"
out=$(records --time $((t0 + 10)) "$tmp/expired.eml")
msg=$(echo "$out" | head -1)
tap_is "$(sig)/$(f .auth.dmarc.result)" "pass//pass" "--time (Unix seconds) before x=: the signature passes"
tap_is "$(echo "$out" | jq -r '.event + " " + .ts + " " + .start' | tr '\n' ' ')" \
	"message $(utc $((t0 + 10))) $(utc $((t0 + 10))) session $(utc $((t0 + 10))) $(utc $((t0 + 10))) " \
	"--time: both records' ts and start are that moment"
msg=$(dkim --time "$(date -u -d "@$((t0 + 3610))" +%Y-%m-%dT%H:%M:%S.25+01:00)" "$tmp/expired.eml")
tap_is "$(sig)/$(f .ts)" "pass//$(utc $((t0 + 10)) | sed 's/\.000000Z/.250000Z/')" \
	"--time in RFC 3339 with an offset and a fraction: the same moment"
"$SIGN" -d example.test -s sel1 -k "$tmp/rsa.key" -t $((t0 + 1900)) -x 1100 <"$data/msg.eml" >"$tmp/fresh.eml"
msg=$(dkim --time $((t0 + 3400)) "$tmp/fresh.eml")
tap_is "$(sig)" "permerror/signature expired" \
	"--time past x= (and the drift) of a signature valid now: expired"
msg=$(dkim --time $((t0 - 1000)) "$tmp/expired.eml")
tap_is "$(sig)" "permerror/signature timestamp in the future" \
	"--time before t= (RFC 6376 3.5 lets verifiers reject it): permerror, t= in the future"
{
	echo 'timed.example.test. 300 IN TXT "v=spf1 -all exp=why.example.test"'
	echo 'why.example.test. 300 IN TXT "checked at %{t}"'
} >"$tmp/spf.zone"
msg=$("$EVAL" --zone "$data/example.zone" --zone "$tmp/spf.zone" --client-ip 192.0.2.25 \
	--mail-from x@timed.example.test --time 1795905723 "$data/msg.eml" | head -1)
tap_is "$(f .auth.spf.mailfrom.result)/$(f .auth.spf.mailfrom.explanation)" "fail/checked at 1795905723" \
	"--time reaches SPF's %{t} macro in exp="
for bad in now 2026-02-30T00:00:00Z 2026-11-28T22:42:03 "2026-11-28 22:42:03Z" 2026-11-28T24:00:00Z \
	2026-11-28T22:42:03+24:00 0 -5 253402300800; do
	err=$("$EVAL" --client-ip 192.0.2.25 --time "$bad" "$data/msg.eml" 2>&1 >/dev/null)
	tap_is "$?/$(echo "$err" | head -1 | cut -c1-24)" "64/smtpscope-eval: --time: " "--time '$bad': usage error 64"
done
tap_done
