#!/bin/bash
# greylist-tool.sh - smtpscope-greylist run as root leaves no root-owned
# store behind: it becomes UserID (-c) or the owner of the store's folder
# (-s lmdb:PATH) before it opens the store, and the daemon (as UserID) can
# then open the store the tool created, and SocketGroup sets the socket's
# group.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
. "$here/harness.sh"
. "$here/scope.sh"

[ "$(id -u)" -eq 0 ] || tap_skip_all "needs root to test the privilege drop"
harness_init greylist-tool
tap_plan 11
tool=${top_builddir:-../..}/admin/smtpscope-greylist
d=$T/d
mkdir -p "$d/state" "$d/other" && chown nobody "$d/state" "$d/other" && chmod 755 "$d"

conf=$d/smtpscope.conf
printf 'UserID nobody\nGreylist observe\nGreylistStore lmdb:%s/state/gl.lmdb\nSyslog no\n' "$d" >"$conf"
"$tool" -c "$conf" allow 192.0.2.0 >"$d/out" 2>&1
tap_is $? 0 "smtpscope-greylist -c as root: allow"
tap_is "$(stat -c %U "$d/state/gl.lmdb" 2>&1)" nobody "the store it created belongs to UserID"
tap_is "$(stat -c %U "$d/state/gl.lmdb-lock" 2>&1)" nobody "so does the lock file"

"$tool" -s "lmdb:$d/other/gl.lmdb" stats >"$d/out2" 2>&1
tap_is $? 0 "smtpscope-greylist -s lmdb:PATH as root: stats"
tap_is "$(stat -c %U "$d/other/gl.lmdb" 2>&1)" nobody "the store belongs to the owner of its folder"

printf 'UserID no-such-user-here\nGreylistStore lmdb:%s/state/gl.lmdb\n' "$d" >"$d/bad.conf"
"$tool" -c "$d/bad.conf" stats >/dev/null 2>"$d/err"
rc=$?
tap_ok "$([ $rc -ne 0 ]; echo $?)" "an unknown UserID stops the tool (exit $rc)"

# the daemon, as nobody, opens the store the tool created
scope_start Greylist observe GreylistStore "lmdb:$d/state/gl.lmdb" SocketGroup daemon SocketMode 0660
tap_ok "$([ -S "$SCOPE_SOCK" ]; echo $?)" "the daemon (as UserID) starts on the tool's store"
tap_is "$(stat -c '%U:%G %a' "$SCOPE_SOCK" 2>&1)" "nobody:daemon 660" "SocketGroup sets the socket's group"
"$tool" -c "$conf" list >"$d/list" 2>&1
tap_is $? 0 "the tool lists the store while the daemon runs"
tap_ok "$(grep -q '192.0.2' "$d/list"; echo $?)" "the allowed network is listed"
scope_stop

printf 'Socket unix:%s/x.sock\nUserID nobody\nSocketGroup no-such-group-here\n' "$d" >"$d/grp.conf"
err=$("${SCOPE_BIN}" -n -c "$d/grp.conf" 2>&1)
tap_ok "$(echo "$err" | grep -qF "grp.conf:3: SocketGroup: no such group 'no-such-group-here'"; echo $?)" \
	"-n: an unknown SocketGroup names file, line and key"
tap_done
