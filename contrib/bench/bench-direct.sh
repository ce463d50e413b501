#!/bin/bash
# bench-direct.sh - the milter protocol alone: smtpscope, a null libmilter
# and OpenDKIM under smtpscope-bench, without an MTA
#
# SYNOPSIS
#	contrib/bench/bench-direct.sh           # as root; R=3, about 25 min when quiet
#	QUICK=1 contrib/bench/bench-direct.sh   # smoke test: MSGS=2000 R=1
#	SMTPSCOPE_BIN=/tmp/b/milter/smtpscope \
#	    NULLMILTER_BIN=/tmp/b/contrib/bench/nullmilter \
#	    BENCH_BIN=/tmp/b/contrib/bench/smtpscope-bench contrib/bench/bench-direct.sh
#	PROFILE=1 contrib/bench/bench-direct.sh # and profile smtpscope (perf, strace)
#
# DESCRIPTION
#	Builds nothing. Writes the end-to-end benchmark's corpus (corpus.sh: 2,
#	10 and 100 KB, each unsigned and DKIM-signed), starts a network
#	namespace with unbound serving bench.example and, in it, on UNIX
#	sockets (milters.sh):
#
#	  scope  smtpscope spine: no checks (smtpscope-spine.conf)
#	  spf    smtpscope SPF+iprev: SPF, iprev and the Authentication-
#	         Results header, no DKIM/DMARC (smtpscope-spf.conf)
#	  full   smtpscope full: SPF, iprev, DKIM, DMARC and the header
#	         (smtpscope-full.conf, as bench-e2e.sh's configuration b)
#	  null   nullmilter: a do-nothing libmilter milter that negotiates
#	         exactly what smtpscope negotiates (steps, no-reply flags,
#	         macro lists), i.e. what the libmilter plumbing alone costs
#	  dkim   Debian's OpenDKIM in verify mode (milters.sh's configuration)
#	  nocache  smtpscope full with DNSCache no (not in the default list:
#	         MILTERS="full nocache")
#
#	DELAY_MS=20 (default 0) puts the smtpscope instances' resolver 20 ms
#	away: dnsdelay.py waits that long before forwarding each query to
#	unbound (milters.sh's bm_delay_start); OpenDKIM keeps the local one.
#	MILTERS="full nocache" DELAY_MS=20 shows what the DNS cache saves
#	with a remote resolver. Missing packages are installed first
#	(install-bench-deps.sh; it leaves no service running).
#
#	smtpscope-bench plays the corpus's sender: client mail-out2.bench.example
#	[192.0.2.25], MAIL FROM news@bench.example, so SPF, iprev, DKIM and
#	DMARC can all pass.
#
#	First the checks (check.txt): one message of each corpus file through
#	smtpscope full, whose message record must say dkim=pass (signed
#	files), dmarc=pass, spf=pass, iprev=pass and that the header was
#	added; and one through OpenDKIM with smtpscope-bench under strace,
#	whose Authentication-Results must say dkim=pass for each signed file.
#	An unsigned file that OpenDKIM's SMFIR_SKIP makes fail would be left
#	out of the corpus, for every milter alike (smtpscope-bench follows
#	SKIP to end-of-message, so none is today).
#
#	Then R times, for each corpus set in SETS ("all": every file round
#	robin; "alt-10k-signed": that file alone), each connection count in
#	CONNS (8, 2) and each milter in turn (interleaved: scope spf full null
#	dkim scope spf full ...), one run of
#
#	  smtpscope-bench -s unix:SOCK -c CONNS -n MSGS -w WARMUP -p PID -H HOLD -j \
#	      -m plain-2k-signed.eml -m alt-10k-signed.eml ... (the corpus files)
#
#	one message per milter connection (-k 1, like one SMTP session each),
#	the corpus files round robin. Before each run it waits until no other
#	smtp-source or smtpscope-bench process runs (up to 10 min), then until
#	the machine is at most IDLE_BUSY % busy over one second (up to
#	IDLE_MAX s), and resets the milter's peak RSS (/proc/PID/clear_refs).
#
#	Per run (runs.csv): messages/s; p50 and p99 of the per-message total
#	wait (every reply the message waited for, connect and HELO included)
#	and of end-of-message; the milter's CPU ms per message and peak RSS
#	(smtpscope-bench, over the measured messages); its RSS growth per
#	session held open mid-message (-H); the milter's user and system CPU
#	over the whole invocation (warm-up and hold included); the load
#	generator's CPU ms per message and the whole machine's; for smtpscope,
#	the message records written.
#
#	The summary, per set: median [min-max] over error-free runs per milter
#	and connection count, and each median over nullmilter's (x null); and
#	the smtpscope configurations side by side: CPU ms/msg, full/spine,
#	full/SPF+iprev, DKIM+DMARC increment (full - SPF+iprev, ms/msg), the
#	SPF+iprev increment, msgs/s and its ratios.
#
#	PROFILE=1: afterwards, PROFILE_MILTER (default full) alone on
#	PROFILE_SET (alt-10k-signed, or all) at CONNS' first value: one run
#	under "perf stat -e task-clock,context-switches,cpu-migrations,page-faults"
#	(plus instructions and cycles where the machine counts them) with the
#	user/system split from /proc/PID/stat, one under "perf record -e
#	cpu-clock" (a flat profile by object and symbol), and one short run
#	(PROFILE_MSGS, 2000) under "strace -c -f", all reported per message
#	in profile.txt. strace slows the milter; its run is only for counting
#	system calls.
#
# ENVIRONMENT
#	SMTPSCOPE_BIN   smtpscope (default: REPO/build/milter/smtpscope)
#	NULLMILTER_BIN  nullmilter (default: REPO/build/contrib/bench/nullmilter)
#	BENCH_BIN       smtpscope-bench (default: REPO/build/contrib/bench/smtpscope-bench)
#	MILTERS         which milters, in order (default "scope spf full null dkim")
#	SETS            corpus sets (default "all alt-10k-signed")
#	CONNS           connection counts (default "8 2")
#	MSGS, WARMUP, HOLD  smtpscope-bench -n, -w, -H (10000, 500, 200)
#	R               repetitions (3)
#	QUICK=1         MSGS=2000 R=1 unless set explicitly
#	OUT             results folder (default /tmp/smtpscope-bench-direct);
#	                each invocation writes OUT/YYYYmmdd-HHMMSS/ and points
#	                OUT/latest at it: summary.txt, runs.csv, check.txt,
#	                env.txt, MANIFEST, runs/ (each run's output), and
#	                profile.txt with PROFILE=1
#	IDLE_BUSY, IDLE_MAX  see above (15 %, 60 s)
#	CORPUS_FILES    corpus files (default: all six); with OpenDKIM, the
#	                unsigned ones are left out when the check finds that
#	                smtpscope-bench cannot follow OpenDKIM's SKIP (see the
#	                check below)
#	RUN_TIMEOUT     seconds before a smtpscope-bench run is killed (900)
#	KEEP=1          keep the scratch folder
#
# DIAGNOSTICS
#	Progress on stderr, the table on stdout (and in summary.txt). Exits 1
#	when a tool is missing, a milter does not start, the check fails, or a
#	run failed (smtpscope-bench exit status, failed messages, smtpscope
#	records missing). Everything it started is stopped by PID on exit.
#
# CAVEATS
#	smtpscope-bench runs on the same CPUs as the milter (2 here, no
#	pinning): messages/s is what the pair does together, and the load
#	generator's own CPU (client ms/msg) competes with the milter's. The
#	milter's CPU per message and its memory do not depend on that.
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$repo/t/integration/harness.sh"
. "$here/milters.sh"

