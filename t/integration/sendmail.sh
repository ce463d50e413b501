# sendmail.sh - a private Sendmail in its own network namespace for integration tests
#
# SYNOPSIS
#	. "$(dirname "$0")/tap.sh"
#	. "$(dirname "$0")/harness.sh"
#	. "$(dirname "$0")/sendmail.sh"
#	harness_init NAME
#	sm_ensure || tap_skip_all "Sendmail cannot be unpacked"
#	harness_pki "$T/pki"
#	./my-milter -p "unix:$T/milter.sock" & harness_track_pid $!
#	sm_start "$T/milter.sock" "$PKI_DIR" || ...
#	sm_swaks --tls --tls-cert "$PKI_DIR/client.crt" --tls-key "$PKI_DIR/client.key"
#	sm_exec swaks --server ::1 --port "$SM_PORT" --from a@example.org --to b@example.net
#	sm_wait_log 'Milter accept: message' 1 5
#	sm_stop                                  # optional: also runs at EXIT
#
# DESCRIPTION
#	A bash library (set -u safe) for the integration tests that run the
#	milter behind a real Sendmail (8.17.1.9 on Debian 12), which, unlike
#	Postfix, sends {verify}, {cert_md5}, {cn_subject}, {cn_issuer},
#	{if_name} and {msg_id}. sendmail-bin conflicts with postfix, so the
#	binary comes from a tree unpacked by sendmail-unpack.sh. Call the
#	functions from the test's main shell (not from $( ) or a pipe): they
#	keep state in shell variables. Needs root, ip(8) with netns support,
#	m4, ss and perl, and harness.sh (its $T, harness_track_pid and process
#	helpers harness_pid_gone, harness_stop_pids, harness_children).
#
#	sm_root                 print the unpacked tree:
#	                        ${SMTPSCOPE_SENDMAIL_ROOT:-/var/cache/smtpscope-test/sendmail}
#	sm_ensure               unpack the tree when missing (sendmail-unpack.sh:
#	                        apt-get download from the Debian archive, about
#	                        4 s); return 1 with a message when impossible
#	sm_start SOCKET PKI_DIR write $T/sm/smtpscope.mc and .cf and start
#	                        Sendmail with the milter at unix:SOCKET and
#	                        STARTTLS from PKI_DIR/{server.crt,server.key,
#	                        ca.crt}; wait up to 10 s until it listens (about
#	                        0.6 s); exports SM_PORT SM_SMTPS_PORT SM_NETNS
#	                        SM_DIR SM_PID SM_LOG SM_AUTH_USER SM_AUTH_PASS
#	sm_exec CMD...          run CMD inside Sendmail's network namespace
#	sm_swaks ARGS...        swaks inside the namespace to 127.0.0.1:$SM_PORT,
#	                        envelope sender@example.org -> rcpt@smtpscope.test
#	                        (a later --server/--port/--from/--to in ARGS
#	                        wins), output appended to $T/swaks.log
#	sm_wait_log RE N SECS   wait until $SM_LOG has N lines matching RE
#	sm_stop                 stop Sendmail, its children and everything else
#	                        in the namespace (by PID), delete the namespace
#	                        and /etc/netns/NAME; idempotent; keeps $?
#	Internal: sm_diag, sm_ld_path, sm_mc, sm_run_script, sm_syslogd_script,
#	sm_reap_stale,
#	sm_hook_exit, sm_exit_hook, sm_listening, sm_diagnose, sm_start_syslog,
#	sm_sasl_setup.
#
#	The instance: network namespace smtpscope-sm-PID (PID of the test
#	shell) with only lo up, whose /etc/resolv.conf says nameserver 127.0.0.1
#	(nothing listens there: every DNS lookup fails at once and none leaves
#	the machine) and whose /etc/hosts lists localhost for 127.0.0.1 and ::1.
#	The milter's UNIX socket is reached through the file system, which the
#	namespace shares. The daemon (sendmail -bD: foreground, no queue runner)
#	listens on 127.0.0.1 and ::1 port SM_PORT (2526; the namespace is fresh,
#	so the port is always free; STARTTLS offered, a client certificate asked
#	for and checked against ca.crt: {verify} OK, FAIL or NO) and on
#	127.0.0.1 port SM_SMTPS_PORT (2466, TLS from the first byte, swaks
#	--tlsc). {daemon_name} is MTA-v4, MTA-v6 or SMTPS. $j is
#	mx.smtpscope.test; promiscuous relay; unresolvable and unqualified
#	sender domains accepted; no IDENT lookups; delivery mode queueonly:
#	accepted mail stays in $SM_DIR/mqueue (qf* holds the headers, including
#	those a milter added, df* the body) and goes nowhere. SMTP AUTH PLAIN,
#	LOGIN, CRAM-MD5 and DIGEST-MD5 for $SM_AUTH_USER / $SM_AUTH_PASS (a
#	sasldb written with perl DB_File; Sendmail.conf is bound over the SASL
#	plugin directory inside the namespace, the one place Sendmail reads it
#	from that exists here). Milter "smtpscope" with F=T (tempfail when the
#	milter is unreachable) and T=C:5s;S:10s;R:10s;E:30s. Macro lists:
#	  connect  j _ {daemon_name} {daemon_addr} {daemon_port} {if_addr}
#	           {if_name} {client_addr} {client_port} {client_name}
#	           {client_ptr} {client_resolve}
#	  helo     {tls_version} {cipher} {cipher_bits} {cert_subject}
#	           {cert_issuer} {verify} {cn_subject} {cn_issuer} {cert_md5}
#	  envfrom  i {auth_type} {auth_authen} {mail_addr} {tls_version} {cipher}
#	           {cipher_bits} {cert_subject} {cert_issuer} {verify}
#	  envrcpt  {rcpt_addr}
#	  eom      i {msg_id}
#	A milter that calls smfi_setsymlist replaces a list for itself; with
#	8.17.1.9 a SMFIM_EOM list takes effect only when the milter also sets a
#	SMFIM_EOH list.
#
#	Sendmail logs only to syslog, and there is no /dev/log here. Sendmail
#	therefore runs with a private /dev (tmpfs holding null, zero, full,
#	random, urandom, tty and log) inside the mount namespace that
#	"ip netns exec" creates, and a small perl receiver (in the network
#	namespace too) appends its syslog lines to $SM_LOG ($SM_DIR/maillog,
#	LogLevel 14, milter log level 14, tag sm-smtpscope). Without perl's
#	IO::Socket::UNIX, Sendmail runs with the real /dev and SM_LOG stays
#	empty.
#
#	Cleanup: sm_start puts sm_stop in front of the current EXIT trap
#	(harness_init's harness_cleanup), so a test that fails, exits midway,
#	dies under "set -e" or "set -u", or gets INT/TERM stops Sendmail and
#	deletes the namespace before $T is removed. The daemon's PID is also
#	given to harness_track_pid. A test killed with SIGKILL cannot clean up:
#	the next sm_start removes namespaces named smtpscope-sm-PID whose PID is
#	gone, after stopping the processes still inside them (ip netns pids).
#
# DIAGNOSTICS
#	Functions return non-zero on failure and never exit. When sm_start
#	fails it prints the reason, m4's and Sendmail's stderr, the log tail
#	and the namespace's listening sockets as TAP diagnostics ("# " lines),
#	then calls sm_stop. The files stay in $T/sm (KEEP=1 keeps $T).

