#!/bin/bash
# dnslab-selftest.sh - the DNS lab fixture (dnslab.sh) answers as documented and cleans up.
#
# Checks with dig against the lab's validating unbound: secure, insecure,
# bogus, expired, NXDOMAIN, PTR, a resolver that never answers, SERVFAIL;
# then a client in the lab's network namespace reaching the harness Postfix
# on 198.51.100.1 and [2001:db8:100::1] from chosen source addresses; then
# that nothing is left behind: after dnslab_stop, and after a test shell
# that fails under "set -e", gets SIGTERM, or is killed with SIGKILL
# (dnslab_reap_stale cleans up after the last).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
. "$here/harness.sh"
. "$here/dnslab.sh"

[ "$(id -u)" -eq 0 ] || tap_skip_all "needs root (network namespaces, veth)"
dnslab_available >/dev/null || tap_skip_all "DNS lab tools missing: $(dnslab_available | tr -d '#')"
for tool in postfix swaks; do
	command -v "$tool" >/dev/null 2>&1 || tap_skip_all "$tool is not installed"
done

harness_init dnslab
tap_plan 66

# q ARGS... - dig ARGS at the lab resolver (3 s, one try) into $T/dig.out
q() { dnslab_dig +time=3 +tries=1 "$@" >"$T/dig.out" 2>&1; }
status() { sed -nE 's/^;; ->>HEADER<<- .*status: ([A-Z]+),.*/\1/p' "$T/dig.out"; }
ad() { grep -qE '^;; flags:[a-z ]* ad[ ;]' "$T/dig.out" && echo ad || echo no-ad; }
# rdata TYPE - the answer section's TYPE data, one per line, sorted
rdata() {
	awk -v t="$1" '!/^;/ && $4 == t { $1 = $2 = $3 = $4 = ""; sub(/^ +/, ""); print }' \
		"$T/dig.out" | sort
}
# running PID - true when PID exists and is not a zombie (orphans wait for init to reap them)
running() {
	local st
	read -r st 2>/dev/null <"/proc/$1/stat" || return 1
	st=${st##*) }
	[ "${st%% *}" != Z ]
}
ms() { echo $((($(date +%s%N) - $1) / 1000000)); }

# 1. the lab comes up
t0=$(date +%s%N)
dnslab_start
tap_ok $? "dnslab_start: nsd and validating unbound up"
tap_diag "dnslab_start took $(ms "$t0") ms"
ok=0
[[ $DNSLAB_RESOLVER =~ ^127\.0\.0\.1:[0-9]+$ ]] && [[ $DNSLAB_RESOLVER6 =~ ^\[::1\]:[0-9]+$ ]] &&
	[[ $DNSLAB_AUTH =~ ^127\.0\.0\.1:[0-9]+$ ]] && [[ $DNSLAB_BLACKHOLE =~ ^127\.0\.0\.1:[0-9]+$ ]] &&
	[ -d "$DNSLAB_DIR" ] && [ -s "$DNSLAB_TA" ] && [ -s "$DNSLAB_ZONES/sec.test.zone" ] || ok=1
tap_ok $ok "DNSLAB_RESOLVER, _RESOLVER6, _AUTH, _BLACKHOLE, _DIR, _TA, _ZONES exported"
ok=0
[ -s "$DNSLAB_DKIM_KEY" ] && [ -s "$DNSLAB_DKIM_ED_KEY" ] || ok=1
tap_ok $ok "DKIM keys made (DNSLAB_DKIM_KEY, DNSLAB_DKIM_ED_KEY)"

# 2. DNSSEC status of each test domain
spf='"v=spf1 ip4:198.51.100.0/24 ip6:2001:db8:100::/48 -all"'
q sec.test TXT
tap_is "$(status) $(ad)" "NOERROR ad" "sec.test TXT: NOERROR with AD (secure)"
tap_is "$(rdata TXT)" "$spf" "sec.test TXT: the SPF record"
q insec.test TXT
tap_is "$(status) $(ad)" "NOERROR no-ad" "insec.test TXT: NOERROR without AD (insecure)"
tap_is "$(rdata TXT)" "$spf" "insec.test TXT: the SPF record"
q bogus.test TXT
tap_is "$(status)" SERVFAIL "bogus.test TXT: SERVFAIL (bogus)"
grep -q 'validation failure <bogus.test. TXT IN>: signature crypto failed' "$DNSLAB_DIR/unbound.log"
tap_ok $? "bogus.test: unbound logs 'signature crypto failed'"
q bogus.test TXT +cd
tap_is "$(status) $(ad)" "NOERROR no-ad" "bogus.test TXT +cd: NOERROR (checking disabled)"
tap_is "$(rdata TXT)" "$spf" "bogus.test TXT +cd: the SPF record"
q expired.test TXT
tap_is "$(status)" SERVFAIL "expired.test TXT: SERVFAIL (signatures expired)"
grep -q 'validation failure <expired.test. TXT IN>: signature expired' "$DNSLAB_DIR/unbound.log"
tap_ok $? "expired.test: unbound logs 'signature expired'"
q expired.test TXT +cd
tap_is "$(status)" NOERROR "expired.test TXT +cd: NOERROR"
q nx.sec.test A
tap_is "$(status) $(ad)" "NXDOMAIN ad" "nx.sec.test: NXDOMAIN with AD (secure denial)"
q none.sec.test TXT
tap_is "$(status) $(ad) $(rdata TXT)" "NOERROR ad " "none.sec.test TXT: no data, secure"
q twospf.insec.test TXT
tap_is "$(rdata TXT | wc -l)" 2 "twospf.insec.test: two TXT records"
q loop.sec.test TXT
tap_is "$(rdata TXT)" '"v=spf1 include:loop.sec.test -all"' "loop.sec.test: includes itself"
q sel1._domainkey.sec.test TXT
tap_is "$(status) $(ad) $(rdata TXT | cut -c1-19)" 'NOERROR ad "v=DKIM1; k=rsa; p=' \
	"sel1._domainkey.sec.test: DKIM key, secure"
q _dmarc.insec.test TXT
tap_is "$(rdata TXT | cut -c1-20)" '"v=DMARC1; p=none; r' "_dmarc.insec.test: p=none"
want=() qs=()
for d in sec insec bogus expired; do
	for n in "" soft. neutral. fail. incl. loop. twospf.; do
		want+=("${n}$d.test. TXT") qs+=("${n}$d.test" TXT)
	done
	want+=("none.$d.test. A" "mx.$d.test. AAAA") qs+=("none.$d.test" A "mx.$d.test" AAAA)
done
# one dig, many queries: the answers' owner names and types
got=$(dig @127.0.0.1 -p "$DNSLAB_AUTH_PORT" +norec +noall +answer "${qs[@]}" 2>&1 |
	awk '($4 == "TXT" && $5 == "\"v=spf1") || $4 == "A" || $4 == "AAAA" { print $1 " " $4 }')
bad=
for w in "${want[@]}"; do
	grep -qxF "$w" <<<"$got" || bad="$bad ${w% *}"
done
tap_is "${bad:-none}" none "nsd serves the SPF names, none.X and mx.X in all four domains"

# 3. reverse zones and iprev data
q -x 198.51.100.10
tap_is "$(status) $(ad) $(rdata PTR)" "NOERROR ad client.sec.test." "PTR 198.51.100.10: client.sec.test, secure"
q client.sec.test A
tap_is "$(rdata A)" 198.51.100.10 "client.sec.test A: 198.51.100.10 (iprev passes)"
q client.sec.test AAAA
tap_is "$(rdata AAAA)" 2001:db8:100::10 "client.sec.test AAAA: 2001:db8:100::10"
q -x 198.51.100.11
tap_is "$(rdata PTR)" forged.insec.test. "PTR 198.51.100.11: forged.insec.test"
q forged.insec.test A
tap_is "$(rdata A)" 203.0.113.99 "forged.insec.test A: not 198.51.100.11 (iprev fails)"
q -x 198.51.100.12
tap_is "$(status) $(ad)" "NXDOMAIN ad" "PTR 198.51.100.12: NXDOMAIN, secure"
q -x 2001:db8:100::10
tap_is "$(status) $(ad) $(rdata PTR)" "NOERROR ad client6.sec.test." "PTR 2001:db8:100::10: client6.sec.test, secure"
q client6.sec.test AAAA
tap_is "$(rdata AAAA)" 2001:db8:100::10 "client6.sec.test AAAA: 2001:db8:100::10"

# 4. failures: a resolver that never answers, SERVFAIL, names outside the lab
t0=$(date +%s%N)
q timeout.insec.test TXT
took=$(ms "$t0")
grep -q 'timed out' "$T/dig.out" && [ -z "$(status)" ]
tap_ok $? "timeout.insec.test: no answer at all (dig +time=3 +tries=1: timed out)"
tap_ok "$([ "$took" -ge 2900 ] && [ "$took" -lt 5000 ]; echo $?)" "timeout.insec.test: dig gave up after 3 s ($took ms)"
q a.b.timeout.insec.test A
grep -q 'timed out' "$T/dig.out"
tap_ok $? "a.b.timeout.insec.test: also no answer (the same every time)"
q servfail.insec.test TXT
tap_is "$(status)" SERVFAIL "servfail.insec.test: SERVFAIL"
q servfail.insec.test TXT +cd
tap_is "$(status)" SERVFAIL "servfail.insec.test +cd: still SERVFAIL (error, not bogus)"
t0=$(date +%s%N)
dig @127.0.0.1 -p "${DNSLAB_BLACKHOLE#*:}" +time=1 +tries=1 sec.test >"$T/dig.out" 2>&1
grep -q 'timed out' "$T/dig.out"
tap_ok $? "DNSLAB_BLACKHOLE never answers ($(ms "$t0") ms)"
q www.example.com A
tap_is "$(status)" SERVFAIL "www.example.com: SERVFAIL (nsd refuses, nothing leaves the machine)"
dig @::1 -p "$DNSLAB_RESOLVER_PORT" +dnssec +time=3 +tries=1 sec.test SOA >"$T/dig.out" 2>&1
tap_is "$(status) $(ad)" "NOERROR ad" "unbound answers on DNSLAB_RESOLVER6 too"

# 5. the client namespace and Postfix on the veth address
dnslab_client_ns
tap_ok $? "dnslab_client_ns: namespace $DNSLAB_NETNS with veth $DNSLAB_VETH"
ns=$DNSLAB_NETNS veth=$DNSLAB_VETH
tap_is "$(grep -v '^options' "/etc/netns/$ns/resolv.conf")" "nameserver 127.0.0.1" \
	"namespace resolv.conf points only at 127.0.0.1 in the namespace"
tap_is "$(dnslab_exec ip -o addr show scope global | awk '{ print $4 }' | sort | tr '\n' ' ')" \
	"198.51.100.10/24 198.51.100.11/24 198.51.100.12/24 2001:db8:100::10/64 2001:db8:100::11/64 2001:db8:100::12/64 " \
	"client addresses in the namespace"
harness_pki "$T/pki" >/dev/null
dnslab_postfix_listen
tap_ok $? "dnslab_postfix_listen before pf_start: master.cf lines added"
pf_start
tap_ok $? "Postfix starts"
out=$(ss -Hltn)
case $out in *"198.51.100.1:$PF_PORT "*"[2001:db8:100::1]:$PF_PORT "* | \
	*"[2001:db8:100::1]:$PF_PORT "*"198.51.100.1:$PF_PORT "*) ok=0 ;; *) ok=1 ;; esac
