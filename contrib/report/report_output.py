# report_output.py - the report document and its text, CSV and JSON forms
#
# Owns: build(), which turns an Aggregator and the input counters into one
# plain dict (the JSON output, and the source of every other format), and
# the renderers text(), csv_long() and json_doc(). Pure functions: no I/O.
import csv
import io
import json

SUMMARY_ORDER = ("spf", "dkim", "dmarc", "iprev")


def build(agg, counts, opts, psl, version):
    """build - the whole report as a JSON-ready dict."""
    groups = {"*": agg.groups["*"].to_dict()}
    for name in sorted(k for k in agg.groups if k != "*"):
        groups[name] = agg.groups[name].to_dict()
    return {
        "report": "smtpscope-report",
        "version": version,
        "title": opts.title,
        "input": {
            "files": list(opts.files),
            "lines": counts.lines,
            "records": counts.records,
            "selected": counts.selected,
            "skipped": dict(counts.skipped),
            "skipped_total": sum(counts.skipped.values()),
            "filtered": dict(counts.filtered),
        },
        "filters": {"since": opts.since, "until": opts.until,
                    "tags": sorted(opts.tagset)},
        "psl": psl.source,
        "limits": {
            "tag_cap": agg.tag_cap, "category_cap": agg.cat_cap,
            "org_cap": agg.org_cap, "org_prunes": agg.orgs_prunes,
            "pending_cap": agg.pending_cap,
            "pending_evicted": agg.pending_evicted,
            "pending_unmatched": len(agg.pending),
        },
        "groups": groups,
        "orgs": agg.org_table(opts.orgs),
        "testbed": (opts.testbed_obj.table()
                    if getattr(opts, "testbed_obj", None) is not None else None),
    }


def json_doc(rep):
    return json.dumps(rep, indent=2, sort_keys=False) + "\n"


# ---------------------------------------------------------------- text
def pct(x):
    return "-" if x is None else "%.1f%%" % (100.0 * x)


def fmt_share(s):
    return "%s (%d of %d)" % (pct(s["share"]), s["count"], s["of"])


def table(headers, rows, right=()):
    """table - aligned columns; right: indexes of right-aligned columns."""
    rows = [[str(c) for c in r] for r in rows]
    w = [len(h) for h in headers]
    for r in rows:
        for i, c in enumerate(r):
            w[i] = max(w[i], len(c))

    def line(cells):
        out = []
        for i, c in enumerate(cells):
            out.append(c.rjust(w[i]) if i in right else c.ljust(w[i]))
        return "  ".join(out).rstrip()
    sep = "  ".join("-" * x for x in w)
    return "\n".join([line(headers), sep] + [line(r) for r in rows]) + "\n"


def dist_rows(d):
    return [(k, v, pct(d["shares"][k])) for k, v in d["results"].items()]


def group_text(name, g):
    out = []
    title = "All records" if name == "*" else "Tag %s" % name
    out.append("== %s ==\n" % title)
    gl = g["greylist"]
    rows = [
        ("sessions", str(g["sessions"])),
        ("messages", str(g["messages"])),
        ("IPv6 sessions", fmt_share(g["ipv6"])),
        ("TLS sessions", fmt_share(g["tls"])),
        ("client certificate (of TLS)", fmt_share(g["client_cert"])),
        ("DNSSEC-secure SPF record", fmt_share(g["dnssec"]["spf"])),
        ("DNSSEC-secure DMARC record", fmt_share(g["dnssec"]["dmarc"])),
        ("DNSSEC-secure DKIM key", fmt_share(g["dnssec"]["dkim"])),
        ("greylist first attempts", str(gl["first_attempts"])),
        ("greylist retried (matched)", fmt_share(gl["retried"])),
        ("greylist passed retries/new", fmt_share(gl["retry_ratio"])),
        ("retry delay median / p90 (s)", "%s / %s" % (
            "-" if gl["delay_s"]["median"] is None else gl["delay_s"]["median"],
            "-" if gl["delay_s"]["p90"] is None else gl["delay_s"]["p90"])),
        ("chain retries (of retries)", fmt_share(gl["via_chain"])),
        ("across families (of chain)", fmt_share(gl["cross_family"])),
    ]
    out.append(table(("metric", "value"), rows))
    for key, label in (("tls_version", "TLS version"), ("tls_cipher", "TLS cipher"),
                       ("spf", "SPF (MAIL FROM)"), ("dkim", "DKIM (best per message)"),
                       ("dmarc", "DMARC"), ("iprev", "iprev")):
        d = g[key]
        out.append("\n%s, of %d\n" % (label, d["of"]))
        out.append(table(("result", "count", "share"), dist_rows(d), right=(1, 2)))
    if gl["verdicts"]:
        out.append("\nGreylisting verdicts (recipient entries), of %d\n" % gl["entries"])
        out.append(table(("verdict", "count"), list(gl["verdicts"].items()), right=(1,)))
    return "".join(out)


