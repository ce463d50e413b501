#!/bin/bash
# greylist-full.sh - a greylisting store that fills under Greylist enforce
# (issue 12): smtpscope-bench sprays 6000 new triplets (6000 recipients)
# straight over the milter protocol at a daemon whose LMDB store may grow
# to 1 MiB only (GreylistMaxSize 1). The triplets that fit are refused
# (451, counter greylist_refused); the rest fail open: verdict error in
# the record, counters greylist_errors and greylist_store_full, and one
# log line for the whole episode instead of one a minute per message.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
. "$here/harness.sh"
. "$here/scope.sh"

[ "$(id -u)" -eq 0 ] || tap_skip_all "needs root to start the daemon as UserID nobody"
command -v jq >/dev/null 2>&1 || tap_skip_all "jq is not installed"
BENCH=${top_builddir:-../..}/contrib/bench/smtpscope-bench
[ -x "$BENCH" ] || tap_skip_all "smtpscope-bench is not built"
harness_init greylist-full
tap_plan 9

N=6000
scope_start Greylist enforce GreylistStore "lmdb:$T/scope/greylist.lmdb" \
	GreylistMaxSize 1 StatsInterval 0
tap_ok $? "smtpscope starts with a 1 MiB LMDB greylist store"
"$BENCH" -s "unix:$SCOPE_SOCK" -n "$N" -w 0 -c 4 -r "$N" >"$T/bench.out" 2>&1
scope_wait "$((2 * N))" 60
scope_stop
tap_ok $? "smtpscope stops"

err=$SCOPE_DIR/stderr
stats=$(grep -o 'stats (exit): .*' "$err")
counter() { echo "$stats" | grep -o " $1=[0-9]*" | cut -d= -f2; }
refused=$(counter greylist_refused)
errors=$(counter greylist_errors)
full=$(counter greylist_store_full)
harness_diag "bench and daemon:" "$(tail -3 "$T/bench.out")" "$stats"
tap_ok "$([ "${refused:-0}" -gt 1000 ] && [ "${full:-0}" -gt 1000 ]; echo $?)" \
	"some triplets are stored and refused ($refused), then the store is full ($full)"
tap_is "$((refused + full))" "$N" "every new triplet is either refused or fails open as store full"
tap_is "$errors" "$full" "greylist_errors counts the same failures"
tap_is "$(grep -c 'greylist store full: lmdb .*store full (map 1 MiB, GreylistMaxSize 1 MiB); greylisting fails open' "$err")" 1 \
	"one log line for the whole episode"
tap_is "$(grep -c 'internal fault' "$err")" 0 "no per-message fault lines"
tap_is "$(jq -s '[.[] | select(.event=="message") | .greylist.rcpt[]? | select(.verdict=="error")] | length' "$SCOPE_LOG")" \
	"$full" "the records say error for each of them"
scope_assert_clean