SM_PORT=2526
SM_SMTPS_PORT=2466
SM_AUTH_USER=alice
SM_AUTH_PASS=smtpscope-secret
SM_NETNS=
SM_DIR=
SM_PID=
SM_LOG=
_SM_LOG_PID=
_SM_LOGSOCK=-
_SM_SASL=-
_SM_BIN=usr/libexec/sendmail/sendmail
_SM_LIBDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# sm_diag - print TEXT (each line) as TAP diagnostics
sm_diag() { printf '%s\n' "$@" | sed 's/^/# /'; }

# sm_root - print the directory that holds (or will hold) the unpacked Sendmail
sm_root() { echo "${SMTPSCOPE_SENDMAIL_ROOT:-/var/cache/smtpscope-test/sendmail}"; }

# sm_ensure - unpack Sendmail into sm_root when it is not there yet
sm_ensure() {
	local root out
	root=$(sm_root)
	[ -x "$root/$_SM_BIN" ] && return 0
	if [ "$(id -u)" != 0 ]; then
		sm_diag "sm_ensure: Sendmail tests need root"
		return 1
	fi
	if ! out=$(bash "$_SM_LIBDIR/sendmail-unpack.sh" "$root" 2>&1); then
		sm_diag "sm_ensure: cannot unpack Sendmail into $root:" "$out"
		return 1
	fi
	[ -x "$root/$_SM_BIN" ]
}

