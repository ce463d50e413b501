#!/usr/bin/python3
# gen_records.py - smtpscope record files for the tests and the benchmark
#
#   gen_records.py test [--gzip] [--seed N] OUT     the test set, known answers
#   gen_records.py bench --bytes N [--seed N]       random records to stdout
#
# The test set is built by rule from the session number, so its figures are
# known by hand (t/report/test_report.py asserts them); the seed only varies
# what no figure depends on (ports, session ids, message ids). The bench
# stream writes realistic records (about 1.5 KB each) until N bytes, without
# holding them in memory.
import argparse
import gzip
import json
import random
import sys
from datetime import datetime, timedelta, timezone

BASE = datetime(2026, 1, 1, tzinfo=timezone.utc)
CIPHERS = {"TLSv1.3": "TLS_AES_256_GCM_SHA384", "TLSv1.2": "ECDHE-RSA-AES256-GCM-SHA384",
           "TLSv1.0": "ECDHE-RSA-AES128-SHA", "TLSv1.1": "AES128-SHA"}


def ts(minutes, usec=0):
    d = BASE + timedelta(minutes=minutes, microseconds=usec)
    return d.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def tls_obj(version, cert=False):
    if version is None:
        return None
    peer = None
    if cert:
        peer = {"subject": "client.example", "issuer": "Test CA", "verified": None,
                "verify": None, "cn_subject": None, "cn_issuer": None, "md5": None}
    return {"version": version, "cipher": CIPHERS[version], "bits": 256, "peer": peer}


def client_obj(rng, family, ptr, helo):
    ip = ("2001:db8::%x" % rng.randrange(1, 65535)) if family == "ipv6" else \
        "192.0.2.%d" % rng.randrange(1, 255)
    return {"ip": ip, "port": rng.randrange(1024, 65535), "family": family, "ptr": ptr,
            "name": ptr, "resolve": "OK" if ptr else "FAIL", "helo": helo,
            "helo_count": 2}


SERVER = {"addr": "198.51.100.1", "port": 25, "name": "mx.example.test",
          "daemon": "mx.example.test", "mta": "postfix", "mta_version": "3.7.11"}


def message(rng, sid, minute, client, tls, tags, mfrom, rcpt, auth, greylist,
            action="accept", stage="eom"):
    return {"v": 1, "ts": ts(minute, 1000), "event": "message", "session": sid,
            "start": ts(minute), "msg": 1, "client": client, "server": SERVER,
            "tls": tls, "tags": tags, "queue_id": "%010X" % rng.randrange(1 << 40),
            "envelope": {"from": mfrom, "rcpt": [rcpt], "rcpt_count": 1,
                         "size_declared": None, "auth": None},
            "message": {"id": "<%x@example>" % rng.randrange(1 << 48), "id_count": 1,
                        "size": 2048, "headers": 12, "body_bytes": 1500},
            "disposition": {"action": action, "stage": stage},
            "timing": {"mail": 10.5, "rcpt": 11.2},
            "truncated": [], "fault": False, "auth": auth,
            "authentication_results": None, "dns": [], "dns_total": 0,
            "greylist": greylist}


def session(sid, minute, client, tls, tags, n):
    return {"v": 1, "ts": ts(minute, 2000), "event": "session", "session": sid,
            "start": ts(minute), "client": client, "server": SERVER, "tls": tls,
            "tags": tags, "messages": n, "aborted": 0,
            "timing": {"connect": 0.0, "close": 40.0}, "truncated": [],
            "fault": False, "auth": {"iprev": None}, "dns": [], "dns_total": 0,
            "greylist": None}


NO_AUTH = {"spf": None, "dkim": None, "dmarc": None, "iprev": None}


def main_auth(i, dkim_d):
    spf_r = ["pass"] * 6 + ["fail", "fail", "softfail", "none"]
    spf = {"mailfrom": {"result": spf_r[i % 10], "dnssec": "secure" if i % 10 < 3 else "insecure",
                        "domain": "example.org"},
           "helo": {"result": "none", "dnssec": "insecure"}}
    sig = lambda r, sec="insecure": {"result": r, "d": dkim_d, "s": "sel", "dnssec": sec}
    dkim = [[sig("fail"), sig("pass", "secure" if i % 8 == 0 else "insecure")],
            [sig("fail")], [], [sig("neutral"), sig("temperror")]][i % 4]
    dmarc_r = ["pass", "pass", "fail", "none", "temperror"][i % 5]
    dmarc = {"result": dmarc_r, "dnssec": "secure" if i % 20 == 0 else "insecure"}
    iprev_r = "pass" if i % 2 == 0 else ("temperror" if i % 8 == 1 else "fail")
    return {"spf": spf, "dkim": dkim, "dmarc": dmarc, "iprev": {"result": iprev_r}}


