#!/bin/bash
# bench-e2e.sh - what smtpscope costs a real Postfix, beside OpenDKIM + OpenDMARC
#
# SYNOPSIS
#	contrib/bench/bench-e2e.sh              # as root; full run, ~5 min when quiet
#	QUICK=1 contrib/bench/bench-e2e.sh      # smoke test: N=10 M=300 R=3
#	SMTPSCOPE_BIN=/tmp/b/milter/smtpscope \
#	    NULLMILTER_BIN=/tmp/b/contrib/bench/nullmilter N=20 M=2000 R=5 \
#	    OUT=/tmp/smtpscope-bench-results contrib/bench/bench-e2e.sh
#
# DESCRIPTION
#	Builds nothing. Starts a throwaway Postfix on loopback with a discard
#	transport (t/integration/harness.sh), a network namespace with unbound
#	serving bench.example, Debian's OpenDKIM and OpenDMARC, two smtpscope
#	instances and two nullmilter instances (milters.sh; all milters in the
#	namespace, on UNIX sockets). Then, R times, for each configuration in
#	turn (a b c d e f a b c d e f ...; interleaved so that drift hits all
#	alike):
#
#	  a  no milter
#	  b  smtpscope "full": smtpscope-full.conf (every check on: SPF,
#	     iprev, DKIM, DMARC, the Authentication-Results header)
#	  c  smtpscope spine only: smtpscope-spine.conf
#	  d  OpenDKIM (verify) + OpenDMARC (SPFSelfValidate)
#	  e  null libmilter with smtpscope's negotiation (nullmilter): what
#	     any libmilter milter that asks for what smtpscope asks costs
#	  f  null libmilter asking for every callback (nullmilter -a)
#	  g  smtpscope full with DNSCache no: every lookup asked
#	  h  smtpscope full, its resolver DELAY_MS away (dnsdelay.py in front
#	     of unbound), with the DNS cache
#	  i  as h, with DNSCache no
#	  (h and i show what the cache saves with a remote resolver; the
#	  other configurations keep the local unbound)
#
#	it points smtpd_milters at the configuration, reloads Postfix, sends 2N
#	untimed warm-up messages, waits until no other smtp-source or
#	smtpscope-bench process runs (up to 10 min), and times one run: the
#	corpus (corpus.sh: 2, 10 and 100 KB, each unsigned and DKIM-signed) is
#	sent as six back-to-back smtp-source sub-runs, one per file, M/6
#	messages each, N sessions, one message per connection. A run lasts from
#	the first connect until the maillog shows all M messages status=sent
#	(counted in the maillog written since the run started).
#
#	Missing packages (OpenDKIM, OpenDMARC, Mail::DKIM, unbound, ...) are
#	installed first by install-bench-deps.sh, which leaves no service
#	running.
#
#	Per run: messages/s; whole-machine CPU ms per message and utilisation
#	(/proc/stat); CPU ms per message (utime+stime) of Postfix (every
#	process of the instance, plus what the master reaped), each milter,
#	unbound and smtp-source; for smtpscope, that its record log got exactly
#	M message records and M session records (jq).
#
#	The summary gives medians [min-max] over the error-free runs and their
#	ratios; smtpscope full's milter CPU beside the do-nothing milter's also
#	repetition by repetition (b over e of the same repetition), whose
#	spread shows how far one run's ratio can be trusted.
#
#	Before the runs, one message of each corpus file goes through (d) with
#	milter_header_checks WARN, so the maillog shows the Authentication-
#	Results headers: the run stops unless every signed file gets dkim=pass
#	and every file dmarc=pass.
#
# ENVIRONMENT
#	SMTPSCOPE_BIN  smtpscope binary (default: REPO/build/milter/smtpscope)
#	NULLMILTER_BIN nullmilter (default: REPO/build/contrib/bench/nullmilter)
#	BENCH_BIN      smtpscope-bench (default: REPO/build/contrib/bench/
#	               smtpscope-bench); not used here, by bench-direct.sh
#	N, M, R        sessions (20), messages per run (2000), repetitions (5)
#	QUICK=1        N=10 M=300 R=3 unless set explicitly
#	CONFIGS        configurations to run, in order (default
#	               "a b c d e f g h i")
#	DELAY_MS       latency dnsdelay.py adds to each query of h and i (20)
#	OUT            results folder (default /tmp/smtpscope-bench-results);
#	               each invocation writes OUT/YYYYmmdd-HHMMSS/ and points
#	               OUT/latest at it: summary.txt, runs.csv, subruns.csv,
#	               check.txt, env.txt, MANIFEST
#	IDLE_BUSY, IDLE_MAX  before each run, after other benchmarks are gone,
#	               wait up to IDLE_MAX s (60) until the machine is at most
#	               IDLE_BUSY % (15) busy over one second
#	KEEP=1         keep the scratch folder (Postfix, milters, records)
#
# DIAGNOSTICS
#	Progress on stderr, the table on stdout (and in summary.txt). Exits 1
#	when a tool is missing, a daemon does not start, the check fails, or
#	any run failed (messages not all delivered in time, smtp-source errors,
#	a wrong record count); exits 0 otherwise. Everything it started is
#	stopped by PID on exit, also on failure or Ctrl-C.
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$repo/t/integration/harness.sh"
. "$here/milters.sh"

