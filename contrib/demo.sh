#!/bin/bash
# demo.sh - the main job, end to end, on a fresh Debian 12 machine as root:
# install packages, build smtpscope, start a throwaway Postfix on loopback
# with smtpscope attached, send a few sessions (IPv4, IPv6, plain, STARTTLS,
# a client certificate, a client that quits after EHLO, and two clients from
# a network namespace whose SPF and iprev are checked against a local DNS
# with a signed and a broken zone), print the records, and stop everything. Nothing outside a temporary folder is changed, and
# no traffic leaves 127.0.0.1/::1.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
contrib/install-deps.sh || exit 1
if [ ! -x build-demo/milter/smtpscope ]; then
	autoreconf -fi >/dev/null 2>&1 && mkdir -p build-demo && cd build-demo &&
		"$top/configure" -q && make -s -j2 >/dev/null || { echo "build failed"; exit 1; }
	cd "$top" || exit 1
fi
export top_builddir=$top/build-demo
. "$top/t/integration/tap.sh"
. "$top/t/integration/harness.sh"
. "$top/t/integration/scope.sh"
. "$top/t/integration/dnslab.sh"

harness_init demo
harness_pki "$T/pki" >/dev/null || exit 1
dnslab_start || exit 1
dnslab_client_ns || exit 1
scope_start Nameservers "$DNSLAB_RESOLVER" SPF yes IPrev yes DNSTimeout 2000 || exit 1
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
scope_wait 13 15
scope_stop

echo
echo "=== the record log ($SCOPE_LOG), one JSON object per line:"
cat "$SCOPE_LOG"
echo
echo "=== the same, summarised with jq:"
echo "event	family	client	helo	tls	peer	queue_id	action	spf(mailfrom)	iprev"
jq -r '[.event, .client.family, .client.ip, .client.helo, (.tls.version // "plain"),
	(.tls.peer.subject // "-"), (.queue_id // "-"), (.disposition.action // "-"),
	(if .auth.spf then "\(.auth.spf.mailfrom.result)/\(.auth.spf.mailfrom.dnssec)" else "-" end),
	(if .auth.iprev then "\(.auth.iprev.result)/\(.auth.iprev.dnssec)" else "-" end)] | @tsv' "$SCOPE_LOG"