def main_names(i):
    """main_names - (ptr, helo, DKIM d=) of main message i, by i % 5."""
    k = i % 5
    if k == 0:
        return "mx%d.mail.example.co.uk" % i, "mx.example.co.uk", "example.co.uk"
    if k == 1:
        return None, "smtp.foo.example.org", "example.org"
    if k == 2:
        return None, "[192.0.2.1]", "news.bar.example.net"
    if k == 3:
        return "host%d.sub.foo.ck" % i, "host.sub.foo.ck", "foo.ck"
    return "a.b.user.github.io", "b.user.github.io", "github.io"


def gl_entry(rcpt, verdict, attempt, net, delay=None, via=False, chain=()):
    return {"rcpt": rcpt, "verdict": verdict, "attempt": attempt,
            "first_seen": ts(0), "delay_s": delay, "net": net,
            "via_chain": via, "auto_allowed": False, "chain": list(chain),
            "chain_total": len(chain), "error": None}


def test_set(rng):
    """test_set - lines of the test file (see test_report.py for answers)."""
    out = []
    sid = lambda: "%024x" % rng.getrandbits(96)
    # 200 sessions with one message each
    for i in range(200):
        fam = "ipv6" if i % 4 == 0 else "ipv4"
        ver = None if i % 5 == 0 else ("TLSv1.3", "TLSv1.2", "TLSv1.0")[i % 3]
        tls = tls_obj(ver, cert=(i % 7 == 0))
        tags = ["alpha"] if i % 2 == 0 else ["beta"]
        if i % 10 == 0:
            tags.append("vip")
        ptr, helo, d = main_names(i)
        c = client_obj(rng, fam, ptr, helo)
        s = sid()
        out.append(message(rng, s, i, c, tls, tags, "u%d@example.org" % i,
                           "r%d@example.test" % i, main_auth(i, d), None))
        out.append(session(s, i, c, tls, tags, 1))
    # 10 sessions without messages (quit after EHLO)
    for j in range(10):
        c = client_obj(rng, "ipv4", None, "quitter.example")
        out.append(session(sid(), 200 + j, c, None, [], 0))
    # greylisting: 20 first attempts (k = 0..19), aborted at RCPT
    gname = lambda k: "gl%d.greylist.example.com" % k
    v4net = lambda k: "192.0.%d.0/24" % (10 + k)
    for k in range(20):
        tags = ["alpha"] if k % 2 == 0 else ["beta"]
        c = client_obj(rng, "ipv4", gname(k), gname(k))
        s = sid()
        e = gl_entry("g%d@example.test" % k, "new", 1, v4net(k))
        out.append(message(rng, s, 210 + k, c, None, tags, "s%d@example.com" % k,
                           e["rcpt"], NO_AUTH, {"mode": "enforce", "rcpt": [e], "total": 1},
                           action="abort", stage="rcpt"))
        out.append(session(s, 210 + k, c, None, tags, 1))
    # retries: k 0..11 same net, 12..15 by chain (12, 13 from IPv6), 16 early,
    # and one orphan retry (k = 20) whose first attempt is not in the file
    minute = 230
    for k in list(range(17)) + [20]:
        tags = ["alpha"] if k % 2 == 0 else ["beta"]
        fam, net, via, chain = "ipv4", v4net(k), False, []
        if k <= 11:
            delay, verdict, att = (k + 1) * 60, "passed", 2
        elif k <= 15:
            delay, verdict, att, via = (k - 9) * 300, "passed", 2, True
            chain = [{"net": v4net(k), "family": "ipv4", "ts": ts(210 + k)}]
            if k <= 13:
                fam, net = "ipv6", "2001:db8:%x::/64" % k
            else:
                net = "198.18.%d.0/24" % k
        elif k == 16:
            delay, verdict, att = 30, "early", 2
        else:
            delay, verdict, att = 3600, "passed", 3
        c = client_obj(rng, fam, gname(k), gname(k))
        s = sid()
        e = gl_entry("g%d@example.test" % k, verdict, att, net, delay, via, chain)
        ok = verdict == "passed"
        out.append(message(rng, s, minute, c, None, tags, "s%d@example.com" % k,
                           e["rcpt"], NO_AUTH, {"mode": "enforce", "rcpt": [e], "total": 1},
                           action="accept" if ok else "abort", stage="eom" if ok else "rcpt"))
        out.append(session(s, minute, c, None, tags, 1))
        minute += 1
    lines = [json.dumps(r, separators=(",", ":")) for r in out]
    # malformed lines: 3 not JSON, 2 not objects, 2 unknown v, 1 unknown event
    bad = ['this is not json', '{"v":1,"ts":"2026-01-01T00:00:00.000000Z","ev',
           '{"v":1,,}', '[1,2,3]', '"a string"',
           '{"v":2,"ts":"2026-01-01T00:00:00.000000Z","event":"message","session":"x"}',
           '{"ts":"2026-01-01T00:00:00.000000Z","event":"message"}',
           '{"v":1,"ts":"2026-01-01T00:00:00.000000Z","event":"future","session":"x"}']
    for n, b in enumerate(bad):
        lines.insert(37 * (n + 1), b)
    return lines


