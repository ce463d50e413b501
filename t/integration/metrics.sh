#!/bin/bash
# metrics.sh - the MetricsListen endpoint: after known traffic through a real
# Postfix, /metrics says what the records say (counted again here with jq
# from the record file), a real Prometheus scrapes it, /health answers, and
# hostile HTTP (unknown paths and methods, a body, a 64 KB URL, idle
# connections, a connection flood) neither stops the endpoint nor mail.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
. "$here/harness.sh"
. "$here/scope.sh"

command -v curl >/dev/null || tap_skip_all "curl not installed (contrib/install-deps.sh)"
harness_init metrics
tap_plan 27

mport=$(harness_free_port) || exit 1
url=http://127.0.0.1:$mport

# -n refuses a bad MetricsListen with file, line and key
bad=$T/bad.conf
printf 'Socket unix:%s/b.sock\nUserID nobody\nMetricsListen localhost:99999\n' "$T" >"$bad"
err=$("$SCOPE_BIN" -n -c "$bad" 2>&1)
tap_is $? 78 "-n: a bad MetricsListen exits 78"
tap_ok "$(echo "$err" | grep -qF "bad.conf:3: MetricsListen:"; echo $?)" \
	"the error names file, line and key ($err)"

scope_start MetricsListen "127.0.0.1:$mport"
tap_is $? 0 "smtpscope starts with MetricsListen 127.0.0.1:$mport"
pf_start "unix:$SCOPE_SOCK" || tap_skip_all "no Postfix"

# metric NAME{LABELS} - the value of one series
metric() {
	curl -s --max-time 10 "$url/metrics" | awk -v k="smtpscope_$1" '$1 == k { print $2 }'
}

tap_is "$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' "$url/health")" 200 "/health answers 200"
tap_is "$(metric sessions_in_flight)" 0 "no session in flight before traffic"

# known traffic: 3 plain IPv4, 1 STARTTLS, 1 IPv6, 1 quit after EHLO
for i in 1 2 3; do swaks_to 127.0.0.1 "$PF_PORT" --to "m$i@smtpscope.test"; done
swaks_to 127.0.0.1 "$PF_PORT" --to tls@smtpscope.test --tls
swaks_to ::1 "$PF_PORT" --to v6@smtpscope.test
swaks_to 127.0.0.1 "$PF_PORT" --quit-after EHLO
scope_wait 11 30
tap_is $? 0 "11 records written (5 messages, 6 sessions)"

count() { scope_jq "$1"; }
tap_is "$(metric messages_total)" "$(count '[.[] | select(.event == "message")] | length')" \
	"messages_total equals the message records"
tap_is "$(metric sessions_total)" "$(count '[.[] | select(.event == "session")] | length')" \
	"sessions_total equals the session records"
tap_is "$(metric records_written_total)" "$(count 'length')" "records_written_total equals the lines"
tap_is "$(metric 'client_sessions_total{family="ipv6"}')" \
	"$(count '[.[] | select(.event == "session" and .client.family == "ipv6")] | length')" \
	"IPv6 sessions as recorded"
tap_is "$(metric 'client_sessions_total{family="ipv4"}')" \
	"$(count '[.[] | select(.event == "session" and .client.family == "ipv4")] | length')" \
	"IPv4 sessions as recorded"
v=$(count '[.[] | select(.event == "session" and .tls != null) | .tls.version][0]' | tr -d '"')
tap_is "$(metric "tls_sessions_total{version=\"$v\"}")" 1 "one session with $v, as recorded"
tap_is "$(metric 'tls_sessions_total{version="none"}')" \
	"$(count '[.[] | select(.event == "session" and .tls == null)] | length')" \
	"sessions without TLS as recorded"
tap_is "$(metric sessions_in_flight)" 0 "no session in flight after traffic"

# a session held open shows in flight
exec 7<>/dev/tcp/127.0.0.1/"$PF_PORT"
read -r -t 10 _ <&7
printf 'EHLO held.example\r\n' >&7
for _ in $(seq 100); do [ "$(metric sessions_in_flight)" = 1 ] && break; sleep 0.1; done
tap_is "$(metric sessions_in_flight)" 1 "a held session is in flight"
printf 'QUIT\r\n' >&7
exec 7>&-
for _ in $(seq 100); do [ "$(metric sessions_in_flight)" = 0 ] && break; sleep 0.1; done
tap_is "$(metric sessions_in_flight)" 0 "and gone when it quits"

# a real Prometheus scrapes the endpoint
if command -v prometheus >/dev/null; then
	pport=$(harness_free_port)
	mkdir -p "$T/prom"
	printf 'global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: smtpscope\n    static_configs:\n      - targets: ["127.0.0.1:%s"]\n' \
		"$mport" >"$T/prom/prometheus.yml"
	prometheus --config.file="$T/prom/prometheus.yml" --storage.tsdb.path="$T/prom/data" \
		--web.listen-address="127.0.0.1:$pport" >"$T/prom/log" 2>&1 &
	harness_track_pid $!
	want=$(metric messages_total)
	got=
	for _ in $(seq 120); do
		got=$(curl -s --max-time 5 "http://127.0.0.1:$pport/api/v1/query?query=smtpscope_messages_total" |
			jq -r '.data.result[0].value[1] // empty' 2>/dev/null)
		[ "$got" = "$want" ] && break
		sleep 0.5
	done
	tap_is "$got" "$want" "Prometheus scraped smtpscope_messages_total = $want"
	up=$(curl -s --max-time 5 "http://127.0.0.1:$pport/api/v1/query?query=up" | jq -r '.data.result[0].value[1] // empty')
	tap_is "$up" 1 "Prometheus sees the target up (the text format parses)"
else
	tap_ok 1 "prometheus is installed (contrib/install-deps.sh)"
	tap_ok 1 "prometheus: not tested"
fi

# hostile HTTP
tap_is "$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' "$url/nope")" 404 "an unknown path is 404"
tap_is "$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' -X POST -d x=1 "$url/metrics")" 405 "POST is 405"
code=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' "$url/metrics?$(head -c 65536 /dev/zero | tr '\0' a)")
tap_ok "$([ "$code" != 200 ]; echo $?)" "a 64 KB URL is refused (HTTP $code)"
code=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' -X GET --data-binary 'body' "$url/metrics")
tap_ok "$([ "$code" != 200 ]; echo $?)" "a GET with a body is refused (HTTP ${code:-closed})"
# 40 idle connections (over the limit of 32), then a flood of 200 requests
for i in $(seq 40); do exec {fd}<>/dev/tcp/127.0.0.1/"$mport" 2>/dev/null && idle+=("$fd"); done
flood=()
for i in $(seq 200); do curl -s --max-time 2 -o /dev/null "$url/metrics" & flood+=($!); done
wait "${flood[@]}" 2>/dev/null
for fd in "${idle[@]}"; do exec {fd}>&-; done
for _ in $(seq 150); do
	[ "$(curl -s --max-time 2 -o /dev/null -w '%{http_code}' "$url/health")" = 200 ] && break
	sleep 0.1
done
tap_is "$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' "$url/health")" 200 \
	"after idle connections and a flood (${#flood[@]} clients) /health answers again"
swaks_to 127.0.0.1 "$PF_PORT" --to after@smtpscope.test
tap_is $? 0 "mail still flows"
scope_wait 13 30
tap_is "$(metric messages_total)" 6 "and is counted"
tap_ok "$(kill -0 "$SCOPE_PID"; echo $?)" "smtpscope is alive"
scope_stop
scope_assert_clean
tap_done
