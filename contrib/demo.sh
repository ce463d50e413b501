#!/bin/bash
# demo.sh - the main job, end to end, on a fresh Debian 12 machine as root:
# install packages, build smtpscope, start a throwaway Postfix on loopback
# with smtpscope attached, send a few sessions (IPv4, IPv6, plain, STARTTLS,
# a client certificate, a client that quits after EHLO), print the records,
# and stop everything. Nothing outside a temporary folder is changed, and
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

harness_init demo
harness_pki "$T/pki" >/dev/null || exit 1
scope_start || exit 1
pf_start "unix:$SCOPE_SOCK" || exit 1
echo "Postfix listens on 127.0.0.1:$PF_PORT and [::1]:$PF_PORT; smtpscope on $SCOPE_SOCK"

send() { echo "--- $1"; shift; swaks_to "$@" >/dev/null; echo "    swaks exit $?"; }
send "IPv4, plain" 127.0.0.1 "$PF_PORT" --helo client4.example.org
send "IPv6, plain" ::1 "$PF_PORT" --helo client6.example.org
send "IPv4, STARTTLS TLS 1.2" 127.0.0.1 "$PF_PORT" --helo tls12.example.org --tls --tls-protocol tlsv1_2
send "IPv6, STARTTLS TLS 1.3 with a client certificate" ::1 "$PF_PORT" --helo cert.example.org \
	--tls --tls-cert "$PKI_DIR/client.crt" --tls-key "$PKI_DIR/client.key"
send "IPv4, quits after EHLO" 127.0.0.1 "$PF_PORT" --helo quitter.example.org --quit-after EHLO
scope_wait 9 10
scope_stop

echo
echo "=== the record log ($SCOPE_LOG), one JSON object per line:"
cat "$SCOPE_LOG"
echo
echo "=== the same, summarised with jq:"
jq -r '[.event, .client.family, .client.ip, .client.helo, (.tls.version // "plain"),
	(.tls.peer.subject // "-"), (.queue_id // "-"), (.disposition.action // "-")] | @tsv' "$SCOPE_LOG"
