#!/bin/bash
# install-deps.sh - install every Debian 12 package smtpscope's build, tests
# and demo need (run as root). Safe to run again; starts no service and
# never stops one that was running before it.
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
	openssl libssl-dev jq m4 iproute2 procps perl python3 chromium time strace
	python3-spf libmail-spf-perl libnet-dns-resolver-programmable-perl
	sasl2-bin libsasl2-modules
	debhelper dh-autoreconf dpkg-dev fakeroot adduser logrotate
	libmicrohttpd-dev prometheus curl
	postfix-mta-sts-resolver
	libidn2-dev python3-dkim python3-nacl libmail-dkim-perl psl
"
# Services that run now are someone else's (a developer's Postfix or Redis):
# never touch them. Only what the package installation itself starts is
# stopped again (a fresh machine without policy-rc.d starts postfix and
# redis-server when they are installed).
pf_before=$(pidof master 2>/dev/null || true)
redis_before=$(pidof redis-server 2>/dev/null || true)
prom_before=$(pidof prometheus 2>/dev/null || true)

apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null

if [ -z "$pf_before" ] && [ -x /etc/init.d/postfix ] && pidof master >/dev/null 2>&1; then
	postfix -c /etc/postfix stop >/dev/null 2>&1 || true
fi
if [ -z "$redis_before" ] && [ -x /etc/init.d/redis-server ] && pidof redis-server >/dev/null 2>&1; then
	/etc/init.d/redis-server stop >/dev/null 2>&1 || true
fi
if [ -z "$prom_before" ] && [ -x /etc/init.d/prometheus ] && pidof prometheus >/dev/null 2>&1; then
	/etc/init.d/prometheus stop >/dev/null 2>&1 || true
fi
echo "install-deps: packages installed"
