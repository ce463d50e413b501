#!/usr/bin/python3
# test_report.py - TAP tests of contrib/report/smtpscope-report
#
# Generates the test record set (gen_records.py, known answers), runs the
# report on it plain, gzipped, from stdin, split in two files and filtered,
# and checks the JSON figures; checks the PSL algorithm, the text/CSV forms,
# the bounded tables, and renders the HTML in headless chromium (skipped,
# with "# SKIP", only when chromium is not installed). Standard library only.
import csv
import gzip
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zlib

HERE = os.path.dirname(os.path.realpath(__file__))
TOP = os.environ.get("top_srcdir") or os.path.dirname(os.path.dirname(HERE))
REPORT = os.path.join(TOP, "contrib", "report", "smtpscope-report")
GEN = os.path.join(HERE, "gen_records.py")
PY = "/usr/bin/python3"
sys.path.insert(0, os.path.join(TOP, "contrib", "report"))

n_test = 0
failed = 0


def ok(cond, what):
    global n_test, failed
    n_test += 1
    if not cond:
        failed += 1
    print("%s %d - %s" % ("ok" if cond else "not ok", n_test, what))
    sys.stdout.flush()
    return cond


def is_(got, want, what):
    if not ok(got == want, what):
        print("#   got:  %r\n#   want: %r" % (got, want))


def skip(what, why):
    global n_test
    n_test += 1
    print("ok %d - %s # SKIP %s" % (n_test, what, why))


def run(args, stdin=None):
    p = subprocess.run([PY, REPORT] + args, input=stdin, capture_output=True)
    return p.returncode, p.stdout, p.stderr


def report(args, stdin=None):
    rc, out, err = run(["-f", "json"] + args, stdin)
    if rc != 0:
        print("# rc %d: %s" % (rc, err.decode(errors="replace")))
    return json.loads(out)


