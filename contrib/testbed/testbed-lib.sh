# testbed-lib.sh - the measurement test bed on one machine (sourced, bash)
#
# Reproduces the set-up of "Not that Simple" (Holzbauer et al., USENIX ATC
# 2022) in network namespaces: receiving target domains under tb., each
# set up so that delivery succeeds only for senders with (or without) one
# capability, and simulated sending providers (profiles.conf) whose
# capabilities are known. Design: docs/testbed.md. Used by testbed-start.sh,
# testbed-run.sh, testbed-stop.sh and t/integration/testbed.sh.
#
# NETWORK (nothing is added to the host's own namespace but the
# namespaces themselves; no route leads out of them)
#	stb-core   a bridge br0; every other namespace has a veth eth0 on it
#	stb-rx     the receiver: Postfix + smtpscope on 192.0.2.25 and
#	           2001:db8:17::25 (STARTTLS offered), 192.0.2.26 and ::26
#	           (STARTTLS required); nsd for tb. on 192.0.2.53 (IPv4 only),
#	           a second nsd for v6ns.tb on [2001:db8:17::54] (IPv6 only);
#	           a validating unbound on 127.0.0.1 for smtpscope's lookups
#	stb-pN     provider N: Postfix (submission on 127.0.0.1:25), its own
#	           unbound on 127.0.0.1:53 (the namespace's resolv.conf),
#	           192.0.2.10N and, with IPv6, 2001:db8:17::10N
#
# State lives in $TB_DIR (default /tmp/smtpscope-testbed): pki/, dns/,
# rx/ (Postfix), scope/ (smtpscope: records.jsonl), pN/ (Postfix), pN-dns/.
# Needs root, iproute2, nsd, unbound, ldns-utils, openssl, postfix, swaks,
# and the smtpscope binary ($SCOPE_BIN, default build/milter/smtpscope).

TB_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TB_TOP=$(cd "$TB_HERE/../.." && pwd)
TB_DIR=${TB_DIR:-/tmp/smtpscope-testbed}
TB_PROFILES=${TB_PROFILES:-$TB_HERE/profiles.conf}
TB_TARGETS_FILE=$TB_HERE/targets.testbed
SCOPE_BIN=${SCOPE_BIN:-$TB_TOP/build/milter/smtpscope}
TB_NS=stb
TB_NET4=192.0.2 TB_NET6=2001:db8:17
# the target tags, in the order the driver sends to them
TB_TARGETS=(base v4only v6only v6ns bogus tlsreq badcert tlsabad tlsagood stsbad gl)
TB_GL_DELAY=${TB_GL_DELAY:-10}

# shellcheck source=../../t/integration/harness.sh
. "$TB_TOP/t/integration/harness.sh"
# shellcheck source=../../t/integration/dnslab.sh
. "$TB_TOP/t/integration/dnslab.sh"

tb_log() { printf 'testbed: %s\n' "$*" >&2; }

# tb_profiles - print the profile lines (no comments): NAME IPV6 VAL RES6 TLS RETRY
tb_profiles() { sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$TB_PROFILES"; }

# tb_exec NS CMD... - run CMD in namespace stb-NS
tb_exec() { local ns=$1; shift; ip netns exec "$TB_NS-$ns" "$@"; }

# tb_spawn NS NAME CMD... - start CMD in the background in stb-NS, log to NAME.out
tb_spawn() {
	local ns=$1 name=$2
	shift 2
	ip netns exec "$TB_NS-$ns" "$@" >>"$TB_DIR/$name.out" 2>&1 &
	echo $! >>"$TB_DIR/pids"
}

# --------------------------------------------------------------- network
# tb_ns_add NAME ADDR... - namespace stb-NAME with eth0 on the bridge
tb_ns_add() {
	local name=$1 a
	shift
	ip netns add "$TB_NS-$name" || return 1
	ip link add "$TB_NS-v-$name" type veth peer name eth0 netns "$TB_NS-$name" || return 1
	ip link set "$TB_NS-v-$name" netns "$TB_NS-core" || return 1
	ip -n "$TB_NS-core" link set "$TB_NS-v-$name" master br0 up || return 1
	ip -n "$TB_NS-$name" link set lo up
	tb_exec "$name" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
	for a in "$@"; do
		case $a in
		*:*) ip -n "$TB_NS-$name" addr add "$a/64" dev eth0 nodad || return 1 ;;
		*) ip -n "$TB_NS-$name" addr add "$a/24" dev eth0 || return 1 ;;
		esac
	done
	ip -n "$TB_NS-$name" link set eth0 up
	mkdir -p "/etc/netns/$TB_NS-$name"
	printf 'nameserver 127.0.0.1\noptions trust-ad\n' >"/etc/netns/$TB_NS-$name/resolv.conf"
}

