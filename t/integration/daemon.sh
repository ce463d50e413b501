#!/bin/bash
# daemon.sh - smtpscope start-up, configuration checks, privileges and shutdown.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
. "$here/harness.sh"
. "$here/scope.sh"

[ "$(id -u)" -eq 0 ] || tap_skip_all "needs root to test the privilege drop"
harness_init daemon
tap_plan 44
bin=$SCOPE_BIN
d=$T/d
mkdir -p "$d" && chmod 777 "$d"

good=$d/good.conf
printf 'Socket unix:%s/s.sock\nRecordLog %s/r.jsonl\nUserID nobody\nPidFile %s/s.pid\nSyslog no\nSocketMode 0660\nThreadStackSize 768\n' "$d" "$d" "$d" > "$good"
"$bin" -n -c "$good" >/dev/null 2>&1
tap_is $? 0 "-n accepts a good file"

printf 'Socket unix:/tmp/x.sock\nFrobnicate 1\n' > "$d/bad.conf"
err=$("$bin" -n -c "$d/bad.conf" 2>&1); rc=$?
tap_is $rc 78 "-n exits 78 on an unknown key"
tap_ok "$(echo "$err" | grep -qF "$d/bad.conf:2: unknown key 'Frobnicate'"; echo $?)" "the error names file, line and key"

printf 'UserID no-such-user-here\n' > "$d/nouser.conf"
err=$("$bin" -n -c "$d/nouser.conf" 2>&1); rc=$?
tap_is $rc 78 "-n exits 78 for a user that does not exist"
tap_ok "$(echo "$err" | grep -qF "nouser.conf:1: UserID: no such user"; echo $?)" "the error names the UserID line"

printf 'UserID nobody\nAuthservID mx\342\200\256.example\n' > "$d/servid.conf"
err=$("$bin" -n -c "$d/servid.conf" 2>&1); rc=$?
tap_is "$rc" 78 "-n exits 78 for an AuthservID that is not printable ASCII (U+202E)"
tap_ok "$(echo "$err" | grep -qF "servid.conf:2: AuthservID:"; echo $?)" "the error names the AuthservID line"

printf 'RecordLog %s/r.jsonl\n' "$d" > "$d/root.conf"
err=$("$bin" -f -c "$d/root.conf" 2>&1); rc=$?
tap_is $rc 78 "refuses to run as root without UserID"
tap_ok "$(echo "$err" | grep -q "refusing to run as root"; echo $?)" "and says why"
# an error that stops the start before Syslog is read reaches syslog too
# (facility mail): glibc's syslog() connects to /dev/log for it
strace -f -qq -e trace=connect -o "$d/early.trace" "$bin" -f -c "$d/bad.conf" >/dev/null 2>&1
tap_ok "$(grep -q '"/dev/log"' "$d/early.trace"; echo $?)" \
	"a start stopped by a bad file logs to syslog as well (connect to /dev/log)"

"$bin" -c "$d/missing.conf" -n >/dev/null 2>&1
tap_is $? 78 "an unreadable file exits 78"

# files that are not regular files, and stores and lists that are not
# what they claim (issue 12): 78 at once, naming file, line and key
mkfifo "$d/fifo.conf"
err=$(timeout 20 "$bin" -n -c "$d/fifo.conf" 2>&1); rc=$?
tap_is $rc 78 "a FIFO configuration exits 78 instead of hanging"
tap_ok "$(echo "$err" | grep -qF "$d/fifo.conf:0: cannot open: not a regular file"; echo $?)" "and says it is no regular file"
check_bad() {	# NAME KEY VALUE MESSAGE
	printf '%s %s\nUserID nobody\n' "$2" "$3" > "$d/$1.conf"
	err=$(timeout 20 "$bin" -n -c "$d/$1.conf" 2>&1); rc=$?
	tap_ok "$([ $rc -eq 78 ] && echo "$err" | grep -qF "$d/$1.conf:1: $2: $4"; echo $?)" \
		"-n: $2 $3: exit 78 ($rc), $4"
}
check_bad psl-zero PublicSuffixList /dev/zero "'/dev/zero': not a regular file"
check_bad psl-passwd PublicSuffixList /etc/passwd "/etc/passwd:1: not a public suffix rule"
check_bad tags-fifo TagRules "$d/fifo.conf" "'$d/fifo.conf': not a regular file"
check_bad gl-memcached GreylistStore memcached:x "'memcached:x': not lmdb:/path"
check_bad gl-v6 GreylistStore 'redis:[::1' "'redis:[::1': redis:[::1: expected"
check_bad gl-null GreylistStore lmdb:/dev/null "'lmdb:/dev/null': /dev/null: not a regular file"
check_bad gl-rel GreylistStore lmdb:gl.lmdb "'lmdb:gl.lmdb': lmdb:gl.lmdb: path must be absolute"
rm -f "$d/fifo.conf"
"$bin" -x >/dev/null 2>&1
tap_is $? 64 "a bad option exits 64"
tap_ok "$("$bin" -V | grep -q '^smtpscope [0-9]'; echo $?)" "-V prints the version"