if [ "${QUICK:-0}" = 1 ]; then
	MSGS=${MSGS:-2000} R=${R:-1}
fi
MSGS=${MSGS:-10000} WARMUP=${WARMUP:-500} HOLD=${HOLD:-200} R=${R:-3}
CONNS=${CONNS:-8 2}
MILTERS=${MILTERS:-scope spf full null dkim}
SMTPSCOPE_BIN=${SMTPSCOPE_BIN:-$repo/build/milter/smtpscope}
NULLMILTER_BIN=${NULLMILTER_BIN:-$repo/build/contrib/bench/nullmilter}
BENCH_BIN=${BENCH_BIN:-$repo/build/contrib/bench/smtpscope-bench}
OUT=${OUT:-/tmp/smtpscope-bench-direct}
IDLE_BUSY=${IDLE_BUSY:-15}
IDLE_MAX=${IDLE_MAX:-60}
PROFILE=${PROFILE:-0}
DELAY_MS=${DELAY_MS:-0}
PROFILE_MSGS=${PROFILE_MSGS:-2000}
FILES=${CORPUS_FILES:-plain-2k plain-2k-signed alt-10k alt-10k-signed attach-100k attach-100k-signed}
RUN_TIMEOUT=${RUN_TIMEOUT:-900}
HZ=$(getconf CLK_TCK)
NCPU=$(nproc)

declare -A M_NAME=([scope]="smtpscope spine" [spf]="smtpscope SPF+iprev" [full]="smtpscope full"
	[null]="null libmilter" [dkim]="OpenDKIM verify" [nocache]="smtpscope full, no cache")
# the smtpscope instances, their configuration files and extra keys
declare -A SCOPE_CONF=([scope]=smtpscope-spine.conf [spf]=smtpscope-spf.conf [full]=smtpscope-full.conf
	[nocache]=smtpscope-full.conf)
declare -A SCOPE_EXTRA=([nocache]="DNSCache no")
SETS=${SETS:-all alt-10k-signed}
PROFILE_MILTER=${PROFILE_MILTER:-full}
case " $SETS " in *" alt-10k-signed "*) PROFILE_SET=${PROFILE_SET:-alt-10k-signed} ;; *) PROFILE_SET=${PROFILE_SET:-all} ;; esac