if [ "${QUICK:-0}" = 1 ]; then
	N=${N:-10} M=${M:-300} R=${R:-3}
fi
N=${N:-20} M=${M:-2000} R=${R:-5}
CONFIGS=${CONFIGS:-a b c d e f g h i}
DELAY_MS=${DELAY_MS:-20}
SMTPSCOPE_BIN=${SMTPSCOPE_BIN:-$repo/build/milter/smtpscope}
NULLMILTER_BIN=${NULLMILTER_BIN:-$repo/build/contrib/bench/nullmilter}
BENCH_BIN=${BENCH_BIN:-$repo/build/contrib/bench/smtpscope-bench}
OUT=${OUT:-/tmp/smtpscope-bench-results}
IDLE_BUSY=${IDLE_BUSY:-15}
IDLE_MAX=${IDLE_MAX:-60}
SMTP_SOURCE=/usr/sbin/smtp-source
SENDER=news@bench.example
RCPT=bob@smtpscope.test
HELO=mail-out2.bench.example
FILES=${CORPUS_FILES:-plain-2k plain-2k-signed alt-10k alt-10k-signed attach-100k attach-100k-signed}
HZ=$(getconf CLK_TCK)
NCPU=$(nproc)

declare -A CFG_NAME=([a]="no milter" [b]="smtpscope full" [c]="smtpscope spine"
	[d]="OpenDKIM+OpenDMARC" [e]="null, scope's negotiation" [f]="null, every callback"
	[g]="smtpscope full, no cache" [h]="full, ${DELAY_MS} ms resolver"
	[i]="full, ${DELAY_MS} ms, no cache")
# the smtpscope instance of a configuration
declare -A CFG_SCOPE=([b]=full [c]=spine [g]=nocache [h]=slow [i]=slow_nocache)
SCOPES="full spine nocache slow slow_nocache"

. "$here/common.sh"

# --- checks -----------------------------------------------------------------
[ "$(id -u)" -eq 0 ] || die "run as root (throwaway Postfix, network namespace)"
"$here/install-bench-deps.sh" >&2 || die "install-bench-deps.sh failed"
for tool in postfix postconf "$SMTP_SOURCE" jq opendkim opendmarc unbound \
	unbound-checkconf ip ss perl openssl pgrep setpriv python3; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed"
done
[ -x "$SMTPSCOPE_BIN" ] || die "no smtpscope binary at $SMTPSCOPE_BIN (set SMTPSCOPE_BIN)"
case " $CONFIGS " in *" e "* | *" f "*)
	[ -x "$NULLMILTER_BIN" ] || die "no nullmilter at $NULLMILTER_BIN (set NULLMILTER_BIN)" ;;
esac
for v in N M R DELAY_MS; do
	case ${!v} in '' | *[!0-9]*) die "$v must be a positive integer" ;; esac
	[ "${!v}" -gt 0 ] || [ "$v" = DELAY_MS ] || die "$v must be a positive integer"
done
[ "$M" -ge 6 ] || die "M must be at least 6 (one message per corpus file)"
for c in $CONFIGS; do [ -n "${CFG_NAME[$c]:-}" ] || die "unknown configuration '$c'"; done

# --- set-up -----------------------------------------------------------------
bench_start bench-e2e

say "N=$N sessions, M=$M messages per run, R=$R repetitions, configurations: $CONFIGS"
say "smtpscope: $SMTPSCOPE_BIN; results: $RES; scratch: $T"
"$here/corpus.sh" "$T/corpus" >/dev/null || die "corpus.sh failed"
cp "$T/corpus/MANIFEST" "$RES/MANIFEST"

bm_dns_start "$T/dns" "$T/corpus" || die "unbound did not start"
bm_opendkim_start "$T/opendkim" || die "opendkim did not start"
bm_opendmarc_start "$T/opendmarc" || die "opendmarc did not start"

