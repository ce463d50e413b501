# dnslab.sh - real DNS with DNSSEC, and a non-loopback client, for integration tests
#
# SYNOPSIS
#	. "$(dirname "$0")/tap.sh"
#	. "$(dirname "$0")/harness.sh"
#	. "$(dirname "$0")/dnslab.sh"
#	dnslab_available || tap_skip_all "DNS lab tools missing"
#	harness_init NAME
#	dnslab_start || ...                  # nsd + validating unbound on loopback
#	dnslab_client_ns || ...              # namespace 198.51.100.10-12 <-> host .1
#	scope_start Nameservers "$DNSLAB_RESOLVER"
#	dnslab_postfix_listen                # smtpd also on 198.51.100.1, [2001:db8:100::1]
#	pf_start "unix:$SCOPE_SOCK"
#	dnslab_swaks 198.51.100.11 --helo forged.insec.test --from a@fail.sec.test
#	dnslab_exec swaks --server 198.51.100.1 --port "$PF_PORT" \
#		--local-interface 198.51.100.10 ...
#	dnslab_stop                          # optional: also runs at EXIT
#
# DESCRIPTION
#	A bash library (set -u safe) for integration tests that need DNS answers
#	with a known DNSSEC status (secure, insecure, bogus, expired signatures,
#	a server that never answers) and an SMTP client that is not on loopback
#	(libspf2 passes 127.0.0.1 and ::1 without asking DNS). Needs root,
#	harness.sh (harness_init, harness_free_port, harness_track_pid), nsd,
#	unbound, ldns-keygen, ldns-signzone, dig, perl, ip, ss, flock and tail;
#	openssl for the optional DKIM keys. Call the functions from the test's
#	main shell (not from $( ) or a pipe): they keep state in shell variables.
#
#	dnslab_available      true when every tool is installed; names the
#	                      missing ones as TAP diagnostics otherwise
#	dnslab_start          make keys and zones under $T/dns, sign them (fresh
#	                      at every start: signatures expire), start nsd and
#	                      unbound in the foreground on free ports, wait (up to
#	                      HARNESS_READY s) until unbound validates sec.test; about 1.5 s
#	                      on an idle 2-core machine, 4-6 s on a busy one
#	                      (keys and signing are most of it); exports the
#	                      DNSLAB_* variables below
#	dnslab_dig ARGS...    dig @127.0.0.1 -p RESOLVER_PORT +dnssec ARGS
#	dnslab_client_ns      create the client namespace smtpscope-cli-$$ and its
#	                      veth pair (see NETWORK); exports DNSLAB_NETNS
#	dnslab_exec CMD...    run CMD inside the client namespace
#	dnslab_swaks SRC ARGS...
#	                      swaks inside the namespace from address SRC to the
#	                      harness Postfix on 198.51.100.1 (or
#	                      [2001:db8:100::1] when SRC is IPv6) port $PF_PORT;
#	                      envelope sender@example.org -> rcpt@smtpscope.test
#	                      (later --from/--to/--server/--port win); output
#	                      appended to $T/swaks.log
#	dnslab_postfix_listen add smtpd listeners 198.51.100.1:$PF_PORT,
#	                      [2001:db8:100::1]:$PF_PORT and (wrapper-mode TLS)
#	                      198.51.100.1:$PF_TLS_PORT to the harness Postfix's
#	                      master.cf (once: calling it again changes
#	                      nothing); when Postfix runs, pf_reload and wait
#	                      (5 s) until it listens there. The addresses must
#	                      exist before Postfix starts or reloads: call
#	                      dnslab_client_ns first
#	dnslab_client_ns_delete
#	                      stop what runs in the namespace, delete the veth,
#	                      the namespace and /etc/netns/NAME; idempotent
#	dnslab_stop           dnslab_client_ns_delete, then stop unbound, nsd and
#	                      the black hole; idempotent; keeps $?
#	dnslab_reap_stale     remove what a test killed with SIGKILL left behind
#	                      (called by dnslab_start and dnslab_client_ns)
#	Process helpers come from harness.sh (harness_pid_gone,
#	harness_stop_pids, harness_children).
#	Internal: dnslab_diag, dnslab_noerrexit, dnslab_hook_exit, dnslab_exit_hook, dnslab_udp_busy,
#	dnslab_free_port, dnslab_rev6, dnslab_soa, dnslab_txt, dnslab_zone_mail,
#	dnslab_zones, dnslab_keys, dnslab_sign, dnslab_tamper, dnslab_dkim_keys,
#	dnslab_wait_all, dnslab_make_zones, dnslab_nsd_conf, dnslab_unbound_conf,
#	dnslab_blackhole_script, dnslab_spawn, dnslab_ready, dnslab_veth_up,
#	dnslab_pf_listens, dnslab_diagnose,
#	dnslab_lock, dnslab_unlock, dnslab_starttime and
#	the *_run bodies of the public functions (which run with errexit off,
#	so "set -e" in a test sees only their status).
#
#	Exported by dnslab_start:
#	DNSLAB_DIR            $T/dns: keys/, zones/ (ZONE.zone as written,
#	                      ZONE.signed as served), nsd.conf, unbound.conf,
#	                      nsd.log, unbound.log, the trust anchor
#	DNSLAB_RESOLVER       127.0.0.1:PORT, the validating unbound (smtpscope's
#	                      Nameservers syntax); DNSLAB_RESOLVER6 [::1]:PORT;
#	                      DNSLAB_RESOLVER_PORT PORT
#	DNSLAB_AUTH           127.0.0.1:PORT, nsd (authoritative, no validation;
#	                      REFUSED outside its zones); DNSLAB_AUTH_PORT PORT
#	DNSLAB_BLACKHOLE      127.0.0.1:PORT (IPv4 only), a server that takes
#	                      UDP and TCP queries and never answers (point
#	                      Nameservers at it for "every lookup times out")
#	DNSLAB_TA             the trust anchor file (DS of test. and of both
#	                      reverse zones), for anything else that validates
#	DNSLAB_ZONES          the zone directory (unsigned sources, for offline
#	                      evaluation with smtpscope-eval --zone)
#	DNSLAB_DKIM_KEY       PKCS#8 PEM private key (RSA 2048) published as
#	                      sel1._domainkey in every test domain;
#	                      DNSLAB_DKIM_ED_KEY the Ed25519 one for ed1._domainkey
#	                      (both empty when openssl is missing)
#	Exported by dnslab_client_ns: DNSLAB_NETNS (namespace name),
#	DNSLAB_VETH (host side), DNSLAB_HOST4 198.51.100.1, DNSLAB_HOST6
#	2001:db8:100::1. The client addresses are in the (unexported) arrays
#	DNSLAB_CLIENT4 and DNSLAB_CLIENT6.
#
# ZONES
#	All TTLs 300; unbound caps them at cache-max-ttl 5 s ($DNSLAB_CACHE_MAX_TTL).
#	test.                 signed; the trust anchor. Delegates sec, bogus and
#	                      expired with DS records, and insec without one.
#	sec.test              signed and valid: answers are secure (AD)
#	insec.test            unsigned (insecure delegation): NOERROR without AD
#	bogus.test            signed, then every RRSIG over A, AAAA, MX, TXT and
#	                      PTR data corrupted: those lookups SERVFAIL ("signature
#	                      crypto failed") and succeed with +cd (CD bit) showing
#	                      the intended data. SOA, NS, DNSKEY and NSEC stay valid,
#	                      so NXDOMAIN/NODATA answers in bogus.test are secure
#	expired.test          signed with -i 20190101000000 -e 20200101000000:
#	                      every lookup SERVFAILs ("signature expired")
#	In each of sec, insec, bogus and expired (X = the domain):
#	  X                   A 198.51.100.1, AAAA 2001:db8:100::1, MX 10 mx.X,
#	                      TXT "v=spf1 ip4:198.51.100.0/24 ip6:2001:db8:100::/48 -all"
#	  mx.X                A 198.51.100.1, AAAA 2001:db8:100::1
#	  soft.X              "v=spf1 ~all"        (softfail)
#	  neutral.X           "v=spf1 ?all"        (neutral)
#	  fail.X              "v=spf1 -all"        (fail)
#	  incl.X              "v=spf1 include:X -all" (pass via include for 198.51.100/24)
#	  loop.X              "v=spf1 include:loop.X -all" (include loop: permerror)
#	  twospf.X            two SPF records (permerror)
#	  none.X              A 198.51.100.1 and no TXT (none)
#	  _dmarc.X            "v=DMARC1; p=reject; ..." (insec: p=none; expired:
#	                      p=quarantine)
#	  sel1._domainkey.X   "v=DKIM1; k=rsa; p=..." (DNSLAB_DKIM_KEY)
#	  ed1._domainkey.X    "v=DKIM1; k=ed25519; p=..." (DNSLAB_DKIM_ED_KEY)
#	sec.test only: client A 198.51.100.10, AAAA 2001:db8:100::10, TXT
#	"v=spf1 a -all" (a HELO name that passes SPF from .10); client6 AAAA
#	2001:db8:100::10.
#	insec.test only: forged A 203.0.113.99 (does not match its PTR);
#	timeout.insec.test NS ns.timeout.insec.test (glue 127.0.0.3), and
#	unbound drops every query at or under timeout.insec.test (local-zone
#	deny): no answer ever, the same for every query (dig +time=3 +tries=1
#	"timed out"). servfail.insec.test is a zone nsd is configured for but
#	has no data for: SERVFAIL at once, also with +cd (an "error", not
#	"bogus").
#	100.51.198.in-addr.arpa and 0.0.1.0.8.b.d.0.1.0.0.2.ip6.arpa: signed
#	(secure; each is a trust anchor of its own). PTRs:
#	  198.51.100.1   mx.sec.test        2001:db8:100::1   mx.sec.test
#	  198.51.100.10  client.sec.test    2001:db8:100::10  client6.sec.test
#	  198.51.100.11  forged.insec.test  2001:db8:100::11  forged.insec.test
#	  198.51.100.12  (NXDOMAIN)         2001:db8:100::12  (NXDOMAIN)
#	So iprev passes for .10 and ::10, fails for .11 and ::11, and has no
#	name for .12 and ::12. Any other name gets SERVFAIL (nsd REFUSES it): no
#	query leaves the machine.
#
# NETWORK
#	dnslab_client_ns creates namespace smtpscope-cli-$$ (only lo and the
#	veth) joined to the HOST namespace by a veth pair dlhPID (host side:
#	198.51.100.1/24, 2001:db8:100::1/64) and dlcPID (namespace side:
#	198.51.100.10, .11, .12/24 and 2001:db8:100::10, ::11, ::12/64; IPv6
#	without duplicate address detection, so usable at once). Choose the
#	source with swaks --local-interface ADDRESS. The namespace's resolv.conf
#	says nameserver 127.0.0.1, and nothing listens there in the namespace:
#	every lookup fails at once and none leaves the machine (swaks given an
#	address does no DNS; give --helo, or swaks looks up its own name). Only one test at a time can own 198.51.100.1 in the host
#	namespace, so dnslab_client_ns holds an exclusive lock
#	(/run/lock/smtpscope-dnslab-net.lock, through a flock(1) helper process
#	that exits when the test shell does) and waits up to 120 s for it.
#
#	Postfix: the harness binds smtpd to explicit addresses in master.cf
#	(127.0.0.1:$PF_PORT, [::1]:$PF_PORT), so changing inet_interfaces is
#	neither needed nor enough; dnslab_postfix_listen adds the master.cf
#	lines. The client addresses are not in mynetworks; the harness's
#	relay_domains still accept rcpt@smtpscope.test, example.org, example.net.
#	Postfix itself does no DNS (disable_dns_lookups, smtpd_peername_lookup
#	= no: the client shows as unknown[198.51.100.11]); the milter does its
#	lookups through Nameservers $DNSLAB_RESOLVER.
#
#	Cleanup: dnslab_start and dnslab_client_ns put dnslab_stop in front of
#	the current EXIT trap (harness_init's harness_cleanup), so a test that
#	fails, exits midway, dies under "set -e" or "set -u", or gets INT/TERM
#	stops the daemons and deletes the veth, namespace and /etc/netns/NAME.
#	The daemons' PIDs also go to harness_track_pid. After a SIGKILL,
#	the next dnslab_start or dnslab_client_ns removes namespaces
#	smtpscope-cli-PID and stops nsd/unbound/black holes under
#	/tmp/smtpscope-*/dns whose owning test shell (dns/owner: PID and start
#	time) is gone. Stopped orphans can stay zombies for a moment here
#	(init reaps them late): check "state Z" rather than /proc/PID.
#
# DIAGNOSTICS
#	Functions return non-zero on failure and never exit. Failures are
#	explained as TAP diagnostics ("# " lines): the failing command's output,
#	the nsd and unbound log tails, the last dig answer. KEEP=1 keeps $T.