. "$here/common.sh"

# --- checks -----------------------------------------------------------------
[ "$(id -u)" -eq 0 ] || die "run as root (network namespace, milters as other users)"
"$here/install-bench-deps.sh" >&2 || die "install-bench-deps.sh failed"
for tool in jq opendkim unbound unbound-checkconf ip ss perl openssl pgrep setpriv; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed"
done
for b in SMTPSCOPE_BIN NULLMILTER_BIN BENCH_BIN; do
	[ -x "${!b}" ] || die "no executable at ${!b} (set $b)"
done
case $DELAY_MS in '' | *[!0-9]*) die "DELAY_MS must be a number" ;; esac
for v in MSGS HOLD R PROFILE_MSGS; do
	case ${!v} in '' | *[!0-9]*) die "$v must be a positive integer" ;; esac
	[ "${!v}" -gt 0 ] || die "$v must be a positive integer"
done
case $WARMUP in '' | *[!0-9]*) die "WARMUP must be a number" ;; esac
for c in $CONNS; do
	case $c in '' | *[!0-9]* | 0) die "CONNS must be positive integers" ;; esac
done
for m in $MILTERS; do [ -n "${M_NAME[$m]:-}" ] || die "unknown milter '$m' (scope spf full null dkim nocache)"; done
for set in $SETS; do
	[ "$set" = all ] && continue
	case " $FILES " in *" $set "*) ;; *) die "set '$set' is not one of the corpus files ($FILES)" ;; esac
done
if [ "$PROFILE" = 1 ]; then
	command -v perf >/dev/null || die "PROFILE=1 needs perf (linux-perf)"
	command -v strace >/dev/null || die "PROFILE=1 needs strace"
fi

# --- set-up -----------------------------------------------------------------
bench_start bench-direct

say "MSGS=$MSGS WARMUP=$WARMUP HOLD=$HOLD R=$R CONNS='$CONNS' milters: $MILTERS"
say "results: $RES; scratch: $T"
"$here/corpus.sh" "$T/corpus" >/dev/null || die "corpus.sh failed"
cp "$T/corpus/MANIFEST" "$RES/MANIFEST"
for f in $FILES; do [ -f "$T/corpus/$f.eml" ] || die "no corpus file $f (CORPUS_FILES)"; done

bm_dns_start "$T/dns" "$T/corpus" || die "unbound did not start"
if [ "$DELAY_MS" -gt 0 ]; then
	bm_delay_start "$T/dnsdelay" "$DELAY_MS" || die "dnsdelay.py did not start"
	say "smtpscope's resolver: $BM_SLOW_ADDR, $DELAY_MS ms before unbound"
fi

declare -A PID SOCK SCOPE_LOG
# start_smtpscope M - smtpscope with SCOPE_CONF[M] plus this run's keys, as
# nobody in the namespace
start_smtpscope() {
	local m=$1 dir=$T/$1 tmpl
	mkdir -p "$dir" && chown nobody "$dir" && chmod 755 "$dir" || return 1
	SOCK[$m]=$dir/smtpscope.sock
	SCOPE_LOG[$m]=$dir/records.jsonl
	tmpl=$here/${SCOPE_CONF[$m]}
	if [ "$DELAY_MS" -gt 0 ]; then
		sed "s/^Nameservers.*/Nameservers	$BM_SLOW_ADDR/" "$tmpl" >"$dir/template.conf" || return 1
		tmpl=$dir/template.conf
	fi
	set --
	[ -n "${SCOPE_EXTRA[$m]:-}" ] && set -- "${SCOPE_EXTRA[$m]}"
	scope_conf "$dir" "$tmpl" bench-direct.sh "$@" || return 1
	ip netns exec "$BM_NS" "$SMTPSCOPE_BIN" -c "$dir/smtpscope.conf" -f \
		>>"$dir/out" 2>>"$dir/stderr" &
	PID[$m]=$!
	harness_track_pid "${PID[$m]}"
	bm_wait_sock "${SOCK[$m]}" "${PID[$m]}" && return 0
	cat "$dir/stderr" >&2
	return 1
}
start_scope() { start_smtpscope scope; }
start_spf() { start_smtpscope spf; }
start_full() { start_smtpscope full; }
start_nocache() { start_smtpscope nocache; }
# is_scope M - M is a smtpscope instance
is_scope() { [ -n "${SCOPE_CONF[$1]:-}" ]; }
# has_m M - M is among MILTERS
has_m() { case " $MILTERS " in *" $1 "*) return 0 ;; esac; return 1; }
# start_null - nullmilter (smtpscope's negotiation) as nobody in the namespace
start_null() {
	local dir=$T/null
	mkdir -p "$dir" && chown nobody "$dir" && chmod 755 "$dir" || return 1
	SOCK[null]=$dir/null.sock
	ip netns exec "$BM_NS" setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$NULLMILTER_BIN" -p "unix:${SOCK[null]}" >"$dir/out" 2>"$dir/stderr" &
	PID[null]=$!
	harness_track_pid "${PID[null]}"
	bm_wait_sock "${SOCK[null]}" "${PID[null]}" && return 0
	cat "$dir/stderr" >&2
	return 1
}
start_dkim() {
	bm_opendkim_start "$T/opendkim" || return 1
	PID[dkim]=$BM_DKIM_PID SOCK[dkim]=$BM_DKIM_SOCK
}
for m in $MILTERS; do "start_$m" || die "${M_NAME[$m]} did not start"; done
say "milters up: $(for m in $MILTERS; do printf '%s %s, ' "$m" "${PID[$m]}"; done)unbound $BM_DNS_PID"

