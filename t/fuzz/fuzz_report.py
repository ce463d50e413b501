#!/usr/bin/python3
# fuzz_report.py - fuzz target: the reader and aggregator of smtpscope-report
#
#   fuzz_report.py --replay CORPUS             TAP: every file of CORPUS and
#                                              a fixed stream of mutations
#   fuzz_report.py --seconds N [--runs N] [--seed S] [--findings DIR] CORPUS
#                                              a seeded mutation loop
#
# What takes hostile input is the report's reader and aggregator: one
# execution is one mutated record line (a line of a corpus file, mutated;
# a byte mutation may split it into several lines) fed to the report's
# own reader (process(), as smtpscope-report reads a file) and aggregator,
# with each argument set, on a state that accumulates. The accumulated
# state is rendered in every format (text, CSV, JSON, HTML) every
# RENDER_EVERY lines and at the end, then started afresh: rendering is
# checked on many states, not once per line. Each corpus file is also run
# whole (reader, aggregator, every format) by the replay.
#
# The report must never raise: a malformed line is counted in "skipped", a
# record of the wrong shape is aggregated as far as it makes sense, and
# every line read is counted once. Mutations work on the JSON structure
# (values replaced by other types, huge numbers, deep nesting, long or odd
# strings, keys dropped) and on the bytes (flips, cuts, insertions, NUL,
# bad UTF-8). Debian 12 has no python3-atheris, so this is a plain seeded
# loop, standard library only. A finding is written to DIR as
# report-crash-SHA1 (the line alone when it fails alone as a whole file,
# else the lines fed since the last render), with the traceback in
# report-crash-SHA1.txt; the loop prints "executions: N" (lines fed) and
# "findings: N" and exits 1 when it found any.
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
REPLAY_MUTATIONS = 400  # mutated lines a corpus file feeds under make check
REPLAY_RENDER = 50      # make check renders every this many lines
RENDER_EVERY = 2000     # the loop renders every this many lines
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


class Report:
    """Report - one argument set's reader and aggregator state."""

    def __init__(self, argset):
        r = REPORT
        self.opts = r.build_parser().parse_args(argset)
        self.opts.tagset = set(self.opts.tag)
        self.opts.testbed_obj = None        # no --testbed file here
        self.agg = r.report_stats.Aggregator(
            PSL, tag_cap=self.opts.tag_cap, cat_cap=self.opts.category_cap,
            org_cap=self.opts.org_cap, pending_cap=self.opts.pending_cap)
        self.counts = r.Counts()

    def feed(self, data):
        """feed - data (lines) through the reader into the aggregator;
        every line it holds is counted once"""
        r, c = REPORT, self.counts
        before = c.lines
        r.process(io.BufferedReader(io.BytesIO(data)), self.agg, c,
                  self.opts, json.loads)
        lines = data.count(b"\n") + (0 if data.endswith(b"\n") or not data
                                     else 1)
        seen = c.records + sum(c.skipped.values())
        if seen != c.lines or c.lines - before > lines:
            raise AssertionError("lines %d, counted %d of %d" %
                                 (lines, seen, c.lines))

    def render(self):
        """render - the report of the state so far, in every format"""
        r = REPORT
        report = r.report_output.build(self.agg, self.counts, self.opts, PSL,
                                       r.VERSION)
        for render in (r.report_output.text, r.report_output.csv_long,
                       r.report_output.json_doc, r.report_html.html):
            out = render(report)
            if not isinstance(out, str):
                raise TypeError("renderer returned %r" % type(out))


class Stream:
    """Stream - the state every argument set accumulates; fed a line at a
    time, rendered now and then; the lines fed since the last render are
    kept to save a finding that needs them"""

    def __init__(self):
        self.reports = [Report(a) for a in ARGSETS]
        self.fed = []

    def feed(self, data):
        self.fed.append(data)
        for rep in self.reports:
            rep.feed(data)

    def render(self):
        for rep in self.reports:
            rep.render()
        self.reports = [Report(a) for a in ARGSETS]
        self.fed = []