DNSLAB_HOST4=198.51.100.1
DNSLAB_HOST6=2001:db8:100::1
DNSLAB_CLIENT4=(198.51.100.10 198.51.100.11 198.51.100.12)
DNSLAB_CLIENT6=(2001:db8:100::10 2001:db8:100::11 2001:db8:100::12)
DNSLAB_LOCK=/run/lock/smtpscope-dnslab-net.lock
DNSLAB_DIR='' DNSLAB_RESOLVER='' DNSLAB_RESOLVER6='' DNSLAB_RESOLVER_PORT=''
DNSLAB_AUTH='' DNSLAB_AUTH_PORT='' DNSLAB_BLACKHOLE='' DNSLAB_TA='' DNSLAB_ZONES=''
DNSLAB_DKIM_KEY='' DNSLAB_DKIM_ED_KEY='' DNSLAB_NETNS='' DNSLAB_VETH=''
_DNSLAB_PIDS=()
_DNSLAB_LOCK_PID=
_DNSLAB_DKIM_RSA='' _DNSLAB_DKIM_ED=''

_DNSLAB_REV4=100.51.198.in-addr.arpa
_DNSLAB_REV6=0.0.1.0.8.b.d.0.1.0.0.2.ip6.arpa

# dnslab_diag - print TEXT (each line) as TAP diagnostics
dnslab_diag() { printf '%s\n' "$@" | sed 's/^/# /'; }