# --- helpers ----------------------------------------------------------------
# (proc_ut_st, bench, ratio: common.sh)
# scope_lines M - lines in smtpscope instance M's record log so far
scope_lines() { wc -l <"${SCOPE_LOG[$1]}" 2>/dev/null || echo 0; }
# scope_messages M FROM - message records after line FROM of M's record log
scope_messages() { tail -n +$(($2 + 1)) "${SCOPE_LOG[$1]}" | jq -c 'select(.event == "message") | 1' | wc -l; }

# --- check: OpenDKIM verifies the signed messages ---------------------------
# smtpscope-bench discards header edits; strace shows the Authentication-
# Results field OpenDKIM sends back in its SMFIR_INSHEADER/ADDHEADER reply.
#
# OpenDKIM answers the first body chunk of an unsigned message with
# SMFIR_SKIP (it negotiates SMFIP_SKIP: nothing to hash). Postfix then
# skips to end-of-message, and so does smtpscope-bench; should a file
# still fail here that way, it is left out of the corpus, for every milter
# alike, and the header says so.
# --- check: smtpscope full verifies them too -------------------------------
# One message of each corpus file through "smtpscope full"; its message
# record (.auth) must say dkim=pass for each signed file, dmarc=pass for
# every file, spf=pass and iprev=pass (smtpscope-bench's client is the
# corpus's sender, mail-out2.bench.example [192.0.2.25]), and the
# Authentication-Results header must have been added.
: >"$RES/check.txt"
if [ -n "${PID[full]:-}" ]; then
	say "check: one message of each corpus file through smtpscope full (its records)"
	check_ok=1
	for f in $FILES; do
		r0=$(scope_lines full)
		timeout 10 "$BENCH_BIN" -s "unix:${SOCK[full]}" -c 1 -n 1 -w 0 \
			-m "$T/corpus/$f.eml" >"$T/check.out" 2>&1
		rc=$?
		got=
		for _ in $(seq 20); do
			got=$(tail -n +$((r0 + 1)) "${SCOPE_LOG[full]}" | jq -r 'select(.event == "message") |
				"dkim=\(.auth.dkim[0].result // "none") dmarc=\(.auth.dmarc.result // "none")" +
				" spf=\(.auth.spf.mailfrom.result // "none") iprev=\(.auth.iprev.result // "none")" +
				" header_added=\(.authentication_results.added // false)"' 2>/dev/null | tail -1)
			[ -n "$got" ] && break
			sleep 0.1
		done
		want="dkim=none dmarc=pass spf=pass iprev=pass header_added=true"
		case $f in *-signed) want="dkim=pass dmarc=pass spf=pass iprev=pass header_added=true" ;; esac
		note=ok
		[ "$rc" = 0 ] || note="smtpscope-bench exit $rc: $(grep -m1 -E 'failed|cannot' "$T/check.out")"
		[ "$got" = "$want" ] || note="$note; want $want"
		[ "$note" = ok ] || check_ok=
		printf 'smtpscope full, %s: %s, %s\n' "$f" "${got:-no message record}" "$note" >>"$RES/check.txt"
		say "  $f: ${got:-no message record}, $note"
	done
	[ -n "$check_ok" ] || die "smtpscope check failed; see $RES/check.txt"
fi