declare -A SCOPE_PID SCOPE_SOCK SCOPE_LOG
for s in $SCOPES; do SCOPE_PID[$s]=0 SCOPE_SOCK[$s]=none SCOPE_LOG[$s]=/dev/null; done
# scope_start_bench NAME TEMPLATE [KEY...] - smtpscope with TEMPLATE plus
# this run's keys and the KEYs
scope_start_bench() {
	local name=$1 tmpl=$2 dir=$T/scope-$1 i
	shift 2
	mkdir -p "$dir" && chown nobody "$dir" && chmod 755 "$dir" || return 1
	SCOPE_SOCK[$name]=$dir/smtpscope.sock
	SCOPE_LOG[$name]=$dir/records.jsonl
	scope_conf "$dir" "$tmpl" bench-e2e.sh "$@" || return 1
	ip netns exec "$BM_NS" "$SMTPSCOPE_BIN" -c "$dir/smtpscope.conf" -f \
		>>"$dir/out" 2>>"$dir/stderr" &
	SCOPE_PID[$name]=$!
	harness_track_pid "${SCOPE_PID[$name]}"
	bm_wait_sock "${SCOPE_SOCK[$name]}" "${SCOPE_PID[$name]}" && return 0
	cat "$dir/stderr" >&2
	return 1
}
# the full configuration with its resolver DELAY_MS away
sed "s/^Nameservers.*/Nameservers	$BM_SLOW_ADDR/" "$here/smtpscope-full.conf" >"$T/full-slow.conf"
case " $CONFIGS " in *" h "* | *" i "*)
	bm_delay_start "$T/dnsdelay" "$DELAY_MS" || die "dnsdelay.py did not start" ;;
esac
# want C - is configuration C among CONFIGS?
want() { case " $CONFIGS " in *" $1 "*) return 0 ;; esac; return 1; }
scope_start_bench full "$here/smtpscope-full.conf" || die "smtpscope (full) did not start"
scope_start_bench spine "$here/smtpscope-spine.conf" || die "smtpscope (spine) did not start"
! want g || scope_start_bench nocache "$here/smtpscope-full.conf" "DNSCache no" ||
	die "smtpscope (full, no cache) did not start"
! want h || scope_start_bench slow "$T/full-slow.conf" ||
	die "smtpscope (full, slow resolver) did not start"
! want i || scope_start_bench slow_nocache "$T/full-slow.conf" "DNSCache no" ||
	die "smtpscope (full, slow resolver, no cache) did not start"

declare -A NULL_PID=([null]=0 [null_all]=0) NULL_SOCK=([null]=none [null_all]=none)
# null_start NAME [-a] - nullmilter as nobody in the namespace, on DIR/null.sock
null_start() {
	local name=$1 dir=$T/$1
	shift
	mkdir -p "$dir" && chown nobody "$dir" && chmod 755 "$dir" || return 1
	NULL_SOCK[$name]=$dir/null.sock
	ip netns exec "$BM_NS" setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$NULLMILTER_BIN" -p "unix:${NULL_SOCK[$name]}" "$@" >"$dir/out" 2>"$dir/stderr" &
	NULL_PID[$name]=$!
	harness_track_pid "${NULL_PID[$name]}"
	bm_wait_sock "${NULL_SOCK[$name]}" "${NULL_PID[$name]}" && return 0
	cat "$dir/stderr" >&2
	return 1
}
case " $CONFIGS " in *" e "*) null_start null || die "nullmilter did not start" ;; esac
case " $CONFIGS " in *" f "*) null_start null_all -a || die "nullmilter -a did not start" ;; esac

declare -A CFG_MILTERS=([a]=""
	[b]="unix:${SCOPE_SOCK[full]}"
	[c]="unix:${SCOPE_SOCK[spine]}"
	[d]="unix:$BM_DKIM_SOCK, unix:$BM_DMARC_SOCK"
	[e]="unix:${NULL_SOCK[null]}"
	[f]="unix:${NULL_SOCK[null_all]}"
	[g]="unix:${SCOPE_SOCK[nocache]}"
	[h]="unix:${SCOPE_SOCK[slow]}"
	[i]="unix:${SCOPE_SOCK[slow_nocache]}")

pf_set "milter_default_action = tempfail" "milter_protocol = 6" "smtpd_milters =" ||
	die "postconf failed"
pf_start >/dev/null || die "Postfix did not start"
say "Postfix on 127.0.0.1:$PF_PORT; milters up (opendkim $BM_DKIM_PID, opendmarc $BM_DMARC_PID," \
	"unbound $BM_DNS_PID, smtpscope full ${SCOPE_PID[full]}, spine ${SCOPE_PID[spine]}," \
	"nullmilter ${NULL_PID[null]}, nullmilter -a ${NULL_PID[null_all]}," \
	"no cache ${SCOPE_PID[nocache]}, slow ${SCOPE_PID[slow]}, slow no cache" \
	"${SCOPE_PID[slow_nocache]}, dnsdelay ${BM_SLOW_PID:-0}; 0 = not started)"

