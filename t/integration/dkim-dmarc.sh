#!/bin/bash
# dkim-dmarc.sh - DKIM, DMARC and the Authentication-Results header through
# a real Postfix, real DNS (signed, unsigned and bogus zones behind a
# validating unbound: dnslab.sh) and swaks clients in their own network
# namespace. Messages are signed at test time (t/tools/dkimsign, linked
# against libopendkim) with the lab's RSA and Ed25519 keys, then delivered
# to a maildir, so the test reads the headers the recipient would see:
# exactly one Authentication-Results header from smtpscope, forged ones
# gone, and the record saying the same as the header.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
. "$here/harness.sh"
. "$here/scope.sh"
. "$here/dnslab.sh"

SIGN=${top_builddir:-../..}/t/tools/dkimsign
SERVID=mx.smtpscope.test

[ "$(id -u)" -eq 0 ] || tap_skip_all "needs root for namespaces and Postfix"
for tool in postfix swaks jq openssl; do
	command -v "$tool" >/dev/null 2>&1 || tap_skip_all "$tool is not installed"
done
[ -x "$SIGN" ] || tap_skip_all "t/tools/dkimsign not built"
dnslab_available || tap_skip_all "DNS lab tools missing"
harness_init dkimdmarc
tap_plan 68

dnslab_start; tap_ok $? "DNS lab (nsd + validating unbound) starts"
[ -n "$DNSLAB_DKIM_KEY" ] && [ -n "$DNSLAB_DKIM_ED_KEY" ]
tap_ok $? "the lab publishes RSA and Ed25519 DKIM keys"
dnslab_client_ns; tap_ok $? "client namespace"

# delivery into a maildir, so that the delivered headers can be read
MAIL=$T/mail
mkdir -p "$MAIL" && chown nobody "$MAIL" && chmod 755 "$MAIL"
pf_set "relay_domains = example.org example.net" \
	"virtual_mailbox_domains = smtpscope.test" "virtual_mailbox_base = $MAIL" \
	"virtual_mailbox_maps = static:box/" "virtual_minimum_uid = 1" \
	"virtual_uid_maps = static:$(id -u nobody)" "virtual_gid_maps = static:$(id -g nobody)"
dnslab_postfix_listen

start_scope() {
	scope_start Nameservers "$DNSLAB_RESOLVER" SPF yes IPrev yes DKIM yes \
		DMARC yes DNSTimeout 3000 AuthservID "$SERVID" "$@"
}
start_scope; tap_ok $? "smtpscope starts with DKIM and DMARC"
pf_start "unix:$SCOPE_SOCK"; tap_ok $? "Postfix with smtpscope"

# msg FROM TO [HEADER...] - print a message; extra headers go on top
msg() {
	local from=$1 to=$2 h
	shift 2
	for h in "$@"; do printf '%s\n' "$h"; done
	cat <<EOF
From: Sender <$from>
To: <$to>
Subject: smtpscope DKIM test for $to
Date: $(date -R)
Message-ID: <$RANDOM.$to@sec.test>

Body line one for $to.
A second line, with trailing space 
and a third.
EOF
}
# sign DOMAIN SELECTOR KEY ALG < message
sign() { "$SIGN" -d "$1" -s "$2" -k "$3" -a "$4" -c relaxed/relaxed; }

nrec=0
# send SRC MAILFROM TO FILE: deliver FILE from the namespace
send() {
	dnslab_swaks "$1" --helo client.sec.test --from "$2" --to "$3" --data "@$4" >/dev/null
	local rc=$?
	nrec=$((nrec + 2))
	scope_wait "$nrec" 20
	return $rc
}
# mr TO FILTER - jq FILTER over the message record for a recipient, raw
mr() { jq -r -s "map(select(.event==\"message\" and .envelope.rcpt[0]==\"$1\")) | .[0] | $2" "$SCOPE_LOG"; }
# m TO FIELD - a field of the message record for a recipient
m() { mr "$1" ".$2"; }
# delivered TO - the delivered file for a recipient (waits for it)
delivered() { harness_wait "$HARNESS_READY" delivered_now "$1"; }
# delivered_now TO - the delivered file for a recipient, if there is one
delivered_now() {
	local f
	f=$(grep -l -r -- "^To: <$1>" "$MAIL/box/new" 2>/dev/null | head -1)
	[ -n "$f" ] && echo "$f"
}
# ar_ours FILE - our Authentication-Results headers (unfolded), one per line
ar_ours() {
	awk '/^$/ { exit } /^[ \t]/ { h = h $0; next } { if (h != "") print h; h = $0 } END { if (h != "") print h }' "$1" |
		grep -i "^authentication-results: *$SERVID;" || true
}