def yn(b):
    return "yes" if b else "no"


def text(rep):
    i = rep["input"]
    out = ["%s\n" % rep["title"],
           "input: %d lines, %d records, %d selected, %d skipped (%s)\n" % (
               i["lines"], i["records"], i["selected"], i["skipped_total"],
               ", ".join("%s %d" % kv for kv in i["skipped"].items())),
           "public suffix list: %s\n\n" % rep["psl"]]
    for name, g in rep["groups"].items():
        out.append(group_text(name, g))
        out.append("\n")
    out.append("== Sending organizations ==\n")
    rows = [(o["org"], o["messages"], yn(o["ipv6"]), o["best_tls"],
             yn(o["greylist_retried"]), yn(o["dkim_pass"])) for o in rep["orgs"]]
    out.append(table(("organization", "messages", "IPv6", "best TLS",
                      "greylist retried", "DKIM pass"), rows, right=(1,)))
    if rep.get("testbed"):
        out.append("\n" + testbed_text(rep["testbed"]))
    return "".join(out)


def testbed_cell(row, col):
    v = row.get(col)
    return "-" if v is None else str(v)


def testbed_text(tb):
    """testbed_text - one row per sending organization, one column per capability."""
    out = ["== Provider capabilities (test bed, baseline %s) ==\n" % tb["baseline"]]
    cols = tb["columns"]
    rows = [[r["org"]] + [testbed_cell(r, c) for c in cols] for r in tb["rows"]]
    out.append(table(["organization"] + cols, rows))
    out.append("\nTargets: %s\n" % ", ".join(
        "%s %s%s" % (t["tag"], t["kind"], (" " + t["capability"]) if t["kind"] in (
            "proves", "disproves") else "") for t in tb["targets"]))
    return "".join(out)


# ---------------------------------------------------------------- CSV
def csv_rows(rep):
    """csv_rows - long format: section, tag, metric, key, value."""
    yield ("input", "", "lines", "", rep["input"]["lines"])
    yield ("input", "", "records", "", rep["input"]["records"])
    yield ("input", "", "selected", "", rep["input"]["selected"])
    for k, v in rep["input"]["skipped"].items():
        yield ("input", "", "skipped", k, v)
    for k, v in rep["input"]["filtered"].items():
        yield ("input", "", "filtered", k, v)
    for tag, g in rep["groups"].items():
        yield ("summary", tag, "sessions", "", g["sessions"])
        yield ("summary", tag, "messages", "", g["messages"])
        for m in ("ipv6", "tls", "client_cert"):
            for f in ("count", "of", "share"):
                yield ("summary", tag, m, f, g[m][f])
        for m in ("tls_version", "tls_cipher") + SUMMARY_ORDER:
            d = g[m]
            yield (m, tag, "of", "", d["of"])
            for k, v in d["results"].items():
                yield (m, tag, "count", k, v)
                yield (m, tag, "share", k, d["shares"][k])
        for m, s in g["dnssec"].items():
            for f in ("count", "of", "share"):
                yield ("dnssec", tag, m, f, s[f])
        gl = g["greylist"]
        for m in ("entries", "first_attempts", "passed_retries"):
            yield ("greylist", tag, m, "", gl[m])
        for k, v in gl["verdicts"].items():
            yield ("greylist", tag, "verdict", k, v)
        for m in ("retry_ratio", "retried", "via_chain", "cross_family"):
            for f in ("count", "of", "share"):
                yield ("greylist", tag, m, f, gl[m][f])
        for f in ("count", "median", "p90"):
            yield ("greylist", tag, "delay_s", f, gl["delay_s"][f])
    for o in rep["orgs"]:
        for m in ("messages", "ipv6", "best_tls", "greylist_retried", "dkim_pass"):
            yield ("orgs", "*", m, o["org"], o[m])
    tb = rep.get("testbed")
    for r in (tb["rows"] if tb else ()):
        for c in tb["columns"]:
            yield ("testbed", r["org"], c, "", r.get(c))


def csv_value(v):
    if v is None:
        return ""
    if v is True or v is False:
        return "true" if v else "false"
    return v


def csv_long(rep):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(("section", "tag", "metric", "key", "value"))
    for r in csv_rows(rep):
        w.writerow(r[:4] + (csv_value(r[4]),))
    return buf.getvalue()