# dnslab_available - true when every tool the lab needs is installed
dnslab_available() {
	local t missing=
	for t in nsd unbound ldns-keygen ldns-signzone dig perl ip ss flock tail; do
		command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
	done
	if [ -n "$missing" ]; then
		dnslab_diag "dnslab: missing:$missing (apt-get install nsd unbound ldnsutils bind9-dnsutils iproute2)"
		return 1
	fi
	if [ "$(id -u)" != 0 ]; then
		dnslab_diag "dnslab: needs root (network namespaces, veth)"
		return 1
	fi
}

# dnslab_noerrexit CMD... - run CMD with errexit off, restore it, return CMD's status
#
# The public functions run through it: their bodies test and tolerate
# failing commands, which "set -e" in the calling test would turn into an
# exit halfway through. The caller's "set -e" still sees the status.
dnslab_noerrexit() {
	local rc errexit=
	case $- in *e*) errexit=1; set +e ;; esac
	"$@"
	rc=$?
	[ -n "$errexit" ] && set -e
	return $rc
}

# dnslab_hook_exit - make the EXIT trap run dnslab_stop before its current command (once)
dnslab_hook_exit() {
	local cur
	local -a words
	cur=$(trap -p EXIT)
	case $cur in *dnslab_exit_hook*) return 0 ;; esac
	if [ -n "$cur" ]; then
		# "trap -- 'COMMAND' EXIT": words[2] is COMMAND
		eval "words=($cur)"
		trap -- "dnslab_exit_hook $(printf '%q' "${words[2]}")" EXIT
	else
		trap -- dnslab_exit_hook EXIT
	fi
}

# dnslab_exit_hook - EXIT trap: dnslab_stop, then COMMAND (the earlier trap) with $? kept
dnslab_exit_hook() {
	local rc=$?
	set +e
	dnslab_stop
	if [ -n "${1:-}" ]; then
		(exit "$rc")
		eval "$1"
	fi
	return "$rc"
}

# dnslab_udp_busy - true when anything has UDP PORT open
dnslab_udp_busy() { [ -n "$(ss -Hlun "sport = :$1" 2>/dev/null)" ]; }

# dnslab_free_port VAR - set VAR to a port free for TCP and UDP, and reserve it
#
# Reserved in harness.sh's _H_PORTS, so no later harness_free_port (or
# Postfix's pf_config) hands it out again; hence no $( ) here.
dnslab_free_port() {
	local port _
	for _ in $(seq 50); do
		port=$(harness_free_port) || return 1
		dnslab_udp_busy "$port" && continue
		_H_PORTS+=("$port")
		printf -v "$1" %s "$port"
		return 0
	done
	dnslab_diag "dnslab: no free TCP+UDP port found"
	return 1
}

