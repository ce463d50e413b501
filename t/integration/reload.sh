#!/bin/bash
# reload.sh - SIGHUP reloads the configuration under load: 20 reloads while
# smtp-source sends through a real Postfix lose and double no record; the
# next session sees the new AuthservID and the new TagRules; a bad file is
# refused with file, line and key and the running configuration stays; a
# key read only at start (Socket) is named as needing a restart.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
. "$here/harness.sh"
. "$here/scope.sh"

scope_require_load
harness_init reload
tap_plan 17
MSGS=200
RELOADS=20

rules=$T/rules
mkdir -p "$rules" && chmod 755 "$rules"
echo 'tag first rcpt-domain smtpscope.test' >"$rules/tags.conf"
scope_start AuthservID a0.example TagRules "$rules/tags.conf"
tap_ok $? "smtpscope starts"
pf_start "unix:$SCOPE_SOCK"
tap_ok $? "Postfix starts"

# set_key KEY VALUE - change (or add) one line of the running configuration
set_key() {
	sed -i "/^$1 /d" "$SCOPE_CONF" && echo "$1 $2" >>"$SCOPE_CONF"
}

# log_count RE - lines of the daemon's log matching RE
log_count() { grep -cE -- "$1" "$SCOPE_DIR/stderr" 2>/dev/null; }

# wait_log RE N - wait until the daemon's log has N lines matching RE
wait_log() {
	harness_wait 30 sh -c "[ \"\$(grep -cE -- '$1' '$SCOPE_DIR/stderr')\" -ge $2 ]"
}

# --- 20 reloads under load -------------------------------------------------
scope_source "$MSGS" reload.case.test
src=$SOURCE_PID
for i in $(seq "$RELOADS"); do
	set_key AuthservID "a$i.example"
	kill -HUP "$SCOPE_PID"
	sleep 0.15
done
wait "$src"
tap_is $? 0 "smtp-source sent $MSGS messages during $RELOADS reloads"
wait_log 'reloaded ' "$RELOADS"
tap_is "$(log_count 'reloaded ')" "$RELOADS" "$RELOADS reloads logged"
pf_wait_log 'postfix/discard\[[0-9]+\]: .*status=sent' "$MSGS" 60
tap_is "$(grep -cE 'postfix/discard\[[0-9]+\]: .*status=sent' "$PF_LOG")" "$MSGS" \
	"Postfix delivered all $MSGS messages"
scope_wait "$((MSGS + 8))" 30
tap_is "$(jq -r 'select(.event=="message") | .queue_id' "$SCOPE_LOG" | sort -u | wc -l)" "$MSGS" \
	"one message record for each message (none lost)"
tap_is "$(jq -r 'select(.event=="message") | .queue_id' "$SCOPE_LOG" | wc -l)" "$MSGS" \
	"no message record written twice"
ids=$(jq -r 'select(.event=="message") | .authentication_results.value' "$SCOPE_LOG" |
	sed -n 's/^\(a[0-9]*\.example\);.*/\1/p' | sort -u | wc -l)
tap_ok "$([ "$ids" -ge 2 ]; echo $?)" "sessions under load used $ids configurations, each whole"
tap_is "$(jq -r 'select(.event=="message") | .authentication_results.value' "$SCOPE_LOG" |
	grep -cvE '^a([0-9]|1[0-9]|20)\.example;')" 0 "every header names one of the configured ids"

# --- new values visible in the next session ------------------------------
set_key AuthservID final.example
echo 'tag reloaded rcpt after@smtpscope.test' >>"$rules/tags.conf"
kill -HUP "$SCOPE_PID"
wait_log 'reloaded ' $((RELOADS + 1))
swaks_to 127.0.0.1 "$PF_PORT" --to after@smtpscope.test
scope_wait "$((MSGS + 8 + 2))" 30
rec=$(jq -c 'select(.event=="message" and .envelope.rcpt[0]=="after@smtpscope.test")' "$SCOPE_LOG")
tap_ok "$(echo "$rec" | jq -e '.authentication_results.value | startswith("final.example;")' >/dev/null; echo $?)" \
	"the next session has the new AuthservID"
tap_ok "$(echo "$rec" | jq -e '.tags | index("reloaded") != null' >/dev/null; echo $?)" \
	"and the new TagRules"

# --- a bad file is refused, the running configuration stays ----------------
echo 'Frobnicate 1' >>"$SCOPE_CONF"
kill -HUP "$SCOPE_PID"
wait_log 'reload failed' 1
tap_ok "$(grep -E 'reload failed' "$SCOPE_DIR/stderr" | grep -qF "$SCOPE_CONF:"; echo $?)" \
	"a bad file: reload failed, naming file and line"
sed -i '/^Frobnicate /d' "$SCOPE_CONF"
swaks_to 127.0.0.1 "$PF_PORT" --to still@smtpscope.test
scope_wait "$((MSGS + 8 + 4))" 30
tap_ok "$(jq -c 'select(.event=="message" and .envelope.rcpt[0]=="still@smtpscope.test")' "$SCOPE_LOG" |
	jq -e '.authentication_results.value | startswith("final.example;")' >/dev/null; echo $?)" \
	"and mail goes on with the running configuration"

# --- a key read only at start --------------------------------------------
set_key Socket "unix:$SCOPE_DIR/other.sock"
kill -HUP "$SCOPE_PID"
wait_log 'Socket changed' 1
tap_is "$(log_count 'reload: Socket changed')" 1 "a changed Socket is logged as needing a restart"
tap_ok "$([ -S "$SCOPE_SOCK" ] && [ ! -e "$SCOPE_DIR/other.sock" ]; echo $?)" \
	"and the socket stays where it was"
tap_ok "$(kill -0 "$SCOPE_PID"; echo $?)" "smtpscope runs"
scope_stop
scope_assert_clean
tap_done