# tb_net - the core bridge, the receiver and one namespace per provider
tb_net() {
	local name v6 _
	ip netns add "$TB_NS-core" || return 1
	ip -n "$TB_NS-core" link set lo up
	ip -n "$TB_NS-core" link add br0 type bridge || return 1
	ip -n "$TB_NS-core" link set br0 up
	tb_ns_add rx "$TB_NET4.25" "$TB_NET4.26" "$TB_NET4.27" "$TB_NET4.53" \
		"$TB_NET6::25" "$TB_NET6::26" "$TB_NET6::54" || return 1
	while read -r name v6 _; do
		if [ "$v6" = yes ]; then
			tb_ns_add "$name" "$TB_NET4.10${name#p}" "$TB_NET6::10${name#p}" || return 1
		else
			tb_ns_add "$name" "$TB_NET4.10${name#p}" || return 1
			tb_exec "$name" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
		fi
	done < <(tb_profiles)
}

# ------------------------------------------------------------------ PKI
# tb_pki - the harness CA, and a server certificate for the good MX names
# (not mxbad.tb: the certificate does not match that target's name)
tb_pki() {
	local d=$TB_DIR/pki
	harness_pki "$d" >&2 || return 1
	[ -f "$d/tb.crt" ] && return 0
	local san="DNS:mx.tb,DNS:mx4.tb,DNS:mx6.tb,DNS:mxtls.tb,DNS:mx-tlsabad.tb"
	san="$san,DNS:mx-tlsagood.tb,DNS:mx.bogus.tb,DNS:mx.v6ns.tb,DNS:mta-sts.stsbad.tb"
	openssl req -newkey rsa:2048 -nodes -keyout "$d/tb.key" -out "$d/tb.csr" \
		-subj "/O=smtpscope testbed/CN=mx.tb" 2>/dev/null || return 1
	printf '%s\n' "basicConstraints=CA:FALSE" "extendedKeyUsage=serverAuth" \
		"subjectAltName=$san" >"$d/tb.ext"
	openssl x509 -req -days 30 -in "$d/tb.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" \
		-CAserial "$d/ca.srl" -CAcreateserial -extfile "$d/tb.ext" \
		-out "$d/tb.crt" 2>/dev/null || return 1
	chmod 644 "$d/tb.crt" && chmod 600 "$d/tb.key"
}

# tb_tlsa_hash - SHA-256 of the server certificate's public key (TLSA 3 1 1)
tb_tlsa_hash() {
	openssl x509 -in "$TB_DIR/pki/tb.crt" -noout -pubkey |
		openssl pkey -pubin -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1
}

# ------------------------------------------------------------------ DNS
# tb_soa ZONE NS - $TTL, SOA and NS lines
tb_soa() {
	printf '$ORIGIN %s.\n$TTL 60\n@ SOA %s hostmaster.%s. ( %s 3600 600 86400 30 )\n@ NS %s\n' \
		"$1" "$2" "$1" "$EPOCHSECONDS" "$2"
}