# dnslab_rev6 - print the owner name, relative to the /48 zone, of 2001:db8:100::HEX
dnslab_rev6() {
	local nib i out=
	nib=$(printf '0000000000000000%04x' "0x$1")
	for ((i = ${#nib} - 1; i >= 0; i--)); do out=$out${nib:i:1}.; done
	echo "${out%.}"
}

# dnslab_soa - print $TTL, SOA and NS lines for ZONE (name server ns1.ZONE at 127.0.0.1)
dnslab_soa() {
	cat <<EOF
\$ORIGIN $1.
\$TTL 300
@	SOA	ns1.$1. hostmaster.$1. ( $EPOCHSECONDS 3600 600 86400 300 )
@	NS	ns1.$1.
ns1	A	127.0.0.1
EOF
}

# dnslab_txt - print "STRING" as one or more quoted chunks of at most 255 bytes
dnslab_txt() {
	local s=$1 out=
	while [ ${#s} -gt 200 ]; do
		out="$out\"${s:0:200}\" "
		s=${s:200}
	done
	echo "$out\"$s\""
}

# dnslab_zone_mail - print the mail test records of DOMAIN (SPF, MX, DMARC, DKIM)
dnslab_zone_mail() {
	local d=$1 dmarc=$2
	dnslab_soa "$d"
	cat <<EOF
@	A	198.51.100.1
@	AAAA	2001:db8:100::1
@	MX	10 mx.$d.
@	TXT	"v=spf1 ip4:198.51.100.0/24 ip6:2001:db8:100::/48 -all"
mx	A	198.51.100.1
mx	AAAA	2001:db8:100::1
soft	TXT	"v=spf1 ~all"
neutral	TXT	"v=spf1 ?all"
fail	TXT	"v=spf1 -all"
incl	TXT	"v=spf1 include:$d -all"
loop	TXT	"v=spf1 include:loop.$d -all"
twospf	TXT	"v=spf1 ip4:198.51.100.0/24 -all"
twospf	TXT	"v=spf1 -all"
none	A	198.51.100.1
_dmarc	TXT	"v=DMARC1; p=$dmarc; rua=mailto:dmarc@$d"
EOF
	[ -n "$_DNSLAB_DKIM_RSA" ] && echo "sel1._domainkey	TXT	$_DNSLAB_DKIM_RSA"
	[ -n "$_DNSLAB_DKIM_ED" ] && echo "ed1._domainkey	TXT	$_DNSLAB_DKIM_ED"
	return 0
}

# dnslab_zones - write every zone source into $DNSLAB_ZONES
dnslab_zones() {
	local z=$DNSLAB_ZONES c k=$DNSLAB_DIR/keys
	_DNSLAB_DKIM_RSA='' _DNSLAB_DKIM_ED=''
	[ -s "$k/dkim-sel1.pub" ] && _DNSLAB_DKIM_RSA=$(dnslab_txt "v=DKIM1; k=rsa; p=$(<"$k/dkim-sel1.pub")")
	[ -s "$k/dkim-ed1.pub" ] && _DNSLAB_DKIM_ED="\"v=DKIM1; k=ed25519; p=$(<"$k/dkim-ed1.pub")\""
	{
		dnslab_zone_mail sec.test reject
		cat <<EOF
client	A	198.51.100.10
client	AAAA	2001:db8:100::10
client	TXT	"v=spf1 a -all"
client6	AAAA	2001:db8:100::10
EOF
	} >"$z/sec.test.zone" || return 1
	{
		dnslab_zone_mail insec.test none
		cat <<EOF
forged	A	203.0.113.99
timeout	NS	ns.timeout.insec.test.
ns.timeout	A	127.0.0.3
EOF
	} >"$z/insec.test.zone" || return 1
	dnslab_zone_mail bogus.test reject >"$z/bogus.test.zone" || return 1
	dnslab_zone_mail expired.test quarantine >"$z/expired.test.zone" || return 1
	{
		dnslab_soa "$_DNSLAB_REV4"
		printf '%s\tPTR\t%s\n' 1 mx.sec.test. 10 client.sec.test. 11 forged.insec.test.
	} >"$z/$_DNSLAB_REV4.zone" || return 1
	{
		dnslab_soa "$_DNSLAB_REV6"
		printf '%s\tPTR\t%s\n' "$(dnslab_rev6 1)" mx.sec.test. \
			"$(dnslab_rev6 10)" client6.sec.test. "$(dnslab_rev6 11)" forged.insec.test.
	} >"$z/$_DNSLAB_REV6.zone" || return 1
	# the parent is written last: it needs the children's DS records
	{
		dnslab_soa test
		for c in sec insec bogus expired; do
			printf '%s\tNS\tns1.%s.test.\nns1.%s\tA\t127.0.0.1\n' "$c" "$c" "$c"
		done
		cat "$DNSLAB_DIR"/keys/K{sec,bogus,expired}.test.+*.ds
	} >"$z/test.zone"
}

# dnslab_keys ZONE - make a KSK and a ZSK for ZONE; print their base names
dnslab_keys() {
	local ksk zsk
	ksk=$(cd "$DNSLAB_DIR/keys" && ldns-keygen -a ECDSAP256SHA256 -k "$1") || return 1
	zsk=$(cd "$DNSLAB_DIR/keys" && ldns-keygen -a ECDSAP256SHA256 "$1") || return 1
	echo "$DNSLAB_DIR/keys/$ksk $DNSLAB_DIR/keys/$zsk"
}

# dnslab_sign ZONE [ldns-signzone options] - sign zones/ZONE.zone into zones/ZONE.signed
dnslab_sign() {
	local zone=$1
	local -a keys=("$DNSLAB_DIR/keys/K$zone.+"*.private)
	shift
	[ -e "${keys[0]}" ] || return 1
	ldns-signzone "$@" -o "$zone." -f "$DNSLAB_ZONES/$zone.signed" \
		"$DNSLAB_ZONES/$zone.zone" "${keys[@]%.private}"
}

# dnslab_tamper FILE - corrupt the signature of every RRSIG over A, AAAA, MX, TXT, PTR
#
# The first base64 character of the signature becomes "A" ("B" if it was
# "A"), so the record still parses and the data stays what the zone says.
dnslab_tamper() {
	awk 'BEGIN { OFS = "\t" }
	$4 == "RRSIG" && $5 ~ /^(A|AAAA|MX|TXT|PTR)$/ {
		c = substr($NF, 1, 1)
		$NF = (c == "A" ? "B" : "A") substr($NF, 2)
	}
	{ print }' "$1" >"$1.tmp" && mv "$1.tmp" "$1"
}

# dnslab_dkim_keys - RSA and Ed25519 DKIM keys into keys/ (skipped without openssl)
dnslab_dkim_keys() {
	local k=$DNSLAB_DIR/keys
	command -v openssl >/dev/null 2>&1 || return 0
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$k/dkim-sel1.key" 2>/dev/null &&
		openssl pkey -in "$k/dkim-sel1.key" -pubout -outform DER 2>/dev/null |
		base64 -w0 >"$k/dkim-sel1.pub"
	# an Ed25519 DKIM key is the raw 32-byte public key: the DER's last 32 bytes
	openssl genpkey -algorithm ED25519 -out "$k/dkim-ed1.key" 2>/dev/null &&
		openssl pkey -in "$k/dkim-ed1.key" -pubout -outform DER 2>/dev/null |
		tail -c 32 | base64 -w0 >"$k/dkim-ed1.pub"
	return 0
}

# dnslab_wait_all PID... - wait for every PID; false when any failed
dnslab_wait_all() {
	local pid rc=0
	for pid in "$@"; do wait "$pid" || rc=1; done
	return $rc
}

# dnslab_make_zones - keys, zone sources, signed zones and the trust anchor
#
# Key generation and signing run in parallel (about 1 s in all on an idle
# machine, most of it the RSA DKIM key; 2-3 s on a busy one).
dnslab_make_zones() {
	local z
	local -a jobs=()
	mkdir -p "$DNSLAB_DIR/keys" "$DNSLAB_ZONES" || return 1
	dnslab_dkim_keys & jobs+=($!)
	for z in test sec.test bogus.test expired.test "$_DNSLAB_REV4" "$_DNSLAB_REV6"; do
		dnslab_keys "$z" >/dev/null & jobs+=($!)
	done
	dnslab_wait_all "${jobs[@]}" || return 1
	[ -s "$DNSLAB_DIR/keys/dkim-sel1.pub" ] && DNSLAB_DKIM_KEY=$DNSLAB_DIR/keys/dkim-sel1.key
	[ -s "$DNSLAB_DIR/keys/dkim-ed1.pub" ] && DNSLAB_DKIM_ED_KEY=$DNSLAB_DIR/keys/dkim-ed1.key
	dnslab_zones || return 1
	jobs=()
	for z in test sec.test bogus.test "$_DNSLAB_REV4" "$_DNSLAB_REV6"; do
		dnslab_sign "$z" & jobs+=($!)
	done
	dnslab_sign expired.test -i 20190101000000 -e 20200101000000 & jobs+=($!)
	dnslab_wait_all "${jobs[@]}" || return 1
	dnslab_tamper "$DNSLAB_ZONES/bogus.test.signed" || return 1
	cp "$DNSLAB_ZONES/insec.test.zone" "$DNSLAB_ZONES/insec.test.signed" || return 1
	cat "$DNSLAB_DIR"/keys/K{test,"$_DNSLAB_REV4","$_DNSLAB_REV6"}.+*.ds >"$DNSLAB_TA"
}

# dnslab_nsd_conf - print nsd.conf (foreground, unprivileged paths under DNSLAB_DIR)
dnslab_nsd_conf() {
	local d=$DNSLAB_DIR z
	cat <<EOF
# nsd for one smtpscope integration test (t/integration/dnslab.sh)
server:
	ip-address: 127.0.0.1@$DNSLAB_AUTH_PORT
	ip-address: ::1@$DNSLAB_AUTH_PORT
	port: $DNSLAB_AUTH_PORT
	username: ""
	chroot: ""
	database: ""
	zonesdir: "$DNSLAB_ZONES"
	pidfile: "$d/nsd.pid"
	logfile: "$d/nsd.log"
	xfrdfile: "$d/xfrd.state"
	zonelistfile: "$d/zone.list"
	xfrdir: "$d/xfr"
	server-count: 1
	reuseport: no
	hide-version: yes
	verbosity: 1
remote-control:
	control-enable: no
EOF
	for z in test sec.test insec.test bogus.test expired.test "$_DNSLAB_REV4" "$_DNSLAB_REV6"; do
		printf 'zone:\n\tname: "%s."\n\tzonefile: "%s.signed"\n' "$z" "$z"
	done
	# a zone nsd is configured for but has no data for: it answers SERVFAIL
	printf 'zone:\n\tname: "servfail.insec.test."\n\tzonefile: "servfail.insec.test.missing"\n'
}

# dnslab_unbound_conf - print unbound.conf (validating, everything forwarded to nsd)
dnslab_unbound_conf() {
	local d=$DNSLAB_DIR p=$DNSLAB_RESOLVER_PORT
	cat <<EOF
# validating unbound for one smtpscope integration test (t/integration/dnslab.sh)
server:
	interface: 127.0.0.1@$p
	interface: ::1@$p
	port: $p
	do-daemonize: no
	username: ""
	chroot: ""
	directory: "$d"
	pidfile: "$d/unbound.pid"
	use-syslog: no
	logfile: "$d/unbound.log"
	verbosity: 1
	val-log-level: 2
	log-servfail: yes
	num-threads: 1
	so-reuseport: no
	interface-automatic: no
	access-control: 127.0.0.0/8 allow
	access-control: ::1/128 allow
	do-not-query-localhost: no
	# the lab's anchors only: test. and the two reverse zones, no root anchor
	trust-anchor-file: "$DNSLAB_TA"
	# built-in empty zones that would hide ours
	local-zone: "test." nodefault
	local-zone: "100.51.198.in-addr.arpa." nodefault
	local-zone: "8.b.d.0.1.0.0.2.ip6.arpa." nodefault
	cache-max-ttl: ${DNSLAB_CACHE_MAX_TTL:-5}
	cache-max-negative-ttl: ${DNSLAB_CACHE_MAX_TTL:-5}
	val-bogus-ttl: ${DNSLAB_CACHE_MAX_TTL:-5}
	# the resolver drops every query at or under timeout.insec.test: each one
	# times out at the client, the same every time (a forward to the black
	# hole does that only until unbound marks the server down, then SERVFAILs)
	local-zone: "timeout.insec.test." deny
remote-control:
	control-enable: no
# everything goes to nsd (REFUSED outside the lab zones), nothing to the Internet
forward-zone:
	name: "."
	forward-addr: 127.0.0.1@$DNSLAB_AUTH_PORT
EOF
}

# dnslab_blackhole_script - print the never-answering DNS server: PORT
dnslab_blackhole_script() {
	cat <<'EOF'
# blackhole.pl - take DNS queries on 127.0.0.1 UDP and TCP PORT, never answer (dnslab.sh)
use strict; use warnings; use IO::Socket::INET;
my $port = shift;
my $u = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => $port,
	Proto => "udp") or die "udp $port: $!\n";
my $t = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => $port,
	Proto => "tcp", Listen => 64, ReuseAddr => 1) or die "tcp $port: $!\n";
$SIG{TERM} = sub { exit 0 };
print "listening\n";
# nothing is read: UDP queries wait in the socket buffer, TCP ones in the backlog
sleep 3600 while 1;
EOF
}

# dnslab_spawn NAME CMD... - start CMD in the background, log to NAME.out, track its PID
dnslab_spawn() {
	local name=$1
	shift
	"$@" </dev/null >>"$DNSLAB_DIR/$name.out" 2>&1 &
	_DNSLAB_PIDS+=($!)
	harness_track_pid $!
}

# dnslab_veth_up NS VETH - the namespace routes to the host side, VETH is up
dnslab_veth_up() {
	ip -n "$1" route get "$DNSLAB_HOST4" >/dev/null 2>&1 &&
		[ "$(cat "/sys/class/net/$2/operstate" 2>/dev/null)" = up ]
}

# dnslab_pf_listens - Postfix listens on the host side's two addresses
dnslab_pf_listens() {
	local out
	out=$(ss -Hltn 2>/dev/null)
	case $out in *"$DNSLAB_HOST4:$PF_PORT "*) ;; *) return 1 ;; esac
	case $out in *"[$DNSLAB_HOST6]:$PF_PORT "*) return 0 ;; esac
	return 1
}