def check(data):
    """check - one whole input (a record file) with every argument set:
    reader, aggregator, every format"""
    s = Stream()
    s.feed(data)
    s.render()


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
    ps = paths(rec)     # once: a place a step removed is skipped
    for _ in range(rng.randrange(1, 4)):
        if not ps:
            rec = odd(rng)
            break
        obj, key = rng.choice(ps)
        if key not in obj if isinstance(obj, dict) else key >= len(obj):
            continue
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


def mutate_line(rng, line):
    """mutate_line - one execution's input: a corpus line, mutated in its
    structure (mostly) or its bytes, with its line end"""
    if rng.random() < 0.7:
        m = mutate_json(rng, line)
        if m is not None:
            return m + b"\n"
    return mutate_bytes(rng, line) + b"\n"


def corpus_lines(corpus):
    """corpus_lines - every non-empty line of the corpus files"""
    out = [ln for _, d in corpus for ln in d.split(b"\n") if ln.strip()]
    return out or [b"{}"]


def read_corpus(folder):
    """read_corpus - (name, bytes) of every file, sorted by name"""
    out = []
    for name in sorted(os.listdir(folder)):
        if not name.startswith("."):
            with open(os.path.join(folder, name), "rb") as fh:
                out.append((name, fh.read()))
    return out


def replay(folder):
    """replay - TAP: each corpus file whole, then a stream of mutations of
    its lines (seeded by its name), rendered every REPLAY_RENDER lines"""
    corpus = read_corpus(folder)
    n = failed = 0
    for name, data in corpus:
        rng = random.Random(name)
        lines = corpus_lines([(name, data)])
        try:
            check(data)
            s = Stream()
            for i in range(REPLAY_MUTATIONS):
                s.feed(mutate_line(rng, rng.choice(lines)))
                if (i + 1) % REPLAY_RENDER == 0:
                    s.render()
            s.render()
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


def reproducer(stream, data):
    """reproducer - the smallest input kept for a finding: the line alone
    when it fails alone, else every line fed since the last render"""
    try:
        check(data)
    except Exception:
        return data
    return b"".join(stream.fed)


def loop(folder, seconds, seed, findings, runs=0):
    """loop - feed mutated lines for seconds (or runs lines); new
    findings saved and counted"""
    rng = random.Random(seed)
    lines = corpus_lines(read_corpus(folder))
    end = time.monotonic() + seconds
    execs = found = 0
    known = set()
    stream = Stream()
    while (runs <= 0 or execs < runs) and (
            execs % 256 != 0 or time.monotonic() < end):
        data = mutate_line(rng, rng.choice(lines))
        execs += 1
        try:
            stream.feed(data)
            if execs % RENDER_EVERY == 0:
                stream.render()
        except Exception:
            text = traceback.format_exc()
            where = text.strip().splitlines()[-3:]
            if tuple(where) not in known:
                known.add(tuple(where))
                found += 1
                kept = save(findings, reproducer(stream, data), text)
                print("finding: %s\n%s" % (kept, text), flush=True)
            stream = Stream()
    try:
        stream.render()
    except Exception:
        text = traceback.format_exc()
        found += 1
        kept = save(findings, b"".join(stream.fed), text)
        print("finding: %s\n%s" % (kept, text), flush=True)
    print("executions: %d" % execs)
    print("findings: %d" % found)
    return 1 if found else 0


def main(argv):
    p = argparse.ArgumentParser(prog="fuzz_report.py")
    p.add_argument("corpus")
    p.add_argument("--replay", action="store_true")
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--runs", type=int, default=0,
                   help="stop after this many lines (0: no limit)")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--findings", default="fuzz-findings")
    a = p.parse_args(argv)
    if a.replay:
        return replay(a.corpus)
    seed = a.seed if a.seed is not None else int(time.time())
    print("seed: %d" % seed)
    return loop(a.corpus, a.seconds, seed, a.findings, a.runs)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