# sm_ld_path - print the unpacked tree's library directories, ":"-joined
sm_ld_path() {
	local d out=
	for d in "$1"/usr/lib/*-linux-gnu* "$1"/lib/*-linux-gnu*; do
		[ -d "$d" ] && out=${out:+$out:}$d
	done
	echo "$out"
}

# sm_mc - print the .mc file for SOCKET and PKI_DIR (paths from SM_DIR)
sm_mc() {
	cat <<EOF
divert(-1)
# Throwaway Sendmail for one smtpscope integration test (t/integration/sendmail.sh).
divert(0)dnl
OSTYPE(\`linux')dnl
define(\`confDOMAIN_NAME', \`mx.smtpscope.test')dnl
define(\`confDONT_BLAME_SENDMAIL', \`TrustStickyBit,GroupWritableDirPathSafe')dnl
define(\`ALIAS_FILE', \`')dnl
define(\`HELP_FILE', \`')dnl
define(\`STATUS_FILE', \`$SM_DIR/statistics')dnl
define(\`QUEUE_DIR', \`$SM_DIR/mqueue')dnl
define(\`confPID_FILE', \`$SM_DIR/sendmail.pid')dnl
define(\`confDELIVERY_MODE', \`queueonly')dnl
define(\`confTO_IDENT', \`0s')dnl
define(\`confLOG_LEVEL', \`14')dnl
define(\`confMILTER_LOG_LEVEL', \`14')dnl
define(\`confPRIVACY_FLAGS', \`authwarnings')dnl
define(\`confSMTP_LOGIN_MSG', \`\$j smtpscope-test Sendmail \$v')dnl
define(\`confSERVER_CERT', \`$2/server.crt')dnl
define(\`confSERVER_KEY', \`$2/server.key')dnl
define(\`confCACERT', \`$2/ca.crt')dnl
define(\`confCACERT_PATH', \`$2')dnl
define(\`confAUTH_MECHANISMS', \`PLAIN LOGIN CRAM-MD5 DIGEST-MD5')dnl
TRUST_AUTH_MECH(\`PLAIN LOGIN CRAM-MD5 DIGEST-MD5')dnl
FEATURE(\`no_default_msa')dnl
FEATURE(\`nocanonify')dnl
FEATURE(\`promiscuous_relay')dnl
FEATURE(\`accept_unresolvable_domains')dnl
FEATURE(\`accept_unqualified_senders')dnl
DAEMON_OPTIONS(\`Port=$SM_PORT, Addr=127.0.0.1, Name=MTA-v4, Family=inet')dnl
DAEMON_OPTIONS(\`Port=$SM_PORT, Addr=::1, Name=MTA-v6, Family=inet6')dnl
DAEMON_OPTIONS(\`Port=$SM_SMTPS_PORT, Addr=127.0.0.1, Name=SMTPS, Family=inet, M=s')dnl
INPUT_MAIL_FILTER(\`smtpscope', \`S=unix:$1, F=T, T=C:5s;S:10s;R:10s;E:30s')dnl
define(\`confMILTER_MACROS_CONNECT', \`j, _, {daemon_name}, {daemon_addr}, {daemon_port}, {if_addr}, {if_name}, {client_addr}, {client_port}, {client_name}, {client_ptr}, {client_resolve}')dnl
define(\`confMILTER_MACROS_HELO', \`{tls_version}, {cipher}, {cipher_bits}, {cert_subject}, {cert_issuer}, {verify}, {cn_subject}, {cn_issuer}, {cert_md5}')dnl
define(\`confMILTER_MACROS_ENVFROM', \`i, {auth_type}, {auth_authen}, {mail_addr}, {tls_version}, {cipher}, {cipher_bits}, {cert_subject}, {cert_issuer}, {verify}')dnl
define(\`confMILTER_MACROS_ENVRCPT', \`{rcpt_addr}')dnl
define(\`confMILTER_MACROS_EOM', \`i, {msg_id}')dnl
MAILER(\`smtp')dnl
EOF
}

# sm_run_script - print the script that gives Sendmail a private /dev and execs it
#
# It runs inside "ip netns exec", which already unshared the mount
# namespace (propagation private), so nothing mounted here shows outside.
sm_run_script() {
	cat <<'EOF'
# run.sh - private /dev with a syslog socket, then exec Sendmail (sendmail.sh)
# usage: run.sh SM_DIR LOGSOCK|- SASLDIR|- SENDMAIL ARGS...
dir=$1 sock=$2 sasl=$3
shift 3
if [ "$sasl" != - ]; then
	# Sendmail reads Sendmail.conf only from fixed paths; one of them is
	# the SASL plugin directory, so a copy of it with our file goes there
	mount --bind "$dir/sasl2" "$sasl" || exit 111
fi
if [ "$sock" != - ]; then
	mkdir -p "$dir/dev.host" &&
	mount --rbind /dev "$dir/dev.host" &&
	mount -t tmpfs -o mode=755,size=64k smtpscope-sm-dev /dev || exit 111
	for n in null zero full random urandom tty; do
		touch "/dev/$n" && mount --bind "$dir/dev.host/$n" "/dev/$n" || exit 111
	done
	ln -s /proc/self/fd /dev/fd && ln -s fd/0 /dev/stdin &&
	ln -s fd/1 /dev/stdout && ln -s fd/2 /dev/stderr &&
	touch /dev/log && mount --bind "$sock" /dev/log || exit 111
	umount -l "$dir/dev.host"
fi
exec "$@"
EOF
}

# sm_syslogd_script - print the perl syslog receiver: SOCKET FILE
sm_syslogd_script() {
	cat <<'EOF'
# syslogd.pl - append datagrams from a UNIX socket to a file (sendmail.sh)
use strict; use warnings; use IO::Socket::UNIX; use Socket; use IO::Handle;
my ($path, $file) = @ARGV;
unlink $path;
my $s = IO::Socket::UNIX->new(Type => SOCK_DGRAM, Local => $path) or die "$path: $!\n";
chmod 0666, $path;
open(my $fh, '>>', $file) or die "$file: $!\n";
$fh->autoflush(1);
$SIG{TERM} = sub { exit 0 };
my $m;
while (defined $s->recv($m, 65536)) {
	$m =~ s/^<\d+>//;
	$m =~ s/[\r\n]+$//;
	print $fh "$m\n";
}
EOF
}

# sm_reap_stale - delete smtpscope-sm-PID namespaces whose test shell is gone
sm_reap_stale() {
	local ns pid
	for ns in $(ip netns list 2>/dev/null | awk '{ print $1 }'); do
		case $ns in smtpscope-sm-*) ;; *) continue ;; esac
		pid=${ns#smtpscope-sm-}
		case $pid in '' | *[!0-9]*) continue ;; esac
		[ -d "/proc/$pid" ] && continue
		sm_diag "sm_start: removing stale namespace $ns"
		harness_netns_delete "$ns"
	done
}

# sm_hook_exit - make the EXIT trap run sm_stop before its current command (once)
sm_hook_exit() {
	local cur
	local -a words
	cur=$(trap -p EXIT)
	case $cur in *sm_exit_hook*) return 0 ;; esac
	if [ -n "$cur" ]; then
		# "trap -- 'COMMAND' EXIT": words[2] is COMMAND
		eval "words=($cur)"
		trap -- "sm_exit_hook $(printf '%q' "${words[2]}")" EXIT
	else
		trap -- sm_exit_hook EXIT
	fi
}

# sm_exit_hook - EXIT trap: sm_stop, then COMMAND (the earlier trap) with $? kept
#
# errexit is turned off first: under "set -e" a non-zero status inside the
# trap would end it before COMMAND (harness_cleanup) could run.
sm_exit_hook() {
	local rc=$?
	set +e
	sm_stop
	if [ -n "${1:-}" ]; then
		(exit "$rc")
		eval "$1"
	fi
	return "$rc"
}

# sm_listening - true when the daemon listens on all three addresses
sm_listening() {
	local out
	out=$(ip netns exec "$SM_NETNS" ss -Hltn 2>/dev/null)
	case $out in *"127.0.0.1:$SM_PORT "*) ;; *) return 1 ;; esac
	case $out in *"[::1]:$SM_PORT "*) ;; *) return 1 ;; esac
	case $out in *"127.0.0.1:$SM_SMTPS_PORT "*) ;; *) return 1 ;; esac
}

# sm_diagnose - print why Sendmail did not come up as TAP diagnostics
sm_diagnose() {
	sm_diag "sm_start: $1"
	if [ -n "$SM_PID" ]; then
		if harness_pid_gone "$SM_PID"; then
			sm_diag "sendmail (PID $SM_PID) is not running"
		else
			sm_diag "sendmail (PID $SM_PID) is running"
		fi
	fi
	[ -s "$SM_DIR/m4.err" ] && sm_diag "m4 stderr:" "$(cat "$SM_DIR/m4.err")"
	[ -s "$SM_DIR/sendmail.out" ] &&
		sm_diag "sendmail stdout/stderr:" "$(tail -n 40 "$SM_DIR/sendmail.out")"
	[ -s "$SM_LOG" ] && sm_diag "log tail ($SM_LOG):" "$(tail -n 40 "$SM_LOG")"
	[ -e "/run/netns/$SM_NETNS" ] && sm_diag "listening in $SM_NETNS:" \
		"$(ip netns exec "$SM_NETNS" ss -Hltn 2>&1)"
	return 0
}

# sm_start_syslog - start the perl syslog receiver; set _SM_LOGSOCK ("-" when impossible)
sm_start_syslog() {
	local _
	_SM_LOGSOCK=-
	perl -MIO::Socket::UNIX -e 1 2>/dev/null || return 0
	sm_syslogd_script >"$SM_DIR/syslogd.pl"
	# inside the namespace too, so that sm_reap_stale finds it after a SIGKILL
	ip netns exec "$SM_NETNS" perl "$SM_DIR/syslogd.pl" "$SM_DIR/log.sock" "$SM_LOG" \
		</dev/null 2>>"$SM_DIR/syslogd.err" &
	_SM_LOG_PID=$!
	declare -F harness_track_pid >/dev/null && harness_track_pid "$_SM_LOG_PID"
	for _ in $(seq 100); do
		[ -S "$SM_DIR/log.sock" ] && { _SM_LOGSOCK=$SM_DIR/log.sock; return 0; }
		harness_pid_gone "$_SM_LOG_PID" && return 0
		sleep 0.02
	done
}

# sm_sasl_setup - SASL plugin dir copy, Sendmail.conf and sasldb for SM_AUTH_USER; set _SM_SASL
#
# _SM_SASL is the system plugin directory to cover with $SM_DIR/sasl2, or
# "-" when SASL cannot be set up (no plugins, or no perl DB_File).
sm_sasl_setup() {
	local d
	_SM_SASL=-
	for d in /usr/lib/*-linux-gnu*/sasl2 /usr/lib/sasl2; do
		[ -f "$d/libsasldb.so.2" ] && [ -f "$d/libplain.so.2" ] && break
		d=
	done
	[ -n "$d" ] || return 0
	perl -MDB_File -e 1 2>/dev/null || return 0
	rm -rf -- "$SM_DIR/sasl2"
	cp -a "$d" "$SM_DIR/sasl2" || return 0
	printf '%s\n' "pwcheck_method: auxprop" "auxprop_plugin: sasldb" \
		"sasldb_path: $SM_DIR/sasldb2" "mech_list: PLAIN LOGIN CRAM-MD5 DIGEST-MD5" \
		>"$SM_DIR/sasl2/Sendmail.conf" || return 0
	rm -f -- "$SM_DIR/sasldb2"
	perl -MDB_File -MFcntl -e '
		my ($file, $user, $pass) = @ARGV;
		tie(my %h, "DB_File", $file, O_RDWR | O_CREAT, 0600, $DB_HASH) or die "$file: $!\n";
		$h{"$user\0mx.smtpscope.test\0userPassword"} = $pass;
		untie %h;' "$SM_DIR/sasldb2" "$SM_AUTH_USER" "$SM_AUTH_PASS" 2>"$SM_DIR/sasl.err" || return 0
	_SM_SASL=$d
}

