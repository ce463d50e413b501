# report_html.py - the report as one self-contained HTML file
#
# Owns: html(), which renders a report dict (report_output.build) as a
# single HTML document with inline CSS and inline SVG charts (pie charts
# for shares, horizontal bar charts for distributions) drawn here. No
# JavaScript, no external asset: the file can be mailed or archived as is.
# Every text from the records is HTML-escaped.
import math
from html import escape

# Colours carry meaning, the same in every chart and table: a result that
# is a pass (pass, yes) is always PASS green, a failure (fail, no) always
# FAIL red; other results have fixed colours of their own, and keys without
# a meaning (TLS versions, ciphers) take the neutral palette, which holds
# neither that green nor that red.
PASS, FAIL, UNKNOWN_C, CONFLICT_C = "#2ca02c", "#d62728", "#bbbbbb", "#ff7f0e"
RESULT_COLOURS = {"pass": PASS, "yes": PASS, "fail": FAIL, "no": FAIL,
                  "softfail": "#ff9896", "neutral": "#8c564b", "none": "#c7c7c7",
                  "policy": "#9467bd", "temperror": "#e377c2", "permerror": "#7b4173",
                  "unknown": UNKNOWN_C, "conflict": CONFLICT_C}
PALETTE = ("#1f77b4", "#17becf", "#9467bd", "#bcbd22", "#8c564b",
           "#e377c2", "#7f7f7f", "#aec7e8", "#dbdb8d", "#c5b0d5")
CSS = """
body{font-family:sans-serif;margin:2em;color:#222;background:#fff}
h1{font-size:1.6em}h2{border-bottom:2px solid #1f77b4;padding-bottom:.2em}
table{border-collapse:collapse;margin:.5em 0 1.5em}
td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}
td.n{text-align:right}th{background:#eef3f8}
.charts{display:flex;flex-wrap:wrap;gap:1.5em}
.chart{border:1px solid #ddd;padding:.5em;background:#fafafa}
.chart h3{font-size:1em;margin:.2em 0 .4em}
.yes{color:#2ca02c}.no{color:#999}
td.cap-yes{background:#2ca02c;color:#fff}td.cap-no{background:#d62728;color:#fff}
td.cap-unknown{background:#eee;color:#555}td.cap-conflict{background:#ff7f0e}
"""


def pie(title, share, labels=("yes", "no")):
    """pie - a two-slice pie chart of share (0..1, or None: no data)."""
    w, h, r, cx, cy = 260, 170, 60, 75, 85
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" role="img">'
             % (w, h)]
    if share is None:
        parts.append('<circle cx="%d" cy="%d" r="%d" fill="#eee" stroke="#999"/>' % (cx, cy, r))
        parts.append('<text x="%d" y="%d" text-anchor="middle" font-size="12">no data</text>'
                     % (cx, cy))
    elif share >= 0.999999 or share <= 0.000001:
        parts.append('<circle cx="%d" cy="%d" r="%d" fill="%s"/>'
                     % (cx, cy, r, PALETTE[0] if share > 0.5 else PALETTE[6]))
    else:
        a = 2 * math.pi * share
        x, y = cx + r * math.sin(a), cy - r * math.cos(a)
        large = 1 if share > 0.5 else 0
        parts.append('<circle cx="%d" cy="%d" r="%d" fill="%s"/>' % (cx, cy, r, PALETTE[6]))
        parts.append('<path d="M%d,%d L%d,%d A%d,%d 0 %d,1 %.2f,%.2f Z" fill="%s"/>'
                     % (cx, cy, cx, cy - r, r, r, large, x, y, PALETTE[0]))
    if share is not None:
        for i, (lab, val) in enumerate(((labels[0], share), (labels[1], 1 - share))):
            yy = 40 + i * 22
            parts.append('<rect x="145" y="%d" width="12" height="12" fill="%s"/>'
                         % (yy, PALETTE[0] if i == 0 else PALETTE[6]))
            parts.append('<text x="162" y="%d" font-size="12">%s %.1f%%</text>'
                         % (yy + 11, escape(lab), 100 * val))
    parts.append("</svg>")
    return '<div class="chart"><h3>%s</h3>%s</div>' % (escape(title), "".join(parts))


def bar_colour(key, i, meaningful):
    """bar_colour - the fixed colour of a result, else the i-th neutral one."""
    if meaningful and key in RESULT_COLOURS:
        return RESULT_COLOURS[key]
    return PALETTE[i % len(PALETTE)]


