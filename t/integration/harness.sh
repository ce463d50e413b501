# harness.sh - throwaway Postfix, test PKI and process tracking for integration tests
#
# SYNOPSIS
#	. "$(dirname "$0")/tap.sh"
#	. "$(dirname "$0")/harness.sh"
#	harness_init NAME                   # $T, EXIT/INT/TERM trap
#	harness_pki "$T/pki"                 # optional: pf_start makes $T/pki itself
#	./my-milter -p "unix:$T/milter.sock" & harness_track_pid $!
#	pf_start "unix:$T/milter.sock" || tap_skip_all "no Postfix"
#	swaks_to 127.0.0.1 "$PF_PORT" --tls
#	pf_wait_log 'postfix/discard\[[0-9]+\]: .*status=sent' 1 10
#
# DESCRIPTION
#	A bash library (set -u safe) sourced by the integration tests. It owns one
#	scratch directory per test, the processes the test registers, and one
#	Postfix instance with its own configuration, queue and log under $T/pf.
#	Call every function from the test's main shell, not from $( ) or a pipe:
#	they keep state in shell variables.
#
#	harness_init NAME          create $T (mktemp -d /tmp/smtpscope-NAME.XXXXXX,
#	                           mode 755) and trap EXIT, INT and TERM
#	harness_cleanup            stop what this test started (tracked PIDs, then
#	                           Postfix) and remove $T unless KEEP=1; idempotent;
#	                           keeps the script's exit status
#	harness_track_pid PID      stop PID at cleanup (TERM, 5 s, then KILL)
#	harness_pid_gone PID       true when PID no longer runs (reaps our zombie)
#	harness_stop_pids PID...   TERM, wait up to 5 s, then KILL the rest
#	harness_children PID       the PIDs whose parent is PID
#	harness_wait SECS CMD...   run CMD every 0.1 s until it succeeds; false
#	                           after SECS x $SMTPSCOPE_WAIT_FACTOR (an
#	                           integer, default 1: a loaded machine sets 2
#	                           or more) seconds. Readiness waits (a daemon
#	                           listens, a resolver validates) pass
#	                           $HARNESS_READY (default 60): they end as soon
#	                           as the thing is ready, so only a broken set-up
#	                           pays the ceiling
#	harness_netns_delete NAME [VETH]  stop a namespace's processes, delete it
#	harness_free_port          print a TCP port free on 127.0.0.1 and ::1
#	harness_pki DIR            CA, server, client and self-signed client
#	                           certificates; reused when DIR is complete;
#	                           exports PKI_DIR=DIR
#	pf_start [MILTER_SPEC]     configure (first call only) and start Postfix;
#	                           exports PF_DIR PF_PORT PF_TLS_PORT PF_LOG
#	pf_set KEY=VALUE...        postconf -e into the instance (before or after
#	                           start; run pf_reload after start)
#	pf_reload, pf_stop         postfix reload / stop
#	pf_wait_log RE N SECS      wait until the maillog has N lines matching RE
#	pf_queue_ids               queue ids of accepted messages, in log order
#	swaks_to HOST PORT ARGS... swaks to the instance, output to $T/swaks.log
#	harness_diag TEXT...       "# TEXT" lines on stdout (TAP diagnostics)
#
#	The instance: smtpd on 127.0.0.1:$PF_PORT and [::1]:$PF_PORT (STARTTLS
#	offered), wrapper-mode TLS on 127.0.0.1:$PF_TLS_PORT (logs as
#	postfix/smtps/smtpd), no port 25, chroot off everywhere, relays
#	smtpscope.test, example.org and example.net for 127.0.0.0/8 and ::1 to
#	discard:test, logs to $PF_LOG (postlogd, no syslogd needed), no DNS.
#	A MILTER_SPEC sets smtpd_milters with milter_default_action=tempfail.
#	A UNIX milter socket must be writable by user postfix (mode 0666).
#
# DIAGNOSTICS
#	Functions return non-zero on failure and never exit. pf_start prints the
#	maillog tail and the output of "postfix check" (seen only on a tty, so
#	it runs under script(1)) as TAP diagnostics. swaks output goes to
#	$T/swaks.log; KEEP=1 keeps $T for a look after the run.

