#!/usr/bin/python3
# fuzz_report.py - fuzz target: the reader and aggregator of smtpscope-report
#
#   fuzz_report.py --replay CORPUS             TAP: every file of CORPUS and
#                                              a fixed set of its mutations
#   fuzz_report.py --seconds N [--seed S] [--findings DIR] CORPUS
#                                              a seeded mutation loop
#
# One input is a record file: its lines go through the report's own reader
# (process(), as smtpscope-report reads a file), then the report is built
# and rendered in every format. The report must never raise: a malformed
# line is counted in "skipped", a record of the wrong shape is aggregated
# as far as it makes sense. Mutations work on the JSON structure (values
# replaced by other types, huge numbers, deep nesting, long or odd strings,
# keys dropped) and on the bytes (flips, cuts, insertions, NUL, bad UTF-8).
# Debian 12 has no python3-atheris, so this is a plain seeded loop,
# standard library only. Findings are written to DIR as report-crash-SHA1
# with the traceback in report-crash-SHA1.txt; the loop prints
# "executions: N" and "findings: N" and exits 1 when it found any.
import argparse
import copy
import hashlib
import importlib.machinery
import importlib.util
import io
import json
import os
import random
import sys
import time
import traceback

HERE = os.path.dirname(os.path.realpath(__file__))
TOP = os.environ.get("top_srcdir") or os.path.dirname(os.path.dirname(HERE))
REPORT_DIR = os.path.join(TOP, "contrib", "report")
sys.path.insert(0, REPORT_DIR)
REPLAY_MUTATIONS = 200
INPUT_MAX = 2 << 20     # bytes of one input: past the report's LINE_MAX