# dnslab_ready - true when unbound answers sec.test SOA with NOERROR and AD
dnslab_ready() {
	dig @127.0.0.1 -p "$DNSLAB_RESOLVER_PORT" +dnssec +time=1 +tries=1 sec.test SOA \
		>"$DNSLAB_DIR/ready.dig" 2>&1 &&
		grep -qE '^;; ->>HEADER<<- .*status: NOERROR' "$DNSLAB_DIR/ready.dig" &&
		grep -qE '^;; flags:[a-z ]* ad[ ;]' "$DNSLAB_DIR/ready.dig"
}

# dnslab_diagnose - why the lab did not come up, as TAP diagnostics
dnslab_diagnose() {
	local pid f
	dnslab_diag "dnslab_start: $1"
	for pid in "${_DNSLAB_PIDS[@]}"; do
		harness_pid_gone "$pid" && dnslab_diag "PID $pid ($(cat "/proc/$pid/comm" 2>/dev/null || echo exited)) is not running"
	done
	for f in sign.out nsd.out nsd.log unbound.out unbound.log blackhole.out ready.dig; do
		[ -s "$DNSLAB_DIR/$f" ] && dnslab_diag "--- $f:" "$(tail -n 25 "$DNSLAB_DIR/$f")"
	done
	dnslab_diag "--- listening UDP:" "$(ss -Hlun 2>&1 | grep -E ":($DNSLAB_AUTH_PORT|$DNSLAB_RESOLVER_PORT) ")"
	return 0
}