_H_PIDS=()
_H_PORTS=()
_H_PF_STARTED=
_H_CLEANED=
_H_T=
T='' PKI_DIR='' PF_DIR='' PF_LOG='' PF_PORT='' PF_TLS_PORT=''

# harness_diag - print TEXT (each line) as TAP diagnostics
harness_diag() { printf '%s\n' "$@" | sed 's/^/# /'; }

# harness_init - create the scratch directory $T and install the cleanup traps
harness_init() {
	T=$(mktemp -d "/tmp/smtpscope-$1.XXXXXX") || return 1
	chmod 755 "$T"
	export T
	_H_T=$T _H_PIDS=() _H_PORTS=() _H_PF_STARTED='' _H_CLEANED=''
	trap harness_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# harness_cleanup - stop tracked PIDs and Postfix, remove $T (KEEP=1 keeps it)
harness_cleanup() {
	local rc=$? errexit=
	case $- in *e*) errexit=1; set +e ;; esac
	if [ -z "$_H_CLEANED" ]; then
		_H_CLEANED=1
		harness_stop_pids "${_H_PIDS[@]}"
		_H_PIDS=()
		pf_stop
		if [ -n "$_H_T" ] && [ -d "$_H_T" ]; then
			if [ "${KEEP:-0}" = 1 ]; then
				harness_diag "KEEP=1: kept $_H_T"
			else
				rm -rf -- "$_H_T"
			fi
		fi
	fi
	[ -n "$errexit" ] && set -e
	return $rc
}

HARNESS_READY=${HARNESS_READY:-60}

# harness_wait - poll CMD every 0.1 s for up to SECS x SMTPSCOPE_WAIT_FACTOR s
harness_wait() {
	local end=$(($(date +%s) + $1 * ${SMTPSCOPE_WAIT_FACTOR:-1}))
	shift
	while :; do
		"$@" && return 0
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.1
	done
}

# harness_track_pid - remember PID so that harness_cleanup stops it
harness_track_pid() { _H_PIDS+=("$1"); }