def load_report():
    """load_report - the smtpscope-report script as a module."""
    path = os.path.join(REPORT_DIR, "smtpscope-report")
    loader = importlib.machinery.SourceFileLoader("smtpscope_report", path)
    spec = importlib.util.spec_from_loader("smtpscope_report", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


REPORT = load_report()
PSL = REPORT.report_psl.PublicSuffixList(REPORT.report_psl.PSL_DEFAULT)
ARGSETS = [[], ["--tag", "lab", "--since", "2026-01-01T00:00:00Z",
                "--until", "2026-01-02", "--orgs", "1", "--org-cap", "2",
                "--tag-cap", "1", "--category-cap", "1", "--pending-cap", "1"]]


def run_one(data, argset):
    """run_one - the report over one input; any exception escapes."""
    r = REPORT
    opts = r.build_parser().parse_args(argset)
    opts.tagset = set(opts.tag)
    opts.testbed_obj = None         # no --testbed file here
    agg = r.report_stats.Aggregator(PSL, tag_cap=opts.tag_cap,
                                    cat_cap=opts.category_cap,
                                    org_cap=opts.org_cap,
                                    pending_cap=opts.pending_cap)
    counts = r.Counts()
    r.process(io.BufferedReader(io.BytesIO(data)), agg, counts, opts,
              json.loads)
    report = r.report_output.build(agg, counts, opts, PSL, r.VERSION)
    for render in (r.report_output.text, r.report_output.csv_long,
                   r.report_output.json_doc, r.report_html.html):
        out = render(report)
        if not isinstance(out, str):
            raise TypeError("renderer returned %r" % type(out))
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    seen = counts.records + sum(counts.skipped.values())
    if seen != counts.lines or counts.lines > lines:
        raise AssertionError("lines %d, counted %d of %d" %
                             (lines, seen, counts.lines))


def check(data):
    """check - run_one with every argument set"""
    for argset in ARGSETS:
        run_one(data, argset)


ODD_VALUES = [None, True, False, 0, -1, 1, 2 ** 63, -2 ** 64, 10 ** 400,
              1e308, -0.0, 0.5, "", "x", "\u0000", "\ud800", "\u202e",
              "a" * 5000, "1", "-1", "2026-13-45T99:99:99Z", "@", "a@",
              "@@", ".", "..", "com", "x.co.uk", "[", [], {}, [None],
              {"": None}, [[[]]], "9" * 30, "nan", "pass", "fail"]
STRUCT = ["v", "event", "ts", "session", "tags", "auth", "spf", "mailfrom",
          "helo", "dkim", "dmarc", "iprev", "greylist", "client", "tls",
          "envelope", "from", "rcpt", "result", "d", "domain", "msg",
          "version", "verdict", "results", "attempt", "delay_s", "chain"]


def odd(rng, depth=0):
    """odd - a hostile JSON value"""
    k = rng.randrange(8)
    if k == 0 and depth < 3:
        return [odd(rng, depth + 1) for _ in range(rng.randrange(4))]
    if k == 1 and depth < 3:
        return {rng.choice(STRUCT): odd(rng, depth + 1)
                for _ in range(rng.randrange(4))}
    if k == 2:
        n = rng.choice([10, 100, 500, 900])
        return json.loads("[" * n + "]" * n)
    return copy.deepcopy(rng.choice(ODD_VALUES))    # never shared


def paths(obj, depth=0):
    """paths - every (container, key) in a JSON value, 30 levels deep"""
    out = []
    if depth > 30:
        return out
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.append((obj, k))
            out.extend(paths(v, depth + 1))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out.append((obj, i))
            out.extend(paths(v, depth + 1))
    return out


def mutate_json(rng, line):
    """mutate_json - change one to three places of a record's structure"""
    try:
        rec = json.loads(line)
    except (ValueError, RecursionError):
        return None
    for _ in range(rng.randrange(1, 4)):
        ps = paths(rec)
        if not ps:
            rec = odd(rng)
            break
        obj, key = rng.choice(ps)
        k = rng.randrange(4)
        if k == 0 and isinstance(obj, dict):
            del obj[key]
        elif k == 1 and isinstance(obj, dict):
            obj[rng.choice(STRUCT)] = odd(rng)
        elif k == 2 and isinstance(obj[key], list) and len(obj[key]) < 64:
            obj[key] = obj[key] * rng.randrange(2, 50)
        else:
            obj[key] = odd(rng)
    try:
        out = json.dumps(rec, ensure_ascii=rng.random() < 0.5).encode(
            "utf-8", "surrogatepass")
    except (ValueError, RecursionError):
        return None
    return out if len(out) <= INPUT_MAX else None


def mutate_bytes(rng, data):
    """mutate_bytes - flips, cuts, insertions, special bytes"""
    b = bytearray(data)
    for _ in range(rng.randrange(1, 5)):
        pos = rng.randrange(len(b) + 1)
        k = rng.randrange(5)
        if k == 0 and b:
            b[pos % len(b)] ^= 1 << rng.randrange(8)
        elif k == 1:
            del b[pos:pos + rng.randrange(1, 64)]
        elif k == 2:
            b[pos:pos] = rng.choice([b"\x00", b"\xff", b"\xc3", b"\n",
                                     b"\r\n", b'"', b"\\u0000", b"{",
                                     b"[", b"1e999", b"\xed\xa0\x80"])
        elif k == 3:
            b[pos:pos] = b[:rng.randrange(len(b) + 1)]
        else:
            b[pos:pos] = b"[" * 3000
    return bytes(b[:INPUT_MAX])


def mutate(rng, data):
    """mutate - a new input from one of the corpus"""
    lines = data.split(b"\n")
    i = rng.randrange(len(lines))
    if rng.random() < 0.7:
        m = mutate_json(rng, lines[i])
        if m is not None:
            lines[i] = m
            if rng.random() < 0.3:
                lines.insert(rng.randrange(len(lines) + 1), m)
            return b"\n".join(lines)
    return mutate_bytes(rng, data)


def read_corpus(folder):
    """read_corpus - (name, bytes) of every file, sorted by name"""
    out = []
    for name in sorted(os.listdir(folder)):
        if not name.startswith("."):
            with open(os.path.join(folder, name), "rb") as fh:
                out.append((name, fh.read()))
    return out


def replay(folder):
    """replay - TAP: each corpus file and its deterministic mutations"""
    corpus = read_corpus(folder)
    n = failed = 0
    for name, data in corpus:
        rng = random.Random(name)
        try:
            check(data)
            for _ in range(REPLAY_MUTATIONS):
                check(mutate(rng, data))
            what = "ok"
        except Exception:
            traceback.print_exc()
            what = "not ok"
            failed += 1
        n += 1
        print("%s %d - replay %s and %d mutations" %
              (what, n, name, REPLAY_MUTATIONS))
    print("1..%d" % n)
    return 0 if failed == 0 and n > 0 else 1


def save(folder, data, text):
    """save - keep a finding and its traceback"""
    sha = hashlib.sha1(data).hexdigest()
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "report-crash-" + sha)
    with open(path, "wb") as fh:
        fh.write(data)
    with open(path + ".txt", "w") as fh:
        fh.write(text)
    return path


def loop(folder, seconds, seed, findings):
    """loop - mutate for seconds; new findings saved and counted"""
    rng = random.Random(seed)
    corpus = [d for _, d in read_corpus(folder)] or [b"{}"]
    end = time.monotonic() + seconds
    execs = found = 0
    known = set()
    while time.monotonic() < end:
        data = mutate(rng, rng.choice(corpus))
        execs += 1
        try:
            check(data)
        except Exception:
            text = traceback.format_exc()
            where = text.strip().splitlines()[-3:]
            if tuple(where) not in known:
                known.add(tuple(where))
                found += 1
                print("finding: %s\n%s" % (save(findings, data, text), text),
                      flush=True)
    print("executions: %d" % execs)
    print("findings: %d" % found)
    return 1 if found else 0


def main(argv):
    p = argparse.ArgumentParser(prog="fuzz_report.py")
    p.add_argument("corpus")
    p.add_argument("--replay", action="store_true")
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--findings", default="fuzz-findings")
    a = p.parse_args(argv)
    if a.replay:
        return replay(a.corpus)
    seed = a.seed if a.seed is not None else int(time.time())
    print("seed: %d" % seed)
    return loop(a.corpus, a.seconds, seed, a.findings)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