# 1. RSA signature, aligned: everything passes
msg a@sec.test t1@smtpscope.test | sign sec.test sel1 "$DNSLAB_DKIM_KEY" rsa-sha256 >"$T/m1"
tap_ok $? "message signed with RSA (rsa-sha256)"
send 198.51.100.10 a@sec.test t1@smtpscope.test "$T/m1"
tap_ok $? "RSA-signed message accepted"
tap_is "$(m t1@smtpscope.test 'auth.dkim[0].result')/$(m t1@smtpscope.test 'auth.dkim[0].dnssec')" \
	pass/secure "RSA: dkim pass, key secure"
tap_is "$(m t1@smtpscope.test 'auth.dkim[0].key_type')/$(m t1@smtpscope.test 'auth.dkim[0].key_bits')/$(m t1@smtpscope.test 'auth.dkim[0].a')" \
	rsa/2048/rsa-sha256 "RSA: key type, bits, algorithm"
tap_is "$(m t1@smtpscope.test 'auth.dkim[0].d')/$(m t1@smtpscope.test 'auth.dkim[0].s')" sec.test/sel1 "RSA: d= and s="
tap_is "$(m t1@smtpscope.test auth.dmarc.result)/$(m t1@smtpscope.test auth.dmarc.p)/$(m t1@smtpscope.test auth.dmarc.dnssec)" \
	pass/reject/secure "DMARC pass under p=reject, record secure"
tap_is "$(m t1@smtpscope.test auth.dmarc.dkim_aligned)/$(m t1@smtpscope.test auth.dmarc.spf_aligned)" true/true \
	"DMARC: DKIM and SPF aligned"
f=$(delivered t1@smtpscope.test)
tap_ok $? "message 1 delivered"
tap_is "$(ar_ours "$f" | wc -l)" 1 "delivered message carries exactly one A-R header from us"
ar=$(ar_ours "$f")
tap_like "$ar" "dkim=pass header.d=sec.test header.s=sel1 header.a=rsa-sha256 header.b=" "A-R: dkim=pass with d, s, a, b"
tap_like "$ar" "spf=pass smtp.mailfrom=a@sec.test" "A-R: spf=pass smtp.mailfrom"
tap_like "$ar" "dmarc=pass" "A-R: dmarc=pass"
tap_like "$ar" "header.from=sec.test" "A-R: dmarc header.from"
tap_like "$ar" "iprev=pass policy.iprev=198.51.100.10" "A-R: iprev=pass"
# the delivered header, unfolded, against the record's value, unfolded
rec=$(m t1@smtpscope.test authentication_results.value | tr -d '\n')
tap_is "$(echo "$ar" | sed 's/^[^:]*: *//')" "$rec" "the record holds the header exactly as written"
tap_is "$(m t1@smtpscope.test authentication_results.added)" true "record: header added"

# 2. Ed25519
msg a@sec.test t2@smtpscope.test | sign sec.test ed1 "$DNSLAB_DKIM_ED_KEY" ed25519-sha256 >"$T/m2"
tap_ok $? "message signed with Ed25519"
send 198.51.100.10 a@sec.test t2@smtpscope.test "$T/m2"
tap_is "$(m t2@smtpscope.test 'auth.dkim[0].result')/$(m t2@smtpscope.test 'auth.dkim[0].key_type')/$(m t2@smtpscope.test 'auth.dkim[0].a')" \
	pass/ed25519/ed25519-sha256 "Ed25519: dkim pass"
tap_like "$(ar_ours "$(delivered t2@smtpscope.test)")" "dkim=pass header.d=sec.test header.s=ed1 header.a=ed25519-sha256" \
	"A-R: Ed25519 signature"