# --- helpers ----------------------------------------------------------------
SENT_RE='postfix/discard\[[0-9]+\]: [0-9A-Za-z]+: to=<.*status=sent'
BAD_RE='status=(deferred|bounced)|milter-reject|warning: .*[Mm]ilter|fatal:|panic:'

# log_size - bytes in the maillog now
log_size() { stat -c %s "$PF_LOG" 2>/dev/null || echo 0; }

# log_count RE OFFSET - maillog lines matching RE written after OFFSET bytes
log_count() { tail -c +$(($2 + 1)) "$PF_LOG" 2>/dev/null | grep -E -c -- "$1"; }

# wait_sent WANT OFFSET SECS - poll (50 ms) until WANT deliveries after OFFSET
wait_sent() {
	local want=$1 off=$2 end=$((SECONDS + $3)) n
	while :; do
		n=$(log_count "$SENT_RE" "$off")
		[ "$n" -ge "$want" ] && return 0
		[ $SECONDS -ge $end ] && { say "only $n of $want messages delivered after $3 s"; return 1; }
		sleep 0.05
	done
}

# proc_ticks PID - utime+stime of PID (whole thread group) in clock ticks
proc_ticks() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
	s=${s##*) }
	set -- $s	# split on purpose: the fields after "(comm) "
	echo $((${12} + ${13}))
}

# proc_cticks PID - cutime+cstime: CPU of the children PID has reaped
proc_cticks() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
	s=${s##*) }
	set -- $s	# split on purpose: the fields after "(comm) "
	echo $((${14} + ${15}))
}


# pf_snap FILE - "pid ticks" of every process of the instance; "reaped N" for the master
pf_snap() {
	local p m
	m=$(pf_master_pid) || m=
	{
		for p in $(pf_pids); do echo "$p $(proc_ticks "$p")"; done
		[ -n "$m" ] && echo "reaped $(proc_cticks "$m")"
	} >"$1"
}

# pf_ticks START END - Postfix's CPU ticks between two snapshots: live
# processes' growth, plus what the master reaped, minus the part of the
# reaped processes' CPU that was already counted in START
pf_ticks() {
	awk 'FNR == NR { s[$1] = $2; next }
	     { e[$1] = $2 }
	     END {
		t = e["reaped"] - s["reaped"]
		for (p in e) if (p != "reaped") t += e[p] - ((p in s) ? s[p] : 0)
		for (p in s) if (p != "reaped" && !(p in e)) t -= s[p]
		print t
	     }' "$1" "$2"
}



# use_config C - point smtpd_milters at configuration C and reload
use_config() {
	pf_set "smtpd_milters = ${CFG_MILTERS[$1]}" && pf_reload
}

# send FILE COUNT SESSIONS - smtp-source one corpus file; prints "wall_s client_ticks rc"
send() {
	local t0=$EPOCHREALTIME out rc
	# times must run in the bash that waited for smtp-source, not in a subshell
	out=$(bash -c '"$@" >/dev/null 2>"$0"; rc=$?; times; exit $rc' \
		"$T/smtp-source.err" "$SMTP_SOURCE" -s "$3" -m "$2" -F "$T/corpus/$1.eml" \
		-f "$SENDER" -t "$RCPT" -M "$HELO" "127.0.0.1:$PF_PORT")
	rc=$?
	# "0m0.052s 0m0.121s" -> ticks
	echo "$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }')" \
		"$(echo "$out" | tail -1 | awk -v hz="$HZ" '{ t = 0; for (i = 1; i <= 2; i++) {
			split($i, x, "m"); sub("s", "", x[2]); t += x[1] * 60 + x[2] }
			printf "%d", t * hz + 0.5 }')" "$rc"
}

