#!/bin/bash
# checkconf.sh - smtpscope -n checks what start needs (folders, the greylist
# store as UserID, the key file, TagRules), reports every problem with the
# exit code start would give, creates nothing, leaves a running instance
# alone; -n -v prints the effective configuration as a file that loads and
# prints the same (issue 14 item 3).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
. "$here/harness.sh"
. "$here/scope.sh"

[ "$(id -u)" -eq 0 ] || tap_skip_all "needs root to check as UserID"
command -v setpriv >/dev/null || tap_skip_all "needs setpriv (util-linux)"
harness_init checkconf
tap_plan 36
bin=$SCOPE_BIN
d=$T/c			# root's, 755: nobody may not write here
w=$d/w			# nobody's
mkdir -p "$d" "$w" "$d/rootonly" && chmod 755 "$d" "$d/rootonly" && chown nobody "$w"
echo 'tag vip rcpt-domain example.org' > "$d/good.tags"
echo 'tag x frobnicate y' > "$d/bad.tags"
head -c 32 /dev/urandom > "$w/key" && chown nobody "$w/key" && chmod 600 "$w/key"
head -c 32 /dev/urandom > "$d/key-640" && chmod 640 "$d/key-640"

# conf NAME [KEY VALUE]... - a file that starts (everything under $w),
# with keys added or overridden
conf() {
	local name=$1 key
	shift
	local -A c=(
		[Socket]="unix:$w/s.sock" [RecordLog]="$w/r.jsonl"
		[PidFile]="$w/s.pid" [UserID]=nobody [Syslog]=no
		[Greylist]=observe [GreylistStore]="lmdb:$w/gl.lmdb"
		[TagRules]="$d/good.tags" [PseudonymizeNames]=hmac
		[PseudonymizeKeyFile]="$w/key"
	)
	while [ $# -ge 2 ]; do c[$1]=$2; shift 2; done
	for key in "${!c[@]}"; do echo "$key ${c[$key]}"; done | sort > "$d/$name.conf"
}

# check NAME [setpriv args] - run -n on NAME.conf: $rc, $out, $err
check() {
	local name=$1
	shift
	out=$("$@" "$bin" -n -c "$d/$name.conf" 2>"$T/$name.err"); rc=$?
	err=$(cat "$T/$name.err")
}

# line_of NAME KEY - "FILE:LINE: KEY" as an error names it
line_of() {
	echo "$d/$1.conf:$(grep -n "^$2 " "$d/$1.conf" | cut -d: -f1): $2"
}

conf good
before=$(ls -A "$w" "$d" | tr '\n' ' ')
check good
tap_is $rc 0 "a configuration that starts: -n exits 0"
tap_is "$out" "$d/good.conf: configuration OK" "and says so, without warnings"
tap_is "$err" "" "nothing on stderr"
tap_is "$(ls -A "$w" "$d" | tr '\n' ' ')" "$before" \
	"-n creates nothing (no store, record log, pid file, socket)"

conf nolog RecordLog "$d/missing/r.jsonl"
check nolog
tap_is $rc 73 "a missing RecordLog folder: exit 73, as start"
tap_like "$err" "$(line_of nolog RecordLog): cannot open record log $d/missing/r.jsonl: folder $d/missing: No such file or directory" \
	"the error names file, line, key and folder"

conf gl GreylistStore "lmdb:$d/rootonly/gl.lmdb"
check gl
tap_is $rc 78 "a store folder root may write but UserID may not: exit 78, as start"
tap_like "$err" "$(line_of gl GreylistStore): lmdb:$d/rootonly/gl.lmdb: folder $d/rootonly: Permission denied (as nobody)" \
	"the store is checked as UserID, and the error says so"
tap_is "$(ls -A "$d/rootonly")" "" "the check as UserID creates nothing"

conf keymode PseudonymizeKeyFile "$d/key-640"
check keymode
tap_is $rc 78 "a group-readable key file: exit 78"
tap_like "$err" "$(line_of keymode PseudonymizeKeyFile): PseudonymizeKeyFile $d/key-640: readable or writable by group or others (mode 0640)" \
	"the error names the key file and its mode"

conf tags TagRules "$d/bad.tags"
check tags
tap_is $rc 78 "a TagRules file that does not parse: exit 78"
tap_like "$err" "$(line_of tags TagRules): $d/bad.tags:1: unknown kind 'frobnicate'" \
	"the error names the TagRules line"

# several problems at once: three bad keys, a bad TagRules file, a bad
# key file, a missing RecordLog folder and a store folder UserID may not
# write: every one is reported
conf many RecordLog "$d/missing/r.jsonl" TagRules "$d/bad.tags" \
	PseudonymizeKeyFile "$d/key-640" GreylistStore "lmdb:$d/rootonly/gl.lmdb" \
	OnError maybe ShutdownTimeout 99999 Frobnicate 1
check many
tap_is $rc 78 "several problems: the exit code of the first (a bad key: 78)"
tap_like "$err" "$(line_of many OnError): 'maybe' not one of the allowed values" "bad key 1 of 3 reported"
tap_like "$err" "$(line_of many ShutdownTimeout): '99999': value out of range" "bad key 2 of 3 reported"
tap_like "$err" "$d/many.conf:$(grep -n '^Frobnicate ' "$d/many.conf" | cut -d: -f1): unknown key 'Frobnicate'" \
	"bad key 3 of 3 reported"
tap_like "$err" "$(line_of many TagRules): $d/bad.tags:1:" "and the TagRules error"
tap_like "$err" "$(line_of many PseudonymizeKeyFile): PseudonymizeKeyFile $d/key-640: readable" \
	"and the key file error"
tap_like "$err" "$(line_of many RecordLog): cannot open record log" "and the RecordLog error"
tap_like "$err" "$(line_of many GreylistStore): lmdb:$d/rootonly/gl.lmdb: folder $d/rootonly: Permission denied (as nobody)" \
	"and the store error"
tap_like "$err" "$d/many.conf: 7 errors, exit 78" "and how many there are"

# not root: checked as the user running -n, who may not write the pid
# file's folder (root's)
conf nopid PidFile "$d/s.pid" UserID ''
sed -i '/^UserID/d' "$d/nopid.conf"
chmod 644 "$d/nopid.conf"
check nopid setpriv --reuid=nobody --regid=nogroup --clear-groups
tap_is $rc 73 "not root, a pid file folder this user may not write: exit 73"
tap_like "$err" "$(line_of nopid PidFile): cannot write pid file $d/s.pid: folder $d: Permission denied" \
	"the error names the pid file's folder"
tap_like "$out" "note: not run as root: checked as uid $(id -u nobody)" \
	"and one line says whom it checked as"

# more than 100 errors: the first 100 and a count of the rest
{ printf 'Socket unix:%s/s.sock\nRecordLog %s/r.jsonl\nUserID nobody\n' "$w" "$w"
  for i in $(seq 1 130); do echo "Syslog what"; done; } > "$d/flood.conf"
check flood
tap_is "$(grep -c "^smtpscope: $d/flood.conf:[0-9]*: Syslog" "$T/flood.err")" 100 \
	"130 bad lines: 100 errors shown"
tap_like "$err" "smtpscope: 30 more errors not shown" "and the number not shown"

# -n -v: the effective configuration, a file that loads and prints the same
"$bin" -n -v -c "$d/good.conf" > "$d/p1.conf" 2>"$T/p1.err"; rc=$?
tap_is $rc 0 "-n -v exits 0 on a good file"
tap_is "$(grep -c '^SyslogFacility mail$' "$d/p1.conf"):$(grep -c '^# SocketGroup (not set)$' "$d/p1.conf")" "1:1" \
	"-n -v fills in defaults and marks unset keys as comments"
"$bin" -n -v -c "$d/p1.conf" > "$d/p2.conf" 2>/dev/null; rc=$?
tap_is "$rc:$(cmp "$d/p1.conf" "$d/p2.conf" >/dev/null; echo $?)" "0:0" \
	"the printed configuration loads and prints the same"
tap_is "$(grep -cv '^#' "$d/p1.conf")" "$(grep -c '^[A-Za-z]' "$d/p1.conf")" \
	"-n -v prints nothing but keys and comments on stdout"
"$bin" -v -c "$d/good.conf" >/dev/null 2>&1
tap_is $? 64 "-v without -n is a usage error"

# a running instance: -n looks, and changes nothing it holds
SCOPE_NAME=run scope_start Greylist observe GreylistStore "lmdb:$T/run/gl.lmdb"
tap_ok $? "an instance runs"
held() {	# socket and pid file as they are, the store's lock file there
	stat -c '%i %Y %s' "$SCOPE_SOCK" "$SCOPE_DIR/smtpscope.pid" | tr '\n' ' '
	cat "$SCOPE_DIR/smtpscope.pid"
	stat -c '%i' "$T/run/gl.lmdb-lock"
}
was=$(held)
out=$("$bin" -n -c "$SCOPE_CONF" 2>&1); rc=$?
tap_is $rc 0 "-n beside a running instance exits 0"
tap_is "$(held)" "$was" \
	"and leaves its socket, pid file and store lock as they were"
tap_ok "$(kill -0 "$SCOPE_PID"; echo $?)" "the instance still runs"
scope_stop
tap_done
