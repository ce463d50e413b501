#!/bin/bash
# test-package.sh - the Debian package end to end (TAP, as root):
# build it with dpkg-buildpackage, install it with apt-get, start the daemon
# the way its systemd unit does, send mail through a Postfix whose smtpd runs
# chrooted and reaches the socket at the package's path inside the jail,
# rotate the record log with the package's logrotate file, stop the daemon,
# purge the package and check that nothing is left behind.
#
# It refuses to run (skip) when a smtpscope package is installed already:
# that one is not ours to purge. Whatever happens, the trap stops what the
# test started, unmounts what it mounted and purges what it installed. It
# touches no Postfix or service of the host: its Postfix is the throwaway
# instance of t/integration/harness.sh. The package's postinst creates the
# system user smtpscope, which purge leaves (Debian practice).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/t/integration/tap.sh"
. "$top/t/integration/harness.sh"

[ "$(id -u)" -eq 0 ] || tap_skip_all "needs root (dpkg, apt-get, mount)"
if dpkg-query -W -f='${Status}' smtpscope 2>/dev/null | grep -q ' installed'; then
	tap_skip_all "a smtpscope package is installed already; not ours to purge"
fi

CONF=/etc/smtpscope/smtpscope.conf
RECORDS=/var/log/smtpscope/records.jsonl
PIDFILE=/run/smtpscope/smtpscope.pid
SOCKDIR=/var/spool/postfix/smtpscope
PKG_INSTALLED=
PKG_MOUNT=
PKG_PID=

# pkg_cleanup - stop our daemon, unmount, purge what we installed
pkg_cleanup() {
	[ -n "$PKG_PID" ] && harness_stop_pids "$PKG_PID"
	PKG_PID=
	pf_stop
	if [ -n "$PKG_MOUNT" ]; then
		umount "$PKG_MOUNT" 2>/dev/null || umount -l "$PKG_MOUNT" 2>/dev/null
		PKG_MOUNT=
	fi
	if [ -n "$PKG_INSTALLED" ]; then
		PKG_INSTALLED=
		DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq smtpscope >/dev/null 2>&1
	fi
}

# pkg_paths - paths named *smtpscope* where a package puts things
pkg_paths() {
	find /etc /usr /var /lib /run -xdev -name '*smtpscope*' 2>/dev/null | sort
}

harness_init package
trap 'pkg_cleanup; harness_cleanup' EXIT
paths_before=$(pkg_paths)
tap_plan 29

# --- build --------------------------------------------------------------
src=$T/src/smtpscope-0.1.0
mkdir -p "$src"
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$top" && git ls-files -co --exclude-standard -z |
		xargs -0 cp --parents -t "$src" 2>/dev/null)
else
	tar -C "$top" --exclude='./build*' --exclude=./.git -cf - . | tar -C "$src" -xf -
fi
start=$(date +%s)
(cd "$src" && DEB_BUILD_OPTIONS='nocheck parallel=2' \
	dpkg-buildpackage -us -uc -b >"$T/build.log" 2>&1)
rc=$?
tap_is $rc 0 "dpkg-buildpackage -us -uc -b builds the package"
[ $rc -eq 0 ] || tail -n 30 "$T/build.log" | sed 's/^/# /'
tap_diag "package built in $(($(date +%s) - start)) s"
deb=$(ls "$T"/src/smtpscope_*_*.deb 2>/dev/null | grep -v dbgsym | head -n 1)

# --- install ------------------------------------------------------------
PKG_INSTALLED=1
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$deb" >"$T/install.log" 2>&1
tap_is $? 0 "apt-get install ./$(basename "${deb:-none.deb}")"
sed 's/^/# install: /' "$T/install.log" | tail -n 5
tap_ok "$(/usr/sbin/smtpscope -V | grep -q '^smtpscope 0\.'; echo $?)" "/usr/sbin/smtpscope runs"
tap_ok "$(nm -D /usr/sbin/smtpscope 2>/dev/null | grep -q ' T d2i_PUBKEY_bio$'; echo $?)" \
	"the packaged binary exports d2i_PUBKEY_bio (the DKIM key cache binds with Debian's build flags)"