# harness_pid_gone - true when PID no longer runs (reaps it if it is our zombie)
harness_pid_gone() {
	local st
	kill -0 "$1" 2>/dev/null || return 0
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	st=${st##*) }
	[ "${st%% *}" = Z ] || return 1
	wait "$1" 2>/dev/null || true
}

# harness_stop_pids - TERM each PID, wait up to 5 s for all, then KILL the rest
harness_stop_pids() {
	local pid left
	[ $# -gt 0 ] || return 0
	kill -TERM "$@" 2>/dev/null || true
	for _ in $(seq 50); do
		left=
		for pid in "$@"; do
			harness_pid_gone "$pid" || left=1
		done
		[ -z "$left" ] && return 0
		sleep 0.1
	done
	kill -KILL "$@" 2>/dev/null || true
	sleep 0.1
	for pid in "$@"; do harness_pid_gone "$pid" || true; done
}

# harness_children - print the PIDs whose parent is PID (reads /proc, no forks)
harness_children() {
	local f st pid
	for f in /proc/[0-9]*/stat; do
		read -r st 2>/dev/null <"$f" || continue
		st=${st##*) }
		st=${st#* }
		[ "${st%% *}" = "$1" ] || continue
		pid=${f#/proc/}
		echo "${pid%/stat}"
	done
}

# harness_netns_delete NAME [VETH] - stop every process in namespace NAME,
# delete VETH (at once: after "ip netns delete" the kernel frees it later),
# the namespace and /etc/netns/NAME; quiet when already gone
harness_netns_delete() {
	local -a pids
	if [ -e "/run/netns/$1" ]; then
		mapfile -t pids < <(ip netns pids "$1" 2>/dev/null)
		harness_stop_pids "${pids[@]}"
	fi
	[ -n "${2:-}" ] && ip link show "$2" >/dev/null 2>&1 && ip link delete "$2" 2>/dev/null
	[ -e "/run/netns/$1" ] && ip netns delete "$1" 2>/dev/null
	[ -n "$1" ] && rm -rf -- "/etc/netns/$1"
	return 0
}

# harness_port_busy - true when any TCP socket has PORT (a listener, or a
# connection's local end), or something answers at it
harness_port_busy() {
	local p
	[ -n "$(ss -Htan "sport = :$1" 2>/dev/null)" ] && return 0
	for p in "${_H_PORTS[@]}"; do [ "$p" = "$1" ] && return 0; done
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
	(exec 3<>"/dev/tcp/::1/$1") 2>/dev/null && return 0
	return 1
}

# harness_port_range - "LOW HIGH": where harness_free_port picks, below
# the kernel's ephemeral range (net.ipv4.ip_local_port_range), so that no
# client connection made meanwhile takes the port before the server binds
# it (Postfix failed "bind ... Address already in use" once); above it
# when it starts too low
harness_port_range() {
	local lo=32768 hi=60999
	read -r lo hi </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null
	if [ "$lo" -gt 12000 ]; then
		echo "10000 $((lo - 1))"
	elif [ "$hi" -lt 63000 ]; then
		echo "$((hi + 1)) 65535"
	else
		echo "20000 60000"
	fi
}

# harness_free_port - print a random TCP port free on both loopbacks,
# outside the ephemeral range (harness_port_range)
harness_free_port() {
	local port lo hi
	read -r lo hi <<<"$(harness_port_range)"
	for _ in $(seq 200); do
		port=$((lo + (RANDOM * 32768 + RANDOM) % (hi - lo + 1)))
		harness_port_busy "$port" || { echo "$port"; return 0; }
	done
	harness_diag "harness_free_port: no free port found"
	return 1
}

# harness_pki_make - write the CA, server, client and self-signed certs into DIR
harness_pki_make() {
	local d=$1
	local ca=(-CA "$d/ca.crt" -CAkey "$d/ca.key" -CAserial "$d/ca.srl")
	openssl req -x509 -newkey rsa:2048 -nodes -days 3650 \
		-keyout "$d/ca.key" -out "$d/ca.crt" \
		-subj "/O=smtpscope/CN=smtpscope Test CA" || return 1
	openssl req -newkey rsa:2048 -nodes -keyout "$d/server.key" \
		-out "$d/server.csr" -subj "/O=smtpscope/CN=mx.smtpscope.test" || return 1
	printf '%s\n' "basicConstraints=CA:FALSE" "extendedKeyUsage=serverAuth" \
		"subjectAltName=DNS:mx.smtpscope.test,DNS:localhost,IP:127.0.0.1,IP:::1" \
		>"$d/server.ext"
	openssl x509 -req -days 3650 -in "$d/server.csr" "${ca[@]}" -CAcreateserial \
		-extfile "$d/server.ext" -out "$d/server.crt" || return 1
	openssl req -newkey rsa:2048 -nodes -keyout "$d/client.key" \
		-out "$d/client.csr" -subj "/O=Test Client/CN=client.smtpscope.test" || return 1
	printf '%s\n' "basicConstraints=CA:FALSE" "extendedKeyUsage=clientAuth" >"$d/client.ext"
	openssl x509 -req -days 3650 -in "$d/client.csr" "${ca[@]}" \
		-extfile "$d/client.ext" -out "$d/client.crt" || return 1
	openssl req -x509 -newkey rsa:2048 -nodes -days 3650 \
		-keyout "$d/selfclient.key" -out "$d/selfclient.crt" \
		-subj "/O=Rogue/CN=selfsigned.smtpscope.test" || return 1
	chmod 600 "$d"/*.key && chmod 644 "$d"/*.crt && chmod 755 "$d"
}

# harness_pki - make (or reuse) the test PKI in DIR and export PKI_DIR
#
# The files are built in a sibling directory that is renamed to DIR in one
# step, so concurrent tests sharing DIR never see a half-made set.
harness_pki() {
	local dir gen
	dir=$(realpath -m -- "$1") || return 1
	PKI_DIR=$dir
	export PKI_DIR
	[ -f "$dir/.complete" ] && return 0
	gen=$(mktemp -d "$dir.gen.XXXXXX") || return 1
	if ! harness_pki_make "$gen" >"$gen/openssl.log" 2>&1; then
		harness_diag "harness_pki: openssl failed:" "$(cat "$gen/openssl.log")"
		rm -rf -- "$gen"
		return 1
	fi
	touch "$gen/.complete"
	mv -T "$gen" "$dir" 2>/dev/null || rm -rf -- "$gen"
	[ -f "$dir/.complete" ] || { harness_diag "harness_pki: $dir is in the way"; return 1; }
}

# pf_main_cf - print the instance's main.cf
pf_main_cf() {
	cat <<EOF
# Throwaway Postfix for one smtpscope integration test (t/integration/harness.sh).
compatibility_level = 3.6
config_directory = $PF_DIR/etc
queue_directory = $PF_DIR/spool
data_directory = $PF_DIR/data
meta_directory = /etc/postfix
maillog_file_prefixes = /var, /dev/stdout, $PF_DIR
maillog_file = $PF_LOG
myhostname = mx.smtpscope.test
mydomain = smtpscope.test
myorigin = \$myhostname
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
relay_domains = smtpscope.test example.org example.net
mynetworks = 127.0.0.0/8 [::1]/128
inet_interfaces = 127.0.0.1, [::1]
inet_protocols = all
default_transport = discard:test
relay_transport = discard:test
smtpd_relay_restrictions = permit_mynetworks reject_unauth_destination
smtpd_peername_lookup = no
disable_dns_lookups = yes
smtpd_banner = \$myhostname ESMTP smtpscope-test
biff = no
append_dot_mydomain = no
readme_directory = no
html_directory = no
in_flow_delay = 0
smtpd_error_sleep_time = 0
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
smtpd_tls_cert_file = $PKI_DIR/server.crt
smtpd_tls_key_file = $PKI_DIR/server.key
smtpd_tls_CAfile = $PKI_DIR/ca.crt
smtpd_tls_security_level = may
smtpd_tls_ask_ccert = yes
smtpd_tls_received_header = yes
smtpd_tls_loglevel = 1
smtpd_milters =
non_smtpd_milters =
milter_default_action = tempfail
milter_protocol = 6
EOF
}

# pf_master_cf - print the instance's master.cf (no port 25, no chroot)
pf_master_cf() {
	cat <<EOF
# service type  private unpriv  chroot  wakeup  maxproc command + args
127.0.0.1:$PF_PORT inet n     -       n       -       -       smtpd
[::1]:$PF_PORT inet  n        -       n       -       -       smtpd
127.0.0.1:$PF_TLS_PORT inet n -       n       -       -       smtpd
  -o syslog_name=postfix/smtps
  -o smtpd_tls_wrappermode=yes
  -o smtpd_tls_security_level=encrypt
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
  -o syslog_name=postfix/\$service_name
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
}

# pf_config - on first use, pick ports and write the instance's configuration
pf_config() {
	PF_DIR=$T/pf
	PF_LOG=$PF_DIR/maillog
	export PF_DIR PF_LOG
	[ -f "$PF_DIR/etc/main.cf" ] && return 0
	[ -n "${PKI_DIR:-}" ] || harness_pki "$T/pki" || return 1
	PF_PORT=$(harness_free_port) && _H_PORTS+=("$PF_PORT") || return 1
	PF_TLS_PORT=$(harness_free_port) && _H_PORTS+=("$PF_TLS_PORT") || return 1
	export PF_PORT PF_TLS_PORT
	mkdir -p "$PF_DIR/etc" "$PF_DIR/data" "$PF_DIR/spool" || return 1
	chmod 755 "$PF_DIR" "$PF_DIR/etc" "$PF_DIR/spool"
	chown postfix: "$PF_DIR/data" || return 1
	pf_main_cf >"$PF_DIR/etc/main.cf" && pf_master_cf >"$PF_DIR/etc/master.cf" || return 1
	postconf -c "$PF_DIR/etc" -F '*/*/chroot = n' && pf_age_config
}

# pf_age_config - backdate main.cf and master.cf
#
# Postfix programs will not load a table file modified in the last second:
# they sleep 0.3 s and retry, which made every "postfix check" after a
# config write take about 2 s.
pf_age_config() { touch -d '-1 minute' "$PF_DIR/etc/main.cf" "$PF_DIR/etc/master.cf"; }

# pf_set - postconf -e KEY=VALUE... into the instance (pf_reload to apply)
pf_set() {
	pf_config || return 1
	postconf -c "$PF_DIR/etc" -e "$@" && pf_age_config
}

# pf_master_pid - print the running master's PID from its pid file
pf_master_pid() {
	local pid
	pid=$(tr -d ' \n' <"$PF_DIR/spool/pid/master.pid" 2>/dev/null) || return 1
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

# pf_pids - PIDs of processes running with this instance's MAIL_CONFIG
pf_pids() {
	local f pid
	grep -lzxF "MAIL_CONFIG=$PF_DIR/etc" /proc/[0-9]*/environ 2>/dev/null |
	while read -r f; do
		pid=${f#/proc/}
		pid=${pid%/environ}
		[ "$pid" = $$ ] || echo "$pid"
	done
}

# pf_listening - true when the master holds all three listeners
pf_listening() {
	local pid out
	pid=$(pf_master_pid) || return 1
	out=$(ss -Hltnp 2>/dev/null | grep -F "pid=$pid,") || return 1
	case $out in *"127.0.0.1:$PF_PORT "*) ;; *) return 1 ;; esac
	case $out in *"[::1]:$PF_PORT "*) ;; *) return 1 ;; esac
	case $out in *"127.0.0.1:$PF_TLS_PORT "*) ;; *) return 1 ;; esac
}

# pf_diagnose - print the maillog tail and "postfix check" as TAP diagnostics
pf_diagnose() {
	local out
	harness_diag "pf_start: Postfix in $PF_DIR did not come up; maillog tail:"
	tail -n 40 "$PF_LOG" 2>&1 | sed 's/^/# /'
	out=$(script -qc "postfix -c $PF_DIR/etc check" /dev/null 2>&1 | tr -d '\r')
	harness_diag "postfix check: ${out:-(no output)}"
}

# pf_start - configure if needed, add MILTER_SPEC, check and start; wait
# (HARNESS_READY) until it listens
#
# Without MILTER_SPEC, smtpd_milters stays as configured (empty unless
# pf_set changed it). A restart after pf_stop keeps config and ports.
pf_start() {
	pf_config || return 1
	if [ -n "${1:-}" ]; then
		pf_set "smtpd_milters = $1" "milter_default_action = tempfail" \
			"milter_protocol = 6" "non_smtpd_milters =" || return 1
	fi
	if ! postfix -c "$PF_DIR/etc" check >"$PF_DIR/check.out" 2>&1; then
		pf_diagnose
		return 1
	fi
	touch "$PF_DIR/spool/quick-start"	# start skips the check just done
	_H_PF_STARTED=1
	postfix -c "$PF_DIR/etc" start >>"$PF_DIR/start.out" 2>&1 || { pf_diagnose; return 1; }
	harness_wait "$HARNESS_READY" pf_listening && return 0
	pf_diagnose
	return 1
}

# pf_reload - postfix reload; waits (HARNESS_READY) until the master logs it
pf_reload() {
	local re='postfix/master\[[0-9]+\]: reload -- ' n
	n=$(grep -E -c -- "$re" "$PF_LOG" 2>/dev/null) || true
	postfix -c "$PF_DIR/etc" reload >>"$PF_DIR/start.out" 2>&1 || return 1
	pf_wait_log "$re" $((${n:-0} + 1)) "$HARNESS_READY"
}

# pf_stop - stop the instance; KILL its master (pid file) and leftovers on failure
pf_stop() {
	local pid pids
	[ -n "$_H_PF_STARTED" ] || return 0
	_H_PF_STARTED=
	if ! postfix -c "$PF_DIR/etc" stop >>"$PF_DIR/start.out" 2>&1; then
		pid=$(pf_master_pid) && harness_stop_pids "$pid"
	fi
	mapfile -t pids < <(pf_pids)
	harness_stop_pids "${pids[@]}"
}

# pf_wait_log - wait up to SECS (integer, scaled) for COUNT maillog lines
# matching RE
pf_wait_log() { harness_wait "$3" pf_log_has "$1" "$2"; }
# pf_log_has RE COUNT - the maillog has COUNT lines matching RE
pf_log_has() {
	local n
	n=$(grep -E -c -- "$1" "$PF_LOG" 2>/dev/null) || true
	[ "${n:-0}" -ge "$2" ]
}

# pf_queue_ids - ids cleanup logged a message-id for, minus ones it rejected
pf_queue_ids() {
	sed -nE 's/.*postfix[^ ]*\/cleanup\[[0-9]+\]: ([0-9A-Za-z]+): (message-id=|milter-reject:|reject:).*/\1 \2/p' \
		"$PF_LOG" 2>/dev/null |
	awk '$2 == "message-id=" { if (!($1 in seen)) { seen[$1] = 1; ids[++n] = $1 } next }
	     { rejected[$1] = 1 }
	     END { for (i = 1; i <= n; i++) if (!(ids[i] in rejected)) print ids[i] }'
}

# swaks_to - send one message with swaks; output goes to $T/swaks.log
#
# Default envelope: --from sender@example.org --to rcpt@smtpscope.test; a
# later --from/--to in ARGS wins. Flags checked with swaks 20201014:
#	IPv6          HOST ::1 (a bare IPv6 address works with --port; -6 is
#	              not needed)
#	STARTTLS      --tls   (fails when not offered; --tls-optional does not)
#	TLS version   --tls --tls-protocol tlsv1_2   or   tlsv1_3
#	client cert   --tls --tls-cert "$PKI_DIR/client.crt" --tls-key "$PKI_DIR/client.key"
#	wrapper TLS   swaks_to 127.0.0.1 "$PF_TLS_PORT" --tlsc
#	stop early    --quit-after EHLO (also CONNECT, TLS, MAIL, RCPT)
# swaks exit codes: 0 sent, 2 no connection, 21 banner, 23 MAIL (451 there
# when the milter is unreachable and milter_default_action=tempfail), 24 RCPT,
# 25 DATA, 26 after the message (a reject at end of data), 29 TLS; see
# swaks(1), EXIT CODES. Needs harness_init ($T).
swaks_to() {
	local host=$1 port=$2 rc=0
	shift 2
	printf '=== swaks --server %s --port %s %s\n' "$host" "$port" "$*" >>"$T/swaks.log"
	swaks --server "$host" --port "$port" --timeout 15 \
		--from sender@example.org --to rcpt@smtpscope.test "$@" >>"$T/swaks.log" 2>&1 || rc=$?
	echo "=== exit $rc" >>"$T/swaks.log"
	return $rc
}
