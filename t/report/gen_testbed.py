#!/usr/bin/python3
# gen_testbed.py - synthetic test bed records with a known capability table
#
#   gen_testbed.py SPEC-OUT RECORDS-OUT
#
# Writes a --testbed target file and a record log of four simulated
# providers (HELO mail.pN.example, so organization pN.example) whose
# deliveries to the targets are chosen by hand; t/report/test_report.py
# asserts the table smtpscope-report infers from them (WANT below), with
# its unknowns: p3 never reached the baseline, p4 never reached the DANE
# control and delivered to one IPv6-only target but not the other.
import json
import sys
from datetime import datetime, timedelta, timezone

SPEC = """# smtpscope-report --testbed file of the synthetic test
target base     baseline
target v6mx     proves    ipv6-delivery
target v6mx2    proves    ipv6-delivery
target bogus    disproves dnssec-validating
target tlsabad  disproves dane  control tlsagood
target tlsagood proves    dane-control
target gl       greylist
"""

BASE = datetime(2026, 3, 1, tzinfo=timezone.utc)
PASS = {"spf": {"mailfrom": {"result": "pass"}},
        "dkim": [{"d": "x.example", "result": "pass"}],
        "dmarc": {"result": "pass"}, "iprev": None}
FAILS = {"spf": {"mailfrom": {"result": "fail"}}, "dkim": [],
         "dmarc": {"result": "fail"}, "iprev": None}

# provider -> (targets delivered, TLS version or None, auth, greylisting plan)
# plan: list of (verdict, attempt, client ip, delay, via_chain)
PROVIDERS = {
    "p1": (["base", "v6mx", "v6mx2", "tlsagood"], "TLSv1.3", PASS,
           [("new", 1, "192.0.2.1", None, False),
            ("passed", 2, "2001:db8::1", 300, True),
            ("passed", 2, "192.0.2.1", 500, False)]),
    "p2": (["base", "bogus", "tlsabad", "tlsagood"], None, FAILS,
           [("new", 1, "198.51.100.2", None, False)]),
    "p3": (["bogus", "v6mx"], "TLSv1.2", PASS, []),
    "p4": (["base", "v6mx"], "TLSv1.2", PASS,
           [("new", 1, "203.0.113.4", None, False),
            ("passed", 2, "203.0.113.4", 60, False)]),
}
ALL_TARGETS = ("base", "v6mx", "v6mx2", "bogus", "tlsabad", "tlsagood")

WANT = {
    "p1.example": {"baseline": "yes", "ipv6-delivery": "yes", "dnssec-validating": "yes",
                   "dane": "yes", "dane-control": "yes", "tls-versions": "TLSv1.3",
                   "greylist-retry": "yes", "greylist-delay-median-s": 300,
                   "retry-other-address": "yes", "spf": "pass 6", "dkim": "pass 6",
                   "dmarc": "pass 6"},
    "p2.example": {"baseline": "yes", "ipv6-delivery": "no", "dnssec-validating": "no",
                   "dane": "no", "dane-control": "yes", "tls-versions": "none",
                   "greylist-retry": "no", "greylist-delay-median-s": None,
                   "retry-other-address": "unknown", "spf": "fail 4", "dkim": "none 4",
                   "dmarc": "fail 4"},
    "p3.example": {"baseline": "no", "ipv6-delivery": "unknown",
                   "dnssec-validating": "unknown", "dane": "unknown",
                   "dane-control": "unknown", "tls-versions": "TLSv1.2",
                   "greylist-retry": "unknown", "greylist-delay-median-s": None,
                   "retry-other-address": "unknown", "spf": "pass 2", "dkim": "pass 2",
                   "dmarc": "pass 2"},
    "p4.example": {"baseline": "yes", "ipv6-delivery": "conflict",
                   "dnssec-validating": "yes", "dane": "unknown", "dane-control": "no",
                   "tls-versions": "TLSv1.2", "greylist-retry": "yes",
                   "greylist-delay-median-s": 60, "retry-other-address": "no",
                   "spf": "pass 3", "dkim": "pass 3", "dmarc": "pass 3"},
}


def ts(minute):
    return (BASE + timedelta(minutes=minute)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record(event, n, prov, ip, tls, tag, extra):
    fam = "ipv6" if ":" in ip else "ipv4"
    rec = {"v": 1, "ts": ts(n), "event": event, "session": "s%d" % n, "start": ts(n),
           "client": {"ip": ip, "family": fam, "ptr": None,
                      "helo": "mail.%s.example" % prov},
           "tls": {"version": tls, "cipher": "X", "peer": None} if tls else None,
           "tags": [tag]}
    rec.update(extra)
    return rec


def message(n, prov, ip, tls, tag, auth, action, greylist=None):
    return record("message", n, prov, ip, tls, tag, {
        "envelope": {"from": "m@%s.example" % prov, "rcpt": ["t@%s.test" % tag]},
        "disposition": {"action": action, "stage": "eom" if action == "accept" else "rcpt"},
        "auth": auth, "greylist": greylist})


def records():
    out, n = [], 0
    for prov, (delivered, tls, auth, plan) in PROVIDERS.items():
        ip = "192.0.2.%d" % (10 + int(prov[1:]))
        for tag in ALL_TARGETS:
            n += 1
            if tag in delivered:
                out.append(message(n, prov, ip, tls, tag, auth, "accept"))
            # a refusing sender still leaves a session (it quit after TLS)
            out.append(record("session", n, prov, ip, tls, tag, {"messages": 0}))
        for verdict, attempt, gip, delay, via in plan:
            n += 1
            e = {"rcpt": "t@gl.test", "verdict": verdict, "attempt": attempt,
                 "delay_s": delay, "via_chain": via, "net": gip}
            action = "accept" if verdict == "passed" else "abort"
            out.append(message(n, prov, gip, tls, "gl", auth, action,
                               {"mode": "enforce", "rcpt": [e], "total": 1}))
            out.append(record("session", n, prov, gip, tls, "gl", {"messages": 1}))
    # a client that touched no target: not a row of the table
    out.append(record("session", n + 1, "other", "192.0.2.99", None, "notatarget", {}))
    return out


def main(argv):
    with open(argv[1], "w", encoding="utf-8") as fh:
        fh.write(SPEC)
    with open(argv[2], "w", encoding="utf-8") as fh:
        for r in records():
            fh.write(json.dumps(r, separators=(",", ":")) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