tap_ok "$(dpkg-query -W -f='${Conffiles}' smtpscope | grep -q " $CONF "; echo $?)" \
	"$CONF is a conffile"
uid=$(id -u smtpscope 2>/dev/null)
tap_ok "$([ -n "$uid" ] && [ "$uid" -lt 1000 ]; echo $?)" "system user smtpscope exists (uid ${uid:-none})"
tap_is "$(stat -c '%U:%G %a' "$SOCKDIR" 2>&1)" "smtpscope:postfix 750" \
	"socket folder inside Postfix's chroot"
tap_ok "$(grep -q '^Socket[[:space:]]*unix:/var/spool/postfix/smtpscope/smtpscope.sock' "$CONF" &&
	grep -q '^SocketGroup[[:space:]]*postfix' "$CONF"; echo $?)" \
	"the configuration puts the socket in the chroot, group postfix"
unit=/lib/systemd/system/smtpscope.service
tap_ok "$(grep -q '^ExecStart=/usr/sbin/smtpscope -c /etc/smtpscope/smtpscope.conf$' "$unit"; echo $?)" \
	"the unit runs /usr/sbin/smtpscope with /etc/smtpscope"
for m in smtpscope.8 smtpscope.conf.5 smtpscope-records.5; do
	[ -f "/usr/share/man/man${m##*.}/$m.gz" ] || missing="${missing:-} $m"
done
tap_is "${missing:-}" "" "man pages installed"

# --- start the daemon as the unit does ------------------------------------
# systemd is not PID 1 here: do what the unit's lines do, in their order.
install -d -m 0750 /run/smtpscope	# RuntimeDirectory=, RuntimeDirectoryMode=
nofile=$(sed -n 's/^LimitNOFILE=//p' "$unit")
unit_ok=0
while read -r line; do
	(umask 0027; [ -n "$nofile" ] && ulimit -n "${nofile##*:}"; eval "$line") \
		>>"$T/unit.log" 2>&1 || unit_ok=1
done < <(sed -n 's/^ExecStartPre=//p; s/^ExecStart=//p' "$unit")
tap_is $unit_ok 0 "ExecStartPre and ExecStart lines succeed"
sed 's/^/# unit: /' "$T/unit.log" | tail -n 5
PKG_PID=$(cat "$PIDFILE" 2>/dev/null)
tap_ok "$([ -n "$PKG_PID" ] && kill -0 "$PKG_PID" 2>/dev/null; echo $?)" "daemon running (pid file $PIDFILE)"
tap_is "$(stat -c '%U:%G %a' "$SOCKDIR/smtpscope.sock" 2>&1)" "smtpscope:postfix 660" \
	"socket owned by smtpscope, group postfix"
tap_is "$(ps -o user= -p "${PKG_PID:-1}" 2>/dev/null | tr -d ' ')" "smtpscope" "daemon runs as smtpscope"

# --- Postfix with a chrooted smtpd ------------------------------------------
# The throwaway Postfix's queue directory is its chroot; the package's socket
# folder is bind-mounted into it where Debian's Postfix has it.
pf_config || true
mkdir -p "$PF_DIR/spool/smtpscope"
mount --bind "$SOCKDIR" "$PF_DIR/spool/smtpscope" && PKG_MOUNT=$PF_DIR/spool/smtpscope
postconf -c "$PF_DIR/etc" -F "127.0.0.1:$PF_PORT/inet/chroot = y"
pf_age_config
pf_start "unix:/smtpscope/smtpscope.sock"
tap_is $? 0 "Postfix with smtpd chrooted, smtpd_milters = unix:/smtpscope/smtpscope.sock"