# --- check: OpenDKIM gives dkim=pass, OpenDMARC dmarc=pass ------------------
# milter_header_checks HOLD keeps each check message in the hold queue, so
# postcat shows the Authentication-Results headers whole; then it is deleted.
say "check: one message per corpus file through (d); Authentication-Results from the hold queue"
echo '/^Authentication-Results:/ HOLD' >"$T/ar-hold.regexp"
pf_set "milter_header_checks = regexp:$T/ar-hold.regexp" && use_config d || die "reload failed"
check_ok=1
: >"$RES/check.txt"
for f in $FILES; do
	off=$(log_size)
	read -r _ _ rc < <(send "$f" 1 1)
	qid=
	for _ in $(seq 100); do
		qid=$(tail -c +$((off + 1)) "$PF_LOG" |
			sed -nE 's/.*cleanup\[[0-9]+\]: ([0-9A-Za-z]+): (milter-header-)?hold: header Authentication-Results.*/\1/p' | head -1)
		[ -n "$qid" ] && break
		sleep 0.1
	done
	ar=
	[ -n "$qid" ] && ar=$(postcat -c "$PF_DIR/etc" -h -q "$qid" 2>/dev/null |
		awk '/^Authentication-Results:/ { on = 1; printf "%s%s", (n++ ? "\n" : ""), $0; next }
		     on && /^[ \t]/ { sub(/^[ \t]+/, " "); printf "%s", $0; next } { on = 0 }
		     END { print "" }')
	[ -n "$qid" ] && postsuper -c "$PF_DIR/etc" -d "$qid" hold >/dev/null 2>&1
	printf '%s (%s bytes):\n%s\n' "$f" "$(awk -v f="$f.eml" '$1 == f { print $2 }' "$RES/MANIFEST")" \
		"$(echo "${ar:-(no Authentication-Results header)}" | sed 's/^/  /')" >>"$RES/check.txt"
	dkim=$(echo "$ar" | grep -o 'dkim=[a-z]*' | head -1)
	dmarc=$(echo "$ar" | grep -o 'dmarc=[a-z]*' | head -1)
	say "  $f: ${dkim:-no dkim result}, ${dmarc:-no dmarc result}"
	case $f in *-signed) [ "$dkim" = dkim=pass ] || check_ok= ;; esac
	[ "$dmarc" = dmarc=pass ] && [ "$rc" = 0 ] || check_ok=
done
pf_set "milter_header_checks =" || die "postconf failed"
[ -n "$check_ok" ] || die "OpenDKIM/OpenDMARC check failed; see $RES/check.txt"

# --- the runs ---------------------------------------------------------------
{
	echo "# $(date -u +%FT%TZ) $(uname -sr), $NCPU CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
	echo "# N=$N M=$M R=$R configurations: $CONFIGS"
	echo "# Postfix $(postconf -dh mail_version); $("$SMTPSCOPE_BIN" -V 2>&1 | head -1)"
	echo "# $(opendkim -V 2>&1 | head -1); $(opendmarc -V 2>&1 | head -1); $(unbound -V 2>&1 | head -1)"
	echo "# nullmilter: $NULLMILTER_BIN, libmilter $(dpkg-query -W -f '${Version}' libmilter1.0.1 2>/dev/null || echo '?')"
	echo "# corpus: $(awk '{ printf "%s%s %d B", (NR > 1 ? ", " : ""), $1, $2 }' "$RES/MANIFEST")"
} >"$RES/env.txt"
echo "config,rep,messages,sessions,elapsed_s,msgs_per_s,machine_ms,util_pct,postfix_ms,client_ms,scope_full_ms,scope_spine_ms,opendkim_ms,opendmarc_ms,unbound_ms,other_ms,errors,records,waited_s,busy_before_pct,load1,milters_ms,null_ms,null_all_ms,scope_nocache_ms,scope_slow_ms,scope_slow_nocache_ms,dnsdelay_ms,dns_per_msg,dns_cached_pct" >"$RES/runs.csv"
echo "config,rep,file,messages,wall_s,accepted_per_s" >"$RES/subruns.csv"

# per-file share of M: the first M%6 files get one more
per_file() {
	local i=0 f
	for f in $FILES; do
		echo "$f $((M / 6 + (i < M % 6 ? 1 : 0)))"
		i=$((i + 1))
	done
}