tap_ok $ok "Postfix listens on 198.51.100.1 and [2001:db8:100::1] port $PF_PORT"
dnslab_swaks 198.51.100.11 --helo forged.insec.test --quit-after EHLO
tap_ok $? "swaks from 198.51.100.11 in the namespace reaches Postfix (EHLO)"
pf_wait_log 'postfix/smtpd\[[0-9]+\]: connect from unknown\[198\.51\.100\.11\]' 1 5
tap_ok $? "Postfix logs the client as 198.51.100.11"
dnslab_swaks 2001:db8:100::10 --helo client6.sec.test --quit-after EHLO
tap_ok $? "swaks from 2001:db8:100::10 reaches [2001:db8:100::1] (EHLO)"
pf_wait_log 'connect from unknown\[2001:db8:100::10\]' 1 5
tap_ok $? "Postfix logs the client as 2001:db8:100::10"
dnslab_swaks 198.51.100.10 --helo client.sec.test --from a@sec.test --to b@example.org
tap_ok $? "a whole message from 198.51.100.10 (not in mynetworks) is accepted"
pf_wait_log 'postfix/discard\[[0-9]+\]: .*to=<b@example.org>.*status=sent' 1 10
tap_ok $? "Postfix delivered it (discard)"
dnslab_exec swaks --server 198.51.100.1 --port "$PF_TLS_PORT" --local-interface 198.51.100.12 \
	--tlsc --quit-after EHLO --timeout 10 >>"$T/swaks.log" 2>&1