def bars(title, dist, limit=12, meaningful=True):
    """bars - horizontal bar chart of a distribution {of, results, shares};
    meaningful: its keys are results (pass, fail, ...) with fixed colours."""
    items = list(dist["results"].items())[:limit]
    bar_w, row_h, label_w = 240, 22, 190
    h = max(1, len(items)) * row_h + 10
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" role="img">'
             % (label_w + bar_w + 90, h)]
    if not items:
        parts.append('<text x="5" y="16" font-size="12">no data</text>')
    top = max([v for _, v in items] or [1])
    for i, (k, v) in enumerate(items):
        y = 5 + i * row_h
        wpx = max(1.0, bar_w * v / top) if v else 0
        lab = k if len(k) <= 24 else k[:23] + "\u2026"
        parts.append('<text x="%d" y="%d" font-size="12" text-anchor="end">%s</text>'
                     % (label_w - 6, y + 14, escape(lab)))
        parts.append('<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>'
                     % (label_w, y + 2, wpx, row_h - 6, bar_colour(k, i, meaningful)))
        parts.append('<text x="%.1f" y="%d" font-size="12">%d (%.1f%%)</text>'
                     % (label_w + wpx + 4, y + 14, v, 100 * (dist["shares"][k] or 0)))
    parts.append("</svg>")
    return '<div class="chart"><h3>%s (of %d)</h3>%s</div>' % (
        escape(title), dist["of"], "".join(parts))


def share_cell(s):
    if s["share"] is None:
        return "-"
    return "%.1f%% (%d of %d)" % (100 * s["share"], s["count"], s["of"])


def group_html(name, g):
    gl = g["greylist"]
    title = "All records" if name == "*" else "Tag " + name
    rows = [
        ("Sessions", g["sessions"]), ("Messages", g["messages"]),
        ("IPv6 sessions", share_cell(g["ipv6"])),
        ("TLS sessions", share_cell(g["tls"])),
        ("Client certificate (of TLS sessions)", share_cell(g["client_cert"])),
        ("DNSSEC-secure SPF record", share_cell(g["dnssec"]["spf"])),
        ("DNSSEC-secure DMARC record", share_cell(g["dnssec"]["dmarc"])),
        ("DNSSEC-secure DKIM key", share_cell(g["dnssec"]["dkim"])),
        ("Greylisting first attempts", gl["first_attempts"]),
        ("Retried (first attempt matched)", share_cell(gl["retried"])),
        ("Passed retries / first attempts", share_cell(gl["retry_ratio"])),
        ("Retry delay median (s)", "-" if gl["delay_s"]["median"] is None
         else gl["delay_s"]["median"]),
        ("Retry delay p90 (s)", "-" if gl["delay_s"]["p90"] is None else gl["delay_s"]["p90"]),
        ("Chain retries (of passed retries)", share_cell(gl["via_chain"])),
        ("Across address families (of chain retries)", share_cell(gl["cross_family"])),
    ]
    out = ['<section><h2>%s</h2><table>' % escape(title)]
    for k, v in rows:
        out.append('<tr><th>%s</th><td class="n">%s</td></tr>' % (escape(k), escape(str(v))))
    out.append("</table><div class=\"charts\">")
    out.append(pie("IPv6 share of sessions", g["ipv6"]["share"], ("IPv6", "IPv4")))
    out.append(pie("TLS share of sessions", g["tls"]["share"], ("TLS", "plain")))
    out.append(pie("Client certificate (TLS sessions)", g["client_cert"]["share"]))
    out.append(pie("Greylisting: retried", gl["retried"]["share"]))
    out.append("</div><div class=\"charts\">")
    for key, label in (("tls_version", "TLS version"), ("tls_cipher", "TLS cipher"),
                       ("spf", "SPF (MAIL FROM)"), ("dkim", "DKIM (best per message)"),
                       ("dmarc", "DMARC"), ("iprev", "iprev")):
        out.append(bars(label, g[key], meaningful=key not in ("tls_version", "tls_cipher")))
    out.append("</div></section>")
    return "".join(out)