printf 'Socket unix:%s/n.sock\nRecordLog /nonexistent/dir/r.jsonl\nUserID nobody\nSyslog no\n' "$d" > "$d/nolog.conf"
"$bin" -f -c "$d/nolog.conf" >/dev/null 2>&1
tap_is $? 73 "an unopenable record log exits 73"

printf 'Socket unix:%s/q.sock\nRecordLog %s/q.jsonl\nUserID nobody\nSyslog no\nPidFile /nonexistent/dir/q.pid\n' "$d" "$d" > "$d/nopid.conf"
err=$("$bin" -c "$d/nopid.conf" 2>&1); rc=$?
tap_is $rc 73 "daemon mode: a failure after the fork is the parent's exit status"
tap_ok "$(echo "$err" | grep -q 'cannot write pid file /nonexistent/dir/q.pid'; echo $?)" \
	"daemon mode: the failure after the fork is reported on stderr"
tap_ok "$([ ! -e "$d/q.sock" ]; echo $?)" "a failed start removes the socket it created"

# a failure after the pid file is written and privileges are dropped
printf 'Socket unix:%s/g.sock\nRecordLog %s/g.jsonl\nUserID nobody\nSyslog no\nPidFile %s/g.pid\nGreylist observe\nGreylistStore lmdb:/nonexistent/dir/gl.lmdb\n' "$d" "$d" "$d" > "$d/nogl.conf"
err=$("$bin" -c "$d/nogl.conf" 2>&1); rc=$?
tap_is $rc 78 "daemon mode: an unopenable greylist store exits 78"
tap_is "$(ls "$d"/g.* 2>/dev/null | tr '\n' ' ')" "" \
	"a failed start removes its socket, pid file and the (empty) record log it created"
tap_is "$(echo "$err" | grep -c 'Success')" 0 "no start-up error says \"Success\""

# daemon mode: the parent returns once the child is ready
"$bin" -c "$good" -p "unix:$d/p.sock" 2>"$d/stderr"
tap_is $? 0 "daemon mode: the parent exits 0 when ready"
pid=$(cat "$d/s.pid" 2>/dev/null)
[ -n "$pid" ] && harness_track_pid "$pid"
tap_ok "$(kill -0 "$pid" 2>/dev/null; echo $?)" "daemon mode: the pid file names a live process"
tap_ok "$([ -S "$d/p.sock" ]; echo $?)" "-p overrides Socket"
tap_ok "$([ ! -e "$d/s.sock" ]; echo $?)" "the configured socket is not used with -p"
tap_is "$(stat -c '%U %a' "$d/p.sock")" "nobody 660" "socket owned by UserID with SocketMode"
tap_is "$(stat -c '%U %a' "$d/r.jsonl")" "nobody 640" "record log owned by UserID, mode 0640"
tap_is "$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$pid/status")" "65534 65534 65534 65534" \
	"the daemon runs as nobody (real, effective, saved, fs uid)"
tap_is "$(awk '/^Groups:/ {print $2}' "/proc/$pid/status")" "65534" "supplementary groups dropped to nobody's"
tap_is "$(readlink "/proc/$pid/cwd")" "/" "daemon mode: cwd is /"
# ThreadStackSize 768: libmilter's threads (listener, pool controller, two
# idle workers) run on 768 KiB stacks: writable anonymous mappings of 768
# KiB each (glibc adds the guard page below), none of 8 MiB (the limit's)
stack_maps() {	# PID: "N M", the 768 KiB and 8192 KiB rw-p anonymous mappings
	local range perms off dev inode path kib n=0 big=0
	while read -r range perms off dev inode path; do
		[ "$perms" = rw-p ] && [ -z "$path" ] || continue
		kib=$(( (16#${range#*-} - 16#${range%-*}) / 1024 ))
		[ "$kib" -eq 768 ] && n=$((n + 1))
		[ "$kib" -eq 8192 ] && big=$((big + 1))
	done < "/proc/$1/maps"
	echo "$n $big"
}
stacks=$(stack_maps "$pid")
tap_ok "$(set -- $stacks; [ "$1" -ge 2 ] && [ "$2" -eq 0 ]; echo $?)" \
	"ThreadStackSize 768: threads on 768 KiB stacks (768 KiB mappings, 8 MiB ones: $stacks)"

kill -TERM "$pid"
for i in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
tap_ok "$(kill -0 "$pid" 2>/dev/null; [ $? -ne 0 ]; echo $?)" "SIGTERM stops the daemon"
tap_ok "$([ ! -e "$d/p.sock" ]; echo $?)" "SIGTERM removes the socket"
tap_ok "$([ ! -e "$d/s.pid" ]; echo $?)" "SIGTERM removes the pid file"

# foreground: operational messages on stderr, counters at exit
scope_start
scope_stop
tap_ok "$(grep -q 'stats (exit): sessions=0' "$SCOPE_DIR/stderr"; echo $?)" "-f logs the counters to stderr at exit"
scope_assert_clean
tap_done