failed=0
# run C REP - one timed run of configuration C; appends to runs.csv
run() {
	local c=$1 rep=$2 off warm waited ms0 ms1 f n wall ct rc client=0 errs=0 bad
	local t0 t1 el b0 tot0 b1 tot1 machine pfms other rec='-' scope busy mil
	local dnsq=- dnsc=- k
	local -A p0 p1 ms
	scope=${CFG_SCOPE[$c]:-}

	use_config "$c" || { say "reload failed"; return 1; }
	read -r waited busy < <(wait_quiet)
	# warm-up, right before the run: fresh smtpd processes after the
	# reload, milter connections, resolver cache, CPU caches
	warm=$((2 * N))
	off=$(log_size)
	[ -n "$scope" ] && ms0=$(wc -l <"${SCOPE_LOG[$scope]}")
	read -r _ _ rc < <(send plain-2k-signed "$warm" "$N")
	wait_sent "$warm" "$off" 60 || return 1
	[ -n "$scope" ] && for _ in $(seq 50); do
		[ $(($(wc -l <"${SCOPE_LOG[$scope]}") - ms0)) -ge $((2 * warm)) ] && break
		sleep 0.1
	done

	# start snapshot
	off=$(log_size)
	[ -n "$scope" ] && ms0=$(wc -l <"${SCOPE_LOG[$scope]}")
	pf_snap "$T/pf.start"
	for f in $SCOPES; do p0[scope_$f]=$(proc_ticks "${SCOPE_PID[$f]}"); done
	p0[dnsdelay]=$(proc_ticks "${BM_SLOW_PID:-0}")
	for f in null null_all; do p0[$f]=$(proc_ticks "${NULL_PID[$f]}"); done
	p0[opendkim]=$(proc_ticks "$BM_DKIM_PID")
	p0[opendmarc]=$(proc_ticks "$BM_DMARC_PID")
	p0[unbound]=$(proc_ticks "$BM_DNS_PID")
	read -r b0 tot0 < <(machine_ticks)
	t0=$EPOCHREALTIME
	while read -r f n; do
		read -r wall ct rc < <(send "$f" "$n" "$N")
		client=$((client + ct))
		[ "$rc" = 0 ] || { errs=$((errs + 1)); say "smtp-source $f exit $rc: $(head -c 300 "$T/smtp-source.err")"; }
		echo "$c,$rep,$f,$n,$wall,$(awk -v n="$n" -v w="$wall" 'BEGIN { printf "%.1f", n / w }')" >>"$RES/subruns.csv"
	done < <(per_file)
	wait_sent "$M" "$off" 120 || errs=$((errs + 1))
	t1=$EPOCHREALTIME
	read -r b1 tot1 < <(machine_ticks)
	for f in $SCOPES; do p1[scope_$f]=$(proc_ticks "${SCOPE_PID[$f]}"); done
	p1[dnsdelay]=$(proc_ticks "${BM_SLOW_PID:-0}")
	for f in null null_all; do p1[$f]=$(proc_ticks "${NULL_PID[$f]}"); done
	p1[opendkim]=$(proc_ticks "$BM_DKIM_PID")
	p1[opendmarc]=$(proc_ticks "$BM_DMARC_PID")
	p1[unbound]=$(proc_ticks "$BM_DNS_PID")
	pf_snap "$T/pf.end"

	bad=$(log_count "$BAD_RE" "$off")
	[ "$bad" -gt 0 ] && { errs=$((errs + bad)); say "maillog: $bad problem lines, e.g.:" \
		"$(tail -c +$((off + 1)) "$PF_LOG" | grep -a -E -m1 -- "$BAD_RE" | cut -c1-200)"; }
	# records: exactly M message and M session records in this run's part of the log
	if [ -n "$scope" ]; then
		local nm ns
		for _ in $(seq 100); do
			ms1=$(wc -l <"${SCOPE_LOG[$scope]}")
			[ $((ms1 - ms0)) -ge $((2 * M)) ] && break
			sleep 0.1
		done
		sleep 0.2
		read -r nm ns dnsq dnsc < <(tail -n +$((ms0 + 1)) "${SCOPE_LOG[$scope]}" |
			jq -r -s '[(map(select(.event == "message")) | length),
			           (map(select(.event == "session")) | length),
			           ([.[].dns // [] | length] | add // 0),
			           ([.[].dns // [] | map(select(.cached == true)) | length] | add // 0)] | @tsv')
		# lookups per message (both records), and the share from the cache
		k=$dnsq
		dnsq=$(awk -v q="$k" -v m="$M" 'BEGIN { printf "%.2f", q / m }')
		dnsc=$(awk -v q="$k" -v c="$dnsc" 'BEGIN { printf "%.1f", q ? 100 * c / q : 0 }')
		if [ "$nm" = "$M" ] && [ "$ns" = "$M" ]; then
			rec="ok:$nm/$ns"
		else
			rec="BAD:$nm/$ns"
			errs=$((errs + 1))
			say "smtpscope $scope: $nm message and $ns session records, want $M each"
		fi
	fi

	el=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	for f in opendkim opendmarc unbound null null_all dnsdelay; do ms[$f]=$((p1[$f] - p0[$f])); done
	for f in $SCOPES; do ms[scope_$f]=$((p1[scope_$f] - p0[scope_$f])); done
	pfms=$(pf_ticks "$T/pf.start" "$T/pf.end")
	machine=$((b1 - b0))
	other=$((machine - pfms - client - ms[opendkim] - ms[opendmarc] - ms[unbound] - ms[null] - ms[null_all] - ms[dnsdelay]))
	for f in $SCOPES; do other=$((other - ms[scope_$f])); done
	# the configuration's own milters, plus the resolver they use (not
	# dnsdelay.py, which stands for the network)
	case $c in
	a) mil=${ms[unbound]} ;;
	b | c | g | h | i) mil=$((ms[scope_$scope] + ms[unbound])) ;;
	d) mil=$((ms[opendkim] + ms[opendmarc] + ms[unbound])) ;;
	e) mil=$((ms[null] + ms[unbound])) ;;
	f) mil=$((ms[null_all] + ms[unbound])) ;;
	esac
	awk -v c="$c" -v rep="$rep" -v m="$M" -v s="$N" -v el="$el" -v hz="$HZ" \
		-v mach="$machine" -v tot=$((tot1 - tot0)) -v pf="$pfms" -v cl="$client" \
		-v sf="${ms[scope_full]}" -v ss="${ms[scope_spine]}" -v dk="${ms[opendkim]}" \
		-v dm="${ms[opendmarc]}" -v ub="${ms[unbound]}" -v ot="$other" -v err="$errs" \
		-v rec="$rec" -v w="$waited" -v busy="$busy" -v mil="$mil" -v load="$(cut -d' ' -f1 /proc/loadavg)" \
		-v nu="${ms[null]}" -v na="${ms[null_all]}" -v sn="${ms[scope_nocache]}" \
		-v sl="${ms[scope_slow]}" -v sln="${ms[scope_slow_nocache]}" -v dd="${ms[dnsdelay]}" \
		-v dq="$dnsq" -v dc="$dnsc" '
		function per(t) { return sprintf("%.3f", t * 1000 / hz / m) }
		BEGIN {
			printf "%s,%d,%d,%d,%.3f,%.1f,%s,%.0f,%s,%s,%s,%s,%s,%s,%s,%s,%d,%s,%d,%d,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n",
				c, rep, m, s, el, m / el, per(mach), tot ? 100 * mach / tot : 0,
				per(pf), per(cl), per(sf), per(ss), per(dk), per(dm), per(ub), per(ot),
				err, rec, w, busy, load, per(mil), per(nu), per(na), per(sn), per(sl),
				per(sln), per(dd), dq, dc
		}' >>"$RES/runs.csv"
	say "  rep $rep ($c) ${CFG_NAME[$c]}: $(tail -1 "$RES/runs.csv" |
		awk -F, '{ printf "%s msg/s, %s s, machine %s ms/msg (%s%% busy), postfix %s, records %s, DNS %s/msg %s%% cached, errors %s", $6, $5, $7, $8, $9, $18, $29, $30, $17 }')"
	[ "$errs" -eq 0 ]
}