# 3. both, one after the other: two results, in header order (top first)
msg a@sec.test t3@smtpscope.test | sign sec.test sel1 "$DNSLAB_DKIM_KEY" rsa-sha256 |
	sign sec.test ed1 "$DNSLAB_DKIM_ED_KEY" ed25519-sha256 >"$T/m3"
send 198.51.100.10 a@sec.test t3@smtpscope.test "$T/m3"
tap_is "$(mr t3@smtpscope.test '.auth.dkim | length')/$(m t3@smtpscope.test auth.dkim_total)" 2/2 "two signatures, both listed"
tap_is "$(mr t3@smtpscope.test '[.auth.dkim[].s, .auth.dkim[].result] | join(",")')" ed1,sel1,pass,pass \
	"both pass, Ed25519 (top) first"
tap_is "$(ar_ours "$(delivered t3@smtpscope.test)" | grep -o 'dkim=pass' | wc -l)" 2 "A-R: one dkim= per signature"

# 4. tampered body, MAIL FROM of another domain: DKIM fail, DMARC fail, p=reject observed
msg a@sec.test t4@smtpscope.test | sign sec.test sel1 "$DNSLAB_DKIM_KEY" rsa-sha256 |
	sed 's/^Body line one/Body line 1/' >"$T/m4"
send 198.51.100.10 a@insec.test t4@smtpscope.test "$T/m4"
tap_ok $? "tampered message still accepted (DMARCReject no)"
tap_is "$(m t4@smtpscope.test 'auth.dkim[0].result')" fail "tampered body: dkim fail"
tap_like "$(m t4@smtpscope.test 'auth.dkim[0].reason')" "body" "tampered body: the reason names the body hash"
tap_is "$(m t4@smtpscope.test auth.dmarc.result)/$(m t4@smtpscope.test auth.dmarc.disposition)" fail/reject \
	"DMARC fail, disposition reject (observed)"
tap_is "$(m t4@smtpscope.test auth.dmarc.spf_aligned)/$(m t4@smtpscope.test auth.spf.mailfrom.result)" false/pass \
	"SPF pass for insec.test is not aligned with sec.test"
tap_is "$(m t4@smtpscope.test disposition.action)" accept "record: accepted"
tap_like "$(ar_ours "$(delivered t4@smtpscope.test)")" "dmarc=fail" "A-R: dmarc=fail"

# 5. a selector without a key: permerror
msg a@sec.test t5@smtpscope.test | sign sec.test nokey "$DNSLAB_DKIM_KEY" rsa-sha256 >"$T/m5"
send 198.51.100.10 a@sec.test t5@smtpscope.test "$T/m5"
tap_is "$(m t5@smtpscope.test 'auth.dkim[0].result')/$(m t5@smtpscope.test 'auth.dkim[0].dnssec')" permerror/secure \
	"missing key: permerror, NXDOMAIN proven secure"
tap_is "$(m t5@smtpscope.test auth.dmarc.result)" pass "missing key: DMARC still passes on aligned SPF"

# 6. a key in a bogus zone: temperror, bogus
msg a@bogus.test t6@smtpscope.test | sign bogus.test sel1 "$DNSLAB_DKIM_KEY" rsa-sha256 >"$T/m6"
send 198.51.100.10 a@sec.test t6@smtpscope.test "$T/m6"
tap_is "$(m t6@smtpscope.test 'auth.dkim[0].result')/$(m t6@smtpscope.test 'auth.dkim[0].dnssec')" temperror/bogus \
	"key in a bogus zone: temperror, bogus"
tap_is "$(m t6@smtpscope.test auth.dmarc.result)" temperror "DMARC record in a bogus zone: temperror"

# 7. p=none domain, unsigned, SPF fail: DMARC fail, disposition none
msg a@insec.test t7@smtpscope.test >"$T/m7"
send 198.51.100.10 a@fail.insec.test t7@smtpscope.test "$T/m7"
tap_is "$(m t7@smtpscope.test auth.dmarc.result)/$(m t7@smtpscope.test auth.dmarc.disposition)/$(m t7@smtpscope.test auth.dmarc.dnssec)" \
	fail/none/insecure "p=none: fail, disposition none, insecure"
tap_is "$(mr t7@smtpscope.test '.auth.dkim | length')" 0 "unsigned: no DKIM results"
tap_like "$(ar_ours "$(delivered t7@smtpscope.test)")" "dkim=none" "A-R: dkim=none"