SKIPPED=
if [ -n "${PID[dkim]:-}" ]; then
	command -v strace >/dev/null || die "the OpenDKIM check needs strace"
	say "check: one message of each corpus file through OpenDKIM (strace on smtpscope-bench)"
	check_ok=1 keep=
	for f in $FILES; do
		strace -f -qq -e trace=read,recvfrom -s 4096 -o "$T/check.strace" \
			timeout 5 "$BENCH_BIN" -s "unix:${SOCK[dkim]}" -c 1 -n 1 -w 0 \
			-m "$T/corpus/$f.eml" >"$T/check.out" 2>&1
		rc=$?
		ar=$(grep -o 'Authentication-Results\\0[^"]*' "$T/check.strace" | sed 's/\\0/: /; s/\\[0-9]*$//' | head -3)
		dkim=$(echo "$ar" | grep -o 'dkim=[a-z]*' | head -1)
		if [ "$rc" != 0 ] && grep -q -E 'read\([0-9]+, "s", 1\)' "$T/check.strace"; then
			case $f in
			*-signed) note="SMFIR_SKIP on a signed message" check_ok= ;;
			*) note="left out: OpenDKIM answers SMFIR_SKIP to its body, which smtpscope-bench cannot follow"
			   SKIPPED="$SKIPPED${SKIPPED:+ }$f" ;;
			esac
		elif [ "$rc" != 0 ]; then
			note="smtpscope-bench exit $rc: $(grep -m1 -E 'failed|cannot' "$T/check.out")"
			check_ok=
		else
			note=ok
			keep="$keep${keep:+ }$f"
			case $f in *-signed) [ "$dkim" = dkim=pass ] || check_ok= ;; esac
		fi
		printf '%s: %s, %s\n%s\n' "$f" "${dkim:-no dkim result}" "$note" \
			"$(echo "${ar:-(no Authentication-Results)}" | sed 's/^/  /')" >>"$RES/check.txt"
		say "  $f: ${dkim:-no dkim result}, $note"
	done
	[ -n "$check_ok" ] && [ -n "$keep" ] || die "OpenDKIM check failed; see $RES/check.txt"
	FILES=$keep
fi
# set_args SET - CORPUS_ARGS for a corpus set: "all" is every file, else one file
set_args() {
	local f
	CORPUS_ARGS=()
	if [ "$1" = all ]; then
		for f in $FILES; do CORPUS_ARGS+=(-m "$T/corpus/$f.eml"); done
	else
		CORPUS_ARGS=(-m "$T/corpus/$1.eml")
	fi
}

# --- the runs ---------------------------------------------------------------
{
	echo "# $(date -u +%FT%TZ) $(uname -sr), $NCPU CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
	echo "# smtpscope-bench (milter protocol v6, no MTA) runs on the same $NCPU CPUs as the milter, unpinned:"
	echo "#   msgs/s is what load generator and milter do together; client ms/msg is the generator's share"
	echo "# MSGS=$MSGS WARMUP=$WARMUP HOLD=$HOLD R=$R CONNS='$CONNS' SETS='$SETS', one message per connection,"
	echo "#   corpus files round robin (set all) or one file alone"
	echo "# $("$SMTPSCOPE_BIN" -V 2>&1 | head -1): spine (no checks), SPF+iprev (and the A-R header),"
	echo "#   full (SPF, iprev, DKIM, DMARC, A-R header; smtpscope-full.conf); $(opendkim -V 2>&1 | head -1);" \
		"libmilter $(dpkg-query -W -f '${Version}' libmilter1.0.1 2>/dev/null || echo '?')"
	echo "# corpus (every milter): $(for f in $FILES; do awk -v f="$f.eml" '$1 == f { printf "%s %d B, ", $1, $2 }' "$RES/MANIFEST"; done | sed 's/, $//')"
	[ -n "$SKIPPED" ] && echo "# left out: $SKIPPED (OpenDKIM SKIPs unsigned bodies; smtpscope-bench counts SKIP as a failure)"
} >"$RES/env.txt"
echo "milter,conns,rep,messages,failed,seconds,msgs_per_s,total_p50,total_p99,eom_p50,eom_p99,cpu_ms,peak_rss_kib,kib_per_session,user_pct,client_ms,machine_ms,util_pct,records,errors,waited_s,busy_before_pct,load1,set" >"$RES/runs.csv"