# ---------------------------------------------------------------- bench
def bench_record(rng, n):
    fam = "ipv6" if rng.random() < 0.2 else "ipv4"
    org = "org%d.example" % int(rng.paretovariate(1.2) * 10 % 200000)
    ptr = "mail%d.%s" % (rng.randrange(50), org) if rng.random() < 0.8 else None
    ver = rng.choice((None, "TLSv1.2", "TLSv1.3", "TLSv1.3", "TLSv1.3"))
    c = client_obj(rng, fam, ptr, "mail.%s" % org)
    s = "%024x" % rng.getrandbits(96)
    minute = n / 100.0
    tags = [rng.choice(("mx1", "mx2", "mx3"))]
    if rng.random() < 0.25:
        return session(s, minute, c, tls_obj(ver), tags, 1)
    dns = [{"q": "%s%d.%s" % (p, i, org), "type": t, "rcode": "NOERROR",
            "dnssec": rng.choice(("secure", "insecure")), "ms": round(rng.random() * 40, 3)}
           for i, (p, t) in enumerate((("", "TXT"), ("_dmarc.", "TXT"), ("sel._domainkey.", "TXT"),
                                       ("spf.", "TXT"), ("mx.", "A")))]
    auth = {"spf": {"mailfrom": {"result": rng.choice(("pass", "pass", "fail", "softfail", "none")),
                                 "identity": "news@%s" % org, "domain": org,
                                 "mechanism": "ip4:192.0.2.0/24", "reason": None,
                                 "explanation": None, "dnssec": rng.choice(("secure", "insecure")),
                                 "lookups": 3},
                    "helo": {"result": "none", "dnssec": "insecure"}},
            "dkim": [{"result": rng.choice(("pass", "pass", "fail")), "reason": None, "d": org,
                      "s": "sel", "a": "rsa-sha256", "c": "relaxed/relaxed", "i": None,
                      "b": "abcdefgh", "l": None, "key_type": "rsa", "key_bits": 2048,
                      "testing": False, "dnssec": "insecure"}],
            "dkim_total": 1, "dkim_error": None,
            "dmarc": {"result": rng.choice(("pass", "fail", "none")), "reason": None,
                      "from_domain": org, "org_domain": org, "dnssec": "insecure"},
            "iprev": {"result": rng.choice(("pass", "fail")), "dnssec": "insecure"}}
    r = rng.random()
    e = None
    if r < 0.2:
        k = rng.randrange(100000)
        verdict = "new" if r < 0.1 else "passed"
        e = gl_entry("u%d@example.test" % k, verdict, 1 if verdict == "new" else 2,
                     "192.0.%d.0/24" % (k % 256), None if verdict == "new" else rng.randrange(60, 3600))
    m = message(rng, s, minute, c, tls_obj(ver), tags, "news@%s" % org,
                "user%d@example.test" % rng.randrange(1000), auth,
                {"mode": "enforce", "rcpt": [e], "total": 1} if e else None)
    m["dns"], m["dns_total"] = dns, len(dns)
    return m


def bench(nbytes, rng):
    out = sys.stdout.buffer
    written = n = 0
    while written < nbytes:
        chunk = []
        for _ in range(1000):
            chunk.append(json.dumps(bench_record(rng, n), separators=(",", ":")))
            n += 1
        data = ("\n".join(chunk) + "\n").encode()
        out.write(data)
        written += len(data)
    out.flush()
    print("%d records, %d bytes" % (n, written), file=sys.stderr)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("test")
    t.add_argument("out")
    t.add_argument("--gzip", action="store_true")
    t.add_argument("--seed", type=int, default=1)
    b = sub.add_parser("bench")
    b.add_argument("--bytes", type=int, required=True)
    b.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    rng = random.Random(a.seed)
    if a.cmd == "bench":
        bench(a.bytes, rng)
        return
    data = ("\n".join(test_set(rng)) + "\n").encode()
    if a.gzip:
        with gzip.open(a.out, "wb") as fh:
            fh.write(data)
    else:
        with open(a.out, "wb") as fh:
            fh.write(data)


if __name__ == "__main__":
    main()