# tb_zone_tb - the tb. zone: the MX hosts, the targets, the provider domains
tb_zone_tb() {
	local h4=$TB_NET4.25 h6=$TB_NET6::25 good bad name v6 _
	good=$(tb_tlsa_hash) || return 1
	bad=$(printf '%s' "$good" | tr '0-9a-f' '1-9a-f0')
	tb_soa tb ns.tb.
	cat <<EOF
ns	A	$TB_NET4.53
mx	A	$h4
mx	AAAA	$h6
mx4	A	$h4
mx6	AAAA	$h6
mxtls	A	$TB_NET4.26
mxtls	AAAA	$TB_NET6::26
mxbad	A	$h4
mxbad	AAAA	$h6
mx-tlsabad	A	$h4
mx-tlsabad	AAAA	$h6
mx-tlsagood	A	$h4
mx-tlsagood	AAAA	$h6
_25._tcp.mx-tlsagood	TLSA	3 1 1 $good
_25._tcp.mx-tlsabad	TLSA	3 1 1 $bad
base	MX	10 mx.tb.
gl	MX	10 mx.tb.
v4only	MX	10 mx4.tb.
v6only	MX	10 mx6.tb.
tlsreq	MX	10 mxtls.tb.
badcert	MX	10 mxbad.tb.
tlsabad	MX	10 mx-tlsabad.tb.
tlsagood	MX	10 mx-tlsagood.tb.
stsbad	MX	10 mxsts.tb.
mxsts	A	$h4
mxsts	AAAA	$h6
_mta-sts.stsbad	TXT	"v=STSv1; id=1"
mta-sts.stsbad	A	$TB_NET4.27
bogus	NS	ns.tb.
v6ns	NS	ns6.v6ns.tb.
ns6.v6ns	AAAA	$TB_NET6::54
EOF
	cat "$DNSLAB_DIR"/keys/Kbogus.tb.+*.ds | sed 's/^bogus\.tb\./bogus/'
	while read -r name v6 _; do
		local n=${name#p} spf="ip4:$TB_NET4.10${name#p}"
		[ "$v6" = yes ] && spf="$spf ip6:$TB_NET6::10$n"
		printf '%s\tTXT\t"v=spf1 %s -all"\n' "$name" "$spf"
		printf '_dmarc.%s\tTXT\t"v=DMARC1; p=none"\n' "$name"
		printf 'mail.%s\tA\t%s\n' "$name" "$TB_NET4.10$n"
	done < <(tb_profiles)
}

# tb_zones - keys, zone files (tb. and bogus.tb signed, bogus.tb tampered,
# v6ns.tb unsigned) and the trust anchor (DS of tb.)
tb_zones() {
	DNSLAB_DIR=$TB_DIR/dns DNSLAB_ZONES=$TB_DIR/dns/zones
	mkdir -p "$DNSLAB_DIR/keys" "$DNSLAB_ZONES" || return 1
	dnslab_keys tb >/dev/null && dnslab_keys bogus.tb >/dev/null || return 1
	{ tb_soa bogus.tb ns.tb.
	  printf '@\tMX\t10 mx.bogus.tb.\nmx\tA\t%s\nmx\tAAAA\t%s\n' "$TB_NET4.25" "$TB_NET6::25"
	} >"$DNSLAB_ZONES/bogus.tb.zone"
	{ tb_soa v6ns.tb ns6.v6ns.tb.
	  printf 'ns6\tAAAA\t%s\n@\tMX\t10 mx.v6ns.tb.\nmx\tA\t%s\nmx\tAAAA\t%s\n' \
		"$TB_NET6::54" "$TB_NET4.25" "$TB_NET6::25"
	} >"$DNSLAB_ZONES/v6ns.tb.zone"
	dnslab_sign bogus.tb >/dev/null && dnslab_tamper "$DNSLAB_ZONES/bogus.tb.signed" || return 1
	tb_zone_tb >"$DNSLAB_ZONES/tb.zone" || return 1
	dnslab_sign tb >/dev/null || return 1
	cat "$DNSLAB_DIR"/keys/Ktb.+*.ds >"$DNSLAB_DIR/ta.ds"
}

# tb_nsd_conf NAME ADDR ZONE... - nsd.conf of one nsd on ADDR port 53
tb_nsd_conf() {
	local d=$TB_DIR/dns name=$1 addr=$2 z
	shift 2
	cat <<EOF
# nsd $name of the smtpscope test bed (contrib/testbed/testbed-lib.sh)
server:
	ip-address: $addr
	username: ""
	chroot: ""
	database: ""
	zonesdir: "$d/zones"
	pidfile: "$d/$name.pid"
	logfile: "$d/$name.log"
	xfrdfile: "$d/$name-xfrd.state"
	zonelistfile: "$d/$name-zone.list"
	xfrdir: "$d/$name-xfr"
	server-count: 1
	reuseport: no
	verbosity: 1
remote-control:
	control-enable: no
EOF
	for z in "$@"; do
		printf 'zone:\n\tname: "%s."\n\tzonefile: "%s"\n' "$z" "$z.$( [ "$z" = v6ns.tb ] && echo zone || echo signed)"
	done
}

# tb_unbound_conf DIR VALIDATING IPV6 - unbound.conf of a resolver on 127.0.0.1:53
tb_unbound_conf() {
	local d=$1
	cat <<EOF
# unbound of the smtpscope test bed (contrib/testbed/testbed-lib.sh)
server:
	interface: 127.0.0.1
	port: 53
	do-daemonize: no
	username: ""
	chroot: ""
	directory: "$d"
	pidfile: "$d/unbound.pid"
	use-syslog: no
	logfile: "$d/unbound.log"
	verbosity: 1
	log-servfail: yes
	num-threads: 1
	so-reuseport: no
	access-control: 127.0.0.0/8 allow
	do-ip6: $3
	cache-max-ttl: 5
	cache-max-negative-ttl: 5
	infra-host-ttl: 5
	local-zone: "tb." nodefault
EOF
	if [ "$2" = yes ]; then
		printf '\tmodule-config: "validator iterator"\n\ttrust-anchor-file: "%s"\n' \
			"$TB_DIR/dns/ta.ds"
		printf '\tval-bogus-ttl: 5\n'
	else
		printf '\tmodule-config: "iterator"\n'
	fi
	printf 'remote-control:\n\tcontrol-enable: no\nstub-zone:\n\tname: "tb."\n\tstub-addr: %s\n' \
		"$TB_NET4.53"
}

# tb_dns - start both nsd and the receiver's validating unbound
tb_dns() {
	local d=$TB_DIR/dns
	tb_nsd_conf nsd4 "$TB_NET4.53" tb bogus.tb >"$d/nsd4.conf"
	tb_nsd_conf nsd6 "$TB_NET6::54" v6ns.tb >"$d/nsd6.conf"
	mkdir -p "$TB_DIR/rx-dns"
	tb_unbound_conf "$TB_DIR/rx-dns" yes yes >"$TB_DIR/rx-dns/unbound.conf"
	tb_spawn rx nsd4 nsd -d -c "$d/nsd4.conf"
	tb_spawn rx nsd6 nsd -d -c "$d/nsd6.conf"
	tb_spawn rx rx-unbound unbound -d -c "$TB_DIR/rx-dns/unbound.conf"
	tb_sts
}

# tb_sts - the MTA-STS policy of stsbad.tb over HTTPS on 192.0.2.27:443:
# enforce, MX mxsts.tb, a name the MX certificate does not cover
tb_sts() {
	local d=$TB_DIR/sts
	mkdir -p "$d/www/.well-known" || return 1
	printf 'version: STSv1\r\nmode: enforce\r\nmx: mxsts.tb\r\nmax_age: 86400\r\n' \
		>"$d/www/.well-known/mta-sts.txt"
	tb_spawn rx sts-https /usr/bin/python3 "$TB_HERE/sts-https.py" "$TB_NET4.27" \
		"$d/www" "$TB_DIR/pki/tb.crt" "$TB_DIR/pki/tb.key"
}

# tb_dig NS NAME TYPE - the answer of stb-NS's resolver (+short)
tb_dig() { tb_exec "$1" dig +short +time=2 +tries=1 @127.0.0.1 "$2" "$3" 2>/dev/null; }

# ---------------------------------------------------------------- smtpscope
tb_scope() {
	local s=$TB_DIR/scope t
	mkdir -p "$s" && chown nobody "$s" && chmod 755 "$s"
	# greylisting needs a global mode other than off; only gl enforces it
	for t in "${TB_TARGETS[@]}"; do
		echo "tag $t rcpt-domain $t.tb"
		[ "$t" = gl ] && echo "greylist $t enforce" || echo "greylist $t off"
	done >"$s/tags.rules"
	cat >"$s/smtpscope.conf" <<EOF
Socket unix:$s/smtpscope.sock
SocketMode 0666
RecordLog $s/records.jsonl
PidFile $s/smtpscope.pid
UserID nobody
Syslog no
TagRules $s/tags.rules
Greylist observe
GreylistDelay $TB_GL_DELAY
GreylistStore lmdb:$s/greylist.lmdb
Nameservers 127.0.0.1:53
SPF yes
DMARC yes
DKIM no
IPrev no
EOF
	tb_spawn rx smtpscope "$SCOPE_BIN" -c "$s/smtpscope.conf" -f
	harness_wait 20 test -S "$s/smtpscope.sock"
}

# ---------------------------------------------------------------- Postfix
# tb_pf_config NAME MAIN... - an instance in $TB_DIR/NAME from harness.sh's
# main.cf and master.cf, its loopback listeners replaced, MAIN applied
tb_pf_config() {
	local name=$1
	shift
	PF_DIR=$TB_DIR/$name PF_LOG=$TB_DIR/$name/maillog PF_PORT=2525 PF_TLS_PORT=4465
	PKI_DIR=$TB_DIR/pki
	mkdir -p "$PF_DIR/etc" "$PF_DIR/data" "$PF_DIR/spool" || return 1
	chmod 755 "$PF_DIR" "$PF_DIR/etc" "$PF_DIR/spool"
	chown postfix: "$PF_DIR/data" || return 1
	pf_main_cf >"$PF_DIR/etc/main.cf" && pf_master_cf >"$PF_DIR/etc/master.cf" || return 1
	postconf -c "$PF_DIR/etc" -MX "127.0.0.1:$PF_PORT/inet" "[::1]:$PF_PORT/inet" \
		"127.0.0.1:$PF_TLS_PORT/inet" || return 1
	postconf -c "$PF_DIR/etc" -e "$@" || return 1
}

# tb_pf_listen NAME ADDR:PORT [-o opts...] - add an smtpd listener
tb_pf_listen() {
	local name=$1 addr=$2
	shift 2
	postconf -c "$TB_DIR/$name/etc" -M "$addr/inet=$addr inet n - n - - smtpd $*"
}

# tb_pf_start NAME - check and start the instance inside stb-NAME (rx or pN)
tb_pf_start() {
	local dir=$TB_DIR/$1/etc
	postconf -c "$dir" -F '*/*/chroot = n' >/dev/null
	touch -d '-1 minute' "$dir/main.cf" "$dir/master.cf"
	postfix -c "$dir" check >"$TB_DIR/$1/check.out" 2>&1 || { cat "$TB_DIR/$1/check.out" >&2; return 1; }
	tb_exec "$1" postfix -c "$dir" start >>"$TB_DIR/$1/start.out" 2>&1
}

# tb_rx - the receiving Postfix: every target domain, smtpscope as milter
tb_rx() {
	local domains="" t
	for t in "${TB_TARGETS[@]}"; do domains="$domains $t.tb"; done
	tb_pf_config rx "myhostname = mx.tb" "mydomain = tb" "relay_domains =$domains" \
		"inet_interfaces = all" "mynetworks = 127.0.0.0/8" \
		"smtpd_tls_cert_file = $TB_DIR/pki/tb.crt" "smtpd_tls_key_file = $TB_DIR/pki/tb.key" \
		"smtpd_tls_ask_ccert = no" "smtpd_milters = unix:$TB_DIR/scope/smtpscope.sock" \
		"milter_default_action = tempfail" || return 1
	tb_pf_listen rx "$TB_NET4.25:25" && tb_pf_listen rx "[$TB_NET6::25]:25" &&
	tb_pf_listen rx "$TB_NET4.26:25" -o smtpd_tls_security_level=encrypt &&
	tb_pf_listen rx "[$TB_NET6::26]:25" -o smtpd_tls_security_level=encrypt || return 1
	tb_pf_start rx
}

# tb_mta_sts NAME - postfix-mta-sts-resolver in stb-NAME on 127.0.0.1:8461,
# trusting the bed's CA for the policy fetch
tb_mta_sts() {
	local d=$TB_DIR/$1-sts
	mkdir -p "$d"
	printf 'host: 127.0.0.1\nport: 8461\nreuse_port: true\ncache:\n  type: internal\n' >"$d/mta-sts-daemon.yml"
	printf 'default_zone:\n  strict_testing: false\n  timeout: 4\n' >>"$d/mta-sts-daemon.yml"
	tb_spawn "$1" "$1-mta-sts" env SSL_CERT_FILE="$TB_DIR/pki/ca.crt" \
		mta-sts-daemon -c "$d/mta-sts-daemon.yml" -v debug
}

# tb_provider NAME IPV6 VALIDATING RESOLVER6 TLS RETRY STS - resolver and MTA
tb_provider() {
	local name=$1 v6=$2 val=$3 res6=$4 tls=$5 retry=$6 sts=$7 dnsdir=$TB_DIR/$1-dns
	local -a main=("myhostname = mail.$name.tb" "mydomain = $name.tb" "myorigin = $name.tb"
		"mydestination = $name.tb" "local_recipient_maps =" "local_transport = discard:local"
		"relay_domains =" "default_transport = smtp" "relay_transport = smtp"
		"disable_dns_lookups = no" "inet_interfaces = 127.0.0.1"
		"smtp_tls_security_level = $tls" "smtp_tls_CAfile = $TB_DIR/pki/ca.crt"
		"smtp_tls_loglevel = 1" "smtp_connect_timeout = 5s"
		"queue_run_delay = 3s" "minimal_backoff_time = 3s" "maximal_backoff_time = 6s")
	if [ "$v6" = yes ]; then
		main+=("inet_protocols = all" "smtp_address_preference = ipv6")
	else
		main+=("inet_protocols = ipv4")
	fi
	[ "$tls" = dane ] && main+=("smtp_dns_support_level = dnssec")
	if [ "$sts" = yes ]; then
		tb_mta_sts "$name"
		main+=("smtp_tls_policy_maps = socketmap:inet:127.0.0.1:8461:postfix")
	fi
	if [ "$retry" = none ]; then
		main+=("maximal_queue_lifetime = 0" "bounce_queue_lifetime = 0")
	else
		main+=("maximal_queue_lifetime = 1h" "bounce_queue_lifetime = 1h")
	fi
	mkdir -p "$dnsdir"
	tb_unbound_conf "$dnsdir" "$val" "$res6" >"$dnsdir/unbound.conf"
	tb_spawn "$name" "$name-unbound" unbound -d -c "$dnsdir/unbound.conf"
	tb_pf_config "$name" "${main[@]}" || return 1
	tb_pf_listen "$name" "127.0.0.1:25" || return 1
	tb_pf_start "$name"
}

# ---------------------------------------------------------------- start/stop
# tb_ready - every provider's resolver answers mx.tb, the receiver listens
tb_ready() {
	local name _
	while read -r name _; do
		[ -n "$(tb_dig "$name" mx.tb A)" ] || return 1
	done < <(tb_profiles)
	tb_exec rx ss -Hltn | grep -q "$TB_NET4.25:25"
}

tb_start() {
	[ -x "$SCOPE_BIN" ] || { tb_log "no smtpscope binary at $SCOPE_BIN (build first)"; return 1; }
	if [ -e "/run/netns/$TB_NS-core" ]; then tb_log "a test bed runs already (testbed-stop.sh)"; return 1; fi
	rm -rf -- "$TB_DIR" && mkdir -p "$TB_DIR" && chmod 755 "$TB_DIR" || return 1
	: >"$TB_DIR/pids"
	tb_net || { tb_log "network set-up failed"; return 1; }
	tb_pki || { tb_log "PKI failed"; return 1; }
	tb_zones || { tb_log "zones failed"; return 1; }
	tb_dns
	tb_scope || { tb_log "smtpscope did not start: $(cat "$TB_DIR/smtpscope.out")"; return 1; }
	tb_rx || { tb_log "receiving Postfix did not start"; return 1; }
	local p
	while read -r -a p; do
		tb_provider "${p[@]}" || { tb_log "provider ${p[0]} did not start"; return 1; }
	done < <(tb_profiles)
	harness_wait 60 tb_ready || { tb_log "not ready (resolvers or receiver)"; return 1; }
	tb_log "up: $(tb_profiles | wc -l) providers, ${#TB_TARGETS[@]} targets; records in $TB_DIR/scope/records.jsonl"
}

# tb_stop - stop every instance and process, delete every namespace
tb_stop() {
	local ns d
	for d in "$TB_DIR"/*/etc; do
		[ -f "$d/main.cf" ] || continue
		ns=$(basename "$(dirname "$d")")
		[ -e "/run/netns/$TB_NS-$ns" ] && tb_exec "$ns" postfix -c "$d" stop >/dev/null 2>&1
	done
	for ns in /run/netns/"$TB_NS"-*; do
		[ -e "$ns" ] || continue
		ns=$(basename "$ns")
		harness_netns_delete "$ns"
	done
	if [ -f "$TB_DIR/pids" ]; then
		mapfile -t d <"$TB_DIR/pids"
		harness_stop_pids "${d[@]}"
	fi
	return 0
}

# tb_truth - the ground truth of profiles.conf as "ORG COLUMN VALUE" lines,
# in the columns of smtpscope-report's table for targets.testbed
tb_truth() {
	local name v6 val res6 tls retry sts
	while read -r name v6 val res6 tls retry sts; do
		local o=$name.tb quick=no
		[ "$retry" = quick ] && quick=yes
		printf '%s %s %s\n' "$o" baseline yes "$o" ipv4-only-mx-control yes \
			"$o" ipv6-delivery "$v6" "$o" resolver-ipv6-ns "$res6" \
			"$o" dnssec-validating "$val" \
			"$o" starttls "$([ "$tls" = none ] && echo no || echo yes)" \
			"$o" validates-certs "$([ "$tls" = verify ] && echo yes || echo no)" \
			"$o" dane "$([ "$tls" = dane ] && echo yes || echo no)" \
			"$o" dane-control yes \
			"$o" tls-versions "$([ "$tls" = none ] && echo none || echo TLSv1.3)" \
			"$o" greylist-retry "$quick" \
			"$o" retry-other-address "$([ "$quick" = yes ] && echo no || echo unknown)" \
			"$o" mta-sts "$([ "$tls" = verify ] && echo unknown || echo "$sts")"
	done < <(tb_profiles)
}

# tb_table_lines TABLE.JSON - the report's table in tb_truth's form (the
# columns tb_truth has)
tb_table_lines() {
	jq -r '.rows[] | .org as $o | ["baseline", "ipv4-only-mx-control", "ipv6-delivery",
		"resolver-ipv6-ns", "dnssec-validating", "starttls", "validates-certs", "dane",
		"dane-control", "tls-versions", "greylist-retry", "retry-other-address",
		"mta-sts"][] as $c
		| "\($o) \($c) \(.[$c])"' "$1"
}
