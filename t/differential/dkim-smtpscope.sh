#!/bin/bash
# dkim-smtpscope.sh - smtpscope's verdict on every signature of every
# generated case, for the differential test: smtpscope-eval (the milter's
# pipeline: msgfile, dkimverify, records) with the key table as a zone
# file (--zone OUTDIR/keys.zone, nothing sent on the network), default
# DKIM options (RFC 8301: no rsa-sha1, 1024-bit RSA minimum).
#
# Usage: dkim-smtpscope.sh EVAL OUTDIR > results
# Prints ID<TAB>INDEX<TAB>RESULT<TAB>DETAIL, one line per evaluated
# signature, top first (INDEX from 0). RESULT is smtpscope's word mapped:
# pass -> pass, fail -> fail, policy -> policy (kept apart: the compare
# step matches it against the documented classes), neutral, temperror and
# permerror -> other. A run of smtpscope-eval that fails gives one line
# with INDEX 0 and RESULT error.
set -u
eval_bin=$1
dir=$2
command -v jq >/dev/null 2>&1 || { echo "dkim-smtpscope.sh: jq missing" >&2; exit 2; }
cut -f1 "$dir/cases.tsv" | while read -r id; do
	rec=$("$eval_bin" --zone "$dir/keys.zone" --client-ip 192.0.2.1 --no-spf --no-iprev \
		--no-dmarc "$dir/msg/$id.eml" 2>/dev/null | head -1)
	if [ -z "$rec" ]; then
		rec='{"auth":{"dkim":[{"result":"error","reason":"smtpscope-eval failed"}]}}'
	fi
	printf '%s\t%s\n' "$id" "$rec"
done | jq -R -r 'split("\t") as [$id, $rec] | ($rec | fromjson) as $r |
	($r.auth.dkim // []) | to_entries[] |
	[$id, (.key | tostring),
	 (.value.result | if . == "pass" or . == "fail" or . == "policy" or . == "error" then . else "other" end),
	 ((.value.result) + (if .value.reason then ": " + .value.reason else "" end))] | @tsv'
