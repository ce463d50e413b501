#!/bin/bash
# install-bench-deps.sh - install the Debian packages the benchmarks need
# beyond contrib/install-deps.sh (run as root; bench-e2e.sh and
# bench-direct.sh run it themselves when something is missing).
#
# SYNOPSIS
#	contrib/bench/install-bench-deps.sh
#
# DESCRIPTION
#	OpenDKIM and OpenDMARC (the comparison), opendkim-tools, Mail::DKIM
#	(corpus.sh signs the corpus with it), unbound and drill (the DNS lab),
#	python3 (the delaying DNS forwarder, dnsdelay.py), postfix (smtp-source)
#	and jq. opendmarc's postinst would try to set up a MySQL database
#	unless debconf is told not to, so that is preseeded first.
#
#	The benchmarks start their own OpenDKIM and OpenDMARC in a network
#	namespace; the system services the packages bring must not run. While
#	installing, a policy-rc.d that refuses every start is put in place
#	(unless one exists already, which is then left alone), and a daemon
#	that runs afterwards but did not run before is stopped by the PID in
#	its pid file (only when that PID is the daemon). Services that ran before are someone else's: untouched.
#
# DIAGNOSTICS
#	Exits non-zero when not root or when apt-get fails.
set -eu
export DEBIAN_FRONTEND=noninteractive

[ "$(id -u)" -eq 0 ] || { echo "install-bench-deps: run as root" >&2; exit 1; }

PACKAGES="opendkim opendkim-tools opendmarc libmail-dkim-perl unbound
	ldnsutils python3 postfix jq iproute2 util-linux"

# missing - the packages of the list not installed yet
missing() {
	local p out=
	for p in $PACKAGES; do
		dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			out="$out $p"
	done
	echo "$out"
}

need=$(missing)
if [ -z "$need" ]; then
	echo "install-bench-deps: nothing to install"
	exit 0
fi

echo "opendmarc opendmarc/dbconfig-install boolean false" | debconf-set-selections
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections

before_dkim=$(pidof opendkim 2>/dev/null || true)
before_dmarc=$(pidof opendmarc 2>/dev/null || true)
before_unbound=$(pidof unbound 2>/dev/null || true)
policy=
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\n# install-bench-deps.sh: start nothing while installing\nexit 101\n' \
		>/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	policy=1
fi
# unhook - remove the policy-rc.d this script put in place
unhook() { [ -z "$policy" ] || rm -f /usr/sbin/policy-rc.d; }
trap unhook EXIT

apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $need >/dev/null

# stop_new NAME PIDFILE BEFORE - stop a daemon the installation started
stop_new() {
	local pid
	[ -z "$3" ] || return 0
	[ -r "$2" ] || return 0
	pid=$(cat "$2" 2>/dev/null)
	case $pid in '' | *[!0-9]*) return 0 ;; esac
	[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$1" ] || return 0
	kill -TERM "$pid" 2>/dev/null && echo "install-bench-deps: stopped $1 ($pid)"
	return 0
}
stop_new opendkim /run/opendkim/opendkim.pid "$before_dkim"
stop_new opendmarc /run/opendmarc/opendmarc.pid "$before_dmarc"
stop_new unbound /run/unbound.pid "$before_unbound"
echo "install-bench-deps: installed$need"