# sm_start - write the configuration, create the namespace, start Sendmail, wait 10 s
sm_start() {
	local sock=${1:-} pki=${2:-} root ns f _
	if [ -z "$sock" ] || [ -z "$pki" ]; then
		sm_diag "usage: sm_start MILTER_SOCKET_PATH PKI_DIR"
		return 1
	fi
	if [ -n "$SM_PID" ] && ! harness_pid_gone "$SM_PID"; then
		sm_diag "sm_start: Sendmail already runs (PID $SM_PID); sm_stop first"
		return 1
	fi
	if [ -z "${T:-}" ] || [ ! -d "$T" ]; then
		sm_diag "sm_start: \$T is not set (call harness_init first)"
		return 1
	fi
	sock=$(realpath -m -- "$sock") pki=$(realpath -m -- "$pki")
	for f in server.crt server.key ca.crt; do
		[ -r "$pki/$f" ] || { sm_diag "sm_start: $pki/$f missing"; return 1; }
	done
	root=$(sm_root)
	[ -x "$root/$_SM_BIN" ] || sm_ensure || return 1
	for f in ip m4 ss; do
		command -v "$f" >/dev/null 2>&1 || { sm_diag "sm_start: $f not found"; return 1; }
	done

	SM_DIR=$T/sm
	SM_LOG=$SM_DIR/maillog
	ns=smtpscope-sm-$$
	SM_NETNS=$ns
	export SM_PORT SM_SMTPS_PORT SM_NETNS SM_DIR SM_LOG SM_AUTH_USER SM_AUTH_PASS
	sm_hook_exit
	sm_reap_stale

	mkdir -p "$SM_DIR/mqueue" || return 1
	chmod 755 "$SM_DIR" && chmod 700 "$SM_DIR/mqueue"
	touch "$SM_LOG" "$SM_DIR/statistics"
	sm_mc "$sock" "$pki" >"$SM_DIR/smtpscope.mc"
	if ! m4 "$root/usr/share/sendmail/cf/m4/cf.m4" "$SM_DIR/smtpscope.mc" \
		>"$SM_DIR/smtpscope.cf" 2>"$SM_DIR/m4.err" ||
		! grep -q '^O Milter.macros.connect=' "$SM_DIR/smtpscope.cf"; then
		sm_diagnose "m4 could not build $SM_DIR/smtpscope.cf"
		return 1
	fi

	harness_netns_delete "$ns"
	if ! ip netns add "$ns" || ! ip -n "$ns" link set lo up; then
		sm_diagnose "cannot create network namespace $ns"
		sm_stop
		return 1
	fi
	if ! mkdir -p "/etc/netns/$ns" ||
		! printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' \
			>"/etc/netns/$ns/resolv.conf" ||
		! printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' \
			>"/etc/netns/$ns/hosts"; then
		sm_diagnose "cannot write /etc/netns/$ns"
		sm_stop
		return 1
	fi

	sm_start_syslog
	[ "$_SM_LOGSOCK" = - ] && sm_diag "sm_start: no syslog capture (perl IO::Socket::UNIX missing?)"
	sm_sasl_setup
	[ "$_SM_SASL" = - ] && sm_diag "sm_start: no SMTP AUTH (SASL plugins or perl DB_File missing)"
	sm_run_script >"$SM_DIR/run.sh"
	ip netns exec "$ns" env LD_LIBRARY_PATH="$(sm_ld_path "$root")" \
		bash "$SM_DIR/run.sh" "$SM_DIR" "$_SM_LOGSOCK" "$_SM_SASL" \
		"$root/$_SM_BIN" -C "$SM_DIR/smtpscope.cf" -bD -L sm-smtpscope \
		</dev/null >"$SM_DIR/sendmail.out" 2>&1 &
	SM_PID=$!
	export SM_PID
	declare -F harness_track_pid >/dev/null && harness_track_pid "$SM_PID"
	for _ in $(seq 200); do
		sm_listening && return 0
		harness_pid_gone "$SM_PID" && break
		sleep 0.05
	done
	sm_diagnose "Sendmail did not listen on 127.0.0.1/::1 port $SM_PORT and 127.0.0.1 port $SM_SMTPS_PORT within 10 s"
	sm_stop
	return 1
}

