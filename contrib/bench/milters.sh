# milters.sh - DNS lab and Debian's OpenDKIM/OpenDMARC for the benchmark (sourced, bash)
#
# SYNOPSIS
#	. t/integration/harness.sh          # harness_init first: $T, PID tracking
#	. contrib/bench/milters.sh
#	bm_dns_start DIR CORPUS             # netns + unbound serving bench.example
#	bm_opendkim_start DIR               # verify mode, socket DIR/opendkim.sock
#	bm_opendmarc_start DIR              # SPFSelfValidate, DIR/opendmarc.sock
#	bm_milters_stop                     # TERM both milters, wait for them
#	bm_dns_stop                         # stop unbound, delete the netns
#	bm_delay_start DIR MS               # a resolver MS ms away: dnsdelay.py
#	                                    # on $BM_SLOW_ADDR, forwarding to unbound
#
# DESCRIPTION
#	Nothing here sends a query off the machine. bm_dns_start makes a
#	network namespace ($BM_NS, "scbench<PID>") that has only a loopback
#	interface, with 127.0.0.1 and 198.51.100.53 on it, and starts unbound
#	in it on port 53 serving the records of CORPUS/bench.example.unbound.conf
#	(written by corpus.sh) as local data; every other name is refused. Its
#	/etc/netns/$BM_NS/resolv.conf points at 127.0.0.1 ("options trust-ad").
#	The milters run inside the namespace ("ip netns exec" keeps the PID, so
#	the PID is the daemon's) and listen on UNIX sockets, which the host's
#	Postfix reaches through the file system.
#
#	OpenDKIM (Debian's is linked with libunbound) is pointed at the
#	resolver with "Nameservers 198.51.100.53": libunbound will not query a
#	127/8 upstream, and ResolverConfiguration is not thread-safe (see
#	LAB-RECIPES.md 5.2). OpenDMARC uses libresolv, i.e. the namespace's
#	resolv.conf; its SPF check (libspf2) passes loopback clients without a
#	query. Both milters would skip loopback clients by default, so
#	InternalHosts / IgnoreHosts name a file that lists only 192.0.2.1.
#	Both log to syslog only; there is no syslogd here, so Syslog is off
#	(what they found shows in their Authentication-Results headers; see
#	bench-e2e.sh's check step). Everything else is Debian's default; the
#	authserv-id is $BM_AUTHSERV (mx.smtpscope.test), trusted by OpenDMARC,
#	so OpenDMARC uses OpenDKIM's result.
#
#	bm_delay_start starts dnsdelay.py in the namespace on $BM_SLOW_ADDR
#	(198.51.100.54, added to lo) port 53, UDP and TCP: each query waits
#	MS ms, then goes to unbound on 127.0.0.1. A milter pointed at
#	$BM_SLOW_ADDR sees a resolver as far away as a remote one; the others
#	keep the local one.
#
#	Exports BM_NS, BM_DNS_PID, BM_SLOW_PID, BM_DKIM_SOCK, BM_DKIM_PID, BM_DMARC_SOCK,
#	BM_DMARC_PID. PIDs are also given to harness_track_pid, so
#	harness_cleanup stops them; bm_dns_stop must still run at exit to
#	delete the namespace and /etc/netns/$BM_NS (bench-e2e.sh does it in
#	its EXIT trap).
#
# DIAGNOSTICS
#	Functions return non-zero and print the daemon's stderr on failure.
#	OpenDKIM takes up to about 5 s to exit after SIGTERM.

BM_NS='' BM_DNS_PID='' BM_DKIM_PID='' BM_DMARC_PID=''
BM_DKIM_SOCK='' BM_DMARC_SOCK=''
BM_AUTHSERV=${BM_AUTHSERV:-mx.smtpscope.test}
BM_NS_ADDR=198.51.100.53
BM_SLOW_ADDR=198.51.100.54
BM_SLOW_PID=''

# bm_track - hand PID to harness.sh's cleanup when it is loaded
bm_track() { if declare -F harness_track_pid >/dev/null; then harness_track_pid "$1"; fi; }