def png_colours(path):
    """png_colours - distinct RGB colours of an 8-bit RGB/RGBA PNG."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, []
    while pos < len(data):
        n = int.from_bytes(data[pos:pos + 4], "big")
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h = int.from_bytes(body[0:4], "big"), int.from_bytes(body[4:8], "big")
            depth, ctype = body[8], body[9]
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + n
    assert depth == 8 and ctype in (2, 6), "unsupported PNG type"
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = w * bpp
    prev = bytearray(stride)
    colours = set()
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif f == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif f == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif f == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pr) & 255
        if y % 4 == 0:
            for x in range(0, stride, bpp * 2):
                colours.add(bytes(line[x:x + 3]))
        prev = line
    return w, h, colours


def jq_examples(path, a):
    """jq_examples - run the jq blocks of docs/records-analysis.md."""
    doc = open(os.path.join(TOP, "docs", "records-analysis.md"), encoding="utf-8").read()
    blocks, cur = [], None
    for line in doc.splitlines():
        if line.startswith("    zcat -f $R"):
            cur = [line[4:]]
            blocks.append(cur)
        elif cur is not None and line.startswith("    ") and not line.startswith("    --"):
            cur.append(line[4:])
        else:
            cur = None
    what = "docs/records-analysis.md: %d jq examples agree with the report" % len(blocks)
    if not shutil.which("jq"):
        skip(what, "jq not installed")
        return
    outs = []
    for b in blocks:
        p = subprocess.run(["sh", "-c", "\n".join(b)], capture_output=True,
                           env=dict(os.environ, R=path))
        outs.append(p.stdout.decode() if p.returncode == 0 else "rc %d %s" % (
            p.returncode, p.stderr.decode()))
    counts = lambda t: {l.split()[1].strip('"'): int(l.split()[0]) for l in t.splitlines()}
    g = a["greylist"]
    want = [
        {"message": a["messages"], "session": a["sessions"]},
        {"ipv6": a["ipv6"]["count"], "of": a["ipv6"]["of"]},
        dict(a["tls_version"]["results"], none=a["sessions"] - a["tls"]["count"]),
        {"cert": a["client_cert"]["count"], "of": a["client_cert"]["of"]},
        a["spf"]["results"], a["dkim"]["results"],
        {"secure": a["dnssec"]["spf"]["count"], "of": a["dnssec"]["spf"]["of"]},
        "n %d median %d p90 %d" % (g["delay_s"]["count"], g["delay_s"]["median"],
                                   g["delay_s"]["p90"]),
        (g["via_chain"]["count"], g["cross_family"]["count"]),
        {"alpha": 120, "beta": 118, "vip": 20},
    ]
    try:
        got = [counts(outs[0]), json.loads(outs[1]), counts(outs[2]), json.loads(outs[3]),
               counts(outs[4]), counts(outs[5]), json.loads(outs[6]), outs[7].strip(),
               (len(outs[8].splitlines()),
                sum(json.loads(l)["cross"] for l in outs[8].splitlines())),
               counts(outs[9])]
    except (ValueError, IndexError) as e:
        got = "unparsable jq output: %s %r" % (e, outs)
    is_(got, want, what)


def testbed_tests(tmp):
    """testbed_tests - the --testbed capability table on gen_testbed.py records."""
    sys.path.insert(0, HERE)
    import gen_testbed
    spec, recs = os.path.join(tmp, "t.testbed"), os.path.join(tmp, "t.jsonl")
    subprocess.run([PY, os.path.join(HERE, "gen_testbed.py"), spec, recs], check=True)
    tb = report(["--testbed", spec, recs])["testbed"]
    is_(tb["columns"], ["baseline", "ipv6-delivery", "dnssec-validating", "dane",
                        "dane-control", "tls-versions", "greylist-retry",
                        "greylist-delay-median-s", "retry-other-address", "spf", "dkim",
                        "dmarc"], "testbed: capability columns (known ones first)")
    got = {r["org"]: {c: r[c] for c in tb["columns"]} for r in tb["rows"]}
    is_(sorted(got), sorted(gen_testbed.WANT), "testbed: one row per provider that "
        "touched a target")
    for org, want in sorted(gen_testbed.WANT.items()):
        is_(got.get(org), want, "testbed: capabilities of %s" % org)
    p3 = [r for r in tb["rows"] if r["org"] == "p3.example"][0]
    ok(p3["evidence"]["dnssec-validating"].startswith("no delivery to baseline"),
       "testbed: delivery to the bogus target without baseline proves nothing")
    rc, out, _ = run(["--testbed", spec, "-f", "csv", recs])
    rows = list(csv.reader(io.StringIO(out.decode())))
    ok(["testbed", "p2.example", "dnssec-validating", "", "no"] in rows
       and ["testbed", "p3.example", "dane", "", "unknown"] in rows, "testbed: CSV rows")
    rc, out, _ = run(["--testbed", spec, recs])
    t = out.decode()
    ok(rc == 0 and "Provider capabilities" in t and
       any(l.split()[:4] == ["p2.example", "yes", "no", "no"] for l in t.splitlines()),
       "testbed: text table")
    rc, out, _ = run(["--testbed", spec, "-f", "html", recs])
    h = out.decode()
    ok(rc == 0 and "Provider capabilities" in h and "p4.example" in h
       and 'class="cap-conflict"' in h and 'class="cap-unknown"' in h,
       "testbed: HTML table with unknown and conflict cells")
    for bad, why in (("target a proves\n", "proves without a capability"),
                     ("target a proves x\n", "no baseline"),
                     ("target a baseline\ntarget a proves x\n", "a tag twice"),
                     ("target a baseline\ntarget b disproves x control\n", "bad control"),
                     ("tag a baseline\n", "not a target line")):
        path = os.path.join(tmp, "bad.testbed")
        open(path, "w").write(bad)
        rc, _, err = run(["--testbed", path, recs])
        ok(rc == 2 and b"--testbed" in err, "testbed file refused (exit 2): " + why)


def main():
    tmp = tempfile.mkdtemp(prefix="smtpscope-report-test.")
    plain = os.path.join(tmp, "r.jsonl")
    gz = os.path.join(tmp, "r.jsonl.gz")
    subprocess.run([PY, GEN, "test", plain], check=True)
    subprocess.run([PY, GEN, "test", "--gzip", gz], check=True)
    subprocess.run([PY, GEN, "test", "--seed", "2", os.path.join(tmp, "r2.jsonl")], check=True)

    rep = report([plain])
    a = rep["groups"]["*"]
    i = rep["input"]
    is_(i["lines"], 494, "lines read")
    is_(i["records"], 486, "v1 records")
    is_(i["skipped"], {"not_json": 3, "not_object": 2, "unknown_version": 2,
                       "unknown_event": 1, "too_long": 0}, "malformed lines counted by kind")
    is_((a["sessions"], a["messages"]), (248, 238), "sessions and messages")
    is_((a["ipv6"]["count"], a["ipv6"]["of"]), (52, 248), "IPv6 sessions")
    is_((a["tls"]["count"], a["tls"]["of"]), (160, 248), "TLS sessions")
    is_(a["tls_version"]["results"], {"TLSv1.3": 53, "TLSv1.2": 54, "TLSv1.0": 53},
        "TLS version distribution")
    is_(a["tls_cipher"]["results"]["TLS_AES_256_GCM_SHA384"], 53, "TLS cipher distribution")
    is_((a["client_cert"]["count"], a["client_cert"]["of"]), (23, 160),
        "client certificates of TLS sessions")
    is_(a["spf"]["results"], {"pass": 120, "fail": 40, "softfail": 20, "none": 20},
        "SPF MAIL FROM results (null auth.spf not counted)")
    is_(a["spf"]["shares"]["pass"], 0.6, "SPF pass share")
    is_(a["dkim"]["results"], {"pass": 50, "fail": 50, "none": 50, "neutral": 50},
        "DKIM best result per message (pass > fail > first)")
    is_(a["dmarc"]["results"], {"pass": 80, "fail": 40, "none": 40, "temperror": 40},
        "DMARC results")
    is_(a["iprev"]["results"], {"pass": 100, "fail": 75, "temperror": 25}, "iprev results")
    d = a["dnssec"]
    is_([(d[k]["count"], d[k]["of"]) for k in ("spf", "dmarc", "dkim")],
        [(60, 200), (10, 200), (25, 150)], "DNSSEC-secure SPF, DMARC records and DKIM keys")
    g = a["greylist"]
    is_((g["entries"], g["first_attempts"], g["passed_retries"]), (38, 20, 17),
        "greylist entries, first attempts, passed retries")
    is_(g["verdicts"], {"new": 20, "passed": 17, "early": 1}, "greylist verdicts")
    is_((g["retried"]["count"], g["retry_ratio"]["count"]), (16, 17),
        "retried: 16 matched first attempts, 17 passed retries")
    is_((g["delay_s"]["median"], g["delay_s"]["p90"]), (540, 1800), "retry delay median and p90")
    is_((g["via_chain"]["count"], g["via_chain"]["of"]), (4, 17), "chain retries")
    is_((g["cross_family"]["count"], g["cross_family"]["of"]), (2, 4), "chain retries across families")
    is_(rep["limits"]["pending_unmatched"], 4, "first attempts never retried stay pending")
    is_(sorted(rep["groups"]), ["*", "alpha", "beta", "vip"], "one group per tag")
    al = rep["groups"]["alpha"]
    is_((al["sessions"], al["messages"], al["ipv6"]["count"]), (120, 120, 51), "tag alpha figures")
    is_((al["greylist"]["retried"]["count"], al["greylist"]["first_attempts"]), (8, 10),
        "tag alpha greylist retried (attributed to the first attempt's tags)")
    vip = rep["groups"]["vip"]
    is_((vip["sessions"], vip["messages"], vip["ipv6"]["count"]), (20, 20, 10), "tag vip figures")

    orgs = {o["org"]: o for o in rep["orgs"]}
    is_({k: v["messages"] for k, v in orgs.items()},
        {"example.co.uk": 40, "example.org": 40, "sub.foo.ck": 40, "user.github.io": 40,
         "example.com": 38, "example.net": 30, "(unknown)": 10},
        "organizations: PTR, else HELO, else DKIM d=, through the PSL")
    is_((orgs["example.co.uk"]["best_tls"], orgs["example.co.uk"]["ipv6"]), ("none", True),
        "org without TLS: best TLS none")
    is_((orgs["example.com"]["greylist_retried"], orgs["example.com"]["dkim_pass"],
         orgs["example.org"]["greylist_retried"], orgs["example.org"]["dkim_pass"]),
        (True, False, False, True), "org capabilities: greylist retried, DKIM pass")
    is_(orgs["user.github.io"]["best_tls"], "TLSv1.3", "org best TLS version")

    rep2 = report(["--orgs", "2", plain])
    is_([o["org"] for o in rep2["orgs"]], ["example.co.uk", "example.org", "(other)"],
        "--orgs 2: two rows, then (other)")
    is_(rep2["orgs"][-1]["messages"], 238 - 80, "(other) sums the rest")
    rep3 = report(["--org-cap", "3", plain])
    is_(sum(o["messages"] for o in rep3["orgs"]), 238, "bounded org table keeps every message")
    ok(len(rep3["orgs"]) <= 7 and rep3["limits"]["org_prunes"] >= 1, "org table pruned at 2 x cap")
    rep4 = report(["--pending-cap", "5", plain])
    g4 = rep4["groups"]["*"]["greylist"]
    is_((g4["retried"]["count"], rep4["limits"]["pending_evicted"]), (1, 15),
        "bounded pending first attempts: oldest evicted")

    strip = lambda r: (r["groups"], r["orgs"])
    is_(strip(report([gz])), strip(rep), "gzip input (by magic bytes) gives the same report")
    is_(strip(report(["-"], open(gz, "rb").read())), strip(rep), "gzip on stdin")
    is_(strip(report(["-"], open(plain, "rb").read())), strip(rep), "plain stdin")
    is_(strip(report([os.path.join(tmp, "r2.jsonl")])), strip(rep), "seed does not change figures")
    lines = open(plain, "rb").read().splitlines(keepends=True)
    p1, p2 = os.path.join(tmp, "p1.jsonl"), os.path.join(tmp, "p2.jsonl.gz")
    open(p1, "wb").write(b"".join(lines[:250]))
    with gzip.open(p2, "wb") as fh:
        fh.write(b"".join(lines[250:]))
    r12 = report([p1, p2])
    is_((strip(r12), r12["input"]["skipped"]), (strip(rep), rep["input"]["skipped"]),
        "two files (plain + gzip) add up to one")

    f = report(["--until", "2026-01-01T01:40:00Z", plain])["groups"]["*"]
    is_((f["sessions"], f["messages"]), (100, 100), "--until (exclusive)")
    f = report(["--since", "2026-01-01T04:30:00+01:00", plain])
    is_((f["groups"]["*"]["sessions"], f["groups"]["*"]["messages"]), (38, 38),
        "--since with an offset")
    is_(f["groups"]["*"]["greylist"]["retried"]["count"], 16,
        "--since keeps the greylisting figures of the selected records")
    f = report(["--since", "2026-01-01", "--until", "2026-01-01T00:10:00.000001Z", plain])
    is_(f["groups"]["*"]["messages"], 10, "--since date, --until with microseconds")
    f = report(["--tag", "vip", plain])
    is_((f["groups"]["*"]["sessions"], f["input"]["filtered"]["tag"]), (20, 446), "--tag vip")
    f = report(["--tag", "vip", "--tag", "beta", plain])
    is_(f["groups"]["*"]["messages"], 100 + 20 + 10 + 8, "--tag repeated: any of the tags")
    rc, _, err = run(["--since", "yesterday", plain])
    is_(rc, 2, "bad --since: exit 2")
    rc, out, err = run([os.path.join(tmp, "missing"), plain])
    is_(rc, 1, "unreadable input: exit 1, the others still reported")

    long_line = os.path.join(tmp, "long.jsonl")
    with open(long_line, "wb") as fh:
        fh.write(b'{"v":1,"x":"' + b"a" * (3 << 20) + b'"}\n')
        fh.write(lines[1] + lines[0])
    f = report([long_line])
    is_((f["input"]["skipped"]["too_long"], f["input"]["records"]), (1, 2),
        "over-long line skipped, the next lines read")

    import report_psl
    psl = report_psl.PublicSuffixList()
    cases = {"a.b.example.co.uk": "example.co.uk", "x.y.foo.ck": "y.foo.ck",
             "www.ck": "www.ck", "a.www.ck": "www.ck", "co.uk": None,
             "mail.example.com.": "example.com", "a.b.user.github.io": "user.github.io",
             "localhost": None, "MX.Example.ORG": "example.org"}
    if os.path.exists(report_psl.PSL_DEFAULT):
        is_({k: psl.org_domain(k) for k in cases}, cases, "PSL: normal, wildcard, exception rules")
    else:
        skip("PSL: normal, wildcard, exception rules", "no public suffix list installed")
    fb = report_psl.PublicSuffixList(os.path.join(tmp, "none.dat"))
    is_(fb.org_domain("a.b.example.co.uk"), "co.uk", "PSL missing: last two labels")

    rc, out, _ = run(["-f", "text", plain])
    t = out.decode()
    ok(rc == 0 and "IPv6 sessions" in t and "21.0% (52 of 248)" in t and "example.co.uk" in t,
       "text format: aligned tables with the figures")
    rc, out, _ = run(["-f", "csv", plain])
    rows = list(csv.reader(io.StringIO(out.decode())))
    is_(rows[0], ["section", "tag", "metric", "key", "value"], "CSV header")
    ok(["tls_version", "*", "count", "TLSv1.2", "54"] in rows
       and ["orgs", "*", "messages", "example.com", "38"] in rows, "CSV long-format rows")

    html = os.path.join(tmp, "r.html")
    rc, _, _ = run(["-f", "html", "-o", html, plain])
    h = open(html, encoding="utf-8").read()
    ok(rc == 0 and "<svg" in h and "<script" not in h and "http://" not in h.replace(
        'xmlns="http://www.w3.org/2000/svg"', ""), "HTML: inline SVG, no script, no external asset")
    import re
    fills = {}
    for lab, fill in re.findall(r'text-anchor="end">([^<]*)</text><rect [^>]*fill="([^"]+)"', h):
        fills.setdefault(lab, []).append(fill)
    is_((sorted(set(fills.get("pass", []))), sorted(set(fills.get("fail", []))),
         len(fills.get("pass", [])) >= 8, len(fills.get("fail", [])) >= 8),
        (["#2ca02c"], ["#d62728"], True, True),
        "HTML: pass always the same green, fail always the same red, in every chart")
    other = {f for lab, fs in fills.items() if lab not in ("pass", "fail") for f in fs}
    ok(not other & {"#2ca02c", "#d62728"}, "HTML: no other bar uses the pass/fail colours")
    ok("<h2>Targets side by side</h2>" in h and "<th>alpha</th><th>beta</th><th>vip</th>" in h,
       "HTML: per-target comparison table, targets as columns")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        skip("HTML renders in headless chromium (non-blank PNG)", "chromium not installed")
    else:
        png = os.path.join(tmp, "r.png")
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                        "--screenshot=" + png, "--window-size=1200,2000",
                        "file://" + html], capture_output=True, timeout=120,
                       env=dict(os.environ, HOME=tmp))
        good = False
        if os.path.exists(png):
            w, hh, colours = png_colours(png)
            print("# screenshot %dx%d, %d distinct colours sampled" % (w, hh, len(colours)))
            good = (w, hh) == (1200, 2000) and len(colours) > 8
        ok(good, "HTML renders in headless chromium (non-blank PNG)")
    jq_examples(plain, a)
    testbed_tests(tmp)
    shutil.rmtree(tmp, ignore_errors=True)
    print("1..%d" % n_test)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
