#!/bin/bash
# install-deps.sh - install every Debian 12 package smtpscope's build, tests
# and demo need (run as root). Safe to run again; starts no service.
set -eu
export DEBIAN_FRONTEND=noninteractive

# Postfix asks questions on install; answer them so nothing is configured
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
echo "postfix postfix/mailname string smtpscope.test" | debconf-set-selections

PACKAGES="
	build-essential autoconf automake pkg-config
	libmilter-dev libjansson-dev libldns-dev libspf2-dev libyaml-dev
	libopendkim-dev libopendmarc-dev publicsuffix
	liblmdb-dev libhiredis-dev lmdb-utils redis-server
	ldnsutils nsd unbound bind9-dnsutils
	postfix swaks libnet-ssleay-perl libio-socket-ssl-perl libio-socket-inet6-perl
	openssl libssl-dev jq m4 iproute2 procps perl python3 chromium time
	python3-spf libmail-spf-perl libnet-dns-resolver-programmable-perl
	sasl2-bin libsasl2-modules
"
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null
# policy-rc.d may be absent on a fresh machine: never leave a system Postfix running
if [ -x /etc/init.d/postfix ] && pidof master >/dev/null 2>&1; then
	postfix -c /etc/postfix stop >/dev/null 2>&1 || true
fi
# the packaged Redis is not ours to run: tests start their own on a socket
if pidof redis-server >/dev/null 2>&1 && [ -x /etc/init.d/redis-server ]; then
	/etc/init.d/redis-server stop >/dev/null 2>&1 || true
fi
echo "install-deps: packages installed"