# run MILTER CONNS REP SET - one smtpscope-bench run; appends to runs.csv
run() {
	local m=$1 c=$2 rep=$3 set=$4 waited busy out j ct rc errs=0 rec='-' r0=0
	local ut0 st0 ut1 st1 b0 tot0 b1 tot1
	out=$RES/runs/$m-$set-c$c-r$rep.txt
	set_args "$set"
	read -r waited busy < <(wait_quiet)
	echo 5 >"/proc/${PID[$m]}/clear_refs" 2>/dev/null ||
		say "cannot reset the peak RSS of ${PID[$m]}; peak RSS is since start"
	is_scope "$m" && r0=$(scope_lines "$m")
	read -r ut0 st0 < <(proc_ut_st "${PID[$m]}")
	read -r b0 tot0 < <(machine_ticks)
	read -r ct rc < <(bench "$out" -s "unix:${SOCK[$m]}" -c "$c" -n "$MSGS" -w "$WARMUP" \
		-p "${PID[$m]}" -H "$HOLD" -j "${CORPUS_ARGS[@]}")
	read -r b1 tot1 < <(machine_ticks)
	read -r ut1 st1 < <(proc_ut_st "${PID[$m]}")
	[ "$rc" = 0 ] || { errs=$((errs + 1)); say "smtpscope-bench exit $rc: $(head -c 300 "$out.err")"; }
	kill -0 "${PID[$m]}" 2>/dev/null || { errs=$((errs + 1)); say "${M_NAME[$m]} is gone"; }
	if is_scope "$m"; then
		# every warm-up and measured message has its record (held sessions
		# are aborted mid-message and may add their own)
		for _ in $(seq 50); do
			rec=$(scope_messages "$m" "$r0")
			[ "$rec" -ge $((MSGS + WARMUP)) ] && break
			sleep 0.1
		done
		[ "$rec" -ge $((MSGS + WARMUP)) ] ||
			{ errs=$((errs + 1)); say "smtpscope wrote $rec message records, want at least $((MSGS + WARMUP))"; }
	fi
	j=$(grep '^{' "$out" | tail -1)
	[ -n "$j" ] || { j='{}'; errs=$((errs + 1)); say "no JSON from smtpscope-bench: $(head -c 300 "$out.err")"; }
	echo "$j" | jq -r --arg m "$m" --argjson c "$c" --argjson rep "$rep" --argjson errs "$errs" \
		--arg rec "$rec" --argjson ct "$ct" --argjson hz "$HZ" --argjson n "$MSGS" \
		--argjson ut $((ut1 - ut0)) --argjson st $((st1 - st0)) \
		--argjson mach $((b1 - b0)) --argjson tot $((tot1 - tot0)) \
		--argjson w "$waited" --argjson busy "$busy" --arg load "$(cut -d' ' -f1 /proc/loadavg)" \
		--arg set "$set" '
		def r(d): if . == null then "nan" else (. * pow(10; d) | round / pow(10; d) | tostring) end;
		[$m, $c, $rep, (.messages // 0), (.failed // 0), (.seconds | r(3)), (.msgs_per_s | r(1)),
		 (.latency_ms.message.p50 | r(4)), (.latency_ms.message.p99 | r(4)),
		 (.latency_ms.eom.p50 | r(4)), (.latency_ms.eom.p99 | r(4)),
		 (.cpu_ms_per_msg | r(4)), (.peak_rss_kib // "nan"), (.kib_per_session | r(1)),
		 (if $ut + $st > 0 then 100 * $ut / ($ut + $st) else null end | r(0)),
		 ($ct * 1000 / $hz / $n | r(4)), ($mach * 1000 / $hz / $n | r(4)),
		 (if $tot > 0 then 100 * $mach / $tot else null end | r(0)),
		 $rec, ($errs + (if (.failed // 1) > 0 then 1 else 0 end)), $w, $busy, $load, $set] | @csv' |
		tr -d '"' >>"$RES/runs.csv"
	say "  rep $rep $set ${M_NAME[$m]} -c $c: $(tail -1 "$RES/runs.csv" | awk -F, '{
		printf "%s msg/s, total p50/p99 %s/%s ms, eom %s/%s ms, milter %s ms/msg (%s%% user), RSS %s KiB, %s KiB/session, client %s ms/msg, errors %s",
		$7, $8, $9, $10, $11, $12, $15, $13, $14, $16, $20 }')"
	[ "$(tail -1 "$RES/runs.csv" | cut -d, -f20)" = 0 ]
}

failed=0
for rep in $(seq "$R"); do
	for set in $SETS; do
		for c in $CONNS; do
			for m in $MILTERS; do
				run "$m" "$c" "$rep" "$set" || failed=$((failed + 1))
			done
		done
	done
done

# --- summary ----------------------------------------------------------------
# stats MILTER CONNS COLUMN - "median min max" over error-free runs of set $SET_NOW
SET_NOW=all
stats() {
	awk -F, -v m="$1" -v c="$2" -v col="$3" -v s="$SET_NOW" \
		'NR > 1 && $1 == m && $2 == c && $20 == 0 && $24 == s { print $col }' \
		"$RES/runs.csv" | median_minmax
}
# sub3 A B - A-B to three places, or "-"
sub3() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == a + 0 && b == b + 0 && a != "" && b != "") printf "%.3f", a - b; else print "-" }'; }

# dkim_block - per set and connection count: what DKIM+DMARC add to smtpscope
dkim_block() {
	local c sp sf fu
	echo "smtpscope checks, set $SET_NOW: milter CPU ms/msg (median) and ratios, from the same interleaved runs"
	printf '  %-5s %-8s %-9s %-8s %-11s %-11s %-13s %-14s %-12s %s\n' conns spine "SPF+iprev" full \
		"full/spine" "full/SPF" "DKIM+DMARC ms" "SPF+iprev ms" "msgs/s full" "msgs/s full/spine, full/SPF"
	for c in $CONNS; do
		sp=$(med scope "$c" 12) sf=$(med spf "$c" 12) fu=$(med full "$c" 12)
		printf '  %-5s %-8s %-9s %-8s %-11s %-11s %-13s %-14s %-12s %s, %s\n' "$c" \
			"$(medf %.3f scope "$c" 12)" "$(medf %.3f spf "$c" 12)" "$(medf %.3f full "$c" 12)" \
			"$(ratio "$fu" "$sp")" "$(ratio "$fu" "$sf")" "$(sub3 "$fu" "$sf")" "$(sub3 "$sf" "$sp")" \
			"$(medf %.0f full "$c" 7)" "$(ratio "$(med full "$c" 7)" "$(med scope "$c" 7)")" \
			"$(ratio "$(med full "$c" 7)" "$(med spf "$c" 7)")"
	done
}
med() { stats "$@" | cut -d' ' -f1; }
# medf FORMAT MILTER CONNS COLUMN - the median, printf-formatted
medf() { stats "$2" "$3" "$4" | awk -v f="$1" '{ if ($1 == "nan") print "-"; else printf f "\n", $1 }'; }

summary() {
	local c m rate cpu
	cat "$RES/env.txt"
	echo "# values: median over error-free runs ([min-max] for msgs/s and CPU); latency in ms: per-message total"
	echo "# wait (every reply waited for, connect+HELO included) and end-of-message; x null: over nullmilter's median"
	echo
	for SET_NOW in $SETS; do
	echo "set $SET_NOW: $([ "$SET_NOW" = all ] && echo "$FILES, round robin" || echo "$SET_NOW alone")"
	printf '%-19s %-5s %-22s %-6s %-8s %-8s %-8s %-8s %-22s %-6s %-6s %-13s %-8s %-7s %s\n' \
		milter conns "msgs/s" "x null" "tot p50" "tot p99" "eom p50" "eom p99" \
		"milter CPU ms/msg" "x null" "user%" "peak RSS KiB" "KiB/sess" "client" "tot p99 x null"
	for c in $CONNS; do
		for m in $MILTERS; do
			rate=$(stats "$m" "$c" 7 | awk '{ printf "%.0f [%.0f-%.0f]", $1, $2, $3 }')
			cpu=$(stats "$m" "$c" 12 | awk '{ printf "%.3f [%.3f-%.3f]", $1, $2, $3 }')
			printf '%-19s %-5s %-22s %-6s %-8s %-8s %-8s %-8s %-22s %-6s %-6s %-13s %-8s %-7s %s\n' \
				"${M_NAME[$m]}" "$c" "$rate" "$(ratio "$(med "$m" "$c" 7)" "$(med null "$c" 7)")" \
				"$(medf %.3f "$m" "$c" 8)" "$(medf %.3f "$m" "$c" 9)" "$(medf %.3f "$m" "$c" 10)" \
				"$(medf %.3f "$m" "$c" 11)" "$cpu" "$(ratio "$(med "$m" "$c" 12)" "$(med null "$c" 12)")" \
				"$(medf %.0f "$m" "$c" 15)" "$(stats "$m" "$c" 13 | awk '{ printf "%d-%d", $2, $3 }')" \
				"$(medf %.1f "$m" "$c" 14)" \
				"$(medf %.2f "$m" "$c" 16)" \
				"$(ratio "$(med "$m" "$c" 9)" "$(med null "$c" 9)")"
		done
	done
	echo
	if has_m scope && has_m spf && has_m full; then dkim_block; echo; fi
	done
	SET_NOW=all
	echo "columns: peak RSS: min-max over the runs of VmHWM during the measured messages (reset before each run; the"
	echo "first run has the low end, later ones start from what the milter kept after earlier runs' held sessions);"
	echo "KiB/sess: RSS growth per session held open mid-message ($HOLD held; Debian's libmilter runs sessions on a"
	echo "small worker pool, not a thread each); user%: the milter's user share of its CPU (whole invocation);"
	echo "client: smtpscope-bench's CPU ms per message (same CPUs); tot p99 x null: total-wait p99 over nullmilter's"
	awk -F, 'NR > 1 && $20 != 0 { n++ } END { printf "runs with errors (left out): %d\n", n }' "$RES/runs.csv"
	awk -F, 'NR > 1 && $19 != "-" { printf "%s%s %s -c%s rep %s: %s", (n++ ? "; " : "smtpscope message records per run (want >= MSGS+WARMUP): "), $1, $24, $2, $3, $19 }
		END { if (n) print "" }' "$RES/runs.csv"
	if [ -s "$RES/check.txt" ]; then
		echo "checks (smtpscope full: its message records; OpenDKIM: the Authentication-Results it sent back):"
		sed 's/^/  /' "$RES/check.txt"
	fi
}
summary >"$RES/summary.txt"

# --- profile (PROFILE=1) ----------------------------------------------------
pm=$PROFILE_MILTER
if [ "$PROFILE" = 1 ] && [ -n "${PID[$pm]:-}" ]; then
	c=${CONNS%% *}
	p=${PID[$pm]}
	pset=$PROFILE_SET
	set_args "$pset"
	say "profile: ${M_NAME[$pm]} (pid $p), set $pset, at -c $c under perf stat, then $PROFILE_MSGS messages under strace -c"
	read -r _ _ < <(wait_quiet)
	events=task-clock,context-switches,cpu-migrations,page-faults
	perf stat -e instructions,cycles -- true 2>&1 | grep -q 'not supported' ||
		events=$events,instructions,cycles
	perf stat -e "$events" -p "$p" -o "$T/perf.txt" &
	perf_pid=$!
	harness_track_pid "$perf_pid"
	sleep 0.3
	read -r ut0 st0 < <(proc_ut_st "$p")
	read -r ct rc < <(bench "$T/perf-bench.txt" -s "unix:${SOCK[$pm]}" -c "$c" -n "$MSGS" -w 0 -p "$p" "${CORPUS_ARGS[@]}")
	read -r ut1 st1 < <(proc_ut_st "$p")
	kill -INT "$perf_pid"
	wait "$perf_pid" 2>/dev/null
	# where the time goes: a flat sampled profile (cpu-clock, user and kernel)
	read -r _ _ < <(wait_quiet)
	perf record -q -e cpu-clock -F 1999 -p "$p" -o "$T/perf.data" >/dev/null 2>&1 &
	perf_pid=$!
	harness_track_pid "$perf_pid"
	sleep 0.3
	read -r _ prc < <(bench "$T/record-bench.txt" -s "unix:${SOCK[$pm]}" -c "$c" -n "$MSGS" -w 0 "${CORPUS_ARGS[@]}")
	kill -INT "$perf_pid"
	wait "$perf_pid" 2>/dev/null
	read -r _ _ < <(wait_quiet)
	strace -qq -c -f -p "$p" -o "$T/strace.txt" &
	strace_pid=$!
	harness_track_pid "$strace_pid"
	sleep 0.5
	read -r _ src < <(bench "$T/strace-bench.txt" -s "unix:${SOCK[$pm]}" -c "$c" -n "$PROFILE_MSGS" -w 0 "${CORPUS_ARGS[@]}")
	kill -INT "$strace_pid"
	wait "$strace_pid" 2>/dev/null
	{
		echo "# profile: ${M_NAME[$pm]} under smtpscope-bench -c $c, set $pset, no warm-up (a warm milter)"
		echo "## perf stat -e $events -p $p, $MSGS messages (bench exit $rc):"
		grep -E 'msgs|throughput|message |eom|milter:' "$T/perf-bench.txt" | sed 's/^/  /'
		sed -n '/Performance counter/,$p' "$T/perf.txt" | grep -v '^$' | sed 's/^/  /'
		awk -v n="$MSGS" '/task-clock|context-switches|cpu-migrations|instructions|cycles/ {
			gsub(",", "", $1); name = ($2 == "msec") ? "task-clock ms" : $2
			if ($1 ~ /^[0-9.]+$/) printf "  per message: %s %.3f\n", name, $1 / n }' "$T/perf.txt"
		awk -v ut=$((ut1 - ut0)) -v st=$((st1 - st0)) -v hz="$HZ" -v n="$MSGS" 'BEGIN {
			printf "## /proc/%s/stat over the same run: user %.3f ms/msg, system %.3f ms/msg (%.0f%% user)\n",
				"'"$p"'", ut * 1000 / hz / n, st * 1000 / hz / n, (ut + st) ? 100 * ut / (ut + st) : 0 }'
		echo "## perf record -e cpu-clock -F 1999 -p $p, $MSGS messages (bench exit $prc): share of samples"
		echo "  by object:"
		perf report -i "$T/perf.data" --stdio --sort dso 2>/dev/null | grep -E '^ +[0-9.]+%' | head -8 | sed 's/^/  /'
		echo "  top symbols:"
		perf report -i "$T/perf.data" --stdio --sort dso,sym 2>/dev/null | grep -E '^ +[0-9.]+%' | head -25 | sed 's/^/  /'
		echo "## strace -c -f -p $p, $PROFILE_MSGS messages (slowed by strace; bench exit $src):"
		grep -E 'throughput' "$T/strace-bench.txt" | sed 's/^/  /'
		# "% time seconds usecs/call calls [errors] syscall": calls is field 4
		awk -v n="$PROFILE_MSGS" '
			/^-+/ { dash++; next }
			dash >= 1 && NF >= 5 && $1 ~ /^[0-9.]+$/ {
				printf "  %-16s %8d calls  %7.2f per message  %6s %% of time in syscalls\n", $NF, $4, $4 / n, $1 }
		' "$T/strace.txt"
	} >"$RES/profile.txt"
fi

awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN { printf "wall time: %.0f s\n", b - a }' >>"$RES/summary.txt"
cat "$RES/summary.txt"
[ -s "$RES/profile.txt" ] && { echo; cat "$RES/profile.txt"; }
say "results in $RES (runs.csv, summary.txt, runs/)"
[ "$failed" -eq 0 ]