tap_ok $? "wrapper-mode TLS on 198.51.100.1:$PF_TLS_PORT from 198.51.100.12 (dnslab_exec)"
# a second dnslab_postfix_listen (Postfix running) must be harmless: same lines, reload
dnslab_postfix_listen
tap_ok $? "dnslab_postfix_listen with Postfix running: reload, still listening"
tap_is "$(postconf -c "$PF_DIR/etc" -M | grep -c '198\.51\.100\.1:\|2001:db8:100::1')" 3 \
	"master.cf has the three veth listeners once"

# 6. dnslab_stop leaves nothing behind
pids=("${_DNSLAB_PIDS[@]}" "$_DNSLAB_LOCK_PID")
dnslab_stop
tap_ok $? "dnslab_stop"
left=
for p in "${pids[@]}"; do running "$p" && left="$left $p"; done
tap_is "${left:-none}" none "dnslab_stop: nsd, unbound, black hole and lock helper gone"
left=
ip netns list | grep -q "^$ns\b" && left="$left netns"
ip link show "$veth" >/dev/null 2>&1 && left="$left veth"
[ -e "/etc/netns/$ns" ] && left="$left /etc/netns"
# another lab test (make -j check) may own 198.51.100.1 now: look while
# holding the lock, which it holds for as long as it has the address
flock -x -w 120 "$DNSLAB_LOCK" ip -o addr show to 198.51.100.1/32 | grep -q . &&
	left="$left 198.51.100.1"
