#!/bin/bash
# record-size.sh - a client cannot suppress its own record: a message
# through a real Postfix with control bytes (each escaped as six bytes in
# JSON) in HELO, sender (SPF checks both), 100 recipients (greylisting
# observes them) and Message-ID, signed 40 times with long d= and s= (MaximumSignatures 40),
# makes a message record over the 256 KiB cap; it is written all the same, cut, and names the cuts in
# truncated. SPF and DKIM lookups go to a stub on loopback that answers
# NXDOMAIN to every query: every signature is evaluated (no key), none
# verifies, no query leaves the machine.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
. "$here/harness.sh"
. "$here/scope.sh"

SIGN=${top_builddir:-../..}/t/tools/dkimsign

for tool in postfix swaks jq openssl python3; do
	command -v "$tool" >/dev/null 2>&1 || tap_skip_all "$tool is not installed"
done
[ "$(id -u)" -eq 0 ] || tap_skip_all "needs root to run a throwaway Postfix"
[ -x "$SIGN" ] || tap_skip_all "t/tools/dkimsign not built"
harness_init recsize
tap_plan 11

# ctl N - N control bytes, each escaped as \u00XX in JSON (not BS, TAB,
# LF, FF, CR, which have two-byte escapes)
ctl() { python3 -c 'import sys
b = [c for c in range(1, 32) if c not in (8, 9, 10, 12, 13)]
sys.stdout.write("".join(chr(b[i % len(b)]) for i in range(int(sys.argv[1]))))' "$1"; }
# nxdomain_stub PORT - answer every UDP query on 127.0.0.1:PORT with
# NXDOMAIN (its question echoed, nothing else)
nxdomain_stub() { python3 -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
while True:
    q, peer = s.recvfrom(4096)
    if len(q) < 12:
        continue
    end = 12
    while end < len(q) and q[end] != 0:
        end += q[end] + 1
    end += 5
    hdr = q[:2] + bytes([0x80 | (q[2] & 0x01), 0x83]) + b"\0\1\0\0\0\0\0\0"
    s.sendto(hdr + q[12:end], peer)' "$1" & harness_track_pid $!; }
# label C N - N times the letter C
label() { printf "$1%.0s" $(seq 1 "$2"); }

dnsport=$(harness_free_port)
nxdomain_stub "$dnsport"
scope_start DKIM yes MaximumSignatures 40 SPF yes DNSTimeout 3000 \
	Nameservers "127.0.0.1:$dnsport" \
	Greylist observe GreylistStore "lmdb:$T/scope/greylist.lmdb"
tap_ok $? "smtpscope starts with DKIM and MaximumSignatures 40"
pf_start "unix:$SCOPE_SOCK"; tap_ok $? "Postfix starts with smtpscope attached"

# the message: a Message-ID of control bytes, signed 40 times
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$T/key.pem" 2>/dev/null
# long, but the key's name (SEL._domainkey.DOM) stays a valid 253 bytes
dom=$(label a 60).$(label b 60).$(label c 60).$(label d 10).example
sel=$(label s 40)
{
	printf 'From: <sender@example.org>\nTo: <r@smtpscope.test>\n'
	printf 'Subject: a record too large\nDate: %s\n' "$(date -R)"
	printf 'Message-ID: <%s@size.test>\n\nbody\n' "$(ctl 490)"
} > "$T/m.0"
for i in $(seq 1 40); do
	"$SIGN" -d "$dom" -s "$sel" -k "$T/key.pem" < "$T/m.$((i - 1))" > "$T/m.$i" || break
done
tap_is "$(grep -c '^DKIM-Signature:' "$T/m.40")" 40 "the message carries 40 DKIM signatures"

# 100 recipients with local parts of control bytes, a HELO of them too
rcpts=
for i in $(seq -w 1 100); do rcpts="$rcpts${rcpts:+,}$(ctl 300)$i@smtpscope.test"; done
swaks_to 127.0.0.1 "$PF_PORT" --helo "$(ctl 255)" --from "$(ctl 300)@example.org" \
	--to "$rcpts" --data "@$T/m.40" >/dev/null
tap_ok $? "Postfix accepts the message"
scope_wait 2 20
tap_is "$(jq -R -s 'split("\n") | map(select(length > 0)) | map(fromjson? // "bad") | map(select(. == "bad")) | length' "$SCOPE_LOG")" 0 \
	"every line of the record log is valid JSON"
msgrec() { scope_jq "map(select(.event==\"message\")) | .[0]$1"; }
tap_is "$(msgrec '| .envelope.rcpt_count')" 100 "the message record is written, with its 100 recipients counted"
tap_is "$(msgrec '| .auth.dkim_total')" 40 "and its 40 signatures counted"
size=$(grep '"event":"message"' "$SCOPE_LOG" | head -1 | wc -c)
harness_diag "message record: $size bytes; truncated: $(msgrec '| .truncated')"
tap_ok "$([ "$size" -le 262144 ]; echo $?)" "the record fits the 256 KiB cap ($size bytes)"
tap_is "$(msgrec '| .truncated[0]')" '"dns"' \
	"truncated names the cut: the dns list first"
scope_stop
tap_ok "$(grep -q 'message record of session [0-9a-f]* cut to fit 262144 bytes: dns' "$SCOPE_DIR/stderr"; echo $?)" \
	"the cut is logged"
scope_assert_clean
tap_done