# 8. forged A-R headers: ours (odd case, comment, folding) removed, others kept
msg a@sec.test t8@smtpscope.test \
	"Authentication-Results: MX.SMTPSCOPE.TEST; dkim=pass header.d=sec.test" \
	"authentication-results:  (trust me)" "	mx.smtpscope.test. ; spf=pass smtp.mailfrom=x@sec.test" \
	"Authentication-Results: other.example; spf=pass smtp.mailfrom=x@other.example" \
	"Authentication-Results: $SERVID/1; dkim=pass header.d=paypal.com" \
	"Authentication-Results: mx . smtpscope . test 2; dmarc=pass header.from=paypal.com" >"$T/m8"
send 198.51.100.10 a@sec.test t8@smtpscope.test "$T/m8"
f=$(delivered t8@smtpscope.test)
tap_is "$(ar_ours "$f" | wc -l)" 1 "forged: one A-R header with our id remains"
tap_like "$(ar_ours "$f")" "dkim=none" "forged: the remaining one is ours"
tap_ok "$(grep -q '^Authentication-Results: other.example;' "$f"; echo $?)" "forged: another authserv-id is kept"
tap_ok "$(! grep -qi 'trust me' "$f"; echo $?)" "forged: the folded one with a comment is gone"
tap_ok "$(! grep -q 'paypal' "$f"; echo $?)" "forged: \"$SERVID/1;\" and \"mx . smtpscope . test 2;\" are gone"
tap_is "$(m t8@smtpscope.test authentication_results.found)/$(m t8@smtpscope.test authentication_results.forged)/$(m t8@smtpscope.test authentication_results.removed)" \
	5/4/4 "record: found 5, forged 4, removed 4"

# 8b. a forged A-R after 4,096 harmless ones, and five after 100,000: the
# index of the forged one among the A-R headers is past any small list,
# and it must go all the same (issue 12)
# ar_many N FORGED TO: N harmless A-R headers then FORGED forged ones
ar_many() {
	awk -v n="$1" -v f="$2" 'BEGIN {
		for (i = 1; i <= n; i++) printf "Authentication-Results: other.example; spf=pass smtp.mailfrom=h%d@other.example\n", i
		for (i = 1; i <= f; i++) printf "Authentication-Results: %s; dkim=pass header.d=paypal.com header.s=f%d\n", "'"$SERVID"'", i
	}'
	msg a@sec.test "$3"
}
ar_many 4096 1 t11@smtpscope.test >"$T/m11"
send 198.51.100.10 a@sec.test t11@smtpscope.test "$T/m11"
tap_ok $? "4,096 harmless A-R headers + 1 forged: accepted"
f=$(delivered t11@smtpscope.test)
tap_ok "$(! grep -q 'paypal' "$f"; echo $?)" "4,097th A-R header (forged, our id): not delivered"
tap_is "$(ar_ours "$f" | wc -l)/$(grep -c '^Authentication-Results: other.example;' "$f")" 1/4096 \
	"4,096 harmless kept, one A-R header with our id: ours"
tap_is "$(m t11@smtpscope.test authentication_results.found)/$(m t11@smtpscope.test authentication_results.forged)/$(m t11@smtpscope.test authentication_results.removed)/$(m t11@smtpscope.test authentication_results.not_removed)" \
	4097/1/1/0 "record: found 4097, forged 1, removed 1, not_removed 0"
ar_many 100000 5 t12@smtpscope.test >"$T/m12"
send 198.51.100.10 a@sec.test t12@smtpscope.test "$T/m12"
tap_ok $? "100,000 harmless A-R headers + 5 forged: accepted"
f=$(delivered t12@smtpscope.test)
tap_is "$(grep -c 'paypal' "$f")/$(grep -c '^Authentication-Results: other.example;' "$f")/$(ar_ours "$f" | wc -l)" 0/100000/1 \
	"100,000 + 5: no forged one delivered, the 100,000 kept, ours added"
tap_is "$(m t12@smtpscope.test authentication_results.removed)/$(m t12@smtpscope.test authentication_results.not_removed)" \
	5/0 "record: removed 5, not_removed 0"