# sm_exec - run CMD... inside Sendmail's network namespace
sm_exec() {
	if [ -z "$SM_NETNS" ] || [ ! -e "/run/netns/$SM_NETNS" ]; then
		sm_diag "sm_exec: no Sendmail namespace (sm_start first)"
		return 1
	fi
	ip netns exec "$SM_NETNS" "$@"
}

# sm_swaks - swaks to 127.0.0.1:$SM_PORT inside the namespace; output to $T/swaks.log
#
# Flags that work with swaks 20201014 here: IPv6 --server ::1; STARTTLS
# --tls [--tls-protocol tlsv1_2|tlsv1_3]; client certificate --tls-cert F
# --tls-key F; wrapper TLS --port "$SM_SMTPS_PORT" --tlsc; --quit-after EHLO.
sm_swaks() {
	local rc
	printf '=== sendmail: swaks %s\n' "$*" >>"$T/swaks.log"
	sm_exec swaks --server 127.0.0.1 --port "$SM_PORT" --timeout 15 \
		--from sender@example.org --to rcpt@smtpscope.test "$@" >>"$T/swaks.log" 2>&1
	rc=$?
	echo "=== exit $rc" >>"$T/swaks.log"
	return $rc
}

# sm_wait_log - wait up to SECS (integer) for COUNT lines of $SM_LOG matching RE
sm_wait_log() {
	local re=$1 want=$2 n _
	for _ in $(seq $(($3 * 10 + 1))); do
		n=$(grep -E -c -- "$re" "$SM_LOG" 2>/dev/null)
		[ "${n:-0}" -ge "$want" ] && return 0
		sleep 0.1
	done
	return 1
}

# sm_stop - stop Sendmail, what runs in its namespace, and the log receiver; delete the namespace
#
# A TERM to the daemon does not stop its per-connection children (seen with
# 8.17.1.9: a child in "cmd read" outlived it), so they are collected by
# parent PID and stopped before it; whatever is left in the namespace
# (children of children, sm_exec commands) is stopped by harness_netns_delete.
sm_stop() {
	local rc=$? errexit=
	local -a kids
	case $- in *e*) errexit=1; set +e ;; esac
	if [ -n "$SM_PID" ]; then
		# children first, so that the daemon reaps them (no zombies left to init)
		mapfile -t kids < <(harness_children "$SM_PID")
		harness_stop_pids "${kids[@]}"
		harness_stop_pids "$SM_PID"
	fi
	SM_PID=
	if [ -n "$SM_NETNS" ]; then
		harness_netns_delete "$SM_NETNS"
	fi
	[ -n "$_SM_LOG_PID" ] && harness_stop_pids "$_SM_LOG_PID"
	_SM_LOG_PID=
	[ -n "$errexit" ] && set -e
	return $rc
}