tap_is "${left:-none}" none "dnslab_stop: namespace, veth, /etc/netns/$ns and 198.51.100.1 gone"
flock -x -w 120 "$DNSLAB_LOCK" true
tap_ok $? "dnslab_stop: the host-address lock is free"
dnslab_stop
tap_ok $? "dnslab_stop again: idempotent"
pf_stop

# 7. a test shell that fails, is terminated, or is killed
cat >"$T/child.sh" <<'EOF'
# child.sh MODE STATEFILE - start the lab under set -e, record what runs, then fail/wait
set -eu
here=$1 mode=$2 state=$3
. "$here/tap.sh"
. "$here/harness.sh"
. "$here/dnslab.sh"
harness_init dnslab-child
dnslab_start >/dev/null		# plain calls: under set -e a failure ends the child
dnslab_client_ns >/dev/null
dnslab_reap_stale >/dev/null
echo "$T $DNSLAB_NETNS $DNSLAB_VETH ${_DNSLAB_PIDS[*]} $_DNSLAB_LOCK_PID $(dnslab_children "$_DNSLAB_LOCK_PID")" >"$state.tmp"
mv "$state.tmp" "$state"
case $mode in
fail) false ;;
*) sleep 60 & wait ;;
esac
EOF

# child MODE - run child.sh MODE in the background; set cpid and state (wait 20 s)
child() {
	rm -f "$T/state"
	bash "$T/child.sh" "$here" "$1" "$T/state" >"$T/child.out" 2>&1 &
	cpid=$!
	for _ in $(seq 200); do
		[ -s "$T/state" ] && break
		sleep 0.1
	done
	read -r ct cns cveth cpids <"$T/state" 2>/dev/null || { ct='' cns='' cveth='' cpids=''; }
}
# leftovers - print what of the child's lab still exists
leftovers() {
	local p out=
	for p in $cpids; do running "$p" && out="$out pid:$p"; done
	[ -n "$cns" ] && ip netns list | grep -q "^$cns\b" && out="$out netns"
	[ -n "$cveth" ] && ip link show "$cveth" >/dev/null 2>&1 && out="$out veth"
	[ -n "$cns" ] && [ -e "/etc/netns/$cns" ] && out="$out /etc/netns"
	flock -x -w 120 "$DNSLAB_LOCK" ip -o addr show to 198.51.100.1/32 | grep -q . &&
		out="$out 198.51.100.1"
	echo "${out:-none}"
}
for mode in fail term; do
	child "$mode"
	[ "$mode" = term ] && kill -TERM "$cpid"
	wait "$cpid"
	rc=$?
	tap_ok "$([ -n "$cns" ] && [ "$rc" -ne 0 ]; echo $?)" "$mode: child test ran and ended with status $rc"
	[ -z "$cns" ] && tap_diag "$(cat "$T/child.out")"
	tap_is "$(leftovers)" none "$mode: nothing left (processes, namespace, veth, /etc/netns, address)"
	tap_ok "$([ -n "$ct" ] && [ ! -e "$ct" ]; echo $?)" "$mode: the child's \$T removed"
done
child kill
kill -KILL "$cpid"
wait "$cpid" 2>/dev/null
sleep 0.5	# the lock helper notices the dead shell (tail --pid polls every 0.2 s)
flock -x -w 3 "$DNSLAB_LOCK" true
tap_ok $? "kill: the lock is released when the test shell dies"
tap_ok "$([ "$(leftovers)" != none ]; echo $?)" "kill: SIGKILL leaves the lab behind ($(leftovers))"
dnslab_reap_stale >/dev/null
tap_is "$(leftovers)" none "kill: dnslab_reap_stale removes what it left"
[ -n "$ct" ] && case $ct in /tmp/smtpscope-dnslab-child.*) rm -rf -- "$ct" ;; esac

tap_done