# 8c. a HELO with a bidi override (U+202E) and a From domain with a control
# byte: the delivered header is printable ASCII, the smtp.helo property
# left out rather than mangled; the record keeps the text (issue 12)
msg a@sec.test t13@smtpscope.test | sed 's/^From: .*/From: <a@sec\x01.test>/' >"$T/m13"
dnslab_swaks 198.51.100.10 --helo "$(printf 'adv\xe2\x80\xae.example.org')" \
	--from a@sec.test --to t13@smtpscope.test --data "@$T/m13" >/dev/null
tap_ok $? "HELO with U+202E: accepted"
nrec=$((nrec + 2))
scope_wait "$nrec" 20
f=$(delivered t13@smtpscope.test)
ar=$(ar_ours "$f")
tap_ok "$(printf '%s' "$ar" | tr -d '\t' | LC_ALL=C grep -q '[^ -~]'; [ $? -eq 1 ] && [ -n "$ar" ]; echo $?)" \
	"HELO with U+202E: our delivered A-R header is printable ASCII"
tap_is "$(printf '%s' "$ar" | grep -o 'spf=' | wc -l)/$(printf '%s' "$ar" | grep -c 'smtp.helo=')" 2/0 \
	"HELO with U+202E: spf for the HELO, without smtp.helo"
n=$(jq -r 'select(.event=="session") | .client.helo' "$SCOPE_LOG" | grep -c "$(printf 'adv\xe2\x80\xae')")
tap_is "$n" 1 "HELO with U+202E: the session record keeps the HELO as sent"

# 9. DMARCReject yes: the tampered message is refused with 550 5.7.1
scope_stop

# the DKIM key cache (first instance, its exit stats): every RSA key that
# was decoded counts once, as parsed or as found; sel1 signed several
stat_of() { grep -o "stats (exit):.*" "$SCOPE_DIR/stderr" | head -1 | grep -o " $1=[0-9]*" | cut -d= -f2; }
parsed=$(stat_of dkim_keys_parsed) hits=$(stat_of dkim_key_cache_hits)
rsa=$(jq -s '[.[] | select(.event == "message") | .auth.dkim[]? |
	select(.key_type == "rsa" and .key_bits > 0)] | length' "$SCOPE_LOG")
tap_is "$((${parsed:-0} + ${hits:-0}))" "$rsa" "key cache: parsed + found ($parsed + $hits) = RSA keys used ($rsa)"
tap_ok "$([ "${hits:-0}" -ge 1 ] && [ "${parsed:-0}" -lt "$rsa" ]; echo $?)" \
	"key cache: a key used again was not decoded again ($parsed decoded for $rsa uses)"
start_scope DMARCReject yes
nrec=$(wc -l <"$SCOPE_LOG")
msg a@sec.test t9@smtpscope.test | sign sec.test sel1 "$DNSLAB_DKIM_KEY" rsa-sha256 |
	sed 's/^Body line one/Body line 1/' >"$T/m9"
send 198.51.100.10 a@insec.test t9@smtpscope.test "$T/m9"
tap_isnt $? 0 "DMARCReject: the client is refused"
tap_like "$(tail -40 "$T/swaks.log")" "550 5.7.1" "DMARCReject: 550 5.7.1"
tap_is "$(m t9@smtpscope.test disposition.action)" reject "record: reject"

# 10. Headers no: nothing added, nothing removed, the record still shows the header
scope_stop
start_scope Headers no
nrec=$(wc -l <"$SCOPE_LOG")
cp "$T/m8" "$T/m10" && sed -i 's/t8@/t10@/g' "$T/m10"
send 198.51.100.10 a@sec.test t10@smtpscope.test "$T/m10"
f=$(delivered t10@smtpscope.test)
tap_is "$(grep -ci '^authentication-results:' "$f")" 5 "Headers no: the message keeps its five A-R headers, none added"
tap_is "$(m t10@smtpscope.test authentication_results.added)/$(m t10@smtpscope.test authentication_results.removed)" \
	false/0 "Headers no: record says nothing added or removed"
tap_like "$(m t10@smtpscope.test authentication_results.value)" "mx.smtpscope.test;" "Headers no: the record has the header it would write"

tap_is "$(jq -c . "$SCOPE_LOG" >/dev/null 2>&1; echo $?)" 0 "every record is valid JSON"
scope_stop
scope_assert_clean
tap_done