def html(rep):
    i = rep["input"]
    yn = lambda b: '<span class="%s">%s</span>' % (("yes", "yes") if b else ("no", "no"))
    out = ['<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
           '<title>%s</title><style>%s</style></head><body>' % (escape(rep["title"]), CSS),
           '<h1>%s</h1>' % escape(rep["title"]),
           '<p>%d lines read, %d records, %d selected, %d skipped (%s). '
           'Public suffix list: %s.</p>' % (
               i["lines"], i["records"], i["selected"], i["skipped_total"],
               escape(", ".join("%s %d" % kv for kv in i["skipped"].items())),
               escape(rep["psl"]))]
    for name, g in rep["groups"].items():
        out.append(group_html(name, g))
    out.append('<section><h2>Sending organizations</h2><table><tr><th>Organization</th>'
               '<th>Messages</th><th>IPv6</th><th>Best TLS</th><th>Greylist retried</th>'
               '<th>DKIM pass</th></tr>')
    for o in rep["orgs"]:
        out.append('<tr><td>%s</td><td class="n">%d</td><td>%s</td><td>%s</td>'
                   '<td>%s</td><td>%s</td></tr>' % (
                       escape(o["org"]), o["messages"], yn(o["ipv6"]),
                       escape(o["best_tls"]), yn(o["greylist_retried"]),
                       yn(o["dkim_pass"])))
    out.append("</table></section>")
    if len(rep["groups"]) > 1:
        out.append(compare_html(rep["groups"]))
    if rep.get("testbed"):
        out.append(testbed_html(rep["testbed"]))
    out.append("</body></html>\n")
    return "".join(out)


def compare_rows(groups):
    """compare_rows - (metric, [cell per tag]) for the side-by-side table."""
    def res_share(d, key):
        return share_cell({"share": d["shares"].get(key), "count": d["results"].get(key, 0),
                           "of": d["of"]}) if d["of"] else "-"
    top = lambda d: next(iter(d["results"]), "-")
    tags = [t for t in groups if t != "*"]
    metrics = [
        ("Sessions", lambda g: str(g["sessions"])),
        ("Messages", lambda g: str(g["messages"])),
        ("IPv6 sessions", lambda g: share_cell(g["ipv6"])),
        ("TLS sessions", lambda g: share_cell(g["tls"])),
        ("Most used TLS version", lambda g: top(g["tls_version"])),
        ("SPF pass", lambda g: res_share(g["spf"], "pass")),
        ("DKIM pass", lambda g: res_share(g["dkim"], "pass")),
        ("DMARC pass", lambda g: res_share(g["dmarc"], "pass")),
        ("Greylisting first attempts", lambda g: str(g["greylist"]["first_attempts"])),
        ("Greylisting retried", lambda g: share_cell(g["greylist"]["retried"])),
        ("Retry delay median (s)", lambda g: str(
            "-" if g["greylist"]["delay_s"]["median"] is None
            else g["greylist"]["delay_s"]["median"])),
    ]
    return tags, [(name, [f(groups[t]) for t in tags]) for name, f in metrics]


def compare_html(groups):
    """compare_html - one column per tag (target), one row per metric."""
    tags, rows = compare_rows(groups)
    out = ['<section><h2>Targets side by side</h2><table><tr><th>Metric</th>']
    out += ['<th>%s</th>' % escape(t) for t in tags]
    out.append('</tr>')
    for name, cells in rows:
        out.append('<tr><th>%s</th>%s</tr>' % (escape(name), "".join(
            '<td class="n">%s</td>' % escape(c) for c in cells)))
    out.append('</table></section>')
    return "".join(out)


def testbed_html(tb):
    """testbed_html - the provider capability table, cells coloured by verdict."""
    cols = tb["columns"]
    out = ['<section><h2>Provider capabilities (test bed)</h2>',
           '<p>Baseline target: %s. <span style="color:%s">yes</span> / '
           '<span style="color:%s">no</span> as the targets prove them; unknown where '
           'the evidence does not decide; conflict where two targets disagree.</p>'
           % (escape(tb["baseline"]), PASS, FAIL),
           '<table><tr><th>Organization</th>']
    out += ['<th>%s</th>' % escape(c) for c in cols]
    out.append('</tr>')
    for r in tb["rows"]:
        out.append('<tr><td>%s</td>' % escape(r["org"]))
        for c in cols:
            v = r.get(c)
            v = "-" if v is None else str(v)
            cls = ' class="cap-%s"' % v if v in ("yes", "no", "unknown", "conflict") else ""
            why = r["evidence"].get(c)
            title = ' title="%s"' % escape(why) if why else ""
            out.append('<td%s%s>%s</td>' % (cls, title, escape(v)))
        out.append('</tr>')
    out.append('</table></section>')
    return "".join(out)