for rep in $(seq "$R"); do
	for c in $CONFIGS; do
		run "$c" "$rep" || failed=$((failed + 1))
	done
done

# --- summary ----------------------------------------------------------------
# stats CONFIG COLUMN - "median min max" of a runs.csv column over error-free runs
stats() {
	awk -F, -v c="$1" -v col="$2" 'NR > 1 && $1 == c && $17 == 0 { print $col }' "$RES/runs.csv" |
		median_minmax
}
# milter_cols CONFIG - runs.csv columns of the configuration's own milters (and unbound)
milter_cols() { case $1 in a) ;; b) echo 11 ;; c) echo 12 ;; d) echo 13 14 15 ;; e) echo 23 ;; f) echo 24 ;;
	g) echo 25 ;; h) echo 26 ;; i) echo 27 ;; esac; }

summary() {
	local c med mn mx base dbase
	local -A rate mach
	read -r base _ _ < <(stats a 6)
	read -r dbase _ _ < <(stats a 7)
	cat "$RES/env.txt"
	echo "# one run = 6 smtp-source sub-runs (one per corpus file, M/6 messages each), N sessions;"
	echo "# values: median [min-max] over error-free runs; CPU in ms per message"
	echo
	printf '%-30s %-22s %-7s %-20s %-6s %-19s %s\n' "configuration" "msgs/s" "x (a)" \
		"machine CPU ms/msg" "busy%" "Postfix ms/msg" "milter ms/msg (median [min-max])"
	for c in $CONFIGS; do
		read -r med mn mx < <(stats "$c" 6)
		rate[$c]=$med
		local m1 p1 u1 mil="" col n
		m1=$(stats "$c" 7 | awk '{ printf "%.2f [%.2f-%.2f]", $1, $2, $3 }')
		mach[$c]=$(stats "$c" 7 | cut -d' ' -f1)
		u1=$(stats "$c" 8 | awk '{ printf "%.0f", $1 }')
		p1=$(stats "$c" 9 | awk '{ printf "%.2f [%.2f-%.2f]", $1, $2, $3 }')
		for col in $(milter_cols "$c"); do
			n=$(head -1 "$RES/runs.csv" | cut -d, -f"$col" | sed 's/_ms$//')
			mil="$mil${mil:+, }$n $(stats "$c" "$col" | awk '{ printf "%.2f [%.2f-%.2f]", $1, $2, $3 }')"
		done
		[ "$c" = d ] && mil="$mil, sum $(stats "$c" 22 | awk '{ printf "%.2f [%.2f-%.2f]", $1, $2, $3 }')"
		printf '%-30s %-22s %-7s %-20s %-6s %-19s %s\n' "($c) ${CFG_NAME[$c]}" \
			"$(awk -v a="$med" -v b="$mn" -v c="$mx" 'BEGIN { printf "%.1f [%.1f-%.1f]", a, b, c }')" \
			"$(awk -v a="$med" -v b="$base" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')" \
			"$m1" "$u1" "$p1" "${mil:--}"
	done
	echo
	for c in $CONFIGS; do
		[ "$c" = a ] && continue
		awk -v n="($c) ${CFG_NAME[$c]}" -v a="${mach[$c]}" -v b="$dbase" \
			'BEGIN { if (b > 0) printf "added machine CPU vs (a): %-30s %+.2f ms/msg\n", n, a - b }'
	done
	if [ -n "${rate[b]:-}" ] && [ -n "${rate[d]:-}" ]; then
		awk -v b="${rate[b]}" -v d="${rate[d]}" -v mb="${mach[b]}" -v md="${mach[d]}" 'BEGIN {
			if (d > 0) printf "smtpscope full vs OpenDKIM+OpenDMARC: %.2fx the throughput", b / d
			if (md > 0) printf ", %.2fx the machine CPU per message", mb / md
			print "" }'
	fi
	# smtpscope's own work: the spine beside a do-nothing libmilter that
	# negotiates the same steps and macros (milters_ms includes unbound)
	for c in b c; do
		[ -n "${rate[$c]:-}" ] && [ -n "${rate[e]:-}" ] || continue
		awk -v n="${CFG_NAME[$c]}" -v r="${rate[$c]}" -v re="${rate[e]}" \
			-v m="${mach[$c]}" -v me="${mach[e]}" \
			-v k="$(stats "$c" 22 | cut -d' ' -f1)" -v ke="$(stats e 22 | cut -d' ' -f1)" 'BEGIN {
			if (re > 0) printf "%s vs (e) null, same negotiation: %.2fx the throughput, %+.2f machine ms/msg, milter+unbound %.2f vs %.2f ms/msg\n",
				n, r / re, m - me, k, ke }'
	done
	# the milter's own CPU beside the do-nothing milter's (unbound apart)
	if [ -n "${rate[b]:-}" ] && [ -n "${rate[e]:-}" ]; then
		awk -v f="$(stats b 11 | cut -d' ' -f1)" -v n="$(stats e 23 | cut -d' ' -f1)" 'BEGIN {
			if (n > 0) printf "smtpscope full milter CPU vs (e) null: %.2f vs %.2f ms/msg = %.2fx\n", f, n, f / n }'
		# the same ratio repetition by repetition (b and e of one
		# repetition ran minutes apart, under the same conditions)
		awk -F, 'NR > 1 && $17 == 0 && $1 == "b" { f[$2] = $11 }
			NR > 1 && $17 == 0 && $1 == "e" { n[$2] = $23 }
			END { for (r in f) if ((r in n) && n[r] > 0) print f[r] / n[r] }' \
			"$RES/runs.csv" | median_minmax | awk '$1 != "nan" {
			printf "  per repetition (b over e of the same repetition): median %.2fx [%.2f-%.2f]\n", $1, $2, $3 }'
	fi
	# the DNS cache: off (g), and with a resolver DELAY_MS away (h, i)
	for c in g h i; do
		[ -n "${rate[$c]:-}" ] && [ -n "${rate[b]:-}" ] || continue
		awk -v n="($c) ${CFG_NAME[$c]}" -v r="${rate[$c]}" -v rb="${rate[b]}" 'BEGIN {
			if (rb > 0) printf "%s vs (b) full, local resolver, cache: %.2fx the throughput\n", n, r / rb }'
	done
	awk -F, 'NR > 1 && $17 == 0 && $29 != "-" { q[$1] += $29; p[$1] += $30; k[$1]++ }
		END { for (c in k) printf "DNS lookups (%s): %.2f per message, %.1f %% from the cache\n",
			c, q[c] / k[c], p[c] / k[c] }' "$RES/runs.csv" | sort
	awk -F, 'NR > 1 && $17 != 0 { n++ } END { printf "runs with errors (left out): %d\n", n }' "$RES/runs.csv"
	awk -F, 'NR > 1 && $18 != "-" { printf "%s%s rep %s: %s", (n++ ? "; " : "smtpscope records per run (message/session, want M each): "), $1, $2, $18 }
		END { if (n) print "" }' "$RES/runs.csv"
	echo "OpenDKIM/OpenDMARC check (Authentication-Results):"
	sed 's/^/  /' "$RES/check.txt"
	awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN { printf "wall time: %.0f s\n", b - a }'
}
summary | tee "$RES/summary.txt"
say "results in $RES (runs.csv, subruns.csv, summary.txt)"
[ "$failed" -eq 0 ]