# dnslab_start - make and sign the zones, start nsd, the black hole and unbound
dnslab_start() { dnslab_noerrexit dnslab_start_run; }
dnslab_start_run() {
	local bh _
	if [ -z "${T:-}" ] || [ ! -d "$T" ]; then
		dnslab_diag "dnslab_start: \$T is not set (call harness_init first)"
		return 1
	fi
	if [ ${#_DNSLAB_PIDS[@]} -gt 0 ]; then
		dnslab_diag "dnslab_start: already running (dnslab_stop first)"
		return 1
	fi
	dnslab_available || return 1
	dnslab_hook_exit
	dnslab_reap_stale
	DNSLAB_DIR=$T/dns
	DNSLAB_ZONES=$DNSLAB_DIR/zones
	DNSLAB_TA=$DNSLAB_DIR/keys/trust-anchor.ds
	rm -rf -- "$DNSLAB_DIR"
	mkdir -p "$DNSLAB_DIR/xfr" && chmod 755 "$DNSLAB_DIR" || return 1
	echo "$$ $(dnslab_starttime $$)" >"$DNSLAB_DIR/owner"
	dnslab_free_port DNSLAB_AUTH_PORT && dnslab_free_port DNSLAB_RESOLVER_PORT &&
		dnslab_free_port bh || return 1
	DNSLAB_AUTH=127.0.0.1:$DNSLAB_AUTH_PORT
	DNSLAB_RESOLVER=127.0.0.1:$DNSLAB_RESOLVER_PORT
	DNSLAB_RESOLVER6="[::1]:$DNSLAB_RESOLVER_PORT"
	DNSLAB_BLACKHOLE=127.0.0.1:$bh
	export DNSLAB_DIR DNSLAB_ZONES DNSLAB_TA DNSLAB_AUTH DNSLAB_AUTH_PORT DNSLAB_RESOLVER \
		DNSLAB_RESOLVER6 DNSLAB_RESOLVER_PORT DNSLAB_BLACKHOLE

	if ! dnslab_make_zones >"$DNSLAB_DIR/sign.out" 2>&1; then
		dnslab_diagnose "making or signing the zones failed"
		return 1
	fi
	export DNSLAB_DKIM_KEY DNSLAB_DKIM_ED_KEY
	dnslab_nsd_conf >"$DNSLAB_DIR/nsd.conf" && dnslab_unbound_conf >"$DNSLAB_DIR/unbound.conf" &&
		dnslab_blackhole_script >"$DNSLAB_DIR/blackhole.pl" || return 1
	if ! nsd-checkconf "$DNSLAB_DIR/nsd.conf" >"$DNSLAB_DIR/nsd.out" 2>&1 ||
		! unbound-checkconf "$DNSLAB_DIR/unbound.conf" >"$DNSLAB_DIR/unbound.out" 2>&1; then
		dnslab_diagnose "configuration check failed"
		return 1
	fi
	dnslab_spawn nsd nsd -d -c "$DNSLAB_DIR/nsd.conf"
	dnslab_spawn blackhole perl "$DNSLAB_DIR/blackhole.pl" "$bh"
	dnslab_spawn unbound unbound -d -c "$DNSLAB_DIR/unbound.conf"
	harness_wait "$HARNESS_READY" dnslab_ready && return 0
	dnslab_diagnose "unbound did not answer sec.test SOA with AD within $HARNESS_READY s"
	dnslab_stop
	return 1
}

# dnslab_dig - dig ARGS at the lab's validating unbound (+dnssec)
dnslab_dig() { dig @127.0.0.1 -p "$DNSLAB_RESOLVER_PORT" +dnssec "$@"; }

# dnslab_lock - take the host-address lock through a flock(1) helper; wait 120 s
#
# The helper holds the lock until dnslab_unlock, or until the test shell
# exits (tail --pid), even when that shell is killed with SIGKILL.
dnslab_lock() {
	local out=$T/dnslab-lock.out i
	: >"$out"
	flock -o -x -w 120 "$DNSLAB_LOCK" sh -c 'echo locked; exec tail -s 0.2 --pid="$1" -f /dev/null' \
		sh $$ </dev/null >"$out" 2>&1 &
	_DNSLAB_LOCK_PID=$!
	for i in $(seq 1250); do
		if grep -q '^locked$' "$out" 2>/dev/null; then
			[ "$i" -gt 10 ] && dnslab_diag "dnslab_client_ns: waited $((i / 10)) s for $DNSLAB_LOCK"
			return 0
		fi
		harness_pid_gone "$_DNSLAB_LOCK_PID" && break
		sleep 0.1
	done
	dnslab_diag "dnslab_client_ns: no lock on $DNSLAB_LOCK within 120 s (another test owns 198.51.100.1)" \
		"$(cat "$out")" "holders: $(grep -l -F "$DNSLAB_LOCK" /proc/[0-9]*/cmdline 2>/dev/null | tr '\n' ' ')"
	dnslab_unlock
	return 1
}

# dnslab_unlock - stop the lock helper (and its tail), releasing the lock
dnslab_unlock() {
	local -a kids
	[ -n "$_DNSLAB_LOCK_PID" ] || return 0
	mapfile -t kids < <(harness_children "$_DNSLAB_LOCK_PID")
	harness_stop_pids "${kids[@]}"
	harness_stop_pids "$_DNSLAB_LOCK_PID"
	_DNSLAB_LOCK_PID=
}

# dnslab_starttime - print the start time of PID (field 22 of /proc/PID/stat), or nothing
dnslab_starttime() {
	local st
	local -a f
	read -r st 2>/dev/null <"/proc/$1/stat" || return 0
	st=${st##*) }
	read -r -a f <<<"$st"
	echo "${f[19]}"
}

# dnslab_reap_stale - remove namespaces and daemons of dnslab tests that are gone
dnslab_reap_stale() { dnslab_noerrexit dnslab_reap_stale_run; }
dnslab_reap_stale_run() {
	local ns pid f dir owner start
	local -a pids=() argv
	for ns in $(ip netns list 2>/dev/null | awk '{ print $1 }'); do
		case $ns in smtpscope-cli-*) ;; *) continue ;; esac
		pid=${ns#smtpscope-cli-}
		case $pid in '' | *[!0-9]*) continue ;; esac
		[ -d "/proc/$pid" ] && continue
		dnslab_diag "dnslab: removing stale namespace $ns"
		harness_netns_delete "$ns" "dlh$pid"
	done
	# nsd, unbound and blackhole.pl started by dnslab_start for a test shell
	# that is gone: dns/owner names its PID and start time (PIDs get reused)
	for f in /proc/[0-9]*/cmdline; do
		mapfile -d '' -t argv 2>/dev/null <"$f" || continue
		[ ${#argv[@]} -ge 2 ] || continue
		case ${argv[0]##*/} in
		nsd | unbound) [ ${#argv[@]} -ge 4 ] && [ "${argv[1]}" = -d ] && [ "${argv[2]}" = -c ] || continue
			dir=${argv[3]} ;;
		perl) dir=${argv[1]} ;;
		*) continue ;;
		esac
		case $dir in /tmp/smtpscope-*/dns/nsd.conf | /tmp/smtpscope-*/dns/unbound.conf | \
			/tmp/smtpscope-*/dns/blackhole.pl) ;;
		*) continue ;;
		esac
		read -r owner start 2>/dev/null <"${dir%/*}/owner" || continue
		case $owner in '' | *[!0-9]*) continue ;; esac
		[ "$(dnslab_starttime "$owner")" = "$start" ] && continue
		pid=${f#/proc/}
		pids+=("${pid%/cmdline}")
	done
	if [ ${#pids[@]} -gt 0 ]; then
		dnslab_diag "dnslab: stopping stale DNS lab processes ${pids[*]}"
		harness_stop_pids "${pids[@]}"
	fi
	return 0
}

# dnslab_client_ns - namespace smtpscope-cli-$$ joined to the host by a veth pair
dnslab_client_ns() { dnslab_noerrexit dnslab_client_ns_run; }
dnslab_client_ns_run() {
	local ns=smtpscope-cli-$$ vh=dlh$$ vc=dlc$$ a err _
	if [ -z "${T:-}" ] || [ ! -d "$T" ]; then
		dnslab_diag "dnslab_client_ns: \$T is not set (call harness_init first)"
		return 1
	fi
	if [ -n "$DNSLAB_NETNS" ]; then
		dnslab_diag "dnslab_client_ns: $DNSLAB_NETNS exists (dnslab_client_ns_delete first)"
		return 1
	fi
	dnslab_available || return 1
	dnslab_hook_exit
	dnslab_reap_stale
	dnslab_lock || return 1
	DNSLAB_NETNS=$ns DNSLAB_VETH=$vh
	export DNSLAB_NETNS DNSLAB_VETH DNSLAB_HOST4 DNSLAB_HOST6
	harness_netns_delete "$ns" "$vh"
	a=$(ip -o addr show to "$DNSLAB_HOST4/32" 2>&1)
	if [ -n "$a" ]; then
		dnslab_diag "dnslab_client_ns: $DNSLAB_HOST4 is already on this host:" "$a"
		dnslab_client_ns_delete
		return 1
	fi
	if ! err=$({
		ip netns add "$ns" &&
		ip -n "$ns" link set lo up &&
		ip link add "$vh" type veth peer name "$vc" netns "$ns" &&
		ip addr add "$DNSLAB_HOST4/24" dev "$vh" &&
		ip addr add "$DNSLAB_HOST6/64" dev "$vh" nodad &&
		for a in "${DNSLAB_CLIENT4[@]}"; do ip -n "$ns" addr add "$a/24" dev "$vc" || exit 1; done &&
		for a in "${DNSLAB_CLIENT6[@]}"; do ip -n "$ns" addr add "$a/64" dev "$vc" nodad || exit 1; done &&
		ip link set "$vh" up &&
		ip -n "$ns" link set "$vc" up &&
		mkdir -p "/etc/netns/$ns" &&
		printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"/etc/netns/$ns/resolv.conf" &&
		printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"/etc/netns/$ns/hosts"
	} 2>&1); then
		dnslab_diag "dnslab_client_ns: cannot set up $ns:" "$err"
		dnslab_client_ns_delete
		return 1
	fi
	# wait until the host side can reach the client side
	harness_wait "$HARNESS_READY" dnslab_veth_up "$ns" "$vh" && return 0
	dnslab_diag "dnslab_client_ns: $vh did not come up:" "$(ip addr show "$vh" 2>&1)"
	dnslab_client_ns_delete
	return 1
}

# dnslab_exec - run CMD... inside the client namespace
dnslab_exec() {
	if [ -z "$DNSLAB_NETNS" ] || [ ! -e "/run/netns/$DNSLAB_NETNS" ]; then
		dnslab_diag "dnslab_exec: no client namespace (dnslab_client_ns first)"
		return 1
	fi
	ip netns exec "$DNSLAB_NETNS" "$@"
}

# dnslab_swaks - swaks from address SRC in the namespace to the harness Postfix
dnslab_swaks() { dnslab_noerrexit dnslab_swaks_run "$@"; }
dnslab_swaks_run() {
	local src=$1 server=$DNSLAB_HOST4 rc
	shift
	case $src in *:*) server=$DNSLAB_HOST6 ;; esac
	printf '=== dnslab: swaks from %s %s\n' "$src" "$*" >>"$T/swaks.log"
	dnslab_exec swaks --server "$server" --port "${PF_PORT:-25}" --local-interface "$src" \
		--timeout 15 --from sender@example.org --to rcpt@smtpscope.test "$@" \
		>>"$T/swaks.log" 2>&1
	rc=$?
	echo "=== exit $rc" >>"$T/swaks.log"
	return $rc
}

# dnslab_postfix_listen - add smtpd listeners on the host side of the veth to the harness Postfix
#
# Adds to master.cf (postconf -M) the services 198.51.100.1:$PF_PORT and
# [2001:db8:100::1]:$PF_PORT (plain smtpd, STARTTLS offered) and
# 198.51.100.1:$PF_TLS_PORT (wrapper-mode TLS, syslog_name postfix/smtps).
# Before pf_start this only writes the configuration; after it, pf_reload
# and a wait (HARNESS_READY) until the master listens on both addresses.
dnslab_postfix_listen() { dnslab_noerrexit dnslab_postfix_listen_run; }
dnslab_postfix_listen_run() {
	local etc
	pf_config || return 1
	etc=$PF_DIR/etc
	postconf -c "$etc" -M \
		"$DNSLAB_HOST4:$PF_PORT/inet=$DNSLAB_HOST4:$PF_PORT inet n - n - - smtpd" \
		"[$DNSLAB_HOST6]:$PF_PORT/inet=[$DNSLAB_HOST6]:$PF_PORT inet n - n - - smtpd" \
		"$DNSLAB_HOST4:$PF_TLS_PORT/inet=$DNSLAB_HOST4:$PF_TLS_PORT inet n - n - - smtpd -o syslog_name=postfix/smtps -o smtpd_tls_wrappermode=yes -o smtpd_tls_security_level=encrypt" ||
		return 1
	pf_age_config
	pf_master_pid >/dev/null 2>&1 || return 0
	pf_reload || { dnslab_diag "dnslab_postfix_listen: postfix reload failed"; return 1; }
	harness_wait "$HARNESS_READY" dnslab_pf_listens && return 0
	dnslab_diag "dnslab_postfix_listen: Postfix does not listen on $DNSLAB_HOST4 / [$DNSLAB_HOST6] port $PF_PORT" \
		"$(tail -n 20 "$PF_LOG" 2>&1)"
	return 1
}

# dnslab_client_ns_delete - stop what runs in the namespace, delete it and its veth; release the lock
dnslab_client_ns_delete() { dnslab_noerrexit dnslab_client_ns_delete_run; }
dnslab_client_ns_delete_run() {
	if [ -n "$DNSLAB_NETNS" ]; then
		harness_netns_delete "$DNSLAB_NETNS" "$DNSLAB_VETH"
	fi
	DNSLAB_NETNS='' DNSLAB_VETH=''
	dnslab_unlock
	return 0
}

# dnslab_stop - delete the client namespace, stop unbound, nsd and the black hole; keeps $?
dnslab_stop() {
	local rc=$? errexit=
	case $- in *e*) errexit=1; set +e ;; esac
	dnslab_client_ns_delete
	if [ ${#_DNSLAB_PIDS[@]} -gt 0 ]; then
		harness_stop_pids "${_DNSLAB_PIDS[@]}"
	fi
	_DNSLAB_PIDS=()
	[ -n "$errexit" ] && set -e
	return $rc
}