# wait_record RCPT - wait (30 s) for a message record for RCPT in FILE
wait_record() {
	for _ in $(seq 300); do
		grep -qF "\"$1\"" "$2" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

swaks_to 127.0.0.1 "$PF_PORT" --from alice@example.org --to pkg1@smtpscope.test
tap_is $? 0 "a message through the chrooted smtpd is accepted"
wait_record pkg1@smtpscope.test "$RECORDS"
tap_is $? 0 "its record is in $RECORDS"
tap_ok "$(grep -qF 'pkg1@smtpscope.test' "$RECORDS" &&
	grep -F 'pkg1@smtpscope.test' "$RECORDS" | jq -e 'select(.event == "message") | .client.ip == "127.0.0.1"' >/dev/null; echo $?)" \
	"the record is a valid message record from 127.0.0.1"
tap_ok "$(grep -q 'postfix/smtpd.*milter' "$PF_LOG"; [ $? -ne 0 ]; echo $?)" \
	"Postfix's log has no milter error"
tap_is "$(stat -c '%U %a' "$RECORDS" 2>&1)" "smtpscope 640" "record log owned by smtpscope, mode 0640"

# --- rotation with the package's logrotate file ---------------------------
if command -v logrotate >/dev/null; then
	logrotate -f -s "$T/logrotate.state" /etc/logrotate.d/smtpscope >"$T/logrotate.log" 2>&1
	tap_is $? 0 "logrotate -f /etc/logrotate.d/smtpscope"
	swaks_to 127.0.0.1 "$PF_PORT" --from alice@example.org --to pkg2@smtpscope.test
	wait_record pkg2@smtpscope.test "$RECORDS"
	tap_is $? 0 "after rotation the next record is in a new $RECORDS"
	tap_ok "$(grep -qF pkg1@smtpscope.test "$RECORDS.1" && ! grep -qF pkg1@smtpscope.test "$RECORDS"; echo $?)" \
		"the earlier record is in records.jsonl.1 only"
else
	tap_ok 1 "logrotate is installed (contrib/install-deps.sh)"
	tap_ok 1 "rotation: not tested"
	tap_ok 1 "rotation: not tested"
fi

# --- stop as the unit does (SIGTERM) ----------------------------------------
kill -TERM "$PKG_PID" 2>/dev/null
for _ in $(seq 450); do harness_pid_gone "$PKG_PID" && break; sleep 0.1; done
harness_pid_gone "$PKG_PID"
tap_is $? 0 "SIGTERM stops the daemon"
PKG_PID=
tap_ok "$([ ! -e "$SOCKDIR/smtpscope.sock" ] && [ ! -e "$PIDFILE" ]; echo $?)" \
	"socket and pid file removed at stop"

# --- purge ----------------------------------------------------------------
pf_stop
umount "$PKG_MOUNT" && PKG_MOUNT=
PKG_INSTALLED=
DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq smtpscope >"$T/purge.log" 2>&1
tap_is $? 0 "apt-get purge smtpscope"
sed 's/^/# purge: /' "$T/purge.log" | tail -n 5
tap_ok "$(dpkg-query -W -f='${Status}' smtpscope 2>/dev/null | grep -q ' installed'; [ $? -ne 0 ]; echo $?)" \
	"the package is gone"
left=
for f in /usr/sbin/smtpscope /usr/sbin/smtpscope-eval /usr/sbin/smtpscope-greylist \
	/usr/bin/smtpscope-report /usr/libexec/smtpscope /etc/smtpscope \
	/etc/logrotate.d/smtpscope "$unit" /var/lib/smtpscope /var/log/smtpscope \
	/run/smtpscope "$SOCKDIR" /usr/share/doc/smtpscope; do
	[ -e "$f" ] && left="$left $f"
done
tap_is "$left" "" "purge leaves none of the package's files and folders"
other=$(comm -13 <(echo "$paths_before") <(pkg_paths) | head -n 5)
tap_is "$other" "" "no new path named *smtpscope* in /etc /usr /var /lib /run"
tap_done
