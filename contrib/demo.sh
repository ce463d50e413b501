#!/bin/bash
# demo.sh - the main job, end to end, on a fresh Debian 12 machine as root:
# install packages, build smtpscope, start a throwaway Postfix on loopback
# with smtpscope attached, send a few sessions (IPv4, IPv6, plain, STARTTLS,
# a client certificate, a client that quits after EHLO, and clients from a
# network namespace whose SPF, iprev, DKIM (RSA and Ed25519 signatures made
# here) and DMARC are checked against a local DNS with a signed and a broken
# zone; greylisting in observe mode, and enforced for one tagged recipient),
# print the records, the Authentication-Results headers, the greylisting
# statistics and smtpscope-report's summary, and stop everything. Nothing outside a temporary folder is changed, and no traffic
# leaves 127.0.0.1/::1 and the demo's own network namespace.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
contrib/install-deps.sh || exit 1
if [ ! -f build-demo/Makefile ]; then
	{ autoreconf -fi >/dev/null 2>&1 && mkdir -p build-demo &&
		(cd build-demo && "$top/configure" -q); } || { echo "configure failed"; exit 1; }
fi
{ make -s -C build-demo -j2 >/dev/null && make -s -C build-demo/t tools/dkimsign >/dev/null; } ||
	{ echo "build failed"; exit 1; }
SIGN=$top/build-demo/t/tools/dkimsign
export top_builddir=$top/build-demo
. "$top/t/integration/tap.sh"
. "$top/t/integration/harness.sh"
. "$top/t/integration/scope.sh"
. "$top/t/integration/dnslab.sh"

harness_init demo
harness_pki "$T/pki" >/dev/null || exit 1
dnslab_start || exit 1
dnslab_client_ns || exit 1
mkdir -p "$T/rules" && chmod 755 "$T/rules"
cat >"$T/rules/tags.conf" <<EOF
# the demo's measurement targets
tag loopback client 127.0.0.0/8
tag loopback client ::1
tag lab      client 198.51.100.0/24
tag grey     rcpt   grey@smtpscope.test
greylist grey enforce
EOF
scope_start Nameservers "$DNSLAB_RESOLVER" SPF yes IPrev yes DKIM yes DMARC yes \
	AuthservID mx.smtpscope.test DNSTimeout 2000 TagRules "$T/rules/tags.conf" \
	Greylist observe GreylistDelay 2 GreylistStore "lmdb:$T/scope/greylist.lmdb" || exit 1
dnslab_postfix_listen
pf_start "unix:$SCOPE_SOCK" || exit 1
echo "Postfix listens on 127.0.0.1:$PF_PORT, [::1]:$PF_PORT and 198.51.100.1:$PF_PORT;"
echo "smtpscope on $SCOPE_SOCK asks the validating resolver $DNSLAB_RESOLVER"

send() { echo "--- $1"; shift; swaks_to "$@" >/dev/null; echo "    swaks exit $?"; }
send "IPv4, plain" 127.0.0.1 "$PF_PORT" --helo client4.example.org
send "IPv6, plain" ::1 "$PF_PORT" --helo client6.example.org
send "IPv4, STARTTLS TLS 1.2" 127.0.0.1 "$PF_PORT" --helo tls12.example.org --tls --tls-protocol tlsv1_2
send "IPv6, STARTTLS TLS 1.3 with a client certificate" ::1 "$PF_PORT" --helo cert.example.org \
	--tls --tls-cert "$PKI_DIR/client.crt" --tls-key "$PKI_DIR/client.key"
send "IPv4, quits after EHLO" 127.0.0.1 "$PF_PORT" --helo quitter.example.org --quit-after EHLO
echo "--- 198.51.100.10, sender in a DNSSEC-signed zone"
dnslab_swaks 198.51.100.10 --helo client.sec.test --from alice@sec.test >/dev/null
echo "--- 198.51.100.11 (PTR does not lead back), sender in a zone with broken signatures"
dnslab_swaks 198.51.100.11 --helo forged.insec.test --from mallory@bogus.test >/dev/null
# letter FROM - a short message from FROM
letter() { printf 'From: <%s>\nTo: <rcpt@smtpscope.test>\nSubject: demo\nDate: %s\n\nHello.\n' "$1" "$(date -R)"; }
echo "--- 198.51.100.10, signed with RSA and Ed25519 (sec.test), DMARC p=reject"
letter alice@sec.test | "$SIGN" -d sec.test -s sel1 -k "$DNSLAB_DKIM_KEY" -a rsa-sha256 |
	"$SIGN" -d sec.test -s ed1 -k "$DNSLAB_DKIM_ED_KEY" -a ed25519-sha256 >"$T/signed.eml"
dnslab_swaks 198.51.100.10 --helo client.sec.test --from alice@sec.test --data "@$T/signed.eml" >/dev/null
echo "--- the same message with its body changed, MAIL FROM another domain: DMARC fails"
sed 's/^Hello\./Hello!/' "$T/signed.eml" >"$T/tampered.eml"
dnslab_swaks 198.51.100.10 --helo client.sec.test --from mallory@insec.test --data "@$T/tampered.eml" >/dev/null
echo "--- greylisting enforced for grey@smtpscope.test: first attempt, then a retry after 2 s"
send "first attempt (451 4.7.1 expected, so swaks exits non-zero)" 127.0.0.1 "$PF_PORT" \
	--helo grey.example.org --to grey@smtpscope.test
sleep 2.2
send "retry after the delay" 127.0.0.1 "$PF_PORT" --helo grey.example.org --to grey@smtpscope.test
scope_wait 21 15
scope_stop

echo
echo "=== greylisting state (smtpscope-greylist stats):"
"$top/build-demo/admin/smtpscope-greylist" -c "$SCOPE_CONF" stats
echo
echo "=== smtpscope-report over the record log (text; --format html for charts):"
"$top/contrib/report/smtpscope-report" "$SCOPE_LOG" | head -60
echo
echo "=== the record log ($SCOPE_LOG), one JSON object per line:"
cat "$SCOPE_LOG"
echo
echo "=== the same, summarised with jq:"
echo "event	family	client	helo	tls	peer	queue_id	action	spf(mailfrom)	iprev	dkim	dmarc	tags	greylist"
jq -r '[.event, .client.family, .client.ip, .client.helo, (.tls.version // "plain"),
	(.tls.peer.subject // "-"), (.queue_id // "-"), (.disposition.action // "-"),
	(if .auth.spf then "\(.auth.spf.mailfrom.result)/\(.auth.spf.mailfrom.dnssec)" else "-" end),
	(if .auth.iprev then "\(.auth.iprev.result)/\(.auth.iprev.dnssec)" else "-" end),
	(if .auth.dkim then ([.auth.dkim[] | "\(.result)(\(.a))"] | join(",") | if . == "" then "none" else . end) else "-" end),
	(if .auth.dmarc then "\(.auth.dmarc.result)/\(.auth.dmarc.disposition)" else "-" end),
	(.tags | join(",") | if . == "" then "-" else . end),
	(if .greylist then ([.greylist.rcpt[] | "\(.mode):\(.verdict)"] | join(",") | if . == "" then "-" else . end) else "-" end)] | @tsv' "$SCOPE_LOG"
echo
echo "=== the Authentication-Results headers smtpscope added:"
jq -r 'select(.event == "message" and .authentication_results.value != null) |
	"Authentication-Results: \(.authentication_results.value)"' "$SCOPE_LOG"