# bm_wait_sock - wait up to 10 s for socket PATH while PID runs
bm_wait_sock() {
	for _ in $(seq 100); do
		[ -S "$1" ] && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# bm_stop_pid - TERM PID and wait up to SECS (default 10) for it, then KILL
bm_stop_pid() {
	local pid=$1 secs=${2:-10}
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq $((secs * 10))); do
		kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# bm_dns_start - namespace with loopback only, unbound serving CORPUS's bench.example
bm_dns_start() {
	local dir=$1 corpus=$2
	BM_NS=scbench$$
	export BM_NS
	mkdir -p "$dir" && chmod 755 "$dir" || return 1
	ip netns add "$BM_NS" || return 1
	ip -n "$BM_NS" link set lo up &&
		ip -n "$BM_NS" addr add "$BM_NS_ADDR/32" dev lo || return 1
	mkdir -p "/etc/netns/$BM_NS" || return 1
	printf 'nameserver 127.0.0.1\noptions edns0 trust-ad timeout:1 attempts:2\n' \
		>"/etc/netns/$BM_NS/resolv.conf"
	printf '127.0.0.1 localhost\n::1 localhost ip6-localhost\n' >"/etc/netns/$BM_NS/hosts"
	{
		cat <<EOF
# unbound for the smtpscope end-to-end benchmark (contrib/bench/milters.sh)
server:
	interface: 127.0.0.1
	interface: $BM_NS_ADDR
	port: 53
	do-ip6: no
	username: ""
	chroot: ""
	directory: "$dir"
	pidfile: "$dir/unbound.pid"
	use-syslog: no
	logfile: "$dir/unbound.log"
	verbosity: 1
	num-threads: 1
	module-config: "iterator"
	access-control: 127.0.0.0/8 allow
	access-control: $BM_NS_ADDR/32 allow
	local-zone: "." refuse
EOF
		cat "$corpus/bench.example.unbound.conf"
	} >"$dir/unbound.conf"
	unbound-checkconf "$dir/unbound.conf" >"$dir/checkconf.out" 2>&1 ||
		{ cat "$dir/checkconf.out" >&2; return 1; }
	ip netns exec "$BM_NS" unbound -d -c "$dir/unbound.conf" >"$dir/stderr" 2>&1 &
	BM_DNS_PID=$!
	export BM_DNS_PID
	bm_track "$BM_DNS_PID"
	for _ in $(seq 50); do
		if ip netns exec "$BM_NS" bash -c "echo >/dev/udp/$BM_NS_ADDR/53" 2>/dev/null &&
			[ -n "$(ip netns exec "$BM_NS" ss -Hlun "sport = :53" 2>/dev/null)" ]; then
			return 0
		fi
		kill -0 "$BM_DNS_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "unbound did not start:" >&2
	cat "$dir/stderr" "$dir/unbound.log" >&2 2>/dev/null
	return 1
}

# bm_delay_start - dnsdelay.py on $BM_SLOW_ADDR:53, MS ms before unbound
bm_delay_start() {
	local dir=$1 ms=$2 here
	here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	mkdir -p "$dir" || return 1
	ip -n "$BM_NS" addr add "$BM_SLOW_ADDR/32" dev lo || return 1
	ip netns exec "$BM_NS" python3 "$here/dnsdelay.py" "$BM_SLOW_ADDR" 53 \
		127.0.0.1 53 "$ms" >"$dir/out" 2>"$dir/stderr" &
	BM_SLOW_PID=$!
	export BM_SLOW_PID
	bm_track "$BM_SLOW_PID"
	for _ in $(seq 50); do
		grep -q ready "$dir/out" 2>/dev/null && return 0
		kill -0 "$BM_SLOW_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "dnsdelay.py did not start:" >&2
	cat "$dir/stderr" >&2
	return 1
}

# bm_dns_query - print the answer section for NAME TYPE from inside the namespace
bm_dns_query() {
	command -v drill >/dev/null || { echo "drill (ldnsutils) not installed" >&2; return 2; }
	ip netns exec "$BM_NS" drill -Q "$1" "$2" @"$BM_NS_ADDR"
}

# bm_dns_stop - stop unbound and delete the namespace and /etc/netns/$BM_NS
bm_dns_stop() {
	bm_stop_pid "$BM_SLOW_PID" 5
	BM_SLOW_PID=
	bm_stop_pid "$BM_DNS_PID" 5
	BM_DNS_PID=
	if [ -n "$BM_NS" ]; then
		ip netns delete "$BM_NS" 2>/dev/null
		rm -rf -- "/etc/netns/$BM_NS"
		BM_NS=
	fi
	return 0
}

# bm_milter_dir - DIR for a milter run as USER: owned by USER, traversable
bm_milter_dir() {
	mkdir -p "$1" && chown "$2:" "$1" && chmod 755 "$1" || return 1
	echo 192.0.2.1 >"$1/internal.hosts"
	chmod 644 "$1/internal.hosts"
}

# bm_opendkim_start - OpenDKIM in verify mode on DIR/opendkim.sock
bm_opendkim_start() {
	local dir=$1
	bm_milter_dir "$dir" opendkim || return 1
	BM_DKIM_SOCK=$dir/opendkim.sock
	cat >"$dir/opendkim.conf" <<EOF
# OpenDKIM for the smtpscope end-to-end benchmark (contrib/bench/milters.sh):
# Debian's /etc/opendkim.conf minus signing, syslog and the root trust anchor.
Mode			v
Socket			local:$BM_DKIM_SOCK
UMask			0111
PidFile			$dir/opendkim.pid
UserID			opendkim
Syslog			no
Canonicalization	relaxed/simple
OversignHeaders		From
InternalHosts		$dir/internal.hosts
Nameservers		$BM_NS_ADDR
AuthservID		$BM_AUTHSERV
EOF
	opendkim -n -x "$dir/opendkim.conf" >"$dir/check.out" 2>&1 ||
		{ echo "opendkim -n:" >&2; cat "$dir/check.out" >&2; return 1; }
	ip netns exec "$BM_NS" opendkim -f -x "$dir/opendkim.conf" >"$dir/stderr" 2>&1 &
	BM_DKIM_PID=$!
	export BM_DKIM_SOCK BM_DKIM_PID
	bm_track "$BM_DKIM_PID"
	bm_wait_sock "$BM_DKIM_SOCK" "$BM_DKIM_PID" && return 0
	echo "opendkim did not start:" >&2
	cat "$dir/stderr" >&2
	return 1
}

# bm_opendmarc_start - OpenDMARC with SPFSelfValidate on DIR/opendmarc.sock
bm_opendmarc_start() {
	local dir=$1
	bm_milter_dir "$dir" opendmarc || return 1
	BM_DMARC_SOCK=$dir/opendmarc.sock
	cat >"$dir/opendmarc.conf" <<EOF
# OpenDMARC for the smtpscope end-to-end benchmark (contrib/bench/milters.sh):
# Debian's /etc/opendmarc.conf plus SPF self-validation, no syslog.
Socket			local:$BM_DMARC_SOCK
UMask			0111
PidFile			$dir/opendmarc.pid
UserID			opendmarc
Syslog			false
PublicSuffixList	/usr/share/publicsuffix/public_suffix_list.dat
IgnoreHosts		$dir/internal.hosts
SPFSelfValidate		true
AuthservID		$BM_AUTHSERV
TrustedAuthservIDs	$BM_AUTHSERV
RejectFailures		false
EOF
	ip netns exec "$BM_NS" opendmarc -f -c "$dir/opendmarc.conf" >"$dir/stderr" 2>&1 &
	BM_DMARC_PID=$!
	export BM_DMARC_SOCK BM_DMARC_PID
	bm_track "$BM_DMARC_PID"
	bm_wait_sock "$BM_DMARC_SOCK" "$BM_DMARC_PID" && return 0
	echo "opendmarc did not start:" >&2
	cat "$dir/stderr" >&2
	return 1
}

# bm_milters_stop - stop OpenDKIM and OpenDMARC (TERM both first), wait for both
bm_milters_stop() {
	local pid
	[ -n "$BM_DMARC_PID" ] && kill -TERM "$BM_DMARC_PID" 2>/dev/null
	for pid in "$BM_DKIM_PID" "$BM_DMARC_PID"; do bm_stop_pid "$pid" 10; done
	BM_DKIM_PID='' BM_DMARC_PID=''
	return 0
}
